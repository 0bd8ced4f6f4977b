//! Wolfram MathLM `monitorlm HOST -format text` output (the default template).
//!
//! No captured sample is public; the layout is the one Wolfram documents for `monitorlm`
//! (reference.wolfram.com, "Monitoring MathLM" and the `monitorlm` reference page):
//!
//! ```text
//! MathLM Version 11.2
//! MathLM Server hostname.domain.com
//! Date : Thursday, August 29 2017 14:11:59
//!
//! License Usage Summary:
//!                             License    Total    Total
//! Program                        Class    in Use    Authorized
//! ------------------------------------------------------
//! Mathematica                    A        2        20
//! Sub Mathematica                A        0        80
//!
//! Licenses in Use:
//!                             License
//! Program            Version    Class    Username    Hostname    Duration
//! ----------------------------------------------------------------------------
//! Mathematica        11.1       A        username    client1.domain.com    08:49
//! ```
//!
//! Each summary row is a [`Feature`] (program names may hold spaces: `Sub Mathematica`), with
//! the license class as its pool's version. Each "Licenses in Use" row is a [`Session`].
//! MathLM prints how long a license has been out (`Duration`, hours:minutes), not when it was
//! taken; a start computed from it would move by a minute between polls and split one session
//! into many, so sessions carry no start (licmon records when it first saw them).

use crate::wallclock::last_line;
use crate::{Diagnostic, Feature, ParseContext, Pool, ServerNode, Session, StatusReport, UpDown};

/// The `licmon parse --format` name of this format.
pub const FORMAT: &str = "mathlm-monitorlm";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Top,
    Summary,
    InUse,
}

/// Parses `monitorlm -format text` output. Never fails: what is not understood is reported in
/// `diagnostics` with its line number.
pub fn parse_monitorlm(text: &str, _ctx: &ParseContext) -> StatusReport {
    let mut report = StatusReport::empty(FORMAT);
    let mut section = Section::Top;
    let mut version = None;
    for (index, raw) in text.lines().enumerate() {
        let no = index + 1;
        let line = raw.trim();
        if is_harmless(line) {
            continue;
        }
        if let Some(v) = line.strip_prefix("MathLM Version") {
            version = Some(v.trim().to_string());
            continue;
        }
        if let Some(host) = line.strip_prefix("MathLM Server") {
            report.servers.push(ServerNode {
                host: host.trim().to_string(),
                port: None,
                status: UpDown::Up,
                master: false,
                version: None,
                error: None,
            });
            continue;
        }
        if line == "License Usage Summary:" {
            section = Section::Summary;
            continue;
        }
        if line == "Licenses in Use:" {
            section = Section::InUse;
            continue;
        }
        if is_connect_error(line) {
            report.servers.push(ServerNode {
                host: String::new(),
                port: None,
                status: UpDown::Down,
                master: false,
                version: None,
                error: Some(line.to_string()),
            });
            continue;
        }
        let understood = match section {
            Section::Summary => summary_row(line).map(|f| report.features.push(f)),
            Section::InUse => in_use_row(line).map(|s| report.sessions.push(s)),
            Section::Top => None,
        };
        if understood.is_none() {
            report
                .diagnostics
                .push(Diagnostic::new(no, "line not understood"));
        }
    }
    if let Some(version) = version {
        for node in &mut report.servers {
            node.version.get_or_insert_with(|| version.clone());
        }
    }
    let last = last_line(text);
    for d in &mut report.diagnostics {
        d.line = d.line.min(last);
    }
    report
}

fn is_harmless(line: &str) -> bool {
    line.is_empty()
        || line.starts_with("Online help is available")
        || line.starts_with("http://")
        || line.starts_with("https://")
        || line.starts_with("Date :")
        || line.starts_with("---")
        || line == "License    Total    Total"
        || line == "License"
        || (line.starts_with("License") && line.contains("Total"))
        || line.starts_with("Program ")
}

/// What monitorlm prints when the server does not answer.
fn is_connect_error(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    [
        "could not connect",
        "cannot connect",
        "unable to connect",
        "connection refused",
        "not responding",
        "no mathlm server",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// `Sub Mathematica   A   0   80`: name (may hold spaces), class, in use, authorized.
fn summary_row(line: &str) -> Option<Feature> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let n = words.len();
    if n < 4 {
        return None;
    }
    let authorized: u64 = words[n - 1].parse().ok()?;
    let in_use: u64 = words[n - 2].parse().ok()?;
    let class = words[n - 3];
    let mut feature = Feature::named(words[..n - 3].join(" "));
    feature.issued = Some(authorized);
    feature.in_use = in_use;
    feature.pools.push(Pool {
        version: Some(class.to_string()),
        vendor: None,
        expires: None,
        issued: Some(authorized),
    });
    Some(feature)
}

/// `Mathematica  11.1  A  username  client1.domain.com  08:49`.
fn in_use_row(line: &str) -> Option<Session> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let n = words.len();
    if n < 6 {
        return None;
    }
    let duration = words[n - 1];
    let (h, m) = duration.split_once(':')?;
    h.parse::<u64>().ok()?;
    m.parse::<u64>().ok()?;
    let host = words[n - 2];
    let user = words[n - 3];
    let version = words[n - 5];
    let mut session = Session::new(words[..n - 5].join(" "), user, host);
    session.version = Some(version.to_string());
    Some(session)
}
