//! `lmutil lmstat -i`: the INCREMENT lines of the license file as a table.
//!
//! ```text
//! Feature                         Version     #licenses    Expires      Vendor
//! _______                         _________   _________    __________   ______
//! feature1                        2018.12      2           31-dec-2018  vendor1
//! feature_name_9                   15.0         2           vendor       permanent(no expiration date)
//! ```
//!
//! Newer lmutil prints `Vendor` before `Expires`; the order is told apart on each row by which
//! column reads as an expiry, so a row means the same with or without its header.
//!
//! A feature listed twice (two INCREMENT lines) is one feature with two pools whose counts add
//! up, the way `lmstat -a` totals them under a single `Users of` line.

use std::collections::HashMap;

use super::feature::parse_expiry;
use super::text::{is_banner, span, word_ranges};
use crate::{Diagnostic, Expiry, Feature, ParseContext, Pool, StatusReport};

pub(super) fn parse(text: &str, _ctx: &ParseContext) -> StatusReport {
    let mut report = StatusReport::empty("flexnet-lmstat-i");
    let mut index_of: HashMap<&str, usize> = HashMap::new();
    let mut words = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || is_harmless(t) {
            continue;
        }
        match parse_row(t, &mut words) {
            Some(row) => add_row(&mut report.features, &mut index_of, row),
            None => report
                .diagnostics
                .push(Diagnostic::new(index + 1, "unrecognized line")),
        }
    }
    report
}

/// The note lmutil prints first, the table heading and its underlines, and banners.
fn is_harmless(t: &str) -> bool {
    t.starts_with("NOTE: lmstat -i")
        || t.starts_with("but only reads the license file")
        || t.starts_with("lmstat -a is recommended")
        || (t.starts_with("Feature") && t.contains("Version"))
        || t.bytes().all(|b| b == b'_' || b == b' ' || b == b'\t')
        || is_banner(t)
}

struct Row<'a> {
    name: &'a str,
    version: &'a str,
    /// `None` for `uncounted`.
    count: Option<u64>,
    vendor: &'a str,
    expires: Expiry,
}

fn parse_row<'a>(t: &'a str, words: &mut Vec<(usize, usize)>) -> Option<Row<'a>> {
    word_ranges(t, words);
    let n = words.len();
    if n < 5 {
        return None;
    }
    let word = |i: usize| span(t, words, i, i);
    let count = match word(2) {
        w if w.eq_ignore_ascii_case("uncounted") => None,
        w => Some(w.parse().ok()?),
    };
    // Vendor before Expires: the expiry is everything after the vendor (it may hold spaces).
    let (vendor, expires) = match parse_expiry(span(t, words, 4, n - 1)) {
        Some(expires) if parse_expiry(word(3)).is_none() => (word(3), expires),
        _ => (word(n - 1), parse_expiry(span(t, words, 3, n - 2))?),
    };
    Some(Row {
        name: word(0),
        version: word(1),
        count,
        vendor,
        expires,
    })
}

fn add_row<'a>(features: &mut Vec<Feature>, index_of: &mut HashMap<&'a str, usize>, row: Row<'a>) {
    let pool = Pool {
        version: Some(row.version.to_owned()),
        vendor: Some(row.vendor.to_owned()),
        expires: Some(row.expires),
        issued: row.count,
    };
    let index = *index_of.entry(row.name).or_insert_with(|| {
        let mut feature = Feature::named(row.name);
        feature.vendor = Some(row.vendor.to_owned());
        feature.issued = Some(0);
        features.push(feature);
        features.len() - 1
    });
    let Some(feature) = features.get_mut(index) else {
        return;
    };
    match row.count {
        Some(n) if !feature.uncounted => {
            feature.issued = feature.issued.map(|i| i.saturating_add(n))
        }
        _ => {
            feature.uncounted = true;
            feature.issued = None;
        }
    }
    feature.pools.push(pool);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(t: &str) -> Option<(String, String, Option<u64>, String, Expiry)> {
        let mut w = Vec::new();
        parse_row(t, &mut w).map(|r| {
            (
                r.name.into(),
                r.version.into(),
                r.count,
                r.vendor.into(),
                r.expires,
            )
        })
    }

    #[test]
    fn both_column_orders() {
        let a = row("feature1   2018.12   2   31-dec-2018  vendor1");
        let b = row("feature_name_9  15.0  2  vendor  permanent(no expiration date)");
        assert_eq!(
            a.map(|r| (r.3, r.4)),
            Some((
                "vendor1".into(),
                parse_expiry("31-dec-2018").unwrap_or(Expiry::Permanent)
            ))
        );
        assert_eq!(
            b.map(|r| (r.0, r.2, r.3, r.4)),
            Some((
                "feature_name_9".into(),
                Some(2),
                "vendor".into(),
                Expiry::Permanent
            ))
        );
    }

    #[test]
    fn bad_rows() {
        assert!(row("feature1 2018.12 two 31-dec-2018 vendor1").is_none());
        assert!(row("feature1 2018.12 2 vendor1").is_none());
        assert!(row("feature1 2018.12 2 soon vendor1").is_none());
    }
}
