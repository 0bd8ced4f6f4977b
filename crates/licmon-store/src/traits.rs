//! The storage roles. Callers depend on the role they need (`&dyn ServerStore`), not on a
//! backend; `Store` is all of them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use licmon_core::server::ServerSettings;
use licmon_core::snapshot::Snapshot;
use licmon_core::status::ImportOutcome;
use licmon_core::{LicenseServer, ServerId};
use serde::Serialize;

use crate::StoreResult;

#[async_trait]
pub trait ServerStore: Send + Sync {
    /// Creates a server; its Remote status starts as Verifying. A duplicate name is `Conflict`.
    async fn create_server(
        &self,
        settings: &ServerSettings,
        now: DateTime<Utc>,
    ) -> StoreResult<LicenseServer>;
    async fn get_server(&self, id: ServerId) -> StoreResult<LicenseServer>;
    async fn find_server_by_name(&self, name: &str) -> StoreResult<LicenseServer>;
    /// All servers, oldest first.
    async fn list_servers(&self) -> StoreResult<Vec<LicenseServer>>;
    /// Replaces a server's settings; a change of connection settings starts a new verification.
    async fn update_server(
        &self,
        id: ServerId,
        settings: &ServerSettings,
        now: DateTime<Utc>,
    ) -> StoreResult<LicenseServer>;
    /// Deletes a server and everything recorded for it.
    async fn delete_server(&self, id: ServerId) -> StoreResult<()>;
    /// "Verify": back to Verifying until the next poll finishes.
    async fn request_verify(&self, id: ServerId, now: DateTime<Utc>) -> StoreResult<()>;
}

/// What a poll or an import left behind, per server, for status derivation.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorFacts {
    pub server_id: ServerId,
    pub last_poll_at: Option<DateTime<Utc>>,
    pub last_poll_error: Option<String>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_import: Option<ImportOutcome>,
}

/// A licmon node's heartbeat: which node runs, and whether its collector does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeHeartbeat {
    pub node_id: String,
    pub host: String,
    pub started_at: DateTime<Utc>,
    pub heartbeat_at: DateTime<Utc>,
    pub collector_running: bool,
}

#[async_trait]
pub trait MonitorStore: Send + Sync {
    /// Records a successful poll: opens and closes sessions by comparing with the open ones,
    /// writes feature change points and rollups, and keeps the snapshot as current usage.
    async fn record_poll_success(&self, id: ServerId, snapshot: &Snapshot) -> StoreResult<()>;
    /// Records a failed poll. It closes nothing: a failed poll is not "everyone checked in".
    async fn record_poll_failure(
        &self,
        id: ServerId,
        at: DateTime<Utc>,
        reason: &str,
    ) -> StoreResult<()>;
    async fn record_import_outcome(&self, id: ServerId, outcome: &ImportOutcome)
    -> StoreResult<()>;
    async fn monitor_facts(&self) -> StoreResult<Vec<MonitorFacts>>;
    async fn heartbeat(&self, node: &NodeHeartbeat) -> StoreResult<()>;
    async fn nodes(&self) -> StoreResult<Vec<NodeHeartbeat>>;
    /// A node that stops cleanly says so, so that Unmonitored shows at once.
    async fn remove_node(&self, node_id: &str) -> StoreResult<()>;
}

/// A session (checkout) as history keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SessionRecord {
    pub id: i64,
    pub server_id: ServerId,
    pub source: String,
    pub feature: String,
    pub user: String,
    pub host: String,
    pub display: Option<String>,
    pub version: Option<String>,
    pub count: u64,
    pub borrowed: bool,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// From end-user agents: seconds since the application last used CPU time (null: no agent
    /// reported for this session).
    pub idle_secs: Option<u64>,
    /// From end-user agents: whether the application used CPU time since the agent's last scan.
    pub active: Option<bool>,
    /// The client's IP address, where the status utility shows one (null otherwise, and for
    /// imported and agent sessions).
    pub ip: Option<String>,
    /// When a borrowed or lingering license returns to the server, as the latest poll that
    /// said so showed it (a renewed borrow moves it); null where the utility does not say.
    pub borrow_expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    Hour,
    Day,
}

impl Granularity {
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Hour => "hour",
            Granularity::Day => "day",
        }
    }

    pub fn millis(self) -> i64 {
        match self {
            Granularity::Hour => 3_600_000,
            Granularity::Day => 86_400_000,
        }
    }
}

/// One rollup bucket of one feature.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UsagePoint {
    pub feature: String,
    pub bucket_start: DateTime<Utc>,
    pub min_in_use: u64,
    pub avg_in_use: f64,
    pub max_in_use: u64,
    pub issued: Option<u64>,
    /// Polls (or agent reports) in the bucket; for a bucket from imported logs, the seconds of
    /// it the log covers.
    pub samples: u64,
    /// Computed from imported log sessions (time-weighted), not from polls. Where a bucket has
    /// both, the polls' rollup is given.
    pub imported: bool,
}

/// One change of a feature's counts: the counts from `at` until the feature's next change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FeatureChange {
    pub feature: String,
    pub at: DateTime<Utc>,
    pub issued: Option<u64>,
    pub in_use: u64,
    pub reserved: u64,
    pub borrowed: u64,
    pub queued: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionQuery {
    pub open_only: bool,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub feature: Option<String>,
    pub user: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

#[async_trait]
pub trait HistoryStore: Send + Sync {
    async fn current_snapshot(&self, id: ServerId) -> StoreResult<Option<Snapshot>>;
    async fn sessions(&self, id: ServerId, query: &SessionQuery)
    -> StoreResult<Vec<SessionRecord>>;
    async fn feature_changes(
        &self,
        id: ServerId,
        feature: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<FeatureChange>>;
    async fn usage(
        &self,
        id: ServerId,
        granularity: Granularity,
        feature: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<UsagePoint>>;
    /// The time of the last event imported for the server (where its imported logs end), None
    /// when nothing was imported.
    async fn imported_until(&self, id: ServerId) -> StoreResult<Option<DateTime<Utc>>>;
}

/// An entry of the event log (poll failures, imports, logins, administration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LoggedEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub server_id: Option<ServerId>,
    pub category: String,
    pub message: String,
}

#[async_trait]
pub trait EventLog: Send + Sync {
    async fn log_event(
        &self,
        at: DateTime<Utc>,
        server_id: Option<ServerId>,
        category: &str,
        message: &str,
    ) -> StoreResult<()>;
    /// Newest first.
    async fn recent_events(&self, limit: u32) -> StoreResult<Vec<LoggedEvent>>;
    /// The events `query` selects, newest first (time, then id: pages never overlap).
    async fn events(&self, query: &EventQuery) -> StoreResult<Vec<LoggedEvent>>;
    /// Every category logged so far, by name.
    async fn event_categories(&self) -> StoreResult<Vec<String>>;
}

/// A page of the event log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    pub category: Option<String>,
    pub server_id: Option<ServerId>,
    pub limit: u32,
    pub offset: u32,
}

/// Every role: what the server and the CLI hold.
pub trait Store:
    ServerStore
    + MonitorStore
    + HistoryStore
    + EventLog
    + crate::auth::AuthStore
    + crate::imports::ImportStore
    + crate::preferences::PreferenceStore
    + crate::session_totals::SessionTotals
    + crate::current_agent_usage::CurrentAgentUsage
    + crate::leases::LeaseStore
    + crate::agents::AgentStore
    + crate::alerts::AlertStore
    + crate::metrics::MetricsStore
{
}
