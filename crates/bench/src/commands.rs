//! `bench commands`: a mixed load of slash commands through the real serenity client and poise into the use cases
//! and the database, against a stand-in Discord on loopback. Latency is from pushing the interaction on the
//! gateway to receiving the bot's interaction callback; percentiles and throughput.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::standin::{self, Standin};
use career_circle_core::app::circles::CreateCircle;
use career_circle_core::app::{Actor, App, Platform};
use career_circle_core::clock::SystemClock;
use career_circle_core::settings::{CommandScope, Settings};
use career_circle_core::store::scratch::{Commits, ScratchDb};
use career_circle_discord::{self as discord, Connection};

const MEMBERS: usize = 60;

fn user_id(i: usize) -> String {
    (1_200_000_000_000_000u64 + i as u64).to_string()
}

fn sub(name: &str, options: Value) -> Value {
    json!([{"type": 1, "name": name, "options": options}])
}

fn text(name: &str, value: &str) -> Value {
    json!({"type": 3, "name": name, "value": value})
}

fn int(name: &str, value: i64) -> Value {
    json!({"type": 4, "name": name, "value": value})
}

/// The n-th command of the mix: (command, options).
fn command(n: usize) -> (&'static str, Value) {
    match n % 10 {
        0 => ("commit", sub("list", json!([]))),
        1 => (
            "commit",
            sub("done", json!([text("link", "https://example.com/post")])),
        ),
        2 => ("spec", sub("show", json!([]))),
        3 => ("circle", sub("members", json!([]))),
        4 => (
            "win",
            sub(
                "add",
                json!([text("text", "I shipped the thing and it moved the metric")]),
            ),
        ),
        5 => (
            "checkin",
            sub(
                "answer",
                json!([text(
                    "answers",
                    "On track; writing slipped; next: Friday mornings."
                )]),
            ),
        ),
        6 => (
            "spec",
            sub(
                "phase",
                json!([text(
                    "phase",
                    if n % 20 == 6 { "impact" } else { "learning" }
                )]),
            ),
        ),
        7 => (
            "opportunity",
            sub(
                "evaluate",
                json!([
                    text("name", "Acme"),
                    int("learning", 4),
                    int("impact", 3),
                    int("compensation", 3),
                    int("team", 4),
                    int("alignment", 4)
                ]),
            ),
        ),
        8 => (
            "me",
            sub("timezone", json!([text("zone", "Europe/London")])),
        ),
        _ => ("win", sub("list", json!([]))),
    }
}

pub async fn run(settings: &Settings, count: u32, concurrency: u32) -> anyhow::Result<String> {
    let scratch = ScratchDb::create(settings.database_url(), "cc_bench", Commits::Durable).await?;
    let result = measure(&scratch, settings, count, concurrency).await;
    scratch.finish(result).await
}

async fn measure(
    scratch: &ScratchDb,
    settings: &Settings,
    count: u32,
    concurrency: u32,
) -> anyhow::Result<String> {
    let app = App::new(
        scratch.pool.clone(),
        Arc::new(SystemClock),
        settings.schedule.clone(),
    );
    for i in 0..MEMBERS {
        let a = Actor {
            platform: Platform::Discord,
            server: Some(standin::GUILD_ID.to_owned()),
            user_id: user_id(i),
            display_name: format!("Member {i}"),
            channel_id: Some(standin::CHANNEL_ID.to_owned()),
            manager: false,
        };
        let circle = format!("Circle {}", i / 10);
        if i % 10 == 0 {
            app.circle_create(
                &a,
                CreateCircle {
                    name: &circle,
                    channel_id: standin::CHANNEL_ID,
                    zone: None,
                },
            )
            .await?;
        } else {
            app.circle_join(&a, &circle).await?;
        }
        app.commit_add(&a, "publish one post", None).await?;
        app.spec_save(&a, &[("vision".to_owned(), "Head of product".to_owned())])
            .await?;
    }

    let discord = Standin::default();
    let base = discord.start().await?;
    let connection = Connection {
        token: "bench.token.not-a-real-one".to_owned(),
        proxy: Some(base),
        register: CommandScope::Guild,
        dev_guild_id: standin::GUILD_ID.parse().ok(),
        request_timeout: Duration::from_secs(10),
    };
    let chat = Arc::new(discord::chat_port::DiscordChat::new(
        Arc::new(connection.http()?),
        connection.request_timeout,
    )?);
    let framework = discord::Handler::new(app, chat, CommandScope::Guild, connection.dev_guild_id);
    let mut client =
        serenity::all::ClientBuilder::new_with_http(connection.http()?, discord::intents())
            .framework(framework)
            .await
            .context("building the Discord client")?;
    let shards = client.shard_manager.clone();
    let running = tokio::spawn(async move { client.start().await });
    let started = Instant::now();
    while !discord.ready() {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(120),
            "the bot never became ready"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let workers = concurrency.max(1) as usize;
    let per = (count as usize).div_ceil(workers);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..workers {
        let discord = discord.clone();
        tasks.spawn(async move {
            let mut own = Vec::with_capacity(per);
            for k in 0..per {
                let n = w * per + k;
                let (name, options) = command(n);
                let interaction = standin::slash_command(
                    2_000_000_000_000_000 + n as u64,
                    &user_id(n % MEMBERS),
                    name,
                    options,
                );
                let sent = Instant::now();
                // Wait for the answer itself, however busy the machine: whether it came within Discord's 3 s
                // is a figure of the result, not a reason to stop waiting.
                let answered =
                    tokio::time::timeout(ANSWER_BOUND, discord.interact(interaction)).await;
                match answered {
                    Ok(Some(at)) => own.push(Some((at - sent).as_secs_f64() * 1000.0)),
                    _ => own.push(None),
                }
            }
            own
        });
    }
    let mut latencies = Vec::with_capacity(count as usize);
    let mut unanswered = 0;
    while let Some(done) = tasks.join_next().await {
        for l in done? {
            match l {
                Some(ms) => latencies.push(ms),
                None => unanswered += 1,
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    shards.shutdown_all().await;
    running.abort();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let in_deadline = latencies.iter().filter(|ms| **ms <= DEADLINE_MS).count();
    Ok(json!({
        "scenario": "commands",
        "commands": latencies.len() + unanswered,
        "answered": latencies.len(),
        "unanswered": unanswered,
        "unanswered_in_3s": latencies.len() + unanswered - in_deadline,
        "unexpected_errors": discord.apologies(),
        "concurrency": workers,
        "p50_ms": round(pct(0.5)),
        "p99_ms": round(pct(0.99)),
        "max_ms": round(latencies.last().copied().unwrap_or(0.0)),
        "throughput_per_s": round(latencies.len() as f64 / seconds),
        "deadline_ms": DEADLINE_MS,
        "ratio_p99_to_deadline": round(pct(0.99) / DEADLINE_MS),
        "goal": "p99 under 15 ms",
    })
    .to_string())
}

/// Discord's window for answering an interaction.
const DEADLINE_MS: f64 = 3000.0;

/// How long one command's answer is waited for before it counts as never answered.
const ANSWER_BOUND: Duration = Duration::from_secs(120);

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
