//! One user line under a feature:
//!
//! ```text
//! user host display (v61.9) (server/27002 18856), start Fri 10/20 14:12, 16 licenses
//! user host display (v1.00) (server/28000 1401), start Wed 5/23 5:59  (linger: 885098 / 1340160)
//! user host (v2026.03) (SERVER1/27020 19210), start Fri 9/25 11:44, PID: 310056
//! user host display (v1.0) (server/27000 301) queued for 2 licenses
//! ```
//!
//! The line is cut from the right, where FlexNet's own fields are, so that whatever the user,
//! host and display words contain cannot confuse it.

use super::identity::{Identity, split_identity};
use super::text::{leading_u64, nth_word, rfind_byte, strip_v, trim_end, trim_start, word_ranges};

/// A checkout time as lmstat prints it: no year, the server's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct StartTime {
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
}

pub(super) struct Checkout<'a> {
    pub identity: Identity<'a>,
    pub version: &'a str,
    /// The checkout handle: `18856` of `(host3.domain.net/27002 18856)`.
    pub handle: Option<&'a str>,
    pub start: Option<StartTime>,
    pub count: u64,
    /// Seconds of `(linger: N)` or the last number of `(linger: a / b)`: FlexNet shows borrowed
    /// licenses as lingering for the whole borrow period.
    pub linger_seconds: Option<u64>,
    pub queued: bool,
    /// Text after the known suffixes that this parser does not know.
    pub unknown_suffix: Option<&'a str>,
}

const START_MARK: &str = "), start ";
const QUEUED_MARK: &str = ") queued for ";

/// Where a user line's handle group closes: the byte offset of its `)` and whether the
/// `) queued for ` marker follows it (else `), start `). Found once per line by the classifier
/// and handed to [`parse_checkout`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Marker {
    at: usize,
    queued: bool,
}

/// The user-line marker of a (trimmed) line, if it has the shape of a user line at all: the last
/// `), start ` or `) queued for `. Only the `)` bytes are candidates, and most lines end their
/// last parenthesis right at the marker, so a backward byte scan finds it within a few dozen
/// bytes.
pub(super) fn find_marker(t: &str) -> Option<Marker> {
    let mut end = t.len();
    while let Some(p) = t.get(..end).and_then(|s| rfind_byte(s, b')')) {
        let here = t.get(p..).unwrap_or("");
        if here.starts_with(START_MARK) {
            return Some(Marker {
                at: p,
                queued: false,
            });
        }
        if here.starts_with(QUEUED_MARK) {
            return Some(Marker {
                at: p,
                queued: true,
            });
        }
        end = p;
    }
    None
}

/// Parses a trimmed user line whose [`find_marker`] is `marker`; `Err` says what was missing.
pub(super) fn parse_checkout<'a>(
    t: &'a str,
    marker: Marker,
    words: &mut Vec<(usize, usize)>,
) -> Result<Checkout<'a>, &'static str> {
    let Marker { at: p, queued } = marker;
    let mark_len = if queued {
        QUEUED_MARK.len()
    } else {
        START_MARK.len()
    };
    let head = t
        .get(..=p)
        .ok_or("no `, start` or `queued for` after the handle")?;
    let tail = t.get(p + mark_len..).unwrap_or("");
    // head ends with `(vVERSION) (SERVER/PORT HANDLE)`.
    let handle_open = rfind_byte(head, b'(').ok_or("no `(server/port handle)`")?;
    let handle_group = head.get(handle_open + 1..head.len() - 1).unwrap_or("");
    let handle = nth_word(handle_group, 1);
    let before = trim_end(head.get(..handle_open).unwrap_or(""));
    let version_open = rfind_version_open(before).ok_or("no `(vVERSION)`")?;
    let version = before
        .get(version_open + 1..)
        .and_then(|v| v.strip_suffix(')'))
        .ok_or("no `(vVERSION)`")?;
    let prefix = trim_end(before.get(..version_open).unwrap_or(""));
    word_ranges(prefix, words);
    let identity = split_identity(prefix, words).ok_or("fewer than two words before `(v`")?;

    let mut checkout = Checkout {
        identity,
        version: strip_v(version),
        handle,
        start: None,
        count: 1,
        linger_seconds: None,
        queued,
        unknown_suffix: None,
    };
    let rest = if queued {
        tail
    } else {
        let (start, rest) = parse_start(tail).ok_or("unreadable start time")?;
        checkout.start = Some(start);
        rest
    };
    read_suffixes(rest, &mut checkout);
    Ok(checkout)
}

/// `s.rfind("(v")` without the cost of setting up a substring searcher for every line: the last
/// `(` that a `v` follows.
fn rfind_version_open(s: &str) -> Option<usize> {
    let mut end = s.len();
    while let Some(p) = s.get(..end).and_then(|h| rfind_byte(h, b'(')) {
        if s.as_bytes().get(p + 1) == Some(&b'v') {
            return Some(p);
        }
        end = p;
    }
    None
}

/// `Fri 10/20 14:12` (the weekday is optional and not used; see `yearless`), then the rest.
fn parse_start(tail: &str) -> Option<(StartTime, &str)> {
    let tail = trim_start(tail);
    let weekday = tail.bytes().take_while(u8::is_ascii_alphabetic).count();
    let after_weekday = tail.get(weekday..).unwrap_or("");
    let (month, r) = leading_u64(trim_start(after_weekday))?;
    let (day, r) = leading_u64(r.strip_prefix('/')?)?;
    let (hour, r) = leading_u64(trim_start(r))?;
    let (minute, mut r) = leading_u64(r.strip_prefix(':')?)?;
    if let Some((_seconds, after)) = r.strip_prefix(':').and_then(leading_u64) {
        r = after;
    }
    let small = |n: u64| u32::try_from(n).ok();
    let start = StartTime {
        month: small(month)?,
        day: small(day)?,
        hour: small(hour)?,
        minute: small(minute)?,
    };
    Some((start, r))
}

/// `, 16 licenses`, `(linger: 3600)`, `(linger: 885098 / 1340160)`, `, PID: 2593569`, and the
/// `1 license` after `queued for`, in any order.
fn read_suffixes<'a>(mut rest: &'a str, checkout: &mut Checkout<'a>) {
    loop {
        // Separators are ASCII, so skipping them byte by byte stays on character boundaries.
        let separators = rest
            .bytes()
            .take_while(|&b| b == b',' || b.is_ascii_whitespace())
            .count();
        rest = rest.get(separators..).unwrap_or("");
        if rest.is_empty() {
            return;
        }
        if let Some(linger) = rest.strip_prefix("(linger:") {
            let Some((inside, after)) = linger.split_once(')') else {
                break;
            };
            checkout.linger_seconds = inside
                .split('/')
                .filter_map(|n| n.trim().parse().ok())
                .next_back();
            rest = after;
        } else if let Some(pid) = rest.strip_prefix("PID:") {
            let pid = pid.trim_start();
            rest = leading_u64(pid).map_or(pid, |(_, after)| after);
        } else if let Some((n, after)) = leading_u64(rest) {
            let after = after.trim_start();
            let Some(after) = after
                .strip_prefix("licenses")
                .or_else(|| after.strip_prefix("license"))
            else {
                break;
            };
            checkout.count = n;
            rest = after;
        } else {
            break;
        }
    }
    checkout.unknown_suffix = Some(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: &str) -> Checkout<'_> {
        let mut w = Vec::new();
        match find_marker(t)
            .ok_or("no marker")
            .and_then(|m| parse_checkout(t, m, &mut w))
        {
            Ok(c) => c,
            Err(e) => panic!("{e}: {t}"),
        }
    }

    #[test]
    fn full_line_with_count() {
        let c = parse(
            "user1 server9 /dev/tty (v61.9) (host3.domain.net/27002 18856), start Fri 10/20 14:12, 16 licenses",
        );
        assert_eq!(
            (c.identity.user, c.identity.host, c.identity.display),
            ("user1", "server9", Some("/dev/tty"))
        );
        assert_eq!((c.version, c.handle, c.count), ("61.9", Some("18856"), 16));
        assert_eq!(
            c.start,
            Some(StartTime {
                month: 10,
                day: 20,
                hour: 14,
                minute: 12
            })
        );
        assert!(c.unknown_suffix.is_none() && !c.queued && c.linger_seconds.is_none());
    }

    #[test]
    fn linger_and_pid() {
        let c = parse(
            "cmfy212 UF UF0.0 (v1.00) (h/28000 1401), start Wed 5/23 5:59, 16 licenses  (linger: 885098 / 1340160)",
        );
        assert_eq!((c.count, c.linger_seconds), (16, Some(1_340_160)));
        let c = parse(
            "John Smith SERVER1 SERVER1 (v2.000) (CCN12374804/27000 102), start Tue 5/25 8:46 (linger: 432000)",
        );
        assert_eq!(
            (c.identity.user, c.linger_seconds),
            ("John Smith", Some(432_000))
        );
        let c =
            parse("user2 host-01 (v1.0) (SERVER1/27020 60604), start Fri 9/25 11:44, PID: 310056 ");
        assert_eq!(
            (c.identity.display, c.count, c.unknown_suffix),
            (None, 1, None)
        );
    }

    #[test]
    fn queued() {
        let c = parse("user7 ws7 /dev/pts/3 (v2.0) (srv/27000 402) queued for 3 licenses");
        assert!(c.queued);
        assert_eq!((c.count, c.start), (3, None));
    }

    #[test]
    fn unknown_suffix_is_reported() {
        let c = parse("u h d (v1) (s/1 2), start Mon 6/11 9:40, frobnicated");
        assert_eq!(c.unknown_suffix, Some("frobnicated"));
    }

    #[test]
    fn broken_lines_are_errors_not_panics() {
        let mut w = Vec::new();
        for t in [
            "), start ",
            "(v), start ",
            "x (v1) ), start Mon",
            "a b (v1) (s/1 2), start Mon 13",
            ") queued for ",
        ] {
            let parsed = find_marker(t).map(|m| parse_checkout(t, m, &mut w));
            assert!(matches!(parsed, Some(Err(_))), "{t}");
        }
    }
}
