//! Wins: the running record of accomplishments members draw on at review time.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::bet::Bet;
use crate::domain::narrative::Serves;
use crate::store::decode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Win {
    pub id: i64,
    pub text: String,
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    pub bet: Option<Bet>,
    /// The milestone or skill it serves, in the spec's words when it was linked.
    pub serves: Option<(Serves, String)>,
}

struct WinRow {
    id: i64,
    text: String,
    link: Option<String>,
    created_at: DateTime<Utc>,
    bet: Option<String>,
    serves_kind: Option<String>,
    serves: Option<String>,
}

impl TryFrom<WinRow> for Win {
    type Error = sqlx::Error;

    fn try_from(r: WinRow) -> sqlx::Result<Win> {
        Ok(Win {
            id: r.id,
            text: r.text,
            link: r.link,
            created_at: r.created_at,
            bet: r.bet.map(|b| decode("wins.bet", &b)).transpose()?,
            serves: match (r.serves_kind, r.serves) {
                (Some(k), Some(t)) => Some((decode("wins.serves_kind", &k)?, t)),
                _ => None,
            },
        })
    }
}

fn all_rows(rows: Vec<WinRow>) -> sqlx::Result<Vec<Win>> {
    rows.into_iter().map(Win::try_from).collect()
}

pub async fn add(
    pool: &PgPool,
    member_id: i64,
    text: &str,
    link: Option<&str>,
    now: DateTime<Utc>,
    bet: Option<Bet>,
    serves: Option<(Serves, &str)>,
) -> sqlx::Result<Win> {
    sqlx::query_as!(
        WinRow,
        "INSERT INTO wins (member_id, text, link, created_at, bet, serves_kind, serves)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING id, text, link, created_at, bet, serves_kind, serves",
        member_id,
        text,
        link,
        now,
        bet.map(Bet::as_str),
        serves.map(|(k, _)| k.as_str()),
        serves.map(|(_, t)| t),
    )
    .fetch_one(pool)
    .await?
    .try_into()
}

/// Wins in [from, to), oldest first.
pub async fn between(
    pool: &PgPool,
    member_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<Vec<Win>> {
    all_rows(
        sqlx::query_as!(
            WinRow,
            "SELECT id, text, link, created_at, bet, serves_kind, serves FROM wins
             WHERE member_id = $1 AND created_at >= $2 AND created_at < $3 ORDER BY created_at, id",
            member_id,
            from,
            to,
        )
        .fetch_all(pool)
        .await?,
    )
}

pub async fn all(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<Win>> {
    all_rows(
        sqlx::query_as!(
            WinRow,
            "SELECT id, text, link, created_at, bet, serves_kind, serves FROM wins WHERE member_id = $1 ORDER BY created_at, id",
            member_id,
        )
        .fetch_all(pool)
        .await?,
    )
}
