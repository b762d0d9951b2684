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

/// Webhooks over plain HTTP/1.1 (`http://` URLs: a receiver on the same host or network).
/// `https://` receivers are refused with a clear error until a TLS client is wired in.
#[derive(Debug, Clone, Default)]
pub struct HttpWebhook;

impl WebhookSender for HttpWebhook {
    fn post<'a>(
        &'a self,
        url: &'a str,
        body: &'a str,
        headers: &'a [(String, String)],
    ) -> BoxFut<'a, ()> {
        Box::pin(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let fail = |reason: String| DeskError::Delivery {
                recipient: url.to_owned(),
                reason,
            };
            let rest = url.strip_prefix("http://").ok_or_else(|| {
                fail("only http:// webhook URLs are supported in this build".into())
            })?;
            let (authority, path) = rest
                .split_once('/')
                .map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
            let addr = if authority.contains(':') {
                authority.to_owned()
            } else {
                format!("{authority}:80")
            };
            let io = async {
                let mut s = tokio::net::TcpStream::connect(&addr).await?;
                let mut req = format!(
                    "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                for (k, v) in headers {
                    req.push_str(&format!("{}: {}\r\n", one_line(k), one_line(v)));
                }
                req.push_str("\r\n");
                s.write_all(req.as_bytes()).await?;
                s.write_all(body.as_bytes()).await?;
                let mut head = vec![0u8; 512];
                let n = s.read(&mut head).await?;
                Ok::<_, std::io::Error>(
                    String::from_utf8_lossy(head.get(..n).unwrap_or_default()).into_owned(),
                )
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
