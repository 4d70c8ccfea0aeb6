//! The planner's SQL: a constant number of set-based statements per tick, whatever the number of members.

use chrono::{DateTime, Utc};

use crate::domain::delivery::DeliveryKind;
use crate::domain::period::Period;
use crate::domain::recurrence::CronSchedule;
use crate::domain::zone::Zone;
use crate::store::decode;

/// One (schedule, zone) pair some member is on: the planner computes occurrences once per pair, not per member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleZone {
    pub cron_kind: DeliveryKind,
    pub cron: CronSchedule,
    pub zone: Zone,
}

/// A stored schedule or zone that no longer reads (a zone removed from tzdata, say): the planner leaves it out
/// and says so, rather than stopping every other circle's prompts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable schedule {kind:?} {cron:?} in zone {zone:?}: {reason}")]
pub struct UnreadableSchedule {
    pub kind: String,
    pub cron: String,
    pub zone: String,
    pub reason: String,
}

fn schedule_zone(
    kind: String,
    cron: String,
    zone: String,
) -> Result<ScheduleZone, UnreadableSchedule> {
    let read = || -> sqlx::Result<ScheduleZone> {
        Ok(ScheduleZone {
            cron_kind: decode("circle_recurrences.kind", &kind)?,
            cron: decode("circle_recurrences.cron", &cron)?,
            zone: decode("member_zones.zone", &zone)?,
        })
    };
    read().map_err(|e| UnreadableSchedule {
        reason: e.to_string(),
        kind: kind.clone(),
        cron: cron.clone(),
        zone: zone.clone(),
    })
}

/// The occurrences of one tick, as parallel columns for `unnest`.
///
/// Only the first occurrence of a period is kept for each schedule and zone (pushes come in time order): a
/// daily schedule on a monthly kind means "the first time this month", and if that one is stale, the period is
/// skipped rather than sent late from a later occurrence.
#[derive(Debug, Default, Clone)]
pub struct Occurrences {
    seen: std::collections::HashSet<(String, String, String, String)>,
    pub kind: Vec<String>,
    pub cron_kind: Vec<String>,
    pub default_cron: Vec<String>,
    pub cron: Vec<String>,
    pub zone: Vec<String>,
    pub period: Vec<String>,
    pub due_at: Vec<DateTime<Utc>>,
    pub stale: Vec<bool>,
}

impl Occurrences {
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        kind: DeliveryKind,
        cron_kind: DeliveryKind,
        default_cron: &CronSchedule,
        cron: &CronSchedule,
        zone: Zone,
        period: Period,
        due_at: DateTime<Utc>,
        stale: bool,
    ) {
        let period = period.key();
        let cron = cron.to_cron_text().to_owned();
        if !self.seen.insert((
            kind.as_str().to_owned(),
            cron.clone(),
            zone.name().to_owned(),
            period.clone(),
        )) {
            return;
        }
        self.kind.push(kind.as_str().to_owned());
        self.cron_kind.push(cron_kind.as_str().to_owned());
        self.default_cron
            .push(default_cron.to_cron_text().to_owned());
        self.cron.push(cron);
        self.zone.push(zone.name().to_owned());
        self.period.push(period);
        self.due_at.push(due_at);
        self.stale.push(stale);
    }

    pub fn len(&self) -> usize {
        self.kind.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kind.is_empty()
    }
}

/// The planner's lock key (an arbitrary constant: "CC" and 1), scoped to the transaction that takes it.
const TICK_LOCK: i64 = 0x4343_0001;

/// Takes the planner's lock for the transaction, without waiting: false when another tick holds it.
pub async fn try_lock_tick(db: impl sqlx::PgExecutor<'_>) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT pg_try_advisory_xact_lock($1) AS "locked!""#,
        TICK_LOCK
    )
    .fetch_one(db)
    .await
}

/// Where the planner stands: how far it has looked, and the version of the schedules in use (bumped by triggers
/// whenever a (schedule, zone) pair may have come or gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watermark {
    pub planned_until: Option<DateTime<Utc>>,
    pub schedules_version: i64,
}

pub async fn watermark(db: impl sqlx::PgExecutor<'_>) -> sqlx::Result<Watermark> {
    let row = sqlx::query!(
        r#"SELECT (SELECT planned_until FROM planner_state WHERE id = 1) AS planned_until,
                  (SELECT version FROM planner_schedules WHERE id = 1) AS "version!""#
    )
    .fetch_one(db)
    .await?;
    Ok(Watermark {
        planned_until: row.planned_until,
        schedules_version: row.version,
    })
}

pub async fn advance_planned_until(
    db: impl sqlx::PgExecutor<'_>,
    to: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO planner_state (id, planned_until) VALUES (1, $1)
         ON CONFLICT (id) DO UPDATE SET planned_until = GREATEST(planner_state.planned_until, EXCLUDED.planned_until)",
        to
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The schedule kinds and their default crons, as parallel text columns for SQL.
fn defaults(schedules: &[(DeliveryKind, CronSchedule)]) -> (Vec<String>, Vec<String>) {
    schedules
        .iter()
        .map(|(k, c)| (k.as_str().to_owned(), c.to_cron_text().to_owned()))
        .unzip()
}

/// Every distinct (schedule, zone) pair in use, for the given schedule kinds and their defaults.
pub async fn schedule_zones(
    db: impl sqlx::PgExecutor<'_>,
    schedules: &[(DeliveryKind, CronSchedule)],
) -> sqlx::Result<Vec<Result<ScheduleZone, UnreadableSchedule>>> {
    let (cron_kinds, default_crons) = defaults(schedules);
    let rows = sqlx::query!(
        r#"WITH circle_zones AS (
               SELECT DISTINCT ms.circle_id, mz.zone
               FROM memberships ms
               JOIN member_zones mz ON mz.member_id = ms.member_id
           )
           SELECT DISTINCT k.kind AS "cron_kind!", COALESCE(r.cron, k.default_cron) AS "cron!", cz.zone AS "zone!"
           FROM circle_zones cz
           CROSS JOIN unnest($1::text[], $2::text[]) AS k(kind, default_cron)
           LEFT JOIN circle_recurrences r ON r.circle_id = cz.circle_id AND r.kind = k.kind"#,
        &cron_kinds,
        &default_crons,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| schedule_zone(r.cron_kind, r.cron, r.zone))
        .collect())
}

/// The kinds keyed per member rather than per circle, as text for SQL.
fn personal_kinds() -> Vec<String> {
    DeliveryKind::ALL
        .into_iter()
        .filter(|k| k.is_personal())
        .map(|k| k.as_str().to_owned())
        .collect()
}

/// Turns occurrences into deliveries for every eligible member in one statement. Existing natural keys are
/// left alone, so a second planner, a re-run or a clock change cannot make a second delivery.
///
/// Personal prompts (`DeliveryKind::is_personal`) are one per member and period however many circles the member
/// is in: the earliest occurrence among their circles' schedules wins, a running circle before a paused one, and
/// the row is keyed by (kind, member, period) alone. A paused circle skips a personal prompt only when none of the
/// member's circles is running. Returns the number of new rows.
pub async fn insert_deliveries(
    db: impl sqlx::PgExecutor<'_>,
    occ: &Occurrences,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    if occ.is_empty() {
        return Ok(0);
    }
    let done = sqlx::query!(
        r#"INSERT INTO deliveries (kind, circle_id, member_id, period, due_at, status, skip_reason, next_attempt_at,
                                  created_at, per_member)
           SELECT DISTINCT ON (c.kind, c.member_id, c.period, c.key_circle)
                  c.kind, c.circle_id, c.member_id, c.period, c.due_at, c.status, c.skip_reason, c.due_at, $9,
                  c.personal
           FROM (
               SELECT o.kind, e.circle_id, e.member_id, o.period, o.due_at, e.joined_at,
                      o.kind = ANY($10) AS personal,
                      CASE WHEN o.kind = ANY($10) THEN NULL ELSE e.circle_id END AS key_circle,
                      CASE WHEN o.stale THEN 'skipped'
                           WHEN e.bot_removed THEN 'skipped'
                           WHEN e.paused AND (e.paused_until IS NULL OR e.paused_until > o.due_at) THEN 'skipped'
                           WHEN e.vacation_until > o.due_at THEN 'skipped'
                           ELSE 'pending' END AS status,
                      CASE WHEN o.stale THEN 'missed while the bot was down, older than the grace window'
                           WHEN e.bot_removed THEN 'the bot was removed from the server'
                           WHEN e.paused AND (e.paused_until IS NULL OR e.paused_until > o.due_at) THEN 'circle paused'
                           WHEN e.vacation_until > o.due_at THEN 'member on vacation' END AS skip_reason
               FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                           $7::timestamptz[], $8::bool[])
                    AS o(kind, cron_kind, default_cron, cron, zone, period, due_at, stale)
               -- Members meet occurrences through one hash join on their effective zone; joining circles to the
               -- occurrences first would multiply every membership by every zone in use.
               -- Per membership, also whether any of the member's circles runs (not paused, the bot in its
               -- server) or when the first paused one resumes: a window over the member, computed once.
               JOIN (SELECT ms.circle_id, ms.member_id, ms.joined_at, mz.zone,
                            c.paused, c.paused_until, m.vacation_until, s.bot_removed_at IS NOT NULL AS bot_removed,
                            bool_or(NOT c.paused AND s.bot_removed_at IS NULL) OVER mine AS any_running,
                            min(c.paused_until) FILTER (WHERE c.paused AND s.bot_removed_at IS NULL) OVER mine
                                AS first_resume
                     FROM memberships ms
                     JOIN members m ON m.id = ms.member_id
                     JOIN member_zones mz ON mz.member_id = ms.member_id
                     JOIN circles c ON c.id = ms.circle_id
                     JOIN servers s ON s.id = c.server_id
                     WINDOW mine AS (PARTITION BY ms.member_id)) AS e
                    ON e.zone = o.zone AND e.joined_at <= o.due_at
               LEFT JOIN circle_recurrences r ON r.circle_id = e.circle_id AND r.kind = o.cron_kind
               WHERE COALESCE(r.cron, o.default_cron) = o.cron
                 AND CASE o.kind
                       WHEN 'monthly_nudge' THEN EXISTS (
                           SELECT 1 FROM commitments cm
                           WHERE cm.member_id = e.member_id AND cm.cadence = 'monthly' AND cm.created_at <= o.due_at
                             AND (cm.dropped_at IS NULL OR cm.dropped_at > o.due_at))
                       WHEN 'nudge_reminder' THEN EXISTS (
                           SELECT 1 FROM commitments cm
                           WHERE cm.member_id = e.member_id AND cm.cadence = 'monthly' AND cm.created_at <= o.due_at
                             AND (cm.dropped_at IS NULL OR cm.dropped_at > o.due_at)
                             AND NOT EXISTS (SELECT 1 FROM commitment_periods cp
                                             WHERE cp.commitment_id = cm.id AND cp.period = o.period))
                       WHEN 'checkin_reminder' THEN NOT EXISTS (
                           SELECT 1 FROM checkins ck
                           WHERE ck.member_id = e.member_id AND ck.circle_id = e.circle_id AND ck.period = o.period)
                       ELSE true
                     END
                 -- A personal prompt planned when they were per circle (before per_member) still counts.
                 AND NOT (o.kind = ANY($10) AND EXISTS (
                       SELECT 1 FROM deliveries d
                       WHERE d.member_id = e.member_id AND d.kind = o.kind AND d.period = o.period))
                 -- A stopped circle does not skip a personal prompt that another of the member's circles sends.
                 AND NOT (o.kind = ANY($10)
                          AND (e.bot_removed OR (e.paused AND (e.paused_until IS NULL OR e.paused_until > o.due_at)))
                          AND (e.any_running OR COALESCE(e.first_resume <= o.due_at, false)))
           ) c
           ORDER BY c.kind, c.member_id, c.period, c.key_circle, (c.status = 'pending') DESC, c.due_at, c.joined_at,
                    c.circle_id
           ON CONFLICT DO NOTHING"#,
        &occ.kind,
        &occ.cron_kind,
        &occ.default_cron,
        &occ.cron,
        &occ.zone,
        &occ.period,
        &occ.due_at,
        &occ.stale,
        now,
        &personal_kinds(),
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// The distinct (schedule, circle zone) pairs, for circle-wide kinds timed in the circle's own zone.
pub async fn circle_schedule_zones(
    db: impl sqlx::PgExecutor<'_>,
    schedules: &[(DeliveryKind, CronSchedule)],
) -> sqlx::Result<Vec<Result<ScheduleZone, UnreadableSchedule>>> {
    let (cron_kinds, default_crons) = defaults(schedules);
    let rows = sqlx::query!(
        r#"SELECT DISTINCT k.kind AS "cron_kind!", COALESCE(r.cron, k.default_cron) AS "cron!", c.zone AS "zone!"
           FROM circles c
           CROSS JOIN unnest($1::text[], $2::text[]) AS k(kind, default_cron)
           LEFT JOIN circle_recurrences r ON r.circle_id = c.id AND r.kind = k.kind
           WHERE EXISTS (SELECT 1 FROM memberships ms WHERE ms.circle_id = c.id)"#,
        &cron_kinds,
        &default_crons,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| schedule_zone(r.cron_kind, r.cron, r.zone))
        .collect())
}

/// Circle-wide deliveries (no member) for every circle on the occurrence's schedule and zone.
pub async fn insert_circle_deliveries(
    db: impl sqlx::PgExecutor<'_>,
    occ: &Occurrences,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    if occ.is_empty() {
        return Ok(0);
    }
    let done = sqlx::query!(
        r#"INSERT INTO deliveries (kind, circle_id, member_id, period, due_at, status, skip_reason, next_attempt_at, created_at)
           SELECT o.kind, c.id, NULL, o.period, o.due_at,
                  CASE WHEN o.stale THEN 'skipped'
                       WHEN s.bot_removed_at IS NOT NULL THEN 'skipped'
                       WHEN c.paused AND (c.paused_until IS NULL OR c.paused_until > o.due_at) THEN 'skipped'
                       ELSE 'pending' END,
                  CASE WHEN o.stale THEN 'missed while the bot was down, older than the grace window'
                       WHEN s.bot_removed_at IS NOT NULL THEN 'the bot was removed from the server'
                       WHEN c.paused AND (c.paused_until IS NULL OR c.paused_until > o.due_at) THEN 'circle paused' END,
                  o.due_at, $9
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                       $7::timestamptz[], $8::bool[])
                AS o(kind, cron_kind, default_cron, cron, zone, period, due_at, stale)
           JOIN circles c ON c.zone = o.zone AND c.created_at <= o.due_at
           JOIN servers s ON s.id = c.server_id
           LEFT JOIN circle_recurrences r ON r.circle_id = c.id AND r.kind = o.cron_kind
           WHERE COALESCE(r.cron, o.default_cron) = o.cron
             AND EXISTS (SELECT 1 FROM memberships ms WHERE ms.circle_id = c.id)
           ON CONFLICT ON CONSTRAINT deliveries_natural_key DO NOTHING"#,
        &occ.kind,
        &occ.cron_kind,
        &occ.default_cron,
        &occ.cron,
        &occ.zone,
        &occ.period,
        &occ.due_at,
        &occ.stale,
        now,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Schedules a circle's follow-up (a review's midway nudge and close) at an instant computed by the caller.
pub async fn schedule_circle_delivery(
    db: impl sqlx::PgExecutor<'_>,
    kind: DeliveryKind,
    circle_id: i64,
    period: Period,
    due_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "INSERT INTO deliveries (kind, circle_id, member_id, period, due_at, next_attempt_at, created_at)
         VALUES ($1, $2, NULL, $3, $4, $4, $5)
         ON CONFLICT ON CONSTRAINT deliveries_natural_key DO NOTHING",
        kind.as_str(),
        circle_id,
        period.key(),
        due_at,
        now,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A tick's one-off personal questions (offer hindsight, landing plans), as parallel columns for `unnest`: one
/// per kind, member and local month, the first pushed winning (push in time order to keep the month's earliest).
#[derive(Debug, Default, Clone)]
pub struct OneOffs {
    seen: std::collections::HashSet<(DeliveryKind, i64, String)>,
    pub kind: Vec<String>,
    pub member_id: Vec<i64>,
    pub period: Vec<String>,
    pub due_at: Vec<DateTime<Utc>>,
    pub stale: Vec<bool>,
}

impl OneOffs {
    pub fn push(
        &mut self,
        kind: DeliveryKind,
        member_id: i64,
        period: Period,
        due_at: DateTime<Utc>,
        stale: bool,
    ) {
        let period = period.key();
        if !self.seen.insert((kind, member_id, period.clone())) {
            return;
        }
        self.kind.push(kind.as_str().to_owned());
        self.member_id.push(member_id);
        self.period.push(period);
        self.due_at.push(due_at);
        self.stale.push(stale);
    }

    pub fn len(&self) -> usize {
        self.member_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.member_id.is_empty()
    }
}

/// One-off personal deliveries, each in the member's first circle (the one whose zone rule they follow), skipped
/// like every personal prompt when stale, the circle paused or the member on vacation.
pub async fn insert_one_offs(
    db: impl sqlx::PgExecutor<'_>,
    l: &OneOffs,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    if l.is_empty() {
        return Ok(0);
    }
    let done = sqlx::query!(
        r#"INSERT INTO deliveries (kind, circle_id, member_id, period, due_at, status, skip_reason, next_attempt_at, created_at)
           SELECT o.kind, e.circle_id, o.member_id, o.period, o.due_at,
                  CASE WHEN o.stale THEN 'skipped'
                       WHEN e.paused AND (e.paused_until IS NULL OR e.paused_until > o.due_at) THEN 'skipped'
                       WHEN e.vacation_until > o.due_at THEN 'skipped'
                       ELSE 'pending' END,
                  CASE WHEN o.stale THEN 'missed while the bot was down, older than the grace window'
                       WHEN e.paused AND (e.paused_until IS NULL OR e.paused_until > o.due_at) THEN 'circle paused'
                       WHEN e.vacation_until > o.due_at THEN 'member on vacation' END,
                  o.due_at, $6
           FROM unnest($1::text[], $2::bigint[], $3::text[], $4::timestamptz[], $5::bool[])
                AS o(kind, member_id, period, due_at, stale)
           JOIN LATERAL (SELECT ms.circle_id, c.paused, c.paused_until, m.vacation_until
                         FROM memberships ms
                         JOIN circles c ON c.id = ms.circle_id
                         JOIN members m ON m.id = ms.member_id
                         WHERE ms.member_id = o.member_id
                         ORDER BY ms.joined_at, ms.circle_id LIMIT 1) AS e ON true
           ON CONFLICT ON CONSTRAINT deliveries_natural_key DO NOTHING"#,
        &l.kind,
        &l.member_id,
        &l.period,
        &l.due_at,
        &l.stale,
        now,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
