//! The built binary as `DSLicSrv -admin` (commands on stdin) and as the custom XML writer.

use std::io::Write;
use std::process::{Command, Stdio};

const SCENARIO: &str = r#"
seed = 5
[[server]]
kind = "dsls"
address = "4085@dsls1"
vendor = "Dassault Systemes"
[[server.feature]]
name = "MD2"
issued = 10
users = 12
peak = 0.8

[[server]]
kind = "custom-xml"
address = "1@site"
vendor = "ACME"
[[server.feature]]
name = "solver"
issued = 5
"#;

fn dir_with(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join(name);
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_licmon-sim"), &link).unwrap();
    std::fs::write(dir.path().join("licmon-sim.toml"), SCENARIO).unwrap();
    (dir, link)
}

fn dsls(link: &std::path::Path, script: &str) -> String {
    let mut child = Command::new(link)
        .arg("-admin")
        .env_remove("LICMON_SIM_SCENARIO")
        .env("LICMON_SIM_NOW", "2025-03-11T10:02:00Z")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn dslicsrv_reads_its_connect_command_from_stdin() {
    let (_dir, link) = dir_with("DSLicSrv");
    let text = dsls(&link, "connect dsls1 4085\ngetLicenseUsage -csv\nquit\n");
    assert!(text.contains("Connected to dsls1:4085"), "{text}");
    assert!(text.contains("\nEditor,EditorId,Feature,"), "{text}");
    assert!(
        text.contains("Dassault Systemes,5A1BD8D1CD8A0000,MD2,"),
        "{text}"
    );
    let text = dsls(
        &link,
        "connect elsewhere 4085\ngetLicenseUsage -csv\nquit\n",
    );
    assert!(
        text.contains("ERROR: cannot connect to elsewhere:4085"),
        "{text}"
    );
}

#[test]
fn custom_xml_subcommand_writes_the_status_file() {
    let (dir, _link) = dir_with("unused");
    let path = dir.path().join("status.xml");
    let out = Command::new(env!("CARGO_BIN_EXE_licmon-sim"))
        .args(["custom-xml", path.to_str().unwrap(), "1@site"])
        .env("LICMON_SIM_SCENARIO", dir.path().join("licmon-sim.toml"))
        .env("LICMON_SIM_NOW", "2025-03-11T10:02:00Z")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("<licmon-status version=\"1\" vendor=\"ACME\" server=\"site\" status=\"up\""),
        "{text}"
    );
    assert!(text.contains("<feature name=\"solver\""), "{text}");
}
