//! The REST side: one fallback handler that records, checks and routes every request, so unknown
//! routes are caught the same way as known ones.

use std::collections::HashMap;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::faults::Fault;
use super::limits;
use super::model::{self, ChannelKind, ChannelRec, EPHEMERAL_FLAG, LOADING_FLAG, MessageDraft};
use super::spec::{self, RouteDef};
use super::{LoopbackDiscord, RecordedRequest, State as World, TOKEN};

/// Discord takes uploads up to 25 MiB (more with boosts); the JSON around them is small.
const BODY_LIMIT: usize = 26 * 1024 * 1024;
/// Discord's limit for a bot's message content (the spec allows 4000, which is for Nitro users).
const CONTENT_LIMIT: usize = 2000;
/// A message nonce is at most 25 characters.
const NONCE_LIMIT: usize = 25;
/// Classic (non "components v2") messages hold at most five action rows.
const ROW_LIMIT: usize = 5;
/// MessageFlags.HAS_THREAD.
const HAS_THREAD_FLAG: u64 = 1 << 5;
/// MessageFlags.IS_COMPONENTS_V2.
const COMPONENTS_V2_FLAG: u64 = 1 << 15;

pub fn router(discord: LoopbackDiscord) -> Router {
    Router::new()
        .fallback(handle)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(discord)
}

/// A route's answer before it is checked against the spec.
struct Reply {
    status: u16,
    body: Option<Value>,
}

impl Reply {
    fn ok(body: Value) -> Self {
        Self {
            status: 200,
            body: Some(body),
        }
    }

    fn created(body: Value) -> Self {
        Self {
            status: 201,
            body: Some(body),
        }
    }

    fn no_content() -> Self {
        Self {
            status: 204,
            body: None,
        }
    }

    fn error(status: u16, code: u64, message: &str) -> Self {
        Self {
            status,
            body: Some(json!({"code": code, "message": message})),
        }
    }
}

/// A complaint about one field, in the shape of Discord's `errors` tree.
struct FieldError {
    path: Vec<String>,
    code: &'static str,
    message: String,
}

async fn handle(
    State(discord): State<LoopbackDiscord>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut request = RecordedRequest {
        method: method.to_string(),
        route: None,
        path: uri
            .path_and_query()
            .map_or_else(|| uri.path().to_string(), |p| p.to_string()),
        body: Value::Null,
        files: Vec::new(),
        validated: false,
        status: None,
        errors: Vec::new(),
        at: Instant::now(),
    };
    let Some(api_path) = uri.path().strip_prefix("/api/v10") else {
        request
            .errors
            .push("not under /api/v10 (wrong API version or base URL)".into());
        let index = discord.record(request);
        return discord.finish(
            index,
            None,
            Reply::error(404, 0, "404: Not Found"),
            Vec::new(),
        );
    };
    let parsed = parse_body(&headers, &body);
    request.body = parsed.json;
    request.files = parsed.files;
    request.errors = parsed.errors;
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(format!("Bot {TOKEN}").as_str());
    let rejected = discord
        .state()
        .token_rejected_until
        .is_some_and(|until| Instant::now() < until);
    if !authorized || rejected {
        request
            .errors
            .push("missing or wrong `Authorization: Bot <token>` header".into());
        let index = discord.record(request);
        return discord.finish(
            index,
            None,
            Reply::error(401, 0, "401: Unauthorized"),
            Vec::new(),
        );
    }
    let Some((def, params)) = spec::match_route(method.as_str(), api_path) else {
        request
            .errors
            .push(format!("the loopback serves no route {method} {api_path}"));
        let index = discord.record(request);
        return discord.finish(
            index,
            None,
            Reply::error(404, 0, "404: Not Found"),
            Vec::new(),
        );
    };
    request.route = Some(def.template.to_string());
    // Discord's limits come before anything else: an answer over them is a 429 and nothing happens.
    let channel = (def.method == "POST" && def.template == "/channels/{channel_id}/messages")
        .then(|| params.get("channel_id").cloned())
        .flatten();
    let exempt =
        def.template.starts_with("/interactions/") || def.template.starts_with("/webhooks/");
    let verdict = discord.state().limits.admit(!exempt, channel.as_deref());
    let mut bucket_headers = Vec::new();
    match verdict {
        limits::Verdict::Go {
            bucket: Some((remaining, reset)),
        } => {
            bucket_headers = vec![
                ("x-ratelimit-limit", "5".to_string()),
                ("x-ratelimit-remaining", remaining.to_string()),
                (
                    "x-ratelimit-reset-after",
                    format!("{:.3}", reset.as_secs_f64()),
                ),
                (
                    "x-ratelimit-bucket",
                    format!("messages-{}", channel.clone().unwrap_or_default()),
                ),
            ];
        }
        limits::Verdict::Go { bucket: None } => {}
        limits::Verdict::Global { retry_after } => {
            let index = discord.record(request);
            let answer = Fault::RateLimited {
                retry_after_secs: retry_after.as_secs_f64().max(0.001),
                global: true,
            }
            .answer(def.template);
            return match answer {
                Some(a) => discord.finish(
                    index,
                    Some(def),
                    Reply {
                        status: a.status,
                        body: Some(a.body),
                    },
                    a.headers,
                ),
                None => discord.finish(
                    index,
                    Some(def),
                    Reply::error(500, 0, "loopback"),
                    Vec::new(),
                ),
            };
        }
        limits::Verdict::Channel { retry_after } => {
            let index = discord.record(request);
            let answer = Fault::RateLimited {
                retry_after_secs: retry_after.as_secs_f64().max(0.001),
                global: false,
            }
            .answer(def.template);
            return match answer {
                Some(a) => discord.finish(
                    index,
                    Some(def),
                    Reply {
                        status: a.status,
                        body: Some(a.body),
                    },
                    a.headers,
                ),
                None => discord.finish(
                    index,
                    Some(def),
                    Reply::error(500, 0, "loopback"),
                    Vec::new(),
                ),
            };
        }
    }
    if !request.errors.is_empty() {
        let index = discord.record(request);
        let reply = Reply::error(400, 50109, "The request body contains invalid JSON.");
        return discord.finish(index, Some(def), reply, Vec::new());
    }

    let mut field_errors: Vec<FieldError> = match spec::spec().route(def) {
        Some(v) => v
            .check_request(&request.body)
            .into_iter()
            .map(|p| FieldError {
                path: p.path,
                code: "SCHEMA_INVALID",
                message: p.message,
            })
            .collect(),
        None => vec![FieldError {
            path: Vec::new(),
            code: "LOOPBACK",
            message: format!("no validators for {} {}", def.method, def.template),
        }],
    };
    if field_errors.is_empty() {
        field_errors = discord_rules(def, &request.body, request.files.len());
    }
    request.errors = field_errors
        .iter()
        .map(|e| format!("/{}: {} ({})", e.path.join("/"), e.message, e.code))
        .collect();
    request.validated = field_errors.is_empty();
    let (body, files) = (request.body.clone(), request.files.clone());
    let index = discord.record(request);
    if let Some(first) = field_errors.first() {
        let reply = match first.code {
            "EMPTY_MESSAGE" => Reply::error(400, 50006, "Cannot send an empty message"),
            _ => Reply {
                status: 400,
                body: Some(json!({
                    "code": 50035,
                    "message": "Invalid Form Body",
                    "errors": field_error_tree(&field_errors),
                })),
            },
        };
        return discord.finish(index, Some(def), reply, Vec::new());
    }

    let fault = discord.take_fault(def, params.get("channel_id").map(String::as_str));
    if let Some(answer) = fault.as_ref().and_then(|f| f.answer(def.template)) {
        let reply = Reply {
            status: answer.status,
            body: Some(answer.body),
        };
        return discord.finish(index, Some(def), reply, answer.headers);
    }
    let mut params = params;
    for (k, v) in uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
    {
        match k {
            "after" => params.insert("after", v.to_owned()),
            "limit" => params.insert("limit", v.to_owned()),
            _ => None,
        };
    }
    let reply = discord.route(def, &params, &body, &files);
    if channel.is_some() && reply.status == 200 {
        // The bot sees its own messages on the gateway, as on Discord; it must not answer them.
        if let Some(message) = &reply.body {
            let mut event = message.clone();
            let guild = discord
                .state()
                .channels
                .get(channel.as_deref().unwrap_or_default())
                .and_then(|c| c.guild_id.clone());
            if let (Some(map), Some(guild)) = (event.as_object_mut(), guild) {
                map.insert("guild_id".into(), json!(guild));
            }
            discord.message_create(event);
        }
    }
    if let Some(Fault::Timeout { hold }) = fault {
        // The work is done (as when Discord is slow, not down); only the answer is late.
        tokio::time::sleep(hold).await;
    }
    discord.finish(index, Some(def), reply, bucket_headers)
}

impl LoopbackDiscord {
    fn record(&self, request: RecordedRequest) -> usize {
        let mut state = self.state();
        state.requests.push(request);
        state.requests.len() - 1
    }

    fn take_fault(&self, def: &RouteDef, channel: Option<&str>) -> Option<Fault> {
        let mut state = self.state();
        let position = state.faults.iter().position(|f| {
            f.method == def.method
                && f.route == def.template
                && f.remaining > 0
                && f.channel.as_deref().is_none_or(|c| Some(c) == channel)
        })?;
        let rule = &mut state.faults[position];
        rule.remaining -= 1;
        let fault = rule.fault.clone();
        if rule.remaining == 0 {
            state.faults.remove(position);
        }
        Some(fault)
    }

    /// Checks the answer against the spec, stores the status, and builds the HTTP response.
    fn finish(
        &self,
        index: usize,
        def: Option<&RouteDef>,
        reply: Reply,
        extra: Vec<(&'static str, String)>,
    ) -> Response {
        let mut state = self.state();
        if let Some(def) = def {
            // The spec documents no 5XX answers; those are faults a test asked for.
            if reply.status < 500 {
                let problems: Vec<String> = match spec::spec().route(def) {
                    Some(v) => v
                        .check_response(reply.status, reply.body.as_ref())
                        .iter()
                        .map(ToString::to_string)
                        .collect(),
                    None => Vec::new(),
                };
                if !problems.is_empty() {
                    let text = format!(
                        "LOOPBACK BUG: its {} answer to {} {} breaks the spec:\n    {}\n    body: {}",
                        reply.status,
                        def.method,
                        def.template,
                        problems.join("\n    "),
                        reply
                            .body
                            .as_ref()
                            .map_or_else(String::new, Value::to_string)
                    );
                    eprintln!("{text}");
                    state.problems.push(text);
                }
            }
        }
        if let Some(request) = state.requests.get_mut(index) {
            request.status = Some(reply.status);
        }
        drop(state);

        let mut builder = Response::builder().status(
            StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        );
        if reply.status != 429 && !extra.iter().any(|(n, _)| *n == "x-ratelimit-remaining") {
            builder = builder
                .header("x-ratelimit-limit", "5")
                .header("x-ratelimit-remaining", "4")
                .header("x-ratelimit-reset-after", "1.000")
                .header("x-ratelimit-bucket", "loopback");
        }
        for (name, value) in extra {
            if let Ok(value) = HeaderValue::from_str(&value) {
                builder = builder.header(name, value);
            }
        }
        let response = match reply.body {
            Some(body) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => builder.body(Body::empty()),
        };
        response.unwrap_or_else(|_| Response::new(Body::empty()))
    }

    fn route(
        &self,
        def: &RouteDef,
        params: &HashMap<&'static str, String>,
        body: &Value,
        files: &[(String, Vec<u8>)],
    ) -> Reply {
        let mut state = self.state();
        let state = &mut *state;
        let param = |name: &str| params.get(name).map_or("", String::as_str);
        match (def.method, def.template) {
            ("GET", "/gateway") => Reply::ok(json!({"url": state.gateway_url})),
            ("GET", "/gateway/bot") => Reply::ok(json!({
                "url": state.gateway_url,
                "shards": state.recommended_shards,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 86_400_000, "max_concurrency": state.max_concurrency},
            })),
            ("GET", "/users/@me") => match state.users.get(&state.seeds.bot_user_id) {
                Some(bot) => Reply::ok(model::current_user_json(bot)),
                None => Reply::error(404, 10013, "Unknown User"),
            },
            ("GET", "/oauth2/applications/@me") => application_info(state),
            ("GET", "/applications/{application_id}/commands") => {
                Reply::ok(Value::Array(state.global_commands.clone()))
            }
            ("GET", "/applications/{application_id}/guilds/{guild_id}/commands") => {
                Reply::ok(Value::Array(
                    state
                        .guild_commands
                        .get(param("guild_id"))
                        .cloned()
                        .unwrap_or_default(),
                ))
            }
            ("PUT", "/applications/{application_id}/commands") => {
                put_commands(state, param("application_id"), None, body)
            }
            ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands") => put_commands(
                state,
                param("application_id"),
                Some(param("guild_id")),
                body,
            ),
            ("POST", "/interactions/{interaction_id}/{interaction_token}/callback") => {
                interaction_callback(
                    state,
                    param("interaction_id"),
                    param("interaction_token"),
                    body,
                    files,
                )
            }
            ("POST", "/webhooks/{application_id}/{interaction_token}") => followup(
                state,
                param("application_id"),
                param("interaction_token"),
                body,
                files,
            ),
            ("GET", "/webhooks/{application_id}/{interaction_token}/messages/@original") => {
                original(
                    state,
                    param("application_id"),
                    param("interaction_token"),
                    None,
                    &[],
                )
            }
            ("PATCH", "/webhooks/{application_id}/{interaction_token}/messages/@original") => {
                original(
                    state,
                    param("application_id"),
                    param("interaction_token"),
                    Some(body),
                    files,
                )
            }
            ("PATCH", "/webhooks/{application_id}/{interaction_token}/messages/{message_id}") => {
                edit_followup(
                    state,
                    param("application_id"),
                    param("interaction_token"),
                    param("message_id"),
                    body,
                    files,
                )
            }
            ("POST", "/users/@me/channels") => create_dm(state, body),
            ("GET", "/channels/{channel_id}") => match state.channels.get(param("channel_id")) {
                Some(channel) => Reply::ok(model::channel_json(channel, &|id| {
                    state.users.get(id).cloned()
                })),
                None => unknown_channel(),
            },
            ("PATCH", "/channels/{channel_id}") => edit_channel(state, param("channel_id"), body),
            ("POST", "/channels/{channel_id}/messages") => {
                create_message(state, param("channel_id"), body, files)
            }
            ("GET", "/channels/{channel_id}/messages") => list_messages(
                state,
                param("channel_id"),
                param("after"),
                param("limit").parse().unwrap_or(50),
            ),
            ("GET", "/channels/{channel_id}/messages/{message_id}") => {
                match super::find_message(state, param("channel_id"), param("message_id")) {
                    Some(message) => Reply::ok(message.clone()),
                    None => unknown_message(),
                }
            }
            ("PATCH", "/channels/{channel_id}/messages/{message_id}") => {
                edit_message(state, param("channel_id"), param("message_id"), body, files)
            }
            ("POST", "/channels/{channel_id}/threads") => {
                create_thread(state, param("channel_id"), None, body)
            }
            ("POST", "/channels/{channel_id}/messages/{message_id}/threads") => {
                create_thread(state, param("channel_id"), Some(param("message_id")), body)
            }
            (method, template) => {
                state.problems.push(format!(
                    "LOOPBACK BUG: route {method} {template} is listed but has no handler"
                ));
                Reply::error(404, 0, "404: Not Found")
            }
        }
    }
}

/// The newest messages of a channel (after an id when given), newest first, as Discord lists them.
fn list_messages(state: &World, channel_id: &str, after: &str, limit: usize) -> Reply {
    if !state.channels.contains_key(channel_id) {
        return unknown_channel();
    }
    let after: u64 = after.parse().unwrap_or(0);
    let mut found: Vec<Value> = state
        .messages
        .get(channel_id)
        .into_iter()
        .flatten()
        .filter(|m| {
            m["id"]
                .as_str()
                .and_then(|i| i.parse::<u64>().ok())
                .unwrap_or(0)
                > after
        })
        .cloned()
        .collect();
    found.reverse();
    found.truncate(limit.clamp(1, 100));
    Reply::ok(Value::Array(found))
}

fn unknown_channel() -> Reply {
    Reply::error(404, 10003, "Unknown Channel")
}

fn missing_access() -> Reply {
    Reply::error(403, 50001, "Missing Access")
}

fn unknown_message() -> Reply {
    Reply::error(404, 10008, "Unknown Message")
}

fn unknown_interaction() -> Reply {
    Reply::error(404, 10062, "Unknown interaction")
}

fn unknown_webhook() -> Reply {
    Reply::error(404, 10015, "Unknown Webhook")
}

fn application_info(state: &World) -> Reply {
    let Some(bot) = state.users.get(&state.seeds.bot_user_id) else {
        return Reply::error(404, 10013, "Unknown User");
    };
    let owner = state
        .users
        .get(&state.seeds.organiser_id)
        .map(model::user_json);
    Reply::ok(json!({
        "id": state.seeds.application_id,
        "name": bot.name,
        "icon": null,
        "description": "Loopback stand-in for the career-circle application",
        "type": null,
        "bot": model::user_json(bot),
        "bot_public": false,
        "bot_require_code_grant": false,
        "verify_key": "0000000000000000000000000000000000000000000000000000000000000000",
        "flags": 557_056,
        "flags_new": "557056",
        "redirect_uris": [],
        "interactions_endpoint_url": null,
        "role_connections_verification_url": null,
        "owner": owner,
        "approximate_guild_count": 1,
        "approximate_user_install_count": 0,
        "approximate_user_authorization_count": 0,
        "explicit_content_filter": 0,
        "team": null,
        "eligible_oauth2_scopes": [],
        "rpc_origins": [],
        "tags": [],
        "integration_types_config": {"0": {}},
    }))
}

/// Bulk overwrite: commands keep their id when a command of that name and type existed.
fn put_commands(
    state: &mut World,
    application_id: &str,
    guild_id: Option<&str>,
    body: &Value,
) -> Reply {
    if application_id != state.seeds.application_id {
        return Reply::error(403, 50001, "Missing Access");
    }
    if let Some(guild_id) = guild_id
        && guild_id != state.seeds.guild_id
    {
        return Reply::error(403, 50001, "Missing Access");
    }
    let existing = match guild_id {
        Some(g) => state.guild_commands.get(g).cloned().unwrap_or_default(),
        None => state.global_commands.clone(),
    };
    let mut out = Vec::new();
    for command in body.as_array().into_iter().flatten() {
        let kind = command.get("type").and_then(Value::as_u64).unwrap_or(1);
        let id = existing
            .iter()
            .find(|c| c["name"] == command["name"] && c["type"].as_u64() == Some(kind))
            .and_then(|c| c["id"].as_str().map(str::to_string))
            .unwrap_or_else(model::snowflake);
        let permissions = match &command["default_member_permissions"] {
            Value::String(s) => json!(s),
            Value::Number(n) => json!(n.to_string()),
            _ => Value::Null,
        };
        let mut response = json!({
            "id": id,
            "application_id": state.seeds.application_id,
            "version": model::snowflake(),
            "default_member_permissions": permissions,
            "type": kind,
            "name": command["name"],
            "description": command.get("description").and_then(Value::as_str).unwrap_or_default(),
            "dm_permission": command.get("dm_permission").and_then(Value::as_bool).unwrap_or(true),
            "contexts": command.get("contexts").cloned().unwrap_or(Value::Null),
            "integration_types": command.get("integration_types").filter(|v| v.is_array()).cloned().unwrap_or_else(|| json!([0])),
            "nsfw": command.get("nsfw").and_then(Value::as_bool).unwrap_or(false),
        });
        if let Some(map) = response.as_object_mut() {
            for key in ["name_localizations", "description_localizations"] {
                if let Some(value) = command.get(key).filter(|v| v.is_object()) {
                    map.insert(key.into(), value.clone());
                }
            }
            if let Some(options) = command.get("options").filter(|v| v.is_array()) {
                map.insert("options".into(), option_responses(options));
            }
            if let Some(g) = guild_id {
                map.insert("guild_id".into(), json!(g));
            }
        }
        out.push(response);
    }
    match guild_id {
        Some(g) => {
            state.guild_commands.insert(g.to_string(), out.clone());
        }
        None => state.global_commands = out.clone(),
    }
    Reply::ok(Value::Array(out))
}

/// Options as Discord echoes them: fields left at their defaults (null, false, empty) are
/// omitted, as serenity's builders send every field.
fn option_responses(options: &Value) -> Value {
    let items = options.as_array().into_iter().flatten().map(|option| {
        let mut out = serde_json::Map::new();
        for (key, value) in option.as_object().into_iter().flatten() {
            match (key.as_str(), value) {
                (_, Value::Null | Value::Bool(false)) => {}
                (_, Value::Array(items)) if items.is_empty() => {}
                (_, Value::Object(map)) if map.is_empty() => {}
                ("options", nested) => {
                    out.insert(key.clone(), option_responses(nested));
                }
                _ => {
                    out.insert(key.clone(), value.clone());
                }
            }
        }
        Value::Object(out)
    });
    Value::Array(items.collect())
}

fn interaction_callback(
    state: &mut World,
    interaction_id: &str,
    token: &str,
    body: &Value,
    files: &[(String, Vec<u8>)],
) -> Reply {
    let deadline = state.interaction_deadline;
    let Some(rec) = state
        .interactions
        .get(token)
        .filter(|r| r.id == interaction_id)
        .cloned()
    else {
        return unknown_interaction();
    };
    match rec.pushed_at {
        // Discord forgets an interaction that was not answered in time.
        Some(at) if at.elapsed() > deadline && rec.answered.is_none() => {
            return unknown_interaction();
        }
        _ => {}
    }
    if rec.answered.is_some() {
        return Reply::error(400, 40060, "Interaction has already been acknowledged.");
    }
    let kind = body["type"].as_u64().unwrap_or(0);
    let data = body
        .get("data")
        .filter(|d| d.is_object())
        .cloned()
        .unwrap_or_else(|| json!({}));
    let allowed = match kind {
        1 => false,
        4 | 5 => true,
        6 | 7 => rec.kind == 3 || (rec.kind == 5 && rec.message_id.is_some()),
        8 => rec.kind == 4,
        9 => rec.kind == 2 || rec.kind == 3,
        _ => false,
    };
    if !allowed {
        return Reply {
            status: 400,
            body: Some(json!({
                "code": 50035,
                "message": "Invalid Form Body",
                "errors": {"type": {"_errors": [{"code": "INTERACTION_RESPONSE_TYPE_INVALID", "message": format!("Callback type {kind} is not valid for interaction type {}", rec.kind)}]}},
            })),
        };
    }
    let mut original = None;
    match kind {
        4 | 5 => {
            let mut draft_body = data.clone();
            if kind == 5 {
                let ephemeral = data["flags"].as_u64().unwrap_or(0) & EPHEMERAL_FLAG;
                draft_body = json!({"content": "", "flags": LOADING_FLAG | ephemeral});
            }
            let id = model::snowflake();
            let message = bot_message(
                state,
                &rec.channel_id,
                id.clone(),
                &draft_body,
                files,
                20,
                true,
            );
            super::store_message(state, &rec.channel_id, message);
            original = Some(id);
        }
        7 => {
            if let Some(message_id) = &rec.message_id {
                let stored = stored_files(files);
                if let Some(message) = super::find_message_mut(state, &rec.channel_id, message_id) {
                    model::apply_edit(message, &data, &stored);
                }
            }
        }
        _ => {}
    }
    if let Some(r) = state.interactions.get_mut(token) {
        r.answered = Some(kind);
        r.original_message_id = original;
    }
    Reply::no_content()
}

fn interaction_for<'a>(
    state: &'a World,
    application_id: &str,
    token: &str,
) -> Option<&'a super::InteractionRec> {
    if application_id != state.seeds.application_id {
        return None;
    }
    state
        .interactions
        .get(token)
        .filter(|r| r.answered.is_some())
}

fn followup(
    state: &mut World,
    application_id: &str,
    token: &str,
    body: &Value,
    files: &[(String, Vec<u8>)],
) -> Reply {
    let Some(rec) = interaction_for(state, application_id, token).cloned() else {
        return unknown_webhook();
    };
    let message = bot_message(
        state,
        &rec.channel_id,
        model::snowflake(),
        body,
        files,
        20,
        true,
    );
    super::store_message(state, &rec.channel_id, message.clone());
    Reply::ok(message)
}

fn original(
    state: &mut World,
    application_id: &str,
    token: &str,
    edit: Option<&Value>,
    files: &[(String, Vec<u8>)],
) -> Reply {
    let Some(rec) = interaction_for(state, application_id, token).cloned() else {
        return unknown_webhook();
    };
    let Some(message_id) = rec.original_message_id.clone() else {
        return unknown_message();
    };
    let stored = stored_files(files);
    match super::find_message_mut(state, &rec.channel_id, &message_id) {
        Some(message) => {
            if let Some(body) = edit {
                model::apply_edit(message, body, &stored);
            }
            Reply::ok(message.clone())
        }
        None => unknown_message(),
    }
}

fn edit_followup(
    state: &mut World,
    application_id: &str,
    token: &str,
    message_id: &str,
    body: &Value,
    files: &[(String, Vec<u8>)],
) -> Reply {
    let Some(rec) = interaction_for(state, application_id, token).cloned() else {
        return unknown_webhook();
    };
    let stored = stored_files(files);
    match super::find_message_mut(state, &rec.channel_id, message_id) {
        Some(message) if message.get("webhook_id").is_some() => {
            model::apply_edit(message, body, &stored);
            Reply::ok(message.clone())
        }
        _ => unknown_message(),
    }
}

fn create_dm(state: &mut World, body: &Value) -> Reply {
    let Some(recipient) = body["recipient_id"]
        .as_str()
        .filter(|id| state.users.contains_key(*id))
    else {
        return Reply::error(400, 50033, "Invalid Recipient(s)");
    };
    if state.users.get(recipient).is_some_and(|u| u.deleted) {
        return Reply::error(404, 10013, "Unknown User");
    }
    let channel_id = super::ensure_dm_channel(state, recipient);
    match state.channels.get(&channel_id) {
        Some(channel) => Reply::ok(model::channel_json(channel, &|id| {
            state.users.get(id).cloned()
        })),
        None => unknown_channel(),
    }
}

fn edit_channel(state: &mut World, channel_id: &str, body: &Value) -> Reply {
    if state
        .channels
        .get(channel_id)
        .is_some_and(|c| !super::bot_in_guild_of(state, c))
    {
        return missing_access();
    }
    let Some(channel) = state.channels.get_mut(channel_id) else {
        return unknown_channel();
    };
    if channel.kind == ChannelKind::Dm {
        return Reply::error(400, 50024, "Cannot execute action on this channel type");
    }
    if let Some(name) = body["name"].as_str() {
        channel.name = name.to_string();
    }
    if channel.kind.is_thread() {
        if let Some(archived) = body["archived"].as_bool() {
            if archived != channel.archived {
                channel.archive_timestamp = Some(model::now_iso());
            }
            channel.archived = archived;
        }
        if let Some(locked) = body["locked"].as_bool() {
            channel.locked = locked;
        }
        if let Some(minutes) = body["auto_archive_duration"].as_u64() {
            channel.auto_archive_duration = minutes;
        }
    }
    let channel = channel.clone();
    Reply::ok(model::channel_json(&channel, &|id| {
        state.users.get(id).cloned()
    }))
}

fn create_message(
    state: &mut World,
    channel_id: &str,
    body: &Value,
    files: &[(String, Vec<u8>)],
) -> Reply {
    let Some(channel) = state.channels.get(channel_id).cloned() else {
        return unknown_channel();
    };
    if !super::bot_in_guild_of(state, &channel) {
        return missing_access();
    }
    if channel.kind == ChannelKind::Dm {
        let closed = channel
            .recipient_id
            .as_ref()
            .and_then(|id| state.users.get(id))
            .is_some_and(|u| u.dms_closed || u.deleted);
        // Discord lets a bot DM only users it shares a server with.
        let strangers = channel
            .recipient_id
            .as_ref()
            .is_some_and(|id| !super::shares_a_guild(state, id));
        if closed || strangers {
            return Reply::error(403, 50007, "Cannot send messages to this user");
        }
    }
    if channel.kind.is_thread() {
        if channel.locked {
            return Reply::error(
                400,
                50083,
                "Operation cannot be performed on an archived thread.",
            );
        }
        // A message from a member who may send in threads reopens an archived thread.
        if let Some(thread) = state.channels.get_mut(channel_id) {
            thread.archived = false;
        }
    }
    let nonce = body
        .get("nonce")
        .filter(|n| !n.is_null())
        .map(|n| n.as_str().map_or_else(|| n.to_string(), str::to_string));
    let enforce = body["enforce_nonce"].as_bool().unwrap_or(false);
    if let (Some(nonce), true) = (&nonce, enforce) {
        let window = state.nonce_window;
        let key = (channel_id.to_string(), nonce.clone());
        if let Some((message_id, at)) = state.nonces.get(&key).cloned()
            && at.elapsed() <= window
            && let Some(first) = super::find_message(state, channel_id, &message_id)
        {
            return Reply::ok(first.clone());
        }
    }
    let referenced = match body.get("message_reference").filter(|r| r.is_object()) {
        Some(reference) => {
            let target = reference["message_id"].as_str().unwrap_or_default();
            let target_channel = reference["channel_id"].as_str().unwrap_or(channel_id);
            match super::find_message(state, target_channel, target) {
                Some(message) => Some(message.clone()),
                None if reference["fail_if_not_exists"].as_bool() == Some(false) => None,
                None => {
                    return Reply {
                        status: 400,
                        body: Some(json!({
                            "code": 50035,
                            "message": "Invalid Form Body",
                            "errors": {"message_reference": {"_errors": [{"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "message": "Unknown message"}]}},
                        })),
                    };
                }
            }
        }
        None => None,
    };
    let id = model::snowflake();
    let kind = if referenced.is_some() { 19 } else { 0 };
    let mut message = bot_message(state, channel_id, id.clone(), body, files, kind, false);
    if let (Some(map), Some(referenced)) = (message.as_object_mut(), referenced) {
        model::attach_reference(map, referenced);
    }
    set_pings(state, &mut message, body);
    super::store_message(state, channel_id, message.clone());
    if let (Some(nonce), true) = (nonce, enforce) {
        state
            .nonces
            .insert((channel_id.to_string(), nonce), (id, Instant::now()));
    }
    Reply::ok(message)
}

fn edit_message(
    state: &mut World,
    channel_id: &str,
    message_id: &str,
    body: &Value,
    files: &[(String, Vec<u8>)],
) -> Reply {
    let bot_id = state.seeds.bot_user_id.clone();
    let stored = stored_files(files);
    match state.channels.get(channel_id) {
        None => return unknown_channel(),
        Some(c) if !super::bot_in_guild_of(state, c) => return missing_access(),
        Some(_) => {}
    }
    match super::find_message_mut(state, channel_id, message_id) {
        Some(message) if message["author"]["id"] == json!(bot_id) => {
            model::apply_edit(message, body, &stored);
            Reply::ok(message.clone())
        }
        Some(_) => Reply::error(403, 50005, "Cannot edit a message authored by another user"),
        None => unknown_message(),
    }
}

fn create_thread(
    state: &mut World,
    parent_id: &str,
    message_id: Option<&str>,
    body: &Value,
) -> Reply {
    let Some(parent) = state.channels.get(parent_id).cloned() else {
        return unknown_channel();
    };
    if !super::bot_in_guild_of(state, &parent) {
        return missing_access();
    }
    if parent.kind != ChannelKind::GuildText {
        return Reply::error(400, 50024, "Cannot execute action on this channel type");
    }
    let kind = match (message_id, body["type"].as_u64()) {
        (Some(_), _) => ChannelKind::PublicThread,
        // Without a starter message Discord makes a private thread unless told otherwise.
        (None, None | Some(12)) => ChannelKind::PrivateThread,
        (None, Some(11)) => ChannelKind::PublicThread,
        (None, Some(_)) => {
            return Reply::error(400, 50024, "Cannot execute action on this channel type");
        }
    };
    let id = match message_id {
        Some(message_id) => {
            if super::find_message(state, parent_id, message_id).is_none() {
                return unknown_message();
            }
            // A thread started from a message takes the message's id.
            if state.channels.contains_key(message_id) {
                return Reply::error(
                    400,
                    160004,
                    "A thread has already been created for this message",
                );
            }
            message_id.to_string()
        }
        None => model::snowflake(),
    };
    let thread = ChannelRec {
        id: id.clone(),
        kind,
        name: body["name"].as_str().unwrap_or_default().to_string(),
        guild_id: parent.guild_id.clone(),
        parent_id: Some(parent_id.to_string()),
        position: 0,
        recipient_id: None,
        owner_id: Some(state.seeds.bot_user_id.clone()),
        archived: false,
        locked: false,
        auto_archive_duration: body["auto_archive_duration"].as_u64().unwrap_or(1440),
        archive_timestamp: Some(model::now_iso()),
        created: model::now_iso(),
        last_message_id: None,
        message_count: 0,
    };
    let json = model::channel_json(&thread, &|_| None);
    if let Some(starter) = message_id.and_then(|m| super::find_message_mut(state, parent_id, m))
        && let Some(map) = starter.as_object_mut()
    {
        let flags = map.get("flags").and_then(Value::as_u64).unwrap_or(0);
        map.insert("flags".into(), json!(flags | HAS_THREAD_FLAG));
        map.insert("thread".into(), json.clone());
    }
    state.channels.insert(id, thread);
    Reply::created(json)
}

/// A message the bot (or its interaction webhook) posts.
/// Who the message pings, worked out as Discord does from its content and `allowed_mentions`.
fn set_pings(state: &World, message: &mut Value, body: &Value) {
    let content = body["content"].as_str().unwrap_or_default();
    let (users, roles, everyone) = limits::pings(content, body.get("allowed_mentions"));
    let users: Vec<Value> = users
        .iter()
        .filter_map(|id| state.users.get(id).map(model::user_json))
        .collect();
    if let Some(map) = message.as_object_mut() {
        map.insert("mentions".into(), Value::Array(users));
        map.insert("mention_roles".into(), json!(roles));
        map.insert("mention_everyone".into(), json!(everyone));
    }
}

fn bot_message(
    state: &World,
    channel_id: &str,
    id: String,
    body: &Value,
    files: &[(String, Vec<u8>)],
    kind: u64,
    via_interaction: bool,
) -> Value {
    let fallback;
    let author = match state.users.get(&state.seeds.bot_user_id) {
        Some(bot) => bot,
        None => {
            fallback = model::UserRec {
                id: state.seeds.bot_user_id.clone(),
                name: "career-circle".into(),
                bot: true,
                dms_closed: false,
                joined_at: model::now_iso(),
                manager: false,
                deleted: false,
            };
            &fallback
        }
    };
    let app = state.seeds.application_id.as_str();
    model::message_json(MessageDraft {
        id,
        channel_id,
        author,
        body,
        files: stored_files(files),
        kind,
        webhook_id: via_interaction.then_some(app),
        application_id: via_interaction.then_some(app),
        referenced: None,
    })
}

fn stored_files(files: &[(String, Vec<u8>)]) -> Vec<(String, String, usize)> {
    files
        .iter()
        .map(|(name, bytes)| (model::snowflake(), name.clone(), bytes.len()))
        .collect()
}

/// Rules Discord enforces that the schema does not express. Applies to whatever in the body
/// becomes a message.
fn discord_rules(def: &RouteDef, body: &Value, file_count: usize) -> Vec<FieldError> {
    let (message, prefix, creates) = match (def.method, def.template) {
        ("POST", "/channels/{channel_id}/messages")
        | ("POST", "/webhooks/{application_id}/{interaction_token}") => (body, Vec::new(), true),
        ("PATCH", t) if t.contains("/messages/") => (body, Vec::new(), false),
        ("POST", "/interactions/{interaction_id}/{interaction_token}/callback") => {
            match body["type"].as_u64() {
                Some(4) => (&body["data"], vec!["data".to_string()], true),
                Some(7) => (&body["data"], vec!["data".to_string()], false),
                _ => return Vec::new(),
            }
        }
        _ => return Vec::new(),
    };
    let mut errors = Vec::new();
    let at = |field: &str| {
        let mut path = prefix.clone();
        path.push(field.to_string());
        path
    };
    if let Some(nonce) = message["nonce"].as_str()
        && nonce.chars().count() > NONCE_LIMIT
    {
        errors.push(FieldError {
            path: at("nonce"),
            code: "BASE_TYPE_MAX_LENGTH",
            message: format!("Must be {NONCE_LIMIT} or fewer in length."),
        });
    }
    let content = message["content"].as_str().unwrap_or_default();
    if content.chars().count() > CONTENT_LIMIT {
        errors.push(FieldError {
            path: at("content"),
            code: "BASE_TYPE_MAX_LENGTH",
            message: format!("Must be {CONTENT_LIMIT} or fewer in length."),
        });
    }
    let flags = message["flags"].as_u64().unwrap_or(0);
    let rows = message["components"].as_array().map_or(0, Vec::len);
    if flags & COMPONENTS_V2_FLAG == 0 && rows > ROW_LIMIT {
        errors.push(FieldError {
            path: at("components"),
            code: "BASE_TYPE_MAX_LENGTH",
            message: format!("Must be {ROW_LIMIT} or fewer in length."),
        });
    }
    let mut seen = Vec::new();
    collect_custom_ids(&message["components"], &mut seen);
    let mut sorted = seen.clone();
    sorted.sort();
    if sorted.windows(2).any(|w| w[0] == w[1]) {
        errors.push(FieldError {
            path: at("components"),
            code: "COMPONENT_CUSTOM_ID_DUPLICATED",
            message: "Component custom id cannot be duplicated".to_string(),
        });
    }
    let empty = content.trim().is_empty()
        && message["embeds"].as_array().is_none_or(Vec::is_empty)
        && rows == 0
        && message["sticker_ids"].as_array().is_none_or(Vec::is_empty)
        && message["poll"].is_null()
        && file_count == 0;
    if creates && empty {
        errors.push(FieldError {
            path: Vec::new(),
            code: "EMPTY_MESSAGE",
            message: "Cannot send an empty message".to_string(),
        });
    }
    errors
}

fn collect_custom_ids(components: &Value, found: &mut Vec<String>) {
    for component in components.as_array().into_iter().flatten() {
        if let Some(id) = component["custom_id"].as_str() {
            found.push(id.to_string());
        }
        collect_custom_ids(&component["components"], found);
    }
}

fn field_error_tree(errors: &[FieldError]) -> Value {
    let mut tree = json!({});
    for error in errors {
        insert_error(&mut tree, &error.path, error.code, &error.message);
    }
    tree
}

/// Discord's `errors` tree: a node holds either `_errors` or fields, never both (the spec's
/// `ErrorDetails`), so a node that needs both keeps its own errors under `_self`.
fn insert_error(tree: &mut Value, path: &[String], code: &str, message: &str) {
    let entry = json!({"code": code, "message": message});
    let mut node = tree;
    for segment in path {
        let Some(map) = node.as_object_mut() else {
            return;
        };
        if let Some(own) = map.remove("_errors") {
            map.insert("_self".into(), json!({"_errors": own}));
        }
        node = map.entry(segment.clone()).or_insert_with(|| json!({}));
    }
    let Some(map) = node.as_object_mut() else {
        return;
    };
    let has_fields = map.keys().any(|k| k != "_errors");
    let holder = if has_fields {
        match map
            .entry("_self")
            .or_insert_with(|| json!({}))
            .as_object_mut()
        {
            Some(holder) => holder,
            None => return,
        }
    } else {
        map
    };
    if let Some(list) = holder
        .entry("_errors")
        .or_insert_with(|| json!([]))
        .as_array_mut()
    {
        list.push(entry);
    }
}

/// The JSON body, or the `payload_json` part and files of a multipart body, plus complaints
/// about the body's framing.
struct ParsedBody {
    json: Value,
    files: Vec<(String, Vec<u8>)>,
    errors: Vec<String>,
}

impl ParsedBody {
    fn failed(why: String) -> Self {
        ParsedBody {
            json: Value::Null,
            files: Vec::new(),
            errors: vec![why],
        }
    }
}

fn parse_body(headers: &HeaderMap, body: &[u8]) -> ParsedBody {
    if body.is_empty() {
        return ParsedBody {
            json: Value::Null,
            files: Vec::new(),
            errors: Vec::new(),
        };
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/json") {
        return match serde_json::from_slice(body) {
            Ok(json) => ParsedBody {
                json,
                files: Vec::new(),
                errors: Vec::new(),
            },
            Err(why) => ParsedBody::failed(format!("body is not JSON: {why}")),
        };
    }
    if content_type.starts_with("multipart/form-data") {
        let parts = match multipart::parse(content_type, body) {
            Ok(parts) => parts,
            Err(why) => return ParsedBody::failed(format!("bad multipart body: {why}")),
        };
        let mut json = Value::Null;
        let mut files = Vec::new();
        let mut errors = Vec::new();
        for part in parts {
            match (part.name.as_str(), part.filename) {
                ("payload_json", _) => match serde_json::from_slice(&part.data) {
                    Ok(value) => json = value,
                    Err(why) => errors.push(format!("payload_json is not JSON: {why}")),
                },
                (name, Some(filename)) if name.starts_with("files[") || name == "file" => {
                    files.push((filename, part.data))
                }
                (name, _) => errors.push(format!("unexpected multipart field {name:?}")),
            }
        }
        if json.is_null() {
            errors.push("multipart body without payload_json".to_string());
        }
        return ParsedBody {
            json,
            files,
            errors,
        };
    }
    ParsedBody::failed(format!("unsupported content type {content_type:?}"))
}

/// A small `multipart/form-data` reader: enough for what reqwest sends.
mod multipart {
    pub struct Part {
        pub name: String,
        pub filename: Option<String>,
        pub data: Vec<u8>,
    }

    pub fn parse(content_type: &str, body: &[u8]) -> Result<Vec<Part>, String> {
        let boundary = content_type
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("boundary="))
            .next()
            .map(|b| b.trim_matches('"'))
            .ok_or("no boundary")?;
        let delimiter = format!("--{boundary}").into_bytes();
        let separator = [b"\r\n".as_slice(), &delimiter].concat();
        let start = find(body, &delimiter).ok_or("no opening boundary")?;
        let mut rest = &body[start + delimiter.len()..];
        let mut parts = Vec::new();
        loop {
            if rest.starts_with(b"--") {
                return Ok(parts);
            }
            rest = rest
                .strip_prefix(b"\r\n")
                .ok_or("boundary not followed by CRLF")?;
            let end = find(rest, &separator).ok_or("part without closing boundary")?;
            parts.push(part(&rest[..end])?);
            rest = &rest[end + separator.len()..];
        }
    }

    fn part(raw: &[u8]) -> Result<Part, String> {
        let split = find(raw, b"\r\n\r\n").ok_or("part without header end")?;
        let head = String::from_utf8_lossy(&raw[..split]);
        let mut name = None;
        let mut filename = None;
        for line in head.split("\r\n") {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            if !key.trim().eq_ignore_ascii_case("content-disposition") {
                continue;
            }
            for param in value.split(';').map(str::trim) {
                if let Some(v) = param.strip_prefix("name=") {
                    name = Some(v.trim_matches('"').to_string());
                } else if let Some(v) = param.strip_prefix("filename=") {
                    filename = Some(v.trim_matches('"').to_string());
                }
            }
        }
        Ok(Part {
            name: name.ok_or("part without a name")?,
            filename,
            data: raw[split + 4..].to_vec(),
        })
    }

    fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
        haystack.windows(needle.len()).position(|w| w == needle)
    }
}
