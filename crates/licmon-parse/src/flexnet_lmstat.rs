//! FlexNet `lmutil lmstat -a` and `lmstat -i` (placeholder: being written).
use crate::{ParseContext, StatusReport};
pub fn parse_lmstat(_text: &str, _ctx: &ParseContext) -> StatusReport {
    StatusReport::empty("flexnet-lmstat")
}
pub fn parse_lmstat_i(_text: &str, _ctx: &ParseContext) -> StatusReport {
    StatusReport::empty("flexnet-lmstat-i")
}
