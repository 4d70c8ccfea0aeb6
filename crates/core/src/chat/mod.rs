//! The port between the core and a chat platform: destinations, messages, errors, capabilities, thread references,
//! neutral text and the command table. The scheduler and the use cases speak only this; each platform (Discord,
//! Slack, the console demo, the recording chat of the tests) implements `ChatPort` in its own crate.

pub mod capabilities;
pub mod commands;
pub mod fit;
pub mod text;

use std::time::Duration;

use async_trait::async_trait;

pub use capabilities::{Capabilities, Platform};
pub use text::Text;

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Destination {
    /// A direct message to a platform user (the adapter opens the DM channel).
    Dm { user_id: String },
    /// A channel, by platform id.
    Channel { channel_id: String },
    /// A thread: on Discord a channel of its own, on Slack a root message in a channel.
    Thread(ThreadRef),
}

/// A thread as the platform knows it: a channel plus, where the platform needs it, the root message the thread
/// hangs from (Slack's `thread_ts`; Discord threads are channels and have none).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ThreadRef {
    pub channel_id: String,
    pub root_message_id: Option<String>,
}

impl ThreadRef {
    pub fn channel(channel_id: impl Into<String>) -> Self {
        Self {
            channel_id: channel_id.into(),
            root_message_id: None,
        }
    }
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

/// A message as the core wants it shown; adapters translate it to their platform's shape. Only users named with
/// `text::mention` may be pinged; member text inside never pings anyone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatMessage {
    pub text: Text,
    pub buttons: Vec<Button>,
    pub attachments: Vec<Attachment>,
}

impl ChatMessage {
    pub fn text(text: impl Into<Text>) -> Self {
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
    /// What this platform can show; renders read it to make every message fit.
    fn capabilities(&self) -> &'static Capabilities;

    /// Sends a message. `nonce` (at most 25 characters) lets the platform drop a second send of the same message,
    /// so a retry after a crash between sending and recording does not post twice.
    async fn send(
        &self,
        to: &Destination,
        message: &ChatMessage,
        nonce: Option<&str>,
    ) -> Result<Posted, ChatError>;

    /// Opens a public thread in a channel, titled `title`.
    async fn open_thread(&self, channel_id: &str, title: &str) -> Result<ThreadRef, ChatError>;

    /// Closes a thread to further replies as the platform can: Discord archives it; where threads cannot be
    /// closed (Slack), the root post is edited to `note`.
    async fn close_thread(&self, thread: &ThreadRef, note: &Text) -> Result<(), ChatError>;
}
