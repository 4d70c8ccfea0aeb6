//! The monthly writing nudge and its reminder on the 20th.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::chat::text::{Text, bold, code};
use crate::chat::{Button, ButtonStyle, Capabilities, Destination};
use crate::domain::action::Action;
use crate::domain::commitment::{MarkStatus, record};
use crate::domain::delivery::DeliveryKind;
use crate::domain::period::{Cadence, Period, local_date};
use crate::domain::spec::Phase;
use crate::schedule::render::{Rendered, messages, recipient};
use crate::spans;
use crate::store::commitments::{self, marks_of};
use crate::store::deliveries::Claimed;
use crate::store::specs;

/// A nudge's Done buttons: more would crowd the message; the rest are marked with `/commit done`.
const DONE_BUTTONS: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nudge {
    pub reminder: bool,
    pub first_name: String,
    pub month: Period,
    pub lines: Vec<Line>,
    /// The member's phase chooses what the nudge suggests writing about; None without a spec.
    pub phase: Option<Phase>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub commitment_id: i64,
    pub title: String,
    pub streak: u32,
    pub done_this_month: bool,
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
    let month = match d.period {
        p @ Period::Month { .. } => p,
        _ => Period::containing_month(local_date(now, who.zone)),
    };
    let open = commitments::open_of_member(pool, who.member.id).await?;
    let marks = commitments::periods_of_member(pool, who.member.id).await?;
    let lines = open
        .iter()
        .filter(|c| c.cadence == Cadence::Monthly)
        .map(|c| {
            let m = marks_of(&marks, c.id);
            Line {
                commitment_id: c.id,
                title: c.title.clone(),
                streak: record(c.first_period(), month, &m).streak,
                done_this_month: m.status(month) == Some(MarkStatus::Done),
            }
        })
        .collect();
    let phase = specs::current(pool, who.member.id).await?.map(|s| s.phase);
    let nudge = Nudge {
        reminder: d.kind == DeliveryKind::NudgeReminder,
        first_name: who.first_name().to_owned(),
        month,
        lines,
        phase,
    };
    Ok(word(&nudge, &who.dm(), caps))
}

fn streak(n: u32) -> String {
    match n {
        0 => "a fresh start".to_owned(),
        1 => "streak: 1 month".to_owned(),
        n => format!("streak: {n} months"),
    }
}

/// The nudge's words and buttons, or why nothing is owed.
pub fn word(n: &Nudge, to: &Destination, caps: &Capabilities) -> Rendered {
    let owed: Vec<&Line> = n
        .lines
        .iter()
        .filter(|l| !(n.reminder && l.done_this_month))
        .collect();
    if owed.is_empty() {
        return Rendered::Skip(if n.reminder {
            "already marked done this month".to_owned()
        } else {
            "no open monthly commitment".to_owned()
        });
    }
    let label = n.month.label();
    let mut text = Text::new();
    if n.reminder {
        text.line(spans![format!(
            "A gentle nudge, {}: {label} is two-thirds gone and this isn't marked done yet.",
            n.first_name
        )]);
    } else {
        text.line(spans![format!(
            "Hi {}, it's {label}: time for your monthly writing.",
            n.first_name
        )]);
    }
    for l in &owed {
        text.item(spans![bold(&l.title), format!(" ({})", streak(l.streak))]);
    }
    match n.phase {
        Some(Phase::Learning) => text.line(spans![
            "Something to write about, from your learning phase: what did you learn this month that you couldn't \
             do before, what stretched you, and who did you learn from?"
        ]),
        Some(Phase::Impact) => text.line(spans![
            "Something to write about, from your impact phase: what changed because of your work this month, in \
             outcome terms, and what did you decide not to do?"
        ]),
        None => &mut text,
    };
    text.blank();
    if n.reminder {
        text.line(spans![
            "A short post counts. Press ",
            bold("Done"),
            " when it's out, or skip the month."
        ]);
    } else {
        text.line(spans![
            "When it's out, press ",
            bold("Done"),
            " (or reply ",
            code("done <link>"),
            "). Not this month? Skip it, no guilt."
        ]);
    }
    let mut buttons = Vec::new();
    for l in owed.iter().take(DONE_BUTTONS) {
        buttons.push(Button {
            custom_id: Action::Done {
                commitment_id: l.commitment_id,
                period: n.month.key(),
            }
            .custom_id(),
            label: format!("Done: {}", l.title),
            style: ButtonStyle::Success,
        });
        if owed.len() == 1 {
            buttons.push(Button {
                custom_id: Action::Skip {
                    commitment_id: l.commitment_id,
                    period: n.month.key(),
                }
                .custom_id(),
                label: "Skip this month".to_owned(),
                style: ButtonStyle::Secondary,
            });
        }
    }
    Rendered::Send(messages(to, &text, buttons, caps))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nudge(titles: &[&str], reminder: bool) -> Nudge {
        Nudge {
            reminder,
            first_name: "Ada".to_owned(),
            month: Period::month(2027, 3).unwrap_or(Period::Year { year: 2027 }),
            lines: titles
                .iter()
                .enumerate()
                .map(|(i, t)| Line {
                    commitment_id: i as i64 + 1,
                    title: (*t).to_owned(),
                    streak: i as u32,
                    done_this_month: i == 0,
                })
                .collect(),
            phase: None,
        }
    }

    fn dm() -> Destination {
        Destination::Dm {
            user_id: "1".to_owned(),
        }
    }

    #[test]
    fn one_commitment_gets_done_and_skip() {
        let Rendered::Send(msgs) = word(
            &nudge(&["publish one post"], false),
            &dm(),
            &Capabilities::CONSOLE,
        ) else {
            panic!("a nudge is owed");
        };
        assert_eq!(msgs.len(), 1);
        let m = &msgs[0].1;
        let text = m.text.to_plain();
        assert!(text.starts_with("Hi Ada, it's March 2027: time for your monthly writing.\n• publish one post (a fresh start)"), "{text}");
        assert!(text.contains("`done <link>`"));
        let labels: Vec<&str> = m.buttons.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["Done: publish one post", "Skip this month"]);
    }

    #[test]
    fn the_phase_chooses_what_to_write_about() {
        let words = |phase| {
            let n = Nudge {
                phase,
                ..nudge(&["publish one post"], false)
            };
            match word(&n, &dm(), &Capabilities::CONSOLE) {
                Rendered::Send(m) => m[0].1.text.to_plain(),
                Rendered::Skip(why) => panic!("{why}"),
            }
        };
        let learning = words(Some(Phase::Learning));
        assert!(
            learning.contains("what did you learn this month that you couldn't do before, what stretched you, and who did you learn from?"),
            "{learning}"
        );
        let impact = words(Some(Phase::Impact));
        assert!(
            impact.contains("what changed because of your work this month, in outcome terms, and what did you decide not to do?"),
            "{impact}"
        );
        assert!(!words(None).contains("Something to write about"));
    }

    #[test]
    fn the_reminder_leaves_out_what_is_done() {
        assert_eq!(
            word(&nudge(&["a"], true), &dm(), &Capabilities::CONSOLE),
            Rendered::Skip("already marked done this month".to_owned())
        );
        let Rendered::Send(msgs) = word(&nudge(&["a", "b"], true), &dm(), &Capabilities::CONSOLE)
        else {
            panic!("b is owed");
        };
        let text = msgs[0].1.text.to_plain();
        assert!(text.contains("• b (streak: 1 month)") && !text.contains("• a"));
        assert_eq!(
            word(&nudge(&[], false), &dm(), &Capabilities::CONSOLE),
            Rendered::Skip("no open monthly commitment".to_owned())
        );
    }
}
