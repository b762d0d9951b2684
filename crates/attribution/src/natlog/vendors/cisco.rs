//! Cisco IOS-XR CGN syslog (research notes 1.2a) and the identical Huawei NE "type3" layout.
//!
//! One message carries several `[...]` records, all from the same second, after a header
//! `1 YYYY Mmm DD HH:MM:SS host ...` (RFC 5424 framing "except for the timestamp format": no
//! zone, so the exporter's zone is assumed). Cisco records are
//! `[Event L4 OrigIP InsideVRF OrigIPv6 XlatIP OrigPort XlatFirstPort XlatLastPort [DstIP DstPort]]`
//! with `-` for fields that do not apply (bulk port allocation has no L4). Huawei puts the event
//! name before the bracket (`NAT444:SessionbasedA [L4 IP IPv6 XlatIP OrigPort XlatPort -]`).

use super::framing;
use super::scan;
use super::{EventParts, Input, bad, label, port_range};
use crate::natlog::event::{EventKind, NatEvent, TsOrigin};
use crate::natlog::parse::LineErrorReason;
use crate::natlog::syslog;
use std::net::IpAddr;

pub(super) fn sniff(line: &[u8]) -> bool {
    scan::find(line, b"basedA").is_some()
        || scan::find(line, b"basedW").is_some()
        || scan::find(line, b"[Portblockrunout").is_some()
}

fn kind_of(name: &[u8]) -> Option<Option<EventKind>> {
    Some(match name {
        b"UserbasedA" => Some(EventKind::BlockAlloc),
        b"UserbasedW" => Some(EventKind::BlockRelease),
        b"SessionbasedA" | b"SessionbasedAD" => Some(EventKind::SessionOpen),
        b"SessionbasedW" | b"SessionbasedWD" => Some(EventKind::SessionClose),
        // Diagnostic only: recognised, never an interval.
        b"Portblockrunout" => None,
        _ => return None,
    })
}

fn opt(t: Option<&[u8]>) -> Option<&[u8]> {
    t.filter(|t| *t != b"-")
}

pub(super) fn parse(input: &Input<'_>, out: &mut Vec<NatEvent>) -> Result<(), LineErrorReason> {
    let line = input.line;
    let s = framing::strip_pri(line);
    let s = s.strip_prefix(b"1 ").unwrap_or(s);
    let (t, rest) = syslog::parse_year_month_day_time(s)
        .or_else(|| syslog::parse_bsd_time(s))
        .ok_or(LineErrorReason::Time(
            "expected `YYYY Mmm DD HH:MM:SS` after the priority",
        ))?;
    let (host, _) = framing::next_token(rest).ok_or(bad("host", "missing"))?;
    let stamp = input.stamp(&t, host)?;
    let exporter = label(host);
    let first = memchr::memchr(b'[', rest).ok_or(bad("record", "no `[...]` record"))?;
    // Huawei: the event name is the token before the first bracket, after a `:`.
    let outer_name = rest[..first]
        .split(|&c| c == b' ')
        .rfind(|t| !t.is_empty())
        .and_then(|t| memchr::memrchr(b':', t).map(|p| &t[p + 1..]))
        .filter(|n| kind_of(n).is_some());
    let mut body = &rest[first..];
    let mut records = 0usize;
    while let Some(open) = memchr::memchr(b'[', body) {
        let close = memchr::memchr(b']', &body[open..])
            .ok_or(bad("record", "`[` without a closing `]`"))?
            + open;
        record(
            input,
            &body[open + 1..close],
            outer_name,
            stamp,
            exporter.clone(),
            out,
        )?;
        records += 1;
        body = &body[close + 1..];
    }
    if records == 0 {
        return Err(bad("record", "no `[...]` record"));
    }
    Ok(())
}

fn record(
    input: &Input<'_>,
    rec: &[u8],
    outer_name: Option<&[u8]>,
    stamp: crate::natlog::syslog::Stamp,
    exporter: Option<crate::natlog::event::Label>,
    out: &mut Vec<NatEvent>,
) -> Result<(), LineErrorReason> {
    let mut f = scan::tokens(rec);
    let name = match outer_name {
        Some(n) => n,
        None => f.next().ok_or(bad("record", "empty"))?,
    };
    let Some(kind) =
        kind_of(name).ok_or(bad("event name", "expected Userbased/Sessionbased A/W"))?
    else {
        return Ok(());
    };
    let l4 = opt(f.next());
    let v4 = opt(f.next());
    let vrf = if outer_name.is_none() {
        opt(f.next())
    } else {
        None
    };
    let v6 = opt(f.next());
    let xlat = opt(f.next()).ok_or(bad("translated address", "missing"))?;
    let orig_port = opt(f.next());
    let first_port = opt(f.next()).ok_or(bad("translated port", "missing"))?;
    let last_port = opt(f.next());
    let dst_ip = opt(f.next());
    let dst_port = opt(f.next());

    let proto = match l4 {
        Some(p) => Some(scan::byte(p).ok_or(bad("L4 protocol", "not a protocol number"))?),
        None => None,
    };
    let v4 = match v4 {
        Some(a) => Some(scan::ipv4(a).ok_or(bad("original source address", "not IPv4"))?),
        None => None,
    };
    let v6 = match v6 {
        Some(a) => Some(scan::ipv6(a).ok_or(bad("original source IPv6", "not IPv6"))?),
        None => None,
    };
    let inside_ip = match (v4, v6) {
        (Some(a), _) => IpAddr::V4(a),
        (None, Some(b)) => IpAddr::V6(b),
        (None, None) => {
            return Err(bad(
                "original source address",
                "neither IPv4 nor IPv6 given",
            ));
        }
    };
    let outside = scan::ipv4(xlat).ok_or(bad("translated address", "not IPv4"))?;
    let lo = scan::port(first_port).ok_or(bad("translated port", "not 0..65535"))?;
    let hi = match last_port {
        Some(p) => scan::port(p).ok_or(bad("translated last port", "not 0..65535"))?,
        None => lo,
    };
    let (lo, hi) = port_range(lo, hi)?;
    let mut ev = EventParts {
        stamp,
        origin: TsOrigin::DeviceHeader,
        kind,
        inside_ip,
        outside_ip: outside,
        port_lo: lo,
        port_hi: hi,
    }
    .build(exporter, input.raw);
    ev.proto = proto;
    // DS-Lite: both an IPv4 inside address and the B4's IPv6 softwire source.
    if v4.is_some() {
        ev.b4_ipv6 = v6;
    }
    ev.inside_vrf = vrf.and_then(scan::u32_of).unwrap_or(0);
    if !matches!(kind, EventKind::BlockAlloc | EventKind::BlockRelease) {
        ev.inside_port = orig_port.and_then(scan::port);
    }
    if let (Some(ip), Some(p)) = (dst_ip, dst_port) {
        ev.dst = Some((
            scan::ip(ip).ok_or(bad("destination address", "not an IP address"))?,
            scan::port(p).ok_or(bad("destination port", "not 0..65535"))?,
        ));
    }
    out.push(ev);
    Ok(())
}
