//! `ChatPort` on Slack's Web API: DMs through `conversations.open` (the channel id stored), messages through
//! `chat.postMessage` carrying the delivery's key in their `metadata`, threads as replies to a root post
//! (`thread_ts`), edits and the closing note through `chat.update`, files through the external upload, and an
//! earlier try found again in the channel's history by its key, since Slack has no idempotency key of its own.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use career_circle_core::chat::{
    Attachment, Capabilities, ChatError, ChatMessage, ChatPort, Destination, DmChannels,
    LocalDmChannels, Posted, Text, ThreadRef,
};

use crate::render::{self, CAPABILITIES, DELIVERY_EVENT};
use crate::web::{Body, WebApi};

/// Who the bot is in the workspace, from `auth.test`: its own messages come back as events and are passed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Me {
    pub user_id: String,
    pub bot_id: String,
    pub team_id: String,
}

pub struct SlackChat {
    web: Arc<WebApi>,
    dm_channels: Arc<dyn DmChannels>,
    me: OnceCell<Me>,
    /// Whether the bot may join a public channel it is not in (`channels:join`); otherwise the organiser is told
    /// to invite it.
    join_channels: bool,
}

impl SlackChat {
    pub fn new(web: Arc<WebApi>) -> Self {
        Self {
            web,
            dm_channels: Arc::new(LocalDmChannels::default()),
            me: OnceCell::new(),
            join_channels: true,
        }
    }

    /// Keeps DM channels in `dm_channels` (the database in production, so restarts cost no requests).
    pub fn with_dm_channels(mut self, dm_channels: Arc<dyn DmChannels>) -> Self {
        self.dm_channels = dm_channels;
        self
    }

    pub fn web(&self) -> &Arc<WebApi> {
        &self.web
    }

    /// The bot's identity, asked of Slack once.
    pub async fn me(&self) -> Result<&Me, ChatError> {
        self.me
            .get_or_try_init(|| async {
                let answer = self
                    .web
                    .call("auth.test", &json!({}), Body::Form, None)
                    .await?;
                Ok::<_, ChatError>(Me {
                    user_id: answer["user_id"].as_str().unwrap_or_default().to_owned(),
                    bot_id: answer["bot_id"].as_str().unwrap_or_default().to_owned(),
                    team_id: answer["team_id"].as_str().unwrap_or_default().to_owned(),
                })
            })
            .await
    }

    pub async fn dm_channel(&self, user_id: &str) -> Result<String, ChatError> {
        if let Some(id) = self
            .dm_channels
            .get(user_id)
            .await
            .map_err(|e| ChatError::Transient(format!("reading the DM channel: {e:#}")))?
        {
            return Ok(id);
        }
        if !render::is_id(user_id) {
            return Err(ChatError::NotFound(format!(
                "{user_id:?} is not a Slack user id"
            )));
        }
        let answer = self
            .web
            .call(
                "conversations.open",
                &json!({ "users": user_id }),
                Body::Json,
                None,
            )
            .await?;
        let id = answer["channel"]["id"]
            .as_str()
            .ok_or_else(|| ChatError::Transient("conversations.open gave no channel".to_owned()))?
            .to_owned();
        if let Err(e) = self.dm_channels.put(user_id, &id).await {
            // The send can go on; the next one opens the channel again.
            tracing::warn!(error = %e, "could not remember a DM channel");
        }
        Ok(id)
    }

    async fn place(&self, to: &Destination) -> Result<(String, Option<String>), ChatError> {
        Ok(match to {
            Destination::Dm { user_id } => (self.dm_channel(user_id).await?, None),
            Destination::Channel { channel_id } => (channel_id.clone(), None),
            Destination::Thread(t) => (t.channel_id.clone(), t.root_message_id.clone()),
        })
    }

    /// `chat.postMessage`; a channel the bot is not in is joined once (where the scopes allow) and tried again.
    pub async fn post(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        message: &ChatMessage,
        key: Option<&str>,
    ) -> Result<String, ChatError> {
        let body = message_body(channel, thread_ts, message, key);
        let answer = match self
            .web
            .call("chat.postMessage", &body, Body::Json, Some(channel))
            .await
        {
            Err(ChatError::Refused { code, .. }) if code == "not_in_channel" => {
                // Public channels can be joined with channels:join; otherwise (or when that fails too) the bot
                // lacks what posting there needs, and the organiser is told to /invite it.
                if !(self.join_channels && channel.starts_with('C')) {
                    return Err(ChatError::MissingPermissions);
                }
                if let Err(e) = self
                    .web
                    .call(
                        "conversations.join",
                        &json!({ "channel": channel }),
                        Body::Json,
                        None,
                    )
                    .await
                {
                    tracing::warn!(error = %e, "could not join the circle's channel");
                    return Err(ChatError::MissingPermissions);
                }
                self.web
                    .call("chat.postMessage", &body, Body::Json, Some(channel))
                    .await?
            }
            other => other?,
        };
        let ts = answer["ts"]
            .as_str()
            .ok_or_else(|| ChatError::Transient("chat.postMessage gave no ts".to_owned()))?
            .to_owned();
        for file in &message.attachments {
            // Beside the message: in its thread when it is in one, else in the channel.
            self.upload(channel, thread_ts, file).await?;
        }
        Ok(ts)
    }

    /// The external upload: ask for a URL, send the bytes there, then share the file into the channel (thread).
    pub async fn upload(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        file: &Attachment,
    ) -> Result<(), ChatError> {
        let asked = self
            .web
            .call(
                "files.getUploadURLExternal",
                &json!({ "filename": file.filename, "length": file.bytes.len() }),
                Body::Form,
                None,
            )
            .await?;
        let (Some(url), Some(file_id)) = (asked["upload_url"].as_str(), asked["file_id"].as_str())
        else {
            return Err(ChatError::Transient(
                "files.getUploadURLExternal gave no upload_url".to_owned(),
            ));
        };
        let sent = self
            .web
            .client()
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(file.bytes.clone())
            .send()
            .await
            .map_err(|e| ChatError::Transient(format!("uploading {}: {e}", file.filename)))?;
        if !sent.status().is_success() {
            return Err(ChatError::Transient(format!(
                "uploading {}: {}",
                file.filename,
                sent.status()
            )));
        }
        let mut complete = json!({
            "files": [{ "id": file_id, "title": file.filename }],
            "channel_id": channel,
        });
        if let Some(ts) = thread_ts {
            complete["thread_ts"] = json!(ts);
        }
        self.web
            .call(
                "files.completeUploadExternal",
                &complete,
                Body::Json,
                Some(channel),
            )
            .await?;
        Ok(())
    }

    /// Whether the bot is allowed to join channels it is not in.
    pub fn joining(mut self, allowed: bool) -> Self {
        self.join_channels = allowed;
        self
    }
}

/// The body of `chat.postMessage`: mrkdwn text as the notification's fallback, the same words and the buttons as
/// blocks, the delivery's key as metadata.
pub fn message_body(
    channel: &str,
    thread_ts: Option<&str>,
    message: &ChatMessage,
    key: Option<&str>,
) -> Value {
    let mut body = json!({
        "channel": channel,
        "text": render::mrkdwn(&message.text).chars().take(render::SECTION_MAX).collect::<String>(),
        "blocks": render::blocks(&message.text, &message.buttons),
        // Member text cannot ping; Slack's own linking of names is off too.
        "link_names": false,
        "unfurl_links": false,
    });
    if let Some(ts) = thread_ts {
        body["thread_ts"] = json!(ts);
    }
    if let Some(key) = key {
        body["metadata"] = json!({
            "event_type": DELIVERY_EVENT,
            "event_payload": { "key": key },
        });
    }
    body
}

#[async_trait]
impl ChatPort for SlackChat {
    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    async fn send(
        &self,
        to: &Destination,
        message: &ChatMessage,
        nonce: Option<&str>,
    ) -> Result<Posted, ChatError> {
        let (channel_id, thread_ts) = self.place(to).await?;
        let posted = self
            .post(&channel_id, thread_ts.as_deref(), message, nonce)
            .await;
        if let (Destination::Dm { user_id }, Err(ChatError::NotFound(_))) = (to, &posted) {
            // A vanished DM channel should be reopened on the next try, not reused forever.
            if let Err(e) = self.dm_channels.forget(user_id).await {
                tracing::warn!(error = %e, "could not forget a DM channel");
            }
        }
        Ok(Posted {
            channel_id,
            message_id: posted?,
        })
    }

    /// A Slack thread hangs from a root post in the channel: the title is that post.
    async fn open_thread(&self, channel_id: &str, title: &str) -> Result<ThreadRef, ChatError> {
        let title: String = title.chars().take(CAPABILITIES.thread_title_max).collect();
        let ts = self
            .post(channel_id, None, &ChatMessage::text(title), None)
            .await?;
        Ok(ThreadRef {
            channel_id: channel_id.to_owned(),
            root_message_id: Some(ts),
        })
    }

    /// `chat.update` with the new words and buttons; files already shared stay (Slack cannot edit them away).
    async fn edit(&self, posted: &Posted, message: &ChatMessage) -> Result<(), ChatError> {
        let body = json!({
            "channel": posted.channel_id,
            "ts": posted.message_id,
            "text": render::mrkdwn(&message.text).chars().take(render::SECTION_MAX).collect::<String>(),
            "blocks": render::blocks(&message.text, &message.buttons),
        });
        self.web
            .call("chat.update", &body, Body::Json, Some(&posted.channel_id))
            .await?;
        Ok(())
    }

    /// Slack threads cannot be closed: the root post is edited to say so.
    async fn close_thread(&self, thread: &ThreadRef, note: &Text) -> Result<(), ChatError> {
        let Some(root) = &thread.root_message_id else {
            return Ok(());
        };
        self.edit(
            &Posted {
                channel_id: thread.channel_id.clone(),
                message_id: root.clone(),
            },
            &ChatMessage::text(note.clone()),
        )
        .await
    }

    /// Looks for the key in the metadata of the channel's (or thread's) messages since the earlier try.
    async fn find_sent(
        &self,
        to: &Destination,
        _message: &ChatMessage,
        key: Option<&str>,
        _since: DateTime<Utc>,
    ) -> Result<Option<Posted>, ChatError> {
        let Some(key) = key else {
            return Ok(None);
        };
        let (channel_id, thread_ts) = self.place(to).await?;
        let me = self.me().await?.clone();
        // The try happened at `since` on the bot's clock; the channel's newest messages cover it (the bot's clock
        // and Slack's need not agree, so the list is not cut at that instant).
        let (method, args) = match &thread_ts {
            Some(ts) => (
                "conversations.replies",
                json!({ "channel": channel_id, "ts": ts, "include_all_metadata": true, "limit": 200 }),
            ),
            None => (
                "conversations.history",
                json!({ "channel": channel_id, "include_all_metadata": true, "limit": 200 }),
            ),
        };
        let answer = self
            .web
            .call(method, &args, Body::Form, Some(&channel_id))
            .await?;
        let found = answer["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| {
                m["metadata"]["event_type"] == DELIVERY_EVENT
                    && m["metadata"]["event_payload"]["key"] == key
                    && (me.bot_id.is_empty() || m["bot_id"] == me.bot_id.as_str())
            });
        Ok(found.and_then(|m| m["ts"].as_str()).map(|ts| Posted {
            channel_id: channel_id.clone(),
            message_id: ts.to_owned(),
        }))
    }
}
