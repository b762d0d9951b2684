//! DMARC aggregate reports (RFC 7489 §7.2 and appendix C), as XML, `.xml.gz`, `.zip`, or mailed.
//!
//! The XML is read by `mail-auth`'s report parser (Stalwart's, tested against many reporters);
//! this module maps its types onto our own [`DmarcReport`], which is what `warden parse` prints
//! and what the sender crate aggregates. Our types are ours on purpose: the JSON stays stable
//! when `mail-auth` changes, and values a reporter left out stay `None` instead of becoming a
//! default that looks like data (mail-auth turns a missing `<begin>` into 0, i.e. 1970).
//!
//! Containers: a bare `.xml.gz`/`.zip` goes through `compressed` first and comes back here as
//! XML. A *mail* with the report attached (the usual delivery, RFC 7489 §7.2.1.1) is recognised
//! here and its attachments are unpacked with the same limits.

use chrono::{DateTime, Utc};
use mail_auth::report as ma;
use serde::Serialize;
use std::net::IpAddr;

use super::compressed;
use crate::registry::Format;
use crate::{Limits, ParseError, Record};

const NAME: &str = "dmarc";

/// Registry entry.
pub const FORMAT: Format = Format {
    name: NAME,
    sniff,
    parse,
};

/// How far into the input `sniff` looks.
const SNIFF_WINDOW: usize = 64 * 1024;

/// A DMARC aggregate report (RFC 7489 appendix C, `<feedback>`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DmarcReport {
    /// The reporting organisation (`report_metadata/org_name`): `google.com`, `Yahoo`...
    pub org_name: String,
    /// The reporter's contact address.
    pub email: String,
    /// More contact information, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_contact_info: Option<String>,
    /// The reporter's id for this report; with `org_name` it identifies a report (resends).
    pub report_id: String,
    /// Start of the reported period; `None` when the reporter left it out or wrote garbage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub begin: Option<DateTime<Utc>>,
    /// End of the reported period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<DateTime<Utc>>,
    /// Errors the reporter says it had while producing the report.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// `report_metadata/generator` (DMARCbis): the software that wrote the report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generator: Option<String>,
    /// What Warden had to tolerate to read the report (invalid UTF-8 replaced, trailing bytes
    /// after the gzip data), so a reader knows the report was not clean.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The DMARC record the reporter found for the domain.
    pub policy_published: PolicyPublished,
    /// One row per (source IP, identifiers, results) group.
    pub records: Vec<DmarcRecord>,
    /// Sum of `count` over all records: the number of messages the report covers.
    pub message_count: u64,
}

/// The published policy as the reporter saw it (RFC 7489 §6.3 tags).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyPublished {
    /// The domain whose record was applied.
    pub domain: String,
    /// `adkim`: DKIM alignment mode, when stated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adkim: Option<Alignment>,
    /// `aspf`: SPF alignment mode, when stated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aspf: Option<Alignment>,
    /// `p`: the requested policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p: Option<Policy>,
    /// `sp`: the policy for subdomains.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sp: Option<Policy>,
    /// `np` (DMARCbis): the policy for non-existent subdomains.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub np: Option<Policy>,
    /// `t=y` (DMARCbis testing mode), replacing `pct` below 100.
    pub testing: bool,
    /// `pct` (RFC 7489): the share of failing mail the policy applies to. Gone in DMARCbis but
    /// still published by most domains, and `pct=0` is how many of them "test".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pct: Option<u8>,
    /// `discovery_method` (DMARCbis): how the receiver found the policy, `psl` or `treewalk`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovery_method: Option<&'static str>,
    /// `fo`: failure reporting options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fo: Option<String>,
}

/// DMARC identifier alignment mode (RFC 7489 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Alignment {
    /// `r`.
    Relaxed,
    /// `s`.
    Strict,
}

/// A requested policy (`p`, `sp`, `np`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Monitor only.
    None,
    /// Treat failing mail as suspicious.
    Quarantine,
    /// Refuse failing mail.
    Reject,
}

/// What the receiver did with the messages of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Delivered normally.
    None,
    /// `pass` (DMARCbis).
    Pass,
    /// Quarantined (spam folder).
    Quarantine,
    /// Rejected.
    Reject,
}

/// Aligned DKIM or SPF verdict in `policy_evaluated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Aligned pass.
    Pass,
    /// Fail (or not aligned).
    Fail,
}

/// One `<record>`: a group of messages from one source with the same results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DmarcRecord {
    /// The sending IP. `None` only when the reporter wrote none or garbage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<IpAddr>,
    /// How many messages this row covers.
    pub count: u32,
    /// What the receiver did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disposition: Option<Disposition>,
    /// DMARC-aligned DKIM verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dkim: Option<Verdict>,
    /// DMARC-aligned SPF verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spf: Option<Verdict>,
    /// Why the receiver overrode the policy (forwarded, mailing list, local policy...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub override_reasons: Vec<OverrideReason>,
    /// RFC 5322.From domain.
    pub header_from: String,
    /// RFC 5321.MailFrom domain, when given (RFC 7489 makes it optional; many omit it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope_from: Option<String>,
    /// RFC 5321.RcptTo domain, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope_to: Option<String>,
    /// Raw (unaligned) DKIM results, one per signature.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dkim_results: Vec<DkimResult>,
    /// Raw (unaligned) SPF results.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub spf_results: Vec<SpfResult>,
}

/// A `policy_evaluated/reason` (RFC 7489 appendix C `PolicyOverrideReason`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverrideReason {
    /// `forwarded`, `sampled_out`, `trusted_forwarder`, `mailing_list`, `local_policy`, `other`.
    pub kind: &'static str,
    /// The reporter's comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// One DKIM signature's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DkimResult {
    /// `d=` of the signature.
    pub domain: String,
    /// `s=`, when given (optional in RFC 7489, often missing in older reports).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// RFC 8601 result word: `pass`, `fail`, `none`, `neutral`, `policy`, `temperror`, `permerror`.
    pub result: &'static str,
    /// `human_result`: the receiver's own words for the result, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub human_result: Option<String>,
}

/// One SPF check's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpfResult {
    /// The domain checked.
    pub domain: String,
    /// `mfrom` or `helo`, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<&'static str>,
    /// RFC 7208 result word: `pass`, `fail`, `softfail`, `neutral`, `none`, `temperror`, `permerror`.
    pub result: &'static str,
    /// `human_result`: the receiver's own words for the result, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub human_result: Option<String>,
}

/// Scores `input` as a DMARC report: XML with a `<feedback>` root (95), or a mail whose subject
/// or attachment says it carries one (85).
fn sniff(input: &[u8]) -> u8 {
    let window = input.get(..SNIFF_WINDOW).unwrap_or(input);
    let text = skip_bom_ws(window);
    if text.first() == Some(&b'<') {
        let head = text.get(..4096).unwrap_or(text);
        if find_ci(head, b"<feedback").is_some() {
            let sure = find_ci(window, b"<report_metadata").is_some()
                || find_ci(window, b"<policy_published").is_some();
            return if sure { 95 } else { 60 };
        }
        return 0;
    }
    if looks_like_mail(text) && !super::tlsrpt::mentions_tlsrpt(window) {
        // RFC 7489 §7.2.1.1: Subject "Report Domain: ... Submitter: ... Report-ID: ...", and
        // attachment names "receiver!policy-domain!begin!end.xml.gz".
        let subject = find_ci(window, b"report domain:").is_some();
        let attached = [
            &b".xml.gz"[..],
            b".xml.zip",
            b".zip",
            b".xml",
            b"application/gzip",
            b"application/zip",
            b"application/x-gzip",
        ]
        .iter()
        .any(|n| find_ci(window, n).is_some());
        if (subject && attached) || has_dmarc_file_name(window) {
            return 85;
        }
    }
    0
}

fn parse(input: &[u8], limits: &Limits) -> Result<Vec<Record>, ParseError> {
    if input.len() > limits.max_input {
        return Err(ParseError::limit(
            NAME,
            format!(
                "input is {} bytes, over the {} byte limit",
                input.len(),
                limits.max_input
            ),
        ));
    }
    if skip_bom_ws(input).first() == Some(&b'<') {
        return Ok(vec![Record::Dmarc(Box::new(parse_xml(input, limits)?))]);
    }
    // A mail: every attached report becomes a record (some reporters batch several domains).
    compressed::parse_attached_reports(
        input,
        limits,
        NAME,
        b'<',
        |data| Ok(Record::Dmarc(Box::new(parse_xml(data, limits)?))),
        "this mail has no DMARC report attached (no .xml, .xml.gz or .zip part with a <feedback> document)",
    )
}

/// Parses one aggregate report document (XML, already unpacked).
pub fn parse_xml(xml: &[u8], limits: &Limits) -> Result<DmarcReport, ParseError> {
    if xml.len() > limits.max_input.max(limits.max_decompressed) {
        return Err(ParseError::limit(
            NAME,
            format!("report XML is {} bytes, over the limit", xml.len()),
        ));
    }
    let prepared = super::dmarc_prepare::prepare(xml);
    let r = ma::Report::parse_xml(skip_bom_ws(&prepared.xml))
        .map_err(|e| ParseError::malformed(NAME, format!("not a DMARC aggregate report: {e}")))?;
    if r.record.len() > limits.max_records {
        return Err(ParseError::limit(
            NAME,
            format!(
                "report has {} records, over the limit of {}",
                r.record.len(),
                limits.max_records
            ),
        ));
    }
    let mut report = convert(r);
    report.policy_published.pct = prepared.pct;
    report.warnings = prepared.warnings;
    Ok(report)
}

/// Maps mail-auth's report onto ours, moving strings rather than copying them.
fn convert(r: ma::Report) -> DmarcReport {
    let md = r.report_metadata;
    let pp = r.policy_published;
    let records: Vec<DmarcRecord> = r.record.into_iter().map(convert_record).collect();
    DmarcReport {
        org_name: md.org_name,
        email: md.email,
        extra_contact_info: md.extra_contact_info,
        report_id: md.report_id,
        begin: epoch(md.date_range.begin),
        end: epoch(md.date_range.end),
        errors: md.error,
        generator: md.generator.and_then(non_empty),
        warnings: Vec::new(),
        message_count: records.iter().map(|r| u64::from(r.count)).sum(),
        policy_published: PolicyPublished {
            domain: pp.domain,
            adkim: alignment(pp.adkim),
            aspf: alignment(pp.aspf),
            p: policy(pp.p),
            sp: policy(pp.sp),
            np: policy(pp.np),
            testing: pp.testing,
            pct: None,
            discovery_method: match pp.discovery_method {
                ma::Discovery::Psl => Some("psl"),
                ma::Discovery::Treewalk => Some("treewalk"),
                ma::Discovery::Unspecified => None,
            },
            fo: pp.fo,
        },
        records,
    }
}

fn convert_record(rec: ma::Record) -> DmarcRecord {
    let pe = rec.row.policy_evaluated;
    DmarcRecord {
        source_ip: rec.row.source_ip,
        count: rec.row.count,
        disposition: match pe.disposition {
            ma::ActionDisposition::None => Some(Disposition::None),
            ma::ActionDisposition::Pass => Some(Disposition::Pass),
            ma::ActionDisposition::Quarantine => Some(Disposition::Quarantine),
            ma::ActionDisposition::Reject => Some(Disposition::Reject),
            ma::ActionDisposition::Unspecified => None,
        },
        dkim: verdict(pe.dkim),
        spf: verdict(pe.spf),
        override_reasons: pe
            .reason
            .into_iter()
            .map(|r| OverrideReason {
                kind: match r.type_ {
                    ma::PolicyOverride::LocalPolicy => "local_policy",
                    ma::PolicyOverride::MailingList => "mailing_list",
                    ma::PolicyOverride::PolicyTestMode => "policy_test_mode",
                    ma::PolicyOverride::TrustedForwarder => "trusted_forwarder",
                    ma::PolicyOverride::Other => "other",
                },
                comment: r.comment,
            })
            .collect(),
        header_from: rec.identifiers.header_from,
        envelope_from: non_empty(rec.identifiers.envelope_from),
        envelope_to: rec.identifiers.envelope_to.and_then(non_empty),
        dkim_results: rec
            .auth_results
            .dkim
            .into_iter()
            .map(|d| DkimResult {
                domain: d.domain,
                selector: non_empty(d.selector),
                result: match d.result {
                    ma::DkimResult::None => "none",
                    ma::DkimResult::Pass => "pass",
                    ma::DkimResult::Fail => "fail",
                    ma::DkimResult::Policy => "policy",
                    ma::DkimResult::Neutral => "neutral",
                    ma::DkimResult::TempError => "temperror",
                    ma::DkimResult::PermError => "permerror",
                },
                human_result: d.human_result.and_then(non_empty),
            })
            .collect(),
        spf_results: rec
            .auth_results
            .spf
            .into_iter()
            .map(|s| SpfResult {
                domain: s.domain,
                scope: match s.scope {
                    ma::SPFDomainScope::Helo => Some("helo"),
                    ma::SPFDomainScope::MailFrom => Some("mfrom"),
                    ma::SPFDomainScope::Unspecified => None,
                },
                result: match s.result {
                    ma::SpfResult::None => "none",
                    ma::SpfResult::Neutral => "neutral",
                    ma::SpfResult::Pass => "pass",
                    ma::SpfResult::Fail => "fail",
                    ma::SpfResult::SoftFail => "softfail",
                    ma::SpfResult::TempError => "temperror",
                    ma::SpfResult::PermError => "permerror",
                },
                human_result: s.human_result.and_then(non_empty),
            })
            .collect(),
    }
}

/// A Unix time from the report, or `None` for 0 (mail-auth's "missing") or out of range.
fn epoch(secs: u64) -> Option<DateTime<Utc>> {
    if secs == 0 {
        return None;
    }
    DateTime::from_timestamp(i64::try_from(secs).ok()?, 0)
}

fn alignment(a: ma::Alignment) -> Option<Alignment> {
    match a {
        ma::Alignment::Relaxed => Some(Alignment::Relaxed),
        ma::Alignment::Strict => Some(Alignment::Strict),
        ma::Alignment::Unspecified => None,
    }
}

fn policy(d: ma::Disposition) -> Option<Policy> {
    match d {
        ma::Disposition::None => Some(Policy::None),
        ma::Disposition::Quarantine => Some(Policy::Quarantine),
        ma::Disposition::Reject => Some(Policy::Reject),
        ma::Disposition::Unspecified => None,
    }
}

fn verdict(v: ma::DmarcResult) -> Option<Verdict> {
    match v {
        ma::DmarcResult::Pass => Some(Verdict::Pass),
        ma::DmarcResult::Fail => Some(Verdict::Fail),
        ma::DmarcResult::Unspecified => None,
    }
}

fn non_empty(s: String) -> Option<String> {
    (!s.trim().is_empty()).then_some(s)
}

/// Whether `b` names an attachment the RFC 7489 §7.2.1.1 way:
/// `receiver "!" policy-domain "!" begin "!" end [ "!" unique-id ] "." extension`.
fn has_dmarc_file_name(b: &[u8]) -> bool {
    b.split(|c| c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b';' | b'='))
        .any(|tok| {
            // Count first: most tokens have no '!', and this runs over 64 KiB of every mail.
            tok.iter().filter(|&&c| c == b'!').count() >= 3
                && [&b".xml"[..], b".xml.gz", b".gz", b".zip"].iter().any(|e| {
                    tok.len() >= e.len()
                        && tok
                            .get(tok.len() - e.len()..)
                            .is_some_and(|t| t.eq_ignore_ascii_case(e))
                })
        })
}

/// Skips a UTF-8 byte order mark and leading white space.
pub(crate) fn skip_bom_ws(b: &[u8]) -> &[u8] {
    let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    b.get(n..).unwrap_or_default()
}

/// Case-insensitive (ASCII) search of `needle` in `hay`.
pub(crate) fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    if hay.len() < needle.len() {
        return None;
    }
    // Every format sniffs every input, so this is hot: find candidates for the first byte in
    // both cases with memchr's vectorised search, then compare the rest.
    let candidates = hay.get(..=hay.len() - needle.len())?;
    memchr::memchr2_iter(
        first.to_ascii_lowercase(),
        first.to_ascii_uppercase(),
        candidates,
    )
    .find(|&i| {
        hay.get(i + 1..i + needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(rest))
    })
}

/// Whether `b` starts like an RFC 5322 message: a first line `Name: value` (or an mbox `From `
/// line) with a header name made of printable characters.
pub(crate) fn looks_like_mail(b: &[u8]) -> bool {
    if b.starts_with(b"From ") {
        return true;
    }
    let line_end = b
        .iter()
        .position(|&c| c == b'\n')
        .unwrap_or(b.len())
        .min(1000);
    let line = b.get(..line_end).unwrap_or_default();
    match line.iter().position(|&c| c == b':') {
        Some(colon) if colon > 0 => line
            .get(..colon)
            .is_some_and(|n| n.iter().all(|&c| c.is_ascii_graphic())),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINI: &str = r#"<?xml version="1.0"?><feedback><report_metadata><org_name>x</org_name>
<email>a@x</email><report_id>1</report_id><date_range><begin>1763596800</begin><end>1763683199</end></date_range></report_metadata>
<policy_published><domain>example.org</domain><p>reject</p></policy_published>
<record><row><source_ip>192.0.2.1</source_ip><count>3</count><policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row>
<identifiers><header_from>example.org</header_from></identifiers><auth_results><spf><domain>example.org</domain><result>fail</result></spf></auth_results></record></feedback>"#;

    #[test]
    fn minimal_report() {
        assert_eq!(sniff(MINI.as_bytes()), 95);
        let r = parse_xml(MINI.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(r.records.len(), 1);
        assert_eq!(r.message_count, 3);
        assert_eq!(r.policy_published.p, Some(Policy::Reject));
        assert_eq!(r.policy_published.adkim, None);
        assert_eq!(r.records[0].envelope_from, None);
        assert_eq!(r.begin.unwrap().timestamp(), 1763596800);
    }

    #[test]
    fn record_limit() {
        let l = Limits {
            max_records: 0,
            ..Limits::default()
        };
        assert_eq!(
            parse_xml(MINI.as_bytes(), &l).unwrap_err().kind,
            crate::ParseErrorKind::LimitExceeded
        );
    }

    #[test]
    fn file_name_rule() {
        assert!(has_dmarc_file_name(
            b"name=\"google.com!example.org!1763596800!1763683199.zip\""
        ));
        assert!(!has_dmarc_file_name(b"Hello! Look at report.zip!"));
    }

    #[test]
    fn not_dmarc_xml() {
        assert_eq!(sniff(b"<html><body>hi</body></html>"), 0);
        assert!(parse_xml(b"<html></html>", &Limits::default()).is_err());
    }
}
