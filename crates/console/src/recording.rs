//! A chat that keeps what it is sent in memory: `simulate` prints from it and tests assert on it. Like
//! Discord, it drops a second message with a nonce it has already seen in that channel and answers with the
//! first one, and it can be told to fail sends to chosen destinations.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;

use career_circle_core::chat::{
    Capabilities, ChatError, ChatMessage, ChatPort, Destination, Posted, Text, ThreadRef,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub to: Destination,
    pub message: ChatMessage,
    pub posted: Posted,
}

#[derive(Debug, Default)]
struct State {
    sent: Vec<Sent>,
    nonces: HashMap<(String, String), Posted>,
    faults: HashMap<Destination, VecDeque<ChatError>>,
    always: HashMap<Destination, ChatError>,
    threads: Vec<(String, String)>,
    archived: Vec<String>,
    edits: Vec<(Posted, ChatMessage)>,
    next_id: u64,
    send_calls: usize,
}

#[derive(Debug)]
pub struct RecordingChat {
    state: Mutex<State>,
    caps: &'static Capabilities,
}

impl Default for RecordingChat {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordingChat {
    /// A chat with the terminal's (generous) limits.
    pub fn new() -> Self {
        Self::with_capabilities(&Capabilities::CONSOLE)
    }

    /// A chat that declares a real platform's limits, so renders are made to fit them.
    pub fn with_capabilities(caps: &'static Capabilities) -> Self {
        Self {
            state: Mutex::new(State::default()),
            caps,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.lock().sent.clone()
    }

    /// Every call to `send`, including ones the nonce turned into no-ops: a double send shows here.
    pub fn send_calls(&self) -> usize {
        self.lock().send_calls
    }

    pub fn take_sent(&self) -> Vec<Sent> {
        std::mem::take(&mut self.lock().sent)
    }

    /// The next `times` sends to `to` fail with `error`.
    pub fn fail_next(&self, to: Destination, error: ChatError, times: usize) {
        let mut state = self.lock();
        let queue = state.faults.entry(to).or_default();
        queue.extend(std::iter::repeat_n(error, times));
    }

    /// Every send to `to` fails with `error` (a member with DMs closed).
    pub fn fail_always(&self, to: Destination, error: ChatError) {
        self.lock().always.insert(to, error);
    }

    pub fn threads(&self) -> Vec<(String, String)> {
        self.lock().threads.clone()
    }

    pub fn archived(&self) -> Vec<String> {
        self.lock().archived.clone()
    }

    /// Every edit of an earlier message, in order: (the message, what it now says).
    pub fn edits(&self) -> Vec<(Posted, ChatMessage)> {
        self.lock().edits.clone()
    }

    fn channel_of(to: &Destination) -> String {
        match to {
            Destination::Dm { user_id } => format!("dm-{user_id}"),
            Destination::Channel { channel_id } => channel_id.clone(),
            Destination::Thread(t) => t.channel_id.clone(),
        }
    }
}

#[async_trait]
impl ChatPort for RecordingChat {
    fn capabilities(&self) -> &'static Capabilities {
        self.caps
    }

    async fn send(
        &self,
        to: &Destination,
        message: &ChatMessage,
        nonce: Option<&str>,
    ) -> Result<Posted, ChatError> {
        let mut state = self.lock();
        state.send_calls += 1;
        if let Some(error) = state.always.get(to) {
            return Err(error.clone());
        }
        if let Some(error) = state.faults.get_mut(to).and_then(VecDeque::pop_front) {
            return Err(error);
        }
        let channel_id = Self::channel_of(to);
        if let Some(nonce) = nonce
            && let Some(first) = state.nonces.get(&(channel_id.clone(), nonce.to_owned()))
        {
            return Ok(first.clone());
        }
        state.next_id += 1;
        let posted = Posted {
            channel_id: channel_id.clone(),
            message_id: format!("m{}", state.next_id),
        };
        if let Some(nonce) = nonce {
            state
                .nonces
                .insert((channel_id, nonce.to_owned()), posted.clone());
        }
        state.sent.push(Sent {
            to: to.clone(),
            message: message.clone(),
            posted: posted.clone(),
        });
        Ok(posted)
    }

    async fn open_thread(&self, channel_id: &str, title: &str) -> Result<ThreadRef, ChatError> {
        let mut state = self.lock();
        state.next_id += 1;
        let id = format!("t{}", state.next_id);
        state
            .threads
            .push((channel_id.to_owned(), title.to_owned()));
        Ok(ThreadRef::channel(id))
    }

    async fn edit(&self, posted: &Posted, message: &ChatMessage) -> Result<(), ChatError> {
        let mut state = self.lock();
        let known = state.sent.iter().any(|s| s.posted == *posted);
        if !known {
            return Err(ChatError::NotFound(format!(
                "no message {} in {}",
                posted.message_id, posted.channel_id
            )));
        }
        state.edits.push((posted.clone(), message.clone()));
        Ok(())
    }

    async fn close_thread(&self, thread: &ThreadRef, _note: &Text) -> Result<(), ChatError> {
        self.lock().archived.push(thread.channel_id.clone());
        Ok(())
    }
}
