//! The feature usage report: per license server and feature over a range, what sizing a
//! renewal takes — seats issued, the peak and average in use, how long the feature was at
//! capacity, the seats never used, the users and license hours, and how often users were
//! turned away. Served as JSON/CSV (`/api/v1/reports/feature-usage`) and as the Reports page;
//! both build it here.

mod feature_usage;

pub use feature_usage::{Bucket, FeatureUsageRow, rows_of};

use chrono::{DateTime, Duration, Utc};
use licmon_core::LicenseServer;
use licmon_store::{DenialFilter, DenialGroup, Granularity, StoreError, TotalsBy};

use crate::AppState;

/// Ranges up to this long are measured by the hour; longer ones by the day (a year of hours
/// for every feature of a large site is more than a report needs).
const HOURLY_UP_TO: Duration = Duration::days(93);

/// More features than any server has: the denial counts of every one.
const ALL_FEATURES: u32 = 1_000_000;

/// The range a report covers: `[from, to)`.
#[derive(Debug, Clone, Copy)]
pub struct ReportRange {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Open sessions count up to now.
    pub now: DateTime<Utc>,
}

impl ReportRange {
    pub fn bucket(&self) -> Bucket {
        if self.to - self.from <= HOURLY_UP_TO {
            Bucket::Hour
        } else {
            Bucket::Day
        }
    }
}

/// The report's rows for `servers` (in their order), features by name within each.
pub async fn feature_usage(
    state: &AppState,
    servers: &[LicenseServer],
    range: ReportRange,
) -> Result<Vec<FeatureUsageRow>, StoreError> {
    let bucket = range.bucket();
    let granularity = match bucket {
        Bucket::Hour => Granularity::Hour,
        Bucket::Day => Granularity::Day,
    };
    let mut rows = Vec::new();
    for server in servers {
        let points = state
            .store
            .usage(server.id, granularity, None, range.from, range.to)
            .await?;
        let sessions = state
            .store
            .session_totals(
                server.id,
                TotalsBy::Feature,
                range.from,
                range.to,
                range.now,
            )
            .await?;
        let in_range = DenialFilter {
            from: Some(range.from),
            to: Some(range.to),
            ..DenialFilter::default()
        };
        let denials = state
            .store
            .denial_counts(server.id, DenialGroup::Feature, &in_range, ALL_FEATURES)
            .await?;
        rows.extend(rows_of(server, &points, &sessions, &denials, bucket));
    }
    Ok(rows)
}
