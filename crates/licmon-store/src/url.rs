//! Choosing the backend by URL scheme. A typo must give an error that says what is accepted,
//! and must never create a stray empty database somewhere (vaultwarden does the same check).

use std::path::{Path, PathBuf};

use crate::StoreError;

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A checked database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    pub backend: Backend,
    /// The URL as sqlx wants it.
    pub url: String,
    /// For SQLite: the file, so that its folder can be checked or created on purpose.
    pub sqlite_path: Option<PathBuf>,
}

const ACCEPTED: &str = "accepted forms: sqlite:///absolute/path/licmon.db, sqlite://relative/path.db, \
                        sqlite::memory:, postgres://user[:password]@host[:port]/database \
                        (also postgresql://)";

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let url = url.trim();
        if let Some(rest) = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
        {
            if rest.is_empty() || rest.starts_with('/') && rest.len() == 1 {
                return Err(StoreError::BadUrl(format!(
                    "\"{}\" names no host; {ACCEPTED}",
                    redact(url)
                )));
            }
            return Ok(Self {
                backend: Backend::Postgres,
                url: url.to_string(),
                sqlite_path: None,
            });
        }
        if url == "sqlite::memory:" {
            return Ok(Self {
                backend: Backend::Sqlite,
                url: url.to_string(),
                sqlite_path: None,
            });
        }
        if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(StoreError::BadUrl(format!(
                    "\"{url}\" names no file; {ACCEPTED}"
                )));
            }
            return Ok(Self {
                backend: Backend::Sqlite,
                url: format!("sqlite://{path}"),
                sqlite_path: Some(PathBuf::from(path)),
            });
        }
        let scheme = url
            .split("://")
            .next()
            .filter(|_| url.contains("://"))
            .unwrap_or(url);
        Err(StoreError::BadUrl(format!(
            "unsupported database URL \"{}\" (scheme \"{scheme}\"); {ACCEPTED}",
            redact(url)
        )))
    }

    /// The default: a SQLite file under the data directory.
    pub fn sqlite_in(data_dir: &Path) -> Self {
        let path = data_dir.join("licmon.db");
        Self {
            backend: Backend::Sqlite,
            url: format!("sqlite://{}", path.display()),
            sqlite_path: Some(path),
        }
    }
}

/// Hides a password in a URL before it is shown or logged.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/licmon/x.db")
                .unwrap()
                .sqlite_path,
            Some("/var/lib/licmon/x.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/x.db").unwrap().backend,
            Backend::Sqlite
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite::memory:").unwrap().sqlite_path,
            None
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap().backend,
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h:5432/db")
                .unwrap()
                .backend,
            Backend::Postgres
        );
    }

    #[test]
    fn typos_say_what_is_accepted() {
        for bad in [
            "postgress://u@h/db",
            "sqlit:///x.db",
            "mysql://u@h/db",
            "/var/lib/x.db",
            "sqlite://",
        ] {
            let err = DatabaseUrl::parse(bad).unwrap_err().to_string();
            assert!(err.contains("accepted forms"), "{bad}: {err}");
        }
    }

    #[test]
    fn passwords_are_redacted() {
        let err = DatabaseUrl::parse("postgress://admin:s3cret@h/db")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("s3cret"), "{err}");
        assert_eq!(redact("postgres://a:b@h/db"), "postgres://a:***@h/db");
    }
}
