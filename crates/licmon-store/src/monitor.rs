//! Poll and import outcomes, and node heartbeats.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use licmon_core::ServerId;
use licmon_core::snapshot::{Checkout, FeatureUsage, Snapshot};
use licmon_core::status::ImportOutcome;
use sqlx::{Any, Row, Transaction};

use crate::counted_denials::{counted_denials, insert_counted_denials};
use crate::rows::{from_millis, get_bool, millis, opt_from_millis};
use crate::{
    Granularity, MonitorFacts, MonitorStore, NodeHeartbeat, SqlStore, StoreError, StoreResult,
};

/// Sessions seen by remote polling; imports and agents use their own source names.
pub const REMOTE_SOURCE: &str = "remote";

#[async_trait]
impl MonitorStore for SqlStore {
    async fn record_poll_success(&self, id: ServerId, snapshot: &Snapshot) -> StoreResult<()> {
        let at = millis(snapshot.taken_at);
        let body =
            serde_json::to_string(snapshot).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.write_tx().await?;
        let previous = previous_snapshot(&mut tx, id).await?;
        sync_sessions_of(&mut tx, id, snapshot, REMOTE_SOURCE).await?;
        write_change_points(&mut tx, id, at, previous.as_ref(), &snapshot.features).await?;
        let denials = counted_denials(previous.as_ref(), snapshot);
        insert_counted_denials(&mut tx, id, snapshot.taken_at, &denials).await?;
        upsert_rollups(&mut tx, id, at, &snapshot.features).await?;
        sqlx::query(
            "INSERT INTO current_snapshots (server_id, taken_at, body) VALUES ($1, $2, $3) \
             ON CONFLICT (server_id) DO UPDATE SET taken_at = excluded.taken_at, body = excluded.body",
        )
        .bind(id)
        .bind(at)
        .bind(body)
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query(
            "UPDATE license_servers SET last_poll_at = $1, last_poll_error = NULL, last_success_at = $1 WHERE id = $2",
        )
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        crate::rows::touched(&done)?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_poll_failure(
        &self,
        id: ServerId,
        at: DateTime<Utc>,
        reason: &str,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE license_servers SET last_poll_at = $1, last_poll_error = $2 WHERE id = $3",
        )
        .bind(millis(at))
        .bind(reason)
        .bind(id)
        .execute(&self.pool)
        .await?;
        crate::rows::touched(&done)?;
        Ok(())
    }

    async fn record_import_outcome(
        &self,
        id: ServerId,
        outcome: &ImportOutcome,
    ) -> StoreResult<()> {
        let body =
            serde_json::to_string(outcome).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let done = sqlx::query("UPDATE license_servers SET last_import = $1 WHERE id = $2")
            .bind(body)
            .bind(id)
            .execute(&self.pool)
            .await?;
        crate::rows::touched(&done)?;
        Ok(())
    }

    async fn monitor_facts(&self) -> StoreResult<Vec<MonitorFacts>> {
        let rows = sqlx::query(
            "SELECT id, last_poll_at, last_poll_error, last_success_at, last_import FROM license_servers ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let last_import: Option<String> = row.try_get("last_import")?;
                Ok(MonitorFacts {
                    server_id: row.try_get("id")?,
                    last_poll_at: opt_from_millis(row.try_get("last_poll_at")?)?,
                    last_poll_error: row.try_get("last_poll_error")?,
                    last_success_at: opt_from_millis(row.try_get("last_success_at")?)?,
                    last_import: last_import
                        .map(|j| {
                            serde_json::from_str(&j).map_err(|e| StoreError::Corrupt(e.to_string()))
                        })
                        .transpose()?,
                })
            })
            .collect()
    }

    async fn heartbeat(&self, node: &NodeHeartbeat) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO monitor_nodes (node_id, host, started_at, heartbeat_at, collector_running) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (node_id) DO UPDATE SET \
             heartbeat_at = excluded.heartbeat_at, collector_running = excluded.collector_running",
        )
        .bind(&node.node_id)
        .bind(&node.host)
        .bind(millis(node.started_at))
        .bind(millis(node.heartbeat_at))
        .bind(node.collector_running)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn nodes(&self) -> StoreResult<Vec<NodeHeartbeat>> {
        let rows = sqlx::query(
            "SELECT node_id, host, started_at, heartbeat_at, collector_running FROM monitor_nodes ORDER BY started_at",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(NodeHeartbeat {
                    node_id: row.try_get("node_id")?,
                    host: row.try_get("host")?,
                    started_at: from_millis(row.try_get("started_at")?)?,
                    heartbeat_at: from_millis(row.try_get("heartbeat_at")?)?,
                    collector_running: get_bool(row, "collector_running")?,
                })
            })
            .collect()
    }

    async fn remove_node(&self, node_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM monitor_nodes WHERE node_id = $1")
            .bind(node_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

pub(crate) async fn previous_snapshot(
    tx: &mut Transaction<'_, Any>,
    id: ServerId,
) -> StoreResult<Option<Snapshot>> {
    let row = sqlx::query("SELECT body FROM current_snapshots WHERE server_id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    match row {
        None => Ok(None),
        Some(row) => {
            let body: String = row.try_get("body")?;
            // A snapshot written by an older licmon that no longer reads is not worth failing a
            // poll over: change points are simply written afresh.
            Ok(serde_json::from_str(&body).ok())
        }
    }
}

/// Session keys of one snapshot. Identical checkouts (same user, host, display, start, no
/// handle) are told apart by their occurrence number.
fn keyed_checkouts(snapshot: &Snapshot) -> HashMap<String, &Checkout> {
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut keyed = HashMap::new();
    for checkout in snapshot.checkouts.iter().filter(|c| !c.queued) {
        let base = checkout.key();
        let n = seen.entry(base.clone()).or_insert(0);
        *n += 1;
        keyed.insert(format!("{base}#{n}"), checkout);
    }
    keyed
}

/// Opens sessions that appeared and closes those that are gone, against the sessions still
/// open in the database (not the previous snapshot, so that nothing is lost across restarts).
/// `source`: remote polls, or agent reports (`agents.rs`).
pub(crate) async fn sync_sessions_of(
    tx: &mut Transaction<'_, Any>,
    id: ServerId,
    snapshot: &Snapshot,
    source: &str,
) -> StoreResult<()> {
    let at = millis(snapshot.taken_at);
    let open = sqlx::query(
        "SELECT id, session_key, ip, borrow_expires_at FROM sessions \
         WHERE server_id = $1 AND source = $2 AND ended_at IS NULL",
    )
    .bind(id)
    .bind(source)
    .fetch_all(&mut **tx)
    .await?;
    let current = keyed_checkouts(snapshot);
    let mut still_open = HashSet::new();
    let mut ended = Vec::new();
    let mut refreshed = Vec::new();
    for row in &open {
        let key: String = row.try_get("session_key")?;
        let session_id: i64 = row.try_get("id")?;
        match current.get(&key) {
            Some(checkout) => {
                let stored: Details = (row.try_get("ip")?, row.try_get("borrow_expires_at")?);
                if let Some(details) = refreshed_details(stored, checkout) {
                    refreshed.push((session_id, details));
                }
                still_open.insert(key);
            }
            None => ended.push(session_id),
        }
    }
    refresh_details(tx, &refreshed).await?;
    // Multi-row statements: one round trip per chunk, not per session (the poll path of a
    // 10,000-server site, see BENCHMARKS.md).
    for chunk in ended.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "UPDATE sessions SET ended_at = $1 WHERE id IN ({})",
            (2..chunk.len() + 2)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut q = sqlx::query(&sql).bind(at);
        for session_id in chunk {
            q = q.bind(*session_id);
        }
        q.execute(&mut **tx).await?;
    }
    let mut opened: Vec<(&String, &&Checkout)> = current
        .iter()
        .filter(|(key, _)| !still_open.contains(*key))
        .collect();
    opened.sort_by(|a, b| a.0.cmp(b.0));
    for chunk in opened.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO sessions (server_id, source, session_key, feature, user_name, host, display, \
             version, count, borrowed, started_at, ip, borrow_expires_at) VALUES {}",
            values(chunk.len(), 13)
        );
        let mut q = sqlx::query(&sql);
        for (key, c) in chunk {
            // A start in the future (clock skew between hosts) is clamped to the poll.
            let started = c.start.map(millis).unwrap_or(at).min(at);
            q = q
                .bind(id)
                .bind(source)
                .bind(*key)
                .bind(&c.feature)
                .bind(&c.user)
                .bind(&c.host)
                .bind(c.display.clone())
                .bind(c.version.clone())
                .bind(c.count as i64)
                .bind(c.borrowed)
                .bind(started)
                .bind(c.ip.clone())
                .bind(c.borrow_expires.map(millis));
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// A still-open session's IP and borrow expiry (Unix ms) as stored.
type Details = (Option<String>, Option<i64>);

/// What to store for a session that is still open, if it changed. A value the poll shows
/// replaces the stored one (a renewed borrow moves its expiry); a poll that shows none keeps
/// the stored one, so that one output without it (FlexNet's expiry needs a start time it could
/// resolve) does not erase what an earlier poll said. Sessions opened before migration 0009
/// get their values from the first poll after it.
fn refreshed_details(stored: Details, checkout: &Checkout) -> Option<Details> {
    let ip = checkout.ip.clone().or_else(|| stored.0.clone());
    let expires = checkout.borrow_expires.map(millis).or(stored.1);
    ((ip.as_ref(), expires) != (stored.0.as_ref(), stored.1)).then_some((ip, expires))
}

/// Writes [`refreshed_details`], one statement per changed session: renewals are rare, so
/// the common poll (nothing changed) costs nothing here.
async fn refresh_details(
    tx: &mut Transaction<'_, Any>,
    refreshed: &[(i64, Details)],
) -> StoreResult<()> {
    for (session_id, (ip, expires)) in refreshed {
        sqlx::query("UPDATE sessions SET ip = $1, borrow_expires_at = $2 WHERE id = $3")
            .bind(ip.clone())
            .bind(*expires)
            .bind(*session_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Rows per multi-row statement: well below both backends' bind-parameter limits.
const ROWS_PER_STATEMENT: usize = 100;

/// `($1, ..., $w), ($w+1, ...), ...` for `rows` rows of `width` values.
fn values(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let cols: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", cols.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// issued, in use, reserved, borrowed, queued: what a change point records.
type Counts = (Option<u64>, u64, u64, u64, u64);

fn counts(f: &FeatureUsage) -> Counts {
    (f.issued, f.in_use, f.reserved, f.borrowed, f.queued)
}

/// Change points: a row when a feature's counts differ from the previous snapshot, and a zero
/// row when a feature disappears from the output.
pub(crate) async fn write_change_points(
    tx: &mut Transaction<'_, Any>,
    id: ServerId,
    at: i64,
    previous: Option<&Snapshot>,
    features: &[FeatureUsage],
) -> StoreResult<()> {
    let before: HashMap<&str, &FeatureUsage> = previous
        .map(|p| p.features.iter().map(|f| (f.name.as_str(), f)).collect())
        .unwrap_or_default();
    let now_names: HashSet<&str> = features.iter().map(|f| f.name.as_str()).collect();
    let mut changes: Vec<(&str, Counts)> = features
        .iter()
        .filter(|f| {
            before
                .get(f.name.as_str())
                .is_none_or(|b| counts(b) != counts(f))
        })
        .map(|f| (f.name.as_str(), counts(f)))
        .collect();
    changes.extend(
        before
            .keys()
            .filter(|n| !now_names.contains(*n))
            .map(|n| (*n, (None, 0, 0, 0, 0))),
    );
    for chunk in changes.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO feature_changes (server_id, feature, at, issued, in_use, reserved, borrowed, queued) \
             VALUES {}",
            values(chunk.len(), 8)
        );
        let mut q = sqlx::query(&sql);
        for (name, (issued, in_use, reserved, borrowed, queued)) in chunk {
            q = q
                .bind(id)
                .bind(*name)
                .bind(at)
                .bind(issued.map(|v| v as i64))
                .bind(*in_use as i64)
                .bind(*reserved as i64)
                .bind(*borrowed as i64)
                .bind(*queued as i64);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// [`upsert_rollup`] for every feature and both granularities, in multi-row statements. A
/// snapshot naming a feature twice takes the one-row path: an upsert may not touch a row twice.
pub(crate) async fn upsert_rollups(
    tx: &mut Transaction<'_, Any>,
    id: ServerId,
    at: i64,
    features: &[FeatureUsage],
) -> StoreResult<()> {
    let names: HashSet<&str> = features.iter().map(|f| f.name.as_str()).collect();
    if names.len() != features.len() {
        for feature in features {
            for granularity in [Granularity::Hour, Granularity::Day] {
                upsert_rollup(tx, id, at, granularity, feature).await?;
            }
        }
        return Ok(());
    }
    let rows: Vec<(&FeatureUsage, Granularity)> = features
        .iter()
        .flat_map(|f| [(f, Granularity::Hour), (f, Granularity::Day)])
        .collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let tuples: Vec<String> = (0..chunk.len())
            .map(|r| {
                let p = r * 6;
                format!(
                    "(${}, ${}, ${}, ${}, 1, ${}, ${}, ${}, ${})",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 5,
                    p + 5,
                    p + 6
                )
            })
            .collect();
        let sql = format!(
            "{ROLLUP_INSERT} VALUES {} {ROLLUP_CONFLICT}",
            tuples.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for (f, granularity) in chunk {
            let bucket = at - at.rem_euclid(granularity.millis());
            q = q
                .bind(id)
                .bind(&f.name)
                .bind(granularity.as_str())
                .bind(bucket)
                .bind(f.in_use as i64)
                .bind(f.issued.map(|v| v as i64));
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

const ROLLUP_INSERT: &str = "INSERT INTO usage_rollups (server_id, feature, granularity, \
     bucket_start, samples, sum_in_use, min_in_use, max_in_use, max_issued)";
const ROLLUP_CONFLICT: &str = "ON CONFLICT (server_id, feature, granularity, bucket_start) DO UPDATE SET \
     samples = usage_rollups.samples + 1, \
     sum_in_use = usage_rollups.sum_in_use + excluded.sum_in_use, \
     min_in_use = CASE WHEN excluded.min_in_use < usage_rollups.min_in_use THEN excluded.min_in_use ELSE usage_rollups.min_in_use END, \
     max_in_use = CASE WHEN excluded.max_in_use > usage_rollups.max_in_use THEN excluded.max_in_use ELSE usage_rollups.max_in_use END, \
     max_issued = CASE WHEN usage_rollups.max_issued IS NULL OR excluded.max_issued > usage_rollups.max_issued \
                  THEN excluded.max_issued ELSE usage_rollups.max_issued END";

/// Adds one sample to the feature's hourly or daily bucket. Buckets are UTC-aligned; the
/// portable `CASE` stands in for SQLite's two-argument MIN/MAX and PostgreSQL's LEAST/GREATEST.
pub(crate) async fn upsert_rollup(
    tx: &mut Transaction<'_, Any>,
    id: ServerId,
    at: i64,
    granularity: Granularity,
    f: &FeatureUsage,
) -> StoreResult<()> {
    let bucket = at - at.rem_euclid(granularity.millis());
    sqlx::query(
        "INSERT INTO usage_rollups (server_id, feature, granularity, bucket_start, samples, sum_in_use, \
         min_in_use, max_in_use, max_issued) VALUES ($1, $2, $3, $4, 1, $5, $5, $5, $6) \
         ON CONFLICT (server_id, feature, granularity, bucket_start) DO UPDATE SET \
         samples = usage_rollups.samples + 1, \
         sum_in_use = usage_rollups.sum_in_use + excluded.sum_in_use, \
         min_in_use = CASE WHEN excluded.min_in_use < usage_rollups.min_in_use THEN excluded.min_in_use ELSE usage_rollups.min_in_use END, \
         max_in_use = CASE WHEN excluded.max_in_use > usage_rollups.max_in_use THEN excluded.max_in_use ELSE usage_rollups.max_in_use END, \
         max_issued = CASE WHEN usage_rollups.max_issued IS NULL OR excluded.max_issued > usage_rollups.max_issued \
                      THEN excluded.max_issued ELSE usage_rollups.max_issued END",
    )
    .bind(id)
    .bind(&f.name)
    .bind(granularity.as_str())
    .bind(bucket)
    .bind(f.in_use as i64)
    .bind(f.issued.map(|v| v as i64))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
