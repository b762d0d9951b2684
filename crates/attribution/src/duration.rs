//! The one duration syntax of Warden's flags and configuration: `500ms`, `5s`, `2m` (or `2min`),
//! `1h`, `7d`, or a bare number of seconds.
//!
//! NAT logs, lookup windows and retention periods are all counted in [`Millis`]; a single parser
//! means `--window 5s` on the command line and `window = "5s"` in `warden.toml` can never
//! disagree about what a unit means (they once did: one copy knew days, the other minutes).

use crate::natlog::pair::Millis;
use thiserror::Error;

/// Why a duration was refused; the text names the input as given.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DurationError {
    /// No number in front of the unit.
    #[error("duration {0:?}: expected a number and a unit, e.g. 5s")]
    NoNumber(String),
    /// A unit this syntax does not know.
    #[error("duration {0:?}: unit must be ms, s, m (or min), h or d")]
    Unit(String),
    /// Does not fit in 64-bit milliseconds.
    #[error("duration {0:?} is too large")]
    Overflow(String),
}

/// Parses a duration into milliseconds; a bare number is seconds.
pub fn parse_millis(s: &str) -> Result<Millis, DurationError> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: i64 = num
        .parse()
        .map_err(|_| DurationError::NoNumber(s.to_owned()))?;
    let mul = match unit.trim() {
        "ms" => 1,
        "s" | "" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(DurationError::Unit(s.to_owned())),
    };
    n.checked_mul(mul)
        .ok_or_else(|| DurationError::Overflow(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_refusals() {
        assert_eq!(parse_millis("5s"), Ok(5_000));
        assert_eq!(parse_millis("5"), Ok(5_000));
        assert_eq!(parse_millis("250ms"), Ok(250));
        assert_eq!(parse_millis("2m"), Ok(120_000));
        assert_eq!(parse_millis("2min"), Ok(120_000));
        assert_eq!(parse_millis(" 1h "), Ok(3_600_000));
        assert_eq!(parse_millis("7d"), Ok(7 * 86_400_000));
        assert_eq!(parse_millis("5x"), Err(DurationError::Unit("5x".into())));
        assert_eq!(
            parse_millis(""),
            Err(DurationError::NoNumber(String::new()))
        );
        assert_eq!(parse_millis("s"), Err(DurationError::NoNumber("s".into())));
        assert!(matches!(
            parse_millis("99999999999999999999d"),
            Err(DurationError::NoNumber(_))
        ));
        assert_eq!(
            parse_millis("999999999999999d"),
            Err(DurationError::Overflow("999999999999999d".into()))
        );
    }
}
