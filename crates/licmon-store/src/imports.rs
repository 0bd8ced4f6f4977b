//! The import role: checkpoints, import sessions, raw denials and the import history.
//!
//! Invariant: a batch's sessions, denials, checkpoint and the server's import generation are
//! written in ONE transaction ([`ImportStore::commit_import_batch`]), so an import killed at any
//! moment resumes from a checkpoint that matches exactly what was stored.

use std::borrow::Cow;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use licmon_core::ServerId;
use serde::Serialize;
use sqlx::query::Query;
use sqlx::{Any, Encode, Row, Transaction, Type};

use crate::denials::{DenialCount, DenialFilter, DenialGroup, DenialQuery, DenialRecord};
use crate::rows::{from_millis, millis, opt_from_millis, push_placeholders};
use crate::{Backend, SqlStore, StoreError, StoreResult};

/// `sessions.source` of sessions rebuilt from imported logs.
pub const IMPORT_SOURCE: &str = "import";
/// Rows per multi-row INSERT (11 columns: well below both backends' bind limits).
const ROWS_PER_INSERT: usize = 500;
/// Rows per UPDATE with numbered parameters (SQLite looks each one up by name).
const ROWS_PER_UPDATE: usize = 100;

/// Where one imported file stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckpointRecord {
    pub id: i64,
    pub server_id: ServerId,
    pub format: String,
    pub file_name: String,
    pub head_len: u64,
    pub head_hash: String,
    pub byte_offset: u64,
    pub line_no: u64,
    pub parser_state: serde_json::Value,
    /// Cumulative counts over every run of this file (the importer's summary).
    pub totals: serde_json::Value,
    pub updated_at: DateTime<Utc>,
}

/// The checkpoint a batch leaves; `id` None creates it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointWrite {
    pub id: Option<i64>,
    pub format: String,
    pub file_name: String,
    pub head_len: u64,
    pub head_hash: String,
    pub byte_offset: u64,
    pub line_no: u64,
    pub parser_state: serde_json::Value,
    pub totals: serde_json::Value,
}

/// A session rebuilt from a log; `ended_at` None while its IN has not been seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub feature: String,
    pub user: String,
    pub host: String,
    pub count: u64,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDenial {
    pub at: DateTime<Utc>,
    pub feature: String,
    pub user: String,
    pub host: String,
    pub count: u64,
    pub reason: Option<String>,
    pub retry: bool,
}

/// Everything one batch of an import writes, in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportBatch {
    pub server_id: ServerId,
    /// The generation the importer loaded; the commit fails with `Conflict` if another import
    /// of the same server committed since.
    pub generation: i64,
    pub now: DateTime<Utc>,
    pub last_event_at: Option<DateTime<Utc>>,
    pub checkpoint: CheckpointWrite,
    /// Sessions opened and closed within the batch (and closed ones never written before).
    pub closed_sessions: Vec<NewSession>,
    /// Sessions still open at the end of the batch; their ids come back in order.
    pub open_sessions: Vec<NewSession>,
    /// Sessions written open before and closed now: (id, ended_at).
    pub session_ends: Vec<(i64, DateTime<Utc>)>,
    /// Denials whose window is over.
    pub denials: Vec<NewDenial>,
    /// Denials whose retry window is still open; their ids come back in order.
    pub pending_denials: Vec<NewDenial>,
    /// Denials written before that turned out to be retries.
    pub retried_denials: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchIds {
    pub checkpoint_id: i64,
    pub generation: i64,
    pub open_session_ids: Vec<i64>,
    pub pending_denial_ids: Vec<i64>,
}

/// An import session still open in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenImportSession {
    pub id: i64,
    pub feature: String,
    pub user: String,
    pub host: String,
    pub count: u64,
    pub started_at: DateTime<Utc>,
}

/// What an importer needs to continue a server's import exactly where the last batch left it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportResume {
    pub generation: i64,
    pub last_event_at: Option<DateTime<Utc>>,
    /// Open import sessions, oldest first.
    pub open_sessions: Vec<OpenImportSession>,
    /// Import checkouts (feature, user, start) no older than `last_event_at - outs_horizon`.
    pub recent_outs: Vec<(String, String, DateTime<Utc>)>,
    /// Denials not (yet) marked retry, no older than `last_event_at - denials_horizon`:
    /// (id, feature, user, at).
    pub pending_denials: Vec<(i64, String, String, DateTime<Utc>)>,
}

/// One run of an import, for the history list.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ImportRecord {
    pub id: i64,
    pub server_id: ServerId,
    pub file_name: String,
    pub format: String,
    /// `cli`, `api` or `watch`.
    pub via: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// `success`, `failure` or `refused`.
    pub outcome: String,
    pub reason: Option<String>,
    /// Lines, bytes, events by kind, sessions, denials, skipped lines with reasons.
    #[schema(value_type = Object)]
    pub summary: serde_json::Value,
}

#[async_trait]
pub trait ImportStore: Send + Sync {
    /// Checkpoints of a server's files in one format.
    async fn import_checkpoints(
        &self,
        id: ServerId,
        format: &str,
    ) -> StoreResult<Vec<CheckpointRecord>>;
    /// The server's import state, with the look-back horizons of the denial window.
    async fn import_resume(
        &self,
        id: ServerId,
        outs_horizon: Duration,
        denials_horizon: Duration,
    ) -> StoreResult<ImportResume>;
    async fn commit_import_batch(&self, batch: &ImportBatch) -> StoreResult<BatchIds>;
    /// Appends a run to the import history; `id` of the record is ignored.
    async fn record_import_run(&self, record: &ImportRecord) -> StoreResult<i64>;
    /// Newest first.
    async fn import_runs(&self, id: ServerId, limit: u32) -> StoreResult<Vec<ImportRecord>>;
    /// Filtered denials, oldest first unless `query.newest_first`.
    async fn denials(&self, id: ServerId, query: &DenialQuery) -> StoreResult<Vec<DenialRecord>>;
    /// Denials per feature or per user among those `filter` selects, most true denials first;
    /// at most `limit` groups.
    async fn denial_counts(
        &self,
        id: ServerId,
        by: DenialGroup,
        filter: &DenialFilter,
        limit: u32,
    ) -> StoreResult<Vec<DenialCount>>;
}

#[async_trait]
impl ImportStore for SqlStore {
    async fn import_checkpoints(
        &self,
        id: ServerId,
        format: &str,
    ) -> StoreResult<Vec<CheckpointRecord>> {
        let rows = sqlx::query(
            "SELECT id, server_id, format, file_name, head_len, head_hash, byte_offset, line_no, \
             parser_state, totals, updated_at FROM import_checkpoints \
             WHERE server_id = $1 AND format = $2 ORDER BY id",
        )
        .bind(id)
        .bind(format)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CheckpointRecord {
                    id: r.try_get("id")?,
                    server_id: r.try_get("server_id")?,
                    format: r.try_get("format")?,
                    file_name: r.try_get("file_name")?,
                    head_len: r.try_get::<i64, _>("head_len")? as u64,
                    head_hash: r.try_get("head_hash")?,
                    byte_offset: r.try_get::<i64, _>("byte_offset")? as u64,
                    line_no: r.try_get::<i64, _>("line_no")? as u64,
                    parser_state: json_column(r, "parser_state")?,
                    totals: json_column(r, "totals")?,
                    updated_at: from_millis(r.try_get("updated_at")?)?,
                })
            })
            .collect()
    }

    async fn import_resume(
        &self,
        id: ServerId,
        outs_horizon: Duration,
        denials_horizon: Duration,
    ) -> StoreResult<ImportResume> {
        let mut conn = self.pool.acquire().await?;
        let state =
            sqlx::query("SELECT generation, last_event_at FROM import_state WHERE server_id = $1")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
        let (generation, last_event_at) = match state {
            Some(r) => (
                r.try_get::<i64, _>("generation")?,
                opt_from_millis(r.try_get("last_event_at")?)?,
            ),
            None => (0, None),
        };
        let open = sqlx::query(
            "SELECT id, feature, user_name, host, count, started_at FROM sessions \
             WHERE server_id = $1 AND source = $2 AND ended_at IS NULL ORDER BY started_at, id",
        )
        .bind(id)
        .bind(IMPORT_SOURCE)
        .fetch_all(&mut *conn)
        .await?;
        let open_sessions = open
            .iter()
            .map(|r| {
                Ok(OpenImportSession {
                    id: r.try_get("id")?,
                    feature: r.try_get("feature")?,
                    user: r.try_get("user_name")?,
                    host: r.try_get("host")?,
                    count: r.try_get::<i64, _>("count")?.max(0) as u64,
                    started_at: from_millis(r.try_get("started_at")?)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let (mut recent_outs, mut pending_denials) = (Vec::new(), Vec::new());
        if let Some(last) = last_event_at {
            let rows = sqlx::query(
                "SELECT feature, user_name, started_at FROM sessions WHERE server_id = $1 \
                 AND source = $2 AND started_at >= $3 ORDER BY started_at, id",
            )
            .bind(id)
            .bind(IMPORT_SOURCE)
            .bind(millis(last - outs_horizon))
            .fetch_all(&mut *conn)
            .await?;
            for r in &rows {
                recent_outs.push((
                    r.try_get("feature")?,
                    r.try_get("user_name")?,
                    from_millis(r.try_get("started_at")?)?,
                ));
            }
            let rows = sqlx::query(
                "SELECT id, feature, user_name, at FROM denials WHERE server_id = $1 \
                 AND source = $2 AND retry = $3 AND at >= $4 ORDER BY at, id",
            )
            .bind(id)
            .bind(IMPORT_SOURCE)
            .bind(false)
            .bind(millis(last - denials_horizon))
            .fetch_all(&mut *conn)
            .await?;
            for r in &rows {
                pending_denials.push((
                    r.try_get("id")?,
                    r.try_get("feature")?,
                    r.try_get("user_name")?,
                    from_millis(r.try_get("at")?)?,
                ));
            }
        }
        Ok(ImportResume {
            generation,
            last_event_at,
            open_sessions,
            recent_outs,
            pending_denials,
        })
    }

    async fn commit_import_batch(&self, batch: &ImportBatch) -> StoreResult<BatchIds> {
        if let Some(bulk) = &self.sqlite_bulk {
            return bulk.commit(batch).await;
        }
        if let Some(copy) = &self.pg_copy {
            return copy.commit(batch).await;
        }
        let mut writer = AnyWriter {
            tx: self.write_tx().await?,
            backend: self.backend,
        };
        let ids = write_batch(&mut writer, batch).await?;
        writer.tx.commit().await?;
        Ok(ids)
    }

    async fn record_import_run(&self, r: &ImportRecord) -> StoreResult<i64> {
        let row = sqlx::query(
            "INSERT INTO imports (server_id, file_name, format, via, started_at, finished_at, \
             outcome, reason, summary) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(r.server_id)
        .bind(&r.file_name)
        .bind(&r.format)
        .bind(&r.via)
        .bind(millis(r.started_at))
        .bind(millis(r.finished_at))
        .bind(&r.outcome)
        .bind(r.reason.clone())
        .bind(r.summary.to_string())
        .fetch_one(&self.pool)
        .await
        .map_err(foreign_key_is_not_found)?;
        Ok(row.try_get("id")?)
    }

    async fn import_runs(&self, id: ServerId, limit: u32) -> StoreResult<Vec<ImportRecord>> {
        let rows = sqlx::query(
            "SELECT id, server_id, file_name, format, via, started_at, finished_at, outcome, \
             reason, summary FROM imports WHERE server_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(id)
        .bind(i64::from(limit.max(1)))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ImportRecord {
                    id: r.try_get("id")?,
                    server_id: r.try_get("server_id")?,
                    file_name: r.try_get("file_name")?,
                    format: r.try_get("format")?,
                    via: r.try_get("via")?,
                    started_at: from_millis(r.try_get("started_at")?)?,
                    finished_at: from_millis(r.try_get("finished_at")?)?,
                    outcome: r.try_get("outcome")?,
                    reason: r.try_get("reason")?,
                    summary: json_column(r, "summary")?,
                })
            })
            .collect()
    }

    async fn denials(&self, id: ServerId, q: &DenialQuery) -> StoreResult<Vec<DenialRecord>> {
        crate::denials::list(&self.pool, id, q).await
    }

    async fn denial_counts(
        &self,
        id: ServerId,
        by: DenialGroup,
        filter: &DenialFilter,
        limit: u32,
    ) -> StoreResult<Vec<DenialCount>> {
        crate::denials::counts(&self.pool, id, by, filter, limit).await
    }
}

fn json_column(row: &sqlx::any::AnyRow, column: &str) -> StoreResult<serde_json::Value> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

pub(crate) fn foreign_key_is_not_found(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound,
        _ => e.into(),
    }
}

/// A parameter of the statements every import writer runs: the SQL numbers them `$N` in order
/// of first use, so SQLite's raw API (`sqlite_bulk.rs`) binds them by position as well.
pub(crate) enum Param<'a> {
    Int(i64),
    OptInt(Option<i64>),
    Text(&'a str),
    Bool(bool),
}

/// A statement of an import batch and its parameters.
pub(crate) struct Statement<'a> {
    pub sql: Cow<'static, str>,
    pub params: Vec<Param<'a>>,
}

impl<'a> Statement<'a> {
    /// The statement for a sqlx driver: `Any` (the portable writer) or `Postgres` (`pg_copy.rs`).
    pub(crate) fn query<DB: sqlx::Database>(&'a self) -> Query<'a, DB, DB::Arguments<'a>>
    where
        i64: Encode<'a, DB> + Type<DB>,
        Option<i64>: Encode<'a, DB> + Type<DB>,
        &'a str: Encode<'a, DB> + Type<DB>,
        bool: Encode<'a, DB> + Type<DB>,
    {
        let mut q = sqlx::query(&self.sql);
        for p in &self.params {
            q = match p {
                Param::Int(v) => q.bind(*v),
                Param::OptInt(v) => q.bind(*v),
                Param::Text(v) => q.bind(*v),
                Param::Bool(v) => q.bind(*v),
            };
        }
        q
    }
}

/// Takes the server's import generation from `batch.generation` to the next one (run it; one
/// row changed = done).
pub(crate) fn generation_update(batch: &ImportBatch) -> Statement<'static> {
    Statement {
        sql: Cow::Borrowed(
            "UPDATE import_state SET generation = $1, \
              last_event_at = CASE WHEN $2 IS NULL THEN last_event_at \
                  WHEN last_event_at IS NULL OR last_event_at < $2 THEN $2 \
                  ELSE last_event_at END \
              WHERE server_id = $3 AND generation = $4",
        ),
        params: vec![
            Param::Int(batch.generation + 1),
            Param::OptInt(batch.last_event_at.map(millis)),
            Param::Int(batch.server_id),
            Param::Int(batch.generation),
        ],
    }
}

/// The server's first import generation, when [`generation_update`] found no row and the
/// importer started from generation 0.
pub(crate) fn generation_insert(batch: &ImportBatch) -> Option<Statement<'static>> {
    (batch.generation == 0).then(|| Statement {
        sql: Cow::Borrowed(
            "INSERT INTO import_state (server_id, generation, last_event_at) \
              VALUES ($1, $2, $3) ON CONFLICT (server_id) DO NOTHING",
        ),
        params: vec![
            Param::Int(batch.server_id),
            Param::Int(batch.generation + 1),
            Param::OptInt(batch.last_event_at.map(millis)),
        ],
    })
}

/// Updates the batch's checkpoint (run it; no row changed = `NotFound`) or, when it has no id
/// yet, inserts it (`RETURNING id`). `state` and `totals` are the checkpoint's JSON as text.
pub(crate) fn checkpoint_write<'a>(
    batch: &'a ImportBatch,
    state: &'a str,
    totals: &'a str,
) -> Statement<'a> {
    let c = &batch.checkpoint;
    let now = Param::Int(millis(batch.now));
    // file_name, head_len, head_hash, byte_offset, line_no, parser_state, totals.
    let fields = [
        Param::Text(&c.file_name),
        Param::Int(c.head_len as i64),
        Param::Text(&c.head_hash),
        Param::Int(c.byte_offset as i64),
        Param::Int(c.line_no as i64),
        Param::Text(state),
        Param::Text(totals),
    ];
    match c.id {
        Some(existing) => Statement {
            sql: Cow::Borrowed(
                "UPDATE import_checkpoints SET file_name = $1, head_len = $2, head_hash = $3, \
                  byte_offset = $4, line_no = $5, parser_state = $6, totals = $7, \
                  updated_at = $8 WHERE id = $9 AND server_id = $10",
            ),
            params: fields
                .into_iter()
                .chain([now, Param::Int(existing), Param::Int(batch.server_id)])
                .collect(),
        },
        None => Statement {
            sql: Cow::Borrowed(
                "INSERT INTO import_checkpoints (server_id, format, file_name, head_len, \
                  head_hash, byte_offset, line_no, parser_state, totals, created_at, updated_at) \
                  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
            ),
            params: [Param::Int(batch.server_id), Param::Text(&c.format)]
                .into_iter()
                .chain(fields)
                .chain([now])
                .collect(),
        },
    }
}

/// One import batch's transaction as a writer runs it: the shared statements ([`Statement`])
/// and the bulk rows, which each writer inserts its own way (multi-row INSERTs through `Any`
/// here, COPY on PostgreSQL in `pg_copy.rs`). [`write_batch`] is the order they run in.
pub(crate) trait BatchWriter: Send {
    /// Runs a shared statement; rows changed.
    fn execute(
        &mut self,
        statement: &Statement<'_>,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
    /// Runs a shared `INSERT … RETURNING id`; the id.
    fn fetch_id(
        &mut self,
        statement: &Statement<'_>,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    /// Inserts closed sessions (`session_key` empty).
    fn insert_sessions(
        &mut self,
        server_id: ServerId,
        rows: &[NewSession],
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Inserts sessions still open, `session_key` [`open_session_key`]; their ids in order.
    fn insert_open_sessions(
        &mut self,
        server_id: ServerId,
        rows: &[NewSession],
    ) -> impl Future<Output = StoreResult<Vec<i64>>> + Send;
    fn insert_denials(
        &mut self,
        server_id: ServerId,
        rows: &[NewDenial],
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Inserts denials whose window is still open; their ids in order.
    fn insert_pending_denials(
        &mut self,
        server_id: ServerId,
        rows: &[NewDenial],
    ) -> impl Future<Output = StoreResult<Vec<i64>>> + Send;
}

/// Everything of one batch, in the writer's open transaction (the caller commits).
pub(crate) async fn write_batch(
    w: &mut impl BatchWriter,
    batch: &ImportBatch,
) -> StoreResult<BatchIds> {
    let id = batch.server_id;
    let generation = bump_generation(w, batch).await?;
    w.insert_sessions(id, &batch.closed_sessions).await?;
    let open_session_ids = w.insert_open_sessions(id, &batch.open_sessions).await?;
    for chunk in batch.session_ends.chunks(ROWS_PER_UPDATE) {
        w.execute(&session_ends_update(chunk)).await?;
    }
    w.insert_denials(id, &batch.denials).await?;
    let pending_denial_ids = w.insert_pending_denials(id, &batch.pending_denials).await?;
    for chunk in batch.retried_denials.chunks(ROWS_PER_UPDATE) {
        w.execute(&denials_retry_update(chunk)).await?;
    }
    let checkpoint_id = write_checkpoint(w, batch).await?;
    Ok(BatchIds {
        checkpoint_id,
        generation,
        open_session_ids,
        pending_denial_ids,
    })
}

/// The portable writer: multi-row INSERTs of [`ROWS_PER_INSERT`] rows through `Any` (in-memory
/// SQLite; SQLite files and PostgreSQL have their own).
struct AnyWriter {
    tx: Transaction<'static, Any>,
    backend: Backend,
}

impl BatchWriter for AnyWriter {
    async fn execute(&mut self, statement: &Statement<'_>) -> StoreResult<u64> {
        let done = (statement.query::<Any>().execute(&mut *self.tx).await)
            .map_err(foreign_key_is_not_found)?;
        Ok(done.rows_affected())
    }

    async fn fetch_id(&mut self, statement: &Statement<'_>) -> StoreResult<i64> {
        let row = (statement.query::<Any>().fetch_one(&mut *self.tx).await)
            .map_err(foreign_key_is_not_found)?;
        Ok(row.try_get("id")?)
    }

    async fn insert_sessions(&mut self, id: ServerId, rows: &[NewSession]) -> StoreResult<()> {
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            insert_sessions(&mut self.tx, id, chunk, self.backend).await?;
        }
        Ok(())
    }

    async fn insert_open_sessions(
        &mut self,
        id: ServerId,
        rows: &[NewSession],
    ) -> StoreResult<Vec<i64>> {
        let mut ids = vec![0; rows.len()];
        for (n, chunk) in rows.chunks(ROWS_PER_INSERT).enumerate() {
            let first = n * ROWS_PER_INSERT;
            for (i, session_id) in
                insert_open_sessions(&mut self.tx, id, chunk, first, self.backend).await?
            {
                ids[i] = session_id;
            }
        }
        Ok(ids)
    }

    async fn insert_denials(&mut self, id: ServerId, rows: &[NewDenial]) -> StoreResult<()> {
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            insert_denials(&mut self.tx, id, chunk, self.backend).await?;
        }
        Ok(())
    }

    async fn insert_pending_denials(
        &mut self,
        id: ServerId,
        rows: &[NewDenial],
    ) -> StoreResult<Vec<i64>> {
        let mut ids = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            ids.extend(insert_pending_denials(&mut self.tx, id, chunk, self.backend).await?);
        }
        Ok(ids)
    }
}

/// Takes the server's import generation from `batch.generation` to the next one, or fails with
/// `Conflict` when another import committed in between.
async fn bump_generation(w: &mut impl BatchWriter, batch: &ImportBatch) -> StoreResult<i64> {
    if w.execute(&generation_update(batch)).await? == 1 {
        return Ok(batch.generation + 1);
    }
    if let Some(insert) = generation_insert(batch)
        && w.execute(&insert).await? == 1
    {
        return Ok(batch.generation + 1);
    }
    Err(generation_conflict())
}

pub(crate) fn generation_conflict() -> StoreError {
    StoreError::Conflict(
        "another import of this license server committed in the meantime; run the import again"
            .into(),
    )
}

/// `session_key` of the `i`th open session of a batch: it carries the index through
/// RETURNING, which promises no order (imports use the column for nothing else).
pub(crate) fn open_session_key(i: usize) -> String {
    format!("open#{i}")
}

const SESSION_COLUMNS: &str = "INSERT INTO sessions (server_id, source, session_key, feature, \
     user_name, host, display, version, count, borrowed, started_at, ended_at) VALUES ";

async fn insert_sessions(
    tx: &mut Transaction<'_, Any>,
    id: ServerId,
    rows: &[NewSession],
    backend: Backend,
) -> StoreResult<()> {
    let mut sql = String::from(SESSION_COLUMNS);
    push_placeholders(&mut sql, backend, rows.len(), 12, 1);
    let mut q = sqlx::query(&sql);
    for s in rows {
        q = bind_session(q, id, s, "");
    }
    q.execute(&mut **tx)
        .await
        .map_err(foreign_key_is_not_found)?;
    Ok(())
}

type AnyQuery<'q> = Query<'q, Any, sqlx::any::AnyArguments<'q>>;

fn bind_session<'q>(
    q: AnyQuery<'q>,
    id: ServerId,
    s: &'q NewSession,
    key: &'q str,
) -> AnyQuery<'q> {
    q.bind(id)
        .bind(IMPORT_SOURCE)
        .bind(key)
        .bind(s.feature.as_str())
        .bind(s.user.as_str())
        .bind(s.host.as_str())
        .bind(None::<String>)
        .bind(None::<String>)
        .bind(s.count as i64)
        .bind(false)
        .bind(millis(s.started_at))
        .bind(s.ended_at.map(millis))
}

/// Inserts sessions that are still open, the batch's from index `first` on; returns (index in
/// the batch, id). The index travels in `session_key` ([`open_session_key`]).
async fn insert_open_sessions(
    tx: &mut Transaction<'_, Any>,
    id: ServerId,
    rows: &[NewSession],
    first: usize,
    backend: Backend,
) -> StoreResult<Vec<(usize, i64)>> {
    let keys: Vec<String> = (first..first + rows.len()).map(open_session_key).collect();
    let mut sql = String::from(SESSION_COLUMNS);
    push_placeholders(&mut sql, backend, rows.len(), 12, 1);
    sql.push_str(" RETURNING id, session_key");
    let mut q = sqlx::query(&sql);
    for (s, key) in rows.iter().zip(&keys) {
        q = bind_session(q, id, s, key);
    }
    let returned = q
        .fetch_all(&mut **tx)
        .await
        .map_err(foreign_key_is_not_found)?;
    returned
        .iter()
        .map(|r| {
            let key: String = r.try_get("session_key")?;
            let i = key
                .strip_prefix("open#")
                .and_then(|i| i.parse::<usize>().ok())
                .filter(|i| (first..first + rows.len()).contains(i))
                .ok_or_else(|| StoreError::Corrupt(format!("unexpected session key {key}")))?;
            Ok((i, r.try_get("id")?))
        })
        .collect()
}

/// `UPDATE ... SET ended_at = CASE id WHEN .. THEN .. END WHERE id IN (..)`: many ends in one
/// statement, portable to both backends.
pub(crate) fn session_ends_update(ends: &[(i64, DateTime<Utc>)]) -> Statement<'static> {
    use std::fmt::Write;
    // By id alone (the importer's own rows): a `server_id =` term makes SQLite walk the
    // server's index instead of the primary key.
    let mut sql = String::from("UPDATE sessions SET ended_at = CASE id");
    for i in 0..ends.len() {
        let _ = write!(sql, " WHEN ${} THEN ${}", 2 * i + 1, 2 * i + 2);
    }
    sql.push_str(" END WHERE id IN (");
    for i in 0..ends.len() {
        let _ = write!(sql, "{}${}", if i == 0 { "" } else { "," }, 2 * i + 1);
    }
    sql.push(')');
    let params = ends
        .iter()
        .flat_map(|(session_id, ended)| [Param::Int(*session_id), Param::Int(millis(*ended))])
        .collect();
    Statement {
        sql: Cow::Owned(sql),
        params,
    }
}

/// Marks denials written before as retries, by id alone (with `server_id =` SQLite would walk
/// the server's index instead).
pub(crate) fn denials_retry_update(ids: &[i64]) -> Statement<'static> {
    let mut sql = String::from("UPDATE denials SET retry = $1 WHERE id IN (");
    for i in 0..ids.len() {
        sql.push_str(&format!("{}${}", if i == 0 { "" } else { "," }, i + 2));
    }
    sql.push(')');
    Statement {
        sql: Cow::Owned(sql),
        params: std::iter::once(Param::Bool(true))
            .chain(ids.iter().map(|id| Param::Int(*id)))
            .collect(),
    }
}

const DENIAL_COLUMNS: &str = "INSERT INTO denials (server_id, source, at, feature, user_name, \
     host, count, reason, retry) VALUES ";

fn bind_denial<'q>(q: AnyQuery<'q>, id: ServerId, d: &'q NewDenial) -> AnyQuery<'q> {
    q.bind(id)
        .bind(IMPORT_SOURCE)
        .bind(millis(d.at))
        .bind(d.feature.as_str())
        .bind(d.user.as_str())
        .bind(d.host.as_str())
        .bind(d.count as i64)
        .bind(d.reason.as_deref())
        .bind(d.retry)
}

async fn insert_denials(
    tx: &mut Transaction<'_, Any>,
    id: ServerId,
    rows: &[NewDenial],
    backend: Backend,
) -> StoreResult<()> {
    let mut sql = String::from(DENIAL_COLUMNS);
    push_placeholders(&mut sql, backend, rows.len(), 9, 1);
    let mut q = sqlx::query(&sql);
    for d in rows {
        q = bind_denial(q, id, d);
    }
    q.execute(&mut **tx)
        .await
        .map_err(foreign_key_is_not_found)?;
    Ok(())
}

/// Inserts denials whose window is still open; returns their ids in the order of `rows`.
/// RETURNING promises no order, so rows are matched back by content (identical denials are
/// interchangeable).
async fn insert_pending_denials(
    tx: &mut Transaction<'_, Any>,
    id: ServerId,
    rows: &[NewDenial],
    backend: Backend,
) -> StoreResult<Vec<i64>> {
    let mut sql = String::from(DENIAL_COLUMNS);
    push_placeholders(&mut sql, backend, rows.len(), 9, 1);
    sql.push_str(" RETURNING id, at, feature, user_name, host");
    let mut q = sqlx::query(&sql);
    for d in rows {
        q = bind_denial(q, id, d);
    }
    let returned = q
        .fetch_all(&mut **tx)
        .await
        .map_err(foreign_key_is_not_found)?;
    let mut by_content: std::collections::HashMap<(i64, String, String, String), Vec<i64>> =
        std::collections::HashMap::new();
    for r in &returned {
        by_content
            .entry((
                r.try_get("at")?,
                r.try_get("feature")?,
                r.try_get("user_name")?,
                r.try_get("host")?,
            ))
            .or_default()
            .push(r.try_get("id")?);
    }
    rows.iter()
        .map(|d| {
            let key = (
                millis(d.at),
                d.feature.clone(),
                d.user.clone(),
                d.host.clone(),
            );
            by_content
                .get_mut(&key)
                .and_then(Vec::pop)
                .ok_or_else(|| StoreError::Corrupt("a denial's id did not come back".into()))
        })
        .collect()
}

async fn write_checkpoint(w: &mut impl BatchWriter, batch: &ImportBatch) -> StoreResult<i64> {
    let (state, totals) = checkpoint_json(batch);
    let statement = checkpoint_write(batch, &state, &totals);
    let Some(existing) = batch.checkpoint.id else {
        return w.fetch_id(&statement).await;
    };
    if w.execute(&statement).await? == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(existing)
}

/// The checkpoint's parser state and totals as JSON text.
pub(crate) fn checkpoint_json(batch: &ImportBatch) -> (String, String) {
    let c = &batch.checkpoint;
    (c.parser_state.to_string(), c.totals.to_string())
}

#[cfg(test)]
#[path = "imports_tests.rs"]
pub(crate) mod tests;
