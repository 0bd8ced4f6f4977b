//! PostgreSQL's writer for import batches: the same rows and the same single transaction as the
//! portable path in `imports.rs` (`write_batch`, the shared statements for the generation, the
//! session ends, the retries and the checkpoint), but the bulk rows — closed and open sessions,
//! final and pending denials — go in by `COPY … FROM STDIN` in text format (`copy_text.rs`)
//! instead of multi-row INSERTs: one round trip per table and no parameter binding per value.
//!
//! sqlx's `Any` connection cannot COPY, so the store keeps a small pool of native PostgreSQL
//! connections to the same database beside its `Any` pool (as `sqlite_bulk.rs` does for SQLite
//! files); a batch runs wholly on one of them, in one transaction with its checkpoint.
//!
//! COPY returns no ids. Open sessions and pending denials need theirs (the importer closes and
//! marks them by id later), so those ids are drawn from the tables' sequences first and copied
//! in with the rows.

use std::str::FromStr;
use std::time::Duration;

use licmon_core::ServerId;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Postgres, Row, Transaction};

use crate::copy_text::CopyRows;
use crate::imports::{
    BatchIds, BatchWriter, IMPORT_SOURCE, ImportBatch, NewDenial, NewSession, Statement,
    foreign_key_is_not_found, open_session_key, write_batch,
};
use crate::rows::millis;
use crate::{DatabaseUrl, StoreError, StoreResult, redact};

/// Native connections for imports: batches of different servers may commit at once (the
/// watched folder, API uploads); one server's batches never overlap.
const MAX_CONNECTIONS: u32 = 4;

const COPY_SESSIONS: &str = "COPY sessions (server_id, source, session_key, feature, user_name, \
     host, count, borrowed, started_at, ended_at) FROM STDIN";
const COPY_SESSIONS_WITH_IDS: &str = "COPY sessions (id, server_id, source, session_key, \
     feature, user_name, host, count, borrowed, started_at, ended_at) FROM STDIN";
const COPY_DENIALS: &str = "COPY denials (server_id, source, at, feature, user_name, host, \
     count, reason, retry) FROM STDIN";
const COPY_DENIALS_WITH_IDS: &str = "COPY denials (id, server_id, source, at, feature, \
     user_name, host, count, reason, retry) FROM STDIN";

/// The import writer of one PostgreSQL database.
#[derive(Clone)]
pub(crate) struct PgCopy {
    pool: PgPool,
}

impl PgCopy {
    /// A pool to the database `url` names, connecting on first use.
    pub(crate) fn new(url: &DatabaseUrl) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(&url.url)
            .map_err(|e| StoreError::BadUrl(format!("{}: {e}", redact(&url.url))))?
            .disable_statement_logging();
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .min_connections(0)
            .idle_timeout(Duration::from_secs(60))
            .acquire_timeout(Duration::from_secs(30))
            .connect_lazy_with(options);
        Ok(Self { pool })
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    /// The native pool, also for big reads (`history.rs`): its rows decode without the `Any`
    /// driver's conversion of every value.
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Writes one batch in one transaction (see [`crate::ImportStore::commit_import_batch`]).
    pub(crate) async fn commit(&self, batch: &ImportBatch) -> StoreResult<BatchIds> {
        let mut writer = CopyWriter {
            tx: self.pool.begin().await?,
        };
        let ids = write_batch(&mut writer, batch).await?;
        writer.tx.commit().await?;
        Ok(ids)
    }
}

/// One batch's transaction on a native connection.
struct CopyWriter {
    tx: Transaction<'static, Postgres>,
}

impl CopyWriter {
    /// Streams `rows` (all of them, `count`) through one `COPY … FROM STDIN`.
    async fn copy(&mut self, statement: &str, rows: CopyRows, count: usize) -> StoreResult<()> {
        let mut copy = self.tx.copy_in_raw(statement).await?;
        // On an error the dropped `copy` fails the COPY and the dropped transaction rolls back.
        copy.send(rows.into_bytes()).await?;
        let copied = copy.finish().await.map_err(foreign_key_is_not_found)?;
        if copied != count as u64 {
            return Err(StoreError::Unavailable(format!(
                "COPY wrote {copied} rows of {count} (`{statement}`)"
            )));
        }
        Ok(())
    }

    /// Copies `count` new rows made by `build`; with `ids_of` (a table) their ids are drawn from
    /// its sequence first, handed to `build` and returned (else none are).
    async fn copy_new(
        &mut self,
        count: usize,
        ids_of: Option<&str>,
        statement: &str,
        build: impl FnOnce(Option<&[i64]>) -> StoreResult<CopyRows>,
    ) -> StoreResult<Vec<i64>> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let ids = match ids_of {
            Some(table) => self.next_ids(table, count).await?,
            None => Vec::new(),
        };
        let rows = build(ids_of.map(|_| ids.as_slice()))?;
        self.copy(statement, rows, count).await?;
        Ok(ids)
    }

    /// `count` new ids of `table`'s `id` sequence, ascending (as ids of rows inserted one after
    /// the other would be).
    async fn next_ids(&mut self, table: &str, count: usize) -> StoreResult<Vec<i64>> {
        let rows = sqlx::query(
            "SELECT nextval(pg_get_serial_sequence($1, 'id')) AS id FROM generate_series(1, $2)",
        )
        .bind(table)
        .bind(count as i64)
        .fetch_all(&mut *self.tx)
        .await?;
        let mut ids = rows
            .iter()
            .map(|r| r.try_get::<i64, _>("id"))
            .collect::<Result<Vec<_>, _>>()?;
        ids.sort_unstable();
        Ok(ids)
    }
}

/// Session rows for [`COPY_SESSIONS`], or with `ids` for [`COPY_SESSIONS_WITH_IDS`] (open
/// sessions: `session_key` is [`open_session_key`], as on the other writers).
fn session_rows(
    server_id: ServerId,
    sessions: &[NewSession],
    ids: Option<&[i64]>,
) -> StoreResult<CopyRows> {
    let mut rows = CopyRows::new();
    for (i, s) in sessions.iter().enumerate() {
        let key = match ids {
            Some(ids) => {
                rows.int(ids[i]);
                open_session_key(i)
            }
            None => String::new(),
        };
        rows.int(server_id)
            .text(IMPORT_SOURCE)?
            .text(&key)?
            .text(&s.feature)?
            .text(&s.user)?
            .text(&s.host)?
            .int(s.count as i64)
            .bool(false)
            .int(millis(s.started_at))
            .opt_int(s.ended_at.map(millis))
            .end_row();
    }
    Ok(rows)
}

/// Denial rows for [`COPY_DENIALS`], or with `ids` for [`COPY_DENIALS_WITH_IDS`].
fn denial_rows(
    server_id: ServerId,
    denials: &[NewDenial],
    ids: Option<&[i64]>,
) -> StoreResult<CopyRows> {
    let mut rows = CopyRows::new();
    for (i, d) in denials.iter().enumerate() {
        if let Some(ids) = ids {
            rows.int(ids[i]);
        }
        rows.int(server_id)
            .text(IMPORT_SOURCE)?
            .int(millis(d.at))
            .text(&d.feature)?
            .text(&d.user)?
            .text(&d.host)?
            .int(d.count as i64)
            .opt_text(d.reason.as_deref())?
            .bool(d.retry)
            .end_row();
    }
    Ok(rows)
}

impl BatchWriter for CopyWriter {
    async fn execute(&mut self, statement: &Statement<'_>) -> StoreResult<u64> {
        let done = (statement.query::<Postgres>().execute(&mut *self.tx).await)
            .map_err(foreign_key_is_not_found)?;
        Ok(done.rows_affected())
    }

    async fn fetch_id(&mut self, statement: &Statement<'_>) -> StoreResult<i64> {
        let row = (statement.query::<Postgres>().fetch_one(&mut *self.tx).await)
            .map_err(foreign_key_is_not_found)?;
        Ok(row.try_get("id")?)
    }

    async fn insert_sessions(&mut self, id: ServerId, rows: &[NewSession]) -> StoreResult<()> {
        let build = |ids: Option<&[i64]>| session_rows(id, rows, ids);
        self.copy_new(rows.len(), None, COPY_SESSIONS, build)
            .await?;
        Ok(())
    }

    async fn insert_open_sessions(
        &mut self,
        id: ServerId,
        rows: &[NewSession],
    ) -> StoreResult<Vec<i64>> {
        let build = |ids: Option<&[i64]>| session_rows(id, rows, ids);
        (self.copy_new(rows.len(), Some("sessions"), COPY_SESSIONS_WITH_IDS, build)).await
    }

    async fn insert_denials(&mut self, id: ServerId, rows: &[NewDenial]) -> StoreResult<()> {
        let build = |ids: Option<&[i64]>| denial_rows(id, rows, ids);
        self.copy_new(rows.len(), None, COPY_DENIALS, build).await?;
        Ok(())
    }

    async fn insert_pending_denials(
        &mut self,
        id: ServerId,
        rows: &[NewDenial],
    ) -> StoreResult<Vec<i64>> {
        let build = |ids: Option<&[i64]>| denial_rows(id, rows, ids);
        (self.copy_new(rows.len(), Some("denials"), COPY_DENIALS_WITH_IDS, build)).await
    }
}
