//! Answers checked against what was asked (issue 17): every case of `tests/output/cases.json`
//! (Chat Completions and Responses, format and tools, valid / invalid / truncated / refused,
//! streamed and not) through `output::check_output` and `output::StreamOutput`; the streams fed
//! in chunks cut at every byte; and the size bound.
#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core)]

use std::path::PathBuf;

use airlock_rules::output::{
    Expectation, MAX_OUTPUT_CHECK_BYTES, OutputReport, Status, StreamOutput, ValidatorCache,
    check_output,
};
use serde_json::{Value, json};

fn cases() -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/output/cases.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn stream_report(e: &Expectation, text: &str, chunk: usize) -> OutputReport {
    let mut s = StreamOutput::new();
    for part in text.as_bytes().chunks(chunk) {
        s.push(part);
    }
    s.finish(e)
}

#[test]
fn every_case() {
    let cases = cases();
    assert_eq!(cases.len(), 30);
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let endpoint = case["endpoint"].as_str().unwrap();
        let request = &case["request"];
        let e = Expectation::from_request(endpoint, request).expect(name);
        let report = if case["stream"] == json!(true) {
            let text = case["response"].as_str().unwrap();
            let whole = stream_report(&e, text, usize::MAX);
            for chunk in [1, 3, 64] {
                assert_eq!(
                    stream_report(&e, text, chunk),
                    whole,
                    "{name}: chunks of {chunk}"
                );
            }
            whole
        } else {
            let bytes = serde_json::to_vec(&case["response"]).unwrap();
            let r = e.check_bytes(&bytes);
            assert_eq!(check_output(request, &case["response"]), r, "{name}");
            r
        };
        assert_eq!(report.status.as_str(), case["status"], "{name}: {report:?}");
        assert_eq!(report.path.as_deref(), case["path"].as_str(), "{name}");
        assert_eq!(
            report.keyword.as_deref(),
            case["keyword"].as_str(),
            "{name}"
        );
        if report.status == Status::Valid {
            assert!(report.checked >= 1, "{name}: something was validated");
        }
    }
}

#[test]
fn nothing_asked_is_not_an_expectation() {
    let plain = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]});
    assert!(Expectation::from_request("/v1/chat/completions", &plain).is_none());
    assert!(
        Expectation::from_request_bytes("/v1/chat/completions", plain.to_string().as_bytes())
            .is_none()
    );
    let object =
        json!({"model": "gpt-4o", "messages": [], "response_format": {"type": "json_object"}});
    assert!(Expectation::from_request("/v1/chat/completions", &object).is_none());
    assert!(Expectation::from_request("/v1/embeddings", &object).is_none());
}

#[test]
fn header_value_is_ascii() {
    let case = &cases()[2]; // chat format: invalid
    let e = Expectation::from_request("/v1/chat/completions", &case["request"]).unwrap();
    let r = e.check(&case["response"]);
    assert_eq!(
        r.header_value(),
        "invalid; path=choices[0].message.content/population; keyword=type"
    );
    let mut odd = r.clone();
    odd.path = Some(String::from("choices[0].message.content/größe; x"));
    assert_eq!(
        odd.header_value(),
        "invalid; path=choices[0].message.content/gr%C3%B6%C3%9Fe%3B%20x; keyword=type"
    );
}

/// An answer over the bound is not judged: `unchecked`, reason `too_large`, at one byte over;
/// at the bound it is judged.
#[test]
fn output_size_bound() {
    let case = &cases()[0]; // chat format: valid
    let e = Expectation::from_request("/v1/chat/completions", &case["request"]).unwrap();
    let mut answer = case["response"].clone();
    let base = serde_json::to_vec(&answer).unwrap().len();
    answer["id"] = json!("x".repeat(MAX_OUTPUT_CHECK_BYTES - base - 100));
    let mut bytes = serde_json::to_vec(&answer).unwrap();
    // Pad with spaces to exactly the bound, then one over.
    while bytes.len() < MAX_OUTPUT_CHECK_BYTES {
        bytes.push(b' ');
    }
    bytes.truncate(MAX_OUTPUT_CHECK_BYTES);
    let at_bound = e.check_bytes(&bytes);
    assert_ne!(at_bound.status, Status::Unchecked, "{at_bound:?}");
    bytes.push(b' ');
    let over = e.check_bytes(&bytes);
    assert_eq!(
        (over.status, over.reason),
        (Status::Unchecked, Some("too_large"))
    );

    // A stream whose output grows past the bound stops holding it.
    let mut s = StreamOutput::new();
    let piece = "x".repeat(64 * 1024);
    let event = json!({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": piece}}]});
    let line = format!("data: {event}\n\n");
    for _ in 0..(MAX_OUTPUT_CHECK_BYTES / piece.len() + 1) {
        s.push(line.as_bytes());
    }
    let r = s.finish(&e);
    assert_eq!((r.status, r.reason), (Status::Unchecked, Some("too_large")));
}

/// Where the time of a strict-schema request goes (not an assertion: run with `--ignored
/// --nocapture` to print; tests never assert on time).
#[test]
#[ignore]
fn cost_split() {
    let case = &cases()[0];
    let request = serde_json::to_vec(&case["request"]).unwrap();
    let answer = serde_json::to_vec(&case["response"]).unwrap();
    let mut plain = case["request"].clone();
    plain.as_object_mut().unwrap().remove("response_format");
    let plain = serde_json::to_vec(&plain).unwrap();
    let config = airlock_rules::validate::Config::default();
    let time = |label: &str, f: &dyn Fn()| {
        f();
        let t = std::time::Instant::now();
        for _ in 0..200 {
            f();
        }
        eprintln!("{label}: {:?} each", t.elapsed() / 200);
    };
    time("request check, plain", &|| {
        airlock_rules::validate::check("/v1/chat/completions", &plain, &config);
    });
    time("request check, strict format", &|| {
        airlock_rules::validate::check("/v1/chat/completions", &request, &config);
    });
    time("output check (expectation + answer)", &|| {
        let e = Expectation::from_request_bytes("/v1/chat/completions", &request).unwrap();
        e.check_bytes(&answer);
    });
    let cache = std::cell::RefCell::new(ValidatorCache::new());
    time("output check, validator cached", &|| {
        let e = Expectation::from_request_bytes("/v1/chat/completions", &request).unwrap();
        e.check_bytes_cached(&answer, &mut cache.borrow_mut());
    });
}

/// One cache shared by every case, each run twice (so the second run of every schema is a hit,
/// and schemas of different cases meet in one cache): the same verdicts as a fresh compile.
#[test]
fn cached_validators_give_the_same_verdicts() {
    let cases = cases();
    let mut cache = ValidatorCache::new();
    for round in 0..2 {
        for case in &cases {
            let name = case["name"].as_str().unwrap();
            let e = Expectation::from_request(case["endpoint"].as_str().unwrap(), &case["request"])
                .expect(name);
            let (fresh, cached) = if case["stream"] == json!(true) {
                let text = case["response"].as_str().unwrap();
                let mut s = StreamOutput::new();
                s.push(text.as_bytes());
                (
                    stream_report(&e, text, usize::MAX),
                    s.finish_cached(&e, &mut cache),
                )
            } else {
                let bytes = serde_json::to_vec(&case["response"]).unwrap();
                (
                    e.check_bytes(&bytes),
                    e.check_bytes_cached(&bytes, &mut cache),
                )
            };
            assert_eq!(fresh, cached, "{name}, round {round}");
        }
    }
    let (hits, compiles) = cache.stats();
    assert!(compiles >= 1 && hits >= compiles, "{:?}", cache.stats());
    assert_eq!(cache.len() as u64, compiles, "every schema compiled once");
}

/// The answer's check report for `case` with `e`, whole or streamed, from `cache`.
fn cached_report(e: &Expectation, case: &Value, cache: &mut ValidatorCache) -> OutputReport {
    if case["stream"] == json!(true) {
        let mut s = StreamOutput::new();
        s.push(case["response"].as_str().unwrap().as_bytes());
        s.finish_cached(e, cache)
    } else {
        e.check_bytes_cached(&serde_json::to_vec(&case["response"]).unwrap(), cache)
    }
}

/// The validators handed from the request's check (`check_keeping_handed`,
/// `from_request_handed`; issue 17): one lint cache and one validator cache shared by every
/// case, each run three times: the same verdicts as a fresh compile, the same expectation as
/// `from_request`, and after the first round no schema is looked up in the validator cache
/// again (each comes from its slot).
#[test]
fn handed_validators_give_the_same_verdicts() {
    use airlock_rules::validate::{Config, SchemaLintCache, check_keeping_handed};
    let cases = cases();
    let (mut lints, mut cache) = (SchemaLintCache::new(), ValidatorCache::new());
    let mut after_first = (0, 0);
    for round in 0..3 {
        for case in &cases {
            let name = case["name"].as_str().unwrap();
            let endpoint = case["endpoint"].as_str().unwrap();
            let body = serde_json::to_vec(&case["request"]).unwrap();
            let (_, tree, handed) =
                check_keeping_handed(endpoint, &body, &Config::default(), &mut lints);
            assert!(!handed.is_empty(), "{name}: a schema linted with a cache");
            let e = Expectation::from_request_handed(endpoint, tree.unwrap(), handed).expect(name);
            let plain = Expectation::from_request(endpoint, &case["request"]).unwrap();
            assert_eq!(e, plain, "{name}");
            let fresh = cached_report(&plain, case, &mut ValidatorCache::new());
            assert_eq!(
                cached_report(&e, case, &mut cache),
                fresh,
                "{name}, round {round}"
            );
        }
        if round == 0 {
            after_first = cache.stats();
        }
    }
    assert!(after_first.1 >= 1, "{after_first:?}");
    assert_eq!(
        cache.stats(),
        after_first,
        "no lookup after the first round"
    );
}

/// A slot is only used for the schema it was linted as: a body naming both APIs' formats, with
/// different schemas, checked for one endpoint and read for the other, and two tools of one name
/// (the later one's schema, and its slot, are the ones kept).
#[test]
fn handed_validators_stay_with_their_schema() {
    use airlock_rules::validate::{Config, SchemaLintCache, check_keeping_handed};
    let int = json!({"type": "object", "properties": {"n": {"type": "integer"}},
        "required": ["n"], "additionalProperties": false});
    let text = json!({"type": "object", "properties": {"n": {"type": "string"}},
        "required": ["n"], "additionalProperties": false});
    let body = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}],
    "input": "Hi",
    "response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": int}},
    "text": {"format": {"type": "json_schema", "name": "a", "schema": text}},
    "tools": [
        {"type": "function", "function": {"name": "f", "parameters": int}},
        {"type": "function", "function": {"name": "f", "parameters": text}}
    ]});
    let bytes = serde_json::to_vec(&body).unwrap();
    let chat = json!({"choices": [{"finish_reason": "tool_calls", "message": {"role": "assistant",
        "content": "{\"n\": 1}",
        "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{\"n\": \"x\"}"}}]}}]});
    let responses = json!({"status": "completed", "output": [{"type": "message", "role": "assistant",
        "content": [{"type": "output_text", "text": "{\"n\": \"x\"}"}]}]});
    let chat = serde_json::to_vec(&chat).unwrap();
    let responses = serde_json::to_vec(&responses).unwrap();
    let mut lints = SchemaLintCache::new();
    let mut cache = ValidatorCache::new();
    for (checked, read, answer) in [
        ("/v1/chat/completions", "/v1/chat/completions", &chat),
        ("/v1/chat/completions", "/v1/responses", &responses),
        ("/v1/responses", "/v1/chat/completions", &chat),
        ("/v1/responses", "/v1/responses", &responses),
    ] {
        for round in 0..2 {
            let (_, tree, handed) =
                check_keeping_handed(checked, &bytes, &Config::default(), &mut lints);
            let e = Expectation::from_request_handed(read, tree.unwrap(), handed).unwrap();
            let fresh = Expectation::from_request(read, &body)
                .unwrap()
                .check_bytes(answer);
            assert_eq!(fresh.status, Status::Valid, "{checked} read as {read}");
            assert_eq!(
                e.check_bytes_cached(answer, &mut cache),
                fresh,
                "{checked} read as {read}, round {round}"
            );
        }
    }
}

/// `from_request_bytes` builds only the values it reads (issue 17's cost): the same expectation
/// as the whole body parsed, on every case's request, on the request corpora's bodies, and on
/// bodies the partial read refuses (a key given twice, not an object).
#[test]
fn reading_the_request_in_part_gives_the_same_expectation() {
    let mut bodies: Vec<(String, Vec<u8>)> = cases()
        .iter()
        .map(|c| {
            let endpoint = c["endpoint"].as_str().unwrap().to_string();
            (endpoint, serde_json::to_vec(&c["request"]).unwrap())
        })
        .collect();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/requests");
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let bytes = std::fs::read(&path).unwrap();
                for endpoint in ["/v1/chat/completions", "/v1/responses"] {
                    bodies.push((endpoint.to_string(), bytes.clone()));
                }
            }
        }
    }
    let format =
        r#"{"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}}"#;
    for text in [
        format!(r#"{{"messages": [], "response_format": {format}, "response_format": null}}"#),
        format!(r#"{{"response_format": null, "messages": [], "response_format": {format}}}"#),
        format!(r#"[{{"response_format": {format}}}]"#),
        // An array is not a request; serde would read a struct from it by position.
        format!(r#"[{format}]"#),
        format!(r#" [{format}, null, null]"#),
        format!(r#"{{"tools": null, "response_format": {format}}}"#),
        r#"{"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}], "tools": []}"#.to_string(),
    ] {
        for endpoint in ["/v1/chat/completions", "/v1/responses"] {
            bodies.push((endpoint.to_string(), text.clone().into_bytes()));
        }
    }
    let mut asked = 0;
    for (endpoint, bytes) in &bodies {
        let whole = serde_json::from_slice::<Value>(bytes)
            .ok()
            .and_then(|v| Expectation::from_request(endpoint, &v));
        let part = Expectation::from_request_bytes(endpoint, bytes);
        asked += usize::from(whole.is_some());
        assert_eq!(part, whole, "{endpoint} {}", String::from_utf8_lossy(bytes));
    }
    assert!(asked >= 100, "only {asked} bodies asked for something");
}
