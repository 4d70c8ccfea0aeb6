//! `app::Reply` -> Discord interaction responses. Personal content is ephemeral; text is cut to Discord's limits.

use serenity::all::{
    ButtonStyle as DiscordButtonStyle, CreateActionRow, CreateAttachment, CreateButton,
    CreateInputText, CreateInteractionResponse, CreateInteractionResponseMessage, CreateModal,
    InputTextStyle,
};

use career_circle_core::app::Reply;
use career_circle_core::app::reply::{Audience, InputStyle, Modal};
use career_circle_core::chat::{Button, ButtonStyle};
use career_circle_core::schedule::render::truncate;

/// Discord's limits: 2000 characters of content, 5 buttons a row, 5 rows, 45-character input labels.
pub const CONTENT_MAX: usize = 2000;

pub fn buttons(buttons: &[Button]) -> Vec<CreateActionRow> {
    buttons
        .chunks(5)
        .take(5)
        .map(|row| {
            CreateActionRow::Buttons(
                row.iter()
                    .map(|b| {
                        CreateButton::new(b.custom_id.clone())
                            .label(truncate(&b.label, 80))
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
        .take(5)
        .map(|input| {
            let style = match input.style {
                InputStyle::Short => InputTextStyle::Short,
                InputStyle::Paragraph => InputTextStyle::Paragraph,
            };
            let mut field =
                CreateInputText::new(style, truncate(&input.label, 45), input.custom_id.clone())
                    .required(input.required)
                    .max_length(input.max_len);
            if let Some(v) = &input.value {
                field = field.value(truncate(v, usize::from(input.max_len)));
            }
            CreateActionRow::InputText(field)
        })
        .collect();
    CreateModal::new(m.custom_id.clone(), truncate(&m.title, 45)).components(rows)
}

pub fn message(reply: &Reply) -> CreateInteractionResponseMessage {
    let mut msg = CreateInteractionResponseMessage::new()
        .content(truncate(&reply.text, CONTENT_MAX))
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

pub fn truncate_content(text: &str) -> String {
    truncate(text, CONTENT_MAX)
}
