//! Quarterly check-ins by DM reply, by the prompt's Answer form, or by /checkin; and DM replies generally.

use crate::app::reply::{InputStyle, Modal, ModalInput};
use crate::app::{Actor, App, Error, Reply, Result};
use crate::chat::fit::clip;
use crate::chat::text::{Text, bold, cmd, code};
use crate::clock::to_chrono;
use crate::domain::checkin::{ANSWER_MAX, Answers, label_of, questions};
use crate::domain::delivery::DeliveryKind;
use crate::domain::period::{Period, local_date};
use crate::domain::spec::{Visibility, checkin_asks_stay_or_switch};
use crate::schedule::render::answers as answers_text;
use crate::spans;
use crate::store::circles::{self as circles_store, Member};
use crate::store::{checkins as store, deliveries};

impl App {
    /// `/checkin answers` in a server: the current quarter of the member's calendar.
    pub async fn checkin_command(
        &self,
        actor: &Actor,
        circle: Option<&str>,
        text: &str,
    ) -> Result<Reply> {
        let answers = Answers::free_text(text).map_err(Error::user)?;
        let member = self.member(actor).await?;
        let (circle, _) = self.circle_of(&member, circle).await?;
        let quarter =
            Period::containing_quarter(local_date(self.now(), self.zone_of(&member).await?));
        self.store_checkin(actor, &member, circle.id, quarter, &answers)
            .await
    }

    /// The form behind the prompt's Answer button, pre-filled with what the member wrote before.
    pub async fn checkin_form(
        &self,
        actor: &Actor,
        member: &Member,
        circle_id: i64,
        period: &str,
    ) -> Result<Reply> {
        let quarter =
            Period::parse_key(period).map_err(|_| Error::user("That button is out of date."))?;
        let caps = self.caps(actor.platform);
        let earlier = store::find(&self.pool, member.id, circle_id, quarter)
            .await?
            .map(|c| c.answers);
        let input_max = ANSWER_MAX.min(caps.form_input_max);
        // The member's phase words the questions, as the prompt did.
        let spec = crate::store::specs::current(&self.pool, member.id).await?;
        let zone = self.zone_of(member).await?;
        let phase = spec.as_ref().map(|s| s.phase);
        let stay_or_switch = spec
            .as_ref()
            .is_some_and(|s| checkin_asks_stay_or_switch(local_date(s.phase_since, zone), quarter));
        let inputs = questions(phase, stay_or_switch)
            .into_iter()
            .take(caps.form_inputs_max)
            .map(|(key, question)| ModalInput {
                custom_id: key.to_owned(),
                label: clip(label_of(key).unwrap_or(question), caps.input_label_max),
                style: InputStyle::Paragraph,
                value: earlier.as_ref().and_then(|a| {
                    a.fields
                        .iter()
                        .find(|(k, _)| k == key)
                        .map(|(_, v)| clip(v, input_max))
                }),
                required: false,
                max_len: u16::try_from(input_max).unwrap_or(u16::MAX),
            })
            .collect();
        Ok(Reply::modal(Modal {
            custom_id: format!("cc:checkinform:{circle_id}:{}", quarter.key()),
            title: clip(
                &format!("Check-in {}", quarter.label()),
                caps.form_title_max,
            ),
            inputs,
        }))
    }

    pub async fn checkin_form_submit(
        &self,
        actor: &Actor,
        member: &Member,
        circle_id: i64,
        period: &str,
        fields: &[(String, String)],
    ) -> Result<Reply> {
        let quarter =
            Period::parse_key(period).map_err(|_| Error::user("That form is out of date."))?;
        let answers = Answers::from_fields(fields).map_err(Error::user)?;
        self.store_checkin(actor, member, circle_id, quarter, &answers)
            .await
    }

    pub(crate) async fn store_checkin(
        &self,
        actor: &Actor,
        member: &Member,
        circle_id: i64,
        quarter: Period,
        answers: &Answers,
    ) -> Result<Reply> {
        let circle = circles_store::circles_of_member(&self.pool, member.id)
            .await?
            .into_iter()
            .find(|(c, _)| c.id == circle_id)
            .map(|(c, _)| c)
            .ok_or_else(|| Error::user("You're not in that circle any more."))?;
        let first = store::record(
            &self.pool,
            member.id,
            circle.id,
            quarter,
            answers,
            self.now(),
        )
        .await?;
        let mut text = crate::text![
            format!(
                "{} your {} check-in for ",
                if first { "Stored" } else { "Updated" },
                quarter.label()
            ),
            bold(&circle.name),
            ":"
        ];
        text.append(answers_text(answers));
        text.blank();
        text.line(spans![
            "You can edit it until the review closes; the earlier text is kept."
        ]);
        Ok(Reply::private(self.fit(actor, text, Some("checkin show"))))
    }

    /// A message in a DM with the bot: "done <link>" for the monthly nudge, otherwise an answer to an open
    /// check-in (the prompt it replies to, or the latest open one), otherwise a helpful pointer.
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
        let lower = trimmed.to_lowercase();
        if lower == "done" || lower.starts_with("done ") {
            let ids: Vec<i64> = members.iter().map(|m| m.id).collect();
            let since = self.now() - chrono::Duration::days(45);
            let nudged = deliveries::sent_prompts(
                &self.pool,
                &ids,
                &[DeliveryKind::MonthlyNudge, DeliveryKind::NudgeReminder],
                since,
            )
            .await?;
            let member_id = nudged.first().map(|p| p.member_id).unwrap_or(members[0].id);
            let member = members
                .iter()
                .find(|m| m.id == member_id)
                .unwrap_or(&members[0]);
            return self.commit_done_by_reply(actor, member, trimmed).await;
        }
        let ids: Vec<i64> = members.iter().map(|m| m.id).collect();
        let window = to_chrono(self.schedule.checkin_window + self.schedule.review_window);
        let open = deliveries::sent_prompts(
            &self.pool,
            &ids,
            &[DeliveryKind::CheckinPrompt, DeliveryKind::CheckinReminder],
            self.now() - window,
        )
        .await?;
        let target = reply_to
            .and_then(|id| open.iter().find(|p| p.message_id.as_deref() == Some(id)))
            .or_else(|| open.first());
        // Scorecard lines (`metric posts: 3`) are stored as values; any other text answers the check-in.
        let (lines, rest) = crate::domain::scorecard::take_lines(trimmed);
        if !lines.is_empty() {
            return self
                .scorecard_by_reply(actor, &members, target, lines, &rest)
                .await;
        }
        match target {
            Some(prompt) => {
                let answers = Answers::free_text(trimmed).map_err(Error::user)?;
                let member = members
                    .iter()
                    .find(|m| m.id == prompt.member_id)
                    .unwrap_or(&members[0]);
                self.store_checkin(actor, member, prompt.circle_id, prompt.period, &answers)
                    .await
            }
            None => Ok(Reply::private(crate::text![
                "No check-in is open right now, so I didn't store that. Reply ",
                code("done <link>"),
                " when you publish, log a win with ",
                cmd("win add"),
                ", or see ",
                cmd("help"),
                "."
            ])),
        }
    }
}

impl App {
    /// A check-in: one's own always; a circle-mate's only if they share their spec with the circle.
    pub async fn checkin_show(
        &self,
        actor: &Actor,
        other_user_id: Option<&str>,
        quarter: Option<&str>,
    ) -> Result<Reply> {
        let me = self.member(actor).await?;
        let owner = match other_user_id.filter(|id| *id != actor.user_id) {
            None => me.clone(),
            Some(id) => circles_store::find_member(&self.pool, me.server_id, id)
                .await?
                .ok_or_else(|| Error::user("That member hasn't used career-circle here."))?,
        };
        let zone = self.zone_of(&owner).await?;
        let period = match quarter.map(str::trim).filter(|q| !q.is_empty()) {
            Some(q) => match Period::parse_user(q).map_err(|e| Error::user(e.to_string()))? {
                p @ Period::Quarter { .. } => p,
                _ => return Err(Error::user("Name a quarter, like Q1 2027.")),
            },
            None => Period::containing_quarter(local_date(self.now(), zone)),
        };
        let mine = circles_store::circles_of_member(&self.pool, me.id).await?;
        let theirs = circles_store::circles_of_member(&self.pool, owner.id).await?;
        let shared_circles: Vec<i64> = theirs
            .iter()
            .filter(|(c, _)| mine.iter().any(|(d, _)| d.id == c.id))
            .map(|(c, _)| c.id)
            .collect();
        let visible = owner.id == me.id
            || crate::store::specs::current(&self.pool, owner.id)
                .await?
                .is_some_and(|s| s.visibility == Visibility::Circle);
        let not_shared = || {
            Error::user(format!(
                "{} hasn't shared a check-in for {}.",
                owner.display_name,
                period.label()
            ))
        };
        if !visible {
            return Err(not_shared());
        }
        let all = store::of_member(&self.pool, owner.id).await?;
        let found = all
            .iter()
            .find(|c| {
                c.period == period && (owner.id == me.id || shared_circles.contains(&c.circle_id))
            })
            .ok_or_else(|| {
                if owner.id == me.id {
                    Error::user(format!(
                        "You haven't checked in for {} yet.",
                        period.label()
                    ))
                } else {
                    not_shared()
                }
            })?;
        let edits = store::revisions(&self.pool, found.id).await?.len();
        let mut text = crate::text![
            bold(&owner.display_name),
            format!(
                ", {} check-in (written {}{}):",
                period.label(),
                found.submitted_at.format("%Y-%m-%d"),
                if edits > 0 {
                    format!(", edited {edits} time(s)")
                } else {
                    String::new()
                }
            )
        ];
        text.append(answers_text(&found.answers));
        Ok(Reply::private(self.fit(actor, text, None)))
    }

    pub async fn checkin_history(&self, actor: &Actor) -> Result<Reply> {
        let me = self.member(actor).await?;
        let all = store::of_member(&self.pool, me.id).await?;
        if all.is_empty() {
            return Ok(Reply::private(
                "No check-ins yet. The next prompt arrives on the first Monday of the quarter.",
            ));
        }
        let mut text = Text::plain("Your check-ins:");
        for c in all.iter().take(20) {
            let first = c
                .answers
                .fields
                .first()
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            text.item(spans![format!(
                "{}: {}",
                c.period.label(),
                clip(&first, 120)
            )]);
        }
        Ok(Reply::private(self.fit(actor, text, None)))
    }
}
