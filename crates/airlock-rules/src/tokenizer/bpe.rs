//! Byte-pair merging of one pre-token, with tiktoken's result: repeatedly merge the adjacent pair
//! whose concatenation has the lowest rank, the leftmost on ties, until no pair is a token.
//!
//! Short pieces use tiktoken's own loop (quadratic in the piece, fast when it is short). Long
//! pieces use a min-heap of pairs keyed by (rank, position) over a linked list of parts, which
//! makes the same choices in O(n log n): a 1 MB run of one letter is one piece.

use alloc::collections::BinaryHeap;
use alloc::vec::Vec;
use core::cmp::Reverse;

use super::vocab::Vocab;

const NONE: u32 = u32::MAX;
/// Pieces up to this many bytes use the simple loop.
const SMALL: usize = 48;

/// Buffers reused between pieces.
#[derive(Default)]
pub(crate) struct Scratch {
    parts: Vec<(u32, u32)>,
    next: Vec<u32>,
    prev: Vec<u32>,
    pair: Vec<u32>,
    heap: BinaryHeap<Reverse<u64>>,
}

/// Emits the tokens of `piece` (non-empty) through `out`.
#[inline]
pub(crate) fn encode_piece(v: &Vocab, piece: &[u8], s: &mut Scratch, out: &mut impl FnMut(u32)) {
    if let Some(r) = v.rank(piece) {
        out(r);
    } else if piece.len() <= SMALL {
        small(v, piece, s, out);
    } else {
        large(v, piece, s, out);
    }
}

fn small(v: &Vocab, piece: &[u8], s: &mut Scratch, out: &mut impl FnMut(u32)) {
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

fn large(v: &Vocab, piece: &[u8], s: &mut Scratch, out: &mut impl FnMut(u32)) {
    let n = piece.len();
    // Parts are named by their start; `next[p]` is the following part's start (n at the end).
    s.next.clear();
    s.next.extend((1..=n).map(|i| i as u32));
    s.prev.clear();
    s.prev.extend((0..n).map(|i| (i as u32).wrapping_sub(1)));
    s.pair.clear();
    let mut initial = core::mem::take(&mut s.heap).into_vec();
    initial.clear();
    for i in 0..n {
        let r = if i + 1 < n {
            v.pair(piece[i], piece[i + 1]).unwrap_or(NONE)
        } else {
            NONE
        };
        s.pair.push(r);
        if r != NONE {
            initial.push(Reverse(((r as u64) << 32) | i as u64));
        }
    }
    s.heap = BinaryHeap::from(initial); // O(n) heapify
    let (next, prev, pair, heap) = (&mut s.next, &mut s.prev, &mut s.pair, &mut s.heap);
    let rank_of = |next: &Vec<u32>, p: usize| -> u32 {
        let q = next[p] as usize;
        if q >= n {
            return NONE;
        }
        v.rank(&piece[p..next[q] as usize]).unwrap_or(NONE)
    };
    while let Some(Reverse(key)) = heap.pop() {
        let (r, p) = ((key >> 32) as u32, (key & 0xFFFF_FFFF) as usize);
        if pair[p] != r {
            continue; // stale: the part was merged away or its pair changed
        }
        // Merge p with the part after it.
        let q = next[p] as usize;
        let after = next[q];
        next[p] = after;
        if (after as usize) < n {
            prev[after as usize] = p as u32;
        }
        pair[q] = NONE;
        let r = rank_of(next, p);
        pair[p] = r;
        if r != NONE {
            heap.push(Reverse(((r as u64) << 32) | p as u64));
        }
        let b = prev[p];
        if b != NONE {
            let b = b as usize;
            let r = rank_of(next, b);
            pair[b] = r;
            if r != NONE {
                heap.push(Reverse(((r as u64) << 32) | b as u64));
            }
        }
    }
    let mut p = 0usize;
    while p < n {
        let q = next[p] as usize;
        out(v.rank(&piece[p..q]).unwrap_or(NONE));
        p = q;
    }
}
