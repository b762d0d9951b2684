//! A10 Thunder CGN (research notes 1.3). Three shapes, all after a syslog header (the body has
//! no time of its own):
//!
//! - CEF: `CEF:0|A10|CFW|ver|CGN 100|Nat Port Allocated|5|proto=.. src=.. spt=..
//!   sourceTranslatedAddress=.. sourceTranslatedPort=..`; 100/101 are one port, 106/107 a port
//!   batch whose LAST port is in `cn3` (not in any `*Port` key).
//! - ASCII: `NAT-UDP-C: in:port -> out: port` (port mapping; note the space after the colon),
//!   `NAT-TCP-C: src:sport<->dst:dport, a:p<-->b:p` (session; one side of the reverse tuple is
//!   the server, the other the NAT address); `C`/`B` create, `D` delete, `U` update.
//! - `FIXED-NAT-PORTS in->out:lo-hi`: A10's deterministic fixed-NAT, logged once per inside
//!   address; it becomes an open-ended block allocation.

use super::framing;
use super::scan;
use super::{EventParts, Input, bad, bsd_header, label, outside_v4, port_range};
use crate::natlog::event::{EventKind, NatEvent, TsOrigin};
use crate::natlog::parse::LineErrorReason;
use std::net::IpAddr;

const CEF: &[u8] = b"CEF:0|A10|";
const FIXED: &[u8] = b"FIXED-NAT-PORTS ";
const ASCII: &[u8] = b"NAT-";

pub(super) fn sniff(line: &[u8]) -> bool {
    scan::find(line, CEF).is_some()
        || scan::find(line, FIXED).is_some()
        || ascii_tag(line).is_some()
}

/// Finds `NAT-<PROTO>-<EV>: ` and returns (tag start, proto, event letter, rest).
fn ascii_tag(line: &[u8]) -> Option<(usize, u8, u8, &[u8])> {
    let mut from = 0;
    while let Some(p) = scan::find(&line[from..], ASCII) {
        let at = from + p;
        from = at + 1;
        let s = &line[at + ASCII.len()..];
        let Some(dash) = s.iter().take(8).position(|&c| c == b'-') else {
            continue;
        };
        let Some(proto) = scan::proto(&s[..dash]) else {
            continue;
        };
        if let (Some(&ev), Some(b':'), Some(rest)) =
            (s.get(dash + 1), s.get(dash + 2), s.get(dash + 3..))
        {
            return Some((at, proto, ev, rest));
        }
    }
    None
}

pub(super) fn parse(input: &Input<'_>, out: &mut Vec<NatEvent>) -> Result<(), LineErrorReason> {
    let line = input.line;
    if let Some(at) = scan::find(line, CEF) {
        return parse_cef(input, at, out);
    }
    if let Some(at) = scan::find(line, FIXED) {
        return parse_fixed(input, at, out);
    }
    if let Some((at, proto, ev, rest)) = ascii_tag(line) {
        return parse_ascii(input, at, proto, ev, rest, out);
    }
    Err(LineErrorReason::NotNat)
}

/// Header time and host in front of the body at `at`. The host is the token just before the
/// body (A10 writes `device/partition` there).
fn header<'a>(
    input: &Input<'a>,
    at: usize,
) -> Result<(crate::natlog::syslog::Stamp, &'a [u8]), LineErrorReason> {
    let prefix = &input.line[..at];
    let host = prefix
        .split(|&c| c == b' ')
        .rfind(|t| !t.is_empty())
        .unwrap_or(b"");
    let (t, _, _) = bsd_header(prefix).ok_or(LineErrorReason::Time(
        "no syslog header time before the A10 message",
    ))?;
    Ok((input.stamp(&t, host)?, host))
}

fn parse_cef(input: &Input<'_>, at: usize, out: &mut Vec<NatEvent>) -> Result<(), LineErrorReason> {
    let body = &input.line[at..];
    // CEF:Version|Vendor|Product|Version|SignatureID|Name|Severity|Extension
    let mut pipes = [0usize; 7];
    let mut n = 0;
    for (slot, pos) in pipes.iter_mut().zip(memchr::memchr_iter(b'|', body)) {
        *slot = pos;
        n += 1;
    }
    if n < 7 {
        return Err(bad("CEF header", "fewer than 7 `|`-separated fields"));
    }
    let sig = &body[pipes[3] + 1..pipes[4]];
    let kind = match sig {
        b"CGN 100" => EventKind::MappingOpen,
        b"CGN 101" => EventKind::MappingClose,
        b"CGN 106" => EventKind::BlockAlloc,
        b"CGN 107" => EventKind::BlockRelease,
        // Other CGN signatures (quota, exhaustion, sessions without translation data).
        _ => return Ok(()),
    };
    let (mut proto, mut src, mut spt, mut xip, mut xpt, mut last, mut dst, mut dpt) =
        (None, None, None, None, None, None, None, None);
    for tok in scan::tokens(&body[pipes[6] + 1..]) {
        let Some(eq) = memchr::memchr(b'=', tok) else {
            continue;
        };
        let (k, v) = (&tok[..eq], &tok[eq + 1..]);
        match k {
            b"proto" => proto = scan::proto(v),
            b"src" => src = Some(scan::ip(v).ok_or(bad("src", "not an IP address"))?),
            b"spt" => spt = scan::port(v),
            b"sourceTranslatedAddress" => {
                xip = Some(scan::ip(v).ok_or(bad("sourceTranslatedAddress", "not an IP address"))?)
            }
            b"sourceTranslatedPort" => {
                xpt = Some(scan::port(v).ok_or(bad("sourceTranslatedPort", "not 0..65535"))?)
            }
            b"cn3" => last = Some(scan::port(v).ok_or(bad("cn3 (last NAT port)", "not 0..65535"))?),
            b"dst" => dst = scan::ip(v),
            b"dpt" => dpt = scan::port(v),
            _ => {}
        }
    }
    let src = src.ok_or(bad("src", "missing"))?;
    let outside = outside_v4(
        xip.ok_or(bad("sourceTranslatedAddress", "missing"))?,
        "sourceTranslatedAddress",
    )?;
    let lo = xpt.ok_or(bad("sourceTranslatedPort", "missing"))?;
    let hi = match kind {
        EventKind::BlockAlloc | EventKind::BlockRelease => {
            last.ok_or(bad("cn3 (last NAT port)", "missing for a port batch"))?
        }
        _ => lo,
    };
    let (lo, hi) = port_range(lo, hi)?;
    let (stamp, host) = header(input, at)?;
    let mut ev = EventParts {
        stamp,
        origin: TsOrigin::DeviceHeader,
        kind,
        inside_ip: src,
        outside_ip: outside,
        port_lo: lo,
        port_hi: hi,
    }
    .build(label(host), input.raw);
    ev.proto = proto;
    if matches!(kind, EventKind::MappingOpen | EventKind::MappingClose) {
        ev.inside_port = spt;
        ev.dst = dst.zip(dpt);
    }
    out.push(ev);
    Ok(())
}

fn parse_fixed(
    input: &Input<'_>,
    at: usize,
    out: &mut Vec<NatEvent>,
) -> Result<(), LineErrorReason> {
    let rest = &input.line[at + FIXED.len()..];
    let (tok, _) = framing::next_token(rest).ok_or(bad("mapping", "missing"))?;
    let arrow = scan::find(tok, b"->").ok_or(bad("mapping", "expected `in->out:lo-hi`"))?;
    let inside = scan::ip(&tok[..arrow]).ok_or(bad("inside address", "not an IP address"))?;
    let mapped = &tok[arrow + 2..];
    let colon = memchr::memrchr(b':', mapped).ok_or(bad("outside address", "missing `:lo-hi`"))?;
    let outside = scan::ipv4(&mapped[..colon]).ok_or(bad("outside address", "not IPv4"))?;
    let ports = &mapped[colon + 1..];
    let dash = memchr::memchr(b'-', ports).ok_or(bad("port range", "expected `lo-hi`"))?;
    let lo = scan::port(&ports[..dash]).ok_or(bad("port range", "first port is not 0..65535"))?;
    let hi =
        scan::port(&ports[dash + 1..]).ok_or(bad("port range", "last port is not 0..65535"))?;
    let (lo, hi) = port_range(lo, hi)?;
    let (stamp, host) = header(input, at)?;
    let ev = EventParts {
        stamp,
        origin: TsOrigin::DeviceHeader,
        kind: EventKind::BlockAlloc,
        inside_ip: inside,
        outside_ip: outside,
        port_lo: lo,
        port_hi: hi,
    }
    .build(label(host), input.raw);
    out.push(ev);
    Ok(())
}

/// Reads `ip:port`, allowing the A10 quirk of a space after the colon (`1.2.3.4: 10000`).
fn endpoint<'a>(
    s: &'a [u8],
    field: &'static str,
) -> Result<((IpAddr, u16), &'a [u8]), LineErrorReason> {
    let s = &s[s.iter().position(|&c| c != b' ').unwrap_or(s.len())..];
    // The address ends at the last ':' before the port digits.
    let end = s
        .iter()
        .position(|&c| !(c.is_ascii_hexdigit() || c == b'.' || c == b':' || c == b' '))
        .unwrap_or(s.len());
    let chunk = &s[..end];
    let chunk = &chunk[..chunk
        .iter()
        .rposition(|c| c.is_ascii_digit())
        .map_or(0, |p| p + 1)];
    let colon = memchr::memrchr(b':', chunk).ok_or(bad(field, "expected `address:port`"))?;
    let ip = scan::ip(&chunk[..colon]).ok_or(bad(field, "not an IP address"))?;
    let port_txt = &chunk[colon + 1..];
    let port_txt = &port_txt[port_txt
        .iter()
        .position(|&c| c != b' ')
        .unwrap_or(port_txt.len())..];
    let port = scan::port(port_txt).ok_or(bad(field, "port is not 0..65535"))?;
    Ok(((ip, port), &s[chunk.len()..]))
}

fn parse_ascii(
    input: &Input<'_>,
    at: usize,
    proto: u8,
    ev: u8,
    rest: &[u8],
    out: &mut Vec<NatEvent>,
) -> Result<(), LineErrorReason> {
    let create = match ev {
        b'C' | b'B' => true,
        b'D' => false,
        b'U' => return Ok(()), // update: no new information for attribution
        _ => {
            return Err(bad(
                "event letter",
                "expected C, B, D or U after NAT-<proto>-",
            ));
        }
    };
    let session =
        scan::find(rest, b"<->").is_some_and(|p| rest.get(p.wrapping_sub(1)) != Some(&b'-'));
    let (inside, outside, dst, kind) = if session {
        // src:sport<->dst:dport, a:p<-->b:p
        let ((src, sport), r) = endpoint(rest, "forward source")?;
        let r = r
            .strip_prefix(b"<->")
            .ok_or(bad("session", "expected `<->` after the source"))?;
        let (server, r) = endpoint(r, "forward destination")?;
        let comma = memchr::memchr(b',', r)
            .ok_or(bad("session", "missing `,` before the reverse tuple"))?;
        let (a, r) = endpoint(&r[comma + 1..], "reverse source")?;
        let r = r
            .strip_prefix(b"<-->")
            .ok_or(bad("session", "expected `<-->` in the reverse tuple"))?;
        let (b, _) = endpoint(r, "reverse destination")?;
        let nat = if a == server { b } else { a };
        let kind = if create {
            EventKind::SessionOpen
        } else {
            EventKind::SessionClose
        };
        ((src, sport), nat, Some(server), kind)
    } else {
        let (inside, r) = endpoint(rest, "inside endpoint")?;
        let r = r.trim_ascii_start();
        let r = r
            .strip_prefix(b"<-->")
            .or_else(|| r.strip_prefix(b"->"))
            .ok_or(bad(
                "mapping",
                "expected `->` or `<-->` after the inside endpoint",
            ))?;
        let (outside, r) = endpoint(r, "outside endpoint")?;
        let dst = match r.trim_ascii_start().strip_prefix(b"to ") {
            Some(d) => Some(endpoint(d, "destination")?.0),
            None => None,
        };
        let kind = if create {
            EventKind::MappingOpen
        } else {
            EventKind::MappingClose
        };
        (inside, outside, dst, kind)
    };
    let outside_ip = outside_v4(outside.0, "NAT address")?;
    let (stamp, host) = header(input, at)?;
    let mut e = EventParts {
        stamp,
        origin: TsOrigin::DeviceHeader,
        kind,
        inside_ip: inside.0,
        outside_ip,
        port_lo: outside.1,
        port_hi: outside.1,
    }
    .build(label(host), input.raw);
    e.proto = Some(proto);
    e.inside_port = Some(inside.1);
    e.dst = dst;
    out.push(e);
    Ok(())
}
