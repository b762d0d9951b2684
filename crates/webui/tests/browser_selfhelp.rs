//! The dashboard and the customer self-help page in a real browser (headless Chromium over
//! WebDriver): an analyst opens the dashboard; the desk sends a customer notice (real courier
//! and templates, mail captured); the customer follows the link in it, replies and marks the
//! case resolved; the analyst sees the reply on the case page. Saves
//! dashboard.png and selfhelp.png (under target/screenshots/, or docs/screenshots/ with
//! WARDEN_UPDATE_SCREENSHOTS=1).
//!
//! With CI=true the browser must be present (`.ci/install-webui.sh`); elsewhere the test skips
//! loudly when it is absent.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

mod common;

use chrono::{Duration, Utc};
use common::selfhelp as sh;
use fantoccini::Locator;
use std::net::SocketAddr;
use warden_test_support::browser::{self as b, text_when, wait_url};
use warden_test_support::save_screenshot;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_then_customer_replies_and_resolves_through_the_notice_link() {
    let Some(browser) = b::browser() else { return };
    let dir = common::tempdir("browser-selfhelp");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let desk = sh::enable(common::desk(&dir).await, &base);
    let app = warden_webui::router(desk.clone(), Default::default());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let (c, mut driver) = browser.start(&dir).await;

    // The analyst's dashboard: five charts, each with a text alternative.
    b::login(&c, &base, common::ANALYST).await;
    c.find(Locator::Css("header nav a[href='/ui/dashboard']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_url(&c, |u| u.ends_with("/ui/dashboard")).await;
    let charts = c.find_all(Locator::Css("svg.chart")).await.unwrap();
    assert_eq!(charts.len(), 5);
    let summary = text_when(&c, "#first-action-summary", |t| !t.is_empty()).await;
    assert!(
        summary.contains("Cases opened in the last 30 days"),
        "{summary}"
    );
    let title = c
        .execute(
            "return document.querySelector('#chart-per-day title').textContent;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        title.as_str().unwrap().contains("per day by class"),
        "{title}"
    );
    c.screenshot()
        .await
        .map(|png| save_screenshot("dashboard.png", &png))
        .unwrap();

    // The notice to acme, sent past the batch window, carries one link per case.
    let mails = sh::deliver(&desk, Utc::now() + Duration::minutes(20)).await;
    let notice = mails
        .iter()
        .find(|m| m.to == "abuse@acme.example")
        .expect("notice to acme");
    let spam = warden_desk::cases::list(desk.store(), &Default::default(), Utc::now())
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.subject == "192.0.2.10")
        .unwrap();
    let link = sh::links(&notice.body)
        .into_iter()
        .find(|l| l.contains(&spam.id))
        .expect("link for the spam case");
    assert!(link.starts_with(&base), "{link}");

    // The customer follows it: evidence, no reporter, a reply box.
    c.goto(&link).await.unwrap();
    let evidence = text_when(&c, "pre.evidence", |t| !t.is_empty()).await;
    assert!(evidence.contains("192.0.2.10"), "{evidence}");
    let page = c.source().await.unwrap();
    assert!(
        !page.contains("trap@spamtrap.example"),
        "reporter is hidden"
    );
    c.find(Locator::Css("#reply-body"))
        .await
        .unwrap()
        .send_keys("We found an open relay and closed it. <script>window.__pwned=1</script>")
        .await
        .unwrap();
    c.find(Locator::Css("#send-reply"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_url(&c, |u| u.ends_with("?sent=reply")).await;
    let replies = text_when(&c, "#replies", |t| t.contains("open relay")).await;
    assert!(
        replies.contains("<script>window.__pwned=1</script>"),
        "shown as text"
    );
    let state = text_when(&c, "#case-state", |t| t == "customer_replied").await;
    assert_eq!(state, "customer_replied");
    c.screenshot()
        .await
        .map(|png| save_screenshot("selfhelp.png", &png))
        .unwrap();

    // "Resolved" with a note.
    c.find(Locator::Css("#resolved-note"))
        .await
        .unwrap()
        .send_keys("relay closed, password changed")
        .await
        .unwrap();
    c.find(Locator::Css("#mark-resolved"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_url(&c, |u| u.ends_with("?sent=resolved")).await;
    text_when(&c, "#case-state", |t| t == "resolved").await;
    let probe = c
        .execute("return typeof window.__pwned;", vec![])
        .await
        .unwrap();
    assert_eq!(probe, "undefined", "the customer's markup ran");

    // A tampered link: a clear 403 page.
    let mut tampered = link.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == '0' { '1' } else { '0' });
    c.goto(&tampered).await.unwrap();
    let refusal = text_when(&c, "#refusal", |t| !t.is_empty()).await;
    assert!(refusal.contains("not valid"), "{refusal}");

    // The analyst sees both messages on the case page, and the customer in the audit log.
    c.goto(&format!("{base}/ui/cases/{}", spam.id))
        .await
        .unwrap();
    let replies = text_when(&c, "#customer-replies", |t| t.contains("relay closed")).await;
    assert!(
        replies.contains("open relay") && replies.contains("marked resolved"),
        "{replies}"
    );
    let audit = text_when(&c, "table.audit", |t| t.contains("customer:acme")).await;
    assert!(audit.contains("customer_replied"), "{audit}");
    assert_eq!(
        text_when(&c, "#case-state", |t| !t.is_empty()).await,
        "resolved"
    );

    c.close().await.unwrap();
    driver.kill().await.ok();
    std::fs::remove_dir_all(&dir).ok();
}
