//! Accounts and tokens end to end: the `licmon user` / `licmon token` commands against the
//! database of a running `licmon serve` (as two nodes sharing a database would), TLS with
//! Secure cookies, and the demo's printed login.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn licmon(args: &[&str], data: &std::path::Path, stdin: &str) -> std::process::Output {
    run_cli(data, args, &[], stdin)
}

fn raw(addr: std::net::SocketAddr, request: &str) -> (u16, String) {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, out)
}

/// From a served login form (an HTTP response with its headers, as `curl -i` or [`raw`] give
/// it): the `licmon_login_csrf=…` cookie pair and the hidden field's token, which a login post
/// must bring back together.
fn login_form_token(response: &str) -> (String, String) {
    let cookie = response
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("set-cookie").then(|| v.trim())
        })
        .find(|v| v.starts_with("licmon_login_csrf="))
        .and_then(|v| v.split(';').next())
        .unwrap_or_else(|| panic!("no login CSRF cookie: {response}"))
        .to_string();
    let marker = r#"name="csrf_token" value=""#;
    let at = response
        .find(marker)
        .unwrap_or_else(|| panic!("no csrf_token field: {response}"))
        + marker.len();
    let field = response[at..].split('"').next().unwrap().to_string();
    (cookie, field)
}

fn with_token(addr: std::net::SocketAddr, token: &str, path: &str) -> (u16, String) {
    raw(
        addr,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Auth-Token: {token}\r\n\r\n"
        ),
    )
}

#[test]
fn cli_accounts_and_tokens_work_against_a_running_node() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let out = licmon(
        &["user", "add", "--admin", "--password-stdin", "alice"],
        &data,
        "a-long-password\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "user add prints nothing on stdout");
    let out = licmon(
        &["user", "add", "--password-stdin", "alice"],
        &data,
        "another-password\n",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let out = licmon(
        &["user", "add", "--password-stdin", "bob"],
        &data,
        "short\n",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 10"));
    // Without a terminal and without --password-stdin there is no way to ask: say so.
    let out = licmon(&["user", "add", "carol"], &data, "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--password-stdin"));

    let out = licmon(
        &[
            "token", "create", "--user", "alice", "--scope", "api", "--name", "ci",
        ],
        &data,
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "only the token: {stdout:?}");
    let token = stdout.trim().to_string();
    assert!(token.starts_with("lmt_") && token.len() == 68, "{token}");
    let agent = licmon(
        &["token", "create", "--user", "alice", "--scope", "agent"],
        &data,
        "",
    );
    let agent = String::from_utf8(agent.stdout).unwrap().trim().to_string();

    let node = Licmon::serve(&data, &["--no-monitoring"], &[]);
    let (status, body) = with_token(node.addr, &token, "/api/v1/me");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"alice\"") && body.contains("administrator"));
    let (status, _) = with_token(node.addr, &agent, "/api/v1/license-servers");
    assert_eq!(status, 403, "agent tokens reach only agent endpoints");
    let (status, _) = raw(
        node.addr,
        "GET /api/v1/license-servers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 401);

    // Revoked from another process: the running node refuses it within token_cache_secs
    // (1 s by default; the node re-reads a token it used at most that long ago).
    let list =
        String::from_utf8(licmon(&["token", "list", "--user", "alice"], &data, "").stdout).unwrap();
    let id = list
        .lines()
        .find(|l| l.contains("\tci\t") || l.ends_with("\tci\tactive"))
        .and_then(|l| l.split('\t').next())
        .unwrap_or_else(|| panic!("{list}"))
        .to_string();
    assert!(!list.contains(&token), "list never shows secrets");
    assert!(
        licmon(&["token", "revoke", &id], &data, "")
            .status
            .success()
    );
    let revoked_at = std::time::Instant::now();
    let (mut status, mut body) = with_token(node.addr, &token, "/api/v1/me");
    while status == 200 && revoked_at.elapsed() < std::time::Duration::from_secs(3) {
        std::thread::sleep(std::time::Duration::from_millis(50));
        (status, body) = with_token(node.addr, &token, "/api/v1/me");
    }
    assert_eq!(status, 401, "{body}");
    assert!(
        revoked_at.elapsed() < std::time::Duration::from_millis(2500),
        "refused only after {:?}",
        revoked_at.elapsed()
    );

    // The audit trail names what happened.
    let (_, events) = with_token(node.addr, &node.token, "/api/v1/events?category=auth");
    assert!(
        events.contains("user \\\"alice\\\" (administrator) created"),
        "{events}"
    );
    assert!(events.contains("revoked"), "{events}");
    let users = String::from_utf8(licmon(&["user", "list"], &data, "").stdout).unwrap();
    assert!(users.contains("alice\tadministrator"), "{users}");
    assert!(
        licmon(&["user", "delete", "alice"], &data, "")
            .status
            .success()
    );
}

#[test]
fn tls_serves_https_with_secure_cookies() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl makes the test certificate");
    assert!(made.success());
    let data = dir.path().join("data");
    let node = Licmon::serve(
        &data,
        &["--no-monitoring"],
        &[
            ("LICMON_TLS_CERT", cert.to_str().unwrap()),
            ("LICMON_TLS_KEY", key.to_str().unwrap()),
        ],
    );
    let url = format!("https://{}", node.addr);
    // Fetch the form first, as a browser does: the post must bring its CSRF cookie and field.
    let out = Command::new("curl")
        .args(["-sk", "-i"])
        .arg(format!("{url}/login"))
        .output()
        .expect("curl");
    let form = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        form.contains("SameSite=Strict") && form.contains("Secure"),
        "{form}"
    );
    let (form_cookie, field) = login_form_token(&form);
    let out = Command::new("curl")
        .args([
            "-sk",
            "-i",
            "-H",
            &format!("Cookie: {form_cookie}"),
            "-X",
            "POST",
            "--data",
            &format!("name={ADMIN}&password={ADMIN_PASSWORD}&csrf_token={field}"),
        ])
        .arg(format!("{url}/login"))
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("HTTP/1.1 303"), "{text}");
    let cookie = text
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: licmon_session=")
        })
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let out = Command::new("curl")
        .args(["-sk", "-H", &format!("X-Auth-Token: {}", node.token)])
        .arg(format!("{url}/api/v1/me"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(ADMIN));
    // Plain HTTP to the TLS port gets nothing useful.
    let (status, _) = raw(
        node.addr,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_ne!(status, 200);
}

#[test]
fn the_demo_prints_a_generated_admin_login_that_works() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(LICMON)
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("demo"))
        .env_remove("LICMON_DATABASE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut addr, mut password) = (None, None);
    while addr.is_none() || password.is_none() {
        assert!(Instant::now() < deadline, "the demo printed no login");
        let line = lines.next().expect("demo output").unwrap();
        if let Some(rest) = line.strip_prefix("Open http://") {
            addr = rest
                .split('/')
                .next()
                .map(|a| a.parse::<std::net::SocketAddr>().unwrap());
        }
        if let Some(rest) = line.strip_prefix("Log in as admin with password ") {
            password = rest.split_whitespace().next().map(str::to_string);
        }
    }
    let (addr, password) = (addr.unwrap(), password.unwrap());
    assert_eq!(password.len(), 16);
    let (status, form) = raw(
        addr,
        "GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200, "{form}");
    let (form_cookie, field) = login_form_token(&form);
    let body = format!("name=admin&password={password}&csrf_token={field}");
    let (status, text) = raw(
        addr,
        &format!(
            "POST /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: {form_cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    assert_eq!(status, 303, "{text}");
    let (status, _) = raw(
        addr,
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 303, "the demo is not open to anonymous visitors");
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let status = wait_with_deadline(&mut child, Duration::from_secs(20));
    assert!(
        status.success(),
        "the demo stops cleanly on SIGTERM: {status:?}"
    );
}
