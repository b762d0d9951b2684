//! One module per vendor dialect, registered in one place: the `dialects!` list below. Each
//! module has the same two verbs: `sniff` (a cheap "is this mine?" probe used by
//! [`Vendor::Auto`]) and `parse` (append the line's events). A new dialect is one module plus one
//! line in that list; the [`Vendor`] enum, its names, the `--vendor` parser, auto-detection and
//! dispatch are all generated from it.

use super::event::{EventKind, Label, NatEvent, RawRef, TsOrigin};
use super::parse::{LineErrorReason, ParseContext};
use super::syslog::{self, LocalTime, Stamp};
use std::net::{IpAddr, Ipv4Addr};

pub(crate) mod framing;
pub mod scan;

/// Generates the vendor registry from one line per dialect:
/// `Variant = stable number => module, "name" | "alias"...;` (the number is kept in the parse
/// context's last-hit hint, so it never changes for a vendor).
macro_rules! dialects {
    ($( $(#[$doc:meta])* $variant:ident = $n:literal => $module:ident, $name:literal $(| $alias:literal)* ;)*) => {
        $( mod $module; )*

        /// The log dialect of a line.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Vendor {
            /// Detect per line (cheap substring probes, the last hit tried first).
            Auto = 0,
            $( $(#[$doc])* $variant = $n, )*
        }

        impl Vendor {
            /// Every concrete vendor, in the order Auto probes them.
            pub const ALL: [Vendor; [$($n),*].len()] = [$(Vendor::$variant),*];

            /// The lower-case name used on the command line and in messages.
            pub fn name(self) -> &'static str {
                match self {
                    Vendor::Auto => "auto",
                    $( Vendor::$variant => $name, )*
                }
            }

            /// The vendor of a last-hit hint; anything unknown is [`Vendor::Auto`].
            pub(crate) fn from_u8(v: u8) -> Vendor {
                match v {
                    $( $n => Vendor::$variant, )*
                    _ => Vendor::Auto,
                }
            }

            /// The vendor a lower-case name or alias stands for.
            pub(crate) fn from_name(s: &str) -> Option<Vendor> {
                match s {
                    "auto" => Some(Vendor::Auto),
                    $( $name $(| $alias)* => Some(Vendor::$variant), )*
                    _ => None,
                }
            }
        }

        /// Is `line` plausibly `vendor`'s NAT record?
        pub(crate) fn sniff(vendor: Vendor, line: &[u8]) -> bool {
            match vendor {
                Vendor::Auto => false,
                $( Vendor::$variant => $module::sniff(line), )*
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
                $( Vendor::$variant => $module::parse(input, out), )*
            }
        }
    };
}

dialects! {
    /// Junos: `[ASP|JSERVICES]_NAT_PORT_BLOCK_{ALLOC,RELEASE,ACTIVE}`, `RT_FLOW_SESSION_*`.
    Juniper = 1 => juniper, "juniper" | "junos";
    /// Cisco IOS-XR CGN (and the identical Huawei "type3"): `[UserbasedA ...][...]`.
    Cisco = 2 => cisco, "cisco" | "huawei";
    /// A10 Thunder CGN: CEF `CGN 100/101/106/107`, ASCII `NAT-TCP-C`, `FIXED-NAT-PORTS`.
    A10 = 3 => a10, "a10";
    /// F5 BIG-IP LSN: `LSN_ADD` / `LSN_DELETE` with `%route-domain`.
    F5 = 4 => f5, "f5";
    /// Nokia 7750 SR flow syslog: `LSN44 SADD <time> <TZ> ...`.
    Nokia = 5 => nokia, "nokia" | "alcatel";
    /// FD.io VPP RFC 5424 `SADD`/`SDEL`/`APMADD`/`APMDEL`.
    Vpp = 6 => vpp, "vpp";
    /// Linux `conntrack -E -o timestamp` event lines.
    Conntrack = 7 => conntrack, "conntrack" | "linux";
    /// 6WIND vSR `fp-cgnat`: `NEW CONN`, `NEW BLOCK`.
    SixWind = 8 => sixwind, "6wind" | "sixwind";
    /// Citrix ADC LSN `A&PDM` mappings, default and compact forms.
    Citrix = 9 => citrix, "citrix" | "netscaler";
}

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

/// The header time and host of a BSD-style line: optional `<PRI>`, `Mmm dd HH:MM:SS`, host.
/// Also accepts an RFC 3339 time in place of the BSD one (rsyslog's high-precision template).
pub(crate) fn bsd_header(line: &[u8]) -> Option<(LocalTime, &[u8], &[u8])> {
    // Nokia writes `<PRI> MMM`, with a space.
    let s = framing::strip_pri(line).trim_ascii_start();
    let (t, rest) = syslog::parse_bsd_time(s).or_else(|| syslog::parse_iso_time(s))?;
    let (host, rest) = framing::next_token(rest)?;
    Some((t, host, rest))
}
