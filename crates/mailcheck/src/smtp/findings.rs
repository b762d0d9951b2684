//! Judgement: an [`SmtpProbe`] record becomes [`Finding`]s. Pure (the probe carries its own
//! clock), so every verdict is tested on hand-made records.
//!
//! Certificate trust is judged by port: on port 25 (MTA to MTA) opportunistic TLS with an
//! unvalidated certificate still beats clear text (RFC 7435, M3AAWG TLS for Mail), so an
//! untrusted chain is a warning; on submission and implicit-TLS ports users' clients validate,
//! so it fails.
//!
//! Finding ids (all `Practice::Transport` except the role addresses):
//!
//! | id | fails when |
//! |---|---|
//! | `smtp.connect` | no TCP connection |
//! | `smtp.banner` | greeting is not 220 (RFC 5321 section 4.3.1) |
//! | `smtp.dialogue` | the plain-text dialogue broke off or was malformed |
//! | `smtp.starttls` | STARTTLS not offered, refused, or its handshake fails (RFC 3207) |
//! | `smtp.auth_before_tls` | AUTH advertised before STARTTLS (RFC 8314 section 3.3) |
//! | `tls.implicit` | no implicit TLS handshake on 465/993/995 (RFC 8314 section 3) |
//! | `tls.protocol.version` | (pass/info) the version, suite and group negotiated |
//! | `tls.protocol.ssl3`, `.tls1_0`, `.tls1_1` | the server accepts them (RFC 7568, RFC 8996) |
//! | `tls.cert.expired` | expired or not yet valid; warns under 14 days left |
//! | `tls.cert.name` | no SAN (or CN without SAN) matches the host (RFC 7817, RFC 6125) |
//! | `tls.cert.trust` | no chain to a trust anchor; warn only on port 25 |
//! | `tls.cert.key` | RSA under 2048 bits, EC under 224 bits |
//! | `tls.cert.signature` | SHA-1 or MD5 signatures below the root |
//! | `tls.cert.parse`, `tls.cert.chain` | unreadable or missing certificate |
//! | `role.postmaster`, `role.abuse` | RCPT TO refused with 5xx (RFC 5321 section 4.5.1, RFC 2142) |

use super::certificate::{names_host, weak_signature};
use super::legacy::LegacyVerdict;
use super::{SmtpProbe, TlsMode, Validation};
use crate::{Finding, Practice, Status};

const DAY: i64 = 86_400;
/// Certificates closer than this to expiry get a warning: renewal has clearly stalled.
const EXPIRY_WARN_DAYS: i64 = 14;

/// All findings for one probe, in a stable order.
pub fn findings(p: &SmtpProbe) -> Vec<Finding> {
    let mut out = Vec::new();
    let target = format!("{}:{}", p.host, p.port);
    if let Some(e) = &p.connect_error {
        out.push(
            Finding::new(
                "smtp.connect",
                Practice::Transport,
                Status::Fail,
                format!("{target}: cannot connect"),
            )
            .evidence(e.clone())
            .fix(
                "Make sure the server listens on this port and that the firewall allows the probe.",
            ),
        );
        return out;
    }
    banner(p, &target, &mut out);
    starttls(p, &target, &mut out);
    auth_before_tls(p, &target, &mut out);
    if p.tls.is_some() || !p.certificates.is_empty() {
        session(p, &mut out);
        certificates(p, &mut out);
    }
    legacy(p, &mut out);
    roles(p, &mut out);
    out
}

fn banner(p: &SmtpProbe, target: &str, out: &mut Vec<Finding>) {
    if let Some(b) = &p.banner {
        let status = if b.code == 220 {
            Status::Info
        } else {
            Status::Fail
        };
        let mut f = Finding::new(
            "smtp.banner",
            Practice::Transport,
            status,
            format!("{target} greets with {}", b.code),
        )
        .evidence(b.text());
        if status == Status::Fail {
            f = f.fix("RFC 5321 section 4.3.1: a server that accepts mail greets with 220.");
        }
        out.push(f);
    } else if let Some(g) = &p.service_greeting {
        out.push(
            Finding::new(
                "smtp.banner",
                Practice::Transport,
                Status::Info,
                format!("{target} greets over TLS"),
            )
            .evidence(g.clone()),
        );
    }
    if let Some(e) = &p.dialogue_error {
        out.push(
            Finding::new("smtp.dialogue", Practice::Transport, Status::Fail, format!("{target}: SMTP dialogue broke off"))
                .evidence(e.clone())
                .fix("RFC 5321 section 4.2: every command gets a well-formed reply; check the server logs for this session."),
        );
    }
}

fn starttls(p: &SmtpProbe, target: &str, out: &mut Vec<Finding>) {
    let hint = "RFC 3207 and M3AAWG TLS for Mail (2014): offer STARTTLS on every SMTP server (e.g. Postfix smtpd_tls_security_level = may with a certificate).";
    match p.mode {
        TlsMode::StartTls => {
            if p.banner.as_ref().is_none_or(|b| b.code != 220) || p.ehlo.is_none() {
                return;
            }
            if !p.starttls_offered {
                out.push(
                    Finding::new(
                        "smtp.starttls",
                        Practice::Transport,
                        Status::Fail,
                        format!("{target} does not offer STARTTLS"),
                    )
                    .evidence(format!(
                        "EHLO keywords: {}",
                        p.keywords_before_tls().join(", ")
                    ))
                    .fix(hint),
                );
                return;
            }
            let mut f = match (&p.tls, &p.tls_error, &p.starttls_reply) {
                (Some(s), _, _) => Finding::new(
                    "smtp.starttls",
                    Practice::Transport,
                    Status::Pass,
                    format!("{target} offers STARTTLS and negotiates {}", s.version),
                ),
                (None, Some(e), _) => Finding::new(
                    "smtp.starttls",
                    Practice::Transport,
                    Status::Fail,
                    format!("{target} offers STARTTLS but the TLS handshake fails"),
                )
                .evidence(e.clone())
                .fix("RFC 3207 section 4: a server that advertises STARTTLS must complete the handshake; check its certificate, key and protocol settings."),
                (None, None, Some(r)) if r.code != 220 => Finding::new(
                    "smtp.starttls",
                    Practice::Transport,
                    Status::Fail,
                    format!("{target} advertises STARTTLS but refuses the command"),
                )
                .evidence(r.text())
                .fix(hint),
                _ => Finding::new(
                    "smtp.starttls",
                    Practice::Transport,
                    Status::Fail,
                    format!("{target} offers STARTTLS but the session broke off"),
                )
                .fix(hint),
            };
            if let Some(r) = &p.starttls_reply {
                f = f.evidence(format!("STARTTLS: {}", r.text()));
            }
            out.push(f);
        }
        TlsMode::Implicit => {
            let f = match (&p.tls, &p.tls_error) {
                (Some(s), _) => Finding::new(
                    "tls.implicit",
                    Practice::Transport,
                    Status::Pass,
                    format!("{target} speaks implicit TLS ({})", s.version),
                ),
                (None, e) => Finding::new(
                    "tls.implicit",
                    Practice::Transport,
                    Status::Fail,
                    format!("{target} does not complete an implicit TLS handshake"),
                )
                .evidence(e.clone().unwrap_or_default())
                .fix("RFC 8314 section 3: ports 465, 993 and 995 start TLS on connect."),
            };
            out.push(f);
        }
    }
}

fn auth_before_tls(p: &SmtpProbe, target: &str, out: &mut Vec<Finding>) {
    if p.mode != TlsMode::StartTls {
        return;
    }
    let auth: Vec<String> = p
        .keywords_before_tls()
        .into_iter()
        .filter(|k| k.starts_with("AUTH ") || k == "AUTH" || k.starts_with("AUTH="))
        .collect();
    if auth.is_empty() {
        if p.port == 587 && p.ehlo.is_some() {
            out.push(Finding::new(
                "smtp.auth_before_tls",
                Practice::Transport,
                Status::Pass,
                format!("{target} does not offer AUTH before STARTTLS"),
            ));
        }
        return;
    }
    out.push(
        Finding::new(
            "smtp.auth_before_tls",
            Practice::Transport,
            Status::Fail,
            format!("{target} offers AUTH before STARTTLS: passwords can travel in clear text"),
        )
        .evidence(auth.join("; "))
        .fix("RFC 8314 section 3.3 and M3AAWG TLS for Mail: advertise AUTH only inside TLS (Postfix smtpd_tls_auth_only = yes; Exim auth_advertise_hosts = ${if eq{$tls_in_cipher}{}{}{*}})."),
    );
}

fn session(p: &SmtpProbe, out: &mut Vec<Finding>) {
    let Some(s) = &p.tls else { return };
    let mut f = Finding::new(
        "tls.protocol.version",
        Practice::Transport,
        Status::Pass,
        format!("negotiated {} with {}", s.version, s.cipher_suite),
    )
    .evidence(format!("cipher suite: {}", s.cipher_suite));
    if let Some(g) = &s.key_exchange_group {
        f = f.evidence(format!("key exchange group: {g}"));
    }
    out.push(f);
}

fn certificates(p: &SmtpProbe, out: &mut Vec<Finding>) {
    for e in &p.certificate_errors {
        out.push(Finding::new(
            "tls.cert.parse",
            Practice::Transport,
            Status::Fail,
            e.clone(),
        ));
    }
    let Some(leaf) = p.certificates.first() else {
        if p.tls.is_some() {
            out.push(Finding::new(
                "tls.cert.chain",
                Practice::Transport,
                Status::Fail,
                "server sent no readable certificate",
            ));
        }
        return;
    };
    let now = p.checked_at;
    let dates = format!(
        "valid from {} to {}",
        unix_date(leaf.not_before),
        unix_date(leaf.not_after)
    );
    let expiry = if now > leaf.not_after {
        Finding::new(
            "tls.cert.expired",
            Practice::Transport,
            Status::Fail,
            format!("certificate expired {} days ago", (now - leaf.not_after) / DAY),
        )
        .fix("Renew the certificate (automate it, e.g. ACME); RFC 5280 section 4.1.2.5. MTA-STS senders (RFC 8461 section 4.2) refuse expired certificates.")
    } else if now < leaf.not_before {
        Finding::new("tls.cert.expired", Practice::Transport, Status::Fail, "certificate is not valid yet")
            .fix("Check the server clock and the certificate's notBefore date (RFC 5280 section 4.1.2.5).")
    } else if leaf.not_after - now < EXPIRY_WARN_DAYS * DAY {
        Finding::new(
            "tls.cert.expired",
            Practice::Transport,
            Status::Warn,
            format!(
                "certificate expires in {} days",
                (leaf.not_after - now) / DAY
            ),
        )
        .fix("Renew now; automated renewal seems to have stalled.")
    } else {
        Finding::new(
            "tls.cert.expired",
            Practice::Transport,
            Status::Pass,
            format!(
                "certificate valid for {} more days",
                (leaf.not_after - now) / DAY
            ),
        )
    };
    out.push(expiry.evidence(dates));

    let names: Vec<String> = if leaf.dns_names.is_empty() && leaf.ip_addresses.is_empty() {
        leaf.common_names
            .iter()
            .map(|c| format!("CN={c}"))
            .collect()
    } else {
        leaf.dns_names
            .iter()
            .chain(&leaf.ip_addresses)
            .cloned()
            .collect()
    };
    let name_ok = names_host(leaf, &p.server_name);
    let mut f = Finding::new(
        "tls.cert.name",
        Practice::Transport,
        if name_ok { Status::Pass } else { Status::Fail },
        if name_ok {
            format!("certificate names {}", p.server_name)
        } else {
            format!("certificate does not name {}", p.server_name)
        },
    )
    .evidence(format!("names: {}", names.join(", ")));
    if !name_ok {
        f = f.fix("RFC 7817 section 3 and RFC 6125 section 6.4: put the MX host name in the certificate's subjectAltName (MTA-STS, RFC 8461 section 4.2, requires it).");
    }
    out.push(f);

    let untrusted_status = if p.mode == TlsMode::StartTls && p.port == 25 {
        Status::Warn
    } else {
        Status::Fail
    };
    let trust = match &p.validation {
        Some(Validation::Valid) => Finding::new(
            "tls.cert.trust",
            Practice::Transport,
            Status::Pass,
            "certificate chains to a trusted root",
        ),
        // webpki checks the name only after the chain: a name error means the chain is trusted,
        // and the name problem is already `tls.cert.name`.
        Some(Validation::WrongName { reason }) => Finding::new(
            "tls.cert.trust",
            Practice::Transport,
            Status::Pass,
            "certificate chains to a trusted root (its names are checked under tls.cert.name)",
        )
        .evidence(format!("validation: {reason}")),
        Some(Validation::Invalid { reason }) => {
            let summary = if leaf.self_issued {
                "certificate is self-signed".to_owned()
            } else {
                format!("certificate is not trusted ({reason})")
            };
            Finding::new("tls.cert.trust", Practice::Transport, untrusted_status, summary)
                .evidence(format!("validation: {reason}"))
                .evidence(format!("issuer: {}", leaf.issuer))
                .fix("Use a certificate from a public CA with the full chain (MTA-STS, RFC 8461 section 4.2, needs one), or publish DANE-EE TLSA records (RFC 7672 section 3.1.1).")
        }
        None => Finding::new(
            "tls.cert.trust",
            Practice::Transport,
            Status::Info,
            "certificate chain was not validated",
        ),
    };
    out.push(trust);

    let key_desc = match &leaf.key_curve {
        Some(c) => format!("{} {} ({} bits)", leaf.key_algorithm, c, leaf.key_bits),
        None => format!("{} {} bits", leaf.key_algorithm, leaf.key_bits),
    };
    let is_rsa = leaf.key_algorithm.to_ascii_lowercase().contains("rsa");
    let weak_key =
        (is_rsa && leaf.key_bits < 2048) || (!is_rsa && leaf.key_bits != 0 && leaf.key_bits < 224);
    let mut f = Finding::new(
        "tls.cert.key",
        Practice::Transport,
        if weak_key { Status::Fail } else { Status::Pass },
        format!("certificate key: {key_desc}"),
    );
    if weak_key {
        f = f.fix("M3AAWG TLS for Mail and NIST SP 800-57: use RSA keys of at least 2048 bits or an ECDSA P-256 key.");
    }
    out.push(f);

    // The root's self-signature is not checked by anyone, so only non-root certificates count.
    let weak: Vec<String> = p
        .certificates
        .iter()
        .filter(|c| !c.self_issued || p.certificates.len() == 1)
        .filter(|c| weak_signature(c))
        .map(|c| format!("{}: {}", c.subject, c.signature_algorithm))
        .collect();
    let f = if weak.is_empty() {
        Finding::new(
            "tls.cert.signature",
            Practice::Transport,
            Status::Pass,
            format!("certificate signed with {}", leaf.signature_algorithm),
        )
    } else {
        let mut f = Finding::new(
            "tls.cert.signature",
            Practice::Transport,
            Status::Fail,
            "certificate chain uses a broken signature algorithm (SHA-1 or MD5)",
        )
        .fix("Reissue the certificate with SHA-256 or better (CA/Browser Forum baseline requirements; RFC 9155 deprecates SHA-1 in TLS 1.2).");
        for w in weak {
            f = f.evidence(w);
        }
        f
    };
    out.push(f);
}

fn legacy(p: &SmtpProbe, out: &mut Vec<Finding>) {
    for r in &p.legacy {
        let v = r.version;
        let id = format!("tls.protocol.{}", v.id());
        let (rfc, fail_status) = match v {
            super::LegacyVersion::Ssl3 => ("RFC 7568 (SSLv3 MUST NOT be used)", Status::Fail),
            _ => (
                "RFC 8996 (TLS 1.0 and 1.1 MUST NOT be used; RFC 8997 applies it to mail)",
                Status::Fail,
            ),
        };
        let f = match &r.verdict {
            LegacyVerdict::Accepted { cipher_suite } => Finding::new(
                &id,
                Practice::Transport,
                fail_status,
                format!("server still accepts {}", v.name()),
            )
            .evidence(format!("ServerHello {} with cipher suite 0x{cipher_suite:04x}", v.name()))
            .fix(format!("{rfc}; M3AAWG TLS for Mail recommends TLS 1.2 as the floor. E.g. Postfix smtpd_tls_protocols = >=TLSv1.2, OpenSSL MinProtocol = TLSv1.2.")),
            LegacyVerdict::Rejected { reason } => Finding::new(
                &id,
                Practice::Transport,
                Status::Pass,
                format!("server refuses {}", v.name()),
            )
            .evidence(reason.clone()),
            LegacyVerdict::Inconclusive { reason } => Finding::new(
                &id,
                Practice::Transport,
                Status::Info,
                format!("could not tell whether the server accepts {}", v.name()),
            )
            .evidence(reason.clone()),
        };
        out.push(f);
    }
}

fn roles(p: &SmtpProbe, out: &mut Vec<Finding>) {
    for r in &p.roles {
        let local = r.address.split('@').next().unwrap_or("role");
        let id = format!("role.{local}");
        let rfc = if local == "postmaster" {
            "RFC 5321 section 4.5.1: every domain that accepts mail MUST accept postmaster@."
        } else {
            "RFC 2142 section 2 and the M3AAWG Sender BCP: accept and read abuse@ for the domain."
        };
        let f = match (&r.reply, &r.error) {
            (Some(reply), _) if reply.is_positive() => Finding::new(
                &id,
                Practice::RoleAddresses,
                Status::Pass,
                format!("{} is accepted", r.address),
            )
            .evidence(reply.text()),
            (Some(reply), _) if (500..600).contains(&reply.code) => Finding::new(
                &id,
                Practice::RoleAddresses,
                Status::Fail,
                format!("{} is refused", r.address),
            )
            .evidence(reply.text())
            .fix(rfc),
            (Some(reply), _) => Finding::new(
                &id,
                Practice::RoleAddresses,
                Status::Warn,
                format!("{} got a temporary answer", r.address),
            )
            .evidence(reply.text()),
            (None, e) => Finding::new(
                &id,
                Practice::RoleAddresses,
                Status::Info,
                format!("{} could not be checked", r.address),
            )
            .evidence(e.clone().unwrap_or_default()),
        };
        out.push(f);
    }
}

/// Formats Unix seconds as a UTC date (civil-from-days, H. Hinnant's algorithm) without pulling
/// a date crate into the judgement.
fn unix_date(t: i64) -> String {
    let days = t.div_euclid(DAY);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::{
        CertificateInfo, LegacyResult, LegacyVersion, ProbeOptions, Reply, RoleCheck, TlsSession,
    };

    fn base() -> SmtpProbe {
        let addr = "127.0.0.1:25".parse().unwrap();
        let mut p = SmtpProbe::new(
            "mx.example.net",
            addr,
            &ProbeOptions::default(),
            "mx.example.net",
        );
        p.checked_at = 1_800_000_000;
        p.banner = Some(Reply {
            code: 220,
            lines: vec!["mx ESMTP".into()],
        });
        p.ehlo = Some(Reply {
            code: 250,
            lines: vec!["mx".into(), "STARTTLS".into(), "AUTH PLAIN".into()],
        });
        p.starttls_offered = true;
        p.starttls_reply = Some(Reply {
            code: 220,
            lines: vec!["go".into()],
        });
        p.tls = Some(TlsSession {
            version: "TLSv1_3".into(),
            cipher_suite: "TLS13_AES_128_GCM_SHA256".into(),
            key_exchange_group: Some("X25519".into()),
        });
        p.validation = Some(Validation::Invalid {
            reason: "UnknownIssuer".into(),
        });
        p.certificates = vec![CertificateInfo {
            subject: "CN=mx.example.net".into(),
            issuer: "CN=mx.example.net".into(),
            common_names: vec!["mx.example.net".into()],
            dns_names: vec!["*.example.net".into()],
            ip_addresses: vec![],
            not_before: 1_700_000_000,
            not_after: 1_800_000_000 + 5 * DAY,
            key_algorithm: "rsaEncryption".into(),
            key_curve: None,
            key_bits: 1024,
            signature_algorithm: "sha256WithRSAEncryption".into(),
            self_issued: true,
            is_ca: false,
        }];
        p.legacy = vec![
            LegacyResult {
                version: LegacyVersion::Ssl3,
                verdict: LegacyVerdict::Rejected {
                    reason: "alert".into(),
                },
            },
            LegacyResult {
                version: LegacyVersion::Tls1_0,
                verdict: LegacyVerdict::Accepted {
                    cipher_suite: 0xc013,
                },
            },
            LegacyResult {
                version: LegacyVersion::Tls1_1,
                verdict: LegacyVerdict::Inconclusive {
                    reason: "timeout".into(),
                },
            },
        ];
        p.roles = vec![
            RoleCheck {
                address: "postmaster@example.net".into(),
                reply: Some(Reply {
                    code: 250,
                    lines: vec!["ok".into()],
                }),
                error: None,
            },
            RoleCheck {
                address: "abuse@example.net".into(),
                reply: Some(Reply {
                    code: 550,
                    lines: vec!["no".into()],
                }),
                error: None,
            },
        ];
        p
    }

    fn status(f: &[Finding], id: &str) -> Status {
        f.iter()
            .find(|f| f.id == id)
            .unwrap_or_else(|| panic!("no {id} in {f:#?}"))
            .status
    }

    #[test]
    fn judges_every_part() {
        let f = findings(&base());
        assert_eq!(status(&f, "smtp.starttls"), Status::Pass);
        assert_eq!(status(&f, "smtp.auth_before_tls"), Status::Fail);
        assert_eq!(status(&f, "tls.cert.expired"), Status::Warn);
        assert_eq!(status(&f, "tls.cert.name"), Status::Pass);
        assert_eq!(status(&f, "tls.cert.trust"), Status::Warn);
        assert_eq!(status(&f, "tls.cert.key"), Status::Fail);
        assert_eq!(status(&f, "tls.cert.signature"), Status::Pass);
        assert_eq!(status(&f, "tls.protocol.ssl3"), Status::Pass);
        assert_eq!(status(&f, "tls.protocol.tls1_0"), Status::Fail);
        assert_eq!(status(&f, "tls.protocol.tls1_1"), Status::Info);
        assert_eq!(status(&f, "role.postmaster"), Status::Pass);
        assert_eq!(status(&f, "role.abuse"), Status::Fail);
        assert!(
            f.iter()
                .filter(|f| f.status == Status::Fail)
                .all(|f| f.fix.is_some())
        );
    }

    #[test]
    fn trust_fails_on_submission_and_expiry_counts() {
        let mut p = base();
        p.port = 587;
        p.checked_at = 1_800_000_000 + 10 * DAY;
        let f = findings(&p);
        assert_eq!(status(&f, "tls.cert.trust"), Status::Fail);
        assert_eq!(status(&f, "tls.cert.expired"), Status::Fail);
    }

    #[test]
    fn no_starttls_and_no_connection() {
        let mut p = base();
        p.starttls_offered = false;
        p.tls = None;
        p.certificates.clear();
        p.legacy.clear();
        let f = findings(&p);
        assert_eq!(status(&f, "smtp.starttls"), Status::Fail);
        assert!(!f.iter().any(|f| f.id.starts_with("tls.cert")));
        p.connect_error = Some("refused".into());
        let f = findings(&p);
        assert_eq!(f.len(), 1);
        assert_eq!(status(&f, "smtp.connect"), Status::Fail);
    }

    #[test]
    fn probe_record_serializes_for_json_output() {
        let json = serde_json::to_value(base()).unwrap();
        assert_eq!(json["legacy"][1]["version"], "tls1_0");
        assert_eq!(json["legacy"][1]["verdict"], "accepted");
        assert_eq!(json["tls"]["key_exchange_group"], "X25519");
        assert!(json.get("chain_der").is_none());
    }

    #[test]
    fn dates_print() {
        assert_eq!(unix_date(0), "1970-01-01");
        assert_eq!(unix_date(1_800_000_000), "2027-01-15");
        assert_eq!(unix_date(951_782_400), "2000-02-29");
    }
}
