#![no_main]
//! See `airlock_fuzz::props::upload`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| airlock_fuzz::props::upload(data));
