//! A part of a report that could not be parsed, kept as a record of its own.
//!
//! A mail with three attachments, or a zip with ten CSVs, is ten reports travelling together.
//! One corrupt member must not cost the desk the other nine (DESIGN.md rule 3: nothing is
//! dropped), and it must not vanish either: the analyst has to see it, and the desk has to be able
//! to quarantine it with its reason. [`FailedPart`] is that statement; in the registry's output
//! (`Vec<Record>`) it travels as an event with `confidence` 0.0, class `other`, no subject
//! (so attribution never acts on it), and `extra.part_error` (the reason), `extra.part_error_kind`
//! (a [`ParseErrorKind`] name), `extra.part` (the member or attachment name) and
//! `extra.part_format` (the parser that refused it).

use warden_model::{AbuseClass, AbuseEvent, Evidence, SourceFormat};

use crate::{ParseError, ParseErrorKind, Record};

/// Key in `extra` that marks a failed-part record and holds its reason.
pub const PART_ERROR_KEY: &str = "part_error";

/// One part of a multi-part input that failed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedPart {
    /// The part's name (attachment file name, zip member), or a description of where it was.
    pub part: String,
    /// Why it failed.
    pub error: ParseError,
}

impl FailedPart {
    /// The failed part as a record for the registry's output. `sha256` is the whole input's hash
    /// (the raw report the desk stored). Its `source_format` is the parser that refused the part
    /// when that parser makes events, else `free_form`.
    pub fn into_record(self, sha256: &str) -> Record {
        let source = match self.error.format {
            "arf" => SourceFormat::Arf,
            "xarf" => SourceFormat::Xarf,
            "xarf_legacy" => SourceFormat::XarfLegacy,
            "shadowserver" => SourceFormat::Shadowserver,
            "spamcop" => SourceFormat::Spamcop,
            _ => SourceFormat::FreeForm,
        };
        let excerpt = format!("{}: {}", self.part, self.error);
        let mut ev = AbuseEvent::new(
            source,
            AbuseClass::Other,
            Evidence::with_hash(sha256, &excerpt),
        );
        ev.confidence = 0.0;
        ev.extra
            .insert(PART_ERROR_KEY.to_owned(), self.error.message.clone());
        ev.extra.insert(
            "part_error_kind".to_owned(),
            kind_name(self.error.kind).to_owned(),
        );
        ev.extra.insert("part".to_owned(), self.part);
        ev.extra
            .insert("part_format".to_owned(), self.error.format.to_owned());
        Record::from(ev.finish())
    }

    /// The failed part a record stands for, when it is one (what the desk calls to quarantine
    /// the part with its reason).
    pub fn from_record(record: &Record) -> Option<(String, String)> {
        let ev = record.as_event()?;
        let reason = ev.extra.get(PART_ERROR_KEY)?;
        let part = ev.extra.get("part").cloned().unwrap_or_default();
        Some((part, reason.clone()))
    }
}

/// The stable snake_case name of an error kind (as serialised).
pub fn kind_name(kind: ParseErrorKind) -> &'static str {
    match kind {
        ParseErrorKind::UnknownFormat => "unknown_format",
        ParseErrorKind::Malformed => "malformed",
        ParseErrorKind::MissingField => "missing_field",
        ParseErrorKind::LimitExceeded => "limit_exceeded",
        ParseErrorKind::Unsupported => "unsupported",
    }
}
