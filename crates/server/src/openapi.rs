//! The OpenAPI 3.1 document served at `/api/openapi.json`. Written by hand next to the routes
//! in [`crate::api`]; the test `openapi_lists_every_route` keeps the two in step.

use serde_json::{Value, json};

fn op(summary: &str, role: &str, params: Value, body: Option<Value>, ok: &str) -> Value {
    let mut o = json!({
        "summary": summary,
        "description": format!("Needs a bearer token with role `{role}` or higher."),
        "security": [{"bearer": []}],
        "parameters": params,
        "responses": {
            ok: {"description": "Success", "content": {"application/json": {}}},
            "400": {"$ref": "#/components/responses/Error"},
            "401": {"$ref": "#/components/responses/Error"},
            "403": {"$ref": "#/components/responses/Error"},
            "404": {"$ref": "#/components/responses/Error"},
            "429": {"$ref": "#/components/responses/Error"}
        }
    });
    if let (Some(b), Some(obj)) = (body, o.as_object_mut()) {
        obj.insert("requestBody".into(), b);
    }
    o
}

/// `o` with its success response described by the component schema `name`.
fn returning(mut o: Value, ok: &str, name: &str) -> Value {
    if let Some(r) = o.pointer_mut(&format!("/responses/{ok}/content/application~1json")) {
        *r = json!({"schema": {"$ref": format!("#/components/schemas/{name}")}});
    }
    o
}

/// Schemas of a case as `GET /api/v1/cases/{id}` shows it: events with their attribution and,
/// for shared CGN pools, what the NAT logs say (`warden_desk::cgn::NatAnswer`).
fn case_schemas() -> Value {
    let s = |t: &str| json!({"type": t});
    let opt = |t: &str| json!({"type": [t, "null"]});
    json!({
        "Holder": {"type": "object", "properties": {
            "customer_id": s("string"), "customer_name": s("string"),
            "matched": {"type": "string", "description": "the prefix, domain or `subscriber ID` that names the customer"},
            "valid_from": s("string"), "valid_to": opt("string"), "shared": s("boolean")}},
        "NatEvidence": {"type": "object", "properties": {
            "role": {"type": "string", "enum": ["open", "close", "accounting"]},
            "path": opt("string"), "line": s("integer"),
            "text": {"type": "string", "description": "the original log line"},
            "unreadable": {"type": "string", "description": "why the line could not be read back"}}},
        "NatCandidate": {"type": "object", "properties": {
            "source": {"type": "string", "enum": ["log", "deterministic"]},
            "config": s("string"), "inside_ip": s("string"), "b4_ipv6": s("string"),
            "subscriber_id": s("string"),
            "subscribers": {"type": "array", "items": {"type": "object", "properties": {
                "user_name": opt("string"), "calling_station_id": opt("string"),
                "session_id": opt("string"), "start": s("string"), "end": opt("string"),
                "start_uncertain": s("boolean"),
                "evidence": {"type": "array", "items": {"$ref": "#/components/schemas/NatEvidence"}}}}},
            "outside_ip": s("string"), "port_lo": s("integer"), "port_hi": s("integer"),
            "proto": opt("integer"), "start": s("string"), "end": s("string"),
            "start_kind": {"type": "string", "description": "logged, or how the start was inferred"},
            "end_kind": {"type": "string", "description": "released, or how the end was inferred"},
            "overlap": {"type": "string", "enum": ["contains", "within_window"]},
            "inferred": s("boolean"),
            "evidence": {"type": "array", "items": {"$ref": "#/components/schemas/NatEvidence"}},
            "customer": {"oneOf": [{"$ref": "#/components/schemas/Holder"}, {"type": "null"}]}}},
        "NatAnswer": {"type": "object", "description": "What the NAT logs say about an address in a shared CGN pool", "properties": {
            "query": {"type": "object", "properties": {
                "ip": s("string"), "port": opt("integer"), "proto": opt("integer"),
                "time": s("string"), "window_ms": s("integer"),
                "widened": {"type": "string", "description": "why the window is wider than configured"}}},
            "ambiguous": s("boolean"),
            "doubts": {"type": "array", "items": {"type": "object", "properties": {
                "kind": {"type": "string", "enum": ["no_port", "no_coverage", "retention", "log_gap",
                    "several_holders", "inferred_bounds", "no_holder", "several_subscribers", "no_subscriber"]},
                "explanation": s("string")}}},
            "candidates_total": s("integer"),
            "candidates": {"type": "array", "items": {"$ref": "#/components/schemas/NatCandidate"}},
            "error": {"type": "string", "description": "the lookup failed; the event stays unattributed"}}},
        "Attribution": {"type": "object", "properties": {
            "candidates": {"type": "array", "items": {"$ref": "#/components/schemas/Holder"}},
            "ambiguous": s("boolean"),
            "needs": {"type": "array", "items": {"type": "string", "enum": ["ip", "source_port", "time", "time_zone", "seconds"]}},
            "note": s("string"),
            "nat": {"$ref": "#/components/schemas/NatAnswer"}}},
        "CaseDetail": {"type": "object", "properties": {
            "case": s("object"), "overdue": s("boolean"), "repeat_count_90d": s("integer"),
            "events": {"type": "array", "items": {"type": "object", "properties": {
                "report_id": s("string"), "event": s("object"),
                "attribution": {"$ref": "#/components/schemas/Attribution"}}}},
            "audit": s("array")}}
    })
}

fn path_id(what: &str) -> Value {
    json!([{"name": "id", "in": "path", "required": true, "description": what, "schema": {"type": "string"}}])
}

fn q(name: &str, ty: &str, desc: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": desc, "schema": {"type": ty}})
}

/// The document.
pub fn document() -> Value {
    let states = json!([
        "open",
        "notified",
        "customer_replied",
        "resolved",
        "escalated",
        "suspended",
        "closed"
    ]);
    let actions = json!([
        "notify",
        "customer_replied",
        "resolve",
        "escalate",
        "suspend",
        "close",
        "reopen",
        "note"
    ]);
    let mut schemas = case_schemas();
    if let Some(m) = schemas.as_object_mut() {
        m.insert(
            "CaseState".into(),
            json!({"type": "string", "enum": states}),
        );
        m.insert(
            "CaseAction".into(),
            json!({"type": "object", "required": ["action"], "properties": {
                "action": {"type": "string", "enum": actions}, "note": {"type": "string", "maxLength": 10000}}}),
        );
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Warden abuse desk API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Report intake, cases, actions and inventory of the Warden abuse desk (M3AAWG Hosting & Cloud BCP)."
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {"Error": {"description": "An error", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}}}}},
            "schemas": schemas,
        },

        "paths": {
            "/healthz": {"get": {"summary": "Liveness and database check", "responses": {"200": {"description": "ok"}, "503": {"description": "database unavailable"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics (text format 0.0.4)", "responses": {"200": {"description": "metrics", "content": {"text/plain": {}}}}}},
            "/api/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI document"}}}},
            "/api/v1/reports": {"post": op(
                "Submit a raw report (ARF mail, X-ARF JSON, feed CSV). Stored durably before the 202.",
                "analyst", json!([]),
                Some(json!({"required": true, "content": {
                    "message/rfc822": {"schema": {"type": "string", "format": "binary"}},
                    "application/json": {"schema": {"type": "string", "format": "binary"}},
                    "text/csv": {"schema": {"type": "string", "format": "binary"}}}})),
                "202")},
            "/api/v1/reports/{id}": {"get": op("A report's status and events", "read_only", path_id("SHA-256 of the raw report"), None, "200")},
            "/api/v1/reports/{id}/rerun": {"post": op("Re-run a quarantined report through the parsers", "analyst", path_id("SHA-256 of the raw report"), None, "200")},
            "/api/v1/quarantine": {"get": op("Reports no parser understood, with the reason", "read_only", json!([]), None, "200")},
            "/api/v1/cases": {"get": op("List cases, newest first", "read_only", json!([
                q("state", "string", "open, notified, customer_replied, resolved, escalated, suspended or closed"),
                q("class", "string", "abuse class, e.g. phishing, spam, port_scan"),
                q("customer", "string", "customer id; empty for unattributed cases"),
                q("overdue", "boolean", "only active cases past their deadline"),
                q("limit", "integer", "page size, 1 to 1000 (default 100)"),
                q("offset", "integer", "skip this many")]), None, "200")},
            "/api/v1/cases/{id}": {"get": returning(op("One case with its events (each with its attribution: candidates, ambiguity, and for shared CGN pools every NAT candidate with evidence), audit log and the customer's repeat count", "read_only", path_id("case id"), None, "200"), "200", "CaseDetail")},
            "/api/v1/cases/{id}/actions": {"post": op("Act on a case (state change or note; audited)", "analyst", path_id("case id"),
                Some(json!({"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CaseAction"}}}})), "200")},
            "/api/v1/inventory": {"post": op("Import customers, contacts, prefixes and domains (JSON or CSV)", "admin", json!([]),
                Some(json!({"required": true, "content": {"application/json": {}, "text/csv": {}}})), "200")},
            "/api/v1/inventory/lookup": {"get": op("Who held an address or domain at a time", "read_only", json!([
                q("ip", "string", "IPv4 or IPv6 address"), q("domain", "string", "domain name"),
                q("at", "string", "RFC 3339 time (default now)")]), None, "200")},
            "/api/v1/customers/{id}": {"get": op("A customer with contacts and repeat-offender count", "read_only", path_id("customer id"), None, "200")}
        }
    })
}
