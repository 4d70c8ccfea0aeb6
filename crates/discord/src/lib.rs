//! The Discord adapter: poise slash commands and serenity events in, `app` calls, `Reply`s out; and the
//! `ChatPort` the scheduler sends through. Nothing outside this folder imports serenity or poise.

pub mod chat_port;
pub mod commands;
pub mod events;
pub mod render;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use serenity::all::{FullEvent, GatewayIntents, GuildId};
use serenity::http::{Http, HttpBuilder};

use career_circle_core::app::App;
use career_circle_core::settings::CommandScope;

pub type Error = anyhow::Error;
pub type Context<'a> = poise::Context<'a, Data, Error>;

/// What every command and event handler gets.
pub struct Data {
    pub app: App,
    pub gateway_connected: Arc<AtomicBool>,
}

/// How the bot reaches Discord: the real API, or (in tests) a loopback server.
#[derive(Debug, Clone)]
pub struct Connection {
    pub token: String,
    /// Base URL of a stand-in Discord ("http://127.0.0.1:PORT"); None for discord.com.
    pub proxy: Option<String>,
    pub register: CommandScope,
    pub dev_guild_id: Option<u64>,
    pub request_timeout: std::time::Duration,
}

impl Connection {
    pub fn http(&self) -> anyhow::Result<Http> {
        let client = reqwest::Client::builder()
            .timeout(self.request_timeout)
            .build()
            .context("building the HTTP client")?;
        let mut builder = HttpBuilder::new(&self.token).client(client);
        if let Some(proxy) = &self.proxy {
            // Without ratelimiter_disabled serenity silently ignores the proxy.
            builder = builder.proxy(proxy.clone()).ratelimiter_disabled(true);
        }
        Ok(builder.build())
    }
}

pub fn intents() -> GatewayIntents {
    // DIRECT_MESSAGES + MESSAGE_CONTENT for check-in replies in DMs; GUILD_MESSAGES for review-thread feedback.
    GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
}

pub fn framework(
    app: App,
    gateway_connected: Arc<AtomicBool>,
    register: CommandScope,
    dev_guild_id: Option<u64>,
) -> poise::Framework<Data, Error> {
    poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: commands::all(),
            on_error: |error| Box::pin(commands::on_error(error)),
            event_handler: |framework, event| Box::pin(events::handle(framework, event)),
            ..Default::default()
        })
        // The bot has no owner-only commands: skip the start-up call that would look owners up.
        .initialize_owners(false)
        .setup(move |ctx, _ready, framework| {
            Box::pin(async move {
                let commands = &framework.options().commands;
                match (register, dev_guild_id) {
                    (CommandScope::Guild, Some(guild)) => {
                        poise::builtins::register_in_guild(ctx, commands, GuildId::new(guild))
                            .await?;
                    }
                    _ => poise::builtins::register_globally(ctx, commands).await?,
                }
                tracing::info!(commands = commands.len(), "slash commands registered");
                Ok(Data {
                    app,
                    gateway_connected,
                })
            })
        })
        .build()
}

/// Connects to the gateway and serves until `shutdown` turns true.
pub async fn run(
    connection: Connection,
    app: App,
    gateway_connected: Arc<AtomicBool>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let http = connection.http()?;
    let framework = framework(
        app,
        gateway_connected.clone(),
        connection.register,
        connection.dev_guild_id,
    );
    // Our Http carries the request timeout and, in tests, the loopback proxy.
    let mut client = serenity::all::ClientBuilder::new_with_http(http, intents())
        .framework(framework)
        .await
        .context("building the Discord client")?;
    let shard_manager = client.shard_manager.clone();
    let stopper = tokio::spawn(async move {
        while !*shutdown.borrow() {
            if shutdown.changed().await.is_err() {
                break;
            }
        }
        shard_manager.shutdown_all().await;
    });
    let result = client.start().await.context("Discord gateway");
    gateway_connected.store(false, Ordering::Relaxed);
    stopper.abort();
    result
}

pub fn is_ready_event(event: &FullEvent) -> bool {
    matches!(event, FullEvent::Ready { .. } | FullEvent::Resume { .. })
}
