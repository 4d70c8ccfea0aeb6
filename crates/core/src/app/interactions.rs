//! Buttons and forms, which arrive anywhere (a DM has no server) and name what they act on in their ids.
//! The acting member is always the presser: a button forwarded to someone else acts on nothing of theirs.

use crate::app::{Actor, App, Error, Reply, Result};
use crate::domain::action::Action;
use crate::store::circles::{self as circles_store, Member};
use crate::store::commitments;

impl App {
    async fn members_of(&self, actor: &Actor) -> Result<Vec<Member>> {
        Ok(circles_store::members_of_user(&self.pool, actor.platform, &actor.user_id).await?)
    }

    async fn owner_of_commitment(&self, actor: &Actor, commitment_id: i64) -> Result<Member> {
        for m in self.members_of(actor).await? {
            if commitments::by_id(&self.pool, m.id, commitment_id)
                .await?
                .is_some()
            {
                return Ok(m);
            }
        }
        Err(Error::user(
            "That button belongs to someone else's commitment, or it no longer exists.",
        ))
    }

    async fn member_in_circle(&self, actor: &Actor, circle_id: i64) -> Result<Member> {
        for m in self.members_of(actor).await? {
            if circles_store::circles_of_member(&self.pool, m.id)
                .await?
                .iter()
                .any(|(c, _)| c.id == circle_id)
            {
                return Ok(m);
            }
        }
        Err(Error::user("You're not in that circle any more."))
    }

    pub async fn button(&self, actor: &Actor, custom_id: &str) -> Result<Reply> {
        match Action::parse(custom_id) {
            Some(Action::Done {
                commitment_id,
                period,
            }) => {
                let m = self.owner_of_commitment(actor, commitment_id).await?;
                self.commit_button(&m, commitment_id, &period, false).await
            }
            Some(Action::Skip {
                commitment_id,
                period,
            }) => {
                let m = self.owner_of_commitment(actor, commitment_id).await?;
                self.commit_button(&m, commitment_id, &period, true).await
            }
            Some(Action::Checkin { circle_id, period }) => {
                let m = self.member_in_circle(actor, circle_id).await?;
                self.checkin_form(actor, &m, circle_id, &period).await
            }
            Some(Action::Scorecard { circle_id, period }) => {
                let m = self.member_in_circle(actor, circle_id).await?;
                self.scorecard_form(actor, &m, circle_id, &period).await
            }
            Some(Action::Lived {
                evaluation_id,
                months,
            }) => self.lived_form(actor, evaluation_id, months).await,
            Some(Action::LandingStart { on }) => self.landing_start(actor, on).await,
            Some(Action::Landing { plan_id, day }) => self.landing_form(actor, plan_id, day).await,
            Some(Action::ConfirmDelete) => self.me_delete_confirmed(actor).await,
            Some(Action::CancelDelete) => Ok(Reply::private("Nothing was deleted.")),
            Some(Action::Reply { pending, choice }) => {
                self.reply_choice(actor, pending, choice).await
            }
            None => Err(Error::user(
                "That button is out of date; run the command again.",
            )),
        }
    }

    pub async fn form_submit(
        &self,
        actor: &Actor,
        custom_id: &str,
        fields: &[(String, String)],
    ) -> Result<Reply> {
        if custom_id == "cc:specform" {
            return self.spec_save(actor, fields).await;
        }
        if let Some(rest) = custom_id.strip_prefix("cc:checkinform:")
            && let Some((circle, period)) = rest.split_once(':')
            && let Ok(circle_id) = circle.parse::<i64>()
        {
            let m = self.member_in_circle(actor, circle_id).await?;
            return self
                .checkin_form_submit(actor, &m, circle_id, period, fields)
                .await;
        }
        if let Some(rest) = custom_id.strip_prefix("cc:scoreform:")
            && let Some((circle, period)) = rest.split_once(':')
            && let Ok(circle_id) = circle.parse::<i64>()
        {
            let m = self.member_in_circle(actor, circle_id).await?;
            return self
                .scorecard_form_submit(actor, &m, circle_id, period, fields)
                .await;
        }
        if let Some(rest) = custom_id.strip_prefix("cc:livedform:")
            && let Some((id, months)) = rest.split_once(':')
            && let (Ok(id), Ok(months)) = (id.parse::<i64>(), months.parse::<u32>())
        {
            return self.lived_form_submit(actor, id, months, fields).await;
        }
        if let Some(kind) = custom_id.strip_prefix("cc:eventform:") {
            return self.event_form_submit(actor, kind, fields).await;
        }
        if let Some(rest) = custom_id.strip_prefix("cc:landingform:")
            && let Some((id, day)) = rest.split_once(':')
            && let (Ok(id), Ok(day)) = (id.parse::<i64>(), day.parse::<u32>())
        {
            return self.landing_form_submit(actor, id, day, fields).await;
        }
        Err(Error::user(
            "That form is out of date; run the command again.",
        ))
    }
}
