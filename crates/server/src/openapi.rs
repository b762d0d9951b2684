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

fn path_id(what: &str) -> Value {
    json!([{"name": "id", "in": "path", "required": true, "description": what, "schema": {"type": "string"}}])
}

fn q(name: &str, ty: &str, desc: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": desc, "schema": {"type": ty}})
}

/// The document.
pub fn document() -> Value {
    let states = json!(["open", "notified", "customer_replied", "resolved", "escalated", "suspended", "closed"]);
    let actions = json!(["notify", "customer_replied", "resolve", "escalate", "suspend", "close", "reopen", "note"]);
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
            "schemas": {
                "CaseState": {"type": "string", "enum": states},
                "CaseAction": {"type": "object", "required": ["action"], "properties": {
                    "action": {"type": "string", "enum": actions}, "note": {"type": "string", "maxLength": 10000}}}
            }
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
            "/api/v1/cases/{id}": {"get": op("One case with its events, audit log and the customer's repeat count", "read_only", path_id("case id"), None, "200")},
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
