//! The Slack adapter: Socket Mode in (slash commands read by the command table's grammar, buttons, forms, DMs,
//! thread replies), `app` calls, replies out through the `response_url`, modals and the Web API; and the
//! `ChatPort` the scheduler sends through. The only crate that knows Slack's shapes. Built on the workspace's own
//! reqwest and tokio-tungstenite (no Slack crate: the maintained one would add a second WebSocket and TLS stack).

pub mod chat_port;
pub mod events;
pub mod faults;
pub mod incoming;
pub mod manifest;
pub mod render;
pub mod socket;
pub mod web;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use serde_json::json;
use tokio::sync::watch;

use career_circle_core::app::{App, Platform};
use career_circle_core::chat::ChatError;

pub use render::CAPABILITIES;

/// Slack's Web API, where the bot talks to unless a test points it at a loopback.
pub const API_BASE: &str = "https://slack.com/api";

/// How the bot reaches Slack: its two tokens and, in tests, a loopback's address.
#[derive(Clone)]
pub struct Connection {
    /// The bot token (`xoxb-`): every Web API call.
    pub bot_token: String,
    /// The app-level token (`xapp-`, scope `connections:write`): only `apps.connections.open`.
    pub app_token: String,
    /// "https://slack.com/api", or a loopback's "http://127.0.0.1:PORT/api".
    pub api_base: String,
    pub request_timeout: Duration,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The tokens never reach a log.
        f.debug_struct("Connection")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

impl Connection {
    pub fn web(&self) -> Result<web::WebApi, ChatError> {
        web::WebApi::new(&self.api_base, &self.bot_token, self.request_timeout)
    }
}

/// Slack refused the bot's tokens for a reason only an operator can fix: `run` stops (exit code 78) with the fix
/// instead of reconnecting in a loop.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Slack refused the bot ({reason}): {fix}")]
pub struct Refused {
    pub reason: String,
    pub fix: String,
}

/// Serves Socket Mode until `shutdown` turns true.
pub async fn run(
    connection: Connection,
    app: App,
    chat: Arc<chat_port::SlackChat>,
    connected: Arc<AtomicBool>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    // The bot's own identity first: its messages come back as events and must be told apart, and a rejected
    // token is found before any socket is opened.
    match chat.me().await {
        Ok(me) => {
            tracing::info!(
                bot_user = me.user_id,
                team = me.team_id,
                "Slack accepts the bot token"
            );
            // A token that works means the app is installed: circles paused by an uninstall resume (the new
            // install's token is what the operator set).
            if !me.team_id.is_empty()
                && let Err(e) = app.bot_present_in(Platform::Slack, &me.team_id).await
            {
                tracing::warn!(error = %e, "could not resume the workspace's circles");
            }
        }
        Err(ChatError::Broken { detail, fix }) => {
            return Err(Refused {
                reason: detail,
                fix,
            }
            .into());
        }
        Err(e) => tracing::warn!(error = %e, "auth.test failed; carrying on"),
    }
    let settings = socket::SocketSettings {
        app_token: connection.app_token.clone(),
        api_base: connection.api_base.clone(),
        client: chat.web().client().clone(),
    };
    let handler = events::Handler::new(app, chat);
    match socket::serve(settings, handler, connected, shutdown).await {
        Ok(()) => Ok(()),
        Err(ChatError::Broken { detail, fix: _ }) => Err(Refused {
            reason: detail,
            fix: "Slack rejected the app-level token: make one with connections:write (Basic Information > \
                  App-Level Tokens) and set SLACK_APP_TOKEN (or slack.app_token_file)"
                .to_owned(),
        }
        .into()),
        Err(e) => Err(anyhow::Error::new(e).context("Slack Socket Mode")),
    }
}

/// What `doctor` learns of the tokens: `auth.test` with the bot token, `apps.connections.open` with the app token
/// (the socket URL it gives is not used).
pub async fn check(connection: &Connection) -> Vec<(&'static str, Result<String, String>)> {
    let mut out = Vec::new();
    let client = match reqwest::Client::builder()
        .timeout(connection.request_timeout)
        .build()
    {
        Ok(c) => c,
        Err(e) => return vec![("slack", Err(format!("cannot build the HTTP client: {e}")))],
    };
    let bot = web::call_with(
        &client,
        &connection.api_base,
        &connection.bot_token,
        "auth.test",
        &json!({}),
        web::Body::Form,
    )
    .await;
    out.push((
        "slack bot token (auth.test)",
        bot.map(|a| {
            format!(
                "bot {} in workspace {}",
                a["user"].as_str().unwrap_or("?"),
                a["team"].as_str().unwrap_or("?")
            )
        })
        .map_err(|e| e.to_string()),
    ));
    let app = web::call_with(
        &client,
        &connection.api_base,
        &connection.app_token,
        "apps.connections.open",
        &json!({}),
        web::Body::Form,
    )
    .await;
    out.push((
        "slack app token (apps.connections.open)",
        app.map(|_| "Socket Mode connections can be opened".to_owned())
            .map_err(|e| e.to_string()),
    ));
    out
}
