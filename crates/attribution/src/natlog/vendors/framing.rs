//! Syslog framing shared by the vendor parsers: the `<PRI>` (RFC 5424 section 6.2.1), the
//! RFC 5424 header (section 6.2) and its structured-data parameters (section 6.3.3), and the
//! token scanner. Times inside these headers are read by [`crate::natlog::syslog`].

use crate::natlog::syslog::{LocalTime, parse_iso_time};

/// Reads the leading `<PRI>` of a syslog message (RFC 5424 section 6.2.1), if present.
pub fn strip_pri(s: &[u8]) -> &[u8] {
    if s.first() != Some(&b'<') {
        return s;
    }
    match s.iter().take(5).position(|&c| c == b'>') {
        Some(end) if end > 1 && s[1..end].iter().all(u8::is_ascii_digit) => &s[end + 1..],
        _ => s,
    }
}

/// Splits off the next space-delimited token (leading spaces skipped).
pub fn next_token(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let start = s.iter().position(|&c| c != b' ')?;
    let s = &s[start..];
    let end = memchr::memchr(b' ', s).unwrap_or(s.len());
    Some((&s[..end], &s[end..]))
}

/// The RFC 5424 header fields after PRI and VERSION (section 6.2).
#[derive(Debug, Clone, Copy)]
pub struct Rfc5424<'a> {
    /// TIMESTAMP, when not the NILVALUE.
    pub time: Option<LocalTime>,
    /// HOSTNAME.
    pub host: &'a [u8],
    /// MSGID.
    pub msgid: &'a [u8],
    /// STRUCTURED-DATA and MSG, unparsed.
    pub rest: &'a [u8],
}

/// Parses an RFC 5424 header (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID ...`). Returns `None` when
/// the line is not in that form.
pub fn parse_rfc5424(line: &[u8]) -> Option<Rfc5424<'_>> {
    let s = strip_pri(line);
    let s = s.strip_prefix(b"1 ")?;
    let (ts, s) = next_token(s)?;
    let time = if ts == b"-" {
        None
    } else {
        Some(parse_iso_time(ts)?.0)
    };
    let (host, s) = next_token(s)?;
    let (_app, s) = next_token(s)?;
    let (_procid, s) = next_token(s)?;
    let (msgid, s) = next_token(s)?;
    Some(Rfc5424 {
        time,
        host,
        msgid,
        rest: s,
    })
}

/// Iterates `name="value"` parameters of RFC 5424 structured data (section 6.3.3). Escaped
/// quotes inside values are skipped over, not unescaped: the values we read are addresses and
/// numbers.
pub struct SdParams<'a> {
    s: &'a [u8],
}

impl<'a> SdParams<'a> {
    /// Starts at any point inside or before an SD-ELEMENT.
    pub fn new(s: &'a [u8]) -> Self {
        Self { s }
    }
}

impl<'a> Iterator for SdParams<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let eq = super::scan::find(self.s, b"=\"")?;
            let name_start = self.s[..eq]
                .iter()
                .rposition(|&c| c == b' ' || c == b'[' || c == b']')
                .map_or(0, |p| p + 1);
            let name = &self.s[name_start..eq];
            let vstart = eq + 2;
            let mut i = vstart;
            let bytes = self.s;
            let end = loop {
                match bytes.get(i) {
                    None => return None,
                    Some(b'\\') => i += 2,
                    Some(b'"') => break i,
                    Some(_) => i += 1,
                }
            };
            let value = &bytes[vstart..end];
            self.s = &bytes[end + 1..];
            if !name.is_empty() {
                return Some((name, value));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::natlog::TsPrecision;

    #[test]
    fn sd_params_iterate_in_order() {
        let sd = br#"[nsess SSUBIX="0" ISADDR="10.0.0.3" X="a\"b"] msg"#;
        let v: Vec<_> = SdParams::new(sd).collect();
        assert_eq!(v[0], (&b"SSUBIX"[..], &b"0"[..]));
        assert_eq!(v[1], (&b"ISADDR"[..], &b"10.0.0.3"[..]));
        assert_eq!(v[2].0, b"X");
        assert_eq!(v.len(), 3);
    }

    #[test]
    fn rfc5424_header() {
        let h =
            parse_rfc5424(b"<134>1 2024-05-01T10:00:00.123456Z vpp NAT - SADD [nsess]").unwrap();
        assert_eq!(h.host, b"vpp");
        assert_eq!(h.msgid, b"SADD");
        assert_eq!(h.time.unwrap().precision, TsPrecision::MicroSec);
    }
}
