//! The dashboard and the customer self-help page over HTTP: the aggregates on SQLite and
//! PostgreSQL, hostile names escaped, links from real notices (the courier and its templates),
//! tampered and expired links refused with 403, the form token, replies and "resolved"
//! reaching the case page and its audit log, and the rate limit.
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
use chrono::{Duration, Utc};
use common::selfhelp as sh;
use tower::ServiceExt;
use warden_desk::Channel;
use warden_desk::cases::{self, CaseState};
use warden_desk::selfhelp::SelfHelp;

async fn send(app: &Router, req: Request<Body>) -> (Response<Body>, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 22).await.unwrap();
    (
        Response::from_parts(parts, Body::empty()),
        String::from_utf8(bytes.to_vec()).unwrap(),
    )
}

fn get(uri: &str, cookie: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

fn post(uri: &str, cookie: &str, body: String) -> Request<Body> {
    Request::post(uri)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

fn cookie_pair(resp: &Response<Body>, name: &str) -> Option<String> {
    resp.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

fn hidden(html: &str, name: &str) -> String {
    let pat = format!("name=\"{name}\" value=\"");
    let i = html.find(&pat).unwrap() + pat.len();
    html[i..i + 64].to_owned()
}

async fn login(app: &Router) -> String {
    let (resp, html) = send(app, get("/ui/login", "")).await;
    let pair = cookie_pair(&resp, "warden_login_csrf").unwrap();
    let csrf = hidden(&html, "csrf");
    let (resp, _) = send(
        app,
        post(
            "/ui/login",
            &pair,
            format!("token={}&csrf={csrf}", common::ANALYST),
        ),
    )
    .await;
    cookie_pair(&resp, "warden_session").unwrap()
}

#[tokio::test]
async fn dashboard_aggregates_on_sqlite_and_postgres_and_escapes_names() {
    let dir = common::tempdir("dash");
    let pgdir = common::tempdir("dash-pg");
    let sqlite = warden_desk::Store::open_sqlite_dir(&dir).await.unwrap();
    let (pg, _schema) = sh::pg_store().await;
    for (name, store, dir) in [("sqlite", sqlite, &dir), ("postgres", pg, &pgdir)] {
        let desk = sh::desk_on(store, dir).await;
        let now = Utc::now();
        // A reporter whose name is markup, and a second spam event from the same trap.
        desk.ingest(
            b"TESTREPORT <img src=x onerror=alert(1)>@evil.example\nspam 192.0.2.11\n".to_vec(),
            Channel::Http,
            None,
            now,
        )
        .await
        .unwrap();
        // The urgent malware notice goes out at once: one case has a first action.
        sh::deliver(&desk, now).await;
        let d = warden_webui::dashboard::compute(desk.store(), Utc::now())
            .await
            .unwrap();
        let today: i64 = d.per_day.values().map(|v| v[v.len() - 1]).sum();
        assert_eq!(today, 6, "{name}: six events today: {:?}", d.per_day);
        assert_eq!(d.per_day["spam"].iter().sum::<i64>(), 3, "{name}");
        assert_eq!(d.open_by_age[0], 5, "{name}: five cases, all under an hour");
        assert_eq!(d.first_action.iter().sum::<i64>(), 1, "{name}: {d:?}");
        assert_eq!(d.first_action[0], 1, "{name}: notified within 15 minutes");
        assert_eq!(d.no_action_yet, 4, "{name}");
        assert_eq!(
            d.offenders[0],
            ("acme".to_owned(), "Acme Hosting".to_owned(), 3),
            "{name}"
        );
        assert_eq!(d.reporters[0], ("trap@spamtrap.example".to_owned(), 2));
        assert!(
            d.reporters
                .iter()
                .any(|(r, n)| r.starts_with("<img src=x") && *n == 1),
            "{name}: {:?}",
            d.reporters
        );

        // Over HTTP: logged-out visitors go to the login form; the page escapes the reporter.
        let app = warden_webui::router(desk.clone(), Default::default());
        let (resp, _) = send(&app, get("/ui/dashboard", "")).await;
        assert_eq!(resp.headers()[header::LOCATION], "/ui/login");
        let session = login(&app).await;
        let (resp, html) = send(&app, get("/ui/dashboard", &session)).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(
            resp.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("script-src 'self'")
        );
        assert_eq!(html.matches("<svg class=\"chart\"").count(), 5, "{name}");
        assert!(html.contains("href=\"/ui/dashboard\""), "nav link");
        assert!(
            !html.contains("<img src=x"),
            "{name}: reporter markup is live"
        );
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;@evil.example"));
        desk.store().close().await;
    }
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&pgdir).ok();
}

/// Splits a link into the path to request.
fn path_of(link: &str) -> String {
    let i = link.find("/ui/help/").unwrap();
    link[i..].to_owned()
}

#[tokio::test]
async fn self_help_link_from_a_notice_reply_resolve_and_refusals() {
    let dir = common::tempdir("selfhelp");
    let desk = sh::enable(common::desk(&dir).await, "https://abuse.example.net");
    // Past the batch window: acme's notice carries its spam and malware cases.
    let mails = sh::deliver(&desk, Utc::now() + Duration::minutes(20)).await;
    let notice = mails
        .iter()
        .find(|m| m.to == "abuse@acme.example")
        .expect("notice to acme");
    let links = sh::links(&notice.body);
    assert_eq!(links.len(), 2, "{}", notice.body);
    assert!(links[0].starts_with("https://abuse.example.net/ui/help/"));
    // The spam case's link (the one whose evidence is plain).
    let spam = cases::list(desk.store(), &Default::default(), Utc::now())
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.subject == "192.0.2.10")
        .unwrap();
    let link = path_of(links.iter().find(|l| l.contains(&spam.id)).unwrap());
    let app = warden_webui::router(desk.clone(), Default::default());

    // The page: no login needed; evidence shown, reporter hidden; a form cookie is set.
    let (resp, html) = send(&app, get(&link, "")).await;
    assert_eq!(resp.status(), StatusCode::OK, "{html}");
    assert!(html.contains("192.0.2.10") && html.contains("Send reply"));
    assert!(!html.contains("trap@spamtrap.example"), "reporter hidden");
    let form_cookie = cookie_pair(&resp, "warden_help_form").unwrap();
    let token = hidden(&html, "form");
    assert_eq!(form_cookie, format!("warden_help_form={token}"));

    // Tampered links: another case, a longer expiry, a changed MAC, another key.
    let parts: Vec<&str> = link.trim_start_matches("/ui/help/").split('/').collect();
    let (case_id, exp, mac) = (parts[0], parts[1], parts[2]);
    let other_case = cases::list(desk.store(), &Default::default(), Utc::now())
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.id != case_id && c.customer_id == "acme")
        .unwrap();
    let forged = SelfHelp::new([1; 32], "https://x", Duration::days(1));
    let bad = [
        format!("/ui/help/{}/{exp}/{mac}", other_case.id),
        format!(
            "/ui/help/{case_id}/{}/{mac}",
            exp.parse::<i64>().unwrap() + 1
        ),
        format!(
            "/ui/help/{case_id}/{exp}/{}{}",
            &mac[..63],
            if mac.ends_with('0') { "1" } else { "0" }
        ),
        forged.path(case_id, "acme", exp.parse().unwrap()),
        format!("/ui/help/not-a-case/{exp}/{mac}"),
        format!("/ui/help/{case_id}/{exp}/zz"),
    ];
    for b in &bad {
        let (resp, html) = send(&app, get(b, "")).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{b}");
        assert!(html.contains("Link not valid"), "{b}: {html}");
        let (resp, _) = send(
            &app,
            post(
                &format!("{b}/reply"),
                &form_cookie,
                format!("form={token}&body=hi"),
            ),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "POST {b}");
    }
    // Expired: a genuine signature over a past expiry.
    let past = (Utc::now() - Duration::hours(1)).timestamp();
    let expired = desk.self_help().unwrap().path(case_id, "acme", past);
    let (resp, html) = send(&app, get(&expired, "")).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(html.contains("Link expired"), "{html}");

    // The form token is required and must match the cookie.
    let (resp, _) = send(
        &app,
        post(
            &format!("{link}/reply"),
            "",
            format!("form={token}&body=hi"),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (resp, _) = send(
        &app,
        post(
            &format!("{link}/reply"),
            &form_cookie,
            format!("form={}&body=hi", "0".repeat(64)),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (resp, html) = send(
        &app,
        post(
            &format!("{link}/reply"),
            &form_cookie,
            format!("form={token}&body=%20%20"),
        ),
    )
    .await;
    assert_eq!(
        resp.status(),
        StatusCode::BAD_REQUEST,
        "empty reply: {html}"
    );

    // Reply: stored, the case moves to customer_replied, the page thanks and lists it.
    let (resp, _) = send(
        &app,
        post(
            &format!("{link}/reply"),
            &form_cookie,
            format!("form={token}&body=We+removed+the+script+%3Cb%3Eok%3C%2Fb%3E"),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let to = resp.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(to, format!("{link}?sent=reply"));
    let (_, html) = send(&app, get(&to, &form_cookie)).await;
    assert!(html.contains("your reply was sent"));
    assert!(html.contains("We removed the script &lt;b&gt;ok&lt;/b&gt;"));
    let case = cases::get(desk.store(), case_id).await.unwrap();
    assert_eq!(case.state, CaseState::CustomerReplied);

    // Resolved with a note.
    let (resp, _) = send(
        &app,
        post(
            &format!("{link}/resolved"),
            &form_cookie,
            format!("form={token}&note=Patched"),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        cases::get(desk.store(), case_id).await.unwrap().state,
        CaseState::Resolved
    );

    // The analyst's case page shows both messages, and the audit log names the customer.
    let session = login(&app).await;
    let (_, html) = send(&app, get(&format!("/ui/cases/{case_id}"), &session)).await;
    assert!(html.contains("Customer replies (self-help)"), "{html}");
    assert!(html.contains("We removed the script &lt;b&gt;ok&lt;/b&gt;"));
    assert!(html.contains("marked resolved") && html.contains("Patched"));
    assert!(html.contains("customer:acme"));
    assert!(html.contains("notified -&gt; customer_replied"));

    // Rate limit: at most 10 messages per case per window (two sent already).
    let mut last = StatusCode::OK;
    for i in 0..9 {
        let (resp, _) = send(
            &app,
            post(
                &format!("{link}/reply"),
                &form_cookie,
                format!("form={token}&body=n{i}"),
            ),
        )
        .await;
        last = resp.status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn without_self_help_there_are_no_links_and_no_page() {
    let dir = common::tempdir("selfhelp-off");
    let desk = common::desk(&dir).await;
    let mails = sh::deliver(&desk, Utc::now() + Duration::minutes(20)).await;
    let notice = mails.iter().find(|m| m.to == "abuse@acme.example").unwrap();
    assert!(sh::links(&notice.body).is_empty());
    assert!(notice.body.contains("reply to this message instead"));
    let app = warden_webui::router(desk, Default::default());
    let id = "0193a1b2-0000-7000-8000-000000000001";
    let (resp, _) = send(
        &app,
        get(&format!("/ui/help/{id}/1/{}", "0".repeat(64)), ""),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    std::fs::remove_dir_all(&dir).ok();
}
