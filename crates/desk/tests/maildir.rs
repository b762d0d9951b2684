//! Maildir import: new/ and cur/ are read, resends counted as duplicates, oversize refused.
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
use warden_desk::{Policy, maildir};

#[tokio::test]
async fn imports_a_maildir_once() {
    for (name, store, dir, _schema) in stores("maildir").await {
        let md = dir.join("Maildir");
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(md.join(sub)).unwrap();
        }
        std::fs::write(
            md.join("new/1.host"),
            "TESTREPORT a@b.example\nspam 192.0.2.1\n",
        )
        .unwrap();
        std::fs::write(
            md.join("cur/2.host:2,S"),
            "TESTREPORT a@b.example\nspam 192.0.2.2\n",
        )
        .unwrap();
        std::fs::write(md.join("cur/3.host:2,S"), "not a report at all").unwrap();
        std::fs::write(md.join("cur/4.host:2,S"), "x".repeat(2000)).unwrap();
        // The same bytes delivered twice (a resend) are one report.
        std::fs::write(
            md.join("new/5.host"),
            "TESTREPORT a@b.example\nspam 192.0.2.1\n",
        )
        .unwrap();
        let d = desk(store.clone(), &dir, Policy::default()).with_max_report_bytes(1000);
        let s = maildir::import(&d, &md, t(0)).await.unwrap();
        assert_eq!(
            (
                s.messages,
                s.processed,
                s.quarantined,
                s.duplicates,
                s.refused
            ),
            (5, 2, 1, 1, 1),
            "{name}: {s:?}"
        );
        let again = maildir::import(&d, &md, t(1)).await.unwrap();
        assert_eq!(again.duplicates, 4, "{name}");
        assert!(maildir::import(&d, &dir.join("nope"), t(0)).await.is_err());
        store.close().await;
    }
}
