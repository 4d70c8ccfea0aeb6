//! The outbox: claiming, and recording what became of each delivery. Rows are never deleted on failure.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::chat::Platform;
use crate::domain::delivery::{DeliveryKind, DeliveryStatus};
use crate::domain::period::Period;
use crate::store::circles::decode_platform;
use crate::store::decode;

/// Where a delivery's row is: its id and the period it is partitioned by. Every statement that finds one row
/// names both, so PostgreSQL looks in that row's partition alone rather than probing each year's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowKey {
    pub id: i64,
    /// The stored period text, as the partition bounds read it (also for a row whose period no longer parses).
    period: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub id: i64,
    pub row: RowKey,
    pub kind: DeliveryKind,
    pub circle_id: i64,
    /// The platform of the circle's server: which adapter sends it.
    pub platform: Platform,
    pub member_id: Option<i64>,
    pub period: Period,
    pub due_at: DateTime<Utc>,
    pub attempts: i32,
    /// When an earlier try began whose outcome was never recorded (a timeout, a crash): look before resending.
    pub sending_since: Option<DateTime<Utc>>,
}

struct ClaimedRow {
    id: i64,
    kind: String,
    circle_id: i64,
    platform: String,
    member_id: Option<i64>,
    period: String,
    due_at: DateTime<Utc>,
    attempts: i32,
    sending_since: Option<DateTime<Utc>>,
}

impl TryFrom<ClaimedRow> for Claimed {
    type Error = sqlx::Error;

    fn try_from(r: ClaimedRow) -> sqlx::Result<Claimed> {
        Ok(Claimed {
            id: r.id,
            row: RowKey {
                id: r.id,
                period: r.period.clone(),
            },
            kind: decode("deliveries.kind", &r.kind)?,
            circle_id: r.circle_id,
            platform: decode_platform(&r.platform)?,
            member_id: r.member_id,
            period: decode("deliveries.period", &r.period)?,
            due_at: r.due_at,
            attempts: r.attempts,
            sending_since: r.sending_since,
        })
    }
}

/// Claims up to `limit` due deliveries for `worker` until `lease_until`. Rows another worker holds are skipped,
/// not waited for; a claim whose lease ran out (its worker died) is free to take.
pub async fn claim(
    pool: &PgPool,
    worker: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<Result<Claimed, Unreadable>>> {
    let rows = sqlx::query_as!(
        ClaimedRow,
        r#"UPDATE deliveries d
           SET claimed_by = $1, claimed_until = $3
           FROM circles c JOIN servers s ON s.id = c.server_id
           WHERE c.id = d.circle_id AND (d.id, d.period) IN (
               SELECT id, period FROM deliveries
               WHERE status = 'pending' AND next_attempt_at <= $2
                 AND (claimed_until IS NULL OR claimed_until < $2)
               ORDER BY next_attempt_at
               LIMIT $4
               FOR UPDATE SKIP LOCKED)
           RETURNING d.id, d.kind, d.circle_id, s.platform, d.member_id, d.period, d.due_at, d.attempts,
                     d.sending_since"#,
        worker,
        now,
        lease_until,
        limit,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let row = RowKey {
                id: r.id,
                period: r.period.clone(),
            };
            Claimed::try_from(r).map_err(|e| Unreadable {
                id: row.id,
                row,
                reason: e.to_string(),
            })
        })
        .collect())
}

/// A claimed row that does not read as a delivery (a word this version does not know): the worker records it failed
/// with the reason, so one bad row never blocks the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub id: i64,
    pub row: RowKey,
    pub reason: String,
}

/// Notes that a try is about to go out, unless an earlier one is already noted (its outcome is still unknown and
/// the earliest instant is where to look for it).
pub async fn mark_sending(
    pool: &PgPool,
    row: &RowKey,
    worker: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE deliveries SET sending_since = COALESCE(sending_since, $3)
         WHERE id = $1 AND claimed_by = $2 AND status = 'pending' AND period = $4",
        row.id,
        worker,
        now,
        row.period,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Records a send. Guarded by the claim so a worker whose lease ran out cannot overwrite another's record.
pub async fn mark_sent(
    pool: &PgPool,
    row: &RowKey,
    worker: &str,
    now: DateTime<Utc>,
    channel_id: &str,
    message_id: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE deliveries
         SET status = 'sent', sent_at = $3, channel_id = $4, message_id = $5, attempts = attempts + 1,
             last_error = NULL, claimed_by = NULL, claimed_until = NULL, sending_since = NULL
         WHERE id = $1 AND claimed_by = $2 AND status = 'pending' AND period = $6",
        row.id,
        worker,
        now,
        channel_id,
        message_id,
        row.period,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a failed attempt and when to try again; `counts` is false for rate limits and a broken bot, which are
/// not the delivery's fault and must not use up its attempts. `known` is true when the platform answered (so the
/// try certainly did not arrive); after a timeout the outcome stays unknown and the next try looks first.
pub async fn mark_retry(
    pool: &PgPool,
    row: &RowKey,
    worker: &str,
    error: &str,
    next_attempt_at: DateTime<Utc>,
    counts: bool,
    known: bool,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE deliveries
         SET attempts = attempts + CASE WHEN $5 THEN 1 ELSE 0 END, last_error = $3, next_attempt_at = $4,
             claimed_by = NULL, claimed_until = NULL,
             sending_since = CASE WHEN $6 THEN NULL ELSE sending_since END
         WHERE id = $1 AND claimed_by = $2 AND status = 'pending' AND period = $7",
        row.id,
        worker,
        error,
        next_attempt_at,
        counts,
        known,
        row.period,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Ends a delivery without sending it: `failed` (permanent error or out of attempts) or `skipped` (no longer
/// owed, e.g. the month was marked done before the reminder went out).
pub async fn mark_final(
    pool: &PgPool,
    row: &RowKey,
    worker: &str,
    status: DeliveryStatus,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE deliveries
         SET status = $3,
             attempts = attempts + CASE WHEN $3 = 'failed' THEN 1 ELSE 0 END,
             last_error = CASE WHEN $3 = 'failed' THEN $4 ELSE last_error END,
             skip_reason = CASE WHEN $3 = 'skipped' THEN $4 ELSE skip_reason END,
             claimed_by = NULL, claimed_until = NULL, sending_since = NULL
         WHERE id = $1 AND claimed_by = $2 AND status = 'pending' AND period = $5",
        row.id,
        worker,
        status.as_str(),
        reason,
        row.period,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Gives claims back at shutdown so another instance need not wait for the lease to run out.
pub async fn release(pool: &PgPool, rows: &[RowKey], worker: &str) -> sqlx::Result<()> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let periods: Vec<String> = rows.iter().map(|r| r.period.clone()).collect();
    sqlx::query!(
        "UPDATE deliveries SET claimed_by = NULL, claimed_until = NULL
         WHERE (id, period) IN (SELECT * FROM unnest($1::bigint[], $3::text[]))
           AND claimed_by = $2 AND status = 'pending'",
        &ids,
        worker,
        &periods,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Queues the organisers' notice about a member who cannot be reached; the natural key makes it once per
/// member per quarter however many deliveries to them fail.
pub async fn queue_organiser_alert(
    pool: &PgPool,
    circle_id: i64,
    member_id: i64,
    quarter: Period,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "INSERT INTO deliveries (kind, circle_id, member_id, period, due_at, next_attempt_at, created_at)
         VALUES ('organiser_alert', $1, $2, $3, $4, $4, $4)
         ON CONFLICT ON CONSTRAINT deliveries_natural_key DO NOTHING",
        circle_id,
        member_id,
        quarter.key(),
        now,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Queues a message to one member about a circle (a handover notice), once per member, circle and period: the
/// natural key keeps it single however many times the cause repeats.
pub async fn queue_notice(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    kind: DeliveryKind,
    circle_id: i64,
    member_id: Option<i64>,
    period: Period,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "INSERT INTO deliveries (kind, circle_id, member_id, period, due_at, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $5, $5)
         ON CONFLICT ON CONSTRAINT deliveries_natural_key DO NOTHING",
        kind.as_str(),
        circle_id,
        member_id,
        period.key(),
        now,
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A circle-wide delivery's state (a review's opening or close): its status and last error.
pub async fn circle_step(
    pool: &PgPool,
    kind: DeliveryKind,
    circle_id: i64,
    period: Period,
) -> sqlx::Result<Option<(DeliveryStatus, Option<String>)>> {
    let row = sqlx::query!(
        "SELECT status, last_error FROM deliveries
         WHERE kind = $1 AND circle_id = $2 AND member_id IS NULL AND period = $3",
        kind.as_str(),
        circle_id,
        period.key(),
    )
    .fetch_optional(pool)
    .await?;
    row.map(|r| Ok((decode("deliveries.status", &r.status)?, r.last_error)))
        .transpose()
}

/// Gives a failed circle-wide delivery another go now (the organiser fixed the cause). The row stays the one of
/// its natural key, so a retry can never become a second delivery. False when there was nothing failed to retry.
pub async fn retry_failed_step(
    pool: &PgPool,
    kind: DeliveryKind,
    circle_id: i64,
    period: Period,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE deliveries
         SET status = 'pending', attempts = 0, next_attempt_at = $4, claimed_by = NULL, claimed_until = NULL
         WHERE kind = $1 AND circle_id = $2 AND member_id IS NULL AND period = $3 AND status = 'failed'",
        kind.as_str(),
        circle_id,
        period.key(),
        now,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The last error of the delivery that made an organiser alert, for its text.
pub async fn last_failure_for(
    pool: &PgPool,
    circle_id: i64,
    member_id: i64,
) -> sqlx::Result<Option<String>> {
    let row = sqlx::query_scalar!(
        "SELECT last_error FROM deliveries
         WHERE circle_id = $1 AND member_id = $2 AND status = 'failed' AND kind <> 'organiser_alert'
         ORDER BY id DESC LIMIT 1",
        circle_id,
        member_id,
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.flatten())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    pub id: i64,
    pub kind: DeliveryKind,
    pub member_id: Option<i64>,
    pub period: Period,
    pub due_at: DateTime<Utc>,
    pub status: DeliveryStatus,
    pub skip_reason: Option<String>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub channel_id: Option<String>,
    pub message_id: Option<String>,
}

/// All deliveries of a circle, oldest first (simulate, tests, operators' questions).
pub async fn for_circle(pool: &PgPool, circle_id: i64) -> sqlx::Result<Vec<DeliveryRow>> {
    let rows = sqlx::query!(
        "SELECT id, kind, member_id, period, due_at, status, skip_reason, attempts, last_error, sent_at, channel_id,
                message_id
         FROM deliveries WHERE circle_id = $1 ORDER BY due_at, id",
        circle_id,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(DeliveryRow {
                id: r.id,
                kind: decode("deliveries.kind", &r.kind)?,
                member_id: r.member_id,
                period: decode("deliveries.period", &r.period)?,
                due_at: r.due_at,
                status: decode("deliveries.status", &r.status)?,
                skip_reason: r.skip_reason,
                attempts: r.attempts,
                last_error: r.last_error,
                sent_at: r.sent_at,
                channel_id: r.channel_id,
                message_id: r.message_id,
            })
        })
        .collect()
}

/// A prompt or notice sent (or meant) for a member, as their export lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDelivery {
    pub member_id: i64,
    pub kind: String,
    pub period: String,
    pub status: String,
    pub due_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Every delivery for these members (the export).
pub async fn of_members(pool: &PgPool, member_ids: &[i64]) -> sqlx::Result<Vec<MemberDelivery>> {
    sqlx::query_as!(
        MemberDelivery,
        r#"SELECT member_id AS "member_id!", kind, period, status, due_at, sent_at FROM deliveries
           WHERE member_id = ANY($1) ORDER BY due_at, id"#,
        member_ids
    )
    .fetch_all(pool)
    .await
}

/// Pending deliveries overdue by the oldest amount: the worker's claim lag, for /metrics.
pub async fn oldest_pending_due(
    pool: &PgPool,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar!(
        r#"SELECT min(next_attempt_at) AS "oldest" FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $1"#,
        now
    )
    .fetch_one(pool)
    .await
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentPrompt {
    pub member_id: i64,
    pub circle_id: i64,
    pub period: Period,
    pub message_id: Option<String>,
    pub due_at: DateTime<Utc>,
}

/// Prompts of these kinds sent to any of these members since `since`, newest first: what a DM reply may answer.
pub async fn sent_prompts(
    pool: &PgPool,
    member_ids: &[i64],
    kinds: &[DeliveryKind],
    since: DateTime<Utc>,
) -> sqlx::Result<Vec<SentPrompt>> {
    let kinds: Vec<String> = kinds.iter().map(|k| k.as_str().to_owned()).collect();
    let rows = sqlx::query!(
        r#"SELECT member_id AS "member_id!", circle_id, period, message_id, due_at FROM deliveries
           WHERE member_id = ANY($1) AND kind = ANY($2) AND status = 'sent' AND due_at >= $3
           ORDER BY due_at DESC, id DESC"#,
        member_ids,
        &kinds,
        since,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(SentPrompt {
                member_id: r.member_id,
                circle_id: r.circle_id,
                period: decode("deliveries.period", &r.period)?,
                message_id: r.message_id,
                due_at: r.due_at,
            })
        })
        .collect()
}

/// The earliest pending delivery due after `after` (the demo's clock jumps to it).
pub async fn next_pending_after(
    pool: &PgPool,
    after: DateTime<Utc>,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar!(
        r#"SELECT min(next_attempt_at) AS "next" FROM deliveries WHERE status = 'pending' AND next_attempt_at > $1"#,
        after
    )
    .fetch_one(pool)
    .await
}

/// Pending deliveries (due, or waiting for their next attempt) by kind, for /metrics.
pub async fn pending_by_kind(pool: &PgPool) -> sqlx::Result<Vec<(String, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT kind, count(*) AS "count!" FROM deliveries WHERE status = 'pending' GROUP BY kind"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.kind, r.count)).collect())
}

/// Deliveries that failed for good since `since`, counted by their last error, for /metrics. A failed row keeps
/// no time of failure: its last attempt was due at `next_attempt_at` (or, for a row planned late, when it was
/// made), which is when it failed give or take the worker's claim lag.
pub async fn failed_since(
    pool: &PgPool,
    since: DateTime<Utc>,
) -> sqlx::Result<Vec<(Option<String>, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT last_error, count(*) AS "count!" FROM deliveries
           WHERE status = 'failed' AND GREATEST(next_attempt_at, created_at) >= $1
           GROUP BY last_error"#,
        since
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.last_error, r.count)).collect())
}
