//! `rules/errors/*.toml` → `crates/airlock-rules/src/generated/errors.rs`.
//!
//! The data files hold two kinds of record (see `rules/README.md`): `[[status]]` (an HTTP status, a
//! status range or a no-response case, with the SDK class names) and `[[error]]` (an error code, type
//! or wording). Both become `Rule` values in two static tables the classifier searches.
#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core)] // a std tool, not the no_std crate

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{HEADER, Output};
use crate::util::root;

/// Where the error data lives, relative to the repository root.
pub const DATA_DIR: &str = "rules/errors";
/// The generated table, relative to the repository root.
pub const OUTPUT: &str = "crates/airlock-rules/src/generated/errors.rs";

/// The categories the rules crate knows (`Category::as_str`), in its order.
const CATEGORIES: [&str; 17] = [
    "invalid_request",
    "authentication",
    "permission",
    "not_found",
    "conflict",
    "unprocessable",
    "rate_limit",
    "quota",
    "server_error",
    "overloaded",
    "timeout",
    "connection",
    "context_length",
    "content_policy",
    "stream_error",
    "batch_error",
    "client_side",
];
const RETRY: [&str; 3] = ["yes", "no", "after_change"];
const TRANSPORTS: [&str; 2] = ["connection", "timeout"];
/// Records the classifier looks up by name; they must exist.
const REQUIRED_NAMES: [&str; 6] = [
    "unrecognized",
    "stream_error",
    "batch_failed",
    "transport_connection",
    "transport_timeout",
    "route_not_found",
];

/// One data file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    #[serde(default)]
    status: Vec<StatusRecord>,
    #[serde(default)]
    error: Vec<ErrorRecord>,
}

/// A `[[status]]` record.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusRecord {
    name: String,
    status: Option<u16>,
    range: Option<[u16; 2]>,
    transport: Option<String>,
    category: String,
    retry: String,
    python: String,
    node: String,
    python_v0: String,
    #[serde(default)]
    exceptions: Vec<String>,
    meaning: String,
    first_fix: String,
    source: String,
}

/// An `[[error]]` record.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorRecord {
    name: String,
    category: String,
    retry: String,
    status: Option<u16>,
    #[serde(default)]
    precedence: i8,
    #[serde(default)]
    codes: Vec<String>,
    #[serde(default)]
    types: Vec<String>,
    #[serde(default)]
    messages: Vec<String>,
    #[serde(default)]
    exceptions: Vec<String>,
    meaning: String,
    first_fix: String,
    source: String,
}

/// The parsed data files, by file name (sorted).
pub type Data = BTreeMap<String, File>;

/// Reads and parses every `*.toml` under `rules/errors/`.
pub fn load(root: &Path) -> Result<Data, String> {
    let dir = root.join(DATA_DIR);
    let mut data = Data::new();
    for path in toml_files(&dir)? {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file: File = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        data.insert(name, file);
    }
    if data.is_empty() {
        return Err(format!("no .toml files under {}", dir.display()));
    }
    Ok(data)
}

fn toml_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

/// Every way the data breaks the format's rules (empty when it is valid and normalized).
///
/// Checked: required fields are non-empty; category, retry and transport names are known; a status
/// record has exactly one of `status`, `range`, `transport`; names are unique and lowercase
/// snake_case; records are sorted (status records by status, ranges, then transports; error records
/// by name); match keys are lowercase, trimmed and claimed by one record only; exception names are
/// claimed by one record only; the records the classifier looks up by name exist.
pub fn problems(data: &Data) -> Vec<String> {
    let mut out = Vec::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut keys: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut claim = |out: &mut Vec<String>, kind: &str, key: &str, owner: &str| {
        let k = (kind.to_string(), key.to_ascii_lowercase());
        if let Some(prev) = keys.insert(k, owner.to_string())
            && prev != owner
        {
            out.push(format!(
                "{kind} {key:?} is claimed by both {prev} and {owner}"
            ));
        }
    };
    for (file, f) in data {
        let mut last_status: Option<(u8, u16, String)> = None;
        for r in &f.status {
            let at = format!("{file}: status {}", r.name);
            common(
                &mut out,
                &at,
                &r.name,
                &r.category,
                &r.retry,
                &r.meaning,
                &r.first_fix,
                &r.source,
            );
            for (field, v) in [
                ("python", &r.python),
                ("node", &r.node),
                ("python_v0", &r.python_v0),
            ] {
                if v.trim().is_empty() {
                    out.push(format!("{at}: `{field}` is empty"));
                }
            }
            let given = [r.status.is_some(), r.range.is_some(), r.transport.is_some()];
            if given.iter().filter(|g| **g).count() != 1 {
                out.push(format!(
                    "{at}: give exactly one of `status`, `range`, `transport`"
                ));
            }
            let order = match (r.status, r.range, &r.transport) {
                (Some(s), _, _) => (0, s, String::new()),
                (_, Some([lo, hi]), _) => {
                    if lo > hi {
                        out.push(format!("{at}: range is reversed"));
                    }
                    (1, lo, String::new())
                }
                (_, _, Some(t)) => {
                    if !TRANSPORTS.contains(&t.as_str()) {
                        out.push(format!("{at}: unknown transport {t:?}"));
                    }
                    (2, 0, t.clone())
                }
                _ => (3, 0, String::new()),
            };
            if let Some(prev) = &last_status
                && *prev >= order
            {
                out.push(format!(
                    "{at}: status records must be sorted by status, then ranges, then transports"
                ));
            }
            last_status = Some(order);
            for e in &r.exceptions {
                claim(&mut out, "exception", e, &r.name);
            }
            if let Some(prev) = names.insert(r.name.clone(), file.clone()) {
                out.push(format!("{at}: name also used in {prev}"));
            }
        }
        let mut last_name: Option<&str> = None;
        for r in &f.error {
            let at = format!("{file}: error {}", r.name);
            common(
                &mut out,
                &at,
                &r.name,
                &r.category,
                &r.retry,
                &r.meaning,
                &r.first_fix,
                &r.source,
            );
            if !(-1..=2).contains(&r.precedence) {
                out.push(format!("{at}: precedence must be -1, 0, 1 or 2"));
            }
            if let Some(prev) = last_name
                && prev >= r.name.as_str()
            {
                out.push(format!(
                    "{at}: error records must be sorted by name (after {prev})"
                ));
            }
            last_name = Some(&r.name);
            for (kind, list) in [
                ("code", &r.codes),
                ("type", &r.types),
                ("message", &r.messages),
            ] {
                for k in list {
                    if k.is_empty() || k.trim() != k || k.to_lowercase() != *k {
                        out.push(format!("{at}: {kind} {k:?} must be lowercase and trimmed"));
                    }
                    claim(&mut out, kind, k, &r.name);
                }
            }
            for e in &r.exceptions {
                claim(&mut out, "exception", e, &r.name);
            }
            if let Some(prev) = names.insert(r.name.clone(), file.clone()) {
                out.push(format!("{at}: name also used in {prev}"));
            }
        }
    }
    for required in REQUIRED_NAMES {
        if !names.contains_key(required) {
            out.push(format!("record {required:?} is required by the classifier"));
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn common(
    out: &mut Vec<String>,
    at: &str,
    name: &str,
    category: &str,
    retry: &str,
    meaning: &str,
    first_fix: &str,
    source: &str,
) {
    let snake = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !snake {
        out.push(format!("{at}: name must be lowercase snake_case"));
    }
    if !CATEGORIES.contains(&category) {
        out.push(format!("{at}: unknown category {category:?}"));
    }
    if !RETRY.contains(&retry) {
        out.push(format!("{at}: unknown retry {retry:?}"));
    }
    for (field, v) in [
        ("meaning", meaning),
        ("first_fix", first_fix),
        ("source", source),
    ] {
        if v.trim().is_empty() {
            out.push(format!("{at}: `{field}` is empty"));
        }
    }
}

fn camel(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn opt_str(v: Option<&str>) -> String {
    match v {
        Some(s) => format!("Some({s:?})"),
        None => "None".to_string(),
    }
}

fn list(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|s| format!("{s:?}")).collect();
    format!("&[{}]", items.join(", "))
}

struct Row<'a> {
    name: &'a str,
    category: &'a str,
    retry: &'a str,
    precedence: i8,
    status: Option<u16>,
    status_max: Option<u16>,
    transport: Option<&'a str>,
    codes: &'a [String],
    types: &'a [String],
    messages: &'a [String],
    exceptions: &'a [String],
    sdk: [Option<&'a str>; 3],
    meaning: &'a str,
    first_fix: &'a str,
}

fn emit(out: &mut String, r: &Row) {
    let transport = match r.transport {
        Some(t) => format!("Some(Transport::{})", camel(t)),
        None => "None".to_string(),
    };
    let num = |v: Option<u16>| v.map_or("None".to_string(), |s| format!("Some({s})"));
    let _ = writeln!(
        out,
        "Rule {{ name: {:?}, category: Category::{}, retry: RetryDecision::{}, precedence: {}, \
         status: {}, status_max: {}, transport: {}, codes: {}, types: {}, messages: {}, \
         exceptions: {}, python: {}, node: {}, python_v0: {}, meaning: {:?}, first_fix: {:?} }},",
        r.name,
        camel(r.category),
        camel(r.retry),
        r.precedence,
        num(r.status),
        num(r.status_max),
        transport,
        list(r.codes),
        list(r.types),
        list(r.messages),
        list(r.exceptions),
        opt_str(r.sdk[0]),
        opt_str(r.sdk[1]),
        opt_str(r.sdk[2]),
        r.meaning,
        r.first_fix,
    );
}

/// Renders the Rust tables (formatted with rustfmt).
pub fn render(data: &Data) -> Result<String, String> {
    let problems = problems(data);
    if !problems.is_empty() {
        return Err(format!(
            "{DATA_DIR} is not valid:\n  {}",
            problems.join("\n  ")
        ));
    }
    let mut s = String::new();
    s.push_str(HEADER);
    s.push_str(
        "//! The error taxonomy from `rules/errors/*.toml`: HTTP statuses and no-response cases, and\n\
         //! error codes, types and wordings.\n\n\
         use crate::classify::Rule;\nuse crate::evidence::Transport;\nuse crate::{Category, RetryDecision};\n\n",
    );
    s.push_str(
        "/// HTTP statuses, status ranges and no-response cases, with the SDK class names.\n\
         pub(crate) static STATUS_RULES: &[Rule] = &[\n",
    );
    for f in data.values() {
        for r in &f.status {
            let (status, status_max) = match r.range {
                Some([lo, hi]) => (Some(lo), Some(hi)),
                None => (r.status, None),
            };
            emit(
                &mut s,
                &Row {
                    name: &r.name,
                    category: &r.category,
                    retry: &r.retry,
                    precedence: 0,
                    status,
                    status_max,
                    transport: r.transport.as_deref(),
                    codes: &[],
                    types: &[],
                    messages: &[],
                    exceptions: &r.exceptions,
                    sdk: [Some(&r.python), Some(&r.node), Some(&r.python_v0)],
                    meaning: &r.meaning,
                    first_fix: &r.first_fix,
                },
            );
        }
    }
    s.push_str(
        "];\n\n/// Error codes, types and wordings.\npub(crate) static ERROR_RULES: &[Rule] = &[\n",
    );
    for f in data.values() {
        for r in &f.error {
            emit(
                &mut s,
                &Row {
                    name: &r.name,
                    category: &r.category,
                    retry: &r.retry,
                    precedence: r.precedence,
                    status: r.status,
                    status_max: None,
                    transport: None,
                    codes: &r.codes,
                    types: &r.types,
                    messages: &r.messages,
                    exceptions: &r.exceptions,
                    sdk: [None, None, None],
                    meaning: &r.meaning,
                    first_fix: &r.first_fix,
                },
            );
        }
    }
    s.push_str("];\n");
    rustfmt(&s)
}

/// Formats Rust source with the toolchain's rustfmt, so the committed file passes `cargo fmt --check`.
pub fn rustfmt(source: &str) -> Result<String, String> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout", "--quiet"])
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not run rustfmt: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("rustfmt stdin")?
        .write_all(source.as_bytes())
        .map_err(|e| format!("rustfmt: {e}"))?;
    let out = child
        .wait_with_output()
        .map_err(|e| format!("rustfmt: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "rustfmt failed on generated code: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("rustfmt output: {e}"))
}

/// The generator: data files in, the table file out.
pub fn generate() -> Result<Vec<Output>, String> {
    let data = load(&root())?;
    Ok(vec![(PathBuf::from(OUTPUT), render(&data)?)])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The data files follow the format and are normalized (see [`problems`]).
    #[test]
    fn error_data_is_normalized() {
        let data = load(&root()).expect("rules/errors loads");
        let problems = problems(&data);
        assert!(
            problems.is_empty(),
            "rules/errors:\n  {}",
            problems.join("\n  ")
        );
    }

    /// The checks can fail: a record with an unknown category, no source and a duplicate key is caught.
    #[test]
    fn problems_are_reported() {
        let text = r#"
[[error]]
name = "b_rule"
category = "rate_limited"
retry = "maybe"
codes = ["Same"]
meaning = "m"
first_fix = "f"
source = ""

[[error]]
name = "a_rule"
category = "quota"
retry = "no"
codes = ["same"]
meaning = "m"
first_fix = "f"
source = "s"
"#;
        let mut data = Data::new();
        data.insert("x.toml".into(), toml::from_str(text).expect("parses"));
        let p = problems(&data).join("\n");
        for needle in [
            "unknown category",
            "unknown retry",
            "`source` is empty",
            "sorted by name",
            "must be lowercase",
            "claimed by both",
            "\"unrecognized\" is required",
        ] {
            assert!(p.contains(needle), "{needle:?} not reported in:\n{p}");
        }
    }

    /// An unknown field (a typo such as `mesages`) is a parse error, not silently ignored.
    #[test]
    fn unknown_fields_are_rejected() {
        let text = "[[error]]\nname = \"a\"\nmesages = []\n";
        assert!(toml::from_str::<File>(text).is_err());
    }
}
