//! Runs only Airlock on one of the bench texts, for `perf record`:
//! `profile <one|space|letters|FILE> [o200k_base|cl100k_base] [runs]`.
use airlock_rules::tokenizer::{Encoding, Tokenizer};
fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "one".into());
    let enc = args.next().unwrap_or_else(|| "o200k_base".into());
    let runs: usize = args.next().map_or(50, |r| r.parse().expect("runs"));
    let text = match what.as_str() {
        "one" => "a".repeat(100_000),
        "space" => " ".repeat(100_000),
        "letters" => {
            let mut x = 7u64;
            (0..100_000)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    char::from(b'a' + (x % 26) as u8)
                })
                .collect()
        }
        _ => std::fs::read_to_string(&what).expect("file"),
    };
    let t = Tokenizer::new(Encoding::from_name(&enc).expect("encoding"));
    let mut n = 0;
    let mut best = f64::MAX;
    let start = std::time::Instant::now();
    for _ in 0..runs {
        let r = std::time::Instant::now();
        n += t.count(&text);
        best = best.min(r.elapsed().as_secs_f64());
    }
    let s = start.elapsed().as_secs_f64();
    println!(
        "{n} tokens, {:.1} MB/s (fastest run {:.1} MB/s)",
        (text.len() * runs) as f64 / s / 1e6,
        text.len() as f64 / best / 1e6
    );
}
