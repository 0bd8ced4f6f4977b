//! The web server of a node: auth settings from the configuration, plain HTTP or TLS.

use std::future::Future;

use licmon_server::AppState;
use licmon_server::auth::AuthSettings;
use licmon_server::auth::client_address::TrustedProxies;

use crate::config::Config;

pub fn auth_settings(config: &Config) -> AuthSettings {
    AuthSettings {
        session_idle: chrono::Duration::seconds(config.session_idle_secs as i64),
        session_absolute: chrono::Duration::seconds(config.session_max_secs as i64),
        secure_cookies: config.tls_cert.is_some(),
        token_cache_ttl: std::time::Duration::from_secs(config.token_cache_secs),
        // Checked when the configuration was loaded (`Config::validate`).
        trusted_proxies: TrustedProxies::parse(&config.trusted_proxies).unwrap_or_default(),
        ..AuthSettings::default()
    }
}

pub fn scheme(config: &Config) -> &'static str {
    if config.tls_cert.is_some() {
        "https"
    } else {
        "http"
    }
}

/// Serves HTTP, or HTTPS when `tls_cert` and `tls_key` are set, until `shutdown` resolves.
pub async fn serve(
    config: &Config,
    listener: tokio::net::TcpListener,
    mut state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    state.auth = auth_settings(config);
    match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => {
            let tls = licmon_server::tls::load_config(cert, key).map_err(anyhow::Error::msg)?;
            Ok(licmon_server::serve_tls(listener, tls, state, shutdown).await?)
        }
        _ => Ok(licmon_server::serve(listener, state, shutdown).await?),
    }
}
