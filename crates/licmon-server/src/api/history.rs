//! Usage data of one server: current usage, sessions, usage history; and the event log.

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Duration, Utc};
use licmon_core::snapshot::Snapshot;
use licmon_core::{DataSource, ServerId};
use licmon_store::{Granularity, LoggedEvent, SessionQuery, SessionRecord, UsagePoint};
use serde::Deserialize;

use crate::{ApiError, AppState};

async fn server_or_404(
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
pub async fn current_usage(
    State(state): State<AppState>,
    Path(id): Path<ServerId>,
) -> Result<Json<Snapshot>, ApiError> {
    let server = server_or_404(&state, id).await?;
    if !server.kind.supports(DataSource::Remote) {
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

pub async fn usage_history(
    State(state): State<AppState>,
    Path(id): Path<ServerId>,
    Query(p): Query<HistoryParams>,
) -> Result<Json<Vec<UsagePoint>>, ApiError> {
    server_or_404(&state, id).await?;
    let to = p.to.unwrap_or_else(|| state.clock.now());
    let from = p.from.unwrap_or(to - Duration::days(1));
    if from >= to {
        return Err(ApiError::BadRequest("`from` must be before `to`".into()));
    }
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
pub struct EventParams {
    limit: Option<u32>,
}

pub async fn events(
    State(state): State<AppState>,
    Query(p): Query<EventParams>,
) -> Result<Json<Vec<LoggedEvent>>, ApiError> {
    Ok(Json(
        state
            .store
            .recent_events(p.limit.unwrap_or(200).min(10_000))
            .await?,
    ))
}
