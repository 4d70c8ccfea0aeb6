//! Career spec versions: each save is a new row.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpecRow {
    pub version: i32,
    pub vision: String,
    pub milestones_1y: String,
    pub milestones_3y: String,
    pub milestones_5y: String,
    pub skills: String,
    pub metrics: String,
    pub tradeoffs: String,
    pub phase: String,
    pub phase_since: DateTime<Utc>,
    pub visibility: String,
    pub created_at: DateTime<Utc>,
}

pub async fn current(pool: &PgPool, member_id: i64) -> sqlx::Result<Option<SpecRow>> {
    sqlx::query_as!(
        SpecRow,
        "SELECT version, vision, milestones_1y, milestones_3y, milestones_5y, skills, metrics, tradeoffs, phase,
                phase_since, visibility, created_at
         FROM spec_versions WHERE member_id = $1 ORDER BY version DESC LIMIT 1",
        member_id,
    )
    .fetch_optional(pool)
    .await
}

pub async fn history(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<SpecRow>> {
    sqlx::query_as!(
        SpecRow,
        "SELECT version, vision, milestones_1y, milestones_3y, milestones_5y, skills, metrics, tradeoffs, phase,
                phase_since, visibility, created_at
         FROM spec_versions WHERE member_id = $1 ORDER BY version",
        member_id,
    )
    .fetch_all(pool)
    .await
}

/// Saves the next version. Saves of one member are serialised on the member's row, so two at once (the form
/// submitted twice, a phase change racing an edit) make two versions instead of colliding on the number.
pub async fn save(
    pool: &PgPool,
    member_id: i64,
    spec: &SpecRow,
    now: DateTime<Utc>,
) -> sqlx::Result<i32> {
    let mut tx = pool.begin().await?;
    sqlx::query!("SELECT id FROM members WHERE id = $1 FOR UPDATE", member_id)
        .fetch_optional(&mut *tx)
        .await?;
    let version = sqlx::query_scalar!(
        "INSERT INTO spec_versions (member_id, version, vision, milestones_1y, milestones_3y, milestones_5y, skills,
                                    metrics, tradeoffs, phase, phase_since, visibility, created_at)
         SELECT $1, COALESCE(max(version), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12
         FROM spec_versions WHERE member_id = $1
         RETURNING version",
        member_id,
        spec.vision,
        spec.milestones_1y,
        spec.milestones_3y,
        spec.milestones_5y,
        spec.skills,
        spec.metrics,
        spec.tradeoffs,
        spec.phase,
        spec.phase_since,
        spec.visibility,
        now,
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(version)
}
