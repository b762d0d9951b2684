//! Delivery of the outbox: customer notices (batched per recipient), reporter acknowledgements,
//! requests for missing details, and signed webhooks.
//!
//! Mail text comes from operator-editable templates ([`Templates`]); the transports are traits
//! ([`Mailer`], [`WebhookSender`]) so tests and other deployments can swap them. The SMTP
//! transport is lettre; webhooks are signed with HMAC-SHA256 over `timestamp.body` (the scheme
//! Stripe and GitHub popularised) so a receiver can check origin and freshness.

use crate::cases::{self, CaseAction};
use crate::error::{DeskError, Result};
use crate::inventory;
use crate::outbox::{self, OutboxItem, OutboxKind};
use crate::policy::Policy;
use crate::store::Store;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;

/// A boxed future (object-safe traits).
pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// One mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Envelope and header From.
    pub from: String,
    /// Recipient.
    pub to: String,
    /// Subject line (one line).
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// Something that sends mail.
pub trait Mailer: Send + Sync {
    /// Sends `mail`; an error leaves the outbox rows for a retry.
    fn send<'a>(&'a self, mail: &'a OutgoingMail) -> BoxFut<'a, ()>;
}

/// Something that posts webhooks.
pub trait WebhookSender: Send + Sync {
    /// POSTs `body` to `url` with the given extra headers.
    fn post<'a>(
        &'a self,
        url: &'a str,
        body: &'a str,
        headers: &'a [(String, String)],
    ) -> BoxFut<'a, ()>;
}

/// Mail over SMTP through a relay (lettre).
#[derive(Clone)]
pub struct SmtpMailer {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
}

impl SmtpMailer {
    /// A relay at `host:port`. `starttls` requires STARTTLS (RFC 3207); without it the relay is
    /// spoken to in clear, which is only right on loopback or a trusted segment.
    pub fn new(host: &str, port: u16, starttls: bool) -> Result<Self> {
        let builder = if starttls {
            lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::starttls_relay(host)
                .map_err(|e| DeskError::invalid(format!("SMTP relay {host:?}"), e.to_string()))?
        } else {
            lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(host)
        };
        Ok(Self {
            transport: builder
                .port(port)
                .timeout(Some(std::time::Duration::from_secs(30)))
                .build(),
        })
    }
}

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect()
}

impl Mailer for SmtpMailer {
    fn send<'a>(&'a self, mail: &'a OutgoingMail) -> BoxFut<'a, ()> {
        Box::pin(async move {
            use lettre::AsyncTransport;
            let fail = |reason: String| DeskError::Delivery {
                recipient: mail.to.clone(),
                reason,
            };
            let msg = lettre::Message::builder()
                .from(
                    mail.from
                        .parse()
                        .map_err(|e: lettre::address::AddressError| {
                            fail(format!("From {:?}: {e}", mail.from))
                        })?,
                )
                .to(mail
                    .to
                    .parse()
                    .map_err(|e: lettre::address::AddressError| fail(format!("To: {e}")))?)
                .subject(one_line(&mail.subject))
                .header(lettre::message::header::ContentType::TEXT_PLAIN)
                .body(mail.body.clone())
                .map_err(|e| fail(e.to_string()))?;
            self.transport
                .send(msg)
                .await
                .map_err(|e| fail(e.to_string()))?;
            Ok(())
        })
    }
}

/// Mail written as `.eml` files into a pickup directory instead of being sent: for `--demo`,
/// for air-gapped desks whose MTA collects the directory, and for reviewing texts.
#[derive(Debug, Clone)]
pub struct PickupDirMailer {
    dir: std::path::PathBuf,
}

impl PickupDirMailer {
    /// Writes into `dir` (created if missing).
    pub fn new(dir: impl Into<std::path::PathBuf>) -> Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(DeskError::io(&dir))?;
        Ok(Self { dir })
    }
}

impl Mailer for PickupDirMailer {
    fn send<'a>(&'a self, mail: &'a OutgoingMail) -> BoxFut<'a, ()> {
        Box::pin(async move {
            let text = format!(
                "From: {}\r\nTo: {}\r\nSubject: {}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}",
                one_line(&mail.from),
                one_line(&mail.to),
                one_line(&mail.subject),
                mail.body.replace('\n', "\r\n")
            );
            // Written under a dot-name first and renamed, so whoever collects the directory
            // (an MTA's pickup, a script) never reads half a message.
            let id = uuid::Uuid::now_v7();
            let tmp = self.dir.join(format!(".{id}.eml.tmp"));
            let path = self.dir.join(format!("{id}.eml"));
            tokio::fs::write(&tmp, text)
                .await
                .map_err(DeskError::io(&tmp))?;
            tokio::fs::rename(&tmp, &path)
                .await
                .map_err(DeskError::io(&path))
        })
    }
}

/// Webhooks over HTTP/1.1, in clear (`http://`, for a receiver on the same host or a trusted
/// segment) or over TLS (`https://`, rustls). Server certificates are checked against the
/// Mozilla roots (webpki-roots, so the result does not depend on the host's CA bundle) plus the
/// operator's own CA file, if any ([`HttpWebhook::with_extra_ca`]): ticketing systems and
/// SOAR tools inside a provider often use an internal CA.
#[derive(Clone)]
pub struct HttpWebhook {
    /// The TLS client settings, or why they could not be built (then https posts fail with it).
    tls: std::result::Result<std::sync::Arc<tokio_rustls::rustls::ClientConfig>, String>,
}

impl std::fmt::Debug for HttpWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpWebhook").finish_non_exhaustive()
    }
}

impl Default for HttpWebhook {
    /// Public roots only.
    fn default() -> Self {
        Self::with_roots(Self::public_roots()).unwrap_or_else(|e| Self {
            tls: Err(e.to_string()),
        })
    }
}

impl HttpWebhook {
    fn public_roots() -> tokio_rustls::rustls::RootCertStore {
        tokio_rustls::rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        }
    }

    fn with_roots(roots: tokio_rustls::rustls::RootCertStore) -> Result<Self> {
        let cfg = tokio_rustls::rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            tokio_rustls::rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| DeskError::invalid("webhook TLS", e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(Self {
            tls: Ok(std::sync::Arc::new(cfg)),
        })
    }

    /// Public roots plus every certificate in the PEM file `ca_file` (`webhook_ca_file` in
    /// `warden.toml`).
    pub fn with_extra_ca(ca_file: &Path) -> Result<Self> {
        use tokio_rustls::rustls::pki_types::{CertificateDer, pem::PemObject};
        let pem = std::fs::read(ca_file).map_err(DeskError::io(ca_file))?;
        let name = ca_file.display().to_string();
        let mut roots = Self::public_roots();
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| DeskError::invalid(name.clone(), e.to_string()))?;
            roots
                .add(cert)
                .map_err(|e| DeskError::invalid(name.clone(), e.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(DeskError::invalid(name, "no CERTIFICATE block in the file"));
        }
        Self::with_roots(roots)
    }
}

/// Splits `http(s)://host[:port][/path]` into (tls, host, port, path).
fn parse_webhook_url(url: &str) -> std::result::Result<(bool, String, u16, String), String> {
    let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err("webhook URL must start with http:// or https://".into());
    };
    let (authority, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    if authority.contains('@') {
        return Err("credentials in the webhook URL are not supported".into());
    }
    let default_port = if tls { 443 } else { 80 };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or("unclosed [ in the host")?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| format!("bad port {p:?}"))?,
            None if after.is_empty() => default_port,
            None => return Err(format!("unexpected {after:?} after the host")),
        };
        (h.to_owned(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (
                h.to_owned(),
                p.parse().map_err(|_| format!("bad port {p:?}"))?,
            ),
            None => (authority.to_owned(), default_port),
        }
    };
    if host.is_empty() {
        return Err("no host in the webhook URL".into());
    }
    if path.chars().any(|c| c.is_control() || c == ' ') {
        return Err("spaces or control characters in the webhook path".into());
    }
    Ok((tls, host, port, path))
}

/// Writes the request and returns the start of the answer (status line and some headers).
async fn webhook_exchange<S>(mut s: S, head: &str, body: &str) -> std::io::Result<String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    s.write_all(head.as_bytes()).await?;
    s.write_all(body.as_bytes()).await?;
    s.flush().await?;
    // The status line is all we need; read until it is complete (or 512 bytes).
    let mut got = Vec::with_capacity(512);
    let mut buf = [0u8; 512];
    while !got.contains(&b'\n') && got.len() < 512 {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        got.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
    Ok(String::from_utf8_lossy(&got).into_owned())
}

impl WebhookSender for HttpWebhook {
    fn post<'a>(
        &'a self,
        url: &'a str,
        body: &'a str,
        headers: &'a [(String, String)],
    ) -> BoxFut<'a, ()> {
        Box::pin(async move {
            let fail = |reason: String| DeskError::Delivery {
                recipient: url.to_owned(),
                reason,
            };
            let (tls, host, port, path) = parse_webhook_url(url).map_err(fail)?;
            let host_header = if host.contains(':') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            };
            let mut head = format!(
                "POST {path} HTTP/1.1\r\nHost: {host_header}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                head.push_str(&format!("{}: {}\r\n", one_line(k), one_line(v)));
            }
            head.push_str("\r\n");
            let io = async {
                let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
                if tls {
                    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.clone())
                        .map_err(|e| {
                            std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string())
                        })?;
                    let cfg = self.tls.clone().map_err(std::io::Error::other)?;
                    let connector = tokio_rustls::TlsConnector::from(cfg);
                    let stream = connector.connect(name, tcp).await?;
                    webhook_exchange(stream, &head, body).await
                } else {
                    webhook_exchange(tcp, &head, body).await
                }
            };
            let reply = tokio::time::timeout(std::time::Duration::from_secs(15), io)
                .await
                .map_err(|_| fail("timed out after 15 s".into()))?
                .map_err(|e| fail(e.to_string()))?;
            let status = reply.split_whitespace().nth(1).unwrap_or("");
            if !status.starts_with('2') {
                return Err(fail(format!(
                    "receiver answered {:?}",
                    reply.lines().next().unwrap_or("")
                )));
            }
            Ok(())
        })
    }
}

/// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn sign_webhook(secret: &str, body: &str, at: DateTime<Utc>) -> Result<String> {
    let ts = at.timestamp();
    // HMAC takes keys of any length, so this error cannot happen; it is mapped, not unwrapped.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .map_err(|e| DeskError::invalid("webhook secret", e.to_string()))?;
    mac.update(format!("{ts}.{body}").as_bytes());
    Ok(format!(
        "t={ts},v1={}",
        hex::encode(mac.finalize().into_bytes())
    ))
}

/// The mail texts. `{name}` placeholders are replaced; the first line of each template is
/// `Subject: ...`. Operators override any of them with a file of the same name
/// (`customer_notice.txt`, `customer_notice_item.txt`, `reporter_ack.txt`, `info_request.txt`)
/// in the template directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Templates {
    /// Notice to a customer: `{customer_name}`, `{count}`, `{items}`, `{repeat_count}`.
    pub customer_notice: String,
    /// One case inside a notice: `{case}`, `{class}`, `{severity}`, `{subject}`, `{deadline}`,
    /// `{observed}`, `{report_id}`, `{excerpt}`, `{self_help_url}` (the signed link to the
    /// case's self-help page).
    pub customer_notice_item: String,
    /// Acknowledgement: `{report_id}`, `{cases}`.
    pub reporter_ack: String,
    /// Request for details: `{report_id}`, `{needs}`, `{cases}`.
    pub info_request: String,
}

impl Default for Templates {
    fn default() -> Self {
        Self {
            customer_notice: include_str!("../templates/customer_notice.txt").into(),
            customer_notice_item: include_str!("../templates/customer_notice_item.txt").into(),
            reporter_ack: include_str!("../templates/reporter_ack.txt").into(),
            info_request: include_str!("../templates/info_request.txt").into(),
        }
    }
}

impl Templates {
    /// Defaults overridden by whichever files exist in `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        let mut t = Self::default();
        for (name, slot) in [
            ("customer_notice.txt", &mut t.customer_notice),
            ("customer_notice_item.txt", &mut t.customer_notice_item),
            ("reporter_ack.txt", &mut t.reporter_ack),
            ("info_request.txt", &mut t.info_request),
        ] {
            let p = dir.join(name);
            if p.exists() {
                let text = std::fs::read_to_string(&p).map_err(DeskError::io(&p))?;
                if !text.starts_with("Subject:") {
                    return Err(DeskError::invalid(
                        p.display().to_string(),
                        "a template starts with a `Subject:` line",
                    ));
                }
                *slot = text;
            }
        }
        Ok(t)
    }
}

/// Replaces `{key}` placeholders; unknown placeholders stay as they are.
pub fn render(template: &str, vars: &BTreeMap<&str, String>) -> (String, String) {
    let mut out = template.to_owned();
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    let (first, body) = out.split_once('\n').unwrap_or((&out, ""));
    let subject = first
        .strip_prefix("Subject:")
        .unwrap_or(first)
        .trim()
        .to_owned();
    (subject, body.trim_start_matches('\n').to_owned())
}

fn field(v: &serde_json::Value, k: &str) -> String {
    match v.get(k) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => "-".into(),
        Some(other) => other.to_string(),
    }
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn case_list(payload: &serde_json::Value) -> String {
    payload
        .get("cases")
        .and_then(|c| c.as_array())
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    format!(
                        "  - case {}: {} about {}",
                        field(c, "case"),
                        field(c, "class"),
                        field(c, "subject")
                    )
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
        .join("\n")
}

/// What one delivery round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryReport {
    /// Mails sent.
    pub mails: usize,
    /// Webhooks posted.
    pub webhooks: usize,
    /// Attempts that failed (kept for retry).
    pub failed: usize,
}

/// The outbox courier.
pub struct Courier<'a> {
    /// Store.
    pub store: &'a Store,
    /// Policy (From address, webhook secret).
    pub policy: &'a Policy,
    /// Texts.
    pub templates: &'a Templates,
    /// Mail transport.
    pub mailer: &'a dyn Mailer,
    /// Webhook transport.
    pub webhooks: &'a dyn WebhookSender,
    /// Self-help links for customer notices (`{self_help_url}`); `None`: no links.
    pub self_help: Option<&'a crate::selfhelp::SelfHelp>,
}

impl Courier<'_> {
    /// Delivers everything due at `now`. Customer notices to the same recipient go out as one
    /// mail; a successful notice moves its open cases to `notified`.
    pub async fn deliver_due(&self, now: DateTime<Utc>) -> Result<DeliveryReport> {
        let items = outbox::claim_due(self.store, now, Duration::minutes(5), 500).await?;
        let mut report = DeliveryReport::default();
        let mut notices: BTreeMap<(String, String), Vec<OutboxItem>> = BTreeMap::new();
        for item in items {
            match item.kind {
                OutboxKind::CustomerNotice => notices
                    .entry((
                        item.recipient.clone(),
                        item.customer_id.clone().unwrap_or_default(),
                    ))
                    .or_default()
                    .push(item),
                OutboxKind::ReporterAck | OutboxKind::InfoRequest => {
                    let template = if item.kind == OutboxKind::ReporterAck {
                        &self.templates.reporter_ack
                    } else {
                        &self.templates.info_request
                    };
                    let needs = item
                        .payload
                        .get("needs")
                        .and_then(|n| n.as_array())
                        .map(|n| {
                            n.iter()
                                .filter_map(|x| x.as_str())
                                .map(need_text)
                                .collect::<Vec<_>>()
                                .join("\n")
                        })
                        .unwrap_or_default();
                    let vars = BTreeMap::from([
                        ("report_id", field(&item.payload, "report_id")),
                        ("cases", case_list(&item.payload)),
                        ("needs", needs),
                    ]);
                    let (subject, body) = render(template, &vars);
                    let mail = OutgoingMail {
                        from: self.policy.from_address.clone(),
                        to: item.recipient.clone(),
                        subject,
                        body,
                    };
                    self.finish(
                        self.mailer.send(&mail).await,
                        &[item.id],
                        now,
                        &mut report,
                        false,
                    )
                    .await?;
                }
                OutboxKind::Webhook => {
                    let body = item.payload.to_string();
                    let headers = vec![
                        (
                            "X-Warden-Signature".to_owned(),
                            sign_webhook(&self.policy.webhook_secret, &body, now)?,
                        ),
                        ("X-Warden-Delivery".to_owned(), item.id.clone()),
                    ];
                    let res = self.webhooks.post(&item.recipient, &body, &headers).await;
                    self.finish(res, &[item.id], now, &mut report, true).await?;
                }
            }
        }
        for ((recipient, customer_id), items) in notices {
            let customer = inventory::customer(self.store, &customer_id).await.ok();
            let name = customer.map_or(customer_id.clone(), |c| c.name);
            let repeat = cases::repeat_count(self.store, &customer_id, now, 90)
                .await
                .unwrap_or(0);
            let list: String = items
                .iter()
                .map(|i| {
                    let p = &i.payload;
                    let vars = BTreeMap::from([
                        ("case", field(p, "case")),
                        ("class", field(p, "class")),
                        ("severity", field(p, "severity")),
                        ("subject", field(p, "subject")),
                        ("deadline", field(p, "deadline")),
                        ("observed", field(p, "observed")),
                        ("report_id", field(p, "report_id")),
                        ("excerpt", indent(&field(p, "excerpt"))),
                        ("self_help_url", self.self_help_url(i, now)),
                    ]);
                    let mut t = String::from("Subject: -\n");
                    t.push_str(&self.templates.customer_notice_item);
                    render(&t, &vars).1
                })
                .collect::<Vec<_>>()
                .join("\n");
            let vars = BTreeMap::from([
                ("customer_name", name),
                ("count", items.len().to_string()),
                ("items", list),
                ("repeat_count", repeat.to_string()),
            ]);
            let (subject, body) = render(&self.templates.customer_notice, &vars);
            let mail = OutgoingMail {
                from: self.policy.from_address.clone(),
                to: recipient,
                subject,
                body,
            };
            let ids: Vec<String> = items.iter().map(|i| i.id.clone()).collect();
            let ok = self.mailer.send(&mail).await;
            let sent = ok.is_ok();
            self.finish(ok, &ids, now, &mut report, false).await?;
            if sent {
                for case_id in items.iter().filter_map(|i| i.case_id.as_deref()) {
                    match cases::apply(
                        self.store,
                        self.policy,
                        case_id,
                        CaseAction::Notify,
                        "system",
                        &format!("notice sent to {}", mail.to),
                        now,
                    )
                    .await
                    {
                        Ok(_) | Err(DeskError::Transition { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(report)
    }

    /// The signed self-help link for the case of a notice item, or a line saying there is none.
    fn self_help_url(&self, item: &OutboxItem, now: DateTime<Utc>) -> String {
        match (self.self_help, &item.case_id, &item.customer_id) {
            (Some(sh), Some(case), Some(customer)) if !customer.is_empty() => {
                sh.link(case, customer, now)
            }
            _ => "- (reply to this message instead)".into(),
        }
    }

    async fn finish(
        &self,
        res: Result<()>,
        ids: &[String],
        now: DateTime<Utc>,
        report: &mut DeliveryReport,
        webhook: bool,
    ) -> Result<()> {
        match res {
            Ok(()) => {
                outbox::mark_sent(self.store, ids, now).await?;
                if webhook {
                    report.webhooks += 1;
                } else {
                    report.mails += 1;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "outbox delivery failed; will retry");
                outbox::mark_failed(self.store, ids, &e.to_string(), now).await?;
                report.failed += 1;
            }
        }
        Ok(())
    }
}

fn need_text(n: &str) -> String {
    match n {
        "source_port" => {
            "  - the source port of the connection (RFC 6302: a shared address needs the port)"
                .into()
        }
        "time_zone" => "  - the time zone or UTC offset of your timestamps".into(),
        "seconds" => "  - timestamps to the second".into(),
        "time" => "  - the time the activity was observed".into(),
        other => format!("  - {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_signature_is_hmac_over_timestamp_and_body() {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let sig = sign_webhook("secret", "{\"a\":1}", at).unwrap();
        // Known answer: HMAC-SHA256("secret", "1700000000.{\"a\":1}").
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"secret").unwrap();
        mac.update(b"1700000000.{\"a\":1}");
        assert_eq!(
            sig,
            format!(
                "t=1700000000,v1={}",
                hex::encode(mac.finalize().into_bytes())
            )
        );
        assert_ne!(sig, sign_webhook("other", "{\"a\":1}", at).unwrap());
    }

    #[test]
    fn webhook_urls() {
        assert_eq!(
            parse_webhook_url("https://hooks.example/warden?x=1").unwrap(),
            (true, "hooks.example".into(), 443, "/warden?x=1".into())
        );
        assert_eq!(
            parse_webhook_url("http://127.0.0.1:9000").unwrap(),
            (false, "127.0.0.1".into(), 9000, "/".into())
        );
        assert_eq!(
            parse_webhook_url("https://[::1]:8443/h").unwrap(),
            (true, "::1".into(), 8443, "/h".into())
        );
        for bad in [
            "ftp://x/",
            "https://:80/",
            "https://h:port/",
            "https://u:p@h/",
            "http://h/a b",
            "https://[::1/",
        ] {
            assert!(parse_webhook_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn extra_ca_file_must_hold_certificates() {
        let dir = std::env::temp_dir().join(format!("warden-ca-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("ca.pem");
        std::fs::write(&f, "not a certificate").unwrap();
        let e = HttpWebhook::with_extra_ca(&f).unwrap_err();
        assert!(e.to_string().contains("ca.pem"), "{e}");
        assert!(HttpWebhook::with_extra_ca(&dir.join("missing.pem")).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn templates_render_subject_and_body() {
        let vars = BTreeMap::from([
            ("report_id", "abc".to_owned()),
            ("cases", "  - case 1".to_owned()),
        ]);
        let (s, b) = render(&Templates::default().reporter_ack, &vars);
        assert!(s.contains("abc"), "{s}");
        assert!(b.contains("case 1"), "{b}");
        assert!(!b.contains("{cases}"));
    }
}

#[cfg(test)]
mod pickup_tests {
    use super::*;

    #[tokio::test]
    async fn pickup_dir_holds_only_whole_messages() {
        let dir = std::env::temp_dir().join(format!(
            "warden-pickup-{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7()
        ));
        let m = PickupDirMailer::new(&dir).unwrap();
        let mail = OutgoingMail {
            from: "abuse@isp.example".into(),
            to: "abuse@customer.example".into(),
            subject: "[Abuse] one case".into(),
            body: "line one\nline two\n".into(),
        };
        m.send(&mail).await.unwrap();
        m.send(&mail).await.unwrap();
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        for n in &names {
            assert!(n.ends_with(".eml") && !n.starts_with('.'), "{n}");
            let text = std::fs::read_to_string(dir.join(n)).unwrap();
            assert!(text.starts_with("From: abuse@isp.example\r\n"), "{text}");
            assert!(text.ends_with("line two\r\n"), "{text}");
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
