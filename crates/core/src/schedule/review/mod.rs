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
    let (thread, _) = reviews::open_row(pool, circle.id, quarter, now, closes_at).await?;
    if thread.closed_at.is_some() {
        return Ok(Step::Skip("this review is already closed".to_owned()));
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
                &words::header(&header),
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
    Ok(Step::Posted(posted_header))
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
        None => post_summary(pool, chat, circle, quarter, now, &thread, &place).await?,
    };
    // Closing the thread is a step of its own: if it fails, the retry comes back here without posting the
    // summary again.
    chat.close_thread(&place, &words::closed_note(quarter))
        .await?;
    reviews::thread_closed(pool, thread.id, now).await?;
    Ok(Step::Posted(posted))
}

async fn post_summary(
    pool: &PgPool,
    chat: &dyn ChatPort,
    circle: &Circle,
    quarter: Period,
    now: DateTime<Utc>,
    thread: &ReviewThread,
    place: &crate::chat::ThreadRef,
) -> Result<Posted, StepError> {
    let members = circles::members_of_circle(pool, circle.id).await?;
    let mut checked_in = Vec::new();
    for m in &members {
        if checkins::find(pool, m.member_id, circle.id, quarter)
            .await?
            .is_some()
        {
            checked_in.push(m.display_name.clone());
        }
    }
    let owed = owed(pool, thread).await?;
    let pairs = reviews::assignments(pool, thread.id).await?;
    let reviewed = quarter.prev();
    let (rows, kept, due) = load::heatmap_rows(pool, &members, reviewed, now).await?;
    let summary = words::Summary {
        quarter,
        members: members.len(),
        checked_in,
        reviews: pairs
            .iter()
            .map(|(r, e)| {
                (
                    load::name_of(&members, *r),
                    load::name_of(&members, *e),
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
    // Drawing takes a noticeable slice of CPU: keep it off the async workers that carry sends and commands.
    let title = format!("{} · {}", circle.name, quarter.label());
    let png = tokio::task::spawn_blocking(move || heatmap::render(&title, &columns, &rows))
        .await
        .map_err(|e| anyhow::anyhow!("the heatmap task failed: {e}"))?
        .map_err(|e| anyhow::anyhow!("rendering the heatmap: {e}"))?;
    let to = Destination::Thread(place.clone());
    let posted = send_all(
        chat,
        &to,
        &words::summary(&summary),
        &format!("r{}sum", thread.id),
        vec![Attachment {
            filename: format!("review-{}.png", quarter.key().to_lowercase()),
            bytes: png,
        }],
    )
    .await?;
    // The summary is the review's end: from here on replies are not recorded, whatever the platform does next.
    reviews::close(pool, thread.id, &posted.message_id, now).await?;
    Ok(posted)
}
