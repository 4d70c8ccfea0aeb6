//! The series `/metrics` serves, and the one place that lists their names and label values.
//!
//! Two sources make up a scrape:
//! - counters and histograms the code records as things happen (`metrics` crate, rendered by the Prometheus
//!   exporter). [`register`] creates every one of them with all its label values at start, so a fresh instance
//!   shows them at zero and a rate over them can tell "idle" from "broken";
//! - gauges read at scrape time ([`render_live`]): the outbox and the circles from the database, the worker's
//!   pauses, the gateway, the build. They are rendered per scrape from the state the endpoint was given, not kept
//!   in the process-wide recorder, so a value is never older than the scrape that shows it.
//!
//! Names follow Prometheus conventions: counters end in `_total`, durations are `_seconds`. README "Metrics"
//! lists every series; a test checks the list against a real scrape.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::chat::ChatError;
use crate::domain::delivery::DeliveryKind;
use crate::ops::status::{PauseReason, WorkerStatus};
use crate::store::{circles, deliveries};

pub const DELIVERIES_TOTAL: &str = "career_circle_deliveries_total";
pub const COMMANDS_TOTAL: &str = "career_circle_commands_total";
pub const COMMAND_DURATION: &str = "career_circle_command_duration_seconds";
pub const CLAIM_LAG: &str = "career_circle_claim_lag_seconds";
pub const DELIVERIES_PENDING: &str = "career_circle_deliveries_pending";
pub const OLDEST_DUE_AGE: &str = "career_circle_oldest_due_delivery_age_seconds";
pub const DELIVERIES_FAILED_24H: &str = "career_circle_deliveries_failed_24h";
pub const CIRCLES: &str = "career_circle_circles";
pub const MEMBERS: &str = "career_circle_members";
pub const DATABASE_UP: &str = "career_circle_database_up";
pub const WORKER_PAUSED: &str = "career_circle_worker_paused";
pub const GATEWAY_CONNECTED: &str = "career_circle_gateway_connected";
pub const GATEWAY_SHARD_CONNECTED: &str = "career_circle_gateway_shard_connected";
pub const BUILD_INFO: &str = "career_circle_build_info";

/// The commands whose use is counted, by their path in the command table ("circle create"): the table is the one
/// list.
pub fn commands() -> Vec<String> {
    crate::chat::commands::table::all()
        .map(|(family, leaf)| crate::chat::commands::table::path(family, leaf))
        .collect()
}

/// The platforms whose circles and members are counted even before the first one exists.
pub const PLATFORMS: [&str; 3] = ["discord", "slack", "console"];

/// What became of one attempt at a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Sent,
    Skipped,
    Retried,
    RateLimited,
    /// Held without using an attempt while the platform refuses the bot (a rejected token).
    Paused,
    Failed,
}

impl DeliveryOutcome {
    pub const ALL: [DeliveryOutcome; 6] = [
        Self::Sent,
        Self::Skipped,
        Self::Retried,
        Self::RateLimited,
        Self::Paused,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Skipped => "skipped",
            Self::Retried => "retried",
            Self::RateLimited => "rate_limited",
            Self::Paused => "paused",
            Self::Failed => "failed",
        }
    }
}

/// How a command ended: a member's mistake (`user_error`, shown to them) is not the bot failing (`error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandOutcome {
    Ok,
    UserError,
    Error,
}

impl CommandOutcome {
    pub const ALL: [CommandOutcome; 3] = [Self::Ok, Self::UserError, Self::Error];

    pub fn of<T>(result: &crate::app::Result<T>) -> Self {
        match result {
            Ok(_) => Self::Ok,
            Err(crate::app::Error::User(_)) => Self::UserError,
            Err(crate::app::Error::Unexpected(_)) => Self::Error,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::UserError => "user_error",
            Self::Error => "error",
        }
    }
}

/// Why a delivery failed for good, from its last error: the `reason` label of the failure gauge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// The member does not accept DMs from the bot.
    DmsClosed,
    /// The bot lacks a permission in the channel.
    MissingPermissions,
    /// The channel, thread or user is gone.
    NotFound,
    /// Transient failures until the worker ran out of attempts.
    RetriesExhausted,
    /// The platform refused the message for good (content blocked, archived thread, wrong channel type...).
    Refused,
    Other,
}

impl FailureClass {
    pub const ALL: [FailureClass; 6] = [
        Self::DmsClosed,
        Self::MissingPermissions,
        Self::NotFound,
        Self::RetriesExhausted,
        Self::Refused,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DmsClosed => "dms_closed",
            Self::MissingPermissions => "missing_permissions",
            Self::NotFound => "not_found",
            Self::RetriesExhausted => "retries_exhausted",
            Self::Refused => "refused",
            Self::Other => "other",
        }
    }

    /// Sorts a failed delivery's `last_error`. The texts are the ones the worker records: a permanent
    /// `ChatError`'s own words, or its note that it gave up after its attempts.
    pub fn of(last_error: Option<&str>) -> Self {
        let Some(error) = last_error else {
            return Self::Other;
        };
        if error.starts_with(crate::schedule::worker::GAVE_UP) {
            Self::RetriesExhausted
        } else if error == ChatError::CannotDm.to_string() {
            Self::DmsClosed
        } else if error == ChatError::MissingPermissions.to_string() {
            Self::MissingPermissions
        } else if error.starts_with(&ChatError::NotFound(String::new()).to_string()) {
            Self::NotFound
        } else if error.starts_with("refused (") {
            Self::Refused
        } else {
            Self::Other
        }
    }
}

/// Describes every recorded series and creates it with each of its label values, at zero. Called once, when
/// the recorder is installed.
pub fn register() {
    metrics::describe_counter!(
        DELIVERIES_TOTAL,
        "Delivery attempts by kind and outcome (sent, skipped, retried, rate_limited, failed)."
    );
    metrics::describe_counter!(
        COMMANDS_TOTAL,
        "Commands handled by command and outcome (ok, user_error, error)."
    );
    metrics::describe_histogram!(
        COMMAND_DURATION,
        "Time from a command reaching the bot to its answer being ready, in seconds."
    );
    metrics::describe_gauge!(
        CLAIM_LAG,
        "How long the oldest delivery of the last claimed batch had been due when claimed, in seconds."
    );
    for kind in DeliveryKind::ALL {
        for outcome in DeliveryOutcome::ALL {
            count_delivery(kind.as_str(), outcome, 0);
        }
    }
    for command in commands() {
        for outcome in CommandOutcome::ALL {
            metrics::counter!(COMMANDS_TOTAL, "command" => command.clone(), "outcome" => outcome.as_str())
                .increment(0);
        }
        // Registering the histogram makes its buckets appear at zero.
        let _registered = metrics::histogram!(COMMAND_DURATION, "command" => command.clone());
    }
    metrics::gauge!(CLAIM_LAG).set(0.0);
}

/// Counts `n` deliveries of `kind` that ended with `outcome`.
pub fn count_delivery(kind: &str, outcome: DeliveryOutcome, n: u64) {
    metrics::counter!(DELIVERIES_TOTAL, "kind" => kind.to_owned(), "outcome" => outcome.as_str())
        .increment(n);
}

/// Records one handled command.
pub fn record_command(name: &str, seconds: f64, outcome: CommandOutcome) {
    metrics::counter!(COMMANDS_TOTAL, "command" => name.to_owned(), "outcome" => outcome.as_str())
        .increment(1);
    metrics::histogram!(COMMAND_DURATION, "command" => name.to_owned()).record(seconds);
}

/// What the database says at scrape time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DatabaseView {
    /// Pending deliveries by kind.
    pub pending: Vec<(String, i64)>,
    /// When the oldest pending delivery that is due now became due (its next attempt time).
    pub oldest_due: Option<DateTime<Utc>>,
    /// Deliveries failed in the last 24 hours, by their last error.
    pub failed: Vec<(Option<String>, i64)>,
    pub platforms: Vec<circles::PlatformCounts>,
}

impl DatabaseView {
    pub async fn read(pool: &PgPool, now: DateTime<Utc>) -> sqlx::Result<Self> {
        Ok(Self {
            pending: deliveries::pending_by_kind(pool).await?,
            oldest_due: deliveries::oldest_pending_due(pool, now).await?,
            failed: deliveries::failed_since(pool, now - chrono::Duration::hours(24)).await?,
            platforms: circles::counts_by_platform(pool).await?,
        })
    }
}

/// The state an instance reports at scrape time.
pub struct Live<'a> {
    pub now: DateTime<Utc>,
    /// None when the database did not answer: its series are left out and `career_circle_database_up` is 0.
    pub database: Option<&'a DatabaseView>,
    /// The Discord gateway's state; None on an instance that runs no gateway (`discord.gateway = false`), which
    /// then exports no gateway series rather than a "disconnected" one.
    pub discord_gateway: Option<bool>,
    /// The gateway shards this instance owns (none on a standby or a gateway-less instance).
    pub discord_shards: Vec<super::shards::ShardView>,
    pub worker: &'a WorkerStatus,
}

/// The scrape-time gauges in Prometheus' text format.
pub fn render_live(live: &Live<'_>) -> String {
    let mut out = Text::default();
    let flag = |on: bool| if on { 1.0 } else { 0.0 };
    out.labelled(
        BUILD_INFO,
        "The running version; always 1.",
        "version",
        &[(env!("CARGO_PKG_VERSION").to_owned(), 1.0)],
    );
    out.family(
        DATABASE_UP,
        "Whether the database answered this scrape's queries (1) or not (0).",
        &[(&[], flag(live.database.is_some()))],
    );
    let paused: Vec<(String, f64)> = PauseReason::ALL
        .iter()
        .map(|r| (r.as_str().to_owned(), flag(live.worker.is_paused(*r))))
        .collect();
    out.labelled(
        WORKER_PAUSED,
        "Whether this instance's worker is paused (1) or not (0), by reason.",
        "reason",
        &paused,
    );
    if let Some(connected) = live.discord_gateway {
        out.labelled(
            GATEWAY_CONNECTED,
            "Whether this instance's gateway to the platform is connected (1) or not (0).",
            "platform",
            &[("discord".to_owned(), flag(connected))],
        );
        let shards: Vec<(String, f64)> = live
            .discord_shards
            .iter()
            .map(|s| (s.shard.to_string(), flag(s.connected)))
            .collect();
        if !shards.is_empty() {
            out.labelled(
                GATEWAY_SHARD_CONNECTED,
                "Each gateway shard this instance owns: connected (1) or not (0). A standby owns none.",
                "shard",
                &shards,
            );
        }
    }
    let Some(db) = live.database else {
        return out.0;
    };

    let mut pending: Vec<(String, f64)> = DeliveryKind::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), 0.0))
        .collect();
    for (kind, n) in &db.pending {
        add(&mut pending, kind, *n as f64);
    }
    out.labelled(
        DELIVERIES_PENDING,
        "Deliveries waiting to be sent (due, or waiting for their next attempt), by kind.",
        "kind",
        &pending,
    );
    let age = db.oldest_due.map_or(0.0, |due| {
        (live.now - due).num_milliseconds().max(0) as f64 / 1000.0
    });
    out.family(
        OLDEST_DUE_AGE,
        "How long the oldest delivery that is due has waited, in seconds (0 when none is due).",
        &[(&[], age)],
    );
    let mut failed: Vec<(String, f64)> = FailureClass::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), 0.0))
        .collect();
    for (error, n) in &db.failed {
        add(
            &mut failed,
            FailureClass::of(error.as_deref()).as_str(),
            *n as f64,
        );
    }
    out.labelled(
        DELIVERIES_FAILED_24H,
        "Deliveries that failed for good in the last 24 hours, by reason.",
        "reason",
        &failed,
    );
    let mut circles: Vec<(String, f64)> =
        PLATFORMS.iter().map(|p| ((*p).to_owned(), 0.0)).collect();
    let mut members = circles.clone();
    for p in &db.platforms {
        add(&mut circles, &p.platform, p.circles as f64);
        add(&mut members, &p.platform, p.members as f64);
    }
    out.labelled(CIRCLES, "Circles, by chat platform.", "platform", &circles);
    out.labelled(
        MEMBERS,
        "Members of at least one circle, by chat platform.",
        "platform",
        &members,
    );
    out.0
}

fn add(values: &mut Vec<(String, f64)>, label: &str, n: f64) {
    match values.iter_mut().find(|(l, _)| l == label) {
        Some((_, v)) => *v += n,
        None => values.push((label.to_owned(), n)),
    }
}

/// A few gauge families in the text exposition format.
#[derive(Default)]
struct Text(String);

type Sample<'a> = (&'a [(&'a str, &'a str)], f64);

impl Text {
    fn family(&mut self, name: &str, help: &str, samples: &[Sample<'_>]) {
        use std::fmt::Write as _;
        let _infallible = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (labels, value) in samples {
            self.0.push_str(name);
            if !labels.is_empty() {
                let inner: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                    .collect();
                let _infallible = write!(self.0, "{{{}}}", inner.join(","));
            }
            let _infallible = writeln!(self.0, " {value}");
        }
        self.0.push('\n');
    }

    fn labelled(&mut self, name: &str, help: &str, label: &str, values: &[(String, f64)]) {
        let labels: Vec<[(&str, &str); 1]> =
            values.iter().map(|(v, _)| [(label, v.as_str())]).collect();
        let samples: Vec<Sample<'_>> = labels
            .iter()
            .zip(values)
            .map(|(l, (_, n))| (l.as_slice(), *n))
            .collect();
        self.family(name, help, &samples);
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_sorted_by_what_the_worker_records() {
        let cases = [
            (
                Some(ChatError::CannotDm.to_string()),
                FailureClass::DmsClosed,
            ),
            (
                Some(ChatError::MissingPermissions.to_string()),
                FailureClass::MissingPermissions,
            ),
            (
                Some(ChatError::NotFound("channel 42".into()).to_string()),
                FailureClass::NotFound,
            ),
            (
                Some(format!(
                    "{} 8 attempts: {}",
                    crate::schedule::worker::GAVE_UP,
                    ChatError::Transient("HTTP 502".into())
                )),
                FailureClass::RetriesExhausted,
            ),
            (Some("something new".to_owned()), FailureClass::Other),
            (None, FailureClass::Other),
        ];
        for (error, class) in cases {
            assert_eq!(FailureClass::of(error.as_deref()), class, "{error:?}");
        }
    }

    #[test]
    fn live_gauges_name_every_label_value_and_escape_them() {
        let now = Utc::now();
        let db = DatabaseView {
            pending: vec![
                ("monthly_nudge".into(), 3),
                ("from \"the future\"".into(), 1),
            ],
            oldest_due: Some(now - chrono::Duration::seconds(90)),
            failed: vec![(Some(ChatError::CannotDm.to_string()), 2)],
            platforms: vec![circles::PlatformCounts {
                platform: "discord".into(),
                circles: 1,
                members: 4,
            }],
        };
        let worker = WorkerStatus::default();
        worker.pause(PauseReason::TokenRejected);
        let text = render_live(&Live {
            now,
            database: Some(&db),
            discord_gateway: Some(false),
            discord_shards: Vec::new(),
            worker: &worker,
        });
        for line in [
            "career_circle_deliveries_pending{kind=\"monthly_nudge\"} 3",
            "career_circle_deliveries_pending{kind=\"review_close\"} 0",
            "career_circle_deliveries_pending{kind=\"from \\\"the future\\\"\"} 1",
            "career_circle_oldest_due_delivery_age_seconds 90",
            "career_circle_deliveries_failed_24h{reason=\"dms_closed\"} 2",
            "career_circle_deliveries_failed_24h{reason=\"other\"} 0",
            "career_circle_circles{platform=\"discord\"} 1",
            "career_circle_members{platform=\"slack\"} 0",
            "career_circle_worker_paused{reason=\"token_rejected\"} 1",
            "career_circle_worker_paused{reason=\"rate_limited\"} 0",
            "career_circle_gateway_connected{platform=\"discord\"} 0",
            "career_circle_database_up 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
        }

        let down = render_live(&Live {
            now,
            database: None,
            discord_gateway: None,
            discord_shards: Vec::new(),
            worker: &worker,
        });
        assert!(
            down.lines().any(|l| l == "career_circle_database_up 0"),
            "{down}"
        );
        assert!(
            !down.contains(DELIVERIES_PENDING) && !down.contains(GATEWAY_CONNECTED),
            "{down}"
        );
    }
}
