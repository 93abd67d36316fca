//! `rules/batch_limits.toml` → `crates/airlock-rules/src/generated/batch_limits.rs`: the limits
//! of one Batch input file, each with its source. With `../shared/data` present, each record's
//! `figure` (number and unit) must still be in OpenAI's OpenAPI spec.

use core::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{HEADER, Output};
use crate::util::root;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    limit: Vec<Limit>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Limit {
    name: String,
    value: u64,
    read: String,
    figure: String,
    source: String,
}

/// The limit names the rules crate reads; each must be present exactly once.
const NAMES: [&str; 3] = ["max_requests", "max_bytes", "max_embedding_inputs"];

/// Generates the Batch limits table; `shared` is `../shared/data` when present.
pub fn generate(shared: Option<&Path>) -> Result<Vec<Output>, String> {
    let path = root().join("rules").join("batch_limits.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: File = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if let Some(data) = shared {
        let spec_path = data.join("openai-openapi.yaml");
        let spec = std::fs::read_to_string(&spec_path)
            .map_err(|e| format!("{}: {e}", spec_path.display()))?;
        let spec = squash(&spec);
        for l in &file.limit {
            if !spec.contains(&squash(&l.figure)) {
                return Err(format!(
                    "rules/batch_limits.toml: limit {}: the spec no longer states {:?}; re-read the limit",
                    l.name, l.figure
                ));
            }
        }
    }
    Ok(vec![(
        PathBuf::from("crates/airlock-rules/src/generated/batch_limits.rs"),
        render(&file)?,
    )])
}

/// Collapses every run of whitespace (YAML folds long descriptions) to one space.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn render(file: &File) -> Result<String, String> {
    for n in NAMES {
        let count = file.limit.iter().filter(|l| l.name == n).count();
        if count != 1 {
            return Err(format!(
                "rules/batch_limits.toml: limit {n} must appear once (found {count})"
            ));
        }
    }
    let mut out = String::from(HEADER);
    out.push_str("//! Limits of one Batch input file, from `rules/batch_limits.toml`.\n\n");
    let mut sources = Vec::new();
    for l in &file.limit {
        if !NAMES.contains(&l.name.as_str()) {
            return Err(format!(
                "rules/batch_limits.toml: unknown limit {:?}",
                l.name
            ));
        }
        if l.read.is_empty() || l.source.is_empty() || l.figure.is_empty() || l.value == 0 {
            return Err(format!(
                "limit {}: `value`, `read`, `figure` and `source` are required",
                l.name
            ));
        }
        let _ = writeln!(out, "/// {}: {} (read {}).", l.figure, l.source, l.read);
        let _ = writeln!(
            out,
            "pub(crate) const {}: u64 = {};",
            l.name.to_uppercase(),
            l.value
        );
        sources.push(format!("{}: {}", l.name, l.source));
    }
    let read = file
        .limit
        .iter()
        .map(|l| l.read.as_str())
        .max()
        .unwrap_or("");
    let _ = writeln!(
        out,
        "/// Where the limits come from, one `name: source` per limit."
    );
    let _ = writeln!(
        out,
        "pub(crate) const SOURCE: &str = {:?};",
        sources.join("; ")
    );
    let _ = writeln!(out, "/// When the limits were last read.");
    let _ = writeln!(out, "pub(crate) const READ: &str = {read:?};");
    Ok(out)
}
