//! Browser sessions for the UI tests: chromedriver on loopback, headless Chromium with a fresh
//! profile, waits for navigations (WebDriver clicks return before the next page has loaded),
//! and screenshots (under target/ unless `WARDEN_UPDATE_SCREENSHOTS=1`, see
//! [`crate::screenshot_path`]).

use crate::tool::{CHROMIUM, Found, require_tool};
use fantoccini::Locator;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// Whether the browser tests can run here, through [`require_tool`]: with `CI=true` a missing
/// browser fails the test; elsewhere the test is skipped and the skip recorded.
pub fn browser() -> Option<Browser> {
    require_tool(&CHROMIUM).map(|found| Browser { found })
}

/// An installed Chromium and chromedriver.
#[derive(Debug, Clone)]
pub struct Browser {
    found: Found,
}

impl Browser {
    /// The Chromium binary.
    pub fn chromium(&self) -> PathBuf {
        self.found.program("chromium").to_path_buf()
    }

    /// The chromedriver binary.
    pub fn chromedriver(&self) -> PathBuf {
        self.found.program("chromedriver").to_path_buf()
    }

    /// chromedriver on a loopback port (retried on another port when it cannot listen) and a
    /// headless Chromium session with a fresh profile under `dir`. Keep the `Child` until the
    /// end (it is killed on drop).
    pub async fn start(&self, dir: &Path) -> (fantoccini::Client, Child) {
        let driver = self.start_driver().await;
        (self.connect(dir, driver.1).await, driver.0)
    }

    /// Starts chromedriver; returns it with its port.
    pub async fn start_driver(&self) -> (Child, u16) {
        let mut reasons = Vec::new();
        for _ in 0..5 {
            let port = crate::net::child_port();
            match self.try_driver(port).await {
                Ok(child) => return (child, port),
                Err(why) => reasons.push(format!("port {port}: {why}")),
            }
        }
        panic!("chromedriver did not start:\n{}", reasons.join("\n"));
    }

    async fn try_driver(&self, port: u16) -> Result<Child, String> {
        let mut child = Command::new(self.chromedriver())
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("spawn: {e}"))?;
        for _ in 0..100 {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("exited with {status}"));
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                // Still ours? (Another process may have taken the port first.)
                tokio::time::sleep(Duration::from_millis(100)).await;
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!("exited with {status}"));
                }
                return Ok(child);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err("did not listen within 10 s".into())
    }

    /// A headless Chromium session (fresh profile under `dir`) through the chromedriver on
    /// `port`.
    pub async fn connect(&self, dir: &Path, port: u16) -> fantoccini::Client {
        let profile = dir.join("chromium-profile");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": self.chromium(),
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
            .unwrap_or_else(|e| panic!("WebDriver session: {e}"))
    }
}

/// Polls the browser's URL until `pred` holds (at most 15 s), since WebDriver clicks may return
/// before the navigation they start has finished.
pub async fn wait_url(c: &fantoccini::Client, pred: impl Fn(&str) -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let url = c
            .current_url()
            .await
            .unwrap_or_else(|e| panic!("current_url: {e}"));
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

/// Saves a screenshot of the current page as `name` (see [`crate::screenshot_path`]).
pub async fn screenshot(c: &fantoccini::Client, name: &str) -> PathBuf {
    let png = c
        .screenshot()
        .await
        .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
    crate::save_screenshot(name, &png)
}

/// Logs in as `token` through the login form and waits for the queue.
pub async fn login(c: &fantoccini::Client, base: &str, token: &str) {
    c.goto(&format!("{base}/ui/login"))
        .await
        .unwrap_or_else(|e| panic!("goto login: {e}"));
    c.wait()
        .for_element(Locator::Css("#token"))
        .await
        .unwrap_or_else(|e| panic!("#token: {e}"))
        .send_keys(token)
        .await
        .unwrap_or_else(|e| panic!("type token: {e}"));
    click(c, "form.login button").await;
    wait_url(c, |u| {
        u.split('?').next().unwrap_or("").ends_with("/ui/cases")
    })
    .await;
}
