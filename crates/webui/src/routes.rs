//! The HTTP routes of the UI, all under `/ui` (and `/`, which redirects there), and the glue
//! between sessions, the desk and the page renderers. Mount with
//! `Router::merge(warden_webui::router(desk, config))`. This module is the root of the crate's
//! module graph: it mounts the pages, and no page depends on it (shared state is in
//! [`crate::state`], the request checks in [`crate::extract`]).

use crate::case_page;
use crate::error::UiError;
use crate::extract::{CsrfField, CsrfForm, CsrfOnly, LoggedIn, Need};
use crate::layout::{self, html_page};
use crate::login_limit::LoginLimiter;
use crate::need;
use crate::queue::{self, QueueParams};
use crate::session::{self, LOGIN_CSRF_COOKIE, SESSION_COOKIE, Sessions};
use crate::state::{Shared, Ui, WebUiConfig};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Form, Path, Query, State};
use axum::http::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use maud::html;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use warden_desk::tokens::Role;
use warden_desk::{Desk, audit, cases, tokens};

/// Largest form body accepted (bulk close of a full page of ids is ~2 KiB).
const MAX_FORM_BYTES: usize = 64 * 1024;
/// Most cases one bulk-close form may name.
const MAX_BULK: usize = 500;

/// The UI's router (state already applied), to merge into the server's.
pub fn router(desk: Desk, config: WebUiConfig) -> Router {
    let sessions = Sessions::new(config.session_ttl);
    // webui-a: dashboard and customer self-help, each a router of its own.
    let extra = crate::dashboard::router(desk.store().clone(), sessions.clone())
        .merge(crate::selfhelp::router(desk.clone(), config.secure_cookies));
    let ui = Arc::new(Ui {
        desk,
        sessions,
        login_limiter: LoginLimiter::new(config.login_limits),
        config,
    });
    let overrides = ui.config.overrides.clone();
    Router::new()
        // The address `warden serve` prints is where a newcomer goes first.
        .route("/", get(|| async { Redirect::to("/ui") }))
        .route("/ui", get(|| async { Redirect::to("/ui/cases") }))
        .route("/ui/", get(|| async { Redirect::to("/ui/cases") }))
        .route("/ui/login", get(login_page).post(login))
        .route("/ui/logout", post(logout))
        .route("/ui/cases", get(queue_page))
        .route("/ui/cases/bulk-close", post(bulk_close))
        .route("/ui/cases/{id}", get(case_view))
        .route("/ui/cases/{id}/action", post(case_action))
        .route(
            "/ui/static/style.css",
            get(|| async { static_asset("text/css; charset=utf-8", layout::STYLE_CSS) }),
        )
        .route(
            "/ui/static/app.js",
            get(|| async { static_asset("text/javascript; charset=utf-8", layout::APP_JS) }),
        )
        .route("/ui/static/custom.css", get(custom_css))
        // webui-b: quarantine, inventory and bulk-action pages.
        .merge(crate::quarantine::routes())
        .merge(crate::inventory::routes())
        .merge(crate::bulk::routes())
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .with_state(ui)
        .merge(extra)
        // The operator's chrome on every page, the dashboard and self-help pages included.
        .layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                let o = overrides.clone();
                async move { crate::overrides::CURRENT.scope(o, next.run(req)).await }
            },
        ))
}

async fn custom_css(State(ui): Shared) -> Response {
    match &ui.config.overrides.css {
        Some(css) => (
            [
                (CONTENT_TYPE, "text/css; charset=utf-8"),
                (axum::http::header::CACHE_CONTROL, "max-age=300"),
            ],
            css.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn static_asset(ct: &'static str, body: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, ct),
            (axum::http::header::CACHE_CONTROL, "max-age=300"),
        ],
        body,
    )
        .into_response()
}

async fn login_page(State(ui): Shared, headers: HeaderMap) -> Response {
    if ui.sessions.current(&headers).await.is_some() {
        return Redirect::to("/ui/cases").into_response();
    }
    login_form(&ui, None)
}

fn login_form(ui: &Ui, error: Option<&str>) -> Response {
    let csrf = session::random_token();
    let page = layout::page(
        "Log in",
        None,
        html! {
            form.login method="post" action="/ui/login" {
                h1 { "Log in" }
                @if let Some(e) = error { p.error role="alert" { (e) } }
                p.muted { "Use your desk API token (warden serve prints the first admin token)." }
                label for="token" { "API token" }
                input #token type="password" name="token" autocomplete="current-password" required maxlength="512";
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" { "Log in" }
            }
        },
    );
    let cookie = session::set_cookie(LOGIN_CSRF_COOKIE, &csrf, 3600, ui.config.secure_cookies);
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    (
        status,
        [(SET_COOKIE, cookie)],
        layout::secure_headers(),
        page,
    )
        .into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
    csrf: String,
}

async fn login(
    State(ui): Shared,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    Form(f): Form<LoginForm>,
) -> Result<Response, UiError> {
    let expected = session::cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || !session::same_secret(expected, &f.csrf) {
        return Err(UiError::Csrf);
    }
    // The peer address as the server saw it (`into_make_service_with_connect_info`); behind a
    // reverse proxy that is the proxy, which then shares one budget: see docs/webui.md.
    let client = ext
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(wait) = ui.login_limiter.check(client, &f.token).await {
        return Ok(too_many_attempts(wait));
    }
    let Some((name, role)) = tokens::verify(ui.desk.store(), f.token.trim()).await? else {
        ui.login_limiter.failed(client, &f.token).await;
        tracing::info!(client = ?client, "web UI login with an unknown token");
        return Ok(login_form(&ui, Some("Unknown token.")));
    };
    ui.login_limiter.succeeded(&f.token).await;
    let id = ui.sessions.open(name, role).await?;
    let ttl = ui.sessions.ttl().as_secs();
    let secure = ui.config.secure_cookies;
    let mut resp = Redirect::to("/ui/cases").into_response();
    let h = resp.headers_mut();
    for c in [
        session::set_cookie(SESSION_COOKIE, &id, ttl, secure),
        session::set_cookie(LOGIN_CSRF_COOKIE, "", 0, secure),
    ] {
        if let Ok(v) = c.parse() {
            h.append(SET_COOKIE, v);
        }
    }
    Ok(resp)
}

/// The answer once a client or token prefix has used up its failed logins.
fn too_many_attempts(wait: Duration) -> Response {
    let mins = wait.as_secs().div_ceil(60).max(1);
    let page = layout::page(
        "Too many login attempts",
        None,
        html! {
            h1 { "429 Too many login attempts" }
            p.error role="alert" {
                "Too many failed logins from this address or with this token. Try again in "
                (mins) " minute(s)."
            }
            p { "If you lost your token, ask an admin for a new one." }
        },
    );
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(
            axum::http::header::RETRY_AFTER,
            wait.as_secs().max(1).to_string(),
        )],
        layout::secure_headers(),
        page,
    )
        .into_response()
}

async fn logout(
    State(ui): Shared,
    headers: HeaderMap,
    _: CsrfForm<CsrfOnly>,
) -> Result<Response, UiError> {
    ui.sessions.close(&headers).await;
    let cookie = session::set_cookie(SESSION_COOKIE, "", 0, ui.config.secure_cookies);
    Ok(([(SET_COOKIE, cookie)], Redirect::to("/ui/login")).into_response())
}

async fn queue_page(
    State(ui): Shared,
    Query(p): Query<QueueParams>,
    LoggedIn(s): LoggedIn,
) -> Result<Response, UiError> {
    let f = queue::filter_from_params(&p)?;
    let now = Utc::now();
    let (rows, next) = warden_desk::queue::page(ui.desk.store(), &f, now).await?;
    let bulk = (s.role >= Role::Analyst).then(crate::bulk::controls);
    Ok(html_page(queue::render(
        &s.viewer(),
        bulk,
        &f,
        &p,
        &rows,
        next.as_deref(),
        now,
    )))
}

need!(CloseCases, Analyst, "close cases");

async fn bulk_close(
    State(ui): Shared,
    LoggedIn(s): LoggedIn,
    body: String,
) -> Result<Response, UiError> {
    let mut csrf = String::new();
    let mut back = String::new();
    let mut ids = Vec::new();
    for (k, v) in form_urlencoded::parse(body.as_bytes()) {
        match k.as_ref() {
            "csrf" => csrf = v.into_owned(),
            "back" => back = v.into_owned(),
            "ids" => ids.push(v.into_owned()),
            _ => {}
        }
    }
    s.check_csrf(&csrf)?;
    CloseCases::check(&s)?;
    if ids.len() > MAX_BULK {
        return Err(UiError::bad(
            "bulk close",
            format!("{} cases named; at most {MAX_BULK} at once", ids.len()),
        ));
    }
    if let Some(bad) = ids.iter().find(|i| !queue::is_case_id(i)) {
        return Err(UiError::bad(
            format!("case id {:?}", bad.chars().take(40).collect::<String>()),
            "not a case id",
        ));
    }
    // Re-validate the filters we send the analyst back to, so the redirect carries only our own
    // canonical query string.
    let back_params: QueueParams = axum::extract::Query::try_from_uri(
        &format!("/?{back}")
            .parse()
            .map_err(|_| UiError::bad("back", "not a query string"))?,
    )
    .map(|Query(p)| p)
    .unwrap_or_default();
    let back_qs = queue::filter_from_params(&back_params)
        .map(|f| queue::query_string(&f))
        .unwrap_or_default();
    let (mut closed, mut failed) = (0u32, 0u32);
    let now = Utc::now();
    for id in &ids {
        match cases::apply(
            ui.desk.store(),
            ui.desk.policy(),
            id,
            cases::CaseAction::Close,
            &s.user,
            "bulk close from the queue",
            now,
        )
        .await
        {
            Ok(_) => closed += 1,
            Err(
                warden_desk::DeskError::Transition { .. } | warden_desk::DeskError::NotFound { .. },
            ) => failed += 1,
            Err(e) => return Err(e.into()),
        }
    }
    let sep = if back_qs.is_empty() { "" } else { "&" };
    let to = format!("/ui/cases?{back_qs}{sep}closed={closed}&failed={failed}");
    Ok((StatusCode::SEE_OTHER, [(LOCATION, to)]).into_response())
}

fn check_id(id: &str) -> Result<(), UiError> {
    if queue::is_case_id(id) {
        Ok(())
    } else {
        Err(UiError::bad(
            format!("case id {:?}", id.chars().take(40).collect::<String>()),
            "not a case id",
        ))
    }
}

async fn case_view(
    State(ui): Shared,
    Path(id): Path<String>,
    LoggedIn(s): LoggedIn,
) -> Result<Response, UiError> {
    check_id(&id)?;
    let store = ui.desk.store();
    let now = Utc::now();
    let case = cases::get(store, &id).await?;
    let events = cases::events(store, &id, case_page::MAX_EVENTS_SHOWN).await?;
    let log = audit::for_case(store, &id).await?;
    let repeat = cases::repeat_count(store, &case.customer_id, now, 90).await?;
    let replies = warden_desk::selfhelp::replies(store, &id).await?;
    let can_act = s.role >= Role::Analyst;
    Ok(html_page(case_page::render(
        &s.viewer(),
        can_act,
        &case,
        &events,
        &log,
        repeat,
        now,
        &replies,
    )))
}

#[derive(Deserialize)]
struct ActionForm {
    csrf: String,
    action: String,
    #[serde(default)]
    note: String,
}

impl CsrfField for ActionForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

need!(ActOnCases, Analyst, "act on cases");

async fn case_action(
    State(ui): Shared,
    Path(id): Path<String>,
    CsrfForm {
        session: s,
        form: f,
        ..
    }: CsrfForm<ActionForm, ActOnCases>,
) -> Result<Response, UiError> {
    check_id(&id)?;
    let action = case_page::parse_action(&f.action)?;
    if action == cases::CaseAction::Notify {
        // "Notify" sends the notice (through the outbox), as the bulk action does: a state
        // change alone would claim a notice nobody queued.
        cases::notify_now(
            ui.desk.store(),
            ui.desk.policy(),
            &id,
            &s.user,
            f.note.trim(),
            Utc::now(),
        )
        .await?;
    } else {
        cases::apply(
            ui.desk.store(),
            ui.desk.policy(),
            &id,
            action,
            &s.user,
            f.note.trim(),
            Utc::now(),
        )
        .await?;
    }
    Ok((
        StatusCode::SEE_OTHER,
        [(LOCATION, format!("/ui/cases/{id}"))],
    )
        .into_response())
}
