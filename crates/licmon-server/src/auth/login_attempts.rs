//! Pruning of the `login_attempts` table. Every login attempt writes a row (the rate limits
//! count them), so without pruning a password-spraying bot would grow the table forever.
//! Rows older than the throttling window (`AuthSettings::failure_window`, the only window the
//! limits look at) can never be counted again; each node deletes them at most once a minute,
//! on a login attempt — the only thing that adds rows, so no periodic task is needed.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

use crate::AppState;

/// A node prunes at most this often: the delete scans the table (there is no index on the
/// time alone), which pruning keeps small.
const PRUNE_EVERY_MS: i64 = 60_000;

/// When this node last pruned (Unix milliseconds; 0 = not yet).
#[derive(Debug, Default)]
pub struct AttemptPruning {
    last_ms: AtomicI64,
}

impl AttemptPruning {
    /// Whether to prune at `now`; true for one caller per minute, however many log in at once.
    fn claim(&self, now: DateTime<Utc>) -> bool {
        let now_ms = now.timestamp_millis();
        let last = self.last_ms.load(Ordering::Relaxed);
        (now_ms - last).abs() >= PRUNE_EVERY_MS
            && self
                .last_ms
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// Deletes the attempts before the throttling window when this node's minute is up. A failure
/// is logged and otherwise ignored: the login itself does not depend on it.
pub async fn prune_if_due(state: &AppState, now: DateTime<Utc>) {
    if !state.login_attempts.claim(now) {
        return;
    }
    match state
        .store
        .purge_login_attempts(now - state.auth.failure_window)
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::debug!(deleted = n, "pruned old login attempts"),
        Err(e) => tracing::warn!(error = %e, "cannot prune old login attempts"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_claim_per_minute() {
        let pruning = AttemptPruning::default();
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert!(pruning.claim(t0), "the first attempt prunes");
        assert!(!pruning.claim(t0 + chrono::Duration::seconds(59)));
        assert!(pruning.claim(t0 + chrono::Duration::seconds(60)));
        assert!(!pruning.claim(t0 + chrono::Duration::seconds(61)));
        // A clock set back by more than the period does not stop pruning for that long.
        assert!(pruning.claim(t0 - chrono::Duration::hours(1)));
    }
}
