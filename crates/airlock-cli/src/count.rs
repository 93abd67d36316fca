//! `airlock count`.

pub fn run(args: &[String]) -> u8 {
    let _ = args;
    eprintln!("airlock count: not built yet");
    2
}
