//! Check-in replies and review threads (issue: check-in replies and group review threads).

use std::collections::BTreeSet;
use std::sync::Arc;

use career_circle_console::recording::RecordingChat;
use career_circle_core::app::Actor;
use career_circle_core::chat::Destination;
use career_circle_core::chat::ThreadRef;
use career_circle_core::schedule::heatmap;
use career_circle_core::schedule::review::rotation;
use chrono::Duration;
use sqlx::PgPool;

use crate::support::Words as _;
use crate::support::{World, t, world};

async fn prompted(pool: PgPool, n: usize) -> (World, Vec<Actor>, Arc<RecordingChat>) {
    let w = world(pool, "2027-03-25T00:00:00Z");
    let zones = vec!["UTC"; n];
    let actors = w.circle_with_members("g1", "UTC", &zones).await;
    for a in &actors {
        w.app.spec_visibility(a, "circle").await.unwrap();
    }
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2027-04-05T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    (w, actors, chat)
}

fn prompt_to(chat: &RecordingChat, a: &Actor) -> career_circle_console::recording::Sent {
    chat.sent()
        .into_iter()
        .find(|s| {
            s.to == Destination::Dm {
                user_id: a.user_id.clone(),
            } && s.message.text.contains("check-in time")
        })
        .expect("prompt sent")
}

async fn checkins(w: &World) -> Vec<(String, String)> {
    sqlx::query_as::<_, (String, String)>(
        "SELECT m.platform_user_id, c.period FROM checkins c JOIN members m ON m.id = c.member_id ORDER BY 1",
    )
    .fetch_all(&w.pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn each_answer_path_stores_one_checkin_and_edits_keep_history(pool: PgPool) {
    let (w, a, chat) = prompted(pool, 3).await;
    // 1. A DM reply to the prompt.
    let prompt = prompt_to(&chat, &a[0]);
    let r = w
        .app
        .dm_message(
            &a[0],
            "On track. Shipped pricing.",
            Some(&prompt.posted.message_id),
        )
        .await
        .unwrap();
    assert!(
        r.text.contains("Stored your Q2 2027 check-in"),
        "{}",
        r.text
    );
    // 2. The prompt's Answer button and its form.
    let button = prompt_to(&chat, &a[1]).message.buttons[0].custom_id.clone();
    let form = w.app.button(&a[1], &button).await.unwrap();
    let modal = form.modal.expect("a form");
    assert_eq!(modal.inputs.len(), 5);
    let r = w
        .app
        .form_submit(
            &a[1],
            &modal.custom_id,
            &[("went_well".into(), "Hired two PMs".into())],
        )
        .await
        .unwrap();
    assert!(r.text.contains("Stored"), "{}", r.text);
    // 3. /checkin in the server.
    let r = w
        .app
        .checkin_command(&a[2], None, "Behind on writing, ahead on hiring.")
        .await
        .unwrap();
    assert!(r.text.contains("Stored"));
    let all = checkins(&w).await;
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|(_, p)| p == "2027-Q2"));

    // An edit (any path) updates the one check-in and keeps the earlier text. A DM after an answer is not
    // stored unasked: the member chooses to replace it.
    let asked = w
        .app
        .dm_message(&a[0], "On track. Shipped pricing and a post.", None)
        .await
        .unwrap();
    let replace = asked
        .buttons
        .iter()
        .find(|b| b.label.starts_with("Replace"))
        .expect("asks append, replace or leave");
    let r = w.app.button(&a[0], &replace.custom_id).await.unwrap();
    assert!(r.text.contains("Updated"), "{}", r.text);
    assert_eq!(checkins(&w).await.len(), 3);
    let history: Vec<serde_json::Value> =
        sqlx::query_scalar("SELECT answers FROM checkin_revisions")
            .fetch_all(&w.pool)
            .await
            .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["text"], "On track. Shipped pricing.");
    let shown = w
        .app
        .checkin_show(&a[1], Some(&a[0].user_id), None)
        .await
        .unwrap();
    assert!(
        shown.text.contains("and a post") && shown.text.contains("edited once"),
        "{}",
        shown.text
    );
    // Outside any open prompt: a helpful answer, nothing stored.
    let stranger = crate::support::actor("g1", "nobody");
    assert!(
        w.app
            .dm_message(&stranger, "hello?", None)
            .await
            .unwrap()
            .text
            .contains("/circle join")
    );
}

#[sqlx::test]
async fn done_by_dm_reply_marks_the_month(pool: PgPool) {
    let (w, a, _) = prompted(pool, 1).await;
    let r = w
        .app
        .dm_message(&a[0], "done https://example.com/my-post", None)
        .await
        .unwrap();
    assert!(r.text.contains("done for April 2027"), "{}", r.text);
    let link: Option<String> = sqlx::query_scalar("SELECT link FROM commitment_periods")
        .fetch_one(&w.pool)
        .await
        .unwrap();
    assert_eq!(link.as_deref(), Some("https://example.com/my-post"));
}

#[sqlx::test]
async fn the_thread_opens_once_with_posts_and_feedback_goes_to_the_right_member(pool: PgPool) {
    let (w, a, chat) = prompted(pool, 3).await;
    w.app
        .checkin_command(&a[0], None, "Alice's quarter: pricing shipped.")
        .await
        .unwrap();
    // Wins logged in the quarter under review (Q1) show in the post; the check-in looks back on it.
    w.clock.set(t("2027-03-28T12:00:00Z"));
    w.app
        .win_add(&a[0], "I led the pricing launch: +4% conversion", None)
        .await
        .unwrap();
    w.clock.set(t("2027-04-05T10:00:00Z"));
    // Two workers race over the opening.
    w.clock.set(t("2027-04-12T09:00:00Z"));
    w.planner().tick(t("2027-04-12T09:00:00Z")).await.unwrap();
    let (x, y) = (w.worker(chat.clone()), w.worker(chat.clone()));
    let (p, q) = tokio::join!(x.run_once(), y.run_once());
    p.unwrap();
    q.unwrap();
    while x.run_once().await.unwrap().claimed > 0 {}
    assert_eq!(chat.threads().len(), 1, "one thread");
    assert_eq!(chat.threads()[0].1, "Q2 2027 review");
    let thread_id: String = sqlx::query_scalar("SELECT thread_channel_id FROM review_threads")
        .fetch_one(&w.pool)
        .await
        .unwrap();
    let in_thread: Vec<_> = chat
        .sent()
        .into_iter()
        .filter(|s| s.to == Destination::Thread(ThreadRef::channel(thread_id.clone())))
        .collect();
    assert_eq!(in_thread.len(), 4, "a header and one post per member");
    let alice_post = in_thread
        .iter()
        .find(|s| s.message.text.contains("Alice's quarter"))
        .expect("her check-in");
    assert!(
        alice_post.message.text.contains("pricing launch"),
        "wins are in the post"
    );
    assert!(
        alice_post.message.text.contains("publish one post: kept"),
        "{}",
        alice_post.message.text
    );

    // Replies to her post are hers; a mention of the third member counts for them.
    let ok = w
        .app
        .channel_message(
            &a[1],
            &ThreadRef::channel(thread_id.clone()),
            "m-f1",
            "Great launch.",
            Some(&alice_post.posted.message_id),
            &[],
        )
        .await
        .unwrap();
    assert!(ok);
    let ok = w
        .app
        .channel_message(
            &a[0],
            &ThreadRef::channel(thread_id.clone()),
            "m-f2",
            "Nice hiring!",
            None,
            std::slice::from_ref(&a[2].user_id),
        )
        .await
        .unwrap();
    assert!(ok);
    assert!(
        !w.app
            .channel_message(
                &a[0],
                &ThreadRef::channel(thread_id.clone()),
                "m-f3",
                "talking to myself",
                Some(&alice_post.posted.message_id),
                &[]
            )
            .await
            .unwrap()
    );
    assert!(
        !w.app
            .channel_message(
                &a[1],
                &ThreadRef::channel("elsewhere"),
                "m-f4",
                "not a thread",
                None,
                &[]
            )
            .await
            .unwrap()
    );
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT a.platform_user_id, s.platform_user_id FROM peer_feedback f
         JOIN members a ON a.id = f.author_id JOIN members s ON s.id = f.subject_id ORDER BY f.id",
    )
    .fetch_all(&w.pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            (a[1].user_id.clone(), a[0].user_id.clone()),
            (a[0].user_id.clone(), a[2].user_id.clone())
        ]
    );
    let mine = w.app.review_feedback(&a[0], None, None).await.unwrap();
    assert!(mine.text.contains("Great launch."), "{}", mine.text);
}

#[sqlx::test]
async fn midway_nudges_only_reviewers_who_owe_and_the_summary_closes_the_thread(pool: PgPool) {
    let (w, a, chat) = prompted(pool, 3).await;
    w.clock.set(t("2027-04-12T09:00:00Z"));
    w.drive(t("2027-04-12T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    let thread_id: String = sqlx::query_scalar("SELECT thread_channel_id FROM review_threads")
        .fetch_one(&w.pool)
        .await
        .unwrap();
    let pairs: Vec<(String, String)> = sqlx::query_as(
        "SELECT r.platform_user_id, e.platform_user_id FROM review_assignments x
         JOIN members r ON r.id = x.reviewer_id JOIN members e ON e.id = x.reviewee_id",
    )
    .fetch_all(&w.pool)
    .await
    .unwrap();
    assert_eq!(pairs.len(), 3);
    // One reviewer writes; the midway nudge tags only the other two, once each.
    let (writer, subject) = pairs[0].clone();
    let writer_actor = a.iter().find(|x| x.user_id == writer).unwrap();
    let posts: Vec<(i64, String)> =
        sqlx::query_as("SELECT member_id, message_id FROM review_posts")
            .fetch_all(&w.pool)
            .await
            .unwrap();
    let subject_id = w
        .member_id(a.iter().find(|x| x.user_id == subject).unwrap())
        .await;
    let post = posts.iter().find(|(m, _)| *m == subject_id).unwrap();
    w.app
        .channel_message(
            writer_actor,
            &ThreadRef::channel(thread_id.clone()),
            "fb1",
            "Real feedback.",
            Some(&post.1),
            &[],
        )
        .await
        .unwrap();
    w.drive(t("2027-04-19T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    let nudge = chat
        .sent()
        .into_iter()
        .find(|s| s.message.text.contains("Halfway through"))
        .expect("midway nudge");
    assert!(
        !nudge.message.text.contains(&format!("<@{writer}>")),
        "nobody owing nothing is tagged"
    );
    for (reviewer, _) in &pairs[1..] {
        assert_eq!(
            nudge
                .message
                .text
                .matches(&format!("<@{reviewer}>"))
                .count(),
            1
        );
    }
    w.drive(t("2027-04-26T10:00:00Z"), Duration::hours(1), &chat)
        .await;
    let summary = chat
        .sent()
        .into_iter()
        .find(|s| s.message.text.contains("review: summary"))
        .expect("summary");
    assert_eq!(summary.message.attachments.len(), 1);
    let png = &summary.message.attachments[0].bytes;
    let decoder = png::Decoder::new(std::io::Cursor::new(png.clone()));
    let reader = decoder.read_info().expect("a valid PNG");
    let info = reader.info();
    assert_eq!(
        (info.width, info.height),
        heatmap::size(3, 3),
        "one row per member, one column per month"
    );
    assert_eq!(chat.archived(), vec![thread_id.clone()]);
    let closed: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT closed_at FROM review_threads")
            .fetch_one(&w.pool)
            .await
            .unwrap();
    assert!(closed.is_some());
    // Once closed, thread messages are no longer feedback.
    assert!(
        !w.app
            .channel_message(
                writer_actor,
                &ThreadRef::channel(thread_id.clone()),
                "fb9",
                "late",
                Some(&post.1),
                &[]
            )
            .await
            .unwrap()
    );
}

#[test]
fn rotation_avoids_repeats_over_four_quarters_in_a_circle_of_five() {
    let members = [11, 12, 13, 14, 15];
    let mut previous = Vec::new();
    let mut seen: Vec<BTreeSet<(i64, i64)>> = Vec::new();
    for quarter in ["2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"] {
        let pairs = rotation(&members, quarter.parse().unwrap(), &previous);
        assert_eq!(pairs.len(), 5);
        let reviewees: BTreeSet<i64> = pairs.iter().map(|p| p.1).collect();
        let reviewers: BTreeSet<i64> = pairs.iter().map(|p| p.0).collect();
        assert_eq!(
            (reviewees.len(), reviewers.len()),
            (5, 5),
            "everyone reviews and is reviewed once"
        );
        assert!(pairs.iter().all(|(r, e)| r != e));
        let set: BTreeSet<(i64, i64)> = pairs.iter().copied().collect();
        for earlier in &seen {
            assert!(set.is_disjoint(earlier), "{quarter} repeats a pair");
        }
        seen.push(set);
        previous = pairs;
    }
    // Small circles still work, and a member who joins mid-year is fitted in.
    assert_eq!(
        rotation(&[1, 2], "2027-Q1".parse().unwrap(), &[]),
        vec![(2, 1), (1, 2)]
    );
    assert!(rotation(&[1], "2027-Q1".parse().unwrap(), &[]).is_empty());
    let grown = rotation(
        &[11, 12, 13, 14, 15, 16],
        "2028-Q1".parse().unwrap(),
        &previous,
    );
    assert!(grown.iter().all(|p| !previous.contains(p)));
}

#[sqlx::test]
async fn review_start_is_for_organisers_and_opens_once(pool: PgPool) {
    let (w, a, chat) = prompted(pool, 3).await;
    let err = w.app.review_start(&a[1], None).await.unwrap_err();
    assert!(err.to_user_text().contains("Only organisers"));
    let r = w.app.review_start(&a[0], None).await.unwrap();
    assert!(r.text.contains("Opening the **Q2 2027 review**"));
    let worker = w.worker(chat.clone());
    while worker.run_once().await.unwrap().claimed > 0 {}
    assert_eq!(chat.threads().len(), 1);
    assert!(
        w.app
            .review_start(&a[0], None)
            .await
            .unwrap_err()
            .to_user_text()
            .contains("already open")
    );
    // The scheduled opening a week later finds it open and makes no second thread.
    w.drive(t("2027-04-13T00:00:00Z"), Duration::hours(1), &chat)
        .await;
    assert_eq!(chat.threads().len(), 1);
    let status = w.app.review_status(&a[2], None).await.unwrap();
    assert!(status.text.contains("Still owed"), "{}", status.text);
}
