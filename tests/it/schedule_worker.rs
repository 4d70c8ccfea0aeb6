//! The worker: crashes, races and platform failures lose nothing and post nothing twice.

use std::sync::Arc;

use career_circle_console::recording::RecordingChat;
use career_circle_core::chat::{ChatError, ChatMessage, ChatPort, Destination};
use career_circle_core::store::deliveries;
use chrono::Duration;
use sqlx::PgPool;

use crate::support::Words as _;
use crate::support::{World, t, world};

/// A circle of `n` members whose April nudges are planned and waiting in the outbox.
async fn planned(pool: PgPool, n: usize) -> (World, Vec<career_circle_core::app::Actor>) {
    let w = world(pool, "2027-03-31T00:00:00Z");
    let zones = vec!["UTC"; n];
    let actors = w.circle_with_members("g1", "UTC", &zones).await;
    w.clock.set(t("2027-04-01T09:00:00Z"));
    let report = w.planner().tick(t("2027-04-01T09:00:00Z")).await.unwrap();
    assert_eq!(report.inserted as usize, n);
    (w, actors)
}

#[sqlx::test]
async fn a_worker_killed_between_claim_and_send_loses_nothing(pool: PgPool) {
    let (w, _) = planned(pool, 3).await;
    let now = t("2027-04-01T09:00:00Z");
    let claimed = deliveries::claim(&w.pool, "dead-worker", now, now + Duration::minutes(2), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 3);
    // ... and it dies here. While its lease runs, nobody else takes the rows.
    let chat = Arc::new(RecordingChat::new());
    let worker = w.worker(chat.clone());
    assert_eq!(worker.run_once().await.unwrap().claimed, 0);
    w.clock.set(now + Duration::minutes(3));
    let outcome = worker.run_once().await.unwrap();
    assert_eq!((outcome.claimed, outcome.sent), (3, 3));
    assert_eq!(chat.send_calls(), 3);
    assert!(
        w.deliveries()
            .await
            .iter()
            .all(|d| d.status == "sent" && d.attempts == 1)
    );
}

#[sqlx::test]
async fn a_worker_killed_between_send_and_record_posts_nothing_twice(pool: PgPool) {
    let (w, actors) = planned(pool, 1).await;
    let now = t("2027-04-01T09:00:00Z");
    let chat = Arc::new(RecordingChat::new());
    let claimed = deliveries::claim(&w.pool, "dead-worker", now, now + Duration::minutes(2), 10)
        .await
        .unwrap();
    let d = claimed[0].as_ref().unwrap();
    // The dying worker got its message out with the delivery's nonce, then crashed before recording it.
    let to = Destination::Dm {
        user_id: actors[0].user_id.clone(),
    };
    let first = chat
        .send(&to, &ChatMessage::text("nudge"), Some(&d.id.to_string()))
        .await
        .unwrap();
    w.clock.set(now + Duration::minutes(3));
    let outcome = w.worker(chat.clone()).run_once().await.unwrap();
    assert_eq!(outcome.sent, 1);
    assert_eq!(
        chat.sent().len(),
        1,
        "the platform dropped the resend by its nonce"
    );
    let row = &w.deliveries().await[0];
    assert_eq!(row.status, "sent");
    assert_eq!(
        row.message_id.as_deref(),
        Some(first.message_id.as_str()),
        "recorded as the first message"
    );
}

#[sqlx::test]
async fn three_workers_racing_deliver_n_rows_exactly_n_times(pool: PgPool) {
    let (w, _) = planned(pool, 120).await;
    let chat = Arc::new(RecordingChat::new());
    let workers: Vec<_> = (0..3).map(|_| w.worker(chat.clone())).collect();
    let (a, b, c) = tokio::join!(drain(&workers[0]), drain(&workers[1]), drain(&workers[2]));
    assert_eq!(a + b + c, 120);
    assert_eq!(
        chat.send_calls(),
        120,
        "no row was sent twice, even to be deduplicated"
    );
    let rows = w.deliveries().await;
    assert!(rows.iter().all(|d| d.status == "sent"));
    let mut ids: Vec<_> = chat
        .sent()
        .iter()
        .map(|s| s.posted.message_id.clone())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 120);
}

#[sqlx::test]
async fn rate_limits_wait_without_using_attempts_and_server_errors_back_off(pool: PgPool) {
    let (w, actors) = planned(pool, 1).await;
    let chat = Arc::new(RecordingChat::new());
    let to = Destination::Dm {
        user_id: actors[0].user_id.clone(),
    };
    chat.fail_next(
        to.clone(),
        ChatError::RateLimited {
            retry_after: std::time::Duration::from_millis(1500),
        },
        1,
    );
    chat.fail_next(
        to.clone(),
        ChatError::Transient("500 Internal Server Error".into()),
        2,
    );
    let worker = w.worker(chat.clone());
    let o = worker.run_once().await.unwrap();
    // A 429 on one DM waits for that DM only: the worker does not pause the others.
    assert_eq!((o.retried, o.pause), (1, None));
    let row = w.deliveries().await.remove(0);
    assert_eq!(
        (row.status.as_str(), row.attempts),
        ("pending", 0),
        "a 429 is not the delivery's fault"
    );
    // Not before retry_after.
    assert_eq!(worker.run_once().await.unwrap().claimed, 0);
    w.clock.set(t("2027-04-01T09:00:02Z"));
    assert_eq!(worker.run_once().await.unwrap().retried, 1);
    let row = w.deliveries().await.remove(0);
    assert_eq!(row.attempts, 1);
    assert!(row.last_error.as_deref().unwrap_or("").contains("500"));
    // Backoff: base 10s with jitter between 5 and 10 seconds for the first retry.
    w.clock
        .set(t("2027-04-01T09:00:06Z") + Duration::seconds(6));
    assert_eq!(worker.run_once().await.unwrap().retried, 1);
    w.clock.set(t("2027-04-01T09:10:00Z"));
    assert_eq!(worker.run_once().await.unwrap().sent, 1);
    assert_eq!(chat.sent().len(), 1);
    assert_eq!(w.deliveries().await.remove(0).attempts, 3);
}

#[sqlx::test]
async fn a_delivery_that_keeps_failing_ends_as_failed_not_deleted(pool: PgPool) {
    let (w, actors) = planned(pool, 1).await;
    let chat = Arc::new(RecordingChat::new());
    chat.fail_always(
        Destination::Dm {
            user_id: actors[0].user_id.clone(),
        },
        ChatError::Transient("timeout".into()),
    );
    let worker = w.worker(chat.clone());
    let mut now = t("2027-04-01T09:00:00Z");
    for _ in 0..20 {
        w.clock.set(now);
        worker.run_once().await.unwrap();
        now += Duration::hours(2);
    }
    let row = w.deliveries().await.remove(0);
    assert_eq!(row.status, "failed");
    assert_eq!(row.attempts as u32, w.settings.worker.max_attempts);
    assert!(row.last_error.unwrap().contains("gave up"));
}

#[sqlx::test]
async fn closed_dms_fail_at_once_and_tell_the_organiser_once_a_quarter(pool: PgPool) {
    let (w, actors) = planned(pool, 2).await;
    let chat = Arc::new(RecordingChat::new());
    let closed = Destination::Dm {
        user_id: actors[1].user_id.clone(),
    };
    chat.fail_always(closed.clone(), ChatError::CannotDm);
    let worker = w.worker(chat.clone());
    while worker.run_once().await.unwrap().claimed > 0 {}
    let rows = w.deliveries().await;
    let failed: Vec<_> = rows.iter().filter(|r| r.status == "failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempts, 1, "no retries for a permanent error");
    let organiser_dm = Destination::Dm {
        user_id: actors[0].user_id.clone(),
    };
    let alerts: Vec<_> = chat
        .sent()
        .into_iter()
        .filter(|s| s.to == organiser_dm && s.message.text.contains("couldn't deliver"))
        .collect();
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].message.text.contains(&actors[1].display_name));

    // The reminder on the 20th fails too, in the same quarter: no second alert.
    w.clock.set(t("2027-04-20T09:00:00Z"));
    w.planner().tick(t("2027-04-20T09:00:00Z")).await.unwrap();
    while worker.run_once().await.unwrap().claimed > 0 {}
    let alerts = chat
        .sent()
        .into_iter()
        .filter(|s| s.message.text.contains("couldn't deliver"))
        .count();
    assert_eq!(alerts, 1);
    assert_eq!(
        w.deliveries()
            .await
            .iter()
            .filter(|r| r.status == "failed")
            .count(),
        2
    );

    // Missing permissions count the same way.
    chat.fail_always(closed, ChatError::MissingPermissions);
    w.clock.set(t("2027-07-01T09:00:00Z"));
    w.planner().tick(t("2027-07-01T09:00:00Z")).await.unwrap();
    while worker.run_once().await.unwrap().claimed > 0 {}
    let alerts = chat
        .sent()
        .into_iter()
        .filter(|s| s.message.text.contains("couldn't deliver"))
        .count();
    assert_eq!(alerts, 2, "a new quarter, a new alert");
}

#[sqlx::test]
async fn reminders_already_answered_are_skipped_at_send_time(pool: PgPool) {
    let (w, actors) = planned(pool, 1).await;
    let chat = Arc::new(RecordingChat::new());
    let worker = w.worker(chat.clone());
    while worker.run_once().await.unwrap().claimed > 0 {}
    // The reminder is planned, then the member marks done before the worker gets to it.
    w.clock.set(t("2027-04-20T09:00:00Z"));
    w.planner().tick(t("2027-04-20T09:00:00Z")).await.unwrap();
    w.app
        .commit_done(
            &actors[0],
            career_circle_core::app::commitments::Done {
                commitment: None,
                link: None,
                note: None,
            },
        )
        .await
        .unwrap();
    let o = worker.run_once().await.unwrap();
    assert_eq!(o.skipped, 1);
    let row = w
        .deliveries()
        .await
        .into_iter()
        .find(|r| r.kind == "nudge_reminder")
        .unwrap();
    assert_eq!(
        (row.status.as_str(), row.skip_reason.as_deref()),
        ("skipped", Some("already marked done this month"))
    );
}

async fn drain(worker: &career_circle_core::schedule::worker::Worker) -> usize {
    let mut sent = 0;
    loop {
        let o = worker.run_once().await.unwrap();
        sent += o.sent;
        if o.claimed == 0 {
            return sent;
        }
    }
}
