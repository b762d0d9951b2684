//! Does the server still accept SSLv3, TLS 1.0 or TLS 1.1? rustls cannot speak them (by design),
//! so we write the ClientHello ourselves (RFC 6101 section 5.6.1.2, RFC 2246 section 7.4.1.2,
//! RFC 4346 section 7.4.1.2) and read only the first record of the answer: a ServerHello that
//! echoes the offered version means "accepted", an alert or a closed socket means "refused".
//! We never finish the handshake, so no key material is needed.

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// A protocol version we probe with a hand-built hello.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegacyVersion {
    /// SSL 3.0, prohibited by RFC 7568.
    Ssl3,
    /// TLS 1.0, deprecated by RFC 8996.
    Tls1_0,
    /// TLS 1.1, deprecated by RFC 8996.
    Tls1_1,
}

impl LegacyVersion {
    /// All three, oldest first.
    pub const ALL: [LegacyVersion; 3] = [Self::Ssl3, Self::Tls1_0, Self::Tls1_1];

    /// The wire version (major, minor).
    pub fn wire(self) -> [u8; 2] {
        match self {
            Self::Ssl3 => [3, 0],
            Self::Tls1_0 => [3, 1],
            Self::Tls1_1 => [3, 2],
        }
    }

    /// Name as people write it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ssl3 => "SSLv3",
            Self::Tls1_0 => "TLS 1.0",
            Self::Tls1_1 => "TLS 1.1",
        }
    }

    /// Suffix of the finding id (`tls.protocol.<id>`).
    pub fn id(self) -> &'static str {
        match self {
            Self::Ssl3 => "ssl3",
            Self::Tls1_0 => "tls1_0",
            Self::Tls1_1 => "tls1_1",
        }
    }
}

/// What the server did with our hello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum LegacyVerdict {
    /// ServerHello with the version we offered.
    Accepted {
        /// Cipher suite the server picked, as its IANA code point.
        cipher_suite: u16,
    },
    /// Alert, closed connection, or a ServerHello for another version.
    Rejected {
        /// What the server did, for evidence.
        reason: String,
    },
    /// We could not tell (timeout, unreadable answer, STARTTLS not available).
    Inconclusive {
        /// Why.
        reason: String,
    },
}

/// The cipher suites offered in the legacy hello: every suite those versions commonly enable,
/// forward-secret first, so that a server is not refused for lack of a suite it would accept.
const SUITES: [u16; 16] = [
    0xc014, 0xc013, 0xc00a, 0xc009, // ECDHE-{RSA,ECDSA}-AES{256,128}-SHA
    0x0039, 0x0033, // DHE-RSA-AES{256,128}-SHA
    0x0035, 0x002f, // RSA-AES{256,128}-SHA
    0x0088, 0x0045, 0x0084, 0x0041, // CAMELLIA
    0x000a, 0x0016, // 3DES
    0x0005, // RC4-SHA (still enabled by very old SSLv3 servers)
    0x00ff, // TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 section 3.3)
];

/// Builds a ClientHello record for `version`. SNI is added for host names (not for IP literals,
/// RFC 6066 section 3). SSLv3 gets no extensions because some SSLv3-only stacks refuse them.
pub fn client_hello(
    version: LegacyVersion,
    server_name: Option<&str>,
    random: [u8; 32],
) -> Vec<u8> {
    let wire = version.wire();
    let mut body = Vec::with_capacity(256);
    body.extend_from_slice(&wire);
    body.extend_from_slice(&random);
    body.push(0); // empty session id
    push_u16(&mut body, (SUITES.len() * 2) as u16);
    for s in SUITES {
        push_u16(&mut body, s);
    }
    body.extend_from_slice(&[1, 0]); // one compression method: null
    if version != LegacyVersion::Ssl3 {
        let mut ext = Vec::new();
        if let Some(name) = server_name.filter(|n| n.parse::<std::net::IpAddr>().is_err()) {
            let name = name.trim_end_matches('.').as_bytes();
            if name.len() <= 253 {
                // server_name (0): list length, type host_name (0), name length, name.
                push_u16(&mut ext, 0);
                push_u16(&mut ext, (name.len() + 5) as u16);
                push_u16(&mut ext, (name.len() + 3) as u16);
                ext.push(0);
                push_u16(&mut ext, name.len() as u16);
                ext.extend_from_slice(name);
            }
        }
        // supported_groups (10): x25519, secp256r1, secp384r1 (RFC 8422 section 5.1.1).
        ext.extend_from_slice(&[0, 10, 0, 8, 0, 6, 0, 0x1d, 0, 0x17, 0, 0x18]);
        // ec_point_formats (11): uncompressed.
        ext.extend_from_slice(&[0, 11, 0, 2, 1, 0]);
        push_u16(&mut body, ext.len() as u16);
        body.extend_from_slice(&ext);
    }
    let mut handshake = Vec::with_capacity(body.len() + 4);
    handshake.push(1); // client_hello
    let len = body.len() as u32;
    handshake.extend_from_slice(&len.to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);
    let mut record = Vec::with_capacity(handshake.len() + 5);
    record.push(22); // handshake
    // Record-layer version: SSLv3 hellos use 3.0, the others 3.1 as most clients do, because
    // some servers drop records whose version they do not know (RFC 5246 appendix E.1).
    record.extend_from_slice(if version == LegacyVersion::Ssl3 {
        &[3, 0]
    } else {
        &[3, 1]
    });
    push_u16(&mut record, handshake.len() as u16);
    record.extend_from_slice(&handshake);
    record
}

fn push_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// TLS alert descriptions we name in evidence (RFC 5246 section 7.2).
fn alert_name(code: u8) -> &'static str {
    match code {
        0 => "close_notify",
        10 => "unexpected_message",
        40 => "handshake_failure",
        47 => "illegal_parameter",
        50 => "decode_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        112 => "unrecognized_name",
        _ => "other",
    }
}

/// Classifies the first bytes the server sent back. Pure, so every answer shape is tested
/// without a server.
pub fn classify(offered: LegacyVersion, answer: &[u8]) -> LegacyVerdict {
    let Some(header) = answer.get(..5) else {
        return if answer.is_empty() {
            LegacyVerdict::Rejected {
                reason: "connection closed without an answer".into(),
            }
        } else {
            LegacyVerdict::Inconclusive {
                reason: format!(
                    "answer of {} bytes is shorter than a record header",
                    answer.len()
                ),
            }
        };
    };
    let content_type = header[0];
    let body = &answer[5..];
    match content_type {
        21 => {
            let desc = body.get(1).copied();
            LegacyVerdict::Rejected {
                reason: match desc {
                    Some(d) => format!("alert {d} ({})", alert_name(d)),
                    None => "alert (truncated)".into(),
                },
            }
        }
        22 => {
            // Handshake header: type (1), length (3), then ServerHello.server_version (2).
            match (body.first(), body.get(4..6)) {
                (Some(2), Some(v)) => {
                    if v == offered.wire() {
                        // random (32) and session id follow; the cipher suite is after them.
                        let sid_len = body.get(38).copied().unwrap_or(0) as usize;
                        let suite = body
                            .get(39 + sid_len..41 + sid_len)
                            .map(|b| u16::from_be_bytes([b[0], b[1]]))
                            .unwrap_or(0);
                        LegacyVerdict::Accepted {
                            cipher_suite: suite,
                        }
                    } else {
                        LegacyVerdict::Rejected {
                            reason: format!("ServerHello for version {}.{} instead", v[0], v[1]),
                        }
                    }
                }
                (Some(t), _) => LegacyVerdict::Inconclusive {
                    reason: format!("handshake message type {t} instead of ServerHello"),
                },
                (None, _) => LegacyVerdict::Inconclusive {
                    reason: "empty handshake record".into(),
                },
            }
        }
        other => LegacyVerdict::Inconclusive {
            reason: format!("record type {other} is not TLS handshake or alert"),
        },
    }
}

/// Most bytes we read of the answer: one record header plus a ServerHello fits easily.
const MAX_ANSWER: usize = 4096;

/// Sends the hello on an already connected (and, for SMTP, STARTTLS-switched) stream and reads
/// the first record of the answer.
pub async fn probe_stream<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    version: LegacyVersion,
    server_name: Option<&str>,
    timeout: std::time::Duration,
) -> LegacyVerdict {
    let random = pseudo_random();
    let hello = client_hello(version, server_name, random);
    let io = async {
        stream.write_all(&hello).await?;
        stream.flush().await?;
        let mut answer = Vec::with_capacity(128);
        let mut chunk = [0u8; 1024];
        // Read until we have the header and the declared record (or enough of it).
        loop {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            answer.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
            if let Some(h) = answer.get(..5) {
                let want = 5 + u16::from_be_bytes([h[3], h[4]]) as usize;
                if answer.len() >= want.min(64) || answer.len() >= MAX_ANSWER {
                    break;
                }
            }
        }
        Ok::<_, std::io::Error>(answer)
    };
    match tokio::time::timeout(timeout, io).await {
        Err(_) => LegacyVerdict::Inconclusive {
            reason: format!("no answer within {timeout:?}"),
        },
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => LegacyVerdict::Rejected {
            reason: "connection reset".into(),
        },
        Ok(Err(e)) => LegacyVerdict::Inconclusive {
            reason: format!("i/o error: {e}"),
        },
        Ok(Ok(answer)) => classify(version, &answer),
    }
}

/// The ClientHello random need not be secret here (the handshake is never finished), only
/// different between probes; the clock and a counter are enough.
fn pseudo_random() -> [u8; 32] {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut x = nanos ^ COUNTER.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
    let mut out = [0u8; 32];
    for chunk in out.chunks_mut(8) {
        // xorshift64*
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let v = x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_be_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_lengths_are_consistent() {
        for v in LegacyVersion::ALL {
            let h = client_hello(v, Some("mx.example.net"), [7; 32]);
            assert_eq!(h[0], 22);
            let rec_len = u16::from_be_bytes([h[3], h[4]]) as usize;
            assert_eq!(rec_len, h.len() - 5);
            assert_eq!(h[5], 1);
            let hs_len = u32::from_be_bytes([0, h[6], h[7], h[8]]) as usize;
            assert_eq!(hs_len, h.len() - 9);
            assert_eq!(&h[9..11], &v.wire());
        }
    }

    #[test]
    fn no_sni_for_ip_literals() {
        let with = client_hello(LegacyVersion::Tls1_0, Some("mx.example.net"), [0; 32]);
        let without = client_hello(LegacyVersion::Tls1_0, Some("127.0.0.1"), [0; 32]);
        assert_eq!(with.len() - without.len(), 4 + 5 + "mx.example.net".len());
    }

    #[test]
    fn classifies_answers() {
        // ServerHello 3.1, empty session id, suite c013.
        let mut sh = vec![22, 3, 1, 0, 0x2a, 2, 0, 0, 0x26, 3, 1];
        sh.extend_from_slice(&[0; 32]);
        sh.extend_from_slice(&[0, 0xc0, 0x13, 0]);
        assert_eq!(
            classify(LegacyVersion::Tls1_0, &sh),
            LegacyVerdict::Accepted {
                cipher_suite: 0xc013
            }
        );
        assert!(matches!(
            classify(LegacyVersion::Tls1_1, &sh),
            LegacyVerdict::Rejected { .. }
        ));
        let alert = [21, 3, 1, 0, 2, 2, 70];
        assert_eq!(
            classify(LegacyVersion::Tls1_0, &alert),
            LegacyVerdict::Rejected {
                reason: "alert 70 (protocol_version)".into()
            }
        );
        assert!(matches!(
            classify(LegacyVersion::Ssl3, &[]),
            LegacyVerdict::Rejected { .. }
        ));
        assert!(matches!(
            classify(LegacyVersion::Ssl3, b"220 "),
            LegacyVerdict::Inconclusive { .. }
        ));
        assert!(matches!(
            classify(LegacyVersion::Ssl3, b"500 syntax error"),
            LegacyVerdict::Inconclusive { .. }
        ));
        assert!(matches!(
            classify(LegacyVersion::Ssl3, &[22, 3, 0, 0, 1]),
            LegacyVerdict::Inconclusive { .. }
        ));
    }
}
