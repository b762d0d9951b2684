//! Customer self-help: the link in a customer notice that opens a page (served by the web UI)
//! where the customer sees the evidence of one case, redacted as configured, replies, or says
//! the problem is resolved, without an account (AbuseIO's "self-help" page; M3AAWG Hosting &
//! Cloud BCP: make it easy for customers to act on a complaint).
//!
//! A link is `{public_url}/ui/help/{case}/{expires}/{mac}`, where `mac` is
//! HMAC-SHA256(secret, "warden-selfhelp-v1" | case | customer | expires) in hex. The customer id
//! is not in the URL: the verifier takes it from the case, so a link can never show a case to
//! another customer, even if a case were re-attributed. The secret lives in the data directory
//! (`selfhelp.key`, created on first start with 256 random bits, mode 0600); rotating it voids
//! every link sent so far.

use crate::cases::{self, Case, CaseAction, CaseState};
use crate::error::{DeskError, Result};
use crate::policy::Policy;
use crate::store::{Store, from_ms, new_id, to_ms};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use sqlx::Row;
use std::net::IpAddr;
use std::path::Path;

/// File name of the secret in the data directory.
pub const KEY_FILE: &str = "selfhelp.key";
/// Longest reply or note a customer may send (same as an analyst's note).
pub const MAX_REPLY_CHARS: usize = 10_000;
/// Domain separation for the MAC, so the secret signs nothing else by accident.
const MAC_CONTEXT: &[u8] = b"warden-selfhelp-v1";

/// What the self-help page hides from the customer. Reporters often ask not to be named (the
/// customer may retaliate), and evidence may name third parties: other mailboxes, other
/// customers' addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Redaction {
    /// Do not show who reported (address or organisation).
    pub hide_reporter: bool,
    /// Replace the local part of every mail address in the evidence (`[hidden]@example.net`).
    pub mask_email_local_parts: bool,
    /// Replace every IP address in the evidence other than the case's own subject.
    pub hide_other_addresses: bool,
}

impl Default for Redaction {
    fn default() -> Self {
        Self {
            hide_reporter: true,
            mask_email_local_parts: true,
            hide_other_addresses: true,
        }
    }
}

/// Why a link was refused. The page shows one message for all of them except expiry, so a
/// tamperer learns nothing about which part was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// Not the shape of a link (bad number, bad hex).
    Malformed,
    /// The MAC does not match (tampered, or signed with another secret).
    Invalid,
    /// Genuine but past its expiry.
    Expired,
}

/// Self-help settings: the secret, where the UI is reachable, how long links live, redaction.
#[derive(Clone)]
pub struct SelfHelp {
    key: [u8; 32],
    /// Base URL of the web UI as customers reach it (`https://abuse.example.net`), no trailing
    /// slash.
    pub public_url: String,
    /// How long a link stays valid after the notice is sent.
    pub link_ttl: Duration,
    /// What the page hides.
    pub redaction: Redaction,
}

impl std::fmt::Debug for SelfHelp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelfHelp")
            .field("public_url", &self.public_url)
            .field("link_ttl", &self.link_ttl)
            .field("redaction", &self.redaction)
            .finish_non_exhaustive()
    }
}

/// Reads the secret from `dir/selfhelp.key`, creating it (256 random bits, hex, mode 0600) when
/// absent. A present but malformed file is an error, never silently replaced: replacing it would
/// void every link already sent.
pub fn load_or_create_key(dir: &Path) -> Result<[u8; 32]> {
    let path = dir.join(KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse_key(text.trim()).ok_or_else(|| {
            DeskError::invalid(
                path.display().to_string(),
                "expected 64 hex digits (the self-help link secret); delete it to generate a new one, which voids the links already sent",
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = random_key();
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(&path).map_err(DeskError::io(&path))?;
            use std::io::Write;
            f.write_all(format!("{}\n", hex::encode(key)).as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(DeskError::io(&path))?;
            Ok(key)
        }
        Err(e) => Err(DeskError::io(&path)(e)),
    }
}

fn parse_key(s: &str) -> Option<[u8; 32]> {
    let v = hex::decode(s).ok()?;
    v.try_into().ok()
}

/// 256 bits from the OS generator: two UUID v4 (122 random bits each) hashed together with
/// a third, so every output bit depends on 366 random input bits.
fn random_key() -> [u8; 32] {
    use sha2::Digest;
    let mut h = Sha256::new();
    for _ in 0..3 {
        h.update(uuid::Uuid::new_v4().as_bytes());
    }
    h.finalize().into()
}

impl SelfHelp {
    /// Settings with `key` (see [`load_or_create_key`]) and the default redaction.
    pub fn new(key: [u8; 32], public_url: &str, link_ttl: Duration) -> Self {
        Self {
            key,
            public_url: public_url.trim_end_matches('/').to_owned(),
            link_ttl,
            redaction: Redaction::default(),
        }
    }

    fn mac(&self, case_id: &str, customer_id: &str, expires: i64) -> Hmac<Sha256> {
        // HMAC accepts keys of any length; 32 bytes cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        // Length-prefixed fields: no two (case, customer, expiry) triples share an input.
        mac.update(MAC_CONTEXT);
        for part in [case_id.as_bytes(), customer_id.as_bytes()] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.update(&expires.to_be_bytes());
        mac
    }

    /// The MAC of a link, hex.
    pub fn sign(&self, case_id: &str, customer_id: &str, expires: i64) -> String {
        hex::encode(
            self.mac(case_id, customer_id, expires)
                .finalize()
                .into_bytes(),
        )
    }

    /// The path part of the link for a case of `customer_id`, valid until `expires` (Unix
    /// seconds).
    pub fn path(&self, case_id: &str, customer_id: &str, expires: i64) -> String {
        format!(
            "/ui/help/{case_id}/{expires}/{}",
            self.sign(case_id, customer_id, expires)
        )
    }

    /// The full link to put in a notice sent at `now`.
    pub fn link(&self, case_id: &str, customer_id: &str, now: DateTime<Utc>) -> String {
        let expires = (now + self.link_ttl).timestamp();
        format!(
            "{}{}",
            self.public_url,
            self.path(case_id, customer_id, expires)
        )
    }

    /// Checks a link's `expires` and `mac` (as they came in the URL) for the case and its
    /// customer, in constant time.
    pub fn verify(
        &self,
        case_id: &str,
        customer_id: &str,
        expires: &str,
        mac: &str,
        now: DateTime<Utc>,
    ) -> std::result::Result<(), LinkError> {
        if expires.is_empty() || expires.len() > 19 || !expires.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(LinkError::Malformed);
        }
        let exp: i64 = expires.parse().map_err(|_| LinkError::Malformed)?;
        if mac.len() != 64 {
            return Err(LinkError::Malformed);
        }
        let tag = hex::decode(mac).map_err(|_| LinkError::Malformed)?;
        if customer_id.is_empty() {
            return Err(LinkError::Invalid);
        }
        self.mac(case_id, customer_id, exp)
            .verify_slice(&tag)
            .map_err(|_| LinkError::Invalid)?;
        if exp < now.timestamp() {
            return Err(LinkError::Expired);
        }
        Ok(())
    }

    /// A secret derived from the link secret for other purposes (the page's form tokens), so
    /// one key file serves both.
    pub fn derive(&self, purpose: &str, input: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(b"warden-selfhelp-derive-v1");
        mac.update(&(purpose.len() as u64).to_be_bytes());
        mac.update(purpose.as_bytes());
        mac.update(input.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// What a customer sent from the self-help page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    /// A message to the abuse desk.
    Reply,
    /// The customer says the abuse has stopped.
    Resolved,
}

impl ReplyKind {
    /// Stable name (SQL).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reply => "reply",
            Self::Resolved => "resolved",
        }
    }
}

/// One stored customer reply.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerReply {
    /// When it was sent.
    pub at: DateTime<Utc>,
    /// The customer.
    pub customer_id: String,
    /// Reply or resolved.
    pub kind: ReplyKind,
    /// What they wrote.
    pub body: String,
}

/// The state change a customer's message makes: a reply moves an open, notified or escalated
/// case to `customer_replied`; "resolved" moves an active case to `resolved`. Anything else
/// (a second reply, a reply to a suspended or closed case) is kept as a note: the customer
/// never reopens, un-suspends or closes a case, an analyst does.
pub fn action_for(kind: ReplyKind, state: CaseState) -> CaseAction {
    let wanted = match kind {
        ReplyKind::Reply => CaseAction::CustomerReplied,
        ReplyKind::Resolved => CaseAction::Resolve,
    };
    let allowed = match kind {
        ReplyKind::Reply => wanted.next(state).is_ok(),
        ReplyKind::Resolved => state.is_active(),
    };
    if allowed { wanted } else { CaseAction::Note }
}

/// Stores a customer's reply and moves the case ([`action_for`]) in one transaction, with the
/// text in the audit log under the actor `customer:<id>`.
pub async fn record_reply(
    store: &Store,
    policy: &Policy,
    case_id: &str,
    customer_id: &str,
    kind: ReplyKind,
    body: &str,
    now: DateTime<Utc>,
) -> Result<Case> {
    let chars = body.chars().count();
    if chars > MAX_REPLY_CHARS {
        return Err(DeskError::TooLarge {
            what: "customer reply",
            size: chars,
            limit: MAX_REPLY_CHARS,
        });
    }
    let body = body.trim();
    if body.is_empty() && kind == ReplyKind::Reply {
        return Err(DeskError::invalid("customer reply", "the reply is empty"));
    }
    let _guard = store.write_guard().await;
    let mut tx = store
        .pool()
        .begin()
        .await
        .map_err(DeskError::db("customer reply"))?;
    let row = sqlx::query("SELECT state, customer_id FROM cases WHERE id = $1")
        .bind(case_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(DeskError::db("customer reply"))?
        .ok_or_else(|| DeskError::NotFound {
            what: format!("case {case_id}"),
        })?;
    let state: String = row.try_get(0).map_err(DeskError::db("customer reply"))?;
    let owner: String = row.try_get(1).map_err(DeskError::db("customer reply"))?;
    if owner != customer_id {
        return Err(DeskError::invalid(
            format!("case {case_id}"),
            "belongs to another customer",
        ));
    }
    let action = action_for(kind, state.parse()?);
    sqlx::query(
        "INSERT INTO customer_replies (id, case_id, customer_id, at, kind, body) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(case_id)
    .bind(customer_id)
    .bind(to_ms(now))
    .bind(kind.as_str())
    .bind(body)
    .execute(&mut *tx)
    .await
    .map_err(DeskError::db("customer reply"))?;
    let label = match kind {
        ReplyKind::Reply => "Customer replied (self-help): ",
        ReplyKind::Resolved => "Customer marked resolved (self-help): ",
    };
    cases::transition(
        &mut tx,
        policy,
        case_id,
        action,
        &format!("customer:{customer_id}"),
        &format!("{label}{body}"),
        now,
    )
    .await?;
    tx.commit()
        .await
        .map_err(DeskError::db("customer reply commit"))?;
    cases::get(store, case_id).await
}

/// The customer replies to a case, oldest first (at most 200).
pub async fn replies(store: &Store, case_id: &str) -> Result<Vec<CustomerReply>> {
    let rows = sqlx::query(
        "SELECT at, customer_id, kind, body FROM customer_replies WHERE case_id = $1 ORDER BY at, id LIMIT 200",
    )
    .bind(case_id)
    .fetch_all(store.pool())
    .await
    .map_err(DeskError::db("customer replies"))?;
    rows.iter()
        .map(|r| {
            let e = DeskError::db("customer reply row");
            let kind: String = r.try_get(2).map_err(e)?;
            Ok(CustomerReply {
                at: from_ms(r.try_get(0).map_err(DeskError::db("customer reply row"))?),
                customer_id: r.try_get(1).map_err(DeskError::db("customer reply row"))?,
                kind: if kind == "resolved" {
                    ReplyKind::Resolved
                } else {
                    ReplyKind::Reply
                },
                body: r.try_get(3).map_err(DeskError::db("customer reply row"))?,
            })
        })
        .collect()
}

fn is_local_char(c: char) -> bool {
    c.is_alphanumeric() || "._%+-!#$&'*/=?^`{|}~".contains(c)
}

fn is_domain_char(c: char) -> bool {
    c.is_alphanumeric() || c == '.' || c == '-'
}

/// Replaces the local part of every `local@domain.tld` in `text` with `[hidden]`.
pub fn mask_email_local_parts(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut emitted = 0; // chars of `chars` already copied to `out`
    while i < chars.len() {
        if chars[i] == '@' {
            let mut start = i;
            while start > emitted && is_local_char(chars[start - 1]) {
                start -= 1;
            }
            let mut end = i + 1;
            while end < chars.len() && is_domain_char(chars[end]) {
                end += 1;
            }
            let domain: String = chars[i + 1..end].iter().collect();
            if start < i && domain.trim_matches('.').contains('.') {
                out.extend(&chars[emitted..start]);
                out.push_str("[hidden]");
                emitted = i;
            }
        }
        i += 1;
    }
    out.extend(&chars[emitted..]);
    out
}

fn is_addr_char(c: char) -> bool {
    c.is_ascii_hexdigit() || c == '.' || c == ':'
}

/// Replaces every IPv4 or IPv6 address in `text` except `keep` (the case's own subject) with
/// `[address hidden]`. An address followed by `:port` is recognised too.
pub fn hide_other_addresses(text: &str, keep: &str) -> String {
    let keep: Option<IpAddr> = keep.parse().ok();
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if !run.is_empty() {
            out.push_str(&redact_run(run, keep));
            run.clear();
        }
    };
    for c in text.chars() {
        if is_addr_char(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

fn redact_run(run: &str, keep: Option<IpAddr>) -> String {
    // Punctuation at the end of a sentence is not part of the address.
    let core = run.trim_end_matches(['.', ':']);
    let tail = &run[core.len()..];
    let hidden = |ip: IpAddr| Some(ip) != keep;
    if let Ok(ip) = core.parse::<IpAddr>() {
        return if hidden(ip) {
            format!("[address hidden]{tail}")
        } else {
            run.to_owned()
        };
    }
    // `192.0.2.1:25`
    if let Some((a, port)) = core.rsplit_once(':')
        && port.bytes().all(|b| b.is_ascii_digit())
        && let Ok(ip) = a.parse::<std::net::Ipv4Addr>()
    {
        return if hidden(IpAddr::V4(ip)) {
            format!("[address hidden]:{port}{tail}")
        } else {
            run.to_owned()
        };
    }
    run.to_owned()
}

/// Applies `r` to an evidence text of a case about `subject`.
pub fn redact(text: &str, subject: &str, r: &Redaction) -> String {
    let mut t = text.to_owned();
    if r.mask_email_local_parts {
        t = mask_email_local_parts(&t);
    }
    if r.hide_other_addresses {
        t = hide_other_addresses(&t, subject);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sh() -> SelfHelp {
        SelfHelp::new([7u8; 32], "https://abuse.example.net/", Duration::days(30))
    }

    fn parts(link: &str) -> (String, String, String) {
        let p: Vec<&str> = link.rsplit('/').take(3).collect();
        (p[2].to_owned(), p[1].to_owned(), p[0].to_owned())
    }

    #[test]
    fn signed_link_verifies_until_it_expires() {
        let s = sh();
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap();
        let link = s.link("case-1", "acme", now);
        assert!(link.starts_with("https://abuse.example.net/ui/help/case-1/"));
        let (case, exp, mac) = parts(&link);
        assert_eq!(case, "case-1");
        assert_eq!(s.verify(&case, "acme", &exp, &mac, now), Ok(()));
        let later = now + Duration::days(30) + Duration::seconds(1);
        assert_eq!(
            s.verify(&case, "acme", &exp, &mac, later),
            Err(LinkError::Expired)
        );
    }

    #[test]
    fn tampered_links_are_refused() {
        let s = sh();
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap();
        let (case, exp, mac) = parts(&s.link("case-1", "acme", now));
        // Another case, another customer, a later expiry, a flipped MAC digit, another key.
        assert_eq!(
            s.verify("case-2", "acme", &exp, &mac, now),
            Err(LinkError::Invalid)
        );
        assert_eq!(
            s.verify(&case, "beta", &exp, &mac, now),
            Err(LinkError::Invalid)
        );
        let longer = (exp.parse::<i64>().unwrap() + 86400).to_string();
        assert_eq!(
            s.verify(&case, "acme", &longer, &mac, now),
            Err(LinkError::Invalid)
        );
        let mut bad = mac.clone().into_bytes();
        bad[10] = if bad[10] == b'0' { b'1' } else { b'0' };
        let bad = String::from_utf8(bad).unwrap();
        assert_eq!(
            s.verify(&case, "acme", &exp, &bad, now),
            Err(LinkError::Invalid)
        );
        let other = SelfHelp::new([8u8; 32], "https://x", Duration::days(1));
        assert_eq!(
            other.verify(&case, "acme", &exp, &mac, now),
            Err(LinkError::Invalid)
        );
        // Garbage never panics.
        for (e, m) in [
            ("", mac.as_str()),
            ("-5", mac.as_str()),
            ("99999999999999999999", mac.as_str()),
            (exp.as_str(), "zz"),
            (exp.as_str(), &"g".repeat(64)),
            (exp.as_str(), "é".repeat(32).as_str()),
        ] {
            assert_eq!(
                s.verify(&case, "acme", e, m, now),
                Err(LinkError::Malformed),
                "{e} {m}"
            );
        }
        assert_eq!(
            s.verify(&case, "", &exp, &mac, now),
            Err(LinkError::Invalid)
        );
    }

    #[test]
    fn field_boundaries_cannot_be_shifted() {
        let s = sh();
        // ("ab", "c") and ("a", "bc") must not share a MAC.
        assert_ne!(s.sign("ab", "c", 1), s.sign("a", "bc", 1));
    }

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("warden-selfhelp-key-{}", new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = load_or_create_key(&dir).unwrap();
        let b = load_or_create_key(&dir).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, [0u8; 32]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.join(KEY_FILE), "not hex").unwrap();
        let e = load_or_create_key(&dir).unwrap_err().to_string();
        assert!(e.contains("selfhelp.key") && e.contains("64 hex"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn redaction_masks_mailboxes_and_other_addresses() {
        let text = "From: Bob.Smith+x@victim.example, to abuse@isp.example.\n\
                    Scan from 192.0.2.10 to 203.0.113.5:22 and 2001:db8::99; seen at 10:20:30. user@localhost";
        let out = redact(text, "192.0.2.10", &Redaction::default());
        assert!(
            out.contains("[hidden]@victim.example") && out.contains("[hidden]@isp.example."),
            "{out}"
        );
        assert!(
            !out.contains("Bob.Smith") && !out.contains("abuse@"),
            "{out}"
        );
        assert!(
            out.contains("from 192.0.2.10 to [address hidden]:22"),
            "{out}"
        );
        assert!(out.contains("and [address hidden];"), "{out}");
        assert!(
            out.contains("10:20:30.") && out.contains("user@localhost"),
            "{out}"
        );
        let off = Redaction {
            hide_reporter: false,
            mask_email_local_parts: false,
            hide_other_addresses: false,
        };
        assert_eq!(redact(text, "192.0.2.10", &off), text);
    }

    #[test]
    fn customers_never_reopen_or_unsuspend() {
        use CaseState::*;
        assert_eq!(
            action_for(ReplyKind::Reply, Notified),
            CaseAction::CustomerReplied
        );
        assert_eq!(
            action_for(ReplyKind::Reply, CustomerReplied),
            CaseAction::Note
        );
        assert_eq!(action_for(ReplyKind::Reply, Closed), CaseAction::Note);
        assert_eq!(
            action_for(ReplyKind::Resolved, Escalated),
            CaseAction::Resolve
        );
        assert_eq!(action_for(ReplyKind::Resolved, Suspended), CaseAction::Note);
        assert_eq!(action_for(ReplyKind::Resolved, Resolved), CaseAction::Note);
    }
}
