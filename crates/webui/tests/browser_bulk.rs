//! The analyst's second path in a real browser (headless Chromium over WebDriver): log in,
//! filter the queue by reporter, bulk-close the selected cases (through the confirmation
//! dialog), open the quarantine and re-run one report, and open a customer page. Checks that a
//! quarantined report carrying `<script>` renders inert in the raw view. Saves
//! `quarantine.png` and `inventory.png` (under target/screenshots/, or docs/screenshots/ with
//! WARDEN_UPDATE_SCREENSHOTS=1).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

mod common;

use fantoccini::Locator;
use std::sync::atomic::{AtomicBool, Ordering};
use warden_desk::Channel;
use warden_reports::{ParseError, Record};
use warden_test_support::browser::{browser, click, screenshot, text_when, wait_url};

/// Set once the test has seen the `LEGACY` report quarantined: the parser "fix".
static LEGACY_FIXED: AtomicBool = AtomicBool::new(false);

fn fixable(raw: &[u8]) -> Result<Vec<Record>, ParseError> {
    match raw.strip_prefix(b"LEGACY ") {
        Some(rest) if LEGACY_FIXED.load(Ordering::SeqCst) => {
            common::line_format(&[b"TESTREPORT ".as_slice(), rest].concat())
        }
        _ => common::line_format(raw),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyst_filters_bulk_closes_reruns_quarantine_and_opens_a_customer() {
    let Some(browser) = browser() else { return };
    let dir = common::tempdir("browser-bulk");
    let desk = common::desk_with(&dir, fixable).await;
    let now = chrono::Utc::now();
    let hostile = desk
        .ingest(
            b"<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">\r\nSubject: not a report\r\n".to_vec(),
            Channel::Smtp,
            None,
            now,
        )
        .await
        .unwrap();
    let legacy = desk
        .ingest(
            b"LEGACY legacy@reporter.example\nspam 192.0.2.99\n".to_vec(),
            Channel::Http,
            None,
            now,
        )
        .await
        .unwrap();
    let addr = common::serve(desk).await;
    let base = format!("http://{addr}");
    let (c, mut driver) = browser.start(&dir).await;

    // Log in.
    c.goto(&format!("{base}/ui/login")).await.unwrap();
    c.wait()
        .for_element(Locator::Css("#token"))
        .await
        .unwrap()
        .send_keys(common::ANALYST)
        .await
        .unwrap();
    click(&c, "form.login button").await;
    wait_url(&c, |u| {
        u.split('?').next().unwrap_or("").ends_with("/ui/cases")
    })
    .await;
    assert_eq!(
        c.find_all(Locator::Css("tr[data-case]"))
            .await
            .unwrap()
            .len(),
        4
    );

    // Filter by reporter (typed in mixed case; the desk keeps addresses lower case).
    c.find(Locator::Css("input[name=reporter]"))
        .await
        .unwrap()
        .send_keys("Trap@SpamTrap.example")
        .await
        .unwrap();
    click(&c, "form.filters button").await;
    wait_url(&c, |u| {
        u.contains("reporter=trap%40spamtrap.example") || u.contains("reporter=Trap")
    })
    .await;
    let rows = c.find_all(Locator::Css("tr[data-case]")).await.unwrap();
    assert_eq!(rows.len(), 1, "one case from the spam trap");
    assert!(rows[0].text().await.unwrap().contains("192.0.2.10"));

    // Select it (keyboard: focus the box, press space) and bulk-close through the dialog.
    let tick = c.find(Locator::Css("input[name=ids]")).await.unwrap();
    tick.send_keys(" ").await.unwrap();
    assert!(tick.prop("checked").await.unwrap().as_deref() == Some("true"));
    click(&c, "button[formaction='/ui/cases/bulk-close']").await;
    let question = c.get_alert_text().await.unwrap();
    assert_eq!(question, "Close the selected cases?");
    c.accept_alert().await.unwrap();
    wait_url(&c, |u| u.contains("closed=1")).await;
    let banner = text_when(&c, "p.banner", |t| t.contains("Closed")).await;
    assert!(banner.contains("Closed 1 case(s); 0 could not"), "{banner}");
    // The filter was kept; the case is closed.
    let state = text_when(&c, "tr[data-case] .state", |t| t == "closed").await;
    assert_eq!(state, "closed");

    // Quarantine: both reports listed; the hostile one's raw view shows the markup as text.
    click(&c, "nav a[href='/ui/quarantine']").await;
    wait_url(&c, |u| u.ends_with("/ui/quarantine")).await;
    assert_eq!(
        c.find_all(Locator::Css("tr[data-report]"))
            .await
            .unwrap()
            .len(),
        2
    );
    screenshot(&c, "quarantine.png").await;
    c.goto(&format!("{base}/ui/quarantine/{}", hostile.report_id))
        .await
        .unwrap();
    let raw = c
        .wait()
        .for_element(Locator::Css("pre.raw"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(raw.contains("<script>window.__pwned=1</script>"), "{raw}");
    assert!(
        c.find_all(Locator::Css("main script, main img"))
            .await
            .unwrap()
            .is_empty()
    );
    let probe = c
        .execute("return typeof window.__pwned;", vec![])
        .await
        .unwrap();
    assert_eq!(probe, "undefined", "the quarantined report's script ran");

    // Fix the parser, re-run the legacy report from the list: it is processed.
    LEGACY_FIXED.store(true, Ordering::SeqCst);
    c.goto(&format!("{base}/ui/quarantine")).await.unwrap();
    click(
        &c,
        &format!("tr[data-report='{}'] button", legacy.report_id),
    )
    .await;
    wait_url(&c, |u| u.contains("processed=1")).await;
    let banner = text_when(&c, "p.banner", |t| t.contains("Re-ran")).await;
    assert!(banner.contains("1 processed"), "{banner}");
    assert_eq!(
        c.find_all(Locator::Css("tr[data-report]"))
            .await
            .unwrap()
            .len(),
        1
    );

    // Customers: search, open acme, see its contacts, blocks and cases.
    click(&c, "nav a[href='/ui/inventory']").await;
    wait_url(&c, |u| u.ends_with("/ui/inventory")).await;
    c.find(Locator::Css("#inv-q"))
        .await
        .unwrap()
        .send_keys("acme")
        .await
        .unwrap();
    click(&c, "form.filters button").await;
    wait_url(&c, |u| u.contains("q=acme")).await;
    click(&c, "tr[data-customer='acme'] a").await;
    wait_url(&c, |u| u.ends_with("/ui/inventory/acme")).await;
    let main = text_when(&c, "main", |t| t.contains("Address blocks")).await;
    for needle in [
        "Acme Hosting",
        "abuse@acme.example",
        "192.0.2.0/24",
        "acme.example",
    ] {
        assert!(main.contains(needle), "{needle} missing: {main}");
    }
    // The spam case, the malware case and the re-run legacy report's case.
    assert_eq!(
        c.find_all(Locator::Css("tr[data-case]"))
            .await
            .unwrap()
            .len(),
        3
    );
    screenshot(&c, "inventory.png").await;

    c.close().await.unwrap();
    driver.kill().await.ok();
    std::fs::remove_dir_all(&dir).ok();
}
