//! Citrix ADC (NetScaler) LSN logs (research notes 1.8; support article 218017), default and
//! compact forms. Both carry their own time `MM/DD/YYYY:HH:MM:SS ZONE` and a traffic domain
//! (`TD`, Citrix's VRF):
//!
//! - default: `... LSN_ADDRPORT_MAPPING ... : A&PDM CREATED Client IP:Port:TD a:p:td,
//!   NatIP:NatPort n:p, Destination IP:Port:TD d:p:td, Protocol: TCP`
//! - compact: `... :A&PDMC|C-a:p:td|N- n:p|D-d:p:td|T` (last letter of the record type: C
//!   created, D deleted; last field the protocol initial).
//!
//! `A&PDM` is an address-and-port-dependent mapping, so these are mapping events.

use super::framing;
use super::scan;
use super::{EventParts, Input, bad, outside_v4};
use crate::natlog::event::{EventKind, NatEvent, TsOrigin, TsPrecision};
use crate::natlog::parse::LineErrorReason;
use crate::natlog::syslog::{self, LocalTime};
use std::net::IpAddr;

pub(super) fn sniff(line: &[u8]) -> bool {
    scan::find(line, b" LSN ").is_some() && scan::find(line, b"A&PDM").is_some()
}

/// `MM/DD/YYYY:HH:MM:SS ZONE` at the start of the line.
fn time(input: &Input<'_>, line: &[u8]) -> Result<crate::natlog::syslog::Stamp, LineErrorReason> {
    let err = LineErrorReason::Time("expected `MM/DD/YYYY:HH:MM:SS ZONE` at the start");
    let d = |r: std::ops::Range<usize>| line.get(r).and_then(scan::uint).ok_or(err);
    if line.get(2) != Some(&b'/') || line.get(5) != Some(&b'/') || line.get(10) != Some(&b':') {
        return Err(err);
    }
    let ((hour, minute, second), rest) =
        syslog::parse_hms(line.get(11..).ok_or(err)?).ok_or(err)?;
    let (zone_tok, _) = framing::next_token(rest).ok_or(err)?;
    let t = LocalTime {
        year: Some(i32::try_from(d(6..10)?).map_err(|_| err)?),
        month: u8::try_from(d(0..2)?).map_err(|_| err)?,
        day: u8::try_from(d(3..5)?).map_err(|_| err)?,
        hour,
        minute,
        second,
        nanos: 0,
        precision: TsPrecision::Sec,
        offset_s: syslog::fixed_abbrev_offset(zone_tok),
    };
    input.stamp(&t, b"")
}

/// `a.b.c.d:port[:td]` with optional spaces before.
fn endpoint(s: &[u8], field: &'static str) -> Result<(IpAddr, u16, u32), LineErrorReason> {
    let s = s.trim_ascii();
    let mut parts = s.split(|&c| c == b':');
    let ip = parts
        .next()
        .and_then(scan::ip)
        .ok_or(bad(field, "not an IPv4 address"))?;
    let port = parts
        .next()
        .and_then(scan::port)
        .ok_or(bad(field, "port is not 0..65535"))?;
    let td = match parts.next() {
        Some(t) => scan::u32_of(t).ok_or(bad(field, "traffic domain is not a number"))?,
        None => 0,
    };
    Ok((ip, port, td))
}

pub(super) fn parse(input: &Input<'_>, out: &mut Vec<NatEvent>) -> Result<(), LineErrorReason> {
    let line = input.line;
    let at = scan::find(line, b"A&PDM").ok_or(LineErrorReason::NotNat)?;
    let body = &line[at + 5..];
    let (kind, client, nat, dst, proto) = if let Some(rest) = body.strip_prefix(b" ") {
        // default form
        let kind = if rest.starts_with(b"CREATED") {
            EventKind::MappingOpen
        } else if rest.starts_with(b"DELETED") || rest.starts_with(b"REMOVED") {
            EventKind::MappingClose
        } else {
            return Ok(()); // other mapping states carry no new holder
        };
        let field = |key: &[u8], name| -> Result<&[u8], LineErrorReason> {
            let s = scan::find(rest, key)
                .map(|p| &rest[p + key.len()..])
                .ok_or(bad(name, "missing"))?;
            Ok(&s[..s.iter().position(|&c| c == b',').unwrap_or(s.len())])
        };
        let client = endpoint(field(b"Client IP:Port:TD ", "client")?, "client")?;
        let nat = endpoint(field(b"NatIP:NatPort ", "NAT address")?, "NAT address")?;
        let dst = field(b"Destination IP:Port:TD ", "destination")
            .ok()
            .and_then(|d| endpoint(d, "destination").ok());
        let proto = field(b"Protocol: ", "protocol")
            .ok()
            .and_then(|p| scan::proto(p.trim_ascii()));
        (kind, client, nat, dst, proto)
    } else {
        // compact form: A&PDMC|C-...|N- ...|D-...|T
        let kind = match body.first() {
            Some(b'C') => EventKind::MappingOpen,
            Some(b'D') => EventKind::MappingClose,
            _ => return Ok(()),
        };
        let mut client = None;
        let mut nat = None;
        let mut dst = None;
        let mut proto = None;
        for f in body.split(|&c| c == b'|').skip(1) {
            match f {
                [b'C', b'-', rest @ ..] => client = Some(endpoint(rest, "client")?),
                [b'N', b'-', rest @ ..] => nat = Some(endpoint(rest, "NAT address")?),
                [b'D', b'-', rest @ ..] => dst = endpoint(rest, "destination").ok(),
                [b'T'] => proto = Some(6),
                [b'U'] => proto = Some(17),
                [b'I'] => proto = Some(1),
                _ => {}
            }
        }
        (
            kind,
            client.ok_or(bad("client", "missing `C-`"))?,
            nat.ok_or(bad("NAT address", "missing `N-`"))?,
            dst,
            proto,
        )
    };
    let stamp = time(input, line)?;
    let mut ev = EventParts {
        stamp,
        origin: TsOrigin::DeviceBody,
        kind,
        inside_ip: client.0,
        outside_ip: outside_v4(nat.0, "NAT address")?,
        port_lo: nat.1,
        port_hi: nat.1,
    }
    .build(None, input.raw);
    ev.inside_port = Some(client.1);
    ev.inside_vrf = client.2;
    ev.outside_vrf = nat.2;
    ev.dst = dst.map(|(ip, p, _)| (ip, p));
    ev.proto = proto;
    out.push(ev);
    Ok(())
}
