//! IANA time zones as members type them.
//!
//! Members pick their zone in chat, so parsing forgives case, stray spaces
//! and spaces typed instead of underscores, and a miss comes back with
//! "did you mean" suggestions instead of a bare refusal.

use std::fmt;
use std::str::FromStr;

use chrono_tz::{TZ_VARIANTS, Tz};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest input worth comparing against zone names; real names are far
/// shorter, and a cap keeps typo scoring cheap on hostile input.
const MAX_INPUT_CHARS: usize = 64;

/// Below this Jaro-Winkler score a name is too unlike the input to help.
const MIN_SIMILARITY: f64 = 0.75;

/// How many suggestions an error message carries.
const ERROR_SUGGESTIONS: usize = 3;

/// A validated IANA time zone.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Zone(Tz);

/// Why a time zone name was refused. The Display text is safe to show in
/// chat: the echoed input is filtered by [`safe_quote`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZoneError {
    #[error("no time zone given; use an IANA name such as Europe/London")]
    Empty,
    #[error("{}", unknown_message(.input, .suggestions))]
    Unknown {
        /// The input as typed, already made safe for display.
        input: String,
        suggestions: Vec<&'static str>,
    },
}

fn unknown_message(input: &str, suggestions: &[&'static str]) -> String {
    if suggestions.is_empty() {
        format!("unknown time zone \"{input}\"; use an IANA name such as Europe/London")
    } else {
        format!(
            "unknown time zone \"{input}\"; did you mean {}?",
            suggestions.join(", ")
        )
    }
}

impl Zone {
    pub const UTC: Zone = Zone(Tz::UTC);

    /// Parses an IANA name, ignoring case, surrounding whitespace, and
    /// spaces typed where the name has underscores ("america/new york").
    pub fn parse(input: &str) -> Result<Zone, ZoneError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(ZoneError::Empty);
        }
        let unknown = || ZoneError::Unknown {
            input: safe_quote(trimmed),
            suggestions: suggest_close(trimmed, ERROR_SUGGESTIONS),
        };
        if trimmed.chars().count() > MAX_INPUT_CHARS {
            return Err(unknown());
        }
        let wanted = normalise(trimmed);
        TZ_VARIANTS
            .iter()
            .find(|tz| tz.name().eq_ignore_ascii_case(&wanted))
            .map(|tz| Zone(*tz))
            .ok_or_else(unknown)
    }

    pub fn tz(self) -> Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl Default for Zone {
    fn default() -> Self {
        Zone::UTC
    }
}

impl From<Tz> for Zone {
    fn from(tz: Tz) -> Self {
        Zone(tz)
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Zone {
    type Err = ZoneError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Zone::parse(s)
    }
}

impl Serialize for Zone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Zone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Zone::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Zone names for autocomplete: names where the input starts the full name
/// or the city part come first (alphabetically), then the closest typo
/// matches. Case is ignored throughout.
pub fn suggest(prefix_or_typo: &str, limit: usize) -> Vec<&'static str> {
    let typed = prefix_or_typo.trim();
    if limit == 0 || typed.chars().count() > MAX_INPUT_CHARS {
        return Vec::new();
    }
    let wanted = normalise(typed).to_ascii_lowercase();
    if wanted.is_empty() {
        return Vec::new();
    }
    // Rank: whole-name prefix before city prefix, current names before
    // legacy aliases, then alphabetical.
    let mut ranked: Vec<(bool, bool, &'static str)> = TZ_VARIANTS
        .iter()
        .map(|tz| tz.name())
        .filter_map(|name| {
            let lower = name.to_ascii_lowercase();
            if lower.starts_with(&wanted) {
                Some((false, !is_canonical(name), name))
            } else if city_of(&lower).starts_with(&wanted) {
                Some((true, !is_canonical(name), name))
            } else {
                None
            }
        })
        .collect();
    ranked.sort_unstable();
    let mut prefixed: Vec<&'static str> =
        ranked.into_iter().take(limit).map(|(_, _, n)| n).collect();
    if prefixed.len() < limit {
        let rest = suggest_close(typed, limit);
        for name in rest {
            if prefixed.len() >= limit {
                break;
            }
            if !prefixed.contains(&name) {
                prefixed.push(name);
            }
        }
    }
    prefixed
}

/// The closest names by similarity, best first; ties broken by name so the
/// output is stable.
fn suggest_close(typed: &str, limit: usize) -> Vec<&'static str> {
    if typed.chars().count() > MAX_INPUT_CHARS {
        return Vec::new();
    }
    let wanted = normalise(typed).to_ascii_lowercase();
    if wanted.is_empty() {
        return Vec::new();
    }
    let wanted_city = city_of(&wanted);
    let mut scored: Vec<(f64, &'static str)> = TZ_VARIANTS
        .iter()
        // Legacy aliases ("US/Eastern", "Poland") only add noise to a hint.
        .filter(|tz| is_canonical(tz.name()))
        .map(|tz| {
            let name = tz.name();
            let lower = name.to_ascii_lowercase();
            let whole = strsim::jaro_winkler(&wanted, &lower);
            // A bare city ("Londn") should still find "Europe/London".
            let city = strsim::jaro_winkler(wanted_city, city_of(&lower));
            (whole.max(city), name)
        })
        .filter(|(score, _)| *score >= MIN_SIMILARITY)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.into_iter().take(limit).map(|(_, n)| n).collect()
}

/// Names in the tz database's geographic areas, as opposed to backward
/// compatibility aliases.
fn is_canonical(name: &str) -> bool {
    const AREAS: [&str; 10] = [
        "Africa/",
        "America/",
        "Antarctica/",
        "Arctic/",
        "Asia/",
        "Atlantic/",
        "Australia/",
        "Europe/",
        "Indian/",
        "Pacific/",
    ];
    name == "UTC" || AREAS.iter().any(|area| name.starts_with(area))
}

fn city_of(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

fn normalise(input: &str) -> String {
    input.split_whitespace().collect::<Vec<_>>().join("_")
}

/// Makes user text safe to echo inside an error message shown in chat:
/// keeps letters, digits and the punctuation that zone names, period keys
/// and cron fields use, replaces anything else (mention sigils, markup,
/// control characters) with '?', and shortens long input.
pub fn safe_quote(input: &str) -> String {
    const MAX_ECHO: usize = 40;
    let mut out: String = input
        .chars()
        .take(MAX_ECHO)
        .map(|c| {
            if c.is_alphanumeric() || " -_/:+.,*".contains(c) {
                c
            } else {
                '?'
            }
        })
        .collect();
    if input.chars().count() > MAX_ECHO {
        out.push('…');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as DeError, StrDeserializer};

    #[test]
    fn parses_case_insensitively_and_trims() {
        let z = Zone::parse("  europe/london ").unwrap();
        assert_eq!(z.name(), "Europe/London");
        assert_eq!(z.tz(), Tz::Europe__London);
        assert_eq!(
            Zone::parse("AMERICA/NEW_YORK").unwrap().name(),
            "America/New_York"
        );
        assert_eq!(
            Zone::parse("america/new york").unwrap().name(),
            "America/New_York"
        );
        assert_eq!(Zone::parse("utc").unwrap(), Zone::UTC);
        assert_eq!(
            "Asia/Kolkata".parse::<Zone>().unwrap().to_string(),
            "Asia/Kolkata"
        );
    }

    #[test]
    fn default_is_utc() {
        assert_eq!(Zone::default(), Zone::UTC);
        assert_eq!(Zone::UTC.name(), "UTC");
    }

    #[test]
    fn rejects_empty_and_unknown_with_suggestions() {
        assert_eq!(Zone::parse("   "), Err(ZoneError::Empty));
        let err = Zone::parse("Europe/Londn").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("unknown time zone \"Europe/Londn\"; did you mean Europe/London"),
            "{text}"
        );
        match err {
            ZoneError::Unknown { suggestions, .. } => {
                assert!(!suggestions.is_empty() && suggestions.len() <= 3);
                assert_eq!(suggestions[0], "Europe/London");
            }
            ZoneError::Empty => panic!("wrong error"),
        }
    }

    #[test]
    fn bare_city_typo_suggests_full_name() {
        match Zone::parse("Londn").unwrap_err() {
            ZoneError::Unknown { suggestions, .. } => {
                assert!(suggestions.contains(&"Europe/London"), "{suggestions:?}")
            }
            ZoneError::Empty => panic!("wrong error"),
        }
    }

    #[test]
    fn garbage_gets_no_suggestions_and_safe_text() {
        let err = Zone::parse("@everyone <b>\u{7}").unwrap_err();
        let text = err.to_string();
        assert!(!text.contains('@') && !text.contains('<') && !text.contains('\u{7}'));
    }

    #[test]
    fn autocomplete_prefers_prefixes() {
        let got = suggest("europe/lo", 5);
        assert_eq!(got.first(), Some(&"Europe/London"));
        let got = suggest("lond", 3);
        assert_eq!(got.first(), Some(&"Europe/London"));
        let got = suggest("kolk", 3);
        assert_eq!(got.first(), Some(&"Asia/Kolkata"));
        assert!(suggest("", 5).is_empty());
        assert!(suggest("europe", 0).is_empty());
        assert_eq!(suggest("europe", 4).len(), 4);
        // Typos fall back to similarity.
        assert!(suggest("Sidney", 3).contains(&"Australia/Sydney"));
        // Whole-name prefixes rank above city prefixes.
        assert!(suggest("eu", 3).iter().all(|n| n.starts_with("Europe/")));
    }

    #[test]
    fn serde_uses_the_name() {
        let de: StrDeserializer<'_, DeError> = "asia/kolkata".into_deserializer();
        let z = Zone::deserialize(de).unwrap();
        assert_eq!(z.name(), "Asia/Kolkata");
        let bad: StrDeserializer<'_, DeError> = "Mars/Olympus".into_deserializer();
        assert!(Zone::deserialize(bad).is_err());
    }

    #[test]
    fn every_variant_round_trips() {
        for tz in TZ_VARIANTS.iter() {
            let z = Zone::parse(&tz.name().to_ascii_lowercase()).unwrap();
            assert_eq!(z.tz(), *tz);
        }
    }

    proptest! {
        #[test]
        fn parse_and_suggest_never_panic(s in any::<String>()) {
            let _ = Zone::parse(&s);
            let _ = suggest(&s, 5);
        }

        #[test]
        fn parse_never_panics_on_long_input(s in "\\PC{60,400}") {
            if let Err(e) = Zone::parse(&s) {
                prop_assert!(e.to_string().chars().count() < 400);
            }
        }
    }
}
