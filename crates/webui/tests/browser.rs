//! The analyst's path through the UI in a real browser (headless Chromium over WebDriver):
//! log in, filter the queue, open a case, act on it, and check that the reporter's injected
//! script did not run. Saves screenshots of the queue and a case page (under target/screenshots/, or
//! docs/screenshots/ with WARDEN_UPDATE_SCREENSHOTS=1).
//!
//! chromedriver is started here on a loopback port (warden-test-support). With CI=true the browser must be
//! present (`.ci/install-webui.sh`); elsewhere the test skips loudly when it is absent.
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
use warden_test_support::browser::{browser, text_when, wait_url};
use warden_test_support::save_screenshot;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyst_logs_in_filters_opens_and_acts_and_no_script_runs() {
    let Some(browser) = browser() else { return };
    let dir = common::tempdir("browser");
    let desk = common::desk(&dir).await;
    let addr = common::serve(desk).await;
    let base = format!("http://{addr}");

    let (c, mut driver) = browser.start(&dir).await;

    // Not logged in: the queue sends us to the login form.
    c.goto(&format!("{base}/ui/cases")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/ui/login"));
    // A wrong token is refused.
    c.wait()
        .for_element(Locator::Css("#token"))
        .await
        .unwrap()
        .send_keys("not-a-real-token-xxxx")
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("form.login button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let err = c
        .wait()
        .for_element(Locator::Css("p.error"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(err.contains("Unknown token"), "{err}");
    // The right one opens the queue (cleared first: send_keys appends to what is there).
    let field = c.wait().for_element(Locator::Css("#token")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(common::ANALYST).await.unwrap();
    c.wait()
        .for_element(Locator::Css("form.login button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // A click returns before the next page has loaded: wait for the navigation.
    wait_url(&c, |u| {
        u.split('?').next().unwrap_or("").ends_with("/ui/cases")
    })
    .await;
    let who = c
        .wait()
        .for_element(Locator::Css(".who"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(who.contains("alice") && who.contains("analyst"), "{who}");
    let rows = c.find_all(Locator::Css("tr[data-case]")).await.unwrap();
    assert_eq!(rows.len(), 4, "four cases in the queue");
    c.screenshot()
        .await
        .map(|png| save_screenshot("queue.png", &png))
        .unwrap();

    // Filter by class: only the malware case is left.
    c.find(Locator::Css("select[name=class]"))
        .await
        .unwrap()
        .select_by_value("malware")
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("form.filters button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_url(&c, |u| u.contains("class=malware")).await;
    let rows = c.find_all(Locator::Css("tr[data-case]")).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(
        c.current_url()
            .await
            .unwrap()
            .query()
            .unwrap_or("")
            .contains("class=malware")
    );

    // Search by address finds the spam case.
    c.goto(&format!("{base}/ui/cases?q=192.0.2.10"))
        .await
        .unwrap();
    let rows = c.find_all(Locator::Css("tr[data-case]")).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].text().await.unwrap().contains("spam"));

    // Open the malware case: the evidence shows the markup as text, and nothing ran.
    c.goto(&format!("{base}/ui/cases?class=malware"))
        .await
        .unwrap();
    c.find(Locator::Css("tr[data-case] td.mono a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let evidence = c
        .wait()
        .for_element(Locator::Css("pre.evidence"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        evidence.contains("<script>document.title='pwned'"),
        "{evidence}"
    );
    assert!(evidence.contains("onerror="), "{evidence}");
    let injected = c
        .find_all(Locator::Css("main script, main img"))
        .await
        .unwrap();
    assert!(injected.is_empty(), "reporter markup became elements");
    let probe = c
        .execute("return [document.title, typeof window.__pwned];", vec![])
        .await
        .unwrap();
    assert_eq!(probe[1], "undefined", "the injected script ran");
    assert!(
        !probe[0].as_str().unwrap_or("").contains("pwned"),
        "title was changed: {probe}"
    );
    let state = c
        .wait()
        .for_element(Locator::Css("#case-state"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(state, "open");
    c.screenshot()
        .await
        .map(|png| save_screenshot("case.png", &png))
        .unwrap();

    // Act: escalate with a note; the state and the audit log show it, with the analyst's name.
    let form = c
        .wait()
        .for_element(Locator::Css(
            "form[action$='/action'] input[value=escalate]",
        ))
        .await
        .unwrap();
    let _ = form;
    c.wait()
        .for_element(Locator::Css("button[value=escalate]"))
        .await
        .unwrap()
        .find(Locator::XPath("./preceding-sibling::input[@name='note']"))
        .await
        .unwrap()
        .send_keys("no answer from customer")
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("button[value=escalate]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let state = text_when(&c, "#case-state", |t| t == "escalated").await;
    assert_eq!(state, "escalated");
    let audit = text_when(&c, "table.audit", |t| t.contains("no answer from customer")).await;
    assert!(
        audit.contains("alice")
            && audit.contains("escalate")
            && audit.contains("no answer from customer"),
        "{audit}"
    );
    let probe = c
        .execute("return typeof window.__pwned;", vec![])
        .await
        .unwrap();
    assert_eq!(probe, "undefined");

    // Log out: the queue is closed again.
    c.wait()
        .for_element(Locator::Css("form.logout button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_url(&c, |u| !u.contains("/ui/cases/")).await;
    c.goto(&format!("{base}/ui/cases")).await.unwrap();
    wait_url(&c, |u| {
        u.split('?').next().unwrap_or("").ends_with("/ui/login")
    })
    .await;

    c.close().await.unwrap();
    driver.kill().await.ok();
    std::fs::remove_dir_all(&dir).ok();
}
