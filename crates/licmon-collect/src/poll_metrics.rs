//! Prometheus metrics of this node's polls: a duration histogram per license server and
//! outcome counters per server and reason kind (`ok`, `timeout`, `server_down`, ...). Labels
//! are bounded: server names and a closed set of kinds, never users or sessions.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;

use crate::PollStats;

/// Upper bounds of the poll-duration buckets, in seconds.
pub const DURATION_BUCKETS: [f64; 11] =
    [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServerLabel {
    pub server: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub server: String,
    pub outcome: String,
}

fn histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// The families; clones share the same values (they are handles).
#[derive(Debug, Clone)]
pub struct PollMetrics {
    pub duration_seconds: Family<ServerLabel, Histogram, fn() -> Histogram>,
    pub polls: Family<OutcomeLabels, Counter>,
}

impl Default for PollMetrics {
    fn default() -> Self {
        Self {
            duration_seconds: Family::new_with_constructor(histogram),
            polls: Family::default(),
        }
    }
}

impl PollMetrics {
    pub fn observe(&self, server: &str, outcome: &str, run_ms: u32) {
        self.duration_seconds
            .get_or_create(&ServerLabel {
                server: server.to_string(),
            })
            .observe(run_ms as f64 / 1000.0);
        self.polls
            .get_or_create(&OutcomeLabels {
                server: server.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
    }
}

impl PollStats {
    /// The Prometheus families of this node's polls.
    pub fn metrics(&self) -> &PollMetrics {
        &self.poll_metrics
    }
}
