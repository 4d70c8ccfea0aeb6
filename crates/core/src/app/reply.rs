//! What a use case answers, independent of any platform. Adapters render it: Discord as an interaction
//! response (ephemeral for personal content), the console as printed text.

use crate::chat::{Attachment, Button, Text};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Only the member who asked sees it (their spec, their commitments, errors).
    Private,
    /// Everyone in the channel sees it (circle content).
    Channel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputStyle {
    Short,
    Paragraph,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModalInput {
    pub custom_id: String,
    pub label: String,
    pub style: InputStyle,
    pub value: Option<String>,
    pub required: bool,
    pub max_len: u16,
}

/// A form the member fills in (a Discord modal; the console asks field by field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Modal {
    pub custom_id: String,
    pub title: String,
    pub inputs: Vec<ModalInput>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub audience: Audience,
    pub text: Text,
    pub buttons: Vec<Button>,
    pub files: Vec<Attachment>,
    pub modal: Option<Modal>,
}

impl Reply {
    pub fn private(text: impl Into<Text>) -> Self {
        Self {
            audience: Audience::Private,
            text: text.into(),
            buttons: Vec::new(),
            files: Vec::new(),
            modal: None,
        }
    }

    pub fn channel(text: impl Into<Text>) -> Self {
        Self {
            audience: Audience::Channel,
            ..Self::private(text)
        }
    }

    pub fn modal(modal: Modal) -> Self {
        Self {
            modal: Some(modal),
            ..Self::private(Text::new())
        }
    }

    pub fn with_buttons(mut self, buttons: Vec<Button>) -> Self {
        self.buttons = buttons;
        self
    }

    pub fn with_files(mut self, files: Vec<Attachment>) -> Self {
        self.files = files;
        self
    }
}
