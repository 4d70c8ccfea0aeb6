//! The facts a review thread's messages are worded from.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::bet::balance_in;
use crate::domain::commitment::{PeriodState, combine, tally};
use crate::domain::narrative::landing_phase;
use crate::domain::period::{Cadence, Period, local_date};
use crate::domain::recurrence::shift_local;
use crate::domain::spec::Visibility;
use crate::domain::zone::Zone;
use crate::schedule::heatmap::{Cell, HeatmapRow};
use crate::schedule::review::words::{MemberPost, Person, Tally};
use crate::schedule::scorecard;
use crate::store::circles::CircleMember;
use crate::store::commitments::{self, Commitment, marks_of};
use crate::store::{checkins, events, portfolio, specs, wins};

/// A member's commitments with a record in a span starting at `from`: the open ones, and big swings killed since
/// (a killed swing counts as kept, so its record belongs in the review it was killed in).
async fn live_commitments(
    pool: &PgPool,
    member_id: i64,
    from: DateTime<Utc>,
) -> anyhow::Result<Vec<Commitment>> {
    Ok(commitments::all_of_member(pool, member_id)
        .await?
        .into_iter()
        .filter(|c| match c.dropped_at {
            None => true,
            Some(at) => c.postmortem.is_some() && at >= from,
        })
        .collect())
}

pub fn person(m: &CircleMember) -> Person {
    Person {
        member_id: m.member_id,
        user_id: m.platform_user_id.clone(),
        name: m.display_name.clone(),
    }
}

pub fn name_of(members: &[CircleMember], id: i64) -> String {
    members
        .iter()
        .find(|m| m.member_id == id)
        .map(|m| m.display_name.clone())
        .unwrap_or_else(|| "a former member".to_owned())
}

pub fn person_of(members: &[CircleMember], id: i64) -> Option<Person> {
    members.iter().find(|m| m.member_id == id).map(person)
}

/// The months of a quarter.
pub fn months(quarter: Period) -> Vec<Period> {
    let mut month = Period::containing_month(quarter.start_date());
    let end = Period::containing_month(quarter.next().start_date());
    let mut out = Vec::new();
    while month < end {
        out.push(month);
        month = month.next();
    }
    out
}

/// The instants where a period starts and ends on a zone's wall clock.
pub fn bounds(period: Period, zone: Zone) -> (DateTime<Utc>, DateTime<Utc>) {
    let midnight = |p: Period| {
        shift_local(
            p.start_date().and_hms_opt(0, 0, 0).unwrap_or_default(),
            0,
            zone,
        )
    };
    (midnight(period), midnight(period.next()))
}

pub async fn member_post(
    pool: &PgPool,
    now: DateTime<Utc>,
    circle_id: i64,
    m: &CircleMember,
    quarter: Period,
    readers: Vec<String>,
) -> anyhow::Result<MemberPost> {
    let shared = specs::current(pool, m.member_id)
        .await?
        .is_some_and(|s| s.visibility == Visibility::Circle);
    // The check-in at the start of a quarter looks back on the one that ended: so do its record and wins.
    let reviewed = quarter.prev();
    let mut post = MemberPost {
        name: m.display_name.clone(),
        readers,
        shared,
        checkin: None,
        reviewed,
        commitments: Vec::new(),
        wins: Vec::new(),
        scorecard: None,
        portfolio: None,
        turning_points: Vec::new(),
    };
    if !shared {
        return Ok(post);
    }
    // The circle never sees private metrics.
    let card = scorecard::load(pool, m.member_id, false).await?;
    post.scorecard = scorecard::review_line(&card, quarter);
    let year = Period::containing_year(reviewed.start_date());
    let (year_from, _) = bounds(year, m.zone);
    let (_, reviewed_to) = bounds(reviewed, m.zone);
    let balance = balance_in(
        &portfolio::bets_of(pool, m.member_id).await?,
        year_from,
        reviewed_to,
        now,
    );
    if !balance.is_empty() {
        post.portfolio = Some(format!(
            "Bets in {}{}: {}",
            year.label(),
            if reviewed.end_date() == year.end_date() {
                ""
            } else {
                " so far"
            },
            balance.words()
        ));
    }
    post.checkin = checkins::find(pool, m.member_id, circle_id, quarter)
        .await?
        .map(|c| c.answers);
    let current = Period::containing_month(local_date(now, m.zone));
    let (reviewed_from, _) = bounds(reviewed, m.zone);
    let open = live_commitments(pool, m.member_id, reviewed_from).await?;
    let marks = commitments::periods_of_member(pool, m.member_id).await?;
    let quarter_months = months(reviewed);
    for c in open.iter().filter(|c| c.cadence == Cadence::Monthly) {
        let first = c.first_period();
        // Only commitments that were live in the quarter under review have a record in it.
        if quarter_months.last().is_none_or(|last| first > *last) {
            continue;
        }
        let (kept, owed, skipped) = tally(
            quarter_months.iter().copied(),
            first,
            current,
            &marks_of(&marks, c.id),
        );
        post.commitments.push(Tally {
            title: c.title.clone(),
            kept,
            owed,
            skipped,
            new_in: quarter_months.contains(&first).then_some(first),
            killed: c.postmortem.is_some(),
        });
    }
    let (from, to) = bounds(reviewed, m.zone);
    post.wins = wins::between(pool, m.member_id, from, to)
        .await?
        .into_iter()
        .map(|w| w.text)
        .collect();
    post.turning_points = turning_points(pool, m.member_id, from, now).await?;
    Ok(post)
}

/// Event check-ins written and landing-plan phases answered in [from, now), oldest first, as one line each.
async fn turning_points(
    pool: &PgPool,
    member_id: i64,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<String>> {
    let mut out: Vec<(DateTime<Utc>, String)> = Vec::new();
    for e in events::events_of(pool, member_id).await? {
        if e.created_at >= from && e.created_at < now {
            let mut line = format!(
                "After a {} ({}): {}",
                e.kind.label(),
                e.happened_on,
                e.happened
            );
            if let Some(l) = &e.learned {
                line.push_str(&format!(" Learned: {l}"));
            }
            out.push((e.created_at, line));
        }
    }
    for plan in events::plans_of(pool, member_id).await? {
        for (day, outcome, at) in &plan.outcomes {
            if *at >= from && *at < now {
                let phase = landing_phase(*day).map_or("", |(_, name, _)| name);
                out.push((*at, format!("New role, day {day} ({phase}): {outcome}")));
            }
        }
    }
    out.sort();
    Ok(out.into_iter().map(|(_, l)| l).collect())
}

/// One row per member, one cell per month of the quarter, and the circle's kept / due totals.
pub async fn heatmap_rows(
    pool: &PgPool,
    members: &[CircleMember],
    quarter: Period,
    now: DateTime<Utc>,
) -> anyhow::Result<(Vec<HeatmapRow>, u32, u32)> {
    let (mut kept, mut due) = (0, 0);
    let mut rows = Vec::new();
    for m in members {
        let current = Period::containing_month(local_date(now, m.zone));
        let (from, _) = bounds(quarter, m.zone);
        let open: Vec<_> = live_commitments(pool, m.member_id, from)
            .await?
            .into_iter()
            .filter(|c| c.cadence == Cadence::Monthly)
            .collect();
        let marks = commitments::periods_of_member(pool, m.member_id).await?;
        let cells = months(quarter)
            .into_iter()
            .map(|month| {
                let state = combine(open.iter().map(|c| {
                    PeriodState::of(month, c.first_period(), current, &marks_of(&marks, c.id))
                }));
                match state {
                    PeriodState::Kept => {
                        kept += 1;
                        due += 1;
                        Cell::Kept
                    }
                    PeriodState::Missed => {
                        due += 1;
                        Cell::Missed
                    }
                    PeriodState::Skipped => Cell::Skipped,
                    PeriodState::NotOwed | PeriodState::Open | PeriodState::Future => Cell::NotDue,
                }
            })
            .collect();
        rows.push(HeatmapRow {
            name: m.display_name.clone(),
            cells,
        });
    }
    Ok((rows, kept, due))
}
