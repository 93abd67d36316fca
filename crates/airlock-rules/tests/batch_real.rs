//! `explain_batch` on real Batch objects, errors and result lines (`tests/batch/real/`, each
//! with its source in `expect.toml`), for issue 7.

use std::path::PathBuf;

use airlock_rules::batch::{BatchErrorItem, BatchExplanation, explain_batch};
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    fixture: Vec<Fixture>,
}

#[derive(Deserialize)]
struct Fixture {
    file: String,
    #[allow(dead_code)]
    source: String,
    kind: String,
    codes: Vec<String>,
    #[serde(default)]
    lines: Vec<u64>,
    retry: Option<String>,
    meaning: Option<String>,
    fix: Option<String>,
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/batch/real")
}

#[test]
fn real_fixtures_are_explained() {
    let text = std::fs::read_to_string(dir().join("expect.toml")).unwrap();
    let cases: File = toml::from_str(&text).unwrap();
    assert!(cases.fixture.len() >= 10);
    let mut failures = Vec::new();
    for f in &cases.fixture {
        let input = std::fs::read_to_string(dir().join(&f.file)).unwrap();
        let Some(e) = explain_batch(&input) else {
            failures.push(format!("{}: nothing explained", f.file));
            continue;
        };
        let (kind, items, status_meaning, line_retry, line_fix): (
            &str,
            Vec<BatchErrorItem>,
            Option<String>,
            Option<String>,
            Option<String>,
        ) = match &e {
            BatchExplanation::Batch {
                errors, meaning, ..
            } => ("batch", errors.clone(), meaning.clone(), None, None),
            BatchExplanation::Error { error } => ("error", vec![error.clone()], None, None, None),
            BatchExplanation::Errors { errors } => ("errors", errors.clone(), None, None, None),
            BatchExplanation::Line { line, diagnosis } => (
                "line",
                line.error.clone().into_iter().collect(),
                None,
                diagnosis
                    .as_ref()
                    .map(|d| d.retry.decision.as_str().to_string()),
                diagnosis.as_ref().map(|d| d.first_fix.clone()),
            ),
            _ => ("?", Vec::new(), None, None, None),
        };
        let mut check = |what: &str, ok: bool, got: String| {
            if !ok {
                failures.push(format!("{}: {what}: got {got}", f.file));
            }
        };
        check("kind", kind == f.kind, kind.into());
        let codes: Vec<String> = items.iter().filter_map(|i| i.code.clone()).collect();
        check("codes", codes == f.codes, format!("{codes:?}"));
        if !f.lines.is_empty() {
            let lines: Vec<u64> = items.iter().filter_map(|i| i.line).collect();
            check("lines", lines == f.lines, format!("{lines:?}"));
        }
        let first = items.first();
        if let Some(r) = &f.retry {
            let got = line_retry
                .clone()
                .or_else(|| first.and_then(|i| i.retry.clone()));
            check(
                "retry",
                got.as_deref() == Some(r.as_str()),
                format!("{got:?}"),
            );
        }
        if let Some(m) = &f.meaning {
            let got = first
                .and_then(|i| i.meaning.clone())
                .or_else(|| status_meaning.clone())
                .unwrap_or_default();
            check("meaning", got.contains(m.as_str()), got.clone());
        }
        if let Some(x) = &f.fix {
            let got = line_fix
                .clone()
                .or_else(|| first.and_then(|i| i.first_fix.clone()))
                .unwrap_or_default();
            check("fix", got.contains(x.as_str()), got.clone());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The lint speaks OpenAI's Batch validation codes where OpenAI has one (as recorded in the
/// sources of `tests/batch/real/`): the line, the code and the `body.`-prefixed param.
#[test]
fn lint_uses_openais_batch_codes() {
    use airlock_rules::batch::{LintState, is_openai_code, lint_line};
    let mut state = LintState::new();
    state.set_endpoint("/v1/chat/completions");
    let lines = [
        r#"{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "stream": true}}"#,
        r#"{"custom_id": "b", "method": "POST", "url": "/v1/chat/completions", "body": {"messages": [{"role": "user", "content": "Hi"}]}}"#,
        r#"{"custom_id": "c", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o-mini"}}"#,
        r#"{"custom_id": "d", "method": "POST", "url": "/v1/embeddings", "body": {"model": "gpt-4o-mini", "input": "x"}}"#,
        r#"{invalid json here"#,
    ];
    let got: Vec<(u64, String, Option<String>)> = lines
        .iter()
        .enumerate()
        .flat_map(|(i, l)| lint_line(i as u64 + 1, l.as_bytes(), &mut state))
        .map(|e| (e.line.unwrap_or(0), e.code, e.param))
        .collect();
    let want = [
        (1, "streaming_unsupported", Some("body.stream")),
        (2, "invalid_request", Some("body.model")),
        (3, "invalid_request", Some("body.messages")),
        (4, "invalid_url", Some("url")),
        (5, "invalid_json_line", None),
    ];
    let want: Vec<(u64, String, Option<String>)> = want
        .iter()
        .map(|(l, c, p)| (*l, c.to_string(), p.map(String::from)))
        .collect();
    assert_eq!(got, want);
    for (_, code, _) in &got {
        assert_eq!(is_openai_code(code), Some(true), "{code}");
    }
    for ours in [
        "invalid_method",
        "mismatched_model",
        "empty_file",
        "url_mismatch",
    ] {
        assert_eq!(is_openai_code(ours), Some(false), "{ours}");
    }
}
