//! The reading side of an import: a plain thread that reads lines, parses them and hands
//! batches (events + where the file stands after them) to the writing side over a bounded
//! channel, so parsing and database writes overlap and memory stays constant.

use std::fs::File;
use std::io::{Seek, SeekFrom};

use licmon_parse::{Diagnostic, EventBatch, LogFormat};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::reader::{LineReader, ReadError};
use crate::sniff::looks_like;

pub struct Parsed {
    pub events: EventBatch,
    pub diagnostics: Vec<Diagnostic>,
    pub lines: u64,
    pub bytes: u64,
    /// Where the next batch starts: byte offset and the number of lines before it.
    pub end_offset: u64,
    pub end_line: u64,
    pub parser_state: Value,
}

pub enum Msg {
    Batch(Parsed),
    /// The file cannot be imported further; the reason names the file and the line.
    Failed(String),
}

pub struct Job {
    pub file: File,
    pub display_name: String,
    pub format: LogFormat,
    pub tz: chrono_tz::Tz,
    pub start_offset: u64,
    pub start_line: u64,
    pub parser_state: Option<Value>,
    pub batch_lines: usize,
    pub max_line_bytes: usize,
    pub detect_lines: usize,
    /// A live log: an incomplete last line is waited for, not a failure.
    pub live: bool,
}

pub fn run(mut job: Job, tx: mpsc::Sender<Msg>) {
    if let Err(reason) = parse(&mut job, &tx) {
        let _ = tx.blocking_send(Msg::Failed(reason));
    }
}

fn parse(job: &mut Job, tx: &mpsc::Sender<Msg>) -> Result<(), String> {
    let name = job.display_name.clone();
    let mut parser = job.format.parser(job.tz);
    if let Some(state) = &job.parser_state {
        // An unreadable state (an older licmon) only loses the date of a year-less log until
        // its next date line; the events are then skipped with a diagnostic.
        parser.restore(state);
    }
    job.file
        .seek(SeekFrom::Start(job.start_offset))
        .map_err(|e| format!("{name}: cannot read: {e}"))?;
    let file = job.file.try_clone().map_err(|e| format!("{name}: {e}"))?;
    let mut reader = LineReader::new(file, job.max_line_bytes, job.start_offset, job.start_line);
    let mut detecting = job.start_offset == 0;
    let mut nonblank = 0usize;
    let mut first_line: Option<(u64, String)> = None;
    let mut batch = new_batch(job.batch_lines.min(1 << 16), 0);
    let mut batch_start = job.start_offset;
    let send = |b: Parsed| tx.blocking_send(Msg::Batch(b)).map_err(|_| String::new());
    loop {
        let line = match reader.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(ReadError::TooLong(n, start)) => {
                if !detecting {
                    let b = finish_partial(&mut batch, start, n - 1, &*parser);
                    send(b)?;
                }
                return Err(format!(
                    "{name} line {n}: a line longer than {} bytes; this is not a log file \
                     (or it is damaged). Lines before it were imported",
                    job.max_line_bytes
                ));
            }
            Err(ReadError::Io(e)) => return Err(format!("{name}: cannot read: {e}")),
        };
        let (number, start) = (line.number, line.start);
        if line.nul {
            if !detecting {
                let b = finish_partial(&mut batch, start, number - 1, &*parser);
                send(b)?;
            }
            return Err(format!(
                "{name} line {number}: binary data (a NUL byte); this is not a {} log file",
                job.format.name()
            ));
        }
        if !line.terminated && !job.live {
            // Everything before it is kept; the line itself waits for the rest of the file.
            let held = (number, start);
            if !detecting {
                let b = finish_partial(&mut batch, start, number - 1, &*parser);
                send(b)?;
            }
            return Err(format!(
                "{name} line {}: the file ends in the middle of a line (truncated, or still \
                 being written). Everything before line {} was imported; import the file again \
                 once it is complete",
                held.0, held.0
            ));
        }
        if !line.terminated {
            // A live log mid-write: wait for the rest of the line.
            if !detecting {
                let b = finish_partial(&mut batch, start, number - 1, &*parser);
                send(b)?;
            }
            return Ok(());
        }
        let text = line.text;
        let before = batch.events.len();
        parser.push_line(
            number as usize,
            &text,
            &mut batch.events,
            &mut batch.diagnostics,
        );
        batch.lines += 1;
        if detecting && !text.trim().is_empty() {
            nonblank += 1;
            if first_line.is_none() {
                first_line = Some((number, text.chars().take(80).collect()));
            }
            if batch.events.len() > before || looks_like(job.format, &text) {
                detecting = false;
            } else if nonblank >= job.detect_lines {
                return Err(wrong_format(&name, job, &first_line, nonblank));
            }
        }
        if batch.lines as usize >= job.batch_lines && !detecting {
            let b = finish_batch(&mut batch, batch_start, &reader, &*parser);
            batch_start = b.end_offset;
            send(b)?;
        }
    }
    if detecting {
        return Err(match first_line {
            None => format!("{name}: the file has no log lines (it is empty); nothing imported"),
            some => wrong_format(&name, job, &some, nonblank),
        });
    }
    parser.finish(&mut batch.events, &mut batch.diagnostics);
    let b = finish_batch(&mut batch, batch_start, &reader, &*parser);
    send(b)
}

fn wrong_format(name: &str, job: &Job, first: &Option<(u64, String)>, seen: usize) -> String {
    let (n, text) = first.clone().unwrap_or((1, String::new()));
    format!(
        "{name} line {n}: this is not a {} file: none of its first {} lines is one \
         (line {n} reads {text:?}). Choose the right format (--format / ?format=)",
        job.format.name(),
        seen,
    )
}

/// An empty batch with room for `events` events holding `text_bytes` bytes of strings.
fn new_batch(events: usize, text_bytes: usize) -> Parsed {
    Parsed {
        events: EventBatch::with_capacity(events, text_bytes),
        diagnostics: Vec::new(),
        lines: 0,
        bytes: 0,
        end_offset: 0,
        end_line: 0,
        parser_state: Value::Null,
    }
}

fn finish_batch<R: std::io::Read>(
    batch: &mut Parsed,
    batch_start: u64,
    reader: &LineReader<R>,
    parser: &(dyn licmon_parse::LogParser + Send),
) -> Parsed {
    let next = new_batch(batch.events.capacity(), batch.events.text_len());
    let mut b = std::mem::replace(batch, next);
    b.end_offset = reader.offset();
    b.end_line = reader.line_no();
    b.bytes = b.end_offset - batch_start;
    b.parser_state = parser.checkpoint();
    b
}

/// A batch that ends before the line starting at `offset` (line `line_no + 1`).
fn finish_partial(
    batch: &mut Parsed,
    offset: u64,
    line_no: u64,
    parser: &(dyn licmon_parse::LogParser + Send),
) -> Parsed {
    let mut b = std::mem::replace(batch, new_batch(0, 0));
    b.end_offset = offset;
    b.end_line = line_no;
    b.parser_state = parser.checkpoint();
    b
}
