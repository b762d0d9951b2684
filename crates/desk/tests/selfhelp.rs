//! Customer self-help on both backends: replies stored with the case transition in one
//! transaction, the customer never reopening or un-suspending, the owner check, and the
//! event columns the dashboard reads (reporter, received_at).
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
use sqlx::Row;
use warden_desk::cases::{self, CaseAction, CaseState};
use warden_desk::selfhelp::{self, ReplyKind};
use warden_desk::{DeskError, Policy};

#[tokio::test]
async fn replies_move_the_case_and_are_kept() {
    for (name, store, dir, _schema) in stores("selfhelp").await {
        let d = desk(store.clone(), &dir, Policy::default());
        let r = d
            .ingest(
                b"TESTREPORT Person@Reporter.example\nspam 192.0.2.1\n".to_vec(),
                warden_desk::Channel::Http,
                None,
                t(0),
            )
            .await
            .unwrap();
        let case_id = r.events[0].case_id.clone();
        // Unattributed in this fixture unless the inventory has the address: attribute it.
        sqlx::query("UPDATE cases SET customer_id = 'acme' WHERE id = $1")
            .bind(&case_id)
            .execute(warden_desk::testing::pool(&store))
            .await
            .unwrap();
        let row = sqlx::query("SELECT reporter, received_at FROM events WHERE case_id = $1")
            .bind(&case_id)
            .fetch_one(warden_desk::testing::pool(&store))
            .await
            .unwrap();
        assert_eq!(
            row.try_get::<String, _>(0).unwrap(),
            "person@reporter.example",
            "{name}"
        );
        assert_eq!(
            row.try_get::<i64, _>(1).unwrap(),
            t(0).timestamp_millis(),
            "{name}"
        );

        // Another customer's id is refused; an empty reply too; a huge one is too large.
        let e = selfhelp::record_reply(
            &store,
            &Policy::default(),
            &case_id,
            "beta",
            ReplyKind::Reply,
            "hi",
            t(1),
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("another customer"), "{name}: {e}");
        assert!(matches!(
            selfhelp::record_reply(
                &store,
                &Policy::default(),
                &case_id,
                "acme",
                ReplyKind::Reply,
                " ",
                t(1)
            )
            .await,
            Err(DeskError::Invalid { .. })
        ));
        let big = "x".repeat(selfhelp::MAX_REPLY_CHARS + 1);
        assert!(matches!(
            selfhelp::record_reply(
                &store,
                &Policy::default(),
                &case_id,
                "acme",
                ReplyKind::Reply,
                &big,
                t(1)
            )
            .await,
            Err(DeskError::TooLarge { .. })
        ));

        let c = selfhelp::record_reply(
            &store,
            &Policy::default(),
            &case_id,
            "acme",
            ReplyKind::Reply,
            "looking",
            t(1),
        )
        .await
        .unwrap();
        assert_eq!(c.state, CaseState::CustomerReplied, "{name}");
        // Suspended by the desk: "resolved" from the customer is kept as a note only.
        cases::apply(
            &store,
            &Policy::default(),
            &case_id,
            CaseAction::Suspend,
            "alice",
            "",
            t(2),
        )
        .await
        .unwrap();
        let c = selfhelp::record_reply(
            &store,
            &Policy::default(),
            &case_id,
            "acme",
            ReplyKind::Resolved,
            "fixed",
            t(3),
        )
        .await
        .unwrap();
        assert_eq!(c.state, CaseState::Suspended, "{name}");
        let all = selfhelp::replies(&store, &case_id).await.unwrap();
        assert_eq!(all.len(), 2, "{name}");
        assert_eq!(
            (all[0].kind, all[0].body.as_str()),
            (ReplyKind::Reply, "looking")
        );
        assert_eq!(
            (all[1].kind, all[1].body.as_str()),
            (ReplyKind::Resolved, "fixed")
        );
        let log = warden_desk::audit::for_case(&store, &case_id)
            .await
            .unwrap();
        assert!(
            log.iter().any(|a| a.actor == "customer:acme"
                && a.detail
                    .contains("Customer marked resolved (self-help): fixed")),
            "{name}: {log:?}"
        );
        store.close().await;
    }
}
