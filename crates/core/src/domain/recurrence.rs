//! Recurring schedules: 5-field cron text evaluated on a member's LOCAL
//! wall clock.
//!
//! # Accepted input
//!
//! * Cron: `minute hour day-of-month month weekday`, with numbers, `*`,
//!   ranges `a-b`, lists `a,b`, steps `*/n`, `a-b/n` and `a/n` (= `a-max/n`),
//!   month names (Jan..Dec) and weekday names (Mon..Sun), any case.
//!   Weekdays are numbered 0-7 with 0 and 7 both Sunday and 1 Monday.
//!   Seconds and years (6- and 7-field forms) are refused.
//! * A few phrases, turned into cron: "daily at 09:00", "every monday at
//!   9am", "every weekday at 08:30", "monthly on day 1 at 09:00", "monthly
//!   on the 1st at 09:00", "monthly on the last day at 18:00", "first
//!   monday of each quarter at 09:00", "second tuesday of every month at
//!   12:00", "yearly on jan 5 at 09:00", "every january on the 5th at 9:00".
//!
//! # Semantics guaranteed
//!
//! * Matching happens on the zone's local wall clock, never on UTC.
//! * When both day-of-month and weekday are restricted, BOTH must match
//!   ("0 9 1-7 * Mon" is the first Monday). Classic Vixie cron would fire
//!   when EITHER matches; the `cron` crate (0.17) already ANDs the two
//!   fields, which the tests pin down, so no compensation is needed.
//! * Month-end rule: when the day-of-month field is a single number of 29
//!   or more, a month that lacks that day fires on its last day instead
//!   ("0 9 31 * *" fires Apr 30 and Feb 28/29), so every selected month
//!   fires exactly once. Any weekday restriction applies to the day that
//!   actually fires. A schedule that could never fire ("0 9 30,31 2 *") is
//!   refused at parse time.
//! * Daylight saving: a local time skipped by a spring-forward gap fires at
//!   the first instant after the gap (02:30 on the New York spring-forward
//!   day fires at 03:00 EDT); a local time that happens twice fires once,
//!   at the earlier instant. Several local times swallowed by one gap fire
//!   once, reported under the earliest of them, so instants stay strictly
//!   increasing.
//! * The `cron` crate only knows the years 1970-2100; nothing fires
//!   outside them.
//! * [`CronSchedule::occurrences`] returns at most [`MAX_OCCURRENCES`]
//!   items, so "* * * * *" over a decade cannot exhaust memory; callers
//!   that need more page with a later `after`.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::zone::{Zone, safe_quote};

/// Upper bound on the items one [`CronSchedule::occurrences`] call returns.
pub const MAX_OCCURRENCES: usize = 10_000;

/// Longest schedule text accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 200;

/// Slack around the requested window when it is turned into local wall
/// time: real UTC offsets differ by up to ~26 hours across a zone's
/// history (Pacific date-line moves), so two days is always enough.
const WINDOW_SLACK_DAYS: i64 = 2;

/// Longest spring-forward gap searched for; the largest in the tz
/// database is a whole skipped day.
const MAX_GAP_MINUTES: i64 = 3 * 24 * 60;

/// One firing of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Occurrence {
    /// The scheduled wall-clock time.
    pub local: NaiveDateTime,
    /// The instant it fires.
    pub at: DateTime<Utc>,
}

/// A cron field, named the way people read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldName {
    Minute,
    Hour,
    DayOfMonth,
    Month,
    Weekday,
}

impl fmt::Display for FieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FieldName::Minute => "minute",
            FieldName::Hour => "hour",
            FieldName::DayOfMonth => "day-of-month",
            FieldName::Month => "month",
            FieldName::Weekday => "weekday",
        })
    }
}

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldProblem {
    /// `bad` is the offending value within the field.
    OutOfRange {
        bad: String,
        min: u32,
        max: u32,
    },
    NotUnderstood {
        bad: String,
    },
    Backwards {
        bad: String,
    },
    BadStep {
        bad: String,
        max: u32,
    },
    EmptyItem,
}

/// Why a schedule was refused. Display text is plain English and safe to
/// show in chat: echoed input passes through [`safe_quote`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error(
        "the schedule is empty; use 5-field cron like \"0 9 1 * *\" or words like \"monthly on day 1 at 09:00\""
    )]
    Empty,
    #[error("the schedule is too long ({chars} characters; the limit is {MAX_TEXT_CHARS})")]
    TooLong { chars: usize },
    #[error("{}", field_count_message(*.found))]
    FieldCount { found: usize },
    #[error("{}", field_message(*.field, .value, .problem))]
    Field {
        field: FieldName,
        /// The whole field as typed, made safe for display.
        value: String,
        problem: FieldProblem,
    },
    #[error(
        "the schedule never fires: no month in the month field \"{months}\" has a day from the day-of-month field \"{days}\""
    )]
    NeverFires { days: String, months: String },
    #[error(
        "could not understand \"{input}\"; try cron like \"0 9 1 * *\" or words like \"monthly on day 1 at 09:00\", \"every monday at 09:00\" or \"first monday of each quarter at 09:00\""
    )]
    Words { input: String },
    #[error("\"{input}\" is not a time of day; use HH:MM from 00:00 to 23:59, or 9am / 5:30pm")]
    Time { input: String },
    #[error("the schedule could not be prepared: {0}")]
    Engine(String),
}

fn field_count_message(found: usize) -> String {
    if found == 6 || found == 7 {
        format!(
            "this schedule has {found} fields, but only the 5-field form \
             (minute hour day-of-month month weekday) is supported; seconds and years are not"
        )
    } else {
        format!(
            "a schedule needs 5 fields (minute hour day-of-month month weekday), but this one has {found}"
        )
    }
}

fn field_message(field: FieldName, value: &str, problem: &FieldProblem) -> String {
    let detail = match problem {
        FieldProblem::OutOfRange { bad, min, max } if bad == value => {
            format!("is out of range {min}-{max}")
        }
        FieldProblem::OutOfRange { bad, min, max } => {
            format!("has {bad}, which is out of range {min}-{max}")
        }
        FieldProblem::NotUnderstood { bad } if bad == value => {
            "is not a number, name, range, list or step".to_string()
        }
        FieldProblem::NotUnderstood { bad } => {
            format!("has \"{bad}\", which is not a number, name, range or step")
        }
        FieldProblem::Backwards { bad } => {
            format!("has the range {bad}, which runs backwards; put the smaller value first")
        }
        FieldProblem::BadStep { bad, max } => {
            format!("has the step \"{bad}\"; a step must be a whole number from 1 to {max}")
        }
        FieldProblem::EmptyItem => "has an empty item in its list".to_string(),
    };
    format!("the {field} field \"{value}\" {detail}")
}

/// A parsed schedule: the normalized 5-field text plus a compiled form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    text: String,
    fields: Fields,
    /// Evaluated over naive wall-clock time disguised as UTC, because the
    /// crate's own time-zone handling does not follow our DST rules.
    engine: cron::Schedule,
}

/// The expanded value sets, one bit per allowed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fields {
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    /// Bit 0 = Sunday .. bit 6 = Saturday (7 is folded onto 0).
    weekdays: u64,
    /// Set when the month-end rule applies: the single day asked for.
    last_day: Option<u32>,
}

impl CronSchedule {
    /// Parses cron text or one of the supported phrases (see the module
    /// docs). Never panics.
    pub fn parse(input: &str) -> Result<CronSchedule, CronError> {
        let chars = input.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(CronError::TooLong { chars });
        }
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(CronError::Empty);
        }
        if trimmed.starts_with(|c: char| c.is_alphabetic()) {
            let cron_text = words_to_cron(trimmed)?;
            return parse_cron(&cron_text);
        }
        parse_cron(trimmed)
    }

    /// The normalized 5-field cron text.
    pub fn to_cron_text(&self) -> &str {
        &self.text
    }

    /// Plain English, e.g. "at 09:00 on day 1 of every month".
    pub fn describe(&self) -> String {
        let f = &self.fields;
        format!("{} {}", describe_time(f), describe_days(f))
    }

    /// Every occurrence with `after < at <= until`, in order, capped at
    /// [`MAX_OCCURRENCES`].
    pub fn occurrences(
        &self,
        zone: Zone,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Vec<Occurrence> {
        if until <= after {
            return Vec::new();
        }
        self.resolved_after(zone, after)
            .take_while(|occ| occ.at <= until)
            .take(MAX_OCCURRENCES)
            .collect()
    }

    /// The first occurrence strictly after `after`, if any before 2101.
    pub fn next_after(&self, zone: Zone, after: DateTime<Utc>) -> Option<Occurrence> {
        self.resolved_after(zone, after).next()
    }

    /// Occurrences with `at > after`, strictly increasing. Relies on the
    /// local-to-instant mapping never going backwards, which holds for
    /// "first instant after a gap" and "earlier of a fold".
    fn resolved_after(
        &self,
        zone: Zone,
        after: DateTime<Utc>,
    ) -> impl Iterator<Item = Occurrence> + '_ {
        let start = window_start(zone, after);
        let mut last: Option<DateTime<Utc>> = None;
        start
            .into_iter()
            .flat_map(move |s| self.local_times_after(s))
            .filter_map(move |local| {
                let at = resolve_local(local, zone);
                if at <= after || last.is_some_and(|prev| at <= prev) {
                    return None;
                }
                last = Some(at);
                Some(Occurrence { local, at })
            })
    }

    /// Matching wall-clock times strictly after `from`, ascending.
    fn local_times_after(&self, from: NaiveDateTime) -> impl Iterator<Item = NaiveDateTime> + '_ {
        let start = Utc.from_utc_datetime(&from);
        let last_day = self.fields.last_day;
        self.engine
            .after(&start)
            .map(|t| t.naive_utc())
            .filter(move |t| match last_day {
                Some(day) => t.day() == day.min(days_in_month(t.year(), t.month())),
                None => true,
            })
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for CronSchedule {
    type Err = CronError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CronSchedule::parse(s)
    }
}

impl Serialize for CronSchedule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for CronSchedule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        CronSchedule::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Local wall-clock start for a search after `after`, or `None` when
/// `after` is beyond anything the engine can produce.
fn window_start(zone: Zone, after: DateTime<Utc>) -> Option<NaiveDateTime> {
    let earliest = Utc.with_ymd_and_hms(1969, 12, 25, 0, 0, 0).single()?;
    let latest = Utc.with_ymd_and_hms(2101, 1, 5, 0, 0, 0).single()?;
    if after >= latest {
        return None;
    }
    let local = after.max(earliest).with_timezone(&zone.tz()).naive_local();
    local.checked_sub_signed(TimeDelta::days(WINDOW_SLACK_DAYS))
}

/// Adds whole days on the local calendar, keeping the wall-clock time,
/// then maps to an instant with the same DST rules as occurrences. Results
/// are clamped to the years 1-9999.
pub fn shift_local(occ_local: NaiveDateTime, days: i64, zone: Zone) -> DateTime<Utc> {
    let (lo, hi) = local_limits();
    // Four million days spans more than the clamp range, so a bigger shift
    // cannot land anywhere different.
    let days = days.clamp(-4_000_000, 4_000_000);
    let shifted = TimeDelta::try_days(days)
        .and_then(|delta| occ_local.checked_add_signed(delta))
        .unwrap_or(if days < 0 { lo } else { hi });
    resolve_local(shifted, zone)
}

/// Maps a wall-clock time in `zone` to the instant it fires: the earlier
/// instant of a repeated time, the first instant after a skipped one.
/// Inputs are clamped to the years 1-9999.
pub fn resolve_local(local: NaiveDateTime, zone: Zone) -> DateTime<Utc> {
    let (lo, hi) = local_limits();
    let local = local.clamp(lo, hi);
    let tz = zone.tz();
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.to_utc(),
        LocalResult::Ambiguous(a, b) => a.min(b).to_utc(),
        LocalResult::None => gap_end(local, zone),
    }
}

fn local_limits() -> (NaiveDateTime, NaiveDateTime) {
    let lo = NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or(NaiveDate::MIN);
    let hi = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX);
    (
        lo.and_hms_opt(0, 0, 0).unwrap_or_default(),
        hi.and_hms_opt(23, 59, 59).unwrap_or_default(),
    )
}

/// The transition instant that ends the gap containing `local`.
fn gap_end(local: NaiveDateTime, zone: Zone) -> DateTime<Utc> {
    let tz = zone.tz();
    let offset_at = |t: DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc()).fix();
    for minutes_back in 1..=MAX_GAP_MINUTES {
        let Some(probe) = local.checked_sub_signed(TimeDelta::minutes(minutes_back)) else {
            break;
        };
        // The last wall-clock time before the gap; the transition happens
        // within the following minute (not always on a whole minute, as
        // old local-mean-time offsets carry seconds).
        let Some(before) = tz.from_local_datetime(&probe).latest() else {
            continue;
        };
        let before = before.to_utc();
        let old_offset = offset_at(before);
        let (mut same, mut changed) = (0i64, 60i64);
        while changed - same > 1 {
            let mid = (same + changed) / 2;
            if offset_at(before + TimeDelta::seconds(mid)) == old_offset {
                same = mid;
            } else {
                changed = mid;
            }
        }
        return before + TimeDelta::seconds(changed);
    }
    // Unreachable with the real tz database; read the time with the offset
    // in force at that moment rather than panic.
    let offset = tz.offset_from_utc_datetime(&local).fix();
    Utc.from_utc_datetime(&(local - offset))
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let (ny, nm) = if month >= 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(ny, nm, 1)
        .and_then(|d| d.pred_opt())
        .map_or(31, |d| d.day())
}

// ---------------------------------------------------------------------------
// Cron text

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

/// Crate spellings, indexed Sunday = 0. Passing names rather than numbers
/// keeps the crate's 1 = Sunday numbering from ever meeting ours.
const CRATE_WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

struct Spec {
    name: FieldName,
    min: u32,
    max: u32,
    /// Names and the number each stands for.
    names: &'static [&'static str],
    name_base: u32,
}

const SPECS: [Spec; 5] = [
    Spec {
        name: FieldName::Minute,
        min: 0,
        max: 59,
        names: &[],
        name_base: 0,
    },
    Spec {
        name: FieldName::Hour,
        min: 0,
        max: 23,
        names: &[],
        name_base: 0,
    },
    Spec {
        name: FieldName::DayOfMonth,
        min: 1,
        max: 31,
        names: &[],
        name_base: 0,
    },
    Spec {
        name: FieldName::Month,
        min: 1,
        max: 12,
        names: &MONTHS,
        name_base: 1,
    },
    Spec {
        name: FieldName::Weekday,
        min: 0,
        max: 7,
        names: &WEEKDAYS,
        name_base: 0,
    },
];

/// One value as typed, remembered as a name or a number so the normalized
/// text keeps the member's choice.
#[derive(Clone, Copy)]
struct Value {
    n: u32,
    named: bool,
}

struct ParsedField {
    bits: u64,
    text: String,
    /// A single plain number with no range or step.
    single: Option<u32>,
}

fn parse_cron(text: &str) -> Result<CronSchedule, CronError> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    if parts.len() != 5 {
        return Err(CronError::FieldCount { found: parts.len() });
    }
    let mut parsed = Vec::with_capacity(5);
    for (part, spec) in parts.iter().zip(SPECS.iter()) {
        parsed.push(parse_field(part, spec)?);
    }
    let [minute, hour, dom, month, dow] = <[ParsedField; 5]>::try_from(parsed)
        .map_err(|_| CronError::Engine("field count changed".into()))?;

    // Sunday may arrive as 7; fold it onto 0.
    let weekdays = (dow.bits | (dow.bits >> 7)) & 0x7f;
    let last_day = dom.single.filter(|&d| d >= 29);
    let fields = Fields {
        minutes: minute.bits,
        hours: hour.bits,
        days: dom.bits,
        months: month.bits,
        weekdays,
        last_day,
    };
    if last_day.is_none() && !can_fire(&fields) {
        return Err(CronError::NeverFires {
            days: safe_quote(&dom.text),
            months: safe_quote(&month.text),
        });
    }

    let day_list = if last_day.is_some() {
        "28,29,30,31".to_string()
    } else {
        number_list(fields.days)
    };
    let weekday_list = (0..7)
        .filter(|i| weekdays & (1 << i) != 0)
        .filter_map(|i| CRATE_WEEKDAYS.get(i).copied())
        .collect::<Vec<_>>()
        .join(",");
    let engine_text = format!(
        "0 {} {} {} {} {}",
        number_list(fields.minutes),
        number_list(fields.hours),
        day_list,
        number_list(fields.months),
        weekday_list
    );
    let engine = cron::Schedule::from_str(&engine_text)
        .map_err(|e| CronError::Engine(safe_quote(&e.to_string())))?;
    let text = [minute.text, hour.text, dom.text, month.text, dow.text].join(" ");
    Ok(CronSchedule {
        text,
        fields,
        engine,
    })
}

/// Whether some selected month has some selected day (Feb counted as 29
/// days, since leap years come round).
fn can_fire(f: &Fields) -> bool {
    const LONGEST: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    (1..=12u32).any(|m| {
        f.months & (1 << m) != 0 && {
            let len = LONGEST.get((m - 1) as usize).copied().unwrap_or(31);
            (1..=len).any(|d| f.days & (1 << d) != 0)
        }
    })
}

fn number_list(bits: u64) -> String {
    (0..64u32)
        .filter(|i| bits & (1u64 << i) != 0)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_field(raw: &str, spec: &Spec) -> Result<ParsedField, CronError> {
    let fail = |problem: FieldProblem| CronError::Field {
        field: spec.name,
        value: safe_quote(raw),
        problem,
    };
    let mut bits = 0u64;
    let mut rendered = Vec::new();
    let items: Vec<&str> = raw.split(',').collect();
    let mut single = None;
    for item in &items {
        if item.is_empty() {
            return Err(fail(FieldProblem::EmptyItem));
        }
        let (base, step) = match item.split_once('/') {
            Some((b, s)) => (b, Some(s)),
            None => (*item, None),
        };
        let (lo, hi, base_text) = if base == "*" {
            (spec.min, spec.max, "*".to_string())
        } else if let Some((a, b)) = base.split_once('-') {
            let a = parse_value(a, spec).map_err(&fail)?;
            let b = parse_value(b, spec).map_err(&fail)?;
            if a.n > b.n {
                return Err(fail(FieldProblem::Backwards {
                    bad: safe_quote(base),
                }));
            }
            (a.n, b.n, format!("{}-{}", render(a, spec), render(b, spec)))
        } else {
            let v = parse_value(base, spec).map_err(&fail)?;
            // "a/n" means from a to the end of the range.
            let hi = if step.is_some() { spec.max } else { v.n };
            if step.is_none() && items.len() == 1 && !v.named {
                single = Some(v.n);
            }
            (v.n, hi, render(v, spec))
        };
        let step_n = match step {
            None => 1,
            Some(s) => {
                let max = spec.max - spec.min + 1;
                match small_number(s) {
                    Some(n) if (1..=max).contains(&n) => n,
                    _ => {
                        return Err(fail(FieldProblem::BadStep {
                            bad: safe_quote(s),
                            max,
                        }));
                    }
                }
            }
        };
        let mut v = lo;
        while v <= hi {
            bits |= 1u64 << v;
            v += step_n;
        }
        rendered.push(match step {
            Some(_) => format!("{base_text}/{step_n}"),
            None => base_text,
        });
    }
    Ok(ParsedField {
        bits,
        text: rendered.join(","),
        single,
    })
}

fn parse_value(token: &str, spec: &Spec) -> Result<Value, FieldProblem> {
    if token.is_empty() {
        return Err(FieldProblem::EmptyItem);
    }
    if token.bytes().all(|b| b.is_ascii_digit()) {
        return match small_number(token) {
            Some(n) if (spec.min..=spec.max).contains(&n) => Ok(Value { n, named: false }),
            _ => Err(FieldProblem::OutOfRange {
                bad: safe_quote(token),
                min: spec.min,
                max: spec.max,
            }),
        };
    }
    let lower = token.to_lowercase();
    spec.names
        .iter()
        .position(|full| lower == *full || (lower.len() == 3 && full.starts_with(&lower)))
        .map(|i| Value {
            n: i as u32 + spec.name_base,
            named: true,
        })
        .ok_or_else(|| FieldProblem::NotUnderstood {
            bad: safe_quote(token),
        })
}

/// Digits only, short enough that parsing cannot overflow.
fn small_number(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn render(v: Value, spec: &Spec) -> String {
    if v.named {
        let idx = (v.n - spec.name_base) as usize;
        if let Some(name) = spec.names.get(idx) {
            return title_abbrev(name);
        }
    }
    v.n.to_string()
}

fn title_abbrev(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().take(3).enumerate() {
        if i == 0 {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Plain-words forms

fn words_to_cron(input: &str) -> Result<String, CronError> {
    let lowered = input.to_lowercase().replace(',', " ");
    let tokens: Vec<&str> = lowered.split_whitespace().collect();
    let not_understood = || CronError::Words {
        input: safe_quote(input),
    };
    let at = tokens
        .iter()
        .rposition(|t| *t == "at")
        .ok_or_else(not_understood)?;
    let (head, time_tokens) = tokens.split_at(at);
    let time_text = time_tokens.get(1..).unwrap_or(&[]).concat();
    let (hour, minute) = parse_time(&time_text).ok_or_else(|| CronError::Time {
        input: safe_quote(&time_tokens.get(1..).unwrap_or(&[]).join(" ")),
    })?;
    let days = words_to_days(head).ok_or_else(not_understood)?;
    Ok(format!("{minute} {hour} {days}"))
}

/// The day-of-month, month and weekday fields for a phrase head.
fn words_to_days(head: &[&str]) -> Option<String> {
    let head: Vec<&str> = head.iter().copied().filter(|t| *t != "the").collect();
    match head.as_slice() {
        ["daily"] | ["every", "day"] | ["each", "day"] => Some("* * *".into()),
        ["every", "weekday"] | ["weekdays"] | ["on", "weekdays"] => Some("* * Mon-Fri".into()),
        ["every", wd] | ["each", wd] | ["weekly", "on", wd] | ["on", wd] => {
            weekday_name(wd).map(|w| format!("* * {w}"))
        }
        ["monthly", "on", day @ ..]
        | ["every", "month", "on", day @ ..]
        | ["each", "month", "on", day @ ..] => month_day(day).map(|d| format!("{d} * *")),
        [nth, wd, "of", every, unit] if matches!(*every, "each" | "every") => {
            let days = nth_week_days(nth)?;
            let w = weekday_name(wd)?;
            match *unit {
                "quarter" => Some(format!("{days} 1,4,7,10 {w}")),
                "month" => Some(format!("{days} * {w}")),
                _ => None,
            }
        }
        ["yearly", "on", month, day @ ..]
        | ["every", "year", "on", month, day @ ..]
        | ["annually", "on", month, day @ ..] => {
            let m = month_name(month)?;
            month_day(day).map(|d| format!("{d} {m} *"))
        }
        ["every", month, "on", day @ ..] => {
            let m = month_name(month)?;
            month_day(day).map(|d| format!("{d} {m} *"))
        }
        _ => None,
    }
}

/// "day 5", "5th", "5", "last day", "last": a day-of-month field. Numbers
/// out of range are passed through so the cron parser names the problem.
fn month_day(tokens: &[&str]) -> Option<String> {
    match tokens {
        ["last", "day"] | ["last"] => Some("31".into()),
        ["day", n] | [n] => ordinal(n).map(|n| n.to_string()),
        [n, "day"] => ordinal(n).map(|n| n.to_string()),
        _ => None,
    }
}

fn ordinal(token: &str) -> Option<u32> {
    let digits = token
        .strip_suffix("st")
        .or_else(|| token.strip_suffix("nd"))
        .or_else(|| token.strip_suffix("rd"))
        .or_else(|| token.strip_suffix("th"))
        .unwrap_or(token);
    small_number(digits)
}

fn nth_week_days(token: &str) -> Option<&'static str> {
    match token {
        "first" | "1st" => Some("1-7"),
        "second" | "2nd" => Some("8-14"),
        "third" | "3rd" => Some("15-21"),
        "fourth" | "4th" => Some("22-28"),
        _ => None,
    }
}

fn weekday_name(token: &str) -> Option<String> {
    let t = token
        .strip_suffix('s')
        .filter(|t| t.len() > 3)
        .unwrap_or(token);
    WEEKDAYS
        .iter()
        .find(|full| t == **full || (t.len() == 3 && full.starts_with(t)))
        .map(|full| title_abbrev(full))
}

fn month_name(token: &str) -> Option<String> {
    MONTHS
        .iter()
        .find(|full| token == **full || (token.len() == 3 && full.starts_with(token)))
        .map(|full| title_abbrev(full))
}

/// "9:00", "09:30", "9am", "5:30pm", "noon", "midnight" (already lowercased
/// and with spaces removed).
fn parse_time(text: &str) -> Option<(u32, u32)> {
    match text {
        "noon" => return Some((12, 0)),
        "midnight" => return Some((0, 0)),
        _ => {}
    }
    let (clock, meridiem) = if let Some(c) = text.strip_suffix("am") {
        (c, Some(false))
    } else if let Some(c) = text.strip_suffix("pm") {
        (c, Some(true))
    } else {
        (text, None)
    };
    let (h, m) = match clock.split_once(':') {
        Some((h, m)) if m.len() == 2 => (small_number(h)?, small_number(m)?),
        Some(_) => return None,
        // A bare hour is only clear with am/pm.
        None if meridiem.is_some() => (small_number(clock)?, 0),
        None => return None,
    };
    if h > 99 || m > 59 {
        return None;
    }
    let h = match meridiem {
        None if h <= 23 => h,
        Some(pm) if (1..=12).contains(&h) => (h % 12) + if pm { 12 } else { 0 },
        _ => return None,
    };
    Some((h, m))
}

// ---------------------------------------------------------------------------
// Descriptions

fn values(bits: u64, lo: u32, hi: u32) -> Vec<u32> {
    (lo..=hi).filter(|i| bits & (1u64 << i) != 0).collect()
}

fn is_full(bits: u64, lo: u32, hi: u32) -> bool {
    (lo..=hi).all(|i| bits & (1u64 << i) != 0)
}

/// "1-5,10,15" style compact list.
fn compact(vals: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < vals.len() {
        let mut j = i;
        while j + 1 < vals.len() && vals[j + 1] == vals[j] + 1 {
            j += 1;
        }
        parts.push(if j > i + 1 {
            format!("{}-{}", vals[i], vals[j])
        } else if j == i + 1 {
            format!("{},{}", vals[i], vals[j])
        } else {
            vals[i].to_string()
        });
        i = j + 1;
    }
    parts.join(",")
}

fn join_words(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn describe_time(f: &Fields) -> String {
    let minutes = values(f.minutes, 0, 59);
    let hours = values(f.hours, 0, 23);
    if minutes.len() * hours.len() <= 4 {
        let times: Vec<String> = hours
            .iter()
            .flat_map(|h| minutes.iter().map(move |m| format!("{h:02}:{m:02}")))
            .collect();
        return format!("at {}", join_words(&times));
    }
    // "*/5" style minutes read better as a rate.
    if let [0, step, ..] = minutes.as_slice() {
        let step = *step;
        let evenly = 60 % step == 0 && minutes.iter().zip(0u32..).all(|(m, i)| *m == i * step);
        if evenly && minutes.len() as u32 == 60 / step && step > 1 {
            return if hours.len() == 24 {
                format!("every {step} minutes")
            } else {
                format!("every {step} minutes during hour {}", compact(&hours))
            };
        }
    }
    let all_minutes = minutes.len() == 60;
    let all_hours = hours.len() == 24;
    match (all_minutes, all_hours) {
        (true, true) => "every minute".into(),
        (false, true) => format!("at minute {} of every hour", compact(&minutes)),
        (true, false) => format!("every minute of hour {}", compact(&hours)),
        (false, false) => format!(
            "at minute {} of hour {}",
            compact(&minutes),
            compact(&hours)
        ),
    }
}

fn describe_days(f: &Fields) -> String {
    let all_days = is_full(f.days, 1, 31);
    let all_weekdays = is_full(f.weekdays, 0, 6);
    let months = if is_full(f.months, 1, 12) {
        "every month".to_string()
    } else {
        let names: Vec<String> = values(f.months, 1, 12)
            .iter()
            .filter_map(|m| MONTHS.get((*m - 1) as usize))
            .map(|n| capitalised(n))
            .collect();
        join_words(&names)
    };
    let in_months = if is_full(f.months, 1, 12) {
        String::new()
    } else {
        format!(" in {months}")
    };
    let weekdays = describe_weekdays(f.weekdays);
    let day_part = match f.last_day {
        Some(d) => format!("day {d} (or the last day if the month is shorter)"),
        None => {
            let days = values(f.days, 1, 31);
            if days.len() == 1 {
                format!("day {}", compact(&days))
            } else {
                format!("days {}", compact(&days))
            }
        }
    };
    match (all_days, all_weekdays) {
        (true, true) => format!("every day{in_months}"),
        (true, false) => format!("every {weekdays}{in_months}"),
        (false, true) => format!("on {day_part} of {months}"),
        (false, false) => {
            let nth = match values(f.days, 1, 31).as_slice() {
                [1, .., 7] if f.days.count_ones() == 7 => Some("first"),
                [8, .., 14] if f.days.count_ones() == 7 => Some("second"),
                [15, .., 21] if f.days.count_ones() == 7 => Some("third"),
                [22, .., 28] if f.days.count_ones() == 7 => Some("fourth"),
                _ => None,
            };
            match nth {
                Some(n) if f.weekdays.count_ones() == 1 => {
                    format!("on the {n} {weekdays} of {months}")
                }
                _ => format!("on {day_part} of {months}, only when it is a {weekdays}"),
            }
        }
    }
}

fn describe_weekdays(bits: u64) -> String {
    if bits == 0b011_1110 {
        return "weekday (Monday to Friday)".into();
    }
    // Monday first, as people list a week.
    let names: Vec<String> = [1usize, 2, 3, 4, 5, 6, 0]
        .iter()
        .filter(|i| bits & (1 << **i) != 0)
        .filter_map(|i| WEEKDAYS.get(*i))
        .map(|n| capitalised(n))
        .collect();
    join_words(&names)
}

fn capitalised(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::{Timelike, Weekday};
    use chrono_tz::TZ_VARIANTS;
    use proptest::prelude::*;

    fn zone(name: &str) -> Zone {
        Zone::parse(name).unwrap()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn naive(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
    }

    fn sched(text: &str) -> CronSchedule {
        CronSchedule::parse(text).unwrap()
    }

    fn err(text: &str) -> String {
        CronSchedule::parse(text).unwrap_err().to_string()
    }

    fn year_2027(s: &CronSchedule, z: Zone) -> Vec<Occurrence> {
        s.occurrences(z, utc(2026, 12, 31, 0, 0), utc(2027, 12, 31, 0, 0))
    }

    // --- what the cron crate itself does -------------------------------

    #[test]
    fn crate_ands_day_of_month_and_weekday() {
        // Vixie cron would fire on days 1-7 AND on every Monday; the crate
        // fires only on Mondays within days 1-7.
        let s = cron::Schedule::from_str("0 0 9 1-7 * Mon").unwrap();
        let got: Vec<_> = s.after(&utc(2027, 1, 1, 0, 0)).take(3).collect();
        assert_eq!(
            got,
            vec![
                utc(2027, 1, 4, 9, 0),
                utc(2027, 2, 1, 9, 0),
                utc(2027, 3, 1, 9, 0)
            ]
        );
    }

    #[test]
    fn crate_numbers_weekdays_from_sunday_one() {
        // Our "1" is Monday; the crate's is Sunday, hence names are passed.
        let s = cron::Schedule::from_str("0 0 9 * * 1").unwrap();
        let first = s.after(&utc(2027, 1, 1, 0, 0)).next().unwrap();
        assert_eq!(first.weekday(), Weekday::Sun);
        assert!(cron::Schedule::from_str("0 0 9 * * 0").is_err());
        assert!(cron::Schedule::from_str("0 9 * * *").is_err());
    }

    #[test]
    fn crate_skips_missing_days() {
        let s = cron::Schedule::from_str("0 0 9 31 * *").unwrap();
        let got: Vec<_> = s.after(&utc(2027, 3, 1, 0, 0)).take(2).collect();
        assert_eq!(got, vec![utc(2027, 3, 31, 9, 0), utc(2027, 5, 31, 9, 0)]);
    }

    // --- parsing ---------------------------------------------------------

    #[test]
    fn normalizes_text() {
        assert_eq!(sched("  0   9 1 *  * ").to_cron_text(), "0 9 1 * *");
        assert_eq!(
            sched("0 9 * jan,JUL mon-FRI").to_cron_text(),
            "0 9 * Jan,Jul Mon-Fri"
        );
        assert_eq!(
            sched("*/15 9-17/2 1 * sunday").to_cron_text(),
            "*/15 9-17/2 1 * Sun"
        );
        assert_eq!(sched("05 09 01 * *").to_cron_text(), "5 9 1 * *");
        assert_eq!(
            "0 9 1 * *".parse::<CronSchedule>().unwrap().to_string(),
            "0 9 1 * *"
        );
    }

    #[test]
    fn words_forms() {
        let cases = [
            ("monthly on day 1 at 09:00", "0 9 1 * *"),
            ("Monthly on the 1st at 09:00", "0 9 1 * *"),
            ("monthly on the 15th at 9:30", "30 9 15 * *"),
            ("monthly on the last day at 18:00", "0 18 31 * *"),
            (
                "first Monday of each quarter at 09:00",
                "0 9 1-7 1,4,7,10 Mon",
            ),
            ("second tuesday of every month at 12:00", "0 12 8-14 * Tue"),
            ("every friday at 5pm", "0 17 * * Fri"),
            ("every Wednesday   at  08:05", "5 8 * * Wed"),
            ("every weekday at 8:30 am", "30 8 * * Mon-Fri"),
            ("daily at 07:00", "0 7 * * *"),
            ("every day at noon", "0 12 * * *"),
            ("weekly on sunday at 12am", "0 0 * * Sun"),
            ("yearly on jan 5 at 09:00", "0 9 5 Jan *"),
            ("every january on the 5th at 9:00", "0 9 5 Jan *"),
        ];
        for (words, cron) in cases {
            assert_eq!(sched(words).to_cron_text(), cron, "{words}");
        }
    }

    #[test]
    fn rejection_messages() {
        assert_eq!(
            err("0 25 * * *"),
            "the hour field \"25\" is out of range 0-23"
        );
        assert_eq!(
            err("60 * * * *"),
            "the minute field \"60\" is out of range 0-59"
        );
        assert_eq!(
            err("0 9 0 * *"),
            "the day-of-month field \"0\" is out of range 1-31"
        );
        assert_eq!(
            err("0 9 * 13 *"),
            "the month field \"13\" is out of range 1-12"
        );
        assert_eq!(
            err("0 9 * * 8"),
            "the weekday field \"8\" is out of range 0-7"
        );
        assert_eq!(
            err("0 9 1,40 * *"),
            "the day-of-month field \"1,40\" has 40, which is out of range 1-31"
        );
        assert_eq!(
            err("0 9 * * Funday"),
            "the weekday field \"Funday\" is not a number, name, range, list or step"
        );
        assert_eq!(
            err("0 9 5-1 * *"),
            "the day-of-month field \"5-1\" has the range 5-1, which runs backwards; put the smaller value first"
        );
        assert_eq!(
            err("*/0 * * * *"),
            "the minute field \"*/0\" has the step \"0\"; a step must be a whole number from 1 to 60"
        );
        assert_eq!(
            err("0 9 1,,2 * *"),
            "the day-of-month field \"1,,2\" has an empty item in its list"
        );
        assert!(err("0 0 9 * * *").contains("has 6 fields"));
        assert!(err("0 0 9 * * * 2027").contains("seconds and years are not"));
        assert!(err("0 9 * *").contains("needs 5 fields"));
        assert!(err("   ").starts_with("the schedule is empty"));
        assert!(err(&"1,".repeat(101)).starts_with("the schedule is too long (202 characters"));
        assert!(err("whenever you like").starts_with("could not understand \"whenever you like\""));
        assert!(err("every monday at 25:00").starts_with("\"25:00\" is not a time of day"));
        assert!(err("0 9 30,31 2 *").starts_with("the schedule never fires"));
        assert!(err("monthly on day 32 at 09:00").contains("out of range 1-31"));
        assert!(err("@daily").contains("needs 5 fields"));
        // Echoed text is made safe for chat.
        let text = err("0 9 * * <@123>");
        assert!(!text.contains('<') && !text.contains('@'), "{text}");
    }

    #[test]
    fn describes() {
        assert_eq!(
            sched("0 9 1 * *").describe(),
            "at 09:00 on day 1 of every month"
        );
        assert_eq!(
            sched("0 9 1-7 1,4,7,10 Mon").describe(),
            "at 09:00 on the first Monday of January, April, July and October"
        );
        assert_eq!(
            sched("30 8 * * 1-5").describe(),
            "at 08:30 every weekday (Monday to Friday)"
        );
        assert_eq!(
            sched("0 9,17 * * *").describe(),
            "at 09:00 and 17:00 every day"
        );
        assert_eq!(
            sched("*/15 * * * *").describe(),
            "every 15 minutes every day"
        );
        assert_eq!(
            sched("*/5 9-17 * * 1-5").describe(),
            "every 5 minutes during hour 9-17 every weekday (Monday to Friday)"
        );
        assert_eq!(
            sched("5,35 * * * *").describe(),
            "at minute 5,35 of every hour every day"
        );
        assert_eq!(
            sched("0 9 31 * *").describe(),
            "at 09:00 on day 31 (or the last day if the month is shorter) of every month"
        );
        assert_eq!(sched("0 9 * * 0").describe(), "at 09:00 every Sunday");
    }

    // --- evaluation ------------------------------------------------------

    fn check_monthly(zone_name: &str, expected_utc: [(i32, u32, u32, u32, u32); 12]) {
        let z = zone(zone_name);
        let got = year_2027(&sched("0 9 1 * *"), z);
        assert_eq!(got.len(), 12, "{zone_name}");
        for (i, (occ, (y, mo, d, h, mi))) in got.iter().zip(expected_utc).enumerate() {
            assert_eq!(occ.local, naive(2027, i as u32 + 1, 1, 9, 0), "{zone_name}");
            assert_eq!(occ.at, utc(y, mo, d, h, mi), "{zone_name} month {}", i + 1);
        }
    }

    #[test]
    fn monthly_new_york() {
        // EDT from 14 Mar to 7 Nov 2027.
        check_monthly(
            "America/New_York",
            [
                (2027, 1, 1, 14, 0),
                (2027, 2, 1, 14, 0),
                (2027, 3, 1, 14, 0),
                (2027, 4, 1, 13, 0),
                (2027, 5, 1, 13, 0),
                (2027, 6, 1, 13, 0),
                (2027, 7, 1, 13, 0),
                (2027, 8, 1, 13, 0),
                (2027, 9, 1, 13, 0),
                (2027, 10, 1, 13, 0),
                (2027, 11, 1, 13, 0),
                (2027, 12, 1, 14, 0),
            ],
        );
    }

    #[test]
    fn monthly_london() {
        // BST from 28 Mar to 31 Oct 2027.
        check_monthly(
            "Europe/London",
            [
                (2027, 1, 1, 9, 0),
                (2027, 2, 1, 9, 0),
                (2027, 3, 1, 9, 0),
                (2027, 4, 1, 8, 0),
                (2027, 5, 1, 8, 0),
                (2027, 6, 1, 8, 0),
                (2027, 7, 1, 8, 0),
                (2027, 8, 1, 8, 0),
                (2027, 9, 1, 8, 0),
                (2027, 10, 1, 8, 0),
                (2027, 11, 1, 9, 0),
                (2027, 12, 1, 9, 0),
            ],
        );
    }

    #[test]
    fn monthly_sydney() {
        // AEDT (+11) until 4 Apr 2027, AEST (+10) until 3 Oct 2027.
        check_monthly(
            "Australia/Sydney",
            [
                (2026, 12, 31, 22, 0),
                (2027, 1, 31, 22, 0),
                (2027, 2, 28, 22, 0),
                (2027, 3, 31, 22, 0),
                (2027, 4, 30, 23, 0),
                (2027, 5, 31, 23, 0),
                (2027, 6, 30, 23, 0),
                (2027, 7, 31, 23, 0),
                (2027, 8, 31, 23, 0),
                (2027, 9, 30, 23, 0),
                (2027, 10, 31, 22, 0),
                (2027, 11, 30, 22, 0),
            ],
        );
    }

    #[test]
    fn monthly_kolkata() {
        let mut expected = [(0, 0, 0, 0, 0); 12];
        for (i, e) in expected.iter_mut().enumerate() {
            *e = (2027, i as u32 + 1, 1, 3, 30);
        }
        check_monthly("Asia/Kolkata", expected);
    }

    fn daily_checks(zone_name: &str, text: &str, special: &[(NaiveDateTime, DateTime<Utc>)]) {
        let z = zone(zone_name);
        let got = s_occ(text, z, utc(2027, 1, 1, 12, 0), utc(2028, 1, 1, 12, 0));
        assert_eq!(got.len(), 365, "{zone_name} {text}");
        let mut day = NaiveDate::from_ymd_opt(2027, 1, 2).unwrap();
        for occ in &got {
            assert_eq!(occ.local.date(), day, "{zone_name} {text}");
            day = day.succ_opt().unwrap();
        }
        for (local, at) in special {
            let occ = got.iter().find(|o| o.local == *local).unwrap();
            assert_eq!(occ.at, *at, "{zone_name} {text} {local}");
        }
    }

    fn s_occ(text: &str, z: Zone, after: DateTime<Utc>, until: DateTime<Utc>) -> Vec<Occurrence> {
        sched(text).occurrences(z, after, until)
    }

    #[test]
    fn new_york_daily_across_dst() {
        let ny = "America/New_York";
        daily_checks(
            ny,
            "30 2 * * *",
            &[
                (naive(2027, 3, 13, 2, 30), utc(2027, 3, 13, 7, 30)),
                // Gap: 02:30 does not exist, fires at 03:00 EDT.
                (naive(2027, 3, 14, 2, 30), utc(2027, 3, 14, 7, 0)),
                (naive(2027, 3, 15, 2, 30), utc(2027, 3, 15, 6, 30)),
                (naive(2027, 11, 6, 2, 30), utc(2027, 11, 6, 6, 30)),
                (naive(2027, 11, 7, 2, 30), utc(2027, 11, 7, 7, 30)),
            ],
        );
        daily_checks(
            ny,
            "30 1 * * *",
            &[
                (naive(2027, 3, 14, 1, 30), utc(2027, 3, 14, 6, 30)),
                // Fold: 01:30 happens twice; only the first (EDT) fires.
                (naive(2027, 11, 7, 1, 30), utc(2027, 11, 7, 5, 30)),
                (naive(2027, 11, 8, 1, 30), utc(2027, 11, 8, 6, 30)),
            ],
        );
    }

    #[test]
    fn london_daily_across_dst() {
        let london = "Europe/London";
        daily_checks(
            london,
            "30 2 * * *",
            &[
                (naive(2027, 3, 28, 2, 30), utc(2027, 3, 28, 1, 30)),
                (naive(2027, 10, 31, 2, 30), utc(2027, 10, 31, 2, 30)),
            ],
        );
        daily_checks(
            london,
            "30 1 * * *",
            &[
                (naive(2027, 3, 27, 1, 30), utc(2027, 3, 27, 1, 30)),
                // Gap 01:00-02:00 GMT: fires at 02:00 BST.
                (naive(2027, 3, 28, 1, 30), utc(2027, 3, 28, 1, 0)),
                // Fold: first 01:30 is BST.
                (naive(2027, 10, 31, 1, 30), utc(2027, 10, 31, 0, 30)),
                (naive(2027, 11, 1, 1, 30), utc(2027, 11, 1, 1, 30)),
            ],
        );
    }

    #[test]
    fn gap_swallowing_several_times_fires_once() {
        let got = s_occ(
            "0,30 2,3 14 3 *",
            zone("America/New_York"),
            utc(2027, 3, 14, 0, 0),
            utc(2027, 3, 15, 0, 0),
        );
        let at: Vec<_> = got.iter().map(|o| (o.local, o.at)).collect();
        assert_eq!(
            at,
            vec![
                (naive(2027, 3, 14, 2, 0), utc(2027, 3, 14, 7, 0)),
                (naive(2027, 3, 14, 3, 30), utc(2027, 3, 14, 7, 30)),
            ]
        );
    }

    fn days_of(occs: &[Occurrence]) -> Vec<(i32, u32, u32)> {
        occs.iter()
            .map(|o| (o.local.year(), o.local.month(), o.local.day()))
            .collect()
    }

    #[test]
    fn month_end_rule() {
        let z = Zone::UTC;
        let from = utc(2027, 1, 1, 0, 0);
        let to = utc(2029, 1, 1, 0, 0);
        let last_days = |y: i32| {
            (1..=12)
                .map(move |m| (y, m, days_in_month(y, m)))
                .collect::<Vec<_>>()
        };
        let got = s_occ("0 9 31 * *", z, from, to);
        let mut want = last_days(2027);
        want.extend(last_days(2028));
        assert_eq!(days_of(&got), want);
        assert!(
            got.iter()
                .all(|o| o.local.time() == naive(2027, 1, 1, 9, 0).time())
        );
        assert!(want.contains(&(2027, 2, 28)) && want.contains(&(2028, 2, 29)));

        let got = s_occ("0 9 29 * *", z, from, to);
        let want: Vec<_> = [2027, 2028]
            .into_iter()
            .flat_map(|y| (1..=12).map(move |m| (y, m, 29.min(days_in_month(y, m)))))
            .collect();
        assert_eq!(days_of(&got), want);
        assert!(days_of(&got).contains(&(2027, 2, 28)));
        assert!(days_of(&got).contains(&(2028, 2, 29)));

        let got = s_occ("0 9 29 2 *", z, from, to);
        assert_eq!(days_of(&got), vec![(2027, 2, 28), (2028, 2, 29)]);
        let got = s_occ("0 9 30 2 *", z, from, to);
        assert_eq!(days_of(&got), vec![(2027, 2, 28), (2028, 2, 29)]);
        // A list is not a single day, so no substitution happens.
        let got = s_occ("0 9 1,31 * *", z, from, utc(2027, 7, 1, 0, 0));
        assert_eq!(
            days_of(&got),
            vec![
                (2027, 1, 1),
                (2027, 1, 31),
                (2027, 2, 1),
                (2027, 3, 1),
                (2027, 3, 31),
                (2027, 4, 1),
                (2027, 5, 1),
                (2027, 5, 31),
                (2027, 6, 1),
            ]
        );
    }

    #[test]
    fn first_monday_of_quarter() {
        let got = year_2027(&sched("0 9 1-7 1,4,7,10 Mon"), zone("Europe/London"));
        assert_eq!(
            days_of(&got),
            vec![(2027, 1, 4), (2027, 4, 5), (2027, 7, 5), (2027, 10, 4)]
        );
        assert_eq!(got[1].at, utc(2027, 4, 5, 8, 0));
        let words = sched("first monday of each quarter at 09:00");
        assert_eq!(year_2027(&words, zone("Europe/London")), got);
    }

    #[test]
    fn weekday_numbering() {
        let z = Zone::UTC;
        let (from, to) = (utc(2027, 1, 1, 0, 0), utc(2027, 1, 15, 0, 0));
        let weekdays = |t: &str| {
            s_occ(t, z, from, to)
                .iter()
                .map(|o| o.local.weekday())
                .collect::<Vec<_>>()
        };
        assert_eq!(weekdays("0 9 * * 0"), vec![Weekday::Sun, Weekday::Sun]);
        assert_eq!(weekdays("0 9 * * 7"), weekdays("0 9 * * 0"));
        assert_eq!(weekdays("0 9 * * sun"), weekdays("0 9 * * 0"));
        assert_eq!(weekdays("0 9 * * 1"), vec![Weekday::Mon, Weekday::Mon]);
        let mf = weekdays("0 9 * * 1-5");
        assert_eq!(mf.len(), 10);
        assert!(mf.iter().all(|d| !matches!(d, Weekday::Sat | Weekday::Sun)));
        assert_eq!(weekdays("0 9 * * 1-5"), weekdays("0 9 * * Mon-Fri"));
        assert_eq!(
            weekdays("0 9 * * 5-7"),
            vec![
                Weekday::Fri,
                Weekday::Sat,
                Weekday::Sun,
                Weekday::Fri,
                Weekday::Sat,
                Weekday::Sun
            ]
        );
        assert_eq!(weekdays("0 9 * * 0-7").len(), 14);
    }

    #[test]
    fn next_after_and_window_edges() {
        let s = sched("0 9 1 * *");
        let ny = zone("America/New_York");
        let first = s.next_after(ny, utc(2027, 1, 1, 14, 0)).unwrap();
        assert_eq!(first.at, utc(2027, 2, 1, 14, 0));
        // after is exclusive, until inclusive.
        let got = s.occurrences(ny, utc(2027, 1, 1, 14, 0), utc(2027, 2, 1, 14, 0));
        assert_eq!(got, vec![first]);
        assert!(
            s.occurrences(ny, utc(2027, 2, 1, 14, 0), utc(2027, 2, 1, 14, 0))
                .is_empty()
        );
        assert!(s.next_after(ny, utc(2101, 1, 1, 0, 0)).is_none());
        assert_eq!(
            s.next_after(Zone::UTC, utc(1900, 1, 1, 0, 0)).unwrap().at,
            utc(1970, 1, 1, 9, 0)
        );
    }

    #[test]
    fn occurrences_are_capped() {
        let got = s_occ(
            "* * * * *",
            Zone::UTC,
            utc(2027, 1, 1, 0, 0),
            utc(2037, 1, 1, 0, 0),
        );
        assert_eq!(got.len(), MAX_OCCURRENCES);
        assert_eq!(got[0].at, utc(2027, 1, 1, 0, 1));
    }

    #[test]
    fn shift_local_keeps_wall_clock() {
        let ny = zone("America/New_York");
        // 09:00 EST + 3 days lands after the change, still 09:00 local.
        assert_eq!(
            shift_local(naive(2027, 3, 12, 9, 0), 3, ny),
            utc(2027, 3, 15, 13, 0)
        );
        assert_eq!(
            shift_local(naive(2027, 3, 11, 2, 30), 3, ny),
            utc(2027, 3, 14, 7, 0)
        );
        assert_eq!(
            shift_local(naive(2027, 11, 4, 1, 30), 3, ny),
            utc(2027, 11, 7, 5, 30)
        );
        assert_eq!(
            shift_local(naive(2027, 3, 15, 9, 0), -3, ny),
            utc(2027, 3, 12, 14, 0)
        );
        let _ = shift_local(naive(2027, 1, 1, 0, 0), i64::MAX, ny);
        let _ = shift_local(naive(2027, 1, 1, 0, 0), i64::MIN, ny);
    }

    #[test]
    fn whole_day_gap_in_samoa() {
        // Samoa skipped 30 Dec 2011 entirely.
        let apia = zone("Pacific/Apia");
        let at = resolve_local(naive(2011, 12, 30, 9, 0), apia);
        assert_eq!(
            at.with_timezone(&apia.tz()).naive_local(),
            naive(2011, 12, 31, 0, 0)
        );
    }

    #[test]
    fn sub_minute_transition_is_exact() {
        // Amsterdam moved off local mean time (+00:19:32) in 1937 to
        // +00:20, skipping 28 seconds.
        let ams = zone("Europe/Amsterdam");
        let local = NaiveDate::from_ymd_opt(1937, 7, 1)
            .unwrap()
            .and_hms_opt(0, 0, 10)
            .unwrap();
        if ams.tz().from_local_datetime(&local).single().is_none() {
            let at = resolve_local(local, ams);
            let back = at.with_timezone(&ams.tz()).naive_local();
            assert!(back > local && back - local <= TimeDelta::seconds(60));
            let before = (at - TimeDelta::seconds(1))
                .with_timezone(&ams.tz())
                .naive_local();
            assert!(before < local);
        }
    }

    // --- properties --------------------------------------------------------

    fn schedule_text() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec!["0", "30", "*/15", "5,35", "59"]),
            prop::sample::select(vec!["*", "9", "0-23/6", "2", "1,2,3", "0", "23"]),
            prop::sample::select(vec![
                "*", "1", "1-7", "15", "29", "30", "31", "28-31", "*/10",
            ]),
            prop::sample::select(vec!["*", "1,4,7,10", "2", "3,11", "Jan-Mar", "*/2"]),
            prop::sample::select(vec!["*", "Mon", "0", "7", "1-5", "Sat,Sun", "3"]),
        )
            .prop_map(|(a, b, c, d, e)| format!("{a} {b} {c} {d} {e}"))
    }

    fn any_zone() -> impl Strategy<Value = Zone> {
        (0..TZ_VARIANTS.len()).prop_map(|i| Zone::from(TZ_VARIANTS[i]))
    }

    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        let lo = utc(1970, 1, 1, 0, 0).timestamp();
        let hi = utc(2100, 12, 31, 0, 0).timestamp();
        (lo..hi).prop_map(|t| DateTime::from_timestamp(t, 0).unwrap())
    }

    /// A plain reading of the semantics, minute by minute.
    fn matches(f: &Fields, t: NaiveDateTime) -> bool {
        let bit = |bits: u64, v: u32| bits & (1u64 << v) != 0;
        let day_ok = match f.last_day {
            Some(d) => t.day() == d.min(days_in_month(t.year(), t.month())),
            None => bit(f.days, t.day()),
        };
        bit(f.minutes, t.minute())
            && bit(f.hours, t.hour())
            && day_ok
            && bit(f.months, t.month())
            && bit(f.weekdays, t.weekday().num_days_from_sunday())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = CronSchedule::parse(&s);
        }

        #[test]
        fn parse_never_panics_cronish(s in "[0-9*/,\\- a-zA-Z:]{0,60}") {
            if let Ok(c) = CronSchedule::parse(&s) {
                // Normalized text parses to the same schedule.
                let again = CronSchedule::parse(c.to_cron_text()).unwrap();
                prop_assert_eq!(again.fields, c.fields);
                let _ = c.describe();
            }
        }

        #[test]
        fn parse_never_panics_long(s in "\\PC{150,400}") {
            let _ = CronSchedule::parse(&s);
        }

        #[test]
        fn engine_agrees_with_plain_reading(
            text in schedule_text(),
            start in instant(),
            days in 1i64..20,
        ) {
            let s = CronSchedule::parse(&text).unwrap();
            let until = start + TimeDelta::days(days);
            let got: Vec<_> = s.occurrences(Zone::UTC, start, until)
                .into_iter().map(|o| o.local).collect();
            let mut want = Vec::new();
            let mut t = start.naive_utc().with_second(0).unwrap() + TimeDelta::minutes(1);
            while t <= until.naive_utc() {
                if t.year() <= 2100 && matches(&s.fields, t) {
                    want.push(t);
                }
                t += TimeDelta::minutes(1);
            }
            prop_assert_eq!(got, want);
        }

        #[test]
        fn occurrences_are_well_formed(
            text in schedule_text(),
            z in any_zone(),
            start in instant(),
            days in 1i64..40,
        ) {
            let s = CronSchedule::parse(&text).unwrap();
            let until = start + TimeDelta::days(days);
            let got = s.occurrences(z, start, until);
            let tz = z.tz();
            for pair in got.windows(2) {
                prop_assert!(pair[0].at < pair[1].at);
                prop_assert!(pair[0].local < pair[1].local);
            }
            for occ in &got {
                prop_assert!(start < occ.at && occ.at <= until);
                prop_assert!(matches(&s.fields, occ.local));
                let back = occ.at.with_timezone(&tz).naive_local();
                match tz.from_local_datetime(&occ.local) {
                    LocalResult::None => {
                        // In a gap: the first instant after it.
                        prop_assert!(back > occ.local);
                        let just_before = (occ.at - TimeDelta::seconds(1))
                            .with_timezone(&tz).naive_local();
                        prop_assert!(just_before < occ.local);
                    }
                    LocalResult::Single(_) => prop_assert_eq!(back, occ.local),
                    LocalResult::Ambiguous(a, b) => {
                        prop_assert_eq!(back, occ.local);
                        prop_assert_eq!(occ.at, a.min(b).to_utc());
                    }
                }
            }
            if let Some(first) = got.first() {
                prop_assert_eq!(s.next_after(z, start), Some(*first));
            }
        }

        #[test]
        fn random_zones_and_dates_never_panic(
            text in schedule_text(),
            z in any_zone(),
            start in instant(),
            shift in -4000i64..4000,
        ) {
            let s = CronSchedule::parse(&text).unwrap();
            let _ = s.next_after(z, start);
            let _ = s.occurrences(z, start, start + TimeDelta::days(3));
            let local = start.naive_utc();
            let _ = shift_local(local, shift, z);
            let _ = resolve_local(local, z);
        }
    }
}
