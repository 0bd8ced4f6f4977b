//! One import run: find the file's checkpoint, resume the server's state, stream batches from
//! the parse thread into transactions, and record the outcome (SPEC §2 Import status).

use std::collections::HashMap;
use std::fs::File;

use chrono::{DateTime, Utc};
use licmon_core::status::ImportOutcome;
use licmon_core::{LicenseServer, ServerId};
use licmon_parse::LogFormat;
use licmon_store::{CheckpointRecord, CheckpointWrite, ImportBatch, ImportRecord, Store};
use tokio::sync::mpsc;

use crate::fingerprint::{HEAD_BYTES, head_hash};
use crate::parse_thread::{self, Job, Msg};
use crate::rebuild::Rebuilder;
use crate::summary::Totals;
use crate::{ImportError, ImportRequest, ImportSummary, Importer, Progress, Via};

pub async fn run(
    importer: &Importer,
    server: &LicenseServer,
    format: LogFormat,
    request: &ImportRequest,
    mut progress: impl FnMut(Progress) + Send,
) -> Result<ImportSummary, ImportError> {
    let store = &*importer.store;
    let settings = &importer.settings;
    let started_at = Utc::now();
    let name: &str = &request.file_name;
    let fail = |reason: String| async move {
        let now = Utc::now();
        store
            .record_import_outcome(
                server.id,
                &ImportOutcome::Failure {
                    at: now,
                    reason: reason.clone(),
                },
            )
            .await?;
        record_run(
            store,
            server.id,
            name,
            format,
            request.via,
            now,
            "failure",
            Some(&reason),
            &Totals::default(),
        )
        .await;
        Err::<ImportSummary, _>(ImportError::BadFile(reason))
    };

    let mut file = match File::open(&request.path) {
        Ok(f) => f,
        Err(e) => return fail(format!("{}: cannot open: {e}", request.file_name)).await,
    };
    let size = file
        .metadata()
        .map_err(|e| ImportError::Io(format!("{}: {e}", request.file_name)))?
        .len();
    let checkpoints = store.import_checkpoints(server.id, format.name()).await?;
    let found = match find_checkpoint(&mut file, size, format, server.id, &checkpoints) {
        Ok(found) => found,
        Err(e) => return fail(format!("{}: cannot read: {e}", request.file_name)).await,
    };
    let head_len = size.min(HEAD_BYTES);
    let hash = match head_hash(&mut file, head_len, format.name(), server.id) {
        Ok(h) => h,
        Err(e) => return fail(format!("{}: cannot read: {e}", request.file_name)).await,
    };
    let (checkpoint_id, start_offset, start_line, state, mut file_totals) = match found {
        Some(cp) => (
            Some(cp.id),
            cp.byte_offset,
            cp.line_no,
            Some(cp.parser_state.clone()),
            Totals::from_json(&cp.totals),
        ),
        None => (None, 0, 0, None, Totals::default()),
    };
    if checkpoint_id.is_some() && start_offset == size {
        let finished_at = Utc::now();
        let summary = ImportSummary {
            server_id: server.id,
            server: server.name.clone(),
            file_name: request.file_name.clone(),
            format: format.name(),
            started_at,
            finished_at,
            resumed_at_byte: start_offset,
            already_imported: true,
            run: Totals::default(),
            file: file_totals,
        };
        record_success(store, server.id, request, format, &summary).await?;
        return Ok(summary);
    }

    let (outs_horizon, denials_horizon) = Rebuilder::horizons(settings.window);
    let resume = store
        .import_resume(server.id, outs_horizon, denials_horizon)
        .await?;
    let mut generation = resume.generation;
    let mut rebuilder = Rebuilder::resume(resume, settings.window);

    // One batch in the channel, one being parsed, one being written: memory stays bounded.
    let (tx, mut rx) = mpsc::channel(1);
    let job = Job {
        file,
        display_name: request.file_name.clone(),
        format,
        tz: server.time_zone,
        start_offset,
        start_line,
        parser_state: state,
        batch_lines: settings.batch_lines.max(1),
        max_line_bytes: settings.max_line_bytes,
        detect_lines: settings.detect_lines.max(1),
        live: request.live,
    };
    let reader = std::thread::Builder::new()
        .name("licmon-import-parse".into())
        .spawn(move || parse_thread::run(job, tx))
        .map_err(|e| ImportError::Io(format!("cannot start the import thread: {e}")))?;

    let mut run_totals = Totals::default();
    let mut checkpoint_id = checkpoint_id;
    let mut parsed_to = start_offset;
    let mut batches = 0u64;
    let mut failure = None;
    let mut result = Ok(());
    // One batch is committed while the next one is rebuilt: the database and the rebuild run
    // side by side. Ids a commit hands back reach the rebuilder before the next batch is cut.
    let mut inflight: Option<InFlight> = None;
    while let Some(msg) = rx.recv().await {
        let parsed = match msg {
            Msg::Batch(parsed) => parsed,
            Msg::Failed(reason) => {
                failure = Some(reason);
                break;
            }
        };
        let mut batch_totals = Totals {
            lines: parsed.lines,
            bytes: parsed.end_offset.saturating_sub(parsed_to),
            ..Totals::default()
        };
        parsed_to = parsed.end_offset;
        for d in &parsed.diagnostics {
            batch_totals.diagnostic(d);
        }
        // Events carry no line number: skips found here are reported at the batch's end line.
        for event in parsed.events.iter() {
            rebuilder.push(event, &mut batch_totals, parsed.end_line);
        }
        if let Some(previous) = inflight.take() {
            match previous.settle(&mut rebuilder).await {
                Ok(done) => {
                    checkpoint_id = Some(done.checkpoint_id);
                    generation = done.generation;
                    batches += 1;
                    run_totals.add(&done.totals);
                    progress(Progress {
                        bytes_done: done.end_offset,
                        bytes_total: size,
                        events: run_totals.event_count(),
                        batches,
                    });
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        let mut rows = rebuilder.take_batch();
        file_totals.add(&batch_totals);
        let batch = ImportBatch {
            server_id: server.id,
            generation,
            now: Utc::now(),
            last_event_at: rebuilder.max_time(),
            checkpoint: CheckpointWrite {
                id: checkpoint_id,
                format: format.name().to_owned(),
                file_name: request.file_name.clone(),
                head_len,
                head_hash: hash.clone(),
                byte_offset: parsed.end_offset,
                line_no: parsed.end_line,
                parser_state: parsed.parser_state,
                totals: file_totals.to_json(),
            },
            closed_sessions: std::mem::take(&mut rows.closed_sessions),
            open_sessions: std::mem::take(&mut rows.open_sessions),
            session_ends: std::mem::take(&mut rows.session_ends),
            denials: std::mem::take(&mut rows.denials),
            pending_denials: std::mem::take(&mut rows.pending_denials),
            retried_denials: std::mem::take(&mut rows.retried_denials),
        };
        let committer = importer.store.clone();
        inflight = Some(InFlight {
            task: tokio::spawn(async move {
                let ids = committer.commit_import_batch(&batch).await;
                // Its rows are freed by the importer, not here: the writer is the busier side.
                (ids, batch)
            }),
            rows,
            totals: batch_totals,
            end_offset: parsed.end_offset,
        });
    }
    if let Some(previous) = inflight.take() {
        match previous.settle(&mut rebuilder).await {
            Ok(done) => {
                batches += 1;
                run_totals.add(&done.totals);
                progress(Progress {
                    bytes_done: done.end_offset,
                    bytes_total: size,
                    events: run_totals.event_count(),
                    batches,
                });
            }
            Err(e) => result = result.and(Err(e)),
        }
    }
    drop(rx);
    let _ = tokio::task::spawn_blocking(move || reader.join()).await;
    result?;
    if let Some(reason) = failure {
        return fail(reason).await;
    }
    let summary = ImportSummary {
        server_id: server.id,
        server: server.name.clone(),
        file_name: request.file_name.clone(),
        format: format.name(),
        started_at,
        finished_at: Utc::now(),
        resumed_at_byte: start_offset,
        already_imported: false,
        run: run_totals,
        file: file_totals,
    };
    record_success(store, server.id, request, format, &summary).await?;
    Ok(summary)
}

/// A batch being committed.
struct InFlight {
    task: tokio::task::JoinHandle<(
        licmon_store::StoreResult<licmon_store::BatchIds>,
        ImportBatch,
    )>,
    rows: crate::rebuild::BatchRows,
    totals: Totals,
    end_offset: u64,
}

struct Settled {
    checkpoint_id: i64,
    generation: i64,
    totals: Totals,
    end_offset: u64,
}

impl InFlight {
    /// Waits for the commit and hands its ids to the rebuilder.
    async fn settle(self, rebuilder: &mut Rebuilder) -> Result<Settled, ImportError> {
        let (ids, batch) = self
            .task
            .await
            .map_err(|e| ImportError::Io(format!("the import's writer stopped: {e}")))?;
        drop(batch);
        let ids = ids?;
        rebuilder.committed(&self.rows, &ids.open_session_ids, &ids.pending_denial_ids);
        Ok(Settled {
            checkpoint_id: ids.checkpoint_id,
            generation: ids.generation,
            totals: self.totals,
            end_offset: self.end_offset,
        })
    }
}

/// The checkpoint of this file, if it was imported before: the head it hashed then is the same
/// now, and the file did not shrink below where that import stopped. Of several, the one that
/// got furthest.
fn find_checkpoint<'a>(
    file: &mut File,
    size: u64,
    format: LogFormat,
    server: ServerId,
    checkpoints: &'a [CheckpointRecord],
) -> std::io::Result<Option<&'a CheckpointRecord>> {
    let mut hashes: HashMap<u64, String> = HashMap::new();
    let mut best: Option<&CheckpointRecord> = None;
    for cp in checkpoints
        .iter()
        .filter(|cp| cp.head_len <= size && cp.byte_offset <= size)
    {
        let hash = match hashes.get(&cp.head_len) {
            Some(h) => h.clone(),
            None => {
                let h = head_hash(file, cp.head_len, format.name(), server)?;
                hashes.insert(cp.head_len, h.clone());
                h
            }
        };
        if hash == cp.head_hash && best.is_none_or(|b| cp.byte_offset > b.byte_offset) {
            best = Some(cp);
        }
    }
    Ok(best)
}

async fn record_success(
    store: &dyn Store,
    server: ServerId,
    request: &ImportRequest,
    format: LogFormat,
    summary: &ImportSummary,
) -> Result<(), ImportError> {
    store
        .record_import_outcome(
            server,
            &ImportOutcome::Success {
                at: summary.finished_at,
                events: summary.run.event_count(),
                sessions: summary.run.sessions,
                denials: summary.run.denials,
            },
        )
        .await?;
    record_run(
        store,
        server,
        &request.file_name,
        format,
        request.via,
        summary.finished_at,
        "success",
        None,
        &summary.run,
    )
    .await;
    let message = format!(
        "imported {} ({}): {} events, {} sessions, {} denials{}",
        request.file_name,
        format.name(),
        summary.run.event_count(),
        summary.run.sessions,
        summary.run.denials,
        if summary.already_imported {
            " (already imported: nothing new)"
        } else {
            ""
        }
    );
    if let Err(e) = store
        .log_event(summary.finished_at, Some(server), "import", &message)
        .await
    {
        tracing::warn!(error = %e, "cannot write the event log");
    }
    Ok(())
}

/// Appends to the import history; a failure to do so is logged, not fatal (the import itself
/// is stored).
#[allow(clippy::too_many_arguments)]
pub async fn record_run(
    store: &dyn Store,
    server: ServerId,
    file_name: &str,
    format: LogFormat,
    via: Via,
    at: DateTime<Utc>,
    outcome: &str,
    reason: Option<&str>,
    totals: &Totals,
) {
    let record = ImportRecord {
        id: 0,
        server_id: server,
        file_name: file_name.to_owned(),
        format: format.name().to_owned(),
        via: via.as_str().to_owned(),
        started_at: at,
        finished_at: at,
        outcome: outcome.to_owned(),
        reason: reason.map(str::to_owned),
        summary: totals.to_json(),
    };
    if let Err(e) = store.record_import_run(&record).await {
        tracing::warn!(error = %e, "cannot record the import in the history");
    }
    if let Some(reason) = reason
        && let Err(e) = store
            .log_event(
                at,
                Some(server),
                "import",
                &format!("import {outcome}: {reason}"),
            )
            .await
    {
        tracing::warn!(error = %e, "cannot write the event log");
    }
}
