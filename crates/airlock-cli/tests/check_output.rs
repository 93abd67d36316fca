//! `airlock check-output` end to end (issue 17): every case of `tests/output/cases.json` through
//! the built binary (exit 0 valid, 1 otherwise), streamed answers given as raw SSE text, and the
//! usage errors (exit 2).

mod common;

use std::path::PathBuf;

use common::{airlock, json_output, stdout};
use serde_json::Value;

fn temp(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("airlock-check-output-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn every_case_through_the_binary() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/output/cases.json");
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for (i, case) in cases.iter().enumerate() {
        let name = case["name"].as_str().unwrap();
        let request = temp(
            &format!("req{i}.json"),
            case["request"].to_string().as_bytes(),
        );
        let body = match &case["response"] {
            Value::String(sse) => sse.clone().into_bytes(),
            v => serde_json::to_vec_pretty(v).unwrap(),
        };
        let response = temp(&format!("resp{i}"), &body);
        let out = airlock(
            &[
                "check-output",
                request.to_str().unwrap(),
                response.to_str().unwrap(),
                "--json",
            ],
            "",
        );
        let status = case["status"].as_str().unwrap();
        assert_eq!(
            out.status.code(),
            Some(if status == "valid" { 0 } else { 1 }),
            "{name}"
        );
        let report = json_output(&out, "check-output");
        assert_eq!(report["status"], status, "{name}");
        assert_eq!(
            report.get("path").and_then(Value::as_str),
            case["path"].as_str(),
            "{name}"
        );

        // The text form names the status and the place.
        let text = airlock(
            &[
                "check-output",
                request.to_str().unwrap(),
                response.to_str().unwrap(),
            ],
            "",
        );
        let first = stdout(&text);
        assert!(first.starts_with(status), "{name}: {first}");
        if let Some(p) = case["path"].as_str() {
            assert!(first.contains(p), "{name}: {first}");
        }
    }
}

#[test]
fn usage_errors_exit_2() {
    let plain = temp("plain.json", br#"{"model":"gpt-4o","messages":[]}"#);
    let p = plain.to_str().unwrap();
    for args in [
        vec!["check-output"],
        vec!["check-output", p],
        vec!["check-output", p, p, "--bogus"],
        vec!["check-output", p, "/nonexistent/airlock"],
        // Nothing asked: nothing to check.
        vec!["check-output", p, p],
    ] {
        assert_eq!(airlock(&args, "").status.code(), Some(2), "{args:?}");
    }
}
