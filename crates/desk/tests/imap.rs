//! IMAP import against a real Dovecot on loopback (Debian dovecot-imapd, installed by
//! .ci/install-desk-imap.sh), started by the test with a throw-away configuration: passwd-file
//! users, Maildir storage in a temp directory, STARTTLS and IMAPS with a generated certificate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

mod common;

use common::{desk, tempdir};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use warden_desk::imap::{self, ImapSecurity, ImapSource, ImapSummary};
use warden_desk::{Desk, Policy, Store};
use warden_test_support::net::{child_port, with_child_port};
use warden_test_support::tool::{DOVECOT, require_tool};

const USER: &str = "abuse";
const PASSWORD: &str = "correct horse battery";

fn id(flag: &str, user: &str) -> u32 {
    let out = Command::new("id").args([flag, user]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// A running Dovecot; stopped on drop.
struct Dovecot {
    dir: PathBuf,
    conf: PathBuf,
    bin: PathBuf,
    imap_port: u16,
    imaps_port: u16,
    ca_file: PathBuf,
    /// The INBOX Maildir of `USER`.
    inbox: PathBuf,
    /// Owner of mail files (Dovecot refuses uid 0 for mail access).
    mail_owner: Option<(u32, u32)>,
}

impl Dovecot {
    /// A Dovecot on loopback, or `None` when it is not installed (outside CI: see
    /// `require_tool`). Tried on other ports when the chosen ones were taken meanwhile.
    fn start() -> Option<Self> {
        let found = require_tool(&DOVECOT)?;
        let bin = found.program("dovecot").to_path_buf();
        Some(with_child_port("dovecot", 5, |imap_port| {
            Self::launch(&bin, imap_port, child_port())
        }))
    }

    /// Configures and starts Dovecot on the two ports; `Err` with its log when it did not
    /// come up.
    fn launch(bin: &Path, imap_port: u16, imaps_port: u16) -> Result<Self, String> {
        let bin = bin.to_path_buf();
        let dir = tempdir("dovecot");
        let mail = dir.join("mail");
        let inbox = mail.join(USER);
        for sub in [
            "cur",
            "new",
            "tmp",
            ".Imported/cur",
            ".Imported/new",
            ".Imported/tmp",
        ] {
            std::fs::create_dir_all(inbox.join(sub)).unwrap();
        }
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert, ck.cert.pem()).unwrap();
        std::fs::write(&key, ck.key_pair.serialize_pem()).unwrap();
        std::fs::write(dir.join("users"), format!("{USER}:{{PLAIN}}{PASSWORD}\n")).unwrap();
        // As root, Dovecot wants its unprivileged users for login and internal processes and
        // refuses uid 0 for mail; as anyone else, everything runs as that user.
        let me = Command::new("id").arg("-un").output().unwrap();
        let me = String::from_utf8_lossy(&me.stdout).trim().to_owned();
        let root = id("-u", &me) == 0;
        let (internal, login, mail_user) = if root {
            ("dovecot", "dovenull", "dovecot")
        } else {
            (me.as_str(), me.as_str(), me.as_str())
        };
        let (uid, gid) = (id("-u", mail_user), id("-g", mail_user));
        let mail_owner = root.then_some((uid, gid));
        let d = dir.display();
        let conf = dir.join("dovecot.conf");
        std::fs::write(
            &conf,
            format!(
                "base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
instance_name = warden-test-{imap_port}
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
mail_location = maildir:{d}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
service anvil {{
  chroot =
}}
"
            ),
        )
        .unwrap();
        let dc = Dovecot {
            dir: dir.clone(),
            conf: conf.clone(),
            bin: bin.clone(),
            imap_port,
            imaps_port,
            ca_file: cert,
            inbox,
            mail_owner,
        };
        dc.chown_mail();
        // The daemon keeps its standard streams: never pipe them (`output()` would wait for
        // the daemon to exit), send them to a file instead.
        let errors = dir.join("start.err");
        let status = Command::new(&bin)
            .arg("-c")
            .arg(&conf)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&errors).unwrap())
            .status()
            .unwrap();
        if !status.success() {
            return Err(format!(
                "dovecot did not start: {}",
                std::fs::read_to_string(&errors).unwrap_or_default()
            ));
        }
        // Ready when both listeners greet.
        for port in [imap_port, imaps_port] {
            let t0 = std::time::Instant::now();
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                if t0.elapsed() > Duration::from_secs(15) {
                    return Err(format!(
                        "dovecot not listening on {port}: {}",
                        std::fs::read_to_string(dir.join("dovecot.log")).unwrap_or_default()
                    ));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(dc)
    }

    fn chown_mail(&self) {
        let Some((uid, gid)) = self.mail_owner else {
            return;
        };
        fn walk(p: &Path, uid: u32, gid: u32) {
            std::os::unix::fs::chown(p, Some(uid), Some(gid)).unwrap();
            if p.is_dir() {
                for e in std::fs::read_dir(p).unwrap() {
                    walk(&e.unwrap().path(), uid, gid);
                }
            }
        }
        walk(&self.dir.join("mail"), uid, gid);
    }

    /// Delivers a message the way an MTA's local delivery would: tmp/, then renamed to new/.
    fn deliver(&self, name: &str, bytes: &[u8]) {
        let tmp = self.inbox.join("tmp").join(name);
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, self.inbox.join("new").join(name)).unwrap();
        self.chown_mail();
    }

    fn source(&self, security: ImapSecurity) -> ImapSource {
        ImapSource {
            host: "localhost".into(),
            port: if security == ImapSecurity::Tls {
                self.imaps_port
            } else {
                self.imap_port
            },
            user: USER.into(),
            password: PASSWORD.into(),
            mailbox: "INBOX".into(),
            security,
            ca_file: Some(self.ca_file.clone()),
            move_to: None,
            timeout: Duration::from_secs(20),
        }
    }

    fn files_in(&self, folder: &str) -> usize {
        ["cur", "new"]
            .iter()
            .map(|s| {
                std::fs::read_dir(self.inbox.join(folder).join(s))
                    .map(|d| d.count())
                    .unwrap_or(0)
            })
            .sum()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new(&self.bin)
            .arg("-c")
            .arg(&self.conf)
            .arg("stop")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// A report in the test format (see tests/common); Dovecot serves the stored bytes as they are.
fn report(n: u32) -> Vec<u8> {
    format!("TESTREPORT reporter@feeds.example\r\nspam 192.0.2.{n}\r\n").into_bytes()
}

async fn new_desk(tag: &str) -> (Desk, Store) {
    let dir = tempdir(tag);
    let store = Store::open_sqlite_dir(&dir).await.unwrap();
    (
        desk(store.clone(), &dir, Policy::default()).with_max_report_bytes(64 * 1024),
        store,
    )
}

#[tokio::test]
async fn starttls_import_flags_only_what_was_stored() {
    let Some(dc) = Dovecot::start() else { return };
    dc.deliver("1.m", &report(1));
    dc.deliver("2.m", &report(2));
    dc.deliver("3.m", b"Subject: hello\r\n\r\nnot a report at all\r\n");
    dc.deliver("4.m", &report(1)); // a resend: same bytes
    let big = [report(9), vec![b'x'; 100 * 1024]].concat();
    dc.deliver("5.m", &big); // over the desk's 64 KiB limit
    let (d, store) = new_desk("imap-starttls").await;
    let src = dc.source(ImapSecurity::Starttls);
    let s = imap::import(&d, &src, chrono::Utc::now()).await.unwrap();
    assert_eq!(
        s,
        ImapSummary {
            messages: 5,
            processed: 2,
            quarantined: 1,
            duplicates: 1,
            refused: 1
        }
    );
    let quarantined = d.quarantined(10).await.unwrap();
    assert_eq!(quarantined.len(), 1);
    // Everything stored byte for byte.
    use sha2::Digest;
    let id = hex::encode(sha2::Sha256::digest(report(2)));
    assert_eq!(d.raw_report(&id).await.unwrap(), report(2));

    // Marked ones are not taken again; the refused one stays unmarked and is retried.
    let again = imap::import(&d, &src, chrono::Utc::now()).await.unwrap();
    assert_eq!((again.messages, again.refused), (1, 1), "{again:?}");
    dc.deliver("6.m", &report(6));
    let third = imap::import(&d, &src, chrono::Utc::now()).await.unwrap();
    assert_eq!((third.messages, third.processed), (2, 1), "{third:?}");
    // Still in the INBOX (flagged, not moved).
    assert_eq!(dc.files_in(""), 6);
    store.close().await;
}

#[tokio::test]
async fn implicit_tls_import_moves_to_a_folder() {
    let Some(dc) = Dovecot::start() else { return };
    dc.deliver("1.m", &report(11));
    dc.deliver("2.m", &report(12));
    let (d, store) = new_desk("imap-tls").await;
    let mut src = dc.source(ImapSecurity::Tls);
    src.move_to = Some("Imported".into());
    let s = imap::import(&d, &src, chrono::Utc::now()).await.unwrap();
    assert_eq!((s.messages, s.processed), (2, 2), "{s:?}");
    assert_eq!(dc.files_in(""), 0, "moved out of the INBOX");
    assert_eq!(dc.files_in(".Imported"), 2);
    store.close().await;
}

#[tokio::test]
async fn wrong_password_untrusted_certificate_and_plain_for_testing() {
    let Some(dc) = Dovecot::start() else { return };
    dc.deliver("1.m", &report(21));
    let (d, store) = new_desk("imap-errors").await;
    let mut src = dc.source(ImapSecurity::Starttls);
    src.password = "wrong".into();
    let e = imap::import(&d, &src, chrono::Utc::now())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("LOGIN"), "{e}");
    // Without the CA file the server's certificate is not trusted: nothing is sent in clear.
    let mut src = dc.source(ImapSecurity::Tls);
    src.ca_file = None;
    let e = imap::import(&d, &src, chrono::Utc::now())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("TLS handshake"), "{e}");
    assert!(d.quarantined(10).await.unwrap().is_empty());
    // Clear text works too (tests only), and nothing was imported by the failed attempts.
    let s = imap::import(
        &d,
        &dc.source(ImapSecurity::PlainForTesting),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!((s.messages, s.processed), (1, 1), "{s:?}");
    store.close().await;
}
