//! End-user agents end to end: a real `licmon serve` and a real `licmon-agent` on loopback, with a
//! dummy monitored program (a copy of `sleep` named like the monitored executable).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;

/// `licmon-agent`, built beside `licmon` (`scripts/test` builds every binary first).
fn agent_binary() -> PathBuf {
    let path = std::path::Path::new(LICMON)
        .parent()
        .unwrap()
        .join("licmon-agent");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p licmon-agent` (scripts/test builds every binary)",
        path.display()
    );
    path
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// One request with the given token (or none), whatever the harness's default token.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let auth = token
        .map(|t| format!("X-Auth-Token: {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) before it has read a large body.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, rest.to_string())
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn agent_token(licmon: &Licmon, name: &str) -> (i64, String) {
    let (status, body) = licmon.post_json(
        "/api/v1/tokens",
        &format!(r#"{{"user": "{ADMIN}", "scope": "agent", "name": "{name}"}}"#),
    );
    assert_eq!(status, 201, "{body}");
    let created = json(&body);
    let token = created["token"]
        .as_str()
        .or_else(|| created["secret"].as_str())
        .unwrap_or_else(|| panic!("no token in {body}"))
        .to_string();
    let id = created["id"]
        .as_i64()
        .or_else(|| created["info"]["id"].as_i64())
        .or_else(|| created["metadata"]["id"].as_i64())
        .unwrap_or_else(|| panic!("no id in {body}"));
    (id, token)
}

fn report(server: i64, agent: &str) -> String {
    format!(
        r#"{{"version": 1, "agent": {{"id": "{agent}", "host": "{agent}", "user": "root", "agent_version": "test"}},
            "reports": [{{"server_id": {server}, "observed_at": "2026-11-27T09:00:00Z", "apps": []}}]}}"#
    )
}

#[test]
fn an_agent_makes_its_server_online_and_its_application_a_feature_then_goes_offline() {
    let dir = tempfile::tempdir().unwrap();
    // A short End User window, so that Offline comes within the test.
    let licmon = Licmon::serve(
        &dir.path().join("data"),
        &["--no-monitoring"],
        &[
            ("LICMON_AGENT_WINDOW_SECS", "3"),
            // What the configuration tells agents (their own setting overrides it).
            ("LICMON_AGENT_REPORT_INTERVAL_SECS", "45"),
        ],
    );
    let addr = licmon.addr;

    let (status, body) = licmon.post_json(
        "/api/v1/license-servers",
        r#"{"name": "in-house", "type": "agent-apps", "vendor": "Example", "time_zone": "UTC"}"#,
    );
    assert_eq!(status, 201, "{body}");
    let apps_id = json(&body)["id"].as_i64().unwrap();
    assert_eq!(json(&body)["statuses"]["end_user"], "Offline");
    let (status, body) = licmon.post_json(
        "/api/v1/license-servers",
        r#"{"name": "flex-no-agents", "type": "flexnet", "vendor": "ANSYS", "address": "1055@lic1",
            "data_sources": {"remote": true, "import": true, "end_user": false}}"#,
    );
    assert_eq!(status, 201, "{body}");
    let disabled_id = json(&body)["id"].as_i64().unwrap();

    let exe_name = format!("fakecad-{}", std::process::id());
    let (status, body) = licmon.post_json(
        "/api/v1/agent-apps",
        &format!(
            r#"{{"server_id": {apps_id}, "feature": "FakeCAD", "executables": ["{exe_name}"]}}"#
        ),
    );
    assert_eq!(status, 201, "{body}");
    // An application for a server whose type has no end-user monitoring is a field error.
    let (status, _) = licmon.post_json(
        "/api/v1/agent-apps",
        r#"{"server_id": 999, "feature": "x", "executables": ["x"]}"#,
    );
    assert_eq!(status, 422);

    let (_, token) = agent_token(&licmon, "workstations");

    // The monitored program: a copy of sleep with the monitored name.
    let program = dir.path().join(&exe_name);
    std::fs::copy("/bin/sleep", &program).unwrap();
    let _program = Killed(
        Command::new(&program)
            .arg("600")
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );

    let mut agent = Killed(
        Command::new(agent_binary())
            .env("LICMON_AGENT_URL", format!("http://{addr}"))
            .env("LICMON_AGENT_TOKEN", &token)
            .env("LICMON_AGENT_ID", "e2e-workstation")
            .env("LICMON_AGENT_INTERVAL_SECS", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );

    wait_for(Duration::from_secs(30), "End User Online (1)", || {
        server_json(&licmon, "in-house").filter(|s| s["statuses"]["end_user"] == "Online (1)")
    });
    let usage = wait_for(Duration::from_secs(30), "FakeCAD with 1 in use", || {
        let (status, body) = licmon.get(&format!("/api/v1/license-servers/{apps_id}/usage"));
        (status == 200).then(|| json(&body)).filter(|u| {
            u["features"]
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f["name"] == "FakeCAD" && f["in_use"] == 1))
        })
    });
    assert_eq!(usage["features"].as_array().unwrap().len(), 1);
    let (status, body) = licmon.get(&format!(
        "/api/v1/license-servers/{apps_id}/sessions?open=true"
    ));
    assert_eq!(status, 200, "{body}");
    let sessions = json(&body);
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{body}");
    assert_eq!(sessions[0]["source"], "agent");
    assert_eq!(sessions[0]["feature"], "FakeCAD");
    assert_eq!(sessions[0]["count"], 1);
    // sleep uses no CPU time: idle once it has been seen twice.
    assert!(sessions[0]["idle_secs"].is_u64(), "{body}");

    let (status, body) = licmon.get("/api/v1/agents");
    assert_eq!(status, 200, "{body}");
    let agents = json(&body);
    assert_eq!(agents.as_array().unwrap().len(), 1, "{body}");
    assert_eq!(agents[0]["agent_id"], "e2e-workstation");
    assert_eq!(agents[0]["online"], true);
    assert_eq!(agents[0]["last_seen_class"], "ok");
    assert_eq!(agents[0]["server_ids"], serde_json::json!([apps_id]));
    let (status, page) = licmon.get("/admin/agents");
    assert_eq!(status, 200);
    assert!(page.contains("e2e-workstation") && page.contains("FakeCAD"));
    // The server page's Agents tab lists the agent that reports for it.
    let (status, page) = licmon.get(&format!("/servers/{apps_id}"));
    assert_eq!(status, 200);
    let agents_tab = page.split("id=\"panel-agents\"").nth(1).unwrap_or_default();
    assert!(agents_tab.contains("e2e-workstation"), "{agents_tab}");

    // The agent's configuration lists only servers that take agent data.
    let (status, body) = request(addr, "GET", "/api/v1/agent/config", Some(&token), b"");
    assert_eq!(status, 200, "{body}");
    let config = json(&body);
    assert_eq!(config["report_interval_secs"], 45);
    assert_eq!(config["apps"].as_array().unwrap().len(), 1);

    // Refusals, each with its reason.
    let post = |token: Option<&str>, body: &[u8]| {
        request(addr, "POST", "/api/v1/agent/reports", token, body)
    };
    let (status, body) = post(Some("not-a-token"), report(apps_id, "x").as_bytes());
    assert_eq!(status, 401, "{body}");
    let (status, body) = post(None, report(apps_id, "x").as_bytes());
    assert_eq!(status, 401, "{body}");
    let (status, body) = post(Some(&token), br#"{"version": 1, "agent": "#);
    assert_eq!(status, 400, "{body}");
    assert!(
        json(&body)["error"].as_str().unwrap().contains("JSON"),
        "{body}"
    );
    let (status, body) = post(
        Some(&token),
        br#"{"version": 7, "agent": {}, "reports": []}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("version 7 is not supported"), "{body}");
    let (status, body) = post(Some(&token), report(disabled_id, "e2e-probe").as_bytes());
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("Disabled"), "{body}");
    let mut huge = report(apps_id, "x").into_bytes();
    huge.truncate(huge.len() - 1);
    huge.extend(std::iter::repeat_n(b' ', 300 * 1024));
    huge.push(b'}');
    let (status, body) = post(Some(&token), &huge);
    assert_eq!(status, 413, "{body}");
    let (status, body) = request(addr, "GET", "/api/v1/license-servers", Some(&token), b"");
    assert_eq!(
        status, 403,
        "an agent token reaches only agent endpoints: {body}"
    );
    let (revoked_id, revoked) = agent_token(&licmon, "stolen laptop");
    let (status, body) = post(Some(&revoked), report(apps_id, "laptop").as_bytes());
    assert_eq!(status, 200, "{body}");
    let (status, body) = http(
        addr,
        "DELETE",
        &format!("/api/v1/tokens/{revoked_id}"),
        None,
    );
    assert!(status == 200 || status == 204, "{status} {body}");
    let (status, body) = post(Some(&revoked), report(apps_id, "laptop").as_bytes());
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("revoked"), "{body}");
    // The refused probe is in the registry with its error.
    let (_, body) = licmon.get("/api/v1/agents");
    let probe = json(&body)
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent_id"] == "e2e-probe")
        .cloned()
        .unwrap_or_else(|| panic!("{body}"));
    assert!(probe["last_error"].as_str().unwrap().contains("Disabled"));

    // The agent stops: Offline once the window has passed, and the session closes.
    agent.0.kill().unwrap();
    agent.0.wait().unwrap();
    wait_for(Duration::from_secs(30), "End User Offline", || {
        server_json(&licmon, "in-house").filter(|s| s["statuses"]["end_user"] == "Offline")
    });
    wait_for(
        Duration::from_secs(30),
        "the agent session to close",
        || {
            let (_, body) = licmon.get(&format!(
                "/api/v1/license-servers/{apps_id}/sessions?open=true"
            ));
            (json(&body).as_array().map(Vec::len) == Some(0)).then_some(())
        },
    );
    let (_, body) = licmon.get(&format!("/api/v1/license-servers/{apps_id}/usage"));
    let usage = json(&body);
    assert_eq!(usage["features"][0]["in_use"], 0, "{body}");
    let (status, body) = licmon.get(&format!(
        "/api/v1/license-servers/{apps_id}/usage-history?granularity=hour"
    ));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("FakeCAD"), "{body}");
}

#[test]
fn the_agent_keeps_running_while_licmon_is_unreachable() {
    // A port nothing listens on: the agent logs, backs off and keeps running.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    let mut agent = Killed(
        Command::new(agent_binary())
            .env("LICMON_AGENT_URL", format!("http://{addr}"))
            .env("LICMON_AGENT_TOKEN", "whatever")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stderr = agent.0.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let mut retries = 0;
    while retries < 2 {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the agent logs its attempts");
        if line.contains("cannot fetch the configuration") {
            retries += 1;
        }
    }
    assert!(agent.0.try_wait().unwrap().is_none(), "still running");
    // A missing URL is a configuration error, exit code 2.
    let out = Command::new(agent_binary())
        .env_remove("LICMON_AGENT_URL")
        .env("LICMON_AGENT_TOKEN", "t")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no licmon URL"));
}
