//! The JSON webhook: one POST per notification over HTTP/1.1 (hyper's client connection),
//! plain for `http://`, rustls with the system's roots for `https://`. A 2xx answer is success.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

const TIMEOUT: Duration = Duration::from_secs(10);

struct Target {
    tls: bool,
    host: String,
    port: u16,
    path_and_query: String,
}

fn parse(url: &str) -> Result<Target, String> {
    let (tls, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(format!(
            "{url}: only http:// and https:// webhooks are supported"
        ));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (
            h.trim_start_matches('[').trim_end_matches(']'),
            p.parse::<u16>()
                .map_err(|_| format!("{url}: bad port {p}"))?,
        ),
        _ => (authority, if tls { 443 } else { 80 }),
    };
    if host.is_empty() {
        return Err(format!("{url}: no host"));
    }
    Ok(Target {
        tls,
        host: host.to_string(),
        port,
        path_and_query: path.to_string(),
    })
}

/// POSTs `body` as JSON to `url`.
pub async fn post_json(url: &str, body: &serde_json::Value) -> Result<(), String> {
    let target = parse(url)?;
    tokio::time::timeout(TIMEOUT, send(&target, body.to_string()))
        .await
        .map_err(|_| format!("{url}: no answer within {TIMEOUT:?}"))?
        .map_err(|e| format!("{url}: {e}"))
}

async fn send(t: &Target, body: String) -> Result<(), String> {
    let tcp = TcpStream::connect((t.host.as_str(), t.port))
        .await
        .map_err(|e| e.to_string())?;
    if t.tls {
        let name = ServerName::try_from(t.host.clone()).map_err(|e| e.to_string())?;
        let tls = TlsConnector::from(tls_config()?)
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS: {e}"))?;
        exchange(tls, t, body).await
    } else {
        exchange(tcp, t, body).await
    }
}

async fn exchange<S>(stream: S, t: &Target, body: String) -> Result<(), String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(connection);
    let host = if (t.tls && t.port == 443) || (!t.tls && t.port == 80) {
        t.host.clone()
    } else {
        format!("{}:{}", t.host, t.port)
    };
    let request = Request::post(t.path_and_query.as_str())
        .header("host", host)
        .header("content-type", "application/json")
        .header("user-agent", concat!("licmon/", env!("CARGO_PKG_VERSION")))
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    // Read (and drop) the answer so that the connection ends cleanly.
    let _ = response.into_body().collect().await;
    driver.abort();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {status}"))
    }
}

fn tls_config() -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for cert in found.certs {
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err("no trusted root certificates found on this system".into());
    }
    Ok(Arc::new(
        ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_host_port_and_path() {
        let t = parse("http://127.0.0.1:8081/hook?x=1").unwrap();
        assert_eq!(
            (t.tls, t.host.as_str(), t.port, t.path_and_query.as_str()),
            (false, "127.0.0.1", 8081, "/hook?x=1")
        );
        let t = parse("https://hooks.example.org").unwrap();
        assert_eq!((t.tls, t.port, t.path_and_query.as_str()), (true, 443, "/"));
        let t = parse("http://[::1]:9/x").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 9));
        assert!(parse("ftp://x").is_err());
        assert!(parse("http://:80/").is_err());
    }
}
