//! The behaviour suite on PostgreSQL. Each test gets a fresh database on the server named by
//! `LICMON_TEST_DATABASE_URL`; without it the tests skip, except under CI where that is an error.

mod suite;

use std::sync::atomic::{AtomicU32, Ordering};

use licmon_store::{DatabaseUrl, SqlStore};
use sqlx::Connection;

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub struct Handle {
    pub store: SqlStore,
    admin_url: String,
    database: String,
}

impl Handle {
    pub async fn finish(self) {
        self.store.close().await;
        if let Ok(mut admin) = sqlx::PgConnection::connect(&self.admin_url).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.database
            ))
            .execute(&mut admin)
            .await;
        }
    }
}

fn admin_url() -> Option<String> {
    match std::env::var("LICMON_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "LICMON_TEST_DATABASE_URL must be set under CI: the PostgreSQL suite may not be skipped"
            )
        }
        _ => {
            eprintln!(
                "skipped: set LICMON_TEST_DATABASE_URL=postgres://... to run the PostgreSQL suite"
            );
            None
        }
    }
}

/// `postgres://u@h:5432/postgres` with its database replaced.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    match query {
        Some(q) => format!("{prefix}/{database}?{q}"),
        None => format!("{prefix}/{database}"),
    }
}

async fn open() -> Option<Handle> {
    let admin_url = admin_url()?;
    let database = format!(
        "licmon_test_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("connect to LICMON_TEST_DATABASE_URL");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {database}"))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.ok();
    let url = DatabaseUrl::parse(&with_database(&admin_url, &database)).unwrap();
    let store = SqlStore::open(&url).await.unwrap();
    Some(Handle {
        store,
        admin_url,
        database,
    })
}

backend_tests!(open);
auth_backend_tests!(open);
agents_backend_tests!(open);
alerts_backend_tests!(open);
