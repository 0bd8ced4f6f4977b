//! How fast can a FlexNet debug log be parsed at all on this machine? Issue 4 asks for parsing
//! within 3× of `wc -l`; this bench puts licmon's parser next to two *floors*: field extractors
//! that do the least any parser must do — find each line, read the time of day, the keyword,
//! the quoted feature and user@host, and copy those into an event batch — and nothing else (no
//! date, no time zone, no UTF-8 or NUL check, no continuation lines, no diagnostics, no
//! checkpoint). They are wrong on real logs; they are only a measure of the cost of the work.
//!
//! - `floor, bytes`: byte loops, like any straightforward parser.
//! - `floor, AVX2`: the simdjson way — every 64 bytes are classified with AVX2 into bit masks
//!   (newline, `)`, `"`, `@`, space) first, then fields are found with bit arithmetic, without
//!   a branch per byte. Also run on two threads, each on half of the file.
//!
//! Run: `cargo bench -p licmon-import --bench parse_floor` (1 GB; `LICMON_BENCH_BYTES` to change).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Instant;

use licmon_parse::LogFormat;

/// Bytes read at a time, like the importer's reader.
const BLOCK: usize = 256 * 1024;

/// What a floor extractor keeps per event: the fields as ranges of its arena.
#[derive(Clone, Copy)]
struct Event {
    kind: u8,
    second_of_day: u32,
    feature: (u32, u32),
    user: (u32, u32),
    host: (u32, u32),
}

/// A batch like the importer's: events plus one arena for their text, cleared every 4,096.
/// Before it is cleared its events are folded into a checksum (read, as a consumer would, and
/// compared between the floors: they must extract the same fields).
#[derive(Default)]
struct Batch {
    arena: Vec<u8>,
    events: Vec<Event>,
    total: u64,
    checksum: u64,
}

impl Batch {
    /// `body` starts at the feature's opening quote; the offsets are into `body`.
    fn push(&mut self, kind: u8, second_of_day: u32, body: &[u8], close: usize, at: usize) {
        let base = self.arena.len() as u32;
        self.arena.extend_from_slice(&body[1..]);
        let (close, at, end) = (close as u32, at as u32, body.len() as u32);
        self.events.push(Event {
            kind,
            second_of_day,
            feature: (base, base + close - 1),
            user: (base + close + 1, base + at - 1),
            host: (base + at, base + end - 1),
        });
        if self.events.len() >= 4096 {
            self.flush();
        }
    }

    fn flush(&mut self) {
        for e in &self.events {
            // Constant work per event (lengths and first bytes), so that the floor stays a
            // floor: licmon's parser is timed without reading its events either.
            let text = |(from, to): (u32, u32)| {
                let first = self.arena.get(from as usize).copied().unwrap_or(0);
                u64::from(to - from) << 8 | u64::from(first)
            };
            let fields = [
                u64::from(e.kind),
                u64::from(e.second_of_day),
                text(e.feature),
                text(e.user),
                text(e.host),
            ];
            // A sum of per-event hashes: the halves of a two-thread run add up to the whole.
            let event = fields.iter().fold(0u64, |h, &f| h.rotate_left(7) ^ f);
            self.checksum = self.checksum.wrapping_add(event);
        }
        self.total += self.events.len() as u64;
        self.events.clear();
        self.arena.clear();
    }

    fn finish(&mut self, lines: u64) -> Tally {
        self.flush();
        Tally {
            lines,
            events: self.total,
            checksum: self.checksum,
        }
    }
}

/// `hh:mm:ss (` or ` h:mm:ss (` → the second of the day (digits not checked: a floor).
fn time_prefix(line: &[u8]) -> Option<u32> {
    if line.len() < 12 || line[2] != b':' || line[5] != b':' || line[8] != b' ' || line[9] != b'(' {
        return None;
    }
    let d = |c: u8| u32::from(c.wrapping_sub(b'0'));
    let hour = if line[0] == b' ' {
        d(line[1])
    } else {
        d(line[0]) * 10 + d(line[1])
    };
    Some(hour * 3600 + (d(line[3]) * 10 + d(line[4])) * 60 + d(line[6]) * 10 + d(line[7]))
}

/// The keyword after `(daemon) ` and its length with the space after it.
fn keyword(message: &[u8]) -> Option<(u8, usize)> {
    match message.first()? {
        b'O' if message.starts_with(b"OUT: ") => Some((0, 5)),
        b'I' if message.starts_with(b"IN: ") => Some((1, 4)),
        b'D' if message.starts_with(b"DENIED: ") => Some((2, 8)),
        b'Q' if message.starts_with(b"QUEUED: ") => Some((3, 8)),
        _ => None,
    }
}

fn find(b: &[u8], from: usize, c: u8) -> Option<usize> {
    b.get(from..)?
        .iter()
        .position(|&x| x == c)
        .map(|p| p + from)
}

/// The byte-loop floor on one line.
fn bytes_line(line: &[u8], out: &mut Batch) {
    let Some(second) = time_prefix(line) else {
        return;
    };
    let Some(paren) = find(line, 10, b')') else {
        return;
    };
    let message = line.get(paren + 2..).unwrap_or_default();
    let Some((kind, len)) = keyword(message) else {
        return;
    };
    let body = &message[len..];
    if body.first() != Some(&b'"') {
        return;
    }
    let Some(close) = find(body, 1, b'"') else {
        return;
    };
    let Some(at) = find(body, close + 2, b'@') else {
        return;
    };
    let end = find(body, at, b' ').unwrap_or(body.len());
    out.push(kind, second, &body[..end], close, at);
}

/// Byte classes the AVX2 floor marks, in mask order.
const CLASSES: [u8; 5] = [b'\n', b')', b'"', b'@', b' '];
const NEWLINE: usize = 0;
const PAREN: usize = 1;
const QUOTE: usize = 2;
const AT: usize = 3;
const SPACE: usize = 4;
type Masks = [u64; CLASSES.len()];

/// Bit masks of every class for every 64 bytes of `b` (the last, partial word included).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn classify_avx2(b: &[u8], out: &mut Vec<Masks>) {
    use std::arch::x86_64::*;
    out.clear();
    let wanted = CLASSES.map(|c| _mm256_set1_epi8(c as i8));
    let mut chunks = b.chunks_exact(64);
    for chunk in &mut chunks {
        // SAFETY: `chunk` is 64 bytes; unaligned loads of 32 bytes at 0 and 32.
        let (lo, hi) = unsafe {
            let p = chunk.as_ptr().cast::<__m256i>();
            (_mm256_loadu_si256(p), _mm256_loadu_si256(p.add(1)))
        };
        out.push(wanted.map(|w| {
            let lo = _mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, w)) as u32;
            let hi = _mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, w)) as u32;
            u64::from(lo) | (u64::from(hi) << 32)
        }));
    }
    let mut last = [0; CLASSES.len()];
    for (i, &byte) in chunks.remainder().iter().enumerate() {
        for (mask, &c) in last.iter_mut().zip(&CLASSES) {
            *mask |= u64::from(byte == c) << i;
        }
    }
    out.push(last);
}

/// The first byte of class `k` at or after `pos` within the next 64–128 bytes (fields are
/// shorter), found in a two-word window without a loop.
fn next_in(masks: &[Masks], k: usize, pos: usize) -> Option<usize> {
    let word = pos / 64;
    let low = u128::from(masks.get(word)?[k]);
    let high = u128::from(masks.get(word + 1).map_or(0, |m| m[k]));
    let window = (low | (high << 64)) >> (pos % 64);
    (window != 0).then(|| pos + window.trailing_zeros() as usize)
}

/// The AVX2 floor on the line `buf[start..end]`.
fn masked_line(buf: &[u8], masks: &[Masks], start: usize, end: usize, out: &mut Batch) {
    let Some(second) = time_prefix(&buf[start..end]) else {
        return;
    };
    let Some(paren) = next_in(masks, PAREN, start + 10).filter(|&p| p < end) else {
        return;
    };
    let message = buf.get(paren + 2..end).unwrap_or_default();
    let Some((kind, len)) = keyword(message) else {
        return;
    };
    let body_at = paren + 2 + len;
    if buf.get(body_at) != Some(&b'"') {
        return;
    }
    let Some(close) = next_in(masks, QUOTE, body_at + 1).filter(|&p| p < end) else {
        return;
    };
    let Some(at) = next_in(masks, AT, close + 2).filter(|&p| p < end) else {
        return;
    };
    let body_end = next_in(masks, SPACE, at).map_or(end, |s| s.min(end));
    out.push(
        kind,
        second,
        &buf[body_at..body_end],
        close - body_at,
        at - body_at,
    );
}

#[derive(Clone, Copy, PartialEq)]
enum Floor {
    Bytes,
    Avx2,
}

/// What a floor saw.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Tally {
    lines: u64,
    events: u64,
    checksum: u64,
}

/// Runs a floor over `from..to` of the file (line-aligned).
fn floor(path: &Path, from: u64, to: u64, how: Floor) -> Tally {
    let mut file = File::open(path).expect("open");
    file.seek(SeekFrom::Start(from)).expect("seek");
    let mut file = file.take(to - from);
    let mut buf = vec![0u8; BLOCK];
    let mut masks = Vec::with_capacity(BLOCK / 64 + 1);
    let (mut filled, mut lines, mut batch) = (0, 0u64, Batch::default());
    loop {
        let n = file.read(&mut buf[filled..]).expect("read");
        if n == 0 {
            break;
        }
        filled += n;
        let Some(whole) = memchr::memrchr(b'\n', &buf[..filled]).map(|p| p + 1) else {
            continue;
        };
        let block = &buf[..whole];
        match how {
            Floor::Bytes => {
                for line in block[..whole - 1].split(|&b| b == b'\n') {
                    lines += 1;
                    bytes_line(line, &mut batch);
                }
            }
            Floor::Avx2 => {
                // SAFETY: only chosen when the CPU has AVX2 (see `main`).
                #[cfg(target_arch = "x86_64")]
                unsafe {
                    classify_avx2(block, &mut masks)
                };
                let mut start = 0;
                for (w, m) in masks.iter().enumerate() {
                    let mut newlines = m[NEWLINE];
                    while newlines != 0 {
                        let end = w * 64 + newlines.trailing_zeros() as usize;
                        newlines &= newlines - 1;
                        lines += 1;
                        masked_line(block, &masks, start, end, &mut batch);
                        start = end + 1;
                    }
                }
            }
        }
        buf.copy_within(whole..filled, 0);
        filled -= whole;
    }
    batch.finish(lines)
}

/// The two floors on two threads, each on half the file (split after a newline).
fn floor_two_threads(path: &Path, how: Floor) -> Tally {
    let len = std::fs::metadata(path).expect("stat").len();
    let mut file = File::open(path).expect("open");
    file.seek(SeekFrom::Start(len / 2)).expect("seek");
    let mut probe = vec![0u8; 64 * 1024];
    let n = file.read(&mut probe).expect("read");
    let mid = len / 2 + memchr::memchr(b'\n', &probe[..n]).map_or(n, |p| p + 1) as u64;
    std::thread::scope(|s| {
        let second = s.spawn(|| floor(path, mid, len, how));
        let first = floor(path, 0, mid, how);
        let second = second.join().expect("second half");
        Tally {
            lines: first.lines + second.lines,
            events: first.events + second.events,
            checksum: first.checksum.wrapping_add(second.checksum),
        }
    })
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::MAX;
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        last = Some(f());
        best = best.min(start.elapsed().as_secs_f64());
    }
    (best, last.expect("runs > 0"))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, generated) = licmon_import::generate::bench_file(dir.path()).expect("generate");
    println!(
        "generated {:.1} MB, {} lines",
        generated.bytes as f64 / 1e6,
        generated.lines
    );
    let wc = || {
        std::process::Command::new("wc")
            .arg("-l")
            .arg(&path)
            .output()
            .expect("wc")
    };
    wc();
    let (floor_secs, _) = best_of(5, wc);
    let line = |step: &str, secs: f64, (lines, events): (u64, u64)| {
        assert_eq!(lines, generated.lines, "{step}: every line seen");
        println!(
            "{step:<24} {secs:>6.3} s {:>7.0} MB/s {:>5.1}× wc -l   {events} events",
            generated.bytes as f64 / 1e6 / secs,
            secs / floor_secs
        );
    };
    line("wc -l", floor_secs, (generated.lines, 0));
    let (s, r) = best_of(3, || {
        licmon_import::parse_only(&path, LogFormat::FlexnetDebuglog).expect("parse")
    });
    line("licmon parser", s, r);
    let mut reference = None;
    let mut run_floor = |step: &str, f: &dyn Fn() -> Tally| {
        let (s, t) = best_of(3, f);
        // Every floor must have extracted the same fields as the first.
        assert_eq!(
            *reference.get_or_insert(t),
            t,
            "{step}: same events as the first floor"
        );
        line(step, s, (t.lines, t.events));
    };
    run_floor("floor, bytes", &|| {
        floor(&path, 0, generated.bytes, Floor::Bytes)
    });
    run_floor("floor, bytes, 2 threads", &|| {
        floor_two_threads(&path, Floor::Bytes)
    });
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        run_floor("floor, AVX2", &|| {
            floor(&path, 0, generated.bytes, Floor::Avx2)
        });
        run_floor("floor, AVX2, 2 threads", &|| {
            floor_two_threads(&path, Floor::Avx2)
        });
    }
}
