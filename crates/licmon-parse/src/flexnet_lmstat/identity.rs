//! Who holds a checkout: the words before `(v...)` on an lmstat user line.
//!
//! FlexNet prints `user host display` separated by single spaces and does not quote anything,
//! so a user name with spaces (`John Doe`), a display with spaces or garbage bytes, or an extra
//! fourth word (Synopsys `lc80a28012593569_1`, `feature=test_feature`) all look alike. With three
//! words or fewer the reading is fixed (`user host [display]`). With more, these rules, in
//! order, find the host; the user is every word before it:
//!
//! 1. **A recognisable display**: the first word from the third on that starts with `/`
//!    (`/dev/tty`, `/dev/pts/0`), contains `:` (`host-01:0.0`), or repeats the word before it
//!    (Windows prints the computer name as display: `SERVER000020 SERVER000020`), and is made
//!    of plain characters. The word before it is the host; words after it are extra words
//!    that are dropped.
//! 2. **A garbage display**: the first word from the third on that holds characters no host,
//!    user or terminal name has (quotes, `|`, `<`, `$`, non-ASCII, ...). It and everything after
//!    it is the display; the word before it is the host (`John Doe John_D "U,K$... iQw...`).
//! 3. Otherwise `user host display` and the rest are extra words.

use super::text::span;

pub(super) struct Identity<'a> {
    pub user: &'a str,
    pub host: &'a str,
    pub display: Option<&'a str>,
}

/// Splits the words (`words`, byte ranges into `prefix`) into user, host and display; `None`
/// when there are fewer than two words.
pub(super) fn split_identity<'a>(
    prefix: &'a str,
    words: &[(usize, usize)],
) -> Option<Identity<'a>> {
    let word = |i: usize| span(prefix, words, i, i);
    let n = words.len();
    if n < 2 {
        return None;
    }
    if n <= 3 {
        return Some(Identity {
            user: word(0),
            host: word(1),
            display: (n == 3).then(|| word(2)),
        });
    }
    let recognisable = (2..n).find(|&i| is_recognisable_display(word(i), word(i - 1)));
    if let Some(d) = recognisable {
        return Some(Identity {
            user: span(prefix, words, 0, d - 2),
            host: word(d - 1),
            display: Some(word(d)),
        });
    }
    if let Some(g) = (2..n).find(|&i| !is_plain(word(i))) {
        return Some(Identity {
            user: span(prefix, words, 0, g - 2),
            host: word(g - 1),
            display: Some(span(prefix, words, g, n - 1)),
        });
    }
    Some(Identity {
        user: word(0),
        host: word(1),
        display: Some(word(2)),
    })
}

fn is_recognisable_display(word: &str, before: &str) -> bool {
    is_plain(word)
        && is_plain(before)
        && (word.starts_with('/') || word.contains(':') || word.eq_ignore_ascii_case(before))
}

/// Characters of host names, user names, terminals, X displays and the extra `key=value` words.
fn is_plain(word: &str) -> bool {
    word.bytes().all(|b| {
        b.is_ascii_alphanumeric()
            || matches!(b, b'.' | b'_' | b'-' | b':' | b'/' | b'=' | b'@' | b'+')
    })
}

#[cfg(test)]
mod tests {
    use super::super::text::word_ranges;
    use super::*;

    fn split(prefix: &str) -> (String, String, Option<String>) {
        let mut w = Vec::new();
        word_ranges(prefix, &mut w);
        let id = split_identity(prefix, &w).unwrap_or(Identity {
            user: "?",
            host: "?",
            display: None,
        });
        (id.user.into(), id.host.into(), id.display.map(Into::into))
    }

    fn t(u: &str, h: &str, d: Option<&str>) -> (String, String, Option<String>) {
        (u.into(), h.into(), d.map(Into::into))
    }

    #[test]
    fn plain_forms() {
        assert_eq!(
            split("user1 server9 /dev/tty"),
            t("user1", "server9", Some("/dev/tty"))
        );
        assert_eq!(split("user2 host-01"), t("user2", "host-01", None));
        assert_eq!(split("a b c d"), t("a", "b", Some("c")));
    }

    #[test]
    fn extra_fourth_word_is_dropped() {
        assert_eq!(
            split("usbn12 p-c94.com /dev/tty feature=test_feature"),
            t("usbn12", "p-c94.com", Some("/dev/tty"))
        );
        assert_eq!(
            split("user1 host-01 host-01:0.0 lc80a28012593569_1"),
            t("user1", "host-01", Some("host-01:0.0"))
        );
    }

    #[test]
    fn user_names_with_spaces() {
        assert_eq!(
            split("John Doe John_D \"U,K$`Ct`0'\"C iQwgGsne<&!"),
            t("John Doe", "John_D", Some("\"U,K$`Ct`0'\"C iQwgGsne<&!"))
        );
        assert_eq!(
            split("Jane  Q Public PC7 PC7"),
            t("Jane  Q Public", "PC7", Some("PC7"))
        );
    }

    #[test]
    fn too_few_words() {
        let mut w = Vec::new();
        word_ranges("alone", &mut w);
        assert!(split_identity("alone", &w).is_none());
    }
}
