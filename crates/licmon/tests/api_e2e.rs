//! The license-server resource over real HTTP against a running `licmon serve`.

mod common;

use common::*;

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[test]
fn create_list_update_delete_and_every_kind_of_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let licmon = Licmon::serve(&dir.path().join("data"), &["--no-monitoring"], &[]);
    let addr = licmon.addr;

    let (status, body) = licmon.post_json(
        "/api/v1/license-servers",
        r#"{"name": "ansys-prod", "type": "flexnet", "vendor": "ANSYS", "address": "1055@lic1",
            "time_zone": "Europe/Berlin", "query_interval_secs": 120,
            "data_sources": {"remote": true, "import": true, "end_user": false}}"#,
    );
    assert_eq!(status, 201, "{body}");
    let created = json(&body);
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["type"], "flexnet");
    assert_eq!(created["time_zone"], "Europe/Berlin");
    assert_eq!(created["statuses"]["import"], "Ready");
    assert_eq!(created["statuses"]["end_user"], "Disabled");

    let (status, body) = licmon.get("/api/v1/license-servers");
    assert_eq!(status, 200);
    assert_eq!(json(&body).as_array().unwrap().len(), 1);

    let (status, body) = http(
        addr,
        "PUT",
        &format!("/api/v1/license-servers/{id}"),
        Some(
            r#"{"name": "ansys-prod", "type": "flexnet", "vendor": "ANSYS", "address": "1055@lic2,1055@lic3,1055@lic4"}"#,
        ),
    );
    assert_eq!(status, 200, "{body}");
    let updated = json(&body);
    assert_eq!(updated["address"], "1055@lic2,1055@lic3,1055@lic4");
    assert_eq!(updated["triad"], true);

    // Each kind of bad input: 422 naming the field.
    let bad = [
        (
            r#"{"name": "x", "type": "flexlm", "address": "1@h"}"#,
            "type",
        ),
        (
            r#"{"name": "x", "type": "flexnet", "address": "70000@h"}"#,
            "address",
        ),
        (
            r#"{"name": "x", "type": "flexnet", "address": "1@h", "query_interval_secs": 5}"#,
            "query_interval_secs",
        ),
        (
            r#"{"name": "x", "type": "flexnet", "address": "1@h", "time_zone": "Europe/Berlyn"}"#,
            "time_zone",
        ),
        (
            r#"{"name": "x", "type": "generic-log", "data_sources": {"remote": true}}"#,
            "data_sources.remote",
        ),
        (
            r#"{"name": "x", "type": "flexnet", "address": "1@h", "query_interval_secs": "often"}"#,
            "query_interval_secs",
        ),
        (
            r#"{"name": "x", "type": "flexnet", "address": "1@h", "colour": "red"}"#,
            "colour",
        ),
    ];
    for (input, field) in bad {
        let (status, body) = licmon.post_json("/api/v1/license-servers", input);
        assert_eq!(status, 422, "{input}: {body}");
        let errors = json(&body);
        let named = errors["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == field);
        assert!(named, "{input}: expected field {field} in {errors}");
        assert!(!errors["error"].as_str().unwrap().is_empty());
    }
    let (status, body) = licmon.post_json("/api/v1/license-servers", "{not json");
    assert_eq!(status, 400, "{body}");
    assert!(
        json(&body)["error"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );
    let (status, body) = licmon.post_json(
        "/api/v1/license-servers",
        r#"{"name": "ansys-prod", "type": "rlm", "address": "5053@h"}"#,
    );
    assert_eq!(status, 409, "duplicate name: {body}");

    let (status, _) = licmon.get("/api/v1/license-servers/999");
    assert_eq!(status, 404);
    let (status, _) = http(
        addr,
        "DELETE",
        &format!("/api/v1/license-servers/{id}"),
        None,
    );
    assert_eq!(status, 204);
    let (status, _) = http(
        addr,
        "DELETE",
        &format!("/api/v1/license-servers/{id}"),
        None,
    );
    assert_eq!(status, 404);
    let (status, body) = licmon.get("/api/v1/events");
    assert_eq!(status, 200);
    assert!(
        body.contains("ansys-prod"),
        "the event log records administration: {body}"
    );
    let (status, body) = licmon.get("/healthz");
    assert_eq!((status, body.as_str()), (200, "ok"));
    let (status, page) = licmon.get("/");
    assert_eq!(status, 200);
    assert!(page.contains("License Servers"));
}

#[test]
fn a_mistyped_database_url_is_refused_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let typo = format!("sqlite3://{}/licmon.db", dir.path().display());
    let out = std::process::Command::new(LICMON)
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &typo])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("accepted forms"), "{stderr}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn parse_prints_json_for_a_fixture_and_names_unknown_formats() {
    let fixtures = std::env::var("LICMON_FIXTURES").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures").to_string()
    });
    let file = format!("{fixtures}/flexlm/flexlm_exporter-server_down.txt");
    let out = std::process::Command::new(LICMON)
        .args([
            "parse",
            "--format",
            "flexnet-lmstat",
            &file,
            "--now",
            "2026-11-27T12:00:00Z",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(report["format"], "flexnet-lmstat");
    assert_eq!(report["servers"].as_array().unwrap().len(), 3);
    let out = std::process::Command::new(LICMON)
        .args(["parse", "--format", "lmstat", &file])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected one of: flexnet-lmstat"));
}

#[test]
fn a_client_stalled_mid_request_does_not_hold_up_a_stop() {
    use std::io::Write;
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    let mut licmon = Licmon::serve(&dir.path().join("data"), &["--no-monitoring"], &[]);
    // A client that sends the start of a request and then goes quiet (a laptop closed in the
    // middle of an upload): its handler waits for the rest of the body.
    let mut stalled = std::net::TcpStream::connect(licmon.addr).unwrap();
    write!(
        stalled,
        "POST /api/v1/license-servers HTTP/1.1\r\nHost: {}\r\nX-Auth-Token: {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"name\": ",
        licmon.addr, licmon.token
    )
    .unwrap();
    stalled.flush().unwrap();
    // The server answers other clients meanwhile, so it has read the stalled one's headers.
    let (status, _) = licmon.get("/api/v1/license-servers");
    assert_eq!(status, 200);

    let asked = Instant::now();
    let status = licmon.terminate();
    let took = asked.elapsed();
    assert!(status.success(), "licmon exited with {status}");
    // The requests' grace (5 s), not the client, decides when the node goes.
    assert!(took >= Duration::from_secs(4), "stopped after {took:?}");
    let log: Vec<String> = licmon.log.try_iter().collect();
    assert!(
        log.iter()
            .any(|l| l.contains("requests still in flight at the stop are dropped")),
        "{log:#?}"
    );
    assert!(log.iter().any(|l| l.contains("\"stopped\"")), "{log:#?}");
}
