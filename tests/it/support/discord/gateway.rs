//! The gateway side (v10, JSON, no transport compression): HELLO, IDENTIFY → READY +
//! GUILD_CREATE, heartbeats, RESUME with replay, and dispatches pushed by tests.
//!
//! Sharding as Discord does it: a session identifies as `[shard, total]`; a guild's events go to the sessions of
//! shard `(guild_id >> 22) % total`, DMs to shard 0; identifies in one bucket (`shard % max_concurrency`) closer than
//! 5 s apart are answered with an invalid session (op 9); two live sessions on the same shard are a problem (both
//! would receive every event, as on Discord).
//!
//! serenity 0.12 connects to `<url>?v=10` and sets `compress: true` in IDENTIFY, which asks
//! Discord to zlib some payloads as binary frames; it reads text frames just as well, so the
//! loopback always answers in text.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::model;
use super::{LoopbackDiscord, TOKEN};

const DEFAULT_HEARTBEAT: Duration = Duration::from_millis(41_250);

/// Intent bits the loopback honours when it routes dispatches.
const GUILDS: u64 = 1 << 0;
const GUILD_MEMBERS: u64 = 1 << 1;
const GUILD_MESSAGES: u64 = 1 << 9;
const DIRECT_MESSAGES: u64 = 1 << 12;
const MESSAGE_CONTENT: u64 = 1 << 15;
const GUILD_PRESENCES: u64 = 1 << 8;
/// The intents Discord makes an application switch on in the developer portal before it may ask for them.
pub const PRIVILEGED: u64 = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT;

/// Counters a test can wait on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayStats {
    /// Open connections that have identified or resumed.
    pub ready_connections: usize,
    pub connections: usize,
    pub identifies: usize,
    pub resumes: usize,
    pub heartbeats: usize,
    pub dispatches: usize,
    /// Identifies answered with op 9 for breaking the bucket rule.
    pub invalid_sessions: usize,
    /// Identifies for a shard that a live session already held.
    pub duplicate_shards: usize,
}

enum Outgoing {
    Text(String),
    /// Close the TCP connection without a WebSocket close frame.
    Drop,
}

struct Session {
    seq: u64,
    intents: u64,
    /// [shard, total] from IDENTIFY.
    shard: (u64, u64),
    log: Vec<(u64, String)>,
    conn: Option<u64>,
}

struct Conn {
    session: Option<String>,
    tx: mpsc::UnboundedSender<Outgoing>,
}

struct HubState {
    sessions: HashMap<String, Session>,
    conns: HashMap<u64, Conn>,
    next_conn: u64,
    stats: GatewayStats,
    frames: Vec<Value>,
    problems: Vec<String>,
    heartbeat: Duration,
    /// Discord's identify rule: one identify per bucket per this long.
    identify_window: Duration,
    last_identify: HashMap<u64, Instant>,
}

pub struct Hub {
    state: Mutex<HubState>,
    changed: watch::Sender<GatewayStats>,
}

impl Hub {
    pub fn new() -> Self {
        Hub {
            state: Mutex::new(HubState {
                sessions: HashMap::new(),
                conns: HashMap::new(),
                next_conn: 0,
                stats: GatewayStats::default(),
                frames: Vec::new(),
                problems: Vec::new(),
                heartbeat: DEFAULT_HEARTBEAT,
                identify_window: Duration::from_secs(5),
                last_identify: HashMap::new(),
            }),
            changed: watch::Sender::new(GatewayStats::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HubState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn publish(&self, state: &HubState) {
        self.changed.send_replace(state.stats.clone());
    }

    pub fn stats(&self) -> GatewayStats {
        self.lock().stats.clone()
    }

    pub fn frames(&self) -> Vec<Value> {
        self.lock().frames.clone()
    }

    pub fn problems(&self) -> Vec<String> {
        self.lock().problems.clone()
    }

    pub fn set_heartbeat_interval(&self, interval: Duration) {
        self.lock().heartbeat = interval;
    }

    /// The [shard, total] of each identify, in order.
    pub fn identified_shards(&self) -> Vec<(u64, u64)> {
        self.lock()
            .frames
            .iter()
            .filter(|f| f["op"] == 2)
            .map(|f| {
                let s = &f["d"]["shard"];
                (s[0].as_u64().unwrap_or(0), s[1].as_u64().unwrap_or(1))
            })
            .collect()
    }

    pub async fn wait_for(&self, timeout: Duration, done: impl Fn(&GatewayStats) -> bool) -> bool {
        let mut rx = self.changed.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|s| done(s)))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    pub fn drop_all(&self) {
        let state = self.lock();
        for conn in state.conns.values() {
            // A closed channel means the connection is already gone.
            let _closed = conn.tx.send(Outgoing::Drop);
        }
    }

    /// Sends a dispatch to every session of the event's shard that the intents allow; returns how many it went to.
    pub fn dispatch(&self, t: &str, d: &Value, mentions_bot: bool) -> usize {
        let mut state = self.lock();
        let ids: Vec<String> = state.sessions.keys().cloned().collect();
        let guild = guild_of(t, d);
        let mut sent = 0;
        for id in ids {
            let Some(session) = state.sessions.get(&id) else {
                continue;
            };
            if shard_of(guild, session.shard.1) != session.shard.0 {
                continue;
            }
            let Some(payload) = shape_for_intents(t, d, session.intents, mentions_bot) else {
                continue;
            };
            send_dispatch(&mut state, &id, t, payload);
            sent += 1;
        }
        self.publish(&state);
        sent
    }
}

/// The guild an event belongs to, if any: its `guild_id`, or the guild itself for guild events.
fn guild_of(t: &str, d: &Value) -> Option<u64> {
    let id = match t {
        "GUILD_CREATE" | "GUILD_UPDATE" | "GUILD_DELETE" => &d["id"],
        _ => &d["guild_id"],
    };
    id.as_str().and_then(|s| s.parse().ok())
}

/// Discord's rule: a guild's events go to shard `(guild_id >> 22) % total`; everything else (DMs) to shard 0.
pub fn shard_of(guild: Option<u64>, total: u64) -> u64 {
    guild.map_or(0, |g| (g >> 22) % total.max(1))
}

/// Applies what Discord does with intents: no guild/DM message events without their intent,
/// and guild message content blanked without MESSAGE_CONTENT unless the bot is mentioned.
fn shape_for_intents(t: &str, d: &Value, intents: u64, mentions_bot: bool) -> Option<Value> {
    match t {
        // Privileged: no member events without GUILD_MEMBERS.
        "GUILD_MEMBER_ADD" | "GUILD_MEMBER_UPDATE" | "GUILD_MEMBER_REMOVE" => {
            return (intents & GUILD_MEMBERS != 0).then(|| d.clone());
        }
        "GUILD_CREATE" | "GUILD_DELETE" | "CHANNEL_CREATE" | "CHANNEL_UPDATE"
        | "CHANNEL_DELETE" => {
            if intents & GUILDS == 0 {
                return None;
            }
            let mut shaped = d.clone();
            if t == "GUILD_CREATE"
                && intents & GUILD_MEMBERS == 0
                && let Some(Value::Array(members)) = shaped.get_mut("members")
            {
                members.retain(|m| m["user"]["bot"] == json!(true));
            }
            return Some(shaped);
        }
        "MESSAGE_CREATE" | "MESSAGE_UPDATE" => {}
        _ => return Some(d.clone()),
    }
    let in_guild = d.get("guild_id").is_some_and(|g| !g.is_null());
    let needed = if in_guild {
        GUILD_MESSAGES
    } else {
        DIRECT_MESSAGES
    };
    if intents & needed == 0 {
        return None;
    }
    if !in_guild || intents & MESSAGE_CONTENT != 0 || mentions_bot {
        return Some(d.clone());
    }
    let mut blank = d.clone();
    if let Some(map) = blank.as_object_mut() {
        map.insert("content".into(), json!(""));
        map.insert("embeds".into(), json!([]));
        map.insert("attachments".into(), json!([]));
        map.insert("components".into(), json!([]));
    }
    Some(blank)
}

fn send_dispatch(state: &mut HubState, session_id: &str, t: &str, d: Value) {
    let Some(session) = state.sessions.get_mut(session_id) else {
        return;
    };
    session.seq += 1;
    let text = json!({"op": 0, "t": t, "s": session.seq, "d": d}).to_string();
    session.log.push((session.seq, text.clone()));
    let conn = session.conn;
    state.stats.dispatches += 1;
    if let Some(conn) = conn.and_then(|c| state.conns.get(&c)) {
        let _closed = conn.tx.send(Outgoing::Text(text));
    }
}

pub async fn serve(discord: LoopbackDiscord, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(connection(discord.clone(), stream));
            }
            Err(why) => {
                eprintln!("loopback Discord: gateway accept failed: {why}");
                return;
            }
        }
    }
}

async fn connection(discord: LoopbackDiscord, stream: TcpStream) {
    let hub = &discord.inner.hub;
    let mut query = None;
    // The callback's signature is tungstenite's; its error type is not ours to shrink.
    #[allow(clippy::result_large_err)]
    let callback = |request: &Request, response: Response| {
        query = request.uri().query().map(str::to_string);
        Ok(response)
    };
    let mut ws = match tokio_tungstenite::accept_hdr_async(stream, callback).await {
        Ok(ws) => ws,
        Err(why) => {
            hub.lock()
                .problems
                .push(format!("gateway: WebSocket handshake failed: {why}"));
            return;
        }
    };
    let query = query.unwrap_or_default();
    let params: HashMap<&str, &str> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let mut refusal = None;
    if params.get("v") != Some(&"10") {
        refusal = Some(format!(
            "gateway: client asked for version {:?}, the loopback speaks v10",
            params.get("v")
        ));
    } else if params.get("encoding").is_some_and(|e| *e != "json") {
        refusal = Some(format!(
            "gateway: unsupported encoding {:?}",
            params.get("encoding")
        ));
    } else if let Some(compress) = params.get("compress") {
        refusal = Some(format!(
            "gateway: transport compression {compress:?} is not implemented by the loopback"
        ));
    }
    if let Some(why) = refusal {
        hub.lock().problems.push(why.clone());
        let frame = CloseFrame {
            code: CloseCode::Library(4000),
            reason: why.into(),
        };
        let _gone = ws.send(Message::Close(Some(frame))).await;
        return;
    }

    let (tx, mut rx) = mpsc::unbounded_channel();
    let (conn_id, heartbeat) = {
        let mut state = hub.lock();
        let id = state.next_conn;
        state.next_conn += 1;
        state.conns.insert(id, Conn { session: None, tx });
        state.stats.connections += 1;
        hub.publish(&state);
        (id, state.heartbeat)
    };
    let hello = json!({"op": 10, "s": null, "t": null, "d": {"heartbeat_interval": heartbeat.as_millis() as u64, "_trace": ["loopback-gateway"]}});
    if ws.send(Message::Text(hello.to_string())).await.is_ok() {
        loop {
            tokio::select! {
                frame = ws.next() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        match client_frame(&discord, conn_id, &text) {
                            Reply::Send(frames) => {
                                let mut failed = false;
                                for frame in frames {
                                    failed |= ws.send(Message::Text(frame)).await.is_err();
                                }
                                if failed {
                                    break;
                                }
                            }
                            Reply::Close(code, reason) => {
                                let frame = CloseFrame { code: CloseCode::Library(code), reason: reason.into() };
                                let _gone = ws.send(Message::Close(Some(frame))).await;
                                break;
                            }
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        hub.lock().problems.push("gateway: client sent a binary frame (the loopback takes JSON text)".into());
                        let frame = CloseFrame { code: CloseCode::Library(4002), reason: "Error while decoding payload.".into() };
                        let _gone = ws.send(Message::Close(Some(frame))).await;
                        break;
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => {}
                },
                out = rx.recv() => match out {
                    Some(Outgoing::Text(text)) => {
                        if ws.send(Message::Text(text)).await.is_err() {
                            break;
                        }
                    }
                    // Dropping the stream closes the socket with no close frame, like a network cut.
                    Some(Outgoing::Drop) | None => break,
                },
            }
        }
    }
    drop(ws);
    let mut state = hub.lock();
    if let Some(conn) = state.conns.remove(&conn_id)
        && let Some(session) = conn.session.and_then(|s| state.sessions.get_mut(&s))
        && session.conn == Some(conn_id)
    {
        session.conn = None;
    }
    state.stats.ready_connections = state.conns.values().filter(|c| c.session.is_some()).count();
    hub.publish(&state);
}

enum Reply {
    Send(Vec<String>),
    Close(u16, String),
}

fn client_frame(discord: &LoopbackDiscord, conn_id: u64, text: &str) -> Reply {
    let hub = &discord.inner.hub;
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        hub.lock().problems.push(format!(
            "gateway: client sent something that is not JSON: {text}"
        ));
        return Reply::Close(4002, "Error while decoding payload.".into());
    };
    let mut recorded = frame.clone();
    if let Some(token) = recorded.pointer_mut("/d/token") {
        *token = json!("<token>");
    }
    hub.lock().frames.push(recorded);
    let op = frame["op"].as_u64().unwrap_or(u64::MAX);
    let d = &frame["d"];
    match op {
        1 => {
            let mut state = hub.lock();
            state.stats.heartbeats += 1;
            hub.publish(&state);
            Reply::Send(vec![json!({"op": 11}).to_string()])
        }
        2 => identify(discord, conn_id, d),
        6 => resume(discord, conn_id, d),
        // Presence updates, voice state and member requests are accepted and ignored.
        3 | 4 | 8 => Reply::Send(Vec::new()),
        other => {
            hub.lock()
                .problems
                .push(format!("gateway: unknown opcode {other} in {text}"));
            Reply::Close(4001, "Unknown opcode.".into())
        }
    }
}

fn token_ok(token: &Value) -> bool {
    token
        .as_str()
        .is_some_and(|t| t.strip_prefix("Bot ").unwrap_or(t) == TOKEN)
}

fn identify(discord: &LoopbackDiscord, conn_id: u64, d: &Value) -> Reply {
    let hub = &discord.inner.hub;
    if !token_ok(&d["token"]) {
        return Reply::Close(4004, "Authentication failed.".into());
    }
    let Some(intents) = d["intents"].as_u64() else {
        hub.lock()
            .problems
            .push(format!("gateway: IDENTIFY without intents: {d}"));
        return Reply::Close(4013, "Invalid intent(s).".into());
    };
    if !d["properties"].is_object() {
        hub.lock()
            .problems
            .push(format!("gateway: IDENTIFY without properties: {d}"));
        return Reply::Close(4002, "Error while decoding payload.".into());
    }
    if intents & PRIVILEGED & !discord.state().privileged_intents != 0 {
        return Reply::Close(4014, "Disallowed intent(s).".into());
    }
    let shard = match d.get("shard") {
        None | Some(Value::Null) => (0, 1),
        Some(v) => match (v[0].as_u64(), v[1].as_u64()) {
            (Some(id), Some(total)) if total > 0 && id < total => (id, total),
            _ => return Reply::Close(4010, "Invalid shard.".into()),
        },
    };
    let max_concurrency = discord.state().max_concurrency.max(1);
    {
        let mut state = hub.lock();
        let bucket = shard.0 % max_concurrency;
        let now = Instant::now();
        let window = state.identify_window;
        if let Some(since) = state
            .last_identify
            .get(&bucket)
            .map(|last| now.duration_since(*last))
            && since < window
        {
            state.stats.invalid_sessions += 1;
            state.problems.push(format!(
                "gateway: identify for shard {shard:?} {since:?} after the last one in bucket {bucket} (Discord allows one per {window:?})"
            ));
            hub.publish(&state);
            return Reply::Send(vec![
                json!({"op": 9, "d": false, "s": null, "t": null}).to_string(),
            ]);
        }
        state.last_identify.insert(bucket, now);
        if state
            .sessions
            .values()
            .any(|s| s.conn.is_some() && s.shard == shard)
        {
            state.stats.duplicate_shards += 1;
            state.problems.push(format!(
                "gateway: two live sessions hold shard {shard:?}: both receive every event"
            ));
        }
    }
    let (ready, guilds) = {
        let state = discord.state();
        let seeds = &state.seeds;
        let Some(bot) = state.users.get(&seeds.bot_user_id) else {
            return Reply::Close(4000, "Unknown error.".into());
        };
        let present: Vec<String> = state
            .guilds
            .values()
            .filter(|g| g.bot_in && shard_of(g.id.parse().ok(), shard.1) == shard.0)
            .map(|g| g.id.clone())
            .collect();
        let ready = json!({
            "v": 10,
            "user": model::current_user_json(bot),
            "guilds": present.iter().map(|id| json!({"id": id, "unavailable": true})).collect::<Vec<_>>(),
            "resume_gateway_url": state.gateway_url,
            "shard": [shard.0, shard.1],
            "application": {"id": seeds.application_id, "flags": 557_056},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "auth": {},
            "user_settings": {},
            "session_type": "normal",
            "_trace": ["loopback-gateway"],
        });
        // Without GUILD_MEMBERS Discord sends only the bot's own member.
        let guilds: Vec<Value> = if intents & GUILDS != 0 {
            present
                .iter()
                .filter_map(|id| {
                    super::guild_create_payload(&state, id, intents & GUILD_MEMBERS != 0)
                })
                .collect()
        } else {
            Vec::new()
        };
        (ready, guilds)
    };

    let mut state = hub.lock();
    if state
        .conns
        .get(&conn_id)
        .is_some_and(|c| c.session.is_some())
    {
        return Reply::Close(4005, "Already authenticated.".into());
    }
    // A client that identifies again has given up its old session on that shard.
    state
        .sessions
        .retain(|_, s| s.conn.is_some() || s.shard != shard);
    let session_id = model::snowflake();
    state.sessions.insert(
        session_id.clone(),
        Session {
            seq: 0,
            intents,
            shard,
            log: Vec::new(),
            conn: Some(conn_id),
        },
    );
    if let Some(conn) = state.conns.get_mut(&conn_id) {
        conn.session = Some(session_id.clone());
    }
    state.stats.identifies += 1;
    state.stats.ready_connections = state.conns.values().filter(|c| c.session.is_some()).count();
    // The session id is only known once the hub has taken the connection.
    let mut ready = ready;
    if let Some(map) = ready.as_object_mut() {
        map.insert("session_id".into(), json!(session_id));
    }
    send_dispatch(&mut state, &session_id, "READY", ready);
    for guild in guilds {
        send_dispatch(&mut state, &session_id, "GUILD_CREATE", guild);
    }
    hub.publish(&state);
    Reply::Send(Vec::new())
}

fn resume(discord: &LoopbackDiscord, conn_id: u64, d: &Value) -> Reply {
    let hub = &discord.inner.hub;
    if !token_ok(&d["token"]) {
        return Reply::Close(4004, "Authentication failed.".into());
    }
    let session_id = d["session_id"].as_str().unwrap_or_default().to_string();
    let seq = d["seq"].as_u64();
    let mut state = hub.lock();
    let Some(session) = state.sessions.get_mut(&session_id) else {
        // Not resumable: the client must identify afresh.
        return Reply::Send(vec![
            json!({"op": 9, "d": false, "s": null, "t": null}).to_string(),
        ]);
    };
    let Some(seq) = seq.filter(|s| *s <= session.seq) else {
        return Reply::Send(vec![
            json!({"op": 9, "d": false, "s": null, "t": null}).to_string(),
        ]);
    };
    let previous = session.conn.replace(conn_id);
    let missed: Vec<String> = session
        .log
        .iter()
        .filter(|(s, _)| *s > seq)
        .map(|(_, text)| text.clone())
        .collect();
    if let Some(old) = previous
        .filter(|old| *old != conn_id)
        .and_then(|old| state.conns.get_mut(&old))
    {
        old.session = None;
        let _closed = old.tx.send(Outgoing::Drop);
    }
    if let Some(conn) = state.conns.get_mut(&conn_id) {
        conn.session = Some(session_id.clone());
    }
    state.stats.resumes += 1;
    state.stats.ready_connections = state.conns.values().filter(|c| c.session.is_some()).count();
    let Some(conn) = state.conns.get(&conn_id) else {
        return Reply::Send(Vec::new());
    };
    for text in missed {
        let _closed = conn.tx.send(Outgoing::Text(text));
    }
    send_dispatch(
        &mut state,
        &session_id,
        "RESUMED",
        json!({"_trace": ["loopback-gateway"]}),
    );
    hub.publish(&state);
    Reply::Send(Vec::new())
}
