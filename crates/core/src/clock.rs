//! Time is injected so the scheduler, the demo and the tests can run on a virtual clock.

use std::sync::Mutex;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock, for production.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to: the demo's `/clock`, `simulate` and the tests.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    pub fn set(&self, to: DateTime<Utc>) {
        *self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = to;
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Reads an instant typed on a command line: RFC 3339, `YYYY-MM-DDTHH:MM[:SS]` or `YYYY-MM-DD` (UTC).
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(text) {
        return Ok(d.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(n.and_utc());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| n.and_utc())
        .ok_or_else(|| format!("\"{text}\" is not a date like 2027-01-31 or 2027-01-31T09:00"))
}

/// The longest span the bot reasons about: far beyond any schedule, retry or window, and far below what would
/// overflow an instant.
const SPAN_MAX: Duration = Duration::days(365 * 100);

/// A std duration as chrono's, capped at a century, so no conversion can overflow.
pub fn to_chrono(d: std::time::Duration) -> Duration {
    Duration::from_std(d).unwrap_or(SPAN_MAX).min(SPAN_MAX)
}

/// `at` plus `d`, saturating at the last instant chrono knows rather than panicking.
pub fn after(at: DateTime<Utc>, d: std::time::Duration) -> DateTime<Utc> {
    at.checked_add_signed(to_chrono(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}
