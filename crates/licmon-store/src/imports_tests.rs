//! The portable import writer (multi-row INSERTs through `Any`) against SQLite's raw-handle
//! writer and PostgreSQL's COPY writer: the same batches must leave the same rows. (The shared
//! suite runs on SQLite files and PostgreSQL, which have writers of their own, so it never
//! reaches the portable one.)

use chrono::{TimeZone, Utc};
use licmon_core::server::LicenseServerInput;
use sqlx::Row;

use crate::{
    CheckpointWrite, DatabaseUrl, ImportBatch, ImportStore, NewDenial, NewSession, ServerStore,
    SqlStore,
};

/// Seconds after a fixed instant (also for `sqlite_bulk.rs`'s tests).
pub(crate) fn t(s: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
}

const NAMES: [&str; 5] = [
    "tab\there",
    "back\\slash",
    "new\nline",
    "quo\"te",
    "Jürgen 名前",
];

fn first_batch(server_id: i64) -> ImportBatch {
    let session = |i: usize, end: Option<i64>| NewSession {
        feature: format!("F{}", i % 3),
        user: NAMES[i % NAMES.len()].into(),
        host: format!("pc{i}"),
        count: 1,
        started_at: t(i as i64),
        ended_at: end.map(t),
    };
    let denial = |i: usize| NewDenial {
        at: t(i as i64),
        feature: "CAD".into(),
        user: NAMES[i % NAMES.len()].into(),
        host: "pc".into(),
        count: 1,
        reason: i.is_multiple_of(2).then(|| format!("reason {i}")),
        retry: i.is_multiple_of(3),
    };
    ImportBatch {
        server_id,
        generation: 0,
        now: t(2000),
        last_event_at: Some(t(1200)),
        checkpoint: test_checkpoint(None),
        // More than one multi-row INSERT of each kind.
        closed_sessions: (0..1100).map(|i| session(i, Some(i as i64 + 5))).collect(),
        open_sessions: (0..600).map(|i| session(i, None)).collect(),
        session_ends: Vec::new(),
        denials: (0..700).map(denial).collect(),
        pending_denials: (0..520).map(|i| denial(1000 + i)).collect(),
        retried_denials: Vec::new(),
    }
}

/// A checkpoint of `lmgrd.log` at byte 100 (also for `sqlite_bulk.rs`'s tests).
pub(crate) fn test_checkpoint(id: Option<i64>) -> CheckpointWrite {
    CheckpointWrite {
        id,
        format: "flexnet-debuglog".into(),
        file_name: "lmgrd.log".into(),
        head_len: 10,
        head_hash: "h".into(),
        byte_offset: 100,
        line_no: 3,
        parser_state: serde_json::json!({"v": 1}),
        totals: serde_json::json!({}),
    }
}

/// A FlexNet server to import into (also for `sqlite_bulk.rs`'s tests).
pub(crate) async fn test_server(store: &SqlStore) -> i64 {
    let settings = LicenseServerInput {
        name: "writers".into(),
        kind: "flexnet".into(),
        address: Some("27000@lic".into()),
        ..Default::default()
    }
    .validate()
    .unwrap();
    store.create_server(&settings, t(0)).await.unwrap().id
}

/// Two batches (the second ends sessions and marks retries by the ids the first returned);
/// the sessions and denials tables afterwards, ids replaced by their rank.
async fn import_and_dump(url: &DatabaseUrl, portable: bool) -> Vec<String> {
    let mut store = SqlStore::open(url).await.unwrap();
    if portable {
        store.sqlite_bulk = None;
        store.pg_copy = None;
    }
    let server_id = test_server(&store).await;
    let first = first_batch(server_id);
    let ids = store.commit_import_batch(&first).await.unwrap();
    assert_eq!(ids.open_session_ids.len(), 600);
    assert_eq!(ids.pending_denial_ids.len(), 520);
    let mut second = first_batch(server_id);
    second.generation = ids.generation;
    second.checkpoint.id = Some(ids.checkpoint_id);
    second.closed_sessions.clear();
    second.open_sessions.clear();
    second.denials.clear();
    second.pending_denials.clear();
    second.session_ends = (ids.open_session_ids.iter().step_by(2))
        .map(|id| (*id, t(1500)))
        .collect();
    second.retried_denials = ids.pending_denial_ids.iter().step_by(3).copied().collect();
    let ids2 = store.commit_import_batch(&second).await.unwrap();
    assert_eq!(
        (ids2.generation, ids2.checkpoint_id),
        (2, ids.checkpoint_id)
    );

    let mut dump = Vec::new();
    for sql in [
        "SELECT session_key, feature, user_name, host, count, started_at, ended_at, ip, \
         borrow_expires_at FROM sessions ORDER BY id",
        "SELECT at, feature, user_name, host, count, reason, \
         CASE WHEN retry THEN 1 ELSE 0 END AS retry FROM denials ORDER BY id",
    ] {
        for row in sqlx::query(sql).fetch_all(&store.pool).await.unwrap() {
            let cells: Vec<String> = (0..row.len())
                .map(|i| match row.try_get::<Option<String>, _>(i) {
                    Ok(text) => format!("{text:?}"),
                    Err(_) => format!("{:?}", row.try_get::<Option<i64>, _>(i).unwrap()),
                })
                .collect();
            dump.push(cells.join("|"));
        }
    }
    store.close().await;
    dump
}

#[tokio::test]
async fn the_portable_writer_stores_what_the_sqlite_writer_stores() {
    let fresh = || {
        let dir = tempfile::tempdir().unwrap();
        (DatabaseUrl::sqlite_in(dir.path()), dir)
    };
    let ((portable_url, _a), (bulk_url, _b)) = (fresh(), fresh());
    let portable = import_and_dump(&portable_url, true).await;
    assert_eq!(portable.len(), 1100 + 600 + 700 + 520);
    assert_eq!(portable, import_and_dump(&bulk_url, false).await);
}

/// On a fresh database of the server `LICMON_TEST_DATABASE_URL` names (skipped without it).
#[tokio::test]
async fn the_portable_writer_stores_what_the_postgres_copy_writer_stores() {
    use sqlx::Connection;
    let Some(admin_url) = std::env::var("LICMON_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("skipped: set LICMON_TEST_DATABASE_URL=postgres://... to compare on PostgreSQL");
        return;
    };
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    let mut dumps = Vec::new();
    for portable in [true, false] {
        let database = format!("licmon_writers_{}_{portable}", std::process::id());
        for sql in [
            format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
            format!("CREATE DATABASE {database}"),
        ] {
            sqlx::query(&sql).execute(&mut admin).await.unwrap();
        }
        let base = admin_url.split('?').next().unwrap();
        let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
        let url = DatabaseUrl::parse(&format!("{prefix}/{database}")).unwrap();
        dumps.push(import_and_dump(&url, portable).await);
        let drop = format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)");
        sqlx::query(&drop).execute(&mut admin).await.unwrap();
    }
    assert_eq!(dumps[0].len(), 1100 + 600 + 700 + 520);
    assert_eq!(dumps[0], dumps[1]);
}
