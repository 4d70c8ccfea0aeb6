//! /circle create, join, leave, list, members, settings, pause.

use chrono::{DateTime, Utc};

use crate::app::{Actor, App, Error, Reply, Result, check_len};
use crate::domain::delivery::DeliveryKind;
use crate::domain::recurrence::CronSchedule;
use crate::domain::zone::Zone;
use crate::store::{checkins, circles as store, commitments};

pub struct CreateCircle<'a> {
    pub name: &'a str,
    /// The channel the command was used in, unless another was named.
    pub channel_id: &'a str,
    pub zone: Option<&'a str>,
}

/// Organiser settings; None leaves a setting as it is.
#[derive(Debug, Default)]
pub struct CircleSettings<'a> {
    pub circle: Option<&'a str>,
    pub channel_id: Option<&'a str>,
    pub zone: Option<&'a str>,
    pub schedule: Option<(&'a str, &'a str)>,
    pub review_window_days: Option<i64>,
}

fn circle_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::user(
            "A circle needs a name, e.g. `/circle create name:PM Circle`.",
        ));
    }
    check_len("A circle name", name, 100)?;
    if name.chars().any(char::is_control) {
        return Err(Error::user(
            "A circle name can't contain control characters.",
        ));
    }
    Ok(name.to_owned())
}

fn zone(text: &str) -> Result<Zone> {
    Zone::parse(text).map_err(|e| Error::user(e.to_string()))
}

impl App {
    pub async fn circle_create(&self, actor: &Actor, req: CreateCircle<'_>) -> Result<Reply> {
        let name = circle_name(req.name)?;
        let zone = match req.zone {
            Some(z) if !z.trim().is_empty() => zone(z)?,
            _ => self.schedule.default_zone,
        };
        let member = self.member(actor).await?;
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let Some(circle) = store::create_circle(
            &mut tx,
            member.server_id,
            &name,
            req.channel_id,
            zone.name(),
            now,
        )
        .await?
        else {
            return Err(Error::user(format!(
                "A circle called \"{name}\" already exists here; join it with `/circle join {name}`."
            )));
        };
        store::join(&mut tx, circle.id, member.id, "organiser", now).await?;
        tx.commit().await?;
        Ok(Reply::channel(format!(
            "Circle **{}** is open, with <@{}> as organiser. Times are in {} unless a member sets their own zone \
             (`/me timezone`).\nJoin with `/circle join {}`, then write your career spec with `/spec edit` and add \
             the classic commitment: `/commit add title:publish one post`.",
            circle.name, actor.user_id, zone, circle.name
        )))
    }

    pub async fn circle_join(&self, actor: &Actor, name: &str) -> Result<Reply> {
        let member = self.member(actor).await?;
        let name = circle_name(name)?;
        let circle = store::circles_of_server(&self.pool, member.server_id)
            .await?
            .into_iter()
            .find(|c| c.name.eq_ignore_ascii_case(&name))
            .ok_or_else(|| {
                Error::user(format!(
                    "There is no circle called \"{name}\" here. `/circle list` shows them."
                ))
            })?;
        let mut tx = self.pool.begin().await?;
        let joined = store::join(&mut tx, circle.id, member.id, "member", self.now()).await?;
        tx.commit().await?;
        if !joined {
            return Ok(Reply::private(format!(
                "You're already in **{}**.",
                circle.name
            )));
        }
        Ok(Reply::channel(format!(
            "Welcome to **{}**, <@{}>! Start with `/spec edit` (your 5-year vision and roadmap) and \
             `/commit add title:publish one post`.",
            circle.name, actor.user_id
        )))
    }

    pub async fn circle_leave(&self, actor: &Actor, name: Option<&str>) -> Result<Reply> {
        let member = self.member(actor).await?;
        let (circle, role) = self.circle_of(&member, name).await?;
        if role == "organiser" {
            let organisers = store::members_of_circle(&self.pool, circle.id)
                .await?
                .into_iter()
                .filter(|m| m.role == "organiser")
                .count();
            let everyone = store::members_of_circle(&self.pool, circle.id).await?.len();
            if organisers == 1 && everyone > 1 {
                return Err(Error::user(
                    "You're the circle's only organiser; make someone else organiser before leaving.",
                ));
            }
        }
        store::leave(&self.pool, circle.id, member.id).await?;
        Ok(Reply::private(format!(
            "You've left **{}**. Your spec, commitments and wins stay yours.",
            circle.name
        )))
    }

    pub async fn circle_list(&self, actor: &Actor) -> Result<Reply> {
        let member = self.member(actor).await?;
        let all = store::circles_of_server(&self.pool, member.server_id).await?;
        if all.is_empty() {
            return Ok(Reply::private(
                "No circles here yet. Start one with `/circle create NAME`.",
            ));
        }
        let mut text = String::from("Circles here:\n");
        for c in all {
            let n = store::members_of_circle(&self.pool, c.id).await?.len();
            text.push_str(&format!(
                "• **{}** ({n} member{})\n",
                c.name,
                if n == 1 { "" } else { "s" }
            ));
        }
        Ok(Reply::private(text))
    }

    /// Participation, not private content: open commitments by title and the last check-in's quarter.
    pub async fn circle_members(&self, actor: &Actor, name: Option<&str>) -> Result<Reply> {
        let member = self.member(actor).await?;
        let (circle, _) = self.circle_of(&member, name).await?;
        let mut text = format!("**{}** members:\n", circle.name);
        for m in store::members_of_circle(&self.pool, circle.id).await? {
            let open = commitments::open_of_member(&self.pool, m.member_id).await?;
            let last = checkins::of_member(&self.pool, m.member_id)
                .await?
                .into_iter()
                .find(|c| c.circle_id == circle.id)
                .map(|c| c.period)
                .unwrap_or_else(|| "none yet".to_owned());
            let titles: Vec<_> = open
                .iter()
                .map(|c| format!("{} ({})", c.title, c.cadence))
                .collect();
            text.push_str(&format!(
                "• {}{} ({}): {}; last check-in: {last}\n",
                m.display_name,
                if m.role == "organiser" {
                    " (organiser)"
                } else {
                    ""
                },
                m.zone,
                if titles.is_empty() {
                    "no open commitments".to_owned()
                } else {
                    titles.join(", ")
                }
            ));
        }
        check_len("The member list", &text, crate::app::MESSAGE_MAX).or_else(|_| {
            text = crate::schedule::render::truncate(&text, crate::app::MESSAGE_MAX);
            Ok::<(), Error>(())
        })?;
        Ok(Reply::private(text))
    }

    async fn organiser_circle(&self, actor: &Actor, name: Option<&str>) -> Result<store::Circle> {
        let member = self.member(actor).await?;
        let (circle, role) = self.circle_of(&member, name).await?;
        if role != "organiser" {
            return Err(Error::user(format!(
                "Only organisers of **{}** can change its settings.",
                circle.name
            )));
        }
        Ok(circle)
    }

    pub async fn circle_settings(&self, actor: &Actor, req: CircleSettings<'_>) -> Result<Reply> {
        let circle = self.organiser_circle(actor, req.circle).await?;
        // Parse everything before writing anything, so a bad value changes nothing.
        let new_zone = req.zone.map(zone).transpose()?;
        let schedule = match req.schedule {
            Some((kind, text)) => {
                let kind: DeliveryKind =
                    kind.parse()
                        .map_err(|e: crate::domain::delivery::UnknownKind| {
                            Error::user(e.to_string())
                        })?;
                if kind.follows().is_some() || kind == DeliveryKind::OrganiserAlert {
                    return Err(Error::user(format!(
                        "The {} follows another schedule and can't be set on its own.",
                        kind.describe()
                    )));
                }
                let cron = CronSchedule::parse(text).map_err(|e| Error::user(e.to_string()))?;
                Some((kind, cron))
            }
            None => None,
        };
        let window = match req.review_window_days {
            Some(d) if !(1..=90).contains(&d) => {
                return Err(Error::user("The review window is between 1 and 90 days."));
            }
            Some(d) => i32::try_from(d).unwrap_or(14),
            None => circle.review_window_days,
        };
        let channel = req.channel_id.unwrap_or(&circle.home_channel_id);
        let zone_name = new_zone.map(|z| z.name()).unwrap_or(circle.zone.as_str());
        store::update_circle(&self.pool, circle.id, channel, zone_name, window).await?;
        if let Some((kind, cron)) = &schedule {
            store::set_recurrence(
                &self.pool,
                circle.id,
                kind.as_str(),
                cron.to_cron_text(),
                self.now(),
            )
            .await?;
        }
        let mut text = format!(
            "Settings of **{}**: home channel <#{channel}>, zone {zone_name}, review window {window} days.\n",
            circle.name
        );
        let overrides = store::recurrences(&self.pool, circle.id).await?;
        for kind in [
            DeliveryKind::MonthlyNudge,
            DeliveryKind::NudgeReminder,
            DeliveryKind::CheckinPrompt,
            DeliveryKind::DeepDive,
        ] {
            let cron = overrides
                .iter()
                .find(|(k, _)| k == kind.as_str())
                .and_then(|(_, c)| CronSchedule::parse(c).ok())
                .unwrap_or_else(|| self.default_schedule(kind));
            text.push_str(&format!(
                "• {}: {} (`{}`)\n",
                kind.describe(),
                cron.describe(),
                cron.to_cron_text()
            ));
        }
        Ok(Reply::private(text))
    }

    pub(crate) fn default_schedule(&self, kind: DeliveryKind) -> CronSchedule {
        match kind {
            DeliveryKind::NudgeReminder => self.schedule.nudge_reminder.clone(),
            DeliveryKind::CheckinPrompt
            | DeliveryKind::CheckinReminder
            | DeliveryKind::ReviewOpen
            | DeliveryKind::ReviewMidway
            | DeliveryKind::ReviewClose => self.schedule.checkin_prompt.clone(),
            DeliveryKind::DeepDive => self.schedule.deep_dive.clone(),
            DeliveryKind::MonthlyNudge | DeliveryKind::OrganiserAlert => {
                self.schedule.monthly_nudge.clone()
            }
        }
    }

    /// Pauses the circle (until a date, or until resumed); `resume` lifts it.
    pub async fn circle_pause(
        &self,
        actor: &Actor,
        name: Option<&str>,
        until: Option<DateTime<Utc>>,
        resume: bool,
    ) -> Result<Reply> {
        let circle = self.organiser_circle(actor, name).await?;
        if resume {
            store::set_pause(&self.pool, circle.id, false, None).await?;
            return Ok(Reply::channel(format!(
                "**{}** is back on: prompts resume at their next date.",
                circle.name
            )));
        }
        if let Some(u) = until
            && u <= self.now()
        {
            return Err(Error::user(
                "That date has already passed; pick one in the future.",
            ));
        }
        store::set_pause(&self.pool, circle.id, true, until).await?;
        Ok(Reply::channel(match until {
            Some(u) => format!(
                "**{}** is paused until {}. No prompts until then; enjoy the break.",
                circle.name,
                u.format("%Y-%m-%d")
            ),
            None => format!(
                "**{}** is paused until an organiser runs `/circle pause resume:true`.",
                circle.name
            ),
        }))
    }
}
