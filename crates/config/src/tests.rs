use super::*;
use std::path::PathBuf;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml_str(Path::new("warden.toml"), text)
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-config-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("warden.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn self_help_table_is_read_and_checked() {
    let c = parse(
        "[self_help]\npublic_url = \"https://abuse.isp.example\"\nlink_days = 7\nhide_reporter = false\n",
    )
    .unwrap();
    let sh = &c.self_help;
    assert_eq!(sh.public_url.as_deref(), Some("https://abuse.isp.example"));
    assert_eq!(sh.link_days, 7);
    assert!(sh.enabled && !sh.hide_reporter && sh.mask_email_local_parts);
    // No table: on, with every redaction.
    let sh = Config::default().self_help;
    assert!(sh.enabled && sh.hide_reporter && sh.hide_other_addresses);
    let e = parse("[self_help]\nhide_reporters = true\n")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "warden.toml line 2: unknown key `hide_reporters`; did you mean `hide_reporter`?"
    );
    let e = parse("[self_help]\npublic_url = \"ftp://x\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("[self_help]") && e.contains("http://"), "{e}");
}

#[test]
fn attribution_nat_table_is_read_and_checked() {
    let c = parse(
        "[serve]\nlisten = \"127.0.0.1:9\"\n[attribution.nat]\nstore = \"/var/lib/warden/nat\"\nwindow = \"3s\"\nradius = [\"acct.csv\"]\n",
    )
    .unwrap();
    let nat = c.attribution.nat.unwrap();
    assert_eq!(nat.store, PathBuf::from("/var/lib/warden/nat"));
    assert_eq!(nat.window, "3s");
    assert_eq!(nat.radius, [PathBuf::from("acct.csv")]);
    assert_eq!(nat.max_candidates, warden_desk::cgn::DEFAULT_MAX_CANDIDATES);
    let e = parse("[attribution.nat]\nstore = \"x\"\nwindw = \"3s\"\n")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "warden.toml line 3: unknown key `windw`; did you mean `window`?"
    );
    let e = parse("[attribution.nat]\nstore = \"x\"\nwindow = \"3 fortnights\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("[attribution.nat]: invalid NAT window"),
        "{e}"
    );
}

#[test]
fn a_misspelt_table_is_named_with_its_line() {
    let text =
        "# the desk\n[serve]\nlisten = \"127.0.0.1:8080\"\n\n[atribution.nat]\nstore = \"/x\"\n";
    let e = parse(text).unwrap_err();
    assert_eq!(
        e.to_string(),
        "warden.toml line 5: unknown table `atribution`; did you mean `attribution`?"
    );
    assert!(matches!(
        e,
        ConfigError::Unknown {
            kind: KeyKind::Table,
            ..
        }
    ));
    // Nothing close: no guess.
    let e = parse("[qqqqqqqq]\n").unwrap_err().to_string();
    assert_eq!(e, "warden.toml line 1: unknown table `qqqqqqqq`");
    // The new [reports] table is part of the schema.
    let c = parse("[reports]\nshadowserver_schema = \"/etc/warden/ss.json\"\n").unwrap();
    assert_eq!(
        c.reports.shadowserver_schema,
        Some(PathBuf::from("/etc/warden/ss.json"))
    );
    let e = parse("[reports]\nshadowserver_schem = \"x\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("did you mean `shadowserver_schema`"), "{e}");
}

#[test]
fn desk_policy_is_typed_in_place() {
    let class = "severity = \"high\"\ndeadline_hours = 4\nurgent = true\nescalate_after_events = 1\nescalate_after_hours = 1\nnotify_customer = true\n";
    let c = parse(&format!(
        "[desk]\nwindow_hours = 24\n[desk.class.phishing]\n{class}"
    ))
    .unwrap();
    assert_eq!(c.desk.window_hours, 24);
    let e = parse("[desk]\nwindow_hour = 24\n").unwrap_err().to_string();
    assert_eq!(
        e,
        "warden.toml line 2: unknown key `window_hour`; did you mean `window_hours`?"
    );
    let e = parse(&format!("[desk.class.not_a_class]\n{class}"))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("[desk]:") && e.contains("not_a_class"), "{e}");
    let e = parse("[desk]\nwindow_hours = \"many\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("warden.toml line 2: invalid type"), "{e}");
}

#[test]
fn environment_overrides_the_file() {
    let path = temp_file(
        "env",
        "[serve]\nlisten = \"127.0.0.1:8080\"\nrate_per_sec = 10\n[attribution.nat]\nstore = \"/from/file\"\n",
    );
    let c = Config::load_with_env(
        Some(&path),
        env(&[
            ("WARDEN_ATTRIBUTION__NAT__WINDOW", "2s"),
            ("WARDEN_SERVE__LISTEN", "127.0.0.1:9999"),
            (
                "WARDEN_SERVE__SMTP_DOMAINS",
                "[\"isp.example\", \"isp.test\"]",
            ),
            ("WARDEN_SELF_HELP__LINK_DAYS", "3"),
            // Flag variables and other programs' variables are not configuration keys.
            ("WARDEN_DATA", "/elsewhere"),
            ("WARDEN_DEMO_TOKEN", "t"),
            ("HOME", "/root"),
        ]),
    )
    .unwrap();
    assert_eq!(c.serve.listen, Some("127.0.0.1:9999".parse().unwrap()));
    assert_eq!(
        c.serve.rate_per_sec,
        Some(10),
        "untouched keys keep the file's value"
    );
    assert_eq!(c.serve.smtp_domains, ["isp.example", "isp.test"]);
    assert_eq!(c.self_help.link_days, 3);
    let nat = c.attribution.nat.unwrap();
    assert_eq!(nat.store, PathBuf::from("/from/file"));
    assert_eq!(nat.window, "2s");
    assert_eq!(c.serve.data, None);

    // Without a file, the environment alone configures.
    let c =
        Config::load_with_env(None, env(&[("WARDEN_ATTRIBUTION__NAT__STORE", "/nat")])).unwrap();
    assert_eq!(c.attribution.nat.unwrap().store, PathBuf::from("/nat"));
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[test]
fn unknown_environment_variables_are_refused_with_the_closest() {
    let e = Config::load_with_env(None, env(&[("WARDEN_ATRIBUTION__NAT__STORE", "/x")]))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "environment variable WARDEN_ATRIBUTION__NAT__STORE: unknown key `WARDEN_ATRIBUTION__NAT__STORE`; did you mean `WARDEN_ATTRIBUTION__NAT__STORE`?"
    );
    let e = Config::load_with_env(None, env(&[("WARDEN_ATTRIBUTION__NAT__WINDW", "5s")]))
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with("did you mean `WARDEN_ATTRIBUTION__NAT__WINDOW`?"),
        "{e}"
    );
    let e = Config::load_with_env(None, env(&[("WARDEN_SERVE_LISTEN", "127.0.0.1:1")]))
        .unwrap_err()
        .to_string();
    assert!(e.ends_with("did you mean `WARDEN_SERVE__LISTEN`?"), "{e}");
    let e = Config::load_with_env(None, env(&[("WARDEN_SERVE__RATE_PER_SEC", "fast")]))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("environment variable WARDEN_SERVE__RATE_PER_SEC: invalid type"),
        "{e}"
    );
    let e = Config::load_with_env(None, env(&[("WARDEN_SERVE__LISTEN__PORT", "1")]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("WARDEN_SERVE__LISTEN__PORT"), "{e}");
}

#[test]
fn unreadable_file_is_named() {
    let e = Config::load_with_env(Some(Path::new("/nonexistent/warden.toml")), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("cannot read /nonexistent/warden.toml"), "{e}");
}

#[tokio::test]
async fn check_finds_what_loading_cannot() {
    let dir = std::env::temp_dir().join(format!("warden-config-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("cert.pem"), "not a certificate").unwrap();
    let text = format!(
        "[serve]\ndata = \"{d}/data\"\nsmtp_tls_cert = \"{d}/cert.pem\"\nsmtp_tls_key = \"{d}/missing-key.pem\"\n\
         [attribution.nat]\nstore = \"{d}/no-nat\"\n[reports]\nshadowserver_schema = \"{d}/none.json\"\n",
        d = dir.display()
    );
    let c = parse(&text).unwrap();
    let found = check::check(&c).await;
    let keys: Vec<&str> = found.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "serve.smtp_tls_cert",
            "serve.smtp_tls_key",
            "attribution.nat.store",
            "reports.shadowserver_schema"
        ],
        "{found:?}"
    );
    // The data directory does not exist but its parent does: created at start, no finding.
    let clean = parse(&format!("[serve]\ndata = \"{}/data\"\n", dir.display())).unwrap();
    assert_eq!(check::check(&clean).await, []);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn smtp_session_limits_and_timeouts_are_read() {
    let c = parse(
        "[serve]\nsmtp_max_sessions = 64\nsmtp_max_sessions_per_ip = 4\n\
         smtp_command_timeout_seconds = 20\nsmtp_data_timeout_seconds = 120\n",
    )
    .unwrap();
    assert_eq!(c.serve.smtp_max_sessions, Some(64));
    assert_eq!(c.serve.smtp_max_sessions_per_ip, Some(4));
    assert_eq!(c.serve.smtp_command_timeout_seconds, Some(20));
    assert_eq!(c.serve.smtp_data_timeout_seconds, Some(120));
    // Still strict: a misspelt limit is an error, not a default silently kept.
    let e = parse("[serve]\nsmtp_max_session = 64\n").unwrap_err();
    assert!(e.to_string().contains("smtp_max_session"), "{e}");
}
