//! SQLite's writer for import batches: the same rows and the same single transaction as the
//! portable path in `imports.rs`, but written through prepared statements on the raw handle of
//! a dedicated sqlx SQLite connection (`SqliteConnection::lock_handle`, so it is sqlx's own
//! SQLite build). The `Any` driver copies every parameter into an owned value and converts it
//! again for SQLite, and answers each statement through the connection's worker thread; here a
//! row is bind + step + reset, and the ids of new rows come from `sqlite3_last_insert_rowid`.
//!
//! The connection is one more writer on the same file: the transaction starts with
//! `BEGIN IMMEDIATE` like every other write (`SqlStore::write_tx`), so pollers and imports queue
//! on SQLite's write lock (busy timeout) instead of deadlocking.

use std::ffi::{CStr, c_int};
use std::marker::PhantomData;
use std::path::Path;
use std::ptr::{self, NonNull};
use std::time::Duration;

use libsqlite3_sys as ffi;
use sqlx::ConnectOptions;
use sqlx::pool::PoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};

use crate::imports::{
    BatchIds, IMPORT_SOURCE, ImportBatch, NewDenial, NewSession, Param, Statement, checkpoint_json,
    checkpoint_write, generation_conflict, generation_insert, generation_update, open_session_key,
};
use crate::rows::millis;
use crate::{StoreError, StoreResult};

/// Page cache of the import connection (KiB): the sessions table and its two indexes are
/// appended to all the time; with SQLite's default 2 MB their hot pages keep being read back.
const CACHE_KIB: i64 = 32 * 1024;

/// The import writer of one SQLite database file.
#[derive(Clone)]
pub(crate) struct SqliteBulk {
    pool: SqlitePool,
    /// Agent row ids by agent id, as this connection last wrote them (`sqlite_agents.rs`).
    agent_ids: std::sync::Arc<std::sync::Mutex<crate::sqlite_agents::AgentIds>>,
}

impl SqliteBulk {
    /// A pool of one connection to `path`, opened on first use.
    pub(crate) fn new(path: &Path) -> Self {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(false)
            .foreign_keys(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", format!("-{CACHE_KIB}"))
            .disable_statement_logging();
        let pool = PoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .idle_timeout(Duration::from_secs(60))
            .acquire_timeout(Duration::from_secs(30))
            .connect_lazy_with(options);
        Self {
            pool,
            agent_ids: Default::default(),
        }
    }

    pub(crate) fn agent_ids(&self) -> &std::sync::Mutex<crate::sqlite_agents::AgentIds> {
        &self.agent_ids
    }

    /// Forgets the agents' remembered row ids (one was deleted).
    pub(crate) fn forget_agents(&self) {
        self.agent_ids
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    /// Writes one batch in one transaction (see [`crate::ImportStore::commit_import_batch`]).
    pub(crate) async fn commit(&self, batch: &ImportBatch) -> StoreResult<BatchIds> {
        self.write(|db| write_batch(db, batch)).await
    }

    /// Runs `write` in one `BEGIN IMMEDIATE` transaction on this connection, committed when it
    /// returns `Ok` (also the agent report writer, `sqlite_agents.rs`).
    pub(crate) async fn write<R>(
        &self,
        write: impl FnOnce(&Db) -> StoreResult<R>,
    ) -> StoreResult<R> {
        self.with_db(|db| {
            let tx = Tx::begin(db)?;
            let out = write(db)?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    /// Runs `read` on this connection outside any write transaction: the big reads that sqlx
    /// would hand over one row at a time between threads (the imported sessions behind a usage
    /// history, `history.rs`). WAL: it reads the last commit and holds no writer up.
    pub(crate) async fn read<R>(&self, read: impl FnOnce(&Db) -> StoreResult<R>) -> StoreResult<R> {
        self.with_db(read).await
    }

    /// `f` with the raw handle of this pool's one connection.
    async fn with_db<R>(&self, f: impl FnOnce(&Db) -> StoreResult<R>) -> StoreResult<R> {
        let mut conn = self.pool.acquire().await?;
        let mut locked = conn.lock_handle().await?;
        let db = Db {
            handle: locked.as_raw_handle(),
        };
        // SQLite blocks (the write lock's busy wait, the writes themselves, a long read): keep
        // the runtime's other tasks moving while it does.
        blocking(|| f(&db))
    }
}

fn blocking<R>(f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

const INSERT_SESSION: &str = "INSERT INTO sessions (server_id, source, session_key, feature, \
     user_name, host, display, version, count, borrowed, started_at, ended_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, NULL, ?7, 0, ?8, ?9)";
const INSERT_DENIAL: &str = "INSERT INTO denials (server_id, source, at, feature, user_name, \
     host, count, reason, retry) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

/// Inserts `rows` through one prepared statement, one step each, and pushes their ids to `ids`
/// when given. (Multi-row statements measured no faster here: the cost per row is SQLite's
/// b-tree work, not the statement.)
fn insert_each<'s, T>(
    db: &'s Db,
    sql: &str,
    rows: &'s [T],
    mut ids: Option<&mut Vec<i64>>,
    mut bind: impl FnMut(&mut Stmt<'s>, &'s T) -> StoreResult<()>,
) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut stmt = db.prepare(sql)?;
    for row in rows {
        bind(&mut stmt, row)?;
        stmt.run()?;
        if let Some(ids) = ids.as_deref_mut() {
            ids.push(db.last_insert_rowid());
        }
    }
    Ok(())
}

fn write_batch(db: &Db, batch: &ImportBatch) -> StoreResult<BatchIds> {
    let id = batch.server_id;
    let generation = bump_generation(db, batch)?;

    insert_each(
        db,
        INSERT_SESSION,
        &batch.closed_sessions,
        None,
        |stmt, s| bind_session(stmt, id, s, ""),
    )?;
    let open: Vec<(&NewSession, String)> = (batch.open_sessions.iter())
        .zip((0..).map(open_session_key))
        .collect();
    let mut open_session_ids = Vec::with_capacity(open.len());
    insert_each(
        db,
        INSERT_SESSION,
        &open,
        Some(&mut open_session_ids),
        |stmt, (s, key)| bind_session(stmt, id, s, key),
    )?;

    let mut end = db.prepare("UPDATE sessions SET ended_at = ?1 WHERE id = ?2")?;
    for (session_id, ended) in &batch.session_ends {
        end.bind_i64(1, millis(*ended))?;
        end.bind_i64(2, *session_id)?;
        end.run()?;
    }
    drop(end);

    insert_each(db, INSERT_DENIAL, &batch.denials, None, |stmt, d| {
        bind_denial(stmt, id, d)
    })?;
    let mut pending_denial_ids = Vec::with_capacity(batch.pending_denials.len());
    let pending = Some(&mut pending_denial_ids);
    insert_each(
        db,
        INSERT_DENIAL,
        &batch.pending_denials,
        pending,
        |stmt, d| bind_denial(stmt, id, d),
    )?;

    let mut retried = db.prepare("UPDATE denials SET retry = 1 WHERE id = ?1")?;
    for denial_id in &batch.retried_denials {
        retried.bind_i64(1, *denial_id)?;
        retried.run()?;
    }
    drop(retried);

    let checkpoint_id = write_checkpoint(db, batch)?;
    Ok(BatchIds {
        checkpoint_id,
        generation,
        open_session_ids,
        pending_denial_ids,
    })
}

/// The parameters of [`INSERT_SESSION`].
fn bind_session<'s>(
    stmt: &mut Stmt<'s>,
    server_id: i64,
    s: &'s NewSession,
    key: &'s str,
) -> StoreResult<()> {
    stmt.bind_i64(1, server_id)?;
    stmt.bind_text(2, IMPORT_SOURCE)?;
    stmt.bind_text(3, key)?;
    stmt.bind_text(4, &s.feature)?;
    stmt.bind_text(5, &s.user)?;
    stmt.bind_text(6, &s.host)?;
    stmt.bind_i64(7, s.count as i64)?;
    stmt.bind_i64(8, millis(s.started_at))?;
    stmt.bind_opt_i64(9, s.ended_at.map(millis))
}

/// The parameters of [`INSERT_DENIAL`].
fn bind_denial<'s>(stmt: &mut Stmt<'s>, server_id: i64, d: &'s NewDenial) -> StoreResult<()> {
    stmt.bind_i64(1, server_id)?;
    stmt.bind_text(2, IMPORT_SOURCE)?;
    stmt.bind_i64(3, millis(d.at))?;
    stmt.bind_text(4, &d.feature)?;
    stmt.bind_text(5, &d.user)?;
    stmt.bind_text(6, &d.host)?;
    stmt.bind_i64(7, d.count as i64)?;
    stmt.bind_opt_text(8, d.reason.as_deref())?;
    stmt.bind_i64(9, i64::from(d.retry))
}

/// [`generation_update`], else [`generation_insert`], as the portable writer does.
fn bump_generation(db: &Db, batch: &ImportBatch) -> StoreResult<i64> {
    if db.execute(&generation_update(batch))? == 1 {
        return Ok(batch.generation + 1);
    }
    if let Some(insert) = generation_insert(batch)
        && db.execute(&insert)? == 1
    {
        return Ok(batch.generation + 1);
    }
    Err(generation_conflict())
}

fn write_checkpoint(db: &Db, batch: &ImportBatch) -> StoreResult<i64> {
    let (state, totals) = checkpoint_json(batch);
    let statement = checkpoint_write(batch, &state, &totals);
    let Some(existing) = batch.checkpoint.id else {
        return db.query_id(&statement);
    };
    if db.execute(&statement)? == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(existing)
}

/// A borrowed `sqlite3*`, valid while sqlx's handle lock is held (the caller's borrow).
pub(crate) struct Db {
    handle: NonNull<ffi::sqlite3>,
}

impl Db {
    fn raw(&self) -> *mut ffi::sqlite3 {
        self.handle.as_ptr()
    }

    pub(crate) fn prepare(&self, sql: &str) -> StoreResult<Stmt<'_>> {
        let mut stmt = ptr::null_mut();
        let len = c_int::try_from(sql.len())
            .map_err(|_| StoreError::Unavailable("SQL statement too long".into()))?;
        // SAFETY: the handle is open and ours while the lock is held; `sql` is valid for `len`
        // bytes (no NUL terminator needed when the length is given).
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                self.raw(),
                sql.as_ptr().cast(),
                len,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut stmt,
                ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(self.error(sql));
        }
        let stmt = NonNull::new(stmt)
            .ok_or_else(|| StoreError::Unavailable(format!("SQLite prepared nothing for {sql}")))?;
        Ok(Stmt {
            db: self,
            stmt,
            _strings: PhantomData,
        })
    }

    /// Runs SQL without parameters or results (transaction control).
    fn exec(&self, sql: &CStr) -> StoreResult<()> {
        // SAFETY: a NUL-terminated statement on an open handle; no callback.
        let rc = unsafe {
            ffi::sqlite3_exec(
                self.raw(),
                sql.as_ptr(),
                None,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(self.error(&sql.to_string_lossy()))
        }
    }

    /// Runs one of the statements shared with the portable writer; rows changed.
    fn execute(&self, statement: &Statement<'_>) -> StoreResult<u64> {
        self.shared(statement)?.run()
    }

    /// Runs a shared `INSERT … RETURNING id`; the id.
    fn query_id(&self, statement: &Statement<'_>) -> StoreResult<i64> {
        let mut stmt = self.shared(statement)?;
        let id = stmt.step_row()?.ok_or_else(|| {
            StoreError::Unavailable(format!("SQLite returned no id for `{}`", statement.sql))
        })?;
        stmt.run()?;
        Ok(id)
    }

    /// Prepares a shared statement and binds its parameters by position, after checking that
    /// its `$N` are numbered in order of first use (what binding by position needs).
    fn shared<'s>(&'s self, statement: &'s Statement<'s>) -> StoreResult<Stmt<'s>> {
        let mut stmt = self.prepare(&statement.sql)?;
        // SAFETY: a live statement.
        let count = unsafe { ffi::sqlite3_bind_parameter_count(stmt.stmt.as_ptr()) };
        let in_order = (1..=count).all(|i| {
            // SAFETY: a live statement; the name (if any) lives as long as the statement.
            let name = unsafe { ffi::sqlite3_bind_parameter_name(stmt.stmt.as_ptr(), i) };
            !name.is_null()
                && unsafe { CStr::from_ptr(name) }.to_bytes() == format!("${i}").as_bytes()
        });
        if !in_order || usize::try_from(count).ok() != Some(statement.params.len()) {
            return Err(StoreError::Unavailable(format!(
                "import statement's parameters are not $1..${} in order: `{}`",
                statement.params.len(),
                statement.sql
            )));
        }
        for (i, p) in (1..).zip(&statement.params) {
            match p {
                Param::Int(v) => stmt.bind_i64(i, *v)?,
                Param::OptInt(v) => stmt.bind_opt_i64(i, *v)?,
                Param::Text(v) => stmt.bind_text(i, v)?,
                Param::Bool(v) => stmt.bind_i64(i, i64::from(*v))?,
            }
        }
        Ok(stmt)
    }

    fn last_insert_rowid(&self) -> i64 {
        // SAFETY: an open handle.
        unsafe { ffi::sqlite3_last_insert_rowid(self.raw()) }
    }

    fn in_transaction(&self) -> bool {
        // SAFETY: an open handle.
        unsafe { ffi::sqlite3_get_autocommit(self.raw()) == 0 }
    }

    /// The connection's last error as a store error: a foreign-key violation is a server that
    /// does not exist (as on the portable path), the rest is broken infrastructure.
    fn error(&self, sql: &str) -> StoreError {
        // SAFETY: an open handle; the message is copied before any other call on it.
        let (code, message) = unsafe {
            let code = ffi::sqlite3_extended_errcode(self.raw());
            let message = CStr::from_ptr(ffi::sqlite3_errmsg(self.raw()))
                .to_string_lossy()
                .into_owned();
            (code, message)
        };
        if code == ffi::SQLITE_CONSTRAINT_FOREIGNKEY {
            return StoreError::NotFound;
        }
        let sql: String = sql.chars().take(80).collect();
        StoreError::Unavailable(format!("SQLite error {code}: {message} (in `{sql}`)"))
    }
}

/// `BEGIN IMMEDIATE` … `COMMIT`; rolled back when dropped before the commit (an error or a
/// panic on the way), so the connection goes back to the pool outside any transaction.
struct Tx<'db> {
    db: &'db Db,
    done: bool,
}

impl<'db> Tx<'db> {
    fn begin(db: &'db Db) -> StoreResult<Self> {
        db.exec(c"BEGIN IMMEDIATE")?;
        Ok(Self { db, done: false })
    }

    fn commit(mut self) -> StoreResult<()> {
        self.done = true;
        let result = self.db.exec(c"COMMIT");
        if result.is_err() && self.db.in_transaction() {
            let _ = self.db.exec(c"ROLLBACK");
        }
        result
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done && self.db.in_transaction() {
            let _ = self.db.exec(c"ROLLBACK");
        }
    }
}

/// A prepared statement. Text is bound without a copy (`SQLITE_STATIC`), so every string bound
/// must outlive the statement: `'s`.
pub(crate) struct Stmt<'s> {
    db: &'s Db,
    stmt: NonNull<ffi::sqlite3_stmt>,
    _strings: PhantomData<&'s str>,
}

impl<'s> Stmt<'s> {
    fn check(&self, rc: c_int) -> StoreResult<()> {
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    /// The connection's last error, naming this statement.
    fn error(&self) -> StoreError {
        // SAFETY: a live statement; its SQL text lives as long as it does.
        let sql = unsafe { ffi::sqlite3_sql(self.stmt.as_ptr()) };
        let sql = if sql.is_null() {
            String::new()
        } else {
            // SAFETY: NUL-terminated, owned by the statement.
            unsafe { CStr::from_ptr(sql) }
                .to_string_lossy()
                .into_owned()
        };
        self.db.error(&sql)
    }

    pub(crate) fn bind_i64(&mut self, index: c_int, value: i64) -> StoreResult<()> {
        // SAFETY: a live statement; SQLite checks the index.
        let rc = unsafe { ffi::sqlite3_bind_int64(self.stmt.as_ptr(), index, value) };
        self.check(rc)
    }

    pub(crate) fn bind_opt_i64(&mut self, index: c_int, value: Option<i64>) -> StoreResult<()> {
        match value {
            Some(v) => self.bind_i64(index, v),
            None => self.bind_null(index),
        }
    }

    fn bind_null(&mut self, index: c_int) -> StoreResult<()> {
        // SAFETY: a live statement; SQLite checks the index.
        let rc = unsafe { ffi::sqlite3_bind_null(self.stmt.as_ptr(), index) };
        self.check(rc)
    }

    pub(crate) fn bind_text(&mut self, index: c_int, value: &'s str) -> StoreResult<()> {
        // SAFETY: `value` outlives the statement ('s), so SQLITE_STATIC (no copy) is sound;
        // the length is given, so no NUL terminator is needed.
        let rc = unsafe {
            ffi::sqlite3_bind_text64(
                self.stmt.as_ptr(),
                index,
                value.as_ptr().cast(),
                value.len() as u64,
                ffi::SQLITE_STATIC(),
                ffi::SQLITE_UTF8 as u8,
            )
        };
        self.check(rc)
    }

    pub(crate) fn bind_opt_text(
        &mut self,
        index: c_int,
        value: Option<&'s str>,
    ) -> StoreResult<()> {
        match value {
            Some(v) => self.bind_text(index, v),
            None => self.bind_null(index),
        }
    }

    /// Steps once expecting a row; its first column.
    pub(crate) fn step_row(&mut self) -> StoreResult<Option<i64>> {
        // SAFETY: a live statement with its parameters bound.
        match unsafe { ffi::sqlite3_step(self.stmt.as_ptr()) } {
            // SAFETY: a row is current, column 0 exists for RETURNING id.
            ffi::SQLITE_ROW => Ok(Some(unsafe {
                ffi::sqlite3_column_int64(self.stmt.as_ptr(), 0)
            })),
            ffi::SQLITE_DONE => Ok(None),
            _ => {
                // SAFETY: as above; reset reports the step's error, which `error` reads.
                unsafe { ffi::sqlite3_reset(self.stmt.as_ptr()) };
                Err(self.error())
            }
        }
    }

    /// Steps a query to its next row: true while there is one (read by `column_*`), false at
    /// the end (the statement is reset).
    pub(crate) fn next_row(&mut self) -> StoreResult<bool> {
        // SAFETY: a live statement with its parameters bound.
        match unsafe { ffi::sqlite3_step(self.stmt.as_ptr()) } {
            ffi::SQLITE_ROW => Ok(true),
            ffi::SQLITE_DONE => {
                // SAFETY: as above.
                unsafe { ffi::sqlite3_reset(self.stmt.as_ptr()) };
                Ok(false)
            }
            _ => {
                // SAFETY: as above; reset reports the step's error, which `error` reads.
                unsafe { ffi::sqlite3_reset(self.stmt.as_ptr()) };
                Err(self.error())
            }
        }
    }

    /// Column `i` of the current row as an integer (0 for NULL).
    pub(crate) fn column_i64(&self, i: c_int) -> i64 {
        // SAFETY: a row is current (after `next_row` gave true); SQLite checks the index.
        unsafe { ffi::sqlite3_column_int64(self.stmt.as_ptr(), i) }
    }

    /// Column `i` of the current row as an integer, None for NULL.
    pub(crate) fn column_opt_i64(&self, i: c_int) -> Option<i64> {
        // SAFETY: as in `column_i64`.
        let null = unsafe { ffi::sqlite3_column_type(self.stmt.as_ptr(), i) } == ffi::SQLITE_NULL;
        (!null).then(|| self.column_i64(i))
    }

    /// Column `i` of the current row as text, valid until the next step.
    pub(crate) fn column_text(&self, i: c_int) -> StoreResult<&str> {
        // SAFETY: as in `column_i64`; the text pointer is read before its length, as SQLite
        // asks, and lives until the next step, which needs `&mut self`.
        let bytes = unsafe {
            let text = ffi::sqlite3_column_text(self.stmt.as_ptr(), i);
            let len = ffi::sqlite3_column_bytes(self.stmt.as_ptr(), i);
            if text.is_null() {
                &[][..]
            } else {
                std::slice::from_raw_parts(text, len.max(0) as usize)
            }
        };
        std::str::from_utf8(bytes)
            .map_err(|e| StoreError::Corrupt(format!("text that is not UTF-8 in column {i}: {e}")))
    }

    /// Steps a statement that returns no rows, resets it for the next one; rows changed.
    pub(crate) fn run(&mut self) -> StoreResult<u64> {
        // SAFETY: a live statement with every parameter bound (unbound ones are NULL).
        let rc = unsafe { ffi::sqlite3_step(self.stmt.as_ptr()) };
        // SAFETY: as above; reset keeps the bindings, which the next row replaces.
        let reset = unsafe { ffi::sqlite3_reset(self.stmt.as_ptr()) };
        if rc != ffi::SQLITE_DONE {
            return Err(self.error());
        }
        self.check(reset)?;
        // SAFETY: an open handle.
        Ok(unsafe { ffi::sqlite3_changes64(self.db.raw()) }.max(0) as u64)
    }
}

impl Drop for Stmt<'_> {
    fn drop(&mut self) {
        // SAFETY: finalized exactly once, here.
        unsafe { ffi::sqlite3_finalize(self.stmt.as_ptr()) };
    }
}

#[cfg(test)]
mod tests {
    use crate::imports::tests::{t, test_checkpoint, test_server};
    use crate::{DatabaseUrl, ImportStore, SqlStore};

    use super::*;

    fn batch(server_id: i64, generation: i64, checkpoint: Option<i64>) -> ImportBatch {
        let session = |user: &str, end: Option<i64>| NewSession {
            feature: "CAD".into(),
            user: user.into(),
            host: format!("{user}-pc"),
            count: 1,
            started_at: t(0),
            ended_at: end.map(t),
        };
        ImportBatch {
            server_id,
            generation,
            now: t(100),
            last_event_at: Some(t(60)),
            checkpoint: test_checkpoint(checkpoint),
            closed_sessions: vec![session("ana", Some(50)), session("bo", Some(60))],
            open_sessions: vec![session("ché", None)],
            session_ends: Vec::new(),
            denials: Vec::new(),
            pending_denials: Vec::new(),
            retried_denials: Vec::new(),
        }
    }

    async fn store_with_server() -> (SqlStore, i64, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqlStore::open(&DatabaseUrl::sqlite_in(dir.path()))
            .await
            .unwrap();
        let server_id = test_server(&store).await;
        (store, server_id, dir)
    }

    async fn import_sessions(store: &SqlStore, server_id: i64) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE server_id = $1")
            .bind(server_id)
            .fetch_one(&store.pool)
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_waits_for_another_writer_then_commits() {
        let (store, id, _dir) = store_with_server().await;
        let mut other = store.write_tx().await.unwrap();
        sqlx::query("UPDATE license_servers SET description = 'busy' WHERE id = $1")
            .bind(id)
            .execute(&mut *other)
            .await
            .unwrap();
        let writer = {
            let store = store.clone();
            tokio::spawn(async move { store.commit_import_batch(&batch(id, 0, None)).await })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !writer.is_finished(),
            "the batch must queue on the write lock"
        );
        other.commit().await.unwrap();
        let ids = writer.await.unwrap().unwrap();
        assert_eq!(ids.generation, 1);
        assert_eq!(ids.open_session_ids.len(), 1);
        assert_eq!(import_sessions(&store, id).await, 3);
        store.close().await;
    }

    #[tokio::test]
    async fn a_failed_batch_leaves_nothing_and_the_next_one_commits() {
        let (store, id, _dir) = store_with_server().await;
        // A checkpoint id that does not exist: found out after the sessions are written.
        let err = store
            .commit_import_batch(&batch(id, 0, Some(999)))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{err:?}");
        assert_eq!(import_sessions(&store, id).await, 0);
        // A server that does not exist: the foreign key says so.
        let err = store
            .commit_import_batch(&batch(id + 1000, 0, None))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{err:?}");
        // The connection went back outside any transaction.
        let ids = store
            .commit_import_batch(&batch(id, 0, None))
            .await
            .unwrap();
        assert_eq!(ids.generation, 1);
        assert_eq!(import_sessions(&store, id).await, 3);
        let resume = store
            .import_resume(
                id,
                chrono::Duration::seconds(65),
                chrono::Duration::seconds(62),
            )
            .await
            .unwrap();
        assert_eq!(resume.open_sessions.len(), 1);
        assert_eq!(resume.open_sessions[0].id, ids.open_session_ids[0]);
        assert_eq!(resume.open_sessions[0].user, "ché");
        store.close().await;
    }
}
