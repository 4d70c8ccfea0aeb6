//! What the running parts report about themselves for `/metrics` and `/healthz`: the worker's pauses.
//!
//! The worker owns a [`WorkerStatus`] and sets a pause while it holds back; the operator endpoint reads it. A
//! pause for a rejected token (Discord 401, Slack `invalid_auth`) is held per platform: the worker calls
//! `status.refused(platform, why)` and `status.accepted(platform)`; `/metrics` shows
//! `career_circle_worker_paused{reason="token_rejected"} 1` and `/healthz` answers 503 meanwhile.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::chat::Platform;

/// Why the worker holds back from claiming deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PauseReason {
    /// The platform answered 429: waiting out its `retry_after`.
    RateLimited,
    /// The platform rejected the bot's token: nothing can be sent until an operator fixes it.
    TokenRejected,
}

impl PauseReason {
    pub const ALL: [PauseReason; 2] = [PauseReason::RateLimited, PauseReason::TokenRejected];

    /// The `reason` label of `career_circle_worker_paused`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RateLimited => "rate_limited",
            Self::TokenRejected => "token_rejected",
        }
    }

    /// Whether the instance is unhealthy while paused for this reason: a 429 passes by itself, a rejected token
    /// needs an operator.
    pub fn is_unhealthy(self) -> bool {
        matches!(self, Self::TokenRejected)
    }

    fn index(self) -> usize {
        match self {
            Self::RateLimited => 0,
            Self::TokenRejected => 1,
        }
    }
}

/// The worker's pauses, one flag per reason, shared between the worker and the operator endpoint. Each reason
/// is set and cleared on its own, so the end of a 429 pause never clears a rejected-token pause.
#[derive(Debug, Clone, Default)]
pub struct WorkerStatus {
    paused: Arc<[AtomicBool; PauseReason::ALL.len()]>,
    /// What each refusing platform said and what to do, while it refuses the bot: shown by `/healthz`.
    why: Arc<std::sync::Mutex<BTreeMap<Platform, String>>>,
}

impl WorkerStatus {
    pub fn pause(&self, reason: PauseReason) {
        self.paused[reason.index()].store(true, Ordering::Relaxed);
    }

    pub fn resume(&self, reason: PauseReason) {
        self.paused[reason.index()].store(false, Ordering::Relaxed);
    }

    /// A platform rejected the token: paused, with its words and the fix for `/healthz`.
    pub fn refused(&self, platform: Platform, why: String) {
        let mut refusals = self.why.lock().unwrap_or_else(|p| p.into_inner());
        refusals.insert(platform, why);
        self.pause(PauseReason::TokenRejected);
    }

    /// The platform accepts the bot again; the pause ends when no platform refuses it.
    pub fn accepted(&self, platform: Platform) {
        let mut refusals = self.why.lock().unwrap_or_else(|p| p.into_inner());
        refusals.remove(&platform);
        if refusals.is_empty() {
            self.resume(PauseReason::TokenRejected);
        }
    }

    /// Why the bot is refused, while any platform refuses it.
    pub fn refusal(&self) -> Option<String> {
        let refusals = self.why.lock().unwrap_or_else(|p| p.into_inner());
        (!refusals.is_empty()).then(|| refusals.values().cloned().collect::<Vec<_>>().join("; "))
    }

    pub fn is_paused(&self, reason: PauseReason) -> bool {
        self.paused[reason.index()].load(Ordering::Relaxed)
    }

    /// The reasons the worker is paused for now, in a stable order.
    pub fn pauses(&self) -> Vec<PauseReason> {
        PauseReason::ALL
            .into_iter()
            .filter(|r| self.is_paused(*r))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_set_and_cleared_on_their_own() {
        let status = WorkerStatus::default();
        let seen_by_endpoint = status.clone();
        assert!(seen_by_endpoint.pauses().is_empty());
        status.pause(PauseReason::TokenRejected);
        status.pause(PauseReason::RateLimited);
        status.resume(PauseReason::RateLimited);
        assert_eq!(seen_by_endpoint.pauses(), vec![PauseReason::TokenRejected]);
        assert!(
            PauseReason::ALL
                .iter()
                .enumerate()
                .all(|(i, r)| r.index() == i)
        );
    }

    #[test]
    fn one_platform_accepting_the_bot_does_not_clear_another_ones_refusal() {
        let status = WorkerStatus::default();
        status.refused(Platform::Slack, "slack: token_revoked; reinstall".into());
        status.refused(Platform::Discord, "discord: 401; reset it".into());
        status.accepted(Platform::Discord);
        assert_eq!(status.pauses(), vec![PauseReason::TokenRejected]);
        assert_eq!(
            status.refusal().as_deref(),
            Some("slack: token_revoked; reinstall")
        );
        status.accepted(Platform::Slack);
        assert!(status.pauses().is_empty());
        assert_eq!(status.refusal(), None);
    }
}
