//! Administration › Event log over HTTP: filters by category and server, pages of 200 newest
//! first with links that keep the filters, and the API's filters reaching past any page.

mod auth_harness;

use auth_harness::start;
use chrono::{Duration, TimeZone, Utc};
use licmon_store::EventLog;

#[tokio::test]
async fn the_event_log_filters_and_pages() {
    let s = start().await;
    let token = s.admin_token().await;
    let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
    // 250 poll events of server 7, then one import event of server 8 and one auth event: the
    // newest page of everything starts with the auth event.
    for i in 0..250 {
        let at = t0 + Duration::seconds(i);
        let message = format!("poll {i}");
        s.store
            .log_event(at, Some(7), "poll", &message)
            .await
            .unwrap();
    }
    let later = t0 + Duration::hours(1);
    s.store
        .log_event(later, Some(8), "import", "import of 8")
        .await
        .unwrap();
    s.store
        .log_event(later, None, "auth", "admin logged in")
        .await
        .unwrap();
    let page = |query: &str| {
        let path = format!("/admin/events{query}");
        let token = token.clone();
        let s = &s;
        async move {
            let r = s.with_token(&token, "GET", &path, None).await;
            assert_eq!(r.status, 200, "{path}: {}", r.body);
            r.body
        }
    };
    let first = page("").await;
    assert!(first.contains("Events 1–200, newest first"), "{first}");
    assert!(
        first.contains("href=\"/admin/events?offset=200\" rel=\"next\""),
        "{first}"
    );
    assert!(!first.contains("rel=\"prev\""));
    assert!(first.find("admin logged in").unwrap() < first.find("poll 249").unwrap());
    let second = page("?offset=200").await;
    assert!(second.contains("Events 201–252, newest first"), "{second}");
    assert!(second.contains("poll 0<"), "the oldest is on the last page");
    assert!(!second.contains("rel=\"next\""));
    // Filtered: the category and the server stay in the paging links.
    let polls = page("?category=poll&server=7").await;
    assert!(polls.contains("Events 1–200"), "{polls}");
    assert!(!polls.contains("admin logged in") && !polls.contains("import of 8"));
    assert!(
        polls.contains("href=\"/admin/events?offset=200&#38;category=poll&#38;server=7\""),
        "{polls}"
    );
    let imports = page("?category=&server=8").await;
    assert!(
        imports.contains("import of 8") && imports.contains("Events 1–1"),
        "{imports}"
    );
    let none = page("?category=auth&server=7").await;
    assert!(none.contains("No events match these filters."), "{none}");
    // The API filters in the database, so old events are found however many came after them.
    let r = s
        .with_token(
            &token,
            "GET",
            "/api/v1/events?category=poll&limit=1&offset=249",
            None,
        )
        .await;
    let events = r.json();
    assert_eq!(events[0]["message"], "poll 0", "{events}");
    s.stop().await;
}
