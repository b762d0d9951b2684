//! Fuzzes the `tlsrpt` parser directly (sniff and parse), bypassing detection.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_reports::{formats::tlsrpt::FORMAT, Limits};

fuzz_target!(|data: &[u8]| {
    // libfuzzer-sys's panic hook aborts even on panics the parsers catch on purpose
    // (mail-parser 0.11.9 panics on some multiparts; `formats::mail::parse_mime` catches it).
    // A silent hook keeps those caught; an uncaught panic still aborts in the harness.
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let _ = (FORMAT.sniff)(data);
    let _ = (FORMAT.parse)(data, &Limits::default());
});
