//! One server's rows of the feature usage report, from its usage history (hourly or daily
//! buckets), its sessions per feature and its denials per feature. Pure: tested with
//! hand-made inputs.

use std::collections::BTreeMap;

use licmon_core::{LicenseServer, ServerId};
use licmon_store::{DenialCount, SessionTotal, UsagePoint};
use serde::Serialize;

/// The length of the periods a report counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    Hour,
    Day,
}

/// One feature of one server over the report's range.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FeatureUsageRow {
    pub server_id: ServerId,
    pub server: String,
    pub feature: String,
    /// The most seats issued at any time in the range; None when no count is known
    /// (uncounted features, or only sessions and denials in the range).
    pub issued: Option<u64>,
    /// The most seats in use at once.
    pub peak_in_use: u64,
    /// Seats in use on average over the periods with data.
    pub average_in_use: f64,
    /// `peak_in_use` / `issued`, in percent.
    pub peak_percent: Option<f64>,
    /// `average_in_use` / `issued`, in percent.
    pub average_percent: Option<f64>,
    /// Issued seats never in use at once in the range: `issued - peak_in_use`.
    pub never_used_seats: Option<u64>,
    /// Periods (see `bucket`) in which every issued seat was in use at some moment.
    pub at_capacity: u64,
    /// Periods with usage data: what `at_capacity` and the averages are out of.
    pub covered: u64,
    /// `hour` for ranges up to 93 days, `day` beyond.
    pub bucket: Bucket,
    /// Sessions that overlap the range.
    pub sessions: u64,
    /// Distinct users among them.
    pub users: u64,
    /// Session time × licenses held, inside the range.
    pub license_hours: f64,
    /// Denials in the range, retries included.
    pub denials: u64,
    /// Denials not followed by a checkout within the retry window.
    pub true_denials: u64,
}

#[derive(Default)]
struct Usage {
    issued: Option<u64>,
    peak: u64,
    sum_of_averages: f64,
    at_capacity: u64,
    covered: u64,
}

/// The rows of `server`, one per feature found in any of the three inputs, by feature name.
pub fn rows_of(
    server: &LicenseServer,
    points: &[UsagePoint],
    sessions: &[SessionTotal],
    denials: &[DenialCount],
    bucket: Bucket,
) -> Vec<FeatureUsageRow> {
    let mut usage: BTreeMap<&str, Usage> = BTreeMap::new();
    for p in points {
        let u = usage.entry(p.feature.as_str()).or_default();
        if let Some(issued) = p.issued {
            u.issued = Some(u.issued.map_or(issued, |i| i.max(issued)));
        }
        u.peak = u.peak.max(p.max_in_use);
        u.sum_of_averages += p.avg_in_use;
        u.covered += 1;
        if p.issued.is_some_and(|i| i > 0 && p.max_in_use >= i) {
            u.at_capacity += 1;
        }
    }
    for name in sessions.iter().map(|s| s.name.as_str()) {
        usage.entry(name).or_default();
    }
    for name in denials.iter().map(|d| d.name.as_str()) {
        usage.entry(name).or_default();
    }
    usage
        .into_iter()
        .map(|(feature, u)| {
            let session = sessions.iter().find(|s| s.name == feature);
            let denial = denials.iter().find(|d| d.name == feature);
            let average = if u.covered > 0 {
                u.sum_of_averages / u.covered as f64
            } else {
                0.0
            };
            let percent = |n: f64| {
                u.issued
                    .filter(|&i| i > 0)
                    .map(|i| (n / i as f64 * 1000.0).round() / 10.0)
            };
            FeatureUsageRow {
                server_id: server.id,
                server: server.name.clone(),
                feature: feature.to_string(),
                issued: u.issued,
                peak_in_use: u.peak,
                average_in_use: (average * 100.0).round() / 100.0,
                peak_percent: percent(u.peak as f64),
                average_percent: percent(average),
                never_used_seats: u.issued.map(|i| i.saturating_sub(u.peak)),
                at_capacity: u.at_capacity,
                covered: u.covered,
                bucket,
                sessions: session.map_or(0, |s| s.sessions),
                users: session.map_or(0, |s| s.users),
                license_hours: session.map_or(0.0, |s| (s.license_hours * 100.0).round() / 100.0),
                denials: denial.map_or(0, |d| d.denials),
                true_denials: denial.map_or(0, |d| d.true_denials),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
