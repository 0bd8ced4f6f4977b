//! Remote monitoring (SPEC §3): one poll loop per enabled server, a global concurrency cap,
//! utilities run defensively, outcomes recorded in the store, logged and counted.
//!
//! Invariants: a poll loop never overlaps itself; a failed poll closes no session; no child
//! process outlives its poll (killed on timeout, on reconfiguration and on shutdown).

pub mod command;
pub mod convert;
mod engine;
mod leases;
mod license_info;
pub mod poll_metrics;
pub mod runner;
mod stats;

pub use engine::{Collector, CollectorConfig, poll_once};
pub use poll_metrics::PollMetrics;
pub use stats::{LatencySummary, PollLatency, PollStats};
