//! The quarterly scorecard: the spec's metrics as named, typed measures with a kind and an optional target, and the
//! roadmap's milestones marked on track, at risk or done. Values are kept per quarter.

use crate::domain::spec::SpecText;
use crate::domain::text_enum;
use crate::domain::zone::safe_quote;

pub const NAME_MAX: usize = 40;
/// Metrics one member keeps: a scorecard is read at a glance.
pub const METRICS_MAX: usize = 12;

text_enum! {
    /// What a metric's value is.
    pub enum ValueType {
        Number = "number",
        Count = "count",
        YesNo = "yes_no",
        Scale = "scale",
    }
}

text_enum! {
    /// Leading (skills, relationships, visibility) or lagging (promotions, pay, titles); learning or impact.
    pub enum MetricKind {
        Leading = "leading",
        Lagging = "lagging",
        Learning = "learning",
        Impact = "impact",
    }
}

/// The choices commands offer, as members type them.
pub const TYPE_CHOICES: &[&str] = &["number", "count", "yes-no", "scale"];
pub const KIND_CHOICES: &[&str] = &["leading", "lagging", "learning", "impact"];

impl ValueType {
    pub fn parse_user(text: &str) -> Result<ValueType, String> {
        match text
            .trim()
            .to_ascii_lowercase()
            .replace(['-', ' ', '/'], "_")
            .as_str()
        {
            "number" => Ok(ValueType::Number),
            "count" => Ok(ValueType::Count),
            "yes_no" | "yesno" | "boolean" => Ok(ValueType::YesNo),
            "scale" | "1_5" => Ok(ValueType::Scale),
            _ => Err(format!(
                "\"{}\" is not a metric type; choose number, count, yes-no or scale (1-5).",
                safe_quote(text.trim())
            )),
        }
    }

    /// A short hint of what to type, for form labels and prompts.
    pub fn hint(self) -> &'static str {
        match self {
            ValueType::Number => "a number",
            ValueType::Count => "a count",
            ValueType::YesNo => "yes or no",
            ValueType::Scale => "1-5",
        }
    }

    /// Reads what a member typed as this type's value.
    pub fn read(self, text: &str) -> Result<f64, String> {
        let t = text.trim().to_ascii_lowercase();
        let bad = |what: &str| Err(format!("\"{}\" is not {what}.", safe_quote(text.trim())));
        match self {
            ValueType::Number => match t.replace(',', "").parse::<f64>() {
                Ok(v) if v.is_finite() && v.abs() < 1e12 => Ok(v),
                _ => bad("a number"),
            },
            ValueType::Count => match t.parse::<u32>() {
                Ok(v) if v <= 1_000_000 => Ok(f64::from(v)),
                _ => bad("a whole number of 0 or more"),
            },
            ValueType::YesNo => match t.as_str() {
                "yes" | "y" | "true" | "done" | "1" => Ok(1.0),
                "no" | "n" | "false" | "not yet" | "0" => Ok(0.0),
                _ => bad("yes or no"),
            },
            ValueType::Scale => match t.trim_end_matches("/5").trim().parse::<u8>() {
                Ok(v) if (1..=5).contains(&v) => Ok(f64::from(v)),
                _ => bad("a score from 1 to 5"),
            },
        }
    }

    /// A stored value as members read it.
    pub fn show(self, value: f64) -> String {
        match self {
            ValueType::Number => {
                let rounded = (value * 100.0).round() / 100.0;
                if rounded.fract() == 0.0 {
                    format!("{rounded:.0}")
                } else {
                    format!("{rounded}")
                }
            }
            ValueType::Count => format!("{value:.0}"),
            ValueType::YesNo => if value >= 0.5 { "yes" } else { "no" }.to_owned(),
            ValueType::Scale => format!("{value:.0}/5"),
        }
    }

    /// As members write it.
    pub fn label(self) -> &'static str {
        match self {
            ValueType::Number => "number",
            ValueType::Count => "count",
            ValueType::YesNo => "yes-no",
            ValueType::Scale => "scale",
        }
    }
}

impl MetricKind {
    pub fn parse_user(text: &str) -> Result<MetricKind, String> {
        text.trim().to_ascii_lowercase().parse().map_err(|_| {
            format!(
                "\"{}\" is not a metric kind; choose leading, lagging, learning or impact.",
                safe_quote(text.trim())
            )
        })
    }
}

/// A metric's name: short, one line, no colon (the DM reply syntax `metric NAME: VALUE` splits on it).
pub fn name(text: &str) -> Result<String, String> {
    let t = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.is_empty() {
        return Err("A metric needs a name, e.g. \"posts\".".to_owned());
    }
    let n = t.chars().count();
    if n > NAME_MAX {
        return Err(format!(
            "That name is {n} characters; keep it under {NAME_MAX}."
        ));
    }
    if t.contains(':') {
        return Err("A metric's name can't hold a colon.".to_owned());
    }
    Ok(t)
}

/// Whether a value meets a target. Higher is better: a count or score at or above the target, a "yes".
pub fn meets(value: f64, target: f64) -> bool {
    value + 1e-9 >= target
}

text_enum! {
    /// A roadmap horizon.
    pub enum Horizon {
        OneYear = "1y",
        ThreeYears = "3y",
        FiveYears = "5y",
    }
}

impl Horizon {
    pub fn label(self) -> &'static str {
        match self {
            Horizon::OneYear => "Now-1y",
            Horizon::ThreeYears => "1-3y",
            Horizon::FiveYears => "3-5y",
        }
    }

    pub fn parse_user(text: &str) -> Result<Horizon, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "1y" | "now-1y" | "1" | "now" => Ok(Horizon::OneYear),
            "3y" | "1-3y" | "3" => Ok(Horizon::ThreeYears),
            "5y" | "3-5y" | "5" => Ok(Horizon::FiveYears),
            _ => Err(format!(
                "\"{}\" is not a horizon; use 1y, 3y or 5y.",
                safe_quote(text.trim())
            )),
        }
    }
}

text_enum! {
    /// Where a milestone stands at a check-in.
    pub enum MilestoneStatus {
        OnTrack = "on_track",
        AtRisk = "at_risk",
        Done = "done",
    }
}

impl MilestoneStatus {
    pub fn parse_user(text: &str) -> Result<MilestoneStatus, String> {
        match text
            .trim()
            .to_ascii_lowercase()
            .replace(['-', '_'], " ")
            .as_str()
        {
            "on track" | "ontrack" | "track" | "ok" => Ok(MilestoneStatus::OnTrack),
            "at risk" | "risk" | "atrisk" | "behind" => Ok(MilestoneStatus::AtRisk),
            "done" | "reached" => Ok(MilestoneStatus::Done),
            _ => Err(format!(
                "\"{}\" is not a milestone status; write on track, at risk or done.",
                safe_quote(text.trim())
            )),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            MilestoneStatus::OnTrack => "on track",
            MilestoneStatus::AtRisk => "at risk",
            MilestoneStatus::Done => "done",
        }
    }
}

/// The milestones a spec names, by horizon (empty ones left out).
pub fn milestones(spec: &SpecText) -> Vec<(Horizon, &str)> {
    [
        (Horizon::OneYear, spec.milestones_1y.as_str()),
        (Horizon::ThreeYears, spec.milestones_3y.as_str()),
        (Horizon::FiveYears, spec.milestones_5y.as_str()),
    ]
    .into_iter()
    .filter(|(_, m)| !m.trim().is_empty())
    .collect()
}

/// One scorecard line of a DM reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScoreLine {
    /// `metric posts: 3`
    Metric { name: String, value: String },
    /// `milestone 1y: on track`
    Milestone { horizon: String, status: String },
}

/// Takes the scorecard lines (`metric NAME: VALUE`, `milestone HORIZON: STATUS`) out of a DM reply; the rest of the
/// text is returned as it was, for the check-in's free-text answer.
pub fn take_lines(text: &str) -> (Vec<ScoreLine>, String) {
    let mut lines = Vec::new();
    let mut rest = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        let lower = trimmed.to_ascii_lowercase();
        let parsed = ["metric ", "milestone "].iter().find_map(|prefix| {
            let body = trimmed
                .get(prefix.len()..)
                .filter(|_| lower.starts_with(prefix))?;
            let (head, value) = body.split_once(':')?;
            let (head, value) = (head.trim().to_owned(), value.trim().to_owned());
            (!head.is_empty()).then(|| {
                if *prefix == "metric " {
                    ScoreLine::Metric { name: head, value }
                } else {
                    ScoreLine::Milestone {
                        horizon: head,
                        status: value,
                    }
                }
            })
        });
        match parsed {
            Some(l) => lines.push(l),
            None => rest.push(line),
        }
    }
    (lines, rest.join("\n").trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_and_show_by_type() {
        assert_eq!(ValueType::Count.read(" 3 "), Ok(3.0));
        assert!(ValueType::Count.read("-1").is_err() && ValueType::Count.read("2.5").is_err());
        assert_eq!(ValueType::YesNo.read("Yes"), Ok(1.0));
        assert_eq!(ValueType::Scale.read("4/5"), Ok(4.0));
        assert!(ValueType::Scale.read("6").is_err());
        assert_eq!(ValueType::Number.read("1,250.5"), Ok(1250.5));
        assert!(ValueType::Number.read("NaN").is_err());
        assert_eq!(ValueType::Number.show(2.50), "2.5");
        assert_eq!(ValueType::YesNo.show(0.0), "no");
        assert_eq!(ValueType::Scale.show(4.0), "4/5");
        assert_eq!(ValueType::parse_user("Yes/No"), Ok(ValueType::YesNo));
        assert!(meets(3.0, 3.0) && !meets(2.0, 3.0));
        assert!(name("a: b").is_err() && name(" ").is_err());
        assert_eq!(name("  coffee   chats "), Ok("coffee chats".to_owned()));
        assert_eq!(MetricKind::parse_user("Leading"), Ok(MetricKind::Leading));
    }

    #[test]
    fn scorecard_lines_come_out_of_a_reply() {
        let (lines, rest) = take_lines(
            "metric posts: 3\nShipped the ledger.\nMilestone 1y: at risk\nmetric nothing here",
        );
        assert_eq!(
            lines,
            vec![
                ScoreLine::Metric {
                    name: "posts".into(),
                    value: "3".into()
                },
                ScoreLine::Milestone {
                    horizon: "1y".into(),
                    status: "at risk".into()
                }
            ]
        );
        assert_eq!(rest, "Shipped the ledger.\nmetric nothing here");
        assert_eq!(
            MilestoneStatus::parse_user("On-Track"),
            Ok(MilestoneStatus::OnTrack)
        );
        assert_eq!(Horizon::parse_user("1-3y"), Ok(Horizon::ThreeYears));
    }
}
