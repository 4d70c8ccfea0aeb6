//! Seeding for `bench`: set-based, so 100k members take seconds, not minutes.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// N members over C circles, zones assigned round-robin, each with one open monthly commitment.
pub async fn seed(
    pool: &PgPool,
    members: i64,
    circles: i64,
    zones: &[String],
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    let server: i64 = sqlx::query_scalar!(
        "INSERT INTO servers (platform, external_id) VALUES ('console', 'bench') RETURNING id"
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO circles (server_id, name, home_channel_id, zone, created_at)
         SELECT $1, 'circle ' || g, 'channel ' || g, 'UTC', $2 FROM generate_series(1, $3::bigint) g",
        server,
        at,
        circles,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO members (server_id, platform_user_id, display_name, zone, created_at)
         SELECT $1, (1000000000000000 + g)::text, 'Member ' || g, ($2::text[])[1 + (g % cardinality($2::text[]))], $3
         FROM generate_series(1, $4::bigint) g",
        server,
        zones,
        at,
        members,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO memberships (circle_id, member_id, role, joined_at)
         SELECT c.id, m.id, 'member', $2
         FROM members m
         JOIN circles c ON c.server_id = m.server_id
              AND c.name = 'circle ' || (1 + ((m.platform_user_id::bigint - 1000000000000000) % $3::bigint))
         WHERE m.server_id = $1",
        server,
        at,
        circles,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO commitments (member_id, title, cadence, started_on, created_at)
         SELECT id, 'publish one post', 'monthly', $2::timestamptz::date, $2 FROM members WHERE server_id = $1",
        server,
        at,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    sqlx::query!("ANALYZE").execute(pool).await?;
    Ok(())
}

/// The same rows as the planner's tick, with nothing computed: the floor the planner is measured against.
/// Runs in a transaction that is rolled back, so the planner's tick afterwards starts from the same empty table.
pub async fn bare_insert(pool: &PgPool, now: DateTime<Utc>) -> sqlx::Result<u64> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query!(
        "INSERT INTO deliveries (kind, circle_id, member_id, period, due_at, status, next_attempt_at, created_at)
         SELECT 'monthly_nudge', ms.circle_id, ms.member_id, '2027-03', $1, 'pending', $1, $1
         FROM memberships ms",
        now,
    )
    .execute(&mut *tx)
    .await?;
    tx.rollback().await?;
    Ok(done.rows_affected())
}

/// A nudge for up to `limit` memberships, due at `now`, committed: the bursts `bench deliver` and `memory` send.
pub async fn queue_nudges(
    pool: &PgPool,
    period: &str,
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "INSERT INTO deliveries (kind, circle_id, member_id, period, due_at, status, next_attempt_at, created_at)
         SELECT 'monthly_nudge', ms.circle_id, ms.member_id, $1, $2, 'pending', $2, $2
         FROM (SELECT circle_id, member_id FROM memberships ORDER BY member_id LIMIT $3) ms
         ON CONFLICT ON CONSTRAINT deliveries_natural_key DO NOTHING",
        period,
        now,
        limit,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Puts every delivery back to pending, to send the same burst again.
pub async fn requeue(pool: &PgPool, now: DateTime<Utc>) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "UPDATE deliveries SET status = 'pending', sent_at = NULL, message_id = NULL, channel_id = NULL, attempts = 0,
                last_error = NULL, claimed_by = NULL, claimed_until = NULL, next_attempt_at = $1",
        now,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// (pending, sent) deliveries.
pub async fn progress(pool: &PgPool) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE status = 'pending') AS "pending!", count(*) FILTER (WHERE status = 'sent') AS "sent!"
           FROM deliveries"#
    )
    .fetch_one(pool)
    .await?;
    Ok((row.pending, row.sent))
}

/// Turns the partitioned outbox of a scratch database back into one plain table with the same columns and
/// indexes: what `bench outbox` measures the partitions against. Never run on a real database.
pub async fn unpartition_outbox(pool: &PgPool) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query!("ALTER SEQUENCE deliveries_id_seq OWNED BY NONE")
        .execute(&mut *tx)
        .await?;
    sqlx::query!(
        "CREATE TABLE deliveries_flat (LIKE deliveries INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("DROP TABLE deliveries")
        .execute(&mut *tx)
        .await?;
    sqlx::query!("ALTER TABLE deliveries_flat RENAME TO deliveries")
        .execute(&mut *tx)
        .await?;
    // The keys and indexes the outbox had before it was partitioned.
    sqlx::query!(
        "ALTER TABLE deliveries ADD PRIMARY KEY (id),
         ADD CONSTRAINT deliveries_natural_key UNIQUE NULLS NOT DISTINCT (kind, circle_id, member_id, period)"
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "CREATE INDEX deliveries_pending_idx ON deliveries (next_attempt_at) WHERE status = 'pending'"
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("CREATE INDEX deliveries_circle_idx ON deliveries (circle_id, kind, period)")
        .execute(&mut *tx)
        .await?;
    sqlx::query!(
        "CREATE INDEX deliveries_member_kind_period_idx ON deliveries (member_id, kind, period)"
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "CREATE UNIQUE INDEX deliveries_member_period_key ON deliveries (kind, member_id, period) WHERE per_member"
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// The outbox's dead rows (as the statistics collector last saw them) and the size of its indexes, summed over
/// its partitions when it has them.
pub async fn outbox_health(pool: &PgPool) -> sqlx::Result<(i64, i64)> {
    sqlx::query!("SELECT pg_stat_force_next_flush()")
        .execute(pool)
        .await?;
    let row = sqlx::query!(
        r#"SELECT COALESCE(sum(s.n_dead_tup), 0)::bigint AS "dead!",
                  COALESCE(sum(pg_indexes_size(c.oid)), 0)::bigint AS "index_bytes!"
           FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid
           WHERE c.relname = 'deliveries'
              OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'deliveries'::regclass)"#
    )
    .fetch_one(pool)
    .await?;
    Ok((row.dead, row.index_bytes))
}
