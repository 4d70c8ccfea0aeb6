//! Narrative and feedback, the pure part: the spec items a win can serve, "we" without "I", major events, the
//! 30/60/90-day landing plan, and what a member decides about a piece of feedback.

use chrono::NaiveDate;

use crate::domain::spec::SpecText;
use crate::domain::text_enum;

text_enum! {
    /// Which part of the spec a win serves.
    pub enum Serves {
        Milestone = "milestone",
        Skill = "skill",
    }
}

/// One milestone or skill of a spec, in its own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecItem {
    pub kind: Serves,
    pub text: String,
}

/// The milestones (one a line, every horizon) and skills (one a line, or comma-separated on one line) of a spec,
/// numbered in this order for `/win link`.
pub fn spec_items(spec: &SpecText) -> Vec<SpecItem> {
    let mut out = Vec::new();
    for horizon in [
        &spec.milestones_1y,
        &spec.milestones_3y,
        &spec.milestones_5y,
    ] {
        for line in horizon.lines().map(clean).filter(|l| !l.is_empty()) {
            out.push(SpecItem {
                kind: Serves::Milestone,
                text: line,
            });
        }
    }
    let lines: Vec<String> = spec
        .skills
        .lines()
        .map(clean)
        .filter(|l| !l.is_empty())
        .collect();
    let skills: Vec<String> = if lines.len() == 1 {
        lines[0]
            .split([',', ';'])
            .map(clean)
            .filter(|s| !s.is_empty())
            .collect()
    } else {
        lines
    };
    out.extend(skills.into_iter().map(|text| SpecItem {
        kind: Serves::Skill,
        text,
    }));
    out
}

/// A line without its list marker.
fn clean(line: &str) -> String {
    line.trim()
        .trim_start_matches(['-', '*', '•'])
        .trim()
        .chars()
        .take(500)
        .collect()
}

/// The item a member means: its number in `spec_items`, or words that name exactly one item.
pub fn find_item(items: &[SpecItem], wanted: &str) -> Result<SpecItem, String> {
    let wanted = wanted.trim();
    if let Ok(n) = wanted.trim_start_matches('#').parse::<usize>() {
        return n
            .checked_sub(1)
            .and_then(|i| items.get(i))
            .cloned()
            .ok_or_else(|| {
                format!(
                    "Your spec has {} milestones and skills; pick a number from 1 to {}.",
                    items.len(),
                    items.len()
                )
            });
    }
    let lower = wanted.to_lowercase();
    let hits: Vec<&SpecItem> = items
        .iter()
        .filter(|i| i.text.to_lowercase().contains(&lower))
        .collect();
    match hits.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(format!(
            "No milestone or skill in your spec mentions \"{}\".",
            crate::domain::zone::safe_quote(wanted)
        )),
        _ => Err(format!(
            "\"{}\" matches {} of your milestones and skills; use its number.",
            crate::domain::zone::safe_quote(wanted),
            hits.len()
        )),
    }
}

/// A win told as "we" with no "I": good work that nobody can attribute to its author.
pub fn we_without_i(text: &str) -> bool {
    let words: Vec<String> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().replace('\u{2019}', "'"))
        .collect();
    let we = words.iter().any(|w| {
        matches!(
            w.as_str(),
            "we" | "we're" | "we've" | "we'd" | "we'll" | "our" | "us"
        )
    });
    let i = words.iter().any(|w| {
        matches!(
            w.as_str(),
            "i" | "i'm" | "i've" | "i'd" | "i'll" | "my" | "me" | "myself"
        )
    });
    we && !i
}

text_enum! {
    /// A major event a member checks in after.
    pub enum EventKind {
        Promotion = "promotion",
        JobChange = "job_change",
        Setback = "setback",
        Other = "other",
    }
}

/// The choices `/checkin event` offers, as members type them.
pub const EVENT_CHOICES: &[&str] = &["promotion", "job-change", "setback", "other"];

impl EventKind {
    pub fn parse_user(text: &str) -> Result<EventKind, String> {
        let word = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        word.parse().map_err(|_| {
            format!(
                "\"{}\" is not an event; choose promotion, job-change, setback or other.",
                crate::domain::zone::safe_quote(text.trim())
            )
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            EventKind::Promotion => "promotion",
            EventKind::JobChange => "job change",
            EventKind::Setback => "setback",
            EventKind::Other => "major event",
        }
    }

    /// A new role: the bot offers a landing plan.
    pub fn starts_a_role(self) -> bool {
        matches!(self, EventKind::JobChange | EventKind::Promotion)
    }
}

/// A win that says a major event happened (a promotion, a new role): the bot offers the event check-in.
pub fn event_in_words(text: &str) -> Option<EventKind> {
    let lower = text.to_lowercase();
    if lower.contains("promoted") || lower.contains("promotion") {
        Some(EventKind::Promotion)
    } else if ["new job", "new role", "job change", "changed jobs"]
        .iter()
        .any(|w| lower.contains(w))
    {
        Some(EventKind::JobChange)
    } else {
        None
    }
}

/// The event form's questions: (field key, label, required).
pub const EVENT_QUESTIONS: [(&str, &str, bool); 3] = [
    ("happened", "What happened?", true),
    ("learned", "What did I learn?", false),
    ("spec_change", "What changes in my spec?", false),
];

/// The landing plan's three phases: (day asked, name, what the phase is for).
pub const LANDING: [(u32, &str, &str); 3] = [
    (
        30,
        "listen and learn",
        "a listening tour: whom you met, what you heard when you asked \"what is one thing I can do to help you \
         this week?\", and your state of the union",
    ),
    (
        60,
        "align",
        "the problems you and your manager agreed you'll solve",
    ),
    (90, "execute", "the quick wins you landed"),
];

/// The local date day `day` of a plan begun on `started_on` falls on.
pub fn landing_date(started_on: NaiveDate, day: u32) -> NaiveDate {
    started_on + chrono::Days::new(u64::from(day))
}

pub fn landing_phase(day: u32) -> Option<(u32, &'static str, &'static str)> {
    LANDING.iter().copied().find(|(d, _, _)| *d == day)
}

text_enum! {
    /// What a member decided about a piece of feedback.
    pub enum Decision {
        Adopt = "adopt",
        Experiment = "experiment",
        SetAside = "set_aside",
    }
}

pub const DECISION_CHOICES: &[&str] = &["adopt", "experiment", "set-aside"];

impl Decision {
    pub fn parse_user(text: &str) -> Result<Decision, String> {
        let word = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        word.parse().map_err(|_| {
            format!(
                "\"{}\" is not a decision; choose adopt, experiment or set-aside.",
                crate::domain::zone::safe_quote(text.trim())
            )
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            Decision::Adopt => "adopted",
            Decision::Experiment => "experiment",
            Decision::SetAside => "set aside",
        }
    }
}

/// Which piece of feedback: one written in a review thread, or one sent in private.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeedbackRef {
    Thread(i64),
    Private(i64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_items_number_milestones_then_skills() {
        let spec = SpecText {
            milestones_1y: "- Lead the pricing launch\nPublish 6 posts".into(),
            milestones_3y: "Group PM".into(),
            skills: "pricing, hiring; public speaking".into(),
            ..SpecText::default()
        };
        let items = spec_items(&spec);
        assert_eq!(items.len(), 6);
        assert_eq!(items[0].text, "Lead the pricing launch");
        assert_eq!(items[3].kind, Serves::Skill);
        assert_eq!(find_item(&items, "hiring").unwrap().text, "hiring");
        assert_eq!(find_item(&items, "#3").unwrap().text, "Group PM");
        assert!(find_item(&items, "9").is_err());
        assert!(find_item(&items, "p").is_err());
    }

    #[test]
    fn we_without_i_is_flagged_and_i_is_not() {
        assert!(we_without_i(
            "We shipped the new onboarding and cut churn 4%"
        ));
        assert!(!we_without_i("I led the team; we shipped onboarding"));
        assert!(!we_without_i("Shipped onboarding"));
        assert!(!we_without_i("I'm proud: our launch went out"));
    }

    #[test]
    fn events_and_decisions_read_as_typed() {
        assert_eq!(
            EventKind::parse_user("job-change"),
            Ok(EventKind::JobChange)
        );
        assert!(EventKind::parse_user("party").is_err());
        assert_eq!(Decision::parse_user("Set aside"), Ok(Decision::SetAside));
        assert_eq!(
            landing_date(NaiveDate::from_ymd_opt(2027, 1, 31).unwrap(), 30),
            NaiveDate::from_ymd_opt(2027, 3, 2).unwrap()
        );
    }
}
