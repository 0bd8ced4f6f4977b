//! `licmon-agent`: runs in the foreground (for systemd or another service manager).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Parser;
use licmon_agent::config::Settings;

/// Reports which monitored applications run on this machine to licmon.
///
/// Settings: defaults, then the file (--config or LICMON_AGENT_CONFIG), then LICMON_AGENT_*
/// variables, then these flags.
#[derive(Debug, Parser)]
#[command(name = "licmon-agent", version)]
struct Args {
    /// TOML file with url, token or token_file, agent_id, buffer_reports, ca_file, ...
    #[arg(long, env = "LICMON_AGENT_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// licmon's URL, e.g. https://licmon.example.org:8443.
    #[arg(long)]
    url: Option<String>,
    /// The agent token (prefer --token-file or the environment: flags show in `ps`).
    #[arg(long)]
    token: Option<String>,
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// This machine's id in licmon (default: the host name).
    #[arg(long)]
    agent_id: Option<String>,
    /// Seconds between reports (default: what licmon says, 30).
    #[arg(long, value_name = "SECS")]
    interval: Option<u64>,
    /// PEM file with the CA of licmon's certificate.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
}

fn settings(args: Args) -> Result<Settings, String> {
    let mut s = match &args.config {
        Some(path) => Settings::from_file(path)?,
        None => Settings::default(),
    };
    let env: BTreeMap<String, String> = std::env::vars().collect();
    s.apply_env(&env)?;
    if let Some(v) = args.url {
        s.url = v;
    }
    if let Some(v) = args.token {
        s.token = Some(v);
    }
    if let Some(v) = args.token_file {
        s.token_file = Some(v);
    }
    if let Some(v) = args.agent_id {
        s.agent_id = Some(v);
    }
    if let Some(v) = args.interval {
        s.report_interval_secs = Some(v);
    }
    if let Some(v) = args.ca_file {
        s.ca_file = Some(v);
    }
    s.finish()
}

fn main() -> ExitCode {
    let settings = match settings(Args::parse()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("licmon-agent: {e}");
            return ExitCode::from(2);
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    match licmon_agent::run::run(settings, stop) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("licmon-agent: {e}");
            ExitCode::from(1)
        }
    }
}
