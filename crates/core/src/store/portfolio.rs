//! A member's bets across commitments, wins and taken offers, and how long they have been around.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::bet::{Item, Source};
use crate::store::decode;

/// Every tagged commitment, win and taken offer of a member.
pub async fn bets_of(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<Item>> {
    let rows = sqlx::query!(
        r#"SELECT 'commitment' AS "source!", bet AS "bet!", created_at AS "from!", dropped_at AS "until"
           FROM commitments WHERE member_id = $1 AND bet IS NOT NULL
           UNION ALL
           SELECT 'win', bet, created_at, NULL FROM wins WHERE member_id = $1 AND bet IS NOT NULL
           UNION ALL
           SELECT 'offer', bet, decided_at, NULL FROM opportunity_evaluations
           WHERE member_id = $1 AND bet IS NOT NULL AND decision = 'taken' AND decided_at IS NOT NULL"#,
        member_id,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Item {
                bet: decode("bet", &r.bet)?,
                source: match r.source.as_str() {
                    "commitment" => Source::Commitment,
                    "win" => Source::Win,
                    _ => Source::Offer,
                },
                from: r.from,
                until: r.until,
            })
        })
        .collect()
}

/// When the member first used the bot on this server.
pub async fn member_since(pool: &PgPool, member_id: i64) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar!("SELECT created_at FROM members WHERE id = $1", member_id)
        .fetch_optional(pool)
        .await
}
