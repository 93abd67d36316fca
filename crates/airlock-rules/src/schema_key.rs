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

fn fnv1a(h: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *h ^= u64::from(b);
        *h = h.wrapping_mul(0x0100_0000_01b3);
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

/// The length of `s` as a JSON string, quotes included, escaped as serde_json escapes it.
fn string_len(s: &str) -> usize {
    2 + s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
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
