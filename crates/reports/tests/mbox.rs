//! mbox samples: every file in `tests/data/mbox/` (see its README for the quirk each
//! reproduces), split and checked message by message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use proptest::prelude::*;
use std::borrow::Cow;
use std::net::IpAddr;
use warden_reports::container::{MboxFlavor, looks_like_mbox, parse_mbox, split_mbox};
use warden_reports::{Limits, ParseErrorKind};

fn sample(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/mbox/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn subjects(data: &[&[u8]]) -> Vec<String> {
    data.iter()
        .map(|d| {
            let text = String::from_utf8_lossy(d);
            text.lines()
                .find_map(|l| l.strip_prefix("Subject: "))
                .unwrap_or("")
                .trim_end_matches('\r')
                .to_owned()
        })
        .collect()
}

#[test]
fn one_message() {
    let raw = sample("one-message.mbox");
    assert!(looks_like_mbox(&raw));
    let mb = split_mbox(&raw, MboxFlavor::Mboxrd, &Limits::default()).unwrap();
    assert_eq!(mb.messages.len(), 1);
    let m = &mb.messages[0];
    assert_eq!(m.offset, 0);
    assert_eq!(
        m.from_line,
        "From reporter1@example.org Tue Nov 24 01:00:00 2026"
    );
    assert!(m.data.starts_with(b"From: reporter1@example.org\n"));
    assert!(
        m.data.ends_with(b"Hello.\n"),
        "separator blank line removed"
    );
    assert!(m.truncated.is_none());
    assert!(
        matches!(m.data, Cow::Borrowed(_)),
        "nothing to unquote: no copy"
    );
    assert!(mb.skipped.is_empty());
}

#[test]
fn empty_file_is_an_empty_mailbox() {
    let raw = sample("empty.mbox");
    let mb = split_mbox(&raw, MboxFlavor::Mboxrd, &Limits::default()).unwrap();
    assert!(mb.messages.is_empty() && mb.skipped.is_empty());
    assert!(
        parse_mbox(&sample("empty.mbox"), &Limits::default())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn mboxrd_unquoting() {
    let raw = sample("mboxrd-quoting.mbox");
    let mb = split_mbox(&raw, MboxFlavor::Mboxrd, &Limits::default()).unwrap();
    assert_eq!(mb.messages.len(), 3);
    let body = String::from_utf8_lossy(&mb.messages[0].data);
    assert!(
        body.contains("\nFrom the abuse desk, with love\n"),
        "{body}"
    );
    assert!(
        body.contains("\n>From a line that began >From in the original\n"),
        "{body}"
    );
    let data: Vec<&[u8]> = mb.messages.iter().map(|m| &*m.data).collect();
    assert_eq!(subjects(&data), vec!["report 1", "report 2", "report 3"]);
    assert!(mb.messages[1].offset > mb.messages[0].offset);
    assert_eq!(
        &raw[mb.messages[2].offset..mb.messages[2].offset + 5],
        b"From "
    );
}

#[test]
fn mboxo_unquoting() {
    let raw = sample("mboxo-quoting.mbox");
    let mb = split_mbox(&raw, MboxFlavor::Mboxo, &Limits::default()).unwrap();
    let body = String::from_utf8_lossy(&mb.messages[0].data);
    assert!(body.contains("\nFrom here on, mboxo quoting\n"));
    assert!(body.contains("\n>>From stays as it is in mboxo\n"));
    let rd = split_mbox(&raw, MboxFlavor::Mboxrd, &Limits::default()).unwrap();
    assert!(String::from_utf8_lossy(&rd.messages[0].data).contains("\n>From stays"));
}

#[test]
fn crlf_line_ends() {
    let raw = sample("crlf.mbox");
    let mb = split_mbox(&raw, MboxFlavor::Mboxrd, &Limits::default()).unwrap();
    assert_eq!(mb.messages.len(), 2);
    assert_eq!(
        mb.messages[0].from_line,
        "From reporter1@example.org Tue Nov 24 01:00:00 2026"
    );
    assert!(mb.messages[0].data.ends_with(b"Hello.\r\n"));
    assert!(mb.messages.iter().all(|m| m.truncated.is_none()));
    let data: Vec<&[u8]> = mb.messages.iter().map(|m| &*m.data).collect();
    assert_eq!(subjects(&data), vec!["report 1", "report 2"]);
}

#[test]
fn truncated_last_message_mid_line() {
    let raw = sample("truncated-mid-line.mbox");
    let mb = split_mbox(&raw, MboxFlavor::Mboxrd, &Limits::default()).unwrap();
    assert_eq!(mb.messages.len(), 2);
    assert!(mb.messages[0].truncated.is_none());
    let why = mb.messages[1].truncated.as_deref().unwrap();
    assert!(why.contains("middle of a line"), "{why}");
    assert!(
        mb.messages[1].data.ends_with(b"in the mid"),
        "the partial text is kept"
    );
}

#[test]
fn truncated_in_headers() {
    let raw = sample("truncated-in-headers.mbox");
    let mb = split_mbox(&raw, MboxFlavor::Mboxrd, &Limits::default()).unwrap();
    assert_eq!(mb.messages.len(), 2);
    assert!(
        mb.messages[1]
            .truncated
            .as_deref()
            .unwrap()
            .contains("header block")
    );
}

#[test]
fn content_length_larger_than_body() {
    let raw = sample("content-length-short.mbox");
    let mb = split_mbox(&raw, MboxFlavor::Mboxrd, &Limits::default()).unwrap();
    let why = mb.messages[0].truncated.as_deref().unwrap();
    assert!(why.contains("Content-Length header says 500"), "{why}");
}

#[test]
fn junk_before_the_first_message() {
    let raw = sample("junk-before-first.mbox");
    let mb = split_mbox(&raw, MboxFlavor::Mboxrd, &Limits::default()).unwrap();
    assert_eq!(mb.messages.len(), 1);
    assert_eq!(mb.skipped.len(), 1);
    assert_eq!(mb.skipped[0].offset, 0);
    assert!(mb.skipped[0].reason.contains("before the first"));
    assert_eq!(
        &raw[mb.messages[0].offset..mb.messages[0].offset + 5],
        b"From "
    );
}

#[test]
fn binary_junk_between_messages() {
    let raw = sample("nul-padding-between.mbox");
    let mb = split_mbox(&raw, MboxFlavor::Mboxrd, &Limits::default()).unwrap();
    assert_eq!(mb.messages.len(), 2);
    assert!(
        mb.messages[0].data.ends_with(b"Hello.\n"),
        "{:?}",
        String::from_utf8_lossy(&mb.messages[0].data)
    );
    assert_eq!(mb.skipped.len(), 1);
    assert!(mb.skipped[0].reason.contains("binary junk"));
    assert!(mb.skipped[0].len >= 64);
    assert!(!mb.messages[0].data.contains(&0));
}

#[test]
fn nul_bytes_glued_to_the_from_line() {
    let raw = sample("nul-glued-from.mbox");
    let mb = split_mbox(&raw, MboxFlavor::Mboxrd, &Limits::default()).unwrap();
    assert_eq!(mb.messages.len(), 2);
    assert_eq!(
        &raw[mb.messages[1].offset..mb.messages[1].offset + 5],
        b"From "
    );
    assert!(!mb.messages[0].data.contains(&0));
}

#[test]
fn unquoted_from_lines_in_a_body_stay_in_the_body() {
    let raw = sample("unquoted-from-in-body.mbox");
    let mb = split_mbox(&raw, MboxFlavor::Mboxrd, &Limits::default()).unwrap();
    assert_eq!(mb.messages.len(), 2);
    let body = String::from_utf8_lossy(&mb.messages[0].data);
    assert!(body.contains("From our logs you can see the attack."));
    assert!(
        body.contains("From 03:14:15 to 03:20:00 the attack went on."),
        "{body}"
    );
}

#[test]
fn from_line_without_blank_line_before() {
    let raw = sample("no-blank-before-from.mbox");
    let mb = split_mbox(&raw, MboxFlavor::Mboxrd, &Limits::default()).unwrap();
    assert_eq!(mb.messages.len(), 2);
    assert!(mb.messages[0].data.ends_with(b"Hello.\n"));
}

#[test]
fn a_plain_message_is_not_an_mbox() {
    let raw = sample("not-an-mbox.eml");
    assert!(!looks_like_mbox(&raw));
    let err = split_mbox(&raw, MboxFlavor::Mboxrd, &Limits::default()).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::Malformed);
    assert!(err.message.contains("not an mbox"));
}

#[test]
fn limits() {
    let raw = sample("mboxrd-quoting.mbox");
    let few = Limits {
        max_records: 2,
        ..Limits::default()
    };
    let err = split_mbox(&raw, MboxFlavor::Mboxrd, &few).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::LimitExceeded);
    let small = Limits {
        max_input: 10,
        ..Limits::default()
    };
    assert_eq!(
        split_mbox(&raw, MboxFlavor::Mboxrd, &small)
            .unwrap_err()
            .kind,
        ParseErrorKind::LimitExceeded
    );
    let short_lines = Limits {
        max_line: 20,
        ..Limits::default()
    };
    let err = split_mbox(&raw, MboxFlavor::Mboxrd, &short_lines).unwrap_err();
    assert!(err.message.contains("line at byte 0"), "{err}");
}

#[test]
fn abuse_folder_parsed_message_by_message() {
    let outcomes = parse_mbox(&sample("abuse-folder.mbox"), &Limits::default()).unwrap();
    assert_eq!(outcomes.len(), 3);
    let ip_of = |i: usize| -> Option<IpAddr> {
        outcomes[i]
            .result
            .as_ref()
            .ok()?
            .first()?
            .as_event()?
            .subject
            .ip
    };
    assert_eq!(ip_of(0), Some("198.51.100.2".parse().unwrap()));
    let err = outcomes[1].result.as_ref().unwrap_err();
    assert_eq!(
        err.kind,
        ParseErrorKind::MissingField,
        "one bad message does not hide the others"
    );
    assert_eq!(ip_of(2), Some("198.51.100.44".parse().unwrap()));
    let e = outcomes[2].result.as_ref().unwrap()[0]
        .as_event()
        .unwrap()
        .clone();
    assert_eq!(e.subject.port, Some(51234));
    assert_eq!(outcomes[2].index, 2);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn split_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let _ = split_mbox(&raw, MboxFlavor::Mboxrd, &Limits::default());
        let _ = split_mbox(&raw, MboxFlavor::Mboxo, &Limits::default());
    }

    #[test]
    fn split_never_panics_on_mbox_like_text(
        s in r"(From a Tue Nov 24 01:00:00 2026\r?\n|Subject: x\r?\n|\r?\n|>+From x\n|body\n|\x00){0,30}"
    ) {
        if let Ok(mb) = split_mbox(s.as_bytes(), MboxFlavor::Mboxrd, &Limits::default()) {
            for m in &mb.messages {
                prop_assert!(m.offset < s.len());
                prop_assert!(m.data.len() <= s.len());
            }
        }
    }

    #[test]
    fn messages_round_trip(bodies in proptest::collection::vec("[a-zA-Z >]{0,20}(\nFrom x[a-z ]{0,5})?", 1..5)) {
        // Write an mboxrd file the way a correct writer does, then read it back.
        let mut file = Vec::new();
        for (i, body) in bodies.iter().enumerate() {
            file.extend_from_slice(format!("From w@example.org Tue Nov 24 01:00:0{i} 2026\n").as_bytes());
            let mut msg = format!("Subject: m{i}\n\n{body}\n");
            msg = msg.lines().map(|l| {
                let gt = l.bytes().take_while(|&b| b == b'>').count();
                if l[gt..].starts_with("From ") { format!(">{l}") } else { l.to_owned() }
            }).collect::<Vec<_>>().join("\n") + "\n";
            file.extend_from_slice(msg.as_bytes());
            file.push(b'\n');
        }
        let mb = split_mbox(&file, MboxFlavor::Mboxrd, &Limits::default()).unwrap();
        prop_assert_eq!(mb.messages.len(), bodies.len());
        for (i, (m, body)) in mb.messages.iter().zip(&bodies).enumerate() {
            let expected = format!("Subject: m{i}\n\n{body}\n");
            prop_assert_eq!(String::from_utf8_lossy(&m.data), expected);
        }
    }
}
