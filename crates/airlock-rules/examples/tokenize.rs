//! Test helper for `tests/tiktoken_compare.py`.
//!
//! - `tokenize corpus DIR`: writes the test corpus (`tests/support/corpus.rs`), one file per text;
//! - `tokenize encode FILE...`: prints one line per file and encoding: `encoding<TAB>file<TAB>ids`
//!   (ids space-separated), reading each file's bytes with invalid UTF-8 replaced.

#[path = "../tests/support/corpus.rs"]
mod corpus;

use airlock_rules::tokenizer::{Encoding, Tokenizer};
use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("corpus") => {
            let dir = std::path::Path::new(&args[1]);
            std::fs::create_dir_all(dir).expect("create corpus dir");
            for (name, bytes) in corpus::corpus() {
                std::fs::write(dir.join(name), bytes).expect("write corpus file");
            }
        }
        Some("encode") => {
            let out = std::io::stdout();
            let mut out = std::io::BufWriter::new(out.lock());
            for enc in Encoding::ALL {
                let t = Tokenizer::new(enc);
                for file in &args[1..] {
                    let bytes = std::fs::read(file).expect("read file");
                    let ids: Vec<String> = t
                        .encode_bytes(&bytes)
                        .iter()
                        .map(|i| i.to_string())
                        .collect();
                    writeln!(out, "{enc}\t{file}\t{}", ids.join(" ")).expect("write");
                }
            }
        }
        _ => {
            eprintln!("usage: tokenize corpus DIR | tokenize encode FILE...");
            std::process::exit(2);
        }
    }
}
