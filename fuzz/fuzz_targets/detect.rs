//! Fuzzes the whole pipeline: detection, then whichever parser claims the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = warden_reports::parse(data);
});
