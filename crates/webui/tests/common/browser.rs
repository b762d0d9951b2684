//! Browser-test helpers shared by `tests/browser*.rs`: chromedriver on a free loopback port,
//! and waits for navigations (WebDriver clicks return before the next page has loaded).

use fantoccini::Locator;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Polls the browser's URL until `pred` holds (at most 15 s), since WebDriver clicks may return
/// before the navigation they start has finished.
pub async fn wait_url(c: &fantoccini::Client, pred: impl Fn(&str) -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let url = c.current_url().await.unwrap();
        if pred(url.as_str()) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "navigation did not reach the expected page: {url}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls an element's text until `pred` holds (at most 15 s): after a form post that redirects
/// back to the same URL, the old page's element may still be the one found, or go stale.
pub async fn text_when(c: &fantoccini::Client, css: &str, pred: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let text = match c.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if pred(&text) {
            return text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{css} never matched; last text: {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn screenshots_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn start_driver(port: u16) -> Child {
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not listen on port {port} within 10 s");
}

/// Whether the browser test can run here: with CI=true a missing browser fails the test;
/// elsewhere the test prints SKIPPED and passes.
pub fn browser_present() -> bool {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but {CHROMIUM} or {CHROMEDRIVER} is missing: run .ci/install-webui.sh"
    );
    eprintln!(
        "SKIPPED browser test: {CHROMIUM} or {CHROMEDRIVER} missing (run .ci/install-webui.sh)"
    );
    false
}

/// A headless Chromium session (fresh profile under `dir`) through the chromedriver on `port`.
pub async fn connect(dir: &Path, port: u16) -> fantoccini::Client {
    let profile = dir.join("chromium-profile");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1400,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("WebDriver session")
}

/// Clicks the element `css` finds (waiting for it to appear).
pub async fn click(c: &fantoccini::Client, css: &str) {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Saves a screenshot of the current page as `docs/screenshots/{name}`.
pub async fn screenshot(c: &fantoccini::Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(screenshots_dir().join(name), png).unwrap();
}

/// Same as [`browser_present`] (the name the self-help test uses).
pub fn available() -> bool {
    browser_present()
}

/// chromedriver on a free loopback port and a headless Chromium session with a fresh profile
/// under `dir`. Keep the `Child` until the end (it is killed on drop).
pub async fn start(dir: &Path) -> (fantoccini::Client, Child) {
    let port = free_port();
    let driver = start_driver(port).await;
    (connect(dir, port).await, driver)
}

/// Logs in as `token` through the login form and waits for the queue.
pub async fn login(c: &fantoccini::Client, base: &str, token: &str) {
    c.goto(&format!("{base}/ui/login")).await.unwrap();
    c.wait()
        .for_element(Locator::Css("#token"))
        .await
        .unwrap()
        .send_keys(token)
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("form.login button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_url(c, |u| {
        u.split('?').next().unwrap_or("").ends_with("/ui/cases")
    })
    .await;
}
