//! A stand-in for Discord on the loopback interface, for tests: REST (v10) on one port, the
//! gateway (v10, JSON) on another. Every request body is checked against Discord's official
//! OpenAPI spec and every answer against the spec's response schema; a request that fails is
//! answered like Discord would (400, code 50035) and kept, so `assert_all_valid` can fail the
//! test with the reasons.
//!
//! ```ignore
//! let discord = LoopbackDiscord::start().await;
//! let http = Arc::new(discord.http());          // serenity Http aimed at the loopback
//! // ... run the code under test ...
//! assert_eq!(discord.messages_in(&discord.channel_id()).len(), 1);
//! discord.assert_all_valid();
//! ```

// Each test uses a different part of this kit; the rest would be dead code in that build.
#![allow(dead_code)]

pub mod faults;
pub mod gateway;
pub mod limits;
pub mod model;
pub mod rest;
pub mod spec;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use serenity::http::{Http, HttpBuilder};
use tokio::net::TcpListener;

pub use faults::Fault;
use faults::FaultRule;
use model::{ChannelKind, ChannelRec, GuildRec, UserRec};

/// The bot token the loopback accepts (REST `Authorization: Bot …` and the gateway IDENTIFY).
pub const TOKEN: &str = "loopback-token.career-circle.test";

/// Name of the seeded guild text channel.
pub const CHANNEL_NAME: &str = "career-circle";

/// One REST request as the loopback saw it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// The route template (`/channels/{channel_id}/messages`); `None` for a route the loopback
    /// does not serve.
    pub route: Option<String>,
    /// The path as sent, under `/api/v10`, with its query if any.
    pub path: String,
    /// The JSON body, or the `payload_json` part of a multipart body; `Null` when there was none.
    pub body: Value,
    /// Uploaded files: (filename, bytes).
    pub files: Vec<(String, Vec<u8>)>,
    /// The route is known and the body passed the spec and Discord's own rules.
    pub validated: bool,
    /// `None` while the loopback is still answering (e.g. a held [`Fault::Timeout`]).
    pub status: Option<u16>,
    /// Why it did not validate.
    pub errors: Vec<String>,
    /// When it arrived.
    pub at: Instant,
}

/// Ids of what every loopback starts with.
#[derive(Debug, Clone)]
pub struct Seeds {
    pub bot_user_id: String,
    pub application_id: String,
    pub guild_id: String,
    pub everyone_role_id: String,
    pub bot_role_id: String,
    /// The text channel `#career-circle`.
    pub channel_id: String,
    /// The text channel `#general`.
    pub general_channel_id: String,
    /// The guild owner, user "organiser".
    pub organiser_id: String,
    /// Users "alice" and "bob".
    pub member_ids: Vec<String>,
}

/// An interaction the loopback handed out, and how it was answered so far.
#[derive(Debug, Clone)]
struct InteractionRec {
    id: String,
    token: String,
    /// 2 command, 3 component, 5 modal submit.
    kind: u64,
    channel_id: String,
    user_id: String,
    /// Components: the message the component is on.
    message_id: Option<String>,
    pushed_at: Option<Instant>,
    /// The callback type it was answered with.
    answered: Option<u64>,
    original_message_id: Option<String>,
}

struct State {
    seeds: Seeds,
    gateway_url: String,
    users: BTreeMap<String, UserRec>,
    guilds: BTreeMap<String, GuildRec>,
    channels: BTreeMap<String, ChannelRec>,
    messages: HashMap<String, Vec<Value>>,
    dm_channels: HashMap<String, String>,
    /// (channel, nonce) → (message id, when).
    nonces: HashMap<(String, String), (String, Instant)>,
    nonce_window: Duration,
    global_commands: Vec<Value>,
    guild_commands: HashMap<String, Vec<Value>>,
    interactions: HashMap<String, InteractionRec>,
    interaction_deadline: Duration,
    requests: Vec<RecordedRequest>,
    /// Answers that failed the spec and protocol slips: bugs of the loopback or the client that
    /// belong to no single request.
    problems: Vec<String>,
    faults: Vec<FaultRule>,
    limits: limits::Limits,
    /// Until then every REST call is answered 401 (a revoked token).
    token_rejected_until: Option<Instant>,
    /// The privileged intents the application has switched on in the developer portal.
    privileged_intents: u64,
    /// What `GET /gateway/bot` recommends, and the identify buckets.
    recommended_shards: u64,
    max_concurrency: u64,
}

struct Inner {
    rest_addr: SocketAddr,
    gateway_addr: SocketAddr,
    state: Mutex<State>,
    hub: gateway::Hub,
}

/// The loopback Discord. Cheap to clone; all clones share one server.
#[derive(Clone)]
pub struct LoopbackDiscord {
    inner: Arc<Inner>,
}

impl LoopbackDiscord {
    /// Binds REST and gateway on 127.0.0.1 (ephemeral ports) and serves them on the current
    /// tokio runtime until it shuts down. Panics when the spec cannot be loaded or a port
    /// cannot be bound: the tests cannot mean anything then.
    pub async fn start() -> LoopbackDiscord {
        spec::spec();
        let rest = bind().await;
        let gateway = bind().await;
        let rest_addr = local_addr(&rest);
        let gateway_addr = local_addr(&gateway);
        let gateway_url = format!("ws://{gateway_addr}");
        let state = seed(gateway_url);
        let discord = LoopbackDiscord {
            inner: Arc::new(Inner {
                rest_addr,
                gateway_addr,
                state: Mutex::new(state),
                hub: gateway::Hub::new(),
            }),
        };
        let router = rest::router(discord.clone());
        tokio::spawn(async move {
            if let Err(why) = axum::serve(rest, router).await {
                eprintln!("loopback Discord: REST server stopped: {why}");
            }
        });
        tokio::spawn(gateway::serve(discord.clone(), gateway));
        discord
    }

    /// For `HttpBuilder::proxy`: `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.inner.rest_addr)
    }

    /// The gateway URL `GET /gateway` hands out.
    pub fn gateway_url(&self) -> String {
        format!("ws://{}", self.inner.gateway_addr)
    }

    /// A serenity `Http` that sends every call here (the proxy only works with serenity's own
    /// rate limiter off; 429s then come straight back to the caller).
    pub fn http(&self) -> Http {
        let mut builder = HttpBuilder::new(TOKEN)
            .proxy(self.base_url())
            .ratelimiter_disabled(true);
        // A real bot learns this from READY; setting it lets REST-only tests register commands.
        if let Ok(id) = self.application_id().parse::<u64>() {
            builder = builder.application_id(id.into());
        }
        builder.build()
    }

    pub fn seeds(&self) -> Seeds {
        self.state().seeds.clone()
    }

    pub fn bot_user_id(&self) -> String {
        self.state().seeds.bot_user_id.clone()
    }

    pub fn application_id(&self) -> String {
        self.state().seeds.application_id.clone()
    }

    pub fn guild_id(&self) -> String {
        self.state().seeds.guild_id.clone()
    }

    /// `#career-circle`.
    pub fn channel_id(&self) -> String {
        self.state().seeds.channel_id.clone()
    }

    /// A user's id by name ("organiser", "alice", "bob", or one added later).
    pub fn user_id(&self, name: &str) -> Option<String> {
        self.state()
            .users
            .values()
            .find(|u| u.name == name)
            .map(|u| u.id.clone())
    }

    /// Adds a guild member and returns the new user's id.
    pub fn add_user(&self, name: &str) -> String {
        let id = model::snowflake();
        let user = UserRec {
            id: id.clone(),
            name: name.to_string(),
            bot: false,
            dms_closed: false,
            joined_at: model::now_iso(),
            manager: false,
            deleted: false,
        };
        let mut state = self.state();
        let guild = state.seeds.guild_id.clone();
        state.users.insert(id.clone(), user);
        if let Some(g) = state.guilds.get_mut(&guild) {
            g.members.insert(id.clone());
        }
        id
    }

    /// A second (third, ...) guild with the bot in it and one text channel `#career-circle`: (guild, channel).
    /// Nobody else is in it until `join_guild`. Clients connecting from now on get its GUILD_CREATE.
    pub fn add_guild(&self, name: &str) -> (String, String) {
        let guild_id = model::snowflake();
        let channel_id = model::snowflake();
        let mut state = self.state();
        let bot = state.seeds.bot_user_id.clone();
        state.guilds.insert(
            guild_id.clone(),
            GuildRec {
                id: guild_id.clone(),
                name: name.to_string(),
                owner_id: bot.clone(),
                everyone_role_id: guild_id.clone(),
                bot_role_id: model::snowflake(),
                members: [bot].into_iter().collect(),
                bot_in: true,
            },
        );
        state.channels.insert(
            channel_id.clone(),
            ChannelRec {
                id: channel_id.clone(),
                kind: ChannelKind::GuildText,
                name: CHANNEL_NAME.to_string(),
                guild_id: Some(guild_id.clone()),
                parent_id: None,
                position: 0,
                recipient_id: None,
                owner_id: None,
                archived: false,
                locked: false,
                auto_archive_duration: 1440,
                archive_timestamp: None,
                created: model::now_iso(),
                last_message_id: None,
                message_count: 0,
            },
        );
        (guild_id, channel_id)
    }

    /// Like `add_guild`, with an id whose events go to `shard` of `total` (`(id >> 22) % total`).
    pub fn add_guild_on_shard(&self, name: &str, shard: u64, total: u64) -> (String, String) {
        loop {
            let (guild, channel) = self.add_guild(name);
            let id: u64 = guild.parse().unwrap();
            if gateway::shard_of(Some(id), total) == shard {
                return (guild, channel);
            }
            // Not this one: forget it and draw the next id (ids grow by one when drawn in the same millisecond).
            let mut state = self.state();
            state.guilds.remove(&guild);
            state.channels.remove(&channel);
        }
    }

    /// What `GET /gateway/bot` answers: the recommended shard count and the identify buckets.
    pub fn set_sharding(&self, recommended_shards: u64, max_concurrency: u64) {
        let mut state = self.state();
        state.recommended_shards = recommended_shards.max(1);
        state.max_concurrency = max_concurrency.max(1);
    }

    /// Each identify's [shard, total], in order.
    pub fn identified_shards(&self) -> Vec<(u64, u64)> {
        self.inner.hub.identified_shards()
    }

    /// Gateway protocol problems seen (early identifies, duplicate shards, ...).
    pub fn gateway_problems(&self) -> Vec<String> {
        self.inner.hub.problems()
    }

    /// A text channel added to a guild (as a member with Manage Channels would).
    pub fn add_channel(&self, guild_id: &str, name: &str) -> String {
        let id = model::snowflake();
        self.state().channels.insert(
            id.clone(),
            ChannelRec {
                id: id.clone(),
                kind: ChannelKind::GuildText,
                name: name.to_string(),
                guild_id: Some(guild_id.to_string()),
                parent_id: None,
                position: 2,
                recipient_id: None,
                owner_id: None,
                archived: false,
                locked: false,
                auto_archive_duration: 1440,
                archive_timestamp: None,
                created: model::now_iso(),
                last_message_id: None,
                message_count: 0,
            },
        );
        id
    }

    /// A user joins a guild (no event: the bot does not act on joins).
    pub fn join_guild(&self, guild_id: &str, user_id: &str) {
        if let Some(g) = self.state().guilds.get_mut(guild_id) {
            g.members.insert(user_id.to_string());
        }
    }

    /// A member leaves the guild or is kicked: GUILD_MEMBER_REMOVE, which Discord sends only with the
    /// privileged GUILD_MEMBERS intent. Returns how many sessions got it.
    pub fn remove_member(&self, guild_id: &str, user_id: &str) -> usize {
        let user = {
            let mut state = self.state();
            if let Some(g) = state.guilds.get_mut(guild_id) {
                g.members.remove(user_id);
            }
            lookup_user(&state, user_id)
        };
        self.push_event(
            "GUILD_MEMBER_REMOVE",
            json!({"guild_id": guild_id, "user": model::user_json(&user)}),
        )
    }

    /// The bot is removed from a guild (kicked, banned): GUILD_DELETE without `unavailable`, and from now on its
    /// REST calls there fail with 50001 Missing Access.
    pub fn remove_bot(&self, guild_id: &str) -> usize {
        {
            let mut state = self.state();
            let bot = state.seeds.bot_user_id.clone();
            if let Some(g) = state.guilds.get_mut(guild_id) {
                g.bot_in = false;
                g.members.remove(&bot);
            }
        }
        self.push_event("GUILD_DELETE", json!({"id": guild_id}))
    }

    /// The bot is added back to a guild: GUILD_CREATE with the guild's channels and members.
    pub fn add_bot(&self, guild_id: &str) -> usize {
        let payload = {
            let mut state = self.state();
            let bot = state.seeds.bot_user_id.clone();
            if let Some(g) = state.guilds.get_mut(guild_id) {
                g.bot_in = true;
                g.members.insert(bot);
            }
            guild_create_payload(&state, guild_id, true)
        };
        match payload {
            Some(d) => self.push_event("GUILD_CREATE", d),
            None => 0,
        }
    }

    /// A channel deleted by a member (and its threads with it): CHANNEL_DELETE, and from now on 10003 Unknown
    /// Channel for anything sent there.
    pub fn delete_channel(&self, channel_id: &str) -> usize {
        let channel = {
            let mut state = self.state();
            let Some(channel) = state.channels.remove(channel_id) else {
                return 0;
            };
            let threads: Vec<String> = state
                .channels
                .values()
                .filter(|c| c.parent_id.as_deref() == Some(channel_id))
                .map(|c| c.id.clone())
                .collect();
            for t in threads {
                state.channels.remove(&t);
            }
            model::channel_json(&channel, &|_| None)
        };
        self.push_event("CHANNEL_DELETE", channel)
    }

    /// The user's account is gone: Discord answers 10013 Unknown User when the bot tries to reach them.
    pub fn delete_account(&self, user_id: &str) {
        if let Some(user) = self.state().users.get_mut(user_id) {
            user.deleted = true;
        }
    }

    /// Gives the user the Manage Server permission in every guild (interactions carry it).
    pub fn grant_manage_server(&self, user_id: &str) {
        if let Some(user) = self.state().users.get_mut(user_id) {
            user.manager = true;
        }
    }

    /// A message as the loopback holds it now (after any edits).
    pub fn message(&self, channel_id: &str, message_id: &str) -> Option<Value> {
        find_message(&self.state(), channel_id, message_id).cloned()
    }

    /// From now on, DMs to this user fail with 50007 like for someone who blocked the bot.
    pub fn close_dms(&self, user_id: &str) {
        if let Some(user) = self.state().users.get_mut(user_id) {
            user.dms_closed = true;
        }
    }

    /// How long a nonce sent with `enforce_nonce` dedupes (Discord: "a few minutes").
    /// Answers every REST call with 401 for `for_`, as after the token was reset in the developer portal.
    pub fn reject_token_for(&self, for_: Duration) {
        self.state().token_rejected_until = Some(Instant::now() + for_);
    }

    /// The privileged intents switched on for the application (the rest are refused with close code 4014).
    pub fn set_privileged_intents(&self, bits: u64) {
        self.state().privileged_intents = bits;
    }

    /// Requests per second the whole bot may make (Discord: 50).
    pub fn set_global_limit(&self, per_second: usize) {
        self.state().limits.global = per_second;
    }

    /// How many requests were answered 429.
    pub fn rate_limited_count(&self) -> usize {
        self.state()
            .requests
            .iter()
            .filter(|r| r.status == Some(429))
            .count()
    }

    /// The most requests that arrived within any one second.
    pub fn max_requests_in_any_second(&self) -> usize {
        let times: Vec<Instant> = self.state().requests.iter().map(|r| r.at).collect();
        limits::max_in_window(&times, Duration::from_secs(1))
    }

    /// The users, roles and @everyone/@here a stored message actually pinged, as Discord worked them out from its
    /// content and `allowed_mentions`.
    pub fn pings_of(&self, message: &Value) -> (Vec<String>, Vec<String>, bool) {
        let ids = |field: &str| -> Vec<String> {
            message[field]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|u| u["id"].as_str().or_else(|| u.as_str()).map(str::to_owned))
                .collect()
        };
        (
            ids("mentions"),
            ids("mention_roles"),
            message["mention_everyone"].as_bool().unwrap_or(false),
        )
    }

    pub fn set_nonce_window(&self, window: Duration) {
        self.state().nonce_window = window;
    }

    /// How long after INTERACTION_CREATE the first callback is accepted (Discord: 3 s).
    pub fn set_interaction_deadline(&self, deadline: Duration) {
        self.state().interaction_deadline = deadline;
    }

    /// The next `times` requests to `method route` (a template such as
    /// `/channels/{channel_id}/messages`) fail with `fault`.
    pub fn fail_next(&self, method: &str, route: &str, fault: Fault, times: u32) {
        self.fail_next_for(method, route, None, fault, times);
    }

    /// Like `fail_next`, for requests to one channel only.
    pub fn fail_next_in(&self, method: &str, route: &str, channel: &str, fault: Fault, times: u32) {
        self.fail_next_for(method, route, Some(channel.to_owned()), fault, times);
    }

    fn fail_next_for(
        &self,
        method: &str,
        route: &str,
        channel: Option<String>,
        fault: Fault,
        times: u32,
    ) {
        let method = method.to_ascii_uppercase();
        if !spec::ROUTES
            .iter()
            .any(|r| r.method == method && r.template == route)
        {
            panic!("fail_next: the loopback serves no route {method} {route}");
        }
        self.state().faults.push(FaultRule {
            method,
            route: route.to_string(),
            channel,
            fault,
            remaining: times,
        });
    }

    /// Forgets the faults not yet used.
    pub fn clear_faults(&self) {
        self.state().faults.clear();
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state().requests.clone()
    }

    /// Requests to one route template, e.g. `("POST", "/channels/{channel_id}/messages")`.
    pub fn requests_to(&self, method: &str, route: &str) -> Vec<RecordedRequest> {
        self.state()
            .requests
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.route.as_deref() == Some(route))
            .cloned()
            .collect()
    }

    pub fn validated_count(&self) -> usize {
        self.state().requests.iter().filter(|r| r.validated).count()
    }

    /// Every reason for failing `assert_all_valid`, one entry per request or problem.
    pub fn validation_errors(&self) -> Vec<String> {
        let state = self.state();
        let mut out: Vec<String> = state
            .requests
            .iter()
            .filter(|r| !r.validated)
            .map(|r| {
                format!(
                    "{} {} → {:?}\n    {}",
                    r.method,
                    r.path,
                    r.status,
                    r.errors.join("\n    ")
                )
            })
            .collect();
        out.extend(state.problems.iter().cloned());
        out.extend(self.inner.hub.problems());
        out
    }

    /// Panics listing every request that failed validation, every unknown route, and every
    /// answer of the loopback's that the spec would not allow.
    #[track_caller]
    pub fn assert_all_valid(&self) {
        let errors = self.validation_errors();
        if !errors.is_empty() {
            panic!(
                "loopback Discord saw {} problem(s):\n{}",
                errors.len(),
                errors.join("\n")
            );
        }
    }

    /// Messages in a channel, DM or thread, oldest first, as Discord returned them.
    pub fn messages_in(&self, channel_id: &str) -> Vec<Value> {
        self.state()
            .messages
            .get(channel_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Messages in the DM channel with this user (both directions).
    pub fn dm_messages_to(&self, user_id: &str) -> Vec<Value> {
        let state = self.state();
        state
            .dm_channels
            .get(user_id)
            .and_then(|c| state.messages.get(c))
            .cloned()
            .unwrap_or_default()
    }

    pub fn dm_channel_of(&self, user_id: &str) -> Option<String> {
        self.state().dm_channels.get(user_id).cloned()
    }

    /// A channel or thread as `GET /channels/{id}` would show it.
    pub fn channel(&self, channel_id: &str) -> Option<Value> {
        let state = self.state();
        state
            .channels
            .get(channel_id)
            .map(|c| model::channel_json(c, &|id| state.users.get(id).cloned()))
    }

    /// Threads opened under a channel, oldest first.
    pub fn threads_in(&self, parent_id: &str) -> Vec<Value> {
        let state = self.state();
        let mut threads: Vec<&ChannelRec> = state
            .channels
            .values()
            .filter(|c| c.kind.is_thread() && c.parent_id.as_deref() == Some(parent_id))
            .collect();
        threads.sort_by(|a, b| a.id.len().cmp(&b.id.len()).then(a.id.cmp(&b.id)));
        threads
            .into_iter()
            .map(|c| model::channel_json(c, &|id| state.users.get(id).cloned()))
            .collect()
    }

    /// The registered application commands (global, then per guild).
    pub fn commands(&self) -> (Vec<Value>, HashMap<String, Vec<Value>>) {
        let state = self.state();
        (state.global_commands.clone(), state.guild_commands.clone())
    }

    /// The message an interaction's response created (type 4, or 5 once edited), if any.
    pub fn original_response(&self, interaction_token: &str) -> Option<Value> {
        let state = self.state();
        let rec = state.interactions.get(interaction_token)?;
        find_message(&state, &rec.channel_id, rec.original_message_id.as_deref()?).cloned()
    }

    // ---- gateway ----

    /// Sends a dispatch (`op 0`) with the next sequence number to every session; events for a
    /// session that is momentarily disconnected are replayed when it resumes. Returns how many
    /// sessions it went to.
    pub fn push_event(&self, t: &str, d: Value) -> usize {
        if t == "INTERACTION_CREATE"
            && let Some(token) = d.get("token").and_then(Value::as_str)
            && let Some(rec) = self.state().interactions.get_mut(token)
        {
            rec.pushed_at = Some(Instant::now());
        }
        let mentions_bot = {
            let bot = self.bot_user_id();
            d.get("mentions")
                .and_then(Value::as_array)
                .is_some_and(|m| m.iter().any(|u| u["id"] == json!(bot)))
        };
        self.inner.hub.dispatch(t, &d, mentions_bot)
    }

    pub fn interaction_create(&self, interaction: Value) -> usize {
        self.push_event("INTERACTION_CREATE", interaction)
    }

    pub fn message_create(&self, message: Value) -> usize {
        self.push_event("MESSAGE_CREATE", message)
    }

    /// Closes every gateway connection at the TCP level, without a close frame, as a network
    /// drop would; sessions survive, so the client should RESUME.
    pub fn drop_gateway(&self) {
        self.inner.hub.drop_all();
    }

    /// Waits until a client has identified or resumed and is connected.
    pub async fn wait_connected(&self, timeout: Duration) -> bool {
        self.inner
            .hub
            .wait_for(timeout, |s| s.ready_connections > 0)
            .await
    }

    /// Waits until the gateway's counters satisfy `done`.
    pub async fn wait_for_gateway(
        &self,
        timeout: Duration,
        done: impl Fn(&gateway::GatewayStats) -> bool,
    ) -> bool {
        self.inner.hub.wait_for(timeout, done).await
    }

    pub fn gateway_stats(&self) -> gateway::GatewayStats {
        self.inner.hub.stats()
    }

    /// Every frame clients sent to the gateway, oldest first (tokens blanked).
    pub fn gateway_frames(&self) -> Vec<Value> {
        self.inner.hub.frames()
    }

    /// Sets the heartbeat interval HELLO announces to connections made from now on.
    pub fn set_heartbeat_interval(&self, interval: Duration) {
        self.inner.hub.set_heartbeat_interval(interval);
    }

    // ---- payloads for the gateway ----

    /// A slash command (INTERACTION_CREATE, type 2) by `user_id` in `channel_id` (a guild channel
    /// or the user's DM channel). `options` is Discord's `data.options` array.
    pub fn slash_command(
        &self,
        user_id: &str,
        channel_id: &str,
        name: &str,
        options: Value,
    ) -> Value {
        let mut state = self.state();
        let command_id = state
            .global_commands
            .iter()
            .chain(state.guild_commands.values().flatten())
            .find(|c| c["name"] == json!(name))
            .and_then(|c| c["id"].as_str().map(str::to_string))
            .unwrap_or_else(model::snowflake);
        let resolved = resolved_for(&state, &options);
        let mut data = json!({"id": command_id, "name": name, "type": 1, "options": options});
        if let (Some(map), Some(resolved)) = (data.as_object_mut(), resolved) {
            map.insert("resolved".into(), resolved);
        }
        interaction_payload(&mut state, 2, user_id, channel_id, data, None)
    }

    /// A modal submit (type 5) in `#career-circle`; `fields` are (text input custom_id, value).
    pub fn modal_submit(&self, user_id: &str, custom_id: &str, fields: &[(&str, &str)]) -> Value {
        let channel_id = self.channel_id();
        self.modal_submit_in(user_id, &channel_id, custom_id, fields)
    }

    /// A modal submit (type 5) in the given channel (e.g. the user's DM channel).
    pub fn modal_submit_in(
        &self,
        user_id: &str,
        channel_id: &str,
        custom_id: &str,
        fields: &[(&str, &str)],
    ) -> Value {
        let rows: Vec<Value> = fields
            .iter()
            .enumerate()
            .map(|(i, (id, value))| {
                json!({"type": 1, "id": 2 * i + 1, "components": [
                    {"type": 4, "id": 2 * i + 2, "custom_id": id, "value": value}
                ]})
            })
            .collect();
        let data = json!({"custom_id": custom_id, "components": rows});
        interaction_payload(&mut self.state(), 5, user_id, channel_id, data, None)
    }

    /// A button press (type 3) on a message the bot sent; in a DM channel the payload carries
    /// `user`, in a guild `member`. Panics when the message does not exist.
    pub fn button_press(
        &self,
        user_id: &str,
        channel_id: &str,
        message_id: &str,
        custom_id: &str,
    ) -> Value {
        let mut state = self.state();
        let Some(message) = find_message(&state, channel_id, message_id).cloned() else {
            panic!("button_press: no message {message_id} in channel {channel_id}");
        };
        let data = json!({"custom_id": custom_id, "component_type": 2});
        interaction_payload(&mut state, 3, user_id, channel_id, data, Some(message))
    }

    /// A DM from `user_id` to the bot (MESSAGE_CREATE payload), optionally replying to a message
    /// in that DM. The message is stored like any other.
    pub fn dm_message(&self, user_id: &str, content: &str, reply_to: Option<&str>) -> Value {
        let mut state = self.state();
        let channel_id = ensure_dm_channel(&mut state, user_id);
        user_message(&mut state, user_id, &channel_id, content, reply_to, &[])
    }

    /// A message by `user_id` in a guild channel or thread (MESSAGE_CREATE payload).
    pub fn channel_message(
        &self,
        user_id: &str,
        channel_id: &str,
        content: &str,
        reply_to: Option<&str>,
        mentions: &[&str],
    ) -> Value {
        user_message(
            &mut self.state(),
            user_id,
            channel_id,
            content,
            reply_to,
            mentions,
        )
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; carrying on shows the
        // original panic instead of a second one about poisoning.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

async fn bind() -> TcpListener {
    match TcpListener::bind("127.0.0.1:0").await {
        Ok(listener) => listener,
        Err(why) => panic!("loopback Discord: cannot bind 127.0.0.1: {why}"),
    }
}

fn local_addr(listener: &TcpListener) -> SocketAddr {
    match listener.local_addr() {
        Ok(addr) => addr,
        Err(why) => panic!("loopback Discord: no local address: {why}"),
    }
}

fn seed(gateway_url: String) -> State {
    let now = model::now_iso();
    let user = |name: &str, bot: bool| UserRec {
        id: model::snowflake(),
        name: name.to_string(),
        bot,
        dms_closed: false,
        joined_at: now.clone(),
        manager: false,
        deleted: false,
    };
    let bot = user("career-circle", true);
    let organiser = user("organiser", false);
    let alice = user("alice", false);
    let bob = user("bob", false);
    let guild_id = model::snowflake();
    let text = |name: &str, position: u64| ChannelRec {
        id: model::snowflake(),
        kind: ChannelKind::GuildText,
        name: name.to_string(),
        guild_id: Some(guild_id.clone()),
        parent_id: None,
        position,
        recipient_id: None,
        owner_id: None,
        archived: false,
        locked: false,
        auto_archive_duration: 1440,
        archive_timestamp: None,
        created: now.clone(),
        last_message_id: None,
        message_count: 0,
    };
    let general = text("general", 0);
    let circle = text(CHANNEL_NAME, 1);
    let seeds = Seeds {
        bot_user_id: bot.id.clone(),
        // Applications created since 2020 share their id with their bot user.
        application_id: bot.id.clone(),
        guild_id: guild_id.clone(),
        // Discord's @everyone role has the guild's id.
        everyone_role_id: guild_id.clone(),
        bot_role_id: model::snowflake(),
        channel_id: circle.id.clone(),
        general_channel_id: general.id.clone(),
        organiser_id: organiser.id.clone(),
        member_ids: vec![alice.id.clone(), bob.id.clone()],
    };
    let guild = GuildRec {
        id: guild_id.clone(),
        name: "Career Circle (loopback)".to_string(),
        owner_id: organiser.id.clone(),
        everyone_role_id: seeds.everyone_role_id.clone(),
        bot_role_id: seeds.bot_role_id.clone(),
        members: [&bot, &organiser, &alice, &bob]
            .into_iter()
            .map(|u| u.id.clone())
            .collect(),
        bot_in: true,
    };
    State {
        seeds,
        gateway_url,
        guilds: [(guild_id.clone(), guild)].into_iter().collect(),
        users: [bot, organiser, alice, bob]
            .into_iter()
            .map(|u| (u.id.clone(), u))
            .collect(),
        channels: [general, circle]
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect(),
        messages: HashMap::new(),
        dm_channels: HashMap::new(),
        nonces: HashMap::new(),
        nonce_window: Duration::from_secs(300),
        global_commands: Vec::new(),
        guild_commands: HashMap::new(),
        interactions: HashMap::new(),
        interaction_deadline: Duration::from_secs(3),
        requests: Vec::new(),
        problems: Vec::new(),
        faults: Vec::new(),
        limits: limits::Limits::default(),
        token_rejected_until: None,
        privileged_intents: gateway::PRIVILEGED,
        recommended_shards: 1,
        max_concurrency: 1,
    }
}

fn find_message<'a>(state: &'a State, channel_id: &str, message_id: &str) -> Option<&'a Value> {
    state
        .messages
        .get(channel_id)?
        .iter()
        .find(|m| m["id"] == json!(message_id))
}

fn find_message_mut<'a>(
    state: &'a mut State,
    channel_id: &str,
    message_id: &str,
) -> Option<&'a mut Value> {
    state
        .messages
        .get_mut(channel_id)?
        .iter_mut()
        .find(|m| m["id"] == json!(message_id))
}

/// The DM channel between the bot and a user, opened if needed (same id every time).
fn ensure_dm_channel(state: &mut State, user_id: &str) -> String {
    if let Some(id) = state.dm_channels.get(user_id) {
        return id.clone();
    }
    let id = model::snowflake();
    state.channels.insert(
        id.clone(),
        ChannelRec {
            id: id.clone(),
            kind: ChannelKind::Dm,
            name: String::new(),
            guild_id: None,
            parent_id: None,
            position: 0,
            recipient_id: Some(user_id.to_string()),
            owner_id: None,
            archived: false,
            locked: false,
            auto_archive_duration: 0,
            archive_timestamp: None,
            created: model::now_iso(),
            last_message_id: None,
            message_count: 0,
        },
    );
    state.dm_channels.insert(user_id.to_string(), id.clone());
    id
}

/// GUILD_CREATE for a guild the bot is in: its channels and, with GUILD_MEMBERS, its members (else the bot only).
fn guild_create_payload(state: &State, guild_id: &str, with_members: bool) -> Option<Value> {
    let guild = state.guilds.get(guild_id).filter(|g| g.bot_in)?;
    let bot = state.users.get(&state.seeds.bot_user_id)?;
    let channels: Vec<&ChannelRec> = state
        .channels
        .values()
        .filter(|c| c.guild_id.as_deref() == Some(guild_id))
        .collect();
    let members = guild
        .members
        .iter()
        .filter(|id| with_members || **id == state.seeds.bot_user_id)
        .filter_map(|id| state.users.get(id))
        .map(|u| (u, roles_of(state, &u.id)))
        .collect();
    let view = model::GuildView {
        id: &guild.id,
        name: &guild.name,
        owner_id: &guild.owner_id,
        everyone_role_id: &guild.everyone_role_id,
        bot_role_id: &guild.bot_role_id,
        channels,
        members,
    };
    Some(model::guild_create_json(&view, &bot.joined_at))
}

/// Whether the bot shares a guild with the user (Discord refuses DMs to users it shares none with).
fn shares_a_guild(state: &State, user_id: &str) -> bool {
    state
        .guilds
        .values()
        .any(|g| g.bot_in && g.members.contains(user_id))
}

/// Whether the bot is (still) in the guild of a guild channel; true for DMs.
fn bot_in_guild_of(state: &State, channel: &ChannelRec) -> bool {
    channel
        .guild_id
        .as_ref()
        .is_none_or(|g| state.guilds.get(g).is_some_and(|g| g.bot_in))
}

/// Roles a user has in the seeded guild.
fn roles_of(state: &State, user_id: &str) -> Vec<String> {
    if *user_id == state.seeds.bot_user_id {
        vec![state.seeds.bot_role_id.clone()]
    } else {
        Vec::new()
    }
}

fn lookup_user(state: &State, user_id: &str) -> UserRec {
    match state.users.get(user_id) {
        Some(user) => user.clone(),
        None => panic!("loopback Discord: unknown user {user_id}; add it with add_user"),
    }
}

fn lookup_channel(state: &State, channel_id: &str) -> ChannelRec {
    match state.channels.get(channel_id) {
        Some(channel) => channel.clone(),
        None => panic!("loopback Discord: unknown channel {channel_id}"),
    }
}

fn user_message(
    state: &mut State,
    user_id: &str,
    channel_id: &str,
    content: &str,
    reply_to: Option<&str>,
    mentions: &[&str],
) -> Value {
    let author = lookup_user(state, user_id);
    let channel = lookup_channel(state, channel_id);
    let referenced = reply_to.map(|id| match find_message(state, channel_id, id) {
        Some(message) => message.clone(),
        None => panic!("loopback Discord: no message {id} in channel {channel_id} to reply to"),
    });
    let body = json!({"content": content});
    let kind = if referenced.is_some() { 19 } else { 0 };
    let mut message = model::message_json(model::MessageDraft {
        id: model::snowflake(),
        channel_id,
        author: &author,
        body: &body,
        files: Vec::new(),
        kind,
        webhook_id: None,
        application_id: None,
        referenced,
    });
    let mentioned: Vec<Value> = mentions
        .iter()
        .map(|id| {
            let user = lookup_user(state, id);
            let mut json = model::user_json(&user);
            if let (Some(map), Some(_)) = (json.as_object_mut(), &channel.guild_id) {
                map.insert(
                    "member".into(),
                    model::partial_member_json(&user, &roles_of(state, id)),
                );
            }
            json
        })
        .collect();
    if let Some(map) = message.as_object_mut() {
        map.insert("mentions".into(), Value::Array(mentioned));
    }
    store_message(state, channel_id, message.clone());
    // The gateway's copy also says where it was sent and who sent it in the guild.
    if let (Some(map), Some(guild_id)) = (message.as_object_mut(), &channel.guild_id) {
        map.insert("guild_id".into(), json!(guild_id));
        map.insert(
            "member".into(),
            model::partial_member_json(&author, &roles_of(state, user_id)),
        );
    }
    message
}

fn store_message(state: &mut State, channel_id: &str, message: Value) {
    if let Some(channel) = state.channels.get_mut(channel_id) {
        channel.last_message_id = message["id"].as_str().map(str::to_string);
        channel.message_count += 1;
    }
    state
        .messages
        .entry(channel_id.to_string())
        .or_default()
        .push(message);
}

/// `data.resolved` for the user and channel options of a command.
fn resolved_for(state: &State, options: &Value) -> Option<Value> {
    fn walk(options: &Value, found: &mut Vec<(u64, String)>) {
        for option in options.as_array().into_iter().flatten() {
            if let (Some(kind), Some(value)) = (option["type"].as_u64(), option["value"].as_str()) {
                found.push((kind, value.to_string()));
            }
            walk(&option["options"], found);
        }
    }
    let mut found = Vec::new();
    walk(options, &mut found);
    let mut users = serde_json::Map::new();
    let mut members = serde_json::Map::new();
    let mut channels = serde_json::Map::new();
    for (kind, id) in found {
        match kind {
            6 => {
                if let Some(user) = state.users.get(&id) {
                    users.insert(id.clone(), model::user_json(user));
                    let mut member = model::partial_member_json(user, &roles_of(state, &id));
                    if let Some(map) = member.as_object_mut() {
                        map.insert("permissions".into(), json!(model::MEMBER_PERMISSIONS));
                    }
                    members.insert(id, member);
                }
            }
            7 => {
                if let Some(channel) = state.channels.get(&id) {
                    channels.insert(
                        id.clone(),
                        json!({"id": id, "name": channel.name, "type": channel.kind.code(), "permissions": model::MEMBER_PERMISSIONS}),
                    );
                }
            }
            _ => {}
        }
    }
    if users.is_empty() && channels.is_empty() {
        return None;
    }
    Some(json!({"users": users, "members": members, "channels": channels}))
}

/// The parts every interaction shares; registers it so its callbacks can be checked.
fn interaction_payload(
    state: &mut State,
    kind: u64,
    user_id: &str,
    channel_id: &str,
    data: Value,
    message: Option<Value>,
) -> Value {
    let user = lookup_user(state, user_id);
    let channel = lookup_channel(state, channel_id);
    let id = model::snowflake();
    let token = format!("loopback-interaction-token.{id}");
    let mut channel_json = json!({"id": channel.id, "type": channel.kind.code(), "flags": 0});
    let mut payload = json!({
        "id": id,
        "application_id": state.seeds.application_id,
        "type": kind,
        "data": data,
        "channel_id": channel.id,
        "token": token,
        "version": 1,
        "app_permissions": model::BOT_PERMISSIONS,
        "locale": "en-US",
        "entitlements": [],
        "attachment_size_limit": 26_214_400,
    });
    let Some(map) = payload.as_object_mut() else {
        return payload;
    };
    match &channel.guild_id {
        Some(guild_id) => {
            map.insert("guild_id".into(), json!(guild_id));
            map.insert("guild_locale".into(), json!("en-US"));
            map.insert(
                "guild".into(),
                json!({"id": guild_id, "locale": "en-US", "features": []}),
            );
            map.insert(
                "member".into(),
                model::interaction_member_json(&user, &roles_of(state, user_id)),
            );
            map.insert(
                "authorizing_integration_owners".into(),
                json!({"0": guild_id}),
            );
            map.insert("context".into(), json!(0));
            if let Some(c) = channel_json.as_object_mut() {
                c.insert("guild_id".into(), json!(guild_id));
                c.insert("name".into(), json!(channel.name));
                c.insert("permissions".into(), json!(model::MEMBER_PERMISSIONS));
                if let Some(parent) = &channel.parent_id {
                    c.insert("parent_id".into(), json!(parent));
                }
            }
        }
        None => {
            map.insert("user".into(), model::user_json(&user));
            map.insert(
                "authorizing_integration_owners".into(),
                json!({"0": state.seeds.guild_id}),
            );
            map.insert("context".into(), json!(1));
            if let Some(c) = channel_json.as_object_mut() {
                c.insert("recipients".into(), json!([model::user_json(&user)]));
                c.insert("last_message_id".into(), json!(channel.last_message_id));
            }
        }
    }
    map.insert("channel".into(), channel_json);
    let message_id = message
        .as_ref()
        .and_then(|m| m["id"].as_str().map(str::to_string));
    if let Some(message) = message {
        map.insert("message".into(), message);
    }
    state.interactions.insert(
        token.clone(),
        InteractionRec {
            id,
            token,
            kind,
            channel_id: channel.id,
            user_id: user.id,
            message_id,
            pushed_at: None,
            answered: None,
            original_message_id: None,
        },
    );
    payload
}
