//! Character classes for the tokenizer's pre-tokenizers, taken from the tables of `regex-syntax`
//! (the Unicode tables of the `regex`/`fancy-regex` engine that `tiktoken` runs), not from Rust's
//! `char` methods, so `\p{L}`, `\p{N}`, `\p{M}` and `\s` mean exactly what they mean to tiktoken.
//!
//! Output: `crates/airlock-rules/src/generated/tokenizer/unicode_classes.rs`, a two-stage table mapping every
//! code point to one class number (see `CLASSES`).

use std::path::PathBuf;

use regex_syntax::hir::{Class, HirKind};

use super::{HEADER, Output};

/// Class numbers, in the order the tokenizer's `Class` enum declares them.
const CLASSES: &[(&str, &str)] = &[
    ("Other", ""), // anything else: punctuation, symbols, controls, unassigned
    ("Upper", r"[\p{Lu}\p{Lt}]"),
    ("Lower", r"\p{Ll}"),
    ("LetterOther", r"[\p{Lm}\p{Lo}]"),
    ("Mark", r"\p{M}"),
    ("Number", r"\p{N}"),
    ("Space", r"\s"),
];

/// Block size of the second stage, as a shift.
const SHIFT: u32 = 7;

fn ranges(pattern: &str) -> Result<Vec<(u32, u32)>, String> {
    let hir = regex_syntax::Parser::new()
        .parse(pattern)
        .map_err(|e| format!("{pattern}: {e}"))?;
    match hir.kind() {
        HirKind::Class(Class::Unicode(c)) => Ok(c
            .ranges()
            .iter()
            .map(|r| (r.start() as u32, r.end() as u32))
            .collect()),
        other => Err(format!("{pattern}: not a class: {other:?}")),
    }
}

/// The code points that `(?i:x)` matches besides `x` itself, checked against the tokenizer's
/// hand-written contraction matcher: only `s` has one (U+017F LATIN SMALL LETTER LONG S).
fn check_case_folds() -> Result<(), String> {
    for letter in ['s', 't', 'r', 'e', 'v', 'm', 'l', 'd'] {
        let mut got: Vec<char> = Vec::new();
        for (a, b) in ranges(&format!("(?i:{letter})"))? {
            got.extend((a..=b).filter_map(char::from_u32));
        }
        let mut want = vec![letter.to_ascii_uppercase(), letter];
        if letter == 's' {
            want.push('\u{17F}');
        }
        if got != want {
            return Err(format!(
                "(?i:{letter}) matches {got:?}; the tokenizer's contraction matcher assumes {want:?}"
            ));
        }
    }
    Ok(())
}

/// The table of classes, one byte per code point before compression.
pub fn classes() -> Result<Vec<u8>, String> {
    let mut class = vec![0u8; 0x11_0000];
    for (n, (name, pattern)) in CLASSES.iter().enumerate().skip(1) {
        for (a, b) in ranges(pattern)? {
            for cp in a..=b {
                let slot = &mut class[cp as usize];
                if *slot != 0 {
                    return Err(format!("U+{cp:04X} is in two classes ({name} and #{slot})"));
                }
                *slot = n as u8;
            }
        }
    }
    // The union must be what `\p{L}` and `[^\s\p{L}\p{N}]` say.
    for (a, b) in ranges(r"\p{L}")? {
        for cp in a..=b {
            if !(1..=3).contains(&class[cp as usize]) {
                return Err(format!(
                    "U+{cp:04X} is in \\p{{L}} but not classed as a letter"
                ));
            }
        }
    }
    let letters: usize = ranges(r"\p{L}")?
        .iter()
        .map(|(a, b)| (b - a + 1) as usize)
        .sum();
    if class.iter().filter(|c| (1..=3).contains(*c)).count() != letters {
        return Err("letter classes do not add up to \\p{L}".into());
    }
    check_case_folds()?;
    Ok(class)
}

/// Generates `unicode_classes.rs`.
pub fn generate() -> Result<Vec<Output>, String> {
    let class = classes()?;
    let block = 1usize << SHIFT;
    let mut blocks: Vec<&[u8]> = Vec::new();
    let mut index: Vec<u16> = Vec::new();
    for chunk in class.chunks(block) {
        let id = match blocks.iter().position(|b| *b == chunk) {
            Some(id) => id,
            None => {
                blocks.push(chunk);
                blocks.len() - 1
            }
        };
        index.push(id as u16);
    }
    let mut s = String::from(HEADER);
    s.push_str("// Character classes of the tokenizer's pre-tokenizers, from regex-syntax's Unicode tables.\n");
    s.push_str(&format!(
        "// Classes: {}.\n\n",
        CLASSES
            .iter()
            .enumerate()
            .map(|(i, (n, _))| format!("{i} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    s.push_str(&format!(
        "/// Code point bits below the block index.\npub const SHIFT: u32 = {SHIFT};\n\n"
    ));
    let ty = if blocks.len() <= 256 { "u8" } else { "u16" };
    s.push_str(&format!(
        "/// Block number of each {block}-code-point block.\npub static INDEX: [{ty}; {}] = [",
        index.len()
    ));
    for (i, v) in index.iter().enumerate() {
        if i % 24 == 0 {
            s.push_str("\n    ");
        } else {
            s.push(' ');
        }
        s.push_str(&format!("{v},"));
    }
    s.push_str("\n];\n\n");
    s.push_str(&format!(
        "/// The class of each code point of each distinct block.\npub static BLOCKS: [u8; {}] = [",
        blocks.len() * block
    ));
    for (bi, b) in blocks.iter().enumerate() {
        s.push_str(&format!("\n    // block {bi}"));
        for (i, v) in b.iter().enumerate() {
            if i % 32 == 0 {
                s.push_str("\n    ");
            } else {
                s.push(' ');
            }
            s.push_str(&format!("{v},"));
        }
    }
    s.push_str("\n];\n");
    Ok(vec![(
        PathBuf::from("crates/airlock-rules/src/generated/tokenizer/unicode_classes.rs"),
        s,
    )])
}
