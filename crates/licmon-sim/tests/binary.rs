//! The built binary, invoked through vendor-named symlinks with the scenario beside them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const SCENARIO: &str = r#"
seed = 3
[[server]]
kind = "flexnet"
address = "27000@lic1"
vendor = "ansyslmd"
[[server.feature]]
name = "cfd"
issued = 10
users = 12
peak = 0.8

[[server]]
kind = "flexnet"
address = "27001@stuck"
vendor = "v"
behaviour = "hang"
"#;

fn demo_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("lmutil");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_licmon-sim"), &link).unwrap();
    std::fs::write(dir.path().join("licmon-sim.toml"), SCENARIO).unwrap();
    (dir, link)
}

fn lmutil(link: &Path, args: &[&str], log: &Path) -> Command {
    let mut cmd = Command::new(link);
    cmd.args(args)
        .env_remove("LICMON_SIM_SCENARIO")
        .env("LICMON_SIM_NOW", "2025-03-11T10:02:00Z")
        .env("LICMON_SIM_LOG", log);
    cmd
}

#[test]
fn symlinked_lmutil_finds_the_scenario_beside_it() {
    let (dir, link) = demo_dir();
    let log = dir.path().join("calls.log");
    let out = lmutil(&link, &["lmstat", "-a", "-c", "27000@lic1"], &log)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("lmutil - Copyright"), "{text}");
    assert!(
        text.contains("License server status: 27000@lic1\n"),
        "{text}"
    );
    assert!(
        text.contains("Users of cfd:  (Total of 10 licenses issued;  Total of "),
        "{text}"
    );

    // Same clock, same bytes.
    let again = lmutil(&link, &["lmstat", "-a", "-c", "27000@lic1"], &log)
        .output()
        .unwrap();
    assert_eq!(again.stdout, text.as_bytes());

    // An unknown server: the vendor's own error, exit status 0 like lmutil.
    let out = lmutil(&link, &["lmstat", "-a", "-c", "27000@other"], &log)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("Error getting status: Cannot connect to license server system.")
    );

    let lines = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = lines.lines().collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].starts_with("2025-03-11T10:02:00Z "),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].ends_with(" lmutil 27000@lic1 up status"),
        "{}",
        lines[0]
    );
    assert!(
        lines[2].ends_with(" lmutil 27000@other unknown status"),
        "{}",
        lines[2]
    );
}

#[test]
fn missing_scenario_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("lmutil");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_licmon-sim"), &link).unwrap();
    let out = lmutil(
        &link,
        &["lmstat", "-a", "-c", "1@h"],
        &dir.path().join("log"),
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("licmon-sim.toml"),
        "{out:?}"
    );
}

#[test]
fn hang_keeps_running_until_killed() {
    let (dir, link) = demo_dir();
    let mut child = lmutil(
        &link,
        &["lmstat", "-a", "-c", "27001@stuck"],
        &dir.path().join("log"),
    )
    .stdout(Stdio::null())
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "hang must not exit by itself"
    );
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
}

#[test]
fn subcommand_form_and_example_scenario() {
    let bin = env!("CARGO_BIN_EXE_licmon-sim");
    let out = Command::new(bin).arg("example-scenario").output().unwrap();
    assert!(out.status.success());
    let example = String::from_utf8(out.stdout).unwrap();
    assert!(example.contains("[[server.feature]]"));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(&path, &example).unwrap();
    let out = Command::new(bin)
        .args(["rlmutil", "rlmstat", "-a", "-c", "5053@rlmhost"])
        .env("LICMON_SIM_SCENARIO", &path)
        .env("LICMON_SIM_NOW", "2025-03-11T18:00:00Z")
        .env_remove("LICMON_SIM_LOG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("foundry license usage status on rlmhost")
    );

    let out = Command::new(bin).arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("lmxendutil -licstatxml"));
}
