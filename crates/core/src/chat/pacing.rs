//! One pace for the whole bot. A platform allows so many requests a second per bot, however many processes send
//! under its token, and fewer to one channel; every request an adapter makes books a slot on its lanes first.
//!
//! A lane is a stream of requests with a minimum spacing (the bot-wide lane, one channel's lane). Booking is GCRA
//! without burst: a request may go at the later of now and the lane's next free instant, which then moves on by
//! the lane's spacing. A request waits for its narrow lanes (its channel) before it books the wide one (the whole
//! bot), so a busy channel never holds up the others. `store::pacing::SharedPacer` keeps the lanes in PostgreSQL so every instance sharing the
//! database shares them; `LocalPacer` keeps them in memory for a single process (tests, the demo).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

/// The longest any lane is held closed: a platform's wait beyond this is treated as this (Discord's shared
/// limits can ask for over 20 minutes; an hour is the most the bot ever waits on its word).
pub const HOLD_MAX: Duration = Duration::from_secs(3600);

/// How late after its slot a request may still go.
const LATE: Duration = Duration::from_millis(50);
/// How many times a stalled request books again before it goes anyway.
const REBOOK_MAX: usize = 5;

#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    pub key: String,
    /// The least time between two requests on this lane.
    pub every: Duration,
}

impl Lane {
    pub fn new(key: impl Into<String>, per_second: f64) -> Self {
        let per_second = if per_second.is_finite() && per_second > 0.0 {
            per_second
        } else {
            1.0
        };
        Self {
            key: key.into(),
            every: Duration::from_secs_f64(1.0 / per_second),
        }
    }
}

#[async_trait]
pub trait Pacer: Send + Sync {
    /// Books the next slot on a lane and returns how long to wait for it.
    async fn book(&self, lane: &Lane) -> anyhow::Result<Duration>;

    /// Keeps a lane closed for `wait` (capped at [`HOLD_MAX`]): a rate limit's `retry_after`, a bucket with no
    /// requests left until its reset.
    async fn hold(&self, key: &str, wait: Duration) -> anyhow::Result<()>;

    /// Waits for a slot on each lane in turn: the narrow ones first, the bot-wide one last. A request that wakes
    /// well after its slot (the process was stalled) books a new one rather than go late: late requests bunched
    /// with on-time ones would break the limit the slots keep.
    async fn pace(&self, lanes: &[Lane]) -> anyhow::Result<()> {
        for lane in lanes {
            for _ in 0..REBOOK_MAX {
                let asked = Instant::now();
                let wait = self.book(lane).await?.min(HOLD_MAX);
                let due = asked + wait;
                let wait = due.saturating_duration_since(Instant::now());
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                if Instant::now().saturating_duration_since(due) <= LATE {
                    break;
                }
            }
        }
        Ok(())
    }
}

/// Lanes in this process's memory.
#[derive(Debug, Default)]
pub struct LocalPacer {
    next_free: Mutex<HashMap<String, Instant>>,
}

impl LocalPacer {
    pub fn new() -> Self {
        Self::default()
    }

    fn lanes(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.next_free.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl Pacer for LocalPacer {
    async fn book(&self, lane: &Lane) -> anyhow::Result<Duration> {
        let now = Instant::now();
        let mut map = self.lanes();
        let at = map.get(&lane.key).copied().unwrap_or(now).max(now);
        map.insert(lane.key.clone(), at + lane.every);
        Ok(at.saturating_duration_since(now))
    }

    async fn hold(&self, key: &str, wait: Duration) -> anyhow::Result<()> {
        let until = Instant::now() + wait.min(HOLD_MAX);
        let mut map = self.lanes();
        let slot = map.entry(key.to_owned()).or_insert(until);
        *slot = (*slot).max(until);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn slots_are_spaced_per_lane_and_held() {
        let p = LocalPacer::new();
        let a = Lane::new("a", 1.0);
        assert_eq!(p.book(&a).await.unwrap(), Duration::ZERO);
        let wait_a = p.book(&a).await.unwrap();
        assert!(wait_a > Duration::from_millis(900), "{wait_a:?}");
        // Another lane is not held up by a's.
        assert_eq!(p.book(&Lane::new("b", 1.0)).await.unwrap(), Duration::ZERO);
        p.hold("c", Duration::from_secs(7200)).await.unwrap();
        let wait_c = p.book(&Lane::new("c", 1.0)).await.unwrap();
        assert!(wait_c <= HOLD_MAX && wait_c > Duration::from_secs(3500));
    }
}
