//! scripts/lib/postgres.sh on a machine without PostgreSQL: it says how to get one, and starts one in Docker
//! when a daemon answers. No Docker daemon runs where the tests do, so a stand-in `docker` on PATH answers and
//! records what the script asked of it.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const STUB: &str = r#"#!/bin/sh
echo "$*" >> "$STUB_LOG"
case "$1" in
  info) exit "${STUB_INFO_RC:-0}" ;;
  run) echo 0123456789ab ;;
  port) echo "0.0.0.0:55999" ;;
  container) exit 1 ;;
  *) exit 0 ;;
esac
"#;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    docker: Vec<String>,
}

/// Sources the library in a shell with no PostgreSQL to be found: nothing on 5432 counts, no initdb/pg_ctl on PATH
/// or in the usual folders, and `docker` is the stand-in.
fn find_pg(mode: &str, env: &[(&str, &str)]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let stub = dir.path().join("docker");
    std::fs::write(&stub, STUB).unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&stub)
        .status()
        .unwrap();
    let log = dir.path().join("docker.log");
    let script = format!(
        ". scripts/lib/postgres.sh && cc_find_or_start_pg {mode} && echo \"DATABASE_URL=$DATABASE_URL\""
    );
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(script)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", dir.path().display()))
        .env("HOME", dir.path())
        .env("CC_SKIP_LOCAL_PG", "1")
        .env("CC_PG_BIN_DIRS", "/nonexistent/*/bin")
        .env("STUB_LOG", &log)
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        docker: read_lines(&log),
    }
}

fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn with_nothing_found_it_says_how_to_get_postgres_on_each_system() {
    let run = find_pg("test", &[("STUB_INFO_RC", "1")]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    for needle in [
        "No PostgreSQL found",
        "Debian/Ubuntu:  sudo apt-get install postgresql",
        "Fedora:         sudo dnf install postgresql-server",
        "macOS:          brew install postgresql@16",
        "docker run -d --name career-circle-pg",
        "no Docker daemon answers here",
        "DATABASE_URL=postgres://",
    ] {
        assert!(
            run.stderr.contains(needle),
            "{needle:?} in:\n{}",
            run.stderr
        );
    }
    assert_eq!(
        run.docker,
        vec!["info"],
        "only asked whether Docker answers"
    );
}

#[test]
fn a_docker_daemon_is_offered_but_not_used_without_a_yes() {
    // No terminal to ask at and no CC_PG_DOCKER=1: it says how, and starts nothing.
    let run = find_pg("test", &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("A Docker daemon answers here: CC_PG_DOCKER=1"),
        "{}",
        run.stderr
    );
    assert_eq!(run.docker, vec!["info"]);
}

#[test]
fn for_tests_docker_postgres_runs_on_a_free_port_and_is_removed_afterwards() {
    let run = find_pg("test", &[("CC_PG_DOCKER", "1")]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let url = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("DATABASE_URL="))
        .unwrap_or_else(|| panic!("a DATABASE_URL: {}{}", run.stdout, run.stderr));
    let port = url
        .strip_prefix("postgres://postgres@127.0.0.1:")
        .and_then(|r| r.strip_suffix("/postgres"))
        .unwrap_or_else(|| panic!("{url}"));
    let started = run
        .docker
        .iter()
        .find(|l| l.starts_with("run "))
        .unwrap_or_else(|| panic!("{:?}", run.docker));
    assert!(
        started.starts_with("run -d --rm --name career-circle-test-pg-"),
        "{started}"
    );
    assert!(
        started.contains(&format!("-p 127.0.0.1:{port}:5432 postgres:16")),
        "{started}"
    );
    assert!(!started.contains(" -v "), "no volume for tests: {started}");
    let name = started.split_whitespace().nth(4).unwrap().to_owned();
    assert!(
        run.docker
            .iter()
            .any(|l| l.starts_with(&format!("exec {name} pg_isready"))),
        "waited for it to be ready: {:?}",
        run.docker
    );
    assert_eq!(
        run.docker.last().map(String::as_str),
        Some(format!("stop {name}").as_str()),
        "stopped (and so removed) when the script ended: {:?}",
        run.docker
    );
}

#[test]
fn for_run_docker_postgres_keeps_its_data_in_a_named_volume() {
    let run = find_pg("run", &[("CC_PG_DOCKER", "1")]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout
            .contains("DATABASE_URL=postgres://postgres@127.0.0.1:55999/postgres"),
        "the port Docker reports: {}",
        run.stdout
    );
    let started = run
        .docker
        .iter()
        .find(|l| l.starts_with("run "))
        .unwrap_or_else(|| panic!("{:?}", run.docker));
    assert!(
        started.starts_with("run -d --name career-circle-pg --restart unless-stopped"),
        "{started}"
    );
    assert!(
        started.contains("-v career-circle-pg-data:/var/lib/postgresql/data"),
        "{started}"
    );
    assert!(!started.contains("--rm"), "{started}");
    assert!(
        !run.docker.iter().any(|l| l.starts_with("stop ")),
        "kept running for the next scripts/run: {:?}",
        run.docker
    );
    assert!(
        run.stderr.contains("docker stop career-circle-pg"),
        "{}",
        run.stderr
    );
}

/// A shell that takes the test lock of scripts/test on the tests' own server (under another key than the run
/// this test is part of, which holds the real one).
fn lock_holder(then: &str) -> std::process::Child {
    Command::new("bash")
        .arg("-c")
        .arg(format!(
            ". scripts/lib/postgres.sh && cc_lock_server_for_tests && {then}"
        ))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env(
            "DATABASE_URL",
            std::env::var("DATABASE_URL").expect("scripts/test sets DATABASE_URL"),
        )
        .env("CC_PG_TEST_LOCK_KEY", "4711")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_second_test_run_on_one_server_waits_for_the_first() {
    use std::io::{BufRead, BufReader, Write};
    assert!(
        Command::new("sh")
            .args(["-c", "command -v psql"])
            .status()
            .unwrap()
            .success(),
        "psql, which the lock uses, is on PATH"
    );
    // The first run holds the lock until its input ends.
    let mut first = lock_holder("echo got && read -r _");
    let mut first_out = BufReader::new(first.stdout.take().unwrap()).lines();
    assert_eq!(first_out.next().unwrap().unwrap(), "got");
    // The second says it waits, and does.
    let mut second = lock_holder("echo got");
    let mut second_err = BufReader::new(second.stderr.take().unwrap()).lines();
    let said = second_err.next().unwrap().unwrap();
    assert!(
        said.contains("another test run holds this PostgreSQL server"),
        "{said}"
    );
    assert!(second.try_wait().unwrap().is_none(), "still waiting");
    // The first ends; the second gets the server.
    first.stdin.take().unwrap().write_all(b"done\n").unwrap();
    assert!(first.wait().unwrap().success());
    let out = second.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "got");
}
