//! career-circle: an accountability bot for career support circles.
//!
//! Layers, top to bottom: `chat` (platform adapters) -> `app` (use cases) -> `domain`, `store`, `schedule`.
//! The core knows nothing of Discord or Slack; only `chat::discord` imports serenity and poise.

pub mod app;
pub mod bench;
pub mod chat;
pub mod cli;
pub mod clock;
pub mod domain;
pub mod ops;
pub mod schedule;
pub mod settings;
pub mod store;
pub mod telemetry;
