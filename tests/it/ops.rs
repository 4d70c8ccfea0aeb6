//! The operator endpoint: /healthz says why it is unhealthy, /metrics speaks Prometheus.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use career_circle_core::ops::{self, Health};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tokio::sync::watch;

async fn serve(health: Health) -> (String, watch::Sender<bool>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let (stop, stopped) = watch::channel(false);
    let router = ops::router(health, ops::metrics_handle().unwrap());
    tokio::spawn(ops::serve(addr, router, stopped));
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    (format!("http://{addr}"), stop)
}

async fn get(url: &str) -> (u16, String) {
    let r = reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[sqlx::test]
async fn healthz_reports_database_and_gateway(pool: PgPool) {
    let connected = Arc::new(AtomicBool::new(false));
    let (base, stop) = serve(Health {
        pool,
        gateway_connected: connected.clone(),
        gateway_expected: true,
    })
    .await;
    let (status, body) = get(&format!("{base}/healthz")).await;
    assert_eq!(status, 503);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (json["database"].as_str(), json["gateway"].as_str()),
        (Some("ok"), Some("disconnected"))
    );
    connected.store(true, Ordering::Relaxed);
    let (status, body) = get(&format!("{base}/healthz")).await;
    assert_eq!(status, 200, "{body}");
    stop.send(true).unwrap();

    // A database that does not answer.
    let dead = PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_millis(300))
        .connect_lazy("postgres://postgres@127.0.0.1:1/none")
        .unwrap();
    let (base, stop) = serve(Health {
        pool: dead,
        gateway_connected: connected,
        gateway_expected: true,
    })
    .await;
    let (status, body) = get(&format!("{base}/healthz")).await;
    assert_eq!(status, 503);
    assert!(body.contains("\"database\":\"unreachable\""), "{body}");
    stop.send(true).unwrap();
}

#[sqlx::test]
async fn metrics_count_commands_and_deliveries(pool: PgPool) {
    let flag = Arc::new(AtomicBool::new(true));
    let (base, stop) = serve(Health {
        pool,
        gateway_connected: flag,
        gateway_expected: false,
    })
    .await;
    ops::record_command("commit add", 0.004, true);
    metrics::counter!("career_circle_deliveries_total", "kind" => "monthly_nudge", "outcome" => "sent").increment(1);
    let (status, text) = get(&format!("{base}/metrics")).await;
    assert_eq!(status, 200);
    assert!(
        text.contains("career_circle_commands_total{command=\"commit add\",outcome=\"ok\"}"),
        "{text}"
    );
    assert!(
        text.contains("career_circle_command_duration_seconds_bucket"),
        "a histogram: {text}"
    );
    assert!(
        text.contains("career_circle_deliveries_total{kind=\"monthly_nudge\",outcome=\"sent\"}"),
        "{text}"
    );
    stop.send(true).unwrap();
}
