//! licmon's HTTP server: the REST API under `/api/v1`, server-rendered pages, and the assets,
//! all built into the binary (sites run air-gapped: nothing is fetched from the internet).
//!
//! Invariant: handlers translate between HTTP and the domain; the rules themselves (validation,
//! statuses, capacity) live in licmon-core and the store.

mod admin;
pub mod agent_ingest;
mod agents_page;
mod alerts;
mod api;
pub mod auth;
mod cluster_page;
mod error;
pub mod metrics;
mod pages;
pub mod report;
mod state;
pub mod tls;

use std::future::Future;

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;

pub use api::openapi::document_json as openapi_document;
pub use error::ApiError;
pub use state::{AppState, Clock};

/// The whole application's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        // What agents call, many times a second on a large site: matched here, outside the
        // `/api/v1` nest and its CSV layer (neither is a list), so a report passes one router
        // and one middleware less. Same guard, same policy.
        .route("/api/v1/agent/config", get(api::agent::get_config))
        .route("/api/v1/agent/reports", post(api::agent::post_reports))
        .nest("/api/v1", api::routes_with_csv())
        .merge(pages::routes())
        .merge(cluster_page::routes())
        .merge(auth::routes())
        .merge(admin::routes())
        .merge(alerts::routes())
        .merge(metrics::routes())
        .merge(agents_page::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::middleware::guard,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(
            state.auth.max_body_bytes,
        ))
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok"
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<tls::ClientAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// [`serve`] over TLS (rustls); cookies are then `Secure`.
pub async fn serve_tls(
    listener: TcpListener,
    config: std::sync::Arc<tokio_rustls::rustls::ServerConfig>,
    mut state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    state.auth.secure_cookies = true;
    let listener = tls::TlsListener::new(listener, config)?;
    let app = router(state).into_make_service_with_connect_info::<tls::ClientAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
