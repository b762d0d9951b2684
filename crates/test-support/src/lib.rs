//! Helpers shared by the tests of every Warden crate (a dev-dependency only, never published).
//!
//! Why one crate: the same helpers used to be copied into each crate's `tests/common` and had
//! drifted (three fake report parsers, three PostgreSQL set-ups that never dropped their
//! schemas, three racy `free_port`s, tool checks that printed a skip notice the test harness
//! swallowed). Here each exists once:
//!
//! - [`tool`]: [`require_tool`] for tests that drive outside programs (bind9, Dovecot,
//!   DuckDB, OpenSSL servers, testssl, checkdmarc, Chromium). Under CI a missing tool fails the
//!   test; elsewhere the test is skipped and the skip is recorded for `scripts/test.sh`'s
//!   summary.
//! - [`net`]: loopback listeners bound to port 0 and handed over, so no port is ever chosen
//!   first and bound later.
//! - [`peer`]: confinement of peer programs to loopback (no system resolver).
//! - `pg` (feature `postgres`): a fresh schema per test, dropped by its guard.
//! - `reports` (feature `reports`): the line-format report stub the engine tests feed the desk.
//! - `browser` (feature `browser`): chromedriver, headless Chromium, waits and screenshots.
//!
//! Helpers panic on failure: they run inside tests, where a panic is the failure report.
#![allow(
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a skipped real-server test says so on stderr, and a broken set-up fails the test loudly"
)]

pub mod net;
pub mod peer;
pub mod tool;

#[cfg(feature = "browser")]
pub mod browser;
#[cfg(feature = "postgres")]
pub mod pg;
#[cfg(feature = "reports")]
pub mod reports;

pub use tool::{Found, Tool, require_tool};

use std::path::{Path, PathBuf};

/// A fresh, empty directory under the system temporary directory, named after `tag` so that a
/// leftover directory says which test made it.
pub fn tempdir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("warden-{tag}-{}-{nanos}-{seq}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("create {}: {e}", d.display()));
    d
}

/// The workspace's root directory (where `Cargo.lock` is).
pub fn workspace_root() -> &'static Path {
    // This crate lives at crates/test-support.
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The cargo target directory the running test binary was built into (`CARGO_TARGET_DIR` or
/// `./target`): the test executable sits at `<target>/<profile>/deps/<name>-<hash>`.
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        return if dir.is_absolute() {
            dir
        } else {
            workspace_root().join(dir)
        };
    }
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current_exe: {e}"));
    exe.ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "deps"))
        .and_then(|deps| deps.parent())
        .and_then(|profile| profile.parent())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Where a test writes the screenshot `name`: under `<target>/screenshots/` by default, so a
/// test run never changes tracked files; into `docs/screenshots/` (the images the README and
/// docs show) only when `WARDEN_UPDATE_SCREENSHOTS=1` asks for it.
pub fn screenshot_path(name: &str) -> PathBuf {
    let dir = if std::env::var("WARDEN_UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
        workspace_root().join("docs/screenshots")
    } else {
        target_dir().join("screenshots")
    };
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir.join(name)
}

/// Writes a screenshot (PNG bytes) to [`screenshot_path`]`(name)` and returns where.
pub fn save_screenshot(name: &str, png: &[u8]) -> PathBuf {
    let path = screenshot_path(name);
    std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}
