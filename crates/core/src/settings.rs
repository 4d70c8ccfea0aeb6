//! One typed `Settings`, read once at start: the embedded `config/default.toml` < `config/local.toml` <
//! `CAREER_CIRCLE__SECTION__KEY` environment variables (plus `DATABASE_URL` and `DISCORD_TOKEN`). Every value
//! is parsed into its type here, so a bad value stops the program at start with one line naming the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::domain::delivery::DeliveryKind;
use crate::domain::recurrence::CronSchedule;
use crate::domain::zone::Zone;

const DEFAULTS: &str = include_str!("../../../config/default.toml");

/// A setting that could not be used: which key, and why, in words an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid setting {key}: {reason}")]
pub struct SettingsError {
    pub key: String,
    pub reason: String,
}

/// Loads settings for a command-line entry point, or prints the one-line reason and returns exit code 2.
pub fn load_or_exit_code() -> Result<Settings, u8> {
    match Settings::load() {
        Ok(s) => Ok(s),
        Err(e) => {
            eprintln!("error: {e}");
            Err(2)
        }
    }
}

impl SettingsError {
    fn new(key: &str, reason: impl Into<String>) -> Self {
        Self {
            key: key.to_owned(),
            reason: reason.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub discord: DiscordSettings,
    pub slack: SlackSettings,
    pub schedule: ScheduleSettings,
    pub worker: WorkerSettings,
    pub http: HttpSettings,
    pub log: LogSettings,
    pub circles: CircleRules,
    pub limits: Limits,
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// May carry a password, so it is kept secret like the token.
    pub url: SecretString,
    pub max_connections: u32,
    pub connect_timeout: Duration,
    /// A statement running longer is cancelled (a guard against a runaway query, not a tuning knob).
    pub statement_timeout: Duration,
    /// A session idle inside a transaction this long is ended, so a stuck instance cannot hold locks or keep
    /// vacuum from cleaning the outbox.
    pub idle_in_transaction_timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandScope {
    Guild,
    Global,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    Env,
    Setting,
    File,
}

#[derive(Debug, Clone)]
pub struct DiscordSettings {
    pub token: Option<(SecretString, TokenSource)>,
    pub register_commands: CommandScope,
    pub dev_guild_id: Option<u64>,
    pub proxy_url: Option<String>,
    pub gateway: bool,
    pub shard_count: ShardCount,
    pub shards: ShardRange,
}

/// How many gateway shards the bot runs in all, across every instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardCount {
    /// What Discord recommends (`GET /gateway/bot`).
    Auto,
    Fixed(u32),
}

/// Which shards this instance may run: it owns each one it can take and stands by for the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardRange {
    /// Any shard that no other instance holds.
    Auto,
    /// From the first to the last, both included ("0-3" is four shards).
    Inclusive(u32, u32),
}

impl ShardCount {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "" | "auto" => Ok(Self::Auto),
            n => match n.parse::<u32>() {
                Ok(0) => Err("must be at least 1".to_owned()),
                Ok(n) => Ok(Self::Fixed(n)),
                Err(_) => Err(format!("\"{n}\" is neither \"auto\" nor a whole number")),
            },
        }
    }
}

impl ShardRange {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() || text == "auto" {
            return Ok(Self::Auto);
        }
        let number = |t: &str| {
            t.trim().parse::<u32>().map_err(|_| {
                format!("\"{text}\" is neither \"auto\" nor a range like \"0-3\" or \"2\"")
            })
        };
        let (first, last) = match text.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => (number(text)?, number(text)?),
        };
        if first > last {
            return Err(format!("\"{text}\" ends before it starts"));
        }
        Ok(Self::Inclusive(first, last))
    }

    /// The shards of `total` this instance may run.
    pub fn within(self, total: u32) -> Vec<u32> {
        match self {
            Self::Auto => (0..total).collect(),
            Self::Inclusive(first, last) => (first..=last).filter(|s| *s < total).collect(),
        }
    }
}

/// Slack's two tokens: the bot token for the Web API, the app-level token for Socket Mode. Slack runs when both
/// are set.
#[derive(Debug, Clone)]
pub struct SlackSettings {
    pub bot_token: Option<(SecretString, TokenSource)>,
    pub app_token: Option<(SecretString, TokenSource)>,
    pub api_url: String,
}

impl SlackSettings {
    /// Both tokens, when Slack is configured.
    pub fn tokens(&self) -> Option<(&SecretString, &SecretString)> {
        match (&self.bot_token, &self.app_token) {
            (Some((bot, _)), Some((app, _))) => Some((bot, app)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ScheduleSettings {
    pub tick: Duration,
    pub grace: Duration,
    pub default_zone: Zone,
    pub monthly_nudge: CronSchedule,
    pub nudge_reminder: CronSchedule,
    pub checkin_prompt: CronSchedule,
    pub checkin_reminder_after: Duration,
    pub deep_dive: CronSchedule,
    pub checkin_window: Duration,
    pub review_window: Duration,
    /// Delivery history older than this is dropped a year at a time (the outbox's partitions).
    pub retention: Duration,
}

impl ScheduleSettings {
    /// The default schedule of a kind that has one of its own (an organiser may override it per circle); None for
    /// kinds that follow another's occurrence or are queued as needed.
    pub fn default_cron(&self, kind: DeliveryKind) -> Option<&CronSchedule> {
        match kind {
            DeliveryKind::MonthlyNudge => Some(&self.monthly_nudge),
            DeliveryKind::NudgeReminder => Some(&self.nudge_reminder),
            DeliveryKind::CheckinPrompt => Some(&self.checkin_prompt),
            DeliveryKind::DeepDive => Some(&self.deep_dive),
            DeliveryKind::CheckinReminder
            | DeliveryKind::OrganiserAlert
            | DeliveryKind::OfferHindsight
            | DeliveryKind::OrganiserHandover
            | DeliveryKind::ReviewOpenFailed
            | DeliveryKind::ReviewCloseFailed
            | DeliveryKind::LandingDay30
            | DeliveryKind::LandingDay60
            | DeliveryKind::LandingDay90
            | DeliveryKind::ReviewOpen
            | DeliveryKind::ReviewMidway
            | DeliveryKind::ReviewClose => None,
        }
    }
}

/// Who may start a circle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateCircles {
    Anyone,
    /// Members the platform says manage the server (Discord: the Manage Server permission).
    Managers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircleRules {
    pub create: CreateCircles,
}

/// How much one community may hold. Each refuses the next item with a message saying which limit was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub members_per_circle: u32,
    /// On one server.
    pub circles_per_member: u32,
    pub open_commitments: u32,
    pub wins_per_quarter: u32,
    pub opportunities_per_quarter: u32,
    /// Changes to one check-in (a circle's quarter) after the first answer.
    pub checkin_revisions: u32,
}

impl Limits {
    /// The defaults of config/default.toml (a test keeps the two the same), for code that runs without settings.
    pub const DEFAULT: Limits = Limits {
        members_per_circle: 25,
        circles_per_member: 5,
        open_commitments: 20,
        wins_per_quarter: 100,
        opportunities_per_quarter: 20,
        checkin_revisions: 20,
    };

    /// The largest circle the settings may allow: the summary's heatmaps (50 members an image) must fit the ten
    /// attachments one message carries.
    pub const MEMBERS_PER_CIRCLE_MAX: i64 = 500;
}

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub batch_size: u32,
    pub concurrency: u32,
    pub lease: Duration,
    pub poll_interval: Duration,
    pub global_rate: u32,
    pub channel_rate: u32,
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub request_timeout: Duration,
    /// While the platform refuses the bot (a rejected token), how often the worker tries again.
    pub broken_probe: Duration,
}

#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub bind: SocketAddr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

// The raw shapes mirror config/default.toml; unknown keys are refused so a typo cannot pass silently.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    database: RawDatabase,
    discord: RawDiscord,
    slack: RawSlack,
    schedule: RawSchedule,
    worker: RawWorker,
    http: RawHttp,
    log: RawLog,
    circles: RawCircles,
    limits: RawLimits,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCircles {
    create: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    members_per_circle: Number,
    circles_per_member: Number,
    open_commitments: Number,
    wins_per_quarter: Number,
    opportunities_per_quarter: Number,
    checkin_revisions: Number,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: String,
    max_connections: Number,
    connect_timeout: String,
    statement_timeout: String,
    idle_in_transaction_timeout: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDiscord {
    token: String,
    token_file: String,
    register_commands: String,
    dev_guild_id: String,
    proxy_url: String,
    gateway: Flag,
    shard_count: String,
    shards: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlack {
    bot_token: String,
    bot_token_file: String,
    app_token: String,
    app_token_file: String,
    api_url: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    tick: String,
    grace: String,
    default_zone: String,
    monthly_nudge: String,
    nudge_reminder: String,
    checkin_prompt: String,
    checkin_reminder_after: String,
    deep_dive: String,
    checkin_window: String,
    review_window: String,
    retention: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorker {
    batch_size: Number,
    concurrency: Number,
    lease: String,
    poll_interval: String,
    global_rate: Number,
    channel_rate: Number,
    max_attempts: Number,
    backoff_base: String,
    backoff_max: String,
    request_timeout: String,
    broken_probe: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    bind: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    format: String,
    level: String,
}

/// A whole number from TOML, or its text from an environment variable (where every value is text).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Number {
    Int(i64),
    Text(String),
}

impl Number {
    fn get(&self, key: &str) -> Result<i64, SettingsError> {
        match self {
            Self::Int(n) => Ok(*n),
            Self::Text(t) => t
                .trim()
                .parse()
                .map_err(|_| SettingsError::new(key, format!("\"{t}\" is not a whole number"))),
        }
    }
}

/// true/false from TOML, or its text from an environment variable.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Flag {
    Bool(bool),
    Text(String),
}

impl Flag {
    fn get(&self, key: &str) -> Result<bool, SettingsError> {
        match self {
            Self::Bool(b) => Ok(*b),
            Self::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Ok(true),
                "false" | "no" | "0" => Ok(false),
                _ => Err(SettingsError::new(
                    key,
                    format!("\"{t}\" is neither true nor false"),
                )),
            },
        }
    }
}

/// Where the layers come from; tests point these elsewhere.
#[derive(Debug, Clone)]
pub struct Sources {
    pub local_file: PathBuf,
    pub env: Vec<(String, String)>,
}

impl Sources {
    /// `config/local.toml` under the current directory (or the file named by `CAREER_CIRCLE_CONFIG`), and this
    /// process's environment.
    pub fn from_process() -> Self {
        let local_file = std::env::var_os("CAREER_CIRCLE_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("config/local.toml"));
        Self {
            local_file,
            env: std::env::vars().collect(),
        }
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .filter(|v| !v.is_empty())
    }
}

impl Settings {
    pub fn load() -> Result<Self, SettingsError> {
        Self::load_from(&Sources::from_process())
    }

    pub fn load_from(sources: &Sources) -> Result<Self, SettingsError> {
        let prefixed: Vec<(String, String)> = sources
            .env
            .iter()
            .filter(|(key, _)| key.starts_with("CAREER_CIRCLE__"))
            .cloned()
            .collect();
        let figment = Figment::from(Toml::string(DEFAULTS))
            .merge(Toml::file(&sources.local_file))
            .merge(env_provider(prefixed));
        let raw: Raw = figment.extract().map_err(figment_error)?;
        Self::from_raw(raw, sources)
    }

    fn from_raw(raw: Raw, sources: &Sources) -> Result<Self, SettingsError> {
        let url = sources
            .var("DATABASE_URL")
            .map(str::to_owned)
            .unwrap_or(raw.database.url);
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(SettingsError::new(
                "database.url",
                "must start with postgres:// or postgresql://",
            ));
        }
        let database = DatabaseSettings {
            url: SecretString::from(url),
            max_connections: ranged(
                "database.max_connections",
                raw.database
                    .max_connections
                    .get("database.max_connections")?,
                1,
                1000,
            )?,
            connect_timeout: positive("database.connect_timeout", &raw.database.connect_timeout)?,
            statement_timeout: positive(
                "database.statement_timeout",
                &raw.database.statement_timeout,
            )?,
            idle_in_transaction_timeout: positive(
                "database.idle_in_transaction_timeout",
                &raw.database.idle_in_transaction_timeout,
            )?,
        };

        let discord = DiscordSettings {
            token: read_token(&raw.discord, sources)?,
            register_commands: match raw
                .discord
                .register_commands
                .trim()
                .to_ascii_lowercase()
                .as_str()
            {
                "guild" => CommandScope::Guild,
                "global" => CommandScope::Global,
                other => {
                    return Err(SettingsError::new(
                        "discord.register_commands",
                        format!("\"{other}\" is neither \"guild\" nor \"global\""),
                    ));
                }
            },
            dev_guild_id: match raw.discord.dev_guild_id.trim() {
                "" => None,
                id => Some(id.parse::<u64>().map_err(|_| {
                    SettingsError::new(
                        "discord.dev_guild_id",
                        format!("\"{id}\" is not a Discord id (digits only)"),
                    )
                })?),
            },
            proxy_url: Some(
                raw.discord
                    .proxy_url
                    .trim()
                    .trim_end_matches('/')
                    .to_owned(),
            )
            .filter(|u| !u.is_empty()),
            gateway: raw.discord.gateway.get("discord.gateway")?,
            shard_count: ShardCount::parse(&raw.discord.shard_count)
                .map_err(|e| SettingsError::new("discord.shard_count", e))?,
            shards: ShardRange::parse(&raw.discord.shards)
                .map_err(|e| SettingsError::new("discord.shards", e))?,
        };
        if let Some(url) = &discord.proxy_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(SettingsError::new(
                "discord.proxy_url",
                format!("\"{url}\" must start with http:// or https://"),
            ));
        }
        if discord.register_commands == CommandScope::Guild && discord.dev_guild_id.is_none() {
            return Err(SettingsError::new(
                "discord.dev_guild_id",
                "must be set when discord.register_commands = \"guild\"",
            ));
        }

        let slack = SlackSettings {
            bot_token: secret(
                sources,
                "SLACK_BOT_TOKEN",
                ("slack.bot_token", &raw.slack.bot_token),
                ("slack.bot_token_file", &raw.slack.bot_token_file),
            )?,
            app_token: secret(
                sources,
                "SLACK_APP_TOKEN",
                ("slack.app_token", &raw.slack.app_token),
                ("slack.app_token_file", &raw.slack.app_token_file),
            )?,
            api_url: raw.slack.api_url.trim().trim_end_matches('/').to_owned(),
        };
        for (key, token, prefix) in [
            ("slack.bot_token", &slack.bot_token, "xoxb-"),
            ("slack.app_token", &slack.app_token, "xapp-"),
        ] {
            if let Some((t, _)) = token
                && !t.expose_secret().starts_with(prefix)
            {
                return Err(SettingsError::new(
                    key,
                    format!("does not start with {prefix} (is it the other Slack token?)"),
                ));
            }
        }
        if slack.bot_token.is_some() != slack.app_token.is_some() {
            return Err(SettingsError::new(
                if slack.bot_token.is_some() {
                    "slack.app_token"
                } else {
                    "slack.bot_token"
                },
                "Slack needs both tokens: the bot token (xoxb-) and the app-level token (xapp-)",
            ));
        }
        if !(slack.api_url.starts_with("https://") || slack.api_url.starts_with("http://")) {
            return Err(SettingsError::new(
                "slack.api_url",
                format!("\"{}\" must start with http:// or https://", slack.api_url),
            ));
        }

        let s = &raw.schedule;
        let schedule = ScheduleSettings {
            tick: positive("schedule.tick", &s.tick)?,
            grace: duration("schedule.grace", &s.grace)?,
            default_zone: Zone::parse(&s.default_zone)
                .map_err(|e| SettingsError::new("schedule.default_zone", e.to_string()))?,
            monthly_nudge: cron("schedule.monthly_nudge", &s.monthly_nudge)?,
            nudge_reminder: cron("schedule.nudge_reminder", &s.nudge_reminder)?,
            checkin_prompt: cron("schedule.checkin_prompt", &s.checkin_prompt)?,
            checkin_reminder_after: positive(
                "schedule.checkin_reminder_after",
                &s.checkin_reminder_after,
            )?,
            deep_dive: cron("schedule.deep_dive", &s.deep_dive)?,
            checkin_window: positive("schedule.checkin_window", &s.checkin_window)?,
            review_window: positive("schedule.review_window", &s.review_window)?,
            retention: positive("schedule.retention", &s.retention)?,
        };
        // The planner looks back over the grace window and two months more (to record what a restart missed):
        // history it can still reach must not be dropped.
        if schedule.retention < schedule.grace + Duration::from_secs(90 * 86_400) {
            return Err(SettingsError::new(
                "schedule.retention",
                "must be at least schedule.grace plus 90 days",
            ));
        }

        let w = &raw.worker;
        let worker = WorkerSettings {
            batch_size: ranged(
                "worker.batch_size",
                w.batch_size.get("worker.batch_size")?,
                1,
                1000,
            )?,
            concurrency: ranged(
                "worker.concurrency",
                w.concurrency.get("worker.concurrency")?,
                1,
                256,
            )?,
            lease: positive("worker.lease", &w.lease)?,
            poll_interval: positive("worker.poll_interval", &w.poll_interval)?,
            global_rate: ranged(
                "worker.global_rate",
                w.global_rate.get("worker.global_rate")?,
                1,
                100_000,
            )?,
            channel_rate: ranged(
                "worker.channel_rate",
                w.channel_rate.get("worker.channel_rate")?,
                1,
                100_000,
            )?,
            max_attempts: ranged(
                "worker.max_attempts",
                w.max_attempts.get("worker.max_attempts")?,
                1,
                100,
            )?,
            backoff_base: positive("worker.backoff_base", &w.backoff_base)?,
            backoff_max: positive("worker.backoff_max", &w.backoff_max)?,
            request_timeout: positive("worker.request_timeout", &w.request_timeout)?,
            broken_probe: positive("worker.broken_probe", &w.broken_probe)?,
        };
        if worker.backoff_max < worker.backoff_base {
            return Err(SettingsError::new(
                "worker.backoff_max",
                "must not be shorter than worker.backoff_base",
            ));
        }

        let http = HttpSettings {
            bind: raw.http.bind.trim().parse().map_err(|_| {
                SettingsError::new(
                    "http.bind",
                    format!(
                        "\"{}\" is not an address like 127.0.0.1:8080",
                        raw.http.bind
                    ),
                )
            })?,
        };
        let log = LogSettings {
            format: match raw.log.format.trim().to_ascii_lowercase().as_str() {
                "pretty" => LogFormat::Pretty,
                "json" => LogFormat::Json,
                other => {
                    return Err(SettingsError::new(
                        "log.format",
                        format!("\"{other}\" is neither \"pretty\" nor \"json\""),
                    ));
                }
            },
            level: {
                let level = raw.log.level.trim().to_owned();
                tracing_subscriber::EnvFilter::try_new(&level).map_err(|e| {
                    SettingsError::new("log.level", format!("\"{level}\" is not a log filter: {e}"))
                })?;
                level
            },
        };
        let circles = CircleRules {
            create: match raw.circles.create.trim().to_ascii_lowercase().as_str() {
                "anyone" => CreateCircles::Anyone,
                "managers" => CreateCircles::Managers,
                other => {
                    return Err(SettingsError::new(
                        "circles.create",
                        format!("\"{other}\" is neither \"anyone\" nor \"managers\""),
                    ));
                }
            },
        };
        let l = &raw.limits;
        let limit = |key: &str, n: &Number, min: i64, max: i64| -> Result<u32, SettingsError> {
            ranged(key, n.get(key)?, min, max)
        };
        let limits = Limits {
            members_per_circle: limit(
                "limits.members_per_circle",
                &l.members_per_circle,
                2,
                Limits::MEMBERS_PER_CIRCLE_MAX,
            )?,
            circles_per_member: limit("limits.circles_per_member", &l.circles_per_member, 1, 100)?,
            open_commitments: limit("limits.open_commitments", &l.open_commitments, 1, 1000)?,
            wins_per_quarter: limit("limits.wins_per_quarter", &l.wins_per_quarter, 1, 10_000)?,
            opportunities_per_quarter: limit(
                "limits.opportunities_per_quarter",
                &l.opportunities_per_quarter,
                1,
                10_000,
            )?,
            checkin_revisions: limit("limits.checkin_revisions", &l.checkin_revisions, 0, 1000)?,
        };
        Ok(Self {
            database,
            discord,
            slack,
            schedule,
            worker,
            http,
            log,
            circles,
            limits,
        })
    }

    /// A copy with another database URL (the test command and `simulate` use scratch databases).
    pub fn with_database_url(mut self, url: &str) -> Self {
        self.database.url = SecretString::from(url.to_owned());
        self
    }

    pub fn database_url(&self) -> &str {
        self.database.url.expose_secret()
    }
}

fn env_provider(vars: Vec<(String, String)>) -> figment::providers::Serialized<serde_json::Value> {
    // Built from the given variables rather than the live environment so tests can pass their own.
    let mut root = serde_json::Map::new();
    for (key, value) in vars {
        let path: Vec<String> = key
            .trim_start_matches("CAREER_CIRCLE__")
            .split("__")
            .map(|p| p.to_ascii_lowercase())
            .collect();
        insert_path(&mut root, &path, env_value(&value));
    }
    figment::providers::Serialized::defaults(serde_json::Value::Object(root))
}

fn env_value(text: &str) -> serde_json::Value {
    // Environment values stay text; numeric settings accept text (see `Number`), and text settings such as a
    // guild id must not turn into numbers.
    serde_json::Value::from(text)
}

fn insert_path(
    map: &mut serde_json::Map<String, serde_json::Value>,
    path: &[String],
    value: serde_json::Value,
) {
    match path {
        [] => {}
        [last] => {
            map.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = map
                .entry(first.clone())
                .or_insert_with(|| serde_json::Value::Object(Default::default()));
            if !entry.is_object() {
                *entry = serde_json::Value::Object(Default::default());
            }
            if let serde_json::Value::Object(inner) = entry {
                insert_path(inner, rest, value);
            }
        }
    }
}

fn figment_error(error: figment::Error) -> SettingsError {
    let key = if error.path.is_empty() {
        "(settings)".to_owned()
    } else {
        error.path.join(".")
    };
    let reason = match &error.kind {
        figment::error::Kind::UnknownField(field, _) => {
            let key = match error.path.last() {
                Some(last) if last == field => key,
                Some(_) => format!("{key}.{field}"),
                None => field.clone(),
            };
            return SettingsError::new(
                &key,
                "unknown setting (see config/default.toml for the keys)",
            );
        }
        figment::error::Kind::InvalidType(actual, expected) => {
            format!("expected {expected}, found {actual}")
        }
        other => other.to_string(),
    };
    SettingsError::new(&key, reason)
}

fn ranged<T: TryFrom<i64>>(key: &str, value: i64, min: i64, max: i64) -> Result<T, SettingsError> {
    if value < min || value > max {
        return Err(SettingsError::new(
            key,
            format!("{value} is outside {min}..={max}"),
        ));
    }
    T::try_from(value).map_err(|_| SettingsError::new(key, format!("{value} is out of range")))
}

fn cron(key: &str, text: &str) -> Result<CronSchedule, SettingsError> {
    CronSchedule::parse(text).map_err(|e| SettingsError::new(key, e.to_string()))
}

fn positive(key: &str, text: &str) -> Result<Duration, SettingsError> {
    let value = duration(key, text)?;
    if value.is_zero() {
        return Err(SettingsError::new(key, "must be longer than zero"));
    }
    Ok(value)
}

fn duration(key: &str, text: &str) -> Result<Duration, SettingsError> {
    parse_duration(text).map_err(|reason| SettingsError::new(key, reason))
}

/// Parses "500ms", "30s", "15m", "2h", "7d".
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err(format!(
            "\"{text}\" is negative; durations must be zero or more"
        ));
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let amount: u64 = digits
        .parse()
        .map_err(|_| format!("\"{text}\" is not a duration like 30s, 15m, 2h or 7d"))?;
    let seconds_per = match unit.trim() {
        "ms" => {
            return Some(amount)
                .filter(|ms| *ms <= 10 * 365 * 86_400 * 1000)
                .map(Duration::from_millis)
                .ok_or_else(|| format!("\"{text}\" is longer than ten years"));
        }
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "\"{text}\" has no known unit; use ms, s, m, h or d"
            ));
        }
    };
    amount
        .checked_mul(seconds_per)
        .filter(|s| *s <= 10 * 365 * 86_400)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("\"{text}\" is longer than ten years"))
}

fn read_token(
    raw: &RawDiscord,
    sources: &Sources,
) -> Result<Option<(SecretString, TokenSource)>, SettingsError> {
    if let Some(token) = sources.var("DISCORD_TOKEN") {
        return Ok(Some((
            SecretString::from(token.trim().to_owned()),
            TokenSource::Env,
        )));
    }
    if !raw.token.trim().is_empty() {
        return Ok(Some((
            SecretString::from(raw.token.trim().to_owned()),
            TokenSource::Setting,
        )));
    }
    let file = raw.token_file.trim();
    if file.is_empty() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(Path::new(file)).map_err(|e| {
        SettingsError::new("discord.token_file", format!("cannot read {file}: {e}"))
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(SettingsError::new(
            "discord.token_file",
            format!("{file} is empty"),
        ));
    }
    Ok(Some((
        SecretString::from(token.to_owned()),
        TokenSource::File,
    )))
}

/// A secret from the environment variable `env`, else the setting, else the file the `_file` setting names.
fn secret(
    sources: &Sources,
    env: &str,
    (_key, value): (&str, &str),
    (file_key, file): (&str, &str),
) -> Result<Option<(SecretString, TokenSource)>, SettingsError> {
    if let Some(token) = sources.var(env).map(str::trim).filter(|t| !t.is_empty()) {
        return Ok(Some((
            SecretString::from(token.to_owned()),
            TokenSource::Env,
        )));
    }
    if !value.trim().is_empty() {
        return Ok(Some((
            SecretString::from(value.trim().to_owned()),
            TokenSource::Setting,
        )));
    }
    let file = file.trim();
    if file.is_empty() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(Path::new(file))
        .map_err(|e| SettingsError::new(file_key, format!("cannot read {file}: {e}")))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(SettingsError::new(file_key, format!("{file} is empty")));
    }
    Ok(Some((
        SecretString::from(token.to_owned()),
        TokenSource::File,
    )))
}

/// Whether a token has the shape of a Discord bot token (three dot-separated base64url parts), without
/// revealing any of it.
pub fn token_shape_ok(token: &SecretString) -> bool {
    let parts: Vec<&str> = token.expose_secret().split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        && (50..=120).contains(&token.expose_secret().len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(env: &[(&str, &str)]) -> Sources {
        Sources {
            local_file: PathBuf::from("/nonexistent/local.toml"),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn slack_runs_with_both_tokens_from_env_or_file() {
        let none = Settings::load_from(&sources(&[])).unwrap_or_else(|e| panic!("{e}"));
        assert!(none.slack.tokens().is_none());
        let both = Settings::load_from(&sources(&[
            ("SLACK_BOT_TOKEN", "xoxb-1-2"),
            ("SLACK_APP_TOKEN", "xapp-1-2"),
        ]))
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(both.slack.tokens().is_some());
        assert!(matches!(both.slack.bot_token, Some((_, TokenSource::Env))));
        let one = Settings::load_from(&sources(&[("SLACK_BOT_TOKEN", "xoxb-1-2")]));
        assert!(one.is_err_and(|e| e.key == "slack.app_token"));
        let swapped = Settings::load_from(&sources(&[
            ("SLACK_BOT_TOKEN", "xapp-1-2"),
            ("SLACK_APP_TOKEN", "xoxb-1-2"),
        ]));
        assert!(swapped.is_err_and(|e| e.key == "slack.bot_token"));
        let dir = std::env::temp_dir().join(format!("cc-slack-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let file = dir.join("app");
        std::fs::write(&file, "xapp-from-file\n").unwrap_or_else(|e| panic!("{e}"));
        let from_file = Settings::load_from(&sources(&[
            ("SLACK_BOT_TOKEN", "xoxb-1-2"),
            (
                "CAREER_CIRCLE__SLACK__APP_TOKEN_FILE",
                file.to_str().unwrap_or_default(),
            ),
        ]))
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            from_file.slack.app_token,
            Some((_, TokenSource::File))
        ));
        std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn defaults_parse() {
        let settings = Settings::load_from(&sources(&[])).unwrap();
        assert_eq!(settings.schedule.grace, Duration::from_secs(7 * 86_400));
        assert_eq!(settings.worker.global_rate, 45);
        assert!(settings.discord.token.is_none());
        assert_eq!(settings.http.bind.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn env_overrides_and_names_the_key_on_error() {
        let s =
            Settings::load_from(&sources(&[("CAREER_CIRCLE__WORKER__GLOBAL_RATE", "10")])).unwrap();
        assert_eq!(s.worker.global_rate, 10);
        let e = Settings::load_from(&sources(&[(
            "CAREER_CIRCLE__SCHEDULE__DEFAULT_ZONE",
            "Mars/Base",
        )]))
        .unwrap_err();
        assert_eq!(e.key, "schedule.default_zone");
        let e = Settings::load_from(&sources(&[("CAREER_CIRCLE__SCHEDULE__GRACE", "-3d")]))
            .unwrap_err();
        assert_eq!(e.key, "schedule.grace");
        assert!(e.reason.contains("negative"), "{e}");
        let e =
            Settings::load_from(&sources(&[("CAREER_CIRCLE__SCHEDULE__TYPO", "1")])).unwrap_err();
        assert_eq!(e.key, "schedule.typo");
    }

    #[test]
    fn env_values_are_text_and_numbers_still_parse() {
        let s = Settings::load_from(&sources(&[
            ("CAREER_CIRCLE__DISCORD__REGISTER_COMMANDS", "guild"),
            (
                "CAREER_CIRCLE__DISCORD__DEV_GUILD_ID",
                "1573861028272275460",
            ),
            ("CAREER_CIRCLE__DISCORD__TOKEN", "12345"),
        ]))
        .unwrap();
        assert_eq!(s.discord.dev_guild_id, Some(1_573_861_028_272_275_460));
        let e = Settings::load_from(&sources(&[("CAREER_CIRCLE__WORKER__GLOBAL_RATE", "fast")]))
            .unwrap_err();
        assert_eq!(e.key, "worker.global_rate");
        assert!(e.reason.contains("whole number"), "{e}");
    }

    #[test]
    fn limits_and_circle_rules() {
        let s = Settings::load_from(&sources(&[])).unwrap();
        assert_eq!(
            s.limits,
            Limits::DEFAULT,
            "config/default.toml and Limits::DEFAULT agree"
        );
        assert_eq!(s.circles.create, CreateCircles::Anyone);
        let s = Settings::load_from(&sources(&[
            ("CAREER_CIRCLE__CIRCLES__CREATE", "managers"),
            ("CAREER_CIRCLE__LIMITS__MEMBERS_PER_CIRCLE", "60"),
        ]))
        .unwrap();
        assert_eq!(s.circles.create, CreateCircles::Managers);
        assert_eq!(s.limits.members_per_circle, 60);
        let e = Settings::load_from(&sources(&[("CAREER_CIRCLE__CIRCLES__CREATE", "admins")]))
            .unwrap_err();
        assert_eq!(e.key, "circles.create");
        let e = Settings::load_from(&sources(&[(
            "CAREER_CIRCLE__LIMITS__MEMBERS_PER_CIRCLE",
            "501",
        )]))
        .unwrap_err();
        assert_eq!(e.key, "limits.members_per_circle");
        assert!(e.reason.contains("outside 2..=500"), "{e}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert!(parse_duration("7 weeks").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("99999999999999999d").is_err());
    }

    #[test]
    fn token_shape() {
        let good = SecretString::from(format!(
            "{}.{}.{}",
            "M".repeat(26),
            "G".repeat(6),
            "x".repeat(38)
        ));
        assert!(token_shape_ok(&good));
        assert!(!token_shape_ok(&SecretString::from(
            "not-a-token".to_owned()
        )));
    }
}
