//! HTML to plain text for HTML-only reports, keeping table rows on one line.
//!
//! Why not mail-parser's own converter: it joins a table into one line, and this parser pairs an
//! address with the time and port *of the same row*. Here every `<tr>`, `<p>`, `<div>`, `<li>`,
//! `<br>` and heading ends a line, cells are joined with ` | ` (so a heading row becomes a
//! [`super::extract::TableHeader`]), `<script>`/`<style>`/`<head>` are dropped, and the common
//! entities are decoded. The converter is a single pass over the input: linear time, no nesting
//! state beyond one flag, so hostile markup cannot make it slow.

/// Converts `html` to text. Unknown tags are dropped; text is kept.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    let mut skip_until: Option<&'static str> = None;
    let mut cell_in_row = 0usize;
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        if skip_until.is_none() {
            push_text(&mut out, text);
        }
        let after = &rest[lt + 1..];
        if let Some(comment) = after.strip_prefix("!--") {
            rest = comment.find("-->").map_or("", |e| &comment[e + 3..]);
            continue;
        }
        let Some(gt) = after.find('>') else {
            // An unclosed `<` at the end: keep it as text rather than lose what follows.
            if skip_until.is_none() {
                push_text(&mut out, &rest[lt..]);
            }
            rest = "";
            break;
        };
        let tag = &after[..gt];
        rest = &after[gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if let Some(end) = skip_until {
            if closing && name == end {
                skip_until = None;
            }
            continue;
        }
        match name.as_str() {
            "script" | "style" | "head" | "template" if !closing && !tag.ends_with('/') => {
                skip_until = Some(match name.as_str() {
                    "script" => "script",
                    "style" => "style",
                    "head" => "head",
                    _ => "template",
                });
            }
            "tr" => {
                newline(&mut out);
                cell_in_row = 0;
            }
            "td" | "th" if !closing => {
                if cell_in_row > 0 {
                    out.push_str(" | ");
                }
                cell_in_row += 1;
            }
            "br" | "p" | "div" | "li" | "table" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
            | "pre" | "blockquote" | "hr" => newline(&mut out),
            _ => {}
        }
    }
    if skip_until.is_none() {
        push_text(&mut out, rest);
    }
    out
}

fn newline(out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

/// Appends text with whitespace collapsed (HTML rendering rules) and entities decoded.
fn push_text(out: &mut String, text: &str) {
    let decoded = decode_entities(text);
    let mut last_space = out.ends_with([' ', '\n']) || out.is_empty();
    for c in decoded.chars() {
        if c.is_whitespace() && c != '\u{a0}' {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
        } else {
            out.push(if c == '\u{a0}' { ' ' } else { c });
            last_space = false;
        }
    }
}

fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semi = after.find(';').filter(|&i| i <= 10);
        let decoded = semi.and_then(|i| entity(&after[..i]).map(|c| (c, i)));
        match decoded {
            Some((c, i)) => {
                out.push(c);
                rest = &after[i + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "auml" => 'ä',
        "ouml" => 'ö',
        "uuml" => 'ü',
        "Auml" => 'Ä',
        "Ouml" => 'Ö',
        "Uuml" => 'Ü',
        "szlig" => 'ß',
        "eacute" => 'é',
        "egrave" => 'è',
        "agrave" => 'à',
        "ccedil" => 'ç',
        "ntilde" => 'ñ',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_stay_on_one_line() {
        let html = "<html><head><title>x</title><style>td{}</style></head><body>\
            <p>Dear&nbsp;abuse team,</p><table><tr><th>Source IP</th><th>Time</th></tr>\
            <tr><td>198.51.100.2</td><td>2026-11-20 03:14:15 UTC</td></tr></table>\
            <!-- 203.0.113.99 --><script>var ip='192.0.2.1'</script>Bye &amp; thanks</body></html>";
        let text = html_to_text(html);
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        assert!(lines.contains(&"Source IP | Time"), "{text}");
        assert!(
            lines.contains(&"198.51.100.2 | 2026-11-20 03:14:15 UTC"),
            "{text}"
        );
        assert!(text.contains("Dear abuse team,"));
        assert!(text.contains("Bye & thanks"));
        assert!(!text.contains("203.0.113.99"));
        assert!(!text.contains("192.0.2.1"));
        assert!(!text.contains("td{}"));
    }

    #[test]
    fn broken_markup_does_not_lose_text() {
        assert_eq!(html_to_text("a < b"), "a < b");
        assert_eq!(html_to_text("&#x41;&#66;&bogus;"), "AB&bogus;");
    }
}
