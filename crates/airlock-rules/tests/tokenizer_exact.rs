//! The tokenizer against the references: the pre-tokens against `fancy-regex` running tiktoken's
//! own patterns (the engine tiktoken uses), and the token IDs against `tiktoken-rs`, on the
//! generated corpus (`support/corpus.rs`, over 2 MB) and its edge cases. The comparison with
//! Python tiktoken, the final word, is `tests/tiktoken_compare.py` (run by `cargo xtask test`).
#![cfg(all(feature = "tokenizer", feature = "std"))]

mod support;

use airlock_rules::tokenizer::{Encoding, Tokenizer};
use support::corpus;

const O200K_PATTERN: &str = concat!(
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|\p{N}{1,3}",
    r"| ?[^\s\p{L}\p{N}]+[\r\n/]*",
    r"|\s*[\r\n]+",
    r"|\s+(?!\S)",
    r"|\s+",
);
const CL100K_PATTERN: &str = r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s";

fn texts() -> Vec<(String, String)> {
    corpus::corpus()
        .into_iter()
        .map(|(name, bytes)| (name, String::from_utf8_lossy(&bytes).into_owned()))
        .collect()
}

fn reference_pieces(re: &fancy_regex::Regex, text: &str) -> Vec<String> {
    re.find_iter(text)
        .map(|m| m.expect("regex ran").as_str().to_string())
        .collect()
}

#[test]
fn pre_tokens_match_fancy_regex() {
    let texts = texts();
    for (enc, pattern) in [
        (Encoding::O200kBase, O200K_PATTERN),
        (Encoding::Cl100kBase, CL100K_PATTERN),
    ] {
        let re = fancy_regex::Regex::new(pattern).expect("pattern compiles");
        let t = Tokenizer::shared(enc);
        for (name, text) in &texts {
            let want = reference_pieces(&re, text);
            let got: Vec<&str> = t.pre_tokens(text);
            if got != want {
                let i = got.iter().zip(&want).position(|(a, b)| a != b).unwrap_or(0);
                panic!(
                    "{enc} {name}: pre-token {i} differs: ours {:?}, regex {:?}",
                    &got[i.saturating_sub(2)..(i + 3).min(got.len())],
                    &want[i.saturating_sub(2)..(i + 3).min(want.len())]
                );
            }
        }
    }
}

#[test]
fn tokens_match_tiktoken_rs() {
    let texts = texts();
    let o200k = tiktoken_rs::o200k_base().expect("o200k_base");
    let cl100k = tiktoken_rs::cl100k_base().expect("cl100k_base");
    let mut compared = 0;
    for (enc, reference) in [
        (Encoding::O200kBase, &o200k),
        (Encoding::Cl100kBase, &cl100k),
    ] {
        let t = Tokenizer::shared(enc);
        for (name, text) in &texts {
            let want = reference.encode_ordinary(text);
            let got = t.encode(text);
            assert!(
                got == want,
                "{enc} {name}: token IDs differ from tiktoken-rs"
            );
            assert_eq!(t.count(text), want.len());
            compared += text.len();
        }
    }
    assert!(
        compared >= 4_000_000,
        "corpus is at least 2 MB per encoding"
    );
}

/// The lazy count's loop (`count_until`: pieces known without merging counted in line, the rest
/// out of line) counts what `encode` emits: everything with no bound, and, where it stops early,
/// exactly the tokens of the prefix it reports, which ends where a token ends (issue 14).
#[test]
fn counts_until_match_the_tokens() {
    let texts = texts();
    for enc in Encoding::ALL {
        let t = Tokenizer::shared(enc);
        for (name, text) in &texts {
            let tokens = t.encode(text);
            assert_eq!(
                t.count_within(text, usize::MAX).tokens,
                tokens.len(),
                "{enc} {name}"
            );
            // Token end offsets, to read the tokens of any prefix that ends at a token's end.
            let mut ends = Vec::with_capacity(tokens.len());
            let mut at = 0;
            for &tok in &tokens {
                at += t.decode_bytes(&[tok]).unwrap().len();
                ends.push(at);
            }
            for enough in [1, 10, 1_000, text.len() / 3] {
                for budget in [usize::MAX, 5_000] {
                    let c = t.count_until(text, budget, enough);
                    let within = ends.partition_point(|&e| e <= c.bytes);
                    assert!(
                        c.bytes == 0 || ends.binary_search(&c.bytes).is_ok(),
                        "{enc} {name}: stopped inside a token"
                    );
                    assert_eq!(
                        c.tokens, within,
                        "{enc} {name} enough {enough} budget {budget}"
                    );
                }
            }
        }
    }
}

#[test]
fn bytes_are_decoded_with_replacement() {
    let t = Tokenizer::shared(Encoding::O200kBase);
    let bytes = b"ok \xff\xfe caf\xc3\xa9 \xed\xa0\x80 \xe4\xb8";
    let text = String::from_utf8_lossy(bytes);
    assert!(text.contains('\u{fffd}'));
    assert_eq!(t.encode_bytes(bytes), t.encode(&text));
}

#[test]
fn special_token_strings_are_ordinary_text() {
    for enc in Encoding::ALL {
        let t = Tokenizer::shared(enc);
        let ids = t.encode("<|endoftext|>");
        assert!(
            ids.len() > 1,
            "{enc}: <|endoftext|> is several ordinary tokens"
        );
        assert!(ids.iter().all(|&i| (i as usize) < t.vocab_size()));
        assert_eq!(t.decode_bytes(&ids).unwrap(), b"<|endoftext|>");
    }
}

#[test]
fn long_runs_round_trip() {
    // A long run of one character is a single pre-token; the merge must stay near-linear.
    for enc in Encoding::ALL {
        let t = Tokenizer::shared(enc);
        for unit in ["a", " ", "\n", "!", "中", "\u{301}", "😀", "7"] {
            let text = unit.repeat(200_000 / unit.len());
            let ids = t.encode(&text);
            assert_eq!(
                t.decode_bytes(&ids).unwrap(),
                text.as_bytes(),
                "{enc} {unit:?}"
            );
        }
    }
}

#[test]
fn edge_cases_match_tiktoken_rs_by_name() {
    let o200k = tiktoken_rs::o200k_base().expect("o200k_base");
    let t = Tokenizer::shared(Encoding::O200kBase);
    for text in corpus::edge_cases() {
        assert_eq!(t.encode(&text), o200k.encode_ordinary(&text), "{text:?}");
    }
}

#[test]
fn long_runs_match_tiktoken_rs() {
    // Long runs take the repeated-unit shortcut; tiktoken-rs merges them whole.
    let refs = [
        (
            Encoding::O200kBase,
            tiktoken_rs::o200k_base().expect("o200k_base"),
        ),
        (
            Encoding::Cl100kBase,
            tiktoken_rs::cl100k_base().expect("cl100k_base"),
        ),
    ];
    for (enc, reference) in &refs {
        let t = Tokenizer::shared(*enc);
        for unit in ["a", " ", "\n", "-", "ab", "中", "😀", "0", "abc", " \n"] {
            for len in [30_001usize, 50_000] {
                let text = unit.repeat(len / unit.len());
                let text = format!("x{text}y");
                assert!(
                    t.encode(&text) == reference.encode_ordinary(&text),
                    "{enc} {unit:?} × {len}"
                );
            }
        }
    }
}

#[test]
fn every_short_string_splits_like_fancy_regex() {
    // Every string of up to 4 symbols over an alphabet with one character of each class the
    // patterns tell apart, against the regex engine.
    let alphabet = [
        "a", "s", "Z", "L", "'", " ", "\n", "\r", "1", "é", "\u{301}", "ʰ", "!", "ǅ", "/", "\u{a0}",
    ];
    for (enc, pattern) in [
        (Encoding::O200kBase, O200K_PATTERN),
        (Encoding::Cl100kBase, CL100K_PATTERN),
    ] {
        let re = fancy_regex::Regex::new(pattern).expect("pattern compiles");
        let t = Tokenizer::shared(enc);
        let k = alphabet.len();
        for len in 1..=4u32 {
            for mut code in 0..k.pow(len) {
                let mut s = String::new();
                for _ in 0..len {
                    s.push_str(alphabet[code % k]);
                    code /= k;
                }
                let want = reference_pieces(&re, &s);
                assert_eq!(t.pre_tokens(&s), want, "{enc} {s:?}");
            }
        }
    }
}
