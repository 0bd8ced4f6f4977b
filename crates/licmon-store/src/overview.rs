//! Servers with their derived statuses: the facts from the store, the rules from licmon-core.

use chrono::{DateTime, Duration, Utc};
use licmon_core::capacity::{CapacityEntry, over_capacity};
use licmon_core::status::{PollOutcome, ServerFacts};
use licmon_core::{LicenseServer, ServerStatuses};

use crate::{NodeHeartbeat, Store, StoreResult};

/// Installation-wide settings that statuses depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusSettings {
    pub max_license_servers: Option<u32>,
    pub agent_window: Duration,
    /// A collector whose heartbeat is older than this is taken as dead.
    pub heartbeat_timeout: Duration,
}

impl Default for StatusSettings {
    fn default() -> Self {
        Self {
            max_license_servers: None,
            agent_window: licmon_core::status::DEFAULT_AGENT_WINDOW,
            heartbeat_timeout: Duration::seconds(60),
        }
    }
}

/// One row of the dashboard.
#[derive(Debug, Clone)]
pub struct ServerOverview {
    pub server: LicenseServer,
    pub statuses: ServerStatuses,
    pub over_capacity: bool,
    /// The last time data was gathered for this server (a successful poll or import).
    pub last_update: Option<DateTime<Utc>>,
}

pub fn monitoring_running(nodes: &[NodeHeartbeat], now: DateTime<Utc>, timeout: Duration) -> bool {
    nodes
        .iter()
        .any(|n| n.collector_running && now.signed_duration_since(n.heartbeat_at) <= timeout)
}

pub async fn overviews(
    store: &dyn Store,
    now: DateTime<Utc>,
    settings: StatusSettings,
) -> StoreResult<Vec<ServerOverview>> {
    let servers = store.list_servers().await?;
    let facts = store.monitor_facts().await?;
    let running = monitoring_running(&store.nodes().await?, now, settings.heartbeat_timeout);
    let mut agents_seen: std::collections::HashMap<licmon_core::ServerId, Vec<DateTime<Utc>>> =
        std::collections::HashMap::new();
    for (id, at) in store
        .agents_last_seen(now - settings.agent_window - Duration::seconds(1))
        .await?
    {
        agents_seen.entry(id).or_default().push(at);
    }
    let capacity: Vec<CapacityEntry> = servers
        .iter()
        .map(|s| CapacityEntry {
            id: s.id,
            created_at: s.created_at,
            any_source_enabled: s.data_sources.any(),
        })
        .collect();
    let over = over_capacity(&capacity, settings.max_license_servers);
    Ok(servers
        .into_iter()
        .map(|server| {
            let fact = facts.iter().find(|f| f.server_id == server.id);
            let import_at = fact.and_then(|f| match &f.last_import {
                Some(licmon_core::status::ImportOutcome::Success { at, .. }) => Some(*at),
                _ => None,
            });
            let server_facts = ServerFacts {
                kind: server.kind,
                switches: server.data_sources,
                over_capacity: over.contains(&server.id),
                monitoring_running: running,
                verify_requested_at: server.verify_requested_at,
                last_poll: fact.and_then(|f| {
                    f.last_poll_at.map(|at| PollOutcome {
                        at,
                        error: f.last_poll_error.clone(),
                    })
                }),
                last_import: fact.and_then(|f| f.last_import.clone()),
                agents_last_seen: agents_seen.remove(&server.id).unwrap_or_default(),
            };
            let statuses = ServerStatuses::derive(&server_facts, now, settings.agent_window);
            let last_update = fact.and_then(|f| f.last_success_at).max(import_at);
            ServerOverview {
                over_capacity: server_facts.over_capacity,
                server,
                statuses,
                last_update,
            }
        })
        .collect())
}
