//! Allocation-free field scanners over `&[u8]` used by every vendor module: addresses, ports,
//! numbers and `ip:port` / `ip/port` pairs. Each returns `None` on anything unexpected so that
//! callers turn it into a [`LineError`](crate::natlog::parse::LineError) naming the field.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Parses a dotted-quad IPv4 address that spans all of `s` (no leading zeros beyond one digit
/// are rejected on purpose: some devices zero-pad octets, and they mean decimal).
pub fn ipv4(s: &[u8]) -> Option<Ipv4Addr> {
    let mut oct = [0u8; 4];
    let mut n = 0usize;
    let mut cur: u32 = 0;
    let mut len = 0usize;
    for &c in s {
        match c {
            b'0'..=b'9' => {
                cur = cur * 10 + u32::from(c - b'0');
                len += 1;
                if len > 3 || cur > 255 {
                    return None;
                }
            }
            b'.' => {
                if len == 0 || n >= 3 {
                    return None;
                }
                *oct.get_mut(n)? = u8::try_from(cur).ok()?;
                n += 1;
                cur = 0;
                len = 0;
            }
            _ => return None,
        }
    }
    if n != 3 || len == 0 {
        return None;
    }
    oct[3] = u8::try_from(cur).ok()?;
    Some(Ipv4Addr::from(oct))
}

/// Parses an IPv6 address spanning all of `s` (any RFC 4291 section 2.2 text form).
pub fn ipv6(s: &[u8]) -> Option<Ipv6Addr> {
    if s.len() > 45 {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Parses an IPv4 or IPv6 address spanning all of `s`.
pub fn ip(s: &[u8]) -> Option<IpAddr> {
    if s.contains(&b':') {
        ipv6(s).map(IpAddr::V6)
    } else {
        ipv4(s).map(IpAddr::V4)
    }
}

/// Parses an unsigned decimal number spanning all of `s`, at most `u64`.
pub fn uint(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(v)
}

/// Parses a port number (0..=65535) spanning all of `s`.
pub fn port(s: &[u8]) -> Option<u16> {
    uint(s).and_then(|v| u16::try_from(v).ok())
}

/// Parses a number that fits in `u8` (protocol numbers).
pub fn byte(s: &[u8]) -> Option<u8> {
    uint(s).and_then(|v| u8::try_from(v).ok())
}

/// Parses a number that fits in `u32` (VRF ids, route domains, FIB tables).
pub fn u32_of(s: &[u8]) -> Option<u32> {
    uint(s).and_then(|v| u32::try_from(v).ok())
}

/// Splits `addr<sep>port` at the LAST `sep`, so that IPv6 addresses with `:` still work when
/// `sep` is `:` (`2001:db8::1:80` is read as address `2001:db8::1`, port 80 — the vendors that
/// write v6 this way rely on the same rule).
pub fn addr_port(s: &[u8], sep: u8) -> Option<(IpAddr, u16)> {
    let at = memchr::memrchr(sep, s)?;
    Some((ip(&s[..at])?, port(&s[at + 1..])?))
}

/// Protocol number of a protocol name as vendors print it (`TCP`, `udp`, `ICMP`...), or of a
/// decimal number.
pub fn proto(s: &[u8]) -> Option<u8> {
    if let Some(n) = byte(s) {
        return Some(n);
    }
    const NAMES: [(&[u8], u8); 6] = [
        (b"tcp", 6),
        (b"udp", 17),
        (b"icmp", 1),
        (b"icmpv6", 58),
        (b"gre", 47),
        (b"sctp", 132),
    ];
    NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(s))
        .map(|(_, p)| *p)
}

/// Byte position of `needle` in `hay`.
///
/// Why not `memchr::memmem::find`: it builds a searcher on every call, which costs more than
/// the search itself for our short needles and ~200-byte lines. Scanning with SIMD `memchr`
/// for one distinctive byte of the needle (its first non-space byte) and comparing in place is
/// allocation-free and several times faster here.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let k = needle.iter().position(|&c| c != b' ').unwrap_or(0);
    let pivot = *needle.get(k)?;
    let last_start = hay.len().checked_sub(needle.len())?;
    let mut from = k;
    while from < hay.len() {
        let p = from + memchr::memchr(pivot, &hay[from..])?;
        let start = p - k;
        if start > last_start {
            return None;
        }
        if &hay[start..start + needle.len()] == needle {
            return Some(start);
        }
        from = p + 1;
    }
    None
}

/// Iterator over space-separated tokens (runs of spaces or tabs count as one separator).
pub fn tokens(s: &[u8]) -> impl Iterator<Item = &[u8]> {
    s.split(|&c| c == b' ' || c == b'\t')
        .filter(|t| !t.is_empty())
}

/// Returns `s` without trailing `\r`, `\n` and spaces.
pub fn trim_end(s: &[u8]) -> &[u8] {
    let end = s
        .iter()
        .rposition(|&c| !matches!(c, b'\r' | b'\n' | b' ' | b'\t'))
        .map_or(0, |p| p + 1);
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_strict() {
        assert_eq!(ipv4(b"100.64.0.1"), Some(Ipv4Addr::new(100, 64, 0, 1)));
        for bad in [
            &b"1.2.3"[..],
            b"1.2.3.4.5",
            b"256.1.1.1",
            b"1..2.3",
            b"1.2.3.4 ",
            b"",
            b"1.2.3.",
            b"1234.1.1.1",
        ] {
            assert_eq!(ipv4(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn addr_port_splits_at_last_separator() {
        assert_eq!(
            addr_port(b"10.0.0.1:80", b':'),
            Some((IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 80))
        );
        assert_eq!(addr_port(b"2001:db8::1:443", b':').map(|x| x.1), Some(443));
        assert_eq!(addr_port(b"10.0.0.1:65536", b':'), None);
        assert_eq!(addr_port(b"10.0.0.1/23456", b'/').map(|x| x.1), Some(23456));
    }

    #[test]
    fn find_matches_memmem() {
        let hay = b"ab  NAT [x]: LSN44 SADD NAT_PORT_BLOCK_ALLOC: x -> y";
        for needle in [
            &b" NAT ["[..],
            b"LSN44 S",
            b"->",
            b"ALLOC:",
            b"zzz",
            b"y",
            b" ",
            b"ab",
            b"x -> y!",
        ] {
            assert_eq!(
                find(hay, needle),
                memchr::memmem::find(hay, needle),
                "{needle:?}"
            );
        }
        assert_eq!(find(b"", b"a"), None);
        assert_eq!(find(b"a", b"ab"), None);
        assert_eq!(
            find(b"a", b""),
            None,
            "empty needles are never searched for"
        );
    }

    #[test]
    fn numbers_reject_overflow_and_junk() {
        assert_eq!(uint(b"18446744073709551616"), None);
        assert_eq!(port(b"65535"), Some(65535));
        assert_eq!(port(b"-1"), None);
        assert_eq!(proto(b"UDP"), Some(17));
        assert_eq!(proto(b"300"), None);
    }
}
