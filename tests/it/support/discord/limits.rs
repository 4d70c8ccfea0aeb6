//! Discord's limits as the loopback enforces them: the bot-wide 50 requests a second over a sliding second, five
//! messages per five seconds to one channel, and who a message pings given its content and `allowed_mentions`.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::Value;

#[derive(Debug)]
pub struct Limits {
    /// Requests a second for the whole bot (interaction answers are exempt, as on Discord).
    pub global: usize,
    pub global_hits: VecDeque<Instant>,
    /// Messages per window to one channel.
    pub per_channel: usize,
    pub channel_window: Duration,
    pub channel_hits: HashMap<String, VecDeque<Instant>>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            global: 50,
            global_hits: VecDeque::new(),
            per_channel: 5,
            channel_window: Duration::from_secs(5),
            channel_hits: HashMap::new(),
        }
    }
}

/// What a request meets: go ahead (with the channel bucket's remaining count and reset), or a 429.
pub enum Verdict {
    Go { bucket: Option<(usize, Duration)> },
    Global { retry_after: Duration },
    Channel { retry_after: Duration },
}

fn prune(hits: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while hits
        .front()
        .is_some_and(|t| now.duration_since(*t) >= window)
    {
        hits.pop_front();
    }
}

impl Limits {
    /// Counts a request. `global` is false for routes Discord exempts from the bot-wide limit; `channel` names the
    /// channel for message sends.
    pub fn admit(&mut self, global: bool, channel: Option<&str>) -> Verdict {
        let now = Instant::now();
        let second = Duration::from_secs(1);
        if global {
            prune(&mut self.global_hits, now, second);
            if self.global_hits.len() >= self.global {
                let oldest = self.global_hits.front().copied().unwrap_or(now);
                return Verdict::Global {
                    retry_after: second.saturating_sub(now.duration_since(oldest)),
                };
            }
        }
        let mut bucket = None;
        if let Some(c) = channel {
            let window = self.channel_window;
            let hits = self.channel_hits.entry(c.to_owned()).or_default();
            prune(hits, now, window);
            if hits.len() >= self.per_channel {
                let oldest = hits.front().copied().unwrap_or(now);
                return Verdict::Channel {
                    retry_after: window.saturating_sub(now.duration_since(oldest)),
                };
            }
            hits.push_back(now);
            let oldest = hits.front().copied().unwrap_or(now);
            bucket = Some((
                self.per_channel - hits.len(),
                window.saturating_sub(now.duration_since(oldest)),
            ));
        }
        if global {
            self.global_hits.push_back(now);
        }
        Verdict::Go { bucket }
    }
}

/// The most instants within any window of `width` (half-open).
pub fn max_in_window(times: &[Instant], width: Duration) -> usize {
    let mut sorted = times.to_vec();
    sorted.sort();
    let mut best = 0;
    let mut start = 0;
    for end in 0..sorted.len() {
        while sorted[end].duration_since(sorted[start]) >= width {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

/// Who a message pings, by Discord's rules: without `allowed_mentions` everything written pings; with it, only the
/// kinds in `parse` and the ids in `users`/`roles`. Returns (users, roles, everyone-or-here).
pub fn pings(content: &str, allowed: Option<&Value>) -> (Vec<String>, Vec<String>, bool) {
    let mut users = Vec::new();
    let mut roles = Vec::new();
    let mut rest = content;
    while let Some(start) = rest.find("<@") {
        let after = &rest[start + 2..];
        let (role, body) = match after.strip_prefix('&') {
            Some(b) => (true, b),
            None => (false, after.strip_prefix('!').unwrap_or(after)),
        };
        match body.find('>') {
            Some(end) if end > 0 && body[..end].chars().all(|c| c.is_ascii_digit()) => {
                let id = body[..end].to_owned();
                if role { &mut roles } else { &mut users }.push(id);
                rest = &body[end + 1..];
            }
            _ => rest = after,
        }
    }
    let everyone = content.contains("@everyone") || content.contains("@here");
    let Some(allowed) = allowed.filter(|a| a.is_object()) else {
        return (users, roles, everyone);
    };
    let parse: Vec<&str> = allowed["parse"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let listed = |field: &str| -> Vec<String> {
        allowed[field]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .or_else(|| v.as_u64().map(|n| n.to_string()))
            })
            .collect()
    };
    let (allowed_users, allowed_roles) = (listed("users"), listed("roles"));
    users.retain(|u| parse.contains(&"users") || allowed_users.contains(u));
    roles.retain(|r| parse.contains(&"roles") || allowed_roles.contains(r));
    (users, roles, everyone && parse.contains(&"everyone"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mentions_follow_allowed_mentions() {
        let text = "@everyone <@1> <@!2> <@&3> hi";
        assert_eq!(
            pings(text, None),
            (vec!["1".into(), "2".into()], vec!["3".into()], true)
        );
        let only_two = json!({"parse": [], "users": ["2"]});
        assert_eq!(
            pings(text, Some(&only_two)),
            (vec!["2".into()], vec![], false)
        );
    }

    #[test]
    fn windows_count_the_busiest_second() {
        let t0 = Instant::now();
        let times: Vec<Instant> = (0..10)
            .map(|i| t0 + Duration::from_millis(i * 300))
            .collect();
        assert_eq!(max_in_window(&times, Duration::from_secs(1)), 4);
    }
}
