//! DKIM public keys (RFC 6376 section 3.6.1, RFC 8463 for Ed25519, RFC 8301 for key sizes)
//! at `<selector>._domainkey.<domain>`.
//!
//! A domain's selectors cannot be listed from the DNS, so the audit tries the ones the user
//! names plus a list of common ones, and reports only the selectors that answer.

use base64::Engine as _;

use super::tags;
use crate::finding::{Finding, Practice, Status};
use crate::resolver::{Resolve, RrType};

/// Selectors that large providers and common software publish by default (Microsoft 365
/// `selector1`/`selector2`, Google `google`, Mailchimp `k1`..`k3`, many MTAs `default`,
/// `dkim`, `mail`, `s1`/`s2`).
pub const COMMON_SELECTORS: &[&str] = &[
    "default",
    "dkim",
    "mail",
    "selector1",
    "selector2",
    "google",
    "k1",
    "k2",
    "k3",
    "s1",
    "s2",
    "smtp",
    "key1",
    "mx",
];

/// What a key record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyInfo {
    /// RSA with this many modulus bits.
    Rsa(usize),
    /// Ed25519 (always 256 bits).
    Ed25519,
    /// Empty `p=`: the key was revoked (RFC 6376 section 3.6.1).
    Revoked,
}

/// A parsed key record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkimKey {
    /// Key type and size.
    pub key: KeyInfo,
    /// `t=y`: the domain is testing DKIM (RFC 6376 section 3.6.1).
    pub testing: bool,
}

/// Parses a key record.
pub fn parse(txt: &str) -> Result<DkimKey, String> {
    if txt.len() > 8192 {
        return Err("record longer than 8192 octets".into());
    }
    let t = tags::parse(txt)?;
    if let Some(v) = t.get("v") {
        // RFC 6376 section 3.6.1: if present, v= MUST be first and DKIM1.
        if t.first().map(|(n, _)| n) != Some("v") || v != "DKIM1" {
            return Err(format!("v={v:?} must be the first tag and equal DKIM1"));
        }
    }
    let k = t.get("k").unwrap_or("rsa").to_ascii_lowercase();
    let p = t.get("p").ok_or("the required p= tag is missing")?;
    let p: String = p.chars().filter(|c| !c.is_whitespace()).collect();
    let testing = t
        .get("t")
        .is_some_and(|f| f.split(':').any(|x| x.trim().eq_ignore_ascii_case("y")));
    if p.is_empty() {
        return Ok(DkimKey {
            key: KeyInfo::Revoked,
            testing,
        });
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(p.as_bytes())
        .map_err(|e| format!("p= is not valid base64: {e}"))?;
    let key = match k.as_str() {
        "rsa" => KeyInfo::Rsa(rsa_modulus_bits(&der)?),
        "ed25519" => {
            if der.len() != 32 {
                return Err(format!(
                    "an Ed25519 key is 32 octets (RFC 8463 section 4.2), p= has {}",
                    der.len()
                ));
            }
            KeyInfo::Ed25519
        }
        other => return Err(format!("unknown key type k={other:?}")),
    };
    Ok(DkimKey { key, testing })
}

/// Reads one DER element: (tag, content, rest).
fn der(input: &[u8]) -> Result<(u8, &[u8], &[u8]), String> {
    let short = || "truncated DER in p=".to_owned();
    let (&tag, rest) = input.split_first().ok_or_else(short)?;
    let (&len0, rest) = rest.split_first().ok_or_else(short)?;
    let (len, rest) = if len0 < 0x80 {
        (usize::from(len0), rest)
    } else {
        let n = usize::from(len0 & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err("bad DER length in p=".into());
        }
        let (bytes, rest) = rest.split_at(n);
        (
            bytes.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b)),
            rest,
        )
    };
    if rest.len() < len {
        return Err(short());
    }
    let (content, rest) = rest.split_at(len);
    Ok((tag, content, rest))
}

/// Modulus size of an RSA key given as SubjectPublicKeyInfo (what RFC 6376 section 3.6.1
/// specifies) or, as some publishers do, a bare PKCS#1 RSAPublicKey.
fn rsa_modulus_bits(input: &[u8]) -> Result<usize, String> {
    let (tag, seq, _) = der(input)?;
    if tag != 0x30 {
        return Err("p= is not a DER SEQUENCE".into());
    }
    let (t1, c1, rest) = der(seq)?;
    let rsa_key = if t1 == 0x30 {
        // SPKI: AlgorithmIdentifier then BIT STRING.
        let (t2, bits, _) = der(rest)?;
        if t2 != 0x03 || bits.first() != Some(&0) {
            return Err("p= SubjectPublicKeyInfo lacks its BIT STRING".into());
        }
        let (t3, inner, _) = der(bits.get(1..).unwrap_or(&[]))?;
        if t3 != 0x30 {
            return Err("p= key is not an RSA key".into());
        }
        der(inner)?
    } else {
        (t1, c1, rest)
    };
    let (tag, n, _) = rsa_key;
    if tag != 0x02 {
        return Err("p= RSA modulus is not an INTEGER".into());
    }
    let n: &[u8] = {
        let mut n = n;
        while let [0, tail @ ..] = n {
            n = tail;
        }
        n
    };
    let Some(first) = n.first() else {
        return Err("p= RSA modulus is zero".into());
    };
    Ok(n.len() * 8 - first.leading_zeros() as usize)
}

/// DKIM findings for `domain`, trying `selectors` then [`COMMON_SELECTORS`].
pub async fn check<R: Resolve>(r: &R, domain: &str, selectors: &[String]) -> Vec<Finding> {
    let auth = Practice::Authentication;
    let mut names: Vec<String> = selectors.iter().map(|s| s.to_ascii_lowercase()).collect();
    for c in COMMON_SELECTORS {
        if !names.iter().any(|n| n == c) {
            names.push((*c).to_owned());
        }
    }
    let lookups = names.iter().map(|s| {
        let name = format!("{s}._domainkey.{domain}");
        async move { (s.clone(), name.clone(), r.query(&name, RrType::Txt).await) }
    });
    let answers = futures_util::future::join_all(lookups).await;
    let mut out = Vec::new();
    let mut found = 0;
    for (sel, name, ans) in answers {
        let explicit = selectors.iter().any(|s| s.eq_ignore_ascii_case(&sel));
        let ans = match ans {
            Ok(a) => a,
            Err(e) => {
                if explicit {
                    out.push(
                        Finding::new(
                            "dkim.key",
                            auth,
                            Status::Fail,
                            format!("selector {sel}: lookup failed"),
                        )
                        .evidence(e.to_string()),
                    );
                }
                continue;
            }
        };
        // Some zones answer DKIM names with unrelated TXT (wildcards); only records that look
        // like keys count, unless the user named the selector.
        let texts: Vec<&str> = ans
            .txt()
            .into_iter()
            .filter(|t| explicit || t.contains("p="))
            .collect();
        if texts.is_empty() {
            if explicit {
                out.push(
                    Finding::new("dkim.key", auth, Status::Fail, format!("selector {sel}: no key at {name}"))
                        .fix("RFC 6376 section 3.6.2.1: publish the public key as TXT at <selector>._domainkey.<domain>."),
                );
            }
            continue;
        }
        found += 1;
        if texts.len() > 1 {
            let mut f = Finding::new(
                "dkim.key",
                auth,
                Status::Fail,
                format!(
                    "selector {sel}: {} TXT records; verifiers may pick either",
                    texts.len()
                ),
            )
            .fix("RFC 6376 section 3.6.2.2: publish one key record per selector.");
            for t in &texts {
                f = f.evidence(t.to_string());
            }
            out.push(f);
            continue;
        }
        let text = texts[0];
        let ev = format!("{name}: {}", abbreviate(text));
        match parse(text) {
            Err(e) => out.push(
                Finding::new(
                    "dkim.syntax",
                    auth,
                    Status::Fail,
                    format!("selector {sel}: {e}"),
                )
                .evidence(ev)
                .fix("RFC 6376 section 3.6.1: v=DKIM1; k=rsa|ed25519; p=<base64 key>."),
            ),
            Ok(k) => {
                out.push(match k.key {
                    KeyInfo::Revoked => Finding::new("dkim.key", auth, Status::Info, format!("selector {sel}: revoked key (empty p=)")).evidence(ev.clone()),
                    KeyInfo::Ed25519 => Finding::new("dkim.key", auth, Status::Pass, format!("selector {sel}: Ed25519 key")).evidence(ev.clone()),
                    KeyInfo::Rsa(bits) if bits < 1024 => Finding::new("dkim.key", auth, Status::Fail, format!("selector {sel}: RSA key of {bits} bits; verifiers reject it"))
                        .evidence(ev.clone())
                        .fix("RFC 8301 section 3.2: RSA keys MUST be at least 1024 bits; generate a 2048-bit key."),
                    KeyInfo::Rsa(bits) if bits < 2048 => Finding::new("dkim.key", auth, Status::Warn, format!("selector {sel}: RSA key of {bits} bits"))
                        .evidence(ev.clone())
                        .fix("RFC 8301 section 3.2 and M3AAWG DKIM key rotation BCP: use 2048-bit RSA keys."),
                    KeyInfo::Rsa(bits) => Finding::new("dkim.key", auth, Status::Pass, format!("selector {sel}: RSA key of {bits} bits")).evidence(ev.clone()),
                });
                if k.testing {
                    out.push(
                        Finding::new(
                            "dkim.testing",
                            auth,
                            Status::Warn,
                            format!("selector {sel}: t=y, verifiers may ignore failures"),
                        )
                        .evidence(ev)
                        .fix("RFC 6376 section 3.6.1: remove t=y once signing works."),
                    );
                }
            }
        }
    }
    if found == 0 {
        out.push(
            Finding::new("dkim.found", auth, Status::Warn, format!("no DKIM key found for {domain} at the {} selectors tried", names.len()))
                .evidence(format!("tried: {}", names.join(", ")))
                .fix("Pass the selector from a signed message's DKIM-Signature s= tag with --selector; RFC 6376 section 3.6.2.1."),
        );
    }
    out
}

fn abbreviate(s: &str) -> String {
    if s.chars().count() > 120 {
        let head: String = s.chars().take(117).collect();
        format!("{head}...")
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A 1024-bit RSA SubjectPublicKeyInfo generated for this test suite with
    // `openssl genrsa 1024 | openssl rsa -pubout -outform DER | base64`.
    const RSA1024: &str = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC85Vn3RdzlM72UAMy/AWcw+wHxbIy8x+h+hhuobpc3aqk9Wst4iOCV92z6yRkARhcgrMuPQ4bNWKnsnK+/SbJS1Dy6tAH32caZOZQCGgg5hiGCgyyHm7qixGIVeK7dpl/JvUyJsD4eNopzfbQ2znwPeZIoGNNLcnGJuopxWJenBQIDAQAB";

    #[test]
    fn sizes_rsa_keys() {
        let k = parse(&format!("v=DKIM1; k=rsa; p={RSA1024}")).unwrap();
        assert_eq!(k.key, KeyInfo::Rsa(1024));
        assert!(!k.testing);
    }

    #[test]
    fn revoked_testing_and_errors() {
        let k = parse("v=DKIM1; p=; t=y").unwrap();
        assert_eq!(k.key, KeyInfo::Revoked);
        assert!(k.testing);
        assert!(parse("k=rsa; v=DKIM1; p=").is_err());
        assert!(parse("v=DKIM1; k=rsa").is_err());
        assert!(parse("v=DKIM1; p=!!!").is_err());
        assert!(parse("v=DKIM1; k=ed25519; p=AAAA").is_err());
        assert!(parse("v=DKIM1; k=dsa; p=AAAA").is_err());
        assert!(parse("v=DKIM1; p=MAMCAQA=").is_err());
    }
}
