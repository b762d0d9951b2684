//! Fuzzes the `xarf_legacy` parser directly (sniff and parse), bypassing detection.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_reports::{formats::xarf_legacy::FORMAT, Limits};

fuzz_target!(|data: &[u8]| {
    let _ = (FORMAT.sniff)(data);
    let _ = (FORMAT.parse)(data, &Limits::default());
});
