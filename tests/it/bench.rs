//! The benchmarks in a small size, so they cannot rot: they run, print their JSON, and their figures add up.

use std::process::Command;

#[test]
fn bench_schedule_smoke() {
    let json = bench(&["schedule", "--members", "300", "--circles", "10"]);
    assert_eq!(json["rows"], 300, "one nudge per member: {json}");
    assert_eq!(json["zones"], 30);
    assert_eq!(
        json["occurrences"], 30,
        "one occurrence per zone, not per member"
    );
    // The lock, the watermark, the two pair listings, the insert, the hindsight and landing-plan listings, the
    // watermark's advance: a constant, whatever the member count.
    assert!(json["statements_per_tick"].as_u64().unwrap() <= 8, "{json}");
    assert!(
        json["ratio"].as_f64().unwrap() > 0.0 && json["planner_tick_ms"].as_f64().unwrap() > 0.0
    );
}

#[test]
fn bench_outbox_smoke() {
    let json = bench(&["outbox", "--rows", "300"]);
    let runs = json["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4, "{json}");
    for run in runs {
        assert_eq!(
            run["recorded"], 300,
            "every row claimed and recorded once: {run}"
        );
        assert!(run["claim_p99_ms"].as_f64().unwrap() >= run["claim_p50_ms"].as_f64().unwrap());
        assert!(run["index_mib_after"].as_f64().unwrap() > 0.0, "{run}");
    }
    let kinds: Vec<(bool, bool)> = runs
        .iter()
        .map(|r| {
            (
                r["partitioned"].as_bool().unwrap(),
                r["long_transaction"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![(true, false), (false, false), (true, true), (false, true)]
    );
}

fn bench(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_career-circle"))
        .arg("bench")
        .args(args)
        .env(
            "DATABASE_URL",
            std::env::var("DATABASE_URL").expect("scripts/test sets DATABASE_URL"),
        )
        .env("CAREER_CIRCLE_CONFIG", "/nonexistent/local.toml")
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("one JSON object ({e}): {stdout}"))
}

#[test]
fn bench_deliver_smoke() {
    let json = bench(&["deliver", "--deliveries", "300", "--rate", "600"]);
    assert_eq!(json["deliveries"], 300);
    for run in ["one_worker", "three_processes"] {
        assert_eq!(json[run]["messages"], 300, "{json}");
        assert_eq!(json[run]["duplicates"], 0, "{json}");
        assert!(json[run]["achieved_rate"].as_f64().unwrap() > 0.0);
        assert!(json[run]["busiest_second"].as_u64().unwrap() > 0, "{json}");
    }
}

#[test]
fn bench_memory_smoke() {
    let json = bench(&["memory", "--members", "500", "--burst", "200"]);
    assert_eq!(json["burst"], 200, "the whole burst was queued: {json}");
    assert_eq!(
        json["delivered"], 200,
        "and delivered, however long it took: {json}"
    );
    let (idle, peak) = (
        json["idle_rss_mib"].as_f64().unwrap(),
        json["burst_peak_rss_mib"].as_f64().unwrap(),
    );
    assert!(idle > 1.0 && peak >= idle, "{json}");
    assert_eq!(json["duplicates"], 0);
}

#[test]
fn bench_commands_smoke() {
    let json = bench(&["commands", "--count", "200", "--concurrency", "2"]);
    assert_eq!(json["commands"], 200);
    // Answered at all, not "within 3 s": how fast is the benchmark's figure, and a loaded machine is slower.
    assert_eq!(
        json["answered"], 200,
        "every interaction answered through poise: {json}"
    );
    assert_eq!(json["unanswered"], 0, "{json}");
    assert_eq!(json["unexpected_errors"], 0, "{json}");
    assert!(json["p99_ms"].as_f64().unwrap() >= json["p50_ms"].as_f64().unwrap());
}
