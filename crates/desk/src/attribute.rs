//! "Who held this address, port or domain at that time?" as a trait, so the desk does not care
//! whether the answer comes from the inventory ([`InventoryAttributor`]), CGN logs
//! (`warden-attribution`, through [`crate::cgn::CgnAttributor`]) or both.
//!
//! Answers are candidate lists with the holding that names each one, plus an ambiguity flag
//! (DESIGN.md rule 5): the desk only routes a case to a customer when exactly one customer
//! remains; otherwise the case stays with the analysts, unattributed.

use crate::error::Result;
use crate::inventory::{self, Holder};
use crate::store::Store;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use warden_model::{AbuseEvent, MissingField};

/// The answer to "who was it".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    /// Every customer that may be meant, with the holding that names it.
    pub candidates: Vec<Holder>,
    /// More than one subscriber may be meant (several holders, or a shared pool without port
    /// and zoned time).
    pub ambiguous: bool,
    /// What the reporter would have to add to make the answer unambiguous (source port, zone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<MissingField>,
    /// A sentence for the analyst explaining the answer.
    pub note: String,
    /// What the NAT logs say, for an address in a shared (CGN) pool when NAT logs are
    /// configured ([`crate::cgn`]): every candidate with its evidence, the doubts, the flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nat: Option<crate::cgn::NatAnswer>,
}

impl Attribution {
    /// The one customer the event belongs to, when the answer is unambiguous.
    pub fn customer(&self) -> Option<&str> {
        let first = self.candidates.first()?;
        let single = self
            .candidates
            .iter()
            .all(|c| c.customer_id == first.customer_id);
        (!self.ambiguous && single).then_some(first.customer_id.as_str())
    }
}

/// A boxed future, so that the trait stays object-safe (`Arc<dyn Attributor>`).
pub type AttributeFuture<'a> = Pin<Box<dyn Future<Output = Result<Attribution>> + Send + 'a>>;

/// Something that can say who held the subject of an event when it was observed.
pub trait Attributor: Send + Sync {
    /// Attributes `event`; `now` stands in when the report gives no time at all.
    fn attribute<'a>(&'a self, event: &'a AbuseEvent, now: DateTime<Utc>) -> AttributeFuture<'a>;
}

/// Attribution from the customer inventory (prefixes and domains with validity periods).
#[derive(Debug, Clone)]
pub struct InventoryAttributor {
    store: Store,
}

impl InventoryAttributor {
    /// Looks up holders in `store`'s inventory.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

/// The host part of a URL, without user info or port; `None` for a bare address.
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        return None;
    } else {
        host.split(':').next()?
    };
    (!host.is_empty() && host.parse::<std::net::IpAddr>().is_err()).then_some(host)
}

impl Attributor for InventoryAttributor {
    fn attribute<'a>(&'a self, event: &'a AbuseEvent, now: DateTime<Utc>) -> AttributeFuture<'a> {
        Box::pin(async move {
            let at = event
                .observed
                .map(|o| o.utc)
                .or(event.received)
                .unwrap_or(now);
            let s = &event.subject;
            if let Some(ip) = s.ip {
                let holders = inventory::holders_of_ip(&self.store, ip, at).await?;
                let top_len = holders.first().map(|h| h.matched.clone());
                // Only the most specific prefix counts: a customer's /29 inside our /16 wins.
                let best: Vec<Holder> = match top_len.and_then(|m| m.parse::<ipnet::IpNet>().ok()) {
                    Some(net) => holders
                        .into_iter()
                        .filter(|h| {
                            h.matched
                                .parse::<ipnet::IpNet>()
                                .is_ok_and(|n| n.prefix_len() == net.prefix_len())
                        })
                        .collect(),
                    None => Vec::new(),
                };
                let shared = best.iter().any(|h| h.shared);
                let mut needs: Vec<MissingField> = Vec::new();
                if shared {
                    needs = event
                        .missing
                        .iter()
                        .copied()
                        .filter(|m| {
                            matches!(
                                m,
                                MissingField::SourcePort
                                    | MissingField::TimeZone
                                    | MissingField::Time
                                    | MissingField::Seconds
                            )
                        })
                        .collect();
                }
                let distinct = {
                    let mut ids: Vec<&str> = best.iter().map(|h| h.customer_id.as_str()).collect();
                    ids.sort_unstable();
                    ids.dedup();
                    ids.len()
                };
                let note = match (best.len(), shared) {
                    (0, _) => format!("{ip} is in no inventory prefix at {at}"),
                    (_, true) if !needs.is_empty() => format!(
                        "{ip} is a shared (CGN) address; the report lacks {needs:?}, so no single subscriber can be named"
                    ),
                    (_, true) => format!(
                        "{ip} is a shared (CGN) address; naming the subscriber needs NAT logs"
                    ),
                    (_, false) if distinct > 1 => {
                        format!("{ip} is held by {distinct} customers at {at}")
                    }
                    _ => format!(
                        "{ip} is in {} at {at}",
                        best.first().map_or("", |h| h.matched.as_str())
                    ),
                };
                return Ok(Attribution {
                    ambiguous: shared || distinct > 1,
                    candidates: best,
                    needs,
                    note,
                    nat: None,
                });
            }
            let domain = s
                .domain
                .as_deref()
                .or_else(|| s.url.as_deref().and_then(url_host))
                .or_else(|| {
                    s.email
                        .as_deref()
                        .and_then(|e| e.rsplit_once('@').map(|(_, d)| d))
                });
            let Some(domain) = domain else {
                return Ok(Attribution {
                    note: "the report names no address, domain or URL".into(),
                    ..Default::default()
                });
            };
            let Some(norm) = inventory::normalize_domain(domain) else {
                return Ok(Attribution {
                    note: format!("{domain:?} is not a host name"),
                    ..Default::default()
                });
            };
            let holders = inventory::holders_of_domain(&self.store, &norm, at).await?;
            let note = match holders.first() {
                None => format!("{norm} is in no inventory domain at {at}"),
                Some(h) => format!("{norm} is under {} at {at}", h.matched),
            };
            Ok(Attribution {
                ambiguous: holders.len() > 1,
                candidates: holders,
                needs: vec![],
                note,
                nat: None,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::url_host;

    #[test]
    fn url_hosts() {
        assert_eq!(
            url_host("http://user@Login.Example.com:8080/x?y"),
            Some("Login.Example.com")
        );
        assert_eq!(url_host("example.org/path"), Some("example.org"));
        assert_eq!(url_host("http://192.0.2.1/x"), None);
        assert_eq!(url_host("http://[2001:db8::1]/"), None);
    }
}
