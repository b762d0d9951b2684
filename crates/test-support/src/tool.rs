//! Outside programs the tests drive, and what happens when one is missing.
//!
//! A test that needs a real server or peer calls [`require_tool`] first:
//!
//! - the tool is there: the call returns where its programs are, and records the test as a
//!   real-server test that ran;
//! - it is missing and `CI` is `true`: the call panics, so CI can never pass on a machine where
//!   the real-server tests quietly did nothing;
//! - it is missing elsewhere: the call returns `None` (the test returns early) and records the
//!   skip with the reason and the install script that would bring the tool.
//!
//! Records are lines appended to the file named by `WARDEN_TEST_RECORD` (set by
//! `scripts/test.sh`, which prints the summary after the tests): `ran<TAB>test<TAB>tool` and
//! `skipped<TAB>test<TAB>tool<TAB>reason`. One `write` per line on a file opened for appending,
//! so the parallel test threads and binaries never interleave. Without the variable the skip
//! still goes to stderr (seen with `--nocapture`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment variable naming the record file.
pub const RECORD_ENV: &str = "WARDEN_TEST_RECORD";

/// How to tell whether a tool is installed.
#[derive(Debug, Clone, Copy)]
pub enum Probe {
    /// Every one of these programs is found in `PATH` or the usual system directories.
    Programs(&'static [&'static str]),
    /// `python3 -c "import MODULE"` succeeds.
    PythonModule(&'static str),
}

/// An outside program (or set of programs) some tests need, with the script that installs it.
#[derive(Debug, Clone, Copy)]
pub struct Tool {
    /// The name the summary shows.
    pub name: &'static str,
    /// How to find it.
    pub probe: Probe,
    /// The `.ci/install-*.sh` script that installs it.
    pub install: &'static str,
}

/// bind9: an authoritative server and the DNSSEC signing tools.
pub const BIND9: Tool = Tool {
    name: "bind9",
    probe: Probe::Programs(&[
        "named",
        "dnssec-keygen",
        "dnssec-signzone",
        "dnssec-dsfromkey",
    ]),
    install: ".ci/install-mailcheck-dns.sh",
};

/// bind9's `named` alone (the DKIM key server of the message-lint tests).
pub const NAMED: Tool = Tool {
    name: "bind9",
    probe: Probe::Programs(&["named"]),
    install: ".ci/install-mailcheck-smtp.sh",
};

/// checkdmarc, the SPF/DMARC peer (a Python module).
pub const CHECKDMARC: Tool = Tool {
    name: "checkdmarc",
    probe: Probe::PythonModule("checkdmarc"),
    install: ".ci/install-mailcheck-dns.sh",
};

/// testssl.sh, the TLS protocol peer.
pub const TESTSSL: Tool = Tool {
    name: "testssl",
    probe: Probe::Programs(&["testssl"]),
    install: ".ci/install-mailcheck-smtp.sh",
};

/// The loopback SMTP/TLS test servers run on the system OpenSSL (the `openssl` crate, and the
/// `openssl` program testssl drives); their tests count as real-server tests.
pub const OPENSSL: Tool = Tool {
    name: "openssl",
    probe: Probe::Programs(&["openssl"]),
    install: ".ci/install-mailcheck-smtp.sh",
};

/// Dovecot, the IMAP server of the desk's import tests.
pub const DOVECOT: Tool = Tool {
    name: "dovecot",
    probe: Probe::Programs(&["dovecot"]),
    install: ".ci/install-desk-imap.sh",
};

/// DuckDB (the Python module), the engine that reads the Parquet export.
pub const DUCKDB: Tool = Tool {
    name: "duckdb",
    probe: Probe::PythonModule("duckdb"),
    install: ".ci/install-nat.sh",
};

/// Headless Chromium and its WebDriver.
pub const CHROMIUM: Tool = Tool {
    name: "chromium",
    probe: Probe::Programs(&["chromium", "chromedriver"]),
    install: ".ci/install-webui.sh",
};

/// Where the programs of a found tool are.
#[derive(Debug, Clone)]
pub struct Found {
    programs: BTreeMap<&'static str, PathBuf>,
}

impl Found {
    /// The path of `program` (one of the tool's [`Probe::Programs`]).
    ///
    /// # Panics
    /// When `program` is not one of the tool's programs: a mistake in the test.
    pub fn program(&self, program: &str) -> &Path {
        self.programs
            .get(program)
            .unwrap_or_else(|| panic!("{program} is not one of the probed programs"))
    }
}

/// Whether this run is CI (`CI=true`, as CI services and `.ci/run` set it).
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// Finds `program` in `PATH` or the system directories (`/usr/sbin` is often not in a
/// user's `PATH`, and bind9 and Dovecot live there).
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(
            [
                "/usr/local/sbin",
                "/usr/local/bin",
                "/usr/sbin",
                "/usr/bin",
                "/sbin",
                "/bin",
            ]
            .map(PathBuf::from),
        )
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

fn probe(tool: &Tool) -> Result<Found, String> {
    let mut programs = BTreeMap::new();
    match tool.probe {
        Probe::Programs(names) => {
            let mut missing = Vec::new();
            for name in names {
                match which(name) {
                    Some(p) => {
                        programs.insert(*name, p);
                    }
                    None => missing.push(*name),
                }
            }
            if !missing.is_empty() {
                return Err(format!("{} not found", missing.join(", ")));
            }
        }
        Probe::PythonModule(module) => {
            let Some(python) = which("python3") else {
                return Err("python3 not found".into());
            };
            let ok = Command::new(&python)
                .args(["-c", &format!("import {module}")])
                .output()
                .is_ok_and(|o| o.status.success());
            if !ok {
                return Err(format!("python3 module `{module}` not installed"));
            }
            programs.insert("python3", python);
        }
    }
    Ok(Found { programs })
}

/// The running test's name as the summary shows it: `<test binary>::<test>`.
pub fn current_test() -> String {
    let binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .map(|s| match s.rsplit_once('-') {
            // cargo names test binaries `<name>-<16 hex digits>`.
            Some((name, hash))
                if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                name.to_owned()
            }
            _ => s,
        })
        .unwrap_or_else(|| "?".into());
    let thread = std::thread::current();
    format!("{binary}::{}", thread.name().unwrap_or("?"))
}

/// Appends one record line (see the module documentation).
pub fn record(fields: &[&str]) {
    let Some(path) = std::env::var_os(RECORD_ENV) else {
        return;
    };
    let line: String = fields
        .iter()
        .map(|f| f.replace(['\t', '\n'], " "))
        .collect::<Vec<_>>()
        .join("\t")
        + "\n";
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path);
    match file {
        Ok(mut f) => f
            .write_all(line.as_bytes())
            .unwrap_or_else(|e| panic!("{RECORD_ENV}={}: {e}", Path::new(&path).display())),
        Err(e) => panic!("{RECORD_ENV}={}: {e}", Path::new(&path).display()),
    }
}

/// Checks that `tool` is installed, for the running test. See the module documentation: the
/// tool's programs when present; a panic under CI when missing; `None` (skip the test)
/// elsewhere, recorded with the reason.
pub fn require_tool(tool: &Tool) -> Option<Found> {
    let test = current_test();
    match probe(tool) {
        Ok(found) => {
            record(&["ran", &test, tool.name]);
            Some(found)
        }
        Err(why) => {
            let reason = format!("{why}; run {}", tool.install);
            assert!(
                !under_ci(),
                "CI=true but {} is missing for {test}: {reason}",
                tool.name
            );
            record(&["skipped", &test, tool.name, &reason]);
            eprintln!("SKIPPED {test}: {} missing ({reason})", tool.name);
            None
        }
    }
}
