//! The whole path through the real serenity client and poise: gateway event -> poise -> app -> database ->
//! REST reply, against the loopback Discord, with every request checked against Discord's OpenAPI spec.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use career_circle::cli::run::serve;
use career_circle_core::clock::ManualClock;
use career_circle_core::settings::CommandScope;
use career_circle_discord::Connection;
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::sync::watch;

use crate::support::discord::LoopbackDiscord;
use crate::support::{settings, t};

/// The URL of the test's own database (sqlx::test made it on DATABASE_URL's server).
pub fn db_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let name = pool
        .connect_options()
        .get_database()
        .expect("database name")
        .to_owned();
    let (server, query) = match base.split_once('?') {
        Some((s, q)) => (s.to_owned(), format!("?{q}")),
        None => (base.clone(), String::new()),
    };
    let server = server
        .rsplit_once('/')
        .map(|(s, _)| s.to_owned())
        .unwrap_or(server);
    format!("{server}/{name}{query}")
}

/// How long a test waits for something that only a busy machine delays: generous, since a test must not fail
/// for being slow, and it returns as soon as the condition holds.
pub const PATIENCE: Duration = Duration::from_secs(120);

pub(crate) async fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let started = std::time::Instant::now();
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(started.elapsed() < PATIENCE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the database holds what `probe` looks for.
async fn recorded(what: &str, mut probe: impl AsyncFnMut() -> bool) {
    let started = std::time::Instant::now();
    while !probe().await {
        assert!(
            started.elapsed() < PATIENCE,
            "timed out waiting for {what} to be recorded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The body of the interaction callback the bot sent for `interaction`.
pub(crate) async fn callback(discord: &LoopbackDiscord, interaction: &Value) -> Value {
    let id = interaction["id"].as_str().unwrap().to_owned();
    eventually("the interaction callback", || {
        discord
            .requests_to(
                "POST",
                "/interactions/{interaction_id}/{interaction_token}/callback",
            )
            .into_iter()
            .find(|r| r.path.contains(&id))
            .map(|r| r.body)
    })
    .await
}

pub(crate) fn sub(name: &str, options: Value) -> Value {
    json!([{"type": 1, "name": name, "options": options}])
}

pub(crate) fn text(name: &str, value: &str) -> Value {
    json!({"type": 3, "name": name, "value": value})
}

#[sqlx::test]
async fn a_member_goes_through_a_quarter_on_discord(pool: PgPool) {
    let discord = LoopbackDiscord::start().await;
    let seeds = discord.seeds();
    let (organiser, alice) = (seeds.organiser_id.clone(), seeds.member_ids[0].clone());
    let channel = seeds.channel_id.clone();

    let mut settings = settings().with_database_url(&db_url(&pool));
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    settings.http.bind = format!("127.0.0.1:{port}").parse().unwrap();
    settings.schedule.tick = Duration::from_millis(50);
    settings.worker.poll_interval = Duration::from_millis(50);
    let connection = Connection {
        token: crate::support::discord::TOKEN.to_owned(),
        proxy: Some(discord.base_url()),
        register: CommandScope::Guild,
        dev_guild_id: Some(seeds.guild_id.parse().unwrap()),
        request_timeout: Duration::from_secs(5),
    };
    let clock = Arc::new(ManualClock::new(t("2027-01-20T12:00:00Z")));
    let (stop, stopped) = watch::channel(false);
    let bot = tokio::spawn(serve(settings, connection, clock.clone(), stopped));

    if !discord.wait_connected(PATIENCE).await {
        let why = if bot.is_finished() {
            format!("{:?}", bot.await)
        } else {
            "still running".to_owned()
        };
        panic!("the serenity client did not connect: {why}");
    }
    eventually("guild commands", || {
        Some(()).filter(|_| !discord.commands().1.is_empty())
    })
    .await;
    let health = reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    // A member creates a circle and another joins.
    let create = discord.slash_command(
        &organiser,
        &channel,
        "circle",
        sub(
            "create",
            json!([text("name", "PM Circle"), text("timezone", "Europe/London")]),
        ),
    );
    discord.interaction_create(create.clone());
    let body = callback(&discord, &create).await;
    assert!(
        body["data"]["content"]
            .as_str()
            .unwrap()
            .contains("Circle **PM Circle** is open"),
        "{body}"
    );
    let join = discord.slash_command(
        &alice,
        &channel,
        "circle",
        sub("join", json!([text("name", "PM Circle")])),
    );
    discord.interaction_create(join.clone());
    assert!(
        callback(&discord, &join).await["data"]["content"]
            .as_str()
            .unwrap()
            .contains("Welcome to **PM Circle**")
    );

    // The spec through the modal.
    let edit = discord.slash_command(&alice, &channel, "spec", sub("edit", json!([])));
    discord.interaction_create(edit.clone());
    let modal = callback(&discord, &edit).await;
    assert_eq!(modal["type"], 9, "a modal: {modal}");
    assert_eq!(modal["data"]["components"].as_array().unwrap().len(), 5);
    let submit = discord.modal_submit(
        &alice,
        "cc:specform",
        &[
            ("vision", "Head of product at a climate company"),
            (
                "milestones",
                "Now-1y: lead pricing\n1-3y: director\n3-5y: head of product",
            ),
            ("skills", "pricing, hiring"),
            ("metrics", "12 posts a year"),
            ("tradeoffs", "no relocation"),
        ],
    );
    discord.interaction_create(submit.clone());
    let saved = callback(&discord, &submit).await;
    assert!(
        saved["data"]["content"]
            .as_str()
            .unwrap()
            .contains("Saved version 1"),
        "{saved}"
    );
    assert_eq!(saved["data"]["flags"], 64, "personal content is ephemeral");
    let shared = discord.slash_command(
        &alice,
        &channel,
        "spec",
        sub("visibility", json!([text("visibility", "circle")])),
    );
    discord.interaction_create(shared.clone());
    callback(&discord, &shared).await;

    // A commitment, and the monthly nudge as a DM when the clock reaches it.
    let add = discord.slash_command(
        &alice,
        &channel,
        "commit",
        sub("add", json!([text("title", "publish one post")])),
    );
    discord.interaction_create(add.clone());
    assert!(
        callback(&discord, &add).await["data"]["content"]
            .as_str()
            .unwrap()
            .contains("Committed")
    );
    clock.set(t("2027-02-01T09:00:30Z"));
    let nudge = eventually("the monthly nudge", || {
        discord.dm_messages_to(&alice).into_iter().find(|m| {
            m["content"]
                .as_str()
                .unwrap_or("")
                .contains("February 2027")
        })
    })
    .await;
    let sent = discord.requests_to("POST", "/channels/{channel_id}/messages");
    let nudge_request = sent
        .iter()
        .find(|r| r.body["content"] == nudge["content"])
        .unwrap();
    assert_eq!(
        nudge_request.body["enforce_nonce"], true,
        "a nonce guards against double posts"
    );
    assert!(
        nudge_request.body["nonce"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );

    // Done, pressed on the DM.
    let done_id = nudge["components"][0]["components"][0]["custom_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dm_channel = discord.dm_channel_of(&alice).unwrap();
    let press = discord.button_press(&alice, &dm_channel, nudge["id"].as_str().unwrap(), &done_id);
    discord.interaction_create(press.clone());
    assert!(
        callback(&discord, &press).await["data"]["content"]
            .as_str()
            .unwrap()
            .contains("done for February 2027")
    );

    // The quarterly prompt, answered by a DM reply.
    clock.set(t("2027-04-05T08:00:30Z"));
    let prompt = eventually("the check-in prompt", || {
        discord.dm_messages_to(&alice).into_iter().find(|m| {
            m["content"]
                .as_str()
                .unwrap_or("")
                .contains("check-in time for **Q2 2027**")
        })
    })
    .await;
    // The DM reaches her as soon as Discord has it, but the worker records it as sent (with its message id,
    // which her reply refers to) a moment later; a reply before that finds no open check-in. A person cannot
    // answer that fast; the test can, so it waits for the record first.
    let prompt_id = prompt["id"].as_str().unwrap().to_owned();
    recorded("the check-in prompt as sent", async || {
        sqlx::query_scalar!(
            "SELECT count(*) FROM deliveries WHERE kind = 'checkin_prompt' AND status = 'sent' AND message_id = $1",
            prompt_id
        )
        .fetch_one(&pool)
        .await
        .unwrap()
            == Some(1)
    })
    .await;
    let reply = discord.dm_message(
        &alice,
        "On track: pricing page shipped. Writing slipped in March.",
        Some(&prompt_id),
    );
    discord.message_create(reply);
    eventually("the check-in confirmation", || {
        discord.dm_messages_to(&alice).into_iter().find(|m| {
            m["content"]
                .as_str()
                .unwrap_or("")
                .contains("Stored your Q2 2027 check-in")
        })
    })
    .await;

    // Her whole record, as two files on a deferred, ephemeral reply.
    let export = discord.slash_command(&alice, &channel, "me", sub("export", json!([])));
    discord.interaction_create(export.clone());
    let deferred = callback(&discord, &export).await;
    assert_eq!(
        (
            deferred["type"].as_u64(),
            deferred["data"]["flags"].as_u64()
        ),
        (Some(5), Some(64)),
        "{deferred}"
    );
    let token = export["token"].as_str().unwrap().to_owned();
    let followup = eventually("the export follow-up", || {
        discord
            .requests_to("POST", "/webhooks/{application_id}/{interaction_token}")
            .into_iter()
            .find(|r| r.path.contains(&token))
    })
    .await;
    let names: Vec<&str> = followup.files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec!["career-circle-export.json", "career-circle-export.md"]
    );
    let exported: Value = serde_json::from_slice(&followup.files[0].1).unwrap();
    assert!(
        exported["checkins"][0]["answers"]["text"]
            .as_str()
            .unwrap()
            .contains("pricing page shipped")
    );

    // The review thread opens when the check-in window closes, with her check-in in it.
    clock.set(t("2027-04-12T08:00:30Z"));
    let thread = eventually("the review thread", || {
        discord.threads_in(&channel).into_iter().next()
    })
    .await;
    assert_eq!(thread["name"], "Q2 2027 review");
    let thread_id = thread["id"].as_str().unwrap().to_owned();
    let post = eventually("alice's post", || {
        discord.messages_in(&thread_id).into_iter().find(|m| {
            m["content"]
                .as_str()
                .unwrap_or("")
                .contains("pricing page shipped")
        })
    })
    .await;
    assert!(
        post["content"]
            .as_str()
            .unwrap()
            .contains("publish one post: kept"),
        "{post}"
    );

    // Feedback by reply is attributed to her, once her post is on record (as for the check-in reply above).
    let post_id = post["id"].as_str().unwrap().to_owned();
    recorded("alice's review post", async || {
        sqlx::query_scalar!(
            "SELECT count(*) FROM review_posts WHERE message_id = $1",
            post_id
        )
        .fetch_one(&pool)
        .await
        .unwrap()
            == Some(1)
    })
    .await;
    let feedback = discord.channel_message(
        &organiser,
        &thread_id,
        "Shipping beats perfect. Try a 30-minute post.",
        post["id"].as_str(),
        &[],
    );
    discord.message_create(feedback);
    let mut stored = None;
    let started = std::time::Instant::now();
    while started.elapsed() < PATIENCE {
        stored = sqlx::query_scalar::<_, String>(
            "SELECT m.platform_user_id FROM peer_feedback f JOIN members m ON m.id = f.subject_id",
        )
        .fetch_optional(&pool)
        .await
        .unwrap();
        if stored.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stored = stored.expect("feedback stored");
    assert_eq!(stored, alice);

    // The close: a summary with the heatmap, then the thread is archived.
    clock.set(t("2027-04-26T08:00:30Z"));
    let summary = eventually("the summary", || {
        discord.messages_in(&thread_id).into_iter().find(|m| {
            m["content"]
                .as_str()
                .unwrap_or("")
                .contains("review: summary")
        })
    })
    .await;
    assert_eq!(
        summary["attachments"].as_array().map(Vec::len),
        Some(1),
        "{summary}"
    );
    eventually("the archive", || {
        discord
            .channel(&thread_id)
            .filter(|c| c["thread_metadata"]["archived"] == true)
    })
    .await;

    stop.send(true).unwrap();
    tokio::time::timeout(PATIENCE, bot)
        .await
        .expect("graceful stop")
        .unwrap()
        .unwrap();

    discord.assert_all_valid();
    let requests = discord.requests();
    assert!(requests.len() >= 20, "{} requests", requests.len());
    assert_eq!(
        discord.validated_count(),
        requests.len(),
        "every REST call passed spec validation"
    );
}
