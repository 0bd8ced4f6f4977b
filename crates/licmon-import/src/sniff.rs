//! Does a line look like it belongs to a log format? Used on the first lines of a file to
//! refuse a file in the wrong format before anything is stored.

use licmon_parse::LogFormat;

/// RLM report-log record keywords (RLM License Administration manual, "Reportlog File Format").
const RLM_RECORDS: &[&str] = &[
    "RLM",
    "ISV:",
    "START",
    "OUT",
    "IN",
    "DENY",
    "QUE",
    "DEQUE",
    "INUSE",
    "PRODUCT",
    "AUTH",
    "LOG",
    "END",
    "SWITCH",
    "SHUTDOWN",
    "TIMEJUMP",
    "ROAM_EXTEND",
    "METER",
    "REPROCESSED",
];

/// True when the line has the shape of `format` (whether or not it carries an event).
pub fn looks_like(format: LogFormat, line: &str) -> bool {
    match format {
        LogFormat::FlexnetDebuglog => flexnet_prefix(line),
        LogFormat::RlmReportlog => {
            let first = line.split_ascii_whitespace().next().unwrap_or("");
            RLM_RECORDS.contains(&first) || is_mdy(first)
        }
        LogFormat::LmxLog => lmx_prefix(line),
        LogFormat::Csv => {
            let lower = line.to_ascii_lowercase();
            lower.contains("time") && lower.contains("kind") && lower.contains(',')
        }
    }
}

/// `hh:mm:ss (daemon)`, hours padded with a space or not.
fn flexnet_prefix(line: &str) -> bool {
    let b = line.trim_start_matches(' ').as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    let h = if b.len() > 2 && b[1] == b':' { 1 } else { 2 };
    b.len() > h + 8
        && digits(&b[..h])
        && b[h] == b':'
        && digits(&b[h + 1..h + 3])
        && b[h + 3] == b':'
        && digits(&b[h + 4..h + 6])
        && b[h + 6] == b' '
        && b[h + 7] == b'('
        && b[h + 8..].contains(&b')')
}

/// `[YYYY-MM-DD HH:MM:SS]`.
fn lmx_prefix(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() >= 21
        && b[0] == b'['
        && b[5] == b'-'
        && b[8] == b'-'
        && b[11] == b' '
        && b[14] == b':'
        && b[17] == b':'
        && b[20] == b']'
}

fn is_mdy(token: &str) -> bool {
    let mut parts = token.split('/');
    let ok = |p: Option<&str>, max: usize| {
        p.is_some_and(|p| !p.is_empty() && p.len() <= max && p.bytes().all(|c| c.is_ascii_digit()))
    };
    ok(parts.next(), 2) && ok(parts.next(), 2) && ok(parts.next(), 4) && parts.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        use LogFormat::*;
        assert!(looks_like(FlexnetDebuglog, " 1:56:00 (lmgrd) ---"));
        assert!(looks_like(FlexnetDebuglog, "10:25:31 (MLM) OUT: \"x\" a@b"));
        assert!(!looks_like(FlexnetDebuglog, "[2022-03-11 12:29:22] LM-X"));
        assert!(looks_like(
            LmxLog,
            "[2022-03-11 12:29:22] LM-X License Server"
        ));
        assert!(!looks_like(LmxLog, "10:25:31 (MLM) OUT:"));
        assert!(looks_like(RlmReportlog, "START lic01 07/04/2024 09:00"));
        assert!(looks_like(RlmReportlog, "07/04/2024 10:00"));
        assert!(!looks_like(RlmReportlog, "10:25:31 (MLM) OUT: \"x\" a@b"));
        assert!(looks_like(Csv, "time,kind,feature,user"));
        assert!(!looks_like(Csv, "10:25:31 (MLM) OUT: \"x\" a@b"));
    }
}
