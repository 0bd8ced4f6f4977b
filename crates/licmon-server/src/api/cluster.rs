//! `/api/v1/cluster`: the licmon nodes sharing this database — their heartbeats, whether their
//! collector runs, and how many license servers each polls now (valid polling leases).
//! Everything comes from the database, so every node answers the same.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use licmon_store::ClusterNode;
use serde::Serialize;

use crate::{ApiError, AppState};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NodeView {
    /// `host-pid-startms`: unique per process.
    pub id: String,
    pub host: String,
    pub started: DateTime<Utc>,
    pub last_heartbeat: DateTime<Utc>,
    /// The heartbeat is fresh: the node runs.
    pub alive: bool,
    /// The node runs a collector (not started with `--no-monitoring`), and is alive.
    pub collector_running: bool,
    /// License servers this node holds a polling lease on now.
    pub servers_held: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClusterView {
    pub nodes: Vec<NodeView>,
    /// Nodes alive with a running collector.
    pub live_collectors: usize,
    /// License servers some node holds a lease on.
    pub servers_held: u64,
}

pub fn view_of(
    nodes: Vec<ClusterNode>,
    now: DateTime<Utc>,
    timeout: chrono::Duration,
) -> ClusterView {
    let nodes: Vec<NodeView> = nodes
        .into_iter()
        .map(|n| {
            let alive = now.signed_duration_since(n.heartbeat_at) <= timeout;
            NodeView {
                id: n.node_id,
                host: n.host,
                started: n.started_at,
                last_heartbeat: n.heartbeat_at,
                alive,
                collector_running: alive && n.collector_running,
                servers_held: n.servers_held,
            }
        })
        .collect();
    ClusterView {
        live_collectors: nodes.iter().filter(|n| n.collector_running).count(),
        servers_held: nodes.iter().map(|n| n.servers_held).sum(),
        nodes,
    }
}

pub async fn cluster_of(state: &AppState) -> Result<ClusterView, ApiError> {
    let now = state.clock.now();
    let nodes = state.store.cluster_nodes(now).await?;
    Ok(view_of(nodes, now, state.status.heartbeat_timeout))
}

#[utoipa::path(get, path = "/api/v1/cluster", tag = "administration",
    responses((status = 200, description = "the licmon nodes on this database", body = ClusterView)))]
pub async fn cluster(State(state): State<AppState>) -> Result<Json<ClusterView>, ApiError> {
    Ok(Json(cluster_of(&state).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn node(id: &str, heartbeat_secs: i64, collector: bool, held: u64) -> ClusterNode {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        ClusterNode {
            node_id: id.into(),
            host: "h".into(),
            started_at: t0,
            heartbeat_at: t0 + chrono::Duration::seconds(heartbeat_secs),
            collector_running: collector,
            servers_held: held,
        }
    }

    #[test]
    fn stale_nodes_are_not_alive_and_run_no_collector() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 1, 0).unwrap();
        let view = view_of(
            vec![
                node("a", 55, true, 3),
                node("web", 58, false, 0),
                node("dead", 10, true, 0),
            ],
            now,
            chrono::Duration::seconds(20),
        );
        let flags: Vec<(bool, bool)> = view
            .nodes
            .iter()
            .map(|n| (n.alive, n.collector_running))
            .collect();
        assert_eq!(flags, vec![(true, true), (true, false), (false, false)]);
        assert_eq!((view.live_collectors, view.servers_held), (1, 3));
    }
}
