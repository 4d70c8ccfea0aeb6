//! The outbox's yearly partitions: made ahead of need, and dropped whole once older than the retention. The DDL
//! lives in database functions (see the migration that partitioned `deliveries`), so the SQL here stays checked.

/// Makes the year's partition if it is missing; false when rows of that year already sit in the default
/// partition (they stay there, and the year keeps no partition of its own).
pub async fn ensure_year(db: impl sqlx::PgExecutor<'_>, year: i32) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT career_circle_ensure_delivery_partition($1) AS "made!""#,
        year
    )
    .fetch_one(db)
    .await
}

/// Drops the partitions of the years before `before`; returns their names. Waits at most `lock_timeout` for the
/// outbox's lock (claims hold it for milliseconds; a long transaction elsewhere makes this fail, to be tried again
/// later, rather than queue every worker behind it).
pub async fn drop_before(
    conn: &mut sqlx::PgConnection,
    before: i32,
    lock_timeout: std::time::Duration,
) -> sqlx::Result<Vec<String>> {
    let ms = i64::try_from(lock_timeout.as_millis()).unwrap_or(i64::MAX);
    sqlx::query_scalar!(
        "SELECT set_config('lock_timeout', $1 || 'ms', true)",
        ms.to_string()
    )
    .fetch_one(&mut *conn)
    .await?;
    let dropped = sqlx::query_scalar!(
        r#"SELECT career_circle_drop_delivery_partitions($1) AS "name!""#,
        before
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(dropped)
}

/// The outbox's year partitions, oldest first.
pub async fn years(db: impl sqlx::PgExecutor<'_>) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"SELECT c.relname AS "name!" FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'deliveries'::regclass ORDER BY c.relname"#
    )
    .fetch_all(db)
    .await
}
