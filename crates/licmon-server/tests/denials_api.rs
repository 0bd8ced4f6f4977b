//! The denials of an imported log over real HTTP: newest first by default, paging, filters by
//! range, feature and user, the counts per feature and per user, CSV, and 422 answers that name
//! the bad parameter.

mod auth_harness;

use auth_harness::start;
use chrono::Utc;
use licmon_core::server::{DataSourceInput, LicenseServerInput};
use licmon_store::ServerStore;
use serde_json::{Value, json};

/// Five denials; bo's first is a retry (a checkout follows within the window).
const LOG: &str = "time,kind,feature,user,host,count,reason
2026-11-02T08:00:00Z,denied,CAD,ana,ws1,1,all in use
2026-11-02T08:10:00Z,denied,CAD,bo,ws2,1,all in use
2026-11-02T08:10:01Z,out,CAD,bo,ws2,1,
2026-11-02T09:00:00Z,denied,CAD,ana,ws1,1,all in use
2026-11-02T10:00:00Z,denied,CFD,bo,ws2,1,\"all, in use\"
2026-11-02T11:00:00Z,denied,CAD,ché,ws3,1,all in use
2026-11-02T11:30:00Z,in,CAD,bo,ws2,1,
";

/// `time user feature kind` of each denial, in the order given.
fn summary(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let kind = if d["retry"] == json!(true) {
                "retry"
            } else {
                "true"
            };
            format!(
                "{} {} {} {kind}",
                &d["at"].as_str().unwrap()[11..16],
                d["user"].as_str().unwrap(),
                d["feature"].as_str().unwrap()
            )
        })
        .collect()
}

/// One row of `denial-counts`; `hour` of the last denial that day.
fn row(
    name: &str,
    denials: u64,
    true_denials: u64,
    users: u64,
    features: u64,
    hour: &str,
) -> Value {
    json!({"name": name, "denials": denials, "true_denials": true_denials, "users": users,
        "features": features, "last_at": format!("2026-11-02T{hour}:00:00Z")})
}

#[tokio::test]
async fn denials_filtered_paged_counted_and_checked() {
    let s = start().await;
    let token = s.admin_token().await;
    let auth = [("X-Auth-Token", token.as_str())];
    let input = LicenseServerInput {
        name: "plm".into(),
        kind: "generic-log".into(),
        time_zone: Some("UTC".into()),
        data_sources: Some(DataSourceInput {
            import: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    };
    let id = s
        .store
        .create_server(&input.validate().unwrap(), Utc::now())
        .await
        .unwrap()
        .id;
    let r = s
        .request(
            "POST",
            &format!("/api/v1/license-servers/{id}/imports?filename=plm.csv"),
            &auth,
            Some(("application/octet-stream", LOG.as_bytes().to_vec())),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let get = |query: &str| {
        let s = &s;
        let path = format!("/api/v1/license-servers/{id}/{query}");
        async move { s.get(&path, &auth).await }
    };
    let list = |query: &'static str| {
        let get = &get;
        async move {
            let r = get(&format!("denials{query}")).await;
            assert_eq!(r.status, 200, "{query}: {}", r.body);
            summary(&r.json())
        }
    };

    let newest = [
        "11:00 ché CAD true",
        "10:00 bo CFD true",
        "09:00 ana CAD true",
        "08:10 bo CAD retry",
        "08:00 ana CAD true",
    ];
    assert_eq!(list("").await, newest);
    let mut oldest = newest.to_vec();
    oldest.reverse();
    assert_eq!(list("?order=oldest").await, oldest);
    assert_eq!(list("?limit=2").await, newest[..2]);
    assert_eq!(list("?limit=2&offset=2").await, newest[2..4]);
    assert_eq!(list("?limit=2&offset=4").await, newest[4..]);
    assert_eq!(
        list("?feature=CAD&user=ana").await,
        ["09:00 ana CAD true", "08:00 ana CAD true"]
    );
    assert_eq!(
        list("?true_only=true&feature=CAD").await,
        [
            "11:00 ché CAD true",
            "09:00 ana CAD true",
            "08:00 ana CAD true"
        ]
    );
    assert_eq!(
        list("?from=2026-11-02T08:30:00Z&to=2026-11-02T11:00:00Z").await,
        ["10:00 bo CFD true", "09:00 ana CAD true"]
    );
    assert_eq!(list("?user=nobody").await, Vec::<String>::new());

    // The whole filtered list as CSV (columns in name order, as every list's CSV).
    let r = get("denials?format=csv&feature=CFD").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let cfd = get("denials?feature=CFD").await.json();
    assert_eq!(
        r.body,
        format!(
            "at,count,feature,host,id,reason,retry,server_id,source,user\r\n\
             2026-11-02T10:00:00Z,1,CFD,ws2,{},\"all, in use\",false,{id},import,bo\r\n",
            cfd[0]["id"]
        )
    );

    // Counts: per feature, then per user, most true denials first.
    let r = get("denial-counts").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json(),
        json!([row("CAD", 4, 3, 2, 1, "11"), row("CFD", 1, 1, 1, 1, "10"),])
    );
    let r = get("denial-counts?by=user").await;
    assert_eq!(
        r.json(),
        json!([
            row("ana", 2, 2, 1, 1, "09"),
            row("bo", 2, 1, 1, 1, "10"),
            row("ché", 1, 1, 1, 1, "11"),
        ])
    );
    let r = get("denial-counts?by=user&feature=CAD&from=2026-11-02T08:05:00Z&limit=1").await;
    assert_eq!(r.json(), json!([row("ana", 1, 1, 1, 1, "09")]));
    let r = get("denial-counts?by=feature&format=csv").await;
    assert_eq!(
        r.body,
        "denials,features,last_at,name,true_denials,users\r\n\
         4,1,2026-11-02T11:00:00Z,CAD,3,2\r\n1,1,2026-11-02T10:00:00Z,CFD,1,1\r\n"
    );

    // Bad parameters: 422, each one named.
    let fields = |r: &auth_harness::Resp| -> Vec<(String, String)> {
        r.json()["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["field"].as_str().unwrap().to_string(),
                    e["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let r = get("denials?from=yesterday&true_only=yes&order=up&limit=-1").await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(
        fields(&r),
        [
            (
                "from".to_string(),
                "\"yesterday\" is not an RFC 3339 time such as 2026-11-02T08:00:00Z".to_string()
            ),
            (
                "true_only".to_string(),
                "\"yes\" is neither true nor false".to_string()
            ),
            (
                "order".to_string(),
                "\"up\" is not one of newest, oldest".to_string()
            ),
            (
                "limit".to_string(),
                "\"-1\" is not a whole number from 0".to_string()
            ),
        ]
    );
    let r = get("denial-counts?by=host&from=2026-11-02T10:00:00Z&to=2026-11-02T09:00:00Z").await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(
        fields(&r),
        [
            ("to".to_string(), "must be after `from`".to_string()),
            (
                "by".to_string(),
                "\"host\" is not one of feature, user".to_string()
            ),
        ]
    );
    let long = "x".repeat(257);
    let r = get(&format!("denials?feature={long}&user=a%01b")).await;
    assert_eq!(
        fields(&r),
        [
            ("feature".to_string(), "at most 256 characters".to_string()),
            (
                "user".to_string(),
                "must not contain control characters".to_string()
            ),
        ]
    );
    assert_eq!(
        s.get("/api/v1/license-servers/999/denial-counts", &auth)
            .await
            .status,
        404
    );
    s.stop().await;
}
