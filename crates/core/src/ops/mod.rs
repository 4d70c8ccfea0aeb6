//! The operator endpoint: `/healthz` for orchestrators and `/metrics` for Prometheus.

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

/// What `/healthz` looks at. The gateway flag is set by the Discord adapter on READY/RESUMED and cleared on
/// disconnect.
#[derive(Clone)]
pub struct Health {
    pub pool: PgPool,
    pub gateway_connected: Arc<AtomicBool>,
    /// False when this process runs no gateway (then only the database counts).
    pub gateway_expected: bool,
}

#[derive(Clone)]
struct AppState {
    health: Health,
    metrics: PrometheusHandle,
}

/// Installs the process-wide Prometheus recorder once; later calls return the same handle.
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
    if metrics::set_global_recorder(recorder).is_err() {
        anyhow::bail!("a metrics recorder was already installed");
    }
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
    let body = serde_json::json!({
        "status": if db_ok && gateway_ok { "ok" } else { "unavailable" },
        "database": if db_ok { "ok" } else { "unreachable" },
        "gateway": if !state.health.gateway_expected { "not running" } else if gateway_ok { "connected" } else { "disconnected" },
    });
    let status = if db_ok && gateway_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body))
}

async fn render_metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
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

/// Records one handled command for /metrics.
pub fn record_command(name: &str, seconds: f64, ok: bool) {
    metrics::counter!("career_circle_commands_total", "command" => name.to_owned(), "outcome" => if ok { "ok" } else { "error" })
        .increment(1);
    metrics::histogram!("career_circle_command_duration_seconds", "command" => name.to_owned())
        .record(seconds);
}
