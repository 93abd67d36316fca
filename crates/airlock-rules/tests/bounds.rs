//! What one check may cost (issue 11): a body over a bound is forwarded partly checked, with a
//! `check_bounds` warning naming the bound, never rejected for its size; a body at the bound is
//! checked whole.

use airlock_rules::validate::bounds::{
    Bounds, MAX_FINDINGS, MAX_JSON_DEPTH, MAX_JSON_KEYS, MAX_JSON_MEMORY, MAX_JSON_NODES, scan,
};
use airlock_rules::validate::{Config, Verdict, check};

const CHAT: &str = "/v1/chat/completions";

/// A request OpenAI certainly rejects (`max_tokens` on o3), with `pad` as an extra parameter
/// (which only makes an `unrecognized_parameter` warning).
fn rejected_with(pad: &str) -> String {
    format!(
        r#"{{"model": "o3", "messages": [{{"role": "user", "content": "Hi"}}], "max_tokens": 50, "x_pad": {pad}}}"#
    )
}

/// `rejected_with` an array of zeros, sized so the body has exactly `nodes` JSON values.
fn with_nodes(nodes: u64) -> String {
    let base = scan(rejected_with("[]").as_bytes()).nodes;
    let zeros = vec!["0"; (nodes - base) as usize].join(",");
    let body = rejected_with(&format!("[{zeros}]"));
    assert_eq!(scan(body.as_bytes()).nodes, nodes);
    body
}

/// `rejected_with` an object, sized so the body has exactly `keys` object keys.
fn with_keys(keys: u64) -> String {
    let base = scan(rejected_with("{}").as_bytes()).keys;
    let members: Vec<String> = (0..keys - base).map(|i| format!(r#""k{i}":0"#)).collect();
    let body = rejected_with(&format!("{{{}}}", members.join(",")));
    assert_eq!(scan(body.as_bytes()).keys, keys);
    body
}

/// `rejected_with` nested arrays, sized so the body nests exactly `depth` levels.
fn with_depth(depth: u64) -> String {
    let inner = depth as usize - 1; // the root object is one level
    let body = rejected_with(&format!("{}{}", "[".repeat(inner), "]".repeat(inner)));
    assert_eq!(scan(body.as_bytes()).depth, depth);
    body
}

fn rejected_by_o3_rule(v: &Verdict) -> bool {
    v.errors
        .iter()
        .any(|f| f.error.code.as_deref() == Some("unsupported_parameter"))
}

fn assert_partial(v: &Verdict, bound: &str, code: &str) {
    assert!(
        v.ok(),
        "a body over a bound is never rejected: {:?}",
        v.errors
    );
    assert_eq!(v.partial().map(|b| b.name), Some(bound));
    let w = v
        .warnings
        .iter()
        .find(|f| f.rule == "check_bounds")
        .expect("a check_bounds warning");
    assert_eq!(w.error.code.as_deref(), Some(code));
}

#[test]
fn at_the_node_bound_the_body_is_checked_and_over_it_passes_partly_checked() {
    let v = check(
        CHAT,
        with_nodes(MAX_JSON_NODES).as_bytes(),
        &Config::default(),
    );
    assert!(rejected_by_o3_rule(&v), "{:?}", v.errors);
    assert!(v.partial().is_none());
    let v = check(
        CHAT,
        with_nodes(MAX_JSON_NODES + 1).as_bytes(),
        &Config::default(),
    );
    assert_partial(&v, "json_nodes", "unchecked_body");
    let b = v.partial().unwrap();
    assert_eq!((b.limit, b.seen), (MAX_JSON_NODES, MAX_JSON_NODES + 1));
}

#[test]
fn at_the_key_bound_the_body_is_checked_and_over_it_passes_partly_checked() {
    let v = check(
        CHAT,
        with_keys(MAX_JSON_KEYS).as_bytes(),
        &Config::default(),
    );
    assert!(rejected_by_o3_rule(&v), "{:?}", v.errors);
    assert!(v.partial().is_none());
    let v = check(
        CHAT,
        with_keys(MAX_JSON_KEYS + 1).as_bytes(),
        &Config::default(),
    );
    assert_partial(&v, "json_keys", "unchecked_body");
}

#[test]
fn at_the_depth_bound_the_body_is_checked_and_over_it_passes_partly_checked() {
    let v = check(
        CHAT,
        with_depth(MAX_JSON_DEPTH).as_bytes(),
        &Config::default(),
    );
    assert!(rejected_by_o3_rule(&v), "{:?}", v.errors);
    let v = check(
        CHAT,
        with_depth(MAX_JSON_DEPTH + 1).as_bytes(),
        &Config::default(),
    );
    assert_partial(&v, "json_depth", "unchecked_body");
}

#[test]
fn at_the_memory_bound_the_body_is_checked_and_over_it_passes_partly_checked() {
    // One-key objects: the costliest shape per byte (a B-tree leaf each).
    let body = |n: usize| rejected_with(&format!("[{}]", vec![r#"{"a":0}"#; n].join(",")));
    let per = scan(body(1).as_bytes()).memory() - scan(body(0).as_bytes()).memory();
    let n = ((MAX_JSON_MEMORY - scan(body(0).as_bytes()).memory()) / per) as usize;
    assert!(scan(body(n).as_bytes()).memory() <= MAX_JSON_MEMORY);
    let v = check(CHAT, body(n).as_bytes(), &Config::default());
    assert!(rejected_by_o3_rule(&v), "{:?}", v.errors);
    assert!(v.partial().is_none());
    let v = check(CHAT, body(n + 1).as_bytes(), &Config::default());
    assert_partial(&v, "json_memory", "unchecked_body");
}

#[test]
fn a_million_keys_is_not_parsed() {
    // The body of issue 11: 1,000,000 keys, ~9 MB, under MAX_CHECK_BYTES.
    let mut body = String::from(r#"{"model": "gpt-4o", "messages": []"#);
    for mut i in 0..1_000_000u32 {
        body.push_str(",\"");
        loop {
            body.push(char::from_digit(i % 36, 36).unwrap());
            i /= 36;
            if i == 0 {
                break;
            }
        }
        body.push_str("\":1");
    }
    body.push('}');
    assert!(body.len() > 8_500_000 && body.len() < 10 * 1024 * 1024);
    let v = check(CHAT, body.as_bytes(), &Config::default());
    assert_partial(&v, "json_nodes", "unchecked_body");
    assert_eq!(v.warnings.len(), 1);
}

#[test]
fn unknown_parameters_past_the_findings_bound_are_not_looked_at() {
    let mut members: Vec<String> = (0..MAX_FINDINGS + 50)
        .map(|i| format!(r#""unknown_{i}": 1"#))
        .collect();
    members.push(r#""model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]"#.into());
    let body = format!("{{{}}}", members.join(","));
    let v = check(CHAT, body.as_bytes(), &Config::default());
    assert!(v.ok());
    assert_eq!(v.partial().map(|b| b.name), Some("findings"));
    // The kept findings, the bound's warning.
    assert!(v.warnings.len() <= MAX_FINDINGS + 2, "{}", v.warnings.len());
}

#[test]
fn the_bounds_are_settings() {
    let config = Config {
        bounds: Bounds {
            json_nodes: 10,
            ..Bounds::default()
        },
        ..Config::default()
    };
    let body = with_nodes(11);
    assert!(!check(CHAT, body.as_bytes(), &Config::default()).ok());
    assert_partial(
        &check(CHAT, body.as_bytes(), &config),
        "json_nodes",
        "unchecked_body",
    );
}

#[cfg(feature = "tokenizer")]
mod tokenizing {
    use airlock_rules::validate::bounds::MAX_TOKENIZE_COST;
    use serde_json::{Value, json};

    use super::*;

    /// Random words of 5–11 letters (never repeated, so every piece is merged: the worst case).
    fn random_words(bytes: usize) -> String {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut s = String::with_capacity(bytes + 16);
        while s.len() < bytes {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.push(' ');
            for _ in 0..5 + x % 7 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push(char::from(b'a' + (x % 26) as u8));
            }
        }
        s
    }

    fn chat(model: &str, text: &str) -> Vec<u8> {
        json!({"model": model, "messages": [{"role": "user", "content": text}]})
            .to_string()
            .into_bytes()
    }

    /// The text as user messages of at most 1,000,000 bytes each: OpenAI refuses a message
    /// content over 1,048,576 characters (gptscript-ai/clio#41), so a bigger text is sent as
    /// several messages. The text is ASCII, so the cuts fall on character boundaries.
    fn chat_parts(model: &str, text: &str) -> (Vec<u8>, u64) {
        let parts: Vec<Value> = text
            .as_bytes()
            .chunks(1_000_000)
            .map(|c| json!({"role": "user", "content": core::str::from_utf8(c).unwrap()}))
            .collect();
        let n = parts.len() as u64;
        let body = json!({"model": model, "messages": parts})
            .to_string()
            .into_bytes();
        (body, n)
    }

    fn context_error(v: &Verdict) -> bool {
        v.errors.iter().any(|f| f.rule == "context_length")
    }

    #[test]
    fn nine_megabytes_over_a_128k_window_is_still_rejected_without_tokenizing_it_all() {
        let text = random_words(9_000_000);
        let (body, messages) = chat_parts("gpt-4o", &text);
        let v = check(CHAT, &body, &Config::default());
        assert!(context_error(&v), "{:?}", v.warnings);
        let t = v.tokens.clone().unwrap();
        // A byte costs at least 1/8, so at most 8 × the bound is ever tokenized; random words
        // are merged piece by piece (a byte costs 1), except the few found whole.
        assert!(t.bytes_tokenized <= 8 * MAX_TOKENIZE_COST);
        assert!(
            t.bytes_tokenized <= MAX_TOKENIZE_COST * 101 / 100,
            "{}",
            t.bytes_tokenized
        );
        assert_eq!(
            t.bytes_tokenized + t.bytes_not_tokenized,
            text.len() as u64 + 4 * messages
        ); // + "user" per message
        assert!(t.input_exact > 128_000);
        assert!(v.partial().is_none(), "the verdict is certain");
        let e = &v.errors[0].error;
        assert!(e.message.contains("resulted in at least "), "{}", e.message);
    }

    #[test]
    fn a_message_content_over_one_mebichar_is_refused_at_the_bound() {
        // OpenAI's bound on a message's string content is 1,048,576 characters
        // (gptscript-ai/clio#41): the bound itself passes the schema, one more is refused.
        let at = "x".repeat(1_048_576);
        let v = check(CHAT, &chat("gpt-4.1", &at), &Config::default());
        assert!(
            !v.errors.iter().any(|e| e.rule == "request_schema"),
            "{:?}",
            v.errors
        );
        let over = "x".repeat(1_048_577);
        let v = check(CHAT, &chat("gpt-4.1", &over), &Config::default());
        let e = &v.errors[0].error;
        assert_eq!(e.param.as_deref(), Some("messages[0].content"));
        assert_eq!(e.code.as_deref(), Some("string_above_max_length"));
    }

    #[test]
    fn a_big_text_that_certainly_fits_passes() {
        // gpt-4.1's window is 1,047,576: 600 KB of text cannot hold more tokens than that.
        let text = random_words(600_000);
        let v = check(CHAT, &chat("gpt-4.1", &text), &Config::default());
        assert!(v.ok(), "{:?}", v.errors);
        assert!(v.partial().is_none());
        assert!(v.tokens.as_ref().unwrap().bytes_not_tokenized > 0);
    }

    #[test]
    fn an_uncertain_text_passes_partly_checked() {
        // 1.5 MB for gpt-4.1: the part tokenized is far under the window, the rest may not fit.
        let text = random_words(1_500_000);
        let (body, _) = chat_parts("gpt-4.1", &text);
        let v = check(CHAT, &body, &Config::default());
        assert!(v.ok(), "{:?}", v.errors);
        assert_partial(&v, "tokenize_cost", "partly_checked");
        let b = v.partial().unwrap();
        assert_eq!(b.limit, MAX_TOKENIZE_COST);
    }

    #[test]
    fn at_the_tokenizing_bound_the_text_is_counted_whole() {
        // " word" is one token, found whole in the vocabulary: each costs 5/8, but the next is
        // counted only if its full cost (5) fits: 999 × 5/8 + 5 = 629.4. The content is counted
        // first, then the role ("user", 4/8).
        let k = 1000u64;
        let text = " word".repeat(k as usize);
        let with = |cost: u64| Config {
            bounds: Bounds {
                tokenize_cost: cost,
                ..Bounds::default()
            },
            ..Config::default()
        };
        let v = check(CHAT, &chat("gpt-4o", &text), &with(630));
        let t = v.tokens.clone().unwrap();
        assert_eq!((t.input_exact, t.bytes_not_tokenized), (k + 1, 0)); // + "user"
        let v = check(CHAT, &chat("gpt-4o", &text), &with(629));
        let t = v.tokens.clone().unwrap();
        assert_eq!(t.bytes_not_tokenized, 5);
        assert_eq!(
            t.input_exact,
            k + 1,
            "one token at least in the 5 bytes left"
        );
        // Certainly within 128,000: no partial verdict.
        assert!(v.ok() && v.partial().is_none());
        // With a window the rest decides, the verdict is partial.
        let v = check(CHAT, &chat("gpt-4o", &" word".repeat(130_000)), &with(1000));
        assert_partial(&v, "tokenize_cost", "partly_checked");
    }

    #[test]
    fn normal_requests_are_counted_exactly() {
        use airlock_rules::tokenizer::{Encoding, Tokenizer};
        let text = random_words(200_000);
        let v = check(CHAT, &chat("gpt-4o", &text), &Config::default());
        let t = v.tokens.clone().unwrap();
        let want = Tokenizer::new(Encoding::O200kBase).count(&text) as u64 + 1;
        assert_eq!((t.input_exact, t.bytes_not_tokenized), (want, 0));
    }
}
