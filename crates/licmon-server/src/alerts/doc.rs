//! The OpenAPI schemas of the alert endpoints. The types they document live in licmon-core
//! (`AlertRule`, `AlertRuleInput`: no utoipa there, it does no I/O and knows no HTTP) and in
//! licmon-store (`AlertRecord`), so they are described here; `tests/openapi.rs` checks real
//! answers against these schemas strictly, and the tests below pin the documented enums to the real ones.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// What a rule watches (`licmon_core::alerts::RuleKind`). Which threshold field it takes:
/// `server_offline`, `no_data`: `minutes`; `utilisation`: `percent` (1–100) and optionally
/// `feature`; `expiring`: `days`; `denials`: `per_hour`; the others none.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = AlertRuleKind)]
#[allow(dead_code)] // a schema only
pub enum RuleKindDoc {
    ServerOffline,
    DaemonDown,
    Utilisation,
    Expiring,
    Denials,
    ImportFailed,
    NoData,
    Capacity,
}

/// An alert rule; its kind and threshold are fields of the rule itself.
#[derive(ToSchema)]
#[schema(as = AlertRule)]
#[allow(dead_code)] // a schema only
pub struct AlertRuleDoc {
    id: i64,
    name: String,
    kind: RuleKindDoc,
    /// `server_offline`, `no_data`: minutes without a break.
    minutes: Option<u32>,
    /// `utilisation`: in use ≥ this % of issued.
    percent: Option<u32>,
    /// `utilisation`: only this feature (absent: every counted feature).
    feature: Option<String>,
    /// `expiring`: a pool expires within this many days.
    days: Option<u32>,
    /// `denials`: more than this many true denials in the last hour.
    per_hour: Option<u32>,
    /// Only this license server; null = every server.
    server_id: Option<i64>,
    enabled: bool,
    /// JSON webhook POSTed on every firing and resolution.
    webhook_url: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A rule as an administrator submits it (`POST`, `PUT`): `name`, `kind` and the kind's
/// threshold field (see `AlertRuleKind`).
#[derive(ToSchema)]
#[schema(as = AlertRuleInput)]
#[allow(dead_code)] // a schema only
pub struct AlertRuleInputDoc {
    /// 1 to 100 characters.
    name: String,
    kind: RuleKindDoc,
    minutes: Option<u32>,
    #[schema(minimum = 1, maximum = 100)]
    percent: Option<u32>,
    feature: Option<String>,
    days: Option<u32>,
    per_hour: Option<u32>,
    server_id: Option<i64>,
    /// Default true.
    enabled: Option<bool>,
    /// `http://` or `https://`.
    webhook_url: Option<String>,
}

/// Where an alert stands (`licmon_core::alerts::AlertState`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = AlertState)]
#[allow(dead_code)] // a schema only
pub enum AlertStateDoc {
    /// The condition holds, not yet for the rule's hold time: nothing sent.
    Pending,
    /// Sent as firing.
    Firing,
    /// Sent as resolved (or pending and gone: never sent).
    Resolved,
}

/// An alert: one rule on one subject (`licmon_store::AlertRecord`).
#[derive(ToSchema)]
#[schema(as = Alert)]
#[allow(dead_code)] // a schema only
pub struct AlertDoc {
    id: i64,
    rule_id: i64,
    rule_name: String,
    /// What the alert is about, e.g. `server:3/feature:solver`.
    subject: String,
    server_id: Option<i64>,
    state: AlertStateDoc,
    message: String,
    /// When the condition was first seen.
    since: DateTime<Utc>,
    fired_at: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use licmon_core::alerts::{AlertState, RuleKind};
    use serde_json::Value;

    /// The values the served document gives for enum schema `name`.
    fn documented(name: &str) -> Vec<String> {
        let doc = crate::api::openapi::document_json();
        doc["components"]["schemas"][name]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("no enum schema {name}"))
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn the_documented_kinds_are_the_real_ones() {
        assert_eq!(documented("AlertRuleKind"), RuleKind::IDS);
    }

    #[test]
    fn the_documented_states_are_the_real_ones() {
        let real = [
            AlertState::Pending,
            AlertState::Firing,
            AlertState::Resolved,
        ]
        .map(AlertState::as_str);
        assert_eq!(documented("AlertState"), real);
    }
}
