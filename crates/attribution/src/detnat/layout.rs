//! The arithmetic every deterministic NAT algorithm reduces to: number the subscribers
//! `k = 0..inside_count`, and give each one block of `block_size` ports on one outside address.
//!
//! Vendors differ only in how they fill the outside pool (RFC 7422 section 2 leaves it to the
//! implementation): *sequential* packs `slots_per_address` subscribers onto the first address,
//! then the next (VPP det44 and Juniper deterministic NAPT); *round-robin* deals subscribers
//! across the addresses like cards (the RFC 7422 example). Forward and reverse are written once
//! here, so that proving one inverse of the other covers every vendor.

use serde::{Deserialize, Serialize};

/// How subscribers are dealt onto outside addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fill {
    /// Subscriber `k` gets address `k / slots_per_address`, slot `k % slots_per_address`.
    Sequential,
    /// Subscriber `k` gets address `k % outside_count`, slot `k / outside_count`.
    RoundRobin,
}

/// A validated layout, in plain integers (IPv4 addresses as `u32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// First mapped inside address.
    pub inside_base: u32,
    /// How many consecutive inside addresses are mapped.
    pub inside_count: u32,
    /// First outside address.
    pub outside_base: u32,
    /// How many consecutive outside addresses are used.
    pub outside_count: u32,
    /// First port of slot 0.
    pub first_port: u16,
    /// Ports per subscriber.
    pub block_size: u16,
    /// Subscribers per outside address.
    pub slots_per_address: u32,
    /// How subscribers are dealt.
    pub fill: Fill,
}

/// Why a layout is impossible; static text so it can be wrapped in a typed error.
pub type LayoutError = &'static str;

impl Layout {
    /// Checks that every subscriber gets a whole block inside 1..=65535 on an address of the
    /// pool, and that no two subscribers share a port.
    pub fn validate(self) -> Result<Self, LayoutError> {
        if self.block_size == 0 {
            return Err("block size is 0");
        }
        if self.inside_count == 0 || self.outside_count == 0 {
            return Err("inside or outside range is empty");
        }
        if self.slots_per_address == 0 {
            return Err("no block fits on an outside address");
        }
        let last_port = u64::from(self.first_port)
            + u64::from(self.slots_per_address) * u64::from(self.block_size)
            - 1;
        if last_port > 65_535 || self.first_port == 0 {
            return Err("blocks run past port 65535 or start at port 0");
        }
        let capacity = u64::from(self.outside_count) * u64::from(self.slots_per_address);
        if u64::from(self.inside_count) > capacity {
            return Err("more inside addresses than blocks in the outside pool");
        }
        if u64::from(self.inside_base) + u64::from(self.inside_count) > 1 << 32
            || u64::from(self.outside_base) + u64::from(self.outside_count) > 1 << 32
        {
            return Err("range runs past 255.255.255.255");
        }
        Ok(self)
    }

    /// The outside address and first port of inside address `inside`, if it is mapped.
    pub fn forward(&self, inside: u32) -> Option<(u32, u16)> {
        let k = inside.checked_sub(self.inside_base)?;
        if k >= self.inside_count {
            return None;
        }
        let (addr, slot) = match self.fill {
            Fill::Sequential => (k / self.slots_per_address, k % self.slots_per_address),
            Fill::RoundRobin => (k % self.outside_count, k / self.outside_count),
        };
        let port = u32::from(self.first_port) + slot * u32::from(self.block_size);
        Some((self.outside_base + addr, u16::try_from(port).ok()?))
    }

    /// The inside address holding `port` on `outside`, if any subscriber does.
    pub fn reverse(&self, outside: u32, port: u16) -> Option<u32> {
        let addr = outside.checked_sub(self.outside_base)?;
        if addr >= self.outside_count {
            return None;
        }
        let slot = u32::from(port.checked_sub(self.first_port)?) / u32::from(self.block_size);
        if slot >= self.slots_per_address {
            return None;
        }
        let k = match self.fill {
            Fill::Sequential => {
                u64::from(addr) * u64::from(self.slots_per_address) + u64::from(slot)
            }
            Fill::RoundRobin => u64::from(slot) * u64::from(self.outside_count) + u64::from(addr),
        };
        let k = u32::try_from(k).ok().filter(|k| *k < self.inside_count)?;
        Some(self.inside_base + k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(fill: Fill) -> Layout {
        Layout {
            inside_base: 1000,
            inside_count: 48,
            outside_base: 7,
            outside_count: 4,
            first_port: 1024,
            block_size: 5000,
            slots_per_address: 12,
            fill,
        }
        .validate()
        .unwrap()
    }

    #[test]
    fn inverse_both_fills() {
        for fill in [Fill::Sequential, Fill::RoundRobin] {
            let l = layout(fill);
            for i in 1000..1048 {
                let (o, p) = l.forward(i).unwrap();
                assert_eq!(l.reverse(o, p), Some(i));
                assert_eq!(l.reverse(o, p + 4999), Some(i));
            }
            assert_eq!(l.forward(999), None);
            assert_eq!(l.forward(1048), None);
            assert_eq!(l.reverse(7, 1023), None);
            assert_eq!(l.reverse(7, 1024 + 12 * 5000), None);
            assert_eq!(l.reverse(11, 1024), None);
        }
    }

    #[test]
    fn impossible_layouts_are_rejected() {
        let ok = layout(Fill::Sequential);
        assert!(
            Layout {
                block_size: 0,
                ..ok
            }
            .validate()
            .is_err()
        );
        assert!(
            Layout {
                slots_per_address: 13,
                ..ok
            }
            .validate()
            .is_err()
        );
        assert!(
            Layout {
                inside_count: 49 * 4,
                ..ok
            }
            .validate()
            .is_err()
        );
        assert!(
            Layout {
                outside_base: u32::MAX,
                ..ok
            }
            .validate()
            .is_err()
        );
    }
}
