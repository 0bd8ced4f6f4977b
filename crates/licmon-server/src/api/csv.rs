//! CSV for every list in `/api/v1`: with `Accept: text/csv` or `?format=csv`, a JSON array
//! response becomes CSV (one row per element, nested fields as `a.b` columns). Done once here,
//! as a layer, so that lists added later are covered without their handlers knowing.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::ApiError;

/// The largest JSON list converted (lists are paginated far below this).
const MAX_LIST_BYTES: usize = 512 * 1024 * 1024;

fn wants_csv(request: &Request) -> bool {
    let by_query = request.uri().query().is_some_and(|q| {
        q.split('&')
            .any(|pair| pair.eq_ignore_ascii_case("format=csv"))
    });
    let by_accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"));
    by_query || by_accept
}

pub async fn negotiate(request: Request, next: Next) -> Response {
    if !wants_csv(&request) {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if response.status() != StatusCode::OK || !is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match to_bytes(body, MAX_LIST_BYTES).await {
        Ok(b) => b,
        Err(e) => return ApiError::Internal(format!("cannot read the list: {e}")).into_response(),
    };
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(&bytes) else {
        return (
            StatusCode::NOT_ACCEPTABLE,
            axum::Json(serde_json::json!({
                "error": "this resource is not a list; CSV is offered for lists only, ask for JSON"
            })),
        )
            .into_response();
    };
    let mut response = Response::from_parts(parts, Body::from(to_csv(&items)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    response.headers_mut().remove(header::CONTENT_LENGTH);
    response
}

fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => flatten_map(prefix, map, out),
        other => out.push((prefix.to_string(), cell(other))),
    }
}

fn flatten_map(prefix: &str, map: &Map<String, Value>, out: &mut Vec<(String, String)>) {
    for (k, v) in map {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        flatten(&key, v, out);
    }
}

fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => defuse(s),
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            items.iter().map(cell).collect::<Vec<_>>().join(";")
        }
        other => other.to_string(),
    }
}

/// Spreadsheets run cells that start with `=`, `+`, `-` or `@` as formulas: text that does is
/// prefixed with `'` (CSV injection).
fn defuse(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// Rows of flattened objects; the header is every column seen, in first-seen order.
pub fn to_csv(items: &[Value]) -> String {
    let rows: Vec<Vec<(String, String)>> = items
        .iter()
        .map(|item| {
            let mut out = Vec::new();
            match item {
                Value::Object(_) => flatten("", item, &mut out),
                other => out.push(("value".into(), cell(other))),
            }
            out
        })
        .collect();
    let mut columns: Vec<String> = Vec::new();
    for row in &rows {
        for (k, _) in row {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    let mut csv = columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(",");
    csv.push_str("\r\n");
    for row in rows {
        let line = columns
            .iter()
            .map(|c| {
                row.iter()
                    .find(|(k, _)| k == c)
                    .map(|(_, v)| quote(v))
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(",");
        csv.push_str(&line);
        csv.push_str("\r\n");
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flattens_quotes_and_defuses() {
        let csv = to_csv(&[
            json!({"id": 1, "name": "a,b", "s": {"remote": "Online"}, "tags": ["x", "y"], "n": null}),
            json!({"id": 2, "name": "=cmd|' /C calc'!A0", "s": {"remote": "say \"hi\""}, "extra": -3}),
        ]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], "id,n,name,s.remote,tags,extra");
        assert_eq!(lines[1], "1,,\"a,b\",Online,x;y,");
        assert_eq!(lines[2], "2,,'=cmd|' /C calc'!A0,\"say \"\"hi\"\"\",,-3");
    }
}
