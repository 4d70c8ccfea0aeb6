//! The organisers' heads-up about a member the bot cannot reach.

use anyhow::Context as _;
use sqlx::PgPool;

use crate::chat::text::{Text, bold};
use crate::chat::{Capabilities, Destination};
use crate::domain::membership::Role;
use crate::schedule::render::{Rendered, messages};
use crate::spans;
use crate::store::circles;
use crate::store::deliveries::{self, Claimed};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub circle_name: String,
    pub member_name: String,
    pub reason: String,
    /// Platform user ids of the organisers to tell (never the member themselves).
    pub organisers: Vec<String>,
}

pub async fn render(pool: &PgPool, d: &Claimed, caps: &Capabilities) -> anyhow::Result<Rendered> {
    let circle = circles::circle_by_id(pool, d.circle_id)
        .await?
        .context("the alert's circle is gone")?;
    if circle.bot_removed {
        return Ok(Rendered::Skip(
            "the bot was removed from the circle's server".to_owned(),
        ));
    }
    let Some(member_id) = d.member_id else {
        return Ok(Rendered::Skip(
            "an organiser alert has no member".to_owned(),
        ));
    };
    let Some(member) = circles::member_by_id(pool, member_id).await? else {
        return Ok(Rendered::Skip("the member left".to_owned()));
    };
    let organisers = circles::members_of_circle(pool, circle.id)
        .await?
        .into_iter()
        .filter(|m| m.role == Role::Organiser && m.member_id != member_id)
        .map(|m| m.platform_user_id)
        .collect();
    let reason = deliveries::last_failure_for(pool, circle.id, member_id)
        .await?
        .unwrap_or_else(|| "could not be reached".to_owned());
    Ok(word(
        &Alert {
            circle_name: circle.name,
            member_name: member.display_name,
            reason,
            organisers,
        },
        caps,
    ))
}

pub fn word(a: &Alert, caps: &Capabilities) -> Rendered {
    if a.organisers.is_empty() {
        return Rendered::Skip("the circle has no other organiser to tell".to_owned());
    }
    let mut text = Text::new();
    text.line(spans![
        format!("Heads-up for {}: I couldn't deliver prompts to ", a.circle_name),
        bold(&a.member_name),
        format!(
            " ({}). They may have DMs from server members turned off; could you let them know? I won't mention \
             this again this quarter.",
            a.reason
        )
    ]);
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
