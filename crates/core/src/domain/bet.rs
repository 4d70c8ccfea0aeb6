//! A portfolio of bets: core roles and commitments (steady, incremental, credibility) and big swings (zero-to-one,
//! high failure rate, step-function growth), a big swing every two or three years once established.

use chrono::{DateTime, Duration, Utc};

use crate::domain::text_enum;

text_enum! {
    /// What kind of bet a commitment, a win or an offer is.
    pub enum Bet {
        Core = "core",
        BigSwing = "big_swing",
    }
}

impl Bet {
    /// What a member may type: "core", "big-swing", "big swing", "big_swing", "swing".
    pub fn parse_user(text: &str) -> Result<Bet, String> {
        let word = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        match word.as_str() {
            "core" => Ok(Bet::Core),
            "big_swing" | "swing" | "bigswing" => Ok(Bet::BigSwing),
            _ => Err(format!(
                "\"{}\" is not a bet; choose core or big-swing.",
                crate::domain::zone::safe_quote(text.trim())
            )),
        }
    }

    /// As members write it.
    pub fn label(self) -> &'static str {
        match self {
            Bet::Core => "core",
            Bet::BigSwing => "big swing",
        }
    }
}

/// The choices a command offers, as members type them.
pub const CHOICES: &[&str] = &["core", "big-swing"];

/// How long a member must have been around to count as established without saying so.
pub const ESTABLISHED_AFTER: Duration = Duration::days(730);
/// The window in which an established member is expected to have taken a big swing.
pub const SWING_WINDOW: Duration = Duration::days(730);

/// A year's balance of bets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Balance {
    pub core: u32,
    pub big_swings: u32,
}

impl Balance {
    pub fn of(bets: impl IntoIterator<Item = Bet>) -> Balance {
        let mut b = Balance::default();
        for bet in bets {
            match bet {
                Bet::Core => b.core += 1,
                Bet::BigSwing => b.big_swings += 1,
            }
        }
        b
    }

    pub fn is_empty(&self) -> bool {
        self.core == 0 && self.big_swings == 0
    }

    /// "2 core, 1 big swing".
    pub fn words(&self) -> String {
        format!(
            "{} core, {} big swing{}",
            self.core,
            self.big_swings,
            if self.big_swings == 1 { "" } else { "s" }
        )
    }
}

/// Where a tagged bet comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Commitment,
    Win,
    /// A taken offer.
    Offer,
}

/// A tagged commitment, win or taken offer, with the span it was live: a commitment from its start until it was
/// dropped or killed (None: still open); a win or an offer at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    pub bet: Bet,
    pub source: Source,
    pub from: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
}

impl Item {
    fn end(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self.source {
            Source::Commitment => self.until.unwrap_or(now),
            Source::Win | Source::Offer => self.from,
        }
    }

    /// Whether the bet was live in [from, to).
    pub fn live_in(&self, from: DateTime<Utc>, to: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        match self.source {
            Source::Commitment => self.from < to && self.end(now) >= from,
            Source::Win | Source::Offer => self.from >= from && self.from < to,
        }
    }
}

/// The balance of the bets live in [from, to).
pub fn balance_in(
    items: &[Item],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Balance {
    Balance::of(
        items
            .iter()
            .filter(|i| i.live_in(from, to, now))
            .map(|i| i.bet),
    )
}

/// The last time a big swing was live (an open one: now).
pub fn last_big_swing(items: &[Item], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    items
        .iter()
        .filter(|i| i.bet == Bet::BigSwing)
        .map(|i| i.end(now))
        .max()
}

/// Whether the deep dive should ask about a big swing: the member is established (they said so in their spec, or has
/// two years of history with the bot) and took no big swing in the last two years.
pub fn asks_for_big_swing(
    established: bool,
    member_since: DateTime<Utc>,
    last_big_swing: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    let established = established || now - member_since >= ESTABLISHED_AFTER;
    established && last_big_swing.is_none_or(|at| now - at > SWING_WINDOW)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bets_parse_and_balance() {
        assert_eq!(Bet::parse_user(" Big-Swing "), Ok(Bet::BigSwing));
        assert_eq!(Bet::parse_user("core"), Ok(Bet::Core));
        assert!(Bet::parse_user("moonshot").is_err());
        let b = Balance::of([Bet::Core, Bet::BigSwing, Bet::Core]);
        assert_eq!(b.words(), "2 core, 1 big swing");
        assert_eq!(
            Balance::of([Bet::BigSwing; 2]).words(),
            "0 core, 2 big swings"
        );
    }

    #[test]
    fn the_big_swing_question_needs_an_established_member_without_a_recent_swing() {
        let now = DateTime::parse_from_rfc3339("2029-01-08T09:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let year = Duration::days(365);
        assert!(asks_for_big_swing(true, now - year, None, now));
        assert!(
            !asks_for_big_swing(false, now - year, None, now),
            "new, not established"
        );
        assert!(
            asks_for_big_swing(false, now - year * 2, None, now),
            "two years of history"
        );
        assert!(
            !asks_for_big_swing(true, now, Some(now - year), now),
            "a swing last year"
        );
        assert!(asks_for_big_swing(true, now, Some(now - year * 3), now));
        let open_swing = Item {
            bet: Bet::BigSwing,
            source: Source::Commitment,
            from: now - year * 3,
            until: None,
        };
        assert_eq!(
            last_big_swing(&[open_swing], now),
            Some(now),
            "still swinging"
        );
        let win = Item {
            bet: Bet::Core,
            source: Source::Win,
            from: now - year * 2,
            until: None,
        };
        let b = balance_in(&[open_swing, win], now - year, now, now);
        assert_eq!(
            (b.core, b.big_swings),
            (0, 1),
            "the win is older than the year"
        );
    }
}
