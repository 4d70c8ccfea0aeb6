//! The bot as a good citizen of the real platform, against a loopback Discord as strict as Discord: one pace for all
//! instances, pings only on purpose, messages that fit, faults sorted by what helps, exactly once beyond the
//! nonce's memory.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use career_circle_core::app::circles::CreateCircle;
use career_circle_core::chat::{ChatError, ChatPort, FaultClass};
use career_circle_core::schedule::worker::Worker;
use career_circle_discord::chat_port::DiscordChat;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::discord_e2e::db_url;
use crate::reliability::burst;
use crate::support::discord::{Fault, LoopbackDiscord, TOKEN};
use crate::support::{World, actor, t, world};

/// The bot as a child process, logging to a file; `gateway` false for a plan-and-deliver instance.
fn spawn(
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
        .env("CAREER_CIRCLE__WORKER__POLL_INTERVAL", "100ms")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log.reopen().unwrap()));
    for (k, v) in extra {
        cmd.env(k, v);
    }
    (cmd.spawn().unwrap(), log)
}

fn log_of(file: &tempfile::NamedTempFile) -> String {
    std::fs::read_to_string(file.path()).unwrap_or_default()
}

async fn sent(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM deliveries WHERE status = 'sent'")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Waits (generously: the machine may be busy) for `done`, or gives up.
async fn until(limit: Duration, mut done: impl AsyncFnMut() -> bool) -> bool {
    let started = Instant::now();
    while !done().await {
        if started.elapsed() > limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    true
}

fn dm_opens(discord: &LoopbackDiscord) -> usize {
    discord.requests_to("POST", "/users/@me/channels").len()
}

#[sqlx::test]
async fn three_instances_share_one_pace_and_remember_dm_channels(pool: PgPool) {
    let discord = LoopbackDiscord::start().await;
    let users = burst(&pool, &discord, 300).await;
    let plain = [("CAREER_CIRCLE__DISCORD__GATEWAY", "false")];
    let mut bots: Vec<_> = (0..3).map(|_| spawn(&pool, &discord, &plain)).collect();
    let all = until(Duration::from_secs(300), async || sent(&pool).await == 300).await;
    assert!(all, "not all sent: {}", log_of(&bots[0].1));
    assert_eq!(discord.rate_limited_count(), 0, "no 429 at all");
    assert_eq!(dm_opens(&discord), 300, "one DM channel opened per member");
    // A restart: the DM channels are remembered in the database, not in a process.
    for (child, _) in &mut bots {
        child.kill().unwrap();
        child.wait().unwrap();
    }
    sqlx::query(
        "INSERT INTO deliveries (kind, circle_id, member_id, period, due_at, next_attempt_at)
         SELECT 'monthly_nudge', ms.circle_id, ms.member_id, to_char(now() + interval '1 month', 'YYYY-MM'),
                now(), now()
         FROM memberships ms",
    )
    .execute(&pool)
    .await
    .unwrap();
    let mut bots: Vec<_> = (0..3).map(|_| spawn(&pool, &discord, &plain)).collect();
    let all = until(Duration::from_secs(300), async || sent(&pool).await == 600).await;
    let logs: Vec<String> = bots.iter().map(|(_, f)| log_of(f)).collect();
    for (child, _) in &mut bots {
        child.kill().unwrap();
        child.wait().unwrap();
    }
    assert!(all, "the second month was not all sent: {}", logs[0]);
    assert_eq!(
        dm_opens(&discord),
        300,
        "no DM channel opened again after the restart"
    );
    for u in &users {
        assert_eq!(
            discord.dm_messages_to(u).len(),
            2,
            "each nudge exactly once"
        );
    }
    assert_eq!(discord.rate_limited_count(), 0, "no 429 at all");
    let busiest = discord.max_requests_in_any_second();
    assert!(busiest <= 50, "{busiest} requests within one second");
    discord.assert_all_valid();
}

/// A circle on the loopback guild with its organiser, Alice and Bob, and the worker sending through Discord.
async fn loopback_circle(
    pool: PgPool,
    discord: &LoopbackDiscord,
    start: &str,
) -> (World, Vec<career_circle_core::app::Actor>) {
    let w = world(pool, start);
    let seeds = discord.seeds();
    let ids = [
        seeds.organiser_id.clone(),
        seeds.member_ids[0].clone(),
        seeds.member_ids[1].clone(),
    ];
    let actors: Vec<_> = ids.iter().map(|id| actor(&seeds.guild_id, id)).collect();
    w.app
        .circle_create(
            &actors[0],
            CreateCircle {
                name: "Writers",
                channel_id: &seeds.channel_id,
                zone: Some("UTC"),
            },
        )
        .await
        .unwrap();
    for a in &actors[1..] {
        w.app.circle_join(a, "Writers").await.unwrap();
    }
    (w, actors)
}

fn discord_worker(w: &World, discord: &LoopbackDiscord, timeout: Duration) -> Worker {
    let chat = Arc::new(DiscordChat::new(Arc::new(discord.http()), timeout).unwrap());
    let mut ws = w.settings.worker.clone();
    ws.global_rate = 45;
    ws.channel_rate = 5;
    Worker::new(
        w.pool.clone(),
        chat as Arc<dyn ChatPort>,
        w.clock.clone(),
        ws,
    )
}

async fn drain(worker: &Worker) {
    while worker.run_once().await.unwrap().claimed > 0 {}
}

#[sqlx::test]
async fn member_words_ping_nobody_and_the_readers_are_tagged_on_purpose(pool: PgPool) {
    let discord = LoopbackDiscord::start().await;
    let (w, a) = loopback_circle(pool, &discord, "2027-03-20T12:00:00Z").await;
    let seeds = discord.seeds();
    let loud = format!(
        "@everyone @here <@&{}> <@{}> look",
        seeds.everyone_role_id, seeds.member_ids[1]
    );
    // A circle's name cannot carry mention syntax or invisible tricks at all.
    for bad in [
        "@everyone circle",
        "<@&123> circle",
        "\u{202e}evil",
        "\u{200b}\u{200b}",
    ] {
        let refused = w
            .app
            .circle_create(
                &a[1],
                CreateCircle {
                    name: bad,
                    channel_id: &seeds.channel_id,
                    zone: None,
                },
            )
            .await;
        assert!(refused.is_err(), "{bad:?} was accepted as a circle name");
    }
    for x in &a {
        w.app
            .commit_add(x, &format!("write {loud}"), None)
            .await
            .unwrap();
        w.app
            .win_add(x, &format!("won {loud}"), None)
            .await
            .unwrap();
        w.app.spec_visibility(x, "circle").await.unwrap();
    }
    let worker = discord_worker(&w, &discord, Duration::from_secs(10));
    for at in ["2027-04-01T09:00:00Z", "2027-04-05T09:00:00Z"] {
        w.clock.set(t(at));
        w.planner().tick(t(at)).await.unwrap();
        drain(&worker).await;
    }
    for x in &a {
        w.app
            .checkin_command(x, None, &format!("on track {loud}"))
            .await
            .unwrap();
    }
    w.clock.set(t("2027-04-12T09:00:00Z"));
    w.planner().tick(t("2027-04-12T09:00:00Z")).await.unwrap();
    drain(&worker).await;

    let thread = discord.threads_in(&seeds.channel_id);
    assert_eq!(thread.len(), 1, "the review thread opened");
    let thread_id = thread[0]["id"].as_str().unwrap().to_owned();
    let in_thread = discord.messages_in(&thread_id);
    assert!(in_thread.len() >= 4, "a header and three posts");
    let header = &in_thread[0];
    let (users, roles, everyone) = discord.pings_of(header);
    let mut expected = ids_of(&a);
    expected.sort();
    let mut users = users;
    users.sort();
    assert_eq!(
        (users, roles, everyone),
        (expected, Vec::new(), false),
        "the header pings exactly the readers"
    );
    for m in in_thread.iter().skip(1) {
        assert_eq!(
            discord.pings_of(m),
            (Vec::new(), Vec::new(), false),
            "{}",
            m["content"]
        );
        if m["content"].as_str().unwrap_or("").contains("look") {
            assert!(
                m["content"].as_str().unwrap().contains("@everyone"),
                "shown as typed"
            );
        }
    }
    for x in &a {
        let dms = discord.dm_messages_to(&x.user_id);
        assert!(!dms.is_empty());
        for m in dms {
            assert_eq!(
                discord.pings_of(&m),
                (Vec::new(), Vec::new(), false),
                "{}",
                m["content"]
            );
        }
    }
    discord.assert_all_valid();
}

fn ids_of(actors: &[career_circle_core::app::Actor]) -> Vec<String> {
    actors.iter().map(|a| a.user_id.clone()).collect()
}

#[sqlx::test]
async fn ten_long_commitments_arrive_whole_in_messages_discord_accepts(pool: PgPool) {
    let discord = LoopbackDiscord::start().await;
    let (w, a) = loopback_circle(pool, &discord, "2027-03-20T12:00:00Z").await;
    let titles: Vec<String> = (0..10)
        .map(|i| {
            format!("{i} {}", "a long commitment title ".repeat(9))
                .chars()
                .take(200)
                .collect::<String>()
                .trim()
                .to_owned()
        })
        .collect();
    for title in &titles {
        w.app.commit_add(&a[1], title, None).await.unwrap();
    }
    let worker = discord_worker(&w, &discord, Duration::from_secs(10));
    w.clock.set(t("2027-04-01T09:00:00Z"));
    w.planner().tick(t("2027-04-01T09:00:00Z")).await.unwrap();
    drain(&worker).await;
    let dms = discord.dm_messages_to(&a[1].user_id);
    assert!(dms.len() >= 2, "split into several messages");
    let all: Vec<&str> = dms.iter().map(|m| m["content"].as_str().unwrap()).collect();
    for text in &all {
        assert!(text.chars().count() <= 2000);
    }
    for title in &titles {
        assert!(
            all.iter().any(|m| m.contains(&format!("**{title}**"))),
            "{title} arrives whole"
        );
    }
    let failed: i64 = sqlx::query_scalar("SELECT count(*) FROM deliveries WHERE status = 'failed'")
        .fetch_one(&w.pool)
        .await
        .unwrap();
    assert_eq!(failed, 0);
    discord.assert_all_valid();
}

#[sqlx::test]
async fn a_refused_intent_stops_run_with_exit_code_78_and_names_the_fix(pool: PgPool) {
    let discord = LoopbackDiscord::start().await;
    discord.set_privileged_intents(0);
    let (mut bot, log) = spawn(&pool, &discord, &[]);
    let mut code = None;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        if let Some(status) = bot.try_wait().unwrap() {
            code = status.code();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if code.is_none() {
        bot.kill().unwrap();
    }
    let said = log_of(&log);
    assert_eq!(code, Some(78), "{said}");
    assert!(said.contains("Message Content intent"), "{said}");
}

#[sqlx::test]
async fn a_bad_token_stops_run_with_exit_code_78(pool: PgPool) {
    let discord = LoopbackDiscord::start().await;
    let (mut bot, log) = spawn(&pool, &discord, &[("DISCORD_TOKEN", "not.the.token")]);
    let started = Instant::now();
    let mut code = None;
    while started.elapsed() < Duration::from_secs(120) {
        if let Some(status) = bot.try_wait().unwrap() {
            code = status.code();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if code.is_none() {
        bot.kill().unwrap();
    }
    let said = log_of(&log);
    assert_eq!(code, Some(78), "{said}");
    assert!(said.contains("reset it"), "{said}");
    assert!(
        !said.contains("not.the.token"),
        "the token is never printed"
    );
}

/// Every row of the table, with the bodies Discord documents (../shared/platform-payloads/discord/rest where they
/// exist, `{code, message}` otherwise).
#[test]
fn each_discord_error_lands_in_its_class() {
    use career_circle_discord::faults::classify;
    let permanent = |circle_wide| FaultClass::Permanent { circle_wide };
    let rows: &[(u16, u64, FaultClass)] = &[
        (403, 50007, permanent(false)),
        (403, 50278, permanent(false)),
        (403, 50001, permanent(true)),
        (403, 50013, permanent(true)),
        (404, 10003, permanent(false)),
        (404, 10008, permanent(false)),
        (404, 10013, permanent(false)),
        (400, 50024, permanent(true)),
        (400, 50083, permanent(true)),
        (403, 160005, permanent(true)),
        (400, 20009, permanent(false)),
        (400, 200000, permanent(false)),
        (400, 50035, permanent(false)),
        (401, 0, FaultClass::Broken),
        (500, 0, FaultClass::Transient),
        (502, 0, FaultClass::Transient),
    ];
    for (status, code, class) in rows {
        let body = json!({"message": "from Discord", "code": code}).to_string();
        let got = classify(
            StatusCode::from_u16(*status).unwrap(),
            &HeaderMap::new(),
            body.as_bytes(),
        );
        // 10003 is circle-wide when it is the circle's channel; as a NotFound it is the target's problem.
        let got_class = got.class();
        let same = match (got_class, class) {
            (FaultClass::Permanent { .. }, FaultClass::Permanent { .. }) => true,
            (a, b) => a == *b,
        };
        assert!(same, "{status}/{code}: {got:?}");
    }
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/platform-payloads/discord/rest");
    let read =
        |name: &str| std::fs::read(shared.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    for file in [
        "error_50035_invalid_form_body_array.json",
        "error_50035_invalid_form_body_object.json",
        "error_50035_invalid_form_body_request.json",
    ] {
        let e = classify(StatusCode::BAD_REQUEST, &HeaderMap::new(), &read(file));
        assert!(
            matches!(&e, ChatError::Refused { code, .. } if code == "50035"),
            "{file}: {e:?}"
        );
    }
    let token = classify(
        StatusCode::UNAUTHORIZED,
        &HeaderMap::new(),
        &read("error_50014_invalid_auth_token.json"),
    );
    assert!(matches!(token, ChatError::Broken { .. }), "{token:?}");
    for (file, global) in [
        ("rate_limit_429_user.body.json", false),
        ("rate_limit_429_shared_resource.body.json", false),
        ("rate_limit_429_global.body.json", true),
    ] {
        let e = classify(
            StatusCode::TOO_MANY_REQUESTS,
            &HeaderMap::new(),
            &read(file),
        );
        assert_eq!(
            e.class(),
            FaultClass::RateLimited { global },
            "{file}: {e:?}"
        );
        let (ChatError::RateLimited { retry_after }
        | ChatError::GloballyRateLimited { retry_after }) = e
        else {
            panic!("{file}");
        };
        assert!(retry_after <= Duration::from_secs(3600));
    }
}

#[sqlx::test]
async fn a_send_that_timed_out_and_arrived_is_found_not_sent_again_after_the_nonce_is_forgotten(
    pool: PgPool,
) {
    let discord = LoopbackDiscord::start().await;
    let (w, a) = loopback_circle(pool, &discord, "2027-03-20T12:00:00Z").await;
    w.app
        .commit_add(&a[1], "publish one post", None)
        .await
        .unwrap();
    let worker = discord_worker(&w, &discord, Duration::from_millis(700));
    // Open Alice's DM channel first, so the fault below meets the message itself.
    let dm: Value = discord
        .http()
        .create_private_channel(&json!({"recipient_id": a[1].user_id}))
        .await
        .map(|c| serde_json::to_value(c).unwrap())
        .unwrap();
    let dm = dm["id"].as_str().unwrap().to_owned();
    discord.fail_next_in(
        "POST",
        "/channels/{channel_id}/messages",
        &dm,
        Fault::Timeout {
            hold: Duration::from_secs(3),
        },
        1,
    );
    // Only Alice has a commitment: one nudge.
    w.clock.set(t("2027-04-01T09:00:00Z"));
    w.planner().tick(t("2027-04-01T09:00:00Z")).await.unwrap();
    let o = worker.run_once().await.unwrap();
    assert_eq!(o.retried, 1, "the answer never came in time");
    assert_eq!(
        discord.messages_in(&dm).len(),
        1,
        "but Discord took the message"
    );
    // Ten minutes on, Discord has forgotten the nonce; the worker must look before sending again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    discord.set_nonce_window(Duration::from_millis(1));
    w.clock.set(t("2027-04-01T09:10:00Z"));
    drain(&worker).await;
    assert_eq!(discord.messages_in(&dm).len(), 1, "posted once");
    let status: String =
        sqlx::query_scalar("SELECT status FROM deliveries WHERE kind = 'monthly_nudge'")
            .fetch_one(&w.pool)
            .await
            .unwrap();
    assert_eq!(status, "sent");
}

#[sqlx::test]
async fn a_review_whose_archive_failed_retries_without_posting_the_summary_again(pool: PgPool) {
    let discord = LoopbackDiscord::start().await;
    let (w, _a) = loopback_circle(pool, &discord, "2027-03-20T12:00:00Z").await;
    let worker = discord_worker(&w, &discord, Duration::from_secs(10));
    for at in ["2027-04-05T09:00:00Z", "2027-04-12T09:00:00Z"] {
        w.clock.set(t(at));
        w.planner().tick(t(at)).await.unwrap();
        drain(&worker).await;
    }
    let seeds = discord.seeds();
    let thread_id = discord.threads_in(&seeds.channel_id)[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    discord.fail_next("PATCH", "/channels/{channel_id}", Fault::ServerError, 1);
    w.clock.set(t("2027-04-26T09:00:00Z"));
    w.planner().tick(t("2027-04-26T09:00:00Z")).await.unwrap();
    drain(&worker).await;
    let summaries = |msgs: Vec<Value>| {
        msgs.iter()
            .filter(|m| {
                m["content"]
                    .as_str()
                    .unwrap_or("")
                    .contains("review: summary")
            })
            .count()
    };
    assert_eq!(summaries(discord.messages_in(&thread_id)), 1);
    assert_eq!(
        discord.channel(&thread_id).unwrap()["thread_metadata"]["archived"],
        false
    );
    // The retry, after its backoff.
    w.clock.set(t("2027-04-26T10:00:00Z"));
    drain(&worker).await;
    assert_eq!(
        summaries(discord.messages_in(&thread_id)),
        1,
        "the summary is not posted twice"
    );
    assert_eq!(
        discord.channel(&thread_id).unwrap()["thread_metadata"]["archived"],
        true
    );
}

#[sqlx::test]
async fn a_shared_limit_on_one_dm_holds_only_that_dm(pool: PgPool) {
    let discord = LoopbackDiscord::start().await;
    let (w, a) = loopback_circle(pool, &discord, "2027-03-20T12:00:00Z").await;
    for x in &a {
        w.app.commit_add(x, "publish one post", None).await.unwrap();
    }
    let dm: Value = discord
        .http()
        .create_private_channel(&json!({"recipient_id": a[1].user_id}))
        .await
        .map(|c| serde_json::to_value(c).unwrap())
        .unwrap();
    let dm = dm["id"].as_str().unwrap().to_owned();
    discord.fail_next_in(
        "POST",
        "/channels/{channel_id}/messages",
        &dm,
        Fault::SharedRateLimited {
            retry_after_secs: 1336.57,
        },
        1,
    );
    let worker = discord_worker(&w, &discord, Duration::from_secs(10));
    w.clock.set(t("2027-04-01T09:00:00Z"));
    w.planner().tick(t("2027-04-01T09:00:00Z")).await.unwrap();
    let mut pauses = Vec::new();
    loop {
        let o = worker.run_once().await.unwrap();
        pauses.push(o.pause);
        if o.claimed == 0 {
            break;
        }
    }
    assert!(
        pauses.iter().all(Option::is_none),
        "nothing paused the worker: {pauses:?}"
    );
    for (i, x) in a.iter().enumerate() {
        let n = discord.dm_messages_to(&x.user_id).len();
        assert_eq!(n, usize::from(i != 1), "{}", x.user_id);
    }
    let (attempts, next): (i32, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("SELECT attempts, next_attempt_at FROM deliveries WHERE status = 'pending'")
            .fetch_one(&w.pool)
            .await
            .unwrap();
    assert_eq!(attempts, 0, "a rate limit uses no attempt");
    assert!(
        next >= t("2027-04-01T09:22:00Z"),
        "waits out Discord's retry_after: {next}"
    );
}

/// Discord's documented payloads go through the adapter's parsing; the loopback sends the same shapes.
#[tokio::test]
async fn discords_documented_payloads_parse_and_the_loopback_sends_their_shape() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/platform-payloads/discord");
    let read = |p: &str| -> Value {
        serde_json::from_slice(&std::fs::read(dir.join(p)).unwrap_or_else(|e| panic!("{p}: {e}")))
            .unwrap()
    };
    // serenity requires fields the doc examples predate: the member's `flags` and the interaction's
    // `attachment_size_limit`, and, in the examples written before entitlements and app contexts, top-level
    // `entitlements` (plus `application_id` and `version` in the oldest). Those missing top-level fields are taken
    // from the loopback's own interaction envelope; `data`, `member` and `message` stay Discord's own.
    let discord = LoopbackDiscord::start().await;
    let seeds = discord.seeds();
    let ours = discord.slash_command(&seeds.member_ids[0], &seeds.channel_id, "help", json!([]));
    let complete = |mut v: Value| -> Value {
        if let Some(map) = v.as_object_mut() {
            map.entry("attachment_size_limit")
                .or_insert(json!(26_214_400));
            if let Some(envelope) = ours.as_object() {
                for (k, val) in envelope {
                    map.entry(k.clone()).or_insert(val.clone());
                }
            }
            if let Some(member) = map.get_mut("member").and_then(Value::as_object_mut) {
                member.entry("flags").or_insert(json!(0));
            }
        }
        v
    };
    let mut checked = 0;
    for file in [
        "interactions/application_command_slash_with_string_option.json",
        "interactions/application_command_user_context_menu.json",
        "interactions/application_command_message_context_menu.json",
        "interactions/message_component_button_full.json",
        "interactions/message_component_string_select_full.json",
        "interactions/modal_submit_action_row_full.json",
    ] {
        let parsed: Result<serenity::all::Interaction, _> =
            serde_json::from_value(complete(read(file)));
        let interaction = parsed.unwrap_or_else(|e| panic!("{file}: {e}"));
        match interaction {
            serenity::all::Interaction::Command(c) => {
                let inv = career_circle_discord::commands::invocation(&c);
                assert_eq!(inv.family, c.data.name, "{file}");
                // Commands this bot never registered are refused with words, not a panic.
                if let Err(words) = career_circle_core::chat::commands::Command::parse(inv) {
                    assert!(!words.is_empty(), "{file}");
                }
            }
            serenity::all::Interaction::Component(c) => {
                assert!(!c.data.custom_id.is_empty(), "{file}")
            }
            serenity::all::Interaction::Modal(m) => {
                assert!(!m.data.components.is_empty(), "{file}")
            }
            other => panic!("{file}: unexpected {:?}", other.kind()),
        }
        checked += 1;
    }
    let message: serenity::all::Message =
        serde_json::from_value(read("gateway/message_create_d_example_message.json")).unwrap();
    assert!(!message.content.is_empty());
    let _channel: serenity::all::PrivateChannel =
        serde_json::from_value(read("gateway/channel_dm_example.json")).unwrap();
    checked += 2;

    // The loopback's interactions carry every field Discord's own examples carry.
    let theirs = read("interactions/application_command_slash_with_string_option.json");
    let missing: Vec<&String> = theirs
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| ours.get(k.as_str()).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "the loopback's slash command lacks {missing:?}"
    );
    let chat = DiscordChat::new(Arc::new(discord.http()), Duration::from_secs(10)).unwrap();
    let with_button = career_circle_core::chat::ChatMessage {
        buttons: vec![career_circle_core::chat::Button {
            custom_id: "cc:delete:cancel".into(),
            label: "Keep".into(),
            style: career_circle_core::chat::ButtonStyle::Secondary,
        }],
        ..career_circle_core::chat::ChatMessage::text("Keep it?")
    };
    let posted = chat
        .send(
            &career_circle_core::chat::Destination::Channel {
                channel_id: seeds.channel_id.clone(),
            },
            &with_button,
            None,
        )
        .await
        .unwrap();
    let press = discord.button_press(
        &seeds.member_ids[0],
        &seeds.channel_id,
        &posted.message_id,
        "cc:delete:cancel",
    );
    let theirs = read("interactions/message_component_button_full.json");
    let missing: Vec<&String> = theirs
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| press.get(k.as_str()).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "the loopback's button press lacks {missing:?}"
    );
    assert_eq!(checked, 8);
}

#[sqlx::test]
async fn a_revoked_token_holds_delivery_and_health_until_it_works_again(pool: PgPool) {
    let discord = LoopbackDiscord::start().await;
    let users = burst(&pool, &discord, 5).await;
    discord.reject_token_for(Duration::from_secs(30));
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut settings = crate::support::settings().with_database_url(&db_url(&pool));
    settings.http.bind = format!("127.0.0.1:{port}").parse().unwrap();
    settings.discord.gateway = false;
    settings.worker.poll_interval = Duration::from_millis(100);
    settings.worker.broken_probe = Duration::from_secs(1);
    let connection = career_circle_discord::Connection {
        token: TOKEN.to_owned(),
        proxy: Some(discord.base_url()),
        register: career_circle_core::settings::CommandScope::Guild,
        dev_guild_id: discord.guild_id().parse().ok(),
        request_timeout: Duration::from_secs(5),
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let bot = tokio::spawn(career_circle::cli::run::serve(
        settings,
        connection,
        Arc::new(career_circle_core::clock::SystemClock),
        stopped,
    ));
    let health = format!("http://127.0.0.1:{port}/healthz");
    let refused = until(Duration::from_secs(120), async || {
        match reqwest::get(&health).await {
            Ok(r) if r.status() == 503 => r.text().await.unwrap_or_default().contains("reset it"),
            _ => false,
        }
    })
    .await;
    assert!(refused, "/healthz never said the token was refused");
    let failed = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM deliveries WHERE status = 'failed'")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert_eq!(
        failed().await,
        0,
        "nothing fails while the token is refused"
    );
    let all = until(Duration::from_secs(180), async || sent(&pool).await == 5).await;
    assert!(all, "the nudges were not sent once the token worked again");
    let healthy = until(Duration::from_secs(60), async || {
        reqwest::get(&health).await.is_ok_and(|r| r.status() == 200)
    })
    .await;
    assert!(healthy, "/healthz did not recover");
    stop.send(true).unwrap();
    bot.await.unwrap().unwrap();
    assert_eq!(failed().await, 0);
    for u in &users {
        assert_eq!(discord.dm_messages_to(u).len(), 1, "each nudge once");
    }
    let attempts: Vec<i32> = sqlx::query_scalar("SELECT attempts FROM deliveries")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(
        attempts.iter().all(|a| *a == 1),
        "refusals used no attempts: {attempts:?}"
    );
}
