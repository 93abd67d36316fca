//! OpenAI's ways of writing values and lists in error messages.

use alloc::format;
use alloc::string::{String, ToString};

use serde_json::Value;

/// A value as it was sent (`0.5`, `3`, `'x'` for strings is left to the caller).
pub(crate) fn fmt_number(v: &Value) -> String {
    v.to_string()
}

/// True for a finite number with no fractional part (no_std has no `f64::fract`).
pub(crate) fn is_integral(x: f64) -> bool {
    if !x.is_finite() {
        return false;
    }
    if x >= 9.0e15 || x <= -9.0e15 {
        return true; // every double this large is an integer
    }
    (x as i64) as f64 == x
}

/// A bound from the spec: `2` rather than `2.0`.
pub(crate) fn fmt_limit(x: f64) -> String {
    if is_integral(x) && x < 1e15 && x > -1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// `'a'`, `'a' and 'b'`, `'a', 'b', and 'c'`: OpenAI's list of supported values.
pub(crate) fn quote_list(values: &[&str]) -> String {
    let mut out = String::new();
    let n = values.len();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push_str(if n == 2 {
                " and "
            } else if i == n - 1 {
                ", and "
            } else {
                ", "
            });
        }
        out.push('\'');
        out.push_str(v);
        out.push('\'');
    }
    out
}

/// The Levenshtein distance between two short names, or `None` past `limit`.
pub(crate) fn edit_distance(a: &str, b: &str, limit: usize) -> Option<usize> {
    let a: alloc::vec::Vec<char> = a.chars().collect();
    let b: alloc::vec::Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let mut prev: alloc::vec::Vec<usize> = (0..=b.len()).collect();
    let mut cur = alloc::vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        core::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= limit).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_like_openai() {
        assert_eq!(quote_list(&["a"]), "'a'");
        assert_eq!(quote_list(&["a", "b"]), "'a' and 'b'");
        assert_eq!(quote_list(&["a", "b", "c"]), "'a', 'b', and 'c'");
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("max_token", "max_tokens", 2), Some(1));
        assert_eq!(edit_distance("temprature", "temperature", 2), Some(1));
        assert_eq!(edit_distance("foo", "temperature", 2), None);
        assert_eq!(fmt_limit(2.0), "2");
        assert_eq!(fmt_limit(0.25), "0.25");
        let _ = "x".to_string();
    }
}
