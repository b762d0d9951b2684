//! Lint of one message (`.eml`) against the M3AAWG Sender BCP: DKIM verified and aligned with
//! From, the SPF and DMARC results receivers recorded, List-Unsubscribe with one-click (RFC 8058)
//! on bulk mail, and the header fields RFC 5322 requires.
//!
//! DKIM needs DNS for the public keys; the caller passes a mail-auth [`MessageAuthenticator`]
//! (see [`authenticator_for`] to point it at one server, as the tests do with a loopback bind9).
//! Without one, signatures are reported but not verified.
//!
//! Finding ids: `message.from`, `message.date`, `message.message_id` (RFC 5322 section 3.6);
//! `message.dkim` (verified, aligned with From: RFC 6376, RFC 7489 section 3.1.1);
//! `message.spf`, `message.dmarc` (as recorded by the receiver, RFC 8601 / RFC 7208 section
//! 9.1); `message.list_unsubscribe` (RFC 2369), `message.one_click` (RFC 8058 section 3.1) and
//! `message.one_click_signed` (RFC 8058 section 4) for bulk mail.
//!
//! Relaxed DKIM alignment is decided without the organizational domain (no public-suffix list or
//! RFC 9989 tree walk yet): same domain or one a subdomain of the other counts; siblings
//! (`a.example.com` signing for `b.example.com`) are reported as not aligned.

pub mod auth_results;
pub mod dkim;
pub mod headers;

use std::net::SocketAddr;
use std::time::Duration;

use mail_auth::MessageAuthenticator;
use mail_auth::hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use mail_parser::MessageParser;

use crate::{Finding, Practice, Status};
use auth_results::{MethodResult, parse_authentication_results, parse_received_spf};

/// Largest message we lint. Receivers commonly cap messages at 25-50 MB; beyond that the
/// input is not mail we would judge.
pub const MAX_MESSAGE: usize = 50 * 1024 * 1024;

/// How to lint.
#[derive(Clone, Copy)]
pub struct LintOptions<'a> {
    /// Treat the message as bulk mail even without Precedence: bulk or List-Id.
    pub bulk: bool,
    /// Resolver for DKIM keys; `None` skips verification.
    pub authenticator: Option<&'a MessageAuthenticator>,
    /// Time allowed for all DKIM key lookups together.
    pub dkim_timeout: Duration,
}

impl Default for LintOptions<'_> {
    fn default() -> Self {
        Self {
            bulk: false,
            authenticator: None,
            dkim_timeout: Duration::from_secs(10),
        }
    }
}

/// Input that is not a message we can lint.
#[derive(Debug, thiserror::Error)]
pub enum LintError {
    /// Larger than [`MAX_MESSAGE`].
    #[error("message is {size} bytes, more than the {limit} byte limit")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// No RFC 5322 header section could be read.
    #[error("input is not an RFC 5322 message: {0}")]
    NotAMessage(String),
    /// The DNS resolver could not be set up.
    #[error("cannot set up the DNS resolver: {0}")]
    Resolver(String),
}

/// A mail-auth authenticator that asks only `server` (UDP and TCP), e.g. a local validating
/// resolver or, in tests, a loopback bind9.
pub fn authenticator_for(server: SocketAddr) -> Result<MessageAuthenticator, LintError> {
    let mut ns = NameServerConfig::udp_and_tcp(server.ip());
    for c in &mut ns.connections {
        c.port = server.port();
    }
    let config = ResolverConfig::from_parts(None, Vec::new(), vec![ns]);
    let mut opts = ResolverOpts::default();
    opts.timeout = Duration::from_secs(3);
    opts.attempts = 1;
    MessageAuthenticator::new(config, opts).map_err(|e| LintError::Resolver(e.to_string()))
}

/// An authenticator using the system's resolv.conf.
pub fn system_authenticator() -> Result<MessageAuthenticator, LintError> {
    MessageAuthenticator::new_system_conf().map_err(|e| LintError::Resolver(e.to_string()))
}

/// Lints one message. Findings are in a stable order: identity headers, authentication,
/// unsubscription.
pub async fn lint(raw: &[u8], options: &LintOptions<'_>) -> Result<Vec<Finding>, LintError> {
    if raw.len() > MAX_MESSAGE {
        return Err(LintError::TooLarge {
            size: raw.len(),
            limit: MAX_MESSAGE,
        });
    }
    let message = MessageParser::default()
        .parse_headers(raw)
        .ok_or_else(|| LintError::NotAMessage("no header section".into()))?;
    let has_header = message
        .headers()
        .iter()
        .any(|h| !matches!(h.name, mail_parser::HeaderName::Other(_)));
    if !has_header {
        return Err(LintError::NotAMessage(
            "none of the RFC 5322 header fields (From, Date, Subject, ...) was found".into(),
        ));
    }
    let mut out = headers::identity(&message);
    let from_domain = headers::from_domain(&message);
    let bulk = headers::bulk_reason(&message, options.bulk);
    let (unsub, one_click) = headers::unsubscribe(&message, bulk.as_deref());
    out.extend(
        dkim::check(
            raw,
            from_domain.as_deref(),
            options.authenticator,
            options.dkim_timeout,
            one_click,
        )
        .await,
    );
    let recorded = recorded_results(&message);
    out.push(spf_finding(&recorded));
    out.push(dmarc_finding(&recorded));
    out.extend(unsub);
    Ok(out)
}

/// Every result receivers recorded, topmost (most recent) header first.
fn recorded_results(message: &mail_parser::Message<'_>) -> Vec<MethodResult> {
    let mut v: Vec<MethodResult> = headers::raw_values(message, "Authentication-Results")
        .into_iter()
        .flat_map(parse_authentication_results)
        .collect();
    v.extend(
        headers::raw_values(message, "Received-SPF")
            .into_iter()
            .filter_map(parse_received_spf),
    );
    v
}

fn recorded(r: &MethodResult) -> String {
    let props: Vec<String> = r
        .properties
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!(
        "{}={} {} (recorded by {})",
        r.method,
        r.result,
        props.join(" "),
        r.authserv_id
    )
}

fn spf_finding(results: &[MethodResult]) -> Finding {
    let Some(r) = results.iter().find(|r| r.method == "spf") else {
        return Finding::new(
            "message.spf",
            Practice::Authentication,
            Status::Info,
            "no SPF result recorded (no Authentication-Results or Received-SPF); SPF is checked on delivery, not in a file",
        );
    };
    let (status, fix) = match r.result.as_str() {
        "pass" => (Status::Pass, None),
        "neutral" | "none" => (
            Status::Warn,
            Some(
                "RFC 7208 section 8: publish an SPF record that lists the sending IPs and ends in -all or ~all.",
            ),
        ),
        _ => (
            Status::Fail,
            Some(
                "RFC 7208 section 2.6: the sending IP is not authorised by the MAIL FROM domain's SPF record; add it (ip4:/include:) or send from an authorised host.",
            ),
        ),
    };
    let mut f = Finding::new(
        "message.spf",
        Practice::Authentication,
        status,
        format!("SPF {} as recorded by {}", r.result, r.authserv_id),
    )
    .evidence(recorded(r));
    if let Some(fix) = fix {
        f = f.fix(fix);
    }
    f
}

fn dmarc_finding(results: &[MethodResult]) -> Finding {
    let Some(r) = results.iter().find(|r| r.method == "dmarc") else {
        return Finding::new(
            "message.dmarc",
            Practice::Authentication,
            Status::Info,
            "no DMARC result recorded in Authentication-Results",
        );
    };
    let (status, fix) = match r.result.as_str() {
        "pass" => (Status::Pass, None),
        "none" => (
            Status::Warn,
            Some(
                "RFC 7489 section 6.1: publish _dmarc.<From domain> TXT v=DMARC1; p=none; rua=mailto:... and move to quarantine or reject once reports are clean.",
            ),
        ),
        _ => (
            Status::Fail,
            Some(
                "RFC 7489 section 3.1: DMARC needs SPF or DKIM to pass *and* align with the From domain; sign with d=<From domain>.",
            ),
        ),
    };
    let mut f = Finding::new(
        "message.dmarc",
        Practice::Authentication,
        status,
        format!("DMARC {} as recorded by {}", r.result, r.authserv_id),
    )
    .evidence(recorded(r));
    if let Some(fix) = fix {
        f = f.fix(fix);
    }
    f
}
