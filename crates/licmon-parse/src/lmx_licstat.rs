//! LM-X `lmxendutil -licstat` and `-licstatxml` (placeholder: being written).
use crate::{ParseContext, StatusReport};
pub fn parse_licstat(_text: &str, _ctx: &ParseContext) -> StatusReport {
    StatusReport::empty("lmx-licstat")
}
pub fn parse_licstat_xml(_text: &str, _ctx: &ParseContext) -> StatusReport {
    StatusReport::empty("lmx-licstatxml")
}
