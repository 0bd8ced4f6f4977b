//! licmon's own CSV event format (documented in `docs/csv-event-format.md`):
//!
//! ```text
//! time,kind,feature,user,host,count,reason
//! 2024-03-01T09:00:00+01:00,out,MATLAB,alice,ws-01,1,
//! 2024-03-01 10:30:00,denied,MATLAB,bob,ws-02,,"Licensed number of users already reached"
//! ```
//!
//! The header names the columns (any order; `time`, `kind` and `feature` are required). Fields
//! follow RFC 4180 quoting on one line (quoted fields may hold commas and `""`, not line
//! breaks). Blank lines and lines starting with `#` are ignored. Every malformed row is a
//! diagnostic with its line number and what is wrong; the row is skipped.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::flexnet_debuglog::clock::LocalClock;
use crate::flexnet_debuglog::kind_from_name;
use crate::{Diagnostic, EventSink, LogEvent, LogParser};

const MAX_FIELDS: usize = 16;
const CHECKPOINT_VERSION: u64 = 1;
/// The columns licmon reads, in the order of [`Columns`].
const COLUMN_NAMES: [&str; 7] = ["time", "kind", "feature", "user", "host", "count", "reason"];
const REQUIRED: [usize; 3] = [0, 1, 2];

/// Index of each known column in a row (by [`COLUMN_NAMES`] order), from the header.
type Columns = [Option<usize>; 7];

pub struct CsvEventParser {
    clock: LocalClock,
    columns: Option<Columns>,
    width: usize,
}

impl CsvEventParser {
    pub fn new(tz: Tz) -> Self {
        Self {
            clock: LocalClock::new(tz),
            columns: None,
            width: 0,
        }
    }

    fn header(&mut self, n: usize, fields: &[Cow<'_, str>], diags: &mut Vec<Diagnostic>) {
        let mut columns: Columns = [None; 7];
        for (i, name) in fields.iter().enumerate() {
            let name = name.trim().to_ascii_lowercase();
            match COLUMN_NAMES.iter().position(|c| *c == name) {
                Some(c) if columns[c].is_none() => columns[c] = Some(i),
                Some(_) => diags.push(Diagnostic::new(
                    n,
                    format!("header: column `{name}` appears twice; the first one is used"),
                )),
                None => diags.push(Diagnostic::new(
                    n,
                    format!("header: unknown column `{name}` is ignored"),
                )),
            }
        }
        let missing: Vec<&str> = REQUIRED
            .iter()
            .filter(|&&c| columns[c].is_none())
            .map(|&c| COLUMN_NAMES[c])
            .collect();
        if !missing.is_empty() {
            diags.push(Diagnostic::new(n, format!("header: required column(s) {} missing; expected `time,kind,feature,user,host,count,reason`", missing.join(", "))));
            return;
        }
        self.columns = Some(columns);
        self.width = fields.len();
    }

    fn row(&mut self, columns: &Columns, fields: &[Cow<'_, str>]) -> Result<LogEvent, String> {
        if fields.len() != self.width {
            return Err(format!(
                "{} fields, the header has {}",
                fields.len(),
                self.width
            ));
        }
        let get = |c: usize| {
            columns[c]
                .and_then(|i| fields.get(i))
                .map(|f| f.trim())
                .unwrap_or("")
        };
        let kind_text = get(1).to_ascii_lowercase();
        let kind = kind_from_name(&kind_text).ok_or_else(|| format!("kind `{}` is not one of out, in, denied, queued, dequeued, unsupported, start, shutdown", get(1)))?;
        let feature = get(2);
        if feature.is_empty()
            && !matches!(kind, crate::EventKind::Start | crate::EventKind::Shutdown)
        {
            return Err("feature is empty".into());
        }
        let count = match get(5) {
            "" => 1,
            c => c
                .parse::<u64>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("count `{c}` is not a positive whole number"))?,
        };
        let time = self.time(get(0))?;
        let reason = Some(get(6)).filter(|r| !r.is_empty()).map(str::to_owned);
        Ok(LogEvent {
            kind,
            time,
            feature: feature.to_owned(),
            user: get(3).to_owned(),
            host: get(4).to_owned(),
            count,
            reason,
        })
    }

    /// RFC 3339 with an offset, or `YYYY-MM-DD HH:MM:SS[.fff]` (or with `T`) local to the server.
    fn time(&mut self, text: &str) -> Result<DateTime<Utc>, String> {
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Ok(t.with_timezone(&Utc));
        }
        ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
            .map(|local| self.clock.local_to_utc(local))
            .ok_or_else(|| format!("time `{text}` is neither RFC 3339 nor `YYYY-MM-DD HH:MM:SS`"))
    }
}

/// Split one CSV line into fields (RFC 4180 quoting, no line breaks inside quotes). Returns the
/// number of fields; fields beyond `out`'s length are counted but not stored.
fn split_fields<'a>(
    line: &'a str,
    out: &mut [Cow<'a, str>; MAX_FIELDS],
) -> Result<usize, &'static str> {
    let mut count = 0;
    let mut rest = line;
    loop {
        let (field, after) = if let Some(quoted) = rest.strip_prefix('"') {
            quoted_field(quoted)?
        } else {
            match rest.find(',') {
                Some(i) => (Cow::Borrowed(&rest[..i]), Some(&rest[i + 1..])),
                None => (Cow::Borrowed(rest), None),
            }
        };
        if count < MAX_FIELDS {
            out[count] = field;
        }
        count += 1;
        match after {
            Some(a) => rest = a,
            None => return Ok(count),
        }
    }
}

/// A quoted field (after its opening quote) → its value and what follows its separator.
fn quoted_field(s: &str) -> Result<(Cow<'_, str>, Option<&str>), &'static str> {
    let mut value: Option<String> = None;
    let mut start = 0;
    let mut i = 0;
    let bytes = s.as_bytes();
    while i < bytes.len() {
        if bytes[i] == b'"' {
            if bytes.get(i + 1) == Some(&b'"') {
                value
                    .get_or_insert_with(String::new)
                    .push_str(&s[start..=i]);
                i += 2;
                start = i;
                continue;
            }
            let text = match value {
                Some(mut v) => {
                    v.push_str(&s[start..i]);
                    Cow::Owned(v)
                }
                None => Cow::Borrowed(&s[..i]),
            };
            let after = &s[i + 1..];
            return match after.strip_prefix(',') {
                Some(a) => Ok((text, Some(a))),
                None if after.trim().is_empty() => Ok((text, None)),
                None => {
                    Err("text after a closing quote (a quote inside a field must be doubled: \"\")")
                }
            };
        }
        i += 1;
    }
    Err("a quoted field is not closed on this line (line breaks inside fields are not supported)")
}

impl LogParser for CsvEventParser {
    fn push_line(
        &mut self,
        line_no: usize,
        line: &str,
        events: &mut dyn EventSink,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let line = if line_no == 1 {
            line.trim_start_matches('\u{feff}')
        } else {
            line
        };
        if line.trim().is_empty() || line.starts_with('#') {
            return;
        }
        let mut fields: [Cow<'_, str>; MAX_FIELDS] = Default::default();
        let n = match split_fields(line, &mut fields) {
            Ok(n) => n,
            Err(what) => {
                diagnostics.push(Diagnostic::new(line_no, what));
                return;
            }
        };
        let fields = &fields[..n.min(MAX_FIELDS)];
        match self.columns {
            None => self.header(line_no, fields, diagnostics),
            Some(columns) => match self.row(&columns, fields) {
                Ok(event) => events.push_event(event.as_ref()),
                Err(what) => diagnostics.push(Diagnostic::new(line_no, what)),
            },
        }
    }

    fn checkpoint(&self) -> Value {
        json!({ "v": CHECKPOINT_VERSION, "clock": self.clock.to_json(), "columns": self.columns, "width": self.width })
    }

    fn restore(&mut self, state: &Value) -> bool {
        let tz = self.clock.tz();
        let restored = (|| {
            if state.get("v")?.as_u64()? != CHECKPOINT_VERSION {
                return None;
            }
            let clock = LocalClock::from_json(tz, state.get("clock")?)?;
            let columns: Option<Columns> =
                serde_json::from_value(state.get("columns")?.clone()).ok()?;
            let width = usize::try_from(state.get("width")?.as_u64()?).ok()?;
            Some(Self {
                clock,
                columns,
                width,
            })
        })();
        let ok = restored.is_some();
        *self = restored.unwrap_or_else(|| Self::new(tz));
        ok
    }
}
