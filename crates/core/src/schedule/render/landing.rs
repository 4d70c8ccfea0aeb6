//! Day 30, 60 and 90 of a landing plan in a new role: how did that phase go? One message per phase, with a button to
//! the form that keeps the outcome.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::chat::text::{Text, bold};
use crate::chat::{Button, ButtonStyle, Capabilities, Destination};
use crate::domain::action::Action;
use crate::domain::narrative::{landing_date, landing_phase};
use crate::domain::period::Period;
use crate::schedule::render::{Rendered, messages, recipient};
use crate::spans;
use crate::store::deliveries::Claimed;
use crate::store::events;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub first_name: String,
    pub plan_id: i64,
    pub day: u32,
    /// Whether the phase's outcome is already kept (the member answered early).
    pub answered: bool,
}

pub async fn render(
    pool: &PgPool,
    d: &Claimed,
    caps: &Capabilities,
    _now: DateTime<Utc>,
) -> anyhow::Result<Rendered> {
    let who = match recipient(pool, d).await? {
        Ok(r) => r,
        Err(reason) => return Ok(Rendered::Skip(reason)),
    };
    let Some(day) = d.kind.landing_day() else {
        anyhow::bail!("{} is not a landing question", d.kind);
    };
    // The plan whose day falls in the delivery's month; the latest if two do.
    let plan = events::plans_of(pool, who.member.id)
        .await?
        .into_iter()
        .find(|p| Period::containing_month(landing_date(p.started_on, day)) == d.period);
    let Some(plan) = plan else {
        return Ok(Rendered::Skip("the landing plan is gone".to_owned()));
    };
    let q = Question {
        first_name: who.first_name().to_owned(),
        plan_id: plan.id,
        day,
        answered: plan.outcomes.iter().any(|(d, _, _)| *d == day),
    };
    Ok(word(&q, &who.dm(), caps))
}

pub fn word(q: &Question, to: &Destination, caps: &Capabilities) -> Rendered {
    if q.answered {
        return Rendered::Skip("the phase's outcome is already kept".to_owned());
    }
    let Some((day, name, what)) = landing_phase(q.day) else {
        return Rendered::Skip("not a landing day".to_owned());
    };
    let mut text = Text::new();
    text.line(spans![
        format!("Hi {}, day {day} in your new role: the ", q.first_name),
        bold(name),
        " phase ends today."
    ]);
    text.line(spans![format!(
        "How did it go? A few lines on {what}. It goes in your next review post and your story."
    )]);
    let button = Button {
        custom_id: Action::Landing {
            plan_id: q.plan_id,
            day,
        }
        .custom_id(),
        label: format!("How days {}-{day} went", day - 29),
        style: ButtonStyle::Primary,
    };
    Rendered::Send(messages(to, &text, vec![button], caps))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_for_the_phase_and_skips_when_answered() {
        let q = Question {
            first_name: "Ada".to_owned(),
            plan_id: 3,
            day: 60,
            answered: false,
        };
        let to = Destination::Dm {
            user_id: "1".to_owned(),
        };
        let Rendered::Send(m) = word(&q, &to, &Capabilities::CONSOLE) else {
            panic!("owed");
        };
        assert!(
            m[0].1
                .text
                .to_plain()
                .contains("day 60 in your new role: the align phase")
        );
        assert_eq!(m[0].1.buttons[0].custom_id, "cc:landing:3:60");
        assert!(matches!(
            word(
                &Question {
                    answered: true,
                    ..q
                },
                &to,
                &Capabilities::CONSOLE
            ),
            Rendered::Skip(_)
        ));
    }
}
