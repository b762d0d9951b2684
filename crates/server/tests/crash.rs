//! Crash safety: the server is SIGKILLed in the middle of intake over SMTP and HTTP. After a
//! restart every report that got `250`/`202` is there, processed exactly once, and nothing is
//! duplicated (DESIGN.md rule 1).
//!
//! The server runs in a child process: this same test binary, re-executed with
//! `WARDEN_CRASH_CHILD_DIR` set, runs only `crash_child`, which serves until killed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

mod common;

use common::{ADMIN, SmtpClient, http, json, line_format, start_on, tempdir};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use warden_desk::{Policy, Store, testing};

#[test]
fn crash_child() {
    let Ok(dir) = std::env::var("WARDEN_CRASH_CHILD_DIR") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let store = Store::open_sqlite_dir(&dir).await.unwrap();
        let srv = start_on(store, &dir, line_format, None, Policy::default(), None).await;
        let ready = format!("{} {}", srv.http_addr, srv.smtp_addr.unwrap());
        std::fs::write(dir.join("ready.tmp"), ready).unwrap();
        std::fs::rename(dir.join("ready.tmp"), dir.join("ready")).unwrap();
        std::future::pending::<()>().await;
    });
}

// The caller kills and waits for the child; clippy cannot see across the return.
#[allow(clippy::zombie_processes)]
fn spawn_child(dir: &Path) -> (Child, std::net::SocketAddr, std::net::SocketAddr) {
    let _ = std::fs::remove_file(dir.join("ready"));
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env("WARDEN_CRASH_CHILD_DIR", dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Ok(s) = std::fs::read_to_string(dir.join("ready")) {
            let (h, m) = s.split_once(' ').unwrap();
            return (child, h.parse().unwrap(), m.parse().unwrap());
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("server child did not start");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn report(i: usize) -> String {
    format!(
        "TESTREPORT r{i}@reporter.example\nspam 192.0.2.{} 1{i:04} 2026-11-24T01:00:00Z\n",
        i % 250 + 1
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_intake_loses_nothing_and_duplicates_nothing() {
    let dir = tempdir("crash");
    let (mut child, http_addr, smtp_addr) = spawn_child(&dir);
    let (st, _) = http(
        http_addr,
        "POST",
        "/api/v1/inventory",
        Some(ADMIN),
        "text/csv",
        common::INVENTORY,
    )
    .await;
    assert_eq!(st, 200);

    // Acknowledged report ids, from 8 concurrent senders (4 HTTP, 4 SMTP).
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut senders = Vec::new();
    for s in 0..8usize {
        let acked = acked.clone();
        senders.push(tokio::spawn(async move {
            for n in 0..10_000usize {
                let i = n * 8 + s;
                if s % 2 == 0 {
                    // A refused connection after the kill panics inside the spawned task; the
                    // JoinError ends this sender.
                    let body = report(i).into_bytes();
                    let r = tokio::spawn(async move {
                        http(
                            http_addr,
                            "POST",
                            "/api/v1/reports",
                            Some(ADMIN),
                            "text/plain",
                            &body,
                        )
                        .await
                    })
                    .await;
                    match r {
                        Ok((202, body)) => acked
                            .lock()
                            .unwrap()
                            .push(json(&body)["report_id"].as_str().unwrap().to_owned()),
                        _ => return,
                    }
                } else {
                    let r = tokio::spawn(async move {
                        let (mut c, _) = SmtpClient::connect(smtp_addr).await;
                        c.cmd("EHLO sender.example").await;
                        let msg = format!(
                            "From: r{i}@reporter.example\r\nSubject: r\r\n\r\n{}",
                            report(i).replace('\n', "\r\n")
                        );
                        c.send(&format!("r{i}@reporter.example"), "abuse@isp.example", &msg)
                            .await
                    })
                    .await;
                    match r {
                        Ok(reply) if reply.starts_with("250") => acked
                            .lock()
                            .unwrap()
                            .push(reply.trim().rsplit(' ').next().unwrap().to_owned()),
                        _ => return,
                    }
                }
            }
        }));
    }
    // Kill the server hard once it has acknowledged a good number of reports.
    let t0 = Instant::now();
    while acked.lock().unwrap().len() < 150 {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "server too slow: {} acks",
            acked.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    for s in senders {
        let _ = s.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 150);

    // Restart on the same data directory: recovery processes what was stored but not processed.
    let (mut child, http_addr, _) = spawn_child(&dir);
    let store = Store::open_sqlite_dir(&dir).await.unwrap();
    assert_eq!(
        testing::report_counts(&store).await.unwrap().received,
        0,
        "recovery left work behind"
    );
    for id in &acked {
        let row = testing::report_row(&store, id).await.unwrap();
        let (status, event_count) = row.unwrap_or_else(|| panic!("acknowledged report {id} lost"));
        assert_eq!(status, "processed", "{id}");
        assert_eq!(event_count, 1, "{id}");
    }
    let (events, case_events) = testing::event_totals(&store).await.unwrap();
    assert_eq!(
        events,
        testing::report_counts(&store).await.unwrap().processed,
        "one event per report"
    );
    assert_eq!(events, case_events, "case counts match stored events");
    // Raw bytes are all there (content-addressed rows, committed before the acknowledgement),
    // and they are the bytes whose hash is the id.
    for id in &acked {
        let bytes = testing::raw_report_row(&store, id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("raw report {id} missing"));
        assert_eq!(
            &warden_model::sha256_hex(&bytes),
            id,
            "raw report {id} corrupted"
        );
    }
    // Resending an acknowledged HTTP report is recognised as a duplicate and adds nothing.
    let (st, body) = http(
        http_addr,
        "POST",
        "/api/v1/reports",
        Some(ADMIN),
        "text/plain",
        report(0).as_bytes(),
    )
    .await;
    assert_eq!(st, 202);
    assert_eq!(json(&body)["duplicate"], true, "{body}");
    assert_eq!(testing::event_totals(&store).await.unwrap().0, events);
    child.kill().unwrap();
    child.wait().unwrap();
}
