//! A parsed JSON value's cache key: a 64-bit FNV-1a hash of its structure and the length of its
//! compact JSON text, from one walk and without writing the text out (issue 17). Shared by the
//! caches keyed on a schema (`ValidatorCache`, `validate::SchemaLintCache`), each of which
//! compares the value in full on a key match, so a hash collision never shares an entry.

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
