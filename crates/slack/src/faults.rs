//! Slack's answers sorted by what helps. Most failures are HTTP 200 with `{"ok": false, "error": "..."}`; a 429
//! carries `Retry-After` in seconds. The table below is the one place a Slack error code gets its class.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

use career_circle_core::chat::ChatError;
use career_circle_core::chat::pacing::HOLD_MAX;

/// Used when a 429 carries no usable `Retry-After` (Slack always sends one; a proxy might not).
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// What the operator should do when Slack rejects the bot token itself.
pub const FIX_TOKEN: &str = "Slack rejected the bot token: reinstall the app to the workspace (OAuth & Permissions) \
                             and set SLACK_BOT_TOKEN (or slack.bot_token_file) to the new xoxb- token";

/// What the organiser should do when the bot is not in the circle's channel and cannot join it.
pub const FIX_INVITE: &str =
    "the bot is not in the circle's channel: type /invite @career-circle there";

/// How one Slack error code is classed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// The bot itself cannot work until an operator acts.
    Broken,
    /// The channel, user or message is gone.
    NotFound,
    /// The account is gone or disabled: the member leaves the workspace's circles.
    UnknownUser,
    CannotDm,
    /// The bot lacks a scope or a right in the channel: the circle's problem.
    MissingPermissions,
    /// Refused for good; `true` when it is about the circle's channel.
    Refused(bool),
    RateLimited,
    Transient,
}

/// Every Slack error code the bot knows, with its class and what it means.
const CODES: &[(&str, Class, &str)] = &[
    ("invalid_auth", Class::Broken, "the token is not valid"),
    ("not_authed", Class::Broken, "no token was sent"),
    ("token_revoked", Class::Broken, "the token was revoked"),
    ("token_expired", Class::Broken, "the token expired"),
    (
        "account_inactive",
        Class::Broken,
        "the token's user or workspace is deactivated",
    ),
    ("channel_not_found", Class::NotFound, "unknown channel"),
    ("message_not_found", Class::NotFound, "unknown message"),
    ("thread_not_found", Class::NotFound, "unknown thread"),
    ("user_not_found", Class::UnknownUser, "unknown user"),
    (
        "user_disabled",
        Class::UnknownUser,
        "the user is deactivated",
    ),
    ("cannot_dm_bot", Class::CannotDm, "that user is a bot"),
    (
        "missing_scope",
        Class::MissingPermissions,
        "the app lacks a scope",
    ),
    (
        "restricted_action",
        Class::MissingPermissions,
        "the workspace restricts this",
    ),
    ("not_in_channel", Class::Refused(true), FIX_INVITE),
    (
        "is_archived",
        Class::Refused(true),
        "the channel is archived",
    ),
    (
        "invalid_blocks",
        Class::Refused(false),
        "the blocks were refused",
    ),
    (
        "msg_too_long",
        Class::Refused(false),
        "the message is too long",
    ),
    ("no_text", Class::Refused(false), "the message is empty"),
    ("ratelimited", Class::RateLimited, "rate limited"),
    ("rate_limited", Class::RateLimited, "rate limited"),
    (
        "internal_error",
        Class::Transient,
        "Slack had an internal error",
    ),
    ("fatal_error", Class::Transient, "Slack had a fatal error"),
    (
        "service_unavailable",
        Class::Transient,
        "Slack is unavailable",
    ),
    ("request_timeout", Class::Transient, "Slack timed out"),
];

/// Whether the error code says the bot's token no longer works (the worker pauses, /healthz says why).
pub fn is_broken(code: &str) -> bool {
    matches!(lookup(code), Some((Class::Broken, _)))
}

fn lookup(code: &str) -> Option<(Class, &'static str)> {
    CODES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, class, meaning)| (*class, *meaning))
}

/// Sorts a Slack answer that was not `ok` by what the caller should do about it. `body` is the parsed JSON (Null
/// when the body was not JSON).
pub fn classify(status: StatusCode, headers: &HeaderMap, body: &Value) -> ChatError {
    let code = body["error"].as_str().unwrap_or_default();
    if status == StatusCode::TOO_MANY_REQUESTS {
        return ChatError::RateLimited {
            retry_after: retry_after(headers),
        };
    }
    if status.is_server_error() {
        return ChatError::Transient(format!("Slack answered {status}"));
    }
    let detail = match body["needed"].as_str() {
        Some(needed) => format!("{code} (needs {needed})"),
        None => code.to_owned(),
    };
    match lookup(code) {
        Some((Class::Broken, meaning)) => ChatError::Broken {
            detail: format!("Slack answered {code}: {meaning}"),
            fix: FIX_TOKEN.to_owned(),
        },
        Some((Class::NotFound, meaning)) => ChatError::NotFound(format!("{meaning} ({code})")),
        Some((Class::UnknownUser, _)) => ChatError::UnknownUser,
        Some((Class::CannotDm, _)) => ChatError::CannotDm,
        Some((Class::MissingPermissions, meaning)) => ChatError::Refused {
            code: code.to_owned(),
            detail: format!("{meaning}: {detail}"),
            circle_wide: true,
        },
        Some((Class::Refused(circle_wide), meaning)) => ChatError::Refused {
            code: code.to_owned(),
            detail: meaning.to_owned(),
            circle_wide,
        },
        Some((Class::RateLimited, _)) => ChatError::RateLimited {
            retry_after: retry_after(headers),
        },
        Some((Class::Transient, meaning)) => ChatError::Transient(format!("{meaning} ({code})")),
        // A code this table does not know: the same request would be refused the same way.
        None if !code.is_empty() => ChatError::Refused {
            code: code.to_owned(),
            detail: format!("Slack refused the request: {detail}"),
            circle_wide: false,
        },
        None if status.is_client_error() => ChatError::Refused {
            code: status.as_u16().to_string(),
            detail: format!("Slack answered {status}"),
            circle_wide: false,
        },
        None => ChatError::Transient(format!("Slack answered {status} without an error code")),
    }
}

/// `Retry-After` in whole seconds, capped at the pacer's longest hold.
pub fn retry_after(headers: &HeaderMap) -> Duration {
    headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(DEFAULT_RETRY_AFTER, |s| {
            Duration::from_secs(s).min(HOLD_MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use career_circle_core::chat::FaultClass;

    fn answer(status: u16, error: &str) -> ChatError {
        classify(
            StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT),
            &HeaderMap::new(),
            &serde_json::json!({"ok": false, "error": error}),
        )
    }

    #[test]
    fn the_issue_s_codes_are_classed_as_it_says() {
        for code in [
            "channel_not_found",
            "user_not_found",
            "not_in_channel",
            "is_archived",
            "cannot_dm_bot",
            "user_disabled",
            "missing_scope",
            "restricted_action",
            "invalid_blocks",
            "msg_too_long",
        ] {
            assert!(answer(200, code).is_permanent(), "{code} is permanent");
        }
        for code in [
            "invalid_auth",
            "token_revoked",
            "account_inactive",
            "not_authed",
        ] {
            assert_eq!(answer(200, code).class(), FaultClass::Broken, "{code}");
        }
        assert!(matches!(
            answer(200, "ratelimited"),
            ChatError::RateLimited { .. }
        ));
        assert_eq!(answer(503, "").class(), FaultClass::Transient);
        let mut headers = HeaderMap::new();
        headers.insert(
            "retry-after",
            reqwest::header::HeaderValue::from_static("7"),
        );
        assert_eq!(
            classify(
                StatusCode::TOO_MANY_REQUESTS,
                &headers,
                &serde_json::json!({"ok": false, "error": "ratelimited"})
            ),
            ChatError::RateLimited {
                retry_after: Duration::from_secs(7)
            }
        );
    }
}
