//! The port between the core and a chat platform: destinations, messages, errors, capabilities, thread references,
//! neutral text and the command table. The scheduler and the use cases speak only this; each platform (Discord,
//! Slack, the console demo, the recording chat of the tests) implements `ChatPort` in its own crate.

pub mod capabilities;
pub mod commands;
pub mod fit;
pub mod pacing;
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
    /// The message this one answers (a DM reply to the member's message), by platform id.
    pub reply_to: Option<String>,
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

/// Failures sorted by what helps: wait (rate limits), give up on this target (permanent), stop everything until an
/// operator fixes the bot (broken), or try again later (transient).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    /// Slow down on this target (channel, DM, route) and try again after this long; other targets carry on.
    #[error("rate limited; retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
    /// The platform asks the whole bot to slow down: nothing goes out for this long.
    #[error("rate limited bot-wide; retry after {retry_after:?}")]
    GloballyRateLimited { retry_after: Duration },
    /// The user does not accept DMs from the bot (Discord 50007). Retrying cannot help.
    #[error("cannot send messages to this user (DMs closed)")]
    CannotDm,
    /// The bot lacks a permission in that channel (Discord 50013). Retrying cannot help.
    #[error("missing permissions in the channel")]
    MissingPermissions,
    /// The channel, thread or message no longer exists. Retrying cannot help.
    #[error("not found: {0}")]
    NotFound(String),
    /// The platform refused this message for good, in its own words: content blocked, a thread archived or
    /// locked, a channel of the wrong type, no server in common, a body it cannot accept. `circle_wide` when it is
    /// about the circle's channel rather than one member.
    #[error("refused ({code}): {detail}")]
    Refused {
        code: String,
        detail: String,
        circle_wide: bool,
    },
    /// The bot itself cannot work (its token was rejected, an intent is not enabled): nothing will go through
    /// until an operator acts, so deliveries wait without spending attempts. `fix` says what to do.
    #[error("the bot is not working: {detail}; {fix}")]
    Broken { detail: String, fix: String },
    /// The platform does not know the user (Discord 10013: the account is gone). Retrying cannot help, and the
    /// member leaves the server's circles.
    #[error("unknown user")]
    UnknownUser,
    /// Anything else (5xx, timeouts, connection errors): worth another try later.
    #[error("transient failure: {0}")]
    Transient(String),
}

/// What the worker does about a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultClass {
    /// Wait and retry without spending an attempt; only this target (or, when `global`, everything).
    RateLimited { global: bool },
    /// Record failed at once; tell the organisers (the whole circle's problem when `circle_wide`).
    Permanent { circle_wide: bool },
    /// Pause all delivery without spending attempts until the bot works again.
    Broken,
    /// Back off and retry.
    Transient,
}

impl ChatError {
    pub fn class(&self) -> FaultClass {
        match self {
            Self::RateLimited { .. } => FaultClass::RateLimited { global: false },
            Self::GloballyRateLimited { .. } => FaultClass::RateLimited { global: true },
            Self::CannotDm | Self::NotFound(_) | Self::UnknownUser => {
                FaultClass::Permanent { circle_wide: false }
            }
            Self::MissingPermissions => FaultClass::Permanent { circle_wide: true },
            Self::Refused { circle_wide, .. } => FaultClass::Permanent {
                circle_wide: *circle_wide,
            },
            Self::Broken { .. } => FaultClass::Broken,
            Self::Transient(_) => FaultClass::Transient,
        }
    }

    /// Permanent errors are recorded as failed at once instead of retried.
    pub fn is_permanent(&self) -> bool {
        matches!(self.class(), FaultClass::Permanent { .. })
    }
}

/// Where an adapter remembers members' DM channels (the database in production, memory in tests).
#[async_trait]
pub trait DmChannels: Send + Sync {
    async fn get(&self, user_id: &str) -> anyhow::Result<Option<String>>;
    async fn put(&self, user_id: &str, channel_id: &str) -> anyhow::Result<()>;
    async fn forget(&self, user_id: &str) -> anyhow::Result<()>;
}

/// DM channels in this process's memory.
#[derive(Debug, Default)]
pub struct LocalDmChannels(std::sync::Mutex<std::collections::HashMap<String, String>>);

impl LocalDmChannels {
    fn map(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, String>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl DmChannels for LocalDmChannels {
    async fn get(&self, user_id: &str) -> anyhow::Result<Option<String>> {
        Ok(self.map().get(user_id).cloned())
    }
    async fn put(&self, user_id: &str, channel_id: &str) -> anyhow::Result<()> {
        self.map().insert(user_id.to_owned(), channel_id.to_owned());
        Ok(())
    }
    async fn forget(&self, user_id: &str) -> anyhow::Result<()> {
        self.map().remove(user_id);
        Ok(())
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

    /// Replaces a message the bot sent earlier with `message`: its words, its buttons (none removes them) and its
    /// attachments (none removes them). Used to take a member's words out of the bot's posts when they delete their
    /// data.
    async fn edit(&self, posted: &Posted, message: &ChatMessage) -> Result<(), ChatError>;

    /// Closes a thread to further replies as the platform can: Discord archives it; where threads cannot be
    /// closed (Slack), the root post is edited to `note`.
    async fn close_thread(&self, thread: &ThreadRef, note: &Text) -> Result<(), ChatError>;

    /// Whether `message` already arrived at `to` since `since` (an earlier try whose outcome was never known:
    /// a timeout, a crash between sending and recording). `key` is the one the try was sent with (`send`'s
    /// `nonce`): a platform without resend deduplication (Slack) carries it in the message and looks for it.
    /// Platforms that cannot look return None, and the worker relies on their resend deduplication.
    async fn find_sent(
        &self,
        to: &Destination,
        message: &ChatMessage,
        key: Option<&str>,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Posted>, ChatError> {
        let _ = (to, message, key, since);
        Ok(None)
    }
}
