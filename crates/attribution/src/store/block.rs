//! One block of a segment: up to [`BLOCK_ROWS`] intervals, column by column, delta and varint
//! encoded, then zstd-compressed as one frame (with its content checksum, so a torn or flipped
//! block is an error, not a wrong answer).
//!
//! Rows arrive sorted by (outside VRF, outside IP, first port, start). Laid out column-major, each
//! column is a run of small numbers: the IP column is mostly zero deltas, the port column small
//! positive deltas, the start column deltas within the same port. zstd then squeezes what is left.

use super::StoreError;
use crate::natlog::pair::{EndKind, LineRef, NatInterval, RecordKind, StartKind};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Rows per block: small enough that a lookup decodes little, large enough for zstd to find
/// repetition.
pub const BLOCK_ROWS: usize = 2048;

/// zstd level for blocks: 3 is zstd's default, a good size/speed point for write-once data.
const ZSTD_LEVEL: i32 = 3;

/// Largest decompressed block accepted when reading (a block of 2048 rows with 64-byte subscriber
/// ids stays far below this).
const MAX_BLOCK_BYTES: usize = 16 << 20;

/// Largest subscriber identifier stored; longer ones are cut (RADIUS User-Name is at most 253).
pub const MAX_SUBSCRIBER_LEN: usize = 255;

const COLUMNS: usize = 14;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Bounds-checked reader over a byte slice.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64, StoreError> {
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| StoreError::corrupt("block", "varint runs past the end"))?;
            self.pos += 1;
            if shift >= 64 {
                return Err(StoreError::corrupt("block", "varint longer than 64 bits"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
            shift += 7;
        }
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| StoreError::corrupt("block", "field runs past the end"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn column(&mut self) -> Result<Cursor<'a>, StoreError> {
        let len = usize::try_from(self.varint()?)
            .map_err(|_| StoreError::corrupt("block", "column length"))?;
        Ok(Cursor::new(self.bytes(len)?))
    }
}

fn end_code(k: EndKind) -> u64 {
    match k {
        EndKind::Released => 0,
        EndKind::NextAlloc => 1,
        EndKind::InterimExpired => 2,
        EndKind::MaxLifetime => 3,
        EndKind::ForeignRelease => 4,
        EndKind::Open => 5,
    }
}

fn end_from(c: u64) -> Result<EndKind, StoreError> {
    Ok(match c {
        0 => EndKind::Released,
        1 => EndKind::NextAlloc,
        2 => EndKind::InterimExpired,
        3 => EndKind::MaxLifetime,
        4 => EndKind::ForeignRelease,
        5 => EndKind::Open,
        _ => return Err(StoreError::corrupt("block", "unknown end kind")),
    })
}

fn record_code(k: RecordKind) -> u64 {
    match k {
        RecordKind::Session => 0,
        RecordKind::Mapping => 1,
        RecordKind::Block => 2,
        RecordKind::Address => 3,
    }
}

fn record_from(c: u64) -> RecordKind {
    match c & 3 {
        0 => RecordKind::Session,
        1 => RecordKind::Mapping,
        2 => RecordKind::Block,
        _ => RecordKind::Address,
    }
}

const F_INTERIM_START: u64 = 1;
const F_END_SHIFT: u64 = 1; // 3 bits
const F_RECORD_SHIFT: u64 = 4; // 2 bits
const F_V6: u64 = 1 << 6;
const F_B4: u64 = 1 << 7;
const F_SUB: u64 = 1 << 8;

/// Encodes sorted rows into one compressed block.
pub fn encode(rows: &[NatInterval]) -> Result<Vec<u8>, StoreError> {
    let mut cols: [Vec<u8>; COLUMNS] = Default::default();
    let (mut pvrf, mut pip, mut pport, mut pstart, mut pline) = (0i64, 0i64, 0i64, 0i64, 0i64);
    for r in rows {
        let [
            c_vrf,
            c_ip,
            c_port,
            c_span,
            c_proto,
            c_start,
            c_dur,
            c_flags,
            c_in,
            c_b4,
            c_sub,
            c_open,
            c_close,
            _,
        ] = &mut cols;
        put_varint(c_vrf, zigzag(i64::from(r.outside_vrf) - pvrf));
        pvrf = i64::from(r.outside_vrf);
        let ip = i64::from(u32::from(r.outside_ip));
        put_varint(c_ip, zigzag(ip - pip));
        pip = ip;
        put_varint(c_port, zigzag(i64::from(r.port_lo) - pport));
        pport = i64::from(r.port_lo);
        put_varint(c_span, u64::from(r.port_hi.saturating_sub(r.port_lo)));
        put_varint(c_proto, r.proto.map_or(0, |p| u64::from(p) + 1));
        put_varint(c_start, zigzag(r.start_ms.wrapping_sub(pstart)));
        pstart = r.start_ms;
        put_varint(c_dur, r.end_ms.saturating_sub(r.start_ms).max(0) as u64);
        let mut flags =
            end_code(r.end_kind) << F_END_SHIFT | record_code(r.record) << F_RECORD_SHIFT;
        if r.start_kind == StartKind::Interim {
            flags |= F_INTERIM_START;
        }
        match r.inside_ip {
            IpAddr::V4(a) => c_in.extend_from_slice(&a.octets()),
            IpAddr::V6(a) => {
                flags |= F_V6;
                c_in.extend_from_slice(&a.octets());
            }
        }
        if let Some(b4) = r.b4_ipv6 {
            flags |= F_B4;
            c_b4.extend_from_slice(&b4.octets());
        }
        if let Some(s) = &r.subscriber_id {
            flags |= F_SUB;
            let b = s.as_bytes();
            let b = &b[..b.len().min(MAX_SUBSCRIBER_LEN)];
            put_varint(c_sub, b.len() as u64);
            c_sub.extend_from_slice(b);
        }
        put_varint(c_flags, flags);
        put_varint(c_open, u64::from(r.open_ref.file));
        let line = r.open_ref.line as i64;
        put_varint(c_open, zigzag(line.wrapping_sub(pline)));
        pline = line;
        match r.close_ref {
            None => put_varint(c_close, 0),
            Some(c) => {
                put_varint(c_close, u64::from(c.file) + 1);
                put_varint(c_close, zigzag((c.line as i64).wrapping_sub(line)));
            }
        }
    }
    let mut raw = Vec::with_capacity(cols.iter().map(Vec::len).sum::<usize>() + 64);
    put_varint(&mut raw, rows.len() as u64);
    for c in &cols {
        put_varint(&mut raw, c.len() as u64);
        raw.extend_from_slice(c);
    }
    let mut enc = zstd::bulk::Compressor::new(ZSTD_LEVEL).map_err(StoreError::Compress)?;
    enc.include_checksum(true).map_err(StoreError::Compress)?;
    enc.include_contentsize(true)
        .map_err(StoreError::Compress)?;
    enc.compress(&raw).map_err(StoreError::Compress)
}

/// Decodes a compressed block into `out`.
pub fn decode(data: &[u8], out: &mut Vec<NatInterval>) -> Result<(), StoreError> {
    let raw = zstd::bulk::decompress(data, MAX_BLOCK_BYTES)
        .map_err(|e| StoreError::corrupt("block", &format!("zstd: {e}")))?;
    let mut top = Cursor::new(&raw);
    let n =
        usize::try_from(top.varint()?).map_err(|_| StoreError::corrupt("block", "row count"))?;
    if n > BLOCK_ROWS * 4 {
        return Err(StoreError::corrupt("block", "row count above the limit"));
    }
    let mut c: Vec<Cursor<'_>> = Vec::with_capacity(COLUMNS);
    for _ in 0..COLUMNS {
        c.push(top.column()?);
    }
    let [
        c_vrf,
        c_ip,
        c_port,
        c_span,
        c_proto,
        c_start,
        c_dur,
        c_flags,
        c_in,
        c_b4,
        c_sub,
        c_open,
        c_close,
        _,
    ] = c.as_mut_slice()
    else {
        return Err(StoreError::corrupt("block", "column count"));
    };
    let (mut pvrf, mut pip, mut pport, mut pstart, mut pline) = (0i64, 0i64, 0i64, 0i64, 0i64);
    out.reserve(n);
    for _ in 0..n {
        pvrf += unzigzag(c_vrf.varint()?);
        pip += unzigzag(c_ip.varint()?);
        pport += unzigzag(c_port.varint()?);
        let vrf = u32::try_from(pvrf).map_err(|_| StoreError::corrupt("block", "vrf"))?;
        let ip = u32::try_from(pip).map_err(|_| StoreError::corrupt("block", "outside ip"))?;
        let port_lo = u16::try_from(pport).map_err(|_| StoreError::corrupt("block", "port"))?;
        let span = u16::try_from(c_span.varint()?)
            .map_err(|_| StoreError::corrupt("block", "port span"))?;
        let port_hi = port_lo
            .checked_add(span)
            .ok_or_else(|| StoreError::corrupt("block", "port range past 65535"))?;
        let proto = match c_proto.varint()? {
            0 => None,
            p => Some(u8::try_from(p - 1).map_err(|_| StoreError::corrupt("block", "protocol"))?),
        };
        pstart = pstart.wrapping_add(unzigzag(c_start.varint()?));
        let dur =
            i64::try_from(c_dur.varint()?).map_err(|_| StoreError::corrupt("block", "duration"))?;
        let flags = c_flags.varint()?;
        let inside_ip = if flags & F_V6 != 0 {
            let b: [u8; 16] = c_in
                .bytes(16)?
                .try_into()
                .map_err(|_| StoreError::corrupt("block", "v6"))?;
            IpAddr::V6(Ipv6Addr::from(b))
        } else {
            let b: [u8; 4] = c_in
                .bytes(4)?
                .try_into()
                .map_err(|_| StoreError::corrupt("block", "v4"))?;
            IpAddr::V4(Ipv4Addr::from(b))
        };
        let b4_ipv6 = if flags & F_B4 != 0 {
            let b: [u8; 16] = c_b4
                .bytes(16)?
                .try_into()
                .map_err(|_| StoreError::corrupt("block", "b4"))?;
            Some(Ipv6Addr::from(b))
        } else {
            None
        };
        let subscriber_id = if flags & F_SUB != 0 {
            let len = usize::try_from(c_sub.varint()?)
                .map_err(|_| StoreError::corrupt("block", "sub"))?;
            if len > MAX_SUBSCRIBER_LEN {
                return Err(StoreError::corrupt("block", "subscriber id too long"));
            }
            Some(String::from_utf8_lossy(c_sub.bytes(len)?).into_owned())
        } else {
            None
        };
        let file =
            u32::try_from(c_open.varint()?).map_err(|_| StoreError::corrupt("block", "file id"))?;
        pline = pline.wrapping_add(unzigzag(c_open.varint()?));
        let close_ref = match c_close.varint()? {
            0 => None,
            f => Some(LineRef {
                file: u32::try_from(f - 1).map_err(|_| StoreError::corrupt("block", "file id"))?,
                line: pline.wrapping_add(unzigzag(c_close.varint()?)) as u64,
            }),
        };
        out.push(NatInterval {
            outside_vrf: vrf,
            outside_ip: Ipv4Addr::from(ip),
            port_lo,
            port_hi,
            proto,
            start_ms: pstart,
            end_ms: pstart.saturating_add(dur),
            start_kind: if flags & F_INTERIM_START != 0 {
                StartKind::Interim
            } else {
                StartKind::Logged
            },
            end_kind: end_from((flags >> F_END_SHIFT) & 7)?,
            record: record_from(flags >> F_RECORD_SHIFT),
            inside_ip,
            b4_ipv6,
            subscriber_id,
            open_ref: LineRef {
                file,
                line: pline as u64,
            },
            close_ref,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ip: u32, port: u16, start: i64) -> NatInterval {
        NatInterval {
            outside_vrf: 0,
            outside_ip: Ipv4Addr::from(ip),
            port_lo: port,
            port_hi: port.saturating_add(127),
            proto: Some(6),
            start_ms: start,
            end_ms: start + 5000,
            start_kind: StartKind::Logged,
            end_kind: EndKind::NextAlloc,
            record: RecordKind::Block,
            inside_ip: IpAddr::from([100, 64, 0, (port % 250) as u8]),
            b4_ipv6: if port % 2 == 0 {
                Some(Ipv6Addr::LOCALHOST)
            } else {
                None
            },
            subscriber_id: if port % 3 == 0 {
                Some(format!("sub{port}"))
            } else {
                None
            },
            open_ref: LineRef {
                file: 1,
                line: u64::from(port) * 3,
            },
            close_ref: if port % 5 == 0 {
                None
            } else {
                Some(LineRef {
                    file: 2,
                    line: u64::from(port),
                })
            },
        }
    }

    #[test]
    fn round_trip() {
        let rows: Vec<_> = (0..1000u16)
            .map(|i| {
                row(
                    0xC633_6401 + u32::from(i / 100),
                    1024 + (i % 100) * 128,
                    i64::from(i) * 1000 - 50_000,
                )
            })
            .collect();
        let enc = encode(&rows).unwrap();
        let mut out = Vec::new();
        decode(&enc, &mut out).unwrap();
        assert_eq!(out, rows);
    }

    #[test]
    fn corruption_is_an_error_not_a_panic() {
        let rows: Vec<_> = (0..50u16).map(|i| row(1, i, 0)).collect();
        let enc = encode(&rows).unwrap();
        for i in 0..enc.len() {
            let mut bad = enc.clone();
            bad[i] ^= 0x55;
            let mut out = Vec::new();
            // Either detected, or (for header bytes zstd ignores) decoded identically.
            if decode(&bad, &mut out).is_ok() {
                assert_eq!(out, rows);
            }
        }
        assert!(decode(&enc[..enc.len() / 2], &mut Vec::new()).is_err());
    }
}
