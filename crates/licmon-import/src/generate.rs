//! A deterministic generator of realistic FlexNet debug logs, for the benchmark and the tests
//! that need big files: an lmgrd banner with the date, `TIMESTAMP` lines every six hours,
//! checkouts of 500 features by 5,000 users that are checked in again later, denials (some
//! retried a second later, like a real client does), queued requests, and a restart.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub const USERS: u64 = 5_000;
pub const FEATURES: u64 = 500;
/// Checkouts open at once in the generated log (a big site).
const MAX_OPEN: usize = 4_000;

/// What was generated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Generated {
    pub bytes: u64,
    pub lines: u64,
    pub outs: u64,
    pub ins: u64,
    pub denials: u64,
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Writes about `target_bytes` of log (stops at the first line past it).
pub fn flexnet_debuglog(
    out: &mut impl Write,
    target_bytes: u64,
    seed: u64,
) -> io::Result<Generated> {
    let mut w = io::BufWriter::with_capacity(1 << 20, out);
    let mut g = Generated::default();
    let mut rng = Rng(seed | 1);
    let mut open: Vec<(u64, u64)> = Vec::with_capacity(MAX_OPEN);
    let (mut day, mut month, mut year) = (1u32, 1u32, 2025u32);
    let mut secs: u64 = 6 * 3600;
    let mut line = String::with_capacity(256);
    let emit = |w: &mut io::BufWriter<_>, line: &mut String, g: &mut Generated| {
        line.push('\n');
        g.bytes += line.len() as u64;
        g.lines += 1;
        let r = w.write_all(line.as_bytes());
        line.clear();
        r
    };
    use std::fmt::Write as _;
    let _ = write!(
        line,
        " 6:00:00 (lmgrd) FlexNet Licensing (v11.16.2.0 build 1) started on lic01 (linux) ({month}/{day}/{year})"
    );
    emit(&mut w, &mut line, &mut g)?;
    while g.bytes < target_bytes {
        let r = rng.next();
        let step = r % 4;
        secs += step;
        if secs >= 86_400 {
            secs -= 86_400;
            day += 1;
            if day > 28 {
                day = 1;
                month += 1;
                if month > 12 {
                    month = 1;
                    year += 1;
                }
            }
        }
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        if secs % 21_600 < step.max(1) {
            let _ = write!(
                line,
                "{h:2}:{m:02}:{s:02} (lmgrd) TIMESTAMP {month}/{day}/{year}"
            );
            emit(&mut w, &mut line, &mut g)?;
        }
        let choice = (r >> 8) % 100;
        let check_in = !open.is_empty() && (choice < 44 || open.len() >= MAX_OPEN);
        if check_in {
            let i = (r >> 20) as usize % open.len();
            let (feature, user) = open.swap_remove(i);
            let _ = write!(
                line,
                "{h:2}:{m:02}:{s:02} (vendord) IN: \"feature_{feature}\" user{user}@ws-{user:04}  "
            );
            g.ins += 1;
        } else if choice < 90 {
            let (feature, user) = ((r >> 24) % FEATURES, (r >> 40) % USERS);
            open.push((feature, user));
            let _ = write!(
                line,
                "{h:2}:{m:02}:{s:02} (vendord) OUT: \"feature_{feature}\" user{user}@ws-{user:04}  "
            );
            g.outs += 1;
        } else if choice < 99 {
            let (feature, user) = ((r >> 24) % FEATURES, (r >> 40) % USERS);
            let _ = write!(
                line,
                "{h:2}:{m:02}:{s:02} (vendord) DENIED: \"feature_{feature}\" user{user}@ws-{user:04}  (Licensed number of users already reached. (-4,342:10054 \"\"))"
            );
            g.denials += 1;
            if choice < 93 {
                // The client retries a second later and gets one: a retry, not a true denial.
                emit(&mut w, &mut line, &mut g)?;
                secs += 1;
                let (h, m, s) = (secs / 3600 % 24, secs / 60 % 60, secs % 60);
                open.push((feature, user));
                let _ = write!(
                    line,
                    "{h:2}:{m:02}:{s:02} (vendord) OUT: \"feature_{feature}\" user{user}@ws-{user:04}  "
                );
                g.outs += 1;
            }
        } else {
            let (feature, user) = ((r >> 24) % FEATURES, (r >> 40) % USERS);
            let _ = write!(
                line,
                "{h:2}:{m:02}:{s:02} (vendord) QUEUED: \"feature_{feature}\" user{user}@ws-{user:04}  "
            );
        }
        emit(&mut w, &mut line, &mut g)?;
    }
    w.flush()?;
    Ok(g)
}

/// The benchmarks' log, written to `dir`: `LICMON_BENCH_BYTES` bytes (1 GB when unset), the same
/// text for the same size, so figures of different benches and sessions compare.
pub fn bench_file(dir: &Path) -> io::Result<(PathBuf, Generated)> {
    let target: u64 = std::env::var("LICMON_BENCH_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000_000);
    let path = dir.join("debug.log");
    let generated = flexnet_debuglog(
        &mut std::fs::File::create(&path)?,
        target,
        0x2545_F491_4F6C_DD1D,
    )?;
    Ok((path, generated))
}
