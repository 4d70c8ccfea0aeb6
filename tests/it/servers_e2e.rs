//! Issue 12 through the real serenity client against the loopback Discord, with two servers: the Manage Server
//! rule from `member.permissions`, a DM that asks which circle (buttons in the DM), replies landing in their
//! circles, GUILD_MEMBER_REMOVE taking a member out, GUILD_DELETE pausing a server and GUILD_CREATE resuming it,
//! and `/me export` in a DM covering both servers.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use career_circle::cli::run::serve;
use career_circle_core::clock::ManualClock;
use career_circle_core::settings::{CommandScope, CreateCircles};
use career_circle_discord::Connection;
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::sync::watch;

use crate::discord_e2e::{db_url, sub, text};
use crate::support::discord::LoopbackDiscord;
use crate::support::{settings, t};

/// Waits (generously: the machine is shared) for `probe` to find something.
async fn until<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    for _ in 0..1800 {
        if let Some(v) = probe() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Waits for a database condition.
async fn until_db(pool: &PgPool, what: &str, sql: &str, bind: &str) {
    for _ in 0..1800 {
        let ok: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .bind(bind)
            .fetch_one(pool)
            .await
            .unwrap();
        if ok {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn answer(discord: &LoopbackDiscord, interaction: &Value) -> String {
    let id = interaction["id"].as_str().unwrap().to_owned();
    let body = until("the interaction callback", || {
        discord
            .requests_to(
                "POST",
                "/interactions/{interaction_id}/{interaction_token}/callback",
            )
            .into_iter()
            .find(|r| r.path.contains(&id))
            .map(|r| r.body)
    })
    .await;
    body["data"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn content(m: &Value) -> &str {
    m["content"].as_str().unwrap_or_default()
}

#[sqlx::test]
async fn two_servers_on_discord_replies_membership_and_the_bot_leaving_and_coming_back(
    pool: PgPool,
) {
    let discord = LoopbackDiscord::start().await;
    let seeds = discord.seeds();
    let (g1, home1) = (seeds.guild_id.clone(), seeds.channel_id.clone());
    let (organiser, alice, bob) = (
        seeds.organiser_id.clone(),
        seeds.member_ids[0].clone(),
        seeds.member_ids[1].clone(),
    );
    let (g2, home2) = discord.add_guild("Builders guild");
    discord.join_guild(&g2, &alice);
    discord.grant_manage_server(&organiser);
    discord.grant_manage_server(&alice);

    let mut settings = settings().with_database_url(&db_url(&pool));
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    settings.http.bind = format!("127.0.0.1:{port}").parse().unwrap();
    settings.schedule.tick = Duration::from_millis(50);
    settings.worker.poll_interval = Duration::from_millis(50);
    settings.circles.create = CreateCircles::Managers;
    let connection = Connection {
        token: crate::support::discord::TOKEN.to_owned(),
        proxy: Some(discord.base_url()),
        register: CommandScope::Global,
        dev_guild_id: None,
        request_timeout: Duration::from_secs(10),
    };
    let clock = Arc::new(ManualClock::new(t("2027-03-30T12:00:00Z")));
    let (stop, stopped) = watch::channel(false);
    let bot = tokio::spawn(serve(settings, connection, clock.clone(), stopped));
    assert!(
        discord.wait_connected(Duration::from_secs(90)).await,
        "the serenity client connected"
    );
    until("global commands", || {
        Some(()).filter(|_| !discord.commands().0.is_empty())
    })
    .await;
    let identify = discord
        .gateway_frames()
        .into_iter()
        .find(|f| f["op"] == 2)
        .unwrap();
    assert_ne!(
        identify["d"]["intents"].as_u64().unwrap() & (1 << 1),
        0,
        "GUILD_MEMBERS is asked for"
    );

    let run = |user: &str, channel: &str, name: &str, leaf: &str, options: Value| {
        let i = discord.slash_command(user, channel, name, sub(leaf, options));
        discord.interaction_create(i.clone());
        i
    };
    // Only members who manage the server start circles here.
    let i = run(
        &bob,
        &home1,
        "circle",
        "create",
        json!([text("name", "Bob's")]),
    );
    assert!(answer(&discord, &i).await.contains("Manage Server"));
    let i = run(
        &organiser,
        &home1,
        "circle",
        "create",
        json!([text("name", "PM Circle"), text("timezone", "UTC")]),
    );
    assert!(
        answer(&discord, &i)
            .await
            .contains("Circle **PM Circle** is open")
    );
    for who in [&alice, &bob] {
        let i = run(
            who,
            &home1,
            "circle",
            "join",
            json!([text("name", "PM Circle")]),
        );
        assert!(answer(&discord, &i).await.contains("Welcome"));
        let i = run(
            who,
            &home1,
            "commit",
            "add",
            json!([text("title", "publish one post")]),
        );
        assert!(answer(&discord, &i).await.contains("Committed"));
    }
    let i = run(
        &alice,
        &home2,
        "circle",
        "create",
        json!([text("name", "Builders"), text("timezone", "UTC")]),
    );
    assert!(
        answer(&discord, &i)
            .await
            .contains("Circle **Builders** is open")
    );
    let i = run(
        &alice,
        &home2,
        "commit",
        "add",
        json!([text("title", "Builders post")]),
    );
    assert!(answer(&discord, &i).await.contains("Committed"));

    // Both check-ins open: a DM that replies to nothing makes the bot ask which circle, with buttons.
    clock.set(t("2027-04-05T09:00:30Z"));
    let prompts = until("alice's two check-in prompts", || {
        let p: Vec<Value> = discord
            .dm_messages_to(&alice)
            .into_iter()
            .filter(|m| content(m).contains("check-in time"))
            .collect();
        (p.len() == 2).then_some(p)
    })
    .await;
    discord.message_create(discord.dm_message(
        &alice,
        "Shipped the ledger; writing slipped.",
        None,
    ));
    let question = until("the bot's question", || {
        discord
            .dm_messages_to(&alice)
            .into_iter()
            .find(|m| content(m).contains("Which circle"))
    })
    .await;
    let buttons: Vec<(String, String)> = question["components"][0]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["label"].as_str().unwrap().to_owned(),
                b["custom_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(buttons.len(), 2, "{buttons:?}");
    let builders = &buttons
        .iter()
        .find(|(l, _)| l.starts_with("Builders"))
        .unwrap()
        .1;
    let dm = discord.dm_channel_of(&alice).unwrap();
    let press = discord.button_press(&alice, &dm, question["id"].as_str().unwrap(), builders);
    discord.interaction_create(press.clone());
    assert!(
        answer(&discord, &press)
            .await
            .contains("Stored your Q2 2027 check-in for **Builders**")
    );
    // A reply to the PM Circle prompt lands in PM Circle.
    let pm_prompt = prompts
        .iter()
        .find(|m| content(m).contains("in PM Circle"))
        .unwrap();
    discord.message_create(discord.dm_message(
        &alice,
        "PM Circle: two posts out.",
        pm_prompt["id"].as_str(),
    ));
    until("the stored reply", || {
        discord
            .dm_messages_to(&alice)
            .into_iter()
            .find(|m| content(m).contains("Stored your Q2 2027 check-in for **PM Circle**"))
    })
    .await;

    // Bob leaves the first server: GUILD_MEMBER_REMOVE takes him out of its circles.
    assert_eq!(discord.remove_member(&g1, &bob), 1);
    until_db(
        &pool,
        "bob out of PM Circle",
        "SELECT NOT EXISTS (SELECT 1 FROM memberships ms JOIN members m ON m.id = ms.member_id
                            WHERE m.platform_user_id = $1)",
        &bob,
    )
    .await;
    // The bot is removed from the second server: GUILD_DELETE pauses its circles.
    assert_eq!(discord.remove_bot(&g2), 1);
    until_db(
        &pool,
        "the second server marked",
        "SELECT EXISTS (SELECT 1 FROM servers WHERE external_id = $1 AND bot_removed_at IS NOT NULL)",
        &g2,
    )
    .await;
    let to_home2 = |d: &LoopbackDiscord| {
        d.requests()
            .iter()
            .filter(|r| r.path.contains(&home2))
            .count()
    };
    let home2_before = to_home2(&discord);
    let bob_before = discord.dm_messages_to(&bob).len();

    clock.set(t("2027-05-01T09:00:30Z"));
    until("alice's May nudge", || {
        discord
            .dm_messages_to(&alice)
            .into_iter()
            .find(|m| content(m).contains("May 2027") && content(m).contains("publish one post"))
    })
    .await;
    until_db(
        &pool,
        "the second server's May nudge recorded skipped",
        "SELECT EXISTS (SELECT 1 FROM deliveries d JOIN circles c ON c.id = d.circle_id
                        WHERE c.name = $1 AND d.kind = 'monthly_nudge' AND d.period = '2027-05'
                          AND d.status = 'skipped' AND d.skip_reason LIKE '%bot was removed%')",
        "Builders",
    )
    .await;
    assert!(
        discord
            .dm_messages_to(&alice)
            .iter()
            .all(|m| !(content(m).contains("May 2027") && content(m).contains("Builders post"))),
        "nothing from the server the bot left"
    );
    assert_eq!(
        discord.dm_messages_to(&bob).len(),
        bob_before,
        "bob gets nothing more"
    );
    assert_eq!(to_home2(&discord), home2_before);

    // Added back: GUILD_CREATE resumes the circles, and June's nudge arrives.
    assert_eq!(discord.add_bot(&g2), 1);
    until_db(
        &pool,
        "the second server back",
        "SELECT EXISTS (SELECT 1 FROM servers WHERE external_id = $1 AND bot_removed_at IS NULL)",
        &g2,
    )
    .await;
    clock.set(t("2027-06-01T09:00:30Z"));
    until("the June nudge from the second server", || {
        discord
            .dm_messages_to(&alice)
            .into_iter()
            .find(|m| content(m).contains("June 2027") && content(m).contains("Builders post"))
    })
    .await;

    // /me export in the DM covers both servers.
    let i = discord.slash_command(&alice, &dm, "me", sub("export", json!([])));
    discord.interaction_create(i.clone());
    let token = i["token"].as_str().unwrap().to_owned();
    let followup = until("the export", || {
        discord
            .requests_to("POST", "/webhooks/{application_id}/{interaction_token}")
            .into_iter()
            .find(|r| r.path.contains(&token))
    })
    .await;
    let exported: Value = serde_json::from_slice(&followup.files[0].1).unwrap();
    let mut servers: Vec<&str> = exported["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["server"].as_str().unwrap())
        .collect();
    servers.sort_unstable();
    let mut both = vec![g1.as_str(), g2.as_str()];
    both.sort_unstable();
    assert_eq!(servers, both);
    assert_eq!(exported["checkins"].as_array().unwrap().len(), 2);

    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(60), bot)
        .await
        .expect("graceful stop")
        .unwrap()
        .unwrap();
    discord.assert_all_valid();
}
