//! The quarterly check-in prompt and its reminder.

use sqlx::PgPool;

use crate::chat::fit::clip;
use crate::chat::text::{Text, bold};
use crate::chat::{Button, ButtonStyle, Capabilities, Destination};
use crate::domain::action::Action;
use crate::domain::checkin::QUESTIONS;
use crate::domain::delivery::DeliveryKind;
use crate::domain::period::Period;
use crate::schedule::render::{Rendered, messages, recipient};
use crate::spans;
use crate::store::deliveries::Claimed;
use crate::store::{checkins, specs};

/// Enough of the vision to recognise it; the whole spec is a command away.
const VISION_QUOTE: usize = 300;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub reminder: bool,
    pub first_name: String,
    pub circle_id: i64,
    pub circle_name: String,
    pub quarter: Period,
    pub vision: Option<String>,
    pub answered: bool,
}

pub async fn render(pool: &PgPool, d: &Claimed, caps: &Capabilities) -> anyhow::Result<Rendered> {
    let who = match recipient(pool, d).await? {
        Ok(r) => r,
        Err(reason) => return Ok(Rendered::Skip(reason)),
    };
    let answered = checkins::find(pool, who.member.id, who.circle.id, d.period)
        .await?
        .is_some();
    let vision = specs::current(pool, who.member.id)
        .await?
        .map(|s| s.text.vision)
        .filter(|v| !v.trim().is_empty());
    let prompt = Prompt {
        reminder: d.kind == DeliveryKind::CheckinReminder,
        first_name: who.first_name().to_owned(),
        circle_id: who.circle.id,
        circle_name: who.circle.name.clone(),
        quarter: d.period,
        vision,
        answered,
    };
    Ok(word(&prompt, &who.dm(), caps))
}

pub fn word(p: &Prompt, to: &Destination, caps: &Capabilities) -> Rendered {
    if p.reminder && p.answered {
        return Rendered::Skip("already checked in".to_owned());
    }
    let quarter = p.quarter.label();
    let mut text = Text::new();
    if p.reminder {
        text.line(spans![format!(
            "Hi {}, your {quarter} check-in for {} is still open; a few lines are plenty.",
            p.first_name, p.circle_name
        )]);
    } else {
        text.line(spans![
            format!("Hi {}, it's check-in time for ", p.first_name),
            bold(&quarter),
            format!(" in {}.", p.circle_name)
        ]);
    }
    if let Some(v) = &p.vision {
        text.line(spans!["Your 5-year vision:"]);
        text.quote(spans![clip(v, VISION_QUOTE)]);
    }
    text.blank();
    for (i, (_, q)) in QUESTIONS.iter().enumerate() {
        text.line(spans![format!("{}. {q}", i + 1)]);
    }
    text.blank();
    text.line(spans![
        "Reply to this message with your answers, or press ",
        bold("Answer"),
        " for a form."
    ]);
    let answer = Button {
        custom_id: Action::Checkin {
            circle_id: p.circle_id,
            period: p.quarter.key(),
        }
        .custom_id(),
        label: "Answer".to_owned(),
        style: ButtonStyle::Primary,
    };
    Rendered::Send(messages(to, &text, vec![answer], caps))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vision_is_quoted_on_its_own_lines() {
        let p = Prompt {
            reminder: false,
            first_name: "Ada".to_owned(),
            circle_id: 3,
            circle_name: "PM Circle".to_owned(),
            quarter: Period::quarter(2027, 2).unwrap_or(Period::Year { year: 2027 }),
            vision: Some("Staff PM\nat a climate company".to_owned()),
            answered: false,
        };
        let to = Destination::Dm {
            user_id: "1".to_owned(),
        };
        let Rendered::Send(msgs) = word(&p, &to, &Capabilities::CONSOLE) else {
            panic!("owed");
        };
        let text = msgs[0].1.text.to_plain();
        assert!(text.starts_with("Hi Ada, it's check-in time for Q2 2027 in PM Circle.\nYour 5-year vision:\n> Staff PM\n> at a climate company\n\n1. Am I on track"), "{text}");
        assert_eq!(msgs[0].1.buttons[0].custom_id, "cc:checkin:3:2027-Q2");
        let done = Prompt {
            reminder: true,
            answered: true,
            ..p
        };
        assert_eq!(
            word(&done, &to, &Capabilities::CONSOLE),
            Rendered::Skip("already checked in".to_owned())
        );
    }
}
