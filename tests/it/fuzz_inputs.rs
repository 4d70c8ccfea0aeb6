//! Property-based fuzzing of every pure input parser a command can reach: no input makes one panic, and every
//! refusal is a user-facing error with text to show. Inputs mix arbitrary unicode (control characters, NUL, emoji,
//! right-to-left text), very long strings, whitespace only, and mutations of valid values.
//!
//! Failure persistence is off so a failing run writes no regression file next to the sources; proptest prints the
//! minimal failing input instead.

use std::collections::HashSet;
use std::time::Duration as StdDuration;

use career_circle_core::app::{self, UserError};
use career_circle_core::domain::action::Action;
use career_circle_core::domain::checkin::{ANSWER_MAX, Answers, QUESTIONS};
use career_circle_core::domain::commitment::{TITLE_MAX, Title};
use career_circle_core::domain::opportunity::{must_haves, parse_failed, score};
use career_circle_core::domain::period::{Cadence, Period, local_date};
use career_circle_core::domain::recurrence::{CronSchedule, MAX_OCCURRENCES};
use career_circle_core::domain::spec::{FIELD_MAX, Phase, SpecText, Visibility};
use career_circle_core::domain::zone::{self, Zone};
use career_circle_core::settings::parse_duration;
use chrono::{DateTime, Days, LocalResult, NaiveDate, TimeDelta, TimeZone, Utc};
use chrono_tz::TZ_VARIANTS;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestCaseError;

// ---------------------------------------------------------------------------
// Configuration and checks

/// `with_cases(n)` without writing regression files into the source tree.
fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(n)
    }
}

/// A refusal a member can read: some visible text.
fn user_facing(what: &str, input: &str, text: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        !text.trim().is_empty(),
        "{what} refused {input:?} with no text"
    );
    Ok(())
}

/// 1970-01-01T00:00:00Z and 2100-12-31T23:59:59Z as Unix seconds.
const FIRST_SECOND: i64 = 0;
const LAST_SECOND: i64 = 4_133_980_799;

fn instant(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).expect("in chrono's range")
}

fn zone_at(index: usize) -> Zone {
    Zone::from(TZ_VARIANTS[index % TZ_VARIANTS.len()])
}

fn any_zone() -> impl Strategy<Value = usize> {
    0..TZ_VARIANTS.len()
}

// ---------------------------------------------------------------------------
// Input strategies

/// Characters chosen to break parsers: controls, NUL, unusual whitespace, bidi overrides, zero-width joiners,
/// emoji and their modifiers, combining marks, case-mapping oddities (dotted I, Kelvin sign, sharp s), non-ASCII
/// digits, Discord markup, and the separators the parsers split on.
const NASTY: &[char] = &[
    '\0',
    '\u{1}',
    '\u{7}',
    '\u{8}',
    '\u{1b}',
    '\u{7f}',
    '\t',
    '\n',
    '\r',
    '\u{b}',
    '\u{c}',
    '\u{85}',
    '\u{a0}',
    '\u{1680}',
    '\u{2028}',
    '\u{2029}',
    '\u{3000}',
    '\u{200b}',
    '\u{200d}',
    '\u{feff}',
    '\u{202e}',
    '\u{202d}',
    '\u{200f}',
    '\u{61c}',
    'ا',
    'ل',
    'ש',
    '١',
    '🎉',
    '👩',
    '\u{1f3fd}',
    '🇺',
    '\u{301}',
    '\u{307}',
    'İ',
    'ı',
    '\u{212a}',
    'ß',
    'ẞ',
    'ﬀ',
    'Σ',
    '２',
    '٣',
    '@',
    '<',
    '`',
    '*',
    '_',
    '~',
    '|',
    '\\',
    ':',
    '/',
    '-',
    '+',
    ',',
    ';',
    '.',
    '•',
    '#',
    '?',
    '\u{fffd}',
    '\u{10ffff}',
    '\u{e000}',
    'W',
    'Q',
    'q',
    '0',
    '1',
    '9',
];

/// Every character Rust's `trim` removes (Unicode White_Space).
const WHITESPACE: &[char] = &[
    ' ', '\t', '\n', '\u{b}', '\u{c}', '\r', '\u{85}', '\u{a0}', '\u{1680}', '\u{2000}',
    '\u{2001}', '\u{2002}', '\u{2003}', '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}',
    '\u{2009}', '\u{200a}', '\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}', '\u{3000}',
];

/// Lengths next to the parsers' limits (period 40, zone 64, custom id 100, cron and title 200, field 4000,
/// free-text answer 20000).
const BOUNDARIES: &[usize] = &[40, 64, 100, 200, 4000, 20_000];

fn nasty_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => any::<char>(),
        3 => select(NASTY),
        2 => prop::char::range(' ', '~'),
    ]
}

fn unicode() -> BoxedStrategy<String> {
    vec(nasty_char(), 0..48).prop_map(String::from_iter).boxed()
}

fn whitespace() -> BoxedStrategy<String> {
    vec(select(WHITESPACE), 0..24)
        .prop_map(String::from_iter)
        .boxed()
}

fn long_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        0usize..=20_500,
        (select(BOUNDARIES), 0usize..=4).prop_map(|(b, d)| b + d - 2),
    ]
}

/// Up to ~20k characters: a short random pattern repeated to a random length, often right at a limit.
fn long() -> BoxedStrategy<String> {
    (vec(nasty_char(), 1..6), long_len())
        .prop_map(|(seed, n)| seed.iter().cycle().take(n).collect())
        .boxed()
}

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, char),
    Delete(usize),
    Replace(usize, char),
    Swap(usize),
    Upper,
    Lower,
    Truncate(usize),
    Repeat(usize),
    Pad(String, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<usize>(), nasty_char()).prop_map(|(i, c)| Edit::Insert(i, c)),
        2 => any::<usize>().prop_map(Edit::Delete),
        3 => (any::<usize>(), nasty_char()).prop_map(|(i, c)| Edit::Replace(i, c)),
        1 => any::<usize>().prop_map(Edit::Swap),
        1 => Just(Edit::Upper),
        1 => Just(Edit::Lower),
        1 => any::<usize>().prop_map(Edit::Truncate),
        1 => (1usize..4).prop_map(Edit::Repeat),
        1 => (whitespace(), whitespace()).prop_map(|(a, b)| Edit::Pad(a, b)),
    ]
}

fn apply(valid: &str, edits: &[Edit]) -> String {
    let mut cs: Vec<char> = valid.chars().collect();
    for e in edits {
        let at = |i: usize, len: usize| i % (len + 1);
        match e {
            Edit::Insert(i, c) => cs.insert(at(*i, cs.len()), *c),
            Edit::Delete(i) if !cs.is_empty() => {
                cs.remove(i % cs.len());
            }
            Edit::Replace(i, c) if !cs.is_empty() => {
                let n = cs.len();
                cs[i % n] = *c;
            }
            Edit::Swap(i) if cs.len() >= 2 => {
                let j = i % (cs.len() - 1);
                cs.swap(j, j + 1);
            }
            Edit::Upper => {
                cs = cs
                    .iter()
                    .collect::<String>()
                    .to_uppercase()
                    .chars()
                    .collect()
            }
            Edit::Lower => {
                cs = cs
                    .iter()
                    .collect::<String>()
                    .to_lowercase()
                    .chars()
                    .collect()
            }
            Edit::Truncate(i) => cs.truncate(at(*i, cs.len())),
            Edit::Repeat(n) => cs = cs.repeat(n + 1),
            Edit::Pad(a, b) => {
                cs = a
                    .chars()
                    .chain(cs.iter().copied())
                    .chain(b.chars())
                    .collect();
            }
            _ => {}
        }
    }
    cs.into_iter().collect()
}

/// A valid value, untouched or with a few random edits.
fn near(valid: Vec<String>) -> BoxedStrategy<String> {
    (select(valid), vec(edit(), 0..4))
        .prop_map(|(v, edits)| apply(&v, &edits))
        .boxed()
}

fn strings(valid: &[&str]) -> Vec<String> {
    valid.iter().map(|s| (*s).to_owned()).collect()
}

/// The general mix for a parser whose valid inputs are `valid`.
fn inputs(valid: Vec<String>) -> BoxedStrategy<String> {
    prop_oneof![
        2 => any::<String>(),
        3 => unicode(),
        1 => long(),
        1 => whitespace(),
        5 => near(valid),
    ]
    .boxed()
}

// --- cron -------------------------------------------------------------------

const CRON_NAMES: &[&str] = &[
    "jan", "Feb", "MAR", "april", "May", "jun", "July", "aug", "sep", "sept", "Oct", "nov",
    "december", "januaryy", "sun", "Mon", "TUE", "wed", "thursday", "thu", "thurs", "fri", "sat",
    "saturday", "mo", "monday",
];

const CRON_JUNK: &[&str] = &[
    "", "x", "-1", "L", "W", "5W", "#", "1#2", "?", "１", "٣", "1.5", "0x1", "+1", "٣٠", "🎉",
    "\u{0}", "*1", "**",
];

fn cron_value() -> BoxedStrategy<String> {
    prop_oneof![
        4 => (0u32..=70).prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => (0u32..=3, 0u32..=99).prop_map(|(z, n)| format!("{}{n}", "0".repeat(z as usize))),
        3 => (select(CRON_NAMES), any::<bool>())
            .prop_map(|(n, up)| if up { n.to_uppercase() } else { n.to_owned() }),
        1 => select(CRON_JUNK).prop_map(str::to_owned),
    ]
    .boxed()
}

fn cron_step() -> BoxedStrategy<String> {
    prop_oneof![
        4 => (0u32..=70).prop_map(|n| n.to_string()),
        1 => select(CRON_JUNK).prop_map(str::to_owned),
        1 => Just("99999".to_owned()),
    ]
    .boxed()
}

fn cron_item() -> BoxedStrategy<String> {
    let base = prop_oneof![
        2 => Just("*".to_owned()),
        4 => cron_value(),
        2 => (cron_value(), cron_value()).prop_map(|(a, b)| format!("{a}-{b}")),
        1 => (cron_value(), cron_value(), cron_value()).prop_map(|(a, b, c)| format!("{a}-{b}-{c}")),
    ];
    (base, prop::option::weighted(0.3, cron_step()))
        .prop_map(|(b, s)| match s {
            Some(s) => format!("{b}/{s}"),
            None => b,
        })
        .boxed()
}

/// Random cron text from random tokens: usually five fields, sometimes more or fewer.
fn random_cron() -> BoxedStrategy<String> {
    let field = vec(cron_item(), 1..=3).prop_map(|items| items.join(","));
    let count = prop_oneof![6 => Just(5usize), 1 => 0usize..=8];
    let sep = select(&[" ", "  ", "\t", " \u{a0}", "\n", "\u{3000}"][..]);
    (count.prop_flat_map(move |n| vec(field.clone(), n)), sep)
        .prop_map(|(fields, sep)| fields.join(sep))
        .boxed()
}

/// One in-range item of a field spanning `min..=max`.
fn valid_item(min: u32, max: u32, names: &'static [&'static str]) -> BoxedStrategy<String> {
    let n = min..=max;
    let span = max - min + 1;
    let mut options: Vec<(u32, BoxedStrategy<String>)> = vec![
        (2, Just("*".to_owned()).boxed()),
        (4, n.clone().prop_map(|v| v.to_string()).boxed()),
        (
            2,
            (n.clone(), n.clone())
                .prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b)))
                .boxed(),
        ),
        (2, (1..=span).prop_map(|s| format!("*/{s}")).boxed()),
        (
            1,
            (n.clone(), 1..=span)
                .prop_map(|(a, s)| format!("{a}/{s}"))
                .boxed(),
        ),
        (
            1,
            (n.clone(), n, 1..=span)
                .prop_map(|(a, b, s)| format!("{}-{}/{s}", a.min(b), a.max(b)))
                .boxed(),
        ),
    ];
    if !names.is_empty() {
        options.push((2, select(names).prop_map(str::to_owned).boxed()));
    }
    prop::strategy::Union::new_weighted(options).boxed()
}

const MONTH_NAMES: &[&str] = &[
    "jan", "Feb", "mar", "APR", "may", "june", "jul", "Aug", "sep", "oct", "nov", "dec",
];
const WEEKDAY_NAMES: &[&str] = &["sun", "Mon", "tue", "WED", "thu", "friday", "sat"];

fn valid_field(min: u32, max: u32, names: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        4 => valid_item(min, max, names),
        1 => vec(valid_item(min, max, names), 2..=3).prop_map(|v| v.join(",")),
    ]
    .boxed()
}

/// Five in-range fields: most of these parse, so occurrences get exercised.
fn valid_cron() -> BoxedStrategy<String> {
    (
        valid_field(0, 59, &[]),
        valid_field(0, 23, &[]),
        prop_oneof![3 => Just("*".to_owned()), 2 => valid_field(1, 31, &[])],
        prop_oneof![2 => Just("*".to_owned()), 1 => valid_field(1, 12, MONTH_NAMES)],
        prop_oneof![2 => Just("*".to_owned()), 1 => valid_field(0, 7, WEEKDAY_NAMES)],
    )
        .prop_map(|(a, b, c, d, e)| format!("{a} {b} {c} {d} {e}"))
        .boxed()
}

const PHRASES: &[&str] = &[
    "daily at 09:00",
    "every monday at 9am",
    "every weekday at 08:30",
    "monthly on day 1 at 09:00",
    "monthly on the 1st at 09:00",
    "monthly on the last day at 18:00",
    "first monday of each quarter at 09:00",
    "second tuesday of every month at 12:00",
    "yearly on jan 5 at 09:00",
    "every january on the 5th at 9:00",
    "every day at noon",
    "on weekdays at midnight",
    "0 9 1 * *",
    "30 2 * * *",
    "0 9 1-7 * Mon",
    "0 9 31 * *",
    "*/15 8-18 * * mon-fri",
];

const PHRASE_TOKENS: &[&str] = &[
    "daily", "every", "each", "day", "weekday", "weekdays", "on", "monday", "mondays", "tue",
    "sunday", "monthly", "month", "quarter", "year", "yearly", "annually", "the", "last", "1st",
    "2nd", "3rd", "4th", "5th", "31st", "32nd", "0", "99999", "first", "second", "third", "fourth",
    "fifth", "of", "jan", "january", "feb", "sept", "at", "9am", "12pm", "12am", "13pm", "0am",
    "9:00", "09:30", "23:59", "24:00", "9:60", "noon", "midnight", "5:30pm", "99:00", "9", ":",
    "am", "pm", "9:0", "1:000", "🎉",
];

fn phrase() -> BoxedStrategy<String> {
    prop_oneof![
        1 => vec(select(PHRASE_TOKENS), 1..9).prop_map(|t| t.join(" ")),
        1 => near(strings(PHRASES)),
    ]
    .boxed()
}

fn cron_input() -> BoxedStrategy<String> {
    prop_oneof![
        4 => random_cron(),
        2 => valid_cron(),
        2 => phrase(),
        1 => inputs(strings(PHRASES)),
    ]
    .boxed()
}

// ---------------------------------------------------------------------------
// Schedules

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn cron_parse_never_panics_and_explains_refusals(text in cron_input()) {
        match CronSchedule::parse(&text) {
            Ok(s) => {
                // The normalized text is itself accepted, and normalizes to itself.
                let again = CronSchedule::parse(s.to_cron_text());
                prop_assert!(again.is_ok(), "{text:?} -> {:?} refused: {again:?}", s.to_cron_text());
                let again = again.expect("checked");
                prop_assert_eq!(again.to_cron_text(), s.to_cron_text());
                prop_assert!(!s.describe().trim().is_empty());
            }
            Err(e) => user_facing("CronSchedule::parse", &text, &e.to_string())?,
        }
    }
}

/// Windows of up to 60 days between 1970 and 2100, often at the very ends of that range.
fn window() -> impl Strategy<Value = (i64, i64)> {
    let max_len = 60 * 86_400;
    let start = prop_oneof![
        4 => FIRST_SECOND..=LAST_SECOND - max_len,
        1 => FIRST_SECOND..=FIRST_SECOND + 3 * 86_400,
        1 => LAST_SECOND - max_len - 3 * 86_400..=LAST_SECOND - max_len,
    ];
    let len = prop_oneof![
        3 => 0i64..=max_len,
        1 => 0i64..=2 * 86_400,
    ];
    (start, len)
}

fn schedule_input() -> BoxedStrategy<String> {
    prop_oneof![6 => valid_cron(), 1 => phrase(), 1 => random_cron()].boxed()
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn occurrences_are_increasing_and_inside_the_window(
        text in schedule_input(),
        zone in any_zone(),
        (start, len) in window(),
    ) {
        let Ok(schedule) = CronSchedule::parse(&text) else {
            return Ok(());
        };
        let zone = zone_at(zone);
        let after = instant(start);
        let until = instant((start + len).min(LAST_SECOND));
        let occs = schedule.occurrences(zone, after, until);
        prop_assert!(occs.len() <= MAX_OCCURRENCES);
        for occ in &occs {
            prop_assert!(after < occ.at && occ.at <= until, "{text:?} in {zone}: {occ:?} outside ({after}, {until}]");
            // The instant is the wall-clock time itself, the earlier of a repeated one, or the end of a gap.
            match zone.tz().from_local_datetime(&occ.local) {
                LocalResult::Single(t) => prop_assert_eq!(t.to_utc(), occ.at, "{:?} in {}", text, zone),
                LocalResult::Ambiguous(a, b) => {
                    prop_assert_eq!(a.min(b).to_utc(), occ.at, "{:?} in {}", text, zone)
                }
                LocalResult::None => prop_assert!(
                    occ.at.with_timezone(&zone.tz()).naive_local() > occ.local,
                    "{text:?} in {zone}: skipped {occ:?} fired before the gap"
                ),
            }
        }
        for pair in occs.windows(2) {
            prop_assert!(pair[0].at < pair[1].at, "{text:?} in {zone}: {pair:?} not increasing");
            prop_assert!(pair[0].local < pair[1].local, "{text:?} in {zone}: {pair:?} local not increasing");
        }
        if let Some(first) = occs.first() {
            prop_assert_eq!(schedule.next_after(zone, after), Some(*first));
        }
    }

    #[test]
    fn occurrences_of_a_split_window_join_up(
        text in schedule_input(),
        zone in any_zone(),
        (start, len) in window(),
        cut in 0.0f64..=1.0,
    ) {
        let Ok(schedule) = CronSchedule::parse(&text) else {
            return Ok(());
        };
        let zone = zone_at(zone);
        let end = (start + len).min(LAST_SECOND);
        let middle = start + ((end - start) as f64 * cut) as i64;
        let (a, b, c) = (instant(start), instant(middle), instant(end));
        let whole = schedule.occurrences(zone, a, c);
        prop_assume!(whole.len() < MAX_OCCURRENCES);
        let mut joined = schedule.occurrences(zone, a, b);
        joined.extend(schedule.occurrences(zone, b, c));
        prop_assert_eq!(joined, whole, "{:?} in {} split at {}", text, zone, b);
    }
}

// ---------------------------------------------------------------------------
// Zones

fn zone_names() -> Vec<String> {
    TZ_VARIANTS.iter().map(|tz| tz.name().to_owned()).collect()
}

fn zone_input() -> BoxedStrategy<String> {
    prop_oneof![
        3 => inputs(zone_names()),
        1 => near(strings(&["Londn", "Sidney", "kolk", "new york", "europe/lo", "utc", "Etc/GMT+5", "eu"])),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn zone_parse_never_panics(text in zone_input()) {
        match Zone::parse(&text) {
            Ok(z) => {
                prop_assert_eq!(Zone::parse(z.name()), Ok(z));
                prop_assert!(z.name().eq_ignore_ascii_case(&text.split_whitespace().collect::<Vec<_>>().join("_")));
            }
            Err(e) => user_facing("Zone::parse", &text, &e.to_string())?,
        }
    }

    #[test]
    fn every_zone_name_parses_in_any_case_with_spaces(
        index in any_zone(),
        upper in vec(any::<bool>(), 40),
        (pre, post) in (whitespace(), whitespace()),
    ) {
        let name = TZ_VARIANTS[index].name();
        let mixed: String = name
            .chars()
            .zip(upper.iter().cycle())
            .map(|(c, up)| match (c, up) {
                ('_', true) => ' ',
                (c, true) => c.to_ascii_uppercase(),
                (c, false) => c.to_ascii_lowercase(),
            })
            .collect();
        let typed = format!("{pre}{mixed}{post}");
        let got = Zone::parse(&typed);
        prop_assert!(got.is_ok(), "{typed:?}: {got:?}");
        prop_assert!(got.expect("checked").name().eq_ignore_ascii_case(name));
    }

    #[test]
    fn zone_suggest_never_panics_and_names_real_zones(
        text in zone_input(),
        limit in prop_oneof![0usize..=12, Just(usize::MAX)],
    ) {
        let got = zone::suggest(&text, limit);
        prop_assert!(got.len() <= limit);
        let unique: HashSet<_> = got.iter().collect();
        prop_assert_eq!(unique.len(), got.len(), "duplicates for {:?}: {:?}", text, got);
        for name in got {
            prop_assert!(Zone::parse(name).is_ok_and(|z| z.name() == name), "{name}");
        }
    }
}

// ---------------------------------------------------------------------------
// Periods and dates

const PERIOD_SAMPLES: &[&str] = &[
    "2027-W03",
    "2026-W53",
    "2027-01",
    "2027-12",
    "2027-Q1",
    "2027-Q4",
    "2027",
    "0001",
    "9999-12",
    "Q1 2027",
    "q1-2027",
    "2027q1",
    "Jan 2027",
    "january 2027",
    "1/2027",
    "Sept 2027",
    "week 3 of 2027",
    "w3 2027",
    "2027 week 3",
    "quarter 1 of 2027",
];

/// Key-shaped text with any numbers: years of 1-5 digits, weeks up to 60, months and quarters out of range.
fn period_shaped() -> BoxedStrategy<String> {
    (0u32..=10_999, 0u32..=60, 0u8..5)
        .prop_map(|(y, n, kind)| match kind {
            0 => format!("{y:04}-W{n:02}"),
            1 => format!("{y:04}-{n:02}"),
            2 => format!("{y:04}-Q{}", n % 10),
            3 => format!("{y:04}"),
            _ => format!("{n} {y}"),
        })
        .boxed()
}

fn period_input() -> BoxedStrategy<String> {
    prop_oneof![
        3 => inputs(strings(PERIOD_SAMPLES)),
        1 => period_shaped(),
        1 => (period_shaped(), vec(edit(), 0..3)).prop_map(|(s, e)| apply(&s, &e)),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn period_parsers_never_panic(text in period_input()) {
        match Period::parse_key(&text) {
            Ok(p) => {
                prop_assert_eq!(p.key(), text.clone(), "parse_key is not the inverse of key");
                prop_assert_eq!(Period::parse_user(&text), Ok(p), "a canonical key read leniently");
            }
            Err(e) => user_facing("Period::parse_key", &text, &e.to_string())?,
        }
        match Period::parse_user(&text) {
            Ok(p) => {
                prop_assert_eq!(Period::parse_key(&p.key()), Ok(p));
                prop_assert!(p.start_date() <= p.end_date());
                prop_assert!(!p.label().is_empty());
            }
            Err(e) => user_facing("Period::parse_user", &text, &e.to_string())?,
        }
    }

    #[test]
    fn cadence_parse_never_panics(text in inputs(strings(&["weekly", "monthly", "quarterly", " Weekly ", "MONTHLY"]))) {
        match Cadence::parse(&text) {
            Ok(c) => {
                prop_assert!(c.as_str().eq_ignore_ascii_case(text.trim()));
                prop_assert_eq!(Cadence::parse(c.as_str()), Ok(c));
            }
            Err(e) => user_facing("Cadence::parse", &text, &e.to_string())?,
        }
    }

    #[test]
    fn local_dates_and_periods_round_trip(secs in FIRST_SECOND..=LAST_SECOND, zone in any_zone()) {
        let zone = zone_at(zone);
        let at = instant(secs);
        let date = local_date(at, zone);
        prop_assert!((date - at.date_naive()).num_days().abs() <= 1, "{at} in {zone} is {date}");
        prop_assert_eq!(date, at.with_timezone(&zone.tz()).date_naive());
        let periods = [
            Period::containing_week(date),
            Period::containing_month(date),
            Period::containing_quarter(date),
            Period::containing_year(date),
        ];
        prop_assert_eq!(Period::of(Cadence::Weekly, date), periods[0]);
        prop_assert_eq!(Period::of(Cadence::Monthly, date), periods[1]);
        prop_assert_eq!(Period::of(Cadence::Quarterly, date), periods[2]);
        prop_assert_eq!(periods[1].key(), date.format("%Y-%m").to_string());
        for p in periods {
            prop_assert!(p.contains(date), "{p:?} lacks {date}");
            prop_assert!(p.start_date() <= p.end_date());
            prop_assert_eq!(Period::parse_key(&p.key()), Ok(p));
            prop_assert_eq!(Period::parse_user(&p.key()), Ok(p));
            let (next, prev) = (p.next(), p.prev());
            prop_assert!(prev < p && p < next, "{prev:?} {p:?} {next:?}");
            prop_assert_eq!(next.prev(), p);
            prop_assert_eq!(prev.next(), p);
            prop_assert_eq!(Some(next.start_date()), p.end_date().succ_opt());
            prop_assert_eq!(prev.end_date().succ_opt(), Some(p.start_date()));
            prop_assert_eq!(Period::parse_key(&next.key()), Ok(next));
            prop_assert_eq!(Period::parse_key(&prev.key()), Ok(prev));
        }
    }
}

// ---------------------------------------------------------------------------
// Commitments, specs, check-ins, buttons

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn title_parse_never_panics(text in inputs(strings(&["publish one post", " publish one post ", "x", "🎉 ship it"]))) {
        match Title::parse(&text) {
            Ok(t) => {
                prop_assert_eq!(t.as_str(), text.trim());
                let chars = t.as_str().chars().count();
                prop_assert!((1..=TITLE_MAX).contains(&chars), "{chars} characters");
            }
            Err(e) => user_facing("Title::parse", &text, &e)?,
        }
    }

    #[test]
    fn phase_and_visibility_parse_never_panic(
        text in inputs(strings(&["learning", "impact", "private", "circle", " IMPACT ", "Circle"])),
    ) {
        match Phase::parse(&text) {
            Ok(p) => prop_assert_eq!(p.as_str(), text.trim().to_ascii_lowercase()),
            Err(e) => user_facing("Phase::parse", &text, &e)?,
        }
        match Visibility::parse(&text) {
            Ok(v) => prop_assert_eq!(v.as_str(), text.trim().to_ascii_lowercase()),
            Err(e) => user_facing("Visibility::parse", &text, &e)?,
        }
    }
}

const SPEC_KEYS: &[&str] = &["vision", "milestones", "skills", "metrics", "tradeoffs"];

const SPEC_VALUES: &[&str] = &[
    "VP Product at a climate company",
    "Now-1y: lead a team\n1-3y: Director\n3-5y: VP",
    "now-1Y:a\n\n  3-5y:   c\r\n1-3y:b",
    "Now-1y:\n1-3y:\n3-5y:",
    "İNow-1y: x\n\u{212a}1-3y: y",
    "- No relocation\n- Fridays for family; mission matters",
];

fn spec_key() -> BoxedStrategy<String> {
    prop_oneof![
        8 => select(SPEC_KEYS).prop_map(str::to_owned),
        1 => inputs(strings(SPEC_KEYS)),
    ]
    .boxed()
}

fn spec_value() -> BoxedStrategy<String> {
    prop_oneof![
        3 => inputs(strings(SPEC_VALUES)),
        1 => (select(&["", "Now-1y: ", "1-3y: ", "3-5y: "][..]), long())
            .prop_map(|(prefix, body)| format!("{prefix}{body}")),
        1 => (vec(nasty_char(), 1..4), FIELD_MAX - 40..=FIELD_MAX + 2)
            .prop_map(|(seed, n)| seed.iter().cycle().take(n).collect()),
    ]
    .boxed()
}

/// A milestone line `split_milestones` would read as the start of a horizon.
fn looks_like_label(line: &str) -> bool {
    let lower = line.trim().to_lowercase();
    ["now-1y:", "1-3y:", "3-5y:"]
        .iter()
        .any(|h| lower.starts_with(h))
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn spec_from_fields_never_panics(fields in vec((spec_key(), spec_value()), 0..7)) {
        match SpecText::from_fields(&fields) {
            Ok(spec) => {
                prop_assert!(!spec.is_empty());
                for part in [&spec.vision, &spec.milestones_1y, &spec.milestones_3y, &spec.milestones_5y,
                             &spec.skills, &spec.metrics, &spec.tradeoffs] {
                    prop_assert!(part.chars().count() <= FIELD_MAX);
                    prop_assert_eq!(part.trim(), part.as_str());
                }
            }
            Err(e) => user_facing("SpecText::from_fields", &format!("{fields:?}"), &e)?,
        }
    }

    #[test]
    fn spec_parts_fit_the_form_and_resave_unchanged(fields in vec((spec_key(), spec_value()), 1..7)) {
        // `/spec edit` pre-fills the form with `parts()` (cut to FIELD_MAX); submitting it untouched must keep
        // the spec as it is.
        let Ok(spec) = SpecText::from_fields(&fields) else {
            return Ok(());
        };
        let parts: Vec<(String, String)> = spec.parts().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        for (key, value) in &parts {
            let chars = value.chars().count();
            // Milestones past the limit: see `found_spec_milestones_outgrow_the_edit_form`.
            prop_assume!(key != "milestones" || chars <= FIELD_MAX);
            // Content lines that read as a horizon label: see `found_spec_milestone_lines_that_look_like_labels_move`.
            prop_assume!(
                key != "milestones" || [&spec.milestones_1y, &spec.milestones_3y, &spec.milestones_5y]
                    .iter()
                    .all(|m| m.lines().skip(1).all(|line| !looks_like_label(line)))
            );
            prop_assert!(chars <= FIELD_MAX, "the {key} part of a saved spec is {chars} characters");
        }
        prop_assert_eq!(SpecText::from_fields(&parts), Ok(spec));
    }

    #[test]
    fn checkin_answers_never_panic(
        text in inputs(strings(&["on track, shipped the talk", " done https://example.com "])),
        fields in vec(
            (
                prop_oneof![
                    8 => select(QUESTIONS.iter().map(|(k, _)| *k).collect::<Vec<_>>()).prop_map(str::to_owned),
                    1 => inputs(strings(&["text", "on_track"])),
                ],
                prop_oneof![3 => inputs(strings(&["shipped", ""])), 1 => long()],
            ),
            0..7,
        ),
    ) {
        match Answers::free_text(&text) {
            Ok(a) => {
                prop_assert_eq!(a.fields.len(), 1);
                prop_assert_eq!(a.fields[0].0.as_str(), "text");
                prop_assert_eq!(a.fields[0].1.as_str(), text.trim());
                prop_assert!(!text.trim().is_empty());
                prop_assert!(text.trim().chars().count() <= ANSWER_MAX * QUESTIONS.len());
            }
            Err(e) => user_facing("Answers::free_text", &text, &e)?,
        }
        match Answers::from_fields(&fields) {
            Ok(a) => {
                prop_assert!(!a.fields.is_empty() && a.fields.len() <= fields.len());
                for (k, v) in &a.fields {
                    prop_assert!(QUESTIONS.iter().any(|(q, _)| q == k), "{k:?}");
                    prop_assert!(!v.is_empty() && v.trim() == v && v.chars().count() <= ANSWER_MAX);
                }
            }
            Err(e) => user_facing("Answers::from_fields", &format!("{fields:?}"), &e)?,
        }
    }
}

/// Every key a button can carry: periods of each kind between 1970 and 2100.
fn period_key() -> BoxedStrategy<String> {
    (FIRST_SECOND..=LAST_SECOND, 0u8..4)
        .prop_map(|(secs, kind)| {
            let d = instant(secs).date_naive();
            match kind {
                0 => Period::containing_week(d),
                1 => Period::containing_month(d),
                2 => Period::containing_quarter(d),
                _ => Period::containing_year(d),
            }
            .key()
        })
        .boxed()
}

fn action(id: BoxedStrategy<i64>, period: BoxedStrategy<String>) -> BoxedStrategy<Action> {
    prop_oneof![
        3 => (id.clone(), period.clone()).prop_map(|(commitment_id, period)| Action::Done { commitment_id, period }),
        3 => (id.clone(), period.clone()).prop_map(|(commitment_id, period)| Action::Skip { commitment_id, period }),
        3 => (id, period).prop_map(|(circle_id, period)| Action::Checkin { circle_id, period }),
        1 => Just(Action::ConfirmDelete),
        1 => Just(Action::CancelDelete),
    ]
    .boxed()
}

fn action_ids() -> BoxedStrategy<i64> {
    prop_oneof![0..=i64::MAX, Just(i64::MAX), 0i64..1000].boxed()
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn action_custom_ids_round_trip_and_fit_discord(a in action(action_ids(), period_key())) {
        let id = a.custom_id();
        prop_assert!(id.chars().count() <= 100, "{id:?} is {} characters", id.chars().count());
        prop_assert_eq!(Action::parse(&id), Some(a));
    }

    #[test]
    fn action_round_trips_any_id_and_period_text(a in action(any::<i64>().boxed(), inputs(strings(&["2027-01"])))) {
        prop_assert_eq!(Action::parse(&a.custom_id()), Some(a));
    }

    #[test]
    fn action_parse_never_panics(text in inputs(strings(&[
        "cc:done:7:2027-01", "cc:skip:7:2027-01", "cc:checkin:3:2027-Q1", "cc:delete:confirm", "cc:delete:cancel",
        "cc:done:9223372036854775807:2027-W53", "cc:done:9223372036854775808:2027-01", "cc:done:-1:", "cc:done:+1:x",
    ]))) {
        if let Some(a) = Action::parse(&text) {
            prop_assert_eq!(Action::parse(&a.custom_id()), Some(a));
        }
    }
}

// ---------------------------------------------------------------------------
// Opportunities

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn score_accepts_exactly_one_to_five(
        name in inputs(strings(&["learning", "impact"])),
        value in prop_oneof![-2i64..=8, any::<i64>(), Just(i64::MIN), Just(i64::MAX), Just(256), Just(257)],
    ) {
        match score(&name, value) {
            Ok(s) => prop_assert!((1..=5).contains(&value) && i64::from(s) == value),
            Err(e) => {
                prop_assert!(!(1..=5).contains(&value));
                user_facing("score", &format!("{name:?} {value}"), &e)?;
            }
        }
    }

    #[test]
    fn parse_failed_never_panics(
        text in inputs(strings(&["2, 3", "none", "NONE", "1 2", "0", "13", "-1", "1,,2", "+1", "3,3,3", "", "18446744073709551616"])),
        count in prop_oneof![0usize..=12, Just(usize::MAX)],
    ) {
        match parse_failed(&text, count) {
            Ok(got) => {
                let unique: HashSet<_> = got.iter().collect();
                prop_assert_eq!(unique.len(), got.len(), "duplicates in {:?}", got);
                prop_assert!(got.iter().all(|n| (1..=count).contains(n)), "{got:?} of {count}");
            }
            Err(e) => user_facing("parse_failed", &text, &e)?,
        }
    }

    #[test]
    fn must_haves_never_panic(text in prop_oneof![3 => inputs(strings(SPEC_VALUES)), 1 => long()]) {
        let got = must_haves(&text);
        prop_assert!(got.len() <= 10);
        for m in got {
            prop_assert!(!m.is_empty() && m.trim() == m, "{m:?}");
            prop_assert!(!m.contains(['\n', ';']), "{m:?}");
        }
    }
}

// ---------------------------------------------------------------------------
// Dates typed in commands, and settings

/// "2027-08-31" style dates a few years either side of `now`, possibly mutated.
fn until_input() -> BoxedStrategy<(i64, String)> {
    (
        FIRST_SECOND..=LAST_SECOND,
        -800i64..=800,
        vec(edit(), 0..3),
        inputs(strings(&[
            "2027-08-31",
            "+99999-01-01",
            "262143-12-31",
            "2027-02-29",
            "2027-8-1",
            "27-08-31",
        ])),
        any::<bool>(),
    )
        .prop_map(|(now, offset, edits, other, near_now)| {
            let text = if near_now {
                let date = instant(now).date_naive() + TimeDelta::days(offset);
                apply(&date.format("%Y-%m-%d").to_string(), &edits)
            } else {
                other
            };
            (now, text)
        })
        .boxed()
}

fn until_checks(text: &str, now: DateTime<Utc>) -> Result<(), TestCaseError> {
    match app::parse_until(text, now) {
        Ok(end) => {
            prop_assert!(end > now, "{text:?} at {now}: {end} is not in the future");
            prop_assert!(
                end <= now + TimeDelta::days(732),
                "{text:?} at {now}: {end} too far"
            );
            prop_assert_eq!(end.time(), chrono::NaiveTime::MIN);
            let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d");
            prop_assert_eq!(date.ok().and_then(|d| d.succ_opt()), Some(end.date_naive()));
        }
        Err(app::Error::User(UserError(msg))) => user_facing(
            "parse_until",
            text,
            &career_circle_discord::render::markdown(&msg),
        )?,
        Err(app::Error::Unexpected(e)) => {
            prop_assert!(false, "parse_until({text:?}, {now}) was unexpected: {e:#}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn parse_until_refuses_only_with_user_errors((now, text) in until_input()) {
        until_checks(&text, instant(now))?;
    }

    #[test]
    fn parse_until_accepts_every_date_from_today_for_two_years(now in FIRST_SECOND..=LAST_SECOND, ahead in -400i64..=730) {
        let now = instant(now);
        let date = now.date_naive() + TimeDelta::days(ahead);
        let text = date.format("%Y-%m-%d").to_string();
        let got = app::parse_until(&text, now);
        if ahead < 0 {
            prop_assert!(matches!(got, Err(app::Error::User(_))), "{text} at {now}: {got:?}");
        } else {
            let want = date.checked_add_days(Days::new(1)).map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc());
            prop_assert_eq!(got.ok(), want, "{} at {}", text, now);
        }
    }
}

const DURATIONS: &[&str] = &[
    "500ms",
    "30s",
    "15m",
    "2h",
    "7d",
    "0s",
    "3650d",
    "3651d",
    "87600h",
    "5256000m",
    "315360000s",
    "30 s",
    "99999999999999999d",
    "18446744073709551615ms",
    "18446744073709551616s",
    "-5s",
    "+5s",
    "5",
    "5w",
];

const TEN_YEARS: StdDuration = StdDuration::from_secs(10 * 365 * 86_400);

/// Units and their length in milliseconds.
fn duration_units() -> Vec<(&'static str, u64)> {
    vec![
        ("ms", 1),
        ("s", 1000),
        ("m", 60_000),
        ("h", 3_600_000),
        ("d", 86_400_000),
    ]
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn parse_duration_never_panics(text in inputs(strings(DURATIONS))) {
        match parse_duration(&text) {
            Ok(d) => {
                let trimmed = text.trim();
                let digits: String = trimmed.chars().take_while(char::is_ascii_digit).collect();
                prop_assert!(!digits.is_empty(), "{text:?} gave {d:?}");
                // "ms" is exempt here: see `found_parse_duration_ms_escapes_the_ten_year_cap`.
                if !trimmed[digits.len()..].trim().eq("ms") {
                    prop_assert!(d <= TEN_YEARS, "{text:?} gave {d:?}");
                }
            }
            Err(e) => user_facing("parse_duration", &text, &e)?,
        }
    }

    #[test]
    fn parse_duration_reads_amount_and_unit(
        amount in prop_oneof![0u64..=1000, any::<u64>(), 315_359_990u64..=315_360_010, 315_359_999_990u64..=315_360_000_010],
        (unit, millis) in select(duration_units()),
        (pre, mid, post) in (whitespace(), prop_oneof![Just(String::new()), Just(" ".to_owned())], whitespace()),
    ) {
        let text = format!("{pre}{amount}{mid}{unit}{post}");
        let exact = amount.checked_mul(millis).map(StdDuration::from_millis);
        let want = exact.filter(|d| *d <= TEN_YEARS);
        let got = parse_duration(&text);
        if unit == "ms" && want.is_none() {
            // "ms" past ten years is accepted: see `found_parse_duration_ms_escapes_the_ten_year_cap`.
            return Ok(());
        }
        match got {
            Ok(d) => prop_assert_eq!(Some(d), want, "{:?}", text),
            Err(e) => {
                prop_assert_eq!(None, want, "{:?} refused: {}", text, e);
                user_facing("parse_duration", &text, &e)?;
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Whitespace only: every free-text parser says what is missing.

proptest! {
    #![proptest_config(cases(128))]

    #[test]
    fn whitespace_only_is_refused_with_a_reason(ws in whitespace(), now in FIRST_SECOND..=LAST_SECOND) {
        let texts = [
            ("CronSchedule::parse", CronSchedule::parse(&ws).err().map(|e| e.to_string())),
            ("Zone::parse", Zone::parse(&ws).err().map(|e| e.to_string())),
            ("Period::parse_key", Period::parse_key(&ws).err().map(|e| e.to_string())),
            ("Period::parse_user", Period::parse_user(&ws).err().map(|e| e.to_string())),
            ("Cadence::parse", Cadence::parse(&ws).err().map(|e| e.to_string())),
            ("Title::parse", Title::parse(&ws).err()),
            ("Phase::parse", Phase::parse(&ws).err()),
            ("Visibility::parse", Visibility::parse(&ws).err()),
            ("Answers::free_text", Answers::free_text(&ws).err()),
            ("SpecText::from_fields", SpecText::from_fields(&[("vision".to_owned(), ws.clone())]).err()),
            ("Answers::from_fields", Answers::from_fields(&[("went_well".to_owned(), ws.clone())]).err()),
            ("parse_duration", parse_duration(&ws).err()),
            ("parse_until", app::parse_until(&ws, instant(now)).err().map(|e| match e {
                app::Error::User(UserError(m)) => career_circle_discord::render::markdown(&m),
                app::Error::Unexpected(_) => String::new(),
            })),
        ];
        for (what, text) in texts {
            prop_assert!(text.is_some(), "{what} accepted {ws:?}");
            user_facing(what, &ws, &text.unwrap_or_default())?;
        }
        prop_assert_eq!(parse_failed(&ws, 3), Ok(Vec::new()), "blank means no must-have failed");
        prop_assert!(must_haves(&ws).is_empty());
        prop_assert!(zone::suggest(&ws, 5).is_empty());
    }
}

// ---------------------------------------------------------------------------
// Failures found by the properties above, kept as plain tests until src/ is fixed.

// Found by the properties above and fixed: a saved spec could be pre-filled into `/spec edit` longer than the form
// allows, because `parts()` renders the milestones with 22 characters of horizon labels. Milestones are now checked
// as rendered: what is accepted fits the form and re-saves unchanged.
#[test]
fn spec_milestones_always_fit_the_edit_form() {
    let fits = SpecText::from_fields(&[("milestones".to_owned(), "x".repeat(FIELD_MAX - 22))])
        .expect("fits");
    let [_, (_, milestones), ..] = fits.parts();
    assert_eq!(milestones.chars().count(), FIELD_MAX);
    assert_eq!(
        SpecText::from_fields(&[("milestones".to_owned(), milestones)]),
        Ok(fits)
    );
    let err = SpecText::from_fields(&[("milestones".to_owned(), "x".repeat(FIELD_MAX - 21))])
        .unwrap_err();
    assert!(err.contains("limit is 4000"), "{err}");
}

// Found and fixed: `settings::parse_duration` refuses s/m/h/d amounts over ten years but returns "ms" amounts unchecked.
// Minimal input: "315360000001ms" (ten years and a millisecond) is accepted. With "99999999999999999ms"
// (about three million years) as `schedule.grace`, settings load fine, `planner::to_chrono` saturates to
// `TimeDelta::MAX`, and the planner's `now - grace` overflows chrono and panics.
#[test]
fn found_parse_duration_ms_escapes_the_ten_year_cap() {
    for text in ["315360000001ms", "99999999999999999ms"] {
        let got = parse_duration(text);
        assert!(got.is_err(), "{text:?} was accepted as {got:?}");
    }
}

// Found and fixed: `SpecText::parts()` followed by `from_fields` is not the identity when a milestone holds a second line that
// starts with a horizon label: `from_fields` keeps the text after a label line ("Now-1y: 1-3y:" stores "1-3y:"),
// `milestones()` writes it back on a line of its own, and the next read takes it for the 1-3y label. `/spec edit`
// pre-fills the form from `parts()`, so submitting it unchanged drops or moves that text. Minimal input:
// milestones "a\nNow-1y: 1-3y:" (stored now-1y "a\n1-3y:"; re-saved now-1y "a").
#[test]
fn found_spec_milestone_lines_that_look_like_labels_move() {
    let spec = SpecText::from_fields(&[("milestones".to_owned(), "a\nNow-1y: 1-3y:".to_owned())])
        .expect("valid");
    let parts: Vec<(String, String)> = spec
        .parts()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    assert_eq!(SpecText::from_fields(&parts), Ok(spec));
}
