//! End to end: reports over SMTP and HTTP become cases; the worker sends customer notices and
//! reporter acknowledgements to a local SMTP sink; the API shows and changes cases.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

mod common;

use common::{ADMIN, INVENTORY, READER, SmtpClient, http, json, line_format, sink, start, tempdir};
use std::time::Duration;
use warden_desk::Policy;

#[tokio::test]
async fn reports_in_cases_and_mail_out() {
    let dir = tempdir("e2e");
    let relay = sink().await;
    // Batch window 0: normal notices go in the next round too (still one mail per customer).
    let policy = Policy {
        batch_minutes: 0,
        from_address: "abuse@isp.example".into(),
        ..Policy::default()
    };
    let srv = start(&dir, line_format, Some(relay.port), policy).await;
    let api = srv.http_addr;

    let (st, body) = http(
        api,
        "POST",
        "/api/v1/inventory",
        Some(ADMIN),
        "text/csv",
        INVENTORY,
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(json(&body)["prefixes"], 2);

    // Over SMTP: spam from acme's space, from a human reporter.
    let (mut c, _) = SmtpClient::connect(srv.smtp_addr.unwrap()).await;
    c.cmd("EHLO reporter.example").await;
    let msg = "From: Jane <jane@reporter.example>\r\nSubject: spam\r\n\r\nTESTREPORT jane@reporter.example\r\nspam 192.0.2.10\r\nspam 192.0.2.10\r\n";
    let r = c
        .send("jane@reporter.example", "abuse@isp.example", msg)
        .await;
    assert!(r.starts_with("250"), "{r}");
    let smtp_id = r.trim().rsplit(' ').next().unwrap().to_owned();

    // Over HTTP: phishing on beta's space and a domain of acme's.
    let report =
        b"TESTREPORT cert@cert.example\nphishing 198.51.100.20\nphishing shop.acme.example\n";
    let (st, body) = http(
        api,
        "POST",
        "/api/v1/reports",
        Some(ADMIN),
        "message/rfc822",
        report,
    )
    .await;
    assert_eq!(st, 202, "{body}");
    let receipt = json(&body);
    assert_eq!(receipt["status"], "processed");
    assert_eq!(receipt["events"].as_array().unwrap().len(), 2);
    assert_eq!(receipt["events"][0]["customer_id"], "beta");
    assert_eq!(receipt["events"][1]["customer_id"], "acme");
    let report_id = receipt["report_id"].as_str().unwrap().to_owned();
    // The resend is recognised.
    let (st, body) = http(
        api,
        "POST",
        "/api/v1/reports",
        Some(ADMIN),
        "message/rfc822",
        report,
    )
    .await;
    assert_eq!(st, 202);
    assert_eq!(json(&body)["duplicate"], true);

    // The SMTP report is processed in the background right after the 250.
    let mut smtp_receipt = serde_json::Value::Null;
    for _ in 0..100 {
        let (_, body) = http(
            api,
            "GET",
            &format!("/api/v1/reports/{smtp_id}"),
            Some(READER),
            "text/plain",
            b"",
        )
        .await;
        smtp_receipt = json(&body);
        if smtp_receipt["status"] == "processed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(smtp_receipt["status"], "processed", "{smtp_receipt}");
    assert_eq!(smtp_receipt["channel"], "smtp");
    assert_eq!(
        smtp_receipt["events"][0]["case_id"],
        smtp_receipt["events"][1]["case_id"]
    );

    // Cases and filters.
    let (_, body) = http(
        api,
        "GET",
        "/api/v1/cases?customer=acme",
        Some(READER),
        "text/plain",
        b"",
    )
    .await;
    let acme = json(&body)["cases"].as_array().unwrap().clone();
    assert_eq!(acme.len(), 2, "{body}");
    let (_, body) = http(
        api,
        "GET",
        "/api/v1/cases?class=phishing&state=open",
        Some(READER),
        "text/plain",
        b"",
    )
    .await;
    assert_eq!(json(&body)["cases"].as_array().unwrap().len(), 2, "{body}");
    let (st, body) = http(
        api,
        "GET",
        "/api/v1/cases?state=bogus",
        Some(READER),
        "text/plain",
        b"",
    )
    .await;
    assert_eq!(st, 400, "{body}");

    // The worker round: notices to acme and beta (one mail each), acks to both reporters.
    warden_server::work_once(&srv.state).await.unwrap();
    let mails = relay.mails.lock().unwrap().clone();
    let to = |who: &str| mails.iter().filter(|(r, _)| r == who).count();
    assert_eq!(to("abuse@acme.example"), 1, "{mails:#?}");
    assert_eq!(to("abuse@beta.example"), 1);
    assert_eq!(to("jane@reporter.example"), 1);
    assert_eq!(to("cert@cert.example"), 1);
    let acme_mail = &mails
        .iter()
        .find(|(r, _)| r == "abuse@acme.example")
        .unwrap()
        .1;
    assert!(acme_mail.contains("2 abuse case(s)"), "{acme_mail}");
    assert!(
        acme_mail.contains("spam 192.0.2.10"),
        "evidence excerpt: {acme_mail}"
    );
    let ack = &mails
        .iter()
        .find(|(r, _)| r == "cert@cert.example")
        .unwrap()
        .1;
    assert!(ack.contains(&report_id), "{ack}");

    // Notified now; an analyst resolves one case; a read-only token may not.
    let case_id = acme[0]["id"].as_str().unwrap().to_owned();
    let (_, body) = http(
        api,
        "GET",
        &format!("/api/v1/cases/{case_id}"),
        Some(READER),
        "text/plain",
        b"",
    )
    .await;
    let case = json(&body);
    assert_eq!(case["case"]["state"], "notified", "{case}");
    assert!(!case["events"].as_array().unwrap().is_empty());
    let path = format!("/api/v1/cases/{case_id}/actions");
    let (st, _) = http(
        api,
        "POST",
        &path,
        Some(READER),
        "application/json",
        br#"{"action":"resolve"}"#,
    )
    .await;
    assert_eq!(st, 403);
    let (st, body) = http(
        api,
        "POST",
        &path,
        Some(ADMIN),
        "application/json",
        br#"{"action":"resolve","note":"customer removed the script"}"#,
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(json(&body)["state"], "resolved");
    let (st, body) = http(
        api,
        "POST",
        &path,
        Some(ADMIN),
        "application/json",
        br#"{"action":"notify"}"#,
    )
    .await;
    assert_eq!(st, 409, "{body}");
    let (st, _) = http(
        api,
        "POST",
        &path,
        Some(ADMIN),
        "application/json",
        br#"{"action":"explode"}"#,
    )
    .await;
    assert_eq!(st, 400);
    let (_, body) = http(
        api,
        "GET",
        &format!("/api/v1/cases/{case_id}"),
        Some(READER),
        "text/plain",
        b"",
    )
    .await;
    let audit: Vec<String> = json(&body)["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(audit, ["opened", "notify", "resolve"]);

    // Inventory lookup, metrics, health.
    let (_, body) = http(
        api,
        "GET",
        "/api/v1/inventory/lookup?ip=192.0.2.99",
        Some(READER),
        "text/plain",
        b"",
    )
    .await;
    assert_eq!(json(&body)["holders"][0]["customer_id"], "acme");
    let (_, body) = http(api, "GET", "/metrics", None, "text/plain", b"").await;
    assert!(
        body.contains("warden_reports_received_total{channel=\"smtp\"} 1"),
        "{body}"
    );
    assert!(body.contains("warden_reports_duplicate_total 1"), "{body}");
    assert!(body.contains("warden_mails_sent_total 4"), "{body}");
    assert!(
        body.contains("warden_cases{state=\"resolved\"} 1"),
        "{body}"
    );
    let (st, body) = http(api, "GET", "/healthz", None, "text/plain", b"").await;
    assert_eq!((st, json(&body)["status"].as_str()), (200, Some("ok")));
    srv.shutdown().await;
}

#[tokio::test]
async fn auth_roles_and_input_errors() {
    let dir = tempdir("auth");
    let srv = start(&dir, line_format, None, Policy::default()).await;
    let api = srv.http_addr;
    let (st, body) = http(api, "GET", "/api/v1/cases", None, "text/plain", b"").await;
    assert_eq!(st, 401, "{body}");
    assert!(json(&body)["error"].as_str().unwrap().contains("Bearer"));
    let (st, _) = http(
        api,
        "GET",
        "/api/v1/cases",
        Some("not-a-registered-token"),
        "text/plain",
        b"",
    )
    .await;
    assert_eq!(st, 401);
    let (st, _) = http(
        api,
        "POST",
        "/api/v1/reports",
        Some(READER),
        "message/rfc822",
        b"TESTREPORT a@b.example\n",
    )
    .await;
    assert_eq!(st, 403);
    let (st, _) = http(
        api,
        "POST",
        "/api/v1/inventory",
        Some(READER),
        "text/csv",
        INVENTORY,
    )
    .await;
    assert_eq!(st, 403);
    let (st, body) = http(
        api,
        "POST",
        "/api/v1/reports",
        Some(ADMIN),
        "image/png",
        b"\x89PNG",
    )
    .await;
    assert_eq!(st, 415, "{body}");
    let (st, _) = http(
        api,
        "POST",
        "/api/v1/reports",
        Some(ADMIN),
        "message/rfc822",
        b"",
    )
    .await;
    assert_eq!(st, 400);
    let big = vec![b'a'; (1 << 20) + 10];
    let (st, _) = http(
        api,
        "POST",
        "/api/v1/reports",
        Some(ADMIN),
        "message/rfc822",
        &big,
    )
    .await;
    assert_eq!(st, 413);
    let (st, body) = http(
        api,
        "POST",
        "/api/v1/inventory",
        Some(ADMIN),
        "text/csv",
        b"customer,kind,value\nx,prefix,not-an-ip\n",
    )
    .await;
    assert_eq!(st, 400);
    assert!(body.contains("line 2"), "{body}");
    // Quarantine and re-run.
    let (st, body) = http(
        api,
        "POST",
        "/api/v1/reports",
        Some(ADMIN),
        "message/rfc822",
        b"Subject: hi\r\n\r\nplease help",
    )
    .await;
    assert_eq!(st, 202);
    assert_eq!(json(&body)["status"], "quarantined");
    let id = json(&body)["report_id"].as_str().unwrap().to_owned();
    let (_, body) = http(
        api,
        "GET",
        "/api/v1/quarantine",
        Some(READER),
        "text/plain",
        b"",
    )
    .await;
    assert_eq!(json(&body)["reports"][0]["report_id"], id.as_str());
    let (st, body) = http(
        api,
        "POST",
        &format!("/api/v1/reports/{id}/rerun"),
        Some(ADMIN),
        "text/plain",
        b"",
    )
    .await;
    assert_eq!(
        (st, json(&body)["status"].as_str()),
        (200, Some("quarantined"))
    );
    let (st, _) = http(
        api,
        "GET",
        "/api/v1/reports/nothex",
        Some(READER),
        "text/plain",
        b"",
    )
    .await;
    assert_eq!(st, 404);
    let (st, _) = http(
        api,
        "GET",
        &format!("/api/v1/reports/{}", "0".repeat(64)),
        Some(READER),
        "text/plain",
        b"",
    )
    .await;
    assert_eq!(st, 404);
    srv.shutdown().await;
}

#[tokio::test]
async fn openapi_lists_every_route() {
    let dir = tempdir("openapi");
    let srv = start(&dir, line_format, None, Policy::default()).await;
    let (st, body) = http(
        srv.http_addr,
        "GET",
        "/api/openapi.json",
        None,
        "text/plain",
        b"",
    )
    .await;
    assert_eq!(st, 200);
    let doc = json(&body);
    assert_eq!(doc["openapi"], "3.1.0");
    let src = include_str!("../src/api.rs");
    let routes: Vec<&str> = src
        .lines()
        .filter_map(|l| l.trim().strip_prefix(".route(\""))
        .filter_map(|l| l.split('"').next())
        .collect();
    assert!(routes.len() >= 12);
    for r in routes {
        assert!(
            doc["paths"].get(r).is_some(),
            "route {r} missing from the OpenAPI document"
        );
    }
    srv.shutdown().await;
}
