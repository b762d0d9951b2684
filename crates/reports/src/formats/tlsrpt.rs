//! SMTP TLS reports (RFC 8460): JSON, `.json.gz`, or mailed as `application/tlsrpt+gzip`.
//!
//! The JSON is read by `mail-auth` (`TlsReport::parse_json`) and mapped onto our own
//! [`TlsRptReport`], for the same reasons as DMARC: a stable JSON shape of our own, and absent
//! values kept absent (mail-auth turns an unreadable date into 1970-01-01; we say `None`).

use chrono::{DateTime, Utc};
use mail_auth::report::tlsrpt as ma;
use serde::Serialize;
use std::net::IpAddr;

use super::compressed;
use super::dmarc::{find_ci, looks_like_mail, skip_bom_ws};
use crate::registry::Format;
use crate::{Limits, ParseError, Record};

const NAME: &str = "tlsrpt";

/// Registry entry.
pub const FORMAT: Format = Format {
    name: NAME,
    sniff,
    parse,
};

const SNIFF_WINDOW: usize = 64 * 1024;

/// An SMTP TLS report (RFC 8460 §4).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TlsRptReport {
    /// `organization-name`: who sent the report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_name: Option<String>,
    /// `contact-info`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_info: Option<String>,
    /// `report-id`.
    pub report_id: String,
    /// `date-range/start-datetime`, `None` when absent or unreadable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub begin: Option<DateTime<Utc>>,
    /// `date-range/end-datetime`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<DateTime<Utc>>,
    /// One entry per policy the sender applied (RFC 8460 §4.3).
    pub policies: Vec<TlsPolicy>,
    /// Sum of successful sessions over all policies.
    pub total_successful: u64,
    /// Sum of failed sessions over all policies.
    pub total_failed: u64,
    /// What Warden had to tolerate to read the report (invalid UTF-8 replaced, `mx-host` as a
    /// string, trailing bytes after the gzip data), so a reader knows it was not clean.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The kind of policy a sender evaluated (RFC 8460 §4.3 `policy-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyType {
    /// DANE TLSA (RFC 7672).
    Tlsa,
    /// MTA-STS (RFC 8461).
    Sts,
    /// No policy was found: plain opportunistic TLS.
    NoPolicyFound,
    /// A type this version does not know.
    Other,
}

/// One policy's summary and failures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TlsPolicy {
    /// `policy-type`.
    pub policy_type: PolicyType,
    /// `policy-domain`: the recipient domain.
    pub policy_domain: String,
    /// `policy-string`: the policy as fetched (MTA-STS lines or TLSA records).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policy_strings: Vec<String>,
    /// `mx-host` patterns of the policy.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mx_hosts: Vec<String>,
    /// `total-successful-session-count`.
    pub successful_sessions: u32,
    /// `total-failure-session-count`.
    pub failed_sessions: u32,
    /// `failure-details`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<TlsFailure>,
}

/// One `failure-details` entry (RFC 8460 §4.3, result types in §4.4).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TlsFailure {
    /// `result-type`: `starttls-not-supported`, `certificate-expired`, `sts-policy-fetch-error`...
    /// (`other` for types mail-auth does not know).
    pub result_type: &'static str,
    /// `sending-mta-ip`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sending_mta_ip: Option<IpAddr>,
    /// `receiving-mx-hostname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiving_mx_hostname: Option<String>,
    /// `receiving-mx-helo`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiving_mx_helo: Option<String>,
    /// `receiving-ip`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiving_ip: Option<IpAddr>,
    /// `failed-session-count`.
    pub failed_sessions: u32,
    /// `additional-information` (often a URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_information: Option<String>,
    /// `failure-reason-code`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason_code: Option<String>,
}

/// Whether the start of a mail says it carries a TLS report (RFC 8460 §5.3: the
/// `TLS-Report-Domain` header, `report-type="tlsrpt"`, or the `application/tlsrpt+*` types).
pub(crate) fn mentions_tlsrpt(window: &[u8]) -> bool {
    [
        &b"tls-report-domain:"[..],
        b"report-type=\"tlsrpt\"",
        b"report-type=tlsrpt",
        b"application/tlsrpt+",
    ]
    .iter()
    .any(|n| find_ci(window, n).is_some())
}

/// Scores `input`: JSON with `policies` and `date-range` (95) or a mail marked as TLS-RPT (90).
fn sniff(input: &[u8]) -> u8 {
    let window = input.get(..SNIFF_WINDOW).unwrap_or(input);
    let text = skip_bom_ws(window);
    if text.first() == Some(&b'{') {
        let policies = find_ci(window, b"\"policies\"").is_some();
        let dates = find_ci(window, b"\"date-range\"").is_some();
        return match (policies, dates) {
            (true, true) => 95,
            (true, false) | (false, true) => 50,
            _ => 0,
        };
    }
    if looks_like_mail(text) && mentions_tlsrpt(window) {
        return 90;
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
    if skip_bom_ws(input).first() == Some(&b'{') {
        return Ok(vec![Record::TlsRpt(Box::new(parse_json(input, limits)?))]);
    }
    compressed::parse_attached_reports(
        input,
        limits,
        NAME,
        b'{',
        |data| Ok(Record::TlsRpt(Box::new(parse_json(data, limits)?))),
        "this mail has no TLS report attached (no .json or .json.gz part, no application/tlsrpt+gzip)",
    )
}

/// Parses one TLS report document (JSON, already unpacked).
pub fn parse_json(json: &[u8], limits: &Limits) -> Result<TlsRptReport, ParseError> {
    if json.len() > limits.max_input.max(limits.max_decompressed) {
        return Err(ParseError::limit(
            NAME,
            format!("report JSON is {} bytes, over the limit", json.len()),
        ));
    }
    let mut warnings = Vec::new();
    let text = match std::str::from_utf8(json) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => {
            let fixed = String::from_utf8_lossy(json);
            warnings.push(format!(
                "the report is not valid UTF-8: {} invalid byte sequence(s) replaced by U+FFFD",
                fixed.matches('\u{FFFD}').count()
            ));
            fixed
        }
    };
    let text = text.trim_start_matches('\u{feff}');
    let not_tlsrpt =
        |why: String| ParseError::malformed(NAME, format!("not an RFC 8460 TLS report: {why}"));
    // mail-auth reads only the exact RFC shapes and turns an enumerated value in another case
    // into "other" without a word, so the variants real reporters write are made regular first
    // (TLS reports are small; the extra JSON pass is cheap).
    let regular = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|mut v| {
            let fixes = regularise(&mut v);
            (!fixes.is_empty()).then_some((v, fixes))
        });
    let r = match regular {
        Some((v, fixes)) => {
            let again = serde_json::to_vec(&v).map_err(|e| not_tlsrpt(e.to_string()))?;
            warnings.extend(fixes);
            ma::TlsReport::parse_json(&again)
        }
        None => ma::TlsReport::parse_json(text.as_bytes()),
    }
    .map_err(|e| not_tlsrpt(describe(&e)))?;
    let failures: usize = r.policies.iter().map(|p| p.failure_details.len()).sum();
    if r.policies.len() + failures > limits.max_records {
        return Err(ParseError::limit(
            NAME,
            format!(
                "report has {} policies and failures, over the limit of {}",
                r.policies.len() + failures,
                limits.max_records
            ),
        ));
    }
    let mut report = convert(r);
    report.warnings = warnings;
    Ok(report)
}

/// Makes a report's variant shapes regular: `mx-host` given as one string becomes a one-element
/// array (seen from several senders; RFC 8460 §4.3 says array), and `policy-type` /
/// `result-type` values are lower-cased (RFC 8460 §4.4 names are lower case; some senders
/// capitalise). Returns a note per kind of change made.
fn regularise(v: &mut serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    let mut notes = Vec::new();
    let Some(policies) = v.get_mut("policies").and_then(Value::as_array_mut) else {
        return notes;
    };
    let (mut mx, mut case) = (false, false);
    let lower = |val: Option<&mut Value>, case: &mut bool| {
        if let Some(Value::String(s)) = val
            && s.bytes().any(|b| b.is_ascii_uppercase())
        {
            *s = s.to_ascii_lowercase();
            *case = true;
        }
    };
    for p in policies.iter_mut() {
        if let Some(policy) = p.get_mut("policy") {
            if let Some(m) = policy.get_mut("mx-host")
                && let Value::String(s) = m
            {
                *m = Value::Array(vec![Value::String(std::mem::take(s))]);
                mx = true;
            }
            lower(policy.get_mut("policy-type"), &mut case);
        }
        if let Some(details) = p.get_mut("failure-details").and_then(Value::as_array_mut) {
            for d in details {
                lower(d.get_mut("result-type"), &mut case);
            }
        }
    }
    if mx {
        notes.push("mx-host given as a string, read as a one-element list".to_owned());
    }
    if case {
        notes.push("enumerated values in upper case, read without case".to_owned());
    }
    notes
}

fn describe(e: &mail_auth::report::Error) -> String {
    match e {
        mail_auth::report::Error::ReportParseError(s)
        | mail_auth::report::Error::UncompressError(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

fn convert(r: ma::TlsReport) -> TlsRptReport {
    let policies: Vec<TlsPolicy> = r.policies.into_iter().map(convert_policy).collect();
    TlsRptReport {
        organization_name: r.organization_name,
        contact_info: r.contact_info,
        report_id: r.report_id,
        begin: datetime(&r.date_range.start_datetime),
        end: datetime(&r.date_range.end_datetime),
        total_successful: policies
            .iter()
            .map(|p| u64::from(p.successful_sessions))
            .sum(),
        total_failed: policies.iter().map(|p| u64::from(p.failed_sessions)).sum(),
        policies,
        warnings: Vec::new(),
    }
}

fn convert_policy(p: ma::Policy) -> TlsPolicy {
    TlsPolicy {
        policy_type: match p.policy.policy_type {
            ma::PolicyType::Tlsa => PolicyType::Tlsa,
            ma::PolicyType::Sts => PolicyType::Sts,
            ma::PolicyType::NoPolicyFound => PolicyType::NoPolicyFound,
            ma::PolicyType::Other => PolicyType::Other,
        },
        policy_domain: p.policy.policy_domain,
        policy_strings: p.policy.policy_string,
        mx_hosts: p.policy.mx_host,
        successful_sessions: p.summary.total_success,
        failed_sessions: p.summary.total_failure,
        failures: p
            .failure_details
            .into_iter()
            .map(|f| TlsFailure {
                result_type: result_type(f.result_type),
                sending_mta_ip: f.sending_mta_ip,
                receiving_mx_hostname: f.receiving_mx_hostname,
                receiving_mx_helo: f.receiving_mx_helo,
                receiving_ip: f.receiving_ip,
                failed_sessions: f.failed_session_count,
                additional_information: f.additional_information,
                failure_reason_code: f.failure_reason_code,
            })
            .collect(),
    }
}

fn result_type(t: ma::ResultType) -> &'static str {
    match t {
        ma::ResultType::StartTlsNotSupported => "starttls-not-supported",
        ma::ResultType::CertificateHostMismatch => "certificate-host-mismatch",
        ma::ResultType::CertificateExpired => "certificate-expired",
        ma::ResultType::CertificateNotTrusted => "certificate-not-trusted",
        ma::ResultType::ValidationFailure => "validation-failure",
        ma::ResultType::TlsaInvalid => "tlsa-invalid",
        ma::ResultType::DnssecInvalid => "dnssec-invalid",
        ma::ResultType::DaneRequired => "dane-required",
        ma::ResultType::StsPolicyFetchError => "sts-policy-fetch-error",
        ma::ResultType::StsPolicyInvalid => "sts-policy-invalid",
        ma::ResultType::StsWebpkiInvalid => "sts-webpki-invalid",
        ma::ResultType::Other => "other",
    }
}

/// mail-parser's date to ours; mail-auth maps an unreadable date to the epoch, which we treat as
/// absent (no real TLS report covers 1970).
fn datetime(d: &mail_parser::DateTime) -> Option<DateTime<Utc>> {
    let ts = d.to_timestamp();
    if ts == 0 {
        return None;
    }
    DateTime::from_timestamp(ts, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINI: &str = r#"{"organization-name":"Example","report-id":"r1","date-range":{"start-datetime":"2026-11-20T00:00:00Z","end-datetime":"2026-11-20T23:59:59Z"},"policies":[{"policy":{"policy-type":"sts","policy-domain":"example.org"},"summary":{"total-successful-session-count":10,"total-failure-session-count":2},"failure-details":[{"result-type":"certificate-expired","sending-mta-ip":"192.0.2.7","failed-session-count":2}]}]}"#;

    #[test]
    fn minimal_report() {
        assert_eq!(sniff(MINI.as_bytes()), 95);
        let r = parse_json(MINI.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(r.total_failed, 2);
        assert_eq!(r.policies[0].failures[0].result_type, "certificate-expired");
        assert_eq!(r.begin.unwrap().to_rfc3339(), "2026-11-20T00:00:00+00:00");
    }

    #[test]
    fn bad_date_is_none() {
        let j = MINI.replace("2026-11-20T00:00:00Z", "yesterday");
        let r = parse_json(j.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(r.begin, None);
        assert!(r.end.is_some());
    }
}
