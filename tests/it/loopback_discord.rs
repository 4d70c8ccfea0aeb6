//! The loopback Discord itself, and `DiscordChat` and serenity's client against it.

// Tests say what they expect with expect(): a failure should name the step.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use career_circle_core::chat::{
    Attachment, Button, ButtonStyle, ChatError, ChatMessage, ChatPort, Destination,
};
use career_circle_discord::chat_port::DiscordChat;
use serde_json::{Value, json};
use serenity::all::{
    ChannelId, ClientBuilder, CommandOptionType, Context, CreateAttachment, CreateCommand,
    CreateCommandOption, CreateInteractionResponse, CreateInteractionResponseFollowup,
    CreateInteractionResponseMessage, EditInteractionResponse, EventHandler, GatewayIntents,
    GuildChannel, Interaction, Message, Ready, ResumedEvent,
};
use tokio::sync::mpsc;

use crate::support::discord::spec::{self, ROUTES, match_route};
use crate::support::discord::{Fault, LoopbackDiscord};

const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long to wait for what only a busy machine delays.
const WAIT: Duration = Duration::from_secs(120);

fn chat(discord: &LoopbackDiscord) -> DiscordChat {
    DiscordChat::new(Arc::new(discord.http()), CLIENT_TIMEOUT).expect("HTTP client")
}

fn text_with_buttons(text: &str, ids: &[&str]) -> ChatMessage {
    ChatMessage {
        text: text.into(),
        buttons: ids
            .iter()
            .map(|id| Button {
                custom_id: id.to_string(),
                label: format!("Label {id}"),
                style: ButtonStyle::Primary,
            })
            .collect(),
        ..ChatMessage::default()
    }
}

fn strings(problems: Vec<spec::Problem>) -> Vec<String> {
    problems.iter().map(ToString::to_string).collect()
}

fn route_validators(method: &str, path: &str) -> &'static spec::RouteValidators {
    let (def, _) = match_route(method, path).expect("route");
    spec::spec().route(def).expect("validators")
}

#[test]
fn spec_loads_and_every_route_has_validators() {
    let spec = spec::spec();
    assert_eq!(spec.route_count(), ROUTES.len());
    for def in ROUTES {
        assert!(spec.route(def).is_some(), "{} {}", def.method, def.template);
    }
}

#[test]
fn a_good_body_passes_and_bad_ones_are_named() {
    let create = route_validators("POST", "/channels/1/messages");
    let good = json!({
        "content": "hello",
        "nonce": "abc",
        "enforce_nonce": true,
        "components": [{"type": 1, "components": [{"type": 2, "style": 1, "label": "Yes", "custom_id": "yes"}]}],
    });
    assert_eq!(create.check_request(&good), vec![]);

    let unknown = strings(create.check_request(&json!({"content": "hi", "contnet": "typo"})));
    assert_eq!(unknown, ["/contnet: unknown field"], "{unknown:#?}");

    let nested = strings(create.check_request(&json!({
        "content": "hi",
        "components": [{"type": 1, "components": [{"type": 2, "style": 1, "label": "x", "custom_id": "a", "colour": 3}]}],
    })));
    assert_eq!(
        nested,
        ["/components/0/components/0/colour: unknown field"],
        "{nested:#?}"
    );

    let wrong_type = strings(create.check_request(&json!({"content": 5})));
    assert_eq!(wrong_type.len(), 1, "{wrong_type:#?}");
    assert!(
        wrong_type[0].starts_with("/content:") && wrong_type[0].contains("string"),
        "{wrong_type:#?}"
    );

    let callback = route_validators("POST", "/interactions/1/token/callback");
    assert_eq!(
        callback.check_request(&json!({"type": 4, "data": {"content": "hi", "flags": 64}})),
        vec![]
    );
    let bad = strings(
        callback.check_request(&json!({"type": 4, "data": {"content": "hi", "flagz": 64}})),
    );
    assert_eq!(bad, ["/data/flagz: unknown field"], "{bad:#?}");
    let missing = strings(callback.check_request(&json!({"data": {"content": "hi"}})));
    assert!(
        missing
            .iter()
            .any(|m| m.contains("/type: required field missing")),
        "{missing:#?}"
    );

    // Empty leftovers of serenity's builders pass; a value in an unknown field does not.
    let commands = route_validators("PUT", "/applications/1/commands");
    let option = json!({"type": 3, "name": "mood", "description": "d", "channel_types": [], "min_value": null});
    assert_eq!(
        commands.check_request(&json!([{"name": "c", "description": "d", "options": [option]}])),
        vec![]
    );
    let typo = strings(
        commands.check_request(&json!([{"name": "c", "description": "d", "descripton": "x"}])),
    );
    assert_eq!(typo, ["/0/descripton: unknown field"], "{typo:#?}");

    let archive = route_validators("PATCH", "/channels/1");
    assert_eq!(archive.check_request(&json!({"archived": true})), vec![]);
}

#[test]
fn response_checks_catch_loopback_mistakes() {
    let archive = route_validators("PATCH", "/channels/1");
    let limited = json!({"code": 0, "message": "You are being rate limited.", "retry_after": 1.5, "global": false});
    assert_eq!(archive.check_response(429, Some(&limited)), vec![]);
    assert!(
        !archive
            .check_response(429, Some(&json!({"message": "x"})))
            .is_empty()
    );
    assert!(
        !archive
            .check_response(200, Some(&json!({"id": "1"})))
            .is_empty()
    );
}

#[tokio::test]
async fn a_bad_request_is_answered_400_and_fails_assert_all_valid() {
    let discord = LoopbackDiscord::start().await;
    let client = reqwest::Client::new();
    let url = format!(
        "{}/api/v10/channels/{}/messages",
        discord.base_url(),
        discord.channel_id()
    );
    let response = client
        .post(&url)
        .header(
            "Authorization",
            format!("Bot {}", crate::support::discord::TOKEN),
        )
        .header("Content-Type", "application/json")
        .body(json!({"content": "hi", "contnet": "typo"}).to_string())
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 400);
    let body: Value = serde_json::from_slice(&response.bytes().await.expect("body")).expect("json");
    assert_eq!(body["code"], 50035);
    assert_eq!(
        body["errors"]["contnet"]["_errors"][0]["message"], "unknown field",
        "{body}"
    );
    let errors = discord.validation_errors();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].contains("contnet"));
    assert!(discord.messages_in(&discord.channel_id()).is_empty());
    let caught =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| discord.assert_all_valid()));
    assert!(
        caught.is_err(),
        "assert_all_valid must fail on an invalid request"
    );
}

#[tokio::test]
async fn unknown_routes_are_404_and_recorded() {
    let discord = LoopbackDiscord::start().await;
    let http = discord.http();
    let error = http
        .get_guild_roles(discord.guild_id().parse::<u64>().unwrap().into())
        .await
        .expect_err("404");
    assert!(error.to_string().contains("404"), "{error}");
    let requests = discord.requests();
    assert_eq!(requests.len(), 1);
    assert!(!requests[0].validated);
    assert_eq!(requests[0].status, Some(404));
    assert_eq!(discord.validation_errors().len(), 1);
}

#[tokio::test]
async fn send_to_a_dm_opens_the_dm_once_and_posts() {
    let discord = LoopbackDiscord::start().await;
    let chat = chat(&discord);
    let alice = discord.user_id("alice").unwrap();
    let to = Destination::Dm {
        user_id: alice.clone(),
    };

    let first = chat
        .send(
            &to,
            &text_with_buttons("How did this month go?", &["done", "skip"]),
            None,
        )
        .await
        .unwrap();
    let second = chat
        .send(&to, &ChatMessage::text("Reminder"), None)
        .await
        .unwrap();

    assert_eq!(first.channel_id, second.channel_id);
    assert_eq!(
        discord.dm_channel_of(&alice),
        Some(first.channel_id.clone())
    );
    assert_eq!(
        discord.requests_to("POST", "/users/@me/channels").len(),
        1,
        "the DM channel is cached"
    );
    let messages = discord.dm_messages_to(&alice);
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["id"], json!(first.message_id));
    assert_eq!(messages[0]["content"], "How did this month go?");
    assert_eq!(
        messages[0]["components"][0]["components"][1]["custom_id"],
        "skip"
    );
    assert_eq!(discord.validated_count(), 3);
    discord.assert_all_valid();
}

#[tokio::test]
async fn send_to_a_channel_with_many_buttons_and_files() {
    let discord = LoopbackDiscord::start().await;
    let chat = chat(&discord);
    let channel_id = discord.channel_id();
    let ids: Vec<String> = (0..7).map(|i| format!("b{i}")).collect();
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut message = text_with_buttons("Quarterly check-in", &id_refs);
    message.attachments = vec![
        Attachment {
            filename: "progress.png".into(),
            bytes: vec![0x89, b'P', b'N', b'G'],
        },
        Attachment {
            filename: "notes.txt".into(),
            bytes: b"notes".to_vec(),
        },
    ];
    let posted = chat
        .send(
            &Destination::Channel {
                channel_id: channel_id.clone(),
            },
            &message,
            None,
        )
        .await
        .unwrap();
    assert_eq!(posted.channel_id, channel_id);

    let requests = discord.requests_to("POST", "/channels/{channel_id}/messages");
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert!(request.validated, "{:?}", request.errors);
    assert_eq!(
        request.files,
        vec![
            ("progress.png".to_string(), vec![0x89, b'P', b'N', b'G']),
            ("notes.txt".to_string(), b"notes".to_vec())
        ]
    );
    let rows = request.body["components"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "seven buttons make two rows");
    assert_eq!(rows[0]["components"].as_array().unwrap().len(), 5);

    let stored = discord.messages_in(&channel_id);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["attachments"][1]["filename"], "notes.txt");
    assert_eq!(stored[0]["attachments"][1]["size"], 5);
    discord.assert_all_valid();
}

#[tokio::test]
async fn a_repeated_nonce_returns_the_first_message() {
    let discord = LoopbackDiscord::start().await;
    let chat = chat(&discord);
    let to = Destination::Channel {
        channel_id: discord.channel_id(),
    };
    let message = ChatMessage::text("Monthly nudge");
    let first = chat.send(&to, &message, Some("delivery-42")).await.unwrap();
    let again = chat.send(&to, &message, Some("delivery-42")).await.unwrap();
    let other = chat.send(&to, &message, Some("delivery-43")).await.unwrap();
    assert_eq!(first, again);
    assert_ne!(first.message_id, other.message_id);
    assert_eq!(discord.messages_in(&discord.channel_id()).len(), 2);
    let body = &discord.requests_to("POST", "/channels/{channel_id}/messages")[0].body;
    assert_eq!(body["nonce"], "delivery-42");
    assert_eq!(body["enforce_nonce"], true);
    discord.assert_all_valid();
}

#[tokio::test]
async fn a_nonce_stops_deduping_after_the_window() {
    let discord = LoopbackDiscord::start().await;
    discord.set_nonce_window(Duration::from_millis(50));
    let chat = chat(&discord);
    let to = Destination::Channel {
        channel_id: discord.channel_id(),
    };
    let first = chat
        .send(&to, &ChatMessage::text("x"), Some("n1"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let later = chat
        .send(&to, &ChatMessage::text("x"), Some("n1"))
        .await
        .unwrap();
    assert_ne!(first.message_id, later.message_id);
    discord.assert_all_valid();
}

#[tokio::test]
async fn faults_map_to_chat_errors() {
    let discord = LoopbackDiscord::start().await;
    let chat = chat(&discord);
    let route = "/channels/{channel_id}/messages";
    let to = Destination::Channel {
        channel_id: discord.channel_id(),
    };
    let message = ChatMessage::text("hello");

    discord.fail_next(
        "POST",
        route,
        Fault::RateLimited {
            retry_after_secs: 2.75,
            global: false,
        },
        1,
    );
    assert_eq!(
        chat.send(&to, &message, None).await,
        Err(ChatError::RateLimited {
            retry_after: Duration::from_millis(2750)
        })
    );
    discord.fail_next(
        "POST",
        route,
        Fault::RateLimited {
            retry_after_secs: 0.5,
            global: true,
        },
        1,
    );
    // A bot-wide 429 is told apart from one route's: it holds everything, the other only its target.
    assert_eq!(
        chat.send(&to, &message, None).await,
        Err(ChatError::GloballyRateLimited {
            retry_after: Duration::from_millis(500)
        })
    );

    discord.fail_next("POST", route, Fault::ServerError, 1);
    assert!(matches!(
        chat.send(&to, &message, None).await,
        Err(ChatError::Transient(_))
    ));

    discord.fail_next("POST", route, Fault::CannotDm, 1);
    assert_eq!(
        chat.send(&to, &message, None).await,
        Err(ChatError::CannotDm)
    );

    discord.fail_next("POST", route, Fault::MissingPermissions, 1);
    assert_eq!(
        chat.send(&to, &message, None).await,
        Err(ChatError::MissingPermissions)
    );

    let missing = chat
        .send(
            &Destination::Channel {
                channel_id: "123".into(),
            },
            &message,
            None,
        )
        .await;
    assert!(
        matches!(missing, Err(ChatError::NotFound(_))),
        "{missing:?}"
    );

    // Nothing above created a message; the next send goes through.
    assert!(discord.messages_in(&discord.channel_id()).is_empty());
    chat.send(&to, &message, None).await.unwrap();
    assert_eq!(discord.messages_in(&discord.channel_id()).len(), 1);
    discord.assert_all_valid();
}

#[tokio::test]
async fn a_timeout_is_transient_and_the_nonce_makes_the_retry_safe() {
    let discord = LoopbackDiscord::start().await;
    let chat = DiscordChat::new(Arc::new(discord.http()), Duration::from_millis(300)).unwrap();
    let to = Destination::Channel {
        channel_id: discord.channel_id(),
    };
    let message = ChatMessage::text("slow");
    discord.fail_next(
        "POST",
        "/channels/{channel_id}/messages",
        Fault::Timeout {
            hold: Duration::from_secs(1),
        },
        1,
    );
    let timed_out = chat.send(&to, &message, Some("retry-me")).await;
    assert!(
        matches!(&timed_out, Err(ChatError::Transient(why)) if why.contains("in time")),
        "{timed_out:?}"
    );
    // Discord did create it; the retry gets the same message back.
    let retried = chat.send(&to, &message, Some("retry-me")).await.unwrap();
    let stored = discord.messages_in(&discord.channel_id());
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["id"], json!(retried.message_id));
    discord.assert_all_valid();
}

#[tokio::test]
async fn closed_dms_are_cannot_dm() {
    let discord = LoopbackDiscord::start().await;
    let chat = chat(&discord);
    let bob = discord.user_id("bob").unwrap();
    discord.close_dms(&bob);
    let result = chat
        .send(
            &Destination::Dm { user_id: bob },
            &ChatMessage::text("hi"),
            None,
        )
        .await;
    assert_eq!(result, Err(ChatError::CannotDm));
    assert!(ChatError::CannotDm.is_permanent());
    discord.assert_all_valid();
}

#[tokio::test]
async fn threads_open_public_and_archive() {
    let discord = LoopbackDiscord::start().await;
    let chat = chat(&discord);
    let channel_id = discord.channel_id();
    let opened = chat
        .open_thread(&channel_id, "Review: alice, Q3")
        .await
        .unwrap();
    let thread_id = opened.channel_id.clone();
    let thread = discord.channel(&thread_id).unwrap();
    assert_eq!(thread["type"], 11);
    assert_eq!(thread["parent_id"], json!(channel_id));
    assert_eq!(thread["thread_metadata"]["auto_archive_duration"], 10080);
    assert_eq!(thread["thread_metadata"]["archived"], false);
    let body = &discord.requests_to("POST", "/channels/{channel_id}/threads")[0].body;
    assert_eq!(body["type"], 11);

    chat.send(
        &Destination::Thread(opened.clone()),
        &ChatMessage::text("Feedback, please"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(discord.messages_in(&thread_id).len(), 1);

    chat.close_thread(&opened, &"closed".into()).await.unwrap();
    assert_eq!(
        discord.channel(&thread_id).unwrap()["thread_metadata"]["archived"],
        true
    );
    assert_eq!(discord.threads_in(&channel_id).len(), 1);
    assert_eq!(
        discord.requests_to("PATCH", "/channels/{channel_id}")[0].body,
        json!({"archived": true})
    );

    let long = "x".repeat(150);
    let second = chat
        .open_thread(&channel_id, &long)
        .await
        .unwrap()
        .channel_id;
    assert_eq!(
        discord.channel(&second).unwrap()["name"]
            .as_str()
            .unwrap()
            .len(),
        100
    );
    discord.assert_all_valid();
}

#[tokio::test]
async fn gateway_payloads_deserialize_into_serenity_models() {
    let discord = LoopbackDiscord::start().await;
    let alice = discord.user_id("alice").unwrap();
    let channel_id = discord.channel_id();

    let command = discord.slash_command(
        &alice,
        &channel_id,
        "checkin",
        json!([{"name": "mood", "type": 3, "value": "good"}, {"name": "buddy", "type": 6, "value": discord.user_id("bob").unwrap()}]),
    );
    let Interaction::Command(command) =
        serde_json::from_value::<Interaction>(command).expect("command")
    else {
        panic!("not a command")
    };
    assert_eq!(command.data.name, "checkin");
    assert_eq!(command.user.name, "alice");
    assert!(command.member.is_some());
    assert_eq!(command.data.options().len(), 2);

    let chat = chat(&discord);
    let posted = chat
        .send(
            &Destination::Dm {
                user_id: alice.clone(),
            },
            &text_with_buttons("Prompt", &["done"]),
            None,
        )
        .await
        .unwrap();
    let press = discord.button_press(&alice, &posted.channel_id, &posted.message_id, "done");
    let Interaction::Component(press) =
        serde_json::from_value::<Interaction>(press).expect("button")
    else {
        panic!("not a component")
    };
    assert_eq!(press.data.custom_id, "done");
    assert!(press.member.is_none());
    assert_eq!(press.user.id.to_string(), alice);
    assert_eq!(press.message.id.to_string(), posted.message_id);

    let modal = discord.modal_submit(
        &alice,
        "checkin-modal",
        &[("progress", "shipped it"), ("blockers", "none")],
    );
    let Interaction::Modal(modal) = serde_json::from_value::<Interaction>(modal).expect("modal")
    else {
        panic!("not a modal")
    };
    assert_eq!(modal.data.custom_id, "checkin-modal");
    assert_eq!(modal.data.components.len(), 2);

    let dm = discord.dm_message(
        &alice,
        "Done: sent 3 applications",
        Some(&posted.message_id),
    );
    let dm: Message = serde_json::from_value(dm).expect("dm message");
    assert_eq!(
        dm.referenced_message.as_ref().map(|m| m.id.to_string()),
        Some(posted.message_id.clone())
    );
    assert!(dm.guild_id.is_none());

    let bob = discord.user_id("bob").unwrap();
    let said = discord.channel_message(&bob, &channel_id, "great job <@alice>", None, &[&alice]);
    let said: Message = serde_json::from_value(said).expect("channel message");
    assert_eq!(said.mentions.len(), 1);
    assert!(said.guild_id.is_some());
    assert!(said.member.is_some());
    discord.assert_all_valid();
}

/// Forwards what serenity's client receives to the test.
struct Forward(mpsc::UnboundedSender<Seen>);

#[derive(Debug)]
enum Seen {
    Ready(String),
    GuildChannels(usize),
    Message(Message),
    Interaction(Interaction),
    Resumed,
}

impl Forward {
    fn tell(&self, seen: Seen) {
        // A test that already has what it wanted may have dropped its receiver.
        if self.0.send(seen).is_err() {}
    }
}

#[serenity::async_trait]
impl EventHandler for Forward {
    async fn ready(&self, _: Context, ready: Ready) {
        self.tell(Seen::Ready(ready.session_id));
    }

    async fn guild_create(&self, _: Context, guild: serenity::all::Guild, _: Option<bool>) {
        self.tell(Seen::GuildChannels(guild.channels.len()));
    }

    async fn message(&self, _: Context, message: Message) {
        self.tell(Seen::Message(message));
    }

    async fn interaction_create(&self, _: Context, interaction: Interaction) {
        self.tell(Seen::Interaction(interaction));
    }

    async fn resume(&self, _: Context, _: ResumedEvent) {
        self.tell(Seen::Resumed);
    }
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("event in time")
        .expect("client alive")
}

#[tokio::test]
async fn serenity_client_connects_receives_and_resumes() {
    let discord = LoopbackDiscord::start().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let intents = GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT;
    let mut client = ClientBuilder::new_with_http(discord.http(), intents)
        .event_handler(Forward(tx))
        .await
        .expect("client");
    let shards = client.shard_manager.clone();
    let running = tokio::spawn(async move { client.start().await });

    assert!(discord.wait_connected(WAIT).await, "client connected");
    let Seen::Ready(session) = next(&mut rx).await else {
        panic!("READY first")
    };
    let Seen::GuildChannels(channels) = next(&mut rx).await else {
        panic!("GUILD_CREATE second")
    };
    assert_eq!(channels, 2);

    let alice = discord.user_id("alice").unwrap();
    let sent = discord.message_create(discord.channel_message(
        &alice,
        &discord.channel_id(),
        "hello circle",
        None,
        &[],
    ));
    assert_eq!(sent, 1);
    let Seen::Message(message) = next(&mut rx).await else {
        panic!("MESSAGE_CREATE")
    };
    assert_eq!(message.content, "hello circle");

    let command = discord.slash_command(&alice, &discord.channel_id(), "spec", json!([]));
    discord.interaction_create(command);
    let Seen::Interaction(Interaction::Command(command)) = next(&mut rx).await else {
        panic!("INTERACTION_CREATE")
    };
    assert_eq!(command.data.name, "spec");

    // The handler answers through serenity's own builders: type 4 and a follow-up, both valid.
    let http = discord.http();
    command
        .create_response(
            &http,
            CreateInteractionResponse::Message(
                CreateInteractionResponseMessage::new()
                    .content("Your spec")
                    .ephemeral(true),
            ),
        )
        .await
        .expect("callback");
    command
        .create_followup(
            &http,
            CreateInteractionResponseFollowup::new().content("More"),
        )
        .await
        .expect("followup");
    let original = discord
        .original_response(&command.token)
        .expect("original message");
    assert_eq!(original["content"], "Your spec");
    assert_eq!(original["flags"], 64);

    discord.drop_gateway();
    assert!(
        discord
            .wait_for_gateway(WAIT, |s| s.resumes == 1 && s.ready_connections == 1)
            .await,
        "client resumed"
    );
    let Seen::Resumed = next(&mut rx).await else {
        panic!("RESUMED")
    };
    assert_eq!(
        discord.gateway_stats().identifies,
        1,
        "resumed, not re-identified"
    );
    let resume = discord
        .gateway_frames()
        .into_iter()
        .find(|f| f["op"] == 6)
        .expect("RESUME frame");
    assert_eq!(resume["d"]["session_id"], json!(session));

    discord.message_create(discord.dm_message(&alice, "after the drop", None));
    let Seen::Message(message) = next(&mut rx).await else {
        panic!("MESSAGE_CREATE after resume")
    };
    assert_eq!(message.content, "after the drop");

    shards.shutdown_all().await;
    running
        .await
        .expect("client task")
        .expect("client stops cleanly");
    discord.assert_all_valid();
}

#[tokio::test]
async fn serenity_interaction_flows_validate() {
    let discord = LoopbackDiscord::start().await;
    let http = discord.http();
    let alice = discord.user_id("alice").unwrap();

    // Commands as poise registers them.
    let commands = vec![
        CreateCommand::new("checkin")
            .description("Record a check-in")
            .add_option(
                CreateCommandOption::new(CommandOptionType::String, "mood", "How it went")
                    .required(true),
            ),
        CreateCommand::new("organise")
            .description("Organiser settings")
            .default_member_permissions(serenity::all::Permissions::MANAGE_GUILD),
    ];
    let registered = serenity::all::Command::set_global_commands(&http, commands.clone())
        .await
        .expect("global commands");
    assert_eq!(registered.len(), 2);
    let guild = serenity::all::GuildId::new(discord.guild_id().parse().unwrap());
    guild
        .set_commands(&http, commands)
        .await
        .expect("guild commands");

    // Deferred, then edited; with a file.
    let payload = discord.slash_command(
        &alice,
        &discord.channel_id(),
        "checkin",
        json!([{"name": "mood", "type": 3, "value": "ok"}]),
    );
    discord.interaction_create(payload.clone());
    let Interaction::Command(command) = serde_json::from_value::<Interaction>(payload).unwrap()
    else {
        panic!()
    };
    command.defer(&http).await.expect("defer");
    command
        .edit_response(
            &http,
            EditInteractionResponse::new()
                .content("Saved")
                .new_attachment(CreateAttachment::bytes(b"csv".to_vec(), "checkins.csv")),
        )
        .await
        .expect("edit original");
    let original = discord.original_response(&command.token).unwrap();
    assert_eq!(original["content"], "Saved");
    assert_eq!(original["attachments"][0]["filename"], "checkins.csv");
    assert!(
        command
            .create_response(&http, CreateInteractionResponse::Acknowledge)
            .await
            .is_err(),
        "second callback refused"
    );

    // A modal in answer to a command.
    let payload = discord.slash_command(&alice, &discord.channel_id(), "checkin", json!([]));
    let Interaction::Command(command) =
        serde_json::from_value::<Interaction>(payload.clone()).unwrap()
    else {
        panic!()
    };
    discord.interaction_create(payload);
    let modal = serenity::all::CreateModal::new("checkin-modal", "Check-in").components(vec![
        serenity::all::CreateActionRow::InputText(
            serenity::all::CreateInputText::new(
                serenity::all::InputTextStyle::Paragraph,
                "Progress",
                "progress",
            )
            .required(true)
            .max_length(4000)
            .value("draft"),
        ),
    ]);
    command
        .create_response(&http, CreateInteractionResponse::Modal(modal))
        .await
        .expect("modal");

    // A button press answered by updating the message, with a file (multipart callback).
    let chat = chat(&discord);
    let posted = chat
        .send(
            &Destination::Dm {
                user_id: alice.clone(),
            },
            &text_with_buttons("Prompt", &["done"]),
            None,
        )
        .await
        .unwrap();
    let payload = discord.button_press(&alice, &posted.channel_id, &posted.message_id, "done");
    discord.interaction_create(payload.clone());
    let Interaction::Component(press) = serde_json::from_value::<Interaction>(payload).unwrap()
    else {
        panic!()
    };
    press
        .create_response(
            &http,
            CreateInteractionResponse::UpdateMessage(
                CreateInteractionResponseMessage::new()
                    .content("Thanks!")
                    .components(vec![])
                    .add_file(CreateAttachment::bytes(b"x".to_vec(), "receipt.txt")),
            ),
        )
        .await
        .expect("update");
    let updated = discord.dm_messages_to(&alice)[0].clone();
    assert_eq!(updated["content"], "Thanks!");
    assert_eq!(updated["components"], json!([]));

    // Serenity's typed send with a reply, and fetching it back.
    let channel = ChannelId::new(discord.channel_id().parse().unwrap());
    let first = channel.say(&http, "first").await.expect("say");
    let reply = channel
        .send_message(
            &http,
            serenity::all::CreateMessage::new()
                .content("reply")
                .reference_message(&first),
        )
        .await
        .expect("reply");
    let fetched = channel.message(&http, reply.id).await.expect("get message");
    assert_eq!(fetched.referenced_message.map(|m| m.id), Some(first.id));
    let _: GuildChannel = channel
        .to_channel(&http)
        .await
        .expect("get channel")
        .guild()
        .expect("guild channel");
    http.get_current_user().await.expect("users/@me");
    http.get_current_application_info()
        .await
        .expect("application");
    discord.assert_all_valid();
}

#[tokio::test]
async fn more_serenity_rest_routes_validate() {
    let discord = LoopbackDiscord::start().await;
    let http = discord.http();
    let channel = ChannelId::new(discord.channel_id().parse().unwrap());

    let gateway = http.get_bot_gateway().await.expect("gateway/bot");
    assert_eq!(gateway.url, discord.gateway_url());

    let starter = channel.say(&http, "Q3 review").await.expect("say");
    let thread = channel
        .create_thread_from_message(
            &http,
            starter.id,
            serenity::all::CreateThread::new("Q3 review"),
        )
        .await
        .expect("thread from message");
    assert_eq!(
        thread.id.get(),
        starter.id.get(),
        "Discord gives the thread the message's id"
    );
    let again = channel
        .create_thread_from_message(&http, starter.id, serenity::all::CreateThread::new("again"))
        .await;
    assert!(again.is_err(), "one thread per message");
    assert_eq!(
        discord.messages_in(&discord.channel_id())[0]["thread"]["id"],
        json!(thread.id.to_string())
    );

    let edited = channel
        .edit_message(
            &http,
            starter.id,
            serenity::all::EditMessage::new()
                .content("Q3 review (closed)")
                .components(vec![]),
        )
        .await
        .expect("edit");
    assert_eq!(edited.content, "Q3 review (closed)");

    let embed = serenity::all::CreateEmbed::new()
        .title("Alice's spec")
        .description("Ship the portfolio")
        .field("Goal", "3 applications", true)
        .field("Due", "Friday", false)
        .footer(serenity::all::CreateEmbedFooter::new("career-circle"))
        .colour(0x5865F2)
        .timestamp(serenity::all::Timestamp::now());
    let with_embed = channel
        .send_message(
            &http,
            serenity::all::CreateMessage::new()
                .embed(embed)
                .allowed_mentions(serenity::all::CreateAllowedMentions::new()),
        )
        .await
        .expect("embed");
    assert_eq!(with_embed.embeds[0].fields.len(), 2);

    let commands = vec![CreateCommand::new("spec").description("Show a spec")];
    serenity::all::Command::set_global_commands(&http, commands)
        .await
        .expect("register");
    let listed = serenity::all::Command::get_global_commands(&http)
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);

    // A follow-up, then an edit of it.
    let alice = discord.user_id("alice").unwrap();
    let payload = discord.slash_command(&alice, &discord.channel_id(), "spec", json!([]));
    discord.interaction_create(payload.clone());
    let Interaction::Command(command) = serde_json::from_value::<Interaction>(payload).unwrap()
    else {
        panic!()
    };
    command.defer_ephemeral(&http).await.expect("defer");
    let followup = command
        .create_followup(
            &http,
            CreateInteractionResponseFollowup::new().content("one"),
        )
        .await
        .unwrap();
    command
        .edit_followup(
            &http,
            followup.id,
            CreateInteractionResponseFollowup::new().content("two"),
        )
        .await
        .expect("edit follow-up");
    let message = command.get_response(&http).await.expect("get original");
    assert!(
        message
            .flags
            .is_some_and(|f| f.contains(serenity::all::MessageFlags::EPHEMERAL))
    );
    discord.assert_all_valid();
}

#[tokio::test]
async fn late_interaction_answers_are_refused_like_discord() {
    let discord = LoopbackDiscord::start().await;
    discord.set_interaction_deadline(Duration::from_millis(50));
    let http = discord.http();
    let alice = discord.user_id("alice").unwrap();
    let payload = discord.slash_command(&alice, &discord.channel_id(), "spec", json!([]));
    discord.interaction_create(payload.clone());
    let Interaction::Command(command) = serde_json::from_value::<Interaction>(payload).unwrap()
    else {
        panic!()
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let late = command.defer(&http).await.expect_err("too late");
    assert!(late.to_string().contains("Unknown interaction"), "{late}");
    discord.assert_all_valid();
}

/// The gateway protocol without serenity: intents decide what arrives, heartbeats are acked,
/// a resume of an unknown session is refused.
#[tokio::test]
async fn raw_gateway_protocol() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as Frame;

    let discord = LoopbackDiscord::start().await;
    discord.set_heartbeat_interval(Duration::from_millis(500));
    let url = format!("{}/?v=10&encoding=json", discord.gateway_url());
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .expect("connect");
    async fn recv(
        ws: &mut (impl StreamExt<Item = Result<Frame, tokio_tungstenite::tungstenite::Error>> + Unpin),
    ) -> Value {
        loop {
            let frame = tokio::time::timeout(WAIT, ws.next())
                .await
                .expect("frame in time")
                .expect("open")
                .expect("frame");
            if let Frame::Text(text) = frame {
                return serde_json::from_str(&text).expect("json");
            }
        }
    }
    let hello = recv(&mut ws).await;
    assert_eq!(hello["op"], 10);
    assert_eq!(hello["d"]["heartbeat_interval"], 500);

    // GUILD_MESSAGES but neither GUILDS, DIRECT_MESSAGES nor MESSAGE_CONTENT.
    let identify = json!({"op": 2, "d": {"token": crate::support::discord::TOKEN, "intents": 1 << 9, "properties": {"os": "linux", "browser": "test", "device": "test"}}});
    ws.send(Frame::Text(identify.to_string())).await.unwrap();
    let ready = recv(&mut ws).await;
    assert_eq!(
        (ready["t"].as_str(), ready["s"].as_u64()),
        (Some("READY"), Some(1))
    );
    let _: Ready = serde_json::from_value(ready["d"].clone()).expect("serenity reads READY");

    ws.send(Frame::Text(json!({"op": 1, "d": 1}).to_string()))
        .await
        .unwrap();
    assert_eq!(recv(&mut ws).await["op"], 11);

    let alice = discord.user_id("alice").unwrap();
    assert_eq!(
        discord.message_create(discord.dm_message(&alice, "private", None)),
        0,
        "no DIRECT_MESSAGES intent"
    );
    discord.message_create(discord.channel_message(
        &alice,
        &discord.channel_id(),
        "secret plans",
        None,
        &[],
    ));
    let guild_message = recv(&mut ws).await;
    assert_eq!(guild_message["t"], "MESSAGE_CREATE");
    assert_eq!(guild_message["s"], 2, "no GUILD_CREATE without GUILDS");
    assert_eq!(
        guild_message["d"]["content"], "",
        "no MESSAGE_CONTENT intent"
    );
    let bot = discord.bot_user_id();
    discord.message_create(discord.channel_message(
        &alice,
        &discord.channel_id(),
        "hey bot",
        None,
        &[&bot],
    ));
    assert_eq!(
        recv(&mut ws).await["d"]["content"],
        "hey bot",
        "mentions carry content"
    );

    let (mut other, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .expect("connect");
    recv(&mut other).await;
    let resume = json!({"op": 6, "d": {"token": crate::support::discord::TOKEN, "session_id": "nope", "seq": 1}});
    other.send(Frame::Text(resume.to_string())).await.unwrap();
    let refused = recv(&mut other).await;
    assert_eq!(
        (refused["op"].as_u64(), refused["d"].as_bool()),
        (Some(9), Some(false))
    );
    discord.assert_all_valid();
}

#[tokio::test]
async fn spec_problems_are_reported_as_discord_errors_through_serenity() {
    let discord = LoopbackDiscord::start().await;
    let http = discord.http();
    let channel = ChannelId::new(discord.channel_id().parse().unwrap());
    let too_long = "x".repeat(2001);
    // serenity's builders refuse this themselves; a raw body shows the loopback catches it too.
    let error = http
        .send_message(channel, vec![], &json!({"content": too_long}))
        .await
        .expect_err("over 2000 characters");
    assert!(error.to_string().contains("content"), "{error}");
    let errors = discord.validation_errors();
    assert!(
        errors.len() == 1 && errors[0].contains("BASE_TYPE_MAX_LENGTH"),
        "{errors:#?}"
    );
}
