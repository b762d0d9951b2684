//! MX records (RFC 5321 section 5.1, RFC 7505 null MX, RFC 2181 section 10.3) and the
//! addresses of every exchange, which the PTR, DANE and SMTP checks reuse.

use std::net::IpAddr;

use crate::finding::{Finding, Practice, Status};
use crate::resolver::{Outcome, Resolve, RrType};

/// One mail exchanger and what its name resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// MX preference.
    pub preference: u16,
    /// Host name (lower-case, no trailing dot).
    pub host: String,
    /// IPv4 and IPv6 addresses.
    pub addresses: Vec<IpAddr>,
}

/// What the MX check learned, for the checks that follow it.
#[derive(Debug, Clone, Default)]
pub struct MxSet {
    /// The exchanges, lowest preference first (empty for null MX or no MX).
    pub exchanges: Vec<Exchange>,
    /// The domain declared it accepts no mail (RFC 7505).
    pub null_mx: bool,
}

/// MX findings for `domain`, and the exchanges found.
pub async fn check<R: Resolve>(r: &R, domain: &str) -> (Vec<Finding>, MxSet) {
    let id = Practice::Identity;
    let mut out = Vec::new();
    let mut set = MxSet::default();
    let ans = match r.query(domain, RrType::Mx).await {
        Ok(a) => a,
        Err(e) => {
            out.push(
                Finding::new(
                    "mx.present",
                    id,
                    Status::Fail,
                    "MX records could not be read",
                )
                .evidence(e.to_string()),
            );
            return (out, set);
        }
    };
    let mx = ans.mx();
    if mx.is_empty() {
        let why = if ans.outcome == Outcome::NxDomain {
            "the domain does not exist"
        } else {
            "no MX records"
        };
        out.push(
            Finding::new("mx.present", id, Status::Fail, format!("{domain}: {why}"))
                .fix("RFC 5321 section 5.1: publish MX records for the hosts that receive mail (bounces, DMARC and abuse reports need a way back); a domain that receives no mail publishes a null MX (RFC 7505): \"MX 0 .\"."),
        );
        return (out, set);
    }
    // RFC 7505 section 3: a null MX is a single MX with preference 0 and target ".".
    if mx.iter().any(|(_, h)| h.is_empty()) {
        if mx.len() == 1 {
            set.null_mx = true;
            out.push(
                Finding::new(
                    "mx.null",
                    id,
                    Status::Info,
                    format!("{domain} publishes a null MX: it accepts no mail (RFC 7505)"),
                )
                .evidence("MX 0 ."),
            );
        } else {
            out.push(
                Finding::new("mx.null", id, Status::Fail, "null MX mixed with other MX records")
                    .evidence(mx.iter().map(|(p, h)| format!("MX {p} {}", if h.is_empty() { "." } else { h })).collect::<Vec<_>>().join(", "))
                    .fix("RFC 7505 section 3: a domain with a null MX MUST NOT publish any other MX record."),
            );
        }
        return (out, set);
    }
    let mut present = Finding::new(
        "mx.present",
        id,
        Status::Pass,
        format!("{} MX records", mx.len()),
    );
    for (p, h) in &mx {
        present = present.evidence(format!("MX {p} {h}"));
    }
    out.push(present);

    let mut any_v6 = false;
    let mut unresolvable = Vec::new();
    let mut aliases = Vec::new();
    let mut literals = Vec::new();
    for (pref, host) in mx.into_iter().take(32) {
        if host.parse::<IpAddr>().is_ok()
            || host
                .split('.')
                .all(|l| l.chars().all(|c| c.is_ascii_digit()))
        {
            literals.push(host.clone());
        }
        let (cname, a, aaaa) = futures_util::join!(
            r.query(&host, RrType::Cname),
            r.query(&host, RrType::A),
            r.query(&host, RrType::Aaaa)
        );
        if let Ok(c) = &cname
            && let Some(crate::resolver::Rdata::Cname(t)) = c.records.first()
        {
            aliases.push(format!("{host} is an alias for {t}"));
        }
        let mut addresses = Vec::new();
        for ans in [a, aaaa].into_iter().flatten() {
            addresses.extend(ans.ips());
        }
        if addresses.iter().any(IpAddr::is_ipv6) {
            any_v6 = true;
        }
        if addresses.is_empty() {
            unresolvable.push(host.clone());
        }
        set.exchanges.push(Exchange {
            preference: pref,
            host,
            addresses,
        });
    }
    out.push(if unresolvable.is_empty() {
        Finding::new(
            "mx.resolvable",
            id,
            Status::Pass,
            "every MX host has an address",
        )
    } else {
        let mut f = Finding::new(
            "mx.resolvable",
            id,
            Status::Fail,
            format!("{} MX hosts have no address", unresolvable.len()),
        )
        .fix("RFC 5321 section 5.1: each MX target needs A or AAAA records; fix or remove the MX.");
        for h in unresolvable {
            f = f.evidence(h);
        }
        f
    });
    out.push(if aliases.is_empty() {
        Finding::new("mx.cname", id, Status::Pass, "no MX host is an alias")
    } else {
        let mut f = Finding::new("mx.cname", id, Status::Fail, "MX host names that are CNAMEs")
            .fix("RFC 2181 section 10.3 and RFC 5321 section 5.1: an MX must name a host with A/AAAA records, not an alias.");
        for a in aliases {
            f = f.evidence(a);
        }
        f
    });
    if !literals.is_empty() {
        out.push(
            Finding::new("mx.literal", id, Status::Fail, "MX targets that are IP addresses")
                .evidence(literals.join(", "))
                .fix("RFC 7505 section 1 / RFC 5321 section 5.1: MX targets are host names; publish an A record and point the MX at it."),
        );
    }
    out.push(if any_v6 {
        Finding::new("mx.ipv6", id, Status::Pass, "at least one MX host is reachable over IPv6")
    } else {
        Finding::new("mx.ipv6", id, Status::Warn, "no MX host has an IPv6 address")
            .fix("Publish AAAA records for the MX hosts so IPv6-only senders can deliver (Internet.nl mail test, IPv6 category).")
    });
    (out, set)
}
