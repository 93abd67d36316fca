//! Helpers shared by the CLI's integration tests: run the built `airlock` binary.
#![allow(dead_code)] // each test file uses what it needs

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

/// Runs `airlock ARGS` with `stdin` on standard input and waits for it.
pub fn airlock(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("airlock runs");
    let written = child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes());
    // A usage error exits before reading standard input; the closed pipe is not a test failure.
    if let Err(e) = written {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe,
            "writing stdin: {e}"
        );
    }
    child.wait_with_output().expect("airlock finishes")
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard output parsed as JSON and validated against the committed schema
/// `schemas/{schema}.json` (issue 17): the test fails when the CLI prints what its schema does
/// not describe.
pub fn json_output(o: &Output, schema: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    if let Err(e) = schema_validator(schema).validate(&v) {
        panic!(
            "output does not match schemas/{schema}.json at {}: {e}",
            e.instance_path()
        );
    }
    v
}

/// Standard output as JSON Lines, each line validated against `schemas/{schema}.json`.
pub fn json_lines_output(o: &Output, schema: &str) -> Vec<serde_json::Value> {
    let validator = schema_validator(schema);
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            if let Err(e) = validator.validate(&v) {
                panic!(
                    "line does not match schemas/{schema}.json at {}: {e}\n{line}",
                    e.instance_path()
                );
            }
            v
        })
        .collect()
}

/// The committed schema `schemas/{name}.json`, compiled.
pub fn schema_validator(name: &str) -> jsonschema::Validator {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../schemas")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).expect("committed schema");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}
