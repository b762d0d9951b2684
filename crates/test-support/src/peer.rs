//! Peer programs (checkdmarc, testssl, DuckDB, ...) confined to loopback.
//!
//! Tests and benchmarks may only send traffic to loopback addresses, and a peer that quietly
//! asks the machine's resolver would also compare our answers with the outside world's instead
//! of the fixture zones'. Two ways, chosen per peer:
//!
//! - [`Confinement::Offline`]: the peer needs no network at all (DuckDB over local files). It
//!   runs in a network namespace of its own (`unshare -n`), where nothing but a down loopback
//!   exists, when the machine allows that (root, or user namespaces).
//! - [`Confinement::Loopback`]: the peer talks to our loopback servers. Python peers get a
//!   guard (`sitecustomize`, loaded by every Python process) that refuses and reports any
//!   connection or datagram to a non-loopback address, any host-name lookup through the
//!   system resolver (`getaddrinfo`), and dnspython reading the system resolver configuration
//!   (`/etc/resolv.conf`). Other peers (testssl) run, when the machine allows it, in a mount
//!   namespace whose `/etc/resolv.conf` names only 127.0.0.1.
//!
//! Every report goes to a file; [`Peer::assert_confined`] fails the test when there is any.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Python guard, installed as `sitecustomize.py` (see the module documentation). The same
/// file guards the peers of `scripts/bench-mailcheck.sh` (through `PYTHONPATH`).
pub const PYTHON_GUARD: &str = include_str!("../python/sitecustomize.py");

/// How a peer is kept on loopback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confinement {
    /// No network at all (a network namespace of its own, when available; the Python guard
    /// in any case).
    Offline,
    /// Loopback only.
    Loopback,
}

/// A confined peer run: build commands with [`Peer::command`], then check
/// [`Peer::assert_confined`].
#[derive(Debug)]
pub struct Peer {
    dir: PathBuf,
    report: PathBuf,
    confinement: Confinement,
    namespaces: bool,
}

/// Whether `unshare` can make namespaces here (root, or unprivileged user namespaces).
fn unshare_works(flag: &str) -> bool {
    Command::new("unshare")
        .args([flag, "true"])
        .output()
        .is_ok_and(|o| o.status.success())
}

impl Peer {
    /// A peer confined as `confinement`, with its guard files under `dir` (created).
    pub fn new(dir: &Path, confinement: Confinement) -> Self {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let guard = dir.join("sitecustomize.py");
        std::fs::write(&guard, PYTHON_GUARD)
            .unwrap_or_else(|e| panic!("write {}: {e}", guard.display()));
        std::fs::write(dir.join("resolv.conf"), "nameserver 127.0.0.1\n")
            .unwrap_or_else(|e| panic!("write resolv.conf: {e}"));
        let report = dir.join("peer-report.txt");
        std::fs::write(&report, "").unwrap_or_else(|e| panic!("write {}: {e}", report.display()));
        let namespaces = match confinement {
            Confinement::Offline => unshare_works("-n"),
            Confinement::Loopback => unshare_works("-m"),
        };
        Self {
            dir: dir.to_path_buf(),
            report,
            confinement,
            namespaces,
        }
    }

    /// Whether the peer also runs in its own namespace (see the module documentation), or
    /// only under the Python guard.
    pub fn in_namespace(&self) -> bool {
        self.namespaces
    }

    /// A command running `program` with `args` confined: through `unshare` when available,
    /// with the Python guard on `PYTHONPATH` and the report file in `WARDEN_PEER_REPORT`.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = if !self.namespaces {
            Command::new(program)
        } else {
            let mut c = Command::new("unshare");
            match self.confinement {
                Confinement::Offline => {
                    c.arg("-n").arg("--").arg(program);
                }
                Confinement::Loopback => {
                    // A private mount namespace whose resolv.conf names only loopback.
                    c.args([
                        "-m",
                        "--",
                        "sh",
                        "-c",
                        r#"mount --bind "$0" /etc/resolv.conf && exec "$@""#,
                    ])
                    .arg(self.dir.join("resolv.conf"))
                    .arg(program);
                }
            }
            c
        };
        let mut pythonpath = std::ffi::OsString::from(self.dir.as_os_str());
        if let Some(old) = std::env::var_os("PYTHONPATH") {
            pythonpath.push(":");
            pythonpath.push(old);
        }
        cmd.env("PYTHONPATH", pythonpath)
            .env("WARDEN_PEER_REPORT", &self.report);
        cmd
    }

    /// What the guard reported (empty when the peer stayed on loopback).
    pub fn reports(&self) -> Vec<String> {
        std::fs::read_to_string(&self.report)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Fails the test when the peer tried to leave loopback or used the system resolver.
    pub fn assert_confined(&self, peer: &str) {
        let reports = self.reports();
        assert!(
            reports.is_empty(),
            "{peer} tried to leave loopback or used the system resolver:\n{}",
            reports.join("\n")
        );
    }
}
