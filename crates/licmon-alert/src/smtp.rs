//! E-mail over SMTP with lettre: plain, STARTTLS or implicit TLS (rustls, the system's roots),
//! optional authentication. The settings live in the database (`alert_settings`, key `smtp`),
//! edited on Administration › Alerts.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

pub const SETTING_KEY: &str = "smtp";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain SMTP (a relay on a trusted network, or a test receiver).
    None,
    /// Plain first, then upgraded with STARTTLS, which is required.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl SmtpSecurity {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(Self::None),
            "starttls" => Some(Self::Starttls),
            "tls" => Some(Self::Tls),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Starttls => "starttls",
            Self::Tls => "tls",
        }
    }
}

#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The From address, e.g. `licmon <licmon@example.org>`.
    pub from: String,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .finish()
    }
}

impl SmtpSettings {
    pub fn is_configured(&self) -> bool {
        !self.host.trim().is_empty() && !self.from.trim().is_empty()
    }

    /// What is wrong with the settings, per field.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut found = Vec::new();
        if self.host.trim().is_empty() {
            found.push(("host", "name the SMTP server".to_string()));
        }
        if self.port == 0 {
            found.push(("port", "the port is 25, 465 (TLS) or 587 (STARTTLS)".into()));
        }
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            found.push((
                "from",
                "the From address must be like licmon@example.org".into(),
            ));
        }
        if self.username.is_some() != self.password.is_some() {
            found.push((
                "username",
                "give both a user name and a password, or neither".into(),
            ));
        }
        found
    }
}

fn transport(s: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let host = s.host.trim();
    let builder = match s.security {
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
            .map_err(|e| format!("SMTP STARTTLS to {host}: {e}"))?,
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
            .map_err(|e| format!("SMTP TLS to {host}: {e}"))?,
    };
    let mut builder = builder
        .port(s.port)
        .timeout(Some(Duration::from_secs(20)))
        .hello_name(ClientId::Domain(hello_name()));
    if let (Some(user), Some(password)) = (&s.username, &s.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

fn hello_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "licmon".into())
}

/// Sends one plain-text mail.
pub async fn send_mail(
    s: &SmtpSettings,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<(), String> {
    let message = Message::builder()
        .from(
            s.from
                .parse()
                .map_err(|e| format!("From address {}: {e}", s.from))?,
        )
        .to(to.parse().map_err(|e| format!("address {to}: {e}"))?)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_string())
        .map_err(|e| format!("cannot build the mail: {e}"))?;
    transport(s)?
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| format!("SMTP {}:{}: {e}", s.host, s.port))
}

/// The "send test mail" button.
pub async fn send_test_mail(s: &SmtpSettings, to: &str) -> Result<(), String> {
    send_mail(
        s,
        to,
        "[licmon] test mail",
        "This is a test mail from licmon. Alert e-mails will arrive like this one.\n",
    )
    .await
}
