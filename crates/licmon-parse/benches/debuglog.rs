//! Throughput of the FlexNet debug-log parser on a generated ~100 MB log (OUT/IN/DENIED with
//! TIMESTAMP lines, 5,000 users, 500 features), against the floor of splitting the same buffer
//! into lines and counting them. Run: `cargo bench -p licmon-parse --bench debuglog`.

use std::hint::black_box;
use std::time::Instant;

use licmon_parse::flexnet_debuglog::DebugLogParser;
use licmon_parse::{EventBatch, LogParser};

const TARGET_BYTES: usize = 100 * 1024 * 1024;

fn generate() -> String {
    let mut out = String::with_capacity(TARGET_BYTES + 4096);
    out.push_str(" 0:00:00 (lmgrd) FlexNet Licensing (v11.16.2.0 build 1) started on lic01 (linux) (1/1/2024)\n");
    let mut rng: u64 = 0x2545_F491_4F6C_DD1D;
    let mut secs: u64 = 0;
    let mut day: u32 = 1;
    while out.len() < TARGET_BYTES {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        secs += rng % 3;
        if secs >= 86_400 {
            secs -= 86_400;
            day = day % 28 + 1;
        }
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        let (user, feature) = (rng % 5000, (rng >> 20) % 500);
        if secs % 21_600 < 2 {
            out.push_str(&format!(
                "{h:2}:{m:02}:{s:02} (lmgrd) TIMESTAMP 2/{day}/2024\n"
            ));
        }
        let line = match rng % 10 {
            0..=4 => format!(
                "{h:2}:{m:02}:{s:02} (vendord) OUT: \"feature_{feature}\" user{user}@host-{user}  \n"
            ),
            5..=8 => format!(
                "{h:2}:{m:02}:{s:02} (vendord) IN: \"feature_{feature}\" user{user}@host-{user}  \n"
            ),
            _ => format!(
                "{h:2}:{m:02}:{s:02} (vendord) DENIED: \"feature_{feature}\" user{user}@host-{user}  (Licensed number of users already reached. (-4,342:10054 \"\"))\n"
            ),
        };
        out.push_str(&line);
    }
    out
}

fn count_lines(buf: &str) -> usize {
    buf.lines().filter(|l| !l.is_empty()).count()
}

fn parse(buf: &str) -> (usize, usize) {
    let mut parser = DebugLogParser::new(chrono_tz::Europe::Berlin);
    let (mut events, mut diags) = (EventBatch::with_capacity(1024, 64 * 1024), Vec::new());
    let mut total = 0;
    for (i, line) in buf.lines().enumerate() {
        parser.push_line(i + 1, line, &mut events, &mut diags);
        if events.len() >= 1024 {
            total += events.len();
            black_box(&events);
            events.clear(); // as the importer does: hand a batch on, keep memory flat
        }
    }
    parser.finish(&mut events);
    (total + events.len(), diags.len())
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::MAX;
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let r = black_box(f());
        best = best.min(start.elapsed().as_secs_f64());
        last = Some(r);
    }
    (best, last.expect("at least one run"))
}

fn main() {
    let buf = generate();
    let mb = buf.len() as f64 / (1024.0 * 1024.0);
    let (t_count, lines) = best_of(3, || count_lines(&buf));
    let (t_parse, (events, diags)) = best_of(3, || parse(&buf));
    println!("generated {mb:.1} MB, {lines} lines");
    println!(
        "line counting : {:8.1} MB/s  {:>12.0} lines/s",
        mb / t_count,
        lines as f64 / t_count
    );
    println!(
        "parsing       : {:8.1} MB/s  {:>12.0} events/s  ({events} events, {diags} diagnostics)",
        mb / t_parse,
        events as f64 / t_parse
    );
    println!(
        "parse / count : {:.2}x the time of line counting (target: within 3x)",
        t_parse / t_count
    );
}
