//! Quarterly check-ins; every edit keeps the earlier text as a revision.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;

use crate::domain::checkin::Answers;
use crate::domain::period::Period;
use crate::store::decode;

#[derive(Debug, Clone, PartialEq)]
pub struct CheckinRow {
    pub id: i64,
    pub member_id: i64,
    pub circle_id: i64,
    pub period: Period,
    pub answers: Answers,
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

struct RawCheckin {
    id: i64,
    member_id: i64,
    circle_id: i64,
    period: String,
    answers: Value,
    submitted_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<RawCheckin> for CheckinRow {
    type Error = sqlx::Error;

    fn try_from(r: RawCheckin) -> sqlx::Result<CheckinRow> {
        Ok(CheckinRow {
            id: r.id,
            member_id: r.member_id,
            circle_id: r.circle_id,
            period: decode("checkins.period", &r.period)?,
            answers: Answers::from_json(&r.answers),
            submitted_at: r.submitted_at,
            updated_at: r.updated_at,
        })
    }
}

/// Stores the check-in, moving any earlier answers into the history first. Returns true for a first answer.
pub async fn record(
    pool: &PgPool,
    member_id: i64,
    circle_id: i64,
    period: Period,
    answers: &Answers,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let period = period.key();
    let answers = answers.to_json();
    let mut tx = pool.begin().await?;
    let earlier = sqlx::query!(
        "SELECT id, answers, updated_at FROM checkins WHERE member_id = $1 AND circle_id = $2 AND period = $3
         FOR UPDATE",
        member_id,
        circle_id,
        period,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let first = match earlier {
        Some(row) => {
            sqlx::query!(
                "INSERT INTO checkin_revisions (checkin_id, answers, written_at) VALUES ($1, $2, $3)",
                row.id,
                row.answers,
                row.updated_at,
            )
            .execute(&mut *tx)
            .await?;
            sqlx::query!(
                "UPDATE checkins SET answers = $2, updated_at = $3 WHERE id = $1",
                row.id,
                &answers,
                now
            )
            .execute(&mut *tx)
            .await?;
            false
        }
        None => {
            // ON CONFLICT covers two first answers racing (button and DM at once): the later one becomes an edit.
            sqlx::query!(
                "INSERT INTO checkins (member_id, circle_id, period, answers, submitted_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $5)
                 ON CONFLICT (member_id, circle_id, period) DO UPDATE SET answers = EXCLUDED.answers,
                     updated_at = EXCLUDED.updated_at",
                member_id,
                circle_id,
                period,
                &answers,
                now,
            )
            .execute(&mut *tx)
            .await?;
            true
        }
    };
    tx.commit().await?;
    Ok(first)
}

pub async fn find(
    pool: &PgPool,
    member_id: i64,
    circle_id: i64,
    period: Period,
) -> sqlx::Result<Option<CheckinRow>> {
    sqlx::query_as!(
        RawCheckin,
        "SELECT id, member_id, circle_id, period, answers, submitted_at, updated_at FROM checkins
         WHERE member_id = $1 AND circle_id = $2 AND period = $3",
        member_id,
        circle_id,
        period.key(),
    )
    .fetch_optional(pool)
    .await?
    .map(CheckinRow::try_from)
    .transpose()
}

pub async fn revisions(
    pool: &PgPool,
    checkin_id: i64,
) -> sqlx::Result<Vec<(Answers, DateTime<Utc>)>> {
    let rows = sqlx::query!(
        "SELECT answers, written_at FROM checkin_revisions WHERE checkin_id = $1 ORDER BY written_at, id",
        checkin_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (Answers::from_json(&r.answers), r.written_at))
        .collect())
}

pub async fn of_member(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<CheckinRow>> {
    let rows = sqlx::query_as!(
        RawCheckin,
        "SELECT id, member_id, circle_id, period, answers, submitted_at, updated_at FROM checkins
         WHERE member_id = $1 ORDER BY period DESC",
        member_id,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(CheckinRow::try_from).collect()
}
