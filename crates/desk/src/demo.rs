//! Generated data for `warden serve --demo` and the benchmarks: an inventory of customers and a
//! stream of realistic reports (RFC 5965 ARF feedback mails, X-ARF v4 JSON, CGN reports without
//! a source port, and a few mails no parser understands). Deterministic for a given seed, so
//! benchmark runs are comparable.
//!
//! The demo CGN ([`nat_store`]) is `warden-attribution`'s generator: residential subscribers
//! behind the shared pool [`CGN_POOL`], whose Juniper port-block logs are imported into a real
//! NAT store. Its ground truth gives [`cgn_reports`] real ports and times, so some CGN reports
//! name one subscriber, some are ambiguous (no zone in the time) and some lack the port.

use crate::error::{DeskError, Result};
use crate::inventory::{
    Contact, ContactRole, Customer, DomainHolding, InventoryDoc, PrefixHolding,
};
use chrono::{DateTime, Duration, Utc};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use warden_attribution::generator::{GenConfig, LineFormat, Scheme, TruthInterval};

/// A small deterministic generator (SplitMix64): demo data needs variety, not cryptography.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// The demo CGN's outside pool (TEST-NET-2), marked `shared` in the inventory.
pub const CGN_POOL: &str = "198.51.100.0/24";
/// First outside address the demo CGN uses.
pub const CGN_FIRST_OUTSIDE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
/// First inside address (RFC 6598 shared space): subscriber `i` is this plus `i`.
pub const CGN_FIRST_INSIDE: Ipv4Addr = Ipv4Addr::new(100, 64, 0, 1);
/// Residential subscribers behind the demo CGN, one customer each (`res-000`...).
pub const CGN_SUBSCRIBERS: u32 = 40;

/// `n` customers (at most 512), each holding `198.18.x.0/24` or `198.19.x.0/24` (RFC 2544
/// benchmark space, never routed) and `customerN.example`; [`CGN_SUBSCRIBERS`] residential
/// customers, each holding one inside address behind the CGN; and the shared CGN pool
/// [`CGN_POOL`] held by the operator itself.
pub fn inventory(n: usize) -> InventoryDoc {
    let mut customers: Vec<Customer> = (0..n.min(512))
        .map(|i| {
            let (second, third) = (18 + i / 256, i % 256);
            Customer {
                id: format!("cust-{i:03}"),
                name: format!("Customer {i:03} Ltd"),
                contacts: vec![
                    Contact {
                        role: ContactRole::Abuse,
                        email: format!("abuse@customer{i}.example"),
                    },
                    Contact {
                        role: ContactRole::Technical,
                        email: format!("noc@customer{i}.example"),
                    },
                ],
                prefixes: vec![PrefixHolding {
                    prefix: format!("198.{second}.{third}.0/24")
                        .parse()
                        .unwrap_or_else(|_| {
                            ipnet::IpNet::from(std::net::IpAddr::from([198, 18, 0, 0]))
                        }),
                    valid_from: DateTime::<Utc>::UNIX_EPOCH,
                    valid_to: None,
                    shared: false,
                    inside: false,
                }],
                domains: vec![DomainHolding {
                    domain: format!("customer{i}.example"),
                    valid_from: DateTime::<Utc>::UNIX_EPOCH,
                    valid_to: None,
                }],
                subscribers: vec![],
            }
        })
        .collect();
    for i in 0..CGN_SUBSCRIBERS {
        let inside = Ipv4Addr::from(u32::from(CGN_FIRST_INSIDE).wrapping_add(i));
        customers.push(Customer {
            id: format!("res-{i:03}"),
            name: format!("Residential subscriber {i:03}"),
            contacts: vec![Contact {
                role: ContactRole::Abuse,
                email: format!("res{i}@home.isp.example"),
            }],
            prefixes: vec![PrefixHolding {
                prefix: ipnet::IpNet::from(std::net::IpAddr::V4(inside)),
                valid_from: DateTime::<Utc>::UNIX_EPOCH,
                valid_to: None,
                shared: false,
                inside: true,
            }],
            domains: vec![],
            subscribers: vec![],
        });
    }
    customers.push(Customer {
        id: "cgn-pool".into(),
        name: "Residential CGN pool".into(),
        contacts: vec![Contact {
            role: ContactRole::Technical,
            email: "noc@isp.example".into(),
        }],
        prefixes: vec![PrefixHolding {
            prefix: CGN_POOL
                .parse()
                .unwrap_or_else(|_| ipnet::IpNet::from(std::net::IpAddr::V4(CGN_FIRST_OUTSIDE))),
            valid_from: DateTime::<Utc>::UNIX_EPOCH,
            valid_to: None,
            shared: true,
            inside: false,
        }],
        domains: vec![],
        subscribers: vec![],
    });
    InventoryDoc { customers }
}

fn customer_ip(rng: &mut Rng, customers: usize) -> String {
    let i = rng.below(customers.clamp(1, 512) as u64) as usize;
    format!("198.{}.{}.{}", 18 + i / 256, i % 256, 1 + rng.below(254))
}

/// An RFC 5965 report (`Feedback-Type: abuse`) from a spam-trap operator about spam from `ip`, with the RFC 6692
/// `Source-Port` when given.
pub fn arf_mail(n: u64, ip: &str, port: Option<u16>, at: DateTime<Utc>) -> String {
    let date = at.to_rfc2822();
    let port_line = port
        .map(|p| format!("Source-Port: {p}\r\n"))
        .unwrap_or_default();
    format!(
        "From: Spamtrap Network <reports@trap.example>\r\n\
To: abuse@isp.example\r\n\
Subject: FW: Complaint about message from {ip}\r\n\
Date: {date}\r\n\
Message-ID: <trap-{n}@trap.example>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=feedback-report; boundary=\"arf-{n}\"\r\n\
\r\n\
--arf-{n}\r\n\
Content-Type: text/plain; charset=us-ascii\r\n\
\r\n\
This is an email abuse report for an email message received from IP {ip} on {date}.\r\n\
\r\n\
--arf-{n}\r\n\
Content-Type: message/feedback-report\r\n\
\r\n\
Feedback-Type: abuse\r\n\
User-Agent: WardenDemo/1.0\r\n\
Version: 1\r\n\
Original-Mail-From: <promo{n}@sender.example>\r\n\
Original-Rcpt-To: <user{n}@mailbox.example>\r\n\
Arrival-Date: {date}\r\n\
Reporting-MTA: dns; mx.mailbox.example\r\n\
Source-IP: {ip}\r\n\
{port_line}\
Authentication-Results: mx.mailbox.example; spf=pass smtp.mailfrom=sender.example\r\n\
\r\n\
--arf-{n}\r\n\
Content-Type: message/rfc822\r\n\
Content-Disposition: inline\r\n\
\r\n\
Received: from [{ip}] by mx.mailbox.example with ESMTP id {n}; {date}\r\n\
From: <promo{n}@sender.example>\r\n\
To: <user{n}@mailbox.example>\r\n\
Subject: Cheap watches, offer {n}\r\n\
Date: {date}\r\n\
Message-ID: <spam-{n}@sender.example>\r\n\
\r\n\
Buy now!\r\n\
\r\n\
--arf-{n}--\r\n"
    )
}

/// An X-ARF version 4 JSON document in the `Version`/`ReporterInfo`/`Report` layout that
/// Abusix-style senders use. `class`/`kind` are X-ARF words (`Activity`/`LoginAttack`,
/// `Content`/`Phishing`); `source` is an address or, for content reports, a URL.
pub fn xarf_json(
    n: u64,
    class: &str,
    kind: &str,
    source: &str,
    port: Option<u16>,
    at: DateTime<Utc>,
) -> String {
    let port = port
        .map(|p| format!(",\n    \"SourcePort\": {p}"))
        .unwrap_or_default();
    let source = if source.contains("://") {
        format!("\"SourceUrl\": \"{source}\"")
    } else {
        format!("\"SourceIp\": \"{source}\"")
    };
    format!(
        "{{\n  \"Version\": \"4\",\n  \"ReporterInfo\": {{\"ReporterOrg\": \"Example CERT\", \"ReporterOrgDomain\": \"reporter.example\", \
\"ReporterOrgEmail\": \"cert@reporter.example\", \"ReporterContactEmail\": \"cert@reporter.example\"}},\n  \"Disclosure\": true,\n  \
\"Report\": {{\n    \"ReportClass\": \"{class}\",\n    \"ReportType\": \"{kind}\",\n    \"Date\": \"{}\",\n    {source}{port},\n    \
\"Count\": {},\n    \"ReportId\": \"demo-{n}\"\n  }}\n}}\n",
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        1 + n % 50
    )
}

/// X-ARF v4 carried in mail: `multipart/report` with `Feedback-Type: xarf` and the JSON as the
/// third part (the v4 transport).
pub fn xarf_mail(n: u64, json: &str, at: DateTime<Utc>) -> String {
    let date = at.to_rfc2822();
    format!(
        "From: Example CERT <cert@reporter.example>\r\nTo: abuse@isp.example\r\nSubject: X-ARF report demo-{n}\r\n\
Date: {date}\r\nMessage-ID: <xarf-{n}@reporter.example>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=feedback-report; boundary=\"xarf-{n}\"\r\n\r\n\
--xarf-{n}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nAutomated abuse report, see the JSON part.\r\n\r\n\
--xarf-{n}\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: xarf\r\nUser-Agent: WardenDemo/1.0\r\nVersion: 1\r\n\r\n\
--xarf-{n}\r\nContent-Type: application/json\r\n\r\n{}\r\n--xarf-{n}--\r\n",
        json.replace('\n', "\r\n")
    )
}

/// The demo CGN: [`CGN_SUBSCRIBERS`] subscribers on two outside addresses with 2048-port
/// blocks (so blocks change hands often), over the six hours before `now`, with 2 % of the
/// releases lost.
pub fn cgn_config(now: DateTime<Utc>) -> GenConfig {
    let end = now.timestamp_millis() - 60_000;
    GenConfig {
        seed: 2026,
        start_ms: end - 6 * 3_600_000,
        duration_ms: 6 * 3_600_000 - 30 * 60_000,
        subscribers: CGN_SUBSCRIBERS,
        outside_ips: 2,
        scheme: Scheme::PortBlock {
            block_size: 2048,
            interim_period_ms: None,
        },
        mean_hold_ms: 20 * 60_000,
        mean_gap_ms: 10 * 60_000,
        lost_release: 0.02,
        lost_alloc: 0.0,
        clock_skew_ms: 0,
        host: "cgn1".into(),
        first_outside: CGN_FIRST_OUTSIDE,
        first_inside: CGN_FIRST_INSIDE,
        // Juniper, since `nat_store` imports the log with the Juniper parser.
        format: LineFormat::Juniper,
    }
}

/// Generates the demo CGN's log (`DIR/cgn1.log`) and imports it into the NAT store `DIR/store`
/// with the real Juniper parser; returns the store directory and the ground truth. Blocking.
pub fn nat_store(dir: &Path, now: DateTime<Utc>) -> Result<(PathBuf, Vec<TruthInterval>)> {
    use warden_attribution::import::{ImportOptions, Input, VendorParser, import};
    use warden_attribution::natlog::{ParseContext, Vendor};
    std::fs::create_dir_all(dir).map_err(DeskError::io(dir))?;
    let log = dir.join("cgn1.log");
    let mut truth = Vec::new();
    {
        let f = std::fs::File::create(&log).map_err(DeskError::io(&log))?;
        let mut w = std::io::BufWriter::new(f);
        warden_attribution::generator::generate(&cgn_config(now), &mut w, Some(&mut truth))
            .map_err(DeskError::io(&log))?;
        std::io::Write::flush(&mut w).map_err(DeskError::io(&log))?;
    }
    let store = dir.join("store");
    let mut parser = VendorParser {
        ctx: ParseContext::new(Vendor::Auto, chrono_tz::Tz::UTC, now.timestamp()),
    };
    import(
        &store,
        &[Input::Path(log)],
        &mut parser,
        &ImportOptions::default(),
        &mut |_| {},
    )
    .map_err(|e| DeskError::invalid("demo NAT log import", e.to_string()))?;
    Ok((store, truth))
}

/// `count` CGN reports drawn from the generator's ground truth: a third carry the true port and
/// a zoned time inside a logged holding (one subscriber), a third the port and a local time
/// without zone (ambiguous: the window must widen by 14 hours), a third no port at all (the
/// reporter is asked for it).
pub fn cgn_reports(truth: &[TruthInterval], count: usize, seed: u64) -> Vec<Vec<u8>> {
    let usable: Vec<&TruthInterval> = truth
        .iter()
        .filter(|x| x.alloc_logged && x.release_logged && x.end_ms - x.start_ms > 120_000)
        .collect();
    if usable.is_empty() {
        return Vec::new();
    }
    let mut rng = Rng::new(seed);
    (0..count as u64)
        .map(|k| {
            let x = usable[rng.below(usable.len() as u64) as usize];
            let mid = x.start_ms + (x.end_ms - x.start_ms) / 2;
            let at = DateTime::<Utc>::from_timestamp_millis(mid - mid.rem_euclid(1000))
                .unwrap_or_default();
            let span = u64::from(x.port_hi - x.port_lo) + 1;
            let port = x.port_lo + rng.below(span) as u16;
            let ip = x.outside_ip.to_string();
            let n = 1_000_000 + k;
            let body = match k % 3 {
                0 => arf_mail(n, &ip, Some(port), at),
                1 => {
                    let json = xarf_json(n, "Activity", "LoginAttack", &ip, Some(port), at);
                    // The reporter's wall clock (UTC+1) without its zone.
                    let zoned = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                    let local = (at + Duration::hours(1)).format("%Y-%m-%dT%H:%M:%S");
                    json.replace(&format!("\"{zoned}\""), &format!("\"{local}\""))
                }
                _ => arf_mail(n, &ip, None, at),
            };
            body.into_bytes()
        })
        .collect()
}

/// `count` reports about `customers` customers, observed before `now`: about 60 % ARF spam,
/// 20 % X-ARF connection reports with ports, 10 % X-ARF phishing URLs, 5 % CGN reports without
/// a port, 5 % mails no parser understands.
pub fn reports(count: usize, customers: usize, seed: u64, now: DateTime<Utc>) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed);
    (0..count as u64)
        .map(|n| {
            let at = now - Duration::seconds(60 + rng.below(86_400) as i64);
            let roll = rng.below(100);
            let port = Some(1024 + rng.below(60_000) as u16);
            let body = if roll < 60 {
                let ip = customer_ip(&mut rng, customers);
                arf_mail(n, &ip, if roll.is_multiple_of(2) { port } else { None }, at)
            } else if roll < 80 {
                let ip = customer_ip(&mut rng, customers);
                let kind = if roll.is_multiple_of(2) { "LoginAttack" } else { "PortScan" };
                let json = xarf_json(n, "Activity", kind, &ip, port, at);
                if roll.is_multiple_of(3) { json } else { xarf_mail(n, &json, at) }
            } else if roll < 90 {
                let c = rng.below(customers.clamp(1, 512) as u64);
                let url = format!("http://login.customer{c}.example/bank/{n}");
                xarf_mail(n, &xarf_json(n, "Content", "Phishing", &url, None, at), at)
            } else if roll < 95 {
                let ip = format!("198.51.100.{}", 1 + rng.below(2));
                arf_mail(n, &ip, None, at)
            } else {
                format!("From: someone@home.example\r\nTo: abuse@isp.example\r\nSubject: help\r\nDate: {}\r\n\r\nyour network keeps bothering me ({n})\r\n", at.to_rfc2822())
            };
            body.into_bytes()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_varied() {
        let now = DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000);
        let a = reports(50, 10, 7, now);
        assert_eq!(a, reports(50, 10, 7, now));
        assert_ne!(a, reports(50, 10, 8, now));
        let arf = a
            .iter()
            .filter(|r| r.windows(14).any(|w| w == b"Feedback-Type:"))
            .count();
        assert!(arf > 20, "{arf}");
        inventory(600).validate().unwrap();
        assert_eq!(
            inventory(600).customers.len(),
            513 + CGN_SUBSCRIBERS as usize
        );
    }

    #[test]
    fn generated_reports_parse_with_the_real_parsers() {
        let now = DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000);
        let arf = arf_mail(1, "198.18.0.9", Some(4242), now);
        let ev = warden_reports::parse(arf.as_bytes()).unwrap();
        let e = ev[0].as_event().unwrap();
        assert_eq!(e.class, warden_model::AbuseClass::Spam);
        assert_eq!(e.subject.ip, Some("198.18.0.9".parse().unwrap()));
        assert_eq!(e.subject.port, Some(4242));
        let json = xarf_json(2, "Activity", "LoginAttack", "198.18.0.7", Some(2222), now);
        for raw in [json.clone(), xarf_mail(2, &json, now)] {
            let ev = warden_reports::parse(raw.as_bytes()).unwrap_or_else(|e| panic!("{e}: {raw}"));
            let e = ev[0].as_event().unwrap();
            assert_eq!(e.class, warden_model::AbuseClass::LoginAttack, "{raw}");
            assert_eq!(e.subject.port, Some(2222));
        }
        let phish = xarf_mail(
            3,
            &xarf_json(
                3,
                "Content",
                "Phishing",
                "http://login.customer3.example/x",
                None,
                now,
            ),
            now,
        );
        let ev = warden_reports::parse(phish.as_bytes()).unwrap();
        assert_eq!(
            ev[0].as_event().unwrap().class,
            warden_model::AbuseClass::Phishing
        );
        let (mut ok, mut bad) = (0, 0);
        for r in reports(200, 10, 1, now) {
            match warden_reports::parse(&r) {
                Ok(v) if v.iter().any(|r| r.as_event().is_some()) => ok += 1,
                _ => bad += 1,
            }
        }
        // About 5 % are deliberately junk (free-form parsing may still read some of them).
        assert!(ok >= 180 && bad <= 20, "{ok} parsed, {bad} not");
    }
}
