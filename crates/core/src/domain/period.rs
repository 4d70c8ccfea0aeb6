//! Reporting periods on a member's LOCAL calendar.
//!
//! A check-in "for January" means January where the member lives, so every
//! instant is first turned into a local date with [`local_date`] and only
//! then placed in a period. Weeks are ISO weeks (Monday first, week-year
//! may differ from the calendar year around New Year).
//!
//! Periods built directly from the enum with out-of-range numbers (week 60,
//! month 13) are clamped into range by the date methods instead of
//! panicking; the checked constructors and parsers never produce them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::zone::{Zone, safe_quote};

/// Inputs longer than this cannot be a period, so they are refused before
/// any work is done.
const MAX_INPUT_CHARS: usize = 40;

/// Years accepted by the parsers; four digits keeps keys sortable as text.
const MIN_YEAR: i32 = 1;
const MAX_YEAR: i32 = 9999;

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// How often a circle asks for an update.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cadence {
    Weekly,
    Monthly,
    Quarterly,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown cadence \"{input}\"; use weekly, monthly or quarterly")]
pub struct CadenceError {
    /// The input as typed, already made safe for display.
    pub input: String,
}

impl Cadence {
    pub fn parse(input: &str) -> Result<Cadence, CadenceError> {
        let t = input.trim();
        if t.eq_ignore_ascii_case("weekly") {
            Ok(Cadence::Weekly)
        } else if t.eq_ignore_ascii_case("monthly") {
            Ok(Cadence::Monthly)
        } else if t.eq_ignore_ascii_case("quarterly") {
            Ok(Cadence::Quarterly)
        } else {
            Err(CadenceError {
                input: safe_quote(t),
            })
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Weekly => "weekly",
            Cadence::Monthly => "monthly",
            Cadence::Quarterly => "quarterly",
        }
    }
}

impl fmt::Display for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Cadence {
    type Err = CadenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Cadence::parse(s)
    }
}

/// One period of a local calendar. Ordering groups by kind first, then
/// chronologically within a kind.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    /// `year` is the ISO week-year, which can differ from the calendar year
    /// of some of the week's days.
    Week {
        year: i32,
        week: u32,
    },
    Month {
        year: i32,
        month: u32,
    },
    Quarter {
        year: i32,
        q: u32,
    },
    Year {
        year: i32,
    },
}

/// Why a period could not be read. The Display text is safe for chat.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("no period given; use something like 2027-01, 2027-Q1, 2027-W03 or 2027")]
    Empty,
    #[error("that period text is too long; use something like 2027-01 or Q1 2027")]
    TooLong,
    #[error(
        "could not read \"{input}\" as a period; use something like 2027-01, Jan 2027, Q1 2027, 2027-W03 or 2027"
    )]
    Unrecognised {
        /// The input as typed, already made safe for display.
        input: String,
    },
    #[error("\"{input}\" is not a real {what}")]
    OutOfRange { input: String, what: &'static str },
}

/// The calendar date at `instant` on the wall clock of `zone`.
pub fn local_date(instant: DateTime<Utc>, zone: Zone) -> NaiveDate {
    instant.with_timezone(&zone.tz()).date_naive()
}

impl Period {
    pub fn containing_week(date: NaiveDate) -> Period {
        let iso = date.iso_week();
        Period::Week {
            year: iso.year(),
            week: iso.week(),
        }
    }

    pub fn containing_month(date: NaiveDate) -> Period {
        Period::Month {
            year: date.year(),
            month: date.month(),
        }
    }

    pub fn containing_quarter(date: NaiveDate) -> Period {
        Period::Quarter {
            year: date.year(),
            q: date.month0() / 3 + 1,
        }
    }

    pub fn containing_year(date: NaiveDate) -> Period {
        Period::Year { year: date.year() }
    }

    /// The period of the given cadence that contains `date`.
    pub fn of(cadence: Cadence, date: NaiveDate) -> Period {
        match cadence {
            Cadence::Weekly => Period::containing_week(date),
            Cadence::Monthly => Period::containing_month(date),
            Cadence::Quarterly => Period::containing_quarter(date),
        }
    }

    /// Checked constructors: `None` when the numbers name no real period.
    pub fn week(year: i32, week: u32) -> Option<Period> {
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).map(|_| Period::Week { year, week })
    }

    pub fn month(year: i32, month: u32) -> Option<Period> {
        NaiveDate::from_ymd_opt(year, month, 1).map(|_| Period::Month { year, month })
    }

    pub fn quarter(year: i32, q: u32) -> Option<Period> {
        if (1..=4).contains(&q) {
            NaiveDate::from_ymd_opt(year, 1, 1).map(|_| Period::Quarter { year, q })
        } else {
            None
        }
    }

    pub fn year(year: i32) -> Option<Period> {
        NaiveDate::from_ymd_opt(year, 1, 1).map(|_| Period::Year { year })
    }

    /// The canonical storage key: "2027-W03", "2027-01", "2027-Q1", "2027".
    pub fn key(&self) -> String {
        match *self {
            Period::Week { year, week } => format!("{year:04}-W{week:02}"),
            Period::Month { year, month } => format!("{year:04}-{month:02}"),
            Period::Quarter { year, q } => format!("{year:04}-Q{q}"),
            Period::Year { year } => format!("{year:04}"),
        }
    }

    /// Strict inverse of [`Period::key`]: only the exact canonical shapes.
    pub fn parse_key(input: &str) -> Result<Period, PeriodError> {
        if input.is_empty() {
            return Err(PeriodError::Empty);
        }
        if input.len() > MAX_INPUT_CHARS {
            return Err(PeriodError::TooLong);
        }
        let unrecognised = || PeriodError::Unrecognised {
            input: safe_quote(input),
        };
        let bytes = input.as_bytes();
        let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
        if bytes.len() < 4 || !digits(&bytes[..4]) {
            return Err(unrecognised());
        }
        let year = number(&input[..4]).ok_or_else(unrecognised)?;
        let rest = &bytes[4..];
        let candidate = match rest {
            [] => Period::year(year as i32),
            [b'-', b'W', w @ ..] if w.len() == 2 && digits(w) => {
                Period::week(year as i32, number(&input[6..]).ok_or_else(unrecognised)?)
            }
            [b'-', b'Q', q] if q.is_ascii_digit() => {
                Period::quarter(year as i32, u32::from(q - b'0'))
            }
            [b'-', m @ ..] if m.len() == 2 && digits(m) => {
                Period::month(year as i32, number(&input[5..]).ok_or_else(unrecognised)?)
            }
            _ => return Err(unrecognised()),
        };
        let period = candidate.ok_or_else(|| out_of_range(input, rest))?;
        check_year(period, input)
    }

    /// Lenient reading of what a member might type: every canonical key
    /// (in any case) plus "Q1 2027", "q1-2027", "2027 Q1", "2027-1",
    /// "1/2027", "Jan 2027", "January 2027", "week 3 2027", "W3 2027".
    pub fn parse_user(input: &str) -> Result<Period, PeriodError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PeriodError::Empty);
        }
        if trimmed.chars().count() > MAX_INPUT_CHARS {
            return Err(PeriodError::TooLong);
        }
        let unrecognised = || PeriodError::Unrecognised {
            input: safe_quote(trimmed),
        };
        let tokens = tokenise(trimmed).ok_or_else(unrecognised)?;
        let toks: Vec<Tok> = tokens
            .iter()
            .map(|t| classify(t))
            .filter(|t| *t != Tok::Filler)
            .collect();
        use Tok::{Month, Num, QuarterWord, WeekWord, Year};
        let (period, what) = match toks.as_slice() {
            [Year(y)] => (Period::year(*y), "year"),
            [Year(y), Num(m)] | [Num(m), Year(y)] => (Period::month(*y, *m), "month"),
            [Year(y), Month(m)] | [Month(m), Year(y)] => (Period::month(*y, *m), "month"),
            [QuarterWord, Num(q), Year(y)] | [Year(y), QuarterWord, Num(q)] => {
                (Period::quarter(*y, *q), "quarter")
            }
            [WeekWord, Num(w), Year(y)] | [Year(y), WeekWord, Num(w)] => {
                (Period::week(*y, *w), "week")
            }
            _ => return Err(unrecognised()),
        };
        let period = period.ok_or_else(|| PeriodError::OutOfRange {
            input: safe_quote(trimmed),
            what,
        })?;
        check_year(period, trimmed)
    }

    fn year_number(&self) -> i32 {
        match *self {
            Period::Week { year, .. }
            | Period::Month { year, .. }
            | Period::Quarter { year, .. }
            | Period::Year { year } => year,
        }
    }

    /// First day of the period.
    pub fn start_date(&self) -> NaiveDate {
        match *self {
            Period::Week { year, week } => {
                let year = clamp_year(year);
                let week = week.clamp(1, weeks_in(year));
                NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).unwrap_or(NaiveDate::MIN)
            }
            Period::Month { year, month } => first_of(clamp_year(year), month.clamp(1, 12)),
            Period::Quarter { year, q } => first_of(clamp_year(year), (q.clamp(1, 4) - 1) * 3 + 1),
            Period::Year { year } => first_of(clamp_year(year), 1),
        }
    }

    /// Last day of the period, inclusive.
    pub fn end_date(&self) -> NaiveDate {
        let start = self.start_date();
        match *self {
            Period::Week { .. } => start.checked_add_days(Days::new(6)),
            Period::Month { .. } => last_of_month(start.year(), start.month()),
            Period::Quarter { .. } => last_of_month(start.year(), start.month() + 2),
            Period::Year { .. } => NaiveDate::from_ymd_opt(start.year(), 12, 31),
        }
        .unwrap_or(start)
    }

    /// The following period of the same kind (itself at the end of the
    /// representable calendar, so callers never see a panic).
    pub fn next(&self) -> Period {
        self.end_date()
            .succ_opt()
            .map(|d| self.same_kind(d))
            .unwrap_or(*self)
    }

    /// The preceding period of the same kind (itself at the start of the
    /// representable calendar).
    pub fn prev(&self) -> Period {
        self.start_date()
            .pred_opt()
            .map(|d| self.same_kind(d))
            .unwrap_or(*self)
    }

    fn same_kind(&self, date: NaiveDate) -> Period {
        match self {
            Period::Week { .. } => Period::containing_week(date),
            Period::Month { .. } => Period::containing_month(date),
            Period::Quarter { .. } => Period::containing_quarter(date),
            Period::Year { .. } => Period::containing_year(date),
        }
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start_date() <= date && date <= self.end_date()
    }

    /// Words for people: "January 2027", "Q1 2027", "week 3 of 2027", "2027".
    pub fn label(&self) -> String {
        match *self {
            Period::Week { year, week } => format!("week {week} of {year}"),
            Period::Month { year, month } => {
                let name = month
                    .checked_sub(1)
                    .and_then(|i| MONTH_NAMES.get(i as usize))
                    .copied()
                    .unwrap_or("month ?");
                format!("{name} {year}")
            }
            Period::Quarter { year, q } => format!("Q{q} {year}"),
            Period::Year { year } => format!("{year}"),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// Compares with the storage key ("2027-Q1"), as tests and logs read it.
impl PartialEq<&str> for Period {
    fn eq(&self, other: &&str) -> bool {
        self.key() == *other
    }
}

impl FromStr for Period {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Period::parse_key(s)
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.key())
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Period::parse_key(&text).map_err(serde::de::Error::custom)
    }
}

fn check_year(period: Period, input: &str) -> Result<Period, PeriodError> {
    if (MIN_YEAR..=MAX_YEAR).contains(&period.year_number()) {
        Ok(period)
    } else {
        Err(PeriodError::OutOfRange {
            input: safe_quote(input),
            what: "year",
        })
    }
}

fn out_of_range(input: &str, rest: &[u8]) -> PeriodError {
    let what = match rest {
        [] => "year",
        [b'-', b'W', ..] => "week",
        [b'-', b'Q', ..] => "quarter",
        _ => "month",
    };
    PeriodError::OutOfRange {
        input: safe_quote(input),
        what,
    }
}

/// Parses a short ASCII digit string; longer ones cannot be valid here and
/// would only risk overflow.
fn number(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn clamp_year(year: i32) -> i32 {
    // Leaves room for the week/quarter arithmetic at chrono's limits.
    year.clamp(NaiveDate::MIN.year() + 1, NaiveDate::MAX.year() - 1)
}

fn first_of(year: i32, month: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN)
}

fn last_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    let (ny, nm) = if month >= 12 {
        (year.checked_add(1)?, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(ny, nm, 1)?.pred_opt()
}

fn weeks_in(year: i32) -> u32 {
    // Dec 28 always falls in the last ISO week of its year.
    NaiveDate::from_ymd_opt(year, 12, 28).map_or(52, |d| d.iso_week().week())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    /// Exactly four digits.
    Year(i32),
    /// One or two digits.
    Num(u32),
    Month(u32),
    QuarterWord,
    WeekWord,
    Filler,
    Other,
}

/// Splits on separators and at letter/digit boundaries so "q1-2027",
/// "2027q1" and "W03" all come apart the same way. `None` when the text
/// holds characters no period spelling uses.
fn tokenise(input: &str) -> Option<Vec<String>> {
    let mut tokens: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut current_is_digit = false;
    for c in input.chars() {
        if c.is_whitespace() || "-/,.".contains(c) {
            if !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
            continue;
        }
        let is_digit = c.is_ascii_digit();
        if !is_digit && !c.is_ascii_alphabetic() {
            return None;
        }
        if !current.is_empty() && is_digit != current_is_digit {
            tokens.push(std::mem::take(&mut current));
        }
        current_is_digit = is_digit;
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    Some(tokens)
}

fn classify(token: &str) -> Tok {
    if token.bytes().all(|b| b.is_ascii_digit()) {
        return match (token.len(), number(token)) {
            (4, Some(n)) => Tok::Year(n as i32),
            (1 | 2, Some(n)) => Tok::Num(n),
            _ => Tok::Other,
        };
    }
    match token {
        "q" | "quarter" => return Tok::QuarterWord,
        "w" | "wk" | "week" => return Tok::WeekWord,
        "of" | "in" => return Tok::Filler,
        _ => {}
    }
    MONTH_NAMES
        .iter()
        .position(|name| {
            let lower = name.to_ascii_lowercase();
            token == lower
                || (token.len() == 3 && lower.starts_with(token))
                || token == "sept" && lower == "september"
        })
        .map_or(Tok::Other, |i| Tok::Month(i as u32 + 1))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn cadence_parses_and_names() {
        assert_eq!(Cadence::parse(" Weekly ").unwrap(), Cadence::Weekly);
        assert_eq!(Cadence::parse("MONTHLY").unwrap(), Cadence::Monthly);
        assert_eq!("quarterly".parse::<Cadence>().unwrap(), Cadence::Quarterly);
        assert_eq!(Cadence::Quarterly.as_str(), "quarterly");
        let err = Cadence::parse("@everyone daily").unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown cadence \"?everyone daily\"; use weekly, monthly or quarterly"
        );
    }

    #[test]
    fn keys_and_labels() {
        let date = d(2027, 1, 20);
        let w = Period::containing_week(date);
        assert_eq!(
            w,
            Period::Week {
                year: 2027,
                week: 3
            }
        );
        assert_eq!(w.key(), "2027-W03");
        assert_eq!(w.label(), "week 3 of 2027");
        let m = Period::containing_month(date);
        assert_eq!(
            (m.key(), m.label()),
            ("2027-01".into(), "January 2027".into())
        );
        let q = Period::containing_quarter(date);
        assert_eq!((q.key(), q.label()), ("2027-Q1".into(), "Q1 2027".into()));
        let y = Period::containing_year(date);
        assert_eq!((y.key(), y.label()), ("2027".into(), "2027".into()));
        assert_eq!(Period::of(Cadence::Weekly, date), w);
        assert_eq!(Period::of(Cadence::Monthly, date), m);
        assert_eq!(Period::of(Cadence::Quarterly, date), q);
    }

    #[test]
    fn iso_week_year_differs_from_calendar_year() {
        // 2027-01-01 is a Friday, still in ISO week 53 of 2026.
        assert_eq!(
            Period::containing_week(d(2027, 1, 1)),
            Period::Week {
                year: 2026,
                week: 53
            }
        );
        // 2024-12-30 is a Monday in ISO week 1 of 2025.
        let w = Period::containing_week(d(2024, 12, 30));
        assert_eq!(w.key(), "2025-W01");
        assert_eq!(w.start_date(), d(2024, 12, 30));
        assert_eq!(w.end_date(), d(2025, 1, 5));
    }

    #[test]
    fn bounds_next_prev() {
        let feb = Period::Month {
            year: 2028,
            month: 2,
        };
        assert_eq!(feb.start_date(), d(2028, 2, 1));
        assert_eq!(feb.end_date(), d(2028, 2, 29));
        assert_eq!(feb.next().key(), "2028-03");
        assert_eq!(feb.prev().key(), "2028-01");
        let dec = Period::Month {
            year: 2027,
            month: 12,
        };
        assert_eq!(dec.next().key(), "2028-01");
        let q4 = Period::Quarter { year: 2027, q: 4 };
        assert_eq!(
            (q4.start_date(), q4.end_date()),
            (d(2027, 10, 1), d(2027, 12, 31))
        );
        assert_eq!(q4.next().key(), "2028-Q1");
        assert_eq!(Period::Quarter { year: 2027, q: 1 }.prev().key(), "2026-Q4");
        let w53 = Period::Week {
            year: 2026,
            week: 53,
        };
        assert_eq!(w53.next().key(), "2027-W01");
        assert_eq!(
            Period::Week {
                year: 2027,
                week: 1
            }
            .prev(),
            w53
        );
        let y = Period::Year { year: 2027 };
        assert_eq!(
            (y.start_date(), y.end_date()),
            (d(2027, 1, 1), d(2027, 12, 31))
        );
        assert_eq!(y.next().key(), "2028");
        assert!(feb.contains(d(2028, 2, 29)));
        assert!(!feb.contains(d(2028, 3, 1)));
    }

    #[test]
    fn hand_built_nonsense_is_clamped_not_panicking() {
        let odd = Period::Week {
            year: i32::MAX,
            week: 99,
        };
        let _ = (
            odd.start_date(),
            odd.end_date(),
            odd.next(),
            odd.prev(),
            odd.label(),
        );
        let odd = Period::Month {
            year: i32::MIN,
            month: 0,
        };
        let _ = (
            odd.start_date(),
            odd.end_date(),
            odd.next(),
            odd.prev(),
            odd.label(),
        );
        let odd = Period::Quarter { year: 2027, q: 9 };
        assert_eq!(odd.start_date(), d(2027, 10, 1));
    }

    #[test]
    fn parse_key_is_strict_inverse() {
        for key in [
            "2027-W03", "2026-W53", "2027-01", "2027-12", "2027-Q1", "2027-Q4", "2027",
        ] {
            assert_eq!(Period::parse_key(key).unwrap().key(), key);
        }
        for bad in [
            "",
            "2027-w03",
            "2027-W3",
            "2027-1",
            "2027-13",
            "2027-Q5",
            "2027-Q0",
            "2027-W54",
            "2027-W53",
            "27",
            "2027-",
            " 2027",
            "2027-00",
            "0000",
            "２０２７",
        ] {
            assert!(Period::parse_key(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Period::parse_key("2027-13").unwrap_err().to_string(),
            "\"2027-13\" is not a real month"
        );
    }

    #[test]
    fn parse_user_forms() {
        let q1 = Period::Quarter { year: 2027, q: 1 };
        for s in [
            "Q1 2027",
            "q1-2027",
            "2027 Q1",
            "2027-q1",
            "2027q1",
            " quarter 1 of 2027 ",
        ] {
            assert_eq!(Period::parse_user(s).unwrap(), q1, "{s}");
        }
        let jan = Period::Month {
            year: 2027,
            month: 1,
        };
        for s in [
            "2027-1",
            "2027-01",
            "Jan 2027",
            "january 2027",
            "1/2027",
            "2027 JAN",
        ] {
            assert_eq!(Period::parse_user(s).unwrap(), jan, "{s}");
        }
        assert_eq!(
            Period::parse_user("Sept 2027").unwrap(),
            Period::Month {
                year: 2027,
                month: 9
            }
        );
        let w3 = Period::Week {
            year: 2027,
            week: 3,
        };
        for s in ["2027-W03", "w3 2027", "week 3 of 2027", "2027 week 3"] {
            assert_eq!(Period::parse_user(s).unwrap(), w3, "{s}");
        }
        assert_eq!(
            Period::parse_user("2027").unwrap(),
            Period::Year { year: 2027 }
        );
        for bad in [
            "",
            "Q5 2027",
            "2027-13",
            "Janu 2027",
            "next month",
            "2027 2028",
            "Q1",
        ] {
            assert!(Period::parse_user(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn local_date_uses_the_zone() {
        let instant = Utc.with_ymd_and_hms(2027, 1, 31, 23, 30, 0).unwrap();
        let tokyo = Zone::parse("Asia/Tokyo").unwrap();
        let ny = Zone::parse("America/New_York").unwrap();
        assert_eq!(local_date(instant, tokyo), d(2027, 2, 1));
        assert_eq!(local_date(instant, ny), d(2027, 1, 31));
        assert_eq!(
            Period::containing_month(local_date(instant, tokyo)).key(),
            "2027-02"
        );
    }

    #[test]
    fn every_day_1970_to_2100_round_trips() {
        let mut day = d(1970, 1, 1);
        let last = d(2100, 12, 31);
        while day <= last {
            for cadence in [Cadence::Weekly, Cadence::Monthly, Cadence::Quarterly] {
                let p = Period::of(cadence, day);
                assert!(p.contains(day));
                assert_eq!(Period::parse_key(&p.key()).unwrap(), p);
                assert_eq!(Period::parse_user(&p.key()).unwrap(), p);
                assert_eq!(p.next().prev(), p);
                assert_eq!(p.next().start_date(), p.end_date().succ_opt().unwrap());
            }
            let y = Period::containing_year(day);
            assert_eq!(Period::parse_key(&y.key()).unwrap(), y);
            day = day.checked_add_days(Days::new(1)).unwrap();
        }
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in any::<String>()) {
            let _ = Period::parse_key(&s);
            let _ = Period::parse_user(&s);
            let _ = Cadence::parse(&s);
        }

        #[test]
        fn parsers_never_panic_on_long_unicode(s in "\\PC{0,2000}") {
            let _ = Period::parse_key(&s);
            let _ = Period::parse_user(&s);
        }

        #[test]
        fn parsers_never_panic_on_near_misses(s in "[0-9QqWw -/]{0,12}") {
            if let Ok(p) = Period::parse_user(&s) {
                prop_assert_eq!(Period::parse_key(&p.key()), Ok(p));
            }
            let _ = Period::parse_key(&s);
        }

        #[test]
        fn date_roundtrip(days in 0i64..(131 * 366)) {
            let day = d(1970, 1, 1) + chrono::Duration::days(days);
            for p in [Period::containing_week(day), Period::containing_month(day),
                      Period::containing_quarter(day), Period::containing_year(day)] {
                prop_assert!(p.contains(day));
                prop_assert!(p.start_date() <= p.end_date());
                prop_assert!(p.prev() < p && p < p.next());
            }
        }
    }
}
