//! Junos NAT logs (research notes 1.1):
//!
//! - port-block allocation, `ASP_NAT_PORT_BLOCK_*` (MS-DPC) and `JSERVICES_NAT_PORT_BLOCK_*`
//!   (MS-MPC): `<inside> -> <outside>:<lo>-<hi>`; `_ACTIVE` is the interim re-send that exists
//!   because syslog over UDP loses messages. The body carries the PIC's own time
//!   `YYYY-MM-DD HH:MM:SS` (sometimes written `HH: MM:SS`), which we prefer to the header.
//! - per-session `RT_FLOW_SESSION_CREATE` / `_CLOSE` in BSD form (`src/port->dst/port ... nat
//!   tuple ... protocol`) and in RFC 5424 structured form (`source-address="..."` params).

use super::framing::{self, SdParams};
use super::scan;
use super::{EventParts, Input, bad, bsd_header, label, outside_v4, port_range};
use crate::natlog::event::{EventKind, NatEvent, TsOrigin};
use crate::natlog::parse::LineErrorReason;
use crate::natlog::syslog::{self, LocalTime};

const PBA: &[u8] = b"NAT_PORT_BLOCK_";
const FLOW: &[u8] = b"RT_FLOW_SESSION_";
/// Other MS-MPC NAT messages (`JSERVICES_NAT_RULE_MATCH`...): recognised, no attribution.
const JSERVICES: &[u8] = b"[jservices-nat]: ";

pub(super) fn sniff(line: &[u8]) -> bool {
    scan::find(line, PBA).is_some()
        || scan::find(line, FLOW).is_some()
        || scan::find(line, JSERVICES).is_some()
}

pub(super) fn parse(input: &Input<'_>, out: &mut Vec<NatEvent>) -> Result<(), LineErrorReason> {
    let line = input.line;
    if let Some(p) = scan::find(line, PBA) {
        return parse_pba(input, p, out);
    }
    if let Some(p) = scan::find(line, FLOW) {
        if let Some(h) = framing::parse_rfc5424(line).filter(|h| h.msgid.starts_with(FLOW)) {
            return parse_flow_structured(input, h, out);
        }
        return parse_flow_bsd(input, p, out);
    }
    if scan::find(line, JSERVICES).is_some() {
        return Ok(());
    }
    Err(LineErrorReason::NotNat)
}

/// The last `YYYY-MM-DD HH:MM:SS` in `prefix` (the PIC's event time), if any.
fn body_time(prefix: &[u8]) -> Option<LocalTime> {
    let mut found = None;
    for dash in memchr::memchr_iter(b'-', prefix) {
        if dash < 4 || prefix.get(dash + 3) != Some(&b'-') {
            continue;
        }
        if let Some((t, _)) = syslog::parse_iso_time(&prefix[dash - 4..]) {
            found = Some(t);
        }
    }
    found
}

/// The exporter of a PBA line: the token before `{service-set}` (MS-MPC), else the BSD header
/// host (MS-DPC `ASP_` lines).
fn pba_exporter(prefix: &[u8]) -> &[u8] {
    if let Some(brace) = memchr::memchr(b'{', prefix) {
        let head = &prefix[..brace];
        let start = head
            .iter()
            .rposition(|&c| c == b' ' || c == b'>')
            .map_or(0, |p| p + 1);
        return &head[start..];
    }
    bsd_header(prefix).map_or(&b""[..], |(_, host, _)| host)
}

fn parse_pba(input: &Input<'_>, at: usize, out: &mut Vec<NatEvent>) -> Result<(), LineErrorReason> {
    let line = input.line;
    let prefix = &line[..at];
    let tail = &line[at + PBA.len()..];
    let (kind, rest) = if let Some(r) = tail.strip_prefix(b"ALLOC:") {
        (EventKind::BlockAlloc, r)
    } else if let Some(r) = tail.strip_prefix(b"RELEASE:") {
        (EventKind::BlockRelease, r)
    } else if let Some(r) = tail.strip_prefix(b"ACTIVE:") {
        (EventKind::BlockInterim, r)
    } else {
        return Err(bad(
            "message tag",
            "expected NAT_PORT_BLOCK_ALLOC, _RELEASE or _ACTIVE",
        ));
    };
    let mut toks = scan::tokens(rest);
    let inside = toks.next().ok_or(bad("inside address", "missing"))?;
    let inside_ip = scan::ip(inside).ok_or(bad("inside address", "not an IP address"))?;
    if toks.next() != Some(b"->") {
        return Err(bad("mapping", "expected `<inside> -> <outside>:<lo>-<hi>`"));
    }
    let mapped = toks.next().ok_or(bad("outside address", "missing"))?;
    let colon = memchr::memrchr(b':', mapped).ok_or(bad("outside address", "missing `:ports`"))?;
    let outside =
        scan::ipv4(&mapped[..colon]).ok_or(bad("outside address", "not an IPv4 address"))?;
    let ports = &mapped[colon + 1..];
    let dash = memchr::memchr(b'-', ports).ok_or(bad("port range", "expected `lo-hi`"))?;
    let lo = scan::port(&ports[..dash]).ok_or(bad("port range", "first port is not 0..65535"))?;
    let hi =
        scan::port(&ports[dash + 1..]).ok_or(bad("port range", "last port is not 0..65535"))?;
    let (lo, hi) = port_range(lo, hi)?;
    let host = pba_exporter(prefix);
    let (t, origin) = match body_time(prefix) {
        Some(t) => (t, TsOrigin::DeviceBody),
        None => {
            let (t, _, _) =
                bsd_header(prefix).ok_or(LineErrorReason::Time("no timestamp found"))?;
            (t, TsOrigin::DeviceHeader)
        }
    };
    let stamp = input.stamp(&t, host)?;
    let parts = EventParts {
        stamp,
        origin,
        kind,
        inside_ip,
        outside_ip: outside,
        port_lo: lo,
        port_hi: hi,
    };
    out.push(parts.build(label(host), input.raw));
    Ok(())
}

/// Reads `a.b.c.d/port->e.f.g.h/port`.
fn flow_tuple(tok: &[u8]) -> Option<((std::net::IpAddr, u16), (std::net::IpAddr, u16))> {
    let arrow = scan::find(tok, b"->")?;
    Some((
        scan::addr_port(&tok[..arrow], b'/')?,
        scan::addr_port(&tok[arrow + 2..], b'/')?,
    ))
}

fn flow_kind(tag_tail: &[u8]) -> Result<EventKind, LineErrorReason> {
    if tag_tail.starts_with(b"CREATE") {
        Ok(EventKind::SessionOpen)
    } else if tag_tail.starts_with(b"CLOSE") {
        Ok(EventKind::SessionClose)
    } else {
        // RT_FLOW_SESSION_DENY and friends: recognised, not a translation.
        Err(LineErrorReason::NotNat)
    }
}

fn parse_flow_bsd(
    input: &Input<'_>,
    at: usize,
    out: &mut Vec<NatEvent>,
) -> Result<(), LineErrorReason> {
    let line = input.line;
    let kind = match flow_kind(&line[at + FLOW.len()..]) {
        Ok(k) => k,
        Err(LineErrorReason::NotNat) => return Ok(()),
        Err(e) => return Err(e),
    };
    let (t, host, _) =
        bsd_header(&line[..at]).ok_or(LineErrorReason::Time("no syslog header time"))?;
    let mut toks = scan::tokens(&line[at..]).skip(1);
    let orig = toks
        .by_ref()
        .find(|t| scan::find(t, b"->").is_some())
        .ok_or(bad("session tuple", "missing `src/port->dst/port`"))?;
    let ((src, sport), (dst, dport)) =
        flow_tuple(orig).ok_or(bad("session tuple", "expected `src/port->dst/port`"))?;
    // Skip the connection tag (0x..) and the service name to the translated tuple.
    let nat = toks
        .by_ref()
        .find(|t| scan::find(t, b"->").is_some())
        .ok_or(bad("NAT tuple", "missing translated `src/port->dst/port`"))?;
    let ((nsrc, nsport), _) =
        flow_tuple(nat).ok_or(bad("NAT tuple", "expected `src/port->dst/port`"))?;
    // The protocol is the first plain number after the NAT tuple (rule names and zones are
    // words; `0x0` connection tags are hex).
    let proto = toks.find_map(scan::byte);
    if nsrc == src && nsport == sport {
        return Ok(()); // no source translation: not a NAT record
    }
    let outside = outside_v4(nsrc, "NAT source address")?;
    let stamp = input.stamp(&t, host)?;
    let mut ev = EventParts {
        stamp,
        origin: TsOrigin::DeviceHeader,
        kind,
        inside_ip: src,
        outside_ip: outside,
        port_lo: nsport,
        port_hi: nsport,
    }
    .build(label(host), input.raw);
    ev.inside_port = Some(sport);
    ev.dst = Some((dst, dport));
    ev.proto = proto;
    out.push(ev);
    Ok(())
}

fn parse_flow_structured(
    input: &Input<'_>,
    h: framing::Rfc5424<'_>,
    out: &mut Vec<NatEvent>,
) -> Result<(), LineErrorReason> {
    let kind = match flow_kind(&h.msgid[FLOW.len()..]) {
        Ok(k) => k,
        Err(LineErrorReason::NotNat) => return Ok(()),
        Err(e) => return Err(e),
    };
    let (mut src, mut sport, mut dst, mut dport, mut nsrc, mut nsport, mut proto) =
        (None, None, None, None, None, None, None);
    for (k, v) in SdParams::new(h.rest) {
        match k {
            b"source-address" => {
                src = Some(scan::ip(v).ok_or(bad("source-address", "not an IP address"))?)
            }
            b"source-port" => sport = Some(scan::port(v).ok_or(bad("source-port", "not a port"))?),
            b"destination-address" => dst = scan::ip(v),
            b"destination-port" => dport = scan::port(v),
            b"nat-source-address" => {
                nsrc = Some(scan::ip(v).ok_or(bad("nat-source-address", "not an IP address"))?)
            }
            b"nat-source-port" => {
                nsport = Some(scan::port(v).ok_or(bad("nat-source-port", "not a port"))?)
            }
            b"protocol-id" => proto = scan::byte(v),
            _ => {}
        }
    }
    let src = src.ok_or(bad("source-address", "missing"))?;
    let sport = sport.ok_or(bad("source-port", "missing"))?;
    let nsrc = nsrc.ok_or(bad("nat-source-address", "missing"))?;
    let nsport = nsport.ok_or(bad("nat-source-port", "missing"))?;
    if nsrc == src && nsport == sport {
        return Ok(());
    }
    let outside = outside_v4(nsrc, "nat-source-address")?;
    let t = h
        .time
        .ok_or(LineErrorReason::Time("RFC 5424 timestamp is `-`"))?;
    let stamp = input.stamp(&t, h.host)?;
    let mut ev = EventParts {
        stamp,
        origin: TsOrigin::DeviceHeader,
        kind,
        inside_ip: src,
        outside_ip: outside,
        port_lo: nsport,
        port_hi: nsport,
    }
    .build(label(h.host), input.raw);
    ev.inside_port = Some(sport);
    ev.dst = dst.zip(dport);
    ev.proto = proto;
    out.push(ev);
    Ok(())
}
