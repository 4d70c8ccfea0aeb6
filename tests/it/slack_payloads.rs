//! Every real payload from Slack's SDKs (`../shared/platform-payloads/slack/`, see its INDEX.md) through the
//! adapter's parsing: what each one becomes, and that who acts always has a workspace and a user.

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use career_circle_slack::incoming::{Incoming, parse};

fn dir(sub: &str) -> PathBuf {
    let base = std::env::var_os("SLACK_PAYLOADS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/platform-payloads/slack")
        });
    base.join(sub)
}

fn files(sub: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir(sub))
        .unwrap_or_else(|e| panic!("{}: {e}", dir(sub).display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no payloads in {sub}");
    out
}

/// The bot's own user in these payloads: none of them is from it.
const ME: &str = "U0NOTINPAYLOADS";

fn variant(i: &Incoming) -> &'static str {
    match i {
        Incoming::Command { .. } => "command",
        Incoming::Press { .. } => "press",
        Incoming::Submit { .. } => "submit",
        Incoming::Dm { .. } => "dm",
        Incoming::ThreadReply { .. } => "thread_reply",
        Incoming::Uninstalled { .. } => "uninstalled",
        Incoming::HomeOpened { .. } => "home",
        Incoming::UserChanged { .. } => "user_changed",
        Incoming::Ignored(_) => "ignored",
    }
}

fn actor_is_whole(i: &Incoming, name: &str) {
    let actor = match i {
        Incoming::Command { actor, .. }
        | Incoming::Press { actor, .. }
        | Incoming::Submit { actor, .. }
        | Incoming::Dm { actor, .. }
        | Incoming::ThreadReply { actor, .. }
        | Incoming::HomeOpened { actor } => actor,
        _ => return,
    };
    assert!(!actor.user_id.is_empty(), "{name}: no user");
    assert!(actor.server.is_some(), "{name}: no workspace: {actor:?}");
}

fn decode_form(text: &str) -> Value {
    let mut map = Map::new();
    for pair in text.trim().split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            let s = s.replace('+', " ");
            let bytes = s.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'%' && i + 2 < bytes.len() {
                    out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                    i += 3;
                } else {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
            String::from_utf8(out).unwrap()
        };
        map.insert(decode(k), Value::String(decode(v)));
    }
    Value::Object(map)
}

/// The slash command captures, each as the payload it is (form-encoded ones decoded); the field catalogue is not one.
fn slash_command_payloads() -> Vec<(String, Value)> {
    files("slash_commands")
        .into_iter()
        .filter(|(name, _)| !name.starts_with("field_catalog"))
        .map(|(name, text)| {
            let payload = if name.ends_with(".form.txt") {
                decode_form(&text)
            } else {
                serde_json::from_str(&text).unwrap()
            };
            (name, payload)
        })
        .collect()
}

#[test]
fn every_slash_command_payload_reads_as_a_command_line() {
    for (name, payload) in slash_command_payloads() {
        let parsed = parse("slash_commands", &payload, ME);
        let Incoming::Command { line, .. } = &parsed else {
            panic!("{name}: {parsed:?}");
        };
        let command = payload["command"].as_str().unwrap().trim_start_matches('/');
        assert!(line.starts_with(command), "{name}: {line}");
        actor_is_whole(&parsed, &name);
    }
}

#[test]
fn every_interactivity_payload_reads_as_what_it_is() {
    for (name, text) in files("interactivity") {
        let payload: Value = serde_json::from_str(&text).unwrap();
        let parsed = parse("interactive", &payload, ME);
        let want = if name.starts_with("block_actions") {
            "press"
        } else if name.starts_with("view_submission") {
            "submit"
        } else {
            "ignored"
        };
        assert_eq!(variant(&parsed), want, "{name}: {parsed:?}");
        actor_is_whole(&parsed, &name);
        if let Incoming::Submit { fields, .. } = &parsed {
            assert!(!fields.is_empty(), "{name}: the form's values");
        }
        if let Incoming::Press { action_id, .. } = &parsed {
            assert!(!action_id.is_empty(), "{name}");
        }
    }
}

#[test]
fn every_event_payload_reads_as_what_it_is() {
    for (name, text) in files("events") {
        let mut payload: Value = serde_json::from_str(&text).unwrap();
        if name.contains(".inner.") || name.contains("docs_inner") {
            // PARTIAL: the inner event only; Slack wraps it in an event_callback.
            payload = json!({"type": "event_callback", "team_id": "T0WRAPPED", "event": payload, "event_id": "Ev0WRAPPED"});
        }
        let parsed = parse("events_api", &payload, ME);
        let want = match name.as_str() {
            "message_channel_thread_reply.json" => "thread_reply",
            "message_im.docs_inner.json" | "message_im_thread_reply_assistant.json" => "dm",
            "app_home_opened_home_tab.json" => "home",
            "user_change.inner.json" => "user_changed",
            n if n.starts_with("tokens_revoked") || n.starts_with("app_uninstalled") => {
                "uninstalled"
            }
            // Bots' messages (with or without a subtype), edits, deletions, joins, file shares, broadcasts, a
            // channel message outside a thread, mentions, home tab and profile events.
            _ => "ignored",
        };
        assert_eq!(variant(&parsed), want, "{name}: {parsed:?}");
        actor_is_whole(&parsed, &name);
        if let Incoming::UserChanged { tz, .. } = &parsed {
            assert_eq!(tz.as_deref(), Some("America/Los_Angeles"), "{name}");
        }
        if let Incoming::Dm { thread_ts, .. } = &parsed {
            assert_eq!(
                thread_ts.is_some(),
                name.contains("thread_reply"),
                "{name}: a threaded DM names what it replies to"
            );
        }
    }
}

#[test]
fn the_bot_s_own_message_is_passed_over() {
    let own = json!({"team_id": "T1", "event": {"type": "message", "user": ME, "text": "hi", "ts": "1.1",
                     "channel": "D1", "channel_type": "im"}});
    assert_eq!(variant(&parse("events_api", &own, ME)), "ignored");
}

#[test]
fn every_socket_mode_frame_is_an_envelope_or_a_control_frame() {
    for (name, text) in files("socket_mode") {
        let frame: Value = serde_json::from_str(&text).unwrap();
        let kind = frame["type"].as_str().unwrap();
        match kind {
            "hello" | "disconnect" => {
                assert!(
                    frame["envelope_id"].is_null(),
                    "{name}: control frames carry no envelope"
                );
            }
            _ => {
                assert!(
                    frame["envelope_id"].is_string(),
                    "{name}: an envelope is acked by its id"
                );
                let parsed = parse(kind, &frame["payload"], ME);
                let want = match kind {
                    "slash_commands" => "command",
                    "interactive" if frame["payload"]["type"] == "block_actions" => "press",
                    _ => variant(&parsed),
                };
                assert_eq!(variant(&parsed), want, "{name}: {parsed:?}");
                actor_is_whole(&parsed, &name);
            }
        }
    }
}

#[test]
fn the_manifest_passes_slack_s_schema_and_comes_from_the_command_table() {
    use career_circle_core::chat::commands::table::{COMMANDS, UMBRELLA};
    use career_circle_slack::manifest::{self, METHODS, SCOPES};

    let manifest = manifest::manifest("career-circle");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(dir("manifest").join("manifest.schema.1.0.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&manifest)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // Its commands are the table's: every family Slack lets the bot name, and the umbrella for the rest.
    let commands: Vec<&str> = manifest["features"]["slash_commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    for family in COMMANDS {
        let own = format!("/{}", family.name);
        assert_eq!(
            commands.contains(&own.as_str()),
            family.own_slack_command,
            "{own}"
        );
    }
    let umbrella = format!("/{UMBRELLA}");
    assert!(commands.contains(&umbrella.as_str()));
    assert!(
        !commands.contains(&"/me") && !commands.contains(&"/help"),
        "Slack reserves those"
    );

    // Its scopes cover every method the adapter calls.
    for (method, scope) in METHODS {
        if let Some(scope) = scope {
            assert!(SCOPES.contains(scope), "{method} needs {scope}");
        }
    }
    assert_eq!(manifest["settings"]["socket_mode_enabled"], true);
    assert_eq!(
        manifest["features"]["app_home"]["messages_tab_enabled"],
        true
    );
}

fn assert_passes(name: &str, errors: Vec<String>) {
    assert!(errors.is_empty(), "{name}: {errors:#?}");
}

#[test]
fn every_real_event_and_frame_passes_the_events_spec() {
    use crate::support::slack::event_spec::event_spec;
    let spec = event_spec();
    let mut checked = 0;
    for (name, text) in files("events") {
        let payload: Value = serde_json::from_str(&text).unwrap();
        if name.contains(".inner.") || name.contains("docs_inner") {
            // PARTIAL: the inner event only, checked as the wrapper's `event`.
            assert_passes(&name, spec.check_inner_event(&payload));
        } else {
            assert_passes(&name, spec.check_callback(&payload));
        }
        checked += 1;
    }
    for (name, text) in files("socket_mode") {
        let frame: Value = serde_json::from_str(&text).unwrap();
        if frame["payload"]["type"] == "shortcut" {
            // The bot offers no shortcuts, so the loopback sends none and there is no schema for one.
            continue;
        }
        assert_passes(&name, spec.check_frame(&frame));
        checked += 1;
    }
    for (name, payload) in slash_command_payloads() {
        assert_passes(&name, spec.check_slash_command(&payload));
        checked += 1;
    }
    for (name, text) in files("interactivity") {
        if name.starts_with("block_actions") || name.starts_with("view_submission") {
            let payload: Value = serde_json::from_str(&text).unwrap();
            assert_passes(&name, spec.check_interactive(&payload));
            checked += 1;
        }
    }
    // 29 events, 10 frames, 8 slash commands, 5 presses and submissions.
    assert_eq!(checked, 52);
}

#[test]
fn the_events_spec_refuses_malformed_frames() {
    use crate::support::slack::event_spec::event_spec;
    let spec = event_spec();
    let dm = json!({
        "envelope_id": "env-1", "type": "events_api", "accepts_response_payload": false,
        "retry_attempt": 0, "retry_reason": "",
        "payload": {
            "token": "t", "team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event_id": "Ev1",
            "event_time": 1_767_225_600,
            "event": {"type": "message", "channel": "D1", "channel_type": "im", "user": "U1", "text": "hi",
                      "ts": "1767225600.000100", "event_ts": "1767225600.000100"},
        },
    });
    assert_passes("the well-formed DM", spec.check_frame(&dm));
    let broken = |path: &str, value: Value| {
        let mut frame = dm.clone();
        *frame.pointer_mut(path).unwrap() = value;
        frame
    };
    let remove = |path: &str, key: &str| {
        let mut frame = dm.clone();
        frame
            .pointer_mut(path)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove(key);
        frame
    };
    for (what, frame) in [
        (
            "ts as a number",
            broken("/payload/event/ts", json!(1_767_225_600.000_1)),
        ),
        ("no channel_type", remove("/payload/event", "channel_type")),
        (
            "a member's message with no user",
            remove("/payload/event", "user"),
        ),
        ("no event_id", remove("/payload", "event_id")),
        ("neither team nor enterprise", remove("/payload", "team_id")),
        (
            "not an event_callback",
            broken("/payload/type", json!("url_verification")),
        ),
        ("no envelope id", remove("", "envelope_id")),
        (
            "an event without its retry fields",
            remove("", "retry_attempt"),
        ),
        ("an unknown envelope field", {
            let mut f = dm.clone();
            f["redelivered"] = json!(true);
            f
        }),
    ] {
        assert!(!spec.check_frame(&frame).is_empty(), "{what} passed");
    }
    let command = json!({
        "envelope_id": "env-2", "type": "slash_commands", "accepts_response_payload": true, "retry_attempt": 0,
        "retry_reason": "",
        "payload": {"token": "t", "team_id": "T1", "team_domain": "d", "channel_id": "C1", "channel_name": "c",
                    "user_id": "U1", "user_name": "u", "command": "/circle", "text": "list", "api_app_id": "A1",
                    "response_url": "http://x", "trigger_id": "1.2.3"},
    });
    assert!(
        !spec.check_frame(&command).is_empty(),
        "retry fields on a slash command"
    );
    for (what, event) in [
        (
            "user_change without its user",
            json!({"type": "user_change", "event_ts": "1767225600.000100"}),
        ),
        (
            "tokens_revoked without tokens",
            json!({"type": "tokens_revoked"}),
        ),
        (
            "app_home_opened on no tab",
            json!({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "x"}),
        ),
    ] {
        assert!(!spec.check_inner_event(&event).is_empty(), "{what} passed");
    }
    assert!(!spec.check_frame(&json!({"type": "hello"})).is_empty());
    assert!(
        !spec
            .check_frame(&json!({"type": "disconnect", "reason": "bored"}))
            .is_empty()
    );
    assert!(
        !spec
            .check_interactive(&json!({"type": "block_actions", "user": {"id": "U1"}, "api_app_id": "A1",
                                      "token": "t", "container": {"type": "view"}, "trigger_id": "1",
                                      "team": null, "actions": [], "view": {}}))
            .is_empty(),
        "a press with no action"
    );
}

#[tokio::test]
async fn the_loopback_fails_a_test_that_it_sent_a_malformed_frame() {
    use crate::support::slack::LoopbackSlack;
    let slack = LoopbackSlack::start().await;
    slack.assert_all_valid();
    // No socket is open: the frame goes nowhere, but it is checked all the same.
    slack.send_to(1, &json!({"type": "hello", "num_connections": 0}));
    let failed =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| slack.assert_all_valid()));
    assert!(failed.is_err(), "an invalid frame fails assert_all_valid");
    assert_eq!(slack.frames().len(), 1);
    assert_eq!(slack.frames_validated(), 0);
}

#[tokio::test]
async fn every_frame_the_loopback_can_send_passes_the_events_spec() {
    use crate::support::slack::{
        ALICE, BOT_ID, BOT_TOKEN, BOT_USER, CHANNEL, LoopbackSlack, Posted,
    };
    let slack = LoopbackSlack::start().await;
    let command = slack.slash_command(ALICE, CHANNEL, "/spec", "edit");
    // A modal opened the way the bot opens one, to be submitted.
    let view = json!({"type": "modal", "callback_id": "cc:specform", "title": {"type": "plain_text", "text": "Spec"},
                      "blocks": [{"type": "input", "block_id": "vision", "label": {"type": "plain_text", "text": "Vision"},
                                  "element": {"type": "plain_text_input", "action_id": "vision"}}]});
    let body = json!({"trigger_id": command["payload"]["trigger_id"], "view": view});
    let opened = reqwest::Client::new()
        .post(format!("{}/views.open", slack.api_base()))
        .bearer_auth(BOT_TOKEN)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let opened: Value = serde_json::from_slice(&opened).unwrap();
    assert_eq!(opened["ok"], true, "{opened}");
    slack.submit_view(ALICE, &[("vision", "Head of product")]);
    let message = Posted {
        channel: "D0ALICEDM1".to_owned(),
        ts: "1767225600.000200".to_owned(),
        user: BOT_USER.to_owned(),
        bot_id: Some(BOT_ID.to_owned()),
        text: "Did you publish one post?".to_owned(),
        blocks: json!([{"type": "actions", "elements": [{"type": "button", "action_id": "cc:done:1",
                        "text": {"type": "plain_text", "text": "Done"}}]}]),
        thread_ts: None,
        metadata: Value::Null,
        files: Vec::new(),
    };
    slack.press(ALICE, &message, "cc:done:1");
    let dm = slack.dm(ALICE, "done https://example.com", None);
    slack.dm(ALICE, "a reply", Some("1767225600.000200"));
    slack.channel_message(
        ALICE,
        CHANNEL,
        "thanks <@U0BOB00001>",
        Some("1767225600.000300"),
    );
    slack.redeliver(&dm);
    slack.home_opened(ALICE);
    slack.user_changed(ALICE, "Asia/Tokyo");
    slack.disconnect("refresh_requested");
    slack.uninstall();
    let kinds: Vec<String> = slack
        .frames()
        .iter()
        .map(|f| {
            let p = &f.frame["payload"];
            p["event"]["type"]
                .as_str()
                .or(p["type"]
                    .as_str()
                    .filter(|_| f.frame["type"] == "interactive"))
                .or(f.frame["type"].as_str())
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(slack.frames().len(), 12, "{kinds:?}");
    slack.assert_all_valid();
}
