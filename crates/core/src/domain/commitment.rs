//! Commitments ("publish one post a month") and the record of kept periods.

use std::collections::BTreeSet;

use crate::domain::period::Period;
use crate::domain::text_enum;

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

text_enum! {
    /// How a period of a commitment was marked.
    pub enum MarkStatus {
        Done = "done",
        Skipped = "skipped",
        /// A big swing closed with a post-mortem in this period: it ends here, and counts as kept.
        Killed = "killed",
    }
}

/// The periods one commitment was marked in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marks {
    done: BTreeSet<Period>,
    skipped: BTreeSet<Period>,
    killed: Option<Period>,
}

impl Marks {
    pub fn new(marks: impl IntoIterator<Item = (Period, MarkStatus)>) -> Self {
        let mut m = Self::default();
        for (period, status) in marks {
            m.set(period, status);
        }
        m
    }

    pub fn set(&mut self, period: Period, status: MarkStatus) {
        match status {
            MarkStatus::Done => {
                self.skipped.remove(&period);
                self.done.insert(period);
            }
            MarkStatus::Skipped => {
                self.done.remove(&period);
                self.skipped.insert(period);
            }
            MarkStatus::Killed => {
                self.done.remove(&period);
                self.skipped.remove(&period);
                self.killed = Some(period);
            }
        }
    }

    /// The period a killed big swing ended in.
    pub fn killed(&self) -> Option<Period> {
        self.killed
    }

    pub fn status(&self, period: Period) -> Option<MarkStatus> {
        if self.killed == Some(period) {
            Some(MarkStatus::Killed)
        } else if self.done.contains(&period) {
            Some(MarkStatus::Done)
        } else if self.skipped.contains(&period) {
            Some(MarkStatus::Skipped)
        } else {
            None
        }
    }
}

/// What one period of a commitment is, seen from `current` (the period the member is in now).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodState {
    /// Before the commitment began, or its first period left unmarked: a commitment made late in a month owes
    /// nothing for it.
    NotOwed,
    Kept,
    Skipped,
    Missed,
    /// The current period, not marked yet: still open.
    Open,
    /// After the current period.
    Future,
}

impl PeriodState {
    /// The one rule for every count of kept and missed periods (lists, nudges, review posts, heatmaps).
    ///
    /// A big swing that was killed (closed with a post-mortem) counts as kept, not missed: its last period and any
    /// period it left unmarked before are kept, and nothing is owed after it. Trying a zero-to-one bet and closing
    /// it honestly is the portfolio working.
    pub fn of(period: Period, first: Period, current: Period, marks: &Marks) -> PeriodState {
        if period > current {
            return PeriodState::Future;
        }
        if period < first || marks.killed().is_some_and(|k| period > k) {
            return PeriodState::NotOwed;
        }
        match marks.status(period) {
            Some(MarkStatus::Done | MarkStatus::Killed) => PeriodState::Kept,
            Some(MarkStatus::Skipped) => PeriodState::Skipped,
            None if period == current => PeriodState::Open,
            None if period == first => PeriodState::NotOwed,
            None if marks.killed().is_some() => PeriodState::Kept,
            None => PeriodState::Missed,
        }
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

/// `first` is the period the commitment started in and `current` the one the member is in now.
pub fn record(first: Period, current: Period, marks: &Marks) -> Record {
    let mut rec = Record::default();
    let mut period = first;
    // Bounded walk: a weekly commitment over a century is ~5,200 steps.
    let mut steps = 0;
    while period < current && steps < 10_000 {
        match PeriodState::of(period, first, current, marks) {
            PeriodState::Kept => rec.kept += 1,
            PeriodState::Skipped => rec.skipped += 1,
            PeriodState::Missed => rec.missed += 1,
            _ => {}
        }
        period = period.next();
        steps += 1;
    }
    let mut cursor = if marks.status(current) == Some(MarkStatus::Done) {
        current
    } else {
        current.prev()
    };
    while cursor >= first && marks.status(cursor) == Some(MarkStatus::Done) && rec.streak < 10_000 {
        rec.streak += 1;
        cursor = cursor.prev();
    }
    rec
}

/// Kept, owed and skipped over `periods` (a quarter's months, say). Owed periods are the kept and the missed ones;
/// skipped, open, future and not-yet-started periods are owed by nobody.
pub fn tally(
    periods: impl IntoIterator<Item = Period>,
    first: Period,
    current: Period,
    marks: &Marks,
) -> (u32, u32, u32) {
    let (mut kept, mut owed, mut skipped) = (0, 0, 0);
    for p in periods {
        match PeriodState::of(p, first, current, marks) {
            PeriodState::Kept => {
                kept += 1;
                owed += 1;
            }
            PeriodState::Missed => owed += 1,
            PeriodState::Skipped => skipped += 1,
            _ => {}
        }
    }
    (kept, owed, skipped)
}

/// One member's month over all their commitments live in it: kept only if every one is kept.
pub fn combine(states: impl IntoIterator<Item = PeriodState>) -> PeriodState {
    let states: Vec<PeriodState> = states
        .into_iter()
        .filter(|s| *s != PeriodState::NotOwed)
        .collect();
    if states.is_empty() {
        return PeriodState::NotOwed;
    }
    if states.contains(&PeriodState::Future) {
        return PeriodState::Future;
    }
    if states.contains(&PeriodState::Missed) {
        return PeriodState::Missed;
    }
    if states.contains(&PeriodState::Open) {
        return PeriodState::Open;
    }
    if states.iter().all(|s| *s == PeriodState::Kept) {
        PeriodState::Kept
    } else {
        PeriodState::Skipped
    }
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
        let done = Marks::new(
            [month(2027, 2), month(2027, 3), month(2027, 4)].map(|p| (p, MarkStatus::Done)),
        );
        let r = record(first, month(2027, 5), &done);
        assert_eq!((r.kept, r.missed, r.streak), (3, 0, 3));
        let late = record(first, month(2027, 7), &done);
        assert_eq!((late.kept, late.missed, late.streak), (3, 2, 0));
        let mut with_current = done.clone();
        with_current.set(month(2027, 5), MarkStatus::Done);
        assert_eq!(record(first, month(2027, 5), &with_current).streak, 4);
        assert_eq!(record(first, month(2027, 7), &done).streak, 0);
        // A quarter's tally: the first month unmarked owes nothing, the current one is still open.
        let q = [month(2027, 1), month(2027, 2), month(2027, 3)];
        assert_eq!(tally(q, first, month(2027, 3), &done), (2, 2, 0));
        assert_eq!(
            tally(q, first, month(2027, 2), &Marks::default()),
            (0, 0, 0)
        );
        assert_eq!(
            combine([PeriodState::Kept, PeriodState::Skipped]),
            PeriodState::Skipped
        );
        assert_eq!(combine([PeriodState::NotOwed]), PeriodState::NotOwed);
    }

    #[test]
    fn a_killed_big_swing_counts_as_kept_and_owes_nothing_after() {
        let first = month(2027, 1);
        let mut marks = Marks::new([(month(2027, 2), MarkStatus::Done)]);
        // Before the kill, March and April are missed like any commitment's.
        assert_eq!(record(first, month(2027, 5), &marks).missed, 2);
        marks.set(month(2027, 5), MarkStatus::Killed);
        assert_eq!(marks.killed(), Some(month(2027, 5)));
        assert_eq!(
            PeriodState::of(month(2027, 3), first, month(2027, 9), &marks),
            PeriodState::Kept
        );
        assert_eq!(
            PeriodState::of(month(2027, 5), first, month(2027, 5), &marks),
            PeriodState::Kept,
            "the kill's own period, though current"
        );
        assert_eq!(
            PeriodState::of(month(2027, 7), first, month(2027, 9), &marks),
            PeriodState::NotOwed
        );
        let r = record(first, month(2027, 9), &marks);
        assert_eq!(
            (r.kept, r.missed),
            (4, 0),
            "Feb done; Mar, Apr, May kept by the kill"
        );
        let q2 = [month(2027, 4), month(2027, 5), month(2027, 6)];
        assert_eq!(tally(q2, first, month(2027, 9), &marks), (2, 2, 0));
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
