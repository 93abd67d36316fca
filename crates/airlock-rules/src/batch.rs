//! Batch files: lint an input file line by line, explain a Batch object or a result line, and
//! join the input with the output and error files.
//!
//! Everything here is a pure function on bytes. [`lint_line`] is called once per line with a
//! [`LintState`] that remembers only what a file-wide rule needs (a hash per `custom_id`, the
//! first `url` and `model`, counters), so memory grows with the number of requests, never with
//! the size of their bodies.
//!
//! ```
//! use airlock_rules::batch::{lint_line, LintState};
//!
//! let mut state = LintState::new();
//! let line = br#"{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}}"#;
//! assert!(lint_line(1, line, &mut state).is_empty());
//! let errors = lint_line(2, line, &mut state);
//! assert_eq!(errors[0].code, "duplicate_custom_id");
//! assert!(state.finish().is_empty());
//! ```

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::Value;

use crate::validate::{self, Config};

/// The Batch API's file limits, with where they come from.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Limits {
    /// The most requests (lines) in one input file.
    pub max_requests: u64,
    /// The largest input file, in bytes.
    pub max_bytes: u64,
    /// The most embedding inputs across all requests of a `/v1/embeddings` batch.
    pub max_embedding_inputs: u64,
    /// Where these numbers come from.
    pub source: &'static str,
    /// When the source was read.
    pub as_of: &'static str,
}

/// The limits as OpenAI's OpenAPI spec states them: "up to 50,000 requests, and can be up to
/// 200 MB in size"; `/v1/embeddings` batches "a maximum of 50,000 embedding inputs across all
/// requests". The numbers are data (`rules/batch_limits.toml`, each with its source and the spec
/// wording it is read from, checked by `cargo xtask codegen`). 200 MB is read as 200 MiB
/// (209,715,200 bytes), the larger reading, so a valid file is never rejected.
pub const LIMITS: Limits = Limits {
    max_requests: crate::generated::batch_limits::MAX_REQUESTS,
    max_bytes: crate::generated::batch_limits::MAX_BYTES,
    max_embedding_inputs: crate::generated::batch_limits::MAX_EMBEDDING_INPUTS,
    source: crate::generated::batch_limits::SOURCE,
    as_of: crate::generated::batch_limits::READ,
};

/// The endpoints a Batch can run (the `endpoint` enum of `POST /v1/batches`).
pub const ENDPOINTS: &[&str] = &[
    "/v1/responses",
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/moderations",
    "/v1/images/generations",
    "/v1/images/edits",
    "/v1/videos",
];

/// Where [`ENDPOINTS`] comes from.
pub const ENDPOINTS_SOURCE: &str = "openai-openapi.yaml@f85dbe223d40e1a31cba812ab2d755c7e98a92a3#/components/schemas/CreateBatchRequest/properties/endpoint";

/// One problem found in a Batch input file, in the shape of OpenAI's `BatchError`
/// (`code`, `message`, `param`, `line`).
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LineError {
    /// The 1-based line number, or `None` for a file-wide problem.
    pub line: Option<u64>,
    /// The error code (`invalid_json_line`, `duplicate_custom_id`, `unsupported_parameter`, …).
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// The field (`custom_id`, `url`, `body.model`, or a body parameter as the validators name it).
    pub param: Option<String>,
    /// The line's `custom_id`, when it has one.
    pub custom_id: Option<String>,
    /// The validator rule that found a body problem (see [`validate::RULES`]).
    pub rule: Option<String>,
}

/// What [`lint_line`] remembers between lines.
#[derive(Clone, Debug, Default)]
pub struct LintState {
    config: Config,
    endpoint: Option<String>,
    endpoint_given: bool,
    /// FNV-1a 128-bit hash of each `custom_id` → the line it was first seen on.
    seen: BTreeMap<u128, u64>,
    model: Option<(String, u64)>,
    requests: u64,
    lines: u64,
    bytes: u64,
    embedding_inputs: u64,
    errors: u64,
    lines_with_errors: u64,
    /// The request and size limits were already reported at the line that crossed them.
    over_requests: bool,
    over_bytes: bool,
}

impl LintState {
    /// A state with the validators' default [`Config`]; the first line's `url` sets the endpoint.
    pub fn new() -> Self {
        Self::default()
    }

    /// A state whose body checks use `config`.
    pub fn with_config(config: Config) -> Self {
        LintState {
            config,
            ..Self::default()
        }
    }

    /// Fixes the batch's endpoint (as `POST /v1/batches` will name it) instead of taking the first line's.
    pub fn set_endpoint(&mut self, endpoint: &str) {
        self.endpoint = Some(String::from(endpoint));
        self.endpoint_given = true;
    }

    /// Requests (non-blank lines) seen.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Bytes seen (each line plus its line end).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Errors reported so far, by [`lint_line`] and [`LintState::finish`].
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Lines with at least one error.
    pub fn lines_with_errors(&self) -> u64 {
        self.lines_with_errors
    }

    /// The endpoint the file targets (given, or from the first line with a valid `url`).
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// The model of the first line that named one.
    pub fn model(&self) -> Option<&str> {
        self.model.as_ref().map(|(m, _)| m.as_str())
    }

    /// Says the last line given had no line end ([`lint_line`] counts one per line), so the
    /// byte count for the size limit is exact.
    pub fn last_line_unterminated(&mut self) {
        self.bytes = self.bytes.saturating_sub(1);
    }

    /// The file-wide problems, once every line has been given: an empty file, too many requests,
    /// too many bytes, too many embedding inputs.
    pub fn finish(&mut self) -> Vec<LineError> {
        let mut out = Vec::new();
        if self.requests == 0 {
            out.push(file_error(
                "empty_file",
                String::from("The batch input file is empty: it holds no request lines."),
            ));
        }
        if self.requests > LIMITS.max_requests && !self.over_requests {
            out.push(file_error(
                "too_many_tasks",
                alloc::format!(
                    "The batch input file holds {} requests; a batch can hold at most {}.",
                    self.requests,
                    LIMITS.max_requests
                ),
            ));
        }
        if self.bytes > LIMITS.max_bytes && !self.over_bytes {
            out.push(file_error(
                "file_too_large",
                alloc::format!(
                    "The batch input file is {} bytes; the Batch API takes files up to {} MB ({} bytes).",
                    self.bytes,
                    LIMITS.max_bytes / (1024 * 1024),
                    LIMITS.max_bytes
                ),
            ));
        }
        if self.endpoint.as_deref() == Some("/v1/embeddings")
            && self.embedding_inputs > LIMITS.max_embedding_inputs
        {
            out.push(file_error(
                "too_many_embedding_inputs",
                alloc::format!(
                    "The batch holds {} embedding inputs across its requests; an /v1/embeddings batch can hold at most {}.",
                    self.embedding_inputs,
                    LIMITS.max_embedding_inputs
                ),
            ));
        }
        self.errors += out.len() as u64;
        out
    }
}

fn file_error(code: &str, message: String) -> LineError {
    LineError {
        line: None,
        code: String::from(code),
        message,
        param: None,
        custom_id: None,
        rule: None,
    }
}

/// FNV-1a, 128 bits: collisions among even millions of IDs are negligible.
fn hash128(bytes: &[u8]) -> u128 {
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for &b in bytes {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013B);
    }
    h
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Lints one line of a Batch input file. `line_no` is 1-based; `bytes` is the line without its
/// line end (a trailing `\r` is ignored). Blank lines are skipped.
///
/// Checks: the line is a JSON object; `custom_id` is present, a string, and not used by an
/// earlier line; `method` is `POST`; `url` is a Batch endpoint and the same on every line; `body`
/// is an object that passes [`validate::check`] for that endpoint; `body.model` is the same on
/// every line.
///
/// # Example
/// ```
/// use airlock_rules::batch::{lint_line, LintState};
///
/// let mut state = LintState::new();
/// let errors = lint_line(1, b"{\"custom_id\": 1}", &mut state);
/// assert_eq!(errors[0].code, "invalid_type");
/// assert_eq!(errors[0].param.as_deref(), Some("custom_id"));
/// ```
pub fn lint_line(line_no: u64, bytes: &[u8], state: &mut LintState) -> Vec<LineError> {
    state.lines += 1;
    state.bytes += bytes.len() as u64 + 1;
    let mut bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    if line_no == 1 {
        bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Vec::new();
    }
    state.requests += 1;
    let mut out = Vec::new();
    over_limits(line_no, state, &mut out);
    lint_request(line_no, bytes, state, &mut out);
    if !out.is_empty() {
        state.lines_with_errors += 1;
        state.errors += out.len() as u64;
    }
    out
}

/// The file-wide limits, reported at the line that crosses them, so a reader of a stream (the
/// worker's upload linter) can stop there instead of at the end of the file.
fn over_limits(line_no: u64, state: &mut LintState, out: &mut Vec<LineError>) {
    let mut at_line = |code: &str, message: String| {
        out.push(LineError {
            line: Some(line_no),
            ..file_error(code, message)
        });
    };
    if state.requests > LIMITS.max_requests && !state.over_requests {
        state.over_requests = true;
        at_line(
            "too_many_tasks",
            alloc::format!(
                "This is request {}; a batch input file can hold at most {} requests.",
                state.requests,
                LIMITS.max_requests
            ),
        );
    }
    // Without its line end (the last line may have none), so a file of exactly the limit passes.
    if state.bytes - 1 > LIMITS.max_bytes && !state.over_bytes {
        state.over_bytes = true;
        at_line(
            "file_too_large",
            alloc::format!(
                "The file passes {} bytes in this line; the Batch API takes files up to {} MB ({} bytes).",
                LIMITS.max_bytes,
                LIMITS.max_bytes / (1024 * 1024),
                LIMITS.max_bytes
            ),
        );
    }
}

fn lint_request(line_no: u64, bytes: &[u8], state: &mut LintState, out: &mut Vec<LineError>) {
    let mut err = |code: &str, param: Option<&str>, custom_id: Option<&str>, message: String| {
        out.push(LineError {
            line: Some(line_no),
            code: String::from(code),
            message,
            param: param.map(String::from),
            custom_id: custom_id.map(String::from),
            rule: None,
        });
    };
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            err(
                "invalid_json_line",
                None,
                None,
                alloc::format!(
                    "This line is not parseable as valid JSON ({e}). Each line must be one JSON object."
                ),
            );
            return;
        }
    };
    let Some(obj) = value.as_object() else {
        err(
            "invalid_json_line",
            None,
            None,
            alloc::format!(
                "Each line must be a JSON object with custom_id, method, url and body, but this line is {}.",
                type_name(&value)
            ),
        );
        return;
    };

    // custom_id
    let custom_id = match obj.get("custom_id") {
        None | Some(Value::Null) => {
            err(
                "missing_required_parameter",
                Some("custom_id"),
                None,
                String::from("Missing required parameter: 'custom_id'."),
            );
            None
        }
        Some(Value::String(id)) => {
            let h = hash128(id.as_bytes());
            match state.seen.get(&h) {
                Some(&first) => err(
                    "duplicate_custom_id",
                    Some("custom_id"),
                    Some(id),
                    alloc::format!(
                        "The custom_id '{id}' is a duplicate of the one on line {first}; each request in a batch needs a unique custom_id."
                    ),
                ),
                None => {
                    state.seen.insert(h, line_no);
                }
            }
            Some(id.as_str())
        }
        Some(other) => {
            err(
                "invalid_type",
                Some("custom_id"),
                None,
                alloc::format!(
                    "Invalid type for 'custom_id': expected a string, but got {} instead.",
                    type_name(other)
                ),
            );
            None
        }
    };

    // method
    match obj.get("method") {
        None | Some(Value::Null) => err(
            "missing_required_parameter",
            Some("method"),
            custom_id,
            String::from(
                "Missing required parameter: 'method'. Batch requests use \"method\": \"POST\".",
            ),
        ),
        Some(Value::String(m)) if m == "POST" => {}
        Some(Value::String(m)) => err(
            "invalid_method",
            Some("method"),
            custom_id,
            alloc::format!("Invalid value for 'method': '{m}'. Batch requests must use 'POST'."),
        ),
        Some(other) => err(
            "invalid_type",
            Some("method"),
            custom_id,
            alloc::format!(
                "Invalid type for 'method': expected a string, but got {} instead.",
                type_name(other)
            ),
        ),
    }

    // url
    let mut url_ok = None;
    match obj.get("url") {
        None | Some(Value::Null) => err(
            "missing_required_parameter",
            Some("url"),
            custom_id,
            String::from("Missing required parameter: 'url'."),
        ),
        Some(Value::String(u)) => {
            if !ENDPOINTS.contains(&u.as_str()) {
                let hint = ENDPOINTS
                    .iter()
                    .find(|e| e.strip_prefix("/v1") == Some(u.as_str()))
                    .map(|e| alloc::format!(" (did you mean '{e}'?)"))
                    .unwrap_or_default();
                err(
                    "invalid_url",
                    Some("url"),
                    custom_id,
                    alloc::format!(
                        "The url '{u}' is not an endpoint the Batch API runs{hint}. Supported: {}.",
                        ENDPOINTS.join(", ")
                    ),
                );
            } else {
                match &state.endpoint {
                    None => {
                        state.endpoint = Some(u.clone());
                        url_ok = Some(u.as_str());
                    }
                    Some(e) if e == u => url_ok = Some(u.as_str()),
                    Some(e) => {
                        // OpenAI's code and wording for this is `invalid_url` ("The URL provided
                        // for this request does not match the batch endpoint."); Azure OpenAI
                        // calls it `url_mismatch`.
                        let whose = if state.endpoint_given {
                            "the batch endpoint"
                        } else {
                            "the endpoint of the first request, which the batch must be created with"
                        };
                        err(
                            "invalid_url",
                            Some("url"),
                            custom_id,
                            alloc::format!(
                                "The URL provided for this request ('{u}') does not match {whose} ('{e}'); every request in a batch must use the same endpoint."
                            ),
                        );
                    }
                }
            }
        }
        Some(other) => err(
            "invalid_type",
            Some("url"),
            custom_id,
            alloc::format!(
                "Invalid type for 'url': expected a string, but got {} instead.",
                type_name(other)
            ),
        ),
    }

    // body
    let body = match obj.get("body") {
        None | Some(Value::Null) => {
            let others: Vec<&str> = obj
                .keys()
                .map(String::as_str)
                .filter(|k| !matches!(*k, "custom_id" | "method" | "url" | "body"))
                .collect();
            let hint = if others.is_empty() {
                String::new()
            } else {
                alloc::format!(
                    " The line has {} instead; the request parameters go under 'body'.",
                    others
                        .iter()
                        .map(|k| alloc::format!("'{k}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            err(
                "missing_required_parameter",
                Some("body"),
                custom_id,
                alloc::format!("Missing required parameter: 'body'.{hint}"),
            );
            return;
        }
        Some(b @ Value::Object(_)) => b,
        Some(other) => {
            err(
                "invalid_type",
                Some("body"),
                custom_id,
                alloc::format!(
                    "Invalid type for 'body': expected an object, but got {} instead.",
                    type_name(other)
                ),
            );
            return;
        }
    };

    // One model per batch.
    if let Some(model) = body.get("model").and_then(Value::as_str) {
        match &state.model {
            None => state.model = Some((String::from(model), line_no)),
            Some((first, first_line)) if first != model => err(
                "mismatched_model",
                Some("body.model"),
                custom_id,
                alloc::format!(
                    "The model '{model}' differs from '{first}' on line {first_line}; each batch must contain requests for a single model."
                ),
            ),
            Some(_) => {}
        }
    }
    if let Some(input) = body.get("input") {
        if url_ok == Some("/v1/embeddings") {
            state.embedding_inputs += match input {
                Value::Array(items) => items.len() as u64,
                _ => 1,
            };
        }
    }

    // Streaming: OpenAI fails the whole batch at validation (`streaming_unsupported`, param
    // `body.stream`).
    if body.get("stream") == Some(&Value::Bool(true)) {
        let api = match url_ok {
            Some("/v1/chat/completions") => "Chat Completions",
            Some("/v1/completions") => "Completions",
            Some("/v1/responses") => "Responses",
            _ => "This endpoint",
        };
        err(
            "streaming_unsupported",
            Some("body.stream"),
            custom_id,
            alloc::format!(
                "{api}: Streaming is not supported in the Batch API. Remove \"stream\": true from the body."
            ),
        );
    }

    // The body itself, as the endpoint's validators see it.
    let Some(endpoint) = url_ok else { return };
    let body_bytes = match serde_json::to_vec(body) {
        Ok(b) => b,
        Err(_) => return,
    };
    let verdict = validate::check(endpoint, &body_bytes, &state.config);
    for f in verdict.errors {
        // A body without `model` (or a chat body without `messages`) fails the whole batch at
        // validation, in OpenAI's words and with a `body.` param; other body problems come back
        // later as HTTP 400 lines of the error file, as the validators word them.
        let missing = f.error.code.as_deref() == Some("missing_required_parameter")
            || f.rule == "missing_required_parameter";
        let batch_wording = match f.error.param.as_deref() {
            Some("model") if missing => Some(("body.model", "Model parameter is required.")),
            None if missing && f.error.message.contains("model parameter") => {
                Some(("body.model", "Model parameter is required."))
            }
            Some("messages") if missing && endpoint == "/v1/chat/completions" => {
                Some(("body.messages", "Messages parameter is required."))
            }
            _ => None,
        };
        if let Some((param, message)) = batch_wording {
            out.push(LineError {
                line: Some(line_no),
                code: String::from("invalid_request"),
                message: String::from(message),
                param: Some(String::from(param)),
                custom_id: custom_id.map(String::from),
                rule: Some(f.rule),
            });
            continue;
        }
        out.push(LineError {
            line: Some(line_no),
            code: f.error.code.unwrap_or_else(|| f.rule.clone()),
            message: f.error.message,
            param: f.error.param,
            custom_id: custom_id.map(String::from),
            rule: Some(f.rule),
        });
    }
}

/// Lints a Batch input file fed in chunks cut anywhere (an upload as it streams through a
/// proxy): lines are reassembled, each is given to [`lint_line`], and only the current line is
/// held.
///
/// # Example
/// ```
/// use airlock_rules::batch::BatchLinter;
///
/// let mut l = BatchLinter::new();
/// let mut errors = l.push(b"{\"custom_id\": \"a\", \"method\": \"POST\", \"url\": \"/v1/embeddings\", \"bo");
/// errors.extend(l.push(b"dy\": {\"model\": \"text-embedding-3-small\", \"input\": \"x\"}}\nnot json\n"));
/// errors.extend(l.finish());
/// assert_eq!(errors.len(), 1);
/// assert_eq!((errors[0].line, errors[0].code.as_str()), (Some(2), "invalid_json_line"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct BatchLinter {
    state: LintState,
    line: Vec<u8>,
    line_no: u64,
    /// The current line is longer than the file limit: it is counted, not held.
    overlong: Option<u64>,
}

impl BatchLinter {
    /// A linter with the validators' default [`Config`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A linter over a prepared state (a [`Config`], an endpoint given up front).
    pub fn with_state(state: LintState) -> Self {
        BatchLinter {
            state,
            ..Self::default()
        }
    }

    /// The state so far (counts, endpoint, model).
    pub fn state(&self) -> &LintState {
        &self.state
    }

    /// Feeds one chunk; returns the errors of the lines it completed.
    pub fn push(&mut self, mut chunk: &[u8]) -> Vec<LineError> {
        let mut out = Vec::new();
        while !chunk.is_empty() {
            match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.take(&chunk[..i]);
                    chunk = &chunk[i + 1..];
                    self.end_line(true, &mut out);
                }
                None => {
                    self.take(chunk);
                    chunk = &[];
                }
            }
        }
        out
    }

    /// Ends the file: the last line (if it had no line end) and the file-wide checks.
    pub fn finish(&mut self) -> Vec<LineError> {
        let mut out = Vec::new();
        if !self.line.is_empty() || self.overlong.is_some() {
            self.end_line(false, &mut out);
        }
        out.extend(self.state.finish());
        out
    }

    fn take(&mut self, bytes: &[u8]) {
        if let Some(n) = &mut self.overlong {
            *n += bytes.len() as u64;
        } else if (self.line.len() + bytes.len()) as u64 > LIMITS.max_bytes {
            self.overlong = Some((self.line.len() + bytes.len()) as u64);
            self.line = Vec::new();
        } else {
            self.line.extend_from_slice(bytes);
        }
    }

    fn end_line(&mut self, terminated: bool, out: &mut Vec<LineError>) {
        self.line_no += 1;
        if let Some(n) = self.overlong.take() {
            self.state.lines += 1;
            self.state.requests += 1;
            self.state.bytes += n + u64::from(terminated);
            self.state.errors += 1;
            self.state.lines_with_errors += 1;
            self.state.over_bytes = true;
            out.push(LineError {
                line: Some(self.line_no),
                code: String::from("file_too_large"),
                message: alloc::format!(
                    "This line alone is {n} bytes, more than the Batch API's {} MB file limit.",
                    LIMITS.max_bytes / (1024 * 1024)
                ),
                param: None,
                custom_id: None,
                rule: None,
            });
            return;
        }
        out.extend(lint_line(self.line_no, &self.line, &mut self.state));
        if !terminated {
            self.state.last_line_unterminated();
        }
        self.line.clear();
    }
}

/// What a Batch `status` means, and what to do next.
///
/// # Example
/// ```
/// let (meaning, _next) = airlock_rules::batch::status_meaning("expired").unwrap();
/// assert!(meaning.contains("24"));
/// ```
pub fn status_meaning(status: &str) -> Option<(&'static str, &'static str)> {
    Some(match status {
        "validating" => (
            "The input file is being validated before the batch can begin.",
            "Wait; poll the batch. A file with bad lines ends in 'failed' with the problems in 'errors'.",
        ),
        "failed" => (
            "The input file failed validation; no request was run.",
            "Read 'errors.data' (each has a code and, for a line problem, its line number), fix the file (airlock batch lint), upload it again and create a new batch.",
        ),
        "in_progress" => (
            "The input file was validated and the batch is being run.",
            "Wait; request_counts shows progress.",
        ),
        "finalizing" => (
            "The batch has finished running and its results are being prepared.",
            "Wait for 'completed'; then download output_file_id and error_file_id.",
        ),
        "completed" => (
            "The batch has finished and its results are ready. Completed does not mean every request succeeded.",
            "Download output_file_id (successes and HTTP errors) and error_file_id (failed requests); join them with the input by custom_id (airlock batch join).",
        ),
        "expired" => (
            "The batch could not be completed within its 24-hour completion window.",
            "Requests that finished are in the output file; the rest are in the error file with code 'batch_expired'. Resubmit only those, perhaps in smaller batches.",
        ),
        "cancelling" => (
            "The batch is being cancelled (this can take up to 10 minutes).",
            "Wait for 'cancelled'; requests that finished will still be in the output file.",
        ),
        "cancelled" => (
            "The batch was cancelled.",
            "Requests that finished are in the output file; the others were not run (error code 'batch_cancelled').",
        ),
        _ => return None,
    })
}

/// Where OpenAI's own Batch validation codes were seen: failed Batch objects that OpenAI returned,
/// recorded verbatim in llama-stack's integration tests (run against api.openai.com).
const SEEN_LLAMA_STACK: &str = "OpenAI: https://github.com/meta-llama/llama-stack/blob/main/tests/integration/batches/test_batches_errors.py";

/// Batch error codes: what each means and the first fix (`code`, meaning, fix, source).
///
/// The source says whose code it is: `OpenAI: <url>` for a code OpenAI writes in a Batch's
/// `errors.data` or error file (with where it was seen), `Azure OpenAI: <url>` for Azure's
/// variant of the same problem, and `Airlock: …` for a code [`lint_line`] uses where no OpenAI
/// code for the problem is known (the problem itself is real; only its name is ours).
pub const CODES: &[(&str, &str, &str, &str)] = &[
    (
        "invalid_json_line",
        "A line of the input file is not valid JSON.",
        "Write one JSON object per line (no pretty-printing, no trailing commas).",
        SEEN_LLAMA_STACK,
    ),
    (
        "missing_required_parameter",
        "A line lacks custom_id, method, url or body (param names which).",
        "Add the named field; the request parameters go under 'body'.",
        SEEN_LLAMA_STACK,
    ),
    (
        "invalid_url",
        "A line's url is not the batch's endpoint (or not an endpoint the Batch API runs).",
        "Use the same url on every line, equal to the endpoint the batch is created with (e.g. /v1/chat/completions); split the file by endpoint.",
        SEEN_LLAMA_STACK,
    ),
    (
        "model_not_found",
        "The model in body.model does not exist, is not available to the organization, or does not run in the Batch API.",
        "Check the model name and that the project can use it; pick a model the Batch API supports.",
        SEEN_LLAMA_STACK,
    ),
    (
        "invalid_request",
        "A line's body lacks what the endpoint needs (body.model, body.messages), or the input file cannot be read (param file_id).",
        "Add the named body parameter; for file_id, check the file ID and that it belongs to this organization.",
        SEEN_LLAMA_STACK,
    ),
    (
        "streaming_unsupported",
        "A line asks for a streamed response; the Batch API does not stream.",
        "Remove \"stream\": true (and stream_options) from every line's body.",
        SEEN_LLAMA_STACK,
    ),
    (
        "token_limit_exceeded",
        "The batch would exceed the organization's enqueued-token limit for the model (the tokens of all its batches not yet finished).",
        "Wait for in-progress batches to finish (or cancel some), or submit smaller batches one after another; then create the batch again with the same file.",
        "OpenAI: https://github.com/openai/openai-python/issues/2084",
    ),
    (
        "batch_expired",
        "The request was not run before the batch's 24-hour completion window ended.",
        "Resubmit only the expired requests (their custom_ids are in the error file) in a new batch, smaller if the queue is busy.",
        "OpenAI: https://platform.openai.com/docs/guides/batch#batch-expiration",
    ),
    (
        "batch_cancelled",
        "The request was not run because the batch was cancelled.",
        "Resubmit it in a new batch if it is still needed.",
        "OpenAI: https://platform.openai.com/docs/api-reference/batch/object (status cancelled)",
    ),
    (
        "invalid_type",
        "A field of a line has the wrong JSON type (custom_id, method and url are strings, body an object).",
        "Send the type the message names.",
        "OpenAI: its request-validation code for a wrong JSON type (\"Invalid type for 'metadata.tags': expected a string, but got an array instead.\"), seen in the same llama-stack tests",
    ),
    (
        "duplicate_custom_id",
        "Two lines share a custom_id.",
        "Give every request a unique custom_id.",
        "Azure OpenAI: https://learn.microsoft.com/en-us/azure/ai-services/openai/how-to/batch (OpenAI's own code for this not seen; its docs require unique custom_ids)",
    ),
    (
        "url_mismatch",
        "Azure OpenAI's name for invalid_url: a line's url differs from the other lines' or from the batch endpoint.",
        "Use the same url on every line, equal to the batch's endpoint; split the file by endpoint.",
        "Azure OpenAI: https://learn.microsoft.com/en-us/azure/ai-services/openai/how-to/batch",
    ),
    (
        "mismatched_model",
        "The lines name more than one model; a batch runs one model.",
        "Use one model per batch; split the file by model.",
        "Airlock: the name users report for this OpenAI failure; Azure OpenAI calls it model_mismatch",
    ),
    (
        "invalid_method",
        "A line uses an HTTP method other than POST.",
        "Set \"method\": \"POST\" on every line.",
        "Airlock: no OpenAI code seen; the spec's BatchRequestInput.method allows only POST",
    ),
    (
        "empty_file",
        "The input file holds no requests.",
        "Upload a file with at least one request line.",
        "Airlock: no OpenAI code seen",
    ),
    (
        "too_many_tasks",
        "The input file holds more requests than one batch may (50,000).",
        "Split the file into several batches.",
        "Azure OpenAI: https://learn.microsoft.com/en-us/azure/ai-services/openai/how-to/batch (OpenAI's code not seen; the limit is OpenAI's, openai-openapi.yaml CreateBatchRequest.input_file_id)",
    ),
    (
        "too_many_embedding_inputs",
        "An /v1/embeddings batch holds more than 50,000 embedding inputs across its requests.",
        "Split the inputs over several batches.",
        "Airlock: no OpenAI code seen; the limit is OpenAI's, openai-openapi.yaml CreateBatchRequest.input_file_id",
    ),
    (
        "file_too_large",
        "The input file is larger than the Batch API's 200 MB.",
        "Split the file into several batches.",
        "Airlock: no OpenAI code seen for a batch file; the limit is OpenAI's, openai-openapi.yaml CreateBatchRequest.input_file_id",
    ),
];

/// Whose a Batch error code is: `Some(true)` for OpenAI's, `Some(false)` for a name only Airlock
/// (or Azure OpenAI) uses, `None` when the code is not in [`CODES`].
pub fn is_openai_code(code: &str) -> Option<bool> {
    CODES
        .iter()
        .find(|(c, ..)| *c == code)
        .map(|(_, _, _, src)| src.starts_with("OpenAI:"))
}

/// The meaning and first fix of a Batch error code, when known.
pub fn code_meaning(code: &str) -> Option<(&'static str, &'static str)> {
    CODES
        .iter()
        .find(|(c, ..)| *c == code)
        .map(|(_, m, f, _)| (*m, *f))
}

/// One error of a Batch object's `errors.data`, with its meaning.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct BatchErrorItem {
    /// The error's `code`.
    pub code: Option<String>,
    /// The error's `message`.
    pub message: Option<String>,
    /// The error's `param`.
    pub param: Option<String>,
    /// The input file line it refers to.
    pub line: Option<u64>,
    /// What the code means, when known.
    pub meaning: Option<String>,
    /// The first fix, when known.
    pub first_fix: Option<String>,
    /// Whether the same request or file can simply be sent again: `yes` (after waiting, for
    /// limits and expiry), `after_change`, or `no`; `None` when the code is unknown.
    pub retry: Option<String>,
}

/// `request_counts` of a Batch object.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RequestCounts {
    /// Total requests.
    pub total: u64,
    /// Requests that completed.
    pub completed: u64,
    /// Requests that failed.
    pub failed: u64,
}

/// A result line (output or error file), read.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct ResultLine {
    /// The `custom_id`.
    pub custom_id: Option<String>,
    /// `response.status_code`, when there was a response.
    pub status_code: Option<u16>,
    /// True when the request succeeded (a 2xx response and no `error`).
    pub ok: bool,
    /// The error: the top-level `error` (non-HTTP failures like `batch_expired`) or
    /// `response.body.error` (an HTTP error).
    pub error: Option<BatchErrorItem>,
    /// `response.request_id`, when present.
    pub request_id: Option<String>,
}

/// What `airlock batch explain` read.
#[non_exhaustive]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum BatchExplanation {
    /// A Batch object.
    Batch {
        /// The batch ID.
        id: Option<String>,
        /// Its `status`.
        status: Option<String>,
        /// What the status means.
        meaning: Option<String>,
        /// What to do next.
        next_step: Option<String>,
        /// Its `errors.data`.
        errors: Vec<BatchErrorItem>,
        /// Its `request_counts`.
        request_counts: Option<RequestCounts>,
        /// `output_file_id`.
        output_file_id: Option<String>,
        /// `error_file_id`.
        error_file_id: Option<String>,
        /// The endpoint.
        endpoint: Option<String>,
    },
    /// A line of an output or error file.
    Line {
        /// The line, read.
        line: ResultLine,
        /// The diagnosis of its error, when it has one.
        diagnosis: Option<alloc::boxed::Box<crate::Diagnosis>>,
    },
    /// A Batch error object alone (`{code, message, param, line}`).
    Error {
        /// The error with its meaning.
        error: BatchErrorItem,
    },
    /// A list of Batch errors without the Batch around it: a Batch's `errors` field
    /// (`{"object": "list", "data": [...]}`, or the SDK's `Errors(data=[...])`), or a create
    /// call's error body that carries one.
    Errors {
        /// The errors with their meanings.
        errors: Vec<BatchErrorItem>,
    },
}

fn s(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(x) => Some(x.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn error_item(v: &Value) -> BatchErrorItem {
    let code = s(v, "code");
    let message = s(v, "message");
    // The error taxonomy (rules/errors) first; this module's table when it only has a fallback.
    let d = crate::diagnose(&crate::Evidence {
        format: crate::Format::Batch,
        in_batch: true,
        code: code.clone(),
        message: message.clone(),
        ..crate::Evidence::default()
    });
    let known = !matches!(d.rule.as_str(), "unrecognized" | "batch_failed" | "")
        || code.as_deref().and_then(code_meaning).is_some();
    let retry = known.then(|| String::from(d.retry.decision.as_str()));
    let (meaning, first_fix) = match code.as_deref().and_then(code_meaning) {
        Some((m, f)) if matches!(d.rule.as_str(), "unrecognized" | "batch_failed" | "") => {
            (String::from(m), String::from(f))
        }
        _ if !matches!(d.rule.as_str(), "unrecognized" | "batch_failed" | "") => {
            (d.meaning, d.first_fix)
        }
        _ => (String::new(), String::new()),
    };
    BatchErrorItem {
        message,
        param: s(v, "param"),
        line: v.get("line").and_then(Value::as_u64),
        meaning: Some(meaning).filter(|m| !m.is_empty()),
        first_fix: Some(first_fix).filter(|f| !f.is_empty()),
        retry,
        code,
    }
}

/// Reads one output-file or error-file line.
///
/// Returns `None` when the line is not a result line (no JSON object with a `custom_id` and a
/// `response` or `error`).
///
/// # Example
/// ```
/// let line = br#"{"id": "batch_req_1", "custom_id": "r1", "response": null, "error": {"code": "batch_expired", "message": "This request could not be executed before the completion window expired."}}"#;
/// let r = airlock_rules::batch::read_result_line(line).unwrap();
/// assert!(!r.ok);
/// assert_eq!(r.error.unwrap().code.as_deref(), Some("batch_expired"));
/// ```
pub fn read_result_line(bytes: &[u8]) -> Option<ResultLine> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    result_line(&v)
}

fn result_line(v: &Value) -> Option<ResultLine> {
    let obj = v.as_object()?;
    if !obj.contains_key("response") && !obj.contains_key("error") {
        return None;
    }
    let response = v.get("response").filter(|r| r.is_object());
    let status_code = response
        .and_then(|r| r.get("status_code"))
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok());
    let mut error = v.get("error").filter(|e| e.is_object()).map(error_item);
    if error.is_none() {
        if let Some(body_err) = response
            .and_then(|r| r.get("body"))
            .and_then(|b| b.get("error"))
            .filter(|e| e.is_object())
        {
            error = Some(error_item(body_err));
        }
    }
    let ok = error.is_none() && status_code.is_some_and(|c| (200..300).contains(&c));
    if !ok && error.is_none() {
        error = Some(BatchErrorItem {
            message: Some(match status_code {
                Some(c) => alloc::format!("The request ended with HTTP {c}."),
                None => String::from("The line has neither a response nor an error."),
            }),
            ..BatchErrorItem::default()
        });
    }
    Some(ResultLine {
        custom_id: s(v, "custom_id"),
        status_code,
        ok,
        error,
        request_id: response.and_then(|r| s(r, "request_id")),
    })
}

/// Explains a pasted Batch object, output or error-file line, or Batch error object.
///
/// Returns `None` when the text is none of these.
///
/// # Example
/// ```
/// use airlock_rules::batch::{explain_batch, BatchExplanation};
///
/// let text = r#"{"id": "batch_1", "object": "batch", "status": "failed", "errors": {"object": "list", "data": [{"code": "duplicate_custom_id", "message": "dup", "param": null, "line": 3}]}}"#;
/// let Some(BatchExplanation::Batch { errors, .. }) = explain_batch(text) else { panic!() };
/// assert_eq!(errors[0].line, Some(3));
/// ```
pub fn explain_batch(text: &str) -> Option<BatchExplanation> {
    let text = text.trim().trim_start_matches('\u{feff}');
    let mut batch_repr = false;
    let v: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        // The Python SDK's reprs: `Batch(id='batch_…', …, errors=Errors(data=[BatchError(…)]), …)`,
        // or only the errors (`Errors(data=[…])`, `BatchError(code=…)`) as a loop printed them.
        Err(_) => {
            let (at, prefix) = ["Batch(id=", "Errors(data=", "BatchError("]
                .iter()
                .filter_map(|p| text.find(p).map(|at| (at, *p)))
                .min()?;
            batch_repr = prefix == "Batch(id=";
            pyrepr::Reader::new(&text[at..]).value()?
        }
    };
    let obj = v.as_object()?;
    // A bare list of Batch errors, or an error body wrapping one (Azure OpenAI's create call).
    let list = match obj.get("errors") {
        Some(e @ Value::Object(_)) if !obj.contains_key("status") => Some(e),
        _ if obj.contains_key("data") && !obj.contains_key("status") => Some(&v),
        _ => None,
    };
    if let Some(items) = list
        .and_then(|l| l.get("data"))
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty() && a.iter().all(|e| e.get("code").is_some()))
    {
        return Some(BatchExplanation::Errors {
            errors: items.iter().map(error_item).collect(),
        });
    }
    if batch_repr
        || obj.get("object").and_then(Value::as_str) == Some("batch")
        || (obj.contains_key("status") && obj.contains_key("input_file_id"))
    {
        let status = s(&v, "status");
        let known = status.as_deref().and_then(status_meaning);
        let errors: Vec<BatchErrorItem> = v
            .get("errors")
            .and_then(|e| e.get("data"))
            .and_then(Value::as_array)
            .map(|a| a.iter().map(error_item).collect())
            .unwrap_or_default();
        let request_counts = v.get("request_counts").filter(|c| c.is_object()).map(|c| {
            let n = |k| c.get(k).and_then(Value::as_u64).unwrap_or(0);
            RequestCounts {
                total: n("total"),
                completed: n("completed"),
                failed: n("failed"),
            }
        });
        let mut meaning = known.map(|(m, _)| String::from(m));
        let mut next_step = known.map(|(_, n)| String::from(n));
        // "failed" because of the enqueued-token limit: the file itself was fine.
        if status.as_deref() == Some("failed")
            && !errors.is_empty()
            && errors
                .iter()
                .all(|e| e.code.as_deref() == Some("token_limit_exceeded"))
        {
            meaning = Some(String::from(
                "The batch failed before it ran: the model's enqueued-token limit for the organization was reached. The input file itself was not rejected.",
            ));
            next_step = Some(String::from(
                "Wait for in-progress batches to finish (or cancel some), or split the file into smaller batches; then create the batch again with the same input file.",
            ));
        }
        // "completed" with every request failed: there is no output file at all.
        if let Some(c) = request_counts.filter(|c| c.total > 0 && c.failed > 0) {
            if matches!(
                status.as_deref(),
                Some("completed" | "expired" | "cancelled")
            ) {
                let all = c.failed >= c.total;
                meaning = Some(if all {
                    String::from(
                        "The batch has finished, but every request in it failed, so there is no output file; each failure is a line of the error file.",
                    )
                } else {
                    alloc::format!(
                        "{} {} of {} requests failed; their errors are lines of the error file.",
                        meaning.unwrap_or_default(),
                        c.failed,
                        c.total
                    )
                });
                if all {
                    next_step = Some(String::from(
                        "Download error_file_id and explain its lines (airlock batch explain): the same error on every line usually means one mistake in the request body or model; fix it in the input file and create a new batch.",
                    ));
                }
            }
        }
        return Some(BatchExplanation::Batch {
            id: s(&v, "id"),
            meaning,
            next_step,
            status,
            errors,
            request_counts,
            output_file_id: s(&v, "output_file_id"),
            error_file_id: s(&v, "error_file_id"),
            endpoint: s(&v, "endpoint"),
        });
    }
    if obj.contains_key("custom_id") {
        let line = result_line(&v)?;
        let diagnosis = line.error.as_ref().map(|e| {
            let mut ev = crate::Evidence {
                format: crate::Format::Batch,
                in_batch: true,
                status: line.status_code.filter(|c| *c >= 400),
                code: e.code.clone(),
                message: e.message.clone(),
                param: e.param.clone(),
                custom_id: line.custom_id.clone(),
                request_id: line.request_id.clone(),
                ..crate::Evidence::default()
            };
            if let Some(t) = v
                .get("response")
                .and_then(|r| r.get("body"))
                .and_then(|b| b.get("error"))
                .and_then(|e| s(e, "type"))
            {
                ev.error_type = Some(t);
            }
            alloc::boxed::Box::new(crate::diagnose(&ev))
        });
        return Some(BatchExplanation::Line { line, diagnosis });
    }
    if obj.contains_key("code") && obj.contains_key("message") {
        return Some(BatchExplanation::Error {
            error: error_item(&v),
        });
    }
    None
}

/// The final state of one request, after joining the input with the output and error files.
#[non_exhaustive]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum JoinState {
    /// A 2xx response is in the output file.
    Ok {
        /// The HTTP status.
        status_code: Option<u16>,
    },
    /// An error (in either file).
    Failed {
        /// The HTTP status, when there was a response.
        status_code: Option<u16>,
        /// The error code (`batch_expired`, `rate_limit_exceeded`, …).
        code: Option<String>,
        /// The error message.
        message: Option<String>,
    },
    /// Neither file has the request.
    Missing,
}

/// One row of the join: a `custom_id`, its input line, and its final state.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct JoinRow {
    /// The `custom_id`.
    pub custom_id: String,
    /// Its line in the input file (`None` for a result whose `custom_id` is not in the input).
    pub line: Option<u64>,
    /// Its final state.
    #[serde(flatten)]
    pub state: JoinState,
}

/// Joins a Batch's input with its output and error files, one line at a time each.
///
/// # Example
/// ```
/// use airlock_rules::batch::{Join, JoinState};
///
/// let mut j = Join::new();
/// j.input_line(1, br#"{"custom_id": "a"}"#);
/// j.input_line(2, br#"{"custom_id": "b"}"#);
/// j.result_line(br#"{"custom_id": "b", "response": {"status_code": 200, "body": {}}, "error": null}"#);
/// let rows = j.finish();
/// assert_eq!(rows[0].state, JoinState::Missing);
/// assert_eq!(rows[1].state, JoinState::Ok { status_code: Some(200) });
/// ```
#[derive(Clone, Debug, Default)]
pub struct Join {
    inputs: BTreeMap<String, (u64, Option<JoinState>)>,
    extra: BTreeMap<String, JoinState>,
    unreadable: u64,
}

impl Join {
    /// An empty join.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one input line (1-based number). Lines without a string `custom_id` are skipped;
    /// a repeated `custom_id` keeps its first line.
    pub fn input_line(&mut self, line_no: u64, bytes: &[u8]) {
        #[derive(serde::Deserialize)]
        struct Id {
            custom_id: Option<Value>,
        }
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        match serde_json::from_slice::<Id>(bytes) {
            Ok(Id {
                custom_id: Some(Value::String(id)),
            }) => {
                self.inputs.entry(id).or_insert((line_no, None));
            }
            _ => self.unreadable += 1,
        }
    }

    /// Adds one line of the output file or the error file (they have the same shape).
    pub fn result_line(&mut self, bytes: &[u8]) {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let Some(r) = read_result_line(bytes) else {
            self.unreadable += 1;
            return;
        };
        let Some(id) = r.custom_id.clone() else {
            self.unreadable += 1;
            return;
        };
        let state = if r.ok {
            JoinState::Ok {
                status_code: r.status_code,
            }
        } else {
            let e = r.error.unwrap_or_default();
            JoinState::Failed {
                status_code: r.status_code,
                code: e.code,
                message: e.message,
            }
        };
        match self.inputs.get_mut(&id) {
            // A success wins over an error line for the same request.
            Some((_, slot)) => match slot {
                Some(JoinState::Ok { .. }) => {}
                _ => *slot = Some(state),
            },
            None => {
                self.extra.insert(id, state);
            }
        }
    }

    /// Lines of any file that could not be read.
    pub fn unreadable(&self) -> u64 {
        self.unreadable
    }

    /// The rows, in input order, then results whose `custom_id` is not in the input.
    pub fn finish(self) -> Vec<JoinRow> {
        let mut rows: Vec<JoinRow> = self
            .inputs
            .into_iter()
            .map(|(custom_id, (line, state))| JoinRow {
                custom_id,
                line: Some(line),
                state: state.unwrap_or(JoinState::Missing),
            })
            .collect();
        rows.sort_by_key(|r| r.line);
        rows.extend(self.extra.into_iter().map(|(custom_id, state)| JoinRow {
            custom_id,
            line: None,
            state,
        }));
        rows
    }
}

/// A reader for the Python SDK's reprs of its models (`Batch(id='b', errors=Errors(data=[...]))`),
/// turned into JSON values: calls become objects, `None`/`True`/`False` null and booleans.
mod pyrepr {
    use alloc::string::String;
    use alloc::vec::Vec;
    use serde_json::{Map, Value};

    pub(super) struct Reader<'a> {
        s: &'a [u8],
        i: usize,
        depth: usize,
    }

    impl<'a> Reader<'a> {
        pub(super) fn new(s: &'a str) -> Self {
            Reader {
                s: s.as_bytes(),
                i: 0,
                depth: 0,
            }
        }

        fn ws(&mut self) {
            while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
                self.i += 1;
            }
        }

        fn eat(&mut self, b: u8) -> bool {
            self.ws();
            if self.s.get(self.i) == Some(&b) {
                self.i += 1;
                true
            } else {
                false
            }
        }

        fn ident(&mut self) -> Option<&'a str> {
            self.ws();
            let start = self.i;
            while self.i < self.s.len()
                && (self.s[self.i].is_ascii_alphanumeric() || matches!(self.s[self.i], b'_' | b'.'))
            {
                self.i += 1;
            }
            (self.i > start).then(|| core::str::from_utf8(&self.s[start..self.i]).ok())?
        }

        pub(super) fn value(&mut self) -> Option<Value> {
            self.depth += 1;
            if self.depth > 64 {
                return None;
            }
            self.ws();
            let v = match *self.s.get(self.i)? {
                b'\'' | b'"' => Value::String(self.string()?),
                b'[' | b'(' => {
                    let close = if self.s[self.i] == b'[' { b']' } else { b')' };
                    self.i += 1;
                    let mut items = Vec::new();
                    while !self.eat(close) {
                        items.push(self.value()?);
                        if !self.eat(b',') && !self.eat(close) {
                            return None;
                        } else if self.s.get(self.i - 1) == Some(&close) {
                            break;
                        }
                    }
                    Value::Array(items)
                }
                b'{' => {
                    self.i += 1;
                    let mut m = Map::new();
                    while !self.eat(b'}') {
                        let k = match self.value()? {
                            Value::String(k) => k,
                            other => alloc::format!("{other}"),
                        };
                        if !self.eat(b':') {
                            return None;
                        }
                        m.insert(k, self.value()?);
                        if !self.eat(b',') && !self.eat(b'}') {
                            return None;
                        } else if self.s.get(self.i - 1) == Some(&b'}') {
                            break;
                        }
                    }
                    Value::Object(m)
                }
                b'-' | b'0'..=b'9' => {
                    let start = self.i;
                    self.i += 1;
                    while self.i < self.s.len()
                        && (self.s[self.i].is_ascii_digit()
                            || matches!(self.s[self.i], b'.' | b'e' | b'E' | b'-' | b'+'))
                    {
                        self.i += 1;
                    }
                    let t = core::str::from_utf8(&self.s[start..self.i]).ok()?;
                    serde_json::from_str(t).ok()?
                }
                _ => {
                    let name = self.ident()?;
                    match name {
                        "None" => Value::Null,
                        "True" => Value::Bool(true),
                        "False" => Value::Bool(false),
                        _ if self.eat(b'(') => {
                            let mut m = Map::new();
                            while !self.eat(b')') {
                                let k = self.ident()?;
                                if !self.eat(b'=') {
                                    return None;
                                }
                                m.insert(String::from(k), self.value()?);
                                if !self.eat(b',') && !self.eat(b')') {
                                    return None;
                                } else if self.s.get(self.i - 1) == Some(&b')') {
                                    break;
                                }
                            }
                            Value::Object(m)
                        }
                        // An enum repr or a bare name: keep it as text.
                        other => Value::String(String::from(other)),
                    }
                }
            };
            self.depth -= 1;
            Some(v)
        }

        fn string(&mut self) -> Option<String> {
            let q = self.s[self.i];
            self.i += 1;
            let mut out = Vec::new();
            while let Some(&b) = self.s.get(self.i) {
                self.i += 1;
                if b == q {
                    return String::from_utf8(out).ok();
                }
                if b == b'\\' {
                    let e = *self.s.get(self.i)?;
                    self.i += 1;
                    out.push(match e {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        other => other,
                    });
                } else {
                    out.push(b);
                }
            }
            None
        }
    }
}
