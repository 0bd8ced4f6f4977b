//! The license file's view of a server, from the second query of its type
//! ([`command::info_query`]: FlexNet `lmstat -i`), merged into every snapshot of its poll loop.
//!
//! Why: `lmstat -a` prints a feature's version, vendor and expiry only in the block of its
//! users, so a feature nobody uses at the moment has no expiry in it — and the licenses nobody
//! uses are the ones a renewal must not forget. `lmstat -i` lists every INCREMENT line with its
//! expiry. The license file changes rarely, so it is read once an hour, not at every poll; a
//! failed read keeps the last good one and is retried sooner. It never fails a poll: the status
//! query alone decides Online and Offline.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use licmon_core::LicenseServer;
use licmon_core::snapshot::{PoolState, Snapshot};
use licmon_parse::ParseContext;
use tokio::time::Instant;

use crate::command::{StatusQuery, info_query};
use crate::engine::CollectorConfig;
use crate::{convert, runner::stderr_tail};

/// How long a good read is used.
const REFRESH_EVERY: Duration = Duration::from_secs(3600);
/// How soon a failed read is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(600);

/// What the last good read said, per feature name, and when to read again.
#[derive(Debug, Default)]
pub(crate) struct LicenseFileInfo {
    pools: HashMap<String, Vec<PoolState>>,
    /// None until the first read.
    next_read: Option<Instant>,
}

impl LicenseFileInfo {
    /// After a successful status poll: reads the license file when due, then gives the
    /// snapshot's features the pools only the license file knows.
    pub(crate) async fn refresh_and_fill(
        &mut self,
        server: &LicenseServer,
        config: &CollectorConfig,
        now: DateTime<Utc>,
        snapshot: &mut Snapshot,
    ) {
        if self.next_read.is_none_or(|at| Instant::now() >= at)
            && let Some(query) = info_query(server, &config.utilities)
        {
            let wait = match self.read(&query, server, config, now).await {
                Ok(()) => REFRESH_EVERY,
                Err(reason) => {
                    tracing::info!(server = %server.name, %reason, "cannot read the license file info; expiries of unused features are not refreshed");
                    RETRY_AFTER
                }
            };
            self.next_read = Some(Instant::now() + wait);
        }
        self.fill(snapshot);
    }

    async fn read(
        &mut self,
        query: &StatusQuery,
        server: &LicenseServer,
        config: &CollectorConfig,
        now: DateTime<Utc>,
    ) -> Result<(), String> {
        let output = query
            .execute(config.timeout_for(server), config.max_output_bytes)
            .await
            .map_err(|e| e.to_string())?;
        let report = query
            .format
            .parse(&output.stdout, &ParseContext::new(now, server.time_zone));
        if report.features.is_empty() {
            return Err(match output.exit_code {
                Some(code) if code != 0 => {
                    format!("exit status {code}: {}", stderr_tail(&output.stderr))
                }
                _ => "the output lists no feature".to_string(),
            });
        }
        self.pools = report
            .features
            .iter()
            .map(|f| {
                (
                    f.name.clone(),
                    f.pools.iter().map(convert::pool_state).collect(),
                )
            })
            .collect();
        Ok(())
    }

    /// A feature whose pools say nothing of expiry takes the license file's pools; what the
    /// status says wins wherever it says it (it is live, the file may be about to be replaced).
    /// Features the status does not list are not added: their daemon does not serve them.
    fn fill(&self, snapshot: &mut Snapshot) {
        for feature in &mut snapshot.features {
            let expiry_known = feature
                .pools
                .iter()
                .any(|p| p.expires.is_some() || p.permanent);
            if !expiry_known && let Some(pools) = self.pools.get(&feature.name) {
                feature.pools = pools.clone();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use licmon_core::snapshot::FeatureUsage;

    use super::*;

    fn pool(version: &str, expires: Option<NaiveDate>, permanent: bool) -> PoolState {
        PoolState {
            version: Some(version.to_string()),
            expires,
            permanent,
            issued: Some(4),
        }
    }

    fn feature(name: &str, pools: Vec<PoolState>) -> FeatureUsage {
        FeatureUsage {
            denied_total: None,
            name: name.to_string(),
            vendor: None,
            issued: Some(4),
            in_use: 0,
            reserved: 0,
            borrowed: 0,
            queued: 0,
            uncounted: false,
            pools,
        }
    }

    #[test]
    fn the_license_file_fills_only_what_the_status_leaves_unknown() {
        let day = |d| NaiveDate::from_ymd_opt(2027, 1, d);
        let info = LicenseFileInfo {
            pools: HashMap::from([
                ("unused".to_string(), vec![pool("1.0", day(31), false)]),
                ("versioned".to_string(), vec![pool("2.0", day(30), false)]),
                ("in_use".to_string(), vec![pool("3.0", day(29), false)]),
                ("perm".to_string(), vec![pool("4.0", day(28), false)]),
                ("not_served".to_string(), vec![pool("5.0", day(27), false)]),
            ]),
            next_read: None,
        };
        let mut snapshot = Snapshot {
            taken_at: Utc::now(),
            nodes: vec![],
            daemons: vec![],
            features: vec![
                feature("unused", vec![]),
                feature("versioned", vec![pool("2.0", None, false)]),
                feature("in_use", vec![pool("3.0", day(1), false)]),
                feature("perm", vec![pool("4.0", None, true)]),
                feature("no_info", vec![]),
            ],
            checkouts: vec![],
        };
        info.fill(&mut snapshot);
        let expiries: Vec<_> = snapshot
            .features
            .iter()
            .map(|f| (f.name.as_str(), f.pools.first().and_then(|p| p.expires)))
            .collect();
        assert_eq!(
            expiries,
            [
                ("unused", day(31)),
                ("versioned", day(30)),
                ("in_use", day(1)),
                ("perm", None),
                ("no_info", None),
            ]
        );
        assert_eq!(snapshot.features.len(), 5, "no feature is added");
    }
}
