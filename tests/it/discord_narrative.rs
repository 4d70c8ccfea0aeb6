//! Narrative and feedback on Discord (issue 16), through the real serenity client against the loopback: an event
//! check-in by slash command and form, a win linked to the spec, the story as a deferred follow-up file, the story
//! shared into the review thread with a reply kept as feedback, and private feedback sent without a name (refused
//! while the circle has it off). Every request is checked against Discord's OpenAPI spec.

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

use crate::discord_e2e::db_url;
use crate::support::discord::LoopbackDiscord;
use crate::support::{settings, t};

/// Waits on a real condition, with a bound generous enough for a loaded machine.
async fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    for _ in 0..1200 {
        if let Some(v) = probe() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn callback(discord: &LoopbackDiscord, interaction: &Value) -> Value {
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

/// The follow-up of a deferred command: (content, files).
async fn followup(
    discord: &LoopbackDiscord,
    interaction: &Value,
) -> (String, Vec<(String, Vec<u8>)>) {
    let token = interaction["token"].as_str().unwrap().to_owned();
    let r = eventually("the follow-up", || {
        discord
            .requests_to("POST", "/webhooks/{application_id}/{interaction_token}")
            .into_iter()
            .find(|r| r.path.contains(&token))
    })
    .await;
    (r.body["content"].as_str().unwrap_or("").to_owned(), r.files)
}

fn content(body: &Value) -> String {
    body["data"]["content"].as_str().unwrap_or("").to_owned()
}

fn sub(name: &str, options: Value) -> Value {
    json!([{"type": 1, "name": name, "options": options}])
}

fn text(name: &str, value: &str) -> Value {
    json!({"type": 3, "name": name, "value": value})
}

fn int(name: &str, value: i64) -> Value {
    json!({"type": 4, "name": name, "value": value})
}

fn boolean(name: &str, value: bool) -> Value {
    json!({"type": 5, "name": name, "value": value})
}

fn user(name: &str, id: &str) -> Value {
    json!({"type": 6, "name": name, "value": id})
}

async fn count(pool: &PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn a_story_an_event_checkin_and_private_feedback_on_discord(pool: PgPool) {
    let discord = LoopbackDiscord::start().await;
    let seeds = discord.seeds();
    let (organiser, alice, bob) = (
        seeds.organiser_id.clone(),
        seeds.member_ids[0].clone(),
        seeds.member_ids[1].clone(),
    );
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
    let clock = Arc::new(ManualClock::new(t("2027-03-20T12:00:00Z")));
    let (stop, stopped) = watch::channel(false);
    let bot = tokio::spawn(serve(settings, connection, clock.clone(), stopped));
    assert!(
        discord.wait_connected(Duration::from_secs(60)).await,
        "the serenity client did not connect"
    );
    eventually("guild commands", || {
        Some(()).filter(|_| !discord.commands().1.is_empty())
    })
    .await;
    let run = |who: &str, family: &str, options: Value| {
        let c = discord.slash_command(who, &channel, family, options);
        discord.interaction_create(c.clone());
        c
    };
    let create = run(
        &organiser,
        "circle",
        sub(
            "create",
            json!([text("name", "PM Circle"), text("timezone", "Europe/London")]),
        ),
    );
    callback(&discord, &create).await;
    for who in [&alice, &bob] {
        let join = run(
            who,
            "circle",
            sub("join", json!([text("name", "PM Circle")])),
        );
        callback(&discord, &join).await;
    }
    let submit = discord.modal_submit(
        &alice,
        "cc:specform",
        &[
            ("vision", "Head of product at a climate company"),
            ("milestones", "Now-1y: ship the carbon ledger"),
            ("skills", "pricing, hiring"),
        ],
    );
    discord.interaction_create(submit.clone());
    assert!(content(&callback(&discord, &submit).await).contains("Saved version 1"));

    // A win linked to a milestone as it is logged, one told as "we".
    let win = run(
        &alice,
        "win",
        sub(
            "add",
            json!([
                text("text", "I shipped the carbon ledger beta"),
                text("serves", "carbon ledger")
            ]),
        ),
    );
    let won = content(&callback(&discord, &win).await);
    assert!(
        won.contains("It serves the milestone **ship the carbon ledger**"),
        "{won}"
    );
    let we = run(
        &alice,
        "win",
        sub("add", json!([text("text", "We closed the pricing pilot")])),
    );
    callback(&discord, &we).await;
    let link = run(
        &alice,
        "win",
        sub("link", json!([int("win", 2), text("serves", "pricing")])),
    );
    assert!(content(&callback(&discord, &link).await).contains("now serves the skill **pricing**"));

    // A check-in after a job change: the slash command opens the form, the form stores it.
    let event = run(
        &alice,
        "checkin",
        sub(
            "event",
            json!([text("kind", "job-change"), text("note", "Joined Globex")]),
        ),
    );
    let modal = callback(&discord, &event).await;
    assert_eq!(modal["type"], 9, "a form: {modal}");
    assert_eq!(modal["data"]["custom_id"], "cc:eventform:job_change");
    let submit = discord.modal_submit(
        &alice,
        "cc:eventform:job_change",
        &[
            ("happened", "Joined Globex as head of product"),
            ("learned", "Ask for the scope in writing"),
            ("spec_change", ""),
        ],
    );
    discord.interaction_create(submit.clone());
    let stored = callback(&discord, &submit).await;
    assert!(
        content(&stored).contains("Stored your check-in after a job change"),
        "{stored}"
    );
    assert_eq!(
        stored["data"]["components"][0]["components"][0]["label"],
        "Plan my first 90 days"
    );
    assert_eq!(count(&pool, "SELECT count(*) FROM event_checkins").await, 1);

    // The story: deferred, then a short summary and the Markdown file, only to her.
    let story = run(&alice, "story", json!([text("period", "2027")]));
    assert_eq!(callback(&discord, &story).await["type"], 5);
    let (summary, files) = followup(&discord, &story).await;
    assert!(summary.contains("Your career story for 2027"), "{summary}");
    assert!(
        summary.contains("1 win is told only as \"we\""),
        "{summary}"
    );
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].0, "career-story-2027.md");
    let md = String::from_utf8(files[0].1.clone()).unwrap();
    assert!(md.contains("### Milestone: ship the carbon ledger"), "{md}");
    assert!(md.contains("### Skill: pricing"), "{md}");
    assert!(
        md.contains("No evidence yet this year for the skill \"hiring\""),
        "{md}"
    );
    assert!(
        md.contains("After a job change") || md.contains("Job change ("),
        "{md}"
    );

    // Anonymous feedback: refused while the circle has it off, then sent without a name.
    let refused = run(
        &bob,
        "review",
        sub(
            "feedback-for",
            json!([
                user("member", &alice),
                text("text", "Lead your demos with the number."),
                boolean("anonymous", true)
            ]),
        ),
    );
    assert!(
        content(&callback(&discord, &refused).await).contains("doesn't take anonymous feedback")
    );
    let allow = run(
        &organiser,
        "circle",
        sub("settings", json!([text("anonymous_feedback", "allowed")])),
    );
    assert!(content(&callback(&discord, &allow).await).contains("without their name"));
    let sent = run(
        &bob,
        "review",
        sub(
            "feedback-for",
            json!([
                user("member", &alice),
                text("text", "Lead your demos with the number."),
                boolean("anonymous", true)
            ]),
        ),
    );
    assert!(content(&callback(&discord, &sent).await).contains("without your name"));
    let dm = eventually("the private feedback", || {
        discord.dm_messages_to(&alice).into_iter().find(|m| {
            m["content"]
                .as_str()
                .unwrap_or("")
                .contains("Lead your demos with the number.")
        })
    })
    .await;
    let words = dm["content"].as_str().unwrap();
    assert!(
        words.contains("sent you feedback, without their name"),
        "{words}"
    );
    assert!(!words.contains(&bob), "{words}");

    // The review opens; the story shared into its thread, a reply to it kept as feedback for Alice.
    clock.set(t("2027-04-12T09:00:30Z"));
    let thread = eventually("the review thread", || {
        discord.threads_in(&channel).into_iter().next()
    })
    .await;
    let thread_id = thread["id"].as_str().unwrap().to_owned();
    let share = run(
        &alice,
        "story",
        json!([text("period", "2027"), boolean("share", true)]),
    );
    callback(&discord, &share).await;
    let (shared, _) = followup(&discord, &share).await;
    assert!(shared.contains("Shared your 2027 story"), "{shared}");
    let post = eventually("the shared story", || {
        discord.messages_in(&thread_id).into_iter().find(|m| {
            m["content"]
                .as_str()
                .unwrap_or("")
                .contains("shares their career story for 2027")
        })
    })
    .await;
    assert_eq!(post["attachments"][0]["filename"], "career-story-2027.md");
    let reply = discord.channel_message(
        &bob,
        &thread_id,
        "Say the pilots' names: that's the headline.",
        post["id"].as_str(),
        &[],
    );
    discord.message_create(reply);
    let mut kept = 0;
    for _ in 0..1200 {
        kept = count(&pool, "SELECT count(*) FROM peer_feedback").await;
        if kept > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(kept, 1, "the reply to the story is feedback");

    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(60), bot)
        .await
        .expect("graceful stop")
        .unwrap()
        .unwrap();
    discord.assert_all_valid();
    assert_eq!(
        discord.validated_count(),
        discord.requests().len(),
        "every REST call passed spec validation"
    );
}
