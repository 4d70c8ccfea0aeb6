//! What each scheduled message says. Each kind first loads what it needs (`load`, the only part that reads the
//! database), then a pure function words it for the platform's capabilities (`word`), so the wording is tested
//! without a database and every message is made to fit before it is sent.
//!
//! Warm, brief, specific, never shaming: name the commitment and the streak, offer the one-click "Done", accept a
//! skip, quote the member's own words back to them.

pub mod alert;
pub mod checkin;
pub mod deep_dive;
pub mod handover;
pub mod hindsight;
pub mod landing;
pub mod nudge;
pub mod review_alert;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::chat::fit::{clip, split};
use crate::chat::{Button, Capabilities, ChatMessage, Destination, Text};
use crate::domain::delivery::DeliveryKind;
use crate::store::circles::{self, Circle, Member};
use crate::store::deliveries::Claimed;

/// The outcome of rendering a claimed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rendered {
    /// Send these messages, in order (a long one split in parts; an alert to several organisers).
    Send(Vec<(Destination, ChatMessage)>),
    /// Nothing is owed any more; record why.
    Skip(String),
}

/// The member a delivery to one member is for: still in the delivery's circle, or for a personal prompt (owed once
/// per member, see `DeliveryKind::is_personal`) still in one of their server's circles.
pub struct Recipient {
    pub circle: Circle,
    pub member: Member,
    pub zone: crate::domain::zone::Zone,
}

impl Recipient {
    pub fn first_name(&self) -> &str {
        first_name(&self.member.display_name)
    }

    pub fn dm(&self) -> Destination {
        Destination::Dm {
            user_id: self.member.platform_user_id.clone(),
        }
    }
}

pub(crate) async fn recipient(
    pool: &PgPool,
    d: &Claimed,
) -> anyhow::Result<Result<Recipient, String>> {
    let circle = circles::circle_by_id(pool, d.circle_id)
        .await?
        .context("the delivery's circle is gone")?;
    if circle.bot_removed {
        return Ok(Err(
            "the bot was removed from the circle's server".to_owned()
        ));
    }
    let Some(member_id) = d.member_id else {
        return Ok(Err(format!("{} has no member", d.kind)));
    };
    let Some(member) = circles::member_by_id(pool, member_id).await? else {
        return Ok(Err("the member left".to_owned()));
    };
    let theirs = circles::circles_of_member(pool, member_id).await?;
    let circle = if theirs.iter().any(|(c, _)| c.id == circle.id) {
        circle
    } else if d.kind.is_personal() {
        // A personal prompt belongs to the member, not to the circle that planned it.
        match theirs.into_iter().map(|(c, _)| c).find(|c| !c.bot_removed) {
            Some(c) => c,
            None => return Ok(Err("the member is in no circle any more".to_owned())),
        }
    } else {
        return Ok(Err("the member left the circle".to_owned()));
    };
    let zone = circles::member_zone(pool, member_id)
        .await?
        .context("a member of a circle has no zone")?;
    Ok(Ok(Recipient {
        circle,
        member,
        zone,
    }))
}

pub async fn render(
    pool: &PgPool,
    d: &Claimed,
    caps: &Capabilities,
    now: DateTime<Utc>,
) -> anyhow::Result<Rendered> {
    match d.kind {
        DeliveryKind::MonthlyNudge | DeliveryKind::NudgeReminder => {
            nudge::render(pool, d, caps, now).await
        }
        DeliveryKind::CheckinPrompt | DeliveryKind::CheckinReminder => {
            checkin::render(pool, d, caps).await
        }
        DeliveryKind::DeepDive => deep_dive::render(pool, d, caps, now).await,
        DeliveryKind::OrganiserAlert => alert::render(pool, d, caps).await,
        DeliveryKind::OfferHindsight => hindsight::render(pool, d, caps, now).await,
        DeliveryKind::OrganiserHandover => handover::render(pool, d, caps).await,
        DeliveryKind::LandingDay30 | DeliveryKind::LandingDay60 | DeliveryKind::LandingDay90 => {
            landing::render(pool, d, caps, now).await
        }
        DeliveryKind::ReviewOpenFailed | DeliveryKind::ReviewCloseFailed => {
            review_alert::render(pool, d, caps).await
        }
        DeliveryKind::ReviewOpen | DeliveryKind::ReviewMidway | DeliveryKind::ReviewClose => {
            // The worker hands circle-wide kinds to schedule::review; reaching here is a routing bug.
            anyhow::bail!("{} is not rendered as a single message", d.kind)
        }
    }
}

/// The words as messages that fit the platform: split in order where too long, the buttons (as many as the
/// platform shows, labels clipped) on the last part, where the member reads them after the words.
pub fn messages(
    to: &Destination,
    text: &Text,
    buttons: Vec<Button>,
    caps: &Capabilities,
) -> Vec<(Destination, ChatMessage)> {
    let buttons: Vec<Button> = buttons
        .into_iter()
        .take(caps.buttons_max)
        .map(|b| Button {
            label: clip(&b.label, caps.button_label_max),
            style: caps.style(b.style),
            ..b
        })
        .collect();
    let mut parts: Vec<(Destination, ChatMessage)> = split(text, caps)
        .into_iter()
        .map(|t| (to.clone(), ChatMessage::text(t)))
        .collect();
    if let Some((_, last)) = parts.last_mut() {
        last.buttons = buttons;
    }
    parts
}

/// A check-in's answers, each under its question in bold.
pub fn answers(a: &crate::domain::checkin::Answers) -> Text {
    let mut text = Text::new();
    for (question, value) in a.by_question() {
        if let Some(q) = question {
            text.line(crate::spans![crate::chat::text::bold(q)]);
        }
        text.line(crate::spans![value]);
    }
    text
}

pub fn first_name(display: &str) -> &str {
    display.split_whitespace().next().unwrap_or(display)
}
