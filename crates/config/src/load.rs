//! Reading `warden.toml`, laying the `WARDEN_*` environment over it, and turning the TOML
//! parser's errors into messages that name the file, the line and the closest valid key.
//!
//! The schema is never written out as a list of names: serde's "unknown field `x`, expected one
//! of ..." already carries the valid keys of the table being read, so a new table or key is
//! suggested the moment it is added to a struct.

use crate::error::{ConfigError, KeyKind, Origin};
use serde::de::DeserializeOwned;
use std::path::Path;

/// The prefix of every environment variable Warden reads.
pub const ENV_PREFIX: &str = "WARDEN_";
/// What separates table names and the key in a configuration variable
/// (`WARDEN_ATTRIBUTION__NAT__STORE` is `[attribution.nat] store`).
pub const ENV_SEPARATOR: &str = "__";

/// Deserializes `text` (read from `path`), naming the line and the closest key on an error.
pub(crate) fn from_file_text<T: DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        let origin = Origin::File {
            path: path.to_owned(),
            line,
        };
        match unknown_field(e.message()) {
            Some((key, expected)) => {
                let kind = match e.span() {
                    Some(s) if header_at(text, s.start) => KeyKind::Table,
                    _ => KeyKind::Key,
                };
                ConfigError::Unknown {
                    origin,
                    kind,
                    suggestion: closest(&key, &expected).map(str::to_owned),
                    key,
                }
            }
            None => ConfigError::Invalid {
                origin,
                message: e.message().trim().to_owned(),
            },
        }
    })
}

/// Lays the configuration variables of `env` over `doc` (the file, already checked) and
/// deserializes the result. Variables without [`ENV_SEPARATOR`] are not configuration keys (they
/// are flag defaults such as `WARDEN_DATA`, or belong to tools), except that one spelled like a
/// table name with a single `_` is refused, since it can only be a misspelt key.
pub(crate) fn overlay_env<T: DeserializeOwned>(
    mut doc: toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Option<T>, ConfigError> {
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with(ENV_PREFIX))
        .collect();
    vars.sort();
    let tables = fields_of::<T>();
    let mut any = false;
    for (var, raw) in vars {
        let Some(path) = key_path(&var, &tables)? else {
            continue;
        };
        let value = env_value(&raw);
        check_alone::<T>(&var, &path, &value)?;
        insert(&mut doc, &path, value).map_err(|message| ConfigError::Invalid {
            origin: Origin::Env { var: var.clone() },
            message,
        })?;
        any = true;
    }
    if !any {
        return Ok(None);
    }
    toml::Value::Table(doc)
        .try_into::<T>()
        .map(Some)
        .map_err(|e| ConfigError::Invalid {
            origin: Origin::Merged,
            message: e.message().trim().to_owned(),
        })
}

/// The dotted key a variable names, `None` for a variable that is no configuration key.
fn key_path(var: &str, tables: &[String]) -> Result<Option<Vec<String>>, ConfigError> {
    let rest = &var[ENV_PREFIX.len()..];
    if !rest.contains(ENV_SEPARATOR) {
        let lower = rest.to_ascii_lowercase();
        if let Some(t) = tables
            .iter()
            .find(|t| lower.len() > t.len() + 1 && lower.starts_with(&format!("{t}_")))
        {
            return Err(ConfigError::Unknown {
                origin: Origin::Env { var: var.into() },
                kind: KeyKind::Key,
                key: var.into(),
                suggestion: Some(format!(
                    "{ENV_PREFIX}{}{ENV_SEPARATOR}{}",
                    t.to_ascii_uppercase(),
                    &rest[t.len() + 1..]
                )),
            });
        }
        return Ok(None);
    }
    let path: Vec<String> = rest
        .split(ENV_SEPARATOR)
        .map(str::to_ascii_lowercase)
        .collect();
    if path.iter().any(String::is_empty) {
        return Err(ConfigError::Invalid {
            origin: Origin::Env { var: var.into() },
            message: format!(
                "empty table or key name; write WARDEN_TABLE{ENV_SEPARATOR}KEY, e.g. WARDEN_ATTRIBUTION__NAT__STORE"
            ),
        });
    }
    Ok(Some(path))
}

/// Deserializes the schema from this one variable alone, so an unknown key or a wrong type is
/// blamed on the variable that brought it (keys missing only because the rest of the file is
/// absent here are not its fault).
fn check_alone<T: DeserializeOwned>(
    var: &str,
    path: &[String],
    value: &toml::Value,
) -> Result<(), ConfigError> {
    let mut alone = toml::Table::new();
    insert(&mut alone, path, value.clone()).map_err(|message| ConfigError::Invalid {
        origin: Origin::Env { var: var.into() },
        message,
    })?;
    let Err(e) = toml::Value::Table(alone).try_into::<T>() else {
        return Ok(());
    };
    let origin = Origin::Env { var: var.into() };
    if let Some((key, expected)) = unknown_field(e.message()) {
        let at = path.iter().position(|p| *p == key);
        let suggestion = match (at, closest(&key, &expected)) {
            (Some(i), Some(c)) => {
                let mut fixed = path.to_vec();
                fixed[i] = c.to_owned();
                Some(env_name(&fixed))
            }
            _ => None,
        };
        return Err(ConfigError::Unknown {
            origin,
            kind: KeyKind::Key,
            key: var.into(),
            suggestion,
        });
    }
    if e.message().starts_with("missing field") {
        return Ok(());
    }
    Err(ConfigError::Invalid {
        origin,
        message: e.message().trim().to_owned(),
    })
}

/// The variable that sets the dotted key `path`.
pub fn env_name(path: &[String]) -> String {
    let upper: Vec<String> = path.iter().map(|p| p.to_ascii_uppercase()).collect();
    format!("{ENV_PREFIX}{}", upper.join(ENV_SEPARATOR))
}

/// A variable's value as TOML when it reads as a TOML value (`5`, `true`, `["a", "b"]`), as a
/// string otherwise; a string that looks like a number is quoted: `'"8080"'`.
fn env_value(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

fn insert(doc: &mut toml::Table, path: &[String], value: toml::Value) -> Result<(), String> {
    let Some((last, parents)) = path.split_last() else {
        return Err("no key".into());
    };
    let mut table = doc;
    for (i, p) in parents.iter().enumerate() {
        let slot = table
            .entry(p.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        table = slot
            .as_table_mut()
            .ok_or_else(|| format!("`{}` is a value, not a table", path[..=i].join(".")))?;
    }
    table.insert(last.clone(), value);
    Ok(())
}

/// The key and the valid keys in serde's "unknown field `k`, expected one of `a`, `b`".
fn unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (key, tail) = rest.split_once('`')?;
    let expected = tail
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    Some((key.to_owned(), expected))
}

/// The top-level keys of `T`, asked of serde itself with a key no schema has.
pub(crate) fn fields_of<T: DeserializeOwned>() -> Vec<String> {
    let mut probe = toml::Table::new();
    probe.insert("\u{1}".into(), toml::Value::Integer(0));
    match toml::Value::Table(probe).try_into::<T>() {
        Ok(_) => Vec::new(),
        Err(e) => unknown_field(e.message())
            .map(|(_, f)| f)
            .unwrap_or_default(),
    }
}

/// The valid name closest to `key`, when it is close enough to be the intended one.
pub(crate) fn closest<'a>(key: &str, valid: &'a [String]) -> Option<&'a str> {
    valid
        .iter()
        .map(|v| (strsim::jaro_winkler(key, v), v))
        .filter(|(score, _)| *score >= 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, v)| v.as_str())
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Whether the key at `offset` sits in a `[table]` header rather than before an `=`.
fn header_at(text: &str, offset: usize) -> bool {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    text[start..].trim_start().starts_with('[')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_are_read() {
        let (k, e) =
            unknown_field("unknown field `windw`, expected one of `store`, `window`, `vrf`")
                .unwrap();
        assert_eq!(k, "windw");
        assert_eq!(e, ["store", "window", "vrf"]);
        let (_, e) = unknown_field("unknown field `x`, expected `a` or `b`").unwrap();
        assert_eq!(e, ["a", "b"]);
        assert!(unknown_field("invalid type: string, expected u32").is_none());
    }

    #[test]
    fn closest_is_close_or_nothing() {
        let v: Vec<String> = ["serve", "desk", "attribution"].map(String::from).into();
        assert_eq!(closest("atribution", &v), Some("attribution"));
        assert_eq!(closest("serv", &v), Some("serve"));
        assert_eq!(closest("zzzzzz", &v), None);
    }

    #[test]
    fn env_values_are_typed_when_they_read_as_toml() {
        assert_eq!(env_value("5"), toml::Value::Integer(5));
        assert_eq!(env_value("true"), toml::Value::Boolean(true));
        assert_eq!(
            env_value("127.0.0.1:9"),
            toml::Value::String("127.0.0.1:9".into())
        );
        assert_eq!(env_value("\"8080\""), toml::Value::String("8080".into()));
        assert_eq!(
            env_value("[\"a\", \"b\"]"),
            toml::Value::Array(vec!["a".into(), "b".into()])
        );
    }

    #[test]
    fn lines_and_headers() {
        let t = "a = 1\n\n[atribution.nat]\nx = 2\n";
        assert_eq!(line_of(t, t.find("atribution").unwrap()), 3);
        assert!(header_at(t, t.find("atribution").unwrap()));
        assert!(!header_at(t, t.find("x =").unwrap()));
    }
}
