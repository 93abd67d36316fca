//! A vocabulary: token bytes by rank (the committed compact file) and a hash index built at set-up.

use alloc::vec;
use alloc::vec::Vec;

/// Token bytes → rank, over a compact vocabulary file (see `xtask/src/codegen/vocab.rs`).
pub(crate) struct Vocab {
    data: Vec<u8>,
    /// Start of each token's bytes in `data` (its length is the byte before).
    starts: Vec<u32>,
    /// Open addressing, keyed by the token's bytes (the first 8 inline); `len == 0` is empty.
    slots: Vec<Slot>,
    mask: usize,
    byte_rank: [u32; 256],
    /// The rank of each two-byte string (`u32::MAX` when it is not a token).
    two: Vec<u32>,
    /// One bit per hash (other bits than the slot index): most strings that are not tokens are
    /// rejected here, in a table small enough to stay in cache, without touching `slots`.
    filter: Vec<u64>,
    filter_mask: u64,
    max_len: usize,
}

impl core::fmt::Debug for Vocab {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Vocab")
            .field("tokens", &self.starts.len())
            .finish()
    }
}

/// A hash slot: the first 8 bytes of the token (little-endian, zero-padded), its rank and length.
#[derive(Clone, Copy, Default)]
struct Slot {
    head: u64,
    rank: u32,
    len: u32,
}

/// The first (up to) 8 bytes of `b`, little-endian, zero-padded.
#[inline(always)]
fn head(b: &[u8]) -> u64 {
    let n = b.len();
    if n >= 8 {
        u64_at(b, 0)
    } else if n >= 4 {
        // Two overlapping loads (no copy through the stack); they agree on the bytes they
        // share, so OR joins them.
        u32_at(b, 0) | (u32_at(b, n - 4) << (8 * (n - 4)))
    } else {
        b.iter()
            .enumerate()
            .fold(0, |w, (i, &c)| w | (u64::from(c) << (8 * i)))
    }
}

const K1: u64 = 0x243f_6a88_85a3_08d3;
const K2: u64 = 0x1319_8a2e_0370_7345;
const K3: u64 = 0xa409_3822_299f_31d1;

/// Mixes two words with 64-bit multiplies only (a 128-bit multiply is slow in wasm).
#[inline(always)]
fn mix(a: u64, b: u64) -> u64 {
    let h = (a ^ K1).wrapping_mul(K2) ^ b.rotate_left(23);
    let h = (h ^ (h >> 29)).wrapping_mul(K3);
    h ^ (h >> 32)
}

#[inline(always)]
fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(w)
}

#[inline(always)]
fn u32_at(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[i..i + 4]);
    u32::from_le_bytes(w) as u64
}

/// A fast hash of a short byte string (tokens are at most a few hundred bytes).
#[inline]
pub(crate) fn hash(b: &[u8]) -> u64 {
    let n = b.len();
    let (lo, hi) = if n <= 16 {
        if n >= 8 {
            (u64_at(b, 0), u64_at(b, n - 8))
        } else if n >= 4 {
            (u32_at(b, 0), u32_at(b, n - 4))
        } else if n > 0 {
            (
                ((b[0] as u64) << 16) | ((b[n / 2] as u64) << 8) | b[n - 1] as u64,
                0,
            )
        } else {
            (0, 0)
        }
    } else {
        let mut acc = K3;
        let mut i = 0;
        while i + 16 < n {
            acc = mix(u64_at(b, i) ^ acc, u64_at(b, i + 8));
            i += 16;
        }
        (u64_at(b, n - 16) ^ acc, u64_at(b, n - 8))
    };
    mix(lo, hi ^ (n as u64).wrapping_mul(K3))
}

impl Vocab {
    /// Indexes a compact vocabulary file.
    ///
    /// # Panics
    /// When `data` is not a well-formed compact vocabulary (it is generated and committed, so
    /// this is a build problem, caught by the tests).
    pub(crate) fn new(data: Vec<u8>) -> Vocab {
        assert!(
            data.len() >= 8 && &data[..4] == b"ATK1",
            "bad vocabulary file"
        );
        let n = u32::from_le_bytes([data[4], data[5], data[6], data[7]]) as usize;
        let mut starts = Vec::with_capacity(n);
        let mut pos = 8usize;
        let mut max_len = 0;
        for _ in 0..n {
            let len = data[pos] as usize;
            starts.push((pos + 1) as u32);
            pos += 1 + len;
            max_len = max_len.max(len);
        }
        assert_eq!(pos, data.len(), "bad vocabulary file length");
        let cap = n.next_power_of_two().max(16);
        let mask = cap - 1;
        let mut slots = vec![Slot::default(); cap];
        let mut byte_rank = [u32::MAX; 256];
        let mut two = vec![u32::MAX; 1 << 16];
        let filter_bits = cap * 8;
        let filter_mask = filter_bits as u64 - 1;
        let mut filter = vec![0u64; filter_bits / 64];
        for (rank, &start) in starts.iter().enumerate() {
            let start = start as usize;
            let tok = &data[start..start + data[start - 1] as usize];
            match tok.len() {
                1 => byte_rank[tok[0] as usize] = rank as u32,
                2 => two[usize::from(tok[0]) << 8 | usize::from(tok[1])] = rank as u32,
                _ => {}
            }
            let h = hash(tok);
            let bit = (h >> 32) & filter_mask;
            filter[(bit >> 6) as usize] |= 1 << (bit & 63);
            let mut idx = h as usize & mask;
            while slots[idx].len != 0 {
                idx = (idx + 1) & mask;
            }
            slots[idx] = Slot {
                head: head(tok),
                rank: rank as u32,
                len: tok.len() as u32,
            };
        }
        assert!(
            byte_rank.iter().all(|&r| r != u32::MAX),
            "every byte must be a token"
        );
        Vocab {
            data,
            starts,
            slots,
            mask,
            byte_rank,
            two,
            filter,
            filter_mask,
            max_len,
        }
    }

    /// Number of tokens.
    pub(crate) fn len(&self) -> usize {
        self.starts.len()
    }

    /// The bytes of token `rank`.
    #[inline]
    pub(crate) fn token(&self, rank: u32) -> &[u8] {
        let start = self.starts[rank as usize] as usize;
        let data: &[u8] = &self.data;
        &data[start..start + data[start - 1] as usize]
    }

    /// The rank of a single byte.
    #[inline]
    pub(crate) fn byte(&self, b: u8) -> u32 {
        self.byte_rank[b as usize]
    }

    /// The rank of `key`, if it is a token.
    #[inline]
    pub(crate) fn rank(&self, key: &[u8]) -> Option<u32> {
        match key.len() {
            1 => return Some(self.byte(key[0])),
            2 => return self.pair(key[0], key[1]),
            n if n > self.max_len => return None,
            _ => {}
        }
        let h = hash(key);
        let bit = (h >> 32) & self.filter_mask;
        if self.filter[(bit >> 6) as usize] & (1 << (bit & 63)) == 0 {
            return None;
        }
        let k = head(key);
        let len = key.len() as u32;
        let mut idx = h as usize & self.mask;
        loop {
            let s = self.slots[idx];
            if s.len == 0 {
                return None;
            }
            if s.len == len && s.head == k && (len <= 8 || self.token(s.rank)[8..] == key[8..]) {
                return Some(s.rank);
            }
            idx = (idx + 1) & self.mask;
        }
    }

    /// The rank of the two-byte string `a b`, if it is a token.
    #[inline(always)]
    pub(crate) fn pair(&self, a: u8, b: u8) -> Option<u32> {
        let r = self.two[usize::from(a) << 8 | usize::from(b)];
        (r != u32::MAX).then_some(r)
    }
}
