//! SQLite is single-node: a node running on a SQLite file holds an exclusive `flock` on a lock
//! file beside it (`licmon.db.lock`), and a second node on the same file is refused with a
//! message naming the first. The operating system drops the lock when the process ends however
//! it ends (SIGKILL, crash, power cut), so a crashed node never blocks a restart.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use rustix::fs::{FlockOperation, flock};

/// Held for as long as the node runs; dropping it releases the lock.
#[derive(Debug)]
pub struct NodeLock {
    _file: File,
    path: PathBuf,
}

impl NodeLock {
    /// Takes the lock for the SQLite database at `db`, or explains who holds it.
    pub fn acquire(db: &Path) -> anyhow::Result<Self> {
        let mut name = db.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open the lock file {}", path.display()))?;
        if flock(&file, FlockOperation::NonBlockingLockExclusive).is_err() {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            bail!(
                "another licmon node is already running on the SQLite database {} ({}). \
                 SQLite supports one node: stop the other one, or use PostgreSQL \
                 (--database postgres://...) to run several nodes",
                db.display(),
                if holder.is_empty() {
                    format!("lock held on {}", path.display())
                } else {
                    holder.to_string()
                }
            );
        }
        file.set_len(0)?;
        file.rewind()?;
        writeln!(
            file,
            "pid {} on {}, started {}",
            std::process::id(),
            crate::serve::hostname(),
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )?;
        file.flush()?;
        Ok(Self { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_database_is_refused_and_freed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("licmon.db");
        let first = NodeLock::acquire(&db).unwrap();
        assert!(first.path().ends_with("licmon.db.lock"));
        // flock locks belong to the open file description: a second open in this process
        // conflicts just as another process would.
        let err = NodeLock::acquire(&db).unwrap_err().to_string();
        assert!(err.contains("already running"), "{err}");
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        assert!(err.contains("PostgreSQL"), "{err}");
        drop(first);
        NodeLock::acquire(&db).unwrap();
    }
}
