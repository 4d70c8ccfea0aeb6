//! `bench outbox`: the outbox as fast as the database allows, with the platform taken out. N pending nudges are
//! claimed and recorded as sent by three workers (each with its own connections, as three processes would have)
//! through the real claim and record statements; reported are claim latency, rows per second, and the outbox's
//! dead rows and index size before and after. The same run compares the partitioned outbox with one plain table,
//! and repeats both while another connection keeps a transaction open for the whole run (the snapshot it holds
//! keeps vacuum from removing any row that died after it began).

use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{Value, json};
use sqlx::{Connection as _, PgConnection, PgPool};

use crate::schedule::ZONES;
use career_circle_core::settings::Settings;
use career_circle_core::store;
use career_circle_core::store::bench as seed;
use career_circle_core::store::deliveries as outbox;
use career_circle_core::store::scratch::{Commits, ScratchDb};

const WORKERS: usize = 3;
const BATCH: i64 = 200;

pub async fn run(settings: &Settings, rows: u32) -> anyhow::Result<String> {
    let mut runs = Vec::new();
    for (partitioned, long_transaction) in
        [(true, false), (false, false), (true, true), (false, true)]
    {
        let scratch =
            ScratchDb::create(settings.database_url(), "cc_bench", Commits::Durable).await?;
        let result = measure(&scratch, rows, partitioned, long_transaction).await;
        runs.push(scratch.finish(result).await?);
    }
    let rate = |i: usize| runs[i]["rows_per_s"].as_f64().unwrap_or(0.0);
    Ok(json!({
        "scenario": "outbox",
        "rows": rows,
        "workers": WORKERS,
        "batch": BATCH,
        "runs": runs,
        "partitioned_to_plain_rate": ratio(rate(0), rate(1)),
        "partitioned_to_plain_rate_with_long_transaction": ratio(rate(2), rate(3)),
    })
    .to_string())
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

async fn measure(
    scratch: &ScratchDb,
    rows: u32,
    partitioned: bool,
    long_transaction: bool,
) -> anyhow::Result<Value> {
    let pool = &scratch.pool;
    if !partitioned {
        seed::unpartition_outbox(pool).await?;
    }
    let now = Utc::now();
    let zones: Vec<String> = ZONES.iter().map(|z| (*z).to_owned()).collect();
    let members = i64::from(rows);
    seed::seed(
        pool,
        members,
        (members / 8).max(1),
        &zones,
        now - chrono::Duration::days(1),
    )
    .await?;
    if partitioned {
        // As the planner's maintenance would have: this year's partition, not the default one.
        store::partitions::ensure_year(pool, now.format("%Y").to_string().parse()?).await?;
    }
    let queued = seed::queue_nudges(pool, &now.format("%Y-%m").to_string(), now, members).await?;
    sqlx::query!("VACUUM ANALYZE deliveries")
        .execute(pool)
        .await?;
    let (dead_before, index_before) = seed::outbox_health(pool).await?;

    // The long transaction: a snapshot held from before the first claim to after the last record.
    let mut holder = if long_transaction {
        let mut conn = PgConnection::connect(&scratch.url).await?;
        sqlx::query!("BEGIN ISOLATION LEVEL REPEATABLE READ")
            .execute(&mut conn)
            .await?;
        sqlx::query!("SELECT count(*) FROM deliveries")
            .fetch_one(&mut conn)
            .await?;
        Some(conn)
    } else {
        None
    };

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..WORKERS {
        let pool = store::connect(&scratch.url, 4, Duration::from_secs(10)).await?;
        tasks.spawn(work(pool, format!("bench-{w}")));
    }
    let mut claims = Vec::new();
    let mut recorded = 0u64;
    while let Some(joined) = tasks.join_next().await {
        let (latencies, done) = joined??;
        claims.extend(latencies);
        recorded += done;
    }
    let seconds = started.elapsed().as_secs_f64();
    let (dead_after, index_after) = seed::outbox_health(pool).await?;
    if let Some(conn) = holder.as_mut() {
        sqlx::query!("ROLLBACK").execute(&mut *conn).await?;
    }
    anyhow::ensure!(
        recorded == queued,
        "recorded {recorded} of {queued} deliveries"
    );
    claims.sort_by(f64::total_cmp);
    Ok(json!({
        "partitioned": partitioned,
        "long_transaction": long_transaction,
        "recorded": recorded,
        "seconds": seconds,
        "rows_per_s": recorded as f64 / seconds.max(1e-9),
        "claims": claims.len(),
        "claim_p50_ms": percentile(&claims, 0.50),
        "claim_p99_ms": percentile(&claims, 0.99),
        "dead_rows_before": dead_before,
        "dead_rows_after": dead_after,
        "index_mib_before": index_before as f64 / 1_048_576.0,
        "index_mib_after": index_after as f64 / 1_048_576.0,
    }))
}

/// Claims and records until nothing is left; returns each claim's milliseconds and the rows recorded.
async fn work(pool: PgPool, name: String) -> anyhow::Result<(Vec<f64>, u64)> {
    let mut latencies = Vec::new();
    let mut done = 0;
    loop {
        let now = Utc::now();
        let t = Instant::now();
        let batch =
            outbox::claim(&pool, &name, now, now + chrono::Duration::minutes(5), BATCH).await?;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        if batch.is_empty() {
            break;
        }
        for claimed in batch {
            let row = match claimed {
                Ok(c) => c.row,
                Err(u) => u.row,
            };
            if outbox::mark_sent(
                &pool,
                &row,
                &name,
                Utc::now(),
                "bench-channel",
                "bench-message",
            )
            .await?
            {
                done += 1;
            }
        }
    }
    pool.close().await;
    Ok((latencies, done))
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}
