//! Issue 17: the worker keeps the schema lints' verdicts per isolate (`SchemaLintCache`), so a
//! schema seen before is not linted again. The verdict must be `check`'s whatever the cache
//! holds: on every body of `tests/requests/` (both endpoints that take schemas), checked in turn
//! through one shared cache, twice over (the second pass replays), under several rule modes
//! sharing that cache; and at the cache's bounds, where a dropped entry is linted again.

use airlock_rules::validate::{
    Config, MAX_KNOWN_VALID_BODIES, MAX_KNOWN_VALID_BODY_BYTES, MAX_LINTED_SCHEMA_BYTES,
    MAX_LINTED_SCHEMAS, Mode, SchemaLintCache, Verdict, check, check_keeping, check_keeping_cached,
};
use serde_json::{Value, json};

#[path = "support/request_bodies.rs"]
mod request_bodies;

const ENDPOINTS: [&str; 2] = ["/v1/chat/completions", "/v1/responses"];

fn with(modes: &[(&str, Mode)]) -> Config {
    let mut config = Config::default();
    for (rule, mode) in modes {
        config.rules.insert((*rule).to_string(), *mode);
    }
    config
}

#[test]
fn the_cached_verdict_is_the_checks_on_every_corpus_body() {
    let files = request_bodies::all();
    assert!(files.len() > 1000, "only {} bodies", files.len());
    let bodies: Vec<Vec<u8>> = files.iter().map(|p| std::fs::read(p).unwrap()).collect();
    // Modes that change what the lints run and how their findings count, all through one cache.
    let configs = [
        Config::default(),
        with(&[("json_schema_valid", Mode::Off)]),
        with(&[
            ("strict_schema", Mode::Report),
            ("schema_limits", Mode::Off),
        ]),
        with(&[
            ("schema_array_items", Mode::Off),
            ("function_parameters_root", Mode::Report),
        ]),
    ];
    let mut cache = SchemaLintCache::new();
    let mut rejected_by_lints = 0;
    // Each body twice in a row under each config (the second time replayed unless the body has
    // more schemas than the cache holds), and the corpus twice over.
    for pass in 0..2 {
        for config in &configs {
            for (path, body) in files.iter().zip(&bodies) {
                for endpoint in ENDPOINTS {
                    let (plain, plain_tree) = check_keeping(endpoint, body, config);
                    for again in 0..2 {
                        let (cached, tree) =
                            check_keeping_cached(endpoint, body, config, &mut cache);
                        assert_eq!(
                            cached,
                            plain,
                            "pass {pass}.{again} {} {endpoint} {config:?}",
                            path.display()
                        );
                        assert_eq!(tree, plain_tree);
                    }
                    rejected_by_lints += usize::from(plain.errors.iter().any(|f| {
                        matches!(
                            f.rule.as_str(),
                            "json_schema_valid" | "strict_schema" | "schema_limits"
                        )
                    }));
                }
            }
        }
    }
    let (hits, misses) = cache.stats();
    let (valid_hits, valid_misses) = cache.valid_stats();
    // The comparison must have had schemas, good and bad, and stand-ins to replay.
    assert!(
        hits > 5000 && misses > 1000 && rejected_by_lints > 80 && valid_hits > 1000,
        "hits {hits}, misses {misses}, rejected by the lints {rejected_by_lints}, stand-ins {valid_hits}/{valid_misses}"
    );
    assert!(cache.len() <= MAX_LINTED_SCHEMAS);
    assert!(cache.bytes() <= MAX_LINTED_SCHEMA_BYTES);
}

/// A chat body with one strict format of schema `schema` named `name`.
fn format_body(name: &str, schema: &Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": name, "strict": true, "schema": schema}}}))
    .unwrap()
}

/// A good strict schema, different for each `n`.
fn good(n: usize) -> Value {
    json!({"type": "object", "properties": {format!("p{n}"): {"type": "string"}}, "required": [format!("p{n}")], "additionalProperties": false})
}

const CHAT: &str = "/v1/chat/completions";

fn cached(body: &[u8], cache: &mut SchemaLintCache) -> Verdict {
    let config = Config::default();
    let (v, _) = check_keeping_cached(CHAT, body, &config, cache);
    assert_eq!(v, check(CHAT, body, &config));
    v
}

#[test]
fn the_same_schema_elsewhere_gets_its_own_findings() {
    let mut cache = SchemaLintCache::new();
    // Not strict-valid: `required` misses `b`.
    let bad = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["a"], "additionalProperties": false});
    let first = cached(&format_body("first", &bad), &mut cache);
    assert!(first.errors[0].error.message.contains("'first'"));
    // The same schema under another name: its own message, not the first one's.
    let second = cached(&format_body("second", &bad), &mut cache);
    assert!(second.errors[0].error.message.contains("'second'"));
    assert_eq!(cache.stats(), (0, 2));
    // Not strict: the same schema is fine.
    let loose: Vec<u8> = serde_json::to_vec(&json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "first", "schema": bad}}}))
    .unwrap();
    assert!(cached(&loose, &mut cache).ok());
    // Each again: replayed, the same verdicts.
    assert_eq!(cached(&format_body("first", &bad), &mut cache), first);
    assert_eq!(cached(&format_body("second", &bad), &mut cache), second);
    assert!(cached(&loose, &mut cache).ok());
    assert_eq!(cache.stats(), (3, 3));
    // A different schema that differs only in a value is not a hit.
    let mut other = bad.clone();
    other["properties"]["b"]["type"] = json!("integer");
    cached(&format_body("first", &other), &mut cache);
    assert_eq!(cache.stats(), (3, 4));
}

#[test]
fn count_bound_drops_the_least_recently_used() {
    let mut cache = SchemaLintCache::new();
    for n in 0..MAX_LINTED_SCHEMAS {
        assert!(cached(&format_body("f", &good(n)), &mut cache).ok());
    }
    assert_eq!(cache.len(), MAX_LINTED_SCHEMAS);
    // Touch schema 0, so schema 1 is the oldest; one more schema drops it.
    cached(&format_body("f", &good(0)), &mut cache);
    cached(&format_body("f", &good(MAX_LINTED_SCHEMAS)), &mut cache);
    assert_eq!(cache.len(), MAX_LINTED_SCHEMAS);
    let (hits, misses) = cache.stats();
    cached(&format_body("f", &good(0)), &mut cache);
    assert_eq!(cache.stats(), (hits + 1, misses), "schema 0 was kept");
    // Dropped: linted again, with the same (good) verdict.
    assert!(cached(&format_body("f", &good(1)), &mut cache).ok());
    assert_eq!(
        cache.stats(),
        (hits + 1, misses + 1),
        "schema 1 was dropped"
    );
    assert_eq!(cache.len(), MAX_LINTED_SCHEMAS);
}

/// A good strict schema whose entry (compact schema text + name + param, no findings) is
/// exactly `bytes`.
fn good_of_entry_bytes(tag: usize, bytes: usize) -> Value {
    let param = "response_format".len();
    let name = "f".len();
    let with = |pad: usize| json!({"type": "object", "description": "x".repeat(pad), "properties": {format!("p{tag}"): {"type": "string"}}, "required": [format!("p{tag}")], "additionalProperties": false});
    let base = serde_json::to_string(&with(0)).unwrap().len() + param + name;
    let v = with(bytes - base);
    assert_eq!(
        serde_json::to_string(&v).unwrap().len() + param + name,
        bytes
    );
    v
}

#[test]
fn byte_bound_holds_at_the_bound() {
    let mut cache = SchemaLintCache::new();
    // One entry of exactly the bound is kept; the next one pushes it out.
    let whole = good_of_entry_bytes(1, MAX_LINTED_SCHEMA_BYTES);
    // A body this large is still checked whole (within the check's own bounds).
    assert!(cached(&format_body("f", &whole), &mut cache).ok());
    assert_eq!((cache.len(), cache.bytes()), (1, MAX_LINTED_SCHEMA_BYTES));
    let small = good_of_entry_bytes(2, 1000);
    cached(&format_body("f", &small), &mut cache);
    assert_eq!((cache.len(), cache.bytes()), (1, 1000));
    // One byte over the bound: linted, never kept, and linted again next time.
    let over = good_of_entry_bytes(3, MAX_LINTED_SCHEMA_BYTES + 1);
    assert!(cached(&format_body("f", &over), &mut cache).ok());
    assert_eq!((cache.len(), cache.bytes()), (1, 1000));
    let (hits, misses) = cache.stats();
    cached(&format_body("f", &over), &mut cache);
    assert_eq!(cache.stats(), (hits, misses + 1));
    // Halves fill it exactly; a third entry evicts the oldest.
    let mut cache = SchemaLintCache::new();
    cached(
        &format_body("f", &good_of_entry_bytes(4, MAX_LINTED_SCHEMA_BYTES / 2)),
        &mut cache,
    );
    cached(
        &format_body("f", &good_of_entry_bytes(5, MAX_LINTED_SCHEMA_BYTES / 2)),
        &mut cache,
    );
    assert_eq!((cache.len(), cache.bytes()), (2, MAX_LINTED_SCHEMA_BYTES));
    cached(
        &format_body("f", &good_of_entry_bytes(6, 10_000)),
        &mut cache,
    );
    assert_eq!(cache.len(), 2);
    assert!(cache.bytes() <= MAX_LINTED_SCHEMA_BYTES);
}

/// A chat body of plain messages with one tool and a predicted output that pads it: its
/// stand-in is the body with one empty user message for its messages (no schema to hollow).
fn tool_body(tag: usize, pad: usize) -> (Vec<u8>, usize) {
    let tool =
        json!([{"type": "function", "function": {"name": format!("f{tag}"), "description": "d"}}]);
    let prediction = json!({"type": "content", "content": "x".repeat(pad)});
    let body = json!({"model": "gpt-4o", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}], "tools": tool, "prediction": prediction});
    let stand_in = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": ""}], "tools": tool, "prediction": prediction});
    (
        serde_json::to_vec(&body).unwrap(),
        serde_json::to_string(&stand_in).unwrap().len() + CHAT.len(),
    )
}

/// `tool_body` whose stand-in entry counts exactly `bytes`.
fn tool_body_of(tag: usize, bytes: usize) -> Vec<u8> {
    let (_, base) = tool_body(tag, 0);
    let (body, len) = tool_body(tag, bytes - base);
    assert_eq!(len, bytes);
    body
}

#[test]
fn valid_stand_ins_are_kept_within_their_bounds() {
    let mut cache = SchemaLintCache::new();
    for n in 0..MAX_KNOWN_VALID_BODIES {
        assert!(cached(&tool_body(n, 10).0, &mut cache).ok());
    }
    assert_eq!(cache.valid_bodies().0, MAX_KNOWN_VALID_BODIES);
    // The same stand-in from another conversation: a hit.
    let (hits, misses) = cache.valid_stats();
    let other_talk = serde_json::to_vec(&json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "Something else entirely"}],
        "tools": [{"type": "function", "function": {"name": "f0", "description": "d"}}],
        "prediction": {"type": "content", "content": "x".repeat(10)}}))
    .unwrap();
    assert!(cached(&other_talk, &mut cache).ok());
    assert_eq!(cache.valid_stats(), (hits + 1, misses));
    // One more drops the least recently used (f1; f0 was just used).
    cached(&tool_body(MAX_KNOWN_VALID_BODIES, 10).0, &mut cache);
    assert_eq!(cache.valid_bodies().0, MAX_KNOWN_VALID_BODIES);
    let (hits, misses) = cache.valid_stats();
    cached(&tool_body(0, 10).0, &mut cache);
    assert_eq!(cache.valid_stats(), (hits + 1, misses), "f0 was kept");
    cached(&tool_body(1, 10).0, &mut cache);
    assert_eq!(
        cache.valid_stats(),
        (hits + 1, misses + 1),
        "f1 was dropped"
    );

    // Bytes: exactly the bound is kept, one byte over never.
    let mut cache = SchemaLintCache::new();
    let whole = cached(&tool_body_of(1, MAX_KNOWN_VALID_BODY_BYTES), &mut cache);
    assert!(whole.ok(), "{whole:?}");
    assert_eq!(cache.valid_bodies(), (1, MAX_KNOWN_VALID_BODY_BYTES));
    cached(&tool_body_of(2, 1000), &mut cache);
    assert_eq!(cache.valid_bodies(), (1, 1000));
    let over = tool_body_of(3, MAX_KNOWN_VALID_BODY_BYTES + 1);
    assert!(cached(&over, &mut cache).ok());
    assert_eq!(cache.valid_bodies(), (1, 1000));
    let (hits, misses) = cache.valid_stats();
    cached(&over, &mut cache);
    assert_eq!(cache.valid_stats(), (hits, misses + 1));
}

#[test]
fn an_invalid_stand_in_is_never_kept() {
    let mut cache = SchemaLintCache::new();
    // A tool without its function's name: the request schema's finding, every time.
    let body = serde_json::to_vec(
        &json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}],
        "tools": [{"type": "function", "function": {"description": "d"}}]}),
    )
    .unwrap();
    let first = cached(&body, &mut cache);
    assert!(!first.ok());
    assert_eq!(cached(&body, &mut cache), first);
    assert_eq!(cache.valid_bodies().0, 0);
}
