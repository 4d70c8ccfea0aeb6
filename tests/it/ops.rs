//! The operator endpoint: /healthz says why it is unhealthy, /metrics speaks Prometheus from the first scrape,
//! and the shipped alert rules and dashboard name only series the bot exports.

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use career_circle::cli::run::serve as serve_bot;
use career_circle_console::recording::RecordingChat;
use career_circle_core::chat::{ChatError, Destination};
use career_circle_core::clock::SystemClock;
use career_circle_core::ops::metrics::commands;
use career_circle_core::ops::status::{PauseReason, WorkerStatus};
use career_circle_core::ops::{self, CommandOutcome, Health};
use career_circle_core::schedule::worker::Worker;
use career_circle_core::settings::CommandScope;
use career_circle_discord::Connection;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tokio::sync::watch;

use crate::discord_e2e::db_url;
use crate::support::discord::{LoopbackDiscord, TOKEN};
use crate::support::{settings, t, world};

/// A generous bound for anything that only waits on this machine being busy.
const PATIENCE: Duration = Duration::from_secs(120);

fn health(pool: PgPool, connected: Arc<AtomicBool>, expected: bool) -> Health {
    Health {
        pool,
        gateway_connected: connected,
        gateway_expected: expected,
        gateway_shards: None,
        platforms: Vec::new(),
        worker: WorkerStatus::default(),
        clock: Arc::new(SystemClock),
    }
}

async fn serve(health: Health) -> (String, watch::Sender<bool>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let (stop, stopped) = watch::channel(false);
    let router = ops::router(health, ops::metrics_handle().unwrap());
    tokio::spawn(ops::serve(addr, router, stopped));
    let started = Instant::now();
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(started.elapsed() < PATIENCE, "the endpoint never listened");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (format!("http://{addr}"), stop)
}

async fn get(url: &str) -> (u16, String) {
    let r = reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[sqlx::test]
async fn healthz_reports_database_gateway_and_worker(pool: PgPool) {
    let connected = Arc::new(AtomicBool::new(false));
    let h = health(pool, connected.clone(), true);
    let worker = h.worker.clone();
    let (base, stop) = serve(h).await;
    let (status, body) = get(&format!("{base}/healthz")).await;
    assert_eq!(status, 503);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (json["database"].as_str(), json["gateway"].as_str()),
        (Some("ok"), Some("disconnected"))
    );
    connected.store(true, Ordering::Relaxed);
    let (status, body) = get(&format!("{base}/healthz")).await;
    assert_eq!(status, 200, "{body}");

    // A 429 pause passes by itself; a rejected token needs an operator.
    worker.pause(PauseReason::RateLimited);
    let (status, body) = get(&format!("{base}/healthz")).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("\"worker\":\"paused: rate_limited\""),
        "{body}"
    );
    worker.pause(PauseReason::TokenRejected);
    let (status, body) = get(&format!("{base}/healthz")).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("token_rejected"), "{body}");
    worker.resume(PauseReason::TokenRejected);
    worker.resume(PauseReason::RateLimited);
    let (status, body) = get(&format!("{base}/healthz")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"worker\":\"running\""), "{body}");
    stop.send(true).unwrap();

    // A database that does not answer.
    let dead = PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(300))
        .connect_lazy("postgres://postgres@127.0.0.1:1/none")
        .unwrap();
    let (base, stop) = serve(health(dead, connected, true)).await;
    let (status, body) = get(&format!("{base}/healthz")).await;
    assert_eq!(status, 503);
    assert!(body.contains("\"database\":\"unreachable\""), "{body}");
    let (status, text) = get(&format!("{base}/metrics")).await;
    assert_eq!(status, 200, "a scrape still answers: {text}");
    let scrape = Scrape::parse(&text);
    assert_eq!(scrape.value("career_circle_database_up", &[]), Some(0.0));
    assert!(
        !scrape
            .families
            .contains_key("career_circle_deliveries_pending"),
        "series read from the database are left out, not made up: {text}"
    );
    stop.send(true).unwrap();
}

#[sqlx::test]
async fn metrics_count_commands_and_deliveries(pool: PgPool) {
    let (base, stop) = serve(health(pool, Arc::new(AtomicBool::new(true)), false)).await;
    let before = Scrape::parse(&get(&format!("{base}/metrics")).await.1);
    ops::record_command("commit add", 0.004, CommandOutcome::Ok);
    ops::record_command(
        "commit add",
        0.002,
        CommandOutcome::of::<()>(&Err(career_circle_core::app::Error::user("no such"))),
    );
    ops::metrics::count_delivery("monthly_nudge", ops::metrics::DeliveryOutcome::Sent, 1);
    let (status, text) = get(&format!("{base}/metrics")).await;
    assert_eq!(status, 200);
    let after = Scrape::parse(&text);
    let grew = |name: &str, labels: &[(&str, &str)]| {
        after.value(name, labels).unwrap_or(0.0) - before.value(name, labels).unwrap_or(0.0)
    };
    assert_eq!(
        grew(
            "career_circle_commands_total",
            &[("command", "commit add"), ("outcome", "ok")]
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        grew(
            "career_circle_commands_total",
            &[("command", "commit add"), ("outcome", "user_error")]
        ),
        1.0,
        "a member's mistake is not the bot failing: {text}"
    );
    assert_eq!(
        grew(
            "career_circle_command_duration_seconds_count",
            &[("command", "commit add")]
        ),
        2.0,
        "{text}"
    );
    assert_eq!(
        grew(
            "career_circle_deliveries_total",
            &[("kind", "monthly_nudge"), ("outcome", "sent")]
        ),
        1.0,
        "{text}"
    );
    // No instance of this test runs a gateway, so it reports none rather than a disconnected one.
    assert!(
        !after
            .families
            .contains_key("career_circle_gateway_connected")
    );
    stop.send(true).unwrap();
}

#[sqlx::test]
async fn gauges_follow_the_outbox_as_deliveries_are_queued_sent_and_failed(pool: PgPool) {
    let w = world(pool.clone(), "2027-03-31T00:00:00Z");
    let actors = w
        .circle_with_members("g1", "UTC", &["UTC", "UTC", "UTC"])
        .await;
    let chat = Arc::new(RecordingChat::new());
    let mut ws = w.settings.worker.clone();
    ws.global_rate = 100_000;
    ws.channel_rate = 100_000;
    ws.max_attempts = 1;
    let worker = Worker::new(pool.clone(), chat.clone(), w.clock.clone(), ws);
    let (base, stop) = serve(Health {
        pool: pool.clone(),
        gateway_connected: Arc::new(AtomicBool::new(false)),
        gateway_expected: false,
        gateway_shards: None,
        platforms: Vec::new(),
        worker: worker.status(),
        clock: w.clock.clone(),
    })
    .await;
    let scrape = async || Scrape::parse(&get(&format!("{base}/metrics")).await.1);

    let empty = scrape().await;
    assert_eq!(
        empty.value(
            "career_circle_deliveries_pending",
            &[("kind", "monthly_nudge")]
        ),
        Some(0.0)
    );
    assert_eq!(
        empty.value("career_circle_oldest_due_delivery_age_seconds", &[]),
        Some(0.0)
    );
    assert_eq!(
        empty.value("career_circle_circles", &[("platform", "discord")]),
        Some(1.0)
    );
    assert_eq!(
        empty.value("career_circle_members", &[("platform", "discord")]),
        Some(3.0)
    );
    assert_eq!(empty.value("career_circle_database_up", &[]), Some(1.0));

    // Queued: the April nudges, a minute and a half overdue.
    w.planner().tick(t("2027-04-01T09:00:00Z")).await.unwrap();
    w.clock.set(t("2027-04-01T09:01:30Z"));
    let queued = scrape().await;
    assert_eq!(
        queued.value(
            "career_circle_deliveries_pending",
            &[("kind", "monthly_nudge")]
        ),
        Some(3.0)
    );
    assert_eq!(
        queued.value("career_circle_oldest_due_delivery_age_seconds", &[]),
        Some(90.0)
    );

    // One member has DMs closed, one send keeps timing out (one attempt allowed), one goes out.
    let dm = |i: usize| Destination::Dm {
        user_id: actors[i].user_id.clone(),
    };
    chat.fail_always(dm(1), ChatError::CannotDm);
    chat.fail_always(dm(2), ChatError::Transient("HTTP 502".into()));
    let outcome = worker.run_once().await.unwrap();
    assert_eq!((outcome.sent, outcome.failed), (1, 2), "{outcome:?}");
    let after = scrape().await;
    let failed =
        |reason: &str| after.value("career_circle_deliveries_failed_24h", &[("reason", reason)]);
    assert_eq!(
        (
            failed("dms_closed"),
            failed("retries_exhausted"),
            failed("other")
        ),
        (Some(1.0), Some(1.0), Some(0.0))
    );
    assert_eq!(
        after.value(
            "career_circle_deliveries_pending",
            &[("kind", "monthly_nudge")]
        ),
        Some(0.0)
    );
    assert_eq!(
        after.value(
            "career_circle_deliveries_pending",
            &[("kind", "organiser_alert")]
        ),
        Some(1.0),
        "the organisers are told about the closed DMs"
    );
    let grew = |outcome: &str| {
        after
            .value(
                "career_circle_deliveries_total",
                &[("kind", "monthly_nudge"), ("outcome", outcome)],
            )
            .unwrap()
            - queued
                .value(
                    "career_circle_deliveries_total",
                    &[("kind", "monthly_nudge"), ("outcome", outcome)],
                )
                .unwrap()
    };
    assert!(grew("sent") >= 1.0 && grew("failed") >= 2.0, "{after:?}");

    // A day later the failures have left the 24-hour window.
    w.clock.set(t("2027-04-02T09:05:00Z"));
    let later = scrape().await;
    assert_eq!(
        later.value(
            "career_circle_deliveries_failed_24h",
            &[("reason", "dms_closed")]
        ),
        Some(0.0)
    );
    stop.send(true).unwrap();
}

/// Starts the whole bot (`run`'s `serve`) against the loopback Discord and a fresh database, waits until its
/// gateway is connected, and returns its first scrape.
async fn fresh_instance_scrape(pool: &PgPool) -> String {
    let discord = LoopbackDiscord::start().await;
    let mut s = settings().with_database_url(&db_url(pool));
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    s.http.bind = format!("127.0.0.1:{port}").parse().unwrap();
    let connection = Connection {
        token: TOKEN.to_owned(),
        proxy: Some(discord.base_url()),
        register: CommandScope::Guild,
        dev_guild_id: discord.guild_id().parse().ok(),
        request_timeout: Duration::from_secs(30),
    };
    let (stop, stopped) = watch::channel(false);
    let bot = tokio::spawn(serve_bot(s, connection, Arc::new(SystemClock), stopped));
    let url = format!("http://127.0.0.1:{port}/metrics");
    let started = Instant::now();
    let text = loop {
        assert!(!bot.is_finished(), "the bot stopped: {:?}", bot.await);
        if let Ok(r) = reqwest::get(&url).await {
            let text = r.text().await.unwrap();
            if Scrape::parse(&text).value(
                "career_circle_gateway_connected",
                &[("platform", "discord")],
            ) == Some(1.0)
            {
                break text;
            }
        }
        assert!(
            started.elapsed() < PATIENCE,
            "no scrape with the gateway connected"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    stop.send(true).unwrap();
    tokio::time::timeout(PATIENCE, bot)
        .await
        .expect("graceful stop")
        .unwrap()
        .unwrap();
    text
}

/// The series README's "Metrics" table documents.
fn documented_series() -> BTreeSet<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    readme
        .lines()
        .filter_map(|l| l.strip_prefix("| `career_circle_"))
        .filter_map(|rest| rest.split('`').next())
        .map(|name| format!("career_circle_{name}"))
        .collect()
}

#[sqlx::test]
async fn a_fresh_instance_exports_every_documented_series(pool: PgPool) {
    let text = fresh_instance_scrape(&pool).await;
    if let Ok(path) = std::env::var("CAREER_CIRCLE_METRICS_SCRAPE") {
        // .ci/run hands this scrape to `promtool check metrics`.
        std::fs::write(&path, &text).unwrap();
    }
    let scrape = Scrape::parse(&text);
    let exported: BTreeSet<String> = scrape
        .families
        .keys()
        .filter(|n| n.starts_with("career_circle_"))
        .cloned()
        .collect();
    let documented = documented_series();
    assert!(
        documented.len() >= 13,
        "README lists the series: {documented:?}"
    );
    assert_eq!(
        exported, documented,
        "README's metrics table and a fresh scrape differ"
    );
    for family in scrape.families.values() {
        assert!(!family.help.is_empty(), "{} has a HELP line", family.name);
        assert!(
            family.kind != "counter" || family.name.ends_with("_total"),
            "{} is a counter without _total",
            family.name
        );
    }
    // Every label value is there at zero before anything happened.
    for (name, labels) in [
        (
            "career_circle_deliveries_total",
            vec![("kind", "review_close"), ("outcome", "failed")],
        ),
        (
            "career_circle_commands_total",
            vec![("command", "me export"), ("outcome", "error")],
        ),
        (
            "career_circle_command_duration_seconds_count",
            vec![("command", "opportunity evaluate")],
        ),
        (
            "career_circle_worker_paused",
            vec![("reason", "token_rejected")],
        ),
        (
            "career_circle_deliveries_pending",
            vec![("kind", "deep_dive")],
        ),
        (
            "career_circle_deliveries_failed_24h",
            vec![("reason", "retries_exhausted")],
        ),
        ("career_circle_claim_lag_seconds", vec![]),
    ] {
        assert_eq!(
            scrape.value(name, &labels),
            Some(0.0),
            "{name}{labels:?} at zero in:\n{text}"
        );
    }
    assert_eq!(
        scrape.value(
            "career_circle_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );
}

#[sqlx::test]
async fn shipped_alerts_and_dashboard_name_only_series_the_bot_exports(pool: PgPool) {
    let scrape = Scrape::parse(&fresh_instance_scrape(&pool).await);
    let root = env!("CARGO_MANIFEST_DIR");
    let mut texts: Vec<(String, String)> = Vec::new();
    for file in [
        "deploy/prometheus/alerts.yml",
        "deploy/prometheus/alerts_test.yml",
    ] {
        texts.push((
            file.to_owned(),
            std::fs::read_to_string(format!("{root}/{file}")).unwrap(),
        ));
    }
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{root}/deploy/grafana/career-circle.json")).unwrap(),
    )
    .unwrap();
    let mut exprs = Vec::new();
    strings_under(&dashboard, &mut exprs);
    texts.push((
        "deploy/grafana/career-circle.json".to_owned(),
        exprs.join("\n"),
    ));

    let mut checked = BTreeMap::new();
    for (file, text) in &texts {
        for selector in selectors(text) {
            let family = scrape.family_of(&selector.name).unwrap_or_else(|| {
                panic!(
                    "{file} names {}, which the bot does not export",
                    selector.name
                )
            });
            for (label, value) in &selector.equals {
                // Prometheus adds the target's labels; the bot's own must be there, with that value.
                if ["job", "instance"].contains(&label.as_str()) {
                    continue;
                }
                assert!(
                    family
                        .samples
                        .iter()
                        .any(|(_, labels, _)| labels.iter().any(|(k, v)| k == label && v == value)),
                    "{file}: {} has no series with {label}=\"{value}\"",
                    selector.name
                );
            }
            *checked.entry(file.clone()).or_insert(0) += 1;
        }
    }
    for (file, _) in &texts {
        assert!(
            checked.get(file).copied().unwrap_or(0) >= 5,
            "{file} was read: {checked:?}"
        );
    }
    // The dashboard shows every series the alerts are about.
    let dashboard_names: BTreeSet<String> = selectors(&texts[2].1)
        .into_iter()
        .filter_map(|s| scrape.family_of(&s.name).map(|f| f.name.clone()))
        .collect();
    for s in selectors(&texts[0].1) {
        let family = scrape.family_of(&s.name).unwrap().name.clone();
        assert!(
            dashboard_names.contains(&family),
            "the dashboard has no panel for {family}, which an alert uses"
        );
    }
}

#[test]
fn the_counted_command_names_are_the_discord_adapters_commands() {
    // What Discord registers, as the paths `App::answer` records: the family, a space, the subcommand.
    let mut registered = BTreeSet::new();
    for c in career_circle_discord::commands::registration() {
        let c = serde_json::to_value(c).unwrap();
        let name = c["name"].as_str().unwrap().to_owned();
        let subs: Vec<String> = c["options"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|o| o["type"] == 1)
            .map(|o| format!("{name} {}", o["name"].as_str().unwrap()))
            .collect();
        if subs.is_empty() {
            registered.insert(name);
        } else {
            registered.extend(subs);
        }
    }
    let counted: BTreeSet<String> = commands().into_iter().collect();
    assert_eq!(counted, registered);
}

/// Every string in a JSON document (the dashboard's queries among them).
fn strings_under(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings_under(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| strings_under(x, out)),
        _ => {}
    }
}

/// `career_circle_…` names in PromQL-ish text, with the label matchers written after them.
#[derive(Debug)]
struct Selector {
    name: String,
    /// `label="value"` matchers (not `!=`, `=~`, `!~`).
    equals: Vec<(String, String)>,
}

fn selectors(text: &str) -> Vec<Selector> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("career_circle_") {
        let after = &rest[at..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = after[..end].to_owned();
        let mut equals = Vec::new();
        let tail = &after[end..];
        if let Some(body) = tail.strip_prefix('{') {
            let close = body.find('}').unwrap_or(body.len());
            for matcher in body[..close].split(',') {
                let matcher = matcher.trim();
                if let Some((label, value)) = matcher.split_once('=')
                    && !label.ends_with('!')
                    && !value.starts_with('~')
                {
                    equals.push((
                        label.trim().to_owned(),
                        value
                            .trim()
                            .trim_matches(|c| c == '"' || c == '\'')
                            .to_owned(),
                    ));
                }
            }
        }
        out.push(Selector { name, equals });
        rest = &after[end..];
    }
    out
}

/// A parsed scrape: families by name, each with its samples.
#[derive(Debug, Default)]
struct Scrape {
    families: BTreeMap<String, Family>,
}

#[derive(Debug, Default)]
struct Family {
    name: String,
    kind: String,
    help: String,
    samples: Vec<Sample>,
}

/// (sample name, labels, value)
type Sample = (String, Vec<(String, String)>, f64);

impl Scrape {
    fn parse(text: &str) -> Scrape {
        let mut scrape = Scrape::default();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
                scrape.entry(name).help = help.to_owned();
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                scrape.entry(name).kind = kind.to_owned();
            } else if !line.trim().is_empty() && !line.starts_with('#') {
                let (series, value) = line.rsplit_once(' ').unwrap();
                let (name, labels) = match series.split_once('{') {
                    Some((n, l)) => (n, parse_labels(l.trim_end_matches('}'))),
                    None => (series, Vec::new()),
                };
                let family = scrape
                    .family_name_of(name)
                    .unwrap_or_else(|| panic!("a sample before its TYPE: {line}"));
                let value = if value == "+Inf" {
                    f64::INFINITY
                } else {
                    value.parse().unwrap()
                };
                scrape
                    .entry(&family)
                    .samples
                    .push((name.to_owned(), labels, value));
            }
        }
        scrape
    }

    fn entry(&mut self, name: &str) -> &mut Family {
        self.families
            .entry(name.to_owned())
            .or_insert_with(|| Family {
                name: name.to_owned(),
                ..Family::default()
            })
    }

    /// The family a sample or selector name belongs to (`x_bucket` to histogram `x`).
    fn family_name_of(&self, name: &str) -> Option<String> {
        if self.families.contains_key(name) {
            return Some(name.to_owned());
        }
        ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
            let base = name.strip_suffix(suffix)?;
            self.families
                .get(base)
                .filter(|f| f.kind == "histogram")
                .map(|f| f.name.clone())
        })
    }

    fn family_of(&self, name: &str) -> Option<&Family> {
        self.families.get(&self.family_name_of(name)?)
    }

    /// The value of the sample `name` whose labels include all of `labels` (and no other of the family's
    /// label names but `le` for buckets): the one series so named.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let family = self.family_of(name)?;
        let matching: Vec<f64> = family
            .samples
            .iter()
            .filter(|(n, l, _)| {
                n == name
                    && l.len() == labels.len()
                    && labels
                        .iter()
                        .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
            })
            .map(|(_, _, v)| *v)
            .collect();
        match matching.as_slice() {
            [one] => Some(*one),
            [] => None,
            many => panic!("{name}{labels:?} matches {} series", many.len()),
        }
    }
}

fn parse_labels(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        assert_eq!(chars.next(), Some('"'), "a quoted label value in {text}");
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(other) => value.push(other),
                    None => break,
                },
                '"' => break,
                c => value.push(c),
            }
        }
        out.push((key.trim_start_matches(',').trim().to_owned(), value));
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    out
}

#[test]
fn the_scrape_parser_reads_escapes_and_histograms() {
    let scrape = Scrape::parse(
        "# HELP a_seconds x\n# TYPE a_seconds histogram\na_seconds_bucket{c=\"p q\",le=\"0.5\"} 1\n\
         a_seconds_bucket{c=\"p q\",le=\"+Inf\"} 2\na_seconds_sum{c=\"p q\"} 0.7\na_seconds_count{c=\"p q\"} 2\n\
         # HELP b x\n# TYPE b gauge\nb{k=\"say \\\"hi\\\", then\"} 3\n",
    );
    assert_eq!(scrape.value("a_seconds_count", &[("c", "p q")]), Some(2.0));
    assert_eq!(
        scrape.value("a_seconds_bucket", &[("c", "p q"), ("le", "+Inf")]),
        Some(2.0)
    );
    assert_eq!(scrape.value("b", &[("k", "say \"hi\", then")]), Some(3.0));
    assert_eq!(scrape.family_of("a_seconds_sum").unwrap().kind, "histogram");
    let s = selectors(
        "sum(rate(career_circle_x_total{outcome=\"failed\",kind=~\"a|b\"}[5m])) / career_circle_y",
    );
    assert_eq!(s.len(), 2);
    assert_eq!(
        s[0].equals,
        vec![("outcome".to_owned(), "failed".to_owned())]
    );
    assert_eq!(s[1].name, "career_circle_y");
}

#[sqlx::test]
async fn the_worker_reports_a_rate_limit_pause_while_it_lasts(pool: PgPool) {
    let w = world(pool.clone(), "2027-03-31T00:00:00Z");
    let actors = w.circle_with_members("g1", "UTC", &["UTC"]).await;
    w.planner().tick(t("2027-04-01T09:00:00Z")).await.unwrap();
    w.clock.set(t("2027-04-01T09:00:30Z"));
    let chat = Arc::new(RecordingChat::new());
    // A bot-wide limit (one on a single DM holds only that DM), with a retry_after longer than any test: the
    // pause lasts until the worker is stopped.
    chat.fail_always(
        Destination::Dm {
            user_id: actors[0].user_id.clone(),
        },
        ChatError::GloballyRateLimited {
            retry_after: Duration::from_secs(3600),
        },
    );
    let worker = w.worker(chat);
    let status = worker.status();
    assert!(status.pauses().is_empty());
    let (stop, stopped) = watch::channel(false);
    let running = tokio::spawn(async move { worker.run(stopped).await });
    let started = Instant::now();
    while !status.is_paused(PauseReason::RateLimited) {
        assert!(started.elapsed() < PATIENCE, "the worker never paused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!status.is_paused(PauseReason::TokenRejected));
    stop.send(true).unwrap();
    tokio::time::timeout(PATIENCE, running)
        .await
        .unwrap()
        .unwrap();
    assert!(status.pauses().is_empty(), "the pause ended with the wait");
}
