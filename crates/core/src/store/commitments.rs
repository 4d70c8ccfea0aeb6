//! Commitments and the periods marked done or skipped.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commitment {
    pub id: i64,
    pub member_id: i64,
    pub title: String,
    pub cadence: String,
    pub started_on: NaiveDate,
    pub dropped_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkedPeriod {
    pub commitment_id: i64,
    pub period: String,
    pub status: String,
    pub done_at: DateTime<Utc>,
    pub link: Option<String>,
    pub note: Option<String>,
}

pub async fn add(
    pool: &PgPool,
    member_id: i64,
    title: &str,
    cadence: &str,
    started_on: NaiveDate,
    now: DateTime<Utc>,
) -> sqlx::Result<Commitment> {
    sqlx::query_as!(
        Commitment,
        "INSERT INTO commitments (member_id, title, cadence, started_on, created_at) VALUES ($1, $2, $3, $4, $5)
         RETURNING id, member_id, title, cadence, started_on, dropped_at",
        member_id,
        title,
        cadence,
        started_on,
        now,
    )
    .fetch_one(pool)
    .await
}

pub async fn open_of_member(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<Commitment>> {
    sqlx::query_as!(
        Commitment,
        "SELECT id, member_id, title, cadence, started_on, dropped_at FROM commitments
         WHERE member_id = $1 AND dropped_at IS NULL ORDER BY id",
        member_id,
    )
    .fetch_all(pool)
    .await
}

pub async fn by_id(
    pool: &PgPool,
    member_id: i64,
    commitment_id: i64,
) -> sqlx::Result<Option<Commitment>> {
    sqlx::query_as!(
        Commitment,
        "SELECT id, member_id, title, cadence, started_on, dropped_at FROM commitments
         WHERE id = $1 AND member_id = $2",
        commitment_id,
        member_id,
    )
    .fetch_optional(pool)
    .await
}

pub async fn drop_commitment(
    pool: &PgPool,
    member_id: i64,
    commitment_id: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE commitments SET dropped_at = $3 WHERE id = $1 AND member_id = $2 AND dropped_at IS NULL",
        commitment_id,
        member_id,
        now,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks one period of a commitment done (or skipped); a second mark in the same period updates the first.
pub async fn mark_period(
    pool: &PgPool,
    commitment_id: i64,
    period: &str,
    status: &str,
    now: DateTime<Utc>,
    link: Option<&str>,
    note: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO commitment_periods (commitment_id, period, status, done_at, link, note)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (commitment_id, period) DO UPDATE
         SET status = EXCLUDED.status, done_at = EXCLUDED.done_at,
             link = COALESCE(EXCLUDED.link, commitment_periods.link),
             note = COALESCE(EXCLUDED.note, commitment_periods.note)",
        commitment_id,
        period,
        status,
        now,
        link,
        note,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Every marked period of a member's commitments.
pub async fn periods_of_member(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<MarkedPeriod>> {
    sqlx::query_as!(
        MarkedPeriod,
        "SELECT cp.commitment_id, cp.period, cp.status, cp.done_at, cp.link, cp.note
         FROM commitment_periods cp JOIN commitments c ON c.id = cp.commitment_id
         WHERE c.member_id = $1 ORDER BY cp.commitment_id, cp.period",
        member_id,
    )
    .fetch_all(pool)
    .await
}

/// Every commitment of a member, dropped ones too (export).
pub async fn all_of_member(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<Commitment>> {
    sqlx::query_as!(
        Commitment,
        "SELECT id, member_id, title, cadence, started_on, dropped_at FROM commitments WHERE member_id = $1 ORDER BY id",
        member_id,
    )
    .fetch_all(pool)
    .await
}
