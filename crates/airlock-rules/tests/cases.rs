//! The golden corpus: every case in `tests/cases/*.toml` runs through [`airlock_rules::explain`].
//!
//! Each file holds `[[case]]` tables: a `name`, the pasted `input`, and the expected diagnosis
//! (`category`, `retry`, and optionally `status`, `code`, `type`, `param`, `request_id`, the SDK
//! classes `python`/`node`, the rate-limit numbers, `after_ms`), or `found = false` for text that
//! holds no error. Fields a case leaves out are not checked. `tests/cases/README.md` has the format.
//!
//! All failures are collected and printed together (file, case, field, expected, got), so one run
//! shows the whole picture.
// A host-only test: std paths are fine here.
#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core)]

use core::fmt::Write as _;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use airlock_rules::{Category, RetryDecision, explain};
use serde::Deserialize;

/// The categories a case may name (the fixed list).
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
const RETRIES: [&str; 3] = ["yes", "no", "after_change"];
const DELIVERIES: [&str; 6] = [
    "response",
    "stream",
    "realtime",
    "batch_line",
    "batch_job",
    "client",
];
const CONFIDENCES: [&str; 3] = ["certain", "likely", "guess"];
const LIMIT_KINDS: [&str; 5] = ["RPM", "RPD", "TPM", "TPD", "IPM"];
const MIN_CASES: usize = 150;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    input: String,
    /// `false` for text that holds no error; everything else must then be absent.
    #[serde(default = "yes")]
    found: bool,
    category: Option<String>,
    retry: Option<String>,
    /// Where it arrived: `response`, `stream`, `realtime`, `batch_line`, `batch_job`, `client`.
    delivery: Option<String>,
    /// `certain`, `likely` or `guess`.
    confidence: Option<String>,
    status: Option<u16>,
    code: Option<String>,
    #[serde(rename = "type")]
    error_type: Option<String>,
    param: Option<String>,
    request_id: Option<String>,
    /// Python SDK (v1+) class, e.g. `openai.RateLimitError`.
    python: Option<String>,
    /// Node SDK class, e.g. `RateLimitError`.
    node: Option<String>,
    limit_kind: Option<String>,
    limit: Option<u64>,
    used: Option<u64>,
    requested: Option<u64>,
    /// `retry.after_ms` of the diagnosis.
    after_ms: Option<u64>,
    /// A substring the diagnosis' message must contain.
    message_contains: Option<String>,
    /// The name of the rule record chosen (`rules/errors/*.toml`).
    rule: Option<String>,
    /// A tuned miss its batch's fixes left open, and why (no general rule reads it): the run
    /// lists it instead of failing, scores still count it as a miss, and it fails once it passes
    /// so the mark is removed.
    open: Option<String>,
    /// Where the wording or the format comes from (not checked).
    #[allow(dead_code)]
    source: Option<String>,
    /// Why the expectation is what it is (not checked).
    #[allow(dead_code)]
    note: Option<String>,
}

fn s(v: &Option<String>) -> Option<&str> {
    v.as_deref()
}

fn yes() -> bool {
    true
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/cases")
}

/// Every case file of `tests/cases/`, sorted, with its parsed cases (not the held-out split).
fn load() -> Vec<(String, Vec<Case>)> {
    load_dir(&cases_dir())
}

/// The held-out split: `tests/cases/heldout/`, never tuned on.
fn load_held_out() -> Vec<(String, Vec<Case>)> {
    load_dir(&cases_dir().join("heldout"))
}

/// Every `*.toml` case file of `dir`, sorted, with its parsed cases.
fn load_dir(dir: &Path) -> Vec<(String, Vec<Case>)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("tests/cases exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).expect("readable case file");
            let file: File =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{name}: not a case file: {e}"));
            (name, file.case)
        })
        .collect()
}

/// One mismatch: which field, what the case expects, what the crate said.
struct Miss {
    field: &'static str,
    expected: String,
    got: String,
}

fn cmp<T: PartialEq + std::fmt::Debug>(
    misses: &mut Vec<Miss>,
    field: &'static str,
    expected: Option<T>,
    got: Option<T>,
) {
    if let Some(e) = expected
        && got.as_ref() != Some(&e)
    {
        misses.push(Miss {
            field,
            expected: format!("{e:?}"),
            got: format!("{got:?}"),
        });
    }
}

/// Runs one case; returns what did not match.
fn check(case: &Case) -> Vec<Miss> {
    let mut misses = Vec::new();
    let explanation = explain(&case.input);
    let Some(d) = explanation.diagnosis else {
        if case.found {
            misses.push(Miss {
                field: "found",
                expected: "an error".into(),
                got: format!("nothing (unread: {:?})", explanation.unread),
            });
        }
        return misses;
    };
    if !case.found {
        misses.push(Miss {
            field: "found",
            expected: "no error".into(),
            got: format!("{} (rule {:?})", d.category, d.rule),
        });
        return misses;
    }
    cmp(
        &mut misses,
        "category",
        case.category.as_deref(),
        Some(d.category.as_str()),
    );
    cmp(
        &mut misses,
        "retry",
        case.retry.as_deref(),
        Some(d.retry.decision.as_str()),
    );
    cmp(
        &mut misses,
        "delivery",
        case.delivery.as_deref(),
        Some(d.delivery.as_str()),
    );
    cmp(
        &mut misses,
        "confidence",
        case.confidence.as_deref(),
        Some(d.confidence.as_str()),
    );
    cmp(&mut misses, "status", case.status, d.status);
    cmp(&mut misses, "rule", s(&case.rule), Some(d.rule.as_str()));
    cmp(&mut misses, "code", s(&case.code), s(&d.code));
    cmp(&mut misses, "type", s(&case.error_type), s(&d.error_type));
    cmp(&mut misses, "param", s(&case.param), s(&d.param));
    cmp(
        &mut misses,
        "request_id",
        s(&case.request_id),
        s(&d.request_id),
    );
    cmp(&mut misses, "python", s(&case.python), s(&d.sdk.python));
    cmp(&mut misses, "node", s(&case.node), s(&d.sdk.node));
    cmp(&mut misses, "after_ms", case.after_ms, d.retry.after_ms);
    let rl = d.rate_limit.as_ref();
    cmp(
        &mut misses,
        "limit_kind",
        case.limit_kind.as_deref(),
        rl.and_then(|r| r.kind).map(|k| k.as_str()),
    );
    cmp(&mut misses, "limit", case.limit, rl.and_then(|r| r.limit));
    cmp(&mut misses, "used", case.used, rl.and_then(|r| r.used));
    cmp(
        &mut misses,
        "requested",
        case.requested,
        rl.and_then(|r| r.requested),
    );
    if let Some(want) = &case.message_contains
        && !d
            .message
            .as_deref()
            .is_some_and(|m| m.contains(want.as_str()))
    {
        misses.push(Miss {
            field: "message",
            expected: format!("containing {want:?}"),
            got: format!("{:?}", d.message),
        });
    }
    misses
}

#[test]
fn golden_cases() {
    let files = load();
    let mut report = String::new();
    let (mut total, mut failed) = (0, 0);
    for (file, cases) in &files {
        for case in cases {
            total += 1;
            let misses = check(case);
            if let Some(why) = &case.open {
                if misses.is_empty() {
                    failed += 1;
                    let _ = writeln!(
                        report,
                        "{file} :: {} :: passes now: remove its `open` mark",
                        case.name
                    );
                } else {
                    println!("OPEN {file} :: {} :: {why}", case.name);
                }
                continue;
            }
            if misses.is_empty() {
                continue;
            }
            failed += 1;
            for m in misses {
                let _ = writeln!(
                    report,
                    "{file} :: {} :: {}: expected {}, got {}",
                    case.name, m.field, m.expected, m.got
                );
            }
        }
    }
    assert!(
        total >= MIN_CASES,
        "only {total} golden cases; the corpus needs at least {MIN_CASES}"
    );
    assert!(
        failed == 0,
        "{failed} of {total} golden cases failed:\n{report}"
    );
}

/// Whether a case belongs to the held-out split: the first hex digit of the SHA-256 of its name
/// is 0-3 (`fingerprint` is `sha256:` and the digest's first bytes in hex).
fn held_out(name: &str) -> bool {
    let f = airlock_rules::redact::fingerprint(name);
    matches!(f.as_bytes().get("sha256:".len()), Some(b'0'..=b'3'))
}

/// Files of batches collected with a held-out split (`real_YYYY_MM_DD_*.toml`).
fn split_batch(file: &str) -> bool {
    file.starts_with("real_20")
}

/// The held-out split: measured on the current code and printed, never tuned on. It fails when a
/// case sits on the wrong side of the split, or when the score falls below the floor (the blind
/// score of the first batch measured this way, so a regression below it shows).
#[test]
fn held_out_score() {
    const FLOOR: f64 = 0.65;
    let mut wrong_side = Vec::new();
    let (mut right, mut total) = (0usize, 0usize);
    let mut report = String::new();
    for (file, cases) in load_held_out() {
        for case in &cases {
            if !held_out(&case.name) {
                wrong_side.push(format!(
                    "heldout/{file} :: {} is not in the held-out split",
                    case.name
                ));
            }
            total += 1;
            let d = explain(&case.input).diagnosis;
            let got = d
                .as_ref()
                .map(|d| (d.category.as_str(), d.retry.decision.as_str()));
            let want = (
                case.category.as_deref().unwrap_or("-"),
                case.retry.as_deref().unwrap_or("-"),
            );
            if got == Some(want) {
                right += 1;
            } else {
                let _ = writeln!(
                    report,
                    "  {file} :: {}: expected {want:?}, got {got:?}",
                    case.name
                );
            }
        }
    }
    for (file, cases) in load() {
        if split_batch(&file) {
            for case in &cases {
                if held_out(&case.name) {
                    wrong_side.push(format!(
                        "{file} :: {} belongs to the held-out split",
                        case.name
                    ));
                }
            }
        }
    }
    assert!(wrong_side.is_empty(), "{}", wrong_side.join("\n"));
    assert!(total > 0, "no held-out cases");
    #[allow(clippy::cast_precision_loss)] // a few hundred cases
    let score = right as f64 / total as f64;
    std::println!(
        "held-out split: {right}/{total} ({:.1} %)\n{report}",
        score * 100.0
    );
    assert!(
        score >= FLOOR,
        "held-out score {right}/{total} is below the floor {FLOOR}:\n{report}"
    );
}

/// The data files themselves are normalized: unique names, the required fields, valid values.
#[test]
fn case_files_are_normalized() {
    let mut problems = Vec::new();
    let mut names = BTreeSet::new();
    for (file, cases) in load().into_iter().chain(load_held_out()) {
        for c in &cases {
            let mut bad = |what: String| problems.push(format!("{file} :: {}: {what}", c.name));
            if c.name.trim().is_empty() || c.name.contains(char::is_whitespace) {
                bad("name must be a non-empty slug without spaces".into());
            }
            if !names.insert(c.name.clone()) {
                bad("duplicate name".into());
            }
            if c.found {
                match c.category.as_deref() {
                    None => bad("missing category".into()),
                    Some(cat) if !CATEGORIES.contains(&cat) => {
                        bad(format!("unknown category {cat:?}"))
                    }
                    Some(cat) => assert!(Category::from_name(cat).is_some(), "{cat}"),
                }
                match c.retry.as_deref() {
                    None => bad("missing retry".into()),
                    Some(r) if !RETRIES.contains(&r) => bad(format!("unknown retry {r:?}")),
                    Some(r) => assert!(RetryDecision::from_name(r).is_some(), "{r}"),
                }
                if c.input.trim().is_empty() {
                    bad("empty input for a case that expects an error".into());
                }
            } else {
                let any_expectation = c.category.is_some()
                    || c.retry.is_some()
                    || c.delivery.is_some()
                    || c.confidence.is_some()
                    || c.status.is_some()
                    || c.code.is_some()
                    || c.error_type.is_some()
                    || c.param.is_some()
                    || c.request_id.is_some()
                    || c.python.is_some()
                    || c.node.is_some()
                    || c.limit_kind.is_some()
                    || c.limit.is_some()
                    || c.used.is_some()
                    || c.requested.is_some()
                    || c.after_ms.is_some()
                    || c.message_contains.is_some();
                if any_expectation {
                    bad("found = false cases must not expect any field".into());
                }
            }
            if let Some(v) = c.delivery.as_deref()
                && !DELIVERIES.contains(&v)
            {
                bad(format!("unknown delivery {v:?}"));
            }
            if let Some(v) = c.confidence.as_deref()
                && !CONFIDENCES.contains(&v)
            {
                bad(format!("unknown confidence {v:?}"));
            }
            if let Some(k) = c.limit_kind.as_deref()
                && !LIMIT_KINDS.contains(&k)
            {
                bad(format!("unknown limit_kind {k:?}"));
            }
            if let Some(s) = c.status
                && !(100..=599).contains(&s)
            {
                bad(format!("status {s} out of range"));
            }
            if let Some(p) = c.python.as_deref()
                && !p.starts_with("openai.")
            {
                bad(format!(
                    "python class {p:?} must be fully qualified (openai.X)"
                ));
            }
            if let Some(key) = real_looking_key(&c.input) {
                bad(format!(
                    "input holds a key-shaped string {key:?} that is not an obvious fake"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "case files need fixing:\n{}",
        problems.join("\n")
    );
}

/// A `sk-…` token that does not look fake (fakes contain `fake`, `*`, `...` or `x`-runs).
fn real_looking_key(text: &str) -> Option<&str> {
    let mut rest = text;
    while let Some(i) = rest.find("sk-") {
        let before = rest[..i].chars().next_back();
        let tail = &rest[i..];
        let end = tail
            .find(|ch: char| !(ch.is_ascii_alphanumeric() || "-_*.".contains(ch)))
            .unwrap_or(tail.len());
        let token = &tail[..end];
        let is_word = before.is_none_or(|b| !b.is_ascii_alphanumeric());
        let fake = token.contains("fake")
            || token.contains('*')
            || token.contains("...")
            || token.contains("xxxx");
        if is_word && token.len() > 12 && !fake {
            return Some(token);
        }
        rest = &rest[i + 3..];
    }
    None
}
