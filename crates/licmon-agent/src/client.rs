//! Talking to licmon over HTTP(S) with ureq (blocking, rustls). Every answer is classified; no
//! answer, however malformed, is a panic.

use std::io::Read;

use licmon_protocol::{AgentConfig, ErrorBody, PROTOCOL_VERSION, ReportDocument};

use crate::config::Settings;

/// Largest answer read from licmon.
const MAX_ANSWER: u64 = 1024 * 1024;

/// What became of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<T> {
    Ok(T),
    /// licmon answered and said no: do not send this again (400, 409, 413, ...).
    Refused {
        status: u16,
        reason: String,
    },
    /// The token is unknown or revoked (401) or not an agent token (403): keep the reports and
    /// try later; an administrator must fix the token.
    Unauthorized {
        status: u16,
        reason: String,
    },
    /// licmon could not be reached, or failed (5xx, 429), or answered something unreadable: try
    /// again later.
    Retry(String),
}

pub struct Client {
    agent: ureq::Agent,
    url: String,
    token: String,
}

fn reason_of(status: u16, body: &str) -> String {
    match serde_json::from_str::<ErrorBody>(body) {
        Ok(e) => e.error,
        Err(_) => {
            let text: String = body.chars().take(200).collect();
            format!("HTTP {status}: {}", text.trim())
        }
    }
}

fn classify<T>(
    status: u16,
    body: String,
    ok: impl FnOnce(&str) -> Result<T, String>,
) -> Outcome<T> {
    match status {
        200..=299 => match ok(&body) {
            Ok(v) => Outcome::Ok(v),
            Err(e) => Outcome::Retry(format!("licmon's answer is not understood: {e}")),
        },
        401 | 403 => Outcome::Unauthorized {
            status,
            reason: reason_of(status, &body),
        },
        429 | 500..=599 => Outcome::Retry(reason_of(status, &body)),
        _ => Outcome::Refused {
            status,
            reason: reason_of(status, &body),
        },
    }
}

impl Client {
    pub fn new(settings: &Settings) -> Result<Self, String> {
        let mut config = ureq::Agent::config_builder()
            .timeout_global(Some(settings.timeout()))
            .http_status_as_error(false)
            .user_agent(format!("licmon-agent/{}", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &settings.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read the CA file {}: {e}", path.display()))?;
            let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c.to_owned()),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(format!("{} holds no PEM certificate", path.display()));
            }
            config = config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
                    .build(),
            );
        }
        Ok(Self {
            agent: config.build().into(),
            url: settings.url.clone(),
            token: settings.token().to_string(),
        })
    }

    fn read(response: &mut ureq::http::Response<ureq::Body>) -> Result<String, String> {
        let mut text = String::new();
        response
            .body_mut()
            .as_reader()
            .take(MAX_ANSWER)
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read licmon's answer: {e}"))?;
        Ok(text)
    }

    pub fn fetch_config(&self) -> Outcome<AgentConfig> {
        let answer = self
            .agent
            .get(&format!("{}/api/v1/agent/config", self.url))
            .header("X-Auth-Token", &self.token)
            .call();
        let mut response = match answer {
            Ok(r) => r,
            Err(e) => return Outcome::Retry(format!("cannot reach licmon at {}: {e}", self.url)),
        };
        let status = response.status().as_u16();
        let body = match Self::read(&mut response) {
            Ok(b) => b,
            Err(e) => return Outcome::Retry(e),
        };
        classify(status, body, |text| {
            let config: AgentConfig = serde_json::from_str(text).map_err(|e| e.to_string())?;
            if config.version != PROTOCOL_VERSION {
                return Err(format!(
                    "configuration version {} (this agent speaks {PROTOCOL_VERSION})",
                    config.version
                ));
            }
            Ok(config)
        })
    }

    pub fn send(&self, doc: &ReportDocument) -> Outcome<()> {
        let body = match serde_json::to_string(doc) {
            Ok(b) => b,
            Err(e) => {
                return Outcome::Refused {
                    status: 0,
                    reason: format!("cannot encode the report: {e}"),
                };
            }
        };
        let answer = self
            .agent
            .post(&format!("{}/api/v1/agent/reports", self.url))
            .header("X-Auth-Token", &self.token)
            .header("Content-Type", "application/json")
            .send(body.as_bytes());
        let mut response = match answer {
            Ok(r) => r,
            Err(e) => return Outcome::Retry(format!("cannot reach licmon at {}: {e}", self.url)),
        };
        let status = response.status().as_u16();
        let body = match Self::read(&mut response) {
            Ok(b) => b,
            Err(e) => return Outcome::Retry(e),
        };
        classify(status, body, |_| Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_classified_and_never_panic() {
        let ok = |_: &str| Ok::<(), String>(());
        assert_eq!(classify(200, String::new(), ok), Outcome::Ok(()));
        assert_eq!(
            classify(409, r#"{"error":"disabled"}"#.into(), ok),
            Outcome::Refused {
                status: 409,
                reason: "disabled".into()
            }
        );
        assert!(matches!(
            classify(401, "<html>nope".into(), ok),
            Outcome::Unauthorized { status: 401, reason } if reason.contains("nope")
        ));
        assert!(matches!(
            classify(503, String::new(), ok),
            Outcome::Retry(_)
        ));
        let bad = |t: &str| serde_json::from_str::<AgentConfig>(t).map_err(|e| e.to_string());
        assert!(matches!(
            classify(200, "{not json".into(), bad),
            Outcome::Retry(_)
        ));
    }
}
