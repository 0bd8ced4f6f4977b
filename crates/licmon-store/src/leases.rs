//! Polling leases: how several licmon nodes on one database split the license servers among
//! themselves, with the database as the only coordinator (SPEC §7, issue 10).
//!
//! - A lease (`server_leases`: server, node, `expires_at`, `lease_ms`) says which node polls a
//!   server. It is valid while `expires_at >= now`; only its holder renews it, and a node polls
//!   only servers it holds, so each server is polled by one node at a time.
//! - Time is the **database's clock** ([`LeaseStore::database_now`]), so that clock skew between
//!   hosts cannot make two nodes believe they hold the same server.
//! - A *lease round* ([`LeaseStore::balance_leases`]) runs in one transaction that excludes every
//!   other round: `BEGIN IMMEDIATE` on SQLite, and on PostgreSQL a transaction-scoped advisory
//!   lock (`pg_advisory_xact_lock`). Rounds last milliseconds and run every few seconds per
//!   node, so serialising them costs nothing, and each round sees one consistent picture: how
//!   many nodes are live, who holds what. `FOR UPDATE SKIP LOCKED` would let concurrent rounds
//!   claim disjoint rows, but the fair share needs the whole picture, not per-row claims, and
//!   rows for never-leased servers do not exist yet to be locked. The advisory lock dies with
//!   its transaction or connection, so a killed node cannot keep it. The claim itself is still
//!   guarded (`... WHERE expires_at < now OR node_id = me`), so a round is safe on its own.
//! - Fair share: each round counts the live collector members (a round within
//!   [`MEMBER_TTL`]); a node targets `ceil(wanted / live)`, gives up its surplus at once, renews
//!   what it keeps once half of a lease has run out, and claims free or expired leases up to its
//!   target. A node that dies stops renewing: its leases expire after at most `lease_ms` and the
//!   others take them in their next round; a node that comes back is live again at once and the
//!   others release their surplus to it.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use licmon_core::ServerId;
use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use crate::rows::{from_millis, get_bool, millis};
use crate::{Backend, SqlStore, StoreResult};

/// A collector member whose last lease round is older than this is not counted as live.
pub const MEMBER_TTL: Duration = Duration::seconds(10);
/// Members and node heartbeats older than this are forgotten (crashed nodes leave rows behind).
pub const FORGET_AFTER: Duration = Duration::hours(1);
/// The key of the PostgreSQL advisory lock that serialises lease rounds ("licmon" in ASCII).
const ROUND_LOCK_KEY: i64 = 0x6c69_636d_6f6e;
/// Rows per multi-row statement (far below both backends' bind-parameter limits).
const CHUNK: usize = 500;

/// A server a collector wants polled, with the lease length it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WantedServer {
    pub id: ServerId,
    pub lease: Duration,
}

/// A lease a node holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub server_id: ServerId,
    pub expires_at: DateTime<Utc>,
}

/// A node as the cluster view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterNode {
    pub node_id: String,
    pub host: String,
    pub started_at: DateTime<Utc>,
    pub heartbeat_at: DateTime<Utc>,
    pub collector_running: bool,
    /// Valid leases the node holds at the time asked about.
    pub servers_held: u64,
}

/// The lease length for a query interval: long enough to survive a slow round, short enough
/// that a dead node's servers are polled again within two intervals. Renewal happens when half
/// of it is left, so even a 10 s interval leaves 6 s for a round to be late.
pub fn lease_for_interval(query_interval_secs: u32) -> Duration {
    Duration::milliseconds((query_interval_secs as i64 * 1200).max(12_000))
}

#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// The database's clock, which every lease is measured with.
    async fn database_now(&self) -> StoreResult<DateTime<Utc>>;
    /// One lease round for `node_id` at `now` (the database's clock): registers the node as a
    /// live collector, releases leases of servers no longer wanted and any surplus above the
    /// fair share, renews the rest, claims free or expired leases up to the fair share, and
    /// returns the leases the node holds afterwards (only ones among `wanted`).
    async fn balance_leases(
        &self,
        node_id: &str,
        wanted: &[WantedServer],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Lease>>;
    /// A node that stops cleanly gives up its leases and membership, so that others take its
    /// servers in their next round instead of after the leases expire.
    async fn release_leases(&self, node_id: &str) -> StoreResult<()>;
    /// The nodes with their heartbeat and how many servers each holds at `now`.
    async fn cluster_nodes(&self, now: DateTime<Utc>) -> StoreResult<Vec<ClusterNode>>;
    /// Who holds which server at `now` (valid leases only), by server.
    async fn lease_holders(&self, now: DateTime<Utc>) -> StoreResult<Vec<(ServerId, String)>>;
}

/// What one round decides for one node, from what it holds and what is wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Plan {
    /// Held leases to give up: servers not wanted any more, and surplus above the target.
    release: Vec<ServerId>,
    /// Held leases to keep (and renew when due).
    keep: Vec<ServerId>,
    /// How many more to claim.
    need: usize,
}

fn plan(mine: &[ServerId], wanted: &HashMap<ServerId, i64>, live: usize) -> Plan {
    let target = wanted.len().div_ceil(live.max(1));
    let (mut keep, mut release): (Vec<ServerId>, Vec<ServerId>) =
        mine.iter().partition(|id| wanted.contains_key(id));
    keep.sort_unstable();
    if keep.len() > target {
        release.extend(keep.drain(target..));
    }
    Plan {
        need: target - keep.len(),
        release,
        keep,
    }
}

#[async_trait]
impl LeaseStore for SqlStore {
    async fn database_now(&self) -> StoreResult<DateTime<Utc>> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
            }
            Backend::Postgres => {
                "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
            }
        };
        let ms: i64 = sqlx::query(sql).fetch_one(&self.pool).await?.try_get(0)?;
        from_millis(ms)
    }

    async fn balance_leases(
        &self,
        node_id: &str,
        wanted: &[WantedServer],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Lease>> {
        let now_ms = millis(now);
        let wanted_ms: HashMap<ServerId, i64> = wanted
            .iter()
            .map(|w| (w.id, w.lease.num_milliseconds()))
            .collect();
        let mut tx = self.write_tx().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(ROUND_LOCK_KEY)
                .execute(&mut *tx)
                .await?;
        }
        let live = register_member(&mut tx, node_id, now_ms).await?;
        let mine = held_by(&mut tx, node_id).await?;
        let ids: Vec<ServerId> = mine.keys().copied().collect();
        let plan = plan(&ids, &wanted_ms, live);
        for chunk in plan.release.chunks(CHUNK) {
            let sql = format!(
                "DELETE FROM server_leases WHERE node_id = $1 AND server_id IN ({})",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(node_id);
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut *tx).await?;
        }
        let mut held = Vec::with_capacity(plan.keep.len() + plan.need);
        for id in &plan.keep {
            let (expires_at, lease_ms) = mine[id];
            let want_ms = wanted_ms[id];
            if lease_ms == want_ms && expires_at - now_ms >= lease_ms / 2 {
                held.push((*id, expires_at));
                continue;
            }
            sqlx::query(
                "UPDATE server_leases SET expires_at = $1, lease_ms = $2 WHERE server_id = $3 AND node_id = $4",
            )
            .bind(now_ms + want_ms)
            .bind(want_ms)
            .bind(*id)
            .bind(node_id)
            .execute(&mut *tx)
            .await?;
            held.push((*id, now_ms + want_ms));
        }
        if plan.need > 0 {
            let kept: HashSet<ServerId> = plan.keep.iter().copied().collect();
            let claimed = claim(&mut tx, node_id, now_ms, &wanted_ms, &kept, plan.need).await?;
            held.extend(claimed);
        }
        tx.commit().await?;
        held.sort_unstable();
        held.into_iter()
            .map(|(server_id, expires_at)| {
                Ok(Lease {
                    server_id,
                    expires_at: from_millis(expires_at)?,
                })
            })
            .collect()
    }

    async fn release_leases(&self, node_id: &str) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM server_leases WHERE node_id = $1")
            .bind(node_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM collector_members WHERE node_id = $1")
            .bind(node_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn cluster_nodes(&self, now: DateTime<Utc>) -> StoreResult<Vec<ClusterNode>> {
        let rows = sqlx::query(
            "SELECT n.node_id, n.host, n.started_at, n.heartbeat_at, n.collector_running, \
             COALESCE(l.held, 0) AS held FROM monitor_nodes n LEFT JOIN \
             (SELECT node_id, COUNT(*) AS held FROM server_leases WHERE expires_at >= $1 GROUP BY node_id) l \
             ON l.node_id = n.node_id ORDER BY n.started_at, n.node_id",
        )
        .bind(millis(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ClusterNode {
                    node_id: row.try_get("node_id")?,
                    host: row.try_get("host")?,
                    started_at: from_millis(row.try_get("started_at")?)?,
                    heartbeat_at: from_millis(row.try_get("heartbeat_at")?)?,
                    collector_running: get_bool(row, "collector_running")?,
                    servers_held: row.try_get::<i64, _>("held")?.max(0) as u64,
                })
            })
            .collect()
    }

    async fn lease_holders(&self, now: DateTime<Utc>) -> StoreResult<Vec<(ServerId, String)>> {
        let rows = sqlx::query(
            "SELECT server_id, node_id FROM server_leases WHERE expires_at >= $1 ORDER BY server_id",
        )
        .bind(millis(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("server_id")?, row.try_get("node_id")?)))
            .collect()
    }
}

/// Marks the node as a live member, forgets long-gone nodes, and counts the live members.
async fn register_member(
    tx: &mut Transaction<'_, Any>,
    node_id: &str,
    now_ms: i64,
) -> StoreResult<usize> {
    sqlx::query(
        "INSERT INTO collector_members (node_id, seen_at) VALUES ($1, $2) \
         ON CONFLICT (node_id) DO UPDATE SET seen_at = excluded.seen_at",
    )
    .bind(node_id)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    let forget = now_ms - FORGET_AFTER.num_milliseconds();
    sqlx::query("DELETE FROM collector_members WHERE seen_at < $1")
        .bind(forget)
        .execute(&mut **tx)
        .await?;
    // A SIGKILLed node never unregisters; its heartbeat row goes once it is an hour old.
    sqlx::query("DELETE FROM monitor_nodes WHERE heartbeat_at < $1")
        .bind(forget)
        .execute(&mut **tx)
        .await?;
    let live: i64 = sqlx::query("SELECT COUNT(*) AS n FROM collector_members WHERE seen_at >= $1")
        .bind(now_ms - MEMBER_TTL.num_milliseconds())
        .fetch_one(&mut **tx)
        .await?
        .try_get("n")?;
    Ok(live.max(1) as usize)
}

/// The node's leases (valid or not): server → (expires_at, lease_ms).
async fn held_by(
    tx: &mut Transaction<'_, Any>,
    node_id: &str,
) -> StoreResult<HashMap<ServerId, (i64, i64)>> {
    let rows =
        sqlx::query("SELECT server_id, expires_at, lease_ms FROM server_leases WHERE node_id = $1")
            .bind(node_id)
            .fetch_all(&mut **tx)
            .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("server_id")?,
                (row.try_get("expires_at")?, row.try_get("lease_ms")?),
            ))
        })
        .collect()
}

/// Claims up to `need` wanted servers whose lease is free or expired, lowest ids first.
async fn claim(
    tx: &mut Transaction<'_, Any>,
    node_id: &str,
    now_ms: i64,
    wanted_ms: &HashMap<ServerId, i64>,
    kept: &HashSet<ServerId>,
    need: usize,
) -> StoreResult<Vec<(ServerId, i64)>> {
    // Cheap check first: when every wanted server has a valid lease there is nothing to scan.
    let valid: i64 = sqlx::query("SELECT COUNT(*) AS n FROM server_leases WHERE expires_at >= $1")
        .bind(now_ms)
        .fetch_one(&mut **tx)
        .await?
        .try_get("n")?;
    if valid as usize >= wanted_ms.len() {
        return Ok(Vec::new());
    }
    let taken: HashSet<ServerId> =
        sqlx::query("SELECT server_id FROM server_leases WHERE expires_at >= $1")
            .bind(now_ms)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|row| row.try_get("server_id"))
            .collect::<Result<_, _>>()?;
    let mut free: Vec<ServerId> = wanted_ms
        .keys()
        .filter(|id| !taken.contains(id) && !kept.contains(id))
        .copied()
        .collect();
    free.sort_unstable();
    free.truncate(need);
    let mut claimed = Vec::with_capacity(free.len());
    for chunk in free.chunks(CHUNK) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = 3 + i * 3;
                format!("(${}, $1, ${}, ${})", p, p + 1, p + 2)
            })
            .collect();
        let sql = format!(
            "INSERT INTO server_leases (server_id, node_id, expires_at, lease_ms) VALUES {} \
             ON CONFLICT (server_id) DO UPDATE SET node_id = excluded.node_id, \
             expires_at = excluded.expires_at, lease_ms = excluded.lease_ms \
             WHERE server_leases.expires_at < $2 OR server_leases.node_id = $1 \
             RETURNING server_id, expires_at",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(node_id).bind(now_ms);
        for id in chunk {
            let lease_ms = wanted_ms[id];
            q = q.bind(*id).bind(now_ms + lease_ms).bind(lease_ms);
        }
        for row in q.fetch_all(&mut **tx).await? {
            claimed.push((row.try_get("server_id")?, row.try_get("expires_at")?));
        }
    }
    Ok(claimed)
}

/// `$first, $first+1, ...` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(ids: &[ServerId]) -> HashMap<ServerId, i64> {
        ids.iter().map(|id| (*id, 12_000)).collect()
    }

    #[test]
    fn a_lone_node_takes_everything() {
        let p = plan(&[], &wanted(&[1, 2, 3]), 1);
        assert_eq!((p.release, p.keep, p.need), (vec![], vec![], 3));
    }

    #[test]
    fn surplus_above_the_fair_share_is_released() {
        // 7 servers, 3 live nodes: ceil(7/3) = 3 each.
        let p = plan(&[1, 2, 3, 4, 5, 6, 7], &wanted(&[1, 2, 3, 4, 5, 6, 7]), 3);
        assert_eq!(p.keep, vec![1, 2, 3]);
        assert_eq!(p.release, vec![4, 5, 6, 7]);
        assert_eq!(p.need, 0);
    }

    #[test]
    fn servers_no_longer_wanted_are_released_and_the_share_refilled() {
        let p = plan(&[1, 9], &wanted(&[1, 2, 3, 4]), 2);
        assert_eq!(p.keep, vec![1]);
        assert_eq!(p.release, vec![9]);
        assert_eq!(p.need, 1);
    }

    #[test]
    fn nothing_wanted_releases_all() {
        let p = plan(&[4, 5], &HashMap::new(), 2);
        assert_eq!((p.keep.len(), p.release.len(), p.need), (0, 2, 0));
    }

    #[test]
    fn lease_lengths_follow_the_interval_with_a_floor() {
        assert_eq!(lease_for_interval(10), Duration::seconds(12));
        assert_eq!(lease_for_interval(60), Duration::seconds(72));
    }
}
