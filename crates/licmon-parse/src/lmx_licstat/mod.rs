//! X-Formation LM-X `lmxendutil -licstat` (text) and `-licstatxml` (XML) output.
//!
//! Both print, per license server, a header (host, port, server version) and one block per
//! feature: name, version, vendor, start and expire dates, `used of total`, and one entry per
//! checkout with user, host, IP, count, login and checkout times. Each feature block becomes a
//! [`Pool`] of the [`Feature`] with that name and vendor; a checkout becomes a [`Session`]
//! whose start is the checkout time (full dates, in the server's time zone).
//!
//! Counts of `2147483647` (INT_MAX) are kept as they are. LM-X (Altair's HyperWorks units in the
//! fixture) prints INT_MAX as the total of features whose license sets no count limit; licmon
//! stores the number as issued so that "free = issued - in use" stays arithmetic, and leaves it
//! to the presentation to show such totals as "unlimited".
//!
//! Versions are stored without a `v` prefix (`Server version: v5.1` → `5.1`), which is how the
//! XML output writes them.

mod model;
mod text;
mod xml;

pub use text::parse_licstat;
pub use xml::parse_licstat_xml;

/// The `licmon parse --format` names of these formats.
pub const TEXT_FORMAT: &str = "lmx-licstat";
pub const XML_FORMAT: &str = "lmx-licstatxml";
