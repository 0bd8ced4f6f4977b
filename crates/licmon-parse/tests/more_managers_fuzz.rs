//! Never-panic fuzzing of the Sentinel RMS, DSLS, IBM LUM, MathLM, LS-DYNA, OLicense and
//! custom XML parsers: deterministic xorshift mutations of every fixture they own, each fed to
//! all seven. Asserts no panic and that every diagnostic points at a line of the input.

mod common;

use common::mutate::{
    self, XorShift, assert_lines_in_input, duplicate_and_drop_lines, flip_bytes, shuffle_lines,
    swap_digits, truncate,
};

use chrono::{TimeZone, Utc};
use licmon_parse::{ParseContext, StatusFormat};

const ROUNDS_PER_FIXTURE: usize = 300;

const FORMATS: [StatusFormat; 7] = [
    StatusFormat::SentinelLsmon,
    StatusFormat::DslsGetLicenseUsage,
    StatusFormat::IbmLumI4blt,
    StatusFormat::MathlmMonitorlm,
    StatusFormat::LsdynaQrun,
    StatusFormat::OlicenseOlixtool,
    StatusFormat::CustomXml,
];

fn seeds() -> Vec<(String, String)> {
    let mut inputs = Vec::new();
    for dir in ["sentinel-rms", "lsdyna", "olicense"] {
        let mut names: Vec<String> = std::fs::read_dir(common::fixtures_dir().join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        for name in names {
            let rel = format!("{dir}/{name}");
            let text = common::fixture(&rel);
            inputs.push((rel, text));
        }
    }
    for (name, text) in [
        (
            "dsls",
            include_str!("fixtures/dsls-getlicenseusage-documented.txt"),
        ),
        ("lum", include_str!("fixtures/ibm-lum-i4blt-documented.txt")),
        (
            "mathlm",
            include_str!("fixtures/mathlm-monitorlm-documented.txt"),
        ),
        (
            "custom-xml",
            include_str!("fixtures/custom-xml-example.xml"),
        ),
    ] {
        inputs.push((name.to_string(), text.to_string()));
    }
    inputs
}

fn mutate(text: &str, rng: &mut XorShift) -> String {
    match rng.below(7) {
        0 => flip_bytes(text, rng),
        1 => truncate(text, rng),
        2 => shuffle_lines(text, rng),
        3 => splice(text, rng),
        4 => xml_soup(rng),
        5 => duplicate_and_drop_lines(text, rng),
        _ => swap_digits(text, rng),
    }
}

fn splice(text: &str, rng: &mut XorShift) -> String {
    const PIECES: [&str; 16] = [
        "é", "\u{0}", "\t", "\r", "\n", "@", ": ", "|- ", ";", ",", "#", " | ", "<", "\"", "日本",
        "admin >",
    ];
    mutate::splice(text, rng, &PIECES)
}

fn xml_soup(rng: &mut XorShift) -> String {
    const PARTS: [&str; 14] = [
        "<licmon-status version=\"1\">",
        "</licmon-status>",
        "<feature name=\"f\" used=\"",
        "18446744073709551616\"",
        "\">",
        "</feature>",
        "<user name=\"u\" host=\"h\" checkout=\"2022-02-30 25:61\"/>",
        "<!--",
        "-->",
        "<?xml version=\"1.0\"?>",
        "&amp;",
        "&bogus;",
        " expires=\"permanent\"",
        "\n",
    ];
    mutate::soup(rng, &PARTS)
}

#[test]
fn mutated_fixtures_never_panic_and_diagnostics_point_into_the_input() {
    let ctx = ParseContext::new(
        Utc.with_ymd_and_hms(2024, 3, 10, 7, 30, 0).unwrap(),
        chrono_tz::America::New_York,
    );
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    for (name, text) in seeds() {
        for round in 0..ROUNDS_PER_FIXTURE {
            let input = if round == 0 {
                text.clone()
            } else {
                mutate(&text, &mut rng)
            };
            for format in FORMATS {
                let what = format!("{name} round {round} as {}", format.name());
                assert_lines_in_input(&format.parse(&input, &ctx), &input, &what);
            }
        }
    }
}

#[test]
fn empty_inputs_give_empty_reports() {
    let ctx = ParseContext::new(
        Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
        chrono_tz::UTC,
    );
    for input in ["", "\n", "   \n\t\n", "\r\n"] {
        for format in FORMATS {
            let r = format.parse(input, &ctx);
            assert!(r.features.is_empty() && r.servers.is_empty(), "{input:?}");
            // Only custom XML, whose file is a contract, calls an empty file a problem.
            assert_eq!(
                r.diagnostics.is_empty(),
                format != StatusFormat::CustomXml,
                "{input:?} as {}",
                format.name()
            );
        }
    }
}
