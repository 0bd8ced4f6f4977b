//! Small text helpers shared by the lmstat parsers. They work on `&str` slices of the input and
//! never allocate.

/// Lines every lmutil prints around the data and that carry nothing to parse: copyright banners
/// (`lmutil - Copyright (c) ...`, `lmstat - Copyright ...`), `lmstat -v`'s version line, the
/// status banner with the client's clock, and lmutil's process-detection notice. (Copyright
/// banners start with the utility's name, `lm...`; testing that first keeps the substring search
/// off the other lines.)
pub(super) fn is_banner(t: &str) -> bool {
    (t.starts_with("lm") && t.contains(" - Copyright"))
        || t == "lmstat"
        || (t.starts_with("lmstat v") && t.contains(" build "))
        || t.starts_with("Flexible License Manager status on")
        || t.starts_with("[Detecting lmgrd processes")
}

/// A version as FlexNet prints it (`v11.16.2`, `v61.9`), without the leading `v`.
pub(super) fn strip_v(version: &str) -> &str {
    version.strip_prefix('v').unwrap_or(version)
}

/// The unsigned number at the start of `s` and what follows it; `None` when `s` does not start
/// with a digit or the number does not fit in a `u64`. (Accumulated by hand: `str::parse` would
/// scan the digits a second time, and this runs several times on every user line.)
pub(super) fn leading_u64(s: &str) -> Option<(u64, &str)> {
    let mut n: u64 = 0;
    let mut len = 0;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            break;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        len += 1;
    }
    if len == 0 {
        return None;
    }
    Some((n, s.get(len..).unwrap_or("")))
}

/// `str::trim_start`. Trimming ASCII whitespace needs no UTF-8 decoding, and when what is left
/// starts with a [`plain_ascii`] byte, that is where `str::trim_start` stops too; anything else
/// (a non-ASCII character may be Unicode whitespace) takes the Unicode path.
pub(super) fn trim_start(s: &str) -> &str {
    let t = s.trim_ascii_start();
    match t.as_bytes().first() {
        Some(&b) if !plain_ascii(b) => t.trim_start(),
        _ => t,
    }
}

/// `str::trim_end`, with the same ASCII fast path as [`trim_start`].
pub(super) fn trim_end(s: &str) -> &str {
    let t = s.trim_ascii_end();
    match t.as_bytes().last() {
        Some(&b) if !plain_ascii(b) => t.trim_end(),
        _ => t,
    }
}

/// `str::trim`, with the same ASCII fast path as [`trim_start`].
pub(super) fn trim(s: &str) -> &str {
    trim_end(trim_start(s))
}

/// ASCII other than the vertical tab: on these bytes `u8::is_ascii_whitespace` and
/// `char::is_whitespace` agree (the vertical tab is whitespace only to the latter).
fn plain_ascii(b: u8) -> bool {
    b.is_ascii() && b != 0x0B
}

/// Where the last `byte` is in `s`. A plain backward loop: the bytes looked for on a user line
/// are a few dozen bytes from where the search starts, too close for `memrchr`'s setup to pay.
pub(super) fn rfind_byte(s: &str, byte: u8) -> Option<usize> {
    s.as_bytes().iter().rposition(|&b| b == byte)
}

/// The `n`th (0-based) word of `s` split like `str::split_whitespace`. Words of printable ASCII
/// between ASCII whitespace are found with two tight byte runs each; a word or gap holding any
/// other byte before word `n` ends (non-ASCII, control characters, the vertical tab, which is
/// whitespace only to `char::is_whitespace`) sends the question down the Unicode path.
pub(super) fn nth_word(s: &str, n: usize) -> Option<&str> {
    let bytes = s.as_bytes();
    let mut at = 0;
    for index in 0..=n {
        let start = at + run_len(bytes, at, |b| b.is_ascii_whitespace());
        let end = start + run_len(bytes, start, |b| b.is_ascii_graphic());
        if bytes.get(end).is_some_and(|b| !b.is_ascii_whitespace()) {
            return s.split_whitespace().nth(n);
        }
        if start == end {
            return None; // the end of `s`
        }
        if index == n {
            return s.get(start..end);
        }
        at = end;
    }
    None
}

/// How many bytes from `from` on satisfy `pred`. (`position` compiles to a tighter loop than
/// `take_while(..).count()`.)
fn run_len(bytes: &[u8], from: usize, pred: impl Fn(u8) -> bool) -> usize {
    let rest = bytes.get(from..).unwrap_or(&[]);
    rest.iter().position(|&c| !pred(c)).unwrap_or(rest.len())
}

/// `s.split_once(needle)` for the short texts and needles of `Users of` lines: a scan for the
/// needle's first byte and a comparison there, cheaper than setting up `str`'s two-way substring
/// searcher on every call. A match of a whole UTF-8 needle always lies on character boundaries.
pub(super) fn split_once_short<'a>(s: &'a str, needle: &str) -> Option<(&'a str, &'a str)> {
    let first = *needle.as_bytes().first()?;
    let bytes = s.as_bytes();
    let mut from = 0;
    while let Some(p) = bytes.get(from..)?.iter().position(|&b| b == first) {
        let at = from + p;
        if bytes.get(at..)?.starts_with(needle.as_bytes()) {
            return Some((s.get(..at)?, s.get(at + needle.len()..)?));
        }
        from = at + 1;
    }
    None
}

/// The lines of `text`, numbered from 1, split at `\n` only: the `\r` of a `\r\n` is left for
/// the caller's trim, and a last empty piece after a final `\n` is a blank line the caller
/// skips, so trimmed non-blank lines and their numbers are those of `str::lines`. It exists
/// because `str::lines` calls `memchr` per line, whose setup costs more than scanning a
/// typical 100-byte line eight bytes at a time.
pub(super) fn numbered_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut rest = Some(text);
    let mut line_no = 0;
    std::iter::from_fn(move || {
        let current = rest?;
        let (line, after) = match find_newline(current.as_bytes()) {
            Some(p) => (current.get(..p)?, current.get(p + 1..)),
            None => (current, None),
        };
        rest = after;
        line_no += 1;
        Some((line_no, line))
    })
}

/// Where the first `\n` of `bytes` is, eight bytes at a time: a byte of `word ^ NEWLINES` is
/// zero where `word` has a newline, and `(x - 0x01..) & !x & 0x80..` marks zero bytes. It can
/// also mark a byte above a zero one (a borrow), never below, so the lowest mark is exact.
fn find_newline(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    const NEWLINES: u64 = u64::from_le_bytes([b'\n'; 8]);
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let word = <[u8; 8]>::try_from(chunk).map_or(0, u64::from_le_bytes) ^ NEWLINES;
        let marks = word.wrapping_sub(ONES) & !word & HIGHS;
        if marks != 0 {
            return Some(offset + marks.trailing_zeros() as usize / 8);
        }
        offset += 8;
    }
    let tail = chunks.remainder().iter().position(|&b| b == b'\n');
    tail.map(|p| offset + p)
}

/// How many `\n` bytes `text` has. Counting into a byte per chunk of at most 255 bytes lets the
/// compiler compare and add 16 bytes at a time.
pub(super) fn count_newlines(text: &str) -> usize {
    text.as_bytes()
        .chunks(255)
        .map(|chunk| {
            let n = chunk
                .iter()
                .fold(0u8, |n, &b| n.wrapping_add(u8::from(b == b'\n')));
            usize::from(n)
        })
        .sum()
}

/// Byte ranges of the words of `s`, split on ASCII spaces and tabs. Splitting on ASCII bytes is
/// UTF-8 safe (they never occur inside a multi-byte character), so garbage bytes in a display
/// name stay inside their word.
pub(super) fn word_ranges(s: &str, out: &mut Vec<(usize, usize)>) {
    out.clear();
    let bytes = s.as_bytes();
    let is_gap = |b: u8| b == b' ' || b == b'\t';
    let mut at = 0;
    loop {
        let start = at + run_len(bytes, at, is_gap);
        if start >= bytes.len() {
            return;
        }
        let end = start + run_len(bytes, start, |b| !is_gap(b));
        out.push((start, end));
        at = end;
    }
}

/// The text from the start of word `first` to the end of word `last` (inclusive), keeping the
/// original spacing between them.
pub(super) fn span<'a>(s: &'a str, words: &[(usize, usize)], first: usize, last: usize) -> &'a str {
    match (words.get(first), words.get(last)) {
        (Some(&(start, _)), Some(&(_, end))) if start <= end => s.get(start..end).unwrap_or(""),
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_spans() {
        let s = "  John Doe\tJohn_D  \"U,K é ";
        let mut w = Vec::new();
        word_ranges(s, &mut w);
        assert_eq!(w.len(), 5);
        assert_eq!(span(s, &w, 0, 1), "John Doe");
        assert_eq!(span(s, &w, 3, 4), "\"U,K é");
        assert_eq!(span(s, &w, 4, 9), "");
    }

    #[test]
    fn numbers() {
        assert_eq!(leading_u64("16 licenses"), Some((16, " licenses")));
        assert_eq!(leading_u64("x"), None);
        assert_eq!(leading_u64("99999999999999999999999"), None);
        assert_eq!(leading_u64("18446744073709551615x"), Some((u64::MAX, "x")));
        assert_eq!(leading_u64("18446744073709551616"), None);
    }

    #[test]
    fn trims_agree_with_std() {
        for s in [
            "",
            " ",
            "\u{b}",
            " a b\t",
            "\u{b} a \u{b}",
            "\u{a0}a\u{3000}",
            " \u{2028}x\u{85} ",
            "é",
            "\r\nx\r\n",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
            assert_eq!(trim_start(s), s.trim_start(), "{s:?}");
            assert_eq!(trim_end(s), s.trim_end(), "{s:?}");
        }
    }

    #[test]
    fn words_agree_with_std() {
        for s in [
            "a b",
            " a\tb c",
            "a\u{b}b",
            "a\u{a0}b c",
            "é  ü",
            "",
            "  ",
            "ab\u{1}c d",
            "a b\u{7f} c",
            "x\u{b} y",
            "a bé c",
        ] {
            for n in 0..4 {
                assert_eq!(nth_word(s, n), s.split_whitespace().nth(n), "{s:?} {n}");
            }
        }
        assert_eq!(rfind_byte("(a)(b)", b'('), Some(3));
    }

    #[test]
    fn lines_agree_with_std() {
        let texts = [
            "",
            "\n",
            "a",
            "a\n",
            "a\r\nb\r\n\r\nc",
            "0123456789abcdef\nx\n\n",
            "é\u{a}\u{b}\u{a}\nz123456789\n01234567",
            "\n\x0b\n\x0b\x0b\n",
        ];
        for text in texts {
            let ours: Vec<_> = numbered_lines(text)
                .map(|(n, l)| (n, l.trim()))
                .filter(|(_, l)| !l.is_empty())
                .collect();
            let std: Vec<_> = text
                .lines()
                .enumerate()
                .map(|(i, l)| (i + 1, l.trim()))
                .filter(|(_, l)| !l.is_empty())
                .collect();
            assert_eq!(ours, std, "{text:?}");
            assert_eq!(count_newlines(text), text.matches('\n').count(), "{text:?}");
        }
        let long = "x\n".repeat(300);
        assert_eq!(count_newlines(&long), 300);
        assert_eq!(numbered_lines(&long).count(), 301);
        assert_eq!(rfind_byte("ab", b'('), None);
        for (s, needle) in [
            ("x:  (Total of 5 licenses", "Total of "),
            ("TTotal oTotal of 1", "Total of "),
            ("é Total of", "Total of "),
            ("Total o", "Total of "),
            ("", "in use"),
            ("a", ""),
        ] {
            assert_eq!(
                split_once_short(s, needle),
                s.split_once(needle).filter(|_| !needle.is_empty()),
                "{s:?}"
            );
        }
    }
}
