//! A stand-in for Discord's REST API that answers just what delivering a nudge needs (open a DM, post a message),
//! as fast as it can, deduplicating by nonce the way Discord does. It counts what it receives so `bench deliver`
//! can report the achieved rate and any duplicate. Not a test double for correctness: the tests' loopback server,
//! which validates against the OpenAPI spec, is that.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::{Value, json};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub messages: u64,
    pub duplicates: u64,
}

#[derive(Default)]
struct Inner {
    counts: Counts,
    nonces: HashMap<(String, String), String>,
    next_id: u64,
    first: Option<Instant>,
    last: Option<Instant>,
    /// When each request arrived (DM opens and posts alike): every one counts against the bot-wide limit.
    requests: Vec<Instant>,
}

#[derive(Clone, Default)]
pub struct Sink {
    inner: Arc<Mutex<Inner>>,
}

impl Sink {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn counts(&self) -> Counts {
        self.lock().counts
    }

    /// Seconds between the first and the last message received.
    pub fn span_seconds(&self) -> f64 {
        let inner = self.lock();
        match (inner.first, inner.last) {
            (Some(a), Some(b)) => (b - a).as_secs_f64(),
            _ => 0.0,
        }
    }

    /// Requests received in all.
    pub fn requests(&self) -> usize {
        self.lock().requests.len()
    }

    /// The most requests that arrived within any one second: the bot-wide limit the pacing must keep.
    pub fn busiest_second(&self) -> usize {
        let mut times = self.lock().requests.clone();
        times.sort();
        let (mut best, mut start) = (0, 0);
        for end in 0..times.len() {
            while times[end].duration_since(times[start]) >= std::time::Duration::from_secs(1) {
                start += 1;
            }
            best = best.max(end - start + 1);
        }
        best
    }

    /// Requests a second between the first and the last request.
    pub fn request_rate(&self) -> f64 {
        let inner = self.lock();
        match (inner.requests.iter().min(), inner.requests.iter().max()) {
            (Some(a), Some(b)) if b > a => {
                (inner.requests.len() - 1) as f64 / (*b - *a).as_secs_f64()
            }
            _ => 0.0,
        }
    }

    /// Forgets what was received (the next run re-sends the same deliveries with the same nonces).
    pub fn reset(&self) {
        *self.lock() = Inner::default();
    }

    /// Serves on 127.0.0.1 (a free port) until the process ends; returns the base URL for `proxy_url`.
    pub async fn start(&self) -> anyhow::Result<String> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let app = Router::new()
            .route("/api/v10/users/@me/channels", post(open_dm))
            .route(
                "/api/v10/channels/{channel_id}/messages",
                post(create_message),
            )
            .with_state(self.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "bench sink stopped");
            }
        });
        Ok(format!("http://{addr}"))
    }
}

fn user(id: &str, bot: bool) -> Value {
    json!({"id": id, "username": "member", "global_name": null, "discriminator": "0", "avatar": null,
           "public_flags": 0, "flags": 0, "bot": bot})
}

async fn open_dm(
    State(sink): State<Sink>,
    axum::Json(body): axum::Json<Value>,
) -> (StatusCode, axum::Json<Value>) {
    sink.lock().requests.push(Instant::now());
    let Some(recipient) = body["recipient_id"]
        .as_str()
        .and_then(|r| r.parse::<u64>().ok())
    else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"code": 50035, "message": "Invalid Form Body"})),
        );
    };
    // The DM channel's id follows from the recipient, so every process sees the same channel.
    let id = (recipient / 2 + 7).to_string();
    (
        StatusCode::OK,
        axum::Json(
            json!({"id": id, "type": 1, "flags": 0, "last_message_id": null,
                          "recipients": [user(&recipient.to_string(), false)]}),
        ),
    )
}

async fn create_message(
    State(sink): State<Sink>,
    Path(channel_id): Path<String>,
    axum::Json(body): axum::Json<Value>,
) -> axum::Json<Value> {
    let nonce = body["nonce"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| body["nonce"].as_u64().map(|n| n.to_string()));
    let now = Instant::now();
    let id = {
        let mut inner = sink.lock();
        inner.requests.push(now);
        let existing = nonce
            .as_ref()
            .and_then(|n| inner.nonces.get(&(channel_id.clone(), n.clone())).cloned());
        match existing {
            Some(id) => {
                inner.counts.duplicates += 1;
                id
            }
            None => {
                inner.next_id += 1;
                let id = (1_000_000_000_000_000_000u64 + inner.next_id).to_string();
                if let Some(n) = nonce.clone() {
                    inner.nonces.insert((channel_id.clone(), n), id.clone());
                }
                inner.counts.messages += 1;
                inner.first.get_or_insert(now);
                inner.last = Some(now);
                id
            }
        }
    };
    axum::Json(json!({
        "id": id, "channel_id": channel_id, "author": user("1000000000000000001", true), "type": 0,
        "content": body["content"].as_str().unwrap_or_default(), "mentions": [], "mention_roles": [],
        "mention_everyone": false, "attachments": [], "embeds": [], "timestamp": chrono::Utc::now().to_rfc3339(),
        "edited_timestamp": null, "flags": 0, "components": [], "pinned": false, "tts": false, "nonce": nonce,
    }))
}
