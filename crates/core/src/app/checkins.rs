//! Quarterly check-ins by the prompt's Answer form or by /checkin, shown and listed with their revisions. DMs that
//! answer a check-in are sorted out in `replies`.

use crate::app::reply::{InputStyle, Modal, ModalInput};
use crate::app::{Actor, App, Error, Reply, Result};
use crate::chat::fit::clip;
use crate::chat::text::{Text, bold, cmd};
use crate::domain::checkin::{ANSWER_MAX, Answers, label_of, questions};
use crate::domain::period::{Period, local_date};
use crate::domain::spec::{Visibility, checkin_asks_stay_or_switch};
use crate::schedule::render::answers as answers_text;
use crate::spans;
use crate::store::checkins as store;
use crate::store::circles::{self as circles_store, Member};

/// How a change meets the answer already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    /// The new words take the place of the old (which are kept as a revision).
    Replace,
    /// The new words are added after the old (which are kept as a revision too).
    Append,
}

/// Earlier versions shown under a check-in.
const REVISIONS_SHOWN: usize = 5;

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
        self.store_checkin(actor, &member, circle.id, quarter, &answers, Write::Replace)
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
        let asked: Vec<(&str, &str)> = questions(phase, stay_or_switch)
            .into_iter()
            .take(caps.form_inputs_max)
            .collect();
        // An earlier answer longer than this chat's inputs hold (a long reply on Slack) is not put in a form that
        // would save it shortened: the member changes it where it fits, as with the spec.
        if let Some((key, n)) = earlier.as_ref().and_then(|a| {
            a.fields
                .iter()
                .filter(|(k, _)| asked.iter().any(|(q, _)| q == k))
                .map(|(k, v)| (k.as_str(), v.chars().count()))
                .find(|(_, n)| *n > input_max)
        }) {
            return Err(Error::user(format!(
                "Your answer to \"{}\" is {n} characters, more than this chat's forms hold ({input_max}). Change \
                 it with /checkin answer or a reply to the prompt, so nothing of it is cut.",
                label_of(key).unwrap_or(key)
            )));
        }
        let inputs = asked
            .into_iter()
            .map(|(key, question)| ModalInput {
                custom_id: key.to_owned(),
                label: clip(label_of(key).unwrap_or(question), caps.input_label_max),
                style: InputStyle::Paragraph,
                value: earlier.as_ref().and_then(|a| {
                    a.fields
                        .iter()
                        .find(|(k, _)| k == key)
                        .map(|(_, v)| v.clone())
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
        self.store_checkin(actor, member, circle_id, quarter, &answers, Write::Replace)
            .await
    }

    /// Stores a check-in answer: the first one, or a change that keeps the earlier text as a revision (a form,
    /// `/checkin answer`, a choice the member made about a DM). Refused once the check-in has had as many changes
    /// as the limits allow.
    pub(crate) async fn store_checkin(
        &self,
        actor: &Actor,
        member: &Member,
        circle_id: i64,
        quarter: Period,
        answers: &Answers,
        write: Write,
    ) -> Result<Reply> {
        let circle = circles_store::circles_of_member(&self.pool, member.id)
            .await?
            .into_iter()
            .find(|(c, _)| c.id == circle_id)
            .map(|(c, _)| c)
            .ok_or_else(|| Error::user("You're not in that circle any more."))?;
        let earlier = store::find(&self.pool, member.id, circle.id, quarter).await?;
        let answers = match &earlier {
            Some(existing) => {
                let changes = store::revisions(&self.pool, existing.id).await?.len();
                let max = usize::try_from(self.limits.checkin_revisions).unwrap_or(usize::MAX);
                if changes >= max {
                    return Err(Error::user(crate::text![
                        format!("Your {} check-in for ", quarter.label()),
                        bold(&circle.name),
                        format!(
                            " has been changed {changes} times, the most this community allows; it stays as it is. \
                             "
                        ),
                        cmd("checkin show"),
                        " shows it and its earlier versions."
                    ]));
                }
                match write {
                    Write::Append => existing.answers.appended(answers).map_err(Error::user)?,
                    Write::Replace => answers.clone(),
                }
            }
            None => answers.clone(),
        };
        store::record(
            &self.pool,
            member.id,
            circle.id,
            quarter,
            &answers,
            self.now(),
        )
        .await?;
        let verb = match (&earlier, write) {
            (None, _) => "Stored your",
            (Some(_), Write::Replace) => "Updated your",
            (Some(_), Write::Append) => "Added that to your",
        };
        let mut text = crate::text![
            format!("{verb} {} check-in for ", quarter.label()),
            bold(&circle.name),
            ":"
        ];
        text.append(answers_text(&answers));
        text.blank();
        text.line(spans![
            "You can edit it until the review closes; the earlier text is kept."
        ]);
        Ok(Reply::private(self.fit(actor, text, Some("checkin show"))))
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
        let revisions = store::revisions(&self.pool, found.id).await?;
        let edits = revisions.len();
        let mut text = crate::text![
            bold(&owner.display_name),
            format!(
                ", {} check-in (written {}{}):",
                period.label(),
                found.submitted_at.format("%Y-%m-%d"),
                match edits {
                    0 => String::new(),
                    1 => ", edited once".to_owned(),
                    n => format!(", edited {n} times"),
                }
            )
        ];
        text.append(answers_text(&found.answers));
        if !revisions.is_empty() {
            text.blank();
            text.line(spans![format!(
                "Earlier version{}:",
                if edits == 1 { "" } else { "s" }
            )]);
            for (answers, at) in revisions.iter().rev().take(REVISIONS_SHOWN) {
                let first = answers
                    .fields
                    .first()
                    .map(|(_, v)| v.as_str())
                    .unwrap_or_default();
                text.item(spans![format!(
                    "{}: {}",
                    at.format("%Y-%m-%d %H:%M UTC"),
                    clip(first, 160)
                )]);
            }
            if edits > REVISIONS_SHOWN {
                text.line(spans![
                    format!("… and {} older; ", edits - REVISIONS_SHOWN),
                    cmd("me export"),
                    " has them all."
                ]);
            }
        }
        Ok(Reply::private(self.fit(actor, text, None)))
    }

    pub async fn checkin_history(&self, actor: &Actor) -> Result<Reply> {
        let me = self.member(actor).await?;
        let all = store::of_member(&self.pool, me.id).await?;
        let events = crate::store::events::events_of(&self.pool, me.id).await?;
        if all.is_empty() && events.is_empty() {
            return Ok(Reply::private(
                "No check-ins yet. The next prompt arrives on the first Monday of the quarter.",
            ));
        }
        let mut text = Text::plain("Your check-ins:");
        if !events.is_empty() {
            text.line(spans![bold("After major events:")]);
            for e in events.iter().take(10) {
                text.item(spans![format!(
                    "{} ({}): {}",
                    e.kind.label(),
                    e.happened_on,
                    clip(&e.happened, 120)
                )]);
            }
            if !all.is_empty() {
                text.line(spans![bold("Quarterly:")]);
            }
        }
        for c in all.iter().take(20) {
            let first = c
                .answers
                .fields
                .first()
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let revisions = store::revisions(&self.pool, c.id).await?.len();
            text.item(spans![format!(
                "{}: {}{}",
                c.period.label(),
                clip(&first, 120),
                match revisions {
                    0 => String::new(),
                    1 => " (1 earlier version)".to_owned(),
                    n => format!(" ({n} earlier versions)"),
                }
            )]);
        }
        Ok(Reply::private(self.fit(actor, text, None)))
    }
}
