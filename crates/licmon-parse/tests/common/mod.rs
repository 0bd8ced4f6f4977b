//! Helpers shared by the parser integration tests.
#![allow(dead_code)]

pub mod mutate;

use std::path::PathBuf;

/// The root of the shared fixtures: `$LICMON_FIXTURES`, else `shared/fixtures` beside the repo
/// (the repo sits at `/work/main` with `shared/` next to it; CI lays it out the same way).
pub fn fixtures_dir() -> PathBuf {
    match std::env::var("LICMON_FIXTURES") {
        Ok(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/fixtures"
        )),
    }
}

/// The text of a fixture, by its path relative to the fixtures root (e.g. `flexlm/x.txt`).
/// Panics with the full path when it cannot be read: a missing fixture is a broken test setup.
pub fn fixture(rel: &str) -> String {
    let path = fixtures_dir().join(rel);
    match std::fs::read(&path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => panic!("cannot read fixture {}: {e}", path.display()),
    }
}
