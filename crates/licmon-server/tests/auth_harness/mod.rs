//! Harness for the server's HTTP tests: a real licmon server on 127.0.0.1 port 0 over a fresh
//! SQLite database, accounts and tokens made through the store, and a small HTTP/1.1 client.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::Utc;
use licmon_core::ServerId;
use licmon_server::AppState;
use licmon_server::auth::secrets::{digest, hash_password, new_token};
use licmon_store::{
    AuthStore, DatabaseUrl, NewUser, Role, SqlStore, StatusSettings, TokenScope, User,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

pub struct TestServer {
    pub addr: SocketAddr,
    pub store: Arc<SqlStore>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

pub async fn start() -> TestServer {
    start_with(StatusSettings::default()).await
}

pub async fn start_with(status: StatusSettings) -> TestServer {
    start_configured(status, |_| {}).await
}

/// A server whose state `configure` adjusts first (auth settings, ...).
pub async fn start_configured(
    status: StatusSettings,
    configure: impl FnOnce(&mut AppState),
) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqlStore::open(&DatabaseUrl::sqlite_in(dir.path()))
            .await
            .unwrap(),
    );
    let mut state = AppState::new(store.clone(), status);
    configure(&mut state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(licmon_server::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    TestServer {
        addr,
        store,
        stop: Some(stop),
        task: Some(task),
        _dir: dir,
    }
}

#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `Set-Cookie` value that sets cookie `name` (with its attributes).
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.as_str())
            .find(|v| {
                v.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('='))
            })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// A served login form: the `licmon_login_csrf=…` cookie pair and the hidden field's token.
#[derive(Debug, Clone)]
pub struct LoginForm {
    pub cookie: String,
    pub field: String,
}

impl LoginForm {
    /// From a response that served the login form (200, 401, 403 or 429).
    pub fn from_page(r: &Resp) -> Self {
        let cookie = r
            .set_cookie("licmon_login_csrf")
            .and_then(|v| v.split(';').next())
            .unwrap_or_else(|| panic!("no login CSRF cookie: {:?}", r.headers))
            .to_string();
        let marker = r#"name="csrf_token" value=""#;
        let at = r
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("no csrf_token field: {}", r.body))
            + marker.len();
        let field = r.body[at..].split('"').next().unwrap().to_string();
        Self { cookie, field }
    }
}

/// A logged-in browser: its cookies and the CSRF token.
#[derive(Debug, Clone)]
pub struct Browser {
    pub cookie: String,
    pub csrf: String,
}

impl TestServer {
    pub fn password(name: &str) -> String {
        format!("password-of-{name}")
    }

    pub async fn user(&self, name: &str, role: Role, permitted: Option<Vec<ServerId>>) -> User {
        self.store
            .create_user(
                &NewUser {
                    name: name.into(),
                    password_hash: hash_password(&Self::password(name)).unwrap(),
                    role,
                    permitted_servers: permitted,
                },
                Utc::now(),
            )
            .await
            .unwrap()
    }

    /// A token for `user`: the secret, and the token's id.
    pub async fn token(&self, user: &User, scope: TokenScope) -> (String, i64) {
        let secret = new_token();
        let info = self
            .store
            .create_token(user.id, "test", scope, &digest(&secret), Utc::now())
            .await
            .unwrap();
        (secret, info.id)
    }

    /// An administrator with an API token, for tests that only need to get in.
    pub async fn admin_token(&self) -> String {
        let admin = self.user("root", Role::Administrator, None).await;
        self.token(&admin, TokenScope::Api).await.0
    }

    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, Vec<u8>)>,
    ) -> Resp {
        http(self.addr, method, path, headers, body).await
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        self.request("GET", path, headers, None).await
    }

    pub async fn with_token(
        &self,
        token: &str,
        method: &str,
        path: &str,
        json: Option<&str>,
    ) -> Resp {
        self.request(
            method,
            path,
            &[("X-Auth-Token", token)],
            json.map(|j| ("application/json", j.as_bytes().to_vec())),
        )
        .await
    }

    /// Fetches the login form as a browser does: its CSRF cookie (`name=value`) and the
    /// token in its hidden field.
    pub async fn login_form(&self) -> LoginForm {
        let r = self.get("/login", &[]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        LoginForm::from_page(&r)
    }

    /// Posts the login form with this `form`'s cookie and field.
    pub async fn post_login(&self, form: &LoginForm, name: &str, password: &str) -> Resp {
        self.post_login_with(form, name, password, &[]).await
    }

    /// [`Self::post_login`] with more request headers (e.g. a proxy's `X-Forwarded-For`).
    pub async fn post_login_with(
        &self,
        form: &LoginForm,
        name: &str,
        password: &str,
        extra: &[(&str, &str)],
    ) -> Resp {
        let body = format!(
            "name={}&password={}&next=%2F&csrf_token={}",
            enc(name),
            enc(password),
            enc(&form.field)
        );
        let mut headers = vec![("Cookie", form.cookie.as_str())];
        headers.extend_from_slice(extra);
        self.request(
            "POST",
            "/login",
            &headers,
            Some(("application/x-www-form-urlencoded", body.into_bytes())),
        )
        .await
    }

    /// Logs in through the form, as a browser does: fetch it, then post it.
    pub async fn login(&self, name: &str, password: &str) -> Result<Browser, Resp> {
        let form = self.login_form().await;
        let r = self.post_login(&form, name, password).await;
        if r.status != 303 {
            return Err(r);
        }
        let mut cookies = Vec::new();
        let mut csrf = String::new();
        for (k, v) in &r.headers {
            if k.eq_ignore_ascii_case("set-cookie") {
                let pair = v.split(';').next().unwrap().to_string();
                if let Some(value) = pair.strip_prefix("licmon_csrf=") {
                    csrf = value.to_string();
                }
                if pair.starts_with("licmon_login_csrf=") {
                    continue; // cleared on login
                }
                cookies.push(pair);
            }
        }
        Ok(Browser {
            cookie: cookies.join("; "),
            csrf,
        })
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.store.close().await;
    }
}

pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// One request per connection, HTTP/1.1.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, Vec<u8>)>,
) -> Resp {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = match body {
        Some((content_type, bytes)) => {
            head.push_str(&format!(
                "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
                bytes.len()
            ));
            bytes
        }
        None => {
            head.push_str("Content-Length: 0\r\n");
            Vec::new()
        }
    };
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    // The server may answer (413) before reading the whole body and close: that is fine.
    let _ = stream.write_all(&body).await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Resp {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Resp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}
