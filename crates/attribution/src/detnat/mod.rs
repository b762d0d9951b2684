//! Deterministic NAT (RFC 7422): the mapping is computed from the configuration, so the
//! configuration and its validity period *are* the log.
//!
//! A [`DetConfigSet`] holds versioned configurations (`valid_from`..`valid_to`, half-open, UTC).
//! [`DetConfigSet::reverse`] answers "which inside address held outside X, port P at time T";
//! [`DetConfigSet::forward`] answers the opposite, to check a box's `show ... deterministic-nat`
//! output or to emit the block for the store. Configurations whose outside pools overlap in
//! time are refused when added, so a reverse lookup has at most one answer. Dynamic overflow
//! blocks (RFC 7422 section 2) are logged by the box and live in the normal event store.

mod algo;
mod layout;

pub use algo::Algorithm;
pub use layout::{Fill, Layout};

use chrono::{DateTime, Utc};
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// A deterministic NAT configuration as the operator writes it (JSON or TOML).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetConfigSpec {
    /// A name for this version, quoted back in answers as evidence (e.g. `"cgn1 pool A v3"`).
    pub id: String,
    /// The algorithm and its parameters.
    #[serde(flatten)]
    pub algorithm: Algorithm,
    /// Inside (subscriber) prefix.
    pub inside: Ipv4Net,
    /// Outside (public) prefix.
    pub outside: Ipv4Net,
    /// Outside VRF / routing instance, 0 for the default.
    #[serde(default)]
    pub outside_vrf: u32,
    /// When the box started using this configuration.
    pub valid_from: DateTime<Utc>,
    /// When it stopped (exclusive); `None` while still in force.
    #[serde(default)]
    pub valid_to: Option<DateTime<Utc>>,
}

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetError {
    /// The parameters do not give every subscriber a whole, distinct block.
    #[error("deterministic NAT config {id:?}: {why}")]
    Invalid {
        /// The configuration's id.
        id: String,
        /// What is wrong.
        why: &'static str,
    },
    /// Two configurations claim the same outside addresses at the same time.
    #[error(
        "deterministic NAT config {id:?} overlaps {other:?}: same outside addresses during the same period; end one with valid_to first"
    )]
    Overlap {
        /// The configuration being added.
        id: String,
        /// The one already present.
        other: String,
    },
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetConfig {
    spec: DetConfigSpec,
    layout: Layout,
    from_ns: i64,
    to_ns: i64,
}

/// A port block of one subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DetBlock {
    /// Outside address.
    pub outside_ip: Ipv4Addr,
    /// First port.
    pub port_lo: u16,
    /// Last port, inclusive.
    pub port_hi: u16,
}

/// One answer of a reverse lookup: the inside address and the configuration that maps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetMatch<'a> {
    /// The subscriber's inside address.
    pub inside_ip: Ipv4Addr,
    /// Its whole block (the queried port is inside it).
    pub block: DetBlock,
    /// The configuration version that produced the answer (its id is the evidence).
    pub config: &'a DetConfig,
}

fn ns(t: DateTime<Utc>) -> i64 {
    // Outside ±292 years the nanosecond count saturates; configurations are far inside that.
    t.timestamp_nanos_opt().unwrap_or(if t.timestamp() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}

impl DetConfig {
    /// Validates a specification.
    pub fn new(spec: DetConfigSpec) -> Result<Self, DetError> {
        let invalid = |why| DetError::Invalid {
            id: spec.id.clone(),
            why,
        };
        let layout = spec
            .algorithm
            .layout(spec.inside, spec.outside)
            .map_err(invalid)?;
        let from_ns = ns(spec.valid_from);
        let to_ns = spec.valid_to.map_or(i64::MAX, ns);
        if to_ns <= from_ns {
            return Err(invalid("valid_to is not after valid_from"));
        }
        Ok(Self {
            spec,
            layout,
            from_ns,
            to_ns,
        })
    }

    /// The specification this was built from.
    pub fn spec(&self) -> &DetConfigSpec {
        &self.spec
    }

    /// The id of this version.
    pub fn id(&self) -> &str {
        &self.spec.id
    }

    /// The computed layout (block size, slots per address...).
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// True when the configuration was in force at `t_ns` (UTC nanoseconds).
    pub fn valid_at(&self, t_ns: i64) -> bool {
        self.from_ns <= t_ns && t_ns < self.to_ns
    }

    /// The block of `inside`, ignoring validity dates.
    pub fn forward(&self, inside: Ipv4Addr) -> Option<DetBlock> {
        let (out, lo) = self.layout.forward(u32::from(inside))?;
        Some(DetBlock {
            outside_ip: Ipv4Addr::from(out),
            port_lo: lo,
            port_hi: lo.checked_add(self.layout.block_size - 1)?,
        })
    }

    /// The inside address holding `port` on `outside`, ignoring validity dates.
    pub fn reverse(&self, outside: Ipv4Addr, port: u16) -> Option<Ipv4Addr> {
        self.layout
            .reverse(u32::from(outside), port)
            .map(Ipv4Addr::from)
    }

    fn overlaps(&self, other: &DetConfig) -> bool {
        let time = self.from_ns < other.to_ns && other.from_ns < self.to_ns;
        let space = self.spec.outside_vrf == other.spec.outside_vrf
            && (self.spec.outside.contains(&other.spec.outside.network())
                || other.spec.outside.contains(&self.spec.outside.network()));
        time && space
    }
}

/// All deterministic configurations of a network, over time.
#[derive(Debug, Clone, Default)]
pub struct DetConfigSet {
    configs: Vec<DetConfig>,
}

impl DetConfigSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a configuration; refuses one whose outside pool overlaps another's in time.
    pub fn add(&mut self, spec: DetConfigSpec) -> Result<(), DetError> {
        let cfg = DetConfig::new(spec)?;
        if let Some(other) = self.configs.iter().find(|c| c.overlaps(&cfg)) {
            return Err(DetError::Overlap {
                id: cfg.spec.id.clone(),
                other: other.spec.id.clone(),
            });
        }
        self.configs.push(cfg);
        Ok(())
    }

    /// Reads a JSON array of [`DetConfigSpec`]s.
    pub fn from_json(text: &str) -> Result<Self, DetLoadError> {
        let specs: Vec<DetConfigSpec> = serde_json::from_str(text)?;
        let mut set = Self::new();
        for s in specs {
            set.add(s)?;
        }
        Ok(set)
    }

    /// The configurations, in the order added.
    pub fn configs(&self) -> &[DetConfig] {
        &self.configs
    }

    /// Who held `port` on `outside` (in `outside_vrf`) at `t_ns` (UTC nanoseconds).
    pub fn reverse(
        &self,
        outside_vrf: u32,
        outside: Ipv4Addr,
        port: u16,
        t_ns: i64,
    ) -> Option<DetMatch<'_>> {
        self.configs
            .iter()
            .filter(|c| c.spec.outside_vrf == outside_vrf && c.valid_at(t_ns))
            .find_map(|c| {
                let inside = c.reverse(outside, port)?;
                let block = c.forward(inside)?;
                Some(DetMatch {
                    inside_ip: inside,
                    block,
                    config: c,
                })
            })
    }

    /// Every block `inside` held at `t_ns`, one per configuration whose inside prefix has it.
    pub fn forward(&self, inside: Ipv4Addr, t_ns: i64) -> Vec<(DetBlock, &DetConfig)> {
        self.configs
            .iter()
            .filter(|c| c.valid_at(t_ns))
            .filter_map(|c| Some((c.forward(inside)?, c)))
            .collect()
    }
}

/// Why a configuration file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DetLoadError {
    /// Not valid JSON for a list of configurations.
    #[error("deterministic NAT config file: {0}")]
    Json(#[from] serde_json::Error),
    /// A configuration was refused.
    #[error(transparent)]
    Config(#[from] DetError),
}
