//! `career-circle simulate`: the real planner and worker on a virtual clock, against a scratch database, with a
//! recording chat. One JSON line per message sent, in send order, and nothing else on stdout.

use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use career_circle_console::recording::RecordingChat;
use career_circle_core::chat::Platform;
use career_circle_core::clock::{ManualClock, parse_instant};
use career_circle_core::domain::delivery::{DeliveryKind, DeliveryStatus};
use career_circle_core::domain::membership::Role;
use career_circle_core::domain::period::Cadence;
use career_circle_core::domain::recurrence::CronSchedule;
use career_circle_core::domain::zone::Zone;
use career_circle_core::schedule::planner::Planner;
use career_circle_core::schedule::worker::Worker;
use career_circle_core::settings::Settings;
use career_circle_core::settings::load_or_exit_code as load_settings;
use career_circle_core::store::scratch::{Commits, ScratchDb};
use career_circle_core::store::{circles, commitments};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// First day (YYYY-MM-DD or YYYY-MM-DDTHH:MM, UTC).
    #[arg(long, value_parser = parse_instant)]
    pub from: DateTime<Utc>,
    /// Last day, inclusive (YYYY-MM-DD or YYYY-MM-DDTHH:MM, UTC).
    #[arg(long, value_parser = parse_instant)]
    pub to: DateTime<Utc>,
    /// The circle's time zone (IANA name).
    #[arg(long, default_value = "UTC", value_parser = parse_zone)]
    pub zone: Zone,
    /// A member's time zone; repeat for more members (member i gets the i-th). Default: one member in the
    /// circle's zone.
    #[arg(long = "member", value_parser = parse_zone)]
    pub members: Vec<Zone>,
    /// Override a schedule: KIND=CRON with 5-field cron, e.g. monthly_nudge="30 2 * * *". Repeatable.
    #[arg(long = "schedule", value_parser = parse_schedule)]
    pub schedules: Vec<(DeliveryKind, CronSchedule)>,
    /// A span when the bot is not running: FROM..TO (dates or date-times, UTC). Repeatable.
    #[arg(long = "down", value_parser = parse_span)]
    pub down: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Minutes between planner ticks: occurrences are observed at these boundaries, as a running bot would.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub tick: u32,
    /// Visit every tick instead of jumping to the next one where something can be due (slow; the same output).
    #[arg(long, hide = true)]
    pub every_tick: bool,
}

fn parse_zone(text: &str) -> Result<Zone, String> {
    Zone::parse(text).map_err(|e| e.to_string())
}

fn parse_schedule(text: &str) -> Result<(DeliveryKind, CronSchedule), String> {
    let (kind, cron) = text
        .split_once('=')
        .ok_or("expected KIND=CRON, e.g. monthly_nudge=\"0 9 1 * *\"")?;
    let kind: DeliveryKind = kind
        .parse()
        .map_err(|e: career_circle_core::domain::delivery::UnknownKind| e.to_string())?;
    if kind.follows().is_some()
        || matches!(
            kind,
            DeliveryKind::OrganiserAlert | DeliveryKind::OfferHindsight
        )
    {
        return Err(format!(
            "{kind} follows another schedule and cannot be set on its own"
        ));
    }
    Ok((kind, CronSchedule::parse(cron).map_err(|e| e.to_string())?))
}

fn parse_span(text: &str) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    let (a, b) = text
        .split_once("..")
        .ok_or("expected FROM..TO, e.g. 2027-03-01..2027-03-04")?;
    let (a, b) = (parse_instant(a)?, parse_instant(b)?);
    if b <= a {
        return Err(format!("the span {text} ends before it starts"));
    }
    Ok((a, b))
}

pub async fn main(args: Args) -> u8 {
    if args.to < args.from {
        eprintln!("error: --to is before --from");
        return 2;
    }
    let settings = match load_settings() {
        Ok(s) => s,
        Err(code) => return code,
    };
    career_circle_core::telemetry::init(&settings.log);
    match simulate(&settings, &args).await {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}

/// Runs the simulation and returns the JSON lines (one per message sent).
pub async fn simulate(settings: &Settings, args: &Args) -> anyhow::Result<Vec<String>> {
    let scratch =
        ScratchDb::create(settings.database_url(), "cc_simulate", Commits::Relaxed).await?;
    let result = run_in(&scratch, settings, args).await;
    scratch.finish(result).await
}

async fn run_in(
    scratch: &ScratchDb,
    settings: &Settings,
    args: &Args,
) -> anyhow::Result<Vec<String>> {
    let pool = scratch.pool.clone();
    let clock = Arc::new(ManualClock::new(args.from));
    let chat = Arc::new(RecordingChat::new());
    let zones: Vec<Zone> = if args.members.is_empty() {
        vec![args.zone]
    } else {
        args.members.clone()
    };

    // Seed one circle whose members each keep the classic monthly writing commitment.
    let mut tx = pool.begin().await?;
    let server = circles::ensure_server(&mut tx, Platform::Console, "simulation").await?;
    let circle = circles::create_circle(
        &mut tx,
        server,
        "Simulated circle",
        "home",
        args.zone,
        args.from,
    )
    .await?
    .context("creating the simulated circle")?;
    let mut member_ids = Vec::new();
    for (i, zone) in zones.iter().enumerate() {
        let m = circles::ensure_member(
            &mut tx,
            server,
            &format!("member-{i}"),
            &format!("Member {i}"),
            args.from,
        )
        .await?;
        circles::join(
            &mut tx,
            circle.id,
            m.id,
            if i == 0 {
                Role::Organiser
            } else {
                Role::Member
            },
            args.from,
        )
        .await?;
        member_ids.push((m.id, *zone));
    }
    tx.commit().await?;
    for (id, zone) in &member_ids {
        circles::set_member_zone(&pool, *id, *zone).await?;
        commitments::add(
            &pool,
            *id,
            "publish one post",
            Cadence::Monthly,
            args.from.date_naive(),
            args.from,
            None,
        )
        .await?;
    }
    for (kind, cron) in &args.schedules {
        circles::set_recurrence(&pool, circle.id, *kind, cron.to_cron_text(), args.from).await?;
    }

    let planner = Planner::new(pool.clone(), settings.schedule.clone());
    let mut worker_settings = settings.worker.clone();
    // Virtual time: no reason to pace sends in real seconds.
    worker_settings.global_rate = 100_000;
    worker_settings.channel_rate = 100_000;
    let worker = Worker::new(pool.clone(), chat.clone(), clock.clone(), worker_settings);

    let step = chrono::Duration::minutes(i64::from(args.tick));
    // The first tick at or after `at`: ticks fall on `from + k * step`.
    let tick_at_or_after = |at: DateTime<Utc>| -> DateTime<Utc> {
        if at <= args.from {
            return args.from;
        }
        let span = (at - args.from).num_seconds();
        let step_s = step.num_seconds().max(1);
        let k = (span + step_s - 1) / step_s;
        args.from + chrono::Duration::seconds(k * step_s)
    };
    let down_at = |at: DateTime<Utc>| args.down.iter().find(|(a, b)| *a <= at && at < *b).copied();
    let mut now = args.from;
    while now <= args.to {
        clock.set(now);
        let down = down_at(now).is_some();
        if !down {
            planner.tick(now).await?;
            while worker.run_once().await?.claimed > 0 {}
        }
        if args.every_tick {
            now += step;
            continue;
        }
        // Jump to the first tick where anything can be due (a schedule's next occurrence in any zone, or a
        // follow-up waiting in the outbox); a tick that falls while the bot is down moves to the first one after.
        let mut next = match planner.next_due(now).await? {
            Some(at) => tick_at_or_after(at).max(now + step),
            None => break,
        };
        while let Some((_, back)) = down_at(next) {
            next = tick_at_or_after(back).max(next + step);
        }
        now = next;
    }
    // Read once at the end: the outbox keeps when each message went out and when it fell due.
    let mut lines = Vec::new();
    for d in career_circle_core::store::deliveries::for_circle(&pool, circle.id).await? {
        let Some(sent_at) = d.sent_at.filter(|_| d.status == DeliveryStatus::Sent) else {
            continue;
        };
        let index = member_ids
            .iter()
            .position(|(id, _)| Some(*id) == d.member_id);
        let zone = index.map(|i| member_ids[i].1).unwrap_or(args.zone);
        // When it went out (a nudge caught up after downtime goes out at the restart), and when it was due.
        lines.push((
            sent_at,
            d.id,
            serde_json::json!({
                "kind": d.kind.as_str(),
                "member": index,
                "period": d.period.key(),
                "local": sent_at.with_timezone(&zone.tz()).to_rfc3339(),
                "utc": sent_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "due_local": d.due_at.with_timezone(&zone.tz()).to_rfc3339(),
                "due": d.due_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            })
            .to_string(),
        ));
    }
    lines.sort_by_key(|(sent, id, _)| (*sent, *id));
    // Every DM the recording chat saw is a member delivery the outbox records as sent (review threads add
    // channel posts of their own, which are not member deliveries).
    let dms = chat
        .sent()
        .into_iter()
        .filter(|s| matches!(s.to, career_circle_core::chat::Destination::Dm { .. }))
        .count();
    let member_lines = lines
        .iter()
        .filter(|(_, _, l)| !l.contains("\"member\":null"))
        .count();
    anyhow::ensure!(
        dms == member_lines,
        "chat saw {dms} DMs, outbox {member_lines}"
    );
    Ok(lines.into_iter().map(|(_, _, l)| l).collect())
}
