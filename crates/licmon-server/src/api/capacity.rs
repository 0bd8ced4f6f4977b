//! `/api/v1/capacity`: used / limit of `max_license_servers` (SPEC §2).

use axum::Json;
use axum::extract::State;
use licmon_core::ServerId;
use licmon_core::capacity::{CapacityEntry, CapacityUsage, over_capacity};
use serde::Serialize;

use crate::{ApiError, AppState};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CapacityView {
    /// License servers that count: at least one data source on.
    pub used: u32,
    /// `max_license_servers`; `null` = unlimited.
    pub limit: Option<u32>,
    /// used / limit in percent, rounded down; `null` when unlimited.
    pub percent: Option<u32>,
    /// 90 % or more of the limit is used (the page shows it red).
    pub critical: bool,
    /// Servers the limit leaves no room for (License Exceeded), by id.
    pub over_capacity: Vec<ServerId>,
}

pub async fn capacity_of(state: &AppState) -> Result<CapacityView, ApiError> {
    let servers = state.store.list_servers().await?;
    let entries: Vec<CapacityEntry> = servers
        .iter()
        .map(|s| CapacityEntry {
            id: s.id,
            created_at: s.created_at,
            any_source_enabled: s.data_sources.any(),
        })
        .collect();
    let max = state.status.max_license_servers;
    let usage = CapacityUsage::of(&entries, max);
    let mut over: Vec<ServerId> = over_capacity(&entries, max).into_iter().collect();
    over.sort_unstable();
    Ok(CapacityView {
        used: usage.used,
        limit: usage.limit,
        percent: usage.limit.map(|l| {
            if l == 0 {
                100
            } else {
                (usage.used as u64 * 100 / l as u64) as u32
            }
        }),
        critical: usage.is_critical(),
        over_capacity: over,
    })
}

#[utoipa::path(get, path = "/api/v1/capacity", tag = "administration",
    responses((status = 200, description = "capacity used / limit", body = CapacityView)))]
pub async fn capacity(State(state): State<AppState>) -> Result<Json<CapacityView>, ApiError> {
    Ok(Json(capacity_of(&state).await?))
}
