//! Discord's official OpenAPI document, compiled into one request validator and a set of response
//! validators per route the loopback serves.
//!
//! The spec leaves almost every object open (`additionalProperties` is rarely set), so a typo in a
//! field name would pass. Before compiling, every object schema that names its properties gets
//! `unevaluatedProperties: false`. That keyword (unlike `additionalProperties`) sees through
//! `$ref`, `allOf`, `anyOf` and `oneOf`, so a field counts as known when any branch that matched
//! names it.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::{Value, json};

/// The URI the spec is registered under; no request ever goes there.
const SPEC_URI: &str = "https://loopback.discord.invalid/openapi.json";

/// A route the loopback serves: its path under `/api/v10` as the bot sees it, and the path the
/// spec files it under (the spec names the interaction webhook's segments differently).
#[derive(Debug)]
pub struct RouteDef {
    pub method: &'static str,
    pub template: &'static str,
    pub spec_path: &'static str,
}

const fn route(method: &'static str, template: &'static str, spec_path: &'static str) -> RouteDef {
    RouteDef {
        method,
        template,
        spec_path,
    }
}

const ORIGINAL: &str = "/webhooks/{webhook_id}/{webhook_token}/messages/@original";
const FOLLOWUP: &str = "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}";
const GLOBAL_COMMANDS: &str = "/applications/{application_id}/commands";
const GUILD_COMMANDS: &str = "/applications/{application_id}/guilds/{guild_id}/commands";

pub static ROUTES: &[RouteDef] = &[
    route("GET", "/gateway", "/gateway"),
    route("GET", "/gateway/bot", "/gateway/bot"),
    route("GET", "/users/@me", "/users/@me"),
    route(
        "GET",
        "/oauth2/applications/@me",
        "/oauth2/applications/@me",
    ),
    route("GET", GLOBAL_COMMANDS, GLOBAL_COMMANDS),
    route("PUT", GLOBAL_COMMANDS, GLOBAL_COMMANDS),
    route("GET", GUILD_COMMANDS, GUILD_COMMANDS),
    route("PUT", GUILD_COMMANDS, GUILD_COMMANDS),
    route(
        "POST",
        "/interactions/{interaction_id}/{interaction_token}/callback",
        "/interactions/{interaction_id}/{interaction_token}/callback",
    ),
    route(
        "POST",
        "/webhooks/{application_id}/{interaction_token}",
        "/webhooks/{webhook_id}/{webhook_token}",
    ),
    route(
        "GET",
        "/webhooks/{application_id}/{interaction_token}/messages/@original",
        ORIGINAL,
    ),
    route(
        "PATCH",
        "/webhooks/{application_id}/{interaction_token}/messages/@original",
        ORIGINAL,
    ),
    route(
        "PATCH",
        "/webhooks/{application_id}/{interaction_token}/messages/{message_id}",
        FOLLOWUP,
    ),
    route("POST", "/users/@me/channels", "/users/@me/channels"),
    route("GET", "/channels/{channel_id}", "/channels/{channel_id}"),
    route("PATCH", "/channels/{channel_id}", "/channels/{channel_id}"),
    route(
        "POST",
        "/channels/{channel_id}/messages",
        "/channels/{channel_id}/messages",
    ),
    route(
        "GET",
        "/channels/{channel_id}/messages",
        "/channels/{channel_id}/messages",
    ),
    route(
        "GET",
        "/channels/{channel_id}/messages/{message_id}",
        "/channels/{channel_id}/messages/{message_id}",
    ),
    route(
        "PATCH",
        "/channels/{channel_id}/messages/{message_id}",
        "/channels/{channel_id}/messages/{message_id}",
    ),
    route(
        "POST",
        "/channels/{channel_id}/threads",
        "/channels/{channel_id}/threads",
    ),
    route(
        "POST",
        "/channels/{channel_id}/messages/{message_id}/threads",
        "/channels/{channel_id}/messages/{message_id}/threads",
    ),
];

/// Finds the route for a method and a path under `/api/v10`, with the values of its `{params}`.
pub fn match_route(
    method: &str,
    path: &str,
) -> Option<(&'static RouteDef, HashMap<&'static str, String>)> {
    let actual: Vec<&str> = path.trim_matches('/').split('/').collect();
    ROUTES.iter().filter(|r| r.method == method).find_map(|r| {
        let wanted: Vec<&'static str> = r.template.trim_matches('/').split('/').collect();
        if wanted.len() != actual.len() {
            return None;
        }
        let mut params = HashMap::new();
        for (w, a) in wanted.iter().zip(&actual) {
            match w.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                Some(name) if !a.is_empty() => {
                    params.insert(name, (*a).to_string());
                }
                Some(_) => return None,
                None if w == a => {}
                None => return None,
            }
        }
        Some((r, params))
    })
}

/// Validators for one route.
pub struct RouteValidators {
    pub def: &'static RouteDef,
    /// `None` when the spec gives the route no JSON body.
    request: Option<Validator>,
    /// By the spec's status key ("200", "204", "429", "4XX"); `None` means "no body".
    responses: Vec<(String, Option<Arc<Validator>>)>,
}

pub struct Spec {
    routes: Vec<RouteValidators>,
}

static SPEC: OnceLock<Result<Spec, String>> = OnceLock::new();

/// The compiled spec, loaded once per test binary. Panics when it cannot be loaded: a test that
/// silently skipped validation would prove nothing.
pub fn spec() -> &'static Spec {
    match SPEC.get_or_init(Spec::load) {
        Ok(spec) => spec,
        Err(why) => panic!("loopback Discord: cannot use the OpenAPI spec: {why}"),
    }
}

/// Where the spec lives: `DISCORD_OPENAPI_SPEC`, else the project's shared copy.
pub fn spec_path() -> PathBuf {
    match std::env::var_os("DISCORD_OPENAPI_SPEC") {
        Some(path) => PathBuf::from(path),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/discord-api/openapi.json")
        }
    }
}

impl Spec {
    fn load() -> Result<Spec, String> {
        let path = spec_path();
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "reading {} failed ({e}); set DISCORD_OPENAPI_SPEC to the openapi.json path",
                path.display()
            )
        })?;
        let mut document: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
        patch_quirks(&mut document)?;
        strictify(&mut document);
        Self::compile(document)
    }

    fn compile(document: Value) -> Result<Spec, String> {
        let registry = jsonschema::Registry::new()
            .add(SPEC_URI, &document)
            .and_then(|b| b.prepare())
            .map_err(|e| format!("registering the spec failed: {e}"))?;
        let build = |pointer: &str| -> Result<Validator, String> {
            jsonschema::options()
                .with_registry(&registry)
                .should_validate_formats(true)
                .with_format("snowflake", is_snowflake)
                .with_format("int32", |_: &str| true)
                .with_format("int64", |_: &str| true)
                .with_format("double", |_: &str| true)
                .with_format("nonce", |s: &str| s.chars().count() <= 25)
                .build(&json!({ "$ref": format!("{SPEC_URI}{pointer}") }))
                .map_err(|e| format!("compiling {pointer} failed: {e}"))
        };
        // The error and rate-limit responses are shared by every route: compile them once.
        let mut shared: HashMap<String, Arc<Validator>> = HashMap::new();
        let mut routes = Vec::new();
        for def in ROUTES {
            let method = def.method.to_ascii_lowercase();
            let op_pointer = format!("#/paths/{}/{method}", escape_pointer(def.spec_path));
            let op = document
                .pointer(&format!(
                    "/paths/{}/{method}",
                    def.spec_path.replace('~', "~0").replace('/', "~1")
                ))
                .ok_or_else(|| format!("the spec has no {} {}", def.method, def.spec_path))?;
            let request = match op.pointer("/requestBody/content/application~1json/schema") {
                Some(_) => Some(build(&format!(
                    "{op_pointer}/requestBody/content/application~1json/schema"
                ))?),
                None => None,
            };
            let mut responses = Vec::new();
            let listed = op
                .get("responses")
                .and_then(Value::as_object)
                .ok_or("operation without responses")?;
            for (status, response) in listed {
                // A response is either inline or a $ref into components/responses; a JSON pointer
                // cannot follow a $ref, so resolve it here.
                let (pointer, response) = match response.get("$ref").and_then(Value::as_str) {
                    Some(target) => {
                        let resolved = document
                            .pointer(target.trim_start_matches('#'))
                            .ok_or_else(|| format!("dangling response $ref {target}"))?;
                        (target.to_string(), resolved)
                    }
                    None => (format!("{op_pointer}/responses/{status}"), response),
                };
                let validator = match response.pointer("/content/application~1json/schema") {
                    Some(_) => {
                        let schema_pointer = format!("{pointer}/content/application~1json/schema");
                        let validator = match shared.get(&schema_pointer) {
                            Some(v) => Arc::clone(v),
                            None => {
                                let v = Arc::new(build(&schema_pointer)?);
                                if pointer.starts_with("#/components/") {
                                    shared.insert(schema_pointer, Arc::clone(&v));
                                }
                                v
                            }
                        };
                        Some(validator)
                    }
                    None => None,
                };
                responses.push((status.clone(), validator));
            }
            routes.push(RouteValidators {
                def,
                request,
                responses,
            });
        }
        Ok(Spec { routes })
    }

    pub fn route(&self, def: &RouteDef) -> Option<&RouteValidators> {
        self.routes
            .iter()
            .find(|r| r.def.method == def.method && r.def.template == def.template)
    }

    /// How many routes have validators (all of [`ROUTES`] once loaded).
    pub fn route_count(&self) -> usize {
        self.routes.len()
    }
}

impl RouteValidators {
    pub fn takes_body(&self) -> bool {
        self.request.is_some()
    }

    /// Checks a request body (the `payload_json` part for multipart sends). Empty when valid.
    ///
    /// An unknown field that carries nothing (null, false, [], {}) is let through: serenity
    /// serializes unset builder fields that way (e.g. `channel_types: []` on every command
    /// option) and Discord ignores them. A typo that carries a value is still caught.
    pub fn check_request(&self, body: &Value) -> Vec<Problem> {
        let Some(validator) = &self.request else {
            return match body {
                Value::Null => Vec::new(),
                _ => vec![Problem::at_root(format!(
                    "{} {} takes no body",
                    self.def.method, self.def.template
                ))],
            };
        };
        if validator.is_valid(body) {
            return Vec::new();
        }
        let mut lenient = body.clone();
        for _ in 0..5 {
            let mut empty_unknowns = Vec::new();
            for error in validator.iter_errors(&lenient) {
                collect_empty_unknowns(&error, &lenient, &mut empty_unknowns);
            }
            if empty_unknowns.is_empty() {
                break;
            }
            for (pointer, name) in empty_unknowns {
                if let Some(Value::Object(map)) = lenient.pointer_mut(&pointer) {
                    map.remove(&name);
                }
            }
        }
        problems(validator, &lenient)
    }

    /// Checks a body the loopback is about to answer with. Empty when valid.
    pub fn check_response(&self, status: u16, body: Option<&Value>) -> Vec<Problem> {
        let exact = status.to_string();
        let class = format!("{}XX", status / 100);
        let Some((_, validator)) = self
            .responses
            .iter()
            .find(|(k, _)| *k == exact)
            .or_else(|| self.responses.iter().find(|(k, _)| *k == class))
        else {
            return vec![Problem::at_root(format!(
                "status {status} is not documented for {} {}",
                self.def.method, self.def.spec_path
            ))];
        };
        match (validator, body) {
            (Some(validator), Some(body)) => problems(validator, body),
            (None, None) => Vec::new(),
            (Some(_), None) => vec![Problem::at_root(format!(
                "status {status} must carry a JSON body"
            ))],
            (None, Some(_)) => vec![Problem::at_root(format!(
                "status {status} must not carry a body"
            ))],
        }
    }
}

/// One thing wrong with a body, at a place in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Field names and array indexes from the root.
    pub path: Vec<String>,
    pub message: String,
}

impl Problem {
    fn at_root(message: String) -> Self {
        Problem {
            path: Vec::new(),
            message,
        }
    }

    fn at(pointer: &str, field: Option<&str>, message: String) -> Self {
        let mut path: Vec<String> = pointer
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        path.extend(field.map(str::to_string));
        Problem { path, message }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "/{}: {}", self.path.join("/"), self.message)
    }
}

/// (object pointer, field) for unknown fields whose value carries nothing, in any branch.
fn collect_empty_unknowns(
    error: &ValidationError<'_>,
    body: &Value,
    found: &mut Vec<(String, String)>,
) {
    match error.kind() {
        ValidationErrorKind::AnyOf { context }
        | ValidationErrorKind::OneOfNotValid { context }
        | ValidationErrorKind::OneOfMultipleValid { context } => {
            context
                .iter()
                .flatten()
                .for_each(|e| collect_empty_unknowns(e, body, found));
        }
        ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            let pointer = error.instance_path().as_str().to_string();
            for name in unexpected {
                let carries_nothing = match body.pointer(&pointer).and_then(|o| o.get(name)) {
                    Some(Value::Null | Value::Bool(false)) => true,
                    Some(Value::Array(items)) => items.is_empty(),
                    Some(Value::Object(map)) => map.is_empty(),
                    _ => false,
                };
                if carries_nothing && !found.iter().any(|(p, n)| *p == pointer && n == name) {
                    found.push((pointer.clone(), name.clone()));
                }
            }
        }
        _ => {}
    }
}

/// What is wrong with a body, at the places Discord would name; `anyOf`/`oneOf` failures say
/// what each plausible branch objected to, since "not valid under any of the schemas" alone
/// tells nothing.
fn problems(validator: &Validator, body: &Value) -> Vec<Problem> {
    let mut out = Vec::new();
    for error in validator.iter_errors(body) {
        describe(&error, &mut out);
    }
    out
}

fn describe(error: &ValidationError<'_>, out: &mut Vec<Problem>) {
    let at = error.instance_path().as_str();
    match error.kind() {
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            // Unions are mostly tagged by a `type` field or by being null: a branch whose tag or
            // JSON type does not fit is noise, so show only the branches the body could have meant.
            let tag = format!("{at}/type");
            let plausible: Vec<&Vec<ValidationError<'static>>> = context
                .iter()
                .filter(|branch| {
                    !branch.iter().any(|e| {
                        let path = e.instance_path().as_str();
                        (path == tag
                            && matches!(
                                e.kind(),
                                ValidationErrorKind::Enum { .. }
                                    | ValidationErrorKind::Constant { .. }
                            ))
                            || (path == at && matches!(e.kind(), ValidationErrorKind::Type { .. }))
                    })
                })
                .collect();
            let shown: Vec<&Vec<ValidationError<'static>>> = if plausible.is_empty() {
                context.iter().collect()
            } else {
                plausible
            };
            if let [only] = shown.as_slice() {
                only.iter().for_each(|e| describe(e, out));
                return;
            }
            let branches: Vec<String> = shown
                .iter()
                .enumerate()
                .map(|(i, branch)| {
                    let mut inner = Vec::new();
                    branch.iter().for_each(|e| describe(e, &mut inner));
                    let inner: Vec<String> = inner.iter().map(Problem::to_string).collect();
                    format!("({}) {}", i + 1, inner.join("; "))
                })
                .collect();
            out.push(Problem::at(
                at,
                None,
                format!(
                    "fits none of {} shapes: {}",
                    shown.len(),
                    branches.join(" | ")
                ),
            ));
        }
        ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            out.extend(
                unexpected
                    .iter()
                    .map(|name| Problem::at(at, Some(name), "unknown field".to_string())),
            );
        }
        ValidationErrorKind::Required { property } => {
            let name = property
                .as_str()
                .map_or_else(|| property.to_string(), str::to_string);
            out.push(Problem::at(
                at,
                Some(&name),
                "required field missing".to_string(),
            ));
        }
        _ => out.push(Problem::at(at, None, error.masked().to_string())),
    }
}

fn is_snowflake(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 20
        && s.bytes().all(|b| b.is_ascii_digit())
        && s.parse::<u64>().is_ok()
}

/// Escapes a spec path for use inside a URI fragment pointer.
fn escape_pointer(path: &str) -> String {
    path.replace('~', "~0")
        .replace('/', "~1")
        .replace('{', "%7B")
        .replace('}', "%7D")
}

/// Where the published spec disagrees with what Discord and serenity actually do. Each patch
/// is narrow, so the rest of the spec stays as published.
fn patch_quirks(document: &mut Value) -> Result<(), String> {
    // Field errors inside `errors` carry string codes ("BASE_TYPE_REQUIRED"), and serenity only
    // decodes string codes; the spec reuses its top-level `Error` (integer code) for them.
    let field_error = json!({
        "type": "object",
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        "required": ["code", "message"],
    });
    let items = document
        .pointer_mut("/components/schemas/InnerErrors/properties/_errors/items")
        .ok_or("the spec no longer has InnerErrors._errors; review patch_quirks")?;
    *items = field_error;

    // Commands: `nsfw` is documented by Discord and sent by serenity, but missing here; and
    // `default_member_permissions` is a permission bitset *string* (serenity sends "32"), which
    // the spec types as an integer.
    for name in [
        "ApplicationCommandCreateRequest",
        "ApplicationCommandUpdateRequest",
        "ApplicationCommandPatchRequestPartial",
    ] {
        let properties = document
            .pointer_mut(&format!("/components/schemas/{name}/properties"))
            .and_then(Value::as_object_mut)
            .ok_or_else(|| format!("the spec no longer has {name}; review patch_quirks"))?;
        properties.insert("nsfw".into(), json!({"type": ["boolean", "null"]}));
        properties.insert(
            "default_member_permissions".into(),
            json!({"type": ["string", "integer", "null"], "pattern": "^[0-9]+$", "minimum": 0}),
        );
    }

    // Attachment ids in a request are placeholders tying an entry to its `files[n]` part;
    // serenity sends them as numbers (`"id": 0`), which Discord accepts, while the spec allows
    // only snowflake strings.
    let id = document
        .pointer_mut("/components/schemas/MessageAttachmentRequest/properties/id")
        .ok_or("the spec no longer has MessageAttachmentRequest.id; review patch_quirks")?;
    *id = json!({"anyOf": [{"$ref": "#/components/schemas/SnowflakeType"}, {"type": "integer", "minimum": 0}]});
    Ok(())
}

/// Closes every object schema that names its properties. Schemas that are pieces of an `allOf`
/// stay open (the parts of a composition each see only their own fields); the `allOf` holder is
/// closed instead, which is equivalent once composed.
fn strictify(document: &mut Value) {
    let mut composed = HashSet::new();
    collect_allof_refs(document, &mut composed);
    if let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in schemas.iter_mut() {
            let pieced = composed.contains(&format!("#/components/schemas/{name}"));
            close_schema(schema, pieced);
        }
    }
    for pointer in ["/paths", "/components/responses"] {
        if let Some(holder) = document.pointer_mut(pointer) {
            close_media_types(holder);
        }
    }
}

/// `$ref`s used as `allOf` pieces in JSON bodies.
fn collect_allof_refs(node: &Value, found: &mut HashSet<String>) {
    match node {
        Value::Object(map) => {
            if let Some(Value::Array(pieces)) = map.get("allOf") {
                for piece in pieces {
                    if let Some(target) = piece.get("$ref").and_then(Value::as_str) {
                        found.insert(target.to_string());
                    }
                }
            }
            // Form-encoded bodies are never validated as such (multipart sends are checked on
            // their `payload_json`), and their `allOf`s would leave the JSON schemas open.
            map.iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "multipart/form-data" | "application/x-www-form-urlencoded"
                    )
                })
                .for_each(|(_, v)| collect_allof_refs(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_allof_refs(v, found)),
        _ => {}
    }
}

/// Finds the schemas under `content.<media type>.schema` of operations and shared responses.
fn close_media_types(node: &mut Value) {
    match node {
        Value::Object(map) => {
            if let Some(Value::Object(content)) = map.get_mut("content") {
                for media in content.values_mut() {
                    if let Some(schema) = media.get_mut("schema") {
                        close_schema(schema, false);
                    }
                }
            }
            for (key, value) in map.iter_mut() {
                if key != "content" {
                    close_media_types(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(close_media_types),
        _ => {}
    }
}

fn close_schema(schema: &mut Value, pieced: bool) {
    let Value::Object(map) = schema else { return };
    let open = [
        "additionalProperties",
        "patternProperties",
        "unevaluatedProperties",
    ]
    .iter()
    .any(|k| map.contains_key(*k));
    if !pieced && !open && (map.contains_key("properties") || map.contains_key("allOf")) {
        map.insert("unevaluatedProperties".to_string(), Value::Bool(false));
    }
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        properties.values_mut().for_each(|s| close_schema(s, false));
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(child) = map.get_mut(key) {
            close_schema(child, false);
        }
    }
    for (key, pieces) in [
        ("allOf", true),
        ("anyOf", false),
        ("oneOf", false),
        ("prefixItems", false),
    ] {
        if let Some(Value::Array(children)) = map.get_mut(key) {
            children.iter_mut().for_each(|s| close_schema(s, pieces));
        }
    }
}
