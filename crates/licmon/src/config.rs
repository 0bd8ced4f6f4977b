//! Configuration in layers: defaults → TOML file → `LICMON_*` environment → flags. Each layer
//! only overrides what it sets. Secrets in URLs are redacted wherever the config is shown.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address and port the web server listens on.
    pub listen: SocketAddr,
    /// Database URL; unset means a SQLite file `licmon.db` in `data_dir`.
    pub database: Option<String>,
    /// Where licmon keeps its files (the default SQLite database, watched folders, ...).
    pub data_dir: PathBuf,
    /// Whether this node polls license servers. Off: servers show Unmonitored.
    pub monitoring: bool,
    /// Capacity limit (SPEC §2); unset = unlimited.
    pub max_license_servers: Option<u32>,
    /// Most polls running at once, over all servers.
    pub poll_concurrency: usize,
    /// Largest utility output accepted, in bytes; more is cut off and the poll fails.
    pub max_output_bytes: usize,
    /// Seconds an agent counts as online after its last report (SPEC §2: 120).
    pub agent_window_secs: u32,
    /// Seconds between an agent's reports, as agents learn it from their configuration
    /// (SPEC §5: 30); an agent's own `LICMON_AGENT_INTERVAL_SECS` overrides it.
    pub agent_report_interval_secs: u64,
    /// Denials (SPEC §4): a checkout of the same feature by the same user at most this many
    /// seconds before a denial makes it a retry, not a true denial ...
    pub denial_retry_before_secs: u32,
    /// ... or at most this many seconds after it.
    pub denial_retry_after_secs: u32,
    /// `text` or `json` logs.
    pub log_format: LogFormat,
    /// TLS certificate chain (PEM) for the web server; with `tls_key`, licmon serves HTTPS.
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// A login session unused this many seconds ends.
    pub session_idle_secs: u64,
    /// A login session ends this many seconds after login, however busy.
    pub session_max_secs: u64,
    /// A node re-reads an API/agent token from the database at most this many seconds after it
    /// last did: a token revoked on another node or with the CLI stops working within this
    /// time (at once on the node that revoked it). 0 reads it on every request.
    pub token_cache_secs: u64,
    /// Seconds between alert evaluations (one node evaluates at a time).
    pub alert_eval_secs: u64,
    /// Reverse proxies (addresses or networks) whose `X-Forwarded-For` names the client, for
    /// the login rate limit; empty: the TCP peer is the client.
    pub trusted_proxies: Vec<String>,
    /// When set, `GET /metrics` needs `Authorization: Bearer <metrics_token>`.
    pub metrics_token: Option<String>,
    /// Log imports: the watched folder.
    pub import: crate::import_cmd::ImportConfig,
    /// Per license-manager type, the status utility to run instead of the one on PATH,
    /// e.g. `flexnet = "/opt/flexlm/lmutil"`.
    pub utilities: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".parse().expect("valid default address"),
            database: None,
            data_dir: PathBuf::from("licmon-data"),
            monitoring: true,
            max_license_servers: None,
            poll_concurrency: 32,
            max_output_bytes: 16 * 1024 * 1024,
            agent_window_secs: 120,
            agent_report_interval_secs: 30,
            denial_retry_before_secs: 5,
            denial_retry_after_secs: 2,
            log_format: LogFormat::Text,
            tls_cert: None,
            tls_key: None,
            session_idle_secs: 7200,
            session_max_secs: 43200,
            token_cache_secs: 1,
            alert_eval_secs: 30,
            trusted_proxies: Vec::new(),
            metrics_token: None,
            import: crate::import_cmd::ImportConfig::default(),
            utilities: BTreeMap::new(),
        }
    }
}

/// The flags every subcommand that needs configuration shares.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CommonFlags {
    /// TOML configuration file (default: licmon.toml in the current folder, if present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite:///path/licmon.db or postgres://user@host/db.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Folder for licmon's files.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

impl Config {
    /// Builds the configuration from every layer. `env` is passed in so that tests need not
    /// touch the process environment.
    pub fn load(flags: &CommonFlags, env: &BTreeMap<String, String>) -> anyhow::Result<Self> {
        let mut config = match &flags.config {
            Some(path) => Self::from_file(path)?,
            None if Path::new("licmon.toml").is_file() => {
                Self::from_file(Path::new("licmon.toml"))?
            }
            None => Self::default(),
        };
        config.apply_env(env)?;
        if let Some(db) = &flags.database {
            config.database = Some(db.clone());
        }
        if let Some(dir) = &flags.data_dir {
            config.data_dir = dir.clone();
        }
        Ok(config)
    }

    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        toml::from_str(&text)
            .with_context(|| format!("{} is not a valid licmon configuration", path.display()))
    }

    fn apply_env(&mut self, env: &BTreeMap<String, String>) -> anyhow::Result<()> {
        for (key, value) in env.iter().filter(|(k, _)| k.starts_with("LICMON_")) {
            let bad = |what: &str| anyhow::anyhow!("{key}={value:?} is not {what}");
            match key.as_str() {
                "LICMON_LISTEN" => {
                    self.listen = value.parse().map_err(|_| bad("an ADDRESS:PORT"))?
                }
                "LICMON_DATABASE" => self.database = Some(value.clone()),
                "LICMON_DATA_DIR" => self.data_dir = PathBuf::from(value),
                "LICMON_MONITORING" => {
                    self.monitoring = parse_bool(value).ok_or_else(|| bad("true or false"))?
                }
                "LICMON_MAX_LICENSE_SERVERS" => {
                    self.max_license_servers = Some(value.parse().map_err(|_| bad("a number"))?)
                }
                "LICMON_POLL_CONCURRENCY" => {
                    self.poll_concurrency = value.parse().map_err(|_| bad("a number"))?
                }
                "LICMON_AGENT_WINDOW_SECS" => {
                    self.agent_window_secs = value.parse().map_err(|_| bad("a number"))?
                }
                "LICMON_AGENT_REPORT_INTERVAL_SECS" => {
                    self.agent_report_interval_secs = value.parse().map_err(|_| bad("a number"))?
                }
                "LICMON_TRUSTED_PROXIES" => {
                    self.trusted_proxies = value
                        .split(',')
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(str::to_string)
                        .collect()
                }
                "LICMON_DENIAL_RETRY_BEFORE_SECS" => {
                    self.denial_retry_before_secs = value.parse().map_err(|_| bad("a number"))?
                }
                "LICMON_DENIAL_RETRY_AFTER_SECS" => {
                    self.denial_retry_after_secs = value.parse().map_err(|_| bad("a number"))?
                }
                "LICMON_IMPORT_WATCH_DIR" => self.import.watch_dir = Some(PathBuf::from(value)),
                "LICMON_TLS_CERT" => self.tls_cert = Some(PathBuf::from(value)),
                "LICMON_TLS_KEY" => self.tls_key = Some(PathBuf::from(value)),
                "LICMON_SESSION_IDLE_SECS" => {
                    self.session_idle_secs = value.parse().map_err(|_| bad("a number"))?
                }
                "LICMON_SESSION_MAX_SECS" => {
                    self.session_max_secs = value.parse().map_err(|_| bad("a number"))?
                }
                "LICMON_TOKEN_CACHE_SECS" => {
                    self.token_cache_secs = value.parse().map_err(|_| bad("a number"))?
                }
                "LICMON_ALERT_EVAL_SECS" => {
                    self.alert_eval_secs = value.parse().map_err(|_| bad("a number"))?
                }
                "LICMON_METRICS_TOKEN" => self.metrics_token = Some(value.clone()),
                "LICMON_LOG_FORMAT" => {
                    self.log_format = match value.as_str() {
                        "text" => LogFormat::Text,
                        "json" => LogFormat::Json,
                        _ => return Err(bad("text or json")),
                    }
                }
                // Variables for other tools (tests, the simulator) share the prefix.
                _ if key.starts_with("LICMON_TEST_") || key.starts_with("LICMON_SIM_") => {}
                "LICMON_CONFIG" | "LICMON_FIXTURES" | "RUST_LOG" => {}
                _ => tracing::warn!(variable = %key, "unknown LICMON_ variable ignored"),
            }
        }
        Ok(())
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        if self.poll_concurrency == 0 {
            bail!("poll_concurrency must be at least 1");
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            bail!("set both tls_cert and tls_key (PEM files), or neither");
        }
        if self.session_idle_secs < 60 || self.session_max_secs < self.session_idle_secs {
            bail!("session_idle_secs must be at least 60 and session_max_secs at least as long");
        }
        if self.token_cache_secs > 60 {
            bail!("token_cache_secs must be at most 60 (revoked tokens must stop working soon)");
        }
        if !(5..=3600).contains(&self.agent_report_interval_secs) {
            bail!(
                "agent_report_interval_secs must be from 5 to 3600 (got {})",
                self.agent_report_interval_secs
            );
        }
        licmon_server::auth::client_address::TrustedProxies::parse(&self.trusted_proxies)
            .map_err(anyhow::Error::msg)?;
        if self.alert_eval_secs == 0 {
            bail!("alert_eval_secs must be at least 1");
        }
        if self.max_output_bytes < 1024 {
            bail!("max_output_bytes must be at least 1024");
        }
        for kind in self.utilities.keys() {
            if licmon_core::ManagerKind::from_api_id(kind).is_none() {
                bail!("[utilities] has unknown license-manager type \"{kind}\"");
            }
        }
        Ok(())
    }

    /// The configuration as TOML with the database password hidden, for `licmon config show`.
    pub fn redacted_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database = shown.database.as_deref().map(licmon_store::redact);
        if shown.metrics_token.is_some() {
            shown.metrics_token = Some("<redacted>".into());
        }
        toml::to_string_pretty(&shown).unwrap_or_default()
    }
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// `licmon config example`: every setting with its default and what it does.
pub const EXAMPLE: &str = r#"# licmon configuration. Every setting is optional; shown here with its default.
# Layers: these defaults, then this file, then LICMON_* environment variables
# (LICMON_LISTEN, LICMON_DATABASE, LICMON_DATA_DIR, LICMON_MONITORING, ...), then flags.

# Address and port of the web server and API.
listen = "127.0.0.1:8080"

# Database URL. Unset: a SQLite file licmon.db in data_dir.
# database = "sqlite:///var/lib/licmon/licmon.db"
# database = "postgres://licmon:secret@db.example.com:5432/licmon"

# Folder for licmon's own files.
data_dir = "licmon-data"

# Poll license servers from this node. false: servers show Unmonitored.
monitoring = true

# Capacity: the most license servers monitored; the newest beyond it show License Exceeded.
# max_license_servers = 50

# Most status utilities running at once.
poll_concurrency = 32

# Largest utility output accepted (bytes).
max_output_bytes = 16777216

# An agent counts as online this long after its last report (seconds).
agent_window_secs = 120

# Seconds between an agent's reports, sent to agents with their configuration (5 to 3600).
# Keep agent_window_secs at least twice as long, or agents show Offline between reports.
agent_report_interval_secs = 30

# Denials: a checkout of the same feature by the same user from this many seconds before a
# denial to this many seconds after it makes the denial a retry, not a true denial.
denial_retry_before_secs = 5
denial_retry_after_secs = 2

# "text" or "json".
log_format = "text"

# HTTPS: a PEM certificate chain and private key. Unset: plain HTTP (put a TLS proxy in front).
# tls_cert = "/etc/licmon/cert.pem"
# tls_key = "/etc/licmon/key.pem"

# Login sessions end after this many idle seconds, and at the latest this many after login.
session_idle_secs = 7200
session_max_secs = 43200

# A node re-reads an API or agent token from the database at most this many seconds after it
# last did, so a token revoked on another node or with the CLI stops working within this time
# (at once on the node where it was revoked). 0 = read on every request.
token_cache_secs = 1

# Seconds between alert evaluations (rules: Administration > Alerts).
alert_eval_secs = 30

# Behind a reverse proxy: its addresses or networks. Their X-Forwarded-For header then names
# the client for the login rate limit (never believed from anyone else).
# trusted_proxies = ["127.0.0.1", "10.0.0.0/8"]

# Prometheus: with a token, GET /metrics needs "Authorization: Bearer <token>".
# metrics_token = "a-long-random-string"

# Status utilities, per license-manager type, instead of the ones found on PATH.
[utilities]
# flexnet = "/opt/flexlm/lmutil"
# rlm = "/opt/rlm/rlmutil"
# lmx = "/opt/lmx/lmxendutil"

# Log imports. With watch_dir set, `licmon serve` imports every file put in
# <watch_dir>/<license server name>/ within seconds, and what is appended to it later.
[import]
# watch_dir = "/var/lib/licmon/import"
watch_interval_secs = 2
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_example_is_the_default() {
        let parsed: Config = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn layers_override_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("licmon.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\ndatabase = \"sqlite:///from/file.db\"\nmonitoring = false\n").unwrap();
        let flags = CommonFlags {
            config: Some(file.clone()),
            ..Default::default()
        };
        let c = Config::load(&flags, &env(&[])).unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert!(!c.monitoring);
        let c = Config::load(
            &flags,
            &env(&[
                ("LICMON_LISTEN", "127.0.0.1:9100"),
                ("LICMON_DATABASE", "sqlite:///env.db"),
            ]),
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9100);
        assert_eq!(c.database.as_deref(), Some("sqlite:///env.db"));
        let flags = CommonFlags {
            config: Some(file),
            database: Some("postgres://u@h/db".into()),
            data_dir: None,
        };
        let c = Config::load(&flags, &env(&[("LICMON_DATABASE", "sqlite:///env.db")])).unwrap();
        assert_eq!(c.database.as_deref(), Some("postgres://u@h/db"));
    }

    #[test]
    fn the_agent_report_interval_is_bounded() {
        let load = |value: &str| {
            Config::load(
                &CommonFlags::default(),
                &env(&[("LICMON_AGENT_REPORT_INTERVAL_SECS", value)]),
            )
            .and_then(|c| c.validate().map(|()| c))
        };
        assert_eq!(load("60").unwrap().agent_report_interval_secs, 60);
        assert_eq!(
            load("2").unwrap_err().to_string(),
            "agent_report_interval_secs must be from 5 to 3600 (got 2)"
        );
        assert!(load("7201").is_err());
    }

    #[test]
    fn trusted_proxies_from_the_environment_are_checked() {
        let load = |value: &str| {
            Config::load(
                &CommonFlags::default(),
                &env(&[("LICMON_TRUSTED_PROXIES", value)]),
            )
            .and_then(|c| c.validate().map(|()| c))
        };
        assert_eq!(
            load("127.0.0.1, 10.0.0.0/8,").unwrap().trusted_proxies,
            ["127.0.0.1", "10.0.0.0/8"]
        );
        assert_eq!(
            load("10.0.0.0/8,proxy").unwrap_err().to_string(),
            "trusted_proxies: \"proxy\" is not an IP address or network (like 10.0.0.0/8)"
        );
    }

    #[test]
    fn bad_values_say_which_variable() {
        let err = Config::load(
            &CommonFlags::default(),
            &env(&[("LICMON_LISTEN", "nowhere")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("LICMON_LISTEN"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "listne = \"x\"\n").unwrap();
        let err = Config::load(
            &CommonFlags {
                config: Some(file),
                ..Default::default()
            },
            &env(&[]),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("listne"), "{err:#}");
    }

    #[test]
    fn passwords_never_show() {
        let c = Config {
            database: Some("postgres://licmon:hunter2@db/licmon".into()),
            ..Default::default()
        };
        assert!(!c.redacted_toml().contains("hunter2"));
    }
}
