//! End to end through the HTTP API with the real parsers and a real NAT log store (the demo
//! CGN: `warden-attribution`'s generator, imported by the real Juniper parser): a report with
//! port and time lands in the right residential customer's case with the log lines as evidence;
//! a report whose time has no zone is ambiguous and keeps every candidate; a report without a
//! port stays unattributed and asks the reporter for the port.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

mod common;

use chrono::Utc;
use common::{ADMIN, READER, http, json, start_with, tempdir};
use std::net::IpAddr;
use std::sync::Arc;
use warden_desk::{CgnAttributor, NatConfig, NatResolver, Policy, Store, demo};

#[tokio::test]
async fn cgn_reports_over_http_show_candidates_on_the_case() {
    let dir = tempdir("cgn");
    let now = Utc::now();
    let natdir = dir.join("nat");
    let (nat_store, truth) = tokio::task::spawn_blocking(move || demo::nat_store(&natdir, now))
        .await
        .unwrap()
        .unwrap();
    let cfg = NatConfig::for_store(nat_store);
    let resolver = tokio::task::spawn_blocking(move || NatResolver::load(&cfg))
        .await
        .unwrap()
        .unwrap();
    let store = Store::open_sqlite_dir(&dir).await.unwrap();
    let attributor = Arc::new(CgnAttributor::new(store.clone(), Arc::new(resolver)));
    let srv = start_with(
        store,
        &dir,
        warden_reports::parse,
        None,
        Policy::default(),
        None,
        attributor,
    )
    .await;
    let api = srv.http_addr;
    let inv = serde_json::to_vec(&demo::inventory(5)).unwrap();
    let (st, body) = http(
        api,
        "POST",
        "/api/v1/inventory",
        Some(ADMIN),
        "application/json",
        &inv,
    )
    .await;
    assert_eq!(st, 200, "{body}");

    // A long, cleanly logged holding from the ground truth.
    let x = truth
        .iter()
        .filter(|x| x.alloc_logged && x.release_logged)
        .max_by_key(|x| x.end_ms - x.start_ms)
        .unwrap()
        .clone();
    let IpAddr::V4(inside) = x.inside_ip else {
        panic!("inside {:?}", x.inside_ip)
    };
    let sub = u32::from(inside) - u32::from(demo::CGN_FIRST_INSIDE);
    let holder = format!("res-{sub:03}");
    // cgn_reports over one holding: exact (ARF), zone-less (X-ARF JSON), no port (ARF).
    let reports = demo::cgn_reports(std::slice::from_ref(&x), 3, 11);
    let mut cases = Vec::new();
    for (i, r) in reports.iter().enumerate() {
        let ctype = if i == 1 {
            "application/json"
        } else {
            "message/rfc822"
        };
        let (st, body) = http(api, "POST", "/api/v1/reports", Some(ADMIN), ctype, r).await;
        assert_eq!(st, 202, "{body}");
        let v = json(&body);
        assert_eq!(v["status"], "processed", "{v}");
        cases.push((
            v["events"][0]["customer_id"].as_str().unwrap().to_owned(),
            v["events"][0]["case_id"].as_str().unwrap().to_owned(),
        ));
    }
    let case = |id: String| async move {
        let (st, body) = http(
            api,
            "GET",
            &format!("/api/v1/cases/{id}"),
            Some(READER),
            "text/plain",
            b"",
        )
        .await;
        assert_eq!(st, 200, "{body}");
        json(&body)
    };

    // Exact: the holder's case, with the ALLOC line as evidence.
    assert_eq!(cases[0].0, holder);
    let c = case(cases[0].1.clone()).await;
    assert_eq!(c["case"]["customer_id"], holder.as_str());
    let a = &c["events"][0]["attribution"];
    assert_eq!(a["ambiguous"], false, "{a}");
    let cand = &a["nat"]["candidates"][0];
    assert_eq!(cand["inside_ip"], x.inside_ip.to_string());
    let text = cand["evidence"][0]["text"].as_str().unwrap();
    assert!(
        text.contains(&format!(
            "JSERVICES_NAT_PORT_BLOCK_ALLOC: {} -> {}:{}-{}",
            x.inside_ip, x.outside_ip, x.port_lo, x.port_hi
        )),
        "{text}"
    );

    // Zone-less time: the window widens by 14 h, several subscribers held the block, all are
    // kept (the true one among them) and the case stays with the analysts.
    assert_eq!(cases[1].0, "");
    let c = case(cases[1].1.clone()).await;
    let a = &c["events"][0]["attribution"];
    assert_eq!(a["ambiguous"], true, "{a}");
    let nat = &a["nat"];
    assert!(
        nat["query"]["widened"]
            .as_str()
            .unwrap()
            .contains("no zone"),
        "{nat}"
    );
    assert!(nat["candidates_total"].as_u64().unwrap() > 1, "{nat}");
    let all: Vec<&str> = nat["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["inside_ip"].as_str())
        .collect();
    assert!(all.contains(&x.inside_ip.to_string().as_str()), "{all:?}");
    assert!(
        a["needs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "time_zone"),
        "{a}"
    );

    // No port: unattributed, and the reporter is asked for the source port.
    assert_eq!(cases[2].0, "");
    let c = case(cases[2].1.clone()).await;
    let a = c["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["attribution"]["nat"]["query"]["port"].is_null())
        .unwrap()["attribution"]
        .clone();
    assert_eq!(a["needs"], serde_json::json!(["source_port"]), "{a}");
    assert_eq!(a["nat"]["doubts"][0]["kind"], "no_port", "{a}");

    // The OpenAPI document describes what the case shows.
    let (st, body) = http(api, "GET", "/api/openapi.json", None, "text/plain", b"").await;
    assert_eq!(st, 200);
    let doc = json(&body);
    assert_eq!(
        doc["paths"]["/api/v1/cases/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
            ["schema"]["$ref"],
        "#/components/schemas/CaseDetail"
    );
    let nat = &doc["components"]["schemas"]["NatAnswer"]["properties"];
    for field in [
        "query",
        "ambiguous",
        "doubts",
        "candidates_total",
        "candidates",
    ] {
        assert!(nat.get(field).is_some(), "{field} missing from NatAnswer");
    }
    srv.shutdown().await;
    std::fs::remove_dir_all(&dir).ok();
}
