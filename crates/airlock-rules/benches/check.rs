//! `cargo bench -p airlock-rules --bench check`: time `validate::check` on a typical 2 KB chat
//! request, a 200 KB one (a long conversation) and a 126k-token one like the worker bench's. A
//! plain timing loop, not a test: it prints the mean time per check and asserts nothing about
//! speed.

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
