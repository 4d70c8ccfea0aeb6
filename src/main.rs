//! The `career-circle` command line: a thin layer over the library.

use std::process::ExitCode;

use clap::Parser;

use career_circle::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async move {
        match cli.command {
            Command::Run => career_circle::cli::run::main().await,
            Command::Migrate => career_circle::cli::migrate::main().await,
            Command::Doctor => career_circle::cli::doctor::main().await,
            Command::Slack(command) => career_circle::cli::slack_main(command),
            Command::Simulate(args) => career_circle::cli::simulate::main(args).await,
            Command::Bench(args) => career_circle_bench::main(args).await,
            Command::Demo(args) => career_circle_console::demo::main(args).await,
        }
    });
    ExitCode::from(code)
}
