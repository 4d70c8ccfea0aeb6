//! PostgreSQL restarted under load: the bot reports 503 while the database is down, reconnects, and delivers
//! everything exactly once. Uses a throwaway cluster of its own, so restarting it disturbs nothing else.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use career_circle::cli::run::serve;
use career_circle_core::settings::CommandScope;
use career_circle_discord::Connection;
use sqlx::PgPool;
use tokio::sync::watch;

use crate::discord_e2e::PATIENCE;
use crate::support::discord::{LoopbackDiscord, TOKEN};
use crate::support::settings;

fn pg_bin(name: &str) -> Option<PathBuf> {
    let from_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .find(|p| p.exists());
    from_path.or_else(|| {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin").join(name)))
            .filter(|p| p.exists())
            .collect();
        found.sort();
        found.pop()
    })
}

struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
    pg_ctl: PathBuf,
    as_root: bool,
}

impl Cluster {
    fn run(&self, program: &Path, args: &[&str]) {
        let mut cmd = if self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        let out = cmd.args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{program:?} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start(&self) {
        let data = self.dir.path().join("data");
        let opts = format!(
            "-p {} -h 127.0.0.1 -k {}",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        self.run(
            &self.pg_ctl,
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &opts,
                "-w",
                "start",
            ],
        );
    }

    fn stop(&self) {
        let data = self.dir.path().join("data");
        self.run(
            &self.pg_ctl,
            &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"],
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let mut cmd = if self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&self.pg_ctl);
            c
        } else {
            Command::new(&self.pg_ctl)
        };
        let _ = cmd
            .args([
                "-D",
                data.to_str().unwrap_or_default(),
                "-m",
                "immediate",
                "stop",
            ])
            .output();
    }
}

fn cluster() -> Option<Cluster> {
    let (initdb, pg_ctl) = (pg_bin("initdb")?, pg_bin("pg_ctl")?);
    let dir = tempfile::tempdir().unwrap();
    let as_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    if as_root {
        assert!(
            Command::new("chown")
                .args(["-R", "postgres"])
                .arg(dir.path())
                .status()
                .unwrap()
                .success()
        );
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = Cluster {
        dir,
        port,
        pg_ctl,
        as_root,
    };
    let data = c.dir.path().join("data");
    c.run(
        &initdb,
        &[
            "-D",
            data.to_str().unwrap(),
            "-A",
            "trust",
            "-U",
            "postgres",
        ],
    );
    c.start();
    Some(c)
}

async fn status(url: &str) -> Option<u16> {
    reqwest::get(url).await.ok().map(|r| r.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_under_load_loses_nothing_and_healthz_tells() {
    let Some(pg) = cluster() else {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "CI must have PostgreSQL's initdb and pg_ctl"
        );
        eprintln!("skipped: no initdb/pg_ctl on this machine");
        return;
    };
    let pool = PgPool::connect(&pg.url()).await.unwrap();
    career_circle_core::store::migrate(&pool).await.unwrap();
    let discord = LoopbackDiscord::start().await;
    let users = crate::reliability::burst(&pool, &discord, 15).await;
    pool.close().await;

    let mut s = settings().with_database_url(&pg.url());
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    s.http.bind = format!("127.0.0.1:{port}").parse().unwrap();
    s.worker.global_rate = 4;
    s.worker.lease = Duration::from_secs(2);
    s.worker.poll_interval = Duration::from_millis(100);
    s.worker.backoff_base = Duration::from_millis(200);
    s.worker.backoff_max = Duration::from_secs(1);
    s.database.connect_timeout = Duration::from_secs(1);
    let connection = Connection {
        token: TOKEN.to_owned(),
        proxy: Some(discord.base_url()),
        register: CommandScope::Guild,
        dev_guild_id: discord.guild_id().parse().ok(),
        request_timeout: Duration::from_secs(2),
    };
    let (stop, stopped) = watch::channel(false);
    let bot = tokio::spawn(serve(
        s,
        connection,
        Arc::new(career_circle_core::clock::SystemClock),
        stopped,
    ));
    let health = format!("http://127.0.0.1:{port}/healthz");
    let dms = |d: &LoopbackDiscord| {
        users
            .iter()
            .map(|u| d.dm_messages_to(u).len())
            .sum::<usize>()
    };

    let started = Instant::now();
    while dms(&discord) < 4 {
        assert!(started.elapsed() < PATIENCE, "the burst never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    pg.stop();
    let started = Instant::now();
    while status(&health).await != Some(503) {
        assert!(
            started.elapsed() < PATIENCE,
            "healthz never said 503 with the database down"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let body = reqwest::get(&health).await.unwrap().text().await.unwrap();
    assert!(body.contains("\"database\":\"unreachable\""), "{body}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    pg.start();

    let pool = PgPool::connect(&pg.url()).await.unwrap();
    let started = Instant::now();
    loop {
        let pending: i64 =
            sqlx::query_scalar("SELECT count(*) FROM deliveries WHERE status <> 'sent'")
                .fetch_one(&pool)
                .await
                .unwrap();
        if pending == 0 {
            break;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "{pending} deliveries never went out after the restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let started = Instant::now();
    while status(&health).await != Some(200) {
        assert!(started.elapsed() < PATIENCE, "never healthy again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.send(true).unwrap();
    tokio::time::timeout(PATIENCE, bot)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let per_user: Vec<usize> = users
        .iter()
        .map(|u| discord.dm_messages_to(u).len())
        .collect();
    assert!(
        per_user.iter().all(|n| *n == 1),
        "exactly one DM each: {per_user:?}"
    );
    discord.assert_all_valid();
}
