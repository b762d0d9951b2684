//! What a server certificate says, read with x509-parser, and whether it names the host we
//! dialled. Kept apart from the handshake so it is pure: DER in, facts out, the clock passed in.

use serde::{Deserialize, Serialize};
use x509_parser::extensions::GeneralName;
use x509_parser::objects::{oid_registry, oid2sn};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

/// The facts about one certificate of the chain that the findings need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateInfo {
    /// Subject distinguished name, RFC 4514 form.
    pub subject: String,
    /// Issuer distinguished name, RFC 4514 form.
    pub issuer: String,
    /// Subject common names (used for name checks only when there is no DNS SAN).
    pub common_names: Vec<String>,
    /// subjectAltName dNSName entries.
    pub dns_names: Vec<String>,
    /// subjectAltName iPAddress entries, printed.
    pub ip_addresses: Vec<String>,
    /// notBefore, seconds since the Unix epoch.
    pub not_before: i64,
    /// notAfter, seconds since the Unix epoch.
    pub not_after: i64,
    /// Key algorithm short name (`rsaEncryption`, `id-ecPublicKey`, `ED25519`).
    pub key_algorithm: String,
    /// Named curve for EC keys (`prime256v1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_curve: Option<String>,
    /// Key size in bits (0 when unknown).
    pub key_bits: usize,
    /// Signature algorithm short name (`sha256WithRSAEncryption`).
    pub signature_algorithm: String,
    /// Subject equals issuer: a self-issued (normally self-signed) certificate.
    pub self_issued: bool,
    /// basicConstraints cA flag.
    pub is_ca: bool,
}

/// A certificate we could not read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("certificate {index} of the chain is not valid DER X.509: {reason}")]
pub struct CertificateError {
    /// Position in the chain (0 = the server's own certificate).
    pub index: usize,
    /// What the parser said.
    pub reason: String,
}

fn oid_name(oid: &x509_parser::der_parser::oid::Oid<'_>) -> String {
    oid2sn(oid, oid_registry())
        .map(str::to_owned)
        .unwrap_or_else(|_| oid.to_id_string())
}

/// Reads one DER certificate.
pub fn analyse(der: &[u8], index: usize) -> Result<CertificateInfo, CertificateError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| CertificateError {
        index,
        reason: e.to_string(),
    })?;
    let mut dns_names = Vec::new();
    let mut ip_addresses = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(n) => dns_names.push((*n).to_owned()),
                GeneralName::IPAddress(b) => ip_addresses.push(print_ip(b)),
                _ => {}
            }
        }
    }
    let common_names = cert
        .subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok().map(str::to_owned))
        .collect();
    let spki = cert.public_key();
    let key_algorithm = oid_name(&spki.algorithm.algorithm);
    let key_curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|oid| oid_name(&oid));
    let key_bits = match spki.parsed() {
        Ok(PublicKey::Unknown(_)) | Err(_) => match key_algorithm.as_str() {
            "ED25519" | "Ed25519" => 256,
            "ED448" | "Ed448" => 456,
            _ => 0,
        },
        Ok(k) => k.key_size(),
    };
    Ok(CertificateInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        common_names,
        dns_names,
        ip_addresses,
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        key_algorithm,
        key_curve,
        key_bits,
        signature_algorithm: oid_name(&cert.signature_algorithm.algorithm),
        self_issued: cert.subject().as_raw() == cert.issuer().as_raw(),
        is_ca: cert.is_ca(),
    })
}

fn print_ip(bytes: &[u8]) -> String {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        std::net::Ipv4Addr::from(v4).to_string()
    } else if let Ok(v6) = <[u8; 16]>::try_from(bytes) {
        std::net::Ipv6Addr::from(v6).to_string()
    } else {
        format!("<{} bytes>", bytes.len())
    }
}

/// Does the certificate name `host`? RFC 7817 section 3 (TLS server identity for email
/// protocols) defers to RFC 6125: DNS SANs are the reference identifiers, the CN is used only
/// when there is no DNS SAN (RFC 6125 section 6.4.4), and a wildcard stands for exactly one
/// whole left-most label (section 6.4.3; partial-label wildcards such as `w*.example` are
/// refused, as RFC 9525 later made mandatory).
pub fn names_host(info: &CertificateInfo, host: &str) -> bool {
    let host = host.trim_end_matches('.');
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return info.ip_addresses.iter().any(|a| a == &ip.to_string());
    }
    let candidates: &[String] = if info.dns_names.is_empty() {
        &info.common_names
    } else {
        &info.dns_names
    };
    candidates
        .iter()
        .any(|pattern| dns_name_matches(pattern, host))
}

/// One pattern against one host name, case-insensitively (RFC 6125 section 6.4.1, 6.4.3).
pub fn dns_name_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if pattern.is_empty() || host.is_empty() {
        return false;
    }
    match pattern.strip_prefix("*.") {
        Some(rest) => {
            // The wildcard covers one label; the rest must have at least two labels so that
            // `*.com` never matches (RFC 6125 section 7.2).
            if rest.contains('*') || !rest.contains('.') {
                return false;
            }
            match host.split_once('.') {
                Some((label, host_rest)) => !label.is_empty() && host_rest == rest,
                None => false,
            }
        }
        None => !pattern.contains('*') && pattern == host,
    }
}

/// Signature algorithms that no longer protect a certificate (SHA-1 and MD5: collisions are
/// practical). A self-signed root's own signature does not matter, so callers skip roots.
pub fn weak_signature(info: &CertificateInfo) -> bool {
    let s = info.signature_algorithm.to_ascii_lowercase();
    s.contains("md5") || s.contains("md2") || (s.contains("sha1") && !s.contains("sha1withrsa-pss"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_rules() {
        assert!(dns_name_matches("*.example.net", "mx1.example.net"));
        assert!(dns_name_matches("*.Example.NET.", "MX1.example.net"));
        assert!(!dns_name_matches("*.example.net", "example.net"));
        assert!(!dns_name_matches("*.example.net", "a.b.example.net"));
        assert!(!dns_name_matches("*.net", "example.net"));
        assert!(!dns_name_matches("mx*.example.net", "mx1.example.net"));
        assert!(!dns_name_matches("*", "localhost"));
        assert!(dns_name_matches("mx.example.net", "mx.example.net."));
        assert!(!dns_name_matches("", "mx.example.net"));
    }

    fn info(dns: &[&str], cn: &[&str]) -> CertificateInfo {
        CertificateInfo {
            subject: String::new(),
            issuer: String::new(),
            common_names: cn.iter().map(|s| s.to_string()).collect(),
            dns_names: dns.iter().map(|s| s.to_string()).collect(),
            ip_addresses: vec!["127.0.0.1".into()],
            not_before: 0,
            not_after: 0,
            key_algorithm: "rsaEncryption".into(),
            key_curve: None,
            key_bits: 2048,
            signature_algorithm: "sha1WithRSAEncryption".into(),
            self_issued: false,
            is_ca: false,
        }
    }

    #[test]
    fn cn_only_counts_without_dns_san() {
        assert!(names_host(
            &info(&[], &["mx.example.net"]),
            "mx.example.net"
        ));
        assert!(!names_host(
            &info(&["other.example.net"], &["mx.example.net"]),
            "mx.example.net"
        ));
        assert!(names_host(&info(&[], &[]), "127.0.0.1"));
        assert!(!names_host(&info(&[], &[]), "127.0.0.2"));
    }

    #[test]
    fn sha1_is_weak() {
        assert!(weak_signature(&info(&[], &[])));
    }

    #[test]
    fn garbage_is_an_error() {
        let e = analyse(b"\x30\x03abc", 2).unwrap_err();
        assert_eq!(e.index, 2);
    }
}
