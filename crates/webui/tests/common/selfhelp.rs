//! Self-help fixtures: a desk with self-help links turned on, and the customer notices its
//! courier writes (through the real templates), captured instead of sent.

use chrono::{DateTime, Duration, Utc};
use std::sync::Mutex;
use warden_desk::Desk;
use warden_desk::notify::{BoxFut, Courier, Mailer, OutgoingMail, Templates, WebhookSender};
use warden_desk::selfhelp::SelfHelp;

/// Mail and webhooks kept in memory.
#[derive(Default)]
pub struct Capture {
    pub mails: Mutex<Vec<OutgoingMail>>,
}

impl Mailer for Capture {
    fn send<'a>(&'a self, mail: &'a OutgoingMail) -> BoxFut<'a, ()> {
        Box::pin(async move {
            self.mails.lock().unwrap().push(mail.clone());
            Ok(())
        })
    }
}

impl WebhookSender for Capture {
    fn post<'a>(&'a self, _: &'a str, _: &'a str, _: &'a [(String, String)]) -> BoxFut<'a, ()> {
        Box::pin(async { Ok(()) })
    }
}

/// The test key: fixed, so a test can also forge links with another one.
pub const KEY: [u8; 32] = [42; 32];

/// `desk` with self-help links to `public_url` valid for 30 days.
pub fn enable(desk: Desk, public_url: &str) -> Desk {
    desk.with_self_help(SelfHelp::new(KEY, public_url, Duration::days(30)))
}

/// Delivers everything due by `at` (past the batch window) and returns the mails.
pub async fn deliver(desk: &Desk, at: DateTime<Utc>) -> Vec<OutgoingMail> {
    let cap = Capture::default();
    let templates = Templates::default();
    let courier = Courier {
        store: desk.store(),
        policy: desk.policy(),
        templates: &templates,
        mailer: &cap,
        webhooks: &cap,
        self_help: desk.self_help(),
    };
    courier.deliver_due(at).await.unwrap();
    cap.mails.into_inner().unwrap()
}

/// The self-help links in a mail body, in order.
pub fn links(body: &str) -> Vec<String> {
    body.split_whitespace()
        .filter(|w| w.contains("/ui/help/"))
        .map(str::to_owned)
        .collect()
}

/// A migrated store in a fresh PostgreSQL schema, with the schema's guard (keep it while the
/// store is used).
pub async fn pg_store() -> (warden_desk::Store, super::PgSchema) {
    let schema = super::PgSchema::create("t").await;
    let store = warden_desk::Store::connect(&schema.url()).await.unwrap();
    (store, schema)
}

/// The same four cases as `common::desk`, on any store.
pub async fn desk_on(store: warden_desk::Store, dir: &std::path::Path) -> Desk {
    use warden_desk::inventory::{self, InventoryDoc};
    use warden_desk::tokens::{self, Role};
    let now = Utc::now();
    tokens::register(&store, super::ANALYST, "alice", Role::Analyst, now)
        .await
        .unwrap();
    inventory::import(
        &store,
        &InventoryDoc::from_csv(super::INVENTORY).unwrap(),
        now,
    )
    .await
    .unwrap();
    let desk = Desk::new(
        store.clone(),
        warden_desk::RawStore::open(dir.join("raw")).unwrap(),
        warden_desk::Policy::default(),
        std::sync::Arc::new(warden_desk::InventoryAttributor::new(store)),
        super::line_format,
    );
    let reports: [&[u8]; 4] = [
        b"TESTREPORT trap@spamtrap.example\nspam 192.0.2.10\nspam 192.0.2.10\n",
        b"TESTREPORT phish@reporter.example\nphishing login-verify.example\n",
        b"TESTREPORT ids@reporter.example\nport_scan 198.51.100.7\n",
        super::HOSTILE_REPORT,
    ];
    for r in reports {
        desk.ingest(r.to_vec(), warden_desk::Channel::Http, None, now)
            .await
            .unwrap();
    }
    desk
}
