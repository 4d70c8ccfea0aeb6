//! The boundary between the core and a chat platform. The scheduler and the use cases speak only `ChatPort`;
//! each platform (Discord, the console demo, a recording chat in tests) implements it.

use std::time::Duration;

use async_trait::async_trait;

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Destination {
    /// A direct message to a platform user (the adapter opens the DM channel).
    Dm { user_id: String },
    /// A channel or thread, by platform id.
    Channel { channel_id: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonStyle {
    Primary,
    Secondary,
    Success,
    Danger,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    /// Opaque id the platform hands back when the button is pressed (at most 100 characters on Discord).
    pub custom_id: String,
    pub label: String,
    pub style: ButtonStyle,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// A message as the core wants it shown; adapters translate it to their platform's shape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatMessage {
    pub text: String,
    pub buttons: Vec<Button>,
    pub attachments: Vec<Attachment>,
}

impl ChatMessage {
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }
}

/// What the platform gave back for a message it accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub channel_id: String,
    pub message_id: String,
}

/// Failures sorted by what the caller should do about them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    /// Slow down and try again after this long (Discord 429 `retry_after`).
    #[error("rate limited; retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
    /// The user does not accept DMs from the bot (Discord 50007). Retrying cannot help.
    #[error("cannot send messages to this user (DMs closed)")]
    CannotDm,
    /// The bot lacks a permission in that channel (Discord 50013). Retrying cannot help.
    #[error("missing permissions in the channel")]
    MissingPermissions,
    /// The channel, thread or user no longer exists. Retrying cannot help.
    #[error("not found: {0}")]
    NotFound(String),
    /// Anything else (5xx, timeouts, connection errors): worth another try later.
    #[error("transient failure: {0}")]
    Transient(String),
}

impl ChatError {
    /// Permanent errors are recorded as failed at once instead of retried.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            Self::CannotDm | Self::MissingPermissions | Self::NotFound(_)
        )
    }
}

#[async_trait]
pub trait ChatPort: Send + Sync {
    /// Sends a message. `nonce` (at most 25 characters) lets the platform drop a second send of the same message,
    /// so a retry after a crash between sending and recording does not post twice.
    async fn send(
        &self,
        to: &Destination,
        message: &ChatMessage,
        nonce: Option<&str>,
    ) -> Result<Posted, ChatError>;

    /// Opens a public thread in a channel and returns the thread's channel id.
    async fn open_thread(&self, channel_id: &str, title: &str) -> Result<String, ChatError>;

    /// Archives (closes) a thread.
    async fn archive_thread(&self, thread_id: &str) -> Result<(), ChatError>;
}
