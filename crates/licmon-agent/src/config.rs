//! The agent's settings: defaults → TOML file → `LICMON_AGENT_*` environment → flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Everything the agent needs to run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// licmon's base URL, e.g. `https://licmon.example.org:8443`.
    pub url: String,
    /// The agent token (scope `agent`); or `token_file`.
    pub token: Option<String>,
    pub token_file: Option<PathBuf>,
    /// This machine's id in licmon's registry; the host name when unset.
    pub agent_id: Option<String>,
    /// Overrides the report interval licmon sends (seconds).
    pub report_interval_secs: Option<u64>,
    /// Overrides how often the configuration is fetched again (seconds).
    pub config_refresh_secs: Option<u64>,
    /// Reports kept while licmon cannot be reached; the oldest are dropped beyond this.
    pub buffer_reports: usize,
    /// Longest wait between two attempts to reach licmon (seconds).
    pub max_backoff_secs: u64,
    /// Timeout of one HTTP request (seconds).
    pub timeout_secs: u64,
    /// PEM file with the CA certificate(s) licmon's TLS certificate is issued by (default: the
    /// built-in public roots).
    pub ca_file: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            url: String::new(),
            token: None,
            token_file: None,
            agent_id: None,
            report_interval_secs: None,
            config_refresh_secs: None,
            buffer_reports: 2880,
            max_backoff_secs: 300,
            timeout_secs: 15,
            ca_file: None,
        }
    }
}

impl Settings {
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the configuration file {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| {
            format!(
                "{} is not a valid licmon-agent configuration: {e}",
                path.display()
            )
        })
    }

    /// Applies `LICMON_AGENT_*` variables.
    pub fn apply_env(&mut self, env: &BTreeMap<String, String>) -> Result<(), String> {
        for (key, value) in env.iter().filter(|(k, _)| k.starts_with("LICMON_AGENT_")) {
            let number = || {
                value
                    .parse::<u64>()
                    .map_err(|_| format!("{key}={value:?} is not a number"))
            };
            match key.as_str() {
                "LICMON_AGENT_URL" => self.url = value.clone(),
                "LICMON_AGENT_TOKEN" => self.token = Some(value.clone()),
                "LICMON_AGENT_TOKEN_FILE" => self.token_file = Some(PathBuf::from(value)),
                "LICMON_AGENT_ID" => self.agent_id = Some(value.clone()),
                "LICMON_AGENT_INTERVAL_SECS" => self.report_interval_secs = Some(number()?),
                "LICMON_AGENT_CONFIG_REFRESH_SECS" => self.config_refresh_secs = Some(number()?),
                "LICMON_AGENT_BUFFER_REPORTS" => self.buffer_reports = number()? as usize,
                "LICMON_AGENT_MAX_BACKOFF_SECS" => self.max_backoff_secs = number()?,
                "LICMON_AGENT_TIMEOUT_SECS" => self.timeout_secs = number()?,
                "LICMON_AGENT_CA_FILE" => self.ca_file = Some(PathBuf::from(value)),
                "LICMON_AGENT_CONFIG" => {}
                _ => eprintln!("licmon-agent: unknown variable {key} ignored"),
            }
        }
        Ok(())
    }

    /// Checks what cannot work and reads the token file.
    pub fn finish(mut self) -> Result<Self, String> {
        self.url = self.url.trim().trim_end_matches('/').to_string();
        if self.url.is_empty() {
            return Err("no licmon URL: set url in the file, LICMON_AGENT_URL or --url".into());
        }
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(format!(
                "the licmon URL {:?} must start with http:// or https://",
                self.url
            ));
        }
        if let Some(path) = &self.token_file {
            let token = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
            self.token = Some(token.trim().to_string());
        }
        if self.token.as_deref().is_none_or(|t| t.trim().is_empty()) {
            return Err(
                "no agent token: set token or token_file, LICMON_AGENT_TOKEN or --token (an administrator creates one under Administration › Tokens, scope agent)".into(),
            );
        }
        if self.buffer_reports == 0 {
            return Err("buffer_reports must be at least 1".into());
        }
        Ok(self)
    }

    pub fn token(&self) -> &str {
        self.token.as_deref().unwrap_or_default().trim()
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order_and_mistakes_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("agent.toml");
        std::fs::write(
            &file,
            "url = \"http://file:1/\"\ntoken = \"from-file\"\nbuffer_reports = 10\n",
        )
        .unwrap();
        let mut s = Settings::from_file(&file).unwrap();
        assert_eq!(s.buffer_reports, 10);
        let env: BTreeMap<String, String> = [
            ("LICMON_AGENT_URL", "https://env:2/"),
            ("LICMON_AGENT_INTERVAL_SECS", "5"),
            ("OTHER", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        s.apply_env(&env).unwrap();
        let s = s.finish().unwrap();
        assert_eq!(s.url, "https://env:2");
        assert_eq!(s.token(), "from-file");
        assert_eq!(s.report_interval_secs, Some(5));

        let bad: BTreeMap<String, String> =
            [("LICMON_AGENT_INTERVAL_SECS".to_string(), "soon".to_string())].into();
        assert!(
            Settings::default()
                .apply_env(&bad)
                .unwrap_err()
                .contains("not a number")
        );
        std::fs::write(&file, "urll = \"x\"\n").unwrap();
        assert!(
            Settings::from_file(&file)
                .unwrap_err()
                .contains("unknown field")
        );
        let no_token = Settings {
            url: "http://h".into(),
            ..Settings::default()
        };
        assert!(no_token.finish().unwrap_err().contains("no agent token"));
        let ftp = Settings {
            url: "ftp://h".into(),
            token: Some("t".into()),
            ..Settings::default()
        };
        assert!(ftp.finish().unwrap_err().contains("http://"));
    }
}
