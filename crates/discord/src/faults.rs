//! Discord's answers sorted by what helps: the classification table (tested row by row with the bodies Discord
//! documents), what rate-limit headers say, and a warning for every rejection that an operator can read, summarised
//! when the same answer repeats so a storm is a few lines, not thousands.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

use career_circle_core::chat::ChatError;
use career_circle_core::chat::pacing::HOLD_MAX;

/// Used when a 429 carries no usable wait (Discord always sends one; a proxy might not).
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// What the operator should do when Discord rejects the token itself.
pub const FIX_TOKEN: &str = "the token was rejected: reset it in the developer portal (Bot > Reset Token) and set \
                             DISCORD_TOKEN (or discord.token_file) to the new one";

/// Discord's JSON error codes that are permanent for their target, with why.
const PERMANENT: &[(u64, bool, &str)] = &[
    // (code, about the circle's channel rather than one member, what it means)
    (10003, true, "unknown channel"),
    (10008, false, "unknown message"),
    (10013, false, "unknown user"),
    (
        20009,
        false,
        "explicit content cannot be sent to this recipient",
    ),
    (50001, true, "missing access to the channel"),
    (50007, false, "cannot send messages to this user"),
    (50013, true, "missing permissions"),
    (50024, true, "cannot do this on this channel type"),
    (50033, false, "invalid recipient"),
    (50035, false, "invalid form body"),
    (50083, true, "the thread is archived"),
    (50278, false, "no server in common with this user"),
    (160005, true, "the thread is locked"),
    (200000, false, "blocked by the server's AutoMod"),
];

/// Sorts a non-2xx answer by what the caller should do about it.
pub fn classify(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ChatError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let code = json["code"].as_u64();
    let message = json["message"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect::<String>();
    if status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = retry_after(&json, headers);
        let global = json["global"].as_bool() == Some(true)
            || header(headers, "x-ratelimit-global").is_some_and(|v| v == "true")
            || header(headers, "x-ratelimit-scope").is_some_and(|v| v == "global");
        return if global {
            ChatError::GloballyRateLimited { retry_after }
        } else {
            ChatError::RateLimited { retry_after }
        };
    }
    if status == StatusCode::UNAUTHORIZED {
        return ChatError::Broken {
            detail: format!("Discord answered 401: {message}"),
            fix: FIX_TOKEN.to_owned(),
        };
    }
    match code {
        Some(50007) => return ChatError::CannotDm,
        Some(50013 | 50001) => return ChatError::MissingPermissions,
        // The account is gone: the member leaves the server's circles.
        Some(10013) => return ChatError::UnknownUser,
        Some(10003 | 10008 | 50033) => {
            return ChatError::NotFound(format!("{message} ({})", code.unwrap_or(0)));
        }
        _ => {}
    }
    if let Some((c, circle_wide, meaning)) =
        code.and_then(|c| PERMANENT.iter().find(|(k, _, _)| *k == c))
    {
        let errors = json
            .get("errors")
            .map(|e| format!(" {}", e.to_string().chars().take(300).collect::<String>()))
            .unwrap_or_default();
        return ChatError::Refused {
            code: c.to_string(),
            detail: format!("{meaning}: {message}{errors}"),
            circle_wide: *circle_wide,
        };
    }
    if status == StatusCode::NOT_FOUND {
        return ChatError::NotFound(format!("{status}: {message}"));
    }
    if status.is_client_error() && status != StatusCode::REQUEST_TIMEOUT {
        // The same request would be refused the same way: no use retrying it.
        return ChatError::Refused {
            code: code.map_or_else(|| status.as_u16().to_string(), |c| c.to_string()),
            detail: format!("{status}: {message}"),
            circle_wide: false,
        };
    }
    let detail = match code {
        Some(code) => format!("{status}: {message} (code {code})"),
        None => format!(
            "{status}: {}",
            String::from_utf8_lossy(body)
                .chars()
                .take(200)
                .collect::<String>()
        ),
    };
    ChatError::Transient(detail.trim_end().to_string())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn seconds(text: &str) -> Option<Duration> {
    let secs = text.trim().parse::<f64>().ok()?;
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    Some(
        Duration::try_from_secs_f64(secs)
            .unwrap_or(HOLD_MAX)
            .min(HOLD_MAX),
    )
}

/// The body's `retry_after` (seconds, fractional) is the precise one; the `Retry-After` header is rounded up to
/// whole seconds, and `X-RateLimit-Reset-After` describes the bucket. Capped at an hour, never negative.
pub fn retry_after(body: &Value, headers: &HeaderMap) -> Duration {
    body["retry_after"]
        .as_f64()
        .and_then(|s| seconds(&s.to_string()))
        .or_else(|| header(headers, "retry-after").and_then(seconds))
        .or_else(|| header(headers, "x-ratelimit-reset-after").and_then(seconds))
        .unwrap_or(DEFAULT_RETRY_AFTER)
}

/// A successful answer whose bucket has no requests left (`X-RateLimit-Remaining: 0`): how long until it resets.
pub fn bucket_exhausted(headers: &HeaderMap) -> Option<Duration> {
    if header(headers, "x-ratelimit-remaining")? != "0" {
        return None;
    }
    Some(
        header(headers, "x-ratelimit-reset-after")
            .and_then(seconds)
            .unwrap_or(DEFAULT_RETRY_AFTER),
    )
}

/// How often the same rejection is written out in full: the first time, then once a minute with a count.
const REPORT_EVERY: Duration = Duration::from_secs(60);

/// (status, code) → (when last written out, how many since).
type Seen = HashMap<(u16, u64), (Instant, u64)>;

static SEEN: Mutex<Option<Seen>> = Mutex::new(None);

/// Leaves a trace an operator can read: a warning with Discord's status, code and message; the same answer again
/// within a minute is only counted, and the count is told the next time it is written.
pub fn report(status: StatusCode, body: &[u8], error: &ChatError) {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let code = json["code"].as_u64().unwrap_or(0);
    let message = json["message"].as_str().unwrap_or_default();
    let key = (status.as_u16(), code);
    let now = Instant::now();
    let suppressed = {
        let mut guard = SEEN.lock().unwrap_or_else(|p| p.into_inner());
        let seen = guard.get_or_insert_with(HashMap::new);
        match seen.get_mut(&key) {
            Some((last, count)) if now.duration_since(*last) < REPORT_EVERY => {
                *count += 1;
                return;
            }
            Some((last, count)) => {
                let n = *count;
                *last = now;
                *count = 0;
                n
            }
            None => {
                seen.insert(key, (now, 0));
                0
            }
        }
    };
    match error {
        ChatError::Broken { fix, .. } => tracing::error!(
            status = status.as_u16(),
            code,
            message,
            fix = fix.as_str(),
            "Discord refuses the bot itself; deliveries wait until this is fixed"
        ),
        _ => tracing::warn!(
            status = status.as_u16(),
            code,
            message,
            error = %error,
            repeated_since_last_report = suppressed,
            "Discord rejected a request"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> ChatError {
        classify(
            StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT),
            &HeaderMap::new(),
            body.as_bytes(),
        )
    }

    #[test]
    fn retry_after_is_capped_and_never_negative() {
        let headers = HeaderMap::new();
        let huge: Value = serde_json::json!({"retry_after": 1e300});
        assert_eq!(retry_after(&huge, &headers), HOLD_MAX);
        let negative: Value = serde_json::json!({"retry_after": -5.0});
        assert_eq!(retry_after(&negative, &headers), DEFAULT_RETRY_AFTER);
        assert!(matches!(
            answer(429, r#"{"message":"x","retry_after":1336.57,"global":false}"#),
            ChatError::RateLimited { retry_after } if retry_after > Duration::from_secs(1336)
        ));
    }

    #[test]
    fn unknown_4xx_is_permanent_and_5xx_transient() {
        assert!(answer(400, r#"{"message":"?","code":12345}"#).is_permanent());
        assert!(!answer(502, "bad gateway").is_permanent());
        assert!(matches!(
            answer(401, r#"{"message":"401: Unauthorized","code":0}"#),
            ChatError::Broken { .. }
        ));
    }
}
