//! Nokia 7750 SR (BB-ISA / ESA) NAT flow syslog (research notes 1.5; Nokia "Syslog flow
//! logging", 7750 SR 22.7):
//! `<PRI> MMM DD HH:MM:SS <host> <log-prefix>: <seq> NAT [<MDA>]: <event> [<event>...]`, each
//! event `LSN44|NAT64 SADD|SDEL <Year> <Mon> <Day> <hh:mm:ss:cs> <TZ> <fields>`.
//!
//! The header time is local; each event has its own centisecond time with a 1–5 character zone
//! designator that switches to the DST designator in summer. The designator is read against the
//! exporter's configured zone (so `CET`/`CEST` picks the right side of the autumn overlap), then
//! against a short table of unambiguous names; only when neither knows it is the zone assumed.
//!
//! The order of the fields after the designator is not in our sources (research notes mark it
//! unconfirmed), so they are read by type, not by position: the protocol first, then addresses
//! in order inside, outside, destination, each written `ip:port` or `ip port`; a bare number
//! before the inside or outside address is that side's router (service) id.

use super::framing;
use super::scan;
use super::{EventParts, Input, bad, bsd_header, label, outside_v4};
use crate::natlog::event::{EventKind, Label, NatEvent, TsOrigin, TsPrecision};
use crate::natlog::parse::LineErrorReason;
use crate::natlog::syslog::{self, LocalTime, Stamp};
use std::net::IpAddr;

pub(super) fn sniff(line: &[u8]) -> bool {
    scan::find(line, b" NAT [").is_some()
        && (scan::find(line, b"LSN44 S").is_some() || scan::find(line, b"NAT64 S").is_some())
}

/// Finds the next event start (`LSN44 ` or `NAT64 ` as a whole token) at or after `from`.
fn next_event(msg: &[u8], from: usize) -> Option<usize> {
    let s = msg.get(from..)?;
    let a = scan::find(s, b"LSN44 S");
    let b = scan::find(s, b"NAT64 S");
    let p = match (a, b) {
        (Some(x), Some(y)) => x.min(y),
        (x, y) => x.or(y)?,
    };
    Some(from + p)
}

pub(super) fn parse(input: &Input<'_>, out: &mut Vec<NatEvent>) -> Result<(), LineErrorReason> {
    let line = input.line;
    let (_, host, rest) =
        bsd_header(line).ok_or(LineErrorReason::Time("no `MMM DD HH:MM:SS host` header"))?;
    // `<log-prefix>: <seq> NAT [<MDA>]: `
    let colon = memchr::memchr(b':', rest).ok_or(bad("log prefix", "missing `<prefix>: <seq>`"))?;
    let (seq_tok, _) =
        framing::next_token(&rest[colon + 1..]).ok_or(bad("sequence number", "missing"))?;
    let seq = scan::uint(seq_tok).ok_or(bad("sequence number", "not a number"))?;
    let msg_at = scan::find(rest, b"]: ").ok_or(bad("subject", "missing `NAT [<MDA>]: `"))? + 3;
    let msg = &rest[msg_at..];
    let exporter = label(host);
    let mut start = next_event(msg, 0).ok_or(bad("event", "no LSN44/NAT64 SADD/SDEL event"))?;
    loop {
        let end = next_event(msg, start + 6).unwrap_or(msg.len());
        let mut ev = event(input, &msg[start..end], host, exporter.clone())?;
        ev.seq = Some(seq);
        out.push(ev);
        if end == msg.len() {
            return Ok(());
        }
        start = end;
    }
}

/// Reads `<Year> <Mon> <Day> <hh:mm:ss:cs> <TZ>` and resolves it.
fn event_time(input: &Input<'_>, s: &[u8], host: &[u8]) -> Result<(Stamp, usize), LineErrorReason> {
    let mut toks = scan::tokens(s);
    let err = LineErrorReason::Time("expected `<Year> <Mon> <Day> <hh:mm:ss:cs> <TZ>`");
    let year = toks
        .next()
        .and_then(scan::uint)
        .and_then(|y| i32::try_from(y).ok())
        .ok_or(err)?;
    let month = toks.next().and_then(syslog::month_from_abbrev).ok_or(err)?;
    let day = toks.next().and_then(scan::byte).ok_or(err)?;
    let hms = toks.next().ok_or(err)?;
    let ((hour, minute, second), cs) = syslog::parse_hms(hms).ok_or(err)?;
    let cs = cs
        .strip_prefix(b":")
        .and_then(scan::uint)
        .filter(|c| *c < 100)
        .ok_or(err)?;
    let tz = toks
        .next()
        .filter(|t| (1..=5).contains(&t.len()))
        .ok_or(err)?;
    let t = LocalTime {
        year: Some(year),
        month,
        day,
        hour,
        minute,
        second,
        nanos: u32::try_from(cs).unwrap_or(0) * 10_000_000,
        precision: TsPrecision::CentiSec,
        offset_s: None,
    };
    let zone = input.ctx.zone_for(host);
    // Unambiguous names first (no zone lookup on the hot path), then the exporter's zone.
    let offset =
        syslog::fixed_abbrev_offset(tz).or_else(|| syslog::abbrev_offset_in_zone(zone, &t, tz));
    let t = LocalTime {
        offset_s: offset,
        ..t
    };
    let cache = Some(&input.ctx.zone_cache);
    let stamp = syslog::resolve_cached(&t, zone, input.ctx.reference_s, cache)
        .map_err(LineErrorReason::Time)?;
    // Byte length consumed: up to and including the TZ token.
    let used = tz.as_ptr() as usize - s.as_ptr() as usize + tz.len();
    Ok((stamp, used))
}

/// One endpoint or router id read from the fields.
enum Field {
    Addr(IpAddr, Option<u16>),
    Number(u64),
}

fn fields(s: &[u8]) -> impl Iterator<Item = Field> + '_ {
    scan::tokens(s).filter_map(|t| {
        if let Some(n) = scan::uint(t) {
            return Some(Field::Number(n));
        }
        if let Some(ip) = scan::ip(t) {
            return Some(Field::Addr(ip, None));
        }
        scan::addr_port(t, b':').map(|(ip, p)| Field::Addr(ip, Some(p)))
    })
}

type Endpoint = (IpAddr, u16);

/// Parses one event (`LSN44 SADD <time> <TZ> <fields>`).
fn event(
    input: &Input<'_>,
    ev: &[u8],
    host: &[u8],
    exporter: Option<Label>,
) -> Result<NatEvent, LineErrorReason> {
    // `ev` starts with `LSN44 S` or `NAT64 S` (7 bytes), see `next_event`.
    let body = ev.get(6..).unwrap_or_default();
    let kind = if body.starts_with(b"SADD ") {
        EventKind::SessionOpen
    } else if body.starts_with(b"SDEL ") {
        EventKind::SessionClose
    } else {
        return Err(bad("event name", "expected SADD or SDEL"));
    };
    let timed = &body[5..];
    let (stamp, used) = event_time(input, timed, host)?;
    let (proto_tok, rest) =
        framing::next_token(&timed[used..]).ok_or(bad("protocol", "missing"))?;
    let proto = scan::proto(proto_tok).ok_or(bad("protocol", "not a protocol name or number"))?;
    let mut eps: [Option<Endpoint>; 3] = [None; 3];
    let mut routers = [0u32; 2];
    let mut n = 0usize;
    let mut pending: Option<IpAddr> = None;
    for f in fields(rest) {
        match (f, pending) {
            (Field::Number(p), Some(ip)) => {
                let port = u16::try_from(p).map_err(|_| bad("port", "not 0..65535"))?;
                if let Some(slot) = eps.get_mut(n) {
                    *slot = Some((ip, port));
                }
                n += 1;
                pending = None;
            }
            (Field::Number(r), None) => {
                if let Some(slot) = routers.get_mut(n) {
                    *slot = u32::try_from(r).map_err(|_| bad("router id", "too large"))?;
                }
            }
            (Field::Addr(ip, Some(port)), None) => {
                if let Some(slot) = eps.get_mut(n) {
                    *slot = Some((ip, port));
                }
                n += 1;
            }
            (Field::Addr(ip, None), None) => pending = Some(ip),
            (Field::Addr(..), Some(_)) => return Err(bad("address", "address without a port")),
        }
    }
    let inside = eps[0].ok_or(bad("inside address", "missing `ip port`"))?;
    let outside = eps[1].ok_or(bad("outside address", "missing `ip port`"))?;
    let mut e = EventParts {
        stamp,
        origin: TsOrigin::DeviceBody,
        kind,
        inside_ip: inside.0,
        outside_ip: outside_v4(outside.0, "outside address")?,
        port_lo: outside.1,
        port_hi: outside.1,
    }
    .build(exporter, input.raw);
    e.proto = Some(proto);
    e.inside_port = Some(inside.1);
    e.inside_vrf = routers[0];
    e.outside_vrf = routers[1];
    e.dst = eps[2];
    Ok(e)
}
