//! One line of an ISV's `license usage status` section.
//!
//! RLM v12+: `converge_super v3.0: jbemfv@myserver.example.com 29/0 at 11/01 09:01  (handle: 15a)`.
//! Older servers (the RLM manual's rlmremove example, v9) put the client version and the handle
//! between host and count: `test3 v1.000: tom@sun1(v1.0) (809f418) 1/0 at 02/06 09:59`.
//!
//! In `N/M`, N is the number of licenses the checkout holds. M is RLM's "res" count: how many of
//! those N come from a reservation (RLM's web interface shows the same pair as the usage columns
//! `count` and `res`). licmon keeps N as the session count; M is parsed but not stored.

use super::lines::strip_v;

#[derive(Debug, PartialEq, Eq)]
pub(super) struct UsageLine<'a> {
    pub product: &'a str,
    pub version: &'a str,
    pub user: &'a str,
    pub host: &'a str,
    pub count: u64,
    pub reserved: u64,
    /// month, day, hour, minute of `at MM/DD HH:MM`, year-less in the server's time zone.
    pub start: Option<(u32, u32, u32, u32)>,
    pub handle: Option<&'a str>,
    pub borrowed: bool,
    pub queued: bool,
}

pub(super) fn usage_line(line: &str) -> Option<UsageLine<'_>> {
    let (head, rest) = line.split_once(": ")?;
    let mut head_words = head.split_whitespace();
    let (product, version) = (head_words.next()?, head_words.next()?);
    if head_words.next().is_some() || !version.starts_with('v') {
        return None;
    }
    let (count_at, count_word) =
        words(rest).find(|&(at, w)| is_count_pair(w) && next_word_is_at(rest, at, w))?;
    let (count, reserved) = count_pair(count_word)?;
    let (who, handle_before) = peel_old_style_groups(rest.get(..count_at)?.trim());
    let (user, host) = who.rsplit_once('@')?;
    let after_count = rest.get(count_at + count_word.len()..)?.trim_start();
    let after_at = after_count.strip_prefix("at")?.trim_start();
    let (start, tail) = start_time(after_at);
    let markers = tail_markers(tail);
    Some(UsageLine {
        product,
        version: strip_v(version),
        user: user.trim(),
        host: host.trim(),
        count,
        reserved,
        start,
        handle: markers.handle.or(handle_before),
        borrowed: markers.borrowed,
        queued: markers.queued,
    })
}

/// Whitespace-separated words with their byte offsets, without allocating.
fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_whitespace()
        .map(move |w| (w.as_ptr() as usize - text.as_ptr() as usize, w))
}

fn is_count_pair(word: &str) -> bool {
    count_pair(word).is_some()
}

fn count_pair(word: &str) -> Option<(u64, u64)> {
    let (n, m) = word.split_once('/')?;
    Some((n.parse().ok()?, m.parse().ok()?))
}

fn next_word_is_at(text: &str, at: usize, word: &str) -> bool {
    text.get(at + word.len()..)
        .and_then(|rest| rest.split_whitespace().next())
        .is_some_and(|w| w == "at")
}

/// `tom@sun1(v1.0) (809f418)` → (`tom@sun1`, handle `809f418`); the client version is dropped.
fn peel_old_style_groups(mut who: &str) -> (&str, Option<&str>) {
    let mut handle = None;
    while who.ends_with(')') {
        let Some(open) = who.rfind('(') else { break };
        let inner = &who[open + 1..who.len() - 1];
        let is_client_version =
            inner.starts_with('v') && inner[1..].starts_with(|c: char| c.is_ascii_digit());
        if !is_client_version && !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_hexdigit()) {
            handle = Some(inner);
        } else if !is_client_version {
            break;
        }
        who = who[..open].trim_end();
    }
    (who, handle)
}

/// `11/01 09:01  (handle: 15a)` → ((11, 1, 9, 1), `(handle: 15a)`).
fn start_time(text: &str) -> (Option<(u32, u32, u32, u32)>, &str) {
    let mut parts = text.splitn(3, char::is_whitespace);
    let (Some(date), Some(time)) = (parts.next(), parts.next()) else {
        return (None, text);
    };
    let tail = parts.next().unwrap_or("");
    let parsed = date
        .split_once('/')
        .zip(time.split_once(':'))
        .and_then(|((mo, d), (h, mi))| {
            Some((
                mo.parse().ok()?,
                d.parse().ok()?,
                h.parse().ok()?,
                mi.parse().ok()?,
            ))
        });
    match parsed {
        Some(start) => (Some(start), tail),
        None => (None, text),
    }
}

#[derive(Default)]
struct Markers<'a> {
    handle: Option<&'a str>,
    borrowed: bool,
    queued: bool,
}

/// The parenthesised groups after the time: `(handle: 15a)`, and for roaming or queued
/// requests a `(roam...)`/`(borrowed)` or `(queued)` marker. `[I: isv-data]` (rlmstat -I) is
/// ignored.
fn tail_markers(tail: &str) -> Markers<'_> {
    let mut markers = Markers::default();
    for group in tail.split('(').skip(1) {
        let inner = group.split(')').next().unwrap_or(group).trim();
        if let Some(handle) = inner.strip_prefix("handle:") {
            markers.handle = Some(handle.trim());
        } else if starts_with_ignore_case(inner, "roam") || starts_with_ignore_case(inner, "borrow")
        {
            markers.borrowed = true;
        } else if starts_with_ignore_case(inner, "queue") {
            markers.queued = true;
        }
    }
    markers
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}
