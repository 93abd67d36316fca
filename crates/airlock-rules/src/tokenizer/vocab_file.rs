//! The committed vocabulary files (`ATK2`, see `xtask/src/codegen/vocab.rs`) decoded into the
//! plain layout [`Vocab`](super::vocab::Vocab) reads (`ATK1`: the count, then each token in rank
//! order as a one-byte length and its bytes).
//!
//! `ATK2` stores each token as the rank of its longest earlier prefix plus a suffix, in byte
//! columns: it gzips about 260 KB smaller than `ATK1` for the two vocabularies, which keeps the
//! worker bundle under 3 MB. Decoding is one pass of copies when a tokenizer is built (the
//! vocabulary's index is built then too); the tokenizer owns the plain bytes.

use alloc::vec::Vec;

/// `ATK2` to `ATK1`, or `None` when `atk2` is not well formed.
pub(crate) fn decode(atk2: &[u8]) -> Option<Vec<u8>> {
    if atk2.len() < 8 || &atk2[..4] != b"ATK2" {
        return None;
    }
    let n = u32::from_le_bytes([atk2[4], atk2[5], atk2[6], atk2[7]]) as usize;
    let planes = atk2.get(8..8 + 3 * n)?;
    let lens = atk2.get(8 + 3 * n..8 + 4 * n)?;
    let mut suffixes = atk2.get(8 + 4 * n..)?;
    let (hi, rest) = planes.split_at(n);
    let (mid, lo) = rest.split_at(n);
    let mut out = Vec::with_capacity(8 + n + (atk2.len() - 8) * 2);
    out.extend_from_slice(b"ATK1");
    out.extend_from_slice(&(n as u32).to_le_bytes());
    // (start, length) of every token decoded so far, for the prefixes that name it.
    let mut spans: Vec<(u32, u8)> = Vec::with_capacity(n);
    for r in 0..n {
        let x = (usize::from(hi[r]) << 16) | (usize::from(mid[r]) << 8) | usize::from(lo[r]);
        let (start, len) = match x {
            0 => (0, 0),
            x => {
                let &(s, l) = spans.get(x - 1)?;
                (s as usize, usize::from(l))
            }
        };
        let suffix_len = usize::from(lens[r]);
        let total = u8::try_from(len + suffix_len).ok()?;
        out.push(total);
        let at = out.len();
        out.extend_from_within(start..start + len);
        out.extend_from_slice(suffixes.get(..suffix_len)?);
        suffixes = &suffixes[suffix_len..];
        spans.push((u32::try_from(at).ok()?, total));
    }
    suffixes.is_empty().then_some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn malformed_files_do_not_decode() {
        assert_eq!(super::decode(b"ATK1\0\0\0\0"), None);
        // One token whose prefix names a rank not decoded yet.
        assert_eq!(super::decode(b"ATK2\x01\0\0\0\0\0\x05\x01a"), None);
        // A suffix longer than what is left.
        assert_eq!(super::decode(b"ATK2\x01\0\0\0\0\0\0\x02a"), None);
        // Two tokens: "a", then "a" + "b".
        assert_eq!(
            super::decode(b"ATK2\x02\0\0\0\0\0\0\0\0\x01\x01\x01ab").unwrap(),
            b"ATK1\x02\0\0\0\x01a\x02ab"
        );
    }
}
