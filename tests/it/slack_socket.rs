//! Socket Mode and the Web API under stress, against the loopback Slack: acks that never wait for the work, a
//! refreshed socket that loses nothing, an event given to two instances handled once, a send whose answer was
//! lost found again by its metadata, a revoked token that pauses delivery, a channel the bot is not in.

use std::time::Duration;

use serde_json::Value;
use sqlx::PgPool;

use crate::discord_e2e::eventually;
use crate::slack_e2e::{acked, answer, dm_containing, recorded, start, start_with, words};
use crate::support::slack::{ALICE, CHANNEL, Fault, LoopbackSlack, ORGANISER, OTHER_CHANNEL};
use crate::support::t;

/// Writers in `channel`, organised by ORGANISER, with ALICE keeping a monthly commitment.
async fn circle(slack: &LoopbackSlack, channel: &str) {
    let create = slack.slash_command(
        ORGANISER,
        channel,
        "/circle",
        "create name:Writers timezone:Europe/Berlin",
    );
    assert!(words(&answer(slack, &create).await).contains("is open"));
    let join = slack.slash_command(ALICE, channel, "/circle", "join Writers");
    answer(slack, &join).await;
    let commit = slack.slash_command(ALICE, channel, "/commit", "add publish one post");
    assert!(words(&answer(slack, &commit).await).contains("Committed"));
}

#[sqlx::test]
async fn envelopes_are_acked_at_once_and_a_refreshed_socket_loses_none(pool: PgPool) {
    let bot = start_with(
        &pool,
        "2027-01-20T12:00:00Z",
        LoopbackSlack::start().await,
        |_, c| {
            c.request_timeout = Duration::from_secs(20);
        },
    )
    .await;
    let slack = bot.slack.clone();
    circle(&slack, CHANNEL).await;

    // The answer to this DM takes 5 s to post; the envelope is acked long before.
    slack.fail_next(
        "chat.postMessage",
        Fault::LoseAnswer(Duration::from_secs(5)),
    );
    let slow = slack.dm(ALICE, "hello there", None);
    let (took, _) = acked(&slack, &slow).await;
    assert!(took < Duration::from_secs(3), "acked after {took:?}");

    // Slack asks for a new socket; a command sent right then is still answered, and the bot holds a new socket.
    slack.disconnect("refresh_requested");
    let during = slack.slash_command(ALICE, CHANNEL, "/circle", "list");
    assert!(words(&answer(&slack, &during).await).contains("Writers"));
    eventually("the replacement socket", || {
        Some(()).filter(|_| slack.sockets_opened() >= 2)
    })
    .await;
    let after = slack.slash_command(ALICE, CHANNEL, "/circle", "list");
    assert!(words(&answer(&slack, &after).await).contains("Writers"));
    // And the slow answer arrived in the end.
    eventually("the slow answer", || {
        Some(()).filter(|_| !slack.dms_to(ALICE).is_empty())
    })
    .await;
    bot.stop().await;
    slack.assert_all_valid();
}

#[sqlx::test]
async fn an_event_given_to_two_instances_is_handled_once(pool: PgPool) {
    let first = start(&pool, "2027-01-20T12:00:00Z").await;
    let slack = first.slack.clone();
    circle(&slack, CHANNEL).await;
    let second = start_with(&pool, "2027-01-20T12:00:00Z", slack.clone(), |_, _| {}).await;
    let sockets = eventually("two sockets", || {
        Some(slack.socket_ids()).filter(|s| s.len() >= 2)
    })
    .await;

    // The same DM, to the first instance and again (retry_attempt 1) to the second.
    let event = slack.dm_envelope(ALICE, "what can you do?");
    slack.send_to(sockets[0], &event);
    let again = slack.redeliver_to(&event, sockets[1]);
    acked(&slack, &event).await;
    acked(&slack, &again).await;
    // Something after both, to know each had its turn.
    let later = slack.dm_envelope(ALICE, "and now?");
    slack.send_to(sockets[0], &later);
    eventually("two answers", || {
        Some(()).filter(|_| slack.dms_to(ALICE).len() >= 2)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        slack.dms_to(ALICE).len(),
        2,
        "one answer per event, whichever instance got it"
    );
    let seen: i64 = sqlx::query_scalar!(
        "SELECT count(*) FROM events_seen WHERE event_key = $1",
        format!("event:{}", event["payload"]["event_id"].as_str().unwrap())
    )
    .fetch_one(&pool)
    .await
    .unwrap()
    .unwrap_or(0);
    assert_eq!(seen, 1);
    second.stop().await;
    first.stop().await;
    slack.assert_all_valid();
}

#[sqlx::test]
async fn a_send_whose_answer_was_lost_is_found_by_its_metadata_and_posted_once(pool: PgPool) {
    let bot = start_with(
        &pool,
        "2027-01-20T12:00:00Z",
        LoopbackSlack::start().await,
        |s, c| {
            c.request_timeout = Duration::from_secs(1);
            s.worker.backoff_base = Duration::from_millis(100);
            s.worker.backoff_max = Duration::from_millis(500);
        },
    )
    .await;
    let slack = bot.slack.clone();
    circle(&slack, CHANNEL).await;

    // Slack posts the nudge but its answer never reaches the bot.
    slack.fail_next(
        "chat.postMessage",
        Fault::LoseAnswer(Duration::from_secs(3)),
    );
    bot.clock.set(t("2027-02-01T14:00:30Z"));
    let nudge = dm_containing(&slack, ALICE, "February 2027").await;
    let ts = nudge.ts.clone();
    // The try timed out: its outcome is unknown. When the retry is due, the worker looks before it posts.
    recorded("the timed-out try", async || {
        sqlx::query_scalar!("SELECT attempts FROM deliveries WHERE kind = 'monthly_nudge'")
            .fetch_one(&pool)
            .await
            .unwrap()
            == 1
    })
    .await;
    bot.clock.set(t("2027-02-01T14:10:00Z"));
    recorded("the nudge as sent with the first try's ts", async || {
        sqlx::query_scalar!(
            "SELECT count(*) FROM deliveries WHERE kind = 'monthly_nudge' AND status = 'sent' AND message_id = $1",
            ts
        )
        .fetch_one(&pool)
        .await
        .unwrap()
            == Some(1)
    })
    .await;
    let nudges = slack
        .dms_to(ALICE)
        .into_iter()
        .filter(|m| m.text.contains("February 2027"))
        .count();
    assert_eq!(nudges, 1, "posted once");
    let looked = slack.calls_to("conversations.history");
    assert!(
        looked
            .iter()
            .any(|c| c.args.get("include_all_metadata").is_some()),
        "the retry looked in the DM's history with metadata"
    );
    bot.stop().await;
    slack.assert_all_valid();
}

#[sqlx::test]
async fn a_revoked_token_pauses_delivery_and_healthz_says_why(pool: PgPool) {
    let bot = start(&pool, "2027-01-20T12:00:00Z").await;
    let slack = bot.slack.clone();
    circle(&slack, CHANNEL).await;
    for _ in 0..3 {
        slack.fail_next("chat.postMessage", Fault::Error("token_revoked"));
    }
    bot.clock.set(t("2027-02-01T14:00:30Z"));
    let url = format!("http://127.0.0.1:{}/healthz", bot.port);
    let mut body = Value::Null;
    let started = std::time::Instant::now();
    while started.elapsed() < crate::discord_e2e::PATIENCE {
        let r = reqwest::get(&url).await.unwrap();
        if r.status() == 503 {
            body = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        body["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("token_revoked"),
        "{body}"
    );
    let attempts: i32 =
        sqlx::query_scalar!("SELECT attempts FROM deliveries WHERE kind = 'monthly_nudge'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(attempts, 0, "a broken bot spends no attempts");
    bot.stop().await;
}

#[sqlx::test]
async fn a_channel_the_bot_cannot_join_reaches_the_organiser(pool: PgPool) {
    let bot = start(&pool, "2027-04-12T12:00:00Z").await;
    let slack = bot.slack.clone();
    circle(&slack, OTHER_CHANNEL).await;
    slack.fail_next(
        "conversations.join",
        Fault::Error("method_not_supported_for_channel_type"),
    );
    let start_review = slack.slash_command(ORGANISER, OTHER_CHANNEL, "/review", "start");
    answer(&slack, &start_review).await;
    let told = dm_containing(&slack, ORGANISER, "Heads-up").await;
    assert!(told.text.contains("/invite"), "{}", told.text);
    bot.stop().await;
    slack.assert_all_valid();
}

#[tokio::test]
async fn doctor_tries_both_tokens_and_names_the_one_refused() {
    let slack = LoopbackSlack::start().await;
    let mut connection = career_circle_slack::Connection {
        bot_token: crate::support::slack::BOT_TOKEN.to_owned(),
        app_token: crate::support::slack::APP_TOKEN.to_owned(),
        api_base: slack.api_base(),
        request_timeout: Duration::from_secs(5),
    };
    let checks = career_circle_slack::check(&connection).await;
    assert_eq!(checks.len(), 2);
    assert!(checks.iter().all(|(_, r)| r.is_ok()), "{checks:?}");
    connection.app_token = "xapp-not-this-one".to_owned();
    let checks = career_circle_slack::check(&connection).await;
    assert!(checks[0].1.is_ok(), "{checks:?}");
    let (name, refused) = &checks[1];
    assert!(name.contains("apps.connections.open"));
    assert!(
        refused.as_ref().unwrap_err().contains("invalid_auth"),
        "{refused:?}"
    );
    assert_eq!(
        slack
            .calls()
            .iter()
            .map(|c| c.method.as_str())
            .collect::<Vec<_>>(),
        vec![
            "auth.test",
            "apps.connections.open",
            "auth.test",
            "apps.connections.open"
        ]
    );
    slack.assert_all_valid();
}
