//! The planner with an injected clock: every occurrence once, at the right instant, in every zone.

use std::collections::HashMap;
use std::sync::Arc;

use career_circle_console::recording::RecordingChat;
use chrono::{Datelike, Duration, Timelike, Utc};
use chrono_tz::Tz;
use sqlx::PgPool;

use crate::support::Words as _;
use crate::support::{t, world};

fn local(at: chrono::DateTime<Utc>, zone: &str) -> chrono::DateTime<Tz> {
    at.with_timezone(&zone.parse::<Tz>().unwrap())
}

#[sqlx::test]
async fn a_year_of_nudges_and_checkins_in_five_zones(pool: PgPool) {
    let w = world(pool, "2026-12-31T00:00:00Z");
    let zones = [
        "America/New_York",
        "Europe/London",
        "Australia/Sydney",
        "Asia/Kolkata",
        "UTC",
    ];
    let actors = w.circle_with_members("g1", "UTC", &zones).await;
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2028-01-01T00:00:00Z"), Duration::hours(6), &chat)
        .await;

    let rows = w.deliveries().await;
    let mut by_member_kind: HashMap<(i64, String), Vec<_>> = HashMap::new();
    for r in rows
        .iter()
        .filter(|r| r.period.key().starts_with("2027") && r.member_id.is_some())
    {
        assert_eq!(r.status, "sent", "{r:?}");
        by_member_kind
            .entry((r.member_id.unwrap(), r.kind.as_str().to_owned()))
            .or_default()
            .push(r.clone());
    }
    for (actor, zone) in actors.iter().zip(zones) {
        let m = w.member_id(actor).await;
        let get = |k: &str| {
            by_member_kind
                .get(&(m, k.to_owned()))
                .cloned()
                .unwrap_or_default()
        };
        let nudges = get("monthly_nudge");
        assert_eq!(nudges.len(), 12, "{zone}: {nudges:?}");
        for (i, n) in nudges.iter().enumerate() {
            let l = local(n.due_at, zone);
            assert_eq!(
                (l.month(), l.day(), l.hour(), l.minute()),
                (i as u32 + 1, 1, 9, 0),
                "{zone} {n:?}"
            );
            assert_eq!(n.period.key(), format!("2027-{:02}", i + 1));
        }
        let reminders = get("nudge_reminder");
        assert_eq!(reminders.len(), 12, "{zone}");
        assert!(reminders.iter().all(|r| {
            let l = local(r.due_at, zone);
            (l.day(), l.hour(), l.minute()) == (20, 9, 0)
        }));
        let prompts = get("checkin_prompt");
        let days: Vec<(u32, u32)> = prompts
            .iter()
            .map(|p| local(p.due_at, zone))
            .map(|l| (l.month(), l.day()))
            .collect();
        assert_eq!(
            days,
            vec![(1, 4), (4, 5), (7, 5), (10, 4)],
            "{zone}: first Mondays of 2027"
        );
        assert!(prompts.iter().all(|p| local(p.due_at, zone).hour() == 9));
        let chasers = get("checkin_reminder");
        let days: Vec<(u32, u32, u32)> = chasers
            .iter()
            .map(|p| local(p.due_at, zone))
            .map(|l| (l.month(), l.day(), l.hour()))
            .collect();
        assert_eq!(
            days,
            vec![(1, 7, 9), (4, 8, 9), (7, 8, 9), (10, 7, 9)],
            "{zone}: three days later, 09:00 local"
        );
        let deep = get("deep_dive");
        assert_eq!(deep.len(), 1);
        assert_eq!(
            (
                local(deep[0].due_at, zone).day(),
                local(deep[0].due_at, zone).hour()
            ),
            (11, 9)
        );
    }
    // Each sent row is exactly one message, and no message went out twice.
    // Each member-level row sent is exactly one DM, and nothing at all went out twice.
    let sent = rows
        .iter()
        .filter(|r| r.status == "sent" && r.member_id.is_some())
        .count();
    let dms = chat
        .sent()
        .into_iter()
        .filter(|s| matches!(s.to, career_circle_core::chat::Destination::Dm { .. }))
        .count();
    assert_eq!(dms, sent);
    assert_eq!(chat.send_calls(), chat.sent().len());
    assert_eq!(
        rows.iter()
            .filter(|r| r.kind == "review_open" && r.status == "sent")
            .count(),
        4,
        "a review a quarter"
    );
}

#[sqlx::test]
async fn local_times_across_dst_changes_fire_once_at_the_right_instant(pool: PgPool) {
    let w = world(pool, "2027-01-01T00:00:00Z");
    let actors = w
        .circle_with_members("g1", "UTC", &["America/New_York", "Europe/London"])
        .await;
    let circle = w.circle_id().await;
    let organiser = &actors[0];
    // 02:30 on the 14th: 14 March 2027 is New York's spring-forward day, when 02:30 does not exist.
    // 01:30 on the 7th: 7 November 2027 is New York's fall-back day, when 01:30 happens twice.
    for (schedule, when) in [
        ("monthly_nudge", "30 2 14 * *"),
        ("nudge_reminder", "30 1 7 * *"),
    ] {
        w.set_schedule(organiser, schedule, when).await;
    }
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2028-01-01T00:00:00Z"), Duration::hours(3), &chat)
        .await;
    let rows = w.deliveries().await;
    let ny = w.member_id(&actors[0]).await;
    let ldn = w.member_id(&actors[1]).await;
    let instants = |m: i64, kind: &str| -> Vec<chrono::DateTime<Utc>> {
        rows.iter()
            .filter(|r| {
                r.member_id == Some(m) && r.kind == kind && r.period.key().starts_with("2027")
            })
            .map(|r| r.due_at)
            .collect()
    };
    let ny_nudges = instants(ny, "monthly_nudge");
    assert_eq!(ny_nudges.len(), 12);
    assert!(
        ny_nudges.contains(&t("2027-03-14T07:00:00Z")),
        "gap: fires at 03:00 EDT, {ny_nudges:?}"
    );
    assert!(
        ny_nudges.contains(&t("2027-02-14T07:30:00Z"))
            && ny_nudges.contains(&t("2027-11-14T07:30:00Z"))
    );
    assert!(ny_nudges.contains(&t("2027-04-14T06:30:00Z")));
    let ny_reminders = instants(ny, "nudge_reminder");
    assert_eq!(ny_reminders.len(), 12);
    assert!(
        ny_reminders.contains(&t("2027-11-07T05:30:00Z")),
        "overlap: the first 01:30 (EDT), {ny_reminders:?}"
    );
    assert!(!ny_reminders.contains(&t("2027-11-07T06:30:00Z")));
    let ldn_nudges = instants(ldn, "monthly_nudge");
    assert_eq!(ldn_nudges.len(), 12);
    assert!(
        ldn_nudges.contains(&t("2027-03-14T02:30:00Z"))
            && ldn_nudges.contains(&t("2027-04-14T01:30:00Z"))
    );
    let dms = chat
        .sent()
        .into_iter()
        .filter(|s| matches!(s.to, career_circle_core::chat::Destination::Dm { .. }))
        .count();
    assert_eq!(
        rows.iter()
            .filter(|r| r.status == "sent" && r.member_id.is_some())
            .count(),
        dms
    );
    assert_eq!(chat.send_calls(), chat.sent().len());
    let _ = circle;
}

#[sqlx::test]
async fn london_gap_and_overlap_and_the_31st(pool: PgPool) {
    let w = world(pool, "2027-01-01T00:00:00Z");
    let actors = w
        .circle_with_members("g1", "Europe/London", &["Europe/London"])
        .await;
    // 28 March 2027: 01:30 does not exist in London; 31 October 2027: 01:30 happens twice. The 31st in shorter
    // months means their last day.
    for (schedule, when) in [
        ("monthly_nudge", "30 1 28 * *"),
        ("nudge_reminder", "30 1 31 * *"),
    ] {
        w.set_schedule(&actors[0], schedule, when).await;
    }
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2028-01-01T00:00:00Z"), Duration::hours(3), &chat)
        .await;
    let rows = w.deliveries().await;
    let nudges: Vec<_> = rows
        .iter()
        .filter(|r| r.kind == "monthly_nudge")
        .map(|r| r.due_at)
        .collect();
    assert_eq!(nudges.len(), 12);
    assert!(
        nudges.contains(&t("2027-03-28T01:00:00Z")),
        "gap: first instant after it, {nudges:?}"
    );
    let reminders: Vec<_> = rows
        .iter()
        .filter(|r| r.kind == "nudge_reminder")
        .map(|r| r.due_at)
        .collect();
    assert_eq!(reminders.len(), 12, "{reminders:?}");
    assert!(
        reminders.contains(&t("2027-10-31T00:30:00Z")),
        "overlap: the first 01:30 (BST)"
    );
    for expected in [
        "2027-02-28T01:30:00Z",
        "2027-04-30T00:30:00Z",
        "2027-06-30T00:30:00Z",
        "2027-09-30T00:30:00Z",
        "2027-11-30T01:30:00Z",
    ] {
        assert!(
            reminders.contains(&t(expected)),
            "{expected} missing: {reminders:?}"
        );
    }
}

#[sqlx::test]
async fn the_29th_in_february_of_leap_and_common_years(pool: PgPool) {
    let w = world(pool, "2027-01-01T00:00:00Z");
    let actors = w.circle_with_members("g1", "UTC", &["UTC"]).await;
    w.set_schedule(&actors[0], "monthly_nudge", "0 9 29 * *")
        .await;
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2028-03-31T00:00:00Z"), Duration::hours(6), &chat)
        .await;
    let nudges: Vec<_> = w
        .deliveries()
        .await
        .into_iter()
        .filter(|r| r.kind == "monthly_nudge")
        .map(|r| r.due_at)
        .collect();
    assert_eq!(nudges.len(), 15, "{nudges:?}");
    assert!(
        nudges.contains(&t("2027-02-28T09:00:00Z")),
        "common year: last day"
    );
    assert!(
        nudges.contains(&t("2028-02-29T09:00:00Z")),
        "leap year: the 29th itself"
    );
    assert!(nudges.contains(&t("2027-03-29T09:00:00Z")));
}

#[sqlx::test]
async fn three_days_down_is_caught_up_once(pool: PgPool) {
    let w = world(pool, "2027-03-25T00:00:00Z");
    w.circle_with_members("g1", "UTC", &["UTC"]).await;
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2027-03-31T12:00:00Z"), Duration::minutes(30), &chat)
        .await;
    // Down from March 31 12:00 to April 3 12:00: April 1's nudge falls in the gap.
    w.clock.set(t("2027-04-03T12:00:00Z"));
    w.drive(t("2027-04-10T00:00:00Z"), Duration::minutes(30), &chat)
        .await;
    let rows = w.deliveries().await;
    let april: Vec<_> = rows
        .iter()
        .filter(|r| r.kind == "monthly_nudge" && r.period == "2027-04")
        .collect();
    assert_eq!(april.len(), 1);
    assert_eq!(april[0].status, "sent");
    assert_eq!(april[0].due_at, t("2027-04-01T09:00:00Z"));
    assert_eq!(
        chat.sent()
            .iter()
            .filter(|s| s.message.text.contains("April 2027"))
            .count(),
        1
    );
}

#[sqlx::test]
async fn ten_days_down_skips_the_stale_ones_and_records_them(pool: PgPool) {
    let w = world(pool, "2027-03-25T00:00:00Z");
    w.circle_with_members("g1", "UTC", &["UTC"]).await;
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2027-03-30T00:00:00Z"), Duration::hours(1), &chat)
        .await;
    let before = chat.send_calls();
    // Down ten days: April 1's nudge is 8 days old at restart (grace is 7), April 5's check-in is 4 days old.
    w.clock.set(t("2027-04-09T00:00:00Z"));
    w.drive(t("2027-04-09T01:00:00Z"), Duration::hours(1), &chat)
        .await;
    let rows = w.deliveries().await;
    let nudge = rows
        .iter()
        .find(|r| r.kind == "monthly_nudge" && r.period == "2027-04")
        .expect("recorded");
    assert_eq!(nudge.status, "skipped");
    assert!(
        nudge.skip_reason.as_deref().unwrap_or("").contains("grace"),
        "{nudge:?}"
    );
    let prompt = rows
        .iter()
        .find(|r| r.kind == "checkin_prompt" && r.period == "2027-Q2")
        .expect("caught up");
    assert_eq!(prompt.status, "sent");
    let reminder = rows
        .iter()
        .find(|r| r.kind == "checkin_reminder" && r.period == "2027-Q2")
        .expect("caught up");
    assert_eq!(reminder.status, "sent");
    assert_eq!(
        chat.send_calls() - before,
        2,
        "only the check-in prompt and its reminder"
    );
}

#[sqlx::test]
async fn vacation_and_pause_record_skips_and_never_send_later(pool: PgPool) {
    let w = world(pool, "2027-01-15T00:00:00Z");
    let actors = w.circle_with_members("g1", "UTC", &["UTC", "UTC"]).await;
    w.app
        .me_vacation(&actors[1], Some(t("2027-02-15T00:00:00Z")))
        .await
        .unwrap();
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2027-02-25T00:00:00Z"), Duration::hours(2), &chat)
        .await;
    let on_holiday = w.member_id(&actors[1]).await;
    let rows = w.deliveries().await;
    let feb = |m: i64| {
        rows.iter()
            .find(|r| r.member_id == Some(m) && r.kind == "monthly_nudge" && r.period == "2027-02")
            .cloned()
    };
    assert_eq!(feb(on_holiday).unwrap().status, "skipped");
    assert_eq!(
        feb(on_holiday).unwrap().skip_reason.as_deref(),
        Some("member on vacation")
    );
    assert_eq!(feb(w.member_id(&actors[0]).await).unwrap().status, "sent");
    // The reminder on the 20th is after the vacation: it goes out.
    assert!(rows.iter().any(|r| r.member_id == Some(on_holiday)
        && r.kind == "nudge_reminder"
        && r.status == "sent"));

    w.app
        .circle_pause(&actors[0], None, Some(t("2027-03-10T00:00:00Z")), false)
        .await
        .unwrap();
    w.drive(t("2027-03-25T00:00:00Z"), Duration::hours(2), &chat)
        .await;
    let rows = w.deliveries().await;
    let march: Vec<_> = rows
        .iter()
        .filter(|r| r.kind == "monthly_nudge" && r.period == "2027-03")
        .collect();
    assert_eq!(march.len(), 2);
    assert!(
        march
            .iter()
            .all(|r| r.status == "skipped" && r.skip_reason.as_deref() == Some("circle paused"))
    );
    assert!(
        !chat
            .sent()
            .iter()
            .any(|s| s.message.text.contains("March 2027: time")),
        "nothing sent late"
    );
}

#[sqlx::test]
async fn two_planners_on_one_database_make_each_delivery_once(pool: PgPool) {
    let w = world(pool, "2027-03-31T00:00:00Z");
    w.circle_with_members("g1", "UTC", &["UTC", "Europe/London", "Asia/Kolkata"])
        .await;
    let (a, b) = (w.planner(), w.planner());
    let mut now = t("2027-03-31T00:00:00Z");
    while now < t("2027-04-10T00:00:00Z") {
        let (x, y) = tokio::join!(a.tick(now), b.tick(now));
        x.unwrap();
        y.unwrap();
        now += Duration::hours(1);
    }
    let rows = w.deliveries().await;
    let mut keys: Vec<_> = rows
        .iter()
        .map(|r| (r.kind, r.member_id, r.period))
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n);
    assert_eq!(rows.iter().filter(|r| r.kind == "monthly_nudge").count(), 3);
}

/// Two instances' planners tick at the same instant over 100,000 members in eight zones: one plans, the other
/// finds the lock taken and returns; every member gets exactly one nudge and neither errs (no deadlock).
#[sqlx::test]
async fn two_planners_racing_on_a_hundred_thousand_members_make_each_row_once(pool: PgPool) {
    let zones: Vec<String> = [
        "UTC",
        "Europe/London",
        "Europe/Berlin",
        "Asia/Kolkata",
        "Asia/Tokyo",
        "America/New_York",
        "America/Los_Angeles",
        "Australia/Sydney",
    ]
    .map(str::to_owned)
    .to_vec();
    let start = t("2027-02-25T00:00:00Z");
    career_circle_core::store::bench::seed(&pool, 100_000, 12_500, &zones, start)
        .await
        .unwrap();
    career_circle_core::store::planner::advance_planned_until(&pool, start)
        .await
        .unwrap();
    let w = world(pool.clone(), "2027-03-02T00:00:00Z");
    let mut schedule = w.settings.schedule.clone();
    schedule.grace = std::time::Duration::from_secs(30 * 86_400);
    let a = career_circle_core::schedule::planner::Planner::new(pool.clone(), schedule.clone());
    let b = career_circle_core::schedule::planner::Planner::new(pool.clone(), schedule);
    let now = t("2027-03-02T00:00:00Z");
    let (x, y) = tokio::join!(a.tick(now), b.tick(now));
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.inserted + y.inserted, 100_000, "{x:?} {y:?}");
    let nudges: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM deliveries WHERE kind = 'monthly_nudge' AND period = '2027-03'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(nudges, 100_000);
    let members: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT member_id) FROM deliveries WHERE kind = 'monthly_nudge'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(members, 100_000);
}

/// While one tick holds the planner lock, another returns at once with nothing done; once it commits, the next
/// tick plans normally.
#[sqlx::test]
async fn a_tick_that_finds_the_lock_taken_returns_without_work(pool: PgPool) {
    let w = world(pool.clone(), "2027-03-31T00:00:00Z");
    w.circle_with_members("g1", "UTC", &["UTC"]).await;
    let planner = w.planner();
    let mut holder = pool.begin().await.unwrap();
    assert!(
        career_circle_core::store::planner::try_lock_tick(&mut *holder)
            .await
            .unwrap()
    );
    let busy = planner.tick(t("2027-04-02T00:00:00Z")).await.unwrap();
    assert!(busy.busy && busy.inserted == 0, "{busy:?}");
    holder.rollback().await.unwrap();
    let done = planner.tick(t("2027-04-02T00:00:00Z")).await.unwrap();
    assert!(!done.busy && done.inserted >= 1, "{done:?}");
}

#[sqlx::test]
async fn tick_statements_do_not_grow_with_members(pool: PgPool) {
    let w = world(pool, "2027-03-31T00:00:00Z");
    w.circle_with_members("g1", "UTC", &["UTC"]).await;
    let planner = w.planner();
    planner.tick(t("2027-04-01T00:00:00Z")).await.unwrap();
    // A month with nudges, a check-in and a review opening, for one member...
    let small = planner.tick(t("2027-05-01T10:00:00Z")).await.unwrap();
    let zones: Vec<&str> = ["UTC", "Europe/London", "Asia/Kolkata", "America/New_York"]
        .into_iter()
        .cycle()
        .take(40)
        .collect();
    w.circle_with_members("g2", "UTC", &zones).await;
    // ... and the same kinds of month for 41 members in two circles (a first tick lists the new pairs).
    let relisted = planner.tick(t("2027-05-01T11:00:00Z")).await.unwrap();
    assert!(
        relisted.listed_pairs,
        "new members: the pairs are listed again"
    );
    let big = planner.tick(t("2027-08-01T10:00:00Z")).await.unwrap();
    assert_eq!(small.statements, big.statements, "{small:?} {big:?}");
    assert!(
        !small.listed_pairs && !big.listed_pairs,
        "{small:?} {big:?}"
    );
    assert!(big.inserted > 41 * 3, "{big:?}");
}

/// The pairs in use are listed only when the schedules change: joining, leaving, a member's or a circle's zone, a
/// circle's schedule. A new member in a zone nobody had is planned for at once.
#[sqlx::test]
async fn the_schedules_are_listed_again_only_when_they_change(pool: PgPool) {
    let w = world(pool, "2027-03-31T00:00:00Z");
    let members = w.circle_with_members("g1", "UTC", &["UTC"]).await;
    let planner = w.planner();
    assert!(
        planner
            .tick(t("2027-03-31T00:00:00Z"))
            .await
            .unwrap()
            .listed_pairs
    );
    assert!(
        !planner
            .tick(t("2027-03-31T01:00:00Z"))
            .await
            .unwrap()
            .listed_pairs
    );
    w.app
        .me_timezone(&members[0], "Pacific/Kiritimati")
        .await
        .unwrap();
    let after_zone = planner.tick(t("2027-03-31T02:00:00Z")).await.unwrap();
    assert!(after_zone.listed_pairs, "{after_zone:?}");
    assert!(
        !planner
            .tick(t("2027-03-31T03:00:00Z"))
            .await
            .unwrap()
            .listed_pairs
    );
    // Kiritimati (UTC+14) reaches 09:00 on April 1st at 19:00 UTC on March 31st: planned by the next tick.
    let due = planner.tick(t("2027-03-31T19:00:00Z")).await.unwrap();
    assert_eq!(due.inserted, 1, "{due:?}");
    w.set_schedule(&members[0], "monthly_nudge", "0 10 1 * *")
        .await;
    assert!(
        planner
            .tick(t("2027-03-31T20:00:00Z"))
            .await
            .unwrap()
            .listed_pairs
    );
}

#[sqlx::test]
async fn a_daily_schedule_on_a_monthly_kind_fires_on_the_first_day_and_a_stale_first_day_skips_the_month(
    pool: PgPool,
) {
    let w = world(pool, "2027-03-25T00:00:00Z");
    let actors = w.circle_with_members("g1", "UTC", &["UTC"]).await;
    w.set_schedule(&actors[0], "monthly_nudge", "30 2 * * *")
        .await;
    let chat = Arc::new(RecordingChat::new());
    w.drive(t("2027-03-30T00:00:00Z"), Duration::hours(1), &chat)
        .await;
    // Down from March 30 to April 9: April 1 is past the grace window, so April is skipped even though
    // April 2 to 8 also match the schedule.
    w.clock.set(t("2027-04-09T00:00:00Z"));
    w.drive(t("2027-05-02T00:00:00Z"), Duration::hours(1), &chat)
        .await;
    let rows = w.deliveries().await;
    let april = rows
        .iter()
        .find(|r| r.kind == "monthly_nudge" && r.period == "2027-04")
        .unwrap();
    assert_eq!(
        (april.status.as_str(), april.due_at),
        ("skipped", t("2027-04-01T02:30:00Z"))
    );
    let may = rows
        .iter()
        .find(|r| r.kind == "monthly_nudge" && r.period == "2027-05")
        .unwrap();
    assert_eq!(
        (may.status.as_str(), may.due_at),
        ("sent", t("2027-05-01T02:30:00Z"))
    );
}
