//! Store and engine tests; every test runs on SQLite and on PostgreSQL.
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
use warden_desk::cases::{self, CaseAction, CaseFilter, CaseState};
use warden_desk::inventory::{self, InventoryDoc};
use warden_desk::{Policy, ReportStatus, audit, outbox};

const INVENTORY: &[u8] = b"customer,name,kind,value,valid_from,valid_to
acme,Acme Hosting,prefix,192.0.2.0/24,2026-01-01,
acme,,abuse,abuse@acme.example,,
acme,,domain,acme.example,,
beta,Beta,prefix,192.0.2.128/25,2026-01-01,2026-06-01
beta,,technical,noc@beta.example,,
gamma,Gamma,prefix,198.51.100.0/24,2026-06-01,
cgn,ISP pool,shared_prefix,203.0.113.0/24,,
";

#[tokio::test]
async fn inventory_import_and_lookup_with_validity() {
    for (name, store, _dir, _schema) in stores("inv").await {
        let doc = InventoryDoc::from_csv(INVENTORY).unwrap();
        let sum = inventory::import(&store, &doc, t(0)).await.unwrap();
        assert_eq!(
            (sum.customers, sum.prefixes, sum.domains, sum.contacts),
            (4, 4, 1, 2),
            "{name}"
        );
        // Re-import changes nothing.
        inventory::import(&store, &doc, t(1)).await.unwrap();
        assert_eq!(
            inventory::list_customers(&store, 100).await.unwrap().len(),
            4,
            "{name}"
        );

        let ip = "192.0.2.200".parse().unwrap();
        // In March beta's /25 is the most specific holder; after June only acme's /24 holds it.
        let march = chrono::DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let h = inventory::holders_of_ip(&store, ip, march).await.unwrap();
        assert_eq!(h[0].customer_id, "beta", "{name}");
        let h = inventory::holders_of_ip(&store, ip, t(0)).await.unwrap();
        assert_eq!(h.len(), 1, "{name}");
        assert_eq!(h[0].customer_id, "acme", "{name}");
        // gamma only from June.
        let h = inventory::holders_of_ip(&store, "198.51.100.9".parse().unwrap(), march)
            .await
            .unwrap();
        assert!(h.is_empty(), "{name}");
        let d = inventory::holders_of_domain(&store, "WWW.shop.Acme.Example.", t(0))
            .await
            .unwrap();
        assert_eq!(d[0].customer_id, "acme", "{name}");
        assert!(
            inventory::holders_of_domain(&store, "example", t(0))
                .await
                .unwrap()
                .is_empty()
        );
        let c = inventory::customer(&store, "acme").await.unwrap();
        assert_eq!(c.contacts.len(), 1);
        store.close().await;
    }
}

#[tokio::test]
async fn intake_groups_events_into_cases_and_recognises_resends() {
    for (name, store, dir, _schema) in stores("intake").await {
        inventory::import(&store, &InventoryDoc::from_csv(INVENTORY).unwrap(), t(0))
            .await
            .unwrap();
        let desk = desk(store.clone(), &dir, Policy::default());
        let r1 = b"TESTREPORT person@reporter.example\nspam 192.0.2.10 - 2026-11-23T10:00:00Z\nspam 192.0.2.10\n".to_vec();
        let a = desk
            .ingest(r1.clone(), warden_desk::Channel::Http, None, t(0))
            .await
            .unwrap();
        assert_eq!(a.status, ReportStatus::Processed, "{name}");
        assert!(!a.duplicate);
        assert_eq!(a.events.len(), 2);
        assert_eq!(a.events[0].customer_id, "acme");
        assert_eq!(
            a.events[0].case_id, a.events[1].case_id,
            "{name}: same group, one case"
        );

        // Same bytes again: recognised, nothing new.
        let again = desk
            .ingest(r1, warden_desk::Channel::Smtp, None, t(1))
            .await
            .unwrap();
        assert!(again.duplicate, "{name}");
        assert_eq!(again.events, a.events);
        assert_eq!(again.channel, "http");

        // Within the window: joins. After the window: a new case.
        let r2 = b"TESTREPORT person@reporter.example\nspam 192.0.2.10\n".to_vec();
        let b = desk
            .ingest(r2, warden_desk::Channel::Http, None, t(10))
            .await
            .unwrap();
        assert_eq!(b.events[0].case_id, a.events[0].case_id, "{name}");
        let r3 = b"TESTREPORT person@reporter.example\nspam 192.0.2.10 \n\n".to_vec();
        let c = desk
            .ingest(r3, warden_desk::Channel::Http, None, t(10 + 73))
            .await
            .unwrap();
        assert_ne!(c.events[0].case_id, a.events[0].case_id, "{name}");

        let case = cases::get(&store, &a.events[0].case_id).await.unwrap();
        assert_eq!(case.event_count, 3, "{name}");
        assert_eq!(case.state, CaseState::Open);
        assert_eq!(
            cases::repeat_count(&store, "acme", t(100), 90)
                .await
                .unwrap(),
            2
        );

        // One customer notice per new case, one reporter acknowledgement per report.
        let ob = outbox::list(&store, 100).await.unwrap();
        let notices = ob
            .iter()
            .filter(|(k, r, _)| k == "customer_notice" && r == "abuse@acme.example")
            .count();
        let acks = ob
            .iter()
            .filter(|(k, r, _)| k == "reporter_ack" && r == "person@reporter.example")
            .count();
        assert_eq!((notices, acks), (2, 3), "{name}: {ob:?}");
        store.close().await;
    }
}

#[tokio::test]
async fn unknown_reports_are_quarantined_and_rerunnable() {
    for (name, store, dir, _schema) in stores("quar").await {
        let d = desk(store.clone(), &dir, Policy::default());
        let r = d
            .ingest(
                b"hello, your server is bad".to_vec(),
                warden_desk::Channel::Smtp,
                Some("x@y.example"),
                t(0),
            )
            .await
            .unwrap();
        assert_eq!(r.status, ReportStatus::Quarantined, "{name}");
        assert!(
            r.error
                .as_deref()
                .unwrap_or("")
                .contains("no known report format"),
            "{name}: {r:?}"
        );
        assert_eq!(d.quarantined(10).await.unwrap().len(), 1);
        // Re-running a quarantined report with the same parser quarantines it again, with reason.
        let again = d.reprocess(&r.report_id, t(1)).await.unwrap();
        assert_eq!(again.status, ReportStatus::Quarantined);
        // A processed report cannot be "re-run".
        let ok = d
            .ingest(
                b"TESTREPORT a@b.example\nspam 192.0.2.1\n".to_vec(),
                warden_desk::Channel::Http,
                None,
                t(0),
            )
            .await
            .unwrap();
        assert!(d.reprocess(&ok.report_id, t(1)).await.is_err());
        // Empty and oversized reports are refused before storing.
        assert!(
            d.ingest(Vec::new(), warden_desk::Channel::Http, None, t(0))
                .await
                .is_err()
        );
        let small = d.clone().with_max_report_bytes(10);
        let err = small
            .ingest(vec![b'x'; 11], warden_desk::Channel::Http, None, t(0))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("over the 10 byte limit"), "{err}");
        store.close().await;
    }
}

#[tokio::test]
async fn recovery_processes_stored_but_unprocessed_reports_once() {
    for (name, store, dir, _schema) in stores("recover").await {
        inventory::import(&store, &InventoryDoc::from_csv(INVENTORY).unwrap(), t(0))
            .await
            .unwrap();
        let d = desk(store.clone(), &dir, Policy::default());
        // Simulate a crash after the durable store and before processing.
        let (id, new, _) = d
            .store_report(
                b"TESTREPORT a@b.example\nphishing acme.example\n".to_vec(),
                warden_desk::Channel::Smtp,
                None,
                t(0),
            )
            .await
            .unwrap();
        assert!(new);
        assert_eq!(
            d.receipt(&id).await.unwrap().status,
            ReportStatus::Received,
            "{name}"
        );
        assert_eq!(d.recover(t(1)).await.unwrap(), 1);
        assert_eq!(d.recover(t(2)).await.unwrap(), 0, "{name}: nothing left");
        let r = d.receipt(&id).await.unwrap();
        assert_eq!(r.status, ReportStatus::Processed);
        assert_eq!(r.events.len(), 1);
        assert_eq!(
            r.events[0].customer_id, "acme",
            "{name}: domain attribution"
        );
        store.close().await;
    }
}

#[tokio::test]
async fn case_actions_escalation_audit_and_webhooks() {
    for (name, store, dir, _schema) in stores("cases").await {
        inventory::import(&store, &InventoryDoc::from_csv(INVENTORY).unwrap(), t(0))
            .await
            .unwrap();
        let policy = Policy {
            webhook_url: "http://127.0.0.1:9/hook".into(),
            ..Policy::default()
        };
        let d = desk(store.clone(), &dir, policy.clone());
        let mut body = String::from("TESTREPORT a@b.example\n");
        for _ in 0..10 {
            body.push_str("phishing 192.0.2.77\n");
        }
        body.push_str("port_scan 198.51.100.5 4444 2026-11-23T23:00:00+01:00\n");
        let r = d
            .ingest(body.into_bytes(), warden_desk::Channel::Http, None, t(0))
            .await
            .unwrap();
        let phish = r.events[0].case_id.clone();
        let scan = r.events[10].case_id.clone();
        assert_ne!(phish, scan);
        // 10 phishing events reach the default count threshold; the scan case does not.
        let up = cases::escalate_due(&store, &policy, t(1)).await.unwrap();
        assert_eq!(up, vec![phish.clone()], "{name}");
        let c = cases::get(&store, &phish).await.unwrap();
        assert_eq!(c.state, CaseState::Escalated);
        // The scan case (deadline 72 h) becomes overdue and escalates by age/deadline later.
        let overdue = cases::list(
            &store,
            &CaseFilter {
                overdue: true,
                ..Default::default()
            },
            t(80),
        )
        .await
        .unwrap();
        assert_eq!(overdue.len(), 2, "{name}");
        let filtered = cases::list(
            &store,
            &CaseFilter {
                class: Some(warden_model::AbuseClass::PortScan),
                ..Default::default()
            },
            t(0),
        )
        .await
        .unwrap();
        assert_eq!(filtered.len(), 1);
        assert_eq!(filtered[0].customer_id, "gamma");

        let c = cases::apply(
            &store,
            &policy,
            &phish,
            CaseAction::Suspend,
            "analyst-1",
            "site taken down",
            t(2),
        )
        .await
        .unwrap();
        assert_eq!(c.state, CaseState::Suspended);
        let err = cases::apply(
            &store,
            &policy,
            &phish,
            CaseAction::Escalate,
            "analyst-1",
            "",
            t(3),
        )
        .await
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("cannot escalate a case that is suspended"),
            "{err}"
        );
        cases::apply(
            &store,
            &policy,
            &phish,
            CaseAction::Resolve,
            "analyst-1",
            "",
            t(4),
        )
        .await
        .unwrap();

        let log = audit::for_case(&store, &phish).await.unwrap();
        let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            ["opened", "escalate", "suspend", "resolve"],
            "{name}"
        );
        assert_eq!(log[2].actor, "analyst-1");
        let hooks = outbox::list(&store, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|(k, _, _)| k == "webhook")
            .count();
        assert_eq!(hooks, 2, "{name}: escalation and suspension");

        // A resolved case stops collecting; the next phishing event opens a new case.
        let r2 = d
            .ingest(
                b"TESTREPORT a@b.example\nphishing 192.0.2.77 \n".to_vec(),
                warden_desk::Channel::Http,
                None,
                t(5),
            )
            .await
            .unwrap();
        assert_ne!(r2.events[0].case_id, phish, "{name}");
        store.close().await;
    }
}

#[tokio::test]
async fn shared_addresses_without_port_ask_the_reporter() {
    for (name, store, dir, _schema) in stores("cgn").await {
        inventory::import(&store, &InventoryDoc::from_csv(INVENTORY).unwrap(), t(0))
            .await
            .unwrap();
        let d = desk(store.clone(), &dir, Policy::default());
        let r = d
            .ingest(
                b"TESTREPORT person@reporter.example\nlogin_attack 203.0.113.9\n".to_vec(),
                warden_desk::Channel::Http,
                None,
                t(0),
            )
            .await
            .unwrap();
        assert_eq!(
            r.events[0].customer_id, "",
            "{name}: a CGN address is not one customer"
        );
        let ob = outbox::list(&store, 100).await.unwrap();
        assert!(
            ob.iter()
                .any(|(k, r, _)| k == "info_request" && r == "person@reporter.example"),
            "{name}: {ob:?}"
        );
        // Feeds are never acknowledged nor asked.
        let r = d
            .ingest(
                b"TESTREPORT scan@shadowserver.org\nlogin_attack 203.0.113.10\n".to_vec(),
                warden_desk::Channel::Http,
                None,
                t(0),
            )
            .await
            .unwrap();
        assert_eq!(r.events.len(), 1);
        let ob = outbox::list(&store, 100).await.unwrap();
        assert!(
            !ob.iter().any(|(_, r, _)| r == "scan@shadowserver.org"),
            "{name}"
        );
        store.close().await;
    }
}

#[tokio::test]
async fn notify_now_assign_and_first_reporter() {
    for (name, store, dir, _schema) in stores("notifynow").await {
        let doc = InventoryDoc::from_csv(INVENTORY).unwrap();
        inventory::import(&store, &doc, t(0)).await.unwrap();
        let desk = desk(store.clone(), &dir, Policy::default());
        let r = desk
            .ingest(
                b"TESTREPORT Trap@Spam.Example\nspam 192.0.2.10\nphishing nobody-holds.example\n"
                    .to_vec(),
                warden_desk::Channel::Http,
                None,
                t(1),
            )
            .await
            .unwrap();
        let (acme, orphan) = (&r.events[0].case_id, &r.events[1].case_id);
        // The first reporter is kept on the case, lower case (the queue filters on it).
        let rep: String = sqlx::query_scalar("SELECT reporter FROM cases WHERE id = $1")
            .bind(acme)
            .fetch_one(warden_desk::testing::pool(&store))
            .await
            .unwrap();
        assert_eq!(rep, "trap@spam.example", "{name}");

        let queued = |id: String| {
            let store = store.clone();
            async move {
                sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM outbox WHERE kind = 'customer_notice' AND case_id = $1 AND recipient = 'abuse@acme.example'",
                )
                .bind(id)
                .fetch_one(warden_desk::testing::pool(&store))
                .await
                .unwrap()
            }
        };
        let before = queued(acme.clone()).await;
        let c = cases::notify_now(&store, desk.policy(), acme, "alice", "by hand", t(2))
            .await
            .unwrap();
        assert_eq!(c.state, CaseState::Notified, "{name}");
        assert_eq!(queued(acme.clone()).await, before + 1, "{name}");
        // Twice is an illegal transition, and queues nothing more.
        assert!(
            cases::notify_now(&store, desk.policy(), acme, "alice", "", t(3))
                .await
                .is_err()
        );
        assert_eq!(queued(acme.clone()).await, before + 1, "{name}");
        // Nobody to tell: refused, state unchanged.
        let e = cases::notify_now(&store, desk.policy(), orphan, "alice", "", t(3))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("not attributed"), "{name}: {e}");
        assert_eq!(
            cases::get(&store, orphan).await.unwrap().state,
            CaseState::Open
        );

        cases::assign(&store, acme, "bob", "alice", t(4))
            .await
            .unwrap();
        cases::assign(&store, acme, "", "alice", t(5))
            .await
            .unwrap();
        let log = audit::for_case(&store, acme).await.unwrap();
        let details: Vec<&str> = log
            .iter()
            .filter(|e| e.action == "assign")
            .map(|e| e.detail.as_str())
            .collect();
        assert_eq!(details, ["nobody -> bob", "bob -> nobody"], "{name}");
        assert!(matches!(
            cases::assign(
                &store,
                "019a0000-0000-7000-8000-000000000000",
                "bob",
                "a",
                t(5)
            )
            .await,
            Err(warden_desk::DeskError::NotFound { .. })
        ));
        store.close().await;
    }
}

/// Many concurrent submissions share batches (group commit): every one is stored with its bytes,
/// a resend is recognised even when it lands in the same batch as its first arrival, an
/// unparseable one is quarantined with its reason, and each report is filed exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_intake_shares_batches_and_files_each_report_once() {
    for (name, store, dir, _schema) in stores("group").await {
        inventory::import(&store, &InventoryDoc::from_csv(INVENTORY).unwrap(), t(0))
            .await
            .unwrap();
        let d = desk(store.clone(), &dir, Policy::default());
        // 60 distinct reports, 20 of them sent twice, plus 5 copies of one unparseable body.
        let mut bodies: Vec<Vec<u8>> = (0..60)
            .map(|i| {
                format!("TESTREPORT r{i}@reporter.example\nspam 192.0.2.{}\n", i + 1).into_bytes()
            })
            .collect();
        let resent: Vec<Vec<u8>> = (0..20).map(|i| bodies[i * 3].clone()).collect();
        bodies.extend(resent);
        bodies.extend((0..5).map(|_| b"not a report at all".to_vec()));
        let mut tasks = tokio::task::JoinSet::new();
        for b in bodies.clone() {
            let d = d.clone();
            tasks.spawn(async move {
                d.ingest(b, warden_desk::Channel::Http, None, t(0))
                    .await
                    .unwrap()
            });
        }
        let mut receipts = Vec::new();
        while let Some(r) = tasks.join_next().await {
            receipts.push(r.unwrap());
        }
        assert_eq!(receipts.len(), 85, "{name}");
        assert_eq!(
            receipts.iter().filter(|r| !r.duplicate).count(),
            61,
            "{name}: one first arrival per distinct body"
        );
        for r in &receipts {
            let raw = d.raw_report(&r.report_id).await.unwrap();
            assert_eq!(warden_model::sha256_hex(&raw), r.report_id, "{name}");
        }
        let bad = receipts
            .iter()
            .find(|r| r.status == ReportStatus::Quarantined)
            .expect("quarantined");
        assert!(bad.error.is_some(), "{name}: quarantine keeps the reason");
        let count = |sql: &'static str| {
            let store = store.clone();
            async move {
                use sqlx::Row;
                sqlx::query(sql)
                    .fetch_one(warden_desk::testing::pool(&store))
                    .await
                    .unwrap()
                    .try_get::<i64, _>(0)
                    .unwrap()
            }
        };
        assert_eq!(count("SELECT COUNT(*) FROM reports").await, 61, "{name}");
        assert_eq!(
            count("SELECT COUNT(*) FROM raw_reports").await,
            61,
            "{name}"
        );
        assert_eq!(
            count("SELECT CAST(COALESCE(SUM(resends), 0) AS BIGINT) FROM reports").await,
            24,
            "{name}: 20 resends + 4 repeats of the bad body"
        );
        assert_eq!(count("SELECT COUNT(*) FROM events").await, 60, "{name}");
        assert_eq!(
            count("SELECT CAST(COALESCE(SUM(event_count), 0) AS BIGINT) FROM cases").await,
            60,
            "{name}: each event counted once"
        );
        store.close().await;
    }
}
