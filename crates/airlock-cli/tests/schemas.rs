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
    assert_eq!(names, ["check", "count-text", "count-request"]);
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
