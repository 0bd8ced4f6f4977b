//! `lmxendutil -licstat` text output (LM-X End-user Utility v3.x), e.g.
//!
//! ```text
//! LM-X License Server on 6200@licserv0013.com:
//! Server version: v5.1 Uptime: 3 day(s) 12 hour(s) 0 min(s) 51 sec(s)
//! ----------------------------------------
//! Feature: GlobalZoneEU Version: 21.0 Vendor: ALTAIR
//! Start date: 2022-02-17 Expire date: 2023-01-31
//! Key type: EXCLUSIVE License sharing: CUSTOM VIRTUAL
//! 40000 of 1000003 license(s) used:
//! 15000 license(s) used by VRAAFG@RD0082879 [138.106.159.158]
//! Login time: 2022-02-18 09:26   Checkout time: 2022-02-18 09:29
//! Shared on custom string: VRAAFG:RD0082879
//! ```

use super::TEXT_FORMAT;
use super::model::{self, Checkout, FeatureBlock, ReportBuilder};
use crate::{Diagnostic, ParseContext, StatusReport};

/// Parses `lmxendutil -licstat` output. Never fails: what is not understood is reported in
/// `diagnostics` with its line number.
pub fn parse_licstat(text: &str, ctx: &ParseContext) -> StatusReport {
    let mut builder = ReportBuilder::new(TEXT_FORMAT);
    for (index, raw) in text.lines().enumerate() {
        if !understood(&mut builder, raw.trim(), ctx) {
            builder
                .report
                .diagnostics
                .push(Diagnostic::new(index + 1, "line not understood"));
        }
    }
    builder.report
}

/// Applies one trimmed line; false when it is not understood. Also used for the banner lines
/// that `-licstatxml` prints before its XML.
pub(super) fn understood(builder: &mut ReportBuilder, line: &str, ctx: &ParseContext) -> bool {
    data_line(builder, line, ctx) || is_harmless(line)
}

/// Applies a line that carries data; false when the line is none of them (or has nothing to
/// attach to, such as a checkout before any feature).
fn data_line(builder: &mut ReportBuilder, line: &str, ctx: &ParseContext) -> bool {
    if is_rule(line, '-') {
        builder.end_feature();
        return true;
    }
    if let Some(spec) = line.strip_prefix("LM-X License Server on ") {
        builder.server(spec.trim_end_matches(':'));
        return true;
    }
    if let Some(rest) = line.strip_prefix("Server version:") {
        let version = rest.split_whitespace().next().map(model::strip_v);
        builder.last_server().version = version.map(str::to_string);
        return true;
    }
    if line.starts_with("There are no license server(s) available") {
        builder.server_down(line);
        return true;
    }
    if let Some(block) = feature_header(line) {
        builder.feature(&block);
        return true;
    }
    if let Some(expire) = line.starts_with("Start date:").then(|| expire_date(line)) {
        return builder.set_expiry(expire.and_then(model::expiry));
    }
    if let Some((used, total)) = used_of_total(line) {
        return builder.feature_counts(used, total);
    }
    if let Some(checkout) = checkout_line(line) {
        return builder.checkout(&checkout);
    }
    if line.starts_with("Login time:") {
        return checkout_times(builder, line, ctx);
    }
    false
}

/// Banners, rules and per-feature details licmon does not keep.
fn is_harmless(line: &str) -> bool {
    line.is_empty()
        || line.starts_with("LM-X End-user Utility")
        || line.starts_with("Copyright (C)")
        || line == "LM-X license server(s):"
        || is_rule(line, '+')
        || line.starts_with("Key type:")
        || line.starts_with("Shared on custom string:")
}

fn is_rule(line: &str, c: char) -> bool {
    line.len() >= 3 && line.chars().all(|x| x == c)
}

/// `Feature: CatiaV5Reader Version: 21.0 Vendor: ALTAIR`.
fn feature_header(line: &str) -> Option<FeatureBlock<'_>> {
    let rest = line.strip_prefix("Feature:")?;
    let (name, rest) = rest.split_once(" Version:").unwrap_or((rest, ""));
    let (version, vendor) = match rest.split_once(" Vendor:") {
        Some((version, vendor)) => (version, Some(vendor.trim())),
        None => (rest, None),
    };
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let version = Some(version.trim()).filter(|v| !v.is_empty());
    Some(FeatureBlock {
        name,
        version,
        vendor: vendor.filter(|v| !v.is_empty()),
        ..Default::default()
    })
}

/// `Start date: 2022-02-17 Expire date: 2023-01-31` → `2023-01-31`.
fn expire_date(line: &str) -> Option<&str> {
    line.split_once("Expire date:").map(|(_, date)| date.trim())
}

/// `0 of 3 license(s) used` and `40000 of 1000003 license(s) used:`.
fn used_of_total(line: &str) -> Option<(u64, u64)> {
    let rest = line
        .strip_suffix(':')
        .unwrap_or(line)
        .strip_suffix(" license(s) used")?;
    let (used, total) = rest.split_once(" of ")?;
    Some((used.trim().parse().ok()?, total.trim().parse().ok()?))
}

/// `15000 license(s) used by VRAAFG@RD0082879 [138.106.159.158]`; `borrowed by` for borrows.
fn checkout_line(line: &str) -> Option<Checkout<'_>> {
    let (count, rest) = line.split_once(" license(s) ")?;
    let count = count.trim().parse().ok()?;
    let (borrowed, who) = if let Some(who) = rest.strip_prefix("used by ") {
        (false, who)
    } else {
        (true, rest.strip_prefix("borrowed by ")?)
    };
    let (who, ip) = match who.rsplit_once(" [") {
        Some((who, ip)) => (who, Some(ip.trim_end_matches(']').trim())),
        None => (who, None),
    };
    let (user, host) = who.rsplit_once('@')?;
    Some(Checkout {
        user: user.trim(),
        host: host.trim(),
        ip,
        count,
        borrowed,
        checkout_time: None,
        borrow_expires: None,
    })
}

/// `Login time: 2022-02-18 09:26   Checkout time: 2022-02-18 09:29`: the session starts at the
/// checkout (the login is when the client connected, possibly long before).
fn checkout_times(builder: &mut ReportBuilder, line: &str, ctx: &ParseContext) -> bool {
    let (login, checkout) = match line.split_once("Checkout time:") {
        Some((login, checkout)) => (login, Some(checkout)),
        None => (line, None),
    };
    let login = login.trim_start_matches("Login time:");
    let start = checkout
        .and_then(|t| model::local_time(t, ctx))
        .or_else(|| model::local_time(login, ctx));
    match builder.last_session() {
        Some(session) => {
            session.start = start;
            start.is_some()
        }
        None => false,
    }
}
