//! Lazy token counting (issue 14): with `TokenCount::Lazy` the `context_length` rule tokenizes only
//! where its verdict can depend on the count. These tests hold it to the always-exact path: the
//! same errors, warnings and partly-checked bound on every body of the request corpora (against
//! each endpoint that counts tokens), and at the edges of the bound (a text of B bytes has at most
//! B tokens), where one byte more must switch to the exact count.

use std::path::{Path, PathBuf};

use airlock_rules::validate::bounds::Bounds;
use airlock_rules::validate::{Config, Counted, TokenCount, Verdict, check};
use serde_json::{Value, json};

const ENDPOINTS: [&str; 3] = ["/v1/chat/completions", "/v1/responses", "/v1/embeddings"];

fn config(count: TokenCount) -> Config {
    Config {
        token_count: count,
        ..Config::default()
    }
}

/// What a verdict decides: its findings and the bound that left it partly checked.
fn decision(v: &Verdict) -> String {
    serde_json::to_string(&json!({
        "errors": v.errors,
        "warnings": v.warnings,
        "partial": v.partial().map(|b| b.name),
    }))
    .unwrap()
}

/// Checks `body` both ways under `base`; asserts the decisions are equal and returns how the lazy
/// path counted (`None`: no token report).
fn same_decision_with(endpoint: &str, body: &[u8], base: &Config, what: &str) -> Option<Counted> {
    let exact = check(
        endpoint,
        body,
        &Config {
            token_count: TokenCount::Exact,
            ..base.clone()
        },
    );
    let lazy = check(
        endpoint,
        body,
        &Config {
            token_count: TokenCount::Lazy,
            ..base.clone()
        },
    );
    assert_eq!(decision(&exact), decision(&lazy), "{what} at {endpoint}");
    if let (Some(e), Some(l)) = (&exact.tokens, &lazy.tokens) {
        assert_eq!(e.counted, Counted::Exact);
        if l.counted == Counted::Exact {
            // Counted exactly: the very same report.
            assert_eq!(e, l, "{what} at {endpoint}");
        } else {
            // Estimated: the rest of the report is the exact path's.
            assert_eq!(l.output, e.output);
            assert_eq!(l.context_window, e.context_window);
        }
    } else {
        assert_eq!(exact.tokens.is_some(), lazy.tokens.is_some(), "{what}");
    }
    lazy.tokens.map(|t| t.counted)
}

fn same_decision(endpoint: &str, body: &[u8], what: &str) -> Option<Counted> {
    same_decision_with(endpoint, body, &Config::default(), what)
}

/// Bytes the lazy path tokenized (0: none, the bound alone decided).
fn tokenized(endpoint: &str, body: &[u8]) -> u64 {
    let v = check(endpoint, body, &config(TokenCount::Lazy));
    v.tokens.map_or(0, |t| t.bytes_tokenized)
}

fn corpus_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            corpus_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "json")
            && path.file_name().is_some_and(|n| n != "EXPECTED.json")
        {
            out.push(path);
        }
    }
}

#[test]
fn corpora_get_the_same_verdicts_both_ways() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/requests");
    let mut files = Vec::new();
    corpus_files(&root, &mut files);
    files.sort();
    assert!(files.len() > 1000, "only {} corpus files", files.len());
    let (mut rejected, mut counted, mut estimated) = (0, 0, 0);
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        // The structure corpus wraps each body with its endpoint; the others are bare bodies.
        let body = match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(o)) if o.contains_key("endpoint") && o.contains_key("body") => {
                serde_json::to_vec(&o["body"]).unwrap()
            }
            _ => bytes,
        };
        // Against every endpoint that counts tokens, whichever the body was written for: the
        // equality must hold for any body.
        for endpoint in ENDPOINTS {
            let what = path.display().to_string();
            match same_decision(endpoint, &body, &what) {
                Some(Counted::Exact) => counted += 1,
                Some(Counted::Estimate) => estimated += 1,
                _ => {}
            }
            rejected += usize::from(!check(endpoint, &body, &config(TokenCount::Lazy)).ok());
        }
    }
    // The corpora hold both accepted and rejected requests, and lazy counting skips most counts.
    assert!(rejected > 100, "{rejected} rejections");
    assert!(
        estimated > counted,
        "{estimated} estimated, {counted} counted"
    );
}

/// `n` bytes of ASCII text of one-token words (" word", 5 bytes, 1 token), cut to `n`.
fn text(n: usize) -> String {
    " word".repeat(n / 5 + 1)[..n].to_string()
}

fn chat(model: &str, content: &str, extra: Value) -> Vec<u8> {
    let mut body = json!({"model": model, "messages": [{"role": "user", "content": content}]});
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    serde_json::to_vec(&body).unwrap()
}

#[test]
fn one_byte_past_the_bound_counts_exactly() {
    const CHAT: &str = "/v1/chat/completions";
    // gpt-4o: 128,000 tokens. The most a one-message chat holds: its text's bytes + "user" (4) +
    // 3 framing + 3 priming. At the bound nothing is tokenized; one byte more, and the text is
    // tokenized (until the rest surely fits).
    let fits = 128_000 - 10;
    let at = chat("gpt-4o", &text(fits), json!({}));
    assert_eq!(same_decision(CHAT, &at, "at"), Some(Counted::Estimate));
    assert_eq!(tokenized(CHAT, &at), 0);
    let over = chat("gpt-4o", &text(fits + 1), json!({}));
    assert_eq!(same_decision(CHAT, &over, "over"), Some(Counted::Estimate));
    assert!(tokenized(CHAT, &over) > 0);
    // The requested output shares the window.
    let body = chat("gpt-4o", &text(fits - 100), json!({"max_tokens": 100}));
    assert_eq!(
        same_decision(CHAT, &body, "out at"),
        Some(Counted::Estimate)
    );
    assert_eq!(tokenized(CHAT, &body), 0);
    let body = chat("gpt-4o", &text(fits - 100), json!({"max_tokens": 101}));
    same_decision(CHAT, &body, "out over");
    assert!(tokenized(CHAT, &body) > 0);
    // gpt-5: the input has its own limit (272,000); the output does not share it.
    let body = chat(
        "gpt-5",
        &text(272_000 - 10),
        json!({"max_completion_tokens": 100_000}),
    );
    assert_eq!(same_decision(CHAT, &body, "gpt-5"), Some(Counted::Estimate));
    assert_eq!(tokenized(CHAT, &body), 0);
    let body = chat("gpt-5", &text(272_000 - 9), json!({}));
    same_decision(CHAT, &body, "gpt-5 over");
    assert!(tokenized(CHAT, &body) > 0);
}

#[test]
fn multibyte_text_is_bounded_by_its_bytes() {
    const CHAT: &str = "/v1/chat/completions";
    // "é" is 2 bytes; a CJK character 3; an emoji 4: each at most that many tokens.
    for unit in ["é", "漢", "🙂", "a\u{301}"] {
        let n = (128_000 - 10) / unit.len();
        let body = chat("gpt-4o", &unit.repeat(n), json!({}));
        assert_eq!(
            same_decision(CHAT, &body, unit),
            Some(Counted::Estimate),
            "{unit}"
        );
        assert_eq!(tokenized(CHAT, &body), 0, "{unit}");
        let body = chat("gpt-4o", &unit.repeat(n + 1), json!({}));
        same_decision(CHAT, &body, unit);
        assert!(tokenized(CHAT, &body) > 0, "{unit}");
    }
}

#[test]
fn rejections_and_warnings_are_the_exact_paths() {
    // Over the window in exact text: rejected, with the exact count in OpenAI's message.
    let words = " word".repeat(128_001);
    let body = chat("gpt-4o", &words, json!({}));
    assert_eq!(
        same_decision("/v1/chat/completions", &body, "over"),
        Some(Counted::Exact)
    );
    assert!(!check("/v1/chat/completions", &body, &config(TokenCount::Lazy)).ok());
    // Only the estimated framing over: a warning, both ways.
    let body = chat("gpt-4o", &" word".repeat(127_999), json!({}));
    same_decision("/v1/chat/completions", &body, "framing");
    let v = check("/v1/chat/completions", &body, &config(TokenCount::Lazy));
    assert!(v.ok() && v.warnings.iter().any(|f| f.rule == "context_length"));
    // The requested output over: a warning.
    let body = chat(
        "gpt-4o",
        &" word".repeat(120_000),
        json!({"max_tokens": 16_000}),
    );
    same_decision("/v1/chat/completions", &body, "output");
    // Responses, with instructions.
    let body = serde_json::to_vec(
        &json!({"model": "gpt-4o", "instructions": "Be brief.", "input": " word".repeat(128_100)}),
    )
    .unwrap();
    assert_eq!(
        same_decision("/v1/responses", &body, "responses"),
        Some(Counted::Exact)
    );
    // Output over the catalog maximum: the warning needs no count, and is kept.
    let body =
        serde_json::to_vec(&json!({"model": "gpt-4o", "input": "hi", "max_output_tokens": 20_000}))
            .unwrap();
    assert_eq!(
        same_decision("/v1/responses", &body, "max output"),
        Some(Counted::Estimate)
    );
    let v = check("/v1/responses", &body, &config(TokenCount::Lazy));
    assert!(
        v.warnings
            .iter()
            .any(|f| f.message_starts("max_output_tokens is too large"))
    );
}

trait StartsWith {
    fn message_starts(&self, p: &str) -> bool;
}
impl StartsWith for airlock_rules::validate::Finding {
    fn message_starts(&self, p: &str) -> bool {
        self.error.message.starts_with(p)
    }
}

#[test]
fn estimated_parts_are_bounded_too() {
    // Tools (the cookbook's estimate counts their names, descriptions and enums), images (a tile
    // formula, no text), tool calls and names: all within the upper bound.
    let tool = json!({"type": "function", "function": {"name": "get_weather", "description": "Get the weather.",
        "parameters": {"type": "object", "properties": {"unit": {"type": "string", "description": "Unit.", "enum": ["c", "f", 1]}}}}});
    let image = json!({"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "high"}});
    for filler in [0usize, 100_000, 126_000, 127_000, 127_400, 127_900] {
        let body = json!({
            "model": "gpt-4o",
            "messages": [
                {"role": "user", "name": "ann", "content": [{"type": "text", "text": text(filler)}, image]},
                {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"unit\":\"c\"}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "20"}
            ],
            "tools": [tool],
        });
        same_decision(
            "/v1/chat/completions",
            &serde_json::to_vec(&body).unwrap(),
            &format!("filler {filler}"),
        );
    }
}

#[test]
fn embeddings_per_input_and_per_request_limits() {
    for (input, what) in [
        (json!(text(8192)), "one input at the limit"),
        (json!(text(8193)), "one input a byte over"),
        (json!(" word".repeat(8193)), "one input over"),
        (json!([text(8000), text(8192)]), "two inputs"),
        (json!([[1, 2, 3], text(10)]), "token arrays"),
        (
            json!(vec![text(8000); 40]),
            "320,000 bytes, under 300,000 tokens",
        ),
        (json!(vec![" word".repeat(8000); 40]), "320,000 tokens"),
    ] {
        let body = serde_json::to_vec(&json!({"model": "text-embedding-3-small", "input": input}))
            .unwrap();
        same_decision("/v1/embeddings", &body, what);
    }
}

#[test]
fn the_tokenizing_bound_gives_the_same_partial_verdicts() {
    // With a small tokenizing budget the exact path leaves long texts partly counted; the lazy
    // path must agree on when that leaves the verdict uncertain.
    let base = Config {
        bounds: Bounds {
            tokenize_cost: 1_000,
            ..Bounds::default()
        },
        ..Config::default()
    };
    for n in [1_000usize, 50_000, 127_990, 127_991, 200_000, 700_000] {
        let body = chat("gpt-4o", &text(n), json!({}));
        same_decision_with("/v1/chat/completions", &body, &base, &format!("chat {n}"));
        let body = serde_json::to_vec(
            &json!({"model": "text-embedding-3-small", "input": [text(n.min(9000)), text(100)]}),
        )
        .unwrap();
        same_decision_with("/v1/embeddings", &body, &base, &format!("embeddings {n}"));
    }
}

#[test]
fn unknown_models_are_never_tokenized() {
    // No limits known: nothing to judge, so nothing is counted.
    let body = chat("gpt-4o-2099-01-01", &text(500_000), json!({}));
    assert_eq!(
        same_decision("/v1/chat/completions", &body, "unknown"),
        Some(Counted::Estimate)
    );
}

#[test]
fn the_estimate_is_openais_rate_limiter_rule() {
    // max(requested output, ceil(characters / 4)), characters of the text read ("user" + 2,000).
    let body = chat("gpt-4o", &"é".repeat(2_000), json!({}));
    let t = check("/v1/chat/completions", &body, &config(TokenCount::Lazy))
        .tokens
        .unwrap();
    assert_eq!(
        (t.counted, t.input_estimated, t.input_exact),
        (Counted::Estimate, 501, 0)
    );
    let body = chat("gpt-4o", &"é".repeat(2_000), json!({"max_tokens": 4_096}));
    let t = check("/v1/chat/completions", &body, &config(TokenCount::Lazy))
        .tokens
        .unwrap();
    assert_eq!(t.input_estimated, 4_096);
    // The default is exact.
    let t = check("/v1/chat/completions", &body, &Config::default())
        .tokens
        .unwrap();
    assert_eq!(t.counted, Counted::Exact);
}

#[test]
fn a_text_longer_than_the_window_is_counted_only_until_the_rest_surely_fits() {
    // 635,000 bytes, 127,000 tokens: over at a token a byte, within once counted in part.
    let body = chat("gpt-4o", &" word".repeat(127_000), json!({}));
    let c = same_decision("/v1/chat/completions", &body, "127,000 words");
    assert_eq!(c, Some(Counted::Estimate));
    // At the window's edge: "user" 1 token, 3 framing, 3 priming.
    for words in [127_993usize, 127_994, 127_995] {
        let body = chat("gpt-4o", &" word".repeat(words), json!({}));
        let c = same_decision("/v1/chat/completions", &body, &format!("{words} words"));
        assert_eq!(c == Some(Counted::Estimate), words <= 127_993, "{words}");
    }
    // With requested output and several messages, and on Responses.
    let body = serde_json::to_vec(
        &json!({"model": "gpt-4o", "max_tokens": 1_000, "messages": [
        {"role": "system", "content": " word".repeat(60_000)},
        {"role": "user", "content": " word".repeat(60_000)}]}),
    )
    .unwrap();
    assert_eq!(
        same_decision("/v1/chat/completions", &body, "two"),
        Some(Counted::Estimate)
    );
    let body =
        serde_json::to_vec(&json!({"model": "gpt-4o", "input": " word".repeat(127_990)})).unwrap();
    same_decision("/v1/responses", &body, "responses");
    // Text that saves little (digits: three a token; random letters) decides late or never.
    let digits = "1234567890".repeat(30_000);
    same_decision(
        "/v1/chat/completions",
        &chat("gpt-4o", &digits, json!({})),
        "digits",
    );
    let mut x = 7u64;
    let letters: String = (0..400_000)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (b'a' + (x >> 59) as u8 % 26) as char
        })
        .collect();
    same_decision(
        "/v1/chat/completions",
        &chat("gpt-4o", &letters, json!({})),
        "letters",
    );
}
