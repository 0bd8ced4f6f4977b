//! FlexNet `lmutil lmstat -a` / `lmstat -i` output, in the shape of the real fixtures
//! (`fixtures/flexlm/`): Macrovision/Flexera banner, server and vendor-daemon status, then one
//! `Users of` block per feature with pool line, RESERVATION lines and user lines.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::common::{expiry_dmy, local, plural, usages, with_v};
use crate::scenario::{Member, Server};
use crate::usage::Checkout;

const DEFAULT_VERSION: &str = "v11.19.5";

/// `lmutil - Copyright ...` (or `lmstat - ...` when run as lmstat) and the status time.
fn banner(out: &mut String, tool: &str, server_tz: chrono_tz::Tz, now: DateTime<Utc>) {
    let t = local(now, server_tz);
    let _ = writeln!(
        out,
        "{tool} - Copyright (c) 1989-2023 Flexera. All Rights Reserved."
    );
    let _ = writeln!(
        out,
        "Flexible License Manager status on {}",
        t.format("%a %-m/%-d/%Y %-H:%M")
    );
    out.push('\n');
}

/// The first line only, for `hang`.
pub fn first_line(tool: &str) -> String {
    format!("{tool} - Copyright (c) 1989-2023 Flexera. All Rights Reserved.\n")
}

/// What lmutil prints when nothing listens at the address.
pub fn cannot_connect(tool: &str, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    banner(&mut out, tool, chrono_tz::Tz::UTC, now);
    out.push_str(
        "Error getting status: Cannot connect to license server system. (-15,570:111 \"Connection refused\")\n",
    );
    out
}

fn license_file(server: &Server) -> String {
    format!("/opt/flexlm/licenses/{}.lic", server.vendor)
}

/// The status header for a server whose lmgrd does not answer.
pub fn down(tool: &str, server: &Server, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    banner(&mut out, tool, server.tz(), now);
    let members = server.members();
    let _ = writeln!(out, "License server status: {}", server.address);
    let _ = writeln!(
        out,
        "    License file(s) on {}: {}:",
        members[0].host,
        license_file(server)
    );
    out.push('\n');
    out.push_str("lmgrd is not running: License server machine is down or not responding.\n");
    out
}

/// The member that answers as MASTER: the first one that is up.
fn master(server: &Server, members: &[Member]) -> usize {
    (0..members.len())
        .find(|i| Some(*i) != server.triad_down_member)
        .unwrap_or(0)
}

/// `lmstat -a`.
pub fn lmstat_a(tool: &str, seed: u64, server: &Server, now: DateTime<Utc>) -> String {
    let mut out = String::with_capacity(4096);
    banner(&mut out, tool, server.tz(), now);
    let members = server.members();
    let m = master(server, &members);
    let version = with_v(server.lmgrd_version.as_deref().unwrap_or(DEFAULT_VERSION));
    let _ = writeln!(out, "License server status: {}", server.address);
    let _ = writeln!(
        out,
        "    License file(s) on {}: {}:",
        members[m].host,
        license_file(server)
    );
    out.push('\n');
    for (i, member) in members.iter().enumerate() {
        if Some(i) == server.triad_down_member {
            let _ = writeln!(
                out,
                "{}: Cannot connect to license server system. (-15,570:115 \"Operation now in progress\")",
                member.host
            );
        } else if i == m {
            let _ = writeln!(out, "{}: license server UP (MASTER) {version}", member.host);
        } else {
            let _ = writeln!(out, "{}: license server UP {version}", member.host);
        }
    }
    out.push('\n');
    let _ = writeln!(out, "Vendor daemon status (on {}):", members[m].host);
    out.push('\n');
    let _ = writeln!(out, "  {}: UP {version}", server.vendor);
    out.push('\n');
    out.push_str("Feature usage info:\n\n");
    let master = &members[m];
    for (f, usage) in usages(seed, server, now) {
        let checked_out = usage.checked_out();
        match f.issued {
            // FlexNet counts reservations as in use (see fixture app1: 121 reserved + 1085
            // checked out = "Total of 1206 licenses in use").
            Some(issued) => {
                let in_use = checked_out + f.reserved;
                let _ = writeln!(
                    out,
                    "Users of {}:  (Total of {issued} license{} issued;  Total of {in_use} license{} in use)",
                    f.name,
                    plural(issued),
                    plural(in_use)
                );
            }
            None => {
                let _ = writeln!(out, "Users of {}:  (Uncounted, node-locked)", f.name);
            }
        }
        out.push('\n');
        if checked_out == 0 && f.reserved == 0 && usage.queued.is_empty() {
            continue;
        }
        let expiry = expiry_dmy(f.expiry(), "permanent(no expiration date)");
        let _ = writeln!(
            out,
            "  \"{}\" v{}, vendor: {}, expiry: {expiry}",
            f.name, f.version, server.vendor
        );
        if f.uncounted {
            out.push_str("  uncounted nodelocked license locked to NOTHING (hostid=ANY)\n");
        } else {
            out.push_str("  floating license\n");
        }
        out.push('\n');
        if f.reserved > 0 {
            let _ = writeln!(
                out,
                "\t{} RESERVATION{} for GROUP {}_USERS ({}/{})",
                f.reserved,
                plural(f.reserved),
                server.vendor.to_uppercase(),
                master.host,
                master.port
            );
        }
        for c in &usage.checkouts {
            user_line(&mut out, c, &f.version, master, server.tz(), now);
        }
        for c in &usage.queued {
            let _ = writeln!(
                out,
                "    {} {} {} (v{}) ({}/{} {}) queued for {} license{}",
                c.user,
                c.host,
                c.display,
                f.version,
                master.host,
                master.port,
                c.handle,
                c.count,
                plural(c.count)
            );
        }
        out.push('\n');
    }
    out
}

fn user_line(
    out: &mut String,
    c: &Checkout,
    version: &str,
    master: &Member,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
) {
    let start = local(c.start, tz).format("%a %-m/%-d %-H:%M");
    let _ = write!(
        out,
        "    {} {} {} (v{version}) ({}/{} {}), start {start}",
        c.user, c.host, c.display, master.host, master.port, c.handle
    );
    if c.count > 1 {
        let _ = write!(out, ", {} licenses", c.count);
    }
    // Borrowed licenses show as lingering: seconds left / linger period.
    if let Some(end) = c.borrow_end {
        let total = (end - c.start).num_seconds();
        let left = (end - now).num_seconds().max(0);
        let _ = write!(out, "  (linger: {left} / {total})");
    }
    out.push('\n');
}

/// `lmstat -i`: the feature table read from the license file (newer column order:
/// Vendor before Expires, as in `fixtures/flexlm/*lmstat_i-app2*`).
pub fn lmstat_i(server: &Server) -> String {
    let mut out = String::new();
    out.push_str("NOTE: lmstat -i does not give information from the server,\n");
    out.push_str("      but only reads the license file.  For this reason,\n");
    out.push_str("      lmstat -a is recommended instead.\n\n");
    out.push_str(
        "Feature                         Version     #licenses    Vendor        Expires\n",
    );
    out.push_str(
        "_______                         _________   _________    ______        ________\n",
    );
    for f in &server.features {
        let count = f
            .issued
            .map_or_else(|| "uncounted".to_string(), |n| n.to_string());
        let expiry = expiry_dmy(f.expiry(), "permanent(no expiration date)");
        let _ = writeln!(
            out,
            "{:<33}{:<13}{:<12}{:<13}{expiry}",
            f.name, f.version, count, server.vendor
        );
    }
    out
}
