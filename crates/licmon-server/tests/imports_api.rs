//! The import endpoints over real HTTP: a streamed upload (bigger than the 1 MiB body limit of
//! other requests), the summary, re-upload adds nothing, the history, denials with and without
//! retries, and the errors (422 bad file, 409 switched off, 400 unknown format).

mod auth_harness;

use auth_harness::start;
use chrono::Utc;
use licmon_core::server::{DataSourceInput, LicenseServerInput};
use licmon_store::ServerStore;

const LOG: &str = "\
 9:00:00 (lmgrd) FlexNet Licensing (v11.16.2.0 build 1) started on lic01 (linux) (3/4/2025)
 9:10:00 (adskflex) OUT: \"MAYA\" ana@ws-1  
 9:11:00 (adskflex) DENIED: \"MAYA\" bo@ws-2  (Licensed number of users already reached. (-4,342:10054 \"\"))
 9:11:01 (adskflex) OUT: \"MAYA\" bo@ws-2  
 9:12:00 (adskflex) DENIED: \"MAYA\" ché@ws-3  (Licensed number of users already reached. (-4,342:10054 \"\"))
 9:20:00 (adskflex) IN: \"MAYA\" ana@ws-1  
";

async fn server(s: &auth_harness::TestServer, name: &str, import: bool) -> i64 {
    let input = LicenseServerInput {
        name: name.into(),
        kind: "flexnet".into(),
        address: Some("27000@lic01".into()),
        time_zone: Some("UTC".into()),
        data_sources: Some(DataSourceInput {
            remote: Some(false),
            import: Some(import),
            end_user: Some(false),
        }),
        ..Default::default()
    };
    s.store
        .create_server(&input.validate().unwrap(), Utc::now())
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn upload_list_denials_and_errors() {
    let s = start().await;
    let token = s.admin_token().await;
    let auth = [("X-Auth-Token", token.as_str())];
    let id = server(&s, "adsk", true).await;
    let upload = |path: String, bytes: Vec<u8>| {
        let s = &s;
        async move {
            s.request(
                "POST",
                &path,
                &auth,
                Some(("application/octet-stream", bytes)),
            )
            .await
        }
    };

    // Padded with comment-free noise lines to more than the 1 MiB JSON/form limit.
    let mut big = LOG.to_string();
    while big.len() < 1_200_000 {
        big.push_str(" 9:30:00 (adskflex) Licensed number of users already reached\n");
    }
    let r = upload(
        format!("/api/v1/license-servers/{id}/imports?filename=lmgrd.log"),
        big.clone().into_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let summary = r.json();
    assert_eq!(summary["file_name"], "lmgrd.log");
    assert_eq!(summary["format"], "flexnet-debuglog");
    assert_eq!(summary["run"]["events"]["out"], 2);
    assert_eq!(summary["run"]["sessions"], 2);
    assert_eq!(summary["run"]["denials"], 2);
    assert_eq!(summary["already_imported"], false);

    let again = upload(
        format!("/api/v1/license-servers/{id}/imports"),
        big.into_bytes(),
    )
    .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["already_imported"], true);

    let list = s
        .get(&format!("/api/v1/license-servers/{id}/imports"), &auth)
        .await;
    assert_eq!(list.status, 200);
    let runs = list.json();
    assert_eq!(runs.as_array().unwrap().len(), 2);
    assert_eq!(runs[1]["file_name"], "lmgrd.log");
    assert_eq!(runs[1]["via"], "api");
    assert_eq!(runs[1]["outcome"], "success");

    let all = s
        .get(&format!("/api/v1/license-servers/{id}/denials"), &auth)
        .await
        .json();
    assert_eq!(all.as_array().unwrap().len(), 2);
    // Newest first.
    assert_eq!(all[1]["user"], "bo");
    assert_eq!(all[1]["retry"], true);
    let truly = s
        .get(
            &format!("/api/v1/license-servers/{id}/denials?true_only=true"),
            &auth,
        )
        .await
        .json();
    assert_eq!(truly.as_array().unwrap().len(), 1);
    assert_eq!(truly[0]["user"], "ché");
    let none = s
        .get(&format!("/api/v1/license-servers/{id}/denials?from=2025-03-04T09:11:30Z&to=2025-03-04T09:11:59Z"), &auth)
        .await
        .json();
    assert_eq!(none.as_array().unwrap().len(), 0);

    // The import status says Success with the counts.
    let one = s
        .get(&format!("/api/v1/license-servers/{id}"), &auth)
        .await
        .json();
    assert!(one.to_string().contains("Success"), "{one}");

    // A binary file: 422 with file and line; nothing lost; status Failure.
    let r = upload(
        format!("/api/v1/license-servers/{id}/imports?filename=core.gz"),
        b"\x1f\x8b\x08\x00\x00\x00binary".to_vec(),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("core.gz line 1: binary data")
    );
    let all_after = s
        .get(&format!("/api/v1/license-servers/{id}/denials"), &auth)
        .await
        .json();
    assert_eq!(all_after, all);
    let one = s
        .get(&format!("/api/v1/license-servers/{id}"), &auth)
        .await
        .json();
    assert!(one.to_string().contains("core.gz line 1"), "{one}");

    // The server page's Imports tab lists the three runs, newest first: the failed one with
    // its reason, the unnamed upload that added nothing, the first with its counts (start,
    // 2 OUT, 2 DENIED, 1 IN: 6 events; the padding lines are not events, none skipped).
    let page = s.get(&format!("/servers/{id}"), &auth).await;
    assert_eq!(page.status, 200);
    let tab = page
        .body
        .split("id=\"panel-imports\"")
        .nth(1)
        .unwrap_or_default();
    let tab = tab.split("</section>").next().unwrap_or_default();
    let cells: Vec<Vec<String>> = tab
        .split("<tr>")
        .skip(2)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let text = cell.split_once('>').map_or("", |(_, t)| t);
                    let mut plain = String::new();
                    let mut in_tag = false;
                    for c in text.split("</td>").next().unwrap_or_default().chars() {
                        match c {
                            '<' => in_tag = true,
                            '>' => in_tag = false,
                            c if !in_tag => plain.push(c),
                            _ => {}
                        }
                    }
                    plain
                })
                .skip(1)
                .collect()
        })
        .collect();
    assert_eq!(
        cells,
        [
            [
                "core.gz",
                "flexnet-debuglog",
                "api",
                "failure",
                "0",
                "0",
                "0",
                "0",
                "core.gz line 1: binary data (a NUL byte); this is not a flexnet-debuglog log file"
            ],
            [
                "upload",
                "flexnet-debuglog",
                "api",
                "success",
                "0",
                "0",
                "0",
                "0",
                ""
            ],
            [
                "lmgrd.log",
                "flexnet-debuglog",
                "api",
                "success",
                "6",
                "2",
                "2",
                "0",
                ""
            ],
        ],
        "{tab}"
    );

    // Wrong format asked for: 422 too; an unknown format name: 400.
    let r = upload(
        format!("/api/v1/license-servers/{id}/imports?format=csv&filename=x.log"),
        LOG.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("not a csv file"), "{}", r.body);
    let r = upload(
        format!("/api/v1/license-servers/{id}/imports?format=zip"),
        LOG.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);

    // Import switched off: 409, the file is not even read.
    let off = server(&s, "off", false).await;
    let r = upload(
        format!("/api/v1/license-servers/{off}/imports"),
        LOG.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.body);
    // No such server: 404.
    let r = upload(
        "/api/v1/license-servers/999/imports".to_string(),
        LOG.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(
        s.get("/api/v1/license-servers/999/denials", &auth)
            .await
            .status,
        404
    );
    s.stop().await;
}
