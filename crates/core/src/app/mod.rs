//! Use cases: one function per command or reaction, platform-neutral. Each takes the acting member from the
//! platform event (never from an argument), checks its rules here rather than trusting the platform's
//! permissions, and answers with a `Reply`.

pub mod checkins;
pub mod circles;
pub mod commitments;
pub mod error;
pub mod interactions;
pub mod me;
pub mod opportunities;
pub mod privacy;
pub mod reply;
pub mod reviews;
pub mod specs;
pub mod wins;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::clock::Clock;
use crate::domain::zone::Zone;
use crate::settings::ScheduleSettings;
use crate::store::circles::{self as store, Circle, Member};

pub use error::{Error, Result, UserError};
pub use reply::Reply;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Discord,
    Slack,
    Console,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Discord => "discord",
            Self::Slack => "slack",
            Self::Console => "console",
        }
    }
}

/// Who is acting, as the platform vouches for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub platform: Platform,
    /// The guild or workspace; None in a DM.
    pub server: Option<String>,
    pub user_id: String,
    pub display_name: String,
}

#[derive(Clone)]
pub struct App {
    pub pool: PgPool,
    pub clock: Arc<dyn Clock>,
    pub schedule: ScheduleSettings,
}

impl App {
    pub fn new(pool: PgPool, clock: Arc<dyn Clock>, schedule: ScheduleSettings) -> Self {
        Self {
            pool,
            clock,
            schedule,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn server_of(actor: &Actor) -> Result<&str> {
        actor
            .server
            .as_deref()
            .ok_or_else(|| Error::user("That command works in a server channel, not in DMs."))
    }

    /// The acting member on this server, created on first contact.
    pub(crate) async fn member(&self, actor: &Actor) -> Result<Member> {
        let server = Self::server_of(actor)?;
        // The common case reads only: an upsert on every command would write (and lock) the server's row for
        // every member at once.
        if let Some(member) =
            store::find_member_on(&self.pool, actor.platform.as_str(), server, &actor.user_id)
                .await?
            && member.display_name == actor.display_name
        {
            return Ok(member);
        }
        let mut tx = self.pool.begin().await?;
        let server_id = store::ensure_server(&mut tx, actor.platform.as_str(), server).await?;
        let member = store::ensure_member(
            &mut tx,
            server_id,
            &actor.user_id,
            &actor.display_name,
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(member)
    }

    /// The circle a command is about: the one named, or the only one the member is in.
    pub(crate) async fn circle_of(
        &self,
        member: &Member,
        name: Option<&str>,
    ) -> Result<(Circle, String)> {
        let mine = store::circles_of_member(&self.pool, member.id).await?;
        match name.map(str::trim).filter(|n| !n.is_empty()) {
            Some(name) => {
                if let Some(found) = mine.iter().find(|(c, _)| c.name.eq_ignore_ascii_case(name)) {
                    return Ok(found.clone());
                }
                let all = store::circles_of_server(&self.pool, member.server_id).await?;
                if all.iter().any(|c| c.name.eq_ignore_ascii_case(name)) {
                    Err(Error::user(format!(
                        "You're not in the circle \"{name}\". Join it with `/circle join {name}`."
                    )))
                } else {
                    Err(Error::user(format!(
                        "There is no circle called \"{name}\" here. `/circle list` shows them."
                    )))
                }
            }
            None => match mine.as_slice() {
                [] => Err(Error::user(
                    "You're not in a circle yet. `/circle join NAME` or `/circle create NAME`.",
                )),
                [one] => Ok(one.clone()),
                many => Err(Error::user(format!(
                    "You're in several circles ({}); say which with the circle option.",
                    many.iter()
                        .map(|(c, _)| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            },
        }
    }

    /// The member's zone: their own, else their first circle's, else the default.
    pub(crate) async fn zone_of(&self, member: &Member) -> Result<Zone> {
        if let Some(zone) = member.zone.as_deref().and_then(|z| Zone::parse(z).ok()) {
            return Ok(zone);
        }
        let circles = store::circles_of_member(&self.pool, member.id).await?;
        Ok(circles
            .first()
            .and_then(|(c, _)| Zone::parse(&c.zone).ok())
            .unwrap_or(self.schedule.default_zone))
    }
}

/// Text limits shared by the commands (Discord: message 2000, modal input 4000).
pub const MESSAGE_MAX: usize = 2000;

pub(crate) fn check_len(what: &str, text: &str, max: usize) -> Result<()> {
    let n = text.chars().count();
    if n > max {
        return Err(Error::user(format!(
            "{what} is {n} characters; the limit is {max}."
        )));
    }
    Ok(())
}

/// Reads "until" dates: YYYY-MM-DD means through the end of that day (UTC), so "until Friday" includes Friday.
pub fn parse_until(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let text = text.trim();
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        Error::user(format!(
            "\"{}\" is not a date like 2027-08-31.",
            crate::domain::zone::safe_quote(text)
        ))
    })?;
    let end = date
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| n.and_utc())
        .ok_or_else(|| Error::user("That date is out of range."))?;
    if end <= now {
        return Err(Error::user(
            "That date has already passed; pick one in the future.",
        ));
    }
    if end > now + chrono::Duration::days(366 * 2) {
        return Err(Error::user(
            "That is more than two years away; pick a nearer date.",
        ));
    }
    Ok(end)
}

/// The command overview (`/help`, the demo's `/help`).
pub fn help() -> Reply {
    Reply::private(
        "**career-circle**: PM your career like a product, with your circle keeping you honest.\n\
         **Circles** `/circle create|join|leave|list|members`; organisers: `/circle settings`, `/circle pause`\n\
         **Career spec** `/spec edit` (vision, milestones, skills, metrics, trade-offs), `/spec show [member]`, \
         `/spec history`, `/spec diff`, `/spec phase learning|impact`, `/spec visibility private|circle`\n\
         **Commitments** `/commit add title [cadence]`, `/commit list`, `/commit done [commitment] [link]`, `/commit drop`\n\
         **Check-ins** answer the quarterly prompt by replying to its DM, with its Answer button, or `/checkin`\n\
         **You** `/me timezone`, `/me vacation [until]`\n\
         Nudges arrive on the 1st at 09:00 your time; reply `done <link>` when you publish.",
    )
}
