//! The ids carried by buttons, so a press anywhere (Discord, the console) maps back to one action.
//! Discord allows 100 characters in a custom id; these stay far below.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Mark a commitment's period done.
    Done { commitment_id: i64, period: String },
    /// Skip a commitment's period, without guilt.
    Skip { commitment_id: i64, period: String },
    /// Open the check-in form for a circle's quarter.
    Checkin { circle_id: i64, period: String },
    /// Open the scorecard form (metric values, milestones) for a circle's quarter.
    Scorecard { circle_id: i64, period: String },
    /// Open the form asking whether a taken offer delivered, 6 or 12 months on.
    Lived { evaluation_id: i64, months: u32 },
    /// Start a 30/60/90-day landing plan in a new role that began on this local date (YYYY-MM-DD).
    LandingStart { on: chrono::NaiveDate },
    /// Open the form for a landing plan's phase outcome (day 30, 60 or 90).
    Landing { plan_id: i64, day: u32 },
    /// Confirm `/me delete`.
    ConfirmDelete,
    /// Cancel `/me delete`.
    CancelDelete,
    /// Where a DM the bot asked about should go: `pending` names the DM's text, kept server-side.
    Reply { pending: i64, choice: ReplyChoice },
}

/// The answers to the bot's question about a DM that did not say where it belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyChoice {
    /// It answers this circle's open check-in.
    Circle(i64),
    /// It is for this member record (the server whose commitments a `done` marks).
    Member(i64),
    /// Add it to the check-in already stored.
    Append,
    /// Replace the stored check-in with it (the earlier text is kept as a revision).
    Replace,
    /// Store nothing.
    Leave,
}

impl Action {
    pub fn custom_id(&self) -> String {
        match self {
            Self::Done {
                commitment_id,
                period,
            } => format!("cc:done:{commitment_id}:{period}"),
            Self::Skip {
                commitment_id,
                period,
            } => format!("cc:skip:{commitment_id}:{period}"),
            Self::Checkin { circle_id, period } => format!("cc:checkin:{circle_id}:{period}"),
            Self::Scorecard { circle_id, period } => format!("cc:score:{circle_id}:{period}"),
            Self::Lived {
                evaluation_id,
                months,
            } => format!("cc:lived:{evaluation_id}:{months}"),
            Self::LandingStart { on } => format!("cc:landingstart:{on}"),
            Self::Landing { plan_id, day } => format!("cc:landing:{plan_id}:{day}"),
            Self::ConfirmDelete => "cc:delete:confirm".to_owned(),
            Self::CancelDelete => "cc:delete:cancel".to_owned(),
            Self::Reply { pending, choice } => {
                let choice = match choice {
                    ReplyChoice::Circle(id) => format!("c{id}"),
                    ReplyChoice::Member(id) => format!("m{id}"),
                    ReplyChoice::Append => "append".to_owned(),
                    ReplyChoice::Replace => "replace".to_owned(),
                    ReplyChoice::Leave => "leave".to_owned(),
                };
                format!("cc:reply:{pending}:{choice}")
            }
        }
    }

    pub fn parse(custom_id: &str) -> Option<Self> {
        let mut parts = custom_id.splitn(4, ':');
        if parts.next()? != "cc" {
            return None;
        }
        let verb = parts.next()?;
        let a = parts.next();
        let b = parts.next();
        match (verb, a, b) {
            ("done", Some(id), Some(period)) => Some(Self::Done {
                commitment_id: id.parse().ok()?,
                period: period.to_owned(),
            }),
            ("skip", Some(id), Some(period)) => Some(Self::Skip {
                commitment_id: id.parse().ok()?,
                period: period.to_owned(),
            }),
            ("checkin", Some(id), Some(period)) => Some(Self::Checkin {
                circle_id: id.parse().ok()?,
                period: period.to_owned(),
            }),
            ("score", Some(id), Some(period)) => Some(Self::Scorecard {
                circle_id: id.parse().ok()?,
                period: period.to_owned(),
            }),
            ("lived", Some(id), Some(months)) => Some(Self::Lived {
                evaluation_id: id.parse().ok()?,
                months: months.parse().ok().filter(|m| [6, 12].contains(m))?,
            }),
            ("landingstart", Some(on), None) => Some(Self::LandingStart {
                on: chrono::NaiveDate::parse_from_str(on, "%Y-%m-%d").ok()?,
            }),
            ("landing", Some(id), Some(day)) => Some(Self::Landing {
                plan_id: id.parse().ok()?,
                day: day.parse().ok().filter(|d| [30, 60, 90].contains(d))?,
            }),
            ("delete", Some("confirm"), None) => Some(Self::ConfirmDelete),
            ("delete", Some("cancel"), None) => Some(Self::CancelDelete),
            ("reply", Some(id), Some(choice)) => Some(Self::Reply {
                pending: id.parse().ok()?,
                choice: match choice {
                    "append" => ReplyChoice::Append,
                    "replace" => ReplyChoice::Replace,
                    "leave" => ReplyChoice::Leave,
                    other => match other.split_at_checked(1)? {
                        ("c", id) => ReplyChoice::Circle(id.parse().ok()?),
                        ("m", id) => ReplyChoice::Member(id.parse().ok()?),
                        _ => return None,
                    },
                },
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        for action in [
            Action::Done {
                commitment_id: 7,
                period: "2027-01".into(),
            },
            Action::Skip {
                commitment_id: 7,
                period: "2027-01".into(),
            },
            Action::Checkin {
                circle_id: 3,
                period: "2027-Q1".into(),
            },
            Action::Scorecard {
                circle_id: 3,
                period: "2027-Q2".into(),
            },
            Action::Lived {
                evaluation_id: 9,
                months: 12,
            },
            Action::LandingStart {
                on: chrono::NaiveDate::from_ymd_opt(2027, 3, 1).unwrap(),
            },
            Action::Landing {
                plan_id: 4,
                day: 60,
            },
            Action::ConfirmDelete,
            Action::CancelDelete,
            Action::Reply {
                pending: i64::MAX,
                choice: ReplyChoice::Circle(i64::MAX),
            },
            Action::Reply {
                pending: 5,
                choice: ReplyChoice::Member(9),
            },
            Action::Reply {
                pending: 5,
                choice: ReplyChoice::Append,
            },
            Action::Reply {
                pending: 5,
                choice: ReplyChoice::Replace,
            },
            Action::Reply {
                pending: 5,
                choice: ReplyChoice::Leave,
            },
        ] {
            let id = action.custom_id();
            assert!(id.len() <= 100, "{id}");
            assert_eq!(Action::parse(&id), Some(action));
        }
        for junk in [
            "",
            "cc",
            "cc:done",
            "cc:done:x:2027-01",
            "zz:done:1:2027-01",
            "cc:delete:maybe",
            "cc:lived:9:7",
            "cc:reply:1",
            "cc:reply:x:append",
            "cc:reply:1:maybe",
            "cc:reply:1:cx",
            "cc:reply:1:",
        ] {
            assert_eq!(Action::parse(junk), None, "{junk}");
        }
    }
}
