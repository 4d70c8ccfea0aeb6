//! What a platform can show, declared by its adapter as data: the core reads these instead of constants, so a
//! message cut for Discord's 2,000 characters is cut for Slack's own limits on Slack.

use std::time::Duration;

use crate::chat::ButtonStyle;
use crate::chat::text::{Markup, PlainMarkup, TerminalMarkup};

/// Which chat a member, circle or message belongs to. Stored as text in `servers.platform`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Platform {
    Discord,
    Slack,
    Console,
}

impl Platform {
    pub const ALL: [Platform; 3] = [Platform::Discord, Platform::Slack, Platform::Console];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Discord => "discord",
            Self::Slack => "slack",
            Self::Console => "console",
        }
    }

    pub fn parse(text: &str) -> Option<Platform> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A platform's limits and habits. Lengths are in characters (Unicode scalar values), as the platforms count them.
pub struct Capabilities {
    pub platform: Platform,
    /// The longest text of one message, after markup.
    pub message_max: usize,
    /// Inputs one form can hold.
    pub form_inputs_max: usize,
    /// The longest value of one form input.
    pub form_input_max: usize,
    /// The longest label of a form input.
    pub input_label_max: usize,
    /// The longest form title.
    pub form_title_max: usize,
    /// The longest label of a button.
    pub button_label_max: usize,
    /// Buttons one message can carry.
    pub buttons_max: usize,
    /// Button styles the platform draws; others fall back to the first.
    pub button_styles: &'static [ButtonStyle],
    /// The longest id a button or form carries back.
    pub custom_id_max: usize,
    /// The longest thread title.
    pub thread_title_max: usize,
    /// How long the platform drops a second send of the same message (Discord's nonce); None: never.
    pub resend_dedup: Option<Duration>,
    /// Whether a thread can be closed to replies (Discord archives; Slack can only say so in the root post).
    pub closes_threads: bool,
    /// Whether a reply in a thread cannot point at one post of it (Slack's threads are flat): feedback then names
    /// the member it answers with a mention, and the review says so.
    pub flat_threads: bool,
    /// How the platform writes neutral text, so the core can measure what it will send.
    pub markup: &'static (dyn Markup + Sync),
}

impl std::fmt::Debug for Capabilities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capabilities")
            .field("platform", &self.platform)
            .field("message_max", &self.message_max)
            .field("form_input_max", &self.form_input_max)
            .finish_non_exhaustive()
    }
}

impl Capabilities {
    /// The terminal: no platform limits beyond good sense, plain text.
    pub const CONSOLE: Capabilities = Capabilities {
        platform: Platform::Console,
        message_max: 8_000,
        form_inputs_max: 10,
        form_input_max: 4_000,
        input_label_max: 200,
        form_title_max: 200,
        button_label_max: 80,
        buttons_max: 25,
        button_styles: &[
            ButtonStyle::Primary,
            ButtonStyle::Secondary,
            ButtonStyle::Success,
            ButtonStyle::Danger,
        ],
        custom_id_max: 100,
        thread_title_max: 100,
        resend_dedup: None,
        closes_threads: true,
        flat_threads: false,
        markup: &TerminalMarkup,
    };

    /// Used for a platform no adapter declared (a wiring mistake): the strictest of the limits the bot knows.
    pub const FALLBACK: Capabilities = Capabilities {
        platform: Platform::Console,
        message_max: 2_000,
        form_inputs_max: 5,
        form_input_max: 3_000,
        input_label_max: 45,
        form_title_max: 24,
        button_label_max: 75,
        buttons_max: 5,
        button_styles: &[ButtonStyle::Primary, ButtonStyle::Danger],
        custom_id_max: 100,
        thread_title_max: 100,
        resend_dedup: None,
        closes_threads: false,
        flat_threads: false,
        markup: &PlainMarkup,
    };

    /// The style a platform draws for `wanted`.
    pub fn style(&self, wanted: ButtonStyle) -> ButtonStyle {
        if self.button_styles.contains(&wanted) {
            wanted
        } else {
            self.button_styles
                .first()
                .copied()
                .unwrap_or(ButtonStyle::Primary)
        }
    }
}
