//! A real authoritative DNS server for the tests: bind9's `named` on 127.0.0.1 and a free
//! port, serving the fixture zones in `tests/data/zones/`, with the fake root zone signed by a
//! fresh key (dnssec-signzone) that the resolver under test takes as its trust anchor.
//!
//! One server per test binary (started on first use). It is stopped when the test process
//! exits: `named` runs under a small shell that kills it once its stdin (a pipe held by this
//! process) closes, so no server outlives the tests even when a test panics.
//!
//! Needs bind9 and bind9-utils (`.ci/install-mailcheck-dns.sh`), checked for every test through
//! warden-test-support's `require_tool`: without them a test is skipped and the skip recorded,
//! except under CI (`CI=true`), where a missing server is a failure.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use warden_mailcheck::resolver::{DnsResolver, ResolverSettings};
use warden_test_support::net::with_child_port;
use warden_test_support::tool::{BIND9, Found, require_tool};

/// The running server.
pub struct Bind {
    /// Where it listens (UDP and TCP).
    pub addr: SocketAddr,
    /// The DNSKEY file to trust.
    pub anchor: PathBuf,
    /// The working directory (zones, keys, config).
    pub dir: PathBuf,
    _child: Mutex<(Child, Option<ChildStdin>)>,
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn start(tools: &Found) -> Bind {
    let (named, keygen, signzone) = (
        tools.program("named"),
        tools.program("dnssec-keygen"),
        tools.program("dnssec-signzone"),
    );
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("warden-mc-dns-{}-{stamp}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Relative to the crate being tested, so the CLI tests can share this harness.
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mailcheck/tests/data/zones");
    for f in ["root.zone", "insecure.zone", "bogus.zone"] {
        std::fs::copy(data.join(f), dir.join(f)).unwrap();
    }
    // bogus.test is signed with its own keys, but the root gets a DS of a key the zone never
    // uses (made in a separate directory so the zone signer does not pick it up).
    for args in [
        &[
            "-q",
            "-K",
            ".",
            "-a",
            "ECDSAP256SHA256",
            "-f",
            "KSK",
            "-n",
            "ZONE",
            "bogus.test",
        ][..],
        &[
            "-q",
            "-K",
            ".",
            "-a",
            "ECDSAP256SHA256",
            "-n",
            "ZONE",
            "bogus.test",
        ][..],
    ] {
        run(Command::new(keygen).current_dir(&dir).args(args));
    }
    run(Command::new(signzone).current_dir(&dir).args([
        "-q",
        "-S",
        "-K",
        ".",
        "-o",
        "bogus.test",
        "-f",
        "bogus.signed",
        "bogus.zone",
    ]));
    std::fs::create_dir_all(dir.join("wrong")).unwrap();
    let wrong = run(Command::new(keygen).current_dir(dir.join("wrong")).args([
        "-q",
        "-K",
        ".",
        "-a",
        "ECDSAP256SHA256",
        "-f",
        "KSK",
        "-n",
        "ZONE",
        "bogus.test",
    ]));
    let dsfromkey = tools.program("dnssec-dsfromkey");
    let ds = run(Command::new(dsfromkey)
        .current_dir(dir.join("wrong"))
        .args(["-2", &format!("{wrong}.key")]));
    let mut root = std::fs::read_to_string(dir.join("root.zone")).unwrap();
    root.push_str(&format!("\nbogus.test. NS ns.test.\n{ds}\n"));
    std::fs::write(dir.join("root.zone"), root).unwrap();
    let ksk = run(Command::new(keygen).current_dir(&dir).args([
        "-q",
        "-K",
        ".",
        "-a",
        "ECDSAP256SHA256",
        "-f",
        "KSK",
        "-n",
        "ZONE",
        ".",
    ]));
    run(Command::new(keygen).current_dir(&dir).args([
        "-q",
        "-K",
        ".",
        "-a",
        "ECDSAP256SHA256",
        "-n",
        "ZONE",
        ".",
    ]));
    run(Command::new(signzone).current_dir(&dir).args([
        "-q",
        "-S",
        "-K",
        ".",
        "-o",
        ".",
        "-f",
        "root.signed",
        "root.zone",
    ]));
    // The trust anchor: the KSK's DNSKEY line, without the comments dnssec-keygen adds.
    let key = std::fs::read_to_string(dir.join(format!("{ksk}.key"))).unwrap();
    let dnskey: String = key
        .lines()
        .filter(|l| !l.starts_with(';') && l.contains("DNSKEY"))
        .map(|l| format!("{l}\n"))
        .collect();
    let anchor = dir.join("anchor.key");
    std::fs::write(&anchor, dnskey).unwrap();

    with_child_port("named", 5, |port| launch(named, &dir, port, anchor.clone()))
}

/// Starts `named` on `port` over the prepared `dir`; `Err` with its log when it did not come up
/// (typically: the port was taken meanwhile).
fn launch(named: &Path, dir: &Path, port: u16, anchor: PathBuf) -> Result<Bind, String> {
    let d = dir.display();
    let conf = format!(
        r#"options {{
    directory "{d}";
    pid-file "{d}/named.pid";
    session-keyfile "{d}/session.key";
    managed-keys-directory "{d}";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    notify no;
    minimal-responses yes;
}};
controls {{ }};
zone "." {{ type primary; file "{d}/root.signed"; }};
zone "insecure.test" {{ type primary; file "{d}/insecure.zone"; }};
zone "bogus.test" {{ type primary; file "{d}/bogus.signed"; }};
"#
    );
    std::fs::write(dir.join("named.conf"), conf).unwrap();
    let script = format!(
        "'{}' -g -n 1 -c '{d}/named.conf' >'{d}/named.log' 2>&1 & p=$!; cat >/dev/null; kill $p; wait $p",
        named.display()
    );
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            break;
        }
        let log = std::fs::read_to_string(dir.join("named.log")).unwrap_or_default();
        if Instant::now() > deadline || log.contains("address in use") || log.contains("exiting") {
            // Dropping the child's stdin makes the wrapper kill named.
            drop(stdin);
            let _ = child.wait();
            return Err(format!("named did not start on {addr}:\n{log}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Bind {
        addr,
        anchor,
        dir: dir.to_path_buf(),
        _child: Mutex::new((child, stdin)),
    })
}

/// The shared server, or `None` (test skipped) when bind9 is not installed outside CI. Asked
/// by every test, so each one is counted as run or skipped.
pub fn bind() -> Option<&'static Bind> {
    let tools = require_tool(&BIND9)?;
    static BIND: OnceLock<Bind> = OnceLock::new();
    Some(BIND.get_or_init(|| start(&tools)))
}

/// A validating resolver that asks only the test server and trusts its root key.
pub fn resolver(b: &Bind) -> DnsResolver {
    DnsResolver::new(&ResolverSettings {
        upstreams: vec![b.addr],
        timeout: Duration::from_secs(2),
        attempts: 2,
        validate: true,
        trust_anchor: Some(b.anchor.clone()),
        cache_size: 4096,
    })
    .unwrap()
}

/// Settings for a resolver against the test server (for the CLI and other processes).
pub fn settings(b: &Bind) -> ResolverSettings {
    ResolverSettings {
        upstreams: vec![b.addr],
        timeout: Duration::from_secs(2),
        attempts: 2,
        validate: true,
        trust_anchor: Some(b.anchor.clone()),
        cache_size: 4096,
    }
}
