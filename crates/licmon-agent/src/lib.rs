//! `licmon-agent`: scans a workstation's processes and reports the monitored applications to
//! licmon (`/api/v1/agent/*`), in the wire format of `licmon-protocol`.
//!
//! Invariants:
//! - No dependency on licmon's server, store or core: only the protocol crate and small crates.
//! - Never exits because of licmon: unreachable, refused or malformed answers are logged,
//!   reports are kept in a bounded buffer ([`run::Buffer`]) and sent later with exponential
//!   backoff ([`run::Backoff`]); the last good configuration is kept.

pub mod client;
pub mod config;
pub mod run;
pub mod scan;
