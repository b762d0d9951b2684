//! Tag-value lists (RFC 6376 section 3.2), the syntax shared by DKIM keys, DMARC, MTA-STS and
//! TLS-RPT TXT records and BIMI: `tag=value; tag=value`, whitespace around tokens ignored.

/// A parsed tag list, in order, tag names lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagList {
    /// (tag, value) pairs in the order written.
    pub tags: Vec<(String, String)>,
}

impl TagList {
    /// The value of the first `name` tag.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(t, _)| t == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first tag, which several standards require to be the version.
    pub fn first(&self) -> Option<(&str, &str)> {
        self.tags.first().map(|(t, v)| (t.as_str(), v.as_str()))
    }
}

/// Parses a tag list. Errors name the offending piece: an element without `=`, an empty or
/// invalid tag name, or a tag given twice (RFC 6376 section 3.2: "Tags with duplicate names
/// MUST NOT occur").
pub fn parse(s: &str) -> Result<TagList, String> {
    let mut tags: Vec<(String, String)> = Vec::new();
    for (i, part) in s.split(';').enumerate() {
        let part = part.trim();
        if part.is_empty() {
            // A trailing `;` is allowed; so are empty elements in practice.
            continue;
        }
        let Some((name, value)) = part.split_once('=') else {
            return Err(format!("element {} {part:?} has no '='", i + 1));
        };
        let name = name.trim().to_ascii_lowercase();
        if name.is_empty()
            || !name.starts_with(|c: char| c.is_ascii_alphabetic())
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(format!("{name:?} is not a valid tag name"));
        }
        if tags.iter().any(|(t, _)| *t == name) {
            return Err(format!("tag {name:?} appears twice"));
        }
        tags.push((name, value.trim().to_owned()));
    }
    Ok(TagList { tags })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let t = parse(" v=DMARC1 ; p = reject; rua=mailto:a@b.test;").unwrap();
        assert_eq!(t.first(), Some(("v", "DMARC1")));
        assert_eq!(t.get("p"), Some("reject"));
        assert!(parse("v=DMARC1; p").is_err());
        assert!(parse("v=DMARC1; p=none; p=reject").is_err());
        assert!(parse("v=DMARC1; =x").is_err());
    }
}
