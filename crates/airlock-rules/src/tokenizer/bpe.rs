//! Byte-pair merging of one pre-token, with tiktoken's result: repeatedly merge the adjacent pair
//! whose concatenation has the lowest rank, the leftmost on ties, until no pair is a token.
//!
//! Short pieces use tiktoken's own loop (quadratic in the piece, fast when it is short). Long
//! pieces use a min-heap of pairs keyed by (rank, position) over a linked list of parts, which
//! makes the same choices in O(n log n): a 1 MB run of one letter is one piece.

use alloc::vec::Vec;

use super::queue::Queue;
use super::vocab::Vocab;

const NONE: u32 = u32::MAX;
/// Pieces up to this many bytes use the simple loop.
const SMALL: usize = 48;

/// Memoised pieces, direct-mapped by hash (512 KB). 8192 rather than 2048 slots made 1 MB of
/// mixed text about 20 % faster (fewer words evicted) and prose no slower, now that the memo is
/// kept across calls (filled once per thread) where `std` allows.
const MEMO_SLOTS: usize = 8192;
/// Longest piece memoised, in bytes.
const MEMO_BYTES: usize = 24;
/// Most tokens of a memoised piece.
const MEMO_TOKENS: usize = 8;

/// A memoised piece: its bytes as three little-endian words (see [`memo_key`]), its length,
/// and its tokens. One cache line.
#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
struct Memo {
    key: [u64; 3],
    len: u8,
    count: u8,
    tokens: [u32; MEMO_TOKENS],
}

#[inline(always)]
fn w8(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i..i + 8].try_into().unwrap())
}

#[inline(always)]
fn w4(b: &[u8], i: usize) -> u64 {
    u64::from(u32::from_le_bytes(b[i..i + 4].try_into().unwrap()))
}

/// A piece of 1 to `MEMO_BYTES` bytes as three words that, with its length, determine it:
/// bytes 0–7 (zero-padded), bytes n−8..n (zero when n ≤ 8) and bytes 8–15 (zero when n ≤ 16),
/// built from (overlapping) word loads, without a copy.
#[inline(always)]
fn memo_key(piece: &[u8]) -> [u64; 3] {
    let n = piece.len();
    if n >= 8 {
        let mid = if n > 16 { w8(piece, 8) } else { 0 };
        [w8(piece, 0), w8(piece, n - 8), mid]
    } else if n >= 4 {
        // The two loads agree on the bytes they share, so OR joins them.
        [w4(piece, 0) | (w4(piece, n - 4) << (8 * (n - 4))), 0, 0]
    } else {
        let (a, m, z) = (piece[0], piece[n / 2], piece[n - 1]);
        let w = u64::from(a) | (u64::from(m) << (8 * (n / 2))) | (u64::from(z) << (8 * (n - 1)));
        [w, 0, 0]
    }
}

/// Longer memoised pieces (CJK runs, long identifiers), direct-mapped by hash.
const LONG_SLOTS: usize = 256;
/// Longest piece memoised, in bytes.
const LONG_BYTES: usize = 128;
/// Most tokens of a long memoised piece.
const LONG_TOKENS: usize = 32;

/// A memoised piece of `MEMO_BYTES + 1` to `LONG_BYTES` bytes.
#[derive(Clone, Copy)]
struct LongMemo {
    len: u8,
    count: u8,
    bytes: [u8; LONG_BYTES],
    tokens: [u32; LONG_TOKENS],
}

impl Default for LongMemo {
    fn default() -> LongMemo {
        LongMemo {
            len: 0,
            count: 0,
            bytes: [0; LONG_BYTES],
            tokens: [0; LONG_TOKENS],
        }
    }
}

/// Buffers reused between pieces.
#[derive(Default)]
pub(crate) struct Scratch {
    /// Memoise multi-token words (worth its set-up on long texts only).
    pub(crate) use_memo: bool,
    /// Bytes of the pieces merged so far (not found in the vocabulary or the memo).
    pub(crate) merged: usize,
    memo: Vec<Memo>,
    long_memo: Vec<LongMemo>,
    out: Vec<u32>,
    parts: Vec<(u32, u32)>,
    links: Vec<Link>,
    heap: Queue,
}

impl Scratch {
    /// Frees the merge buffers after a very long piece, so a scratch kept across calls holds
    /// its memo (about 600 KB) and little more. Only a kept scratch (with `std`) needs it.
    #[cfg(feature = "std")]
    pub(crate) fn trim(&mut self) {
        const KEEP: usize = 1 << 14;
        if self.links.capacity() > KEEP || self.heap.capacity() > KEEP {
            let (memo, long_memo) = (
                core::mem::take(&mut self.memo),
                core::mem::take(&mut self.long_memo),
            );
            *self = Scratch {
                use_memo: self.use_memo,
                merged: self.merged,
                memo,
                long_memo,
                ..Scratch::default()
            };
        }
    }
}

/// Emits the tokens of `piece` (non-empty) through `out`.
#[inline]
pub(crate) fn encode_piece(v: &Vocab, piece: &[u8], s: &mut Scratch, out: &mut impl FnMut(u32)) {
    if let [a] = *piece {
        out(v.byte(a));
    } else if let [a, b] = *piece {
        // The only possible merge is the pair itself.
        match v.pair(a, b) {
            Some(r) => out(r),
            None => {
                out(v.byte(a));
                out(v.byte(b));
            }
        }
    } else if s.use_memo && piece.len() <= MEMO_BYTES {
        memoised(v, piece, s, out);
    } else if s.use_memo && piece.len() > MEMO_BYTES && piece.len() <= LONG_BYTES {
        long_memoised(v, piece, s, out);
    } else if let Some(r) = v.rank(piece) {
        out(r);
    } else if piece.len() <= SMALL {
        small(v, piece, s, out);
    } else {
        large(v, piece, s, out);
    }
}

/// The number of tokens of `piece` (non-empty) when it is known without merging: one byte, two
/// bytes (a token or two), or a piece in the memo (when it is on). `None` otherwise; then
/// [`count_piece`] counts it. Changes nothing: a piece found here is counted as [`encode_piece`]
/// would count it, and it leaves `s.merged` and the memo as they were.
#[inline(always)]
pub(crate) fn count_known(v: &Vocab, piece: &[u8], s: &Scratch) -> Option<usize> {
    match piece.len() {
        1 => Some(1),
        2 => Some(if v.pair(piece[0], piece[1]).is_some() {
            1
        } else {
            2
        }),
        n if s.use_memo && n <= MEMO_BYTES && !s.memo.is_empty() => {
            let key = memo_key(piece);
            let m = &s.memo[memo_slot(&key, n)];
            let differ = (m.key[0] ^ key[0]) | (m.key[1] ^ key[1]) | (m.key[2] ^ key[2]);
            (usize::from(m.len) == n && differ == 0).then_some(usize::from(m.count))
        }
        _ => None,
    }
}

/// The number of tokens of `piece` (non-empty), as [`encode_piece`] emits them (memoising it and
/// counting its merged bytes alike). Out of line: the caller's loop over pieces found by
/// [`count_known`] stays small.
#[inline(never)]
pub(crate) fn count_piece(v: &Vocab, piece: &[u8], s: &mut Scratch) -> usize {
    let mut n = 0;
    encode_piece(v, piece, s, &mut |_| n += 1);
    n
}

/// The memo slot of a piece of `len` bytes whose [`memo_key`] is `key`.
#[inline(always)]
fn memo_slot(key: &[u64; 3], len: usize) -> usize {
    let h = (key[0] ^ key[1].rotate_left(29) ^ key[2].rotate_left(43) ^ len as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 51) as usize & (MEMO_SLOTS - 1)
}

/// Words recur: a small direct-mapped cache of pieces and their tokens, which stays in cache
/// where the vocabulary index does not. The bytes are compared, so a hash collision only costs
/// a recomputation.
#[inline(always)]
fn memoised(v: &Vocab, piece: &[u8], s: &mut Scratch, out: &mut impl FnMut(u32)) {
    if s.memo.is_empty() {
        s.memo.resize(MEMO_SLOTS, Memo::default());
    }
    let key = memo_key(piece);
    let slot = memo_slot(&key, piece.len());
    let m = &s.memo[slot];
    // Word by word (an array compare spills `key` and stalls on store forwarding).
    let differ = (m.key[0] ^ key[0]) | (m.key[1] ^ key[1]) | (m.key[2] ^ key[2]);
    if usize::from(m.len) == piece.len() && differ == 0 {
        if m.count == 1 {
            out(m.tokens[0]);
        } else {
            m.tokens[..usize::from(m.count)]
                .iter()
                .for_each(|&t| out(t));
        }
        return;
    }
    let mut tokens = core::mem::take(&mut s.out);
    tokens.clear();
    match v.rank(piece) {
        Some(r) => tokens.push(r),
        None => small(v, piece, s, &mut |t| tokens.push(t)),
    }
    tokens.iter().for_each(|&t| out(t));
    if tokens.len() <= MEMO_TOKENS {
        let mut m = Memo {
            key,
            len: piece.len() as u8,
            count: tokens.len() as u8,
            ..Memo::default()
        };
        m.tokens[..tokens.len()].copy_from_slice(&tokens);
        s.memo[slot] = m;
    }
    s.out = tokens;
}

/// [`memoised`] for longer pieces: rarer, so the bytes are simply compared.
#[inline(never)]
fn long_memoised(v: &Vocab, piece: &[u8], s: &mut Scratch, out: &mut impl FnMut(u32)) {
    if s.long_memo.is_empty() {
        s.long_memo.resize(LONG_SLOTS, LongMemo::default());
    }
    let slot = (super::vocab::hash(piece) >> 7) as usize & (LONG_SLOTS - 1);
    let m = &s.long_memo[slot];
    if usize::from(m.len) == piece.len() && m.bytes[..piece.len()] == *piece {
        m.tokens[..usize::from(m.count)]
            .iter()
            .for_each(|&t| out(t));
        return;
    }
    let mut tokens = core::mem::take(&mut s.out);
    tokens.clear();
    match v.rank(piece) {
        Some(r) => tokens.push(r),
        None if piece.len() <= SMALL => small(v, piece, s, &mut |t| tokens.push(t)),
        None => large(v, piece, s, &mut |t| tokens.push(t)),
    }
    tokens.iter().for_each(|&t| out(t));
    if tokens.len() <= LONG_TOKENS {
        let m = &mut s.long_memo[slot];
        m.len = piece.len() as u8;
        m.count = tokens.len() as u8;
        m.bytes[..piece.len()].copy_from_slice(piece);
        m.tokens[..tokens.len()].copy_from_slice(&tokens);
    }
    s.out = tokens;
}

fn small(v: &Vocab, piece: &[u8], s: &mut Scratch, out: &mut impl FnMut(u32)) {
    s.merged += piece.len();
    let n = piece.len();
    let parts = &mut s.parts;
    parts.clear();
    let mut min = (NONE, 0usize);
    for i in 0..n - 1 {
        let r = v.rank(&piece[i..i + 2]).unwrap_or(NONE);
        if r < min.0 {
            min = (r, i);
        }
        parts.push((i as u32, r));
    }
    parts.push(((n - 1) as u32, NONE));
    parts.push((n as u32, NONE));
    let rank_at = |parts: &Vec<(u32, u32)>, i: usize| -> u32 {
        if i + 3 < parts.len() {
            v.rank(&piece[parts[i].0 as usize..parts[i + 3].0 as usize])
                .unwrap_or(NONE)
        } else {
            NONE
        }
    };
    while min.0 != NONE {
        let i = min.1;
        if i > 0 {
            parts[i - 1].1 = rank_at(parts, i - 1);
        }
        parts[i].1 = rank_at(parts, i);
        parts.remove(i + 1);
        min = (NONE, 0);
        for (j, &(_, r)) in parts[..parts.len() - 1].iter().enumerate() {
            if r < min.0 {
                min = (r, j);
            }
        }
    }
    for w in parts.windows(2) {
        let tok = &piece[w[0].0 as usize..w[1].0 as usize];
        out(v.rank(tok).unwrap_or(NONE));
    }
}

/// How the first and last parts of a merged piece grew: (rank of the merge, new end of the
/// first part) and (rank of the merge, new start of the last part), in merge order.
#[derive(Default)]
struct Edges {
    first: Vec<(u32, u32)>,
    last: Vec<(u32, u32)>,
}

/// One part of a piece in the heap merge, named by its start: the next part's start (the piece's
/// length at the end), the previous part's start (`NONE` at the start) and the rank of this part
/// joined with the next (`NONE` when not a token). Kept together, so a merge touches one cache
/// line per part where three arrays cost three.
#[derive(Clone, Copy)]
#[repr(C, align(16))]
struct Link {
    next: u32,
    prev: u32,
    pair: u32,
}

/// The heap merge; leaves the parts as a linked list in `s.links`.
fn merge(v: &Vocab, piece: &[u8], s: &mut Scratch, mut edges: Option<&mut Edges>) {
    let n = piece.len();
    s.links.clear();
    s.heap.clear(n);
    for i in 0..n {
        let r = if i + 1 < n {
            v.pair(piece[i], piece[i + 1]).unwrap_or(NONE)
        } else {
            NONE
        };
        s.links.push(Link {
            next: i as u32 + 1,
            prev: (i as u32).wrapping_sub(1),
            pair: r,
        });
        if r != NONE {
            s.heap.push(((r as u64) << 32) | i as u64);
        }
    }
    let (links, heap) = (&mut s.links, &mut s.heap);
    let rank = |a: usize, b: usize| v.rank(&piece[a..b]).unwrap_or(NONE);
    while let Some(key) = heap.pop() {
        let (r, p) = ((key >> 32) as u32, (key & 0xFFFF_FFFF) as usize);
        let lp = links[p];
        if lp.pair != r {
            continue; // stale: the part was merged away or its pair changed
        }
        // Merge p with the part after it, q.
        let q = lp.next as usize;
        let after = links[q].next as usize;
        links[q].pair = NONE;
        if let Some(e) = edges.as_deref_mut() {
            if p == 0 {
                e.first.push((r, after as u32));
            }
            if after == n {
                e.last.push((r, p as u32));
            }
        }
        let r = if after < n {
            links[after].prev = p as u32;
            rank(p, links[after].next as usize)
        } else {
            NONE
        };
        links[p].next = after as u32;
        links[p].pair = r;
        if r != NONE {
            heap.push(((r as u64) << 32) | p as u64);
        }
        if lp.prev != NONE {
            let b = lp.prev as usize;
            let r = rank(b, after);
            links[b].pair = r;
            if r != NONE {
                heap.push(((r as u64) << 32) | b as u64);
            }
        }
    }
}

fn large(v: &Vocab, piece: &[u8], s: &mut Scratch, out: &mut impl FnMut(u32)) {
    s.merged += piece.len();
    if repeated(v, piece, s, out) {
        return;
    }
    merge(v, piece, s, None);
    let n = piece.len();
    let mut p = 0usize;
    while p < n {
        let q = s.links[p].next as usize;
        out(v.rank(&piece[p..q]).unwrap_or(NONE));
        p = q;
    }
}

/// The tokens and edges of merging `chunk` on its own.
fn merge_chunk(v: &Vocab, chunk: &[u8], s: &mut Scratch) -> (Vec<u32>, Edges) {
    let mut edges = Edges::default();
    merge(v, chunk, s, Some(&mut edges));
    let mut tokens = Vec::new();
    let mut p = 0usize;
    while p < chunk.len() {
        let q = s.links[p].next as usize;
        tokens.push(v.rank(&chunk[p..q]).unwrap_or(NONE));
        p = q;
    }
    (tokens, edges)
}

/// True when merging `left ++ right` as one piece never merges across the boundary between
/// them, given how each side's edge parts grow when merged alone. Then the tokens of the whole
/// are the tokens of the two sides.
///
/// Until the first merge across the boundary, both sides merge exactly as they would alone. A
/// merge across it joins the last part of the left side `L` and the first part of the right `R`,
/// with key (rank of `L R`, start of `L`); it happens as soon as that key is the smallest, i.e.
/// before the next merge that changes `L` (which has a smaller start, so it wins ties) and the
/// next that changes `R` (which has a larger start, so it loses ties).
fn boundary_holds(
    v: &Vocab,
    left: &[u8],
    le: &[(u32, u32)],
    right: &[u8],
    re: &[(u32, u32)],
) -> bool {
    let (mut i, mut j) = (0, 0);
    let mut l_start = left.len() - 1;
    let mut r_end = 1usize;
    let mut buf = [0u8; 512];
    loop {
        let el = le.get(i).map_or(u64::MAX, |e| u64::from(e.0));
        let er = re.get(j).map_or(u64::MAX, |e| u64::from(e.0));
        let (l, r) = (&left[l_start..], &right[..r_end]);
        if l.len() + r.len() <= buf.len() {
            buf[..l.len()].copy_from_slice(l);
            buf[l.len()..l.len() + r.len()].copy_from_slice(r);
            if let Some(c) = v.rank(&buf[..l.len() + r.len()]) {
                let c = u64::from(c);
                if c < el && c <= er {
                    return false;
                }
            }
        }
        if el == u64::MAX && er == u64::MAX {
            return true;
        }
        if el <= er {
            l_start = le[i].1 as usize;
            i += 1;
        } else {
            r_end = re[j].1 as usize;
            j += 1;
        }
    }
}

/// A long piece that repeats a unit of up to 8 bytes (`aaaa…`, `----…`, `中中中…`, spaces):
/// merge one chunk of whole units, prove that identical chunks side by side never merge across
/// their boundary (nor the last chunk with the rest), and repeat its tokens. Linear time.
/// Returns false (emitting nothing) when the piece is not such a run or no chunk size is proven.
fn repeated(v: &Vocab, piece: &[u8], s: &mut Scratch, out: &mut impl FnMut(u32)) -> bool {
    // Chunk sizes in units: the tokens of a run repeat with a period of a few units, and these
    // are multiples of every small period (1–16, 18, 21, 28, 32, 64, 128, 256).
    const UNITS: [usize; 5] = [256, 240, 252, 210, 270];
    let n = piece.len();
    if n < 3 * UNITS[0] {
        return false;
    }
    let Some(p) = (1..=8).find(|&p| piece[p..].iter().zip(piece).all(|(a, b)| a == b)) else {
        return false;
    };
    for units in UNITS {
        let c = p * units;
        if n < 3 * c {
            continue;
        }
        let chunk = &piece[..c];
        let (tokens, edges) = merge_chunk(v, chunk, s);
        if !boundary_holds(v, chunk, &edges.last, chunk, &edges.first) {
            continue;
        }
        // Whole chunks, then the rest (one more chunk and the remainder) merged on its own.
        let q = n / c - 1;
        let rest = &piece[q * c..];
        let (rest_tokens, rest_edges) = merge_chunk(v, rest, s);
        if !boundary_holds(v, chunk, &edges.last, rest, &rest_edges.first) {
            continue;
        }
        for _ in 0..q {
            tokens.iter().for_each(|&t| out(t));
        }
        rest_tokens.iter().for_each(|&t| out(t));
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::Encoding;
    use alloc::string::String;

    fn heap_only(v: &Vocab, piece: &[u8]) -> Vec<u32> {
        let mut s = Scratch::default();
        merge(v, piece, &mut s, None);
        let mut out = Vec::new();
        let mut p = 0;
        while p < piece.len() {
            let q = s.links[p].next as usize;
            out.push(v.rank(&piece[p..q]).unwrap());
            p = q;
        }
        out
    }

    /// The heap merge of long pieces (on the radix queue from 4096 bytes) gives what tiktoken's
    /// own loop (`small`, quadratic, fine at these sizes) gives: random letters, cased letters,
    /// few letters, hex digits, random bytes.
    #[test]
    fn long_pieces_merge_like_the_simple_loop() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabets: [&[u8]; 5] = [
            b"abcdefghijklmnopqrstuvwxyz",
            b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
            b"ab",
            b"etaoinshr",
            b"0123456789abcdef",
        ];
        for enc in Encoding::ALL {
            let v = Vocab::new(enc.data());
            for round in 0..12 {
                let len = [4096usize, 5000, 9001][round % 3];
                let piece: Vec<u8> = if round % 6 == 5 {
                    (0..len).map(|_| rnd() as u8).collect()
                } else {
                    let a = alphabets[round % alphabets.len()];
                    (0..len)
                        .map(|_| a[(rnd() % a.len() as u64) as usize])
                        .collect()
                };
                let mut s = Scratch::default();
                let mut want = Vec::new();
                small(&v, &piece, &mut s, &mut |t| want.push(t));
                assert_eq!(heap_only(&v, &piece), want, "{enc} round {round}");
            }
        }
    }

    /// The repeated-unit shortcut gives what merging the whole piece gives.
    #[test]
    fn repeated_runs_equal_the_heap_merge() {
        let units = [
            "a", "b", "z", "A", " ", "\n", "-", "=", "0", "ab", "aB", "xyz", "é", "中", "😀",
            "\u{301}", "abc ", "ſ", "..", "\t", "abcdefgh", "ha", "la", "🙂👍",
        ];
        let mut tried = 0;
        for enc in Encoding::ALL {
            let v = Vocab::new(enc.data());
            for unit in units {
                for len in [1030usize, 1500, 2049, 4099, 7000, 20_001] {
                    let text: String = unit.repeat(len.div_ceil(unit.len()));
                    let piece = &text.as_bytes()[..len];
                    let mut s = Scratch::default();
                    let mut got = Vec::new();
                    if repeated(&v, piece, &mut s, &mut |t| got.push(t)) {
                        tried += 1;
                        assert_eq!(got, heap_only(&v, piece), "{enc} {unit:?} × {len}");
                    }
                }
            }
        }
        assert!(tried > 200, "the shortcut was taken {tried} times");
    }
}
