//! DANE for SMTP (RFC 7672, RFC 6698): TLSA records at `_25._tcp.<mx>`, whether they can be
//! trusted (DNSSEC), whether their parameters suit SMTP, and matching against the chain a
//! server presents.

use sha2::{Digest as _, Sha256, Sha512};

use crate::finding::{Finding, Practice, Status};
use crate::resolver::{Dnssec, Resolve, RrType, Tlsa};

/// Why a TLSA record set did or did not match a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The record that matched, if any.
    pub record: Option<Tlsa>,
    /// Records that could not be used (and why), for evidence.
    pub skipped: Vec<String>,
}

/// Matches `tlsa` against a presented chain (`chain_der[0]` the server's certificate, then
/// the intermediates, as the SMTP probe receives them). Following RFC 7672 section 3.1, only
/// DANE-EE(3) and DANE-TA(2) are usable for SMTP; PKIX usages are skipped. DANE-EE matches the
/// leaf only; DANE-TA matches any certificate of the chain (name checks of DANE-TA, section
/// 3.2.2, are the SMTP probe's job since it knows the host it connected to).
/// Returns the first matching record.
pub fn matches(tlsa: &[Tlsa], chain_der: &[Vec<u8>]) -> Match {
    let mut skipped = Vec::new();
    for rec in tlsa {
        let candidates: &[Vec<u8>] = match rec.usage {
            3 => chain_der.get(..1).unwrap_or(&[]),
            2 => chain_der,
            u => {
                skipped.push(format!(
                    "usage {u} (PKIX) is not used for SMTP, RFC 7672 section 3.1.3"
                ));
                continue;
            }
        };
        for cert in candidates {
            let selected: Vec<u8> = match rec.selector {
                0 => cert.clone(),
                1 => match spki(cert) {
                    Some(s) => s,
                    None => {
                        skipped.push("certificate does not parse".into());
                        continue;
                    }
                },
                s => {
                    skipped.push(format!("unknown selector {s}"));
                    break;
                }
            };
            let digest: Vec<u8> = match rec.matching {
                0 => selected,
                1 => Sha256::digest(&selected).to_vec(),
                2 => Sha512::digest(&selected).to_vec(),
                m => {
                    skipped.push(format!("unknown matching type {m}"));
                    break;
                }
            };
            if digest == rec.data {
                return Match {
                    record: Some(rec.clone()),
                    skipped,
                };
            }
        }
    }
    Match {
        record: None,
        skipped,
    }
}

/// The DER SubjectPublicKeyInfo of a certificate.
fn spki(cert_der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der).ok()?;
    Some(cert.public_key().raw.to_vec())
}

/// Checks one record's parameters for SMTP (RFC 7672 section 3.1, RFC 7671 section 5).
fn judge(rec: &Tlsa) -> Result<(), String> {
    let len_ok = match rec.matching {
        0 => !rec.data.is_empty(),
        1 => rec.data.len() == 32,
        2 => rec.data.len() == 64,
        m => return Err(format!("matching type {m} is unknown")),
    };
    if !len_ok {
        return Err(format!(
            "data length {} does not fit matching type {}",
            rec.data.len(),
            rec.matching
        ));
    }
    if rec.selector > 1 {
        return Err(format!("selector {} is unknown", rec.selector));
    }
    match rec.usage {
        2 | 3 => Ok(()),
        0 | 1 => Err(format!(
            "usage {} (PKIX-{}) SHOULD NOT be used for SMTP (RFC 7672 section 3.1.3)",
            rec.usage,
            if rec.usage == 0 { "TA" } else { "EE" }
        )),
        u => Err(format!("usage {u} is unknown")),
    }
}

fn show(r: &Tlsa) -> String {
    let hex: String = r.data.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{} {} {} {hex}{}",
        r.usage,
        r.selector,
        r.matching,
        if r.data.len() > 16 { "..." } else { "" }
    )
}

/// DANE findings for one MX host. `chain` is the certificate chain the SMTP probe saw, when
/// it ran.
pub async fn check_mx<R: Resolve>(r: &R, mx: &str, chain: Option<&[Vec<u8>]>) -> Vec<Finding> {
    let hard = Practice::Hardening;
    let name = format!("_25._tcp.{mx}");
    let ans = match r.query(&name, RrType::Tlsa).await {
        Ok(a) => a,
        Err(e) if e.bogus => {
            return vec![
                Finding::new("dane.dnssec", hard, Status::Fail, format!("{mx}: TLSA records fail DNSSEC validation (bogus): DANE senders defer mail"))
                    .evidence(e.to_string())
                    .fix("RFC 7672 section 2.2: fix the zone's signatures or the DS records at the parent (a botched key rollover is the usual cause)."),
            ];
        }
        Err(e) => return vec![Finding::new("dane.tlsa", hard, Status::Fail, format!("{mx}: TLSA lookup failed; DANE senders defer mail")).evidence(e.to_string())
            .fix("RFC 7672 section 2.2.1: the zone's servers must answer TLSA queries (also with NXDOMAIN or no data); a failure makes DANE senders defer.")],
    };
    let records = ans.tlsa();
    if records.is_empty() {
        return vec![Finding::new(
            "dane.tlsa",
            hard,
            Status::Info,
            format!("{mx}: no TLSA records (DANE not deployed)"),
        )];
    }
    let mut out = Vec::new();
    let ev: Vec<String> = records.iter().map(show).collect();
    let f = match ans.dnssec {
        Dnssec::Secure => Finding::new("dane.dnssec", hard, Status::Pass, format!("{mx}: TLSA records are DNSSEC-signed and validate")),
        Dnssec::Insecure => Finding::new("dane.dnssec", hard, Status::Fail, format!("{mx}: TLSA records in an unsigned zone: senders ignore them"))
            .fix("RFC 7672 section 2.2: TLSA records are only used when DNSSEC validates them; sign the zone (and the MX host's zone)."),
        Dnssec::Bogus => Finding::new("dane.dnssec", hard, Status::Fail, format!("{mx}: TLSA records fail DNSSEC validation: DANE senders defer mail"))
            .fix("RFC 7672 section 2.2: fix the zone's signatures or DS records."),
        Dnssec::Indeterminate => Finding::new("dane.dnssec", hard, Status::Warn, format!("{mx}: DNSSEC status unknown (validation off)"))
            .fix("Run without --no-dnssec to judge DANE."),
    };
    out.push(
        ev.iter()
            .fold(f, |f, e| f.evidence(format!("{name} TLSA {e}"))),
    );
    let problems: Vec<String> = records
        .iter()
        .filter_map(|r| judge(r).err().map(|e| format!("{}: {e}", show(r))))
        .collect();
    let usable = records.iter().any(|r| judge(r).is_ok());
    out.push(if problems.is_empty() {
        Finding::new("dane.tlsa", hard, Status::Pass, format!("{mx}: {} TLSA records with DANE-EE/DANE-TA parameters", records.len()))
    } else {
        let mut f = Finding::new("dane.tlsa", hard, if usable { Status::Warn } else { Status::Fail }, format!("{mx}: TLSA records unfit for SMTP"))
            .fix("RFC 7672 section 3.1: publish \"3 1 1 <sha256 of the server's public key>\" (DANE-EE) or \"2 1 1\" for the issuing CA.");
        for p in problems {
            f = f.evidence(p);
        }
        f
    });
    if let Some(chain) = chain {
        let m = matches(&records, chain);
        out.push(match m.record {
            Some(rec) => Finding::new("dane.match", hard, Status::Pass, format!("{mx}: the presented certificate matches TLSA {}", show(&rec))),
            None => {
                let mut f = Finding::new("dane.match", hard, Status::Fail, format!("{mx}: no TLSA record matches the presented certificate: DANE senders will not deliver"))
                    .fix("RFC 7671 section 8 (key rollover): publish the new key's TLSA record before deploying the certificate, keep the old one until the switch.");
                for s in m.skipped {
                    f = f.evidence(s);
                }
                f
            }
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_parameters() {
        let t = |usage, selector, matching, n| Tlsa {
            usage,
            selector,
            matching,
            data: vec![0; n],
        };
        assert!(judge(&t(3, 1, 1, 32)).is_ok());
        assert!(judge(&t(2, 0, 2, 64)).is_ok());
        assert!(judge(&t(3, 1, 1, 31)).is_err());
        assert!(judge(&t(1, 1, 1, 32)).is_err());
        assert!(judge(&t(3, 2, 1, 32)).is_err());
        assert!(judge(&t(3, 1, 7, 32)).is_err());
    }

    #[test]
    fn full_certificate_exact_and_hashed_match() {
        let cert = b"not really a certificate".to_vec();
        let exact = Tlsa {
            usage: 3,
            selector: 0,
            matching: 0,
            data: cert.clone(),
        };
        assert!(
            matches(&[exact], std::slice::from_ref(&cert))
                .record
                .is_some()
        );
        let hashed = Tlsa {
            usage: 3,
            selector: 0,
            matching: 1,
            data: Sha256::digest(&cert).to_vec(),
        };
        assert!(
            matches(std::slice::from_ref(&hashed), std::slice::from_ref(&cert))
                .record
                .is_some()
        );
        // DANE-EE only looks at the leaf.
        let other = b"leaf".to_vec();
        assert!(
            matches(
                std::slice::from_ref(&hashed),
                &[other.clone(), cert.clone()]
            )
            .record
            .is_none()
        );
        let ta = Tlsa { usage: 2, ..hashed };
        assert!(matches(&[ta], &[other, cert]).record.is_some());
        let pkix = Tlsa {
            usage: 1,
            selector: 0,
            matching: 0,
            data: b"x".to_vec(),
        };
        let m = matches(&[pkix], &[b"x".to_vec()]);
        assert!(m.record.is_none() && !m.skipped.is_empty());
    }
}
