//! Observation times that say how much they can be trusted.
//!
//! The Large Scale NAT logging BCP: a report about a shared address can only be attributed when its
//! time is precise (seconds) and its zone is known. So a time is never just a timestamp here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How precise the reporter's time was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimePrecision {
    /// Only a date.
    Day,
    /// Hours and minutes, no seconds.
    Minute,
    /// Whole seconds.
    Second,
    /// Fractions of a second (milliseconds or finer).
    Subsecond,
}

/// When the reported activity was observed, normalised to UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ObservedTime {
    /// The instant in UTC. When `zone_given` is false this is the reporter's wall-clock reading
    /// taken as UTC, which may be hours off.
    pub utc: DateTime<Utc>,
    /// How precise the source was.
    pub precision: TimePrecision,
    /// Whether the source stated a zone or offset. False means UTC was assumed.
    pub zone_given: bool,
}

impl ObservedTime {
    /// A time with a stated zone at the given precision.
    pub fn zoned(utc: DateTime<Utc>, precision: TimePrecision) -> Self {
        Self {
            utc,
            precision,
            zone_given: true,
        }
    }

    /// A wall-clock time with no zone in the source, taken as UTC.
    pub fn assumed_utc(utc: DateTime<Utc>, precision: TimePrecision) -> Self {
        Self {
            utc,
            precision,
            zone_given: false,
        }
    }

    /// True when the time is good enough to attribute a shared (CGN) address: zone given and at
    /// least second precision.
    pub fn attributable(&self) -> bool {
        self.zone_given && self.precision >= TimePrecision::Second
    }
}
