//! RLM `rlmutil rlmstat -a` output in the tab-indented rlmutil v12.2 shape of
//! `fixtures/rlm/omnivector-rlmstat-a-converge-csci.txt`: rlm server status and statistics,
//! the ISV servers table, the ISV's status, its license pools and its usage lines.

use std::fmt::Write;

use chrono::{DateTime, Duration, Timelike, Utc};

use crate::common::{expiry_dmy, local, uptime_secs, usages, with_v};
use crate::hash::{fnv, hash};
use crate::scenario::{Member, Server};

const DEFAULT_VERSION: &str = "v12.2";

fn banner(out: &mut String, spec: &str) {
    let _ = writeln!(out, "Setting license file path to {spec}");
    out.push_str("rlmutil v12.2\n");
    out.push_str("Copyright (C) 2006-2017, Reprise Software, Inc. All rights reserved.\n\n\n");
}

pub fn first_line(spec: &str) -> String {
    format!("Setting license file path to {spec}\n")
}

/// `Error connecting to "rlm" server` (fixture `omnivector-rlmutil-connect-error.txt`), for an
/// unknown or down server.
pub fn cannot_connect(spec: &str, member: Option<&Member>) -> String {
    let mut out = String::new();
    banner(&mut out, spec);
    let (host, port) = member.map_or(("", 5053), |m| (m.host.as_str(), m.port));
    out.push_str("Error connecting to \"rlm\" server\n\n");
    let _ = writeln!(
        out,
        "Connection attempted to host: \"{host}\" on port {port}\n"
    );
    out.push_str("Connection refused\n");
    out
}

/// `99d 11:08:25` or `11:08:25`.
fn duration(secs: i64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// `Tue Nov  2 23:00:06 2021` (asctime).
fn asctime(t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    local(t, tz).format("%a %b %e %H:%M:%S %Y").to_string()
}

struct Stats {
    recent: i64,
    today: i64,
    total: i64,
}

fn stats_block(out: &mut String, st: &Stats, rows: &[(&str, u64)]) {
    out.push_str("\t             Recent Stats         Todays Stats         Total Stats\n");
    let _ = writeln!(
        out,
        "\t              {}             {}         {}",
        duration(st.recent),
        duration(st.today),
        duration(st.total)
    );
    for (label, base) in rows {
        let _ = writeln!(
            out,
            "\t{label:<13}{} (0/sec)           {} (0/sec)          {} (0/sec)",
            base * st.recent as u64 / 600 + 1,
            base * st.today as u64 / 60 + 3,
            base * st.total as u64 / 60 + 17
        );
    }
}

fn times(out: &mut String, st: &Stats, now: DateTime<Utc>, tz: chrono_tz::Tz) {
    let _ = writeln!(
        out,
        "\tStartup time: {}",
        asctime(now - Duration::seconds(st.total), tz)
    );
    let _ = writeln!(
        out,
        "\tTodays Statistics ({}), init time: {}",
        duration(st.today),
        asctime(now - Duration::seconds(st.today), tz)
    );
    let _ = writeln!(
        out,
        "\tRecent Statistics ({}), init time: {}",
        duration(st.recent),
        asctime(now - Duration::seconds(st.recent), tz)
    );
    out.push('\n');
}

/// The ISV server's port: deterministic, in the dynamic range.
fn isv_port(server: &Server) -> u16 {
    49152 + (hash(&[fnv(&server.address), fnv(&server.vendor)]) % 10000) as u16
}

/// `rlmstat -a` (or `rlmstat -i ISV`, which prints only the usage section).
pub fn rlmstat(
    spec: &str,
    seed: u64,
    server: &Server,
    now: DateTime<Utc>,
    usage_only: bool,
) -> String {
    let mut out = String::with_capacity(4096);
    banner(&mut out, spec);
    let tz = server.tz();
    let m = &server.members()[0];
    let isv = &server.vendor;
    let port = isv_port(server);
    let version = with_v(server.lmgrd_version.as_deref().unwrap_or(DEFAULT_VERSION));
    let total = uptime_secs(seed, server, now);
    let today = (local(now, tz).time().num_seconds_from_midnight() as i64).min(total);
    let st = Stats {
        recent: (today % 1800).min(total),
        today,
        total,
    };
    if !usage_only {
        let _ = writeln!(
            out,
            "\trlm status on {} (port {}), up {}",
            m.host,
            m.port,
            duration(total)
        );
        let _ = writeln!(out, "\trlm software version {version} (build:2)");
        out.push_str("\trlm comm version: v1.2\n");
        times(&mut out, &st, now, tz);
        stats_block(&mut out, &st, &[("Messages:", 2), ("Connections:", 1)]);
        out.push_str("\n\t--------- ISV servers ----------\n");
        out.push_str("\t   Name           Port Running Restarts\n");
        let _ = writeln!(out, "\t{isv:<16} {port:>5}   Yes      0");
        out.push_str("\n\t------------------------\n\n");
        let _ = writeln!(
            out,
            "\t{isv} ISV server status on {} (port {port}), up {}",
            m.host,
            duration(total)
        );
        let _ = writeln!(out, "\t{isv} software version {version} (build: 2)");
        let _ = writeln!(out, "\t{isv} comm version: v1.2");
        let _ = writeln!(out, "\t{isv} Debug log filename: /var/log/rlm/{isv}.dlog");
        let _ = writeln!(out, "\t{isv} Report log filename: /var/log/rlm/{isv}.rl");
        times(&mut out, &st, now, tz);
        stats_block(
            &mut out,
            &st,
            &[
                ("Messages:", 2),
                ("Connections:", 1),
                ("Checkouts:", 1),
                ("Denials:", 0),
                ("Removals:", 0),
            ],
        );
        out.push_str("\n\n\t------------------------\n\n");
    }
    let all = usages(seed, server, now);
    if !usage_only {
        let _ = writeln!(
            out,
            "\t{isv} license pool status on {} (port {port})\n",
            m.host
        );
        for (f, usage) in &all {
            let _ = writeln!(out, "\t{} v{}", f.name, f.version);
            let _ = writeln!(
                out,
                "\t\tcount: {}, # reservations: {}, inuse: {}, exp: {}",
                f.issued.unwrap_or(0),
                f.reserved,
                usage.checked_out(),
                expiry_dmy(f.expiry(), "permanent")
            );
            let total_checkouts =
                hash(&[seed, fnv(&f.name), 11]) % 500 + usage.checkouts.len() as u64;
            let _ = writeln!(
                out,
                "\t\tobsolete: 0, min_remove: 120, total checkouts: {total_checkouts}"
            );
        }
        out.push_str("\n\n\t------------------------\n\n");
    }
    let _ = writeln!(
        out,
        "\t{isv} license usage status on {} (port {port})\n",
        m.host
    );
    for (f, usage) in &all {
        for c in &usage.checkouts {
            let _ = writeln!(
                out,
                "\t{} v{}: {}@{} {}/0 at {}  (handle: {:x}) ",
                f.name,
                f.version,
                c.user,
                c.host,
                c.count,
                local(c.start, tz).format("%m/%d %H:%M"),
                c.handle
            );
        }
    }
    out
}
