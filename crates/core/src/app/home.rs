//! A member's dashboard, for a platform that has a place for one (Slack's Home tab): the circles they are in, their
//! commitments with this month's state and streaks, the check-ins they can answer now (with the prompt's own Answer
//! button), their spec's vision and phase, and their recent wins. Where a command shows the same, the part is its
//! answer, so the dashboard and the commands never disagree.

use crate::app::{Actor, App, Reply, Result};
use crate::chat::commands::Command;
use crate::chat::fit::clip;
use crate::chat::text::{Text, bold, channel, cmd};
use crate::domain::membership::Role;
use crate::domain::period::local_date;
use crate::schedule::render::checkin::answer_button;
use crate::spans;
use crate::store::circles as circles_store;
use crate::store::specs;

/// Enough of the vision to recognise it; `/spec show` has all of it.
const VISION_SHOWN: usize = 300;

/// One part of the dashboard: its title and what it shows.
#[derive(Debug, Clone)]
pub struct Section {
    pub title: &'static str,
    pub reply: Reply,
}

impl App {
    pub async fn dashboard(&self, actor: &Actor) -> Vec<Section> {
        vec![
            Section {
                title: "Circles",
                reply: self.part(actor, self.your_circles(actor).await),
            },
            Section {
                title: "Commitments",
                reply: self.part(actor, self.dispatch(actor, Command::CommitList).await),
            },
            Section {
                title: "Check-in",
                reply: self.part(actor, self.open_checkin(actor).await),
            },
            Section {
                title: "Spec",
                reply: self.part(actor, self.vision_and_phase(actor).await),
            },
            Section {
                title: "Wins",
                reply: self.part(
                    actor,
                    self.dispatch(actor, Command::WinList { quarter: None })
                        .await,
                ),
            },
        ]
    }

    /// A part as the member should see it: a refusal ("you haven't written a spec yet") is its words.
    fn part(&self, actor: &Actor, result: Result<Reply>) -> Reply {
        let mut reply = result.unwrap_or_else(|e| Reply::private(e.to_user_text()));
        reply.text = self.fit(actor, reply.text, None);
        reply
    }

    /// The circles the member is in (`/circle list` shows every circle here, for joining).
    async fn your_circles(&self, actor: &Actor) -> Result<Reply> {
        let member = self.member(actor).await?;
        let mine = circles_store::circles_of_member(&self.pool, member.id).await?;
        if mine.is_empty() {
            return Ok(Reply::private(crate::text![
                "You're in no circle yet. ",
                cmd("circle list"),
                " shows the circles here."
            ]));
        }
        let mut text = Text::new();
        for (circle, role) in mine {
            let mut line = spans![bold(&circle.name), " in ", channel(&circle.home_channel_id)];
            if role == Role::Organiser {
                line.push(", which you organise".into());
            }
            if circle.paused {
                line.push(" (paused)".into());
            }
            text.item(line);
        }
        Ok(Reply::private(text))
    }

    /// The check-ins the member can answer now, each with the prompt's Answer button (it opens the same form).
    async fn open_checkin(&self, actor: &Actor) -> Result<Reply> {
        let members =
            circles_store::members_of_user(&self.pool, actor.platform, &actor.user_id).await?;
        let open = self.open_checkins(&members).await?;
        if open.is_empty() {
            return Ok(Reply::private(
                "No check-in is open now. The next one opens with the quarter's prompt.",
            ));
        }
        let caps = self.caps(actor.platform);
        let mut text = Text::new();
        let mut reply = Reply::private(Text::new());
        for c in open.iter().take(caps.buttons_max) {
            text.item(spans![
                format!("{} for ", c.period.label()),
                bold(&c.circle.name),
                if c.answered {
                    ": answered; you can change it until the review closes."
                } else {
                    ": not answered yet."
                }
            ]);
            let label = if open.len() == 1 {
                "Answer".to_owned()
            } else {
                clip(&format!("Answer: {}", c.circle.name), caps.button_label_max)
            };
            reply
                .buttons
                .push(answer_button(c.circle.id, c.period, &label));
        }
        reply.text = text;
        Ok(reply)
    }

    /// The spec in two lines: the vision, and the phase the member is in and since when.
    async fn vision_and_phase(&self, actor: &Actor) -> Result<Reply> {
        let member = self.member(actor).await?;
        let Some(spec) = specs::current(&self.pool, member.id).await? else {
            return Ok(Reply::private(crate::text![
                "You haven't written a spec yet. ",
                cmd("spec edit"),
                " opens the form."
            ]));
        };
        let since = local_date(spec.phase_since, self.zone_of(&member).await?);
        let mut text = Text::new();
        text.line(spans![bold("5-year vision")]);
        match spec.text.vision.trim() {
            "" => {
                text.line(spans!["(not written yet)"]);
            }
            vision => {
                text.quote(spans![clip(vision, VISION_SHOWN)]);
            }
        }
        text.line(spans![
            format!(
                "Phase: {}, since {}. ",
                spec.phase,
                since.format("%-d %B %Y")
            ),
            cmd("spec show"),
            " shows the whole spec."
        ]);
        Ok(Reply::private(text))
    }
}
