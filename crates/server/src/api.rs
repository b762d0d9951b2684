//! The JSON API (documented in [`crate::openapi`] and `docs/desk.md`).
//!
//! Every `/api/v1` route takes `Authorization: Bearer <token>`; the token's role decides what it
//! may do (read-only < analyst < admin) and its name is the actor in the audit log. Errors are
//! `{"error": "..."}` with a status that says whose fault it was.

use crate::AppState;
use crate::caller::{Admin, Analyst, Caller, ReadOnly};
use crate::metrics::inc;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use warden_desk::cases::{self, CaseAction, CaseFilter};
use warden_desk::inventory::{self, InventoryDoc};
use warden_desk::{Channel, DeskError, audit};

/// An API error: status plus a message for the caller.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl ApiError {
    /// An error with `status` and a message for the caller.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self(status, message.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<DeskError> for ApiError {
    fn from(e: DeskError) -> Self {
        let status = match &e {
            DeskError::NotFound { .. } => StatusCode::NOT_FOUND,
            DeskError::Invalid { .. } => StatusCode::BAD_REQUEST,
            DeskError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            DeskError::Transition { .. } => StatusCode::CONFLICT,
            _ => {
                tracing::error!(error = %e, "API request failed");
                return ApiError(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; the server log has the details".into(),
                );
            }
        };
        ApiError(status, e.to_string())
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// The router over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.desk.max_report_bytes();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/reports", post(post_report))
        .route("/api/v1/reports/{id}", get(get_report))
        .route("/api/v1/reports/{id}/rerun", post(rerun_report))
        .route("/api/v1/quarantine", get(quarantine))
        .route("/api/v1/cases", get(list_cases))
        .route("/api/v1/cases/{id}", get(get_case))
        .route("/api/v1/cases/{id}/actions", post(case_action))
        .route("/api/v1/inventory", post(inventory_import))
        .route("/api/v1/inventory/lookup", get(inventory_lookup))
        .route("/api/v1/customers/{id}", get(customer))
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(state.clone(), count_status))
        .with_state(state)
}

async fn count_status(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let s = resp.status();
    let m = &state.metrics;
    inc(if s.is_success() {
        &m.http_2xx
    } else if s.is_client_error() {
        &m.http_4xx
    } else {
        &m.http_5xx
    });
    resp
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    match state.desk.store().ping().await {
        Ok(_) => Json(json!({"status": "ok", "backend": format!("{:?}", state.desk.store().backend()).to_lowercase()})).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable", "error": e.to_string()}))).into_response(),
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    // A failed count leaves the gauge out rather than failing the whole scrape.
    let cases = cases::count_by_state(state.desk.store())
        .await
        .unwrap_or_default();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(&cases),
    )
        .into_response()
}

async fn openapi() -> Json<Value> {
    Json(crate::openapi::document())
}

/// Content types a report may come as.
const REPORT_TYPES: [&str; 6] = [
    "message/rfc822",
    "application/json",
    "text/csv",
    "text/plain",
    "application/octet-stream",
    "application/zip",
];

async fn post_report(
    State(state): State<Arc<AppState>>,
    _: Caller<Analyst>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    if let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        let base = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !REPORT_TYPES.contains(&base.as_str()) && !base.starts_with("application/gzip") {
            return Err(ApiError(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "content type {base:?} is not a report; send message/rfc822, application/json (X-ARF) or text/csv"
                ),
            ));
        }
    }
    let receipt = state
        .desk
        .ingest(body.to_vec(), Channel::Http, None, Utc::now())
        .await?;
    inc(&state.metrics.reports_http);
    if receipt.duplicate {
        inc(&state.metrics.reports_duplicate);
    } else {
        crate::count_receipt(&state.metrics, &receipt);
    }
    Ok((StatusCode::ACCEPTED, Json(receipt)).into_response())
}

async fn get_report(
    State(state): State<Arc<AppState>>,
    _: Caller<ReadOnly>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(state.desk.receipt(&id.to_ascii_lowercase()).await?).into_response())
}

async fn rerun_report(
    State(state): State<Arc<AppState>>,
    _: Caller<Analyst>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(
        state
            .desk
            .reprocess(&id.to_ascii_lowercase(), Utc::now())
            .await?,
    )
    .into_response())
}

async fn quarantine(
    State(state): State<Arc<AppState>>,
    _: Caller<ReadOnly>,
) -> ApiResult<Response> {
    let list = state.desk.quarantined(500).await?;
    let items: Vec<Value> = list
        .into_iter()
        .map(|r| json!({"report_id": r.id, "received_at": r.received_at, "error": r.error}))
        .collect();
    Ok(Json(json!({ "reports": items })).into_response())
}

/// Query of `GET /api/v1/cases`.
#[derive(Debug, Deserialize)]
pub struct CaseQuery {
    state: Option<String>,
    class: Option<String>,
    customer: Option<String>,
    overdue: Option<bool>,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn list_cases(
    State(state): State<Arc<AppState>>,
    _: Caller<ReadOnly>,
    Query(q): Query<CaseQuery>,
) -> ApiResult<Response> {
    let filter = CaseFilter {
        state: q.state.as_deref().map(str::parse).transpose()?,
        class: q
            .class
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e: String| ApiError(StatusCode::BAD_REQUEST, e))?,
        customer: q.customer,
        overdue: q.overdue.unwrap_or(false),
        limit: q.limit,
        offset: q.offset,
    };
    let now = Utc::now();
    let list = cases::list(state.desk.store(), &filter, now).await?;
    let items: Vec<Value> = list
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(c).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("overdue".into(), json!(c.overdue(now)));
            }
            v
        })
        .collect();
    Ok(Json(json!({ "cases": items })).into_response())
}

async fn get_case(
    State(state): State<Arc<AppState>>,
    _: Caller<ReadOnly>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let store = state.desk.store();
    let now = Utc::now();
    let case = cases::get(store, &id).await?;
    let events = cases::events(store, &id, 200).await?;
    let log = audit::for_case(store, &id).await?;
    let repeat = cases::repeat_count(store, &case.customer_id, now, 90).await?;
    Ok(Json(json!({
        "case": case,
        "overdue": case.overdue(now),
        "repeat_count_90d": repeat,
        "events": events,
        "audit": log,
    }))
    .into_response())
}

/// Body of `POST /api/v1/cases/{id}/actions`.
#[derive(Debug, Deserialize)]
pub struct ActionBody {
    action: CaseAction,
    #[serde(default)]
    note: String,
}

async fn case_action(
    State(state): State<Arc<AppState>>,
    Caller { name: actor, .. }: Caller<Analyst>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let body: ActionBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!(
                "invalid action body: {e}; send {{\"action\": \"resolve\", \"note\": \"...\"}}"
            ),
        )
    })?;
    let case = cases::apply(
        state.desk.store(),
        state.desk.policy(),
        &id,
        body.action,
        &actor,
        &body.note,
        Utc::now(),
    )
    .await?;
    Ok(Json(case).into_response())
}

async fn inventory_import(
    State(state): State<Arc<AppState>>,
    _: Caller<Admin>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let doc = if ct.starts_with("text/csv") {
        InventoryDoc::from_csv(&body)?
    } else {
        InventoryDoc::from_json(&body)?
    };
    let sum = inventory::import(state.desk.store(), &doc, Utc::now()).await?;
    Ok(Json(sum).into_response())
}

/// Query of `GET /api/v1/inventory/lookup`.
#[derive(Debug, Deserialize)]
pub struct LookupQuery {
    ip: Option<String>,
    domain: Option<String>,
    at: Option<DateTime<Utc>>,
}

async fn inventory_lookup(
    State(state): State<Arc<AppState>>,
    _: Caller<ReadOnly>,
    Query(q): Query<LookupQuery>,
) -> ApiResult<Response> {
    let at = q.at.unwrap_or_else(Utc::now);
    let holders = match (q.ip, q.domain) {
        (Some(ip), _) => {
            let ip = ip.parse().map_err(|_| {
                ApiError(
                    StatusCode::BAD_REQUEST,
                    format!("{ip:?} is not an IP address"),
                )
            })?;
            inventory::holders_of_ip(state.desk.store(), ip, at).await?
        }
        (None, Some(d)) => inventory::holders_of_domain(state.desk.store(), &d, at).await?,
        (None, None) => {
            return Err(ApiError(
                StatusCode::BAD_REQUEST,
                "give ?ip=ADDRESS or ?domain=NAME (and optionally &at=RFC3339)".into(),
            ));
        }
    };
    Ok(Json(json!({ "at": at, "holders": holders })).into_response())
}

async fn customer(
    State(state): State<Arc<AppState>>,
    _: Caller<ReadOnly>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let c = inventory::customer(state.desk.store(), &id).await?;
    let repeat = cases::repeat_count(state.desk.store(), &id, Utc::now(), 90).await?;
    Ok(Json(json!({ "customer": c, "repeat_count_90d": repeat })).into_response())
}
