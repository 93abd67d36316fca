//! A parsed JSON value's cache key: a 64-bit FNV-1a hash of its structure and the length of its
//! compact JSON text, from one walk and without writing the text out (issue 17). Shared by the
//! caches keyed on a schema (`ValidatorCache`, `validate::SchemaLintCache`), each of which
//! compares the value in full on a key match, so a hash collision never shares an entry; and
//! the bounded, least-recently-used store both keep their entries in ([`Bounded`]).

use alloc::vec::Vec;

use serde_json::Value;

/// `v`'s structural hash and the length of its compact JSON text (`serde_json::to_string(v)`'s
/// length, tested equal).
pub(crate) fn key(v: &Value) -> (u64, usize) {
    let mut hash = FNV_OFFSET;
    let len = walk(v, &mut hash);
    (hash, len)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// Feeds `bytes` to the hash `h`: eight bytes at a time (FNV-1a's step on a word, with a
/// rotation so a word's high bytes reach the low bits), the rest a byte at a time (issue 17: the
/// byte loop was most of a cache lookup's walk). Only the caches' own lookups read the hash, and
/// they compare the value in full on a match, so its quality costs at most a comparison.
fn fnv1a(h: &mut u64, bytes: &[u8]) {
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        *h = (*h ^ w).wrapping_mul(FNV_PRIME).rotate_left(23);
    }
    for &b in words.remainder() {
        *h ^= u64::from(b);
        *h = h.wrapping_mul(FNV_PRIME);
    }
}

/// Feeds `v`'s structure to the hash `h` and returns the length of its compact JSON text
/// (`serde_json::to_string(v)`'s length, tested equal) without writing the text.
fn walk(v: &Value, h: &mut u64) -> usize {
    match v {
        Value::Null => {
            fnv1a(h, b"n");
            4
        }
        Value::Bool(b) => {
            fnv1a(h, if *b { b"t" } else { b"f" });
            if *b { 4 } else { 5 }
        }
        Value::Number(n) => {
            // serde_json writes a number as its `Display` does (itoa, ryu).
            let mut w = Hashing { h, len: 0 };
            let _ = core::fmt::write(&mut w, format_args!("{n}"));
            w.len
        }
        Value::String(s) => {
            fnv1a(h, b"\"");
            fnv1a(h, s.as_bytes());
            fnv1a(h, b"\"");
            string_len(s)
        }
        Value::Array(items) => {
            fnv1a(h, b"[");
            let mut len = 2 + items.len().saturating_sub(1);
            for item in items {
                len += walk(item, h);
                fnv1a(h, b",");
            }
            len
        }
        Value::Object(map) => {
            fnv1a(h, b"{");
            let mut len = 2 + map.len().saturating_sub(1);
            for (k, item) in map {
                fnv1a(h, k.as_bytes());
                fnv1a(h, b":");
                len += string_len(k) + 1 + walk(item, h);
                fnv1a(h, b",");
            }
            len
        }
    }
}

/// The length of `s` as a JSON string, quotes included, escaped as serde_json escapes it. Eight
/// bytes at a time (the last few padded with a plain byte): a word with no control byte, quote
/// or backslash adds its length (issue 17: the byte loop was a third of a cache lookup's walk).
#[inline]
fn string_len(s: &str) -> usize {
    let mut words = s.as_bytes().chunks_exact(8);
    let mut len = 2;
    for w in &mut words {
        len += word_len(w);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        len += word_len(rest);
    }
    len
}

/// The escaped length of at most eight bytes.
#[inline]
fn word_len(w: &[u8]) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const QUOTE: u64 = LO * b'"' as u64;
    const BACKSLASH: u64 = LO * b'\\' as u64;
    let mut padded = [b'a'; 8];
    padded[..w.len()].copy_from_slice(w);
    let x = u64::from_le_bytes(padded);
    let (q, b) = (x ^ QUOTE, x ^ BACKSLASH);
    // A byte below 0x20, a quote or a backslash somewhere in the word (exact for "any").
    let special =
        (x.wrapping_sub(LO * 0x20) & !x | q.wrapping_sub(LO) & !q | b.wrapping_sub(LO) & !b) & HI;
    if special == 0 {
        return w.len();
    }
    w.iter()
        .map(|&c| match c {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum()
}

/// A `fmt::Write` that hashes and counts what is written.
struct Hashing<'a> {
    h: &'a mut u64,
    len: usize,
}

impl core::fmt::Write for Hashing<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        fnv1a(self.h, s.as_bytes());
        self.len += s.len();
        Ok(())
    }
}

/// Entries kept least recently used first out, within a count and a byte bound: the store of
/// `ValidatorCache` and of both halves of `validate::SchemaLintCache`. What an entry counts in
/// bytes is its owner's choice; an entry larger than the whole byte bound is never kept.
pub(crate) struct Bounded<E> {
    /// Each entry with the bytes it counts and when it was last used.
    entries: Vec<(E, usize, u64)>,
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
}

impl<E> Bounded<E> {
    pub(crate) const fn new(max_entries: usize, max_bytes: usize) -> Self {
        Bounded {
            entries: Vec::new(),
            bytes: 0,
            max_entries,
            max_bytes,
        }
    }

    /// How many entries are kept.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The bytes the kept entries count.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// The first entry `is` accepts, marked used at `tick`.
    pub(crate) fn find(&mut self, tick: u64, mut is: impl FnMut(&E) -> bool) -> Option<&E> {
        let (e, _, used) = self.entries.iter_mut().find(|(e, _, _)| is(e))?;
        *used = tick;
        Some(e)
    }

    /// Keeps `e`, counting `bytes`, unless it alone is over the byte bound; the least recently
    /// used entries are dropped first to make room.
    pub(crate) fn insert(&mut self, tick: u64, e: E, bytes: usize) {
        if bytes > self.max_bytes {
            return;
        }
        while !self.entries.is_empty()
            && (self.entries.len() >= self.max_entries || self.bytes + bytes > self.max_bytes)
        {
            let Some((i, _)) = self
                .entries
                .iter()
                .enumerate()
                .min_by_key(|(_, (_, _, used))| *used)
            else {
                break;
            };
            let (_, freed, _) = self.entries.swap_remove(i);
            self.bytes -= freed;
        }
        self.bytes += bytes;
        self.entries.push((e, bytes, tick));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The word-at-a-time length equals serde_json's on strings with every escaped byte (and
    /// near misses: 0x20, 0x7f, bytes of a multi-byte character) at every offset of the words.
    #[test]
    fn string_len_is_serde_jsons_at_every_offset() {
        let alphabet = [
            "a", "\"", "\\", "\n", "\r", "\t", "\u{8}", "\u{c}", "\u{0}", "\u{1f}", " ", "!", "#",
            "[", "]", "\u{7f}", "é", "✓", "🦀",
        ];
        let mut x: u64 = 11;
        let mut n = 0;
        for len in 0..=26 {
            for _ in 0..600 {
                let mut s = alloc::string::String::new();
                for _ in 0..len {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let r = (x >> 33) as usize;
                    // Mostly plain bytes, so a special one falls alone in a word too.
                    s.push_str(if r % 3 == 0 {
                        alphabet[r / 3 % alphabet.len()]
                    } else {
                        "a"
                    });
                }
                assert_eq!(
                    string_len(&s),
                    serde_json::to_string(&s).unwrap().len(),
                    "{s:?}"
                );
                n += 1;
            }
        }
        assert!(n > 10_000);
    }

    /// Equal values give equal keys; values that differ in one byte of a long string, in a
    /// word's high byte, or in where a string ends, give different ones here.
    #[test]
    fn the_key_tells_these_values_apart() {
        let same_a: Value = serde_json::from_str(r#"{"b": [1, "xyz"], "a": {"c": null}}"#).unwrap();
        let same_b = json!({"a": {"c": null}, "b": [1, "xyz"]});
        assert_eq!(key(&same_a), key(&same_b));
        let values = [
            json!("abcdefgh"),
            json!("abcdefgi"),
            json!("bbcdefgh"),
            json!("abcdefghabcdefgh"),
            json!("abcdefghabcdefgi"),
            json!(["abcd", "efgh"]),
            json!(["abcde", "fgh"]),
            json!({"abcdefgh": "x"}),
            json!({"abcdefgh": "y"}),
        ];
        for (i, a) in values.iter().enumerate() {
            for b in &values[i + 1..] {
                assert_ne!(key(a).0, key(b).0, "{a} {b}");
            }
        }
    }

    #[test]
    fn the_walk_measures_the_compact_text_exactly() {
        let values = [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(-17),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1.5),
            json!(-0.0),
            json!(1e300),
            json!(2.5e-8),
            json!(""),
            json!("plain"),
            json!("q\"b\\n\nr\rt\tb\u{8}f\u{c}c\u{1}d\u{1f}e\u{7f}"),
            json!("héllo ✓ 🦀"),
            json!([]),
            json!([1]),
            json!([1, [2, []], {}]),
            json!({}),
            json!({"a": 1}),
            json!({"k\"ey": {"nested": [null, "x", 3.25]}, "b": false}),
            json!({"type": "object", "properties": {"n": {"type": "integer", "maximum": 7}}}),
        ];
        for v in &values {
            let mut h = FNV_OFFSET;
            assert_eq!(
                walk(v, &mut h),
                serde_json::to_string(v).unwrap().len(),
                "{v}"
            );
        }
    }
}
