//! Throughput of the RLM `rlmstat` and LM-X `licstat`/`licstatxml` parsers, on the fixtures and
//! on generated large outputs. No benchmark framework: best of several timed runs, in MB/s.
//!
//! Run with `cargo bench -p licmon-parse --bench rlm_lmx`.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use licmon_parse::lmx_licstat::{parse_licstat, parse_licstat_xml};
use licmon_parse::rlm_rlmstat::parse_rlmstat;
use licmon_parse::{ParseContext, StatusReport};

type Parser = fn(&str, &ParseContext) -> StatusReport;

fn fixtures_dir() -> PathBuf {
    match std::env::var("LICMON_FIXTURES") {
        Ok(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/fixtures"
        )),
    }
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `parse` on `text` until about half a second has passed; prints the best run's MB/s.
fn bench(label: &str, parse: Parser, text: &str, ctx: &ParseContext) {
    let mut best = Duration::MAX;
    let mut runs = 0u32;
    let started = Instant::now();
    let mut items = 0;
    while runs < 5 || started.elapsed() < Duration::from_millis(500) {
        let t = Instant::now();
        let report = black_box(parse(black_box(text), ctx));
        best = best.min(t.elapsed());
        items = report.features.len() + report.sessions.len();
        runs += 1;
    }
    let mb_per_s = text.len() as f64 / 1e6 / best.as_secs_f64().max(1e-9);
    println!(
        "{label:<58} {:>10} B {items:>7} items {:>9.1} µs {mb_per_s:>8.1} MB/s",
        text.len(),
        best.as_secs_f64() * 1e6
    );
}

/// An RLM output with `isvs` ISVs of `products` products with 3 pools each and 20 checkouts
/// per product.
fn large_rlmstat(isvs: usize, products: usize) -> String {
    let mut out = String::from(
        "rlmutil v15.2\n\n\trlm status on big (port 5053), up 1d 00:00:00\n\trlm software version v15.2 (build:1)\n\n\t--------- ISV servers ----------\n\t   Name           Port Running Restarts\n",
    );
    for i in 0..isvs {
        out.push_str(&format!(
            "\tisv{i}             {}   Yes      0\n",
            40000 + i
        ));
    }
    out.push_str("\n\t------------------------\n");
    for i in 0..isvs {
        out.push_str(&format!(
            "\n\tisv{i} license pool status on big (port {})\n\n",
            40000 + i
        ));
        for p in 0..products {
            for v in 0..3 {
                out.push_str(&format!("\tproduct_{p} v20{v}.0, pool: {}\n\t\tcount: 50, # reservations: 1, inuse: 20, exp: 31-dec-2030\n\t\tobsolete: 0, min_remove: 120, total checkouts: 1234\n", p * 3 + v));
            }
        }
        out.push_str(&format!(
            "\n\t------------------------\n\n\tisv{i} license usage status on big (port {})\n\n",
            40000 + i
        ));
        for p in 0..products {
            for u in 0..20 {
                out.push_str(&format!("\tproduct_{p} v201.0: user{u}@host-{u}.example.com 1/0 at 03/{:02} 09:{:02}  (handle: {:x}) \n", 1 + u % 28, u % 60, p * 20 + u));
            }
        }
    }
    out
}

/// An LM-X text output with `features` features of 20 checkouts each.
fn large_licstat(features: usize) -> String {
    let mut out = String::from(
        "LM-X End-user Utility v3.32\n\n++++++++++++++++++++++++++++++++++++++++\nLM-X License Server on 6200@big:\n\nServer version: v5.1 Uptime: 3 day(s)\n----------------------------------------\n",
    );
    for f in 0..features {
        out.push_str(&format!("Feature: Feature{f} Version: 21.0 Vendor: ALTAIR\nStart date: 2022-02-17 Expire date: 2030-01-31\nKey type: EXCLUSIVE License sharing: CUSTOM VIRTUAL\n\n20 of 1000000 license(s) used:\n"));
        for u in 0..20 {
            out.push_str(&format!("\n1 license(s) used by USER{u}@HOST{u} [10.0.0.{u}]\nLogin time: 2022-02-18 09:26   Checkout time: 2022-02-18 09:{:02} \nShared on custom string: USER{u}:HOST{u} \n", u % 60));
        }
        out.push_str("----------------------------------------\n");
    }
    out
}

/// The same data as [`large_licstat`] in the `-licstatxml` layout.
fn large_licstat_xml(features: usize) -> String {
    let mut out = String::from(
        "LM-X End-user Utility v3.32\n\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LM-X>\n<LICENSE_PATH TYPE=\"NETWORK\" HOST=\"6200@big\" SERVER_VERSION=\"5.1\" STATUS=\"SUCCESS\">\n",
    );
    for f in 0..features {
        out.push_str(&format!("  <FEATURE NAME=\"Feature{f}\" VERSION=\"21.0\" VENDOR=\"ALTAIR\" START=\"2022-02-17\" END=\"2030-01-31\" USED_LICENSES=\"20\" TOTAL_LICENSES=\"1000000\" SHARE=\"CUSTOM ,VIRTUAL\">\n"));
        for u in 0..20 {
            out.push_str(&format!("    <USER NAME=\"USER{u}\" HOST=\"HOST{u}\" IP=\"10.0.0.{u}\" USED_LICENSES=\"1\" LOGIN_TIME=\"2022-02-18 09:26\" CHECKOUT_TIME=\"2022-02-18 09:{:02}\" SHARE_CUSTOM=\"USER{u}:HOST{u}\"/>\n", u % 60));
        }
        out.push_str("  </FEATURE>\n");
    }
    out.push_str("</LICENSE_PATH>\n</LM-X>\n");
    out
}

fn main() {
    let ctx = ParseContext::new(
        Utc.with_ymd_and_hms(2024, 4, 1, 12, 0, 0).unwrap(),
        chrono_tz::Europe::Berlin,
    );
    let dir = fixtures_dir();
    for sub in ["rlm", "lmx"] {
        let mut names: Vec<_> = std::fs::read_dir(dir.join(sub))
            .expect("fixtures dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        names.sort();
        for name in names {
            let text = read(dir.join(sub).join(&name));
            let parse: Parser = if sub == "rlm" {
                parse_rlmstat
            } else {
                parse_licstat
            };
            bench(
                &format!("{sub}/{}", name.to_string_lossy()),
                parse,
                &text,
                &ctx,
            );
        }
    }
    let xml = read(PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/lmx-licstatxml-documented.xml"
    )));
    bench(
        "xml/lmx-licstatxml-documented.xml",
        parse_licstat_xml,
        &xml,
        &ctx,
    );
    bench(
        "generated rlmstat (10 ISVs x 200 products)",
        parse_rlmstat,
        &large_rlmstat(10, 200),
        &ctx,
    );
    bench(
        "generated licstat (2000 features x 20 users)",
        parse_licstat,
        &large_licstat(2000),
        &ctx,
    );
    bench(
        "generated licstatxml (2000 features x 20 users)",
        parse_licstat_xml,
        &large_licstat_xml(2000),
        &ctx,
    );
}
