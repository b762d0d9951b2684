//! 6WIND vSR `fp-cgnat` (research notes 1.8, lines quoted in cgn-ec's handler):
//! `NEW CONN: fwd proto P in:port -> dst:port, back proto P dst:port --> nat:port` (per session:
//! the back tuple's destination is the translated address) and
//! `USER in (matching rule N): NEW BLOCK (pool "x", ip public a.b.c.d, proto P, port lo - hi)`.
//! Only these creation messages are confirmed; their counterparts are not parsed rather than
//! guessed, so intervals stay open until the pairing closes them.

use super::framing;
use super::scan;
use super::{EventParts, Input, bad, bsd_header, label, outside_v4, port_range};
use crate::natlog::event::{EventKind, NatEvent, TsOrigin};
use crate::natlog::parse::LineErrorReason;

const TAG: &[u8] = b"fp-cgnat[";

pub(super) fn sniff(line: &[u8]) -> bool {
    scan::find(line, TAG).is_some()
}

pub(super) fn parse(input: &Input<'_>, out: &mut Vec<NatEvent>) -> Result<(), LineErrorReason> {
    let line = input.line;
    let at = scan::find(line, TAG).ok_or(LineErrorReason::NotNat)?;
    let (t, host, _) = bsd_header(&line[..at]).ok_or(LineErrorReason::Time(
        "no syslog header time before fp-cgnat",
    ))?;
    let msg = &line[at..];
    let stamp = input.stamp(&t, host)?;
    if let Some(p) = scan::find(msg, b"NEW CONN: ") {
        return conn(input, &msg[p + 10..], stamp, host, out);
    }
    if let Some(p) = scan::find(msg, b"NEW BLOCK (") {
        let user = scan::find(msg, b"USER ").ok_or(bad("user", "missing `USER <address>`"))?;
        let (inside, _) =
            framing::next_token(&msg[user + 5..]).ok_or(bad("user", "missing address"))?;
        let inside = scan::ip(inside).ok_or(bad("user", "not an IP address"))?;
        let body = &msg[p + 11..];
        let public = value_after(body, b"ip public ").ok_or(bad("ip public", "missing"))?;
        let public = scan::ipv4(public).ok_or(bad("ip public", "not IPv4"))?;
        let proto = value_after(body, b"proto ").and_then(scan::byte);
        let ports = scan::find(body, b"port ")
            .map(|p| &body[p + 5..])
            .ok_or(bad("port", "missing"))?;
        let mut toks = scan::tokens(ports);
        let lo = toks
            .next()
            .and_then(scan::port)
            .ok_or(bad("port", "first port is not 0..65535"))?;
        if toks.next() != Some(b"-") {
            return Err(bad("port", "expected `lo - hi`"));
        }
        let hi = toks
            .next()
            .map(|t| t.strip_suffix(b")").unwrap_or(t))
            .and_then(scan::port)
            .ok_or(bad("port", "last port is not 0..65535"))?;
        let (lo, hi) = port_range(lo, hi)?;
        let mut ev = EventParts {
            stamp,
            origin: TsOrigin::DeviceHeader,
            kind: EventKind::BlockAlloc,
            inside_ip: inside,
            outside_ip: public,
            port_lo: lo,
            port_hi: hi,
        }
        .build(label(host), input.raw);
        ev.proto = proto;
        out.push(ev);
        return Ok(());
    }
    // Other fp-cgnat messages (pool state, block release wording not confirmed): no event.
    Ok(())
}

/// The value after `key` up to the next `,` or `)`.
fn value_after<'a>(s: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let start = scan::find(s, key)? + key.len();
    let rest = &s[start..];
    let end = rest
        .iter()
        .position(|&c| c == b',' || c == b')')
        .unwrap_or(rest.len());
    Some(rest[..end].trim_ascii())
}

fn conn(
    input: &Input<'_>,
    s: &[u8],
    stamp: crate::natlog::syslog::Stamp,
    host: &[u8],
    out: &mut Vec<NatEvent>,
) -> Result<(), LineErrorReason> {
    // fwd proto 6 a:p -> b:q, back proto 6 b:q --> n:r
    let mut toks = scan::tokens(s);
    if toks.next() != Some(b"fwd") || toks.next() != Some(b"proto") {
        return Err(bad("forward tuple", "expected `fwd proto <n>`"));
    }
    let proto = toks
        .next()
        .and_then(scan::byte)
        .ok_or(bad("protocol", "not a number"))?;
    let src = toks
        .next()
        .and_then(|t| scan::addr_port(t, b':'))
        .ok_or(bad("forward source", "expected `address:port`"))?;
    if toks.next() != Some(b"->") {
        return Err(bad("forward tuple", "expected `->`"));
    }
    let dst_tok = toks.next().ok_or(bad("forward destination", "missing"))?;
    let dst = scan::addr_port(dst_tok.strip_suffix(b",").unwrap_or(dst_tok), b':')
        .ok_or(bad("forward destination", "expected `address:port`"))?;
    let nat = toks
        .skip_while(|t| *t != b"-->")
        .nth(1)
        .and_then(|t| scan::addr_port(t, b':'))
        .ok_or(bad("back tuple", "expected `--> address:port`"))?;
    let outside = outside_v4(nat.0, "back tuple")?;
    let mut ev = EventParts {
        stamp,
        origin: TsOrigin::DeviceHeader,
        kind: EventKind::SessionOpen,
        inside_ip: src.0,
        outside_ip: outside,
        port_lo: nat.1,
        port_hi: nat.1,
    }
    .build(label(host), input.raw);
    ev.proto = Some(proto);
    ev.inside_port = Some(src.1);
    ev.dst = Some(dst);
    out.push(ev);
    Ok(())
}
