//! Gateway events: slash commands, buttons, forms and autocomplete; DMs to the bot and messages in review threads;
//! the connection's state. Each becomes one `app` call; the reply goes back the way the event came.

use std::sync::atomic::Ordering;

use serenity::all::{
    ActionRowComponent, CommandInteraction, ConnectionStage, Context, CreateAutocompleteResponse,
    CreateInteractionResponse, CreateInteractionResponseMessage, FullEvent, GuildId, Interaction,
    Message,
};

use career_circle_core::app::{Platform, Reply};
use career_circle_core::chat::{ChatMessage, ChatPort, Destination, ThreadRef};
use career_circle_core::settings::CommandScope;

use crate::commands::{actor_of, autocomplete, invocation, leaf_of, registration};
use crate::{Data, render};

pub async fn handle(ctx: &Context, data: &Data, event: &FullEvent) -> anyhow::Result<()> {
    match event {
        FullEvent::Ready { .. } => {
            data.board.set_connected(data.shard, true);
            if !data.registered.swap(true, Ordering::SeqCst) {
                register(ctx, data).await?;
            }
        }
        FullEvent::Resume { .. } => data.board.set_connected(data.shard, true),
        FullEvent::ShardStageUpdate { event } => {
            data.board
                .set_connected(data.shard, event.new == ConnectionStage::Connected);
        }
        FullEvent::Message { new_message: msg } if !msg.author.bot => message(data, msg).await?,
        FullEvent::InteractionCreate { interaction } => interact(ctx, data, interaction).await?,
        // Membership follows the server: who leaves it (or is removed) leaves its circles. Needs the privileged
        // GUILD_MEMBERS intent.
        FullEvent::GuildMemberRemoval { guild_id, user, .. } => {
            data.app
                .member_left_server(
                    Platform::Discord,
                    &guild_id.to_string(),
                    &user.id.to_string(),
                )
                .await?;
        }
        // Without `unavailable` the bot was removed (kicked, banned, the server deleted); with it, an outage.
        FullEvent::GuildDelete { incomplete, .. } if !incomplete.unavailable => {
            data.app
                .bot_removed_from(Platform::Discord, &incomplete.id.to_string())
                .await?;
        }
        // Every connect lists the servers the bot is in; a server it was removed from is back.
        FullEvent::GuildCreate { guild, .. } => {
            data.app
                .bot_present_in(Platform::Discord, &guild.id.to_string())
                .await?;
        }
        _ => {}
    }
    Ok(())
}

async fn register(ctx: &Context, data: &Data) -> anyhow::Result<()> {
    let commands = registration();
    let n = commands.len();
    match (data.register, data.dev_guild_id) {
        (CommandScope::Guild, Some(guild)) => {
            GuildId::new(guild)
                .set_commands(&ctx.http, commands)
                .await?;
        }
        _ => {
            serenity::all::Command::set_global_commands(&ctx.http, commands).await?;
        }
    }
    tracing::info!(commands = n, "slash commands registered");
    Ok(())
}

async fn message(data: &Data, msg: &Message) -> anyhow::Result<()> {
    let reply_to = msg.referenced_message.as_ref().map(|m| m.id.to_string());
    if msg.guild_id.is_none() {
        let actor = actor_of(&msg.author, None, Some(msg.channel_id));
        let reply = data
            .app
            .dm_message(&actor, &msg.content, reply_to.as_deref())
            .await
            .unwrap_or_else(|e| Reply::private(e.to_user_text()));
        let out = ChatMessage {
            text: career_circle_core::chat::fit::shorten(reply.text, &crate::CAPABILITIES, None),
            buttons: reply.buttons,
            reply_to: Some(msg.id.to_string()),
            ..ChatMessage::default()
        };
        // Keyed by the member's message: an event Discord delivers twice is answered once.
        let key = format!("re{}", msg.id);
        data.chat
            .send(
                &Destination::Channel {
                    channel_id: msg.channel_id.to_string(),
                },
                &out,
                Some(&key),
            )
            .await?;
        return Ok(());
    }
    // Only messages in an open review thread matter: they become peer feedback.
    let actor = actor_of(&msg.author, msg.guild_id, Some(msg.channel_id));
    let mentions: Vec<String> = msg.mentions.iter().map(|u| u.id.to_string()).collect();
    let recorded = data
        .app
        .channel_message(
            &actor,
            &ThreadRef::channel(msg.channel_id.to_string()),
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
    Ok(())
}

async fn command(ctx: &Context, data: &Data, cmd: &CommandInteraction) -> anyhow::Result<()> {
    let mut actor = actor_of(&cmd.user, cmd.guild_id, Some(cmd.channel_id));
    // Discord computes the member's permissions in the channel (ADMINISTRATOR implies every one).
    actor.manager = cmd
        .member
        .as_ref()
        .and_then(|m| m.permissions)
        .is_some_and(|p| p.manage_guild() || p.administrator());
    let slow = leaf_of(cmd).is_some_and(|l| l.slow);
    if slow {
        // The work may outlast Discord's 3 s answer window: acknowledge (privately) first, then follow up.
        cmd.create_response(
            &ctx.http,
            CreateInteractionResponse::Defer(
                CreateInteractionResponseMessage::new().ephemeral(true),
            ),
        )
        .await?;
    }
    let reply = data.app.invoke(&actor, invocation(cmd)).await;
    if slow {
        cmd.create_followup(&ctx.http, render::followup(&reply))
            .await?;
    } else {
        cmd.create_response(&ctx.http, render::response(&reply))
            .await?;
    }
    Ok(())
}

async fn interact(ctx: &Context, data: &Data, interaction: &Interaction) -> anyhow::Result<()> {
    match interaction {
        Interaction::Command(cmd) => command(ctx, data, cmd).await?,
        Interaction::Autocomplete(cmd) => {
            let mut response = CreateAutocompleteResponse::new();
            if let Some((true, typed)) = autocomplete(cmd) {
                for zone in data.app.zone_suggestions(&typed) {
                    response = response.add_string_choice(zone, zone);
                }
            }
            cmd.create_response(&ctx.http, CreateInteractionResponse::Autocomplete(response))
                .await?;
        }
        Interaction::Component(press) => {
            let actor = actor_of(&press.user, press.guild_id, Some(press.channel_id));
            let reply = data
                .app
                .button(&actor, &press.data.custom_id)
                .await
                .unwrap_or_else(|e| Reply::private(e.to_user_text()));
            press
                .create_response(&ctx.http, render::response(&reply))
                .await?;
        }
        Interaction::Modal(submit) => {
            let actor = actor_of(&submit.user, submit.guild_id, Some(submit.channel_id));
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
            // A form cannot answer with another form.
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
