//! `licmon`: the command line. Subcommands parse their flags, load the configuration and call
//! into the library crates; no business rules live here.

mod accounts_cmd;
mod config;
mod demo;
mod demo_login;
mod demo_site;
mod import_cmd;
mod node_lock;
mod parse_cmd;
mod serve;
mod stop;
mod web;

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{CommonFlags, Config, LogFormat};

#[derive(Debug, Parser)]
#[command(
    name = "licmon",
    version,
    about = "Monitor for software license servers (FlexNet, RLM, LM-X, ...)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server, the API and (unless --no-monitoring) the poll engine.
    Serve(serve::ServeArgs),
    /// Start the whole system with simulated license servers on a fresh SQLite file.
    Demo(demo::DemoArgs),
    /// Parse a status output or log file and print what licmon understands, as JSON.
    Parse(parse_cmd::ParseArgs),
    /// Import license-server log files (resumable; a file imported before adds only new lines).
    Import(import_cmd::ImportArgs),
    /// Show or explain the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage accounts: add (the first administrator), list, delete, passwd.
    #[command(subcommand)]
    User(accounts_cmd::UserCommand),
    /// Manage API and agent tokens: create (prints only the token), list, revoke.
    #[command(subcommand)]
    Token(accounts_cmd::TokenCommand),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print a commented example configuration file with every default.
    Example,
    /// Print the configuration in effect (passwords hidden).
    Show(CommonFlags),
}

fn main() -> ExitCode {
    // `licmon demo` links the vendor utilities' names to this binary: act as the simulator.
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let invoked_as = args
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a))
        .unwrap_or_default();
    if demo::SIMULATED_UTILITIES.contains(&invoked_as) {
        return licmon_sim::cli::run_cli(&args);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Parse(args) => parse_cmd::run(args),
        Command::Config(ConfigCommand::Example) => {
            print!("{}", config::EXAMPLE);
            Ok(())
        }
        Command::Config(ConfigCommand::Show(flags)) => {
            load_config(&flags).map(|c| print!("{}", c.redacted_toml()))
        }
        Command::Serve(args) => with_runtime(|| serve::run(args)),
        Command::Demo(args) => with_runtime(|| demo::run(args)),
        Command::Import(args) => with_runtime(|| import_cmd::run(args)),
        Command::User(command) => with_runtime(|| accounts_cmd::run_user(command)),
        Command::Token(command) => with_runtime(|| accounts_cmd::run_token(command)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("licmon: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn with_runtime<F, Fut>(f: F) -> anyhow::Result<()>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(f());
    // Tasks still running are dropped (a stop that overran leaves some); one stuck in a
    // blocking call must not keep the process alive.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    result
}

pub fn process_env() -> BTreeMap<String, String> {
    std::env::vars().collect()
}

pub fn load_config(flags: &CommonFlags) -> anyhow::Result<Config> {
    let config = Config::load(flags, &process_env())?;
    config.validate()?;
    Ok(config)
}

/// Structured logs on stderr: human-readable text, or JSON for log collectors. `RUST_LOG`
/// refines the level (default: info).
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
