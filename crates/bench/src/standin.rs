//! A minimal Discord for `bench commands`: the REST routes a starting bot and its interaction answers use, and a
//! gateway that says HELLO, answers IDENTIFY with READY and heartbeats with ACKs, and pushes the interactions the
//! benchmark makes. Answers are not checked against Discord's spec here; the tests' loopback server does that.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message as WsMessage;

pub const APPLICATION_ID: &str = "1100000000000000001";
pub const BOT_ID: &str = "1100000000000000002";
pub const GUILD_ID: &str = "1100000000000000003";
pub const CHANNEL_ID: &str = "1100000000000000004";

#[derive(Default)]
struct Shared {
    gateway_url: String,
    answers: HashMap<String, oneshot::Sender<Instant>>,
    registered: bool,
    apologies: u64,
    events: Option<mpsc::UnboundedSender<String>>,
    seq: u64,
}

#[derive(Clone, Default)]
pub struct Standin {
    shared: Arc<Mutex<Shared>>,
}

impl Standin {
    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Serves REST and the gateway on 127.0.0.1; returns the REST base URL (for `proxy`).
    pub async fn start(&self) -> anyhow::Result<String> {
        let ws = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        self.lock().gateway_url = format!("ws://{}", ws.local_addr()?);
        let me = self.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = ws.accept().await {
                let me = me.clone();
                tokio::spawn(async move {
                    if let Err(e) = me.session(stream).await {
                        tracing::debug!(error = %e, "stand-in gateway session ended");
                    }
                });
            }
        });
        let rest = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let base = format!("http://{}", rest.local_addr()?);
        let app = Router::new()
            .route("/api/v10/gateway", get(gateway))
            .route("/api/v10/gateway/bot", get(gateway_bot))
            .route(
                "/api/v10/applications/{app}/guilds/{guild}/commands",
                put(register),
            )
            .route("/api/v10/applications/{app}/commands", put(register))
            .route(
                "/api/v10/interactions/{id}/{token}/callback",
                post(callback),
            )
            .with_state(self.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(rest, app).await {
                tracing::error!(error = %e, "stand-in REST stopped");
            }
        });
        Ok(base)
    }

    /// True once the bot has registered its commands (its framework finished starting).
    pub fn ready(&self) -> bool {
        let shared = self.lock();
        shared.registered && shared.events.is_some()
    }

    /// Answers that were apologies for an unexpected error.
    pub fn apologies(&self) -> u64 {
        self.lock().apologies
    }

    /// Pushes an interaction and returns when the bot answers it (None if the gateway is gone).
    pub async fn interact(&self, interaction: Value) -> Option<Instant> {
        let id = interaction["id"].as_str().unwrap_or_default().to_owned();
        let (tx, rx) = oneshot::channel();
        {
            let mut shared = self.lock();
            shared.answers.insert(id, tx);
            shared.seq += 1;
            let frame =
                json!({"op": 0, "t": "INTERACTION_CREATE", "s": shared.seq, "d": interaction})
                    .to_string();
            shared.events.as_ref()?.send(frame).ok()?;
        }
        rx.await.ok()
    }

    async fn session(&self, stream: tokio::net::TcpStream) -> anyhow::Result<()> {
        // Small frames back to back: without TCP_NODELAY, Nagle's algorithm holds each one for the client's
        // delayed ACK (tens of milliseconds), which would be measured as the bot's latency.
        stream.set_nodelay(true)?;
        let ws = tokio_tungstenite::accept_async(stream).await?;
        let (mut sink, mut source) = ws.split();
        sink.send(WsMessage::Text(
            json!({"op": 10, "d": {"heartbeat_interval": 41_250}}).to_string(),
        ))
        .await?;
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        loop {
            tokio::select! {
                frame = source.next() => {
                    let Some(frame) = frame else { return Ok(()) };
                    let WsMessage::Text(text) = frame? else { continue };
                    let payload: Value = serde_json::from_str(&text)?;
                    match payload["op"].as_u64() {
                        Some(1) => sink.send(WsMessage::Text(json!({"op": 11}).to_string())).await?,
                        Some(2) => {
                            let ready = self.ready_frame();
                            sink.send(WsMessage::Text(ready)).await?;
                            self.lock().events = Some(tx.clone());
                        }
                        _ => {}
                    }
                }
                Some(out) = rx.recv() => sink.send(WsMessage::Text(out)).await?,
            }
        }
    }

    fn ready_frame(&self) -> String {
        let mut shared = self.lock();
        shared.seq += 1;
        json!({"op": 0, "t": "READY", "s": shared.seq, "d": {
            "v": 10, "user": user(BOT_ID, "career-circle", true), "guilds": [{"id": GUILD_ID, "unavailable": true}],
            "session_id": "bench-session", "resume_gateway_url": shared.gateway_url, "shard": [0, 1],
            "application": {"id": APPLICATION_ID, "flags": 0}, "private_channels": [], "presences": [],
        }})
        .to_string()
    }
}

pub fn user(id: &str, name: &str, bot: bool) -> Value {
    json!({"id": id, "username": name, "global_name": name, "discriminator": "0", "avatar": null,
           "public_flags": 0, "flags": 0, "bot": bot})
}

/// A slash command by `user_id` in the guild channel, as Discord sends it.
pub fn slash_command(id: u64, user_id: &str, name: &str, options: Value) -> Value {
    json!({
        "id": id.to_string(), "application_id": APPLICATION_ID, "type": 2, "token": format!("token-{id}"),
        "version": 1, "app_permissions": "328565124096", "locale": "en-US", "guild_locale": "en-US",
        "entitlements": [], "guild_id": GUILD_ID, "channel_id": CHANNEL_ID,
        "channel": {"id": CHANNEL_ID, "type": 0, "guild_id": GUILD_ID, "name": "career-circle", "flags": 0,
                    "permissions": "311385246720"},
        "member": {"user": user(user_id, "member", false), "roles": [], "joined_at": "2026-01-01T00:00:00+00:00",
                   "deaf": false, "mute": false, "flags": 0, "pending": false, "permissions": "311385246720",
                   "nick": null, "avatar": null, "banner": null, "premium_since": null},
        "authorizing_integration_owners": {"0": GUILD_ID}, "context": 0, "attachment_size_limit": 26_214_400,
        "guild": {"id": GUILD_ID, "locale": "en-US", "features": []},
        "data": {"id": "1100000000000000100", "name": name, "type": 1, "options": options, "guild_id": GUILD_ID},
    })
}

async fn gateway(State(s): State<Standin>) -> axum::Json<Value> {
    axum::Json(json!({"url": s.lock().gateway_url}))
}

async fn gateway_bot(State(s): State<Standin>) -> axum::Json<Value> {
    axum::Json(json!({"url": s.lock().gateway_url, "shards": 1,
        "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}}))
}

async fn register(State(s): State<Standin>) -> axum::Json<Value> {
    s.lock().registered = true;
    axum::Json(json!([]))
}

async fn callback(
    State(s): State<Standin>,
    Path((id, _token)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> StatusCode {
    // An unexpected error reaches the member as an apology; count them.
    let apology = String::from_utf8_lossy(&body).contains("something went wrong");
    let waiting = {
        let mut shared = s.lock();
        shared.apologies += u64::from(apology);
        shared.answers.remove(&id)
    };
    if let Some(tx) = waiting {
        // The benchmark may have stopped waiting; nothing to do then.
        let _gone = tx.send(Instant::now());
    }
    StatusCode::NO_CONTENT
}
