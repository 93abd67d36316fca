//! `airlock check`.

pub fn run(args: &[String]) -> u8 {
    let _ = args;
    eprintln!("airlock check: not built yet");
    2
}
