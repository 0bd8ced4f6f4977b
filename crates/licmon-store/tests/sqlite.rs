//! The behaviour suite on SQLite, plus what only SQLite has: files and URLs.

mod suite;

use licmon_store::{DatabaseUrl, ServerStore, SqlStore};

pub struct Handle {
    pub store: SqlStore,
    _dir: tempfile::TempDir,
}

impl Handle {
    pub async fn finish(self) {
        self.store.close().await;
    }
}

async fn open() -> Option<Handle> {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::open(&DatabaseUrl::sqlite_in(dir.path()))
        .await
        .unwrap();
    Some(Handle { store, _dir: dir })
}

backend_tests!(open);
auth_backend_tests!(open);
agents_backend_tests!(open);
alerts_backend_tests!(open);

#[tokio::test]
async fn reopening_runs_no_migration_twice_and_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::sqlite_in(dir.path());
    let store = SqlStore::open(&url).await.unwrap();
    store
        .create_server(&suite::settings("kept", "1@h"), suite::t(0))
        .await
        .unwrap();
    store.close().await;
    let again = SqlStore::open(&url).await.unwrap();
    assert_eq!(again.list_servers().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_missing_folder_is_an_error_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-folder/licmon.db");
    let url = DatabaseUrl::parse(&format!("sqlite://{}", path.display())).unwrap();
    let err = SqlStore::open(&url)
        .await
        .err()
        .expect("must fail")
        .to_string();
    assert!(err.contains("does not exist"), "{err}");
    assert!(!dir.path().join("no-such-folder").exists());
}

#[tokio::test]
async fn a_typo_in_the_scheme_creates_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let typo = format!("sqlte://{}/licmon.db", dir.path().display());
    let err = DatabaseUrl::parse(&typo).unwrap_err().to_string();
    assert!(err.contains("accepted forms"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// Two nodes on one SQLite file: node A's writer remembers an agent's row; node B deletes the
/// agent; A's next report for it still lands (registered anew), and the registry's last seen
/// comes from the report even when A does not rewrite an unchanged agent row.
#[tokio::test]
async fn an_agent_deleted_by_another_node_is_registered_again() {
    use licmon_store::AgentStore;
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::sqlite_in(dir.path());
    let a = SqlStore::open(&url).await.unwrap();
    let b = SqlStore::open(&url).await.unwrap();
    let server = suite::agents::agent_apps_server(&a, "apps").await;
    for at in [10, 20] {
        a.record_agent_reports(&[suite::agents::batch("ws-1", at, server, false, vec![])])
            .await
            .unwrap();
    }
    let listed = b.list_agents().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].last_seen_at,
        suite::t(20),
        "the unchanged row's time"
    );
    b.delete_agent(listed[0].id).await.unwrap();
    a.record_agent_reports(&[suite::agents::batch("ws-1", 30, server, false, vec![])])
        .await
        .unwrap();
    let again = b.list_agents().await.unwrap();
    assert_eq!(again.len(), 1);
    assert_ne!(again[0].id, listed[0].id);
    assert_eq!(
        (again[0].first_seen_at, again[0].last_seen_at),
        (suite::t(30), suite::t(30))
    );
    a.close().await;
    b.close().await;
}
