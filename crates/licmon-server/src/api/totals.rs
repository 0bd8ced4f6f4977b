//! Aggregates for the server page and the dashboard: sessions summed per user and per host, and
//! utilisation at a glance (in use / issued over the counted features of the current snapshot).

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use licmon_core::ServerId;
use licmon_core::snapshot::Snapshot;
use licmon_store::{SessionTotal, TotalsBy};
use serde::{Deserialize, Serialize};

use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/utilisation", get(utilisation_all))
        .route("/license-servers/{id}/users", get(users))
        .route("/license-servers/{id}/hosts", get(hosts))
}

/// In use / issued, summed over the features that are counted (uncounted features and features
/// without an issued number would make the sum meaningless).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Utilisation {
    pub id: ServerId,
    pub in_use: u64,
    pub issued: u64,
    /// When the snapshot was taken; None when the server has none.
    pub taken_at: Option<DateTime<Utc>>,
}

pub fn utilisation(id: ServerId, snapshot: Option<&Snapshot>) -> Utilisation {
    let mut u = Utilisation {
        id,
        in_use: 0,
        issued: 0,
        taken_at: snapshot.map(|s| s.taken_at),
    };
    for f in snapshot.iter().flat_map(|s| &s.features) {
        if let (false, Some(issued)) = (f.uncounted, f.issued) {
            u.in_use += f.in_use;
            u.issued += issued;
        }
    }
    u
}

/// `GET /api/v1/utilisation`: one entry per server, for the dashboard's refresh.
#[utoipa::path(get, path = "/api/v1/utilisation", tag = "usage",
    responses((status = 200, description = "in use / issued over the counted features of each visible server's current snapshot", body = [Utilisation])))]
pub async fn utilisation_all(
    State(state): State<AppState>,
    who: crate::auth::Principal,
) -> Result<Json<Vec<Utilisation>>, ApiError> {
    let mut all = Vec::new();
    let servers = state.store.list_servers().await?;
    for server in servers.into_iter().filter(|s| who.may_see_server(s.id)) {
        let snapshot = state.store.current_snapshot(server.id).await?;
        all.push(utilisation(server.id, snapshot.as_ref()));
    }
    Ok(Json(all))
}

#[derive(Debug, Deserialize)]
pub struct RangeParams {
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

/// `GET /api/v1/license-servers/{id}/users?from=&to=`: sessions per user (default: the last
/// 30 days), most hours first.
#[utoipa::path(get, path = "/api/v1/license-servers/{id}/users", tag = "usage",
    params(("id" = i64, Path, description = "license-server id"),
        ("from" = Option<DateTime<Utc>>, Query, description = "start (default: 30 days before `to`)"),
        ("to" = Option<DateTime<Utc>>, Query, description = "end (default: now)")),
    responses((status = 200, description = "sessions per user, most hours first", body = [SessionTotal]),
        (status = 400, description = "`from` is not before `to`", body = super::openapi::ErrorBody),
        (status = 404, description = "no such server", body = super::openapi::ErrorBody)))]
pub async fn users(
    state: State<AppState>,
    id: Path<ServerId>,
    range: Query<RangeParams>,
) -> Result<Json<Vec<SessionTotal>>, ApiError> {
    totals(state, id, range, TotalsBy::User).await
}

/// `GET /api/v1/license-servers/{id}/hosts?from=&to=`: sessions per host.
#[utoipa::path(get, path = "/api/v1/license-servers/{id}/hosts", tag = "usage",
    params(("id" = i64, Path, description = "license-server id"),
        ("from" = Option<DateTime<Utc>>, Query, description = "start (default: 30 days before `to`)"),
        ("to" = Option<DateTime<Utc>>, Query, description = "end (default: now)")),
    responses((status = 200, description = "sessions per host, most hours first", body = [SessionTotal]),
        (status = 400, description = "`from` is not before `to`", body = super::openapi::ErrorBody),
        (status = 404, description = "no such server", body = super::openapi::ErrorBody)))]
pub async fn hosts(
    state: State<AppState>,
    id: Path<ServerId>,
    range: Query<RangeParams>,
) -> Result<Json<Vec<SessionTotal>>, ApiError> {
    totals(state, id, range, TotalsBy::Host).await
}

async fn totals(
    State(state): State<AppState>,
    Path(id): Path<ServerId>,
    Query(p): Query<RangeParams>,
    by: TotalsBy,
) -> Result<Json<Vec<SessionTotal>>, ApiError> {
    super::history::server_or_404(&state, id).await?;
    let now = state.clock.now();
    let (from, to) = super::requested_range(p.from, p.to, now, Duration::days(30))?;
    Ok(Json(
        state.store.session_totals(id, by, from, to, now).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use licmon_core::snapshot::FeatureUsage;

    fn feature(issued: Option<u64>, in_use: u64, uncounted: bool) -> FeatureUsage {
        FeatureUsage {
            denied_total: None,
            name: "f".into(),
            vendor: None,
            issued,
            in_use,
            reserved: 0,
            borrowed: 0,
            queued: 0,
            uncounted,
            pools: Vec::new(),
        }
    }

    #[test]
    fn utilisation_sums_counted_features_only() {
        let snapshot = Snapshot {
            taken_at: DateTime::from_timestamp(0, 0).unwrap(),
            nodes: Vec::new(),
            daemons: Vec::new(),
            features: vec![
                feature(Some(10), 4, false),
                feature(Some(5), 5, false),
                feature(None, 3, false),
                feature(Some(0), 7, true),
            ],
            checkouts: Vec::new(),
        };
        let u = utilisation(1, Some(&snapshot));
        assert_eq!((u.in_use, u.issued), (9, 15));
        assert_eq!(utilisation(1, None).issued, 0);
    }
}
