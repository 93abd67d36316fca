//! Long texts counted before (issue 14; `std` only, one table per thread and encoding).
//!
//! A conversation sends its whole history again with every turn, and an agent loop its whole
//! context at every step, so most of a long request's text was counted by an earlier request to
//! the same isolate. This table remembers, for each long text, how far it was counted (a
//! pre-tokenizer piece boundary) and the tokens up to there; [`Tokenizer::count_until`] and
//! [`Tokenizer::count`] resume from that point instead of counting again. The tokens are the
//! same either way: the pieces after a piece boundary are the pieces the whole text has there.
//!
//! Only hashes of each text are kept, with its length and its counts, never the text. A text is
//! found by a hash of its first kilobyte and its length (cheap, so a text seen for the first time
//! costs almost nothing more), and trusted only when a hash of the whole text matches too. That
//! whole hash is taken the second time a text is counted (the first time no entry names it) and
//! checked on every later one, so a text is resumed from its third count on. Both hashes are
//! SipHash-1-3 under std's [`RandomState`] (random keys where the platform gives randomness; on
//! wasm32-unknown-unknown, keys made of two allocation addresses, not secret). For one request to make another's text read a wrong count, a
//! stranger would need a second text of the same length whose whole hash equals that text's: a
//! second preimage of SipHash, about 2^64 work even with the keys known. A text that only shares
//! a slot, or a first kilobyte and a length, with another replaces its entry: it costs a count,
//! never a wrong one.
//!
//! [`Tokenizer::count_until`]: super::Tokenizer::count_until
//! [`Tokenizer::count`]: super::Tokenizer::count

use super::Encoding;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::hash::BuildHasher;
use std::hash::RandomState;

/// Texts shorter than this are not remembered: a piece found in the memo costs ~150
/// instructions to count, a byte of hashing ~2, so only long texts gain.
pub const SEEN_MIN_BYTES: usize = 1024;

/// The bytes of a text its finding hash reads.
const HEAD_BYTES: usize = 1024;

/// Slots per encoding (40 bytes each: 40 KB per encoding and thread).
const SLOTS: usize = 1024;

#[derive(Clone, Copy, Default)]
struct Slot {
    head: u64,
    len: usize,
    /// The whole text's hash, once taken (its second count).
    whole: Option<u64>,
    bytes: usize,
    tokens: usize,
}

struct Seen {
    state: RandomState,
    slots: [Vec<Slot>; 2],
}

std::thread_local! {
    static SEEN: RefCell<Option<Seen>> = const { RefCell::new(None) };
}

fn with<R>(f: impl FnOnce(&mut Seen) -> R) -> Option<R> {
    SEEN.try_with(|cell| {
        let mut seen = cell.try_borrow_mut().ok()?;
        let seen = seen.get_or_insert_with(|| Seen {
            state: RandomState::new(),
            slots: [Vec::new(), Vec::new()],
        });
        Some(f(seen))
    })
    .ok()
    .flatten()
}

/// A long text looked up in the table: what its entry says, if it has one.
#[derive(Clone, Copy, Debug)]
pub(super) struct Probe {
    encoding: usize,
    head: u64,
    len: usize,
    /// The entry of the same first kilobyte and length: `(whole, bytes, tokens)`.
    entry: Option<(Option<u64>, usize, usize)>,
    /// The whole text's hash, once taken.
    whole: Option<u64>,
    /// True when the entry's whole hash is this text's.
    verified: bool,
}

/// Looks `text` up (its first kilobyte hashed); `None` when it is too short to remember or the
/// thread is ending.
pub(super) fn probe(encoding: Encoding, text: &str) -> Option<Probe> {
    if text.len() < SEEN_MIN_BYTES {
        return None;
    }
    let encoding = match encoding {
        Encoding::O200kBase => 0,
        Encoding::Cl100kBase => 1,
    };
    with(|s| {
        let head = s.state.hash_one(&text.as_bytes()[..HEAD_BYTES]);
        let entry = s.slots[encoding]
            .get(slot_of(head, text.len()))
            .filter(|e| e.head == head && e.len == text.len() && e.bytes > 0)
            .map(|e| (e.whole, e.bytes, e.tokens));
        Probe {
            encoding,
            head,
            len: text.len(),
            entry,
            whole: None,
            verified: false,
        }
    })
}

fn whole_hash(text: &str) -> Option<u64> {
    with(|s| s.state.hash_one(text.as_bytes()))
}

impl Probe {
    /// How far `text` (the text probed) was counted before: `(bytes, tokens)`, the bytes a piece
    /// boundary; only when its entry's whole hash is `text`'s (this hashes the whole text).
    pub(super) fn resume(&mut self, text: &str) -> Option<(usize, usize)> {
        let (Some(whole), bytes, tokens) = self.entry? else {
            return None;
        };
        let mine = whole_hash(text)?;
        self.whole = Some(mine);
        self.verified = mine == whole;
        self.verified.then_some((bytes, tokens))
    }

    /// Remembers that `text` (the text probed) has `tokens` tokens in its first `bytes` bytes (a
    /// piece boundary). A text no entry named is remembered without its whole hash (it costs
    /// nothing more the first time); one an entry named gets it, so its next count can resume.
    pub(super) fn record(self, text: &str, bytes: usize, tokens: usize) {
        if bytes == 0 {
            return;
        }
        if let Some((_, known, _)) = self.entry {
            if self.verified && known >= bytes {
                return;
            }
        }
        let whole = match (self.entry, self.whole) {
            (None, _) => None,
            (Some(_), Some(w)) => Some(w),
            (Some(_), None) => whole_hash(text),
        };
        with(|s| {
            let slots = &mut s.slots[self.encoding];
            if slots.is_empty() {
                slots.resize(SLOTS, Slot::default());
            }
            slots[slot_of(self.head, self.len)] = Slot {
                head: self.head,
                len: self.len,
                whole,
                bytes,
                tokens,
            };
        });
    }
}

/// Forgets every text of this thread's table.
pub(super) fn forget() {
    with(|s| s.slots.iter_mut().for_each(Vec::clear));
}

fn slot_of(head: u64, len: usize) -> usize {
    ((head ^ (len as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) as usize) & (SLOTS - 1)
}

#[cfg(test)]
mod tests {
    use super::super::{Encoding, Tokenizer};
    use super::{forget, probe};

    /// A text of `n` words of prose-like English, different for each `seed`.
    fn prose(seed: u64, n: usize) -> alloc::string::String {
        const WORDS: [&str; 12] = [
            "the",
            "answer",
            "of",
            "quarterly",
            "review",
            "models",
            "token",
            "window",
            "and",
            "history",
            "agent",
            "step",
        ];
        let mut x = seed | 1;
        let mut s = alloc::string::String::new();
        for _ in 0..n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.push(' ');
            s.push_str(WORDS[(x % 12) as usize]);
        }
        s
    }

    /// `(whole hash taken, bytes, tokens)` of `text`'s entry.
    fn entry(text: &str) -> Option<(bool, usize, usize)> {
        let p = probe(Encoding::O200kBase, text)?;
        p.entry.map(|(w, b, n)| (w.is_some(), b, n))
    }

    #[test]
    fn a_text_counted_again_resumes_from_its_third_count_with_the_same_counts() {
        forget();
        let t = Tokenizer::new(Encoding::O200kBase);
        let text = prose(7, 3000);
        let exact = t.encode(&text).len();
        // The first lazy pass stops once enough is saved: an entry without the whole hash.
        let first = t.count_until(&text, usize::MAX, 5000);
        assert!(first.bytes < text.len(), "{first:?}");
        assert_eq!(entry(&text), Some((false, first.bytes, first.tokens)));
        // The second counts again (nothing trusted yet) and takes the whole hash.
        let second = t.count_until(&text, usize::MAX, 5000);
        assert_eq!((second.tokens, second.bytes), (first.tokens, first.bytes));
        assert_eq!(entry(&text), Some((true, first.bytes, first.tokens)));
        // The third resumes there and stops at once: it pays the hash (a 32nd a byte) only.
        let third = t.count_until(&text, usize::MAX, 5000);
        assert_eq!((third.tokens, third.bytes), (first.tokens, first.bytes));
        assert_eq!(third.cost, text.len().div_ceil(4).div_ceil(8));
        assert!(second.cost > third.cost, "{second:?} {third:?}");
        // Asked for more, it goes on from there to the exact count.
        let all = t.count_until(&text, usize::MAX, usize::MAX);
        assert_eq!((all.tokens, all.bytes), (exact, text.len()));
        assert_eq!(entry(&text), Some((true, text.len(), exact)));
        assert_eq!(t.count(&text), exact);
        // A budget too small to pay for the hash counts as if the text were new.
        let small = t.count_until(&text, 10, usize::MAX);
        assert!(small.bytes <= 80, "{small:?}");
        // The other encoding has its own table and its own counts.
        let c = Tokenizer::new(Encoding::Cl100kBase);
        for _ in 0..3 {
            assert_eq!(c.count(&text), c.encode(&text).len());
        }
    }

    #[test]
    fn a_text_with_the_same_head_and_length_is_never_given_anothers_count() {
        forget();
        let t = Tokenizer::new(Encoding::O200kBase);
        let a = prose(11, 2000);
        // The same first kilobyte and length, another tail: found by the same entry.
        let mut b = a.clone();
        b.replace_range(b.len() - 600.., &"x".repeat(600));
        assert_eq!(a.len(), b.len());
        for _ in 0..3 {
            assert_eq!(t.count(&a), t.encode(&a).len());
        }
        assert_eq!(entry(&a), Some((true, a.len(), t.encode(&a).len())));
        // `b` finds `a`'s entry, but the whole hash differs: counted, and then it owns the slot.
        for _ in 0..3 {
            assert_eq!(t.count(&b), t.encode(&b).len());
        }
        assert_ne!(t.encode(&a).len(), t.encode(&b).len());
        assert_eq!(entry(&b), Some((true, b.len(), t.encode(&b).len())));
        // Short texts are never remembered; they are counted as before.
        assert!(probe(Encoding::O200kBase, "short").is_none());
    }
}
