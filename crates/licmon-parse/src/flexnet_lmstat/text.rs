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
/// with a digit or the number does not fit in a `u64`.
pub(super) fn leading_u64(s: &str) -> Option<(u64, &str)> {
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    let n = s.get(..end)?.parse().ok()?;
    Some((n, s.get(end..).unwrap_or("")))
}

/// Byte ranges of the words of `s`, split on ASCII spaces and tabs. Splitting on ASCII bytes is
/// UTF-8 safe (they never occur inside a multi-byte character), so garbage bytes in a display
/// name stay inside their word.
pub(super) fn word_ranges(s: &str, out: &mut Vec<(usize, usize)>) {
    out.clear();
    let mut start = None;
    for (i, b) in s.bytes().enumerate() {
        let space = b == b' ' || b == b'\t';
        match (start, space) {
            (None, false) => start = Some(i),
            (Some(st), true) => {
                out.push((st, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push((st, s.len()));
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
    }
}
