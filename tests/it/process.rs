//! The binary as an operator meets it: settings errors, `doctor`, `run` without a token, `--help`.

use std::process::{Command, Output};

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_career-circle"));
    // A clean slate: nothing from the developer's shell or a local config file leaks in.
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CAREER_CIRCLE_CONFIG", "/nonexistent/local.toml")
        .env("RUST_LOG", "warn");
    cmd
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_settings_stop_with_one_line_naming_the_key_and_exit_2() {
    let cases = [
        (
            "CAREER_CIRCLE__SCHEDULE__DEFAULT_ZONE",
            "Europe/Londn",
            "schedule.default_zone",
            "Europe/London",
        ),
        (
            "CAREER_CIRCLE__SCHEDULE__MONTHLY_NUDGE",
            "0 25 1 * *",
            "schedule.monthly_nudge",
            "hour",
        ),
        (
            "CAREER_CIRCLE__SCHEDULE__GRACE",
            "-2d",
            "schedule.grace",
            "negative",
        ),
        (
            "CAREER_CIRCLE__WORKER__LEASE",
            "soon",
            "worker.lease",
            "duration",
        ),
        (
            "CAREER_CIRCLE__HTTP__BIND",
            "everywhere",
            "http.bind",
            "address",
        ),
        (
            "CAREER_CIRCLE__SCHEDULE__NUDGE_REMINDR",
            "0 9 20 * *",
            "schedule.nudge_remindr",
            "unknown setting",
        ),
    ];
    for (var, value, key, reason) in cases {
        for sub in ["run", "migrate"] {
            let out = bin().arg(sub).env(var, value).output().unwrap();
            let (_, stderr) = text(&out);
            assert_eq!(out.status.code(), Some(2), "{var}={value} {sub}: {stderr}");
            let lines: Vec<&str> = stderr.lines().collect();
            assert_eq!(lines.len(), 1, "one line for {var}: {stderr}");
            assert!(
                lines[0].contains(key) && lines[0].contains(reason),
                "{var}: {stderr}"
            );
        }
    }
}

#[test]
fn doctor_without_database_or_token_says_what_is_missing_and_fails() {
    let out = bin()
        .arg("doctor")
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")
        .env("CAREER_CIRCLE__DATABASE__CONNECT_TIMEOUT", "2s")
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    assert_ne!(out.status.code(), Some(0), "{stdout}");
    let line = |name: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(line("settings").contains("OK"), "{stdout}");
    assert!(
        line("database").contains("FAIL") && line("database").contains("DATABASE_URL"),
        "{stdout}"
    );
    assert!(line("migrations").contains("FAIL"), "{stdout}");
    assert!(
        line("discord token").contains("FAIL") && line("discord token").contains("DISCORD_TOKEN"),
        "{stdout}"
    );
}

#[test]
fn doctor_never_prints_the_token() {
    let token = format!(
        "{}.{}.{}",
        "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ", "GabcDE", "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-xyz"
    );
    let out = bin()
        .arg("doctor")
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")
        .env("CAREER_CIRCLE__DATABASE__CONNECT_TIMEOUT", "1s")
        .env("DISCORD_TOKEN", &token)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(
        stdout.contains("discord token") && stdout.contains("present"),
        "{stdout}"
    );
    for part in token.split('.') {
        assert!(
            !stdout.contains(part) && !stderr.contains(part),
            "token part leaked: {stdout}{stderr}"
        );
    }
}

#[test]
fn run_without_token_points_at_demo_in_one_line() {
    let out = bin().arg("run").output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("DISCORD_TOKEN") && stderr.contains("demo"),
        "{stderr}"
    );
}

#[test]
fn help_explains_every_subcommand() {
    let out = bin().arg("--help").output().unwrap();
    let (stdout, _) = text(&out);
    assert!(out.status.success());
    for sub in ["run", "migrate", "doctor", "simulate", "bench", "demo"] {
        assert!(
            stdout.lines().any(|l| l.trim_start().starts_with(sub)),
            "{sub} missing from --help:\n{stdout}"
        );
    }
}
