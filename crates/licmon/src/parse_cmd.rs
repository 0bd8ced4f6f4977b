//! `licmon parse --format FORMAT FILE`: what a parser understands of a file, as JSON.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use licmon_parse::{LogFormat, ParseContext, StatusFormat};
use serde_json::json;

const FORMATS_HELP: &str = "Status outputs: flexnet-lmstat (lmutil lmstat -a), flexnet-lmstat-i (lmstat -i), \
rlm-rlmstat (rlmutil rlmstat -a), lmx-licstat (lmxendutil -licstat), lmx-licstatxml (lmxendutil -licstatxml), \
sentinel-lsmon (lsmon HOST), dsls-getlicenseusage (DSLicSrv -admin: connect + getLicenseUsage -csv), \
ibm-lum-i4blt (i4blt -s -lc), mathlm-monitorlm (monitorlm HOST -format text), lsdyna-qrun (lstc_qrun -s PORT@HOST -R), \
olicense-olixtool (olixtool -sv HOST:PORT), custom-xml (licmon's status XML, docs/custom-xml.md). \
Logs: flexnet-debuglog (lmgrd/vendor daemon debug log), rlm-reportlog (RLM report log), lmx-log (LM-X server log), \
csv (licmon's CSV event format).";

#[derive(Debug, Clone, clap::Args)]
#[command(after_help = FORMATS_HELP)]
pub struct ParseArgs {
    /// The format of FILE (see below).
    #[arg(long, value_name = "FORMAT")]
    pub format: String,
    /// The file to parse, or - for standard input.
    pub file: PathBuf,
    /// The license server's time zone, for times without one (IANA name).
    #[arg(long, default_value = "UTC", value_name = "ZONE")]
    pub time_zone: String,
    /// The instant year-less times are relative to (RFC 3339; default: now).
    #[arg(long, value_name = "TIME")]
    pub now: Option<DateTime<Utc>>,
}

pub fn run(args: ParseArgs) -> anyhow::Result<()> {
    let tz: Tz = args.time_zone.parse().map_err(|_| {
        anyhow::anyhow!(
            "--time-zone {:?} is not an IANA time zone name",
            args.time_zone
        )
    })?;
    let reader = open(&args.file)?;
    let value = if let Some(format) = StatusFormat::from_name(&args.format) {
        let text = read_all(reader, &args.file)?;
        let ctx = ParseContext::new(args.now.unwrap_or_else(Utc::now), tz);
        serde_json::to_value(format.parse(&text, &ctx))?
    } else if let Some(format) = LogFormat::from_name(&args.format) {
        parse_log(format, tz, reader, &args.file)?
    } else {
        let names: Vec<&str> = StatusFormat::ALL
            .iter()
            .map(|f| f.name())
            .chain(LogFormat::ALL.iter().map(|f| f.name()))
            .collect();
        bail!(
            "unknown format {:?}; expected one of: {}",
            args.format,
            names.join(", ")
        );
    };
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}

fn open(path: &Path) -> anyhow::Result<Box<dyn Read>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(std::io::stdin()));
    }
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(Box::new(file))
}

fn read_all(mut reader: Box<dyn Read>, path: &Path) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    // Vendor output may hold garbage bytes (binary DISPLAY fields): keep them visible.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn parse_log(
    format: LogFormat,
    tz: Tz,
    reader: Box<dyn Read>,
    path: &Path,
) -> anyhow::Result<serde_json::Value> {
    let mut parser = format.parser(tz);
    let mut events = Vec::new();
    let mut diagnostics = Vec::new();
    let mut reader = BufReader::new(reader);
    let mut buf = Vec::new();
    let mut line_no = 0;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim_end_matches(['\n', '\r']);
        parser.push_line(line_no, line, &mut events, &mut diagnostics);
    }
    parser.finish(&mut events, &mut diagnostics);
    Ok(json!({ "format": format.name(), "events": events, "diagnostics": diagnostics }))
}
