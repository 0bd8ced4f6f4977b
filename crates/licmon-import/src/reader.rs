//! Lines of a file, in constant memory: the file is read in blocks of whole lines, each block
//! is checked for UTF-8 and NUL bytes once, and lines are handed out as slices of the block (no
//! copy per line). A cap on the length of a line, and the byte offset of every line start (the
//! checkpoint's resume point).

use std::borrow::Cow;
use std::io::{self, Read};

/// How much is read at a time: big enough that a block holds thousands of lines, small enough
/// to stay in the CPU's caches while it is parsed.
const BLOCK_BYTES: usize = 256 * 1024;

/// One line, without its terminator (`\n`; a `\r` before it is left to the parsers).
pub struct Line<'a> {
    /// The line as text: borrowed when it is valid UTF-8, else with U+FFFD for the bad bytes.
    pub text: Cow<'a, str>,
    /// 1-based.
    pub number: u64,
    /// Byte offset of the line's first byte.
    pub start: u64,
    /// False for a last line with no `\n` (a truncated file, or a live log mid-write).
    pub terminated: bool,
    /// The line holds a NUL byte (binary data).
    pub nul: bool,
}

#[derive(Debug)]
pub enum ReadError {
    Io(io::Error),
    /// A line longer than the cap: its number and the offset it starts at.
    TooLong(u64, u64),
}

/// Whole lines read from the file. Text when they are all valid UTF-8 (checked once for the
/// block, so a line is then a plain slice), bytes otherwise.
enum Block {
    Text(String),
    Bytes(Vec<u8>),
}

impl Block {
    fn bytes(&self) -> &[u8] {
        match self {
            Block::Text(s) => s.as_bytes(),
            Block::Bytes(b) => b,
        }
    }

    fn into_bytes(self) -> Vec<u8> {
        match self {
            Block::Text(s) => s.into_bytes(),
            Block::Bytes(b) => b,
        }
    }
}

pub struct LineReader<R> {
    inner: R,
    block: Block,
    /// Where the next line starts in the block.
    pos: usize,
    /// The first NUL byte at or after `pos`, if the block has one.
    nul_at: Option<usize>,
    /// Bytes read after the block's last `\n`: the start of the next block.
    tail: Vec<u8>,
    eof: bool,
    block_bytes: usize,
    max_line: usize,
    /// Offset of the next line's start.
    offset: u64,
    line_no: u64,
}

impl<R: Read> LineReader<R> {
    /// `offset`/`line_no`: where `inner` is positioned (0/0 for a file's start).
    pub fn new(inner: R, max_line: usize, offset: u64, line_no: u64) -> Self {
        Self::with_block_size(inner, max_line, offset, line_no, BLOCK_BYTES)
    }

    fn with_block_size(
        inner: R,
        max_line: usize,
        offset: u64,
        line_no: u64,
        block_bytes: usize,
    ) -> Self {
        Self {
            inner,
            block: Block::Text(String::new()),
            pos: 0,
            nul_at: None,
            tail: Vec::new(),
            eof: false,
            block_bytes: block_bytes.max(1),
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
        if self.pos >= self.block.bytes().len() {
            if self.eof {
                return Ok(None);
            }
            self.fill()?;
            if self.block.bytes().is_empty() {
                return Ok(None);
            }
        }
        let start = self.pos;
        let bytes = self.block.bytes();
        let (end, terminated) = match memchr::memchr(b'\n', &bytes[start..]) {
            Some(i) => (start + i, true),
            // Only the last line of a file (read to its end) has no `\n`.
            None => (bytes.len(), false),
        };
        if end - start > self.max_line {
            return Err(ReadError::TooLong(self.line_no + 1, self.offset));
        }
        let nul = match self.nul_at {
            Some(at) if at < end => {
                self.nul_at = memchr::memchr(0, &bytes[end..]).map(|i| end + i);
                true
            }
            _ => false,
        };
        let next = end + usize::from(terminated);
        let line_start = self.offset;
        self.pos = next;
        self.offset += (next - start) as u64;
        self.line_no += 1;
        let text = match &self.block {
            // Both ends are next to a `\n` or at the block's ends: char boundaries.
            Block::Text(s) => Cow::Borrowed(s.get(start..end).unwrap_or_default()),
            Block::Bytes(b) => String::from_utf8_lossy(&b[start..end]),
        };
        Ok(Some(Line {
            text,
            number: self.line_no,
            start: line_start,
            terminated,
            nul,
        }))
    }

    /// Replace the used-up block with the next one: the tail of the last read plus what the
    /// file has next, up to the last `\n` (everything at the end of the file).
    fn fill(&mut self) -> Result<(), ReadError> {
        let mut bytes = std::mem::replace(&mut self.block, Block::Bytes(Vec::new())).into_bytes();
        bytes.clear();
        bytes.extend_from_slice(&self.tail);
        self.tail.clear();
        self.pos = 0;
        // Until the block holds a `\n` (or the file ends): a line may be longer than a block.
        let mut searched = 0;
        let cut = loop {
            let want = self.block_bytes.max(bytes.len());
            bytes.reserve(want);
            let read = loop {
                match (&mut self.inner).take(want as u64).read_to_end(&mut bytes) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(ReadError::Io(e)),
                }
            };
            if read == 0 {
                self.eof = true;
                break bytes.len();
            }
            if let Some(last) = memchr::memrchr(b'\n', &bytes[searched..]) {
                break searched + last + 1;
            }
            searched = bytes.len();
            if bytes.len() > self.max_line {
                return Err(ReadError::TooLong(self.line_no + 1, self.offset));
            }
        };
        self.tail.extend_from_slice(&bytes[cut..]);
        bytes.truncate(cut);
        self.nul_at = memchr::memchr(0, &bytes);
        self.block = match String::from_utf8(bytes) {
            Ok(text) => Block::Text(text),
            Err(e) => Block::Bytes(e.into_bytes()),
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Seen = (String, u64, u64, bool, bool);

    fn read_all(data: &[u8], max_line: usize, block: usize) -> (Vec<Seen>, u64) {
        let mut r = LineReader::with_block_size(data, max_line, 0, 0, block);
        let mut seen = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            seen.push((l.text.into_owned(), l.number, l.start, l.terminated, l.nul));
        }
        (seen, r.offset())
    }

    #[test]
    fn lines_offsets_and_the_cap() {
        let data = b"ab\r\n\ncd\nlast";
        for block in [1, 2, 3, 5, 64] {
            let (seen, offset) = read_all(data, 8, block);
            let l = |t: &str, n, s, end| (t.to_owned(), n, s, end, false);
            assert_eq!(
                seen,
                vec![
                    l("ab\r", 1, 0, true),
                    l("", 2, 4, true),
                    l("cd", 3, 5, true),
                    l("last", 4, 8, false),
                ],
                "block {block}"
            );
            assert_eq!(offset, data.len() as u64);
        }
        for block in [1, 4, 64] {
            let long = b"ok\n0123456789\n";
            let mut r = LineReader::with_block_size(&long[..], 8, 0, 0, block);
            assert_eq!(r.next_line().unwrap().unwrap().text, "ok");
            assert!(
                matches!(r.next_line(), Err(ReadError::TooLong(2, 3))),
                "block {block}"
            );
        }
        // Exactly at the cap is fine; the cap does not count the terminator.
        let (seen, _) = read_all(b"01234567\n", 8, 4);
        assert_eq!(seen.len(), 1);
    }

    #[test]
    fn bad_utf8_and_nul_bytes_are_per_line() {
        let data = b"caf\xc3\xa9\nbad \xff byte\nnul\0here\nok\nnul\0again";
        for block in [1, 3, 7, 64] {
            let (seen, _) = read_all(data, 64, block);
            let got: Vec<_> = seen.iter().map(|s| (s.0.as_str(), s.4)).collect();
            assert_eq!(
                got,
                vec![
                    ("café", false),
                    ("bad \u{fffd} byte", false),
                    ("nul\0here", true),
                    ("ok", false),
                    ("nul\0again", true),
                ],
                "block {block}"
            );
        }
        // A multi-byte character split by a read boundary stays one character.
        let (seen, _) = read_all("é\né".as_bytes(), 64, 1);
        assert_eq!(seen[0].0, "é");
        assert_eq!(seen[1].0, "é");
    }
}
