//! A real authoritative DNS server for the tests: bind9's `named` on 127.0.0.1 and a free
//! port, serving the fixture zones in `tests/data/zones/`, with the fake root zone signed by a
//! fresh key (dnssec-signzone) that the resolver under test takes as its trust anchor.
//!
//! One server per test binary (started on first use). It is stopped when the test process
//! exits: `named` runs under a small shell that kills it once its stdin (a pipe held by this
//! process) closes, so no server outlives the tests even when a test panics.
//!
//! Needs bind9 and bind9-utils (`.ci/install-mailcheck-dns.sh`). Without them the tests print
//! why and pass, except under CI (`CI=true`), where a missing server is a failure.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use warden_mailcheck::resolver::{DnsResolver, ResolverSettings};

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

fn which(prog: &str) -> Option<PathBuf> {
    for dir in [
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
        "/usr/local/sbin",
        "/usr/local/bin",
    ] {
        let p = Path::new(dir).join(prog);
        if p.exists() {
            return Some(p);
        }
    }
    None
}

fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
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

fn start() -> Option<Bind> {
    let (Some(named), Some(keygen), Some(signzone)) = (
        which("named"),
        which("dnssec-keygen"),
        which("dnssec-signzone"),
    ) else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("bind9 is required in CI: run .ci/install-mailcheck-dns.sh");
        }
        eprintln!(
            "SKIP: bind9 (named, dnssec-keygen, dnssec-signzone) not installed; run .ci/install-mailcheck-dns.sh"
        );
        return None;
    };
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("warden-mc-dns-{}-{stamp}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Relative to the crate being tested, so the CLI tests can share this harness.
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mailcheck/tests/data/zones");
    for f in ["root.zone", "insecure.zone"] {
        std::fs::copy(data.join(f), dir.join(f)).unwrap();
    }
    let ksk = run(Command::new(&keygen).current_dir(&dir).args([
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
    run(Command::new(&keygen).current_dir(&dir).args([
        "-q",
        "-K",
        ".",
        "-a",
        "ECDSAP256SHA256",
        "-n",
        "ZONE",
        ".",
    ]));
    run(Command::new(&signzone).current_dir(&dir).args([
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

    let port = free_port();
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
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.join("named.log")).unwrap_or_default();
            panic!("named did not start on {addr}:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Bind {
        addr,
        anchor,
        dir,
        _child: Mutex::new((child, stdin)),
    })
}

/// The shared server, or `None` (test skipped) when bind9 is not installed outside CI.
pub fn bind() -> Option<&'static Bind> {
    static BIND: OnceLock<Option<Bind>> = OnceLock::new();
    BIND.get_or_init(start).as_ref()
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
