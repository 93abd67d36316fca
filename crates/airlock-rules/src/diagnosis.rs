//! The diagnosis of one error: plain data, serializable, no I/O.

use alloc::string::String;
use alloc::vec::Vec;

use crate::{Category, Format, RateLimitHeaders, RateLimitInfo, RetryDecision};

/// The exception class names the official SDKs raise for an error.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SdkNames {
    /// The Python SDK (v1+) class, e.g. `openai.RateLimitError`.
    pub python: Option<String>,
    /// The Node SDK class, e.g. `RateLimitError`.
    pub node: Option<String>,
    /// The legacy v0 Python class, e.g. `openai.error.RateLimitError`.
    pub python_v0: Option<String>,
}

/// Whether to retry, and after how long when known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RetryAdvice {
    /// Retry, don't, or only after changing the request.
    pub decision: RetryDecision,
    /// How long to wait before retrying, in milliseconds, when the error says (headers or message).
    pub after_ms: Option<u64>,
}

/// Everything Airlock can say about one error.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Diagnosis {
    /// The one category this error falls in.
    pub category: Category,
    /// HTTP status, stated or inferred from the code, type or wording.
    pub status: Option<u16>,
    /// OpenAI's error `code`.
    pub code: Option<String>,
    /// OpenAI's error `type`.
    #[serde(rename = "type")]
    pub error_type: Option<String>,
    /// OpenAI's error `param`.
    pub param: Option<String>,
    /// The error message as sent.
    pub message: Option<String>,
    /// The request ID, for support.
    pub request_id: Option<String>,
    /// The SDK exception class names.
    pub sdk: SdkNames,
    /// Retry or not, and when.
    pub retry: RetryAdvice,
    /// For rate limits: which limit was hit, with the numbers from the message.
    pub rate_limit: Option<RateLimitInfo>,
    /// The decoded `x-ratelimit-*` headers, when any were present.
    pub rate_limit_headers: Option<RateLimitHeaders>,
    /// What the error means, in plain words.
    pub meaning: String,
    /// The first thing to try.
    pub first_fix: String,
    /// The name of the rule record that matched (from `rules/errors.toml`).
    pub rule: String,
    /// The shape the error was found in.
    pub format: Format,
}

/// The result of reading a paste: a diagnosis when an error was found, and what could not be read.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Explanation {
    /// The diagnosis, or `None` when the text holds no recognisable error.
    pub diagnosis: Option<Diagnosis>,
    /// What could not be read.
    pub unread: Vec<String>,
}
