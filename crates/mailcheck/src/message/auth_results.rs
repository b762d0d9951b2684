//! Results that receivers already wrote into the message: `Authentication-Results` (RFC 8601)
//! and `Received-SPF` (RFC 7208 section 9.1). The lint cannot redo SPF (it has no connecting IP)
//! nor DMARC's SPF half, so it reports what the receiving server recorded, naming that server.
//! Such headers can be forged by anyone upstream, so findings say "recorded by <authserv-id>".

/// One `method=result` statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodResult {
    /// `spf`, `dkim`, `dmarc`, ...
    pub method: String,
    /// `pass`, `fail`, `softfail`, `none`, ...
    pub result: String,
    /// `ptype.property=value` pairs, e.g. `header.from=example.com`.
    pub properties: Vec<(String, String)>,
    /// The server that wrote it (authserv-id), or `Received-SPF`.
    pub authserv_id: String,
}

/// Removes RFC 5322 comments `( ... )`, nested, outside quoted strings.
fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            if depth == 0 {
                out.push(c);
            }
            escaped = false;
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Parses one Authentication-Results value (RFC 8601 section 2.2). Unknown or malformed
/// statements are skipped, never fatal: the header is advisory.
pub fn parse_authentication_results(value: &str) -> Vec<MethodResult> {
    let clean = strip_comments(value);
    let mut parts = clean.split(';');
    let authserv_id = parts
        .next()
        .and_then(|p| p.split_whitespace().next())
        .unwrap_or("")
        .to_owned();
    let mut out = Vec::new();
    for stmt in parts {
        let mut words = stmt.split_whitespace();
        let Some(first) = words.next() else { continue };
        let Some((method, result)) = first.split_once('=') else {
            continue;
        };
        // `method/version=result` is allowed (section 2.2); keep the method only.
        let method = method.split('/').next().unwrap_or(method);
        let word = |w: &str| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        if !word(method) || !word(result) {
            continue;
        }
        let mut properties = Vec::new();
        for w in words {
            if let Some((k, v)) = w.split_once('=') {
                properties.push((k.to_ascii_lowercase(), v.trim_matches('"').to_owned()));
            }
        }
        out.push(MethodResult {
            method: method.to_ascii_lowercase(),
            result: result.to_ascii_lowercase(),
            properties,
            authserv_id: authserv_id.clone(),
        });
    }
    out
}

/// Parses a Received-SPF value (RFC 7208 section 9.1): the result is the first word.
pub fn parse_received_spf(value: &str) -> Option<MethodResult> {
    let clean = strip_comments(value);
    let result = clean.split_whitespace().next()?.to_ascii_lowercase();
    let known = [
        "pass",
        "fail",
        "softfail",
        "neutral",
        "none",
        "temperror",
        "permerror",
    ];
    if !known.contains(&result.as_str()) {
        return None;
    }
    let properties = clean
        .split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(MethodResult {
        method: "spf".into(),
        result,
        properties,
        authserv_id: "Received-SPF".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc8601_example() {
        let v = "mx.example.org (comment; with semicolon);\r\n spf=pass smtp.mailfrom=example.com;\r\n dkim=pass (2048-bit key) header.d=example.com header.s=sel;\r\n dmarc=fail header.from=example.com";
        let r = parse_authentication_results(v);
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].authserv_id, "mx.example.org");
        assert_eq!(r[0].method, "spf");
        assert_eq!(
            r[1].properties[0],
            ("header.d".into(), "example.com".into())
        );
        assert_eq!(r[2].result, "fail");
    }

    #[test]
    fn none_and_garbage() {
        assert!(parse_authentication_results("mx.example.org; none").is_empty());
        assert!(parse_authentication_results(";;;===((").is_empty());
        assert!(parse_authentication_results("").is_empty());
    }

    #[test]
    fn received_spf() {
        let r = parse_received_spf("SoftFail (mx: domain of transitioning x) client-ip=192.0.2.1; envelope-from=a@example.com").unwrap();
        assert_eq!(r.result, "softfail");
        assert!(parse_received_spf("whatever").is_none());
    }
}
