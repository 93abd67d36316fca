//! `cargo bench -p airlock-rules --bench check`: time `validate::check` on a typical 2 KB chat
//! request and a 200 KB one (a long conversation). A plain timing loop, not a test: it prints the
//! mean time per check and asserts nothing about speed.

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

fn bench(name: &str, body: &[u8]) {
    bench_with(name, body, &Config::default());
}

fn bench_with(name: &str, body: &[u8], config: &Config) {
    let config = config.clone();
    let endpoint = "/v1/chat/completions";
    assert!(
        check(endpoint, body, &config).ok(),
        "{name}: the bench body must pass"
    );
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
