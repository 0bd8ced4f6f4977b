//! LS-DYNA (LSTC / Ansys) `lstc_qrun -s PORT@HOST -R` output.
//!
//! ```text
//! Using user specified server 31010@licserv
//!
//! LICENSE INFORMATION
//!
//! PROGRAM          EXPIRATION CPUS  USED   FREE    MAX | QUEUE
//! ---------------- ----------      ----- ------ ------ | -----
//! MPPDYNA          12/30/2022          -     60    500 |     0
//!  fane8y     59005@n-c13.maas.rnd.com  80
//! MPPDYNA_971      12/30/2022          0     60    500 |     0
//!                    LICENSE GROUP   440     60    500 |     0
//! ```
//!
//! Each program row is a [`Feature`]: expiration, used, free, max (issued) and queue length. The
//! indented rows under a program are its running jobs: user, `pid@host` and the CPUs (licenses)
//! the job holds, each a [`Session`] whose handle is the pid. Programs of a license group share
//! its licenses; the row of the program that heads the group prints `-` as USED, and licmon
//! counts its jobs instead. The `LICENSE GROUP` row totals the group and is not a feature.
//! `*** ERROR ...` (e.g. `failed to open server`) is a server that cannot be reached.

use crate::wallclock::{expiry, last_line};
use crate::{Diagnostic, Feature, ParseContext, Pool, ServerNode, Session, StatusReport, UpDown};

/// The `licmon parse --format` name of this format.
pub const FORMAT: &str = "lsdyna-qrun";

/// Parses `lstc_qrun -R` output. Never fails: what is not understood is reported in
/// `diagnostics` with its line number.
pub fn parse_qrun(text: &str, _ctx: &ParseContext) -> StatusReport {
    let mut report = StatusReport::empty(FORMAT);
    // Features whose USED was `-`: their use is the sum of their jobs.
    let mut counted_from_jobs: Vec<bool> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let no = index + 1;
        let line = raw.trim();
        if line.is_empty()
            || line == "LICENSE INFORMATION"
            || line.starts_with("PROGRAM ")
            || line.starts_with("---")
            || line.starts_with("LICENSE GROUP")
        {
            continue;
        }
        if let Some(spec) = line
            .strip_prefix("Using user specified server")
            .or_else(|| line.strip_prefix("Using default server"))
        {
            report.servers.push(node(spec.trim()));
            continue;
        }
        if let Some(error) = line.strip_prefix("***") {
            let message = error.trim().trim_start_matches("ERROR").trim().to_string();
            match report.servers.last_mut() {
                Some(n) => {
                    n.status = UpDown::Down;
                    n.error = Some(message);
                }
                None => {
                    let mut n = node("");
                    n.status = UpDown::Down;
                    n.error = Some(message);
                    report.servers.push(n);
                }
            }
            continue;
        }
        if let Some((feature, dash)) = program_row(line) {
            report.features.push(feature);
            counted_from_jobs.push(dash);
            continue;
        }
        if raw.starts_with(char::is_whitespace)
            && let Some(session) = job_row(line)
        {
            match report.features.last_mut() {
                Some(f) => {
                    let mut session = session;
                    session.feature = f.name.clone();
                    if counted_from_jobs.last() == Some(&true) {
                        f.in_use += session.count;
                    }
                    report.sessions.push(session);
                }
                None => report
                    .diagnostics
                    .push(Diagnostic::new(no, "job row before any program")),
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

/// `31010@licserv0004.com` (or a bare host) as an up node.
fn node(spec: &str) -> ServerNode {
    let (port, host) = match spec.split_once('@') {
        Some((port, host)) => (port.trim().parse().ok(), host.trim()),
        None => (None, spec),
    };
    ServerNode {
        host: host.to_string(),
        port,
        status: UpDown::Up,
        master: false,
        version: None,
        error: None,
    }
}

/// `MPPDYNA  12/30/2022  -  60  500 |  0` → the feature, and whether USED was `-`. A CPUS
/// column, where printed, sits before USED: the last three numbers before `|` are USED, FREE and
/// MAX.
fn program_row(line: &str) -> Option<(Feature, bool)> {
    let (left, queue) = line.split_once('|')?;
    let queue: u64 = queue.trim().parse().ok()?;
    let words: Vec<&str> = left.split_whitespace().collect();
    if words.len() < 5 {
        return None;
    }
    let name = words[0];
    let expires = expiry(words[1])?;
    let tail = &words[words.len() - 3..];
    let max: u64 = tail[2].parse().ok()?;
    let _free: u64 = tail[1].parse().ok()?;
    let (used, dash) = match tail[0] {
        "-" => (0, true),
        n => (n.parse().ok()?, false),
    };
    let mut feature = Feature::named(name);
    feature.issued = Some(max);
    feature.in_use = used;
    feature.queued = queue;
    feature.pools.push(Pool {
        version: None,
        vendor: None,
        expires: Some(expires),
        issued: Some(max),
    });
    Some((feature, dash))
}

/// `fane8y     59005@n-c13.maas.rnd.com  80` → a job of user `fane8y` on `n-c13...` with pid
/// 59005 holding 80 CPUs.
fn job_row(line: &str) -> Option<Session> {
    let mut words = line.split_whitespace();
    let user = words.next()?;
    let (pid, host) = words.next()?.split_once('@')?;
    let count: u64 = words.next()?.parse().ok()?;
    if words.next().is_some() || pid.parse::<u64>().is_err() || host.is_empty() {
        return None;
    }
    let mut session = Session::new("", user, host);
    session.count = count;
    session.handle = Some(pid.to_string());
    Some(session)
}
