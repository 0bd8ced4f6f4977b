//! licmon-sim: fake vendor license utilities (`lmutil`, `rlmutil`, `lmxendutil`) that print the
//! real formats from a scenario file, so that licmon's poll engine, demo, end-to-end tests and
//! scale benchmarks can run without vendor tools.
//!
//! Everything is a pure function of (scenario, argv, clock): [`respond`] computes the bytes to
//! print; `main.rs` only does I/O (find the scenario, write, log, hang).

pub mod argv;
pub mod cli;
pub mod common;
pub mod flexnet;
pub mod hash;
pub mod lmx;
pub mod locate;
pub mod others;
pub mod rlm;
pub mod scenario;
pub mod usage;

use chrono::{DateTime, Timelike, Utc};

use argv::{Command, Invocation, Utility};
use scenario::{Behaviour, Kind, Member, Scenario, Server, members};

/// What one invocation prints and how it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub stdout: Vec<u8>,
    pub exit_code: i32,
    /// Print `stdout`, then sleep until killed.
    pub hang: bool,
    /// For the log line: the server address asked for (scenario address when known).
    pub server: String,
    /// For the log line: `up`, `down`, `flap:down`, ..., or `unknown` for an unknown server.
    pub behaviour: String,
}

impl Response {
    fn text(s: String, server: String, behaviour: String) -> Response {
        Response {
            stdout: s.into_bytes(),
            exit_code: 0,
            hang: false,
            server,
            behaviour,
        }
    }
}

/// `flap`: down for 4–9 minutes at a deterministic offset in every hour.
pub fn flap_is_down(seed: u64, server: &Server, now: DateTime<Utc>) -> bool {
    let hour = now.timestamp().div_euclid(3600) as u64;
    let h = hash::hash(&[seed, hash::fnv(&server.address), hour, 13]);
    let start = (h % 50) as u32;
    let len = 4 + ((h >> 8) % 6) as u32;
    (start..start + len).contains(&now.minute())
}

/// Deterministic binary-ish junk for `garbage`: NULs, control bytes, invalid UTF-8 and a few
/// fragments of real output, so that parsers see something that almost looks right.
pub fn garbage(seed: u64, server: &Server, now: DateTime<Utc>) -> Vec<u8> {
    let slot = now.timestamp().div_euclid(60) as u64;
    let mut h = hash::hash(&[seed, hash::fnv(&server.address), slot, 17]);
    let len = 256 + (h % 1792) as usize;
    let mut out = Vec::with_capacity(len + 64);
    out.extend_from_slice(b"Users of \xff\xfe\x00");
    while out.len() < len {
        h = hash::mix(h);
        out.extend_from_slice(&h.to_le_bytes());
        if h.is_multiple_of(7) {
            out.extend_from_slice(b"\n  (Total of \x00 licenses");
        }
    }
    out.truncate(len);
    out
}

fn kind_of(u: Utility) -> Kind {
    match u {
        Utility::Lmutil | Utility::Lmstat => Kind::Flexnet,
        Utility::Rlmutil | Utility::Rlmstat => Kind::Rlm,
        Utility::Lmxendutil => Kind::Lmx,
        Utility::Lsmon => Kind::SentinelRms,
        Utility::DsLicSrv => Kind::Dsls,
        Utility::I4blt => Kind::IbmLum,
        Utility::Monitorlm => Kind::Mathlm,
        Utility::LstcQrun => Kind::Lsdyna,
        Utility::Olixtool => Kind::Olicense,
    }
}

/// The queried member of a host(/port) status command (port 0 when the utility takes none).
fn status_member(cmd: &Command) -> Member {
    match cmd {
        Command::Status { host, port } => Member {
            port: port.unwrap_or(0),
            host: host.clone().unwrap_or_default(),
        },
        _ => Member {
            port: 0,
            host: String::new(),
        },
    }
}

/// The vendor's own "cannot connect" output for `query`.
fn unreachable(
    u: Utility,
    cmd: &Command,
    query: &[Member],
    spec: &str,
    now: DateTime<Utc>,
) -> String {
    match (kind_of(u), cmd) {
        (Kind::Flexnet, _) => flexnet::cannot_connect(u.name(), now),
        (Kind::Rlm, _) => rlm::cannot_connect(spec, query.first()),
        (
            Kind::Lmx,
            Command::Licstat {
                xml: true,
                host,
                port,
            },
        ) => lmx::no_servers_xml(host.as_deref().unwrap_or(""), *port),
        (Kind::Lmx, _) => lmx::no_servers(),
        (kind, cmd) => {
            let m = status_member(cmd);
            match kind {
                Kind::SentinelRms => others::lsmon_cannot_connect(&m.host),
                Kind::Dsls => others::dsls_cannot_connect(&m.host, m.port),
                Kind::IbmLum => others::i4blt_cannot_connect(&m.host),
                Kind::Mathlm => others::monitorlm_cannot_connect(&m.host),
                Kind::Lsdyna => others::qrun_cannot_connect(&m),
                _ => others::olixtool_cannot_connect(&m.host, m.port),
            }
        }
    }
}

/// The server's `down` output.
fn down(u: Utility, cmd: &Command, server: &Server, spec: &str, now: DateTime<Utc>) -> String {
    let query = server.members();
    match kind_of(u) {
        Kind::Flexnet => flexnet::down(u.name(), server, now),
        _ => unreachable(u, cmd, &query, spec, now),
    }
}

fn first_line(u: Utility, cmd: &Command, spec: &str) -> String {
    match kind_of(u) {
        Kind::Flexnet => flexnet::first_line(u.name()),
        Kind::Rlm => rlm::first_line(spec),
        Kind::Lmx => lmx::first_line(),
        Kind::SentinelRms => others::lsmon_first_line(),
        Kind::Dsls => others::dsls_first_line(),
        Kind::IbmLum => others::i4blt_first_line(),
        Kind::Mathlm => others::monitorlm_first_line(),
        Kind::Lsdyna => others::qrun_first_line(&status_member(cmd)),
        Kind::Olicense | Kind::CustomXml => others::olixtool_first_line(),
    }
}

/// The server address an invocation asks about: the `-c` list or `PORT@HOST` of LM-X.
pub fn query_spec(inv: &Invocation) -> String {
    match &inv.command {
        Command::Lmstat { license, .. } | Command::Rlmstat { license, .. } => {
            license.clone().unwrap_or_default()
        }
        Command::Licstat { host, port, .. } => format!("{port}@{}", host.as_deref().unwrap_or("")),
        Command::Status { .. } => status_member(&inv.command).to_string(),
        Command::WriteCustomXml { address, .. } => address.clone(),
        _ => String::new(),
    }
}

/// Compute the response to a vendor-utility invocation. `Help`, `ExampleScenario` and `Usage`
/// are handled by the binary before a scenario is needed.
pub fn respond(inv: &Invocation, scenario: &Scenario, now: DateTime<Utc>) -> Response {
    let Some(u) = inv.utility else {
        return Response::text(String::new(), String::new(), "none".into());
    };
    let spec = query_spec(inv);
    let query = members(&spec);
    let kind = kind_of(u);
    let Some(server) = scenario
        .servers
        .iter()
        .find(|s| s.kind == kind && s.matches(&query))
    else {
        let text = unreachable(u, &inv.command, &query, &spec, now);
        return Response::text(text, spec, "unknown".into());
    };
    let address = server.address.clone();
    let seed = scenario.seed;
    let behaviour = match server.behaviour {
        Behaviour::Flap if flap_is_down(seed, server, now) => "flap:down".to_string(),
        Behaviour::Flap => "flap:up".to_string(),
        b => b.name().to_string(),
    };
    match (server.behaviour, behaviour.as_str()) {
        (Behaviour::Down, _) | (_, "flap:down") => Response::text(
            down(u, &inv.command, server, &spec, now),
            address,
            behaviour,
        ),
        (Behaviour::Hang, _) => Response {
            hang: true,
            ..Response::text(first_line(u, &inv.command, &spec), address, behaviour)
        },
        (Behaviour::Garbage, _) => Response {
            stdout: garbage(seed, server, now),
            exit_code: 0,
            hang: false,
            server: address,
            behaviour,
        },
        _ => {
            let text = match &inv.command {
                Command::Lmstat { info: false, .. } => {
                    flexnet::lmstat_a(u.name(), seed, server, now)
                }
                Command::Lmstat { info: true, .. } => flexnet::lmstat_i(server),
                Command::Rlmstat { isv, .. } => {
                    rlm::rlmstat(&spec, seed, server, now, isv.is_some())
                }
                Command::Licstat { xml: false, .. } => lmx::licstat(seed, server, now),
                Command::Licstat { xml: true, .. } => lmx::licstat_xml(seed, server, now),
                Command::Status { .. } => {
                    let m = status_member(&inv.command);
                    let member = if m.port == 0 {
                        server.members().into_iter().next().unwrap_or(m)
                    } else {
                        m
                    };
                    match kind {
                        Kind::SentinelRms => others::lsmon(seed, server, &member.host, now),
                        Kind::Dsls => others::dsls(seed, server, &member, now),
                        Kind::IbmLum => others::i4blt(seed, server, &member.host, now),
                        Kind::Mathlm => others::monitorlm(seed, server, &member.host, now),
                        Kind::Lsdyna => others::qrun(seed, server, &member, now),
                        Kind::Olicense => others::olixtool(seed, server, &member, now),
                        _ => String::new(),
                    }
                }
                _ => String::new(),
            };
            Response::text(text, address, behaviour)
        }
    }
}

pub const HELP: &str = "\
licmon-sim: simulated license-server utilities for licmon demos and tests

Invoked as (argv[0] basename, .exe tolerated) or with the name as first argument:
  lmutil lmstat -a -c PORT@HOST[,PORT@HOST,PORT@HOST]    FlexNet status
  lmutil lmstat -i -c PORT@HOST                          FlexNet feature table
  rlmutil rlmstat -a -c PORT@HOST [-i ISV]               RLM status
  lmxendutil -licstat -host HOST -port PORT              LM-X status (text)
  lmxendutil -licstatxml -host HOST -port PORT           LM-X status (XML)
  lsmon HOST                                             Sentinel RMS status
  DSLicSrv -admin  (stdin: connect HOST PORT, getLicenseUsage -csv)   DSLS usage
  i4blt -s -lc -n HOST                                   IBM LUM status
  monitorlm HOST -format text                            MathLM status
  lstc_qrun -s PORT@HOST -R                              LS-DYNA status
  olixtool -sv HOST:PORT                                 OLicense status
  licmon-sim custom-xml PATH PORT@HOST                   write a custom XML status file
  licmon-sim example-scenario                            print a commented scenario
  licmon-sim --help

Scenario: $LICMON_SIM_SCENARIO, else licmon-sim.toml beside argv[0] (symlink not resolved).
Clock:    $LICMON_SIM_NOW (RFC 3339) overrides the current time.
Log:      $LICMON_SIM_LOG (or the scenario's `log`) gets one line per invocation:
          time, pid, utility, server, behaviour, and `status` or `info` (lmstat -i).
";

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(s: &str) -> Invocation {
        let args: Vec<String> = s.split_whitespace().map(str::to_string).collect();
        argv::parse(&args, &|_| None)
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn same_seed_and_clock_same_bytes_for_every_format() {
        let sc = Scenario::parse(scenario::EXAMPLE_SCENARIO).unwrap();
        let now = at("2025-03-11T14:20:00Z");
        for cmd in [
            "lmutil lmstat -a -c 27000@lic1,27000@lic2,27000@lic3",
            "lmutil lmstat -i -c 27000@lic1",
            "rlmutil rlmstat -a -c 5053@rlmhost",
            "lmxendutil -licstat -host lmxhost -port 6200",
            "lmxendutil -licstatxml -host lmxhost -port 6200",
        ] {
            let a = respond(&inv(cmd), &sc, now);
            assert_eq!(a, respond(&inv(cmd), &sc, now), "{cmd}");
            assert!(a.stdout.len() > 200, "{cmd}");
            let mut other = sc.clone();
            other.seed += 1;
            if !cmd.contains("-i") {
                assert_ne!(a.stdout, respond(&inv(cmd), &other, now).stdout, "{cmd}");
            }
        }
    }

    #[test]
    fn behaviours() {
        let sc = Scenario::parse(
            r#"
            [[server]]
            kind = "rlm"
            address = "5053@g"
            vendor = "isv"
            behaviour = "garbage"
            [[server]]
            kind = "flexnet"
            address = "1@h"
            vendor = "v"
            behaviour = "hang"
            [[server]]
            kind = "lmx"
            address = "6200@f"
            vendor = "X"
            behaviour = "flap"
            "#,
        )
        .unwrap();
        let now = at("2025-03-11T14:20:00Z");
        let g = respond(&inv("rlmutil rlmstat -a -c 5053@g"), &sc, now);
        assert!(
            std::str::from_utf8(&g.stdout).is_err(),
            "garbage is not even UTF-8"
        );
        assert_eq!(g, respond(&inv("rlmutil rlmstat -a -c 5053@g"), &sc, now));
        let h = respond(&inv("lmutil lmstat -a -c 1@h"), &sc, now);
        assert!(h.hang);
        // The same address under another vendor's utility is not that server.
        assert_eq!(
            respond(&inv("rlmutil rlmstat -a -c 1@h"), &sc, now).behaviour,
            "unknown"
        );
        let downs = (0..120)
            .filter(|m| {
                let r = respond(
                    &inv("lmxendutil -licstat -host f"),
                    &sc,
                    now + chrono::Duration::minutes(*m),
                );
                r.behaviour == "flap:down"
            })
            .count();
        assert!(
            (8..=18).contains(&downs),
            "flap is down 4-9 minutes an hour, was {downs} in 2 h"
        );
    }
}
