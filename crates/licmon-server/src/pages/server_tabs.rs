//! Which tabs of the server page have a data source behind them. A tab without one is crossed
//! out and cannot be selected (SPEC §6), and says why on hover.

use licmon_core::{DataSource, LicenseServer};

pub struct Tab {
    pub id: &'static str,
    pub label: &'static str,
    /// None: selectable. Some(reason): crossed out, with the reason.
    pub unavailable: Option<String>,
}

impl Tab {
    pub fn enabled(&self) -> bool {
        self.unavailable.is_none()
    }
}

/// Whether a data source is supported by the type and switched on.
fn on(server: &LicenseServer, source: DataSource) -> bool {
    server.kind.supports(source) && server.data_sources.get(source)
}

/// Why live data (Current usage, Borrowed, Expiring) is missing, if it is.
pub fn no_live_data(server: &LicenseServer) -> Option<String> {
    if !server.kind.supports(DataSource::Remote) {
        Some(format!(
            "No live data: {} servers are not polled (Remote is N/A)",
            server.kind.display_name()
        ))
    } else if !server.data_sources.remote {
        Some("No live data: remote monitoring is switched off".into())
    } else {
        None
    }
}

pub fn tabs(server: &LicenseServer) -> Vec<Tab> {
    let live = no_live_data(server);
    // History outlives switches: what was recorded stays readable after a source is switched off.
    let history = (!DataSource::ALL.iter().any(|s| server.kind.supports(*s))).then(|| {
        format!(
            "{} servers have no usage history",
            server.kind.display_name()
        )
    });
    let denials = (!on(server, DataSource::Remote) && !on(server, DataSource::Import)).then(|| {
        "No denial data: neither Remote nor Import is available for this server".to_string()
    });
    // Past imports stay readable after Import is switched off, like history.
    let imports = (!server.kind.supports(DataSource::Import)).then(|| {
        format!(
            "{} servers take no log imports (Import is N/A)",
            server.kind.display_name()
        )
    });
    let agents = (!on(server, DataSource::EndUser)).then(|| {
        if server.kind.supports(DataSource::EndUser) {
            "End User monitoring is switched off for this server".to_string()
        } else {
            format!(
                "{} servers have no End User monitoring (N/A)",
                server.kind.display_name()
            )
        }
    });
    vec![
        Tab {
            id: "current",
            label: "Current usage",
            unavailable: live.clone(),
        },
        Tab {
            id: "sessions",
            label: "Sessions",
            unavailable: history.clone(),
        },
        Tab {
            id: "history",
            label: "Usage history",
            unavailable: history.clone(),
        },
        Tab {
            id: "denials",
            label: "Denials",
            unavailable: denials,
        },
        Tab {
            id: "users",
            label: "Users",
            unavailable: history.clone(),
        },
        Tab {
            id: "hosts",
            label: "Hosts",
            unavailable: history,
        },
        Tab {
            id: "borrowed",
            label: "Borrowed",
            unavailable: live.clone(),
        },
        Tab {
            id: "expiring",
            label: "Expiring",
            unavailable: live,
        },
        Tab {
            id: "imports",
            label: "Imports",
            unavailable: imports,
        },
        Tab {
            id: "agents",
            label: "Agents",
            unavailable: agents,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use licmon_core::server::LicenseServerInput;

    fn server(kind: &str, address: Option<&str>, remote: Option<bool>) -> LicenseServer {
        let s = LicenseServerInput {
            name: "s".into(),
            kind: kind.into(),
            address: address.map(Into::into),
            data_sources: Some(licmon_core::server::DataSourceInput {
                remote,
                ..Default::default()
            }),
            ..Default::default()
        }
        .validate()
        .unwrap();
        let t = chrono::DateTime::from_timestamp(0, 0).unwrap();
        LicenseServer::from_settings(1, s, t)
    }

    fn crossed(s: &LicenseServer) -> Vec<&'static str> {
        tabs(s)
            .into_iter()
            .filter(|t| !t.enabled())
            .map(|t| t.id)
            .collect()
    }

    #[test]
    fn import_only_servers_have_no_live_tabs_and_no_agents() {
        let s = server("generic-log", None, None);
        assert_eq!(crossed(&s), ["current", "borrowed", "expiring", "agents"]);
        let reason = tabs(&s)[0].unavailable.clone().unwrap();
        assert!(reason.contains("Generic log"), "{reason}");
    }

    #[test]
    fn a_polled_server_has_every_tab() {
        assert!(crossed(&server("flexnet", Some("1@h"), None)).is_empty());
    }

    #[test]
    fn switching_remote_off_crosses_out_live_tabs() {
        let s = server("flexnet", Some("1@h"), Some(false));
        assert_eq!(crossed(&s), ["current", "borrowed", "expiring"]);
    }

    #[test]
    fn agent_apps_have_no_live_denial_or_import_tabs() {
        let s = server("agent-apps", None, None);
        assert_eq!(
            crossed(&s),
            ["current", "denials", "borrowed", "expiring", "imports"]
        );
        let imports = tabs(&s).into_iter().find(|t| t.id == "imports").unwrap();
        assert_eq!(
            imports.unavailable.as_deref(),
            Some("Agent applications servers take no log imports (Import is N/A)")
        );
    }
}
