//! Placeholder until this dialect's parser lands (next commit on this branch).

use super::Input;
use crate::natlog::event::NatEvent;
use crate::natlog::parse::LineErrorReason;

pub(super) fn sniff(_line: &[u8]) -> bool {
    false
}

pub(super) fn parse(_input: &Input<'_>, _out: &mut Vec<NatEvent>) -> Result<(), LineErrorReason> {
    Err(LineErrorReason::NotNat)
}
