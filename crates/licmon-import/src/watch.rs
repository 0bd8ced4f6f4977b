//! The watched folder: `<watch_dir>/<server name>/<any file>`. Polled every few seconds (no
//! inotify dependency, and it works on network shares); a new file, or one whose size or
//! modification time changed, is imported as a live log (an incomplete last line waits).
//! Checkpoints make a re-scan after a restart cheap: a known file is only hashed (4 KiB).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use crate::{ImportError, ImportRequest, Importer, Via};

/// What a file looked like when it was last imported.
type Seen = HashMap<PathBuf, (u64, Option<SystemTime>)>;

/// Polls `dir` every `every` until `stop` turns true.
pub async fn run(
    importer: Importer,
    dir: PathBuf,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(folder = %dir.display(), "watching for log files to import (one subfolder per license server, named like it)");
    if !dir.is_dir() {
        tracing::warn!(folder = %dir.display(), "the import folder (import.watch_dir) does not exist; create it, with one subfolder per license server");
    }
    let mut seen = Seen::new();
    loop {
        if let Err(e) = scan(&importer, &dir, &mut seen).await {
            tracing::warn!(folder = %dir.display(), error = %e, "cannot scan the import folder");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// One pass over the folder; returns how many files were imported.
pub async fn scan(importer: &Importer, dir: &Path, seen: &mut Seen) -> std::io::Result<usize> {
    let servers = match importer.store().list_servers().await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list license servers for the import folder");
            return Ok(0);
        }
    };
    let mut imported = 0;
    for server in servers {
        let folder = dir.join(&server.name);
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        let mut files: Vec<(PathBuf, u64, Option<SystemTime>)> = entries
            .filter_map(Result::ok)
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .filter_map(|e| {
                let meta = e.metadata().ok().filter(|m| m.is_file())?;
                Some((e.path(), meta.len(), meta.modified().ok()))
            })
            .collect();
        files.sort();
        for (path, size, modified) in files {
            if size == 0 || seen.get(&path) == Some(&(size, modified)) {
                continue;
            }
            seen.insert(path.clone(), (size, modified));
            let file_name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let request = ImportRequest {
                server_id: server.id,
                path: path.clone(),
                file_name: format!("{}/{file_name}", server.name),
                format: None,
                via: Via::Watch,
                live: true,
            };
            match importer.import(request, |_| {}).await {
                Ok(s) if s.already_imported => {}
                Ok(s) => {
                    imported += 1;
                    tracing::info!(file = %path.display(), events = s.run.event_count(), sessions = s.run.sessions, denials = s.run.denials, "imported");
                }
                Err(ImportError::Disabled(reason)) => {
                    tracing::debug!(file = %path.display(), %reason, "not imported")
                }
                Err(e) => tracing::warn!(file = %path.display(), error = %e, "import failed"),
            }
        }
    }
    Ok(imported)
}
