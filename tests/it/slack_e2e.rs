//! The whole path on Slack: Socket Mode envelope -> the command table's grammar -> app -> database -> the
//! response_url, modals and the Web API, against the loopback Slack, every call checked against Slack's spec.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use career_circle::cli::run::{Platforms, serve_platforms};
use career_circle_core::clock::ManualClock;
use serde_json::Value;
use sqlx::PgPool;
use tokio::sync::watch;

use crate::discord_e2e::{PATIENCE, db_url, eventually};
use crate::support::slack::{
    self, ALICE, CHANNEL, LoopbackSlack, ORGANISER, OTHER_CHANNEL, Posted,
};
use career_circle_core::settings::Settings;

use crate::support::{settings, t};

/// The text of the first answer posted to the command's response_url.
pub(crate) async fn answer(slack: &LoopbackSlack, envelope: &Value) -> Value {
    eventually("the command's answer", || {
        slack.responses_to(envelope).into_iter().next()
    })
    .await
}

pub(crate) fn words(v: &Value) -> String {
    v["text"].as_str().unwrap_or_default().to_owned()
}

/// Waits for the ack of an envelope and gives its payload.
pub(crate) async fn acked(slack: &LoopbackSlack, envelope: &Value) -> (Duration, Value) {
    eventually("the envelope's ack", || slack.ack_of(envelope)).await
}

pub(crate) async fn dm_containing(slack: &LoopbackSlack, user: &str, needle: &str) -> Posted {
    eventually(needle, || {
        slack
            .dms_to(user)
            .into_iter()
            .find(|m| m.text.contains(needle))
    })
    .await
}

/// Waits until the database holds what `probe` looks for.
pub(crate) async fn recorded(what: &str, mut probe: impl AsyncFnMut() -> bool) {
    let started = std::time::Instant::now();
    while !probe().await {
        assert!(started.elapsed() < PATIENCE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) struct Bot {
    pub slack: LoopbackSlack,
    pub clock: Arc<ManualClock>,
    pub port: u16,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

pub(crate) async fn start(pool: &PgPool, start_at: &str) -> Bot {
    start_with(pool, start_at, LoopbackSlack::start().await, |_, _| {}).await
}

/// Settings for a bot under test: its operator endpoint on a free port (returned), and a planner and worker that
/// look often, so a test waits milliseconds for what is due.
pub(crate) fn bot_settings(pool: &PgPool) -> (Settings, u16) {
    let mut settings = settings().with_database_url(&db_url(pool));
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    settings.http.bind = format!("127.0.0.1:{port}").parse().unwrap();
    settings.schedule.tick = Duration::from_millis(50);
    settings.worker.poll_interval = Duration::from_millis(50);
    settings.worker.channel_rate = 1_000;
    (settings, port)
}

/// The connection to the loopback Slack, with its tokens.
pub(crate) fn connection(slack: &LoopbackSlack) -> career_circle_slack::Connection {
    career_circle_slack::Connection {
        bot_token: slack::BOT_TOKEN.to_owned(),
        app_token: slack::APP_TOKEN.to_owned(),
        api_base: slack.api_base(),
        request_timeout: Duration::from_secs(5),
    }
}

/// A bot on `slack` (a second instance shares the loopback and the database), its settings and connection
/// adjusted by `tweak`.
pub(crate) async fn start_with(
    pool: &PgPool,
    start_at: &str,
    slack: LoopbackSlack,
    tweak: impl FnOnce(&mut Settings, &mut career_circle_slack::Connection),
) -> Bot {
    let sockets_before = slack.sockets_opened();
    let (mut settings, port) = bot_settings(pool);
    let mut connection = connection(&slack);
    tweak(&mut settings, &mut connection);
    let clock = Arc::new(ManualClock::new(t(start_at)));
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(serve_platforms(
        settings,
        Platforms {
            discord: None,
            slack: Some(connection),
        },
        clock.clone(),
        stopped,
    ));
    eventually("the Socket Mode connection", || {
        Some(()).filter(|_| slack.sockets_opened() > sockets_before)
    })
    .await;
    Bot {
        slack,
        clock,
        port,
        stop,
        task,
    }
}

impl Bot {
    pub(crate) async fn stop(self) {
        self.stop.send(true).unwrap();
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("graceful stop")
            .unwrap()
            .unwrap();
    }
}

#[sqlx::test]
async fn a_member_goes_through_a_quarter_on_slack(pool: PgPool) {
    let bot = start(&pool, "2027-01-20T12:00:00Z").await;
    let slack = bot.slack.clone();
    let health = reqwest::get(format!("http://127.0.0.1:{}/healthz", bot.port))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let health: Value = serde_json::from_slice(&health.bytes().await.unwrap()).unwrap();
    assert_eq!(health["slack"], "connected", "{health}");

    // A circle created by typing the command; Slack's text goes through the command table's grammar.
    let create = slack.slash_command(
        ORGANISER,
        CHANNEL,
        "/circle",
        "create name:\"Writers\" timezone:Europe/Berlin",
    );
    let (took, _) = acked(&slack, &create).await;
    assert!(took < Duration::from_secs(3), "acked in {took:?}");
    let created = answer(&slack, &create).await;
    assert!(
        words(&created).contains("Circle *Writers* is open"),
        "{created}"
    );
    let join = slack.slash_command(ALICE, CHANNEL, "/circle", "join Writers");
    let joined = answer(&slack, &join).await;
    assert!(words(&joined).contains("Welcome to *Writers*"), "{joined}");
    assert_eq!(
        joined["response_type"], "in_channel",
        "the circle sees who joined"
    );

    // A mistyped command is answered privately, with the nearest command named.
    let typo = slack.slash_command(ALICE, CHANNEL, "/circle", "jion Writers");
    let typo = answer(&slack, &typo).await;
    assert_eq!(typo["response_type"], "ephemeral");
    assert!(words(&typo).contains("join"), "{typo}");

    // The spec through a modal; a field longer than Slack's inputs hold is refused on the form.
    let edit = slack.slash_command(ALICE, CHANNEL, "/spec", "edit");
    let view = eventually("the spec modal", || slack.views().into_iter().next()).await;
    acked(&slack, &edit).await;
    let inputs = view["blocks"].as_array().unwrap();
    assert_eq!(inputs.len(), 5, "{view}");
    assert!(
        inputs
            .iter()
            .all(|b| b["element"]["max_length"].as_u64().unwrap() <= 3_000)
    );
    let ids: Vec<String> = inputs
        .iter()
        .map(|b| b["block_id"].as_str().unwrap().to_owned())
        .collect();
    let too_long = "x".repeat(3_001);
    let refused = slack.submit_view(ALICE, &[(ids[0].as_str(), too_long.as_str())]);
    let (_, payload) = acked(&slack, &refused).await;
    assert_eq!(payload["response_action"], "errors", "{payload}");
    assert!(
        payload["errors"][ids[0].as_str()]
            .as_str()
            .unwrap()
            .contains("3000")
    );
    let values = [
        "Head of product at a climate company",
        "Now-1y: lead pricing\n1-3y: director\n3-5y: head of product",
        "pricing, hiring",
        "12 posts a year",
        "no relocation",
    ];
    let fields: Vec<(&str, &str)> = ids.iter().map(String::as_str).zip(values).collect();
    let saved = slack.submit_view(ALICE, &fields);
    let (_, payload) = acked(&slack, &saved).await;
    assert!(
        payload.is_null() || payload["response_action"].is_null(),
        "{payload}"
    );
    dm_containing(&slack, ALICE, "Saved version 1").await;
    let shared = slack.slash_command(ALICE, CHANNEL, "/spec", "visibility circle");
    answer(&slack, &shared).await;

    // A commitment, and the monthly nudge as a DM at 09:00 in her zone.
    let commit = slack.slash_command(ALICE, CHANNEL, "/commit", "add publish one post");
    assert!(words(&answer(&slack, &commit).await).contains("Committed"));
    // A second circle, and the Home tab: both circles and her commitment, in a view Slack accepts.
    let other = slack.slash_command(ORGANISER, OTHER_CHANNEL, "/circle", "create name:Readers");
    answer(&slack, &other).await;
    let join = slack.slash_command(ALICE, OTHER_CHANNEL, "/circle", "join Readers");
    answer(&slack, &join).await;
    slack.home_opened(ALICE);
    let (user, home) = eventually("the Home tab", || slack.published().into_iter().next()).await;
    assert_eq!(user, ALICE);
    let shown = home.to_string();
    for needle in ["Writers", "Readers", "publish one post", "Head of product"] {
        assert!(shown.contains(needle), "{needle} in {shown}");
    }
    // One circle again, so the quarter below is about Writers alone.
    let leave = slack.slash_command(ALICE, OTHER_CHANNEL, "/circle", "leave circle:Readers");
    answer(&slack, &leave).await;
    assert_eq!(
        sqlx::query_scalar!("SELECT count(*) FROM memberships")
            .fetch_one(&pool)
            .await
            .unwrap(),
        Some(3)
    );

    // Her zone is her Slack profile's (users.info): the nudge comes at 09:00 in New York, not in the circle's zone.
    let zone: Option<String> = sqlx::query_scalar!(
        "SELECT zone FROM members WHERE platform_user_id = $1",
        ALICE
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(zone.as_deref(), Some("America/New_York"));
    bot.clock.set(t("2027-02-01T14:00:30Z"));
    let nudge = dm_containing(&slack, ALICE, "February 2027").await;
    let due: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar!("SELECT due_at FROM deliveries WHERE kind = 'monthly_nudge'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(due, t("2027-02-01T14:00:00Z"), "09:00 in New York");
    assert_eq!(
        nudge.metadata["event_type"], "career_circle_delivery",
        "the delivery's key rides in the metadata: {:?}",
        nudge.metadata
    );
    let button = nudge.blocks[1]["elements"][0]["action_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!button.is_empty(), "{:?}", nudge.blocks);

    // Done by a DM reply with the link; the event delivered again is handled once.
    recorded("the nudge as sent", async || {
        sqlx::query_scalar!(
            "SELECT count(*) FROM deliveries WHERE kind = 'monthly_nudge' AND status = 'sent'"
        )
        .fetch_one(&pool)
        .await
        .unwrap()
            == Some(1)
    })
    .await;
    let reply = slack.dm(ALICE, "done <https://example.com/post-1>", None);
    dm_containing(&slack, ALICE, "done for February 2027").await;
    let again = slack.redeliver(&reply);
    acked(&slack, &again).await;
    // Something after it, to know the redelivery had its turn.
    slack.dm(ALICE, "hello", None);
    eventually("the answer to hello", || {
        Some(()).filter(|_| slack.dms_to(ALICE).len() >= 4)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let answers = slack
        .dms_to(ALICE)
        .into_iter()
        .filter(|m| m.text.contains("done for February 2027"))
        .count();
    assert_eq!(answers, 1, "a redelivered event is handled once");
    let done_links: i64 =
        sqlx::query_scalar!("SELECT count(*) FROM commitment_periods WHERE link IS NOT NULL")
            .fetch_one(&pool)
            .await
            .unwrap()
            .unwrap_or(0);
    assert_eq!(
        done_links, 1,
        "the link Slack wrapped in <...> is stored as typed"
    );
    let link: Option<String> = sqlx::query_scalar!("SELECT link FROM commitment_periods")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(link.as_deref(), Some("https://example.com/post-1"));

    // The bot's own messages came back as events and were passed over: nothing answered them.
    let dm = slack.dm_channel_of(ALICE).unwrap();
    let bot_posts = slack
        .messages_in(&dm)
        .into_iter()
        .filter(|m| m.bot_id.is_some())
        .count();
    let member_posts = slack
        .messages_in(&dm)
        .into_iter()
        .filter(|m| m.bot_id.is_none())
        .count();
    assert!(
        bot_posts <= member_posts + 2,
        "{bot_posts} bot posts for {member_posts} member posts"
    );

    // The quarterly prompt (09:00 EDT, her zone), answered by a threaded DM reply to it.
    bot.clock.set(t("2027-04-05T13:00:30Z"));
    let prompt = dm_containing(&slack, ALICE, "check-in time for *Q2 2027*").await;
    let prompt_ts = prompt.ts.clone();
    recorded("the check-in prompt as sent", async || {
        sqlx::query_scalar!(
            "SELECT count(*) FROM deliveries WHERE kind = 'checkin_prompt' AND status = 'sent' AND message_id = $1",
            prompt_ts
        )
        .fetch_one(&pool)
        .await
        .unwrap()
            == Some(1)
    })
    .await;
    slack.dm(
        ALICE,
        // Slack writes a typed @channel as <!channel>: it must never come back out as a ping.
        "On track: pricing page shipped. <!channel> Writing slipped in March &amp; April.",
        Some(&prompt.ts),
    );
    dm_containing(&slack, ALICE, "Stored your Q2 2027 check-in").await;

    // Her whole record, as files in her DM (`me` is reserved on Slack: the umbrella command reaches it).
    let export = slack.slash_command(ALICE, CHANNEL, "/careercircle", "me export");
    acked(&slack, &export).await;
    let files = eventually("the export files", || {
        let dm = slack.dm_channel_of(ALICE)?;
        let files: Vec<(String, Vec<u8>)> = slack
            .messages_in(&dm)
            .into_iter()
            .flat_map(|m| m.files)
            .collect();
        Some(files).filter(|f| f.len() >= 2)
    })
    .await;
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec!["career-circle-export.json", "career-circle-export.md"]
    );
    let exported: Value = serde_json::from_slice(&files[0].1).unwrap();
    assert!(
        exported["checkins"][0]["answers"]["text"]
            .as_str()
            .unwrap()
            .contains("Writing slipped in March & April"),
        "entities come back as the characters she typed"
    );

    // The review thread: a root post in the circle's channel, her post a reply in its thread.
    bot.clock.set(t("2027-04-12T07:00:30Z"));
    let root = eventually("the review's root post", || {
        slack.messages_in(CHANNEL).into_iter().find(|m| {
            m.bot_id.is_some() && m.thread_ts.is_none() && m.text.contains("Q2 2027 review")
        })
    })
    .await;
    let post = eventually("alice's post", || {
        slack
            .thread(CHANNEL, &root.ts)
            .into_iter()
            .find(|m| m.text.contains("pricing page shipped"))
    })
    .await;
    assert!(
        post.text.contains("publish one post: kept"),
        "{}",
        post.text
    );
    let post_ts = post.ts.clone();
    recorded("alice's review post", async || {
        sqlx::query_scalar!(
            "SELECT count(*) FROM review_posts WHERE message_id = $1",
            post_ts
        )
        .fetch_one(&pool)
        .await
        .unwrap()
            == Some(1)
    })
    .await;

    // Feedback: a thread reply that names her (Slack threads are flat, and the review's first post says so).
    let intro = slack
        .thread(CHANNEL, &root.ts)
        .into_iter()
        .find(|m| m.text.contains("review of Writers"))
        .unwrap();
    assert!(intro.text.contains("name the member"), "{}", intro.text);
    slack.channel_message(
        ORGANISER,
        CHANNEL,
        &format!("<@{ALICE}> Shipping beats perfect. Try a 30-minute post."),
        Some(&root.ts),
    );
    recorded("the feedback", async || {
        sqlx::query_scalar!(
            "SELECT m.platform_user_id FROM peer_feedback f JOIN members m ON m.id = f.subject_id"
        )
        .fetch_optional(&pool)
        .await
        .unwrap()
            == Some(ALICE.to_owned())
    })
    .await;

    // The close: the summary and its heatmap PNG in the thread, the root post edited to say it is closed.
    bot.clock.set(t("2027-04-26T07:00:30Z"));
    let summary = eventually("the summary", || {
        slack
            .thread(CHANNEL, &root.ts)
            .into_iter()
            .find(|m| m.text.contains("review: summary"))
    })
    .await;
    let png = eventually("the heatmap upload", || {
        slack
            .thread(CHANNEL, &root.ts)
            .into_iter()
            .flat_map(|m| m.files)
            .find(|(name, _)| name.ends_with(".png"))
    })
    .await;
    assert!(
        png.1.starts_with(b"\x89PNG"),
        "a PNG beside {}",
        summary.text
    );
    eventually("the root marked closed", || {
        slack
            .messages_in(CHANNEL)
            .into_iter()
            .find(|m| m.ts == root.ts && m.text != root.text)
    })
    .await;

    // Her words were quoted back in the review, and nothing the bot posted can ping a whole channel.
    let quoted = slack
        .thread(CHANNEL, &root.ts)
        .into_iter()
        .find(|m| m.text.contains("pricing page shipped"))
        .unwrap();
    assert!(quoted.text.contains("@channel"), "{}", quoted.text);
    for call in slack
        .calls_to("chat.postMessage")
        .iter()
        .chain(&slack.calls_to("chat.update"))
    {
        let body = serde_json::Value::Object(call.args.clone()).to_string();
        for ping in ["<!channel>", "<!here>", "<!everyone>"] {
            assert!(!body.contains(ping), "{ping} in {body}");
        }
    }

    bot.stop().await;
    slack.assert_all_valid();
    let calls = slack.calls();
    assert!(calls.len() >= 8, "{} calls", calls.len());
    assert_eq!(
        slack.validated_count(),
        calls.len(),
        "every call passed the spec"
    );
    // And every frame it sent passed the events spec (assert_all_valid), of every kind the bot is given.
    let frames = slack.frames();
    for kind in [
        "hello",
        "slash_commands",
        "view_submission",
        "message",
        "app_home_opened",
    ] {
        assert!(
            frames.iter().any(|f| f.frame["type"] == kind
                || f.frame["payload"]["type"] == kind
                || f.frame["payload"]["event"]["type"] == kind),
            "no {kind} frame sent"
        );
    }
    assert_eq!(slack.frames_validated(), frames.len());
}
