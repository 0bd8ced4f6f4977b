//! The wire format between `licmon-agent` and licmon's `/api/v1/agent/*` endpoints.
//!
//! Invariants:
//! - Every document carries `version`; a receiver refuses versions it does not know
//!   ([`PROTOCOL_VERSION`]) instead of guessing.
//! - A report is the *whole* state of what one scan saw for one license server, not a delta:
//!   sending it twice, or losing one, is harmless (the next one restates everything).
//! - Serde types only, no I/O: both sides depend on this crate, and nothing else of each other.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// Default seconds between two scans (and reports).
pub const DEFAULT_REPORT_INTERVAL_SECS: u64 = 30;

/// Default seconds between two configuration fetches.
pub const DEFAULT_CONFIG_REFRESH_SECS: u64 = 300;

/// `POST /api/v1/agent/reports`: who sends, and one or more reports (several when the agent
/// buffered while licmon was unreachable), oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportDocument {
    pub version: u32,
    pub agent: AgentInfo,
    pub reports: Vec<Report>,
}

/// The sending agent. `id` is stable per machine (by default the host name); the registry keys
/// agents by it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentInfo {
    pub id: String,
    pub host: String,
    /// The account the agent runs as.
    pub user: String,
    /// The agent's own version (`licmon-agent --version`).
    pub agent_version: String,
    /// The agent's last problem (licmon unreachable, a refused report, a scan failure), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// What one scan saw for one license server: every monitored application that runs, per
/// executable and user. An empty `apps` says "I watch this server and nothing runs".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub server_id: i64,
    pub observed_at: DateTime<Utc>,
    pub apps: Vec<AppUsage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppUsage {
    /// The feature the configuration maps the executable to.
    pub feature: String,
    /// The executable's file name as the process table shows it.
    pub executable: String,
    pub user: String,
    /// How many processes of this executable this user runs.
    pub instances: u32,
    /// The earliest start among them.
    pub started_at: DateTime<Utc>,
    /// Seconds since any of them last used CPU time (0 = busy since the last scan).
    pub idle_secs: u64,
}

/// `GET /api/v1/agent/config`: what to watch and how often to report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentConfig {
    pub version: u32,
    pub report_interval_secs: u64,
    pub config_refresh_secs: u64,
    pub apps: Vec<AppRule>,
}

/// Processes whose executable file name is one of `executables` count as `feature` of the
/// license server `server_id`. Names compare case-insensitively, with or without `.exe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRule {
    pub server_id: i64,
    pub feature: String,
    pub executables: Vec<String>,
}

/// The body of a refusal (any 4xx/5xx from licmon): `{"error": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

/// The answer to an accepted report document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    pub accepted: usize,
}

/// Compares an executable name from the process table with a configured one: case-insensitive,
/// and `.exe` optional on both sides.
pub fn executable_matches(seen: &str, configured: &str) -> bool {
    fn stem(s: &str) -> &str {
        let s = s.trim();
        match s.len().checked_sub(4) {
            Some(i) if s.is_char_boundary(i) && s[i..].eq_ignore_ascii_case(".exe") => &s[..i],
            _ => s,
        }
    }
    stem(seen).eq_ignore_ascii_case(stem(configured))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_round_trips_and_unknown_fields_are_refused() {
        let doc = ReportDocument {
            version: PROTOCOL_VERSION,
            agent: AgentInfo {
                id: "ws-1".into(),
                host: "ws-1".into(),
                user: "root".into(),
                agent_version: "0.1.0".into(),
                last_error: None,
            },
            reports: vec![Report {
                server_id: 3,
                observed_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
                apps: vec![AppUsage {
                    feature: "matlab".into(),
                    executable: "matlab".into(),
                    user: "alice".into(),
                    instances: 2,
                    started_at: DateTime::from_timestamp(1_799_999_000, 0).unwrap(),
                    idle_secs: 0,
                }],
            }],
        };
        let text = serde_json::to_string(&doc).unwrap();
        assert!(
            text.starts_with(r#"{"version":1,"agent":{"id":"ws-1""#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<ReportDocument>(&text).unwrap(), doc);
        let extra = text.replacen(r#""version":1"#, r#""version":1,"surprise":true"#, 1);
        assert!(serde_json::from_str::<ReportDocument>(&extra).is_err());
    }

    #[test]
    fn executable_names_match_loosely() {
        assert!(executable_matches("MATLAB.exe", "matlab"));
        assert!(executable_matches("matlab", "Matlab.EXE"));
        assert!(!executable_matches("matlab2", "matlab"));
        assert!(!executable_matches("é", "x.exe"));
    }
}
