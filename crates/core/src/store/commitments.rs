//! Commitments and the periods marked done or skipped.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

use crate::domain::bet::Bet;
use crate::domain::commitment::{MarkStatus, Marks};
use crate::domain::period::{Cadence, Period};
use crate::store::decode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commitment {
    pub id: i64,
    pub member_id: i64,
    pub title: String,
    pub cadence: Cadence,
    pub started_on: NaiveDate,
    pub dropped_at: Option<DateTime<Utc>>,
    pub bet: Option<Bet>,
    /// A killed big swing's post-mortem.
    pub postmortem: Option<String>,
}

impl Commitment {
    /// The period the commitment began in, on its own cadence.
    pub fn first_period(&self) -> Period {
        Period::of(self.cadence, self.started_on)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkedPeriod {
    pub commitment_id: i64,
    pub period: Period,
    pub status: MarkStatus,
    pub done_at: DateTime<Utc>,
    pub link: Option<String>,
    pub note: Option<String>,
}

/// The marks of one commitment among a member's marks.
pub fn marks_of(all: &[MarkedPeriod], commitment_id: i64) -> Marks {
    Marks::new(
        all.iter()
            .filter(|m| m.commitment_id == commitment_id)
            .map(|m| (m.period, m.status)),
    )
}

struct CommitmentRow {
    id: i64,
    member_id: i64,
    title: String,
    cadence: String,
    started_on: NaiveDate,
    dropped_at: Option<DateTime<Utc>>,
    bet: Option<String>,
    postmortem: Option<String>,
}

impl TryFrom<CommitmentRow> for Commitment {
    type Error = sqlx::Error;

    fn try_from(r: CommitmentRow) -> sqlx::Result<Commitment> {
        Ok(Commitment {
            id: r.id,
            member_id: r.member_id,
            title: r.title,
            cadence: decode("commitments.cadence", &r.cadence)?,
            started_on: r.started_on,
            dropped_at: r.dropped_at,
            bet: r.bet.map(|b| decode("commitments.bet", &b)).transpose()?,
            postmortem: r.postmortem,
        })
    }
}

fn all(rows: Vec<CommitmentRow>) -> sqlx::Result<Vec<Commitment>> {
    rows.into_iter().map(Commitment::try_from).collect()
}

#[allow(clippy::too_many_arguments)]
pub async fn add(
    pool: &PgPool,
    member_id: i64,
    title: &str,
    cadence: Cadence,
    started_on: NaiveDate,
    now: DateTime<Utc>,
    bet: Option<Bet>,
) -> sqlx::Result<Commitment> {
    sqlx::query_as!(
        CommitmentRow,
        "INSERT INTO commitments (member_id, title, cadence, started_on, created_at, bet)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, member_id, title, cadence, started_on, dropped_at, bet, postmortem",
        member_id,
        title,
        cadence.as_str(),
        started_on,
        now,
        bet.map(Bet::as_str),
    )
    .fetch_one(pool)
    .await?
    .try_into()
}

pub async fn open_of_member(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<Commitment>> {
    let rows = sqlx::query_as!(
        CommitmentRow,
        "SELECT id, member_id, title, cadence, started_on, dropped_at, bet, postmortem FROM commitments
         WHERE member_id = $1 AND dropped_at IS NULL ORDER BY id",
        member_id,
    )
    .fetch_all(pool)
    .await?;
    all(rows)
}

pub async fn by_id(
    pool: &PgPool,
    member_id: i64,
    commitment_id: i64,
) -> sqlx::Result<Option<Commitment>> {
    sqlx::query_as!(
        CommitmentRow,
        "SELECT id, member_id, title, cadence, started_on, dropped_at, bet, postmortem FROM commitments
         WHERE id = $1 AND member_id = $2",
        commitment_id,
        member_id,
    )
    .fetch_optional(pool)
    .await?
    .map(Commitment::try_from)
    .transpose()
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

/// Closes a big swing with its post-mortem and marks its last period killed (which counts as kept), in one
/// transaction. Returns false if it was not an open big swing of the member.
pub async fn kill(
    pool: &PgPool,
    member_id: i64,
    commitment_id: i64,
    period: Period,
    postmortem: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let closed = sqlx::query!(
        "UPDATE commitments SET dropped_at = $3, postmortem = $4
         WHERE id = $1 AND member_id = $2 AND dropped_at IS NULL AND bet = 'big_swing'",
        commitment_id,
        member_id,
        now,
        postmortem,
    )
    .execute(&mut *tx)
    .await?;
    if closed.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query!(
        "INSERT INTO commitment_periods (commitment_id, period, status, done_at, note)
         VALUES ($1, $2, 'killed', $3, $4)
         ON CONFLICT (commitment_id, period) DO UPDATE SET status = 'killed', done_at = EXCLUDED.done_at,
             note = EXCLUDED.note",
        commitment_id,
        period.key(),
        now,
        postmortem,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Marks one period of a commitment done (or skipped); a second mark in the same period updates the first.
pub async fn mark_period(
    pool: &PgPool,
    commitment_id: i64,
    period: Period,
    status: MarkStatus,
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
        period.key(),
        status.as_str(),
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
    let rows = sqlx::query!(
        "SELECT cp.commitment_id, cp.period, cp.status, cp.done_at, cp.link, cp.note
         FROM commitment_periods cp JOIN commitments c ON c.id = cp.commitment_id
         WHERE c.member_id = $1 ORDER BY cp.commitment_id, cp.period",
        member_id,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(MarkedPeriod {
                commitment_id: r.commitment_id,
                period: decode("commitment_periods.period", &r.period)?,
                status: decode("commitment_periods.status", &r.status)?,
                done_at: r.done_at,
                link: r.link,
                note: r.note,
            })
        })
        .collect()
}

/// Every commitment of a member, dropped ones too (export).
pub async fn all_of_member(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<Commitment>> {
    let rows = sqlx::query_as!(
        CommitmentRow,
        "SELECT id, member_id, title, cadence, started_on, dropped_at, bet, postmortem FROM commitments WHERE member_id = $1 ORDER BY id",
        member_id,
    )
    .fetch_all(pool)
    .await?;
    all(rows)
}
