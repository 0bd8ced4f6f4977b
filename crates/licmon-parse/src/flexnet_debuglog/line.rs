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
///
/// Runs on every line, so it scans bytes in place rather than searching the whole line for a
/// space and a `)`: the time ends within 9 bytes and daemon names are short.
pub(super) fn split_prefix(line: &str) -> Option<Prefixed<'_>> {
    match common_prefix(line) {
        Some(prefixed) => prefixed,
        None => any_prefix(line),
    }
}

/// The two prefixes FlexNet writes, ` h:mm:ss ` and `hh:mm:ss `: the same positions either
/// way, so they are read without a search. None for any other shape; Some(None) when the
/// shape is right but the rest is not a prefix (what [`any_prefix`] would say too).
fn common_prefix(line: &str) -> Option<Option<Prefixed<'_>>> {
    let head: [u8; 9] = line.as_bytes().get(..9)?.try_into().ok()?;
    let [h1, h2, b':', m1, m2, b':', s1, s2, b' '] = head else {
        return None;
    };
    let digit = |c: u8| c.is_ascii_digit().then(|| u32::from(c - b'0'));
    let hour = match h1 {
        b' ' => digit(h2)?,
        _ => digit(h1)? * 10 + digit(h2)?,
    };
    let minute = digit(m1)? * 10 + digit(m2)?;
    let second = digit(s1)? * 10 + digit(s2)?;
    let time = NaiveTime::from_hms_opt(hour, minute, second);
    Some(time.and_then(|t| after_time(t, line.get(9..)?)))
}

/// Any other prefix: padding, then a time of day [`parse_time_of_day`] reads.
fn any_prefix(line: &str) -> Option<Prefixed<'_>> {
    let padding = line.bytes().take_while(|&b| b == b' ').count();
    let trimmed = line.get(padding..)?;
    let bytes = trimmed.as_bytes();
    // FlexNet writes `h:mm:ss ` or `hh:mm:ss `; a match has no space before its own, so that
    // space is the first one.
    let written = match (bytes.get(7), bytes.get(8)) {
        (Some(b' '), _) => bytes.get(..7).and_then(hh_mm_ss).map(|hms| (hms, 7)),
        (_, Some(b' ')) => bytes.get(..8).and_then(hh_mm_ss).map(|hms| (hms, 8)),
        _ => None,
    };
    let (time, space) = match written {
        Some(((h, m, s), space)) => (NaiveTime::from_hms_opt(h, m, s)?, space),
        None => any_time_of_day(trimmed)?,
    };
    after_time(time, trimmed.get(space + 1..)?)
}

/// `(daemon) message`, after the time and its space.
fn after_time(time: NaiveTime, rest: &str) -> Option<Prefixed<'_>> {
    let b = rest.as_bytes();
    if b.first() != Some(&b'(') {
        return None;
    }
    // The daemon runs to the first `)` and has no space in it.
    let close = next_of(b, 1, [b')', b' ', b')']);
    if close == 1 || b.get(close) != Some(&b')') {
        return None;
    }
    let message_at = match b.get(close + 1) {
        Some(b' ') => close + 2,
        _ => close + 1,
    };
    Some(Prefixed {
        time,
        daemon: rest.get(1..close)?,
        message: rest.get(message_at..)?,
    })
}

/// The general case: the first space ends the time, which is 7 or 8 bytes of what
/// [`parse_time_of_day`] reads (fractions, stray whitespace, ...).
fn any_time_of_day(trimmed: &str) -> Option<(NaiveTime, usize)> {
    let space = trimmed.bytes().take(9).position(|b| b == b' ')?;
    if space < 7 {
        return None;
    }
    Some((parse_time_of_day(trimmed.get(..space)?)?, space))
}

/// The two shapes FlexNet writes, `h:mm:ss` and `hh:mm:ss`, as numbers (not range-checked);
/// None for any other text.
fn hh_mm_ss(t: &[u8]) -> Option<(u32, u32, u32)> {
    let digit = |i: usize| match t.get(i) {
        Some(b) if b.is_ascii_digit() => Some(u32::from(b - b'0')),
        _ => None,
    };
    let (h, at) = match t.len() {
        7 => (digit(0)?, 1),
        8 => (digit(0)? * 10 + digit(1)?, 2),
        _ => return None,
    };
    if t.get(at) != Some(&b':') || t.get(at + 3) != Some(&b':') {
        return None;
    }
    let m = digit(at + 1)? * 10 + digit(at + 2)?;
    let s = digit(at + 4)? * 10 + digit(at + 5)?;
    Some((h, m, s))
}

/// The kind and body of an event message (`OUT: "f" u@h`), None for other messages.
pub(super) fn event_keyword(message: &str) -> Option<(EventKind, &str)> {
    let b = message.as_bytes();
    // Literal prefixes per first byte compile to a compare or two; most lines are not events.
    let (kind, keyword_len) = match b.first()? {
        b'O' if b.starts_with(b"OUT:") => (EventKind::Out, 4),
        b'I' if b.starts_with(b"IN:") => (EventKind::In, 3),
        b'D' if b.starts_with(b"DENIED:") => (EventKind::Denied, 7),
        b'D' if b.starts_with(b"DEQUEUED:") => (EventKind::Dequeued, 9),
        b'Q' if b.starts_with(b"QUEUED:") => (EventKind::Queued, 7),
        b'U' if b.starts_with(b"UNSUPPORTED:") => (EventKind::Unsupported, 12),
        _ => return None,
    };
    Some((kind, trim_start(message.get(keyword_len..)?)))
}

/// `str::trim_start`, quicker for the ASCII spaces FlexNet writes: the Unicode-aware version
/// is only needed when a tab or a non-ASCII byte follows them.
pub(super) fn trim_start(s: &str) -> &str {
    let spaces = s.bytes().take_while(|&b| b == b' ').count();
    let rest = s.get(spaces..).unwrap_or(s);
    match rest.as_bytes().first() {
        Some(b) if !b.is_ascii_graphic() => rest.trim_start(),
        _ => rest,
    }
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
    let rest = skip_unsupported_key(trim_start(rest));
    // pre-v8 `OUT: feature by user`
    let rest = match rest.as_bytes().starts_with(b"by ") {
        true => rest.get(3..)?,
        false => rest,
    };
    let (end, last_at) = user_host_end(rest);
    let user_host = rest.get(..end)?.trim_end();
    if user_host.is_empty() {
        return None;
    }
    // The last `@` before the end is also the last one after trimming: `@` is no whitespace.
    let (user, host) = match last_at {
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
    // Feature names are short: a plain byte loop beats a call into memchr here.
    if let Some(quoted) = body.strip_prefix('"') {
        let close = quoted.bytes().position(|b| b == b'"')?;
        let feature = quoted.get(..close)?;
        return (!feature.is_empty()).then_some((feature, quoted.get(close + 1..)?));
    }
    let end = body
        .bytes()
        .position(|b| b == b' ' || b == b'\t')
        .unwrap_or(body.len());
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
            return trim_start(inner.get(close + 1..).unwrap_or(""));
        }
    }
    rest
}

/// Where the user@host part ends, and the last `@` before that end.
fn user_host_end(rest: &str) -> (usize, Option<usize>) {
    // This runs on every event: one pass that also finds the `@`, skipping eight bytes at a
    // time while they hold no byte that matters (space, tab, `@`).
    let b = rest.as_bytes();
    let mut last_at = None;
    let mut i = 0;
    loop {
        i = next_of(b, i, [b' ', b'\t', b'@']);
        let Some(&byte) = b.get(i) else { break };
        match (byte, b.get(i + 1)) {
            (b'@', _) => last_at = Some(i),
            (b'\t', _) => return (i, last_at),
            (b' ', Some(b' ' | b'(' | b'[')) => return (i, last_at),
            (b' ', Some(b'^')) if b.get(i + 1..).is_some_and(|r| r.starts_with(b"^^^")) => {
                return (i, last_at);
            }
            _ => {}
        }
        i += 1;
    }
    (b.len(), last_at)
}

/// The index of the first of three byte values in `b` at or after `from` (`b.len()` when
/// there is none), eight bytes at a time. SWAR: a byte equal to a wanted one becomes zero and
/// the classic "has a zero byte" test flags it; only the lowest flag is exact (borrows can flag
/// bytes above it), and only it is read.
fn next_of(b: &[u8], from: usize, wanted: [u8; 3]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_where = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut i = from;
    while let Some(word) = b.get(i..i + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
        let w = u64::from_le_bytes(word);
        let found = wanted
            .iter()
            .fold(0, |f, &c| f | zero_where(w ^ (ONES * u64::from(c))));
        if found != 0 {
            return i + found.trailing_zeros() as usize / 8;
        }
        i += 8;
    }
    b.get(i..)
        .and_then(|tail| tail.iter().position(|c| wanted.contains(c)))
        .map_or(b.len(), |at| i + at)
}

/// The groups after user@host: `[cdstring]` (ignored), `(N licenses)`, `(INACTIVE)`, a reason.
fn parse_tail<'a>(mut tail: &'a str, out: &mut Body<'a>) {
    loop {
        tail = trim_start(tail);
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
    let bytes = s.as_bytes();
    let mut i = 0;
    loop {
        // Reasons are long sentences: most of their bytes do not matter here.
        i = next_of(bytes, i, [b'"', b'(', b')']);
        let Some(&b) = bytes.get(i) else { break };
        i += 1;
        match b {
            b'"' => in_quote = !in_quote,
            b'(' if !in_quote => depth += 1,
            b')' if !in_quote => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    // `i` is past the `)` already.
                    return (
                        s.get(1..i - 1).unwrap_or(""),
                        true,
                        s.get(i..).unwrap_or(""),
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
    let group = group.trim();
    // Most groups are reasons: a cheap test first.
    if !group.ends_with(" licenses") && !group.ends_with(" license") {
        return None;
    }
    let (n, word) = group.split_once(' ')?;
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
    fn user_host_end_past_the_first_eight_bytes() {
        // The word-at-a-time scan must find separators and the last `@` in any position.
        let b = body("\"f\" a.very.long.user@name@a.long.host.example.com\t(2 licenses)");
        assert_eq!(
            (b.user, b.host, b.count),
            ("a.very.long.user@name", "a.long.host.example.com", Some(2))
        );
        let b = body("\"f\" no_at_sign_user_but_long  ");
        assert_eq!((b.user, b.host), ("no_at_sign_user_but_long", ""));
        let b = body("\"f\" José Luis Ortega@Plasmon-workstation ^^^ x ^^^");
        assert_eq!(
            (b.user, b.host),
            ("José Luis Ortega", "Plasmon-workstation")
        );
    }

    #[test]
    fn next_of_finds_the_first_wanted_byte_in_any_position() {
        for len in 0..20 {
            for at in 0..=len {
                let mut b = vec![b'x'; len];
                if at < len {
                    b[at] = b'(';
                }
                for from in 0..=len {
                    let naive = (from..len).find(|&i| b[i] == b'(').unwrap_or(len);
                    assert_eq!(
                        next_of(&b, from, [b'"', b'(', b')']),
                        naive,
                        "{len} {at} {from}"
                    );
                }
            }
        }
        // Bytes next to a wanted one (borrows) and high bytes are not taken for it.
        let b = "é\u{80}'*)".as_bytes();
        assert_eq!(next_of(b, 0, [b'"', b'(', b')']), b.len() - 1);
    }

    #[test]
    fn groups_and_counts() {
        assert_eq!(
            paren_group(r#"(No such feature exists. (-5,346)) (x)"#),
            ("No such feature exists. (-5,346)", true, " (x)")
        );
        assert_eq!(paren_group(r#"(a "x)" b) c"#), (r#"a "x)" b"#, true, " c"));
        assert_eq!(
            paren_group("(never closed (-4,342"),
            ("never closed (-4,342", false, "")
        );
        assert_eq!(paren_group(")x"), ("", true, "x"));
        assert_eq!(license_count(" 12 licenses "), Some(12));
        assert_eq!(license_count("1 license"), Some(1));
        assert_eq!(license_count("many licenses"), None);
        assert_eq!(
            license_count("Licensed number of users already reached."),
            None
        );
    }

    #[test]
    fn trim_start_is_str_trim_start() {
        for s in [
            "",
            "   ",
            "  x ",
            "\t x",
            " \u{2003}x",
            "x",
            "  \u{e9}",
            " \u{b}x",
        ] {
            assert_eq!(trim_start(s), s.trim_start(), "{s:?}");
        }
    }

    #[test]
    fn prefix_times_outside_the_common_shapes() {
        let time = |l: &str| split_prefix(l).map(|p| p.time);
        assert_eq!(time("10:15:30 (v) x"), NaiveTime::from_hms_opt(10, 15, 30));
        assert_eq!(time("24:00:00 (v) x"), None);
        assert_eq!(time(" 9:60:00 (v) x"), None);
        // Not `h:mm:ss`/`hh:mm:ss`, but 7 or 8 bytes the general reader takes.
        assert_eq!(time("1:02:03 (v) x"), NaiveTime::from_hms_opt(1, 2, 3));
        assert_eq!(time("\t1:56:00 (v) x"), NaiveTime::from_hms_opt(1, 56, 0));
        assert_eq!(
            time("10:15.5 (v) x"),
            NaiveTime::from_hms_milli_opt(10, 15, 0, 500)
        );
        assert_eq!(time("10:15:30(v) x"), None);
        assert!(split_prefix("10:15:30 (v x) y").is_none());
        // The common shapes, read at fixed positions, agree with the general reader.
        for line in [
            " 9:05:07 (v) m",
            "09:05:07 (v) m",
            "23:59:59 (lmgrd) ",
            " 9:05:07 v",
            "1a:05:07 (v) m",
        ] {
            let fast = common_prefix(line)
                .flatten()
                .map(|p| (p.time, p.daemon, p.message));
            let general = any_prefix(line).map(|p| (p.time, p.daemon, p.message));
            assert_eq!(fast, general, "{line:?}");
        }
        assert!(split_prefix("10:15:30 () y").is_none());
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
