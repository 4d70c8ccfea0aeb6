//! The career spec: the measuring stick every commitment, check-in and opportunity is held against.

use std::fmt;

use chrono::NaiveDate;

use crate::domain::period::Period;

/// One text part of the spec; 4000 characters is Discord's limit for a modal input.
pub const FIELD_MAX: usize = 4000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Learning,
    Impact,
}

impl Phase {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "learning" => Ok(Self::Learning),
            "impact" => Ok(Self::Impact),
            other => Err(format!(
                "\"{other}\" is not a phase; choose learning or impact."
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Learning => "learning",
            Self::Impact => "impact",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Private,
    Circle,
}

impl Visibility {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "private" => Ok(Self::Private),
            "circle" => Ok(Self::Circle),
            other => Err(format!(
                "\"{other}\" is not a visibility; choose private or circle."
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::Circle => "circle",
        }
    }
}

impl std::str::FromStr for Phase {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl std::str::FromStr for Visibility {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Quarters from the quarter a phase began in to `quarter` (0 in the quarter it began).
pub fn quarters_in_phase(since: NaiveDate, quarter: Period) -> i64 {
    let index = |p: Period| match p {
        Period::Quarter { year, q } => i64::from(year) * 4 + i64::from(q),
        other => {
            let start = other.start_date();
            let Period::Quarter { year, q } = Period::containing_quarter(start) else {
                return 0;
            };
            i64::from(year) * 4 + i64::from(q)
        }
    };
    index(quarter) - index(Period::containing_quarter(since))
}

/// After four quarters in one phase (and every four after), that quarter's check-in asks "stay or switch?".
pub fn checkin_asks_stay_or_switch(since: NaiveDate, quarter: Period) -> bool {
    let n = quarters_in_phase(since, quarter);
    n >= 4 && n % 4 == 0
}

/// The five parts as edited in one form. Milestones hold the three horizons, one per line prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpecText {
    pub vision: String,
    pub milestones_1y: String,
    pub milestones_3y: String,
    pub milestones_5y: String,
    pub skills: String,
    pub metrics: String,
    pub tradeoffs: String,
}

pub const PARTS: [(&str, &str); 5] = [
    ("vision", "5-year vision"),
    ("milestones", "Milestones: now-1y / 1-3y / 3-5y"),
    ("skills", "Skills to build"),
    ("metrics", "Success metrics: leading and lagging"),
    ("tradeoffs", "Trade-offs and non-negotiables"),
];

const HORIZONS: [&str; 3] = ["Now-1y:", "1-3y:", "3-5y:"];

impl SpecText {
    /// Builds the spec from the form's fields, checking each against the limit.
    pub fn from_fields(fields: &[(String, String)]) -> Result<Self, String> {
        let mut spec = Self::default();
        for (key, value) in fields {
            let value = value.trim().to_owned();
            let chars = value.chars().count();
            if chars > FIELD_MAX {
                return Err(format!(
                    "The {key} part is {chars} characters; the limit is {FIELD_MAX}."
                ));
            }
            match key.as_str() {
                "vision" => spec.vision = value,
                "milestones" => {
                    let (a, b, c) = split_milestones(&value);
                    spec.milestones_1y = a;
                    spec.milestones_3y = b;
                    spec.milestones_5y = c;
                    // The form shows the three horizons with their labels: that text must fit the form again.
                    let shown = spec.milestones().chars().count();
                    if shown > FIELD_MAX {
                        return Err(format!(
                            "The milestones are {shown} characters with their horizon labels; the limit is {FIELD_MAX}."
                        ));
                    }
                }
                "skills" => spec.skills = value,
                "metrics" => spec.metrics = value,
                "tradeoffs" => spec.tradeoffs = value,
                other => return Err(format!("\"{other}\" is not a part of the spec.")),
            }
        }
        if spec.is_empty() {
            return Err(
                "Every part was empty, so nothing was saved. Start with the 5-year vision."
                    .to_owned(),
            );
        }
        Ok(spec)
    }

    pub fn is_empty(&self) -> bool {
        self.parts().iter().all(|(_, v)| v.trim().is_empty())
    }

    pub fn milestones(&self) -> String {
        format!(
            "{} {}\n{} {}\n{} {}",
            HORIZONS[0],
            self.milestones_1y,
            HORIZONS[1],
            self.milestones_3y,
            HORIZONS[2],
            self.milestones_5y
        )
    }

    /// The form's five fields, in order, as the member sees them.
    pub fn parts(&self) -> [(&'static str, String); 5] {
        [
            ("vision", self.vision.clone()),
            (
                "milestones",
                if self.milestones_1y.is_empty()
                    && self.milestones_3y.is_empty()
                    && self.milestones_5y.is_empty()
                {
                    String::new()
                } else {
                    self.milestones()
                },
            ),
            ("skills", self.skills.clone()),
            ("metrics", self.metrics.clone()),
            ("tradeoffs", self.tradeoffs.clone()),
        ]
    }

    /// Which parts differ between two versions, with both texts.
    pub fn diff(&self, newer: &SpecText) -> Vec<(&'static str, String, String)> {
        self.parts()
            .into_iter()
            .zip(newer.parts())
            .filter(|((_, a), (_, b))| a != b)
            .map(|((key, a), (_, b))| (key, a, b))
            .collect()
    }
}

fn split_milestones(text: &str) -> (String, String, String) {
    let mut out = [String::new(), String::new(), String::new()];
    let mut current = 0;
    for line in text.lines() {
        // Every label at the start of a line switches horizon, so no stored line can begin with one: that keeps
        // `parts()` -> `from_fields` the identity (an unchanged form saves an unchanged spec).
        let mut rest = line.trim();
        while let Some((i, after)) = strip_label(rest) {
            current = i;
            rest = after;
        }
        if !rest.is_empty() {
            push_line(&mut out[current], rest);
        }
    }
    let [a, b, c] = out;
    (a, b, c)
}

fn strip_label(line: &str) -> Option<(usize, &str)> {
    HORIZONS.iter().enumerate().find_map(|(i, label)| {
        line.get(..label.len())
            .filter(|prefix| prefix.eq_ignore_ascii_case(label))
            .map(|_| (i, line[label.len()..].trim_start()))
    })
}

fn push_line(into: &mut String, line: &str) {
    if !into.is_empty() {
        into.push('\n');
    }
    into.push_str(line);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milestones_round_trip_and_diff() {
        let fields = vec![
            (
                "vision".to_owned(),
                "VP Product at a climate company".to_owned(),
            ),
            (
                "milestones".to_owned(),
                "Now-1y: lead a team\n1-3y: Director\n3-5y: VP".to_owned(),
            ),
        ];
        let spec = SpecText::from_fields(&fields).unwrap();
        assert_eq!(spec.milestones_3y, "Director");
        let again = SpecText::from_fields(&[("milestones".to_owned(), spec.milestones())]).unwrap();
        assert_eq!(
            (again.milestones_1y.as_str(), again.milestones_5y.as_str()),
            ("lead a team", "VP")
        );
        let diff = again.diff(&spec);
        assert_eq!(diff.len(), 1);
        assert_eq!(diff[0].0, "vision");
        assert!(SpecText::from_fields(&[("vision".to_owned(), "x".repeat(4001))]).is_err());
        assert!(SpecText::from_fields(&[("vision".to_owned(), "  ".to_owned())]).is_err());
        assert!(Phase::parse("IMPACT").is_ok() && Visibility::parse("public").is_err());
    }

    #[test]
    fn four_quarters_in_a_phase_ask_stay_or_switch() {
        let since = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
        let q = |y, n| Period::quarter(y, n).unwrap();
        assert_eq!(quarters_in_phase(since, q(2026, 1)), 0);
        assert_eq!(quarters_in_phase(since, q(2027, 1)), 4);
        assert!(!checkin_asks_stay_or_switch(since, q(2026, 4)));
        assert!(checkin_asks_stay_or_switch(since, q(2027, 1)));
        assert!(!checkin_asks_stay_or_switch(since, q(2027, 2)));
        assert!(checkin_asks_stay_or_switch(since, q(2028, 1)));
        assert_eq!(quarters_in_phase(since, Period::Year { year: 2027 }), 4);
    }
}
