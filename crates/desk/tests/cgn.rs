//! CGN attribution through a real NAT log store (Juniper port-block lines imported with the
//! real parser, pairing and store of `warden-attribution`) and RADIUS accounting, on SQLite and
//! PostgreSQL: a report with port and time names the right customer with the log lines as
//! evidence; an ambiguous one keeps every candidate and stays unattributed; one without a port
//! asks the reporter for it; one outside the logs says so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

mod common;

use common::{line_format, stores, tempdir};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use warden_attribution::import::{ImportOptions, Input, VendorParser, import};
use warden_attribution::natlog::{ParseContext, Vendor};
use warden_desk::inventory::{self, InventoryDoc};
use warden_desk::{
    CgnAttributor, Channel, Desk, IntakeReceipt, NatConfig, NatResolver, Policy, RawStore, Store,
    cases, outbox,
};

const LOG: &str = "\
Nov 30 10:00:00 cgn1 2026-11-30 10:00:00: cgn1{sset0}[jservices-nat]: JSERVICES_NAT_PORT_BLOCK_ALLOC: 100.64.0.1 -> 198.51.100.1:1024-1535
Nov 30 10:05:00 cgn1 2026-11-30 10:05:00: cgn1{sset0}[jservices-nat]: JSERVICES_NAT_PORT_BLOCK_ALLOC: 100.64.0.3 -> 198.51.100.1:1536-2047
Nov 30 10:30:00 cgn1 2026-11-30 10:30:00: cgn1{sset0}[jservices-nat]: JSERVICES_NAT_PORT_BLOCK_RELEASE: 100.64.0.1 -> 198.51.100.1:1024-1535
Nov 30 10:30:02 cgn1 2026-11-30 10:30:02: cgn1{sset0}[jservices-nat]: JSERVICES_NAT_PORT_BLOCK_ALLOC: 100.64.0.2 -> 198.51.100.1:1024-1535
Nov 30 11:00:00 cgn1 2026-11-30 11:00:00: cgn1{sset0}[jservices-nat]: JSERVICES_NAT_PORT_BLOCK_RELEASE: 100.64.0.2 -> 198.51.100.1:1024-1535
Nov 30 11:00:00 cgn1 2026-11-30 11:00:00: cgn1{sset0}[jservices-nat]: JSERVICES_NAT_PORT_BLOCK_RELEASE: 100.64.0.3 -> 198.51.100.1:1536-2047
";

/// Carol's session holds 100.64.0.3 from 09:00 (RADIUS accounting, Unix times).
const RADIUS: &str = "Acct-Status-Type,Framed-IP-Address,User-Name,Acct-Session-Id,Event-Timestamp\n\
Start,100.64.0.3,carol,s-77,1796029200\n";

const INVENTORY: &[u8] = b"customer,name,kind,value,valid_from,valid_to\n\
isp,Access network,shared_prefix,198.51.100.0/24,,\n\
isp,,technical,noc@isp.example,,\n\
biz,Business Ltd,prefix,192.0.2.0/24,,\n\
biz,,abuse,abuse@biz.example,,\n\
res-a,Alice,inside_prefix,100.64.0.1/32,,\n\
res-a,,abuse,alice@home.example,,\n\
res-b,Bob,inside_prefix,100.64.0.2/32,,\n\
res-b,,abuse,bob@home.example,,\n\
res-c,Carol,subscriber,carol,,\n\
res-c,,abuse,carol@home.example,,\n";

/// Imports the vendor lines into a NAT store and writes the accounting file; returns the
/// configuration the desk is given.
fn nat_setup(dir: &Path) -> NatConfig {
    let log = dir.join("cgn1.log");
    std::fs::write(&log, LOG).unwrap();
    let store = dir.join("nat");
    let mut parser = VendorParser {
        ctx: ParseContext::new(Vendor::Auto, chrono_tz::Tz::UTC, 1_796_000_000),
    };
    let s = import(
        &store,
        &[Input::Path(log)],
        &mut parser,
        &ImportOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!((s.lines, s.events, s.rejects), (6, 6, 0), "{s:?}");
    let radius = dir.join("acct.csv");
    std::fs::write(&radius, RADIUS).unwrap();
    NatConfig {
        radius: vec![radius],
        ..NatConfig::for_store(store)
    }
}

async fn cgn_desk(store: &Store, dir: &Path, cfg: &NatConfig) -> Desk {
    inventory::import(
        store,
        &InventoryDoc::from_csv(INVENTORY).unwrap(),
        common::t(0),
    )
    .await
    .unwrap();
    let cfg = cfg.clone();
    let resolver = tokio::task::spawn_blocking(move || NatResolver::load(&cfg))
        .await
        .unwrap()
        .unwrap();
    Desk::new(
        store.clone(),
        RawStore::open(dir.join("raw")).unwrap(),
        Policy::default(),
        Arc::new(CgnAttributor::new(store.clone(), Arc::new(resolver))),
        line_format,
    )
}

async fn submit(desk: &Desk, body: &str) -> IntakeReceipt {
    let r = desk
        .ingest(
            format!("TESTREPORT person@reporter.example\n{body}\n").into_bytes(),
            Channel::Http,
            None,
            common::t(200),
        )
        .await
        .unwrap();
    assert_eq!(r.events.len(), 1, "{r:?}");
    r
}

/// The attribution stored for the report's event, as the case API shows it.
async fn attribution(store: &Store, r: &IntakeReceipt) -> Value {
    let evs = cases::events(store, &r.events[0].case_id, 100)
        .await
        .unwrap();
    evs.into_iter()
        .find(|e| e["report_id"] == r.report_id.as_str())
        .map(|e| e["attribution"].clone())
        .unwrap()
}

fn customers_of(nat: &Value) -> Vec<String> {
    nat["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["customer"]["customer_id"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn cgn_reports_resolve_through_the_nat_logs() {
    let natdir = tempdir("cgn-nat");
    let cfg = nat_setup(&natdir);
    for (name, store, dir, _schema) in stores("cgn").await {
        let desk = cgn_desk(&store, &dir, &cfg).await;

        // Port and zoned time inside Alice's block: her, with the log lines as evidence.
        let r = submit(&desk, "spam 198.51.100.1 1100 2026-11-30T10:15:00Z").await;
        assert_eq!(r.events[0].customer_id, "res-a", "{name}");
        let a = attribution(&store, &r).await;
        assert_eq!(a["ambiguous"], false, "{name}: {a}");
        let nat = &a["nat"];
        assert_eq!(nat["candidates_total"], 1, "{name}: {a}");
        let c = &nat["candidates"][0];
        assert_eq!(c["inside_ip"], "100.64.0.1");
        assert_eq!(c["customer"]["customer_id"], "res-a");
        assert_eq!(
            (c["start_kind"].as_str(), c["end_kind"].as_str()),
            (Some("logged"), Some("released"))
        );
        assert_eq!(c["evidence"][0]["role"], "open");
        assert_eq!(c["evidence"][0]["line"], 1);
        assert!(
            c["evidence"][0]["path"]
                .as_str()
                .unwrap()
                .ends_with("cgn1.log"),
            "{c}"
        );
        assert!(
            c["evidence"][0]["text"]
                .as_str()
                .unwrap()
                .contains("JSERVICES_NAT_PORT_BLOCK_ALLOC: 100.64.0.1 -> 198.51.100.1:1024-1535"),
            "{c}"
        );
        assert_eq!(c["evidence"][1]["line"], 3, "{c}");
        assert!(a["note"].as_str().unwrap().contains("res-a"), "{a}");
        // Alice is told, not the pool's operator.
        let ob = outbox::list(&store, 100).await.unwrap();
        assert!(
            ob.iter()
                .any(|(k, to, _)| k == "customer_notice" && to == "alice@home.example"),
            "{name}: {ob:?}"
        );

        // The subscriber join: the logs name 100.64.0.3, RADIUS names carol, the inventory
        // names Carol's account.
        let r = submit(&desk, "port_scan 198.51.100.1 1600 2026-11-30T10:15:00Z").await;
        assert_eq!(r.events[0].customer_id, "res-c", "{name}");
        let a = attribution(&store, &r).await;
        let c = &a["nat"]["candidates"][0];
        assert_eq!(c["subscribers"][0]["user_name"], "carol", "{a}");
        assert_eq!(c["customer"]["matched"], "subscriber carol");
        assert!(
            c["subscribers"][0]["evidence"][0]["path"]
                .as_str()
                .unwrap()
                .ends_with("acct.csv")
        );

        // One second after Alice's release, one before Bob's allocation: within ±5 s both
        // held port 1100. Both are kept, the event is flagged and stays unattributed.
        let r = submit(&desk, "login_attack 198.51.100.1 1100 2026-11-30T10:30:01Z").await;
        assert_eq!(r.events[0].customer_id, "", "{name}");
        let a = attribution(&store, &r).await;
        assert_eq!(a["ambiguous"], true);
        assert_eq!(a["nat"]["ambiguous"], true);
        assert_eq!(a["nat"]["candidates_total"], 2, "{a}");
        assert_eq!(customers_of(&a["nat"]), ["res-a", "res-b"], "{a}");
        let kinds: Vec<&str> = a["nat"]["doubts"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|d| d["kind"].as_str())
            .collect();
        assert!(kinds.contains(&"several_holders"), "{kinds:?}");
        // Both customers are candidates on the event.
        let cands: Vec<&str> = a["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|h| h["customer_id"].as_str())
            .collect();
        assert_eq!(cands, ["res-a", "res-b"]);

        // No port: every subscriber on the address then, and the reporter is asked.
        let r = submit(&desk, "spam 198.51.100.1 - 2026-11-30T10:15:00Z").await;
        assert_eq!(r.events[0].customer_id, "", "{name}");
        let a = attribution(&store, &r).await;
        assert_eq!(a["ambiguous"], true);
        assert_eq!(a["needs"], serde_json::json!(["source_port"]), "{a}");
        assert_eq!(a["nat"]["doubts"][0]["kind"], "no_port", "{a}");
        let mut who = customers_of(&a["nat"]);
        who.sort();
        assert_eq!(who, ["res-a", "res-c"], "{a}");
        let ob = outbox::list(&store, 100).await.unwrap();
        assert!(
            ob.iter()
                .any(|(k, to, _)| k == "info_request" && to == "person@reporter.example"),
            "{name}: {ob:?}"
        );

        // A day the logs do not cover: no candidate, and the reason is stated.
        let r = submit(&desk, "spam 198.51.100.1 1100 2026-12-05T10:00:00Z").await;
        assert_eq!(r.events[0].customer_id, "");
        let a = attribution(&store, &r).await;
        assert_eq!(a["nat"]["candidates_total"], 0);
        assert_eq!(a["nat"]["doubts"][0]["kind"], "no_coverage", "{a}");
        assert!(
            a["note"]
                .as_str()
                .unwrap()
                .contains("no imported NAT log covers"),
            "{a}"
        );

        // Dedicated space is still the inventory's answer, and an inside address reported as
        // if it were public names nobody.
        let r = submit(&desk, "spam 192.0.2.9 - 2026-11-30T10:15:00Z").await;
        assert_eq!(r.events[0].customer_id, "biz");
        assert!(attribution(&store, &r).await.get("nat").is_none());
        let r = submit(&desk, "malware 100.64.0.1 - 2026-11-30T10:15:00Z").await;
        assert_eq!(r.events[0].customer_id, "", "{name}");
        store.close().await;
    }
    std::fs::remove_dir_all(&natdir).unwrap();
}

#[tokio::test]
async fn a_broken_nat_store_is_refused_at_start_and_bad_config_is_named() {
    let dir = tempdir("cgn-bad");
    let nat: PathBuf = dir.join("nat");
    std::fs::create_dir_all(&nat).unwrap();
    std::fs::write(nat.join("MANIFEST"), b"{ not json").unwrap();
    let err = NatResolver::load(&NatConfig::for_store(&nat)).unwrap_err();
    assert!(err.to_string().contains("NAT store"), "{err}");
    let err = NatResolver::load(&NatConfig {
        window: "soon".into(),
        ..NatConfig::for_store(dir.join("empty"))
    })
    .unwrap_err();
    assert!(err.to_string().contains("soon"), "{err}");
    let err = NatResolver::load(&NatConfig {
        radius: vec![dir.join("missing.csv")],
        ..NatConfig::for_store(dir.join("empty"))
    })
    .unwrap_err();
    assert!(err.to_string().contains("missing.csv"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
