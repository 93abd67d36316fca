//! Exact token counts for OpenAI's `o200k_base` and `cl100k_base` encodings.
//!
//! The token IDs equal those of OpenAI's `tiktoken` (`encode_ordinary`: special-token strings are
//! ordinary text) on every input. The pre-tokenizer patterns are hand-written scanners over
//! Unicode tables generated from the regex engine's own, merging is O(n log n) on long pieces, and
//! the vocabularies are compact files compiled into the crate and indexed at set-up.
//!
//! ```
//! use airlock_rules::tokenizer::{Encoding, Tokenizer};
//!
//! let t = Tokenizer::new(Encoding::O200kBase);
//! assert_eq!(t.encode("Hello world"), [13225, 2375]);
//! assert_eq!(t.count("Hello world"), 2);
//! ```

mod bpe;
mod pretok;
mod queue;
pub mod request;
mod unicode;
mod vocab;
mod vocab_file;

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

/// A tokenizer encoding.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Encoding {
    /// `o200k_base`: GPT-4o, GPT-4.1, GPT-4.5, GPT-5 and the o-series.
    O200kBase,
    /// `cl100k_base`: GPT-4, GPT-3.5 Turbo and the `text-embedding-3` / `ada-002` embeddings.
    Cl100kBase,
}

impl Encoding {
    /// Every encoding this crate knows.
    pub const ALL: [Encoding; 2] = [Encoding::O200kBase, Encoding::Cl100kBase];

    /// The name tiktoken uses, e.g. `"o200k_base"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::O200kBase => "o200k_base",
            Encoding::Cl100kBase => "cl100k_base",
        }
    }

    /// The encoding called `name` (tiktoken's name).
    ///
    /// # Example
    /// ```
    /// use airlock_rules::tokenizer::Encoding;
    /// assert_eq!(Encoding::from_name("cl100k_base"), Some(Encoding::Cl100kBase));
    /// assert_eq!(Encoding::from_name("p50k_base"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Encoding> {
        Encoding::ALL.into_iter().find(|e| e.as_str() == name)
    }

    /// The encoding a model uses, by its name, from the model data (`rules/model_capabilities.toml`,
    /// longest prefix; tiktoken's tables). A fine-tune `ft:base:…` counts as its base, and an
    /// `openai/` routing prefix is ignored. `None` for a model of another family.
    ///
    /// # Example
    /// ```
    /// use airlock_rules::tokenizer::Encoding;
    /// assert_eq!(Encoding::for_model("gpt-4o-mini"), Some(Encoding::O200kBase));
    /// assert_eq!(Encoding::for_model("gpt-4-turbo"), Some(Encoding::Cl100kBase));
    /// assert_eq!(Encoding::for_model("ft:gpt-4o-mini-2024-07-18:acme::x1"), Some(Encoding::O200kBase));
    /// assert_eq!(Encoding::for_model("whisper-1"), None);
    /// ```
    pub fn for_model(model: &str) -> Option<Encoding> {
        use crate::validate::tables::TokenEncoding;
        let m = model.strip_prefix("openai/").unwrap_or(model);
        crate::validate::models::encoding(m).map(|e| match e {
            TokenEncoding::O200kBase => Encoding::O200kBase,
            TokenEncoding::Cl100kBase => Encoding::Cl100kBase,
        })
    }

    /// The plain (`ATK1`) vocabulary, decoded from the committed `ATK2` file.
    ///
    /// # Panics
    /// When the committed file is not well formed (codegen checks that it decodes), or, with
    /// `vocabularies-extern` on wasm32, when no source was set or it did not hand over that file.
    fn data(self) -> Vec<u8> {
        vocab_file::decode(&self.coded()).expect("bad vocabulary file")
    }

    /// The committed `ATK2` file of this encoding, as compiled into the crate.
    #[cfg(not(all(feature = "vocabularies-extern", target_arch = "wasm32")))]
    fn coded(self) -> Cow<'static, [u8]> {
        Cow::Borrowed(match self {
            Encoding::O200kBase => include_bytes!("../generated/tokenizer/o200k_base.bin"),
            Encoding::Cl100kBase => include_bytes!("../generated/tokenizer/cl100k_base.bin"),
        })
    }

    /// The committed `ATK2` file of this encoding, from the source the embedder set.
    #[cfg(all(feature = "vocabularies-extern", target_arch = "wasm32"))]
    fn coded(self) -> Cow<'static, [u8]> {
        let source = VOCABULARY_SOURCE.get().expect("no vocabulary source set");
        Cow::Owned(source(self))
    }
}

#[cfg(all(feature = "vocabularies-extern", target_arch = "wasm32"))]
static VOCABULARY_SOURCE: std::sync::OnceLock<fn(Encoding) -> Vec<u8>> = std::sync::OnceLock::new();

/// Where the vocabulary files come from when they are not compiled in (`vocabularies-extern` on
/// wasm32): `source(encoding)` returns the bytes of `generated/tokenizer/<encoding name>.bin` as
/// committed. Called once per encoding, when its tokenizer is first built; set it before the first
/// count (a second call changes nothing). Elsewhere the vocabularies are compiled in and this does
/// nothing.
///
/// # Example
/// ```
/// use airlock_rules::tokenizer::{set_vocabulary_source, Encoding};
/// fn from_files(e: Encoding) -> Vec<u8> {
///     std::fs::read(format!("src/generated/tokenizer/{}.bin", e.as_str())).unwrap_or_default()
/// }
/// set_vocabulary_source(from_files);
/// ```
#[cfg(feature = "std")]
pub fn set_vocabulary_source(source: fn(Encoding) -> Vec<u8>) {
    #[cfg(all(feature = "vocabularies-extern", target_arch = "wasm32"))]
    {
        let _ = VOCABULARY_SOURCE.set(source);
    }
    let _ = source;
}

impl core::fmt::Display for Encoding {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tokenizer for one encoding. Building one indexes the vocabulary (a few milliseconds); keep it
/// and reuse it (with `std`, [`Tokenizer::shared`] keeps one per encoding).
#[derive(Debug)]
pub struct Tokenizer {
    encoding: Encoding,
    vocab: vocab::Vocab,
}

impl Tokenizer {
    /// Builds the tokenizer of `encoding`.
    pub fn new(encoding: Encoding) -> Tokenizer {
        Tokenizer {
            encoding,
            vocab: vocab::Vocab::new(encoding.data()),
        }
    }

    /// The process-wide tokenizer of `encoding`, built on first use.
    #[cfg(feature = "std")]
    pub fn shared(encoding: Encoding) -> &'static Tokenizer {
        use std::sync::OnceLock;
        static O200K: OnceLock<Tokenizer> = OnceLock::new();
        static CL100K: OnceLock<Tokenizer> = OnceLock::new();
        let cell = match encoding {
            Encoding::O200kBase => &O200K,
            Encoding::Cl100kBase => &CL100K,
        };
        cell.get_or_init(|| Tokenizer::new(encoding))
    }

    /// The encoding.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Number of tokens in the vocabulary (without special tokens).
    pub fn vocab_size(&self) -> usize {
        self.vocab.len()
    }

    /// Calls `out` with each token of `text`, in order.
    ///
    /// With `std`, the memo of recent pieces and their tokens lives across calls (one per thread
    /// and encoding, about 600 KB), so counting many messages of one
    /// conversation, or the same text again, skips the merging of words already seen. Without
    /// `std`, each call of a long text (16 KB or more) starts a fresh memo.
    pub fn encode_with(&self, text: &str, mut out: impl FnMut(u32)) {
        #[cfg(feature = "std")]
        {
            if cached::with(self.encoding, |s| self.encode_in(text, s, &mut out)).is_some() {
                return;
            }
        }
        let mut scratch = bpe::Scratch::default();
        // A fresh memo costs filling its 512 KB: worth it on long texts only.
        scratch.use_memo = text.len() >= 16 * 1024;
        self.encode_in(text, &mut scratch, &mut out);
    }

    /// Counts the tokens of the longest prefix of `text` made of whole pre-tokenizer pieces
    /// (split as in the whole text, so their tokens are exactly those of the whole) whose cost
    /// stays within `budget`, and stops at the first piece that may not fit.
    ///
    /// The cost follows the work: a piece that is merged costs its length in bytes, twice its
    /// length when longer than [`LONG_PIECE_BYTES`] (long pieces merge slower); a piece found
    /// whole in the vocabulary or in the memo of recent pieces costs an eighth of its length
    /// (repeated words, most of natural text, are cheap). A piece is counted only if its full
    /// cost fits what is left; a piece longer than [`MAX_PIECE_BYTES`] is never counted within a
    /// finite budget. How far a long text gets may thus depend on the memo's state; the tokens
    /// counted never do. With `budget == usize::MAX` everything is counted, as
    /// [`Tokenizer::count`] counts it. Since every token is at least one byte and at most
    /// [`Tokenizer::max_token_bytes`] bytes, the text not counted has between
    /// `ceil(rest / max_token_bytes)` and `rest` tokens.
    ///
    /// # Example
    /// ```
    /// use airlock_rules::tokenizer::{Encoding, Tokenizer};
    /// let t = Tokenizer::new(Encoding::O200kBase);
    /// let c = t.count_within("Hello world", 6);
    /// assert_eq!((c.tokens, c.bytes), (1, 5)); // "Hello"; " world" did not fit
    /// assert_eq!(t.count_within("Hello world", usize::MAX).tokens, 2);
    /// ```
    pub fn count_within(&self, text: &str, budget: usize) -> Counted {
        self.count_until(text, budget, usize::MAX)
    }

    /// [`Tokenizer::count_within`] that also stops, at a piece boundary, as soon as the prefix
    /// counted has `enough` fewer tokens than bytes (`bytes - tokens >= enough`): the
    /// context-length rule counts only until the text left, at a token a byte, surely fits.
    ///
    /// # Example
    /// ```
    /// use airlock_rules::tokenizer::{Encoding, Tokenizer};
    /// let t = Tokenizer::new(Encoding::O200kBase);
    /// let c = t.count_until(&" word".repeat(100), usize::MAX, 10);
    /// assert_eq!((c.tokens, c.bytes), (3, 15)); // 15 bytes in 3 tokens: 12 saved
    /// ```
    pub fn count_until(&self, text: &str, budget: usize, enough: usize) -> Counted {
        let mut counted = Counted::default();
        // In eighths of a byte.
        let budget = budget.saturating_mul(8);
        let mut run = |scratch: &mut bpe::Scratch| {
            let b = text.as_bytes();
            let (mut n, mut spent, mut i) = (0usize, 0usize, 0usize);
            while i < b.len() {
                let e = self.next_piece(b, i);
                let piece = &b[i..e];
                let cost = piece_cost(piece.len()).saturating_mul(8);
                if spent.saturating_add(cost) > budget {
                    break;
                }
                // A piece known without merging (most of natural text) costs an eighth; the
                // rest goes out of line, so this loop stays small.
                let cost = match bpe::count_known(&self.vocab, piece, scratch) {
                    Some(k) => {
                        n += k;
                        piece.len()
                    }
                    None => {
                        let merged = scratch.merged;
                        n += bpe::count_piece(&self.vocab, piece, scratch);
                        if scratch.merged == merged {
                            piece.len()
                        } else {
                            cost
                        }
                    }
                };
                spent = spent.saturating_add(cost);
                i = e;
                if i - n >= enough {
                    break;
                }
            }
            counted.bytes = i;
            counted.tokens = n;
            counted.cost = spent.div_ceil(8);
        };
        #[cfg(feature = "std")]
        {
            if cached::with(self.encoding, &mut run).is_some() {
                return counted;
            }
        }
        let mut scratch = bpe::Scratch::default();
        scratch.use_memo = text.len() >= 16 * 1024;
        run(&mut scratch);
        counted
    }

    /// The longest token of the vocabulary, in bytes: a text of `n` bytes has at least
    /// `ceil(n / max_token_bytes)` tokens.
    pub fn max_token_bytes(&self) -> usize {
        match self.encoding {
            Encoding::O200kBase => O200K_MAX_TOKEN_BYTES,
            Encoding::Cl100kBase => CL100K_MAX_TOKEN_BYTES,
        }
    }

    fn encode_in(&self, text: &str, scratch: &mut bpe::Scratch, out: &mut impl FnMut(u32)) {
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let e = self.next_piece(b, i);
            bpe::encode_piece(&self.vocab, &b[i..e], scratch, out);
            i = e;
        }
    }

    /// The tokens of `text`, as tiktoken's `encode_ordinary` gives them.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut v = Vec::with_capacity(text.len() / 3 + 1);
        self.encode_with(text, |t| v.push(t));
        v
    }

    /// The number of tokens of `text`.
    pub fn count(&self, text: &str) -> usize {
        let mut n = 0;
        self.encode_with(text, |_| n += 1);
        n
    }

    /// The tokens of `bytes` read as UTF-8, each invalid sequence replaced by U+FFFD (as
    /// tiktoken sees a Python string decoded with `errors="replace"`).
    pub fn encode_bytes(&self, bytes: &[u8]) -> Vec<u32> {
        self.encode(&lossy(bytes))
    }

    /// The number of tokens of `bytes` (see [`Tokenizer::encode_bytes`]).
    pub fn count_bytes(&self, bytes: &[u8]) -> usize {
        self.count(&lossy(bytes))
    }

    /// The pre-tokens of `text` (the matches of the encoding's pattern); for tests.
    #[doc(hidden)]
    pub fn pre_tokens<'a>(&self, text: &'a str) -> Vec<&'a str> {
        let b = text.as_bytes();
        let mut v = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let e = self.next_piece(b, i);
            v.push(&text[i..e]);
            i = e;
        }
        v
    }

    #[inline]
    fn next_piece(&self, b: &[u8], i: usize) -> usize {
        match self.encoding {
            Encoding::O200kBase => pretok::next_o200k(b, i),
            Encoding::Cl100kBase => pretok::next_cl100k(b, i),
        }
    }

    /// The bytes of `tokens` concatenated; `None` if one is not in the vocabulary.
    pub fn decode_bytes(&self, tokens: &[u32]) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for &t in tokens {
            if t as usize >= self.vocab.len() {
                return None;
            }
            out.extend_from_slice(self.vocab.token(t));
        }
        Some(out)
    }
}

/// What [`Tokenizer::count_within`] counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counted {
    /// The tokens of the prefix counted.
    pub tokens: usize,
    /// The prefix counted, in bytes (a pre-tokenizer piece boundary).
    pub bytes: usize,
    /// The budget it spent (rounded up).
    pub cost: usize,
}

/// Pieces longer than this cost twice their length in [`Tokenizer::count_within`] when merged
/// (they are merged with a heap). Measured on random letters (x86_64, release, a shared machine):
/// pieces of 8–48 bytes merge at 47–76 ns a byte, of 49–256 bytes at 85–95, of 1–64 KiB at
/// 84–155; text whose pieces are found whole (repeated English words) takes about 4 ns a byte,
/// hence an eighth.
pub const LONG_PIECE_BYTES: usize = 48;

/// Pieces longer than this are never counted within a finite budget: one piece of 1 MiB of
/// letters took 388 ns a byte to merge (the heap outgrows the caches).
pub const MAX_PIECE_BYTES: usize = 64 * 1024;

const O200K_MAX_TOKEN_BYTES: usize = 128;
const CL100K_MAX_TOKEN_BYTES: usize = 128;

fn piece_cost(len: usize) -> usize {
    if len <= LONG_PIECE_BYTES {
        len
    } else if len <= MAX_PIECE_BYTES {
        2 * len
    } else {
        usize::MAX
    }
}

/// The per-thread memo of pieces across calls (`std` only: `thread_local!`).
#[cfg(feature = "std")]
mod cached {
    use super::{Encoding, bpe::Scratch};
    use alloc::boxed::Box;
    use core::cell::RefCell;

    std::thread_local! {
        static SCRATCH: RefCell<[Option<Box<Scratch>>; 2]> = const { RefCell::new([None, None]) };
    }

    /// Runs `f` with this thread's scratch for `encoding`; `None` (without running `f`) when it
    /// is in use (`f` re-entered the tokenizer) or the thread is ending.
    pub(super) fn with<R>(encoding: Encoding, f: impl FnOnce(&mut Scratch) -> R) -> Option<R> {
        let i = match encoding {
            Encoding::O200kBase => 0,
            Encoding::Cl100kBase => 1,
        };
        SCRATCH
            .try_with(|cell| {
                let mut slots = cell.try_borrow_mut().ok()?;
                let s = slots[i].get_or_insert_with(|| {
                    let mut s = Box::<Scratch>::default();
                    s.use_memo = true;
                    s
                });
                let r = f(s);
                s.trim();
                Some(r)
            })
            .ok()
            .flatten()
    }
}

fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_token_bytes_is_the_vocabularys() {
        for e in Encoding::ALL {
            let t = Tokenizer::new(e);
            let longest = (0..t.vocab_size() as u32)
                .map(|r| t.vocab.token(r).len())
                .max()
                .unwrap();
            assert_eq!(t.max_token_bytes(), longest, "{e}");
        }
    }

    #[test]
    fn count_within_counts_whole_pieces_and_stops() {
        let t = Tokenizer::new(Encoding::O200kBase);
        let text = " word".repeat(1000);
        let all = t.count_within(&text, usize::MAX);
        assert_eq!((all.tokens, all.bytes), (t.count(&text), text.len()));
        // A fresh memo (no_std-like): " word" is one token, found in the vocabulary, so each
        // piece costs an eighth of its length (1).
        // Each costs 5/8, and the next is counted only if its full cost (5) fits.
        let all = t.count_within(&text, 630);
        assert_eq!((all.tokens, all.bytes, all.cost), (1000, 5000, 625));
        assert_eq!(t.count_within(&text, 629).bytes, 4995);
        // Merged pieces cost their length: random 7-letter words, never seen before.
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut words = String::new();
        for _ in 0..100 {
            words.push(' ');
            for _ in 0..7 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                words.push(char::from(b'a' + (x % 26) as u8));
            }
        }
        let merged = t.count_within(&words, 80);
        assert_eq!((merged.bytes, merged.cost), (80, 80));
        // A piece over MAX_PIECE_BYTES is never counted within a finite budget.
        let long = "a".repeat(MAX_PIECE_BYTES + 1);
        assert_eq!(t.count_within(&long, 1 << 40).bytes, 0);
        assert_eq!(t.count_within(&long, usize::MAX).tokens, t.count(&long));
        // Long pieces cost twice their length.
        let piece = "bq".repeat(50); // one piece of 100 letters
        assert_eq!(t.count_within(&piece, 199).bytes, 0);
        assert_eq!(t.count_within(&piece, 200).cost, 200);
    }
}
