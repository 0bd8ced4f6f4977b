use chrono::{DateTime, Duration, TimeZone, Utc};
use licmon_core::server::LicenseServerInput;

use super::*;

fn server() -> LicenseServer {
    let s = LicenseServerInput {
        name: "ansys".into(),
        kind: "flexnet".into(),
        address: Some("1055@lic1".into()),
        ..Default::default()
    }
    .validate()
    .unwrap();
    LicenseServer::from_settings(7, s, hour(0))
}

fn hour(h: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap() + Duration::hours(h)
}

fn point(feature: &str, h: i64, avg: f64, max: u64, issued: Option<u64>) -> UsagePoint {
    UsagePoint {
        feature: feature.into(),
        bucket_start: hour(h),
        min_in_use: 0,
        avg_in_use: avg,
        max_in_use: max,
        issued,
        samples: 60,
        imported: false,
    }
}

fn denied(name: &str, denials: u64, true_denials: u64) -> DenialCount {
    DenialCount {
        name: name.into(),
        denials,
        true_denials,
        users: 1,
        features: 1,
        last_at: hour(1),
    }
}

fn sessions(name: &str, sessions: u64, users: u64, license_hours: f64) -> SessionTotal {
    SessionTotal {
        name: name.into(),
        sessions,
        users,
        open: 0,
        hours: license_hours,
        license_hours,
        first_start: hour(0),
        last_start: hour(1),
    }
}

#[test]
fn a_feature_at_capacity_and_one_with_seats_never_used() {
    let points = [
        // solver: 10 seats, full in hours 1 and 2.
        point("solver", 0, 4.0, 6, Some(10)),
        point("solver", 1, 9.5, 10, Some(10)),
        point("solver", 2, 8.5, 10, Some(10)),
        // viewer: 20 seats, at most 5 at once.
        point("viewer", 0, 2.0, 5, Some(20)),
        point("viewer", 1, 1.0, 3, Some(20)),
    ];
    let denials = [denied("solver", 7, 4)];
    let rows = rows_of(
        &server(),
        &points,
        &[
            sessions("solver", 12, 5, 22.5),
            sessions("viewer", 3, 2, 3.0),
        ],
        &denials,
        Bucket::Hour,
    );
    let solver = &rows[0];
    assert_eq!(
        (
            solver.server_id,
            solver.server.as_str(),
            solver.feature.as_str()
        ),
        (7, "ansys", "solver")
    );
    assert_eq!(
        (solver.issued, solver.peak_in_use, solver.never_used_seats),
        (Some(10), 10, Some(0))
    );
    assert_eq!((solver.at_capacity, solver.covered), (2, 3));
    // (4 + 9.5 + 8.5) / 3 = 7.33 seats, 73.3 % of 10.
    assert_eq!(solver.average_in_use, 7.33);
    assert_eq!(
        (solver.peak_percent, solver.average_percent),
        (Some(100.0), Some(73.3))
    );
    assert_eq!(
        (solver.sessions, solver.users, solver.license_hours),
        (12, 5, 22.5)
    );
    assert_eq!((solver.denials, solver.true_denials), (7, 4));
    let viewer = &rows[1];
    assert_eq!(
        (viewer.issued, viewer.peak_in_use, viewer.never_used_seats),
        (Some(20), 5, Some(15))
    );
    assert_eq!((viewer.at_capacity, viewer.average_in_use), (0, 1.5));
    assert_eq!(
        (viewer.peak_percent, viewer.average_percent),
        (Some(25.0), Some(7.5))
    );
    assert_eq!((viewer.denials, viewer.true_denials), (0, 0));
}

#[test]
fn issued_is_the_most_in_the_range_and_uncounted_features_have_no_percentages() {
    let points = [
        // Seats were added on the second day: capacity is measured against each day's count.
        point("solver", 0, 4.0, 4, Some(4)),
        point("solver", 24, 4.0, 4, Some(8)),
        point("tokens", 0, 3.0, 9, None),
    ];
    let rows = rows_of(&server(), &points, &[], &[], Bucket::Day);
    assert_eq!(
        (
            rows[0].issued,
            rows[0].at_capacity,
            rows[0].never_used_seats
        ),
        (Some(8), 1, Some(4))
    );
    assert_eq!(rows[0].bucket, Bucket::Day);
    let tokens = &rows[1];
    assert_eq!(
        (tokens.issued, tokens.peak_percent, tokens.average_percent),
        (None, None, None)
    );
    assert_eq!((tokens.never_used_seats, tokens.at_capacity), (None, 0));
}

#[test]
fn features_known_only_from_sessions_or_denials_are_listed_too() {
    // An imported-only range with sessions but no usage buckets, and a feature that was only
    // ever denied (nobody owns it: UNSUPPORTED requests).
    let denials = [denied("MATLAB_Distrib", 3, 3)];
    let rows = rows_of(
        &server(),
        &[],
        &[sessions("MATLAB", 4, 2, 6.0)],
        &denials,
        Bucket::Hour,
    );
    let names: Vec<(&str, u64, u64, u64)> = rows
        .iter()
        .map(|r| (r.feature.as_str(), r.sessions, r.true_denials, r.covered))
        .collect();
    assert_eq!(names, [("MATLAB", 4, 0, 0), ("MATLAB_Distrib", 0, 3, 0)]);
    assert_eq!((rows[0].issued, rows[0].average_in_use), (None, 0.0));
}
