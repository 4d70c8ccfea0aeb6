//! Six and twelve months after a taken offer: did it deliver the learning, impact, compensation and team it was
//! scored for? One message per member and month asks about every offer whose mark falls in that month.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::chat::text::{Text, bold, cmd};
use crate::chat::{Button, ButtonStyle, Capabilities, Destination};
use crate::domain::action::Action;
use crate::domain::opportunity::{CRITERIA, Decision, LIVED, hindsight_dates};
use crate::domain::period::Period;
use crate::schedule::render::{Rendered, messages, recipient};
use crate::spans;
use crate::store::deliveries::Claimed;
use crate::store::opportunities;

/// Buttons one message carries: more offers taken in one month than this are answered with the command.
const BUTTONS: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub evaluation_id: i64,
    pub number: i64,
    pub name: String,
    pub months: u32,
    /// learning, impact, compensation, team as scored.
    pub scored: [u8; LIVED],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub first_name: String,
    pub due: Vec<Due>,
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
    let all = opportunities::of_member(pool, who.member.id).await?;
    let lived = opportunities::hindsight_of_member(pool, who.member.id).await?;
    let mut due = Vec::new();
    for s in &all {
        let (Some(Decision::Taken), Some(on)) = (s.decision, s.decided_on) else {
            continue;
        };
        for (months, at) in hindsight_dates(on) {
            let answered = lived
                .iter()
                .any(|h| h.evaluation_id == s.id && h.months == months);
            if Period::containing_month(at) == d.period && !answered {
                let mut scored = [0; LIVED];
                for (i, (key, _, _)) in CRITERIA.iter().take(LIVED).enumerate() {
                    scored[i] = s.score(key).unwrap_or(0);
                }
                due.push(Due {
                    evaluation_id: s.id,
                    number: s.number,
                    name: s.e.name.clone(),
                    months,
                    scored,
                });
            }
        }
    }
    let q = Question {
        first_name: who.first_name().to_owned(),
        due,
    };
    Ok(word(&q, &who.dm(), caps))
}

fn months_word(m: u32) -> &'static str {
    if m == 12 { "A year" } else { "Six months" }
}

pub fn word(q: &Question, to: &Destination, caps: &Capabilities) -> Rendered {
    if q.due.is_empty() {
        return Rendered::Skip(
            "no taken offer is owed a question this month (answered, or undone)".to_owned(),
        );
    }
    let mut text = Text::new();
    text.line(spans![format!(
        "Hi {}, a look back at an offer you took, so your next scores learn from it.",
        q.first_name
    )]);
    for d in &q.due {
        text.item(spans![
            format!("{} ago you took ", months_word(d.months)),
            bold(&d.name),
            format!(
                ". You scored it learning {}, impact {}, compensation {}, team {}. Did it deliver?",
                d.scored[0], d.scored[1], d.scored[2], d.scored[3]
            )
        ]);
    }
    text.line(spans![
        "Press the button to score what you've lived, 1-5 each, or use ",
        cmd("opportunity lived"),
        ". Your answer shows next to the scores in ",
        cmd("opportunity list"),
        "."
    ]);
    let buttons = q
        .due
        .iter()
        .take(BUTTONS)
        .map(|d| Button {
            custom_id: Action::Lived {
                evaluation_id: d.evaluation_id,
                months: d.months,
            }
            .custom_id(),
            label: format!("How #{} went: {}", d.number, d.name),
            style: ButtonStyle::Primary,
        })
        .collect();
    Rendered::Send(messages(to, &text, buttons, caps))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_about_each_offer_due_with_its_scores() {
        let q = Question {
            first_name: "Ada".to_owned(),
            due: vec![Due {
                evaluation_id: 7,
                number: 2,
                name: "Acme staff PM".to_owned(),
                months: 6,
                scored: [4, 3, 4, 3],
            }],
        };
        let to = Destination::Dm {
            user_id: "1".to_owned(),
        };
        let Rendered::Send(m) = word(&q, &to, &Capabilities::CONSOLE) else {
            panic!("owed");
        };
        let text = m[0].1.text.to_plain();
        assert!(
            text.contains(
                "Six months ago you took Acme staff PM. You scored it learning 4, impact 3"
            ),
            "{text}"
        );
        assert_eq!(m[0].1.buttons[0].custom_id, "cc:lived:7:6");
        assert!(matches!(
            word(&Question { due: vec![], ..q }, &to, &Capabilities::CONSOLE),
            Rendered::Skip(_)
        ));
    }
}
