//! FlexNet `lmstat -a` / `lmstat -i`: one test per fixture in `fixtures/flexlm/`, with values
//! read off the files by hand, plus a coverage check and a never-panic mutation test.

mod common;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use licmon_parse::flexnet_lmstat::{parse_lmstat, parse_lmstat_i};
use licmon_parse::{Expiry, Feature, ParseContext, Session, StatusReport, UpDown};

const FIXTURE_DIR: &str = "flexlm";

/// The context of a poll at `local` ("YYYY-MM-DD HH:MM") on the server's clock `tz`.
fn ctx_at(local: &str, tz: Tz) -> ParseContext {
    let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").expect("test time");
    let now = tz
        .from_local_datetime(&naive)
        .single()
        .expect("unambiguous test time");
    ParseContext::new(now.with_timezone(&Utc), tz)
}

fn lmstat(file: &str, ctx: &ParseContext) -> StatusReport {
    parse_lmstat(&common::fixture(&format!("{FIXTURE_DIR}/{file}")), ctx)
}

fn lmstat_i(file: &str) -> StatusReport {
    let ctx = ctx_at("2020-01-01 00:00", chrono_tz::UTC);
    parse_lmstat_i(&common::fixture(&format!("{FIXTURE_DIR}/{file}")), &ctx)
}

/// `YYYY-MM-DD HH:MM` on `tz`'s clock, in UTC.
fn at(local: &str, tz: Tz) -> Option<DateTime<Utc>> {
    Some(ctx_at(local, tz).now)
}

fn feature<'a>(r: &'a StatusReport, name: &str) -> &'a Feature {
    r.features
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no feature {name}"))
}

fn sessions<'a>(r: &'a StatusReport, feature: &str) -> Vec<&'a Session> {
    r.sessions.iter().filter(|s| s.feature == feature).collect()
}

fn session_by_handle<'a>(r: &'a StatusReport, handle: &str) -> &'a Session {
    r.sessions
        .iter()
        .find(|s| s.handle.as_deref() == Some(handle))
        .unwrap_or_else(|| panic!("no session with handle {handle}"))
}

fn date(y: i32, m: u32, d: u32) -> Option<Expiry> {
    NaiveDate::from_ymd_opt(y, m, d).map(Expiry::On)
}

/// (issued, in_use, reserved) of a feature.
fn counts(f: &Feature) -> (Option<u64>, u64, u64) {
    (f.issued, f.in_use, f.reserved)
}

/// host, port, status, master, version.
type NodeSummary<'a> = (&'a str, Option<u16>, UpDown, bool, Option<&'a str>);

fn node_summary(r: &StatusReport) -> Vec<NodeSummary<'_>> {
    r.servers
        .iter()
        .map(|n| {
            (
                n.host.as_str(),
                n.port,
                n.status,
                n.master,
                n.version.as_deref(),
            )
        })
        .collect()
}

fn assert_no_diagnostics(r: &StatusReport) {
    assert!(
        r.diagnostics.is_empty(),
        "unexpected diagnostics: {:?}",
        r.diagnostics
    );
}

#[test]
fn catapult_blog_mgcld_blank_lines_stripped() {
    let ctx = ctx_at("2022-12-16 23:34", chrono_tz::UTC);
    let r = lmstat("catapult-blog-mgcld-blank-lines-stripped.txt", &ctx);
    assert_no_diagnostics(&r);
    assert_eq!(
        node_summary(&r),
        [("tesla", Some(1718), UpDown::Up, true, Some("11.16.2"))]
    );
    assert_eq!(r.vendor_daemons.len(), 1);
    assert_eq!(
        (
            r.vendor_daemons[0].name.as_str(),
            r.vendor_daemons[0].status
        ),
        ("mgcld", UpDown::Up)
    );
    assert_eq!(r.features.len(), 18);
    assert_eq!(r.features[0].name, "msimviewer");
    assert_eq!(counts(&r.features[0]), (Some(1), 0, 0));
    assert_eq!(counts(feature(&r, "CatapultUltra_c")), (Some(1), 1, 0));
    assert!(
        r.features
            .iter()
            .all(|f| f.pools.is_empty() && f.vendor.is_none())
    );
    assert!(r.sessions.is_empty());
}

#[test]
fn flexlm_exporter_app1_triad_reservations_linger_garbled_display() {
    let berlin = chrono_tz::Europe::Berlin;
    let ctx = ctx_at("2017-10-20 17:02", berlin);
    let r = lmstat(
        "flexlm_exporter-app1-triad-reservations-linger-garbled-display.txt",
        &ctx,
    );
    assert_no_diagnostics(&r);
    assert_eq!(
        node_summary(&r),
        [
            (
                "host-1.domain.net",
                Some(27002),
                UpDown::Up,
                false,
                Some("11.7")
            ),
            (
                "host2.domain.net",
                Some(27002),
                UpDown::Up,
                true,
                Some("11.7")
            ),
            (
                "host3.domain.net",
                Some(27002),
                UpDown::Up,
                false,
                Some("11.7")
            ),
        ]
    );
    let d = &r.vendor_daemons;
    assert_eq!(
        (d.len(), d[0].name.as_str(), d[0].version.as_deref()),
        (1, "VENDOR1", Some("11.6"))
    );

    // 53 `Users of` lines, feature42 twice: one entry per line, in order.
    assert_eq!(r.features.len(), 54);
    assert_eq!(
        r.features.iter().filter(|f| f.name == "feature42").count(),
        2
    );
    assert_eq!(r.sessions.len(), 123);

    // `Users of feature1` followed by a `"feature0"` header: the pool and users are feature1's.
    // FlexNet's 1206 in use = 1085 checked out + 121 reserved (48+8+8+7+8+10+8+8+16).
    let f1 = &r.features[0];
    assert_eq!(
        (f1.name.as_str(), f1.vendor.as_deref()),
        ("feature1", Some("VENDOR1"))
    );
    assert_eq!(counts(f1), (Some(1814), 1085, 121));
    assert_eq!(f1.pools.len(), 1);
    assert_eq!(
        (f1.pools[0].version.as_deref(), f1.pools[0].expires),
        (Some("61.9"), None)
    );
    let f1_sessions = sessions(&r, "feature1");
    assert_eq!(f1_sessions.len(), 55);
    assert_eq!(f1_sessions.iter().map(|s| s.count).sum::<u64>(), 1085);
    assert!(sessions(&r, "feature0").is_empty());

    let s = session_by_handle(&r, "18856");
    assert_eq!(
        (s.user.as_str(), s.host.as_str(), s.display.as_deref()),
        ("user1", "server9", Some("/dev/tty"))
    );
    assert_eq!(
        (s.version.as_deref(), s.count, s.borrowed),
        (Some("61.9"), 16, false)
    );
    assert_eq!(s.start, at("2017-10-20 14:12", berlin));
    // A start later in the year than the poll is last year's.
    assert_eq!(
        session_by_handle(&r, "5401").start,
        at("2017-10-16 06:39", berlin)
    );

    // Reservation-only features: everything "in use" is reserved.
    assert_eq!(counts(feature(&r, "feature30")), (Some(1814), 0, 169));
    assert_eq!(counts(feature(&r, "feature34")), (Some(1814), 955, 121));

    // Borrowed (linger) checkouts: 1 + 16 licenses; expiry = start + linger period.
    let f31 = feature(&r, "feature31");
    assert_eq!((counts(f31), f31.borrowed), ((Some(1814), 130, 169), 17));
    let borrowed: Vec<_> = r.sessions.iter().filter(|s| s.borrowed).collect();
    assert_eq!(borrowed.len(), 2);
    assert_eq!(
        (borrowed[0].user.as_str(), borrowed[0].count),
        ("cmfy211", 1)
    );
    assert_eq!(
        (borrowed[1].user.as_str(), borrowed[1].count),
        ("cmfy212", 16)
    );
    let start = at("2017-05-23 05:59", berlin);
    assert_eq!(borrowed[1].start, start);
    assert_eq!(
        borrowed[1].expires,
        start.map(|s| s + chrono::Duration::seconds(1_340_160))
    );
    assert_eq!(borrowed[1].display.as_deref(), Some("UFRTR1LT00873750.0"));

    // Garbled displays and a user name with a space.
    let admin = session_by_handle(&r, "3201");
    assert_eq!(
        (
            admin.feature.as_str(),
            admin.user.as_str(),
            admin.host.as_str()
        ),
        ("feature100", "Administrator", "ServerS1")
    );
    assert_eq!(admin.display.as_deref(), Some("|)8<fZ)=Y[<7L$lY-p\\<6nn^Y"));
    assert_eq!(admin.start, at("2017-06-11 11:01", berlin));
    let john = session_by_handle(&r, "4611");
    assert_eq!(
        (john.user.as_str(), john.host.as_str()),
        ("John Doe", "John_D")
    );
    assert_eq!(john.display.as_deref(), Some("\"U,K$`Ct`0'\"C iQwgGsne<&!"));
    assert_eq!(
        (john.version.as_deref(), john.start),
        (Some("61.4"), at("2017-07-07 15:17", berlin))
    );
    assert_eq!(counts(feature(&r, "feature100")), (Some(10), 2, 0));
    assert_eq!(sessions(&r, "feature100").len(), 3);
}

#[test]
fn flexlm_exporter_app2_triad() {
    let ctx = ctx_at("2017-10-20 17:02", chrono_tz::UTC);
    let r = lmstat("flexlm_exporter-app2-triad.txt", &ctx);
    assert_no_diagnostics(&r);
    let masters: Vec<_> = r
        .servers
        .iter()
        .filter(|n| n.master)
        .map(|n| n.host.as_str())
        .collect();
    assert_eq!((r.servers.len(), masters), (3, vec!["host2"]));
    assert!(
        r.servers
            .iter()
            .all(|n| n.status == UpDown::Up && n.port == Some(28000))
    );
    assert_eq!(r.features.len(), 10);
    assert_eq!(counts(feature(&r, "feature2")), (Some(144), 22, 0));
    assert_eq!(counts(feature(&r, "feature5")), (Some(144), 15, 0));
    assert_eq!(counts(feature(&r, "feature10")), (Some(1), 0, 0));
    assert_eq!(
        (
            sessions(&r, "feature2").len(),
            sessions(&r, "feature5").len(),
            sessions(&r, "feature7").len()
        ),
        (22, 15, 1)
    );
    let pool = &feature(&r, "feature2").pools[0];
    assert_eq!(
        (pool.version.as_deref(), pool.vendor.as_deref()),
        (Some("31.0"), Some("vendor1"))
    );
    let s = session_by_handle(&r, "1699");
    assert_eq!(
        (s.user.as_str(), s.host.as_str(), s.display.as_deref()),
        ("user13", "server011", Some("server0110"))
    );
    assert_eq!(
        (s.version.as_deref(), s.start),
        (Some("30.000000"), at("2017-10-17 14:59", chrono_tz::UTC))
    );
}

#[test]
fn flexlm_exporter_app3_triad_2daemons() {
    let ctx = ctx_at("2017-10-20 17:02", chrono_tz::UTC);
    let r = lmstat("flexlm_exporter-app3-triad-2daemons.txt", &ctx);
    assert_no_diagnostics(&r);
    assert_eq!(
        node_summary(&r)[0],
        ("host1", Some(1999), UpDown::Up, true, Some("11.14"))
    );
    let daemons: Vec<_> = r
        .vendor_daemons
        .iter()
        .map(|d| (d.name.as_str(), d.status, d.version.as_deref()))
        .collect();
    assert_eq!(
        daemons,
        [
            ("daemon1", UpDown::Up, Some("11.14")),
            ("DAEMON2", UpDown::Up, Some("11.13"))
        ]
    );
    assert_eq!((r.features.len(), r.sessions.len()), (46, 168));
    assert_eq!(counts(feature(&r, "feature7")), (Some(600), 163, 0));
    assert_eq!(
        sessions(&r, "feature7")
            .iter()
            .map(|s| s.count)
            .sum::<u64>(),
        163
    );
    assert_eq!(counts(feature(&r, "feature9")), (Some(100), 39, 0));
    assert_eq!(
        feature(&r, "feature5").pools[0].version.as_deref(),
        Some("2017.12")
    );
    let s = session_by_handle(&r, "27843");
    assert_eq!(
        (s.user.as_str(), s.host.as_str(), s.display.as_deref()),
        ("USER1", "SERVER60036", Some("SERVER078011"))
    );
    assert_eq!(s.start, at("2017-10-20 14:12", chrono_tz::UTC));
}

#[test]
fn flexlm_exporter_app4_comsol_windows_uncounted_error() {
    let berlin = chrono_tz::Europe::Berlin;
    let ctx = ctx_at("2025-04-22 11:08", berlin);
    let r = lmstat(
        "flexlm_exporter-app4-comsol-windows-uncounted-error.txt",
        &ctx,
    );
    assert_no_diagnostics(&r);
    // `port@licensevm...`: the literal word "port" is no port number.
    assert_eq!(
        node_summary(&r),
        [(
            "licensevm.domain.example",
            None,
            UpDown::Up,
            true,
            Some("11.19.6")
        )]
    );
    assert_eq!(r.vendor_daemons[0].name, "LMCOMSOL");
    assert_eq!((r.features.len(), r.sessions.len()), (60, 5));

    let serial = feature(&r, "SERIAL");
    assert!(serial.uncounted);
    assert_eq!(
        (serial.issued, serial.in_use, serial.vendor.as_deref()),
        (None, 1, Some("LMCOMSOL"))
    );
    assert_eq!(serial.pools[0].expires, Some(Expiry::Permanent));
    assert_eq!(serial.pools[0].version.as_deref(), Some("6.3"));

    // `(Error: 1 licenses, unsupported by licensed server)`: issued, never in use, no vendor.
    for name in ["SUBSURFACEFLOW", "SUBSURFACEFLOWBATCH"] {
        let f = feature(&r, name);
        assert_eq!(
            (counts(f), f.vendor.as_deref(), f.uncounted, f.pools.len()),
            ((Some(1), 0, 0), None, false, 0)
        );
    }
    assert_eq!(counts(feature(&r, "COMSOL")), (Some(3), 1, 0));
    assert_eq!(r.features.last().map(|f| f.name.as_str()), Some("ACO"));

    let s = session_by_handle(&r, "914");
    assert_eq!(
        (s.feature.as_str(), s.user.as_str(), s.host.as_str()),
        ("ACDC", "matlab", "CLN-5CG3471WVY")
    );
    assert_eq!(
        (s.display.as_deref(), s.version.as_deref()),
        (Some("/dev/pts/0"), Some("5.6"))
    );
    assert_eq!(s.start, at("2025-04-22 11:07", berlin));
    assert_eq!(
        s.start,
        Some(Utc.with_ymd_and_hms(2025, 4, 22, 9, 7, 0).unwrap())
    );
}

#[test]
fn flexlm_exporter_app6_matlab_multipool_reservation_doublespaced() {
    let ctx = ctx_at("2026-03-16 12:16", chrono_tz::America::New_York);
    let r = lmstat(
        "flexlm_exporter-app6-matlab-multipool-reservation-doublespaced.txt",
        &ctx,
    );
    assert_no_diagnostics(&r);
    assert_eq!(
        node_summary(&r),
        [("SERVER1", Some(1713), UpDown::Up, true, Some("11.19.7"))]
    );
    assert_eq!((r.features.len(), r.sessions.len()), (53, 106));

    let matlab = feature(&r, "MATLAB");
    assert_eq!(counts(matlab), (Some(420), 59, 1));
    let pools: Vec<_> = matlab
        .pools
        .iter()
        .map(|p| (p.version.as_deref(), p.expires))
        .collect();
    assert_eq!(
        pools,
        [
            (Some("12"), Some(Expiry::Permanent)),
            (Some("53"), date(2099, 1, 1)),
            (Some("52"), date(2099, 1, 1))
        ]
    );
    assert_eq!(sessions(&r, "MATLAB").len(), 59);
    assert_eq!(counts(feature(&r, "SIMULINK")), (Some(320), 34, 1));
    assert_eq!(sessions(&r, "SIMULINK").len(), 34);
    assert_eq!(counts(feature(&r, "Control_Toolbox")), (Some(159), 6, 1));
    assert_eq!(counts(feature(&r, "Power_System_Blocks")), (Some(5), 0, 1));
    assert_eq!(counts(feature(&r, "SIMULINK_Perf_Tools")), (Some(1), 0, 1));
    let archive = feature(&r, "TMW_Archive");
    assert_eq!(
        (archive.uncounted, archive.issued, archive.in_use),
        (true, None, 0)
    );

    let s = session_by_handle(&r, "5901");
    assert_eq!(
        (s.user.as_str(), s.host.as_str(), s.display.as_deref()),
        ("USER19", "F1UXXXX", Some("DAT00004"))
    );
    assert_eq!(
        (s.version.as_deref(), s.start),
        (
            Some("48"),
            at("2026-03-16 09:37", chrono_tz::America::New_York)
        )
    );
}

#[test]
fn flexlm_exporter_app7_synopsys_snpslmd_pid() {
    let la = chrono_tz::America::Los_Angeles;
    let ctx = ctx_at("2026-09-25 12:15", la);
    let r = lmstat("flexlm_exporter-app7-synopsys-snpslmd-pid.txt", &ctx);
    assert_no_diagnostics(&r);
    assert_eq!(
        node_summary(&r),
        [("SERVER1", Some(27020), UpDown::Up, true, Some("11.19.7"))]
    );
    assert_eq!(r.vendor_daemons[0].name, "snpslmd");
    let names: Vec<_> = r
        .features
        .iter()
        .map(|f| (f.name.as_str(), f.issued, f.in_use))
        .collect();
    assert_eq!(
        names,
        [
            ("DC-Expert", Some(5), 1),
            ("TCM-1-Apex-Pkg", Some(4), 2),
            ("refocus", Some(4), 2)
        ]
    );
    let dc = &feature(&r, "DC-Expert").pools[0];
    assert_eq!(
        (dc.version.as_deref(), dc.vendor.as_deref(), dc.expires),
        (Some("2026.03"), Some("snpslmd"), date(2028, 11, 24))
    );
    assert_eq!(feature(&r, "refocus").pools[0].expires, date(2028, 6, 30));

    // An extra fourth word (`lc80a28012593569_1`) is not part of the display.
    let s = session_by_handle(&r, "24464");
    assert_eq!(
        (s.user.as_str(), s.host.as_str(), s.display.as_deref()),
        ("user1", "host-01", Some("host-01:0.0"))
    );
    assert_eq!(
        (s.version.as_deref(), s.start),
        (Some("2022.09"), at("2026-09-24 22:16", la))
    );
    // No display; `, PID: n` with and without a trailing space.
    for handle in ["19210", "43909"] {
        let s = session_by_handle(&r, handle);
        assert_eq!(
            (
                s.user.as_str(),
                s.host.as_str(),
                s.display.as_deref(),
                s.count
            ),
            ("user2", "host-01", None, 1)
        );
    }
}

#[test]
fn flexlm_exporter_lmstat_i_app1() {
    let r = lmstat_i("flexlm_exporter-lmstat_i-app1.txt");
    assert_no_diagnostics(&r);
    assert_eq!(r.format, "flexnet-lmstat-i");
    // 17 rows, feature12 twice: one feature with two pools.
    assert_eq!(r.features.len(), 16);
    let f1 = feature(&r, "feature1");
    assert_eq!(
        (f1.issued, f1.vendor.as_deref(), f1.in_use),
        (Some(2), Some("vendor1"), 0)
    );
    let p = &f1.pools[0];
    assert_eq!(
        (p.version.as_deref(), p.issued, p.expires),
        (Some("2018.12"), Some(2), date(2018, 12, 31))
    );
    assert_eq!(feature(&r, "feature7").issued, Some(600));
    let f12 = feature(&r, "feature12");
    assert_eq!(
        (f12.issued, f12.vendor.as_deref()),
        (Some(52), Some("vendor2"))
    );
    let pools: Vec<_> = f12.pools.iter().map(|p| (p.issued, p.expires)).collect();
    assert_eq!(
        pools,
        [(Some(50), date(2018, 12, 31)), (Some(2), date(2018, 9, 30))]
    );
    assert_eq!(
        feature(&r, "feature15").pools[0].expires,
        Some(Expiry::Permanent)
    ); // 1-jan-0
    assert_eq!(
        feature(&r, "feature16").pools[0].expires,
        Some(Expiry::Permanent)
    ); // 01-jan-0000
    assert_eq!(
        feature(&r, "feature16").pools[0].version.as_deref(),
        Some("0.1")
    );
}

#[test]
fn flexlm_exporter_lmstat_i_app2_vendor_before_expires() {
    let r = lmstat_i("flexlm_exporter-lmstat_i-app2-vendor-before-expires.txt");
    assert_no_diagnostics(&r);
    assert_eq!(r.features.len(), 9);
    let first = &r.features[0];
    assert_eq!(
        (first.name.as_str(), first.issued, first.vendor.as_deref()),
        ("FEATURE_NAME_2_38_05", Some(1), Some("VENDOR"))
    );
    assert_eq!(
        (first.pools[0].version.as_deref(), first.pools[0].expires),
        (Some("1.1"), date(2020, 6, 12))
    );
    let nine = feature(&r, "feature_name_9");
    assert_eq!(
        (nine.issued, nine.vendor.as_deref(), nine.pools[0].expires),
        (Some(2), Some("vendor"), Some(Expiry::Permanent))
    );
    assert_eq!(
        feature(&r, "feature_name_10").pools[0].expires,
        date(2020, 4, 30)
    );
}

#[test]
fn flexlm_exporter_lmstat_v_new() {
    let ctx = ctx_at("2020-01-01 00:00", chrono_tz::UTC);
    let r = lmstat("flexlm_exporter-lmstat_v-new.txt", &ctx);
    assert_eq!(r, StatusReport::empty("flexnet-lmstat"));
}

#[test]
fn flexlm_exporter_lmstat_v_old() {
    let ctx = ctx_at("2020-01-01 00:00", chrono_tz::UTC);
    let r = lmstat("flexlm_exporter-lmstat_v-old.txt", &ctx);
    assert_eq!(r, StatusReport::empty("flexnet-lmstat"));
}

#[test]
fn flexlm_exporter_server_down() {
    let ctx = ctx_at("2017-11-23 15:08", chrono_tz::UTC);
    let r = lmstat("flexlm_exporter-server_down.txt", &ctx);
    assert_no_diagnostics(&r);
    assert_eq!(
        node_summary(&r),
        [
            ("host1", Some(28000), UpDown::Up, false, Some("11.13.0")),
            ("host2", Some(28000), UpDown::Up, true, Some("11.13.0")),
            ("host3", Some(28000), UpDown::Down, false, None),
        ]
    );
    assert_eq!(
        r.servers[2].error.as_deref(),
        Some(
            "Cannot connect to license server system. (-15,570:115 \"Operation now in progress\")"
        )
    );
    assert!(!r.server_down(), "two of three nodes are up");
    assert_eq!(r.vendor_daemons[0].version.as_deref(), Some("11.13.1"));
    assert_eq!(counts(feature(&r, "feature2")), (Some(144), 39, 0));
    let pool = &feature(&r, "feature2").pools[0];
    assert_eq!(
        (pool.vendor.as_deref(), pool.expires),
        (Some("feature2"), Some(Expiry::Permanent))
    );
    assert!(r.sessions.is_empty());
}

#[test]
fn flexlm_exporter_server_up_win_ptc() {
    let ctx = ctx_at("2018-05-15 13:41", chrono_tz::UTC);
    let r = lmstat("flexlm_exporter-server_up_win-ptc.txt", &ctx);
    assert_no_diagnostics(&r);
    // Windows prints the node twice, upper and lower case: one node.
    assert_eq!(
        node_summary(&r),
        [("BVS15004", Some(7788), UpDown::Up, true, Some("11.12"))]
    );
    assert_eq!(r.vendor_daemons[0].name, "ptc_d");
    assert_eq!(r.vendor_daemons[0].version.as_deref(), Some("11.14.0"));
    assert!(r.features.is_empty());
}

#[test]
fn intel_blog_lmstat_noargs_v9_2_intel_up() {
    let ctx = ctx_at("2011-03-04 12:22", chrono_tz::UTC);
    let r = lmstat("intel-blog-lmstat-noargs-v9.2-intel-up.txt", &ctx);
    assert_no_diagnostics(&r);
    assert_eq!(
        node_summary(&r),
        [("id-lic01", Some(28518), UpDown::Up, true, Some("9.2"))]
    );
    assert_eq!(
        (
            r.vendor_daemons[0].name.as_str(),
            r.vendor_daemons[0].status
        ),
        ("INTEL", UpDown::Up)
    );
}

#[test]
fn omnivector_lmstat_cannot_connect_15_570() {
    let ctx = ctx_at("2021-03-31 09:12", chrono_tz::UTC);
    let r = lmstat("omnivector-lmstat-cannot-connect-15-570.txt", &ctx);
    assert_no_diagnostics(&r);
    assert_eq!(node_summary(&r), [("", None, UpDown::Down, false, None)]);
    assert!(r.server_down());
    assert_eq!(
        r.down_reason(),
        Some("Cannot connect to license server (-15,570:111 \"Connection refused\")")
    );
}

#[test]
fn omnivector_partial_feature_eq_display_token() {
    let ctx = ctx_at("2024-03-12 00:00", chrono_tz::UTC);
    let r = lmstat("omnivector-partial-feature-eq-display-token.txt", &ctx);
    // The excerpt's `...` elisions are not lmstat output: reported, nothing else is.
    let lines: Vec<_> = r.diagnostics.iter().map(|d| d.line).collect();
    assert_eq!(lines, [2, 4]);
    assert_eq!(counts(feature(&r, "TEST_FEATURE")), (Some(42800), 1600, 0));
    let counts_: Vec<_> = r.sessions.iter().map(|s| s.count).collect();
    assert_eq!(counts_, [100, 1400, 100]);
    for s in &r.sessions {
        assert_eq!(
            (s.user.as_str(), s.host.as_str(), s.display.as_deref()),
            ("usbn12", "p-c94.com", Some("/dev/tty"))
        );
        assert_eq!(
            (s.version.as_deref(), s.start),
            (Some("2023.0"), at("2024-03-11 13:16", chrono_tz::UTC))
        );
    }
    assert_eq!(r.sessions[1].handle.as_deref(), Some("626"));
}

#[test]
fn omnivector_partial_multiversion_pools_ccmppower() {
    let ctx = ctx_at("2024-03-12 00:00", chrono_tz::UTC);
    let r = lmstat("omnivector-partial-multiversion-pools-ccmppower.txt", &ctx);
    let lines: Vec<_> = r.diagnostics.iter().map(|d| d.line).collect();
    assert_eq!(lines, [2, 4]);
    let f = feature(&r, "ccmppower");
    assert_eq!(
        (counts(f), f.vendor.as_deref()),
        ((Some(40), 3, 0), Some("abc"))
    );
    let versions: Vec<_> = f
        .pools
        .iter()
        .map(|p| (p.version.as_deref(), p.expires))
        .collect();
    assert_eq!(versions, [(Some("2025.09"), None), (Some("2024.09"), None)]);
    // A user name that starts with a digit is not a reservation.
    let hosts: Vec<_> = r
        .sessions
        .iter()
        .map(|s| (s.user.as_str(), s.host.as_str()))
        .collect();
    assert_eq!(
        hosts,
        [
            ("1nou7p", "dcv033.com"),
            ("1nou7p", "n-c41.com"),
            ("1nou7p", "nid001234")
        ]
    );
    assert_eq!(r.sessions[2].start, at("2024-03-10 10:41", chrono_tz::UTC));
}

// ----- beyond the fixtures -----

#[test]
fn crlf_and_doubled_lines_parse_like_the_original() {
    let ctx = ctx_at("2017-10-20 17:02", chrono_tz::UTC);
    let text = common::fixture(&format!("{FIXTURE_DIR}/flexlm_exporter-app2-triad.txt"));
    let clean = parse_lmstat(&text, &ctx);
    let crlf = parse_lmstat(&text.replace('\n', "\r\n"), &ctx);
    let doubled = parse_lmstat(&text.replace('\n', "\r\n\r\n"), &ctx);
    assert_no_diagnostics(&crlf);
    assert_no_diagnostics(&doubled);
    assert_eq!(
        (crlf.features.clone(), crlf.sessions.clone()),
        (clean.features.clone(), clean.sessions.clone())
    );
    assert_eq!(
        (doubled.features, doubled.sessions),
        (clean.features, clean.sessions)
    );
}

#[test]
fn queued_requests_and_down_daemon_and_lmgrd_not_running() {
    let ctx = ctx_at("2024-06-11 10:00", chrono_tz::UTC);
    let text = "License server status: 27000@lic1\n\
        lmgrd is not running: License server machine is down or not responding. (-96,7:2 \"No such file\")\n\
        Vendor daemon status (on lic1):\n\
        \x20 acme: The desired vendor daemon is down. (-97,121)\n\
        Users of solver:  (Total of 2 licenses issued;  Total of 2 licenses in use)\n\
        \x20 \"solver\" v1.0, vendor: acme, expiry: 29-sep-2026\n\
        \x20   u1 ws1 /dev/tty (v1.0) (lic1/27000 101), start Mon 6/10 9:40, 2 licenses\n\
        \x20   u2 ws2 /dev/tty (v1.0) (lic1/27000 202) queued for 1 license\n\
        \x20   u3 ws3 ws3 (v1.0) (lic1/27000 303), start Mon 6/11 9:40 (linger: 3600)\n";
    let r = parse_lmstat(text, &ctx);
    assert_no_diagnostics(&r);
    assert_eq!(
        node_summary(&r),
        [("lic1", Some(27000), UpDown::Down, false, None)]
    );
    assert!(
        r.down_reason()
            .is_some_and(|e| e.starts_with("lmgrd is not running"))
    );
    let d = &r.vendor_daemons[0];
    assert_eq!(
        (d.name.as_str(), d.status, d.error.as_deref()),
        (
            "acme",
            UpDown::Down,
            Some("The desired vendor daemon is down. (-97,121)")
        )
    );
    let f = feature(&r, "solver");
    assert_eq!((f.in_use, f.queued, f.borrowed), (2, 1, 1));
    assert_eq!(f.pools[0].expires, date(2026, 9, 29));
    let q = session_by_handle(&r, "202");
    assert_eq!((q.queued, q.count, q.start), (true, 1, None));
    let b = session_by_handle(&r, "303");
    assert_eq!(
        (b.borrowed, b.start, b.expires),
        (
            true,
            at("2024-06-11 09:40", chrono_tz::UTC),
            at("2024-06-11 10:40", chrono_tz::UTC)
        )
    );
}

#[test]
fn unknown_lines_are_diagnostics_with_line_numbers() {
    let ctx = ctx_at("2024-06-11 10:00", chrono_tz::UTC);
    let text = "Users of f:  (Total of 1 license issued;  Total of 0 licenses in use)\n\nsomething new\n    u h (v1) (s/1 2), start Mon 6/10 9:40, 1 license, smiling\n";
    let r = parse_lmstat(text, &ctx);
    let lines: Vec<_> = r.diagnostics.iter().map(|d| d.line).collect();
    assert_eq!(lines, [3, 4]);
    assert_eq!(
        r.sessions.len(),
        1,
        "a user line with an odd ending is still a session"
    );
}

// ----- coverage and robustness -----

/// Every file in `fixtures/flexlm/` must be named in this file, so a new fixture forces a test.
#[test]
fn every_fixture_has_a_test() {
    let this_file = include_str!("flexnet_lmstat.rs");
    let dir = common::fixtures_dir().join(FIXTURE_DIR);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut missing = Vec::new();
    let mut seen = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        seen += 1;
        if !this_file.contains(&format!("\"{name}\"")) {
            missing.push(name);
        }
    }
    assert!(
        seen >= 17,
        "expected the FlexNet fixtures in {}",
        dir.display()
    );
    assert!(
        missing.is_empty(),
        "fixtures without a test in tests/flexnet_lmstat.rs: {missing:?}"
    );
}

fn all_fixture_texts() -> Vec<String> {
    let dir = common::fixtures_dir().join(FIXTURE_DIR);
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
        .iter()
        .map(|n| common::fixture(&format!("{FIXTURE_DIR}/{n}")))
        .collect()
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Runs both parsers and checks what must hold for any input.
fn check_any_input(text: &str, ctx: &ParseContext) {
    let line_count = text.lines().count();
    for r in [parse_lmstat(text, ctx), parse_lmstat_i(text, ctx)] {
        for d in &r.diagnostics {
            assert!(
                d.line >= 1 && d.line <= line_count,
                "diagnostic line {} of {line_count}",
                d.line
            );
        }
    }
}

const INTERESTING: &[&str] = &[
    "Users of ",
    "(Total of ",
    " licenses issued;",
    "), start ",
    ") queued for ",
    "(v",
    "(linger: ",
    "RESERVATION",
    "\"",
    ":",
    "/",
    "@",
    ",",
    "\r\n",
    "\n",
    "\t",
    "é",
    "\u{0}",
    "9999999999999999999999",
    "License server status: ",
    "Vendor daemon status",
    "Error getting status: ",
    "expiry: ",
];

fn mutate(text: &str, rng: &mut XorShift) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..1 + rng.below(8) {
        match rng.below(5) {
            0 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
            1 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes.truncate(i);
            }
            2 => {
                let i = rng.below(bytes.len() + 1);
                let piece = INTERESTING[rng.below(INTERESTING.len())].as_bytes();
                bytes.splice(i..i, piece.iter().copied());
            }
            3 => {
                let i = rng.below(bytes.len() + 1);
                let random: String = (0..rng.below(12))
                    .filter_map(|_| char::from_u32(rng.next() as u32 % 0x11_0000))
                    .collect();
                bytes.splice(i..i, random.bytes());
            }
            _ if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                let len = rng.below(64).min(bytes.len() - i);
                bytes.drain(i..i + len);
            }
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn never_panics_on_mutated_fixtures() {
    let ctx = ctx_at("2017-10-20 17:02", chrono_tz::Europe::Berlin);
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for text in all_fixture_texts() {
        check_any_input(&text, &ctx);
        for _ in 0..150 {
            check_any_input(&mutate(&text, &mut rng), &ctx);
        }
        // Shuffled lines.
        let mut lines: Vec<&str> = text.lines().collect();
        for i in (1..lines.len()).rev() {
            lines.swap(i, rng.below(i + 1));
        }
        check_any_input(&lines.join("\n"), &ctx);
    }
}

#[test]
fn never_panics_on_truncation_at_every_char_boundary() {
    let ctx = ctx_at("2017-10-20 17:02", chrono_tz::UTC);
    for file in [
        "flexlm_exporter-app7-synopsys-snpslmd-pid.txt",
        "flexlm_exporter-server_down.txt",
        "flexlm_exporter-lmstat_i-app2-vendor-before-expires.txt",
    ] {
        let text = common::fixture(&format!("{FIXTURE_DIR}/{file}"));
        for (i, _) in text.char_indices() {
            check_any_input(&text[..i], &ctx);
            check_any_input(&text[i..], &ctx);
        }
    }
    // The garbled-display lines, cut everywhere.
    let text = common::fixture(&format!(
        "{FIXTURE_DIR}/flexlm_exporter-app1-triad-reservations-linger-garbled-display.txt"
    ));
    for line in text
        .lines()
        .filter(|l| l.contains("John Doe") || l.contains("linger") || l.contains("Administrator"))
    {
        for (i, _) in line.char_indices() {
            check_any_input(&line[..i], &ctx);
            check_any_input(&line[i..], &ctx);
        }
    }
}

#[test]
fn never_panics_on_random_utf8_and_extreme_contexts() {
    let mut rng = XorShift(42);
    for tz in [chrono_tz::UTC, chrono_tz::Pacific::Kiritimati] {
        for now in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            let ctx = ParseContext::new(now, tz);
            check_any_input(
                "Users of f: (Total of 1 license issued; Total of 1 license in use)\n  u h d (v1) (s/1 2), start Thu 2/29 23:59 (linger: 18446744073709551615)\n",
                &ctx,
            );
        }
    }
    let ctx = ctx_at("2017-10-20 17:02", chrono_tz::UTC);
    for _ in 0..300 {
        let len = rng.below(400);
        let text: String = (0..len)
            .filter_map(|_| match rng.below(4) {
                0 => Some(['\n', ' ', '(', ')', ':', ',', '/', '"'][rng.below(8)]),
                1 => char::from_u32(rng.next() as u32 % 0x11_0000),
                _ => char::from_u32(32 + rng.below(95) as u32),
            })
            .collect();
        check_any_input(&text, &ctx);
    }
}
