//! Pure, allocation-free parsing of one FlexNet debug-log line: the `hh:mm:ss (daemon)` prefix,
//! the event keyword, and the `"feature" user@host [cdstring] (N licenses) (reason)` body.

use chrono::{NaiveDate, NaiveTime};

use super::clock::{parse_mdy, parse_time_of_day};
use crate::EventKind;

/// A line split into its prefix and message.
pub(super) struct Prefixed<'a> {
    pub time: NaiveTime,
    pub daemon: &'a str,
    pub message: &'a str,
}

/// `hh:mm:ss (daemon) message`, hours padded with a space or not. The message may be empty
/// (`10:25:31 (lmgrd) `).
pub(super) fn split_prefix(line: &str) -> Option<Prefixed<'_>> {
    let trimmed = line.trim_start_matches(' ');
    let (time_text, rest) = trimmed.split_once(' ')?;
    if time_text.len() < 7 || time_text.len() > 8 {
        return None;
    }
    let time = parse_time_of_day(time_text)?;
    let rest = rest.strip_prefix('(')?;
    let close = rest.find(')')?;
    let daemon = rest.get(..close)?;
    if daemon.is_empty() || daemon.contains(' ') {
        return None;
    }
    let after = rest.get(close + 1..)?;
    let message = after.strip_prefix(' ').unwrap_or(after);
    Some(Prefixed {
        time,
        daemon,
        message,
    })
}

/// The event keywords of the debug log, with the kind each one reports.
const KEYWORDS: [(&str, EventKind); 6] = [
    ("OUT:", EventKind::Out),
    ("IN:", EventKind::In),
    ("DENIED:", EventKind::Denied),
    ("QUEUED:", EventKind::Queued),
    ("DEQUEUED:", EventKind::Dequeued),
    ("UNSUPPORTED:", EventKind::Unsupported),
];

/// The kind and body of an event message (`OUT: "f" u@h`), None for other messages.
pub(super) fn event_keyword(message: &str) -> Option<(EventKind, &str)> {
    let first = message.as_bytes().first()?;
    if !matches!(first, b'O' | b'I' | b'D' | b'Q' | b'U') {
        return None;
    }
    KEYWORDS.iter().find_map(|(kw, kind)| {
        message
            .strip_prefix(kw)
            .map(|body| (*kind, body.trim_start()))
    })
}

/// What an event body says. Borrowed from the line; the caller owns the strings it keeps.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Body<'a> {
    pub feature: &'a str,
    pub user: &'a str,
    pub host: &'a str,
    pub count: Option<u64>,
    pub reason: Option<&'a str>,
    /// The reason's parentheses do not close on this line: it continues on the next one.
    pub reason_open: bool,
}

/// Parse `"feature" [(key)] user@host [cdstring] [(N licenses)] [(reason)]`. The feature may be
/// unquoted. User names may contain spaces and `@` (the host is after the LAST `@` of the
/// user@host part); the user@host part ends at two spaces, ` (`, ` [`, ` ^^^` or the line end.
pub(super) fn parse_body(body: &str) -> Option<Body<'_>> {
    let (feature, rest) = split_feature(body)?;
    let rest = skip_unsupported_key(rest.trim_start());
    let rest = rest.strip_prefix("by ").unwrap_or(rest); // pre-v8 `OUT: feature by user`
    let end = user_host_end(rest);
    let user_host = rest.get(..end)?.trim_end();
    if user_host.is_empty() {
        return None;
    }
    let (user, host) = match user_host.rfind('@') {
        Some(at) => (user_host.get(..at)?, user_host.get(at + 1..)?),
        None => (user_host, ""),
    };
    let mut parsed = Body {
        feature,
        user,
        host,
        count: None,
        reason: None,
        reason_open: false,
    };
    parse_tail(rest.get(end..)?, &mut parsed);
    Some(parsed)
}

fn split_feature(body: &str) -> Option<(&str, &str)> {
    if let Some(quoted) = body.strip_prefix('"') {
        let close = quoted.find('"')?;
        let feature = quoted.get(..close)?;
        return (!feature.is_empty()).then_some((feature, quoted.get(close + 1..)?));
    }
    let end = body.find([' ', '\t']).unwrap_or(body.len());
    let feature = body.get(..end)?;
    (!feature.is_empty()).then_some((feature, body.get(end..)?))
}

/// UNSUPPORTED lines put the license key in parentheses before the user: `(BF04C1B183DD400E147F)`.
fn skip_unsupported_key(rest: &str) -> &str {
    if let Some(inner) = rest.strip_prefix('(')
        && let Some(close) = inner.find(')')
    {
        let key = inner.get(..close).unwrap_or("");
        if !key.is_empty() && !key.contains(' ') {
            return inner.get(close + 1..).unwrap_or("").trim_start();
        }
    }
    rest
}

fn user_host_end(rest: &str) -> usize {
    // One byte scan instead of a substring search per separator: this runs on every event.
    let b = rest.as_bytes();
    for i in 0..b.len() {
        match (b[i], b.get(i + 1)) {
            (b'\t', _) => return i,
            (b' ', Some(b' ' | b'(' | b'[')) => return i,
            (b' ', Some(b'^')) if rest.get(i + 1..).is_some_and(|r| r.starts_with("^^^")) => {
                return i;
            }
            _ => {}
        }
    }
    b.len()
}

/// The groups after user@host: `[cdstring]` (ignored), `(N licenses)`, `(INACTIVE)`, a reason.
fn parse_tail<'a>(mut tail: &'a str, out: &mut Body<'a>) {
    loop {
        tail = tail.trim_start();
        if let Some(after) = tail.strip_prefix('[') {
            match after.find(']') {
                Some(close) => tail = after.get(close + 1..).unwrap_or(""),
                None => return,
            }
        } else if tail.starts_with('(') {
            let (group, closed, rest) = paren_group(tail);
            apply_group(group, closed, out);
            if !closed {
                return;
            }
            tail = rest;
        } else {
            // `^^^ verbose fields ^^^` or anything else: nothing we use.
            return;
        }
    }
}

/// Apply one parenthesised group (without its outer parentheses) to the body.
pub(super) fn apply_group<'a>(group: &'a str, closed: bool, out: &mut Body<'a>) {
    if closed && let Some(n) = license_count(group) {
        out.count = Some(n);
        return;
    }
    if out.reason.is_none() {
        out.reason = Some(group.trim());
        out.reason_open = !closed;
    }
}

/// Split `(a (b) c) rest` into `a (b) c`, closed, `rest`. Quotes inside are skipped so that
/// `(-4,342:10054 "x)")` balances. Unclosed: the whole remainder, false.
pub(super) fn paren_group(s: &str) -> (&str, bool, &str) {
    let mut depth = 0usize;
    let mut in_quote = false;
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'"' => in_quote = !in_quote,
            b'(' if !in_quote => depth += 1,
            b')' if !in_quote => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return (
                        s.get(1..i).unwrap_or(""),
                        true,
                        s.get(i + 1..).unwrap_or(""),
                    );
                }
            }
            _ => {}
        }
    }
    (s.get(1..).unwrap_or(""), false, "")
}

/// `3 licenses` / `1 license` → the number.
pub(super) fn license_count(group: &str) -> Option<u64> {
    let (n, word) = group.trim().split_once(' ')?;
    if word != "licenses" && word != "license" {
        return None;
    }
    n.parse().ok()
}

/// The date a message gives, if it is one of the date-bearing lines: `TIMESTAMP 3/30/2016`,
/// the start-up banner `... started on HOST (IBM PC) (3/30/2016)`, `Server's System Date and
/// Time: Wed Mar 30 2016 01:56:00 ...`, SLOG `Start-Date: Wed Mar 30 2016 ...` and SLOG
/// `Time: Wed Mar 30 2016 ...`.
pub(super) fn message_date(message: &str) -> Option<NaiveDate> {
    if let Some(rest) = message.strip_prefix("TIMESTAMP ") {
        return parse_mdy(rest.trim());
    }
    if message.contains(" started on ") {
        return banner(message).map(|(_, date)| date);
    }
    let slog_free = strip_slog_tag(message);
    for label in ["Server's System Date and Time: ", "Start-Date: ", "Time: "] {
        if let Some(rest) = slog_free.strip_prefix(label) {
            return parse_long_date(rest);
        }
    }
    None
}

/// The lmgrd start-up banner: `FlexNet Licensing (v11.12...) started on SERVER01 (IBM PC)
/// (3/30/2016)` → (host, date).
pub(super) fn banner(message: &str) -> Option<(&str, NaiveDate)> {
    let (_, after) = message.split_once(" started on ")?;
    let host = after.split([' ', '\t']).next()?;
    let open = message.rfind('(')?;
    let date = message.get(open + 1..)?.trim_end().strip_suffix(')')?;
    Some((host, parse_mdy(date)?))
}

/// `(@adskflex-SLOG@) rest` → `rest`.
pub(super) fn strip_slog_tag(message: &str) -> &str {
    if let Some(inner) = message.strip_prefix("(@")
        && let Some(end) = inner.find("@)")
    {
        return inner.get(end + 2..).unwrap_or("").trim_start();
    }
    message
}

/// `Wed Mar 30 2016 01:56:00 Romance Daylight Time` → 2016-03-30.
fn parse_long_date(s: &str) -> Option<NaiveDate> {
    let mut words = s.split_whitespace();
    let _weekday = words.next()?;
    let month = month_number(words.next()?)?;
    let day: u32 = words.next()?.parse().ok()?;
    let year: i32 = words.next()?.parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let abbrev = name.get(..3)?;
    MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(abbrev))
        .map(|i| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(s: &str) -> Body<'_> {
        parse_body(s).expect("parses")
    }

    #[test]
    fn quoted_feature_user_host() {
        let b = body(r#""85787ACD_2020_0F" USER01@COMPUTER01  "#);
        assert_eq!(
            (b.feature, b.user, b.host, b.count, b.reason),
            ("85787ACD_2020_0F", "USER01", "COMPUTER01", None, None)
        );
    }

    #[test]
    fn user_with_spaces_and_at_signs() {
        let b = body(r#""MATLAB" José Luis Ortega@Plasmon  "#);
        assert_eq!((b.user, b.host), ("José Luis Ortega", "Plasmon"));
        let b = body(r#""f" jane.doe@example.com@ws-01  (2 licenses)"#);
        assert_eq!(
            (b.user, b.host, b.count),
            ("jane.doe@example.com", "ws-01", Some(2))
        );
    }

    #[test]
    fn unsupported_key_and_reason() {
        let b = body(
            r#""MATLAB" (BF04C1B183DD400E147F) Pablo@DESKTOP-PV69PK5  (No such feature exists. (-5,346))"#,
        );
        assert_eq!(
            (b.feature, b.user, b.host),
            ("MATLAB", "Pablo", "DESKTOP-PV69PK5")
        );
        assert_eq!(b.reason, Some("No such feature exists. (-5,346)"));
    }

    #[test]
    fn unquoted_feature_cdstring_and_open_reason() {
        let b = body(
            "DOORS indkach@indkach  [telelogic] (Licensed number of users already reached. (-4,342:10054 ",
        );
        assert_eq!((b.feature, b.user, b.host), ("DOORS", "indkach", "indkach"));
        assert!(b.reason_open);
        let b = body("TLSTOK-token indkach@indkach  [DOORS] (3 licenses)");
        assert_eq!(b.count, Some(3));
    }

    #[test]
    fn prefix_with_padded_hour() {
        let p = split_prefix(" 1:56:00 (lmgrd) TIMESTAMP 3/30/2016").unwrap();
        assert_eq!((p.daemon, p.message), ("lmgrd", "TIMESTAMP 3/30/2016"));
        assert_eq!(
            message_date(p.message),
            NaiveDate::from_ymd_opt(2016, 3, 30)
        );
    }
}
