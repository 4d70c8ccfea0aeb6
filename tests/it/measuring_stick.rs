//! The spec as a measuring stick (issue 14), through the use cases against PostgreSQL: the offer ledger with its
//! spec versions, goalpost warnings, hindsight and second opinions; the quarterly scorecard; phases that ask the
//! right questions; the portfolio of bets.

use std::sync::Arc;

use career_circle_console::recording::{RecordingChat, Sent};
use career_circle_core::app::opportunities::{Evaluate, Lived};
use career_circle_core::app::scorecard::MetricAdd;
use career_circle_core::app::{Actor, Reply};
use career_circle_core::chat::{Destination, ThreadRef};
use career_circle_core::schedule::chart;
use chrono::Duration;
use sqlx::PgPool;

use crate::support::Words as _;
use crate::support::{World, actor, t, world};

fn evaluate<'a>(name: &'a str, scores: [i64; 5], fails: Option<&'a str>) -> Evaluate<'a> {
    Evaluate {
        name,
        scores,
        fails,
        bet: None,
    }
}

fn user_error(r: career_circle_core::app::Result<Reply>) -> String {
    match r {
        Err(career_circle_core::app::Error::User(e)) => {
            career_circle_discord::render::markdown(&e.0)
        }
        other => panic!("expected a user error, got {other:?}"),
    }
}

fn dms_to(chat: &RecordingChat, a: &Actor, needle: &str) -> Vec<Sent> {
    chat.sent()
        .into_iter()
        .filter(|s| {
            s.to == Destination::Dm {
                user_id: a.user_id.clone(),
            } && s.message.text.contains(needle)
        })
        .collect()
}

/// (width, height) of a PNG.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    let reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let info = reader.info();
    (info.width, info.height)
}

async fn spec(w: &World, a: &Actor, fields: &[(&str, &str)]) {
    let fields: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    w.app.spec_save(a, &fields).await.unwrap();
}

#[sqlx::test]
async fn offers_are_pinned_to_their_spec_version_and_warn_when_the_goalposts_moved(pool: PgPool) {
    let w = world(pool, "2027-02-01T12:00:00Z");
    let ann = actor("g1", "ann");
    w.app
        .circle_create(
            &ann,
            career_circle_core::app::circles::CreateCircle {
                name: "C",
                channel_id: "home",
                zone: Some("Europe/London"),
            },
        )
        .await
        .unwrap();
    spec(
        &w,
        &ann,
        &[
            ("vision", "Head of product at a climate company"),
            ("tradeoffs", "No relocation\nRemote first"),
        ],
    )
    .await;
    let r = w
        .app
        .opportunity_evaluate(&ann, evaluate("Acme", [4, 4, 3, 4, 4], None))
        .await
        .unwrap();
    assert!(
        r.text.contains("(against spec v1)"),
        "{}",
        r.markdown_text()
    );
    assert!(!r.text.contains("changed on"), "no change, no warning");

    // A month on the member rewrites a non-negotiable; ten days later a tempting offer arrives.
    w.clock.set(t("2027-03-03T10:00:00Z"));
    spec(
        &w,
        &ann,
        &[("tradeoffs", "No relocation\nFridays for family")],
    )
    .await;
    w.clock.set(t("2027-03-13T10:00:00Z"));
    let r = w
        .app
        .opportunity_evaluate(&ann, evaluate("Globex", [4, 4, 3, 4, 4], Some("2")))
        .await
        .unwrap();
    let text = r.markdown_text();
    assert!(
        text.contains("**Your trade-offs changed on 3 March 2027** (10 days ago, v1 → v2): evaluated against the new or the old?"),
        "{text}"
    );
    assert!(
        text.contains("**Verdict: it fails a must-have.**"),
        "{text}"
    );
    assert!(
        text.contains("**Against v2 (now): fails a must-have**"),
        "{text}"
    );
    assert!(text.contains("✗ 2. Fridays for family"), "{text}");
    assert!(
        text.contains("**Against v1 (before 3 March 2027): closer to the vision**"),
        "{text}"
    );
    assert!(
        text.contains("✓ 1. No relocation")
            && text.contains("? 2. Remote first (not in your spec now: not assessed)"),
        "{text}"
    );

    // Two weeks later the change has settled: no warning.
    w.clock.set(t("2027-03-20T10:00:00Z"));
    let r = w
        .app
        .opportunity_evaluate(&ann, evaluate("Initech", [3, 2, 3, 3, 2], None))
        .await
        .unwrap();
    assert!(!r.text.contains("changed on"), "{}", r.markdown_text());

    // The ledger: side by side, each with the version it was scored against.
    let list = w.app.opportunity_list(&ann).await.unwrap().markdown_text();
    assert!(
        list.contains(
            "#1 Acme (2027-02-01): 3.85 / 5 · must-haves 2 of 2 · closer to the vision · spec v1"
        ),
        "{list}"
    );
    assert!(
        list.contains(
            "#2 Globex (2027-03-13): 3.85 / 5 · must-haves 1 of 2 · fails a must-have · spec v2 (v1 of two weeks \
             before read it: closer to the vision)"
        ),
        "{list}"
    );
    assert!(
        list.contains("#3 Initech (2027-03-20)")
            && list.contains("further from the vision · spec v2")
    );
    let globex = list.find("#2 Globex").unwrap();
    assert!(list.find("#3 Initech").unwrap() < globex, "newest first");
    let shown = w
        .app
        .opportunity_show(&ann, "globex")
        .await
        .unwrap()
        .markdown_text();
    assert!(
        shown.contains(
            "Against v1 (the spec of two weeks before; trade-offs changed on 2027-03-03)"
        ),
        "{shown}"
    );
    assert!(
        user_error(w.app.opportunity_show(&ann, "Hooli").await)
            .contains("No offer of yours matches")
    );
}

#[sqlx::test]
async fn a_taken_offer_gets_its_six_month_question_at_nine_local_and_the_answer_shows_in_the_list(
    pool: PgPool,
) {
    let w = world(pool, "2027-02-10T15:00:00Z");
    let a = w
        .circle_with_members("g1", "Europe/London", &["America/New_York", "UTC"])
        .await;
    let ann = &a[0];
    spec(
        &w,
        ann,
        &[("vision", "VP Product"), ("tradeoffs", "No relocation")],
    )
    .await;
    w.app
        .opportunity_evaluate(ann, evaluate("Acme staff PM", [4, 3, 4, 3, 4], None))
        .await
        .unwrap();
    w.app
        .opportunity_evaluate(ann, evaluate("Globex", [2, 2, 5, 2, 2], None))
        .await
        .unwrap();
    assert!(
        user_error(w.app.opportunity_decide(ann, "Acme", "maybe").await)
            .contains("taken or declined")
    );
    let r = w
        .app
        .opportunity_decide(ann, "acme", "taken")
        .await
        .unwrap();
    assert!(
        r.text
            .contains("On 10 August 2027 and again on 10 February 2028 I'll ask"),
        "{}",
        r.markdown_text()
    );
    w.app
        .opportunity_decide(ann, "2", "declined")
        .await
        .unwrap();
    // Too early to tell.
    let early = user_error(
        w.app
            .opportunity_lived(
                ann,
                Lived {
                    offer: "1",
                    scores: [3, 3, 3, 3],
                    note: None,
                },
            )
            .await,
    );
    assert!(early.contains("I'll ask on 10 August 2027"), "{early}");
    assert!(
        user_error(
            w.app
                .opportunity_lived(
                    ann,
                    Lived {
                        offer: "Globex",
                        scores: [3, 3, 3, 3],
                        note: None
                    }
                )
                .await
        )
        .contains("offers you took")
    );

    // Six months on, at 09:00 in New York (13:00 UTC in summer), one DM asks; the planner makes it once.
    w.clock.set(t("2027-08-09T00:00:00Z"));
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2027-08-11T00:00:00Z"), Duration::minutes(30), &chat)
        .await;
    let rows: Vec<(String, String, chrono::DateTime<chrono::Utc>, String)> = sqlx::query_as(
        "SELECT d.kind, d.period, d.due_at, d.status FROM deliveries d WHERE d.kind = 'offer_hindsight'",
    )
    .fetch_all(&w.pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![(
            "offer_hindsight".to_owned(),
            "2027-08".to_owned(),
            t("2027-08-10T13:00:00Z"),
            "sent".to_owned()
        )]
    );
    let asked = dms_to(&chat, ann, "Six months ago you took **Acme staff PM**");
    assert_eq!(asked.len(), 1, "one question");
    assert!(
        asked[0].message.text.contains(
            "You scored it learning 4, impact 3, compensation 4, team 3. Did it deliver?"
        ),
        "{}",
        asked[0].message.text.markdown()
    );
    assert!(
        dms_to(&chat, ann, "Globex").is_empty(),
        "declined offers are not asked about"
    );
    assert!(dms_to(&chat, &a[1], "ago you took").is_empty());
    // Planning the same span again (the watermark lost) meets the natural key: nothing twice.
    sqlx::query("DELETE FROM planner_state")
        .execute(&w.pool)
        .await
        .unwrap();
    let again = w.planner().tick(t("2027-08-11T00:00:00Z")).await.unwrap();
    assert!(again.occurrences > 0, "{again:?}");
    assert_eq!(again.inserted, 0, "{again:?}");

    // The answer, through the DM's button and its form.
    let button = asked[0].message.buttons[0].custom_id.clone();
    assert!(button.starts_with("cc:lived:"), "{button}");
    let modal = w
        .app
        .button(ann, &button)
        .await
        .unwrap()
        .modal
        .expect("a form");
    assert_eq!(modal.inputs.len(), 5);
    assert!(
        modal.inputs[0].label.contains("scored 4"),
        "{:?}",
        modal.inputs[0]
    );
    // Nobody else can answer for her.
    assert!(user_error(w.app.button(&a[1], &button).await).contains("someone else's offer"));
    let fields: Vec<(String, String)> = [
        ("learning", "3"),
        ("impact", "3"),
        ("compensation", "4"),
        ("team", "2"),
        ("note", "The manager left in month two."),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let r = w
        .app
        .form_submit(ann, &modal.custom_id, &fields)
        .await
        .unwrap()
        .markdown_text();
    assert!(
        r.contains(
            "Stored: 6 months into **Acme staff PM**, lived 3/3/4/2 against scored 4/3/4/3."
        ),
        "{r}"
    );
    assert!(
        r.contains("Learning came in 1 below what you scored; team came in 1 below"),
        "{r}"
    );
    let list = w.app.opportunity_list(ann).await.unwrap().markdown_text();
    assert!(
        list.contains(
            "#1 Acme staff PM (2027-02-10): 3.65 / 5 · must-haves 1 of 1 · closer to the vision · spec v1 · taken \
             2027-02-10 · scored 4/3/4/3 (learning/impact/compensation/team) vs lived 3/3/4/2 at 6 months"
        ),
        "{list}"
    );
    assert!(list.contains("· declined 2027-02-10"), "{list}");
    assert!(
        list.contains("From 1 offer you've lived, your scores ran high on learning (by 1.0), high on team (by 1.0)"),
        "{list}"
    );
    // Answered: a later pass has nothing to ask.
    let shown = w
        .app
        .opportunity_show(ann, "1")
        .await
        .unwrap()
        .markdown_text();
    assert!(
        shown.contains(
            "6 months on: lived 3/3/4/2 against scored 4/3/4/3 (The manager left in month two.)"
        ),
        "{shown}"
    );
}

#[sqlx::test]
async fn a_second_opinion_goes_to_the_circle_without_compensation_and_replies_are_kept(
    pool: PgPool,
) {
    let w = world(pool, "2027-02-10T15:00:00Z");
    let a = w.circle_with_members("g1", "UTC", &["UTC", "UTC"]).await;
    let (ann, bob) = (&a[0], &a[1]);
    let chat = Arc::new(RecordingChat::with_capabilities(
        &career_circle_discord::CAPABILITIES,
    ));
    let app = w.app.clone().with_chat(chat.clone());
    spec(
        &w,
        ann,
        &[("vision", "VP Product"), ("tradeoffs", "No relocation")],
    )
    .await;
    app.opportunity_evaluate(ann, evaluate("Acme", [4, 3, 5, 3, 4], None))
        .await
        .unwrap();
    let r = app
        .opportunity_share(ann, "Acme", false, None)
        .await
        .unwrap()
        .markdown_text();
    assert!(r.contains("Posted to <#home> without compensation"), "{r}");
    let sent = chat.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].to,
        Destination::Channel {
            channel_id: "home".to_owned()
        }
    );
    let post = sent[0].message.text.markdown();
    assert!(
        post.contains("asks the circle for a second opinion on an offer: **Acme**"),
        "{post}"
    );
    assert!(
        post.contains("Learning 4 · Impact 3 · Team and manager 3"),
        "{post}"
    );
    assert!(
        !post.to_lowercase().contains("compensation") && !post.contains("3.80"),
        "{post}"
    );
    assert!(post.contains("Must-haves: ✓ No relocation"), "{post}");
    assert!(
        sent[0].message.text.mentioned_users().is_empty(),
        "nobody is pinged"
    );
    let again = user_error(app.opportunity_share(ann, "Acme", false, None).await);
    assert!(again.contains("You asked Circle about Acme"), "{again}");

    // Replies to the post are opinions; the owner's own and strangers' are not.
    let home = ThreadRef::channel("home");
    let message = sent[0].posted.message_id.clone();
    assert!(
        app.channel_message(
            bob,
            &home,
            "r1",
            "Take it; the team matters most.",
            Some(&message),
            &[]
        )
        .await
        .unwrap()
    );
    assert!(
        !app.channel_message(ann, &home, "r2", "thanks!", Some(&message), &[])
            .await
            .unwrap()
    );
    let stranger = actor("g1", "stranger");
    assert!(
        !app.channel_message(&stranger, &home, "r3", "no idea", Some(&message), &[])
            .await
            .unwrap()
    );
    assert!(
        !app.channel_message(bob, &home, "r4", "unrelated", None, &[])
            .await
            .unwrap()
    );
    let shown = app
        .opportunity_show(ann, "Acme")
        .await
        .unwrap()
        .markdown_text();
    assert!(shown.contains("What your circle said:"), "{shown}");
    assert!(shown.contains(&format!(
        "**{}**: Take it; the team matters most.",
        bob.display_name
    )));
    assert!(!shown.contains("thanks!") && !shown.contains("no idea"));
    let list = app.opportunity_list(ann).await.unwrap().markdown_text();
    assert!(list.contains("· 1 opinion from your circle"), "{list}");

    // With compensation, when the member chooses.
    app.opportunity_evaluate(ann, evaluate("Globex", [4, 3, 5, 3, 4], None))
        .await
        .unwrap();
    app.opportunity_share(ann, "Globex", true, None)
        .await
        .unwrap();
    let post = chat.sent()[1].message.text.markdown();
    assert!(
        post.contains("Compensation 5") && post.contains("Weighted score: 3.80 / 5"),
        "{post}"
    );
    // Without a chat wired in, the member is told rather than left guessing.
    assert!(
        user_error(w.app.opportunity_share(ann, "Acme", false, None).await).contains("can't post")
    );
    // The export carries the ledger, and the opinion on both sides.
    let export = app.me_export(ann).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&export.files[0].bytes).unwrap();
    assert_eq!(json["opportunities"][0]["spec_version"], 1);
    assert_eq!(
        json["opportunities"][0]["shared_with"][0]["with_compensation"],
        false
    );
    assert_eq!(
        json["opportunities"][0]["opinions"][0]["text"],
        "Take it; the team matters most."
    );
    let theirs = app.me_export(bob).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&theirs.files[0].bytes).unwrap();
    assert_eq!(json["opinions_written"][0]["offer"], "Acme");
}

async fn metric(
    w: &World,
    a: &Actor,
    name: &str,
    ty: &str,
    kind: &str,
    target: Option<&str>,
    private: bool,
) {
    w.app
        .metric_add(
            a,
            MetricAdd {
                name,
                value_type: ty,
                kind,
                target,
                private,
            },
        )
        .await
        .unwrap();
}

fn fields(pairs: &[(String, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.clone(), (*v).to_owned()))
        .collect()
}

#[sqlx::test]
async fn three_quarters_of_scorecard_values_through_the_form_and_dm_replies(pool: PgPool) {
    let w = world(pool, "2026-12-20T12:00:00Z");
    let a = w.circle_with_members("g1", "UTC", &["UTC", "UTC"]).await;
    let (ann, bob) = (&a[0], &a[1]);
    spec(
        &w,
        ann,
        &[
            ("vision", "Head of product"),
            (
                "milestones",
                "Now-1y: ship the carbon ledger\n1-3y: lead a product area",
            ),
        ],
    )
    .await;
    w.app.spec_visibility(ann, "circle").await.unwrap();
    w.app.spec_visibility(bob, "circle").await.unwrap();
    metric(&w, ann, "posts", "count", "leading", Some("3"), false).await;
    metric(&w, ann, "promoted", "yes-no", "lagging", None, false).await;
    metric(&w, ann, "confidence", "scale", "learning", None, true).await;
    assert!(
        user_error(
            w.app
                .metric_add(
                    ann,
                    MetricAdd {
                        name: "Posts",
                        value_type: "count",
                        kind: "leading",
                        target: None,
                        private: false
                    }
                )
                .await
        )
        .contains("already track")
    );
    assert!(
        user_error(
            w.app
                .metric_add(
                    ann,
                    MetricAdd {
                        name: "x",
                        value_type: "count",
                        kind: "leading",
                        target: Some("lots"),
                        private: false
                    }
                )
                .await
        )
        .contains("The target")
    );
    let listed = w.app.metric_list(ann).await.unwrap().markdown_text();
    assert!(
        listed.contains("**posts** (count, leading, target 3)") && listed.contains("private"),
        "{listed}"
    );

    // Q1: the prompt's Scorecard button and its form.
    let chat = Arc::new(RecordingChat::new());
    w.clock.set(t("2027-01-04T00:00:00Z"));
    w.drive(t("2027-01-04T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    let prompt = dms_to(&chat, ann, "check-in time for **Q1 2027**");
    assert_eq!(prompt.len(), 1);
    let text = prompt[0].message.text.markdown();
    assert!(
        text.contains("Your scorecard: posts (a count), promoted (yes or no), confidence (1-5)."),
        "{text}"
    );
    assert!(text.contains("`metric posts: 3`"), "{text}");
    let labels: Vec<&str> = prompt[0]
        .message
        .buttons
        .iter()
        .map(|b| b.label.as_str())
        .collect();
    assert_eq!(labels, ["Answer", "Scorecard"]);
    let modal = w
        .app
        .button(ann, &prompt[0].message.buttons[1].custom_id)
        .await
        .unwrap()
        .modal
        .expect("the scorecard form");
    let ids: Vec<&str> = modal.inputs.iter().map(|i| i.custom_id.as_str()).collect();
    assert_eq!(ids.len(), 5, "three metrics and two milestones: {ids:?}");
    assert!(
        modal.inputs[0]
            .label
            .starts_with("posts (a count, target 3)")
    );
    assert!(
        modal.inputs[3]
            .label
            .starts_with("Now-1y: ship the carbon ledger")
    );
    let r = w
        .app
        .form_submit(
            ann,
            &modal.custom_id,
            &fields(&[
                (ids[0].to_owned(), "3"),
                (ids[1].to_owned(), "no"),
                (ids[2].to_owned(), "4"),
                (ids[3].to_owned(), "on track"),
                (ids[4].to_owned(), "sideways"),
            ]),
        )
        .await
        .unwrap();
    let said = r.text.markdown();
    assert!(said.contains("**Scorecard Q1 2027:** posts 3 ✓ · promoted no · confidence 4/5 · Now-1y milestone on track."), "{said}");
    assert!(
        said.contains("Not stored: 1-3y:") && said.contains("on track, at risk or done"),
        "{said}"
    );
    assert_eq!(r.buttons.len(), 1, "the rest is a press away");
    // A form pressed again leads with what is still open.
    let again = w
        .app
        .button(ann, &r.buttons[0].custom_id)
        .await
        .unwrap()
        .modal
        .unwrap();
    assert_eq!(again.inputs[0].custom_id, "ms3y");
    assert_eq!(
        again.inputs[1].value.as_deref(),
        Some("3"),
        "answered ones are pre-filled"
    );
    // Someone else's circle button does nothing for them.
    let stranger = actor("g1", "stranger");
    assert!(
        w.app
            .button(&stranger, &r.buttons[0].custom_id)
            .await
            .is_err()
    );

    // Q2: by DM reply, scorecard lines and the check-in's free text together.
    w.clock.set(t("2027-04-05T00:00:00Z"));
    w.drive(t("2027-04-05T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    let r = w
        .app
        .dm_message(
            ann,
            "metric posts: 2\nMetric Promoted: no\nmilestone 1y: at risk\nmetric hires: 2\nThe ledger slipped a month.",
            None,
        )
        .await
        .unwrap()
        .markdown_text();
    assert!(
        r.contains("**Scorecard Q2 2027:** posts 2 · promoted no · Now-1y milestone at risk."),
        "{r}"
    );
    assert!(
        r.contains(
            "Not stored: you have no metric called \"hires\" (yours: posts, promoted, confidence)"
        ),
        "{r}"
    );
    assert!(r.contains("Stored your Q2 2027 check-in"), "{r}");
    let free: serde_json::Value =
        sqlx::query_scalar("SELECT answers FROM checkins WHERE period = '2027-Q2'")
            .fetch_one(&w.pool)
            .await
            .unwrap();
    assert_eq!(
        free["text"], "The ledger slipped a month.",
        "the free text stays as it was"
    );

    // Q3: the form again.
    w.clock.set(t("2027-07-05T00:00:00Z"));
    w.drive(t("2027-07-05T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    let prompt = dms_to(&chat, ann, "check-in time for **Q3 2027**");
    let modal = w
        .app
        .button(ann, &prompt[0].message.buttons[1].custom_id)
        .await
        .unwrap()
        .modal
        .unwrap();
    let by_label = |start: &str| {
        modal
            .inputs
            .iter()
            .find(|i| i.label.starts_with(start))
            .unwrap()
            .custom_id
            .clone()
    };
    w.app
        .form_submit(
            ann,
            &modal.custom_id,
            &fields(&[
                (by_label("posts"), "4"),
                (by_label("promoted"), "yes"),
                (by_label("confidence"), "5"),
                (by_label("Now-1y"), "done"),
            ]),
        )
        .await
        .unwrap();

    // The table over three quarters, and a chart whose size is one panel per metric and a column per quarter.
    let card = w.app.spec_scorecard(ann, None).await.unwrap();
    let table = card.text.markdown();
    assert!(
        table.contains(
            "**posts** (count, leading, target 3): Q1 2027 3 ✓ · Q2 2027 2 · Q3 2027 4 ✓"
        ),
        "{table}"
    );
    assert!(
        table.contains("**promoted** (yes-no, lagging): Q1 2027 no · Q2 2027 no · Q3 2027 yes"),
        "{table}"
    );
    assert!(
        table.contains("**confidence** (scale, learning, private): Q1 2027 4/5 · Q3 2027 5/5"),
        "{table}"
    );
    assert!(
        table.contains(
            "**Now-1y** ship the carbon ledger: Q1 2027 on track · Q2 2027 at risk · Q3 2027 done"
        ),
        "{table}"
    );
    assert_eq!(card.files.len(), 1);
    assert_eq!(card.files[0].filename, "scorecard.png");
    assert_eq!(png_size(&card.files[0].bytes), chart::size(3, 3));
    // A circle-mate sees the shared metrics only.
    let theirs = w.app.spec_scorecard(bob, Some(&ann.user_id)).await.unwrap();
    assert!(
        !theirs.text.contains("confidence"),
        "{}",
        theirs.text.markdown()
    );
    assert_eq!(png_size(&theirs.files[0].bytes), chart::size(2, 3));
    w.app.spec_visibility(ann, "private").await.unwrap();
    assert!(
        user_error(w.app.spec_scorecard(bob, Some(&ann.user_id)).await).contains("hasn't shared")
    );
    w.app.spec_visibility(ann, "circle").await.unwrap();

    // The Q3 review post carries the scorecard line, without the private metric.
    w.drive(t("2027-07-12T12:00:00Z"), Duration::hours(1), &chat)
        .await;
    let post = chat
        .sent()
        .into_iter()
        .find(|s| {
            matches!(s.to, Destination::Thread(_))
                && s.message
                    .text
                    .contains(&format!("**{}**", ann.display_name))
        })
        .expect("her review post");
    let post = post.message.text.markdown();
    assert!(
        post.contains(
            "Scorecard Q3 2027: posts 4 (target 3 ✓) · promoted yes; milestones Now-1y done"
        ),
        "{post}"
    );
    assert!(
        !post.contains("confidence"),
        "a private metric stays private: {post}"
    );

    // Removing a metric keeps its history.
    w.app.metric_remove(ann, "PROMOTED").await.unwrap();
    let table = w
        .app
        .spec_scorecard(ann, None)
        .await
        .unwrap()
        .text
        .markdown();
    assert!(
        table.contains("**promoted** (yes-no, lagging) (removed): Q1 2027 no"),
        "{table}"
    );
    assert!(user_error(w.app.metric_remove(ann, "promoted").await).contains("no metric called"));
    // The export has the scorecard; deletion is covered by the security test's scan.
    let export = w.app.me_export(ann).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&export.files[0].bytes).unwrap();
    assert_eq!(json["scorecard_metrics"][0]["values"][2]["value"], 4.0);
    assert_eq!(
        json["scorecard_milestones"].as_array().unwrap().len(),
        3,
        "one per quarter checked"
    );
}

#[sqlx::test]
async fn the_learning_and_impact_wordings_and_stay_or_switch_after_four_quarters(pool: PgPool) {
    let w = world(pool, "2026-03-15T12:00:00Z");
    let a = w.circle_with_members("g1", "UTC", &["UTC"]).await;
    let ann = &a[0];
    spec(&w, ann, &[("vision", "Head of product")]).await;
    w.app.spec_phase(ann, "learning").await.unwrap();
    let chat = Arc::new(RecordingChat::new());

    // Q1 2027: four quarters after the phase began, the check-in asks to stay or switch.
    w.clock.set(t("2027-01-03T12:00:00Z"));
    w.drive(t("2027-01-04T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    let prompt = dms_to(&chat, ann, "check-in time for **Q1 2027**");
    let text = prompt[0].message.text.markdown();
    assert!(
        text.contains("2. What did I learn that I could not do a quarter ago?"),
        "{text}"
    );
    assert!(
        text.contains("3. What stretched me, and what didn't go well?")
            && text.contains("4. Who did I learn from?")
    );
    assert!(
        text.contains("You've been in your learning phase since 15 March 2026: four quarters or more. **Stay or switch?**"),
        "{text}"
    );
    assert!(
        text.contains("5. Stay or switch? Anything else to change in the spec?"),
        "{text}"
    );
    let form = w
        .app
        .button(ann, &prompt[0].message.buttons[0].custom_id)
        .await
        .unwrap()
        .modal
        .unwrap();
    let labels: Vec<&str> = form.inputs.iter().map(|i| i.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "Am I on track against my spec?",
            "What did I learn that I couldn't do before?",
            "What stretched me, and what didn't go well?",
            "Who did I learn from?",
            "Stay or switch phase? Other spec changes?"
        ]
    );
    let r = w
        .app
        .form_submit(
            ann,
            &form.custom_id,
            &[(
                "stay_or_switch".to_owned(),
                "Switch: time to ship.".to_owned(),
            )],
        )
        .await
        .unwrap();
    assert!(
        r.text
            .contains("**Stay or switch? Anything else to change in the spec?**"),
        "{}",
        r.text.markdown()
    );

    // The annual deep dive asks too, quoting when the phase began.
    w.drive(t("2027-01-11T10:00:00Z"), Duration::hours(2), &chat)
        .await;
    let dive = dms_to(&chat, ann, "annual deep dive");
    assert_eq!(dive.len(), 1);
    let text = dive[0].message.text.markdown();
    assert!(
        text.contains("You've been in a **learning** phase for 10 months (since 15 March 2026). **Stay or switch?**"),
        "{text}"
    );

    // She switches; the next nudge and check-in speak to impact, and it's too soon to ask again.
    w.app.spec_phase(ann, "impact").await.unwrap();
    w.drive(t("2027-02-01T10:00:00Z"), Duration::hours(2), &chat)
        .await;
    let nudge = dms_to(
        &chat,
        ann,
        "it's February 2027: time for your monthly writing",
    );
    assert!(
        nudge[0].message.text.contains(
            "Something to write about, from your impact phase: what changed because of your work this month, in \
             outcome terms, and what did you decide not to do?"
        ),
        "{}",
        nudge[0].message.text.markdown()
    );
    let january = dms_to(
        &chat,
        ann,
        "it's January 2027: time for your monthly writing",
    );
    assert!(
        january[0]
            .message
            .text
            .contains("from your learning phase: what did you learn this month")
    );
    w.clock.set(t("2027-04-04T12:00:00Z"));
    w.drive(t("2027-04-05T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    let text = dms_to(&chat, ann, "check-in time for **Q2 2027**")[0]
        .message
        .text
        .markdown();
    assert!(
        text.contains("2. What changed because of my work, in outcome terms?"),
        "{text}"
    );
    assert!(text.contains("3. What did I decide not to do?"), "{text}");
    assert!(!text.contains("Stay or switch"), "{text}");
}

#[sqlx::test]
async fn the_portfolio_balance_the_big_swing_question_and_a_killed_swing_counted_as_kept(
    pool: PgPool,
) {
    let w = world(pool, "2027-01-10T12:00:00Z");
    let a = w
        .circle_with_members("g1", "UTC", &["UTC", "UTC", "UTC"])
        .await;
    let (ann, est, new) = (&a[0], &a[1], &a[2]);
    for m in &a {
        spec(&w, m, &[("vision", "Head of product")]).await;
        w.app.spec_visibility(m, "circle").await.unwrap();
    }
    let r = w
        .app
        .commit_add_bet(ann, "launch a side product", None, Some("big-swing"))
        .await
        .unwrap();
    assert!(
        r.text.contains("counts as kept, not missed"),
        "{}",
        r.text.markdown()
    );
    assert!(
        user_error(w.app.commit_add_bet(ann, "x", None, Some("moonshot")).await)
            .contains("not a bet")
    );
    w.app
        .win_add_bet(
            ann,
            "I shipped the pricing page: +4% conversion",
            None,
            Some("core"),
        )
        .await
        .unwrap();
    w.app
        .opportunity_evaluate(
            ann,
            Evaluate {
                name: "Acme",
                scores: [3, 4, 4, 4, 4],
                fails: None,
                bet: Some("core"),
            },
        )
        .await
        .unwrap();
    w.app
        .opportunity_decide(ann, "Acme", "taken")
        .await
        .unwrap();

    // February done, March not, killed in April with a post-mortem: kept, not missed.
    w.clock.set(t("2027-02-15T12:00:00Z"));
    w.app
        .commit_done(
            ann,
            career_circle_core::app::commitments::Done {
                commitment: Some("side product"),
                link: None,
                note: None,
            },
        )
        .await
        .unwrap();
    w.clock.set(t("2027-04-02T12:00:00Z"));
    let core_kill = user_error(
        w.app
            .commit_kill(ann, Some("publish one post"), "meh")
            .await,
    );
    assert!(core_kill.contains("Only a big swing"), "{core_kill}");
    let r = w
        .app
        .commit_kill(
            ann,
            Some("side product"),
            "Nobody paid for the beta; I learned pricing discovery.",
        )
        .await
        .unwrap()
        .markdown_text();
    assert!(
        r.contains("It counts as kept, not missed: kept 2, missed 0."),
        "{r}"
    );
    let kept: String = sqlx::query_scalar(
        "SELECT cp.status FROM commitment_periods cp JOIN commitments c ON c.id = cp.commitment_id
         WHERE c.title = 'launch a side product' AND cp.period = '2027-04'",
    )
    .fetch_one(&w.pool)
    .await
    .unwrap();
    assert_eq!(kept, "killed");

    // The Q2 review (looking back on Q1) shows the swing kept and the year's balance.
    let chat = Arc::new(RecordingChat::new());
    w.clock.set(t("2027-04-12T06:00:00Z"));
    w.drive(t("2027-04-12T12:00:00Z"), Duration::hours(1), &chat)
        .await;
    let post = chat
        .sent()
        .into_iter()
        .find(|s| {
            matches!(s.to, Destination::Thread(_))
                && s.message
                    .text
                    .contains(&format!("**{}**", ann.display_name))
        })
        .expect("her review post")
        .message
        .text
        .markdown();
    assert!(
        post.contains("launch a side product: kept 2 of 2, new in January 2027 (a big swing, killed with a post-mortem: counts as kept)"),
        "{post}"
    );
    assert!(
        post.contains("Bets in 2027 so far: 2 core, 1 big swing"),
        "{post}"
    );
    let others = chat
        .sent()
        .into_iter()
        .find(|s| {
            matches!(s.to, Destination::Thread(_))
                && s.message
                    .text
                    .contains(&format!("**{}**", new.display_name))
        })
        .unwrap();
    assert!(
        !others.message.text.contains("Bets in"),
        "no tagged bets, no balance line"
    );

    // January 2028's deep dive: the established member with no big swing in two years is asked; the one who
    // swung in 2027 and the newcomer are not.
    w.app.spec_established(est, "yes").await.unwrap();
    w.app
        .commit_add_bet(ann, "a new swing", None, Some("big-swing"))
        .await
        .unwrap();
    w.clock.set(t("2028-01-09T12:00:00Z"));
    w.drive(t("2028-01-10T12:00:00Z"), Duration::hours(2), &chat)
        .await;
    let asks = |m: &Actor| {
        let dive = dms_to(&chat, m, "annual deep dive");
        assert_eq!(dive.len(), 1, "{}", m.user_id);
        dive[0]
            .message
            .text
            .contains("Is there a zero-to-one bet you'd take this year?")
    };
    assert!(asks(est), "established, no big swing");
    assert!(!asks(ann), "a big swing is open");
    assert!(
        !asks(new),
        "not established: under two years, and not said so"
    );
}

trait MarkdownText {
    fn markdown_text(&self) -> String;
}

impl MarkdownText for Reply {
    fn markdown_text(&self) -> String {
        self.text.markdown()
    }
}

#[sqlx::test]
async fn me_delete_takes_the_ledger_the_scorecard_and_the_opinions_with_it(pool: PgPool) {
    let w = world(pool, "2027-01-10T12:00:00Z");
    let a = w.circle_with_members("g1", "UTC", &["UTC", "UTC"]).await;
    let (ann, bob) = (&a[0], &a[1]);
    let marker = "QUOKKA-4410";
    let chat = Arc::new(RecordingChat::with_capabilities(
        &career_circle_discord::CAPABILITIES,
    ));
    let app = w.app.clone().with_chat(chat.clone());
    spec(
        &w,
        ann,
        &[
            ("vision", &format!("{marker} vision")),
            ("milestones", &format!("Now-1y: {marker} milestone")),
            ("tradeoffs", &format!("{marker} no travel")),
        ],
    )
    .await;
    app.spec_established(ann, "yes").await.unwrap();
    metric(
        &w,
        ann,
        &format!("{marker} posts"),
        "count",
        "leading",
        Some("3"),
        true,
    )
    .await;
    app.dm_message(
        ann,
        &format!("metric {marker} posts: 3\nmilestone 1y: on track"),
        None,
    )
    .await
    .unwrap();
    app.commit_add_bet(ann, &format!("{marker} swing"), None, Some("big-swing"))
        .await
        .unwrap();
    app.commit_kill(ann, Some(marker), &format!("{marker} post-mortem"))
        .await
        .unwrap();
    app.win_add_bet(ann, &format!("{marker} win"), None, Some("core"))
        .await
        .unwrap();
    app.opportunity_evaluate(ann, evaluate(marker, [3, 3, 3, 3, 3], None))
        .await
        .unwrap();
    app.opportunity_decide(ann, marker, "taken").await.unwrap();
    app.opportunity_share(ann, marker, true, None)
        .await
        .unwrap();
    let home = ThreadRef::channel("home");
    let anns_post = chat.sent()[0].posted.message_id.clone();
    assert!(
        app.channel_message(
            bob,
            &home,
            "o1",
            &format!("{marker} from bob"),
            Some(&anns_post),
            &[]
        )
        .await
        .unwrap()
    );
    // Her opinion on Bob's offer goes with her; his offer and share stay.
    app.opportunity_evaluate(bob, evaluate("Bob's offer", [3, 3, 3, 3, 3], None))
        .await
        .unwrap();
    app.opportunity_share(bob, "Bob's offer", false, None)
        .await
        .unwrap();
    let bobs_post = chat.sent()[1].posted.message_id.clone();
    assert!(
        app.channel_message(
            ann,
            &home,
            "o2",
            &format!("{marker} from ann"),
            Some(&bobs_post),
            &[]
        )
        .await
        .unwrap()
    );
    // Six months on: her hindsight answer and the delivery that asked for it.
    let chat2 = Arc::new(RecordingChat::new());
    w.clock.set(t("2027-07-09T12:00:00Z"));
    w.drive(t("2027-07-10T12:00:00Z"), Duration::hours(1), &chat2)
        .await;
    assert_eq!(dms_to(&chat2, ann, "Six months ago").len(), 1);
    app.opportunity_lived(
        ann,
        Lived {
            offer: marker,
            scores: [4, 4, 4, 4],
            note: Some(marker),
        },
    )
    .await
    .unwrap();

    // Before: her marker is in every new table the scan must then find empty of it.
    let before: (i64, i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM spec_metrics WHERE name LIKE '%' || $1 || '%'),
                (SELECT count(*) FROM metric_values),
                (SELECT count(*) FROM milestone_checks WHERE milestone LIKE '%' || $1 || '%'),
                (SELECT count(*) FROM opportunity_hindsight WHERE note = $1),
                (SELECT count(*) FROM opportunity_opinions WHERE text LIKE '%' || $1 || '%'),
                (SELECT count(*) FROM commitments WHERE postmortem LIKE '%' || $1 || '%')",
    )
    .bind(marker)
    .fetch_one(&w.pool)
    .await
    .unwrap();
    assert_eq!(before, (1, 1, 1, 1, 2, 1));
    let ann_ids: Vec<i64> = vec![w.member_id(ann).await];
    let confirm = app.me_delete();
    assert!(confirm.text.contains("scorecard"));
    app.button(ann, &confirm.buttons[0].custom_id)
        .await
        .unwrap();
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'
           AND data_type IN ('text', 'jsonb', 'bigint')",
    )
    .fetch_all(&w.pool)
    .await
    .unwrap();
    let mut found = Vec::new();
    for (table, column, kind) in columns {
        // Identifiers come from information_schema and are quoted; this scan exists only in tests.
        let n: i64 = if kind == "bigint" {
            if ![
                "member_id",
                "author_id",
                "subject_id",
                "reviewer_id",
                "reviewee_id",
            ]
            .contains(&column.as_str())
            {
                continue;
            }
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT count(*) FROM \"{table}\" WHERE \"{column}\" = ANY($1)"
            )))
            .bind(&ann_ids)
            .fetch_one(&w.pool)
            .await
            .unwrap()
        } else {
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT count(*) FROM \"{table}\" WHERE \"{column}\"::text LIKE '%' || $1 || '%' OR \"{column}\"::text = $2"
            )))
            .bind(marker)
            .bind(&ann.user_id)
            .fetch_one(&w.pool)
            .await
            .unwrap()
        };
        if n > 0 {
            found.push(format!("{table}.{column}: {n}"));
        }
    }
    assert!(found.is_empty(), "left behind: {found:?}");
    let kept: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM opportunity_evaluations), (SELECT count(*) FROM opportunity_shares)",
    )
    .fetch_one(&w.pool)
    .await
    .unwrap();
    assert_eq!(kept, (1, 1), "Bob's offer and his share stay");
}

#[sqlx::test]
async fn a_month_end_offer_is_asked_about_on_the_last_day_and_again_a_year_on(pool: PgPool) {
    let w = world(pool, "2027-08-31T12:00:00Z");
    let a = w.circle_with_members("g1", "UTC", &["UTC"]).await;
    let ann = &a[0];
    w.app
        .opportunity_evaluate(ann, evaluate("Initech", [3, 3, 3, 3, 3], None))
        .await
        .unwrap();
    let r = w
        .app
        .opportunity_decide(ann, "Initech", "taken")
        .await
        .unwrap();
    assert!(
        r.text
            .contains("On 29 February 2028 and again on 31 August 2028"),
        "{}",
        r.markdown_text()
    );
    let chat = Arc::new(RecordingChat::new());
    w.clock.set(t("2028-02-28T00:00:00Z"));
    w.drive(t("2028-03-01T00:00:00Z"), Duration::minutes(30), &chat)
        .await;
    w.clock.set(t("2028-08-30T00:00:00Z"));
    w.drive(t("2028-09-01T00:00:00Z"), Duration::minutes(30), &chat)
        .await;
    let rows: Vec<(String, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "SELECT period, due_at FROM deliveries WHERE kind = 'offer_hindsight' ORDER BY due_at",
    )
    .fetch_all(&w.pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            ("2028-02".to_owned(), t("2028-02-29T09:00:00Z")),
            ("2028-08".to_owned(), t("2028-08-31T09:00:00Z"))
        ]
    );
    assert_eq!(
        dms_to(&chat, ann, "Six months ago you took **Initech**").len(),
        1
    );
    assert_eq!(
        dms_to(&chat, ann, "A year ago you took **Initech**").len(),
        1
    );
}
