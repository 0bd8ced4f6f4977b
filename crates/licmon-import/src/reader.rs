//! Lines of a file as bytes, in constant memory: one reusable buffer, a cap on the length of a
//! line, and the byte offset of every line start (the checkpoint's resume point).

use std::io::{self, BufRead};

/// One line, without its terminator (`\n`; a `\r` before it is left to the parsers).
pub struct Line<'a> {
    pub bytes: &'a [u8],
    /// 1-based.
    pub number: u64,
    /// Byte offset of the line's first byte.
    pub start: u64,
    /// False for a last line with no `\n` (a truncated file, or a live log mid-write).
    pub terminated: bool,
}

#[derive(Debug)]
pub enum ReadError {
    Io(io::Error),
    /// A line longer than the cap: its number and the offset it starts at.
    TooLong(u64, u64),
}

pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    max_line: usize,
    /// Offset of the next line's start.
    offset: u64,
    line_no: u64,
}

impl<R: BufRead> LineReader<R> {
    /// `offset`/`line_no`: where `inner` is positioned (0/0 for a file's start).
    pub fn new(inner: R, max_line: usize, offset: u64, line_no: u64) -> Self {
        Self {
            inner,
            buf: Vec::with_capacity(256),
            max_line,
            offset,
            line_no,
        }
    }

    pub fn offset(&self) -> u64 {
        self.offset
    }

    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    pub fn next_line(&mut self) -> Result<Option<Line<'_>>, ReadError> {
        self.buf.clear();
        let start = self.offset;
        let mut terminated = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ReadError::Io(e)),
            };
            if available.is_empty() {
                break;
            }
            let (take, found) = match memchr::memchr(b'\n', available) {
                Some(i) => (i, true),
                None => (available.len(), false),
            };
            if self.buf.len() + take > self.max_line {
                return Err(ReadError::TooLong(self.line_no + 1, start));
            }
            self.buf.extend_from_slice(&available[..take]);
            let consumed = take + usize::from(found);
            self.inner.consume(consumed);
            self.offset += consumed as u64;
            if found {
                terminated = true;
                break;
            }
        }
        if !terminated && self.buf.is_empty() {
            return Ok(None);
        }
        self.line_no += 1;
        Ok(Some(Line {
            bytes: &self.buf,
            number: self.line_no,
            start,
            terminated,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_offsets_and_the_cap() {
        let data = b"ab\r\n\ncd\nlast";
        let mut r = LineReader::new(io::BufReader::with_capacity(3, &data[..]), 8, 0, 0);
        let mut seen = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            seen.push((l.bytes.to_vec(), l.number, l.start, l.terminated));
        }
        assert_eq!(
            seen,
            vec![
                (b"ab\r".to_vec(), 1, 0, true),
                (b"".to_vec(), 2, 4, true),
                (b"cd".to_vec(), 3, 5, true),
                (b"last".to_vec(), 4, 8, false),
            ]
        );
        assert_eq!(r.offset(), data.len() as u64);
        let long = b"0123456789\n";
        let mut r = LineReader::new(&long[..], 8, 0, 0);
        assert!(matches!(r.next_line(), Err(ReadError::TooLong(1, 0))));
    }
}
