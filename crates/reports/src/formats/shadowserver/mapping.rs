//! The Shadowserver mapping: which report type a CSV is, and which columns mean what.
//!
//! Shadowserver changes its reports often (new scan types every few months, renamed columns in
//! 2021 and 2023). AbuseIO hard-coded its feeds and fell behind (AbuseIO #421, #373); IntelMQ
//! loads Shadowserver's own schema at run time and kept up. We do the latter: the report types
//! and their exact columns come from Shadowserver's published schema ([`super::schema`]), and
//! what Warden makes of each type is data (`crates/reports/data/shadowserver.toml`): the one
//! reviewed table of classes (`[classes]`), per-type overrides and older type names. A new
//! report type is a schema file and one line in `[classes]`, not a code change.
//!
//! Recognition, most reliable first (see [`Mapping::recognise_file`]): Shadowserver's documented
//! file name (`YYYY-MM-DD-<type>-….csv`), a report-type column, the exact column set of a schema
//! type, then the column and tag rules of `[[report]]` tables and the closest schema type for
//! files whose columns drifted.

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;
use thiserror::Error;
use warden_model::{AbuseClass, Protocol, Severity};

use super::schema::{Schema, type_from_file_name};

/// The mapping shipped with Warden, as text (also what `warden` can print for editing).
pub const BUILTIN_TOML: &str = include_str!("../../../data/shadowserver.toml");

/// The shipped mapping over the shipped schema, parsed once. A test (`builtin_mapping_is_valid`)
/// proves it loads, so the fallback to an empty mapping below can only be reached by a broken
/// build.
static BUILTIN: LazyLock<Mapping> =
    LazyLock::new(|| Mapping::from_toml(BUILTIN_TOML).unwrap_or_else(|_| Mapping::empty()));

/// Columns a file must share with a schema type (as a share of both column sets together) to be
/// read as that type when no exact match, name or rule decides: a type that gained or lost a
/// column or two since the schema was published is still itself.
const CLOSEST_TYPE_MIN_OVERLAP: f64 = 0.85;

/// How much closer than every type with other columns the closest type must be.
const CLOSEST_TYPE_MARGIN: f64 = 0.05;

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
    /// An e-mail address that is the subject (compromised accounts).
    #[serde(default)]
    pub email: Option<Vec<String>>,
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
            email: pick(&self.email, &over.email),
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
    /// Required for a type the schema does not know; a schema type takes `[classes]`.
    #[serde(default)]
    class: Option<String>,
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

/// Where the schema the table was reviewed against came from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchemaNote {
    #[allow(dead_code)] // documentation for the reader of the file; checked to be present
    source: String,
    #[allow(dead_code)]
    retrieved: String,
}

/// The whole mapping file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    #[serde(default)]
    #[allow(dead_code)]
    schema: Option<RawSchemaNote>,
    #[serde(default)]
    fields: FieldColumns,
    /// The reviewed table: report type to Warden class.
    #[serde(default)]
    classes: BTreeMap<String, String>,
    /// Shadowserver `classification.type` to class, for schema types not yet in `classes`.
    #[serde(default)]
    by_classification: BTreeMap<String, String>,
    /// Older type names to the current type they became.
    #[serde(default)]
    aliases: BTreeMap<String, String>,
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
    /// The exact column set Shadowserver's schema gives this type, sorted (empty for a type the
    /// schema does not describe).
    pub schema_columns: Vec<String>,
    /// Whether no reviewed class exists for this type (a type new in a loaded schema, or one
    /// known only from a file name): its events carry `extra.needs_mapping`.
    pub needs_mapping: bool,
}

impl ReportType {
    /// A type known only from a file name, with no mapping: rows still become events (IP, port,
    /// time through the default columns), class `other`, flagged for a mapping. An unknown type
    /// must not cost the desk a whole file.
    pub fn unmapped(name: &str, defaults: &FieldColumns) -> ReportType {
        ReportType {
            name: name.to_owned(),
            title: None,
            class: AbuseClass::Other,
            severity: None,
            protocol: None,
            recognition: Recognition::default(),
            fields: defaults.clone(),
            keep: Vec::new(),
            schema_columns: Vec::new(),
            needs_mapping: true,
        }
    }

    /// Whether Shadowserver's name says this is an IPv6 report (`scan6_*`, `event6_*`,
    /// `population6_*`, `compromised_iot6`): the one thing that tells apart the v4 and v6
    /// variants of a type, whose columns are identical.
    pub fn is_ipv6(&self) -> bool {
        let n = self.name.as_str();
        let prefix = n.split('_').next().unwrap_or_default();
        prefix.ends_with('6') || n.ends_with('6')
    }
}

/// What [`Mapping::recognise_file`] made of a file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Recognised<'m> {
    /// A type of the mapping.
    Known(&'m ReportType),
    /// The file name names a type the mapping does not have.
    UnknownName(&'m str),
    /// Nothing recognised the file.
    Nothing,
}

/// A parsed mapping: default field columns plus the report types, in file order (ties in
/// recognition go to the earlier type).
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    reports: Vec<ReportType>,
    defaults: FieldColumns,
}

impl Mapping {
    /// The mapping shipped with Warden.
    pub fn builtin() -> &'static Mapping {
        &BUILTIN
    }

    fn empty() -> Mapping {
        Mapping {
            reports: Vec::new(),
            defaults: FieldColumns::default(),
        }
    }

    /// The shipped table over another schema: how a newer Shadowserver schema file is used at run
    /// time (`[reports] shadowserver_schema = FILE`; read it with
    /// [`super::Schema::from_json`]). Types new in that schema get a class from their
    /// Shadowserver classification and are flagged `needs_mapping` until the table has them.
    pub fn with_schema(schema: &Schema) -> Result<Mapping, MappingError> {
        Mapping::from_parts(schema, BUILTIN_TOML)
    }

    /// The default column names (`[fields]`), used for types the mapping does not know.
    pub fn default_fields(&self) -> &FieldColumns {
        &self.defaults
    }

    /// Parses a mapping text (the format of `data/shadowserver.toml`) over the shipped schema.
    /// This is how a report type is changed or added without a release: write its
    /// `[[report]]` table.
    pub fn from_toml(text: &str) -> Result<Mapping, MappingError> {
        Mapping::from_parts(Schema::builtin(), text)
    }

    /// Builds a mapping from a schema and a mapping text: one type per schema type (class from
    /// `[classes]`, else from `[by_classification]`, flagged), the `[[report]]` tables as
    /// overrides of schema types or as types of their own, `[classes]` entries the schema no
    /// longer lists (recognised by file name), and `[aliases]` for older names.
    pub fn from_parts(schema: &Schema, text: &str) -> Result<Mapping, MappingError> {
        if text.len() > MAX_MAPPING_TEXT {
            return Err(MappingError::TooLarge(text.len()));
        }
        let raw: RawMapping =
            toml::from_str(text).map_err(|e| MappingError::Syntax(e.to_string()))?;
        let invalid = |report: &str, reason: String| MappingError::Invalid {
            report: report.to_owned(),
            reason,
        };
        let mut overrides: BTreeMap<&str, &RawReport> = BTreeMap::new();
        for r in &raw.reports {
            if r.name.trim().is_empty() {
                return Err(invalid(&r.name, "the name is empty".into()));
            }
            if overrides.insert(r.name.as_str(), r).is_some() {
                return Err(invalid(&r.name, "the name is used twice".into()));
            }
        }
        let parse_class =
            |name: &str, c: &str| c.parse::<AbuseClass>().map_err(|e| invalid(name, e));
        // The hand-written tables first, so an error names the table that has it.
        for r in &raw.reports {
            if let Some(c) = &r.class {
                parse_class(&r.name, c)?;
            }
            if raw
                .fields
                .overlaid(&r.fields)
                .timestamp
                .as_ref()
                .is_none_or(Vec::is_empty)
            {
                return Err(invalid(
                    &r.name,
                    "no timestamp column is named (fields.timestamp)".into(),
                ));
            }
        }
        let mut reports = Vec::with_capacity(schema.types().len() + raw.reports.len());
        let mut seen = BTreeSet::new();
        // Schema types first, in schema order.
        for (name, st) in schema.types() {
            let over = overrides.get(name.as_str()).copied();
            let (class, needs_mapping) =
                match (raw.classes.get(name), over.and_then(|o| o.class.as_ref())) {
                    (Some(c), _) | (None, Some(c)) => (parse_class(name, c)?, false),
                    (None, None) => {
                        let by = st
                            .classification
                            .as_deref()
                            .and_then(|c| raw.by_classification.get(c));
                        (
                            by.map_or(Ok(AbuseClass::Other), |c| parse_class(name, c))?,
                            true,
                        )
                    }
                };
            let mut columns = st.fields.clone();
            columns.sort();
            columns.dedup();
            let mut t = build_type(name, over, class, &raw.fields, &invalid)?;
            t.title = t.title.or_else(|| Some(st.title.clone()));
            t.schema_columns = columns;
            t.needs_mapping = needs_mapping;
            seen.insert(name.clone());
            reports.push(t);
        }
        // Types of the table only: older or custom types, recognised by their rules and names.
        for r in &raw.reports {
            if seen.contains(&r.name) {
                continue;
            }
            let class = match (r.class.as_ref(), raw.classes.get(&r.name)) {
                (Some(c), _) | (None, Some(c)) => parse_class(&r.name, c)?,
                (None, None) => {
                    return Err(invalid(
                        &r.name,
                        "no class: the schema does not know this type, so its table needs one"
                            .into(),
                    ));
                }
            };
            seen.insert(r.name.clone());
            reports.push(build_type(&r.name, Some(r), class, &raw.fields, &invalid)?);
        }
        // Reviewed types the schema no longer lists: still read by file name.
        for (name, c) in &raw.classes {
            if seen.insert(name.clone()) {
                let class = parse_class(name, c)?;
                reports.push(build_type(name, None, class, &raw.fields, &invalid)?);
            }
        }
        for (old, new) in &raw.aliases {
            if seen.contains(old) {
                continue; // the schema still has the old name: it wins
            }
            let target = reports.iter().find(|r| &r.name == new).ok_or_else(|| {
                invalid(old, format!("alias of {new:?}, which is not a report type"))
            })?;
            let mut t = target.clone();
            t.name = old.clone();
            // Recognised by its name only: its columns are the current type's.
            t.recognition = Recognition::default();
            t.schema_columns = Vec::new();
            reports.push(t);
        }
        Ok(Mapping {
            reports,
            defaults: lowercase_fields(raw.fields.clone()),
        })
    }

    /// Every report type, in file order.
    pub fn report_types(&self) -> &[ReportType] {
        &self.reports
    }

    /// Looks a report type up by name.
    pub fn get(&self, name: &str) -> Option<&ReportType> {
        self.reports.iter().find(|r| r.name == name)
    }

    /// Picks the report type of a file from its name (when known), header and first data row.
    ///
    /// 1. A Shadowserver file name (`2026-03-24-scan_rdp-….csv`) names the type outright; a
    ///    name the mapping does not know gives [`Recognised::UnknownName`].
    /// 2. A report-type column naming a type.
    /// 3. The header's column set equals a schema type's. Identical column sets (IPv4 and IPv6
    ///    variants, `scan_imap` and `scan_pop3`) are told apart by the first row's address
    ///    family, then the `[[report]]` tags, then the type the table has rules for.
    /// 4. The `[[report]]` column and tag rules ([`Mapping::recognise`]).
    /// 5. The schema type whose columns overlap the header's most, at least
    ///    [`CLOSEST_TYPE_MIN_OVERLAP`] and clearly more than any other (a type whose columns
    ///    drifted a little).
    pub fn recognise_file<'a>(
        &'a self,
        file_name: Option<&'a str>,
        header: &[String],
        first_row: Option<&[&str]>,
    ) -> Recognised<'a> {
        if let Some(name) = file_name.and_then(type_from_file_name) {
            return match self.get(name) {
                Some(t) => Recognised::Known(t),
                None => Recognised::UnknownName(name),
            };
        }
        let mut set: Vec<&str> = header.iter().map(String::as_str).collect();
        set.sort_unstable();
        set.dedup();
        let exact = |r: &&ReportType| {
            !r.schema_columns.is_empty()
                && r.schema_columns
                    .iter()
                    .map(String::as_str)
                    .eq(set.iter().copied())
        };
        let cell = |names: &Option<Vec<String>>| -> Option<&str> {
            let row = first_row?;
            let idx = find_column(header, names.as_deref()?)?;
            row.get(idx).map(|s| s.trim()).filter(|s| !s.is_empty())
        };
        if let Some(named) = self.reports.iter().find_map(|r| {
            cell(&r.fields.report_type)
                .filter(|n| n.eq_ignore_ascii_case(&r.name))
                .map(|_| r)
        }) {
            return Recognised::Known(named);
        }
        let v6 = cell(&self.defaults.ip)
            .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
            .map(|ip| ip.is_ipv6());
        let mut best: Option<(&ReportType, u8)> = None;
        for r in self.reports.iter().filter(exact) {
            let mut score = 0u8;
            if v6 == Some(r.is_ipv6()) {
                score += 4;
            }
            if !r.recognition.tags.is_empty()
                && cell(&r.fields.tag).is_some_and(|t| tag_matches(&r.recognition.tags, t))
            {
                score += 2;
            }
            if !r.recognition.columns.is_empty() || !r.recognition.tags.is_empty() {
                score += 1;
            }
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((r, score));
            }
        }
        if let Some((r, _)) = best {
            return Recognised::Known(r);
        }
        if let Some(r) = self.recognise(header, first_row) {
            return Recognised::Known(r);
        }
        // Closest schema type: clearly closer than any type with other columns, or it is a
        // guess (small scan reports differ by one or two columns) and the file goes to review.
        let overlap = |r: &ReportType| {
            let common = set
                .iter()
                .filter(|c| {
                    r.schema_columns
                        .binary_search_by(|x| x.as_str().cmp(c))
                        .is_ok()
                })
                .count();
            let union = set.len() + r.schema_columns.len() - common;
            common as f64 / union.max(1) as f64
        };
        let mut closest: Option<(&ReportType, f64)> = None;
        let schema_types = || self.reports.iter().filter(|r| !r.schema_columns.is_empty());
        for r in schema_types() {
            let o = overlap(r);
            let better = closest.is_none_or(|(_, b)| o > b || (o == b && v6 == Some(r.is_ipv6())));
            if better {
                closest = Some((r, o));
            }
        }
        let Some((best, score)) = closest else {
            return Recognised::Nothing;
        };
        let runner_up = schema_types()
            .filter(|r| r.schema_columns != best.schema_columns)
            .map(overlap)
            .fold(0.0, f64::max);
        if score >= CLOSEST_TYPE_MIN_OVERLAP && score - runner_up >= CLOSEST_TYPE_MARGIN {
            Recognised::Known(best)
        } else {
            Recognised::Nothing
        }
    }

    /// Picks the report type of a file from its header and the first data row, by the
    /// `[[report]]` rules alone.
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

/// One ready report type from its optional `[[report]]` table and its class.
fn build_type(
    name: &str,
    over: Option<&RawReport>,
    class: AbuseClass,
    defaults: &FieldColumns,
    invalid: &dyn Fn(&str, String) -> MappingError,
) -> Result<ReportType, MappingError> {
    let empty = FieldColumns::default();
    let severity = over
        .and_then(|r| r.severity.as_deref())
        .map(str::parse::<Severity>)
        .transpose()
        .map_err(|e| invalid(name, e))?;
    let protocol = match over.and_then(|r| r.protocol.as_deref()) {
        None => None,
        Some(p) => Some(
            Protocol::parse(p).ok_or_else(|| invalid(name, format!("unknown protocol {p:?}")))?,
        ),
    };
    let fields = defaults.overlaid(over.map_or(&empty, |r| &r.fields));
    if fields.timestamp.as_ref().is_none_or(Vec::is_empty) {
        return Err(invalid(
            name,
            "no timestamp column is named (fields.timestamp)".into(),
        ));
    }
    let recognition = over.map_or_else(Recognition::default, |r| Recognition {
        columns: r.recognition.columns.iter().map(|c| norm(c)).collect(),
        tags: r.recognition.tags.iter().map(|t| norm(t)).collect(),
    });
    Ok(ReportType {
        name: name.to_owned(),
        title: over.and_then(|r| r.title.clone()),
        class,
        severity,
        protocol,
        recognition,
        fields: lowercase_fields(fields),
        keep: over.map_or_else(Vec::new, |r| r.keep.iter().map(|c| norm(c)).collect()),
        schema_columns: Vec::new(),
        needs_mapping: false,
    })
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
        email: l(f.email),
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

    /// Every shipped type with `match` rules is reachable: a header made of the common columns
    /// plus the type's own `match.columns`, with a matching tag, is recognised as that type and
    /// no other. Guards against a new `[[report]]` table silently shadowing an old one. (Types
    /// without rules are recognised by name or exact schema columns, tested in
    /// tests/shadowserver_schema.rs.)
    #[test]
    fn every_builtin_type_is_reachable() {
        let m = Mapping::builtin();
        let with_rules = m
            .report_types()
            .iter()
            .filter(|r| !r.recognition.columns.is_empty() || !r.recognition.tags.is_empty());
        assert!(with_rules.clone().count() >= 30);
        for r in with_rules {
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
