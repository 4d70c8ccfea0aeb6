//! The planner: turns every occurrence that has come due into `deliveries` rows.
//!
//! One tick runs at a time across instances (a transaction-scoped advisory lock; the loser returns at once).
//! Per tick it runs a constant number of statements: one to list the (schedule, zone) pairs in use, one
//! `INSERT ... SELECT` that fans the occurrences out to every eligible member, and two for its watermark. The
//! occurrences themselves are computed here, once per pair, with the time rules of `domain::recurrence`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Datelike as _, Utc};
use sqlx::PgPool;

use crate::clock::to_chrono;
use crate::domain::delivery::{DeliveryKind, PeriodUnit};
use crate::domain::opportunity::hindsight_dates;
use crate::domain::period::Period;
use crate::domain::recurrence::{CronSchedule, resolve_local, shift_local};
use crate::domain::zone::Zone;
use crate::settings::ScheduleSettings;
use crate::store::planner::{self as sql, Occurrences};

/// The local time a taken offer's 6- and 12-month question arrives on its day, in the member's zone.
pub const HINDSIGHT_AT: (u32, u32) = (9, 0);

/// How long dropping an old partition may wait for the outbox's lock before giving up until the next time.
const DROP_LOCK_TIMEOUT: Duration = Duration::from_secs(1);
/// The local time a landing plan's day-30, 60 and 90 questions arrive, in the member's zone.
pub const LANDING_AT: (u32, u32) = (9, 0);

/// How far back a restart looks beyond the grace window, to record what it missed as skipped. Older gaps are
/// not recorded at all (a bot down for a year does not need a year of "skipped" rows).
const SKIP_RECORD_HORIZON: chrono::Duration = chrono::Duration::days(62);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TickReport {
    /// Another instance held the planner lock: this tick planned nothing.
    pub busy: bool,
    /// The (schedule, zone) pairs were listed afresh (the schedules changed since the last tick here).
    pub listed_pairs: bool,
    pub occurrences: usize,
    pub inserted: u64,
    pub statements: u32,
}

#[derive(Debug, Clone)]
pub struct Planner {
    pool: PgPool,
    schedule: ScheduleSettings,
    /// The pairs in use as last listed, with the schedules' version they were listed at.
    pairs: Arc<Mutex<Option<Pairs>>>,
}

#[derive(Debug, Clone)]
struct Pairs {
    version: i64,
    members: Vec<sql::ScheduleZone>,
    circles: Vec<sql::ScheduleZone>,
}

impl Planner {
    pub fn new(pool: PgPool, schedule: ScheduleSettings) -> Self {
        Self {
            pool,
            schedule,
            pairs: Arc::new(Mutex::new(None)),
        }
    }

    /// The (schedule, zone) pairs in use for members' and circles' kinds: kept from the last listing while the
    /// schedules' version stands, so a tick with nothing changed scans no memberships.
    async fn pairs(
        &self,
        tx: &mut sqlx::PgConnection,
        version: i64,
        schedules: &[(DeliveryKind, CronSchedule)],
        report: &mut TickReport,
    ) -> anyhow::Result<Pairs> {
        let cached = self.pairs.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(p) = cached.filter(|p| p.version == version) {
            return Ok(p);
        }
        let members = readable(
            sql::schedule_zones(&mut *tx, schedules)
                .await
                .context("listing schedules")?,
        );
        let circles = readable(
            sql::circle_schedule_zones(
                &mut *tx,
                &[(
                    DeliveryKind::CheckinPrompt,
                    self.schedule.checkin_prompt.clone(),
                )],
            )
            .await
            .context("listing circle schedules")?,
        );
        report.statements += 2;
        report.listed_pairs = true;
        let fresh = Pairs {
            version,
            members,
            circles,
        };
        *self.pairs.lock().unwrap_or_else(|p| p.into_inner()) = Some(fresh.clone());
        Ok(fresh)
    }

    /// The kinds with a schedule of their own, and their defaults.
    fn schedules(&self) -> Vec<(DeliveryKind, CronSchedule)> {
        DeliveryKind::SCHEDULED
            .into_iter()
            .filter_map(|k| self.schedule.default_cron(k).map(|c| (k, c.clone())))
            .collect()
    }

    /// Plans everything due up to `now` that earlier ticks have not covered.
    ///
    /// One tick at a time across every instance on the database: the tick is one transaction that first takes a
    /// transaction-scoped advisory lock, and an instance that cannot take it returns at once with nothing done (the
    /// holder is planning the same instants). The natural keys would keep a second tick harmless anyway; the lock
    /// spares the database the duplicate work, and the lock waits and deadlocks of two large `INSERT ... ON
    /// CONFLICT` statements racing over the same keys.
    pub async fn tick(&self, now: DateTime<Utc>) -> anyhow::Result<TickReport> {
        let mut tx = self.pool.begin().await.context("starting the tick")?;
        if !sql::try_lock_tick(&mut *tx)
            .await
            .context("taking the planner lock")?
        {
            tracing::debug!("another instance is planning; this tick has nothing to do");
            return Ok(TickReport {
                busy: true,
                ..TickReport::default()
            });
        }
        let report = self.plan(&mut tx, now).await?;
        tx.commit().await.context("committing the tick")?;
        if report.inserted > 0 {
            tracing::info!(
                inserted = report.inserted,
                occurrences = report.occurrences,
                "planned deliveries"
            );
        }
        Ok(report)
    }

    /// Keeps the outbox's partitions: this, last and next year's made ahead (so the planner's inserts never wait
    /// on DDL), and years older than the retention dropped. Its own short transactions under the planner's lock,
    /// so one instance does it and the tick's big insert never runs under a DDL lock. Returns the partitions
    /// dropped; a drop that could not get the outbox's lock within a second is left for the next time.
    pub async fn maintain(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<String>> {
        let year = now.year();
        let mut tx = self.pool.begin().await?;
        if !sql::try_lock_tick(&mut *tx).await? {
            return Ok(Vec::new());
        }
        for y in year - 1..=year + 1 {
            if !crate::store::partitions::ensure_year(&mut *tx, y).await? {
                tracing::warn!(
                    year = y,
                    "the outbox's default partition holds rows of this year; it gets no partition of its own"
                );
            }
        }
        tx.commit().await?;

        // A year goes when its last day is older than the retention.
        let cutoff = (now - to_chrono(self.schedule.retention)).year();
        let mut tx = self.pool.begin().await?;
        if !sql::try_lock_tick(&mut *tx).await? {
            return Ok(Vec::new());
        }
        match crate::store::partitions::drop_before(&mut tx, cutoff, DROP_LOCK_TIMEOUT).await {
            Ok(dropped) => {
                tx.commit().await?;
                if !dropped.is_empty() {
                    tracing::info!(
                        ?dropped,
                        "dropped delivery history older than the retention"
                    );
                }
                Ok(dropped)
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not drop old delivery history now; trying again later");
                Ok(Vec::new())
            }
        }
    }

    async fn plan(
        &self,
        tx: &mut sqlx::PgConnection,
        now: DateTime<Utc>,
    ) -> anyhow::Result<TickReport> {
        let mut report = TickReport {
            statements: 1,
            ..TickReport::default()
        };
        let grace = to_chrono(self.schedule.grace);
        let earliest = now - grace - SKIP_RECORD_HORIZON;
        let watermark = sql::watermark(&mut *tx)
            .await
            .context("reading the planner watermark")?;
        let from = match watermark.planned_until {
            Some(until) => until.max(earliest),
            // A first start looks back only over the grace window: nothing before it was ever owed here.
            None => now - grace,
        };
        report.statements += 1;
        if from >= now {
            return Ok(report);
        }

        let schedules = self.schedules();
        let listed = self
            .pairs(tx, watermark.schedules_version, &schedules, &mut report)
            .await?;
        let pairs = &listed.members;

        let default_of: HashMap<DeliveryKind, &CronSchedule> =
            schedules.iter().map(|(k, c)| (*k, c)).collect();
        let mut occ = Occurrences::default();
        let stale_before = now - grace;
        for pair in pairs {
            let cron_kind = pair.cron_kind;
            let Some(default_cron) = default_of.get(&cron_kind) else {
                continue;
            };
            let (schedule, zone) = (&pair.cron, pair.zone);
            for kind in DeliveryKind::SCHEDULED {
                let owns = kind == cron_kind && kind.follows().is_none();
                let follows = kind.follows() == Some(cron_kind);
                if !owns && !follows {
                    continue;
                }
                let offset = if follows {
                    self.offset_of(kind)
                } else {
                    Duration::ZERO
                };
                let offset_c = to_chrono(offset);
                for o in schedule.occurrences(zone, from - offset_c, now - offset_c) {
                    let at = if follows {
                        shift(o.local, o.at, offset, zone)
                    } else {
                        o.at
                    };
                    if at <= from || at > now {
                        continue;
                    }
                    let period = period_of(kind.period_unit(), o.local.date());
                    occ.push(
                        kind,
                        cron_kind,
                        default_cron,
                        schedule,
                        zone,
                        period,
                        at,
                        at <= stale_before,
                    );
                }
            }
        }
        report.occurrences = occ.len();
        report.inserted = sql::insert_deliveries(&mut *tx, &occ, now)
            .await
            .context("inserting deliveries")?;
        report.statements += u32::from(!occ.is_empty());

        // One-off questions at 09:00 the member's time: offer hindsight 6 and 12 months after a taken offer, and
        // landing plans on day 30, 60 and 90 of a new role. Listed apart, inserted in one statement.
        let mut one_offs = sql::OneOffs::default();
        self.hindsight_occurrences(&mut *tx, from, now, stale_before, &mut one_offs)
            .await
            .context("listing taken offers")?;
        self.landing_occurrences(&mut *tx, from, now, stale_before, &mut one_offs)
            .await
            .context("listing landing plans")?;
        report.statements += 2;
        report.occurrences += one_offs.len();
        report.inserted += sql::insert_one_offs(&mut *tx, &one_offs, now)
            .await
            .context("inserting one-off questions")?;
        report.statements += u32::from(!one_offs.is_empty());

        // Circle-wide: the review thread opens when the check-in window closes, in the circle's zone.
        let prompt = DeliveryKind::CheckinPrompt;
        let prompt_default = self.schedule.checkin_prompt.clone();
        let pairs = &listed.circles;
        let mut circle_occ = Occurrences::default();
        let offset = self.schedule.checkin_window;
        let offset_c = to_chrono(offset);
        for pair in pairs {
            let zone = pair.zone;
            for o in pair.cron.occurrences(zone, from - offset_c, now - offset_c) {
                let at = shift(o.local, o.at, offset, zone);
                if at <= from || at > now {
                    continue;
                }
                let kind = DeliveryKind::ReviewOpen;
                let period = period_of(kind.period_unit(), o.local.date());
                circle_occ.push(
                    kind,
                    prompt,
                    &prompt_default,
                    &pair.cron,
                    zone,
                    period,
                    at,
                    at <= stale_before,
                );
            }
        }
        report.occurrences += circle_occ.len();
        report.inserted += sql::insert_circle_deliveries(&mut *tx, &circle_occ, now)
            .await
            .context("inserting circle deliveries")?;
        report.statements += u32::from(!circle_occ.is_empty());
        sql::advance_planned_until(&mut *tx, now)
            .await
            .context("advancing the planner watermark")?;
        report.statements += 1;
        Ok(report)
    }

    /// The hindsight questions due in (from, now]: one per member and local month (the earliest of the month).
    async fn hindsight_occurrences(
        &self,
        db: &mut sqlx::PgConnection,
        from: DateTime<Utc>,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
        out: &mut sql::OneOffs,
    ) -> anyhow::Result<()> {
        // Only offers whose 6- or 12-month mark can fall in this tick: two narrow ranges of decision dates, a day
        // wider each side for every zone's calendar, and three more days at the end for month ends ("31 August" + 6
        // months is the 28th or 29th of February, which 6 months back is only the 28th or 29th of August). The exact
        // test is below.
        let day = chrono::Duration::days(1);
        let range = |months: u32| {
            let back = |t: DateTime<Utc>| {
                t.date_naive()
                    .checked_sub_months(chrono::Months::new(months))
                    .unwrap_or(chrono::NaiveDate::MIN)
            };
            (back(from - day), back(now + day) + chrono::Days::new(3))
        };
        let (six, twelve) = (range(6), range(12));
        let mut due = Vec::new();
        for t in crate::store::opportunities::taken_in(db, six, twelve).await? {
            let Ok(zone) = t.zone.parse::<Zone>() else {
                tracing::warn!(zone = %t.zone, "skipping a taken offer whose member's zone no longer reads");
                continue;
            };
            for (_, date) in hindsight_dates(t.decided_on) {
                let local = date
                    .and_hms_opt(HINDSIGHT_AT.0, HINDSIGHT_AT.1, 0)
                    .unwrap_or_default();
                let at = resolve_local(local, zone);
                if at > from && at <= now {
                    due.push((at, t.member_id, Period::containing_month(date)));
                }
            }
        }
        due.sort();
        for (at, member_id, period) in due {
            out.push(
                DeliveryKind::OfferHindsight,
                member_id,
                period,
                at,
                at <= stale_before,
            );
        }
        Ok(())
    }

    /// Every landing question of plans that can fall near (lo, hi]: (instant, member, kind, local date).
    async fn landing_dates(
        &self,
        db: &mut sqlx::PgConnection,
        lo: DateTime<Utc>,
        hi: DateTime<Utc>,
    ) -> anyhow::Result<Vec<(DateTime<Utc>, i64, DeliveryKind, chrono::NaiveDate)>> {
        // A day wider each side for every zone's calendar.
        let day = chrono::Duration::days(1);
        let first = (lo - day).date_naive() - chrono::Days::new(90);
        let last = (hi + day).date_naive() - chrono::Days::new(30);
        let mut out = Vec::new();
        for p in crate::store::events::plans_started_in(db, first, last).await? {
            let Ok(zone) = p.zone.parse::<Zone>() else {
                tracing::warn!(zone = %p.zone, "skipping a landing plan whose member's zone no longer reads");
                continue;
            };
            for (n, kind) in DeliveryKind::LANDING {
                let date = crate::domain::narrative::landing_date(p.started_on, n);
                let local = date
                    .and_hms_opt(LANDING_AT.0, LANDING_AT.1, 0)
                    .unwrap_or_default();
                out.push((resolve_local(local, zone), p.member_id, kind, date));
            }
        }
        Ok(out)
    }

    /// The landing questions due in (from, now].
    async fn landing_occurrences(
        &self,
        db: &mut sqlx::PgConnection,
        from: DateTime<Utc>,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
        out: &mut sql::OneOffs,
    ) -> anyhow::Result<()> {
        let mut due: Vec<_> = self
            .landing_dates(db, from, now)
            .await?
            .into_iter()
            .filter(|(at, ..)| *at > from && *at <= now)
            .collect();
        due.sort();
        for (at, member_id, kind, date) in due {
            out.push(
                kind,
                member_id,
                Period::containing_month(date),
                at,
                at <= stale_before,
            );
        }
        Ok(())
    }

    /// The next hindsight question after `after`, for the demo's clock.
    async fn next_hindsight(&self, after: DateTime<Utc>) -> anyhow::Result<Option<DateTime<Utc>>> {
        let lo = (after - chrono::Duration::days(1))
            .date_naive()
            .checked_sub_months(chrono::Months::new(12))
            .unwrap_or(chrono::NaiveDate::MIN);
        let mut best = None;
        let open = (lo, chrono::NaiveDate::MAX);
        for t in crate::store::opportunities::taken_in(&self.pool, open, open).await? {
            let Ok(zone) = t.zone.parse::<Zone>() else {
                continue;
            };
            for (_, date) in hindsight_dates(t.decided_on) {
                let local = date
                    .and_hms_opt(HINDSIGHT_AT.0, HINDSIGHT_AT.1, 0)
                    .unwrap_or_default();
                let at = resolve_local(local, zone);
                if at > after {
                    best = Some(best.map_or(at, |b: DateTime<Utc>| b.min(at)));
                }
            }
        }
        Ok(best)
    }

    fn offset_of(&self, kind: DeliveryKind) -> Duration {
        match kind {
            DeliveryKind::CheckinReminder => self.schedule.checkin_reminder_after,
            DeliveryKind::ReviewOpen => self.schedule.checkin_window,
            _ => Duration::ZERO,
        }
    }
}

/// Whole days move along the local calendar (so 09:00 stays 09:00 across a DST change); anything else is exact.
fn shift(
    local: chrono::NaiveDateTime,
    at: DateTime<Utc>,
    offset: Duration,
    zone: Zone,
) -> DateTime<Utc> {
    let secs = offset.as_secs();
    if secs.is_multiple_of(86_400) {
        shift_local(local, i64::try_from(secs / 86_400).unwrap_or(0), zone)
    } else {
        at + to_chrono(offset)
    }
}

pub fn period_of(unit: PeriodUnit, local_date: chrono::NaiveDate) -> Period {
    match unit {
        PeriodUnit::Month => Period::containing_month(local_date),
        PeriodUnit::Quarter => Period::containing_quarter(local_date),
        PeriodUnit::Year => Period::containing_year(local_date),
    }
}

/// Schedules that read; the others are logged and left out, so one bad row cannot stop every circle's prompts.
fn readable(
    rows: Vec<Result<sql::ScheduleZone, sql::UnreadableSchedule>>,
) -> Vec<sql::ScheduleZone> {
    rows.into_iter()
        .filter_map(|r| {
            r.map_err(|e| tracing::warn!(error = %e, "skipping a schedule that no longer reads"))
                .ok()
        })
        .collect()
}

impl Planner {
    /// The earliest instant after `after` at which anything is scheduled for any member, so a virtual clock
    /// (the demo) can jump from one due moment to the next instead of ticking through empty hours.
    pub async fn next_due(&self, after: DateTime<Utc>) -> anyhow::Result<Option<DateTime<Utc>>> {
        // Independent reads, asked at once: `simulate` calls this at every instant it visits.
        let schedules = self.schedules();
        let prompt = DeliveryKind::CheckinPrompt;
        let prompt_schedule = [(prompt, self.schedule.checkin_prompt.clone())];
        let (pairs, circle_pairs, pending, hindsight, landing) = tokio::try_join!(
            async { Ok::<_, anyhow::Error>(sql::schedule_zones(&self.pool, &schedules).await?) },
            async { Ok(sql::circle_schedule_zones(&self.pool, &prompt_schedule).await?) },
            // Follow-ups already in the outbox (a review's midway nudge and close) count too.
            async { Ok(crate::store::deliveries::next_pending_after(&self.pool, after).await?) },
            self.next_hindsight(after),
            async {
                let mut conn = self.pool.acquire().await?;
                self.landing_dates(&mut conn, after, after + chrono::Duration::days(91))
                    .await
            },
        )?;
        let mut best: Option<DateTime<Utc>> = pending;
        if let Some(h) = hindsight {
            best = Some(best.map_or(h, |b| b.min(h)));
        }
        if let Some(l) = landing
            .into_iter()
            .map(|(at, ..)| at)
            .filter(|at| *at > after)
            .min()
        {
            best = Some(best.map_or(l, |b| b.min(l)));
        }
        let mut earliest =
            |at: DateTime<Utc>| best = Some(best.map_or(at, |b: DateTime<Utc>| b.min(at)));
        for pair in readable(pairs) {
            let (schedule, zone, kind) = (&pair.cron, pair.zone, pair.cron_kind);
            if let Some(o) = schedule.next_after(zone, after) {
                earliest(o.at);
            }
            // Members' follow-ups are timed in their own zones.
            for follower in DeliveryKind::SCHEDULED
                .into_iter()
                .filter(|k| k.follows() == Some(kind))
            {
                if let Some(at) = self.next_follower(schedule, zone, follower, after) {
                    earliest(at);
                }
            }
        }
        // The review opening follows the check-in prompt in the circle's own zone.
        for pair in readable(circle_pairs) {
            if let Some(at) =
                self.next_follower(&pair.cron, pair.zone, DeliveryKind::ReviewOpen, after)
            {
                earliest(at);
            }
        }
        Ok(best)
    }

    /// The first instant after `after` at which `follower` falls, following `schedule` in `zone`.
    fn next_follower(
        &self,
        schedule: &CronSchedule,
        zone: Zone,
        follower: DeliveryKind,
        after: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let offset = self.offset_of(follower);
        let mut o =
            schedule.next_after(zone, after - to_chrono(offset) - chrono::Duration::days(2));
        // Walk base occurrences until the shifted one lands after `after`.
        for _ in 0..8 {
            let base = o?;
            let at = shift(base.local, base.at, offset, zone);
            if at > after {
                return Some(at);
            }
            o = schedule.next_after(zone, base.at);
        }
        None
    }
}
