//! Check-ins after major events (`/checkin event`, by form) and the 30/60/90-day landing plan after a new role.

use chrono::NaiveDate;

use crate::app::reply::{InputStyle, Modal, ModalInput};
use crate::app::{Actor, App, Error, Reply, Result, check_len};
use crate::chat::fit::clip;
use crate::chat::text::{Text, bold, cmd};
use crate::chat::{Button, ButtonStyle};
use crate::domain::action::Action;
use crate::domain::narrative::{EVENT_QUESTIONS, EventKind, LANDING, landing_date, landing_phase};
use crate::domain::period::local_date;
use crate::schedule::planner::LANDING_AT;
use crate::spans;
use crate::store::circles::Member;
use crate::store::events::{self as store, NewEvent};

/// What a member writes in one answer of the event form.
const EVENT_ANSWER_MAX: usize = 4000;

impl App {
    /// `/checkin event KIND [note]`: the short retrospective form, its first answer filled with the note.
    pub async fn checkin_event(
        &self,
        actor: &Actor,
        kind: &str,
        note: Option<&str>,
    ) -> Result<Reply> {
        let kind = EventKind::parse_user(kind).map_err(Error::user)?;
        // The member exists before the form comes back (the form names no member).
        self.member(actor).await?;
        let caps = self.caps(actor.platform);
        let max = EVENT_ANSWER_MAX.min(caps.form_input_max);
        let inputs = EVENT_QUESTIONS
            .iter()
            .take(caps.form_inputs_max)
            .map(|(key, label, required)| ModalInput {
                custom_id: (*key).to_owned(),
                label: clip(label, caps.input_label_max),
                style: InputStyle::Paragraph,
                value: (*key == "happened")
                    .then(|| note.map(|n| clip(n.trim(), max)))
                    .flatten()
                    .filter(|n| !n.is_empty()),
                required: *required,
                max_len: u16::try_from(max).unwrap_or(u16::MAX),
            })
            .collect();
        Ok(Reply::modal(Modal {
            custom_id: format!("cc:eventform:{}", kind.as_str()),
            title: clip(&format!("After a {}", kind.label()), caps.form_title_max),
            inputs,
        }))
    }

    /// The event form, submitted: stored beside the quarterly check-ins; a new role is offered a landing plan.
    pub async fn event_form_submit(
        &self,
        actor: &Actor,
        kind: &str,
        fields: &[(String, String)],
    ) -> Result<Reply> {
        let kind: EventKind = kind
            .parse()
            .map_err(|_| Error::user("That form is out of date."))?;
        let field = |k: &str| {
            fields
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.trim())
                .filter(|v| !v.is_empty())
        };
        let happened = field("happened").ok_or_else(|| {
            Error::user("Say what happened, in a line or two; the rest can wait.")
        })?;
        for (k, label, _) in EVENT_QUESTIONS {
            if let Some(v) = field(k) {
                check_len(label, v, EVENT_ANSWER_MAX)?;
            }
        }
        let member = self.member(actor).await?;
        let today = local_date(self.now(), self.zone_of(&member).await?);
        store::add_event(
            &self.pool,
            member.id,
            &NewEvent {
                kind,
                happened,
                learned: field("learned"),
                spec_change: field("spec_change"),
                happened_on: today,
            },
            self.now(),
        )
        .await?;
        let mut text = crate::text![
            format!("Stored your check-in after a {}: ", kind.label()),
            bold(clip(happened, 200))
        ];
        text.line(spans![
            "It's beside your quarterly check-ins in ",
            cmd("checkin history"),
            ", and your circle sees it in your next review post."
        ]);
        if field("spec_change").is_some() {
            text.line(spans![
                "You said your spec changes: ",
                cmd("spec edit"),
                " when you're ready."
            ]);
        }
        let mut reply = Reply::private(text);
        if kind.starts_a_role() {
            reply = self.offer_landing(reply, today);
        }
        Ok(reply)
    }

    /// Adds the landing plan's offer (its three phases and a button to start it) to a reply about a new role.
    pub(crate) fn offer_landing(&self, mut reply: Reply, started_on: NaiveDate) -> Reply {
        reply.text.blank();
        reply.text.line(spans![
            "A new role lands best with a plan. Would a 30/60/90-day one help?"
        ]);
        for (day, name, what) in LANDING {
            reply.text.item(spans![
                bold(format!("Days {}-{day}, {name}:", day - 29)),
                format!(" {what}.")
            ]);
        }
        reply.text.line(spans![format!(
            "I'd ask how each phase went on day 30, 60 and 90, at {:02}:{:02} your time.",
            LANDING_AT.0, LANDING_AT.1
        )]);
        reply.buttons.push(Button {
            custom_id: Action::LandingStart { on: started_on }.custom_id(),
            label: "Plan my first 90 days".to_owned(),
            style: ButtonStyle::Primary,
        });
        reply
    }

    /// The offer's button: the plan starts on the day the role began.
    pub async fn landing_start(&self, actor: &Actor, on: NaiveDate) -> Result<Reply> {
        let member = self.landing_member(actor).await?;
        let (_, made) = store::start_plan(&self.pool, member.id, on, self.now()).await?;
        if !made {
            return Ok(Reply::private(
                "Your landing plan is already set; I'll ask on day 30, 60 and 90.",
            ));
        }
        let mut text = Text::plain("Your landing plan is set. I'll ask how it went on:");
        for (day, name, _) in LANDING {
            text.item(spans![format!(
                "{}: day {day}, {name}",
                landing_date(on, day).format("%-d %B %Y")
            )]);
        }
        text.line(spans![
            "Start the listening tour this week: whom will you meet first?"
        ]);
        Ok(Reply::private(text))
    }

    /// The member a landing button or form acts for: the presser, on the server the plan belongs to.
    async fn landing_member(&self, actor: &Actor) -> Result<Member> {
        if actor.server.is_some() {
            return self.member(actor).await;
        }
        crate::store::circles::members_of_user(&self.pool, actor.platform, &actor.user_id)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Error::user("You're not in a circle any more."))
    }

    async fn plan_owner(
        &self,
        actor: &Actor,
        plan_id: i64,
    ) -> Result<(Member, store::LandingPlan)> {
        for m in crate::store::circles::members_of_user(&self.pool, actor.platform, &actor.user_id)
            .await?
        {
            if let Some(p) = store::plan_of_member(&self.pool, m.id, plan_id).await? {
                return Ok((m, p));
            }
        }
        Err(Error::user(
            "That button belongs to someone else's plan, or it no longer exists.",
        ))
    }

    /// The day-N question's button: a form for that phase's outcome.
    pub async fn landing_form(&self, actor: &Actor, plan_id: i64, day: u32) -> Result<Reply> {
        let (_, plan) = self.plan_owner(actor, plan_id).await?;
        let (_, name, what) =
            landing_phase(day).ok_or_else(|| Error::user("That button is out of date."))?;
        let caps = self.caps(actor.platform);
        let max = EVENT_ANSWER_MAX.min(caps.form_input_max);
        Ok(Reply::modal(Modal {
            custom_id: format!("cc:landingform:{plan_id}:{day}"),
            title: clip(&format!("Day {day}: {name}"), caps.form_title_max),
            inputs: vec![ModalInput {
                custom_id: "outcome".to_owned(),
                label: clip(&format!("How it went: {what}"), caps.input_label_max),
                style: InputStyle::Paragraph,
                value: plan
                    .outcomes
                    .iter()
                    .find(|(d, _, _)| *d == day)
                    .map(|(_, o, _)| clip(o, max)),
                required: true,
                max_len: u16::try_from(max).unwrap_or(u16::MAX),
            }],
        }))
    }

    pub async fn landing_form_submit(
        &self,
        actor: &Actor,
        plan_id: i64,
        day: u32,
        fields: &[(String, String)],
    ) -> Result<Reply> {
        let (_, plan) = self.plan_owner(actor, plan_id).await?;
        let (_, name, _) =
            landing_phase(day).ok_or_else(|| Error::user("That form is out of date."))?;
        let outcome = fields
            .iter()
            .find(|(k, _)| k == "outcome")
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Error::user("Say how the phase went, in a line or two."))?;
        check_len("The outcome", outcome, EVENT_ANSWER_MAX)?;
        store::record_outcome(&self.pool, plan.id, day, outcome, self.now()).await?;
        let next = LANDING.iter().find(|(d, _, _)| *d > day);
        let mut text = crate::text![
            format!(
                "Kept your day-{day} outcome ({name}). It goes in your next review post and your "
            ),
            cmd("story"),
            "."
        ];
        if let Some((d, n, what)) = next {
            text.line(spans![format!(
                "Next, days {}-{d}: {n}, {what}. I'll ask on {}.",
                d - 29,
                landing_date(plan.started_on, *d).format("%-d %B")
            )]);
        }
        Ok(Reply::private(text))
    }
}
