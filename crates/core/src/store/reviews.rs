//! Review threads: one per circle and quarter, the bot's post per member, reviewer assignments, peer feedback.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::chat::{Platform, ThreadRef};
use crate::domain::period::Period;
use crate::store::decode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewThread {
    pub id: i64,
    pub circle_id: i64,
    pub period: Period,
    /// The thread on the platform, once it was opened.
    pub thread: Option<ThreadRef>,
    pub opened_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    /// When the summary was posted: from then on replies are not feedback.
    pub closed_at: Option<DateTime<Utc>>,
    pub header_message_id: Option<String>,
    pub summary_message_id: Option<String>,
    /// When the thread itself was closed on the platform.
    pub thread_closed_at: Option<DateTime<Utc>>,
    /// What last went wrong opening or closing it on the platform (a `ReviewProblem` word), until it works.
    pub problem: Option<String>,
}

struct RawThread {
    id: i64,
    circle_id: i64,
    period: String,
    thread_channel_id: Option<String>,
    thread_root_id: Option<String>,
    opened_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    header_message_id: Option<String>,
    summary_message_id: Option<String>,
    thread_closed_at: Option<DateTime<Utc>>,
    problem: Option<String>,
}

impl TryFrom<RawThread> for ReviewThread {
    type Error = sqlx::Error;

    fn try_from(r: RawThread) -> sqlx::Result<ReviewThread> {
        Ok(ReviewThread {
            id: r.id,
            circle_id: r.circle_id,
            period: decode("review_threads.period", &r.period)?,
            thread: r.thread_channel_id.map(|channel_id| ThreadRef {
                channel_id,
                root_message_id: r.thread_root_id,
            }),
            opened_at: r.opened_at,
            closes_at: r.closes_at,
            closed_at: r.closed_at,
            header_message_id: r.header_message_id,
            summary_message_id: r.summary_message_id,
            thread_closed_at: r.thread_closed_at,
            problem: r.problem,
        })
    }
}

/// Finds or creates the circle's thread row for a quarter. UNIQUE (circle, period) makes it one row however
/// many workers or organisers race to open it; `created` tells the one that made it.
pub async fn open_row(
    pool: &PgPool,
    circle_id: i64,
    period: Period,
    opened_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
) -> sqlx::Result<(ReviewThread, bool)> {
    let row = sqlx::query!(
        r#"INSERT INTO review_threads (circle_id, period, opened_at, closes_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (circle_id, period) DO UPDATE SET circle_id = EXCLUDED.circle_id
           RETURNING id, circle_id, period, thread_channel_id, thread_root_id, opened_at, closes_at, closed_at,
                     header_message_id, summary_message_id, thread_closed_at, problem, (xmax = 0) AS "created!""#,
        circle_id,
        period.key(),
        opened_at,
        closes_at,
    )
    .fetch_one(pool)
    .await?;
    let thread = ReviewThread::try_from(RawThread {
        id: row.id,
        circle_id: row.circle_id,
        period: row.period,
        thread_channel_id: row.thread_channel_id,
        thread_root_id: row.thread_root_id,
        opened_at: row.opened_at,
        closes_at: row.closes_at,
        closed_at: row.closed_at,
        header_message_id: row.header_message_id,
        summary_message_id: row.summary_message_id,
        thread_closed_at: row.thread_closed_at,
        problem: row.problem,
    })?;
    Ok((thread, row.created))
}

pub async fn set_thread(pool: &PgPool, id: i64, thread: &ThreadRef) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE review_threads SET thread_channel_id = $2, thread_root_id = $3 WHERE id = $1",
        id,
        thread.channel_id,
        thread.root_message_id,
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn find(
    pool: &PgPool,
    circle_id: i64,
    period: Period,
) -> sqlx::Result<Option<ReviewThread>> {
    sqlx::query_as!(
        RawThread,
        "SELECT id, circle_id, period, thread_channel_id, thread_root_id, opened_at, closes_at, closed_at,
                header_message_id, summary_message_id, thread_closed_at, problem
         FROM review_threads WHERE circle_id = $1 AND period = $2",
        circle_id,
        period.key(),
    )
    .fetch_optional(pool)
    .await?
    .map(ReviewThread::try_from)
    .transpose()
}

/// The review a message in `thread` belongs to, on that platform (channel ids of two platforms may look alike).
pub async fn by_thread(
    pool: &PgPool,
    platform: Platform,
    thread: &ThreadRef,
) -> sqlx::Result<Option<ReviewThread>> {
    sqlx::query_as!(
        RawThread,
        "SELECT t.id, t.circle_id, t.period, t.thread_channel_id, t.thread_root_id, t.opened_at, t.closes_at,
                t.closed_at, t.header_message_id, t.summary_message_id, t.thread_closed_at, t.problem
         FROM review_threads t JOIN circles c ON c.id = t.circle_id JOIN servers s ON s.id = c.server_id
         WHERE s.platform = $1 AND t.thread_channel_id = $2 AND t.thread_root_id IS NOT DISTINCT FROM $3",
        platform.as_str(),
        thread.channel_id,
        thread.root_message_id,
    )
    .fetch_optional(pool)
    .await?
    .map(ReviewThread::try_from)
    .transpose()
}

/// The header is posted: a retry of the opening does not post it again.
pub async fn set_header(pool: &PgPool, id: i64, message_id: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE review_threads SET header_message_id = $2 WHERE id = $1",
        id,
        message_id
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Records what went wrong with the review on the platform (None: the step worked).
pub async fn set_problem(
    pool: &PgPool,
    id: i64,
    problem: Option<&str>,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE review_threads SET problem = $2, problem_at = CASE WHEN $2::text IS NULL THEN NULL ELSE $3::timestamptz END
         WHERE id = $1",
        id,
        problem,
        at,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// A review that never got its thread starts its window when it does open.
pub async fn reschedule(
    pool: &PgPool,
    id: i64,
    opened_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE review_threads SET opened_at = $2, closes_at = $3 WHERE id = $1 AND thread_channel_id IS NULL",
        id,
        opened_at,
        closes_at,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Every post of the bot's in any review about one of these members: (review, member, message id, thread
/// channel).
pub async fn posts_about(
    pool: &PgPool,
    member_ids: &[i64],
) -> sqlx::Result<Vec<(i64, i64, String, String)>> {
    let rows = sqlx::query!(
        r#"SELECT p.review_thread_id, p.member_id, p.message_id, t.thread_channel_id AS "channel!"
           FROM review_posts p JOIN review_threads t ON t.id = p.review_thread_id
           WHERE p.member_id = ANY($1) AND t.thread_channel_id IS NOT NULL
           ORDER BY p.review_thread_id"#,
        member_ids,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.review_thread_id, r.member_id, r.message_id, r.channel))
        .collect())
}

/// The bot's posts about these members (the export): (member, circle, quarter, channel, message).
pub async fn posts_listed(
    pool: &PgPool,
    member_ids: &[i64],
) -> sqlx::Result<Vec<(i64, String, Period, Option<String>, String)>> {
    let rows = sqlx::query!(
        "SELECT p.member_id, c.name AS circle, t.period, t.thread_channel_id, p.message_id
         FROM review_posts p JOIN review_threads t ON t.id = p.review_thread_id JOIN circles c ON c.id = t.circle_id
         WHERE p.member_id = ANY($1) ORDER BY t.period, p.review_thread_id",
        member_ids,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok((
                r.member_id,
                r.circle,
                decode("review_threads.period", &r.period)?,
                r.thread_channel_id,
                r.message_id,
            ))
        })
        .collect()
}

/// The reader pairs these members were part of (the export): (circle, quarter, reader, read).
pub async fn assignments_listed(
    pool: &PgPool,
    member_ids: &[i64],
) -> sqlx::Result<Vec<(String, Period, String, String)>> {
    let rows = sqlx::query!(
        "SELECT c.name AS circle, t.period, r.display_name AS reader, e.display_name AS read
         FROM review_assignments a JOIN review_threads t ON t.id = a.review_thread_id
         JOIN circles c ON c.id = t.circle_id
         JOIN members r ON r.id = a.reviewer_id JOIN members e ON e.id = a.reviewee_id
         WHERE a.reviewer_id = ANY($1) OR a.reviewee_id = ANY($1) ORDER BY t.period, a.review_thread_id",
        member_ids,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok((
                r.circle,
                decode("review_threads.period", &r.period)?,
                r.reader,
                r.read,
            ))
        })
        .collect()
}

/// The reviews these members took part in (a post, a reading, feedback, a shared story), for the redaction of their
/// summaries.
pub async fn threads_of(pool: &PgPool, member_ids: &[i64]) -> sqlx::Result<Vec<ReviewThread>> {
    sqlx::query_as!(
        RawThread,
        "SELECT t.id, t.circle_id, t.period, t.thread_channel_id, t.thread_root_id, t.opened_at, t.closes_at,
                t.closed_at, t.header_message_id, t.summary_message_id, t.thread_closed_at, t.problem
         FROM review_threads t
         WHERE t.id IN (SELECT review_thread_id FROM review_posts WHERE member_id = ANY($1)
                        UNION SELECT review_thread_id FROM review_assignments
                              WHERE reviewer_id = ANY($1) OR reviewee_id = ANY($1)
                        UNION SELECT review_thread_id FROM story_shares WHERE member_id = ANY($1))
         ORDER BY t.id",
        member_ids,
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(ReviewThread::try_from)
    .collect()
}

/// The summary is posted: the review is closed (later replies are not feedback), whatever becomes of closing the
/// thread on the platform.
pub async fn close(
    pool: &PgPool,
    id: i64,
    summary_message_id: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE review_threads SET closed_at = COALESCE(closed_at, $3), summary_message_id = $2 WHERE id = $1",
        id,
        summary_message_id,
        at
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The thread is closed on the platform too.
pub async fn thread_closed(pool: &PgPool, id: i64, at: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE review_threads SET thread_closed_at = $2 WHERE id = $1 AND thread_closed_at IS NULL",
        id,
        at
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn record_post(
    pool: &PgPool,
    thread_id: i64,
    member_id: i64,
    message_id: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO review_posts (review_thread_id, member_id, message_id) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
        thread_id,
        member_id,
        message_id,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// (member, message) of every post in a thread.
pub async fn posts(pool: &PgPool, thread_id: i64) -> sqlx::Result<Vec<(i64, String)>> {
    let rows = sqlx::query!(
        "SELECT member_id, message_id FROM review_posts WHERE review_thread_id = $1",
        thread_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.member_id, r.message_id))
        .collect())
}

pub async fn save_assignments(
    pool: &PgPool,
    thread_id: i64,
    pairs: &[(i64, i64)],
) -> sqlx::Result<()> {
    let reviewers: Vec<i64> = pairs.iter().map(|p| p.0).collect();
    let reviewees: Vec<i64> = pairs.iter().map(|p| p.1).collect();
    sqlx::query!(
        "INSERT INTO review_assignments (review_thread_id, reviewer_id, reviewee_id)
         SELECT $1, r, e FROM unnest($2::bigint[], $3::bigint[]) AS p(r, e)
         ON CONFLICT DO NOTHING",
        thread_id,
        &reviewers,
        &reviewees,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// (reviewer, reviewee) pairs of a thread.
pub async fn assignments(pool: &PgPool, thread_id: i64) -> sqlx::Result<Vec<(i64, i64)>> {
    let rows = sqlx::query!(
        "SELECT reviewer_id, reviewee_id FROM review_assignments WHERE review_thread_id = $1
         ORDER BY reviewee_id, reviewer_id",
        thread_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.reviewer_id, r.reviewee_id))
        .collect())
}

/// The pairs of the circle's most recent review before this one, to rotate away from.
pub async fn previous_assignments(
    pool: &PgPool,
    circle_id: i64,
    before_period: Period,
) -> sqlx::Result<Vec<(i64, i64)>> {
    let rows = sqlx::query!(
        "SELECT a.reviewer_id, a.reviewee_id FROM review_assignments a
         WHERE a.review_thread_id = (SELECT id FROM review_threads WHERE circle_id = $1 AND period < $2
                                     ORDER BY period DESC LIMIT 1)",
        circle_id,
        before_period.key(),
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.reviewer_id, r.reviewee_id))
        .collect())
}

pub async fn add_feedback(
    pool: &PgPool,
    thread_id: i64,
    author_id: i64,
    subject_id: i64,
    message_id: &str,
    text: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "INSERT INTO peer_feedback (review_thread_id, author_id, subject_id, message_id, text, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (review_thread_id, message_id) DO NOTHING",
        thread_id,
        author_id,
        subject_id,
        message_id,
        text,
        at,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    pub author_id: i64,
    pub author_name: String,
    pub subject_id: i64,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

pub async fn feedback_in(pool: &PgPool, thread_id: i64) -> sqlx::Result<Vec<Feedback>> {
    sqlx::query_as!(
        Feedback,
        "SELECT f.author_id, m.display_name AS author_name, f.subject_id, f.text, f.created_at
         FROM peer_feedback f JOIN members m ON m.id = f.author_id
         WHERE f.review_thread_id = $1 ORDER BY f.created_at, f.id",
        thread_id,
    )
    .fetch_all(pool)
    .await
}

/// Feedback a member wrote or received, with the review's quarter (export): (quarter, author, subject, text).
pub async fn feedback_of_member(
    pool: &PgPool,
    member_id: i64,
) -> sqlx::Result<Vec<(Period, String, String, String)>> {
    let rows = sqlx::query!(
        r#"SELECT t.period, a.display_name AS author, s.display_name AS subject, f.text
           FROM peer_feedback f
           JOIN review_threads t ON t.id = f.review_thread_id
           JOIN members a ON a.id = f.author_id
           JOIN members s ON s.id = f.subject_id
           WHERE f.author_id = $1 OR f.subject_id = $1 ORDER BY f.created_at, f.id"#,
        member_id,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok((
                decode("review_threads.period", &r.period)?,
                r.author,
                r.subject,
                r.text,
            ))
        })
        .collect()
}
