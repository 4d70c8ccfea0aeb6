//! What the running parts report about themselves for `/metrics` and `/healthz`: the worker's pauses.
//!
//! The worker owns a [`WorkerStatus`] and sets a pause while it holds back; the operator endpoint reads it. A
//! pause for a rejected token (Discord 401, Slack `invalid_auth`) is meant to plug in here: the worker calls
//! `status.pause(PauseReason::TokenRejected)` and `status.resume(PauseReason::TokenRejected)`; `/metrics` shows
//! `career_circle_worker_paused{reason="token_rejected"} 1` and `/healthz` answers 503 meanwhile.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
    /// What the platform said and what to do, while the bot is refused: shown by `/healthz`.
    why: Arc<std::sync::Mutex<Option<String>>>,
}

impl WorkerStatus {
    pub fn pause(&self, reason: PauseReason) {
        self.paused[reason.index()].store(true, Ordering::Relaxed);
    }

    pub fn resume(&self, reason: PauseReason) {
        self.paused[reason.index()].store(false, Ordering::Relaxed);
    }

    /// Pauses for a rejected token, with the platform's words and the fix for `/healthz`.
    pub fn refused(&self, why: String) {
        *self.why.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
        self.pause(PauseReason::TokenRejected);
    }

    /// The platform accepts the bot again.
    pub fn accepted(&self) {
        self.why.lock().unwrap_or_else(|p| p.into_inner()).take();
        self.resume(PauseReason::TokenRejected);
    }

    /// Why the bot is refused, while it is.
    pub fn refusal(&self) -> Option<String> {
        self.why.lock().unwrap_or_else(|p| p.into_inner()).clone()
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
}
