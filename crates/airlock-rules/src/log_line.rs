//! The worker's log lines, as types (issue 17, part 4): one JSON object per line on the worker's
//! console (what Workers Logs collects). The worker serializes these very structs, and with the
//! `schemars` feature the JSON Schema of every line (`schemas/log-line.json`, written by
//! `cargo xtask codegen` through `airlock schemas log-line`) is derived from them; the worker
//! builds without that feature, so no schema code reaches its wasm.
//!
//! Every kind is a closed object (`additionalProperties: false`): the per-request line
//! ([`RequestLine`]) has no `event` key; every other kind names itself in `event` (a `const` in
//! the schema), except the pacer's restart note ([`PacerRestored`]), which names itself in
//! `pacer`. [`LogLine`] is the union the schema describes.
//!
//! Nothing here holds a key, a gateway token or prompt text, except [`RequestLine::prompt`]
//! (only with `LOG_PROMPTS=true`, masked); the free-text fields a stranger controls are masked
//! and cut by the worker before they are written.

use alloc::string::String;
use alloc::vec::Vec;

use crate::sse::StreamError;

/// One line of the worker's log: the union `schemas/log-line.json` describes. The worker writes
/// each kind's struct directly; this enum exists for the schema (and for a reader in Rust).
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum LogLine<'a> {
    /// One per request, when its response headers are ready (no `event` key).
    Request(&'a RequestLine),
    /// An event stream ended (`"event": "stream_end"`).
    StreamEnd(StreamEnd<'a>),
    /// A relayed body did not end cleanly (`"event": "body_end"`).
    BodyEnd(BodyEnd<'a>),
    /// A Batch upload ended (`"event": "upload_end"`).
    UploadEnd(UploadEnd<'a>),
    /// Simulate mode saw an `x-airlock-simulate` header (`"event": "simulate"`).
    Simulate(SimulateLine<'a>),
    /// The Monitor fired an alert (`"event": "alert"`).
    Alert(AlertLine<'a>),
    /// A pacer Durable Object restarted with limits it had learned (`"pacer": …`).
    PacerRestored(PacerRestored),
}

/// What one request's log line says (the worker's `log::LogLine` fills it in).
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct RequestLine {
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
    /// The retry decision (`yes`, `no`, `after_change`).
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
    /// once; also sent as `x-airlock-warnings`.
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
    /// `request_id`, follows when it ends, with its final state.
    pub stream: bool,
    /// Simulate mode answered (`x-airlock-simulate`), not the upstream: the Monitor counts it
    /// apart and never alerts on it.
    #[serde(skip_serializing_if = "core::ops::Not::not")]
    pub simulated: bool,
    /// The answer checked against the request's schemas: `valid`, `invalid`, `truncated`,
    /// `refused`, `unchecked`; on a stream, in its `stream_end` line instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<&'static str>,
    /// Where the first failure is (response path and JSON pointer; never a value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_path: Option<String>,
    /// The failing keyword, or why it was not checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_keyword: Option<String>,
}

/// The `stream_end` line: how a watched event stream ended.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Debug, serde::Serialize)]
pub struct StreamEnd<'a> {
    /// Always `stream_end`.
    #[cfg_attr(feature = "schemars", schemars(extend("const" = "stream_end")))]
    pub event: &'static str,
    /// The request's `request_id` (its request line has `"stream": true`).
    pub request_id: &'a str,
    /// `chat_completions`, `responses`, `unknown`.
    pub kind: &'static str,
    /// `completed`, `failed`, `incomplete`, `cut`.
    pub state: &'static str,
    /// The error of a failed stream, as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a StreamError>,
    /// Why an incomplete stream is incomplete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    /// The last event seen.
    pub last_event: Option<&'a str>,
    /// The last `finish_reason` of a Chat stream.
    pub finish_reason: Option<&'a str>,
    /// Events seen.
    pub events: u64,
    /// Bytes seen.
    pub bytes: u64,
    /// The upstream connection failed mid-stream (read error).
    pub upstream_dropped: bool,
    /// Airlock appended bytes to end the dropped stream: its `stream_interrupted` error, or, when
    /// the terminal event had arrived but for its end, only that end (the rest of a cut `[DONE]`,
    /// the blank line after `response.completed`).
    pub appended_error: bool,
    /// The client went away before the stream ended.
    pub client_closed: bool,
    /// No chunk came for `UPSTREAM_IDLE_TIMEOUT_MS`: ended like a drop.
    pub upstream_stalled: bool,
    /// Milliseconds from the response's start to the stream's end.
    pub duration_ms: f64,
    /// The assembled output checked against the request's schemas: a stream cannot get the
    /// `x-airlock-output` header once its body has started, so it is logged here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<&'static str>,
    /// Where the output's first failure is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_path: Option<String>,
    /// The failing keyword, or why the output was not checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_keyword: Option<String>,
}

/// Where a relayed body goes, for its `body_end` line.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// An upstream answer on its way to the client.
    Response,
    /// A client's body on its way upstream.
    Request,
}

/// The `body_end` line: written only when a relayed body did not end cleanly.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Debug, serde::Serialize)]
pub struct BodyEnd<'a> {
    /// Always `body_end`.
    #[cfg_attr(feature = "schemars", schemars(extend("const" = "body_end")))]
    pub event: &'static str,
    /// The request's `request_id`.
    pub request_id: &'a str,
    /// Which body.
    pub direction: Direction,
    /// `cut` (a read error) or `stalled` (the idle timer).
    pub state: &'static str,
    /// Bytes relayed before it ended, when counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// The runtime's description of the failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
}

/// The `upload_end` line: a Batch input file streamed upstream while it was linted.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Debug, serde::Serialize)]
pub struct UploadEnd<'a> {
    /// Always `upload_end`.
    #[cfg_attr(feature = "schemars", schemars(extend("const" = "upload_end")))]
    pub event: &'static str,
    /// The request's `request_id`.
    pub request_id: &'a str,
    /// `passed` (judged good), `rejected`, or `unchecked` (see `note`).
    pub state: &'static str,
    /// Why it was not judged (the rules' `upload::Note`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
    /// Bytes received from the client.
    pub bytes: u64,
    /// Bytes written upstream.
    pub forwarded_bytes: u64,
    /// Batch requests (lines) read.
    pub requests: u64,
    /// Problems found.
    pub errors: usize,
    /// The upstream call opened before the client's body ended (else it got the whole body).
    pub streamed: bool,
    /// The upstream call was aborted mid-body.
    pub upstream_aborted: bool,
    /// Milliseconds from the request to the upload's end.
    pub duration_ms: f64,
}

/// The `simulate` line: an `x-airlock-simulate` request, failed or let through.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Debug, serde::Serialize)]
pub struct SimulateLine<'a> {
    /// Always `simulate`.
    #[cfg_attr(feature = "schemars", schemars(extend("const" = "simulate")))]
    pub event: &'static str,
    /// The request's `request_id`.
    pub request_id: &'a str,
    /// The simulated failure's name (`airlock simulate --list`).
    pub name: &'static str,
    /// The SDK's `x-stainless-retry-count`, when sent.
    pub attempt: Option<u32>,
    /// The header's `after=k`, when given.
    pub after: Option<u32>,
    /// `fail` (simulated) or `pass` (sent upstream).
    pub action: &'static str,
}

/// The `alert` line: the Monitor fired an alert rule.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Debug, serde::Serialize)]
pub struct AlertLine<'a> {
    /// Always `alert`.
    #[cfg_attr(feature = "schemars", schemars(extend("const" = "alert")))]
    pub event: &'static str,
    /// The category the rule watches.
    pub category: &'a str,
    /// Errors of that category in the rule's window.
    pub count: u64,
    /// The trailing hour's count, per window.
    pub baseline_hour: u64,
    /// The rule's window.
    pub window_minutes: u32,
    /// What became of the webhook call: `unset`, `invalid_url`, `sent STATUS`, `failed`, … (never
    /// the URL).
    pub webhook: &'a str,
}

/// A pacer Durable Object restarted and restored the limits it had learned (no key, no lane
/// name: only the limits).
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Debug, serde::Serialize)]
pub struct PacerRestored {
    /// Always `restored from storage`.
    #[cfg_attr(feature = "schemars", schemars(extend("const" = "restored from storage")))]
    pub pacer: &'static str,
    /// The requests bucket, when learned.
    pub requests: Option<PacedWindow>,
    /// The tokens bucket, when learned.
    pub tokens: Option<PacedWindow>,
}

/// One restored token bucket of [`PacerRestored`].
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PacedWindow {
    /// The limit (bucket size).
    pub limit: u64,
    /// What was free when last brought up to date, in whole units (negative while requests
    /// queue).
    pub level: i64,
    /// When `level` was last brought up to date (ms since the epoch).
    pub at: u64,
}

impl From<crate::pace::Window> for PacedWindow {
    fn from(w: crate::pace::Window) -> Self {
        PacedWindow {
            limit: w.limit,
            level: w.level / crate::pace::SCALE,
            at: w.at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request line's keys, in the order the worker wrote them before these types moved
    /// here; optional keys are left out when empty.
    #[test]
    fn request_line_keys() {
        let line = RequestLine {
            time: "2026-12-06T07:00:00.000Z".into(),
            request_id: "req_airlock_0".into(),
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            status: 200,
            ..RequestLine::default()
        };
        let text = serde_json::to_string(&line).unwrap();
        assert_eq!(
            text,
            r#"{"time":"2026-12-06T07:00:00.000Z","request_id":"req_airlock_0","upstream_request_id":null,"method":"POST","path":"/v1/chat/completions","model":null,"status":200,"category":null,"retry":null,"rule":null,"checked":false,"attempts":0,"latency_ms":0.0,"key_fingerprint":null,"tokens":null,"stream":false}"#
        );
    }

    #[test]
    fn pacer_window_in_whole_units() {
        let w = crate::pace::Window {
            limit: 10,
            rate: 1,
            level: -2 * crate::pace::SCALE,
            at: 5,
        };
        let line = PacerRestored {
            pacer: "restored from storage",
            requests: Some(w.into()),
            tokens: None,
        };
        assert_eq!(
            serde_json::to_string(&line).unwrap(),
            r#"{"pacer":"restored from storage","requests":{"limit":10,"level":-2,"at":5},"tokens":null}"#
        );
    }
}
