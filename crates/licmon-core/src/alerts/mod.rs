//! Alert rules (issue 9): what a rule watches, and — as pure functions of facts and `now` —
//! which conditions hold ([`eval`]) and how open alerts move between pending, firing and
//! resolved ([`transition`]). The store keeps the alerts, licmon-alert delivers them.
//!
//! Invariants:
//! - An alert is one (rule, subject) pair, e.g. rule 4 on `server:3/feature:solver`. At most one
//!   is open per pair; it fires once when its condition has held for the rule's hold time and
//!   resolves once when the condition is gone. Nothing repeats while it stays open.
//! - Rules read facts only (statuses, the current snapshot, denial counts, capacity), never the
//!   clock: every rule is tested with controlled time.

pub mod eval;
pub mod transition;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ServerId;
use crate::validation::ValidationErrors;

pub type RuleId = i64;

/// What a rule watches, with its threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleKind {
    /// Remote status Offline for at least `minutes` without a break.
    ServerOffline { minutes: u32 },
    /// A vendor daemon or a redundant-triad member reported down by an Online server.
    DaemonDown,
    /// In use ≥ `percent` % of issued, for one feature (`feature`) or every counted one.
    Utilisation {
        percent: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        feature: Option<String>,
    },
    /// A license pool expires within `days` days (permanent licenses never do).
    Expiring { days: u32 },
    /// More than `per_hour` true denials (retries excluded) in the last hour.
    Denials { per_hour: u32 },
    /// The server's last import failed.
    ImportFailed,
    /// Nothing gathered (no successful poll or import) for `minutes`.
    NoData { minutes: u32 },
    /// licmon's capacity (`max_license_servers`) is 90 % used or more.
    Capacity,
}

impl RuleKind {
    pub const IDS: [&'static str; 8] = [
        "server_offline",
        "daemon_down",
        "utilisation",
        "expiring",
        "denials",
        "import_failed",
        "no_data",
        "capacity",
    ];

    pub fn id(&self) -> &'static str {
        match self {
            RuleKind::ServerOffline { .. } => "server_offline",
            RuleKind::DaemonDown => "daemon_down",
            RuleKind::Utilisation { .. } => "utilisation",
            RuleKind::Expiring { .. } => "expiring",
            RuleKind::Denials { .. } => "denials",
            RuleKind::ImportFailed => "import_failed",
            RuleKind::NoData { .. } => "no_data",
            RuleKind::Capacity => "capacity",
        }
    }

    /// A sentence for pages and e-mails.
    pub fn describe(&self) -> String {
        match self {
            RuleKind::ServerOffline { minutes } => format!("Offline for {minutes} min or longer"),
            RuleKind::DaemonDown => "a vendor daemon or triad member is down".into(),
            RuleKind::Utilisation {
                percent,
                feature: Some(f),
            } => format!("{f} at or above {percent} % in use"),
            RuleKind::Utilisation {
                percent,
                feature: None,
            } => format!("any feature at or above {percent} % in use"),
            RuleKind::Expiring { days } => format!("a license expires within {days} days"),
            RuleKind::Denials { per_hour } => format!("more than {per_hour} true denials per hour"),
            RuleKind::ImportFailed => "an import failed".into(),
            RuleKind::NoData { minutes } => format!("no data gathered for {minutes} min"),
            RuleKind::Capacity => "licmon capacity at or above 90 %".into(),
        }
    }

    /// Builds a kind from its id and the form's numbers (`threshold`, `feature`).
    pub fn from_parts(
        id: &str,
        threshold: Option<u32>,
        feature: Option<String>,
    ) -> Result<Self, String> {
        let need =
            |what: &str| threshold.ok_or_else(|| format!("a {id} rule needs a threshold ({what})"));
        Ok(match id {
            "server_offline" => RuleKind::ServerOffline {
                minutes: need("minutes")?,
            },
            "daemon_down" => RuleKind::DaemonDown,
            "utilisation" => RuleKind::Utilisation {
                percent: need("percent")?,
                feature: feature.filter(|f| !f.trim().is_empty()),
            },
            "expiring" => RuleKind::Expiring {
                days: need("days")?,
            },
            "denials" => RuleKind::Denials {
                per_hour: need("denials per hour")?,
            },
            "import_failed" => RuleKind::ImportFailed,
            "no_data" => RuleKind::NoData {
                minutes: need("minutes")?,
            },
            "capacity" => RuleKind::Capacity,
            other => {
                return Err(format!(
                    "unknown rule kind \"{other}\"; one of {}",
                    Self::IDS.join(", ")
                ));
            }
        })
    }

    /// The number the rule compares with, if it has one.
    pub fn threshold(&self) -> Option<u32> {
        match self {
            RuleKind::ServerOffline { minutes } | RuleKind::NoData { minutes } => Some(*minutes),
            RuleKind::Utilisation { percent, .. } => Some(*percent),
            RuleKind::Expiring { days } => Some(*days),
            RuleKind::Denials { per_hour } => Some(*per_hour),
            RuleKind::DaemonDown | RuleKind::ImportFailed | RuleKind::Capacity => None,
        }
    }
}

/// A rule as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertRule {
    pub id: RuleId,
    pub name: String,
    #[serde(flatten)]
    pub kind: RuleKind,
    /// Only this server; `None` = every server.
    pub server_id: Option<ServerId>,
    pub enabled: bool,
    /// JSON webhook POSTed on every firing and resolution.
    pub webhook_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A rule as an administrator submits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRuleInput {
    pub name: String,
    #[serde(flatten)]
    pub kind: RuleKind,
    #[serde(default)]
    pub server_id: Option<ServerId>,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub webhook_url: Option<String>,
}

fn yes() -> bool {
    true
}

impl AlertRuleInput {
    /// Checks the input; trims the name and drops an empty webhook URL.
    pub fn validate(mut self) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        self.name = self.name.trim().to_string();
        if self.name.is_empty() || self.name.chars().count() > 100 {
            errors.add("name", "give the rule a name of 1 to 100 characters");
        }
        match &self.kind {
            RuleKind::Utilisation { percent, .. } if !(1..=100).contains(percent) => {
                errors.add("threshold", "utilisation is a percentage from 1 to 100")
            }
            RuleKind::ServerOffline { minutes } | RuleKind::NoData { minutes }
                if *minutes > 60 * 24 * 30 =>
            {
                errors.add("threshold", "minutes must be at most 43200 (30 days)")
            }
            RuleKind::Expiring { days } if *days > 3650 => {
                errors.add("threshold", "days must be at most 3650")
            }
            _ => {}
        }
        self.webhook_url = self
            .webhook_url
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty());
        if let Some(url) = &self.webhook_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            errors.add(
                "webhook_url",
                "the webhook URL must start with http:// or https://",
            );
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }
}

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// The condition holds but not yet for the rule's hold time: nothing sent.
    Pending,
    /// Sent as firing.
    Firing,
    /// Sent as resolved (or a pending one whose condition went away: never sent).
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(AlertState::Pending),
            "firing" => Some(AlertState::Firing),
            "resolved" => Some(AlertState::Resolved),
            _ => None,
        }
    }
}

/// A notification event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertEvent {
    Firing,
    Resolved,
}

impl AlertEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertEvent::Firing => "firing",
            AlertEvent::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "firing" => Some(AlertEvent::Firing),
            "resolved" => Some(AlertEvent::Resolved),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
