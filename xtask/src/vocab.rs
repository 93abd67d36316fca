//! The worker's vocabularies as Data modules (issue 14a): after `worker-build`, the two committed
//! vocabulary files are written next to `build/index.js`, and `index.js` imports them at its top
//! and hands them to the wasm through a global (`crates/airlock-worker/src/vocab.rs`). Out of the
//! wasm's data segments, they are no longer hashed and copied by every cold start's compile and
//! instantiation.

use std::path::Path;

use crate::util;

/// The encodings' names, as the rules crate's `Encoding::as_str` and the file names have them.
const ENCODINGS: [&str; 2] = ["o200k_base", "cl100k_base"];

/// The first line of the import block, to tell a patched `index.js` from a fresh one.
const MARK: &str = "// airlock: the tokenizer's vocabularies (cargo xtask build-worker; issue 14a)";

/// Copies the vocabularies into `build` and imports them at the top of `build/index.js`.
pub fn ship(build: &Path) -> Result<(), String> {
    let source = util::root()
        .join("crates")
        .join("airlock-rules")
        .join("src")
        .join("generated")
        .join("tokenizer");
    let mut block = format!("{MARK}\n");
    for name in ENCODINGS {
        let file = format!("{name}.bin");
        let (from, to) = (source.join(&file), build.join(&file));
        std::fs::copy(&from, &to)
            .map_err(|e| format!("{} -> {}: {e}", from.display(), to.display()))?;
        block.push_str(&format!("import {name} from \"./{file}\";\n"));
    }
    block.push_str(&format!(
        "globalThis.__airlock_vocabularies = {{ {} }};\n",
        ENCODINGS.join(", ")
    ));
    let index = build.join("index.js");
    let text = std::fs::read_to_string(&index).map_err(|e| format!("{}: {e}", index.display()))?;
    if !text.starts_with(MARK) {
        std::fs::write(&index, block + &text).map_err(|e| format!("{}: {e}", index.display()))?;
    }
    Ok(())
}
