//! IPFIX NAT event records (RFC 8158) read from files.

use crate::natlog::event::EventKind;

/// How an exporter numbers natEvent (IE 230): the IANA registry (RFC 8158 section 2.2.1),
/// Juniper (draft-ietf-behave-ipfix-nat-logging-02) and Cisco IOS-XE HSL disagree, so the value
/// must be mapped per exporter profile (research notes section 0, finding 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NatEventMap {
    /// IANA `ipfix-nat-event-type` (VPP, F5, Nokia).
    #[default]
    Iana,
    /// Juniper MS-MPC / MX-SPC3 flow-monitoring numbering.
    Juniper,
    /// Cisco IOS-XE NAT High-Speed Logging: 1 add, 2 delete, 3 pool exhausted.
    CiscoHsl,
}

impl NatEventMap {
    /// The event kind of natEvent `v` under this numbering; `None` for values that are not
    /// attribution records (threshold, reserved, unknown).
    pub fn kind(self, v: u8) -> Option<EventKind> {
        use EventKind::*;
        match self {
            NatEventMap::Iana => match v {
                1 | 4 | 6 => Some(SessionOpen),
                2 | 5 | 7 => Some(SessionClose),
                8 | 10 => Some(MappingOpen),
                9 | 11 => Some(MappingClose),
                14 => Some(AddressBind),
                15 => Some(AddressUnbind),
                16 => Some(BlockAlloc),
                17 => Some(BlockRelease),
                3 | 12 | 13 => Some(Exhaustion),
                _ => None,
            },
            NatEventMap::Juniper => match v {
                1 | 4 => Some(SessionOpen),
                2 | 5 => Some(SessionClose),
                6 | 8 => Some(MappingOpen),
                7 | 9 => Some(MappingClose),
                12 => Some(AddressBind),
                13 => Some(AddressUnbind),
                14 => Some(BlockAlloc),
                15 => Some(BlockRelease),
                3 | 10 | 11 => Some(Exhaustion),
                _ => None,
            },
            NatEventMap::CiscoHsl => match v {
                1 => Some(SessionOpen),
                2 => Some(SessionClose),
                3 => Some(Exhaustion),
                _ => None,
            },
        }
    }
}
