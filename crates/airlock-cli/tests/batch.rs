//! `airlock batch lint|explain|join`, run as a user would.

mod common;

use common::{airlock, stdout};
use std::io::Write as _;

use std::path::{Path, PathBuf};

fn data(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/batch")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn lint_exit_codes() {
    let o = airlock(&["batch", "lint", &data("valid_chat.jsonl")], "");
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).starts_with("ok: 5 requests"));

    let o = airlock(&["batch", "lint", &data("bad_chat.jsonl")], "");
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("line 3: duplicate_custom_id (custom_id)"),
        "{out}"
    );
    assert!(out.contains("line 7: mismatched_model"), "{out}");

    for args in [
        &["batch"][..],
        &["batch", "lint"][..],
        &["batch", "lint", "/nonexistent/file.jsonl"][..],
        &["batch", "frobnicate", "x"][..],
        &["batch", "lint", "x", "--endpoint", "/v1/nope"][..],
        &["batch", "join", "a", "b"][..],
    ] {
        let o = airlock(args, "");
        assert_eq!(o.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn lint_reads_stdin_and_prints_json() {
    let text = std::fs::read_to_string(data("bad_chat.jsonl")).unwrap();
    let o = airlock(&["batch", "lint", "-", "--json"], &text);
    assert_eq!(o.status.code(), Some(1));
    let v = common::json_output(&o, "batch-lint");
    assert_eq!(v["ok"], false);
    assert_eq!(v["requests"], 11);
    assert_eq!(v["bytes"], text.len());
    assert_eq!(v["errors_total"], 12);
    assert_eq!(v["errors"][0]["line"], 2);
    assert_eq!(v["errors"][0]["code"], "invalid_json_line");
    assert_eq!(v["limits"]["max_requests"], 50_000);
}

#[test]
fn explain_a_batch_object_and_result_lines() {
    let o = airlock(&["batch", "explain", &data("batch_failed.json")], "");
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("status failed"), "{out}");
    assert!(out.contains("line 3: duplicate_custom_id"), "{out}");

    let o = airlock(
        &["batch", "explain", "--json", &data("batch_expired.json")],
        "",
    );
    let v = common::json_output(&o, "batch-explain");
    assert_eq!(v["kind"], "batch");
    assert_eq!(v["status"], "expired");
    assert_eq!(v["request_counts"]["failed"], 40);

    let errors = std::fs::read_to_string(data("errors.jsonl")).unwrap();
    let o = airlock(&["batch", "explain", "--json"], &errors);
    assert_eq!(o.status.code(), Some(0));
    let lines = common::json_lines_output(&o, "batch-explain");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["kind"], "line");
    assert_eq!(lines[0]["line"]["error"]["code"], "batch_expired");

    let o = airlock(&["batch", "explain"], "hello, nothing here\n");
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn join_prints_one_line_per_custom_id() {
    let o = airlock(
        &[
            "batch",
            "join",
            &data("join_input.jsonl"),
            &data("output.jsonl"),
            &data("errors.jsonl"),
            "--json",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(1));
    let rows = common::json_lines_output(&o, "batch-join");
    let ids: Vec<&str> = rows
        .iter()
        .map(|r| r["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "request-1",
            "request-2",
            "request-3",
            "request-4",
            "request-5",
            "request-99"
        ]
    );
    assert_eq!(rows[1]["state"], "failed");
    assert_eq!(rows[1]["code"], "context_length_exceeded");
    assert_eq!(rows[4]["state"], "missing");

    // All present and ok: exit 0.
    let dir = temp_dir("join_ok");
    let input = dir.join("in.jsonl");
    let output = dir.join("out.jsonl");
    std::fs::write(&input, "{\"custom_id\": \"a\"}\n{\"custom_id\": \"b\"}\n").unwrap();
    std::fs::write(
        &output,
        "{\"custom_id\": \"b\", \"response\": {\"status_code\": 200, \"body\": {}}, \"error\": null}\n{\"custom_id\": \"a\", \"response\": {\"status_code\": 200, \"body\": {}}, \"error\": null}\n",
    )
    .unwrap();
    let o = airlock(&["batch", "join", s(&input), s(&output), "-"], "");
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(stdout(&o), "a\t1\tok\nb\t2\tok\n");
    let _ = std::fs::remove_dir_all(&dir);
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("airlock-batch-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes a Batch file of `lines` requests, each padded to about `line_len` bytes, with one
/// duplicate `custom_id` on the last line.
fn generate(path: &Path, lines: u64, line_len: usize) -> u64 {
    let f = std::fs::File::create(path).unwrap();
    let mut w = std::io::BufWriter::new(f);
    let mut total = 0u64;
    for i in 1..=lines {
        let id = if i == lines { 1 } else { i };
        let head = format!(
            r#"{{"custom_id": "request-{id}", "method": "POST", "url": "/v1/chat/completions", "body": {{"model": "gpt-4o-mini", "messages": [{{"role": "user", "content": ""#
        );
        let tail = r#""}], "max_tokens": 200}}"#;
        let pad = line_len.saturating_sub(head.len() + tail.len() + 1);
        let filler: String = "lorem ipsum dolor sit amet "
            .chars()
            .cycle()
            .take(pad)
            .collect();
        let line = format!("{head}{filler}{tail}\n");
        total += line.len() as u64;
        w.write_all(line.as_bytes()).unwrap();
    }
    w.flush().unwrap();
    total
}

/// A 100 MB file: 50,000 requests of 2,000 bytes, linted in one pass (about 15 s in a debug
/// build here; see the report for time and peak memory on a release build).
#[test]
fn a_100_mb_file_lints_in_one_pass() {
    let dir = temp_dir("big");
    let path = dir.join("big.jsonl");
    let size = generate(&path, 50_000, 2_000);
    assert_eq!(size, 100_000_000);
    let o = airlock(&["batch", "lint", s(&path), "--json"], "");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(o.status.code(), Some(1));
    let v = common::json_output(&o, "batch-lint");
    assert_eq!(v["requests"], 50_000);
    assert_eq!(v["bytes"], 100_000_000u64);
    assert_eq!(v["errors_total"], 1, "{v}");
    assert_eq!(v["errors"][0]["line"], 50_000);
    assert_eq!(v["errors"][0]["code"], "duplicate_custom_id");
}

/// The same shape, small enough for every run.
#[test]
fn a_generated_file_lints_line_by_line() {
    let dir = temp_dir("small");
    let path = dir.join("small.jsonl");
    let size = generate(&path, 500, 2_000);
    let o = airlock(&["batch", "lint", s(&path), "--json"], "");
    let _ = std::fs::remove_dir_all(&dir);
    let v = common::json_output(&o, "batch-lint");
    assert_eq!(v["bytes"], size);
    assert_eq!(v["errors_total"], 1, "{v}");
    assert_eq!(v["errors"][0]["line"], 500);
}
