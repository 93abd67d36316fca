//! The priority queue of the heap merge: a radix heap while keys come out in non-decreasing
//! order, a binary heap from the first key pushed below the last one popped.
//!
//! A merge of rank `r` creates pairs of higher rank (a token is made of tokens learned before
//! it), so a merge's keys (rank, position) mostly come out in order and a radix heap fits: each
//! key moves down its 65 buckets a few times, by sequential scans, where a binary heap of a long
//! piece costs a hard-to-predict compare per level. Should a vocabulary break that order, the
//! queue moves its keys into a binary heap and goes on: the pops are the same either way.

use alloc::collections::BinaryHeap;
use alloc::vec::Vec;
use core::cmp::Reverse;

/// A min-queue of `u64` keys.
#[derive(Default)]
pub(crate) struct Queue {
    /// The last key popped (every key held is at least this, while `heap` is unused).
    last: u64,
    /// Bucket `i > 0` holds the keys whose highest bit differing from `last` is bit `i - 1`;
    /// bucket 0 those equal to `last`. Empty until first use.
    buckets: Vec<Vec<u64>>,
    /// Bit `i` set when bucket `i` may be non-empty (bit 64 in `high`).
    mask: u64,
    high: bool,
    /// In use (and the buckets empty) when `use_heap`: for short pieces, or after a key below
    /// `last` was pushed.
    heap: BinaryHeap<Reverse<u64>>,
    use_heap: bool,
}

/// Below this many keys the binary heap is used from the start: it is in cache then, and the
/// radix heap's buckets cost more than they save (runs of one character, merged in chunks of
/// 256 units, were 14 % slower on the radix heap).
const RADIX_FROM: usize = 4096;

#[inline(always)]
fn bucket(key: u64, last: u64) -> usize {
    64 - (key ^ last).leading_zeros() as usize
}

impl Queue {
    /// Empties the queue for about `n` keys, keeping its buffers.
    pub(crate) fn clear(&mut self, n: usize) {
        self.heap.clear();
        self.use_heap = n < RADIX_FROM;
        if self.use_heap {
            return;
        }
        if self.buckets.is_empty() {
            self.buckets.resize_with(65, Vec::new);
        }
        self.buckets.iter_mut().for_each(Vec::clear);
        self.last = 0;
        self.mask = 0;
        self.high = false;
    }

    /// Buffer capacity held, in keys.
    #[cfg(feature = "std")]
    pub(crate) fn capacity(&self) -> usize {
        self.buckets.iter().map(Vec::capacity).sum::<usize>() + self.heap.capacity()
    }

    /// Adds `key`.
    #[inline]
    pub(crate) fn push(&mut self, key: u64) {
        if self.use_heap {
            self.heap.push(Reverse(key));
        } else if key < self.last {
            self.switch_to_heap(key);
        } else {
            let i = bucket(key, self.last);
            self.buckets[i].push(key);
            if i == 64 {
                self.high = true;
            } else {
                self.mask |= 1 << i;
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn switch_to_heap(&mut self, key: u64) {
        let mut all = core::mem::take(&mut self.heap).into_vec();
        for b in &mut self.buckets {
            all.extend(b.drain(..).map(Reverse));
        }
        all.push(Reverse(key));
        self.heap = BinaryHeap::from(all);
        self.use_heap = true;
        self.mask = 0;
        self.high = false;
    }

    /// Removes and returns the smallest key.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<u64> {
        if self.use_heap {
            return self.heap.pop().map(|Reverse(k)| k);
        }
        if self.mask & 1 == 0 {
            self.refill()?;
        }
        let b = &mut self.buckets[0];
        let k = b.pop();
        if b.is_empty() {
            self.mask &= !1;
        }
        k
    }

    /// Moves the smallest keys into bucket 0: takes the first non-empty bucket, makes its
    /// minimum `last`, and spreads its keys over the lower buckets. `None` when empty.
    fn refill(&mut self) -> Option<()> {
        let i = if self.mask != 0 {
            self.mask.trailing_zeros() as usize
        } else if self.high {
            self.high = false;
            64
        } else {
            return None;
        };
        if i < 64 {
            self.mask &= !(1u64 << i);
        }
        let mut b = core::mem::take(&mut self.buckets[i]);
        let Some(&m) = b.iter().min() else {
            self.buckets[i] = b;
            return self.refill();
        };
        self.last = m;
        for &k in &b {
            // Every key here shares bits ≥ i - 1 with `m`, so it lands below bucket i.
            let j = bucket(k, m);
            self.buckets[j].push(k);
            self.mask |= 1 << j;
        }
        b.clear();
        self.buckets[i] = b;
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pops equal a binary heap's on random pushes and pops, in order and out of order.
    #[test]
    fn pops_like_a_binary_heap() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut q = Queue::default();
        for round in 0..200 {
            q.clear(if round % 8 == 7 { 0 } else { 1 << 20 });
            let mut h = BinaryHeap::new();
            let monotone = round % 4 != 0;
            let mut last = 0u64;
            for _ in 0..(rnd() % 2000) {
                if rnd() % 3 == 0 {
                    let got = q.pop();
                    assert_eq!(got, h.pop().map(|Reverse(k)| k), "round {round}");
                    if let Some(k) = got {
                        last = k;
                    }
                } else {
                    let span = [1u64 << 8, 1 << 40, u64::MAX][(rnd() % 3) as usize];
                    let k = if monotone {
                        last.saturating_add(rnd() % span)
                    } else {
                        rnd() % span
                    };
                    q.push(k);
                    h.push(Reverse(k));
                }
            }
            while let Some(Reverse(k)) = h.pop() {
                assert_eq!(q.pop(), Some(k), "round {round}");
            }
            assert_eq!(q.pop(), None);
        }
    }
}
