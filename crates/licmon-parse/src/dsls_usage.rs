//! Dassault Systèmes License Server (DSLS) `DSLicSrv -admin` output, fed `connect HOST PORT`
//! and `getLicenseUsage -csv` on standard input.
//!
//! No captured sample is public. The shape is the one the DSLS documentation gives for the
//! administration console (`DSLicSrv -admin`, commands `connect` and `getLicenseUsage`) and that
//! open-source readers of it rely on: prompts `admin >`, the connection's `key: value` lines
//! (`Software version: 6.425.0`, `Ready: yes`), then a CSV table whose header is
//!
//! ```text
//! Editor,EditorId,Feature,Model,Commercial Type,Max Release Number,Max Release Date,
//! Pricing Structure,Max Casual Duration,Expiration Date,Customer ID,Count,Inuse,Tokens,
//! Casual Usage (mn),Host,User,Internal ID,Active Process,Client Code Version,Session ID,
//! Granted Since,Last Used At,Granted At,Queue Position,
//! ```
//!
//! Columns are found by header name, so added or reordered columns are fine. Each row is a
//! license (the columns up to `Customer ID` identify it, `Count` and `Inuse` are its totals)
//! and, when `User` is set, one of its users: the license's totals repeat on each of its user
//! rows and are counted once. Licenses of the same editor and feature make one [`Feature`] with
//! one [`Pool`] each. A user row is a [`Session`] of `Tokens` licenses (1 when not token-based),
//! started `Granted Since` (server time); a `Queue Position` above 0 is a queued request.
//! `Ready: no` or a connection error marks the server down.

use std::collections::{HashMap, HashSet};

use crate::wallclock::{expiry, key_value, last_line, local_date_time};
use crate::{Diagnostic, Feature, ParseContext, Pool, ServerNode, Session, StatusReport, UpDown};

/// The `licmon parse --format` name of this format.
pub const FORMAT: &str = "dsls-getlicenseusage";

/// Column positions of the CSV header.
struct Columns {
    names: HashMap<String, usize>,
    /// Columns that identify a license: everything before `Count`.
    identity: usize,
}

impl Columns {
    fn from_header(line: &str) -> Self {
        let fields = split_csv(line);
        let names: HashMap<String, usize> = fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.trim().to_ascii_lowercase(), i))
            .collect();
        let identity = names.get("count").copied().unwrap_or(11);
        Self { names, identity }
    }

    fn get<'a>(&self, row: &'a [String], name: &str) -> Option<&'a str> {
        let i = *self.names.get(name)?;
        row.get(i).map(|s| s.trim()).filter(|s| !s.is_empty())
    }
}

/// Parses what `DSLicSrv -admin` prints for `connect` + `getLicenseUsage -csv`. Never fails:
/// what is not understood is reported in `diagnostics` with its line number.
pub fn parse_license_usage(text: &str, ctx: &ParseContext) -> StatusReport {
    let mut report = StatusReport::empty(FORMAT);
    let mut columns: Option<Columns> = None;
    let mut version: Option<String> = None;
    let mut feature_index: HashMap<(String, String), usize> = HashMap::new();
    let mut seen_licenses: HashSet<Vec<String>> = HashSet::new();
    for (i, raw) in text.lines().enumerate() {
        let no = i + 1;
        let mut line = raw.trim();
        while let Some(rest) = line.strip_prefix("admin >") {
            line = rest.trim_start();
        }
        let line = line.trim();
        if line.is_empty() || line == "quit" || line.starts_with("getLicenseUsage") {
            continue;
        }
        if line.starts_with("Editor,") {
            columns = Some(Columns::from_header(line));
            continue;
        }
        if let Some(cols) = &columns
            && line.contains(',')
        {
            let row = split_csv(line);
            if row.len() <= cols.identity + 1 {
                report
                    .diagnostics
                    .push(Diagnostic::new(no, "CSV row with too few columns"));
                continue;
            }
            usage_row(
                &mut report,
                cols,
                &row,
                no,
                ctx,
                &mut feature_index,
                &mut seen_licenses,
            );
            continue;
        }
        if let Some(rest) = line.strip_prefix("connect ") {
            let mut words = rest.split_whitespace();
            let host = words.next().unwrap_or("");
            let port = words.next().and_then(|p| p.parse().ok());
            report.servers.push(node(host, port));
            continue;
        }
        if let Some(rest) = line
            .strip_prefix("Connected to ")
            .or_else(|| line.strip_prefix("connected to "))
        {
            let (host, port) = match rest.trim().rsplit_once(':') {
                Some((h, p)) => (h, p.trim().parse().ok()),
                None => (rest.trim(), None),
            };
            if report.servers.is_empty() {
                report.servers.push(node(host, port));
            }
            continue;
        }
        if is_connect_error(line) {
            let message = line.to_string();
            match report.servers.last_mut() {
                Some(n) => {
                    n.status = UpDown::Down;
                    n.error = Some(message);
                }
                None => {
                    let mut n = node("", None);
                    n.status = UpDown::Down;
                    n.error = Some(message);
                    report.servers.push(n);
                }
            }
            continue;
        }
        if let Some((key, value)) = key_value(line) {
            match key {
                "Software version" => version = Some(value.to_string()),
                "Ready" => {
                    if !value.to_ascii_lowercase().starts_with("yes")
                        && let Some(n) = report.servers.last_mut()
                    {
                        n.status = UpDown::Down;
                        n.error = Some(format!("license server not ready ({value})"));
                    }
                }
                "Server name" if report.servers.is_empty() => {
                    report.servers.push(node(value, None));
                }
                _ => {}
            }
            continue;
        }
        if line.starts_with("License server administration")
            || line.starts_with("DS License Server")
            || line.starts_with("Copyright")
        {
            continue;
        }
        report
            .diagnostics
            .push(Diagnostic::new(no, "line not understood"));
    }
    if let Some(version) = version {
        for n in &mut report.servers {
            n.version.get_or_insert_with(|| version.clone());
        }
    }
    let last = last_line(text);
    for d in &mut report.diagnostics {
        d.line = d.line.min(last);
    }
    report
}

fn usage_row(
    report: &mut StatusReport,
    cols: &Columns,
    row: &[String],
    no: usize,
    ctx: &ParseContext,
    feature_index: &mut HashMap<(String, String), usize>,
    seen_licenses: &mut HashSet<Vec<String>>,
) {
    let (Some(name), Some(count), Some(in_use)) = (
        cols.get(row, "feature"),
        cols.get(row, "count").and_then(|c| c.parse::<u64>().ok()),
        cols.get(row, "inuse").and_then(|c| c.parse::<u64>().ok()),
    ) else {
        report.diagnostics.push(Diagnostic::new(
            no,
            "CSV row without a feature, count or in-use number",
        ));
        return;
    };
    let editor = cols.get(row, "editor").unwrap_or("").to_string();
    let i = *feature_index
        .entry((editor.clone(), name.to_string()))
        .or_insert_with(|| {
            let mut f = Feature::named(name);
            f.vendor = Some(editor.clone()).filter(|e| !e.is_empty());
            f.issued = Some(0);
            report.features.push(f);
            report.features.len() - 1
        });
    let identity: Vec<String> = row.iter().take(cols.identity + 2).cloned().collect();
    let release = cols.get(row, "max release number").map(str::to_string);
    let expires = cols.get(row, "expiration date").and_then(expiry);
    if cols.get(row, "expiration date").is_some() && expires.is_none() {
        report
            .diagnostics
            .push(Diagnostic::new(no, "expiration date not understood"));
    }
    if seen_licenses.insert(identity) {
        let f = &mut report.features[i];
        f.issued = Some(f.issued.unwrap_or(0) + count);
        f.in_use += in_use;
        f.pools.push(Pool {
            version: release.clone(),
            vendor: f.vendor.clone(),
            expires,
            issued: Some(count),
        });
    }
    let Some(user) = cols.get(row, "user") else {
        return;
    };
    let mut s = Session::new(name, user, cols.get(row, "host").unwrap_or(""));
    s.count = cols
        .get(row, "tokens")
        .and_then(|t| t.parse::<u64>().ok())
        .filter(|&t| t > 0)
        .unwrap_or(1);
    s.version = release;
    s.handle = cols.get(row, "session id").map(str::to_string);
    if let Some(since) = cols.get(row, "granted since") {
        s.start = local_date_time(since, ctx);
        if s.start.is_none() {
            report.diagnostics.push(Diagnostic::new(
                no,
                format!("Granted Since {since:?} not understood"),
            ));
        }
    }
    s.queued = cols
        .get(row, "queue position")
        .and_then(|q| q.parse::<u64>().ok())
        .is_some_and(|q| q > 0);
    if s.queued {
        report.features[i].queued += s.count;
    }
    report.sessions.push(s);
}

fn node(host: &str, port: Option<u16>) -> ServerNode {
    ServerNode {
        host: host.to_string(),
        port,
        status: UpDown::Up,
        master: false,
        version: None,
        error: None,
    }
}

fn is_connect_error(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    lower.starts_with("error")
        || [
            "cannot connect",
            "could not connect",
            "unable to connect",
            "connection refused",
            "not connected",
            "no route to host",
        ]
        .iter()
        .any(|w| lower.contains(w))
}

/// One CSV line: comma-separated, fields may be double-quoted with `""` for a quote.
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}
