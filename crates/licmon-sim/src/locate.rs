//! Where the scenario file and the clock come from.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

pub const SCENARIO_FILE: &str = "licmon-sim.toml";

/// `$LICMON_SIM_SCENARIO`, else `licmon-sim.toml` in the directory of argv[0] as invoked. The
/// symlink is deliberately not resolved: licmon's demo makes a folder of symlinks `lmutil`,
/// `rlmutil`, `lmxendutil` → licmon-sim with the scenario beside them. A bare argv[0] (found
/// through `PATH`) is looked up in `PATH` the way the shell found it.
pub fn scenario_path(argv0: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(p) = env("LICMON_SIM_SCENARIO").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let invoked = Path::new(argv0);
    let dir = if argv0.contains(['/', '\\']) {
        invoked.parent().map(Path::to_path_buf)
    } else {
        let path = env("PATH")?;
        std::env::split_paths(&path).find(|d| d.join(argv0).is_file())
    }?;
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    Some(dir.join(SCENARIO_FILE))
}

/// `$LICMON_SIM_NOW` (RFC 3339) or the system clock.
pub fn now(env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<DateTime<Utc>> {
    match env("LICMON_SIM_NOW").filter(|s| !s.is_empty()) {
        Some(s) => Ok(DateTime::parse_from_rfc3339(&s)
            .map_err(|e| anyhow::anyhow!("LICMON_SIM_NOW={s:?} is not RFC 3339: {e}"))?
            .with_timezone(&Utc)),
        None => Ok(Utc::now()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_beside_argv0_without_resolving_symlinks() {
        let env = |_: &str| None;
        assert_eq!(
            scenario_path("/tmp/demo/lmutil", &env),
            Some(PathBuf::from("/tmp/demo/licmon-sim.toml"))
        );
        assert_eq!(
            scenario_path("./lmutil", &env),
            Some(PathBuf::from("./licmon-sim.toml"))
        );
        let env = |k: &str| (k == "LICMON_SIM_SCENARIO").then(|| "/x/s.toml".to_string());
        assert_eq!(
            scenario_path("/tmp/demo/lmutil", &env),
            Some(PathBuf::from("/x/s.toml"))
        );
    }

    #[test]
    fn clock_override() {
        let env =
            |k: &str| (k == "LICMON_SIM_NOW").then(|| "2025-03-11T10:02:00+01:00".to_string());
        assert_eq!(now(&env).unwrap().to_rfc3339(), "2025-03-11T09:02:00+00:00");
        let bad = |k: &str| (k == "LICMON_SIM_NOW").then(|| "yesterday".to_string());
        assert!(now(&bad).is_err());
    }
}
