//! Opportunity evaluations, kept so serial offers are each measured against the spec.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;

#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub name: String,
    pub must_haves: Value,
    pub scores: Value,
    pub weighted_score: f64,
    pub verdict: String,
    pub created_at: DateTime<Utc>,
}

pub async fn add(pool: &PgPool, member_id: i64, e: &Evaluation) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO opportunity_evaluations (member_id, name, must_haves, scores, weighted_score, verdict, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        member_id,
        e.name,
        e.must_haves,
        e.scores,
        e.weighted_score,
        e.verdict,
        e.created_at,
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn of_member(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<Evaluation>> {
    sqlx::query_as!(
        Evaluation,
        "SELECT name, must_haves, scores, weighted_score, verdict, created_at FROM opportunity_evaluations
         WHERE member_id = $1 ORDER BY created_at, id",
        member_id,
    )
    .fetch_all(pool)
    .await
}
