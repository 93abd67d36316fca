//! `airlock explain` end to end: the built binary, real pastes, exit codes and the JSON shape.

mod common;

use common::{airlock, stdout};
use std::process::Output;

use serde_json::Value;

const QUOTA_PY: &str = "openai.RateLimitError: Error code: 429 - {'error': {'message': 'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.', 'type': 'insufficient_quota', 'param': None, 'code': 'insufficient_quota'}}\n";

const RPM_JSON: &str = r#"{
    "error": {
        "message": "Rate limit reached for gpt-3.5-turbo in organization org-FAKEfake0000000000000000 on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit https://platform.openai.com/account/rate-limits to learn more.",
        "type": "requests",
        "param": null,
        "code": "rate_limit_exceeded"
    }
}"#;

const CONTEXT_NODE: &str = "Error: 400 This model's maximum context length is 8192 tokens. However, your messages resulted in 9123 tokens. Please reduce the length of the messages.\n    at APIError.generate (/app/node_modules/openai/error.js:45:20)\n";

const SUCCESS: &str = r#"{"id":"chatcmpl-FAKE1","object":"chat.completion","created":1731456789,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hi!"},"finish_reason":"stop"}]}"#;

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally")
}

/// Parses stdout as exactly one JSON object, valid against `schemas/explain.json`.
fn one_object(o: &Output) -> Value {
    let text = stdout(o);
    let v: Value = serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!("--json output is not one JSON value ({e}):\n{text}");
    });
    assert!(v.is_object(), "--json output is not an object: {v}");
    common::json_output(o, "explain")
}

fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("airlock-explain-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

const KEYS: [&str; 12] = [
    "category",
    "status",
    "code",
    "type",
    "param",
    "message",
    "request_id",
    "sdk",
    "retry",
    "rate_limit",
    "meaning",
    "first_fix",
];

#[test]
fn unknown_flag_is_a_usage_problem() {
    let o = airlock(&["explain", "--jsno"], QUOTA_PY);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--jsno"));
    assert!(o.stdout.is_empty());
}

#[test]
fn missing_file_is_a_usage_problem() {
    let o = airlock(&["explain", "/nonexistent/airlock/paste.txt"], "");
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("paste.txt"));
}

#[test]
fn two_inputs_are_a_usage_problem() {
    let o = airlock(&["explain", "a.txt", "b.txt"], "");
    assert_eq!(code(&o), 2);
}

#[test]
fn help_exits_zero() {
    let o = airlock(&["explain", "--help"], "");
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("--json"));
}

#[test]
fn empty_input_is_not_an_error() {
    let o = airlock(&["explain"], "");
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("No OpenAI error"));
}

#[test]
fn empty_input_json_has_every_key_null() {
    let o = airlock(&["explain", "--json"], "   \n");
    assert_eq!(code(&o), 1);
    let v = one_object(&o);
    assert_eq!(v["found"], false);
    for key in KEYS {
        assert!(v.get(key).is_some(), "missing key {key}: {v}");
    }
    assert!(v["category"].is_null());
    assert!(v["rate_limit"].is_null());
}

#[test]
fn successful_completion_is_not_an_error() {
    let o = airlock(&["explain", "--json", "-"], SUCCESS);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert_eq!(one_object(&o)["found"], false);
}

#[test]
fn quota_from_a_file_reads_as_text() {
    let path = temp_file("quota.txt", QUOTA_PY);
    let o = airlock(&["explain", path.to_str().unwrap()], "");
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let text = stdout(&o);
    let headline = text.lines().next().unwrap_or_default();
    assert!(headline.contains("quota"), "{text}");
    assert!(headline.contains("429"), "{text}");
    assert!(headline.contains("RateLimitError"), "{text}");
    assert!(text.contains("don't retry"), "{text}");
    assert!(text.contains("insufficient_quota"), "{text}");
}

#[test]
fn rate_limit_json_from_stdin() {
    let o = airlock(&["explain", "--json"], RPM_JSON);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let v = one_object(&o);
    for key in KEYS {
        assert!(v.get(key).is_some(), "missing key {key}: {v}");
    }
    assert_eq!(v["found"], true);
    assert_eq!(v["category"], "rate_limit");
    assert_eq!(v["status"], 429);
    assert_eq!(v["code"], "rate_limit_exceeded");
    assert_eq!(v["type"], "requests");
    assert!(v["param"].is_null());
    assert!(v["request_id"].is_null());
    assert_eq!(v["sdk"]["python"], "openai.RateLimitError");
    assert_eq!(v["sdk"]["node"], "RateLimitError");
    assert_eq!(v["retry"]["decision"], "yes");
    assert_eq!(v["retry"]["after_ms"], 20000);
    assert_eq!(v["rate_limit"]["kind"], "RPM");
    assert_eq!(v["rate_limit"]["limit"], 3);
    assert_eq!(v["rate_limit"]["used"], 3);
    assert_eq!(v["rate_limit"]["requested"], 1);
    assert!(v["meaning"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(v["first_fix"].as_str().is_some_and(|s| !s.is_empty()));
}

#[test]
fn rate_limit_text_says_when_to_retry() {
    let o = airlock(&["explain"], RPM_JSON);
    assert_eq!(code(&o), 0);
    let text = stdout(&o);
    assert!(text.contains("retry after 20 s"), "{text}");
    assert!(text.contains("RPM"), "{text}");
    assert!(text.contains("Limit") || text.contains("limit"), "{text}");
}

#[test]
fn context_length_asks_for_a_change() {
    let o = airlock(&["explain", "-"], CONTEXT_NODE);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let text = stdout(&o);
    assert!(text.starts_with("context_length"), "{text}");
    assert!(text.contains("change the request first"), "{text}");
    let v = one_object(&airlock(&["explain", "--json"], CONTEXT_NODE));
    assert_eq!(v["category"], "context_length");
    assert_eq!(v["retry"]["decision"], "after_change");
    assert!(v["retry"]["after_ms"].is_null());
}

const HTTP_429_HEADERS: &str = "HTTP/2 429
content-type: application/json
x-ratelimit-limit-requests: 10000
x-ratelimit-limit-tokens: 2000000
x-ratelimit-remaining-requests: 9999
x-ratelimit-remaining-tokens: 0
x-ratelimit-reset-requests: 6ms
x-ratelimit-reset-tokens: 1.5s
retry-after-ms: 1500
x-request-id: req_2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c

{\"error\":{\"message\":\"Rate limit reached for gpt-4o in organization org-FAKEfake1414141414141414 on tokens per min (TPM): Limit 2000000, Used 2000000, Requested 48211. Please try again in 1.446s. Visit https://platform.openai.com/account/rate-limits to learn more.\",\"type\":\"tokens\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}
";

#[test]
fn rate_limit_headers_are_decoded() {
    let o = airlock(&["explain"], HTTP_429_HEADERS);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let text = stdout(&o);
    assert!(text.contains("retry after 1.5 s"), "{text}");
    assert!(
        text.contains("req_2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c"),
        "{text}"
    );
    assert!(text.contains("remaining 0"), "{text}");
    let v = one_object(&airlock(&["explain", "--json"], HTTP_429_HEADERS));
    assert_eq!(v["request_id"], "req_2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c");
    assert_eq!(v["retry"]["after_ms"], 1500);
    assert_eq!(v["rate_limit_headers"]["tokens"]["remaining"], 0);
    assert_eq!(v["rate_limit_headers"]["tokens"]["reset_ms"], 1500);
    assert_eq!(v["rate_limit_headers"]["requests"]["reset_ms"], 6);
}

#[test]
fn stream_error_is_found() {
    // Issue 13: the category is the cause the stream showed; `delivery` says it came in a stream.
    let sse = "event: response.failed\ndata: {\"type\":\"response.failed\",\"sequence_number\":2,\"response\":{\"id\":\"resp_fake1\",\"object\":\"response\",\"status\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\"An error occurred while processing your request.\"},\"output\":[]}}\n\n";
    let v = one_object(&airlock(&["explain", "--json"], sse));
    assert_eq!(v["category"], "server_error");
    assert_eq!(v["delivery"], "stream");
    assert_eq!(v["confidence"], "certain");
    assert_eq!(v["code"], "server_error");
    assert_eq!(v["retry"]["decision"], "yes");
    let text = stdout(&airlock(&["explain"], sse));
    assert!(
        text.contains("Arrived:       arrived inside a stream, possibly after partial output: discard or mark the partial answer"),
        "{text}"
    );
    // A failed response whose error the paste does not show: the stream is the cause.
    let hidden = "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\"}}\n\n";
    let v = one_object(&airlock(&["explain", "--json"], hidden));
    assert_eq!(v["category"], "stream_error");
    assert_eq!(v["delivery"], "stream");
}

/// Issue 13: the client library's own refusal is `client_side`, not "no OpenAI error found".
#[test]
fn client_side_refusal_is_found() {
    let paste = "TypeError: Completions.create() got an unexpected keyword argument 'max_completion_tokens'\n";
    let v = one_object(&airlock(&["explain", "--json"], paste));
    assert_eq!(v["category"], "client_side");
    assert_eq!(v["delivery"], "client");
    assert_eq!(v["retry"]["decision"], "after_change");
    assert!(v["sdk"]["python"].is_null(), "not an API error class");
}

/// Issue 7: a pasted stream says where and how it ended, in text and under `stream` in JSON.
#[test]
fn pasted_stream_says_where_it_failed() {
    let failed = "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0}\n\nevent: error\ndata: {\"type\":\"error\",\"code\":\"server_error\",\"message\":\"boom\",\"param\":null,\"sequence_number\":1}\n\n";
    let o = airlock(&["explain", "--json"], failed);
    let v = one_object(&o);
    assert_eq!(v["stream"]["state"]["state"], "failed");
    assert_eq!(v["stream"]["at_event"], 2);
    assert_eq!(v["stream"]["state"]["error"]["code"], "server_error");
    let text = stdout(&airlock(&["explain"], failed));
    assert!(text.contains("failed at event 2 of 2"), "{text}");

    let cut = "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: {\"object\":\"chat.comp";
    let o = airlock(&["explain", "--json"], cut);
    let v = one_object(&o);
    assert_eq!(v["stream"]["state"]["state"], "cut");
    assert_eq!(v["stream"]["last_event"], "chunk");
    assert_eq!(v["found"], true, "a cut stream is diagnosed");
    let text = stdout(&airlock(&["explain"], cut));
    assert!(text.contains("data: [DONE] never arrived"), "{text}");

    let v = one_object(&airlock(&["explain", "--json"], SUCCESS));
    assert!(v["stream"].is_null());
}

/// `airlock … | head`: a standard output closed before the command prints ends it quietly with
/// 141 (128 + SIGPIPE), not with a panic; the same command with its output read still prints.
#[cfg(unix)]
#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    for args in [
        &["explain", "-"][..],
        &["check", "-", "--endpoint", "/v1/chat/completions"],
    ] {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader); // every write to `writer` now fails with EPIPE
        let mut child = Command::new(env!("CARGO_BIN_EXE_airlock"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(writer)
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn airlock");
        let input = if args[0] == "explain" {
            QUOTA_PY
        } else {
            r#"{"model":"gpt-4o","messages":["hi"]}"#
        };
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
        // Near miss: with the output read, the same command prints its answer.
        let o = airlock(args, input);
        assert!(!stdout(&o).is_empty(), "{args:?} printed nothing");
    }
}
