//! Circles that follow their members' lives (issue 12): organisers share and hand over the role, members who leave
//! the server leave its circles, the bot removed from a server sends nothing there, and personal prompts come once
//! per member however many circles they are in.

use std::sync::Arc;

use career_circle_console::recording::RecordingChat;
use career_circle_core::app::Platform;
use career_circle_core::app::circles::CreateCircle;
use career_circle_core::chat::Destination;
use chrono::Duration;
use sqlx::PgPool;

use crate::support::Words as _;
use crate::support::{actor, t, world};

fn dms_to(chat: &RecordingChat, user: &str) -> Vec<career_circle_console::recording::Sent> {
    chat.sent()
        .into_iter()
        .filter(|s| {
            s.to == Destination::Dm {
                user_id: user.to_owned(),
            }
        })
        .collect()
}

fn user_error<T: std::fmt::Debug>(r: career_circle_core::app::Result<T>) -> String {
    match r {
        Err(e) => career_circle_discord::render::markdown(&e.to_user_text()),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

async fn roles(pool: &PgPool) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT m.platform_user_id, ms.role FROM memberships ms JOIN members m ON m.id = ms.member_id
         ORDER BY m.platform_user_id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn organisers_share_the_role_and_remove_members(pool: PgPool) {
    let w = world(pool, "2027-01-10T12:00:00Z");
    let a = w
        .circle_with_members("g1", "UTC", &["UTC", "UTC", "UTC"])
        .await;
    let (org, ann, bob) = (&a[0], &a[1], &a[2]);
    assert!(
        user_error(w.app.circle_organiser(ann, "add", &bob.user_id, None).await)
            .contains("Only organisers")
    );
    assert!(
        user_error(w.app.circle_remove(ann, &bob.user_id, None).await).contains("Only organisers")
    );
    let r = w
        .app
        .circle_organiser(org, "add", &ann.user_id, None)
        .await
        .unwrap();
    assert!(
        r.text
            .contains(&format!("<@{}> now organises **Circle**", ann.user_id)),
        "{}",
        r.text
    );
    assert_eq!(r.text.mentioned_users(), vec![ann.user_id.clone()]);
    // Now Ann may, and the original organiser can step back; the last one cannot.
    w.app
        .circle_organiser(ann, "remove", &org.user_id, None)
        .await
        .unwrap();
    assert!(
        user_error(
            w.app
                .circle_organiser(ann, "remove", &ann.user_id, None)
                .await
        )
        .contains("needs an organiser")
    );
    assert!(
        user_error(w.app.circle_organiser(ann, "add", "stranger", None).await)
            .contains("aren't in **Circle**")
    );
    assert!(
        user_error(w.app.circle_remove(ann, &ann.user_id, None).await).contains("circle leave")
    );
    let r = w.app.circle_remove(ann, &bob.user_id, None).await.unwrap();
    assert!(r.text.contains("is no longer in **Circle**"), "{}", r.text);
    let g1 = |id: &str| format!("g1-u{id}");
    assert_eq!(
        roles(&w.pool).await,
        vec![
            (g1("0"), "member".to_owned()),
            (g1("1"), "organiser".to_owned())
        ]
    );
    // The text form: `/circle organiser add @member`.
    use career_circle_core::chat::commands::{Command, Kind, grammar};
    let same = |_: Kind, v: &str| v.to_owned();
    let c = grammar::parse(&format!("/circle organiser add {}", org.user_id), &same)
        .and_then(Command::parse)
        .unwrap();
    let r = w.app.answer(ann, c).await;
    assert!(r.text.contains("now organises"), "{}", r.text);
}

#[sqlx::test]
async fn members_who_leave_the_server_leave_its_circles_and_the_last_organiser_hands_over(
    pool: PgPool,
) {
    let w = world(pool, "2027-03-25T00:00:00Z");
    let a = w
        .circle_with_members("g1", "UTC", &["UTC", "UTC", "UTC", "UTC"])
        .await;
    for x in &a {
        w.app.spec_visibility(x, "circle").await.unwrap();
    }
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2027-04-01T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    assert_eq!(dms_to(&chat, &a[0].user_id).len(), 1, "the April nudge");

    // The organiser and one member leave the server.
    for gone in [&a[0], &a[2]] {
        assert_eq!(
            w.app
                .member_left_server(Platform::Discord, "g1", &gone.user_id)
                .await
                .unwrap(),
            1
        );
    }
    // Unknown people and servers are nothing to do.
    assert_eq!(
        w.app
            .member_left_server(Platform::Discord, "g1", "nobody")
            .await
            .unwrap(),
        0
    );
    // The longest-standing member who stayed organises it now, and is told.
    let r = roles(&w.pool).await;
    assert_eq!(
        r,
        vec![
            (a[1].user_id.clone(), "organiser".to_owned()),
            (a[3].user_id.clone(), "member".to_owned())
        ]
    );
    let before = (
        dms_to(&chat, &a[0].user_id).len(),
        dms_to(&chat, &a[2].user_id).len(),
    );
    w.drive(t("2027-04-27T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    let told: Vec<_> = dms_to(&chat, &a[1].user_id)
        .into_iter()
        .filter(|s| s.message.text.contains("organise it now"))
        .collect();
    assert_eq!(told.len(), 1, "told once");
    assert!(told[0].message.text.contains("**Circle**"));
    // Nothing more to those who left: no check-in prompt, no reminder, no mention in the review.
    assert_eq!(
        (
            dms_to(&chat, &a[0].user_id).len(),
            dms_to(&chat, &a[2].user_id).len()
        ),
        before
    );
    let readers: Vec<String> = sqlx::query_scalar(
        "SELECT m.platform_user_id FROM review_assignments x JOIN members m
         ON m.id = x.reviewer_id OR m.id = x.reviewee_id",
    )
    .fetch_all(&w.pool)
    .await
    .unwrap();
    assert!(!readers.is_empty(), "the review has readers");
    assert!(
        readers
            .iter()
            .all(|r| *r == a[1].user_id || *r == a[3].user_id),
        "{readers:?}"
    );
    let thread = chat
        .sent()
        .into_iter()
        .filter(|s| matches!(s.to, Destination::Thread(_)))
        .map(|s| s.message.text.markdown())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!thread.contains(&a[0].display_name) && !thread.contains(&a[2].display_name));
    // Their own records stay theirs: they can still export them from a DM.
    let mut dm = a[0].clone();
    dm.server = None;
    let export = w.app.me_export(&dm).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&export.files[0].bytes).unwrap();
    assert_eq!(json["commitments"][0]["title"], "publish one post");
    assert_eq!(json["circles"].as_array().unwrap().len(), 0);
}

#[sqlx::test]
async fn the_bot_removed_from_a_server_sends_nothing_there_until_it_is_back(pool: PgPool) {
    let w = world(pool, "2027-03-25T00:00:00Z");
    let a = w.circle_with_members("g1", "UTC", &["UTC", "UTC"]).await;
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2027-04-30T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    let sent_before = chat.sent().len();
    // May's nudges are planned, then the bot is kicked before the worker gets to them.
    w.clock.set(t("2027-05-01T09:30:00Z"));
    w.planner().tick(t("2027-05-01T09:30:00Z")).await.unwrap();
    assert!(
        w.app
            .bot_removed_from(Platform::Discord, "g1")
            .await
            .unwrap()
    );
    assert!(
        !w.app
            .bot_removed_from(Platform::Discord, "g1")
            .await
            .unwrap(),
        "once"
    );
    w.drive(t("2027-06-02T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    assert_eq!(chat.sent().len(), sent_before, "nothing sent while removed");
    let rows = w.deliveries().await;
    for month in ["2027-05", "2027-06"] {
        let nudges: Vec<_> = rows
            .iter()
            .filter(|r| r.kind == "monthly_nudge" && r.period == month)
            .collect();
        assert_eq!(nudges.len(), 2, "{month}");
        assert!(
            nudges.iter().all(|r| r.status == "skipped"
                && r.skip_reason
                    .as_deref()
                    .is_some_and(|s| s.contains("the bot was removed"))),
            "{nudges:?}"
        );
    }
    // Added back (GUILD_CREATE): the next month's prompts go out again.
    assert!(w.app.bot_present_in(Platform::Discord, "g1").await.unwrap());
    w.drive(t("2027-07-01T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    for x in &a {
        assert!(
            dms_to(&chat, &x.user_id)
                .iter()
                .any(|s| s.message.text.contains("July 2027")),
            "July reaches {}",
            x.user_id
        );
    }
}

#[sqlx::test]
async fn a_member_of_three_circles_gets_one_nudge_a_month_listing_all_their_commitments(
    pool: PgPool,
) {
    let w = world(pool, "2027-03-25T00:00:00Z");
    let org = actor("g1", "org");
    let bob = actor("g1", "bob");
    for name in ["Writers", "Builders", "Readers"] {
        w.app
            .circle_create(
                &org,
                CreateCircle {
                    name,
                    channel_id: "home",
                    zone: Some("UTC"),
                },
            )
            .await
            .unwrap();
        w.app.circle_join(&bob, name).await.unwrap();
    }
    w.app
        .commit_add(&bob, "publish one post", None)
        .await
        .unwrap();
    w.app.commit_add(&bob, "coach a PM", None).await.unwrap();
    // One circle on another schedule: the earliest occurrence of the month wins, once.
    w.app
        .circle_settings(
            &org,
            career_circle_core::app::circles::CircleSettings {
                circle: Some("Builders"),
                schedule: Some(("monthly_nudge", "0 8 1 * *")),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2027-06-02T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    let nudges: Vec<_> = dms_to(&chat, &bob.user_id)
        .into_iter()
        .filter(|s| s.message.text.contains("time for your monthly writing"))
        .collect();
    assert_eq!(nudges.len(), 3, "April, May and June, once each");
    assert!(
        nudges
            .iter()
            .all(|n| n.message.text.contains("time for your monthly writing")),
    );
    let due: Vec<String> = sqlx::query_scalar(
        "SELECT to_char(d.due_at AT TIME ZONE 'UTC', 'HH24:MI') FROM deliveries d JOIN members m ON m.id = d.member_id
         WHERE m.platform_user_id = 'bob' AND d.kind = 'monthly_nudge' ORDER BY d.period",
    )
    .fetch_all(&w.pool)
    .await
    .unwrap();
    assert_eq!(
        due,
        ["08:00", "08:00", "08:00"],
        "the earliest of the circles' schedules"
    );
    for n in &nudges {
        let text = n.message.text.markdown();
        assert!(
            text.contains("**publish one post**") && text.contains("**coach a PM**"),
            "{text}"
        );
    }
    let reminders = dms_to(&chat, &bob.user_id)
        .into_iter()
        .filter(|s| s.message.text.contains("A gentle nudge"))
        .count();
    assert_eq!(
        reminders, 2,
        "one reminder a month (April and May; June's is on the 20th)"
    );
    let per_member: Vec<(String, bool)> = sqlx::query_as(
        "SELECT d.period, d.per_member FROM deliveries d JOIN members m ON m.id = d.member_id
         WHERE m.platform_user_id = 'bob' AND d.kind = 'monthly_nudge' ORDER BY d.period",
    )
    .fetch_all(&w.pool)
    .await
    .unwrap();
    assert_eq!(
        per_member,
        vec![
            ("2027-04".to_owned(), true),
            ("2027-05".to_owned(), true),
            ("2027-06".to_owned(), true)
        ]
    );
    // Check-in prompts stay per circle.
    let prompts = dms_to(&chat, &bob.user_id)
        .into_iter()
        .filter(|s| s.message.text.contains("check-in time"))
        .count();
    assert_eq!(prompts, 3);

    // A paused circle does not stop the nudge the others send.
    w.app
        .circle_pause(&org, Some("Writers"), None, false)
        .await
        .unwrap();
    // A row from before nudges were per member (one per circle) still counts for its month.
    let bob_id = w.member_id(&bob).await;
    let circle: i64 = sqlx::query_scalar("SELECT id FROM circles WHERE name = 'Builders'")
        .fetch_one(&w.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO deliveries (kind, circle_id, member_id, period, due_at, status, next_attempt_at, sent_at)
         VALUES ('monthly_nudge', $1, $2, '2027-08', '2027-08-01T09:00:00Z', 'sent', now(), now())",
    )
    .bind(circle)
    .bind(bob_id)
    .execute(&w.pool)
    .await
    .unwrap();
    w.drive(t("2027-08-02T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    let july: Vec<(String, String)> = sqlx::query_as(
        "SELECT d.period, d.status FROM deliveries d
         WHERE d.member_id = $1 AND d.kind = 'monthly_nudge' AND d.period IN ('2027-07', '2027-08')
         ORDER BY d.period",
    )
    .bind(bob_id)
    .fetch_all(&w.pool)
    .await
    .unwrap();
    assert_eq!(
        july,
        vec![
            ("2027-07".to_owned(), "sent".to_owned()),
            ("2027-08".to_owned(), "sent".to_owned())
        ],
        "July sent although Writers is paused; August only the row planned before"
    );
}

#[sqlx::test]
async fn racing_planners_make_one_personal_prompt_per_member_and_month(pool: PgPool) {
    let w = world(pool, "2027-03-31T00:00:00Z");
    let org = actor("g1", "org");
    for name in ["A", "B", "C"] {
        w.app
            .circle_create(
                &org,
                CreateCircle {
                    name,
                    channel_id: "home",
                    zone: Some("UTC"),
                },
            )
            .await
            .unwrap();
    }
    w.app
        .commit_add(&org, "publish one post", None)
        .await
        .unwrap();
    let (p, q) = (w.planner(), w.planner());
    let mut now = t("2027-03-31T00:00:00Z");
    while now < t("2027-04-02T00:00:00Z") {
        let (x, y) = tokio::join!(p.tick(now), q.tick(now));
        x.unwrap();
        y.unwrap();
        now += Duration::hours(1);
    }
    let nudges: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM deliveries WHERE kind = 'monthly_nudge' AND period = '2027-04'",
    )
    .fetch_one(&w.pool)
    .await
    .unwrap();
    assert_eq!(nudges, 1);
    // The key itself: a second per-member row for the same kind, member and month is refused, whichever circle.
    let (member, circles): (i64, Vec<i64>) = (
        w.member_id(&org).await,
        sqlx::query_scalar("SELECT id FROM circles ORDER BY id")
            .fetch_all(&w.pool)
            .await
            .unwrap(),
    );
    let insert = "INSERT INTO deliveries (kind, circle_id, member_id, period, due_at, next_attempt_at, per_member)
                  VALUES ('deep_dive', $1, $2, '2028', now(), now(), true)";
    sqlx::query(insert)
        .bind(circles[0])
        .bind(member)
        .execute(&w.pool)
        .await
        .unwrap();
    let second = sqlx::query(insert)
        .bind(circles[1])
        .bind(member)
        .execute(&w.pool)
        .await;
    // The outbox is partitioned, so the violated index is the partition's copy of deliveries_member_period_key,
    // named after its columns (kind, member_id, period), not the circle.
    let e = second.expect_err("UNIQUE (kind, member, period) for per-member rows");
    let db = e.as_database_error().expect("a database error");
    let index = db.constraint().unwrap_or_default().to_owned();
    assert_eq!(db.code().as_deref(), Some("23505"), "{e}");
    assert!(
        index == "deliveries_member_period_key"
            || (index.contains("kind_member_id_period") && !index.contains("circle")),
        "{index}"
    );
}

#[sqlx::test]
async fn a_member_whose_only_circle_is_paused_until_resumed_has_the_month_recorded_skipped(
    pool: PgPool,
) {
    let w = world(pool, "2027-03-25T00:00:00Z");
    let a = w.circle_with_members("g1", "UTC", &["UTC"]).await;
    w.app.circle_pause(&a[0], None, None, false).await.unwrap();
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2027-04-02T00:00:00Z"), Duration::hours(2), &chat)
        .await;
    let april: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT status, skip_reason FROM deliveries WHERE kind = 'monthly_nudge' AND period = '2027-04'",
    )
    .fetch_all(&w.pool)
    .await
    .unwrap();
    assert_eq!(
        april,
        vec![("skipped".to_owned(), Some("circle paused".to_owned()))]
    );
    assert!(chat.sent().is_empty());
}
