//! The worker: claims due deliveries, renders them, sends them through the `ChatPort`, records the outcome.
//!
//! Exactly-once comes from three things together: the claim (`FOR UPDATE SKIP LOCKED` plus a lease, so two
//! workers never hold one row), the record guarded by the claim, and the platform nonce derived from the
//! delivery id, so a resend after a crash between send and record is dropped by the platform.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt as _;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng as _;
use sqlx::PgPool;
use tokio::sync::watch;

use tracing::Instrument as _;

use crate::chat::pacing::HOLD_MAX;
use crate::chat::{ChatError, ChatMessage, ChatPort, FaultClass, Platform};
use crate::clock::{Clock, after};
use crate::domain::delivery::{DeliveryKind, DeliveryStatus};
use crate::domain::period::{Period, local_date};
use crate::ops::metrics::{DeliveryOutcome, count_delivery};
use crate::ops::status::{PauseReason, WorkerStatus};
use crate::schedule::render::{Rendered, render};
use crate::schedule::review::{self, Step, StepError};
use crate::settings::WorkerSettings;
use crate::store::circles;
use crate::store::deliveries::{self as outbox, Claimed};
use crate::store::redactions;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    pub skipped: usize,
    pub released: usize,
    /// Earlier posts edited to take out the words of a member who deleted their data (`redactions`).
    pub edited: usize,
    /// Set when the platform asked us to slow down: the loop waits this long before claiming again.
    pub pause: Option<Duration>,
}

pub struct Worker {
    pool: PgPool,
    chat: Arc<dyn ChatPort>,
    /// The ports of the other platforms this process serves (a deployment with Discord and Slack): each delivery
    /// goes out through its circle's platform.
    others: Vec<Arc<dyn ChatPort>>,
    clock: Arc<dyn Clock>,
    settings: WorkerSettings,
    id: String,
    status: WorkerStatus,
    /// The platforms that refuse the bot, while they do: what they said, and when to try one delivery again. One
    /// platform's refusal holds only its own circles' deliveries (a deployment may serve Discord and Slack).
    broken: std::sync::Mutex<BTreeMap<Platform, (String, DateTime<Utc>)>>,
}

/// How the `last_error` of a delivery that ran out of attempts begins (the failure gauge of /metrics sorts by it).
pub const GAVE_UP: &str = "gave up after";

impl Worker {
    pub fn new(
        pool: PgPool,
        chat: Arc<dyn ChatPort>,
        clock: Arc<dyn Clock>,
        settings: WorkerSettings,
    ) -> Self {
        let id = format!(
            "{}-{}",
            hostname(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        Self {
            pool,
            chat,
            others: Vec::new(),
            clock,
            settings,
            id,
            status: WorkerStatus::default(),
            broken: std::sync::Mutex::new(BTreeMap::new()),
        }
    }

    /// Also delivers for another platform's circles, through `chat`.
    pub fn with_chat(mut self, chat: Arc<dyn ChatPort>) -> Self {
        let platform = chat.capabilities().platform;
        self.others
            .retain(|c| c.capabilities().platform != platform);
        self.others.push(chat);
        self
    }

    /// The port of the delivery's platform; the first one given when none matches (one platform per process).
    fn chat_for(&self, platform: crate::chat::Platform) -> &Arc<dyn ChatPort> {
        std::iter::once(&self.chat)
            .chain(self.others.iter())
            .find(|c| c.capabilities().platform == platform)
            .unwrap_or(&self.chat)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// What the worker reports about its pauses, for the operator endpoint.
    pub fn status(&self) -> WorkerStatus {
        self.status.clone()
    }

    /// Claims one batch and works through it. Tests and `simulate` call this directly to drain the outbox
    /// deterministically.
    pub async fn run_once(&self) -> anyhow::Result<Outcome> {
        self.run_batch(None).await
    }

    async fn run_batch(&self, shutdown: Option<&watch::Receiver<bool>>) -> anyhow::Result<Outcome> {
        let now = self.clock.now();
        let lease_until = after(now, self.settings.lease);
        let claimed = outbox::claim(
            &self.pool,
            &self.id,
            now,
            lease_until,
            i64::from(self.settings.batch_size),
        )
        .await?;
        let mut outcome = Outcome {
            claimed: claimed.len(),
            ..Outcome::default()
        };
        let mut batch = Vec::with_capacity(claimed.len());
        for row in claimed {
            match row {
                Ok(d) => batch.push(d),
                Err(bad) => {
                    tracing::error!(delivery = bad.id, reason = %bad.reason, "an unreadable delivery is recorded failed");
                    outbox::mark_final(
                        &self.pool,
                        &bad.row,
                        &self.id,
                        DeliveryStatus::Failed,
                        &format!("unreadable: {}", bad.reason),
                    )
                    .await?;
                    outcome.failed += 1;
                }
            }
        }
        if let Some(oldest) = batch.iter().map(|d| d.due_at).min() {
            metrics::gauge!(crate::ops::metrics::CLAIM_LAG)
                .set((now - oldest).num_milliseconds() as f64 / 1000.0);
        }
        // Deliveries of a batch go out concurrently (the rate limiters still pace them); once the platform asks
        // us to slow down, or shutdown begins, the ones not yet started are given back.
        let halt = AtomicBool::new(false);
        let results: Vec<anyhow::Result<Outcome>> = futures::stream::iter(batch)
            .map(|delivery: Claimed| {
                let halt = &halt;
                async move {
                    let mut own = Outcome::default();
                    if halt.load(Ordering::Relaxed) || shutdown.is_some_and(|s| *s.borrow()) {
                        outbox::release(&self.pool, std::slice::from_ref(&delivery.row), &self.id)
                            .await?;
                        own.released = 1;
                        return Ok(own);
                    }
                    let span = tracing::info_span!(
                        "delivery",
                        delivery = delivery.id,
                        kind = %delivery.kind,
                        attempt = delivery.attempts + 1,
                        platform = %delivery.platform,
                    );
                    self.process(&delivery, &mut own).instrument(span).await?;
                    if own.pause.is_some() {
                        halt.store(true, Ordering::Relaxed);
                    }
                    Ok(own)
                }
            })
            .buffer_unordered(self.settings.concurrency.max(1) as usize)
            .collect()
            .await;
        for r in results {
            let o = r?;
            outcome.sent += o.sent;
            outcome.retried += o.retried;
            outcome.failed += o.failed;
            outcome.skipped += o.skipped;
            outcome.released += o.released;
            outcome.pause = outcome.pause.max(o.pause);
        }
        // Edits that take a deleted member's words out of the bot's posts ride along with the sends.
        if outcome.pause.is_none() && shutdown.is_none_or(|s| !*s.borrow()) {
            let (claimed, edited) = self.redact_batch(now, lease_until).await?;
            outcome.claimed += claimed;
            outcome.edited += edited;
        }
        Ok(outcome)
    }

    /// Claims and applies due redactions through the `ChatPort`'s `edit`, paced like sends. Returns (claimed,
    /// edited).
    async fn redact_batch(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        lease_until: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<(usize, usize)> {
        let batch = redactions::claim(
            &self.pool,
            &self.id,
            now,
            lease_until,
            i64::from(self.settings.batch_size),
        )
        .await?;
        let mut edited = 0;
        for r in &batch {
            let message = ChatMessage {
                text: r.text.clone(),
                attachments: r.attachments.clone(),
                ..ChatMessage::default()
            };
            let result = self.chat_for(r.platform).edit(&r.message, &message).await;
            let attempts = u32::try_from(r.attempts).unwrap_or(0) + 1;
            let error = result.as_ref().err().map(ToString::to_string);
            let outcome = match &result {
                Ok(()) => {
                    edited += 1;
                    Ok(self.clock.now())
                }
                Err(ChatError::RateLimited { retry_after }) => Err((
                    error.as_deref().unwrap_or_default(),
                    Some(after(self.clock.now(), *retry_after)),
                )),
                Err(e) if e.is_permanent() || attempts >= self.settings.max_attempts => {
                    tracing::warn!(error = %e, "a redaction could not be applied");
                    Err((error.as_deref().unwrap_or_default(), None))
                }
                Err(_) => Err((
                    error.as_deref().unwrap_or_default(),
                    Some(after(
                        self.clock.now(),
                        backoff(
                            self.settings.backoff_base,
                            self.settings.backoff_max,
                            attempts,
                        ),
                    )),
                )),
            };
            redactions::finish(&self.pool, r.id, &self.id, outcome).await?;
        }
        Ok((batch.len(), edited))
    }

    async fn process(&self, d: &Claimed, outcome: &mut Outcome) -> anyhow::Result<()> {
        let now = self.clock.now();
        if let Some((detail, probe_at)) = self.refused_until(d.platform, now) {
            // The platform refuses the bot: no call can succeed until the probe, and none is spent.
            outbox::mark_retry(
                &self.pool,
                &d.row,
                &self.id,
                &format!("held: {} refuses the bot ({detail})", d.platform),
                probe_at,
                false,
                false,
            )
            .await?;
            count(d.kind, DeliveryOutcome::Paused);
            outcome.retried += 1;
            return Ok(());
        }
        if d.kind.is_circle_wide() {
            return self.review_step(d, now, outcome).await;
        }
        let rendered =
            match render(&self.pool, d, self.chat_for(d.platform).capabilities(), now).await {
                Ok(r) => r,
                Err(error) => {
                    // A rendering bug must not wedge the outbox: retry later like a transient failure.
                    tracing::error!(error = ?error, "rendering failed");
                    self.retry(d, &format!("render: {error:#}"), true, outcome)
                        .await?;
                    return Ok(());
                }
            };
        let messages = match rendered {
            Rendered::Skip(reason) => return self.skip(d, &reason, outcome).await,
            Rendered::Send(messages) => messages,
        };
        // An earlier try whose outcome nobody knows may have arrived: look in the channel before sending again,
        // since the platform's own memory of a resend (Discord's nonce) lasts only minutes.
        let earlier = d.sending_since;
        outbox::mark_sending(&self.pool, &d.row, &self.id, now).await?;
        let mut last = None;
        let chat = self.chat_for(d.platform);
        for (index, (to, message)) in messages.iter().enumerate() {
            // One key per message of the delivery; at most 25 characters as Discord requires of a nonce.
            let key = if messages.len() == 1 {
                d.id.to_string()
            } else {
                format!("{}-{index}", d.id)
            };
            if let Some(since) = earlier {
                match chat.find_sent(to, message, Some(&key), since).await {
                    Ok(Some(found)) => {
                        tracing::info!(
                            part = index,
                            "an earlier try had arrived; not sending it again"
                        );
                        last = Some(found);
                        continue;
                    }
                    Ok(None) => {}
                    Err(error) => return self.failed_send(d, &error, outcome).await,
                }
            }
            match chat.send(to, message, Some(&key)).await {
                Ok(posted) => last = Some(posted),
                Err(error) => return self.failed_send(d, &error, outcome).await,
            }
        }
        let (channel, message) = last
            .map(|p| (p.channel_id, p.message_id))
            .unwrap_or_default();
        if outbox::mark_sent(
            &self.pool,
            &d.row,
            &self.id,
            self.clock.now(),
            &channel,
            &message,
        )
        .await?
        {
            count(d.kind, DeliveryOutcome::Sent);
            outcome.sent += 1;
            self.broken_cleared(d);
        } else {
            // Our lease ran out and another worker holds the row; it looks for our try before sending its own.
            tracing::warn!("sent after the claim expired; leaving the record to the new holder");
        }
        Ok(())
    }

    async fn review_step(
        &self,
        d: &Claimed,
        now: chrono::DateTime<chrono::Utc>,
        outcome: &mut Outcome,
    ) -> anyhow::Result<()> {
        match review::run(&self.pool, self.chat_for(d.platform).as_ref(), d, now).await {
            Ok(Step::Posted(posted)) => {
                if outbox::mark_sent(
                    &self.pool,
                    &d.row,
                    &self.id,
                    self.clock.now(),
                    &posted.channel_id,
                    &posted.message_id,
                )
                .await?
                {
                    count(d.kind, DeliveryOutcome::Sent);
                    outcome.sent += 1;
                }
                Ok(())
            }
            Ok(Step::Skip(reason)) => self.skip(d, &reason, outcome).await,
            Err(StepError::Chat(error)) => {
                if error.is_permanent() {
                    // Hook for issue 12: the organisers hear what stopped the review and how to fix it.
                    review::record_problem(&self.pool, d, &error, self.clock.now()).await?;
                }
                self.failed_send(d, &error, outcome).await
            }
            Err(StepError::Other(error)) => {
                tracing::error!(error = ?error, "review step failed");
                self.retry(d, &format!("{error:#}"), true, outcome).await
            }
        }
    }

    async fn failed_send(
        &self,
        d: &Claimed,
        error: &ChatError,
        outcome: &mut Outcome,
    ) -> anyhow::Result<()> {
        let now = self.clock.now();
        // Only a timeout or a broken connection leaves the outcome unknown; any answer says it did not arrive.
        let known = !matches!(error, ChatError::Transient(_));
        match (error.class(), error) {
            (
                FaultClass::RateLimited { global },
                ChatError::RateLimited { retry_after }
                | ChatError::GloballyRateLimited { retry_after },
            ) => {
                let wait = (*retry_after).min(HOLD_MAX);
                outbox::mark_retry(
                    &self.pool,
                    &d.row,
                    &self.id,
                    &error.to_string(),
                    after(now, wait),
                    false,
                    known,
                )
                .await?;
                count(d.kind, DeliveryOutcome::RateLimited);
                outcome.retried += 1;
                // A limit on one channel or DM holds only that delivery (the adapter's pacing holds its lane);
                // a bot-wide one holds everything.
                if global {
                    outcome.pause = Some(wait);
                }
            }
            (FaultClass::Broken, ChatError::Broken { detail, fix }) => {
                outbox::mark_retry(
                    &self.pool,
                    &d.row,
                    &self.id,
                    &error.to_string(),
                    after(now, self.settings.broken_probe),
                    false,
                    known,
                )
                .await?;
                count(d.kind, DeliveryOutcome::Paused);
                outcome.retried += 1;
                self.broken(d, detail, fix, after(now, self.settings.broken_probe));
            }
            (FaultClass::Permanent { circle_wide }, e) => {
                outbox::mark_final(
                    &self.pool,
                    &d.row,
                    &self.id,
                    DeliveryStatus::Failed,
                    &e.to_string(),
                )
                .await?;
                count(d.kind, DeliveryOutcome::Failed);
                outcome.failed += 1;
                tracing::warn!(error = %e, circle_wide, "delivery failed for good");
                if let (ChatError::UnknownUser, Some(member_id)) = (e, d.member_id) {
                    // The platform no longer knows them, so they leave the server's circles.
                    circles::member_gone(&self.pool, member_id, self.clock.now()).await?;
                } else if (DeliveryKind::SCHEDULED.contains(&d.kind)
                    || d.kind == DeliveryKind::OfferHindsight
                    || d.kind.landing_day().is_some())
                    && let Some(member_id) = d.member_id
                {
                    // Only a member's own prompts: a failed note to organisers must not beget another.
                    self.alert_organisers(d.circle_id, member_id).await?;
                }
            }
            (_, e) => self.retry(d, &e.to_string(), true, outcome).await?,
        }
        Ok(())
    }

    /// The platform refuses the bot itself: say so once (with the fix), and hold that platform's deliveries until
    /// `probe_at`, when one is tried again.
    fn broken(&self, d: &Claimed, detail: &str, fix: &str, probe_at: DateTime<Utc>) {
        let mut guard = self.broken.lock().unwrap_or_else(|p| p.into_inner());
        if guard.get(&d.platform).map(|(said, _)| said.as_str()) != Some(detail) {
            tracing::error!(platform = %d.platform, detail, fix, "the platform refuses the bot; deliveries wait");
        }
        guard.insert(d.platform, (detail.to_owned(), probe_at));
        self.status
            .refused(d.platform, format!("{}: {detail}; {fix}", d.platform));
    }

    fn broken_cleared(&self, d: &Claimed) {
        let mut guard = self.broken.lock().unwrap_or_else(|p| p.into_inner());
        if guard.remove(&d.platform).is_some() {
            tracing::info!(platform = %d.platform, "the platform accepts the bot again; deliveries resume");
            self.status.accepted(d.platform);
        }
    }

    /// What the platform said and when its next probe is due, while it refuses the bot and the probe is ahead.
    fn refused_until(
        &self,
        platform: Platform,
        now: DateTime<Utc>,
    ) -> Option<(String, DateTime<Utc>)> {
        let guard = self.broken.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .get(&platform)
            .filter(|(_, probe_at)| now < *probe_at)
            .cloned()
    }

    /// Why platforms refuse the bot, while any does.
    pub fn broken_reason(&self) -> Option<String> {
        self.status.refusal()
    }

    /// The delivery is no longer owed (the month is done, the review has no posts): recorded skipped, with why.
    async fn skip(&self, d: &Claimed, reason: &str, outcome: &mut Outcome) -> anyhow::Result<()> {
        outbox::mark_final(
            &self.pool,
            &d.row,
            &self.id,
            DeliveryStatus::Skipped,
            reason,
        )
        .await?;
        count(d.kind, DeliveryOutcome::Skipped);
        outcome.skipped += 1;
        Ok(())
    }

    async fn retry(
        &self,
        d: &Claimed,
        error: &str,
        counts: bool,
        outcome: &mut Outcome,
    ) -> anyhow::Result<()> {
        let attempts = u32::try_from(d.attempts).unwrap_or(0) + 1;
        if attempts >= self.settings.max_attempts {
            outbox::mark_final(
                &self.pool,
                &d.row,
                &self.id,
                DeliveryStatus::Failed,
                &format!("{GAVE_UP} {attempts} attempts: {error}"),
            )
            .await?;
            count(d.kind, DeliveryOutcome::Failed);
            outcome.failed += 1;
            return Ok(());
        }
        let wait = backoff(
            self.settings.backoff_base,
            self.settings.backoff_max,
            attempts,
        );
        outbox::mark_retry(
            &self.pool,
            &d.row,
            &self.id,
            error,
            after(self.clock.now(), wait),
            counts,
            false,
        )
        .await?;
        count(d.kind, DeliveryOutcome::Retried);
        outcome.retried += 1;
        Ok(())
    }

    async fn alert_organisers(&self, circle_id: i64, member_id: i64) -> anyhow::Result<()> {
        let now = self.clock.now();
        let Some(circle) = circles::circle_by_id(&self.pool, circle_id).await? else {
            return Ok(());
        };
        let quarter = Period::containing_quarter(local_date(now, circle.zone));
        outbox::queue_organiser_alert(&self.pool, circle_id, member_id, quarter, now).await?;
        Ok(())
    }

    /// Works until `shutdown` turns true: stops claiming, finishes the message in flight, releases the rest.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(worker = %self.id, "worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            let batch = self.run_batch(Some(&shutdown)).await;
            let paused_by_platform = matches!(&batch, Ok(o) if o.pause.is_some());
            let wait = match batch {
                Ok(o) if o.pause.is_some() => o.pause.unwrap_or(self.settings.poll_interval),
                Ok(o) if o.claimed > 0 => Duration::ZERO,
                Ok(_) => self.settings.poll_interval,
                Err(error) => {
                    tracing::error!(error = ?error, "worker batch failed; will retry");
                    self.settings.poll_interval
                }
            };
            if !wait.is_zero() {
                if paused_by_platform {
                    self.status.pause(PauseReason::RateLimited);
                }
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.changed() => {}
                }
                if paused_by_platform {
                    self.status.resume(PauseReason::RateLimited);
                }
            }
        }
        tracing::info!(worker = %self.id, "worker stopped");
    }
}

/// Exponential backoff with jitter: base * 2^(attempt-1), capped, then a random 50-100% of it so retries
/// from many deliveries do not arrive together.
pub fn backoff(base: Duration, max: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(
        1u32.checked_shl(attempt.saturating_sub(1).min(20))
            .unwrap_or(u32::MAX),
    );
    let capped = exp.min(max);
    let factor = rand::rng().random_range(0.5..=1.0);
    capped.mul_f64(factor)
}

fn count(kind: DeliveryKind, outcome: DeliveryOutcome) {
    count_delivery(kind.as_str(), outcome, 1);
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let base = Duration::from_secs(10);
        let max = Duration::from_secs(3600);
        for attempt in 1..=30 {
            let d = backoff(base, max, attempt);
            let ceiling = base.saturating_mul(1 << (attempt - 1).min(20)).min(max);
            assert!(
                d <= ceiling && d >= ceiling / 2,
                "attempt {attempt}: {d:?} vs {ceiling:?}"
            );
        }
    }
}
