//! Opportunity evaluations, kept so serial offers are each measured against the spec.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;

use crate::domain::opportunity::Verdict;
use crate::store::decode;

#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub name: String,
    pub must_haves: Value,
    pub scores: Value,
    pub weighted_score: f64,
    pub verdict: Verdict,
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
        e.verdict.as_str(),
        e.created_at,
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn of_member(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<Evaluation>> {
    let rows = sqlx::query!(
        "SELECT name, must_haves, scores, weighted_score, verdict, created_at FROM opportunity_evaluations
         WHERE member_id = $1 ORDER BY created_at, id",
        member_id,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Evaluation {
                name: r.name,
                must_haves: r.must_haves,
                scores: r.scores,
                weighted_score: r.weighted_score,
                verdict: decode("opportunity_evaluations.verdict", &r.verdict)?,
                created_at: r.created_at,
            })
        })
        .collect()
}
