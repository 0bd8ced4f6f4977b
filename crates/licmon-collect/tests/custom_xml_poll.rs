//! A custom XML server polled for real: the status file read from disk, a valid file becoming
//! a snapshot, an invalid or missing one a failed poll with line and reason.

use chrono::Utc;
use licmon_collect::{CollectorConfig, poll_once};
use licmon_core::LicenseServer;
use licmon_core::server::LicenseServerInput;

fn server(path: &std::path::Path) -> LicenseServer {
    let s = LicenseServerInput {
        name: "in-house".into(),
        kind: "custom-xml".into(),
        utility_path: Some(path.display().to_string()),
        ..Default::default()
    }
    .validate()
    .unwrap();
    LicenseServer::from_settings(1, s, Utc::now())
}

#[tokio::test]
async fn custom_xml_file_polls() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("status.xml");
    let srv = server(&path);
    let config = CollectorConfig::default();

    let err = poll_once(&srv, &config, Utc::now()).await.unwrap_err();
    assert_eq!(err.0, "file");
    assert!(err.1.ends_with("status.xml: no such file"), "{err:?}");

    std::fs::write(
        &path,
        "<licmon-status version=\"1\" server=\"lic1\">\n  <feature name=\"solver\" issued=\"20\" used=\"2\">\n    <user name=\"alice\" host=\"ws1\" count=\"2\" checkout=\"2025-03-11T08:30:00Z\"/>\n  </feature>\n</licmon-status>\n",
    )
    .unwrap();
    let snap = poll_once(&srv, &config, Utc::now()).await.unwrap();
    assert_eq!(snap.nodes.len(), 1);
    assert!(snap.nodes[0].up);
    assert_eq!(snap.features.len(), 1);
    assert_eq!(
        (snap.features[0].issued, snap.features[0].in_use),
        (Some(20), 2)
    );
    // No `denied` attribute: no count, which is not a count of 0.
    assert_eq!(snap.features[0].denied_total, None);
    assert_eq!(snap.checkouts.len(), 1);
    assert_eq!(snap.checkouts[0].user, "alice");

    std::fs::write(
        &path,
        "<licmon-status version=\"1\">\n\n  <feature name=\"solver\" used=\"two\"/>\n</licmon-status>\n",
    )
    .unwrap();
    let err = poll_once(&srv, &config, Utc::now()).await.unwrap_err();
    assert_eq!(err.0, "unparseable");
    assert_eq!(
        err.1,
        "unparseable output: line 3: used=\"two\" is not a count (a whole number from 0)"
    );

    std::fs::write(
        &path,
        "<licmon-status version=\"1\" status=\"down\" message=\"lmgrd stopped\"/>",
    )
    .unwrap();
    let err = poll_once(&srv, &config, Utc::now()).await.unwrap_err();
    assert_eq!(
        err,
        ("server_down", "server down: lmgrd stopped".to_string())
    );
}

#[tokio::test]
async fn a_denied_count_reaches_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("status.xml");
    std::fs::write(
        &path,
        "<licmon-status version=\"1\" server=\"lic1\">\n  <feature name=\"solver\" issued=\"20\" used=\"0\" denied=\"17\"/>\n</licmon-status>\n",
    )
    .unwrap();
    let snap = poll_once(&server(&path), &CollectorConfig::default(), Utc::now())
        .await
        .unwrap();
    assert_eq!(snap.features[0].denied_total, Some(17));
}
