//! Never-panic fuzzing of the RLM and LM-X status parsers without extra dependencies:
//! deterministic xorshift mutations of every rlm/ and lmx/ fixture (and the hand-written XML),
//! each fed to all three parsers. Asserts no panic and that every diagnostic points at a line
//! of the input.

mod common;

use common::mutate::{
    self, XorShift, assert_lines_in_input, duplicate_and_drop_lines, flip_bytes, shuffle_lines,
    swap_digits, truncate,
};

use chrono::{TimeZone, Utc};
use licmon_parse::ParseContext;
use licmon_parse::lmx_licstat::{parse_licstat, parse_licstat_xml};
use licmon_parse::rlm_rlmstat::parse_rlmstat;

const ROUNDS_PER_FIXTURE: usize = 300;

fn seeds() -> Vec<(String, String)> {
    let mut inputs = Vec::new();
    for dir in ["rlm", "lmx"] {
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
    let xml = include_str!("fixtures/lmx-licstatxml-documented.xml");
    inputs.push(("fixtures/lmx-licstatxml-documented.xml".into(), xml.into()));
    inputs
}

fn mutate(text: &str, rng: &mut XorShift) -> String {
    match rng.below(7) {
        0 => flip_bytes(text, rng),
        1 => truncate(text, rng),
        2 => shuffle_lines(text, rng),
        3 => splice_random_utf8(text, rng),
        4 => xml_soup(rng),
        5 => duplicate_and_drop_lines(text, rng),
        _ => swap_digits(text, rng),
    }
}

fn splice_random_utf8(text: &str, rng: &mut XorShift) -> String {
    const PIECES: [&str; 12] = [
        "é",
        "\u{0}",
        "\t",
        "\r",
        "\n",
        "ß@",
        ": ",
        "(handle: ",
        "/",
        " at ",
        "  ",
        "日本",
    ];
    mutate::splice(text, rng, &PIECES)
}

/// Random tag soup with the element and attribute names the XML parser knows.
fn xml_soup(rng: &mut XorShift) -> String {
    const PARTS: [&str; 16] = [
        "<LM-X>",
        "</LM-X>",
        "<LICENSE_PATH HOST=\"6200@h\" STATUS=\"",
        "SUCCESS\">",
        "</LICENSE_PATH>",
        "<FEATURE NAME=\"f\" USED_LICENSES=\"",
        "TOTAL_LICENSES=\"18446744073709551616\"",
        "\">",
        "</FEATURE>",
        "<USER NAME=\"u\" HOST=\"h\" CHECKOUT_TIME=\"2022-02-30 25:61\"/>",
        "<!--",
        "-->",
        "<?xml version=\"1.0\"?>",
        "&amp;",
        "&bogus;",
        "\n",
    ];
    mutate::soup(rng, &PARTS)
}

#[test]
fn mutated_fixtures_never_panic_and_diagnostics_point_into_the_input() {
    let ctx = ParseContext::new(
        Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 0).unwrap(),
        chrono_tz::America::New_York,
    );
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for (name, text) in seeds() {
        for round in 0..ROUNDS_PER_FIXTURE {
            let input = if round == 0 {
                text.clone()
            } else {
                mutate(&text, &mut rng)
            };
            let what = format!("{name} round {round}");
            assert_lines_in_input(&parse_rlmstat(&input, &ctx), &input, &what);
            assert_lines_in_input(&parse_licstat(&input, &ctx), &input, &what);
            assert_lines_in_input(&parse_licstat_xml(&input, &ctx), &input, &what);
        }
    }
}

#[test]
fn empty_and_whitespace_inputs_give_empty_reports() {
    let ctx = ParseContext::new(
        Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
        chrono_tz::UTC,
    );
    for input in ["", "\n", "   \n\t\n", "\r\n"] {
        for report in [
            parse_rlmstat(input, &ctx),
            parse_licstat(input, &ctx),
            parse_licstat_xml(input, &ctx),
        ] {
            assert!(
                report.diagnostics.is_empty()
                    && report.features.is_empty()
                    && report.servers.is_empty()
            );
        }
    }
}
