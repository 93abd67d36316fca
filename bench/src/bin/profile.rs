//! Runs only Airlock on one of the bench texts, for `perf record`.
use airlock_rules::tokenizer::{Encoding, Tokenizer};
fn main() {
    let what = std::env::args().nth(1).unwrap_or_else(|| "one".into());
    let text = match what.as_str() {
        "one" => "a".repeat(100_000),
        "space" => " ".repeat(100_000),
        _ => std::fs::read_to_string(&what).expect("file"),
    };
    let t = Tokenizer::new(Encoding::O200kBase);
    let mut n = 0;
    for _ in 0..50 {
        n += t.count(&text);
    }
    println!("{n}");
}
