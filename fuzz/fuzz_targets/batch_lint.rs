#![no_main]
//! See `airlock_fuzz::props::batch_lint`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| airlock_fuzz::props::batch_lint(data));
