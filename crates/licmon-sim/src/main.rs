//! The `licmon-sim` binary. See README.md.

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    licmon_sim::cli::run_cli(&args)
}
