//! Subcommands. Each `main` returns the process exit code: 0 success, 1 failure, 2 bad settings or arguments.

pub mod doctor;
pub mod migrate;
pub mod run;

pub mod simulate;

/// `career-circle slack ...`.
#[derive(Debug, Subcommand)]
pub enum SlackCommand {
    /// Print the Slack app manifest (JSON), written from the command table: paste it into "Create an app >
    /// From a manifest".
    Manifest {
        /// The app's and bot user's name.
        #[arg(long, default_value = "career-circle")]
        name: String,
    },
}

/// Prints the manifest.
pub fn slack_main(command: SlackCommand) -> u8 {
    match command {
        SlackCommand::Manifest { name } => {
            let manifest = career_circle_slack::manifest::manifest(&name);
            match serde_json::to_string_pretty(&manifest) {
                Ok(text) => {
                    println!("{text}");
                    0
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    1
                }
            }
        }
    }
}

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
    /// Run the bot: each platform that has its tokens (Discord gateway, Slack Socket Mode), scheduler, delivery
    /// worker and the operator endpoint (/healthz, /metrics). Needs DISCORD_TOKEN, or SLACK_BOT_TOKEN and
    /// SLACK_APP_TOKEN; stops gracefully on Ctrl-C or SIGTERM.
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
    /// Slack setup helpers.
    #[command(subcommand)]
    Slack(SlackCommand),
    /// Try the bot in your terminal: a demo circle with two simulated peers and a clock you can move.
    Demo(career_circle_console::demo::Args),
}
