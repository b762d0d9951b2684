//! SPF record syntax (RFC 7208 section 4.6, 5, 6, 7): pure parsing, no DNS.
//!
//! Parsing is kept apart from the include/redirect walk ([`super::spf`]) so that the grammar
//! is tested without sockets.

use std::net::{Ipv4Addr, Ipv6Addr};

/// RFC 7208 section 4.6.2 qualifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    /// `+` (the default).
    Pass,
    /// `-`.
    Fail,
    /// `~`.
    SoftFail,
    /// `?`.
    Neutral,
}

impl Qualifier {
    /// The character as written.
    pub fn symbol(self) -> char {
        match self {
            Qualifier::Pass => '+',
            Qualifier::Fail => '-',
            Qualifier::SoftFail => '~',
            Qualifier::Neutral => '?',
        }
    }
}

/// One mechanism (RFC 7208 section 5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mechanism {
    /// `all`.
    All,
    /// `include:domain`.
    Include(String),
    /// `a[:domain][/cidr]`.
    A(Option<String>),
    /// `mx[:domain][/cidr]`.
    Mx(Option<String>),
    /// `ptr[:domain]` (RFC 7208 section 5.5: SHOULD NOT be used).
    Ptr(Option<String>),
    /// `ip4:addr[/cidr]`.
    Ip4(Ipv4Addr, u8),
    /// `ip6:addr[/cidr]`.
    Ip6(Ipv6Addr, u8),
    /// `exists:domain`.
    Exists(String),
}

impl Mechanism {
    /// True for the terms that cost a DNS query against the limit of 10 (RFC 7208 section
    /// 4.6.4): include, a, mx, ptr, exists (redirect is a modifier and counted separately).
    pub fn queries_dns(&self) -> bool {
        matches!(
            self,
            Mechanism::Include(_)
                | Mechanism::A(_)
                | Mechanism::Mx(_)
                | Mechanism::Ptr(_)
                | Mechanism::Exists(_)
        )
    }
}

/// One directive or modifier of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// A qualified mechanism.
    Directive(Qualifier, Mechanism),
    /// `redirect=domain` (RFC 7208 section 6.1).
    Redirect(String),
    /// `exp=domain` (RFC 7208 section 6.2).
    Exp(String),
    /// An unknown modifier `name=value`, ignored by receivers (section 6).
    Unknown(String, String),
}

/// A parsed SPF record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpfRecord {
    /// The terms in order.
    pub terms: Vec<Term>,
}

impl SpfRecord {
    /// The `redirect=` target, if any.
    pub fn redirect(&self) -> Option<&str> {
        self.terms.iter().find_map(|t| match t {
            Term::Redirect(d) => Some(d.as_str()),
            _ => None,
        })
    }

    /// The qualifier of the `all` mechanism, if any.
    pub fn all(&self) -> Option<Qualifier> {
        self.terms.iter().find_map(|t| match t {
            Term::Directive(q, Mechanism::All) => Some(*q),
            _ => None,
        })
    }
}

/// Why a record does not parse; `term` is the offending text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid SPF term {term:?}: {reason}")]
pub struct SpfSyntaxError {
    /// The term as written.
    pub term: String,
    /// What is wrong.
    pub reason: String,
}

/// True when a TXT string is an SPF record: `v=spf1` followed by a space or the end
/// (RFC 7208 section 4.5; case-insensitive).
pub fn is_spf(txt: &str) -> bool {
    let t = txt.as_bytes();
    t.len() >= 6 && t[..6].eq_ignore_ascii_case(b"v=spf1") && (t.len() == 6 || t[6] == b' ')
}

/// Parses a record that [`is_spf`]. Records longer than 4096 octets are refused before
/// parsing (no real record comes close; DNS answers over 512 octets already break some
/// receivers, RFC 7208 section 3.4).
pub fn parse(txt: &str) -> Result<SpfRecord, SpfSyntaxError> {
    let err = |term: &str, reason: &str| SpfSyntaxError {
        term: term.chars().take(80).collect(),
        reason: reason.to_owned(),
    };
    if txt.len() > 4096 {
        return Err(err(txt, "record longer than 4096 octets"));
    }
    if !is_spf(txt) {
        return Err(err(txt, "does not start with v=spf1"));
    }
    let mut terms = Vec::new();
    let mut redirects = 0;
    let mut exps = 0;
    for raw in txt
        .get(6..)
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
    {
        let term = parse_term(raw).map_err(|reason| err(raw, &reason))?;
        match &term {
            Term::Redirect(_) => redirects += 1,
            Term::Exp(_) => exps += 1,
            _ => {}
        }
        terms.push(term);
    }
    if redirects > 1 || exps > 1 {
        // RFC 7208 section 6: these modifiers MUST NOT appear more than once.
        return Err(err(txt, "redirect= or exp= appears more than once"));
    }
    Ok(SpfRecord { terms })
}

fn parse_term(raw: &str) -> Result<Term, String> {
    // A modifier is name=value where name is ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ).
    if let Some((name, value)) = raw.split_once('=')
        && !name.contains(':')
        && !name.contains('/')
    {
        if name.is_empty()
            || !name.starts_with(|c: char| c.is_ascii_alphabetic())
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err("not a valid modifier name".into());
        }
        return Ok(match name.to_ascii_lowercase().as_str() {
            "redirect" => Term::Redirect(domain_spec(value)?),
            "exp" => Term::Exp(domain_spec(value)?),
            _ => Term::Unknown(name.to_owned(), value.to_owned()),
        });
    }
    let (qualifier, rest) = match raw.chars().next() {
        Some('+') => (Qualifier::Pass, &raw[1..]),
        Some('-') => (Qualifier::Fail, &raw[1..]),
        Some('~') => (Qualifier::SoftFail, &raw[1..]),
        Some('?') => (Qualifier::Neutral, &raw[1..]),
        _ => (Qualifier::Pass, raw),
    };
    let (name, arg) = match rest.find([':', '/']) {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    let mech = match name.to_ascii_lowercase().as_str() {
        "all" => {
            if arg.is_some() {
                return Err("`all` takes no argument".into());
            }
            Mechanism::All
        }
        "include" => Mechanism::Include(required_domain(arg)?),
        "exists" => Mechanism::Exists(required_domain(arg)?),
        "a" => Mechanism::A(optional_domain_with_cidr(arg)?),
        "mx" => Mechanism::Mx(optional_domain_with_cidr(arg)?),
        "ptr" => {
            if arg.is_some_and(|a| a.starts_with('/')) {
                return Err("`ptr` takes no prefix length".into());
            }
            Mechanism::Ptr(arg.map(|a| domain_spec(&a[1..])).transpose()?)
        }
        "ip4" => {
            let a = arg
                .and_then(|a| a.strip_prefix(':'))
                .ok_or("ip4 needs :address")?;
            let (addr, len) = split_cidr(a, 32)?;
            let ip: Ipv4Addr = addr
                .parse()
                .map_err(|_| format!("{addr:?} is not an IPv4 address"))?;
            Mechanism::Ip4(ip, len)
        }
        "ip6" => {
            let a = arg
                .and_then(|a| a.strip_prefix(':'))
                .ok_or("ip6 needs :address")?;
            let (addr, len) = split_cidr(a, 128)?;
            let ip: Ipv6Addr = addr
                .parse()
                .map_err(|_| format!("{addr:?} is not an IPv6 address"))?;
            Mechanism::Ip6(ip, len)
        }
        _ => return Err(format!("unknown mechanism {name:?}")),
    };
    Ok(Term::Directive(qualifier, mech))
}

fn split_cidr(a: &str, max: u8) -> Result<(&str, u8), String> {
    match a.split_once('/') {
        None => Ok((a, max)),
        Some((addr, len)) => {
            let n: u8 = len
                .parse()
                .map_err(|_| format!("prefix length {len:?} is not a number"))?;
            if n > max || (len.len() > 1 && len.starts_with('0')) {
                return Err(format!("prefix length /{len} out of range 0..={max}"));
            }
            Ok((addr, n))
        }
    }
}

fn required_domain(arg: Option<&str>) -> Result<String, String> {
    let a = arg
        .and_then(|a| a.strip_prefix(':'))
        .ok_or("needs :domain")?;
    domain_spec(a)
}

/// `a` and `mx` take `[:domain][/cidr4][//cidr6]`; the prefix lengths are validated and
/// dropped, as the audit has no client address to match.
fn optional_domain_with_cidr(arg: Option<&str>) -> Result<Option<String>, String> {
    let Some(a) = arg else { return Ok(None) };
    let (dom, cidr) = match a.find('/') {
        Some(i) => (&a[..i], Some(&a[i..])),
        None => (a, None),
    };
    if let Some(c) = cidr {
        let (v4, v6) = match c.strip_prefix("//") {
            Some(v6) => (None, Some(v6)),
            None => {
                let c = &c[1..];
                match c.split_once("//") {
                    Some((v4, v6)) => (Some(v4), Some(v6)),
                    None => (Some(c), None),
                }
            }
        };
        if let Some(v4) = v4 {
            split_cidr(&format!("x/{v4}"), 32)?;
        }
        if let Some(v6) = v6 {
            split_cidr(&format!("x/{v6}"), 128)?;
        }
    }
    if dom.is_empty() {
        return Ok(None);
    }
    let d = dom.strip_prefix(':').ok_or("expected :domain")?;
    domain_spec(d).map(Some)
}

/// Checks a domain-spec (RFC 7208 section 7.1): macros are allowed, and must be well formed.
fn domain_spec(d: &str) -> Result<String, String> {
    if d.is_empty() {
        return Err("empty domain".into());
    }
    if d.len() > 253 + 64 {
        return Err("domain too long".into());
    }
    check_macros(d)?;
    if !d.contains('%') {
        let plain = d.trim_end_matches('.');
        if plain.is_empty()
            || plain
                .split('.')
                .any(|l| l.is_empty() || l.len() > 63 || l.chars().any(|c| c.is_whitespace()))
        {
            return Err(format!("{d:?} is not a domain name"));
        }
    }
    Ok(d.to_owned())
}

/// Validates macro syntax (RFC 7208 section 7.1): `%{` letter [digits] [`r`] [delimiters] `}`,
/// `%%`, `%_`, `%-`.
pub fn check_macros(s: &str) -> Result<(), String> {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        match chars.next() {
            Some('%' | '_' | '-') => {}
            Some('{') => {
                let letter = chars.next().ok_or("unterminated macro")?;
                if !"slodiphcrtvSLODIPHCRTV".contains(letter) {
                    return Err(format!("unknown macro letter {letter:?}"));
                }
                let mut closed = false;
                for m in chars.by_ref() {
                    if m == '}' {
                        closed = true;
                        break;
                    }
                    if !(m.is_ascii_digit() || m == 'r' || m == 'R' || ".-+,/_=".contains(m)) {
                        return Err(format!("invalid character {m:?} in macro"));
                    }
                }
                if !closed {
                    return Err("unterminated macro".into());
                }
            }
            _ => return Err("`%` must be followed by {, %, _ or -".into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_records() {
        let r = parse("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx:mail.example.test/24 include:_spf.example.test ~all").unwrap();
        assert_eq!(r.terms.len(), 6);
        assert_eq!(r.all(), Some(Qualifier::SoftFail));
        assert!(
            matches!(&r.terms[3], Term::Directive(Qualifier::Pass, Mechanism::Mx(Some(d))) if d == "mail.example.test")
        );
        let r = parse("v=spf1 redirect=_spf.example.test").unwrap();
        assert_eq!(r.redirect(), Some("_spf.example.test"));
        assert!(parse("v=spf1").unwrap().terms.is_empty());
        assert!(parse("V=SPF1 -ALL").is_ok());
        assert!(parse("v=spf1 a//64 mx/24//64 -all").is_ok());
    }

    #[test]
    fn rejects_bad_terms() {
        for bad in [
            "v=spf1 ip4:300.1.1.1",
            "v=spf1 ip4:192.0.2.0/33",
            "v=spf1 include",
            "v=spf1 foo:bar",
            "v=spf1 all:x",
            "v=spf1 redirect=a.test redirect=b.test",
            "v=spf1 exists:%{z}.test",
            "v=spf1 exists:%{i.test",
            "v=spf1 include:a..test",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(!is_spf("v=spf10"));
        assert!(!is_spf("spf2.0/pra"));
    }

    #[test]
    fn accepts_macros() {
        let r = parse("v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all").unwrap();
        assert!(
            matches!(&r.terms[0], Term::Directive(_, Mechanism::Exists(d)) if d.contains("%{ir}"))
        );
    }

    #[test]
    fn unknown_modifiers_are_kept() {
        let r = parse("v=spf1 foo=bar -all").unwrap();
        assert!(matches!(&r.terms[0], Term::Unknown(n, v) if n == "foo" && v == "bar"));
    }
}
