//! What each scheduled message says. Warm, brief, specific, never shaming: name the commitment and the
//! streak, offer the one-click "Done", accept a skip, quote the member's own words back to them.

use std::collections::BTreeSet;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::chat::{Button, ButtonStyle, ChatMessage, Destination};
use crate::domain::action::Action;
use crate::domain::checkin::QUESTIONS;
use crate::domain::commitment::record;
use crate::domain::delivery::DeliveryKind;
use crate::domain::period::{Period, local_date};
use crate::domain::zone::Zone;
use crate::store::deliveries::Claimed;
use crate::store::{circles, commitments, specs};

/// The outcome of rendering a claimed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rendered {
    /// Send these messages (several for an alert to several organisers).
    Send(Vec<(Destination, ChatMessage)>),
    /// Nothing is owed any more; record why.
    Skip(String),
}

pub async fn render(pool: &PgPool, d: &Claimed, now: DateTime<Utc>) -> anyhow::Result<Rendered> {
    let kind: DeliveryKind = d
        .kind
        .parse()
        .context("unknown delivery kind in the outbox")?;
    let circle = circles::circle_by_id(pool, d.circle_id)
        .await?
        .context("the delivery's circle is gone")?;
    let Some(member_id) = d.member_id else {
        return Ok(Rendered::Skip(format!("{kind} has no member")));
    };
    let member = match circles::member_by_id(pool, member_id).await? {
        Some(m) => m,
        None => return Ok(Rendered::Skip("the member left".to_owned())),
    };
    let zone = member
        .zone
        .as_deref()
        .or(Some(circle.zone.as_str()))
        .and_then(|z| Zone::parse(z).ok())
        .unwrap_or(Zone::UTC);
    let dm = Destination::Dm {
        user_id: member.platform_user_id.clone(),
    };
    let name = first_name(&member.display_name);

    let message = match kind {
        DeliveryKind::MonthlyNudge | DeliveryKind::NudgeReminder => {
            let month = Period::parse_key(&d.period)
                .ok()
                .unwrap_or_else(|| Period::containing_month(local_date(now, zone)));
            let open: Vec<_> = commitments::open_of_member(pool, member_id)
                .await?
                .into_iter()
                .filter(|c| c.cadence == "monthly")
                .collect();
            let marks = commitments::periods_of_member(pool, member_id).await?;
            let mut lines = Vec::new();
            let mut buttons = Vec::new();
            for c in &open {
                let done: BTreeSet<Period> = marks
                    .iter()
                    .filter(|m| m.commitment_id == c.id && m.status == "done")
                    .filter_map(|m| Period::parse_key(&m.period).ok())
                    .collect();
                if kind == DeliveryKind::NudgeReminder && done.contains(&month) {
                    continue;
                }
                let skipped: BTreeSet<Period> = marks
                    .iter()
                    .filter(|m| m.commitment_id == c.id && m.status == "skipped")
                    .filter_map(|m| Period::parse_key(&m.period).ok())
                    .collect();
                let first = Period::containing_month(c.started_on);
                let rec = record(first, month, &done, &skipped);
                let streak = match rec.streak {
                    0 => "a fresh start".to_owned(),
                    1 => "streak: 1 month".to_owned(),
                    n => format!("streak: {n} months"),
                };
                lines.push(format!("• **{}** ({streak})", c.title));
                if buttons.len() < 4 {
                    let period = month.key();
                    buttons.push(Button {
                        custom_id: Action::Done {
                            commitment_id: c.id,
                            period: period.clone(),
                        }
                        .custom_id(),
                        label: truncate(&format!("Done: {}", c.title), 80),
                        style: ButtonStyle::Success,
                    });
                    if open.len() == 1 {
                        buttons.push(Button {
                            custom_id: Action::Skip {
                                commitment_id: c.id,
                                period,
                            }
                            .custom_id(),
                            label: "Skip this month".to_owned(),
                            style: ButtonStyle::Secondary,
                        });
                    }
                }
            }
            if lines.is_empty() {
                return Ok(Rendered::Skip(match kind {
                    DeliveryKind::NudgeReminder => "already marked done this month".to_owned(),
                    _ => "no open monthly commitment".to_owned(),
                }));
            }
            let text = if kind == DeliveryKind::MonthlyNudge {
                format!(
                    "Hi {name}, it's {}: time for your monthly writing.\n{}\n\nWhen it's out, press **Done** (or reply \
                     `done <link>`). Not this month? Skip it, no guilt.",
                    month.label(),
                    lines.join("\n")
                )
            } else {
                format!(
                    "A gentle nudge, {name}: {} is two-thirds gone and this isn't marked done yet.\n{}\n\nA short \
                     post counts. Press **Done** when it's out, or skip the month.",
                    month.label(),
                    lines.join("\n")
                )
            };
            ChatMessage {
                text,
                buttons,
                attachments: Vec::new(),
            }
        }
        DeliveryKind::CheckinPrompt | DeliveryKind::CheckinReminder => {
            if kind == DeliveryKind::CheckinReminder
                && crate::store::checkins::find(pool, member_id, circle.id, &d.period)
                    .await?
                    .is_some()
            {
                return Ok(Rendered::Skip("already checked in".to_owned()));
            }
            let quarter = Period::parse_key(&d.period)
                .map(|p| p.label())
                .unwrap_or_else(|_| d.period.clone());
            let vision = specs::current(pool, member_id)
                .await?
                .map(|s| s.vision)
                .filter(|v| !v.trim().is_empty());
            let mut text = if kind == DeliveryKind::CheckinPrompt {
                format!(
                    "Hi {name}, it's check-in time for **{quarter}** in {}.\n",
                    circle.name
                )
            } else {
                format!(
                    "Hi {name}, your {quarter} check-in for {} is still open; a few lines are plenty.\n",
                    circle.name
                )
            };
            if let Some(v) = vision {
                text.push_str(&format!("Your 5-year vision: > {}\n", truncate(&v, 300)));
            }
            text.push('\n');
            for (i, (_, q)) in QUESTIONS.iter().enumerate() {
                text.push_str(&format!("{}. {q}\n", i + 1));
            }
            text.push_str(
                "\nReply to this message with your answers, or press **Answer** for a form.",
            );
            ChatMessage {
                text,
                buttons: vec![Button {
                    custom_id: Action::Checkin {
                        circle_id: circle.id,
                        period: d.period.clone(),
                    }
                    .custom_id(),
                    label: "Answer".to_owned(),
                    style: ButtonStyle::Primary,
                }],
                attachments: Vec::new(),
            }
        }
        DeliveryKind::DeepDive => {
            let spec = specs::current(pool, member_id).await?;
            let mut text = format!(
                "Hi {name}, it's {}: time for the annual deep dive. **Do I still want this?**\n",
                d.period
            );
            match spec.as_ref().map(|s| s.vision.trim()).filter(|v| !v.is_empty()) {
                Some(v) => text.push_str(&format!("A year ago you wrote: > {}\n", truncate(v, 600))),
                None => text.push_str("You haven't written a 5-year vision yet; `/spec edit` is a good place to start.\n"),
            }
            if let Some(s) = &spec {
                let days = (now - s.phase_since).num_days();
                if days > 540 {
                    text.push_str(&format!(
                        "You've been in a **{}** phase for {} months. Is it time to switch?\n",
                        s.phase,
                        days / 30
                    ));
                }
            }
            text.push_str("Update the vision and roadmap with `/spec edit` if it has moved.");
            ChatMessage::text(text)
        }
        DeliveryKind::ReviewOpen | DeliveryKind::ReviewMidway | DeliveryKind::ReviewClose => {
            // The worker hands circle-wide kinds to schedule::review; reaching here is a routing bug.
            anyhow::bail!("{kind} is not rendered as a single message")
        }
        DeliveryKind::OrganiserAlert => {
            let organisers: Vec<_> = circles::members_of_circle(pool, circle.id)
                .await?
                .into_iter()
                .filter(|m| m.role == "organiser" && m.member_id != member_id)
                .collect();
            if organisers.is_empty() {
                return Ok(Rendered::Skip(
                    "the circle has no other organiser to tell".to_owned(),
                ));
            }
            let reason = crate::store::deliveries::last_failure_for(pool, circle.id, member_id)
                .await?
                .unwrap_or_else(|| "could not be reached".to_owned());
            let text = format!(
                "Heads-up for {}: I couldn't deliver prompts to **{}** ({reason}). They may have DMs from server \
                 members turned off; could you let them know? I won't mention this again this quarter.",
                circle.name, member.display_name
            );
            return Ok(Rendered::Send(
                organisers
                    .into_iter()
                    .map(|o| {
                        (
                            Destination::Dm {
                                user_id: o.platform_user_id,
                            },
                            ChatMessage::text(text.clone()),
                        )
                    })
                    .collect(),
            ));
        }
    };
    Ok(Rendered::Send(vec![(dm, message)]))
}

fn first_name(display: &str) -> &str {
    display.split_whitespace().next().unwrap_or(display)
}

pub fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}
