//! Streaming, resumable imports of license-server logs (SPEC §4).
//!
//! A file is read line by line on a thread of its own ([`parse_thread`]), parsed by the
//! `licmon-parse` log parser of its format, and written in batches ([`pipeline`]). Each batch —
//! its sessions, denials and the checkpoint (fingerprint of the file head, byte offset, parser
//! state) — is one transaction, so:
//!
//! - the same file again adds nothing; a grown file adds only its new lines; a file that shrank
//!   or whose head changed is a new file;
//! - an import killed at any moment and run again ends with exactly the totals of one clean run;
//! - a file that fails (wrong format, binary, truncated, an absurd line) keeps what was stored
//!   before it, and the batches before the bad line are resumable.
//!
//! Sessions are rebuilt from OUT/IN pairs and denials marked true or retry in [`rebuild`].
//! Usage history (change points, rollups) is deliberately not derived from imports yet: the
//! rollups are sample-based (one sample per poll), which a log has no equivalent of; see
//! ARCHITECTURE.md.

mod fingerprint;
#[doc(hidden)]
pub mod generate;
mod parse_thread;
mod pipeline;
mod reader;
pub mod rebuild;
pub mod sniff;
pub mod summary;
pub mod watch;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use licmon_core::{LicenseServer, ManagerKind, ServerId};
use licmon_parse::LogFormat;
use licmon_store::{Store, StoreError};
use serde::Serialize;

pub use rebuild::Window;
pub use summary::{Skip, Totals};

/// Installation-wide import settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSettings {
    /// The retry window for denials (SPEC §4).
    pub window: Window,
    /// Capacity limit (SPEC §2); None = unlimited.
    pub max_license_servers: Option<u32>,
    /// Lines per transaction.
    pub batch_lines: usize,
    /// A longer line fails the import: the file is not a log.
    pub max_line_bytes: usize,
    /// A file none of whose first this-many non-blank lines is recognised is refused.
    pub detect_lines: usize,
}

impl Default for ImportSettings {
    fn default() -> Self {
        Self {
            window: Window::default(),
            max_license_servers: None,
            batch_lines: 50_000,
            max_line_bytes: 1 << 20,
            detect_lines: 200,
        }
    }
}

/// What started an import (kept in the import history).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    Cli,
    Api,
    Watch,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Cli => "cli",
            Via::Api => "api",
            Via::Watch => "watch",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub server_id: ServerId,
    pub path: PathBuf,
    /// The name shown in reasons and the history (the uploaded file's name for the API).
    pub file_name: String,
    /// None: the server type's format.
    pub format: Option<LogFormat>,
    pub via: Via,
    /// A live log (watched folder): an incomplete last line is waited for, not a failure.
    pub live: bool,
}

/// Where an import stands, after each committed batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub events: u64,
    pub batches: u64,
}

/// The result of a finished import.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportSummary {
    pub server_id: ServerId,
    pub server: String,
    pub file_name: String,
    pub format: &'static str,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// Byte offset this run started at (0 for a new file).
    pub resumed_at_byte: u64,
    /// The file had been imported up to its end before: nothing was added.
    pub already_imported: bool,
    /// What this run added.
    pub run: Totals,
    /// What the file gave over all its runs.
    pub file: Totals,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Importing is switched off for the server, or its type has no import format (HTTP 409).
    #[error("{0}")]
    Disabled(String),
    /// The capacity limit leaves no room for the server (HTTP 409).
    #[error("{0}")]
    OverCapacity(String),
    /// The file cannot be imported; the reason names the file and line (HTTP 422).
    #[error("{0}")]
    BadFile(String),
    /// Another import of the same server got in the way (HTTP 409).
    #[error("{0}")]
    Busy(String),
    #[error("no such license server")]
    NotFound,
    #[error("{0}")]
    Store(StoreError),
    #[error("{0}")]
    Io(String),
}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ImportError::NotFound,
            StoreError::Conflict(m) => ImportError::Busy(m),
            other => ImportError::Store(other),
        }
    }
}

/// The log format a license-manager type's imports use by default.
pub fn default_format(kind: ManagerKind) -> Option<LogFormat> {
    match kind {
        ManagerKind::Flexnet => Some(LogFormat::FlexnetDebuglog),
        ManagerKind::Rlm => Some(LogFormat::RlmReportlog),
        ManagerKind::Lmx => Some(LogFormat::LmxLog),
        ManagerKind::GenericLog => Some(LogFormat::Csv),
        _ => None,
    }
}

/// Runs imports against one store. Cheap to clone; imports of one server run one at a time
/// within a process (and across processes the store refuses a second writer, see
/// [`licmon_store::ImportBatch::generation`]).
#[derive(Clone)]
pub struct Importer {
    store: Arc<dyn Store>,
    settings: ImportSettings,
    locks: Arc<Mutex<HashMap<ServerId, Arc<tokio::sync::Mutex<()>>>>>,
}

impl Importer {
    pub fn new(store: Arc<dyn Store>, settings: ImportSettings) -> Self {
        Self {
            store,
            settings,
            locks: Arc::default(),
        }
    }

    pub fn settings(&self) -> &ImportSettings {
        &self.settings
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Imports one file. `progress` is called after every committed batch.
    pub async fn import(
        &self,
        request: ImportRequest,
        progress: impl FnMut(Progress) + Send,
    ) -> Result<ImportSummary, ImportError> {
        let server = self.store.get_server(request.server_id).await?;
        let format = self
            .check_allowed(&server, request.format, request.via)
            .await?;
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            locks.entry(server.id).or_default().clone()
        };
        let _guard = lock.lock().await;
        pipeline::run(self, &server, format, &request, progress).await
    }

    /// Import switched on, the type has a format, and capacity leaves room. A refusal for
    /// capacity is recorded (Import status License Exceeded).
    async fn check_allowed(
        &self,
        server: &LicenseServer,
        format: Option<LogFormat>,
        via: Via,
    ) -> Result<LogFormat, ImportError> {
        let Some(default) = default_format(server.kind) else {
            return Err(ImportError::Disabled(format!(
                "license server {} is of type {}, which has no import format (Import: N/A)",
                server.name,
                server.kind.api_id()
            )));
        };
        if !server.data_sources.import {
            return Err(ImportError::Disabled(format!(
                "importing is switched off for license server {} (Import: Disabled); switch it \
                 on in the server's settings (data_sources.import) first",
                server.name
            )));
        }
        let servers = self.store.list_servers().await?;
        let entries: Vec<_> = servers
            .iter()
            .map(|s| licmon_core::capacity::CapacityEntry {
                id: s.id,
                created_at: s.created_at,
                any_source_enabled: s.data_sources.any(),
            })
            .collect();
        let over =
            licmon_core::capacity::over_capacity(&entries, self.settings.max_license_servers);
        if over.contains(&server.id) {
            let now = Utc::now();
            self.store
                .record_import_outcome(
                    server.id,
                    &licmon_core::status::ImportOutcome::RefusedOverCapacity { at: now },
                )
                .await?;
            let reason = format!(
                "license server {} is beyond the capacity limit of {} license servers (License \
                 Exceeded); nothing was imported",
                server.name,
                self.settings.max_license_servers.unwrap_or(0)
            );
            pipeline::record_run(
                &*self.store,
                server.id,
                "",
                format.unwrap_or(default),
                via,
                now,
                "refused",
                Some(&reason),
                &Totals::default(),
            )
            .await;
            return Err(ImportError::OverCapacity(reason));
        }
        Ok(format.unwrap_or(default))
    }
}

/// Seconds as a window bound.
pub fn secs(s: u32) -> Duration {
    Duration::seconds(i64::from(s))
}

/// Reads and parses a file the way an import does (block reader, line cap, NUL check, events
/// into a batch that is emptied as a writer would take it), without storing anything: the
/// parsing share of an import, for the benchmark. Returns (lines, events).
#[doc(hidden)]
pub fn parse_only(path: &std::path::Path, format: LogFormat) -> std::io::Result<(u64, u64)> {
    let file = std::fs::File::open(path)?;
    let max_line = ImportSettings::default().max_line_bytes;
    let mut reader = reader::LineReader::new(file, max_line, 0, 0);
    let mut parser = format.parser(chrono_tz::UTC);
    let (mut events, mut diags) = (licmon_parse::EventBatch::new(), Vec::new());
    let (mut lines, mut total) = (0u64, 0u64);
    let invalid = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    loop {
        let line = match reader.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(reader::ReadError::Io(e)) => return Err(e),
            Err(reader::ReadError::TooLong(n, _)) => {
                return Err(invalid(format!("line {n}: longer than {max_line} bytes")));
            }
        };
        if line.nul {
            return Err(invalid(format!("line {}: a NUL byte", line.number)));
        }
        lines += 1;
        parser.push_line(line.number as usize, &line.text, &mut events, &mut diags);
        if events.len() >= 4096 {
            total += events.len() as u64;
            events.clear();
            diags.clear();
        }
    }
    parser.finish(&mut events, &mut diags);
    Ok((lines, total + events.len() as u64))
}
