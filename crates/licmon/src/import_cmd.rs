//! `licmon import --server NAME FILE...`: imports log files with a progress bar on stderr and a
//! closing summary on stdout. Also the `[import]` configuration table.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use licmon_import::{ImportRequest, ImportSettings, ImportSummary, Importer, Progress, Via};
use licmon_parse::LogFormat;
use licmon_store::{ServerStore, Store};
use serde::{Deserialize, Serialize};

use crate::config::{CommonFlags, Config};

/// `[import]` in the configuration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImportConfig {
    /// Watched folder: files in `<watch_dir>/<server name>/` are imported by `licmon serve`.
    pub watch_dir: Option<PathBuf>,
    /// How often the watched folder is looked at.
    pub watch_interval_secs: u32,
}

impl Default for ImportConfig {
    fn default() -> Self {
        Self {
            watch_dir: None,
            watch_interval_secs: 2,
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub common: CommonFlags,
    /// The license server (its name) the logs belong to.
    #[arg(long, value_name = "NAME")]
    pub server: String,
    /// Log format; default from the server's type (flexnet: flexnet-debuglog, rlm:
    /// rlm-reportlog, lmx: lmx-log, generic-log: csv).
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    pub format: Option<LogFormat>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Lines per transaction (a checkpoint is written with each).
    #[arg(long, value_name = "N", default_value_t = 50_000, hide = true)]
    pub batch_lines: usize,
    /// Log files to import, in order.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

fn parse_format(name: &str) -> Result<LogFormat, String> {
    LogFormat::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = LogFormat::ALL.iter().map(|f| f.name()).collect();
        format!("unknown log format; use one of {}", names.join(", "))
    })
}

pub fn settings(config: &Config) -> ImportSettings {
    ImportSettings {
        window: licmon_import::Window {
            before: licmon_import::secs(config.denial_retry_before_secs),
            after: licmon_import::secs(config.denial_retry_after_secs),
        },
        max_license_servers: config.max_license_servers,
        ..ImportSettings::default()
    }
}

/// The importer `licmon serve` uses for uploads and the watched folder.
pub fn importer(config: &Config, store: Arc<licmon_store::SqlStore>) -> Importer {
    let dyn_store: Arc<dyn Store> = store;
    Importer::new(dyn_store, settings(config))
}

/// Uploads wait in `<data_dir>/uploads` while they are imported (not /tmp, which may be small).
pub fn upload_dir(config: &Config) -> PathBuf {
    let dir = config.data_dir.join("uploads");
    match std::fs::create_dir_all(&dir) {
        Ok(()) => dir,
        Err(e) => {
            tracing::warn!(folder = %dir.display(), error = %e, "cannot create the upload folder; using the system's temporary folder");
            std::env::temp_dir()
        }
    }
}

/// Starts polling `[import] watch_dir`, if set.
pub fn spawn_watch(
    config: &Config,
    importer: Importer,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    let dir = config.import.watch_dir.clone()?;
    let every = Duration::from_secs(u64::from(config.import.watch_interval_secs.max(1)));
    Some(tokio::spawn(licmon_import::watch::run(
        importer, dir, every, stop,
    )))
}

pub async fn run(args: ImportArgs) -> anyhow::Result<()> {
    let config = crate::load_config(&args.common)?;
    let store = crate::serve::open_store(&config).await?;
    let server = store
        .find_server_by_name(&args.server)
        .await
        .with_context(|| {
            format!(
                "no license server named {:?}; `GET /api/v1/license-servers` lists them",
                args.server
            )
        })?;
    let mut settings = settings(&config);
    settings.batch_lines = args.batch_lines.max(1);
    let dyn_store: Arc<dyn Store> = store.clone();
    let importer = Importer::new(dyn_store, settings);
    crate::init_logging(config.log_format);
    let mut failed = 0;
    for path in &args.files {
        let request = ImportRequest {
            server_id: server.id,
            path: path.clone(),
            file_name: path.display().to_string(),
            format: args.format,
            via: Via::Cli,
            live: false,
        };
        let mut bar = ProgressBar::new(path.display().to_string());
        let result = importer.import(request, |p| bar.update(p)).await;
        bar.done();
        match result {
            Ok(summary) if args.json => println!("{}", serde_json::to_string_pretty(&summary)?),
            Ok(summary) => print_summary(&summary),
            Err(e) => {
                failed += 1;
                eprintln!("licmon: import failed: {e}");
            }
        }
    }
    store.close().await;
    if failed > 0 {
        bail!("{failed} of {} file(s) failed to import", args.files.len());
    }
    Ok(())
}

fn print_summary(s: &ImportSummary) {
    let mut out = std::io::stdout().lock();
    let secs = (s.finished_at - s.started_at).num_milliseconds().max(1) as f64 / 1000.0;
    if s.already_imported {
        let _ = writeln!(
            out,
            "{}: already imported up to its end; nothing new",
            s.file_name
        );
    } else if s.resumed_at_byte > 0 {
        let _ = writeln!(
            out,
            "{}: continued at byte {} (imported before up to there)",
            s.file_name, s.resumed_at_byte
        );
    }
    let r = &s.run;
    let _ = writeln!(
        out,
        "{} → {} ({}): {} lines, {:.1} MB in {secs:.1} s ({:.0} events/s)",
        s.file_name,
        s.server,
        s.format,
        r.lines,
        r.bytes as f64 / 1e6,
        r.event_count() as f64 / secs
    );
    let kinds: Vec<String> = r.events.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(
        out,
        "  events: {} ({})",
        r.event_count(),
        if kinds.is_empty() {
            "none".to_string()
        } else {
            kinds.join(", ")
        }
    );
    let _ = writeln!(
        out,
        "  sessions: {} opened, {} closed; denials: {}",
        r.sessions, r.sessions_closed, r.denials
    );
    if r.skipped.is_empty() {
        let _ = writeln!(out, "  skipped: nothing");
    }
    for skip in &r.skipped {
        let _ = writeln!(
            out,
            "  skipped {} × {} (first at line {})",
            skip.count, skip.reason, skip.first_line
        );
    }
    if s.resumed_at_byte > 0 || s.already_imported {
        let f = &s.file;
        let _ = writeln!(
            out,
            "  whole file so far: {} events, {} sessions, {} denials",
            f.event_count(),
            f.sessions,
            f.denials
        );
    }
}

/// A one-line bar on a terminal; on anything else (a pipe, a log file) a plain line at most
/// twice a second, which tests and scripts can follow.
struct ProgressBar {
    name: String,
    tty: bool,
    started: Instant,
    last: Option<Instant>,
    drawn: bool,
}

impl ProgressBar {
    fn new(name: String) -> Self {
        Self {
            name,
            tty: std::io::stderr().is_terminal(),
            started: Instant::now(),
            last: None,
            drawn: false,
        }
    }

    fn update(&mut self, p: Progress) {
        let now = Instant::now();
        let every = Duration::from_millis(if self.tty { 100 } else { 500 });
        if self.last.is_some_and(|t| now - t < every) && p.bytes_done < p.bytes_total {
            return;
        }
        self.last = Some(now);
        let fraction = p.bytes_done as f64 / p.bytes_total.max(1) as f64;
        let rate = p.events as f64 / self.started.elapsed().as_secs_f64().max(0.001);
        let mut err = std::io::stderr().lock();
        if self.tty {
            let width = 30;
            let filled = (fraction * width as f64).round() as usize;
            let _ = write!(
                err,
                "\r{} [{}{}] {:>3.0}% {:.1}/{:.1} MB, {} events ({:.0}/s) ",
                self.name,
                "=".repeat(filled.min(width)),
                " ".repeat(width - filled.min(width)),
                fraction * 100.0,
                p.bytes_done as f64 / 1e6,
                p.bytes_total as f64 / 1e6,
                p.events,
                rate
            );
            self.drawn = true;
        } else {
            let _ = writeln!(
                err,
                "progress: {} {}/{} bytes, {} events committed in {} batches",
                self.name, p.bytes_done, p.bytes_total, p.events, p.batches
            );
        }
        let _ = err.flush();
    }

    fn done(&mut self) {
        if self.drawn {
            eprintln!();
        }
    }
}
