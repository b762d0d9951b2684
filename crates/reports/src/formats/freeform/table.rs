//! Tables in reports: a heading row names the columns, so a row's bare cells (`40112`, an
//! address with no cue word) get the meaning of their column. Text tables (`|`, tab, `;`, `,`,
//! or runs of spaces) and HTML tables (converted to ` | ` rows by [`super::html`]) alike.

use super::extract::{LineItems, PortMention, Role};
use super::times::read_zone;

/// A table heading: which column holds what, so that a row's bare cells get a meaning.
#[derive(Debug, Clone, PartialEq)]
pub struct TableHeader {
    delimiter: Delimiter,
    columns: Vec<Column>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Delimiter {
    Pipe,
    Tab,
    Semicolon,
    Comma,
    Spaces,
}

#[derive(Debug, Clone, PartialEq)]
struct Column {
    label: String,
    ip_role: Option<Role>,
    port_role: Option<Role>,
    /// A zone stated in the heading (`Time (UTC)`, `Zeit MEZ`): the row's times have none.
    zone: Option<i32>,
}

/// Recognises a table heading: at least two cells split by one delimiter, short labels, and a
/// label that names an address or a port.
pub fn table_header(line: &str) -> Option<TableHeader> {
    if line.chars().filter(char::is_ascii_digit).count() > 2 {
        return None;
    }
    for delimiter in [
        Delimiter::Pipe,
        Delimiter::Tab,
        Delimiter::Semicolon,
        Delimiter::Comma,
        Delimiter::Spaces,
    ] {
        let cells = split_cells(line, delimiter);
        if cells.len() < 2 || cells.iter().any(|(_, _, c)| c.chars().count() > 40) {
            continue;
        }
        let columns: Vec<Column> = cells.iter().map(|(_, _, label)| column(label)).collect();
        if columns.iter().any(|c| c.ip_role.is_some()) {
            return Some(TableHeader { delimiter, columns });
        }
    }
    None
}

impl TableHeader {
    /// Whether `line` is a row of this table (same number of cells).
    pub fn matches(&self, line: &str) -> bool {
        split_cells(line, self.delimiter).len() == self.columns.len()
    }

    /// The zone the heading states for the cell of `row` that holds byte `pos`, with the
    /// heading's label: a table often says `Time (UTC)` once instead of in every cell.
    pub fn zone_at(&self, row: &str, pos: usize) -> Option<(i32, &str)> {
        let cells = split_cells(row, self.delimiter);
        let index = cells
            .iter()
            .position(|&(start, end, _)| start <= pos && pos < end)?;
        let column = self.columns.get(index)?;
        column.zone.map(|z| (z, column.label.as_str()))
    }
}

fn column(label: &str) -> Column {
    let l = label.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| l.contains(w));
    let dst = has(&[
        "dst",
        "dest",
        "target",
        "victim",
        "ziel",
        "cible",
        "destino",
        "doel",
        "назнач",
    ]);
    let src = has(&[
        "src",
        "source",
        "attacker",
        "quell",
        "origen",
        "origem",
        "bron",
        "источник",
        "angreifer",
    ]);
    let is_port = has(&["port", "порт", "puerto", "poort"]);
    // `ip` as a word (`Source IP`, `IP-Adresse`, `src_ip`), not inside `Description`.
    let ip_word = l
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| w == "ip" || w == "ips" || w.ends_with("ip") && w.len() <= 5);
    let is_ip = ip_word
        || has(&[
            "address",
            "adresse",
            "host",
            "dirección",
            "endereço",
            "адрес",
        ])
        || (!is_port && (src || dst));
    let role = if dst {
        Role::Destination
    } else if src {
        Role::Source
    } else {
        Role::Unstated
    };
    let zone = label
        .split_whitespace()
        .find_map(|token| read_zone(token).filter(|&(_, used)| used == token.len()))
        .map(|(offset, _)| offset);
    Column {
        zone,
        label: label.trim().to_owned(),
        ip_role: is_ip.then_some(if role == Role::Unstated {
            Role::Source
        } else {
            role
        }),
        port_role: is_port.then_some(role),
    }
}

fn split_cells(line: &str, delimiter: Delimiter) -> Vec<(usize, usize, &str)> {
    let mut cells = Vec::new();
    let trimmed_start = line.len() - line.trim_start().len();
    let body = line.trim();
    let body = body.strip_prefix('|').unwrap_or(body);
    let body = body.strip_suffix('|').unwrap_or(body);
    let offset = trimmed_start + usize::from(line.trim_start().starts_with('|'));
    let mut push = |s: usize, e: usize| {
        if let Some(text) = body.get(s..e) {
            cells.push((offset + s, offset + e, text.trim()));
        }
    };
    let sep: &[char] = match delimiter {
        Delimiter::Pipe => &['|'],
        Delimiter::Tab => &['\t'],
        Delimiter::Semicolon => &[';'],
        Delimiter::Comma => &[','],
        Delimiter::Spaces => &[],
    };
    if delimiter == Delimiter::Spaces {
        let mut cell_start = 0;
        let bytes = body.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b' ' && bytes.get(i + 1) == Some(&b' ') {
                push(cell_start, i);
                while bytes.get(i) == Some(&b' ') {
                    i += 1;
                }
                cell_start = i;
            } else {
                i += 1;
            }
        }
        push(cell_start, body.len());
    } else {
        let mut cell_start = 0;
        for (i, c) in body.char_indices() {
            if sep.contains(&c) {
                push(cell_start, i);
                cell_start = i + c.len_utf8();
            }
        }
        push(cell_start, body.len());
    }
    cells.retain(|(_, _, t)| !t.is_empty() || delimiter != Delimiter::Spaces);
    cells
}

/// Gives a row's addresses and bare port numbers the meaning of their column heading.
pub(super) fn apply_table(line: &str, table: &TableHeader, items: &mut LineItems) {
    let cells = split_cells(line, table.delimiter);
    if cells.len() != table.columns.len() {
        return;
    }
    for ((start, end, text), column) in cells.iter().zip(&table.columns) {
        if let Some(role) = column.ip_role {
            for ip in items
                .ips
                .iter_mut()
                .filter(|ip| ip.start >= *start && ip.end <= *end)
            {
                if ip.role == Role::Unstated || ip.cue == "address opens a log line" {
                    ip.role = role;
                    ip.cue = format!("column \"{}\"", column.label);
                }
            }
        }
        if let Some(role) = column.port_role
            && let Ok(port) = text.parse::<u16>()
            && !items
                .ports
                .iter()
                .any(|p| p.start >= *start && p.end <= *end)
        {
            items.ports.push(PortMention {
                port,
                start: *start,
                end: *end,
                role,
                cue: format!("column \"{}\"", column.label),
            });
        }
    }
    items.ports.sort_by_key(|p| p.start);
}
