//! One JSON line per request on `console.log` (what Workers Logs collects).
//!
//! Event streams get a second line when they end (`stream_end`, see `watch.rs`).
//!
//! Never logged: keys, gateway tokens, prompt text, query strings.

use serde::Serialize;
use worker::Request;

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
    /// The answer is an event stream: a second line, `"event":"stream_end"` with the same
    /// `request_id`, follows when it ends, with its final state (see `watch.rs`).
    pub stream: bool,
    #[serde(skip)]
    started_ms: f64,
}

impl LogLine {
    /// Starts the line for `req`, with a fresh request ID.
    pub fn start(req: &Request) -> LogLine {
        let now = js_sys::Date::new_0();
        let path = req.url().map(|u| u.path().to_owned()).unwrap_or_default();
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
            stream: false,
            started_ms: js_sys::Date::now(),
        }
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
