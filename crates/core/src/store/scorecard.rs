//! The scorecard: a member's typed metrics, their value each quarter, and each milestone's status at check-ins.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::period::Period;
use crate::domain::scorecard::{Horizon, MetricKind, MilestoneStatus, ValueType};
use crate::store::decode;

#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub id: i64,
    pub member_id: i64,
    pub name: String,
    pub value_type: ValueType,
    pub kind: MetricKind,
    pub target: Option<f64>,
    pub private: bool,
    pub created_at: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
}

struct MetricRow {
    id: i64,
    member_id: i64,
    name: String,
    value_type: String,
    kind: String,
    target: Option<f64>,
    private: bool,
    created_at: DateTime<Utc>,
    removed_at: Option<DateTime<Utc>>,
}

impl TryFrom<MetricRow> for Metric {
    type Error = sqlx::Error;

    fn try_from(r: MetricRow) -> sqlx::Result<Metric> {
        Ok(Metric {
            id: r.id,
            member_id: r.member_id,
            name: r.name,
            value_type: decode("spec_metrics.value_type", &r.value_type)?,
            kind: decode("spec_metrics.kind", &r.kind)?,
            target: r.target,
            private: r.private,
            created_at: r.created_at,
            removed_at: r.removed_at,
        })
    }
}

/// A new metric; None if the member already has an active one of that name (in any case).
#[allow(clippy::too_many_arguments)]
pub async fn add_metric(
    pool: &PgPool,
    member_id: i64,
    name: &str,
    value_type: ValueType,
    kind: MetricKind,
    target: Option<f64>,
    private: bool,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Metric>> {
    sqlx::query_as!(
        MetricRow,
        "INSERT INTO spec_metrics (member_id, name, value_type, kind, target, private, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (member_id, lower(name)) WHERE removed_at IS NULL DO NOTHING
         RETURNING id, member_id, name, value_type, kind, target, private, created_at, removed_at",
        member_id,
        name,
        value_type.as_str(),
        kind.as_str(),
        target,
        private,
        now,
    )
    .fetch_optional(pool)
    .await?
    .map(Metric::try_from)
    .transpose()
}

/// Retires a metric by name; its history stays. Returns the metric retired.
pub async fn remove_metric(
    pool: &PgPool,
    member_id: i64,
    name: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Metric>> {
    sqlx::query_as!(
        MetricRow,
        "UPDATE spec_metrics SET removed_at = $3
         WHERE member_id = $1 AND lower(name) = lower($2) AND removed_at IS NULL
         RETURNING id, member_id, name, value_type, kind, target, private, created_at, removed_at",
        member_id,
        name,
        now,
    )
    .fetch_optional(pool)
    .await?
    .map(Metric::try_from)
    .transpose()
}

/// The member's metrics in the order they were added; removed ones too when `with_removed`.
pub async fn metrics_of(
    pool: &PgPool,
    member_id: i64,
    with_removed: bool,
) -> sqlx::Result<Vec<Metric>> {
    let rows = sqlx::query_as!(
        MetricRow,
        "SELECT id, member_id, name, value_type, kind, target, private, created_at, removed_at FROM spec_metrics
         WHERE member_id = $1 AND ($2 OR removed_at IS NULL) ORDER BY created_at, id",
        member_id,
        with_removed,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Metric::try_from).collect()
}

/// Sets a metric's value for a quarter (a second answer replaces the first).
pub async fn set_value(
    pool: &PgPool,
    metric_id: i64,
    quarter: Period,
    value: f64,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO metric_values (metric_id, period, value, recorded_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (metric_id, period) DO UPDATE SET value = EXCLUDED.value, recorded_at = EXCLUDED.recorded_at",
        metric_id,
        quarter.key(),
        value,
        now,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// One stored value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Value {
    pub metric_id: i64,
    pub quarter: Period,
    pub value: f64,
}

/// Every value of a member's metrics, removed ones included, by metric and quarter.
pub async fn values_of(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<Value>> {
    let rows = sqlx::query!(
        "SELECT v.metric_id, v.period, v.value FROM metric_values v JOIN spec_metrics m ON m.id = v.metric_id
         WHERE m.member_id = $1 ORDER BY v.metric_id, v.period",
        member_id,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Value {
                metric_id: r.metric_id,
                quarter: decode("metric_values.period", &r.period)?,
                value: r.value,
            })
        })
        .collect()
}

/// A milestone's status at one check-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MilestoneCheck {
    pub horizon: Horizon,
    pub quarter: Period,
    pub status: MilestoneStatus,
    pub milestone: String,
    pub recorded_at: DateTime<Utc>,
}

pub async fn set_milestone(
    pool: &PgPool,
    member_id: i64,
    horizon: Horizon,
    quarter: Period,
    status: MilestoneStatus,
    milestone: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO milestone_checks (member_id, horizon, period, status, milestone, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (member_id, horizon, period) DO UPDATE
         SET status = EXCLUDED.status, milestone = EXCLUDED.milestone, recorded_at = EXCLUDED.recorded_at",
        member_id,
        horizon.as_str(),
        quarter.key(),
        status.as_str(),
        milestone,
        now,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Every milestone check of a member, oldest quarter first.
pub async fn milestones_of(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<MilestoneCheck>> {
    let rows = sqlx::query!(
        "SELECT horizon, period, status, milestone, recorded_at FROM milestone_checks WHERE member_id = $1
         ORDER BY period, horizon",
        member_id,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(MilestoneCheck {
                horizon: decode("milestone_checks.horizon", &r.horizon)?,
                quarter: decode("milestone_checks.period", &r.period)?,
                status: decode("milestone_checks.status", &r.status)?,
                milestone: r.milestone,
                recorded_at: r.recorded_at,
            })
        })
        .collect()
}
