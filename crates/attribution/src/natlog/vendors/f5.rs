//! F5 BIG-IP CGNAT LSN session log (research notes 1.4):
//! `<header> host LSN_ADD client%rd:port proto nat%rd:port dst dport`. The `%N` suffix is the
//! route domain, F5's VRF; it becomes `inside_vrf` / `outside_vrf`. `LSN_INBOUND_*` are inbound
//! mappings (an outside host reaching the subscriber through the same translation). The PBA
//! event names (`LSN_PB_*`) are not confirmed by any sample we have, so they are not parsed.

use super::scan;
use super::{EventParts, Input, bad, bsd_header, label, outside_v4};
use crate::natlog::event::{EventKind, NatEvent, TsOrigin};
use crate::natlog::parse::LineErrorReason;
use std::net::IpAddr;

const TAGS: [(&[u8], EventKind); 4] = [
    (b"LSN_INBOUND_ADD ", EventKind::MappingOpen),
    (b"LSN_INBOUND_DELETE ", EventKind::MappingClose),
    (b"LSN_ADD ", EventKind::SessionOpen),
    (b"LSN_DELETE ", EventKind::SessionClose),
];

pub(super) fn sniff(line: &[u8]) -> bool {
    scan::find(line, b"LSN_ADD ").is_some()
        || scan::find(line, b"LSN_DELETE ").is_some()
        || scan::find(line, b"LSN_INBOUND_").is_some()
}

/// Reads `address%routedomain:port` (the route domain is optional).
fn rd_endpoint(tok: &[u8], field: &'static str) -> Result<(IpAddr, u32, u16), LineErrorReason> {
    let colon = memchr::memrchr(b':', tok).ok_or(bad(field, "expected `address%rd:port`"))?;
    let port = scan::port(&tok[colon + 1..]).ok_or(bad(field, "port is not 0..65535"))?;
    let addr = &tok[..colon];
    let (ip, rd) = match memchr::memchr(b'%', addr) {
        Some(p) => (
            &addr[..p],
            scan::u32_of(&addr[p + 1..]).ok_or(bad(field, "route domain is not a number"))?,
        ),
        None => (addr, 0),
    };
    Ok((
        scan::ip(ip).ok_or(bad(field, "not an IP address"))?,
        rd,
        port,
    ))
}

pub(super) fn parse(input: &Input<'_>, out: &mut Vec<NatEvent>) -> Result<(), LineErrorReason> {
    let line = input.line;
    let (at, tag, kind) = TAGS
        .iter()
        .find_map(|(t, k)| scan::find(line, t).map(|p| (p, *t, *k)))
        .ok_or(LineErrorReason::NotNat)?;
    let mut f = scan::tokens(&line[at + tag.len()..]);
    let (client, client_rd, client_port) =
        rd_endpoint(f.next().ok_or(bad("client", "missing"))?, "client")?;
    let proto = scan::proto(f.next().ok_or(bad("protocol", "missing"))?)
        .ok_or(bad("protocol", "not a protocol"))?;
    let (nat, nat_rd, nat_port) = rd_endpoint(
        f.next().ok_or(bad("translation", "missing"))?,
        "translation",
    )?;
    let dst = match (f.next(), f.next()) {
        (Some(ip), Some(port)) => Some((
            scan::ip(ip).ok_or(bad("destination address", "not an IP address"))?,
            scan::port(port).ok_or(bad("destination port", "not 0..65535"))?,
        )),
        _ => None,
    };
    let outside = outside_v4(nat, "translation")?;
    let prefix = &line[..at];
    let host = prefix
        .split(|&c| c == b' ')
        .rfind(|t| !t.is_empty())
        .unwrap_or(b"");
    let (t, _, _) =
        bsd_header(prefix).ok_or(LineErrorReason::Time("no syslog header time before LSN_"))?;
    let stamp = input.stamp(&t, host)?;
    let mut ev = EventParts {
        stamp,
        origin: TsOrigin::DeviceHeader,
        kind,
        inside_ip: client,
        outside_ip: outside,
        port_lo: nat_port,
        port_hi: nat_port,
    }
    .build(label(host), input.raw);
    ev.proto = Some(proto);
    ev.inside_port = Some(client_port);
    ev.inside_vrf = client_rd;
    ev.outside_vrf = nat_rd;
    ev.dst = dst;
    out.push(ev);
    Ok(())
}
