//! The app manifest, written from the command table: one paste in Slack's "Create an app > From a manifest" gives
//! the bot user, every slash command, the scopes every method the adapter calls needs, the events it handles,
//! interactivity, the Messages tab and Socket Mode.

use serde_json::{Value, json};

use career_circle_core::chat::commands::table::{COMMANDS, UMBRELLA};

/// Each Web API method the adapter calls, with the bot scope it needs (None: no scope, or the app-level token's
/// `connections:write`). A test holds the adapter to this list.
pub const METHODS: &[(&str, Option<&str>)] = &[
    ("auth.test", None),
    ("apps.connections.open", None),
    ("conversations.open", Some("im:write")),
    ("conversations.join", Some("channels:join")),
    ("conversations.history", Some("channels:history")),
    ("conversations.replies", Some("channels:history")),
    ("chat.postMessage", Some("chat:write")),
    ("chat.update", Some("chat:write")),
    ("views.open", None),
    ("views.publish", None),
    ("users.info", Some("users:read")),
    ("files.getUploadURLExternal", Some("files:write")),
    ("files.completeUploadExternal", Some("files:write")),
];

/// Bot scopes: the methods' and the events' (history scopes for DMs and private channels, `commands`).
pub const SCOPES: &[&str] = &[
    "commands",
    "chat:write",
    "im:write",
    "im:history",
    "channels:history",
    "groups:history",
    "channels:join",
    "users:read",
    "files:write",
];

pub const BOT_EVENTS: &[&str] = &[
    "message.im",
    "message.channels",
    "message.groups",
    "app_home_opened",
    "user_change",
    "tokens_revoked",
    "app_uninstalled",
];

/// The slash commands: each family Slack lets the bot have under its own name, and the umbrella command that
/// reaches every family (the only way to the ones Slack reserves, `/me` and `/help`).
pub fn commands() -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = COMMANDS
        .iter()
        .filter(|f| f.own_slack_command)
        .map(|f| {
            // Slack wants a hint of at least one character: a command by itself lists its options.
            let hint = if f.is_single() {
                f.leaves
                    .iter()
                    .flat_map(|l| l.options)
                    .map(|o| {
                        if o.required {
                            format!("{}:…", o.name)
                        } else {
                            format!("[{}:…]", o.name)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                f.leaves
                    .iter()
                    .map(|l| l.name)
                    .collect::<Vec<_>>()
                    .join(" | ")
            };
            let hint = if hint.is_empty() {
                f.description.to_owned()
            } else {
                hint
            };
            (format!("/{}", f.name), f.description.to_owned(), hint)
        })
        .collect();
    let families: Vec<&str> = COMMANDS.iter().map(|f| f.name).collect();
    out.push((
        format!("/{UMBRELLA}"),
        "Every career-circle command: me, help, and the rest.".to_owned(),
        families.join(" | "),
    ));
    out
}

/// The manifest as JSON (Slack accepts JSON or YAML).
pub fn manifest(name: &str) -> Value {
    let slash: Vec<Value> = commands()
        .into_iter()
        .map(|(command, description, hint)| {
            json!({
                "command": command,
                "description": description.chars().take(100).collect::<String>(),
                "usage_hint": hint.chars().take(100).collect::<String>(),
                // Users and channels arrive as ids (<@U123|name>), so the grammar reads them exactly.
                "should_escape": true,
            })
        })
        .collect();
    json!({
        "display_information": {
            "name": name,
            "description": "Accountability for career support circles: career specs, monthly nudges, check-ins and peer reviews.",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": true,
                "messages_tab_enabled": true,
                "messages_tab_read_only_enabled": false,
            },
            "bot_user": { "display_name": name, "always_online": true },
            "slash_commands": slash,
        },
        "oauth_config": { "scopes": { "bot": SCOPES } },
        "settings": {
            "event_subscriptions": { "bot_events": BOT_EVENTS },
            "interactivity": { "is_enabled": true },
            "org_deploy_enabled": false,
            "socket_mode_enabled": true,
            "token_rotation_enabled": false,
        },
    })
}
