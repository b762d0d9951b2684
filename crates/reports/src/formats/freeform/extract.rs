//! Finds the things a free-form report is about, line by line: IP addresses with the role the
//! text gives them (source or destination), ports with theirs, URLs (defanged or not), e-mail
//! addresses and domain names.
//!
//! Why roles matter: a report names the attacker *and* the victim ("from 198.51.100.2 port 40112
//! on 203.0.113.5 port 22", `SRC=... DST=...`). Only the source is the provider's customer; a
//! destination address is the reporter's own machine and must not become a case. The role comes
//! from the words just before the address (longest cue wins, in several languages), from arrows
//! (`a -> b`, tcpdump's `a.port > b.port`) or from a table column heading.

use regex::Regex;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use super::cues::{DESTINATION_CUES, SOURCE_CUES, VERSION_WORDS};
use super::table::apply_table;
pub use super::table::{TableHeader, table_header};

/// What the text says an address is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// The origin of the activity: the subject of the report.
    Source,
    /// The target: the reporter's own machine.
    Destination,
    /// Nothing said; a candidate subject with lower confidence.
    Unstated,
}

/// One IP address in a line.
#[derive(Debug, Clone, PartialEq)]
pub struct IpMention {
    /// The address.
    pub ip: IpAddr,
    /// Byte span in the (refanged) line.
    pub start: usize,
    /// End of the span, including an attached `:port`.
    pub end: usize,
    /// What the text says it is.
    pub role: Role,
    /// The words that gave the role (`from`, `SRC=`, `column "Source IP"`), for `extra`.
    pub cue: String,
    /// A port written onto the address (`ip:port`, `[v6]:port`, `ip#port`, tcpdump `ip.port`).
    pub attached_port: Option<u16>,
}

/// One port in a line with its stated direction.
#[derive(Debug, Clone, PartialEq)]
pub struct PortMention {
    /// The port number.
    pub port: u16,
    /// Byte span in the line.
    pub start: usize,
    /// End of the span.
    pub end: usize,
    /// Source, destination, or unstated (`port 40112`).
    pub role: Role,
    /// The words that named it (`SPT=`, `Quellport`, `port`).
    pub cue: String,
}

/// A URL, refanged, with its host.
#[derive(Debug, Clone, PartialEq)]
pub struct UrlMention {
    /// The URL as it would be typed (`hxxp` and `[.]` undone).
    pub url: String,
    /// The host part, lower case, without brackets.
    pub host: String,
    /// The host as an address, when it is one.
    pub ip: Option<IpAddr>,
    /// Byte span in the line.
    pub start: usize,
}

/// Everything found in one line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineItems {
    /// Addresses, left to right.
    pub ips: Vec<IpMention>,
    /// Ports, left to right.
    pub ports: Vec<PortMention>,
    /// URLs.
    pub urls: Vec<UrlMention>,
    /// E-mail addresses, lower case.
    pub emails: Vec<String>,
    /// Domain names that are likely subjects (defanged, or after a cue, or a common TLD).
    pub domains: Vec<String>,
    /// Whether the line was defanged (`hxxp`, `[.]`): a strong sign it names a bad site.
    pub defanged: bool,
    /// Whether the line had more than [`MAX_ITEMS_PER_LINE`] items of a kind (the rest ignored).
    pub capped: bool,
}

static URL: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)\b(?:https?|ftp|sftp)://[^\s<>"'{}|\\^`]+"#));
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\b[a-z0-9._%+-]{1,64}@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,8}[a-z]{2,24}\b")
});
static IPV4: LazyLock<Regex> = LazyLock::new(|| re(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}"));
static IPV6_RUN: LazyLock<Regex> = LazyLock::new(|| re(r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*"));
static SRC_PORT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(spt|sport|src[_ -]?port|source[_ -]?port|port[_ -]source|port\s+d'origine|quell-?port|ursprungsport|puerto(?:\s+de)?\s+origen|porta(?:\s+de)?\s+origem|bronpoort|порт\s+источника|исходный\s+порт)\s*[:=#]?\s*(\d{1,5})\b",
    )
});
static DST_PORT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(dpt|dport|dst[_ -]?port|dest(?:ination)?[_ -]?port|port[_ -]destination|port\s+de\s+destination|ziel-?port|puerto(?:\s+de)?\s+destino|porta(?:\s+de)?\s+destino|doelpoort|порт\s+назначения)\s*[:=#]?\s*(\d{1,5})\b",
    )
});
static ANY_PORT: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(port|puerto|porta|poort|порт)\s*[:=#]?\s*(\d{1,5})\b"));
static HOSTNAME: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,8}[a-z]{2,24}\b"));

fn re(pattern: &str) -> Regex {
    // Constant patterns of this file, exercised by its unit tests.
    #[allow(clippy::expect_used)]
    Regex::new(pattern).expect("built-in pattern compiles")
}

/// Replaces common defanging (`hxxp`, `[.]`, `(.)`, `[dot]`, `[:]`, `[@]`) so the text can be
/// scanned like plain text. Returns the refanged line and whether anything was undone.
pub fn refang(line: &str) -> (String, bool) {
    #[rustfmt::skip]
    const PAIRS: &[(&str, &str)] = &[
        ("[.]", "."), ("(.)", "."), ("{.}", "."), ("[dot]", "."), ("(dot)", "."), ("[:]", ":"),
        ("[://]", "://"), ("[@]", "@"), ("[at]", "@"), ("hxxps", "https"), ("hxxp", "http"),
        ("HXXPS", "HTTPS"), ("HXXP", "HTTP"), ("fxp://", "ftp://"), ("meow://", "http://"),
    ];
    if !PAIRS.iter().any(|(from, _)| line.contains(from)) {
        return (line.to_owned(), false);
    }
    let mut out = line.to_owned();
    for (from, to) in PAIRS {
        if out.contains(from) {
            out = out.replace(from, to);
        }
    }
    (out, true)
}

/// Scans one line. `table` gives meaning to bare cells when the line is a row under a heading.
pub fn scan_line(raw: &str, table: Option<&TableHeader>) -> LineItems {
    let (line, defanged) = refang(raw);
    let mut items = LineItems {
        defanged,
        ..LineItems::default()
    };
    if is_whois_range(&line) {
        // fail2ban and DenyHosts append whois output: `inetnum: 198.51.100.0 - 198.51.100.255`
        // names the network's bounds, never an attacker.
        return items;
    }
    // Work on a copy where every claimed span is blanked, so a later scanner does not see an
    // address inside a URL path or an e-mail domain again.
    let mut masked = line.clone();

    let mut spans = Vec::new();
    for m in URL.find_iter(&line) {
        if items.urls.len() >= MAX_ITEMS_PER_LINE {
            items.capped = true;
            break;
        }
        let url = m
            .as_str()
            .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '>']);
        if let Some(mention) = url_mention(url, m.start()) {
            items.urls.push(mention);
        }
        spans.push((m.start(), m.start() + url.len()));
    }
    blank_all(&mut masked, &spans);
    spans.clear();
    for m in EMAIL.find_iter(&masked) {
        if items.emails.len() >= MAX_ITEMS_PER_LINE {
            items.capped = true;
            break;
        }
        items.emails.push(m.as_str().to_lowercase());
        spans.push((m.start(), m.end()));
    }
    blank_all(&mut masked, &spans);
    scan_ipv6(&line, &mut masked, &mut items);
    scan_ipv4(&line, &mut masked, &mut items);
    items.ips.sort_by_key(|m| m.start);
    for ip_index in 0..items.ips.len() {
        if items.ips[ip_index].role == Role::Unstated {
            assign_role(&line, &mut items.ips, ip_index);
        }
    }
    scan_ports(&masked, &mut items);
    if let Some(table) = table {
        apply_table(&line, table, &mut items);
    }
    scan_domains(&masked, &mut items);
    items
}

/// Whois and RPSL attributes whose values are network bounds (RFC 2622 section 5, ARIN's
/// `NetRange`).
fn is_whois_range(line: &str) -> bool {
    const KEYS: &[&str] = &[
        "inetnum",
        "inet6num",
        "netrange",
        "cidr",
        "route",
        "route6",
        "nethandle",
        "network",
    ];
    let Some((key, _)) = line.split_once(':') else {
        return false;
    };
    let key = key.trim().to_ascii_lowercase();
    KEYS.contains(&key.as_str())
}

/// Most items of each kind (addresses, ports, URLs, e-mail addresses) taken from one line. A
/// line listing more is a dump, not a log line; the cap keeps the pairing work per line bounded
/// and is reported through [`LineItems::capped`].
pub const MAX_ITEMS_PER_LINE: usize = 256;

/// Blanks the given spans with spaces in one pass (the spans are whole characters, so the text
/// stays UTF-8 and every offset stays valid).
fn blank_all(s: &mut String, spans: &[(usize, usize)]) {
    if spans.is_empty() {
        return;
    }
    let mut bytes = std::mem::take(s).into_bytes();
    for &(start, end) in spans {
        if let Some(range) = bytes.get_mut(start..end) {
            range.fill(b' ');
        }
    }
    *s = String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
}

fn url_mention(url: &str, start: usize) -> Option<UrlMention> {
    let after_scheme = url.split_once("://")?.1;
    let authority = after_scheme.split(['/', '?', '#']).next()?;
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(rest) = hostport.strip_prefix('[') {
        rest.split(']').next()?
    } else {
        hostport.split(':').next()?
    };
    if host.is_empty() {
        return None;
    }
    let host = host.to_lowercase();
    let ip = host.parse::<IpAddr>().ok();
    Some(UrlMention {
        url: url.to_owned(),
        host,
        ip,
        start,
    })
}

fn char_before(s: &str, i: usize) -> Option<char> {
    s.get(..i)?.chars().next_back()
}

fn char_at(s: &str, i: usize) -> Option<char> {
    s.get(i..)?.chars().next()
}

/// `:40112`, `#40112` right after an address (BIND logs `client 198.51.100.2#40112`).
fn attached_port(s: &str, at: usize) -> Option<(u16, usize)> {
    let rest = s.get(at..)?;
    let digits_from = rest.strip_prefix(':').or_else(|| rest.strip_prefix('#'))?;
    let n = digits_from.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 || n > 5 {
        return None;
    }
    // `1.2.3.4:12:30` is more likely a time than a port.
    if digits_from.as_bytes().get(n) == Some(&b':') {
        return None;
    }
    let port: u16 = digits_from.get(..n)?.parse().ok()?;
    Some((port, 1 + n))
}

fn scan_ipv6(line: &str, masked: &mut String, items: &mut LineItems) {
    let snapshot = masked.clone();
    let mut spans = Vec::new();
    for m in IPV6_RUN.find_iter(&snapshot) {
        if items.ips.len() >= MAX_ITEMS_PER_LINE {
            items.capped = true;
            break;
        }
        let mut start = m.start();
        let text = m.as_str().trim_end_matches('.');
        let mut end = start + text.len();
        if text.matches(':').count() < 2 {
            continue;
        }
        if char_before(&snapshot, start).is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let mut bracketed = false;
        let mut candidate = text;
        if char_before(&snapshot, start) == Some('[') && char_at(&snapshot, end) == Some(']') {
            bracketed = true;
        }
        // A trailing `:` belongs to prose (`address 2001:db8::1:`), unless it is `::`.
        if candidate.ends_with(':') && !candidate.ends_with("::") {
            candidate = &candidate[..candidate.len() - 1];
            end -= 1;
        }
        if char_at(&snapshot, end).is_some_and(|c| c.is_alphanumeric() && c != '%') {
            continue;
        }
        let mut port = None;
        let ip = match candidate.parse::<Ipv6Addr>() {
            Ok(ip) => ip,
            Err(_) => {
                // tcpdump prints `2001:db8::1.40112`.
                let Some((addr, p)) = candidate.rsplit_once('.') else {
                    continue;
                };
                let (Ok(ip), Ok(p)) = (addr.parse::<Ipv6Addr>(), p.parse::<u16>()) else {
                    continue;
                };
                if addr.contains('.') {
                    continue;
                }
                port = Some(p);
                ip
            }
        };
        if bracketed {
            start -= 1;
            end += 1;
            if let Some((p, used)) = attached_port(&snapshot, end) {
                port = Some(p);
                end += used;
            }
        }
        let ip = match ip.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(ip),
        };
        items.ips.push(IpMention {
            ip,
            start,
            end,
            role: Role::Unstated,
            cue: String::new(),
            attached_port: port,
        });
        spans.push((start, end));
    }
    blank_all(masked, &spans);
    let _ = line;
}

fn scan_ipv4(line: &str, masked: &mut String, items: &mut LineItems) {
    let snapshot = masked.clone();
    let mut spans = Vec::new();
    for m in IPV4.find_iter(&snapshot) {
        if items.ips.len() >= MAX_ITEMS_PER_LINE {
            items.capped = true;
            break;
        }
        let (start, mut end) = (m.start(), m.end());
        let before = char_before(&snapshot, start);
        // `Snort/2.9.20.1`, `x-1.2.3.4`: product versions and identifiers, not addresses.
        if before.is_some_and(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '/')) {
            continue;
        }
        let Ok(v4) = m.as_str().parse::<Ipv4Addr>() else {
            continue;
        };
        let mut port = None;
        match char_at(&snapshot, end) {
            Some(c) if c.is_alphanumeric() || c == '_' => continue,
            Some('.') => {
                // Five dotted numbers: tcpdump's `ip.port` when an arrow follows, else a version
                // or OID (`1.3.6.1.4.1`) and not an address.
                let rest = snapshot.get(end + 1..).unwrap_or("");
                let n = rest.bytes().take_while(u8::is_ascii_digit).count();
                if n > 0 {
                    let after = rest.get(n..).unwrap_or("");
                    let tcpdump = after.starts_with(" >") || after.starts_with(':');
                    let more_dots = after.starts_with('.')
                        && after.as_bytes().get(1).is_some_and(u8::is_ascii_digit);
                    if !tcpdump || more_dots || !line.contains(" > ") {
                        continue;
                    }
                    let Ok(p) = rest.get(..n).unwrap_or("").parse::<u16>() else {
                        continue;
                    };
                    port = Some(p);
                    end += 1 + n;
                }
            }
            // CIDR prefix: a range, not a host; reports about whole ranges are rare and cannot
            // be attributed to one customer as an address.
            Some('/')
                if snapshot
                    .get(end + 1..)
                    .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit())) =>
            {
                continue;
            }
            _ => {}
        }
        if preceded_by_version_word(&snapshot, start) {
            continue;
        }
        if port.is_none()
            && let Some((p, used)) = attached_port(&snapshot, end)
        {
            port = Some(p);
            end += used;
        }
        items.ips.push(IpMention {
            ip: IpAddr::V4(v4),
            start,
            end,
            role: Role::Unstated,
            cue: String::new(),
            attached_port: port,
        });
        spans.push((start, end));
    }
    blank_all(masked, &spans);
}

fn preceded_by_version_word(s: &str, start: usize) -> bool {
    let before = s.get(..start).unwrap_or("").trim_end();
    let word: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let word = word.to_lowercase();
    VERSION_WORDS.contains(&word.as_str()) || word.starts_with("openssh")
}

/// Gives an address its role from the words right before it (back to the previous address),
/// or from an arrow right after it, or from its place at the start of a log line.
fn assign_role(line: &str, ips: &mut [IpMention], index: usize) {
    let Some(me) = ips.get(index) else { return };
    let from = if index == 0 {
        0
    } else {
        ips.get(index - 1).map_or(0, |p| p.end)
    };
    let window_start = from.max(me.start.saturating_sub(48));
    let mut window_start = window_start;
    while !line.is_char_boundary(window_start) && window_start < me.start {
        window_start += 1;
    }
    let before = line
        .get(window_start..me.start)
        .unwrap_or("")
        .to_lowercase();
    let trimmed = before.trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, ':' | '=' | '(' | '[' | '"' | '\'' | '#' | '*')
    });
    let after = line.get(me.end..).unwrap_or("").trim_start();
    let (role, cue) = if let Some((role, cue)) = longest_cue(trimmed) {
        (role, cue.to_owned())
    } else if after.starts_with("->") || after.starts_with("> ") || after.starts_with("=>") {
        (Role::Source, "arrow after the address".to_owned())
    } else if line.get(..me.start).is_some_and(|b| b.trim().is_empty()) {
        (Role::Source, "address opens a log line".to_owned())
    } else {
        (Role::Unstated, String::new())
    };
    if let Some(me) = ips.get_mut(index) {
        me.role = role;
        me.cue = cue;
    }
}

fn longest_cue(before: &str) -> Option<(Role, &'static str)> {
    let mut best: Option<(Role, &'static str)> = None;
    let lists = [
        (Role::Source, SOURCE_CUES),
        (Role::Destination, DESTINATION_CUES),
    ];
    for (role, list) in lists {
        for cue in list.iter().copied() {
            if !before.ends_with(cue) {
                continue;
            }
            let head = &before[..before.len() - cue.len()];
            // The cue must be a whole word (the arrows are their own boundary).
            let boundary = cue.starts_with(['-', '>'])
                || head
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_alphanumeric());
            if boundary && best.is_none_or(|(_, b)| cue.chars().count() > b.chars().count()) {
                best = Some((role, cue));
            }
        }
    }
    best
}

fn scan_ports(masked: &str, items: &mut LineItems) {
    let mut taken: Vec<(usize, usize)> = Vec::new();
    for (regex, role) in [(&*SRC_PORT, Role::Source), (&*DST_PORT, Role::Destination)] {
        for caps in regex.captures_iter(masked) {
            if items.ports.len() >= MAX_ITEMS_PER_LINE {
                items.capped = true;
                break;
            }
            let (Some(all), Some(cue), Some(num)) = (caps.get(0), caps.get(1), caps.get(2)) else {
                continue;
            };
            let Ok(port) = num.as_str().parse::<u16>() else {
                continue;
            };
            taken.push((all.start(), all.end()));
            items.ports.push(PortMention {
                port,
                start: all.start(),
                end: all.end(),
                role,
                cue: cue.as_str().to_owned(),
            });
        }
    }
    for caps in ANY_PORT.captures_iter(masked) {
        if items.ports.len() >= MAX_ITEMS_PER_LINE {
            items.capped = true;
            break;
        }
        let (Some(all), Some(cue), Some(num)) = (caps.get(0), caps.get(1), caps.get(2)) else {
            continue;
        };
        if taken.iter().any(|&(s, e)| all.start() < e && s < all.end()) {
            continue;
        }
        let Ok(port) = num.as_str().parse::<u16>() else {
            continue;
        };
        // `port N` right after an address belongs to it (sshd: `from IP port N`, `on IP port M`).
        let owner = items
            .ips
            .iter()
            .rev()
            .find(|ip| ip.end <= all.start() && all.start() - ip.end <= 3);
        let role = owner.map_or(Role::Unstated, |ip| match ip.role {
            Role::Destination => Role::Destination,
            _ => Role::Source,
        });
        items.ports.push(PortMention {
            port,
            start: all.start(),
            end: all.end(),
            role,
            cue: if owner.is_some() {
                format!("{} after the address", cue.as_str())
            } else {
                cue.as_str().to_owned()
            },
        });
    }
    items.ports.sort_by_key(|p| p.start);
}

/// Top-level domains common enough in abuse mail that a bare `name.tld` is taken as a domain.
/// Anything else needs defanging or a cue word, because `fail2ban.actions` and `file.txt` look
/// like domains too.
#[rustfmt::skip]
const COMMON_TLDS: &[&str] = &[
    "com", "net", "org", "info", "biz", "io", "co", "de", "fr", "es", "nl", "ru", "pt", "br", "uk",
    "eu", "us", "it", "pl", "cn", "xyz", "top", "online", "site", "shop", "club", "store", "app",
    "su", "ua", "in", "me", "cc", "tk", "ml", "ga", "cf", "gq", "live", "icu", "buzz", "today",
];

const DOMAIN_CUES: &[&str] = &[
    "domain", "domaine", "dominio", "domein", "site", "website", "host",
];

fn scan_domains(masked: &str, items: &mut LineItems) {
    for m in HOSTNAME.find_iter(masked) {
        let name = m.as_str().to_lowercase();
        // `user.name@` leftovers and file names (`report.pdf`) are not domains.
        if char_at(masked, m.end()).is_some_and(|c| c == '@' || c == '(' || c == '_')
            || char_before(masked, m.start()).is_some_and(|c| c == '@' || c == '.' || c == '-')
        {
            continue;
        }
        let tld = name.rsplit('.').next().unwrap_or("");
        let before = masked.get(..m.start()).unwrap_or("").to_lowercase();
        let cued = DOMAIN_CUES
            .iter()
            .any(|c| before.trim_end_matches([' ', ':']).ends_with(c));
        if items.defanged || cued || COMMON_TLDS.contains(&tld) {
            items.domains.push(name);
        }
    }
    for url in &items.urls {
        if url.ip.is_none() {
            items.domains.push(url.host.clone());
        }
    }
    items.domains.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn sshd_source_and_destination() {
        let items = scan_line(
            "sshd[1]: Connection from 198.51.100.2 port 40112 on 203.0.113.5 port 22",
            None,
        );
        assert_eq!(items.ips.len(), 2);
        assert_eq!(
            (items.ips[0].ip, items.ips[0].role),
            (ip("198.51.100.2"), Role::Source)
        );
        assert_eq!(
            (items.ips[1].ip, items.ips[1].role),
            (ip("203.0.113.5"), Role::Destination)
        );
        assert_eq!(items.ports[0].port, 40112);
        assert_eq!(items.ports[0].role, Role::Source);
        assert_eq!(items.ports[1].role, Role::Destination);
    }

    #[test]
    fn iptables_fields() {
        let items = scan_line(
            "kernel: IN=eth0 SRC=198.51.100.2 DST=203.0.113.5 PROTO=TCP SPT=40112 DPT=22",
            None,
        );
        assert_eq!(items.ips[0].role, Role::Source);
        assert_eq!(items.ips[1].role, Role::Destination);
        let spt = items.ports.iter().find(|p| p.role == Role::Source).unwrap();
        assert_eq!(spt.port, 40112);
    }

    #[test]
    fn attached_ports_and_brackets() {
        let items = scan_line("198.51.100.2:40112 -> [2001:db8::1]:443", None);
        assert_eq!(items.ips[0].attached_port, Some(40112));
        assert_eq!(items.ips[0].role, Role::Source);
        assert_eq!(items.ips[1].ip, ip("2001:db8::1"));
        assert_eq!(items.ips[1].attached_port, Some(443));
        assert_eq!(items.ips[1].role, Role::Destination);
        let items = scan_line(
            "client 198.51.100.7#53124 (example.com): query denied",
            None,
        );
        assert_eq!(items.ips[0].attached_port, Some(53124));
    }

    #[test]
    fn tcpdump_ip_dot_port() {
        let items = scan_line(
            "03:14:15.1 IP 198.51.100.2.40112 > 203.0.113.5.22: Flags [S]",
            None,
        );
        assert_eq!(items.ips.len(), 2);
        assert_eq!(items.ips[0].attached_port, Some(40112));
        assert_eq!(items.ips[1].role, Role::Destination);
    }

    #[test]
    fn not_addresses() {
        let items = scan_line(
            "OpenSSH 8.9.1.2, version 1.2.3.4, OID 1.3.6.1.4.1.2021, at 03:14:15, mac 00:1a:2b:3c:4d:5e, 999.1.1.1",
            None,
        );
        assert!(items.ips.is_empty(), "{:?}", items.ips);
        let items = scan_line("see http://example.com/files/198.51.100.9/x.zip", None);
        assert!(items.ips.is_empty());
        assert_eq!(items.urls.len(), 1);
    }

    #[test]
    fn defanged_urls_and_domains() {
        let items = scan_line(
            "Phishing: hxxps://login-bank[.]example[.]com/verify?id=1.",
            None,
        );
        assert!(items.defanged);
        assert_eq!(
            items.urls[0].url,
            "https://login-bank.example.com/verify?id=1"
        );
        assert_eq!(items.urls[0].host, "login-bank.example.com");
        assert!(items.domains.contains(&"login-bank.example.com".to_owned()));
        let items = scan_line("hosted at hxxp://203.0.113.9/paypal/", None);
        assert_eq!(items.urls[0].ip, Some(ip("203.0.113.9")));
        assert!(items.ips.is_empty());
    }

    #[test]
    fn language_cues() {
        let items = scan_line(
            "Angriff von 198.51.100.2 auf unseren Server 203.0.113.5",
            None,
        );
        assert_eq!(items.ips[0].role, Role::Source);
        assert_eq!(items.ips[1].role, Role::Destination);
        let items = scan_line(
            "intentos de acceso desde 198.51.100.2 hacia 203.0.113.5",
            None,
        );
        assert_eq!(items.ips[0].role, Role::Source);
        assert_eq!(items.ips[1].role, Role::Destination);
        let items = scan_line("Quell-IP: 198.51.100.2, Quellport 40112, Zielport 22", None);
        assert_eq!(items.ips[0].role, Role::Source);
        assert_eq!(items.ports[0].role, Role::Source);
        assert_eq!(items.ports[0].port, 40112);
        assert_eq!(items.ports[1].role, Role::Destination);
        let items = scan_line("destination ip: 203.0.113.5", None);
        assert_eq!(items.ips[0].role, Role::Destination);
    }

    #[test]
    fn table_rows_take_column_roles() {
        let header =
            table_header("| Source IP | Source Port | Destination | Time (UTC) |").unwrap();
        let row = "| 198.51.100.2 | 40112 | 203.0.113.5 | 2026-11-20 03:14:15 |";
        assert!(header.matches(row));
        let items = scan_line(row, Some(&header));
        assert_eq!(items.ips[0].role, Role::Source);
        assert_eq!(items.ips[1].role, Role::Destination);
        assert_eq!(items.ports.len(), 1);
        assert_eq!(
            (items.ports[0].port, items.ports[0].role),
            (40112, Role::Source)
        );
        assert!(table_header("Hello, this is a letter").is_none());
    }

    #[test]
    fn whois_ranges_are_not_subjects() {
        assert!(
            scan_line("inetnum:        198.51.100.0 - 198.51.100.255", None)
                .ips
                .is_empty()
        );
        assert!(
            scan_line("NetRange:       198.51.100.0 - 198.51.100.255", None)
                .ips
                .is_empty()
        );
        assert!(scan_line("Snort/2.9.20.1 alert", None).ips.is_empty());
    }

    #[test]
    fn emails_are_not_domains_or_ips() {
        let items = scan_line("contact abuse@example.net or spam@[192.0.2.1]", None);
        assert_eq!(items.emails, vec!["abuse@example.net"]);
        assert!(!items.domains.contains(&"example.net".to_owned()));
    }
}
