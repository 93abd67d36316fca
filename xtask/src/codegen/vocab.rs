//! Tokenizer vocabularies: `../shared/data/tokenizers/*.tiktoken` (base64 token, space, rank per
//! line) compacted into committed binary files the rules crate includes with `include_bytes!`.
//!
//! Format of `crates/airlock-rules/src/generated/tokenizer/<name>.bin` (`ATK2`, issue 17's bundle
//! size): the magic `ATK2`, the token count `n` as a little-endian `u32`, then three columns over
//! the tokens in rank order (ranks are 0..count with no gaps, which the generator checks):
//! - `3n` bytes: for each token, 0 or 1 + the rank of the longest earlier token that is a proper
//!   prefix of it, as three byte planes (bits 16–23 of every
//!   token, then bits 8–15, then bits 0–7);
//! - `n` bytes: the length of each token's suffix after that prefix;
//! - the suffixes, concatenated.
//!
//! The rules crate decodes it once per process (`tokenizer/vocab_file.rs`) into the plain layout
//! `ATK1` (the count, then each token as a one-byte length and its bytes), which this generator
//! also builds (`compact`) and checks the decoding against. Split into columns and coded against
//! a prefix, the two vocabularies gzip to about 260 KB less than `ATK1` does: most of a BPE token
//! is an earlier token. Binary files are written or
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

/// `ATK1` (see [`compact`]) coded as `ATK2` (the module doc).
pub fn encode(atk1: &[u8]) -> Result<Vec<u8>, String> {
    let toks = tokens(atk1)?;
    let n = toks.len();
    let mut refs = vec![0u32; n];
    let mut suffix_len = Vec::with_capacity(n);
    let mut suffixes = Vec::new();
    let mut rank_of: std::collections::HashMap<&[u8], u32> = std::collections::HashMap::new();
    for (r, t) in toks.iter().enumerate() {
        let mut cut = 0;
        for k in (1..t.len()).rev() {
            if let Some(&p) = rank_of.get(&t[..k]) {
                refs[r] = p + 1;
                cut = k;
                break;
            }
        }
        suffix_len.push(u8::try_from(t.len() - cut).map_err(|_| "token too long")?);
        suffixes.extend_from_slice(&t[cut..]);
        rank_of.entry(t).or_insert(r as u32);
    }
    if refs.iter().any(|&x| x >= 1 << 24) {
        return Err("more than 2^24 tokens".into());
    }
    let mut out = b"ATK2".to_vec();
    out.extend_from_slice(&(n as u32).to_le_bytes());
    for shift in [16, 8, 0] {
        out.extend(refs.iter().map(|&x| (x >> shift) as u8));
    }
    out.extend_from_slice(&suffix_len);
    out.extend_from_slice(&suffixes);
    Ok(out)
}

/// The tokens of an `ATK1` file, in rank order.
fn tokens(atk1: &[u8]) -> Result<Vec<&[u8]>, String> {
    if atk1.len() < 8 || &atk1[..4] != b"ATK1" {
        return Err("not ATK1".into());
    }
    let n = u32::from_le_bytes([atk1[4], atk1[5], atk1[6], atk1[7]]) as usize;
    let mut out = Vec::with_capacity(n);
    let mut pos = 8;
    for _ in 0..n {
        let len = *atk1.get(pos).ok_or("ATK1 cut")? as usize;
        out.push(atk1.get(pos + 1..pos + 1 + len).ok_or("ATK1 cut")?);
        pos += 1 + len;
    }
    Ok(out)
}

/// `ATK2` back to `ATK1`: the same steps as the rules crate's `tokenizer/vocab_file.rs`, so the
/// generator refuses to write a file that does not decode to the vocabulary.
pub fn decode(atk2: &[u8]) -> Option<Vec<u8>> {
    if atk2.len() < 8 || &atk2[..4] != b"ATK2" {
        return None;
    }
    let n = u32::from_le_bytes([atk2[4], atk2[5], atk2[6], atk2[7]]) as usize;
    let planes = atk2.get(8..8 + 3 * n)?;
    let lens = atk2.get(8 + 3 * n..8 + 4 * n)?;
    let mut suffixes = atk2.get(8 + 4 * n..)?;
    let mut out = b"ATK1".to_vec();
    out.extend_from_slice(&(n as u32).to_le_bytes());
    let mut starts: Vec<(usize, usize)> = Vec::with_capacity(n);
    for r in 0..n {
        let x = (usize::from(planes[r]) << 16)
            | (usize::from(planes[n + r]) << 8)
            | usize::from(planes[2 * n + r]);
        let prefix = match x {
            0 => (0, 0),
            x => *starts.get(x - 1)?,
        };
        let suffix_len = usize::from(lens[r]);
        let len = prefix.1 + suffix_len;
        out.push(u8::try_from(len).ok()?);
        let start = out.len();
        out.extend_from_within(prefix.0..prefix.0 + prefix.1);
        out.extend_from_slice(suffixes.get(..suffix_len)?);
        suffixes = &suffixes[suffix_len..];
        starts.push((start, len));
    }
    suffixes.is_empty().then_some(out)
}

/// Writes (or with `check`, compares) the compact vocabularies; `Err` lists stale files.
pub fn run(data: &Path, root: &Path, check: bool) -> Result<(), String> {
    let mut stale = Vec::new();
    for name in ENCODINGS {
        let src = data.join("tokenizers").join(format!("{name}.tiktoken"));
        let text = std::fs::read_to_string(&src).map_err(|e| format!("{}: {e}", src.display()))?;
        let plain = compact(&text)?;
        let bin = encode(&plain)?;
        if decode(&bin).as_deref() != Some(&plain[..]) {
            return Err(format!("{name}: ATK2 does not decode to the vocabulary"));
        }
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
    fn atk2_round_trips() {
        let text = "YQ== 0\nYg== 1\nYWI= 2\nYWJh 3\nYmFi 4\n";
        let plain = super::compact(text).unwrap();
        let coded = super::encode(&plain).unwrap();
        assert_eq!(super::decode(&coded).unwrap(), plain);
    }

    #[test]
    fn base64_decodes() {
        assert_eq!(super::b64("IQ==").unwrap(), b"!");
        assert_eq!(super::b64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(super::b64("4oCU").unwrap(), "\u{2014}".as_bytes());
    }
}
