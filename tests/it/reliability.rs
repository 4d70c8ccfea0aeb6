//! Faults with real processes and the loopback Discord: kill -9 mid-burst, graceful stop, 429 storms, 5xx,
//! a dropped gateway. Nothing is lost and nothing is posted twice.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use career_circle::cli::run::serve;
use career_circle_core::app::circles::CreateCircle;
use career_circle_core::settings::CommandScope;
use career_circle_discord::Connection;
use sqlx::PgPool;
use tokio::sync::watch;

use crate::discord_e2e::{PATIENCE, db_url};
use crate::support::discord::{Fault, LoopbackDiscord, TOKEN};
use crate::support::{actor, settings, world};

/// A circle of `n` loopback users with a monthly commitment each and a nudge waiting in the outbox, due now.
pub async fn burst(pool: &PgPool, discord: &LoopbackDiscord, n: usize) -> Vec<String> {
    let now = chrono::Utc::now().to_rfc3339();
    let w = world(pool.clone(), &now);
    let guild = discord.guild_id();
    let mut users = Vec::new();
    for i in 0..n {
        let id = discord.add_user(&format!("member{i}"));
        let a = actor(&guild, &id);
        if i == 0 {
            w.app
                .circle_create(
                    &a,
                    CreateCircle {
                        name: "Burst",
                        channel_id: &discord.channel_id(),
                        zone: None,
                    },
                )
                .await
                .unwrap();
        } else {
            w.app.circle_join(&a, "Burst").await.unwrap();
        }
        w.app
            .commit_add(&a, "publish one post", None)
            .await
            .unwrap();
        users.push(id);
    }
    sqlx::query(
        "INSERT INTO deliveries (kind, circle_id, member_id, period, due_at, next_attempt_at)
         SELECT 'monthly_nudge', ms.circle_id, ms.member_id, to_char(now(), 'YYYY-MM'), now(), now() FROM memberships ms",
    )
    .execute(pool)
    .await
    .unwrap();
    users
}

/// The bot as a child process; its log goes to a file (a pipe nobody reads would fill and block it).
fn spawn_bot(
    pool: &PgPool,
    discord: &LoopbackDiscord,
    extra: &[(&str, &str)],
) -> (Child, tempfile::NamedTempFile) {
    let log = tempfile::NamedTempFile::new().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_career-circle"));
    cmd.arg("run")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CAREER_CIRCLE_CONFIG", "/nonexistent/local.toml")
        .env("DATABASE_URL", db_url(pool))
        .env("DISCORD_TOKEN", TOKEN)
        .env("CAREER_CIRCLE__DISCORD__PROXY_URL", discord.base_url())
        .env("CAREER_CIRCLE__DISCORD__REGISTER_COMMANDS", "guild")
        .env("CAREER_CIRCLE__DISCORD__DEV_GUILD_ID", discord.guild_id())
        .env("CAREER_CIRCLE__HTTP__BIND", format!("127.0.0.1:{port}"))
        .env("CAREER_CIRCLE__WORKER__LEASE", "2s")
        .env("CAREER_CIRCLE__WORKER__POLL_INTERVAL", "100ms")
        .env("CAREER_CIRCLE__WORKER__BATCH_SIZE", "5")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log.reopen().unwrap()));
    for (k, v) in extra {
        cmd.env(k, v);
    }
    (cmd.spawn().unwrap(), log)
}

async fn sent_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM deliveries WHERE status = 'sent'")
        .fetch_one(pool)
        .await
        .unwrap()
}

fn dm_count(discord: &LoopbackDiscord, users: &[String]) -> Vec<usize> {
    users
        .iter()
        .map(|u| discord.dm_messages_to(u).len())
        .collect()
}

async fn wait_until(limit: Duration, mut done: impl AsyncFnMut() -> bool) -> bool {
    let started = Instant::now();
    while !done().await {
        if started.elapsed() > limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

fn log_of(file: &tempfile::NamedTempFile) -> String {
    std::fs::read_to_string(file.path()).unwrap_or_default()
}

#[sqlx::test]
async fn kill_9_mid_burst_then_restart_sends_every_delivery_exactly_once(pool: PgPool) {
    let discord = LoopbackDiscord::start().await;
    let users = burst(&pool, &discord, 40).await;
    // The first process gets 12 sends through; each later one reaches Discord (the DM is posted) but is never
    // answered. So it is killed mid-burst however fast the machine is, with sends whose outcome it never learnt
    // and deliveries it never started.
    let route = "/channels/{channel_id}/messages";
    discord.fail_next("POST", route, Fault::Pass, 12);
    discord.fail_next(
        "POST",
        route,
        Fault::Timeout {
            hold: Duration::from_secs(3600),
        },
        1000,
    );
    let (mut first, first_file) = spawn_bot(
        &pool,
        &discord,
        &[("CAREER_CIRCLE__WORKER__GLOBAL_RATE", "10")],
    );
    let third = wait_until(PATIENCE, async || {
        sent_count(&pool).await == 12 && discord.requests_to("POST", route).len() > 12
    })
    .await;
    assert!(
        third,
        "a third of the burst was never sent; the bot said:\n{}",
        log_of(&first_file)
    );
    first.kill().unwrap(); // SIGKILL: no chance to release claims or record in-flight sends
    first.wait().unwrap();
    let first_log = log_of(&first_file);
    let after_kill = sent_count(&pool).await;
    assert_eq!(after_kill, 12, "killed mid-burst");
    discord.clear_faults();

    let (mut second, second_file) = spawn_bot(
        &pool,
        &discord,
        &[("CAREER_CIRCLE__WORKER__GLOBAL_RATE", "40")],
    );
    let all = wait_until(PATIENCE, async || sent_count(&pool).await == 40).await;
    assert!(
        all,
        "not every delivery was sent; the bot said:\n{}",
        log_of(&second_file)
    );
    // SIGTERM: a graceful stop, exit code 0.
    let status = Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = second.wait().unwrap().code();
    let second_log = log_of(&second_file);
    assert_eq!(code, Some(0), "graceful stop: {second_log}");

    assert!(
        dm_count(&discord, &users).iter().all(|n| *n == 1),
        "each member got exactly one DM: {:?}",
        dm_count(&discord, &users)
    );
    discord.assert_all_valid();
    assert_eq!(discord.validated_count(), discord.requests().len());
    for log in [&first_log, &second_log] {
        assert!(!log.contains(TOKEN), "the token never appears in logs");
        assert!(log.contains("worker started"), "debug logs were on: {log}");
    }
}

fn test_connection(discord: &LoopbackDiscord) -> Connection {
    Connection {
        token: TOKEN.to_owned(),
        proxy: Some(discord.base_url()),
        register: CommandScope::Guild,
        dev_guild_id: discord.guild_id().parse().ok(),
        request_timeout: Duration::from_millis(500),
    }
}

#[sqlx::test]
async fn rate_limit_storms_server_errors_timeouts_and_gateway_drops_slow_things_down_but_lose_nothing(
    pool: PgPool,
) {
    let discord = LoopbackDiscord::start().await;
    let users = burst(&pool, &discord, 12).await;
    // One member has DMs closed: their nudge fails at once and the organiser (users[0]) hears of it.
    discord.close_dms(&users[5]);
    let route = "/channels/{channel_id}/messages";
    discord.fail_next(
        "POST",
        route,
        Fault::RateLimited {
            retry_after_secs: 0.3,
            global: false,
        },
        6,
    );
    discord.fail_next("POST", route, Fault::ServerError, 3);
    discord.fail_next(
        "POST",
        route,
        Fault::Timeout {
            hold: Duration::from_secs(1),
        },
        2,
    );

    let mut s = settings().with_database_url(&db_url(&pool));
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    s.http.bind = format!("127.0.0.1:{port}").parse().unwrap();
    s.worker.poll_interval = Duration::from_millis(50);
    s.worker.backoff_base = Duration::from_millis(100);
    s.worker.backoff_max = Duration::from_millis(400);
    let clock = Arc::new(career_circle_core::clock::SystemClock);
    let (stop, stopped) = watch::channel(false);
    let bot = tokio::spawn(serve(s, test_connection(&discord), clock, stopped));
    assert!(discord.wait_connected(PATIENCE).await);
    discord.drop_gateway();
    let settled = wait_until(PATIENCE, async || {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM deliveries WHERE status = 'pending'")
            .fetch_one(&pool)
            .await
            .unwrap()
            == 0
            && sent_count(&pool).await == 12
    })
    .await;
    assert!(settled, "every delivery despite the faults");
    assert!(
        discord.wait_connected(PATIENCE).await,
        "the gateway came back"
    );
    let stats = discord.gateway_stats();
    assert!(
        stats.resumes >= 1,
        "the client resumed its session: {stats:?}"
    );
    stop.send(true).unwrap();
    tokio::time::timeout(PATIENCE, bot)
        .await
        .unwrap()
        .unwrap()
        .unwrap();

    let dms = dm_count(&discord, &users);
    assert_eq!(
        (dms[0], dms[5]),
        (2, 0),
        "the organiser got a nudge and the alert; the closed DM nothing: {dms:?}"
    );
    assert!(
        dms.iter()
            .enumerate()
            .all(|(i, n)| i == 0 || i == 5 || *n == 1),
        "{dms:?}"
    );
    let alert = discord.dm_messages_to(&users[0]).into_iter().find(|m| {
        m["content"]
            .as_str()
            .unwrap_or("")
            .contains("couldn't deliver")
    });
    assert!(alert.is_some(), "the organiser was told");
    let statuses: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, status FROM deliveries WHERE status <> 'sent'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        statuses,
        vec![("monthly_nudge".to_owned(), "failed".to_owned())]
    );
    let attempts: Vec<(i32, Option<String>)> =
        sqlx::query_as("SELECT attempts, last_error FROM deliveries ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(
        attempts.iter().map(|(a, _)| a).sum::<i32>() >= 12 + 3 + 2,
        "5xx and timeouts count as attempts: {attempts:?}"
    );
    discord.assert_all_valid();
}
