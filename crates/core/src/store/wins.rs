//! Wins: the running record of accomplishments members draw on at review time.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Win {
    pub id: i64,
    pub text: String,
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn add(
    pool: &PgPool,
    member_id: i64,
    text: &str,
    link: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<Win> {
    sqlx::query_as!(
        Win,
        "INSERT INTO wins (member_id, text, link, created_at) VALUES ($1, $2, $3, $4)
         RETURNING id, text, link, created_at",
        member_id,
        text,
        link,
        now,
    )
    .fetch_one(pool)
    .await
}

/// Wins in [from, to), oldest first.
pub async fn between(
    pool: &PgPool,
    member_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<Vec<Win>> {
    sqlx::query_as!(
        Win,
        "SELECT id, text, link, created_at FROM wins
         WHERE member_id = $1 AND created_at >= $2 AND created_at < $3 ORDER BY created_at, id",
        member_id,
        from,
        to,
    )
    .fetch_all(pool)
    .await
}

pub async fn all(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<Win>> {
    sqlx::query_as!(
        Win,
        "SELECT id, text, link, created_at FROM wins WHERE member_id = $1 ORDER BY created_at, id",
        member_id,
    )
    .fetch_all(pool)
    .await
}
