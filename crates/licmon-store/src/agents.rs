//! End-user agents ([`AgentStore`]): the registry, per-server last-seen times (End User
//! "Online (x)"), the latest usage each agent reported, the executable → feature mapping, and
//! the agent-metered usage of **Agent applications** servers turned into sessions, change points
//! and rollups.
//!
//! Invariants:
//! - A report is a whole state: an agent's rows in `agent_usage` for a server are replaced by
//!   its newest report, never merged. Freshness is the time licmon *received* it (its clock, not
//!   the agent's), so a workstation with a wrong clock cannot keep usage alive or hide it.
//! - [`AgentStore::record_agent_reports`] writes a whole batch in one transaction with
//!   multi-row statements, or on a SQLite file single-row prepared statements on the bulk
//!   connection (`sqlite_agents.rs`); the server batches what it has queued.
//! - An agent's "last seen" in the registry is the later of its `agents` row and its
//!   `agent_server_seen` rows: the SQLite writer does not rewrite an `agents` row whose identity
//!   did not change, since the report's last-seen rows carry the time.
//! - Agent-apps usage is derived from `agent_usage` rows younger than the window, the same on
//!   every node; [`AgentStore::refresh_agent_usage`] claims the server's snapshot row first, so
//!   several nodes sharing a database add one rollup sample per interval, not one each.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use licmon_core::ServerId;
use licmon_core::snapshot::{Checkout, FeatureUsage, Snapshot};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::monitor::{previous_snapshot, sync_sessions_of, upsert_rollup, write_change_points};
use crate::rows::{from_millis, get_u64, millis, opt_from_millis, placeholders};
use crate::{Backend, Granularity, SqlStore, StoreError, StoreResult};

/// Sessions made from agent reports (Agent applications servers).
pub const AGENT_SOURCE: &str = "agent";

/// An agent as the registry keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AgentRecord {
    pub id: i64,
    /// The id the agent reports (its host name unless configured otherwise).
    pub agent_id: String,
    pub host: String,
    /// The account the agent runs as.
    pub user: String,
    pub version: String,
    /// The token it last reported with.
    pub token_id: Option<i64>,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// License servers it reports for.
    pub server_ids: Vec<ServerId>,
}

/// What an agent says about itself with every document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentIdentity {
    pub agent_id: String,
    pub host: String,
    pub user: String,
    pub version: String,
    pub token_id: Option<i64>,
}

/// One application usage of one report (see `licmon_protocol::AppUsage`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentAppUsage {
    pub feature: String,
    pub executable: String,
    pub user: String,
    pub instances: u32,
    pub started_at: DateTime<Utc>,
    pub idle_secs: u64,
}

/// The newest report of one agent for one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentServerReport {
    pub server_id: ServerId,
    /// Also mark the matching open *remote* sessions (same feature, user, host) idle/active:
    /// for servers that a network license manager serves.
    pub mark_remote_sessions: bool,
    pub apps: Vec<AgentAppUsage>,
}

/// What one agent sent, as accepted: at most one report per server (the newest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentReportBatch {
    pub agent: AgentIdentity,
    pub received_at: DateTime<Utc>,
    /// A problem to put in the registry (the agent's own, or why licmon refused something).
    pub error: Option<String>,
    pub reports: Vec<AgentServerReport>,
}

/// Executables that count as a feature of a license server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AgentApp {
    pub id: i64,
    pub server_id: ServerId,
    pub feature: String,
    pub executables: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentAppInput {
    pub server_id: ServerId,
    pub feature: String,
    pub executables: Vec<String>,
}

#[async_trait]
pub trait AgentStore: Send + Sync {
    /// Registers the agents (upsert by agent id), their per-server last-seen and their current
    /// usage, in one transaction. One entry per agent id (the caller merges duplicates).
    async fn record_agent_reports(&self, batch: &[AgentReportBatch]) -> StoreResult<()>;
    /// Notes a problem with an agent without a report (e.g. a refused document).
    async fn record_agent_error(
        &self,
        agent: &AgentIdentity,
        at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()>;
    /// The registry, by agent id.
    async fn list_agents(&self) -> StoreResult<Vec<AgentRecord>>;
    async fn delete_agent(&self, id: i64) -> StoreResult<()>;
    /// Per server, when each agent last reported for it, for reports at or after `since`.
    async fn agents_last_seen(
        &self,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<(ServerId, DateTime<Utc>)>>;

    /// A duplicate (server, feature) is `Conflict`; an unknown server is `NotFound`.
    async fn create_agent_app(
        &self,
        input: &AgentAppInput,
        now: DateTime<Utc>,
    ) -> StoreResult<AgentApp>;
    /// By server, then feature.
    async fn list_agent_apps(&self) -> StoreResult<Vec<AgentApp>>;
    async fn get_agent_app(&self, id: i64) -> StoreResult<AgentApp>;
    async fn update_agent_app(
        &self,
        id: i64,
        input: &AgentAppInput,
        now: DateTime<Utc>,
    ) -> StoreResult<AgentApp>;
    async fn delete_agent_app(&self, id: i64) -> StoreResult<()>;

    /// Turns the fresh agent usage of an Agent applications server (rows received within
    /// `window` before `now`) into its current snapshot, sessions (source `agent`), change
    /// points and one rollup sample. Does nothing and returns `false` when the snapshot is
    /// younger than `min_gap` (another node, or an earlier call, did it).
    async fn refresh_agent_usage(
        &self,
        server_id: ServerId,
        now: DateTime<Utc>,
        window: Duration,
        min_gap: Duration,
    ) -> StoreResult<bool>;
}

/// Rows per multi-row statement (SQLite and PostgreSQL both allow far more parameters).
const CHUNK: usize = 100;

pub(crate) fn short_host(host: &str) -> String {
    host.split('.').next().unwrap_or(host).to_lowercase()
}

const AGENT_COLUMNS: &str = "id, agent_key, host, os_user, agent_version, token_id, first_seen_at, \
     last_seen_at, last_error, last_error_at";

fn agent_from_row(row: &AnyRow) -> StoreResult<AgentRecord> {
    Ok(AgentRecord {
        id: row.try_get("id")?,
        agent_id: row.try_get("agent_key")?,
        host: row.try_get("host")?,
        user: row.try_get("os_user")?,
        version: row.try_get("agent_version")?,
        token_id: row.try_get("token_id")?,
        first_seen_at: from_millis(row.try_get("first_seen_at")?)?,
        last_seen_at: from_millis(row.try_get("last_seen_at")?)?,
        last_error: row.try_get("last_error")?,
        last_error_at: opt_from_millis(row.try_get("last_error_at")?)?,
        server_ids: Vec::new(),
    })
}

const APP_COLUMNS: &str = "id, server_id, feature, executables, created_at, updated_at";

fn app_from_row(row: &AnyRow) -> StoreResult<AgentApp> {
    let executables: String = row.try_get("executables")?;
    Ok(AgentApp {
        id: row.try_get("id")?,
        server_id: row.try_get("server_id")?,
        feature: row.try_get("feature")?,
        executables: serde_json::from_str(&executables)
            .map_err(|e| StoreError::Corrupt(format!("agent application executables: {e}")))?,
        created_at: from_millis(row.try_get("created_at")?)?,
        updated_at: from_millis(row.try_get("updated_at")?)?,
    })
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

fn is_fk_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.kind() == sqlx::error::ErrorKind::ForeignKeyViolation)
}

fn app_write_error(e: sqlx::Error, input: &AgentAppInput) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict(format!(
            "license server {} already has an agent application named {:?}",
            input.server_id, input.feature
        ))
    } else if is_fk_violation(&e) {
        StoreError::NotFound
    } else {
        e.into()
    }
}

/// `INSERT INTO agents … VALUES` + rows of 9 + [`AGENT_UPSERT_TAIL`]: registers agents, keeps
/// the newest last-seen, replaces the error only with a new one; returns `id, agent_key`.
pub(crate) const AGENT_UPSERT_HEAD: &str = "INSERT INTO agents (agent_key, host, os_user, \
     agent_version, token_id, first_seen_at, last_seen_at, last_error, last_error_at) VALUES ";
pub(crate) const AGENT_UPSERT_TAIL: &str = " ON CONFLICT (agent_key) DO UPDATE SET \
     host = excluded.host, os_user = excluded.os_user, \
     agent_version = excluded.agent_version, token_id = excluded.token_id, \
     last_seen_at = CASE WHEN excluded.last_seen_at > agents.last_seen_at \
                    THEN excluded.last_seen_at ELSE agents.last_seen_at END, \
     last_error = CASE WHEN excluded.last_error IS NULL THEN agents.last_error ELSE excluded.last_error END, \
     last_error_at = CASE WHEN excluded.last_error IS NULL THEN agents.last_error_at ELSE excluded.last_error_at END \
     RETURNING id, agent_key";
/// `INSERT INTO agent_server_seen … VALUES` + rows of 3 + [`SEEN_UPSERT_TAIL`].
pub(crate) const SEEN_UPSERT_HEAD: &str =
    "INSERT INTO agent_server_seen (agent_id, server_id, last_seen_at) VALUES ";
pub(crate) const SEEN_UPSERT_TAIL: &str = " ON CONFLICT (agent_id, server_id) DO UPDATE SET \
     last_seen_at = CASE WHEN excluded.last_seen_at > agent_server_seen.last_seen_at \
     THEN excluded.last_seen_at ELSE agent_server_seen.last_seen_at END";
/// Sets idle seconds and active (idle 0) on open sessions; parameters `$1`..`$8` in order of
/// first use (the SQLite writer binds them by position): idle, active, server, source, feature,
/// lower-case user, lower-case host, lower-case short host (a short name matches a full one).
pub(crate) const MARK_SESSIONS: &str = "UPDATE sessions SET idle_secs = $1, active = $2 \
     WHERE server_id = $3 AND source = $4 AND ended_at IS NULL AND feature = $5 \
     AND lower(user_name) = $6 AND (lower(host) = $7 OR lower(host) = $8)";
/// `INSERT INTO agent_usage … VALUES` + rows of 10.
pub(crate) const USAGE_INSERT_HEAD: &str = "INSERT INTO agent_usage (agent_id, server_id, \
     feature, executable, user_name, host, instances, started_at, idle_secs, observed_at) VALUES ";

/// The `agents` columns of one document: received at is both first and last seen.
pub(crate) struct AgentRow<'a> {
    pub key: &'a str,
    pub host: &'a str,
    pub user: &'a str,
    pub version: &'a str,
    pub token_id: Option<i64>,
    pub at: i64,
    pub error: Option<&'a str>,
}

impl<'a> AgentRow<'a> {
    pub(crate) fn of(b: &'a AgentReportBatch) -> Self {
        Self {
            key: &b.agent.agent_id,
            host: &b.agent.host,
            user: &b.agent.user,
            version: &b.agent.version,
            token_id: b.agent.token_id,
            at: millis(b.received_at),
            error: b.error.as_deref(),
        }
    }

    pub(crate) fn error_at(&self) -> Option<i64> {
        self.error.map(|_| self.at)
    }
}

/// One `agent_usage` row; a start in the future (clock skew) is clamped to the receipt.
pub(crate) struct UsageRow<'a> {
    pub agent: i64,
    pub server: ServerId,
    pub feature: &'a str,
    pub executable: &'a str,
    pub user: &'a str,
    pub host: &'a str,
    pub instances: i64,
    pub started_at: i64,
    pub idle_secs: i64,
    pub observed_at: i64,
}

/// A network license server's sessions to mark idle or active from an agent's report.
pub(crate) struct SessionMark<'a> {
    pub server: ServerId,
    pub feature: &'a str,
    pub user: &'a str,
    pub host: &'a str,
    pub idle_secs: u64,
}

/// What a batch writes once its agents have row ids: `(agent id, received at, report)` per
/// report (its last-seen row, and whose usage it replaces), the usage rows (a report may name
/// the same feature, executable and user twice: the last one wins), and the session marks.
pub(crate) struct ReportPlan<'a> {
    pub reports: Vec<(i64, i64, &'a AgentServerReport)>,
    pub usage: Vec<UsageRow<'a>>,
    pub marks: Vec<SessionMark<'a>>,
}

/// `ids[i]` is the row id of `batch[i]`'s agent.
pub(crate) fn plan<'a>(batch: &'a [AgentReportBatch], ids: &[i64]) -> ReportPlan<'a> {
    let mut reports: Vec<(i64, i64, &AgentServerReport)> = Vec::with_capacity(batch.len());
    // (agent, server, feature, executable, user) → (received at, usage, host).
    type Key<'k> = (i64, ServerId, &'k str, &'k str, &'k str);
    let mut rows: BTreeMap<Key, (i64, &AgentAppUsage, &str)> = BTreeMap::new();
    let mut marks = Vec::new();
    for (b, &agent) in batch.iter().zip(ids) {
        let at = millis(b.received_at);
        let host = b.agent.host.as_str();
        for r in &b.reports {
            reports.push((agent, at, r));
            for app in &r.apps {
                rows.insert(
                    (agent, r.server_id, &app.feature, &app.executable, &app.user),
                    (at, app, host),
                );
                if r.mark_remote_sessions {
                    marks.push(SessionMark {
                        server: r.server_id,
                        feature: &app.feature,
                        user: &app.user,
                        host,
                        idle_secs: app.idle_secs,
                    });
                }
            }
        }
    }
    let usage = rows
        .into_iter()
        .map(
            |((agent, server, feature, executable, user), (at, app, host))| UsageRow {
                agent,
                server,
                feature,
                executable,
                user,
                host,
                instances: i64::from(app.instances),
                started_at: millis(app.started_at).min(at),
                idle_secs: app.idle_secs.min(i64::MAX as u64) as i64,
                observed_at: at,
            },
        )
        .collect();
    ReportPlan {
        reports,
        usage,
        marks,
    }
}

/// Upserts the batch's agents; returns their row ids by agent id.
async fn upsert_agents(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    batch: &[AgentReportBatch],
) -> StoreResult<HashMap<String, i64>> {
    let mut ids = HashMap::with_capacity(batch.len());
    for chunk in batch.chunks(CHUNK) {
        let sql = format!(
            "{AGENT_UPSERT_HEAD}{}{AGENT_UPSERT_TAIL}",
            placeholders(backend, chunk.len(), 9, 1)
        );
        let mut q = sqlx::query(&sql);
        for b in chunk {
            let a = AgentRow::of(b);
            q = q
                .bind(a.key)
                .bind(a.host)
                .bind(a.user)
                .bind(a.version)
                .bind(a.token_id)
                .bind(a.at)
                .bind(a.at)
                .bind(a.error)
                .bind(a.error_at());
        }
        for row in q.fetch_all(&mut **tx).await? {
            ids.insert(row.try_get("agent_key")?, row.try_get("id")?);
        }
    }
    Ok(ids)
}

#[async_trait]
impl AgentStore for SqlStore {
    async fn record_agent_reports(&self, batch: &[AgentReportBatch]) -> StoreResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        if let Some(bulk) = &self.sqlite_bulk {
            let write =
                || bulk.write(|db| crate::sqlite_agents::record(db, batch, bulk.agent_ids()));
            let mut result = write().await;
            if result.is_err() {
                // What the writer remembers may come from the rolled-back transaction.
                bulk.forget_agents();
                // A remembered agent row that another node deleted fails a foreign key: once
                // more, through the upsert (a server deleted meanwhile stays NotFound).
                if matches!(result, Err(StoreError::NotFound)) {
                    result = write().await;
                    if result.is_err() {
                        bulk.forget_agents();
                    }
                }
            }
            return result;
        }
        let backend = self.backend();
        let mut tx = self.write_tx().await?;
        let by_key = upsert_agents(&mut tx, backend, batch).await?;
        let ids: Vec<i64> = batch.iter().map(|b| by_key[&b.agent.agent_id]).collect();
        let plan = plan(batch, &ids);
        for chunk in plan.reports.chunks(CHUNK) {
            let sql = format!(
                "{SEEN_UPSERT_HEAD}{}{SEEN_UPSERT_TAIL}",
                placeholders(backend, chunk.len(), 3, 1)
            );
            let mut q = sqlx::query(&sql);
            for (agent, at, r) in chunk {
                q = q.bind(*agent).bind(r.server_id).bind(*at);
            }
            q.execute(&mut *tx).await?;
            // Replace each (agent, server)'s usage: delete per server, for the chunk's agents.
            let mut by_server: BTreeMap<ServerId, Vec<i64>> = BTreeMap::new();
            for (agent, _, r) in chunk {
                by_server.entry(r.server_id).or_default().push(*agent);
            }
            for (server, agents) in by_server {
                let sql = format!(
                    "DELETE FROM agent_usage WHERE server_id = {} AND agent_id IN {}",
                    placeholders(backend, 1, 1, 1),
                    placeholders(backend, 1, agents.len(), 2)
                );
                let mut q = sqlx::query(&sql).bind(server);
                for a in agents {
                    q = q.bind(a);
                }
                q.execute(&mut *tx).await?;
            }
        }
        for chunk in plan.usage.chunks(CHUNK) {
            let sql = format!(
                "{USAGE_INSERT_HEAD}{}",
                placeholders(backend, chunk.len(), 10, 1)
            );
            let mut q = sqlx::query(&sql);
            for u in chunk {
                q = q
                    .bind(u.agent)
                    .bind(u.server)
                    .bind(u.feature)
                    .bind(u.executable)
                    .bind(u.user)
                    .bind(u.host)
                    .bind(u.instances)
                    .bind(u.started_at)
                    .bind(u.idle_secs)
                    .bind(u.observed_at);
            }
            q.execute(&mut *tx).await?;
        }
        for m in &plan.marks {
            mark_sessions(
                &mut tx,
                m.server,
                crate::monitor::REMOTE_SOURCE,
                m.feature,
                m.user,
                m.host,
                m.idle_secs,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn record_agent_error(
        &self,
        agent: &AgentIdentity,
        at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<()> {
        let batch = [AgentReportBatch {
            agent: agent.clone(),
            received_at: at,
            error: Some(error.to_string()),
            reports: Vec::new(),
        }];
        let mut tx = self.write_tx().await?;
        upsert_agents(&mut tx, self.backend(), &batch).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_agents(&self) -> StoreResult<Vec<AgentRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {AGENT_COLUMNS} FROM agents ORDER BY agent_key, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut agents = rows
            .iter()
            .map(agent_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let seen = sqlx::query(
            "SELECT agent_id, server_id, last_seen_at FROM agent_server_seen \
             ORDER BY agent_id, server_id",
        )
        .fetch_all(&self.pool)
        .await?;
        // Per agent: its servers, and when it last reported for any of them (the SQLite writer
        // does not rewrite an `agents` row whose identity did not change).
        let mut servers: HashMap<i64, (Vec<ServerId>, i64)> = HashMap::new();
        for row in &seen {
            let entry = servers.entry(row.try_get("agent_id")?).or_default();
            entry.0.push(row.try_get("server_id")?);
            entry.1 = entry.1.max(row.try_get("last_seen_at")?);
        }
        for agent in &mut agents {
            if let Some((ids, last)) = servers.remove(&agent.id) {
                agent.server_ids = ids;
                agent.last_seen_at = agent.last_seen_at.max(from_millis(last)?);
            }
        }
        Ok(agents)
    }

    async fn delete_agent(&self, id: i64) -> StoreResult<()> {
        if let Some(bulk) = &self.sqlite_bulk {
            bulk.forget_agents();
        }
        let mut tx = self.write_tx().await?;
        for table in ["agent_usage", "agent_server_seen"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE agent_id = $1"))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let done = sqlx::query("DELETE FROM agents WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        crate::rows::touched(&done)?;
        tx.commit().await?;
        Ok(())
    }

    async fn agents_last_seen(
        &self,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<(ServerId, DateTime<Utc>)>> {
        let rows = sqlx::query(
            "SELECT server_id, last_seen_at FROM agent_server_seen WHERE last_seen_at >= $1 \
             ORDER BY server_id",
        )
        .bind(millis(since))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("server_id")?,
                    from_millis(row.try_get("last_seen_at")?)?,
                ))
            })
            .collect()
    }

    async fn create_agent_app(
        &self,
        input: &AgentAppInput,
        now: DateTime<Utc>,
    ) -> StoreResult<AgentApp> {
        let executables = serde_json::to_string(&input.executables)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let row = sqlx::query(&format!(
            "INSERT INTO agent_apps (server_id, feature, executables, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) RETURNING {APP_COLUMNS}"
        ))
        .bind(input.server_id)
        .bind(&input.feature)
        .bind(executables)
        .bind(millis(now))
        .fetch_one(&self.pool)
        .await
        .map_err(|e| app_write_error(e, input))?;
        app_from_row(&row)
    }

    async fn list_agent_apps(&self) -> StoreResult<Vec<AgentApp>> {
        let rows = sqlx::query(&format!(
            "SELECT {APP_COLUMNS} FROM agent_apps ORDER BY server_id, feature"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(app_from_row).collect()
    }

    async fn get_agent_app(&self, id: i64) -> StoreResult<AgentApp> {
        let row = sqlx::query(&format!(
            "SELECT {APP_COLUMNS} FROM agent_apps WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        app_from_row(&row)
    }

    async fn update_agent_app(
        &self,
        id: i64,
        input: &AgentAppInput,
        now: DateTime<Utc>,
    ) -> StoreResult<AgentApp> {
        let executables = serde_json::to_string(&input.executables)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let row = sqlx::query(&format!(
            "UPDATE agent_apps SET server_id = $1, feature = $2, executables = $3, updated_at = $4 \
             WHERE id = $5 RETURNING {APP_COLUMNS}"
        ))
        .bind(input.server_id)
        .bind(&input.feature)
        .bind(executables)
        .bind(millis(now))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| app_write_error(e, input))?
        .ok_or(StoreError::NotFound)?;
        app_from_row(&row)
    }

    async fn delete_agent_app(&self, id: i64) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM agent_apps WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        crate::rows::touched(&done)?;
        Ok(())
    }

    async fn refresh_agent_usage(
        &self,
        server_id: ServerId,
        now: DateTime<Utc>,
        window: Duration,
        min_gap: Duration,
    ) -> StoreResult<bool> {
        let at = millis(now);
        let mut tx = self.write_tx().await?;
        // The claim: move the snapshot's time forward unless someone did within `min_gap`.
        let claimed = sqlx::query(
            "UPDATE current_snapshots SET taken_at = $1 WHERE server_id = $2 AND taken_at <= $3",
        )
        .bind(at)
        .bind(server_id)
        .bind(millis(now - min_gap))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            let exists = sqlx::query("SELECT 1 AS one FROM current_snapshots WHERE server_id = $1")
                .bind(server_id)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_some() {
                return Ok(false);
            }
        }
        let previous = previous_snapshot(&mut tx, server_id).await?;
        let (snapshot, idles) = agent_snapshot(&mut tx, server_id, now, window).await?;
        sync_sessions_of(&mut tx, server_id, &snapshot, AGENT_SOURCE).await?;
        write_change_points(
            &mut tx,
            server_id,
            at,
            previous.as_ref(),
            &snapshot.features,
        )
        .await?;
        for feature in &snapshot.features {
            for granularity in [Granularity::Hour, Granularity::Day] {
                upsert_rollup(&mut tx, server_id, at, granularity, feature).await?;
            }
        }
        let body =
            serde_json::to_string(&snapshot).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO current_snapshots (server_id, taken_at, body) VALUES ($1, $2, $3) \
             ON CONFLICT (server_id) DO UPDATE SET taken_at = excluded.taken_at, body = excluded.body",
        )
        .bind(server_id)
        .bind(at)
        .bind(body)
        .execute(&mut *tx)
        .await?;
        // Idle/active of the agent sessions, from the freshest report per user and host.
        for (c, idle) in snapshot.checkouts.iter().zip(idles) {
            mark_sessions(
                &mut tx,
                server_id,
                AGENT_SOURCE,
                &c.feature,
                &c.user,
                &c.host,
                idle,
            )
            .await?;
        }
        sqlx::query("UPDATE license_servers SET last_success_at = $1 WHERE id = $2")
            .bind(at)
            .bind(server_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// Sets idle seconds and active (idle 0) on the open sessions of `source` that match feature,
/// user and host (case-insensitive; a short host name matches its full name).
async fn mark_sessions(
    tx: &mut Transaction<'_, Any>,
    server_id: ServerId,
    source: &str,
    feature: &str,
    user: &str,
    host: &str,
    idle_secs: u64,
) -> StoreResult<()> {
    sqlx::query(MARK_SESSIONS)
        .bind(idle_secs.min(i64::MAX as u64) as i64)
        .bind(idle_secs == 0)
        .bind(server_id)
        .bind(source)
        .bind(feature)
        .bind(user.to_lowercase())
        .bind(host.to_lowercase())
        .bind(short_host(host))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The snapshot of an Agent applications server: every configured application is a feature
/// (0 in use when nothing runs), instances are licenses in use, each (user, host) is a checkout
/// since its earliest start; with each checkout, its least idle time.
async fn agent_snapshot(
    tx: &mut Transaction<'_, Any>,
    server_id: ServerId,
    now: DateTime<Utc>,
    window: Duration,
) -> StoreResult<(Snapshot, Vec<u64>)> {
    let mut features: BTreeMap<String, u64> = BTreeMap::new();
    for row in sqlx::query("SELECT feature FROM agent_apps WHERE server_id = $1")
        .bind(server_id)
        .fetch_all(&mut **tx)
        .await?
    {
        features.insert(row.try_get("feature")?, 0);
    }
    let rows = sqlx::query(
        "SELECT feature, user_name, host, instances, started_at, idle_secs FROM agent_usage \
         WHERE server_id = $1 AND observed_at > $2 AND observed_at <= $3",
    )
    .bind(server_id)
    .bind(millis(now - window))
    .bind(millis(now))
    .fetch_all(&mut **tx)
    .await?;
    // (feature, user, host) → (instances, earliest start, least idle)
    let mut who: BTreeMap<(String, String, String), (u64, i64, u64)> = BTreeMap::new();
    for row in &rows {
        let feature: String = row.try_get("feature")?;
        let instances = get_u64(row, "instances")?;
        let started: i64 = row.try_get("started_at")?;
        let idle = get_u64(row, "idle_secs")?;
        *features.entry(feature.clone()).or_insert(0) += instances;
        let e = who
            .entry((feature, row.try_get("user_name")?, row.try_get("host")?))
            .or_insert((0, started, idle));
        e.0 += instances;
        e.1 = e.1.min(started);
        e.2 = e.2.min(idle);
    }
    let mut checkouts = Vec::with_capacity(who.len());
    let mut idles = Vec::with_capacity(who.len());
    for ((feature, user, host), (count, start, idle)) in who {
        checkouts.push(Checkout {
            feature,
            user,
            host,
            display: None,
            count,
            version: None,
            start: Some(from_millis(start)?),
            borrowed: false,
            queued: false,
            handle: None,
            ip: None,
            borrow_expires: None,
        });
        idles.push(idle);
    }
    let snapshot = Snapshot {
        taken_at: now,
        nodes: Vec::new(),
        daemons: Vec::new(),
        features: features
            .into_iter()
            .map(|(name, in_use)| FeatureUsage {
                denied_total: None,
                name,
                vendor: None,
                issued: None,
                in_use,
                reserved: 0,
                borrowed: 0,
                queued: 0,
                uncounted: false,
                pools: Vec::new(),
            })
            .collect(),
        checkouts,
    };
    Ok((snapshot, idles))
}
