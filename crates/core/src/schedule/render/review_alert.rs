//! The organisers' DM about a review that could not open or post its summary: what went wrong and how to fix it.
//! By DM, because the channel may be the very thing that is gone.

use anyhow::Context as _;
use sqlx::PgPool;

use crate::chat::text::{Text, bold, channel, cmd, code};
use crate::chat::{Capabilities, Destination};
use crate::domain::delivery::DeliveryKind;
use crate::domain::membership::Role;
use crate::domain::period::Period;
use crate::domain::review::ReviewProblem;
use crate::schedule::render::{Rendered, messages};
use crate::spans;
use crate::store::deliveries::Claimed;
use crate::store::{circles, reviews};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewAlert {
    /// True: the thread could not open; false: the summary could not be posted.
    pub opening: bool,
    pub circle_name: String,
    pub quarter: Period,
    pub home_channel_id: String,
    pub problem: ReviewProblem,
    /// Platform user ids of the organisers.
    pub organisers: Vec<String>,
}

pub async fn render(pool: &PgPool, d: &Claimed, caps: &Capabilities) -> anyhow::Result<Rendered> {
    let circle = circles::circle_by_id(pool, d.circle_id)
        .await?
        .context("the review's circle is gone")?;
    if circle.bot_removed {
        return Ok(Rendered::Skip(
            "the bot was removed from the circle's server".to_owned(),
        ));
    }
    let Some(thread) = reviews::find(pool, circle.id, d.period).await? else {
        return Ok(Rendered::Skip("the review is gone".to_owned()));
    };
    let Some(problem) = thread.problem.as_deref() else {
        return Ok(Rendered::Skip("the review worked in the end".to_owned()));
    };
    let organisers = circles::members_of_circle(pool, circle.id)
        .await?
        .into_iter()
        .filter(|m| m.role == Role::Organiser)
        .map(|m| m.platform_user_id)
        .collect();
    Ok(word(
        &ReviewAlert {
            opening: d.kind == DeliveryKind::ReviewOpenFailed,
            circle_name: circle.name,
            quarter: d.period,
            home_channel_id: circle.home_channel_id,
            problem: problem.parse().unwrap_or(ReviewProblem::Other),
            organisers,
        },
        caps,
    ))
}

pub fn word(a: &ReviewAlert, caps: &Capabilities) -> Rendered {
    if a.organisers.is_empty() {
        return Rendered::Skip("the circle has no organiser to tell".to_owned());
    }
    let what = if a.opening {
        format!("open the {} review of ", a.quarter.label())
    } else {
        format!("post the {} review summary of ", a.quarter.label())
    };
    let mut text = Text::new();
    text.line(spans![
        format!("Heads-up: I couldn't {what}"),
        bold(&a.circle_name),
        "."
    ]);
    match a.problem {
        ReviewProblem::ChannelGone => {
            text.line(spans![
                "Its home channel ",
                channel(&a.home_channel_id),
                " is gone (deleted, or I can no longer see it). Run ",
                cmd("review start"),
                " in the channel where the review should happen (it becomes the circle's home), or set one with ",
                cmd("circle settings channel:#channel"),
                ", and I'll try again."
            ]);
        }
        // Slack has no channel permissions to set: the bot is in the channel or it is not.
        ReviewProblem::NoPermission if caps.platform == crate::chat::Platform::Slack => {
            text.line(spans![
                "I'm not in ",
                channel(&a.home_channel_id),
                " and could not join it: type ",
                code("/invite @career-circle"),
                " there, then run ",
                cmd("review start"),
                " and I'll try again."
            ]);
        }
        ReviewProblem::NoPermission => {
            text.line(spans![
                "I'm missing permissions in ",
                channel(&a.home_channel_id),
                ": I need View Channel, Send Messages, Create Public Threads, Send Messages in Threads and Attach \
                 Files there. Once they're set, run ",
                cmd("review start"),
                " and I'll try again."
            ]);
        }
        ReviewProblem::Other => {
            text.line(spans![
                "The platform refused it. Check that I can post in ",
                channel(&a.home_channel_id),
                ", then run ",
                cmd("review start"),
                " to try again; ",
                cmd("review status"),
                " says where it stands."
            ]);
        }
    }
    Rendered::Send(
        a.organisers
            .iter()
            .flat_map(|o| {
                messages(
                    &Destination::Dm { user_id: o.clone() },
                    &text,
                    Vec::new(),
                    caps,
                )
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_what_failed_and_how_to_fix_it() {
        let a = ReviewAlert {
            opening: true,
            circle_name: "PM Circle".to_owned(),
            quarter: Period::quarter(2027, 2).unwrap_or(Period::Year { year: 2027 }),
            home_channel_id: "42".to_owned(),
            problem: ReviewProblem::ChannelGone,
            organisers: vec!["7".to_owned(), "8".to_owned()],
        };
        let Rendered::Send(m) = word(&a, &Capabilities::CONSOLE) else {
            panic!("owed");
        };
        assert_eq!(m.len(), 2, "every organiser");
        let text = m[0].1.text.to_plain();
        assert!(
            text.contains("couldn't open the Q2 2027 review of PM Circle"),
            "{text}"
        );
        assert!(text.contains("`/review start`"), "{text}");
        let none = ReviewAlert {
            organisers: Vec::new(),
            ..a
        };
        assert!(matches!(
            word(&none, &Capabilities::CONSOLE),
            Rendered::Skip(_)
        ));
    }
}
