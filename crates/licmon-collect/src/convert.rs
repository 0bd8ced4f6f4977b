//! From what a parser read to the domain's snapshot, and the poll's verdict.

use chrono::{DateTime, Utc};
use licmon_core::snapshot::{Checkout, DaemonState, FeatureUsage, NodeState, PoolState, Snapshot};
use licmon_parse::{Expiry, Pool, StatusReport, UpDown};

/// A report that says the server is down is a failed poll with the utility's words.
pub fn down_reason(report: &StatusReport) -> Option<String> {
    report.server_down().then(|| {
        let message = report
            .down_reason()
            .unwrap_or("the license server is not running");
        format!("server down: {}", message.trim())
    })
}

/// Every status utility names the server it talked to (FlexNet's `License server status:`,
/// RLM's `rlm status on`, LM-X's license path) or a vendor daemon. An output that names neither
/// is not what the utility prints, even if some line looks like a feature (garbage can).
pub fn unparseable_reason(report: &StatusReport) -> Option<String> {
    let understood = !report.servers.is_empty() || !report.vendor_daemons.is_empty();
    if understood {
        return None;
    }
    Some(match report.diagnostics.first() {
        Some(d) => format!("unparseable output: line {}: {}", d.line, d.message),
        None => "unparseable output: the utility printed nothing licmon recognises".to_string(),
    })
}

pub fn pool_state(p: &Pool) -> PoolState {
    PoolState {
        version: p.version.clone(),
        expires: match p.expires {
            Some(Expiry::On(d)) => Some(d),
            _ => None,
        },
        permanent: p.expires == Some(Expiry::Permanent),
        issued: p.issued,
    }
}

pub fn snapshot(report: &StatusReport, taken_at: DateTime<Utc>) -> Snapshot {
    Snapshot {
        taken_at,
        nodes: report
            .servers
            .iter()
            .map(|n| NodeState {
                host: n.host.clone(),
                port: n.port,
                up: n.status == UpDown::Up,
                master: n.master,
                version: n.version.clone(),
                error: n.error.clone(),
            })
            .collect(),
        daemons: report
            .vendor_daemons
            .iter()
            .map(|d| DaemonState {
                name: d.name.clone(),
                up: d.status == UpDown::Up,
                version: d.version.clone(),
                error: d.error.clone(),
                denied_total: d.denied,
            })
            .collect(),
        features: report
            .features
            .iter()
            .map(|f| FeatureUsage {
                name: f.name.clone(),
                vendor: f.vendor.clone(),
                issued: f.issued,
                in_use: f.in_use,
                reserved: f.reserved,
                borrowed: f.borrowed,
                queued: f.queued,
                uncounted: f.uncounted,
                pools: f.pools.iter().map(pool_state).collect(),
                denied_total: f.denied,
            })
            .collect(),
        checkouts: report
            .sessions
            .iter()
            .map(|s| Checkout {
                feature: s.feature.clone(),
                user: s.user.clone(),
                host: s.host.clone(),
                display: s.display.clone(),
                count: s.count,
                version: s.version.clone(),
                start: s.start,
                borrowed: s.borrowed,
                queued: s.queued,
                handle: s.handle.clone(),
                ip: s.ip.clone(),
                borrow_expires: s.expires,
            })
            .collect(),
    }
}
