//! Throughput of the FlexNet `lmstat -a` / `-i` parsers, without a bench framework.
//!
//! `cargo bench -p licmon-parse --bench flexnet_lmstat` prints MB/s for a generated `lmstat -a`
//! of 2,000 features and 20,000 user lines (a triad, reservations, borrowed licenses, varied
//! displays) and for every fixture in `fixtures/flexlm/`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use licmon_parse::ParseContext;
use licmon_parse::flexnet_lmstat::{parse_lmstat, parse_lmstat_i};

const FEATURES: usize = 2_000;
const SESSIONS: usize = 20_000;

/// A big, realistic `lmstat -a`.
fn generate_lmstat_a() -> String {
    let mut out = String::with_capacity(4 << 20);
    out.push_str("lmutil - Copyright (c) 1989-2023 Flexera. All Rights Reserved.\n");
    out.push_str("Flexible License Manager status on Fri 10/20/2023 17:02\n\n");
    out.push_str("License server status: 27002@lic-a.example.net,27002@lic-b.example.net,27002@lic-c.example.net\n");
    out.push_str("    License file(s) on lic-a.example.net: /opt/flexlm/licenses/license.dat:\n\n");
    out.push_str("lic-a.example.net: license server UP v11.19.2\n");
    out.push_str("lic-b.example.net: license server UP (MASTER) v11.19.2\n");
    out.push_str("lic-c.example.net: license server UP v11.19.2\n\n");
    out.push_str("Vendor daemon status (on lic-b.example.net):\n\n  acmelmd: UP v11.19.2\n\n");
    out.push_str("Feature usage info:\n\n");
    let displays = [
        "/dev/tty",
        "/dev/pts/3",
        "WS-00412",
        "ws0412:0.0",
        "|)8<fZ)=Y[<7L$l",
    ];
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for f in 0..FEATURES {
        let users = SESSIONS / FEATURES;
        let reserved = if f % 7 == 0 { 8 } else { 0 };
        let _ = writeln!(
            out,
            "Users of feature_{f:04}:  (Total of 500 licenses issued;  Total of {} licenses in use)\n",
            users + reserved
        );
        let _ = writeln!(
            out,
            "  \"feature_{f:04}\" v2023.{}, vendor: acmelmd, expiry: 31-dec-2026",
            f % 12 + 1
        );
        out.push_str("  floating license\n\n");
        if reserved > 0 {
            out.push_str("\t8 RESERVATIONs for GROUP CAE_TEAM (lic-b.example.net/27002)\n");
        }
        for u in 0..users {
            let r = next();
            let display = displays[(r % displays.len() as u64) as usize];
            let (month, day, hour, minute) = (r % 12 + 1, r % 28 + 1, r % 24, r % 60);
            let _ = write!(
                out,
                "    user{} host{:05} {display} (v2023.{}) (lic-b.example.net/27002 {}), start Mon {month}/{day} {hour}:{minute:02}",
                r % 977,
                r % 50_000,
                f % 12 + 1,
                (f * users + u) % 65_536,
            );
            match u % 10 {
                0 => out.push_str(", 4 licenses\n"),
                1 => out.push_str(" (linger: 604800)\n"),
                2 => out.push_str(", PID: 31337\n"),
                _ => out.push('\n'),
            }
        }
        out.push('\n');
    }
    out
}

fn generate_lmstat_i() -> String {
    let mut out = String::from(
        "Feature                         Version     #licenses    Expires      Vendor\n\
         _______                         _________   _________    __________   ______\n",
    );
    for f in 0..FEATURES * 5 {
        let _ = writeln!(
            out,
            "feature_{f:05}                   2023.{}      {}           31-dec-2026  acmelmd",
            f % 12 + 1,
            f % 97 + 1
        );
    }
    out
}

/// Parses `text` repeatedly for about `budget` and returns MB/s.
fn measure(text: &str, budget: Duration, parse: impl Fn(&str) -> usize) -> (f64, usize) {
    let mut checksum = parse(text); // warm-up
    let started = Instant::now();
    let mut iterations = 0u32;
    while started.elapsed() < budget || iterations < 3 {
        checksum = checksum.wrapping_add(black_box(parse(black_box(text))));
        iterations += 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    let mb = text.len() as f64 * f64::from(iterations) / 1e6;
    (mb / seconds, checksum)
}

fn main() {
    let now = Utc
        .with_ymd_and_hms(2023, 10, 20, 15, 2, 0)
        .single()
        .unwrap_or_default();
    let ctx = ParseContext::new(now, chrono_tz::Europe::Berlin);
    let lmstat_a = |t: &str| {
        let r = parse_lmstat(t, &ctx);
        r.sessions.len() + r.features.len() + r.diagnostics.len()
    };
    let lmstat_i = |t: &str| parse_lmstat_i(t, &ctx).features.len();

    let big = generate_lmstat_a();
    let report = parse_lmstat(&big, &ctx);
    println!(
        "generated lmstat -a: {:.1} MB, {} features, {} sessions, {} diagnostics",
        big.len() as f64 / 1e6,
        report.features.len(),
        report.sessions.len(),
        report.diagnostics.len()
    );
    let (mbps, _) = measure(&big, Duration::from_secs(3), lmstat_a);
    println!(
        "{:>60}  {mbps:8.1} MB/s",
        "generated lmstat -a (2,000 features, 20,000 sessions)"
    );
    let big_i = generate_lmstat_i();
    let (mbps, _) = measure(&big_i, Duration::from_secs(1), lmstat_i);
    println!(
        "{:>60}  {mbps:8.1} MB/s",
        "generated lmstat -i (10,000 rows)"
    );

    let dir = common::fixtures_dir().join("flexlm");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    for name in names {
        let text = common::fixture(&format!("flexlm/{name}"));
        let (mbps, _) = if name.contains("lmstat_i") {
            measure(&text, Duration::from_millis(200), lmstat_i)
        } else {
            measure(&text, Duration::from_millis(200), lmstat_a)
        };
        println!("{name:>60}  {mbps:8.1} MB/s");
    }
}
