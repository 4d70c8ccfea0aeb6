//! `bench deliver`: a burst of nudges through the real worker and Discord adapter to a local sink, with the
//! global rate limit set; achieved rate against the configured one, once with one worker and once with three
//! worker processes sharing the database.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;
use serenity::http::HttpBuilder;
use sqlx::PgPool;

use crate::schedule::ZONES;
use crate::sink::Sink;
use career_circle_core::chat::ChatPort;
use career_circle_core::chat::Platform;
use career_circle_core::clock::SystemClock;
use career_circle_core::schedule::worker::Worker;
use career_circle_core::settings::{Settings, WorkerSettings};
use career_circle_core::store::bench as seed;
use career_circle_core::store::dm_channels::StoredDmChannels;
use career_circle_core::store::pacing::SharedPacer;
use career_circle_core::store::scratch::{Commits, ScratchDb};
use career_circle_discord::chat_port::{DiscordChat, Rates};

pub fn worker_settings(base: &WorkerSettings, rate: u32) -> WorkerSettings {
    WorkerSettings {
        global_rate: rate.max(1),
        // Every nudge goes to its own DM, so only the global limit matters here.
        channel_rate: 100_000,
        batch_size: 200,
        concurrency: 32,
        request_timeout: Duration::from_secs(10),
        ..base.clone()
    }
}

/// Works the outbox until nothing is left to claim; returns the deliveries this worker sent.
pub async fn drain(
    pool: PgPool,
    sink_url: &str,
    settings: &WorkerSettings,
) -> anyhow::Result<usize> {
    let http = HttpBuilder::new("bench-token")
        .proxy(sink_url.to_owned())
        .ratelimiter_disabled(true)
        .build();
    // The pace every instance shares through the database: the sum of all processes keeps the configured rate.
    let chat: Arc<dyn ChatPort> = Arc::new(
        DiscordChat::new(Arc::new(http), settings.request_timeout)?.shared(
            Arc::new(SharedPacer::new(pool.clone())),
            Rates {
                global_per_second: f64::from(settings.global_rate),
                channel_per_second: f64::from(settings.channel_rate),
            },
            Arc::new(StoredDmChannels::new(pool.clone(), Platform::Discord)),
        ),
    );
    let worker = Worker::new(pool.clone(), chat, Arc::new(SystemClock), settings.clone());
    let mut sent = 0;
    loop {
        let o = worker.run_once().await?;
        sent += o.sent;
        if o.claimed == 0 {
            let (pending, _) = seed::progress(&pool).await?;
            if pending == 0 {
                return Ok(sent);
            }
            // Others hold the rest, or a retry is not due yet.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

pub async fn run(settings: &Settings, deliveries: u32, rate: u32) -> anyhow::Result<String> {
    let scratch = ScratchDb::create(settings.database_url(), "cc_bench", Commits::Durable).await?;
    let result = measure(&scratch, settings, deliveries, rate).await;
    scratch.finish(result).await
}

async fn measure(
    scratch: &ScratchDb,
    settings: &Settings,
    deliveries: u32,
    rate: u32,
) -> anyhow::Result<String> {
    let pool = &scratch.pool;
    let now = Utc::now();
    let zones: Vec<String> = ZONES.iter().map(|z| (*z).to_owned()).collect();
    seed::seed(
        pool,
        i64::from(deliveries),
        i64::from((deliveries / 10).max(1)),
        &zones,
        now - chrono::Duration::days(1),
    )
    .await?;
    let queued = seed::queue_nudges(
        pool,
        &now.format("%Y-%m").to_string(),
        now,
        i64::from(deliveries),
    )
    .await?;
    let sink = Sink::default();
    let url = sink.start().await?;

    // One worker in this process.
    let ws = worker_settings(&settings.worker, rate);
    let started = Instant::now();
    let sent_one = drain(pool.clone(), &url, &ws).await?;
    let wall_one = started.elapsed().as_secs_f64();
    let one = sink.counts();
    let span_one = sink.span_seconds();
    let (busiest_one, requests_one, rate_one) =
        (sink.busiest_second(), sink.requests(), sink.request_rate());

    // Three processes, each told the whole rate: the shared pace keeps their sum to it.
    seed::requeue(pool, Utc::now()).await?;
    sink.reset();
    let exe = std::env::current_exe().context("finding this program to start worker processes")?;
    let started = Instant::now();
    let mut children = Vec::new();
    for _ in 0..3 {
        children.push(
            tokio::process::Command::new(&exe)
                .args([
                    "bench",
                    "deliver-worker",
                    "--sink",
                    &url,
                    "--rate",
                    &rate.to_string(),
                ])
                .env("DATABASE_URL", &scratch.url)
                .env("RUST_LOG", "error")
                .stdout(std::process::Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .context("starting a worker process")?,
        );
    }
    for mut child in children {
        let status = child.wait().await?;
        anyhow::ensure!(status.success(), "a worker process failed: {status}");
    }
    let wall_three = started.elapsed().as_secs_f64();
    let three = sink.counts();
    let span_three = sink.span_seconds();
    let (busiest_three, requests_three, rate_three) =
        (sink.busiest_second(), sink.requests(), sink.request_rate());
    let (pending, sent) = seed::progress(pool).await?;
    anyhow::ensure!(
        pending == 0 && sent == i64::try_from(queued).unwrap_or(i64::MAX),
        "{pending} pending, {sent} sent"
    );

    let achieved = |messages: u64, span: f64| {
        if span > 0.0 {
            (messages.saturating_sub(1)) as f64 / span
        } else {
            0.0
        }
    };
    let (a1, a3) = (
        achieved(one.messages, span_one),
        achieved(three.messages, span_three),
    );
    Ok(serde_json::json!({
        "scenario": "deliver",
        "deliveries": queued,
        "configured_rate": rate,
        "one_worker": {"sent": sent_one, "messages": one.messages, "duplicates": one.duplicates,
                       "requests": requests_one, "busiest_second": busiest_one,
                       "request_rate": round(rate_one), "request_ratio": round(rate_one / f64::from(rate.max(1))),
                       "seconds": round(span_one), "wall_seconds": round(wall_one),
                       "achieved_rate": round(a1), "ratio": round(a1 / f64::from(rate.max(1)))},
        "three_processes": {"messages": three.messages, "duplicates": three.duplicates,
                            "requests": requests_three, "busiest_second": busiest_three,
                            "request_rate": round(rate_three),
                            "request_ratio": round(rate_three / f64::from(rate.max(1))),
                            "seconds": round(span_three), "wall_seconds": round(wall_three),
                            "achieved_rate": round(a3), "ratio": round(a3 / f64::from(rate.max(1)))},
        "goal": "busiest_second <= configured_rate, request_ratio >= 0.95, zero duplicates",
    })
    .to_string())
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
