//! Linux conntrack events as printed by `conntrack -E -o timestamp` (research notes 1.6):
//! `[epoch.usec]\t [NEW] tcp 6 120 SYN_SENT src=.. dst=.. sport=.. dport=.. [UNREPLIED]
//! src=.. dst=.. sport=.. dport=..`. The original tuple's source is the subscriber; the reply
//! tuple's destination is the translated (public) address and port. A flow whose reply
//! destination equals its original source was not source-NATed and gives no event.
//! `[UPDATE]` lines add nothing for attribution.

use super::scan;
use super::{EventParts, Input, bad, outside_v4};
use crate::natlog::event::{EventKind, NatEvent, TsOrigin, TsPrecision};
use crate::natlog::parse::LineErrorReason;
use crate::natlog::syslog::Stamp;

pub(super) fn sniff(line: &[u8]) -> bool {
    (scan::find(line, b"[NEW]").is_some()
        || scan::find(line, b"[DESTROY]").is_some()
        || scan::find(line, b"[UPDATE]").is_some())
        && scan::find(line, b" src=").is_some()
}

/// Reads the `[seconds.micros]` prefix as UTC (the kernel's clock; no zone involved).
fn timestamp(line: &[u8]) -> Result<(Stamp, &[u8]), LineErrorReason> {
    let s = line.trim_ascii_start();
    let body = s.strip_prefix(b"[").ok_or(LineErrorReason::Time(
        "missing `[seconds.micros]` prefix (use conntrack -o timestamp)",
    ))?;
    let close = memchr::memchr(b']', body)
        .ok_or(LineErrorReason::Time("unterminated `[seconds.micros]`"))?;
    let ts = &body[..close];
    let (secs, frac) = match memchr::memchr(b'.', ts) {
        Some(d) => (&ts[..d], &ts[d + 1..]),
        None => (ts, &b""[..]),
    };
    let secs = scan::uint(secs)
        .and_then(|v| i64::try_from(v).ok())
        .ok_or(LineErrorReason::Time("seconds are not a number"))?;
    // `%-6lu`: left-aligned, possibly space-padded microseconds.
    let frac = frac.trim_ascii();
    if frac.len() > 9 {
        return Err(LineErrorReason::Time("fraction longer than nanoseconds"));
    }
    let mut ns: i64 = 0;
    for (i, &c) in frac.iter().enumerate() {
        if !c.is_ascii_digit() {
            return Err(LineErrorReason::Time("fraction is not a number"));
        }
        ns += i64::from(c - b'0') * 10i64.pow(8 - u32::try_from(i).unwrap_or(8));
    }
    let utc_ns = secs
        .checked_mul(1_000_000_000)
        .and_then(|v| v.checked_add(ns))
        .ok_or(LineErrorReason::Time("out of range"))?;
    Ok((
        Stamp {
            utc_ns,
            precision: TsPrecision::MicroSec,
            tz_assumed: false,
        },
        &body[close + 1..],
    ))
}

pub(super) fn parse(input: &Input<'_>, out: &mut Vec<NatEvent>) -> Result<(), LineErrorReason> {
    let (stamp, rest) = timestamp(input.line)?;
    let mut toks = scan::tokens(rest);
    let kind = match toks.next() {
        Some(b"[NEW]") => EventKind::SessionOpen,
        Some(b"[DESTROY]") => EventKind::SessionClose,
        Some(b"[UPDATE]") => return Ok(()),
        _ => return Err(bad("event type", "expected [NEW], [UPDATE] or [DESTROY]")),
    };
    // `-o extended` adds the layer-3 name and number first: `ipv4 2 tcp 6 ...`.
    let mut name = toks.next();
    if matches!(name, Some(b"ipv4" | b"ipv6")) {
        let _l3 = toks.next();
        name = toks.next();
    }
    let _ = name;
    let proto = toks
        .next()
        .and_then(scan::byte)
        .ok_or(bad("protocol", "expected `name number`"))?;
    let (mut src, mut dst, mut sport, mut dport) = ([None; 2], [None; 2], [None; 2], [None; 2]);
    let mut seen_src = 0usize;
    for t in toks {
        let Some(eq) = memchr::memchr(b'=', t) else {
            continue;
        };
        let (k, v) = (&t[..eq], &t[eq + 1..]);
        // A second `src=` starts the reply tuple.
        let i = match k {
            b"src" => {
                seen_src += 1;
                seen_src.saturating_sub(1)
            }
            _ => seen_src.saturating_sub(1),
        };
        if i > 1 {
            break;
        }
        match k {
            b"src" => src[i] = Some(scan::ip(v).ok_or(bad("src", "not an IP address"))?),
            b"dst" => dst[i] = Some(scan::ip(v).ok_or(bad("dst", "not an IP address"))?),
            b"sport" => sport[i] = Some(scan::port(v).ok_or(bad("sport", "not 0..65535"))?),
            b"dport" => dport[i] = Some(scan::port(v).ok_or(bad("dport", "not 0..65535"))?),
            _ => {}
        }
    }
    let inside = src[0].ok_or(bad("src", "missing original source"))?;
    let public = dst[1].ok_or(bad("dst", "missing reply tuple"))?;
    // ICMP has no ports: conntrack prints type/code/id instead, so there is nothing to attribute
    // by port; such lines are skipped rather than invented.
    let (Some(inside_port), Some(public_port)) = (sport[0], dport[1]) else {
        return Ok(());
    };
    if public == inside && public_port == inside_port {
        return Ok(());
    }
    let outside = outside_v4(public, "reply dst")?;
    let mut ev = EventParts {
        stamp,
        origin: TsOrigin::DeviceHeader,
        kind,
        inside_ip: inside,
        outside_ip: outside,
        port_lo: public_port,
        port_hi: public_port,
    }
    .build(None, input.raw);
    ev.proto = Some(proto);
    ev.inside_port = Some(inside_port);
    ev.dst = dst[0].zip(dport[0]);
    out.push(ev);
    Ok(())
}
