//! Delivery: batching per customer, acknowledgements, webhooks, retries. Both backends.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

mod common;

use common::{desk, stores, t};
use std::sync::Mutex;
use warden_desk::cases::{self, CaseState};
use warden_desk::inventory::{self, InventoryDoc};
use warden_desk::notify::{BoxFut, Courier, Mailer, OutgoingMail, Templates, WebhookSender};
use warden_desk::{DeskError, Policy};

/// (url, body, headers) of one posted webhook.
type Hook = (String, String, Vec<(String, String)>);

#[derive(Default)]
struct Capture {
    mails: Mutex<Vec<OutgoingMail>>,
    hooks: Mutex<Vec<Hook>>,
    fail: bool,
}

impl Mailer for Capture {
    fn send<'a>(&'a self, mail: &'a OutgoingMail) -> BoxFut<'a, ()> {
        Box::pin(async move {
            if self.fail {
                return Err(DeskError::Delivery {
                    recipient: mail.to.clone(),
                    reason: "relay down".into(),
                });
            }
            self.mails.lock().unwrap().push(mail.clone());
            Ok(())
        })
    }
}

impl WebhookSender for Capture {
    fn post<'a>(
        &'a self,
        url: &'a str,
        body: &'a str,
        headers: &'a [(String, String)],
    ) -> BoxFut<'a, ()> {
        Box::pin(async move {
            self.hooks
                .lock()
                .unwrap()
                .push((url.into(), body.into(), headers.to_vec()));
            Ok(())
        })
    }
}

const INVENTORY: &[u8] = b"customer,name,kind,value
acme,Acme Hosting,prefix,192.0.2.0/24
acme,,abuse,abuse@acme.example
";

#[tokio::test]
async fn notices_are_batched_per_customer_and_acks_sent() {
    for (name, store, dir, _schema) in stores("notify").await {
        inventory::import(&store, &InventoryDoc::from_csv(INVENTORY).unwrap(), t(0))
            .await
            .unwrap();
        let policy = Policy {
            webhook_url: "http://127.0.0.1:1/h".into(),
            webhook_secret: "s3cret".into(),
            from_address: "abuse@isp.example".into(),
            ..Policy::default()
        };
        let d = desk(store.clone(), &dir, policy.clone());
        let r = d
            .ingest(b"TESTREPORT person@reporter.example\nspam 192.0.2.1\nspam 192.0.2.2\nport_scan 192.0.2.3\n".to_vec(), warden_desk::Channel::Http, None, t(0))
            .await
            .unwrap();
        let templates = Templates::default();
        let cap = Capture::default();
        let courier = Courier {
            store: &store,
            policy: &policy,
            templates: &templates,
            mailer: &cap,
            webhooks: &cap,
            self_help: None,
        };
        // Normal classes wait for the batch window: only the acknowledgement goes now.
        let first = courier.deliver_due(t(0)).await.unwrap();
        assert_eq!(first.mails, 1, "{name}");
        {
            let mails = cap.mails.lock().unwrap();
            assert_eq!(mails[0].to, "person@reporter.example");
            assert!(
                mails[0].body.contains(&r.events[0].case_id),
                "{name}: ack carries the case reference"
            );
        }
        // After the window: ONE notice with all three cases.
        let second = courier.deliver_due(t(1)).await.unwrap();
        assert_eq!(second.mails, 1, "{name}");
        let mails = cap.mails.lock().unwrap().clone();
        let notice = &mails[1];
        assert_eq!(notice.to, "abuse@acme.example");
        assert_eq!(notice.from, "abuse@isp.example");
        assert!(
            notice.subject.contains("3 abuse case"),
            "{}",
            notice.subject
        );
        for e in &r.events {
            assert!(notice.body.contains(&e.case_id), "{name}");
        }
        assert!(notice.body.contains("Acme Hosting"));
        assert!(
            notice.body.contains("spam 192.0.2.1"),
            "{name}: evidence excerpt"
        );
        assert_eq!(
            cases::get(&store, &r.events[0].case_id)
                .await
                .unwrap()
                .state,
            CaseState::Notified
        );
        // Nothing is sent twice.
        assert_eq!(courier.deliver_due(t(2)).await.unwrap().mails, 0);

        // Suspension produces a signed webhook.
        cases::apply(
            &store,
            &policy,
            &r.events[0].case_id,
            cases::CaseAction::Suspend,
            "a",
            "",
            t(3),
        )
        .await
        .unwrap();
        assert_eq!(courier.deliver_due(t(3)).await.unwrap().webhooks, 1);
        let hooks = cap.hooks.lock().unwrap().clone();
        let (url, body, headers) = &hooks[0];
        assert_eq!(url, "http://127.0.0.1:1/h");
        let sig = &headers
            .iter()
            .find(|(k, _)| k == "X-Warden-Signature")
            .unwrap()
            .1;
        assert_eq!(
            sig,
            &warden_desk::notify::sign_webhook("s3cret", body, t(3)).unwrap()
        );
        assert!(body.contains("\"suspended\""));
        store.close().await;
    }
}

#[tokio::test]
async fn failed_delivery_is_retried_later() {
    for (name, store, dir, _schema) in stores("retry").await {
        let policy = Policy::default();
        let d = desk(store.clone(), &dir, policy.clone());
        d.ingest(
            b"TESTREPORT person@reporter.example\nspam 192.0.2.1\n".to_vec(),
            warden_desk::Channel::Http,
            None,
            t(0),
        )
        .await
        .unwrap();
        let templates = Templates::default();
        let down = Capture {
            fail: true,
            ..Default::default()
        };
        let courier = Courier {
            store: &store,
            policy: &policy,
            templates: &templates,
            mailer: &down,
            webhooks: &down,
            self_help: None,
        };
        assert_eq!(courier.deliver_due(t(0)).await.unwrap().failed, 1, "{name}");
        let up = Capture::default();
        let courier = Courier {
            store: &store,
            policy: &policy,
            templates: &templates,
            mailer: &up,
            webhooks: &up,
            self_help: None,
        };
        // Backed off: not yet due a second later, due after the back-off.
        assert_eq!(
            courier
                .deliver_due(t(0) + chrono::Duration::seconds(1))
                .await
                .unwrap()
                .mails,
            0,
            "{name}"
        );
        assert_eq!(courier.deliver_due(t(1)).await.unwrap().mails, 1, "{name}");
        store.close().await;
    }
}
