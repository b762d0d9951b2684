//! Queue sort orders and their keyset cursors.
//!
//! Every order ends with the case id, so that it is total and a page can continue "after the
//! last row shown" with an index range scan (indexes in the desk's migration 0005):
//!
//! | sort | order | cursor | index |
//! |---|---|---|---|
//! | `received` (default) | id descending (UUID v7: arrival) | `<id>` | primary key |
//! | `updated` | last change descending | `<ms>_<id>` | `cases (updated_at, id)` |
//! | `deadline` | deadline ascending (most urgent first) | `<ms>_<id>` | `cases (deadline_at, id)` |
//! | `severity` | critical first, then newest | `<severity>_<id>` | `cases (severity, id)` |
//!
//! Severity is stored as text, whose alphabetical order is not the severity order; rather than a
//! sort over a `CASE` expression (a full sort of a million rows), a severity page walks the
//! levels from the cursor's down, one `(severity, id)` range scan per level, until the page is
//! full.

use super::is_case_id;
use crate::error::{DeskError, Result};

/// How the queue is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Newest case first.
    #[default]
    Received,
    /// Most recently changed first.
    Updated,
    /// Nearest deadline first.
    Deadline,
    /// Most severe first, newest first within a level.
    Severity,
}

/// Severity levels as the desk stores them (`warden_model::Severity`, snake case), most severe
/// first: the `severity` sort walks them in this order.
pub const LEVELS: [&str; 5] = ["critical", "high", "medium", "low", "info"];

impl Sort {
    /// Every order, as the form offers them.
    pub const ALL: [Sort; 4] = [
        Self::Received,
        Self::Updated,
        Self::Deadline,
        Self::Severity,
    ];

    /// The form value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Updated => "updated",
            Self::Deadline => "deadline",
            Self::Severity => "severity",
        }
    }

    /// What the form shows.
    pub fn label(self) -> &'static str {
        match self {
            Self::Received => "newest first",
            Self::Updated => "recently updated",
            Self::Deadline => "nearest deadline",
            Self::Severity => "most severe",
        }
    }

    /// Reads the form value (empty: the default).
    pub fn parse(s: &str) -> Result<Self> {
        if s.is_empty() {
            return Ok(Self::default());
        }
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                DeskError::invalid(
                    format!("sort {:?}", s.chars().take(40).collect::<String>()),
                    "use received, updated, deadline or severity",
                )
            })
    }
}

/// A decoded keyset cursor: where the previous page ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// After this case id (`received`).
    Id(String),
    /// After this (milliseconds, id) (`updated`, `deadline`).
    Time(i64, String),
    /// After this (severity level index in [`LEVELS`], id) (`severity`).
    Level(usize, String),
}

impl Cursor {
    /// Decodes `s` for `sort`, naming the input on refusal.
    pub fn parse(sort: Sort, s: &str) -> Result<Self> {
        let bad = || {
            DeskError::invalid(
                format!("page cursor {:?}", s.chars().take(80).collect::<String>()),
                format!("not a cursor of the {} order", sort.as_str()),
            )
        };
        let split = || {
            let (k, id) = s.rsplit_once('_').ok_or_else(bad)?;
            if !is_case_id(id) {
                return Err(bad());
            }
            Ok((k, id.to_ascii_lowercase()))
        };
        match sort {
            Sort::Received if is_case_id(s) => Ok(Self::Id(s.to_ascii_lowercase())),
            Sort::Received => Err(bad()),
            Sort::Updated | Sort::Deadline => {
                let (k, id) = split()?;
                Ok(Self::Time(k.parse().map_err(|_| bad())?, id))
            }
            Sort::Severity => {
                let (k, id) = split()?;
                let level = LEVELS.iter().position(|l| *l == k).ok_or_else(bad)?;
                Ok(Self::Level(level, id))
            }
        }
    }

    /// The text form (what `parse` reads).
    pub fn encode(&self) -> String {
        match self {
            Self::Id(id) => id.clone(),
            Self::Time(ms, id) => format!("{ms}_{id}"),
            Self::Level(l, id) => format!("{}_{id}", LEVELS.get(*l).copied().unwrap_or("info")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "019a0000-0000-7000-8000-000000000001";

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        for (sort, c) in [
            (Sort::Received, Cursor::Id(ID.into())),
            (Sort::Updated, Cursor::Time(1_700_000_000_000, ID.into())),
            (Sort::Deadline, Cursor::Time(-5, ID.into())),
            (Sort::Severity, Cursor::Level(1, ID.into())),
        ] {
            assert_eq!(Cursor::parse(sort, &c.encode()).unwrap(), c);
        }
        assert_eq!(
            Cursor::Level(0, ID.into()).encode(),
            format!("critical_{ID}")
        );
        for (sort, s) in [
            (Sort::Received, "1 OR 1=1".to_owned()),
            (Sort::Updated, ID.to_owned()),
            (Sort::Updated, format!("x_{ID}")),
            (Sort::Deadline, "5_notanid".to_owned()),
            (Sort::Severity, format!("urgent_{ID}")),
        ] {
            assert!(Cursor::parse(sort, &s).is_err(), "{s}");
        }
    }

    #[test]
    fn sorts_parse() {
        assert_eq!(Sort::parse("").unwrap(), Sort::Received);
        assert_eq!(Sort::parse("severity").unwrap(), Sort::Severity);
        assert!(
            Sort::parse("random()")
                .unwrap_err()
                .to_string()
                .contains("random()")
        );
    }
}
