//! The tokenizer's vocabularies, shipped beside the wasm as two Data modules (issue 14a).
//!
//! Compiled in, the two vocabulary files (~2 MB) were data segments of the worker's wasm module:
//! hashed and copied when workerd compiles the module and copied into memory when it is
//! instantiated, on every cold start, though most requests never count a token (the context
//! budget counts lazily). Now the rules crate is built with `vocabularies-extern`, and
//! `cargo xtask build-worker` writes `o200k_base.bin` and `cl100k_base.bin` (the committed
//! `generated/tokenizer/` files) next to `build/index.js` and imports them at its top:
//!
//! ```js
//! import o200k_base from "./o200k_base.bin";
//! import cl100k_base from "./cl100k_base.bin";
//! globalThis.__airlock_vocabularies = { o200k_base, cl100k_base };
//! ```
//!
//! The imports are static, so a bundle without the files does not load at all (wrangler's and
//! Miniflare's `Data` module rule for `**/*.bin` ships them); a tokenizer is built from them on
//! its encoding's first count, which copies the file into the wasm memory once per isolate.

use airlock_rules::tokenizer::{self, Encoding};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = "export function airlock_vocabulary(name) {
  const all = globalThis.__airlock_vocabularies;
  return all === undefined ? undefined : all[name];
}")]
extern "C" {
    /// The `ArrayBuffer` of the Data module `<name>.bin`, or `undefined`.
    fn airlock_vocabulary(name: &str) -> JsValue;
}

/// The committed vocabulary file of `encoding` (empty if the bundle lacks it, which the rules
/// crate reports as a bad vocabulary file; a bundle built by `build-worker` cannot lack it).
fn coded(encoding: Encoding) -> Vec<u8> {
    let buffer = airlock_vocabulary(encoding.as_str());
    if buffer.is_undefined() {
        return Vec::new();
    }
    js_sys::Uint8Array::new(&buffer).to_vec()
}

/// Tells the rules crate where the vocabularies are (once per isolate; later calls do nothing).
pub fn install() {
    tokenizer::set_vocabulary_source(coded);
}
