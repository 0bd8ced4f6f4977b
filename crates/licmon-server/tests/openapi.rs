//! The OpenAPI document against reality: every documented GET is called on a real server with
//! real data, and its response must match the schema documented for its status — including no
//! undocumented fields. Also: CSV for lists, pagination, and JSON errors.

mod auth_harness;

use auth_harness::start;
use chrono::{Duration, Utc};
use licmon_core::alerts::transition::Change;
use licmon_core::alerts::{AlertRuleInput, RuleKind};
use licmon_core::server::LicenseServerInput;
use licmon_core::snapshot::{Checkout, FeatureUsage, Snapshot};
use licmon_store::{
    AlertStore, AuthStore, EventLog, MonitorStore, Role, ServerStore, SqlStore, TokenScope,
};
use serde_json::Value;

/// A small JSON-schema checker for what utoipa emits: `$ref`, `allOf`/`oneOf`/`anyOf`,
/// `type` (one or a list), `enum`, `format: date-time`, `minimum`, `required`, `properties`
/// (strict: a field the schema does not name is an error), `items`.
fn check(value: &Value, schema: &Value, doc: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        let target = &doc["components"]["schemas"][name];
        assert!(!target.is_null(), "dangling $ref {r}");
        return check(value, target, doc, at, errors);
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        // Properties of the parts together: each part is checked leniently, the union strictly.
        let mut named = Vec::new();
        for part in all {
            let part = resolve(part, doc);
            check(value, &lenient(&part), doc, at, errors);
            if let Some(p) = part.get("properties").and_then(Value::as_object) {
                named.extend(p.keys().cloned());
            }
        }
        if let Some(obj) = value.as_object() {
            for k in obj.keys().filter(|k| !named.contains(k)) {
                errors.push(format!("{at}.{k}: not in the document"));
            }
        }
        return;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let ok = options.iter().any(|o| {
                let mut e = Vec::new();
                check(value, o, doc, at, &mut e);
                e.is_empty()
            });
            if !ok {
                errors.push(format!(
                    "{at}: matches none of {key} {options:?} (value {value})"
                ));
            }
            return;
        }
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let fits = types.iter().any(|t| match *t {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "string" => value.is_string(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => false,
        });
        if !fits {
            errors.push(format!("{at}: {value} is not {types:?}"));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !value.is_null()
        && !options.contains(value)
    {
        errors.push(format!("{at}: {value} not in {options:?}"));
    }
    if schema.get("format").and_then(Value::as_str) == Some("date-time")
        && let Some(s) = value.as_str()
        && chrono::DateTime::parse_from_rfc3339(s).is_err()
    {
        errors.push(format!("{at}: {s} is not a date-time"));
    }
    if let (Some(min), Some(n)) = (
        schema.get("minimum").and_then(Value::as_f64),
        value.as_f64(),
    ) && n < min
    {
        errors.push(format!("{at}: {n} below minimum {min}"));
    }
    if let Some(obj) = value.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = r.as_str().unwrap();
            if !obj.contains_key(r) {
                errors.push(format!("{at}.{r}: required but missing"));
            }
        }
        if let Some(props) = props {
            let strict = schema
                .get("additionalProperties")
                .is_none_or(|a| a == false)
                && schema.get("x-lenient").is_none();
            for (k, v) in obj {
                match props.get(k) {
                    Some(s) => check(v, s, doc, &format!("{at}.{k}"), errors),
                    None if strict => errors.push(format!("{at}.{k}: not in the document")),
                    None => {}
                }
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, v) in array.iter().enumerate() {
            check(v, items, doc, &format!("{at}[{i}]"), errors);
        }
    }
}

fn resolve(schema: &Value, doc: &Value) -> Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(
            &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
            doc,
        ),
        None => schema.clone(),
    }
}

fn lenient(schema: &Value) -> Value {
    let mut s = schema.clone();
    s["x-lenient"] = Value::Bool(true);
    s
}

fn snapshot(at: chrono::DateTime<Utc>, start: chrono::DateTime<Utc>) -> Snapshot {
    Snapshot {
        taken_at: at,
        nodes: vec![],
        daemons: vec![],
        features: vec![FeatureUsage {
            denied_total: None,
            name: "solver".into(),
            vendor: Some("ansyslmd".into()),
            issued: Some(10),
            in_use: 1,
            reserved: 0,
            borrowed: 0,
            queued: 0,
            uncounted: false,
            pools: vec![],
        }],
        checkouts: vec![Checkout {
            feature: "solver".into(),
            user: "alice".into(),
            host: "ws1".into(),
            display: Some("ws1:0".into()),
            count: 1,
            version: Some("2026.1".into()),
            start: Some(start),
            borrowed: true,
            queued: false,
            handle: None,
            ip: Some("10.0.0.7".into()),
            borrow_expires: Some(start + Duration::days(7)),
        }],
    }
}

/// Two alert rules (one per server with every optional field, one global with none) and their
/// alerts: one firing, one resolved. Returns the first rule's id.
async fn alert_rules_and_alerts(store: &SqlStore, server: i64) -> i64 {
    let now = Utc::now();
    let feature_rule = store
        .create_alert_rule(
            &AlertRuleInput {
                name: "solver busy".into(),
                kind: RuleKind::Utilisation {
                    percent: 80,
                    feature: Some("solver".into()),
                },
                server_id: Some(server),
                enabled: true,
                webhook_url: Some("https://hooks.example.org/licmon".into()),
            },
            now,
        )
        .await
        .unwrap();
    let global_rule = store
        .create_alert_rule(
            &AlertRuleInput {
                name: "capacity".into(),
                kind: RuleKind::Capacity,
                server_id: None,
                enabled: true,
                webhook_url: None,
            },
            now,
        )
        .await
        .unwrap();
    assert!(
        store
            .claim_alert_evaluator("openapi-test", now, Duration::minutes(1))
            .await
            .unwrap()
    );
    let start = |rule_id, subject: &str, server_id| Change::Start {
        rule_id,
        subject: subject.into(),
        server_id,
        message: "condition holds".into(),
        firing: true,
    };
    let changes = [
        start(
            feature_rule.id,
            &format!("server:{server}/feature:solver"),
            Some(server),
        ),
        start(global_rule.id, "licmon", None),
    ];
    store
        .apply_alert_changes("openapi-test", &changes, now)
        .await
        .unwrap();
    let global_alert = store
        .alerts(now - Duration::days(1), 10)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.rule_id == global_rule.id)
        .unwrap();
    store
        .apply_alert_changes(
            "openapi-test",
            &[Change::Resolve {
                id: global_alert.id,
            }],
            now,
        )
        .await
        .unwrap();
    feature_rule.id
}

#[tokio::test]
async fn every_documented_get_answers_as_documented() {
    let s = start().await;
    let admin = s.user("admin", Role::Administrator, None).await;
    let (token, _) = s.token(&admin, TokenScope::Api).await;
    s.token(&admin, TokenScope::Agent).await;
    s.user("limited", Role::User, Some(vec![1])).await;
    let input = LicenseServerInput {
        name: "ansys".into(),
        kind: "flexnet".into(),
        vendor: "ANSYS".into(),
        address: Some("1055@lic1".into()),
        time_zone: Some("UTC".into()),
        ..Default::default()
    };
    let server = s
        .store
        .create_server(&input.validate().unwrap(), Utc::now() - Duration::hours(3))
        .await
        .unwrap();
    let now = Utc::now();
    s.store
        .record_poll_success(
            server.id,
            &snapshot(
                now - Duration::hours(2),
                now - Duration::hours(2) - Duration::minutes(5),
            ),
        )
        .await
        .unwrap();
    s.store
        .record_poll_success(
            server.id,
            &snapshot(
                now - Duration::minutes(1),
                now - Duration::hours(2) - Duration::minutes(5),
            ),
        )
        .await
        .unwrap();
    s.store
        .log_event(now, Some(server.id), "admin", "something happened")
        .await
        .unwrap();
    let rule = alert_rules_and_alerts(&s.store, server.id).await;

    let r = s.get("/api/v1/openapi.json", &[]).await;
    assert_eq!(r.status, 200, "the document is public");
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["components"]["securitySchemes"]["token"].is_object());
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        let id = if path.starts_with("/api/v1/users/") {
            admin.id
        } else if path.starts_with("/api/v1/alert-rules/") {
            rule
        } else {
            server.id
        };
        let concrete = path.replace("{id}", &id.to_string());
        let r = s.with_token(&token, "GET", &concrete, None).await;
        let responses = &op["responses"];
        let documented = &responses[r.status.to_string()];
        assert!(
            !documented.is_null(),
            "GET {path} answered {} which is not documented: {}",
            r.status,
            r.body
        );
        if let Some(schema) = documented.pointer("/content/application~1json/schema") {
            let mut errors = Vec::new();
            check(&r.json(), schema, &doc, path, &mut errors);
            assert!(
                errors.is_empty(),
                "GET {concrete} does not match the document:\n{}\n{}",
                errors.join("\n"),
                r.body
            );
        }
        if r.status == 200 {
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} documented GETs answered 200");
    // The lists had something in them.
    let sessions = s
        .with_token(
            &token,
            "GET",
            &format!("/api/v1/license-servers/{}/sessions", server.id),
            None,
        )
        .await;
    assert_eq!(sessions.json().as_array().unwrap().len(), 1);
    // So were the alert lists (an empty list would check no item against its schema).
    for (path, at_least) in [("/api/v1/alert-rules", 2), ("/api/v1/alerts", 2)] {
        let list = s.with_token(&token, "GET", path, None).await.json();
        assert!(list.as_array().unwrap().len() >= at_least, "{path}: {list}");
    }
    s.stop().await;
}

#[tokio::test]
async fn lists_come_as_csv_paged_and_errors_as_json() {
    let s = start().await;
    let token = s.admin_token().await;
    for i in 0..5 {
        let body = format!(
            r#"{{"name": "srv-{i}", "type": "rlm", "vendor": "=HYPERLINK(\"x\")", "address": "5053@h{i}", "time_zone": "UTC"}}"#
        );
        assert_eq!(
            s.with_token(&token, "POST", "/api/v1/license-servers", Some(&body))
                .await
                .status,
            201
        );
    }
    let r = s
        .get(
            "/api/v1/license-servers?format=csv",
            &[("X-Auth-Token", &token)],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    let lines: Vec<&str> = r.body.lines().collect();
    assert_eq!(lines.len(), 6, "{}", r.body);
    assert!(
        lines[0].contains("name") && lines[0].contains("statuses.remote"),
        "{}",
        lines[0]
    );
    assert!(
        r.body.contains("'=HYPERLINK"),
        "formulas are defused: {}",
        r.body
    );
    let r = s
        .get(
            "/api/v1/users",
            &[("X-Auth-Token", &token), ("Accept", "text/csv")],
        )
        .await;
    assert!(
        r.body.starts_with("id,name,role") || r.body.contains("name"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("argon2"), "no password hashes anywhere");
    let r = s
        .get(
            "/api/v1/events?format=csv&limit=2",
            &[("X-Auth-Token", &token)],
        )
        .await;
    assert_eq!(r.status, 200);
    // Not a list: CSV is refused with a JSON reason.
    let r = s
        .get("/api/v1/capacity?format=csv", &[("X-Auth-Token", &token)])
        .await;
    assert_eq!(r.status, 406);
    assert!(r.json()["error"].as_str().unwrap().contains("not a list"));
    // Pagination and filtering.
    let page = s
        .with_token(
            &token,
            "GET",
            "/api/v1/license-servers?limit=2&offset=1",
            None,
        )
        .await
        .json();
    let names: Vec<&str> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["srv-1", "srv-2"]);
    let found = s
        .with_token(&token, "GET", "/api/v1/license-servers?q=SRV-4", None)
        .await
        .json();
    assert_eq!(found.as_array().unwrap().len(), 1);
    let none = s
        .with_token(&token, "GET", "/api/v1/license-servers?type=flexnet", None)
        .await
        .json();
    assert_eq!(none, serde_json::json!([]));
    // Errors: JSON with a message, right status.
    let r = s.with_token(&token, "GET", "/api/v1/users/999", None).await;
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].as_str().unwrap().contains("999"));
    let r = s
        .with_token(
            &token,
            "POST",
            "/api/v1/users",
            Some(r#"{"name": "x", "password": "short"}"#),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["errors"][0]["field"], "password");
    let r = s
        .with_token(
            &token,
            "POST",
            "/api/v1/tokens",
            Some(r#"{"user": "ghost", "scope": "api"}"#),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    // The last administrator cannot be removed.
    let me = s.with_token(&token, "GET", "/api/v1/me", None).await.json();
    let r = s
        .with_token(
            &token,
            "DELETE",
            &format!("/api/v1/users/{}", me["user"]["id"]),
            None,
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    // Capacity: used / limit.
    let cap = s
        .with_token(&token, "GET", "/api/v1/capacity", None)
        .await
        .json();
    assert_eq!(cap["used"], 5);
    assert!(cap["limit"].is_null());
    s.stop().await;
}

#[tokio::test]
async fn capacity_page_turns_red_from_90_percent() {
    let s = auth_harness::start_with(licmon_store::StatusSettings {
        max_license_servers: Some(10),
        ..Default::default()
    })
    .await;
    let token = s.admin_token().await;
    for i in 0..9 {
        let input = LicenseServerInput {
            name: format!("s{i}"),
            kind: "rlm".into(),
            address: Some(format!("5053@h{i}")),
            time_zone: Some("UTC".into()),
            ..Default::default()
        };
        s.store
            .create_server(&input.validate().unwrap(), Utc::now())
            .await
            .unwrap();
    }
    let cap = s
        .with_token(&token, "GET", "/api/v1/capacity", None)
        .await
        .json();
    assert_eq!(
        (
            cap["used"].as_u64(),
            cap["limit"].as_u64(),
            cap["percent"].as_u64()
        ),
        (Some(9), Some(10), Some(90))
    );
    assert_eq!(cap["critical"], true);
    let page = s.get("/admin/capacity", &[("X-Auth-Token", &token)]).await;
    assert!(
        page.body.contains(r#"class="badge bad">9 / 10"#),
        "{}",
        page.body
    );
    let _ = s.store.list_users().await.unwrap();
    s.stop().await;
}

#[test]
fn the_checker_catches_what_it_should() {
    let doc = licmon_server::openapi_document();
    let server = serde_json::json!({"$ref": "#/components/schemas/ServerView"});
    let mut errors = Vec::new();
    check(
        &serde_json::json!({"id": "seven"}),
        &server,
        &doc,
        "x",
        &mut errors,
    );
    assert!(errors.iter().any(|e| e.contains("x.id")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("required")), "{errors:?}");
    let mut errors = Vec::new();
    let role = serde_json::json!({"$ref": "#/components/schemas/Role"});
    check(
        &serde_json::json!("superuser"),
        &role,
        &doc,
        "r",
        &mut errors,
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    let user = serde_json::json!({"$ref": "#/components/schemas/User"});
    let mut errors = Vec::new();
    check(
        &serde_json::json!({"id": 1, "name": "a", "role": "user", "permitted_servers": null,
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "yesterday", "password_hash": "x"}),
        &user,
        &doc,
        "u",
        &mut errors,
    );
    assert!(
        errors.iter().any(|e| e.contains("updated_at")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("password_hash: not in the document")),
        "{errors:?}"
    );
}
