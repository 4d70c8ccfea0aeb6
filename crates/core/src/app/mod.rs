//! Use cases: one function per command or reaction, platform-neutral. Each takes the acting member from the
//! platform event (never from an argument), checks its rules here rather than trusting the platform's
//! permissions, and answers with a `Reply`.

pub mod checkins;
pub mod circles;
pub mod commitments;
pub mod dispatch;
pub mod error;
pub mod events;
pub mod feedback;
pub mod home;
pub mod interactions;
pub mod me;
pub mod opportunities;
pub mod privacy;
pub mod replies;
pub mod reply;
pub mod reviews;
pub mod scorecard;
pub mod specs;
pub mod story;
pub mod wins;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::chat::text::{Text, cmd};
use crate::chat::{Capabilities, ChatPort};
use crate::clock::Clock;
use crate::domain::membership::Role;
use crate::domain::zone::Zone;
use crate::settings::{CircleRules, CreateCircles, Limits, ScheduleSettings};
use crate::store::circles::{self as store, Circle, Member};

pub use error::{Error, Result, UserError};
pub use reply::Reply;

pub use crate::chat::Platform;

/// Who is acting, as the platform vouches for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub platform: Platform,
    /// The guild or workspace; None in a DM.
    pub server: Option<String>,
    pub user_id: String,
    /// Empty where the platform's event names nobody (Slack's message events): the member keeps their name.
    pub display_name: String,
    /// The channel the command was used in, where there is one.
    pub channel_id: Option<String>,
    /// The platform says this member manages the server (Discord: the Manage Server permission, from the
    /// interaction's `member.permissions`). False in DMs and where the platform did not say.
    pub manager: bool,
}

#[derive(Clone)]
pub struct App {
    pub pool: PgPool,
    pub clock: Arc<dyn Clock>,
    pub schedule: ScheduleSettings,
    /// Who may create circles.
    pub circles: CircleRules,
    /// How much a community may hold.
    pub limits: Limits,
    /// What each platform wired into this process can show.
    platforms: Arc<Vec<&'static Capabilities>>,
    /// The chats a use case may post to on its own (a second opinion asked of a circle's channel), by platform.
    chats: Arc<Vec<Arc<dyn ChatPort>>>,
}

impl App {
    pub fn new(pool: PgPool, clock: Arc<dyn Clock>, schedule: ScheduleSettings) -> Self {
        Self {
            pool,
            clock,
            schedule,
            circles: CircleRules {
                create: CreateCircles::Anyone,
            },
            limits: Limits::DEFAULT,
            platforms: Arc::new(vec![&Capabilities::CONSOLE]),
            chats: Arc::new(Vec::new()),
        }
    }

    /// Lets use cases post to a platform's channels through its port (the same port the worker sends with).
    pub fn with_chat(mut self, chat: Arc<dyn ChatPort>) -> Self {
        let platform = chat.capabilities().platform;
        let mut all: Vec<Arc<dyn ChatPort>> = self
            .chats
            .iter()
            .filter(|c| c.capabilities().platform != platform)
            .cloned()
            .collect();
        all.push(chat);
        self.chats = Arc::new(all);
        self
    }

    /// The port of `platform`, if one was wired in.
    pub(crate) fn chat(&self, platform: Platform) -> Option<&Arc<dyn ChatPort>> {
        self.chats
            .iter()
            .find(|c| c.capabilities().platform == platform)
    }

    /// The community rules of the settings (`[circles]`, `[limits]`).
    pub fn with_rules(mut self, circles: CircleRules, limits: Limits) -> Self {
        self.circles = circles;
        self.limits = limits;
        self
    }

    /// Declares a platform's capabilities (each adapter exports its own), so replies to its members fit it.
    pub fn with_platform(mut self, caps: &'static Capabilities) -> Self {
        let mut all: Vec<&'static Capabilities> = self
            .platforms
            .iter()
            .copied()
            .filter(|c| c.platform != caps.platform)
            .collect();
        all.push(caps);
        self.platforms = Arc::new(all);
        self
    }

    /// What `platform` can show; the strictest known limits if no adapter declared it.
    pub fn caps(&self, platform: Platform) -> &'static Capabilities {
        self.platforms
            .iter()
            .copied()
            .find(|c| c.platform == platform)
            .unwrap_or(&Capabilities::FALLBACK)
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

    /// The acting member on this server, created on first contact. An actor without a name (a platform event
    /// that carries none, like Slack's message events) keeps the name the member has; a new one is named by id
    /// until a command brings their name.
    pub(crate) async fn member(&self, actor: &Actor) -> Result<Member> {
        let server = Self::server_of(actor)?;
        // The common case reads only: an upsert on every command would write (and lock) the server's row for
        // every member at once.
        if let Some(member) =
            store::find_member_on(&self.pool, actor.platform, server, &actor.user_id).await?
            && (member.display_name == actor.display_name || actor.display_name.is_empty())
        {
            return Ok(member);
        }
        let name = if actor.display_name.is_empty() {
            &actor.user_id
        } else {
            &actor.display_name
        };
        let mut tx = self.pool.begin().await?;
        let server_id = store::ensure_server(&mut tx, actor.platform, server).await?;
        let member =
            store::ensure_member(&mut tx, server_id, &actor.user_id, name, self.now()).await?;
        tx.commit().await?;
        Ok(member)
    }

    /// The circle a command is about: the one named, or the only one the member is in.
    pub(crate) async fn circle_of(
        &self,
        member: &Member,
        name: Option<&str>,
    ) -> Result<(Circle, Role)> {
        let mine = store::circles_of_member(&self.pool, member.id).await?;
        match name.map(str::trim).filter(|n| !n.is_empty()) {
            Some(name) => {
                if let Some(found) = mine.iter().find(|(c, _)| c.name.eq_ignore_ascii_case(name)) {
                    return Ok(found.clone());
                }
                let all = store::circles_of_server(&self.pool, member.server_id).await?;
                if all.iter().any(|c| c.name.eq_ignore_ascii_case(name)) {
                    Err(Error::user(crate::text![
                        format!("You're not in the circle \"{name}\". Join it with "),
                        cmd(format!("circle join {name}")),
                        "."
                    ]))
                } else {
                    Err(Error::user(crate::text![
                        format!("There is no circle called \"{name}\" here. "),
                        cmd("circle list"),
                        " shows them."
                    ]))
                }
            }
            None => match mine.as_slice() {
                [] => Err(Error::user(crate::text![
                    "You're not in a circle yet. ",
                    cmd("circle join NAME"),
                    " or ",
                    cmd("circle create NAME"),
                    "."
                ])),
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

    /// The member's zone: the one rule of the `member_zones` view (their own, else their first circle's), else the
    /// configured default for someone in no circle yet.
    pub(crate) async fn zone_of(&self, member: &Member) -> Result<Zone> {
        Ok(store::member_zone(&self.pool, member.id)
            .await?
            .unwrap_or(self.schedule.default_zone))
    }

    /// Refuses another item once the member has `max` of them (`what`, dated `at`) in their current quarter.
    pub(crate) async fn check_quarter_limit(
        &self,
        member: &Member,
        what: &str,
        max: u32,
        at: impl Iterator<Item = DateTime<Utc>>,
    ) -> Result<()> {
        let zone = self.zone_of(member).await?;
        let quarter = crate::domain::period::Period::containing_quarter(
            crate::domain::period::local_date(self.now(), zone),
        );
        let (from, to) = crate::schedule::review::load::bounds(quarter, zone);
        let n = at.filter(|t| *t >= from && *t < to).count();
        if n >= usize::try_from(max).unwrap_or(usize::MAX) {
            return Err(Error::user(format!(
                "You've recorded {n} {what} in {}, the most this community allows in a quarter. There's room \
                 again from {}.",
                quarter.label(),
                quarter.next().label()
            )));
        }
        Ok(())
    }

    /// A reply's text made to fit one message of the actor's platform: whole lines, and a word on what was left out.
    pub(crate) fn fit(&self, actor: &Actor, text: Text, more: Option<&str>) -> Text {
        crate::chat::fit::shorten(text, self.caps(actor.platform), more)
    }
}

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

/// The command overview (`/help`), from the command table: it names every command there is.
pub fn help() -> Reply {
    Reply::private(crate::chat::commands::help_text())
}
