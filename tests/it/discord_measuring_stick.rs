//! The measuring stick on Discord, through the real serenity client against the loopback: slash commands for
//! metrics and offers, the check-in's Scorecard button and form, a DM reply with a metric line, the scorecard's
//! chart as a follow-up file, a second opinion in the circle's channel, and the 6-month look back at a taken offer
//! answered through its button and form. Every request is checked against Discord's OpenAPI spec.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use career_circle::cli::run::serve;
use career_circle_core::clock::ManualClock;
use career_circle_core::schedule::chart;
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

/// The text inputs of a modal callback: (custom_id, label).
fn inputs(modal: &Value) -> Vec<(String, String)> {
    modal["data"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let input = &row["components"][0];
            (
                input["custom_id"].as_str().unwrap().to_owned(),
                input["label"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[sqlx::test]
async fn the_scorecard_and_the_offer_ledger_on_discord(pool: PgPool) {
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
    assert!(
        discord.wait_connected(Duration::from_secs(60)).await,
        "the serenity client did not connect"
    );
    eventually("guild commands", || {
        Some(()).filter(|_| !discord.commands().1.is_empty())
    })
    .await;

    let run = |user: &str, family: &str, options: Value| {
        let c = discord.slash_command(user, &channel, family, options);
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
    let join = run(
        &alice,
        "circle",
        sub("join", json!([text("name", "PM Circle")])),
    );
    callback(&discord, &join).await;
    let submit = discord.modal_submit(
        &alice,
        "cc:specform",
        &[
            ("vision", "Head of product at a climate company"),
            ("milestones", "Now-1y: ship the carbon ledger"),
            ("tradeoffs", "No relocation"),
        ],
    );
    discord.interaction_create(submit.clone());
    assert!(content(&callback(&discord, &submit).await).contains("Saved version 1"));
    let shared = run(
        &alice,
        "spec",
        sub("visibility", json!([text("visibility", "circle")])),
    );
    callback(&discord, &shared).await;

    // A metric, through the slash command and its choices.
    let add = run(
        &alice,
        "metric",
        sub(
            "add",
            json!([
                text("name", "posts"),
                text("type", "count"),
                text("kind", "leading"),
                text("target", "3")
            ]),
        ),
    );
    let added = content(&callback(&discord, &add).await);
    assert!(
        added.contains("Added **posts** to your scorecard: (count, leading, target 3)."),
        "{added}"
    );

    // An offer scored, taken, and shown to the circle for a second opinion.
    let evaluate = run(
        &alice,
        "opportunity",
        sub(
            "evaluate",
            json!([
                text("name", "Acme staff PM"),
                int("learning", 4),
                int("impact", 3),
                int("compensation", 4),
                int("team", 3),
                int("alignment", 4),
                text("portfolio", "big-swing")
            ]),
        ),
    );
    let scored = content(&callback(&discord, &evaluate).await);
    assert!(
        scored.contains("(against spec v2), a big swing bet"),
        "{scored}"
    );
    let decide = run(
        &alice,
        "opportunity",
        sub(
            "decide",
            json!([text("offer", "Acme staff PM"), text("decision", "taken")]),
        ),
    );
    assert!(
        content(&callback(&discord, &decide).await)
            .contains("On 20 July 2027 and again on 20 January 2028")
    );
    let share = run(
        &alice,
        "opportunity",
        sub("share", json!([text("offer", "1")])),
    );
    assert!(content(&callback(&discord, &share).await).contains("without compensation"));
    let asked = eventually("the second-opinion post", || {
        discord.messages_in(&channel).into_iter().find(|m| {
            m["content"]
                .as_str()
                .unwrap_or("")
                .contains("asks the circle for a second opinion")
        })
    })
    .await;
    assert!(
        !asked["content"].as_str().unwrap().contains("Compensation"),
        "{asked}"
    );
    let reply = discord.channel_message(
        &organiser,
        &channel,
        "Take it: that team will teach you pricing.",
        asked["id"].as_str(),
        &[],
    );
    discord.message_create(reply);
    let mut opinions = 0;
    for _ in 0..1200 {
        opinions = sqlx::query_scalar::<_, i64>("SELECT count(*) FROM opportunity_opinions")
            .fetch_one(&pool)
            .await
            .unwrap();
        if opinions > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(opinions, 1, "the reply is kept as an opinion");

    // The Q2 check-in prompt carries a Scorecard button; its form stores the quarter's values.
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
    let buttons: Vec<&str> = prompt["components"][0]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["label"].as_str().unwrap())
        .collect();
    assert_eq!(buttons, ["Answer", "Scorecard"]);
    let scorecard_id = prompt["components"][0]["components"][1]["custom_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dm = discord.dm_channel_of(&alice).unwrap();
    let press = discord.button_press(&alice, &dm, prompt["id"].as_str().unwrap(), &scorecard_id);
    discord.interaction_create(press.clone());
    let modal = callback(&discord, &press).await;
    assert_eq!(modal["type"], 9, "a form: {modal}");
    let fields = inputs(&modal);
    assert_eq!(fields.len(), 2, "{fields:?}");
    assert_eq!(fields[0].1, "posts (a count, target 3)");
    assert_eq!(fields[1].1, "Now-1y: ship the carbon ledger");
    let form_id = modal["data"]["custom_id"].as_str().unwrap().to_owned();
    let submit = discord.modal_submit_in(
        &alice,
        &dm,
        &form_id,
        &[
            (fields[0].0.as_str(), "2"),
            (fields[1].0.as_str(), "on track"),
        ],
    );
    discord.interaction_create(submit.clone());
    let stored = content(&callback(&discord, &submit).await);
    assert!(
        stored.contains("**Scorecard Q2 2027:** posts 2 · Now-1y milestone on track."),
        "{stored}"
    );
    // A DM line corrects the value.
    discord.message_create(discord.dm_message(&alice, "metric posts: 4", prompt["id"].as_str()));
    eventually("the metric reply", || {
        discord.dm_messages_to(&alice).into_iter().find(|m| {
            m["content"]
                .as_str()
                .unwrap_or("")
                .contains("**Scorecard Q2 2027:** posts 4 ✓.")
        })
    })
    .await;

    // /spec scorecard: deferred, then the table and the chart as a file.
    let card = run(&alice, "spec", sub("scorecard", json!([])));
    let deferred = callback(&discord, &card).await;
    assert_eq!(deferred["type"], 5, "{deferred}");
    let token = card["token"].as_str().unwrap().to_owned();
    let followup = eventually("the scorecard follow-up", || {
        discord
            .requests_to("POST", "/webhooks/{application_id}/{interaction_token}")
            .into_iter()
            .find(|r| r.path.contains(&token))
    })
    .await;
    assert!(
        followup.body["content"]
            .as_str()
            .unwrap_or("")
            .contains("**posts** (count, leading, target 3): Q2 2027 4 ✓"),
        "{}",
        followup.body
    );
    assert_eq!(followup.files.len(), 1);
    assert_eq!(followup.files[0].0, "scorecard.png");
    let png = png::Decoder::new(std::io::Cursor::new(followup.files[0].1.clone()))
        .read_info()
        .unwrap();
    assert_eq!((png.info().width, png.info().height), chart::size(1, 1));

    // Six months after she took the offer, at 09:00 London time, the look back; answered through its form.
    clock.set(t("2027-07-20T08:00:30Z"));
    let look_back = eventually("the 6-month question", || {
        discord.dm_messages_to(&alice).into_iter().find(|m| {
            m["content"]
                .as_str()
                .unwrap_or("")
                .contains("Six months ago you took **Acme staff PM**")
        })
    })
    .await;
    let lived_id = look_back["components"][0]["components"][0]["custom_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let press = discord.button_press(&alice, &dm, look_back["id"].as_str().unwrap(), &lived_id);
    discord.interaction_create(press.clone());
    let modal = callback(&discord, &press).await;
    assert_eq!(modal["type"], 9, "{modal}");
    let fields = inputs(&modal);
    assert_eq!(fields[0].1, "Learning: 1-5 (scored 4)");
    let submit = discord.modal_submit_in(
        &alice,
        &dm,
        modal["data"]["custom_id"].as_str().unwrap(),
        &[
            ("learning", "5"),
            ("impact", "3"),
            ("compensation", "4"),
            ("team", "3"),
            ("note", "More than I hoped."),
        ],
    );
    discord.interaction_create(submit.clone());
    let answered = content(&callback(&discord, &submit).await);
    assert!(
        answered.contains("lived 5/3/4/3 against scored 4/3/4/3"),
        "{answered}"
    );
    let list = run(&alice, "opportunity", sub("list", json!([])));
    let listed = content(&callback(&discord, &list).await);
    assert!(
        listed.contains(
            "scored 4/3/4/3 (learning/impact/compensation/team) vs lived 5/3/4/3 at 6 months"
        ) && listed.contains("1 opinion from your circle"),
        "{listed}"
    );

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
