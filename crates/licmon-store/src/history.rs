//! Reading history: current usage, sessions, change points and rollups.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use licmon_core::ServerId;
use licmon_core::snapshot::Snapshot;
use sqlx::Row;

use crate::imported_usage::UsageSweep;
use crate::imports::IMPORT_SOURCE;
use crate::rows::{from_millis, get_bool, get_opt_u64, get_u64, millis, opt_from_millis};
use crate::{
    FeatureChange, Granularity, HistoryStore, SessionQuery, SessionRecord, SqlStore, StoreError,
    StoreResult, UsagePoint,
};

/// The most rows one page of a list returns.
pub const MAX_PAGE: u32 = 10_000;

#[async_trait]
impl HistoryStore for SqlStore {
    async fn current_snapshot(&self, id: ServerId) -> StoreResult<Option<Snapshot>> {
        let row = sqlx::query("SELECT body FROM current_snapshots WHERE server_id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            let body: String = row.try_get("body")?;
            serde_json::from_str(&body)
                .map_err(|e| StoreError::Corrupt(format!("snapshot of server {id}: {e}")))
        })
        .transpose()
    }

    async fn sessions(&self, id: ServerId, q: &SessionQuery) -> StoreResult<Vec<SessionRecord>> {
        // Optional filters are written as "$n IS NULL OR ..." so that one statement serves all.
        let sql = "SELECT id, server_id, source, feature, user_name, host, display, version, count, borrowed, \
                   started_at, ended_at, idle_secs, active, ip, borrow_expires_at FROM sessions WHERE server_id = $1 \
                   AND ($2 = 0 OR ended_at IS NULL) \
                   AND ($3 IS NULL OR ended_at IS NULL OR ended_at >= $3) \
                   AND ($4 IS NULL OR started_at < $4) \
                   AND ($5 IS NULL OR feature = $5) \
                   AND ($6 IS NULL OR user_name = $6) \
                   ORDER BY started_at DESC, id DESC LIMIT $7 OFFSET $8";
        let limit = if q.limit == 0 {
            MAX_PAGE
        } else {
            q.limit.min(MAX_PAGE)
        };
        let rows = sqlx::query(sql)
            .bind(id)
            .bind(q.open_only as i64)
            .bind(q.from.map(millis))
            .bind(q.to.map(millis))
            .bind(q.feature.clone())
            .bind(q.user.clone())
            .bind(limit as i64)
            .bind(q.offset as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(SessionRecord {
                    id: row.try_get("id")?,
                    server_id: row.try_get("server_id")?,
                    source: row.try_get("source")?,
                    feature: row.try_get("feature")?,
                    user: row.try_get("user_name")?,
                    host: row.try_get("host")?,
                    display: row.try_get("display")?,
                    version: row.try_get("version")?,
                    count: get_u64(row, "count")?,
                    borrowed: get_bool(row, "borrowed")?,
                    started_at: from_millis(row.try_get("started_at")?)?,
                    ended_at: opt_from_millis(row.try_get("ended_at")?)?,
                    idle_secs: get_opt_u64(row, "idle_secs")?,
                    active: crate::rows::get_opt_bool(row, "active")?,
                    ip: row.try_get("ip")?,
                    borrow_expires_at: opt_from_millis(row.try_get("borrow_expires_at")?)?,
                })
            })
            .collect()
    }

    async fn feature_changes(
        &self,
        id: ServerId,
        feature: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<FeatureChange>> {
        let rows = sqlx::query(
            "SELECT feature, at, issued, in_use, reserved, borrowed, queued FROM feature_changes \
             WHERE server_id = $1 AND ($2 IS NULL OR feature = $2) AND at >= $3 AND at < $4 ORDER BY at, feature",
        )
        .bind(id)
        .bind(feature.map(str::to_string))
        .bind(millis(from))
        .bind(millis(to))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(FeatureChange {
                    feature: row.try_get("feature")?,
                    at: from_millis(row.try_get("at")?)?,
                    issued: get_opt_u64(row, "issued")?,
                    in_use: get_u64(row, "in_use")?,
                    reserved: get_u64(row, "reserved")?,
                    borrowed: get_u64(row, "borrowed")?,
                    queued: get_u64(row, "queued")?,
                })
            })
            .collect()
    }

    async fn usage(
        &self,
        id: ServerId,
        granularity: Granularity,
        feature: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<UsagePoint>> {
        let bucket_from = millis(from) - millis(from).rem_euclid(granularity.millis());
        let rows = sqlx::query(
            "SELECT feature, bucket_start, samples, sum_in_use, min_in_use, max_in_use, max_issued \
             FROM usage_rollups WHERE server_id = $1 AND granularity = $2 AND ($3 IS NULL OR feature = $3) \
             AND bucket_start >= $4 AND bucket_start < $5 ORDER BY bucket_start, feature",
        )
        .bind(id)
        .bind(granularity.as_str())
        .bind(feature.map(str::to_string))
        .bind(bucket_from)
        .bind(millis(to))
        .fetch_all(&self.pool)
        .await?;
        let polled = rows
            .iter()
            .map(|row| {
                let samples = get_u64(row, "samples")?;
                let sum = get_u64(row, "sum_in_use")?;
                Ok(UsagePoint {
                    feature: row.try_get("feature")?,
                    bucket_start: from_millis(row.try_get("bucket_start")?)?,
                    min_in_use: get_u64(row, "min_in_use")?,
                    avg_in_use: if samples == 0 {
                        0.0
                    } else {
                        sum as f64 / samples as f64
                    },
                    max_in_use: get_u64(row, "max_in_use")?,
                    issued: get_opt_u64(row, "max_issued")?,
                    samples,
                    imported: false,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let imported = self
            .imported_usage(id, granularity, feature, bucket_from, millis(to))
            .await?;
        Ok(merge_usage(polled, imported))
    }

    async fn imported_until(&self, id: ServerId) -> StoreResult<Option<DateTime<Utc>>> {
        Ok(self
            .last_imported_event(id)
            .await?
            .map(from_millis)
            .transpose()?)
    }
}

impl SqlStore {
    /// Usage from the sessions imports rebuilt, for `[from_ms, to_ms)` as far as the imported
    /// logs cover it (see `imported_usage.rs`). Empty, after one indexed lookup, for a server
    /// that never imported anything.
    async fn imported_usage(
        &self,
        id: ServerId,
        granularity: Granularity,
        feature: Option<&str>,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<UsagePoint>> {
        let Some(last_event) = self.last_imported_event(id).await? else {
            return Ok(Vec::new());
        };
        // The log's last second is covered too.
        let covered_to = to_ms.min(last_event + 1000);
        let first = sqlx::query(
            "SELECT MIN(started_at) AS first FROM sessions WHERE server_id = $1 AND source = $2",
        )
        .bind(id)
        .bind(IMPORT_SOURCE)
        .fetch_one(&self.pool)
        .await?;
        let Some(first) = first.try_get::<Option<i64>, _>("first")? else {
            return Ok(Vec::new());
        };
        let covered_from = from_ms.max(first);
        if covered_from >= covered_to {
            return Ok(Vec::new());
        }
        let mut sweep = UsageSweep::new(covered_from, covered_to, granularity.millis());
        self.imported_sessions(id, feature, covered_from, covered_to, &mut sweep)
            .await?;
        Ok(sweep.finish())
    }

    /// `import_state.last_event_at`, in milliseconds.
    async fn last_imported_event(&self, id: ServerId) -> StoreResult<Option<i64>> {
        let row = sqlx::query("SELECT last_event_at FROM import_state WHERE server_id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => row.try_get::<Option<i64>, _>("last_event_at")?,
            None => None,
        })
    }

    /// Feeds `sweep` the imported sessions that overlap `[from_ms, to_ms)` (and the second
    /// before, see `imported_usage.rs`). On a SQLite file through the raw handle: sqlx's SQLite
    /// driver passes rows one by one between threads, ten times slower for the millions a year
    /// holds. On PostgreSQL through the native pool, streamed.
    async fn imported_sessions(
        &self,
        id: ServerId,
        feature: Option<&str>,
        from_ms: i64,
        to_ms: i64,
        sweep: &mut UsageSweep,
    ) -> StoreResult<()> {
        if let Some(bulk) = &self.sqlite_bulk {
            bulk.read(|db| {
                // `$N` in order of first use: SQLite binds them by position too.
                let mut q = db.prepare(IMPORTED_SESSIONS)?;
                q.bind_i64(1, id)?;
                q.bind_text(2, IMPORT_SOURCE)?;
                q.bind_opt_text(3, feature)?;
                q.bind_i64(4, to_ms)?;
                q.bind_i64(5, from_ms - 1000)?;
                while q.next_row()? {
                    let count = u64::try_from(q.column_i64(3)).unwrap_or(0);
                    sweep.push(
                        q.column_text(0)?,
                        q.column_i64(1),
                        q.column_opt_i64(2),
                        count,
                    );
                }
                Ok(())
            })
            .await?;
            return Ok(());
        }
        if let Some(copy) = &self.pg_copy {
            // Streamed: a year of a busy server is millions of rows, never all held at once.
            use futures_util::TryStreamExt;
            let mut rows = sqlx::query(IMPORTED_SESSIONS)
                .bind(id)
                .bind(IMPORT_SOURCE)
                .bind(feature)
                .bind(to_ms)
                .bind(from_ms - 1000)
                .fetch(copy.pool());
            while let Some(row) = rows.try_next().await? {
                let count: i64 = row.try_get(3)?;
                sweep.push(
                    row.try_get(0)?,
                    row.try_get(1)?,
                    row.try_get(2)?,
                    u64::try_from(count).unwrap_or(0),
                );
            }
            return Ok(());
        }
        let rows = sqlx::query(IMPORTED_SESSIONS)
            .bind(id)
            .bind(IMPORT_SOURCE)
            .bind(feature.map(str::to_string))
            .bind(to_ms)
            .bind(from_ms - 1000)
            .fetch_all(&self.pool)
            .await?;
        for row in &rows {
            sweep.push(
                row.try_get("feature")?,
                row.try_get("started_at")?,
                row.try_get("ended_at")?,
                get_u64(row, "count")?,
            );
        }
        Ok(())
    }
}

/// Imported sessions overlapping a range, in the order they started (the sweep's order; the
/// `sessions_started` index's too): $4 the range's end, $5 its start less a second (a session
/// shorter than a second counts as one).
const IMPORTED_SESSIONS: &str = "SELECT feature, started_at, ended_at, count FROM sessions \
     WHERE server_id = $1 AND source = $2 AND ($3 IS NULL OR feature = $3) \
     AND started_at < $4 AND (ended_at IS NULL OR ended_at >= $5) ORDER BY started_at";

/// Polled rollups, plus imported points for the (feature, bucket)s no poll covers: a server
/// monitored live whose older logs were imported shows the logs before polling began.
fn merge_usage(polled: Vec<UsagePoint>, imported: Vec<UsagePoint>) -> Vec<UsagePoint> {
    if imported.is_empty() {
        return polled;
    }
    let taken: HashSet<(DateTime<Utc>, &str)> = polled
        .iter()
        .map(|p| (p.bucket_start, p.feature.as_str()))
        .collect();
    let extra: Vec<UsagePoint> = imported
        .into_iter()
        .filter(|p| !taken.contains(&(p.bucket_start, p.feature.as_str())))
        .collect();
    let mut all = polled;
    all.extend(extra);
    all.sort_by(|a, b| (a.bucket_start, &a.feature).cmp(&(b.bucket_start, &b.feature)));
    all
}
