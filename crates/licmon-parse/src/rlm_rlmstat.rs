//! RLM `rlmutil rlmstat -a` (placeholder: being written).
use crate::{ParseContext, StatusReport};
pub fn parse_rlmstat(_text: &str, _ctx: &ParseContext) -> StatusReport {
    StatusReport::empty("rlm-rlmstat")
}
