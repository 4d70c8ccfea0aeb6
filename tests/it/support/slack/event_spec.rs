//! What Slack sends an app, as a check of every frame the loopback sends over Socket Mode: the Events API's
//! `event_callback` per Slack's AsyncAPI document (`../shared/slack-api/events-asyncapi-v1.json`), and
//! HAND-WRITTEN schemas, marked as such, for what that document lacks or has wrong.
//!
//! The document describes every event subscription (`message.im`, `message.channels`, `user_change`,
//! `tokens_revoked`, `app_uninstalled`, ...) by one `GenericEventWrapper`: the `event_callback` fields and an inner
//! event of which it names only `type` and `event_ts`. It has no `app_home_opened`, nothing of Socket Mode, slash
//! commands or interactivity, and it requires fields that no delivery from Slack carries today. The hand-written
//! parts are gathered in `HAND_WRITTEN_COVERS` (for the issue note) and each is built by a function named for it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use jsonschema::Validator;
use serde_json::{Value, json};

/// What the hand-written schemas below cover that the AsyncAPI document does not (or has wrong).
pub const HAND_WRITTEN_COVERS: &[&str] = &[
    "correction: the wrapper's `authed_users` is not required (Slack replaced it with `authorizations`; no \
     delivery carries it any more)",
    "correction: the wrapper's `team_id` may be absent when `enterprise_id` is there (org-wide installs' \
     `tokens_revoked` / `app_uninstalled`)",
    "correction: the inner event's `event_ts` is not required of every event (`app_uninstalled`, \
     `tokens_revoked`, `member_joined_channel` and a home-tab `app_home_opened` arrive without it); message and \
     user_change events still require it",
    "wrapper: `type` is `event_callback`, `event_id`, `authorizations[]`, `is_ext_shared_channel`, \
     `event_context`",
    "inner `message` (message.im / .channels / .groups / .mpim / .app.home): channel, channel_type, ts, event_ts, \
     thread_ts, user, text, bot_id, subtype; a message without a subtype names its user and text",
    "inner `user_change`: the user object (id, name, deleted, profile, tz, tz_label, tz_offset, is_bot)",
    "inner `tokens_revoked`: tokens.oauth[] / tokens.bot[]",
    "inner `app_uninstalled`: the type alone",
    "`app_home_opened` (absent from the document): user, channel, tab home|messages, the published view",
    "Socket Mode `hello`: num_connections, debug_info, connection_info.app_id",
    "Socket Mode `disconnect`: reason warning|refresh_requested|link_disabled|too_many_websockets, debug_info",
    "Socket Mode envelopes: envelope_id, type events_api|slash_commands|interactive, payload, \
     accepts_response_payload; retry_attempt / retry_reason on events_api only",
    "slash command payload: every field a string, command starting with `/`, is_enterprise_install \"true\"|\"false\"",
    "interactive `block_actions`: user, team (or null), container message|view|message_attachment, actions[] with \
     action_id, block_id, type, action_ts; the message pressed in when there is one",
    "interactive `view_submission`: the whole view object Slack sends (id, team_id, hash, state.values by block \
     and action, private_metadata, callback_id, root_view_id, app_id, bot_id, ...), response_urls",
];

/// Where the document lives: `SLACK_EVENTS_SPEC`, else the project's shared copy.
pub fn spec_path() -> PathBuf {
    match std::env::var_os("SLACK_EVENTS_SPEC") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/slack-api/events-asyncapi-v1.json"),
    }
}

pub struct EventSpec {
    /// `event_callback` by topic (`message.im`, `user.change`, `app.home.opened`, ...).
    callbacks: HashMap<String, Validator>,
    /// The inner event alone, by topic: for the payloads Slack's SDKs hold without their wrapper.
    inner: HashMap<String, Validator>,
    /// The Socket Mode frames and the payloads the document lacks, all HAND-WRITTEN.
    frames: HashMap<&'static str, Validator>,
}

pub fn event_spec() -> &'static EventSpec {
    static SPEC: OnceLock<EventSpec> = OnceLock::new();
    SPEC.get_or_init(|| EventSpec::load().unwrap_or_else(|e| panic!("{e}")))
}

/// The subscription an inner event comes under: a message by its channel type, any other by its name
/// (`user_change` is `user.change`).
pub fn topic(event: &Value) -> Option<String> {
    let kind = event["type"].as_str()?;
    if kind != "message" {
        return Some(kind.replace('_', "."));
    }
    let sub = match event["channel_type"].as_str()? {
        "channel" => "channels",
        "group" => "groups",
        "im" => "im",
        "mpim" => "mpim",
        "app_home" => "app.home",
        _ => return None,
    };
    Some(format!("message.{sub}"))
}

fn remove_required(schema: &mut Value, name: &str) {
    if let Some(list) = schema["required"].as_array_mut() {
        list.retain(|r| r != name);
    }
}

fn compile(schema: &Value) -> Result<Validator, String> {
    jsonschema::options()
        .build(schema)
        .map_err(|e| format!("compiling {schema} failed: {e}"))
}

fn errors(validator: &Validator, value: &Value, what: &str) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|e| format!("{what}: {e} at {}", e.instance_path()))
        .collect()
}

impl EventSpec {
    fn load() -> Result<EventSpec, String> {
        let path = spec_path();
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "reading {} failed ({e}); set SLACK_EVENTS_SPEC to events-asyncapi-v1.json",
                path.display()
            )
        })?;
        let doc: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut wrappers: HashMap<String, Value> = HashMap::new();
        for (name, topic) in doc["topics"].as_object().into_iter().flatten() {
            let payload = &topic["subscribe"]["payload"];
            let schema = match payload["$ref"].as_str() {
                Some(target) => doc
                    .pointer(target.trim_start_matches('#'))
                    .ok_or_else(|| format!("dangling $ref {target} in topic {name}"))?
                    .clone(),
                None => payload.clone(),
            };
            wrappers.insert(name.clone(), schema);
        }
        // HAND-WRITTEN: the document has no app_home_opened; it comes in the same wrapper as every other event.
        let generic = doc["components"]["schemas"]["GenericEventWrapper"].clone();
        if generic.is_null() {
            return Err("the document has no GenericEventWrapper".to_owned());
        }
        wrappers.insert("app.home.opened".to_owned(), generic);

        let mut callbacks = HashMap::new();
        let mut inner = HashMap::new();
        for (name, mut wrapper) in wrappers {
            // HAND-WRITTEN corrections (see HAND_WRITTEN_COVERS).
            remove_required(&mut wrapper, "authed_users");
            remove_required(&mut wrapper, "team_id");
            remove_required(&mut wrapper["properties"]["event"], "event_ts");
            let event =
                json!({"allOf": [wrapper["properties"]["event"].clone(), inner_event(&name)]});
            wrapper["properties"]
                .as_object_mut()
                .ok_or_else(|| format!("topic {name} has no properties"))?
                .remove("event");
            let callback = json!({
                "allOf": [wrapper, callback_wrapper()],
                "properties": {"event": event.clone()},
            });
            callbacks.insert(name.clone(), compile(&callback)?);
            inner.insert(name, compile(&event)?);
        }
        let mut frames = HashMap::new();
        for (name, schema) in [
            ("hello", hello()),
            ("disconnect", disconnect()),
            ("envelope", envelope()),
            ("slash_commands", slash_command()),
            ("block_actions", block_actions()),
            ("view_submission", view_submission()),
        ] {
            frames.insert(name, compile(&schema)?);
        }
        Ok(EventSpec {
            callbacks,
            inner,
            frames,
        })
    }

    /// What is wrong with a frame sent over Socket Mode; empty when nothing is.
    pub fn check_frame(&self, frame: &Value) -> Vec<String> {
        match frame["type"].as_str() {
            Some("hello") => errors(&self.frames["hello"], frame, "hello"),
            Some("disconnect") => errors(&self.frames["disconnect"], frame, "disconnect"),
            _ => {
                let mut out = errors(&self.frames["envelope"], frame, "envelope");
                let payload = &frame["payload"];
                out.extend(match frame["type"].as_str() {
                    Some("events_api") => self.check_callback(payload),
                    Some("slash_commands") => self.check_slash_command(payload),
                    Some("interactive") => self.check_interactive(payload),
                    other => vec![format!("a frame of type {other:?}")],
                });
                out
            }
        }
    }

    /// An Events API `event_callback`, by the subscription its event comes under.
    pub fn check_callback(&self, payload: &Value) -> Vec<String> {
        let Some(topic) = topic(&payload["event"]) else {
            return vec![format!(
                "no subscription for the event {}",
                payload["event"]
            )];
        };
        match self.callbacks.get(&topic) {
            Some(v) => errors(v, payload, &topic),
            None => vec![format!("{topic}: no such event in the spec")],
        }
    }

    /// An inner event alone (a PARTIAL payload: Slack's SDKs keep some without their wrapper).
    pub fn check_inner_event(&self, event: &Value) -> Vec<String> {
        let Some(topic) = topic(event) else {
            return vec![format!("no subscription for the event {event}")];
        };
        match self.inner.get(&topic) {
            Some(v) => errors(v, event, &topic),
            None => vec![format!("{topic}: no such event in the spec")],
        }
    }

    pub fn check_slash_command(&self, payload: &Value) -> Vec<String> {
        errors(&self.frames["slash_commands"], payload, "slash command")
    }

    /// An interactivity payload of a type the loopback sends: `block_actions` or `view_submission`.
    pub fn check_interactive(&self, payload: &Value) -> Vec<String> {
        match payload["type"].as_str() {
            Some(kind @ ("block_actions" | "view_submission")) => {
                errors(&self.frames[kind], payload, kind)
            }
            other => vec![format!("no schema for the interaction {other:?}")],
        }
    }
}

const TS: &str = r"^\d{10}\.\d{6}$";
/// SDK captures of interactivity hold made-up timestamps such as "111.222".
const ANY_TS: &str = r"^\d+\.\d+$";
const CHANNEL: &str = "^[CDG][A-Z0-9]+$";
const USER: &str = "^[UW][A-Z0-9]+$";

/// HAND-WRITTEN: the `event_callback` fields the document does not describe, or describes as one of many.
fn callback_wrapper() -> Value {
    json!({
        "type": "object",
        "properties": {
            "type": {"const": "event_callback"},
            "event_id": {"type": "string", "pattern": "^Ev[A-Za-z0-9]+$"},
            "enterprise_id": {"type": ["string", "null"]},
            "authorizations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["user_id", "is_bot", "is_enterprise_install"],
                    "properties": {
                        "enterprise_id": {"type": ["string", "null"]},
                        "team_id": {"type": ["string", "null"]},
                        "user_id": {"type": "string"},
                        "is_bot": {"type": "boolean"},
                        "is_enterprise_install": {"type": "boolean"},
                    },
                },
            },
            "is_ext_shared_channel": {"type": "boolean"},
            "event_context": {"type": "string"},
        },
        // An org-wide install's app events name the enterprise and no team.
        "anyOf": [{"required": ["team_id"]}, {"required": ["enterprise_id"]}],
    })
}

/// HAND-WRITTEN: the inner event of a topic, where the document names only `type` and `event_ts`.
fn inner_event(topic: &str) -> Value {
    match topic {
        t if t.starts_with("message.") => json!({
            "type": "object",
            "required": ["type", "channel", "channel_type", "ts", "event_ts"],
            "properties": {
                "type": {"const": "message"},
                "channel": {"type": "string", "pattern": CHANNEL},
                "channel_type": {"enum": ["channel", "group", "im", "mpim", "app_home"]},
                "ts": {"type": "string", "pattern": TS},
                "event_ts": {"type": "string", "pattern": TS},
                "thread_ts": {"type": "string", "pattern": TS},
                "user": {"type": "string", "pattern": USER},
                "text": {"type": "string"},
                "bot_id": {"type": "string"},
                "subtype": {"type": "string"},
                "blocks": {"type": "array"},
                "team": {"type": "string"},
                "client_msg_id": {"type": "string"},
                "parent_user_id": {"type": "string", "pattern": USER},
            },
            // A member's (or a modern bot's) message names who wrote it and what.
            "if": {"not": {"required": ["subtype"]}},
            "then": {"required": ["user", "text"]},
        }),
        "user.change" => json!({
            "type": "object",
            "required": ["type", "user", "event_ts"],
            "properties": {
                "type": {"const": "user_change"},
                "event_ts": {"type": "string", "pattern": TS},
                "cache_ts": {"type": "integer"},
                "user": {
                    "type": "object",
                    "required": ["id", "name", "deleted", "profile"],
                    "properties": {
                        "id": {"type": "string", "pattern": USER},
                        "team_id": {"type": "string"},
                        "name": {"type": "string"},
                        "deleted": {"type": "boolean"},
                        "real_name": {"type": "string"},
                        "tz": {"type": "string"},
                        "tz_label": {"type": "string"},
                        "tz_offset": {"type": "integer"},
                        "is_bot": {"type": "boolean"},
                        "profile": {"type": "object"},
                    },
                },
            },
        }),
        "tokens.revoked" => json!({
            "type": "object",
            "required": ["type", "tokens"],
            "properties": {
                "type": {"const": "tokens_revoked"},
                "tokens": {
                    "type": "object",
                    "minProperties": 1,
                    "additionalProperties": false,
                    "properties": {
                        "oauth": {"type": "array", "items": {"type": "string"}},
                        "bot": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        }),
        "app.uninstalled" => json!({
            "type": "object",
            "required": ["type"],
            "properties": {"type": {"const": "app_uninstalled"}},
        }),
        "app.home.opened" => json!({
            "type": "object",
            "required": ["type", "user", "channel", "tab"],
            "properties": {
                "type": {"const": "app_home_opened"},
                "user": {"type": "string", "pattern": USER},
                "channel": {"type": "string", "pattern": CHANNEL},
                "tab": {"enum": ["home", "messages"]},
                "event_ts": {"type": "string", "pattern": TS},
                "view": {"type": "object", "required": ["id", "type"]},
            },
        }),
        _ => json!({}),
    }
}

/// HAND-WRITTEN: Socket Mode's first frame on a new socket.
fn hello() -> Value {
    json!({
        "type": "object",
        "required": ["type", "num_connections", "debug_info", "connection_info"],
        "additionalProperties": false,
        "properties": {
            "type": {"const": "hello"},
            "num_connections": {"type": "integer", "minimum": 1},
            "debug_info": {
                "type": "object",
                "required": ["host"],
                "properties": {
                    "host": {"type": "string"},
                    "build_number": {"type": "integer"},
                    "approximate_connection_time": {"type": "integer"},
                },
            },
            "connection_info": {
                "type": "object",
                "required": ["app_id"],
                "properties": {"app_id": {"type": "string", "pattern": "^A[A-Z0-9]+$"}},
            },
        },
    })
}

/// HAND-WRITTEN: Slack asking for a new socket (or telling why it closes this one).
fn disconnect() -> Value {
    json!({
        "type": "object",
        "required": ["type", "reason"],
        "additionalProperties": false,
        "properties": {
            "type": {"const": "disconnect"},
            "reason": {"enum": ["warning", "refresh_requested", "link_disabled", "too_many_websockets"]},
            "debug_info": {"type": "object", "properties": {"host": {"type": "string"}}},
            "num_connections": {"type": "integer"},
            "connection_info": {"type": "object"},
        },
    })
}

/// HAND-WRITTEN: an envelope; only events are redelivered, so only they carry the retry fields.
fn envelope() -> Value {
    json!({
        "type": "object",
        "required": ["envelope_id", "type", "payload", "accepts_response_payload"],
        "additionalProperties": false,
        "properties": {
            "envelope_id": {"type": "string", "minLength": 1},
            "type": {"enum": ["events_api", "slash_commands", "interactive"]},
            "payload": {"type": "object"},
            "accepts_response_payload": {"type": "boolean"},
            "retry_attempt": {"type": "integer", "minimum": 0},
            "retry_reason": {"type": "string"},
        },
        "if": {"properties": {"type": {"const": "events_api"}}},
        "then": {"required": ["retry_attempt", "retry_reason"]},
        "else": {"not": {"anyOf": [{"required": ["retry_attempt"]}, {"required": ["retry_reason"]}]}},
    })
}

/// HAND-WRITTEN: a slash command's fields, each a string as in the form body Slack would post.
fn slash_command() -> Value {
    let s = json!({"type": "string"});
    json!({
        "type": "object",
        "required": ["token", "team_id", "team_domain", "channel_id", "channel_name", "user_id", "user_name",
                     "command", "text", "api_app_id", "response_url", "trigger_id"],
        "additionalProperties": false,
        "properties": {
            "token": s, "team_id": s, "team_domain": s, "channel_name": s, "user_name": s, "text": s,
            "enterprise_id": s, "enterprise_name": s, "api_app_id": s, "response_url": s, "trigger_id": s,
            "channel_id": {"type": "string", "pattern": CHANNEL},
            "user_id": {"type": "string", "pattern": USER},
            "command": {"type": "string", "pattern": "^/[a-z0-9_-]+$"},
            "is_enterprise_install": {"enum": ["true", "false"]},
        },
    })
}

/// HAND-WRITTEN: who acted, as interactivity payloads name them.
fn interaction_user() -> Value {
    json!({
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {"type": "string", "pattern": USER},
            "username": {"type": "string"},
            "name": {"type": "string"},
            "team_id": {"type": "string"},
        },
    })
}

fn interaction_team() -> Value {
    json!({
        "oneOf": [
            {"type": "null"},
            {"type": "object", "required": ["id", "domain"],
             "properties": {"id": {"type": "string"}, "domain": {"type": "string"}}},
        ],
    })
}

/// HAND-WRITTEN: a button press.
fn block_actions() -> Value {
    json!({
        "type": "object",
        "required": ["type", "user", "api_app_id", "token", "container", "trigger_id", "team", "actions"],
        "properties": {
            "type": {"const": "block_actions"},
            "user": interaction_user(),
            "team": interaction_team(),
            "api_app_id": {"type": "string"},
            "token": {"type": "string"},
            "trigger_id": {"type": "string"},
            "response_url": {"type": "string"},
            "is_enterprise_install": {"type": "boolean"},
            "container": {
                "type": "object",
                "required": ["type"],
                "properties": {
                    "type": {"enum": ["message", "view", "message_attachment"]},
                    "message_ts": {"type": "string", "pattern": ANY_TS},
                    "channel_id": {"type": "string", "pattern": CHANNEL},
                    "is_ephemeral": {"type": "boolean"},
                    "view_id": {"type": "string"},
                },
            },
            "channel": {"type": "object", "required": ["id"],
                        "properties": {"id": {"type": "string", "pattern": CHANNEL}}},
            "message": {
                "type": "object",
                "required": ["type", "ts", "text"],
                "properties": {
                    "type": {"const": "message"},
                    "ts": {"type": "string", "pattern": ANY_TS},
                    "text": {"type": "string"},
                    "user": {"type": "string"},
                    "bot_id": {"type": "string"},
                    "blocks": {"type": "array"},
                },
            },
            "actions": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["action_id", "block_id", "type", "action_ts"],
                    "properties": {
                        "action_id": {"type": "string", "maxLength": 255},
                        "block_id": {"type": "string", "maxLength": 255},
                        "type": {"type": "string"},
                        "action_ts": {"type": "string"},
                        "value": {"type": "string"},
                    },
                },
            },
        },
        // A press in a message names the message's place; a press in a view names the view.
        "if": {"properties": {"container": {"properties": {"type": {"const": "message"}}}}},
        "then": {"required": ["channel", "response_url"]},
        "else": {"required": ["view"]},
    })
}

/// HAND-WRITTEN: a modal's submission, with the view as Slack holds it.
fn view_submission() -> Value {
    json!({
        "type": "object",
        "required": ["type", "team", "user", "api_app_id", "token", "trigger_id", "view", "response_urls"],
        "properties": {
            "type": {"const": "view_submission"},
            "user": interaction_user(),
            "team": interaction_team(),
            "api_app_id": {"type": "string"},
            "token": {"type": "string"},
            "trigger_id": {"type": "string"},
            "response_urls": {"type": "array"},
            "is_enterprise_install": {"type": "boolean"},
            "view": submitted_view(),
        },
    })
}

/// HAND-WRITTEN: the view object every capture of Slack's holds whole.
fn submitted_view() -> Value {
    // block_id -> action_id -> the element's state.
    let element = json!({
        "type": "object", "required": ["type"],
        "properties": {"type": {"type": "string"}, "value": {"type": ["string", "null"]}},
    });
    let values = json!({
        "type": "object",
        "additionalProperties": {"type": "object", "minProperties": 1, "additionalProperties": element},
    });
    json!({
        "type": "object",
        "required": ["id", "team_id", "type", "blocks", "private_metadata", "callback_id", "state", "hash",
                     "title", "clear_on_close", "notify_on_close", "close", "submit", "previous_view_id",
                     "root_view_id", "app_id", "external_id", "app_installed_team_id", "bot_id"],
        "properties": {
            "id": {"type": "string", "pattern": "^V[A-Z0-9]+$"},
            "type": {"const": "modal"},
            "callback_id": {"type": "string"},
            "private_metadata": {"type": "string"},
            "hash": {"type": "string"},
            "blocks": {"type": "array"},
            "state": {"type": "object", "required": ["values"], "properties": {"values": values}},
        },
    })
}
