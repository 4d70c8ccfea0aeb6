//! `career-circle bench ...`: scenarios that print their figures as JSON, each with a ratio measured in the
//! same run so machines of different speed can be compared.

pub mod commands;
pub mod deliver;
pub mod memory;
pub mod outbox;
pub mod schedule;
pub mod sink;
pub mod standin;

use career_circle_core::settings::load_or_exit_code as load_settings;

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
        #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        circles: u32,
    },
    /// A burst of nudges through the real worker and Discord adapter to a local stand-in for Discord, with the
    /// global rate limit set; achieved against configured rate with one worker, then with three processes.
    Deliver {
        /// Deliveries in the burst.
        #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(10..=1_000_000))]
        deliveries: u32,
        /// The configured global rate (requests per second).
        #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(3..=100_000))]
        rate: u32,
    },
    /// Resident memory of `career-circle run` (no gateway) with N members, idle and during a burst of nudges.
    Memory {
        /// Members to seed.
        #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(30..=2_000_000))]
        members: u32,
        /// Nudges in the burst (one per member at most).
        #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..=2_000_000))]
        burst: u32,
    },
    /// The outbox as fast as the database allows (no platform): N pending rows claimed and recorded by three
    /// workers; claim p50/p99, rows/s, dead rows and index size, partitioned against one plain table, each also
    /// with a transaction held open for the whole run.
    Outbox {
        /// Pending rows to drain.
        #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u32).range(10..=5_000_000))]
        rows: u32,
    },
    /// A mixed load of slash commands through serenity and poise into the use cases and the database, against a
    /// stand-in Discord on loopback: p50/p99 latency from gateway event to interaction callback, throughput.
    Commands {
        /// Commands to run.
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(10..=1_000_000))]
        count: u32,
        /// Commands in flight at once.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
        concurrency: u32,
    },
    /// (Used by `bench deliver`.) Drain the outbox of DATABASE_URL into the given sink, then exit.
    #[command(hide = true)]
    DeliverWorker {
        #[arg(long)]
        sink: String,
        #[arg(long)]
        rate: u32,
    },
}

pub async fn main(args: Args) -> u8 {
    let settings = match load_settings() {
        Ok(s) => s,
        Err(code) => return code,
    };
    career_circle_core::telemetry::init(&settings.log);
    let result = match args.scenario {
        Scenario::Schedule { members, circles } => schedule::run(&settings, members, circles).await,
        Scenario::Deliver { deliveries, rate } => deliver::run(&settings, deliveries, rate).await,
        Scenario::Commands { count, concurrency } => {
            commands::run(&settings, count, concurrency).await
        }
        Scenario::Memory { members, burst } => memory::run(&settings, members, burst).await,
        Scenario::Outbox { rows } => outbox::run(&settings, rows).await,
        Scenario::DeliverWorker { sink, rate } => {
            let ws = deliver::worker_settings(&settings.worker, rate);
            match career_circle_core::store::connect(
                settings.database_url(),
                8,
                settings.database.connect_timeout,
            )
            .await
            {
                Ok(pool) => deliver::drain(pool, &sink, &ws)
                    .await
                    .map(|n| n.to_string()),
                Err(e) => Err(e.into()),
            }
        }
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
