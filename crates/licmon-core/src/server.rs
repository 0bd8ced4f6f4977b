//! The license server record (SPEC §1) and the validation of what a user submits for one.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::address::ServerAddress;
use crate::manager::{DataSource, ManagerKind};
use crate::validation::ValidationErrors;

pub type ServerId = i64;

/// Default query interval (SPEC §1).
pub const DEFAULT_QUERY_INTERVAL_SECS: u32 = 120;
/// Polling more often than this hurts the license server more than it helps anyone.
pub const MIN_QUERY_INTERVAL_SECS: u32 = 10;
/// A day: a longer interval is almost certainly a unit mistake.
pub const MAX_QUERY_INTERVAL_SECS: u32 = 86_400;

/// One on/off switch per data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSourceSwitches {
    pub remote: bool,
    pub import: bool,
    pub end_user: bool,
}

impl DataSourceSwitches {
    pub fn get(self, source: DataSource) -> bool {
        match source {
            DataSource::Remote => self.remote,
            DataSource::Import => self.import,
            DataSource::EndUser => self.end_user,
        }
    }

    /// Everything the kind supports switched on: the default for a new server.
    pub fn all_supported(kind: ManagerKind) -> Self {
        Self {
            remote: kind.supports(DataSource::Remote),
            import: kind.supports(DataSource::Import),
            end_user: kind.supports(DataSource::EndUser),
        }
    }

    pub fn any(self) -> bool {
        self.remote || self.import || self.end_user
    }
}

/// A monitored license-manager instance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LicenseServer {
    pub id: ServerId,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ManagerKind,
    pub vendor: String,
    /// None for kinds that have no network address (generic logs, agent applications, custom
    /// XML, which reads `utility_path` as the status file).
    pub address: Option<ServerAddress>,
    pub description: String,
    pub time_zone: Tz,
    pub query_interval_secs: u32,
    /// Overrides the status utility (or, for custom XML, the status file) for this server.
    pub utility_path: Option<String>,
    pub data_sources: DataSourceSwitches,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set on create, on a change of connection settings and on "Verify"; the status is
    /// Verifying until a poll finishes after it.
    pub verify_requested_at: Option<DateTime<Utc>>,
}

impl LicenseServer {
    /// The server `settings` describe, as stored with `id` at `created_at` (what the store
    /// returns for a new server; tests build servers without a store with it).
    pub fn from_settings(
        id: ServerId,
        settings: ServerSettings,
        created_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            name: settings.name,
            kind: settings.kind,
            vendor: settings.vendor,
            address: settings.address,
            description: settings.description,
            time_zone: settings.time_zone,
            query_interval_secs: settings.query_interval_secs,
            utility_path: settings.utility_path,
            data_sources: settings.data_sources,
            created_at,
            updated_at: created_at,
            verify_requested_at: None,
        }
    }

    pub fn is_triad(&self) -> bool {
        self.address.as_ref().is_some_and(ServerAddress::is_triad)
    }
}

/// What a user submits to create or replace a license server, before validation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseServerInput {
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub vendor: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub query_interval_secs: Option<i64>,
    #[serde(default)]
    pub utility_path: Option<String>,
    #[serde(default)]
    pub data_sources: Option<DataSourceInput>,
}

/// Switches as submitted: a missing one means "on if the kind supports it".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSourceInput {
    pub remote: Option<bool>,
    pub import: Option<bool>,
    pub end_user: Option<bool>,
}

/// A validated input: every field typed and within range.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSettings {
    pub name: String,
    pub kind: ManagerKind,
    pub vendor: String,
    pub address: Option<ServerAddress>,
    pub description: String,
    pub time_zone: Tz,
    pub query_interval_secs: u32,
    pub utility_path: Option<String>,
    pub data_sources: DataSourceSwitches,
}

impl ServerSettings {
    /// Whether going from `old` to `self` changes how licmon reaches the server, which puts the
    /// Remote status back to Verifying.
    pub fn changes_connection_of(&self, old: &LicenseServer) -> bool {
        self.kind != old.kind
            || self.address != old.address
            || self.utility_path != old.utility_path
            || (self.data_sources.remote && !old.data_sources.remote)
    }
}

impl LicenseServerInput {
    pub fn validate(&self) -> Result<ServerSettings, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = self.name.trim();
        if name.is_empty() {
            errors.add("name", "is required");
        } else if name.chars().count() > 100 {
            errors.add("name", "must be at most 100 characters");
        }
        let kind = ManagerKind::from_api_id(self.kind.trim());
        if kind.is_none() {
            let known: Vec<&str> = ManagerKind::ALL.iter().map(|k| k.api_id()).collect();
            errors.add(
                "type",
                format!(
                    "unknown license-manager type \"{}\"; expected one of: {}",
                    self.kind,
                    known.join(", ")
                ),
            );
        }
        let address = self.validate_address(kind, &mut errors);
        let time_zone = match self.time_zone.as_deref().map(str::trim) {
            None | Some("") => Tz::UTC,
            Some(tz) => tz.parse::<Tz>().unwrap_or_else(|_| {
                errors.add(
                    "time_zone",
                    format!("\"{tz}\" is not an IANA time zone name (for example Europe/Berlin)"),
                );
                Tz::UTC
            }),
        };
        let query_interval_secs = self.validate_interval(&mut errors);
        let utility_path = self
            .utility_path
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty());
        if kind == Some(ManagerKind::CustomXml) && utility_path.is_none() {
            errors.add(
                "utility_path",
                "is required for custom-xml: the path of the status XML file",
            );
        }
        let data_sources = kind.map(|k| self.validate_sources(k, &mut errors));
        if self.vendor.chars().count() > 100 {
            errors.add("vendor", "must be at most 100 characters");
        }
        match (kind, data_sources, errors.is_empty()) {
            (Some(kind), Some(data_sources), true) => Ok(ServerSettings {
                name: name.to_string(),
                kind,
                vendor: self.vendor.trim().to_string(),
                address,
                description: self.description.trim().to_string(),
                time_zone,
                query_interval_secs,
                utility_path: utility_path.map(str::to_string),
                data_sources,
            }),
            _ => Err(errors),
        }
    }

    fn validate_address(
        &self,
        kind: Option<ManagerKind>,
        errors: &mut ValidationErrors,
    ) -> Option<ServerAddress> {
        let text = self
            .address
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty());
        let kind = kind?;
        match (kind.needs_address(), text) {
            (true, None) => {
                errors.add(
                    "address",
                    format!("is required for {kind}: port@host, e.g. 27000@licsrv1"),
                );
                None
            }
            (false, Some(_)) if kind != ManagerKind::CustomXml => {
                errors.add(
                    "address",
                    format!("{kind} has no network address; leave it empty"),
                );
                None
            }
            (_, None) => None,
            (_, Some(text)) => match ServerAddress::parse(text) {
                Ok(addr) if addr.is_triad() && !kind.supports_triad() => {
                    errors.add(
                        "address",
                        format!("{kind} does not support redundant triads"),
                    );
                    None
                }
                Ok(addr) => Some(addr),
                Err(message) => {
                    errors.add("address", message);
                    None
                }
            },
        }
    }

    fn validate_interval(&self, errors: &mut ValidationErrors) -> u32 {
        match self.query_interval_secs {
            None => DEFAULT_QUERY_INTERVAL_SECS,
            Some(s) if s < MIN_QUERY_INTERVAL_SECS as i64 => {
                errors.add(
                    "query_interval_secs",
                    format!("{s} s is too short; the minimum is {MIN_QUERY_INTERVAL_SECS} s"),
                );
                DEFAULT_QUERY_INTERVAL_SECS
            }
            Some(s) if s > MAX_QUERY_INTERVAL_SECS as i64 => {
                errors.add(
                    "query_interval_secs",
                    format!(
                        "{s} s is too long; the maximum is {MAX_QUERY_INTERVAL_SECS} s (one day)"
                    ),
                );
                DEFAULT_QUERY_INTERVAL_SECS
            }
            Some(s) => s as u32,
        }
    }

    fn validate_sources(
        &self,
        kind: ManagerKind,
        errors: &mut ValidationErrors,
    ) -> DataSourceSwitches {
        let input = self.data_sources.unwrap_or_default();
        let mut pick = |source: DataSource, wanted: Option<bool>| {
            let supported = kind.supports(source);
            match wanted {
                None => supported,
                Some(true) if !supported => {
                    errors.add(
                        &format!("data_sources.{}", source.api_name()),
                        format!(
                            "{kind} does not support the {} data source (N/A)",
                            source.api_name()
                        ),
                    );
                    false
                }
                Some(on) => on,
            }
        };
        DataSourceSwitches {
            remote: pick(DataSource::Remote, input.remote),
            import: pick(DataSource::Import, input.import),
            end_user: pick(DataSource::EndUser, input.end_user),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: &str) -> LicenseServerInput {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_issue_example_is_valid() {
        let s = input(
            r#"{"name": "ansys-prod", "type": "flexnet", "vendor": "ANSYS", "address": "1055@lic1",
                "time_zone": "Europe/Berlin", "query_interval_secs": 120,
                "data_sources": {"remote": true, "import": true, "end_user": false}}"#,
        )
        .validate()
        .unwrap();
        assert_eq!(s.kind, ManagerKind::Flexnet);
        assert_eq!(s.time_zone, chrono_tz::Europe::Berlin);
        assert_eq!(
            s.data_sources,
            DataSourceSwitches {
                remote: true,
                import: true,
                end_user: false
            }
        );
    }

    #[test]
    fn defaults_enable_what_the_kind_supports() {
        let s = input(r#"{"name": "x", "type": "sentinel-rms", "address": "5093@h"}"#)
            .validate()
            .unwrap();
        assert_eq!(
            s.data_sources,
            DataSourceSwitches {
                remote: true,
                import: false,
                end_user: true
            }
        );
        assert_eq!(s.query_interval_secs, DEFAULT_QUERY_INTERVAL_SECS);
        assert_eq!(s.time_zone, Tz::UTC);
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (
                r#"{"name": "x", "type": "flexlm", "address": "1@h"}"#,
                "type",
            ),
            (
                r#"{"name": "x", "type": "flexnet", "address": "99999@h"}"#,
                "address",
            ),
            (
                r#"{"name": "x", "type": "flexnet", "address": "1@h", "query_interval_secs": 9}"#,
                "query_interval_secs",
            ),
            (
                r#"{"name": "x", "type": "flexnet", "address": "1@h", "time_zone": "Mars/Olympus"}"#,
                "time_zone",
            ),
            (
                r#"{"name": "x", "type": "generic-log", "data_sources": {"remote": true}}"#,
                "data_sources.remote",
            ),
            (
                r#"{"name": "", "type": "flexnet", "address": "1@h"}"#,
                "name",
            ),
            (r#"{"name": "x", "type": "flexnet"}"#, "address"),
            (
                r#"{"name": "x", "type": "rlm", "address": "1@a,1@b,1@c"}"#,
                "address",
            ),
            (r#"{"name": "x", "type": "custom-xml"}"#, "utility_path"),
        ];
        for (json, field) in cases {
            let errors = input(json).validate().unwrap_err();
            assert!(errors.for_field(field).is_some(), "{json}: {errors}");
        }
    }

    #[test]
    fn connection_changes_are_detected() {
        let settings = input(r#"{"name": "x", "type": "flexnet", "address": "1@h"}"#)
            .validate()
            .unwrap();
        let now = Utc::now();
        let server = LicenseServer {
            id: 1,
            name: settings.name.clone(),
            kind: settings.kind,
            vendor: String::new(),
            address: settings.address.clone(),
            description: String::new(),
            time_zone: Tz::UTC,
            query_interval_secs: 120,
            utility_path: None,
            data_sources: settings.data_sources,
            created_at: now,
            updated_at: now,
            verify_requested_at: None,
        };
        assert!(!settings.changes_connection_of(&server));
        let mut moved = settings.clone();
        moved.address = ServerAddress::parse("2@h").ok();
        assert!(moved.changes_connection_of(&server));
        let mut renamed = settings;
        renamed.name = "y".into();
        assert!(!renamed.changes_connection_of(&server));
    }
}
