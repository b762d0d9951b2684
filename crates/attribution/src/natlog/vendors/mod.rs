//! One module per vendor dialect. Each has the same two verbs: `sniff` (a cheap "is this mine?"
//! probe used by [`Vendor::Auto`]) and `parse` (append the line's events). Registering a new
//! dialect is one module here plus one arm in [`sniff`] and [`parse`].

use super::event::{EventKind, Label, NatEvent, RawRef, TsOrigin};
use super::parse::{LineErrorReason, ParseContext, Vendor};
use super::syslog::{self, LocalTime, Stamp};
use std::net::{IpAddr, Ipv4Addr};

mod a10;
mod cisco;
mod citrix;
mod conntrack;
mod f5;
pub(crate) mod framing;
mod juniper;
mod nokia;
pub mod scan;
mod sixwind;
mod vpp;

/// One line being parsed, with its evidence reference and the parse settings.
pub(crate) struct Input<'a> {
    /// The line, without its line ending.
    pub line: &'a [u8],
    /// Evidence reference copied into every event.
    pub raw: RawRef,
    /// Zones, year reference, exporter profiles.
    pub ctx: &'a ParseContext,
}

impl Input<'_> {
    /// Resolves a written time to UTC with the zone configured for `exporter`.
    pub fn stamp(&self, t: &LocalTime, exporter: &[u8]) -> Result<Stamp, LineErrorReason> {
        let zone = self.ctx.zone_for(exporter);
        syslog::resolve_cached(t, zone, self.ctx.reference_s, Some(&self.ctx.zone_cache))
            .map_err(LineErrorReason::Time)
    }
}

/// Shorthand for a field error.
pub(crate) fn bad(field: &'static str, why: &'static str) -> LineErrorReason {
    LineErrorReason::Field { field, why }
}

/// The exporter label for a host name as written (`-` and empty mean "none").
pub(crate) fn label(host: &[u8]) -> Option<Label> {
    if host.is_empty() || host == b"-" || host.len() > 255 {
        return None;
    }
    std::str::from_utf8(host).ok().map(Label::new)
}

/// The translated (outside) address of an event must be IPv4 (NAT44, NAT64, DS-Lite all
/// translate to IPv4 outside).
pub(crate) fn outside_v4(ip: IpAddr, field: &'static str) -> Result<Ipv4Addr, LineErrorReason> {
    match ip {
        IpAddr::V4(v4) => Ok(v4),
        IpAddr::V6(_) => Err(bad(
            field,
            "an IPv6 outside address is not a NAT44/NAT64 translation",
        )),
    }
}

/// Describes one translation; [`EventParts::build`] fills the defaults every vendor shares.
pub(crate) struct EventParts {
    pub stamp: Stamp,
    pub origin: TsOrigin,
    pub kind: EventKind,
    pub inside_ip: IpAddr,
    pub outside_ip: Ipv4Addr,
    pub port_lo: u16,
    pub port_hi: u16,
}

impl EventParts {
    /// A [`NatEvent`] with no optional field set.
    pub fn build(self, exporter: Option<Label>, raw: RawRef) -> NatEvent {
        NatEvent {
            ts_utc_ns: self.stamp.utc_ns,
            ts_precision: self.stamp.precision,
            ts_origin: self.origin,
            tz_assumed: self.stamp.tz_assumed,
            exporter,
            seq: None,
            kind: self.kind,
            proto: None,
            inside_vrf: 0,
            inside_ip: self.inside_ip,
            b4_ipv6: None,
            inside_port: None,
            outside_vrf: 0,
            outside_ip: self.outside_ip,
            port_lo: self.port_lo,
            port_hi: self.port_hi,
            port_step: 1,
            dst: None,
            subscriber_id: None,
            raw,
        }
    }
}

/// Checks a block's port range.
pub(crate) fn port_range(lo: u16, hi: u16) -> Result<(u16, u16), LineErrorReason> {
    if lo > hi {
        return Err(bad("port range", "first port is above last port"));
    }
    Ok((lo, hi))
}

/// Is `line` plausibly `vendor`'s NAT record?
pub(crate) fn sniff(vendor: Vendor, line: &[u8]) -> bool {
    match vendor {
        Vendor::Auto => false,
        Vendor::Juniper => juniper::sniff(line),
        Vendor::Cisco => cisco::sniff(line),
        Vendor::A10 => a10::sniff(line),
        Vendor::F5 => f5::sniff(line),
        Vendor::Nokia => nokia::sniff(line),
        Vendor::Vpp => vpp::sniff(line),
        Vendor::Conntrack => conntrack::sniff(line),
        Vendor::SixWind => sixwind::sniff(line),
        Vendor::Citrix => citrix::sniff(line),
    }
}

/// Parses `input` as `vendor`, appending events to `out`.
pub(crate) fn parse(
    vendor: Vendor,
    input: &Input<'_>,
    out: &mut Vec<NatEvent>,
) -> Result<(), LineErrorReason> {
    match vendor {
        Vendor::Auto => Err(LineErrorReason::NotNat),
        Vendor::Juniper => juniper::parse(input, out),
        Vendor::Cisco => cisco::parse(input, out),
        Vendor::A10 => a10::parse(input, out),
        Vendor::F5 => f5::parse(input, out),
        Vendor::Nokia => nokia::parse(input, out),
        Vendor::Vpp => vpp::parse(input, out),
        Vendor::Conntrack => conntrack::parse(input, out),
        Vendor::SixWind => sixwind::parse(input, out),
        Vendor::Citrix => citrix::parse(input, out),
    }
}

/// The header time and host of a BSD-style line: optional `<PRI>`, `Mmm dd HH:MM:SS`, host.
/// Also accepts an RFC 3339 time in place of the BSD one (rsyslog's high-precision template).
pub(crate) fn bsd_header(line: &[u8]) -> Option<(LocalTime, &[u8], &[u8])> {
    // Nokia writes `<PRI> MMM`, with a space.
    let s = framing::strip_pri(line).trim_ascii_start();
    let (t, rest) = syslog::parse_bsd_time(s).or_else(|| syslog::parse_iso_time(s))?;
    let (host, rest) = framing::next_token(rest)?;
    Some((t, host, rest))
}
