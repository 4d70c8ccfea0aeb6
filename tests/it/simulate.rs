//! `career-circle simulate` as a process: JSON lines on stdout, one per message, in send order.

use std::process::Command;

use serde_json::Value;

fn simulate(args: &[&str]) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_career-circle"))
        .arg("simulate")
        .args(args)
        .env(
            "DATABASE_URL",
            std::env::var("DATABASE_URL").expect("scripts/test sets DATABASE_URL"),
        )
        .env("CAREER_CIRCLE_CONFIG", "/nonexistent/local.toml")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn a_year_in_three_zones_prints_each_delivery_once_in_send_order() {
    let lines = simulate(&[
        "--from",
        "2027-01-01",
        "--to",
        "2027-12-31T23:59",
        "--zone",
        "Europe/London",
        "--member",
        "America/New_York",
        "--member",
        "Australia/Sydney",
        "--member",
        "Asia/Kolkata",
        // Half-hour ticks: Kolkata's 09:00 falls on a half hour in UTC, and an hourly bot would send it at 09:30.
        "--tick",
        "30",
    ]);
    for line in &lines {
        let keys: Vec<&str> = line
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 7, "{line}");
        for k in [
            "kind",
            "member",
            "period",
            "local",
            "utc",
            "due",
            "due_local",
        ] {
            assert!(keys.contains(&k), "{line}");
        }
    }
    let nudges: Vec<&Value> = lines
        .iter()
        .filter(|l| l["kind"] == "monthly_nudge")
        .collect();
    // Sydney's January nudge is due on Dec 31 2026 UTC, before the simulation starts; its January 2028 nudge is
    // due on Dec 31 2027 22:00 UTC, inside it: still 36.
    assert_eq!(nudges.len(), 36);
    assert!(nudges.iter().any(|n| n["member"] == 1
        && n["period"] == "2028-01"
        && n["utc"] == "2027-12-31T22:00:00Z"));
    assert!(
        !nudges
            .iter()
            .any(|n| n["member"] == 1 && n["period"] == "2027-01")
    );
    for n in &nudges {
        let local = n["local"].as_str().unwrap();
        assert!(
            local.contains("-01T09:00:00"),
            "09:00 on the 1st, local: {n}"
        );
        assert_eq!(n["utc"], n["due"], "sent when due: {n}");
    }
    let kolkata: Vec<&&Value> = nudges.iter().filter(|n| n["member"] == 2).collect();
    assert_eq!(kolkata.len(), 12);
    assert!(
        kolkata
            .iter()
            .all(|n| n["local"].as_str().unwrap().ends_with("+05:30"))
    );
    assert_eq!(kolkata[0]["utc"], "2027-01-01T03:30:00Z");
    let ny_march = nudges
        .iter()
        .find(|n| n["member"] == 0 && n["period"] == "2027-03")
        .unwrap();
    let ny_april = nudges
        .iter()
        .find(|n| n["member"] == 0 && n["period"] == "2027-04")
        .unwrap();
    assert_eq!(
        (ny_march["utc"].as_str(), ny_april["utc"].as_str()),
        (Some("2027-03-01T14:00:00Z"), Some("2027-04-01T13:00:00Z"))
    );
    let mut keys: Vec<String> = lines
        .iter()
        .map(|l| format!("{}{}{}", l["kind"], l["member"], l["period"]))
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "nothing twice");
    let utcs: Vec<&str> = lines.iter().map(|l| l["utc"].as_str().unwrap()).collect();
    let mut sorted = utcs.clone();
    sorted.sort();
    assert_eq!(utcs, sorted, "send order follows due time");
}

#[test]
fn downtime_and_schedule_overrides() {
    let lines = simulate(&[
        "--from",
        "2027-03-01",
        "--to",
        "2027-04-30",
        "--zone",
        "UTC",
        "--schedule",
        "monthly_nudge=30 2 * * *",
        "--down",
        "2027-03-30..2027-04-09",
    ]);
    let nudges: Vec<&Value> = lines
        .iter()
        .filter(|l| l["kind"] == "monthly_nudge")
        .collect();
    // March's at 02:30 on the 1st; April's fell in the 10-day gap and is skipped, not sent late.
    assert_eq!(nudges.len(), 1, "{lines:?}");
    assert_eq!(nudges[0]["utc"], "2027-03-01T02:30:00Z");
    assert!(
        lines
            .iter()
            .any(|l| l["kind"] == "checkin_prompt" && l["period"] == "2027-Q2"),
        "within grace: caught up"
    );
}

#[test]
fn jumping_to_what_is_due_prints_what_visiting_every_tick_prints() {
    let args = [
        "--from",
        "2027-02-20",
        "--to",
        "2027-04-20",
        "--zone",
        "Europe/London",
        "--member",
        "America/New_York",
        "--member",
        "Asia/Tokyo",
        "--tick",
        "60",
        "--down",
        "2027-02-27..2027-03-04",
    ];
    let jumped = simulate(&args);
    let mut walk = args.to_vec();
    walk.push("--every-tick");
    let walked = simulate(&walk);
    assert!(jumped.len() >= 8, "{jumped:?}");
    assert_eq!(jumped, walked);
}

#[test]
fn a_nudge_caught_up_after_downtime_shows_when_it_went_and_when_it_was_due() {
    let lines = simulate(&[
        "--from",
        "2027-02-20",
        "--to",
        "2027-03-10",
        "--zone",
        "Asia/Tokyo",
        "--down",
        "2027-02-27..2027-03-04",
    ]);
    let march = lines
        .iter()
        .find(|l| l["kind"] == "monthly_nudge" && l["period"] == "2027-03")
        .expect("caught up within grace");
    assert_eq!(march["due"], "2027-03-01T00:00:00Z", "{march}");
    assert_eq!(march["due_local"], "2027-03-01T09:00:00+09:00");
    assert_eq!(
        march["utc"], "2027-03-04T00:00:00Z",
        "sent when the bot came back"
    );
    assert_eq!(march["local"], "2027-03-04T09:00:00+09:00");
}
