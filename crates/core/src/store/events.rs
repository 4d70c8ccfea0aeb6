//! Check-ins after major events, landing plans in a new role and their outcomes, and the spec part a win serves.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

use crate::domain::narrative::{EventKind, Serves};
use crate::store::decode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventCheckin {
    pub id: i64,
    pub kind: EventKind,
    pub happened: String,
    pub learned: Option<String>,
    pub spec_change: Option<String>,
    pub happened_on: NaiveDate,
    pub created_at: DateTime<Utc>,
}

pub struct NewEvent<'a> {
    pub kind: EventKind,
    pub happened: &'a str,
    pub learned: Option<&'a str>,
    pub spec_change: Option<&'a str>,
    pub happened_on: NaiveDate,
}

pub async fn add_event(
    pool: &PgPool,
    member_id: i64,
    e: &NewEvent<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "INSERT INTO event_checkins (member_id, kind, happened, learned, spec_change, happened_on, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        member_id,
        e.kind.as_str(),
        e.happened,
        e.learned,
        e.spec_change,
        e.happened_on,
        now,
    )
    .fetch_one(pool)
    .await
}

/// A member's event check-ins, newest first.
pub async fn events_of(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<EventCheckin>> {
    let rows = sqlx::query!(
        "SELECT id, kind, happened, learned, spec_change, happened_on, created_at FROM event_checkins
         WHERE member_id = $1 ORDER BY created_at DESC, id DESC",
        member_id,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(EventCheckin {
                id: r.id,
                kind: decode("event_checkins.kind", &r.kind)?,
                happened: r.happened,
                learned: r.learned,
                spec_change: r.spec_change,
                happened_on: r.happened_on,
                created_at: r.created_at,
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandingPlan {
    pub id: i64,
    pub member_id: i64,
    pub started_on: NaiveDate,
    /// (day, outcome, answered at) of the phases answered so far.
    pub outcomes: Vec<(u32, String, DateTime<Utc>)>,
}

/// Starts a plan on `started_on`; the same start twice is one plan. Returns the plan's id.
pub async fn start_plan(
    pool: &PgPool,
    member_id: i64,
    started_on: NaiveDate,
    now: DateTime<Utc>,
) -> sqlx::Result<(i64, bool)> {
    let made = sqlx::query_scalar!(
        "INSERT INTO landing_plans (member_id, started_on, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (member_id, started_on) DO NOTHING RETURNING id",
        member_id,
        started_on,
        now,
    )
    .fetch_optional(pool)
    .await?;
    if let Some(id) = made {
        return Ok((id, true));
    }
    let id = sqlx::query_scalar!(
        "SELECT id FROM landing_plans WHERE member_id = $1 AND started_on = $2",
        member_id,
        started_on,
    )
    .fetch_one(pool)
    .await?;
    Ok((id, false))
}

/// A member's plans with their outcomes, newest first.
pub async fn plans_of(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<LandingPlan>> {
    let plans = sqlx::query!(
        "SELECT id, member_id, started_on FROM landing_plans WHERE member_id = $1 ORDER BY started_on DESC, id DESC",
        member_id,
    )
    .fetch_all(pool)
    .await?;
    let outcomes = sqlx::query!(
        "SELECT o.plan_id, o.day, o.outcome, o.answered_at FROM landing_outcomes o
         JOIN landing_plans p ON p.id = o.plan_id WHERE p.member_id = $1 ORDER BY o.day",
        member_id,
    )
    .fetch_all(pool)
    .await?;
    Ok(plans
        .into_iter()
        .map(|p| LandingPlan {
            id: p.id,
            member_id: p.member_id,
            started_on: p.started_on,
            outcomes: outcomes
                .iter()
                .filter(|o| o.plan_id == p.id)
                .map(|o| {
                    (
                        u32::try_from(o.day).unwrap_or(0),
                        o.outcome.clone(),
                        o.answered_at,
                    )
                })
                .collect(),
        })
        .collect())
}

/// The plan with this id, if it is the member's.
pub async fn plan_of_member(
    pool: &PgPool,
    member_id: i64,
    plan_id: i64,
) -> sqlx::Result<Option<LandingPlan>> {
    Ok(plans_of(pool, member_id)
        .await?
        .into_iter()
        .find(|p| p.id == plan_id))
}

/// Records (or rewrites) a phase's outcome.
pub async fn record_outcome(
    pool: &PgPool,
    plan_id: i64,
    day: u32,
    outcome: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO landing_outcomes (plan_id, day, outcome, answered_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (plan_id, day) DO UPDATE SET outcome = EXCLUDED.outcome, answered_at = EXCLUDED.answered_at",
        plan_id,
        i32::try_from(day).unwrap_or(0),
        outcome,
        now,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// A plan the planner asks about: who, from when, in which zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanDue {
    pub member_id: i64,
    pub started_on: NaiveDate,
    pub zone: String,
}

/// Plans started in [from, to] of members with a zone.
pub async fn plans_started_in(
    db: impl sqlx::PgExecutor<'_>,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<PlanDue>> {
    let rows = sqlx::query!(
        r#"SELECT p.member_id, p.started_on, mz.zone AS "zone!"
           FROM landing_plans p JOIN member_zones mz ON mz.member_id = p.member_id
           WHERE mz.zone IS NOT NULL AND p.started_on BETWEEN $1 AND $2"#,
        from,
        to,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| PlanDue {
            member_id: r.member_id,
            started_on: r.started_on,
            zone: r.zone,
        })
        .collect())
}

/// Links a win of the member's to a milestone or skill (or unlinks it). False: no such win of theirs.
pub async fn link_win(
    pool: &PgPool,
    member_id: i64,
    win_id: i64,
    serves: Option<(Serves, &str)>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE wins SET serves_kind = $3, serves = $4 WHERE id = $1 AND member_id = $2",
        win_id,
        member_id,
        serves.map(|(k, _)| k.as_str()),
        serves.map(|(_, t)| t),
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// (win id, what it serves) of a member's linked wins.
pub async fn win_links(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<(i64, Serves, String)>> {
    let rows = sqlx::query!(
        r#"SELECT id, serves_kind AS "serves_kind!", serves AS "serves!" FROM wins
           WHERE member_id = $1 AND serves IS NOT NULL ORDER BY created_at, id"#,
        member_id,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| Ok((r.id, decode("wins.serves_kind", &r.serves_kind)?, r.serves)))
        .collect()
}
