#![no_main]
//! See `airlock_fuzz::props::check_json`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| airlock_fuzz::props::check_json(data));
