//! The Discord adapter: slash commands (registered from the core's command table) and gateway events in, `app`
//! calls, `Reply`s out; and the `ChatPort` the scheduler sends through. The only crate that knows serenity.

pub mod chat_port;
pub mod commands;
pub mod events;
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
        gateway_connected: Arc<AtomicBool>,
        register: CommandScope,
        dev_guild_id: Option<u64>,
    ) -> Self {
        Self {
            data: Data {
                app: app.with_platform(&CAPABILITIES),
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
    // DIRECT_MESSAGES + MESSAGE_CONTENT for check-in replies in DMs; GUILD_MESSAGES for review-thread feedback.
    GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
}

/// Connects to the gateway and serves until `shutdown` turns true.
pub async fn run(
    connection: Connection,
    app: App,
    gateway_connected: Arc<AtomicBool>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let http = connection.http()?;
    let framework = Handler::new(
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
