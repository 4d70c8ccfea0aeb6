//! Integration tests: one binary, each test against its own fresh PostgreSQL database (#[sqlx::test]).

// Tests may unwrap: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod app_commands;
mod bench;
mod command_table;
mod demo;
mod discord_e2e;
mod discord_measuring_stick;
mod discord_narrative;
mod dm_replies;
mod fuzz_inputs;
mod good_citizen;
mod limits;
mod loopback_discord;
mod measuring_stick;
mod membership;
mod narrative;
mod ops;
mod outbox_partitions;
mod pg_restart;
mod process;
mod recovery;
mod reliability;
mod render_limits;
mod reviews;
mod scaling_plan;
mod schedule_planner;
mod schedule_worker;
mod schema;
mod scratch;
mod scripts;
mod security;
mod servers_e2e;
mod shards;
mod simulate;
mod slack_checkin;
mod slack_e2e;
mod slack_home;
mod slack_install;
mod slack_limits;
mod slack_payloads;
mod slack_socket;
