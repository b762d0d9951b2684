//! Generated data for `warden serve --demo` and the benchmarks: an inventory of customers and a
//! stream of realistic reports (RFC 5965 ARF feedback mails, X-ARF v4 JSON, CGN reports without
//! a source port, and a few mails no parser understands). Deterministic for a given seed, so
//! benchmark runs are comparable.

use crate::inventory::{Contact, ContactRole, Customer, DomainHolding, InventoryDoc, PrefixHolding};
use chrono::{DateTime, Duration, Utc};

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

/// `n` customers (at most 512), each holding `198.18.x.0/24` or `198.19.x.0/24` (RFC 2544
/// benchmark space, never routed) and `customerN.example`, plus one shared CGN pool
/// `100.64.0.0/16` (RFC 6598) held by the operator itself.
pub fn inventory(n: usize) -> InventoryDoc {
    let mut customers: Vec<Customer> = (0..n.min(512))
        .map(|i| {
            let (second, third) = (18 + i / 256, i % 256);
            Customer {
                id: format!("cust-{i:03}"),
                name: format!("Customer {i:03} Ltd"),
                contacts: vec![
                    Contact { role: ContactRole::Abuse, email: format!("abuse@customer{i}.example") },
                    Contact { role: ContactRole::Technical, email: format!("noc@customer{i}.example") },
                ],
                prefixes: vec![PrefixHolding {
                    prefix: format!("198.{second}.{third}.0/24").parse().unwrap_or_else(|_| ipnet::IpNet::from(std::net::IpAddr::from([198, 18, 0, 0]))),
                    valid_from: DateTime::<Utc>::UNIX_EPOCH,
                    valid_to: None,
                    shared: false,
                }],
                domains: vec![DomainHolding { domain: format!("customer{i}.example"), valid_from: DateTime::<Utc>::UNIX_EPOCH, valid_to: None }],
            }
        })
        .collect();
    customers.push(Customer {
        id: "cgn-pool".into(),
        name: "Residential CGN pool".into(),
        contacts: vec![Contact { role: ContactRole::Technical, email: "noc@isp.example".into() }],
        prefixes: vec![PrefixHolding {
            prefix: "100.64.0.0/16".parse().unwrap_or_else(|_| ipnet::IpNet::from(std::net::IpAddr::from([100, 64, 0, 0]))),
            valid_from: DateTime::<Utc>::UNIX_EPOCH,
            valid_to: None,
            shared: true,
        }],
        domains: vec![],
    });
    InventoryDoc { customers }
}

fn customer_ip(rng: &mut Rng, customers: usize) -> String {
    let i = rng.below(customers.clamp(1, 512) as u64) as usize;
    format!("198.{}.{}.{}", 18 + i / 256, i % 256, 1 + rng.below(254))
}

/// An RFC 5965 feedback report (`Feedback-Type: abuse`) about spam from `ip`, with the RFC 6692
/// `Source-Port` when given.
pub fn arf_mail(n: u64, ip: &str, port: Option<u16>, at: DateTime<Utc>) -> String {
    let date = at.to_rfc2822();
    let port_line = port.map(|p| format!("Source-Port: {p}\r\n")).unwrap_or_default();
    format!(
        "From: Mailbox Provider FBL <fbl@mailbox.example>\r\n\
To: abuse@isp.example\r\n\
Subject: FW: Complaint about message from {ip}\r\n\
Date: {date}\r\n\
Message-ID: <fbl-{n}@mailbox.example>\r\n\
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

/// An X-ARF v4 JSON document (xarf-spec 4.2.0 core fields).
pub fn xarf_json(n: u64, category: &str, kind: &str, source: &str, port: Option<u16>, at: DateTime<Utc>) -> String {
    let port = port.map(|p| format!(",\n  \"source_port\": {p}")).unwrap_or_default();
    format!(
        "{{\n  \"xarf_version\": \"4.2.0\",\n  \"report_id\": \"demo-{n}\",\n  \"timestamp\": \"{}\",\n  \
\"reporter\": {{\"org\": \"Example CERT\", \"contact\": \"cert@reporter.example\", \"domain\": \"reporter.example\"}},\n  \
\"sender\": {{\"org\": \"Example CERT\", \"contact\": \"cert@reporter.example\", \"domain\": \"reporter.example\"}},\n  \
\"source_identifier\": \"{source}\"{port},\n  \"category\": \"{category}\",\n  \"type\": \"{kind}\",\n  \
\"evidence_source\": \"honeypot\",\n  \"description\": \"demo report {n}\"\n}}\n",
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
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
                arf_mail(n, &ip, if roll % 2 == 0 { port } else { None }, at)
            } else if roll < 80 {
                let ip = customer_ip(&mut rng, customers);
                let kind = if roll % 2 == 0 { "login-attack" } else { "port-scan" };
                let json = xarf_json(n, "connection", kind, &ip, port, at);
                if roll % 3 == 0 { json } else { xarf_mail(n, &json, at) }
            } else if roll < 90 {
                let c = rng.below(customers.clamp(1, 512) as u64);
                let url = format!("http://login.customer{c}.example/bank/{n}");
                xarf_mail(n, &xarf_json(n, "content", "phishing", &url, None, at), at)
            } else if roll < 95 {
                let ip = format!("100.64.{}.{}", rng.below(256), 1 + rng.below(254));
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
        let arf = a.iter().filter(|r| r.windows(14).any(|w| w == b"Feedback-Type:")).count();
        assert!(arf > 20, "{arf}");
        inventory(600).validate().unwrap();
        assert_eq!(inventory(600).customers.len(), 513);
    }
}
