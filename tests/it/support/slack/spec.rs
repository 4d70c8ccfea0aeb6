//! Slack's Web API spec (`../shared/slack-api/web-openapi-v2.json`, Swagger 2.0) as a check of each call's
//! arguments: every argument must be one the method names (form or query parameters; `token` travels in the
//! header), every required one present, and each of the declared type. What the spec lacks or has wrong is
//! HAND-WRITTEN below, marked as such, from Slack's method reference; so are the Block Kit limits.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{Map, Value};

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub required: bool,
    /// "string", "boolean", "integer", "number", or "json" (an object or array, or its JSON text).
    pub kind: String,
}

/// HAND-WRITTEN: methods the 2.0 spec does not have, and arguments it does not name.
/// (method, argument, required, kind)
const HAND_WRITTEN: &[(&str, &str, bool, &str)] = &[
    // apps.connections.open: absent from the spec; no arguments (the app-level token is the header).
    ("apps.connections.open", "", false, ""),
    // files.getUploadURLExternal / files.completeUploadExternal: absent (they replaced files.upload).
    ("files.getUploadURLExternal", "filename", true, "string"),
    ("files.getUploadURLExternal", "length", true, "integer"),
    ("files.getUploadURLExternal", "alt_txt", false, "string"),
    (
        "files.getUploadURLExternal",
        "snippet_type",
        false,
        "string",
    ),
    ("files.completeUploadExternal", "files", true, "json"),
    (
        "files.completeUploadExternal",
        "channel_id",
        false,
        "string",
    ),
    ("files.completeUploadExternal", "thread_ts", false, "string"),
    (
        "files.completeUploadExternal",
        "initial_comment",
        false,
        "string",
    ),
    // chat.postMessage's message metadata (event_type + event_payload), newer than the spec.
    ("chat.postMessage", "metadata", false, "json"),
    ("chat.update", "metadata", false, "json"),
    // Reading metadata back: conversations.history / replies take include_all_metadata.
    (
        "conversations.history",
        "include_all_metadata",
        false,
        "boolean",
    ),
    (
        "conversations.replies",
        "include_all_metadata",
        false,
        "boolean",
    ),
];

/// Where the spec lives: `SLACK_OPENAPI_SPEC`, else the project's shared copy.
pub fn spec_path() -> PathBuf {
    match std::env::var_os("SLACK_OPENAPI_SPEC") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/slack-api/web-openapi-v2.json"),
    }
}

pub struct Spec {
    methods: HashMap<String, Vec<Param>>,
}

pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load().unwrap_or_else(|e| panic!("{e}")))
}

impl Spec {
    fn load() -> Result<Spec, String> {
        let path = spec_path();
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "reading {} failed ({e}); set SLACK_OPENAPI_SPEC to web-openapi-v2.json",
                path.display()
            )
        })?;
        let doc: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut methods: HashMap<String, Vec<Param>> = HashMap::new();
        for (path, ops) in doc["paths"].as_object().into_iter().flatten() {
            let method = path.trim_start_matches('/').to_owned();
            // HAND-WRITTEN: views.open / views.publish are listed under `get`; Slack takes them as POST too. Every
            // method is accepted by POST (form or JSON), so the operation's verb does not matter here.
            let mut params = Vec::new();
            for op in ops.as_object().into_iter().flat_map(|o| o.values()) {
                for p in op["parameters"].as_array().into_iter().flatten() {
                    let name = p["name"].as_str().unwrap_or_default();
                    if name == "token" || params.iter().any(|q: &Param| q.name == name) {
                        continue;
                    }
                    params.push(Param {
                        name: name.to_owned(),
                        required: p["required"].as_bool().unwrap_or(false),
                        kind: p["type"].as_str().unwrap_or("string").to_owned(),
                    });
                }
            }
            methods.insert(method, params);
        }
        for (method, name, required, kind) in HAND_WRITTEN {
            let params = methods.entry((*method).to_owned()).or_default();
            if !name.is_empty() && !params.iter().any(|p| p.name == *name) {
                params.push(Param {
                    name: (*name).to_owned(),
                    required: *required,
                    kind: (*kind).to_owned(),
                });
            }
        }
        Ok(Spec { methods })
    }

    pub fn knows(&self, method: &str) -> bool {
        self.methods.contains_key(method)
    }

    /// What is wrong with `args` for `method`; empty when nothing is.
    pub fn check(&self, method: &str, args: &Map<String, Value>) -> Vec<String> {
        let Some(params) = self.methods.get(method) else {
            return vec![format!("{method}: no such method in the spec")];
        };
        let mut errors = Vec::new();
        for (name, value) in args {
            match params.iter().find(|p| &p.name == name) {
                None => errors.push(format!("{method}: the method names no argument {name:?}")),
                Some(p) if !type_ok(&p.kind, value) => {
                    errors.push(format!("{method}: {name} is not a {}: {value}", p.kind))
                }
                Some(_) => {}
            }
        }
        for p in params.iter().filter(|p| p.required) {
            if !args.contains_key(&p.name) {
                errors.push(format!("{method}: {} is required", p.name));
            }
        }
        errors
    }
}

fn type_ok(kind: &str, value: &Value) -> bool {
    match (kind, value) {
        ("boolean", Value::Bool(_)) => true,
        ("boolean", Value::String(s)) => matches!(s.as_str(), "true" | "false" | "1" | "0"),
        ("integer", Value::Number(n)) => n.is_i64() || n.is_u64(),
        ("integer", Value::String(s)) => !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()),
        ("number", Value::Number(_)) => true,
        ("number", Value::String(s)) => s.parse::<f64>().is_ok(),
        // Slack reads structured arguments (blocks, view, metadata, files) as JSON in a JSON body, or as JSON
        // text in a form field.
        (_, Value::Object(_) | Value::Array(_)) => kind == "string" || kind == "json",
        ("json", Value::String(s)) => {
            serde_json::from_str::<Value>(s).is_ok_and(|v| v.is_object() || v.is_array())
        }
        ("string", Value::String(_)) => true,
        _ => false,
    }
}

/// An argument that may be JSON text (form) or JSON (body), as JSON.
pub fn structured(value: &Value) -> Value {
    match value {
        Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
        other => other.clone(),
    }
}

fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

/// HAND-WRITTEN: Block Kit's limits, which no spec states: 50 blocks per message, section text 3,000, 25 elements
/// per actions block, button text 75 and styles primary/danger only, action ids 255.
pub fn message_blocks(blocks: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let Some(list) = blocks.as_array() else {
        return vec!["blocks is not an array".to_owned()];
    };
    if list.len() > 50 {
        errors.push(format!("{} blocks; a message holds 50", list.len()));
    }
    errors.extend(list.iter().flat_map(block));
    errors
}

fn block(b: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    match b["type"].as_str().unwrap_or_default() {
        "section" => {
            if chars(&b["text"]["text"]) > 3_000 {
                errors.push(format!(
                    "section text of {} characters; the limit is 3000",
                    chars(&b["text"]["text"])
                ));
            }
            if !matches!(b["text"]["type"].as_str(), Some("mrkdwn" | "plain_text")) {
                errors.push("section text has no type".to_owned());
            }
        }
        "actions" => {
            let elements = b["elements"].as_array().cloned().unwrap_or_default();
            if elements.is_empty() || elements.len() > 25 {
                errors.push(format!("actions block with {} elements", elements.len()));
            }
            for e in &elements {
                if chars(&e["text"]["text"]) > 75 {
                    errors.push("button text over 75 characters".to_owned());
                }
                if !e["style"].is_null()
                    && !matches!(e["style"].as_str(), Some("primary" | "danger"))
                {
                    errors.push(format!("button style {}", e["style"]));
                }
                if chars(&e["action_id"]) > 255 {
                    errors.push("action_id over 255 characters".to_owned());
                }
            }
        }
        "input" => {
            if chars(&b["label"]["text"]) > 2_000 {
                errors.push("input label over 2000 characters".to_owned());
            }
            let e = &b["element"];
            if e["type"] == "plain_text_input" {
                if e["max_length"].as_u64().is_some_and(|n| n > 3_000) {
                    errors.push(format!(
                        "plain_text_input max_length {}; the limit is 3000",
                        e["max_length"]
                    ));
                }
                if chars(&e["initial_value"]) > 3_000 {
                    errors.push("initial_value over 3000 characters".to_owned());
                }
            }
        }
        "header" | "divider" | "context" => {}
        other => errors.push(format!("unknown block type {other:?}")),
    }
    errors
}

/// HAND-WRITTEN: a view's limits: 100 blocks, title 24, private_metadata 3,000, callback_id 255.
pub fn view(view: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    if !matches!(view["type"].as_str(), Some("modal" | "home")) {
        errors.push(format!("view type {}", view["type"]));
    }
    if view["type"] == "modal"
        && (chars(&view["title"]["text"]) == 0 || chars(&view["title"]["text"]) > 24)
    {
        errors.push(format!(
            "view title of {} characters; 1 to 24",
            chars(&view["title"]["text"])
        ));
    }
    let blocks = view["blocks"].as_array().cloned().unwrap_or_default();
    if blocks.len() > 100 {
        errors.push(format!("{} blocks; a view holds 100", blocks.len()));
    }
    if chars(&view["private_metadata"]) > 3_000 {
        errors.push("private_metadata over 3000 characters".to_owned());
    }
    if chars(&view["callback_id"]) > 255 {
        errors.push("callback_id over 255 characters".to_owned());
    }
    errors.extend(blocks.iter().flat_map(block));
    errors
}
