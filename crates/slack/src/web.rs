//! The Web API client: `POST https://slack.com/api/<method>` with the bot token (or, for `apps.connections.open`,
//! the app-level token). Writes go as JSON, reads as form fields (Slack takes JSON only for write methods). Every
//! call is paced first; a 429 or `ratelimited` holds the lane its limit counts (the method's, or for posts the
//! channel's).

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::Value;

use career_circle_core::chat::ChatError;
use career_circle_core::chat::pacing::{HOLD_MAX, Lane, LocalPacer, Pacer};

use crate::faults;

/// The bot-wide lane's key: one per workspace install, whatever the number of instances.
pub const GLOBAL_LANE: &str = "slack:global";

/// How fast the bot may go: requests a second across its instances, and messages a second to one channel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    pub global_per_second: f64,
    pub channel_per_second: f64,
}

impl Default for Rates {
    /// Slack allows `chat.postMessage` about one message a second per channel, and several hundred a minute per
    /// workspace; the other methods have limits of their own (see `method_per_second`).
    fn default() -> Self {
        Self {
            global_per_second: 5.0,
            channel_per_second: 1.0,
        }
    }
}

/// A method's own limit per workspace, from Slack's rate-limit tiers (Tier 2: 20 a minute, Tier 3: 50, Tier 4:
/// 100), a little under each. A member waiting on a modal (`views.open`, whose trigger lasts 3 s) never queues
/// behind the bot's other calls: each method has its own lane.
pub fn method_per_second(method: &str) -> f64 {
    match method {
        "conversations.open"
        | "conversations.history"
        | "conversations.replies"
        | "conversations.join"
        | "chat.update" => 45.0 / 60.0,
        "users.info"
        | "views.open"
        | "views.publish"
        | "files.getUploadURLExternal"
        | "files.completeUploadExternal"
        | "auth.test" => 90.0 / 60.0,
        // chat.postMessage is limited per channel (that lane) and by the workspace-wide one.
        _ => 20.0,
    }
}

/// How a call's arguments travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    Json,
    Form,
}

pub struct WebApi {
    client: reqwest::Client,
    /// "https://slack.com/api", or a loopback's "http://127.0.0.1:PORT/api".
    base: String,
    bot_token: String,
    pacer: Arc<dyn Pacer>,
    rates: Rates,
}

impl WebApi {
    /// Fails only when the TLS backend cannot be set up.
    pub fn new(base: &str, bot_token: &str, timeout: Duration) -> Result<Self, ChatError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| ChatError::Transient(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
            bot_token: bot_token.to_owned(),
            pacer: Arc::new(LocalPacer::new()),
            rates: Rates::default(),
        })
    }

    /// Paces through `pacer` at `rates` (the shared pacer in production, so the rates hold for all instances).
    pub fn paced(mut self, pacer: Arc<dyn Pacer>, rates: Rates) -> Self {
        self.pacer = pacer;
        self.rates = rates;
        self
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn lanes(&self, method: &str, channel: Option<&str>) -> Vec<Lane> {
        let mut lanes = Vec::new();
        if let Some(c) = channel {
            lanes.push(Lane::new(
                format!("slack:channel:{c}"),
                self.rates.channel_per_second,
            ));
        }
        lanes.push(Lane::new(
            format!("slack:method:{method}"),
            method_per_second(method),
        ));
        lanes.push(Lane::new(GLOBAL_LANE, self.rates.global_per_second));
        lanes
    }

    /// Calls `method` with the bot token, paced on `channel`'s lane (if any) and the bot-wide one.
    pub async fn call(
        &self,
        method: &str,
        args: &Value,
        body: Body,
        channel: Option<&str>,
    ) -> Result<Value, ChatError> {
        self.pacer
            .pace(&self.lanes(method, channel))
            .await
            .map_err(|e| ChatError::Transient(format!("pacing: {e:#}")))?;
        let result = call_with(
            &self.client,
            &self.base,
            &self.bot_token,
            method,
            args,
            body,
        )
        .await;
        if let Err(ChatError::RateLimited { retry_after }) = &result {
            let lane = limited_lane(method, channel);
            if let Err(e) = self.pacer.hold(&lane, (*retry_after).min(HOLD_MAX)).await {
                tracing::warn!(error = %e, lane, "could not hold a lane");
            }
        }
        result
    }
}

/// The lane a 429 holds: what Slack's limit counts. Limits are per method and workspace, except
/// `chat.postMessage`'s, which is per channel; so a limited `conversations.open` never holds a post elsewhere.
pub fn limited_lane(method: &str, channel: Option<&str>) -> String {
    match channel {
        Some(c) if method == "chat.postMessage" => format!("slack:channel:{c}"),
        _ => format!("slack:method:{method}"),
    }
}

/// One Web API call with `token`, unpaced (the app-level token's `apps.connections.open`, `doctor`).
pub async fn call_with(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    method: &str,
    args: &Value,
    body: Body,
) -> Result<Value, ChatError> {
    let url = format!("{base}/{method}");
    let request = client
        .post(&url)
        .header(AUTHORIZATION, format!("Bearer {token}"));
    let request = match body {
        Body::Json => request
            .header(CONTENT_TYPE, "application/json; charset=utf-8")
            .body(args.to_string()),
        Body::Form => request
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form(args)),
    };
    let response = request.send().await.map_err(|e| {
        ChatError::Transient(if e.is_timeout() {
            format!("Slack did not answer {method} in time: {e}")
        } else {
            format!("cannot reach Slack for {method}: {e}")
        })
    })?;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| ChatError::Transient(format!("reading Slack's answer to {method}: {e}")))?;
    let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if status.is_success() && json["ok"].as_bool() == Some(true) {
        return Ok(json);
    }
    let error = faults::classify(status, &headers, &json);
    match &error {
        ChatError::Broken { .. } => {
            tracing::error!(method, error = %error, "Slack refuses the bot itself");
        }
        _ => {
            tracing::warn!(method, status = status.as_u16(), error = %error, "Slack refused a call")
        }
    }
    Err(error)
}

/// Arguments as form fields: strings as they are, anything else as its JSON text (Slack reads `blocks` that way).
pub fn form(args: &Value) -> String {
    let mut pairs = Vec::new();
    if let Some(map) = args.as_object() {
        for (k, v) in map {
            let value = match v {
                Value::String(s) => s.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            pairs.push(format!("{}={}", encode(k), encode(&value)));
        }
    }
    pairs.join("&")
}

/// application/x-www-form-urlencoded: unreserved bytes as they are, space as `+`, the rest as `%XX`.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_holds_its_method_or_its_channel() {
        assert_eq!(
            limited_lane("conversations.open", None),
            "slack:method:conversations.open"
        );
        assert_eq!(
            limited_lane("conversations.history", Some("C1")),
            "slack:method:conversations.history"
        );
        assert_eq!(
            limited_lane("chat.postMessage", Some("C1")),
            "slack:channel:C1"
        );
    }

    #[test]
    fn form_fields_are_encoded() {
        let args = serde_json::json!({"channel": "C1", "limit": 50, "include_all_metadata": true, "text": "a b&c"});
        let body = form(&args);
        assert!(body.contains("channel=C1"), "{body}");
        assert!(body.contains("limit=50"), "{body}");
        assert!(body.contains("text=a+b%26c"), "{body}");
    }
}
