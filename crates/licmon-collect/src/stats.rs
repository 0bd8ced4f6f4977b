use std::collections::BTreeMap;
use std::sync::Mutex;

/// Poll outcomes counted by kind (`ok`, `timeout`, `not_found`, `server_down`, ...), for the
/// logs now and for metrics.
#[derive(Debug, Default)]
pub struct PollStats {
    counts: Mutex<BTreeMap<&'static str, u64>>,
    /// Latencies of the polls since the last [`PollStats::take_latencies`].
    latencies: Mutex<Vec<PollLatency>>,
    /// Per-server duration histograms and outcome counters for `/metrics`.
    pub(crate) poll_metrics: crate::poll_metrics::PollMetrics,
}

/// How long one poll took: running the utility (and parsing its output), and from when it was
/// due (its interval since the previous poll was over) until its outcome was stored — which
/// adds the wait for the concurrency cap and the database write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollLatency {
    pub run_ms: u32,
    pub since_due_ms: u32,
}

/// Percentiles of a window of polls, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LatencySummary {
    pub polls: usize,
    pub run_p50: u32,
    pub run_p90: u32,
    pub run_p99: u32,
    pub run_max: u32,
    pub due_p50: u32,
    pub due_p99: u32,
    pub due_max: u32,
}

impl LatencySummary {
    pub fn of(window: &[PollLatency]) -> Self {
        let mut run: Vec<u32> = window.iter().map(|l| l.run_ms).collect();
        let mut due: Vec<u32> = window.iter().map(|l| l.since_due_ms).collect();
        run.sort_unstable();
        due.sort_unstable();
        let pct = |v: &[u32], p: usize| {
            if v.is_empty() {
                0
            } else {
                v[((v.len() - 1) * p).div_ceil(100)]
            }
        };
        Self {
            polls: window.len(),
            run_p50: pct(&run, 50),
            run_p90: pct(&run, 90),
            run_p99: pct(&run, 99),
            run_max: run.last().copied().unwrap_or(0),
            due_p50: pct(&due, 50),
            due_p99: pct(&due, 99),
            due_max: due.last().copied().unwrap_or(0),
        }
    }
}

impl PollStats {
    pub fn count(&self, outcome: &'static str) {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *counts.entry(outcome).or_insert(0) += 1;
    }

    pub fn latency(&self, latency: PollLatency) {
        self.latencies
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(latency);
    }

    /// The latencies recorded since the last call, summarised.
    pub fn take_latencies(&self) -> LatencySummary {
        let window = std::mem::take(
            &mut *self
                .latencies
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        LatencySummary::of(&window)
    }

    pub fn snapshot(&self) -> BTreeMap<&'static str, u64> {
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_window() {
        let stats = PollStats::default();
        for ms in 1..=100 {
            stats.latency(PollLatency {
                run_ms: ms,
                since_due_ms: ms * 2,
            });
        }
        let s = stats.take_latencies();
        assert_eq!(
            (s.polls, s.run_p50, s.run_p90, s.run_p99, s.run_max),
            (100, 51, 91, 100, 100)
        );
        assert_eq!((s.due_p50, s.due_max), (102, 200));
        assert_eq!(stats.take_latencies(), LatencySummary::default());
    }
}
