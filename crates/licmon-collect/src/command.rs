//! The command licmon runs for each license-manager type (SPEC §1 matrix), as argv, and the
//! parser that reads what it prints.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use licmon_core::{LicenseServer, ManagerKind, ServerAddress};
use licmon_parse::StatusFormat;

use crate::runner::{RunError, RunOutput, read_status_file, run_utility_with_input};

/// A status query: what to run (or read) and how to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusQuery {
    /// The utility and its arguments; empty when a file is read instead.
    pub argv: Vec<String>,
    /// Commands written to the utility's stdin (DSLS); `None` closes stdin.
    pub stdin: Option<Vec<u8>>,
    /// Custom XML: the status file to read instead of running a utility.
    pub file: Option<PathBuf>,
    pub format: StatusFormat,
}

impl StatusQuery {
    fn run(argv: Vec<String>, format: StatusFormat) -> Self {
        Self {
            argv,
            stdin: None,
            file: None,
            format,
        }
    }

    /// Runs the utility (or reads the file) with the timeout and output cap.
    pub async fn execute(
        &self,
        timeout: Duration,
        max_output: usize,
    ) -> Result<RunOutput, RunError> {
        match &self.file {
            Some(path) => read_status_file(path, timeout, max_output).await,
            None => {
                run_utility_with_input(&self.argv, self.stdin.as_deref(), timeout, max_output).await
            }
        }
    }
}

/// Why a server cannot be queried at all (a configuration problem, shown as the Offline reason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("no address configured")]
    NoAddress,
    #[error("no status file configured (set the utility path to the XML file)")]
    NoStatusFile,
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
    if kind == ManagerKind::CustomXml {
        // The server's `utility_path` is the status file (required by validation).
        let path = server
            .utility_path
            .as_deref()
            .ok_or(QueryError::NoStatusFile)?;
        return Ok(StatusQuery {
            argv: Vec::new(),
            stdin: None,
            file: Some(PathBuf::from(path)),
            format: StatusFormat::CustomXml,
        });
    }
    let utility = utility(server, utilities)?;
    let address = server.address.as_ref().ok_or(QueryError::NoAddress)?;
    let arg = |s: &str| s.to_string();
    match kind {
        ManagerKind::Flexnet => Ok(StatusQuery::run(
            vec![
                utility,
                arg("lmstat"),
                arg("-a"),
                arg("-c"),
                address.to_string(),
            ],
            StatusFormat::FlexnetLmstat,
        )),
        ManagerKind::Rlm => Ok(StatusQuery::run(
            vec![
                utility,
                arg("rlmstat"),
                arg("-a"),
                arg("-c"),
                address.to_string(),
            ],
            StatusFormat::RlmRlmstat,
        )),
        ManagerKind::Lmx => {
            let node = first_node(address);
            Ok(StatusQuery::run(
                vec![
                    utility,
                    arg("-licstatxml"),
                    arg("-host"),
                    node.host.clone(),
                    arg("-port"),
                    node.port.to_string(),
                ],
                StatusFormat::LmxLicstatXml,
            ))
        }
        // lsmon talks to the RMS server's fixed port (5093); only the host is an argument.
        ManagerKind::SentinelRms => Ok(StatusQuery::run(
            vec![utility, first_node(address).host.clone()],
            StatusFormat::SentinelLsmon,
        )),
        ManagerKind::Dsls => {
            let node = first_node(address);
            let script = format!(
                "connect {} {}\ngetLicenseUsage -csv\nquit\n",
                node.host, node.port
            );
            Ok(StatusQuery {
                argv: vec![utility, arg("-admin")],
                stdin: Some(script.into_bytes()),
                file: None,
                format: StatusFormat::DslsGetLicenseUsage,
            })
        }
        ManagerKind::IbmLum => Ok(StatusQuery::run(
            vec![
                utility,
                arg("-s"),
                arg("-lc"),
                arg("-n"),
                first_node(address).host.clone(),
            ],
            StatusFormat::IbmLumI4blt,
        )),
        ManagerKind::Mathlm => Ok(StatusQuery::run(
            vec![
                utility,
                first_node(address).host.clone(),
                arg("-format"),
                arg("text"),
            ],
            StatusFormat::MathlmMonitorlm,
        )),
        ManagerKind::Lsdyna => {
            let node = first_node(address);
            Ok(StatusQuery::run(
                vec![
                    utility,
                    arg("-s"),
                    format!("{}@{}", node.port, node.host),
                    arg("-R"),
                ],
                StatusFormat::LsdynaQrun,
            ))
        }
        ManagerKind::Olicense => {
            let node = first_node(address);
            Ok(StatusQuery::run(
                vec![utility, arg("-sv"), format!("{}:{}", node.host, node.port)],
                StatusFormat::OlicenseOlixtool,
            ))
        }
        other => Err(QueryError::Unsupported(other)),
    }
}

/// The second query of a license manager whose main status leaves something out, run less
/// often than the status (see `engine::LicenseFileInfo`): FlexNet `lmstat -i`, the license
/// file's INCREMENT lines, for the expiry of every feature — `lmstat -a` shows a feature's
/// expiry only while someone uses it. None for the other types.
pub fn info_query(
    server: &LicenseServer,
    utilities: &BTreeMap<String, String>,
) -> Option<StatusQuery> {
    if server.kind != ManagerKind::Flexnet {
        return None;
    }
    let address = server.address.as_ref()?;
    Some(StatusQuery::run(
        vec![
            utility(server, utilities).ok()?,
            "lmstat".to_string(),
            "-i".to_string(),
            "-c".to_string(),
            address.to_string(),
        ],
        StatusFormat::FlexnetLmstatI,
    ))
}

/// The utility to run: the server's own path, else the configured one for its type, else the
/// type's usual name (found on PATH).
fn utility(
    server: &LicenseServer,
    utilities: &BTreeMap<String, String>,
) -> Result<String, QueryError> {
    let kind = server.kind;
    server
        .utility_path
        .clone()
        .or_else(|| utilities.get(kind.api_id()).cloned())
        .or_else(|| kind.default_utility().map(str::to_string))
        .ok_or(QueryError::Unsupported(kind))
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
        LicenseServer::from_settings(1, s, Utc::now())
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
    fn flexnet_alone_has_an_info_query_with_the_same_utility_and_address() {
        let config = BTreeMap::from([("flexnet".to_string(), "/opt/lmutil".to_string())]);
        let q = info_query(&server("flexnet", "27000@a,27000@b,27000@c", None), &config).unwrap();
        assert_eq!(
            q.argv,
            [
                "/opt/lmutil",
                "lmstat",
                "-i",
                "-c",
                "27000@a,27000@b,27000@c"
            ]
        );
        assert_eq!(q.format, StatusFormat::FlexnetLmstatI);
        assert!(info_query(&server("rlm", "5053@h", None), &config).is_none());
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

    fn argv_of(kind: &str, address: &str) -> Vec<String> {
        status_query(&server(kind, address, None), &BTreeMap::new())
            .unwrap()
            .argv
    }

    #[test]
    fn argv_per_kind_of_issue_8() {
        assert_eq!(argv_of("sentinel-rms", "5093@rms1"), ["lsmon", "rms1"]);
        assert_eq!(
            argv_of("ibm-lum", "1515@lum1"),
            ["i4blt", "-s", "-lc", "-n", "lum1"]
        );
        assert_eq!(
            argv_of("mathlm", "16286@wolfram1"),
            ["monitorlm", "wolfram1", "-format", "text"]
        );
        assert_eq!(
            argv_of("lsdyna", "31010@lstc1"),
            ["lstc_qrun", "-s", "31010@lstc1", "-R"]
        );
        assert_eq!(
            argv_of("olicense", "8080@oli1"),
            ["olixtool", "-sv", "oli1:8080"]
        );
    }

    #[test]
    fn dsls_is_driven_through_stdin() {
        let q = status_query(&server("dsls", "4085@dsls1", None), &BTreeMap::new()).unwrap();
        assert_eq!(q.argv, ["DSLicSrv", "-admin"]);
        assert_eq!(
            q.stdin.as_deref(),
            Some(&b"connect dsls1 4085\ngetLicenseUsage -csv\nquit\n"[..])
        );
        assert_eq!(q.format, StatusFormat::DslsGetLicenseUsage);
    }

    #[test]
    fn custom_xml_reads_the_utility_path_as_its_file() {
        let s = LicenseServerInput {
            name: "x".into(),
            kind: "custom-xml".into(),
            utility_path: Some("/var/lib/site/status.xml".into()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        let mut srv = server("flexnet", "1@h", None);
        srv.kind = s.kind;
        srv.address = s.address;
        srv.utility_path = s.utility_path;
        let q = status_query(&srv, &BTreeMap::new()).unwrap();
        assert!(q.argv.is_empty());
        assert_eq!(q.file, Some(PathBuf::from("/var/lib/site/status.xml")));
        assert_eq!(q.format, StatusFormat::CustomXml);
    }

    #[tokio::test]
    async fn execute_runs_with_stdin_or_reads_the_file() {
        let q = StatusQuery {
            argv: vec!["cat".into()],
            stdin: Some(b"admin >quit\n".to_vec()),
            file: None,
            format: StatusFormat::DslsGetLicenseUsage,
        };
        let out = q.execute(Duration::from_secs(5), 1024).await.unwrap();
        assert_eq!(out.stdout, "admin >quit\n");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.xml");
        std::fs::write(&path, "<x/>").unwrap();
        let q = StatusQuery {
            argv: Vec::new(),
            stdin: None,
            file: Some(path),
            format: StatusFormat::CustomXml,
        };
        assert_eq!(
            q.execute(Duration::from_secs(5), 1024)
                .await
                .unwrap()
                .stdout,
            "<x/>"
        );
    }

    #[test]
    fn kinds_without_remote_monitoring_say_so() {
        let mut s = server("flexnet", "1@h", None);
        s.kind = ManagerKind::GenericLog;
        let err = status_query(&s, &BTreeMap::new()).unwrap_err();
        assert!(err.to_string().contains("not available"), "{err}");
    }
}
