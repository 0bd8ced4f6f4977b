//! `/api/v1`: JSON resources.

mod accounts;
pub mod agent;
mod agent_usage;
mod body;
pub mod capacity;
pub mod cluster;
mod csv;
pub mod denials;
mod history;
pub mod imports;
pub mod openapi;
pub mod paging;
pub mod reports;
mod servers;
pub mod totals;
pub mod views;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

/// The range `[from, to)` a request asks for: `to` defaults to `now`, `from` to `span` before
/// `to`; a range that is empty or backwards is a 400.
pub(crate) fn requested_range(
    from: Option<chrono::DateTime<chrono::Utc>>,
    to: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
    span: chrono::Duration,
) -> Result<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>), crate::ApiError> {
    let to = to.unwrap_or(now);
    let from = from.unwrap_or(to - span);
    if from >= to {
        return Err(crate::ApiError::BadRequest(
            "`from` must be before `to`".into(),
        ));
    }
    Ok((from, to))
}

/// `/api/v1` with CSV for every list (see `csv.rs`).
pub fn routes_with_csv() -> Router<AppState> {
    routes().layer(axum::middleware::from_fn(csv::negotiate))
}

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
            "/license-servers/{id}/agent-usage",
            get(agent_usage::agent_usage),
        )
        .route(
            "/license-servers/{id}/usage-history",
            get(history::usage_history),
        )
        .route(
            "/license-servers/{id}/usage-changes",
            get(history::usage_changes),
        )
        .route("/events", get(history::events))
        .route("/cluster", get(cluster::cluster))
        .merge(accounts_routes())
        .merge(totals::routes())
        .merge(reports::routes())
        .merge(imports::routes())
        .merge(denials::routes())
        .merge(agent::routes())
        .fallback(not_found)
}

fn accounts_routes() -> Router<AppState> {
    Router::new()
        .route("/me", get(accounts::me))
        .route(
            "/users",
            get(accounts::list_users).post(accounts::create_user),
        )
        .route(
            "/users/{id}",
            get(accounts::get_user)
                .put(accounts::update_user)
                .delete(accounts::delete_user),
        )
        .route(
            "/tokens",
            get(accounts::list_tokens).post(accounts::create_token),
        )
        .route(
            "/tokens/{id}",
            axum::routing::delete(accounts::revoke_token),
        )
        .route("/capacity", get(capacity::capacity))
        .route("/openapi.json", get(openapi::document))
}

async fn not_found() -> crate::ApiError {
    crate::ApiError::NotFound("no such API resource; see /api/v1/license-servers".into())
}
