//! `/api/v1/reports/...`: reports across license servers (see `crate::report`).

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use licmon_core::ServerId;
use serde::Deserialize;

use crate::auth::Principal;
use crate::report::{self, FeatureUsageRow, ReportRange};
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new().route("/reports/feature-usage", get(feature_usage))
}

#[derive(Debug, Deserialize)]
pub struct FeatureUsageParams {
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    server_id: Option<ServerId>,
}

/// `GET /api/v1/reports/feature-usage?from=&to=&server_id=`: per server and feature, seats
/// issued, peak and average in use, time at capacity, seats never used, users, license hours
/// and denials over the range.
#[utoipa::path(get, path = "/api/v1/reports/feature-usage", tag = "usage",
    params(
        ("from" = Option<DateTime<Utc>>, Query, description = "start (default: 30 days before `to`)"),
        ("to" = Option<DateTime<Utc>>, Query, description = "end, exclusive (default: now)"),
        ("server_id" = Option<i64>, Query, description = "one server only (default: every server the caller may see)")),
    responses((status = 200, description = "one row per server and feature, servers by name, features by name; periods are hours for ranges up to 93 days, days beyond", body = [FeatureUsageRow]),
        (status = 400, description = "`from` is not before `to`", body = super::openapi::ErrorBody),
        (status = 404, description = "no such server", body = super::openapi::ErrorBody)))]
pub async fn feature_usage(
    State(state): State<AppState>,
    who: Principal,
    Query(p): Query<FeatureUsageParams>,
) -> Result<Json<Vec<FeatureUsageRow>>, ApiError> {
    let now = state.clock.now();
    let (from, to) = super::requested_range(p.from, p.to, now, Duration::days(30))?;
    let mut servers: Vec<_> = state
        .store
        .list_servers()
        .await?
        .into_iter()
        .filter(|s| who.may_see_server(s.id) && p.server_id.is_none_or(|id| id == s.id))
        .collect();
    if let Some(id) = p.server_id
        && servers.is_empty()
    {
        return Err(ApiError::NotFound(format!(
            "no license server with id {id}"
        )));
    }
    servers.sort_by(|a, b| a.name.cmp(&b.name));
    let range = ReportRange { from, to, now };
    Ok(Json(report::feature_usage(&state, &servers, range).await?))
}
