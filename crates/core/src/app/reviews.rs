//! Review threads from the members' side: feedback captured from thread messages, /review start, status, feedback.

use crate::app::{Actor, App, Error, Reply, Result};
use crate::domain::delivery::DeliveryKind;
use crate::domain::period::{Period, local_date};
use crate::domain::zone::Zone;
use crate::schedule::render::truncate;
use crate::store::circles as circles_store;
use crate::store::{planner as planner_store, reviews};

impl App {
    /// A message in a server channel: in an open review thread, a reply to (or mention of) a member's post is
    /// stored as feedback for that member. Anything else is none of the bot's business and is ignored.
    pub async fn channel_message(
        &self,
        actor: &Actor,
        channel_id: &str,
        message_id: &str,
        content: &str,
        reply_to: Option<&str>,
        mentions: &[String],
    ) -> Result<bool> {
        let Some(thread) = reviews::by_channel(&self.pool, channel_id).await? else {
            return Ok(false);
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
        let subject = reply_to
            .and_then(|r| posts.iter().find(|(_, msg)| msg == r).map(|(m, _)| *m))
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
        let text = truncate(content.trim(), 4000);
        Ok(reviews::add_feedback(
            &self.pool,
            thread.id,
            author.id,
            subject,
            message_id,
            &text,
            self.now(),
        )
        .await?)
    }

    /// Organisers: open the review for the current quarter now instead of waiting for the schedule. The opening
    /// goes through the outbox like the scheduled one, so the two can never make two threads.
    pub async fn review_start(&self, actor: &Actor, circle: Option<&str>) -> Result<Reply> {
        let member = self.member(actor).await?;
        let (circle, role) = self.circle_of(&member, circle).await?;
        if role != "organiser" {
            return Err(Error::user(format!(
                "Only organisers of **{}** can start a review.",
                circle.name
            )));
        }
        let zone = Zone::parse(&circle.zone).unwrap_or(Zone::UTC);
        let quarter = Period::containing_quarter(local_date(self.now(), zone));
        if let Some(t) = reviews::find(&self.pool, circle.id, &quarter.key()).await? {
            return Err(Error::user(if t.closed_at.is_some() {
                format!("The {} review has already closed.", quarter.label())
            } else {
                format!("The {} review is already open.", quarter.label())
            }));
        }
        let queued = planner_store::schedule_circle_delivery(
            &self.pool,
            DeliveryKind::ReviewOpen.as_str(),
            circle.id,
            &quarter.key(),
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
        Ok(Reply::channel(format!(
            "Opening the **{} review** of {} now.",
            quarter.label(),
            circle.name
        )))
    }

    /// Who still owes feedback in the open review (names only; nobody is tagged).
    pub async fn review_status(&self, actor: &Actor, circle: Option<&str>) -> Result<Reply> {
        let member = self.member(actor).await?;
        let (circle, _) = self.circle_of(&member, circle).await?;
        let zone = Zone::parse(&circle.zone).unwrap_or(Zone::UTC);
        let quarter = Period::containing_quarter(local_date(self.now(), zone));
        let thread = match reviews::find(&self.pool, circle.id, &quarter.key()).await? {
            Some(t) => t,
            None => match reviews::find(&self.pool, circle.id, &quarter.prev().key()).await? {
                Some(t) => t,
                None => {
                    return Ok(Reply::private(format!(
                        "No review is open for {} yet.",
                        circle.name
                    )));
                }
            },
        };
        let label = Period::parse_key(&thread.period)
            .map(|p| p.label())
            .unwrap_or_default();
        if thread.closed_at.is_some() {
            return Ok(Reply::private(format!("The {label} review has closed.")));
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
        let mut text = format!(
            "{label} review, closing {}. Still owed:\n",
            thread.closes_at.format("%Y-%m-%d")
        );
        for (reviewer, reviewees) in owed {
            text.push_str(&format!(
                "• {} → {}\n",
                name(reviewer),
                reviewees
                    .iter()
                    .map(|e| name(*e))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(Reply::private(text))
    }

    /// The feedback a member received in a quarter's review (default: the latest).
    pub async fn review_feedback(&self, actor: &Actor, quarter: Option<&str>) -> Result<Reply> {
        let member = self.member(actor).await?;
        let (circle, _) = self.circle_of(&member, None).await?;
        let zone = self.zone_of(&member).await?;
        let wanted = match quarter.map(str::trim).filter(|q| !q.is_empty()) {
            Some(q) => vec![Period::parse_user(q).map_err(|e| Error::user(e.to_string()))?],
            None => {
                let now = Period::containing_quarter(local_date(self.now(), zone));
                vec![now, now.prev()]
            }
        };
        for q in wanted {
            let Some(thread) = reviews::find(&self.pool, circle.id, &q.key()).await? else {
                continue;
            };
            let mine: Vec<_> = reviews::feedback_in(&self.pool, thread.id)
                .await?
                .into_iter()
                .filter(|f| f.subject_id == member.id)
                .collect();
            if mine.is_empty() {
                return Ok(Reply::private(format!(
                    "No feedback for you in the {} review yet.",
                    q.label()
                )));
            }
            let mut text = format!("Feedback for you in the {} review:\n", q.label());
            for f in mine {
                text.push_str(&format!(
                    "**{}**: {}\n",
                    f.author_name,
                    truncate(&f.text, 400)
                ));
            }
            return Ok(Reply::private(truncate(&text, crate::app::MESSAGE_MAX)));
        }
        Ok(Reply::private("There's no review for that quarter yet."))
    }
}
