//! Feedback a member received, from review threads and in private, and what they decided about each piece; the
//! circle's anonymous-feedback setting; stories shared into a review thread.
//!
//! An anonymous author is read here as nobody: the queries that show feedback to its subject never select the
//! author's name or id of an anonymous piece, so no caller can leak what it never had.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::narrative::{Decision, FeedbackRef};
use crate::domain::period::Period;
use crate::store::decode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub decision: Decision,
    pub until: Option<Period>,
    pub reason: Option<String>,
    /// The spec part it is tagged to: vision, milestones, skills, metrics, tradeoffs.
    pub part: Option<String>,
    pub contradicts: Option<FeedbackRef>,
    pub marked_at: DateTime<Utc>,
}

/// One piece of feedback as its subject may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub r: FeedbackRef,
    pub circle_id: i64,
    /// None for an anonymous piece.
    pub author: Option<String>,
    /// The review's quarter, for feedback written in a review thread.
    pub quarter: Option<Period>,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub mark: Option<Mark>,
    /// A reader's reply to this earlier piece, which they say pulls the other way.
    pub answers: Option<FeedbackRef>,
}

/// Every piece of feedback a member received, oldest first (the numbers `/review feedback` shows), with marks.
pub async fn received(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<Piece>> {
    let thread = sqlx::query!(
        "SELECT f.id, t.circle_id, a.display_name AS author, t.period, f.text, f.created_at, f.answers_id
         FROM peer_feedback f JOIN members a ON a.id = f.author_id
         JOIN review_threads t ON t.id = f.review_thread_id
         WHERE f.subject_id = $1",
        member_id,
    )
    .fetch_all(pool)
    .await?;
    let private = sqlx::query!(
        r#"SELECT p.id, p.circle_id, (CASE WHEN p.anonymous THEN NULL ELSE a.display_name END) AS "author?", p.text,
                  p.created_at
           FROM private_feedback p JOIN members a ON a.id = p.author_id
           WHERE p.subject_id = $1"#,
        member_id,
    )
    .fetch_all(pool)
    .await?;
    let marks = marks_of(pool, member_id).await?;
    let mark = |r: FeedbackRef| marks.iter().find(|(m, _)| *m == r).map(|(_, m)| m.clone());
    let mut all = Vec::new();
    for f in thread {
        let r = FeedbackRef::Thread(f.id);
        all.push(Piece {
            r,
            circle_id: f.circle_id,
            author: Some(f.author),
            quarter: Some(decode("review_threads.period", &f.period)?),
            text: f.text,
            created_at: f.created_at,
            mark: mark(r),
            answers: f.answers_id.map(FeedbackRef::Thread),
        });
    }
    for p in private {
        let r = FeedbackRef::Private(p.id);
        all.push(Piece {
            r,
            circle_id: p.circle_id,
            author: p.author,
            quarter: None,
            text: p.text,
            created_at: p.created_at,
            mark: mark(r),
            answers: None,
        });
    }
    all.sort_by_key(|p| {
        (
            p.created_at,
            match p.r {
                FeedbackRef::Thread(id) => (0, id),
                FeedbackRef::Private(id) => (1, id),
            },
        )
    });
    Ok(all)
}

fn split(r: Option<FeedbackRef>) -> (Option<i64>, Option<i64>) {
    match r {
        Some(FeedbackRef::Thread(id)) => (Some(id), None),
        Some(FeedbackRef::Private(id)) => (None, Some(id)),
        None => (None, None),
    }
}

fn join(thread: Option<i64>, private: Option<i64>) -> Option<FeedbackRef> {
    thread
        .map(FeedbackRef::Thread)
        .or(private.map(FeedbackRef::Private))
}

async fn marks_of(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<(FeedbackRef, Mark)>> {
    let rows = sqlx::query!(
        "SELECT peer_feedback_id, private_feedback_id, decision, until_period, reason, part, contradicts_peer,
                contradicts_private, marked_at
         FROM feedback_marks WHERE member_id = $1",
        member_id,
    )
    .fetch_all(pool)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let Some(of) = join(r.peer_feedback_id, r.private_feedback_id) else {
            continue;
        };
        out.push((
            of,
            Mark {
                decision: decode("feedback_marks.decision", &r.decision)?,
                until: r
                    .until_period
                    .as_deref()
                    .map(|p| decode("feedback_marks.until_period", p))
                    .transpose()?,
                reason: r.reason,
                part: r.part,
                contradicts: join(r.contradicts_peer, r.contradicts_private),
                marked_at: r.marked_at,
            },
        ));
    }
    Ok(out)
}

/// Records the member's decision about a piece they received (a second mark replaces the first).
pub async fn mark(pool: &PgPool, member_id: i64, of: FeedbackRef, m: &Mark) -> sqlx::Result<()> {
    let (peer, private) = split(Some(of));
    let (c_peer, c_private) = split(m.contradicts);
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "DELETE FROM feedback_marks WHERE member_id = $1
           AND (peer_feedback_id = $2 OR private_feedback_id = $3)",
        member_id,
        peer,
        private,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO feedback_marks (member_id, peer_feedback_id, private_feedback_id, decision, until_period,
             reason, part, contradicts_peer, contradicts_private, marked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        member_id,
        peer,
        private,
        m.decision.as_str(),
        m.until.map(|p| p.key()),
        m.reason.as_deref(),
        m.part.as_deref(),
        c_peer,
        c_private,
        m.marked_at,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Stores feedback sent in private. Returns its id.
pub async fn add_private(
    pool: &PgPool,
    author_id: i64,
    subject_id: i64,
    circle_id: i64,
    anonymous: bool,
    text: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "INSERT INTO private_feedback (author_id, subject_id, circle_id, anonymous, text, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        author_id,
        subject_id,
        circle_id,
        anonymous,
        text,
        now,
    )
    .fetch_one(pool)
    .await
}

/// Private feedback a member wrote (their own export): (to whom, anonymous, text, when).
pub async fn written_by(
    pool: &PgPool,
    author_id: i64,
) -> sqlx::Result<Vec<(String, bool, String, DateTime<Utc>)>> {
    let rows = sqlx::query!(
        "SELECT s.display_name AS subject, p.anonymous, p.text, p.created_at
         FROM private_feedback p JOIN members s ON s.id = p.subject_id
         WHERE p.author_id = $1 ORDER BY p.created_at, p.id",
        author_id,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.subject, r.anonymous, r.text, r.created_at))
        .collect())
}

/// Whether the circle lets readers send feedback without their name.
pub async fn anonymous_allowed(pool: &PgPool, circle_id: i64) -> sqlx::Result<bool> {
    Ok(sqlx::query_scalar!(
        "SELECT anonymous_feedback FROM circles WHERE id = $1",
        circle_id
    )
    .fetch_optional(pool)
    .await?
    .unwrap_or(false))
}

pub async fn set_anonymous(pool: &PgPool, circle_id: i64, allowed: bool) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE circles SET anonymous_feedback = $2 WHERE id = $1",
        circle_id,
        allowed
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Records a story posted into a review thread; replies to it are feedback for its author.
pub async fn record_story_share(
    pool: &PgPool,
    thread_id: i64,
    member_id: i64,
    period: Period,
    message_id: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO story_shares (review_thread_id, member_id, period, message_id, shared_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (review_thread_id, member_id, period) DO UPDATE SET message_id = EXCLUDED.message_id,
             shared_at = EXCLUDED.shared_at",
        thread_id,
        member_id,
        period.key(),
        message_id,
        now,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The author of the story a message in this review thread is, if it is one.
pub async fn story_author(
    pool: &PgPool,
    thread_id: i64,
    message_id: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        "SELECT member_id FROM story_shares WHERE review_thread_id = $1 AND message_id = $2",
        thread_id,
        message_id,
    )
    .fetch_optional(pool)
    .await
}

/// The messages of stories these members shared into a review thread (to redact them when the members leave).
pub async fn stories_in(
    pool: &PgPool,
    thread_id: i64,
    member_ids: &[i64],
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        "SELECT message_id FROM story_shares WHERE review_thread_id = $1 AND member_id = ANY($2)
         ORDER BY shared_at",
        thread_id,
        member_ids,
    )
    .fetch_all(pool)
    .await
}

/// The stories a member shared into review threads: (circle name, review quarter, story period, when), for
/// their export.
pub async fn stories_shared_by(
    pool: &PgPool,
    member_id: i64,
) -> sqlx::Result<Vec<(String, String, String, DateTime<Utc>)>> {
    let rows = sqlx::query!(
        "SELECT c.name, t.period AS quarter, s.period, s.shared_at
         FROM story_shares s JOIN review_threads t ON t.id = s.review_thread_id JOIN circles c ON c.id = t.circle_id
         WHERE s.member_id = $1 ORDER BY s.shared_at",
        member_id,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.name, r.quarter, r.period, r.shared_at))
        .collect())
}

/// The piece of feedback a message in a review thread is: (its id, the member it is for).
pub async fn by_message(
    pool: &PgPool,
    thread_id: i64,
    message_id: &str,
) -> sqlx::Result<Option<(i64, i64)>> {
    Ok(sqlx::query!(
        "SELECT id, subject_id FROM peer_feedback WHERE review_thread_id = $1 AND message_id = $2",
        thread_id,
        message_id,
    )
    .fetch_optional(pool)
    .await?
    .map(|r| (r.id, r.subject_id)))
}

/// Says that a piece of feedback answers (pulls against) an earlier one, as its reader wrote it.
pub async fn set_answers(
    pool: &PgPool,
    thread_id: i64,
    message_id: &str,
    answers: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE peer_feedback SET answers_id = $3 WHERE review_thread_id = $1 AND message_id = $2",
        thread_id,
        message_id,
        answers,
    )
    .execute(pool)
    .await?;
    Ok(())
}
