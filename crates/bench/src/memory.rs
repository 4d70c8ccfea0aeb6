//! `bench memory`: resident memory of `career-circle run` (planner, worker and operator endpoint; no gateway)
//! with a large circle population, idle and during a delivery burst to a local sink.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;

use crate::schedule::ZONES;
use crate::sink::Sink;
use career_circle_core::settings::Settings;
use career_circle_core::store::bench as seed;
use career_circle_core::store::scratch::{Commits, ScratchDb};

/// Resident set size of a process in MiB, from /proc (Linux).
fn rss_mib(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .context("reading /proc (Linux only)")?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .context("no VmRSS line")?;
    Ok(kib / 1024.0)
}

pub async fn run(settings: &Settings, members: u32, burst: u32) -> anyhow::Result<String> {
    let scratch = ScratchDb::create(settings.database_url(), "cc_bench", Commits::Durable).await?;
    let result = measure(&scratch, members, burst).await;
    scratch.finish(result).await
}

async fn measure(scratch: &ScratchDb, members: u32, burst: u32) -> anyhow::Result<String> {
    let pool = &scratch.pool;
    let zones: Vec<String> = ZONES.iter().map(|z| (*z).to_owned()).collect();
    let now = Utc::now();
    seed::seed(
        pool,
        i64::from(members),
        i64::from((members / 100).max(1)),
        &zones,
        now - chrono::Duration::days(1),
    )
    .await?;
    let sink = Sink::default();
    let url = sink.start().await?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let exe = std::env::current_exe()?;
    let mut child = tokio::process::Command::new(exe)
        .arg("run")
        .env("DATABASE_URL", &scratch.url)
        .env("DISCORD_TOKEN", "bench.token.not-a-real-one")
        .env("CAREER_CIRCLE__DISCORD__PROXY_URL", &url)
        .env("CAREER_CIRCLE__DISCORD__GATEWAY", "false")
        .env("CAREER_CIRCLE__HTTP__BIND", format!("127.0.0.1:{port}"))
        .env("CAREER_CIRCLE__WORKER__GLOBAL_RATE", "1000")
        .env("CAREER_CIRCLE__WORKER__CHANNEL_RATE", "1000")
        .env("CAREER_CIRCLE__WORKER__POLL_INTERVAL", "100ms")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting career-circle run")?;
    let pid = child.id().context("the child has no pid")?;

    // Up: the operator endpoint answers 200 once the database does.
    let health = format!("http://127.0.0.1:{port}/healthz");
    let started = Instant::now();
    loop {
        if reqwest::get(&health)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(120),
            "run did not come up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Idle: several planner ticks over the whole population.
    let mut idle: f64 = 0.0;
    for _ in 0..30 {
        idle = idle.max(rss_mib(pid)?);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A burst: every delivery due now. Its period is a month before the members joined, which the planner of
    // `run` never plans: this month's nudges, which it may plan on the first days of a month, would take the
    // natural key of some of the burst's and make it smaller than asked.
    let queued = seed::queue_nudges(
        pool,
        &(now - chrono::Duration::days(62))
            .format("%Y-%m")
            .to_string(),
        Utc::now(),
        i64::from(burst),
    )
    .await?;
    let mut peak: f64 = idle;
    let started = Instant::now();
    loop {
        peak = peak.max(rss_mib(pid)?);
        let (pending, _) = seed::progress(pool).await?;
        if pending == 0 {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "the burst did not drain"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let burst_seconds = started.elapsed().as_secs_f64();
    child.start_kill().ok();
    child.wait().await.ok();
    Ok(serde_json::json!({
        "scenario": "memory",
        "members": members,
        "burst": queued,
        "delivered": sink.counts().messages,
        "burst_seconds": round(burst_seconds),
        "idle_rss_mib": round(idle),
        "burst_peak_rss_mib": round(peak),
        "duplicates": sink.counts().duplicates,
        "goal": "under 150 MB",
    })
    .to_string())
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
