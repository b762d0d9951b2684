//! Test harness: a desk server on loopback, a raw HTTP/1.1 client, an SMTP client and an SMTP
//! sink that captures what the desk sends. Everything runs locally; nothing touches the network.

#![allow(dead_code)]

use chrono::Utc;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use warden_desk::notify::{HttpWebhook, SmtpMailer, Templates};
use warden_desk::tokens::{self, Role};
use warden_desk::{Desk, InventoryAttributor, Policy, RawStore, Store};
use warden_server::smtp::SmtpConfig;
use warden_server::{Running, ServerConfig};

pub const ADMIN: &str = "test-admin-token-0123456789";
pub const READER: &str = "test-reader-token-0123456789";

/// A fresh temporary directory.
pub fn tempdir(tag: &str) -> PathBuf {
    warden_test_support::tempdir(&format!("server-{tag}"))
}

/// The shared report stub (warden-test-support): `TESTREPORT reporter@x` then
/// `class subject [port] [time]` lines, also in a mail body. Keeps these tests independent of
/// the real parsers.
pub use warden_test_support::reports::line_format;

pub const INVENTORY: &[u8] = b"customer,name,kind,value
acme,Acme Hosting,prefix,192.0.2.0/24
acme,,abuse,abuse@acme.example
acme,,domain,acme.example
beta,Beta Cloud,prefix,198.51.100.0/24
beta,,abuse,abuse@beta.example
";

/// Starts a server on loopback over SQLite in `dir`, with outgoing mail to `relay` (if any).
pub async fn start(
    dir: &Path,
    parse: warden_desk::intake::ParseFn,
    relay: Option<u16>,
    policy: Policy,
) -> Running {
    let store = Store::open_sqlite_dir(dir).await.unwrap();
    start_on(store, dir, parse, relay, policy, None).await
}

pub async fn start_on(
    store: Store,
    dir: &Path,
    parse: warden_desk::intake::ParseFn,
    relay: Option<u16>,
    policy: Policy,
    ports: Option<(u16, u16)>,
) -> Running {
    let attributor = Arc::new(InventoryAttributor::new(store.clone()));
    start_full(store, dir, parse, relay, policy, ports, attributor, None).await
}

/// Starts a server whose SMTP listener offers STARTTLS with `tls`.
pub async fn start_tls(dir: &Path, tls: Arc<warden_server::tls::rustls::ServerConfig>) -> Running {
    let store = Store::open_sqlite_dir(dir).await.unwrap();
    let attributor = Arc::new(InventoryAttributor::new(store.clone()));
    start_full(
        store,
        dir,
        line_format,
        None,
        Policy::default(),
        None,
        attributor,
        Some(tls),
    )
    .await
}

/// [`start_on`] with a chosen attributor (the CGN tests give a `CgnAttributor`).
pub async fn start_with(
    store: Store,
    dir: &Path,
    parse: warden_desk::intake::ParseFn,
    relay: Option<u16>,
    policy: Policy,
    ports: Option<(u16, u16)>,
    attributor: Arc<dyn warden_desk::Attributor>,
) -> Running {
    start_full(store, dir, parse, relay, policy, ports, attributor, None).await
}

/// The server with every knob: attributor and SMTP STARTTLS configuration.
#[allow(clippy::too_many_arguments)]
pub async fn start_full(
    store: Store,
    dir: &Path,
    parse: warden_desk::intake::ParseFn,
    relay: Option<u16>,
    policy: Policy,
    ports: Option<(u16, u16)>,
    attributor: Arc<dyn warden_desk::Attributor>,
    tls: Option<Arc<warden_server::tls::rustls::ServerConfig>>,
) -> Running {
    start_custom(
        store,
        dir,
        parse,
        relay,
        policy,
        ports,
        attributor,
        move |c| c.tls = tls,
    )
    .await
}

/// A server with the SMTP settings changed by `tweak` (limits, timeouts) on top of the test
/// defaults.
pub async fn start_smtp(dir: &Path, tweak: impl FnOnce(&mut SmtpConfig)) -> Running {
    let store = Store::open_sqlite_dir(dir).await.unwrap();
    let attributor = Arc::new(InventoryAttributor::new(store.clone()));
    start_custom(
        store,
        dir,
        line_format,
        None,
        Policy::default(),
        None,
        attributor,
        tweak,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn start_custom(
    store: Store,
    dir: &Path,
    parse: warden_desk::intake::ParseFn,
    relay: Option<u16>,
    policy: Policy,
    ports: Option<(u16, u16)>,
    attributor: Arc<dyn warden_desk::Attributor>,
    tweak: impl FnOnce(&mut SmtpConfig),
) -> Running {
    let now = Utc::now();
    tokens::register(&store, ADMIN, "admin", Role::Admin, now)
        .await
        .unwrap();
    tokens::register(&store, READER, "reader", Role::ReadOnly, now)
        .await
        .unwrap();
    let raw = RawStore::open(dir.join("raw")).unwrap();
    let desk =
        Desk::new(store.clone(), raw, policy, attributor, parse).with_max_report_bytes(1 << 20);
    let (h, s) = ports.unwrap_or((0, 0));
    let mut cfg = ServerConfig {
        http_listen: ([127, 0, 0, 1], h).into(),
        smtp_listen: Some(([127, 0, 0, 1], s).into()),
        smtp: SmtpConfig {
            hostname: "mx.isp.example".into(),
            domains: vec!["isp.example".into()],
            max_message_bytes: 1 << 20,
            command_timeout: Duration::from_secs(20),
            ..SmtpConfig::default()
        },
        tick: Duration::from_secs(3600),
        rate_per_sec: 0,
        rate_burst: 0,
        ..ServerConfig::default()
    };
    tweak(&mut cfg.smtp);
    let mailer: Arc<dyn warden_desk::notify::Mailer> = match relay {
        Some(port) => Arc::new(SmtpMailer::new("127.0.0.1", port, false).unwrap()),
        None => Arc::new(warden_desk::notify::PickupDirMailer::new(dir.join("outgoing")).unwrap()),
    };
    warden_server::start(
        desk,
        cfg,
        Templates::default(),
        mailer,
        Arc::new(HttpWebhook::default()),
    )
    .await
    .unwrap()
}

/// A minimal HTTP/1.1 request; returns (status, body).
pub async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    ctype: &str,
    body: &[u8],
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\n{auth}Content-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (headers, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = if headers
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, body)
}

fn dechunk(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&after[..n.min(after.len())]);
        rest = after.get(n + 2..).unwrap_or("");
    }
    out
}

pub fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// A line-oriented SMTP client session for tests.
pub struct SmtpClient {
    rd: BufReader<tokio::net::tcp::OwnedReadHalf>,
    wr: tokio::net::tcp::OwnedWriteHalf,
}

impl SmtpClient {
    pub async fn connect(addr: std::net::SocketAddr) -> (Self, String) {
        let (r, w) = TcpStream::connect(addr).await.unwrap().into_split();
        let mut c = Self {
            rd: BufReader::new(r),
            wr: w,
        };
        let greeting = c.reply().await;
        (c, greeting)
    }

    /// Connects from a chosen loopback address (`127.0.0.N`), to test per-client limits.
    pub async fn connect_from(addr: std::net::SocketAddr, local: [u8; 4]) -> (Self, String) {
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.bind((local, 0).into()).unwrap();
        let (r, w) = sock.connect(addr).await.unwrap().into_split();
        let mut c = Self {
            rd: BufReader::new(r),
            wr: w,
        };
        let greeting = c.reply().await;
        (c, greeting)
    }

    /// Reads one (possibly multi-line) reply.
    pub async fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            if self.rd.read_line(&mut line).await.unwrap() == 0 {
                return all;
            }
            all.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return all;
            }
        }
    }

    pub async fn cmd(&mut self, line: &str) -> String {
        self.wr
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .unwrap();
        self.reply().await
    }

    pub async fn raw(&mut self, bytes: &[u8]) {
        self.wr.write_all(bytes).await.unwrap();
    }

    /// Sends one message to `rcpt`; returns the final reply to the data.
    pub async fn send(&mut self, from: &str, rcpt: &str, message: &str) -> String {
        assert!(
            self.cmd(&format!("MAIL FROM:<{from}>"))
                .await
                .starts_with("250")
        );
        let r = self.cmd(&format!("RCPT TO:<{rcpt}>")).await;
        assert!(r.starts_with("250"), "{r}");
        assert!(self.cmd("DATA").await.starts_with("354"));
        let mut data = String::new();
        for line in message
            .strip_suffix("\r\n")
            .unwrap_or(message)
            .split("\r\n")
        {
            if line.starts_with('.') {
                data.push('.');
            }
            data.push_str(line);
            data.push_str("\r\n");
        }
        data.push_str(".\r\n");
        self.wr.write_all(data.as_bytes()).await.unwrap();
        self.reply().await
    }
}

/// A local SMTP sink: accepts every message and keeps (rcpt, data).
pub struct Sink {
    pub port: u16,
    pub mails: Arc<Mutex<Vec<(String, String)>>>,
}

pub async fn sink() -> Sink {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let m = mails.clone();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = l.accept().await else { break };
            let m = m.clone();
            tokio::spawn(async move {
                let (r, mut w) = s.into_split();
                let mut r = BufReader::new(r);
                w.write_all(b"220 sink ESMTP\r\n").await.ok();
                let mut rcpt = String::new();
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        break;
                    }
                    let up = line.to_ascii_uppercase();
                    if up.starts_with("EHLO") {
                        w.write_all(b"250-sink\r\n250 8BITMIME\r\n").await.ok();
                    } else if up.starts_with("RCPT TO:") {
                        rcpt = line[8..].trim().trim_matches(['<', '>']).to_owned();
                        w.write_all(b"250 ok\r\n").await.ok();
                    } else if up.starts_with("DATA") {
                        w.write_all(b"354 go\r\n").await.ok();
                        let mut data = String::new();
                        loop {
                            let mut l = String::new();
                            if r.read_line(&mut l).await.unwrap_or(0) == 0 || l == ".\r\n" {
                                break;
                            }
                            data.push_str(&l);
                        }
                        m.lock().unwrap().push((rcpt.clone(), data));
                        w.write_all(b"250 queued\r\n").await.ok();
                    } else if up.starts_with("QUIT") {
                        w.write_all(b"221 bye\r\n").await.ok();
                        break;
                    } else {
                        w.write_all(b"250 ok\r\n").await.ok();
                    }
                }
            });
        }
    });
    Sink { port, mails }
}
