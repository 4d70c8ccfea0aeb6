//! The annual deep dive: "Do I still want this?"

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::chat::fit::clip;
use crate::chat::text::{Text, bold, cmd};
use crate::chat::{Capabilities, Destination};
use crate::domain::period::Period;
use crate::domain::spec::Phase;
use crate::schedule::render::{Rendered, messages, recipient};
use crate::spans;
use crate::store::deliveries::Claimed;
use crate::store::specs;

/// Past a year and a half in one phase, the deep dive asks whether it is time to switch.
const LONG_IN_PHASE_DAYS: i64 = 540;
const VISION_QUOTE: usize = 600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeepDive {
    pub first_name: String,
    pub year: Period,
    pub vision: Option<String>,
    /// The phase and how many days the member has been in it.
    pub phase: Option<(Phase, i64)>,
}

pub async fn render(
    pool: &PgPool,
    d: &Claimed,
    caps: &Capabilities,
    now: DateTime<Utc>,
) -> anyhow::Result<Rendered> {
    let who = match recipient(pool, d).await? {
        Ok(r) => r,
        Err(reason) => return Ok(Rendered::Skip(reason)),
    };
    let spec = specs::current(pool, who.member.id).await?;
    let dive = DeepDive {
        first_name: who.first_name().to_owned(),
        year: d.period,
        vision: spec
            .as_ref()
            .map(|s| s.text.vision.trim().to_owned())
            .filter(|v| !v.is_empty()),
        phase: spec.map(|s| (s.phase, (now - s.phase_since).num_days())),
    };
    Ok(word(&dive, &who.dm(), caps))
}

pub fn word(d: &DeepDive, to: &Destination, caps: &Capabilities) -> Rendered {
    let mut text = Text::new();
    text.line(spans![
        format!(
            "Hi {}, it's {}: time for the annual deep dive. ",
            d.first_name,
            d.year.label()
        ),
        bold("Do I still want this?")
    ]);
    match &d.vision {
        Some(v) => {
            text.line(spans!["A year ago you wrote:"]);
            text.quote(spans![clip(v, VISION_QUOTE)]);
        }
        None => {
            text.line(spans![
                "You haven't written a 5-year vision yet; ",
                cmd("spec edit"),
                " is a good place to start."
            ]);
        }
    }
    if let Some((phase, days)) = d.phase
        && days > LONG_IN_PHASE_DAYS
    {
        text.line(spans![
            "You've been in a ",
            bold(phase.as_str()),
            format!(" phase for {} months. Is it time to switch?", days / 30)
        ]);
    }
    text.line(spans![
        "Update the vision and roadmap with ",
        cmd("spec edit"),
        " if it has moved."
    ]);
    Rendered::Send(messages(to, &text, Vec::new(), caps))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_about_a_long_phase() {
        let d = DeepDive {
            first_name: "Ada".to_owned(),
            year: Period::Year { year: 2028 },
            vision: None,
            phase: Some((Phase::Learning, 600)),
        };
        let to = Destination::Dm {
            user_id: "1".to_owned(),
        };
        let Rendered::Send(m) = word(&d, &to, &Capabilities::CONSOLE) else {
            panic!("owed");
        };
        let text = m[0].1.text.to_plain();
        assert!(text.contains("it's 2028: time for the annual deep dive. Do I still want this?"));
        assert!(text.contains("`/spec edit` is a good place to start"));
        assert!(text.contains("learning phase for 20 months"), "{text}");
    }
}
