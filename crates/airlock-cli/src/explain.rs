//! `airlock explain`.

pub fn run(args: &[String]) -> u8 {
    let _ = args;
    eprintln!("airlock explain: not built yet");
    2
}
