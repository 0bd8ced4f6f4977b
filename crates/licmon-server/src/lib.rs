//! licmon's HTTP server: the REST API under `/api/v1`, server-rendered pages, and the assets,
//! all built into the binary (sites run air-gapped: nothing is fetched from the internet).
//!
//! Invariant: handlers translate between HTTP and the domain; the rules themselves (validation,
//! statuses, capacity) live in licmon-core and the store.

mod api;
mod error;
mod pages;
mod state;

use std::future::Future;

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;

pub use error::ApiError;
pub use state::{AppState, Clock};

/// The whole application's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .nest("/api/v1", api::routes())
        .merge(pages::routes())
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
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
