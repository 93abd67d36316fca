//! `cargo bench -p airlock-rules --bench check`: time `validate::check` on a typical 2 KB chat
//! request, a 200 KB one (a long conversation) and a 126k-token one like the worker bench's. A
//! plain timing loop, not a test: it prints the mean time per check and asserts nothing about
//! speed.
//!
//! Issue 17's rows: the worker bench's 2 KB strict-schema request (`bench/worker/run.mjs`,
//! `structuredBodies.strict`) against the same text with no format (`structuredBodies.plain`),
//! and the strict request's cost split into its parts (parse, whole-body request schema, strict
//! lint, token count, the answer's check), each measured as the check with that part off; and
//! both checked as the worker checks them, with a warm `SchemaLintCache`.

use core::hint::black_box;
use std::time::Instant;

use airlock_rules::validate::{Config, check};
use serde_json::json;

fn chat_body(target_bytes: usize) -> Vec<u8> {
    let tool = json!({"type": "function", "function": {"name": "get_weather", "description": "Get the current weather for a city",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["location"]}}});
    let mut messages = vec![
        json!({"role": "system", "content": "You are a helpful assistant that answers briefly and cites sources when it can."}),
    ];
    let mut body = json!({});
    let mut i = 0;
    loop {
        let role = if i % 2 == 0 { "user" } else { "assistant" };
        messages.push(json!({"role": role, "content": format!("Message {i}: the quick brown fox jumps over the lazy dog, again and again, while we talk about the weather in Paris, Tokyo and New York.")}));
        i += 1;
        body = json!({"model": "gpt-4o", "messages": messages, "tools": [tool], "temperature": 0.7, "max_tokens": 512, "stream": true, "stream_options": {"include_usage": true}});
        if serde_json::to_vec(&body).unwrap().len() >= target_bytes {
            break;
        }
    }
    serde_json::to_vec(&body).unwrap()
}

/// A 126,126-token chat request built as the worker bench builds its own (`bench/worker/run.mjs`,
/// `longChatBody`: the same words and sizes, another word order): 126 messages of 1,000 one-token words each, for gpt-4o (window 128,000), with a tool, so the
/// whole-body schema check runs and the count decides whether it fits.
fn long_chat_body() -> Vec<u8> {
    const WORDS: &str = "the of and to in is that for it with as was on be by this are from at or have an they which one you were all we can her has there been if more when will would who so no time people year way day man thing woman life child world school state family student group country problem hand part place case week company system program question work government number night point home water room mother area money story fact month lot right study book eye job word business issue side kind head house service friend father power hour game line end member law car city community name president team minute idea body information back parent face others level office door health person art war history party result change morning reason research girl guy moment air teacher force education";
    let words: Vec<&str> = WORDS.split(' ').collect();
    let mut x: u64 = 12345;
    let messages: Vec<serde_json::Value> = (0..126)
        .map(|i| {
            let mut text = String::new();
            for _ in 0..1000 {
                x = (x * 1103515245 + 12345) % 2147483648;
                text.push(' ');
                text.push_str(words[(x % words.len() as u64) as usize]);
            }
            json!({"role": if i % 2 == 1 { "assistant" } else { "user" }, "content": text})
        })
        .collect();
    let tool = json!({"type": "function", "function": {"name": "get_weather", "description": "Get the current weather for a city",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}});
    serde_json::to_vec(&json!({"model": "gpt-4o", "messages": messages, "tools": [tool]})).unwrap()
}

/// The worker bench's 2 KB chat text (`chatBody(2048 - 300)` in `bench/worker/run.mjs`): the
/// same sentence repeated, a system and a user message, for gpt-4o-mini.
fn bench_worker_plain() -> serde_json::Value {
    let sentence = "The quick brown fox jumps over the lazy dog while the committee reviews quarterly figures. ";
    let bytes = 2 * 1024 - 300;
    let text: String = sentence
        .repeat(bytes / sentence.len() + 1)
        .chars()
        .take(bytes - 120)
        .collect();
    json!({"model": "gpt-4o-mini", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]})
}

/// The worker bench's chat body of `bytes` (`chatBody` in `bench/worker/run.mjs`: one user
/// message of the sentence repeated, for gpt-4o-mini); its 200 KB row is `chatBody(200 * 1024)`.
fn bench_worker_chat(bytes: usize) -> Vec<u8> {
    let sentence = "The quick brown fox jumps over the lazy dog while the committee reviews quarterly figures. ";
    let text: String = sentence
        .repeat(bytes / sentence.len() + 1)
        .chars()
        .take(bytes - 120)
        .collect();
    serde_json::to_vec(&json!({"model": "gpt-4o-mini", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]})).unwrap()
}

/// `bench_worker_plain` with the worker bench's strict `json_schema` format.
fn bench_worker_strict() -> serde_json::Value {
    let mut body = bench_worker_plain();
    body["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "city", "strict": true, "schema": {
        "type": "object", "properties": {"city": {"type": "string"}, "population": {"type": ["integer", "null"]}, "tags": {"type": "array", "items": {"type": "string"}}},
        "required": ["city", "population", "tags"], "additionalProperties": false}}});
    body
}

/// Mean µs of `f` over about a second, after a warm-up.
fn time(mut f: impl FnMut()) -> (u32, f64) {
    // `CHECK_ITERS=n`: `n` calls after one warm-up, untimed (for callgrind; see `bench_with`).
    if let Some(n) = std::env::var("CHECK_ITERS")
        .ok()
        .and_then(|n| n.parse::<u32>().ok())
    {
        f();
        for _ in 0..n {
            f();
        }
        return (n, 0.0);
    }
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed().as_millis() < 200 {
        f();
        n += 1;
    }
    let iterations = (n * 5).max(10);
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    (
        iterations,
        start.elapsed().as_secs_f64() * 1e6 / f64::from(iterations),
    )
}

/// Whether the strict row `name` runs: `STRICT_ROW=text` runs only the rows whose name contains
/// `text` (with `CHECK_ITERS`, one row's instructions under callgrind: run it with two counts and
/// take the difference, so the set-up cancels out).
fn strict_row(name: &str) -> bool {
    std::env::var("STRICT_ROW").map_or(true, |only| name.contains(&only))
}

fn with_off(rules: &[&str]) -> Config {
    let mut config = Config {
        token_count: airlock_rules::validate::TokenCount::Lazy,
        ..Config::default()
    };
    for rule in rules {
        config
            .rules
            .insert((*rule).to_string(), airlock_rules::validate::Mode::Off);
    }
    config
}

/// Issue 17: the strict 2 KB request's pre-flight, whole and in parts, with the worker's
/// configuration (lazy count), against the same request without the format.
fn strict_2k() {
    let endpoint = "/v1/chat/completions";
    let plain = serde_json::to_vec(&bench_worker_plain()).unwrap();
    let strict = serde_json::to_vec(&bench_worker_strict()).unwrap();
    let answer = serde_json::to_vec(&json!({"id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "{\"city\":\"Oslo\",\"population\":709000,\"tags\":[\"capital\",\"port\"]}", "refusal": null}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18}})).unwrap();
    let worker = with_off(&[]);
    assert!(check(endpoint, &strict, &worker).ok());
    let row = |name: &str, f: &mut dyn FnMut()| {
        if strict_row(name) {
            let (n, us) = time(f);
            println!("strict 2 KB | {name}: {n} iterations, {us:.2} µs");
        }
    };
    row(
        &format!("plain ({} bytes), whole check", plain.len()),
        &mut || {
            black_box(check(endpoint, black_box(&plain), &worker));
        },
    );
    row(
        &format!("strict ({} bytes), whole check", strict.len()),
        &mut || {
            black_box(check(endpoint, black_box(&strict), &worker));
        },
    );
    // As the worker checks (`check_keeping_cached` with the isolate's `SchemaLintCache`, warm
    // after the first call): the schema's lints and the stand-in's request schema replayed.
    for (name, body) in [("plain", &plain), ("strict", &strict)] {
        let mut lints = airlock_rules::validate::SchemaLintCache::new();
        row(
            &format!("{name}, whole check, warm lint cache"),
            &mut || {
                black_box(airlock_rules::validate::check_keeping_cached(
                    endpoint,
                    black_box(body),
                    &worker,
                    &mut lints,
                ));
            },
        );
    }
    row("strict, parse only (serde_json::Value)", &mut || {
        black_box(serde_json::from_slice::<serde_json::Value>(black_box(&strict)).unwrap());
    });
    for (name, rules) in [
        (
            "strict, request schema off",
            &["request_schema", "request_schema_hint"][..],
        ),
        (
            "strict, schema lints off",
            &[
                "json_schema_valid",
                "strict_schema",
                "schema_limits",
                "schema_array_items",
            ][..],
        ),
        ("strict, context_length off", &["context_length"][..]),
        (
            "strict, request schema and schema lints off",
            &[
                "request_schema",
                "request_schema_hint",
                "json_schema_valid",
                "strict_schema",
                "schema_limits",
                "schema_array_items",
            ][..],
        ),
    ] {
        let config = with_off(rules);
        row(name, &mut || {
            black_box(check(endpoint, black_box(&strict), &config));
        });
    }
    // The answer's side, as the worker does it: the expectation read from the tree the check
    // parsed (`forward::expectation`), then the answer parsed and validated with the isolate's
    // cache (warm after the first call); and that check in its parts.
    let tree: serde_json::Value = serde_json::from_slice(&strict).unwrap();
    row(
        "answer: Expectation::from_request (the check's tree)",
        &mut || {
            black_box(airlock_rules::output::Expectation::from_request(
                endpoint,
                black_box(&tree),
            ));
        },
    );
    // The worker gives the tree up (`from_request_owned`): timed with a copy of the tree, less
    // the copy's own row.
    row("answer: copy of the tree", &mut || {
        black_box(black_box(&tree).clone());
    });
    row(
        "answer: Expectation::from_request_owned (with a copy of the tree)",
        &mut || {
            black_box(airlock_rules::output::Expectation::from_request_owned(
                endpoint,
                black_box(&tree).clone(),
            ));
        },
    );
    row("answer: Expectation::from_request_bytes", &mut || {
        black_box(airlock_rules::output::Expectation::from_request_bytes(
            endpoint,
            black_box(&strict),
        ));
    });
    let expect = airlock_rules::output::Expectation::from_request(endpoint, &tree).unwrap();
    let mut cache = airlock_rules::output::ValidatorCache::new();
    assert_eq!(
        expect.check_bytes_cached(&answer, &mut cache).status,
        airlock_rules::output::Status::Valid
    );
    row("answer: check_bytes_cached (warm cache)", &mut || {
        black_box(expect.check_bytes_cached(black_box(&answer), &mut cache));
    });
    row(
        "answer: parse the response (serde_json::Value)",
        &mut || {
            black_box(serde_json::from_slice::<serde_json::Value>(black_box(&answer)).unwrap());
        },
    );
    let response: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    let content = response["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    row("answer: parse the content (serde_json::Value)", &mut || {
        black_box(serde_json::from_str::<serde_json::Value>(black_box(&content)).unwrap());
    });
    let schema = &tree["response_format"]["json_schema"]["schema"];
    let instance: serde_json::Value = serde_json::from_str(&content).unwrap();
    row("answer: cache lookup (warm)", &mut || {
        black_box(cache.get(black_box(schema)));
    });
    let validator = cache.get(schema).unwrap();
    row("answer: validate the content", &mut || {
        black_box(validator.validate(black_box(&instance)).is_ok());
    });
}

fn bench(name: &str, body: &[u8]) {
    bench_with(name, body, &Config::default());
}

/// `CHECK_BENCH=text` runs only the cases whose name contains `text`; `CHECK_ITERS=n` runs `n`
/// checks after one warm-up instead of timing for about a second (for instruction counts under
/// `valgrind --tool=callgrind`, which a shared machine's load does not change).
fn bench_with(name: &str, body: &[u8], config: &Config) {
    if std::env::var("CHECK_BENCH").is_ok_and(|only| !name.contains(&only)) {
        return;
    }
    let config = config.clone();
    let endpoint = "/v1/chat/completions";
    assert!(
        check(endpoint, body, &config).ok(),
        "{name}: the bench body must pass"
    );
    if let Some(n) = std::env::var("CHECK_ITERS")
        .ok()
        .and_then(|n| n.parse::<u32>().ok())
    {
        for _ in 0..n {
            black_box(check(endpoint, black_box(body), &config));
        }
        println!("{name}: {} bytes, {n} checks", body.len());
        return;
    }
    // Warm up, then pick an iteration count that runs for about a second.
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed().as_millis() < 200 {
        black_box(check(endpoint, black_box(body), &config));
        n += 1;
    }
    let iterations = (n * 5).max(10);
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(check(endpoint, black_box(body), &config));
    }
    let per = start.elapsed() / iterations;
    println!(
        "{name}: {} bytes, {iterations} iterations, {:.1} µs per check",
        body.len(),
        per.as_secs_f64() * 1e6
    );
}

fn main() {
    if std::env::args().any(|a| a == "strict") {
        strict_2k();
        return;
    }
    // `CHECK_BENCH` picks other rows: the timed strict rows would only add noise (and their
    // instructions to a callgrind run).
    if std::env::var("CHECK_BENCH").is_err() {
        strict_2k();
    }
    // The 128k-token pre-flight (issue 14): counted only as far as the verdict needs (the
    // worker's default) and always exactly (`EXACT_TOKEN_COUNT=true`).
    let long = long_chat_body();
    let lazy = Config {
        token_count: airlock_rules::validate::TokenCount::Lazy,
        ..Config::default()
    };
    bench_with("chat 126k tokens, lazy count", &long, &lazy);
    bench("chat 126k tokens, exact count", &long);
    bench("chat 2 KB", &chat_body(2 * 1024));
    // bench-worker's 200 KB row (issue 14): one 200 KB message, checked as the worker does (lazy).
    bench_with(
        "worker chat 200 KB, lazy count",
        &bench_worker_chat(200 * 1024),
        &lazy,
    );
    bench("chat 200 KB", &chat_body(200 * 1024));
    // The whole-body schema check's share (issue 12): the same bodies with it off. They carry a
    // tool and `stream_options`, so they do not take the plain-chat shortcut.
    let mut off = Config::default();
    for rule in ["request_schema", "request_schema_hint"] {
        off.rules
            .insert(rule.to_string(), airlock_rules::validate::Mode::Off);
    }
    bench_with("chat 2 KB, request schema off", &chat_body(2 * 1024), &off);
    bench_with(
        "chat 200 KB, request schema off",
        &chat_body(200 * 1024),
        &off,
    );
}
