//! Denials a status utility counts (LM-X `DENIED_LICENSES`, custom XML `denied`), turned into
//! denial rows at each poll.
//!
//! Why: a server that is only polled has no log to tell its denials, yet some utilities keep a
//! per-feature count of refused requests since the server started. The growth of that count
//! between two polls is that many denials in between: stored as that many rows (a row is one
//! refused request everywhere: lists, counts, metrics), at the poll's time, with
//! `source = 'remote'`, no user or host (the count names none), and a reason that says which
//! window it covers. The previous count comes from the previous snapshot, read in the
//! same transaction, so a restart of licmon loses nothing and counts nothing twice.

use chrono::{DateTime, Utc};
use licmon_core::ServerId;
use licmon_core::snapshot::Snapshot;
use sqlx::{Any, Transaction};

use crate::StoreResult;
use crate::monitor::REMOTE_SOURCE;
use crate::rows::millis;

/// Refused requests of one feature between two polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CountedDenials {
    pub feature: String,
    pub count: u64,
    pub reason: String,
}

/// What the counts of `now` add to those of `previous`. A feature counted for the first time
/// (or after polls without a count) only sets the baseline: its count covers an unknown time.
/// A count that went down was reset (the server restarted): all of it is new. A daemon that
/// counts for all its features (RLM ISV servers) gives denials of the feature
/// [`any_feature_of`] it.
pub(crate) fn counted_denials(previous: Option<&Snapshot>, now: &Snapshot) -> Vec<CountedDenials> {
    let Some(previous) = previous else {
        return Vec::new();
    };
    let since = previous.taken_at.format("%Y-%m-%d %H:%M:%S UTC");
    let features = now.features.iter().filter_map(|feature| {
        let before = previous
            .features
            .iter()
            .find(|p| p.name == feature.name && p.vendor == feature.vendor)?;
        let counter = "the license server";
        growth(
            feature.name.clone(),
            counter,
            before.denied_total?,
            feature.denied_total?,
            &since,
        )
    });
    let daemons = now.daemons.iter().filter_map(|daemon| {
        let before = previous.daemons.iter().find(|p| p.name == daemon.name)?;
        let counter = format!("the ISV server {} for all its features", daemon.name);
        growth(
            any_feature_of(&daemon.name),
            &counter,
            before.denied_total?,
            daemon.denied_total?,
            &since,
        )
    });
    features.chain(daemons).collect()
}

/// The feature name of denials a daemon counts without naming the feature.
fn any_feature_of(daemon: &str) -> String {
    format!("(any feature of {daemon})")
}

fn growth(
    feature: String,
    counter: &str,
    before: u64,
    total: u64,
    since: &impl std::fmt::Display,
) -> Option<CountedDenials> {
    let (count, reason) = if total >= before {
        (
            total - before,
            format!(
                "counted by {counter} since the poll at {since}; the count names no user or host"
            ),
        )
    } else {
        (
            total,
            format!(
                "counted by {counter} since it restarted (after the poll at {since}, its count went from {before} to {total}); the count names no user or host"
            ),
        )
    };
    (count > 0).then_some(CountedDenials {
        feature,
        count,
        reason,
    })
}

/// The most rows one feature's growth writes at one poll. A count that grew by more (a
/// server polled again after months, or a runaway client) is stored up to this, with a
/// warning: the rows are a day's worth of refusals at one a second per poll interval.
const MAX_ROWS_PER_POLL: u64 = 10_000;

/// Stores the counted denials of a poll taken at `at` (not retries: a count cannot tell).
pub(crate) async fn insert_counted_denials(
    tx: &mut Transaction<'_, Any>,
    id: ServerId,
    at: DateTime<Utc>,
    denials: &[CountedDenials],
) -> StoreResult<()> {
    for d in denials {
        if d.count > MAX_ROWS_PER_POLL {
            tracing::warn!(server_id = id, feature = %d.feature, counted = d.count, stored = MAX_ROWS_PER_POLL, "a denial count grew by more than one poll stores");
        }
        for _ in 0..d.count.min(MAX_ROWS_PER_POLL) {
            insert_one(tx, id, at, d).await?;
        }
    }
    Ok(())
}

async fn insert_one(
    tx: &mut Transaction<'_, Any>,
    id: ServerId,
    at: DateTime<Utc>,
    d: &CountedDenials,
) -> StoreResult<()> {
    sqlx::query(
            "INSERT INTO denials (server_id, source, at, feature, user_name, host, count, reason, retry) \
             VALUES ($1, $2, $3, $4, '', '', 1, $5, $6)",
        )
        .bind(id)
        .bind(REMOTE_SOURCE)
        .bind(millis(at))
        .bind(d.feature.as_str())
        .bind(d.reason.as_str())
        .bind(false)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use licmon_core::snapshot::FeatureUsage;

    use super::*;

    fn snapshot(minute: u32, counts: &[(&str, Option<&str>, Option<u64>)]) -> Snapshot {
        Snapshot {
            taken_at: Utc.with_ymd_and_hms(2026, 3, 2, 10, minute, 0).unwrap(),
            nodes: Vec::new(),
            daemons: Vec::new(),
            features: counts
                .iter()
                .map(|&(name, vendor, denied_total)| FeatureUsage {
                    name: name.to_string(),
                    vendor: vendor.map(str::to_string),
                    issued: Some(4),
                    in_use: 4,
                    reserved: 0,
                    borrowed: 0,
                    queued: 0,
                    uncounted: false,
                    pools: Vec::new(),
                    denied_total,
                })
                .collect(),
            checkouts: Vec::new(),
        }
    }

    fn counts(found: &[CountedDenials]) -> Vec<(&str, u64)> {
        found
            .iter()
            .map(|d| (d.feature.as_str(), d.count))
            .collect()
    }

    #[test]
    fn the_growth_of_a_count_between_polls_is_that_many_denials() {
        let first = snapshot(0, &[("solver", None, Some(5)), ("mesher", None, Some(2))]);
        // The first poll only sets the baseline: its counts cover an unknown time.
        assert_eq!(counted_denials(None, &first), []);
        let second = snapshot(2, &[("solver", None, Some(8)), ("mesher", None, Some(2))]);
        let found = counted_denials(Some(&first), &second);
        assert_eq!(counts(&found), [("solver", 3)]);
        assert_eq!(
            found[0].reason,
            "counted by the license server since the poll at 2026-03-02 10:00:00 UTC; the count names no user or host"
        );
    }

    #[test]
    fn a_count_that_went_down_was_reset_and_counts_whole() {
        let before = snapshot(0, &[("solver", None, Some(12))]);
        let after = snapshot(2, &[("solver", None, Some(3))]);
        let found = counted_denials(Some(&before), &after);
        assert_eq!(counts(&found), [("solver", 3)]);
        assert!(
            found[0].reason.contains("its count went from 12 to 3"),
            "{}",
            found[0].reason
        );
        // Reset to zero: nothing refused since.
        let zero = snapshot(4, &[("solver", None, Some(0))]);
        assert_eq!(counted_denials(Some(&after), &zero), []);
    }

    #[test]
    fn an_rlm_isv_counts_for_all_its_features() {
        let daemon = |name: &str, denied_total| licmon_core::snapshot::DaemonState {
            name: name.to_string(),
            up: true,
            version: None,
            error: None,
            denied_total,
        };
        let mut before = snapshot(0, &[]);
        before.daemons = vec![daemon("foundry", Some(1230)), daemon("csci", Some(0))];
        let mut after = snapshot(2, &[]);
        after.daemons = vec![daemon("foundry", Some(1232)), daemon("csci", None)];
        let found = counted_denials(Some(&before), &after);
        assert_eq!(counts(&found), [("(any feature of foundry)", 2)]);
        assert_eq!(
            found[0].reason,
            "counted by the ISV server foundry for all its features since the poll at 2026-03-02 10:00:00 UTC; the count names no user or host"
        );
    }

    #[test]
    fn only_a_feature_counted_in_both_polls_by_the_same_vendor_adds_denials() {
        let before = snapshot(
            0,
            &[
                ("solver", Some("acme"), Some(1)),
                ("viewer", None, None),
                ("gone", None, Some(1)),
            ],
        );
        let after = snapshot(
            2,
            &[
                // Another vendor's feature of the same name is another feature.
                ("solver", Some("other"), Some(9)),
                ("solver", Some("acme"), Some(2)),
                // A count that appears only now is a baseline.
                ("viewer", None, Some(4)),
                ("new", None, Some(7)),
                ("nocount", None, None),
            ],
        );
        assert_eq!(
            counts(&counted_denials(Some(&before), &after)),
            [("solver", 1)]
        );
    }
}
