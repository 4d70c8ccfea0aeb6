//! Gateway events other than slash commands: DMs to the bot, button presses, form submits, connection state.

use std::sync::atomic::Ordering;

use serenity::all::{
    ActionRowComponent, ConnectionStage, CreateInteractionResponse, CreateMessage, FullEvent,
    Interaction,
};

use crate::commands::actor_of;
use crate::{Data, Error, render};
use career_circle_core::app::Reply;

pub async fn handle(
    framework: poise::FrameworkContext<'_, Data, Error>,
    event: &FullEvent,
) -> Result<(), Error> {
    let ctx = framework.serenity_context;
    let data = framework.user_data;
    match event {
        FullEvent::Ready { .. } | FullEvent::Resume { .. } => {
            data.gateway_connected.store(true, Ordering::Relaxed)
        }
        FullEvent::ShardStageUpdate { event } => {
            data.gateway_connected
                .store(event.new == ConnectionStage::Connected, Ordering::Relaxed);
        }
        FullEvent::Message { new_message: msg } if msg.guild_id.is_none() && !msg.author.bot => {
            let actor = actor_of(&msg.author, None);
            let reply_to = msg.referenced_message.as_ref().map(|m| m.id.to_string());
            let reply = data
                .app
                .dm_message(&actor, &msg.content, reply_to.as_deref())
                .await
                .unwrap_or_else(|e| Reply::private(e.to_user_text()));
            let out = CreateMessage::new()
                .content(render::truncate_content(&reply.text))
                .reference_message(msg);
            msg.channel_id.send_message(&ctx.http, out).await?;
        }
        FullEvent::Message { new_message: msg } if msg.guild_id.is_some() && !msg.author.bot => {
            // Only messages in an open review thread matter: they become peer feedback.
            let actor = actor_of(&msg.author, msg.guild_id);
            let reply_to = msg.referenced_message.as_ref().map(|m| m.id.to_string());
            let mentions: Vec<String> = msg.mentions.iter().map(|u| u.id.to_string()).collect();
            let recorded = data
                .app
                .channel_message(
                    &actor,
                    &msg.channel_id.to_string(),
                    &msg.id.to_string(),
                    &msg.content,
                    reply_to.as_deref(),
                    &mentions,
                )
                .await;
            if let Err(e) = recorded {
                // Nothing to answer in the thread; to_user_text logs the cause with an id.
                let _logged_as = e.to_user_text();
            }
        }
        FullEvent::InteractionCreate {
            interaction: Interaction::Component(press),
        } => {
            let actor = actor_of(&press.user, press.guild_id);
            let reply = data
                .app
                .button(&actor, &press.data.custom_id)
                .await
                .unwrap_or_else(|e| Reply::private(e.to_user_text()));
            press
                .create_response(&ctx.http, render::response(&reply))
                .await?;
        }
        FullEvent::InteractionCreate {
            interaction: Interaction::Modal(submit),
        } => {
            let actor = actor_of(&submit.user, submit.guild_id);
            let fields: Vec<(String, String)> = submit
                .data
                .components
                .iter()
                .flat_map(|row| row.components.iter())
                .filter_map(|c| match c {
                    ActionRowComponent::InputText(input) => Some((
                        input.custom_id.clone(),
                        input.value.clone().unwrap_or_default(),
                    )),
                    _ => None,
                })
                .collect();
            let reply = data
                .app
                .form_submit(&actor, &submit.data.custom_id, &fields)
                .await
                .unwrap_or_else(|e| Reply::private(e.to_user_text()));
            let response = match &reply.modal {
                Some(_) => CreateInteractionResponse::Message(render::message(&Reply::private(
                    reply.text.clone(),
                ))),
                None => render::response(&reply),
            };
            submit.create_response(&ctx.http, response).await?;
        }
        _ => {}
    }
    Ok(())
}
