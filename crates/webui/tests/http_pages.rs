//! The quarantine, inventory and bulk-action pages, login limiting and operator overrides over
//! HTTP without a browser, against a real SQLite desk.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tower::ServiceExt;
use warden_desk::tokens::{self, Role};
use warden_desk::{Channel, Desk};
use warden_reports::{ParseError, Record};
use warden_webui::WebUiConfig;

const ADMIN: &str = "webui-admin-token-0123456789";

async fn send(app: &Router, req: Request<Body>) -> (Response<Body>, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 22).await.unwrap();
    (
        Response::from_parts(parts, Body::empty()),
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn get(uri: &str, cookie: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

fn form(uri: &str, cookie: &str, body: String) -> Request<Body> {
    Request::post(uri)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

fn hidden_csrf(html: &str) -> String {
    let i = html.find("name=\"csrf\" value=\"").unwrap() + 19;
    html[i..i + 64].to_owned()
}

fn set_cookie(resp: &Response<Body>, name: &str) -> Option<String> {
    resp.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with(&format!("{name}=")))
}

/// Posts the login form with `token`; returns the answer.
async fn try_login(app: &Router, token: &str) -> (Response<Body>, String) {
    let (resp, html) = send(app, Request::get("/ui/login").body(Body::empty()).unwrap()).await;
    let pair = set_cookie(&resp, "warden_login_csrf")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = hidden_csrf(&html);
    send(
        app,
        form("/ui/login", &pair, format!("token={token}&csrf={csrf}")),
    )
    .await
}

/// Logs in; returns the session cookie pair and the session's CSRF token.
async fn login(app: &Router, token: &str) -> (String, String) {
    let (resp, _) = try_login(app, token).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let pair = set_cookie(&resp, "warden_session")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let (_, html) = send(app, get("/ui/cases", &pair)).await;
    (pair, hidden_csrf(&html))
}

fn attr_values(html: &str, attr: &str, len: usize) -> Vec<String> {
    let pat = format!("{attr}=\"");
    html.match_indices(&pat)
        .map(|(i, m)| html[i + m.len()..i + m.len() + len].to_owned())
        .collect()
}

/// "Fixed" by the test once the first run has quarantined a `LEGACY` report.
static LEGACY_FIXED: AtomicBool = AtomicBool::new(false);

/// The test line format, plus a `LEGACY reporter` header that only parses once "fixed".
fn fixable(raw: &[u8]) -> Result<Vec<Record>, ParseError> {
    match raw.strip_prefix(b"LEGACY ") {
        Some(rest) if LEGACY_FIXED.load(Ordering::SeqCst) => {
            common::line_format(&[b"TESTREPORT ".as_slice(), rest].concat())
        }
        _ => common::line_format(raw),
    }
}

/// Both backends: every test runs on SQLite and on PostgreSQL.
const BACKENDS: [&str; 2] = ["sqlite", "postgres"];

/// The desk on `backend`, with the guard of its PostgreSQL schema (keep it while the desk is
/// used).
async fn desk(tag: &str, backend: &str) -> (Desk, Option<common::PgSchema>) {
    let dir = common::tempdir(tag);
    let (store, schema) = common::store(backend, &dir).await;
    let desk = common::desk_on(store, &dir, fixable).await;
    tokens::register(desk.store(), ADMIN, "adam", Role::Admin, chrono::Utc::now())
        .await
        .unwrap();
    (desk, schema)
}

#[tokio::test]
async fn quarantine_lists_shows_raw_inert_and_reruns() {
    for backend in BACKENDS {
        quarantine_lists_shows_raw_inert_and_reruns_on(backend).await;
    }
}

async fn quarantine_lists_shows_raw_inert_and_reruns_on(backend: &str) {
    LEGACY_FIXED.store(false, Ordering::SeqCst);
    let (desk, _schema) = desk("quarantine", backend).await;
    let now = chrono::Utc::now();
    let hostile = b"<script>alert(1)</script><img src=x onerror=alert(2)>\nnot a report\n".to_vec();
    let r1 = desk
        .ingest(hostile, Channel::Http, None, now)
        .await
        .unwrap();
    let r2 = desk
        .ingest(
            b"LEGACY legacy@reporter.example\nspam 192.0.2.77\n".to_vec(),
            Channel::Smtp,
            None,
            now,
        )
        .await
        .unwrap();
    // A big one: the inline view is capped, the download is whole.
    let mut big = b"<b>".to_vec();
    big.extend(std::iter::repeat_n(b'x', 100_000));
    let r3 = desk.ingest(big, Channel::Http, None, now).await.unwrap();
    let app = warden_webui::router(desk.clone(), WebUiConfig::default());

    let (rc, _) = login(&app, common::READER).await;
    assert_eq!(
        send(&app, get("/ui/quarantine", &rc)).await.0.status(),
        StatusCode::FORBIDDEN
    );

    let (cookie, csrf) = login(&app, common::ANALYST).await;
    let (resp, html) = send(&app, get("/ui/quarantine", &cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(html.contains("3 report(s) in quarantine"), "{html}");
    let listed = attr_values(&html, "data-report", 64);
    for r in [&r1, &r2, &r3] {
        assert!(listed.contains(&r.report_id));
    }
    assert!(html.contains("no known report format"));

    // Raw view: text, escaped.
    let (resp, html) = send(
        &app,
        get(&format!("/ui/quarantine/{}", r1.report_id), &cookie),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;")
    );
    assert!(!html.contains("<script>alert") && !html.contains("<img src=x"));
    let (_, html) = send(
        &app,
        get(&format!("/ui/quarantine/{}", r3.report_id), &cookie),
    )
    .await;
    assert!(
        html.contains("First 65536 of 100003 bytes shown"),
        "{html:.2000}"
    );
    assert!(html.len() < 90_000);
    // Download: an attachment, never rendered.
    let (resp, body) = send(
        &app,
        get(&format!("/ui/quarantine/{}/raw", r3.report_id), &cookie),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()[header::CONTENT_TYPE],
        "application/octet-stream"
    );
    assert!(
        resp.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(resp.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(body.len(), 100_003);
    // Bad and unknown ids.
    let (resp, html) = send(&app, get("/ui/quarantine/..%2F..%2Fetc/raw", &cookie)).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{html}");
    let (resp, _) = send(
        &app,
        get(&format!("/ui/quarantine/{}", "0".repeat(64)), &cookie),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    // Re-run before the fix: still quarantined. Wrong CSRF: refused.
    let uri = format!("/ui/quarantine/{}/rerun", r2.report_id);
    let (resp, _) = send(
        &app,
        form(&uri, &cookie, format!("csrf={}", "f".repeat(64))),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (resp, _) = send(&app, form(&uri, &cookie, format!("csrf={csrf}"))).await;
    assert_eq!(
        resp.headers()[header::LOCATION],
        "/ui/quarantine?processed=0&still=1&failed=0"
    );
    // After the fix: processed, and its case is in the queue.
    LEGACY_FIXED.store(true, Ordering::SeqCst);
    let (resp, _) = send(&app, form(&uri, &cookie, format!("csrf={csrf}"))).await;
    assert_eq!(
        resp.headers()[header::LOCATION],
        "/ui/quarantine?processed=1&still=0&failed=0"
    );
    let (_, html) = send(&app, get("/ui/cases?q=192.0.2.77", &cookie)).await;
    assert_eq!(attr_values(&html, "data-case", 36).len(), 1);
    // A second re-run of the same report is a conflict (it is not in quarantine any more).
    let (resp, _) = send(&app, form(&uri, &cookie, format!("csrf={csrf}"))).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    // Re-run all: the other two stay quarantined.
    let (resp, _) = send(
        &app,
        form("/ui/quarantine/rerun-all", &cookie, format!("csrf={csrf}")),
    )
    .await;
    assert_eq!(
        resp.headers()[header::LOCATION],
        "/ui/quarantine?processed=0&still=2&failed=0"
    );
    let (_, html) = send(
        &app,
        get("/ui/quarantine?processed=0&still=2&failed=0", &cookie),
    )
    .await;
    assert!(html.contains("2 still quarantined") && html.contains("2 report(s) in quarantine"));
}

fn multipart(cookie: &str, csrf: &str, file_name: &str, content: &[u8]) -> Request<Body> {
    let b = "----wardenboundary7MA4YWxk";
    let mut body = Vec::new();
    body.extend(
        format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"format\"\r\n\r\nauto\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend(content);
    body.extend(format!("\r\n--{b}--\r\n").as_bytes());
    Request::post("/ui/inventory/import")
        .header(header::COOKIE, cookie)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={b}"),
        )
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn inventory_pages_and_import() {
    for backend in BACKENDS {
        inventory_pages_and_import_on(backend).await;
    }
}

async fn inventory_pages_and_import_on(backend: &str) {
    let (desk, _schema) = desk("inventory", backend).await;
    let app = warden_webui::router(desk.clone(), WebUiConfig::default());
    let (cookie, csrf) = login(&app, common::ANALYST).await;

    let (resp, html) = send(&app, get("/ui/inventory", &cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(attr_values(&html, "data-customer", 4), ["acme", "beta"]);
    assert!(
        !html.contains("/ui/inventory/import"),
        "analysts do not import"
    );
    let (_, html) = send(&app, get("/ui/inventory?q=CLOUD", &cookie)).await;
    assert_eq!(attr_values(&html, "data-customer", 4), ["beta"]);
    let (_, html) = send(&app, get("/ui/inventory?q=%25", &cookie)).await;
    assert!(
        attr_values(&html, "data-customer", 4).is_empty(),
        "% is literal"
    );

    // One customer: contacts, prefixes, domains, cases, repeat count.
    let (resp, html) = send(&app, get("/ui/inventory/acme", &cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    for needle in [
        "Acme Hosting",
        "abuse@acme.example",
        "192.0.2.0/24",
        "acme.example",
        "data-repeat=\"2\"",
    ] {
        assert!(html.contains(needle), "{needle} missing");
    }
    assert_eq!(attr_values(&html, "data-case", 36).len(), 2);
    let (resp, _) = send(&app, get("/ui/inventory/nobody", &cookie)).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    // Import is for admins.
    assert_eq!(
        send(&app, get("/ui/inventory/import", &cookie))
            .await
            .0
            .status(),
        StatusCode::FORBIDDEN
    );
    let (resp, _) = send(
        &app,
        multipart(&cookie, &csrf, "i.csv", b"customer,kind,value\n"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    let (acookie, acsrf) = login(&app, ADMIN).await;
    let (resp, html) = send(&app, get("/ui/inventory/import", &acookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(html.contains("enctype=\"multipart/form-data\""));
    // Every bad line named; nothing written.
    let bad = b"customer,name,kind,value,valid_from\n\
        gamma,Gamma,prefix,203.0.113.0/24,\n\
        gamma,,prefix,203.0.113.999/24,\n\
        gamma,,abuse,<script>,\n\
        gamma,,domain,gamma.example,yesterday\n";
    let (resp, html) = send(&app, multipart(&acookie, &acsrf, "inv.csv", bad)).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for needle in [
        "line 3: ",
        "line 4: ",
        "line 5: ",
        "&lt;script&gt;",
        "nothing was imported",
    ] {
        assert!(html.contains(needle), "{needle} missing: {html}");
    }
    assert!(!html.contains("line 2: "));
    let (_, html) = send(&app, get("/ui/inventory?q=gamma", &acookie)).await;
    assert!(attr_values(&html, "data-customer", 5).is_empty());
    // A good file is imported; JSON is recognised.
    let good = br#"{"customers":[{"id":"gamma","name":"Gamma Net","contacts":[{"role":"abuse","email":"abuse@gamma.example"}],
        "prefixes":[{"prefix":"203.0.113.0/24"}],"domains":[{"domain":"gamma.example"}]}]}"#;
    let (resp, html) = send(&app, multipart(&acookie, &acsrf, "inv.json", good)).await;
    assert_eq!(resp.status(), StatusCode::OK, "{html}");
    assert!(html.contains(
        "Imported 1 customer(s), 1 contact(s), 1 prefix holding(s), 1 domain holding(s)."
    ));
    let (_, html) = send(&app, get("/ui/inventory/gamma", &acookie)).await;
    assert!(html.contains("Gamma Net") && html.contains("203.0.113.0/24"));
    // Larger than the 64 KiB form limit of the other pages: the upload limit (16 MiB) applies.
    let mut big = String::from("customer,name,kind,value\n");
    for i in 0..6000 {
        big.push_str(&format!("big,Big Co,domain,d{i}.big.example\n"));
    }
    assert!(big.len() > 150_000);
    let (resp, html) = send(&app, multipart(&acookie, &acsrf, "big.csv", big.as_bytes())).await;
    assert_eq!(resp.status(), StatusCode::OK, "{html:.3000}");
    assert!(html.contains("6000 domain holding(s)"));
    // Wrong CSRF: refused.
    let (resp, _) = send(&app, multipart(&acookie, &"0".repeat(64), "inv.json", good)).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bulk_assign_state_notify_and_filters() {
    for backend in BACKENDS {
        bulk_assign_state_notify_and_filters_on(backend).await;
    }
}

async fn bulk_assign_state_notify_and_filters_on(backend: &str) {
    let (desk, _schema) = desk("bulk", backend).await;
    let app = warden_webui::router(desk.clone(), WebUiConfig::default());
    let (cookie, csrf) = login(&app, common::ANALYST).await;
    let (_, html) = send(&app, get("/ui/cases", &cookie)).await;
    assert!(html.contains("formaction=\"/ui/cases/bulk\""));
    let all = attr_values(&html, "data-case", 36);
    assert_eq!(all.len(), 4);

    // Reporter filter (case-insensitive input).
    let (_, html) = send(
        &app,
        get("/ui/cases?reporter=Trap%40SpamTrap.example", &cookie),
    )
    .await;
    let spam = attr_values(&html, "data-case", 36);
    assert_eq!(spam.len(), 1);
    let (_, html) = send(
        &app,
        get("/ui/cases?reporter=ids%40reporter.example", &cookie),
    )
    .await;
    let scan = attr_values(&html, "data-case", 36);
    assert_eq!(scan.len(), 1);
    let (_, html) = send(&app, get("/ui/cases?q=login-verify.example", &cookie)).await;
    let phish = attr_values(&html, "data-case", 36);
    assert_eq!(phish.len(), 1);

    // Assign two cases to alice; the assignee filter finds exactly them; unknown names refused.
    let body = format!(
        "csrf={csrf}&op=assign&assignee=alice&back=&ids={}&ids={}",
        spam[0], scan[0]
    );
    let (resp, html) = send(&app, form("/ui/cases/bulk", &cookie, body)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(html.contains("2 of 2 case(s) done"), "{html}");
    let (_, html) = send(&app, get("/ui/cases?assignee=alice", &cookie)).await;
    let mut got = attr_values(&html, "data-case", 36);
    got.sort();
    let mut want = vec![spam[0].clone(), scan[0].clone()];
    want.sort();
    assert_eq!(got, want);
    let (_, html) = send(&app, get("/ui/cases?assignee=-", &cookie)).await;
    assert_eq!(attr_values(&html, "data-case", 36).len(), 2);
    let body = format!("csrf={csrf}&op=assign&assignee=mallory&ids={}", spam[0]);
    let (resp, html) = send(&app, form("/ui/cases/bulk", &cookie, body)).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(html.contains("mallory"));
    let log = warden_desk::audit::for_case(desk.store(), &spam[0])
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "assign" && e.detail == "nobody -> alice")
    );

    // Notify: the spam case (acme has an abuse contact) gets a notice in the outbox; the
    // phishing case has no customer and is refused, by name.
    let before = outbox_notices(&desk, &spam[0]).await;
    let body = format!("csrf={csrf}&op=notify&ids={}&ids={}", spam[0], phish[0]);
    let (_, html) = send(&app, form("/ui/cases/bulk", &cookie, body)).await;
    assert!(html.contains("1 of 2 case(s) done"), "{html}");
    assert!(html.contains("not attributed to a customer"));
    assert_eq!(outbox_notices(&desk, &spam[0]).await, before + 1);
    let c = warden_desk::cases::get(desk.store(), &spam[0])
        .await
        .unwrap();
    assert_eq!(c.state.as_str(), "notified");

    // State change: escalate both; the notified one may, then resolve all three where legal.
    let body = format!(
        "csrf={csrf}&op=state&action=reopen&ids={}&ids={}",
        spam[0], scan[0]
    );
    let (_, html) = send(&app, form("/ui/cases/bulk", &cookie, body)).await;
    assert!(html.contains("0 of 2 case(s) done"), "{html}");
    assert_eq!(html.matches("refused: ").count(), 2);
    let body = format!(
        "csrf={csrf}&op=state&action=resolve&ids={}&ids={}",
        spam[0], scan[0]
    );
    let (_, html) = send(&app, form("/ui/cases/bulk", &cookie, body)).await;
    assert!(html.contains("2 of 2 case(s) done"), "{html}");

    // Read-only sessions may not; bad operations are named.
    let (rc, rcsrf) = login(&app, common::READER).await;
    let body = format!("csrf={rcsrf}&op=notify&ids={}", spam[0]);
    assert_eq!(
        send(&app, form("/ui/cases/bulk", &rc, body))
            .await
            .0
            .status(),
        StatusCode::FORBIDDEN
    );
    let body = format!("csrf={csrf}&op=explode&ids={}", spam[0]);
    let (resp, html) = send(&app, form("/ui/cases/bulk", &cookie, body)).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(html.contains("explode"));
}

async fn outbox_notices(desk: &Desk, case: &str) -> i64 {
    warden_desk::testing::customer_notices(desk.store(), case)
        .await
        .unwrap()
}

#[tokio::test]
async fn failed_logins_are_limited_with_a_429_page() {
    for backend in BACKENDS {
        failed_logins_are_limited_with_a_429_page_on(backend).await;
    }
}

async fn failed_logins_are_limited_with_a_429_page_on(backend: &str) {
    let (desk, _schema) = desk("limit", backend).await;
    let cfg = WebUiConfig {
        login_limits: warden_webui::login_limit::LoginLimits {
            max_failures: 3,
            window: Duration::from_secs(600),
        },
        ..Default::default()
    };
    let app = warden_webui::router(desk, cfg);
    for i in 0..3 {
        let (resp, _) = try_login(&app, &format!("wrong-token-{i}")).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    // Even the right token is refused now (same client), with a clear page and Retry-After.
    let (resp, html) = try_login(&app, common::ANALYST).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = resp.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 500 && wait <= 600);
    assert!(html.contains("Too many failed logins") && html.contains("10 minute(s)"));
    assert!(resp.headers().contains_key(header::CONTENT_SECURITY_POLICY));
}

#[tokio::test]
async fn operator_overrides_restyle_every_page() {
    for backend in BACKENDS {
        operator_overrides_restyle_every_page_on(backend).await;
    }
}

async fn operator_overrides_restyle_every_page_on(backend: &str) {
    let (desk, _schema) = desk("overrides", backend).await;
    let dir = common::tempdir("overrides-files");
    std::fs::write(dir.join("style.css"), "header.top { background: #400; }").unwrap();
    std::fs::write(dir.join("header.html"), "<p class=\"op\">ACME NOC</p>").unwrap();
    std::fs::write(dir.join("footer.html"), "<p>Runbook: wiki/abuse</p>").unwrap();
    let cfg = WebUiConfig {
        overrides: Arc::new(warden_webui::overrides::Overrides::load(&dir).unwrap()),
        ..Default::default()
    };
    let app = warden_webui::router(desk.clone(), cfg);
    let (_, html) = send(&app, Request::get("/ui/login").body(Body::empty()).unwrap()).await;
    assert!(html.contains("<p class=\"op\">ACME NOC</p>") && html.contains("Runbook: wiki/abuse"));
    assert!(html.contains("href=\"/ui/static/custom.css\""));
    let (cookie, _) = login(&app, common::ANALYST).await;
    // Error pages too (rendered inside the same request scope).
    let (resp, html) = send(&app, get("/ui/cases/not-an-id", &cookie)).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(html.contains("ACME NOC"));
    let (resp, css) = send(
        &app,
        Request::get("/ui/static/custom.css")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(css, "header.top { background: #400; }");
    // Without overrides: no link, and the stylesheet URL is 404.
    let plain = warden_webui::router(desk, WebUiConfig::default());
    let (_, html) = send(
        &plain,
        Request::get("/ui/login").body(Body::empty()).unwrap(),
    )
    .await;
    assert!(!html.contains("custom.css") && !html.contains("ACME NOC"));
    let (resp, _) = send(
        &plain,
        Request::get("/ui/static/custom.css")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_sort_order_pages_through_each_case_once_in_order() {
    for backend in BACKENDS {
        every_sort_order_on(backend).await;
    }
}

async fn every_sort_order_on(backend: &str) {
    use warden_desk::queue::{LEVELS, Sort};
    use warden_webui::queue::{self, QueueFilter};
    let (desk, _schema) = desk("sorts", backend).await;
    let now = chrono::Utc::now();
    let mut report = String::from("TESTREPORT sorter@reporter.example\n");
    for i in 0..130 {
        let line = match i % 4 {
            0 => format!("spam 10.9.{}.{}\n", i / 200, i % 200),
            1 => format!("phishing p{i}.example\n"),
            2 => format!("port_scan 10.8.0.{i}\n"),
            _ => format!("malware 10.7.0.{i}\n"),
        };
        report.push_str(&line);
    }
    desk.ingest(report.into_bytes(), Channel::Http, None, now)
        .await
        .unwrap();
    // Touch some cases so that "updated" differs from "received".
    let (first, _) = warden_desk::queue::page(desk.store(), &QueueFilter::default(), now)
        .await
        .unwrap();
    for (n, r) in first.iter().take(7).enumerate() {
        let at = now + chrono::Duration::seconds(n as i64 + 1);
        warden_desk::cases::assign(desk.store(), &r.id, "alice", "test", at)
            .await
            .unwrap();
    }
    let total: i64 = warden_desk::cases::count_by_state(desk.store())
        .await
        .unwrap()
        .iter()
        .map(|(_, n)| n)
        .sum();
    for sort in Sort::ALL {
        let mut f = QueueFilter {
            sort,
            ..Default::default()
        };
        let mut seen: Vec<queue::QueueRow> = Vec::new();
        let mut pages = 0;
        loop {
            let (rows, next) = warden_desk::queue::page(desk.store(), &f, now)
                .await
                .unwrap();
            pages += 1;
            assert!(rows.len() <= queue::PAGE_SIZE as usize);
            seen.extend(rows);
            match next {
                // The cursor goes through the form's validation like a clicked link.
                Some(n) => {
                    let p = warden_webui::queue::QueueParams {
                        sort: Some(sort.as_str().into()),
                        after: Some(n),
                        ..Default::default()
                    };
                    f = queue::filter_from_params(&p).unwrap();
                }
                None => break,
            }
        }
        assert!(pages >= 3, "{sort:?}: {pages} pages");
        let mut ids: Vec<&str> = seen.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len() as i64, total, "{sort:?}");
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len() as i64, total, "{sort:?}: a case shown twice");
        for w in seen.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            let ok = match sort {
                Sort::Received => a.id > b.id,
                Sort::Updated => (a.updated_at, &a.id) > (b.updated_at, &b.id),
                Sort::Deadline => (a.deadline_at, &a.id) < (b.deadline_at, &b.id),
                Sort::Severity => {
                    let rank = |s: &str| LEVELS.iter().position(|l| *l == s).unwrap();
                    (rank(&a.severity), std::cmp::Reverse(&a.id))
                        < (rank(&b.severity), std::cmp::Reverse(&b.id))
                }
            };
            assert!(ok, "{sort:?}: {} before {}", a.id, b.id);
        }
        if sort == Sort::Updated {
            assert_eq!(seen[0].assignee, "alice");
        }
    }
}
