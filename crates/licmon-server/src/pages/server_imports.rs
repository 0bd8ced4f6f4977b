//! The server page's Imports tab: the server's past log imports, newest first, with what each
//! found — so an administrator sees which files went in, by which way, and why one failed.

use licmon_core::ServerId;
use licmon_store::{ImportRecord, StoreError};

use crate::AppState;

/// How many past imports the tab lists (the API pages further back).
const SHOWN: u32 = 100;

pub struct ImportRow {
    pub file_name: String,
    pub format: String,
    pub via: String,
    pub started_at: String,
    pub finished_at: String,
    /// `success`, `failure` or `refused`.
    pub outcome: String,
    pub outcome_class: &'static str,
    pub reason: String,
    pub events: u64,
    pub sessions: u64,
    pub denials: u64,
    pub skipped: u64,
}

impl ImportRow {
    fn of(r: ImportRecord) -> Self {
        let count = |key: &str| r.summary.get(key).and_then(|v| v.as_u64()).unwrap_or(0);
        let events = r
            .summary
            .get("events")
            .and_then(|e| e.as_object())
            .map_or(0, |kinds| kinds.values().filter_map(|v| v.as_u64()).sum());
        let skipped = r
            .summary
            .get("skipped")
            .and_then(|s| s.as_array())
            .map_or(0, |skips| {
                skips
                    .iter()
                    .filter_map(|s| s.get("count").and_then(|c| c.as_u64()))
                    .sum()
            });
        Self {
            outcome_class: match r.outcome.as_str() {
                "success" => "ok",
                "failure" => "bad",
                _ => "warn",
            },
            events,
            sessions: count("sessions"),
            denials: count("denials"),
            skipped,
            file_name: r.file_name,
            format: r.format,
            via: r.via,
            started_at: r.started_at.to_rfc3339(),
            finished_at: r.finished_at.to_rfc3339(),
            outcome: r.outcome,
            reason: r.reason.unwrap_or_default(),
        }
    }
}

pub async fn imports_of(state: &AppState, id: ServerId) -> Result<Vec<ImportRow>, StoreError> {
    Ok(state
        .store
        .import_runs(id, SHOWN)
        .await?
        .into_iter()
        .map(ImportRow::of)
        .collect())
}
