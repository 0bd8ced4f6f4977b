//! `/api/v1`: JSON resources.

mod body;
mod history;
mod servers;
pub mod views;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/license-servers", get(servers::list).post(servers::create))
        .route(
            "/license-servers/{id}",
            get(servers::get_one)
                .put(servers::replace)
                .delete(servers::delete),
        )
        .route("/license-servers/{id}/verify", post(servers::verify))
        .route("/license-servers/{id}/usage", get(history::current_usage))
        .route("/license-servers/{id}/sessions", get(history::sessions))
        .route(
            "/license-servers/{id}/usage-history",
            get(history::usage_history),
        )
        .route("/events", get(history::events))
        .fallback(not_found)
}

async fn not_found() -> crate::ApiError {
    crate::ApiError::NotFound("no such API resource; see /api/v1/license-servers".into())
}
