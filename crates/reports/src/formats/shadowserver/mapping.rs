//! The Shadowserver mapping: which report type a CSV is, and which columns mean what.
//!
//! Shadowserver changes its reports often (new scan types every few months, renamed columns in
//! 2021 and 2023). AbuseIO hard-coded its feeds and fell behind (AbuseIO #421, #373); IntelMQ
//! loads a schema at run time and kept up. We do the latter: the mapping is data
//! (`crates/reports/data/shadowserver.toml`, embedded as the default, or any text given to
//! [`Mapping::from_toml`]), so a new report type is one `[[report]]` table, not a code change.
//!
//! Recognition works on the header row and the first data row only, because the parser gets bytes
//! and no file name (IntelMQ keys on the file name; mailed reports and API downloads do not
//! always keep it). See [`Mapping::recognise`] for the rule.

use serde::Deserialize;
use std::collections::BTreeSet;
use std::sync::LazyLock;
use thiserror::Error;
use warden_model::{AbuseClass, Protocol, Severity};

/// The mapping shipped with Warden, as text (also what `warden` can print for editing).
pub const BUILTIN_TOML: &str = include_str!("../../../data/shadowserver.toml");

/// The shipped mapping, parsed once. A test (`builtin_mapping_is_valid`) proves it loads, so the
/// fallback to an empty mapping below can only be reached by a broken build.
static BUILTIN: LazyLock<Mapping> =
    LazyLock::new(|| Mapping::from_toml(BUILTIN_TOML).unwrap_or_else(|_| Mapping::empty()));

/// Longest mapping text accepted, in bytes: mapping files are written by hand and a few tens of
/// kilobytes long; anything far larger is a mistake (or an attack on the loader).
pub const MAX_MAPPING_TEXT: usize = 4 * 1024 * 1024;

/// Why a mapping text was refused.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum MappingError {
    /// Not valid TOML, or not the shape this module expects.
    #[error("shadowserver mapping is not valid: {0}")]
    Syntax(String),
    /// Valid TOML, but one report type is unusable; names the report and the reason.
    #[error("shadowserver mapping, report type {report:?}: {reason}")]
    Invalid {
        /// The `name` of the offending `[[report]]` table.
        report: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Larger than [`MAX_MAPPING_TEXT`].
    #[error("shadowserver mapping is {0} bytes, over the {MAX_MAPPING_TEXT} byte limit")]
    TooLarge(usize),
}

/// Column names that carry one normalized field. Each list is tried in order and the first column
/// present in the header wins, so one list covers old and new Shadowserver spellings
/// (`ip` in scan reports, `src_ip` in event4 reports).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldColumns {
    /// Observation time (UTC).
    #[serde(default)]
    pub timestamp: Option<Vec<String>>,
    /// The subject's address.
    #[serde(default)]
    pub ip: Option<Vec<String>>,
    /// The port on the subject's side.
    #[serde(default)]
    pub port: Option<Vec<String>>,
    /// Transport protocol.
    #[serde(default)]
    pub protocol: Option<Vec<String>>,
    /// Autonomous system number of the subject.
    #[serde(default)]
    pub asn: Option<Vec<String>>,
    /// Host name of the subject (PTR, or the web host for website reports).
    #[serde(default)]
    pub hostname: Option<Vec<String>>,
    /// A URL that is the subject (compromised websites); not a URL the subject fetched.
    #[serde(default)]
    pub url: Option<Vec<String>>,
    /// Per-row severity, present in all reports since the 2023 schema.
    #[serde(default)]
    pub severity: Option<Vec<String>>,
    /// Shadowserver's `tag` (the scan or infection tag).
    #[serde(default)]
    pub tag: Option<Vec<String>>,
    /// A column that names the report type outright, when a report carries one.
    #[serde(default)]
    pub report_type: Option<Vec<String>>,
}

impl FieldColumns {
    /// This set with every list `over` gives replacing ours (per-report overrides).
    fn overlaid(&self, over: &FieldColumns) -> FieldColumns {
        fn pick(base: &Option<Vec<String>>, over: &Option<Vec<String>>) -> Option<Vec<String>> {
            over.clone().or_else(|| base.clone())
        }
        FieldColumns {
            timestamp: pick(&self.timestamp, &over.timestamp),
            ip: pick(&self.ip, &over.ip),
            port: pick(&self.port, &over.port),
            protocol: pick(&self.protocol, &over.protocol),
            asn: pick(&self.asn, &over.asn),
            hostname: pick(&self.hostname, &over.hostname),
            url: pick(&self.url, &over.url),
            severity: pick(&self.severity, &over.severity),
            tag: pick(&self.tag, &over.tag),
            report_type: pick(&self.report_type, &over.report_type),
        }
    }
}

/// How a report type is recognised from its header and first row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recognition {
    /// Columns that must all be in the header. The more a type requires, the more specific it is.
    #[serde(default)]
    pub columns: Vec<String>,
    /// Accepted values of the `tag` column (case-insensitive; a trailing `*` matches a prefix).
    /// When given and the first row has a tag, the tag must match one of them.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// One `[[report]]` table as written in the mapping file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReport {
    name: String,
    #[serde(default)]
    title: Option<String>,
    class: String,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    protocol: Option<String>,
    #[serde(rename = "match", default)]
    recognition: Recognition,
    #[serde(default)]
    fields: FieldColumns,
    #[serde(default)]
    keep: Vec<String>,
}

/// The whole mapping file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    #[serde(default)]
    fields: FieldColumns,
    #[serde(default, rename = "report")]
    reports: Vec<RawReport>,
}

/// One Shadowserver report type, ready to use.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportType {
    /// Shadowserver's report type name (`scan_rdp`, `event4_sinkhole`), kept in `extra.report_type`.
    pub name: String,
    /// Human title, for listings.
    pub title: Option<String>,
    /// The abuse class every row of this report becomes.
    pub class: AbuseClass,
    /// Severity when the row's own `severity` column is absent or empty.
    pub severity: Option<Severity>,
    /// Protocol when the report has no protocol column (it is implied by the scan).
    pub protocol: Option<Protocol>,
    /// How to recognise it.
    pub recognition: Recognition,
    /// Column names per field, defaults already merged in.
    pub fields: FieldColumns,
    /// Further columns copied into `extra` under their own names when not empty.
    pub keep: Vec<String>,
}

/// A parsed mapping: default field columns plus the report types, in file order (ties in
/// recognition go to the earlier type).
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    reports: Vec<ReportType>,
}

impl Mapping {
    /// The mapping shipped with Warden.
    pub fn builtin() -> &'static Mapping {
        &BUILTIN
    }

    fn empty() -> Mapping {
        Mapping {
            reports: Vec::new(),
        }
    }

    /// Parses a mapping text (the format of `data/shadowserver.toml`). This is how a new
    /// Shadowserver report type is supported without a release: write its `[[report]]` table.
    pub fn from_toml(text: &str) -> Result<Mapping, MappingError> {
        if text.len() > MAX_MAPPING_TEXT {
            return Err(MappingError::TooLarge(text.len()));
        }
        let raw: RawMapping =
            toml::from_str(text).map_err(|e| MappingError::Syntax(e.to_string()))?;
        let mut seen = BTreeSet::new();
        let mut reports = Vec::with_capacity(raw.reports.len());
        for r in raw.reports {
            let invalid = |reason: String| MappingError::Invalid {
                report: r.name.clone(),
                reason,
            };
            if r.name.trim().is_empty() {
                return Err(invalid("the name is empty".into()));
            }
            if !seen.insert(r.name.clone()) {
                return Err(invalid("the name is used twice".into()));
            }
            let class = r.class.parse::<AbuseClass>().map_err(invalid)?;
            let severity = r
                .severity
                .as_deref()
                .map(str::parse::<Severity>)
                .transpose()
                .map_err(invalid)?;
            let protocol = match r.protocol.as_deref() {
                None => None,
                Some(p) => Some(
                    Protocol::parse(p).ok_or_else(|| invalid(format!("unknown protocol {p:?}")))?,
                ),
            };
            let fields = raw.fields.overlaid(&r.fields);
            if fields.timestamp.as_ref().is_none_or(Vec::is_empty) {
                return Err(invalid(
                    "no timestamp column is named (fields.timestamp)".into(),
                ));
            }
            let recognition = Recognition {
                columns: r.recognition.columns.iter().map(|c| norm(c)).collect(),
                tags: r.recognition.tags.iter().map(|t| norm(t)).collect(),
            };
            reports.push(ReportType {
                name: r.name.clone(),
                title: r.title,
                class,
                severity,
                protocol,
                recognition,
                fields: lowercase_fields(fields),
                keep: r.keep.iter().map(|c| norm(c)).collect(),
            });
        }
        Ok(Mapping { reports })
    }

    /// Every report type, in file order.
    pub fn report_types(&self) -> &[ReportType] {
        &self.reports
    }

    /// Looks a report type up by name.
    pub fn get(&self, name: &str) -> Option<&ReportType> {
        self.reports.iter().find(|r| r.name == name)
    }

    /// Picks the report type of a file from its header and the first data row.
    ///
    /// 1. If the file has a report-type column and the first row names a type, that type wins.
    /// 2. Otherwise a type is a candidate when all its `match.columns` are in the header and,
    ///    if it lists `match.tags` and the first row has a non-empty tag, that tag matches.
    ///    A type with neither columns nor tags is never a candidate (it would match any CSV).
    /// 3. The candidate requiring the most columns wins (the most specific); a tag match breaks
    ///    ties; then file order.
    ///
    /// `header` holds lower-cased, trimmed column names; `first_row` is aligned with it.
    pub fn recognise(&self, header: &[String], first_row: Option<&[&str]>) -> Option<&ReportType> {
        let cell = |names: &Option<Vec<String>>| -> Option<&str> {
            let row = first_row?;
            let idx = find_column(header, names.as_deref()?)?;
            row.get(idx).map(|s| s.trim()).filter(|s| !s.is_empty())
        };
        let mut best: Option<(&ReportType, usize)> = None;
        for r in &self.reports {
            if let Some(named) = cell(&r.fields.report_type)
                && named.eq_ignore_ascii_case(&r.name)
            {
                return Some(r);
            }
            let rec = &r.recognition;
            if rec.columns.is_empty() && rec.tags.is_empty() {
                continue;
            }
            if !rec.columns.iter().all(|c| header.iter().any(|h| h == c)) {
                continue;
            }
            let mut score = rec.columns.len() * 4;
            if !rec.tags.is_empty() {
                match cell(&r.fields.tag) {
                    Some(tag) if tag_matches(&rec.tags, tag) => score += 2,
                    Some(_) => continue,
                    // No tag to check: the columns alone must be distinctive.
                    None if rec.columns.is_empty() => continue,
                    None => {}
                }
            }
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((r, score));
            }
        }
        best.map(|(r, _)| r)
    }
}

/// Lower-cases and trims a column name or tag, the form every comparison uses.
pub(crate) fn norm(s: &str) -> String {
    s.trim().trim_start_matches('\u{feff}').to_ascii_lowercase()
}

fn lowercase_fields(f: FieldColumns) -> FieldColumns {
    let l = |v: Option<Vec<String>>| v.map(|v| v.iter().map(|c| norm(c)).collect());
    FieldColumns {
        timestamp: l(f.timestamp),
        ip: l(f.ip),
        port: l(f.port),
        protocol: l(f.protocol),
        asn: l(f.asn),
        hostname: l(f.hostname),
        url: l(f.url),
        severity: l(f.severity),
        tag: l(f.tag),
        report_type: l(f.report_type),
    }
}

/// The index of the first of `names` present in `header`.
pub(crate) fn find_column(header: &[String], names: &[String]) -> Option<usize> {
    names
        .iter()
        .find_map(|n| header.iter().position(|h| h == n))
}

/// Whether a row's tag matches one of the accepted tags. Shadowserver tags can be lists
/// (`cve-2021-26855;exchange`, `mirai,bruteforce`), so each part is tried.
fn tag_matches(accepted: &[String], tag: &str) -> bool {
    let tag = tag.to_ascii_lowercase();
    tag.split([';', ',']).map(str::trim).any(|part| {
        accepted.iter().any(|a| match a.strip_suffix('*') {
            Some(prefix) => part.starts_with(prefix),
            None => part == a,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(s: &str) -> Vec<String> {
        s.split(',').map(norm).collect()
    }

    #[test]
    fn builtin_mapping_is_valid() {
        let m = Mapping::from_toml(BUILTIN_TOML).unwrap();
        assert!(m.report_types().len() >= 20, "{}", m.report_types().len());
        assert_eq!(Mapping::builtin(), &m);
    }

    #[test]
    fn most_specific_type_wins() {
        let m = Mapping::builtin();
        let h =
            cols("timestamp,severity,ip,protocol,port,hostname,tag,asn,rdp_protocol,cert_length");
        let row = [
            "2026-11-20 03:14:15",
            "high",
            "192.0.2.1",
            "tcp",
            "3389",
            "",
            "rdp",
            "64500",
            "",
            "",
        ];
        assert_eq!(m.recognise(&h, Some(&row)).unwrap().name, "scan_rdp");
    }

    /// Every shipped type is reachable: a header made of the common columns plus the type's own
    /// `match.columns`, with a matching tag, is recognised as that type and no other. Guards
    /// against a new `[[report]]` table silently shadowing an old one.
    #[test]
    fn every_builtin_type_is_reachable() {
        let m = Mapping::builtin();
        for r in m.report_types() {
            let mut header = cols("timestamp,severity,ip,protocol,port,hostname,tag,asn");
            for c in &r.recognition.columns {
                if !header.contains(c) {
                    header.push(c.clone());
                }
            }
            let tag = match r.recognition.tags.first() {
                Some(t) => t.replace('*', "-x"),
                None => "unrelated-tag".to_owned(),
            };
            let mut row = vec![""; header.len()];
            row[6] = &tag;
            let got = m.recognise(&header, Some(&row)).map(|t| t.name.as_str());
            assert_eq!(got, Some(r.name.as_str()), "header {header:?} tag {tag}");
        }
    }

    #[test]
    fn report_type_column_names_the_type() {
        let m = Mapping::builtin();
        let h = cols("timestamp,ip,report_type");
        let row = ["2026-11-20 03:14:15", "192.0.2.1", "scan_ssh"];
        assert_eq!(m.recognise(&h, Some(&row)).unwrap().name, "scan_ssh");
    }

    #[test]
    fn tag_parts_and_prefixes() {
        let acc = vec!["cve-*".to_string(), "ssh".to_string()];
        assert!(tag_matches(&acc, "CVE-2021-26855;exchange"));
        assert!(tag_matches(&acc, "ssh"));
        assert!(!tag_matches(&acc, "telnet"));
    }

    #[test]
    fn bad_mappings_name_the_report() {
        let e = Mapping::from_toml("[[report]]\nname='x'\nclass='nope'\n").unwrap_err();
        assert!(
            matches!(e, MappingError::Invalid { ref report, .. } if report == "x"),
            "{e}"
        );
        let e = Mapping::from_toml("[[report]]\nname='x'\nclass='spam'\n").unwrap_err();
        assert!(e.to_string().contains("timestamp"), "{e}");
        let e = Mapping::from_toml("[[report]\n").unwrap_err();
        assert!(matches!(e, MappingError::Syntax(_)));
        let dup = "[fields]\ntimestamp=['t']\n[[report]]\nname='x'\nclass='spam'\n[[report]]\nname='x'\nclass='spam'\n";
        assert!(
            Mapping::from_toml(dup)
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
    }
}
