//! One JSON line per request on `console.log` (what Workers Logs collects).
//!
//! Event streams get a second line when they end (`stream_end`, see `watch.rs`).
//!
//! Never logged: keys, gateway tokens, query strings, and prompt text unless `LOG_PROMPTS` is
//! `true` (then the prompt is logged with keys and the gateway's secrets masked).

use serde::Serialize;
use serde_json::Value;
use worker::Request;

use crate::settings::Settings;

/// Logged prompt text is cut after this many characters.
const MAX_PROMPT_CHARS: usize = 4000;

/// Every other free-text field a client or the upstream controls (the path, the model, the
/// upstream's request ID) is cut after this many characters, after its keys are masked.
pub const MAX_LOG_FIELD_CHARS: usize = 256;

/// What one request's log line says.
#[derive(Debug, Serialize)]
pub struct LogLine {
    /// When the request arrived (ISO 8601).
    pub time: String,
    /// Airlock's request ID (`x-airlock-request-id`; `x-request-id` on the worker's own errors).
    pub request_id: String,
    /// The upstream's `x-request-id`, when it answered.
    pub upstream_request_id: Option<String>,
    /// HTTP method.
    pub method: String,
    /// The normalised path, without the query.
    pub path: String,
    /// The model named in the body, when the rules read it.
    pub model: Option<String>,
    /// The status sent to the client.
    pub status: u16,
    /// The error category (the rules' diagnosis, or the worker's own error).
    pub category: Option<String>,
    /// The retry decision.
    pub retry: Option<&'static str>,
    /// The rule that rejected the request.
    pub rule: Option<String>,
    /// Whether the body was checked by the rules (false: not JSON, too large, no length).
    pub checked: bool,
    /// Upstream attempts made (more than 1 only with edge retries).
    pub attempts: u32,
    /// Milliseconds until the response headers were ready.
    pub latency_ms: f64,
    /// Fingerprint of the client's key or gateway token.
    pub key_fingerprint: Option<String>,
    /// Input tokens the rules counted (exact text plus estimated framing, tools and images), when
    /// the body was checked and the model's encoding is known; at least this many when `partial`
    /// is `tokenize_cost`.
    pub tokens: Option<u64>,
    /// How `tokens` was found: `exact` (tokenized), or `estimate` (OpenAI's rate-limiter
    /// estimate, where the context-length verdict did not depend on the exact count; see
    /// `EXACT_TOKEN_COUNT`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_counted: Option<&'static str>,
    /// The bound that left the body partly checked or unchecked (`max_check_bytes`, and the
    /// rules' `validate::bounds`: `json_nodes`, `tokenize_cost`, …); also sent as
    /// `x-airlock-checked: partial; bound=…`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial: Option<&'static str>,
    /// The prompt text, keys masked; only with `LOG_PROMPTS=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// The rules that warned (or would have rejected, in report mode), by name, in order, each
    /// once; also sent as `x-airlock-warnings` ([`warnings_header`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// How an upstream error body was read when it was not simply whole: `streamed` (longer than
    /// the diagnosis prefix, passed on as a stream), `stalled`, `cut`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_body: Option<&'static str>,
    /// An upstream status that is not a final HTTP status (answered as a failed connection).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_status: Option<u16>,
    /// The answer is an event stream: a second line, `"event":"stream_end"` with the same
    /// `request_id`, follows when it ends, with its final state (see `watch.rs`).
    pub stream: bool,
    /// Simulate mode answered (`x-airlock-simulate`), not the upstream: the Monitor counts it
    /// apart and never alerts on it.
    #[serde(skip_serializing_if = "core::ops::Not::not")]
    pub simulated: bool,
    /// The response sent is the upstream's (its status relayed), not one Airlock made itself
    /// (a rejection, a refusal, its own error): the Monitor counts the two statuses apart.
    #[serde(skip)]
    pub upstream_answered: bool,
    /// The answer checked against the request's schemas (`output.rs`): `valid`, `invalid`,
    /// `truncated`, `refused`, `unchecked`; on a stream, in its `stream_end` line instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<&'static str>,
    /// Where the first failure is (response path and JSON pointer; never a value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_path: Option<String>,
    /// The failing keyword, or why it was not checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_keyword: Option<String>,
    #[serde(skip)]
    started_ms: f64,
}

impl LogLine {
    /// Starts the line for `req` (its URL as parsed once by the caller), with a fresh request ID.
    pub fn start(req: &Request, url: Option<&url::Url>) -> LogLine {
        let now = js_sys::Date::now();
        let path = url.map(|u| u.path().to_owned()).unwrap_or_default();
        LogLine {
            time: crate::plumbing::iso_time(now),
            request_id: new_request_id(),
            upstream_request_id: None,
            method: req.method().to_string(),
            path,
            model: None,
            status: 0,
            category: None,
            retry: None,
            rule: None,
            checked: false,
            attempts: 0,
            latency_ms: 0.0,
            key_fingerprint: None,
            prompt: None,
            partial: None,
            tokens: None,
            tokens_counted: None,
            warnings: Vec::new(),
            upstream_body: None,
            upstream_status: None,
            stream: false,
            simulated: false,
            upstream_answered: false,
            output: None,
            output_path: None,
            output_keyword: None,
            started_ms: now,
        }
    }

    /// Notes the prompt text of a checked JSON `body` when `LOG_PROMPTS` is on; does nothing otherwise.
    pub fn note_prompt(&mut self, settings: &Settings, body: &[u8]) {
        if !settings.log_prompts {
            return;
        }
        let mut secrets: Vec<&str> = Vec::new();
        if let Some(gateway) = &settings.gateway {
            secrets.push(&gateway.key);
            secrets.extend(gateway.tokens.iter().map(String::as_str));
        }
        self.prompt = prompt_text(body, &secrets);
    }

    /// Completes the line with the final status and writes it.
    pub fn finish(&mut self, status: u16) {
        self.status = status;
        // What a stranger wrote (a key pasted into the model name or the URL path) is masked and cut.
        self.path = log_field(&self.path);
        self.model = self.model.as_deref().map(log_field);
        self.upstream_request_id = self.upstream_request_id.as_deref().map(log_field);
        self.latency_ms = js_sys::Date::now() - self.started_ms;
        match serde_json::to_string(self) {
            Ok(text) => worker::console_log!("{text}"),
            Err(e) => worker::console_error!("airlock: log line failed: {e}"),
        }
    }
}

/// At most this many rule names are kept for the log line and the header.
pub const MAX_WARNINGS: usize = 16;

/// The `x-airlock-warnings` header is cut, at a name's end, to this many bytes.
pub const MAX_WARNINGS_HEADER_BYTES: usize = 512;

/// The distinct rule names of `findings`, in order, at most [`MAX_WARNINGS`].
pub fn warning_names<'a>(findings: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in findings {
        if out.len() == MAX_WARNINGS {
            break;
        }
        if !out.iter().any(|n| n == name) {
            out.push(name.chars().take(64).collect());
        }
    }
    out
}

/// The `x-airlock-warnings` value: the names comma-separated, whole names only, at most
/// [`MAX_WARNINGS_HEADER_BYTES`]; `None` when there are none.
pub fn warnings_header(names: &[String]) -> Option<String> {
    let mut out = String::new();
    for name in names {
        let extra = if out.is_empty() { 0 } else { 2 };
        if out.len() + extra + name.len() > MAX_WARNINGS_HEADER_BYTES {
            break;
        }
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(name);
    }
    (!out.is_empty()).then_some(out)
}

/// A free-text value for the log: keys masked by the rules' redaction, cut at
/// [`MAX_LOG_FIELD_CHARS`] characters.
pub fn log_field(text: &str) -> String {
    let head: String = text.chars().take(MAX_LOG_FIELD_CHARS * 2).collect();
    let mut out = airlock_rules::redact::redact(&head);
    if let Some((cut, _)) = out.char_indices().nth(MAX_LOG_FIELD_CHARS) {
        out.truncate(cut);
        out.push('…');
    }
    out
}

/// `req_airlock_` and 24 random hex digits.
fn new_request_id() -> String {
    let mut out = String::from("req_airlock_");
    for _ in 0..3 {
        // 32 random bits per draw; the ID needs to be unique, not secret.
        let bits = (js_sys::Math::random() * f64::from(u32::MAX)) as u32;
        out.push_str(&format!("{bits:08x}"));
    }
    out
}

/// The prompt text of an API request body: message contents, `input`, `prompt`, `instructions`
/// (text parts only, joined by newlines), with keys masked by the rules' redaction and each of
/// `secrets` replaced by `***`; cut at [`MAX_PROMPT_CHARS`]. `None` when the body holds no text.
pub fn prompt_text(body: &[u8], secrets: &[&str]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let mut parts = Vec::new();
    for field in ["instructions", "system", "messages", "input", "prompt"] {
        if let Some(v) = value.get(field) {
            collect_text(v, &mut parts);
        }
    }
    if parts.is_empty() {
        return None;
    }
    let mut text = parts.join("\n");
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        text = text.replace(secret, "***");
    }
    let mut text = airlock_rules::redact::redact(&text);
    if let Some((cut, _)) = text.char_indices().nth(MAX_PROMPT_CHARS) {
        text.truncate(cut);
        text.push('…');
    }
    Some(text)
}

/// Gathers the strings a person wrote: plain strings, `content` / `text` of messages and parts,
/// recursively through arrays. Images, audio and token arrays are skipped.
fn collect_text<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| collect_text(v, out)),
        Value::Object(map) => {
            for key in ["content", "text"] {
                if let Some(v) = map.get(key) {
                    collect_text(v, out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::prompt_text;

    #[test]
    fn chat_messages_and_parts() {
        let body = br#"{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},
            {"role":"user","content":[{"type":"text","text":"Say hello"},{"type":"image_url","image_url":{"url":"data:x"}}]}]}"#;
        assert_eq!(prompt_text(body, &[]).unwrap(), "Be brief.\nSay hello");
    }

    #[test]
    fn keys_and_secrets_are_masked() {
        let body = br#"{"model":"gpt-4o","input":"my key is sk-proj-abc123def456ghi789jkl012mno345 and gw-token-1"}"#;
        let text = prompt_text(body, &["gw-token-1"]).unwrap();
        assert!(!text.contains("abc123def456ghi789"), "{text}");
        assert!(!text.contains("gw-token-1"), "{text}");
        assert!(text.starts_with("my key is "), "{text}");
    }

    #[test]
    fn no_text_no_prompt() {
        assert_eq!(prompt_text(br#"{"model":"m","input":[1,2,3]}"#, &[]), None);
        assert_eq!(prompt_text(b"not json", &[]), None);
    }

    #[test]
    fn log_fields_are_masked_and_cut() {
        use super::{MAX_LOG_FIELD_CHARS, log_field};
        let key = "sk-proj-abc123def456ghi789jkl012mno345pqr678";
        let masked = log_field(&format!("/v1/{key}/models"));
        assert!(!masked.contains("abc123def456"), "{masked}");
        let model = log_field(key);
        assert!(!model.contains("abc123def456"), "{model}");
        let long = log_field(&"m".repeat(100_000));
        assert_eq!(long.chars().count(), MAX_LOG_FIELD_CHARS + 1);
        assert_eq!(log_field("gpt-4o-mini"), "gpt-4o-mini");
    }

    #[test]
    fn warnings_are_named_once_and_bounded() {
        use super::{MAX_WARNINGS, MAX_WARNINGS_HEADER_BYTES, warning_names, warnings_header};
        let names = warning_names(["a_rule", "b_rule", "a_rule"]);
        assert_eq!(names, ["a_rule", "b_rule"]);
        assert_eq!(warnings_header(&names).unwrap(), "a_rule, b_rule");
        assert_eq!(warnings_header(&[]), None);
        let many: Vec<String> = (0..100)
            .map(|i| format!("rule_{i:03}_{}", "x".repeat(40)))
            .collect();
        let names = warning_names(many.iter().map(String::as_str));
        assert_eq!(names.len(), MAX_WARNINGS);
        let header = warnings_header(&names).unwrap();
        assert!(header.len() <= MAX_WARNINGS_HEADER_BYTES);
        assert!(header.split(", ").all(|n| n.len() == 49), "{header}");
    }

    #[test]
    fn long_prompts_are_cut() {
        let body = format!(r#"{{"prompt":"{}"}}"#, "a".repeat(10_000));
        let text = prompt_text(body.as_bytes(), &[]).unwrap();
        assert_eq!(text.chars().count(), super::MAX_PROMPT_CHARS + 1);
    }
}
