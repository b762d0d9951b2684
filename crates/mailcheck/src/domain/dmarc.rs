//! DMARC (RFC 7489): the policy record at `_dmarc.<domain>`, its strength, and the
//! authorization of external report destinations (section 7.1).

use super::tags;
use crate::finding::{Finding, Practice, Status};
use crate::resolver::{Resolve, RrType};

/// A parsed DMARC record: only what the audit judges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmarcRecord {
    /// `p=`.
    pub p: Policy,
    /// `sp=` (defaults to `p`).
    pub sp: Option<Policy>,
    /// `pct=` (default 100).
    pub pct: u8,
    /// `adkim=s`.
    pub adkim_strict: bool,
    /// `aspf=s`.
    pub aspf_strict: bool,
    /// `rua=` URIs.
    pub rua: Vec<String>,
    /// `ruf=` URIs.
    pub ruf: Vec<String>,
}

/// Requested handling of failing mail (RFC 7489 section 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Policy {
    /// Monitor only.
    None,
    /// Treat as suspicious.
    Quarantine,
    /// Reject.
    Reject,
}

fn policy(v: &str) -> Result<Policy, String> {
    match v.to_ascii_lowercase().as_str() {
        "none" => Ok(Policy::None),
        "quarantine" => Ok(Policy::Quarantine),
        "reject" => Ok(Policy::Reject),
        _ => Err(format!("{v:?} is not none, quarantine or reject")),
    }
}

/// True when a TXT string is meant as DMARC: `v=DMARC1` first (RFC 7489 section 6.6.3 step 4).
pub fn is_dmarc(txt: &str) -> bool {
    let t = txt.trim_start();
    match t.get(..8) {
        Some(v) if v.eq_ignore_ascii_case("v=DMARC1") => {
            let rest = t.get(8..).unwrap_or("").trim_start();
            rest.is_empty() || rest.starts_with(';')
        }
        _ => false,
    }
}

/// Parses a DMARC record (RFC 7489 section 6.3, 6.4).
pub fn parse(txt: &str) -> Result<DmarcRecord, String> {
    if txt.len() > 2048 {
        return Err("record longer than 2048 octets".into());
    }
    let t = tags::parse(txt)?;
    match t.first() {
        Some(("v", "DMARC1")) => {}
        _ => return Err("the first tag must be v=DMARC1".into()),
    }
    let p = policy(t.get("p").ok_or("the required p= tag is missing")?)?;
    let sp = t.get("sp").map(policy).transpose()?;
    let pct = match t.get("pct") {
        None => 100,
        Some(v) => v
            .parse::<u8>()
            .ok()
            .filter(|n| *n <= 100)
            .ok_or_else(|| format!("pct={v:?} is not 0..=100"))?,
    };
    let align = |name: &str| -> Result<bool, String> {
        match t.get(name).map(str::to_ascii_lowercase).as_deref() {
            None | Some("r") => Ok(false),
            Some("s") => Ok(true),
            Some(other) => Err(format!("{name}={other:?} is not r or s")),
        }
    };
    let uris = |name: &str| -> Result<Vec<String>, String> {
        let Some(v) = t.get(name) else {
            return Ok(Vec::new());
        };
        v.split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| {
                // RFC 7489 section 6.2: a URI, optionally followed by !size.
                let uri = u.split('!').next().unwrap_or(u);
                if !uri.to_ascii_lowercase().starts_with("mailto:") {
                    return Err(format!("{name} destination {u:?} is not a mailto: URI"));
                }
                if !uri[7..].contains('@') {
                    return Err(format!("{name} destination {u:?} has no address"));
                }
                Ok(uri.to_owned())
            })
            .collect()
    };
    for (tag, _) in &t.tags {
        if !matches!(
            tag.as_str(),
            "v" | "p"
                | "sp"
                | "pct"
                | "adkim"
                | "aspf"
                | "rua"
                | "ruf"
                | "fo"
                | "rf"
                | "ri"
                | "np"
                | "psd"
                | "t"
        ) {
            return Err(format!("unknown tag {tag:?}"));
        }
    }
    Ok(DmarcRecord {
        p,
        sp,
        pct,
        adkim_strict: align("adkim")?,
        aspf_strict: align("aspf")?,
        rua: uris("rua")?,
        ruf: uris("ruf")?,
    })
}

/// Approximates the Organizational Domain (RFC 7489 section 3.2) as the last two labels.
/// Without the Public Suffix List this is wrong for multi-label suffixes (`example.co.uk`);
/// it only decides whether an external-destination check is needed, and a wrong "external"
/// costs one extra TXT query that a correct setup answers anyway.
fn org_domain(d: &str) -> String {
    let labels: Vec<&str> = d.trim_end_matches('.').split('.').collect();
    let n = labels.len();
    labels[n.saturating_sub(2)..].join(".").to_ascii_lowercase()
}

/// All DMARC findings for `domain`.
pub async fn check<R: Resolve>(r: &R, domain: &str) -> Vec<Finding> {
    let auth = Practice::Authentication;
    let name = format!("_dmarc.{domain}");
    let ans = match r.query(&name, RrType::Txt).await {
        Ok(a) => a,
        Err(e) => {
            return vec![
                Finding::new(
                    "dmarc.record",
                    auth,
                    Status::Fail,
                    "DMARC record could not be read",
                )
                .evidence(e.to_string()),
            ];
        }
    };
    let records: Vec<&str> = ans.txt().into_iter().filter(|t| is_dmarc(t)).collect();
    let text = match records.as_slice() {
        [] => {
            return vec![
                Finding::new("dmarc.record", auth, Status::Fail, format!("no DMARC record at {name}"))
                    .fix("RFC 7489 section 6.1: publish TXT \"v=DMARC1; p=none; rua=mailto:...\" at _dmarc.<domain>, then move to quarantine or reject once reports show all mail aligns."),
            ];
        }
        [one] => *one,
        many => {
            let mut f = Finding::new(
                "dmarc.record",
                auth,
                Status::Fail,
                format!("{} DMARC records: receivers ignore them all", many.len()),
            )
            .fix("RFC 7489 section 6.6.3: exactly one record; merge them.");
            for m in many {
                f = f.evidence(m.to_string());
            }
            return vec![f];
        }
    };
    let mut out = vec![
        Finding::new(
            "dmarc.record",
            auth,
            Status::Pass,
            "exactly one DMARC record",
        )
        .evidence(text.to_owned()),
    ];
    let rec = match parse(text) {
        Ok(r) => {
            out.push(Finding::new(
                "dmarc.syntax",
                auth,
                Status::Pass,
                "record parses",
            ));
            r
        }
        Err(e) => {
            out.push(
                Finding::new("dmarc.syntax", auth, Status::Fail, format!("syntax error: {e}"))
                    .evidence(text.to_owned())
                    .fix("RFC 7489 section 6.4: v=DMARC1 first, then p= (none, quarantine, reject) and optional tags."),
            );
            return out;
        }
    };
    out.push(match rec.p {
        Policy::Reject => Finding::new("dmarc.policy", auth, Status::Pass, "p=reject"),
        Policy::Quarantine => Finding::new("dmarc.policy", auth, Status::Pass, "p=quarantine"),
        Policy::None => Finding::new("dmarc.policy", auth, Status::Warn, "p=none: failing mail is only monitored")
            .fix("RFC 7489 section 6.3: after aggregate reports show legitimate mail aligns, set p=quarantine then p=reject."),
    });
    if let Some(sp) = rec.sp {
        out.push(if sp < rec.p {
            Finding::new("dmarc.sp", auth, Status::Warn, format!("sp={sp:?} is weaker than p={:?}: subdomains can be spoofed", rec.p).to_ascii_lowercase())
                .fix("RFC 7489 section 6.3: sp= applies to subdomains; make it at least as strong as p= or remove it.")
        } else {
            Finding::new("dmarc.sp", auth, Status::Pass, format!("sp={sp:?}").to_ascii_lowercase())
        });
    }
    out.push(if rec.pct < 100 {
        Finding::new(
            "dmarc.pct",
            auth,
            Status::Warn,
            format!(
                "pct={}: the policy applies to only part of failing mail",
                rec.pct
            ),
        )
        .fix("RFC 7489 section 6.3: pct is for rollout; set pct=100 (or remove it).")
    } else {
        Finding::new(
            "dmarc.pct",
            auth,
            Status::Pass,
            "policy applies to all mail (pct=100)",
        )
    });
    out.push(Finding::new(
        "dmarc.alignment",
        auth,
        Status::Info,
        format!(
            "DKIM alignment {}, SPF alignment {}",
            if rec.adkim_strict {
                "strict"
            } else {
                "relaxed"
            },
            if rec.aspf_strict { "strict" } else { "relaxed" }
        ),
    ));
    out.push(if rec.rua.is_empty() {
        Finding::new("dmarc.rua", auth, Status::Warn, "no rua=: the domain receives no aggregate reports")
            .fix("RFC 7489 section 7.2: add rua=mailto:... to learn who sends as the domain before enforcing.")
    } else {
        Finding::new("dmarc.rua", auth, Status::Pass, format!("aggregate reports go to {}", rec.rua.join(", ")))
    });
    // RFC 7489 section 7.1: a destination outside the Organizational Domain must publish
    // <domain>._report._dmarc.<destination-domain> TXT "v=DMARC1".
    let org = org_domain(domain);
    let mut checked = Vec::new();
    for uri in rec.rua.iter().chain(rec.ruf.iter()) {
        let Some(dest) = uri
            .rsplit_once('@')
            .map(|(_, d)| d.trim_end_matches('>').to_ascii_lowercase())
        else {
            continue;
        };
        if org_domain(&dest) == org || checked.contains(&dest) {
            continue;
        }
        checked.push(dest.clone());
        let auth_name = format!("{domain}._report._dmarc.{dest}");
        let f = match r.query(&auth_name, RrType::Txt).await {
            Ok(a) if a.txt().iter().any(|t| is_dmarc(t)) => Finding::new("dmarc.external_auth", auth, Status::Pass, format!("{dest} accepts reports for {domain}")).evidence(auth_name),
            Ok(_) => Finding::new("dmarc.external_auth", auth, Status::Fail, format!("{dest} has not authorized reports for {domain}: receivers will not send them"))
                .evidence(format!("no v=DMARC1 TXT at {auth_name}"))
                .fix("RFC 7489 section 7.1: the report destination publishes TXT \"v=DMARC1\" at <domain>._report._dmarc.<destination>; ask the report processor to add it."),
            Err(e) => Finding::new("dmarc.external_auth", auth, Status::Fail, format!("could not check {dest}'s authorization")).evidence(e.to_string()),
        };
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_records() {
        let r = parse("v=DMARC1; p=reject; sp=none; pct=50; adkim=s; rua=mailto:a@x.test!10m, mailto:b@y.test").unwrap();
        assert_eq!(r.p, Policy::Reject);
        assert_eq!(r.sp, Some(Policy::None));
        assert_eq!(r.pct, 50);
        assert!(r.adkim_strict && !r.aspf_strict);
        assert_eq!(r.rua, vec!["mailto:a@x.test", "mailto:b@y.test"]);
    }

    #[test]
    fn rejects_bad_records() {
        for bad in [
            "v=DMARC1",
            "p=reject; v=DMARC1",
            "v=DMARC1; p=block",
            "v=DMARC1; p=none; pct=101",
            "v=DMARC1; p=none; rua=https://x.test",
            "v=DMARC1; p=none; adkim=x",
            "v=DMARC1; p=none; foo=bar",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(is_dmarc("v=DMARC1; p=none"));
        assert!(!is_dmarc("v=DMARC10"));
        assert!(!is_dmarc("v=spf1 -all"));
    }

    #[test]
    fn org_domain_is_last_two_labels() {
        assert_eq!(org_domain("a.b.Example.test."), "example.test");
        assert_eq!(org_domain("test"), "test");
    }
}
