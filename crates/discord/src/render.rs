//! Neutral text as Discord markdown, what Discord can show, and `Reply`s as interaction responses. Every message
//! says exactly whom it may ping: the users the core tagged on purpose, never @everyone, @here or a role.

use std::time::Duration;

use serenity::all::{
    ButtonStyle as DiscordButtonStyle, CreateActionRow, CreateAllowedMentions, CreateAttachment,
    CreateButton, CreateInputText, CreateInteractionResponse, CreateInteractionResponseFollowup,
    CreateInteractionResponseMessage, CreateModal, InputTextStyle, UserId,
};

use career_circle_core::app::Reply;
use career_circle_core::app::reply::{Audience, InputStyle, Modal};
use career_circle_core::chat::fit::clip;
use career_circle_core::chat::text::{Markup, render};
use career_circle_core::chat::{Button, ButtonStyle, Capabilities, Platform, Text};

/// Discord's markdown.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiscordMarkdown;

fn ticks(words: &str) -> String {
    // A backtick inside needs double ticks (and a space where it touches the edge).
    if words.contains('`') {
        format!("`` {words} ``")
    } else {
        format!("`{words}`")
    }
}

impl Markup for DiscordMarkdown {
    fn plain(&self, words: &str) -> String {
        words.to_owned()
    }
    fn bold(&self, words: &str) -> String {
        format!("**{words}**")
    }
    fn italic(&self, words: &str) -> String {
        format!("*{words}*")
    }
    fn code(&self, words: &str) -> String {
        ticks(words)
    }
    fn link(&self, label: &str, url: &str) -> String {
        if label == url {
            url.to_owned()
        } else {
            format!("[{label}]({url})")
        }
    }
    fn mention(&self, user_id: &str) -> String {
        format!("<@{user_id}>")
    }
    fn channel(&self, channel_id: &str) -> String {
        format!("<#{channel_id}>")
    }
    fn command(&self, command: &str) -> String {
        ticks(&format!("/{command}"))
    }
}

/// Discord's limits, from its API documentation.
pub static CAPABILITIES: Capabilities = Capabilities {
    platform: Platform::Discord,
    message_max: 2_000,
    form_inputs_max: 5,
    form_input_max: 4_000,
    input_label_max: 45,
    form_title_max: 45,
    button_label_max: 80,
    // Five rows of five.
    buttons_max: 25,
    button_styles: &[
        ButtonStyle::Primary,
        ButtonStyle::Secondary,
        ButtonStyle::Success,
        ButtonStyle::Danger,
    ],
    custom_id_max: 100,
    thread_title_max: 100,
    // Discord checks a message's nonce against those it saw "in the past few minutes".
    resend_dedup: Some(Duration::from_secs(120)),
    closes_threads: true,
    flat_threads: false,
    markup: &DiscordMarkdown,
};

/// Discord shows at most five buttons in one action row.
pub const BUTTONS_PER_ROW: usize = 5;

pub fn markdown(text: &Text) -> String {
    render(text, &DiscordMarkdown)
}

/// Pings only the users the text tags on purpose.
pub fn allowed_mentions(text: &Text) -> CreateAllowedMentions {
    let users: Vec<UserId> = text
        .mentioned_users()
        .iter()
        .filter_map(|u| u.parse::<u64>().ok().filter(|n| *n != 0).map(UserId::new))
        .collect();
    CreateAllowedMentions::new()
        .everyone(false)
        .all_roles(false)
        .all_users(false)
        .users(users)
        .replied_user(false)
}

pub fn buttons(buttons: &[Button]) -> Vec<CreateActionRow> {
    buttons
        .chunks(BUTTONS_PER_ROW)
        .take(CAPABILITIES.buttons_max / BUTTONS_PER_ROW)
        .map(|row| {
            CreateActionRow::Buttons(
                row.iter()
                    .map(|b| {
                        CreateButton::new(b.custom_id.clone())
                            .label(clip(&b.label, CAPABILITIES.button_label_max))
                            .style(match b.style {
                                ButtonStyle::Primary => DiscordButtonStyle::Primary,
                                ButtonStyle::Secondary => DiscordButtonStyle::Secondary,
                                ButtonStyle::Success => DiscordButtonStyle::Success,
                                ButtonStyle::Danger => DiscordButtonStyle::Danger,
                            })
                    })
                    .collect(),
            )
        })
        .collect()
}

pub fn modal(m: &Modal) -> CreateModal {
    let rows = m
        .inputs
        .iter()
        .take(CAPABILITIES.form_inputs_max)
        .map(|input| {
            let style = match input.style {
                InputStyle::Short => InputTextStyle::Short,
                InputStyle::Paragraph => InputTextStyle::Paragraph,
            };
            let mut field = CreateInputText::new(
                style,
                clip(&input.label, CAPABILITIES.input_label_max),
                input.custom_id.clone(),
            )
            .required(input.required)
            .max_length(input.max_len);
            if let Some(v) = &input.value {
                field = field.value(v.clone());
            }
            CreateActionRow::InputText(field)
        })
        .collect();
    CreateModal::new(
        m.custom_id.clone(),
        clip(&m.title, CAPABILITIES.form_title_max),
    )
    .components(rows)
}

/// The reply's words, made to fit one Discord message.
pub fn content(text: &Text) -> String {
    markdown(&career_circle_core::chat::fit::shorten(
        text.clone(),
        &CAPABILITIES,
        None,
    ))
}

pub fn message(reply: &Reply) -> CreateInteractionResponseMessage {
    let mut msg = CreateInteractionResponseMessage::new()
        .content(content(&reply.text))
        .allowed_mentions(allowed_mentions(&reply.text))
        .ephemeral(reply.audience == Audience::Private);
    if !reply.buttons.is_empty() {
        msg = msg.components(buttons(&reply.buttons));
    }
    for f in &reply.files {
        msg = msg.add_file(CreateAttachment::bytes(f.bytes.clone(), f.filename.clone()));
    }
    msg
}

/// The reply as a follow-up to a deferred interaction.
pub fn followup(reply: &Reply) -> CreateInteractionResponseFollowup {
    let mut msg = CreateInteractionResponseFollowup::new()
        .content(content(&reply.text))
        .allowed_mentions(allowed_mentions(&reply.text))
        .ephemeral(reply.audience == Audience::Private);
    if !reply.buttons.is_empty() {
        msg = msg.components(buttons(&reply.buttons));
    }
    for f in &reply.files {
        msg = msg.add_file(CreateAttachment::bytes(f.bytes.clone(), f.filename.clone()));
    }
    msg
}

pub fn response(reply: &Reply) -> CreateInteractionResponse {
    match &reply.modal {
        Some(m) => CreateInteractionResponse::Modal(modal(m)),
        None => CreateInteractionResponse::Message(message(reply)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use career_circle_core::chat::text::{bold, cmd, code, mention};
    use career_circle_core::{spans, text};

    #[test]
    fn markdown_as_before() {
        let mut t = text!["Circle ", bold("PM"), " is open, with ", mention("42"), "."];
        t.item(spans![
            "try ",
            cmd("circle join PM"),
            " or reply ",
            code("done <link>")
        ]);
        t.line(spans!["Your 5-year vision:"]);
        t.quote(spans!["Staff PM"]);
        assert_eq!(
            markdown(&t),
            "Circle **PM** is open, with <@42>.\n• try `/circle join PM` or reply `done <link>`\nYour 5-year vision:\n> Staff PM"
        );
    }
}
