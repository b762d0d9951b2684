//! Reverse DNS and forward-confirmed reverse DNS (FCrDNS) of mail hosts (M3AAWG Sender BCP:
//! every sending IP has a PTR whose name resolves back to the same IP; RFC 1912 section 2.1).

use std::net::IpAddr;

use crate::finding::{Finding, Practice, Status};
use crate::resolver::{Resolve, RrType, reverse_name};

/// At most this many PTR names per address are forward-checked; a longer list is itself a
/// misconfiguration and would make the audit slow.
const MAX_PTR_NAMES: usize = 5;

/// PTR and FCrDNS findings for one address; `role` says why it is checked ("MX mx1.example",
/// "sending IP").
pub async fn check_ip<R: Resolve>(r: &R, ip: IpAddr, role: &str) -> Vec<Finding> {
    let id = Practice::Identity;
    let rev = reverse_name(ip);
    let ans = match r.query(&rev, RrType::Ptr).await {
        Ok(a) => a,
        Err(e) => {
            return vec![
                Finding::new(
                    "ptr.present",
                    id,
                    Status::Fail,
                    format!("{ip} ({role}): PTR lookup failed"),
                )
                .evidence(e.to_string()),
            ];
        }
    };
    let names = ans.ptr();
    if names.is_empty() {
        return vec![
            Finding::new("ptr.present", id, Status::Fail, format!("{ip} ({role}) has no PTR record"))
                .evidence(format!("no PTR at {rev}"))
                .fix("M3AAWG Sender BCP (RFC 1912 section 2.1): ask the address holder to publish a PTR naming a host in your domain that resolves back to this address."),
        ];
    }
    let mut out = vec![Finding::new(
        "ptr.present",
        id,
        Status::Pass,
        format!("{ip} ({role}) has PTR {}", names.join(", ")),
    )];
    let mut confirmed = Vec::new();
    let mut evidence = Vec::new();
    for name in names.iter().take(MAX_PTR_NAMES) {
        let rtype = if ip.is_ipv4() {
            RrType::A
        } else {
            RrType::Aaaa
        };
        match r.query(name, rtype).await {
            Ok(a) => {
                let ips = a.ips();
                if ips.contains(&ip) {
                    confirmed.push(name.clone());
                }
                evidence.push(format!(
                    "{name} {rtype} {}",
                    if ips.is_empty() {
                        "(none)".to_owned()
                    } else {
                        ips.iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(" ")
                    }
                ));
            }
            Err(e) => evidence.push(e.to_string()),
        }
    }
    let mut f = if confirmed.is_empty() {
        Finding::new("ptr.fcrdns", id, Status::Fail, format!("{ip} ({role}): no PTR name resolves back to it"))
            .fix("M3AAWG Sender BCP: make the PTR name's A/AAAA record include this address (forward-confirmed reverse DNS); many receivers reject mail otherwise.")
    } else {
        Finding::new(
            "ptr.fcrdns",
            id,
            Status::Pass,
            format!(
                "{ip} ({role}): forward-confirmed via {}",
                confirmed.join(", ")
            ),
        )
    };
    for e in evidence {
        f = f.evidence(e);
    }
    out.push(f);
    out
}
