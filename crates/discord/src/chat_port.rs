//! `ChatPort` on Discord's REST API.
//!
//! Bodies are serenity's builders and answers serenity's models, but the requests go through our own `reqwest`
//! client instead of `serenity::http::Http`'s methods: with serenity's rate limiter off (which its `proxy` needs),
//! a failed call comes back as an `ErrorResponse` that has dropped the response's headers and every body field but
//! `code` and `message`, so a 429's `retry_after` would be lost. Owning the client also gives each call a timeout,
//! and lets every call be paced: each request books a slot on its channel's lane and on the bot-wide lane first,
//! shared with every instance on the database when the pacer is the shared one.

use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use reqwest::multipart::{Form, Part};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use serenity::all::{
    AutoArchiveDuration, ChannelId, ChannelType, CreateMessage, CreateThread, CurrentUser,
    EditMessage, EditThread, GuildChannel, Message, MessageId, Nonce, PrivateChannel,
};
use serenity::http::{Http, Route};
use tokio::sync::OnceCell;

use career_circle_core::chat::pacing::{HOLD_MAX, Lane, LocalPacer, Pacer};
use career_circle_core::chat::{
    Attachment, Capabilities, ChatError, ChatMessage, ChatPort, Destination, DmChannels,
    LocalDmChannels, Posted, Text, ThreadRef,
};

use crate::faults;
use crate::render::{self, CAPABILITIES};

/// The bot-wide lane's key: one per bot token, whatever the number of instances.
const GLOBAL_LANE: &str = "discord:global";

/// How fast the bot may go: requests a second across all its instances, and messages a second to one channel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    pub global_per_second: f64,
    pub channel_per_second: f64,
}

impl Default for Rates {
    /// Under Discord's 50 requests a second per bot; about its 5 messages per 5 seconds per channel.
    fn default() -> Self {
        Self {
            global_per_second: 45.0,
            channel_per_second: 1.0,
        }
    }
}

pub struct DiscordChat {
    http: Arc<Http>,
    client: reqwest::Client,
    pacer: Arc<dyn Pacer>,
    rates: Rates,
    dm_channels: Arc<dyn DmChannels>,
    /// The bot's own user, to tell its messages from others' when looking for an earlier try.
    me: OnceCell<String>,
}

impl DiscordChat {
    /// Uses `http`'s token and proxy; each request gives up after `timeout`. Paces and remembers DM channels in
    /// this process only: use [`DiscordChat::shared`] when several instances share a database.
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
            pacer: Arc::new(LocalPacer::new()),
            rates: Rates::default(),
            dm_channels: Arc::new(LocalDmChannels::default()),
            me: OnceCell::new(),
        }
    }

    /// Paces through `pacer` at `rates` and keeps DM channels in `dm_channels`: the shared pacer and the stored
    /// DM channels in production, so the rates hold for all instances together and restarts cost no requests.
    pub fn shared(
        mut self,
        pacer: Arc<dyn Pacer>,
        rates: Rates,
        dm_channels: Arc<dyn DmChannels>,
    ) -> Self {
        self.pacer = pacer;
        self.rates = rates;
        self.dm_channels = dm_channels;
        self
    }

    /// The serenity client this adapter shares its token and proxy with.
    pub fn http(&self) -> &Arc<Http> {
        &self.http
    }

    async fn dm_channel(&self, user_id: &str) -> Result<String, ChatError> {
        if let Some(id) = self
            .dm_channels
            .get(user_id)
            .await
            .map_err(|e| ChatError::Transient(format!("reading the DM channel: {e:#}")))?
        {
            return Ok(id);
        }
        snowflake(user_id, "user")?;
        let body = json!({ "recipient_id": user_id });
        let channel: PrivateChannel = self
            .call(
                Route::UserMeDmChannels,
                Method::POST,
                Payload::Json(&body),
                None,
            )
            .await?;
        let id = channel.id.to_string();
        if let Err(e) = self.dm_channels.put(user_id, &id).await {
            // The send can go on; the next one opens the channel again.
            tracing::warn!(error = %e, "could not remember a DM channel");
        }
        Ok(id)
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
        let payload = if message.attachments.is_empty() {
            Payload::Json(&body)
        } else {
            Payload::Multipart(&body, &message.attachments)
        };
        self.call(route, Method::POST, payload, Some(channel_id))
            .await
    }

    fn lanes(&self, channel: Option<&str>, route_key: &str) -> Vec<Lane> {
        let mut lanes = Vec::new();
        if let Some(c) = channel {
            lanes.push(Lane::new(
                format!("discord:channel:{c}"),
                self.rates.channel_per_second,
            ));
        }
        // A route's own lane is only ever held (an exhausted bucket, a 429 for it); booking it at the global rate
        // costs nothing while it is open.
        lanes.push(Lane::new(route_key, self.rates.global_per_second));
        lanes.push(Lane::new(GLOBAL_LANE, self.rates.global_per_second));
        lanes
    }

    /// Sends one request and decodes a success into `T`, or sorts the failure. Every request is paced first;
    /// what Discord says of its limits (on success or on a 429) holds the lane it names.
    async fn call<T: DeserializeOwned>(
        &self,
        route: Route<'_>,
        method: Method,
        payload: Payload<'_>,
        channel: Option<&str>,
    ) -> Result<T, ChatError> {
        self.call_with_query(route, method, payload, channel, &[])
            .await
    }

    async fn call_with_query<T: DeserializeOwned>(
        &self,
        route: Route<'_>,
        method: Method,
        payload: Payload<'_>,
        channel: Option<&str>,
        query: &[(&str, u64)],
    ) -> Result<T, ChatError> {
        let mut url = route.path().into_owned();
        let route_key = format!("discord:route:{method} {}", route_key(&url));
        if let Some(proxy) = &self.http.proxy {
            // The same rewrite serenity applies for its `proxy` setting.
            url = url.replace("https://discord.com", proxy.trim_end_matches('/'));
        }
        let channel_lane = channel.map(|c| format!("discord:channel:{c}"));
        self.pacer
            .pace(&self.lanes(channel, &route_key))
            .await
            .map_err(|e| ChatError::Transient(format!("pacing: {e:#}")))?;
        if !query.is_empty() {
            let pairs: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            url.push('?');
            url.push_str(&pairs.join("&"));
        }
        let mut request = self
            .client
            .request(method, &url)
            .header(AUTHORIZATION, self.http.token())
            .header(USER_AGENT, serenity::constants::USER_AGENT);
        request = match payload {
            Payload::Empty => request,
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
        if let Some(wait) = faults::bucket_exhausted(&headers) {
            self.hold(&route_key, wait).await;
        }
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| ChatError::Transient(format!("unexpected answer from {url}: {e}")));
        }
        let error = faults::classify(status, &headers, &bytes);
        match &error {
            ChatError::GloballyRateLimited { retry_after } => {
                self.hold(GLOBAL_LANE, *retry_after).await;
            }
            ChatError::RateLimited { retry_after } => {
                // The route's bucket, or a shared resource like one DM channel: only that waits.
                self.hold(&route_key, *retry_after).await;
                if let Some(lane) = &channel_lane {
                    self.hold(lane, *retry_after).await;
                }
            }
            _ => {}
        }
        faults::report(status, &bytes, &error);
        Err(error)
    }

    async fn hold(&self, key: &str, wait: Duration) {
        if let Err(e) = self.pacer.hold(key, wait.min(HOLD_MAX)).await {
            tracing::warn!(error = %e, lane = key, "could not hold a lane");
        }
    }

    async fn me(&self) -> Result<&str, ChatError> {
        self.me
            .get_or_try_init(|| async {
                let me: CurrentUser = self
                    .call(Route::UserMe, Method::GET, Payload::Empty, None)
                    .await?;
                Ok::<_, ChatError>(me.id.to_string())
            })
            .await
            .map(String::as_str)
    }

    async fn channel_of(&self, to: &Destination) -> Result<String, ChatError> {
        Ok(match to {
            Destination::Dm { user_id } => self.dm_channel(user_id).await?,
            Destination::Channel { channel_id } => channel_id.clone(),
            // A Discord thread is a channel of its own.
            Destination::Thread(thread) => thread.channel_id.clone(),
        })
    }
}

enum Payload<'a> {
    Empty,
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
        let channel_id = self.channel_of(to).await?;
        let posted = self.post(&channel_id, message, nonce).await;
        if let (Destination::Dm { user_id }, Err(ChatError::NotFound(_))) = (to, &posted) {
            // A vanished DM channel should be reopened on the next try, not reused forever.
            if let Err(e) = self.dm_channels.forget(user_id).await {
                tracing::warn!(error = %e, "could not forget a DM channel");
            }
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
                Some(channel_id),
            )
            .await?;
        Ok(ThreadRef::channel(thread.id.to_string()))
    }

    /// PATCHes the message: new content and components, and exactly the new attachments (an empty list removes
    /// the old ones).
    async fn edit(&self, posted: &Posted, message: &ChatMessage) -> Result<(), ChatError> {
        let channel_id = ChannelId::from(snowflake(&posted.channel_id, "channel")?);
        let message_id = MessageId::from(snowflake(&posted.message_id, "message")?);
        let builder = EditMessage::new()
            .content(render::markdown(&message.text))
            .allowed_mentions(render::allowed_mentions(&message.text))
            .components(render::buttons(&message.buttons));
        let mut body = to_json(&builder)?;
        let listed: Vec<Value> = message
            .attachments
            .iter()
            .enumerate()
            .map(|(i, a)| json!({ "id": i.to_string(), "filename": a.filename }))
            .collect();
        if let Some(map) = body.as_object_mut() {
            map.insert("attachments".into(), Value::Array(listed));
        }
        let route = Route::ChannelMessage {
            channel_id,
            message_id,
        };
        let _edited: Message = if message.attachments.is_empty() {
            self.call(
                route,
                Method::PATCH,
                Payload::Json(&body),
                Some(&posted.channel_id),
            )
            .await?
        } else {
            self.call(
                route,
                Method::PATCH,
                Payload::Multipart(&body, &message.attachments),
                Some(&posted.channel_id),
            )
            .await?
        };
        Ok(())
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
                Some(&thread.channel_id),
            )
            .await?;
        Ok(())
    }

    /// Reads the channel's newest messages and finds one of the bot's with this message's content and
    /// buttons: Discord forgets a nonce after a few minutes, the channel does not.
    async fn find_sent(
        &self,
        to: &Destination,
        message: &ChatMessage,
        _key: Option<&str>,
        _since: DateTime<Utc>,
    ) -> Result<Option<Posted>, ChatError> {
        let channel_id = self.channel_of(to).await?;
        let channel = ChannelId::from(snowflake(&channel_id, "channel")?);
        let me = self.me().await?.to_owned();
        let want = message_body(message, None)?;
        // The try happened at `_since` on the bot's clock; the channel's newest messages cover it (the bot's clock
        // and Discord's need not agree, so the list is not cut at that instant).
        let recent: Vec<Message> = self
            .call_with_query(
                Route::ChannelMessages {
                    channel_id: channel,
                },
                Method::GET,
                Payload::Empty,
                Some(&channel_id),
                &[("limit", 50)],
            )
            .await?;
        Ok(recent
            .into_iter()
            .find(|m| m.author.id.to_string() == me && same_message(m, &want))
            .map(|m| Posted {
                channel_id: channel_id.clone(),
                message_id: m.id.to_string(),
            }))
    }
}

/// Whether a message in the channel is the one `want` describes: same words, same buttons.
fn same_message(m: &Message, want: &Value) -> bool {
    let content = want["content"].as_str().unwrap_or_default();
    let ids = |components: &Value| -> Vec<String> {
        components
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|row| row["components"].as_array().into_iter().flatten())
            .filter_map(|c| c["custom_id"].as_str().map(str::to_owned))
            .collect()
    };
    let theirs = serde_json::to_value(&m.components).unwrap_or(Value::Null);
    m.content == content && ids(&theirs) == ids(&want["components"])
}

/// The route without the ids Discord does not key limits by: "/channels/123/messages" keeps the channel (a major
/// parameter), "/channels/123/messages/456" drops the message id.
fn route_key(url: &str) -> String {
    let path = url.split("/api/v10").nth(1).unwrap_or(url);
    let parts: Vec<&str> = path.split('/').collect();
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let major = i > 0 && matches!(parts[i - 1], "channels" | "guilds" | "webhooks");
            if p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() && !major {
                ":id"
            } else {
                p
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The JSON body of a message: serenity's `CreateMessage`, saying whom it may ping, plus the `attachments` entries
/// that tie each uploaded `files[n]` part to its filename.
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
    if let Some(map) = body.as_object_mut() {
        if let Some(id) = &message.reply_to {
            // The reference names only the message: Discord takes the channel from the route.
            map.insert(
                "message_reference".into(),
                json!({ "message_id": id, "fail_if_not_exists": false }),
            );
        }
        if !message.attachments.is_empty() {
            let listed: Vec<Value> = message
                .attachments
                .iter()
                .enumerate()
                .map(|(i, a)| json!({ "id": i.to_string(), "filename": a.filename }))
                .collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_keep_their_major_parameter() {
        assert_eq!(
            route_key("http://x/api/v10/channels/123/messages/456"),
            "/channels/123/messages/:id"
        );
        assert_eq!(
            route_key("/api/v10/users/@me/channels"),
            "/users/@me/channels"
        );
    }
}
