//! Tolerance for DMARC aggregate XML as reporters really write it, applied before `mail-auth`
//! reads the document.
//!
//! `mail-auth` compares enumerated values byte for byte and stops at the first byte that is not
//! UTF-8, and (following DMARCbis) no longer reads `pct`. Real reports write `Pass`, `FAIL` and
//! `Quarantine` (Microsoft and several smaller reporters), carry a Latin-1 byte in an
//! `org_name` or a comment, and most still publish `pct`. Before this module such values were
//! silently dropped (or read as `none`) and one bad byte rejected the whole report. So:
//!
//! * the text of the enumerated elements is lower-cased in place (same length, so nothing
//!   else moves);
//! * invalid UTF-8 is replaced (U+FFFD) and the report says so in `warnings`;
//! * `pct` is read from `policy_published` here.

use std::borrow::Cow;

/// Elements whose text is an enumerated value (RFC 7489 appendix C, DMARCbis), compared
/// without case.
const ENUMERATED: &[&[u8]] = &[
    b"disposition",
    b"dkim",
    b"spf",
    b"result",
    b"p",
    b"sp",
    b"np",
    b"adkim",
    b"aspf",
    b"scope",
    b"type",
    b"testing",
    b"discovery_method",
];

/// A document ready for `mail-auth`, and what was noticed on the way.
#[derive(Debug)]
pub(crate) struct Prepared<'a> {
    /// The XML to parse.
    pub xml: Cow<'a, [u8]>,
    /// Things a reader of the report should know (replaced bytes).
    pub warnings: Vec<String>,
    /// `policy_published/pct`, when present and a number 0..=100.
    pub pct: Option<u8>,
}

/// Prepares one aggregate report document.
pub(crate) fn prepare(xml: &[u8]) -> Prepared<'_> {
    let mut warnings = Vec::new();
    let mut doc: Cow<'_, [u8]> = match std::str::from_utf8(xml) {
        Ok(_) => Cow::Borrowed(xml),
        Err(_) => {
            let fixed = String::from_utf8_lossy(xml).into_owned();
            let replaced = fixed.matches('\u{FFFD}').count();
            warnings.push(format!(
                "the report is not valid UTF-8: {replaced} invalid byte sequence(s) replaced by U+FFFD"
            ));
            Cow::Owned(fixed.into_bytes())
        }
    };
    if needs_lowercasing(&doc) {
        lowercase_enumerated(doc.to_mut());
    }
    let pct = policy_pct(&doc);
    Prepared {
        xml: doc,
        warnings,
        pct,
    }
}

/// Whether any enumerated element holds an upper-case letter (the common case is no, and then
/// the document is not copied).
fn needs_lowercasing(doc: &[u8]) -> bool {
    let mut found = false;
    for_each_enumerated_text(doc, |range| {
        found |= doc
            .get(range)
            .is_some_and(|t| t.iter().any(u8::is_ascii_uppercase));
    });
    found
}

fn lowercase_enumerated(doc: &mut [u8]) {
    let mut ranges = Vec::new();
    for_each_enumerated_text(doc, |r| ranges.push(r));
    for r in ranges {
        if let Some(t) = doc.get_mut(r) {
            t.make_ascii_lowercase();
        }
    }
}

/// Calls `f` with the byte range of the text of every `<name>text</name>` whose name is
/// enumerated and whose content has no markup (so `<dkim>` as a container is left alone).
fn for_each_enumerated_text(doc: &[u8], mut f: impl FnMut(std::ops::Range<usize>)) {
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'<', doc.get(i..).unwrap_or_default()) {
        let open = i + off;
        let name_start = open + 1;
        let rest = doc.get(name_start..).unwrap_or_default();
        let name_len = rest
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count();
        i = name_start;
        if rest.get(name_len) != Some(&b'>') || name_len == 0 {
            continue;
        }
        let name = rest.get(..name_len).unwrap_or_default();
        if !ENUMERATED.contains(&name) {
            continue;
        }
        let text_start = name_start + name_len + 1;
        let Some(len) = memchr::memchr(b'<', doc.get(text_start..).unwrap_or_default()) else {
            return;
        };
        let close = doc.get(text_start + len..).unwrap_or_default();
        if close.get(1) == Some(&b'/') && close.get(2..2 + name_len) == Some(name) {
            f(text_start..text_start + len);
        }
        i = text_start + len;
    }
}

/// `pct` of the `policy_published` element, when it is a number 0..=100.
fn policy_pct(doc: &[u8]) -> Option<u8> {
    let start = memchr::memmem::find(doc, b"<policy_published>")?;
    let section = doc.get(start..)?;
    let end = memchr::memmem::find(section, b"</policy_published>").unwrap_or(section.len());
    let section = section.get(..end)?;
    let open = memchr::memmem::find(section, b"<pct>")? + 5;
    let len = memchr::memchr(b'<', section.get(open..)?)?;
    let text = std::str::from_utf8(section.get(open..open + len)?).ok()?;
    text.trim().parse::<u8>().ok().filter(|p| *p <= 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercases_values_not_containers_or_other_text() {
        let xml = b"<policy_evaluated><disposition>Quarantine</disposition><dkim>FAIL</dkim>\
                    </policy_evaluated><auth_results><dkim><domain>Example.ORG</domain>\
                    <result>Pass</result></dkim></auth_results>";
        let p = prepare(xml);
        let s = std::str::from_utf8(&p.xml).unwrap();
        assert!(s.contains("<disposition>quarantine</disposition>"), "{s}");
        assert!(s.contains("<dkim>fail</dkim>"), "{s}");
        assert!(s.contains("<result>pass</result>"), "{s}");
        assert!(s.contains("<domain>Example.ORG</domain>"), "{s}");
        assert!(p.warnings.is_empty());
    }

    #[test]
    fn untouched_documents_are_not_copied() {
        let xml = b"<p>reject</p>";
        assert!(matches!(prepare(xml).xml, Cow::Borrowed(_)));
    }

    #[test]
    fn invalid_utf8_is_replaced_with_a_warning() {
        let p = prepare(b"<org_name>Caf\xe9 Mail</org_name>");
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert!(std::str::from_utf8(&p.xml).is_ok());
    }

    #[test]
    fn pct_from_policy_published_only() {
        assert_eq!(
            policy_pct(b"<policy_published><p>none</p><pct> 50 </pct></policy_published>"),
            Some(50)
        );
        assert_eq!(
            policy_pct(b"<policy_published><pct>150</pct></policy_published>"),
            None
        );
        assert_eq!(
            policy_pct(b"<policy_published></policy_published><pct>5</pct>"),
            None
        );
        assert_eq!(policy_pct(b"<record/>"), None);
    }
}
