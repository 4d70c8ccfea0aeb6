//! The pace shared by every instance on this database (see `chat::pacing`).

use std::time::Duration;

use async_trait::async_trait;
use sqlx::PgPool;

use crate::chat::pacing::{HOLD_MAX, Lane, Pacer};

/// Lanes kept in PostgreSQL: one row per lane, booked with one statement under the row's lock, timed by the
/// database's clock so instances on different machines agree.
#[derive(Debug, Clone)]
pub struct SharedPacer {
    pool: PgPool,
}

impl SharedPacer {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl Pacer for SharedPacer {
    async fn book(&self, lane: &Lane) -> anyhow::Result<Duration> {
        let every = lane.every.as_secs_f64();
        let wait = sqlx::query_scalar!(
            r#"INSERT INTO pacing AS p (key, tat) VALUES ($1, clock_timestamp() + make_interval(secs => $2))
               ON CONFLICT (key) DO UPDATE
               SET tat = GREATEST(p.tat, clock_timestamp()) + make_interval(secs => $2)
               RETURNING EXTRACT(EPOCH FROM (p.tat - clock_timestamp()))::float8 - $2 AS "wait!""#,
            lane.key,
            every,
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(Duration::try_from_secs_f64(wait.max(0.0))
            .unwrap_or(HOLD_MAX)
            .min(HOLD_MAX))
    }

    async fn hold(&self, key: &str, wait: Duration) -> anyhow::Result<()> {
        let secs = wait.min(HOLD_MAX).as_secs_f64();
        sqlx::query!(
            "INSERT INTO pacing AS p (key, tat) VALUES ($1, clock_timestamp() + make_interval(secs => $2))
             ON CONFLICT (key) DO UPDATE
             SET tat = GREATEST(p.tat, clock_timestamp() + make_interval(secs => $2))",
            key,
            secs,
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// Lanes idle for a day are forgotten (channels come and go); the bot-wide lanes are busy and stay.
pub async fn forget_idle(pool: &PgPool) -> sqlx::Result<u64> {
    let done = sqlx::query!("DELETE FROM pacing WHERE tat < clock_timestamp() - interval '1 day'")
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
