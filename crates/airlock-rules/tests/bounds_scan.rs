//! Issue 14: `bounds::scan` finds a string's end eight bytes at a time. It must measure every
//! body exactly as the byte loop it replaced did (kept here as the reference), so no verdict
//! moves: every body of `tests/requests/`, and bodies cut at every length (unclosed strings,
//! an escape as the last byte).

use airlock_rules::validate::bounds::{Scan, scan};

/// The scan as it was before (fbfc67e), byte by byte.
fn reference(body: &[u8]) -> Scan {
    let mut s = Scan::default();
    let (mut depth, mut values, mut in_scalar) = (0u64, 0u64, false);
    let n = body.len();
    let mut i = 0;
    while i < n {
        match body[i] {
            b'"' => {
                in_scalar = false;
                values += 1;
                let start = i + 1;
                let mut j = start;
                while j < n {
                    match body[j..].iter().position(|&b| b == b'"' || b == b'\\') {
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
    s.nodes = values.saturating_sub(s.keys);
    s
}

#[path = "support/request_bodies.rs"]
mod request_bodies;

#[test]
fn every_corpus_body_measures_as_before() {
    let files = request_bodies::all();
    assert!(files.len() > 1000, "only {} bodies", files.len());
    for path in &files {
        let body = std::fs::read(path).unwrap();
        assert_eq!(scan(&body), reference(&body), "{}", path.display());
    }
}

#[test]
fn cut_bodies_measure_as_before() {
    let body = br#"{"a": "x\\\"y\u00e9 long enough to span words \\", "b": ["\\", "\"", "", "12345678\\"], "c": {"d": "ends \\"#;
    for len in 0..=body.len() {
        assert_eq!(scan(&body[..len]), reference(&body[..len]), "{len}");
    }
}
