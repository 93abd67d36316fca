//! The JSON Schemas of the CLI's own outputs (issue 17, part 4): the committed `schemas/*.json`
//! are what `airlock schemas NAME` prints (so `cargo xtask codegen` has been run), every output
//! kind validates against its schema, and the schemas do reject what they do not describe.

mod common;

use common::{airlock, json_output, schema_validator, stdout};
use serde_json::json;

#[test]
fn committed_schemas_are_the_cli_s() {
    let names = stdout(&airlock(&["schemas"], ""));
    let names: Vec<&str> = names.lines().collect();
    assert_eq!(
        names,
        [
            "check",
            "count-text",
            "count-request",
            "explain",
            "batch-lint",
            "batch-explain",
            "batch-join",
            "log-line",
            "check-output",
            "simulate-list"
        ]
    );
    for name in names {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../schemas")
            .join(format!("{name}.json"));
        let committed = std::fs::read_to_string(&path).expect("committed schema");
        assert_eq!(
            stdout(&airlock(&["schemas", name], "")),
            committed,
            "schemas/{name}.json is stale: run `cargo xtask codegen`"
        );
    }
    assert_eq!(airlock(&["schemas", "nope"], "").status.code(), Some(2));
}

#[test]
fn every_output_kind_validates() {
    let chat = json!({"model": "gpt-4o", "max_tokens": 5, "bogus": 1,
        "messages": [{"role": "user", "content": "hi"}]})
    .to_string();
    let o = airlock(
        &["check", "--endpoint", "/v1/chat/completions", "--json"],
        &chat,
    );
    let v = json_output(&o, "check");
    // An unknown key is only a warning (never block valid traffic); warnings are validated too.
    assert_eq!(v["warnings"][0]["rule"], "unrecognized_parameter", "{v}");
    let o = airlock(
        &["count", "--endpoint", "/v1/chat/completions", "--json"],
        &chat,
    );
    let v = json_output(&o, "count-request");
    assert_eq!(v["output"]["param"], "max_tokens");
    let emb = json!({"model": "text-embedding-3-small", "input": ["a b", "c"]}).to_string();
    let o = airlock(&["count", "--endpoint", "/v1/embeddings", "--json"], &emb);
    assert_eq!(json_output(&o, "count-request")["per_input"], json!([2, 1]));
    let o = airlock(&["count", "--json", "--ids"], "hello\n");
    assert_eq!(json_output(&o, "count-text")["ids"], json!([24912, 198]));
    let o = airlock(&["count", "--json"], "hello\n");
    assert!(json_output(&o, "count-text").get("ids").is_none());
}

#[test]
fn schemas_reject_what_they_do_not_describe() {
    let check = schema_validator("check");
    let good = json!({"ok": true, "endpoint": null, "model": null, "errors": [],
        "warnings": [], "tokens": null});
    assert!(check.is_valid(&good));
    let mut wrong_type = good.clone();
    wrong_type["ok"] = json!("yes");
    assert!(!check.is_valid(&wrong_type));
    let mut extra = good.clone();
    extra["surprise"] = json!(1);
    assert!(!check.is_valid(&extra), "closed: an undeclared key fails");
    let mut missing = good;
    missing.as_object_mut().unwrap().remove("errors");
    assert!(!check.is_valid(&missing));
    let text = schema_validator("count-text");
    assert!(!text.is_valid(&json!({"tokens": 1, "encoding": "o200k_base"})));
}

/// A value with one key changed, added or removed.
fn with(v: &serde_json::Value, key: &str, value: Option<serde_json::Value>) -> serde_json::Value {
    let mut v = v.clone();
    let map = v.as_object_mut().expect("an object");
    match value {
        Some(x) => map.insert(key.to_owned(), x),
        None => map.remove(key),
    };
    v
}

/// `explain --json`: a real output is valid; a wrong type, an undeclared key, a missing key, a
/// category that is not one of the 17 are not.
#[test]
fn explain_schema_rejects_what_it_does_not_describe() {
    let paste = r#"{"error": {"message": "Rate limit reached for gpt-4o in organization org-FAKE on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000. Please try again in 6s.", "type": "tokens", "param": null, "code": "rate_limit_exceeded"}}"#;
    let good = json_output(&airlock(&["explain", "--json"], paste), "explain");
    assert_eq!(good["rate_limit"]["kind"], "TPM", "{good}");
    let explain = schema_validator("explain");
    assert!(!explain.is_valid(&with(&good, "found", Some(json!("yes")))));
    assert!(!explain.is_valid(&with(&good, "surprise", Some(json!(1)))));
    assert!(!explain.is_valid(&with(&good, "unread", None)));
    assert!(!explain.is_valid(&with(&good, "category", Some(json!("weather")))));
    let mut nested = good.clone();
    nested["rate_limit"]["surprise"] = json!(1);
    assert!(
        !explain.is_valid(&nested),
        "nested rules types are closed too"
    );
    let none = json_output(
        &airlock(&["explain", "--json"], "nothing here\n"),
        "explain",
    );
    assert_eq!(none["found"], false);
    let stream = "data: {\"object\":\"chat.completion.chunk\",\"choices\":[]}\n\ndata: {\"obj";
    let cut = json_output(&airlock(&["explain", "--json"], stream), "explain");
    assert_eq!(cut["stream"]["state"]["state"], "cut");
    let mut bad_state = cut.clone();
    bad_state["stream"]["state"]["state"] = json!("exploded");
    assert!(!explain.is_valid(&bad_state));
}

/// `batch lint --json`: a real report (with errors) is valid; the schema rejects the rest.
#[test]
fn batch_lint_schema_rejects_what_it_does_not_describe() {
    let lines = concat!(
        "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o\",\"messages\":[]}}\n",
        "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o\",\"messages\":[]}}\n",
        "not json\n"
    );
    let o = airlock(&["batch", "lint", "-", "--json"], lines);
    assert_eq!(o.status.code(), Some(1));
    let good = json_output(&o, "batch-lint");
    assert!(good["errors_total"].as_u64().unwrap() >= 2, "{good}");
    let lint = schema_validator("batch-lint");
    assert!(!lint.is_valid(&with(&good, "requests", Some(json!(-1)))));
    assert!(!lint.is_valid(&with(&good, "surprise", Some(json!(1)))));
    assert!(!lint.is_valid(&with(&good, "limits", None)));
    let mut error_extra = good.clone();
    error_extra["errors"][0]["surprise"] = json!(1);
    assert!(!lint.is_valid(&error_extra));
    let mut error_missing = good.clone();
    error_missing["errors"][0]
        .as_object_mut()
        .unwrap()
        .remove("code");
    assert!(!lint.is_valid(&error_missing));
}

/// `schemas/log-line.json`: one line of each kind, as the worker writes them (the e2e test
/// `tests/e2e/log-line.test.mjs` validates lines captured from workerd); wrong ones fail.
#[test]
fn log_line_schema_accepts_each_kind_and_rejects_the_rest() {
    let log = schema_validator("log-line");
    let request = json!({"time":"2026-12-06T07:00:00.000Z","request_id":"req_airlock_0123456789abcdef01234567",
        "upstream_request_id":"req_up","method":"POST","path":"/v1/chat/completions","model":"gpt-4o",
        "status":200,"category":null,"retry":null,"rule":null,"checked":true,"attempts":1,
        "latency_ms":3.5,"key_fingerprint":"sk-…abcd#1234","tokens":12,"tokens_counted":"estimate",
        "stream":false,"output":"valid"});
    let stream_end = json!({"event":"stream_end","request_id":"req_airlock_0","kind":"responses",
        "state":"failed","error":{"code":"server_error","message":"boom","param":null,"type":null,
        "sequence_number":3,"event":"error"},"last_event":"error","finish_reason":null,"events":4,
        "bytes":900,"upstream_dropped":false,"appended_error":false,"client_closed":false,
        "upstream_stalled":false,"duration_ms":12.0});
    let body_end = json!({"event":"body_end","request_id":"r","direction":"response","state":"cut","bytes":10,"error":"reset"});
    let upload_end = json!({"event":"upload_end","request_id":"r","state":"passed","bytes":10,
        "forwarded_bytes":10,"requests":1,"errors":0,"streamed":true,"upstream_aborted":false,"duration_ms":1.0});
    let simulate = json!({"event":"simulate","request_id":"r","name":"rate_limit","attempt":0,"after":null,"action":"fail"});
    let alert = json!({"event":"alert","category":"server_error","count":5,"baseline_hour":0,"window_minutes":5,"webhook":"unset"});
    let pacer = json!({"pacer":"restored from storage","requests":{"limit":10,"level":-1,"at":5},"tokens":null});
    for line in [
        &request,
        &stream_end,
        &body_end,
        &upload_end,
        &simulate,
        &alert,
        &pacer,
    ] {
        if let Err(e) = log.validate(line) {
            panic!("{line}: {e} at {}", e.instance_path());
        }
    }
    // Wrong type, undeclared key, missing key, for the request line and an event line.
    assert!(!log.is_valid(&with(&request, "status", Some(json!("200")))));
    assert!(!log.is_valid(&with(&request, "surprise", Some(json!(1)))));
    assert!(!log.is_valid(&with(&request, "checked", None)));
    assert!(!log.is_valid(&with(&request, "event", Some(json!("stream_end")))));
    assert!(!log.is_valid(&with(&stream_end, "events", Some(json!(-1)))));
    assert!(!log.is_valid(&with(&stream_end, "surprise", Some(json!(1)))));
    assert!(!log.is_valid(&with(&stream_end, "state", None)));
    assert!(!log.is_valid(&with(&stream_end, "event", Some(json!("stream_ended")))));
    assert!(!log.is_valid(&with(&body_end, "direction", Some(json!("sideways")))));
    assert!(!log.is_valid(&with(&pacer, "pacer", Some(json!("restored")))));
    assert!(!log.is_valid(&json!({"message": "hello"})));
}

/// `batch explain --json` and `batch join --json` (JSON Lines): real outputs are valid, and the
/// schemas reject a wrong kind or state, an undeclared key, a missing key.
#[test]
fn batch_explain_and_join_schemas_reject_what_they_do_not_describe() {
    let none = airlock(&["batch", "explain", "--json"], "nothing here\n");
    assert_eq!(json_output(&none, "batch-explain"), json!(null));
    let object = json!({"id": "batch_1", "object": "batch", "endpoint": "/v1/chat/completions",
        "status": "failed", "errors": {"object": "list", "data": [{"code": "duplicate_custom_id",
        "message": "The custom_id for this request is a duplicate of another request.",
        "param": "custom_id", "line": 3}]}, "request_counts": {"total": 3, "completed": 0, "failed": 0}})
    .to_string();
    let good = json_output(
        &airlock(&["batch", "explain", "--json"], &object),
        "batch-explain",
    );
    assert_eq!(good["kind"], "batch", "{good}");
    let explain = schema_validator("batch-explain");
    assert!(!explain.is_valid(&with(&good, "kind", Some(json!("bogus")))));
    assert!(!explain.is_valid(&with(&good, "surprise", Some(json!(1)))));
    assert!(!explain.is_valid(&with(&good, "errors", None)));
    let mut item = good.clone();
    item["errors"][0]["line"] = json!("three");
    assert!(!explain.is_valid(&item));

    let join = schema_validator("batch-join");
    let row = json!({"custom_id": "a", "line": 1, "state": "failed", "status_code": 400,
        "code": "invalid_value", "message": "no"});
    assert!(join.is_valid(&row));
    assert!(join.is_valid(&json!({"custom_id": "b", "line": null, "state": "missing"})));
    assert!(!join.is_valid(&with(&row, "state", Some(json!("lost")))));
    assert!(!join.is_valid(&with(&row, "custom_id", None)));
    assert!(!join.is_valid(&with(&row, "line", Some(json!("one")))));
}

/// `check-output --json` (`schemas/check-output.json`): a real report of each status is valid;
/// a status that is not one of the five, a wrong type, an undeclared or a missing key are not.
#[test]
fn check_output_schema_rejects_what_it_does_not_describe() {
    let dir = std::env::temp_dir().join(format!("airlock-schemas-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let request = dir.join("request.json");
    std::fs::write(
        &request,
        json!({"model": "gpt-4o", "messages": [], "response_format": {"type": "json_schema",
            "json_schema": {"name": "a", "strict": true, "schema": {"type": "object",
            "properties": {"n": {"type": "integer"}}, "required": ["n"], "additionalProperties": false}}}})
        .to_string(),
    )
    .unwrap();
    let answer = |name: &str, content: &str, finish: &str| {
        let path = dir.join(name);
        let body = json!({"object": "chat.completion", "choices": [{"index": 0,
            "finish_reason": finish, "message": {"role": "assistant", "content": content}}]});
        std::fs::write(&path, body.to_string()).unwrap();
        path
    };
    let run = |response: &std::path::Path| {
        let args = [
            "check-output",
            request.to_str().unwrap(),
            response.to_str().unwrap(),
            "--json",
        ];
        json_output(&airlock(&args, ""), "check-output")
    };
    let valid = run(&answer("valid.json", r#"{"n": 1}"#, "stop"));
    assert_eq!(valid["status"], "valid", "{valid}");
    let invalid = run(&answer("invalid.json", r#"{"n": "one"}"#, "stop"));
    assert_eq!(invalid["status"], "invalid", "{invalid}");
    assert_eq!(invalid["keyword"], "type", "{invalid}");
    let truncated = run(&answer("truncated.json", r#"{"n": "#, "length"));
    assert_eq!(truncated["status"], "truncated", "{truncated}");
    let not_json = dir.join("not-json.json");
    std::fs::write(&not_json, "{not json").unwrap();
    let unchecked = run(&not_json);
    assert_eq!(unchecked["reason"], "not_json", "{unchecked}");
    let schema = schema_validator("check-output");
    assert!(!schema.is_valid(&with(&invalid, "status", Some(json!("wrong")))));
    assert!(!schema.is_valid(&with(&invalid, "checked", Some(json!(-1)))));
    assert!(!schema.is_valid(&with(&invalid, "path", Some(json!(3)))));
    assert!(!schema.is_valid(&with(&invalid, "surprise", Some(json!(1)))));
    assert!(!schema.is_valid(&with(&invalid, "status", None)));
}

/// `simulate --list --json` (`schemas/simulate-list.json`): the real list is valid; a failure
/// with an undeclared key, a category or kind that is not one, a missing key are not.
#[test]
fn simulate_list_schema_rejects_what_it_does_not_describe() {
    let good = json_output(
        &airlock(&["simulate", "--list", "--json"], ""),
        "simulate-list",
    );
    let list = schema_validator("simulate-list");
    let first = |f: &dyn Fn(&serde_json::Value) -> serde_json::Value| {
        let mut v = good.clone();
        v["failures"][0] = f(&good["failures"][0]);
        v
    };
    assert!(list.is_valid(&first(&|f| f.clone())));
    assert!(!list.is_valid(&first(&|f| with(f, "surprise", Some(json!(1))))));
    assert!(!list.is_valid(&first(&|f| with(f, "category", Some(json!("weather"))))));
    assert!(!list.is_valid(&first(&|f| with(f, "kind", Some(json!("meteor"))))));
    assert!(!list.is_valid(&first(&|f| with(f, "status", Some(json!("429"))))));
    assert!(!list.is_valid(&first(&|f| with(f, "sdk_retries", None))));
    assert!(!list.is_valid(&with(&good, "bounds", None)));
    let mut bounds = good.clone();
    bounds["bounds"]["surprise"] = json!(1);
    assert!(!list.is_valid(&bounds));
}
