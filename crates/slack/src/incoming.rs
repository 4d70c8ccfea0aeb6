//! What Slack sent, read once into the bot's terms: who acts (an `Actor`), and what they did. The handlers act on
//! this, never on raw JSON; a test runs every real payload Slack's SDKs hold through it.

use serde_json::Value;

use career_circle_core::app::{Actor, Platform};
use career_circle_core::chat::commands::table::UMBRELLA;

use crate::render;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A slash command, as the line the command table's grammar reads (`circle create name:...`).
    Command {
        actor: Actor,
        line: String,
        trigger_id: Option<String>,
        response_url: Option<String>,
    },
    /// A button press.
    Press {
        actor: Actor,
        action_id: String,
        trigger_id: Option<String>,
        response_url: Option<String>,
    },
    /// A modal's values, by field id (`view.state.values[block][action]`).
    Submit {
        actor: Actor,
        callback_id: String,
        fields: Vec<(String, String)>,
    },
    /// A member's message in their DM with the bot; `thread_ts` when it replies in a thread.
    Dm {
        actor: Actor,
        channel: String,
        ts: String,
        text: String,
        thread_ts: Option<String>,
    },
    /// A member's reply in a channel thread.
    ThreadReply {
        actor: Actor,
        channel: String,
        root: String,
        ts: String,
        text: String,
        mentions: Vec<String>,
    },
    /// A user's profile changed; `tz` is their zone there now.
    UserChanged { user_id: String, tz: Option<String> },
    /// A member opened the bot's Home tab: their dashboard is published.
    HomeOpened { actor: Actor },
    /// The install went away (`tokens_revoked`, `app_uninstalled`): the workspace's circles pause.
    Uninstalled { team: Option<String> },
    /// Nothing for the bot, and why (a bot's message, an edit, a shortcut it does not offer).
    Ignored(&'static str),
}

/// The workspace, also for org-wide installs (where `team_id` is null and the user's own team counts).
pub fn team(payload: &Value) -> Option<String> {
    [
        &payload["team_id"],
        &payload["team"]["id"],
        &payload["user"]["team_id"],
        &payload["event"]["team"],
        &payload["event"]["user_team"],
        &payload["view"]["team_id"],
        &payload["view"]["app_installed_team_id"],
        &payload["authorizations"][0]["team_id"],
    ]
    .into_iter()
    .find_map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned))
}

fn text(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Who acts. `name` is null where Slack gives none (message and Home events): the member keeps the name a command
/// gave them rather than being renamed to their id.
fn actor(payload: &Value, user_id: &Value, name: &Value, channel: &Value) -> Actor {
    let user_id = user_id.as_str().unwrap_or_default().to_owned();
    Actor {
        platform: Platform::Slack,
        server: team(payload),
        display_name: name.as_str().unwrap_or_default().to_owned(),
        user_id,
        channel_id: text(channel),
        manager: false,
    }
}

/// Reads one envelope's payload. `bot_user` is the bot's own user id (from `auth.test`): its own messages come
/// back as events and are passed over.
pub fn parse(kind: &str, p: &Value, bot_user: &str) -> Incoming {
    match kind {
        "slash_commands" => {
            let command = p["command"]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches('/');
            let typed = render::typed(p["text"].as_str().unwrap_or_default());
            let line = if command == UMBRELLA {
                typed
            } else {
                format!("{command} {typed}").trim_end().to_owned()
            };
            Incoming::Command {
                actor: actor(p, &p["user_id"], &p["user_name"], &p["channel_id"]),
                line,
                trigger_id: text(&p["trigger_id"]),
                response_url: text(&p["response_url"]),
            }
        }
        "interactive" => interactive(p),
        "events_api" => event(p, bot_user),
        _ => Incoming::Ignored("an envelope type the bot does not handle"),
    }
}

fn user_name(p: &Value) -> &Value {
    if p["user"]["username"].is_string() {
        &p["user"]["username"]
    } else {
        &p["user"]["name"]
    }
}

fn interactive(p: &Value) -> Incoming {
    match p["type"].as_str().unwrap_or_default() {
        "block_actions" => {
            let Some(action) = p["actions"].get(0) else {
                return Incoming::Ignored("a block action without an action");
            };
            let channel = if p["channel"]["id"].is_string() {
                &p["channel"]["id"]
            } else {
                &p["container"]["channel_id"]
            };
            Incoming::Press {
                actor: actor(p, &p["user"]["id"], user_name(p), channel),
                action_id: action["action_id"].as_str().unwrap_or_default().to_owned(),
                trigger_id: text(&p["trigger_id"]),
                response_url: text(&p["response_url"]),
            }
        }
        "view_submission" => {
            let view = &p["view"];
            let mut fields = Vec::new();
            for (block_id, actions) in view["state"]["values"].as_object().into_iter().flatten() {
                // One input per block; its value (plain_text_input) or selected option.
                let element = actions.as_object().and_then(|a| a.values().next());
                let value = element
                    .and_then(|e| {
                        e["value"]
                            .as_str()
                            .or(e["selected_option"]["value"].as_str())
                    })
                    .unwrap_or_default();
                fields.push((block_id.clone(), value.to_owned()));
            }
            let metadata: Value =
                serde_json::from_str(view["private_metadata"].as_str().unwrap_or_default())
                    .unwrap_or(Value::Null);
            Incoming::Submit {
                actor: actor(p, &p["user"]["id"], user_name(p), &metadata["channel"]),
                callback_id: view["callback_id"].as_str().unwrap_or_default().to_owned(),
                fields,
            }
        }
        "view_closed" => Incoming::Ignored("a modal closed without saving"),
        "shortcut" | "message_action" => Incoming::Ignored("the bot offers no shortcuts"),
        _ => Incoming::Ignored("an interaction the bot does not handle"),
    }
}

fn event(p: &Value, bot_user: &str) -> Incoming {
    let e = &p["event"];
    match e["type"].as_str().unwrap_or_default() {
        "message" => message(p, e, bot_user),
        "tokens_revoked" | "app_uninstalled" => Incoming::Uninstalled { team: team(p) },
        "user_change" => Incoming::UserChanged {
            user_id: e["user"]["id"].as_str().unwrap_or_default().to_owned(),
            tz: text(&e["user"]["tz"]),
        },
        "app_home_opened" if e["tab"] == "home" => Incoming::HomeOpened {
            actor: actor(p, &e["user"], &Value::Null, &e["channel"]),
        },
        _ => Incoming::Ignored("an event the bot does not handle"),
    }
}

fn message(p: &Value, e: &Value, bot_user: &str) -> Incoming {
    // Modern bot messages carry bot_id and no subtype; edits, deletions, joins and file shares carry a subtype.
    if !e["bot_id"].is_null() {
        return Incoming::Ignored("a bot's message");
    }
    if !e["subtype"].is_null() {
        return Incoming::Ignored("an edit, deletion or other message subtype");
    }
    let user = e["user"].as_str().unwrap_or_default();
    if user.is_empty() || user == bot_user {
        return Incoming::Ignored("the bot's own message");
    }
    let ts = e["ts"].as_str().unwrap_or_default().to_owned();
    let channel = e["channel"].as_str().unwrap_or_default().to_owned();
    let raw = e["text"].as_str().unwrap_or_default();
    let thread_ts = e["thread_ts"]
        .as_str()
        .filter(|t| *t != ts)
        .map(str::to_owned);
    let actor = actor(p, &e["user"], &Value::Null, &e["channel"]);
    if e["channel_type"] == "im" {
        return Incoming::Dm {
            actor,
            channel,
            ts,
            text: render::typed(raw),
            thread_ts,
        };
    }
    match thread_ts {
        Some(root) => Incoming::ThreadReply {
            actor,
            channel,
            root,
            ts,
            text: render::typed(raw),
            mentions: render::mentions(raw),
        },
        None => Incoming::Ignored("a channel message outside any thread"),
    }
}
