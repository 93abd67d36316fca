//! The context budget end to end (issue 4): `airlock check` and `airlock count` on request
//! bodies whose text is counted exactly, against the model data's limits.

mod common;

use common::airlock;

use serde_json::{Value, json};

/// `n` tokens of text in o200k_base (" word" is one token).
fn words(n: usize) -> String {
    " word".repeat(n)
}

/// A Chat body with `text` as user messages of at most 1,000,000 bytes each (OpenAI refuses a
/// message content over 1,048,576 characters, gptscript-ai/clio#41). The texts here are ASCII.
fn chat(model: &str, text: &str, max_tokens: Option<u64>) -> String {
    let messages: Vec<Value> = text
        .as_bytes()
        .chunks(1_000_000)
        .map(|c| json!({"role": "user", "content": core::str::from_utf8(c).unwrap()}))
        .collect();
    let mut body = json!({"model": model, "messages": messages});
    if let Some(n) = max_tokens {
        body["max_tokens"] = json!(n);
    }
    body.to_string()
}

fn check_json(body: &str) -> (Option<i32>, Value) {
    let o = airlock(
        &["check", "--endpoint", "/v1/chat/completions", "--json"],
        body,
    );
    let v = common::json_output(&o, "check");
    (o.status.code(), v)
}

fn by_rule<'a>(list: &'a Value, rule: &str) -> Vec<&'a Value> {
    list.as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

#[test]
fn check_rejects_text_alone_over_the_gpt4o_window() {
    let (code, v) = check_json(&chat("gpt-4o", &words(128_500), None));
    assert_eq!(code, Some(1));
    let e = by_rule(&v["errors"], "context_length");
    assert_eq!(e.len(), 1, "{v}");
    assert_eq!(e[0]["code"], "context_length_exceeded");
    assert_eq!(e[0]["param"], "messages");
    let m = e[0]["message"].as_str().unwrap();
    assert!(
        m.starts_with(
            "This model's maximum context length is 128000 tokens. However, your messages resulted in "
        ) && m.ends_with(" tokens. Please reduce the length of the messages."),
        "{m}"
    );
    assert!(v["tokens"]["input_exact"].as_u64().unwrap() > 128_000);
    assert_eq!(v["tokens"]["context_window"], 128_000);

    let o = airlock(
        &["check", "--endpoint", "/v1/chat/completions"],
        &chat("gpt-4o", &words(128_500), None),
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("context window 128000"), "{text}");
    assert!(text.contains("error [context_length]"), "{text}");
}

#[test]
fn check_only_warns_when_the_output_pushes_it_over() {
    let (code, v) = check_json(&chat("gpt-4o", &words(127_000), Some(16_000)));
    assert_eq!(code, Some(0), "{v}");
    let w = by_rule(&v["warnings"], "context_length");
    assert_eq!(w.len(), 1, "{v}");
    assert_eq!(w[0]["code"], "context_length_exceeded");
    assert_eq!(v["tokens"]["output"], 16_000);
    assert_eq!(v["tokens"]["output_param"], "max_tokens");
}

#[test]
fn check_never_rejects_an_unknown_model_on_size() {
    let (code, v) = check_json(&chat("my-finetuned-llama", &words(300_000), Some(100_000)));
    assert_eq!(code, Some(0), "{v}");
    assert!(by_rule(&v["warnings"], "context_length").is_empty());
}

#[test]
fn the_rule_can_be_reported_instead() {
    let o = airlock(
        &[
            "check",
            "--endpoint",
            "/v1/chat/completions",
            "--json",
            "--rule",
            "context_length=report",
        ],
        &chat("gpt-4o", &words(128_500), None),
    );
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn count_uses_the_model_limits() {
    let body = chat("gpt-4o", &words(128_500), None);
    let o = airlock(
        &["count", "--endpoint", "/v1/chat/completions", "--json"],
        &body,
    );
    assert_eq!(o.status.code(), Some(1));
    let v: Value = common::json_output(&o, "count-request");
    assert_eq!(v["context_window"], 128_000);
    assert_eq!(v["error"]["code"], "context_length_exceeded");
    // --model overrides the body's model: gpt-4.1 holds a million tokens.
    let o = airlock(
        &[
            "count",
            "--endpoint",
            "/v1/chat/completions",
            "--model",
            "gpt-4.1",
            "--json",
        ],
        &body,
    );
    assert_eq!(o.status.code(), Some(0));
    let v: Value = common::json_output(&o, "count-request");
    assert_eq!(v["context_window"], 1_047_576);
    assert!(v["error"].is_null());
    // A model without known limits is only counted.
    let o = airlock(
        &[
            "count",
            "--endpoint",
            "/v1/chat/completions",
            "--model",
            "gpt-4o-2099-01-01",
        ],
        &body,
    );
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("no known context window"), "{text}");
}

/// The CLI builds the rules crate with the `jsonschema` feature (issue 3): a function schema that
/// only the `jsonschema` crate's meta-schema check finds invalid is reported as a warning (which
/// JSON Schema draft OpenAI validates against is not documented, so it never rejects), and one
/// that is valid under draft 7 but not 2020-12 (tuple `items`) gets no such warning.
#[test]
fn jsonschema_crate_meta_check() {
    let body = |prop: Value| {
        json!({
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"type": "function", "function": {"name": "f", "parameters":
                {"type": "object", "properties": {"a": prop}}}}]
        })
        .to_string()
    };
    let (code, v) = check_json(&body(json!({"type": "string", "uniqueItems": "yes"})));
    assert_eq!(code, Some(0), "{v}");
    let w = by_rule(&v["warnings"], "json_schema_valid");
    assert_eq!(w.len(), 1, "{v}");
    assert_eq!(w[0]["code"], "invalid_function_parameters", "{v}");
    assert_eq!(w[0]["param"], "tools[0].function.parameters", "{v}");

    let (code, v) = check_json(&body(
        json!({"type": "array", "items": [{"type": "string"}]}),
    ));
    assert_eq!(code, Some(0), "{v}");
    assert!(
        by_rule(&v["warnings"], "json_schema_valid").is_empty(),
        "{v}"
    );
}

/// Random words, never repeated: every piece is merged (the most costly text to tokenize).
fn random_words(bytes: usize) -> String {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut s = String::with_capacity(bytes + 16);
    while s.len() < bytes {
        s.push(' ');
        for _ in 0..7 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.push(char::from(b'a' + (x % 26) as u8));
        }
    }
    s
}

#[test]
fn check_says_at_least_when_the_tokenizing_bound_left_text_uncounted() {
    // 1.5 MB for gpt-4.1 (1,047,576): past the bound, neither over nor within is certain.
    let body = chat("gpt-4.1", &random_words(1_500_000), None);
    let (code, v) = check_json(&body);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["partly_checked"]["name"], "tokenize_cost");
    assert!(v["tokens"]["bytes_not_tokenized"].as_u64().unwrap() > 0);
    let o = airlock(&["check", "--endpoint", "/v1/chat/completions"], &body);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("tokens: at least "), "{text}");
    assert!(text.contains("warning [check_bounds]"), "{text}");
    // `airlock count` counts everything.
    let o = airlock(
        &["count", "--endpoint", "/v1/chat/completions", "--json"],
        &body,
    );
    let v: Value = common::json_output(&o, "count-request");
    assert!(v["exact"].as_u64().unwrap() > 500_000, "{v}");
}
