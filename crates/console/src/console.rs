//! The local demo's chat: messages print to the terminal as they would appear in Discord, in the reader's
//! zone and on the demo's virtual clock. Messages to the simulated peers are kept for the demo to act on.

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use career_circle_core::chat::{
    Button, Capabilities, ChatError, ChatMessage, ChatPort, Destination, Posted, Text, ThreadRef,
};
use career_circle_core::clock::Clock;
use career_circle_core::domain::zone::Zone;

/// The person at the terminal.
pub const YOU: &str = "you";

#[derive(Default)]
struct State {
    next_id: u64,
    /// The buttons of the last message shown to you, for `/press N`.
    buttons: Vec<Button>,
    /// Messages to the simulated peers, waiting for the demo to let them answer.
    peer_inbox: Vec<(String, ChatMessage, String)>,
    /// Open threads by id, with their titles.
    threads: Vec<(String, String)>,
}

pub struct ConsoleChat {
    clock: Arc<dyn Clock>,
    zone: Mutex<Zone>,
    state: Mutex<State>,
    out: Mutex<Box<dyn std::io::Write + Send>>,
}

impl ConsoleChat {
    pub fn new(clock: Arc<dyn Clock>, zone: Zone, out: Box<dyn std::io::Write + Send>) -> Self {
        Self {
            clock,
            zone: Mutex::new(zone),
            state: Mutex::new(State::default()),
            out: Mutex::new(out),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_zone(&self, zone: Zone) {
        *self.zone.lock().unwrap_or_else(|p| p.into_inner()) = zone;
    }

    /// Prints a block of text to the terminal.
    pub fn print(&self, text: &str) {
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        // A closed terminal is no reason to stop the demo's bookkeeping.
        if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
            tracing::debug!("terminal closed");
        }
    }

    pub fn stamp(&self) -> String {
        let zone = *self.zone.lock().unwrap_or_else(|p| p.into_inner());
        self.clock
            .now()
            .with_timezone(&zone.tz())
            .format("%a %Y-%m-%d %H:%M %Z")
            .to_string()
    }

    /// Shows a message with numbered buttons, remembering them for `/press`.
    pub fn show(&self, header: &str, message: &ChatMessage) {
        let words =
            career_circle_core::chat::text::render(&message.text, Capabilities::CONSOLE.markup);
        let mut text = format!("── {header} · {} ──\n{}", self.stamp(), words.trim_end());
        if !message.buttons.is_empty() {
            let labels: Vec<String> = message
                .buttons
                .iter()
                .enumerate()
                .map(|(i, b)| format!("[{}] {}", i + 1, b.label))
                .collect();
            text.push_str(&format!("\n{}   (type /press N)", labels.join("  ")));
            self.state().buttons = message.buttons.clone();
        }
        for f in &message.attachments {
            text.push_str(&format!(
                "\n(attachment: {}, {} bytes)",
                f.filename,
                f.bytes.len()
            ));
        }
        self.print(&text);
    }

    pub fn button(&self, number: usize) -> Option<Button> {
        number
            .checked_sub(1)
            .and_then(|i| self.state().buttons.get(i).cloned())
    }

    pub fn take_peer_inbox(&self) -> Vec<(String, ChatMessage, String)> {
        std::mem::take(&mut self.state().peer_inbox)
    }

    pub fn thread_title(&self, id: &str) -> Option<String> {
        self.state()
            .threads
            .iter()
            .find(|(t, _)| t == id)
            .map(|(_, title)| title.clone())
    }
}

#[async_trait]
impl ChatPort for ConsoleChat {
    fn capabilities(&self) -> &'static Capabilities {
        &Capabilities::CONSOLE
    }

    async fn send(
        &self,
        to: &Destination,
        message: &ChatMessage,
        _nonce: Option<&str>,
    ) -> Result<Posted, ChatError> {
        let id = {
            let mut state = self.state();
            state.next_id += 1;
            format!("c{}", state.next_id)
        };
        match to {
            Destination::Dm { user_id } if user_id == YOU => {
                self.show("DM from career-circle", message);
                Ok(Posted {
                    channel_id: format!("dm-{user_id}"),
                    message_id: id,
                })
            }
            Destination::Dm { user_id } => {
                self.state()
                    .peer_inbox
                    .push((user_id.clone(), message.clone(), id.clone()));
                Ok(Posted {
                    channel_id: format!("dm-{user_id}"),
                    message_id: id,
                })
            }
            Destination::Channel { channel_id }
            | Destination::Thread(ThreadRef { channel_id, .. }) => {
                let where_ = self
                    .thread_title(channel_id)
                    .map(|t| format!("thread \"{t}\""))
                    .unwrap_or_else(|| format!("#{channel_id}"));
                self.show(&format!("career-circle in {where_}"), message);
                Ok(Posted {
                    channel_id: channel_id.clone(),
                    message_id: id,
                })
            }
        }
    }

    async fn open_thread(&self, channel_id: &str, title: &str) -> Result<ThreadRef, ChatError> {
        let id = {
            let mut state = self.state();
            state.next_id += 1;
            let id = format!("thread{}", state.next_id);
            state.threads.push((id.clone(), title.to_owned()));
            id
        };
        self.print(&format!(
            "── #{channel_id} · {} ──\ncareer-circle opened the thread \"{title}\"",
            self.stamp()
        ));
        Ok(ThreadRef::channel(id))
    }

    async fn edit(&self, posted: &Posted, message: &ChatMessage) -> Result<(), ChatError> {
        let where_ = self
            .thread_title(&posted.channel_id)
            .map(|t| format!("thread \"{t}\""))
            .unwrap_or_else(|| format!("#{}", posted.channel_id));
        self.show(
            &format!(
                "career-circle edited its message {} in {where_}",
                posted.message_id
            ),
            message,
        );
        Ok(())
    }

    async fn close_thread(&self, thread: &ThreadRef, _note: &Text) -> Result<(), ChatError> {
        let title = self
            .thread_title(&thread.channel_id)
            .unwrap_or_else(|| thread.channel_id.clone());
        self.print(&format!("(thread \"{title}\" archived)"));
        Ok(())
    }
}
