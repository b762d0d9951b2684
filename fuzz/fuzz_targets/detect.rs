//! Fuzzes the whole pipeline: detection, then whichever parser claims the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // libfuzzer-sys's panic hook aborts even on panics the parsers catch on purpose
    // (mail-parser 0.11.9 panics on some multiparts; `formats::mail::parse_mime` catches it).
    // A silent hook keeps those caught; an uncaught panic still aborts in the harness.
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let _ = warden_reports::parse(data);
});
