//! The kinds of scheduled message and what each is keyed by.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeliveryKind {
    /// 1st of the month: the monthly writing commitment is due.
    MonthlyNudge,
    /// 20th: for members who have not marked the month done.
    NudgeReminder,
    /// First Monday of the quarter: the check-in questions.
    CheckinPrompt,
    /// A few days later: for members who have not answered.
    CheckinReminder,
    /// January: "Do I still want this?"
    DeepDive,
    /// The check-in window closed: open the circle's review thread.
    ReviewOpen,
    /// Halfway through the review: nudge reviewers who have not written yet.
    ReviewMidway,
    /// The review window closed: post the summary and archive the thread.
    ReviewClose,
    /// A member could not be reached (DMs closed, missing permissions): the organisers hear of it once a quarter.
    OrganiserAlert,
    /// Six and twelve months after a taken offer: did it deliver what it was scored for? Keyed by the local month
    /// of the mark, so one message asks about every offer whose mark falls in that month.
    OfferHindsight,
    /// The circle's last organiser left: the longest-standing member now organises it and is told so.
    OrganiserHandover,
    /// The review thread could not be opened on the platform: the organisers hear what to fix.
    ReviewOpenFailed,
    /// The review summary could not be posted: the organisers hear what to fix.
    ReviewCloseFailed,
    /// Day 30, 60 and 90 of a landing plan in a new role, 09:00 the member's time: how did that phase go? Keyed by
    /// the local month of the day, one kind per phase so the three never share a key.
    LandingDay30,
    LandingDay60,
    LandingDay90,
}

crate::domain::text_enum! {
    /// Where a delivery stands in the outbox.
    pub enum DeliveryStatus {
        Pending = "pending",
        Sent = "sent",
        Failed = "failed",
        Skipped = "skipped",
    }
}

/// Which calendar period keys a kind: one delivery per member (or circle) per period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodUnit {
    Month,
    Quarter,
    Year,
}

impl DeliveryKind {
    /// Every kind, for the `kind` label values of /metrics and for parsing.
    pub const ALL: [DeliveryKind; 16] = [
        DeliveryKind::MonthlyNudge,
        DeliveryKind::NudgeReminder,
        DeliveryKind::CheckinPrompt,
        DeliveryKind::CheckinReminder,
        DeliveryKind::DeepDive,
        DeliveryKind::ReviewOpen,
        DeliveryKind::ReviewMidway,
        DeliveryKind::ReviewClose,
        DeliveryKind::OrganiserAlert,
        DeliveryKind::OfferHindsight,
        DeliveryKind::OrganiserHandover,
        DeliveryKind::ReviewOpenFailed,
        DeliveryKind::ReviewCloseFailed,
        DeliveryKind::LandingDay30,
        DeliveryKind::LandingDay60,
        DeliveryKind::LandingDay90,
    ];

    /// The landing plan's questions, by the day each asks on.
    pub const LANDING: [(u32, DeliveryKind); 3] = [
        (30, DeliveryKind::LandingDay30),
        (60, DeliveryKind::LandingDay60),
        (90, DeliveryKind::LandingDay90),
    ];

    /// The day of a landing plan this kind asks about.
    pub fn landing_day(self) -> Option<u32> {
        Self::LANDING
            .iter()
            .find(|(_, k)| *k == self)
            .map(|(d, _)| *d)
    }

    pub const SCHEDULED: [DeliveryKind; 5] = [
        DeliveryKind::MonthlyNudge,
        DeliveryKind::NudgeReminder,
        DeliveryKind::CheckinPrompt,
        DeliveryKind::CheckinReminder,
        DeliveryKind::DeepDive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::MonthlyNudge => "monthly_nudge",
            Self::NudgeReminder => "nudge_reminder",
            Self::CheckinPrompt => "checkin_prompt",
            Self::CheckinReminder => "checkin_reminder",
            Self::DeepDive => "deep_dive",
            Self::ReviewOpen => "review_open",
            Self::ReviewMidway => "review_midway",
            Self::ReviewClose => "review_close",
            Self::OrganiserAlert => "organiser_alert",
            Self::OfferHindsight => "offer_hindsight",
            Self::OrganiserHandover => "organiser_handover",
            Self::ReviewOpenFailed => "review_open_failed",
            Self::ReviewCloseFailed => "review_close_failed",
            Self::LandingDay30 => "landing_day30",
            Self::LandingDay60 => "landing_day60",
            Self::LandingDay90 => "landing_day90",
        }
    }

    /// Personal prompts: owed once per member and period whatever number of circles the member is in (one DM
    /// lists the member's commitments, which are theirs, not a circle's). Keyed without the circle.
    pub fn is_personal(self) -> bool {
        matches!(
            self,
            Self::MonthlyNudge | Self::NudgeReminder | Self::DeepDive
        )
    }

    /// Circle-wide kinds go to the circle's home channel, keyed without a member, timed in the circle's zone.
    pub fn is_circle_wide(self) -> bool {
        matches!(
            self,
            Self::ReviewOpen | Self::ReviewMidway | Self::ReviewClose
        )
    }

    pub fn period_unit(self) -> PeriodUnit {
        match self {
            Self::MonthlyNudge
            | Self::NudgeReminder
            | Self::OfferHindsight
            | Self::OrganiserHandover
            | Self::LandingDay30
            | Self::LandingDay60
            | Self::LandingDay90 => PeriodUnit::Month,
            Self::CheckinPrompt
            | Self::CheckinReminder
            | Self::OrganiserAlert
            | Self::ReviewOpenFailed
            | Self::ReviewCloseFailed
            | Self::ReviewOpen
            | Self::ReviewMidway
            | Self::ReviewClose => PeriodUnit::Quarter,
            Self::DeepDive => PeriodUnit::Year,
        }
    }

    /// Kinds that follow another kind's occurrence by a fixed time rather than having their own schedule.
    pub fn follows(self) -> Option<DeliveryKind> {
        match self {
            Self::CheckinReminder | Self::ReviewOpen => Some(Self::CheckinPrompt),
            _ => None,
        }
    }

    /// Plain words for organisers and the help text.
    pub fn describe(self) -> &'static str {
        match self {
            Self::MonthlyNudge => "monthly writing nudge",
            Self::NudgeReminder => "monthly nudge reminder",
            Self::CheckinPrompt => "quarterly check-in prompt",
            Self::CheckinReminder => "check-in reminder",
            Self::DeepDive => "annual deep dive",
            Self::ReviewOpen => "review thread opening",
            Self::ReviewMidway => "review midway nudge",
            Self::ReviewClose => "review summary",
            Self::OrganiserAlert => "organiser alert",
            Self::OfferHindsight => "offer hindsight question",
            Self::OrganiserHandover => "organiser handover notice",
            Self::ReviewOpenFailed => "note that a review could not open",
            Self::ReviewCloseFailed => "note that a review summary could not be posted",
            Self::LandingDay30 => "landing plan, day 30",
            Self::LandingDay60 => "landing plan, day 60",
            Self::LandingDay90 => "landing plan, day 90",
        }
    }
}

/// Compares with the stored name, as tests and logs read it.
impl PartialEq<&str> for DeliveryKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for DeliveryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown schedule kind \"{0}\"; known: monthly_nudge, nudge_reminder, checkin_prompt, deep_dive"
)]
pub struct UnknownKind(pub String);

impl FromStr for DeliveryKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == wanted)
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for kind in DeliveryKind::ALL {
            assert_eq!(kind.as_str().parse::<DeliveryKind>(), Ok(kind));
        }
        assert_eq!(
            "Monthly-Nudge".parse::<DeliveryKind>(),
            Ok(DeliveryKind::MonthlyNudge)
        );
        assert!("weekly_party".parse::<DeliveryKind>().is_err());
    }
}
