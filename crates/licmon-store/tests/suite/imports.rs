//! The import role (`ImportStore`) on every backend.

use chrono::Duration;
use licmon_store::*;

use super::{settings, t};

pub fn session(feature: &str, user: &str, start: i64, end: Option<i64>) -> NewSession {
    NewSession {
        feature: feature.into(),
        user: user.into(),
        host: format!("{user}-pc"),
        count: 1,
        started_at: t(start),
        ended_at: end.map(t),
    }
}

pub fn denial(feature: &str, user: &str, at: i64, retry: bool) -> NewDenial {
    NewDenial {
        at: t(at),
        feature: feature.into(),
        user: user.into(),
        host: format!("{user}-pc"),
        count: 1,
        reason: Some("Licensed number of users already reached. (-4,342)".into()),
        retry,
    }
}

pub fn batch(server_id: i64, generation: i64, checkpoint: Option<i64>, offset: u64) -> ImportBatch {
    ImportBatch {
        server_id,
        generation,
        now: t(1000),
        last_event_at: Some(t(offset as i64)),
        checkpoint: CheckpointWrite {
            id: checkpoint,
            format: "flexnet-debuglog".into(),
            file_name: "lmgrd.log".into(),
            head_len: 4096,
            head_hash: "abc".into(),
            byte_offset: offset,
            line_no: offset / 10,
            parser_state: serde_json::json!({"v": 1}),
            totals: serde_json::json!({"lines": offset / 10}),
        },
        closed_sessions: Vec::new(),
        open_sessions: Vec::new(),
        session_ends: Vec::new(),
        denials: Vec::new(),
        pending_denials: Vec::new(),
        retried_denials: Vec::new(),
    }
}

pub async fn import_batches_commit_sessions_denials_and_checkpoint(store: &SqlStore) {
    let server = store
        .create_server(&settings("imp", "1@h"), t(0))
        .await
        .unwrap();
    let mut b = batch(server.id, 0, None, 100);
    b.closed_sessions = (0..1200)
        .map(|i| session(&format!("F{}", i % 7), "ana", i, Some(i + 5)))
        .collect();
    b.open_sessions = vec![
        session("CAD", "bo", 90, None),
        session("CAD", "ché", 95, None),
    ];
    b.denials = vec![
        denial("CAD", "dan", 10, true),
        denial("CAD", "eve", 20, false),
    ];
    b.pending_denials = vec![denial("CAD", "fay", 99, false)];
    let ids = store.commit_import_batch(&b).await.unwrap();
    assert_eq!(ids.generation, 1);
    assert_eq!(ids.open_session_ids.len(), 2);
    assert_eq!(ids.pending_denial_ids.len(), 1);

    let resume = store
        .import_resume(server.id, Duration::seconds(65), Duration::seconds(62))
        .await
        .unwrap();
    assert_eq!(resume.generation, 1);
    assert_eq!(resume.last_event_at, Some(t(100)));
    let open: Vec<(i64, &str)> = resume
        .open_sessions
        .iter()
        .map(|s| (s.id, s.user.as_str()))
        .collect();
    assert_eq!(
        open,
        vec![
            (ids.open_session_ids[0], "bo"),
            (ids.open_session_ids[1], "ché")
        ]
    );
    // Checkouts since 100 - 65 s: closed ones started at 35.. and the two open ones.
    assert_eq!(resume.recent_outs.len(), (35..1200).count() + 2);
    assert_eq!(
        resume.pending_denials,
        vec![(ids.pending_denial_ids[0], "CAD".into(), "fay".into(), t(99))]
    );

    let mut b2 = batch(server.id, 1, Some(ids.checkpoint_id), 200);
    b2.session_ends = vec![(ids.open_session_ids[0], t(150))];
    b2.retried_denials = vec![ids.pending_denial_ids[0]];
    let ids2 = store.commit_import_batch(&b2).await.unwrap();
    assert_eq!(
        (ids2.generation, ids2.checkpoint_id),
        (2, ids.checkpoint_id)
    );

    let open_now = store
        .sessions(
            server.id,
            &SessionQuery {
                open_only: true,
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(open_now.len(), 1);
    assert_eq!(open_now[0].user, "ché");
    assert_eq!(open_now[0].source, IMPORT_SOURCE);
    let all = store
        .denials(server.id, &DenialQuery::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    let truly = store
        .denials(
            server.id,
            &DenialQuery {
                true_only: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        truly.iter().map(|d| d.user.as_str()).collect::<Vec<_>>(),
        vec!["eve"]
    );
    let window = store
        .denials(
            server.id,
            &DenialQuery {
                from: Some(t(15)),
                to: Some(t(100)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(window.len(), 2);
    let cps = store
        .import_checkpoints(server.id, "flexnet-debuglog")
        .await
        .unwrap();
    assert_eq!(cps.len(), 1);
    assert_eq!((cps[0].byte_offset, cps[0].line_no), (200, 20));
    assert_eq!(cps[0].totals, serde_json::json!({"lines": 20}));
    assert!(
        store
            .import_checkpoints(server.id, "csv")
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn a_second_importer_of_the_same_server_conflicts_and_writes_nothing(store: &SqlStore) {
    let server = store
        .create_server(&settings("imp2", "1@h"), t(0))
        .await
        .unwrap();
    store
        .commit_import_batch(&batch(server.id, 0, None, 10))
        .await
        .unwrap();
    let mut stale = batch(server.id, 0, None, 20);
    stale.denials = vec![denial("CAD", "x", 5, false)];
    let err = store.commit_import_batch(&stale).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(
        store
            .denials(server.id, &DenialQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .import_checkpoints(server.id, "flexnet-debuglog")
            .await
            .unwrap()
            .len(),
        1
    );
    let err = store
        .commit_import_batch(&batch(9999, 0, None, 10))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}

pub async fn import_runs_are_listed_newest_first(store: &SqlStore) {
    let server = store
        .create_server(&settings("imp3", "1@h"), t(0))
        .await
        .unwrap();
    for (i, outcome) in ["success", "failure"].iter().enumerate() {
        store
            .record_import_run(&ImportRecord {
                id: 0,
                server_id: server.id,
                file_name: format!("log{i}.log"),
                format: "flexnet-debuglog".into(),
                via: "cli".into(),
                started_at: t(i as i64),
                finished_at: t(i as i64 + 1),
                outcome: (*outcome).into(),
                reason: (i == 1).then(|| "log1.log line 3: binary data".to_string()),
                summary: serde_json::json!({"lines": i}),
            })
            .await
            .unwrap();
    }
    let runs = store.import_runs(server.id, 10).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].outcome, "failure");
    assert_eq!(
        runs[0].reason.as_deref(),
        Some("log1.log line 3: binary data")
    );
    assert_eq!(runs[1].file_name, "log0.log");
    store.delete_server(server.id).await.unwrap();
    assert!(store.import_runs(server.id, 10).await.unwrap().is_empty());
}

/// Names from logs can hold any character; each writer (multi-row INSERT, SQLite's raw
/// statements, PostgreSQL's COPY text format with its escapes) must store them unchanged.
const AWKWARD_NAMES: [&str; 8] = [
    "tab\there",
    "back\\slash\\",
    "new\nline\r\n",
    "quote\"and'apostrophe",
    "Jürgen Ærø 名前 🚀",
    "\\N",
    "\\.",
    "",
];

pub async fn imported_names_keep_every_character(store: &SqlStore) {
    let server = store
        .create_server(&settings("names", "1@h"), t(0))
        .await
        .unwrap();
    let named = |i: usize, name: &str, feature: String| NewSession {
        feature,
        user: name.into(),
        host: format!("{name}\thost"),
        ..session("x", "x", i as i64, Some(i as i64 + 1))
    };
    let mut b = batch(server.id, 0, None, 100);
    b.closed_sessions = (AWKWARD_NAMES.iter().enumerate())
        .map(|(i, name)| named(i, name, format!("closed {name}")))
        .collect();
    b.open_sessions = (AWKWARD_NAMES.iter().enumerate())
        .map(|(i, name)| NewSession {
            ended_at: None,
            ..named(i, name, format!("open {name}"))
        })
        .collect();
    let named_denial = |i: usize, name: &str| NewDenial {
        feature: format!("denied {name}"),
        user: name.into(),
        host: format!("{name}\thost"),
        reason: Some(format!("reason: {name}")),
        ..denial("x", "x", i as i64, false)
    };
    b.denials = (AWKWARD_NAMES.iter().enumerate())
        .map(|(i, name)| named_denial(i, name))
        .collect();
    b.pending_denials = (AWKWARD_NAMES.iter().enumerate())
        .map(|(i, name)| named_denial(50 + i, name))
        .collect();
    let ids = store.commit_import_batch(&b).await.unwrap();

    let sessions = store
        .sessions(
            server.id,
            &SessionQuery {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut stored: Vec<(String, String, String)> = sessions
        .into_iter()
        .map(|s| (s.feature, s.user, s.host))
        .collect();
    let mut written: Vec<(String, String, String)> = (b.closed_sessions.iter())
        .chain(&b.open_sessions)
        .map(|s| (s.feature.clone(), s.user.clone(), s.host.clone()))
        .collect();
    stored.sort();
    written.sort();
    assert_eq!(stored, written);

    let resume = store
        .import_resume(server.id, Duration::seconds(200), Duration::seconds(200))
        .await
        .unwrap();
    let open: Vec<(i64, String, String)> = (resume.open_sessions.into_iter())
        .map(|s| (s.id, s.feature, s.user))
        .collect();
    let expected: Vec<(i64, String, String)> = (ids.open_session_ids.iter())
        .zip(&b.open_sessions)
        .map(|(id, s)| (*id, s.feature.clone(), s.user.clone()))
        .collect();
    assert_eq!(open, expected);
    let pending: Vec<(i64, String, String)> = (resume.pending_denials.into_iter())
        .filter(|(_, _, _, at)| *at >= t(50))
        .map(|(id, feature, user, _)| (id, feature, user))
        .collect();
    let expected: Vec<(i64, String, String)> = (ids.pending_denial_ids.iter())
        .zip(&b.pending_denials)
        .map(|(id, d)| (*id, d.feature.clone(), d.user.clone()))
        .collect();
    assert_eq!(pending, expected);

    let denials = store
        .denials(server.id, &DenialQuery::default())
        .await
        .unwrap();
    let stored: Vec<(String, String, String, Option<String>)> = denials
        .into_iter()
        .map(|d| (d.feature, d.user, d.host, d.reason))
        .collect();
    let written: Vec<(String, String, String, Option<String>)> = (b.denials.iter())
        .chain(&b.pending_denials)
        .map(|d| {
            (
                d.feature.clone(),
                d.user.clone(),
                d.host.clone(),
                d.reason.clone(),
            )
        })
        .collect();
    assert_eq!(stored, written);
}
