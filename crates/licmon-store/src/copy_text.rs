//! Rows in PostgreSQL's COPY text format (`COPY … FROM STDIN`, the default format): fields
//! separated by a tab, rows ended by a newline, NULL as `\N`, and in text a backslash, tab,
//! newline and carriage return written as `\\`, `\t`, `\n`, `\r`. Names from license-server logs
//! may hold any of them, so every text field goes through [`CopyRows::text`].

use crate::{StoreError, StoreResult};

/// A buffer of COPY text rows.
#[derive(Default)]
pub(crate) struct CopyRows {
    bytes: Vec<u8>,
    /// No field of the current row written yet (the next one needs no tab before it).
    row_start: bool,
}

impl CopyRows {
    pub(crate) fn new() -> Self {
        Self {
            bytes: Vec::new(),
            row_start: true,
        }
    }

    fn separate(&mut self) {
        if !std::mem::replace(&mut self.row_start, false) {
            self.bytes.push(b'\t');
        }
    }

    /// A text field, escaped. PostgreSQL text cannot hold NUL, which is refused here with a
    /// message rather than by the server halfway through the COPY.
    pub(crate) fn text(&mut self, value: &str) -> StoreResult<&mut Self> {
        self.separate();
        // The characters to escape are ASCII, so they never occur inside a multi-byte UTF-8
        // sequence: the bytes between them are copied whole.
        let mut plain = 0;
        for (i, b) in value.bytes().enumerate() {
            let escaped: &[u8] = match b {
                b'\\' => b"\\\\",
                b'\t' => b"\\t",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                0 => {
                    return Err(StoreError::Unavailable(
                        "a NUL character cannot be stored in PostgreSQL text (an imported name)"
                            .into(),
                    ));
                }
                _ => continue,
            };
            self.bytes.extend_from_slice(&value.as_bytes()[plain..i]);
            self.bytes.extend_from_slice(escaped);
            plain = i + 1;
        }
        self.bytes.extend_from_slice(&value.as_bytes()[plain..]);
        Ok(self)
    }

    pub(crate) fn opt_text(&mut self, value: Option<&str>) -> StoreResult<&mut Self> {
        match value {
            Some(v) => self.text(v),
            None => Ok(self.null()),
        }
    }

    pub(crate) fn int(&mut self, value: i64) -> &mut Self {
        use std::io::Write;
        self.separate();
        // Writing to a Vec cannot fail.
        let _ = write!(self.bytes, "{value}");
        self
    }

    pub(crate) fn opt_int(&mut self, value: Option<i64>) -> &mut Self {
        match value {
            Some(v) => self.int(v),
            None => self.null(),
        }
    }

    pub(crate) fn bool(&mut self, value: bool) -> &mut Self {
        self.separate();
        self.bytes.push(if value { b't' } else { b'f' });
        self
    }

    fn null(&mut self) -> &mut Self {
        self.separate();
        self.bytes.extend_from_slice(b"\\N");
        self
    }

    pub(crate) fn end_row(&mut self) {
        self.bytes.push(b'\n');
        self.row_start = true;
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PostgreSQL's reading of one text row (the escapes [`CopyRows`] writes), to check that
    /// what is written reads back as it went in.
    fn parse_row(line: &str) -> Vec<Option<String>> {
        line.split('\t')
            .map(|field| {
                if field == "\\N" {
                    return None;
                }
                let mut out = String::new();
                let mut chars = field.chars();
                while let Some(c) = chars.next() {
                    if c != '\\' {
                        out.push(c);
                        continue;
                    }
                    match chars.next() {
                        Some('\\') => out.push('\\'),
                        Some('t') => out.push('\t'),
                        Some('n') => out.push('\n'),
                        Some('r') => out.push('\r'),
                        other => panic!("unexpected escape \\{other:?} in {field:?}"),
                    }
                }
                Some(out)
            })
            .collect()
    }

    fn rows(bytes: Vec<u8>) -> Vec<Vec<Option<String>>> {
        let text = String::from_utf8(bytes).unwrap();
        let body = text.strip_suffix('\n').expect("rows end with a newline");
        body.split('\n').map(parse_row).collect()
    }

    #[test]
    fn names_with_separators_and_escapes_are_escaped() {
        let mut r = CopyRows::new();
        r.text("a\tb").unwrap();
        r.text("c\\d").unwrap();
        r.text("e\nf\rg").unwrap();
        r.text("\\N").unwrap();
        r.opt_text(None).unwrap();
        r.int(-42).opt_int(None).bool(true).bool(false);
        r.end_row();
        assert_eq!(
            String::from_utf8(r.into_bytes()).unwrap(),
            "a\\tb\tc\\\\d\te\\nf\\rg\t\\\\N\t\\N\t-42\t\\N\tt\tf\n"
        );
    }

    #[test]
    fn any_name_reads_back_as_written() {
        let names = [
            "",
            "plain",
            "tab\there",
            "back\\slash",
            "trailing\\",
            "\\t literally",
            "new\nline",
            "carriage\r\nreturn",
            "\\N",
            "\\.",
            "quote\"and'apostrophe",
            "Jürgen Ærø 名前 🚀",
            "\u{7f}\u{1}\u{b}\u{c}",
        ];
        let mut r = CopyRows::new();
        for (i, name) in names.iter().enumerate() {
            r.int(i as i64)
                .text(name)
                .unwrap()
                .opt_text(Some(name))
                .unwrap();
            r.opt_text(None).unwrap();
            r.end_row();
        }
        let read = rows(r.into_bytes());
        assert_eq!(read.len(), names.len());
        for (i, (row, name)) in read.iter().zip(names).enumerate() {
            let expected = vec![
                Some(i.to_string()),
                Some(name.to_string()),
                Some(name.to_string()),
                None,
            ];
            assert_eq!(row, &expected, "row {i}");
        }
    }

    #[test]
    fn a_nul_character_is_refused() {
        let mut r = CopyRows::new();
        let err = r.text("bad\0name").err().expect("NUL is refused");
        assert!(err.to_string().contains("NUL"), "{err}");
    }
}
