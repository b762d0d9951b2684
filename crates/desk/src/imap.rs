//! IMAP import: reports waiting in an IMAP mailbox (the abuse@ mailbox at a mail provider, or
//! a shared folder) go through the same intake as every other channel: stored content-addressed
//! before anything else, resends recognised, unreadable ones quarantined.
//!
//! A message is marked on the server only once its raw bytes are durable here: it gets the
//! keyword [`IMPORTED_KEYWORD`] and `\Seen`, or is moved to a folder (`MOVE`, RFC 6851) when
//! one is configured. A run that dies half-way leaves the rest unmarked; the next run takes them
//! again, and resends of what was already stored are recognised by hash. Messages are fetched
//! with `BODY.PEEK[]` so that reading does not set `\Seen` on its own.
//!
//! Transport: implicit TLS (port 993), STARTTLS (RFC 3501 §6.2.1, port 143), or clear text,
//! which is only for tests on loopback. TLS is rustls with the Mozilla roots plus an optional
//! CA file, as for webhooks. The client is async-imap.

use crate::error::{DeskError, Result};
use crate::intake::{Channel, Desk, ReportStatus};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use serde::Serialize;
use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::rustls;

/// The keyword set on imported messages (when they are not moved).
pub const IMPORTED_KEYWORD: &str = "warden-imported";

/// How to protect the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImapSecurity {
    /// TLS from the first byte (IMAPS, port 993).
    Tls,
    /// Plain connection upgraded with STARTTLS before logging in.
    Starttls,
    /// No TLS at all: the password crosses the network in clear. Tests on loopback only.
    PlainForTesting,
}

/// Where to fetch from.
#[derive(Clone)]
pub struct ImapSource {
    /// Server host name (also the name its certificate must carry).
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Login name.
    pub user: String,
    /// Password (read from a file by the CLI, never from the command line).
    pub password: String,
    /// Mailbox to read, e.g. `INBOX`.
    pub mailbox: String,
    /// Transport protection.
    pub security: ImapSecurity,
    /// Extra PEM CA certificates to trust besides the public roots.
    pub ca_file: Option<PathBuf>,
    /// Move imported messages to this mailbox instead of flagging them in place.
    pub move_to: Option<String>,
    /// Time allowed for connecting and for each command.
    pub timeout: Duration,
}

impl Debug for ImapSource {
    /// Without the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapSource")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("mailbox", &self.mailbox)
            .field("security", &self.security)
            .field("move_to", &self.move_to)
            .finish_non_exhaustive()
    }
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImapSummary {
    /// Messages not yet imported that were found in the mailbox.
    pub messages: usize,
    /// New reports processed into cases.
    pub processed: usize,
    /// New reports quarantined.
    pub quarantined: usize,
    /// Messages already received before (resends, or a run interrupted before marking).
    pub duplicates: usize,
    /// Messages refused (too large, empty) and left unmarked on the server.
    pub refused: usize,
}

fn imap_err(src: &ImapSource, what: &str) -> impl Fn(String) -> DeskError {
    let recipient = format!(
        "imap://{}@{}:{}/{}",
        src.user, src.host, src.port, src.mailbox
    );
    let what = what.to_owned();
    move |reason| DeskError::Fetch {
        source_name: recipient.clone(),
        reason: format!("{what}: {reason}"),
    }
}

fn tls_config(src: &ImapSource) -> Result<Arc<rustls::ClientConfig>> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(f) = &src.ca_file {
        let pem = std::fs::read(f).map_err(DeskError::io(f))?;
        let name = f.display().to_string();
        let mut added = 0;
        for c in CertificateDer::pem_slice_iter(&pem) {
            let c = c.map_err(|e| DeskError::invalid(name.clone(), e.to_string()))?;
            roots
                .add(c)
                .map_err(|e| DeskError::invalid(name.clone(), e.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(DeskError::invalid(name, "no CERTIFICATE block in the file"));
        }
    }
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| DeskError::invalid("IMAP TLS", e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(cfg))
}

async fn within<T, E: std::fmt::Display>(
    src: &ImapSource,
    what: &str,
    f: impl std::future::Future<Output = std::result::Result<T, E>>,
) -> Result<T> {
    let err = imap_err(src, what);
    tokio::time::timeout(src.timeout, f)
        .await
        .map_err(|_| err(format!("no answer within {:?}", src.timeout)))?
        .map_err(|e| err(e.to_string()))
}

async fn upgrade(
    src: &ImapSource,
    tcp: tokio::net::TcpStream,
) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let name = rustls::pki_types::ServerName::try_from(src.host.clone())
        .map_err(|e| DeskError::invalid("IMAP server name", e.to_string()))?;
    let connector = tokio_rustls::TlsConnector::from(tls_config(src)?);
    within(src, "TLS handshake", connector.connect(name, tcp)).await
}

/// Imports every message of `src.mailbox` not imported before.
pub async fn import(desk: &Desk, src: &ImapSource, now: DateTime<Utc>) -> Result<ImapSummary> {
    let tcp = within(
        src,
        "connect",
        tokio::net::TcpStream::connect((src.host.as_str(), src.port)),
    )
    .await?;
    match src.security {
        ImapSecurity::Tls => {
            let tls = upgrade(src, tcp).await?;
            let mut client = async_imap::Client::new(tls);
            greeting(src, &mut client).await?;
            session(desk, src, client, now).await
        }
        ImapSecurity::Starttls => {
            let mut client = async_imap::Client::new(tcp);
            greeting(src, &mut client).await?;
            within(
                src,
                "STARTTLS",
                client.run_command_and_check_ok("STARTTLS", None),
            )
            .await?;
            // Anything the server sent after its OK would be plaintext injected into the TLS
            // session; async-imap has read only up to the tagged OK, and the new client starts
            // with an empty buffer.
            let tls = upgrade(src, client.into_inner()).await?;
            session(desk, src, async_imap::Client::new(tls), now).await
        }
        ImapSecurity::PlainForTesting => {
            let mut client = async_imap::Client::new(tcp);
            greeting(src, &mut client).await?;
            session(desk, src, client, now).await
        }
    }
}

async fn greeting<S>(src: &ImapSource, client: &mut async_imap::Client<S>) -> Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Debug + Send,
{
    match within(src, "greeting", client.read_response()).await? {
        Some(_) => Ok(()),
        None => Err(imap_err(src, "greeting")(
            "connection closed before the greeting".into(),
        )),
    }
}

async fn session<S>(
    desk: &Desk,
    src: &ImapSource,
    client: async_imap::Client<S>,
    now: DateTime<Utc>,
) -> Result<ImapSummary>
where
    S: AsyncRead + AsyncWrite + Unpin + Debug + Send,
{
    let mut s = tokio::time::timeout(src.timeout, client.login(&src.user, &src.password))
        .await
        .map_err(|_| imap_err(src, "LOGIN")("no answer".into()))?
        .map_err(|(e, _)| imap_err(src, "LOGIN")(e.to_string()))?;
    within(src, "SELECT", s.select(&src.mailbox)).await?;
    let query = format!("NOT KEYWORD {IMPORTED_KEYWORD}");
    let mut uids: Vec<u32> = within(src, "UID SEARCH", s.uid_search(&query))
        .await?
        .into_iter()
        .collect();
    uids.sort_unstable();
    let mut sum = ImapSummary {
        messages: uids.len(),
        ..ImapSummary::default()
    };
    let limit = desk.max_report_bytes();
    for uid in uids {
        // Size first, so an oversized message is never downloaded.
        let sizes: Vec<async_imap::types::Fetch> = within(src, "UID FETCH RFC822.SIZE", async {
            s.uid_fetch(uid.to_string(), "RFC822.SIZE")
                .await?
                .try_collect()
                .await
        })
        .await?;
        let size = sizes.iter().find_map(|f| f.size).unwrap_or(0) as usize;
        if sizes.is_empty() {
            continue; // expunged meanwhile
        }
        if size > limit {
            tracing::warn!(
                uid,
                size,
                limit,
                "IMAP message over the size limit, left unmarked"
            );
            sum.refused += 1;
            continue;
        }
        let fetched: Vec<async_imap::types::Fetch> = within(src, "UID FETCH BODY.PEEK[]", async {
            s.uid_fetch(uid.to_string(), "BODY.PEEK[]")
                .await?
                .try_collect()
                .await
        })
        .await?;
        let Some(bytes) = fetched.iter().find_map(|f| f.body()).map(<[u8]>::to_vec) else {
            continue;
        };
        match desk.ingest(bytes, Channel::Imap, None, now).await {
            Ok(r) if r.duplicate => sum.duplicates += 1,
            Ok(r) if r.status == ReportStatus::Quarantined => sum.quarantined += 1,
            Ok(_) => sum.processed += 1,
            Err(e @ (DeskError::TooLarge { .. } | DeskError::Invalid { .. })) => {
                tracing::warn!(uid, error = %e, "IMAP message refused, left unmarked");
                sum.refused += 1;
                continue;
            }
            Err(e) => return Err(e),
        }
        // Durable (and processed): only now may the server forget about it.
        match &src.move_to {
            Some(folder) => within(src, "UID MOVE", s.uid_mv(uid.to_string(), folder)).await?,
            None => {
                let flags = format!("+FLAGS.SILENT (\\Seen {IMPORTED_KEYWORD})");
                within(src, "UID STORE", async {
                    s.uid_store(uid.to_string(), &flags)
                        .await?
                        .try_collect::<Vec<_>>()
                        .await
                })
                .await?;
            }
        }
    }
    within(src, "LOGOUT", s.logout()).await?;
    Ok(sum)
}
