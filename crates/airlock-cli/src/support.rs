//! `airlock support-bundle` and `airlock redact`.

pub fn run_bundle(args: &[String]) -> u8 {
    let _ = args;
    2
}

pub fn run_redact(args: &[String]) -> u8 {
    let _ = args;
    2
}
