//! A stand-in for Slack on the loopback interface, for tests: the Web API at `/api/<method>` (POST, form or JSON
//! bodies), every call checked against Slack's spec (see `spec`), answered the way Slack does (HTTP 200 with
//! `ok: false` and an error code, 429 with `Retry-After`), and Socket Mode on a second port: `hello`, envelopes,
//! acks, `disconnect`, every frame it sends checked against Slack's events spec (see `event_spec`). The bot's own
//! messages come back as events, as they do from Slack.
//!
//! ```ignore
//! let slack = LoopbackSlack::start().await;
//! let envelope = slack.slash_command(&user, &channel, "/circle", "create name:Writers");
//! let answer = slack.response_to(&envelope).await;
//! slack.assert_all_valid();
//! ```

#![allow(dead_code)]

pub mod event_spec;
mod home_tab;
pub mod spec;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

pub const BOT_TOKEN: &str = "xoxb-loopback-bot-token";
pub const APP_TOKEN: &str = "xapp-1-loopback-app-token";
pub const TEAM: &str = "T0LOOPBACK";
pub const APP_ID: &str = "A0LOOPBACK";
pub const BOT_USER: &str = "U0BOTUSER1";
pub const BOT_ID: &str = "B0BOTID001";
/// The circle's channel, with the bot in it.
pub const CHANNEL: &str = "C0CIRCLE01";
/// A channel the bot has not joined.
pub const OTHER_CHANNEL: &str = "C0GENERAL1";
pub const ORGANISER: &str = "U0ORGANIS1";
pub const ALICE: &str = "U0ALICE001";
pub const BOB: &str = "U0BOB00001";

/// One Web API call as the loopback saw it.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    /// The arguments, form fields or JSON body alike.
    pub args: Map<String, Value>,
    pub validated: bool,
    pub errors: Vec<String>,
    /// The `error` of an `ok: false` answer, or "429".
    pub refused: Option<String>,
    pub at: Instant,
}

/// One Socket Mode frame as the loopback sent it (or would have, with no socket open), and what the events spec
/// finds wrong with it.
#[derive(Debug, Clone)]
pub struct Frame {
    pub frame: Value,
    pub errors: Vec<String>,
}

/// A message in a channel, as Slack keeps it.
#[derive(Debug, Clone)]
pub struct Posted {
    pub channel: String,
    pub ts: String,
    pub user: String,
    pub bot_id: Option<String>,
    pub text: String,
    pub blocks: Value,
    pub thread_ts: Option<String>,
    pub metadata: Value,
    /// Files shared into the channel (thread) with this message's ts: (title, bytes).
    pub files: Vec<(String, Vec<u8>)>,
}

/// What a test asks the loopback to do to the next call of a method.
#[derive(Debug, Clone)]
pub enum Fault {
    /// `{"ok": false, "error": code}`.
    Error(&'static str),
    /// HTTP 429 with `Retry-After: secs`, and every call under the same limit answered so until then: Slack's
    /// limits are per method and workspace (`chat.postMessage`'s per channel), so other methods and channels go on.
    RateLimited(u64),
    /// Does the call, then holds the answer this long (longer than the bot waits: the outcome is unknown).
    LoseAnswer(Duration),
}

#[derive(Default)]
struct World {
    calls: Vec<Call>,
    frames: Vec<Frame>,
    messages: Vec<Posted>,
    next_ts: u64,
    next_id: u64,
    /// user → DM channel.
    dms: HashMap<String, String>,
    /// Channels the bot is in.
    member_of: Vec<String>,
    /// trigger_id → when it was minted (valid 3 s).
    triggers: HashMap<String, Instant>,
    views: Vec<Value>,
    published: Vec<(String, Value)>,
    /// Uploads waiting to be completed: file_id → (filename, declared length, bytes once sent).
    uploads: HashMap<String, (String, u64, Option<Vec<u8>>)>,
    /// response_url id → bodies posted to it.
    responses: HashMap<String, Vec<Value>>,
    faults: HashMap<String, VecDeque<Fault>>,
    /// Open sockets, newest last: (id, sender).
    sockets: Vec<(u64, mpsc::UnboundedSender<Message>)>,
    sockets_opened: u64,
    /// envelope_id → (sent at, acked at, ack payload).
    envelopes: HashMap<String, (Instant, Option<Instant>, Value)>,
    /// The workspace's people, as users.info gives them.
    users: HashMap<String, Value>,
    /// Limits in force: the limit's scope (`rate_limit_scope`) → until when.
    limited: HashMap<String, Instant>,
    /// The install went away: the bot token is dead (`token_revoked`) until the app is installed again.
    revoked: bool,
}

#[derive(Clone)]
pub struct LoopbackSlack {
    world: Arc<Mutex<World>>,
    api: SocketAddr,
    socket: SocketAddr,
}

fn user(id: &str, name: &str, tz: &str) -> Value {
    json!({
        "id": id, "team_id": TEAM, "name": name, "deleted": false, "real_name": name, "tz": tz,
        "tz_label": tz, "tz_offset": 0, "is_bot": false,
        "profile": {"real_name": name, "display_name": name},
    })
}

impl LoopbackSlack {
    pub async fn start() -> Self {
        let mut world = World {
            next_ts: 100,
            member_of: vec![CHANNEL.to_owned()],
            ..World::default()
        };
        for (id, name, tz) in [
            (ORGANISER, "organiser", "Europe/Berlin"),
            (ALICE, "alice", "America/New_York"),
            (BOB, "bob", "Asia/Kolkata"),
        ] {
            world.users.insert(id.to_owned(), user(id, name, tz));
        }
        let api_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let socket_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let slack = LoopbackSlack {
            world: Arc::new(Mutex::new(world)),
            api: api_listener.local_addr().unwrap(),
            socket: socket_listener.local_addr().unwrap(),
        };
        let app = axum::Router::new()
            .route("/api/{method}", post(web_api))
            .route("/upload/{file}", post(upload))
            .route("/response/{id}", post(response_url))
            .with_state(slack.clone());
        tokio::spawn(async move {
            let _ended = axum::serve(api_listener, app).await;
        });
        let me = slack.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = socket_listener.accept().await {
                let me = me.clone();
                tokio::spawn(async move { me.serve_socket(stream).await });
            }
        });
        slack
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The Web API base the bot is pointed at.
    pub fn api_base(&self) -> String {
        format!("http://{}/api", self.api)
    }

    pub fn fail_next(&self, method: &str, fault: Fault) {
        self.world()
            .faults
            .entry(method.to_owned())
            .or_default()
            .push_back(fault);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.world().calls.clone()
    }

    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method)
            .collect()
    }

    pub fn assert_all_valid(&self) {
        let bad: Vec<String> = self
            .calls()
            .into_iter()
            .filter(|c| !c.validated)
            .map(|c| format!("{}: {}", c.method, c.errors.join("; ")))
            .collect();
        assert!(bad.is_empty(), "calls that failed validation: {bad:#?}");
        // Slack answers `missing_scope` to a method the install was not granted: every method called must be one
        // the manifest asks a scope for (or needs none).
        let unlisted: Vec<String> = self
            .calls()
            .into_iter()
            .map(|c| c.method)
            .filter(|m| {
                !career_circle_slack::manifest::METHODS
                    .iter()
                    .any(|(listed, _)| listed == m)
            })
            .collect();
        assert!(
            unlisted.is_empty(),
            "methods the manifest does not cover: {unlisted:?}"
        );
        self.assert_frames_valid();
    }

    /// Every frame the loopback sent passed the events spec (a wrong frame would test the bot against a Slack
    /// that does not exist).
    pub fn assert_frames_valid(&self) {
        let frames = self.frames();
        let bad: Vec<String> = frames
            .iter()
            .filter(|f| !f.errors.is_empty())
            .map(|f| format!("{}: {}", f.frame, f.errors.join("; ")))
            .collect();
        assert!(bad.is_empty(), "frames that failed validation: {bad:#?}");
        // Slack shows a form's errors only on its input blocks; an ack naming anything else fails the submission.
        let w = self.world();
        for f in &frames {
            if f.frame["payload"]["type"] != "view_submission" {
                continue;
            }
            let Some((_, Some(_), ack)) = f.frame["envelope_id"]
                .as_str()
                .and_then(|id| w.envelopes.get(id))
            else {
                continue;
            };
            if ack["response_action"] != "errors" {
                continue;
            }
            let inputs = input_blocks(&f.frame["payload"]["view"]);
            for key in ack["errors"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
            {
                assert!(
                    inputs.iter().any(|(block, ..)| block == key),
                    "errors on {key}, which is not an input of the form: {ack}"
                );
            }
        }
        drop(w);
        assert_eq!(
            self.frames_validated(),
            frames.len(),
            "every frame sent was validated"
        );
    }

    pub fn frames(&self) -> Vec<Frame> {
        self.world().frames.clone()
    }

    pub fn frames_validated(&self) -> usize {
        self.frames().iter().filter(|f| f.errors.is_empty()).count()
    }

    pub fn validated_count(&self) -> usize {
        self.calls().iter().filter(|c| c.validated).count()
    }

    pub fn messages_in(&self, channel: &str) -> Vec<Posted> {
        self.world()
            .messages
            .iter()
            .filter(|m| m.channel == channel)
            .cloned()
            .collect()
    }

    pub fn thread(&self, channel: &str, root: &str) -> Vec<Posted> {
        self.messages_in(channel)
            .into_iter()
            .filter(|m| m.thread_ts.as_deref() == Some(root))
            .collect()
    }

    pub fn dm_channel_of(&self, user: &str) -> Option<String> {
        self.world().dms.get(user).cloned()
    }

    /// The bot's messages in its DM with `user`.
    pub fn dms_to(&self, user: &str) -> Vec<Posted> {
        match self.dm_channel_of(user) {
            Some(c) => self
                .messages_in(&c)
                .into_iter()
                .filter(|m| m.bot_id.is_some())
                .collect(),
            None => Vec::new(),
        }
    }

    pub fn views(&self) -> Vec<Value> {
        self.world().views.clone()
    }

    pub fn published(&self) -> Vec<(String, Value)> {
        self.world().published.clone()
    }

    pub fn sockets_opened(&self) -> u64 {
        self.world().sockets_opened
    }

    pub fn open_sockets(&self) -> usize {
        self.world().sockets.len()
    }

    /// The bodies the bot posted to the response_url of `envelope`'s command.
    pub fn responses_to(&self, envelope: &Value) -> Vec<Value> {
        let url = envelope["payload"]["response_url"]
            .as_str()
            .unwrap_or_default();
        let id = url.rsplit('/').next().unwrap_or_default();
        self.world().responses.get(id).cloned().unwrap_or_default()
    }

    /// (how long the ack took, its payload), once acked.
    pub fn ack_of(&self, envelope: &Value) -> Option<(Duration, Value)> {
        let id = envelope["envelope_id"].as_str()?;
        let w = self.world();
        let (sent, acked, payload) = w.envelopes.get(id)?;
        acked.map(|a| (a.duration_since(*sent), payload.clone()))
    }

    fn mint_ts(w: &mut World) -> String {
        w.next_ts += 1;
        format!(
            "{}.{:06}",
            1_767_225_600 + w.next_ts / 1000,
            w.next_ts % 1_000_000
        )
    }

    fn mint_id(w: &mut World, prefix: char) -> String {
        w.next_id += 1;
        format!("{prefix}0{:08}", w.next_id)
    }

    /// The ids of the open sockets, oldest first.
    pub fn socket_ids(&self) -> Vec<u64> {
        self.world()
            .sockets
            .iter()
            .filter(|(_, tx)| !tx.is_closed())
            .map(|(id, _)| *id)
            .collect()
    }

    /// Sends a frame to one socket (Slack picks any of an app's sockets for an envelope).
    pub fn send_to(&self, socket: u64, frame: &Value) {
        let mut w = self.world();
        Self::record(&mut w, frame);
        if let Some(id) = frame["envelope_id"].as_str() {
            w.envelopes
                .insert(id.to_owned(), (Instant::now(), None, Value::Null));
        }
        if let Some((_, tx)) = w.sockets.iter().find(|(id, _)| *id == socket) {
            let _gone = tx.send(Message::Text(frame.to_string()));
        }
    }

    /// A member's DM as an event, not yet sent: for `send_to`.
    pub fn dm_envelope(&self, user: &str, text: &str) -> Value {
        // Sent nowhere: the socket list is emptied for the call and restored.
        let saved = std::mem::take(&mut self.world().sockets);
        let env = self.dm(user, text, None);
        self.world().sockets = saved;
        env
    }

    /// The same event again, with a new envelope id and `retry_attempt` 1, to one socket.
    pub fn redeliver_to(&self, envelope: &Value, socket: u64) -> Value {
        let mut again = envelope.clone();
        let id = {
            let mut w = self.world();
            w.next_id += 1;
            format!("env-{}-retry", w.next_id)
        };
        again["envelope_id"] = json!(id);
        again["retry_attempt"] = json!(1);
        again["retry_reason"] = json!("timeout");
        self.send_to(socket, &again);
        again
    }

    /// Sends a frame to the newest open socket.
    fn send_frame(&self, frame: &Value) {
        let mut w = self.world();
        Self::record(&mut w, frame);
        if let Some(id) = frame["envelope_id"].as_str() {
            w.envelopes
                .insert(id.to_owned(), (Instant::now(), None, Value::Null));
        }
        let text = frame.to_string();
        w.sockets.retain(|(_, tx)| !tx.is_closed());
        if let Some((_, tx)) = w.sockets.last() {
            let _gone = tx.send(Message::Text(text));
        }
    }

    /// Checks a frame against the events spec as it goes out.
    fn record(w: &mut World, frame: &Value) {
        w.frames.push(Frame {
            frame: frame.clone(),
            errors: event_spec::event_spec().check_frame(frame),
        });
    }

    fn envelope(&self, kind: &str, payload: Value) -> Value {
        let id = {
            let mut w = self.world();
            w.next_id += 1;
            format!("env-{}-{}", w.next_id, kind)
        };
        let mut env = json!({
            "envelope_id": id,
            "payload": payload,
            "type": kind,
            "accepts_response_payload": kind != "events_api",
        });
        if kind == "events_api" {
            env["retry_attempt"] = json!(0);
            env["retry_reason"] = json!("");
        }
        env
    }

    /// A member types `/command text` in `channel`: the envelope as Slack sends it (every value a string).
    pub fn slash_command(&self, user: &str, channel: &str, command: &str, text: &str) -> Value {
        let (trigger, response) = {
            let mut w = self.world();
            w.next_id += 1;
            let trigger = format!("{}.{}.loopbacktrigger", w.next_id, 1_767_225_600);
            w.triggers.insert(trigger.clone(), Instant::now());
            let response = format!("resp{}", w.next_id);
            w.responses.insert(response.clone(), Vec::new());
            (trigger, response)
        };
        let name = self
            .world()
            .users
            .get(user)
            .map(|u| u["name"].clone())
            .unwrap_or(json!(user));
        let payload = json!({
            "token": "loopback-verification",
            "team_id": TEAM,
            "team_domain": "loopback",
            "channel_id": channel,
            "channel_name": "career-circle",
            "user_id": user,
            "user_name": name,
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": format!("http://{}/response/{response}", self.api),
            "trigger_id": trigger,
        });
        let env = self.envelope("slash_commands", payload);
        self.send_frame(&env);
        env
    }

    fn trigger(&self) -> String {
        let mut w = self.world();
        w.next_id += 1;
        let trigger = format!("{}.{}.loopbacktrigger", w.next_id, 1_767_225_600);
        w.triggers.insert(trigger.clone(), Instant::now());
        trigger
    }

    /// A member presses a button of the bot's message.
    pub fn press(&self, user: &str, message: &Posted, action_id: &str) -> Value {
        let trigger = self.trigger();
        let response = {
            let mut w = self.world();
            w.next_id += 1;
            let r = format!("resp{}", w.next_id);
            w.responses.insert(r.clone(), Vec::new());
            r
        };
        let payload = json!({
            "type": "block_actions",
            "user": {"id": user, "username": user, "name": user, "team_id": TEAM},
            "api_app_id": APP_ID,
            "token": "loopback-verification",
            "container": {"type": "message", "message_ts": message.ts, "channel_id": message.channel, "is_ephemeral": false},
            "trigger_id": trigger,
            "team": {"id": TEAM, "domain": "loopback"},
            "enterprise": null,
            "is_enterprise_install": false,
            "channel": {"id": message.channel, "name": "directmessage"},
            "message": {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "team": TEAM, "ts": message.ts, "text": message.text, "blocks": message.blocks},
            "response_url": format!("http://{}/response/{response}", self.api),
            "actions": [{"action_id": action_id, "block_id": "b1", "text": {"type": "plain_text", "text": "button"}, "value": action_id, "type": "button", "action_ts": "1767225600.000001"}],
        });
        let env = self.envelope("interactive", payload);
        self.send_frame(&env);
        env
    }

    /// A member submits the newest modal the bot opened with these values (block id = action id = field id).
    pub fn submit_view(&self, user: &str, values: &[(&str, &str)]) -> Value {
        let view = self.views().last().cloned().expect("a view to submit");
        // As Slack does: every input of the form is in `state.values`, keyed by block then action; one the
        // member did not touch holds its initial value, or null.
        let inputs = input_blocks(&view);
        for (id, _) in values {
            assert!(
                inputs.iter().any(|(block, ..)| block == id),
                "the form has no input {id}: {inputs:?}"
            );
        }
        let mut state = Map::new();
        for (block, action, kind, initial) in &inputs {
            let typed = values
                .iter()
                .find(|(id, _)| id == block)
                .map(|(_, v)| json!(v));
            state.insert(
                block.clone(),
                json!({ action: {"type": kind, "value": typed.unwrap_or_else(|| initial.clone())} }),
            );
        }
        let mut submitted = view.clone();
        submitted["state"] = json!({ "values": state });
        submitted["team_id"] = json!(TEAM);
        let payload = json!({
            "type": "view_submission",
            "team": {"id": TEAM, "domain": "loopback"},
            "user": {"id": user, "username": user, "name": user, "team_id": TEAM},
            "api_app_id": APP_ID,
            "token": "loopback-verification",
            "trigger_id": self.trigger(),
            "view": submitted,
            "response_urls": [],
            "is_enterprise_install": false,
            "enterprise": null,
        });
        let env = self.envelope("interactive", payload);
        self.send_frame(&env);
        env
    }

    fn event_payload(&self, event: Value) -> Value {
        let id = {
            let mut w = self.world();
            w.next_id += 1;
            format!("Ev0{:08}", w.next_id)
        };
        json!({
            "token": "loopback-verification",
            "team_id": TEAM,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": id,
            "event_time": 1_767_225_600,
            "authorizations": [{"enterprise_id": null, "team_id": TEAM, "user_id": BOT_USER, "is_bot": true, "is_enterprise_install": false}],
            "is_ext_shared_channel": false,
        })
    }

    fn store(&self, m: Posted) {
        self.world().messages.push(m);
    }

    /// A member writes in their DM with the bot (opened if it is not yet); `thread_ts` makes it a threaded reply.
    pub fn dm(&self, user: &str, text: &str, thread_ts: Option<&str>) -> Value {
        let channel = {
            let mut w = self.world();
            match w.dms.get(user).cloned() {
                Some(c) => c,
                None => {
                    let c = Self::mint_id(&mut w, 'D');
                    w.dms.insert(user.to_owned(), c.clone());
                    c
                }
            }
        };
        self.member_message(user, &channel, "im", text, thread_ts)
    }

    /// A member writes in a channel; with `thread_ts`, in that thread.
    pub fn channel_message(
        &self,
        user: &str,
        channel: &str,
        text: &str,
        thread_ts: Option<&str>,
    ) -> Value {
        self.member_message(user, channel, "channel", text, thread_ts)
    }

    fn member_message(
        &self,
        user: &str,
        channel: &str,
        kind: &str,
        text: &str,
        thread_ts: Option<&str>,
    ) -> Value {
        let ts = Self::mint_ts(&mut self.world());
        self.store(Posted {
            channel: channel.to_owned(),
            ts: ts.clone(),
            user: user.to_owned(),
            bot_id: None,
            text: text.to_owned(),
            blocks: Value::Null,
            thread_ts: thread_ts.map(str::to_owned),
            metadata: Value::Null,
            files: Vec::new(),
        });
        let mut event = json!({
            "client_msg_id": format!("cm-{ts}"),
            "type": "message",
            "text": text,
            "user": user,
            "ts": ts,
            "team": TEAM,
            "channel": channel,
            "event_ts": ts,
            "channel_type": kind,
        });
        if let Some(root) = thread_ts {
            event["thread_ts"] = json!(root);
            event["parent_user_id"] = json!(BOT_USER);
        }
        let env = self.envelope("events_api", self.event_payload(event));
        self.send_frame(&env);
        env
    }

    /// A member opens the bot's Home tab.
    pub fn home_opened(&self, user: &str) -> Value {
        let dm = self
            .world()
            .dms
            .get(user)
            .cloned()
            .unwrap_or_else(|| "D0HOMETAB1".to_owned());
        let event = json!({
            "type": "app_home_opened", "user": user, "channel": dm, "tab": "home",
            "event_ts": "1767225600.000001",
        });
        let env = self.envelope("events_api", self.event_payload(event));
        self.send_frame(&env);
        env
    }

    /// An admin uninstalls the app: the bot token dies, and Slack tells the app `tokens_revoked` then
    /// `app_uninstalled` (the app-level token, and so Socket Mode, lives on).
    pub fn uninstall(&self) -> (Value, Value) {
        self.world().revoked = true;
        let revoked = json!({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [BOT_USER]}});
        let revoked = self.envelope("events_api", self.app_event_payload(revoked));
        self.send_frame(&revoked);
        let gone = json!({"type": "app_uninstalled"});
        let gone = self.envelope("events_api", self.app_event_payload(gone));
        self.send_frame(&gone);
        (revoked, gone)
    }

    /// The bot token dies and no event says so (the uninstall came while the bot was down, or the token was
    /// rotated): the bot learns it from the next call, `token_revoked`.
    pub fn revoke_token_silently(&self) {
        self.world().revoked = true;
    }

    /// The app is installed again, with the same bot token for the test's convenience.
    pub fn reinstall(&self) {
        self.world().revoked = false;
    }

    /// An app event's wrapper: as the captures of them show, no `authorizations` (the install is going away).
    fn app_event_payload(&self, event: Value) -> Value {
        let mut payload = self.event_payload(event);
        if let Some(map) = payload.as_object_mut() {
            map.remove("authorizations");
            map.remove("is_ext_shared_channel");
        }
        payload
    }

    /// A member's profile changes to zone `tz` (as users.info then says too): `user_change`.
    pub fn user_changed(&self, user: &str, tz: &str) -> Value {
        let profile = {
            let mut w = self.world();
            let u = w.users.get_mut(user).expect("a user of the workspace");
            u["tz"] = json!(tz);
            u["tz_label"] = json!(tz);
            u.clone()
        };
        let ts = Self::mint_ts(&mut self.world());
        let event = json!({"type": "user_change", "user": profile, "cache_ts": 1_767_225_600, "event_ts": ts});
        let env = self.envelope("events_api", self.event_payload(event));
        self.send_frame(&env);
        env
    }

    /// Slack gives an event again (its first delivery went unacked in time, or to another socket).
    pub fn redeliver(&self, envelope: &Value) -> Value {
        let mut again = envelope.clone();
        let id = {
            let mut w = self.world();
            w.next_id += 1;
            format!("env-{}-retry", w.next_id)
        };
        again["envelope_id"] = json!(id);
        again["retry_attempt"] = json!(1);
        again["retry_reason"] = json!("timeout");
        self.send_frame(&again);
        again
    }

    /// Slack asks the bot for a new socket (`warning` or `refresh_requested`).
    pub fn disconnect(&self, reason: &str) {
        self.send_frame(&json!({
            "type": "disconnect",
            "reason": reason,
            "debug_info": {"host": "applink-loopback"},
        }));
    }

    async fn serve_socket(&self, stream: tokio::net::TcpStream) {
        let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
            return;
        };
        let (mut sink, mut source) = ws.split();
        let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
        let id = {
            let mut w = self.world();
            w.sockets_opened += 1;
            let id = w.sockets_opened;
            w.sockets.push((id, tx.clone()));
            id
        };
        let hello = json!({
            "type": "hello",
            "num_connections": self.open_sockets(),
            "debug_info": {"host": "applink-loopback", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": APP_ID},
        });
        Self::record(&mut self.world(), &hello);
        let _gone = tx.send(Message::Text(hello.to_string()));
        let writer = tokio::spawn(async move {
            while let Some(m) = rx.recv().await {
                if sink.send(m).await.is_err() {
                    break;
                }
            }
        });
        while let Some(Ok(frame)) = source.next().await {
            match frame {
                Message::Text(text) => {
                    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    if let Some(env) = v["envelope_id"].as_str() {
                        let mut w = self.world();
                        if let Some(e) = w.envelopes.get_mut(env) {
                            e.1 = Some(Instant::now());
                            e.2 = v["payload"].clone();
                        }
                    }
                }
                Message::Close(_) => break,
                _ => {}
            }
        }
        self.world().sockets.retain(|(s, _)| *s != id);
        writer.abort();
    }

    /// Does a Web API call: the answer, or the error code of an `ok: false`.
    fn answer(&self, method: &str, args: &Map<String, Value>) -> Result<Value, &'static str> {
        let mut w = self.world();
        let arg = |k: &str| {
            args.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        match method {
            "auth.test" => Ok(json!({
                "ok": true, "url": "https://loopback.slack.com/", "team": "loopback", "user": "career-circle",
                "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID, "is_enterprise_install": false,
            })),
            "apps.connections.open" => Ok(
                json!({"ok": true, "url": format!("ws://{}/link/?ticket={}", self.socket, w.next_id)}),
            ),
            "conversations.open" => {
                let user = arg("users");
                if !w.users.contains_key(&user) {
                    return Err("user_not_found");
                }
                let channel = match w.dms.get(&user).cloned() {
                    Some(c) => c,
                    None => {
                        let c = Self::mint_id(&mut w, 'D');
                        w.dms.insert(user, c.clone());
                        c
                    }
                };
                Ok(json!({"ok": true, "channel": {"id": channel}}))
            }
            "conversations.join" => {
                let channel = arg("channel");
                if channel != CHANNEL && channel != OTHER_CHANNEL {
                    return Err("channel_not_found");
                }
                if !w.member_of.contains(&channel) {
                    w.member_of.push(channel.clone());
                }
                Ok(json!({"ok": true, "channel": {"id": channel}}))
            }
            "users.info" => match w.users.get(&arg("user")) {
                Some(u) => Ok(json!({"ok": true, "user": u})),
                None => Err("user_not_found"),
            },
            "chat.postMessage" => {
                let channel = arg("channel");
                let dm = w.dms.values().any(|c| *c == channel);
                if !dm && channel != CHANNEL && channel != OTHER_CHANNEL {
                    return Err("channel_not_found");
                }
                if !dm && !w.member_of.contains(&channel) {
                    return Err("not_in_channel");
                }
                let text = arg("text");
                if text.chars().count() > 40_000 {
                    return Err("msg_too_long");
                }
                let blocks = args
                    .get("blocks")
                    .map(spec::structured)
                    .unwrap_or(Value::Null);
                if !blocks.is_null() && !spec::message_blocks(&blocks).is_empty() {
                    return Err("invalid_blocks");
                }
                let ts = Self::mint_ts(&mut w);
                let thread_ts = args
                    .get("thread_ts")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let posted = Posted {
                    channel: channel.clone(),
                    ts: ts.clone(),
                    user: BOT_USER.to_owned(),
                    bot_id: Some(BOT_ID.to_owned()),
                    text: text.clone(),
                    blocks: blocks.clone(),
                    thread_ts: thread_ts.clone(),
                    metadata: args
                        .get("metadata")
                        .map(spec::structured)
                        .unwrap_or(Value::Null),
                    files: Vec::new(),
                };
                w.messages.push(posted);
                drop(w);
                // Slack tells the app of its own message too (modern bot messages: bot_id, no subtype).
                let mut event = json!({
                    "type": "message", "text": text, "user": BOT_USER, "bot_id": BOT_ID,
                    "bot_profile": {"id": BOT_ID, "app_id": APP_ID, "name": "career-circle", "team_id": TEAM},
                    "ts": ts, "team": TEAM, "channel": channel, "event_ts": ts,
                    "channel_type": if dm { "im" } else { "channel" },
                });
                if let Some(root) = &thread_ts {
                    event["thread_ts"] = json!(root);
                }
                let env = self.envelope("events_api", self.event_payload(event));
                self.send_frame(&env);
                Ok(json!({"ok": true, "channel": channel, "ts": ts,
                          "message": {"type": "message", "text": text, "user": BOT_USER, "bot_id": BOT_ID, "ts": ts}}))
            }
            "chat.update" => {
                let (channel, ts) = (arg("channel"), arg("ts"));
                let blocks = args
                    .get("blocks")
                    .map(spec::structured)
                    .unwrap_or(Value::Null);
                if !blocks.is_null() && !spec::message_blocks(&blocks).is_empty() {
                    return Err("invalid_blocks");
                }
                let Some(m) = w
                    .messages
                    .iter_mut()
                    .find(|m| m.channel == channel && m.ts == ts)
                else {
                    return Err("message_not_found");
                };
                if m.bot_id.is_none() {
                    return Err("cant_update_message");
                }
                m.text = arg("text");
                m.blocks = blocks;
                Ok(json!({"ok": true, "channel": channel, "ts": ts, "text": m.text}))
            }
            "conversations.history" | "conversations.replies" => {
                let channel = arg("channel");
                let oldest: f64 = arg("oldest").parse().unwrap_or(0.0);
                let with_metadata =
                    matches!(args.get("include_all_metadata"), Some(Value::Bool(true)))
                        || matches!(
                            args.get("include_all_metadata").and_then(Value::as_str),
                            Some("true" | "1")
                        );
                let root = arg("ts");
                let messages: Vec<Value> = w
                    .messages
                    .iter()
                    .filter(|m| m.channel == channel)
                    .filter(|m| {
                        method == "conversations.history"
                            || m.ts == root
                            || m.thread_ts.as_deref() == Some(root.as_str())
                    })
                    .filter(|m| m.ts.parse::<f64>().unwrap_or(0.0) >= oldest)
                    .rev()
                    .map(|m| {
                        let mut v =
                            json!({"type": "message", "ts": m.ts, "text": m.text, "user": m.user});
                        if let Some(b) = &m.bot_id {
                            v["bot_id"] = json!(b);
                        }
                        if with_metadata && !m.metadata.is_null() {
                            v["metadata"] = m.metadata.clone();
                        }
                        v
                    })
                    .collect();
                Ok(json!({"ok": true, "messages": messages, "has_more": false}))
            }
            "views.open" => {
                let trigger = arg("trigger_id");
                match w.triggers.get(&trigger) {
                    Some(at) if at.elapsed() <= Duration::from_secs(3) => {}
                    Some(_) => return Err("expired_trigger_id"),
                    None => return Err("invalid_trigger_id"),
                }
                let view = args
                    .get("view")
                    .map(spec::structured)
                    .unwrap_or(Value::Null);
                if !spec::view(&view).is_empty() {
                    return Err("invalid_arguments");
                }
                // The view as Slack holds it (and gives it back in view_submission): the app's fields and its own.
                let mut stored = json!({
                    "private_metadata": "", "callback_id": "", "close": null, "submit": null,
                    "clear_on_close": false, "notify_on_close": false, "external_id": "",
                });
                for (k, v) in view.as_object().into_iter().flatten() {
                    stored[k] = v.clone();
                }
                let id = Self::mint_id(&mut w, 'V');
                stored["id"] = json!(id);
                stored["root_view_id"] = json!(id);
                stored["previous_view_id"] = Value::Null;
                stored["team_id"] = json!(TEAM);
                stored["app_installed_team_id"] = json!(TEAM);
                stored["app_id"] = json!(APP_ID);
                stored["bot_id"] = json!(BOT_ID);
                stored["hash"] = json!(format!("1767225600.{id}"));
                stored["state"] = json!({"values": {}});
                w.views.push(stored.clone());
                Ok(json!({"ok": true, "view": stored}))
            }
            "views.publish" => {
                let view = args
                    .get("view")
                    .map(spec::structured)
                    .unwrap_or(Value::Null);
                if !spec::view(&view).is_empty() {
                    return Err("invalid_arguments");
                }
                w.published.push((arg("user_id"), view.clone()));
                Ok(json!({"ok": true, "view": view}))
            }
            "files.getUploadURLExternal" => {
                let id = Self::mint_id(&mut w, 'F');
                let length = args
                    .get("length")
                    .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
                    .unwrap_or(0);
                w.uploads
                    .insert(id.clone(), (arg("filename"), length, None));
                Ok(
                    json!({"ok": true, "upload_url": format!("http://{}/upload/{id}", self.api), "file_id": id}),
                )
            }
            "files.completeUploadExternal" => {
                let files = args
                    .get("files")
                    .map(spec::structured)
                    .unwrap_or(Value::Null);
                let channel = arg("channel_id");
                let thread = args
                    .get("thread_ts")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let mut shared = Vec::new();
                for f in files.as_array().into_iter().flatten() {
                    let id = f["id"].as_str().unwrap_or_default();
                    let Some((name, length, Some(bytes))) = w.uploads.remove(id) else {
                        return Err("file_not_found");
                    };
                    if bytes.len() as u64 != length {
                        return Err("file_uploads_size_mismatch");
                    }
                    shared.push((f["title"].as_str().unwrap_or(&name).to_owned(), bytes));
                }
                if !channel.is_empty() {
                    let ts = Self::mint_ts(&mut w);
                    w.messages.push(Posted {
                        channel,
                        ts,
                        user: BOT_USER.to_owned(),
                        bot_id: Some(BOT_ID.to_owned()),
                        text: String::new(),
                        blocks: Value::Null,
                        thread_ts: thread,
                        metadata: Value::Null,
                        files: shared.clone(),
                    });
                }
                Ok(
                    json!({"ok": true, "files": shared.iter().map(|(t, _)| json!({"id": "F", "title": t})).collect::<Vec<_>>()}),
                )
            }
            _ => Err("unknown_method"),
        }
    }
}

/// A view's inputs: (block_id, action_id, element type, initial value or null).
fn input_blocks(view: &Value) -> Vec<(String, String, String, Value)> {
    view["blocks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["type"] == "input")
        .map(|b| {
            let element = &b["element"];
            (
                b["block_id"].as_str().unwrap_or_default().to_owned(),
                element["action_id"].as_str().unwrap_or_default().to_owned(),
                element["type"].as_str().unwrap_or_default().to_owned(),
                element.get("initial_value").cloned().unwrap_or(Value::Null),
            )
        })
        .collect()
}

/// Reads form fields or a JSON object.
fn arguments(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, String> {
    let kind = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if kind.starts_with("application/json") {
        return match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(map),
            other => Err(format!("the JSON body is not an object: {other:?}")),
        };
    }
    if body.is_empty() {
        return Ok(Map::new());
    }
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    let mut map = Map::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        map.insert(decode(k), Value::String(decode(v)));
    }
    Ok(map)
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn web_api(
    State(slack): State<LoopbackSlack>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    let (args, mut errors) = match arguments(&headers, &body) {
        Ok(a) => (a, Vec::new()),
        Err(e) => (Map::new(), vec![e]),
    };
    if !spec::spec().knows(&method) {
        errors.push(format!("{method}: not a Slack method"));
    } else {
        errors.extend(spec::spec().check(&method, &args));
    }
    // HAND-WRITTEN: the Block Kit and view limits.
    if let Some(b) = args.get("blocks") {
        errors.extend(spec::message_blocks(&spec::structured(b)));
    }
    if let Some(v) = args.get("view") {
        errors.extend(spec::view(&spec::structured(v)));
    }
    let expected = if method == "apps.connections.open" {
        APP_TOKEN
    } else {
        BOT_TOKEN
    };
    let call = Call {
        method: method.clone(),
        args: args.clone(),
        validated: errors.is_empty(),
        errors: errors.clone(),
        refused: None,
        at: Instant::now(),
    };
    let index = {
        let mut w = slack.world();
        w.calls.push(call);
        w.calls.len() - 1
    };
    let refuse = |slack: &LoopbackSlack, code: &str| {
        slack.world().calls[index].refused = Some(code.to_owned());
        (
            StatusCode::OK,
            axum::Json(json!({"ok": false, "error": code})),
        )
            .into_response()
    };
    if token.is_empty() {
        return refuse(&slack, "not_authed");
    }
    if token != expected {
        return refuse(&slack, "invalid_auth");
    }
    if token == BOT_TOKEN && slack.world().revoked {
        return refuse(&slack, "token_revoked");
    }
    if !errors.is_empty() {
        return refuse(&slack, "invalid_arguments");
    }
    let scope = rate_limit_scope(&method, &args);
    let limited_for = slack
        .world()
        .limited
        .get(&scope)
        .map(|until| until.saturating_duration_since(Instant::now()))
        .filter(|left| !left.is_zero());
    if let Some(left) = limited_for {
        return rate_limited(&slack, index, left.as_secs().max(1));
    }
    let fault = slack
        .world()
        .faults
        .get_mut(&method)
        .and_then(VecDeque::pop_front);
    match fault {
        Some(Fault::Error(code)) => return refuse(&slack, code),
        Some(Fault::RateLimited(secs)) => {
            slack
                .world()
                .limited
                .insert(scope, Instant::now() + Duration::from_secs(secs));
            return rate_limited(&slack, index, secs);
        }
        Some(Fault::LoseAnswer(hold)) => {
            let answer = slack.answer(&method, &args);
            tokio::time::sleep(hold).await;
            return match answer {
                Ok(v) => axum::Json(v).into_response(),
                Err(code) => refuse(&slack, code),
            };
        }
        None => {}
    }
    match slack.answer(&method, &args) {
        Ok(v) => axum::Json(v).into_response(),
        Err(code) => refuse(&slack, code),
    }
}

/// What one of Slack's limits counts: calls of a method in the workspace, or for `chat.postMessage`, posts to
/// one channel.
fn rate_limit_scope(method: &str, args: &Map<String, Value>) -> String {
    match (method, args.get("channel").and_then(Value::as_str)) {
        ("chat.postMessage", Some(channel)) => format!("{method}:{channel}"),
        _ => method.to_owned(),
    }
}

fn rate_limited(slack: &LoopbackSlack, index: usize, retry_after: u64) -> Response {
    slack.world().calls[index].refused = Some("429".to_owned());
    (
        StatusCode::TOO_MANY_REQUESTS,
        [("retry-after", retry_after.to_string())],
        axum::Json(json!({"ok": false, "error": "ratelimited"})),
    )
        .into_response()
}

async fn upload(
    State(slack): State<LoopbackSlack>,
    Path(file): Path<String>,
    body: Bytes,
) -> Response {
    let mut w = slack.world();
    match w.uploads.get_mut(&file) {
        Some(entry) => {
            let n = body.len();
            entry.2 = Some(body.to_vec());
            (StatusCode::OK, format!("OK - {n}")).into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such upload").into_response(),
    }
}

async fn response_url(
    State(slack): State<LoopbackSlack>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut w = slack.world();
    match w.responses.get_mut(&id) {
        // Slack allows five uses of a response_url.
        Some(list) if list.len() < 5 => {
            list.push(value);
            (StatusCode::OK, "ok").into_response()
        }
        Some(_) => (StatusCode::NOT_FOUND, "used_url").into_response(),
        None => (StatusCode::NOT_FOUND, "no_such_url").into_response(),
    }
}
