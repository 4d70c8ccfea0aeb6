//! The month's Done button, the quarterly check-in by button and modal and by command, and the review's midway
//! nudge, on the loopback Slack: what the member presses or types, what the store holds after it, and what Slack
//! was asked to show.

use std::collections::BTreeSet;

use serde_json::Value;
use sqlx::PgPool;

use crate::discord_e2e::eventually;
use crate::slack_e2e::{acked, answer, dm_containing, recorded, start, words};
use crate::support::slack::{ALICE, BOB, CHANNEL, LoopbackSlack, ORGANISER, Posted};
use crate::support::t;

/// The action ids of a message's or view's buttons.
pub(crate) fn buttons(blocks: &Value) -> Vec<String> {
    blocks
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["action_id"].as_str().map(str::to_owned))
        .collect()
}

fn button_starting(message: &Posted, prefix: &str) -> String {
    buttons(&message.blocks)
        .into_iter()
        .find(|id| id.starts_with(prefix))
        .unwrap_or_else(|| panic!("a {prefix} button in {:?}", message.blocks))
}

/// The user ids a message pings (`<@U…>`), as Slack reads them from its text.
fn pinged(text: &str) -> BTreeSet<String> {
    text.split("<@")
        .skip(1)
        .filter_map(|rest| rest.split_once('>'))
        .map(|(id, _)| id.split('|').next().unwrap_or_default().to_owned())
        .collect()
}

/// The input blocks of a view: the only keys Slack accepts in `response_action: errors`.
fn input_ids(view: &Value) -> Vec<String> {
    view["blocks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["type"] == "input")
        .filter_map(|b| b["block_id"].as_str().map(str::to_owned))
        .collect()
}

/// A circle in the bot's channel, its organiser and the `members` who joined it.
pub(crate) async fn circle_with(slack: &LoopbackSlack, members: &[&str]) {
    let create = slack.slash_command(
        ORGANISER,
        CHANNEL,
        "/circle",
        "create name:\"Writers\" timezone:Europe/Berlin",
    );
    assert!(words(&answer(slack, &create).await).contains("is open"));
    for member in members {
        let join = slack.slash_command(member, CHANNEL, "/circle", "join Writers");
        assert!(words(&answer(slack, &join).await).contains("Welcome"));
    }
}

async fn checkin_answers(pool: &PgPool, user: &str) -> Option<Value> {
    sqlx::query_scalar::<_, Value>(
        "SELECT c.answers FROM checkins c JOIN members m ON m.id = c.member_id \
         WHERE m.platform_user_id = $1 AND c.period = '2027-Q2'",
    )
    .bind(user)
    .fetch_optional(pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn the_nudges_done_button_marks_the_month_done(pool: PgPool) {
    let bot = start(&pool, "2027-01-20T12:00:00Z").await;
    let slack = bot.slack.clone();
    circle_with(&slack, &[ALICE]).await;
    let commit = slack.slash_command(ALICE, CHANNEL, "/commit", "add publish one post");
    assert!(words(&answer(&slack, &commit).await).contains("Committed"));

    bot.clock.set(t("2027-02-01T14:00:30Z"));
    let nudge = dm_containing(&slack, ALICE, "February 2027").await;
    let done = button_starting(&nudge, "cc:done:");
    assert!(done.ends_with(":2027-02"), "{done}");
    let press = slack.press(ALICE, &nudge, &done);
    let (took, _) = acked(&slack, &press).await;
    assert!(
        took < std::time::Duration::from_secs(3),
        "acked in {took:?}"
    );

    // Answered to her alone, through the press's response_url.
    let answered = answer(&slack, &press).await;
    assert_eq!(answered["response_type"], "ephemeral", "{answered}");
    assert!(
        words(&answered).contains("*publish one post* is done for February 2027"),
        "{answered}"
    );
    let marked: Vec<(String, String)> = sqlx::query_as(
        "SELECT p.period, p.status FROM commitment_periods p JOIN commitments c ON c.id = p.commitment_id \
         WHERE c.title = 'publish one post'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(marked, vec![("2027-02".to_owned(), "done".to_owned())]);

    bot.stop().await;
    finish_stopped(&slack);
}

fn finish_stopped(slack: &LoopbackSlack) {
    slack.assert_all_valid();
    assert_eq!(slack.validated_count(), slack.calls().len());
}

#[sqlx::test]
async fn a_checkin_by_the_prompts_button_and_modal_and_by_command(pool: PgPool) {
    let bot = start(&pool, "2027-03-20T12:00:00Z").await;
    let slack = bot.slack.clone();
    circle_with(&slack, &[ALICE, BOB]).await;

    // The quarter's prompt at 09:00 in her zone (New York), with an Answer button.
    bot.clock.set(t("2027-04-05T13:00:30Z"));
    let prompt = dm_containing(&slack, ALICE, "check-in time for *Q2 2027*").await;
    let button = button_starting(&prompt, "cc:checkin:");
    assert!(button.ends_with(":2027-Q2"), "{button}");
    let press = slack.press(ALICE, &prompt, &button);
    acked(&slack, &press).await;

    // The press opens the form with views.open, on the press's own trigger_id.
    let view = eventually("the check-in form", || {
        slack.views().into_iter().find(|v| {
            v["callback_id"]
                .as_str()
                .unwrap_or_default()
                .starts_with("cc:checkinform:")
        })
    })
    .await;
    let opened = slack.calls_to("views.open");
    assert_eq!(
        opened.last().unwrap().args["trigger_id"],
        press["payload"]["trigger_id"],
        "the form opens on the press's trigger"
    );
    assert!(
        view["title"]["text"].as_str().unwrap().chars().count() <= 24,
        "{view}"
    );
    let ids = input_ids(&view);
    assert_eq!(ids.len(), 5, "{view}");
    assert_eq!(ids[0], "on_track");

    // Refused values come back on the form (response_action: errors), on a field the form has, and nothing is
    // stored: an answer longer than Slack's inputs hold, and a form with every answer empty.
    let too_long = "x".repeat(3_001);
    let refused = slack.submit_view(ALICE, &[(ids[1].as_str(), too_long.as_str())]);
    let (_, payload) = acked(&slack, &refused).await;
    assert_eq!(payload["response_action"], "errors", "{payload}");
    let error = payload["errors"][ids[1].as_str()].as_str().unwrap();
    assert!(error.contains("3000"), "{payload}");
    let empty = slack.submit_view(
        ALICE,
        &ids.iter().map(|id| (id.as_str(), "  ")).collect::<Vec<_>>(),
    );
    let (_, payload) = acked(&slack, &empty).await;
    assert_eq!(payload["response_action"], "errors", "{payload}");
    let errors = payload["errors"].as_object().unwrap();
    assert_eq!(errors.len(), 1, "{payload}");
    let (field, said) = errors.iter().next().unwrap();
    assert!(ids.contains(field), "{field} is one of the form's inputs");
    assert!(said.as_str().unwrap().contains("empty"), "{payload}");
    assert_eq!(checkin_answers(&pool, ALICE).await, None);

    // Her answers saved: stored as typed, and confirmed in her DM.
    let typed = [
        "Mostly: pricing page shipped",
        "Pairing with design & research",
        "Writing slipped <again>",
        "2 posts, 1 talk",
        "none",
    ];
    let fields: Vec<(&str, &str)> = ids.iter().map(String::as_str).zip(typed).collect();
    let saved = slack.submit_view(ALICE, &fields);
    let (_, payload) = acked(&slack, &saved).await;
    assert!(
        payload.is_null() || payload["response_action"].is_null(),
        "{payload}"
    );
    dm_containing(&slack, ALICE, "Stored your Q2 2027 check-in").await;
    let stored = checkin_answers(&pool, ALICE).await.unwrap();
    for (id, words) in &fields {
        assert_eq!(stored[*id], *words, "{stored}");
    }

    // Bob checks in by typing the command in the circle's channel: Slack's text (with its &amp; escapes, colons
    // that are words, not options, a line break and quotes) read by the command table's grammar.
    bot.clock.set(t("2027-04-05T14:00:00Z"));
    let command = slack.slash_command(
        BOB,
        CHANNEL,
        "/checkin",
        "answer On track: two interviews done &amp; one offer.\nNext: \"negotiate\", says my coach.",
    );
    let answered = answer(&slack, &command).await;
    assert_eq!(answered["response_type"], "ephemeral", "{answered}");
    assert!(
        words(&answered).contains("Stored your Q2 2027 check-in for *Writers*"),
        "{answered}"
    );
    let stored = checkin_answers(&pool, BOB).await.unwrap();
    assert_eq!(
        stored["text"],
        "On track: two interviews done & one offer.\nNext: \"negotiate\", says my coach.",
        "her line break and quotes kept as typed"
    );

    bot.stop().await;
    finish_stopped(&slack);
}

#[sqlx::test]
async fn the_midway_nudge_pings_only_readers_who_owe(pool: PgPool) {
    let bot = start(&pool, "2027-04-01T12:00:00Z").await;
    let slack = bot.slack.clone();
    circle_with(&slack, &[ALICE, BOB]).await;

    // The review opens: a root post in the channel, each member's post in its thread.
    bot.clock.set(t("2027-04-12T07:00:30Z"));
    let root = eventually("the review's root post", || {
        slack.messages_in(CHANNEL).into_iter().find(|m| {
            m.bot_id.is_some() && m.thread_ts.is_none() && m.text.contains("Q2 2027 review")
        })
    })
    .await;
    recorded("the three members' posts", async || {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM review_posts")
            .fetch_one(&pool)
            .await
            .unwrap()
            == 3
    })
    .await;
    let readers: Vec<(String, String)> = sqlx::query_as(
        "SELECT r.platform_user_id, e.platform_user_id FROM review_assignments a \
         JOIN members r ON r.id = a.reviewer_id JOIN members e ON e.id = a.reviewee_id \
         ORDER BY 1, 2",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(readers.len(), 3, "{readers:?}");

    // One reader answers the member they read, naming them (Slack threads are flat). Another writes in the thread
    // without naming anyone: a word, not feedback, so they still owe it.
    let (wrote, for_whom) = readers[0].clone();
    slack.channel_message(
        &wrote,
        CHANNEL,
        &format!("<@{for_whom}> The pricing story is strong; lead with it."),
        Some(&root.ts),
    );
    let chatty = readers
        .iter()
        .map(|(r, _)| r.clone())
        .find(|r| *r != wrote)
        .unwrap();
    slack.channel_message(&chatty, CHANNEL, "Reading this weekend!", Some(&root.ts));
    recorded("the feedback", async || {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM peer_feedback")
            .fetch_one(&pool)
            .await
            .unwrap()
            == 1
    })
    .await;

    // Halfway through the two weeks: the nudge pings exactly the readers who still owe, as Slack mentions.
    bot.clock.set(t("2027-04-19T07:00:30Z"));
    let midway = eventually("the midway nudge", || {
        slack
            .thread(CHANNEL, &root.ts)
            .into_iter()
            .find(|m| m.bot_id.is_some() && m.text.contains("Halfway through"))
    })
    .await;
    let owing: BTreeSet<String> = readers
        .iter()
        .filter(|(r, _)| *r != wrote)
        .map(|(r, _)| r.clone())
        .collect();
    assert_eq!(pinged(&midway.text), owing, "{}", midway.text);
    assert!(!pinged(&midway.text).contains(&wrote), "{}", midway.text);
    // Whom they owe is named by name, never by a bare id: a member's message events carry no name, and writing in
    // the thread must not rename them to their id.
    let mut named = midway.text.clone();
    for id in &owing {
        named = named.replace(&format!("<@{id}>"), "");
    }
    for (id, name) in [(ALICE, "alice"), (BOB, "bob"), (ORGANISER, "organiser")] {
        assert!(!named.contains(id), "{id} named by id: {}", midway.text);
        let owed_to = readers.iter().any(|(r, e)| e == id && *r != wrote);
        assert_eq!(named.contains(name), owed_to, "{name}: {}", midway.text);
    }
    assert_eq!(
        pinged(&midway.blocks.to_string()),
        owing,
        "the blocks ping the same people: {}",
        midway.blocks
    );

    // Nothing else the bot posted pings anyone: only the header (where readers learn whom they read) and the nudge
    // mention people, and nothing pings a whole channel.
    for m in slack
        .messages_in(CHANNEL)
        .iter()
        .filter(|m| m.bot_id.is_some())
    {
        let all = format!("{} {}", m.text, m.blocks);
        assert!(!all.contains("<!"), "a broadcast in {all}");
        if m.ts == midway.ts || m.text.contains("This quarter's readers") {
            continue;
        }
        assert!(pinged(&all).is_empty(), "a ping in {all}");
    }

    bot.stop().await;
    finish_stopped(&slack);
}
