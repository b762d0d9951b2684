//! The SMTP/TLS side of the mail security audit (M3AAWG TLS for Mail, RFC 3207, RFC 8314,
//! RFC 8996): one [`probe`] of one server gives an [`SmtpProbe`], a plain record of what the
//! server said and did; [`findings`] turns that record into [`crate::Finding`]s. Keeping the
//! two apart means the judgement is pure and tested without sockets, and the record can be
//! stored, rendered as JSON or matched against DANE TLSA records later (the chain's DER is kept).
//!
//! One probe opens one SMTP session (banner, EHLO, STARTTLS, TLS handshake with rustls, EHLO
//! again, optional RCPT checks of role addresses) plus one short connection per legacy protocol
//! (SSLv3, TLS 1.0, TLS 1.1) with a hand-built ClientHello, since rustls cannot speak them.

pub mod certificate;
pub mod dialogue;
mod findings;
pub mod legacy;
mod mx;
mod roles;
pub mod tls;

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;

pub use certificate::CertificateInfo;
pub use dialogue::Reply;
pub use findings::findings;
pub use legacy::{LegacyVerdict, LegacyVersion};
pub use mx::MxProber;
pub use roles::RoleCheck;
pub use tls::{TlsSession, TrustAnchors, Validation};

use dialogue::SmtpClient;

/// How TLS starts on the port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// Plain-text SMTP, then STARTTLS (RFC 3207): ports 25 and 587.
    #[default]
    StartTls,
    /// TLS from the first byte (RFC 8314 section 3): 465 (SMTP), 993 (IMAP), 995 (POP3).
    Implicit,
}

/// How to probe. `Default` suits an MX on port 25.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// STARTTLS or implicit TLS.
    pub mode: TlsMode,
    /// Name we give in EHLO. RFC 5321 section 4.1.1.1 wants our FQDN; servers rarely check.
    pub ehlo_name: String,
    /// Name the certificate must carry; defaults to the host probed (the MX name, RFC 7817
    /// section 3 / RFC 7672 section 3.2.2 for DANE).
    pub server_name: Option<String>,
    /// Timeout of each step (connect, each reply, the handshake).
    pub step_timeout: Duration,
    /// Whose CAs count as trusted.
    pub trust: TrustAnchors,
    /// Also probe SSLv3, TLS 1.0 and TLS 1.1 on separate connections.
    pub legacy_protocols: bool,
    /// When set, ask RCPT TO for postmaster@ and abuse@ this domain (RFC 5321 section 4.5.1,
    /// RFC 2142). Opt-in: it is a visible probe in the server's logs.
    pub role_domain: Option<String>,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        Self {
            mode: TlsMode::StartTls,
            ehlo_name: "warden-probe.localdomain".into(),
            server_name: None,
            step_timeout: Duration::from_secs(10),
            trust: TrustAnchors::WebPkiRoots,
            legacy_protocols: true,
            role_domain: None,
        }
    }
}

/// Input that makes a probe impossible to start.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The host is not a name or address we can dial.
    #[error("host {host:?}: {reason}")]
    InvalidHost {
        /// The host as given.
        host: String,
        /// Why it cannot be used.
        reason: String,
    },
}

/// Outcome of one legacy-protocol hello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyResult {
    /// The version offered.
    pub version: LegacyVersion,
    /// What the server did.
    #[serde(flatten)]
    pub verdict: LegacyVerdict,
}

/// Everything one probe saw. Fields are `None` when the probe did not get that far.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmtpProbe {
    /// Host as given (name or address).
    pub host: String,
    /// Address actually dialled.
    pub address: String,
    /// TCP port.
    pub port: u16,
    /// STARTTLS or implicit.
    pub mode: TlsMode,
    /// Name the certificate was checked against.
    pub server_name: String,
    /// Unix time of the probe; certificate dates are judged against it.
    pub checked_at: i64,
    /// Wall-clock time the whole probe took.
    pub elapsed_ms: u64,
    /// Set when the TCP connection failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_error: Option<String>,
    /// The SMTP greeting (RFC 5321 section 4.3.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub banner: Option<Reply>,
    /// First line of a non-SMTP service on an implicit-TLS port (IMAP `* OK`, POP3 `+OK`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_greeting: Option<String>,
    /// EHLO reply before TLS (STARTTLS mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ehlo: Option<Reply>,
    /// A failure in the plain-text dialogue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialogue_error: Option<String>,
    /// EHLO listed STARTTLS.
    pub starttls_offered: bool,
    /// Reply to the STARTTLS command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starttls_reply: Option<Reply>,
    /// The negotiated session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSession>,
    /// Why the handshake failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_error: Option<String>,
    /// The chain as sent, end-entity first, analysed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<CertificateInfo>,
    /// Certificates of the chain that could not be parsed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificate_errors: Vec<String>,
    /// The chain's DER, end-entity first, for DANE TLSA matching (RFC 7671 section 5).
    #[serde(skip)]
    pub chain_der: Vec<Vec<u8>>,
    /// PKIX validation against the configured trust anchors and `server_name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Validation>,
    /// EHLO reply inside TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ehlo_after_tls: Option<Reply>,
    /// Legacy protocol verdicts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub legacy: Vec<LegacyResult>,
    /// Role-address RCPT checks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<RoleCheck>,
}

impl SmtpProbe {
    fn new(host: &str, addr: SocketAddr, options: &ProbeOptions, server_name: &str) -> Self {
        Self {
            host: host.to_owned(),
            address: addr.ip().to_string(),
            port: addr.port(),
            mode: options.mode,
            server_name: server_name.to_owned(),
            checked_at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
            elapsed_ms: 0,
            connect_error: None,
            banner: None,
            service_greeting: None,
            ehlo: None,
            dialogue_error: None,
            starttls_offered: false,
            starttls_reply: None,
            tls: None,
            tls_error: None,
            certificates: Vec::new(),
            certificate_errors: Vec::new(),
            chain_der: Vec::new(),
            validation: None,
            ehlo_after_tls: None,
            legacy: Vec::new(),
            roles: Vec::new(),
        }
    }

    /// EHLO keywords before TLS (upper-cased).
    pub fn keywords_before_tls(&self) -> Vec<String> {
        self.ehlo
            .as_ref()
            .map(Reply::ehlo_keywords)
            .unwrap_or_default()
    }

    /// True when the service on an implicit-TLS port speaks SMTP (465) rather than IMAP/POP3.
    fn implicit_is_smtp(port: u16) -> bool {
        !matches!(port, 993 | 995 | 143 | 110)
    }
}

/// Probes `host:port`, resolving the name with the system resolver. The domain audit, which
/// has its own resolver layer, calls [`probe_addr`] with the addresses it found instead.
pub async fn probe(host: &str, port: u16, options: &ProbeOptions) -> Result<SmtpProbe, ProbeError> {
    let host_clean = host.trim_end_matches('.');
    if host_clean.is_empty() || host_clean.len() > 253 || host_clean.contains(char::is_whitespace) {
        return Err(ProbeError::InvalidHost {
            host: host.to_owned(),
            reason: "empty, too long or contains spaces".into(),
        });
    }
    let lookup = tokio::time::timeout(
        options.step_timeout,
        tokio::net::lookup_host((host_clean, port)),
    )
    .await
    .map_err(|_| ProbeError::InvalidHost {
        host: host.to_owned(),
        reason: format!("name lookup timed out after {:?}", options.step_timeout),
    })?
    .map_err(|e| ProbeError::InvalidHost {
        host: host.to_owned(),
        reason: format!("name lookup failed: {e}"),
    })?;
    let addrs: Vec<SocketAddr> = lookup.collect();
    let Some(addr) = addrs.first().copied() else {
        return Err(ProbeError::InvalidHost {
            host: host.to_owned(),
            reason: "name has no address".into(),
        });
    };
    Ok(probe_addr(host_clean, addr, options).await)
}

/// Probes one address; `host` is the name the certificate must carry (unless
/// `options.server_name` says otherwise). Never fails: what went wrong is in the record.
pub async fn probe_addr(host: &str, addr: SocketAddr, options: &ProbeOptions) -> SmtpProbe {
    let started = Instant::now();
    let server_name = options
        .server_name
        .clone()
        .unwrap_or_else(|| host.trim_end_matches('.').to_owned());
    let mut record = SmtpProbe::new(host, addr, options, &server_name);
    let main = main_session(&mut record, addr, options, &server_name);
    let legacy = async {
        if options.legacy_protocols {
            let (a, b, c) = tokio::join!(
                legacy_one(addr, LegacyVersion::Ssl3, options, &server_name),
                legacy_one(addr, LegacyVersion::Tls1_0, options, &server_name),
                legacy_one(addr, LegacyVersion::Tls1_1, options, &server_name),
            );
            vec![a, b, c]
        } else {
            Vec::new()
        }
    };
    let ((), legacy) = tokio::join!(main, legacy);
    // A legacy result is meaningless when TLS is not available at all.
    if record.connect_error.is_none()
        && (record.starttls_offered || options.mode == TlsMode::Implicit)
    {
        record.legacy = legacy;
    }
    record.elapsed_ms = started.elapsed().as_millis() as u64;
    record
}

async fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, String> {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Err(_) => Err(format!("connection to {addr} timed out after {timeout:?}")),
        Ok(Err(e)) => Err(format!("connection to {addr} failed: {e}")),
        Ok(Ok(s)) => {
            let _ = s.set_nodelay(true);
            Ok(s)
        }
    }
}

async fn main_session(
    record: &mut SmtpProbe,
    addr: SocketAddr,
    options: &ProbeOptions,
    server_name: &str,
) {
    let tcp = match connect(addr, options.step_timeout).await {
        Ok(s) => s,
        Err(e) => {
            record.connect_error = Some(e);
            return;
        }
    };
    let t = options.step_timeout;
    let tcp = match options.mode {
        TlsMode::Implicit => tcp,
        TlsMode::StartTls => {
            let mut client = SmtpClient::new(tcp, t);
            match plain_dialogue(record, &mut client, options).await {
                Ok(true) => {}
                Ok(false) => {
                    // No STARTTLS: still check the role addresses in clear text.
                    if let Some(domain) = &options.role_domain {
                        record.roles = roles::check(&mut client, domain).await;
                    }
                    client.quit().await;
                    return;
                }
                Err(e) => {
                    record.dialogue_error = Some(e.to_string());
                    return;
                }
            }
            match client.into_inner() {
                Ok(s) => s,
                Err(e) => {
                    record.dialogue_error = Some(e.to_string());
                    return;
                }
            }
        }
    };
    let (result, seen) = tls::handshake(tcp, server_name, &options.trust, t).await;
    for (i, der) in seen.chain.iter().enumerate() {
        match certificate::analyse(der.as_ref(), i) {
            Ok(info) => record.certificates.push(info),
            Err(e) => record.certificate_errors.push(e.to_string()),
        }
    }
    record.chain_der = seen.chain.iter().map(|c| c.as_ref().to_vec()).collect();
    record.validation = seen.validation;
    let stream = match result {
        Ok((session, stream)) => {
            record.tls = Some(session);
            stream
        }
        Err(e) => {
            record.tls_error = Some(e);
            return;
        }
    };
    let mut client = SmtpClient::new(stream, t);
    if options.mode == TlsMode::Implicit && !SmtpProbe::implicit_is_smtp(addr.port()) {
        match client.read_line("greeting").await {
            Ok(line) => record.service_greeting = Some(line.trim_end().to_owned()),
            Err(e) => record.dialogue_error = Some(e.to_string()),
        }
        return;
    }
    if options.mode == TlsMode::Implicit {
        match client.read_reply("banner").await {
            Ok(r) => record.banner = Some(r),
            Err(e) => {
                record.dialogue_error = Some(e.to_string());
                return;
            }
        }
    }
    // RFC 3207 section 4.2: after TLS the client forgets what it knew and says EHLO again.
    match client
        .command(&format!("EHLO {}", options.ehlo_name), "EHLO after TLS")
        .await
    {
        Ok(r) => record.ehlo_after_tls = Some(r),
        Err(e) => {
            record.dialogue_error = Some(e.to_string());
            return;
        }
    }
    if let Some(domain) = &options.role_domain {
        record.roles = roles::check(&mut client, domain).await;
    }
    client.quit().await;
}

/// Banner, EHLO, STARTTLS. Ok(true) when the server said 220 to STARTTLS.
async fn plain_dialogue(
    record: &mut SmtpProbe,
    client: &mut SmtpClient<TcpStream>,
    options: &ProbeOptions,
) -> Result<bool, dialogue::DialogueError> {
    let banner = client.read_reply("banner").await?;
    let ok = banner.code == 220;
    record.banner = Some(banner);
    if !ok {
        return Ok(false);
    }
    let ehlo = client
        .command(&format!("EHLO {}", options.ehlo_name), "EHLO")
        .await?;
    record.starttls_offered = ehlo.is_positive()
        && ehlo
            .ehlo_keywords()
            .iter()
            .any(|k| k.eq_ignore_ascii_case("STARTTLS"));
    record.ehlo = Some(ehlo);
    if !record.starttls_offered {
        return Ok(false);
    }
    let reply = client.command("STARTTLS", "STARTTLS").await?;
    let go = reply.code == 220;
    record.starttls_reply = Some(reply);
    Ok(go)
}

/// One legacy hello on its own connection (after STARTTLS when that is the mode).
async fn legacy_one(
    addr: SocketAddr,
    version: LegacyVersion,
    options: &ProbeOptions,
    server_name: &str,
) -> LegacyResult {
    let inconclusive = |reason: String| LegacyResult {
        version,
        verdict: LegacyVerdict::Inconclusive { reason },
    };
    let t = options.step_timeout;
    let tcp = match connect(addr, t).await {
        Ok(s) => s,
        Err(e) => return inconclusive(e),
    };
    let mut tcp = match options.mode {
        TlsMode::Implicit => tcp,
        TlsMode::StartTls => {
            let mut client = SmtpClient::new(tcp, t);
            let steps = async {
                let banner = client.read_reply("banner").await?;
                if banner.code != 220 {
                    return Ok::<_, dialogue::DialogueError>(Some(format!(
                        "banner {}",
                        banner.text()
                    )));
                }
                let ehlo = client
                    .command(&format!("EHLO {}", options.ehlo_name), "EHLO")
                    .await?;
                if !ehlo.is_positive() {
                    return Ok(Some(format!("EHLO refused: {}", ehlo.text())));
                }
                let st = client.command("STARTTLS", "STARTTLS").await?;
                if st.code != 220 {
                    return Ok(Some(format!("STARTTLS refused: {}", st.text())));
                }
                Ok(None)
            };
            match steps.await {
                Err(e) => return inconclusive(e.to_string()),
                Ok(Some(reason)) => return inconclusive(reason),
                Ok(None) => {}
            }
            match client.into_inner() {
                Ok(s) => s,
                Err(e) => return inconclusive(e.to_string()),
            }
        }
    };
    let verdict = legacy::probe_stream(&mut tcp, version, Some(server_name), t).await;
    LegacyResult { version, verdict }
}
