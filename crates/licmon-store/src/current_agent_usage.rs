//! What end-user agents report for a server right now, row by row: who runs which
//! application, how many instances, since when, and how long it has been idle. For network
//! license managers this is what tells an administrator which checked-out seats sit unused.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use licmon_core::ServerId;
use serde::Serialize;
use sqlx::Row;

use crate::rows::{from_millis, get_u64, millis};
use crate::{SqlStore, StoreResult};

/// One application one user runs on one agent's host, as its latest report says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AgentUsage {
    /// The agent's id (its `agent_id` setting, usually the host name).
    pub agent_id: String,
    pub host: String,
    pub user: String,
    pub feature: String,
    /// The executable the agent matched.
    pub executable: String,
    pub instances: u64,
    /// When the oldest of its instances started.
    pub started_at: DateTime<Utc>,
    /// Seconds since it last used CPU time.
    pub idle_secs: u64,
    /// When the agent reported it.
    pub reported_at: DateTime<Utc>,
}

#[async_trait]
pub trait CurrentAgentUsage: Send + Sync {
    /// The agent usage of server `id` reported after `since` (the agent window), longest idle
    /// first: the seats most worth reclaiming lead.
    async fn current_agent_usage(
        &self,
        id: ServerId,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<AgentUsage>>;
}

#[async_trait]
impl CurrentAgentUsage for SqlStore {
    async fn current_agent_usage(
        &self,
        id: ServerId,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<AgentUsage>> {
        let rows = sqlx::query(
            "SELECT a.agent_key, a.host, u.user_name, u.feature, u.executable, u.instances, \
             u.started_at, u.idle_secs, u.observed_at \
             FROM agent_usage u JOIN agents a ON a.id = u.agent_id \
             WHERE u.server_id = $1 AND u.observed_at > $2 \
             ORDER BY u.idle_secs DESC, a.host, u.user_name, u.feature, u.executable",
        )
        .bind(id)
        .bind(millis(since))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AgentUsage {
                    agent_id: row.try_get("agent_key")?,
                    host: row.try_get("host")?,
                    user: row.try_get("user_name")?,
                    feature: row.try_get("feature")?,
                    executable: row.try_get("executable")?,
                    instances: get_u64(row, "instances")?,
                    started_at: from_millis(row.try_get("started_at")?)?,
                    idle_secs: get_u64(row, "idle_secs")?,
                    reported_at: from_millis(row.try_get("observed_at")?)?,
                })
            })
            .collect()
    }
}
