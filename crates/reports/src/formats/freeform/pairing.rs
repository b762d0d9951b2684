//! Pairs an address with the port and time that belong to it.
//!
//! Why this is strict: behind carrier-grade NAT, an address is only attributable with the source
//! port and the time *of the same connection* (RFC 6302; M3AAWG Large Scale NAT logging BCP). A
//! port from another log line belongs to another connection, possibly another subscriber. So a
//! port comes from the address's own line (or, in a key-value block, its own paragraph when
//! nothing else is named there); a time from its own line, else its paragraph, else the report's
//! only time, and the event says which.

use super::extract::{IpMention, LineItems, Role};
use super::report::Line;
use super::times::FoundTime;

/// The source port of `mention`, from its own line only (a port from another line belongs to
/// another connection, which behind CGN would name another subscriber).
pub(super) fn port_for(mention: &IpMention, items: &LineItems) -> Option<(u16, String)> {
    if let Some(p) = mention.attached_port {
        return Some((p, "written onto the address".into()));
    }
    let non_victims: Vec<&IpMention> = items
        .ips
        .iter()
        .filter(|m| m.role != Role::Destination)
        .collect();
    let nearest_owner = |pos: usize| {
        non_victims
            .iter()
            .min_by_key(|m| distance(m.start, m.end, pos, pos))
            .map(|m| (m.start, m.ip))
    };
    for port in items.ports.iter().filter(|p| p.role == Role::Source) {
        if nearest_owner(port.start) == Some((mention.start, mention.ip)) {
            return Some((port.port, format!("\"{}\" on the same line", port.cue)));
        }
    }
    // A bare `port N` with no direction, on a line with this one candidate address: an
    // ephemeral number (RFC 6335 section 6: 49152-65535, and the 1024+ ranges OSes use) is
    // the client's side; a well-known one is the service attacked.
    if non_victims.len() == 1 {
        for port in items.ports.iter().filter(|p| p.role == Role::Unstated) {
            if port.port >= 1024 {
                return Some((
                    port.port,
                    format!(
                        "\"{}\" without direction, taken as source (ephemeral range)",
                        port.cue
                    ),
                ));
            }
        }
    }
    None
}

/// How far (in lines) a paragraph is searched around an address for its time or port. Key-value
/// blocks are a handful of lines; the bound keeps a huge paragraph (a log with no blank line)
/// from making the search quadratic.
pub const PARAGRAPH_WINDOW: usize = 40;

/// The lines of `index`'s paragraph within [`PARAGRAPH_WINDOW`] of it, with their indexes.
pub(super) fn neighbours<'l, 'a>(
    lines: &'l [Line<'a>],
    index: usize,
) -> impl Iterator<Item = (usize, &'l Line<'a>)> + 'l {
    let paragraph = lines.get(index).map(|l| l.paragraph);
    let from = index.saturating_sub(PARAGRAPH_WINDOW);
    let to = index.saturating_add(PARAGRAPH_WINDOW + 1).min(lines.len());
    lines
        .get(from..to)
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .map(move |(i, l)| (from + i, l))
        .filter(move |(_, l)| Some(l.paragraph) == paragraph)
}

/// A key-value block (`Source IP: ...` then `Source port: ...` on the next line): a source
/// port on an address-less line of the same paragraph belongs to the address when the
/// paragraph names no other candidate address.
pub(super) fn paragraph_port(
    mention: &IpMention,
    index: usize,
    lines: &[Line<'_>],
) -> Option<(u16, String)> {
    let alone = neighbours(lines, index)
        .flat_map(|(_, l)| &l.items.ips)
        .all(|m| m.ip == mention.ip || m.role == Role::Destination);
    if !alone {
        return None;
    }
    neighbours(lines, index)
        .filter(|(_, l)| l.items.ips.is_empty())
        .find_map(|(_, l)| {
            l.items
                .ports
                .iter()
                .find(|p| p.role == Role::Source)
                .map(|p| {
                    (
                        p.port,
                        format!("\"{}\" on another line of the same paragraph", p.cue),
                    )
                })
        })
}

fn distance(a_start: usize, a_end: usize, b_start: usize, b_end: usize) -> usize {
    if a_end <= b_start {
        b_start - a_end
    } else {
        a_start.saturating_sub(b_end)
    }
}

/// The time of a sighting: nearest on its own line; else the nearest line of its paragraph
/// with a time (a key-value block: `Time: ...` above `Source IP: ...`); else the report's only
/// time.
pub(super) fn time_for(
    mention: &IpMention,
    index: usize,
    lines: &[Line<'_>],
    only: Option<&FoundTime>,
) -> Option<(FoundTime, &'static str, usize)> {
    let line = lines.get(index)?;
    if let Some(t) = line
        .times
        .iter()
        .min_by_key(|t| distance(t.start, t.end, mention.start, mention.end))
    {
        return Some((t.clone(), "same line", index));
    }
    let mut best: Option<(usize, usize)> = None;
    for (i, other) in neighbours(lines, index) {
        if other.times.is_empty() {
            continue;
        }
        // A time line that names other addresses is their time, not this one's.
        if other
            .items
            .ips
            .iter()
            .any(|m| m.ip != mention.ip && m.role != Role::Destination)
        {
            continue;
        }
        let d = i.abs_diff(index);
        if best.is_none_or(|(_, bd)| d < bd) {
            best = Some((i, d));
        }
    }
    if let Some((i, _)) = best
        && let Some(t) = lines.get(i).and_then(|l| l.times.first())
    {
        return Some((t.clone(), "same paragraph", i));
    }
    only.map(|t| (t.clone(), "only time in the report", usize::MAX))
}

/// The one distinct time in the whole text, when there is exactly one.
pub(super) fn single_time(lines: &[Line<'_>]) -> Option<FoundTime> {
    let mut distinct: Vec<&FoundTime> = Vec::new();
    for t in lines.iter().flat_map(|l| &l.times) {
        if !distinct.iter().any(|d| d.time == t.time) {
            distinct.push(t);
            if distinct.len() > 1 {
                return None;
            }
        }
    }
    distinct.first().map(|t| (*t).clone())
}
