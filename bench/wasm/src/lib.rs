//! Exports for `bench.mjs`: set up a tokenizer, hand it a text, count its tokens.
#![allow(unsafe_code)] // the wasm ABI: raw pointers into linear memory

use airlock_rules::tokenizer::{Encoding, Tokenizer};
use std::sync::Mutex;

static TOKENIZER: Mutex<Option<Tokenizer>> = Mutex::new(None);
static BUFFER: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Builds the tokenizer (0 = o200k_base, 1 = cl100k_base); returns its vocabulary size.
#[unsafe(no_mangle)]
pub extern "C" fn setup(which: u32) -> u32 {
    let enc = if which == 0 {
        Encoding::O200kBase
    } else {
        Encoding::Cl100kBase
    };
    let t = Tokenizer::new(enc);
    let n = t.vocab_size() as u32;
    *TOKENIZER.lock().unwrap() = Some(t);
    n
}

/// A buffer of `len` bytes for the text; returns its address.
#[unsafe(no_mangle)]
pub extern "C" fn buffer(len: u32) -> *mut u8 {
    let mut b = BUFFER.lock().unwrap();
    b.clear();
    b.resize(len as usize, 0);
    b.as_mut_ptr()
}

/// Counts the tokens of the buffer's bytes.
#[unsafe(no_mangle)]
pub extern "C" fn count() -> u32 {
    let b = BUFFER.lock().unwrap();
    let t = TOKENIZER.lock().unwrap();
    t.as_ref().map_or(0, |t| t.count_bytes(&b) as u32)
}
