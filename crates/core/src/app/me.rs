//! /me timezone and /me vacation.

use chrono::{DateTime, Utc};

use crate::app::{Actor, App, Error, Platform, Reply, Result};
use crate::domain::zone::{Zone, suggest};
use crate::store::circles as store;

impl App {
    pub async fn me_timezone(&self, actor: &Actor, zone: &str) -> Result<Reply> {
        let zone = Zone::parse(zone).map_err(|e| Error::user(e.to_string()))?;
        let member = self.member(actor).await?;
        store::set_member_zone(&self.pool, member.id, zone).await?;
        let local = self.now().with_timezone(&zone.tz());
        Ok(Reply::private(format!(
            "Your time zone is now {zone} (it's {} there). Prompts arrive at 09:00 your time.",
            local.format("%H:%M on %a %-d %b")
        )))
    }

    /// Zone names for autocomplete.
    /// The zone the platform's profile gives a user (Slack's `tz`): theirs unless they set one with
    /// `/me timezone`. A name the zone database does not know is passed over. Returns whether anything changed.
    pub async fn platform_zone(&self, platform: Platform, user_id: &str, tz: &str) -> Result<bool> {
        let Ok(zone) = Zone::parse(tz) else {
            tracing::debug!(tz, "a platform zone the zone database does not know");
            return Ok(false);
        };
        Ok(store::set_platform_zone(&self.pool, platform, user_id, zone).await? > 0)
    }

    /// Whether the platform should be asked for the user's zone: they are a member with none yet.
    pub async fn needs_platform_zone(&self, platform: Platform, user_id: &str) -> Result<bool> {
        Ok(store::zone_unknown(&self.pool, platform, user_id).await?)
    }

    pub fn zone_suggestions(&self, typed: &str) -> Vec<&'static str> {
        suggest(typed, 25)
    }

    /// Sets or clears a vacation: prompts falling before `until` are skipped, not sent later.
    pub async fn me_vacation(&self, actor: &Actor, until: Option<DateTime<Utc>>) -> Result<Reply> {
        let member = self.member(actor).await?;
        match until {
            Some(u) if u <= self.now() => Err(Error::user(
                "That date has already passed; pick one in the future.",
            )),
            Some(u) => {
                store::set_vacation(&self.pool, member.id, Some(u)).await?;
                Ok(Reply::private(format!(
                    "Enjoy the time off. No prompts until {}; anything due before then is skipped, not piled up.",
                    u.format("%Y-%m-%d")
                )))
            }
            None => {
                store::set_vacation(&self.pool, member.id, None).await?;
                Ok(Reply::private("Welcome back: prompts are on again."))
            }
        }
    }
}
