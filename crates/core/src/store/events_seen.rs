//! Platform events already handled, across instances: a platform that may deliver one event to several of the
//! bot's connections, or again after a timeout (Slack's `retry_attempt`), has it handled once.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;

use crate::chat::Platform;

/// Records `key` as handled and says whether this was the first time anyone recorded it.
pub async fn first_time(
    pool: &PgPool,
    platform: Platform,
    key: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query_scalar!(
        "INSERT INTO events_seen (platform, event_key, seen_at) VALUES ($1, $2, $3)
         ON CONFLICT (platform, event_key) DO NOTHING
         RETURNING 1 AS one",
        platform.as_str(),
        key,
        now,
    )
    .fetch_optional(pool)
    .await?;
    Ok(inserted.is_some())
}

/// Forgets keys older than a day: no platform redelivers that late.
pub async fn prune(pool: &PgPool, now: DateTime<Utc>) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "DELETE FROM events_seen WHERE seen_at < $1",
        now - Duration::days(1)
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
