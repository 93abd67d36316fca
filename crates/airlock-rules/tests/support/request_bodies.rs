//! Every JSON body under the repository's `tests/requests/` (real rejected and accepted bodies,
//! held-out splits, the hand-made near misses), sorted by path: for tests that compare two ways of
//! reading a body on all of them. Included with `#[path = "support/request_bodies.rs"] mod
//! request_bodies;` (the `support` module holds the tokenizer corpus, which these tests do not use).

use std::path::{Path, PathBuf};

/// The paths of every `.json` file under `tests/requests/`, sorted.
pub fn all() -> Vec<PathBuf> {
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/requests"),
        &mut files,
    );
    files.sort();
    files
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|x| x == "json") {
            out.push(path);
        }
    }
}
