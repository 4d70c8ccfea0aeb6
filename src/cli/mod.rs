//! Subcommands. Each `main` returns the process exit code: 0 success, 1 failure, 2 bad settings or arguments.

pub mod doctor;
pub mod migrate;
pub mod run;

pub mod simulate;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "career-circle",
    version,
    about = "An accountability bot for career support circles.",
    long_about = "career-circle keeps a small circle of people honest about their careers: a career spec each, \
                  monthly writing nudges, quarterly check-ins and a peer review thread, in your Discord server.\n\n\
                  New here? Try `career-circle demo` (no Discord needed), then `career-circle doctor` before `run`.\n\
                  Settings: config/default.toml, overridden by config/local.toml and CAREER_CIRCLE__SECTION__KEY \
                  environment variables."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the bot: Discord gateway, scheduler, delivery worker and the operator endpoint (/healthz, /metrics).
    /// Needs a token (DISCORD_TOKEN); stops gracefully on Ctrl-C or SIGTERM.
    Run,
    /// Apply database migrations (safe to run again: it only applies what is missing).
    Migrate,
    /// Check settings, database, migrations and token, and say how to fix what is wrong.
    Doctor,
    /// Preview a circle's year: run the real planner and worker on a virtual clock against a scratch database and
    /// print every message that would be sent as one JSON line.
    Simulate(simulate::Args),
    /// Measure the planner, the worker, commands and memory; prints JSON figures.
    Bench(career_circle_bench::Args),
    /// Try the bot in your terminal: a demo circle with two simulated peers and a clock you can move.
    Demo(career_circle_console::demo::Args),
}
