//! The JSON shape of resources, shared by the API and the pages' CSV/JS.

use chrono::{DateTime, Utc};
use licmon_core::{DataSourceSwitches, LicenseServer, ManagerKind};
use licmon_store::ServerOverview;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatusStrings {
    pub remote: String,
    pub import: String,
    pub end_user: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatusReasons {
    pub remote: Option<String>,
    pub import: Option<String>,
    pub end_user: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ServerView {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    #[schema(value_type = String, example = "flexnet")]
    pub kind: ManagerKind,
    pub type_name: &'static str,
    pub vendor: String,
    pub address: Option<String>,
    pub triad: bool,
    pub description: String,
    pub time_zone: String,
    pub query_interval_secs: u32,
    pub utility_path: Option<String>,
    #[schema(value_type = DataSourcesDoc)]
    pub data_sources: DataSourceSwitches,
    pub statuses: StatusStrings,
    pub status_reasons: StatusReasons,
    pub last_update: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ServerView {
    pub fn from_overview(o: &ServerOverview) -> Self {
        let s: &LicenseServer = &o.server;
        Self {
            id: s.id,
            name: s.name.clone(),
            kind: s.kind,
            type_name: s.kind.display_name(),
            vendor: s.vendor.clone(),
            address: s.address.as_ref().map(|a| a.to_string()),
            triad: s.is_triad(),
            description: s.description.clone(),
            time_zone: s.time_zone.name().to_string(),
            query_interval_secs: s.query_interval_secs,
            utility_path: s.utility_path.clone(),
            data_sources: s.data_sources,
            statuses: StatusStrings {
                remote: o.statuses.remote.label(),
                import: o.statuses.import.label(),
                end_user: o.statuses.end_user.label(),
            },
            status_reasons: StatusReasons {
                remote: o.statuses.remote.reason(),
                import: o.statuses.import.reason(),
                end_user: o.statuses.end_user.reason(),
            },
            last_update: o.last_update,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// The data-source switches (documentation of `licmon_core::DataSourceSwitches`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DataSourcesDoc {
    pub remote: bool,
    pub import: bool,
    pub end_user: bool,
}

/// Optional switches of a server input.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DataSourcesInputDoc {
    pub remote: Option<bool>,
    pub import: Option<bool>,
    pub end_user: Option<bool>,
}

/// A license server to create or replace (documentation of `LicenseServerInput`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ServerInputDoc {
    pub name: String,
    /// License-manager type id, e.g. `flexnet`, `rlm`, `lmx`.
    #[serde(rename = "type")]
    pub kind: String,
    pub vendor: Option<String>,
    /// `port@host`, or three of them comma-separated for a redundant triad.
    pub address: Option<String>,
    pub description: Option<String>,
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub time_zone: Option<String>,
    /// Seconds between polls (at least 10; default 120).
    pub query_interval_secs: Option<i64>,
    pub utility_path: Option<String>,
    pub data_sources: Option<DataSourcesInputDoc>,
}

/// Current usage from the last successful poll (documentation of `licmon_core::Snapshot`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SnapshotDoc {
    pub taken_at: DateTime<Utc>,
    /// Server nodes (up/down, master).
    pub nodes: Vec<serde_json::Value>,
    /// Vendor daemons (up/down, version).
    pub daemons: Vec<serde_json::Value>,
    /// Features: issued, in use, reserved, borrowed, queued, expiry.
    pub features: Vec<serde_json::Value>,
    /// Who has what checked out.
    pub checkouts: Vec<licmon_core::snapshot::Checkout>,
}
