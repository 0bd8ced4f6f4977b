//! What one line of `rlmutil rlmstat -a` says, without context. Every classifier takes the line
//! trimmed of its indentation (tabs in RLM v12, spaces in re-indented copies) and of trailing
//! spaces (RLM pads usage lines with one).

use crate::Expiry;
use chrono::NaiveDate;

/// `rlm status on HOST (port N)`, `foundry ISV server status on ...`,
/// `foundry license pool status on ...`, `foundry license usage status on ...`.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct StatusHeader<'a> {
    /// `rlm` for the rlm server, else the ISV name.
    pub name: &'a str,
    pub kind: HeaderKind,
    pub host: &'a str,
    pub port: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HeaderKind {
    RlmServer,
    IsvServer,
    LicensePool,
    LicenseUsage,
}

pub(super) fn status_header(line: &str) -> Option<StatusHeader<'_>> {
    let (before, after) = line.split_once(" status on ")?;
    let (name, kind) = if let Some(isv) = before.strip_suffix(" ISV server") {
        (isv, HeaderKind::IsvServer)
    } else if let Some(isv) = before.strip_suffix(" license pool") {
        (isv, HeaderKind::LicensePool)
    } else if let Some(isv) = before.strip_suffix(" license usage") {
        (isv, HeaderKind::LicenseUsage)
    } else {
        (before, HeaderKind::RlmServer)
    };
    if name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    let (host, rest) = match after.split_once(" (port ") {
        Some((host, rest)) => (host, Some(rest)),
        None => (after.split(',').next().unwrap_or(after), None),
    };
    let port = rest
        .and_then(|r| r.split(')').next())
        .and_then(|p| p.trim().parse().ok());
    Some(StatusHeader {
        name,
        kind,
        host: host.trim(),
        port,
    })
}

/// `rlm software version v12.2 (build:2)` → (`rlm`, `12.2`).
pub(super) fn software_version(line: &str) -> Option<(&str, &str)> {
    let (name, rest) = line.split_once(" software version ")?;
    let version = rest.split_whitespace().next()?;
    Some((name, strip_v(version)))
}

/// A row of the `ISV servers` table: `foundry          49679   Yes      0`.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct IsvRow<'a> {
    pub name: &'a str,
    pub port: Option<u16>,
    pub running: bool,
}

pub(super) fn isv_row(line: &str) -> Option<IsvRow<'_>> {
    let mut words = line.split_whitespace();
    let name = words.next()?;
    let port = words.next()?.parse().ok();
    let running = match words.next()? {
        w if w.eq_ignore_ascii_case("yes") => true,
        w if w.eq_ignore_ascii_case("no") => false,
        _ => return None,
    };
    words.next()?.parse::<u64>().ok()?;
    words.next().is_none().then_some(IsvRow {
        name,
        port,
        running,
    })
}

/// A pool header: `converge v3.0`, `nuke_i v2024.0331, pool: 3`. RLM marks token pools in the
/// header (`(token)`, `token pool`); any word `token` after the version counts.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct PoolHeader<'a> {
    pub product: &'a str,
    pub version: &'a str,
    pub token_based: bool,
}

pub(super) fn pool_header(line: &str) -> Option<PoolHeader<'_>> {
    let (product, rest) = line.split_once(char::is_whitespace)?;
    let rest = rest.trim_start();
    let version_end = rest.find([',', ' ', '\t']).unwrap_or(rest.len());
    let version = &rest[..version_end];
    if !is_version(version) || product.ends_with(':') {
        return None;
    }
    let tail = &rest[version_end..];
    if tail.contains(':')
        && !tail
            .trim_start_matches(',')
            .trim_start()
            .starts_with("pool:")
    {
        return None;
    }
    let token_based = tail
        .split(|c: char| !c.is_ascii_alphabetic())
        .any(|w| w.eq_ignore_ascii_case("token") || w.eq_ignore_ascii_case("tokens"));
    Some(PoolHeader {
        product,
        version: strip_v(version),
        token_based,
    })
}

/// `count: 4, # reservations: 0, inuse: 0, exp: 31-dec-2023`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct PoolCounts<'a> {
    /// `None` when RLM prints no number (token pools).
    pub count: Option<u64>,
    pub reservations: u64,
    pub in_use: u64,
    pub exp: Option<&'a str>,
}

pub(super) fn pool_counts(line: &str) -> Option<PoolCounts<'_>> {
    if !line.starts_with("count:") {
        return None;
    }
    let mut counts = PoolCounts::default();
    for field in line.split(',') {
        let Some((key, value)) = field.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "count" => counts.count = value.parse().ok(),
            "# reservations" => counts.reservations = value.parse().unwrap_or(0),
            "inuse" => counts.in_use = value.parse().unwrap_or(0),
            "exp" => counts.exp = Some(value),
            _ => {}
        }
    }
    Some(counts)
}

/// `obsolete: 0, min_remove: 120, total checkouts: 0`: pool statistics licmon does not keep.
pub(super) fn is_pool_statistics(line: &str) -> bool {
    line.starts_with("obsolete:") && line.contains("min_remove:")
}

/// An RLM expiration date: `31-dec-2023`, `1-jul-2024`, `permanent`. A year of 0 (`1-jan-0`)
/// means permanent, as in license files.
pub(super) fn expiry(text: &str) -> Option<Expiry> {
    if text.eq_ignore_ascii_case("permanent") {
        return Some(Expiry::Permanent);
    }
    let mut parts = text.splitn(3, '-');
    let day: u32 = parts.next()?.parse().ok()?;
    let month = month_number(parts.next()?)?;
    let year: i32 = parts.next()?.parse().ok()?;
    if year == 0 {
        return Some(Expiry::Permanent);
    }
    NaiveDate::from_ymd_opt(year, month, day).map(Expiry::On)
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let position = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(name))?;
    u32::try_from(position + 1).ok()
}

/// Lines printed by rlmutil that carry nothing licmon keeps: banners, the statistics tables,
/// log file names, startup times, separators, and the OS error text after a connect error.
pub(super) fn is_harmless(line: &str) -> bool {
    line.is_empty()
        || line.starts_with("Setting license file path to")
        || line.starts_with("Copyright (C)")
        || is_utility_banner(line)
        || is_separator(line)
        || line.starts_with("Startup time:")
        || line.starts_with("Todays Statistics")
        || line.starts_with("Recent Statistics")
        || line.contains(" comm version: ")
        || line.contains(" Debug log filename: ")
        || line.contains(" Report log filename: ")
        || is_stats_title_row(line)
        || is_stats_uptime_row(line)
        || is_stats_counter_row(line)
        || is_isv_table_header(line)
        || line == "No error"
}

/// `rlmutil v12.2`, `rlmstat v9.1`.
fn is_utility_banner(line: &str) -> bool {
    let mut words = line.split_whitespace();
    matches!(
        (words.next(), words.next(), words.next()),
        (Some("rlmutil" | "rlmstat"), Some(v), None) if v.starts_with('v')
    )
}

/// `------------------------` and `--------- ISV servers ----------`.
pub(super) fn is_separator(line: &str) -> bool {
    line.starts_with("---") && line.ends_with("---")
}

pub(super) fn is_isv_table_title(line: &str) -> bool {
    is_separator(line) && line.contains("ISV servers")
}

fn is_isv_table_header(line: &str) -> bool {
    let mut words = line.split_whitespace();
    ["name", "port", "running", "restarts"]
        .iter()
        .all(|h| words.next().is_some_and(|w| w.eq_ignore_ascii_case(h)))
        && words.next().is_none()
}

fn is_stats_title_row(line: &str) -> bool {
    line.starts_with("Recent Stats") && line.contains("Total Stats")
}

/// `00:23:38             22:55:53          5d 14:26:14`.
fn is_stats_uptime_row(line: &str) -> bool {
    line.split_whitespace().all(|w| {
        let digits = w.strip_suffix('d').unwrap_or(w);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit() || b == b':')
    })
}

/// `Denials:     0 (0/sec)           0 (0/sec)          1230 (0/sec)` → 1230: the Total Stats
/// column, counted since the ISV server started (Recent and Todays restart more often).
pub(super) fn denials_total(line: &str) -> Option<u64> {
    let rest = line.strip_prefix("Denials:")?;
    let counts: Vec<&str> = rest
        .split_whitespace()
        .filter(|w| !w.starts_with('('))
        .collect();
    match counts.as_slice() {
        [_, _, total] => total.parse().ok(),
        _ => None,
    }
}

/// `Messages:    1462 (1/sec)           64739 (0/sec)          316966 (0/sec)`.
fn is_stats_counter_row(line: &str) -> bool {
    let Some((label, rest)) = line.split_once(':') else {
        return false;
    };
    !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphabetic()) && rest.contains("/sec)")
}

/// `Error connecting to "rlm" server` → `rlm`.
pub(super) fn connect_error(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("Error connecting to ")?;
    Some(rest.trim_end_matches(" server").trim_matches('"'))
}

/// `Connection attempted to host: "" on port 5053` → (``, 5053).
pub(super) fn connection_attempt(line: &str) -> Option<(&str, Option<u16>)> {
    let rest = line.strip_prefix("Connection attempted to host:")?;
    let (host, port) = rest.rsplit_once(" on port ").unwrap_or((rest, ""));
    Some((host.trim().trim_matches('"'), port.trim().parse().ok()))
}

pub(super) fn strip_v(version: &str) -> &str {
    version.strip_prefix('v').unwrap_or(version)
}

/// `v3.0`, `v2024.0331`: a `v` and then digits and dots.
fn is_version(word: &str) -> bool {
    word.strip_prefix('v').is_some_and(|v| {
        v.bytes().next().is_some_and(|b| b.is_ascii_digit())
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    })
}
