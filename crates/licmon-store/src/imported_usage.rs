//! Usage history from imported logs: how many licenses of each feature were in use, bucket by
//! bucket, computed from the sessions an import rebuilt (OUT/IN pairs).
//!
//! Polls leave rollups (samples of what the status utility said); a log has no samples, but it
//! has every checkout and check-in, so the usage at every instant is known exactly. A bucket's
//! figures are therefore time-weighted: max and min are the highest and lowest count held at any
//! moment of the part of the bucket the log covers, avg is the count averaged over that part,
//! and `samples` is its length in seconds. Computed when asked, not stored: imports stay as
//! fast as they are, and a re-import or a second file of the same server can never leave stale
//! figures behind.
//!
//! The log covers the time from the first imported checkout to the last event imported
//! (`import_state.last_event_at`); outside it nothing is known and no bucket is given. A session
//! still open at the end of the log counts until that end. A checkout and check-in in the same
//! second held a license for under a second, which counts as one second (the log's resolution),
//! so that the peak sees it. Check-ins are applied before checkouts of the same instant: a
//! license handed from one user to another at 10:00:00 is one license, not two.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use chrono::{DateTime, Utc};

use crate::traits::UsagePoint;

/// Running figures of one bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    covered_ms: i64,
    /// Licenses × milliseconds.
    weighted: u128,
    min: u64,
    max: u64,
}

impl Bucket {
    const EMPTY: Bucket = Bucket {
        covered_ms: 0,
        weighted: 0,
        min: u64::MAX,
        max: 0,
    };
}

/// One feature: licenses held now, since when, and its buckets so far.
struct Feature {
    name: String,
    level: i64,
    at: i64,
    buckets: Vec<Bucket>,
}

/// Buckets of `bucket_ms` (aligned to the epoch, like the rollups) for `[covered_from,
/// covered_to)`, from sessions fed in the order they started. A sweep: check-ins wait in a heap
/// until time reaches them, so memory is the open sessions plus the buckets, however many
/// sessions the range holds (a year of the benchmark log is 7.4 million).
pub(crate) struct UsageSweep {
    covered_from: i64,
    covered_to: i64,
    bucket_ms: i64,
    first_bucket: i64,
    bucket_count: usize,
    index: HashMap<String, usize>,
    features: Vec<Feature>,
    /// (end, feature, licenses) of the sessions held now, earliest end first.
    ends: BinaryHeap<Reverse<(i64, usize, i64)>>,
}

impl UsageSweep {
    pub(crate) fn new(covered_from: i64, covered_to: i64, bucket_ms: i64) -> Self {
        let bucket_ms = bucket_ms.max(1);
        let first_bucket = covered_from.div_euclid(bucket_ms) * bucket_ms;
        let bucket_count = if covered_from < covered_to {
            usize::try_from((covered_to - 1 - first_bucket) / bucket_ms + 1).unwrap_or(0)
        } else {
            0
        };
        Self {
            covered_from,
            covered_to,
            bucket_ms,
            first_bucket,
            bucket_count,
            index: HashMap::new(),
            features: Vec::new(),
            ends: BinaryHeap::new(),
        }
    }

    /// One session; sessions come in the order they started (milliseconds since the epoch).
    pub(crate) fn push(&mut self, feature: &str, start: i64, end: Option<i64>, count: u64) {
        let from = start.max(self.covered_from);
        let to = end
            .unwrap_or(self.covered_to)
            .max(start + 1000)
            .min(self.covered_to);
        if from >= to {
            return;
        }
        // Check-ins up to this checkout first, equal times included.
        self.end_until(from);
        let f = self.feature(feature);
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        self.change(f, from, count);
        self.ends.push(Reverse((to, f, count)));
    }

    /// The points, ordered by bucket and then feature name.
    pub(crate) fn finish(mut self) -> Vec<UsagePoint> {
        self.end_until(self.covered_to);
        let mut order: Vec<usize> = (0..self.features.len()).collect();
        order.sort_by(|&a, &b| self.features[a].name.cmp(&self.features[b].name));
        let mut points = Vec::new();
        for f in order {
            self.change(f, self.covered_to, 0);
            let feature = &self.features[f];
            for (i, b) in feature.buckets.iter().enumerate() {
                if b.covered_ms == 0 {
                    continue;
                }
                let start = self.first_bucket + i as i64 * self.bucket_ms;
                points.push(UsagePoint {
                    feature: feature.name.clone(),
                    bucket_start: DateTime::<Utc>::from_timestamp_millis(start).unwrap_or_default(),
                    min_in_use: b.min,
                    avg_in_use: b.weighted as f64 / b.covered_ms as f64,
                    max_in_use: b.max,
                    issued: None,
                    samples: (b.covered_ms / 1000) as u64,
                    imported: true,
                });
            }
        }
        // Stable: features stay in name order within a bucket.
        points.sort_by_key(|p| p.bucket_start);
        points
    }

    fn feature(&mut self, name: &str) -> usize {
        if let Some(&f) = self.index.get(name) {
            return f;
        }
        self.features.push(Feature {
            name: name.to_string(),
            level: 0,
            at: self.covered_from,
            buckets: vec![Bucket::EMPTY; self.bucket_count],
        });
        self.index.insert(name.to_string(), self.features.len() - 1);
        self.features.len() - 1
    }

    fn end_until(&mut self, time: i64) {
        while let Some(&Reverse((end, f, count))) = self.ends.peek() {
            if end > time {
                break;
            }
            self.ends.pop();
            self.change(f, end, -count);
        }
    }

    /// The feature's level changes by `delta` at `time`: what it held until then is counted.
    fn change(&mut self, f: usize, time: i64, delta: i64) {
        let (first_bucket, bucket_ms) = (self.first_bucket, self.bucket_ms);
        let feature = &mut self.features[f];
        let time = time.max(feature.at);
        hold(
            &mut feature.buckets,
            first_bucket,
            bucket_ms,
            feature.at,
            time,
            feature.level,
        );
        feature.level += delta;
        feature.at = time;
    }
}

/// `level` licenses were held over `[from, to)`: add that to every bucket it overlaps.
fn hold(figures: &mut [Bucket], first_bucket: i64, bucket_ms: i64, from: i64, to: i64, level: i64) {
    let level = u64::try_from(level).unwrap_or(0);
    let mut t = from;
    while t < to {
        let index = ((t - first_bucket) / bucket_ms) as usize;
        let bucket_end = first_bucket + (index as i64 + 1) * bucket_ms;
        let piece_end = bucket_end.min(to);
        let Some(b) = figures.get_mut(index) else {
            return;
        };
        let length = piece_end - t;
        b.covered_ms += length;
        b.weighted += u128::from(level) * length as u128;
        b.min = b.min.min(level);
        b.max = b.max.max(level);
        t = piece_end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    /// The sweep over `rows`, fed in start order as the store does.
    fn usage_points(
        rows: &[(&str, i64, Option<i64>, u64)],
        from: i64,
        to: i64,
        bucket: i64,
    ) -> Vec<UsagePoint> {
        let mut rows = rows.to_vec();
        rows.sort_by_key(|r| r.1);
        let mut sweep = UsageSweep::new(from, to, bucket);
        for (feature, start, end, count) in rows {
            sweep.push(feature, start, end, count);
        }
        sweep.finish()
    }

    fn figures(p: &[UsagePoint]) -> Vec<(&str, i64, u64, f64, u64, u64)> {
        p.iter()
            .map(|p| {
                (
                    p.feature.as_str(),
                    p.bucket_start.timestamp_millis() / H,
                    p.min_in_use,
                    p.avg_in_use,
                    p.max_in_use,
                    p.samples,
                )
            })
            .collect()
    }

    #[test]
    fn time_weighted_figures_per_hour() {
        // 10:00–12:00 covered. One license 10:00–10:30, a second 10:15–11:30 (2 licenses).
        let sessions = [
            ("cad", 10 * H, Some(10 * H + H / 2), 1),
            ("cad", 10 * H + H / 4, Some(11 * H + H / 2), 2),
        ];
        let p = usage_points(&sessions, 10 * H, 12 * H, H);
        assert_eq!(
            figures(&p),
            [
                // 15 min at 1, 15 at 3, 30 at 2: avg (15 + 45 + 60) / 60 = 2.
                ("cad", 10, 1, 2.0, 3, 3600),
                // 30 min at 2, 30 at 0.
                ("cad", 11, 0, 1.0, 2, 3600),
            ]
        );
    }

    #[test]
    fn a_license_handed_over_in_the_same_second_is_one_license() {
        let sessions = [
            ("cad", 10 * H, Some(10 * H + H / 2), 1),
            ("cad", 10 * H + H / 2, Some(11 * H), 1),
        ];
        let p = usage_points(&sessions, 10 * H, 11 * H, H);
        assert_eq!(figures(&p), [("cad", 10, 1, 1.0, 1, 3600)]);
    }

    #[test]
    fn coverage_clips_and_open_sessions_run_to_the_end_of_the_log() {
        // The log covers 10:30–11:15; a session from 9:00 still open at the end.
        let sessions = [
            ("cad", 9 * H, None, 4),
            // Same second OUT and IN: held for a second, the peak sees it.
            ("cad", 11 * H, Some(11 * H), 1),
            // Outside the coverage: nothing.
            ("cam", 12 * H, Some(13 * H), 1),
        ];
        let p = usage_points(&sessions, 10 * H + H / 2, 11 * H + H / 4, H);
        assert_eq!(
            figures(&p),
            [
                ("cad", 10, 4, 4.0, 4, 1800),
                ("cad", 11, 4, 4.0 + 1000.0 / (H / 4) as f64, 5, 900),
            ]
        );
        assert!(usage_points(&sessions, 11 * H, 11 * H, H).is_empty());
    }

    #[test]
    fn days_and_several_features() {
        const D: i64 = 24 * H;
        // "b" seen last: points are still ordered by feature within a bucket.
        let sessions = [("b", D + H, Some(D + 2 * H), 3), ("a", 0, Some(D / 2), 1)];
        let p = usage_points(&sessions, 0, 2 * D, D);
        assert_eq!(
            figures(&p),
            [
                ("a", 0, 0, 0.5, 1, 86_400),
                ("b", 0, 0, 0.0, 0, 86_400),
                ("a", 24, 0, 0.0, 0, 86_400),
                ("b", 24, 0, 3.0 / 24.0, 3, 86_400),
            ]
        );
    }
}
