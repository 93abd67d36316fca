//! Tokenizer vocabularies: `../shared/data/tokenizers/*.tiktoken` (base64 token, space, rank per
//! line) compacted into committed binary files the rules crate includes with `include_bytes!`.
//!
//! Format of `crates/airlock-rules/src/generated/tokenizer/<name>.bin`: the magic `ATK1`, the token count as a
//! little-endian `u32`, then each token in rank order (ranks are 0..count with no gaps, which the
//! generator checks) as a one-byte length followed by its bytes. Binary files are written or
//! checked here rather than through `codegen::Output`, which holds text. The tokenizer's files sit
//! in `generated/tokenizer/`, so they are not `generated/` modules: the tokenizer includes them
//! itself, behind its feature.

use std::path::{Path, PathBuf};

/// The vocabularies compiled into the rules crate.
pub const ENCODINGS: &[&str] = &["o200k_base", "cl100k_base"];

fn b64(s: &str) -> Result<Vec<u8>, String> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let s = s.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in s {
        acc = (acc << 6) | val(c).ok_or_else(|| format!("bad base64 {:?}", c as char))?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

/// Compacts one `.tiktoken` file.
pub fn compact(text: &str) -> Result<Vec<u8>, String> {
    let mut out = b"ATK1\0\0\0\0".to_vec();
    let mut n = 0u32;
    for (i, line) in text.lines().enumerate() {
        let (tok, rank) = line
            .split_once(' ')
            .ok_or_else(|| format!("line {}: no rank", i + 1))?;
        let rank: u32 = rank
            .trim()
            .parse()
            .map_err(|e| format!("line {}: {e}", i + 1))?;
        if rank != n {
            return Err(format!("line {}: rank {rank}, expected {n}", i + 1));
        }
        let bytes = b64(tok)?;
        let len =
            u8::try_from(bytes.len()).map_err(|_| format!("line {}: token too long", i + 1))?;
        if len == 0 {
            return Err(format!("line {}: empty token", i + 1));
        }
        out.push(len);
        out.extend_from_slice(&bytes);
        n += 1;
    }
    out[4..8].copy_from_slice(&n.to_le_bytes());
    Ok(out)
}

/// Writes (or with `check`, compares) the compact vocabularies; `Err` lists stale files.
pub fn run(data: &Path, root: &Path, check: bool) -> Result<(), String> {
    let mut stale = Vec::new();
    for name in ENCODINGS {
        let src = data.join("tokenizers").join(format!("{name}.tiktoken"));
        let text = std::fs::read_to_string(&src).map_err(|e| format!("{}: {e}", src.display()))?;
        let bin = compact(&text)?;
        let rel = PathBuf::from(format!(
            "crates/airlock-rules/src/generated/tokenizer/{name}.bin"
        ));
        let path = root.join(&rel);
        if std::fs::read(&path).ok().as_deref() == Some(&bin[..]) {
            continue;
        }
        if check {
            stale.push(rel.display().to_string());
        } else {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            std::fs::write(&path, &bin).map_err(|e| format!("{}: {e}", path.display()))?;
            println!("codegen: wrote {}", rel.display());
        }
    }
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "stale generated files (run `cargo xtask codegen`): {}",
            stale.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_decodes() {
        assert_eq!(super::b64("IQ==").unwrap(), b"!");
        assert_eq!(super::b64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(super::b64("4oCU").unwrap(), "\u{2014}".as_bytes());
    }
}
