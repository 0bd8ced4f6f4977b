//! Vendor-style command lines, parsed by hand (the real utilities take single-dash options in
//! any order). The program name decides the personality: `lmutil`, `lmstat`, `rlmutil`,
//! `rlmstat`, `lmxendutil` (with or without `.exe`); any other name (`licmon-sim`) takes the
//! personality as its first argument.

/// The vendor utility being imitated (also the `utility` field of the log line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Utility {
    Lmutil,
    Lmstat,
    Rlmutil,
    Rlmstat,
    Lmxendutil,
    Lsmon,
    DsLicSrv,
    I4blt,
    Monitorlm,
    LstcQrun,
    Olixtool,
}

impl Utility {
    pub fn from_name(name: &str) -> Option<Utility> {
        let lower = name.to_ascii_lowercase();
        let base = lower.strip_suffix(".exe").unwrap_or(&lower);
        Some(match base {
            "lmutil" => Utility::Lmutil,
            "lmstat" => Utility::Lmstat,
            "rlmutil" => Utility::Rlmutil,
            "rlmstat" => Utility::Rlmstat,
            "lmxendutil" => Utility::Lmxendutil,
            "lsmon" => Utility::Lsmon,
            "dslicsrv" => Utility::DsLicSrv,
            "i4blt" => Utility::I4blt,
            "monitorlm" => Utility::Monitorlm,
            "lstc_qrun" => Utility::LstcQrun,
            "olixtool" => Utility::Olixtool,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Utility::Lmutil => "lmutil",
            Utility::Lmstat => "lmstat",
            Utility::Rlmutil => "rlmutil",
            Utility::Rlmstat => "rlmstat",
            Utility::Lmxendutil => "lmxendutil",
            Utility::Lsmon => "lsmon",
            Utility::DsLicSrv => "DSLicSrv",
            Utility::I4blt => "i4blt",
            Utility::Monitorlm => "monitorlm",
            Utility::LstcQrun => "lstc_qrun",
            Utility::Olixtool => "olixtool",
        }
    }
}

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `lmstat -a` (`info == false`) or `lmstat -i` (`info == true`); `license` is the `-c`
    /// argument (or `$LM_LICENSE_FILE`).
    Lmstat {
        license: Option<String>,
        info: bool,
    },
    /// `rlmstat -a`, or `rlmstat -i ISV` (`isv` set: only that ISV's usage).
    Rlmstat {
        license: Option<String>,
        isv: Option<String>,
    },
    /// `lmxendutil -licstat` / `-licstatxml`.
    Licstat {
        host: Option<String>,
        port: u16,
        xml: bool,
    },
    /// The status commands of the other license managers (see `crate::others`): the server
    /// asked about as host and, where the utility takes one, port. `DSLicSrv -admin` reads
    /// `connect HOST PORT` from stdin: the binary fills host and port in before responding.
    Status {
        host: Option<String>,
        port: Option<u16>,
    },
    /// `licmon-sim custom-xml PATH ADDRESS`: write the custom XML status of the scenario server
    /// with that address to PATH (atomically) and exit.
    WriteCustomXml {
        path: String,
        address: String,
    },
    ExampleScenario,
    Help,
    /// Something the sim does not imitate; the message says what.
    Usage(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub utility: Option<Utility>,
    pub command: Command,
}

/// `basename` of argv[0], for either path separator.
pub fn program_name(argv0: &str) -> &str {
    argv0.rsplit(['/', '\\']).next().unwrap_or(argv0)
}

/// Parse a full argv (argv[0] included). `env` looks up environment variables
/// (`LM_LICENSE_FILE`, `RLM_LICENSE`) the way the real tools fall back to them.
pub fn parse(argv: &[String], env: &dyn Fn(&str) -> Option<String>) -> Invocation {
    let name = argv
        .first()
        .map(|a| program_name(a))
        .unwrap_or("licmon-sim");
    let rest = argv.get(1..).unwrap_or(&[]);
    match Utility::from_name(name) {
        Some(u) => parse_as(u, rest, env),
        None => match rest.first().map(String::as_str) {
            None | Some("--help" | "-h" | "help") => Invocation {
                utility: None,
                command: Command::Help,
            },
            Some("example-scenario") => Invocation {
                utility: None,
                command: Command::ExampleScenario,
            },
            Some("custom-xml") => Invocation {
                utility: None,
                command: match (rest.get(1), rest.get(2)) {
                    (Some(path), Some(address)) => Command::WriteCustomXml {
                        path: path.clone(),
                        address: address.clone(),
                    },
                    _ => Command::Usage("usage: licmon-sim custom-xml PATH PORT@HOST".into()),
                },
            },
            Some(sub) => match Utility::from_name(sub) {
                Some(u) => parse_as(u, &rest[1..], env),
                None => Invocation {
                    utility: None,
                    command: Command::Usage(format!("unknown subcommand {sub:?}; try --help")),
                },
            },
        },
    }
}

fn parse_as(u: Utility, args: &[String], env: &dyn Fn(&str) -> Option<String>) -> Invocation {
    let command = match u {
        Utility::Lmutil => match args.first().map(String::as_str) {
            Some("lmstat") => lmstat(&args[1..], env),
            Some(other) => {
                Command::Usage(format!("lmutil: only lmstat is simulated, not {other:?}"))
            }
            None => Command::Usage("usage: lmutil lmstat -a -c port@host".into()),
        },
        Utility::Lmstat => lmstat(args, env),
        Utility::Rlmutil => match args.first().map(String::as_str) {
            Some("rlmstat") => rlmstat(&args[1..], env),
            Some(other) => {
                Command::Usage(format!("rlmutil: only rlmstat is simulated, not {other:?}"))
            }
            None => Command::Usage("usage: rlmutil rlmstat -a -c port@host".into()),
        },
        Utility::Rlmstat => rlmstat(args, env),
        Utility::Lmxendutil => licstat(args),
        Utility::Lsmon => host_only(args, "lsmon HOST"),
        Utility::Monitorlm => host_only(args, "monitorlm HOST -format text"),
        Utility::DsLicSrv => {
            if args.iter().any(|a| a == "-admin") {
                Command::Status {
                    host: None,
                    port: None,
                }
            } else {
                Command::Usage("DSLicSrv: only -admin is simulated".into())
            }
        }
        Utility::I4blt => match flag_value(args, "-n") {
            Some(host) if args.iter().any(|a| a == "-s") => Command::Status {
                host: Some(host.strip_prefix("ip:").unwrap_or(host).to_string()),
                port: None,
            },
            _ => Command::Usage("usage: i4blt -s -lc -n SERVER".into()),
        },
        Utility::LstcQrun => match flag_value(args, "-s") {
            Some(spec) => port_at_host(spec),
            None => Command::Usage("usage: lstc_qrun -s PORT@HOST -R".into()),
        },
        Utility::Olixtool => match flag_value(args, "-sv") {
            Some(spec) => match spec.rsplit_once(':') {
                Some((host, port)) => Command::Status {
                    host: Some(host.to_string()),
                    port: port.parse().ok(),
                },
                None => Command::Status {
                    host: Some(spec.to_string()),
                    port: None,
                },
            },
            None => Command::Usage("usage: olixtool -sv HOST:PORT".into()),
        },
    };
    Invocation {
        utility: Some(u),
        command,
    }
}

/// `lsmon HOST`, `monitorlm HOST -format text`: the first argument that is not an option (or
/// an option's value) is the host.
fn host_only(args: &[String], usage: &str) -> Command {
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-format" | "-file" | "-template" => i += 1,
            a if !a.starts_with('-') => {
                return Command::Status {
                    host: Some(a.to_string()),
                    port: None,
                };
            }
            _ => {}
        }
        i += 1;
    }
    Command::Usage(format!("usage: {usage}"))
}

/// The value after `flag`.
fn flag_value<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    let i = args.iter().position(|a| a == flag)?;
    value(args, i + 1)
}

fn port_at_host(spec: &str) -> Command {
    match spec.split_once('@') {
        Some((port, host)) => Command::Status {
            host: Some(host.to_string()),
            port: port.parse().ok(),
        },
        None => Command::Status {
            host: Some(spec.to_string()),
            port: None,
        },
    }
}

/// The next argument if it is a value (does not start with `-`).
fn value(args: &[String], i: usize) -> Option<&str> {
    args.get(i)
        .map(String::as_str)
        .filter(|v| !v.starts_with('-'))
}

fn lmstat(args: &[String], env: &dyn Fn(&str) -> Option<String>) -> Command {
    let (mut license, mut info, mut any) = (None, false, false);
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-c" => {
                license = value(args, i + 1).map(str::to_string);
                i += 1;
            }
            "-a" | "-A" => any = true,
            // `-i [feature]`, `-f [feature]`, `-S [daemon]`: an optional value.
            "-i" | "-f" | "-S" | "-s" => {
                info |= args[i] == "-i";
                any = true;
                if value(args, i + 1).is_some() {
                    i += 1;
                }
            }
            "-t" => i += 1,
            _ => {}
        }
        i += 1;
    }
    let _ = any; // `lmstat` with no option still prints the server status; we print all.
    Command::Lmstat {
        license: license.or_else(|| env("LM_LICENSE_FILE")),
        info,
    }
}

fn rlmstat(args: &[String], env: &dyn Fn(&str) -> Option<String>) -> Command {
    let (mut license, mut isv) = (None, None);
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-c" => {
                license = value(args, i + 1).map(str::to_string);
                i += 1;
            }
            "-i" | "-l" => {
                if let Some(v) = value(args, i + 1) {
                    if args[i] == "-i" {
                        isv = Some(v.to_string());
                    }
                    i += 1;
                }
            }
            "-z" | "-p" | "-u" | "-n" => i += 1,
            _ => {}
        }
        i += 1;
    }
    Command::Rlmstat {
        license: license.or_else(|| env("RLM_LICENSE")),
        isv,
    }
}

fn licstat(args: &[String]) -> Command {
    let (mut host, mut port, mut mode) = (None, 6200u16, None);
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-licstat" => mode = Some(false),
            "-licstatxml" => mode = Some(true),
            "-host" => {
                host = value(args, i + 1).map(str::to_string);
                i += 1;
            }
            "-port" => {
                match value(args, i + 1).and_then(|p| p.parse().ok()) {
                    Some(p) => port = p,
                    None => return Command::Usage("lmxendutil: -port needs a number".into()),
                }
                i += 1;
            }
            "-vendor" => i += 1,
            _ => {}
        }
        i += 1;
    }
    match mode {
        Some(xml) => Command::Licstat { host, port, xml },
        None => Command::Usage("lmxendutil: only -licstat and -licstatxml are simulated".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }
    fn no_env(_: &str) -> Option<String> {
        None
    }
    fn cmd(s: &str) -> Command {
        parse(&argv(s), &no_env).command
    }

    #[test]
    fn lmutil_forms() {
        let want = Command::Lmstat {
            license: Some("27000@a,27000@b,27000@c".into()),
            info: false,
        };
        assert_eq!(
            cmd("/opt/x/lmutil lmstat -a -c 27000@a,27000@b,27000@c"),
            want
        );
        assert_eq!(cmd("LMUTIL.EXE lmstat -c 27000@a,27000@b,27000@c -a"), want);
        assert_eq!(
            cmd("licmon-sim lmutil lmstat -a -c 27000@a,27000@b,27000@c"),
            want
        );
        assert_eq!(cmd("lmstat -a -c 27000@a,27000@b,27000@c"), want);
        assert_eq!(
            cmd("lmutil lmstat -i -c 1@h"),
            Command::Lmstat {
                license: Some("1@h".into()),
                info: true
            }
        );
        assert_eq!(
            cmd("lmutil lmstat -i feat -c 1@h"),
            Command::Lmstat {
                license: Some("1@h".into()),
                info: true
            }
        );
        assert!(matches!(cmd("lmutil lmdown -c 1@h"), Command::Usage(_)));
    }

    #[test]
    fn lmstat_falls_back_to_lm_license_file() {
        let env = |k: &str| (k == "LM_LICENSE_FILE").then(|| "1@h".to_string());
        let inv = parse(&argv("lmutil lmstat -a"), &env);
        assert_eq!(
            inv.command,
            Command::Lmstat {
                license: Some("1@h".into()),
                info: false
            }
        );
        assert_eq!(inv.utility, Some(Utility::Lmutil));
    }

    #[test]
    fn rlm_forms() {
        let want = Command::Rlmstat {
            license: Some("5053@h".into()),
            isv: None,
        };
        assert_eq!(cmd("rlmutil rlmstat -a -c 5053@h"), want);
        assert_eq!(cmd("rlmstat -a -c 5053@h"), want);
        assert_eq!(cmd("licmon-sim rlmutil rlmstat -a -c 5053@h"), want);
        assert_eq!(
            cmd("rlmutil.exe rlmstat -c 5053@h -i foundry"),
            Command::Rlmstat {
                license: Some("5053@h".into()),
                isv: Some("foundry".into())
            }
        );
    }

    #[test]
    fn lmx_forms() {
        let want = |xml| Command::Licstat {
            host: Some("h".into()),
            port: 6201,
            xml,
        };
        assert_eq!(cmd("lmxendutil -licstat -host h -port 6201"), want(false));
        assert_eq!(cmd("lmxendutil -licstatxml -port 6201 -host h"), want(true));
        assert_eq!(
            cmd("licmon-sim lmxendutil -licstatxml -host h -port 6201"),
            want(true)
        );
        assert_eq!(
            cmd("lmxendutil -licstat -host h"),
            Command::Licstat {
                host: Some("h".into()),
                port: 6200,
                xml: false
            }
        );
        assert!(matches!(
            cmd("lmxendutil -licstat -host h -port x"),
            Command::Usage(_)
        ));
    }

    #[test]
    fn other_managers_forms() {
        let status = |h: &str, p: Option<u16>| Command::Status {
            host: Some(h.into()),
            port: p,
        };
        assert_eq!(cmd("lsmon rms1"), status("rms1", None));
        assert_eq!(
            cmd("/opt/x/monitorlm wl1 -format text"),
            status("wl1", None)
        );
        assert_eq!(cmd("monitorlm -format text wl1"), status("wl1", None));
        assert_eq!(cmd("i4blt -s -lc -n ip:lum1"), status("lum1", None));
        assert_eq!(
            cmd("lstc_qrun -s 31010@lstc1 -R"),
            status("lstc1", Some(31010))
        );
        assert_eq!(cmd("olixtool -sv oli1:8080"), status("oli1", Some(8080)));
        assert_eq!(
            cmd("DSLicSrv -admin"),
            Command::Status {
                host: None,
                port: None
            }
        );
        assert_eq!(
            parse(&argv("DSLicSrv.exe -admin"), &no_env).utility,
            Some(Utility::DsLicSrv)
        );
        assert!(matches!(cmd("lsmon"), Command::Usage(_)));
        assert!(matches!(cmd("i4blt -lp"), Command::Usage(_)));
        assert_eq!(
            cmd("licmon-sim custom-xml /tmp/s.xml 1@site"),
            Command::WriteCustomXml {
                path: "/tmp/s.xml".into(),
                address: "1@site".into()
            }
        );
    }

    #[test]
    fn own_subcommands() {
        assert_eq!(cmd("licmon-sim"), Command::Help);
        assert_eq!(cmd("licmon-sim --help"), Command::Help);
        assert_eq!(cmd("licmon-sim example-scenario"), Command::ExampleScenario);
        assert!(matches!(cmd("licmon-sim frobnicate"), Command::Usage(_)));
    }
}
