//! The simulator's command line: I/O around [`crate::respond`]. See README.md.

use std::io::Write;
use std::process::ExitCode;

use crate::argv::{self, Command};
use crate::{HELP, locate, respond, scenario};

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

/// The whole command line of the simulator, for the `licmon-sim` binary and for `licmon`,
/// which hosts it for the demo (invoked through symlinks named like the vendor utilities).
pub fn run_cli(args: &[String]) -> ExitCode {
    let mut inv = argv::parse(args, &env);
    if inv.utility == Some(argv::Utility::DsLicSrv) && matches!(inv.command, Command::Status { .. })
    {
        // `DSLicSrv -admin` takes its commands on stdin: `connect HOST PORT` names the server.
        let mut script = String::new();
        let _ = std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut script);
        inv.command = dsls_connect(&script);
    }
    let mut stdout = std::io::stdout().lock();
    match &inv.command {
        Command::Help => {
            let _ = stdout.write_all(HELP.as_bytes());
            return ExitCode::SUCCESS;
        }
        Command::ExampleScenario => {
            let _ = stdout.write_all(scenario::EXAMPLE_SCENARIO.as_bytes());
            return ExitCode::SUCCESS;
        }
        Command::Usage(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
        _ => {}
    }
    match run(args, &inv, &mut stdout) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("licmon-sim: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The server a `DSLicSrv -admin` script connects to.
pub fn dsls_connect(script: &str) -> Command {
    for line in script.lines() {
        let mut words = line.split_whitespace();
        if words.next() == Some("connect") {
            return Command::Status {
                host: words.next().map(str::to_string),
                port: words.next().and_then(|p| p.parse().ok()),
            };
        }
    }
    Command::Status {
        host: None,
        port: None,
    }
}

/// `licmon-sim custom-xml PATH ADDRESS`: write the status file of that scenario server through
/// a temporary file and a rename, so a reader never sees half a file.
pub fn write_custom_xml(
    scenario: &scenario::Scenario,
    address: &str,
    path: &std::path::Path,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let query = scenario::members(address);
    let server = scenario
        .find(&query)
        .ok_or_else(|| anyhow::anyhow!("no server {address} in the scenario"))?;
    let bytes = match server.behaviour {
        scenario::Behaviour::Garbage => crate::garbage(scenario.seed, server, now),
        scenario::Behaviour::Down => {
            crate::others::custom_xml(scenario.seed, server, now, true).into_bytes()
        }
        scenario::Behaviour::Flap if crate::flap_is_down(scenario.seed, server, now) => {
            crate::others::custom_xml(scenario.seed, server, now, true).into_bytes()
        }
        _ => crate::others::custom_xml(scenario.seed, server, now, false).into_bytes(),
    };
    let tmp = path.with_extension("xml.tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn run(args: &[String], inv: &argv::Invocation, stdout: &mut impl Write) -> anyhow::Result<u8> {
    let argv0 = args.first().map(String::as_str).unwrap_or("licmon-sim");
    let path = locate::scenario_path(argv0, &env).ok_or_else(|| {
        anyhow::anyhow!(
            "no scenario: set LICMON_SIM_SCENARIO or put {} beside {argv0}",
            locate::SCENARIO_FILE
        )
    })?;
    let scenario =
        scenario::Scenario::load_for(&path, &scenario::members(&crate::query_spec(inv)))?;
    let now = locate::now(&env)?;
    if let Command::WriteCustomXml { path, address } = &inv.command {
        write_custom_xml(&scenario, address, std::path::Path::new(path), now)?;
        return Ok(0);
    }
    let response = respond(inv, &scenario, now);

    let utility = inv.utility.map_or("licmon-sim", |u| u.name());
    if let Some(log) = env("LICMON_SIM_LOG")
        .filter(|s| !s.is_empty())
        .map(Into::into)
        .or(scenario.log.clone())
    {
        // Status polls and license-file reads (`lmstat -i`, once an hour) told apart, so that
        // tests count polls.
        let query = match inv.command {
            Command::Lmstat { info: true, .. } => "info",
            _ => "status",
        };
        // One write of one short line with O_APPEND: concurrent invocations do not interleave.
        let line = format!(
            "{} {} {} {} {} {query}\n",
            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            std::process::id(),
            utility,
            response.server,
            response.behaviour
        );
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)?;
        f.write_all(line.as_bytes())?;
    }

    stdout.write_all(&response.stdout)?;
    stdout.flush()?;
    if response.hang {
        // Like a utility stuck on a half-open connection: never returns until killed.
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
    Ok(response.exit_code as u8)
}
