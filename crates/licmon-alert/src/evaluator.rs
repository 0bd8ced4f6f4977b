//! The evaluator task: every few seconds, if this node holds the evaluator lease, evaluate
//! every rule, apply the transitions, and send what is due.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use licmon_core::alerts::eval::conditions;
use licmon_core::alerts::transition::transitions;
use licmon_store::{AppliedChanges, StatusSettings, Store, StoreResult};
use tokio::sync::watch;

use crate::deliver::deliver_due;
use crate::facts::gather;

#[derive(Debug, Clone)]
pub struct EvaluatorConfig {
    /// The holder name of the evaluator lease.
    pub node_id: String,
    /// How often rules are evaluated (default 30 s).
    pub every: Duration,
    pub status: StatusSettings,
}

impl EvaluatorConfig {
    /// The lease outlives three missed rounds, so that a busy node keeps it, and a dead one's
    /// goes to another node within a minute and a half of rounds (at the default 30 s).
    pub fn lease_ttl(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.every * 3).unwrap_or(chrono::Duration::seconds(90))
    }
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundReport {
    /// False when another node holds the lease: nothing was evaluated.
    pub evaluated: bool,
    pub applied: AppliedChanges,
    pub sent: usize,
    pub failed: usize,
}

/// One evaluation at `now` (the database's clock in production).
pub async fn round(
    store: &dyn Store,
    config: &EvaluatorConfig,
    now: DateTime<Utc>,
) -> StoreResult<RoundReport> {
    if !store
        .claim_alert_evaluator(&config.node_id, now, config.lease_ttl())
        .await?
    {
        return Ok(RoundReport::default());
    }
    let facts = gather(store, now, config.status).await?;
    let rules = store.list_alert_rules().await?;
    let holding: Vec<_> = rules
        .iter()
        .map(|r| (r.id, conditions(r, &facts, now)))
        .collect();
    let open = store.open_alerts().await?;
    let changes = transitions(&holding, &open, now);
    let applied = if changes.is_empty() {
        AppliedChanges::default()
    } else {
        store
            .apply_alert_changes(&config.node_id, &changes, now)
            .await?
    };
    if applied.fired + applied.resolved > 0 {
        tracing::info!(
            fired = applied.fired,
            resolved = applied.resolved,
            deliveries = applied.deliveries,
            "alerts changed"
        );
    }
    let (sent, failed) = deliver_due(store, now).await?;
    Ok(RoundReport {
        evaluated: true,
        applied,
        sent,
        failed,
    })
}

/// Runs rounds until `shutdown` turns true.
pub async fn run(
    store: Arc<dyn Store>,
    config: EvaluatorConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    tracing::info!(
        every_secs = config.every.as_secs_f64(),
        "alert evaluator started"
    );
    loop {
        let now = match store.database_now().await {
            Ok(now) => now,
            Err(e) => {
                tracing::warn!(error = %e, "alerts: cannot read the database clock");
                Utc::now()
            }
        };
        if let Err(e) = round(store.as_ref(), &config, now).await {
            tracing::warn!(error = %e, "alert evaluation failed; retrying next round");
        }
        tokio::select! {
            _ = tokio::time::sleep(config.every) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            return;
        }
    }
}
