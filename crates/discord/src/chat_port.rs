//! `ChatPort` on Discord's REST API.
//!
//! Bodies are serenity's builders and answers serenity's models, but the requests go through
//! our own `reqwest` client instead of `serenity::http::Http`'s methods: with serenity's rate
//! limiter off (which its `proxy` needs), a failed call comes back as an `ErrorResponse` that has
//! dropped the response's headers and every body field but `code` and `message`, so a 429's
//! `retry_after` would be lost. Owning the client also gives each call a timeout.

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, USER_AGENT};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use serenity::all::{
    AutoArchiveDuration, ChannelId, ChannelType, CreateMessage, CreateThread, EditThread,
    GuildChannel, Message, Nonce, PrivateChannel,
};
use serenity::http::{Http, Route};

use career_circle_core::chat::{
    Attachment, Capabilities, ChatError, ChatMessage, ChatPort, Destination, Posted, Text,
    ThreadRef,
};

use crate::render::{self, CAPABILITIES};
/// Used when a 429 carries no usable wait (Discord always sends one; a proxy might not).
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

pub struct DiscordChat {
    http: Arc<Http>,
    client: reqwest::Client,
    /// DM channel per user id: opening one is a request, and the id never changes.
    dm_channels: Mutex<HashMap<String, String>>,
}

impl DiscordChat {
    /// Uses `http`'s token and proxy; each request gives up after `timeout`.
    ///
    /// Fails only when the TLS backend cannot be set up.
    pub fn new(http: Arc<Http>, timeout: Duration) -> Result<Self, ChatError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| ChatError::Transient(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self::with_client(http, client))
    }

    /// Like [`DiscordChat::new`] with a client built elsewhere (e.g. the one given to
    /// `HttpBuilder::client`, so both share one connection pool and timeout).
    pub fn with_client(http: Arc<Http>, client: reqwest::Client) -> Self {
        Self {
            http,
            client,
            dm_channels: Mutex::new(HashMap::new()),
        }
    }

    /// The serenity client this adapter shares its token and proxy with.
    pub fn http(&self) -> &Arc<Http> {
        &self.http
    }

    async fn dm_channel(&self, user_id: &str) -> Result<String, ChatError> {
        if let Some(id) = self.cached_dm(user_id) {
            return Ok(id);
        }
        snowflake(user_id, "user")?;
        let body = json!({ "recipient_id": user_id });
        let channel: PrivateChannel = self
            .call(Route::UserMeDmChannels, Method::POST, Payload::Json(&body))
            .await?;
        let id = channel.id.to_string();
        self.dm_cache().insert(user_id.to_string(), id.clone());
        Ok(id)
    }

    fn cached_dm(&self, user_id: &str) -> Option<String> {
        self.dm_cache().get(user_id).cloned()
    }

    fn dm_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        // The map holds plain ids, so a panic elsewhere cannot leave it half-written.
        self.dm_channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn post(
        &self,
        channel_id: &str,
        message: &ChatMessage,
        nonce: Option<&str>,
    ) -> Result<Message, ChatError> {
        let channel = ChannelId::from(snowflake(channel_id, "channel")?);
        let body = message_body(message, nonce)?;
        let route = Route::ChannelMessages {
            channel_id: channel,
        };
        if message.attachments.is_empty() {
            self.call(route, Method::POST, Payload::Json(&body)).await
        } else {
            self.call(
                route,
                Method::POST,
                Payload::Multipart(&body, &message.attachments),
            )
            .await
        }
    }

    /// Sends one request and decodes a success into `T`, or sorts the failure.
    async fn call<T: DeserializeOwned>(
        &self,
        route: Route<'_>,
        method: Method,
        payload: Payload<'_>,
    ) -> Result<T, ChatError> {
        let mut url = route.path().into_owned();
        if let Some(proxy) = &self.http.proxy {
            // The same rewrite serenity applies for its `proxy` setting.
            url = url.replace("https://discord.com", proxy.trim_end_matches('/'));
        }
        let mut request = self
            .client
            .request(method, &url)
            .header(AUTHORIZATION, self.http.token())
            .header(USER_AGENT, serenity::constants::USER_AGENT);
        request = match payload {
            Payload::Json(body) => request
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string()),
            Payload::Multipart(body, files) => request.multipart(form(body, files)?),
        };
        let response = request
            .send()
            .await
            .map_err(|e| ChatError::Transient(describe_send_error(&e)))?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| ChatError::Transient(format!("reading the answer: {e}")))?;
        if status.is_success() {
            serde_json::from_slice(&bytes)
                .map_err(|e| ChatError::Transient(format!("unexpected answer from {url}: {e}")))
        } else {
            Err(classify(status, &headers, &bytes))
        }
    }
}

enum Payload<'a> {
    Json(&'a Value),
    /// JSON as `payload_json` plus the files.
    Multipart(&'a Value, &'a [Attachment]),
}

#[async_trait]
impl ChatPort for DiscordChat {
    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    async fn send(
        &self,
        to: &Destination,
        message: &ChatMessage,
        nonce: Option<&str>,
    ) -> Result<Posted, ChatError> {
        let channel_id = match to {
            Destination::Dm { user_id } => self.dm_channel(user_id).await?,
            Destination::Channel { channel_id } => channel_id.clone(),
            // A Discord thread is a channel of its own.
            Destination::Thread(thread) => thread.channel_id.clone(),
        };
        let posted = self.post(&channel_id, message, nonce).await;
        if let (Destination::Dm { user_id }, Err(ChatError::NotFound(_))) = (to, &posted) {
            // A vanished DM channel should be reopened on the next try, not reused forever.
            self.dm_cache().remove(user_id);
        }
        let posted = posted?;
        Ok(Posted {
            channel_id,
            message_id: posted.id.to_string(),
        })
    }

    async fn open_thread(&self, channel_id: &str, title: &str) -> Result<ThreadRef, ChatError> {
        let channel = ChannelId::from(snowflake(channel_id, "channel")?);
        // A name, not prose: Discord keeps the first 100 characters.
        let name: String = title.chars().take(CAPABILITIES.thread_title_max).collect();
        let builder = CreateThread::new(name)
            .kind(ChannelType::PublicThread)
            .auto_archive_duration(AutoArchiveDuration::OneWeek);
        let body = to_json(&builder)?;
        let thread: GuildChannel = self
            .call(
                Route::ChannelThreads {
                    channel_id: channel,
                },
                Method::POST,
                Payload::Json(&body),
            )
            .await?;
        Ok(ThreadRef::channel(thread.id.to_string()))
    }

    /// Archives the thread; Discord shows it closed, so the note is not needed.
    async fn close_thread(&self, thread: &ThreadRef, _note: &Text) -> Result<(), ChatError> {
        let channel = ChannelId::from(snowflake(&thread.channel_id, "thread")?);
        let body = to_json(&EditThread::new().archived(true))?;
        let _thread: GuildChannel = self
            .call(
                Route::Channel {
                    channel_id: channel,
                },
                Method::PATCH,
                Payload::Json(&body),
            )
            .await?;
        Ok(())
    }
}

/// The JSON body of a message: serenity's `CreateMessage`, plus the `attachments` entries that
/// tie each uploaded `files[n]` part to its filename.
fn message_body(message: &ChatMessage, nonce: Option<&str>) -> Result<Value, ChatError> {
    let mut builder = CreateMessage::new()
        .content(render::markdown(&message.text))
        .allowed_mentions(render::allowed_mentions(&message.text));
    if !message.buttons.is_empty() {
        builder = builder.components(render::buttons(&message.buttons));
    }
    if let Some(nonce) = nonce {
        builder = builder
            .nonce(Nonce::String(nonce.to_string()))
            .enforce_nonce(true);
    }
    let mut body = to_json(&builder)?;
    if !message.attachments.is_empty() {
        let listed: Vec<Value> = message
            .attachments
            .iter()
            .enumerate()
            .map(|(i, a)| json!({ "id": i.to_string(), "filename": a.filename }))
            .collect();
        if let Some(map) = body.as_object_mut() {
            map.insert("attachments".into(), Value::Array(listed));
        }
    }
    Ok(body)
}

fn form(body: &Value, files: &[Attachment]) -> Result<Form, ChatError> {
    let mut form = Form::new().text("payload_json", body.to_string());
    for (i, file) in files.iter().enumerate() {
        let part = Part::bytes(file.bytes.clone())
            .file_name(file.filename.clone())
            .mime_str("application/octet-stream")
            .map_err(|e| ChatError::Transient(format!("attachment {}: {e}", file.filename)))?;
        form = form.part(format!("files[{i}]"), part);
    }
    Ok(form)
}

fn to_json(value: &impl serde::Serialize) -> Result<Value, ChatError> {
    serde_json::to_value(value)
        .map_err(|e| ChatError::Transient(format!("cannot encode the request: {e}")))
}

/// Discord ids are non-zero u64s; anything else cannot name a channel or user.
fn snowflake(id: &str, what: &str) -> Result<NonZeroU64, ChatError> {
    id.parse::<NonZeroU64>()
        .map_err(|_| ChatError::NotFound(format!("{what} {id:?} is not a Discord id")))
}

fn describe_send_error(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        format!("Discord did not answer in time: {error}")
    } else if error.is_connect() {
        format!("cannot reach Discord: {error}")
    } else {
        format!("request failed: {error}")
    }
}

/// Sorts a non-2xx answer by what the caller should do about it.
fn classify(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ChatError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let code = json["code"].as_u64();
    let message = json["message"].as_str().unwrap_or_default();
    if status == StatusCode::TOO_MANY_REQUESTS {
        return ChatError::RateLimited {
            retry_after: retry_after(&json, headers),
        };
    }
    match code {
        Some(50007) => return ChatError::CannotDm,
        // 50001 "Missing Access": the bot cannot see the channel at all.
        Some(50013 | 50001) => return ChatError::MissingPermissions,
        Some(10003 | 10008 | 10013 | 50033) => {
            return ChatError::NotFound(format!("{message} ({})", code.unwrap_or(0)));
        }
        _ => {}
    }
    if status == StatusCode::NOT_FOUND {
        return ChatError::NotFound(format!("{status}: {message}"));
    }
    let detail = match code {
        Some(code) => format!(
            "{status}: {message} (code {code}) {}",
            json.get("errors")
                .map_or_else(String::new, Value::to_string)
        ),
        None => format!(
            "{status}: {}",
            String::from_utf8_lossy(body)
                .chars()
                .take(200)
                .collect::<String>()
        ),
    };
    ChatError::Transient(detail.trim_end().to_string())
}

/// The body's `retry_after` (seconds, fractional) is the precise one; the `Retry-After` header is
/// rounded up to whole seconds, and `X-RateLimit-Reset-After` describes the bucket.
fn retry_after(body: &Value, headers: &HeaderMap) -> Duration {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    [
        body["retry_after"].as_f64(),
        header("retry-after"),
        header("x-ratelimit-reset-after"),
    ]
    .into_iter()
    .flatten()
    .find_map(|secs| Duration::try_from_secs_f64(secs).ok())
    .unwrap_or(DEFAULT_RETRY_AFTER)
}
