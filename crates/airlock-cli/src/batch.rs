//! `airlock batch`.

pub fn run(args: &[String]) -> u8 {
    let _ = args;
    eprintln!("airlock batch: not built yet");
    2
}
