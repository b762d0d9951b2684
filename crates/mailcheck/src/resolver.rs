//! The one DNS layer every check goes through (ARCHITECTURE.md invariant).
//!
//! [`Resolve`] is the contract: one question (name, type) in, one [`Answer`] out, with the
//! outcome (records, no data, no such domain) kept apart because SPF counts "void lookups"
//! (RFC 7208 section 4.6.4) and null MX (RFC 7505) need it, and with the DNSSEC status of the
//! answer because DANE (RFC 7672 section 2.2) may only use TLSA records that validate.
//! Checks are generic over the trait, so tests and the SMTP probe can share one resolver or
//! substitute their own.
//!
//! [`DnsResolver`] implements it on hickory-resolver: a configurable upstream (`--resolver
//! IP:PORT`, else the system's resolv.conf), hickory's answer cache, per-query timeout and
//! retries, and DNSSEC validation done *here* (hickory's validating resolver, from the root
//! trust anchor or one given in a file) rather than trusting an upstream's AD bit, which any
//! on-path attacker between us and a remote resolver can set.

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::dnssec::{Proof, TrustAnchors};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::{Resolver, TokioResolver};

/// The record types the audit asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RrType {
    /// IPv4 address.
    A,
    /// IPv6 address.
    Aaaa,
    /// Mail exchanger.
    Mx,
    /// Text (SPF, DMARC, DKIM, MTA-STS, TLS-RPT, BIMI).
    Txt,
    /// Reverse pointer.
    Ptr,
    /// Alias; asked for directly to detect MX targets that are aliases (RFC 2181 section 10.3).
    Cname,
    /// DANE certificate association.
    Tlsa,
}

impl RrType {
    fn to_hickory(self) -> RecordType {
        match self {
            RrType::A => RecordType::A,
            RrType::Aaaa => RecordType::AAAA,
            RrType::Mx => RecordType::MX,
            RrType::Txt => RecordType::TXT,
            RrType::Ptr => RecordType::PTR,
            RrType::Cname => RecordType::CNAME,
            RrType::Tlsa => RecordType::TLSA,
        }
    }
}

impl fmt::Display for RrType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RrType::A => "A",
            RrType::Aaaa => "AAAA",
            RrType::Mx => "MX",
            RrType::Txt => "TXT",
            RrType::Ptr => "PTR",
            RrType::Cname => "CNAME",
            RrType::Tlsa => "TLSA",
        })
    }
}

/// One TLSA record (RFC 6698 section 2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlsa {
    /// 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE.
    pub usage: u8,
    /// 0 full certificate, 1 SubjectPublicKeyInfo.
    pub selector: u8,
    /// 0 exact, 1 SHA-256, 2 SHA-512.
    pub matching: u8,
    /// The association data.
    pub data: Vec<u8>,
}

/// One record's data, in the audit's own terms so that fakes need no hickory types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rdata {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// Preference and exchange (lower-case, no trailing dot; empty for the root, i.e. null MX).
    Mx(u16, String),
    /// The character-strings of one TXT record, concatenated without separators as RFC 7208
    /// section 3.3 and RFC 6376 section 3.6.2.2 require. Invalid UTF-8 is replaced, and the
    /// record is marked so checks can say so.
    Txt(String),
    /// A PTR target (lower-case, no trailing dot).
    Ptr(String),
    /// A CNAME target (lower-case, no trailing dot).
    Cname(String),
    /// A TLSA record.
    Tlsa(Tlsa),
}

/// What the DNS said about a name and type, apart from the records themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// NOERROR with at least one record of the type.
    Records,
    /// NOERROR, no record of the type (a "void lookup" for SPF).
    NoData,
    /// NXDOMAIN (also a "void lookup" for SPF).
    NxDomain,
}

/// DNSSEC status of an answer (RFC 4035 section 4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dnssec {
    /// Validated from a trust anchor.
    Secure,
    /// Provably unsigned.
    Insecure,
    /// Signed but did not validate.
    Bogus,
    /// Not validated (validation off, or not decidable).
    Indeterminate,
}

/// The answer to one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Whether records exist.
    pub outcome: Outcome,
    /// The records of the asked type (CNAMEs followed by the resolver are not included unless
    /// the type asked was CNAME).
    pub records: Vec<Rdata>,
    /// DNSSEC status of the answer.
    pub dnssec: Dnssec,
}

impl Answer {
    /// An answer with no records.
    pub fn empty(outcome: Outcome) -> Self {
        Self {
            outcome,
            records: Vec::new(),
            dnssec: Dnssec::Indeterminate,
        }
    }

    /// True for NXDOMAIN or NOERROR without data: an SPF "void lookup".
    pub fn is_void(&self) -> bool {
        matches!(self.outcome, Outcome::NoData | Outcome::NxDomain)
    }

    /// The TXT strings of the answer.
    pub fn txt(&self) -> Vec<&str> {
        self.records
            .iter()
            .filter_map(|r| match r {
                Rdata::Txt(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The addresses of an A or AAAA answer.
    pub fn ips(&self) -> Vec<IpAddr> {
        self.records
            .iter()
            .filter_map(|r| match r {
                Rdata::A(a) => Some(IpAddr::V4(*a)),
                Rdata::Aaaa(a) => Some(IpAddr::V6(*a)),
                _ => None,
            })
            .collect()
    }

    /// The (preference, exchange) pairs of an MX answer, lowest preference first.
    pub fn mx(&self) -> Vec<(u16, String)> {
        let mut v: Vec<(u16, String)> = self
            .records
            .iter()
            .filter_map(|r| match r {
                Rdata::Mx(p, h) => Some((*p, h.clone())),
                _ => None,
            })
            .collect();
        v.sort();
        v
    }

    /// The targets of a PTR answer.
    pub fn ptr(&self) -> Vec<String> {
        self.records
            .iter()
            .filter_map(|r| match r {
                Rdata::Ptr(p) => Some(p.clone()),
                _ => None,
            })
            .collect()
    }

    /// The TLSA records of the answer.
    pub fn tlsa(&self) -> Vec<Tlsa> {
        self.records
            .iter()
            .filter_map(|r| match r {
                Rdata::Tlsa(t) => Some(t.clone()),
                _ => None,
            })
            .collect()
    }
}

/// A question the DNS could not answer (timeout, SERVFAIL, REFUSED, malformed name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("DNS {rtype} query for {name:?} failed: {reason}")]
pub struct DnsError {
    /// The name asked.
    pub name: String,
    /// The type asked.
    pub rtype: RrType,
    /// Why, in words.
    pub reason: String,
    /// The answer failed DNSSEC validation (RFC 4035 section 4.3 "bogus"): the data exists
    /// but cannot be trusted. DANE must treat this differently from a missing answer.
    pub bogus: bool,
}

/// Errors building a resolver from user settings.
#[derive(Debug, thiserror::Error)]
pub enum ResolverSetupError {
    /// The system resolver configuration could not be read.
    #[error(
        "cannot read the system resolver configuration (/etc/resolv.conf): {0}; pass --resolver IP:PORT"
    )]
    SystemConfig(String),
    /// The trust anchor file could not be read or parsed.
    #[error("cannot load DNSSEC trust anchor {path:?}: {reason}")]
    TrustAnchor {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// hickory refused the configuration.
    #[error("cannot build the DNS resolver: {0}")]
    Build(String),
}

/// The contract every check relies on: ask one question, get one [`Answer`] or a
/// [`DnsError`]. NXDOMAIN and "no data" are answers, not errors, because checks must tell
/// them apart from a server that did not answer at all.
pub trait Resolve: Send + Sync {
    /// Asks for `rtype` records at `name` (an absolute name, with or without trailing dot).
    fn query(
        &self,
        name: &str,
        rtype: RrType,
    ) -> impl Future<Output = Result<Answer, DnsError>> + Send;
}

/// Settings of [`DnsResolver`].
#[derive(Debug, Clone)]
pub struct ResolverSettings {
    /// Upstream servers; empty means the system's resolv.conf.
    pub upstreams: Vec<SocketAddr>,
    /// Time allowed for one attempt.
    pub timeout: Duration,
    /// Attempts per question before giving up.
    pub attempts: usize,
    /// Validate DNSSEC here (needed for DANE); off reports every answer as indeterminate.
    pub validate: bool,
    /// A file of DNSKEY records to trust instead of the root key (tests, private roots).
    pub trust_anchor: Option<std::path::PathBuf>,
    /// Answers kept in the cache.
    pub cache_size: u64,
}

impl Default for ResolverSettings {
    fn default() -> Self {
        Self {
            upstreams: Vec::new(),
            timeout: Duration::from_secs(3),
            attempts: 2,
            validate: true,
            trust_anchor: None,
            cache_size: 8192,
        }
    }
}

/// The production resolver: hickory-resolver with caching, timeouts, retries and DNSSEC
/// validation. Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct DnsResolver {
    inner: TokioResolver,
    validate: bool,
    queries: Arc<AtomicU64>,
}

impl fmt::Debug for DnsResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DnsResolver")
            .field("validate", &self.validate)
            .finish_non_exhaustive()
    }
}

impl DnsResolver {
    /// Builds a resolver. Must be called inside a tokio runtime.
    pub fn new(settings: &ResolverSettings) -> Result<Self, ResolverSetupError> {
        let provider = TokioRuntimeProvider::default();
        let mut builder = if settings.upstreams.is_empty() {
            Resolver::builder(provider)
                .map_err(|e| ResolverSetupError::SystemConfig(e.to_string()))?
        } else {
            let servers: Vec<NameServerConfig> = settings
                .upstreams
                .iter()
                .map(|sa| {
                    let mut ns = NameServerConfig::udp_and_tcp(sa.ip());
                    for c in &mut ns.connections {
                        c.port = sa.port();
                    }
                    ns
                })
                .collect();
            let config = ResolverConfig::from_parts(None, Vec::new(), servers);
            Resolver::builder_with_config(config, provider)
        };
        let mut opts = ResolverOpts::default();
        opts.timeout = settings.timeout;
        opts.attempts = settings.attempts.max(1);
        opts.validate = settings.validate;
        opts.cache_size = settings.cache_size;
        // Names are always absolute: never try search domains (a missing record must not be
        // "found" under the machine's own domain).
        opts.ndots = 0;
        // The audit judges what the DNS publishes, never the local /etc/hosts.
        opts.use_hosts_file = ResolveHosts::Never;
        opts.preserve_intermediates = true;
        opts.try_tcp_on_error = true;
        // Serve answers from the cache but do not keep negative answers longer than a minute,
        // so that a fix is seen on the next run.
        opts.negative_max_ttl = Some(Duration::from_secs(60));
        *builder.options_mut() = opts;
        if let Some(path) = &settings.trust_anchor {
            let anchors = load_trust_anchor(path)?;
            builder = builder.with_trust_anchor(Arc::new(anchors));
        }
        let inner = builder
            .build()
            .map_err(|e| ResolverSetupError::Build(e.to_string()))?;
        Ok(Self {
            inner,
            validate: settings.validate,
            queries: Arc::new(AtomicU64::new(0)),
        })
    }

    /// How many questions were asked through this resolver (cache hits included); for
    /// benchmarks and tests.
    pub fn questions_asked(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }
}

fn load_trust_anchor(path: &Path) -> Result<TrustAnchors, ResolverSetupError> {
    let err = |reason: String| ResolverSetupError::TrustAnchor {
        path: path.display().to_string(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    if meta.len() > 1 << 20 {
        return Err(err("larger than 1 MiB".into()));
    }
    TrustAnchors::from_file(path).map_err(|e| err(e.to_string()))
}

/// Normalises a name from the DNS: lower-case, no trailing dot.
pub fn normalize_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn absolute(name: &str) -> String {
    if name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    }
}

fn convert(data: &RData) -> Option<Rdata> {
    Some(match data {
        RData::A(a) => Rdata::A(a.0),
        RData::AAAA(a) => Rdata::Aaaa(a.0),
        RData::MX(mx) => Rdata::Mx(mx.preference, normalize_name(&mx.exchange.to_ascii())),
        RData::TXT(t) => {
            let mut bytes = Vec::new();
            for s in t.txt_data.iter() {
                bytes.extend_from_slice(s);
            }
            Rdata::Txt(String::from_utf8_lossy(&bytes).into_owned())
        }
        RData::PTR(p) => Rdata::Ptr(normalize_name(&p.0.to_ascii())),
        RData::CNAME(c) => Rdata::Cname(normalize_name(&c.0.to_ascii())),
        RData::TLSA(t) => Rdata::Tlsa(Tlsa {
            usage: u8::from(t.cert_usage),
            selector: u8::from(t.selector),
            matching: u8::from(t.matching),
            data: t.cert_data.clone(),
        }),
        _ => return None,
    })
}

fn fold_proof(proofs: impl Iterator<Item = Proof>, validate: bool) -> Dnssec {
    if !validate {
        return Dnssec::Indeterminate;
    }
    // The answer is only as strong as its weakest record.
    let mut worst: Option<Dnssec> = None;
    for p in proofs {
        let d = match p {
            Proof::Secure => Dnssec::Secure,
            Proof::Insecure => Dnssec::Insecure,
            Proof::Bogus => Dnssec::Bogus,
            _ => Dnssec::Indeterminate,
        };
        let rank = |d: Dnssec| match d {
            Dnssec::Bogus => 3,
            Dnssec::Indeterminate => 2,
            Dnssec::Insecure => 1,
            Dnssec::Secure => 0,
        };
        worst = Some(match worst {
            Some(w) if rank(w) >= rank(d) => w,
            _ => d,
        });
    }
    worst.unwrap_or(Dnssec::Indeterminate)
}

impl Resolve for DnsResolver {
    async fn query(&self, name: &str, rtype: RrType) -> Result<Answer, DnsError> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        let fail = |reason: String| DnsError {
            name: name.to_owned(),
            rtype,
            reason,
            bogus: false,
        };
        if name.is_empty() || name.len() > 254 {
            return Err(fail(
                "not a domain name (empty or longer than 253 octets)".into(),
            ));
        }
        match self
            .inner
            .lookup(absolute(name).as_str(), rtype.to_hickory())
            .await
        {
            Ok(lookup) => {
                let want = rtype.to_hickory();
                let matching: Vec<_> = lookup
                    .answers()
                    .iter()
                    .filter(|r| r.record_type() == want)
                    .collect();
                let records: Vec<Rdata> =
                    matching.iter().filter_map(|r| convert(&r.data)).collect();
                let dnssec = fold_proof(matching.iter().map(|r| r.proof), self.validate);
                let outcome = if records.is_empty() {
                    Outcome::NoData
                } else {
                    Outcome::Records
                };
                Ok(Answer {
                    outcome,
                    records,
                    dnssec,
                })
            }
            Err(e) => {
                let bogus = matches!(
                    &e,
                    NetError::Dns(hickory_resolver::net::DnsError::DnssecBogus)
                );
                classify_error(&e, self.validate).map_err(|reason| DnsError {
                    bogus,
                    ..fail(reason)
                })
            }
        }
    }
}

/// Turns hickory's "errors" for NXDOMAIN and NODATA back into answers; anything else is a
/// real failure.
fn classify_error(e: &NetError, validate: bool) -> Result<Answer, String> {
    use hickory_resolver::net::DnsError as HDnsError;
    if let NetError::Dns(HDnsError::NoRecordsFound(nr)) = e {
        let outcome = if nr.response_code == ResponseCode::NXDomain {
            Outcome::NxDomain
        } else {
            Outcome::NoData
        };
        let dnssec = if !validate {
            Dnssec::Indeterminate
        } else {
            match nr.authorities.as_deref() {
                Some(auth) if !auth.is_empty() => fold_proof(auth.iter().map(|r| r.proof), true),
                _ => Dnssec::Indeterminate,
            }
        };
        return Ok(Answer {
            outcome,
            records: Vec::new(),
            dnssec,
        });
    }
    if e.is_nx_domain() {
        return Ok(Answer::empty(Outcome::NxDomain));
    }
    if e.is_no_records_found() {
        return Ok(Answer::empty(Outcome::NoData));
    }
    Err(match e {
        NetError::Timeout => "timed out".to_owned(),
        other => other.to_string(),
    })
}

/// Reverse-lookup name of an address (RFC 1035 section 3.5, RFC 3596 section 2.5).
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut s = String::with_capacity(72);
            for byte in v6.octets().iter().rev() {
                let lo = byte & 0x0f;
                let hi = byte >> 4;
                s.push(char::from_digit(u32::from(lo), 16).unwrap_or('0'));
                s.push('.');
                s.push(char::from_digit(u32::from(hi), 16).unwrap_or('0'));
                s.push('.');
            }
            s.push_str("ip6.arpa");
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_name("192.0.2.1".parse().unwrap()),
            "1.2.0.192.in-addr.arpa"
        );
        let v6 = reverse_name("2001:db8::1".parse().unwrap());
        assert!(v6.starts_with("1.0.0.0.0.0.0.0."));
        assert!(v6.ends_with("8.b.d.0.1.0.0.2.ip6.arpa"));
    }

    #[test]
    fn proof_folding_takes_the_weakest() {
        let d = fold_proof([Proof::Secure, Proof::Insecure].into_iter(), true);
        assert_eq!(d, Dnssec::Insecure);
        let d = fold_proof([Proof::Secure, Proof::Bogus].into_iter(), true);
        assert_eq!(d, Dnssec::Bogus);
        assert_eq!(
            fold_proof([Proof::Secure].into_iter(), false),
            Dnssec::Indeterminate
        );
    }
}
