//! The migrations and the keys the rest of the system relies on.

use career_circle_core::store;
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn migrations_apply_on_empty_database_and_again_as_noop(pool: PgPool) {
    store::migrate(&pool).await.expect("first run");
    let count = store::applied_migrations(&pool).await.unwrap().len();
    assert_eq!(count, store::MIGRATOR.iter().count());
    store::migrate(&pool).await.expect("second run is a no-op");
    assert_eq!(store::applied_migrations(&pool).await.unwrap().len(), count);
}

async fn seed(pool: &PgPool) -> (i64, i64, i64) {
    let server: i64 = sqlx::query_scalar(
        "INSERT INTO servers (platform, external_id) VALUES ('discord', 'g1') RETURNING id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let circle: i64 = sqlx::query_scalar(
        "INSERT INTO circles (server_id, name, home_channel_id, zone) VALUES ($1, 'Circle', 'c', 'UTC') RETURNING id",
    )
    .bind(server)
    .fetch_one(pool)
    .await
    .unwrap();
    let member: i64 = sqlx::query_scalar(
        "INSERT INTO members (server_id, platform_user_id, display_name) VALUES ($1, 'u1', 'U') RETURNING id",
    )
    .bind(server)
    .fetch_one(pool)
    .await
    .unwrap();
    (server, circle, member)
}

async fn rejects(pool: &PgPool, sql: &str, binds: &[i64]) {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
    for b in binds {
        q = q.bind(*b);
    }
    let err = q.execute(pool).await.expect_err(sql);
    let code = err
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.into_owned());
    assert_eq!(code.as_deref(), Some("23505"), "{sql}: {err}");
}

#[sqlx::test]
async fn natural_keys_reject_duplicates(pool: PgPool) {
    let (server, circle, member) = seed(&pool).await;
    rejects(
        &pool,
        "INSERT INTO servers (platform, external_id) VALUES ('discord', 'g1')",
        &[],
    )
    .await;
    rejects(&pool, "INSERT INTO circles (server_id, name, home_channel_id, zone) VALUES ($1, 'CIRCLE', 'x', 'UTC')", &[server]).await;
    rejects(&pool, "INSERT INTO members (server_id, platform_user_id, display_name) VALUES ($1, 'u1', 'again')", &[server]).await;
    sqlx::query("INSERT INTO memberships (circle_id, member_id) VALUES ($1, $2)")
        .bind(circle)
        .bind(member)
        .execute(&pool)
        .await
        .unwrap();
    rejects(
        &pool,
        "INSERT INTO memberships (circle_id, member_id) VALUES ($1, $2)",
        &[circle, member],
    )
    .await;

    sqlx::query("INSERT INTO spec_versions (member_id, version) VALUES ($1, 1)")
        .bind(member)
        .execute(&pool)
        .await
        .unwrap();
    rejects(
        &pool,
        "INSERT INTO spec_versions (member_id, version) VALUES ($1, 1)",
        &[member],
    )
    .await;

    let commitment: i64 = sqlx::query_scalar(
        "INSERT INTO commitments (member_id, title, started_on) VALUES ($1, 'post', '2027-01-01') RETURNING id",
    )
    .bind(member)
    .fetch_one(&pool)
    .await
    .unwrap();
    let period = "INSERT INTO commitment_periods (commitment_id, period, done_at) VALUES ($1, '2027-01', now())";
    sqlx::query(period)
        .bind(commitment)
        .execute(&pool)
        .await
        .unwrap();
    rejects(&pool, period, &[commitment]).await;

    let checkin =
        "INSERT INTO checkins (member_id, circle_id, period, answers, submitted_at, updated_at)
                   VALUES ($1, $2, '2027-Q1', '{}', now(), now())";
    sqlx::query(checkin)
        .bind(member)
        .bind(circle)
        .execute(&pool)
        .await
        .unwrap();
    rejects(&pool, checkin, &[member, circle]).await;

    let thread = "INSERT INTO review_threads (circle_id, period, opened_at, closes_at) VALUES ($1, '2027-Q1', now(), now())";
    sqlx::query(thread)
        .bind(circle)
        .execute(&pool)
        .await
        .unwrap();
    rejects(&pool, thread, &[circle]).await;

    let recurrence = "INSERT INTO circle_recurrences (circle_id, kind, cron) VALUES ($1, 'monthly_nudge', '0 9 1 * *')";
    sqlx::query(recurrence)
        .bind(circle)
        .execute(&pool)
        .await
        .unwrap();
    rejects(&pool, recurrence, &[circle]).await;

    let delivery =
        "INSERT INTO deliveries (kind, circle_id, member_id, period, due_at, next_attempt_at)
                    VALUES ('monthly_nudge', $1, $2, '2027-01', now(), now())";
    sqlx::query(delivery)
        .bind(circle)
        .bind(member)
        .execute(&pool)
        .await
        .unwrap();
    rejects(&pool, delivery, &[circle, member]).await;
    // Circle-wide deliveries have no member; NULLS NOT DISTINCT keeps them single too.
    let circle_wide = "INSERT INTO deliveries (kind, circle_id, period, due_at, next_attempt_at)
                       VALUES ('review_open', $1, '2027-Q1', now(), now())";
    sqlx::query(circle_wide)
        .bind(circle)
        .execute(&pool)
        .await
        .unwrap();
    rejects(&pool, circle_wide, &[circle]).await;
}

#[sqlx::test]
async fn worker_claim_uses_the_pending_index(pool: PgPool) {
    // With the table big enough for the planner to care, the claim's inner scan must use the partial index.
    let (_, circle, _) = seed(&pool).await;
    sqlx::query(
        "INSERT INTO deliveries (kind, circle_id, period, due_at, next_attempt_at, status)
         SELECT 'k' || g, $1, 'p', now(), now(), CASE WHEN g % 100 = 0 THEN 'pending' ELSE 'sent' END
         FROM generate_series(1, 20000) g",
    )
    .bind(circle)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE deliveries")
        .execute(&pool)
        .await
        .unwrap();
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= now()
         AND (claimed_until IS NULL OR claimed_until < now()) ORDER BY next_attempt_at LIMIT 50 FOR UPDATE SKIP LOCKED",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let plan = plan.join("\n");
    // The outbox is partitioned by year: each partition's copy of deliveries_pending_idx is named after the
    // partition and its column.
    let scans: Vec<&str> = plan.lines().filter(|l| l.contains("Scan")).collect();
    assert!(!scans.is_empty(), "{plan}");
    assert!(
        scans
            .iter()
            .all(|l| l.contains("Index Scan using") && l.contains("_next_attempt_at_idx")),
        "{plan}"
    );
    let partial: bool = sqlx::query_scalar(
        "SELECT bool_and(indpred IS NOT NULL) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE c.relname LIKE 'deliveries%next_attempt_at_idx'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(partial, "every partition's claim index is the partial one");
}
