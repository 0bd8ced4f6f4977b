//! Usage data of one server: current usage, sessions, usage history; and the event log.

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Duration, Utc};
use licmon_core::snapshot::Snapshot;
use licmon_core::{DataSource, ServerId};
use licmon_store::{
    EventQuery, FeatureChange, Granularity, LoggedEvent, SessionQuery, SessionRecord, UsagePoint,
};
use serde::Deserialize;

use crate::{ApiError, AppState};

pub(super) async fn server_or_404(
    state: &AppState,
    id: ServerId,
) -> Result<licmon_core::LicenseServer, ApiError> {
    state.store.get_server(id).await.map_err(|e| match e {
        licmon_store::StoreError::NotFound => {
            ApiError::NotFound(format!("no license server with id {id}"))
        }
        other => other.into(),
    })
}

/// The last successful poll. Servers without remote monitoring have no live data: the answer
/// says so instead of showing an empty list that looks like "nobody uses anything".
#[utoipa::path(get, path = "/api/v1/license-servers/{id}/usage", tag = "usage", params(("id" = i64, Path, description = "license-server id")),
    responses((status = 200, description = "the last successful poll", body = super::views::SnapshotDoc), (status = 404, description = "not polled successfully yet", body = super::openapi::ErrorBody), (status = 409, description = "this type has no live data", body = super::openapi::ErrorBody)))]
pub async fn current_usage(
    State(state): State<AppState>,
    Path(id): Path<ServerId>,
) -> Result<Json<Snapshot>, ApiError> {
    let server = server_or_404(&state, id).await?;
    // Agent applications servers have live data too: what agents report (agent_ingest.rs).
    if !server.kind.supports(DataSource::Remote)
        && server.kind != licmon_core::ManagerKind::AgentApps
    {
        return Err(ApiError::Conflict(format!(
            "{} has no live data: {} servers are not polled (remote monitoring is N/A)",
            server.name, server.kind
        )));
    }
    match state.store.current_snapshot(id).await? {
        Some(snapshot) => Ok(Json(snapshot)),
        None => Err(ApiError::NotFound(format!(
            "{} has not been polled successfully yet",
            server.name
        ))),
    }
}

#[derive(Debug, Deserialize)]
pub struct SessionParams {
    #[serde(default)]
    open: bool,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    feature: Option<String>,
    user: Option<String>,
    #[serde(default)]
    limit: u32,
    #[serde(default)]
    offset: u32,
}

#[utoipa::path(get, path = "/api/v1/license-servers/{id}/sessions", tag = "usage",
    params(("id" = i64, Path, description = "license-server id"),
        ("open" = Option<bool>, Query, description = "only sessions still open"),
        ("from" = Option<String>, Query, description = "RFC 3339 start of the range"),
        ("to" = Option<String>, Query, description = "RFC 3339 end of the range"),
        ("feature" = Option<String>, Query, description = "only this feature"),
        ("user" = Option<String>, Query, description = "only this user"),
        ("limit" = Option<u32>, Query, description = "most sessions (default 1000)"),
        ("offset" = Option<u32>, Query, description = "sessions to skip")),
    responses((status = 200, description = "session history, newest first", body = [SessionRecord])))]
pub async fn sessions(
    State(state): State<AppState>,
    Path(id): Path<ServerId>,
    Query(p): Query<SessionParams>,
) -> Result<Json<Vec<SessionRecord>>, ApiError> {
    server_or_404(&state, id).await?;
    let query = SessionQuery {
        open_only: p.open,
        from: p.from,
        to: p.to,
        feature: p.feature,
        user: p.user,
        limit: if p.limit == 0 { 1000 } else { p.limit },
        offset: p.offset,
    };
    Ok(Json(state.store.sessions(id, &query).await?))
}

#[derive(Debug, Deserialize)]
pub struct HistoryParams {
    granularity: Option<Granularity>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    feature: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/license-servers/{id}/usage-history", tag = "usage",
    params(("id" = i64, Path, description = "license-server id"),
        ("granularity" = Option<String>, Query, description = "hour or day (default: by range)"),
        ("from" = Option<String>, Query, description = "RFC 3339 (default: a day before `to`)"),
        ("to" = Option<String>, Query, description = "RFC 3339 (default: now)"),
        ("feature" = Option<String>, Query, description = "only this feature")),
    responses((status = 200, description = "rollups: min/avg/max in use, issued; buckets no poll covers are computed from imported log sessions (`imported: true`)", body = [UsagePoint])))]
pub async fn usage_history(
    State(state): State<AppState>,
    Path(id): Path<ServerId>,
    Query(p): Query<HistoryParams>,
) -> Result<Json<Vec<UsagePoint>>, ApiError> {
    server_or_404(&state, id).await?;
    let (from, to) = super::requested_range(p.from, p.to, state.clock.now(), Duration::days(1))?;
    // The granularity the range needs, unless the caller chose one.
    let granularity = p.granularity.unwrap_or(if to - from > Duration::days(3) {
        Granularity::Day
    } else {
        Granularity::Hour
    });
    Ok(Json(
        state
            .store
            .usage(id, granularity, p.feature.as_deref(), from, to)
            .await?,
    ))
}

#[derive(Debug, Deserialize)]
pub struct ChangeParams {
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    feature: Option<String>,
}

/// The longest range of change points one request returns: a busy site changes every poll.
const MAX_CHANGE_DAYS: i64 = 31;

#[utoipa::path(get, path = "/api/v1/license-servers/{id}/usage-changes", tag = "usage",
    params(("id" = i64, Path, description = "license-server id"),
        ("from" = Option<String>, Query, description = "RFC 3339 (default: a day before `to`)"),
        ("to" = Option<String>, Query, description = "RFC 3339 (default: now)"),
        ("feature" = Option<String>, Query, description = "only this feature")),
    responses((status = 200, description = "every change of a feature's issued, in use, reserved, borrowed and queued counts seen by polls, oldest first: the finest history there is", body = [FeatureChange]),
        (status = 400, description = "`from` is not before `to`, or the range is over 31 days", body = super::openapi::ErrorBody),
        (status = 404, description = "no such server", body = super::openapi::ErrorBody)))]
pub async fn usage_changes(
    State(state): State<AppState>,
    Path(id): Path<ServerId>,
    Query(p): Query<ChangeParams>,
) -> Result<Json<Vec<FeatureChange>>, ApiError> {
    server_or_404(&state, id).await?;
    let (from, to) = super::requested_range(p.from, p.to, state.clock.now(), Duration::days(1))?;
    if to - from > Duration::days(MAX_CHANGE_DAYS) {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_CHANGE_DAYS} days of change points at once; usage-history covers longer ranges"
        )));
    }
    Ok(Json(
        state
            .store
            .feature_changes(id, p.feature.as_deref(), from, to)
            .await?,
    ))
}

#[derive(Debug, Deserialize)]
pub struct EventParams {
    limit: Option<u32>,
    #[serde(default)]
    offset: u32,
    category: Option<String>,
    server_id: Option<ServerId>,
}

#[utoipa::path(get, path = "/api/v1/events", tag = "administration",
    params(("limit" = Option<u32>, Query, description = "most events (default 200)"),
        ("offset" = Option<u32>, Query, description = "events to skip"),
        ("category" = Option<String>, Query, description = "only this category, e.g. auth"),
        ("server_id" = Option<i64>, Query, description = "only events of this server")),
    responses((status = 200, description = "event log, newest first", body = [LoggedEvent])))]
pub async fn events(
    State(state): State<AppState>,
    Query(p): Query<EventParams>,
) -> Result<Json<Vec<LoggedEvent>>, ApiError> {
    let query = EventQuery {
        category: p.category,
        server_id: p.server_id,
        limit: p.limit.unwrap_or(200).min(10_000),
        offset: p.offset,
    };
    Ok(Json(state.store.events(&query).await?))
}
