//! The customer inventory: who holds which address block or domain, over which period, and whom
//! to tell (abuse and technical contacts).
//!
//! Validity periods matter because addresses move between customers: a report about last
//! month's spam must reach last month's holder (Hosting BCP HC-10). Prefixes marked `shared` are
//! carrier-grade NAT pools; a report about them needs a source port and a zoned time before it
//! names one subscriber (M3AAWG LSN logging BCP, RFC 6302).
//!
//! Import accepts one flat CSV (easy to export from a billing system) or a nested JSON document;
//! both become an [`InventoryDoc`]. Re-importing the same file changes nothing.

use crate::error::{DeskError, Result};
use crate::store::{Store, from_ms, to_ms};
use chrono::{DateTime, NaiveDate, Utc};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::net::IpAddr;

/// The largest inventory file accepted in one import.
pub const MAX_IMPORT_BYTES: usize = 64 << 20;
/// The most rows (CSV lines or JSON items) accepted in one import.
pub const MAX_IMPORT_ROWS: usize = 1_000_000;

/// A contact's role, after RFC 2142's role mailboxes: abuse reports go to `abuse`, operational
/// questions to `technical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactRole {
    /// Receives abuse notifications.
    Abuse,
    /// Receives technical questions; copied when no abuse contact exists.
    Technical,
}

impl ContactRole {
    fn as_str(self) -> &'static str {
        match self {
            Self::Abuse => "abuse",
            Self::Technical => "technical",
        }
    }
}

/// A contact of a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Abuse or technical.
    pub role: ContactRole,
    /// The mail address.
    pub email: String,
}

/// An address block held over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefixHolding {
    /// The block, e.g. `192.0.2.0/24` or `2001:db8::/48`.
    pub prefix: IpNet,
    /// Start of the holding (inclusive).
    #[serde(default = "epoch")]
    pub valid_from: DateTime<Utc>,
    /// End of the holding (exclusive); `None` while still held.
    #[serde(default)]
    pub valid_to: Option<DateTime<Utc>>,
    /// A carrier-grade NAT pool shared by many subscribers.
    #[serde(default)]
    pub shared: bool,
    /// Subscriber-side (inside) space behind a CGN, e.g. `100.64.0.7/32`: matched only against
    /// the inside address the NAT logs name, never against a reported public address.
    #[serde(default)]
    pub inside: bool,
}

/// A subscriber identifier held over a period: the RADIUS `User-Name` or `Calling-Station-Id`,
/// or the subscriber id a CGN writes in its logs. NAT attribution maps it to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriberHolding {
    /// The identifier, compared exactly.
    pub subscriber: String,
    /// Start of the holding (inclusive).
    #[serde(default = "epoch")]
    pub valid_from: DateTime<Utc>,
    /// End of the holding (exclusive); `None` while still held.
    #[serde(default)]
    pub valid_to: Option<DateTime<Utc>>,
}

/// A domain held over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainHolding {
    /// The domain (lower case, no trailing dot); sub-domains belong to it too.
    pub domain: String,
    /// Start of the holding (inclusive).
    #[serde(default = "epoch")]
    pub valid_from: DateTime<Utc>,
    /// End of the holding (exclusive); `None` while still held.
    #[serde(default)]
    pub valid_to: Option<DateTime<Utc>>,
}

fn epoch() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}

/// One customer with everything it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// The operator's customer id (account number).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Whom to tell.
    #[serde(default)]
    pub contacts: Vec<Contact>,
    /// Address blocks.
    #[serde(default)]
    pub prefixes: Vec<PrefixHolding>,
    /// Domains.
    #[serde(default)]
    pub domains: Vec<DomainHolding>,
    /// Subscriber identifiers (CGN customers), for NAT attribution.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscribers: Vec<SubscriberHolding>,
}

/// An inventory document: the unit of import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryDoc {
    /// The customers.
    pub customers: Vec<Customer>,
}

/// What an import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// Customers in the input.
    pub customers: usize,
    /// Contacts in the input.
    pub contacts: usize,
    /// Prefix holdings in the input.
    pub prefixes: usize,
    /// Domain holdings in the input.
    pub domains: usize,
    /// Subscriber identifiers in the input.
    pub subscribers: usize,
}

/// A holder found for an address or domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Customer id.
    pub customer_id: String,
    /// Customer name.
    pub customer_name: String,
    /// The holding that matched (`192.0.2.0/24` or `example.com`).
    pub matched: String,
    /// Start of the holding.
    pub valid_from: DateTime<Utc>,
    /// End of the holding, if it ended.
    pub valid_to: Option<DateTime<Utc>>,
    /// The match is a shared (CGN) pool.
    pub shared: bool,
}

impl InventoryDoc {
    /// Parses an inventory from JSON (`{"customers": [...]}`).
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        check_size(bytes)?;
        let doc: InventoryDoc = serde_json::from_slice(bytes)
            .map_err(|e| DeskError::invalid("inventory JSON", e.to_string()))?;
        let rows: usize = doc
            .customers
            .iter()
            .map(|c| {
                1 + c.contacts.len() + c.prefixes.len() + c.domains.len() + c.subscribers.len()
            })
            .sum();
        if rows > MAX_IMPORT_ROWS {
            return Err(DeskError::invalid(
                "inventory JSON",
                format!("{rows} items, over the {MAX_IMPORT_ROWS} limit"),
            ));
        }
        doc.validate()?;
        Ok(doc)
    }

    /// Parses the flat CSV form. Header: `customer,name,kind,value,valid_from,valid_to` where
    /// `kind` is `prefix`, `shared_prefix` (a CGN pool), `inside_prefix` (the customer's address
    /// behind a CGN), `subscriber` (a RADIUS or CGN subscriber id), `domain`, `abuse` or
    /// `technical` (a contact address in `value`); dates are RFC 3339 or `YYYY-MM-DD` (UTC),
    /// empty for open. Refuses the file on its first bad line (see
    /// [`InventoryDoc::from_csv_lines`] for all).
    pub fn from_csv(bytes: &[u8]) -> Result<Self> {
        Self::from_csv_lines(bytes).map_err(|errs| {
            let first = errs.into_iter().next();
            match first {
                Some(LineError { line: 0, reason }) => {
                    DeskError::invalid("inventory CSV header", reason)
                }
                Some(LineError { line, reason }) => {
                    DeskError::invalid(format!("inventory CSV line {line}"), reason)
                }
                None => DeskError::invalid("inventory CSV", "refused"),
            }
        })
    }

    /// Like [`InventoryDoc::from_csv`], but reports every bad line (up to
    /// [`MAX_LINE_ERRORS`]) instead of the first, so that an operator fixing an export from a
    /// billing system sees all problems in one go. Line 0 is the file itself (size, header).
    pub fn from_csv_lines(bytes: &[u8]) -> std::result::Result<Self, Vec<LineError>> {
        let whole = |reason: String| vec![LineError { line: 0, reason }];
        check_size(bytes).map_err(|e| whole(e.to_string()))?;
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(bytes);
        let headers = rdr.headers().map_err(|e| whole(e.to_string()))?.clone();
        let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
        let (Some(c_id), Some(c_kind), Some(c_value)) =
            (col("customer"), col("kind"), col("value"))
        else {
            return Err(whole(
                "needs columns customer, kind, value (and optionally name, valid_from, valid_to)"
                    .into(),
            ));
        };
        let (c_name, c_from, c_to) = (col("name"), col("valid_from"), col("valid_to"));
        let mut doc = InventoryDoc::default();
        let mut index: std::collections::HashMap<String, usize> = Default::default();
        let mut errors = Vec::new();
        for (n, rec) in rdr.records().enumerate() {
            let line = n + 2;
            if n >= MAX_IMPORT_ROWS {
                errors.push(LineError {
                    line: 0,
                    reason: format!("more than {MAX_IMPORT_ROWS} rows"),
                });
                break;
            }
            if let Err(reason) = csv_row(
                &mut doc,
                &mut index,
                rec,
                [c_id, c_kind, c_value],
                [c_name, c_from, c_to],
            ) {
                errors.push(LineError { line, reason });
                if errors.len() >= MAX_LINE_ERRORS {
                    break;
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        doc.validate().map_err(|e| whole(e.to_string()))?;
        Ok(doc)
    }

    /// Checks every field a file could get wrong, naming the customer.
    pub fn validate(&self) -> Result<()> {
        for c in &self.customers {
            let what = || format!("inventory customer {:?}", c.id);
            if c.id.is_empty() || c.id.len() > 200 {
                return Err(DeskError::invalid(
                    what(),
                    "customer id must be 1 to 200 characters",
                ));
            }
            for ct in &c.contacts {
                if !looks_like_mail(&ct.email) {
                    return Err(DeskError::invalid(
                        what(),
                        format!("{:?} is not a mail address", ct.email),
                    ));
                }
            }
            for d in &c.domains {
                if normalize_domain(&d.domain).is_none() {
                    return Err(DeskError::invalid(
                        what(),
                        format!("{:?} is not a domain name", d.domain),
                    ));
                }
            }
            for p in &c.prefixes {
                if p.valid_to.is_some_and(|to| to <= p.valid_from) {
                    return Err(DeskError::invalid(
                        what(),
                        format!("{}: valid_to is not after valid_from", p.prefix),
                    ));
                }
                if p.shared && p.inside {
                    return Err(DeskError::invalid(
                        what(),
                        format!(
                            "{}: a prefix is either a shared (outside) pool or inside space, not both",
                            p.prefix
                        ),
                    ));
                }
            }
            for sb in &c.subscribers {
                let id = sb.subscriber.trim();
                if id.is_empty() || id.len() > 253 || id.chars().any(char::is_control) {
                    return Err(DeskError::invalid(
                        what(),
                        format!(
                            "subscriber {:?}: must be 1 to 253 characters without control characters",
                            sb.subscriber
                        ),
                    ));
                }
                if sb.valid_to.is_some_and(|to| to <= sb.valid_from) {
                    return Err(DeskError::invalid(
                        what(),
                        format!(
                            "subscriber {:?}: valid_to is not after valid_from",
                            sb.subscriber
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Most line errors one CSV import reports (the rest would only repeat the same mistake).
pub const MAX_LINE_ERRORS: usize = 100;

/// A refused CSV line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    /// 1-based line number (the header is line 1); 0 for the file as a whole.
    pub line: usize,
    /// Why the line was refused.
    pub reason: String,
}

/// Adds one CSV record to `doc`, or says what is wrong with it. Checks here what
/// [`InventoryDoc::validate`] would check later, so the error names the line.
fn csv_row(
    doc: &mut InventoryDoc,
    index: &mut std::collections::HashMap<String, usize>,
    rec: std::result::Result<csv::StringRecord, csv::Error>,
    [c_id, c_kind, c_value]: [usize; 3],
    [c_name, c_from, c_to]: [Option<usize>; 3],
) -> std::result::Result<(), String> {
    let rec = rec.map_err(|e| e.to_string())?;
    let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("");
    let id = get(Some(c_id));
    if id.is_empty() {
        return Err("empty customer id".into());
    }
    if id.len() > 200 {
        return Err("customer id must be 1 to 200 characters".into());
    }
    let from = parse_time(get(c_from))?.unwrap_or_else(epoch);
    let to = parse_time(get(c_to))?;
    if to.is_some_and(|to| to <= from) {
        return Err("valid_to is not after valid_from".into());
    }
    let value = get(Some(c_value));
    let kind = get(Some(c_kind)).to_ascii_lowercase();
    let shared = kind == "shared_prefix";
    let inside = kind == "inside_prefix";
    let item = match kind.as_str() {
        "prefix" | "shared_prefix" | "inside_prefix" => Some(CsvItem::Prefix(parse_prefix(value)?)),
        "subscriber" if value.is_empty() || value.len() > 253 => {
            return Err("subscriber id must be 1 to 253 characters".into());
        }
        "subscriber" => Some(CsvItem::Subscriber),
        "domain" if normalize_domain(value).is_none() => {
            return Err(format!("{value:?} is not a domain name"));
        }
        "domain" => Some(CsvItem::Domain),
        "abuse" | "technical" if !looks_like_mail(value) => {
            return Err(format!("{value:?} is not a mail address"));
        }
        "abuse" => Some(CsvItem::Contact(ContactRole::Abuse)),
        "technical" => Some(CsvItem::Contact(ContactRole::Technical)),
        "" | "customer" => None,
        other => {
            return Err(format!(
                "unknown kind {other:?}: use prefix, shared_prefix, inside_prefix, subscriber, domain, abuse or technical"
            ));
        }
    };
    let at = *index.entry(id.to_owned()).or_insert_with(|| {
        doc.customers.push(Customer {
            id: id.to_owned(),
            name: id.to_owned(),
            contacts: vec![],
            prefixes: vec![],
            domains: vec![],
            subscribers: vec![],
        });
        doc.customers.len() - 1
    });
    let Some(cust) = doc.customers.get_mut(at) else {
        return Ok(());
    };
    let name = get(c_name);
    if !name.is_empty() {
        cust.name = name.to_owned();
    }
    match item {
        Some(CsvItem::Prefix(prefix)) => cust.prefixes.push(PrefixHolding {
            prefix,
            valid_from: from,
            valid_to: to,
            shared,
            inside,
        }),
        Some(CsvItem::Subscriber) => cust.subscribers.push(SubscriberHolding {
            subscriber: value.to_owned(),
            valid_from: from,
            valid_to: to,
        }),
        Some(CsvItem::Domain) => cust.domains.push(DomainHolding {
            domain: value.to_owned(),
            valid_from: from,
            valid_to: to,
        }),
        Some(CsvItem::Contact(role)) => cust.contacts.push(Contact {
            role,
            email: value.to_owned(),
        }),
        None => {}
    }
    Ok(())
}

enum CsvItem {
    Prefix(IpNet),
    Subscriber,
    Domain,
    Contact(ContactRole),
}

fn check_size(bytes: &[u8]) -> Result<()> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(DeskError::TooLarge {
            what: "inventory file",
            size: bytes.len(),
            limit: MAX_IMPORT_BYTES,
        });
    }
    Ok(())
}

fn parse_time(s: &str) -> std::result::Result<Option<DateTime<Utc>>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| format!("{s:?} is not an RFC 3339 time or a YYYY-MM-DD date"))
}

fn parse_prefix(s: &str) -> std::result::Result<IpNet, String> {
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map(|n| n.trunc())
        .map_err(|_| format!("{s:?} is not an address or prefix (192.0.2.0/24, 2001:db8::/32)"))
}

fn looks_like_mail(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && s.len() <= 254
        && normalize_domain(domain).is_some()
        && !s.contains(char::is_whitespace)
}

/// Lower-cases a domain and drops a trailing dot; `None` when it cannot be a host name.
pub fn normalize_domain(s: &str) -> Option<String> {
    let d = s.trim().trim_end_matches('.').to_ascii_lowercase();
    let ok = !d.is_empty()
        && d.len() <= 253
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    ok.then_some(d)
}

/// An address as 32 hex digits of its IPv6 (or IPv4-mapped) form: text order is address order.
pub(crate) fn ip_key(ip: IpAddr) -> String {
    let v6 = match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    };
    format!("{:032x}", u128::from(v6))
}

fn holding_id(customer: &str, kind: &str, value: &str, from: i64) -> String {
    warden_model::sha256_hex(format!("{customer}\0{kind}\0{value}\0{from}").as_bytes())
}

/// Writes an inventory document: customers upserted, holdings keyed by (customer, value, start)
/// so that a re-import only updates end dates and flags.
pub async fn import(
    store: &Store,
    doc: &InventoryDoc,
    now: DateTime<Utc>,
) -> Result<ImportSummary> {
    doc.validate()?;
    let _guard = store.write_guard().await;
    let mut tx = store
        .pool()
        .begin()
        .await
        .map_err(DeskError::db("inventory import"))?;
    let mut sum = ImportSummary::default();
    for c in &doc.customers {
        sum.customers += 1;
        sqlx::query(
            "INSERT INTO customers (id, name, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name",
        )
        .bind(&c.id)
        .bind(&c.name)
        .bind(to_ms(now))
        .execute(&mut *tx)
        .await
        .map_err(DeskError::db("inventory import: customer"))?;
        for ct in &c.contacts {
            sum.contacts += 1;
            sqlx::query("INSERT INTO contacts (customer_id, role, email) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(&c.id)
                .bind(ct.role.as_str())
                .bind(ct.email.trim())
                .execute(&mut *tx)
                .await
                .map_err(DeskError::db("inventory import: contact"))?;
        }
        for p in &c.prefixes {
            sum.prefixes += 1;
            let net = p.prefix.trunc();
            let from = to_ms(p.valid_from);
            sqlx::query(
                "INSERT INTO prefixes (id, customer_id, prefix, lo, hi, shared, valid_from, valid_to, inside)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (id) DO UPDATE SET valid_to = excluded.valid_to, shared = excluded.shared,
                 inside = excluded.inside",
            )
            .bind(holding_id(&c.id, "prefix", &net.to_string(), from))
            .bind(&c.id)
            .bind(net.to_string())
            .bind(ip_key(net.network()))
            .bind(ip_key(net.broadcast()))
            .bind(i32::from(p.shared))
            .bind(from)
            .bind(p.valid_to.map(to_ms))
            .bind(i32::from(p.inside))
            .execute(&mut *tx)
            .await
            .map_err(DeskError::db("inventory import: prefix"))?;
        }
        for sb in &c.subscribers {
            sum.subscribers += 1;
            let id = sb.subscriber.trim();
            let from = to_ms(sb.valid_from);
            sqlx::query(
                "INSERT INTO subscribers (id, customer_id, subscriber, valid_from, valid_to) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE SET valid_to = excluded.valid_to",
            )
            .bind(holding_id(&c.id, "subscriber", id, from))
            .bind(&c.id)
            .bind(id)
            .bind(from)
            .bind(sb.valid_to.map(to_ms))
            .execute(&mut *tx)
            .await
            .map_err(DeskError::db("inventory import: subscriber"))?;
        }
        for d in &c.domains {
            sum.domains += 1;
            let name = normalize_domain(&d.domain).unwrap_or_default();
            let from = to_ms(d.valid_from);
            sqlx::query(
                "INSERT INTO domains (id, customer_id, domain, valid_from, valid_to) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE SET valid_to = excluded.valid_to",
            )
            .bind(holding_id(&c.id, "domain", &name, from))
            .bind(&c.id)
            .bind(&name)
            .bind(from)
            .bind(d.valid_to.map(to_ms))
            .execute(&mut *tx)
            .await
            .map_err(DeskError::db("inventory import: domain"))?;
        }
    }
    tx.commit()
        .await
        .map_err(DeskError::db("inventory import: commit"))?;
    Ok(sum)
}

/// Every holder of the public address `ip` at time `at`, most specific prefix first (inside
/// prefixes are not consulted).
pub async fn holders_of_ip(store: &Store, ip: IpAddr, at: DateTime<Utc>) -> Result<Vec<Holder>> {
    prefix_holders(store, ip, at, false).await
}

/// Every customer whose inside (behind-CGN) space holds `ip` at time `at`, most specific prefix
/// first: the customer behind an inside address that the NAT logs name.
pub async fn holders_of_inside_ip(
    store: &Store,
    ip: IpAddr,
    at: DateTime<Utc>,
) -> Result<Vec<Holder>> {
    prefix_holders(store, ip, at, true).await
}

/// Every customer holding the subscriber identifier `subscriber` at time `at`.
pub async fn holders_of_subscriber(
    store: &Store,
    subscriber: &str,
    at: DateTime<Utc>,
) -> Result<Vec<Holder>> {
    let rows = sqlx::query(
        "SELECT s.customer_id, c.name, s.subscriber, s.valid_from, s.valid_to
         FROM subscribers s JOIN customers c ON c.id = s.customer_id
         WHERE s.subscriber = $1 AND s.valid_from <= $2 AND (s.valid_to IS NULL OR s.valid_to > $2)
         ORDER BY s.customer_id",
    )
    .bind(subscriber.trim())
    .bind(to_ms(at))
    .fetch_all(store.pool())
    .await
    .map_err(DeskError::db("inventory lookup by subscriber"))?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id: String = r.try_get(2).map_err(DeskError::db("inventory row"))?;
        out.push(Holder {
            customer_id: r.try_get(0).map_err(DeskError::db("inventory row"))?,
            customer_name: r.try_get(1).map_err(DeskError::db("inventory row"))?,
            matched: format!("subscriber {id}"),
            valid_from: from_ms(r.try_get(3).map_err(DeskError::db("inventory row"))?),
            valid_to: r
                .try_get::<Option<i64>, _>(4)
                .map_err(DeskError::db("inventory row"))?
                .map(from_ms),
            shared: false,
        });
    }
    Ok(out)
}

async fn prefix_holders(
    store: &Store,
    ip: IpAddr,
    at: DateTime<Utc>,
    inside: bool,
) -> Result<Vec<Holder>> {
    let key = ip_key(ip);
    let rows = sqlx::query(
        "SELECT p.customer_id, c.name, p.prefix, p.valid_from, p.valid_to, p.shared
         FROM prefixes p JOIN customers c ON c.id = p.customer_id
         WHERE p.lo <= $1 AND p.hi >= $1 AND p.valid_from <= $2 AND (p.valid_to IS NULL OR p.valid_to > $2)
         AND p.inside = $3",
    )
    .bind(&key)
    .bind(to_ms(at))
    .bind(i32::from(inside))
    .fetch_all(store.pool())
    .await
    .map_err(DeskError::db("inventory lookup by address"))?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(Holder {
            customer_id: r.try_get(0).map_err(DeskError::db("inventory row"))?,
            customer_name: r.try_get(1).map_err(DeskError::db("inventory row"))?,
            matched: r.try_get(2).map_err(DeskError::db("inventory row"))?,
            valid_from: from_ms(r.try_get(3).map_err(DeskError::db("inventory row"))?),
            valid_to: r
                .try_get::<Option<i64>, _>(4)
                .map_err(DeskError::db("inventory row"))?
                .map(from_ms),
            shared: r
                .try_get::<i32, _>(5)
                .map_err(DeskError::db("inventory row"))?
                != 0,
        });
    }
    out.sort_by_key(|h| {
        std::cmp::Reverse(
            h.matched
                .parse::<IpNet>()
                .map(|n| n.prefix_len())
                .unwrap_or(0),
        )
    });
    Ok(out)
}

/// Every holder of `domain` (or the closest parent domain held) at time `at`.
pub async fn holders_of_domain(
    store: &Store,
    domain: &str,
    at: DateTime<Utc>,
) -> Result<Vec<Holder>> {
    let Some(domain) = normalize_domain(domain) else {
        return Err(DeskError::invalid(
            format!("domain {domain:?}"),
            "not a host name",
        ));
    };
    let mut name = domain.as_str();
    loop {
        let rows = sqlx::query(
            "SELECT d.customer_id, c.name, d.domain, d.valid_from, d.valid_to
             FROM domains d JOIN customers c ON c.id = d.customer_id
             WHERE d.domain = $1 AND d.valid_from <= $2 AND (d.valid_to IS NULL OR d.valid_to > $2)",
        )
        .bind(name)
        .bind(to_ms(at))
        .fetch_all(store.pool())
        .await
        .map_err(DeskError::db("inventory lookup by domain"))?;
        if !rows.is_empty() {
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                out.push(Holder {
                    customer_id: r.try_get(0).map_err(DeskError::db("inventory row"))?,
                    customer_name: r.try_get(1).map_err(DeskError::db("inventory row"))?,
                    matched: r.try_get(2).map_err(DeskError::db("inventory row"))?,
                    valid_from: from_ms(r.try_get(3).map_err(DeskError::db("inventory row"))?),
                    valid_to: r
                        .try_get::<Option<i64>, _>(4)
                        .map_err(DeskError::db("inventory row"))?
                        .map(from_ms),
                    shared: false,
                });
            }
            return Ok(out);
        }
        match name.split_once('.') {
            Some((_, parent)) if parent.contains('.') => name = parent,
            _ => return Ok(Vec::new()),
        }
    }
}

/// A customer's record with contacts (for notifications and the API).
pub async fn customer(store: &Store, id: &str) -> Result<Customer> {
    let row = sqlx::query("SELECT id, name FROM customers WHERE id = $1")
        .bind(id)
        .fetch_optional(store.pool())
        .await
        .map_err(DeskError::db("customer lookup"))?
        .ok_or_else(|| DeskError::NotFound {
            what: format!("customer {id:?}"),
        })?;
    let name: String = row.try_get(1).map_err(DeskError::db("customer row"))?;
    let contacts =
        sqlx::query("SELECT role, email FROM contacts WHERE customer_id = $1 ORDER BY role, email")
            .bind(id)
            .fetch_all(store.pool())
            .await
            .map_err(DeskError::db("contacts lookup"))?
            .into_iter()
            .filter_map(|r| {
                let role: String = r.try_get(0).ok()?;
                let email: String = r.try_get(1).ok()?;
                let role = if role == "abuse" {
                    ContactRole::Abuse
                } else {
                    ContactRole::Technical
                };
                Some(Contact { role, email })
            })
            .collect();
    Ok(Customer {
        id: id.to_owned(),
        name,
        contacts,
        prefixes: vec![],
        domains: vec![],
        subscribers: vec![],
    })
}

/// Every customer id and name, for listings.
pub async fn list_customers(store: &Store, limit: i64) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query("SELECT id, name FROM customers ORDER BY id LIMIT $1")
        .bind(limit)
        .fetch_all(store.pool())
        .await
        .map_err(DeskError::db("customer list"))?;
    Ok(rows
        .into_iter()
        .filter_map(|r| Some((r.try_get(0).ok()?, r.try_get(1).ok()?)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_group_by_customer() {
        let csv = b"customer,name,kind,value,valid_from,valid_to\n\
            c1,Acme,prefix,192.0.2.0/24,2026-01-01,\n\
            c1,,abuse,abuse@acme.example,,\n\
            c2,Beta,shared_prefix,198.51.100.7,,\n\
            c2,Beta,domain,Beta.Example.,2026-01-01T00:00:00Z,2026-06-01\n";
        let doc = InventoryDoc::from_csv(csv).unwrap();
        assert_eq!(doc.customers.len(), 2);
        assert_eq!(doc.customers[0].name, "Acme");
        assert_eq!(doc.customers[0].contacts[0].role, ContactRole::Abuse);
        assert_eq!(
            doc.customers[1].prefixes[0].prefix.to_string(),
            "198.51.100.7/32"
        );
        assert!(doc.customers[1].prefixes[0].shared);
        assert!(doc.customers[1].domains[0].valid_to.is_some());
    }

    #[test]
    fn csv_inside_prefixes_and_subscribers() {
        let csv = b"customer,name,kind,value,valid_from,valid_to\n\
            r1,Alice,inside_prefix,100.64.0.7,,\n\
            r2,Bob,subscriber,bob@dsl,2026-01-01,\n";
        let doc = InventoryDoc::from_csv(csv).unwrap();
        let p = &doc.customers[0].prefixes[0];
        assert!(p.inside && !p.shared);
        assert_eq!(p.prefix.to_string(), "100.64.0.7/32");
        assert_eq!(doc.customers[1].subscribers[0].subscriber, "bob@dsl");
        let err = InventoryDoc::from_csv(b"customer,kind,value\nr1,subscriber,\n").unwrap_err();
        assert!(err.to_string().contains("subscriber"), "{err}");
        let mut both = doc.clone();
        both.customers[0].prefixes[0].shared = true;
        let err = both.validate().unwrap_err();
        assert!(err.to_string().contains("not both"), "{err}");
    }

    #[test]
    fn csv_errors_name_the_line() {
        let err =
            InventoryDoc::from_csv(b"customer,kind,value\nc1,prefix,300.1.1.1/8\n").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        let err =
            InventoryDoc::from_csv(b"customer,kind,value\nc1,abuse,not-a-mail\n").unwrap_err();
        assert!(err.to_string().contains("not a mail address"), "{err}");
        let err = InventoryDoc::from_csv(b"who,what\n").unwrap_err();
        assert!(err.to_string().contains("needs columns"), "{err}");
    }

    #[test]
    fn csv_reports_every_bad_line() {
        let csv = b"customer,kind,value,valid_from,valid_to\n\
            c1,prefix,192.0.2.0/24,,\n\
            c1,prefix,300.1.1.1/8,,\n\
            c1,abuse,abuse@c1.example,,\n\
            ,domain,x.example,,\n\
            c2,domain,bad domain,,\n\
            c2,prefix,198.51.100.0/24,2026-06-01,2026-01-01\n\
            c2,frobnicate,x,,\n";
        let errs = InventoryDoc::from_csv_lines(csv).unwrap_err();
        let lines: Vec<usize> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 5, 6, 7, 8], "{errs:?}");
        assert!(errs[0].reason.contains("not an address or prefix"));
        assert!(errs[3].reason.contains("valid_to"));
        assert!(errs[4].reason.contains("unknown kind"));
        let err = InventoryDoc::from_csv(csv).unwrap_err().to_string();
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn ip_keys_sort_as_addresses() {
        let a = ip_key("9.255.255.255".parse().unwrap());
        let b = ip_key("10.0.0.0".parse().unwrap());
        let c = ip_key("2001:db8::1".parse().unwrap());
        assert!(a < b && b < c);
    }
}
