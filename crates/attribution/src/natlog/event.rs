//! The normalized NAT event (after parsing, before interval pairing), following the schema in
//! `shared/research/cgn-log-formats.md` section 6.

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A short text label (exporter host name, subscriber id) kept inline up to 24 bytes, so that
/// parsing a line does not allocate: the import target is a million lines per second per core.
pub type Label = compact_str::CompactString;

/// How precise an event's time is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TsPrecision {
    /// Whole seconds (BSD syslog headers, Juniper bodies).
    Sec,
    /// Hundredths (Nokia `hh:mm:ss:cs`).
    CentiSec,
    /// Milliseconds (RFC 5424, IPFIX observationTimeMilliseconds).
    MilliSec,
    /// Microseconds (conntrack `-o timestamp`).
    MicroSec,
}

/// Where an event's time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TsOrigin {
    /// A timestamp inside the message body, written by the NAT device.
    DeviceBody,
    /// The syslog header timestamp.
    DeviceHeader,
    /// The collector's receive time (only when the device gave none).
    CollectorReceive,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A per-session translation was created (RT_FLOW create, SADD, NAT-TCP-C, natEvent 4).
    SessionOpen,
    /// A per-session translation was deleted.
    SessionClose,
    /// An endpoint mapping (BIB entry) was created (APMADD, A10 CGN 100).
    MappingOpen,
    /// An endpoint mapping was deleted.
    MappingClose,
    /// A port block was allocated (UserbasedA, JSERVICES_NAT_PORT_BLOCK_ALLOC, CGN 106).
    BlockAlloc,
    /// A port block was released.
    BlockRelease,
    /// An interim "still allocated" record for a block (JSERVICES_NAT_PORT_BLOCK_ACTIVE).
    BlockInterim,
    /// An outside address was bound to an inside address (paired pooling, natEvent 14).
    AddressBind,
    /// That binding ended.
    AddressUnbind,
    /// Pool or quota exhaustion: diagnostic only, never an interval.
    Exhaustion,
}

impl EventKind {
    /// True for kinds that start an interval.
    pub fn opens(self) -> bool {
        matches!(
            self,
            Self::SessionOpen | Self::MappingOpen | Self::BlockAlloc | Self::AddressBind
        )
    }

    /// True for kinds that end an interval.
    pub fn closes(self) -> bool {
        matches!(
            self,
            Self::SessionClose | Self::MappingClose | Self::BlockRelease | Self::AddressUnbind
        )
    }
}

/// Where in the raw logs an event came from: the evidence chain back to the original line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct RawRef {
    /// Index of the input file in the import's file table.
    pub file: u32,
    /// 1-based line number (or record number for binary inputs such as IPFIX).
    pub line: u64,
    /// Byte offset of the line's start in the (decompressed) file.
    pub offset: u64,
}

/// One normalized NAT attribution event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatEvent {
    /// Event time in UTC nanoseconds since the Unix epoch.
    pub ts_utc_ns: i64,
    /// Precision of that time.
    pub ts_precision: TsPrecision,
    /// Where the time came from.
    pub ts_origin: TsOrigin,
    /// True when the device gave no zone or offset and a configured or default zone was applied.
    pub tz_assumed: bool,
    /// The exporter (syslog host or IPFIX observation domain) as written in the log.
    pub exporter: Option<Label>,
    /// Device sequence number, for loss detection (Nokia `<seq>`, IPFIX sequence).
    pub seq: Option<u64>,
    /// What happened.
    pub kind: EventKind,
    /// IP protocol number; `None` means all protocols (block allocations without L4).
    pub proto: Option<u8>,
    /// Inside VRF, route domain or routing instance, numbered; 0 when not given.
    pub inside_vrf: u32,
    /// The subscriber-side (private) address: IPv4, or IPv6 for NAT64.
    pub inside_ip: IpAddr,
    /// DS-Lite softwire source (B4 address), when logged.
    pub b4_ipv6: Option<Ipv6Addr>,
    /// Inside port, for per-session and per-port events.
    pub inside_port: Option<u16>,
    /// Outside VRF or route domain; 0 when not given.
    pub outside_vrf: u32,
    /// The public address.
    pub outside_ip: Ipv4Addr,
    /// First outside port (equal to `port_hi` for single-port events).
    pub port_lo: u16,
    /// Last outside port, inclusive.
    pub port_hi: u16,
    /// Port stride within the block (RFC 8158 portRangeStepSize); 1 = contiguous.
    pub port_step: u16,
    /// Destination address and port, when a per-session record carries them.
    pub dst: Option<(IpAddr, u16)>,
    /// Subscriber identifier when the device logs one (Nokia subscriber, F5 user name).
    pub subscriber_id: Option<Label>,
    /// Evidence: where this came from.
    pub raw: RawRef,
}
