//! A Slack install going away and a member's profile changing, end to end against the loopback Slack (and the
//! loopback Discord beside it): `tokens_revoked` / `app_uninstalled` pause that workspace's circles and nothing
//! else, and a reinstall resumes them; `user_change` keeps a member's zone current unless they chose one.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::sync::watch;

use career_circle::cli::run::{Platforms, serve_platforms};
use career_circle_core::clock::ManualClock;
use career_circle_core::settings::CommandScope;

use crate::discord_e2e::{PATIENCE, callback, eventually, sub, text};
use crate::slack_e2e::{
    answer, bot_settings, connection, dm_containing, recorded, start, start_with, words,
};
use crate::support::discord::LoopbackDiscord;
use crate::support::slack::{ALICE, BOB, CHANNEL, LoopbackSlack, ORGANISER, TEAM};
use crate::support::t;

/// Writers on Slack, organised by ORGANISER, with ALICE keeping a monthly commitment.
async fn slack_circle(slack: &LoopbackSlack) {
    let create = slack.slash_command(
        ORGANISER,
        CHANNEL,
        "/circle",
        "create name:Writers timezone:Europe/Berlin",
    );
    assert!(words(&answer(slack, &create).await).contains("is open"));
    let join = slack.slash_command(ALICE, CHANNEL, "/circle", "join Writers");
    answer(slack, &join).await;
    let commit = slack.slash_command(ALICE, CHANNEL, "/commit", "add publish one post");
    assert!(words(&answer(slack, &commit).await).contains("Committed"));
}

struct Both {
    clock: Arc<ManualClock>,
    port: u16,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Both {
    async fn stop(self) {
        self.stop.send(true).unwrap();
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("graceful stop")
            .unwrap()
            .unwrap();
    }
}

/// One deployment serving the loopback Discord and the loopback Slack.
async fn start_both(pool: &PgPool, discord: &LoopbackDiscord, slack: &LoopbackSlack) -> Both {
    start_both_with(pool, discord, slack, |_| {}).await
}

async fn start_both_with(
    pool: &PgPool,
    discord: &LoopbackDiscord,
    slack: &LoopbackSlack,
    tweak: impl FnOnce(&mut career_circle_core::settings::Settings),
) -> Both {
    let sockets_before = slack.sockets_opened();
    let (mut settings, port) = bot_settings(pool);
    tweak(&mut settings);
    let platforms = Platforms {
        discord: Some(career_circle_discord::Connection {
            token: crate::support::discord::TOKEN.to_owned(),
            proxy: Some(discord.base_url()),
            register: CommandScope::Guild,
            dev_guild_id: Some(discord.seeds().guild_id.parse().unwrap()),
            request_timeout: Duration::from_secs(5),
        }),
        slack: Some(connection(slack)),
    };
    let clock = Arc::new(ManualClock::new(t("2027-01-20T12:00:00Z")));
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(serve_platforms(settings, platforms, clock.clone(), stopped));
    assert!(
        discord.wait_connected(PATIENCE).await,
        "the Discord gateway"
    );
    eventually("guild commands", || {
        Some(()).filter(|_| !discord.commands().1.is_empty())
    })
    .await;
    eventually("the Socket Mode connection", || {
        Some(()).filter(|_| slack.sockets_opened() > sockets_before)
    })
    .await;
    Both {
        clock,
        port,
        stop,
        task,
    }
}

async fn health(port: u16) -> (u16, Value) {
    let r = reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
        .await
        .unwrap();
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap(),
    )
}

/// The workspace's server row says the bot is gone (`Some(true)`), present (`Some(false)`), or there is none.
async fn removed(pool: &PgPool, team: &str) -> Option<bool> {
    sqlx::query_scalar::<_, bool>(
        "SELECT bot_removed_at IS NOT NULL FROM servers WHERE platform = 'slack' AND external_id = $1",
    )
    .bind(team)
    .fetch_optional(pool)
    .await
    .unwrap()
}

/// (status, skip_reason, attempts) of the monthly nudges of a circle for a period.
async fn nudge(pool: &PgPool, circle: &str, period: &str) -> Option<(String, Option<String>, i32)> {
    sqlx::query_as::<_, (String, Option<String>, i32)>(
        "SELECT d.status, d.skip_reason, d.attempts FROM deliveries d JOIN circles c ON c.id = d.circle_id
         WHERE c.name = $1 AND d.kind = 'monthly_nudge' AND d.period = $2",
    )
    .bind(circle)
    .bind(period)
    .fetch_optional(pool)
    .await
    .unwrap()
}

/// A Discord circle, Builders, in `zone`, whose member keeps a monthly commitment; returns the member's user id.
async fn discord_circle(discord: &LoopbackDiscord, zone: &str) -> String {
    let seeds = discord.seeds();
    let (organiser, member, channel) = (
        seeds.organiser_id.clone(),
        seeds.member_ids[0].clone(),
        seeds.channel_id.clone(),
    );
    for (who, name, options) in [
        (
            &organiser,
            "create",
            json!([text("name", "Builders"), text("timezone", zone)]),
        ),
        (&member, "join", json!([text("name", "Builders")])),
    ] {
        let i = discord.slash_command(who, &channel, "circle", sub(name, options));
        discord.interaction_create(i.clone());
        callback(discord, &i).await;
    }
    let add = discord.slash_command(
        &member,
        &channel,
        "commit",
        sub("add", json!([text("title", "ship the beta")])),
    );
    discord.interaction_create(add.clone());
    callback(discord, &add).await;
    member
}

#[sqlx::test]
async fn an_uninstalled_workspace_pauses_its_circles_and_nothing_else(pool: PgPool) {
    let discord = LoopbackDiscord::start().await;
    let slack = LoopbackSlack::start().await;
    let bot = start_both(&pool, &discord, &slack).await;

    // A circle on each platform, each with a member keeping a monthly commitment.
    slack_circle(&slack).await;
    let member = discord_circle(&discord, "Europe/London").await;
    assert_eq!(removed(&pool, TEAM).await, Some(false));
    // The last thing a command does: learn the member's zone from their profile (so no call is still on its way).
    recorded("the zones from the profiles", async || {
        zone_of(&pool, ALICE).await.is_some() && zone_of(&pool, ORGANISER).await.is_some()
    })
    .await;

    // An admin uninstalls the app: tokens_revoked, then app_uninstalled; the bot token is dead from now on.
    let calls_before = slack.calls().len();
    slack.uninstall();
    recorded("the workspace marked uninstalled", async || {
        removed(&pool, TEAM).await == Some(true)
    })
    .await;

    // February's nudges fall due: Discord's arrives, the Slack workspace's is skipped as paused, unspent.
    bot.clock.set(t("2027-02-01T14:00:30Z"));
    eventually("the Discord member's February nudge", || {
        discord.dm_messages_to(&member).into_iter().find(|m| {
            let c = m["content"].as_str().unwrap_or_default();
            c.contains("February 2027") && c.contains("ship the beta")
        })
    })
    .await;
    recorded("the Slack nudge recorded as paused", async || {
        nudge(&pool, "Writers", "2027-02")
            .await
            .is_some_and(|(status, _, _)| status != "pending")
    })
    .await;
    let (status, reason, attempts) = nudge(&pool, "Writers", "2027-02").await.unwrap();
    assert_eq!(status, "skipped");
    assert!(
        reason
            .as_deref()
            .unwrap_or_default()
            .contains("bot was removed"),
        "{reason:?}"
    );
    assert_eq!(attempts, 0, "a paused workspace spends no attempts");
    assert!(
        slack
            .dms_to(ALICE)
            .iter()
            .all(|m| !m.text.contains("February 2027")),
        "nothing sent to the workspace that uninstalled the app"
    );
    // Nothing was even tried with the dead token (it would be refused, and pause every platform's deliveries).
    let tried: Vec<String> = slack.calls()[calls_before..]
        .iter()
        .map(|c| c.method.clone())
        .collect();
    assert!(tried.is_empty(), "calls after the uninstall: {tried:?}");
    // The instance is healthy: Discord delivers and the workspace's absence is its admin's choice, not a fault.
    let (code, body) = health(bot.port).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["worker"], "running", "{body}");
    bot.stop().await;

    // Installed again, with a token that works: the workspace's circles resume and March's nudge arrives.
    slack.reinstall();
    let again = start_with(&pool, "2027-02-20T12:00:00Z", slack.clone(), |_, _| {}).await;
    recorded("the workspace back", async || {
        removed(&pool, TEAM).await == Some(false)
    })
    .await;
    again.clock.set(t("2027-03-01T14:00:30Z"));
    dm_containing(&slack, ALICE, "March 2027").await;
    again.stop().await;
    slack.assert_all_valid();
    discord.assert_all_valid();
}

/// A dead token learnt from a refused call (no event said so) holds Slack's deliveries and only those: Discord's
/// go on, and `/healthz` names Slack until its token works again.
#[sqlx::test]
async fn a_token_refused_without_notice_holds_that_platform_only(pool: PgPool) {
    let discord = LoopbackDiscord::start().await;
    let slack = LoopbackSlack::start().await;
    // A probe far beyond the test: if the refusal held every platform, Discord would wait all that time.
    let bot = start_both_with(&pool, &discord, &slack, |s| {
        s.worker.broken_probe = Duration::from_secs(3_600);
    })
    .await;
    slack_circle(&slack).await;
    // 09:00 in Los Angeles is 17:00Z, after Alice's 09:00 in New York (14:00Z).
    let member = discord_circle(&discord, "America/Los_Angeles").await;
    recorded("the zones from the profiles", async || {
        zone_of(&pool, ALICE).await.is_some() && zone_of(&pool, ORGANISER).await.is_some()
    })
    .await;

    slack.revoke_token_silently();
    bot.clock.set(t("2027-02-01T14:00:30Z"));
    recorded("Slack's refusal on /healthz", async || {
        let (code, body) = health(bot.port).await;
        code == 503 && body.to_string().contains("token_revoked")
    })
    .await;
    let (status, _, attempts) = nudge(&pool, "Writers", "2027-02").await.unwrap();
    assert_eq!((status.as_str(), attempts), ("pending", 0), "held, unspent");

    // Discord's nudge falls due and goes out at once; its success does not clear Slack's refusal.
    bot.clock.set(t("2027-02-01T17:00:30Z"));
    eventually("the Discord member's February nudge", || {
        discord.dm_messages_to(&member).into_iter().find(|m| {
            m["content"]
                .as_str()
                .is_some_and(|c| c.contains("February 2027"))
        })
    })
    .await;
    recorded("Discord's nudge recorded sent", async || {
        nudge(&pool, "Builders", "2027-02")
            .await
            .is_some_and(|(status, _, _)| status == "sent")
    })
    .await;
    let (code, body) = health(bot.port).await;
    assert_eq!(code, 503, "Slack still refuses the bot: {body}");
    assert!(body.to_string().contains("slack"), "{body}");
    let (status, _, attempts) = nudge(&pool, "Writers", "2027-02").await.unwrap();
    assert_eq!((status.as_str(), attempts), ("pending", 0));

    // A working token again: at the probe the held nudge goes out, once, and the instance is healthy.
    slack.reinstall();
    bot.clock.set(t("2027-02-01T18:01:00Z"));
    dm_containing(&slack, ALICE, "February 2027").await;
    recorded("healthy again", async || health(bot.port).await.0 == 200).await;
    assert_eq!(
        slack
            .dms_to(ALICE)
            .iter()
            .filter(|m| m.text.contains("February 2027"))
            .count(),
        1
    );
    bot.stop().await;
    slack.assert_all_valid();
    discord.assert_all_valid();
}

async fn zone_of(pool: &PgPool, user: &str) -> Option<String> {
    sqlx::query_scalar::<_, Option<String>>("SELECT zone FROM members WHERE platform_user_id = $1")
        .bind(user)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// When the member's February nudge is due, once it is planned.
async fn nudge_due(pool: &PgPool, user: &str) -> Option<DateTime<Utc>> {
    sqlx::query_scalar::<_, DateTime<Utc>>(
        "SELECT d.due_at FROM deliveries d JOIN members m ON m.id = d.member_id
         WHERE m.platform_user_id = $1 AND d.kind = 'monthly_nudge' AND d.period = '2027-02'",
    )
    .bind(user)
    .fetch_optional(pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn a_profile_zone_change_moves_the_next_nudge_unless_the_member_chose_a_zone(pool: PgPool) {
    let bot = start(&pool, "2027-01-20T12:00:00Z").await;
    let slack = bot.slack.clone();
    slack_circle(&slack).await;
    // Alice's zone came from her Slack profile; Bob chose his own.
    recorded("alice's zone from her profile", async || {
        zone_of(&pool, ALICE).await.as_deref() == Some("America/New_York")
    })
    .await;
    let join = slack.slash_command(BOB, CHANNEL, "/circle", "join Writers");
    answer(&slack, &join).await;
    let chose = slack.slash_command(BOB, CHANNEL, "/careercircle", "me timezone Europe/Lisbon");
    assert!(
        words(&answer(&slack, &chose).await).contains("Your time zone is now Europe/Lisbon"),
        "{:?}",
        slack.responses_to(&chose)
    );
    let commit = slack.slash_command(BOB, CHANNEL, "/commit", "add run a meetup");
    answer(&slack, &commit).await;
    assert_eq!(zone_of(&pool, BOB).await.as_deref(), Some("Europe/Lisbon"));

    // Both move to Tokyo in their Slack profiles; Bob's change first.
    let bobs = slack.user_changed(BOB, "Asia/Tokyo");
    slack.user_changed(ALICE, "Asia/Tokyo");
    recorded("alice's zone kept current", async || {
        zone_of(&pool, ALICE).await.as_deref() == Some("Asia/Tokyo")
    })
    .await;
    let key = format!("event:{}", bobs["payload"]["event_id"].as_str().unwrap());
    recorded("bob's change taken in", async || {
        sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM events_seen WHERE event_key = $1)",
        )
        .bind(&key)
        .fetch_one(&pool)
        .await
        .unwrap()
    })
    .await;

    // 09:00 in Tokyo: Alice's nudge, not Bob's.
    bot.clock.set(t("2027-02-01T00:00:30Z"));
    dm_containing(&slack, ALICE, "February 2027").await;
    assert_eq!(
        nudge_due(&pool, ALICE).await,
        Some(t("2027-02-01T00:00:00Z")),
        "09:00 in her new zone"
    );
    assert_eq!(zone_of(&pool, BOB).await.as_deref(), Some("Europe/Lisbon"));
    assert_eq!(
        nudge_due(&pool, BOB).await,
        None,
        "not yet: he is in Lisbon"
    );
    assert!(
        slack
            .dms_to(BOB)
            .iter()
            .all(|m| !m.text.contains("February 2027"))
    );

    // 09:00 in Lisbon: Bob's.
    bot.clock.set(t("2027-02-01T09:00:30Z"));
    dm_containing(&slack, BOB, "February 2027").await;
    assert_eq!(nudge_due(&pool, BOB).await, Some(t("2027-02-01T09:00:00Z")));
    bot.stop().await;
    slack.assert_all_valid();
}
