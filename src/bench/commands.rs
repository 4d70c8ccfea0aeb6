//! `bench commands`: a mixed load of member commands through the use cases against the database, as the Discord
//! adapter calls them (the adapter only parses options and renders the reply). Latency percentiles and throughput.

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;

use crate::app::circles::CreateCircle;
use crate::app::commitments::Done;
use crate::app::opportunities::Evaluate;
use crate::app::{Actor, App, Platform};
use crate::cli::scratch::ScratchDb;
use crate::clock::SystemClock;
use crate::settings::Settings;

const MEMBERS: usize = 60;

fn actor(i: usize) -> Actor {
    Actor {
        platform: Platform::Discord,
        server: Some("bench-guild".to_owned()),
        user_id: (1_000_000_000_000_000u64 + i as u64).to_string(),
        display_name: format!("Member {i}"),
    }
}

pub async fn run(settings: &Settings, count: u32, concurrency: u32) -> anyhow::Result<String> {
    let scratch = ScratchDb::create(settings.database_url(), "cc_bench").await?;
    let result = measure(&scratch, settings, count, concurrency).await;
    scratch.finish(result).await
}

/// One command of the mix, chosen by `n`; returns whether the use case answered (user errors count as answers).
async fn one(app: &App, n: usize) -> bool {
    let a = actor(n % MEMBERS);
    let result = match n % 10 {
        0 => app.commit_list(&a).await,
        1 => {
            app.commit_done(
                &a,
                Done {
                    commitment: None,
                    link: Some("https://example.com/p"),
                    note: None,
                },
            )
            .await
        }
        2 => app.spec_show(&a, None).await,
        3 => app.circle_members(&a, None).await,
        4 => {
            app.win_add(&a, "I shipped the thing and it moved the metric", None)
                .await
        }
        5 => {
            app.checkin_command(
                &a,
                None,
                "On track; writing slipped; next: Friday mornings.",
            )
            .await
        }
        6 => {
            app.spec_save(
                &a,
                &[("vision".to_owned(), format!("Head of product, take {n}"))],
            )
            .await
        }
        7 => {
            let e = Evaluate {
                name: "Acme",
                scores: [4, 3, 3, 4, 4],
                fails: None,
            };
            app.opportunity_evaluate(&a, e).await
        }
        8 => app.me_timezone(&a, "Europe/London").await,
        _ => app.win_list(&a, None).await,
    };
    !matches!(result, Err(crate::app::Error::Unexpected(_)))
}

async fn measure(
    scratch: &ScratchDb,
    settings: &Settings,
    count: u32,
    concurrency: u32,
) -> anyhow::Result<String> {
    let app = Arc::new(App::new(
        scratch.pool.clone(),
        Arc::new(SystemClock),
        settings.schedule.clone(),
    ));
    for i in 0..MEMBERS {
        let a = actor(i);
        let circle = format!("Circle {}", i / 10);
        if i % 10 == 0 {
            app.circle_create(
                &a,
                CreateCircle {
                    name: &circle,
                    channel_id: "1000",
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
    let started = Instant::now();
    let mut latencies: Vec<f64> = Vec::with_capacity(count as usize);
    let mut failures = 0;
    let workers = concurrency.max(1) as usize;
    let per = (count as usize).div_ceil(workers);
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..workers {
        let app = app.clone();
        tasks.spawn(async move {
            let mut own = Vec::with_capacity(per);
            let mut failed = 0;
            for k in 0..per {
                let n = w * per + k;
                let t = Instant::now();
                if !one(&app, n).await {
                    failed += 1;
                }
                own.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            (own, failed)
        });
    }
    while let Some(done) = tasks.join_next().await {
        let (own, failed) = done?;
        latencies.extend(own);
        failures += failed;
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    Ok(serde_json::json!({
        "scenario": "commands",
        "commands": latencies.len(),
        "concurrency": workers,
        "unexpected_errors": failures,
        "p50_ms": round(pct(0.5)),
        "p99_ms": round(pct(0.99)),
        "max_ms": round(latencies.last().copied().unwrap_or(0.0)),
        "throughput_per_s": round(latencies.len() as f64 / seconds),
        "deadline_ms": 3000,
        "ratio_p99_to_deadline": round(pct(0.99) / 3000.0),
        "at": Utc::now().to_rfc3339(),
        "goal": "p99 under 15 ms",
    })
    .to_string())
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
