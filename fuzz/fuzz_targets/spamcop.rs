//! Fuzzes the `spamcop` parser directly (sniff and parse), bypassing detection.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_reports::{formats::spamcop::FORMAT, Limits};

fuzz_target!(|data: &[u8]| {
    let _ = (FORMAT.sniff)(data);
    let _ = (FORMAT.parse)(data, &Limits::default());
});
