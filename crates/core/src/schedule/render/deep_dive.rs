//! The annual deep dive: "Do I still want this?"

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

use crate::chat::fit::clip;
use crate::chat::text::{Text, bold, cmd};
use crate::chat::{Capabilities, Destination};
use crate::domain::bet::{asks_for_big_swing, last_big_swing};
use crate::domain::period::{Period, local_date};
use crate::domain::spec::{Phase, quarters_in_phase};
use crate::schedule::render::{Rendered, messages, recipient};
use crate::spans;
use crate::store::deliveries::Claimed;
use crate::store::{portfolio, specs};

/// After four quarters in one phase, the deep dive asks "stay or switch?".
const STAY_OR_SWITCH_QUARTERS: i64 = 4;
/// Roughly a quarter, for a view that knows the days in a phase but not its quarters.
const DAYS_PER_QUARTER: i64 = 91;
const VISION_QUOTE: usize = 600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeepDive {
    pub first_name: String,
    pub year: Period,
    pub vision: Option<String>,
    /// The phase and how many days the member has been in it.
    pub phase: Option<(Phase, i64)>,
    /// The local date the phase began, quoted back.
    pub phase_since: Option<NaiveDate>,
    /// Whole quarters from the phase's first to the deep dive's; None: counted from the days.
    pub quarters_in_phase: Option<i64>,
    /// Established, and no big swing in two years: ask about one.
    pub ask_big_swing: bool,
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
    let since = spec.as_ref().map(|s| local_date(s.phase_since, who.zone));
    let dive_quarter = Period::containing_quarter(local_date(now, who.zone));
    let bets = portfolio::bets_of(pool, who.member.id).await?;
    let member_since = portfolio::member_since(pool, who.member.id)
        .await?
        .unwrap_or(now);
    let dive = DeepDive {
        first_name: who.first_name().to_owned(),
        year: d.period,
        vision: spec
            .as_ref()
            .map(|s| s.text.vision.trim().to_owned())
            .filter(|v| !v.is_empty()),
        phase: spec
            .as_ref()
            .map(|s| (s.phase, (now - s.phase_since).num_days())),
        phase_since: since,
        quarters_in_phase: since.map(|s| quarters_in_phase(s, dive_quarter)),
        ask_big_swing: asks_for_big_swing(
            spec.as_ref().is_some_and(|s| s.established),
            member_since,
            last_big_swing(&bets, now),
            now,
        ),
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
        && d.quarters_in_phase.unwrap_or(days / DAYS_PER_QUARTER) >= STAY_OR_SWITCH_QUARTERS
    {
        let mut line = spans![
            "You've been in a ",
            bold(phase.as_str()),
            format!(" phase for {} months", days / 30)
        ];
        if let Some(since) = d.phase_since {
            line.push(format!(" (since {})", since.format("%-d %B %Y")).into());
        }
        line.extend(spans![
            ". ",
            bold("Stay or switch?"),
            match phase {
                Phase::Learning =>
                    " Learning roles stretch you; impact roles put what you learned to work.",
                Phase::Impact =>
                    " Impact roles use your expertise; a learning role would stretch you again.",
            },
            " Record a switch with ",
            cmd(match phase {
                Phase::Learning => "spec phase impact",
                Phase::Impact => "spec phase learning",
            }),
            "."
        ]);
        text.line(line);
    }
    if d.ask_big_swing {
        text.line(spans![
            "You're established in your role, and there's been no big swing in your portfolio for two years. ",
            bold("Is there a zero-to-one bet you'd take this year?"),
            " Most fail; the ones that work change the curve. Tag it with ",
            cmd("commit add portfolio:big-swing"),
            "."
        ]);
    }
    text.line(spans![
        "Update the vision and roadmap with ",
        cmd("spec edit"),
        " if it has moved."
    ]);
    // The year that just ended, told as a story from the member's own wins: raw material for this look back.
    let last_year = d.year.prev().label();
    text.line(spans![
        format!("Your {last_year} as a story, drafted from your own wins: "),
        cmd(format!("story {last_year}")),
        "."
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
            phase_since: None,
            quarters_in_phase: None,
            ask_big_swing: false,
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

    #[test]
    fn stay_or_switch_after_four_quarters_and_the_big_swing_question() {
        let d = DeepDive {
            first_name: "Ada".to_owned(),
            year: Period::Year { year: 2027 },
            vision: Some("Head of product".to_owned()),
            phase: Some((Phase::Impact, 300)),
            phase_since: NaiveDate::from_ymd_opt(2026, 3, 15),
            quarters_in_phase: Some(4),
            ask_big_swing: true,
        };
        let to = Destination::Dm {
            user_id: "1".to_owned(),
        };
        let words = |d: &DeepDive| match word(d, &to, &Capabilities::CONSOLE) {
            Rendered::Send(m) => m[0].1.text.to_plain(),
            Rendered::Skip(why) => panic!("{why}"),
        };
        let text = words(&d);
        assert!(
            text.contains("impact phase for 10 months (since 15 March 2026). Stay or switch?"),
            "{text}"
        );
        assert!(text.contains("Is there a zero-to-one bet you'd take this year?"));
        let early = DeepDive {
            quarters_in_phase: Some(3),
            ask_big_swing: false,
            ..d
        };
        let text = words(&early);
        assert!(
            !text.contains("Stay or switch") && !text.contains("zero-to-one"),
            "{text}"
        );
    }
}
