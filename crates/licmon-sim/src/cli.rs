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
    let inv = argv::parse(args, &env);
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
    let response = respond(inv, &scenario, now);

    let utility = inv.utility.map_or("licmon-sim", |u| u.name());
    if let Some(log) = env("LICMON_SIM_LOG")
        .filter(|s| !s.is_empty())
        .map(Into::into)
        .or(scenario.log.clone())
    {
        // One write of one short line with O_APPEND: concurrent invocations do not interleave.
        let line = format!(
            "{} {} {} {} {}\n",
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
