//! Opportunity evaluations, kept so serial offers are each measured against the spec: the version they were scored
//! against, the decision, what they turned out to be (hindsight), and the circle's second opinions.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::PgPool;

use crate::domain::bet::Bet;
use crate::domain::opportunity::{Decision, LIVED, Verdict};
use crate::store::decode;

/// A new evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub name: String,
    pub must_haves: Value,
    pub scores: Value,
    pub weighted_score: f64,
    pub verdict: Verdict,
    pub created_at: DateTime<Utc>,
    /// The spec version in force when it was scored.
    pub spec_version: Option<i32>,
    /// The reading against the spec of 14 days before, when the goalposts moved in between.
    pub earlier_reading: Option<Value>,
    pub bet: Option<Bet>,
}

/// A stored evaluation, with what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub id: i64,
    /// 1 for the member's first evaluation: how commands name it.
    pub number: i64,
    pub e: Evaluation,
    pub decision: Option<Decision>,
    pub decided_on: Option<NaiveDate>,
}

impl Stored {
    /// The score given for a criterion ("learning"), from the stored scores.
    pub fn score(&self, key: &str) -> Option<u8> {
        self.e.scores[key]
            .as_u64()
            .and_then(|v| u8::try_from(v).ok())
    }
}

/// What a taken offer turned out to be, on the first four criteria.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hindsight {
    pub evaluation_id: i64,
    pub months: u32,
    pub scores: [u8; LIVED],
    pub note: Option<String>,
    pub answered_at: DateTime<Utc>,
}

pub async fn add(pool: &PgPool, member_id: i64, e: &Evaluation) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "INSERT INTO opportunity_evaluations (member_id, name, must_haves, scores, weighted_score, verdict, created_at,
                                              spec_version, earlier_reading, bet)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         RETURNING id",
        member_id,
        e.name,
        e.must_haves,
        e.scores,
        e.weighted_score,
        e.verdict.as_str(),
        e.created_at,
        e.spec_version,
        e.earlier_reading,
        e.bet.map(Bet::as_str),
    )
    .fetch_one(pool)
    .await
}

/// Every evaluation of a member, oldest first (numbered from 1 in that order).
pub async fn of_member(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<Stored>> {
    let rows = sqlx::query!(
        r#"SELECT id, row_number() OVER (ORDER BY created_at, id) AS "number!", name, must_haves, scores,
                  weighted_score, verdict, created_at, spec_version, earlier_reading, bet, decision, decided_on
           FROM opportunity_evaluations WHERE member_id = $1 ORDER BY created_at, id"#,
        member_id,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Stored {
                id: r.id,
                number: r.number,
                e: Evaluation {
                    name: r.name,
                    must_haves: r.must_haves,
                    scores: r.scores,
                    weighted_score: r.weighted_score,
                    verdict: decode("opportunity_evaluations.verdict", &r.verdict)?,
                    created_at: r.created_at,
                    spec_version: r.spec_version,
                    earlier_reading: r.earlier_reading,
                    bet: r
                        .bet
                        .map(|b| decode("opportunity_evaluations.bet", &b))
                        .transpose()?,
                },
                decision: r
                    .decision
                    .map(|d| decode("opportunity_evaluations.decision", &d))
                    .transpose()?,
                decided_on: r.decided_on,
            })
        })
        .collect()
}

/// Records (or changes) what the member did with an offer. Returns false if it is not theirs.
pub async fn decide(
    pool: &PgPool,
    member_id: i64,
    evaluation_id: i64,
    decision: Decision,
    at: DateTime<Utc>,
    on: NaiveDate,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE opportunity_evaluations SET decision = $3, decided_at = $4, decided_on = $5
         WHERE id = $1 AND member_id = $2",
        evaluation_id,
        member_id,
        decision.as_str(),
        at,
        on,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores (or replaces) the 6- or 12-month answer of an offer.
pub async fn record_hindsight(pool: &PgPool, h: &Hindsight) -> sqlx::Result<()> {
    let [learning, impact, compensation, team] = h.scores.map(i16::from);
    sqlx::query!(
        "INSERT INTO opportunity_hindsight (evaluation_id, months, learning, impact, compensation, team, note,
                                            answered_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (evaluation_id, months) DO UPDATE
         SET learning = EXCLUDED.learning, impact = EXCLUDED.impact, compensation = EXCLUDED.compensation,
             team = EXCLUDED.team, note = EXCLUDED.note, answered_at = EXCLUDED.answered_at",
        h.evaluation_id,
        i32::try_from(h.months).unwrap_or(6),
        learning,
        impact,
        compensation,
        team,
        h.note,
        h.answered_at,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Every hindsight answer of a member's offers.
pub async fn hindsight_of_member(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<Hindsight>> {
    let rows = sqlx::query!(
        "SELECT h.evaluation_id, h.months, h.learning, h.impact, h.compensation, h.team, h.note, h.answered_at
         FROM opportunity_hindsight h JOIN opportunity_evaluations e ON e.id = h.evaluation_id
         WHERE e.member_id = $1 ORDER BY h.evaluation_id, h.months",
        member_id,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let s = |v: i16| u8::try_from(v).unwrap_or(0);
            Hindsight {
                evaluation_id: r.evaluation_id,
                months: u32::try_from(r.months).unwrap_or(6),
                scores: [s(r.learning), s(r.impact), s(r.compensation), s(r.team)],
                note: r.note,
                answered_at: r.answered_at,
            }
        })
        .collect())
}

/// A taken offer's decision date with its member and the member's zone, for the planner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenOffer {
    pub member_id: i64,
    pub decided_on: NaiveDate,
    pub zone: String,
}

/// Taken offers decided in either of two ranges of local dates (inclusive), of members who are in a circle.
pub async fn taken_in(
    db: impl sqlx::PgExecutor<'_>,
    (from_a, to_a): (NaiveDate, NaiveDate),
    (from_b, to_b): (NaiveDate, NaiveDate),
) -> sqlx::Result<Vec<TakenOffer>> {
    let rows = sqlx::query!(
        r#"SELECT e.member_id, e.decided_on AS "decided_on!", mz.zone AS "zone!"
           FROM opportunity_evaluations e JOIN member_zones mz ON mz.member_id = e.member_id
           WHERE e.decision = 'taken' AND mz.zone IS NOT NULL
             AND (e.decided_on BETWEEN $1 AND $2 OR e.decided_on BETWEEN $3 AND $4)"#,
        from_a,
        to_a,
        from_b,
        to_b,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| TakenOffer {
            member_id: r.member_id,
            decided_on: r.decided_on,
            zone: r.zone,
        })
        .collect())
}

/// Records the post that asked a circle for a second opinion.
pub async fn record_share(
    pool: &PgPool,
    evaluation_id: i64,
    circle_id: i64,
    channel_id: &str,
    message_id: &str,
    with_compensation: bool,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO opportunity_shares (evaluation_id, circle_id, channel_id, message_id, with_compensation, shared_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (evaluation_id, circle_id) DO UPDATE
         SET channel_id = EXCLUDED.channel_id, message_id = EXCLUDED.message_id,
             with_compensation = EXCLUDED.with_compensation, shared_at = EXCLUDED.shared_at",
        evaluation_id,
        circle_id,
        channel_id,
        message_id,
        with_compensation,
        at,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The shared evaluation a channel message is, with its owner and circle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub evaluation_id: i64,
    pub owner_id: i64,
    pub circle_id: i64,
}

pub async fn share_by_message(
    pool: &PgPool,
    channel_id: &str,
    message_id: &str,
) -> sqlx::Result<Option<Share>> {
    sqlx::query_as!(
        Share,
        "SELECT s.evaluation_id, e.member_id AS owner_id, s.circle_id
         FROM opportunity_shares s JOIN opportunity_evaluations e ON e.id = s.evaluation_id
         WHERE s.channel_id = $1 AND s.message_id = $2",
        channel_id,
        message_id,
    )
    .fetch_optional(pool)
    .await
}

/// Stores a reply to a shared evaluation; a message already stored is not stored twice. Returns true if new.
pub async fn add_opinion(
    pool: &PgPool,
    evaluation_id: i64,
    author_id: i64,
    channel_id: &str,
    message_id: &str,
    text: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "INSERT INTO opportunity_opinions (evaluation_id, author_id, channel_id, message_id, text, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (channel_id, message_id) DO NOTHING",
        evaluation_id,
        author_id,
        channel_id,
        message_id,
        text,
        at,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An opinion with its author's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opinion {
    pub evaluation_id: i64,
    pub author_name: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

/// The opinions on a member's evaluations (received).
pub async fn opinions_for_member(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<Opinion>> {
    sqlx::query_as!(
        Opinion,
        "SELECT o.evaluation_id, m.display_name AS author_name, o.text, o.created_at
         FROM opportunity_opinions o
         JOIN opportunity_evaluations e ON e.id = o.evaluation_id
         JOIN members m ON m.id = o.author_id
         WHERE e.member_id = $1 ORDER BY o.created_at, o.id",
        member_id,
    )
    .fetch_all(pool)
    .await
}

/// The opinions a member wrote on others' offers (their export): the offer's name and the text.
pub async fn opinions_by_member(
    pool: &PgPool,
    member_id: i64,
) -> sqlx::Result<Vec<(String, String, DateTime<Utc>)>> {
    let rows = sqlx::query!(
        "SELECT e.name, o.text, o.created_at FROM opportunity_opinions o
         JOIN opportunity_evaluations e ON e.id = o.evaluation_id
         WHERE o.author_id = $1 ORDER BY o.created_at, o.id",
        member_id,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.name, r.text, r.created_at))
        .collect())
}

/// The circles a member's evaluations were shared with: (evaluation id, circle id, with compensation).
pub async fn shares_of_member(
    pool: &PgPool,
    member_id: i64,
) -> sqlx::Result<Vec<(i64, i64, bool, DateTime<Utc>)>> {
    let rows = sqlx::query!(
        "SELECT s.evaluation_id, s.circle_id, s.with_compensation, s.shared_at FROM opportunity_shares s
         JOIN opportunity_evaluations e ON e.id = s.evaluation_id WHERE e.member_id = $1
         ORDER BY s.shared_at",
        member_id,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.evaluation_id,
                r.circle_id,
                r.with_compensation,
                r.shared_at,
            )
        })
        .collect())
}
