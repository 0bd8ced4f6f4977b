//! IBM License Use Management (LUM) `i4blt -s -lc -n SERVER` output: the status of the
//! concurrent licenses on a LUM network license server, with their current users.
//!
//! No captured sample is public. The report is the one IBM documents for `i4blt -s` (LUM
//! Runtime "Using License Use Management Runtime", chapter on the Basic License Tool): a banner,
//! a `S t a t u s  R e p o r t` title, then one block per product of `Name: value` lines, each
//! followed by a table of its current users:
//!
//! ```text
//!      Server Name:       ip:lumsrv1
//!      Vendor Name:       Dassault Systemes
//!      Product Name:      CATIA_MD2
//!      Product Version:   5.22
//!      License Type:      Concurrent Access
//!      Licenses Granted:  10
//!      Licenses In Use:   3
//!      Start Date:        Mon Jan 01 00:00:00 2024
//!      Expiration Date:   Wed Dec 31 23:59:59 2025
//!
//!      User Name     Node Name     Group Name    Licenses   Check Out Date
//!      ---------     ---------     ----------    --------   --------------
//!      jdoe          ws-042        cad           1          Tue Mar 11 08:02:11 2025
//! ```
//!
//! `Product Name` starts a product (a [`Feature`] with one [`Pool`] per product version and
//! license block); field names vary between LUM releases, so the synonyms IBM uses are accepted
//! (`Number of Licenses`, `Total Licenses`, `In Use`, `Exp Date`, `End Date`). Other fields are
//! kept by LUM for its own bookkeeping (IDs, annotations, time stamps) and skipped. An `ADM-`
//! error or "cannot contact" message marks the server down.

use std::collections::HashMap;

use crate::wallclock::{expiry, key_value, last_line, local_date_time};
use crate::{
    Diagnostic, Feature, ParseContext, Pool, ServerNode, Session, StatusReport, UpDown,
    VendorDaemon,
};

/// The `licmon parse --format` name of this format.
pub const FORMAT: &str = "ibm-lum-i4blt";

#[derive(Default)]
struct Product {
    line: usize,
    name: String,
    vendor: Option<String>,
    version: Option<String>,
    issued: Option<u64>,
    in_use: u64,
    expires: Option<crate::Expiry>,
    users: Vec<Session>,
}

/// Parses `i4blt -s -lc` output. Never fails: what is not understood is reported in
/// `diagnostics` with its line number.
pub fn parse_i4blt(text: &str, ctx: &ParseContext) -> StatusReport {
    let mut report = StatusReport::empty(FORMAT);
    let mut product: Option<Product> = None;
    let mut in_table = false;
    let mut index: HashMap<(Option<String>, String), usize> = HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let no = i + 1;
        let line = raw.trim();
        if line.is_empty() {
            in_table = false;
            continue;
        }
        if is_harmless(line) {
            continue;
        }
        if is_connect_error(line) {
            let message = line.to_string();
            match report.servers.last_mut() {
                Some(n) => {
                    n.status = UpDown::Down;
                    n.error = Some(message);
                }
                None => report.servers.push(node("", UpDown::Down, Some(message))),
            }
            continue;
        }
        if line.starts_with("User Name") && line.contains("Node Name") {
            in_table = true;
            continue;
        }
        if in_table {
            match (user_row(line, ctx), product.as_mut()) {
                (Some(mut s), Some(p)) => {
                    s.feature = p.name.clone();
                    s.version = p.version.clone();
                    p.users.push(s);
                }
                (Some(_), None) => report
                    .diagnostics
                    .push(Diagnostic::new(no, "user row outside a product")),
                (None, _) => report
                    .diagnostics
                    .push(Diagnostic::new(no, "user row not understood")),
            }
            continue;
        }
        let Some((key, value)) = key_value(line) else {
            report
                .diagnostics
                .push(Diagnostic::new(no, "line not understood"));
            continue;
        };
        let count = |report: &mut StatusReport| {
            let n = value.parse::<u64>().ok();
            if n.is_none() {
                report.diagnostics.push(Diagnostic::new(
                    no,
                    format!("{key} {value:?} is not a count"),
                ));
            }
            n
        };
        match key {
            "Server Name" => {
                let host = value.strip_prefix("ip:").unwrap_or(value);
                if !report.servers.iter().any(|s| s.host == host) {
                    report.servers.push(node(host, UpDown::Up, None));
                }
            }
            "Vendor Name" => {
                finish(&mut report, &mut index, product.take());
                product = Some(Product {
                    line: no,
                    vendor: Some(value.to_string()),
                    ..Product::default()
                });
                if !report.vendor_daemons.iter().any(|d| d.name == value) {
                    report.vendor_daemons.push(VendorDaemon {
                        name: value.to_string(),
                        status: UpDown::Up,
                        version: None,
                        error: None,
                        denied: None,
                    });
                }
            }
            "Product Name" => {
                let p = product.get_or_insert_with(Product::default);
                if !p.name.is_empty() {
                    let vendor = p.vendor.clone();
                    finish(&mut report, &mut index, product.take());
                    product = Some(Product {
                        vendor,
                        ..Product::default()
                    });
                }
                if let Some(p) = product.as_mut() {
                    p.name = value.to_string();
                    p.line = no;
                }
            }
            "Product Version" => {
                if let Some(p) = product.as_mut() {
                    p.version = Some(value.to_string()).filter(|v| !v.is_empty());
                }
            }
            "Licenses Granted" | "Number of Licenses" | "Total Licenses" | "Licenses" => {
                let n = count(&mut report);
                if let Some(p) = product.as_mut() {
                    p.issued = n;
                }
            }
            "Licenses In Use" | "In Use" | "Licenses in Use" => {
                let n = count(&mut report).unwrap_or(0);
                if let Some(p) = product.as_mut() {
                    p.in_use = n;
                }
            }
            "Expiration Date" | "Exp Date" | "End Date" => {
                let e = expiry(value);
                if e.is_none() {
                    report.diagnostics.push(Diagnostic::new(
                        no,
                        format!("expiration date {value:?} not understood"),
                    ));
                }
                if let Some(p) = product.as_mut() {
                    p.expires = e;
                }
            }
            _ => {}
        }
    }
    finish(&mut report, &mut index, product.take());
    let last = last_line(text);
    for d in &mut report.diagnostics {
        d.line = d.line.min(last);
    }
    report
}

fn finish(
    report: &mut StatusReport,
    index: &mut HashMap<(Option<String>, String), usize>,
    product: Option<Product>,
) {
    let Some(p) = product else { return };
    if p.name.is_empty() {
        if p.vendor.is_some() && p.line > 0 && p.issued.is_some() {
            report.diagnostics.push(Diagnostic::new(
                p.line,
                "vendor block without a product name",
            ));
        }
        return;
    }
    let key = (p.vendor.clone(), p.name.clone());
    let i = *index.entry(key).or_insert_with(|| {
        let mut f = Feature::named(p.name.clone());
        f.vendor = p.vendor.clone();
        report.features.push(f);
        report.features.len() - 1
    });
    let f = &mut report.features[i];
    f.issued = match (f.issued, p.issued) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    };
    f.in_use += p.in_use;
    f.pools.push(Pool {
        version: p.version,
        vendor: p.vendor,
        expires: p.expires,
        issued: p.issued,
    });
    report.sessions.extend(p.users);
}

fn node(host: &str, status: UpDown, error: Option<String>) -> ServerNode {
    ServerNode {
        host: host.to_string(),
        port: None,
        status,
        master: false,
        version: None,
        error,
    }
}

fn is_harmless(line: &str) -> bool {
    line.starts_with("===")
        || line.starts_with("---")
        || line.starts_with("i4blt Version")
        || line.starts_with("(c) Copyright")
        || line.starts_with("US Government Users")
        || line.starts_with("restricted by GSA")
        || line.replace(' ', "").eq_ignore_ascii_case("StatusReport")
        || (line.starts_with('=') && line.replace(' ', "").contains("StatusReport"))
}

fn is_connect_error(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    line.starts_with("ADM-")
        || line.contains(": ADM-")
        || [
            "cannot contact",
            "could not contact",
            "no license server",
            "server is not available",
            "connection refused",
        ]
        .iter()
        .any(|w| lower.contains(w))
}

/// `jdoe  ws-042  cad  1  Tue Mar 11 08:02:11 2025`: user, node, group, licenses, checkout.
fn user_row(line: &str, ctx: &ParseContext) -> Option<Session> {
    let words: Vec<&str> = line.split_whitespace().collect();
    if words.len() < 4 {
        return None;
    }
    let count: u64 = words[3].parse().ok()?;
    let mut s = Session::new("", words[0], words[1]);
    s.count = count;
    let when = words[4..].join(" ");
    if !when.is_empty() {
        s.start = Some(local_date_time(&when, ctx)?);
    }
    Some(s)
}
