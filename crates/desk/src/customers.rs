//! The customer view: the customer list with search, and one customer with its holdings and
//! validity periods, its newest cases and its repeat-offender count (the web UI's inventory
//! pages read it; the inventory itself is written by [`crate::inventory`]).

use crate::cases;
use crate::error::{DeskError, Result};
use crate::inventory;
use crate::queue::{self, QueueFilter, QueueRow};
use crate::store::{Store, from_ms};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// One customer row of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRow {
    /// Customer id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// `s` with LIKE wildcards escaped (`\` is the escape character), lower-cased.
fn like_pattern(s: &str) -> String {
    let mut out = String::from("%");
    for ch in s.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

/// A page of at most `page_size` customers whose id or name contains `q` (case-insensitive),
/// ordered by id, after `after`; and the cursor of the next page.
pub async fn search(
    store: &Store,
    q: &str,
    after: &str,
    page_size: i64,
) -> Result<(Vec<CustomerRow>, Option<String>)> {
    let pat = like_pattern(q);
    let rows = sqlx::query(
        "SELECT id, name FROM customers
         WHERE ($1 = '%%' OR LOWER(id) LIKE $1 ESCAPE '\\' OR LOWER(name) LIKE $1 ESCAPE '\\')
           AND id > $2
         ORDER BY id LIMIT $3",
    )
    .bind(&pat)
    .bind(after)
    .bind(page_size + 1)
    .fetch_all(store.pool())
    .await
    .map_err(DeskError::db("customer search"))?;
    let db = DeskError::db;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(CustomerRow {
            id: r.try_get(0).map_err(db("customer row"))?,
            name: r.try_get(1).map_err(db("customer row"))?,
        });
    }
    let next = if out.len() as i64 > page_size {
        out.truncate(page_size as usize);
        out.last().map(|c| c.id.clone())
    } else {
        None
    };
    Ok((out, next))
}

/// A holding (prefix, domain or subscriber id) with its validity period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    /// The prefix, domain or subscriber id.
    pub value: String,
    /// A shared (CGN) pool.
    pub shared: bool,
    /// Subscriber-side space behind a CGN: matched only against the inside address the NAT
    /// logs name, so the analyst must not read it as a public block.
    pub inside: bool,
    /// Start.
    pub valid_from: DateTime<Utc>,
    /// End (exclusive), if it ended.
    pub valid_to: Option<DateTime<Utc>>,
}

/// Everything the customer page shows.
#[derive(Debug, Clone)]
pub struct CustomerView {
    /// The record with contacts.
    pub customer: inventory::Customer,
    /// Address blocks, oldest holding first.
    pub prefixes: Vec<Holding>,
    /// Domains, oldest holding first.
    pub domains: Vec<Holding>,
    /// Subscriber ids (RADIUS user names, CGN subscriber ids) that NAT attribution maps to
    /// this customer, oldest holding first.
    pub subscribers: Vec<Holding>,
    /// Newest cases.
    pub cases: Vec<QueueRow>,
    /// Cases opened in the last `repeat_days` days (the repeat-offender count).
    pub repeat: i64,
}

/// Loads what the customer page shows: the record, its holdings, its newest `cases_shown`
/// cases and its repeat-offender count over `repeat_days`.
pub async fn view(
    store: &Store,
    id: &str,
    cases_shown: i64,
    repeat_days: i64,
    now: DateTime<Utc>,
) -> Result<CustomerView> {
    let customer = inventory::customer(store, id).await?;
    let db = DeskError::db;
    let holdings = |sql: &'static str, ctx: &'static str| async move {
        let rows = sqlx::query(sql)
            .bind(id)
            .fetch_all(store.pool())
            .await
            .map_err(db(ctx))?;
        rows.iter()
            .map(|r| {
                Ok(Holding {
                    value: r.try_get(0).map_err(db(ctx))?,
                    shared: r.try_get::<i32, _>(1).map_err(db(ctx))? != 0,
                    inside: r.try_get::<i32, _>(2).map_err(db(ctx))? != 0,
                    valid_from: from_ms(r.try_get(3).map_err(db(ctx))?),
                    valid_to: r
                        .try_get::<Option<i64>, _>(4)
                        .map_err(db(ctx))?
                        .map(from_ms),
                })
            })
            .collect::<Result<Vec<_>>>()
    };
    let prefixes = holdings(
        "SELECT prefix, shared, inside, valid_from, valid_to FROM prefixes WHERE customer_id = $1 ORDER BY valid_from, prefix",
        "customer prefixes",
    )
    .await?;
    let domains = holdings(
        "SELECT domain, 0, 0, valid_from, valid_to FROM domains WHERE customer_id = $1 ORDER BY valid_from, domain",
        "customer domains",
    )
    .await?;
    let subscribers = holdings(
        "SELECT subscriber, 0, 0, valid_from, valid_to FROM subscribers WHERE customer_id = $1 ORDER BY valid_from, subscriber",
        "customer subscribers",
    )
    .await?;
    let filter = QueueFilter {
        customer: Some(id.to_owned()),
        ..Default::default()
    };
    let cases = queue::newest(store, &filter, cases_shown, now).await?;
    let repeat = cases::repeat_count(store, id, now, repeat_days).await?;
    Ok(CustomerView {
        customer,
        prefixes,
        domains,
        subscribers,
        cases,
        repeat,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("Ac%_\\"), "%ac\\%\\_\\\\%");
        assert_eq!(like_pattern(""), "%%");
    }
}
