//! Gateway shards across instances, as an operator runs them: three `career-circle run` processes owning shards
//! 0, 1 and 2 of 3 on the loopback gateway, plus a standby; the owner of shard 1 is killed with SIGKILL and the
//! standby takes the shard over.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::discord_e2e::db_url;
use crate::support::discord::{LoopbackDiscord, TOKEN};

/// Generous: the machine is shared, and every wait returns as soon as its condition holds.
const PATIENCE: Duration = Duration::from_secs(180);

/// The bot processes; killed when the test ends, however it ends.
struct Bots(Vec<(Child, tempfile::NamedTempFile, u16)>);

impl Drop for Bots {
    fn drop(&mut self) {
        for (child, ..) in &mut self.0 {
            let _already_gone = child.kill();
            let _reaped = child.wait();
        }
    }
}

impl Bots {
    fn spawn(&mut self, pool: &PgPool, discord: &LoopbackDiscord, shards: &str) -> usize {
        let log = tempfile::NamedTempFile::new().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_career-circle"))
            .arg("run")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("CAREER_CIRCLE_CONFIG", "/nonexistent/local.toml")
            .env("DATABASE_URL", db_url(pool))
            .env("DISCORD_TOKEN", TOKEN)
            .env("CAREER_CIRCLE__DISCORD__PROXY_URL", discord.base_url())
            .env("CAREER_CIRCLE__DISCORD__REGISTER_COMMANDS", "global")
            .env("CAREER_CIRCLE__DISCORD__SHARD_COUNT", "auto")
            .env("CAREER_CIRCLE__DISCORD__SHARDS", shards)
            .env("CAREER_CIRCLE__HTTP__BIND", format!("127.0.0.1:{port}"))
            .env("CAREER_CIRCLE__WORKER__POLL_INTERVAL", "200ms")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log.reopen().unwrap()))
            .spawn()
            .unwrap();
        self.0.push((child, log, port));
        self.0.len() - 1
    }

    fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.0[i].1.path()).unwrap_or_default()
    }

    fn logs(&self) -> String {
        (0..self.0.len())
            .map(|i| format!("--- bot {i}\n{}", self.log(i)))
            .collect()
    }

    async fn health(&self, i: usize) -> Option<Value> {
        let url = format!("http://127.0.0.1:{}/healthz", self.0[i].2);
        let body = reqwest::get(&url).await.ok()?.text().await.ok()?;
        serde_json::from_str(&body).ok()
    }
}

async fn until<T>(what: &str, bots: &Bots, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "timed out waiting for {what}\n{}",
            bots.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The interaction callbacks posted for this interaction.
fn callbacks(discord: &LoopbackDiscord, interaction: &Value) -> usize {
    let id = interaction["id"].as_str().unwrap();
    discord
        .requests_to(
            "POST",
            "/interactions/{interaction_id}/{interaction_token}/callback",
        )
        .into_iter()
        .filter(|r| r.path.contains(id))
        .count()
}

/// The bot's answers in a DM channel to this message.
fn dm_answers(discord: &LoopbackDiscord, user: &str, message: &Value) -> usize {
    discord
        .dm_messages_to(user)
        .iter()
        .filter(|m| m["message_reference"]["message_id"] == message["id"])
        .count()
}

#[sqlx::test]
async fn three_instances_own_a_shard_each_and_a_standby_takes_over_a_killed_one(pool: PgPool) {
    let discord = LoopbackDiscord::start().await;
    discord.set_sharding(3, 1);
    let alice = discord.seeds().member_ids[0].clone();
    let homes: Vec<String> = (0..3)
        .map(|k| {
            let (guild, home) = discord.add_guild_on_shard(&format!("Shard {k}"), k, 3);
            discord.join_guild(&guild, &alice);
            home
        })
        .collect();
    let mut bots = Bots(Vec::new());

    // The owners start one after another; each identify waits for its slot in the shared bucket.
    for k in 0..3u64 {
        bots.spawn(&pool, &discord, &k.to_string());
        until("the shard's identify", &bots, async || {
            discord.identified_shards().contains(&(k, 3)).then_some(())
        })
        .await;
    }
    let standby = bots.spawn(&pool, &discord, "auto");
    until("three sessions ready", &bots, async || {
        (discord.gateway_stats().ready_connections == 3).then_some(())
    })
    .await;
    let seen = until("the standby standing by", &bots, async || {
        bots.health(standby)
            .await
            .filter(|h| h["shards"]["standby"] == json!(true))
    })
    .await;
    assert_eq!(seen["status"], "ok", "a standby is healthy: {seen}");
    for owner in 0..3 {
        let h = until("the owner's health", &bots, async || {
            bots.health(owner)
                .await
                .filter(|h| h["shards"]["connected"] == json!([owner]))
        })
        .await;
        assert_eq!(h["shards"]["owned"], json!([owner]), "{h}");
        assert_eq!(h["shards"]["total"], 3, "{h}");
    }
    // Each shard identified once, in order; Discord's bucket rule was kept; no shard had two sessions.
    assert_eq!(
        discord.identified_shards(),
        vec![(0, 3), (1, 3), (2, 3)],
        "{:?}\n{}",
        discord.gateway_problems(),
        bots.logs()
    );
    let stats = discord.gateway_stats();
    assert_eq!(
        (stats.invalid_sessions, stats.duplicate_shards),
        (0, 0),
        "{:?}",
        discord.gateway_problems()
    );
    until("the commands registered", &bots, async || {
        (!discord.commands().0.is_empty()).then_some(())
    })
    .await;

    // A command in a guild on each shard, and a DM (shard 0's), each answered exactly once.
    let mut asked = Vec::new();
    for home in &homes {
        let help = discord.slash_command(&alice, home, "help", json!([]));
        discord.interaction_create(help.clone());
        asked.push(help);
    }
    let dm = discord.dm_message(&alice, "hello there", None);
    discord.message_create(dm.clone());
    for help in &asked {
        until("an answer to /help", &bots, async || {
            (callbacks(&discord, help) > 0).then_some(())
        })
        .await;
    }
    until("an answer to the DM", &bots, async || {
        (dm_answers(&discord, &alice, &dm) > 0).then_some(())
    })
    .await;

    // The owner of shard 1 dies without a goodbye; its lock goes with its connection, and the standby takes over.
    bots.0[1].0.kill().unwrap();
    bots.0[1].0.wait().unwrap();
    until("the standby's identify for shard 1", &bots, async || {
        (discord.identified_shards().len() == 4).then_some(())
    })
    .await;
    assert_eq!(discord.identified_shards()[3], (1, 3));
    let h = until("the standby owning shard 1", &bots, async || {
        bots.health(standby)
            .await
            .filter(|h| h["shards"]["connected"] == json!([1]))
    })
    .await;
    assert_eq!(h["status"], "ok", "{h}");
    let again = discord.slash_command(&alice, &homes[1], "help", json!([]));
    discord.interaction_create(again.clone());
    until("an answer on the taken-over shard", &bots, async || {
        (callbacks(&discord, &again) > 0).then_some(())
    })
    .await;

    // Settle, then count: nothing was answered twice, and Discord's rules held throughout.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for help in asked.iter().chain([&again]) {
        assert_eq!(callbacks(&discord, help), 1, "{help}\n{}", bots.logs());
    }
    assert_eq!(dm_answers(&discord, &alice, &dm), 1);
    let stats = discord.gateway_stats();
    assert_eq!(
        (stats.invalid_sessions, stats.duplicate_shards),
        (0, 0),
        "{:?}",
        discord.gateway_problems()
    );
    assert_eq!(
        discord.identified_shards(),
        vec![(0, 3), (1, 3), (2, 3), (1, 3)]
    );
    discord.assert_all_valid();
}
