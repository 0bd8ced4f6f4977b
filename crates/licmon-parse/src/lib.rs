//! Parsers for what license managers print and log.
//!
//! Invariants: parsers are pure (text in, [`StatusReport`] or [`LogEvent`]s + [`Diagnostic`]s
//! out), never panic, and never give up on an unknown line: they report it as a diagnostic with
//! its line number and go on. Nothing here does I/O or knows about the store.

pub mod model;

pub mod flexnet_lmstat;
pub mod lmx_licstat;
pub mod rlm_rlmstat;

pub mod custom_xml;
pub mod dsls_usage;
pub mod ibm_lum;
pub mod lsdyna_qrun;
pub mod mathlm_monitorlm;
pub mod olicense_olixtool;
pub mod sentinel_lsmon;
mod wallclock;

pub mod csv_events;
pub mod flexnet_debuglog;
pub mod lmx_log;
pub mod rlm_reportlog;

pub mod yearless;

pub use model::*;

/// The status-output formats `licmon parse` and the poll engine understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFormat {
    FlexnetLmstat,
    FlexnetLmstatI,
    RlmRlmstat,
    LmxLicstat,
    LmxLicstatXml,
    SentinelLsmon,
    DslsGetLicenseUsage,
    IbmLumI4blt,
    MathlmMonitorlm,
    LsdynaQrun,
    OlicenseOlixtool,
    CustomXml,
}

impl StatusFormat {
    pub const ALL: &'static [StatusFormat] = &[
        StatusFormat::FlexnetLmstat,
        StatusFormat::FlexnetLmstatI,
        StatusFormat::RlmRlmstat,
        StatusFormat::LmxLicstat,
        StatusFormat::LmxLicstatXml,
        StatusFormat::SentinelLsmon,
        StatusFormat::DslsGetLicenseUsage,
        StatusFormat::IbmLumI4blt,
        StatusFormat::MathlmMonitorlm,
        StatusFormat::LsdynaQrun,
        StatusFormat::OlicenseOlixtool,
        StatusFormat::CustomXml,
    ];

    /// The name used by `licmon parse --format` and in the JSON `format` field.
    pub fn name(self) -> &'static str {
        match self {
            StatusFormat::FlexnetLmstat => "flexnet-lmstat",
            StatusFormat::FlexnetLmstatI => "flexnet-lmstat-i",
            StatusFormat::RlmRlmstat => "rlm-rlmstat",
            StatusFormat::LmxLicstat => "lmx-licstat",
            StatusFormat::LmxLicstatXml => "lmx-licstatxml",
            StatusFormat::SentinelLsmon => sentinel_lsmon::FORMAT,
            StatusFormat::DslsGetLicenseUsage => dsls_usage::FORMAT,
            StatusFormat::IbmLumI4blt => ibm_lum::FORMAT,
            StatusFormat::MathlmMonitorlm => mathlm_monitorlm::FORMAT,
            StatusFormat::LsdynaQrun => lsdyna_qrun::FORMAT,
            StatusFormat::OlicenseOlixtool => olicense_olixtool::FORMAT,
            StatusFormat::CustomXml => custom_xml::FORMAT,
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|f| f.name() == name)
    }

    pub fn parse(self, text: &str, ctx: &ParseContext) -> StatusReport {
        match self {
            StatusFormat::FlexnetLmstat => flexnet_lmstat::parse_lmstat(text, ctx),
            StatusFormat::FlexnetLmstatI => flexnet_lmstat::parse_lmstat_i(text, ctx),
            StatusFormat::RlmRlmstat => rlm_rlmstat::parse_rlmstat(text, ctx),
            StatusFormat::LmxLicstat => lmx_licstat::parse_licstat(text, ctx),
            StatusFormat::LmxLicstatXml => lmx_licstat::parse_licstat_xml(text, ctx),
            StatusFormat::SentinelLsmon => sentinel_lsmon::parse_lsmon(text, ctx),
            StatusFormat::DslsGetLicenseUsage => dsls_usage::parse_license_usage(text, ctx),
            StatusFormat::IbmLumI4blt => ibm_lum::parse_i4blt(text, ctx),
            StatusFormat::MathlmMonitorlm => mathlm_monitorlm::parse_monitorlm(text, ctx),
            StatusFormat::LsdynaQrun => lsdyna_qrun::parse_qrun(text, ctx),
            StatusFormat::OlicenseOlixtool => olicense_olixtool::parse_olixtool(text, ctx),
            StatusFormat::CustomXml => custom_xml::parse_custom_xml(text, ctx),
        }
    }
}

/// A streaming log parser: fed one line at a time, in order, so that files of any size parse in
/// constant memory. Its state (e.g. the current date of a FlexNet debug log, which has times
/// only) can be saved with an import checkpoint and restored to resume at a byte offset.
pub trait LogParser {
    /// Feed one line without its line terminator; `line_no` is 1-based. Events go to `events`:
    /// a `Vec<LogEvent>` or, where speed matters, an [`EventBatch`].
    fn push_line(
        &mut self,
        line_no: usize,
        line: &str,
        events: &mut dyn EventSink,
        diagnostics: &mut Vec<Diagnostic>,
    );

    /// End of input: emit anything held back (e.g. an event waiting to see whether the next
    /// line continues it). A live log that may still grow is not finished.
    fn finish(&mut self, _events: &mut dyn EventSink, _diagnostics: &mut Vec<Diagnostic>) {}

    /// The state to store with a checkpoint (small JSON).
    fn checkpoint(&self) -> serde_json::Value;

    /// Restore a state produced by [`LogParser::checkpoint`]. A state it cannot read leaves the
    /// parser as new and returns false.
    fn restore(&mut self, state: &serde_json::Value) -> bool;
}

/// The log formats `licmon parse` and `licmon import` understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    FlexnetDebuglog,
    RlmReportlog,
    LmxLog,
    Csv,
}

impl LogFormat {
    pub const ALL: &'static [LogFormat] = &[
        LogFormat::FlexnetDebuglog,
        LogFormat::RlmReportlog,
        LogFormat::LmxLog,
        LogFormat::Csv,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LogFormat::FlexnetDebuglog => "flexnet-debuglog",
            LogFormat::RlmReportlog => "rlm-reportlog",
            LogFormat::LmxLog => "lmx-log",
            LogFormat::Csv => "csv",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// A fresh streaming parser for this format; `tz` is the license server's clock.
    pub fn parser(self, tz: chrono_tz::Tz) -> Box<dyn LogParser + Send> {
        match self {
            LogFormat::FlexnetDebuglog => Box::new(flexnet_debuglog::DebugLogParser::new(tz)),
            LogFormat::RlmReportlog => Box::new(rlm_reportlog::ReportLogParser::new(tz)),
            LogFormat::LmxLog => Box::new(lmx_log::LmxLogParser::new(tz)),
            LogFormat::Csv => Box::new(csv_events::CsvEventParser::new(tz)),
        }
    }
}
