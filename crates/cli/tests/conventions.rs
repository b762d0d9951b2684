//! Every `warden` command keeps the CLI conventions (crates/cli/src/conventions.rs): `--json`
//! output parses as JSON, and exit codes mean the same everywhere (0 ok, 1 findings or partial
//! failure, 2 usage or input error).
//!
//! The commands come from the binary itself (`warden __commands --json`, walked from clap's
//! definition), so a new subcommand is held to the conventions the day it is added: the generic
//! checks (help, a bad flag) run on it at once, and the test fails until `case` below says what
//! a good input and a missing input are for it. Every input is local: files in a scratch
//! directory, loopback addresses with nothing listening.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use serde_json::Value;
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn warden() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_warden"));
    // The machine's own configuration must not leak into the test.
    for (k, _) in std::env::vars() {
        if k.starts_with("WARDEN_") {
            c.env_remove(k);
        }
    }
    c
}

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/conventions")
        .join(name)
}

fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("conventions-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    })
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Stores the commands under test read from, made once through the commands themselves.
struct Fixture {
    nat: PathBuf,
    desk: PathBuf,
    good_config: PathBuf,
    findings_config: PathBuf,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let root = scratch().join("fixture");
        std::fs::create_dir_all(&root).unwrap();
        let nat = root.join("nat");
        let out = warden()
            .args(["nat", "import", "--json", "--store"])
            .arg(&nat)
            .arg(repo("attribution/tests/data/natlog/juniper.log"))
            .output()
            .unwrap();
        assert!(nat.join("MANIFEST").is_file(), "{}", show(&out));
        let desk = root.join("desk");
        let out = warden()
            .args(["inventory", "import", "--data"])
            .arg(&desk)
            .arg(data("inventory.csv"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", show(&out));
        let good_config = root.join("good.toml");
        std::fs::write(
            &good_config,
            format!(
                "[serve]\ndata = \"{}\"\n[attribution.nat]\nstore = \"{}\"\n",
                desk.display(),
                nat.display()
            ),
        )
        .unwrap();
        let findings_config = root.join("findings.toml");
        std::fs::write(
            &findings_config,
            format!(
                "[serve]\ndata = \"{}\"\nwebhook_ca_file = \"{}/no-such-ca.pem\"\n",
                desk.display(),
                root.display()
            ),
        )
        .unwrap();
        Fixture {
            nat,
            desk,
            good_config,
            findings_config,
        }
    })
}

/// What a command is run with to prove each exit code it can give.
struct Case {
    /// Arguments of a good run, and the exit code it gives (1 where the input has findings).
    good: Vec<(Vec<OsString>, i32)>,
    /// Arguments naming an input that does not exist (exit 2), when the command reads one.
    missing: Option<Vec<OsString>>,
}

fn args(list: &[&dyn AsRefOs]) -> Vec<OsString> {
    list.iter().map(|a| a.os()).collect()
}

trait AsRefOs {
    fn os(&self) -> OsString;
}
impl AsRefOs for &str {
    fn os(&self) -> OsString {
        (*self).into()
    }
}
impl AsRefOs for PathBuf {
    fn os(&self) -> OsString {
        self.clone().into_os_string()
    }
}

fn fresh(name: &str) -> PathBuf {
    let d = scratch().join(name);
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// The inputs of each command. A command missing here fails the test: say how to run it.
fn case(path: &str) -> Option<Case> {
    let fx = fixture();
    let missing = PathBuf::from("/nonexistent/warden-conventions");
    let eml = repo("mailcheck/tests/data/messages/personal.eml");
    Some(match path {
        "parse" => Case {
            good: vec![(args(&[&repo("reports/tests/data/arf/aol-scomp.eml")]), 0)],
            missing: Some(args(&[&missing])),
        },
        "nat import" => Case {
            good: vec![(
                args(&[
                    &"--store",
                    &fresh("nat-import"),
                    &repo("attribution/tests/data/natlog/conntrack.log"),
                ]),
                0,
            )],
            missing: Some(args(&[&"--store", &fresh("nat-import-2"), &missing])),
        },
        "nat lookup" => Case {
            good: vec![
                (
                    args(&[
                        &"--store",
                        &fx.nat,
                        &"198.51.100.20",
                        &"2100",
                        &"2026-11-23T10:30:00Z",
                    ]),
                    0,
                ),
                // Nobody held that address then: a finding, not an error.
                (
                    args(&[
                        &"--store",
                        &fx.nat,
                        &"203.0.113.1",
                        &"2100",
                        &"2026-11-23T10:30:00Z",
                    ]),
                    1,
                ),
            ],
            missing: Some(args(&[
                &"--store",
                &missing,
                &"198.51.100.20",
                &"2100",
                &"2026-11-23T10:30:00Z",
            ])),
        },
        "nat stats" => Case {
            good: vec![(args(&[&"--store", &fx.nat]), 0)],
            missing: Some(args(&[&"--store", &missing])),
        },
        "nat export" => Case {
            good: vec![(
                args(&[&"--store", &fx.nat, &"--parquet", &fresh("parquet")]),
                0,
            )],
            missing: Some(args(&[
                &"--store",
                &missing,
                &"--parquet",
                &fresh("parquet-2"),
            ])),
        },
        "nat prune" => Case {
            // Nothing is older than 2000: the fixture store keeps every day.
            good: vec![(args(&[&"--store", &fx.nat, &"--before", &"2000-01-01"]), 0)],
            missing: Some(args(&[&"--store", &missing, &"--before", &"2000-01-01"])),
        },
        "nat bench" => Case {
            good: vec![(
                args(&[
                    &"--dir",
                    &fresh("bench"),
                    &"--pba-intervals",
                    &"200",
                    &"--session-intervals",
                    &"200",
                    &"--store-intervals",
                    &"500",
                    &"--lookups",
                    &"20",
                    &"--duckdb-lookups",
                    &"0",
                    &"--zgrep-lookups",
                    &"0",
                ]),
                0,
            )],
            // It makes its own inputs.
            missing: None,
        },
        "check domain" => Case {
            // Nothing answers DNS on loopback port 9: every check fails, so findings.
            good: vec![(
                args(&[
                    &"nothing.test",
                    &"--resolver",
                    &"127.0.0.1:9",
                    &"--timeout",
                    &"1",
                    &"--no-mta-sts-fetch",
                    &"--skip-mx-ptr",
                    &"--no-dnssec",
                ]),
                1,
            )],
            missing: Some(args(&[&"-f", &missing])),
        },
        "check smtp" => Case {
            // Nothing listens on loopback port 9: the probe's findings say so.
            good: vec![(args(&[&"127.0.0.1:9", &"--timeout", &"2"]), 1)],
            missing: Some(args(&[&"127.0.0.1:9", &"--ca-file", &missing])),
        },
        "check message" => Case {
            // Without DNS the DKIM signature cannot be verified: a finding.
            good: vec![(args(&[&eml, &"--no-dns"]), 1)],
            missing: Some(args(&[&missing, &"--no-dns"])),
        },
        "inventory import" => Case {
            good: vec![(
                args(&[&"--data", &fresh("inventory"), &data("inventory.csv")]),
                0,
            )],
            missing: Some(args(&[&"--data", &fresh("inventory-2"), &missing])),
        },
        "inventory lookup" => Case {
            good: vec![
                (args(&[&"--data", &fx.desk, &"192.0.2.5"]), 0),
                (args(&[&"--data", &fx.desk, &"203.0.113.9"]), 1),
            ],
            missing: Some(args(&[&"--data", &missing, &"192.0.2.5"])),
        },
        "import maildir" => {
            let maildir = fresh("maildir");
            for sub in ["cur", "new", "tmp"] {
                std::fs::create_dir_all(maildir.join(sub)).unwrap();
            }
            std::fs::copy(data("report.eml"), maildir.join("new/1.eml")).unwrap();
            Case {
                good: vec![(args(&[&"--data", &fresh("import-data"), &maildir]), 0)],
                missing: Some(args(&[&"--data", &fresh("import-data-2"), &missing])),
            }
        }
        "import imap" => Case {
            // A good run needs an IMAP server: crates/desk/tests/imap.rs drives a real one.
            good: vec![],
            missing: Some(args(&[
                &"--data",
                &fresh("imap-data"),
                &"--server",
                &"127.0.0.1:9",
                &"--user",
                &"u",
                &"--plain-for-testing",
                &"--password-file",
                &missing,
            ])),
        },
        "shadowserver schema" => Case {
            // The shipped schema compared with itself: the same types, exit 0.
            good: vec![(args(&[&repo("reports/data/shadowserver-schema.json")]), 0)],
            missing: Some(args(&[&missing])),
        },
        "config check" => Case {
            good: vec![
                (args(&[&"--config", &fx.good_config]), 0),
                (args(&[&"--config", &fx.findings_config]), 1),
            ],
            missing: Some(args(&[&"--config", &missing])),
        },
        "serve" => Case {
            // Runs until stopped: `serve_prints_one_json_start_up_line` proves the good run.
            good: vec![],
            missing: Some(args(&[&"--config", &missing])),
        },
        "__commands" => Case {
            good: vec![(vec![], 0)],
            missing: None,
        },
        _ => return None,
    })
}

/// Every JSON value in `bytes` (one document, or JSON lines); panics naming `what` otherwise.
fn json_values(bytes: &[u8], what: &str) -> Vec<Value> {
    serde_json::Deserializer::from_slice(bytes)
        .into_iter::<Value>()
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| {
            panic!(
                "{what}: output is not JSON ({e}):\n{}",
                String::from_utf8_lossy(bytes)
            )
        })
}

fn commands() -> Vec<Vec<String>> {
    let out = warden().args(["__commands", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w.as_str().unwrap().to_owned())
                .collect()
        })
        .collect()
}

#[test]
fn every_command_keeps_the_conventions() {
    let all = commands();
    assert!(all.len() >= 17, "the walk found too few commands: {all:?}");
    let mut uncovered = Vec::new();
    for path in &all {
        let name = path.join(" ");
        // Help is not an error; an unknown flag is a usage error, with nothing on stdout.
        let out = warden().args(path).arg("--help").output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{name} --help: {}", show(&out));
        let out = warden()
            .args(path)
            .args(["--json", "--no-such-flag"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{name} --no-such-flag: {}",
            show(&out)
        );
        assert!(out.stdout.is_empty(), "{name}: {}", show(&out));

        let Some(case) = case(&name) else {
            uncovered.push(name);
            continue;
        };
        for (good, code) in &case.good {
            let out = warden()
                .args(path)
                .arg("--json")
                .args(good)
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(*code),
                "{name} {good:?}: {}",
                show(&out)
            );
            let values = json_values(&out.stdout, &name);
            assert!(
                !values.is_empty(),
                "{name} --json printed nothing: {}",
                show(&out)
            );
        }
        if let Some(missing) = &case.missing {
            let out = warden()
                .args(path)
                .arg("--json")
                .args(missing)
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(2),
                "{name} {missing:?}: {}",
                show(&out)
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("/nonexistent/warden-conventions"),
                "{name}: the message names the input: {stderr}"
            );
            // With --json the error itself is a JSON line.
            let last = stderr.lines().last().unwrap_or_default();
            let v: Value = serde_json::from_str(last)
                .unwrap_or_else(|e| panic!("{name}: last stderr line is not JSON ({e}): {stderr}"));
            assert_eq!(v["level"], "error", "{name}: {stderr}");
        }
    }
    assert!(
        uncovered.is_empty(),
        "commands without a case in tests/conventions.rs (add their good and missing inputs): {uncovered:?}"
    );
}

#[test]
fn serve_prints_one_json_start_up_line() {
    let mut child = warden()
        .args([
            "serve",
            "--demo",
            "--demo-reports",
            "3",
            "--json",
            "--listen",
            "127.0.0.1:0",
            "--smtp-listen",
            "127.0.0.1:0",
        ])
        .env("WARDEN_DEMO_TOKEN", "conventions-token")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let line = loop {
        if let Ok(l) = rx.try_recv() {
            break l;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("warden serve --demo exited ({status})");
        }
        assert!(Instant::now() < deadline, "no start-up line within 120 s");
        std::thread::sleep(Duration::from_millis(100));
    };
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    assert_eq!(v["event"], "started");
    let api = v["api"].as_str().unwrap();
    assert!(api.starts_with("http://127.0.0.1:"), "{v}");
    assert_eq!(v["ui"], format!("{api}/ui"));
    assert_eq!(v["demo"], true);
    // The demo's own token was registered, so none was generated to show.
    assert_eq!(v["admin_token"], Value::Null);
    // Messages on stderr are JSON lines too.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for l in lines {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}"));
        assert!(v["level"].is_string(), "{l}");
    }
}

fn misspelt(name: &str, text: &str) -> PathBuf {
    let p = scratch().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn misspelt_tables_and_keys_are_refused_by_serve_and_config_check() {
    let table = misspelt(
        "table.toml",
        "[serve]\nlisten = \"127.0.0.1:0\"\n\n[atribution.nat]\nstore = \"/var/lib/warden/nat\"\n",
    );
    let key = misspelt(
        "key.toml",
        "[serve]\nlisten = \"127.0.0.1:0\"\nrate_per_secs = 5\n",
    );
    for (file, want) in [
        (
            &table,
            "line 4: unknown table `atribution`; did you mean `attribution`?",
        ),
        (
            &key,
            "line 3: unknown key `rate_per_secs`; did you mean `rate_per_sec`?",
        ),
    ] {
        for cmd in [&["serve"][..], &["config", "check"][..]] {
            let out = warden()
                .args(cmd)
                .arg("--config")
                .arg(file)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{cmd:?}: {}", show(&out));
            assert!(
                stderr.contains(&format!("{} {want}", file.display())),
                "{cmd:?}: {stderr}"
            );
        }
    }
}

#[test]
fn warden_variables_override_the_file_and_misspelt_ones_are_refused() {
    let fx = fixture();
    // The good file, with its data directory moved somewhere that cannot be created.
    let out = warden()
        .args(["config", "check", "--json", "--config"])
        .arg(&fx.good_config)
        .env("WARDEN_SERVE__DATA", "/nonexistent/warden-conventions/data")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["key"], "serve.data", "{v}");

    // The NAT store comes from the environment alone.
    let out = warden()
        .args(["nat", "stats", "--json"])
        .env("WARDEN_ATTRIBUTION__NAT__STORE", &fx.nat)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["intervals"].as_u64().unwrap() > 0, "{v}");

    let out = warden()
        .args(["config", "check"])
        .env("WARDEN_ATTRIBUTION__NAT__STOR", &fx.nat)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("WARDEN_ATTRIBUTION__NAT__STOR: unknown key `WARDEN_ATTRIBUTION__NAT__STOR`; did you mean `WARDEN_ATTRIBUTION__NAT__STORE`?"),
        "{}",
        show(&out)
    );
}
