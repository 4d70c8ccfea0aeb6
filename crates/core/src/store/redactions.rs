//! Edits of the bot's own posts that quoted a member who deleted their data. The new words are worked out before
//! the member's rows go and kept here (naming no member); the worker applies them through the `ChatPort`.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction};

use crate::chat::{Attachment, Platform, Posted, Text};
use crate::store::circles::decode_platform;

/// One edit to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redaction {
    pub server_id: i64,
    pub message: Posted,
    pub text: Text,
    pub attachments: Vec<Attachment>,
}

/// A claimed edit, with the platform that sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedRedaction {
    pub id: i64,
    pub platform: Platform,
    pub message: Posted,
    pub text: Text,
    pub attachments: Vec<Attachment>,
    pub attempts: i32,
}

pub async fn add(
    tx: &mut Transaction<'_, Postgres>,
    r: &Redaction,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let text = serde_json::to_value(&r.text).map_err(|e| sqlx::Error::Encode(e.into()))?;
    sqlx::query!(
        "INSERT INTO redactions (server_id, channel_id, message_id, text, attachment_names, attachments,
                                 next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        r.server_id,
        r.message.channel_id,
        r.message.message_id,
        text,
        &r.attachments.iter().map(|a| a.filename.clone()).collect::<Vec<_>>(),
        &r.attachments.iter().map(|a| a.bytes.clone()).collect::<Vec<_>>(),
        now,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Claims up to `limit` due edits, like the outbox's claim: skipped, never waited for, when another holds them.
pub async fn claim(
    pool: &PgPool,
    worker: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<ClaimedRedaction>> {
    let rows = sqlx::query!(
        r#"UPDATE redactions r SET claimed_by = $1, claimed_until = $3
           FROM servers s
           WHERE s.id = r.server_id AND r.id IN (
               SELECT id FROM redactions
               WHERE status = 'pending' AND next_attempt_at <= $2
                 AND (claimed_until IS NULL OR claimed_until < $2)
               ORDER BY next_attempt_at LIMIT $4
               FOR UPDATE SKIP LOCKED)
           RETURNING r.id, s.platform, r.channel_id, r.message_id, r.text, r.attachment_names, r.attachments,
                     r.attempts"#,
        worker,
        now,
        lease_until,
        limit,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            let text: Text =
                serde_json::from_value(r.text).map_err(|e| sqlx::Error::ColumnDecode {
                    index: "redactions.text".to_owned(),
                    source: e.into(),
                })?;
            Ok(ClaimedRedaction {
                id: r.id,
                platform: decode_platform(&r.platform)?,
                message: Posted {
                    channel_id: r.channel_id,
                    message_id: r.message_id,
                },
                text,
                attachments: r
                    .attachment_names
                    .into_iter()
                    .zip(r.attachments)
                    .map(|(filename, bytes)| Attachment { filename, bytes })
                    .collect(),
                attempts: r.attempts,
            })
        })
        .collect()
}

/// Records how an edit went: done, failed for good (the message is gone), or another try at `retry_at`.
pub async fn finish(
    pool: &PgPool,
    id: i64,
    worker: &str,
    outcome: Result<DateTime<Utc>, (&str, Option<DateTime<Utc>>)>,
) -> sqlx::Result<()> {
    let (status, done_at, error, next) = match outcome {
        Ok(at) => ("done", Some(at), None, None),
        Err((error, Some(retry_at))) => ("pending", None, Some(error), Some(retry_at)),
        Err((error, None)) => ("failed", None, Some(error), None),
    };
    sqlx::query!(
        "UPDATE redactions
         SET status = $3, done_at = $4, last_error = $5, attempts = attempts + 1,
             next_attempt_at = COALESCE($6, next_attempt_at), claimed_by = NULL, claimed_until = NULL
         WHERE id = $1 AND claimed_by = $2 AND status = 'pending'",
        id,
        worker,
        status,
        done_at,
        error,
        next,
    )
    .execute(pool)
    .await?;
    Ok(())
}
