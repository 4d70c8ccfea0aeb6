//! A DM to the bot is stored only where the member meant it.
//!
//! - A reply to a check-in prompt (or its reminder) is about that prompt's circle and quarter.
//! - A DM that replies to nothing, with one check-in open, is about that one; with several, the bot asks which.
//! - Words for a check-in that has no answer yet become the answer. Once there is one, the bot asks whether to
//!   append them, replace the answer (kept as a revision) or leave it. An acknowledgement ("thanks!", "ok", "👍")
//!   is never stored at all.
//! - "done <link>" follows the same rules: a reply to a nudge marks that nudge's month; with several servers'
//!   commitments the bot asks which; a different link for a month already done is not swapped in unasked.
//!
//! What the member has to choose about waits in `pending_replies`; the buttons carry only its id.

use std::collections::BTreeMap;

use crate::app::checkins::Write;
use crate::app::{Actor, App, Error, Reply, Result};
use crate::chat::fit::clip;
use crate::chat::text::{Text, bold, cmd, code};
use crate::chat::{Button, ButtonStyle};
use crate::clock::to_chrono;
use crate::domain::action::{Action, ReplyChoice};
use crate::domain::checkin::{Answers, is_acknowledgement};
use crate::domain::delivery::DeliveryKind;
use crate::domain::period::Period;
use crate::spans;
use crate::store::circles::{self as circles_store, Circle, Member};
use crate::store::replies::{self, ReplyKind};
use crate::store::{checkins, deliveries, reviews};

/// How much of a DM the bot quotes back when it asks about it.
const QUOTED: usize = 300;

/// How far back a nudge can be replied to with "done".
const NUDGE_REPLY_DAYS: i64 = 45;

/// A check-in the member can still answer.
#[derive(Debug, Clone)]
pub(crate) struct OpenCheckin {
    pub member: Member,
    pub circle: Circle,
    pub period: Period,
    /// The prompt and reminder messages a reply may answer.
    pub messages: Vec<String>,
    pub answered: bool,
}

fn is_done(text: &str) -> bool {
    let lower = text.trim().to_lowercase();
    lower == "done" || lower.starts_with("done ")
}

fn quoted(text: &str) -> Text {
    let mut t = Text::new();
    t.quote(spans![clip(text.trim(), QUOTED)]);
    t
}

impl App {
    /// The check-ins a platform user can answer now: prompted within the check-in and review windows, in a
    /// circle they are still in, whose review has not closed. Newest first.
    pub(crate) async fn open_checkins(&self, members: &[Member]) -> Result<Vec<OpenCheckin>> {
        let ids: Vec<i64> = members.iter().map(|m| m.id).collect();
        let window = to_chrono(self.schedule.checkin_window + self.schedule.review_window);
        let prompts = deliveries::sent_prompts(
            &self.pool,
            &ids,
            &[DeliveryKind::CheckinPrompt, DeliveryKind::CheckinReminder],
            self.now() - window,
        )
        .await?;
        let mut by_key: BTreeMap<(i64, i64, String), Vec<String>> = BTreeMap::new();
        let mut order: Vec<(i64, i64, Period)> = Vec::new();
        for p in &prompts {
            let key = (p.member_id, p.circle_id, p.period.key());
            if !by_key.contains_key(&key) {
                order.push((p.member_id, p.circle_id, p.period));
            }
            let messages = by_key.entry(key).or_default();
            if let Some(id) = &p.message_id {
                messages.push(id.clone());
            }
        }
        let mut open = Vec::new();
        for (member_id, circle_id, period) in order {
            let Some(member) = members.iter().find(|m| m.id == member_id) else {
                continue;
            };
            let Some((circle, _)) = circles_store::circles_of_member(&self.pool, member_id)
                .await?
                .into_iter()
                .find(|(c, _)| c.id == circle_id)
            else {
                continue;
            };
            if reviews::find(&self.pool, circle_id, period)
                .await?
                .is_some_and(|t| t.closed_at.is_some())
            {
                continue;
            }
            let answered = checkins::find(&self.pool, member_id, circle_id, period)
                .await?
                .is_some();
            open.push(OpenCheckin {
                member: member.clone(),
                circle,
                period,
                messages: by_key
                    .remove(&(member_id, circle_id, period.key()))
                    .unwrap_or_default(),
                answered,
            });
        }
        Ok(open)
    }

    /// A message in a DM with the bot: "done <link>" for the monthly commitment, words for an open check-in, or a
    /// pointer to what the bot can do.
    pub async fn dm_message(
        &self,
        actor: &Actor,
        text: &str,
        reply_to: Option<&str>,
    ) -> Result<Reply> {
        let members =
            circles_store::members_of_user(&self.pool, actor.platform, &actor.user_id).await?;
        if members.is_empty() {
            return Ok(Reply::private(crate::text![
                "Hi! I'm career-circle. Join or start a circle in your server with ",
                cmd("circle join"),
                " or ",
                cmd("circle create"),
                "; ",
                cmd("help"),
                " lists everything."
            ]));
        }
        let trimmed = text.trim();
        if is_done(trimmed) {
            return self.dm_done(actor, &members, trimmed, reply_to).await;
        }
        let open = self.open_checkins(&members).await?;
        let replied = reply_to.and_then(|id| {
            open.iter()
                .find(|o| o.messages.iter().any(|m| m == id))
                .cloned()
        });
        // Scorecard lines (`metric posts: 3`) are stored as values; the rest of the message, if any, answers the
        // check-in like any other words.
        let (lines, rest) = crate::domain::scorecard::take_lines(trimmed);
        if !lines.is_empty() {
            let target = replied.or_else(|| match open.as_slice() {
                [one] => Some(one.clone()),
                _ => None,
            });
            return self
                .scorecard_by_reply(actor, &members, target.as_ref(), open.len(), lines, &rest)
                .await;
        }
        if let Some(target) = replied {
            return self.dm_checkin(actor, &target, trimmed, None).await;
        }
        match open.as_slice() {
            [] if is_acknowledgement(trimmed) => Ok(Reply::private("Any time!")),
            [] => Ok(Reply::private(crate::text![
                "No check-in is open right now, so I didn't store that. Reply ",
                code("done <link>"),
                " when you publish, log a win with ",
                cmd("win add"),
                ", or see ",
                cmd("help"),
                "."
            ])),
            [one] => self.dm_checkin(actor, one, trimmed, None).await,
            _ if is_acknowledgement(trimmed) => {
                Ok(Reply::private("Any time! Your check-ins stay as they are."))
            }
            many => self.ask_which_circle(actor, many, trimmed).await,
        }
    }

    /// Words for one check-in: the answer if there is none yet, otherwise a question about what to do with them.
    /// `pending` is the waiting DM the words came from, if they waited.
    pub(crate) async fn dm_checkin(
        &self,
        actor: &Actor,
        target: &OpenCheckin,
        text: &str,
        pending: Option<i64>,
    ) -> Result<Reply> {
        if is_acknowledgement(text) {
            if let Some(id) = pending {
                replies::take(&self.pool, id).await?;
            }
            return Ok(Reply::private(if target.answered {
                crate::text![
                    "Any time! Your ",
                    format!("{} check-in for ", target.period.label()),
                    bold(&target.circle.name),
                    " stays as it is."
                ]
            } else {
                crate::text![
                    "Any time! When you're ready, reply to the check-in prompt for ",
                    bold(&target.circle.name),
                    " with your answers."
                ]
            }));
        }
        let answers = Answers::free_text(text).map_err(Error::user)?;
        if !target.answered {
            let reply = self
                .store_checkin(
                    actor,
                    &target.member,
                    target.circle.id,
                    target.period,
                    &answers,
                    Write::Replace,
                )
                .await?;
            if let Some(id) = pending {
                replies::take(&self.pool, id).await?;
            }
            return Ok(reply);
        }
        let id = match pending {
            Some(id) => {
                replies::set_target(&self.pool, id, target.circle.id, target.period).await?;
                id
            }
            None => {
                replies::add(
                    &self.pool,
                    target.member.id,
                    ReplyKind::Checkin,
                    text,
                    Some((target.circle.id, target.period)),
                    self.now(),
                )
                .await?
            }
        };
        let mut words = crate::text![
            format!(
                "You've already checked in for {} in ",
                target.period.label()
            ),
            bold(&target.circle.name),
            ". What should I do with this message?"
        ];
        words.append(quoted(text));
        words.line(spans![
            "Replacing keeps the earlier text as a revision; ",
            cmd("checkin show"),
            " lists them."
        ]);
        let button = |choice, label: &str, style| Button {
            custom_id: Action::Reply {
                pending: id,
                choice,
            }
            .custom_id(),
            label: label.to_owned(),
            style,
        };
        Ok(
            Reply::private(self.fit(actor, words, None)).with_buttons(vec![
                button(
                    ReplyChoice::Append,
                    "Add it to my check-in",
                    ButtonStyle::Primary,
                ),
                button(
                    ReplyChoice::Replace,
                    "Replace my check-in",
                    ButtonStyle::Secondary,
                ),
                button(ReplyChoice::Leave, "Leave it", ButtonStyle::Secondary),
            ]),
        )
    }

    /// Several check-ins are open and the DM replies to none: one button per circle.
    async fn ask_which_circle(
        &self,
        actor: &Actor,
        open: &[OpenCheckin],
        text: &str,
    ) -> Result<Reply> {
        let caps = self.caps(actor.platform);
        let id = replies::add(
            &self.pool,
            open[0].member.id,
            ReplyKind::Checkin,
            text,
            None,
            self.now(),
        )
        .await?;
        let mut labels: Vec<String> = Vec::new();
        let mut buttons = Vec::new();
        for o in open.iter().take(caps.buttons_max) {
            let mut label = clip(
                &format!("{} · {}", o.circle.name, o.period.label()),
                caps.button_label_max.saturating_sub(4),
            );
            if labels.contains(&label) {
                label = format!("{label} ({})", labels.len() + 1);
            }
            labels.push(label.clone());
            buttons.push(Button {
                custom_id: Action::Reply {
                    pending: id,
                    choice: ReplyChoice::Circle(o.circle.id),
                }
                .custom_id(),
                label,
                style: ButtonStyle::Primary,
            });
        }
        let mut words =
            Text::plain("You have more than one check-in open. Which circle is this message for?");
        words.append(quoted(text));
        words.line(spans![
            "Next time, reply to that circle's prompt and it goes straight there."
        ]);
        Ok(Reply::private(self.fit(actor, words, None)).with_buttons(buttons))
    }

    /// "done <link>": a reply to a nudge marks that nudge's month; otherwise the one server with an open monthly
    /// commitment, or the bot asks which.
    async fn dm_done(
        &self,
        actor: &Actor,
        members: &[Member],
        text: &str,
        reply_to: Option<&str>,
    ) -> Result<Reply> {
        let ids: Vec<i64> = members.iter().map(|m| m.id).collect();
        if let Some(id) = reply_to {
            let nudges = deliveries::sent_prompts(
                &self.pool,
                &ids,
                &[DeliveryKind::MonthlyNudge, DeliveryKind::NudgeReminder],
                self.now() - chrono::Duration::days(NUDGE_REPLY_DAYS),
            )
            .await?;
            if let Some(n) = nudges.iter().find(|n| n.message_id.as_deref() == Some(id))
                && let Some(member) = members.iter().find(|m| m.id == n.member_id)
            {
                return self.done_for(actor, member, text, None).await;
            }
        }
        let mut candidates = Vec::new();
        for m in members {
            if self.monthly_for_done(m).await.is_ok() {
                candidates.push(m.clone());
            }
        }
        match candidates.as_slice() {
            // The error of the first record says why (none, or several commitments to choose between).
            [] => self.done_for(actor, &members[0], text, None).await,
            [one] => self.done_for(actor, one, text, None).await,
            many => {
                let caps = self.caps(actor.platform);
                let id = replies::add(
                    &self.pool,
                    many[0].id,
                    ReplyKind::Done,
                    text,
                    None,
                    self.now(),
                )
                .await?;
                let mut buttons = Vec::new();
                for m in many.iter().take(caps.buttons_max) {
                    let circles: Vec<String> = circles_store::circles_of_member(&self.pool, m.id)
                        .await?
                        .into_iter()
                        .map(|(c, _)| c.name)
                        .collect();
                    let label = if circles.is_empty() {
                        "Another server".to_owned()
                    } else {
                        circles.join(", ")
                    };
                    buttons.push(Button {
                        custom_id: Action::Reply {
                            pending: id,
                            choice: ReplyChoice::Member(m.id),
                        }
                        .custom_id(),
                        label: clip(&label, caps.button_label_max),
                        style: ButtonStyle::Success,
                    });
                }
                let mut words = Text::plain(
                    "You keep a monthly commitment on more than one server. Which one is done?",
                );
                words.append(quoted(text));
                Ok(Reply::private(self.fit(actor, words, None)).with_buttons(buttons))
            }
        }
    }

    /// Marks the member's monthly commitment done from a DM; a different link for a month already done is asked
    /// about first (unless `replace` says the member chose to).
    async fn done_for(
        &self,
        actor: &Actor,
        member: &Member,
        text: &str,
        replace: Option<i64>,
    ) -> Result<Reply> {
        let link = Self::link_of_done(text)?;
        let (c, period) = self.monthly_for_done(member).await?;
        let earlier = self.done_link(member, &c, period).await?;
        if replace.is_none()
            && let (Some(Some(before)), Some(new)) = (&earlier, &link)
            && before != new
        {
            let id = replies::add(
                &self.pool,
                member.id,
                ReplyKind::Done,
                text,
                None,
                self.now(),
            )
            .await?;
            let words = crate::text![
                bold(&c.title),
                format!(" is already done for {} with ", period.label()),
                crate::chat::text::link(before.clone(), before.clone()),
                ". Use the new link instead?"
            ];
            let button = |choice, label: &str, style| Button {
                custom_id: Action::Reply {
                    pending: id,
                    choice,
                }
                .custom_id(),
                label: label.to_owned(),
                style,
            };
            return Ok(
                Reply::private(self.fit(actor, words, None)).with_buttons(vec![
                    button(
                        ReplyChoice::Replace,
                        "Use the new link",
                        ButtonStyle::Primary,
                    ),
                    button(ReplyChoice::Leave, "Keep the first", ButtonStyle::Secondary),
                ]),
            );
        }
        if let Some(id) = replace {
            replies::take(&self.pool, id).await?;
        }
        if earlier.is_some() && link.is_none() {
            return Ok(Reply::private(crate::text![
                bold(&c.title),
                format!(" is already done for {}; nothing changed.", period.label())
            ]));
        }
        self.commit_done_by_reply(actor, member, text).await
    }

    /// A button about a waiting DM. Only its writer can use it, and only once.
    pub(crate) async fn reply_choice(
        &self,
        actor: &Actor,
        pending: i64,
        choice: ReplyChoice,
    ) -> Result<Reply> {
        let stale = || Error::user("That question is out of date; send your message again.");
        let members =
            circles_store::members_of_user(&self.pool, actor.platform, &actor.user_id).await?;
        let waiting = replies::find(&self.pool, pending)
            .await?
            .filter(|p| members.iter().any(|m| m.id == p.member_id))
            .ok_or_else(stale)?;
        match (waiting.kind, choice) {
            (_, ReplyChoice::Leave) => {
                replies::take(&self.pool, pending).await?;
                Ok(Reply::private(
                    "Left as it was; I didn't store that message.",
                ))
            }
            (ReplyKind::Checkin, ReplyChoice::Circle(circle_id)) => {
                let open = self.open_checkins(&members).await?;
                let target = open
                    .iter()
                    .find(|o| o.circle.id == circle_id)
                    .ok_or_else(|| Error::user("That check-in is no longer open."))?;
                self.dm_checkin(actor, target, &waiting.text, Some(pending))
                    .await
            }
            (ReplyKind::Checkin, ReplyChoice::Append | ReplyChoice::Replace) => {
                let (circle_id, period) = waiting.target.ok_or_else(stale)?;
                let open = self.open_checkins(&members).await?;
                let target = open
                    .iter()
                    .find(|o| o.circle.id == circle_id && o.period == period)
                    .ok_or_else(|| Error::user("That check-in is no longer open."))?;
                let answers = Answers::free_text(&waiting.text).map_err(Error::user)?;
                let write = if choice == ReplyChoice::Append {
                    Write::Append
                } else {
                    Write::Replace
                };
                if !replies::take(&self.pool, pending).await? {
                    return Err(stale());
                }
                self.store_checkin(actor, &target.member, circle_id, period, &answers, write)
                    .await
            }
            (ReplyKind::Done, ReplyChoice::Member(member_id)) => {
                let member = members
                    .iter()
                    .find(|m| m.id == member_id)
                    .ok_or_else(stale)?;
                replies::take(&self.pool, pending).await?;
                self.done_for(actor, member, &waiting.text, None).await
            }
            (ReplyKind::Done, ReplyChoice::Replace) => {
                let member = members
                    .iter()
                    .find(|m| m.id == waiting.member_id)
                    .ok_or_else(stale)?;
                self.done_for(actor, member, &waiting.text, Some(pending))
                    .await
            }
            _ => Err(stale()),
        }
    }
}
