//! The UI over HTTP without a browser: `/` leads to the UI, login and CSRF rules, roles,
//! security headers, bulk close, and keyset pagination across pages.
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
use tower::ServiceExt;
use warden_desk::Channel;

async fn send(app: &Router, req: Request<Body>) -> (Response<Body>, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 22).await.unwrap();
    (
        Response::from_parts(parts, Body::empty()),
        String::from_utf8(bytes.to_vec()).unwrap(),
    )
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

/// Logs in with `token`; returns the session cookie pair and the session's CSRF token.
async fn login(app: &Router, token: &str) -> (String, String) {
    let (resp, html) = send(app, Request::get("/ui/login").body(Body::empty()).unwrap()).await;
    let login_cookie = set_cookie(&resp, "warden_login_csrf").unwrap();
    let pair = login_cookie.split(';').next().unwrap().to_owned();
    let csrf = hidden_csrf(&html);
    let req = Request::post("/ui/login")
        .header(header::COOKIE, &pair)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("token={token}&csrf={csrf}")))
        .unwrap();
    let (resp, _) = send(app, req).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let session = set_cookie(&resp, "warden_session").unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/ui"] {
        assert!(session.contains(attr), "{session} lacks {attr}");
    }
    let pair = session.split(';').next().unwrap().to_owned();
    let (_, html) = send(
        app,
        Request::get("/ui/cases")
            .header(header::COOKIE, &pair)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    (pair, hidden_csrf(&html))
}

fn form(uri: &str, cookie: &str, body: String) -> Request<Body> {
    Request::post(uri)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

fn case_ids(html: &str) -> Vec<String> {
    html.match_indices("data-case=\"")
        .map(|(i, m)| html[i + m.len()..i + m.len() + 36].to_owned())
        .collect()
}

/// The address `warden serve` prints is where a newcomer goes first: it leads to the UI (and
/// from there to the login page), not to a 404.
#[tokio::test]
async fn root_redirects_to_the_ui() {
    let dir = common::tempdir("root");
    let desk = common::desk(&dir).await;
    let app = warden_webui::router(desk, warden_webui::WebUiConfig::default());
    let (resp, _) = send(&app, Request::get("/").body(Body::empty()).unwrap()).await;
    assert!(resp.status().is_redirection(), "{}", resp.status());
    assert_eq!(resp.headers()[header::LOCATION], "/ui");
    let (resp, _) = send(&app, Request::get("/ui").body(Body::empty()).unwrap()).await;
    assert_eq!(resp.headers()[header::LOCATION], "/ui/cases");
}

#[tokio::test]
async fn login_csrf_roles_and_headers() {
    let dir = common::tempdir("http");
    let desk = common::desk(&dir).await;
    let app = warden_webui::router(desk, warden_webui::WebUiConfig::default());

    // No session: pages and actions send to the login form.
    let (resp, _) = send(&app, Request::get("/ui/cases").body(Body::empty()).unwrap()).await;
    assert_eq!(resp.headers()[header::LOCATION], "/ui/login");

    // Login without the login CSRF cookie is refused.
    let req = form(
        "/ui/login",
        "",
        format!("token={}&csrf={}", common::ANALYST, "a".repeat(64)),
    );
    assert_eq!(send(&app, req).await.0.status(), StatusCode::FORBIDDEN);

    let (cookie, csrf) = login(&app, common::ANALYST).await;
    let (resp, html) = send(
        &app,
        Request::get("/ui/cases")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let csp = resp.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    let ids = case_ids(&html);
    assert_eq!(ids.len(), 4);

    // An action with a wrong CSRF token is refused and changes nothing.
    let uri = format!("/ui/cases/{}/action", ids[0]);
    let (resp, _) = send(
        &app,
        form(
            &uri,
            &cookie,
            format!("csrf={}&action=close", "b".repeat(64)),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // A bad action names itself.
    let (resp, body) = send(
        &app,
        form(&uri, &cookie, format!("csrf={csrf}&action=%3Cb%3Edrop")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(body.contains("&lt;b&gt;drop"), "{body}");
    // A refused transition is a conflict, not a crash.
    let (resp, _) = send(
        &app,
        form(&uri, &cookie, format!("csrf={csrf}&action=reopen")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);

    // A read-only analyst may look but not act.
    let (rcookie, rcsrf) = login(&app, common::READER).await;
    let (_, html) = send(
        &app,
        Request::get(format!("/ui/cases/{}", ids[0]))
            .header(header::COOKIE, &rcookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(html.contains("read-only") && !html.contains("value=\"close\""));
    let (resp, _) = send(
        &app,
        form(&uri, &rcookie, format!("csrf={rcsrf}&action=close")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // Bulk close two cases; the queue says so and shows them closed.
    let body = format!(
        "csrf={csrf}&back=class%3Dspam&ids={}&ids={}",
        ids[0], ids[1]
    );
    let (resp, _) = send(&app, form("/ui/cases/bulk-close", &cookie, body)).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let to = resp.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(to, "/ui/cases?class=spam&closed=2&failed=0");
    let (_, html) = send(
        &app,
        Request::get("/ui/cases?state=closed")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(case_ids(&html).len(), 2);
    // Closing them again counts as failures, not errors.
    let body = format!("csrf={csrf}&ids={}", ids[0]);
    let (resp, _) = send(&app, form("/ui/cases/bulk-close", &cookie, body)).await;
    assert!(
        resp.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .ends_with("closed=0&failed=1")
    );
    // Bad ids are refused by name.
    let (resp, body) = send(
        &app,
        form(
            "/ui/cases/bulk-close",
            &cookie,
            format!("csrf={csrf}&ids=1%20OR%201=1"),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(body.contains("1 OR 1=1"));

    // Log out ends the session.
    let (resp, _) = send(&app, form("/ui/logout", &cookie, format!("csrf={csrf}"))).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (resp, _) = send(
        &app,
        Request::get("/ui/cases")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(resp.headers()[header::LOCATION], "/ui/login");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn keyset_pages_cover_every_case_once() {
    let dir = common::tempdir("pages");
    let desk = common::desk(&dir).await;
    // 70 more cases in one report (one line per address), 74 in all: two pages of 50.
    let mut report = String::from("TESTREPORT bulk@reporter.example\n");
    for i in 0..70 {
        report.push_str(&format!("login_attack 198.51.100.{}\n", 100 + i));
    }
    desk.ingest(report.into_bytes(), Channel::Http, None, chrono::Utc::now())
        .await
        .unwrap();
    let app = warden_webui::router(desk, warden_webui::WebUiConfig::default());
    let (cookie, _) = login(&app, common::ANALYST).await;
    let get = |uri: String| {
        Request::get(uri)
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap()
    };

    let (_, first) = send(&app, get("/ui/cases".into())).await;
    let p1 = case_ids(&first);
    assert_eq!(p1.len(), 50);
    let i = first.find("rel=\"next\" href=\"").unwrap() + 17;
    let next = first[i..].split('"').next().unwrap().replace("&amp;", "&");
    let (_, second) = send(&app, get(next)).await;
    let p2 = case_ids(&second);
    assert_eq!(p2.len(), 24);
    assert!(!second.contains("rel=\"next\""));
    let mut all: Vec<_> = p1.iter().chain(&p2).cloned().collect();
    assert!(
        all.windows(2).all(|w| w[0] > w[1]),
        "newest first, no overlap"
    );
    all.dedup();
    assert_eq!(all.len(), 74);

    // Filters carry over to the next page.
    let (_, f1) = send(&app, get("/ui/cases?class=login_attack".into())).await;
    assert!(f1.contains("class=login_attack&amp;after="));
    std::fs::remove_dir_all(&dir).ok();
}
