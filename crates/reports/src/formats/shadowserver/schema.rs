//! Shadowserver's own published schema of its report types, and how two versions differ.
//!
//! Shadowserver publishes a machine-readable list of every current report type with its exact
//! CSV columns and its classification (the file IntelMQ downloads from
//! <https://interchange.shadowserver.org/intelmq/v1/schema>; revision history at
//! <https://github.com/The-Shadowserver-Foundation/report_schema>). Warden ships one copy
//! (`data/shadowserver-schema.json`, retrieved 2026-03-24) and builds its recognition from it,
//! instead of guessing types from a few header columns; [`Schema::from_json`] reads a newer copy
//! at run time, and [`Schema::diff`] says what changed so an operator knows which new types still
//! need a class in the reviewed table (`data/shadowserver.toml`, `[classes]`).
//!
//! The file is attacker-reachable only through an operator's configuration, but it is still read
//! defensively: bounded size, every type checked, an error naming the type and the reason.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::LazyLock;
use thiserror::Error;

/// The schema shipped with Warden (Shadowserver's file as retrieved on [`BUILTIN_SCHEMA_DATE`]).
pub const BUILTIN_SCHEMA_JSON: &str = include_str!("../../../data/shadowserver-schema.json");

/// When the shipped schema was retrieved from Shadowserver.
pub const BUILTIN_SCHEMA_DATE: &str = "2026-03-24";

/// Where Shadowserver publishes the schema (what IntelMQ's parser downloads).
pub const SCHEMA_SOURCE: &str = "https://interchange.shadowserver.org/intelmq/v1/schema";

/// Largest schema file accepted, in bytes. The 2026 schema is about 180 KB for 170 types; a
/// file a hundred times that is not a schema.
pub const MAX_SCHEMA_BYTES: usize = 16 * 1024 * 1024;

/// Most columns one report type may declare (the widest current type has under 100).
const MAX_FIELDS_PER_TYPE: usize = 1024;

/// The shipped schema, parsed once. `builtin_schema_loads` proves it parses, so the empty
/// fallback is reachable only by a broken build.
static BUILTIN: LazyLock<Schema> = LazyLock::new(|| {
    Schema::from_json(BUILTIN_SCHEMA_JSON.as_bytes()).unwrap_or_else(|_| Schema {
        types: BTreeMap::new(),
    })
});

/// Why a schema file was refused.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum SchemaError {
    /// Larger than [`MAX_SCHEMA_BYTES`].
    #[error("shadowserver schema is {0} bytes, over the {MAX_SCHEMA_BYTES} byte limit")]
    TooLarge(usize),
    /// Not JSON, or not an object of report types.
    #[error("shadowserver schema is not valid: {0}")]
    Syntax(String),
    /// One report type is unusable.
    #[error("shadowserver schema, report type {report:?}: {reason}")]
    Invalid {
        /// The report type's key (its file-name part, `scan_rdp`).
        report: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// One report type as Shadowserver describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaType {
    /// Shadowserver's feed name (`Accessible-RDP`).
    pub title: String,
    /// The exact CSV columns, in file order.
    pub fields: Vec<String>,
    /// Shadowserver's `classification.taxonomy`, when given.
    pub taxonomy: Option<String>,
    /// Shadowserver's `classification.type`, when given.
    pub classification: Option<String>,
    /// The report's documentation page, when given.
    pub url: Option<String>,
}

/// The type as written in the file. Unknown keys are allowed: Shadowserver adds keys over time
/// and an older Warden must still read a newer file.
#[derive(Deserialize)]
struct RawType {
    #[serde(default)]
    name: Option<String>,
    fields: Vec<String>,
    #[serde(default, rename = "classification.taxonomy")]
    taxonomy: Option<String>,
    #[serde(default, rename = "classification.type")]
    classification: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

/// A whole schema: report type key (the `<type>` of `YYYY-MM-DD-<type>-….csv`) to its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    types: BTreeMap<String, SchemaType>,
}

impl Schema {
    /// The schema shipped with Warden.
    pub fn builtin() -> &'static Schema {
        &BUILTIN
    }

    /// Reads a schema file in Shadowserver's published format (an object of report types, each
    /// with `fields`, `name` and optionally `classification.*` and `url`). This is the loader
    /// behind `[reports] shadowserver_schema = FILE`: read the file, call this, then
    /// [`super::Mapping::with_schema`].
    pub fn from_json(bytes: &[u8]) -> Result<Schema, SchemaError> {
        if bytes.len() > MAX_SCHEMA_BYTES {
            return Err(SchemaError::TooLarge(bytes.len()));
        }
        let raw: BTreeMap<String, RawType> =
            serde_json::from_slice(bytes).map_err(|e| SchemaError::Syntax(e.to_string()))?;
        if raw.is_empty() {
            return Err(SchemaError::Syntax("it lists no report types".into()));
        }
        let mut types = BTreeMap::new();
        for (key, t) in raw {
            let invalid = |reason: &str| SchemaError::Invalid {
                report: key.clone(),
                reason: reason.to_owned(),
            };
            if !is_type_name(&key) {
                return Err(invalid(
                    "the name is not a report type name (lower-case letters, digits and `_`)",
                ));
            }
            if t.fields.len() > MAX_FIELDS_PER_TYPE {
                return Err(invalid("it lists more than 1024 fields"));
            }
            let fields: Vec<String> = t
                .fields
                .iter()
                .map(|f| f.trim().to_ascii_lowercase())
                .collect();
            if !fields.iter().any(|f| f == "timestamp") {
                return Err(invalid("it has no `timestamp` field"));
            }
            types.insert(
                key.clone(),
                SchemaType {
                    title: t.name.unwrap_or_else(|| key.clone()),
                    fields,
                    taxonomy: t.taxonomy,
                    classification: t.classification,
                    url: t.url,
                },
            );
        }
        Ok(Schema { types })
    }

    /// Every report type, by key.
    pub fn types(&self) -> &BTreeMap<String, SchemaType> {
        &self.types
    }

    /// One report type by key.
    pub fn get(&self, name: &str) -> Option<&SchemaType> {
        self.types.get(name)
    }

    /// What `newer` adds, changes and removes against this schema, so an operator loading a
    /// newer file sees which types need a class in the reviewed table.
    pub fn diff(&self, newer: &Schema) -> SchemaDiff {
        let mut d = SchemaDiff::default();
        for (name, new) in &newer.types {
            match self.types.get(name) {
                None => d.added.push(name.clone()),
                Some(old) if old != new => {
                    let has = |t: &SchemaType, f: &String| t.fields.contains(f);
                    d.changed.push(TypeChange {
                        name: name.clone(),
                        fields_added: new
                            .fields
                            .iter()
                            .filter(|f| !has(old, f))
                            .cloned()
                            .collect(),
                        fields_removed: old
                            .fields
                            .iter()
                            .filter(|f| !has(new, f))
                            .cloned()
                            .collect(),
                        order_changed: old.fields.len() == new.fields.len()
                            && old.fields != new.fields
                            && old.fields.iter().all(|f| has(new, f)),
                        classification_changed: (
                            old.taxonomy.as_deref(),
                            old.classification.as_deref(),
                        ) != (
                            new.taxonomy.as_deref(),
                            new.classification.as_deref(),
                        ),
                        title_changed: old.title != new.title,
                    });
                }
                Some(_) => {}
            }
        }
        d.removed = self
            .types
            .keys()
            .filter(|k| !newer.types.contains_key(*k))
            .cloned()
            .collect();
        d
    }
}

/// How two schemas differ (see [`Schema::diff`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SchemaDiff {
    /// Types only in the newer schema.
    pub added: Vec<String>,
    /// Types in both whose description differs.
    pub changed: Vec<TypeChange>,
    /// Types only in the older schema.
    pub removed: Vec<String>,
}

impl SchemaDiff {
    /// Whether the two schemas describe the same types identically.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

/// One type that both schemas have, described differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeChange {
    /// The report type.
    pub name: String,
    /// Columns the newer schema adds.
    pub fields_added: Vec<String>,
    /// Columns the newer schema no longer lists.
    pub fields_removed: Vec<String>,
    /// Same columns, another order.
    pub order_changed: bool,
    /// Taxonomy or classification type differ.
    pub classification_changed: bool,
    /// The feed name differs.
    pub title_changed: bool,
}

/// Whether `s` can be a report type key: what appears between the date and the next `-` of a
/// Shadowserver file name.
pub(crate) fn is_type_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The report type named by a Shadowserver file name: `2026-03-24-scan_rdp-example_asn.csv`
/// (also `.csv.gz`, `.csv.zip`, or a path ending in one) gives `scan_rdp`. Shadowserver documents
/// this `YYYY-MM-DD-<type>-<subscriber>.csv` pattern for every report, so a name is the most
/// reliable way to tell apart types whose columns are identical (`scan_imap`, `scan_pop3`).
pub fn type_from_file_name(name: &str) -> Option<&str> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let lower_ok = |ext: &str| {
        base.len() > ext.len()
            && base
                .get(base.len() - ext.len()..)
                .is_some_and(|e| e.eq_ignore_ascii_case(ext))
    };
    if !(lower_ok(".csv") || lower_ok(".csv.gz") || lower_ok(".csv.zip")) {
        return None;
    }
    let b = base.as_bytes();
    let date_ok = b.len() > 11
        && b.iter().take(10).enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
        && b.get(10) == Some(&b'-');
    if !date_ok {
        return None;
    }
    let rest = base.get(11..)?;
    let end = rest.find(['-', '.']).unwrap_or(rest.len());
    let ty = rest.get(..end)?;
    is_type_name(ty).then_some(ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_schema_loads() {
        let s = Schema::from_json(BUILTIN_SCHEMA_JSON.as_bytes()).unwrap();
        assert!(s.types().len() >= 170, "{}", s.types().len());
        assert_eq!(Schema::builtin(), &s);
        let rdp = s.get("scan_rdp").unwrap();
        assert_eq!(rdp.title, "Accessible-RDP");
        assert_eq!(&rdp.fields[..3], ["timestamp", "severity", "ip"]);
    }

    #[test]
    fn file_names() {
        for (name, want) in [
            ("2026-03-24-scan_rdp-example_asn.csv", Some("scan_rdp")),
            (
                "/var/in/2026-03-24-event4_sinkhole_http-org.CSV",
                Some("event4_sinkhole_http"),
            ),
            ("C:\\r\\2026-03-24-scan6_ssh-x.csv.zip", Some("scan6_ssh")),
            ("2026-03-24-botnet_drone.csv", Some("botnet_drone")),
            ("2026-03-24-scan_rdp-x.txt", None),
            ("scan_rdp.csv", None),
            ("2026-3-24-scan_rdp-x.csv", None),
            ("2026-03-24--x.csv", None),
            ("2026-03-24-Scan_RDP-x.csv", None),
            ("2026-03-24-.csv", None),
        ] {
            assert_eq!(type_from_file_name(name), want, "{name}");
        }
    }

    #[test]
    fn bad_schemas_name_the_reason() {
        assert!(matches!(
            Schema::from_json(b"[1]"),
            Err(SchemaError::Syntax(_))
        ));
        assert!(matches!(
            Schema::from_json(b"{}"),
            Err(SchemaError::Syntax(_))
        ));
        let e = Schema::from_json(br#"{"scan_x":{"fields":["ip"]}}"#).unwrap_err();
        assert!(
            matches!(e, SchemaError::Invalid { ref report, .. } if report == "scan_x"),
            "{e}"
        );
        let e = Schema::from_json(br#"{"Scan X":{"fields":["timestamp"]}}"#).unwrap_err();
        assert!(e.to_string().contains("Scan X"), "{e}");
        let big = vec![b' '; MAX_SCHEMA_BYTES + 1];
        assert!(matches!(
            Schema::from_json(&big),
            Err(SchemaError::TooLarge(_))
        ));
    }

    #[test]
    fn diff_names_added_changed_removed() {
        let old = Schema::from_json(
            br#"{"a":{"name":"A","fields":["timestamp","ip"]},"b":{"name":"B","fields":["timestamp","ip"]}}"#,
        )
        .unwrap();
        let new = Schema::from_json(
            br#"{"a":{"name":"A","fields":["timestamp","ip","port"],"extra_key":1},"c":{"name":"C","fields":["timestamp"]}}"#,
        )
        .unwrap();
        let d = old.diff(&new);
        assert_eq!(d.added, ["c"]);
        assert_eq!(d.removed, ["b"]);
        assert_eq!(d.changed.len(), 1);
        assert_eq!(d.changed[0].fields_added, ["port"]);
        assert!(d.changed[0].fields_removed.is_empty());
        assert!(old.diff(&old).is_empty());
    }
}
