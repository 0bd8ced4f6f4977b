//! Alerts and Prometheus end to end: a real `licmon serve` polls the simulator; the scenario
//! is rewritten so that the license server goes down and comes back; a real SMTP receiver and
//! a real webhook receiver get exactly one alert and one resolution. `/metrics` parses as
//! Prometheus text, has the expected series, and is guarded by `metrics_token`.

mod common;
#[path = "../../licmon-alert/tests/receivers/mod.rs"]
mod receivers;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use common::*;
use receivers::{HttpReceiver, SmtpReceiver, wait_until};

fn scenario(behaviour: &str) -> String {
    format!(
        r#"
seed = 3
[[server]]
kind = "flexnet"
address = "27000@alerthost"
vendor = "ansyslmd"
behaviour = "{behaviour}"
[[server.feature]]
name = "solver"
version = "2025.1"
issued = 20
users = 8
"#
    )
}

/// Replaces the scenario atomically, so that a poll never reads half a file.
fn set_scenario(sim: &Path, behaviour: &str) {
    let tmp = sim.join("licmon-sim.toml.tmp");
    std::fs::write(&tmp, scenario(behaviour)).unwrap();
    std::fs::rename(&tmp, sim.join("licmon-sim.toml")).unwrap();
}

/// A request with optional extra headers; returns (status, body).
fn raw(addr: SocketAddr, method: &str, path: &str, headers: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, rest.to_string())
}

fn post_form(licmon: &Licmon, path: &str, body: &str) -> u16 {
    let headers = format!(
        "X-Auth-Token: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n",
        licmon.token
    );
    raw(licmon.addr, "POST", path, &headers, body).0
}

/// One sample: metric name, labels, value.
type Sample = (String, Vec<(String, String)>, f64);

/// Checks the Prometheus/OpenMetrics text format line by line and returns the samples as
/// (name, labels, value).
fn parse_exposition(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "ends with # EOF");
    for line in lines {
        if let Some(comment) = line.strip_prefix("# ") {
            let word = comment.split(' ').next().unwrap();
            assert!(
                ["HELP", "TYPE", "UNIT", "EOF"].contains(&word),
                "bad comment: {line}"
            );
            continue;
        }
        let name_end = line
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(line.len());
        let name = &line[..name_end];
        assert!(
            !name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit()),
            "bad metric name in {line}"
        );
        let mut rest = &line[name_end..];
        let mut labels = Vec::new();
        if let Some(inner) = rest.strip_prefix('{') {
            let mut chars = inner.char_indices().peekable();
            let end;
            loop {
                let (start, c) = chars.next().expect("unterminated labels");
                if c == '}' {
                    end = Some(start);
                    break;
                }
                let eq = inner[start..].find('=').expect("label without =") + start;
                let label = inner[start..eq].trim_start_matches(',');
                assert!(
                    label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        && !label.is_empty(),
                    "bad label name {label:?} in {line}"
                );
                while chars.peek().is_some_and(|(i, _)| *i <= eq) {
                    chars.next();
                }
                assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
                let mut value = String::new();
                loop {
                    match chars.next().expect("unterminated label value").1 {
                        '\\' => match chars.next().unwrap().1 {
                            'n' => value.push('\n'),
                            '\\' => value.push('\\'),
                            '"' => value.push('"'),
                            other => panic!("bad escape \\{other} in {line}"),
                        },
                        '"' => break,
                        '\n' => panic!("raw newline in {line}"),
                        c => value.push(c),
                    }
                }
                labels.push((label.to_string(), value));
                if chars.peek().is_some_and(|(_, c)| *c == ',') {
                    chars.next();
                }
                if chars.peek().is_some_and(|(_, c)| *c == '}') {
                    end = Some(chars.next().unwrap().0);
                    break;
                }
            }
            rest = &inner[end.unwrap() + 1..];
        }
        let value = rest.trim().split(' ').next().unwrap();
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
        };
        samples.push((name.to_string(), labels, value));
    }
    samples
}

fn sample(samples: &[Sample], name: &str, want: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|(n, labels, _)| {
            n == name
                && want
                    .iter()
                    .all(|(k, v)| labels.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map(|s| s.2)
}

#[test]
fn a_server_going_offline_alerts_once_and_resolves_once_and_metrics_follow() {
    let dir = tempfile::tempdir().unwrap();
    let sim = simulator_dir(dir.path(), &scenario("up"));
    let smtp = SmtpReceiver::start();
    let hooks = HttpReceiver::start();
    let licmon = Licmon::serve(
        &dir.path().join("data"),
        &[],
        &[
            ("LICMON_ALERT_EVAL_SECS", "1"),
            ("LICMON_METRICS_TOKEN", "scrape-me"),
        ],
    );

    let body = format!(
        r#"{{"name": "solver-lic", "type": "flexnet", "address": "27000@alerthost", "query_interval_secs": 10, "utility_path": "{}"}}"#,
        sim.join("lmutil").display()
    );
    let (code, created) = licmon.post_json("/api/v1/license-servers", &body);
    assert_eq!(code, 201, "{created}");
    let server_id = serde_json::from_str::<serde_json::Value>(&created).unwrap()["id"].clone();

    let rule = format!(
        r#"{{"name": "solver-lic offline", "kind": "server_offline", "minutes": 0, "server_id": {server_id}, "webhook_url": "{}"}}"#,
        hooks.url("/licmon")
    );
    let (code, created) = licmon.post_json("/api/v1/alert-rules", &rule);
    assert_eq!(code, 201, "{created}");
    let rule: serde_json::Value = serde_json::from_str(&created).unwrap();
    let (code, bad) = licmon.post_json(
        "/api/v1/alert-rules",
        r#"{"name": "x", "kind": "utilisation", "percent": 0}"#,
    );
    assert_eq!(code, 422, "{bad}");

    // SMTP through the admin page's form, and the administrator's own subscription.
    let smtp_form = format!(
        "host=127.0.0.1&port={}&security=none&username=&password=&from=licmon%40example.org",
        smtp.addr.port()
    );
    assert_eq!(post_form(&licmon, "/admin/alerts/smtp", &smtp_form), 200);
    assert_eq!(
        post_form(&licmon, "/admin/alerts/test-mail", "to=ops%40example.org"),
        200
    );
    wait_until(Duration::from_secs(10), "the test mail", || {
        (smtp.mails().len() == 1).then_some(())
    });
    assert!(smtp.mails()[0].data.contains("[licmon] test mail"));
    let subscribe = format!("email=ops%40example.org&rule={}", rule["id"]);
    assert_eq!(post_form(&licmon, "/preferences/alerts", &subscribe), 200);

    wait_for(Duration::from_secs(30), "Online", || {
        let s = server_json(&licmon, "solver-lic")?;
        (s["statuses"]["remote"] == "Online").then_some(())
    });
    // Online: no alert.
    assert!(hooks.hooks().is_empty());

    set_scenario(&sim, "down");
    let fired = wait_until(Duration::from_secs(40), "the firing webhook", || {
        hooks.hooks().first().cloned()
    });
    let fired: serde_json::Value = serde_json::from_str(&fired.body).unwrap();
    assert_eq!(fired["event"], "firing");
    assert_eq!(fired["rule"], "solver-lic offline");
    assert!(
        fired["message"]
            .as_str()
            .unwrap()
            .starts_with("solver-lic: Offline: server down"),
        "{fired}"
    );
    wait_until(Duration::from_secs(20), "the firing mail", || {
        (smtp.mails().len() == 2).then_some(())
    });
    let (code, alerts) = licmon.get("/api/v1/alerts");
    assert_eq!(code, 200);
    let alerts: serde_json::Value = serde_json::from_str(&alerts).unwrap();
    assert_eq!(alerts[0]["state"], "firing", "{alerts}");

    // Metrics while it is down: valid text, the expected series, the failure counted by reason.
    let (code, text) = licmon.get("/metrics");
    assert_eq!(code, 200, "an administrator's token reaches /metrics");
    let samples = parse_exposition(&text);
    let server = [("server", "solver-lic")];
    assert_eq!(
        sample(
            &samples,
            "licmon_server_status",
            &[
                ("server", "solver-lic"),
                ("source", "remote"),
                ("status", "Offline")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &samples,
            "licmon_server_status",
            &[
                ("server", "solver-lic"),
                ("source", "remote"),
                ("status", "Online")
            ]
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &samples,
            "licmon_feature_issued",
            &[("server", "solver-lic"), ("feature", "solver")]
        ),
        Some(20.0)
    );
    assert!(sample(&samples, "licmon_feature_in_use", &server).is_some());
    assert!(
        sample(
            &samples,
            "licmon_polls_total",
            &[("server", "solver-lic"), ("outcome", "server_down")]
        )
        .is_some_and(|n| n >= 1.0)
    );
    assert!(
        sample(
            &samples,
            "licmon_poll_duration_seconds_bucket",
            &[("server", "solver-lic"), ("le", "+Inf")]
        )
        .is_some_and(|n| n >= 2.0)
    );
    assert_eq!(
        sample(&samples, "licmon_alerts", &[("state", "firing")]),
        Some(1.0)
    );
    assert!(sample(&samples, "licmon_agents_online", &server).is_some());
    assert!(sample(&samples, "licmon_capacity_used", &[]).is_some());
    // Every metric the Grafana dashboard uses is exposed (capacity_limit only with a limit).
    let dashboard = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/grafana-licmon.json"),
    )
    .unwrap();
    let used: std::collections::BTreeSet<&str> = dashboard
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("licmon_") && *w != "licmon_capacity_limit")
        .collect();
    assert!(used.len() >= 10, "{used:?}");
    for name in used {
        let family = ["_total", "_bucket"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .unwrap_or(name);
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "the dashboard uses {name}, which /metrics does not have"
        );
    }
    // The scrape token: nothing without it, a wrong one is refused, the right one works.
    assert_eq!(raw(licmon.addr, "GET", "/metrics", "", "").0, 401);
    let wrong = "Authorization: Bearer nope\r\n";
    assert_eq!(raw(licmon.addr, "GET", "/metrics", wrong, "").0, 401);
    let right = "Authorization: Bearer scrape-me\r\n";
    let (code, scraped) = raw(licmon.addr, "GET", "/metrics", right, "");
    assert_eq!(code, 200);
    assert!(scraped.contains("licmon_server_status"));

    set_scenario(&sim, "up");
    let resolved = wait_until(Duration::from_secs(40), "the resolution webhook", || {
        hooks.hooks().get(1).cloned()
    });
    let resolved: serde_json::Value = serde_json::from_str(&resolved.body).unwrap();
    assert_eq!(resolved["event"], "resolved");
    assert_eq!(resolved["alert_id"], fired["alert_id"]);
    wait_until(Duration::from_secs(20), "the resolution mail", || {
        (smtp.mails().len() == 3).then_some(())
    });
    // A later successful poll (and many evaluations at 1 s) repeat nothing.
    let polls_ok = |licmon: &Licmon| {
        let (_, text) = licmon.get("/metrics");
        sample(
            &parse_exposition(&text),
            "licmon_polls_total",
            &[("server", "solver-lic"), ("outcome", "ok")],
        )
        .unwrap_or(0.0)
    };
    let before = polls_ok(&licmon);
    wait_for(Duration::from_secs(25), "another successful poll", || {
        (polls_ok(&licmon) > before).then_some(())
    });
    assert_eq!(
        hooks.hooks().len(),
        2,
        "exactly one alert and one resolution"
    );
    let mails = smtp.mails();
    assert_eq!(mails.len(), 3, "the test mail, one alert, one resolution");
    assert!(
        mails[1]
            .data
            .contains("Subject: [licmon] FIRING: solver-lic: Offline")
    );
    assert!(
        mails[2]
            .data
            .contains("Subject: [licmon] RESOLVED: solver-lic: Offline")
    );
    assert_eq!(mails[1].to, vec!["ops@example.org".to_string()]);

    // The pages render.
    let (code, page) = licmon.get("/admin/alerts");
    assert_eq!(code, 200);
    assert!(page.contains("solver-lic offline") && page.contains("resolved"));
    let (code, page) = licmon.get("/preferences/alerts");
    assert_eq!(code, 200);
    assert!(page.contains("ops@example.org") && page.contains("checked"));
}
