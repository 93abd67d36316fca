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

/// Seconds per run of each of `fs`, and its count: the fastest of short batches (each at least
/// 10 ms of runs), taken in rounds that visit every peer in turn until `budget` per peer is
/// spent, so each sees the same load on a shared machine and time lost to other processes
/// counts less. A peer whose single run is slower than the budget runs once.
fn time_all(budget: Duration, fs: &mut [&mut dyn FnMut() -> usize]) -> Vec<(f64, usize)> {
    let batch = Duration::from_millis(10);
    let mut res: Vec<(f64, usize)> = fs
        .iter_mut()
        .map(|f| {
            let t = Instant::now();
            let n = f();
            (t.elapsed().as_secs_f64(), n)
        })
        .collect();
    let slow: Vec<bool> = res.iter().map(|r| r.0 > budget.as_secs_f64()).collect();
    let total = budget * fs.len() as u32;
    let start = Instant::now();
    while start.elapsed() < total {
        for (i, f) in fs.iter_mut().enumerate() {
            if slow[i] {
                continue;
            }
            let b = Instant::now();
            let mut runs = 0u32;
            while b.elapsed() < batch {
                std::hint::black_box(f());
                runs += 1;
            }
            res[i].0 = res[i].0.min(b.elapsed().as_secs_f64() / f64::from(runs));
        }
        if slow.iter().all(|&s| s) {
            break;
        }
    }
    res
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
        let r = time_all(
            budget,
            &mut [
                &mut || ours.count(&text),
                &mut || rs.encode_ordinary(&text).len(),
                &mut || gh.count(text.as_str()),
                &mut || t4.count(&text),
            ],
        );
        let (s_ours, n) = r[0];
        let peer = |(s, m): (f64, usize)| -> (String, f64) {
            let mark = if m == n { "" } else { " (count differs)" };
            (format!("{:.1}{mark}", mb / s), s)
        };
        let ((a_rs, s_rs), (a_gh, s_gh), (a_t4, s_t4)) = (peer(r[1]), peer(r[2]), peer(r[3]));
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
