//! `GET /api/v1/license-servers/{id}/agent-usage`: what end-user agents report for a server
//! now (within the agent window), longest idle first.

use axum::Json;
use axum::extract::{Path, State};
use licmon_core::ServerId;
use licmon_store::AgentUsage;

use crate::{ApiError, AppState};

#[utoipa::path(get, path = "/api/v1/license-servers/{id}/agent-usage", tag = "usage",
    params(("id" = i64, Path, description = "license-server id")),
    responses((status = 200, description = "per agent, user and application: instances, running since, seconds idle, when reported; only reports within the agent window (`agent_window_secs`), longest idle first", body = [AgentUsage]),
        (status = 404, description = "no such server", body = super::openapi::ErrorBody)))]
pub async fn agent_usage(
    State(state): State<AppState>,
    Path(id): Path<ServerId>,
) -> Result<Json<Vec<AgentUsage>>, ApiError> {
    super::history::server_or_404(&state, id).await?;
    let since = state.clock.now() - state.status.agent_window;
    Ok(Json(state.store.current_agent_usage(id, since).await?))
}
