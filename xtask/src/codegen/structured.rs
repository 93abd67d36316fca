//! `rules/structured_outputs.toml` → `crates/airlock-rules/src/generated/structured.rs`: the
//! limits and keyword lists of OpenAI's strict structured outputs, as Rust constants.

use core::fmt::Write as _;
use std::path::PathBuf;

use serde::Deserialize;

use super::{HEADER, Output};
use crate::util::root;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    limit: Vec<Limit>,
    keywords: Vec<Keywords>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Limit {
    name: String,
    value: u64,
    read: String,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Keywords {
    name: String,
    read: String,
    source: String,
    list: Vec<String>,
}

/// Generates the structured-outputs table from `rules/structured_outputs.toml`.
pub fn generate() -> Result<Vec<Output>, String> {
    let path = root().join("rules").join("structured_outputs.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: File = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(vec![(
        PathBuf::from("crates/airlock-rules/src/generated/structured.rs"),
        render(&file)?,
    )])
}

fn render(file: &File) -> Result<String, String> {
    let mut out = String::from(HEADER);
    out.push_str("//! Limits and keyword lists of OpenAI strict structured outputs, from `rules/structured_outputs.toml`.\n\n");
    for l in &file.limit {
        check_name(&l.name)?;
        if l.read.is_empty() || l.source.is_empty() {
            return Err(format!(
                "limit {}: `read` and `source` are required",
                l.name
            ));
        }
        let _ = writeln!(out, "/// {} (read {}).", l.source, l.read);
        let _ = writeln!(
            out,
            "pub(crate) const {}: usize = {};",
            l.name.to_uppercase(),
            l.value
        );
    }
    for k in &file.keywords {
        check_name(&k.name)?;
        if k.read.is_empty() || k.source.is_empty() {
            return Err(format!(
                "keywords {}: `read` and `source` are required",
                k.name
            ));
        }
        let _ = writeln!(out, "/// {} (read {}).", k.source, k.read);
        let _ = write!(
            out,
            "pub(crate) const {}: &[&str] = &[",
            k.name.to_uppercase()
        );
        for (i, w) in k.list.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "{w:?}");
        }
        out.push_str("];\n");
    }
    Ok(out)
}

fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        return Err(format!("bad record name {name:?}: use lower_snake_case"));
    }
    Ok(())
}
