//! The Discord adapter: slash commands (registered from the core's command table) and gateway events in, `app`
//! calls, `Reply`s out; and the `ChatPort` the scheduler sends through. The only crate that knows serenity.

pub mod chat_port;
pub mod commands;
pub mod events;
pub mod faults;
pub mod render;
pub mod shards;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context as _;
use async_trait::async_trait;
use serenity::all::{FullEvent, GatewayIntents};
use serenity::framework::Framework;
use serenity::http::{Http, HttpBuilder};

use career_circle_core::app::App;
use career_circle_core::ops::shards::GatewayShards;
use career_circle_core::settings::CommandScope;

pub use render::CAPABILITIES;

/// What every event handler gets: one per shard (each shard is its own client).
pub struct Data {
    pub app: App,
    /// Replies to DMs go through the paced port like every other message.
    pub chat: Arc<chat_port::DiscordChat>,
    pub shard: u32,
    /// Where the shard's connection state is shown to `/healthz` and `/metrics`.
    pub board: Arc<GatewayShards>,
    pub register: CommandScope,
    pub dev_guild_id: Option<u64>,
    /// Commands are registered once per shard-0 client, on the first READY (not again on every reconnect); the
    /// other shards never register.
    pub registered: AtomicBool,
}

/// Hands every gateway event to `events::handle`; a failure is logged, never fatal to the connection.
pub struct Handler {
    data: Data,
}

impl Handler {
    /// A single-shard bot (shard 0 of 1) whose state nobody reads: benchmarks.
    pub fn new(
        app: App,
        chat: Arc<chat_port::DiscordChat>,
        register: CommandScope,
        dev_guild_id: Option<u64>,
    ) -> Self {
        let board = Arc::new(GatewayShards::new(Arc::new(AtomicBool::new(false))));
        board.own(0);
        Self::for_shard(app, chat, 0, board, register, dev_guild_id)
    }

    pub fn for_shard(
        app: App,
        chat: Arc<chat_port::DiscordChat>,
        shard: u32,
        board: Arc<GatewayShards>,
        register: CommandScope,
        dev_guild_id: Option<u64>,
    ) -> Self {
        Self {
            data: Data {
                app: app.with_platform(&CAPABILITIES),
                chat,
                shard,
                board,
                register,
                dev_guild_id,
                registered: AtomicBool::new(shard != 0),
            },
        }
    }
}

#[async_trait]
impl Framework for Handler {
    async fn dispatch(&self, ctx: serenity::all::Context, event: FullEvent) {
        if let Err(e) = events::handle(&ctx, &self.data, &event).await {
            let id = career_circle_core::telemetry::report(&e);
            tracing::warn!(error_id = %id, "a gateway event could not be handled");
        }
    }
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
    // DIRECT_MESSAGES + MESSAGE_CONTENT for check-in replies in DMs; GUILD_MESSAGES for review-thread feedback;
    // GUILD_MEMBERS (privileged: switch it on in the Developer Portal) for members leaving a server.
    GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MEMBERS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
}

/// Discord refused the bot's connection for a reason only an operator can fix: `run` stops (exit code 78) with the
/// fix instead of reconnecting in a loop.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Discord refused the gateway connection ({reason}): {fix}")]
pub struct Refused {
    pub reason: String,
    pub fix: String,
}

/// A rejected token is found before connecting: serenity would otherwise fall back to Discord's default gateway
/// address and retry for ever.
pub async fn check_token(http: &Http) -> anyhow::Result<()> {
    if let Err(serenity::Error::Http(e)) = http.get_current_user().await
        && e.status_code() == Some(reqwest::StatusCode::UNAUTHORIZED)
    {
        tracing::error!(fix = faults::FIX_TOKEN, "Discord rejected the bot's token");
        return Err(Refused {
            reason: "401 Unauthorized".to_owned(),
            fix: faults::FIX_TOKEN.to_owned(),
        }
        .into());
    }
    Ok(())
}

/// What to do about a gateway refusal that reconnecting cannot fix.
fn refused(e: &serenity::gateway::GatewayError) -> Option<&'static str> {
    use serenity::gateway::GatewayError as G;
    match e {
        G::InvalidAuthentication => Some(faults::FIX_TOKEN),
        G::DisallowedGatewayIntents => Some(
            "enable the Message Content intent (and Server Members, if asked for) in the developer portal, under \
             Bot > Privileged Gateway Intents",
        ),
        G::InvalidGatewayIntents => {
            Some("the bot asked for intents Discord does not know: report this as a bug")
        }
        _ => None,
    }
}
