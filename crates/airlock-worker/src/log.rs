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
    /// The bound that left the body partly checked (`json_nodes`, `tokenize_cost`, …; see the
    /// rules' `validate::bounds`); also sent as `x-airlock-checked: partial; bound=…`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial: Option<&'static str>,
    /// The prompt text, keys masked; only with `LOG_PROMPTS=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// The answer is an event stream: a second line, `"event":"stream_end"` with the same
    /// `request_id`, follows when it ends, with its final state (see `watch.rs`).
    pub stream: bool,
    #[serde(skip)]
    started_ms: f64,
}

impl LogLine {
    /// Starts the line for `req` (its URL as parsed once by the caller), with a fresh request ID.
    pub fn start(req: &Request, url: Option<&url::Url>) -> LogLine {
        let now = js_sys::Date::new_0();
        let path = url.map(|u| u.path().to_owned()).unwrap_or_default();
        LogLine {
            time: String::from(now.to_iso_string()),
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
            stream: false,
            started_ms: js_sys::Date::now(),
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
        self.latency_ms = js_sys::Date::now() - self.started_ms;
        match serde_json::to_string(self) {
            Ok(text) => worker::console_log!("{text}"),
            Err(e) => worker::console_error!("airlock: log line failed: {e}"),
        }
    }
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
    fn long_prompts_are_cut() {
        let body = format!(r#"{{"prompt":"{}"}}"#, "a".repeat(10_000));
        let text = prompt_text(body.as_bytes(), &[]).unwrap();
        assert_eq!(text.chars().count(), super::MAX_PROMPT_CHARS + 1);
    }
}
