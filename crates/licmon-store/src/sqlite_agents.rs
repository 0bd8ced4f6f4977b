//! SQLite's writer for agent report batches: the same rows, statements and single transaction
//! as the portable path in `agents.rs` ([`crate::AgentStore::record_agent_reports`]), run as
//! prepared single-row statements on the raw handle of the bulk connection (`sqlite_bulk.rs`).
//! Thousands of reports per transaction cost one handoff to SQLite instead of one per
//! statement, and no parameter is copied into an owned value first.
//!
//! An agent already registered is updated by its row id ([`AgentIds`], remembered from earlier
//! writes) instead of through the `agent_key` upsert: the same columns change the same way
//! ([`UPDATE_AGENT`] mirrors [`AGENT_UPSERT_TAIL`]). When nothing but the time would change —
//! same host, user, version and token as this connection last wrote, no error, at least one
//! server report — the `agents` row is not written at all: the report's `agent_server_seen`
//! rows carry the time, and `list_agents` shows the later of the two. An id that no longer
//! matches a row (the agent was deleted, or the transaction that registered it rolled back)
//! updates nothing, or fails the batch's foreign keys; then the map is forgotten and the agent
//! goes through the upsert again (`record_agent_reports` retries such a batch once). Any failed
//! batch forgets the map too: what it learnt may belong to the rolled-back transaction.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::agents::{
    AGENT_UPSERT_HEAD, AGENT_UPSERT_TAIL, AgentReportBatch, AgentRow, MARK_SESSIONS,
    SEEN_UPSERT_HEAD, SEEN_UPSERT_TAIL, USAGE_INSERT_HEAD, plan, short_host,
};
use crate::sqlite_bulk::Db;
use crate::{StoreError, StoreResult};

/// What this connection last wrote of each agent, by agent id; at most [`MAX_KNOWN_AGENTS`].
pub(crate) type AgentIds = HashMap<String, KnownAgent>;

/// An agent's row id and the identity columns last written.
pub(crate) struct KnownAgent {
    id: i64,
    host: String,
    user: String,
    version: String,
    token_id: Option<i64>,
}

impl KnownAgent {
    fn of(id: i64, a: &AgentRow<'_>) -> Self {
        Self {
            id,
            host: a.host.to_string(),
            user: a.user.to_string(),
            version: a.version.to_string(),
            token_id: a.token_id,
        }
    }

    /// Whether writing `a` would change nothing but the last-seen time.
    fn unchanged(&self, a: &AgentRow<'_>) -> bool {
        a.error.is_none()
            && self.host == a.host
            && self.user == a.user
            && self.version == a.version
            && self.token_id == a.token_id
    }
}

/// A site with more agents than this goes through the upsert for the rest.
const MAX_KNOWN_AGENTS: usize = 1_000_000;

/// The conflict branch of the agent upsert, by row id: newest last-seen kept, the error
/// replaced only by a new one.
const UPDATE_AGENT: &str = "UPDATE agents SET host = ?2, os_user = ?3, agent_version = ?4, \
     token_id = ?5, last_seen_at = MAX(last_seen_at, ?6), \
     last_error = CASE WHEN ?7 IS NULL THEN last_error ELSE ?7 END, \
     last_error_at = CASE WHEN ?7 IS NULL THEN last_error_at ELSE ?6 END \
     WHERE id = ?1";

/// Writes the batch inside the caller's transaction.
pub(crate) fn record(
    db: &Db,
    batch: &[AgentReportBatch],
    known: &Mutex<AgentIds>,
) -> StoreResult<()> {
    let mut known = known
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let upsert_sql =
        format!("{AGENT_UPSERT_HEAD}(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9){AGENT_UPSERT_TAIL}");
    let mut upsert = db.prepare(&upsert_sql)?;
    let mut update = db.prepare(UPDATE_AGENT)?;
    let mut ids: Vec<i64> = Vec::with_capacity(batch.len());
    for b in batch {
        let a = AgentRow::of(b);
        if let Some(k) = known.get(a.key) {
            let id = k.id;
            if !b.reports.is_empty() && k.unchanged(&a) {
                ids.push(id);
                continue;
            }
            update.bind_i64(1, id)?;
            update.bind_text(2, a.host)?;
            update.bind_text(3, a.user)?;
            update.bind_text(4, a.version)?;
            update.bind_opt_i64(5, a.token_id)?;
            update.bind_i64(6, a.at)?;
            update.bind_opt_text(7, a.error)?;
            if update.run()? == 1 {
                ids.push(id);
                known.insert(b.agent.agent_id.clone(), KnownAgent::of(id, &a));
                continue;
            }
            known.remove(a.key);
        }
        upsert.bind_text(1, a.key)?;
        upsert.bind_text(2, a.host)?;
        upsert.bind_text(3, a.user)?;
        upsert.bind_text(4, a.version)?;
        upsert.bind_opt_i64(5, a.token_id)?;
        upsert.bind_i64(6, a.at)?;
        upsert.bind_i64(7, a.at)?;
        upsert.bind_opt_text(8, a.error)?;
        upsert.bind_opt_i64(9, a.error_at())?;
        let id = upsert.step_row()?.ok_or_else(|| {
            StoreError::Unavailable(format!("SQLite returned no id for agent {:?}", a.key))
        })?;
        // The statement's end (and reset) after its one RETURNING row.
        upsert.run()?;
        ids.push(id);
        if known.len() < MAX_KNOWN_AGENTS {
            known.insert(b.agent.agent_id.clone(), KnownAgent::of(id, &a));
        }
    }
    drop((upsert, update));
    let plan = plan(batch, &ids);

    // Most reports come from agents seen before: update first, insert when there is no row.
    let mut touch_seen = db.prepare(
        "UPDATE agent_server_seen SET last_seen_at = MAX(last_seen_at, ?3) \
         WHERE agent_id = ?1 AND server_id = ?2",
    )?;
    let seen_sql = format!("{SEEN_UPSERT_HEAD}(?1, ?2, ?3){SEEN_UPSERT_TAIL}");
    let mut seen = db.prepare(&seen_sql)?;
    for (agent, at, r) in &plan.reports {
        touch_seen.bind_i64(1, *agent)?;
        touch_seen.bind_i64(2, r.server_id)?;
        touch_seen.bind_i64(3, *at)?;
        if touch_seen.run()? == 0 {
            seen.bind_i64(1, *agent)?;
            seen.bind_i64(2, r.server_id)?;
            seen.bind_i64(3, *at)?;
            seen.run()?;
        }
    }
    drop((touch_seen, seen));

    // A report is a whole state: its rows are written (in place when the agent reported the
    // same application before), then whatever else the agent had said for that server goes.
    // Every row of a report carries the report's receipt time, so "else" is a different time
    // (two documents of one agent received in the same millisecond and committed separately
    // could leave a stale row until the agent's next report).
    let mut update = db.prepare(
        "UPDATE agent_usage SET host = ?6, instances = ?7, started_at = ?8, idle_secs = ?9, \
         observed_at = ?10 WHERE agent_id = ?1 AND server_id = ?2 AND feature = ?3 \
         AND executable = ?4 AND user_name = ?5",
    )?;
    let usage_sql = format!("{USAGE_INSERT_HEAD}(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    let mut insert = db.prepare(&usage_sql)?;
    for u in &plan.usage {
        for stmt in [&mut update, &mut insert] {
            stmt.bind_i64(1, u.agent)?;
            stmt.bind_i64(2, u.server)?;
            stmt.bind_text(3, u.feature)?;
            stmt.bind_text(4, u.executable)?;
            stmt.bind_text(5, u.user)?;
            stmt.bind_text(6, u.host)?;
            stmt.bind_i64(7, u.instances)?;
            stmt.bind_i64(8, u.started_at)?;
            stmt.bind_i64(9, u.idle_secs)?;
            stmt.bind_i64(10, u.observed_at)?;
            if stmt.run()? == 1 {
                break;
            }
        }
    }
    drop((update, insert));
    let mut stale = db.prepare(
        "DELETE FROM agent_usage WHERE agent_id = ?1 AND server_id = ?2 AND observed_at <> ?3",
    )?;
    for (agent, at, r) in &plan.reports {
        stale.bind_i64(1, *agent)?;
        stale.bind_i64(2, r.server_id)?;
        stale.bind_i64(3, *at)?;
        stale.run()?;
    }
    drop(stale);

    if plan.marks.is_empty() {
        return Ok(());
    }
    // Lower-cased copies live as long as the statement binds them without a copy.
    let lowered: Vec<(String, String, String)> = plan
        .marks
        .iter()
        .map(|m| {
            (
                m.user.to_lowercase(),
                m.host.to_lowercase(),
                short_host(m.host),
            )
        })
        .collect();
    let mut mark = db.prepare(MARK_SESSIONS)?;
    for (m, (user, host, short)) in plan.marks.iter().zip(&lowered) {
        mark.bind_i64(1, m.idle_secs.min(i64::MAX as u64) as i64)?;
        mark.bind_i64(2, i64::from(m.idle_secs == 0))?;
        mark.bind_i64(3, m.server)?;
        mark.bind_text(4, crate::monitor::REMOTE_SOURCE)?;
        mark.bind_text(5, m.feature)?;
        mark.bind_text(6, user)?;
        mark.bind_text(7, host)?;
        mark.bind_text(8, short)?;
        mark.run()?;
    }
    Ok(())
}
