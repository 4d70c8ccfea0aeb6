//! Commitments ("publish one post a month") and the record of kept periods.

use std::collections::BTreeSet;

use crate::domain::period::Period;

pub const TITLE_MAX: usize = 200;

/// A commitment's title: trimmed, not empty, short enough for a Discord button row and a nudge line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("A commitment needs a title, e.g. \"publish one post\".".to_owned());
        }
        let chars = text.chars().count();
        if chars > TITLE_MAX {
            return Err(format!(
                "That title is {chars} characters; keep it under {TITLE_MAX}."
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Kept and missed periods of one commitment, counted over the periods that have ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Record {
    pub kept: u32,
    pub missed: u32,
    pub skipped: u32,
    /// Consecutive kept periods up to now: the current one if it is done, otherwise ending with the previous one.
    pub streak: u32,
}

/// `done` and `skipped` hold the periods marked; `first` is the period the commitment started in and `current`
/// the one the member is in now.
pub fn record(
    first: Period,
    current: Period,
    done: &BTreeSet<Period>,
    skipped: &BTreeSet<Period>,
) -> Record {
    let mut rec = Record::default();
    let mut period = first;
    // Bounded walk: a weekly commitment over a century is ~5,200 steps.
    let mut steps = 0;
    while period < current && steps < 10_000 {
        if done.contains(&period) {
            rec.kept += 1;
        } else if skipped.contains(&period) {
            rec.skipped += 1;
        } else if period != first {
            // The period a commitment was made in is often nearly over; not keeping it is no miss.
            rec.missed += 1;
        }
        period = period.next();
        steps += 1;
    }
    let mut cursor = if done.contains(&current) {
        Some(current)
    } else {
        Some(current.prev())
    };
    while let Some(p) = cursor {
        if p < first || !done.contains(&p) {
            break;
        }
        rec.streak += 1;
        cursor = Some(p.prev());
        if rec.streak >= 10_000 {
            break;
        }
    }
    rec
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn month(y: i32, m: u32) -> Period {
        Period::containing_month(NaiveDate::from_ymd_opt(y, m, 1).unwrap())
    }

    #[test]
    fn streak_counts_back_from_current_or_previous() {
        let first = month(2027, 1);
        let done: BTreeSet<_> = [month(2027, 2), month(2027, 3), month(2027, 4)]
            .into_iter()
            .collect();
        let skipped = BTreeSet::new();
        let r = record(first, month(2027, 5), &done, &skipped);
        assert_eq!((r.kept, r.missed, r.streak), (3, 0, 3));
        let late = record(first, month(2027, 7), &done, &skipped);
        assert_eq!((late.kept, late.missed, late.streak), (3, 2, 0));
        let mut with_current = done.clone();
        with_current.insert(month(2027, 5));
        assert_eq!(
            record(first, month(2027, 5), &with_current, &skipped).streak,
            4
        );
        assert_eq!(record(first, month(2027, 7), &done, &skipped).streak, 0);
    }

    #[test]
    fn titles() {
        assert!(Title::parse("  ").is_err());
        assert!(Title::parse(&"x".repeat(201)).is_err());
        assert_eq!(
            Title::parse(" publish one post ").unwrap().as_str(),
            "publish one post"
        );
    }
}
