//! `airlock redact` and `airlock support-bundle`, run as a user would.

mod common;

use common::{airlock, stdout};

const KEY: &str = "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90T3BlbkFJUv12Wx34PcIA";

#[test]
fn redact_masks_keys_from_stdin() {
    let input = format!(
        "$ curl https://api.openai.com/v1/models -H \"Authorization: Bearer {KEY}\"\nOpenAI-Organization: org-AbCdEfGhIjKlMnOpQrStUvWx\n"
    );
    for args in [&["redact"][..], &["redact", "-"][..]] {
        let o = airlock(args, &input);
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(
            stdout(&o),
            "$ curl https://api.openai.com/v1/models -H \"Authorization: Bearer sk-proj-***PcIA\"\nOpenAI-Organization: org-AbCdEfGhIjKlMnOpQrStUvWx\n"
        );
    }
}

#[test]
fn redact_ids_and_files() {
    let dir = std::env::temp_dir().join(format!("airlock-redact-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("paste.txt");
    std::fs::write(
        &file,
        format!("openai.AuthenticationError: Incorrect API key provided: {KEY}. organization org-AbCdEfGhIjKlMnOpQrStUvWx project proj_AbCdEfGhIjKlMnOpQrStUvWx"),
    )
    .unwrap();
    let o = airlock(&["redact", file.to_str().unwrap(), "--ids"], "");
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert_eq!(
        out,
        "openai.AuthenticationError: Incorrect API key provided: sk-proj-***PcIA. organization org-***UvWx project proj_***UvWx"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn redact_leaves_clean_text_alone() {
    let text = "Error code: 429 - {'error': {'message': 'Rate limit reached', 'type': 'requests', 'param': None, 'code': 'rate_limit_exceeded'}}\n";
    let o = airlock(&["redact"], text);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), text);
}

#[test]
fn usage_problems_exit_2() {
    for args in [
        &["redact", "--bogus"][..],
        &["redact", "a.txt", "b.txt"][..],
        &["redact", "/nonexistent/airlock/paste.txt"][..],
        &["support-bundle", "--endpoint"][..],
        &["support-bundle", "--attempts", "three"][..],
        &["support-bundle", "--nope"][..],
    ] {
        let o = airlock(args, "");
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
        assert!(!o.stderr.is_empty(), "{args:?}");
    }
    for args in [&["redact", "--help"][..], &["support-bundle", "-h"][..]] {
        let o = airlock(args, "");
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        assert!(stdout(&o).starts_with("usage: airlock"), "{args:?}");
    }
}

#[test]
fn support_bundle_without_an_error_exits_1() {
    for input in [
        "",
        "hello\n",
        r#"{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}]}"#,
    ] {
        let o = airlock(&["support-bundle"], input);
        assert_eq!(o.status.code(), Some(1), "{input:?}");
        assert!(o.stdout.is_empty(), "{input:?}");
    }
}

#[test]
fn support_bundle_from_a_python_traceback() {
    let paste = format!(
        r#"Traceback (most recent call last):
  File "app.py", line 12, in <module>
    resp = client.chat.completions.create(model="gpt-4o", messages=messages)
openai.RateLimitError: Error code: 429 - {{'error': {{'message': 'Rate limit reached for gpt-4o in organization org-AbCdEfGhIjKlMnOpQrStUvWx on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000. Please try again in 2s. Visit https://platform.openai.com/account/rate-limits to learn more.', 'type': 'tokens', 'param': None, 'code': 'rate_limit_exceeded'}}}}
client = OpenAI(api_key="{KEY}")
"#
    );
    let o = airlock(
        &[
            "support-bundle",
            "-",
            "--endpoint",
            "POST /v1/chat/completions",
            "--time",
            "2024-05-01T12:34:56Z",
            "--tried",
            "waited a minute",
        ],
        &paste,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = stdout(&o);
    for want in [
        "Time: 2024-05-01T12:34:56Z\n",
        "Endpoint: POST /v1/chat/completions\n",
        "Model: gpt-4o\n",
        "HTTP status: 429\n",
        "Error code: rate_limit_exceeded\n",
        "Error type: tokens\n",
        "Category: rate_limit (retry: yes",
        "Rate limit: tokens per minute (TPM), organization org-AbCdEfGhIjKlMnOpQrStUvWx, limit 30000, used 29000, requested 2000, try again in 2000 ms\n",
        "Tried: waited a minute\n",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    // No prompt code, no key.
    assert!(!out.contains("messages=messages"));
    assert!(!out.contains("Ab12Cd34"));
}
