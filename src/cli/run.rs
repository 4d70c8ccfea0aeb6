//! `career-circle run`: each platform that has its tokens (the Discord gateway, Slack's Socket Mode), the planner,
//! the worker and the operator endpoint, supervised together.
//! SIGTERM or Ctrl-C stops claiming, lets in-flight sends finish (unsent claims are released) and closes the pool.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use secrecy::ExposeSecret;
use tokio::sync::watch;
use tokio::task::JoinSet;

use career_circle_core::app::App;
use career_circle_core::chat::ChatPort;
use career_circle_core::clock::{Clock, SystemClock};
use career_circle_core::ops::{self, Health};
use career_circle_core::schedule::planner::Planner;
use career_circle_core::schedule::worker::Worker;
use career_circle_core::settings::Settings;
use career_circle_core::settings::load_or_exit_code as load_settings;
use career_circle_core::store;
use career_circle_discord::{self as discord, Connection};
use career_circle_slack as slack;

pub async fn main() -> u8 {
    let settings = match load_settings() {
        Ok(s) => s,
        Err(code) => return code,
    };
    career_circle_core::telemetry::init(&settings.log);
    let discord = settings.discord.token.clone().map(|(token, _)| Connection {
        token: token.expose_secret().to_owned(),
        proxy: settings.discord.proxy_url.clone(),
        register: settings.discord.register_commands,
        dev_guild_id: settings.discord.dev_guild_id,
        request_timeout: settings.worker.request_timeout,
    });
    let slack = settings.slack.tokens().map(|(bot, app)| slack::Connection {
        bot_token: bot.expose_secret().to_owned(),
        app_token: app.expose_secret().to_owned(),
        api_base: settings.slack.api_url.clone(),
        request_timeout: settings.worker.request_timeout,
    });
    if discord.is_none() && slack.is_none() {
        eprintln!(
            "error: no platform to serve. Set DISCORD_TOKEN (README: \"Discord setup\") or SLACK_BOT_TOKEN and \
             SLACK_APP_TOKEN (README: \"Slack setup\"), or try the bot locally with `career-circle demo`."
        );
        return 1;
    }
    match serve_platforms(
        settings,
        Platforms { discord, slack },
        Arc::new(SystemClock),
        shutdown_on_signal(),
    )
    .await
    {
        Ok(()) => 0,
        Err(e) => {
            if let Some(refused) = e.downcast_ref::<discord::Refused>() {
                // A supervisor restarting us would only be refused again: say what to fix and stop for good.
                eprintln!("error: {refused}");
                return EX_CONFIG;
            }
            if let Some(refused) = e.downcast_ref::<slack::Refused>() {
                eprintln!("error: {refused}");
                return EX_CONFIG;
            }
            tracing::error!(error = ?e, "career-circle stopped on an error");
            eprintln!("error: {e:#}");
            1
        }
    }
}

/// The platforms one process serves: each that has its tokens.
#[derive(Debug, Clone, Default)]
pub struct Platforms {
    pub discord: Option<Connection>,
    pub slack: Option<slack::Connection>,
}

/// sysexits.h's EX_CONFIG: the bot cannot run as configured (its token or intents were refused).
pub const EX_CONFIG: u8 = 78;

/// A watch that turns true on SIGTERM or SIGINT.
fn shutdown_on_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {}
            _ = term => {}
        }
        tracing::info!("shutting down");
        let _ignored_if_everyone_stopped = tx.send(true);
    });
    rx
}

/// Runs Discord and everything else until `shutdown` turns true or a part fails. Tests call this with a loopback
/// connection and a manual clock.
pub async fn serve(
    settings: Settings,
    connection: Connection,
    clock: Arc<dyn Clock>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    serve_platforms(
        settings,
        Platforms {
            discord: Some(connection),
            slack: None,
        },
        clock,
        shutdown,
    )
    .await
}

/// Runs each platform given, the planner, one worker delivering for all of them, and the operator endpoint.
pub async fn serve_platforms(
    settings: Settings,
    platforms: Platforms,
    clock: Arc<dyn Clock>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let pool = store::connect_with_timeouts(
        settings.database_url(),
        settings.database.max_connections,
        settings.database.connect_timeout,
        settings.database.statement_timeout,
        settings.database.idle_in_transaction_timeout,
    )
    .await
    .map_err(|e| {
        anyhow::anyhow!("cannot reach the database ({e}); `career-circle doctor` helps")
    })?;
    let applied: std::collections::HashSet<i64> = store::applied_migrations(&pool)
        .await
        .unwrap_or_default()
        .into_iter()
        .collect();
    if store::MIGRATOR
        .iter()
        .any(|m| !applied.contains(&m.version))
    {
        anyhow::bail!("the database schema is not up to date; run `career-circle migrate` first");
    }
    // One pace and one memory of DM channels for every instance on this database.
    let pacer: Arc<dyn career_circle_core::chat::pacing::Pacer> =
        Arc::new(store::pacing::SharedPacer::new(pool.clone()));
    let discord_chat = match &platforms.discord {
        Some(connection) => Some(Arc::new(
            discord::chat_port::DiscordChat::new(
                Arc::new(connection.http()?),
                connection.request_timeout,
            )?
            .shared(
                pacer.clone(),
                discord::chat_port::Rates {
                    global_per_second: f64::from(settings.worker.global_rate),
                    channel_per_second: f64::from(settings.worker.channel_rate),
                },
                Arc::new(store::dm_channels::StoredDmChannels::new(
                    pool.clone(),
                    career_circle_core::chat::Platform::Discord,
                )),
            ),
        )),
        None => None,
    };
    let slack_chat = match &platforms.slack {
        Some(connection) => Some(Arc::new(
            slack::chat_port::SlackChat::new(Arc::new(connection.web()?.paced(
                pacer.clone(),
                slack::web::Rates {
                    channel_per_second: f64::from(settings.worker.channel_rate),
                    ..slack::web::Rates::default()
                },
            )))
            .with_dm_channels(Arc::new(store::dm_channels::StoredDmChannels::new(
                pool.clone(),
                career_circle_core::chat::Platform::Slack,
            ))),
        )),
        None => None,
    };
    let mut chats: Vec<Arc<dyn ChatPort>> = Vec::new();
    if let Some(c) = &discord_chat {
        chats.push(c.clone());
    }
    if let Some(c) = &slack_chat {
        chats.push(c.clone());
    }
    let Some(chat) = chats.first().cloned() else {
        anyhow::bail!("no platform to serve: set the Discord or the Slack tokens");
    };
    // Use cases post through the same paced ports the worker sends with (a second opinion asked of a circle).
    let mut app = App::new(pool.clone(), clock.clone(), settings.schedule.clone())
        .with_rules(settings.circles, settings.limits);
    for c in &chats {
        app = app.with_chat(c.clone());
    }
    let gateway = settings.discord.gateway && discord_chat.is_some();
    let gateway_connected = Arc::new(AtomicBool::new(false));
    let shards_board = Arc::new(ops::shards::GatewayShards::new(gateway_connected.clone()));
    let slack_connected = Arc::new(AtomicBool::new(false));
    let metrics = ops::metrics_handle()?;

    // Any part ending early (an error, or the gateway giving up) stops the others: the supervisor's watch.
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut forward = shutdown.clone();
    let stop_on_signal = stop_tx.clone();
    tokio::spawn(async move {
        while !*forward.borrow() {
            if forward.changed().await.is_err() {
                return;
            }
        }
        let _ignored_if_stopped = stop_on_signal.send(true);
    });

    let mut worker = Worker::new(pool.clone(), chat, clock.clone(), settings.worker.clone());
    for c in chats.iter().skip(1) {
        worker = worker.with_chat(c.clone());
    }
    let health = Health {
        pool: pool.clone(),
        gateway_connected: gateway_connected.clone(),
        gateway_expected: gateway,
        gateway_shards: gateway.then(|| shards_board.clone()),
        platforms: if slack_chat.is_some() {
            vec![(
                career_circle_core::chat::Platform::Slack,
                slack_connected.clone(),
            )]
        } else {
            Vec::new()
        },
        worker: worker.status(),
        clock: clock.clone(),
    };

    let mut tasks = JoinSet::new();
    tasks.spawn(named(
        "operator endpoint",
        ops::serve(
            settings.http.bind,
            ops::router(health, metrics),
            stop_rx.clone(),
        ),
    ));
    let planner = Planner::new(pool.clone(), settings.schedule.clone());
    tasks.spawn(named(
        "planner",
        plan_loop(
            planner,
            clock.clone(),
            settings.schedule.tick,
            stop_rx.clone(),
        ),
    ));
    let worker_stop = stop_rx.clone();
    tasks.spawn(named("worker", async move {
        worker.run(worker_stop).await;
        Ok(())
    }));
    let has_discord = platforms.discord.is_some();
    if let (Some(connection), Some(discord_chat), true) = (platforms.discord, discord_chat, gateway)
    {
        tasks.spawn(named(
            "discord gateway",
            discord::shards::run(
                connection,
                app.clone(),
                discord_chat,
                discord::shards::Sharding {
                    count: settings.discord.shard_count,
                    shards: settings.discord.shards,
                    locks: store::shard_locks::ShardLocks::new(pool.clone()),
                    pacer: pacer.clone(),
                    board: shards_board,
                },
                stop_rx.clone(),
            ),
        ));
    } else if has_discord {
        tracing::info!("discord.gateway = false: this instance plans and delivers only");
    }
    if let (Some(connection), Some(slack_chat)) = (platforms.slack, slack_chat) {
        tasks.spawn(named(
            "slack socket mode",
            slack::run(
                connection,
                app,
                slack_chat,
                slack_connected,
                stop_rx.clone(),
            ),
        ));
    }

    let mut failure = None;
    while let Some(joined) = tasks.join_next().await {
        let stopping = *stop_rx.borrow();
        match joined {
            Ok((name, Err(e))) => {
                tracing::error!(part = name, error = ?e, "part failed; stopping");
                failure.get_or_insert(e.context(format!("{name} failed")));
            }
            Ok((name, Ok(()))) if !stopping => {
                tracing::error!(part = name, "part ended unexpectedly; stopping");
                failure.get_or_insert(anyhow::anyhow!("{name} ended unexpectedly"));
            }
            Ok(_) => {}
            Err(e) => {
                failure.get_or_insert(anyhow::anyhow!("a task panicked: {e}"));
            }
        }
        let _ignored_if_stopped = stop_tx.send(true);
    }
    pool.close().await;
    tracing::info!("stopped");
    failure.map_or(Ok(()), Err)
}

async fn named(
    name: &'static str,
    fut: impl std::future::Future<Output = anyhow::Result<()>>,
) -> (&'static str, anyhow::Result<()>) {
    (name, fut.await)
}

async fn plan_loop(
    planner: Planner,
    clock: Arc<dyn Clock>,
    tick: Duration,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut maintained: Option<chrono::DateTime<chrono::Utc>> = None;
    while !*stop.borrow() {
        let now = clock.now();
        // The outbox's partitions: at start, then hourly (it is cheap, and only one instance does it at a time).
        if maintained.is_none_or(|at| now - at >= chrono::Duration::hours(1)) {
            match planner.maintain(now).await {
                Ok(_) => maintained = Some(now),
                Err(e) => tracing::warn!(error = ?e, "outbox maintenance failed; will retry"),
            }
        }
        if let Err(e) = planner.tick(now).await {
            // The watermark did not move, so the next tick covers the same window again: nothing is lost.
            tracing::error!(error = ?e, "planner tick failed; will retry");
        }
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = stop.changed() => {}
        }
    }
    Ok(())
}
