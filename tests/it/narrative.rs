//! Narrative and real feedback (issue 16), through the use cases against PostgreSQL: a career story from the wins,
//! check-ins after major events, a 30/60/90-day landing plan, feedback that is acted on, and private feedback that
//! never reveals an anonymous author.

use std::sync::Arc;

use career_circle_console::recording::{RecordingChat, Sent};
use career_circle_core::app::commitments::Done;
use career_circle_core::app::feedback::MarkRequest;
use career_circle_core::app::opportunities::Evaluate;
use career_circle_core::app::{Actor, Reply};
use career_circle_core::chat::commands::Command;
use career_circle_core::chat::{Destination, ThreadRef};
use chrono::Duration;
use sqlx::PgPool;

use crate::support::Words as _;
use crate::support::{World, t, world};

fn md(r: &Reply) -> String {
    r.text.markdown()
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

async fn spec(w: &World, a: &Actor, fields: &[(&str, &str)]) {
    let fields: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    w.app.spec_save(a, &fields).await.unwrap();
}

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn thread_id(w: &World) -> String {
    sqlx::query_scalar("SELECT thread_channel_id FROM review_threads")
        .fetch_one(&w.pool)
        .await
        .unwrap()
}

/// The review post about `a` in the thread.
fn post_about(chat: &RecordingChat, a: &Actor) -> Sent {
    chat.sent()
        .into_iter()
        .find(|s| {
            matches!(s.to, Destination::Thread(_))
                && s.message
                    .text
                    .starts_with(&format!("**{}**", a.display_name))
        })
        .expect("review post")
}

fn files_text(r: &Reply) -> String {
    r.files
        .iter()
        .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[sqlx::test]
async fn a_year_story_groups_wins_flags_we_and_missing_skills_and_takes_feedback_in_the_review(
    pool: PgPool,
) {
    let w = world(pool, "2027-03-20T12:00:00Z");
    let a = w.circle_with_members("g1", "UTC", &["UTC", "UTC"]).await;
    let (ann, bob) = (&a[0], &a[1]);
    spec(
        &w,
        ann,
        &[
            ("vision", "Head of product at a climate company"),
            (
                "milestones",
                "Now-1y: Ship the carbon ledger\nPublish six posts\n1-3y: Lead a product area",
            ),
            ("skills", "pricing, hiring"),
        ],
    )
    .await;
    // Linked when logged, linked later, and one left unlinked and told as "we".
    let r = w
        .app
        .win_add_serving(
            ann,
            "I shipped the carbon ledger beta to three pilots",
            None,
            None,
            Some("carbon ledger"),
        )
        .await
        .unwrap();
    assert!(
        md(&r).contains("It serves the milestone **Ship the carbon ledger**"),
        "{}",
        md(&r)
    );
    let e = user_error(
        w.app
            .win_add_serving(ann, "Something", None, None, Some("astronaut"))
            .await,
    );
    assert!(
        e.contains("No milestone or skill in your spec mentions"),
        "{e}"
    );
    assert!(e.contains("2. milestone: Publish six posts"), "{e}");
    w.app
        .win_add_serving(
            ann,
            "We ran the pricing workshop for sales",
            None,
            None,
            None,
        )
        .await
        .unwrap();
    w.app
        .win_add_serving(
            ann,
            "I published my first post on ledgers",
            None,
            None,
            None,
        )
        .await
        .unwrap();
    let r = w.app.win_link(ann, 3, "2").await.unwrap();
    assert!(
        md(&r).contains("now serves the milestone **Publish six posts**"),
        "{}",
        md(&r)
    );
    // The writing commitment's published link.
    w.app
        .commit_done(
            ann,
            Done {
                commitment: None,
                link: Some("https://example.com/ledgers"),
                note: None,
            },
        )
        .await
        .unwrap();

    // A scorecard metric with a value this quarter.
    w.app
        .metric_add(
            ann,
            career_circle_core::app::scorecard::MetricAdd {
                name: "posts",
                value_type: "count",
                kind: "leading",
                target: Some("3"),
                private: false,
            },
        )
        .await
        .unwrap();
    let metric: i64 = sqlx::query_scalar("SELECT id FROM spec_metrics")
        .fetch_one(&w.pool)
        .await
        .unwrap();
    w.app
        .form_submit(
            ann,
            &format!("cc:scoreform:{}:2027-Q1", w.circle_id().await),
            &[(format!("m{metric}"), "2".to_owned())],
        )
        .await
        .unwrap();

    let r = w.app.story(ann, Some("year"), false, None).await.unwrap();
    assert_eq!(
        r.audience,
        career_circle_core::app::reply::Audience::Private
    );
    assert_eq!(r.files.len(), 1);
    assert_eq!(r.files[0].filename, "career-story-2027.md");
    let story = files_text(&r);
    assert!(
        story.starts_with("# User g1-u0's 2027: I shipped the carbon ledger beta"),
        "{story}"
    );
    assert!(
        story.contains(
            "### Milestone: Ship the carbon ledger\n\n- I shipped the carbon ledger beta to three pilots"
        ),
        "{story}"
    );
    assert!(
        story
            .contains("### Milestone: Publish six posts\n\n- I published my first post on ledgers"),
        "{story}"
    );
    assert!(
        story.contains("### Not linked to the spec yet\n\n- We ran the pricing workshop for sales"),
        "{story}"
    );
    assert!(
        story.contains("told as \"we\": what was your part?"),
        "{story}"
    );
    assert!(
        story.contains("No evidence yet this year for the skill \"pricing\""),
        "{story}"
    );
    assert!(
        story.contains("No evidence yet this year for the skill \"hiring\""),
        "{story}"
    );
    assert!(
        story.contains(
            "## Writing published\n\n- publish one post (March 2027): <https://example.com/ledgers>"
        ),
        "{story}"
    );
    assert!(
        story.contains("## Metrics that moved\n\n- posts: 2 in Q1 2027 (target 3)")
            && story.contains("## What's next\n\n- Within a year: Ship the carbon ledger"),
        "{story}"
    );
    let summary = md(&r);
    assert!(
        summary.contains("1 win is told only as \"we\""),
        "{summary}"
    );
    assert!(summary.contains("Only you can see it."), "{summary}");
    // Nothing was posted anywhere by drafting it.
    let chat = Arc::new(RecordingChat::with_capabilities(
        &career_circle_discord::CAPABILITIES,
    ));
    let app = w.app.clone().with_chat(chat.clone());
    let e = user_error(app.story(ann, None, true, None).await);
    assert!(e.contains("No review thread is open"), "{e}");
    assert!(chat.sent().is_empty());

    // The review opens; the story is shared into its thread and a reply to it is feedback for Ann.
    w.drive(t("2027-04-12T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    let thread = thread_id(&w).await;
    let r = app.story(ann, Some("2027"), true, None).await.unwrap();
    assert!(
        md(&r).contains("Shared your 2027 story in the **Q2 2027 review**"),
        "{}",
        md(&r)
    );
    let shared = chat
        .sent()
        .into_iter()
        .find(|s| {
            s.message
                .text
                .contains("shares their career story for 2027")
        })
        .expect("story posted");
    assert_eq!(
        shared.to,
        Destination::Thread(ThreadRef::channel(thread.clone()))
    );
    assert_eq!(
        shared.message.attachments[0].filename,
        "career-story-2027.md"
    );
    assert!(
        app.channel_message(
            bob,
            &ThreadRef::channel(thread.clone()),
            "reply-1",
            "The ledger win is the headline; say the pilots' names.",
            Some(&shared.posted.message_id),
            &[],
        )
        .await
        .unwrap()
    );
    let fb = md(&app.review_feedback(ann, None, None).await.unwrap());
    assert!(
        fb.contains("1. **User g1-u1**: The ledger win is the headline"),
        "{fb}"
    );

    // Deleting her data takes the shared story out of the thread too (its words and its file).
    app.me_delete_confirmed(ann).await.unwrap();
    let queued: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM redactions WHERE message_id = $1 AND attachment_names = '{}'",
    )
    .bind(&shared.posted.message_id)
    .fetch_one(&w.pool)
    .await
    .unwrap();
    assert_eq!(
        queued, 1,
        "the story's post is edited to say it was removed"
    );
}

#[sqlx::test]
async fn an_event_checkin_by_form_is_in_history_export_and_the_next_review_post(pool: PgPool) {
    let w = world(pool, "2027-03-25T12:00:00Z");
    let a = w.circle_with_members("g1", "UTC", &["UTC", "UTC"]).await;
    let ann = &a[0];
    for m in &a {
        w.app.spec_visibility(m, "circle").await.unwrap();
    }
    // A win that is a promotion offers the event check-in.
    let r = w
        .app
        .win_add(ann, "I got promoted to group PM", None)
        .await
        .unwrap();
    assert!(
        md(&r).contains("A promotion is a major event: `/checkin event promotion`"),
        "{}",
        md(&r)
    );
    let e = user_error(w.app.checkin_event(ann, "party", None).await);
    assert!(e.contains("is not an event"), "{e}");
    let r = w
        .app
        .checkin_event(ann, "job-change", Some("Joined Globex as head of product"))
        .await
        .unwrap();
    let form = r.modal.expect("a form");
    assert_eq!(form.custom_id, "cc:eventform:job_change");
    assert_eq!(form.inputs.len(), 3);
    assert_eq!(
        form.inputs[0].value.as_deref(),
        Some("Joined Globex as head of product")
    );
    let r = w
        .app
        .form_submit(
            ann,
            &form.custom_id,
            &fields(&[
                ("happened", "Joined Globex as head of product"),
                ("learned", "Ask for the scope in writing"),
                ("spec_change", "The 1-3y milestone came early"),
            ]),
        )
        .await
        .unwrap();
    let text = md(&r);
    assert!(
        text.contains(
            "Stored your check-in after a job change: **Joined Globex as head of product**"
        ),
        "{text}"
    );
    assert!(text.contains("Would a 30/60/90-day one help?"), "{text}");
    assert_eq!(r.buttons[0].custom_id, "cc:landingstart:2027-03-25");

    let h = md(&w.app.checkin_history(ann).await.unwrap());
    assert!(
        h.contains("job change (2027-03-25): Joined Globex as head of product"),
        "{h}"
    );
    let export = w.app.me_export(ann).await.unwrap();
    let files = files_text(&export);
    assert!(files.contains("\"event_checkins\""), "{files}");
    assert!(files.contains("Ask for the scope in writing"), "{files}");
    assert!(
        files.contains("### Check-ins after major events"),
        "{files}"
    );

    // The next review post shows it to the circle.
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2027-04-12T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    let post = post_about(&chat, ann).message.text.markdown();
    assert!(post.contains("Since then:"), "{post}");
    assert!(
        post.contains("After a job change (2027-03-25): Joined Globex as head of product"),
        "{post}"
    );
}

#[sqlx::test]
async fn a_taken_offer_plans_day_30_60_and_90_at_nine_local_and_one_is_skipped_on_vacation(
    pool: PgPool,
) {
    let w = world(pool, "2027-01-04T12:00:00Z");
    let a = w
        .circle_with_members("g1", "UTC", &["America/New_York"])
        .await;
    let ann = &a[0];
    w.app
        .opportunity_evaluate(
            ann,
            Evaluate {
                name: "Globex",
                scores: [5, 4, 3, 4, 5],
                fails: None,
                bet: None,
            },
        )
        .await
        .unwrap();
    let r = w
        .app
        .opportunity_decide(ann, "Globex", "taken")
        .await
        .unwrap();
    assert!(md(&r).contains("checkin event job-change"), "{}", md(&r));
    // 07:00 in New York: the role began on the 4th, her local date.
    let start = r
        .buttons
        .last()
        .expect("the offer's button")
        .custom_id
        .clone();
    assert_eq!(start, "cc:landingstart:2027-01-04");
    let r = w.app.button(ann, &start).await.unwrap();
    let text = md(&r);
    assert!(
        text.contains("3 February 2027: day 30, listen and learn"),
        "{text}"
    );
    assert!(text.contains("5 March 2027: day 60, align"), "{text}");
    assert!(text.contains("4 April 2027: day 90, execute"), "{text}");
    assert!(md(&w.app.button(ann, &start).await.unwrap()).contains("already set"));

    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2027-02-04T00:00:00Z"), Duration::hours(6), &chat)
        .await;
    // Away over day 60.
    w.app
        .me_vacation(ann, Some(t("2027-03-07T00:00:00Z")))
        .await
        .unwrap();
    w.drive(t("2027-04-05T00:00:00Z"), Duration::hours(6), &chat)
        .await;
    let rows: Vec<(String, String, chrono::DateTime<chrono::Utc>, String)> = sqlx::query_as(
        "SELECT kind, period, due_at, status FROM deliveries WHERE kind LIKE 'landing_%' ORDER BY due_at",
    )
    .fetch_all(&w.pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            (
                "landing_day30".to_owned(),
                "2027-02".to_owned(),
                t("2027-02-03T14:00:00Z"),
                "sent".to_owned()
            ),
            (
                "landing_day60".to_owned(),
                "2027-03".to_owned(),
                t("2027-03-05T14:00:00Z"),
                "skipped".to_owned()
            ),
            // Daylight saving time began on 14 March: 09:00 in New York is 13:00 UTC.
            (
                "landing_day90".to_owned(),
                "2027-04".to_owned(),
                t("2027-04-04T13:00:00Z"),
                "sent".to_owned()
            ),
        ]
    );
    let day30 = dms_to(&chat, ann, "day 30 in your new role");
    assert_eq!(day30.len(), 1);
    assert!(dms_to(&chat, ann, "day 60 in your new role").is_empty());
    assert_eq!(dms_to(&chat, ann, "day 90 in your new role").len(), 1);

    // The day-30 button opens the form; the outcome is kept and told in the story.
    let button = day30[0].message.buttons[0].custom_id.clone();
    let form = w
        .app
        .button(ann, &button)
        .await
        .unwrap()
        .modal
        .expect("form");
    let r = w
        .app
        .form_submit(
            ann,
            &form.custom_id,
            &fields(&[(
                "outcome",
                "Met 14 people; the state of the union: billing is the fire",
            )]),
        )
        .await
        .unwrap();
    assert!(
        md(&r).contains("Kept your day-30 outcome (listen and learn)"),
        "{}",
        md(&r)
    );
    let story = files_text(&w.app.story(ann, Some("2027"), false, None).await.unwrap());
    assert!(
        story.contains("day 30 (listen and learn): Met 14 people; the state of the union"),
        "{story}"
    );
}

async fn reviewed(pool: PgPool) -> (World, Vec<Actor>, Arc<RecordingChat>, String) {
    let w = world(pool, "2027-03-25T00:00:00Z");
    let a = w
        .circle_with_members("g1", "UTC", &["UTC", "UTC", "UTC"])
        .await;
    for m in &a {
        w.app.spec_visibility(m, "circle").await.unwrap();
    }
    let chat = Arc::new(RecordingChat::with_capabilities(
        &career_circle_discord::CAPABILITIES,
    ));
    w.drive(t("2027-04-12T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    let thread = thread_id(&w).await;
    (w, a, chat, thread)
}

#[sqlx::test]
async fn feedback_is_marked_and_contradictions_and_experiments_come_back_at_the_check_in(
    pool: PgPool,
) {
    let (w, a, chat, thread) = reviewed(pool).await;
    let (ann, bob, cat) = (&a[0], &a[1], &a[2]);
    let app = w.app.clone().with_chat(chat.clone());
    let post = post_about(&chat, ann).posted.message_id;
    for (who, id, words) in [
        (bob, "f1", "Speak up more in the leadership meeting."),
        (
            cat,
            "f2",
            "Talk less in meetings; your writing carries you.",
        ),
    ] {
        assert!(
            app.channel_message(
                who,
                &ThreadRef::channel(thread.clone()),
                id,
                words,
                Some(&post),
                &[]
            )
            .await
            .unwrap()
        );
    }
    // A reader answers another reader's feedback: it is for Ann too, and pulls the other way.
    assert!(
        app.channel_message(
            bob,
            &ThreadRef::channel(thread.clone()),
            "f3",
            "I'd push back on that: the room needs her voice.",
            Some("f2"),
            &[]
        )
        .await
        .unwrap()
    );
    app.feedback_for(
        bob,
        &ann.user_id,
        "Try a weekly written update.",
        false,
        None,
    )
    .await
    .unwrap();
    let list = md(&app.review_feedback(ann, None, None).await.unwrap());
    assert!(list.contains("1. **User g1-u1**: Speak up more"), "{list}");
    assert!(list.contains("2. **User g1-u2**: Talk less"), "{list}");
    assert!(
        list.contains("3. **User g1-u1** (answering 2): I'd push back on that"),
        "{list}"
    );
    assert!(
        list.contains("4. **User g1-u1** (in private): Try a weekly written update."),
        "{list}"
    );

    let mark = |n: i64, decision: &'static str| MarkRequest {
        number: n,
        decision,
        until: None,
        reason: None,
        part: None,
        contradicts: None,
    };
    let e = user_error(app.review_mark(ann, mark(2, "set-aside")).await);
    assert!(e.contains("say why in reason:"), "{e}");
    let e = user_error(app.review_mark(ann, mark(4, "experiment")).await);
    assert!(e.contains("Until when?"), "{e}");
    let e = user_error(
        app.review_mark(
            ann,
            MarkRequest {
                contradicts: Some(2),
                ..mark(1, "adopt")
            },
        )
        .await,
    );
    assert!(e.contains("Tag the part of your spec"), "{e}");
    let r = app
        .review_mark(
            ann,
            MarkRequest {
                part: Some("skills"),
                contradicts: Some(2),
                ..mark(1, "adopt")
            },
        )
        .await
        .unwrap();
    assert!(
        md(&r).contains("your next check-in quotes both"),
        "{}",
        md(&r)
    );
    app.review_mark(
        ann,
        MarkRequest {
            reason: Some("Writing is my lever, but the room needs my voice too."),
            part: Some("skills"),
            ..mark(2, "set-aside")
        },
    )
    .await
    .unwrap();
    let r = app
        .review_mark(
            ann,
            MarkRequest {
                until: Some("Q3 2027"),
                ..mark(4, "experiment")
            },
        )
        .await
        .unwrap();
    assert!(md(&r).contains("at your Q3 2027 check-in"), "{}", md(&r));
    app.review_mark(
        ann,
        MarkRequest {
            part: Some("skills"),
            ..mark(3, "adopt")
        },
    )
    .await
    .unwrap();
    let list = md(&app.review_feedback(ann, None, None).await.unwrap());
    assert!(list.contains("→ adopted, on your skills"), "{list}");
    assert!(
        list.contains("→ set aside, on your skills: Writing is my lever"),
        "{list}"
    );
    assert!(list.contains("→ experiment until Q3 2027"), "{list}");

    // The Q3 check-in quotes both readers and asks about the experiment; the others' prompts do not.
    w.drive(t("2027-07-05T12:00:00Z"), Duration::hours(12), &chat)
        .await;
    let prompt = dms_to(&chat, ann, "check-in time for **Q3 2027**");
    assert_eq!(prompt.len(), 1);
    let words = prompt[0].message.text.markdown();
    assert!(
        words.contains("Your readers pulled in opposite directions on your **skills**"),
        "{words}"
    );
    assert!(
        words.contains("> User g1-u1: Speak up more in the leadership meeting."),
        "{words}"
    );
    assert!(
        words.contains("> User g1-u2: Talk less in meetings"),
        "{words}"
    );
    assert!(words.contains("What did you decide?"), "{words}");
    // The reader's answer to Cat's piece, both tagged to skills, is quoted as the second pair.
    assert!(
        words.contains("> User g1-u1: I'd push back on that: the room needs her voice."),
        "{words}"
    );
    assert_eq!(
        words.matches("pulled in opposite directions").count(),
        2,
        "{words}"
    );
    assert!(
        words.contains("Your experiment until Q3 2027, from User g1-u1's feedback:"),
        "{words}"
    );
    assert!(words.contains("> Try a weekly written update."), "{words}");
    let bobs = dms_to(&chat, bob, "check-in time for **Q3 2027**");
    assert!(!bobs[0].message.text.contains("opposite directions"));
}

#[sqlx::test]
async fn anonymous_feedback_is_refused_when_off_and_never_reveals_its_author(pool: PgPool) {
    let w = world(pool, "2027-03-25T00:00:00Z");
    let a = w
        .circle_with_members("g1", "UTC", &["UTC", "UTC", "UTC"])
        .await;
    let (org, bob, cat) = (&a[0], &a[1], &a[2]);
    let chat = Arc::new(RecordingChat::with_capabilities(
        &career_circle_discord::CAPABILITIES,
    ));
    let app = w.app.clone().with_chat(chat.clone());
    let secret = "Your demos ramble; lead with the number.";
    let e = user_error(
        app.feedback_for(bob, &cat.user_id, secret, true, None)
            .await,
    );
    assert!(e.contains("doesn't take anonymous feedback"), "{e}");
    assert!(chat.sent().is_empty());

    let settings = |who: &Actor, value: &str| {
        let app = app.clone();
        let who = who.clone();
        let value = value.to_owned();
        async move {
            app.dispatch(
                &who,
                Command::CircleSettings {
                    circle: None,
                    channel: None,
                    timezone: None,
                    schedule: None,
                    when: None,
                    review_days: None,
                    anonymous_feedback: Some(value),
                },
            )
            .await
        }
    };
    let e = user_error(settings(bob, "allowed").await);
    assert!(e.contains("Only organisers"), "{e}");
    let r = settings(org, "allowed").await.unwrap();
    assert!(md(&r).contains("readers may now send private feedback without their name"));

    let r = app
        .feedback_for(bob, &cat.user_id, secret, true, None)
        .await
        .unwrap();
    assert!(
        md(&r).contains("Sent to **User g1-u2** without your name"),
        "{}",
        md(&r)
    );
    let dm = dms_to(&chat, cat, "lead with the number");
    assert_eq!(dm.len(), 1);
    assert!(
        dm[0]
            .message
            .text
            .contains("Someone in **Circle** sent you feedback, without their name")
    );

    // Bob's identity is in nothing anyone else can see: every message sent, the replies to the recipient and the
    // organiser, and every export but his own.
    let bob_marks = [bob.user_id.as_str(), bob.display_name.as_str()];
    let mut seen: Vec<String> = chat
        .sent()
        .iter()
        .map(|s| {
            format!(
                "{}\n{}",
                s.message.text.markdown(),
                s.message
                    .attachments
                    .iter()
                    .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
                    .collect::<String>()
            )
        })
        .collect();
    seen.push(md(&app.review_feedback(cat, None, None).await.unwrap()));
    for who in [org, cat] {
        let export = app.me_export(who).await.unwrap();
        seen.push(files_text(&export));
        seen.push(md(&export));
    }
    assert!(
        seen.iter().any(|s| s.contains(secret)),
        "the feedback did reach Cat"
    );
    for text in &seen {
        for mark in bob_marks {
            assert!(!text.contains(mark), "{mark} revealed in:\n{text}");
        }
    }
    let cats = files_text(&app.me_export(cat).await.unwrap());
    assert!(
        cats.contains("Someone in your circle (anonymous)"),
        "{cats}"
    );
    // His own export shows what he wrote.
    let his = files_text(&app.me_export(bob).await.unwrap());
    assert!(his.contains(secret), "{his}");
    assert!(
        his.contains("To User g1-u2 (sent without your name)"),
        "{his}"
    );

    // By DM to the bot (no server), with his name: the circle they share is found.
    let in_dm = Actor {
        server: None,
        channel_id: None,
        ..bob.clone()
    };
    let r = app
        .feedback_for(&in_dm, &cat.user_id, "Great pricing memo.", false, None)
        .await
        .unwrap();
    assert!(
        md(&r).contains("Sent to **User g1-u2** in private."),
        "{}",
        md(&r)
    );
    assert!(
        dms_to(&chat, cat, "Great pricing memo.")[0]
            .message
            .text
            .contains("**User g1-u1** sent you feedback in private")
    );

    // Switched off again: refused once more.
    settings(org, "off").await.unwrap();
    let e = user_error(
        app.feedback_for(bob, &cat.user_id, "again", true, None)
            .await,
    );
    assert!(e.contains("doesn't take anonymous feedback"), "{e}");
}
