//! The web UI in a real headless Chromium, driven over WebDriver, against a real `licmon serve`
//! polling the simulator: log in, add a server through the Administration form (seeing the
//! validation errors next to the fields first) and watch it go Verifying → Online on the
//! dashboard without a reload, see its usage chart with data, see crossed-out tabs on an
//! import-only server, hide a server in Preferences, export a CSV. Screenshots of the dashboard
//! and a server page go to `target/screenshots/`.

mod common;
mod webdriver;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use serde_json::json;
use webdriver::Browser;

const PASSWORD: &str = "browser-test-pw-1";

/// The simulated servers; the server's clock is put where it is midday, so that the usage
/// model shows people at work whenever the test runs.
fn scenario(zone: &str) -> String {
    format!(
        r#"
seed = 11
[[server]]
kind = "flexnet"
address = "27000@sim-flex"
vendor = "ansyslmd"
time_zone = "{zone}"
[[server.feature]]
name = "cfd_solver"
version = "2025.1"
issued = 40
reserved = 2
users = 60
peak = 0.85
expires = "2026-12-31"
[[server.feature]]
name = "mech_pre"
version = "2025.1"
issued = 12
users = 25
peak = 0.9
queued = 1
borrowed = 1
[[server.feature]]
name = "hpc_pack"
version = "2025.1"
issued = 64
users = 8
licenses_per_checkout = 8

[[server]]
kind = "rlm"
address = "5053@sim-rlm"
vendor = "foundry"
time_zone = "{zone}"
[[server.feature]]
name = "nuke_i"
issued = 10
users = 14
peak = 0.7

[[server]]
kind = "lmx"
address = "6200@sim-lmx"
vendor = "ALTAIR"
time_zone = "{zone}"
[[server.feature]]
name = "HyperWorks"
issued = 200
users = 30

[[server]]
kind = "flexnet"
address = "27000@tri-a,27000@tri-b,27000@tri-c"
vendor = "cdslmd"
triad_down_member = 2
time_zone = "{zone}"
[[server.feature]]
name = "virtuoso"
issued = 25
users = 20
peak = 0.95

[[server]]
kind = "flexnet"
address = "27000@sim-down"
vendor = "mgcld"
behaviour = "down"
[[server.feature]]
name = "x"
issued = 1
"#
    )
}

/// An `Etc/GMT±N` zone where it is about noon now.
fn noon_zone() -> String {
    let hour = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 3600)
        % 24;
    let offset = (12 - hour as i64 + 36) % 24 - 12; // local = UTC + offset
    match offset {
        0 => "UTC".to_string(),
        // Etc/GMT signs are inverted: Etc/GMT-2 is UTC+2.
        o if o > 0 => format!("Etc/GMT-{o}"),
        o => format!("Etc/GMT+{}", -o),
    }
}

fn licmon_cli(data: &Path, args: &[&str], stdin: &str) -> String {
    let out = run_cli(data, args, &[], stdin);
    assert!(
        out.status.success(),
        "licmon {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// POST JSON with an API token.
fn api_post(licmon: &Licmon, token: &str, path: &str, body: &str) -> (u16, String) {
    api_request(licmon, token, "POST", path, body)
}

/// Creates a license server through the API; the server as the API answered.
fn create_server(licmon: &Licmon, token: &str, body: &serde_json::Value) -> serde_json::Value {
    let (status, response) = api_post(licmon, token, "/api/v1/license-servers", &body.to_string());
    assert_eq!(status, 201, "{response}");
    let json = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {response}"))
}

/// A request with an API token and a JSON body (may be empty).
fn api_request(
    licmon: &Licmon,
    token: &str,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, String) {
    let mut s = TcpStream::connect(licmon.addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Auth-Token: {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, raw)
}

fn screenshots_dir() -> PathBuf {
    // target/debug/licmon → target/screenshots
    Path::new(LICMON)
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("screenshots")
}

/// The status badge text of the dashboard row of `name` (the table as the user sees it).
fn dashboard_status(b: &Browser, name: &str, source: &str) -> Option<String> {
    b.script(
        "for (const r of document.querySelectorAll('#servers tbody tr')) {
           if (r.querySelector('td a').textContent.trim() === arguments[0])
             return r.querySelector(`[data-status=\"${arguments[1]}\"] .badge`).textContent.trim();
         } return null;",
        json!([name, source]),
    )
    .as_str()
    .map(str::to_string)
}

fn dashboard_names(b: &Browser) -> Vec<String> {
    b.script(
        "return Array.from(document.querySelectorAll('#servers tbody tr td:first-child a')).map(a => a.textContent.trim());",
        json!([]),
    )
    .as_array()
    .unwrap()
    .iter()
    .map(|v| v.as_str().unwrap().to_string())
    .collect()
}

fn submit(b: &Browser, form_css: &str) {
    let button = b.wait(
        &format!("{form_css} button[type=submit]"),
        Duration::from_secs(10),
    );
    b.click(&button);
}

#[test]
fn the_web_ui_in_chromium() {
    if !webdriver::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let sim = simulator_dir(dir.path(), &scenario(&noon_zone()));
    // A gate in front of the simulator: the first poll of the server added through the form
    // waits until the test has seen it Verifying.
    let gated = sim.join("gated-lmutil");
    std::fs::write(
        &gated,
        "#!/bin/sh\nd=$(dirname \"$0\")\nwhile [ ! -e \"$d/go\" ]; do sleep 0.05; done\nexec \"$d/lmutil\" \"$@\"\n",
    )
    .unwrap();
    let mut perms = std::fs::metadata(&gated).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&gated, perms).unwrap();

    licmon_cli(
        &data,
        &["user", "add", "admin", "--admin", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    let token = licmon_cli(
        &data,
        &["token", "create", "--user", "admin", "--scope", "api"],
        "",
    );
    let licmon = Licmon::serve(&data, &[], &[]);
    let base = format!("http://{}", licmon.addr);
    let utility = |name: &str| sim.join(name).display().to_string();
    for (name, kind, vendor, address, util) in [
        ("ansys-cfd", "flexnet", "ANSYS", "27000@sim-flex", "lmutil"),
        ("foundry-nuke", "rlm", "Foundry", "5053@sim-rlm", "rlmutil"),
        ("altair-hw", "lmx", "Altair", "6200@sim-lmx", "lmxendutil"),
        (
            "cadence-triad",
            "flexnet",
            "Cadence",
            "27000@tri-a,27000@tri-b,27000@tri-c",
            "lmutil",
        ),
        (
            "mentor-old",
            "flexnet",
            "Siemens",
            "27000@sim-down",
            "lmutil",
        ),
    ] {
        let body = json!({"name": name, "type": kind, "vendor": vendor, "address": address,
            "query_interval_secs": 10, "utility_path": utility(util), "time_zone": "Europe/Berlin"});
        create_server(&licmon, &token, &body);
    }

    let downloads = dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let b = Browser::start(&downloads, 1366, 900);

    // Log in through the login page.
    b.goto(&format!("{base}/"));
    b.fill("#name", "admin");
    b.fill("#password", PASSWORD);
    submit(&b, "form");
    b.wait("#servers", Duration::from_secs(10));

    // The Administration form: errors next to the fields, then a valid server.
    b.goto(&format!("{base}/admin/servers/new"));
    b.fill("#f-name", "");
    b.fill("#f-interval", "often");
    submit(&b, "#server-form");
    let name_error = b.wait("#e-name", Duration::from_secs(10));
    assert!(b.text(&name_error).contains("required"));
    let interval_error = b.wait("#e-query_interval_secs", Duration::from_secs(5));
    assert!(b.text(&interval_error).contains("not a whole number"));
    assert_eq!(
        b.attr(&b.wait("#f-name", Duration::from_secs(5)), "aria-invalid")
            .as_deref(),
        Some("true")
    );
    b.fill("#f-name", "sim-ansys-fluent");
    b.fill("#f-vendor", "ANSYS");
    b.fill("#f-address", "27000@sim-flex");
    b.fill("#f-interval", "10");
    b.fill("#f-tz", "Europe/Berlin");
    b.fill("#f-utility", &gated.display().to_string());
    submit(&b, "#server-form");
    let notice = b.wait("p.notice", Duration::from_secs(10));
    assert!(b.text(&notice).contains("sim-ansys-fluent"));

    // An import-only server, through the same form.
    b.goto(&format!("{base}/admin/servers/new"));
    b.fill("#f-name", "plm-logs");
    b.script(
        "const s = document.getElementById('f-type'); s.value = 'generic-log'; s.dispatchEvent(new Event('change'));",
        json!([]),
    );
    b.fill("#f-vendor", "Siemens");
    submit(&b, "#server-form");
    b.wait("p.notice", Duration::from_secs(10));

    // Dashboard: the new server is Verifying; released, it turns Online in place.
    b.goto(&format!("{base}/"));
    b.wait("#servers", Duration::from_secs(10));
    assert_eq!(
        dashboard_status(&b, "sim-ansys-fluent", "remote").as_deref(),
        Some("Verifying")
    );
    b.script("window.__notReloaded = true;", json!([]));
    std::fs::write(sim.join("go"), "").unwrap();
    wait_for(
        Duration::from_secs(60),
        "sim-ansys-fluent Online on the dashboard",
        || {
            (dashboard_status(&b, "sim-ansys-fluent", "remote").as_deref() == Some("Online"))
                .then_some(())
        },
    );
    assert_eq!(
        b.script("return window.__notReloaded === true;", json!([])),
        json!(true),
        "the dashboard refreshed in place, without a reload"
    );
    wait_for(Duration::from_secs(60), "the others polled", || {
        let names = ["ansys-cfd", "foundry-nuke", "altair-hw"];
        names
            .iter()
            .all(|n| dashboard_status(&b, n, "remote").as_deref() == Some("Online"))
            .then_some(())
    });
    assert_eq!(
        dashboard_status(&b, "mentor-old", "remote").as_deref(),
        Some("Offline")
    );
    // A server added meanwhile (through the API) appears on the next refresh; deleted, it
    // disappears again — still without a reload.
    let body = json!({"name": "late-logs", "type": "generic-log", "vendor": "Late"});
    let late = create_server(&licmon, &token, &body);
    wait_for(
        Duration::from_secs(40),
        "late-logs on the dashboard",
        || {
            dashboard_names(&b)
                .contains(&"late-logs".to_string())
                .then_some(())
        },
    );
    assert_eq!(
        dashboard_status(&b, "late-logs", "import").as_deref(),
        Some("Ready")
    );
    let (status, response) = api_request(
        &licmon,
        &token,
        "DELETE",
        &format!("/api/v1/license-servers/{}", late["id"]),
        "",
    );
    assert!(status == 200 || status == 204, "{status} {response}");
    wait_for(Duration::from_secs(40), "late-logs gone", || {
        (!dashboard_names(&b).contains(&"late-logs".to_string())).then_some(())
    });
    assert_eq!(
        b.script("return window.__notReloaded === true;", json!([])),
        json!(true),
        "servers came and went without a reload"
    );
    assert_eq!(
        dashboard_status(&b, "plm-logs", "remote").as_deref(),
        Some("N/A")
    );
    // Filter by type leaves only the generic-log server.
    b.script(
        "const s = document.getElementById('filter-type'); s.value = 'generic-log'; s.dispatchEvent(new Event('change'));",
        json!([]),
    );
    let visible = b.script(
        "return Array.from(document.querySelectorAll('#servers tbody tr')).filter(r => !r.hidden).length;",
        json!([]),
    );
    assert_eq!(visible, json!(1));
    b.goto(&format!("{base}/"));
    b.wait("#servers", Duration::from_secs(10));
    let shots = screenshots_dir();
    b.save_screenshot(&shots.join("dashboard.png"));

    // Export the dashboard as CSV: a real download.
    let export = b.wait("[data-export-table=servers]", Duration::from_secs(5));
    b.click(&export);
    let csv_path = downloads.join("license-servers.csv");
    let csv = wait_for(Duration::from_secs(20), "the CSV download", || {
        std::fs::read_to_string(&csv_path)
            .ok()
            .filter(|s| s.lines().count() > 1)
    });
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "Server,Vendor,Type,Remote,Import,End User,Last update,Utilisation"
    );
    let row = csv
        .lines()
        .find(|l| l.starts_with("sim-ansys-fluent"))
        .unwrap_or_else(|| panic!("{csv}"));
    assert!(row.contains(",ANSYS,FlexNet,Online,"), "{row}");
    assert_eq!(csv.lines().count(), 1 + 7, "{csv}");

    // The server page: the usage chart has data.
    let id = server_json(&licmon, "sim-ansys-fluent");
    let id = match id {
        Some(v) => v["id"].as_i64().unwrap(),
        // The API needs a token once logins exist; read the id from the page instead.
        None => b
            .script(
                "for (const a of document.querySelectorAll('#servers tbody a')) if (a.textContent.trim() === 'sim-ansys-fluent') return Number(a.closest('tr').dataset.id); return null;",
                json!([]),
            )
            .as_i64()
            .unwrap(),
    };
    b.goto(&format!("{base}/servers/{id}#history"));
    wait_for(Duration::from_secs(20), "bars in the usage chart", || {
        let bars = b.find_all("#chart svg rect.bar-max");
        (!bars.is_empty()).then_some(bars.len())
    });
    let label = b.attr(&b.wait("#chart svg", Duration::from_secs(5)), "aria-label");
    let label = label.unwrap_or_default();
    assert!(label.contains("of 116 issued"), "{label}");
    let tab = b.wait("#tab-current", Duration::from_secs(5));
    b.click(&tab);
    b.wait("#features tr.feature", Duration::from_secs(5));
    assert!(b.page_text().contains("cfd_solver"));
    b.save_screenshot(&shots.join("server.png"));
    // The Borrowed tab says when the borrowed license (FlexNet linger) comes back, as a local
    // date and time like every other time on the page.
    b.click(&b.wait("#tab-borrowed", Duration::from_secs(5)));
    let borrowed = b.script(
        "const head = Array.from(document.querySelectorAll('#borrowed-table th'), (th) => th.textContent); \
         const t = document.querySelector('#borrowed-table tbody td:nth-child(6) time'); \
         return [head.join('|'), t ? t.textContent : '', t ? t.getAttribute('datetime') : ''];",
        json!([]),
    );
    assert_eq!(borrowed[0], "Feature|User|Host|Licenses|Since|Returns");
    let (shown, iso) = (borrowed[1].as_str().unwrap(), borrowed[2].as_str().unwrap());
    assert!(
        !iso.is_empty() && !shown.is_empty() && shown != iso,
        "a return time, shown in local form: {borrowed}"
    );
    b.click(&b.wait("#tab-history", Duration::from_secs(5)));
    b.wait("#chart svg rect.bar-max", Duration::from_secs(10));
    b.save_screenshot(&shots.join("server-history.png"));

    // The import-only server: live tabs are crossed out and cannot be selected.
    let logs_id = b
        .script(
            "return fetch('/api/v1/license-servers').then(r => r.json()).then(l => l.find(s => s.name === 'plm-logs').id);",
            json!([]),
        )
        .as_i64()
        .unwrap();
    b.goto(&format!("{base}/servers/{logs_id}"));
    let current = b.wait("#tab-current", Duration::from_secs(10));
    assert_eq!(b.attr(&current, "aria-disabled").as_deref(), Some("true"));
    assert!(b.find_all("#tab-current s").len() == 1, "struck through");
    b.click(&current);
    assert_eq!(b.attr(&current, "aria-selected").as_deref(), Some("false"));
    let history = b.wait("#tab-history", Duration::from_secs(5));
    assert_eq!(b.attr(&history, "aria-selected").as_deref(), Some("true"));
    for crossed in ["#tab-borrowed", "#tab-expiring", "#tab-agents"] {
        let t = b.wait(crossed, Duration::from_secs(5));
        assert_eq!(
            b.attr(&t, "aria-disabled").as_deref(),
            Some("true"),
            "{crossed}"
        );
    }

    // Upload a log in licmon's CSV event format from the import-only server's page.
    let upload = dir.path().join("plm-usage.csv");
    std::fs::write(
        &upload,
        "time,kind,feature,user,host,count,reason\n\
         2026-11-02 08:00:00,out,nx_cad,ana,ws1,1,\n\
         2026-11-02 08:00:05,denied,nx_cad,bo,ws2,1,Licensed number of users already reached\n\
         2026-11-02 08:10:00,denied,nx_cad,bo,ws2,1,Licensed number of users already reached\n\
         2026-11-02 08:20:00,denied,nx_cam,cy,ws3,1,Licensed number of users already reached\n\
         2026-11-02 09:30:00,in,nx_cad,ana,ws1,1,\n\
         2026-11-02 09:40:00,denied,nx_cad,dee,ws4,1,Licensed number of users already reached\n\
         2026-11-02 09:40:01,out,nx_cad,dee,ws4,1,\n\
         2026-11-02 09:50:00,in,nx_cad,dee,ws4,1,\n",
    )
    .unwrap();
    let file_input = b.wait("#import-file", Duration::from_secs(5));
    b.type_into(&file_input, &upload.display().to_string());
    submit(&b, "#import-form");
    let imported = wait_for(Duration::from_secs(20), "the upload's summary", || {
        let text = b.text(&b.wait("#import-result", Duration::from_secs(5)));
        text.starts_with("Imported").then_some(text)
    });
    assert!(
        imported.contains("8 events, 2 sessions, 4 denials"),
        "{imported}"
    );

    // Its usage history comes from the imported sessions: ana held nx_cad 08:00–09:30 that day,
    // dee 09:40–09:50 (right after a denial, so that one was a retry).
    // Opened afresh, the page shows the last week of its logs (they ended weeks ago).
    b.goto(&format!("{base}/servers/{logs_id}"));
    let chart_label = |wanted: &'static str| {
        wait_for(Duration::from_secs(10), wanted, || {
            // Read in one step: a reload of the chart replaces the element at any moment.
            let label = b.script(
                "const svg = document.querySelector('#chart svg'); \
                 return svg ? svg.getAttribute('aria-label') : null;",
                json!([]),
            );
            let label = label.as_str()?.to_string();
            label.contains(wanted).then_some(label)
        })
    };
    let label = chart_label("1 days with data");
    assert!(label.contains("peak 1"), "{label}");
    let range = b.script(
        "const f = document.querySelector('[data-history-form]'); \
         return [f.elements.range.value, f.elements.from.value, f.elements.to.value];",
        json!([]),
    );
    assert_eq!(range, json!(["custom", "2026-10-27", "2026-11-02"]));
    let features = b.script(
        "return Array.from(document.querySelectorAll('#h-feature option'), o => o.value);",
        json!([]),
    );
    assert_eq!(
        features,
        json!(["", "nx_cad"]),
        "features seen in the history"
    );
    // One day (From = To), by hour.
    set_days(&b, "[data-history-form]", "2026-11-02", "2026-11-02");
    let label = chart_label("2 hours with data");
    assert!(label.contains("peak 1"), "{label}");

    denials_tab(&b, &base, logs_id, &downloads);

    // Preferences › Visibility: hide plm-logs; it leaves the dashboard.
    b.goto(&format!("{base}/preferences/visibility"));
    let box_css = format!("#show-{logs_id}");
    let checkbox = b.wait(&box_css, Duration::from_secs(10));
    b.click(&checkbox);
    submit(&b, "#visibility-form");
    b.wait("p.notice", Duration::from_secs(10));
    b.goto(&format!("{base}/"));
    b.wait("#servers", Duration::from_secs(10));
    let names = dashboard_names(&b);
    assert!(!names.contains(&"plm-logs".to_string()), "{names:?}");
    assert!(names.contains(&"sim-ansys-fluent".to_string()), "{names:?}");
    assert!(b.page_text().contains("1 hidden"));

    // Reports › Feature usage: the hidden plm-logs chosen on its own shows its imported
    // sessions (nx_cad: ana 08:00–09:30, dee 09:40:01–09:50 on 2 Nov, 1.67 license hours) and
    // denials (nx_cad: bo twice, dee once just before his checkout: a retry; nx_cam: cy, whom
    // nothing was ever checked out for); all shown servers leave it out and say so.
    b.goto(&format!(
        "{base}/reports?from=2026-11-02&to=2026-11-02&server={logs_id}"
    ));
    b.wait("#feature-usage", Duration::from_secs(10));
    let cells = b.script(
        "return Array.from(document.querySelectorAll('#feature-usage tbody tr'), \
         r => Array.from(r.cells, c => c.textContent.trim()));",
        json!([]),
    );
    // Server, feature, users, sessions, license hours, true denials, denials.
    let picked: Vec<Vec<&str>> = cells
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            [0, 1, 9, 10, 11, 12, 13]
                .iter()
                .map(|&i| row[i].as_str().unwrap_or("?"))
                .collect()
        })
        .collect();
    assert_eq!(
        picked,
        [
            ["plm-logs", "nx_cad", "2", "2", "1.67", "2", "3"],
            ["plm-logs", "nx_cam", "0", "0", "0", "1", "1"],
        ],
        "{cells}"
    );
    b.click(&b.wait("a[data-nav='/reports']", Duration::from_secs(5)));
    b.wait("#feature-usage", Duration::from_secs(10));
    let servers = b.script(
        "return Array.from(document.querySelectorAll('#feature-usage tbody tr'),          r => r.cells[0].textContent.trim());",
        json!([]),
    );
    let servers: Vec<&str> = servers
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(servers.contains(&"sim-ansys-fluent"), "{servers:?}");
    assert!(!servers.contains(&"plm-logs"), "{servers:?}");
    assert!(b.page_text().contains("1 server(s) you hide are left out"));

    // Usable from 1024 px: nothing wider than the window, the widest page included.
    b.resize(1024, 768);
    let overflow = b.script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
        json!([]),
    );
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "reports: horizontal overflow {overflow}"
    );
    b.goto(&format!("{base}/"));
    b.wait("#servers", Duration::from_secs(10));
    let overflow = b.script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
        json!([]),
    );
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "horizontal overflow {overflow}"
    );
}

/// Sets a form's From and To days as a user would, then tells the page they changed.
fn set_days(b: &Browser, form: &str, from: &str, to: &str) {
    b.script(
        "const f = document.querySelector(arguments[0]); \
         f.elements.from.value = arguments[1]; f.elements.to.value = arguments[2]; \
         f.dispatchEvent(new Event('change'));",
        json!([form, from, to]),
    );
}

/// The rows of a table on the page, each as its cells' texts (`skip` leading cells left out).
fn table_rows(b: &Browser, css: &str, skip: usize) -> Vec<String> {
    let rows = b.script(
        "return Array.from(document.querySelectorAll(arguments[0] + ' tbody tr'), \
           r => Array.from(r.cells).slice(arguments[1]).map(c => c.textContent.trim()).join(' | '));",
        json!([css, skip]),
    );
    rows.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The import-only server's Denials tab: newest first, the counts per feature and user above
/// the list, filters by user (picked from the counts) and by day, the whole selection exported.
fn denials_tab(b: &Browser, base: &str, id: i64, downloads: &Path) {
    // Already on this page (a hash change would not load it again): select the tab.
    b.goto(&format!("{base}/servers/{id}"));
    b.click(&b.wait("#tab-denials", Duration::from_secs(10)));
    // Waits until the table shows `wanted`, then compares (a mismatch names what it showed).
    let settled = |css: &'static str, wanted: Vec<&str>| {
        let read = || -> Vec<String> {
            // The time column is the viewer's local time: compare what is beside it.
            if css == "#denials-table" {
                return table_rows(b, css, 1);
            }
            table_rows(b, css, 0)
                .iter()
                .map(|r| {
                    r.rsplit_once(" | ")
                        .map_or(r.clone(), |(k, _)| k.to_string())
                })
                .collect()
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut rows = read();
        while rows != wanted && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            rows = read();
        }
        assert_eq!(rows, wanted, "{css}");
    };
    settled(
        "#denial-features",
        vec!["nx_cad | 2 | 3 | 1", "nx_cam | 1 | 1 | 1"],
    );
    settled(
        "#denial-users",
        vec!["bo | 2 | 2 | 1", "cy | 1 | 1 | 1", "dee | 0 | 1 | 0"],
    );
    let reason = "Licensed number of users already reached";
    let cy = format!("nx_cam | cy | ws3 | 1 | {reason} | true denial");
    let bo = format!("nx_cad | bo | ws2 | 1 | {reason} | true denial");
    settled("#denials-table", vec![&cy, &bo, &bo]);
    b.save_screenshot(&screenshots_dir().join("server-denials.png"));

    // Pick bo in the user counts: the list and the feature counts follow.
    b.click(&b.wait("#denial-users [data-value=bo]", Duration::from_secs(5)));
    settled("#denials-table", vec![&bo, &bo]);
    settled("#denial-features", vec!["nx_cad | 2 | 2 | 1"]);
    let picked = b.script("return document.getElementById('d-user').value;", json!([]));
    assert_eq!(picked, json!("bo"));

    // The whole selection as CSV, from the API (every column, times in UTC).
    b.click(&b.wait("[data-export-api=denials]", Duration::from_secs(5)));
    let csv_path = downloads.join("plm-logs-denials.csv");
    let csv = wait_for(Duration::from_secs(20), "the denials CSV", || {
        std::fs::read_to_string(&csv_path)
            .ok()
            .filter(|s| s.lines().count() == 3)
    });
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "at,count,feature,host,id,reason,retry,server_id,source,user"
    );
    assert!(
        lines[1].starts_with("2026-11-02T08:10:00Z,1,nx_cad,ws2,"),
        "{csv}"
    );
    assert!(
        lines[2].ends_with(&format!(",false,{id},import,bo")),
        "{csv}"
    );

    // A day without denials, then the days the wrong way round.
    set_days(b, "[data-denials-form]", "2026-11-03", "2026-11-03");
    wait_for(Duration::from_secs(10), "no denials that day", || {
        let rows = table_rows(b, "#denials-table", 0);
        (rows == ["No denials in this selection (denials come from imported logs, and from polled utilities that count them: LM-X, custom XML)."]).then_some(())
    });
    settled("#denial-features", vec!["No denials in this selection."]);
    b.click(&b.wait("[data-export-api=denials]", Duration::from_secs(5)));
    let note = b.wait("[data-export-error]:not([hidden])", Duration::from_secs(10));
    assert_eq!(
        b.text(&note),
        "Nothing to export: nothing matches this selection."
    );
    set_days(b, "[data-denials-form]", "2026-11-04", "2026-11-03");
    let error = b.wait("[data-denials-error]:not([hidden])", Duration::from_secs(5));
    assert_eq!(b.text(&error), "Choose a From day on or before the To day.");

    // Clear: everything again.
    b.click(&b.wait(
        "[data-denials-form] button[type=reset]",
        Duration::from_secs(5),
    ));
    settled("#denials-table", vec![&cy, &bo, &bo]);
    assert!(b.find_all("[data-denials-error]:not([hidden])").is_empty());

    // Sessions export the whole selection from the API too.
    b.click(&b.wait("#tab-sessions", Duration::from_secs(5)));
    b.wait("#sessions tbody tr td", Duration::from_secs(10));
    b.click(&b.wait("[data-export-api=sessions]", Duration::from_secs(5)));
    let csv_path = downloads.join("plm-logs-sessions.csv");
    let csv = wait_for(Duration::from_secs(20), "the sessions CSV", || {
        std::fs::read_to_string(&csv_path)
            .ok()
            .filter(|s| s.lines().count() == 3)
    });
    let users: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').nth(1).unwrap())
        .collect();
    assert_eq!(users, ["dee", "ana"], "newest first: {csv}");
}
