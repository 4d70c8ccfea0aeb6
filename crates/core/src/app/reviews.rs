//! Review threads from the members' side: feedback captured from thread messages, /review start, status, feedback.

use crate::app::{Actor, App, Error, Reply, Result};
use crate::chat::ThreadRef;
use crate::chat::fit::clip;
use crate::chat::text::{Text, bold, channel, cmd};
use crate::domain::delivery::{DeliveryKind, DeliveryStatus};
use crate::domain::membership::Role;
use crate::domain::period::{Period, local_date};
use crate::domain::review::ReviewProblem;
use crate::spans;
use crate::store::circles as circles_store;
use crate::store::{deliveries, planner as planner_store, reviews};

/// Feedback is a few honest lines; a reply longer than this is kept to this length.
const FEEDBACK_MAX: usize = 4000;

impl App {
    /// A message in a server channel: in an open review thread, a reply to (or mention of) a member's post is
    /// stored as feedback for that member; a reply to an offer shared for a second opinion is stored as an opinion on
    /// it. Anything else is none of the bot's business and is ignored.
    pub async fn channel_message(
        &self,
        actor: &Actor,
        thread: &ThreadRef,
        message_id: &str,
        content: &str,
        reply_to: Option<&str>,
        mentions: &[String],
    ) -> Result<bool> {
        let Some(thread) = reviews::by_thread(&self.pool, actor.platform, thread).await? else {
            // Not a review thread: perhaps a reply to an offer a member asked their circle about.
            return self
                .second_opinion_reply(actor, thread, message_id, content, reply_to)
                .await;
        };
        if thread.closed_at.is_some() || content.trim().is_empty() {
            return Ok(false);
        }
        let author = self.member(actor).await?;
        let members = circles_store::members_of_circle(&self.pool, thread.circle_id).await?;
        if !members.iter().any(|m| m.member_id == author.id) {
            return Ok(false);
        }
        let posts = reviews::posts(&self.pool, thread.id).await?;
        // A reply to a story shared into the thread is feedback for its author, like a reply to their post.
        let story = match reply_to {
            Some(r) => crate::store::feedback::story_author(&self.pool, thread.id, r).await?,
            None => None,
        };
        // A reply to another reader's feedback is feedback for the same member, pulling the other way.
        let answered = match reply_to {
            Some(r) => crate::store::feedback::by_message(&self.pool, thread.id, r).await?,
            None => None,
        };
        let subject = reply_to
            .and_then(|r| posts.iter().find(|(_, msg)| msg == r).map(|(m, _)| *m))
            .or(story)
            .or(answered.map(|(_, subject)| subject))
            .or_else(|| {
                mentions
                    .iter()
                    .find_map(|u| {
                        members.iter().find(|m| {
                            &m.platform_user_id == u && posts.iter().any(|(p, _)| *p == m.member_id)
                        })
                    })
                    .map(|m| m.member_id)
            });
        let Some(subject) = subject.filter(|s| *s != author.id) else {
            return Ok(false);
        };
        let text = clip(content.trim(), FEEDBACK_MAX);
        let added = reviews::add_feedback(
            &self.pool,
            thread.id,
            author.id,
            subject,
            message_id,
            &text,
            self.now(),
        )
        .await?;
        if added && let Some((earlier, for_whom)) = answered.filter(|(_, s)| *s == subject) {
            crate::store::feedback::set_answers(&self.pool, thread.id, message_id, earlier).await?;
            tracing::debug!(
                earlier,
                subject = for_whom,
                "feedback answers earlier feedback"
            );
        }
        Ok(added)
    }

    /// Organisers: open the review for the current quarter now instead of waiting for the schedule. The opening
    /// goes through the outbox like the scheduled one, so the two can never make two threads.
    pub async fn review_start(&self, actor: &Actor, circle: Option<&str>) -> Result<Reply> {
        let member = self.member(actor).await?;
        let (circle, role) = self.circle_of(&member, circle).await?;
        if role != Role::Organiser {
            return Err(Error::user(crate::text![
                "Only organisers of ",
                bold(&circle.name),
                " can start a review."
            ]));
        }
        let quarter = Period::containing_quarter(local_date(self.now(), circle.zone));
        if let Some(t) = reviews::find(&self.pool, circle.id, quarter).await? {
            if t.closed_at.is_some() {
                return Err(Error::user(format!(
                    "The {} review has already closed.",
                    quarter.label()
                )));
            }
            return self.retry_review(actor, &circle, &t).await;
        }
        let queued = planner_store::schedule_circle_delivery(
            &self.pool,
            DeliveryKind::ReviewOpen,
            circle.id,
            quarter,
            self.now(),
            self.now(),
        )
        .await?;
        if !queued {
            return Err(Error::user(format!(
                "The {} review is already on its way.",
                quarter.label()
            )));
        }
        Ok(Reply::channel(crate::text![
            "Opening the ",
            bold(format!("{} review", quarter.label())),
            format!(" of {} now.", circle.name)
        ]))
    }

    /// `/review start` on a review that exists: a failed opening or summary is tried again. A review whose home
    /// channel is gone moves to the channel the command was used in.
    async fn retry_review(
        &self,
        actor: &Actor,
        circle: &circles_store::Circle,
        t: &reviews::ReviewThread,
    ) -> Result<Reply> {
        let quarter = t.period;
        if t.thread.is_none() {
            let step =
                deliveries::circle_step(&self.pool, DeliveryKind::ReviewOpen, circle.id, quarter)
                    .await?;
            if !matches!(step, Some((DeliveryStatus::Failed, _))) {
                return Err(Error::user(format!(
                    "The {} review is already on its way.",
                    quarter.label()
                )));
            }
            let mut home = circle.home_channel_id.clone();
            if t.problem.as_deref() == Some(ReviewProblem::ChannelGone.as_str())
                && let Some(here) = actor.channel_id.as_deref().filter(|c| *c != home)
            {
                circles_store::update_circle(
                    &self.pool,
                    circle.id,
                    here,
                    circle.zone,
                    circle.review_window_days,
                )
                .await?;
                home = here.to_owned();
            }
            deliveries::retry_failed_step(
                &self.pool,
                DeliveryKind::ReviewOpen,
                circle.id,
                quarter,
                self.now(),
            )
            .await?;
            let mut text = crate::text![
                "Trying the ",
                bold(format!("{} review", quarter.label())),
                format!(" of {} again in ", circle.name),
                channel(&home),
                "."
            ];
            if home != circle.home_channel_id {
                text.line(spans![
                    "Its old home channel is gone, so this channel is the circle's home now (",
                    cmd("circle settings channel:#channel"),
                    " changes it)."
                ]);
            }
            return Ok(Reply::channel(text));
        }
        let close =
            deliveries::circle_step(&self.pool, DeliveryKind::ReviewClose, circle.id, quarter)
                .await?;
        if matches!(close, Some((DeliveryStatus::Failed, _))) {
            deliveries::retry_failed_step(
                &self.pool,
                DeliveryKind::ReviewClose,
                circle.id,
                quarter,
                self.now(),
            )
            .await?;
            return Ok(Reply::channel(crate::text![
                "Trying to post the ",
                bold(format!("{} review", quarter.label())),
                format!(" summary of {} again.", circle.name)
            ]));
        }
        Err(Error::user(format!(
            "The {} review is already open.",
            quarter.label()
        )))
    }

    /// After an organiser changes the home channel: reviews that failed for want of one try again.
    pub(crate) async fn retry_reviews_after_fix(
        &self,
        circle: &circles_store::Circle,
    ) -> Result<u32> {
        let quarter = Period::containing_quarter(local_date(self.now(), circle.zone));
        let mut retried = 0;
        for q in [quarter, quarter.prev()] {
            let Some(t) = reviews::find(&self.pool, circle.id, q).await? else {
                continue;
            };
            if t.closed_at.is_some() || t.problem.is_none() {
                continue;
            }
            let kind = if t.thread.is_none() {
                DeliveryKind::ReviewOpen
            } else {
                DeliveryKind::ReviewClose
            };
            if deliveries::retry_failed_step(&self.pool, kind, circle.id, q, self.now()).await? {
                retried += 1;
            }
        }
        Ok(retried)
    }

    /// Who still owes feedback in the open review (names only; nobody is tagged).
    pub async fn review_status(&self, actor: &Actor, circle: Option<&str>) -> Result<Reply> {
        let member = self.member(actor).await?;
        let (circle, _) = self.circle_of(&member, circle).await?;
        let quarter = Period::containing_quarter(local_date(self.now(), circle.zone));
        let thread = match reviews::find(&self.pool, circle.id, quarter).await? {
            Some(t) => t,
            None => match reviews::find(&self.pool, circle.id, quarter.prev()).await? {
                Some(t) => t,
                None => {
                    return Ok(Reply::private(format!(
                        "No review is open for {} yet.",
                        circle.name
                    )));
                }
            },
        };
        let label = thread.period.label();
        if thread.closed_at.is_some() {
            return Ok(Reply::private(format!("The {label} review has closed.")));
        }
        if let Some(problem) = thread.problem.as_deref() {
            let step = if thread.thread.is_none() {
                "couldn't open"
            } else {
                "couldn't post its summary"
            };
            let why = match problem.parse::<ReviewProblem>() {
                Ok(ReviewProblem::ChannelGone) => "the home channel is gone",
                Ok(ReviewProblem::NoPermission) => "I'm missing permissions in the home channel",
                _ => "the platform refused it",
            };
            return Ok(Reply::private(crate::text![
                format!("The {label} review {step}: {why}. An organiser can fix that and run "),
                cmd("review start"),
                " to try again."
            ]));
        }
        let owed = crate::schedule::review::owed(&self.pool, &thread).await?;
        let members = circles_store::members_of_circle(&self.pool, circle.id).await?;
        let name = |id: i64| {
            members
                .iter()
                .find(|m| m.member_id == id)
                .map(|m| m.display_name.clone())
                .unwrap_or_default()
        };
        if owed.is_empty() {
            return Ok(Reply::private(format!(
                "Everyone has written their feedback in the {label} review."
            )));
        }
        let mut text = Text::plain(format!(
            "{label} review, closing {}. Still owed:",
            thread.closes_at.format("%Y-%m-%d")
        ));
        for (reviewer, reviewees) in owed {
            text.item(spans![format!(
                "{} → {}",
                name(reviewer),
                reviewees
                    .iter()
                    .map(|e| name(*e))
                    .collect::<Vec<_>>()
                    .join(", ")
            )]);
        }
        Ok(Reply::private(self.fit(actor, text, None)))
    }
}
