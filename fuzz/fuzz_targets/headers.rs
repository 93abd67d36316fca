#![no_main]
//! See `airlock_fuzz::props::headers`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| airlock_fuzz::props::headers(data));
