//! Harness for end-to-end tests: real `licmon` processes on 127.0.0.1, a tiny HTTP/1.1 client,
//! and a simulator folder (symlinks named like vendor utilities pointing at `licmon`).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const LICMON: &str = env!("CARGO_BIN_EXE_licmon");

/// A running `licmon serve`, killed when dropped.
pub struct Licmon {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: mpsc::Receiver<String>,
    /// An administrator's API token; [`http`] sends it to this server by itself.
    pub token: String,
}

/// The administrator every test server gets (`licmon user add --admin`), and its password.
pub const ADMIN: &str = "e2e-admin";
pub const ADMIN_PASSWORD: &str = "e2e-admin-password";

/// API tokens per server address: requests made with [`http`] authenticate with them.
static TOKENS: std::sync::Mutex<std::collections::BTreeMap<SocketAddr, String>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// Runs a `licmon` subcommand on the data folder `data_dir` (flags in `args` come after the
/// subcommand), with `stdin` as its standard input, and waits for it.
pub fn run_cli(
    data_dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &str,
) -> std::process::Output {
    let mut cmd = Command::new(LICMON);
    cmd.args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("LICMON_DATABASE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run licmon");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Creates the administrator and an API token in the database `serve` will use, through the
/// CLI (as a script would), and returns the token.
pub fn admin_token(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> String {
    let mut db_flags: Vec<&str> = Vec::new();
    for pair in extra.windows(2) {
        if pair[0] == "--database" || pair[0] == "--config" {
            db_flags.extend_from_slice(pair);
        }
    }
    let run = |args: &[&str], stdin: &str| {
        let all: Vec<&str> = args.iter().chain(&db_flags).copied().collect();
        let out = run_cli(data_dir, &all, env, stdin);
        assert!(
            out.status.success(),
            "licmon {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    std::fs::create_dir_all(data_dir).unwrap();
    let existing = run(&["user", "list"], "");
    if !existing
        .lines()
        .any(|l| l.split('\t').nth(1) == Some(ADMIN))
    {
        run(
            &["user", "add", "--admin", "--password-stdin", ADMIN],
            &format!("{ADMIN_PASSWORD}\n"),
        );
    }
    let token = run(
        &[
            "token", "create", "--user", ADMIN, "--scope", "api", "--name", "e2e",
        ],
        "",
    );
    token.trim().to_string()
}

impl Licmon {
    /// Starts `licmon serve` on a free port with the given extra arguments and waits until it
    /// listens (it logs its address as JSON).
    pub fn serve(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let token = admin_token(data_dir, extra, env);
        let mut cmd = Command::new(LICMON);
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env("LICMON_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .env_remove("LICMON_DATABASE")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start licmon");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("licmon did not start");
            if let Some(addr) = listening_address(&line) {
                break addr;
            }
        };
        TOKENS.lock().unwrap().insert(addr, token.clone());
        Licmon {
            child,
            addr,
            log: rx,
            token,
        }
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        http(self.addr, "GET", path, None)
    }

    pub fn post_json(&self, path: &str, body: &str) -> (u16, String) {
        http(self.addr, "POST", path, Some(body))
    }

    /// SIGTERM, then wait for the exit (licmon bounds its stop to 15 s, see `stop.rs`).
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let limit = Duration::from_secs(20);
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() >= deadline {
                // What the node was doing when it did not stop says why.
                let log: Vec<String> = self.log.try_iter().collect();
                let tail = &log[log.len().saturating_sub(40)..];
                panic!(
                    "licmon did not exit within {limit:?} of SIGTERM; its last log lines:\n{}",
                    tail.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Licmon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn listening_address(line: &str) -> Option<SocketAddr> {
    let json: serde_json::Value = serde_json::from_str(line).ok()?;
    json.get("fields")?.get("address")?.as_str()?.parse().ok()
}

pub fn wait_with_deadline(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "process did not exit within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Polls `check` until it returns Some, or panics with `what` after `limit`.
pub fn wait_for<T>(limit: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A minimal HTTP/1.1 client: one request per connection.
pub fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let body = body.unwrap_or("");
    let auth = TOKENS
        .lock()
        .unwrap()
        .get(&addr)
        .map(|t| format!("X-Auth-Token: {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    (status, body)
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

/// A folder with the vendor utilities' names linked to `licmon` (which then acts as the
/// simulator) and the scenario beside them.
pub fn simulator_dir(root: &Path, scenario: &str) -> PathBuf {
    let dir = root.join("sim");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("licmon-sim.toml"), scenario).unwrap();
    for name in ["lmutil", "rlmutil", "lmxendutil"] {
        std::os::unix::fs::symlink(LICMON, dir.join(name)).unwrap();
    }
    dir
}

/// Processes whose command line mentions `needle` (e.g. the simulator folder).
pub fn processes_mentioning(needle: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let zombie = stat
            .rsplit(')')
            .next()
            .is_some_and(|s| s.trim_start().starts_with('Z'));
        if !zombie && String::from_utf8_lossy(&cmdline).contains(needle) {
            found.push(pid);
        }
    }
    found
}

/// The statuses of the server named `name`, from the API.
pub fn server_json(licmon: &Licmon, name: &str) -> Option<serde_json::Value> {
    let (status, body) = licmon.get("/api/v1/license-servers");
    if status != 200 {
        return None;
    }
    let list: serde_json::Value = serde_json::from_str(&body).ok()?;
    list.as_array()?.iter().find(|s| s["name"] == name).cloned()
}
