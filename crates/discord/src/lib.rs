//! The Discord adapter: slash commands (registered from the core's command table) and gateway events in, `app`
//! calls, `Reply`s out; and the `ChatPort` the scheduler sends through. The only crate that knows serenity.

pub mod chat_port;
pub mod commands;
pub mod events;
pub mod faults;
pub mod render;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use async_trait::async_trait;
use serenity::all::{FullEvent, GatewayIntents};
use serenity::framework::Framework;
use serenity::http::{Http, HttpBuilder};

use career_circle_core::app::App;
use career_circle_core::settings::CommandScope;

pub use render::CAPABILITIES;

/// What every event handler gets.
pub struct Data {
    pub app: App,
    /// Replies to DMs go through the paced port like every other message.
    pub chat: Arc<chat_port::DiscordChat>,
    pub gateway_connected: Arc<AtomicBool>,
    pub register: CommandScope,
    pub dev_guild_id: Option<u64>,
    /// Commands are registered once per process, on the first READY (not again on every reconnect).
    pub registered: AtomicBool,
}

/// Hands every gateway event to `events::handle`; a failure is logged, never fatal to the connection.
pub struct Handler {
    data: Data,
}

impl Handler {
    pub fn new(
        app: App,
        chat: Arc<chat_port::DiscordChat>,
        gateway_connected: Arc<AtomicBool>,
        register: CommandScope,
        dev_guild_id: Option<u64>,
    ) -> Self {
        Self {
            data: Data {
                app: app.with_platform(&CAPABILITIES),
                chat,
                gateway_connected,
                register,
                dev_guild_id,
                registered: AtomicBool::new(false),
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

/// Connects to the gateway and serves until `shutdown` turns true.
/// Discord refused the bot's connection for a reason only an operator can fix: `run` stops (exit code 78) with the
/// fix instead of reconnecting in a loop.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Discord refused the gateway connection ({reason}): {fix}")]
pub struct Refused {
    pub reason: String,
    pub fix: String,
}

pub async fn run(
    connection: Connection,
    app: App,
    chat: Arc<chat_port::DiscordChat>,
    gateway_connected: Arc<AtomicBool>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let http = connection.http()?;
    // A rejected token is found before connecting: serenity would otherwise fall back to Discord's default
    // gateway address and retry for ever.
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
    let framework = Handler::new(
        app,
        chat,
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
    let result = client.start().await;
    gateway_connected.store(false, Ordering::Relaxed);
    stopper.abort();
    match result {
        Ok(()) => Ok(()),
        Err(serenity::Error::Gateway(e)) if refused(&e).is_some() => {
            let fix = refused(&e).unwrap_or_default();
            tracing::error!(error = %e, fix, "Discord refused the gateway connection");
            Err(Refused {
                reason: e.to_string(),
                fix: fix.to_owned(),
            }
            .into())
        }
        Err(e) => Err(anyhow::Error::new(e).context("Discord gateway")),
    }
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
