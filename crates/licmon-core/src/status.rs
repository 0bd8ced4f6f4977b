//! Status derivation for the three data sources (SPEC §2): pure functions of stored facts and
//! `now`. The precedence within each source is the order of the checks below, from "cannot
//! apply" to "what happened last".

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::manager::{DataSource, ManagerKind};
use crate::server::DataSourceSwitches;

/// The End User window of SPEC §2: an agent counts as online this long after its last report.
pub const DEFAULT_AGENT_WINDOW: Duration = Duration::seconds(120);

/// How the last remote query ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PollOutcome {
    pub at: DateTime<Utc>,
    /// None when the query succeeded; the reason it failed otherwise.
    pub error: Option<String>,
}

/// How the last import ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ImportOutcome {
    Success {
        at: DateTime<Utc>,
        events: u64,
        sessions: u64,
        denials: u64,
    },
    Failure {
        at: DateTime<Utc>,
        reason: String,
    },
    RefusedOverCapacity {
        at: DateTime<Utc>,
    },
}

/// Everything status derivation looks at for one server.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerFacts {
    pub kind: ManagerKind,
    pub switches: DataSourceSwitches,
    /// The capacity limit leaves no room for this server (see [`crate::capacity`]).
    pub over_capacity: bool,
    /// A monitoring service (collector) is running for this installation.
    pub monitoring_running: bool,
    pub verify_requested_at: Option<DateTime<Utc>>,
    pub last_poll: Option<PollOutcome>,
    pub last_import: Option<ImportOutcome>,
    /// When each agent that reports for this server last did.
    pub agents_last_seen: Vec<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum RemoteStatus {
    Online,
    Offline { reason: String },
    Verifying,
    Unmonitored,
    LicenseExceeded,
    Disabled,
    NotApplicable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ImportStatus {
    Ready,
    Success {
        at: DateTime<Utc>,
        events: u64,
        sessions: u64,
        denials: u64,
    },
    Failure {
        reason: String,
    },
    LicenseExceeded,
    Disabled,
    NotApplicable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum EndUserStatus {
    Online { agents: usize },
    Offline,
    Disabled,
    NotApplicable,
}

pub fn remote_status(facts: &ServerFacts) -> RemoteStatus {
    if !facts.kind.supports(DataSource::Remote) {
        return RemoteStatus::NotApplicable;
    }
    if !facts.switches.remote {
        return RemoteStatus::Disabled;
    }
    if facts.over_capacity {
        return RemoteStatus::LicenseExceeded;
    }
    if !facts.monitoring_running {
        return RemoteStatus::Unmonitored;
    }
    let poll = facts.last_poll.as_ref();
    let verified = match (facts.verify_requested_at, poll) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(requested), Some(poll)) => poll.at >= requested,
    };
    match (verified, poll) {
        (true, Some(PollOutcome { error: None, .. })) => RemoteStatus::Online,
        (
            true,
            Some(PollOutcome {
                error: Some(reason),
                ..
            }),
        ) => RemoteStatus::Offline {
            reason: reason.clone(),
        },
        _ => RemoteStatus::Verifying,
    }
}

pub fn import_status(facts: &ServerFacts) -> ImportStatus {
    if !facts.kind.supports(DataSource::Import) {
        return ImportStatus::NotApplicable;
    }
    if !facts.switches.import {
        return ImportStatus::Disabled;
    }
    if facts.over_capacity {
        return ImportStatus::LicenseExceeded;
    }
    match &facts.last_import {
        None => ImportStatus::Ready,
        Some(ImportOutcome::Success {
            at,
            events,
            sessions,
            denials,
        }) => ImportStatus::Success {
            at: *at,
            events: *events,
            sessions: *sessions,
            denials: *denials,
        },
        Some(ImportOutcome::Failure { reason, .. }) => ImportStatus::Failure {
            reason: reason.clone(),
        },
        // Room was made since the refusal: the next import may go ahead.
        Some(ImportOutcome::RefusedOverCapacity { .. }) => ImportStatus::Ready,
    }
}

pub fn end_user_status(facts: &ServerFacts, now: DateTime<Utc>, window: Duration) -> EndUserStatus {
    if !facts.kind.supports(DataSource::EndUser) {
        return EndUserStatus::NotApplicable;
    }
    if !facts.switches.end_user {
        return EndUserStatus::Disabled;
    }
    let agents = facts
        .agents_last_seen
        .iter()
        .filter(|seen| now.signed_duration_since(**seen) <= window)
        .count();
    if agents > 0 {
        EndUserStatus::Online { agents }
    } else {
        EndUserStatus::Offline
    }
}

/// The three statuses of one server, as the API and the dashboard show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerStatuses {
    pub remote: RemoteStatus,
    pub import: ImportStatus,
    pub end_user: EndUserStatus,
}

impl ServerStatuses {
    pub fn derive(facts: &ServerFacts, now: DateTime<Utc>, agent_window: Duration) -> Self {
        Self {
            remote: remote_status(facts),
            import: import_status(facts),
            end_user: end_user_status(facts, now, agent_window),
        }
    }
}

impl RemoteStatus {
    /// The display string of SPEC §2.
    pub fn label(&self) -> String {
        match self {
            RemoteStatus::Online => "Online",
            RemoteStatus::Offline { .. } => "Offline",
            RemoteStatus::Verifying => "Verifying",
            RemoteStatus::Unmonitored => "Unmonitored",
            RemoteStatus::LicenseExceeded => "License Exceeded",
            RemoteStatus::Disabled => "Disabled",
            RemoteStatus::NotApplicable => "N/A",
        }
        .to_string()
    }

    pub fn reason(&self) -> Option<String> {
        match self {
            RemoteStatus::Offline { reason } => Some(reason.clone()),
            RemoteStatus::Unmonitored => Some("the monitoring service is not running".into()),
            RemoteStatus::LicenseExceeded => {
                Some("licmon's max_license_servers leaves no room for this server".into())
            }
            _ => None,
        }
    }
}

impl ImportStatus {
    pub fn label(&self) -> String {
        match self {
            ImportStatus::Ready => "Ready",
            ImportStatus::Success { .. } => "Success",
            ImportStatus::Failure { .. } => "Failure",
            ImportStatus::LicenseExceeded => "License Exceeded",
            ImportStatus::Disabled => "Disabled",
            ImportStatus::NotApplicable => "N/A",
        }
        .to_string()
    }

    pub fn reason(&self) -> Option<String> {
        match self {
            ImportStatus::Success {
                at,
                events,
                sessions,
                denials,
            } => Some(format!(
                "imported {} UTC: {events} events, {sessions} sessions, {denials} denials",
                at.format("%Y-%m-%d %H:%M")
            )),
            ImportStatus::Failure { reason } => Some(reason.clone()),
            ImportStatus::LicenseExceeded => Some(
                "imports are refused: max_license_servers leaves no room for this server".into(),
            ),
            _ => None,
        }
    }
}

impl EndUserStatus {
    pub fn label(&self) -> String {
        match self {
            EndUserStatus::Online { agents } => format!("Online ({agents})"),
            EndUserStatus::Offline => "Offline".into(),
            EndUserStatus::Disabled => "Disabled".into(),
            EndUserStatus::NotApplicable => "N/A".into(),
        }
    }

    pub fn reason(&self) -> Option<String> {
        match self {
            EndUserStatus::Offline => Some("no agent reported in the last 2 minutes".into()),
            _ => None,
        }
    }
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
