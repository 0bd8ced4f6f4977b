//! The feature lines of `lmstat -a`: `Users of X: (...)`, the `"X" v1.0, vendor: V, expiry: D`
//! pool headers, `N RESERVATIONs for ...`, and license expiry dates (shared with `lmstat -i`).

use chrono::NaiveDate;

use super::text::{leading_u64, split_once_short, strip_v};
use crate::{Expiry, Feature, Pool};

/// What the parenthesis after `Users of X:` says.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Totals {
    /// `(Total of N licenses issued;  Total of M licenses in use)` (also singular `license`).
    Counted { issued: u64, in_use: u64 },
    /// `(Uncounted, node-locked)`.
    Uncounted,
    /// `(Error: N licenses, unsupported by licensed server)`: the license file holds N licenses
    /// that this vendor daemon will not serve (typically an INCREMENT newer than the daemon).
    Unsupported { issued: u64 },
}

/// Parses what follows `Users of `: the feature name and its totals. `Err(name)` when the
/// totals are not in a known form (the name is still usable).
pub(super) fn parse_users_of(rest: &str) -> Result<(&str, Totals), &str> {
    let (name, after) = rest.split_once(':').unwrap_or((rest, ""));
    let name = name.trim();
    let after = after.trim();
    let totals = if after.starts_with("(Uncounted") {
        Some(Totals::Uncounted)
    } else if let Some(error) = after.strip_prefix("(Error:") {
        leading_u64(error.trim_start())
            .filter(|(_, r)| r.contains("unsupported"))
            .map(|(issued, _)| Totals::Unsupported { issued })
    } else {
        parse_total_of(after)
    };
    totals.map(|t| (name, t)).ok_or(name)
}

fn parse_total_of(s: &str) -> Option<Totals> {
    let (_, issued_part) = split_once_short(s, "Total of ")?;
    let (issued, r) = leading_u64(issued_part)?;
    let (_, used_part) = split_once_short(r, "Total of ")?;
    let (in_use, r) = leading_u64(used_part)?;
    let in_use_said = split_once_short(r, "in use").is_some();
    in_use_said.then_some(Totals::Counted { issued, in_use })
}

/// A pool header: `"feat" v61.9, vendor: VENDOR1, expiry: 1-jan-2026`. Returns the quoted name
/// and the pool; unknown `key: value` parts are ignored. `None` without a closing quote.
pub(super) fn parse_pool_header(t: &str) -> Option<(&str, Pool, Option<&str>)> {
    let inner = t.strip_prefix('"')?;
    let (name, rest) = inner.split_once('"')?;
    let mut pool = Pool {
        version: None,
        vendor: None,
        expires: None,
        issued: None,
    };
    let mut bad_expiry = None;
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if let Some(vendor) = part.strip_prefix("vendor:") {
            pool.vendor = Some(vendor.trim().to_owned());
        } else if let Some(expiry) = part.strip_prefix("expiry:") {
            let expiry = expiry.trim();
            pool.expires = parse_expiry(expiry);
            if pool.expires.is_none() {
                bad_expiry = Some(expiry);
            }
        } else if part.starts_with('v') && pool.version.is_none() {
            pool.version = Some(strip_v(part).to_owned());
        }
    }
    Some((name, pool, bad_expiry))
}

/// `48 RESERVATIONs for GROUP GROUP1 (host/27002)`, `1 RESERVATION for HOST h (...)`: the count.
pub(super) fn parse_reservation(t: &str) -> Option<u64> {
    let (n, rest) = leading_u64(t)?;
    rest.trim_start().starts_with("RESERVATION").then_some(n)
}

/// Lines that say what kind of license a pool is; nothing in them is kept.
pub(super) fn is_license_kind(t: &str) -> bool {
    t.starts_with("floating license")
        || t.starts_with("nodelocked license")
        || t.starts_with("uncounted nodelocked license")
        || t.starts_with("vendor_string:")
}

/// A FlexNet expiry: `29-sep-2026`; `permanent`, `permanent(no expiration date)` and year 0
/// (`1-jan-0`, `01-jan-0000`, which is how license files write "never") are permanent. Two-digit
/// years are old license files: `99` is 1999, `26` is 2026.
pub(super) fn parse_expiry(s: &str) -> Option<Expiry> {
    let s = s.trim();
    if s.len() >= 9
        && s.get(..9)
            .is_some_and(|p| p.eq_ignore_ascii_case("permanent"))
    {
        return Some(Expiry::Permanent);
    }
    let mut parts = s.split('-');
    let day: u32 = parts.next()?.parse().ok()?;
    let month = month_number(parts.next()?)?;
    let year_text = parts.next()?;
    if parts.next().is_some() || year_text.is_empty() || year_text.len() > 4 {
        return None;
    }
    let year: i32 = year_text.parse().ok()?;
    if year == 0 {
        return Some(Expiry::Permanent);
    }
    let year = match (year_text.len(), year) {
        (1 | 2, y) if y >= 70 => 1900 + y,
        (1 | 2, y) => 2000 + y,
        (_, y) => y,
    };
    NaiveDate::from_ymd_opt(year, month, day).map(Expiry::On)
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let position = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(name))?;
    u32::try_from(position + 1).ok()
}

/// Running state of the feature whose `Users of` line was seen last.
pub(super) struct FeatureAcc {
    pub feature: Feature,
    /// FlexNet's "Total of M licenses in use", which counts reservations as in use.
    pub reported_in_use: u64,
    /// Sum of the counts of the checkouts listed (not the queued requests).
    pub listed_in_use: u64,
}

impl FeatureAcc {
    pub fn new(name: &str, totals: Option<Totals>) -> Self {
        let mut feature = Feature::named(name);
        let mut reported_in_use = 0;
        match totals {
            Some(Totals::Counted { issued, in_use }) => {
                feature.issued = Some(issued);
                reported_in_use = in_use;
            }
            Some(Totals::Uncounted) => feature.uncounted = true,
            // The licenses exist in the license file, which is what was bought and what an
            // administrator reconciles against, so they count as issued; none can be in use.
            // The feature has no pool line, so its vendor stays None, which (with in_use 0) is
            // how the UI can tell it apart from a served feature.
            Some(Totals::Unsupported { issued }) => feature.issued = Some(issued),
            None => {}
        }
        Self {
            feature,
            reported_in_use,
            listed_in_use: 0,
        }
    }

    /// The feature as reported: `in_use` does not include reservations (FlexNet's total does:
    /// a feature with one `RESERVATION` line and no user prints "1 license in use"), so that
    /// `in_use + reserved` is FlexNet's total. An uncounted feature has no total; its in-use is
    /// what the checkouts listed add up to.
    pub fn finish(mut self) -> Feature {
        let f = &mut self.feature;
        f.in_use = if f.uncounted {
            self.listed_in_use
        } else {
            self.reported_in_use.saturating_sub(f.reserved)
        };
        f.vendor = f.pools.first().and_then(|p| p.vendor.clone());
        self.feature
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_of_forms() {
        assert_eq!(
            parse_users_of(
                "feature1:  (Total of 1814 licenses issued;  Total of 1206 licenses in use)"
            ),
            Ok((
                "feature1",
                Totals::Counted {
                    issued: 1814,
                    in_use: 1206
                }
            ))
        );
        assert_eq!(
            parse_users_of("x:  (Total of 1 license issued;  Total of 1 license in use)"),
            Ok((
                "x",
                Totals::Counted {
                    issued: 1,
                    in_use: 1
                }
            ))
        );
        assert_eq!(
            parse_users_of("SERIAL:  (Uncounted, node-locked)"),
            Ok(("SERIAL", Totals::Uncounted))
        );
        assert_eq!(
            parse_users_of("SUB:  (Error: 1 licenses, unsupported by licensed server)"),
            Ok(("SUB", Totals::Unsupported { issued: 1 }))
        );
        assert_eq!(parse_users_of("odd:  Cannot get users of odd"), Err("odd"));
        assert_eq!(parse_users_of(""), Err(""));
    }

    #[test]
    fn pool_headers() {
        let (name, pool, bad) =
            parse_pool_header("\"DC-Expert\" v2026.03, vendor: snpslmd, expiry: 24-nov-2028")
                .unwrap_or_default_pool();
        assert_eq!(
            (name, pool.version.as_deref(), pool.vendor.as_deref(), bad),
            ("DC-Expert", Some("2026.03"), Some("snpslmd"), None)
        );
        assert_eq!(
            pool.expires,
            NaiveDate::from_ymd_opt(2028, 11, 24).map(Expiry::On)
        );
        let (_, pool, _) =
            parse_pool_header("\"f\" v31.0, vendor: vendor1").unwrap_or_default_pool();
        assert_eq!(pool.expires, None);
        let (_, _, bad) =
            parse_pool_header("\"f\" v1, vendor: v, expiry: soon").unwrap_or_default_pool();
        assert_eq!(bad, Some("soon"));
        assert!(parse_pool_header("\"unterminated v1").is_none());
    }

    trait OrDefault<'a> {
        fn unwrap_or_default_pool(self) -> (&'a str, Pool, Option<&'a str>);
    }
    impl<'a> OrDefault<'a> for Option<(&'a str, Pool, Option<&'a str>)> {
        fn unwrap_or_default_pool(self) -> (&'a str, Pool, Option<&'a str>) {
            self.unwrap_or((
                "<none>",
                Pool {
                    version: None,
                    vendor: None,
                    expires: None,
                    issued: None,
                },
                None,
            ))
        }
    }

    #[test]
    fn expiries() {
        let on = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).map(Expiry::On);
        assert_eq!(parse_expiry("29-sep-2026"), on(2026, 9, 29));
        assert_eq!(parse_expiry("31-DEC-99"), on(1999, 12, 31));
        for p in [
            "permanent",
            "permanent(no expiration date)",
            "1-jan-0",
            "01-jan-0000",
            "1-jan-00",
        ] {
            assert_eq!(parse_expiry(p), Some(Expiry::Permanent), "{p}");
        }
        for bad in [
            "",
            "31-feb-2020",
            "1-foo-2020",
            "1-jan-20200",
            "a-jan-2020",
            "1-jan-2020-1",
            "perm",
        ] {
            assert_eq!(parse_expiry(bad), None, "{bad}");
        }
    }

    #[test]
    fn reservations() {
        assert_eq!(
            parse_reservation("48 RESERVATIONs for GROUP GROUP1 (h/27002)"),
            Some(48)
        );
        assert_eq!(
            parse_reservation("1 RESERVATION for GROUP DED (SERVER1/1713)"),
            Some(1)
        );
        assert_eq!(
            parse_reservation("1nou7p dcv033.com /dev/tty (v2023.06)"),
            None
        );
    }
}
