//! Issue 11, bug 11: an upload's verdict must not depend on how the network cut its body.
//!
//! Multipart bodies are built from the Batch files under `tests/batch/` (with `purpose` before or
//! after the file, CRLF framing) and pushed whole and in random chunks (1-byte chunks, splits
//! inside the boundary); the pump's mode, note, errors and the bytes it released (push outputs
//! plus `finish`) must be the same every time, and so must `Multipart`'s errors.

use std::path::PathBuf;

use airlock_rules::upload::{Multipart, Pump};
use airlock_rules::validate::Config;
use proptest::prelude::*;

const BOUNDARIES: [&str; 3] = [
    "----WebKitFormBoundary7MA4YWxkTrZu0gW",
    "c0a3f5e9b6d1c2e84f7a9b3d5e6f7081",
    "XyZ",
];

/// `purpose` values; padded ones are longer than the few bytes the reader keeps of the field.
const PURPOSES: [&str; 5] = [
    "batch",
    "fine-tune",
    "assistants",
    "batch                                                                                ",
    "  batch\t\t                                                                     \t x",
];

fn batch_files() -> Vec<(String, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/batch");
    let mut out = Vec::new();
    for dir in [root.clone(), root.join("real")] {
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        paths.sort();
        for p in paths {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            out.push((name, std::fs::read(&p).unwrap()));
        }
    }
    assert!(out.len() >= 5, "{} batch files", out.len());
    out
}

fn body(boundary: &str, file: &[u8], purpose: &str, purpose_first: bool) -> Vec<u8> {
    let purpose_part = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n{purpose}\r\n"
    )
    .into_bytes();
    let mut file_part = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    file_part.extend_from_slice(file);
    file_part.extend_from_slice(b"\r\n");
    let mut b = Vec::new();
    if purpose_first {
        b.extend(purpose_part.iter().chain(&file_part));
    } else {
        b.extend(file_part.iter().chain(&purpose_part));
    }
    b.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    b
}

/// Chunk ends: sorted, deduplicated, inside the body.
fn chunks<'a>(b: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(b.len())).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = Vec::new();
    let mut at = 0;
    for c in cuts {
        out.push(&b[at..c]);
        at = c;
    }
    out.push(&b[at..]);
    out
}

#[derive(Debug, PartialEq)]
struct Outcome {
    mode: String,
    note: String,
    errors: String,
    released: Vec<u8>,
    multipart_errors: String,
}

fn outcome(boundary: &str, parts: &[&[u8]]) -> Outcome {
    let mut pump = Pump::new(boundary, Config::default(), 1 << 20);
    let mut released = Vec::new();
    let mut reader = Multipart::new(boundary, Config::default());
    for p in parts {
        released.extend(pump.push(p));
        reader.push(p);
    }
    released.extend(pump.finish());
    Outcome {
        mode: format!("{:?}", pump.mode()),
        note: format!("{:?}", pump.note()),
        errors: format!("{:?}", pump.errors()),
        released,
        multipart_errors: format!("{:?}", reader.errors()),
    }
}

fn check(boundary: &str, b: &[u8], cuts: &[usize]) -> Result<(), String> {
    let whole = outcome(boundary, &[b]);
    let parts = chunks(b, cuts);
    let mut chunked = outcome(boundary, &parts);
    // A rejected upload has released the lines judged good before the bad one, as they were
    // judged: how many depends on the chunks. What went is a prefix of the body all the same.
    if whole.mode == "Rejected" && chunked.mode == "Rejected" {
        if !b.starts_with(&chunked.released) {
            return Err("released bytes are not a prefix of the body".into());
        }
        chunked.released.clone_from(&whole.released);
    }
    if whole != chunked {
        let sizes: Vec<usize> = parts.iter().map(|p| p.len()).collect();
        return Err(format!(
            "chunks {sizes:?}\nwhole:   {:?} {:?} {}\nchunked: {:?} {:?} {}\nreleased equal: {}\nmultipart whole:   {}\nmultipart chunked: {}",
            whole.mode,
            whole.note,
            whole.errors,
            chunked.mode,
            chunked.note,
            chunked.errors,
            whole.released == chunked.released,
            whole.multipart_errors,
            chunked.multipart_errors,
        ));
    }
    Ok(())
}

#[test]
fn one_byte_chunks_give_the_same_verdict_as_the_whole_body() {
    for (name, file) in batch_files() {
        for purpose_first in [true, false] {
            for purpose in PURPOSES {
                let boundary = BOUNDARIES[0];
                let b = body(boundary, &file, purpose, purpose_first);
                let cuts: Vec<usize> = (1..b.len()).collect();
                if let Err(e) = check(boundary, &b, &cuts) {
                    panic!("{name}, purpose {purpose} first {purpose_first}: {e}");
                }
            }
        }
    }
}

/// Found by the `upload` fuzz target: with two `purpose` parts (`batch`, then `fine-tune`), the
/// second changed the decision when it came in the same chunk as the first, not after it.
#[test]
fn a_second_purpose_part_does_not_change_the_verdict() {
    let boundary = BOUNDARIES[0];
    let bad = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/batch/bad_chat.jsonl"),
    )
    .unwrap();
    for (first, second) in [("batch", "fine-tune"), ("fine-tune", "batch")] {
        let mut b = body(boundary, &bad, first, true);
        let extra = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n{second}\r\n"
        );
        let end = b.len() - format!("--{boundary}--\r\n").len();
        b.splice(end..end, extra.bytes());
        for step in [1, 7, 64, 300, b.len()] {
            let cuts: Vec<usize> = (step..b.len()).step_by(step).collect();
            if let Err(e) = check(boundary, &b, &cuts) {
                panic!("purpose {first} then {second}, step {step}: {e}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]
    #[test]
    fn any_chunking_gives_the_same_verdict(
        which in any::<prop::sample::Index>(),
        boundary in prop::sample::select(&BOUNDARIES[..]),
        purpose_first in any::<bool>(),
        purpose in prop::sample::select(&PURPOSES[..]),
        random_cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        near_boundary in prop::collection::vec((any::<prop::sample::Index>(), 0usize..48), 0..6),
        byte_run in prop::option::of((any::<prop::sample::Index>(), 1usize..64)),
    ) {
        let files = batch_files();
        let (name, file) = &files[which.index(files.len())];
        let b = body(boundary, file, purpose, purpose_first);
        let mut cuts: Vec<usize> = random_cuts.iter().map(|i| i.index(b.len() + 1)).collect();
        // Splits inside a boundary: at an offset into one of its occurrences.
        let delim = format!("\r\n--{boundary}");
        let at: Vec<usize> = b
            .windows(delim.len())
            .enumerate()
            .filter(|(_, w)| *w == delim.as_bytes())
            .map(|(i, _)| i)
            .collect();
        for (i, off) in near_boundary {
            if !at.is_empty() {
                cuts.push((at[i.index(at.len())] + off).min(b.len()));
            }
        }
        // A run of 1-byte chunks.
        if let Some((i, n)) = byte_run {
            let s = i.index(b.len() + 1);
            cuts.extend(s..(s + n).min(b.len()));
        }
        if let Err(e) = check(boundary, &b, &cuts) {
            prop_assert!(false, "{name}, purpose {purpose}, first {purpose_first}: {e}");
        }
    }
}
