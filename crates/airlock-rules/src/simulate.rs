//! Simulate mode: a catalogue of realistic OpenAI failures, the `x-airlock-simulate` header's
//! parser, and the bytes of each failure, so a team can rehearse how its code handles a 429, a
//! quota error, a 503, a stall or a stream cut before production does it for them.
//!
//! Pure data and functions: the worker does the I/O (`crates/airlock-worker/src/simulate.rs`), the
//! CLI prints the catalogue (`airlock simulate --list`). Every body is in OpenAI's shape
//! (pretty-printed with four spaces and a final newline, as api.openai.com sends it) with wording
//! taken from the real bodies the project holds (`tests/cases/`, `rules/errors/`); each entry
//! names its source. Names cover every category of the taxonomy an HTTP answer can carry
//! (`batch_error` is a Batch job's state and `client_side` is raised before anything is sent,
//! so neither can come from the edge).
//!
//! ```
//! use airlock_rules::simulate::{self, Kind};
//!
//! let spec = simulate::parse("rate_limit;after=2;ms=250").unwrap();
//! assert_eq!(spec.failure.name, "rate_limit");
//! assert!(spec.fails(Some(1)) && !spec.fails(Some(2)));
//! let Kind::Response { status, .. } = spec.failure.kind else { unreachable!() };
//! assert_eq!(status, 429);
//! assert!(simulate::headers(&spec, "req_1").iter().any(|(k, v)| *k == "retry-after-ms" && v == "250"));
//! ```

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::Category;

/// The longest `x-airlock-simulate` value read; a longer one is refused.
pub const MAX_HEADER_BYTES: usize = 200;
/// The most attempts `after=k` may fail (the SDKs retry 2 times by default).
pub const MAX_AFTER: u32 = 100;
/// The header `connection` adds to its answer: a header block the official SDKs' HTTP parsers
/// refuse (see [`Kind::Connection`]).
pub const RESET_HEADER: &str = "x-airlock-simulated-reset";
/// [`RESET_HEADER`]'s value: a vertical tab (0x0B) between two words. The Fetch standard allows
/// it in a header value (only NUL, CR and LF are forbidden), so workerd sends it; llhttp (Node)
/// refuses any control byte in a value, and h11 (httpx) refuses any whitespace but space and tab
/// inside one.
pub const RESET_VALUE: &str = "connection\u{b}reset";
/// The most events a simulated stream sends before it fails.
pub const MAX_EVENTS: u32 = 1000;
/// The longest time `ms=T` may name: a stall (`timeout`) or a rate limit's wait, in milliseconds.
pub const MAX_MS: u64 = 300_000;

/// What the client gets instead of the upstream's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An HTTP error response in OpenAI's shape.
    Response {
        /// HTTP status.
        status: u16,
        /// OpenAI's `type`.
        error_type: &'static str,
        /// OpenAI's `param`.
        param: Option<&'static str>,
        /// OpenAI's `code`.
        code: Option<&'static str>,
        /// OpenAI's `message`; `{wait}` is replaced with the wait `ms` names, worded as OpenAI
        /// words it (`20s`, `1.446s`, `6ms`).
        message: &'static str,
        /// Extra headers the real answer carries (`rate_limit*`: the `x-ratelimit-*` family and
        /// the wait).
        rate_limit: Option<RateLimit>,
        /// The body as sent, where the real one is not in the usual layout (Cloudflare's compact
        /// `cf_bad_gateway`); the fields above then only describe it.
        raw: Option<&'static str>,
    },
    /// No response headers for `ms` milliseconds, then what Airlock answers when the upstream
    /// is silent past `UPSTREAM_TIMEOUT_MS` (504 `upstream_timeout`). A client whose timeout is
    /// shorter raises its timeout error first.
    Stall,
    /// A connection failure as the client's HTTP library sees it: Airlock's 502
    /// `upstream_unreachable` (what it answers when the upstream resets), carrying
    /// [`RESET_HEADER`], whose value holds a byte ([`RESET_VALUE`]) that the official SDKs' HTTP
    /// parsers refuse before they hand back a response (Node's llhttp, httpx's h11), so they raise
    /// their connection error (`APIConnectionError`) and retry as for a reset. A worker cannot
    /// reset its client's connection itself: workerd always sends the status line and headers,
    /// and a body that errors after them is not a connection error to the Node SDK (see
    /// `tests/e2e/reset-probe.mjs` for every variant tried). A lenient client (curl) reads the 502.
    Connection,
    /// A `stream: true` answer (`200`, `text/event-stream`) that fails after `events` events.
    Stream(StreamEnd),
}

/// How a simulated stream fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamEnd {
    /// An error event: on Chat Completions `data: {"error": {...}}`, on Responses
    /// `event: error` with `{"type": "error", "code", "message", "param", "sequence_number"}`.
    ErrorEvent,
    /// Responses only: `event: response.failed` with the response's `error`.
    Failed,
    /// The upstream connection drops: what Airlock then appends (its `stream_interrupted` error
    /// event, `StreamWatch::closing_bytes`).
    Cut,
}

/// The rate-limit windows of a simulated 429: requests and tokens, as
/// `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`. The family that was hit resets after
/// the wait; the other one after 15 ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// `x-ratelimit-limit-requests`.
    pub limit_requests: u64,
    /// `x-ratelimit-remaining-requests`.
    pub remaining_requests: u64,
    /// `x-ratelimit-limit-tokens`.
    pub limit_tokens: u64,
    /// `x-ratelimit-remaining-tokens`.
    pub remaining_tokens: u64,
    /// True when the tokens window is the one that was hit (else requests).
    pub tokens_hit: bool,
}

/// One failure of the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The name given in `x-airlock-simulate`.
    pub name: &'static str,
    /// The category Airlock's classifier gives the answer (tested).
    pub category: Category,
    /// What is sent.
    pub kind: Kind,
    /// The default of `ms=T` (a rate limit's wait, a stall's length); `None` when `ms` does not apply.
    pub default_ms: Option<u64>,
    /// One line for `airlock simulate --list`.
    pub summary: &'static str,
    /// Where the status, wording and headers come from.
    pub source: &'static str,
}

const RPM_MESSAGE: &str = "Rate limit reached for gpt-4o-mini in organization org-airlocksimulate on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in {wait}. Visit https://platform.openai.com/account/rate-limits to learn more.";
const TPM_MESSAGE: &str = "Rate limit reached for gpt-4o-mini in organization org-airlocksimulate on tokens per min (TPM): Limit 200000, Used 199640, Requested 1250. Please try again in {wait}. Visit https://platform.openai.com/account/rate-limits to learn more.";
const SERVER_MESSAGE: &str =
    "The server had an error while processing your request. Sorry about that!";

const fn response(
    status: u16,
    error_type: &'static str,
    param: Option<&'static str>,
    code: Option<&'static str>,
    message: &'static str,
) -> Kind {
    Kind::Response {
        status,
        error_type,
        param,
        code,
        message,
        rate_limit: None,
        raw: None,
    }
}

/// Every simulated failure, in the order `--list` prints them.
pub static CATALOGUE: &[Failure] = &[
    Failure {
        name: "rate_limit",
        category: Category::RateLimit,
        kind: Kind::Response {
            status: 429,
            error_type: "requests",
            param: None,
            code: Some("rate_limit_exceeded"),
            message: RPM_MESSAGE,
            rate_limit: Some(RateLimit {
                limit_requests: 500,
                remaining_requests: 0,
                limit_tokens: 200_000,
                remaining_tokens: 199_950,
                tokens_hit: false,
            }),
            raw: None,
        },
        default_ms: Some(1000),
        summary: "429 requests per minute (RPM) hit: x-ratelimit-* headers, retry-after-ms = ms",
        source: "tests/cases/ratelimit.toml (ratelimit-headers-retry-after-seconds, ratelimit-headers-retry-after-ms: wording, x-ratelimit-* and retry-after-ms/retry-after as api.openai.com sends them)",
    },
    Failure {
        name: "rate_limit_tokens",
        category: Category::RateLimit,
        kind: Kind::Response {
            status: 429,
            error_type: "tokens",
            param: None,
            code: Some("rate_limit_exceeded"),
            message: TPM_MESSAGE,
            rate_limit: Some(RateLimit {
                limit_requests: 500,
                remaining_requests: 499,
                limit_tokens: 200_000,
                remaining_tokens: 360,
                tokens_hit: true,
            }),
            raw: None,
        },
        default_ms: Some(1000),
        summary: "429 tokens per minute (TPM) hit: x-ratelimit-* headers, retry-after-ms = ms",
        source: "tests/cases/ratelimit.toml (ratelimit-headers-retry-after-ms) and tests/cases/real_2026_12_05_*.toml (TPM wording)",
    },
    Failure {
        name: "quota",
        category: Category::Quota,
        kind: response(
            429,
            "insufficient_quota",
            None,
            Some("insufficient_quota"),
            "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
        ),
        default_ms: None,
        summary: "429 insufficient_quota: out of credit; Airlock adds x-should-retry: false",
        source: "tests/cases/formats.toml (format-curl-i, a real 429 insufficient_quota)",
    },
    Failure {
        name: "server_error",
        category: Category::ServerError,
        kind: response(500, "server_error", None, None, SERVER_MESSAGE),
        default_ms: None,
        summary: "500 server_error",
        source: "rules/errors/server.toml; OpenAI docs guides/error-codes (500 \"The server had an error while processing your request\")",
    },
    Failure {
        name: "bad_gateway",
        category: Category::ServerError,
        kind: Kind::Response {
            status: 502,
            error_type: "cf_bad_gateway",
            param: None,
            code: None,
            message: "Bad gateway.",
            rate_limit: None,
            raw: Some(
                "{\"error\":{\"code\":502,\"message\":\"Bad gateway.\",\"param\":null,\"type\":\"cf_bad_gateway\"}}",
            ),
        },
        default_ms: None,
        summary: "502 cf_bad_gateway from OpenAI's Cloudflare edge (its compact body, 84 bytes)",
        source: "tests/cases/real_world.toml (a real 502: {\"error\":{\"code\":502,\"message\":\"Bad gateway.\",\"param\":null,\"type\":\"cf_bad_gateway\"}}, Content-Length 84)",
    },
    Failure {
        name: "overloaded",
        category: Category::Overloaded,
        kind: response(
            503,
            "server_error",
            None,
            None,
            "That model is currently overloaded with other requests. You can retry your request, or contact us through our help center at help.openai.com if the error persists.",
        ),
        default_ms: None,
        summary: "503 model overloaded",
        source: "tests/cases/real_world_more.toml (more-sumibi-raw-http-429-overloaded-body: the wording, without its request ID); rules/errors/status.toml (status_503)",
    },
    Failure {
        name: "timeout",
        category: Category::Timeout,
        kind: Kind::Stall,
        default_ms: Some(30_000),
        summary: "no response headers for ms, then Airlock's 504 upstream_timeout; a client timeout under ms raises the SDK's timeout error",
        source: "crates/airlock-worker/src/errors.rs (no_response: what Airlock sends for a silent upstream); rules/errors/status.toml (transport_timeout)",
    },
    Failure {
        name: "connection",
        category: Category::Connection,
        kind: Kind::Connection,
        default_ms: None,
        summary: "a connection failure: the SDKs' HTTP parsers refuse the answer's header block (one control byte) and raise APIConnectionError; a lenient client reads Airlock's 502 upstream_unreachable",
        source: "crates/airlock-worker/src/errors.rs (no_response: what Airlock sends when the upstream resets or cannot be reached); tests/e2e/reset-probe.mjs (what reaches the SDKs for each way a worker can fail a response)",
    },
    Failure {
        name: "context_length",
        category: Category::ContextLength,
        kind: response(
            400,
            "invalid_request_error",
            Some("messages"),
            Some("context_length_exceeded"),
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.",
        ),
        default_ms: None,
        summary: "400 context_length_exceeded",
        source: "rules/errors/request.toml (context_length_exceeded: observed 400 \"This model's maximum context length is 4097 tokens. However, your messages resulted in ...\")",
    },
    Failure {
        name: "content_policy",
        category: Category::ContentPolicy,
        kind: response(
            400,
            "invalid_request_error",
            None,
            Some("invalid_prompt"),
            "Invalid prompt: your prompt was flagged as potentially violating our usage policy. Please try again with a different prompt: https://platform.openai.com/docs/guides/reasoning#advice-on-prompting",
        ),
        default_ms: None,
        summary: "400 invalid_prompt: flagged by the usage policy",
        source: "rules/errors/request.toml (invalid_prompt: observed 400 \"Invalid prompt: your prompt was flagged as potentially violating our usage policy\")",
    },
    Failure {
        name: "invalid_request",
        category: Category::InvalidRequest,
        kind: response(
            400,
            "invalid_request_error",
            Some("temperature"),
            Some("decimal_above_max_value"),
            "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 instead.",
        ),
        default_ms: None,
        summary: "400 invalid_request_error: a parameter out of range",
        source: "tests/requests/invalid/temperature_above.json (a real 400 decimal_above_max_value)",
    },
    Failure {
        name: "authentication",
        category: Category::Authentication,
        kind: response(
            401,
            "invalid_request_error",
            None,
            Some("invalid_api_key"),
            "Incorrect API key provided: sk-proj-********************************************simu. You can find your API key at https://platform.openai.com/account/api-keys.",
        ),
        default_ms: None,
        summary: "401 invalid_api_key (a fixed masked key, never yours)",
        source: "tests/cases/codes.toml (code-invalid-api-key-json)",
    },
    Failure {
        name: "permission",
        category: Category::Permission,
        kind: response(
            403,
            "request_forbidden",
            None,
            Some("unsupported_country_region_territory"),
            "Country, region, or territory not supported",
        ),
        default_ms: None,
        summary: "403 unsupported_country_region_territory",
        source: "rules/errors/access.toml (unsupported_country_region_territory)",
    },
    Failure {
        name: "not_found",
        category: Category::NotFound,
        kind: response(
            404,
            "invalid_request_error",
            None,
            Some("model_not_found"),
            "The model `gpt-4o-simulated` does not exist or you do not have access to it.",
        ),
        default_ms: None,
        summary: "404 model_not_found (model name fixed: the body is not read)",
        source: "rules/errors/request.toml (model_not_found: observed 404 \"The model `gpt-4` does not exist or you do not have access to it.\")",
    },
    Failure {
        name: "conflict",
        category: Category::Conflict,
        kind: response(
            409,
            "invalid_request_error",
            None,
            None,
            "The operation could not be completed because of a conflicting concurrent update. Please try again.",
        ),
        default_ms: None,
        summary: "409 conflict (the SDKs retry it)",
        source: "rules/errors/status.toml (status_409: openai-python and openai-node retry 409)",
    },
    Failure {
        name: "unprocessable",
        category: Category::Unprocessable,
        kind: response(
            422,
            "invalid_request_error",
            None,
            None,
            "Unprocessable Entity",
        ),
        default_ms: None,
        summary: "422 Unprocessable Entity",
        source: "rules/errors/status.toml (status_422); rules/errors/request.toml (reason phrase)",
    },
    Failure {
        name: "stream_error",
        category: Category::ServerError,
        kind: Kind::Stream(StreamEnd::ErrorEvent),
        default_ms: None,
        summary: "stream: `events` events, then an error event (Chat: data {\"error\"}; Responses: event: error)",
        source: "openai-python _streaming.py and openai-node core/streaming (a data object with `error` raises APIError); OpenAI API reference, Responses streaming `error` event",
    },
    Failure {
        name: "stream_failed",
        category: Category::ServerError,
        kind: Kind::Stream(StreamEnd::Failed),
        default_ms: None,
        summary: "Responses stream: `events` events, then response.failed with error server_error",
        source: "OpenAI API reference, Responses streaming `response.failed` event",
    },
    Failure {
        name: "stream_cut",
        category: Category::StreamError,
        kind: Kind::Stream(StreamEnd::Cut),
        default_ms: None,
        summary: "stream: `events` events, then the upstream drops; Airlock appends its stream_interrupted error",
        source: "crates/airlock-rules/src/sse.rs (StreamWatch::closing_bytes: what Airlock sends when the upstream drops mid-stream)",
    },
];

/// The failure named `name`.
pub fn find(name: &str) -> Option<&'static Failure> {
    CATALOGUE.iter().find(|f| f.name == name)
}

/// A parsed `x-airlock-simulate` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    /// The failure to send.
    pub failure: &'static Failure,
    /// `after=k`: fail the first k attempts of the request, then pass through. `None`: always fail.
    pub after: Option<u32>,
    /// `events=N` (streams): events sent before the failure. Default 3.
    pub events: u32,
    /// `ms=T`: the wait of a rate limit, the length of a stall.
    pub ms: u64,
}

/// Events a simulated stream sends before failing when `events` is not given.
pub const DEFAULT_EVENTS: u32 = 3;

impl Spec {
    /// True when attempt `retry_count` (the SDKs' `x-stainless-retry-count`: 0 for the first
    /// attempt, 1 for the first retry; `None` when the client does not send it, read as 0) gets
    /// the failure; false when it passes through.
    pub fn fails(&self, retry_count: Option<u32>) -> bool {
        self.after.is_none_or(|k| retry_count.unwrap_or(0) < k)
    }
}

/// Why an `x-airlock-simulate` value was refused (answered 400).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// Longer than [`MAX_HEADER_BYTES`].
    TooLong(usize),
    /// No failure of that name.
    UnknownName(String),
    /// A parameter the syntax does not have.
    UnknownParam(String),
    /// A parameter given twice.
    Duplicate(&'static str),
    /// A value that is not a whole number or is over its bound.
    BadValue {
        /// `after`, `events` or `ms`.
        param: &'static str,
        /// The value as sent (cut at 32 characters).
        value: String,
        /// The largest accepted.
        max: u64,
    },
    /// A parameter the failure does not use (`events` on a non-stream failure, `ms` where nothing waits).
    NotApplicable {
        /// The parameter.
        param: &'static str,
        /// The failure.
        name: &'static str,
    },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::TooLong(n) => write!(
                f,
                "x-airlock-simulate is {n} bytes long; at most {MAX_HEADER_BYTES} are read"
            ),
            ParseError::UnknownName(name) => {
                write!(f, "unknown simulate name '{name}'; known names: ")?;
                for (i, failure) in CATALOGUE.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(failure.name)?;
                }
                Ok(())
            }
            ParseError::UnknownParam(p) => write!(
                f,
                "unknown simulate parameter '{p}'; the syntax is name;after=k;events=N;ms=T"
            ),
            ParseError::Duplicate(p) => write!(f, "simulate parameter '{p}' given twice"),
            ParseError::BadValue { param, value, max } => write!(
                f,
                "invalid value for simulate parameter '{param}': '{value}'; expected a whole number from 0 to {max}"
            ),
            ParseError::NotApplicable { param, name } => {
                write!(f, "simulate parameter '{param}' does not apply to '{name}'")
            }
        }
    }
}

fn cut(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

/// Parses an `x-airlock-simulate` value: `name[;after=k][;events=N][;ms=T]`, spaces around the
/// parts allowed, parameters in any order.
///
/// # Errors
/// [`ParseError`] for a value over [`MAX_HEADER_BYTES`], an unknown name or parameter, a
/// parameter given twice, a value that is not a whole number within its bound ([`MAX_AFTER`],
/// [`MAX_EVENTS`], [`MAX_MS`]), or a parameter the failure does not use.
pub fn parse(value: &str) -> Result<Spec, ParseError> {
    if value.len() > MAX_HEADER_BYTES {
        return Err(ParseError::TooLong(value.len()));
    }
    let mut parts = value.split(';').map(str::trim);
    let name = parts.next().unwrap_or("");
    let failure = find(name).ok_or_else(|| ParseError::UnknownName(cut(name, 64)))?;
    let (mut after, mut events, mut ms) = (None, None, None);
    for part in parts {
        if part.is_empty() {
            continue;
        }
        let (key, raw) = part.split_once('=').unwrap_or((part, ""));
        let (key, raw) = (key.trim(), raw.trim());
        let (param, slot, max): (&'static str, &mut Option<u64>, u64) = match key {
            "after" => ("after", &mut after, u64::from(MAX_AFTER)),
            "events" => ("events", &mut events, u64::from(MAX_EVENTS)),
            "ms" => ("ms", &mut ms, MAX_MS),
            other => return Err(ParseError::UnknownParam(cut(other, 32))),
        };
        if slot.is_some() {
            return Err(ParseError::Duplicate(param));
        }
        let number = (!raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()))
            .then(|| raw.parse::<u64>().ok())
            .flatten()
            .filter(|n| *n <= max);
        *slot = Some(number.ok_or_else(|| ParseError::BadValue {
            param,
            value: cut(raw, 32),
            max,
        })?);
    }
    let streaming = matches!(failure.kind, Kind::Stream(_));
    if events.is_some() && !streaming {
        return Err(ParseError::NotApplicable {
            param: "events",
            name: failure.name,
        });
    }
    if ms.is_some() && failure.default_ms.is_none() {
        return Err(ParseError::NotApplicable {
            param: "ms",
            name: failure.name,
        });
    }
    Ok(Spec {
        failure,
        after: after.and_then(|k| u32::try_from(k).ok()),
        events: events
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(DEFAULT_EVENTS),
        ms: ms.or(failure.default_ms).unwrap_or(0),
    })
}

/// A wait worded as OpenAI words it in rate-limit messages and `x-ratelimit-reset-*`: `6ms`,
/// `1.446s`, `20s`, `6m0s`.
pub fn duration_text(ms: u64) -> String {
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let minutes = ms / 60_000;
    let rest = ms % 60_000;
    let seconds = if rest % 1000 == 0 {
        format!("{}s", rest / 1000)
    } else {
        let text = format!("{}.{:03}", rest / 1000, rest % 1000);
        format!("{}s", text.trim_end_matches('0'))
    };
    if minutes > 0 {
        format!("{minutes}m{seconds}")
    } else {
        seconds
    }
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| String::from("\"\""))
}

fn json_opt(text: Option<&str>) -> String {
    text.map_or_else(|| String::from("null"), json_string)
}

/// The body of a [`Kind::Response`] failure, byte for byte as api.openai.com sends an error:
/// four-space indents, `param` and `code` as `null` when absent, a final newline. Empty for
/// other kinds.
pub fn body(spec: &Spec) -> Vec<u8> {
    let Kind::Response {
        error_type,
        param,
        code,
        message,
        raw,
        ..
    } = spec.failure.kind
    else {
        return Vec::new();
    };
    if let Some(raw) = raw {
        return raw.as_bytes().to_vec();
    }
    let message = message.replace("{wait}", &duration_text(spec.ms));
    format!(
        "{{\n    \"error\": {{\n        \"message\": {},\n        \"type\": {},\n        \"param\": {},\n        \"code\": {}\n    }}\n}}\n",
        json_string(&message),
        json_string(error_type),
        json_opt(param),
        json_opt(code),
    )
    .into_bytes()
}

/// The headers a [`Kind::Response`] failure carries as api.openai.com sends them (before
/// Airlock labels it as it labels every upstream error): `content-type`, `x-request-id`
/// (`request_id`), `openai-processing-ms`, and for rate limits the `x-ratelimit-*` family,
/// `retry-after-ms` and `retry-after`. Stream failures get `text/event-stream`.
pub fn headers(spec: &Spec, request_id: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    match spec.failure.kind {
        Kind::Stream(_) => {
            out.push((
                "content-type",
                String::from("text/event-stream; charset=utf-8"),
            ));
        }
        // Cloudflare's own JSON (`cf_bad_gateway`) comes without a charset.
        Kind::Response { raw: Some(_), .. } => {
            out.push(("content-type", String::from("application/json")));
        }
        _ => out.push((
            "content-type",
            String::from("application/json; charset=utf-8"),
        )),
    }
    out.push(("x-request-id", request_id.to_string()));
    out.push(("openai-processing-ms", String::from("12")));
    if let Kind::Response {
        rate_limit: Some(r),
        ..
    } = spec.failure.kind
    {
        let wait = duration_text(spec.ms);
        let other = String::from("15ms");
        let (reset_requests, reset_tokens) = if r.tokens_hit {
            (other, wait)
        } else {
            (wait, other)
        };
        out.push(("x-ratelimit-limit-requests", r.limit_requests.to_string()));
        out.push(("x-ratelimit-limit-tokens", r.limit_tokens.to_string()));
        out.push((
            "x-ratelimit-remaining-requests",
            r.remaining_requests.to_string(),
        ));
        out.push((
            "x-ratelimit-remaining-tokens",
            r.remaining_tokens.to_string(),
        ));
        out.push(("x-ratelimit-reset-requests", reset_requests));
        out.push(("x-ratelimit-reset-tokens", reset_tokens));
        out.push(("retry-after-ms", spec.ms.to_string()));
        out.push(("retry-after", spec.ms.div_ceil(1000).to_string()));
    }
    out
}

/// Which API a simulated stream speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamApi {
    /// `/v1/chat/completions`: `chat.completion.chunk` objects, `data:` lines only.
    Chat,
    /// `/v1/responses`: named events with `sequence_number`.
    Responses,
}

impl StreamApi {
    /// The API of a request path, when it streams.
    pub fn for_path(path: &str) -> Option<StreamApi> {
        let path = path.trim_end_matches('/');
        if path.ends_with("/chat/completions") {
            Some(StreamApi::Chat)
        } else if path.ends_with("/responses") {
            Some(StreamApi::Responses)
        } else {
            None
        }
    }
}

/// Why a stream failure cannot be sent on a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamRefusal {
    /// The path does not stream (not Chat Completions or Responses).
    NotStreamingPath,
    /// `stream_failed` on Chat Completions, which has no `response.failed`.
    ResponsesOnly,
}

impl fmt::Display for StreamRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StreamRefusal::NotStreamingPath => {
                "stream_* simulate names apply to /v1/chat/completions and /v1/responses only"
            }
            StreamRefusal::ResponsesOnly => {
                "stream_failed applies to /v1/responses only: Chat Completions has no response.failed event"
            }
        })
    }
}

const WORDS: [&str; 4] = ["Rehearsing ", "a failure ", "with ", "Airlock. "];

/// The whole body of a simulated stream on `api`: `spec.events` events of a normal answer, then
/// the failure. `now_s` is the `created` timestamp (the clock is an argument); `cut_message` is
/// the message Airlock's `stream_interrupted` error carries when the failure is a cut.
///
/// # Errors
/// [`StreamRefusal`] for a failure that is not a stream, or `stream_failed` on Chat Completions.
pub fn stream_body(
    spec: &Spec,
    api: StreamApi,
    id: &str,
    now_s: u64,
    cut_message: &str,
) -> Result<Vec<u8>, StreamRefusal> {
    let Kind::Stream(end) = spec.failure.kind else {
        return Err(StreamRefusal::NotStreamingPath);
    };
    if end == StreamEnd::Failed && api == StreamApi::Chat {
        return Err(StreamRefusal::ResponsesOnly);
    }
    let mut out = String::new();
    let model = "airlock-simulate";
    let response_object = |status: &str, error: &str| {
        format!(
            "{{\"id\":\"resp_{id}\",\"object\":\"response\",\"created_at\":{now_s},\"status\":\"{status}\",\"error\":{error},\"incomplete_details\":null,\"model\":\"{model}\",\"output\":[]}}"
        )
    };
    for i in 0..spec.events {
        match api {
            StreamApi::Chat => {
                let delta = if i == 0 {
                    String::from("{\"role\":\"assistant\",\"content\":\"\"}")
                } else {
                    format!(
                        "{{\"content\":{}}}",
                        json_string(WORDS[i as usize % WORDS.len()])
                    )
                };
                out.push_str(&format!(
                    "data: {{\"id\":\"chatcmpl-{id}\",\"object\":\"chat.completion.chunk\",\"created\":{now_s},\"model\":\"{model}\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"logprobs\":null,\"finish_reason\":null}}]}}\n\n"
                ));
            }
            StreamApi::Responses => {
                let (name, data) = match i {
                    0 => (
                        "response.created",
                        format!(
                            "{{\"type\":\"response.created\",\"sequence_number\":0,\"response\":{}}}",
                            response_object("in_progress", "null")
                        ),
                    ),
                    1 => (
                        "response.in_progress",
                        format!(
                            "{{\"type\":\"response.in_progress\",\"sequence_number\":1,\"response\":{}}}",
                            response_object("in_progress", "null")
                        ),
                    ),
                    _ => (
                        "response.output_text.delta",
                        format!(
                            "{{\"type\":\"response.output_text.delta\",\"sequence_number\":{i},\"item_id\":\"msg_{id}\",\"output_index\":0,\"content_index\":0,\"delta\":{}}}",
                            json_string(WORDS[i as usize % WORDS.len()])
                        ),
                    ),
                };
                out.push_str(&format!("event: {name}\ndata: {data}\n\n"));
            }
        }
    }
    let seq = spec.events;
    match (end, api) {
        (StreamEnd::ErrorEvent, StreamApi::Chat) => out.push_str(&format!(
            "data: {{\"error\":{{\"message\":{},\"type\":\"server_error\",\"param\":null,\"code\":null}}}}\n\n",
            json_string(SERVER_MESSAGE)
        )),
        (StreamEnd::ErrorEvent, StreamApi::Responses) => out.push_str(&format!(
            "event: error\ndata: {{\"type\":\"error\",\"code\":\"server_error\",\"message\":{},\"param\":null,\"sequence_number\":{seq}}}\n\n",
            json_string(SERVER_MESSAGE)
        )),
        (StreamEnd::Failed, _) => {
            let error = format!(
                "{{\"code\":\"server_error\",\"message\":{}}}",
                json_string(SERVER_MESSAGE)
            );
            out.push_str(&format!(
                "event: response.failed\ndata: {{\"type\":\"response.failed\",\"sequence_number\":{seq},\"response\":{}}}\n\n",
                response_object("failed", &error)
            ));
        }
        (StreamEnd::Cut, _) => {
            let mut watch = crate::sse::StreamWatch::new();
            watch.push(out.as_bytes());
            let mut bytes = out.into_bytes();
            bytes.extend_from_slice(&watch.closing_bytes(cut_message));
            return Ok(bytes);
        }
    }
    Ok(out.into_bytes())
}

/// What the official SDKs do with a failure, for `airlock simulate --list`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ClientSees {
    /// The status the client gets (`None`: none, the client gives up first, or a 200 stream).
    pub status: Option<u16>,
    /// The Python SDK's exception, from the taxonomy (`None`: it raises nothing).
    pub python: Option<String>,
    /// The Node SDK's exception.
    pub node: Option<String>,
    /// Whether the SDKs retry it by themselves (statuses 408, 409, 429 and 5xx, connection
    /// errors and timeouts, unless `x-should-retry: false` says otherwise; never a stream that
    /// already began).
    pub retried: bool,
}

/// What the SDKs do with `failure`: the exception the taxonomy names for the answer the worker
/// sends (its status record, or the no-response record for a stall that outlasts the client's
/// timeout), and whether they retry it.
pub fn client_sees(failure: &'static Failure) -> ClientSees {
    let from = |d: crate::Diagnosis, status: Option<u16>| ClientSees {
        status,
        retried: d.retry.decision == crate::RetryDecision::Yes,
        python: d.sdk.python,
        node: d.sdk.node,
    };
    match failure.kind {
        Kind::Response { status, .. } => {
            let spec = Spec {
                failure,
                after: None,
                events: DEFAULT_EVENTS,
                ms: failure.default_ms.unwrap_or(0),
            };
            let h = headers(&spec, "req_simulate");
            let refs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
            from(
                crate::diagnose_response(status, &refs, &body(&spec)),
                Some(status),
            )
        }
        Kind::Stall => from(
            crate::diagnose_no_response(crate::NoResponse::Timeout),
            None,
        ),
        // The SDKs never get a status: their HTTP parser refuses the header block.
        Kind::Connection => from(
            crate::diagnose_no_response(crate::NoResponse::Connection),
            None,
        ),
        // A stream error is raised as the base `APIError` (a data object with `error`: both
        // SDKs' streaming code). Responses' own `error` and `response.failed` events are
        // yielded as events, not raised.
        Kind::Stream(StreamEnd::Failed) => ClientSees {
            status: Some(200),
            python: None,
            node: None,
            retried: false,
        },
        Kind::Stream(_) => ClientSees {
            status: Some(200),
            python: Some(String::from("openai.APIError")),
            node: Some(String::from("APIError")),
            retried: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{diagnose_response, explain};

    #[test]
    fn names_are_unique_and_cover_every_http_category() {
        for (i, f) in CATALOGUE.iter().enumerate() {
            assert!(
                CATALOGUE.iter().skip(i + 1).all(|g| g.name != f.name),
                "{}",
                f.name
            );
            assert!(!f.source.is_empty() && !f.summary.is_empty());
        }
        for c in Category::ALL {
            if matches!(c, Category::BatchError | Category::ClientSide) {
                continue;
            }
            assert!(
                CATALOGUE.iter().any(|f| f.category == c),
                "no simulate name for {c}"
            );
        }
    }

    /// Each response failure, read back by the classifier from its own bytes, is the category
    /// the catalogue claims; rate limits decode their wait from the headers.
    #[test]
    fn each_response_is_classified_as_claimed() {
        for f in CATALOGUE {
            let Kind::Response { status, .. } = f.kind else {
                continue;
            };
            let spec = parse(f.name).unwrap();
            let h = headers(&spec, "req_0123456789abcdef0123456789abcdef");
            let refs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let d = diagnose_response(status, &refs, &body(&spec));
            assert_eq!(d.category, f.category, "{}", f.name);
            assert_eq!(d.status, Some(status));
            if f.category == Category::RateLimit {
                assert_eq!(d.retry.after_ms, Some(1000), "{}", f.name);
            }
        }
    }

    #[test]
    fn bodies_are_openai_shaped_byte_for_byte() {
        let spec = parse("quota").unwrap();
        let text = String::from_utf8(body(&spec)).unwrap();
        assert_eq!(
            text,
            "{\n    \"error\": {\n        \"message\": \"You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.\",\n        \"type\": \"insufficient_quota\",\n        \"param\": null,\n        \"code\": \"insufficient_quota\"\n    }\n}\n"
        );
        let spec = parse("rate_limit; ms=1446").unwrap();
        let text = String::from_utf8(body(&spec)).unwrap();
        assert!(text.contains("Please try again in 1.446s."), "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["error"]["code"], "rate_limit_exceeded");
        assert_eq!(v["error"]["type"], "requests");
    }

    #[test]
    fn durations_are_worded_like_openai() {
        assert_eq!(duration_text(6), "6ms");
        assert_eq!(duration_text(1000), "1s");
        assert_eq!(duration_text(1446), "1.446s");
        assert_eq!(duration_text(1500), "1.5s");
        assert_eq!(duration_text(20_000), "20s");
        assert_eq!(duration_text(360_000), "6m0s");
        // The rules' own decoder reads them back.
        for ms in [6, 1446, 20_000, 360_000] {
            let spec = Spec {
                ms,
                ..parse("rate_limit").unwrap()
            };
            let h = headers(&spec, "r");
            let windows =
                crate::ratelimit::decode_headers(h.iter().map(|(k, v)| (*k, v.as_str()))).unwrap();
            assert_eq!(windows.requests.unwrap().reset_ms, Some(ms));
        }
    }

    #[test]
    fn parser_and_its_bounds() {
        let s = parse("rate_limit;after=3").unwrap();
        assert_eq!((s.after, s.ms), (Some(3), 1000));
        let s = parse(" stream_cut ; events=0 ;after=1 ").unwrap();
        assert_eq!(
            (s.failure.name, s.events, s.after),
            ("stream_cut", 0, Some(1))
        );
        assert_eq!(parse("stream_error").unwrap().events, DEFAULT_EVENTS);
        assert_eq!(parse("timeout").unwrap().ms, 30_000);
        assert_eq!(parse("quota;").unwrap().after, None);
        // At the bounds: accepted; one past: refused, naming the bound.
        assert!(parse(&format!("rate_limit;after={MAX_AFTER}")).is_ok());
        assert!(parse(&format!("stream_cut;events={MAX_EVENTS}")).is_ok());
        assert!(parse(&format!("timeout;ms={MAX_MS}")).is_ok());
        for (value, param, max) in [
            (format!("rate_limit;after={}", MAX_AFTER + 1), "after", 100),
            (
                format!("stream_cut;events={}", MAX_EVENTS + 1),
                "events",
                1000,
            ),
            (format!("timeout;ms={}", MAX_MS + 1), "ms", MAX_MS),
            (String::from("timeout;ms=-1"), "ms", MAX_MS),
            (String::from("timeout;ms=1e3"), "ms", MAX_MS),
            (String::from("timeout;ms="), "ms", MAX_MS),
            (
                String::from("timeout;ms=99999999999999999999999"),
                "ms",
                MAX_MS,
            ),
            (String::from("quota;after=+1"), "after", 100),
        ] {
            match parse(&value) {
                Err(ParseError::BadValue {
                    param: p, max: m, ..
                }) => {
                    assert_eq!((p, m), (param, max), "{value}")
                }
                other => panic!("{value}: {other:?}"),
            }
        }
        let long = format!("quota;{}", " ".repeat(MAX_HEADER_BYTES));
        assert_eq!(parse(&long), Err(ParseError::TooLong(long.len())));
        assert!(parse(&" ".repeat(MAX_HEADER_BYTES)).is_err());
        assert!(matches!(parse("nope"), Err(ParseError::UnknownName(_))));
        assert!(matches!(parse(""), Err(ParseError::UnknownName(_))));
        assert!(matches!(
            parse("quota;x=1"),
            Err(ParseError::UnknownParam(_))
        ));
        assert_eq!(
            parse("quota;after=1;after=2"),
            Err(ParseError::Duplicate("after"))
        );
        assert_eq!(
            parse("quota;events=2"),
            Err(ParseError::NotApplicable {
                param: "events",
                name: "quota"
            })
        );
        assert!(matches!(
            parse("server_error;ms=5"),
            Err(ParseError::NotApplicable { param: "ms", .. })
        ));
        let message = parse("nope").unwrap_err().to_string();
        assert!(
            message.contains("rate_limit, rate_limit_tokens, quota"),
            "{message}"
        );
    }

    #[test]
    fn what_the_sdks_raise() {
        let sees = |name: &str| client_sees(find(name).unwrap());
        let r = sees("rate_limit");
        assert_eq!(
            (r.python.as_deref(), r.retried),
            (Some("openai.RateLimitError"), true)
        );
        let q = sees("quota");
        assert_eq!(
            (q.python.as_deref(), q.retried),
            (Some("openai.RateLimitError"), false)
        );
        assert_eq!(
            sees("timeout").python.as_deref(),
            Some("openai.APITimeoutError")
        );
        let c = sees("connection");
        assert_eq!(
            (c.python.as_deref(), c.node.as_deref(), c.status, c.retried),
            (
                Some("openai.APIConnectionError"),
                Some("APIConnectionError"),
                None,
                true
            )
        );
        // The byte the SDKs' parsers refuse is one the Fetch standard lets a worker send: not
        // NUL, CR or LF, not at either end (those are trimmed), and not space or tab.
        assert!(RESET_VALUE.contains('\u{b}'));
        assert!(
            !RESET_VALUE.contains(['\0', '\r', '\n'])
                && RESET_VALUE.trim_matches([' ', '\t', '\u{b}']) == RESET_VALUE
        );
        assert_eq!(sees("not_found").node.as_deref(), Some("NotFoundError"));
        assert_eq!(
            sees("permission").python.as_deref(),
            Some("openai.PermissionDeniedError")
        );
        assert!(sees("conflict").retried && !sees("context_length").retried);
    }

    #[test]
    fn after_counts_attempts() {
        let s = parse("server_error;after=2").unwrap();
        assert!(s.fails(None) && s.fails(Some(0)) && s.fails(Some(1)));
        assert!(!s.fails(Some(2)) && !s.fails(Some(7)));
        assert!(!parse("server_error;after=0").unwrap().fails(Some(0)));
        assert!(parse("server_error").unwrap().fails(Some(u32::MAX)));
    }

    #[test]
    fn streams_fail_as_named() {
        let chat = |name: &str| {
            let s = parse(name).unwrap();
            String::from_utf8(
                stream_body(&s, StreamApi::Chat, "sim1", 1_700_000_000, "cut").unwrap(),
            )
            .unwrap()
        };
        let text = chat("stream_error;events=2");
        assert_eq!(text.matches("chat.completion.chunk").count(), 2);
        assert!(text.ends_with("\"code\":null}}\n\n"), "{text}");
        let d = explain(&text).diagnosis.unwrap();
        assert_eq!(d.category, Category::ServerError);
        // A cut gets Airlock's closing error, which the rules read as a cut stream.
        let text = chat("stream_cut;events=4");
        assert!(text.contains("\"code\":\"stream_interrupted\""), "{text}");
        let s = parse("stream_failed;events=5").unwrap();
        assert_eq!(
            stream_body(&s, StreamApi::Chat, "x", 0, "cut"),
            Err(StreamRefusal::ResponsesOnly)
        );
        let text = String::from_utf8(stream_body(&s, StreamApi::Responses, "x", 0, "cut").unwrap())
            .unwrap();
        assert_eq!(text.matches("\n\n").count(), 6);
        assert!(text.contains(
            "event: response.failed\ndata: {\"type\":\"response.failed\",\"sequence_number\":5,"
        ));
        let mut watch = crate::sse::StreamWatch::new();
        watch.push(text.as_bytes());
        assert_eq!(watch.finish().as_str(), "failed");
        let s = parse("stream_error;events=0").unwrap();
        let text = String::from_utf8(stream_body(&s, StreamApi::Responses, "x", 0, "cut").unwrap())
            .unwrap();
        assert!(
            text.starts_with("event: error\ndata: {\"type\":\"error\",\"code\":\"server_error\"")
        );
        assert_eq!(
            StreamApi::for_path("/v1/responses"),
            Some(StreamApi::Responses)
        );
        assert_eq!(
            StreamApi::for_path("/v1/chat/completions/"),
            Some(StreamApi::Chat)
        );
        assert_eq!(StreamApi::for_path("/v1/embeddings"), None);
    }
}
