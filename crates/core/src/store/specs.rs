//! Career spec versions: each save is a new row.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::spec::{Phase, SpecText, Visibility};
use crate::store::decode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecRow {
    pub version: i32,
    pub text: SpecText,
    pub phase: Phase,
    pub phase_since: DateTime<Utc>,
    pub visibility: Visibility,
    /// The member says they are established in their role (the deep dive then asks about big swings).
    pub established: bool,
    pub created_at: DateTime<Utc>,
}

impl SpecRow {
    /// A first spec: empty, private, in a learning phase since `now`.
    pub fn empty(now: DateTime<Utc>) -> Self {
        Self {
            version: 0,
            text: SpecText::default(),
            phase: Phase::Learning,
            phase_since: now,
            visibility: Visibility::Private,
            established: false,
            created_at: now,
        }
    }
}

struct RawSpec {
    version: i32,
    vision: String,
    milestones_1y: String,
    milestones_3y: String,
    milestones_5y: String,
    skills: String,
    metrics: String,
    tradeoffs: String,
    phase: String,
    phase_since: DateTime<Utc>,
    visibility: String,
    established: bool,
    created_at: DateTime<Utc>,
}

impl TryFrom<RawSpec> for SpecRow {
    type Error = sqlx::Error;

    fn try_from(r: RawSpec) -> sqlx::Result<SpecRow> {
        Ok(SpecRow {
            version: r.version,
            text: SpecText {
                vision: r.vision,
                milestones_1y: r.milestones_1y,
                milestones_3y: r.milestones_3y,
                milestones_5y: r.milestones_5y,
                skills: r.skills,
                metrics: r.metrics,
                tradeoffs: r.tradeoffs,
            },
            phase: decode("spec_versions.phase", &r.phase)?,
            phase_since: r.phase_since,
            visibility: decode("spec_versions.visibility", &r.visibility)?,
            established: r.established,
            created_at: r.created_at,
        })
    }
}

pub async fn current(pool: &PgPool, member_id: i64) -> sqlx::Result<Option<SpecRow>> {
    sqlx::query_as!(
        RawSpec,
        "SELECT version, vision, milestones_1y, milestones_3y, milestones_5y, skills, metrics, tradeoffs, phase,
                phase_since, visibility, established, created_at
         FROM spec_versions WHERE member_id = $1 ORDER BY version DESC LIMIT 1",
        member_id,
    )
    .fetch_optional(pool)
    .await?
    .map(SpecRow::try_from)
    .transpose()
}

pub async fn history(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<SpecRow>> {
    let rows = sqlx::query_as!(
        RawSpec,
        "SELECT version, vision, milestones_1y, milestones_3y, milestones_5y, skills, metrics, tradeoffs, phase,
                phase_since, visibility, established, created_at
         FROM spec_versions WHERE member_id = $1 ORDER BY version",
        member_id,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(SpecRow::try_from).collect()
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
                                    metrics, tradeoffs, phase, phase_since, visibility, established, created_at)
         SELECT $1, COALESCE(max(version), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $13, $12
         FROM spec_versions WHERE member_id = $1
         RETURNING version",
        member_id,
        spec.text.vision,
        spec.text.milestones_1y,
        spec.text.milestones_3y,
        spec.text.milestones_5y,
        spec.text.skills,
        spec.text.metrics,
        spec.text.tradeoffs,
        spec.phase.as_str(),
        spec.phase_since,
        spec.visibility.as_str(),
        now,
        spec.established,
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(version)
}
