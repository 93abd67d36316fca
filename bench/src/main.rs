//! Counts the same texts with Airlock's tokenizer and its Rust peers; prints MB/s and ratios.
//! A benchmark, not a test: the numbers depend on the machine. Every peer's count is checked
//! against Airlock's before it is timed (a peer that disagrees is marked).
//!
//! `cargo xtask bench-tokens [o200k_base|cl100k_base]`

#[path = "../../crates/airlock-rules/tests/support/corpus.rs"]
mod corpus;

use airlock_rules::tokenizer::{Encoding, Tokenizer};
use std::time::{Duration, Instant};

const ENGLISH: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "it",
    "as",
    "was",
    "with",
    "be",
    "by",
    "on",
    "not",
    "he",
    "I",
    "this",
    "are",
    "or",
    "his",
    "from",
    "at",
    "which",
    "but",
    "have",
    "an",
    "had",
    "they",
    "you",
    "were",
    "their",
    "one",
    "all",
    "we",
    "can",
    "her",
    "has",
    "there",
    "been",
    "if",
    "more",
    "when",
    "will",
    "would",
    "who",
    "so",
    "no",
    "request",
    "model",
    "token",
    "window",
    "context",
    "because",
    "through",
    "between",
    "important",
    "government",
    "development",
    "understanding",
    "It's",
    "don't",
    "we'll",
    "The",
    "However",
    "London",
    "September",
    "1984",
    "42",
];

fn english(rng: &mut corpus::Rng, size: usize) -> String {
    let mut s = String::new();
    let mut words = 0;
    while s.len() < size {
        s.push_str(rng.pick(ENGLISH));
        words += 1;
        if words % 14 == 0 {
            s.push_str(".\n\n");
        } else if words % 7 == 0 {
            s.push_str(", ");
        } else {
            s.push(' ');
        }
    }
    s
}

fn texts() -> Vec<(&'static str, String)> {
    let mut rng = corpus::Rng::new(7);
    let mixed: String = corpus::corpus()
        .into_iter()
        .filter(|(n, _)| n.starts_with("mixed") || n.starts_with("prose") || n.starts_with("code"))
        .map(|(_, b)| String::from_utf8_lossy(&b).into_owned())
        .collect::<String>()
        .chars()
        .take(1_000_000)
        .collect();
    let mut mixed = mixed;
    while mixed.len() > 1_000_000 {
        mixed.pop();
    }
    let bytes = corpus::random_bytes(&mut rng, 100_000);
    let mut cps = String::new();
    while cps.len() < 100_000 {
        let cp = (rng.next() % 0x11_0000) as u32;
        if let Some(c) = char::from_u32(cp) {
            cps.push(c);
        }
    }
    vec![
        ("10 KB prose", english(&mut rng, 10_000)),
        ("1 MB mixed", mixed),
        ("100 KB one char", "a".repeat(100_000)),
        (
            "100 KB random bytes",
            String::from_utf8_lossy(&bytes).into_owned(),
        ),
        ("100 KB random code points", cps),
    ]
}

/// Seconds per run: repeats for at least `budget` (one run when a run is slower than that).
fn time(budget: Duration, mut f: impl FnMut() -> usize) -> (f64, usize) {
    let start = Instant::now();
    let n = f();
    let first = start.elapsed();
    if first > budget {
        return (first.as_secs_f64(), n);
    }
    let mut runs = 0u32;
    let start = Instant::now();
    while start.elapsed() < budget {
        std::hint::black_box(f());
        runs += 1;
    }
    (start.elapsed().as_secs_f64() / runs as f64, n)
}

fn main() {
    let which = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "o200k_base".into());
    let enc = Encoding::from_name(&which).expect("o200k_base or cl100k_base");
    let o200k = enc == Encoding::O200kBase;

    let t0 = Instant::now();
    let ours = Tokenizer::new(enc);
    let setup_ours = t0.elapsed();
    let t0 = Instant::now();
    let rs = if o200k {
        tiktoken_rs::o200k_base()
    } else {
        tiktoken_rs::cl100k_base()
    }
    .expect("tiktoken-rs");
    let setup_rs = t0.elapsed();
    let t0 = Instant::now();
    let gh = if o200k {
        bpe_openai::o200k_base()
    } else {
        bpe_openai::cl100k_base()
    };
    gh.count("warm up");
    let setup_gh = t0.elapsed();
    let t0 = Instant::now();
    let t4 = tiktoken4::get_encoding(&which).expect("tiktoken 4.x");
    let _ = t4.count("warm up");
    let setup_t4 = t0.elapsed();

    println!(
        "encoding {which}; set-up: airlock {:.1} ms, tiktoken-rs {:.1} ms, bpe-openai {:.1} ms, tiktoken 4.x {:.1} ms",
        ms(setup_ours),
        ms(setup_rs),
        ms(setup_gh),
        ms(setup_t4)
    );
    println!();
    println!(
        "| text | airlock MB/s | tiktoken-rs MB/s | bpe-openai MB/s | tiktoken 4.x MB/s | airlock ÷ rs | ÷ bpe-openai | ÷ tiktoken 4.x |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let budget = Duration::from_millis(700);
    if let Some(dir) = std::env::var_os("AIRLOCK_BENCH_TEXTS") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("texts dir");
        for (i, (name, text)) in texts().iter().enumerate() {
            std::fs::write(dir.join(format!("{i}-{}", name.replace(' ', "_"))), text)
                .expect("write text");
        }
    }
    for (name, text) in texts() {
        let mb = text.len() as f64 / 1e6;
        let (s_ours, n) = time(budget, || ours.count(&text));
        let peer = |f: &mut dyn FnMut() -> usize| -> String {
            let (s, m) = time(budget, &mut *f);
            let mark = if m == n { "" } else { " (count differs)" };
            format!("{:.1}{mark}|{s}", mb / s)
        };
        let r_rs = peer(&mut || rs.encode_ordinary(&text).len());
        let r_gh = peer(&mut || gh.count(text.as_str()));
        let r_t4 = peer(&mut || t4.count(&text));
        let split = |r: &str| -> (String, f64) {
            let (a, b) = r.split_once('|').unwrap();
            (a.to_string(), b.parse().unwrap())
        };
        let (a_rs, s_rs) = split(&r_rs);
        let (a_gh, s_gh) = split(&r_gh);
        let (a_t4, s_t4) = split(&r_t4);
        println!(
            "| {name} | {:.1} | {a_rs} | {a_gh} | {a_t4} | {:.2}× | {:.2}× | {:.2}× |",
            mb / s_ours,
            s_rs / s_ours,
            s_gh / s_ours,
            s_t4 / s_ours
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
