//! The collector's side of polling leases: which servers this node may poll right now.
//!
//! Leases are measured with the database's clock; this node turns each into a deadline on its
//! own monotonic clock (taken *before* asking the database, minus a safety margin), so that a
//! node cut off from the database stops polling before its leases can have passed to another
//! node — even though it cannot renew them or learn that they are gone.

use std::collections::HashMap;
use std::time::Duration;

use licmon_core::{LicenseServer, ServerId};
use licmon_store::{LeaseStore, StoreResult, WantedServer, lease_for_interval};
use tokio::time::Instant;

/// Stop polling this long before a lease would expire by the database's clock.
const SAFETY_MARGIN: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub struct LeaseKeeper {
    /// Servers held, with the local instant until which this node may poll them.
    deadlines: HashMap<ServerId, Instant>,
}

impl LeaseKeeper {
    /// Runs one lease round for `node_id` over the servers it wants polled. On error the leases
    /// held so far stay usable until their deadlines.
    pub async fn round(
        &mut self,
        store: &dyn LeaseStore,
        node_id: &str,
        wanted: &[LicenseServer],
    ) -> StoreResult<()> {
        let asked = Instant::now();
        let wanted: Vec<WantedServer> = wanted
            .iter()
            .map(|s| WantedServer {
                id: s.id,
                lease: lease_for_interval(s.query_interval_secs),
            })
            .collect();
        let now = store.database_now().await?;
        let leases = store.balance_leases(node_id, &wanted, now).await?;
        self.deadlines = leases
            .iter()
            .map(|l| {
                let left = (l.expires_at - now).to_std().unwrap_or_default();
                (l.server_id, asked + left.saturating_sub(SAFETY_MARGIN))
            })
            .collect();
        Ok(())
    }

    /// Whether this node may poll `id` now.
    pub fn holds(&self, id: ServerId) -> bool {
        self.deadlines
            .get(&id)
            .is_some_and(|deadline| Instant::now() < *deadline)
    }

    /// How many servers this node may poll now.
    pub fn held(&self) -> usize {
        let now = Instant::now();
        self.deadlines.values().filter(|d| now < **d).count()
    }
}
