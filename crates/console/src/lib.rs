//! Chats that live in this process: the local demo's terminal, and the recording chat that `simulate` prints from
//! and the tests assert on.

pub mod console;
pub mod demo;
pub mod recording;
