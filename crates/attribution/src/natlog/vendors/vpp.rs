//! FD.io VPP NAT syslog (research notes 1.7, from `nat_syslog.c`): RFC 5424, APP-NAME `NAT`,
//! MSGID `SADD`/`SDEL` (SD-ID `nsess`) or `APMADD`/`APMDEL` (`napmap`), parameters after
//! draft-ietf-behave-syslog-nat-logging: `SSUBIX` subscriber index, `SVLAN` inside FIB or
//! `SV6ENC` DS-Lite B4, `ISADDR`/`ISPORT` inside, `XSADDR`/`XSPORT` translated, `PROTO`,
//! `XDADDR`/`XDPORT` destination.

use super::framing::{self, SdParams};
use super::scan;
use super::{EventParts, Input, bad, label, outside_v4};
use crate::natlog::event::{EventKind, Label, NatEvent, TsOrigin};
use crate::natlog::parse::LineErrorReason;

pub(super) fn sniff(line: &[u8]) -> bool {
    scan::find(line, b"[nsess ").is_some() || scan::find(line, b"[napmap ").is_some()
}

pub(super) fn parse(input: &Input<'_>, out: &mut Vec<NatEvent>) -> Result<(), LineErrorReason> {
    let h = framing::parse_rfc5424(input.line).ok_or(LineErrorReason::NotNat)?;
    let kind = match h.msgid {
        b"SADD" => EventKind::SessionOpen,
        b"SDEL" => EventKind::SessionClose,
        b"APMADD" => EventKind::MappingOpen,
        b"APMDEL" => EventKind::MappingClose,
        _ => return Err(LineErrorReason::NotNat),
    };
    let (
        mut sub,
        mut vrf,
        mut b4,
        mut isaddr,
        mut isport,
        mut xsaddr,
        mut xsport,
        mut proto,
        mut xd,
        mut xdp,
    ) = (None, 0u32, None, None, None, None, None, None, None, None);
    for (k, v) in SdParams::new(h.rest) {
        match k {
            b"SSUBIX" => {
                sub = std::str::from_utf8(v)
                    .ok()
                    .filter(|s| !s.is_empty() && s.len() <= 64)
                    .map(Label::new)
            }
            b"SVLAN" => vrf = scan::u32_of(v).ok_or(bad("SVLAN", "not a number"))?,
            b"SV6ENC" => b4 = Some(scan::ipv6(v).ok_or(bad("SV6ENC", "not an IPv6 address"))?),
            b"ISADDR" => isaddr = Some(scan::ip(v).ok_or(bad("ISADDR", "not an IP address"))?),
            b"ISPORT" => isport = Some(scan::port(v).ok_or(bad("ISPORT", "not 0..65535"))?),
            b"XSADDR" => xsaddr = Some(scan::ip(v).ok_or(bad("XSADDR", "not an IP address"))?),
            b"XSPORT" => xsport = Some(scan::port(v).ok_or(bad("XSPORT", "not 0..65535"))?),
            b"PROTO" => proto = Some(scan::byte(v).ok_or(bad("PROTO", "not a protocol number"))?),
            b"XDADDR" => xd = scan::ip(v),
            b"XDPORT" => xdp = scan::port(v),
            _ => {}
        }
    }
    let inside = isaddr.ok_or(bad("ISADDR", "missing"))?;
    let outside = outside_v4(xsaddr.ok_or(bad("XSADDR", "missing"))?, "XSADDR")?;
    let port = xsport.ok_or(bad("XSPORT", "missing"))?;
    let t = h
        .time
        .ok_or(LineErrorReason::Time("RFC 5424 timestamp is `-`"))?;
    let stamp = input.stamp(&t, h.host)?;
    let mut ev = EventParts {
        stamp,
        origin: TsOrigin::DeviceHeader,
        kind,
        inside_ip: inside,
        outside_ip: outside,
        port_lo: port,
        port_hi: port,
    }
    .build(label(h.host), input.raw);
    ev.subscriber_id = sub;
    ev.inside_vrf = vrf;
    ev.b4_ipv6 = b4;
    ev.inside_port = isport;
    ev.proto = proto;
    ev.dst = xd.zip(xdp);
    out.push(ev);
    Ok(())
}
