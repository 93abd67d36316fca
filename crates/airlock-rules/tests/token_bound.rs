//! A proven upper bound on the token count of a text that is not tokenized (issue 14, session 14),
//! held to the exact count. Not used by the check: measured, it does not pay (ARCHITECTURE.md,
//! "A tighter bound on the text not counted, session 14"); it is kept here, with its proof, so a
//! later attempt (a faster scan, a tighter rule) starts from a tested statement.
//!
//! **The bound.** For a text `b` of `L` bytes, call the position `c` (between `b[c-1]` and
//! `b[c]`, `1 <= c < L`) *locked* when `b[c]` is an ASCII lowercase letter, `b[c-1]` is an ASCII
//! letter or a space, the two bytes are one token of the vocabulary, and neither `b[c-2]` nor
//! `b[c-3]` is an apostrophe. Then
//!
//! ```text
//! tokens(b) <= L - sum over maximal runs of consecutive locked positions (m positions each) of floor((m + 1) / 3)
//! ```
//!
//! **Proof.** (1) A locked position is never a pre-tokenizer piece boundary, in either pattern:
//! `b[c-1]` is a letter or a space. A letter is matched only by a letter alternative (the letters,
//! greedy or possessive, take every following letter of the same piece: an ASCII lowercase letter
//! continues any ASCII letter run in both patterns, o200k_base's upper-then-lower included) or by
//! a contraction (`'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`, any case), after which a piece ends
//! inside a run of letters; a contraction ending at `b[c-1]` puts its apostrophe at `c-2` or
//! `c-3` (`ſ`, the only other letter folding to one of them, is not ASCII). A space followed by a
//! letter starts that letter's piece (`[^\r\n\p{L}\p{N}]?` takes it) or, as the last space of a
//! run, is left to it (`\s+(?!\S)` backs off before the last space); no alternative ends a piece
//! on a space followed by a letter. (2) Tokens never cross piece boundaries, and within a piece
//! tiktoken's BPE merges until no two adjacent tokens concatenate to a token (or finds the piece
//! whole, one token); so at a locked position `c` the one-byte tokens `b[c-1]` and `b[c]` are
//! never both present, i.e. the token boundaries `c-1`, `c`, `c+1` are never all three present.
//! (3) The tokens are the token ends among positions `1..=L`. For a run of locked positions
//! `a..=a+m-1`, the `m - 1` windows `{c-1, c, c+1}` for `c` in `a+1..=a+m-1` lie in `a..=a+m`,
//! slide by one, and each lacks a token end: at least `ceil((m - 1) / 3) = floor((m + 1) / 3)`
//! positions of `a..=a+m` are not token ends; the spans `a..=a+m` of different runs are disjoint
//! (a run ends before an unlocked position). Each such position lowers the count below `L`.
//!
//! The bound is additive at piece boundaries (no run crosses one), so the text after a lazy
//! count's stop is bounded by the same sum over its runs. On the bench-worker's English it gives
//! 0.725 tokens a byte (exact: 0.18).
#![cfg(all(feature = "tokenizer", feature = "std"))]

mod support;

use std::collections::HashSet;

use airlock_rules::tokenizer::{Encoding, Tokenizer};
use support::corpus::{self, Rng};

/// The two-byte tokens `[A-Za-z ][a-z]` of `t` (a two-letter or space-letter string is one
/// piece, so it is one token exactly when the vocabulary holds it).
fn pairs(t: &Tokenizer) -> HashSet<[u8; 2]> {
    let firsts = (b'A'..=b'Z').chain(b'a'..=b'z').chain([b' ']);
    let mut out = HashSet::new();
    for x in firsts {
        for y in b'a'..=b'z' {
            let s = String::from_utf8(vec![x, y]).unwrap();
            if t.count(&s) == 1 {
                out.insert([x, y]);
            }
        }
    }
    out
}

fn locked(b: &[u8], c: usize, pairs: &HashSet<[u8; 2]>) -> bool {
    c >= 1
        && c < b.len()
        && b[c].is_ascii_lowercase()
        && (b[c - 1].is_ascii_alphabetic() || b[c - 1] == b' ')
        && pairs.contains(&[b[c - 1], b[c]])
        && !(c >= 2 && b[c - 2] == b'\'')
        && !(c >= 3 && b[c - 3] == b'\'')
}

/// What the bound takes off the length of `b[from..to]` (the runs of locked positions strictly
/// inside it), locked positions judged in the whole of `b`.
fn saving(b: &[u8], from: usize, to: usize, pairs: &HashSet<[u8; 2]>) -> usize {
    let (mut s, mut run) = (0, 0);
    for c in from + 1..to {
        if locked(b, c, pairs) {
            run += 1;
        } else {
            s += (run + 1) / 3;
            run = 0;
        }
    }
    s + (run + 1) / 3
}

fn bound(text: &str, pairs: &HashSet<[u8; 2]>) -> usize {
    text.len() - saving(text.as_bytes(), 0, text.len(), pairs)
}

fn corpus_texts() -> Vec<(String, String)> {
    corpus::corpus()
        .into_iter()
        .map(|(name, bytes)| (name, String::from_utf8_lossy(&bytes).into_owned()))
        .collect()
}

/// Texts that press on the proof: contractions in every case and position, letters whose pairs
/// are not tokens, digits, whitespace runs before letters, CJK, emoji, combining marks.
fn adversarial() -> Vec<String> {
    let mut v: Vec<String> = [
        "don'tx can'tstop I'mok we'llgo they'rehere you'veseen he'dgo it'sall",
        "X'SA x'Sa x'LLy x'ReX x'VEs x'Mx x'Dd 'sa 'lla ''s's's 'ſa x'ſa",
        "bqbqbqbq qzqzqz gkgkgk jvjvjv xgxgxg Bqx Fjord Hhh Jjjj zqzq aaaa",
        "aBcDeFgHiJ ABCdef abcDEF ǅa ǅǅ Ǆǆ MacDonald iPhone",
        "12345678901234567890 1a2b3c a1 1 a  a   a\t a\n a\r\na \u{a0}a \u{3000}a",
        "日本語のテキスト 中文 한국어 🦀🦀🦀 👨‍👩‍👧 e\u{301}e\u{301}a\u{308}b",
        "    indented\n\tcode();\n// comment's here\nlet x = y'z;",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push("ab".repeat(300));
    v.push(" a".repeat(300));
    v.push("a".repeat(1000));
    v.push("x'".repeat(200));
    v.push("'s".repeat(200));
    v.push("9".repeat(500));
    v.push(" ".repeat(300) + "word");
    v
}

/// Random strings over the bytes the bound cares about (letters, space, apostrophe) and a few
/// that break runs; then random bytes of every class, read with replacement.
fn random_texts() -> Vec<String> {
    let mut rng = Rng::new(0x14_7B0D);
    let alphabet: Vec<char> = "abcdefghijklmnopqrstuvwxyzAQZJ '''..,-\n\t0ſé日🦀\u{301}"
        .chars()
        .collect();
    let mut v = Vec::new();
    for _ in 0..300 {
        let n = 1 + rng.below(120);
        v.push((0..n).map(|_| rng.pick(&alphabet)).collect());
    }
    for _ in 0..40 {
        let n = 1 + rng.below(400);
        v.push(String::from_utf8_lossy(&corpus::random_bytes(&mut rng, n)).into_owned());
    }
    v
}

/// Where each token of `text` ends (byte offsets).
fn token_ends(t: &Tokenizer, text: &str) -> Vec<usize> {
    let mut at = 0;
    t.encode(text)
        .iter()
        .map(|&tok| {
            at += t.decode_bytes(&[tok]).unwrap().len();
            at
        })
        .collect()
}

/// Part (1) of the proof: no piece boundary is locked, on the corpus and the hard texts.
#[test]
fn locked_positions_are_never_piece_boundaries() {
    let mut texts: Vec<String> = corpus_texts().into_iter().map(|(_, t)| t).collect();
    texts.extend(adversarial());
    texts.extend(random_texts());
    texts.extend(corpus::edge_cases());
    for e in Encoding::ALL {
        let t = Tokenizer::shared(e);
        let pairs = pairs(t);
        assert!(pairs.len() > 900, "{e}: {} pairs", pairs.len());
        for text in &texts {
            let b = text.as_bytes();
            let mut at = 0;
            for piece in t.pre_tokens(text) {
                at += piece.len();
                assert!(!locked(b, at, &pairs), "{e}: boundary at {at} of {text:?}");
            }
        }
    }
}

/// The bound, piece by piece, on the 2.6 MB corpus: a piece's tokens are at most its length less
/// the runs inside it (judged in the whole text), so every suffix from a piece boundary (where a
/// lazy count stops) is bounded by the same sum.
#[test]
fn the_bound_holds_for_every_piece_of_the_corpus() {
    let mut texts = corpus_texts();
    texts.extend(
        adversarial()
            .into_iter()
            .map(|t| (String::from("adversarial"), t)),
    );
    for e in Encoding::ALL {
        let t = Tokenizer::shared(e);
        let pairs = pairs(t);
        let (mut bytes, mut tokens, mut most) = (0, 0, 0);
        for (name, text) in &texts {
            let b = text.as_bytes();
            let ends = token_ends(t, text);
            let mut k = 0;
            let mut at = 0;
            for piece in t.pre_tokens(text) {
                let end = at + piece.len();
                let from = k;
                while k < ends.len() && ends[k] <= end {
                    k += 1;
                }
                let n = k - from;
                let limit = piece.len() - saving(b, at, end, &pairs);
                assert!(n <= limit, "{e} {name}: {piece:?} at {at}: {n} > {limit}");
                (bytes, tokens, most) = (bytes + piece.len(), tokens + n, most + limit);
                at = end;
            }
            assert_eq!(k, ends.len(), "{e} {name}");
        }
        println!(
            "{e}: {bytes} bytes, {tokens} tokens, bound {most} ({:.3} a byte)",
            most as f64 / bytes as f64
        );
    }
}

/// Every prefix and suffix (at every character boundary) of hard and random texts, each as a text
/// of its own, and random strings whole.
#[test]
fn the_bound_holds_on_every_cut() {
    let mut texts = adversarial();
    texts.push(
        "The quick brown fox jumps over the lazy dog while the committee reviews quarterly figures. "
            .repeat(4),
    );
    texts.push(String::from_utf8_lossy(&corpus::corpus()[0].1[..600]).into_owned());
    for e in Encoding::ALL {
        let t = Tokenizer::shared(e);
        let pairs = pairs(t);
        for text in &texts {
            for p in (0..=text.len()).filter(|&p| text.is_char_boundary(p)) {
                for part in [&text[..p], &text[p..]] {
                    let (n, limit) = (t.count(part), bound(part, &pairs));
                    assert!(n <= limit, "{e}: {part:?}: {n} > {limit}");
                }
            }
        }
        for text in random_texts() {
            let (n, limit) = (t.count(&text), bound(&text, &pairs));
            assert!(n <= limit, "{e}: {text:?}: {n} > {limit}");
        }
    }
}
