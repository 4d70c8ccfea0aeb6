//! The outbox's yearly partitions: made ahead, rows in the right year, and retention dropping a whole old year
//! while workers drain the current one.

use std::sync::Arc;

use career_circle_console::recording::RecordingChat;
use career_circle_core::store::partitions;
use sqlx::PgPool;

use crate::support::Words as _;
use crate::support::{t, world};

async fn partition_of(pool: &PgPool, period: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT DISTINCT tableoid::regclass::text FROM deliveries WHERE period = $1")
        .bind(period)
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn maintenance_makes_the_years_ahead_and_rows_land_in_their_year(pool: PgPool) {
    let w = world(pool.clone(), "2031-03-31T00:00:00Z");
    w.circle_with_members("g1", "UTC", &["UTC", "Asia/Tokyo"])
        .await;
    let planner = w.planner();
    planner.maintain(t("2031-03-31T00:00:00Z")).await.unwrap();
    let years = partitions::years(&pool).await.unwrap();
    for y in ["deliveries_y2030", "deliveries_y2031", "deliveries_y2032"] {
        assert!(years.contains(&y.to_owned()), "{years:?}");
    }
    assert!(years.contains(&"deliveries_default".to_owned()));
    planner.tick(t("2031-03-31T00:00:00Z")).await.unwrap();
    planner.tick(t("2031-04-02T00:00:00Z")).await.unwrap();
    assert_eq!(
        partition_of(&pool, "2031-04").await,
        vec!["deliveries_y2031"]
    );
    // A year nobody made a partition for still takes rows, in the default partition, and then keeps them there.
    sqlx::query(
        "INSERT INTO deliveries (kind, circle_id, member_id, period, due_at, next_attempt_at)
         SELECT 'monthly_nudge', circle_id, member_id, '2040-01', now(), now() FROM memberships LIMIT 1",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(
        partition_of(&pool, "2040-01").await,
        vec!["deliveries_default"]
    );
    assert!(!partitions::ensure_year(&pool, 2040).await.unwrap());
    assert!(partitions::ensure_year(&pool, 2041).await.unwrap());
}

/// Retention drops 2027's partition (older than 13 months on 2029-03-01) while workers drain March 2029's
/// nudges: every nudge is sent once, nothing errs, and the drop got the outbox's lock within its one-second
/// lock timeout (it fails rather than wait longer, and it did not fail).
#[sqlx::test]
async fn retention_drops_an_old_year_while_workers_drain_the_current_one(pool: PgPool) {
    let w = world(pool.clone(), "2029-02-27T00:00:00Z");
    let zones: Vec<&str> = ["UTC", "Europe/London", "Asia/Kolkata", "America/New_York"]
        .into_iter()
        .cycle()
        .take(60)
        .collect();
    w.circle_with_members("g1", "UTC", &zones).await;
    let planner = w.planner();
    // As `run` does at start: this, last and next year made ahead (and older years, here the migration's, gone).
    planner.maintain(t("2029-02-27T00:00:00Z")).await.unwrap();
    assert!(partitions::ensure_year(&pool, 2027).await.unwrap());
    // 2027's history: a sent nudge per member and month.
    sqlx::query(
        "INSERT INTO deliveries (kind, circle_id, member_id, period, due_at, next_attempt_at, status, sent_at)
         SELECT 'monthly_nudge', ms.circle_id, ms.member_id, '2027-' || lpad(m::text, 2, '0'),
                '2027-01-01', '2027-01-01', 'sent', '2027-01-01'
         FROM memberships ms CROSS JOIN generate_series(1, 12) m",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(
        partition_of(&pool, "2027-05").await,
        vec!["deliveries_y2027"]
    );

    planner.tick(t("2029-02-27T00:00:00Z")).await.unwrap();
    let now = t("2029-03-02T00:00:00Z");
    w.clock.set(now);
    planner.tick(now).await.unwrap();
    let due: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM deliveries WHERE period = '2029-03' AND kind = 'monthly_nudge' AND status = 'pending'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(due, 60);

    let chat = Arc::new(RecordingChat::new());
    let workers: Vec<_> = (0..3).map(|_| w.worker(chat.clone())).collect();
    let drain = async {
        futures::future::join_all(workers.iter().map(|worker| async move {
            while worker
                .run_once()
                .await
                .expect("the worker never errs")
                .claimed
                > 0
            {}
        }))
        .await;
    };
    let (dropped, ()) = tokio::join!(planner.maintain(now), drain);
    let dropped = dropped.unwrap();
    assert!(
        dropped.contains(&"deliveries_y2027".to_owned()),
        "{dropped:?}"
    );
    // Workers may have stopped early while the drop held the lock; whatever is left, they finish now.
    for worker in &workers {
        while worker.run_once().await.unwrap().claimed > 0 {}
    }
    let sent: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM deliveries WHERE period = '2029-03' AND kind = 'monthly_nudge' AND status = 'sent'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(sent, 60);
    let old: i64 = sqlx::query_scalar("SELECT count(*) FROM deliveries WHERE period LIKE '2027%'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(old, 0);
    let mut nudged: Vec<String> = chat
        .sent()
        .into_iter()
        .filter(|s| s.message.text.markdown().contains("monthly writing"))
        .map(|s| format!("{:?}", s.to))
        .collect();
    let n = nudged.len();
    nudged.sort();
    nudged.dedup();
    assert_eq!((n, nudged.len()), (60, 60), "each nudge sent once");
    let years = partitions::years(&pool).await.unwrap();
    assert!(!years.contains(&"deliveries_y2027".to_owned()), "{years:?}");
    assert!(years.contains(&"deliveries_y2029".to_owned()), "{years:?}");
}
