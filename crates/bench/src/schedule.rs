//! The planner at scale: does one tick stay set-based (a constant number of statements) and close to the cost of
//! the plain insert it boils down to?

use std::time::Instant;

use chrono::{TimeZone, Utc};

use career_circle_core::schedule::planner::Planner;
use career_circle_core::settings::Settings;
use career_circle_core::store::bench as seed;
use career_circle_core::store::scratch::{Commits, ScratchDb};

/// Thirty zones spread around the world (with and without DST, half-hour offsets, both hemispheres).
pub const ZONES: [&str; 30] = [
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Helsinki",
    "Europe/Moscow",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Adelaide",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Halifax",
    "America/St_Johns",
    "America/Sao_Paulo",
    "Atlantic/Azores",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Africa/Nairobi",
    "Asia/Tehran",
];

pub async fn run(settings: &Settings, members: u32, circles: u32) -> anyhow::Result<String> {
    let scratch = ScratchDb::create(settings.database_url(), "cc_bench", Commits::Durable).await?;
    let result = measure(&scratch, settings, members, circles).await;
    scratch.finish(result).await
}

async fn measure(
    scratch: &ScratchDb,
    settings: &Settings,
    members: u32,
    circles: u32,
) -> anyhow::Result<String> {
    let pool = &scratch.pool;
    let zones: Vec<String> = ZONES.iter().map(|z| (*z).to_owned()).collect();
    let start = Utc
        .with_ymd_and_hms(2027, 2, 25, 0, 0, 0)
        .single()
        .ok_or_else(|| anyhow::anyhow!("bad date"))?;
    let seeded = Instant::now();
    seed::seed(pool, i64::from(members), i64::from(circles), &zones, start).await?;
    let seed_ms = seeded.elapsed().as_secs_f64() * 1000.0;

    // The watermark sits before March 1st everywhere; the tick at March 2nd 00:00 UTC covers every zone's
    // 09:00 on the 1st, so one tick makes every member's nudge.
    career_circle_core::store::planner::advance_planned_until(pool, start).await?;
    let tick_at = Utc
        .with_ymd_and_hms(2027, 3, 2, 0, 0, 0)
        .single()
        .ok_or_else(|| anyhow::anyhow!("bad date"))?;
    let mut schedule = settings.schedule.clone();
    // Only the nudge falls in this window anyway; a long grace keeps every row pending, as in normal running.
    schedule.grace = std::time::Duration::from_secs(30 * 86_400);
    let planner = Planner::new(pool.clone(), schedule);

    // The bare insert runs first, once to warm the caches and once timed, both rolled back. A rolled-back
    // million leaves a million dead entries in every index of the outbox, which the next insert's unique checks
    // and the planner's lookups would wade through: each timed statement starts from a vacuumed table.
    seed::bare_insert(pool, tick_at).await?;
    sqlx::query!("VACUUM ANALYZE deliveries")
        .execute(pool)
        .await?;
    let t = Instant::now();
    let bare_rows = seed::bare_insert(pool, tick_at).await?;
    let bare_ms = t.elapsed().as_secs_f64() * 1000.0;
    sqlx::query!("VACUUM ANALYZE deliveries")
        .execute(pool)
        .await?;

    let t = Instant::now();
    let report = planner.tick(tick_at).await?;
    let planner_ms = t.elapsed().as_secs_f64() * 1000.0;

    anyhow::ensure!(
        report.inserted == bare_rows,
        "the planner made {} rows but the bare insert {}",
        report.inserted,
        bare_rows
    );
    Ok(serde_json::json!({
        "scenario": "schedule",
        "members": members,
        "circles": circles,
        "zones": ZONES.len(),
        "seed_ms": round(seed_ms),
        "planner_tick_ms": round(planner_ms),
        "bare_insert_ms": round(bare_ms),
        "ratio": round(planner_ms / bare_ms.max(0.001)),
        "rows": report.inserted,
        "occurrences": report.occurrences,
        "statements_per_tick": report.statements,
        "goal": "ratio < 2, statements constant",
    })
    .to_string())
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
