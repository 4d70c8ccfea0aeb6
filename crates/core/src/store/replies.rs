//! DMs waiting for the member to say where they belong (which circle; append, replace or leave). The text waits
//! here because a button id cannot carry it.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::period::Period;
use crate::store::decode;

/// What a waiting DM would be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// Words for a check-in.
    Checkin,
    /// "done <link>" for the monthly commitment.
    Done,
}

impl ReplyKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Checkin => "checkin",
            Self::Done => "done",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingReply {
    pub id: i64,
    /// The member record it was filed under (any of the writer's).
    pub member_id: i64,
    pub kind: ReplyKind,
    pub text: String,
    /// The check-in it is about, once known.
    pub target: Option<(i64, Period)>,
    pub created_at: DateTime<Utc>,
}

struct Raw {
    id: i64,
    member_id: i64,
    kind: String,
    text: String,
    circle_id: Option<i64>,
    period: Option<String>,
    created_at: DateTime<Utc>,
}

impl TryFrom<Raw> for PendingReply {
    type Error = sqlx::Error;

    fn try_from(r: Raw) -> sqlx::Result<PendingReply> {
        let kind = match r.kind.as_str() {
            "checkin" => ReplyKind::Checkin,
            "done" => ReplyKind::Done,
            other => {
                return Err(sqlx::Error::ColumnDecode {
                    index: "pending_replies.kind".to_owned(),
                    source: format!("\"{other}\" is not a reply kind").into(),
                });
            }
        };
        let target = match (r.circle_id, r.period) {
            (Some(c), Some(p)) => Some((c, decode("pending_replies.period", &p)?)),
            _ => None,
        };
        Ok(PendingReply {
            id: r.id,
            member_id: r.member_id,
            kind,
            text: r.text,
            target,
            created_at: r.created_at,
        })
    }
}

/// How long a question about a DM stays answerable; older ones are cleared when a new one is asked.
pub const KEPT_FOR: chrono::Duration = chrono::Duration::days(30);

/// Keeps a DM until the member chooses; returns its id for the buttons.
pub async fn add(
    pool: &PgPool,
    member_id: i64,
    kind: ReplyKind,
    text: &str,
    target: Option<(i64, Period)>,
    now: DateTime<Utc>,
) -> sqlx::Result<i64> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "DELETE FROM pending_replies WHERE member_id = $1 AND created_at < $2",
        member_id,
        now - KEPT_FOR,
    )
    .execute(&mut *tx)
    .await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO pending_replies (member_id, kind, text, circle_id, period, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        member_id,
        kind.as_str(),
        text,
        target.map(|(c, _)| c),
        target.map(|(_, p)| p.key()),
        now,
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn find(pool: &PgPool, id: i64) -> sqlx::Result<Option<PendingReply>> {
    sqlx::query_as!(
        Raw,
        "SELECT id, member_id, kind, text, circle_id, period, created_at FROM pending_replies WHERE id = $1",
        id
    )
    .fetch_optional(pool)
    .await?
    .map(PendingReply::try_from)
    .transpose()
}

/// Sets the check-in a waiting DM is about (the member chose the circle, and the check-in has an answer already).
pub async fn set_target(
    pool: &PgPool,
    id: i64,
    circle_id: i64,
    period: Period,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE pending_replies SET circle_id = $2, period = $3 WHERE id = $1",
        id,
        circle_id,
        period.key(),
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Removes a waiting DM once used; false when it was already gone (a second press of the same button).
pub async fn take(pool: &PgPool, id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query!("DELETE FROM pending_replies WHERE id = $1", id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Every waiting DM of these member records (the export).
pub async fn of_members(pool: &PgPool, member_ids: &[i64]) -> sqlx::Result<Vec<PendingReply>> {
    sqlx::query_as!(
        Raw,
        "SELECT id, member_id, kind, text, circle_id, period, created_at FROM pending_replies
         WHERE member_id = ANY($1) ORDER BY id",
        member_ids
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(PendingReply::try_from)
    .collect()
}
