//! IPFIX NAT event records (RFC 8158) read from files.
//!
//! A file is a sequence of IPFIX messages (RFC 7011 section 3; the RFC 5655 file format is the
//! same stream): a 16-byte header, then sets. Template sets (id 2) define record layouts per
//! observation domain; data sets (id >= 256) carry records in those layouts. Options templates
//! (id 3) are read past. Each data record with a natEvent (IE 230) becomes a [`NatEvent`];
//! natEvent is mapped through the exporter's [`NatEventMap`], because Juniper and Cisco number
//! events differently from IANA. Records that cannot be used are reported, never guessed.

use crate::natlog::event::{EventKind, Label, NatEvent, RawRef, TsOrigin, TsPrecision};
use crate::natlog::parse::ParseContext;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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

impl std::str::FromStr for NatEventMap {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "iana" | "rfc8158" => Ok(Self::Iana),
            "juniper" => Ok(Self::Juniper),
            "cisco" | "cisco-hsl" => Ok(Self::CiscoHsl),
            _ => Err(format!(
                "unknown natEvent numbering {s:?}: expected iana, juniper or cisco-hsl"
            )),
        }
    }
}

/// Most fields in one template (RFC 7011 allows 65535; NAT templates have about a dozen).
const MAX_TEMPLATE_FIELDS: usize = 512;
/// Most templates kept at once across all observation domains.
const MAX_TEMPLATES: usize = 65_536;

/// Why part of an IPFIX file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("IPFIX file #{file} at byte {offset}: {reason}")]
pub struct IpfixError {
    /// Index of the file in the caller's file table.
    pub file: u32,
    /// Byte offset of the message, set or record at fault.
    pub offset: u64,
    /// What is wrong.
    pub reason: &'static str,
}

/// What reading a file produced.
#[derive(Debug, Default)]
pub struct IpfixReadResult {
    /// NAT events, in file order.
    pub events: Vec<NatEvent>,
    /// Data records without natEvent, with a natEvent that is not an attribution record under
    /// the exporter's numbering, or without a template yet (UDP export starts mid-stream).
    pub skipped: u64,
    /// Structural errors. A bad message stops the read (the next header cannot be found);
    /// a bad record skips that record.
    pub errors: Vec<IpfixError>,
}

#[derive(Debug, Clone, Copy)]
struct Field {
    ie: u16,
    enterprise: bool,
    len: u16,
}

/// Reads IPFIX messages (and NetFlow v9 packets, RFC 3954, which Cisco IOS-XE NAT High-Speed
/// Logging and IOS-XR CGN export) from `data`. The exporter of a record is its observation
/// domain id (v9: source id) in decimal: that is the key for [`ParseContext::exporters`] (whose
/// `ipfix_events` picks the natEvent numbering, else `default_map`).
pub fn read_ipfix(
    data: &[u8],
    file: u32,
    ctx: &ParseContext,
    default_map: NatEventMap,
) -> IpfixReadResult {
    let mut r = Reader {
        file,
        ctx,
        default_map,
        templates: HashMap::new(),
        record_no: 0,
        out: IpfixReadResult::default(),
    };
    let mut pos = 0usize;
    while pos < data.len() {
        let next = match data.get(pos..pos + 2).map(be) {
            Some(10) => r.ipfix_message(data, pos),
            Some(9) => r.v9_packet(data, pos),
            Some(_) => Err((pos, "not an IPFIX (10) or NetFlow v9 message")),
            None => Err((pos, "truncated message header")),
        };
        match next {
            Ok(n) => pos = n,
            Err((offset, reason)) => {
                r.out.errors.push(r.err(offset, reason));
                break;
            }
        }
    }
    r.out
}

/// Message header facts every record of the message shares.
struct MsgInfo {
    export_s: u64,
    seq: u64,
    domain: u32,
    label: Label,
    map: NatEventMap,
}

struct Reader<'a> {
    file: u32,
    ctx: &'a ParseContext,
    default_map: NatEventMap,
    templates: HashMap<(u32, u16), Vec<Field>>,
    record_no: u64,
    out: IpfixReadResult,
}

impl Reader<'_> {
    fn err(&self, offset: usize, reason: &'static str) -> IpfixError {
        IpfixError {
            file: self.file,
            offset: offset as u64,
            reason,
        }
    }

    fn info(&self, export_s: u64, seq: u64, domain: u32) -> MsgInfo {
        let label = Label::from(domain.to_string());
        let map = self
            .ctx
            .exporters
            .get(label.as_str())
            .and_then(|p| p.ipfix_events)
            .unwrap_or(self.default_map);
        MsgInfo {
            export_s,
            seq,
            domain,
            label,
            map,
        }
    }

    /// RFC 7011 section 3.1: the header carries the message length.
    fn ipfix_message(&mut self, data: &[u8], pos: usize) -> Result<usize, (usize, &'static str)> {
        let h = data
            .get(pos..pos + 16)
            .ok_or((pos, "truncated message header"))?;
        let len = be(&h[2..4]) as usize;
        if len < 16 || pos + len > data.len() {
            return Err((pos, "message length runs past the end of the file"));
        }
        let info = self.info(be(&h[4..8]), be(&h[8..12]), be(&h[12..16]) as u32);
        let msg = &data[pos..pos + len];
        let mut spos = 16;
        while spos + 4 <= msg.len() {
            let set_len = be(&msg[spos + 2..spos + 4]) as usize;
            if set_len < 4 || spos + set_len > msg.len() {
                let e = self.err(pos + spos, "set length runs past the end of its message");
                self.out.errors.push(e);
                break;
            }
            let id = be(&msg[spos..spos + 2]) as u16;
            self.set(
                id,
                2,
                3,
                false,
                &msg[spos + 4..spos + set_len],
                pos + spos,
                &info,
            );
            spos += set_len;
        }
        Ok(pos + len)
    }

    /// RFC 3954 section 5.1: the header has a record count, not a length, so flowsets are read
    /// until the next packet header (version 9 or 10 where a flowset id would be: ids 2..=255
    /// are reserved) or the end of the data.
    fn v9_packet(&mut self, data: &[u8], pos: usize) -> Result<usize, (usize, &'static str)> {
        let h = data
            .get(pos..pos + 20)
            .ok_or((pos, "truncated NetFlow v9 header"))?;
        let info = self.info(be(&h[8..12]), be(&h[12..16]), be(&h[16..20]) as u32);
        let mut spos = pos + 20;
        while let Some(fh) = data.get(spos..spos + 4) {
            let id = be(&fh[0..2]) as u16;
            if id == 9 || id == 10 {
                break;
            }
            let set_len = be(&fh[2..4]) as usize;
            if set_len < 4 || spos + set_len > data.len() {
                return Err((spos, "flowset length runs past the end of the file"));
            }
            self.set(id, 0, 1, true, &data[spos + 4..spos + set_len], spos, &info);
            spos += set_len;
        }
        Ok(spos.max(pos + 20))
    }

    #[allow(clippy::too_many_arguments)] // one call site per framing; a struct would only rename them
    fn set(
        &mut self,
        id: u16,
        template_id: u16,
        options_id: u16,
        v9: bool,
        body: &[u8],
        set_pos: usize,
        info: &MsgInfo,
    ) {
        let base = set_pos + 4;
        if id == template_id {
            if let Err(e) = read_templates(body, info.domain, v9, &mut self.templates) {
                let e = self.err(base, e);
                self.out.errors.push(e);
            }
            return;
        }
        if id == options_id {
            return; // options templates: metadata only
        }
        if id < 256 {
            let e = self.err(set_pos, "reserved set id");
            self.out.errors.push(e);
            return;
        }
        let Some(fields) = self.templates.get(&(info.domain, id)) else {
            // Counted per set: record boundaries are unknown without the template.
            self.out.skipped += 1;
            return;
        };
        let min_len: usize = fields
            .iter()
            .map(|f| {
                if f.len == 65_535 {
                    1
                } else {
                    usize::from(f.len)
                }
            })
            .sum();
        let mut r = 0usize;
        while r < body.len() && body.len() - r >= min_len.max(1) {
            self.record_no += 1;
            let raw = RawRef {
                file: self.file,
                line: self.record_no,
                offset: (base + r) as u64,
            };
            match record(&body[r..], fields) {
                Ok((used, rec)) => {
                    match rec.into_event(info.map, info.export_s, info.seq, &info.label, raw) {
                        Ok(Some(ev)) => self.out.events.push(ev),
                        Ok(None) => self.out.skipped += 1,
                        Err(reason) => self.out.errors.push(IpfixError {
                            file: self.file,
                            offset: (base + r) as u64,
                            reason,
                        }),
                    }
                    r += used;
                }
                Err(reason) => {
                    self.out.errors.push(IpfixError {
                        file: self.file,
                        offset: (base + r) as u64,
                        reason,
                    });
                    return;
                }
            }
        }
        // What is left must be zero padding (RFC 7011 section 3.3.1, RFC 3954 section 5.3).
        if body
            .get(r..)
            .is_some_and(|rest| rest.iter().any(|&c| c != 0))
        {
            self.out.errors.push(IpfixError {
                file: self.file,
                offset: (base + r) as u64,
                reason: "bytes after the last record are not padding (truncated record?)",
            });
        }
    }
}

fn be(b: &[u8]) -> u64 {
    b.iter().take(8).fold(0u64, |a, &c| (a << 8) | u64::from(c))
}

fn read_templates(
    mut b: &[u8],
    domain: u32,
    v9: bool,
    templates: &mut HashMap<(u32, u16), Vec<Field>>,
) -> Result<(), &'static str> {
    // Records until fewer than 4 bytes remain (set padding, RFC 7011 section 3.3.1).
    while b.len() >= 4 {
        let id = be(&b[0..2]) as u16;
        let count = be(&b[2..4]) as usize;
        b = &b[4..];
        if id < 256 {
            return Err("template id below 256");
        }
        if count > MAX_TEMPLATE_FIELDS {
            return Err("template has more than 512 fields");
        }
        let mut fields = Vec::with_capacity(count);
        for _ in 0..count {
            let f = b.get(..4).ok_or("template record runs past its set")?;
            let raw_ie = be(&f[0..2]) as u16;
            // NetFlow v9 has no enterprise bit: its field types are plain 16-bit numbers.
            let enterprise = !v9 && raw_ie & 0x8000 != 0;
            let len = be(&f[2..4]) as u16;
            b = &b[4..];
            if enterprise {
                b = b.get(4..).ok_or("template record runs past its set")?;
            }
            fields.push(Field {
                ie: if v9 { raw_ie } else { raw_ie & 0x7fff },
                enterprise,
                len,
            });
        }
        if count == 0 {
            templates.remove(&(domain, id)); // template withdrawal (RFC 7011 section 8.1)
        } else if templates.len() < MAX_TEMPLATES || templates.contains_key(&(domain, id)) {
            templates.insert((domain, id), fields);
        } else {
            return Err("too many templates");
        }
    }
    Ok(())
}

/// The fields of one data record that matter for attribution.
#[derive(Default)]
struct Rec {
    time_ms: Option<u64>,
    time_s: Option<u64>,
    nat_event: Option<u64>,
    in_vrf: Option<u64>,
    out_vrf: Option<u64>,
    src4: Option<Ipv4Addr>,
    src6: Option<Ipv6Addr>,
    post4: Option<Ipv4Addr>,
    proto: Option<u64>,
    sport: Option<u64>,
    post_port: Option<u64>,
    dst4: Option<Ipv4Addr>,
    dst6: Option<Ipv6Addr>,
    dport: Option<u64>,
    range_start: Option<u64>,
    range_end: Option<u64>,
    range_step: Option<u64>,
    range_num: Option<u64>,
}

fn record(b: &[u8], fields: &[Field]) -> Result<(usize, Rec), &'static str> {
    let mut rec = Rec::default();
    let mut p = 0usize;
    for f in fields {
        let len = if f.len == 65_535 {
            // Variable length (RFC 7011 section 7).
            let first = *b.get(p).ok_or("record runs past its set")?;
            p += 1;
            if first < 255 {
                usize::from(first)
            } else {
                let l = be(b.get(p..p + 2).ok_or("record runs past its set")?) as usize;
                p += 2;
                l
            }
        } else {
            usize::from(f.len)
        };
        let v = b.get(p..p + len).ok_or("record runs past its set")?;
        p += len;
        if f.enterprise {
            continue;
        }
        let int = || (len <= 8).then(|| be(v));
        let v4 = || <[u8; 4]>::try_from(v).ok().map(Ipv4Addr::from);
        let v6 = || <[u8; 16]>::try_from(v).ok().map(Ipv6Addr::from);
        match f.ie {
            323 => rec.time_ms = int(),
            322 => rec.time_s = int(),
            230 => rec.nat_event = int(),
            234 => rec.in_vrf = int(),
            235 => rec.out_vrf = int(),
            8 => rec.src4 = v4(),
            27 => rec.src6 = v6(),
            225 => rec.post4 = v4(),
            4 => rec.proto = int(),
            7 => rec.sport = int(),
            227 => rec.post_port = int(),
            12 => rec.dst4 = v4(),
            28 => rec.dst6 = v6(),
            11 => rec.dport = int(),
            361 => rec.range_start = int(),
            362 => rec.range_end = int(),
            363 => rec.range_step = int(),
            364 => rec.range_num = int(),
            _ => {}
        }
    }
    Ok((p, rec))
}

fn port(v: Option<u64>, what: &'static str) -> Result<u16, &'static str> {
    v.and_then(|p| u16::try_from(p).ok()).ok_or(what)
}

impl Rec {
    fn into_event(
        self,
        map: NatEventMap,
        export_s: u64,
        seq: u64,
        exporter: &Label,
        raw: RawRef,
    ) -> Result<Option<NatEvent>, &'static str> {
        let Some(kind) = self
            .nat_event
            .and_then(|v| u8::try_from(v).ok())
            .and_then(|v| map.kind(v))
        else {
            return Ok(None);
        };
        if kind == EventKind::Exhaustion {
            return Ok(None);
        }
        let inside_ip = match (self.src4, self.src6) {
            (Some(a), _) => IpAddr::V4(a),
            (None, Some(b)) => IpAddr::V6(b),
            (None, None) => {
                return Err("NAT record without sourceIPv4Address or sourceIPv6Address");
            }
        };
        let outside_ip = self
            .post4
            .ok_or("NAT record without postNATSourceIPv4Address (IE 225)")?;
        let (lo, hi, step) = match kind {
            EventKind::BlockAlloc | EventKind::BlockRelease | EventKind::BlockInterim => {
                let lo = port(
                    self.range_start,
                    "port block without portRangeStart (IE 361)",
                )?;
                let hi = match (self.range_end, self.range_num) {
                    (Some(e), _) => port(Some(e), "portRangeEnd is not a port")?,
                    (None, Some(n)) if n >= 1 => {
                        let step = self.range_step.unwrap_or(1).max(1);
                        port(
                            (n - 1)
                                .checked_mul(step)
                                .and_then(|span| span.checked_add(u64::from(lo))),
                            "port range runs past 65535",
                        )?
                    }
                    _ => {
                        return Err(
                            "port block without portRangeEnd (IE 362) or portRangeNumPorts (IE 364)",
                        );
                    }
                };
                if lo > hi {
                    return Err("portRangeStart is above portRangeEnd");
                }
                (
                    lo,
                    hi,
                    port(
                        Some(self.range_step.unwrap_or(1).max(1)),
                        "portRangeStepSize is not 1..65535",
                    )?,
                )
            }
            EventKind::AddressBind | EventKind::AddressUnbind => (0, u16::MAX, 1),
            _ => {
                let p = port(
                    self.post_port,
                    "session record without postNAPTSourceTransportPort (IE 227)",
                )?;
                (p, p, 1)
            }
        };
        let (ts_ns, precision, origin) = match (self.time_ms, self.time_s) {
            (Some(ms), _) => (
                i64::try_from(ms)
                    .ok()
                    .and_then(|m| m.checked_mul(1_000_000)),
                TsPrecision::MilliSec,
                TsOrigin::DeviceBody,
            ),
            (None, Some(s)) => (
                i64::try_from(s)
                    .ok()
                    .and_then(|s| s.checked_mul(1_000_000_000)),
                TsPrecision::Sec,
                TsOrigin::DeviceBody,
            ),
            // No per-record time: the message's export time, which is when the box sent it.
            (None, None) => (
                i64::try_from(export_s).ok().map(|s| s * 1_000_000_000),
                TsPrecision::Sec,
                TsOrigin::DeviceHeader,
            ),
        };
        let ts_utc_ns = ts_ns.ok_or("timestamp out of range")?;
        let session = matches!(
            kind,
            EventKind::SessionOpen
                | EventKind::SessionClose
                | EventKind::MappingOpen
                | EventKind::MappingClose
        );
        let dst_ip = self.dst4.map(IpAddr::V4).or(self.dst6.map(IpAddr::V6));
        Ok(Some(NatEvent {
            ts_utc_ns,
            ts_precision: precision,
            ts_origin: origin,
            tz_assumed: false,
            exporter: Some(exporter.clone()),
            seq: Some(seq),
            kind,
            proto: self.proto.and_then(|p| u8::try_from(p).ok()),
            inside_vrf: self.in_vrf.and_then(|v| u32::try_from(v).ok()).unwrap_or(0),
            inside_ip,
            b4_ipv6: None,
            inside_port: if session {
                self.sport.and_then(|p| u16::try_from(p).ok())
            } else {
                None
            },
            outside_vrf: self
                .out_vrf
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or(0),
            outside_ip,
            port_lo: lo,
            port_hi: hi,
            port_step: step,
            dst: if session {
                dst_ip.zip(self.dport.and_then(|p| u16::try_from(p).ok()))
            } else {
                None
            },
            subscriber_id: None,
            raw,
        }))
    }
}
