//! Optimum OLicense `olixtool -sv HOST:PORT` output.
//!
//! ```text
//! olixtool 4.8.0 - OLicense XML Status Application
//! Server: <192.0.2.17:31212:0> (Proxy: <>)
//! List of requested licenses:
//! ==============================================
//! Application:    cosin
//! VersionRange:   0-20231
//! Licenser:       cosin scientific software
//! Licensee:       ...
//! License-ID:     cosin-faf71fdc@cos550218
//! Modules:
//!   Name; LicenseType; FloatCount; Expiration
//!   --------------------------------------------
//!   ftire_adams;   FreeFloating;  3;  2022-12-31 23:59:59;
//!     3 FloatsLockedBy:
//!       user21@RD0087712 #1
//! ```
//!
//! Each `=====` block is one license (a [`Pool`] with the block's `VersionRange` as version);
//! each module row of it adds to the [`Feature`] of that module name and `Application`
//! (vendor): issued += FloatCount, in use += the `N FloatsLockedBy:` count. Every
//! `user@host #n` line under it is a [`Session`] of n licenses. `OlComm <code> ...` errors
//! (e.g. `Request cannot connect to target`) mark the server down.

use std::collections::HashMap;

use crate::wallclock::{expiry, key_value, last_line};
use crate::{Diagnostic, Feature, ParseContext, Pool, ServerNode, Session, StatusReport, UpDown};

/// The `licmon parse --format` name of this format.
pub const FORMAT: &str = "olicense-olixtool";

#[derive(Default)]
struct Block {
    application: Option<String>,
    version_range: Option<String>,
}

/// Parses `olixtool -sv` output. Never fails: what is not understood is reported in
/// `diagnostics` with its line number.
pub fn parse_olixtool(text: &str, _ctx: &ParseContext) -> StatusReport {
    let mut report = StatusReport::empty(FORMAT);
    let mut block = Block::default();
    let mut in_modules = false;
    // (vendor, module) → index in report.features
    let mut index: HashMap<(Option<String>, String), usize> = HashMap::new();
    let mut current: Option<usize> = None;
    for (i, raw) in text.lines().enumerate() {
        let no = i + 1;
        let line = raw.trim();
        if line.is_empty()
            || line.starts_with("Copyright")
            || line == "List of requested licenses:"
            || line.starts_with("---")
        {
            continue;
        }
        if line.starts_with("olixtool ") && line.contains("OLicense") {
            continue;
        }
        if line.starts_with("===") {
            block = Block::default();
            in_modules = false;
            current = None;
            continue;
        }
        if let Some(rest) = line.strip_prefix("Server:") {
            report.servers.push(server_node(rest));
            continue;
        }
        if line.starts_with("OlComm ") || line.starts_with("OlError ") {
            let message = line.to_string();
            match report.servers.last_mut() {
                Some(n) => {
                    n.status = UpDown::Down;
                    n.error = Some(message);
                }
                None => {
                    let mut n = server_node("");
                    n.status = UpDown::Down;
                    n.error = Some(message);
                    report.servers.push(n);
                }
            }
            continue;
        }
        if line == "Modules:" {
            in_modules = true;
            continue;
        }
        if in_modules && line.starts_with("Name;") {
            continue;
        }
        if let Some(count) = locked_by_header(line) {
            match current {
                Some(i) => report.features[i].in_use += count,
                None => report
                    .diagnostics
                    .push(Diagnostic::new(no, "FloatsLockedBy outside a module")),
            }
            continue;
        }
        if let Some((user, host, count)) = locked_by_entry(line) {
            match current {
                Some(i) => {
                    let mut s = Session::new(report.features[i].name.clone(), user, host);
                    s.count = count;
                    s.version = block.version_range.clone();
                    report.sessions.push(s);
                }
                None => report
                    .diagnostics
                    .push(Diagnostic::new(no, "session outside a module")),
            }
            continue;
        }
        if in_modules && let Some(row) = module_row(line) {
            let vendor = block.application.clone();
            let key = (vendor.clone(), row.name.to_string());
            let i = *index.entry(key).or_insert_with(|| {
                let mut f = Feature::named(row.name);
                f.vendor = vendor.clone();
                f.issued = Some(0);
                report.features.push(f);
                report.features.len() - 1
            });
            let f = &mut report.features[i];
            f.issued = Some(f.issued.unwrap_or(0) + row.count);
            f.pools.push(Pool {
                version: block.version_range.clone(),
                vendor,
                expires: row.expires,
                issued: Some(row.count),
            });
            if row.expires.is_none() {
                report
                    .diagnostics
                    .push(Diagnostic::new(no, "module expiration not understood"));
            }
            current = Some(i);
            continue;
        }
        if !in_modules && let Some((key, value)) = key_value(line) {
            match key {
                "Application" => block.application = Some(value.to_string()),
                "VersionRange" => block.version_range = Some(value.to_string()),
                "Licenser" | "Licensee" | "License-ID" => {}
                _ => report.diagnostics.push(Diagnostic::new(
                    no,
                    format!("unknown license field {key:?}"),
                )),
            }
            continue;
        }
        report
            .diagnostics
            .push(Diagnostic::new(no, "line not understood"));
    }
    let last = last_line(text);
    for d in &mut report.diagnostics {
        d.line = d.line.min(last);
    }
    report
}

/// ` <192.0.2.17:31212:0> (Proxy: <>)` → host 192.0.2.17, port 31212.
fn server_node(rest: &str) -> ServerNode {
    let inner = rest
        .split_once('<')
        .and_then(|(_, r)| r.split_once('>'))
        .map_or("", |(inner, _)| inner);
    let mut parts = inner.split(':');
    let host = parts.next().unwrap_or("").trim().to_string();
    let port = parts.next().and_then(|p| p.trim().parse().ok());
    ServerNode {
        host,
        port,
        status: UpDown::Up,
        master: false,
        version: None,
        error: None,
    }
}

struct ModuleRow<'a> {
    name: &'a str,
    count: u64,
    expires: Option<crate::Expiry>,
}

/// `ftire_adams;  FreeFloating;  3;  2022-12-31 23:59:59;`.
fn module_row(line: &str) -> Option<ModuleRow<'_>> {
    let mut fields = line.split(';').map(str::trim);
    let name = fields
        .next()
        .filter(|n| !n.is_empty() && !n.contains(' '))?;
    let _license_type = fields.next()?;
    let count = fields.next()?.parse().ok()?;
    let expires = fields.next().and_then(expiry);
    Some(ModuleRow {
        name,
        count,
        expires,
    })
}

/// `3 FloatsLockedBy:` → 3.
fn locked_by_header(line: &str) -> Option<u64> {
    let (n, rest) = line.split_once(char::is_whitespace)?;
    (rest.trim() == "FloatsLockedBy:").then_some(())?;
    n.parse().ok()
}

/// `user21@RD0087712 #1` → (user21, RD0087712, 1).
fn locked_by_entry(line: &str) -> Option<(&str, &str, u64)> {
    let (who, count) = line.rsplit_once('#')?;
    let count = count.trim().parse().ok()?;
    let (user, host) = who.trim().rsplit_once('@')?;
    if user.is_empty() || host.is_empty() || host.contains(char::is_whitespace) {
        return None;
    }
    Some((user, host, count))
}
