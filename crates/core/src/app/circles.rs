//! /circle create, join, leave, list, members, settings, pause, organiser, remove; and membership following the
//! server (members who leave it, the bot removed from it and added back).

use chrono::{DateTime, Utc};

use crate::app::{Actor, App, Error, Reply, Result, check_len};
use crate::chat::Platform;
use crate::chat::text::{Text, bold, cmd, mention};
use crate::domain::delivery::DeliveryKind;
use crate::domain::membership::Role;
use crate::domain::recurrence::CronSchedule;
use crate::domain::zone::Zone;
use crate::settings::CreateCircles;
use crate::spans;
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
        return Err(Error::user(crate::text![
            "A circle needs a name, e.g. ",
            cmd("circle create name:PM Circle"),
            "."
        ]));
    }
    check_len("A circle name", name, 100)?;
    if name.chars().any(char::is_control) {
        return Err(Error::user(
            "A circle name can't contain control characters.",
        ));
    }
    // A name is shown in every circle message: it must not ping anyone, nor turn text around or hide itself.
    let lower = name.to_lowercase();
    if lower.contains("@everyone")
        || lower.contains("@here")
        || ["<@", "<#", "<!"].iter().any(|m| name.contains(m))
    {
        return Err(Error::user(
            "A circle name can't contain mentions (@everyone, @here, <@…>); pick plain words.",
        ));
    }
    if name.chars().any(bidi_control) {
        return Err(Error::user(
            "A circle name can't contain characters that reverse or reorder text.",
        ));
    }
    if name.chars().all(|c| c.is_whitespace() || invisible(c)) {
        return Err(Error::user("A circle name needs visible characters."));
    }
    Ok(name.to_owned())
}

/// Unicode's explicit direction controls (embeddings, overrides, isolates, marks).
fn bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{061C}')
}

/// Characters that take up no space when shown.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}')
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
        if self.circles.create == CreateCircles::Managers && !actor.manager {
            return Err(Error::user(
                "In this community only members who manage the server (the Manage Server permission) can start \
                 circles. Ask one of them, or join an existing circle with /circle join.",
            ));
        }
        let member = self.member(actor).await?;
        self.check_room_for_another_circle(&member).await?;
        let now = self.now();
        let mut tx = self.pool.begin().await?;
        let Some(circle) =
            store::create_circle(&mut tx, member.server_id, &name, req.channel_id, zone, now)
                .await?
        else {
            return Err(Error::user(crate::text![
                format!("A circle called \"{name}\" already exists here; join it with "),
                cmd(format!("circle join {name}")),
                "."
            ]));
        };
        store::join(&mut tx, circle.id, member.id, Role::Organiser, now).await?;
        tx.commit().await?;
        let mut text = Text::new();
        text.line(spans![
            "Circle ",
            bold(&circle.name),
            " is open, with ",
            mention(&actor.user_id),
            format!(" as organiser. Times are in {zone} unless a member sets their own zone ("),
            cmd("me timezone"),
            ")."
        ]);
        text.line(spans![
            "Join with ",
            cmd(format!("circle join {}", circle.name)),
            ", then write your career spec with ",
            cmd("spec edit"),
            " and add the classic commitment: ",
            cmd("commit add title:publish one post"),
            "."
        ]);
        Ok(Reply::channel(text))
    }

    pub async fn circle_join(&self, actor: &Actor, name: &str) -> Result<Reply> {
        let member = self.member(actor).await?;
        let name = circle_name(name)?;
        let circle = store::circles_of_server(&self.pool, member.server_id)
            .await?
            .into_iter()
            .find(|c| c.name.eq_ignore_ascii_case(&name))
            .ok_or_else(|| {
                Error::user(crate::text![
                    format!("There is no circle called \"{name}\" here. "),
                    cmd("circle list"),
                    " shows them."
                ])
            })?;
        let mine = store::circles_of_member(&self.pool, member.id).await?;
        if !mine.iter().any(|(c, _)| c.id == circle.id) {
            self.check_room_for_another_circle(&member).await?;
            let members = store::members_of_circle(&self.pool, circle.id).await?.len();
            if members >= usize::try_from(self.limits.members_per_circle).unwrap_or(usize::MAX) {
                return Err(Error::user(crate::text![
                    bold(&circle.name),
                    format!(
                        " is full: {members} members, the most this community allows in one circle. Start \
                         another with "
                    ),
                    cmd("circle create NAME"),
                    ", or ask an organiser to make room."
                ]));
            }
        }
        let mut tx = self.pool.begin().await?;
        let joined = store::join(&mut tx, circle.id, member.id, Role::Member, self.now()).await?;
        tx.commit().await?;
        if !joined {
            return Ok(Reply::private(crate::text![
                "You're already in ",
                bold(&circle.name),
                "."
            ]));
        }
        Ok(Reply::channel(crate::text![
            "Welcome to ",
            bold(&circle.name),
            ", ",
            mention(&actor.user_id),
            "! Start with ",
            cmd("spec edit"),
            " (your 5-year vision and roadmap) and ",
            cmd("commit add title:publish one post"),
            "."
        ]))
    }

    pub async fn circle_leave(&self, actor: &Actor, name: Option<&str>) -> Result<Reply> {
        let member = self.member(actor).await?;
        let (circle, role) = self.circle_of(&member, name).await?;
        if role == Role::Organiser {
            let organisers = store::members_of_circle(&self.pool, circle.id)
                .await?
                .into_iter()
                .filter(|m| m.role == Role::Organiser)
                .count();
            let everyone = store::members_of_circle(&self.pool, circle.id).await?.len();
            if organisers == 1 && everyone > 1 {
                return Err(Error::user(crate::text![
                    "You're the circle's only organiser; make someone else organiser before leaving: ",
                    cmd("circle organiser add @member"),
                    "."
                ]));
            }
        }
        store::leave(&self.pool, circle.id, member.id).await?;
        Ok(Reply::private(crate::text![
            "You've left ",
            bold(&circle.name),
            ". Your spec, commitments and wins stay yours."
        ]))
    }

    pub async fn circle_list(&self, actor: &Actor) -> Result<Reply> {
        let member = self.member(actor).await?;
        let all = store::circles_of_server(&self.pool, member.server_id).await?;
        if all.is_empty() {
            return Ok(Reply::private(crate::text![
                "No circles here yet. Start one with ",
                cmd("circle create NAME"),
                "."
            ]));
        }
        let mut text = Text::plain("Circles here:");
        for c in all {
            let n = store::members_of_circle(&self.pool, c.id).await?.len();
            text.item(spans![
                bold(&c.name),
                format!(" ({n} member{})", if n == 1 { "" } else { "s" })
            ]);
        }
        Ok(Reply::private(self.fit(actor, text, None)))
    }

    /// Participation, not private content: open commitments by title and the last check-in's quarter.
    pub async fn circle_members(&self, actor: &Actor, name: Option<&str>) -> Result<Reply> {
        let member = self.member(actor).await?;
        let (circle, _) = self.circle_of(&member, name).await?;
        let mut text = crate::text![bold(&circle.name), " members:"];
        for m in store::members_of_circle(&self.pool, circle.id).await? {
            let open = commitments::open_of_member(&self.pool, m.member_id).await?;
            let last = checkins::of_member(&self.pool, m.member_id)
                .await?
                .into_iter()
                .find(|c| c.circle_id == circle.id)
                .map(|c| c.period.key())
                .unwrap_or_else(|| "none yet".to_owned());
            let titles: Vec<_> = open
                .iter()
                .map(|c| format!("{} ({})", c.title, c.cadence))
                .collect();
            text.item(spans![format!(
                "{}{} ({}): {}; last check-in: {last}",
                m.display_name,
                if m.role == Role::Organiser {
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
            )]);
        }
        Ok(Reply::private(self.fit(actor, text, None)))
    }

    async fn organiser_circle(&self, actor: &Actor, name: Option<&str>) -> Result<store::Circle> {
        let member = self.member(actor).await?;
        let (circle, role) = self.circle_of(&member, name).await?;
        if role != Role::Organiser {
            return Err(Error::user(crate::text![
                "Only organisers of ",
                bold(&circle.name),
                " can change its settings."
            ]));
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
                if self.schedule.default_cron(kind).is_none() {
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
        let zone = new_zone.unwrap_or(circle.zone);
        store::update_circle(&self.pool, circle.id, channel, zone, window).await?;
        let retried = if channel != circle.home_channel_id {
            self.retry_reviews_after_fix(&circle).await?
        } else {
            0
        };
        if let Some((kind, cron)) = &schedule {
            store::set_recurrence(
                &self.pool,
                circle.id,
                *kind,
                cron.to_cron_text(),
                self.now(),
            )
            .await?;
        }
        let mut text = crate::text![
            "Settings of ",
            bold(&circle.name),
            ": home channel ",
            crate::chat::text::channel(channel),
            format!(", zone {zone}, review window {window} days.")
        ];
        let overrides = store::recurrences(&self.pool, circle.id).await?;
        for kind in DeliveryKind::SCHEDULED {
            let Some(default) = self.schedule.default_cron(kind) else {
                continue;
            };
            let cron = overrides
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, c)| c)
                .unwrap_or(default);
            text.item(spans![
                format!("{}: {} (", kind.describe(), cron.describe()),
                crate::chat::text::code(cron.to_cron_text()),
                ")"
            ]);
        }
        if retried > 0 {
            text.line(spans![
                "The review that couldn't reach the old channel is trying again in the new one."
            ]);
        }
        Ok(Reply::private(text))
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
            return Ok(Reply::channel(crate::text![
                bold(&circle.name),
                " is back on: prompts resume at their next date."
            ]));
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
            Some(u) => crate::text![
                bold(&circle.name),
                format!(
                    " is paused until {}. No prompts until then; enjoy the break.",
                    u.format("%Y-%m-%d")
                )
            ],
            None => crate::text![
                bold(&circle.name),
                " is paused until an organiser runs ",
                cmd("circle pause resume:true"),
                "."
            ],
        }))
    }

    /// A member may be in only so many circles on one server.
    async fn check_room_for_another_circle(&self, member: &store::Member) -> Result<()> {
        let mine = store::circles_of_member(&self.pool, member.id).await?;
        if mine.len() >= usize::try_from(self.limits.circles_per_member).unwrap_or(usize::MAX) {
            return Err(Error::user(crate::text![
                format!(
                    "You're in {} circles here, the most this community allows. Leave one with ",
                    mine.len()
                ),
                cmd("circle leave NAME"),
                " first."
            ]));
        }
        Ok(())
    }

    /// The circle's member named by platform user id, for organiser commands.
    async fn circle_member(
        &self,
        circle: &store::Circle,
        user_id: &str,
    ) -> Result<store::CircleMember> {
        store::members_of_circle(&self.pool, circle.id)
            .await?
            .into_iter()
            .find(|m| m.platform_user_id == user_id)
            .ok_or_else(|| {
                Error::user(crate::text![
                    "They aren't in ",
                    bold(&circle.name),
                    ". ",
                    cmd("circle members"),
                    " lists who is."
                ])
            })
    }

    /// `/circle organiser add|remove @member`: organisers share or hand over the role. A circle always keeps one.
    pub async fn circle_organiser(
        &self,
        actor: &Actor,
        action: &str,
        user_id: &str,
        name: Option<&str>,
    ) -> Result<Reply> {
        let circle = self.organiser_circle(actor, name).await?;
        let target = self.circle_member(&circle, user_id).await?;
        match action.trim().to_ascii_lowercase().as_str() {
            "add" => {
                if target.role == Role::Organiser {
                    return Ok(Reply::private(crate::text![
                        format!("{} already organises ", target.display_name),
                        bold(&circle.name),
                        "."
                    ]));
                }
                store::set_role(&self.pool, circle.id, target.member_id, Role::Organiser).await?;
                Ok(Reply::channel(crate::text![
                    mention(&target.platform_user_id),
                    " now organises ",
                    bold(&circle.name),
                    " too: settings, pauses and reviews are yours as well."
                ]))
            }
            "remove" => {
                if target.role != Role::Organiser {
                    return Ok(Reply::private(format!(
                        "{} isn't an organiser of {}.",
                        target.display_name, circle.name
                    )));
                }
                let organisers = store::members_of_circle(&self.pool, circle.id)
                    .await?
                    .into_iter()
                    .filter(|m| m.role == Role::Organiser)
                    .count();
                if organisers <= 1 {
                    return Err(Error::user(crate::text![
                        bold(&circle.name),
                        " needs an organiser; add another with ",
                        cmd("circle organiser add @member"),
                        " first."
                    ]));
                }
                store::set_role(&self.pool, circle.id, target.member_id, Role::Member).await?;
                Ok(Reply::private(crate::text![
                    format!("{} is a member of ", target.display_name),
                    bold(&circle.name),
                    " again, no longer an organiser."
                ]))
            }
            other => Err(Error::user(format!(
                "\"{}\" is neither add nor remove.",
                clip_word(other)
            ))),
        }
    }

    /// `/circle remove @member`: an organiser takes someone out of the circle. Their own records stay theirs.
    pub async fn circle_remove(
        &self,
        actor: &Actor,
        user_id: &str,
        name: Option<&str>,
    ) -> Result<Reply> {
        let circle = self.organiser_circle(actor, name).await?;
        if user_id == actor.user_id {
            return Err(Error::user(crate::text![
                "To leave yourself, use ",
                cmd(format!("circle leave {}", circle.name)),
                "."
            ]));
        }
        let target = self.circle_member(&circle, user_id).await?;
        store::leave(&self.pool, circle.id, target.member_id).await?;
        Ok(Reply::private(crate::text![
            format!("{} is no longer in ", target.display_name),
            bold(&circle.name),
            ": no more prompts from it, and no reading in its reviews. Their spec, commitments and wins stay \
             theirs."
        ]))
    }

    /// A member left the server (or was removed, or the platform no longer knows them): they leave its circles.
    /// No more prompts or readings; what they wrote stays theirs, and past summaries keep their name. Returns the
    /// number of circles they left.
    pub async fn member_left_server(
        &self,
        platform: Platform,
        server: &str,
        user_id: &str,
    ) -> Result<usize> {
        let Some(member) = store::find_member_on(&self.pool, platform, server, user_id).await?
        else {
            return Ok(0);
        };
        self.member_gone(member.id).await
    }

    /// Takes a member record out of all its circles, handing over organiser roles left empty.
    pub async fn member_gone(&self, member_id: i64) -> Result<usize> {
        Ok(store::member_gone(&self.pool, member_id, self.now()).await?)
    }

    /// The bot was removed from a server: its circles get nothing until it is back.
    pub async fn bot_removed_from(&self, platform: Platform, server: &str) -> Result<bool> {
        let changed =
            store::set_bot_removed(&self.pool, platform, server, Some(self.now())).await?;
        if changed {
            tracing::info!(%platform, "the bot was removed from a server; its circles are paused");
        }
        Ok(changed)
    }

    /// The bot is in a server (Discord sends GUILD_CREATE on every connect and when it is added back).
    pub async fn bot_present_in(&self, platform: Platform, server: &str) -> Result<bool> {
        let changed = store::set_bot_removed(&self.pool, platform, server, None).await?;
        if changed {
            tracing::info!(%platform, "the bot is back in a server; its circles resume");
        }
        Ok(changed)
    }
}

fn clip_word(text: &str) -> String {
    crate::chat::fit::clip(text, 20)
}
