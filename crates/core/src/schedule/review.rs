//! The circle's quarterly review thread: opened when the check-in window closes, a post per member, one peer
//! reviewer each in rotation, a midway nudge to reviewers still owing, and a summary with a heatmap at the end.
//!
//! Every step is safe to repeat: the thread row is UNIQUE per circle and quarter, posts carry nonces derived
//! from the thread and member, and each member's post is recorded once, so a worker that dies half-way and a
//! second one that takes over produce one thread with one post each.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::chat::{Attachment, ChatError, ChatMessage, ChatPort, Destination, Posted};
use crate::domain::checkin::Answers;
use crate::domain::delivery::DeliveryKind;
use crate::domain::period::{Period, local_date};
use crate::domain::recurrence::shift_local;
use crate::domain::zone::Zone;
use crate::schedule::heatmap::{self, Cell, HeatmapRow};
use crate::schedule::render::truncate;
use crate::store::circles::{self, Circle, CircleMember};
use crate::store::deliveries::Claimed;
use crate::store::reviews::{self, ReviewThread};
use crate::store::{checkins, commitments, planner as sql, specs, wins};

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
    let kind: DeliveryKind = d.kind.parse().context("unknown review kind")?;
    let circle = circles::circle_by_id(pool, d.circle_id)
        .await?
        .context("the review's circle is gone")?;
    match kind {
        DeliveryKind::ReviewOpen => open(pool, chat, &circle, &d.period, now).await,
        DeliveryKind::ReviewMidway => midway(pool, chat, &circle, &d.period).await,
        DeliveryKind::ReviewClose => close(pool, chat, &circle, &d.period, now).await,
        other => Err(StepError::Other(anyhow::anyhow!(
            "{other} is not a review step"
        ))),
    }
}

fn zone_of(circle: &Circle) -> Zone {
    Zone::parse(&circle.zone).unwrap_or(Zone::UTC)
}

fn label(period: &str) -> String {
    Period::parse_key(period)
        .map(|p| p.label())
        .unwrap_or_else(|_| period.to_owned())
}

/// Opens the thread (or finishes opening it) and schedules its midway nudge and close.
pub async fn open(
    pool: &PgPool,
    chat: &dyn ChatPort,
    circle: &Circle,
    period: &str,
    now: DateTime<Utc>,
) -> Result<Step, StepError> {
    let members = circles::members_of_circle(pool, circle.id).await?;
    if members.is_empty() {
        return Ok(Step::Skip("the circle has no members".to_owned()));
    }
    let zone = zone_of(circle);
    let local_now = now.with_timezone(&zone.tz()).naive_local();
    let closes_at = shift_local(local_now, i64::from(circle.review_window_days), zone);
    let (thread, _) = reviews::open_row(pool, circle.id, period, now, closes_at).await?;
    if thread.closed_at.is_some() {
        return Ok(Step::Skip("this review is already closed".to_owned()));
    }
    let channel = match &thread.thread_channel_id {
        Some(c) => c.clone(),
        None => {
            let c = chat
                .open_thread(
                    &circle.home_channel_id,
                    &format!("{} review", label(period)),
                )
                .await?;
            reviews::set_channel(pool, thread.id, &c).await?;
            c
        }
    };
    let mut pairs = reviews::assignments(pool, thread.id).await?;
    if pairs.is_empty() {
        let previous = reviews::previous_assignments(pool, circle.id, period).await?;
        pairs = rotation(
            &members.iter().map(|m| m.member_id).collect::<Vec<_>>(),
            period,
            &previous,
        );
        reviews::save_assignments(pool, thread.id, &pairs).await?;
    }
    let to = Destination::Channel {
        channel_id: channel.clone(),
    };
    let header = chat
        .send(
            &to,
            &ChatMessage::text(header_text(circle, period, &members, &pairs)),
            Some(&format!("r{}h", thread.id)),
        )
        .await?;

    let posted: BTreeSet<i64> = reviews::posts(pool, thread.id)
        .await?
        .into_iter()
        .map(|(m, _)| m)
        .collect();
    let quarter = Period::parse_key(period)
        .unwrap_or_else(|_| Period::containing_quarter(local_date(now, zone)));
    for m in members.iter().filter(|m| !posted.contains(&m.member_id)) {
        let text = member_post(pool, now, circle, m, quarter, &members, &pairs).await?;
        let sent = chat
            .send(
                &to,
                &ChatMessage::text(text),
                Some(&format!("r{}m{}", thread.id, m.member_id)),
            )
            .await?;
        reviews::record_post(pool, thread.id, m.member_id, &sent.message_id).await?;
    }

    let window = closes_at - now;
    sql::schedule_circle_delivery(
        pool,
        DeliveryKind::ReviewMidway.as_str(),
        circle.id,
        period,
        now + window / 2,
        now,
    )
    .await?;
    sql::schedule_circle_delivery(
        pool,
        DeliveryKind::ReviewClose.as_str(),
        circle.id,
        period,
        closes_at,
        now,
    )
    .await?;
    Ok(Step::Posted(header))
}

/// Each member gets one reviewer: everyone shifted by `s` places around the circle, with `s` turning each quarter
/// and chosen so no pair repeats the previous review's when the circle is big enough (three or more).
pub fn rotation(members: &[i64], period: &str, previous: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut ids = members.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let n = ids.len();
    if n < 2 {
        return Vec::new();
    }
    let quarter_index = Period::parse_key(period)
        .map(|p| match p {
            Period::Quarter { year, q } => {
                usize::try_from(year).unwrap_or(0) * 4 + usize::try_from(q).unwrap_or(0)
            }
            _ => 0,
        })
        .unwrap_or(0);
    let before: BTreeSet<(i64, i64)> = previous.iter().copied().collect();
    let pairs_for =
        |s: usize| -> Vec<(i64, i64)> { (0..n).map(|i| (ids[(i + s) % n], ids[i])).collect() };
    let first = 1 + quarter_index % (n - 1);
    (0..n - 1)
        .map(|k| 1 + (first - 1 + k) % (n - 1))
        .map(pairs_for)
        .find(|pairs| pairs.iter().all(|p| !before.contains(p)))
        .unwrap_or_else(|| pairs_for(first))
}

fn name_of(members: &[CircleMember], id: i64) -> String {
    members
        .iter()
        .find(|m| m.member_id == id)
        .map(|m| m.display_name.clone())
        .unwrap_or_else(|| "a former member".to_owned())
}

fn mention_of(members: &[CircleMember], id: i64) -> String {
    members
        .iter()
        .find(|m| m.member_id == id)
        .map(|m| format!("<@{}>", m.platform_user_id))
        .unwrap_or_default()
}

fn header_text(
    circle: &Circle,
    period: &str,
    members: &[CircleMember],
    pairs: &[(i64, i64)],
) -> String {
    let mut text = format!(
        "**{} review of {}.** Each member's check-in follows. Reply to a post to give that person feedback: real \
         feedback, not formal feedback.\n",
        label(period),
        circle.name
    );
    if !pairs.is_empty() {
        text.push_str("This quarter's readers:\n");
        for (reviewer, reviewee) in pairs {
            text.push_str(&format!(
                "• {} reads {}\n",
                mention_of(members, *reviewer),
                name_of(members, *reviewee)
            ));
        }
    }
    truncate(&text, 1900)
}

async fn member_post(
    pool: &PgPool,
    now: DateTime<Utc>,
    circle: &Circle,
    m: &CircleMember,
    quarter: Period,
    members: &[CircleMember],
    pairs: &[(i64, i64)],
) -> anyhow::Result<String> {
    let shared = specs::current(pool, m.member_id)
        .await?
        .is_some_and(|s| s.visibility == "circle");
    let mut text = format!("**{}**", m.display_name);
    let readers: Vec<String> = pairs
        .iter()
        .filter(|(_, e)| *e == m.member_id)
        .map(|(r, _)| name_of(members, *r))
        .collect();
    if !readers.is_empty() {
        text.push_str(&format!(" (read by {})", readers.join(", ")));
    }
    text.push('\n');
    if !shared {
        text.push_str("Keeps their spec and check-in private this quarter.");
        return Ok(text);
    }
    match checkins::find(pool, m.member_id, circle.id, &quarter.key()).await? {
        Some(c) => text.push_str(&format!(
            "{}\n",
            truncate(&Answers::from_json(&c.answers).render(), 1200)
        )),
        None => text.push_str("No check-in this quarter.\n"),
    }
    // The check-in at the start of a quarter looks back on the one that ended: so do its record and wins.
    let reviewed = quarter.prev();
    let zone = Zone::parse(&m.zone).unwrap_or(Zone::UTC);
    let current_month = Period::containing_month(local_date(now, zone));
    let lines = commitment_lines(pool, m.member_id, reviewed, current_month).await?;
    if !lines.is_empty() {
        text.push_str(&format!(
            "Commitments in {}: {}\n",
            reviewed.label(),
            lines.join("; ")
        ));
    }
    let from = shift_local(
        reviewed
            .start_date()
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default(),
        0,
        zone,
    );
    let to = shift_local(
        reviewed
            .next()
            .start_date()
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default(),
        0,
        zone,
    );
    let won = wins::between(pool, m.member_id, from, to).await?;
    if !won.is_empty() {
        text.push_str(&format!("Wins in {}:\n", reviewed.label()));
        for w in won.iter().take(8) {
            text.push_str(&format!("• {}\n", truncate(&w.text, 200)));
        }
    }
    Ok(truncate(text.trim_end(), 1990))
}

/// "publish one post: kept 2 of 3" for the quarter's months.
async fn commitment_lines(
    pool: &PgPool,
    member_id: i64,
    quarter: Period,
    current_month: Period,
) -> anyhow::Result<Vec<String>> {
    let open = commitments::open_of_member(pool, member_id).await?;
    let marks = commitments::periods_of_member(pool, member_id).await?;
    let mut lines = Vec::new();
    for c in open.iter().filter(|c| c.cadence == "monthly") {
        let status = |p: Period| {
            marks
                .iter()
                .find(|m| m.commitment_id == c.id && m.period == p.key())
                .map(|m| m.status.as_str())
        };
        // The quarter's months from the commitment's start up to the member's current month: later months are not
        // owed yet, and the current one counts once it is done.
        let mut month = Period::containing_month(quarter.start_date())
            .max(Period::containing_month(c.started_on));
        let end = Period::containing_month(quarter.next().start_date());
        let (mut kept, mut owed) = (0, 0);
        while month < end && month <= current_month {
            match status(month) {
                Some("done") => {
                    kept += 1;
                    owed += 1;
                }
                Some(_) => {}
                None if month < current_month => owed += 1,
                None => {}
            }
            month = month.next();
        }
        if owed > 0 {
            lines.push(format!("{}: kept {kept} of {owed}", c.title));
        }
    }
    Ok(lines)
}

async fn thread_of(
    pool: &PgPool,
    circle: &Circle,
    period: &str,
) -> Result<Option<(ReviewThread, String)>, StepError> {
    let Some(thread) = reviews::find(pool, circle.id, period).await? else {
        return Ok(None);
    };
    let Some(channel) = thread.thread_channel_id.clone() else {
        return Ok(None);
    };
    Ok(Some((thread, channel)))
}

/// Who still owes feedback: one mention per reviewer, nobody else tagged.
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

async fn midway(
    pool: &PgPool,
    chat: &dyn ChatPort,
    circle: &Circle,
    period: &str,
) -> Result<Step, StepError> {
    let Some((thread, channel)) = thread_of(pool, circle, period).await? else {
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
    let mut text = format!(
        "Halfway through the {} review. Still to read and answer:\n",
        label(period)
    );
    for (reviewer, reviewees) in &owed {
        let names: Vec<String> = reviewees.iter().map(|e| name_of(&members, *e)).collect();
        text.push_str(&format!(
            "• {}: {}\n",
            mention_of(&members, *reviewer),
            names.join(", ")
        ));
    }
    text.push_str("A few honest lines in reply to their post is plenty.");
    let to = Destination::Channel {
        channel_id: channel,
    };
    Ok(Step::Posted(
        chat.send(
            &to,
            &ChatMessage::text(truncate(&text, 1990)),
            Some(&format!("r{}mid", thread.id)),
        )
        .await?,
    ))
}

async fn close(
    pool: &PgPool,
    chat: &dyn ChatPort,
    circle: &Circle,
    period: &str,
    now: DateTime<Utc>,
) -> Result<Step, StepError> {
    let Some((thread, channel)) = thread_of(pool, circle, period).await? else {
        return Ok(Step::Skip("the review thread was never opened".to_owned()));
    };
    if thread.closed_at.is_some() {
        return Ok(Step::Skip("the review is already closed".to_owned()));
    }
    let members = circles::members_of_circle(pool, circle.id).await?;
    let quarter =
        Period::parse_key(period).map_err(|e| anyhow::anyhow!("bad period {period}: {e}"))?;
    let mut checked_in = Vec::new();
    for m in &members {
        if checkins::find(pool, m.member_id, circle.id, period)
            .await?
            .is_some()
        {
            checked_in.push(m.display_name.clone());
        }
    }
    let owed = owed(pool, &thread).await?;
    let pairs = reviews::assignments(pool, thread.id).await?;
    let reviewed = quarter.prev();
    let (rows, kept, due) = heatmap_rows(pool, &members, reviewed, now).await?;
    let mut text = format!("**{} review: summary**\n", label(period));
    text.push_str(&format!(
        "Checked in: {} of {}{}\n",
        checked_in.len(),
        members.len(),
        if checked_in.is_empty() {
            String::new()
        } else {
            format!(" ({})", checked_in.join(", "))
        }
    ));
    if !pairs.is_empty() {
        text.push_str("Reviews:\n");
        for (reviewer, reviewee) in &pairs {
            let done = !owed.get(reviewer).is_some_and(|v| v.contains(reviewee));
            text.push_str(&format!(
                "• {} → {}: {}\n",
                name_of(&members, *reviewer),
                name_of(&members, *reviewee),
                if done { "written" } else { "not this time" }
            ));
        }
    }
    text.push_str(&format!("Monthly commitments kept across the circle in {}: {kept} of {due}.\nThanks, all. See you next quarter.", reviewed.label()));
    let columns: Vec<String> = (0..3)
        .map(|i| {
            let month = reviewed
                .start_date()
                .checked_add_months(chrono::Months::new(i))
                .unwrap_or(reviewed.start_date());
            month.format("%b %Y").to_string()
        })
        .collect();
    // Drawing takes a noticeable slice of CPU: keep it off the async workers that carry sends and commands.
    let title = format!("{} · {}", circle.name, label(period));
    let png = tokio::task::spawn_blocking(move || heatmap::render(&title, &columns, &rows))
        .await
        .map_err(|e| anyhow::anyhow!("the heatmap task failed: {e}"))?
        .map_err(|e| anyhow::anyhow!("rendering the heatmap: {e}"))?;
    let message = ChatMessage {
        text: truncate(&text, 1990),
        buttons: Vec::new(),
        attachments: vec![Attachment {
            filename: format!("review-{}.png", period.to_lowercase()),
            bytes: png,
        }],
    };
    let to = Destination::Channel {
        channel_id: channel.clone(),
    };
    let posted = chat
        .send(&to, &message, Some(&format!("r{}sum", thread.id)))
        .await?;
    chat.archive_thread(&channel).await?;
    reviews::close(pool, thread.id, now).await?;
    Ok(Step::Posted(posted))
}

/// One row per member, one cell per month of the quarter, and the circle's kept / due totals.
pub async fn heatmap_rows(
    pool: &PgPool,
    members: &[CircleMember],
    quarter: Period,
    now: DateTime<Utc>,
) -> anyhow::Result<(Vec<HeatmapRow>, u32, u32)> {
    let (mut kept, mut due) = (0, 0);
    let mut rows = Vec::new();
    for m in members {
        let zone = Zone::parse(&m.zone).unwrap_or(Zone::UTC);
        let current = Period::containing_month(local_date(now, zone));
        let open: Vec<_> = commitments::open_of_member(pool, m.member_id)
            .await?
            .into_iter()
            .filter(|c| c.cadence == "monthly")
            .collect();
        let marks = commitments::periods_of_member(pool, m.member_id).await?;
        let mut cells = Vec::new();
        let mut month = Period::containing_month(quarter.start_date());
        for _ in 0..3 {
            let live: Vec<_> = open
                .iter()
                .filter(|c| Period::containing_month(c.started_on) <= month)
                .collect();
            let status = |c: i64| {
                marks
                    .iter()
                    .find(|p| p.commitment_id == c && p.period == month.key())
                    .map(|p| p.status.as_str())
            };
            let cell = if live.is_empty() || month > current {
                Cell::NotDue
            } else if live.iter().all(|c| status(c.id) == Some("done")) {
                Cell::Kept
            } else if live
                .iter()
                .all(|c| matches!(status(c.id), Some("done" | "skipped")))
            {
                Cell::Skipped
            } else if month == current {
                Cell::NotDue
            } else {
                Cell::Missed
            };
            if matches!(cell, Cell::Kept | Cell::Missed) {
                due += 1;
            }
            if cell == Cell::Kept {
                kept += 1;
            }
            cells.push(cell);
            month = month.next();
        }
        rows.push(HeatmapRow {
            name: m.display_name.clone(),
            cells,
        });
    }

    Ok((rows, kept, due))
}
