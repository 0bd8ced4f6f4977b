//! Deterministic input mutations shared by the never-panic fuzz tests: a xorshift generator and
//! the mutators every format's fuzzing uses (each test adds its own format-specific ones).

#![allow(dead_code)]

use licmon_parse::StatusReport;

pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

pub fn assert_lines_in_input(report: &StatusReport, input: &str, what: &str) {
    let line_count = input.lines().count().max(1);
    for d in &report.diagnostics {
        assert!(
            (1..=line_count).contains(&d.line),
            "{what}: diagnostic line {} of {line_count}: {}",
            d.line,
            d.message
        );
    }
}

pub fn duplicate_and_drop_lines(text: &str, rng: &mut XorShift) -> String {
    let mut out = String::new();
    for line in text.lines() {
        match rng.below(6) {
            0 => {}
            1 => {
                out.push_str(line);
                out.push('\n');
                out.push_str(line);
                out.push('\n');
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

pub fn flip_bytes(text: &str, rng: &mut XorShift) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..=rng.below(8) {
        if bytes.is_empty() {
            break;
        }
        let i = rng.below(bytes.len());
        bytes[i] ^= 1 << rng.below(8);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

pub fn shuffle_lines(text: &str, rng: &mut XorShift) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    for i in (1..lines.len()).rev() {
        let j = rng.below(i + 1);
        lines.swap(i, j);
    }
    lines.join("\n")
}

pub fn truncate(text: &str, rng: &mut XorShift) -> String {
    let mut end = rng.below(text.len() + 1);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// Inserts one of `pieces`, then a random code point, after about every 40th character.
pub fn splice(text: &str, rng: &mut XorShift, pieces: &[&str]) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for ch in text.chars() {
        out.push(ch);
        if rng.below(40) == 0 {
            out.push_str(pieces[rng.below(pieces.len())]);
            if let Some(c) = char::from_u32((rng.next() % 0x11_0000) as u32) {
                out.push(c);
            }
        }
    }
    out
}

/// Up to 60 random `parts` in a row: tag soup from the names a parser knows.
pub fn soup(rng: &mut XorShift, parts: &[&str]) -> String {
    (0..rng.below(60))
        .map(|_| parts[rng.below(parts.len())])
        .collect()
}

/// Replaces some ASCII digits by other digits, or by a digit that is not ASCII.
pub fn swap_digits(text: &str, rng: &mut XorShift) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match (c.is_ascii_digit(), rng.below(6)) {
            (true, 0) => out.push('\u{663}'), // ARABIC-INDIC DIGIT THREE: not an ASCII digit
            (true, 1 | 2) => out.push(char::from(b'0' + rng.below(10) as u8)),
            _ => out.push(c),
        }
    }
    out
}
