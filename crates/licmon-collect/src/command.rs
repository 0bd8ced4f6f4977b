//! The command licmon runs for each license-manager type (SPEC §1 matrix), as argv, and the
//! parser that reads what it prints.

use std::collections::BTreeMap;

use licmon_core::{LicenseServer, ManagerKind, ServerAddress};
use licmon_parse::StatusFormat;

/// A status query: what to run and how to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusQuery {
    pub argv: Vec<String>,
    pub format: StatusFormat,
}

/// Why a server cannot be queried at all (a configuration problem, shown as the Offline reason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("no address configured")]
    NoAddress,
    #[error("remote monitoring of {0} is not available in this licmon version")]
    Unsupported(ManagerKind),
}

/// Builds the query for a server. `utilities` are the global per-type overrides of the config;
/// the server's own `utility_path` wins over them; otherwise the utility is found on PATH.
pub fn status_query(
    server: &LicenseServer,
    utilities: &BTreeMap<String, String>,
) -> Result<StatusQuery, QueryError> {
    let kind = server.kind;
    let utility = server
        .utility_path
        .clone()
        .or_else(|| utilities.get(kind.api_id()).cloned())
        .or_else(|| kind.default_utility().map(str::to_string))
        .ok_or(QueryError::Unsupported(kind))?;
    let address = server.address.as_ref().ok_or(QueryError::NoAddress)?;
    let arg = |s: &str| s.to_string();
    match kind {
        ManagerKind::Flexnet => Ok(StatusQuery {
            argv: vec![
                utility,
                arg("lmstat"),
                arg("-a"),
                arg("-c"),
                address.to_string(),
            ],
            format: StatusFormat::FlexnetLmstat,
        }),
        ManagerKind::Rlm => Ok(StatusQuery {
            argv: vec![
                utility,
                arg("rlmstat"),
                arg("-a"),
                arg("-c"),
                address.to_string(),
            ],
            format: StatusFormat::RlmRlmstat,
        }),
        ManagerKind::Lmx => {
            let node = first_node(address);
            Ok(StatusQuery {
                argv: vec![
                    utility,
                    arg("-licstatxml"),
                    arg("-host"),
                    node.host.clone(),
                    arg("-port"),
                    node.port.to_string(),
                ],
                format: StatusFormat::LmxLicstatXml,
            })
        }
        other => Err(QueryError::Unsupported(other)),
    }
}

fn first_node(address: &ServerAddress) -> &licmon_core::HostPort {
    &address.nodes()[0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use licmon_core::server::LicenseServerInput;

    fn server(kind: &str, address: &str, utility: Option<&str>) -> LicenseServer {
        let s = LicenseServerInput {
            name: "x".into(),
            kind: kind.into(),
            address: Some(address.into()),
            utility_path: utility.map(str::to_string),
            ..Default::default()
        }
        .validate()
        .unwrap();
        LicenseServer {
            id: 1,
            name: s.name,
            kind: s.kind,
            vendor: s.vendor,
            address: s.address,
            description: s.description,
            time_zone: s.time_zone,
            query_interval_secs: s.query_interval_secs,
            utility_path: s.utility_path,
            data_sources: s.data_sources,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            verify_requested_at: None,
        }
    }

    #[test]
    fn flexnet_triad_is_one_comma_separated_argument() {
        let q = status_query(
            &server("flexnet", "27000@a,27000@b,27000@c", None),
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(
            q.argv,
            ["lmutil", "lmstat", "-a", "-c", "27000@a,27000@b,27000@c"]
        );
        assert_eq!(q.format, StatusFormat::FlexnetLmstat);
    }

    #[test]
    fn overrides_server_then_config_then_path() {
        let config = BTreeMap::from([("rlm".to_string(), "/opt/rlm/rlmutil".to_string())]);
        let q = status_query(&server("rlm", "5053@h", None), &config).unwrap();
        assert_eq!(q.argv[0], "/opt/rlm/rlmutil");
        let q = status_query(&server("rlm", "5053@h", Some("/srv/rlmutil")), &config).unwrap();
        assert_eq!(q.argv[0], "/srv/rlmutil");
    }

    #[test]
    fn lmx_uses_the_xml_status_with_host_and_port() {
        let q = status_query(&server("lmx", "6200@lmxhost", None), &BTreeMap::new()).unwrap();
        assert_eq!(
            q.argv,
            [
                "lmxendutil",
                "-licstatxml",
                "-host",
                "lmxhost",
                "-port",
                "6200"
            ]
        );
    }

    #[test]
    fn kinds_without_a_parser_yet_say_so() {
        let err = status_query(&server("dsls", "4085@h", None), &BTreeMap::new()).unwrap_err();
        assert!(err.to_string().contains("not available"));
    }
}
