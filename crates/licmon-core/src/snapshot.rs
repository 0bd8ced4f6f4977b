//! What one successful poll saw, in domain terms; the store turns consecutive snapshots into
//! sessions and usage history.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeState {
    pub host: String,
    pub port: Option<u16>,
    pub up: bool,
    pub master: bool,
    pub version: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonState {
    pub name: String,
    pub up: bool,
    pub version: Option<String>,
    pub error: Option<String>,
    /// Its count of refused requests over all its features since it started, where the
    /// utility counts per daemon only (RLM ISV `Denials:`); see `FeatureUsage::denied_total`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denied_total: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolState {
    pub version: Option<String>,
    /// None: unknown; `permanent` is `Some(None)`-free: see `permanent`.
    pub expires: Option<NaiveDate>,
    pub permanent: bool,
    pub issued: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureUsage {
    pub name: String,
    pub vendor: Option<String>,
    pub issued: Option<u64>,
    pub in_use: u64,
    pub reserved: u64,
    pub borrowed: u64,
    pub queued: u64,
    pub uncounted: bool,
    pub pools: Vec<PoolState>,
    /// The server's count of refused requests for this feature since it last reset the count
    /// (LM-X `DENIED_LICENSES`, custom XML `denied`); None where the utility has no such count.
    /// The store turns its growth between polls into denials (`monitor.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denied_total: Option<u64>,
}

/// One checkout seen in a snapshot. Two checkouts are the same session when their
/// [`Checkout::key`] is equal in consecutive snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Checkout {
    pub feature: String,
    pub user: String,
    pub host: String,
    /// X display or terminal, where the utility shows one.
    pub display: Option<String>,
    pub count: u64,
    pub version: Option<String>,
    /// Checkout time (UTC).
    pub start: Option<DateTime<Utc>>,
    /// A borrowed (roaming, commuter) or lingering license.
    pub borrowed: bool,
    /// A queued request, not a checkout.
    pub queued: bool,
    /// The utility's handle for the checkout.
    pub handle: Option<String>,
    /// The client's IP address where the utility shows one (LM-X, custom XML).
    #[serde(default)]
    pub ip: Option<String>,
    /// When a borrowed (or lingering) license comes back to the server, where the utility
    /// says (FlexNet's linger, custom XML's `borrow-expires`). Not part of [`Checkout::key`]:
    /// a renewed borrow is the same session with a later expiry.
    #[serde(default)]
    pub borrow_expires: Option<DateTime<Utc>>,
}

impl Checkout {
    /// Identity across polls: the utility's handle where it gives one, otherwise who, where,
    /// what and since when.
    pub fn key(&self) -> String {
        format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
            self.feature,
            self.user,
            self.host,
            self.display.as_deref().unwrap_or(""),
            self.handle.as_deref().unwrap_or(""),
            self.start.map(|s| s.timestamp()).unwrap_or(0)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub taken_at: DateTime<Utc>,
    pub nodes: Vec<NodeState>,
    pub daemons: Vec<DaemonState>,
    pub features: Vec<FeatureUsage>,
    pub checkouts: Vec<Checkout>,
}
