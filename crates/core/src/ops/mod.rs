//! The operator endpoint: `/healthz` for orchestrators and `/metrics` for Prometheus.

pub mod metrics;
pub mod shards;
pub mod status;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;
use tokio::sync::watch;

use crate::clock::Clock;
pub use metrics::{CommandOutcome, record_command};
use status::WorkerStatus;

/// What the endpoint looks at. The gateway flag is set by the Discord adapter on READY/RESUMED and cleared on
/// disconnect.
#[derive(Clone)]
pub struct Health {
    pub pool: PgPool,
    pub gateway_connected: Arc<AtomicBool>,
    /// False when this process runs no gateway (then only the database counts).
    pub gateway_expected: bool,
    /// The shards this instance owns, when it runs a gateway (the flag above is derived from them).
    pub gateway_shards: Option<Arc<shards::GatewayShards>>,
    /// The connections of the other platforms this process serves (Slack's Socket Mode), each reported by name
    /// and each needed for a healthy instance.
    pub platforms: Vec<(crate::chat::Platform, Arc<AtomicBool>)>,
    /// The worker's pauses: a rejected token makes the instance unhealthy.
    pub worker: WorkerStatus,
    /// The clock the worker runs on, for the age of the oldest due delivery.
    pub clock: Arc<dyn Clock>,
}

#[derive(Clone)]
struct AppState {
    health: Health,
    metrics: PrometheusHandle,
}

/// Installs the process-wide Prometheus recorder once, with every recorded series registered at zero; later
/// calls return the same handle.
pub fn metrics_handle() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    if let Some(h) = HANDLE.get() {
        return Ok(h.clone());
    }
    let buckets = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    ];
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Suffix("_seconds".to_owned()),
            &buckets,
        )?
        .build_recorder();
    let handle = recorder.handle();
    if ::metrics::set_global_recorder(recorder).is_err() {
        anyhow::bail!("a metrics recorder was already installed");
    }
    metrics::register();
    Ok(HANDLE.get_or_init(|| handle).clone())
}

pub fn router(health: Health, metrics: PrometheusHandle) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(render_metrics))
        .with_state(AppState { health, metrics })
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let db = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        sqlx::query_scalar!("SELECT 1 AS \"one!\"").fetch_one(&state.health.pool),
    )
    .await;
    let db_ok = matches!(db, Ok(Ok(1)));
    let gateway_ok =
        !state.health.gateway_expected || state.health.gateway_connected.load(Ordering::Relaxed);
    let pauses = state.health.worker.pauses();
    let worker_ok = !pauses.iter().any(|r| r.is_unhealthy());
    let platforms_ok = state
        .health
        .platforms
        .iter()
        .all(|(_, c)| c.load(Ordering::Relaxed));
    let healthy = db_ok && gateway_ok && worker_ok && platforms_ok;
    let worker = match pauses.first() {
        None => "running".to_owned(),
        Some(_) => format!(
            "paused: {}",
            pauses
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut body = serde_json::json!({
        "status": if healthy { "ok" } else { "unavailable" },
        "database": if db_ok { "ok" } else { "unreachable" },
        "gateway": if !state.health.gateway_expected { "not running" } else if gateway_ok { "connected" } else { "disconnected" },
        "worker": worker,
    });
    if let (Some(board), Some(map)) = (&state.health.gateway_shards, body.as_object_mut()) {
        let owned = board.owned();
        map.insert(
            "shards".into(),
            serde_json::json!({
                "total": board.total(),
                "owned": owned.iter().map(|s| s.shard).collect::<Vec<_>>(),
                "connected": owned.iter().filter(|s| s.connected).map(|s| s.shard).collect::<Vec<_>>(),
                "standby": board.is_settled() && owned.is_empty(),
            }),
        );
    }
    if let Some(map) = body.as_object_mut() {
        for (platform, connected) in &state.health.platforms {
            let words = if connected.load(Ordering::Relaxed) {
                "connected"
            } else {
                "disconnected"
            };
            map.insert(platform.as_str().to_owned(), serde_json::Value::from(words));
        }
    }
    if let (Some(reason), Some(map)) = (state.health.worker.refusal(), body.as_object_mut()) {
        map.insert("reason".into(), serde_json::Value::String(reason));
    }
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body))
}

/// How long a scrape waits for the database before leaving its series out.
const SCRAPE_DATABASE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

async fn render_metrics(State(state): State<AppState>) -> impl IntoResponse {
    let health = &state.health;
    let now = health.clock.now();
    let database = match tokio::time::timeout(
        SCRAPE_DATABASE_TIMEOUT,
        metrics::DatabaseView::read(&health.pool, now),
    )
    .await
    {
        Ok(Ok(view)) => Some(view),
        Ok(Err(error)) => {
            tracing::warn!(error = %error, "metrics: the database did not answer");
            None
        }
        Err(_) => {
            tracing::warn!("metrics: the database did not answer in time");
            None
        }
    };
    let mut body = state.metrics.render();
    if !body.is_empty() && !body.ends_with('\n') {
        body.push('\n');
    }
    body.push_str(&metrics::render_live(&metrics::Live {
        now,
        database: database.as_ref(),
        discord_gateway: health
            .gateway_expected
            .then(|| health.gateway_connected.load(Ordering::Relaxed)),
        discord_shards: health
            .gateway_shards
            .as_ref()
            .map(|b| b.owned())
            .unwrap_or_default(),
        worker: &health.worker,
    }));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}

/// Serves until `shutdown` turns true.
pub async fn serve(
    bind: SocketAddr,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    tracing::info!(%bind, "operator endpoint listening");
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            while !*shutdown.borrow() {
                if shutdown.changed().await.is_err() {
                    break;
                }
            }
        })
        .await?;
    Ok(())
}
