//! The property each fuzz target checks, as plain functions over the fuzzer's bytes.
//!
//! Shared by the libFuzzer targets (`fuzz/fuzz_targets/*.rs`, nightly) and by the rules crate's
//! normal test suite (`crates/airlock-rules/tests/fuzz_regressions.rs` includes this file and
//! replays `fuzz/regressions/<target>/*` on stable). Each function panics when its property fails.
//!
//! Targets that cut their input into chunks read a small header first (see [`split`]): byte 0 is
//! the number of cuts (mod 8), then one byte per cut (chunk length − 1); the rest is the payload.
//! A seed with a leading `0x00` is its payload unchunked.

use airlock_rules::sse::{Item, Limits, SseParser, StreamState, StreamWatch};
use airlock_rules::upload::{Multipart, Pump};
use airlock_rules::validate::{Config, check};
use arbitrary::{Arbitrary, Unstructured};

/// The names of the targets, as under `fuzz/fuzz_targets/` and `fuzz/regressions/`.
pub const TARGETS: [&str; 9] = [
    "explain",
    "check_bytes",
    "check_json",
    "sse",
    "batch_lint",
    "upload",
    "tokenizer",
    "redact",
    "headers",
];

/// Runs the named target's property on `data` (for replaying regression files).
pub fn run(target: &str, data: &[u8]) {
    match target {
        "explain" => explain(data),
        "check_bytes" => check_bytes(data),
        "check_json" => check_json(data),
        "sse" => sse(data),
        "batch_lint" => batch_lint(data),
        "upload" => upload(data),
        "tokenizer" => tokenizer(data),
        "redact" => redact(data),
        "headers" => headers(data),
        other => panic!("unknown fuzz target {other}"),
    }
}

/// The endpoints the validators model (and one they do not).
pub const ENDPOINTS: [&str; 13] = [
    "/v1/chat/completions",
    "/v1/responses",
    "/v1/embeddings",
    "/v1/images/generations",
    "/v1/images/edits",
    "/v1/audio/transcriptions",
    "/v1/audio/speech",
    "/v1/files",
    "/v1/batches",
    "/v1/completions",
    "/v1/moderations",
    "/v1/responses/input_tokens",
    "/v1/unknown",
];

/// The chunk lengths and the payload (see the module doc).
pub fn split(data: &[u8]) -> (Vec<usize>, &[u8]) {
    let Some((&n, rest)) = data.split_first() else {
        return (Vec::new(), data);
    };
    let n = usize::from(n % 8).min(rest.len());
    let (sizes, payload) = rest.split_at(n);
    (sizes.iter().map(|&s| usize::from(s) + 1).collect(), payload)
}

/// `payload` cut after each of `sizes` (the last chunk takes the rest).
pub fn chunks<'a>(payload: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = payload;
    for &s in sizes {
        let (a, b) = rest.split_at(s.min(rest.len()));
        out.push(a);
        rest = b;
    }
    out.push(rest);
    out
}

/// `airlock_rules::explain` on any text: never panics.
pub fn explain(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let e = airlock_rules::explain(&text);
    if let Some(d) = &e.diagnosis {
        let _ = airlock_rules::retry::next_step(
            d,
            [("retry-after", text.as_ref())],
            &airlock_rules::retry::Budget::new(0, 2),
            0.5,
        );
    }
    let _ = airlock_rules::batch::explain_batch(&text);
    let _ = airlock_rules::ratelimit::from_message(&text);
}

/// `validate::check` on any bytes, for an endpoint chosen by byte 0: never panics, and a
/// verdict with errors is not ok.
pub fn check_bytes(data: &[u8]) {
    let Some((&e, body)) = data.split_first() else {
        return;
    };
    let endpoint = ENDPOINTS[usize::from(e) % ENDPOINTS.len()];
    let v = check(endpoint, body, &Config::default());
    assert_eq!(v.ok(), v.errors.is_empty(), "{endpoint}");
}

const MODELS: [&str; 12] = [
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-5",
    "o3",
    "o1-mini",
    "gpt-3.5-turbo",
    "text-embedding-3-small",
    "dall-e-3",
    "gpt-image-1",
    "whisper-1",
    "no-such-model",
];
const ROLES: [&str; 7] = [
    "system",
    "developer",
    "user",
    "assistant",
    "tool",
    "function",
    "critic",
];
const KEYS: [&str; 34] = [
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "max_output_tokens",
    "n",
    "stream",
    "stream_options",
    "response_format",
    "text",
    "tool_choice",
    "parallel_tool_calls",
    "reasoning",
    "reasoning_effort",
    "logprobs",
    "top_logprobs",
    "seed",
    "stop",
    "user",
    "metadata",
    "store",
    "previous_response_id",
    "instructions",
    "include",
    "modalities",
    "audio",
    "prediction",
    "functions",
    "function_call",
    "dimensions",
    "encoding_format",
    "size",
    "quality",
    "prompt",
];
const TYPES: [&str; 14] = [
    "text",
    "input_text",
    "output_text",
    "image_url",
    "input_image",
    "input_file",
    "input_audio",
    "function",
    "function_call",
    "function_call_output",
    "message",
    "json_schema",
    "object",
    "reasoning",
];

type Value = serde_json::Value;

fn pick<'a>(u: &mut Unstructured, list: &[&'a str]) -> arbitrary::Result<&'a str> {
    Ok(list[usize::from(u8::arbitrary(u)?) % list.len()])
}

fn small_string(u: &mut Unstructured) -> arbitrary::Result<String> {
    Ok(match u8::arbitrary(u)? % 4 {
        0 => pick(u, &MODELS)?.to_string(),
        1 => pick(u, &TYPES)?.to_string(),
        2 => pick(u, &ROLES)?.to_string(),
        _ => String::arbitrary(u)?,
    })
}

/// Any JSON value, nested up to `depth`.
fn any_value(u: &mut Unstructured, depth: u32) -> arbitrary::Result<Value> {
    let top = if depth == 0 { 5 } else { 8 };
    Ok(match u8::arbitrary(u)? % top {
        0 => Value::Null,
        1 => Value::Bool(bool::arbitrary(u)?),
        2 => Value::from(i64::arbitrary(u)? % 100_000),
        3 => serde_json::Number::from_f64(f64::arbitrary(u)?).map_or(Value::Null, Value::Number),
        4 => Value::String(small_string(u)?),
        5 | 6 => {
            let n = u.int_in_range(0..=4)?;
            let mut m = serde_json::Map::new();
            for _ in 0..n {
                let k = if bool::arbitrary(u)? {
                    pick(
                        u,
                        &[
                            "type",
                            "role",
                            "content",
                            "name",
                            "properties",
                            "required",
                            "items",
                            "additionalProperties",
                            "strict",
                            "schema",
                            "description",
                            "enum",
                            "anyOf",
                            "$ref",
                            "$defs",
                            "text",
                            "image_url",
                            "url",
                            "arguments",
                            "call_id",
                            "output",
                            "id",
                            "format",
                        ],
                    )?
                    .to_string()
                } else {
                    small_string(u)?
                };
                m.insert(k, any_value(u, depth - 1)?);
            }
            Value::Object(m)
        }
        _ => {
            let n = u.int_in_range(0..=4)?;
            let mut a = Vec::new();
            for _ in 0..n {
                a.push(any_value(u, depth - 1)?);
            }
            Value::Array(a)
        }
    })
}

fn content(u: &mut Unstructured) -> arbitrary::Result<Value> {
    if bool::arbitrary(u)? {
        return Ok(Value::String(small_string(u)?));
    }
    let n = u.int_in_range(0..=3)?;
    let mut parts = Vec::new();
    for _ in 0..n {
        let t = pick(u, &TYPES)?;
        let mut m = serde_json::Map::new();
        m.insert("type".into(), Value::from(t));
        match t {
            "image_url" => {
                let url = pick(
                    u,
                    &[
                        "https://example.com/a.png",
                        "data:image/png;base64,iVBORw0KGgo=",
                        "data:image/jpeg;base64,",
                        "ftp://x",
                    ],
                )?;
                m.insert("image_url".into(), serde_json::json!({ "url": url }));
            }
            "input_image" => {
                m.insert(
                    "image_url".into(),
                    Value::from(pick(
                        u,
                        &[
                            "https://example.com/a.png",
                            "data:image/gif;base64,R0lGODlh",
                        ],
                    )?),
                );
            }
            _ => {
                m.insert("text".into(), Value::String(small_string(u)?));
            }
        }
        if bool::arbitrary(u)? {
            m.insert(small_string(u)?, any_value(u, 2)?);
        }
        parts.push(Value::Object(m));
    }
    Ok(Value::Array(parts))
}

fn tools(u: &mut Unstructured, responses: bool) -> arbitrary::Result<Value> {
    let n = u.int_in_range(0..=3)?;
    let mut out = Vec::new();
    for _ in 0..n {
        let name = pick(u, &["get_weather", "a.b", "x", "lookup-2", ""])?;
        let params = if bool::arbitrary(u)? {
            serde_json::json!({
                "type": "object",
                "properties": { "city": { "type": pick(u, &["string", "integer", "object", "nope"])? } },
                "required": ["city"],
                "additionalProperties": bool::arbitrary(u)?,
            })
        } else {
            any_value(u, 4)?
        };
        let strict = Value::Bool(bool::arbitrary(u)?);
        out.push(if responses {
            serde_json::json!({ "type": "function", "name": name, "parameters": params, "strict": strict })
        } else {
            serde_json::json!({ "type": "function", "function": { "name": name, "parameters": params, "strict": strict } })
        });
    }
    Ok(Value::Array(out))
}

/// A request body shaped like the API's, so that the fuzzer reaches the nested validators.
pub fn request(u: &mut Unstructured) -> arbitrary::Result<(&'static str, Value)> {
    let endpoint = ENDPOINTS[usize::from(u8::arbitrary(u)?) % ENDPOINTS.len()];
    let mut m = serde_json::Map::new();
    if u8::arbitrary(u)? % 8 != 0 {
        m.insert("model".into(), Value::from(pick(u, &MODELS)?));
    }
    let responses = endpoint.starts_with("/v1/responses");
    match u8::arbitrary(u)? % 4 {
        0 if !responses => {
            let n = u.int_in_range(0..=5)?;
            let mut msgs = Vec::new();
            for _ in 0..n {
                let mut msg = serde_json::Map::new();
                msg.insert("role".into(), Value::from(pick(u, &ROLES)?));
                msg.insert("content".into(), content(u)?);
                match u8::arbitrary(u)? % 5 {
                    0 => {
                        msg.insert("tool_call_id".into(), Value::from("call_1"));
                    }
                    1 => {
                        msg.insert(
                            "tool_calls".into(),
                            serde_json::json!([{ "id": "call_1", "type": "function",
                                "function": { "name": "get_weather", "arguments": small_string(u)? } }]),
                        );
                    }
                    2 => {
                        msg.insert(small_string(u)?, any_value(u, 2)?);
                    }
                    _ => {}
                }
                msgs.push(Value::Object(msg));
            }
            m.insert("messages".into(), Value::Array(msgs));
        }
        0 | 1 => {
            let input = match u8::arbitrary(u)? % 3 {
                0 => Value::String(small_string(u)?),
                1 => {
                    let n = u.int_in_range(0..=5)?;
                    let mut items = Vec::new();
                    for _ in 0..n {
                        items.push(match u8::arbitrary(u)? % 4 {
                            0 => serde_json::json!({ "role": pick(u, &ROLES)?, "content": content(u)? }),
                            1 => serde_json::json!({ "type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": small_string(u)? }),
                            2 => serde_json::json!({ "type": "function_call_output", "call_id": pick(u, &["call_1", "call_2"])?, "output": small_string(u)? }),
                            _ => any_value(u, 3)?,
                        });
                    }
                    Value::Array(items)
                }
                _ => any_value(u, 5)?,
            };
            m.insert("input".into(), input);
        }
        2 => {
            m.insert("tools".into(), tools(u, responses)?);
            if responses {
                m.insert("input".into(), Value::from("hi"));
            } else {
                m.insert(
                    "messages".into(),
                    serde_json::json!([{ "role": "user", "content": "hi" }]),
                );
            }
        }
        _ => {
            let fmt = serde_json::json!({ "type": "json_schema", "json_schema": { "name": "x", "strict": true, "schema": any_value(u, 5)? } });
            m.insert("response_format".into(), fmt);
            m.insert(
                "messages".into(),
                serde_json::json!([{ "role": "user", "content": "hi" }]),
            );
        }
    }
    let extra = u.int_in_range(0..=4)?;
    for _ in 0..extra {
        m.insert(pick(u, &KEYS)?.to_string(), any_value(u, 3)?);
    }
    Ok((endpoint, Value::Object(m)))
}

/// A structured request (see [`request`]), serialized and checked: never panics; the verdict is
/// the same when the body is checked twice, and a verdict with errors is not ok.
pub fn check_json(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok((endpoint, value)) = request(&mut u) else {
        return;
    };
    let body = serde_json::to_vec(&value).expect("a Value serializes");
    let v = check(endpoint, &body, &Config::default());
    assert_eq!(v.ok(), v.errors.is_empty());
    let pretty = serde_json::to_vec_pretty(&value).expect("a Value serializes");
    let w = check(endpoint, &pretty, &Config::default());
    assert_eq!(
        v.errors.len(),
        w.errors.len(),
        "whitespace changed the verdict on {endpoint}: {}",
        String::from_utf8_lossy(&body)
    );
}

fn parse_all(parts: &[&[u8]]) -> Vec<Item> {
    let mut p = SseParser::new();
    let mut out = Vec::new();
    for c in parts {
        out.extend(p.push(c));
    }
    out.extend(p.finish());
    out
}

fn watch_all(parts: &[&[u8]]) -> StreamWatch {
    let mut w = StreamWatch::new();
    for c in parts {
        w.push(c);
    }
    w
}

/// The SSE parser and the stream watcher give the same result however the bytes are cut; and
/// after `closing_bytes`, a stream is never left cut or inside a line or event (issue 11, bug 10).
pub fn sse(data: &[u8]) {
    let (sizes, payload) = split(data);
    let parts = chunks(payload, &sizes);
    assert_eq!(
        parse_all(&[payload]),
        parse_all(&parts),
        "parser: chunking changed the events"
    );
    let whole = watch_all(&[payload]);
    let chunked = watch_all(&parts);
    assert_eq!(
        whole.state(),
        chunked.state(),
        "watcher: chunking changed the state"
    );
    assert_eq!(whole.events(), chunked.events());
    assert_eq!(
        whole.closing_bytes("closed"),
        chunked.closing_bytes("closed"),
        "closing bytes depend on the chunking"
    );
    closing_property(payload, &chunked);
}

/// After a drop, the prefix plus `closing_bytes` ends the stream (see [`sse`]).
pub fn closing_property(prefix: &[u8], w: &StreamWatch) {
    if w.terminal().is_some() {
        return; // the worker appends nothing after a terminal event
    }
    let closing = w.closing_bytes("The upstream connection closed.");
    let code = airlock_rules::sse::INTERRUPTED_CODE;
    let ours = closing.windows(code.len()).any(|x| x == code.as_bytes());
    let mut continued = w.clone();
    continued.push(&closing);
    let fresh = watch_all(&[prefix, &closing]);
    for (which, mut watch) in [("continued", continued), ("fresh", fresh)] {
        let p = watch.parser();
        assert!(
            !p.mid_line() && !p.mid_event(),
            "{which} watcher left mid-line/mid-event: {:?} + {:?}",
            String::from_utf8_lossy(prefix),
            String::from_utf8_lossy(&closing)
        );
        match watch.finish() {
            StreamState::Failed { error } if error.code.as_deref() == Some(code) => {}
            StreamState::Completed
            | StreamState::Incomplete { .. }
            | StreamState::Failed { .. }
                if !ours => {}
            other => panic!(
                "{which} watcher: {other:?} after {:?} + {:?}",
                String::from_utf8_lossy(prefix),
                String::from_utf8_lossy(&closing)
            ),
        }
    }
}

/// `closing_bytes` property for a parser with the default limits only (for tests that build
/// their own prefix).
pub fn closing_after(prefix: &[u8]) {
    let mut w = StreamWatch::with_limits(Limits::default());
    w.push(prefix);
    closing_property(prefix, &w);
}

/// Batch linting: the same errors and counts however the file is cut.
pub fn batch_lint(data: &[u8]) {
    use airlock_rules::batch::BatchLinter;
    let (sizes, payload) = split(data);
    let run = |parts: &[&[u8]]| {
        let mut l = BatchLinter::new();
        let mut errors = Vec::new();
        for c in parts {
            errors.extend(l.push(c));
        }
        errors.extend(l.finish());
        let s = l.state();
        (
            errors,
            s.requests(),
            s.bytes(),
            s.errors(),
            s.lines_with_errors(),
            s.endpoint().map(String::from),
            s.model().map(String::from),
        )
    };
    let whole = run(&[payload]);
    let chunked = run(&chunks(payload, &sizes));
    assert_eq!(whole, chunked, "chunking changed the lint");
}

/// The multipart boundary the `upload` target uses (its seeds are built with it).
pub const BOUNDARY: &str = "AirlockFuzzBoundary";

/// An upload's verdict does not depend on its chunking (issue 11, bug 11): mode, note, errors,
/// and the bytes released (all of the body unless rejected; a prefix of it when rejected).
pub fn upload(data: &[u8]) {
    let (sizes, payload) = split(data);
    let run = |parts: &[&[u8]]| {
        let mut pump = Pump::new(BOUNDARY, Config::default(), 1 << 10);
        let mut reader = Multipart::new(BOUNDARY, Config::default());
        let mut released = Vec::new();
        for c in parts {
            released.extend(pump.push(c));
            reader.push(c);
        }
        released.extend(pump.finish());
        (
            format!("{:?} {:?}", pump.mode(), pump.note()),
            pump.errors().to_vec(),
            reader.errors().to_vec(),
            released,
        )
    };
    let whole = run(&[payload]);
    let chunked = run(&chunks(payload, &sizes));
    assert_eq!(whole.0, chunked.0, "chunking changed the mode");
    assert_eq!(whole.1, chunked.1, "chunking changed the pump's errors");
    assert_eq!(whole.2, chunked.2, "chunking changed the reader's errors");
    for (released, what) in [(&whole.3, "whole"), (&chunked.3, "chunked")] {
        assert!(
            payload.starts_with(released),
            "{what}: released bytes are not the body's"
        );
        if !whole.0.starts_with("Rejected") {
            assert_eq!(
                released.len(),
                payload.len(),
                "{what}: not everything was released"
            );
        }
    }
}

/// The tokenizer: decode(encode(text)) is the text, and count is the number of tokens, for
/// both encodings.
#[cfg(feature = "tokenizer")]
pub fn tokenizer(data: &[u8]) {
    use airlock_rules::tokenizer::{Encoding, Tokenizer};
    let text = String::from_utf8_lossy(data);
    for enc in Encoding::ALL {
        let t = Tokenizer::shared(enc);
        let ids = t.encode(&text);
        assert_eq!(
            t.count(&text),
            ids.len(),
            "{enc:?}: count differs from encode"
        );
        assert_eq!(
            t.decode_bytes(&ids).as_deref(),
            Some(text.as_bytes()),
            "{enc:?}: decode(encode(text)) is not the text"
        );
        assert_eq!(t.encode_bytes(data), ids, "{enc:?}: encode_bytes differs");
    }
}

/// Without the `tokenizer` feature there is nothing to check.
#[cfg(not(feature = "tokenizer"))]
pub fn tokenizer(_data: &[u8]) {}

/// Key formats planted by the `redact` target: a prefix and the length of the body after it.
const KEY_SHAPES: [(&str, usize); 7] = [
    ("sk-", 48),
    ("sk-proj-", 156),
    ("sk-svcacct-", 140),
    ("sk-admin-", 60),
    ("sk-None-", 48),
    ("Bearer sk-proj-", 64),
    ("Bearer eyJ", 120),
];
const KEY_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const SEPARATORS: [&str; 9] = [" ", "\n", "\t", "\"", "'", "=", ": ", "(", "\r\n"];

/// A key of a real format planted in fuzzer text never survives `redact`: at most its last
/// four characters remain.
pub fn redact(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let (Ok(shape), Ok(seed), Ok(at), Ok(before), Ok(after)) = (
        u8::arbitrary(&mut u),
        u64::arbitrary(&mut u),
        u16::arbitrary(&mut u),
        u8::arbitrary(&mut u),
        u8::arbitrary(&mut u),
    ) else {
        return;
    };
    let (prefix, len) = KEY_SHAPES[usize::from(shape) % KEY_SHAPES.len()];
    // A random body (xorshift from the seed) with a digit and a capital, as real keys have.
    let mut x = seed | 1;
    let mut body: String = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(KEY_CHARS[(x % KEY_CHARS.len() as u64) as usize])
        })
        .collect();
    body.replace_range(0..2, "Q7");
    let text = String::from_utf8_lossy(u.take_rest()).into_owned();
    let mut cut = usize::from(at) % (text.len() + 1);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let planted = format!(
        "{}{}{prefix}{body}{}{}",
        &text[..cut],
        SEPARATORS[usize::from(before) % SEPARATORS.len()],
        SEPARATORS[usize::from(after) % SEPARATORS.len()],
        &text[cut..]
    );
    let out = airlock_rules::redact::redact(&planted);
    let kept = &body[..body.len() - 4];
    // The fuzzer may copy the body into its own text too (it sees the comparisons): only the
    // planted key must go.
    assert!(
        out.matches(kept).count() <= text.matches(kept).count(),
        "a planted {prefix}… key survived: {planted:?} -> {out:?}"
    );
    assert!(airlock_rules::redact::contains_secret(&planted));
    assert_eq!(
        airlock_rules::redact::redact(&out),
        out,
        "redact is not idempotent"
    );
}

/// Rate-limit and retry headers with any values: never panics; a decoded delay is consistent; an
/// `x-airlock-simulate` value parses within its bounds.
pub fn headers(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut pairs: Vec<(String, String)> = Vec::new();
    const OTHERS: [&str; 4] = [
        "retry-after",
        "retry-after-ms",
        "X-RateLimit-Reset-Tokens-Usage-Based",
        "x-ratelimit-limit-tokens_usage_based",
    ];
    let names: Vec<&str> = airlock_rules::ratelimit::HEADER_NAMES
        .iter()
        .chain(OTHERS.iter())
        .copied()
        .collect();
    for (i, line) in text.split('\n').enumerate() {
        match line.split_once(':') {
            Some((n, v)) if !n.is_empty() && n.len() < 40 => pairs.push((n.into(), v.into())),
            _ => pairs.push((names[i % names.len()].into(), line.into())),
        }
    }
    let _ = airlock_rules::ratelimit::decode_headers(
        pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())),
    );
    for (_, v) in &pairs {
        let _ = airlock_rules::ratelimit::parse_duration_ms(v);
        let _ = airlock_rules::retry::parse_http_date_ms(v);
        let a = airlock_rules::retry::server_delay_ms([("retry-after", v.as_str())], Some(0));
        let b = airlock_rules::retry::server_delay_ms([("retry-after", v.as_str())], Some(1_000));
        if let (Some(a), Some(b)) = (a, b) {
            // A later clock never asks for a longer wait.
            assert!(b <= a, "{v:?}: {a} then {b}");
        }
    }
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let _ = airlock_rules::diagnose_response(429, &refs, data);
    // `x-airlock-simulate` values (simulate mode): parsed within their bounds, answers built.
    use airlock_rules::simulate;
    for value in core::iter::once(text.as_ref()).chain(pairs.iter().map(|(_, v)| v.as_str())) {
        if let Ok(spec) = simulate::parse(value) {
            assert!(value.len() <= simulate::MAX_HEADER_BYTES);
            assert!(spec.after.is_none_or(|k| k <= simulate::MAX_AFTER));
            assert!(spec.events <= simulate::MAX_EVENTS && spec.ms <= simulate::MAX_MS);
            let _ = simulate::body(&spec);
            let _ = simulate::headers(&spec, "req_fuzz");
            for api in [simulate::StreamApi::Chat, simulate::StreamApi::Responses] {
                let _ = simulate::stream_body(&spec, api, "fuzz", 0, "cut");
            }
        }
    }
}
