//! One JSON line per request on `console.log` (what Workers Logs collects).
//!
//! Event streams get a second line when they end (`stream_end`, see `watch.rs`).
//!
//! Never logged: keys, gateway tokens, query strings, and prompt text unless `LOG_PROMPTS` is
//! `true` (then the prompt is logged with keys and the gateway's secrets masked).

use airlock_rules::log_line::RequestLine;
use serde_json::Value;
use worker::Method;

use crate::settings::Settings;

/// Logged prompt text is cut after this many characters.
const MAX_PROMPT_CHARS: usize = 4000;

/// Every other free-text field a client or the upstream controls (the path, the model, the
/// upstream's request ID) is cut after this many characters, after its keys are masked.
pub const MAX_LOG_FIELD_CHARS: usize = 256;

/// One request's log line: the rules crate's [`RequestLine`] (the JSON written, whose schema is
/// `schemas/log-line.json`), plus what the worker keeps beside it. Its fields are reached through
/// `Deref` (`line.status`, `line.model`, …).
#[derive(Debug)]
pub struct LogLine {
    line: RequestLine,
    /// The response sent is the upstream's (its status relayed), not one Airlock made itself
    /// (a rejection, a refusal, its own error): the Monitor counts the two statuses apart.
    pub upstream_answered: bool,
    started_ms: f64,
}

impl core::ops::Deref for LogLine {
    type Target = RequestLine;
    fn deref(&self) -> &RequestLine {
        &self.line
    }
}

impl core::ops::DerefMut for LogLine {
    fn deref_mut(&mut self) -> &mut RequestLine {
        &mut self.line
    }
}

impl LogLine {
    /// Starts the line for a request to `path` (its URL's, as read once by the caller), with a
    /// fresh request ID.
    pub fn start(method: &Method, path: Option<&str>) -> LogLine {
        let now = js_sys::Date::now();
        let path = path.map(str::to_owned).unwrap_or_default();
        LogLine {
            line: RequestLine {
                time: crate::plumbing::iso_time(now),
                request_id: new_request_id(),
                method: method.to_string(),
                path,
                ..RequestLine::default()
            },
            upstream_answered: false,
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
        if let Some(text) = self.finish_text(status) {
            // The text as it is, not formatted again into a new string.
            worker::worker_sys::web_sys::console::log_1(&wasm_bindgen::JsValue::from_str(&text));
        }
    }

    /// Completes the line with the final status and gives its text, for the caller to write
    /// (the JS entry writes it with its own `console.log`; `entry.rs`). `None`: it could not be
    /// serialized (said on `console.error`).
    pub fn finish_text(&mut self, status: u16) -> Option<String> {
        let started_ms = self.started_ms;
        let line = &mut self.line;
        line.status = status;
        // What a stranger wrote (a key pasted into the model name or the URL path) is masked and cut.
        line.path = log_field(&line.path);
        line.model = line.model.as_deref().map(log_field);
        line.upstream_request_id = line.upstream_request_id.as_deref().map(log_field);
        line.latency_ms = js_sys::Date::now() - started_ms;
        match serde_json::to_string(line) {
            Ok(text) => Some(text),
            Err(e) => {
                worker::console_error!("airlock: log line failed: {e}");
                None
            }
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
