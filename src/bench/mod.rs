//! `career-circle bench ...`: scenarios that print their figures as JSON, each with a ratio measured in the
//! same run so machines of different speed can be compared.

pub mod schedule;

use crate::cli::load_settings;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub scenario: Scenario,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Scenario {
    /// One planner tick that makes the monthly nudges of N members (1,000 circles, 30 zones) in a scratch
    /// database, against a bare INSERT ... SELECT of the same rows.
    Schedule {
        /// Members to seed.
        #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(30..=2_000_000))]
        members: u32,
        /// Circles to spread them over.
        #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        circles: u32,
    },
}

pub async fn main(args: Args) -> u8 {
    let settings = match load_settings() {
        Ok(s) => s,
        Err(code) => return code,
    };
    crate::telemetry::init(&settings.log);
    let result = match args.scenario {
        Scenario::Schedule { members, circles } => schedule::run(&settings, members, circles).await,
    };
    match result {
        Ok(json) => {
            println!("{json}");
            0
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}
