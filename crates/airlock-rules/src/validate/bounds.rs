//! What one check may cost: the bounds on a body a stranger sends, and the pre-scan that measures
//! a body before `serde_json` builds it.
//!
//! A body over a bound is never rejected for its size: it is forwarded, with a `check_bounds`
//! warning and [`Verdict::partly_checked`](super::Verdict::partly_checked) naming the bound.

use serde::Serialize;

/// The most JSON values (objects, arrays, strings, numbers, literals; keys not counted) in a body
/// that is parsed and checked.
///
/// Measured (x86_64, release): a parsed `serde_json::Value` costs about 106 bytes per object
/// member (key string, value, B-tree slot) and 34–56 bytes per array element (vector growth
/// included); wasm32 has half-size pointers, so less. The largest body of `tests/requests/` has
/// 15,028 values; a 300,000-token embeddings request of token arrays (OpenAI's per-request
/// maximum) has about 302,000. 400,000 one-digit strings took 17.2 MB at the peak of a check
/// ([`MAX_JSON_MEMORY`] bounds the costlier shapes), against the 128 MB of a Workers isolate.
/// One million keys (8.9 MB), the body that grew workerd by 282 MB, is far over.
pub const MAX_JSON_NODES: u64 = 400_000;

/// The most object keys in a body that is parsed and checked: 100,000 members are ~10.6 MB
/// parsed (above); the largest body of `tests/requests/` has 10,024 keys (a strict schema with
/// 5,001 properties). Also bounds the rules that walk every key.
pub const MAX_JSON_KEYS: u64 = 100_000;

/// The most memory the parsed body may take, as [`Scan::memory`] estimates it from the counts:
/// 700 bytes an object, 110 a key, 60 a value. Measured (x86_64, release, peak of a whole check,
/// against the estimate): 25,000 objects of one key each 16.9 MB (estimated 23.3 MB), 50,000 of
/// them 33.7 MB (~675 bytes an object: a B-tree leaf of 11 slots); 400,000 one-digit strings
/// 17.2 MB (24.0 MB); 100,000 keys with empty objects and 200,000 numbers 19.0 MB (99 MB). The
/// estimate was above the peak each time, so a body within this bound stays under ~24 MB on x86_64
/// (wasm32 has half-size pointers), where [`MAX_JSON_NODES`] and [`MAX_JSON_KEYS`] alone would let
/// 99,000 one-key objects take ~67 MB.
pub const MAX_JSON_MEMORY: u64 = 24 * 1024 * 1024;

/// The deepest nesting of objects and arrays that is parsed: what `serde_json`'s own recursion
/// limit (128) lets through, so a body nested deeper, which it could not parse at all, is passed
/// with the same `check_bounds` warning as the other bounds.
pub const MAX_JSON_DEPTH: u64 = 127;

/// The most tokenizing the `context_length` rule may do, in bytes merged: a byte of a pre-tokenizer
/// piece that is merged costs 1, 2 in a piece longer than 48 bytes (merged with a heap), 1/8 in a
/// piece found whole in the vocabulary or the memo of recent pieces; a piece over 64 KiB is never
/// tokenized (see [`Tokenizer::count_within`](crate::tokenizer::Tokenizer::count_within)). Text
/// past the bound is not tokenized: it holds between `ceil(bytes / 128)` and `bytes` tokens, and
/// the rule rejects only when even the least is over the window.
///
/// Measured (x86_64, release, o200k_base, on a machine shared with other builds): merging random
/// letters costs 47–76 ns a byte in pieces of up to 48 bytes, 85–155 ns in longer ones, so a unit
/// costs at most ~78 ns and 256 Ki units ~20 ms; a check of 9 MB of random words spent 45 ms
/// tokenizing 512 KiB, where tokenizing the 9 MB took 1.1–1.3 s in workerd. Repeated English
/// words take ~4 ns a byte (an eighth of a unit: ~2 MiB, ~480,000 tokens, within the bound);
/// 256 KiB of never-seen random words is ~150,000 tokens, so a request over GPT-4o's 128,000 is
/// still rejected.
pub const MAX_TOKENIZE_COST: u64 = 256 * 1024;

/// The most findings of each kind (errors, warnings) kept in one verdict; the rules that report
/// one finding per key or item stop there (one million unknown parameters made one million
/// warnings: 361 MB and 9 s).
pub const MAX_FINDINGS: usize = 100;

/// What one check may cost. [`Bounds::default`] is the constants of this module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// [`MAX_JSON_NODES`].
    pub json_nodes: u64,
    /// [`MAX_JSON_KEYS`].
    pub json_keys: u64,
    /// [`MAX_JSON_DEPTH`].
    pub json_depth: u64,
    /// [`MAX_JSON_MEMORY`].
    pub json_memory: u64,
    /// [`MAX_TOKENIZE_COST`].
    pub tokenize_cost: u64,
    /// [`MAX_FINDINGS`].
    pub findings: usize,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            json_nodes: MAX_JSON_NODES,
            json_keys: MAX_JSON_KEYS,
            json_depth: MAX_JSON_DEPTH,
            json_memory: MAX_JSON_MEMORY,
            tokenize_cost: MAX_TOKENIZE_COST,
            findings: MAX_FINDINGS,
        }
    }
}

/// The bound a check reached, which left the request partly checked.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Bound {
    /// `json_nodes`, `json_keys`, `json_depth`, `json_memory`, `tokenize_cost` or `findings`.
    pub name: &'static str,
    /// The bound.
    pub limit: u64,
    /// What the body has (for `tokenize_cost`, the bytes of text to count; for `findings`, the
    /// findings made or skipped).
    pub seen: u64,
}

/// What [`scan`] measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// JSON values (keys not counted).
    pub nodes: u64,
    /// Object keys.
    pub keys: u64,
    /// Objects.
    pub objects: u64,
    /// The deepest nesting of objects and arrays.
    pub depth: u64,
    /// The longest string, in bytes as written (escapes included).
    pub longest_string: u64,
}

impl Scan {
    /// The memory the parsed body is estimated to take, in bytes (see [`MAX_JSON_MEMORY`]).
    pub fn memory(&self) -> u64 {
        self.objects * 700 + self.keys * 110 + self.nodes * 60
    }
}

impl Bounds {
    /// The first bound `scan` is over, if any.
    pub fn exceeded(&self, scan: &Scan) -> Option<Bound> {
        [
            ("json_depth", self.json_depth, scan.depth),
            ("json_nodes", self.json_nodes, scan.nodes),
            ("json_keys", self.json_keys, scan.keys),
            ("json_memory", self.json_memory, scan.memory()),
        ]
        .into_iter()
        .find(|(_, limit, seen)| seen > limit)
        .map(|(name, limit, seen)| Bound { name, limit, seen })
    }
}

/// Measures a JSON body in one pass with O(1) memory: values, keys, depth, longest string. It does
/// not validate (`serde_json` does, after): on a body that is not JSON the numbers mean little.
///
/// # Example
/// ```
/// use airlock_rules::validate::bounds::scan;
/// let s = scan(br#"{"a": [1, "x\"y", true, null], "b": {"c": -2.5e3}}"#);
/// assert_eq!((s.nodes, s.keys, s.objects, s.depth, s.longest_string), (8, 3, 2, 2, 4));
/// ```
pub fn scan(body: &[u8]) -> Scan {
    let mut s = Scan::default();
    let (mut depth, mut values, mut in_scalar) = (0u64, 0u64, false);
    let n = body.len();
    let mut i = 0;
    while i < n {
        match body[i] {
            b'"' => {
                in_scalar = false;
                values += 1;
                // To the closing quote, skipping escaped characters.
                let start = i + 1;
                let mut j = start;
                while j < n {
                    match quote_or_backslash(&body[j..]) {
                        None => j = n,
                        Some(p) if body[j + p] == b'\\' => j += p + 2,
                        Some(p) => {
                            j += p;
                            break;
                        }
                    }
                }
                let end = j.min(n);
                s.longest_string = s.longest_string.max((end - start) as u64);
                i = end + 1;
                continue;
            }
            b'{' | b'[' => {
                s.objects += u64::from(body[i] == b'{');
                in_scalar = false;
                values += 1;
                depth += 1;
                s.depth = s.depth.max(depth);
            }
            b'}' | b']' => {
                in_scalar = false;
                depth = depth.saturating_sub(1);
            }
            b':' => {
                in_scalar = false;
                s.keys += 1;
            }
            b',' | b' ' | b'\t' | b'\n' | b'\r' => in_scalar = false,
            _ => {
                if !in_scalar {
                    values += 1;
                    in_scalar = true;
                }
            }
        }
        i += 1;
    }
    // Every key was counted as a string value.
    s.nodes = values.saturating_sub(s.keys);
    s
}

/// The first `"` or `\` in `b`, eight bytes at a time (issue 14: a byte loop, not vectorized in
/// wasm, made this scan cost about as much as the parse it guards: ~8 instructions a byte, 13 % of
/// a 126k-token request's check natively). The zero-byte test `(x - 0x01…) & !x & 0x80…` on the
/// word XOR each needle sets the high bit of the first matching byte (a borrow can only mark bytes
/// after a true match), so the lowest set bit, little-endian, is the first match in memory.
fn quote_or_backslash(b: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const QUOTE: u64 = LO * b'"' as u64;
    const BACKSLASH: u64 = LO * b'\\' as u64;
    let mut words = b.chunks_exact(8);
    let mut at = 0;
    for w in &mut words {
        let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        let (q, s) = (w ^ QUOTE, w ^ BACKSLASH);
        let hit = (q.wrapping_sub(LO) & !q | s.wrapping_sub(LO) & !s) & HI;
        if hit != 0 {
            return Some(at + (hit.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&c| c == b'"' || c == b'\\')
        .map(|p| at + p)
}

#[cfg(test)]
mod tests {
    use alloc::string::String;
    use alloc::vec::Vec;

    use super::*;

    #[test]
    fn quote_or_backslash_is_the_first_one() {
        // Every placement of the two needles (and bytes that differ from them by one bit, and
        // 0x80/0xFF bytes that a zero-byte test can confuse) in strings of up to 24 bytes.
        let alphabet = [
            b'"',
            b'\\',
            b'a',
            b'#',
            b'\x22' ^ 1,
            b'\x5C' ^ 0x80,
            0x00,
            0xFF,
            0x80,
        ];
        let mut x: u64 = 7;
        for len in 0..=24 {
            for _ in 0..4000 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        x = x
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        // Mostly filler, so matches fall at every offset.
                        let r = (x >> 33) as usize;
                        if r % 5 == 0 {
                            alphabet[r / 5 % 2]
                        } else {
                            alphabet[2 + r / 5 % 7]
                        }
                    })
                    .collect();
                let want = bytes.iter().position(|&c| c == b'"' || c == b'\\');
                assert_eq!(quote_or_backslash(&bytes), want, "{bytes:?}");
            }
        }
    }

    fn nested(depth: usize) -> String {
        let mut s = "[".repeat(depth);
        s.push_str(&"]".repeat(depth));
        s
    }

    #[test]
    fn depth_bound_is_serde_jsons_own() {
        let depth = MAX_JSON_DEPTH as usize;
        assert!(serde_json::from_str::<serde_json::Value>(&nested(depth)).is_ok());
        assert!(serde_json::from_str::<serde_json::Value>(&nested(depth + 1)).is_err());
        assert_eq!(scan(nested(depth).as_bytes()).depth, MAX_JSON_DEPTH);
    }

    #[test]
    fn counts_match_the_parsed_value() {
        let body = br#" { "model" : "gpt-4o", "messages": [{"role": "user", "content": "a \\\" b:{[,"}],
            "n": 1, "x": [true, false, null, -1.5E+3, {}, []], "k\"ey": {"nested": {"deep": [[1]]}} } "#;
        let v: serde_json::Value = serde_json::from_slice(body).unwrap();
        fn walk(v: &serde_json::Value, d: u64, out: &mut (u64, u64, u64, u64)) {
            out.0 += 1;
            match v {
                serde_json::Value::Object(m) => {
                    out.3 += 1;
                    out.1 += m.len() as u64;
                    out.2 = out.2.max(d + 1);
                    m.values().for_each(|x| walk(x, d + 1, out));
                }
                serde_json::Value::Array(a) => {
                    out.2 = out.2.max(d + 1);
                    a.iter().for_each(|x| walk(x, d + 1, out));
                }
                _ => {}
            }
        }
        let mut want = (0, 0, 0, 0);
        walk(&v, 0, &mut want);
        let s = scan(body);
        assert_eq!((s.nodes, s.keys, s.depth, s.objects), want);
    }

    #[test]
    fn an_unclosed_string_ends_the_scan() {
        let s = scan(br#"{"a": "abc\"#);
        assert_eq!((s.keys, s.longest_string), (1, 4));
    }
}
