//! The circle's quarterly review thread: opened when the check-in window closes, a post per member, one peer
//! reviewer each in rotation, a midway nudge to reviewers still owing, and a summary with a heatmap at the end.
//!
//! Every step is safe to repeat: the thread row is UNIQUE per circle and quarter, posts carry keys derived from the
//! thread and member, and each member's post is recorded once, so a worker that dies half-way and a second one
//! that takes over produce one thread with one post each. A review is closed once its summary is posted, whatever
//! becomes of closing the thread on the platform.

pub mod load;
pub mod rotation;
pub mod words;

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::chat::fit::{clip, split};
use crate::chat::{
    Attachment, Capabilities, ChatError, ChatMessage, ChatPort, Destination, Posted, Text,
};
use crate::domain::delivery::DeliveryKind;
use crate::domain::period::Period;
use crate::domain::recurrence::shift_local;
use crate::domain::review::ReviewProblem;
use crate::schedule::heatmap;
use crate::store::circles::{self, Circle};
use crate::store::deliveries::Claimed;
use crate::store::reviews::{self, ReviewThread};
use crate::store::{checkins, planner as sql};

pub use rotation::rotation;

/// What a review step did.
#[derive(Debug)]
pub enum Step {
    Posted(Posted),
    Skip(String),
}

#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Chat(#[from] ChatError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StepError {
    fn from(e: sqlx::Error) -> Self {
        Self::Other(e.into())
    }
}

pub async fn run(
    pool: &PgPool,
    chat: &dyn ChatPort,
    d: &Claimed,
    now: DateTime<Utc>,
) -> Result<Step, StepError> {
    let circle = circles::circle_by_id(pool, d.circle_id)
        .await?
        .context("the review's circle is gone")?;
    if circle.bot_removed {
        return Ok(Step::Skip(
            "the bot was removed from the circle's server".to_owned(),
        ));
    }
    match d.kind {
        DeliveryKind::ReviewOpen => open(pool, chat, &circle, d.period, now).await,
        DeliveryKind::ReviewMidway => midway(pool, chat, &circle, d.period).await,
        DeliveryKind::ReviewClose => close(pool, chat, &circle, d.period, now).await,
        other => Err(StepError::Other(anyhow::anyhow!(
            "{other} is not a review step"
        ))),
    }
}

/// Sends a text that may need several messages, each with its own key; returns the first message.
async fn send_all(
    chat: &dyn ChatPort,
    to: &Destination,
    text: &Text,
    key: &str,
    attachments: Vec<Attachment>,
) -> Result<Posted, StepError> {
    let mut parts: Vec<ChatMessage> = split(text, chat.capabilities())
        .into_iter()
        .map(ChatMessage::text)
        .collect();
    if let Some(last) = parts.last_mut() {
        last.attachments = attachments;
    }
    let mut first = None;
    for (i, part) in parts.iter().enumerate() {
        let key = if i == 0 {
            key.to_owned()
        } else {
            format!("{key}{i}")
        };
        let posted = chat.send(to, part, Some(&key)).await?;
        first.get_or_insert(posted);
    }
    first.ok_or_else(|| StepError::Other(anyhow::anyhow!("nothing to send")))
}

fn to_channel(to: &Destination) -> String {
    match to {
        Destination::Dm { user_id } => user_id.clone(),
        Destination::Channel { channel_id } => channel_id.clone(),
        Destination::Thread(t) => t.channel_id.clone(),
    }
}

fn thread_title(caps: &Capabilities, quarter: Period) -> String {
    clip(
        &format!("{} review", quarter.label()),
        caps.thread_title_max,
    )
}

/// Opens the thread (or finishes opening it) and schedules its midway nudge and close.
pub async fn open(
    pool: &PgPool,
    chat: &dyn ChatPort,
    circle: &Circle,
    quarter: Period,
    now: DateTime<Utc>,
) -> Result<Step, StepError> {
    let members = circles::members_of_circle(pool, circle.id).await?;
    if members.is_empty() {
        return Ok(Step::Skip("the circle has no members".to_owned()));
    }
    let caps = chat.capabilities();
    let local_now = now.with_timezone(&circle.zone.tz()).naive_local();
    let closes_at = shift_local(local_now, i64::from(circle.review_window_days), circle.zone);
    let (thread, created) = reviews::open_row(pool, circle.id, quarter, now, closes_at).await?;
    if thread.closed_at.is_some() {
        return Ok(Step::Skip("this review is already closed".to_owned()));
    }
    if !created && thread.thread.is_none() {
        // An earlier try never got its thread (the organiser fixed the cause since): the window starts now.
        reviews::reschedule(pool, thread.id, now, closes_at).await?;
    }
    let place = match &thread.thread {
        Some(t) => t.clone(),
        None => {
            let t = chat
                .open_thread(&circle.home_channel_id, &thread_title(caps, quarter))
                .await?;
            reviews::set_thread(pool, thread.id, &t).await?;
            t
        }
    };
    let mut pairs = reviews::assignments(pool, thread.id).await?;
    if pairs.is_empty() {
        let previous = reviews::previous_assignments(pool, circle.id, quarter).await?;
        pairs = rotation(
            &members.iter().map(|m| m.member_id).collect::<Vec<_>>(),
            quarter,
            &previous,
        );
        reviews::save_assignments(pool, thread.id, &pairs).await?;
    }
    let to = Destination::Thread(place);
    let header = words::Header {
        quarter,
        circle_name: circle.name.clone(),
        readers: pairs
            .iter()
            .filter_map(|(r, e)| {
                Some((
                    load::person_of(&members, *r)?,
                    load::person_of(&members, *e)?,
                ))
            })
            .collect(),
    };
    let posted_header = match &thread.header_message_id {
        Some(id) => Posted {
            channel_id: to_channel(&to),
            message_id: id.clone(),
        },
        None => {
            let posted = send_all(
                chat,
                &to,
                &words::header_for(&header, chat.capabilities().flat_threads),
                &format!("r{}h", thread.id),
                Vec::new(),
            )
            .await?;
            reviews::set_header(pool, thread.id, &posted.message_id).await?;
            posted
        }
    };

    let posted: BTreeSet<i64> = reviews::posts(pool, thread.id)
        .await?
        .into_iter()
        .map(|(m, _)| m)
        .collect();
    for m in members.iter().filter(|m| !posted.contains(&m.member_id)) {
        let readers = pairs
            .iter()
            .filter(|(_, e)| *e == m.member_id)
            .map(|(r, _)| load::name_of(&members, *r))
            .collect();
        let post = load::member_post(pool, now, circle.id, m, quarter, readers).await?;
        let sent = chat
            .send(
                &to,
                &ChatMessage::text(words::member_post(&post, caps)),
                Some(&format!("r{}m{}", thread.id, m.member_id)),
            )
            .await?;
        reviews::record_post(pool, thread.id, m.member_id, &sent.message_id).await?;
    }

    let window = closes_at - now;
    sql::schedule_circle_delivery(
        pool,
        DeliveryKind::ReviewMidway,
        circle.id,
        quarter,
        now + window / 2,
        now,
    )
    .await?;
    sql::schedule_circle_delivery(
        pool,
        DeliveryKind::ReviewClose,
        circle.id,
        quarter,
        closes_at,
        now,
    )
    .await?;
    if thread.problem.is_some() {
        reviews::set_problem(pool, thread.id, None, now).await?;
    }
    Ok(Step::Posted(posted_header))
}

/// A review step the platform refused for good: the review remembers why (so `/review status` can say it and
/// `/review start` can try again) and its organisers are told by DM, once per step and quarter.
pub async fn record_problem(
    pool: &PgPool,
    d: &Claimed,
    error: &ChatError,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let alert = match d.kind {
        DeliveryKind::ReviewOpen => DeliveryKind::ReviewOpenFailed,
        DeliveryKind::ReviewClose => DeliveryKind::ReviewCloseFailed,
        _ => return Ok(()),
    };
    let problem = match error {
        ChatError::NotFound(_) => ReviewProblem::ChannelGone,
        ChatError::MissingPermissions => ReviewProblem::NoPermission,
        _ => ReviewProblem::Other,
    };
    if let Some(thread) = reviews::find(pool, d.circle_id, d.period).await? {
        reviews::set_problem(pool, thread.id, Some(problem.as_str()), now).await?;
    }
    let mut tx = pool.begin().await?;
    crate::store::deliveries::queue_notice(&mut tx, alert, d.circle_id, None, d.period, now)
        .await?;
    tx.commit().await?;
    tracing::warn!(review_step = %d.kind, %problem, "a review step failed; its organisers are told");
    Ok(())
}

/// Who still owes feedback: one entry per reviewer, nobody else.
pub async fn owed(pool: &PgPool, thread: &ReviewThread) -> anyhow::Result<BTreeMap<i64, Vec<i64>>> {
    let pairs = reviews::assignments(pool, thread.id).await?;
    let written: BTreeSet<(i64, i64)> = reviews::feedback_in(pool, thread.id)
        .await?
        .into_iter()
        .map(|f| (f.author_id, f.subject_id))
        .collect();
    let mut owed: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (reviewer, reviewee) in pairs {
        if !written.contains(&(reviewer, reviewee)) {
            owed.entry(reviewer).or_default().push(reviewee);
        }
    }
    Ok(owed)
}

async fn opened(
    pool: &PgPool,
    circle: &Circle,
    quarter: Period,
) -> Result<Option<ReviewThread>, StepError> {
    Ok(reviews::find(pool, circle.id, quarter)
        .await?
        .filter(|t| t.thread.is_some()))
}

async fn midway(
    pool: &PgPool,
    chat: &dyn ChatPort,
    circle: &Circle,
    quarter: Period,
) -> Result<Step, StepError> {
    let Some(thread) = opened(pool, circle, quarter).await? else {
        return Ok(Step::Skip("the review thread was never opened".to_owned()));
    };
    if thread.closed_at.is_some() {
        return Ok(Step::Skip("the review is closed".to_owned()));
    }
    let owed = owed(pool, &thread).await?;
    if owed.is_empty() {
        return Ok(Step::Skip("every reviewer has written".to_owned()));
    }
    let members = circles::members_of_circle(pool, circle.id).await?;
    let view = words::Midway {
        quarter,
        owed: owed
            .iter()
            .filter_map(|(reader, reviewees)| {
                Some((
                    load::person_of(&members, *reader)?,
                    reviewees
                        .iter()
                        .map(|e| load::name_of(&members, *e))
                        .collect(),
                ))
            })
            .collect(),
    };
    if view.owed.is_empty() {
        return Ok(Step::Skip("the readers who owe have left".to_owned()));
    }
    let place = thread.thread.clone().context("an opened thread")?;
    Ok(Step::Posted(
        send_all(
            chat,
            &Destination::Thread(place),
            &words::midway(&view),
            &format!("r{}mid", thread.id),
            Vec::new(),
        )
        .await?,
    ))
}

async fn close(
    pool: &PgPool,
    chat: &dyn ChatPort,
    circle: &Circle,
    quarter: Period,
    now: DateTime<Utc>,
) -> Result<Step, StepError> {
    let Some(thread) = opened(pool, circle, quarter).await? else {
        return Ok(Step::Skip("the review thread was never opened".to_owned()));
    };
    if thread.thread_closed_at.is_some() {
        return Ok(Step::Skip("the review is already closed".to_owned()));
    }
    let place = thread.thread.clone().context("an opened thread")?;
    let posted = match &thread.summary_message_id {
        Some(id) => Posted {
            channel_id: place.channel_id.clone(),
            message_id: id.clone(),
        },
        None => post_summary(pool, chat, circle, now, &thread, &place).await?,
    };
    // Closing the thread is a step of its own: if it fails, the retry comes back here without posting the
    // summary again.
    match chat
        .close_thread(&place, &words::closed_note(quarter))
        .await
    {
        // A thread someone deleted is as closed as it gets.
        Ok(()) | Err(ChatError::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    reviews::thread_closed(pool, thread.id, now).await?;
    Ok(Step::Posted(posted))
}

async fn post_summary(
    pool: &PgPool,
    chat: &dyn ChatPort,
    circle: &Circle,
    now: DateTime<Utc>,
    thread: &ReviewThread,
    place: &crate::chat::ThreadRef,
) -> Result<Posted, StepError> {
    let members = circles::members_of_circle(pool, circle.id).await?;
    let (text, attachments) = summary_message(pool, circle, thread, &members, &[], now).await?;
    let to = Destination::Thread(place.clone());
    let key = format!("r{}sum", thread.id);
    let posted = match send_all(chat, &to, &text, &key, attachments.clone()).await {
        // The thread was deleted: the summary still belongs to the circle, in its home channel.
        Err(StepError::Chat(ChatError::NotFound(why))) => {
            tracing::warn!(review = thread.id, %why, "the review thread is gone; posting the summary in the home channel");
            let home = Destination::Channel {
                channel_id: circle.home_channel_id.clone(),
            };
            send_all(chat, &home, &text, &key, attachments).await?
        }
        other => other?,
    };
    // The summary is the review's end: from here on replies are not recorded, whatever the platform does next.
    reviews::close(pool, thread.id, &posted.message_id, now).await?;
    if thread.problem.is_some() {
        reviews::set_problem(pool, thread.id, None, now).await?;
    }
    Ok(posted)
}

/// The summary's words and heatmap images for these members (the circle's at close; the remaining ones when a
/// member's details are taken out later).
async fn summary_message(
    pool: &PgPool,
    circle: &Circle,
    thread: &ReviewThread,
    members: &[circles::CircleMember],
    gone: &[i64],
    now: DateTime<Utc>,
) -> Result<(Text, Vec<Attachment>), StepError> {
    let quarter = thread.period;
    let mut checked_in = Vec::new();
    for m in members {
        if checkins::find(pool, m.member_id, circle.id, quarter)
            .await?
            .is_some()
        {
            checked_in.push(m.display_name.clone());
        }
    }
    let owed = owed(pool, thread).await?;
    let pairs: Vec<(i64, i64)> = reviews::assignments(pool, thread.id)
        .await?
        .into_iter()
        .filter(|(r, e)| !gone.contains(r) && !gone.contains(e))
        .collect();
    let reviewed = quarter.prev();
    let (rows, kept, due) = load::heatmap_rows(pool, members, reviewed, now).await?;
    let summary = words::Summary {
        quarter,
        members: members.len(),
        checked_in,
        reviews: pairs
            .iter()
            .map(|(r, e)| {
                (
                    load::name_of(members, *r),
                    load::name_of(members, *e),
                    !owed.get(r).is_some_and(|v| v.contains(e)),
                )
            })
            .collect(),
        reviewed,
        kept,
        due,
    };
    let columns: Vec<String> = load::months(reviewed)
        .into_iter()
        .map(|m| m.start_date().format("%b %Y").to_string())
        .collect();
    let title = format!("{} · {}", circle.name, quarter.label());
    let stem = format!("review-{}", quarter.key().to_lowercase());
    // Drawing takes a noticeable slice of CPU: keep it off the async workers that carry sends and commands.
    let images = tokio::task::spawn_blocking(move || heatmap_pages(&title, &stem, &columns, &rows))
        .await
        .map_err(|e| anyhow::anyhow!("the heatmap task failed: {e}"))?
        .map_err(|e| anyhow::anyhow!("rendering the heatmap: {e}"))?;
    Ok((words::summary(&summary), images))
}

/// The heatmap as images of at most `heatmap::MAX_ROWS` members each (a tall image is unreadable on a phone),
/// named `<stem>.png`, or `<stem>-1.png`, `<stem>-2.png`, ... when there are several.
pub fn heatmap_pages(
    title: &str,
    stem: &str,
    columns: &[String],
    rows: &[heatmap::HeatmapRow],
) -> Result<Vec<Attachment>, heatmap::HeatmapError> {
    if rows.len() <= heatmap::MAX_ROWS {
        return Ok(vec![Attachment {
            filename: format!("{stem}.png"),
            bytes: heatmap::render(title, columns, rows)?,
        }]);
    }
    let pages: Vec<&[heatmap::HeatmapRow]> = rows.chunks(heatmap::MAX_ROWS).collect();
    let n = pages.len();
    pages
        .into_iter()
        .enumerate()
        .map(|(i, page)| {
            Ok(Attachment {
                filename: format!("{stem}-{}.png", i + 1),
                bytes: heatmap::render(&format!("{title} ({}/{n})", i + 1), columns, page)?,
            })
        })
        .collect()
}

/// The edits that take a member's words out of a review's posts, worked out before their rows are deleted:
/// each of their own posts says it was removed at their request; the header, the midway nudge and the summary are
/// written again without them, saying so. Returns (message, new words, new attachments).
pub async fn redactions_for(
    pool: &PgPool,
    thread: &ReviewThread,
    gone: &[i64],
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<(Posted, Text, Vec<Attachment>)>> {
    let Some(place) = &thread.thread else {
        return Ok(Vec::new());
    };
    let Some(circle) = circles::circle_by_id(pool, thread.circle_id).await? else {
        return Ok(Vec::new());
    };
    let mut edits = Vec::new();
    let posts = reviews::posts(pool, thread.id).await?;
    for (_, message_id) in posts.iter().filter(|(m, _)| gone.contains(m)) {
        edits.push((
            Posted {
                channel_id: place.channel_id.clone(),
                message_id: message_id.clone(),
            },
            words::removed_post(),
            Vec::new(),
        ));
    }
    // A story the member shared into the thread quotes them and carries their file: removed too (an edit with no
    // attachments drops the file).
    for message_id in crate::store::feedback::stories_in(pool, thread.id, gone).await? {
        edits.push((
            Posted {
                channel_id: place.channel_id.clone(),
                message_id,
            },
            words::removed_post(),
            Vec::new(),
        ));
    }
    // Those in the review when it opened (its posts), less those leaving.
    let stayed: Vec<i64> = posts
        .iter()
        .map(|(m, _)| *m)
        .filter(|m| !gone.contains(m))
        .collect();
    let members = circles::members_by_ids(pool, &stayed, circle.zone).await?;
    let sent = crate::store::deliveries::for_circle(pool, thread.circle_id).await?;
    let message_of = |kind: DeliveryKind| {
        sent.iter()
            .find(|d| d.kind == kind && d.period == thread.period && d.member_id.is_none())
            .and_then(|d| Some((d.channel_id.clone()?, d.message_id.clone()?)))
    };
    if let Some((channel_id, message_id)) = message_of(DeliveryKind::ReviewOpen) {
        let pairs = reviews::assignments(pool, thread.id).await?;
        let header = words::Header {
            quarter: thread.period,
            circle_name: circle.name.clone(),
            readers: pairs
                .iter()
                .filter(|(r, e)| !gone.contains(r) && !gone.contains(e))
                .filter_map(|(r, e)| {
                    Some((
                        load::person_of(&members, *r)?,
                        load::person_of(&members, *e)?,
                    ))
                })
                .collect(),
        };
        let mut text = words::header(&header);
        text.append(words::removal_note());
        edits.push((
            Posted {
                channel_id,
                message_id,
            },
            text,
            Vec::new(),
        ));
    }
    if let Some((channel_id, message_id)) = message_of(DeliveryKind::ReviewMidway) {
        let owed = owed(pool, thread).await?;
        let view = words::Midway {
            quarter: thread.period,
            owed: owed
                .iter()
                .filter(|(reader, _)| !gone.contains(reader))
                .filter_map(|(reader, reviewees)| {
                    Some((
                        load::person_of(&members, *reader)?,
                        reviewees
                            .iter()
                            .filter(|e| !gone.contains(e))
                            .map(|e| load::name_of(&members, *e))
                            .collect(),
                    ))
                })
                .collect(),
        };
        let mut text = words::midway(&view);
        text.append(words::removal_note());
        edits.push((
            Posted {
                channel_id,
                message_id,
            },
            text,
            Vec::new(),
        ));
    }
    if let Some((channel_id, message_id)) = message_of(DeliveryKind::ReviewClose) {
        let at = thread.closed_at.unwrap_or(now);
        let (mut text, images) = summary_message(pool, &circle, thread, &members, gone, at)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        text.append(words::removal_note());
        edits.push((
            Posted {
                channel_id,
                message_id,
            },
            text,
            images,
        ));
    }
    Ok(edits)
}
