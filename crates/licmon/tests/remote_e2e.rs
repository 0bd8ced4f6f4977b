//! Remote monitoring end to end: a real `licmon serve` polls the simulator through real child
//! processes, and the statuses move as SPEC §2 says.

mod common;

use std::time::Duration;

use common::*;

const SCENARIO: &str = r#"
seed = 7
[[server]]
kind = "flexnet"
address = "27000@up-a,27000@up-b,27000@up-c"
vendor = "ansyslmd"
triad_down_member = 2
[[server.feature]]
name = "solver"
version = "2025.1"
issued = 20
users = 30
peak = 0.9
borrowed = 1
# Nobody uses it: `lmstat -a` shows no expiry for it, only `lmstat -i` does.
[[server.feature]]
name = "post"
version = "2025.1"
issued = 4
users = 0
peak = 0.0
expires = "2031-01-31"

[[server]]
kind = "rlm"
address = "5053@rlm-up"
vendor = "foundry"
[[server.feature]]
name = "nuke_i"
version = "1.0"
issued = 5
users = 6

[[server]]
kind = "lmx"
address = "6200@lmx-up"
vendor = "ALTAIR"
[[server.feature]]
name = "HyperWorks"
version = "21.0"
issued = 1000
users = 5
borrowed = 1

[[server]]
kind = "flexnet"
address = "27000@hangs"
vendor = "cdslmd"
behaviour = "hang"
[[server.feature]]
name = "x"
version = "1"
issued = 1

[[server]]
kind = "flexnet"
address = "27000@garbage"
vendor = "junk"
behaviour = "garbage"
[[server.feature]]
name = "x"
version = "1"
issued = 1

[[server]]
kind = "flexnet"
address = "27000@down"
vendor = "gone"
behaviour = "down"
[[server.feature]]
name = "x"
version = "1"
issued = 1
"#;

fn create(licmon: &Licmon, name: &str, kind: &str, address: &str, utility: &str) {
    let body = format!(
        r#"{{"name": "{name}", "type": "{kind}", "address": "{address}", "query_interval_secs": 10, "utility_path": "{utility}"}}"#
    );
    let (status, response) = licmon.post_json("/api/v1/license-servers", &body);
    assert_eq!(status, 201, "{response}");
    let created: serde_json::Value = serde_json::from_str(&response).unwrap();
    assert_eq!(
        created["statuses"]["remote"], "Verifying",
        "right after creation: {created}"
    );
}

fn remote_status(licmon: &Licmon, name: &str) -> Option<(String, String)> {
    let s = server_json(licmon, name)?;
    let status = s["statuses"]["remote"].as_str()?.to_string();
    let reason = s["status_reasons"]["remote"]
        .as_str()
        .unwrap_or("")
        .to_string();
    (status != "Verifying").then_some((status, reason))
}

#[test]
fn statuses_follow_real_polls_and_shutdown_leaves_no_child() {
    let dir = tempfile::tempdir().unwrap();
    let sim = simulator_dir(dir.path(), SCENARIO);
    let utility = |name: &str| sim.join(name).display().to_string();
    let mut licmon = Licmon::serve(&dir.path().join("data"), &[], &[]);

    create(
        &licmon,
        "triad",
        "flexnet",
        "27000@up-a,27000@up-b,27000@up-c",
        &utility("lmutil"),
    );
    create(&licmon, "rlm", "rlm", "5053@rlm-up", &utility("rlmutil"));
    create(&licmon, "lmx", "lmx", "6200@lmx-up", &utility("lmxendutil"));
    create(
        &licmon,
        "hangs",
        "flexnet",
        "27000@hangs",
        &utility("lmutil"),
    );
    create(
        &licmon,
        "garbage",
        "flexnet",
        "27000@garbage",
        &utility("lmutil"),
    );
    create(&licmon, "down", "flexnet", "27000@down", &utility("lmutil"));
    create(
        &licmon,
        "missing",
        "flexnet",
        "27000@up-a",
        "/opt/flexlm/no-such-lmutil",
    );

    for name in ["triad", "rlm", "lmx"] {
        let (status, reason) = wait_for(Duration::from_secs(20), name, || {
            remote_status(&licmon, name)
        });
        assert_eq!(status, "Online", "{name}: {reason}");
    }
    let (status, reason) = wait_for(Duration::from_secs(10), "missing", || {
        remote_status(&licmon, "missing")
    });
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("Offline", "utility not found: /opt/flexlm/no-such-lmutil")
    );
    let (status, reason) = wait_for(Duration::from_secs(10), "garbage", || {
        remote_status(&licmon, "garbage")
    });
    assert_eq!(status, "Offline");
    assert!(reason.starts_with("unparseable output"), "{reason}");
    let (status, reason) = wait_for(Duration::from_secs(10), "down", || {
        remote_status(&licmon, "down")
    });
    assert_eq!(status, "Offline");
    assert!(reason.starts_with("server down: "), "{reason}");
    // The hanging utility is killed at the timeout (4/5 of the 10 s interval), within one interval.
    let (status, reason) = wait_for(Duration::from_secs(12), "hangs", || {
        remote_status(&licmon, "hangs")
    });
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("Offline", "timeout after 8 s")
    );

    // Current usage of the triad: three nodes, one down, features from the simulator.
    let triad = server_json(&licmon, "triad").unwrap();
    let (code, usage) = licmon.get(&format!("/api/v1/license-servers/{}/usage", triad["id"]));
    assert_eq!(code, 200);
    let usage: serde_json::Value = serde_json::from_str(&usage).unwrap();
    let nodes = usage["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3);
    assert_eq!(nodes.iter().filter(|n| n["up"] == false).count(), 1);
    assert_eq!(usage["features"][0]["name"], "solver");
    assert_eq!(usage["features"][0]["issued"], 20);
    // The unused feature's expiry comes from the license file (`lmstat -i`), read once an
    // hour and merged into every snapshot.
    let post = &usage["features"][1];
    assert_eq!(
        (&post["name"], &post["in_use"]),
        (&"post".into(), &0.into())
    );
    assert_eq!(post["pools"][0]["expires"], "2031-01-31", "{post}");

    // The simulator's borrows last a week: FlexNet's linger and LM-X's BORROW_EXPIRE_TIME
    // reach the sessions as a return time exactly a week after the start. LM-X shows every
    // client's IP address, FlexNet none.
    for (name, with_ip) in [("triad", false), ("lmx", true)] {
        let id = &server_json(&licmon, name).unwrap()["id"];
        let (code, body) = licmon.get(&format!("/api/v1/license-servers/{id}/sessions?open=true"));
        assert_eq!(code, 200, "{body}");
        let sessions: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
        let time = |v: &serde_json::Value| {
            chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap()
        };
        let lent: Vec<i64> = sessions
            .iter()
            .filter(|s| s["borrowed"] == true)
            .map(|s| (time(&s["borrow_expires_at"]) - time(&s["started_at"])).num_seconds())
            .collect();
        assert_eq!(lent, [7 * 86_400], "{name}: {body}");
        assert!(
            sessions.iter().all(|s| s["ip"].is_string() == with_ip),
            "{name}: {body}"
        );
    }

    // A hanging poll is in flight now (every 10 s, lasting 8 s): shut down in the middle of it.
    wait_for(Duration::from_secs(12), "a hanging utility", || {
        (!processes_mentioning(&sim.display().to_string()).is_empty()).then_some(())
    });
    let status = licmon.terminate();
    assert!(status.success(), "licmon exited with {status}");
    let left = wait_for(Duration::from_secs(5), "children to be gone", || {
        let left = processes_mentioning(&sim.display().to_string());
        left.is_empty().then_some(left)
    });
    assert!(left.is_empty());
}

#[test]
fn without_monitoring_servers_are_unmonitored() {
    let dir = tempfile::tempdir().unwrap();
    let licmon = Licmon::serve(&dir.path().join("data"), &["--no-monitoring"], &[]);
    let (status, body) = licmon.post_json(
        "/api/v1/license-servers",
        r#"{"name": "quiet", "type": "flexnet", "address": "27000@h"}"#,
    );
    assert_eq!(status, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(created["statuses"]["remote"], "Unmonitored");
    assert_eq!(
        created["status_reasons"]["remote"],
        "the monitoring service is not running"
    );
}
