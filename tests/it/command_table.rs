//! One command table drives every platform: each command in it is registered with Discord and read back from a
//! Discord interaction, typed in the console's grammar, and named by /help, and each parses to itself.

use career_circle_core::chat::commands::table::{self, Kind, Opt};
use career_circle_core::chat::commands::{Command, Invocation, grammar, help_text};
use career_circle_discord::commands::{invocation, registration};
use serde_json::{Value, json};

use crate::support::Words as _;
use crate::support::discord::LoopbackDiscord;

/// A value each kind of option accepts.
fn sample(o: &Opt, user: &str, channel: &str) -> String {
    match o.kind {
        Kind::Text if !o.choices.is_empty() => o.choices[0].to_owned(),
        Kind::Text if o.zones => "Europe/London".to_owned(),
        Kind::Text => "words".to_owned(),
        Kind::Integer => o.min.unwrap_or(1).to_string(),
        Kind::Boolean => "true".to_owned(),
        Kind::User => user.to_owned(),
        Kind::Channel => channel.to_owned(),
    }
}

fn discord_option(o: &Opt, user: &str, channel: &str) -> Value {
    let (kind, value) = match o.kind {
        Kind::Text => (3, json!(sample(o, user, channel))),
        Kind::Integer => (4, json!(o.min.unwrap_or(1))),
        Kind::Boolean => (5, json!(true)),
        Kind::User => (6, json!(user)),
        Kind::Channel => (7, json!(channel)),
    };
    json!({"type": kind, "name": o.name, "value": value})
}

#[tokio::test]
async fn every_command_is_reachable_from_discord_the_console_and_help() {
    let discord = LoopbackDiscord::start().await;
    let seeds = discord.seeds();
    let (user, channel) = (seeds.member_ids[0].clone(), seeds.channel_id.clone());
    let registered: Vec<Value> = registration()
        .into_iter()
        .map(|c| serde_json::to_value(c).unwrap())
        .collect();
    let help = help_text().markdown();
    let mut count = 0;
    for (family, leaf) in table::all() {
        let path = table::path(family, leaf);
        count += 1;

        // Discord: registered, and an interaction carrying every option reads back as this command.
        let command = registered
            .iter()
            .find(|c| c["name"] == json!(family.name))
            .unwrap_or_else(|| panic!("/{} is not registered", family.name));
        let options: Vec<Value> = leaf
            .options
            .iter()
            .map(|o| discord_option(o, &user, &channel))
            .collect();
        let payload = if leaf.name.is_empty() {
            discord.slash_command(&user, &channel, family.name, json!(options))
        } else {
            assert!(
                command["options"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|o| o["name"] == json!(leaf.name) && o["type"] == json!(1)),
                "/{path} is not a registered subcommand"
            );
            discord.slash_command(
                &user,
                &channel,
                family.name,
                json!([{"type": 1, "name": leaf.name, "options": options}]),
            )
        };
        let interaction: serenity::all::Interaction = serde_json::from_value(payload).unwrap();
        let serenity::all::Interaction::Command(cmd) = interaction else {
            panic!("a slash command interaction");
        };
        let parsed = Command::parse(invocation(&cmd))
            .unwrap_or_else(|e| panic!("/{path} from Discord: {}", e.markdown()));
        assert_eq!(parsed.path(), path, "Discord");

        // The console: typed with every option as name:value.
        let typed = leaf
            .options
            .iter()
            .map(|o| format!("{}:\"{}\"", o.name, sample(o, &user, &channel)))
            .collect::<Vec<_>>()
            .join(" ");
        let same = |_: Kind, v: &str| v.to_owned();
        let parsed = grammar::parse(&format!("/{path} {typed}"), &same)
            .and_then(Command::parse)
            .unwrap_or_else(|e| panic!("/{path} in the console: {}", e.markdown()));
        assert_eq!(parsed.path(), path, "console");

        // /help names it.
        assert!(help.contains(&format!("`/{path}")), "/help omits /{path}");
    }
    assert_eq!(
        count, 49,
        "the table's size changed: update this test's expectations"
    );
    assert!(
        help.chars().count() <= career_circle_discord::CAPABILITIES.message_max,
        "/help fits one Discord message whole"
    );
    assert_eq!(registered.len(), table::COMMANDS.len());
}

#[test]
fn a_bad_invocation_says_what_to_type() {
    let unknown = Invocation {
        family: "circel".to_owned(),
        ..Invocation::default()
    };
    let err = Command::parse(unknown).unwrap_err().markdown();
    assert!(err.contains("did you mean /circle?"), "{err}");
    let same = |_: Kind, v: &str| v.to_owned();
    let missing = grammar::parse("/commit add", &same).and_then(Command::parse);
    assert!(
        missing
            .unwrap_err()
            .markdown()
            .contains("/commit add needs title")
    );
    let typo = grammar::parse("/circle settings circle:x shedule:deep_dive", &same)
        .and_then(Command::parse)
        .unwrap_err()
        .markdown();
    assert!(typo.contains("Did you mean schedule:?"), "{typo}");
    let range = grammar::parse(
        "/opportunity evaluate name:x learning:9 impact:1 compensation:1 team:1 alignment:1",
        &same,
    )
    .and_then(Command::parse)
    .unwrap_err()
    .markdown();
    assert!(range.contains("9 is outside 1 to 5"), "{range}");
    // The old demo stored "/checkin show" as check-in text; now it is the command it names.
    assert_eq!(
        grammar::parse("/checkin show", &same)
            .and_then(Command::parse)
            .unwrap(),
        Command::CheckinShow {
            member: None,
            quarter: None
        }
    );
}
