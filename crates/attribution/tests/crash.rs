//! Crash safety: an import process is killed with SIGKILL at several points, and after each kill
//! the store must open, every segment must decode, and it must hold exactly the intervals of the
//! imports that committed — nothing of the killed one (no half-visible import). The next import
//! must then run (the lock died with the process) and clean up the leftovers.
//!
//! The importing process is this test binary itself, re-run with `WARDEN_CRASH_STORE` set so that
//! only `crash_child` does work: that keeps the test free of any helper binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use chrono_tz::Tz;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use warden_attribution::generator::{GenConfig, generate};
use warden_attribution::import::{ImportOptions, Input, VendorParser, import};
use warden_attribution::natlog::{ParseContext, Vendor};
use warden_attribution::store::NatStore;

const FILES: usize = 12;

fn files(dir: &Path) -> Vec<PathBuf> {
    (0..FILES)
        .map(|i| dir.join(format!("cgn-{i:02}.log")))
        .collect()
}

fn import_one(store: &Path, file: &Path) {
    let mut parser = VendorParser {
        ctx: ParseContext::new(Vendor::Juniper, Tz::UTC, 1_796_000_000),
    };
    import(
        store,
        &[Input::Path(file.to_owned())],
        &mut parser,
        &ImportOptions {
            spill_rows: 3_000,
            ..ImportOptions::default()
        },
        &mut |_| {},
    )
    .unwrap();
}

/// The child: imports the files not yet in the store, one import each, until killed.
#[test]
fn crash_child() {
    let Ok(store) = std::env::var("WARDEN_CRASH_STORE") else {
        return;
    };
    let store = PathBuf::from(store);
    let data = PathBuf::from(std::env::var("WARDEN_CRASH_DATA").unwrap());
    loop {
        let done = NatStore::open(&store)
            .map(|s| s.manifest().files.len())
            .unwrap_or(0);
        let Some(f) = files(&data).get(done).cloned() else {
            return;
        };
        import_one(&store, &f);
    }
}

#[test]
fn sigkill_during_import_leaves_store_consistent() {
    let dir = std::env::temp_dir().join(format!("warden-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // Disjoint files (own outside addresses, every holding closed), so each committed import adds
    // exactly its own holdings.
    let mut per_file = Vec::new();
    for (i, path) in files(&dir).iter().enumerate() {
        let cfg = GenConfig {
            seed: i as u64 + 1,
            subscribers: 1_500,
            outside_ips: 8,
            first_outside: std::net::Ipv4Addr::from(0xC633_6400 + (i as u32) * 16),
            mean_hold_ms: 10 * 60_000,
            mean_gap_ms: 60_000,
            ..GenConfig::default()
        };
        let mut truth = Vec::new();
        let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        generate(&cfg, &mut f, Some(&mut truth)).unwrap();
        f.flush().unwrap();
        per_file.push(truth.len() as u64);
    }
    let store = dir.join("store");
    let exe = std::env::current_exe().unwrap();
    let mut kills = 0;
    for delay_ms in [40u64, 120, 250, 400, 700, 1000, 1500] {
        let before = NatStore::open(&store)
            .map(|s| s.manifest().files.len())
            .unwrap_or(0);
        if before == FILES {
            break;
        }
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env("WARDEN_CRASH_STORE", &store)
            .env("WARDEN_CRASH_DATA", &dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        // Child::kill sends SIGKILL on Unix: no destructor, no flush, no unlock.
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
        }
        child.wait().unwrap();
        let s = NatStore::open(&store).expect("store must open after a kill");
        let committed = s.manifest().files.len();
        let expect: u64 = per_file.iter().take(committed).sum();
        assert_eq!(
            s.rows(),
            expect,
            "after kill at {delay_ms} ms: {committed} imports committed"
        );
        let mut decoded = 0u64;
        for (m, seg) in s.segments() {
            for b in 0..seg.blocks() {
                decoded += seg.block(b).unwrap().len() as u64;
            }
            assert!(store.join(&m.path).exists());
        }
        assert_eq!(decoded, expect);
        assert!(s.pending().is_empty());
    }
    assert!(
        kills >= 3,
        "the child was killed mid-import only {kills} times"
    );
    // The store accepts the next import (the lock died with the child) and sweeps leftovers.
    let s = NatStore::open(&store).unwrap();
    let done = s.manifest().files.len();
    drop(s);
    if let Some(f) = files(&dir).get(done) {
        import_one(&store, f);
        let s = NatStore::open(&store).unwrap();
        assert_eq!(s.rows(), per_file.iter().take(done + 1).sum::<u64>());
        let leftovers: Vec<_> = std::fs::read_dir(&store)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
