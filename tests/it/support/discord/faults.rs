//! Failures a test can script per route, answered the way Discord answers them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answered as usual: queued before other faults, it lets that many requests through first.
    Pass,
    /// 429 with Discord's body and rate-limit headers. Nothing is created.
    RateLimited { retry_after_secs: f64, global: bool },
    /// 429 for a shared resource (one DM channel, say): `X-RateLimit-Scope: shared`, no bucket counts.
    SharedRateLimited { retry_after_secs: f64 },
    /// 500. Nothing is created.
    ServerError,
    /// The request takes effect (the message is created, as when Discord is slow rather than
    /// down), but the answer comes only after `hold`, which should outlast the client's timeout.
    Timeout { hold: Duration },
    /// 403 with code 50007, as for a user who does not accept DMs. Nothing is created.
    CannotDm,
    /// 403 with code 50013. Nothing is created.
    MissingPermissions,
    /// Any error Discord documents: status, JSON code and message. Nothing is created.
    Code {
        status: u16,
        code: u64,
        message: &'static str,
    },
}

/// A scripted fault waiting for its route.
#[derive(Debug, Clone)]
pub struct FaultRule {
    pub method: String,
    pub route: String,
    /// Only requests to this channel (its `channel_id` parameter); None for every one on the route.
    pub channel: Option<String>,
    pub fault: Fault,
    pub remaining: u32,
}

/// An answer short of the route's own: status, JSON body, extra headers.
pub struct FaultAnswer {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(&'static str, String)>,
}

impl Fault {
    /// The answer for every fault but [`Fault::Pass`] and [`Fault::Timeout`], which answer normally (late).
    pub fn answer(&self, route: &str) -> Option<FaultAnswer> {
        match self {
            Self::RateLimited {
                retry_after_secs,
                global,
            } => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64());
                let mut headers = vec![
                    ("retry-after", format!("{}", retry_after_secs.ceil() as u64)),
                    ("x-ratelimit-limit", "5".to_string()),
                    ("x-ratelimit-remaining", "0".to_string()),
                    (
                        "x-ratelimit-reset",
                        format!("{:.3}", now + retry_after_secs),
                    ),
                    ("x-ratelimit-reset-after", format!("{retry_after_secs:.3}")),
                    ("x-ratelimit-bucket", bucket_for(route)),
                ];
                if *global {
                    headers.push(("x-ratelimit-global", "true".to_string()));
                    headers.push(("x-ratelimit-scope", "global".to_string()));
                } else {
                    headers.push(("x-ratelimit-scope", "user".to_string()));
                }
                Some(FaultAnswer {
                    status: 429,
                    body: json!({
                        "message": "You are being rate limited.",
                        "retry_after": retry_after_secs,
                        "global": global,
                        "code": 0,
                    }),
                    headers,
                })
            }
            Self::SharedRateLimited { retry_after_secs } => Some(FaultAnswer {
                status: 429,
                body: json!({
                    "message": "You are being rate limited.",
                    "retry_after": retry_after_secs,
                    "global": false,
                    "code": 0,
                }),
                headers: vec![
                    ("retry-after", format!("{}", retry_after_secs.ceil() as u64)),
                    ("x-ratelimit-scope", "shared".to_string()),
                ],
            }),
            Self::ServerError => Some(FaultAnswer {
                status: 500,
                body: json!({"message": "500: Internal Server Error", "code": 0}),
                headers: Vec::new(),
            }),
            Self::Pass | Self::Timeout { .. } => None,
            Self::CannotDm => Some(FaultAnswer {
                status: 403,
                body: json!({"message": "Cannot send messages to this user", "code": 50007}),
                headers: Vec::new(),
            }),
            Self::MissingPermissions => Some(FaultAnswer {
                status: 403,
                body: json!({"message": "Missing Permissions", "code": 50013}),
                headers: Vec::new(),
            }),
            Self::Code {
                status,
                code,
                message,
            } => Some(FaultAnswer {
                status: *status,
                body: json!({"message": message, "code": code}),
                headers: Vec::new(),
            }),
        }
    }
}

/// Discord's bucket ids are opaque hashes; one stable id per route is enough for a client that
/// keys its limits by bucket.
fn bucket_for(route: &str) -> String {
    let hash = route.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("{hash:016x}")
}
