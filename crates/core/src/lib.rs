//! career-circle's core: what the bot is, whatever chat it lives in.
//!
//! Arrows point down: `app` (use cases) -> `domain` (pure rules), `store` (all SQL), `schedule` (planner, outbox
//! worker, renders) -> `chat` (the port every platform implements). This crate depends on no chat platform's
//! library; adapters live in their own crates and depend on this one.

pub mod app;
pub mod chat;
pub mod clock;
pub mod domain;
pub mod ops;
pub mod schedule;
pub mod settings;
pub mod store;
pub mod telemetry;
