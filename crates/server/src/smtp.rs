//! The SMTP intake listener for abuse@ (RFC 5321).
//!
//! It is a final destination, never a relay: `RCPT TO` is accepted only for the configured
//! mailboxes (default `abuse`, `postmaster`: RFC 2142 and RFC 5321 §4.5.1) at the configured
//! domains; anything else gets `550 5.7.1`. Messages are bounded (`SIZE`, RFC 1870, enforced
//! while reading), commands time out quickly and only DATA gets the long timeout (RFC 5321
//! §4.5.3.2), sessions are limited in all and per client address (`421` beyond), only
//! `<CR><LF>.<CR><LF>` ends DATA and a bare LF refuses the message, and `250` is only sent
//! after the raw message is durably stored; parsing and case work happen after the reply.
//!
//! STARTTLS (RFC 3207) is offered when a certificate is configured. Accepting it starts the
//! session over inside TLS (a new EHLO is required, the envelope is forgotten) and throws away
//! any plaintext the client pipelined behind the STARTTLS command, so that it cannot be
//! injected into the protected session (CVE-2011-0411).
//!
//! The stored bytes are exactly what the client sent after dot-unstuffing; no `Received:` line
//! is prepended, so that a resend of the same message is recognised by its hash.

use crate::AppState;
use crate::metrics::inc;
use chrono::Utc;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use warden_desk::Channel;

/// Settings of the SMTP listener.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// Our host name in the greeting and replies.
    pub hostname: String,
    /// Domains we take mail for (lower case).
    pub domains: Vec<String>,
    /// Local parts accepted at those domains (lower case).
    pub mailboxes: Vec<String>,
    /// Largest message, in bytes (announced with SIZE).
    pub max_message_bytes: usize,
    /// Most recipients per message.
    pub max_recipients: usize,
    /// Idle time allowed for each command line, from the greeting on (and for the TLS
    /// handshake). Kept short so that idle or slow clients cannot hold sessions that real
    /// reporters need.
    pub command_timeout: Duration,
    /// Idle time allowed per line inside DATA, where a slow link legitimately pauses (RFC 5321
    /// §4.5.3.2.5 suggests 3 minutes). Only a client that has passed MAIL and RCPT gets it.
    pub data_timeout: Duration,
    /// Concurrent sessions in all. When full, a new connection is answered
    /// `421 4.7.0 ... too many connections` and closed at once rather than left waiting, so
    /// the client's MTA retries later and the listener never queues sockets without bound.
    pub max_sessions: usize,
    /// Concurrent sessions per client IP address, so that one host cannot take every slot.
    pub max_sessions_per_ip: usize,
    /// Certificate and key for STARTTLS (RFC 3207); `None`: STARTTLS is neither advertised nor
    /// accepted. Reporters' MTAs then deliver in clear, as they would to any MX without it.
    pub tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            hostname: "localhost".into(),
            domains: vec!["localhost".into()],
            mailboxes: vec!["abuse".into(), "postmaster".into()],
            max_message_bytes: 25 << 20,
            max_recipients: 50,
            command_timeout: Duration::from_secs(30),
            data_timeout: Duration::from_secs(300),
            max_sessions: 256,
            max_sessions_per_ip: 16,
            tls: None,
        }
    }
}

/// The longest command line accepted (RFC 5321 §4.5.3.1.4 says 512; we allow some slack).
const MAX_COMMAND_LINE: usize = 2048;
/// Data is read in pieces of at most this many bytes per line read.
const MAX_DATA_CHUNK: usize = 64 * 1024;

/// Counts sessions per client address; a [`ClientSlot`] gives its place back when dropped.
#[derive(Default)]
struct PerClient {
    open: std::sync::Mutex<HashMap<IpAddr, usize>>,
}

/// One client's session place, held for the life of the session.
struct ClientSlot {
    table: Arc<PerClient>,
    ip: IpAddr,
}

impl PerClient {
    /// Takes a place for `ip` unless it already holds `max`.
    fn claim(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<ClientSlot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(ClientSlot {
            table: self.clone(),
            ip,
        })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Accepts sessions until `shutdown` turns true.
///
/// A connection beyond the total or the per-client limit is answered
/// `421 4.7.0 ... too many connections` and closed (RFC 5321 §3.8): the sending MTA retries
/// later, and the accept loop keeps running, so idle or slow clients cannot make the listener
/// stop answering.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(state.smtp.max_sessions.max(1)));
    let per_client = Arc::new(PerClient::default());
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let permit = slots.clone().try_acquire_owned().ok();
                let slot = permit
                    .is_some()
                    .then(|| per_client.claim(peer.ip(), state.smtp.max_sessions_per_ip.max(1)))
                    .flatten();
                let state = state.clone();
                let (Some(permit), Some(slot)) = (permit, slot) else {
                    inc(&state.metrics.smtp_busy);
                    tokio::spawn(refuse_busy(stream, state));
                    continue;
                };
                tokio::spawn(async move {
                    inc(&state.metrics.smtp_sessions);
                    if let Err(e) = session(stream, state.clone()).await {
                        tracing::debug!(%peer, error = %e, "SMTP session ended with an error");
                    }
                    drop(slot);
                    drop(permit);
                });
            }
        }
    }
}

/// Tells a client over the limits to come back later, then closes.
async fn refuse_busy(mut stream: TcpStream, state: Arc<AppState>) {
    let reply = format!(
        "421 4.7.0 {} too many connections, try again later\r\n",
        state.smtp.hostname
    );
    // Bounded: a client that does not read cannot keep this task alive.
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        stream.write_all(reply.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}

/// Reads one line of at most `max` bytes into `buf`. Returns false at end of stream. A longer
/// line is returned in pieces (no trailing newline on all but the last).
async fn read_piece<R: AsyncRead + Unpin>(
    r: &mut BufReader<R>,
    buf: &mut Vec<u8>,
    max: usize,
    timeout: Duration,
) -> std::io::Result<bool> {
    buf.clear();
    let n = tokio::time::timeout(timeout, (&mut *r).take(max as u64).read_until(b'\n', buf))
        .await
        .map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::TimedOut, "SMTP client idle too long")
        })??;
    Ok(n > 0)
}

fn addr_in(arg: &str) -> Option<String> {
    // `FROM:<a@b> SIZE=10` or `TO: <a@b>`; the empty reverse path `<>` is allowed for MAIL.
    let (_, rest) = arg.split_once(':')?;
    let rest = rest.trim_start();
    let inner = rest.strip_prefix('<')?.split_once('>')?.0;
    // Drop a source route (`@a,@b:user@host`, RFC 5321 §4.1.2) and surrounding spaces.
    let inner = inner.rsplit_once(':').map_or(inner, |(_, a)| a);
    Some(inner.trim().to_owned())
}

fn size_param(arg: &str) -> Option<u64> {
    arg.split_whitespace().find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.eq_ignore_ascii_case("SIZE")
            .then(|| v.parse().ok())
            .flatten()
    })
}

async fn session(stream: TcpStream, state: Arc<AppState>) -> std::io::Result<()> {
    let host = &state.smtp.hostname;
    let mut io = BufReader::new(stream);
    io.write_all(format!("220 {host} ESMTP Warden abuse desk\r\n").as_bytes())
        .await?;
    let Some(io) = dialogue(io, &state, false).await? else {
        return Ok(());
    };
    // STARTTLS accepted: RFC 3207 §4.2, the client MUST NOT pipeline past it, so anything
    // already buffered was sent in clear before the handshake and must not be obeyed inside the
    // TLS session (the command-injection class of CVE-2011-0411). Drop it.
    let discarded = io.buffer().len();
    if discarded > 0 {
        tracing::warn!(
            bytes = discarded,
            "plaintext pipelined after STARTTLS discarded"
        );
        inc(&state.metrics.smtp_starttls_discarded);
    }
    let plain = io.into_inner();
    let Some(tls) = state.smtp.tls.clone() else {
        return Ok(());
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let stream = tokio::time::timeout(state.smtp.command_timeout, acceptor.accept(plain))
        .await
        .map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS handshake too slow")
        })??;
    inc(&state.metrics.smtp_starttls);
    // RFC 3207 §4.2: the session starts over; no greeting, the client must EHLO again.
    dialogue(BufReader::new(stream), &state, true).await?;
    Ok(())
}

/// The command loop. Returns the stream when STARTTLS was accepted (the caller upgrades it);
/// `None` when the session is over.
async fn dialogue<S: AsyncRead + AsyncWrite + Unpin>(
    mut io: BufReader<S>,
    state: &Arc<AppState>,
    tls_active: bool,
) -> std::io::Result<Option<BufReader<S>>> {
    let cfg = &state.smtp;
    let host = &cfg.hostname;
    let offer_tls = cfg.tls.is_some() && !tls_active;
    let mut line = Vec::with_capacity(512);
    let mut greeted = false;
    let mut from: Option<String> = None;
    let mut rcpts: Vec<String> = Vec::new();
    loop {
        match read_piece(&mut io, &mut line, MAX_COMMAND_LINE, cfg.command_timeout).await {
            Ok(true) => {}
            Ok(false) => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                // RFC 5321 §4.5.3.2: say why before closing, so the client's log shows it.
                let bye = format!("421 4.4.2 {host} idle too long, closing connection\r\n");
                let _ = io.write_all(bye.as_bytes()).await;
                let _ = io.flush().await;
                return Ok(None);
            }
            Err(e) => return Err(e),
        }
        if !line.ends_with(b"\n") {
            // Over-long command: swallow the rest of it, then refuse.
            while !line.ends_with(b"\n") {
                if !read_piece(&mut io, &mut line, MAX_COMMAND_LINE, cfg.command_timeout).await? {
                    return Ok(None);
                }
            }
            io.write_all(b"500 5.5.2 Line too long\r\n").await?;
            continue;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        let (verb, arg) = text.split_once(' ').unwrap_or((text, ""));
        let reply: String = match verb.to_ascii_uppercase().as_str() {
            "EHLO" | "HELO" if arg.trim().is_empty() => "501 5.5.4 Say who you are\r\n".into(),
            "EHLO" => {
                greeted = true;
                from = None;
                rcpts.clear();
                let starttls = if offer_tls { "250-STARTTLS\r\n" } else { "" };
                format!("250-{host} greets {}\r\n250-SIZE {}\r\n250-8BITMIME\r\n{starttls}250 ENHANCEDSTATUSCODES\r\n", arg.trim(), cfg.max_message_bytes)
            }
            "HELO" => {
                greeted = true;
                from = None;
                rcpts.clear();
                format!("250 {host}\r\n")
            }
            "STARTTLS" if tls_active => "503 5.5.1 TLS already active\r\n".into(),
            "STARTTLS" if !offer_tls => "502 5.5.1 STARTTLS not configured here\r\n".into(),
            "STARTTLS" if !arg.trim().is_empty() => "501 5.5.4 STARTTLS takes no parameters\r\n".into(),
            "STARTTLS" if !greeted => "503 5.5.1 Send EHLO first\r\n".into(),
            "STARTTLS" => {
                io.write_all(b"220 2.0.0 Ready to start TLS\r\n").await?;
                io.flush().await?;
                return Ok(Some(io));
            }
            "MAIL" if !greeted => "503 5.5.1 Send EHLO first\r\n".into(),
            "MAIL" if from.is_some() => "503 5.5.1 Nested MAIL command\r\n".into(),
            "MAIL" => match addr_in(arg) {
                None => "501 5.5.4 Syntax: MAIL FROM:<address>\r\n".into(),
                Some(_) if size_param(arg).is_some_and(|s| s > cfg.max_message_bytes as u64) => {
                    inc(&state.metrics.smtp_too_large);
                    format!("552 5.3.4 Message size exceeds the limit of {} bytes\r\n", cfg.max_message_bytes)
                }
                Some(a) => {
                    from = Some(a);
                    "250 2.1.0 Sender OK\r\n".into()
                }
            },
            "RCPT" if from.is_none() => "503 5.5.1 Send MAIL first\r\n".into(),
            "RCPT" => match addr_in(arg) {
                None => "501 5.5.4 Syntax: RCPT TO:<address>\r\n".into(),
                Some(_) if rcpts.len() >= cfg.max_recipients => "452 4.5.3 Too many recipients\r\n".into(),
                Some(a) => {
                    let (local, domain) = a.rsplit_once('@').unwrap_or((a.as_str(), ""));
                    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
                    let local = local.to_ascii_lowercase();
                    let base = local.split('+').next().unwrap_or("");
                    if !cfg.domains.contains(&domain) {
                        inc(&state.metrics.smtp_rcpt_refused);
                        "550 5.7.1 Relaying denied: this server only takes reports for its own abuse mailboxes\r\n".into()
                    } else if !cfg.mailboxes.iter().any(|m| m == base) {
                        inc(&state.metrics.smtp_rcpt_refused);
                        "550 5.1.1 No such mailbox here\r\n".into()
                    } else {
                        rcpts.push(a);
                        "250 2.1.5 Recipient OK\r\n".into()
                    }
                }
            },
            "DATA" if from.is_none() => "503 5.5.1 Send MAIL first\r\n".into(),
            "DATA" if rcpts.is_empty() => "554 5.5.1 No valid recipients\r\n".into(),
            "DATA" => {
                io.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                io.flush().await?;
                let reply = receive_data(&mut io, &mut line, state, from.as_deref()).await?;
                from = None;
                rcpts.clear();
                reply
            }
            "RSET" => {
                from = None;
                rcpts.clear();
                "250 2.0.0 OK\r\n".into()
            }
            "NOOP" => "250 2.0.0 OK\r\n".into(),
            "VRFY" => "252 2.5.2 Cannot VRFY; send mail and it will be delivered if the mailbox exists\r\n".into(),
            "QUIT" => {
                io.write_all(format!("221 2.0.0 {host} closing\r\n").as_bytes()).await?;
                io.flush().await?;
                return Ok(None);
            }
            "AUTH" | "ETRN" | "TURN" | "BDAT" => "502 5.5.1 Command not implemented\r\n".into(),
            _ => "500 5.5.2 Command unrecognised\r\n".into(),
        };
        io.write_all(reply.as_bytes()).await?;
        io.flush().await?;
    }
}

/// Reads the message up to the lone dot, stores it durably and returns the reply line.
///
/// Only `<CR><LF>.<CR><LF>` ends the data (RFC 5321 §4.1.1.4). A line ended by a bare LF is
/// never a line boundary for the end-of-data or dot-unstuffing rules, so `\n.\r\n`,
/// `\r\n.\n` and `\n.\n` cannot end DATA and the bytes behind them cannot run as a second,
/// spoofed transaction (SMTP smuggling, CVE-2023-51764 class).
///
/// Decision: a message holding any bare LF is *refused*, not normalised, as Postfix does with
/// `smtpd_forbid_bare_newline = yes`. The data is read to its real end and answered
/// `550 5.5.2 bare <LF> received`; nothing is stored. Refusing keeps the rule "the stored bytes
/// are exactly what the client sent", so a resend is still recognised by its hash, and every
/// conforming MTA sends CRLF, so only broken or hostile clients are turned away.
async fn receive_data<R: AsyncRead + Unpin>(
    rd: &mut BufReader<R>,
    line: &mut Vec<u8>,
    state: &Arc<AppState>,
    from: Option<&str>,
) -> std::io::Result<String> {
    let cfg = &state.smtp;
    let mut msg: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut too_big = false;
    let mut bare_lf = false;
    // True after a CRLF (and at the start): the only place a lone dot or a stuffed dot counts.
    let mut at_line_start = true;
    // Whether the previous piece ended in CR, for a CRLF split across two pieces.
    let mut prev_cr = false;
    loop {
        if !read_piece(rd, line, MAX_DATA_CHUNK, cfg.data_timeout).await? {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed during DATA",
            ));
        }
        let complete = line.ends_with(b"\n");
        let crlf = line.ends_with(b"\r\n") || (line.as_slice() == b"\n" && prev_cr);
        if complete && !crlf && !bare_lf {
            bare_lf = true;
            msg = Vec::new();
        }
        if at_line_start && line.as_slice() == b".\r\n" {
            break;
        }
        // RFC 5321 §4.5.2: a leading dot on a data line was doubled by the client.
        let piece: &[u8] = if at_line_start && line.first() == Some(&b'.') {
            line.get(1..).unwrap_or_default()
        } else {
            line
        };
        if !too_big && !bare_lf {
            if msg.len() + piece.len() > cfg.max_message_bytes {
                too_big = true;
                msg = Vec::new();
            } else {
                msg.extend_from_slice(piece);
            }
        }
        prev_cr = line.ends_with(b"\r");
        at_line_start = crlf;
    }
    if bare_lf {
        inc(&state.metrics.smtp_bare_lf);
        return Ok("550 5.5.2 bare <LF> received: lines must end with <CR><LF> (RFC 5321 §2.3.8); message not stored\r\n".into());
    }
    if too_big {
        inc(&state.metrics.smtp_too_large);
        return Ok(format!(
            "552 5.3.4 Message size exceeds the limit of {} bytes\r\n",
            cfg.max_message_bytes
        ));
    }
    let now = Utc::now();
    match state.desk.submit(msg, Channel::Smtp, from, now).await {
        Ok(submitted) => {
            let (id, new) = (submitted.id.clone(), submitted.new);
            inc(&state.metrics.reports_smtp);
            if !new {
                inc(&state.metrics.reports_duplicate);
            }
            // Durable now: reply first; the desk's intake writer parses and files the events in
            // its next batch. A crash before that finishes is repaired by recovery at start.
            let desk = state.desk.clone();
            let st = state.clone();
            let id2 = id.clone();
            tokio::spawn(async move {
                match submitted.processed().await {
                    Ok(()) => {
                        if let Ok(r) = desk.receipt(&id2).await {
                            crate::count_receipt(&st.metrics, &r);
                        }
                    }
                    Err(e) => {
                        tracing::error!(report = %id2, error = %e, "processing an SMTP report failed; recovery will retry")
                    }
                }
            });
            Ok(format!("250 2.0.0 Stored as report {id}\r\n"))
        }
        Err(warden_desk::DeskError::Invalid { reason, .. }) => {
            Ok(format!("554 5.6.0 {reason}\r\n"))
        }
        Err(e) => {
            tracing::error!(error = %e, "could not store an SMTP report");
            Ok("451 4.3.0 Temporary failure storing the message, try again later\r\n".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_size() {
        assert_eq!(
            addr_in("FROM:<a@b.example> SIZE=10").as_deref(),
            Some("a@b.example")
        );
        assert_eq!(
            addr_in("TO: <abuse@isp.example>").as_deref(),
            Some("abuse@isp.example")
        );
        assert_eq!(addr_in("FROM:<>").as_deref(), Some(""));
        assert_eq!(
            addr_in("TO:<@relay.example:abuse@isp.example>").as_deref(),
            Some("abuse@isp.example")
        );
        assert_eq!(addr_in("TO:abuse@isp.example"), None);
        assert_eq!(size_param("FROM:<a@b> BODY=8BITMIME size=1234"), Some(1234));
        assert_eq!(size_param("FROM:<a@b>"), None);
    }
}
