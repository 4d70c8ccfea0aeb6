//! Integration tests: one binary, each test against its own fresh PostgreSQL database (#[sqlx::test]).

// Tests may unwrap: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod demo;
mod loopback_discord;
mod process;
mod schedule_planner;
mod schedule_worker;
mod schema;
mod simulate;
