//! The corpus under `tests/requests/structure/`: each file is a request (endpoint and body) and
//! the errors the hand-written structure rules must find in it — none for the valid near-misses
//! that sit next to each rule.
//!
//! File shape: `{"name", "endpoint", "body", "errors": [{"rule", "code", "param", "message"?}],
//! "warnings"?: ["rule", …]}`. A file with `"errors": []` must pass with no error at all (from
//! any rule); a file with errors must produce those (message compared when given) and no other
//! error from the structure rules.

use std::path::PathBuf;

use airlock_rules::validate::{Config, Mode, check};
use serde_json::Value;

/// The rules this corpus is about.
const STRUCTURE_RULES: &[&str] = &[
    "json_schema_valid",
    "strict_schema",
    "schema_limits",
    "json_schema_name",
    "json_schema_required",
    "tool_names",
    "tool_count",
    "tool_choice",
    "tool_types",
    "tool_call_pairing",
    "image_detail",
    "image_url",
    "image_data_url",
    "audio_format",
    "file_data_url",
];

fn corpus() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/requests/structure");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable case");
            let v: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.file_name().unwrap().to_string_lossy().into_owned(), v)
        })
        .collect()
}

fn opt_str(v: &Value) -> Option<&str> {
    v.as_str()
}

#[test]
fn structure_corpus() {
    let cases = corpus();
    assert!(cases.len() >= 40, "the corpus is missing");
    let mut failures = Vec::new();
    for (file, case) in &cases {
        let endpoint = case["endpoint"].as_str().expect("endpoint");
        let body = serde_json::to_vec(&case["body"]).expect("body");
        let verdict = check(endpoint, &body, &Config::default());
        let expected = case["errors"].as_array().expect("errors");
        if expected.is_empty() && !verdict.ok() {
            failures.push(format!(
                "{file}: valid request rejected: {:#?}",
                verdict.errors
            ));
            continue;
        }
        for e in expected {
            let found = verdict.errors.iter().any(|f| {
                f.rule == e["rule"].as_str().unwrap_or_default()
                    && f.error.code.as_deref() == opt_str(&e["code"])
                    && f.error.param.as_deref() == opt_str(&e["param"])
                    && e.get("message")
                        .and_then(Value::as_str)
                        .is_none_or(|m| f.error.message == m)
            });
            if !found {
                failures.push(format!(
                    "{file}: expected {e} but got {:#?}",
                    verdict.errors
                ));
            }
        }
        let extra = verdict.errors.iter().filter(|f| {
            STRUCTURE_RULES.contains(&f.rule.as_str())
                && !expected.iter().any(|e| {
                    e["rule"] == f.rule.as_str() && opt_str(&e["param"]) == f.error.param.as_deref()
                })
        });
        for f in extra {
            failures.push(format!("{file}: unexpected error {f:?}"));
        }
        if let Some(warnings) = case.get("warnings").and_then(Value::as_array) {
            for w in warnings {
                if !verdict
                    .warnings
                    .iter()
                    .any(|f| f.rule == w.as_str().unwrap_or_default())
                {
                    failures.push(format!(
                        "{file}: expected a {w} warning, got {:#?}",
                        verdict.warnings
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every rejecting case turns into a warning when its rule is in report mode, and disappears
/// when it is off: the switch works for each structure rule.
#[test]
fn each_rule_has_a_switch() {
    for (file, case) in corpus() {
        let expected = case["errors"].as_array().expect("errors");
        let Some(first) = expected.first() else {
            continue;
        };
        let rule = first["rule"].as_str().expect("rule").to_string();
        let endpoint = case["endpoint"].as_str().expect("endpoint");
        let body = serde_json::to_vec(&case["body"]).expect("body");
        for (mode, want_warning) in [(Mode::Report, true), (Mode::Off, false)] {
            let mut config = Config::default();
            config.rules.insert(rule.clone(), mode);
            let v = check(endpoint, &body, &config);
            assert!(
                !v.errors.iter().any(|f| f.rule == rule),
                "{file}: {rule} still rejects in {mode:?}"
            );
            assert_eq!(
                v.warnings
                    .iter()
                    .any(|f| f.rule == rule
                        && f.error.code == first["code"].as_str().map(String::from)),
                want_warning,
                "{file}: {rule} in {mode:?}"
            );
        }
    }
}

/// A deeply nested schema is walked within bounds: no stack overflow, and the nesting limit is
/// reported from the levels below the root.
#[test]
fn deep_nesting_is_bounded() {
    let mut schema = String::from(r#"{"type":"string"}"#);
    for _ in 0..60 {
        schema = format!(
            r#"{{"type":"object","properties":{{"a":{schema}}},"required":["a"],"additionalProperties":false}}"#
        );
    }
    let body = format!(
        r#"{{"model":"gpt-4o","messages":[{{"role":"user","content":"x"}}],"response_format":{{"type":"json_schema","json_schema":{{"name":"deep","strict":true,"schema":{schema}}}}}}}"#
    );
    let v = check("/v1/chat/completions", body.as_bytes(), &Config::default());
    let rules: Vec<&str> = v.errors.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, ["schema_limits"], "{v:#?}");
    assert!(
        v.errors[0]
            .error
            .message
            .contains("59 levels of nesting exceeds limit of 10")
    );
}
