//! Vendor algorithms, each turned into a [`Layout`] from the parameters the operator configured
//! on the box (research notes sections 2.2–2.3).

use super::layout::{Fill, Layout};
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

/// Ports below 1024 are never handed out by VPP det44 or Juniper deterministic NAPT.
const FIRST_DYNAMIC_PORT: u16 = 1024;
/// Ports 1024..=65535.
const PORTS_ABOVE_1023: u32 = 65_535 - 1_023;

/// The deterministic algorithm of a NAT configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "algorithm", rename_all = "snake_case")]
pub enum Algorithm {
    /// FD.io VPP det44 (`det44.h`): `sharing_ratio = 2^(out_plen - in_plen)`,
    /// `ports_per_host = 64512 / sharing_ratio`, consecutive inside addresses share an outside
    /// address, ports from 1024.
    Vpp,
    /// Juniper deterministic NAPT (MS-MPC / MX-SPC3). `block_size` 0 means "computed":
    /// `64512 / ceil(inside hosts / outside addresses)`. The inside network and broadcast
    /// addresses are skipped unless `include_boundary_addresses`. Blocks never straddle two
    /// outside addresses: `64512 / block_size` subscribers per address (equal to the documented
    /// `PR_Port_Offset / 64512` formula whenever the block size divides 64512, which the
    /// default 256 does).
    Juniper {
        /// Ports per subscriber (`block-size`), 0 for the computed size.
        #[serde(default)]
        block_size: u16,
        /// `include-boundary-addresses`.
        #[serde(default)]
        include_boundary_addresses: bool,
    },
    /// Any other vendor or a hand-built mapping (RFC 7422): first port, block size and how
    /// subscribers are dealt over the outside addresses.
    Generic {
        /// First port of the first block (often 1024).
        first_port: u16,
        /// Ports per subscriber.
        block_size: u16,
        /// Sequential (fill an address, then the next) or round-robin.
        fill: Fill,
    },
}

fn count(net: Ipv4Net) -> u64 {
    1u64 << (32 - u32::from(net.prefix_len()))
}

fn u32_count(n: u64) -> Result<u32, &'static str> {
    u32::try_from(n).map_err(|_| "range of 2^32 addresses is not a NAT pool")
}

impl Algorithm {
    /// Builds the layout for `inside` mapped onto `outside`.
    pub fn layout(&self, inside: Ipv4Net, outside: Ipv4Net) -> Result<Layout, &'static str> {
        let in_base = u32::from(inside.network());
        let out_base = u32::from(outside.network());
        let out_count = u32_count(count(outside))?;
        let layout = match *self {
            Algorithm::Vpp => {
                if outside.prefix_len() < inside.prefix_len() {
                    return Err("VPP det44 needs an outside prefix no larger than the inside one");
                }
                let ratio = u32_count(count(inside) / count(outside))?;
                let block = PORTS_ABOVE_1023 / ratio;
                Layout {
                    inside_base: in_base,
                    inside_count: u32_count(count(inside))?,
                    outside_base: out_base,
                    outside_count: out_count,
                    first_port: FIRST_DYNAMIC_PORT,
                    block_size: u16::try_from(block).map_err(|_| "block size over 65535")?,
                    slots_per_address: ratio,
                    fill: Fill::Sequential,
                }
            }
            Algorithm::Juniper {
                block_size,
                include_boundary_addresses,
            } => {
                let all = count(inside);
                let (base, hosts) = if include_boundary_addresses || all <= 2 {
                    (in_base, all)
                } else {
                    (in_base + 1, all - 2)
                };
                let block = if block_size == 0 {
                    let per_addr = hosts.div_ceil(u64::from(out_count));
                    u16::try_from(u64::from(PORTS_ABOVE_1023) / per_addr.max(1))
                        .map_err(|_| "computed block size over 65535")?
                } else {
                    block_size
                };
                if block == 0 {
                    return Err("block size is 0");
                }
                Layout {
                    inside_base: base,
                    inside_count: u32_count(hosts)?,
                    outside_base: out_base,
                    outside_count: out_count,
                    first_port: FIRST_DYNAMIC_PORT,
                    block_size: block,
                    slots_per_address: PORTS_ABOVE_1023 / u32::from(block),
                    fill: Fill::Sequential,
                }
            }
            Algorithm::Generic {
                first_port,
                block_size,
                fill,
            } => {
                if block_size == 0 {
                    return Err("block size is 0");
                }
                let ports = 65_536u32.saturating_sub(u32::from(first_port));
                Layout {
                    inside_base: in_base,
                    inside_count: u32_count(count(inside))?,
                    outside_base: out_base,
                    outside_count: out_count,
                    first_port,
                    block_size,
                    slots_per_address: ports / u32::from(block_size),
                    fill,
                }
            }
        };
        layout.validate()
    }
}
