//! Quarterly check-ins by DM reply, by the prompt's Answer form, or by /checkin; and DM replies generally.

use crate::app::reply::{InputStyle, Modal, ModalInput};
use crate::app::{Actor, App, Error, Reply, Result};
use crate::domain::checkin::{ANSWER_MAX, Answers, QUESTIONS};
use crate::domain::period::{Period, local_date};
use crate::schedule::planner::to_chrono;
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
        self.store_checkin(&member, circle.id, &quarter.key(), &answers)
            .await
    }

    /// The form behind the prompt's Answer button, pre-filled with what the member wrote before.
    pub async fn checkin_form(
        &self,
        member: &Member,
        circle_id: i64,
        period: &str,
    ) -> Result<Reply> {
        let label = Period::parse_key(period)
            .map(|p| p.label())
            .map_err(|_| Error::user("That button is out of date."))?;
        let earlier = store::find(&self.pool, member.id, circle_id, period)
            .await?
            .map(|c| Answers::from_json(&c.answers));
        let inputs = QUESTIONS
            .iter()
            .map(|(key, question)| ModalInput {
                custom_id: (*key).to_owned(),
                label: crate::schedule::render::truncate(question, 45),
                style: InputStyle::Paragraph,
                value: earlier.as_ref().and_then(|a| {
                    a.fields
                        .iter()
                        .find(|(k, _)| k == key)
                        .map(|(_, v)| v.clone())
                }),
                required: false,
                max_len: u16::try_from(ANSWER_MAX).unwrap_or(4000),
            })
            .collect();
        Ok(Reply::modal(Modal {
            custom_id: format!("cc:checkinform:{circle_id}:{period}"),
            title: format!("Check-in {label}"),
            inputs,
        }))
    }

    pub async fn checkin_form_submit(
        &self,
        member: &Member,
        circle_id: i64,
        period: &str,
        fields: &[(String, String)],
    ) -> Result<Reply> {
        Period::parse_key(period).map_err(|_| Error::user("That form is out of date."))?;
        let answers = Answers::from_fields(fields).map_err(Error::user)?;
        self.store_checkin(member, circle_id, period, &answers)
            .await
    }

    async fn store_checkin(
        &self,
        member: &Member,
        circle_id: i64,
        period: &str,
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
            period,
            &answers.to_json(),
            self.now(),
        )
        .await?;
        let label = Period::parse_key(period)
            .map(|p| p.label())
            .unwrap_or_else(|_| period.to_owned());
        let summary = crate::schedule::render::truncate(&answers.render(), 1500);
        Ok(Reply::private(format!(
            "{} your {label} check-in for **{}**:\n{summary}\n\nYou can edit it until the review closes; the earlier text is kept.",
            if first { "Stored" } else { "Updated" },
            circle.name
        )))
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
            circles_store::members_of_user(&self.pool, actor.platform.as_str(), &actor.user_id)
                .await?;
        if members.is_empty() {
            return Ok(Reply::private(
                "Hi! I'm career-circle. Join or start a circle in your server with `/circle join` or `/circle create`; \
                 `/help` lists everything.",
            ));
        }
        let trimmed = text.trim();
        let lower = trimmed.to_lowercase();
        if lower == "done" || lower.starts_with("done ") {
            let ids: Vec<i64> = members.iter().map(|m| m.id).collect();
            let since = self.now() - chrono::Duration::days(45);
            let nudged = deliveries::sent_prompts(
                &self.pool,
                &ids,
                &["monthly_nudge".to_owned(), "nudge_reminder".to_owned()],
                since,
            )
            .await?;
            let member_id = nudged.first().map(|p| p.member_id).unwrap_or(members[0].id);
            let member = members
                .iter()
                .find(|m| m.id == member_id)
                .unwrap_or(&members[0]);
            return self.commit_done_by_reply(member, trimmed).await;
        }
        let ids: Vec<i64> = members.iter().map(|m| m.id).collect();
        let window = to_chrono(self.schedule.checkin_window + self.schedule.review_window);
        let open = deliveries::sent_prompts(
            &self.pool,
            &ids,
            &["checkin_prompt".to_owned(), "checkin_reminder".to_owned()],
            self.now() - window,
        )
        .await?;
        let target = reply_to
            .and_then(|id| open.iter().find(|p| p.message_id.as_deref() == Some(id)))
            .or_else(|| open.first());
        match target {
            Some(prompt) => {
                let answers = Answers::free_text(trimmed).map_err(Error::user)?;
                let member = members
                    .iter()
                    .find(|m| m.id == prompt.member_id)
                    .unwrap_or(&members[0]);
                self.store_checkin(member, prompt.circle_id, &prompt.period, &answers)
                    .await
            }
            None => Ok(Reply::private(
                "No check-in is open right now, so I didn't store that. Reply `done <link>` when you publish, log a \
                 win with `/win add`, or see `/help`.",
            )),
        }
    }
}
