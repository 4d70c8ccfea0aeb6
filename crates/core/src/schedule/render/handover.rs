//! The DM to the member who became a circle's organiser because its last organiser left.

use anyhow::Context as _;
use sqlx::PgPool;

use crate::chat::text::{Text, bold, cmd};
use crate::chat::{Capabilities, Destination};
use crate::domain::membership::Role;
use crate::schedule::render::{Rendered, first_name, messages};
use crate::spans;
use crate::store::circles;
use crate::store::deliveries::Claimed;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    pub first_name: String,
    pub circle_name: String,
}

pub async fn render(pool: &PgPool, d: &Claimed, caps: &Capabilities) -> anyhow::Result<Rendered> {
    let circle = circles::circle_by_id(pool, d.circle_id)
        .await?
        .context("the circle is gone")?;
    if circle.bot_removed {
        return Ok(Rendered::Skip(
            "the bot was removed from the circle's server".to_owned(),
        ));
    }
    let Some(member_id) = d.member_id else {
        return Ok(Rendered::Skip("a handover notice has no member".to_owned()));
    };
    let Some(me) = circles::members_of_circle(pool, circle.id)
        .await?
        .into_iter()
        .find(|m| m.member_id == member_id)
    else {
        return Ok(Rendered::Skip(
            "the new organiser left the circle".to_owned(),
        ));
    };
    if me.role != Role::Organiser {
        return Ok(Rendered::Skip("no longer an organiser".to_owned()));
    }
    let h = Handover {
        first_name: first_name(&me.display_name).to_owned(),
        circle_name: circle.name,
    };
    Ok(word(
        &h,
        &Destination::Dm {
            user_id: me.platform_user_id,
        },
        caps,
    ))
}

pub fn word(h: &Handover, to: &Destination, caps: &Capabilities) -> Rendered {
    let mut text = Text::new();
    text.line(spans![
        format!("Hi {}, the last organiser of ", h.first_name),
        bold(&h.circle_name),
        " has left, so you organise it now: you've been in it longest."
    ]);
    text.line(spans![
        "Its rhythm is in ",
        cmd("circle settings"),
        "; share the role with ",
        cmd("circle organiser add @member"),
        ", or hand it on and step back with ",
        cmd("circle organiser remove @you"),
        " once someone else has it."
    ]);
    Rendered::Send(messages(to, &text, Vec::new(), caps))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_circle_and_the_commands() {
        let Rendered::Send(m) = word(
            &Handover {
                first_name: "Ada".to_owned(),
                circle_name: "PM Circle".to_owned(),
            },
            &Destination::Dm {
                user_id: "1".to_owned(),
            },
            &Capabilities::CONSOLE,
        ) else {
            panic!("owed");
        };
        let text = m[0].1.text.to_plain();
        assert!(
            text.contains("the last organiser of PM Circle has left"),
            "{text}"
        );
        assert!(text.contains("`/circle organiser add @member`"), "{text}");
    }
}
