//! The facts the rules look at, read from the store.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use licmon_core::DataSource;
use licmon_core::alerts::eval::{AlertFacts, ServerAlertFacts};
use licmon_core::capacity::{CapacityEntry, CapacityUsage};
use licmon_store::{StatusSettings, Store, StoreResult, overviews};

pub async fn gather(
    store: &dyn Store,
    now: DateTime<Utc>,
    settings: StatusSettings,
) -> StoreResult<AlertFacts> {
    let overviews = overviews(store, now, settings).await?;
    let denials: HashMap<_, _> = store
        .true_denials_since(now - Duration::hours(1))
        .await?
        .into_iter()
        .collect();
    let entries: Vec<CapacityEntry> = overviews
        .iter()
        .map(|o| CapacityEntry {
            id: o.server.id,
            created_at: o.server.created_at,
            any_source_enabled: o.server.data_sources.any(),
        })
        .collect();
    let mut servers = Vec::with_capacity(overviews.len());
    for o in overviews {
        let s = &o.server;
        let expects_data = !o.over_capacity
            && ((s.kind.supports(DataSource::Remote) && s.data_sources.remote)
                || (s.kind.supports(DataSource::Import) && s.data_sources.import));
        servers.push(ServerAlertFacts {
            id: s.id,
            name: s.name.clone(),
            created_at: s.created_at,
            snapshot: store.current_snapshot(s.id).await?,
            true_denials_last_hour: denials.get(&s.id).copied().unwrap_or(0),
            remote: o.statuses.remote,
            import: o.statuses.import,
            expects_data,
            last_update: o.last_update,
        });
    }
    Ok(AlertFacts {
        servers,
        capacity: Some(CapacityUsage::of(&entries, settings.max_license_servers)),
    })
}
