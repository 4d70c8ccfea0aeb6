//! The quarterly check-in prompt and its reminder.

use sqlx::PgPool;

use crate::chat::fit::clip;
use crate::chat::text::{Text, bold};
use crate::chat::{Button, ButtonStyle, Capabilities, Destination};
use crate::domain::action::Action;
use crate::domain::checkin::questions;
use crate::domain::delivery::DeliveryKind;
use crate::domain::narrative::FeedbackRef;
use crate::domain::period::{Period, local_date};
use crate::domain::spec::{Phase, checkin_asks_stay_or_switch};
use crate::schedule::render::{Rendered, messages, recipient};
use crate::spans;
use crate::store::deliveries::Claimed;
use crate::store::{checkins, scorecard, specs};

/// Enough of the vision to recognise it; the whole spec is a command away.
const VISION_QUOTE: usize = 300;
/// Enough of a reader's words to recognise them.
const FEEDBACK_QUOTE: usize = 300;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub reminder: bool,
    pub first_name: String,
    pub circle_id: i64,
    pub circle_name: String,
    pub quarter: Period,
    pub vision: Option<String>,
    pub answered: bool,
    /// The member's phase and the local date it began; None without a spec (the generic questions).
    pub phase: Option<(Phase, chrono::NaiveDate)>,
    /// Four quarters (or a multiple) in one phase: this check-in asks "stay or switch?".
    pub stay_or_switch: bool,
    /// The scorecard to fill in: each metric as "name (what to type)", and the milestones that can be marked.
    pub metrics: Vec<String>,
    pub milestones: usize,
    /// Feedback to come back to: contradicting pieces and experiments that end this quarter.
    pub feedback: Vec<FollowUp>,
}

/// Feedback the check-in comes back to, quoted in the member's readers' words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowUp {
    /// Two readers pulled in opposite directions on one part of the spec: (author words, text) each.
    Contradiction {
        part: String,
        one: (String, String),
        other: (String, String),
    },
    /// An experiment the member said they'd try until this quarter.
    Experiment { from: String, text: String },
}

/// What the check-in of `quarter` comes back to: pairs marked contradicting in the quarter before it (the check-in
/// after the marking), and experiments that run until it.
pub fn follow_ups(
    pieces: &[crate::store::feedback::Piece],
    quarter: Period,
    quarter_start: chrono::DateTime<chrono::Utc>,
    previous_start: chrono::DateTime<chrono::Utc>,
) -> Vec<FollowUp> {
    let words = crate::app::feedback::author_words;
    let in_last_quarter =
        |at: chrono::DateTime<chrono::Utc>| at >= previous_start && at < quarter_start;
    let mut out = Vec::new();
    let mut quoted: Vec<(FeedbackRef, FeedbackRef)> = Vec::new();
    for p in pieces {
        let Some(m) = &p.mark else { continue };
        // Marked as contradicting by the member, on a part they tagged; or by a reader who answered an earlier
        // piece, once the member tagged both to the same part.
        let pair = match (m.contradicts, &m.part) {
            (Some(other), Some(part)) if in_last_quarter(m.marked_at) => {
                pieces.iter().find(|x| x.r == other).map(|o| (o, part))
            }
            _ => p
                .answers
                .and_then(|a| pieces.iter().find(|x| x.r == a))
                .and_then(|o| {
                    let om = o.mark.as_ref()?;
                    let part = m.part.as_ref()?;
                    (om.part.as_ref() == Some(part)
                        && in_last_quarter(m.marked_at.max(om.marked_at)))
                    .then_some((o, part))
                }),
        };
        if let Some((o, part)) = pair
            && !quoted.contains(&(p.r, o.r))
            && !quoted.contains(&(o.r, p.r))
        {
            quoted.push((p.r, o.r));
            out.push(FollowUp::Contradiction {
                part: part.clone(),
                one: (words(o), o.text.clone()),
                other: (words(p), p.text.clone()),
            });
        }
        if m.until == Some(quarter) {
            out.push(FollowUp::Experiment {
                from: words(p),
                text: p.text.clone(),
            });
        }
    }
    out
}

pub async fn render(pool: &PgPool, d: &Claimed, caps: &Capabilities) -> anyhow::Result<Rendered> {
    let who = match recipient(pool, d).await? {
        Ok(r) => r,
        Err(reason) => return Ok(Rendered::Skip(reason)),
    };
    let answered = checkins::find(pool, who.member.id, who.circle.id, d.period)
        .await?
        .is_some();
    let spec = specs::current(pool, who.member.id).await?;
    let vision = spec
        .as_ref()
        .map(|s| s.text.vision.clone())
        .filter(|v| !v.trim().is_empty());
    let phase = spec
        .as_ref()
        .map(|s| (s.phase, local_date(s.phase_since, who.zone)));
    let metrics = scorecard::metrics_of(pool, who.member.id, false)
        .await?
        .into_iter()
        .map(|m| format!("{} ({})", m.name, m.value_type.hint()))
        .collect();
    let milestones = spec
        .as_ref()
        .map_or(0, |s| crate::domain::scorecard::milestones(&s.text).len());
    let reminder = d.kind == DeliveryKind::CheckinReminder;
    let feedback = if reminder {
        Vec::new()
    } else {
        let pieces = crate::store::feedback::received(pool, who.member.id).await?;
        let (start, _) = crate::schedule::review::load::bounds(d.period, who.zone);
        let (previous, _) = crate::schedule::review::load::bounds(d.period.prev(), who.zone);
        follow_ups(&pieces, d.period, start, previous)
    };
    let prompt = Prompt {
        reminder,
        first_name: who.first_name().to_owned(),
        circle_id: who.circle.id,
        circle_name: who.circle.name.clone(),
        quarter: d.period,
        vision,
        answered,
        stay_or_switch: phase
            .is_some_and(|(_, since)| checkin_asks_stay_or_switch(since, d.period)),
        phase,
        metrics,
        milestones,
        feedback,
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
    if let Some((phase, since)) = p.phase
        && p.stay_or_switch
    {
        text.line(spans![
            format!(
                "You've been in your {} phase since {}: four quarters or more. ",
                phase.as_str(),
                since.format("%-d %B %Y")
            ),
            bold("Stay or switch?"),
            format!(
                " {}",
                match phase {
                    Phase::Learning =>
                        "Is it time to put what you learned to work in an impact role?",
                    Phase::Impact => "Is it time to stretch again in a learning role?",
                }
            )
        ]);
    }
    for f in &p.feedback {
        match f {
            FollowUp::Contradiction { part, one, other } => {
                text.line(spans![
                    "Your readers pulled in opposite directions on your ",
                    bold(part),
                    ":"
                ]);
                text.quote(spans![format!(
                    "{}: {}",
                    one.0,
                    clip(&one.1, FEEDBACK_QUOTE)
                )]);
                text.quote(spans![format!(
                    "{}: {}",
                    other.0,
                    clip(&other.1, FEEDBACK_QUOTE)
                )]);
                text.line(spans![
                    "Both can be true (the shadow of a superpower). What did you decide?"
                ]);
            }
            FollowUp::Experiment { from, text: words } => {
                text.line(spans![format!(
                    "Your experiment until {quarter}, from {from}'s feedback:"
                )]);
                text.quote(spans![clip(words, FEEDBACK_QUOTE)]);
                text.line(spans!["How did it go: adopt it, or set it aside?"]);
            }
        }
    }
    text.blank();
    for (i, (_, q)) in questions(p.phase.map(|(ph, _)| ph), p.stay_or_switch)
        .iter()
        .enumerate()
    {
        text.line(spans![format!("{}. {q}", i + 1)]);
    }
    text.blank();
    text.line(spans![
        "Reply to this message with your answers, or press ",
        bold("Answer"),
        " for a form."
    ]);
    let mut buttons = vec![answer_button(p.circle_id, p.quarter, "Answer")];
    if !p.metrics.is_empty() || p.milestones > 0 {
        let mut line = spans!["Your scorecard: "];
        if !p.metrics.is_empty() {
            line.push(clip(&p.metrics.join(", "), 400).into());
            line.push(". ".into());
        }
        if p.milestones > 0 {
            line.push("Mark each roadmap milestone on track, at risk or done. ".into());
        }
        line.extend(spans![
            "Press ",
            bold("Scorecard"),
            ", or reply with lines like ",
            crate::chat::text::code("metric posts: 3"),
            " or ",
            crate::chat::text::code("milestone 1y: on track"),
            "."
        ]);
        text.line(line);
        buttons.push(Button {
            custom_id: Action::Scorecard {
                circle_id: p.circle_id,
                period: p.quarter.key(),
            }
            .custom_id(),
            label: "Scorecard".to_owned(),
            style: ButtonStyle::Secondary,
        });
    }
    Rendered::Send(messages(to, &text, buttons, caps))
}

/// The button that opens a check-in's form, wherever it is offered (the prompt, a dashboard).
pub fn answer_button(circle_id: i64, quarter: Period, label: &str) -> Button {
    Button {
        custom_id: Action::Checkin {
            circle_id,
            period: quarter.key(),
        }
        .custom_id(),
        label: label.to_owned(),
        style: ButtonStyle::Primary,
    }
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
            phase: None,
            stay_or_switch: false,
            metrics: Vec::new(),
            milestones: 0,
            feedback: Vec::new(),
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

    #[test]
    fn the_phase_words_the_questions_and_four_quarters_ask_stay_or_switch() {
        let since = chrono::NaiveDate::from_ymd_opt(2026, 3, 15).unwrap_or_default();
        let p = Prompt {
            reminder: false,
            first_name: "Ada".to_owned(),
            circle_id: 3,
            circle_name: "PM Circle".to_owned(),
            quarter: Period::quarter(2027, 1).unwrap_or(Period::Year { year: 2027 }),
            vision: None,
            answered: false,
            phase: Some((Phase::Learning, since)),
            stay_or_switch: false,
            metrics: vec!["posts (a count)".to_owned()],
            milestones: 1,
            feedback: Vec::new(),
        };
        let to = Destination::Dm {
            user_id: "1".to_owned(),
        };
        let plain = |p: &Prompt| match word(p, &to, &Capabilities::CONSOLE) {
            Rendered::Send(m) => (m[0].1.text.to_plain(), m[0].1.buttons.clone()),
            Rendered::Skip(why) => panic!("{why}"),
        };
        let (learning, buttons) = plain(&p);
        assert!(
            learning.contains("2. What did I learn that I could not do a quarter ago?"),
            "{learning}"
        );
        assert!(
            learning.contains("3. What stretched me")
                && learning.contains("4. Who did I learn from?")
        );
        assert!(!learning.contains("Stay or switch"));
        assert_eq!(buttons[1].custom_id, "cc:score:3:2027-Q1");
        assert!(learning.contains("`metric posts: 3`"), "{learning}");
        let impact = Prompt {
            phase: Some((Phase::Impact, since)),
            stay_or_switch: true,
            ..p
        };
        let (impact, _) = plain(&impact);
        assert!(
            impact.contains("2. What changed because of my work, in outcome terms?"),
            "{impact}"
        );
        assert!(impact.contains("3. What did I decide not to do?"));
        assert!(
            impact.contains("You've been in your impact phase since 15 March 2026"),
            "{impact}"
        );
        assert!(impact.contains("Stay or switch?") && impact.contains("5. Stay or switch?"));
    }
}
