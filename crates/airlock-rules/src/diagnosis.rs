//! The diagnosis of one error: plain data, serializable, no I/O.

use alloc::string::String;
use alloc::vec::Vec;

use crate::{Category, Format, RateLimitHeaders, RateLimitInfo, RetryDecision};

/// The exception class names the official SDKs raise for an error.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SdkNames {
    /// The Python SDK (v1+) class, e.g. `openai.RateLimitError`.
    pub python: Option<String>,
    /// The Node SDK class, e.g. `RateLimitError`.
    pub node: Option<String>,
    /// The legacy v0 Python class, e.g. `openai.error.RateLimitError`.
    pub python_v0: Option<String>,
}

/// Where the error arrived: which channel carried it to the client.
#[non_exhaustive]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// An HTTP error response (or text copied from one).
    Response,
    /// Inside an event stream, possibly after partial output.
    Stream,
    /// An `error` event of a Realtime session.
    Realtime,
    /// One request of a Batch job (a line of its error or output file).
    BatchLine,
    /// A Batch job as a whole (the Batch object).
    BatchJob,
    /// Raised by the client itself with no answer from the API: an argument it refused, a
    /// connection that failed, a wait it gave up on.
    Client,
}

impl Delivery {
    /// The name as used in JSON output.
    pub const fn as_str(self) -> &'static str {
        match self {
            Delivery::Response => "response",
            Delivery::Stream => "stream",
            Delivery::Realtime => "realtime",
            Delivery::BatchLine => "batch_line",
            Delivery::BatchJob => "batch_job",
            Delivery::Client => "client",
        }
    }

    /// What the client should do about the way it arrived, in words (`None` for a plain response).
    pub const fn advice(self) -> Option<&'static str> {
        match self {
            Delivery::Response => None,
            Delivery::Stream => Some(
                "arrived inside a stream, possibly after partial output: discard or mark the partial answer",
            ),
            Delivery::Realtime => Some(
                "arrived as an `error` event of a Realtime session: the session stays open, only that client event failed",
            ),
            Delivery::BatchLine => Some(
                "one request of a Batch job failed: the other lines are unaffected; resubmit only the failed ones",
            ),
            Delivery::BatchJob => Some("the Batch job as a whole reports it"),
            Delivery::Client => Some("raised by the client itself: no answer came from the API"),
        }
    }
}

/// How sure the reading is.
#[non_exhaustive]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// OpenAI's own error code decided it, or two independent facts (a code, type, status,
    /// wording or class name) agree on the category.
    Certain,
    /// One fact alone decided it: a wording, a status, a class name or a network failure.
    Likely,
    /// Nothing known matched; the category is the most likely reading of what was found.
    Guess,
}

impl Confidence {
    /// The name as used in JSON output.
    pub const fn as_str(self) -> &'static str {
        match self {
            Confidence::Certain => "certain",
            Confidence::Likely => "likely",
            Confidence::Guess => "guess",
        }
    }
}

/// Whether to retry, and after how long when known.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RetryAdvice {
    /// Retry, don't, or only after changing the request.
    pub decision: RetryDecision,
    /// How long to wait before retrying, in milliseconds, when the error says (headers or message).
    pub after_ms: Option<u64>,
}

/// Everything Airlock can say about one error.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Diagnosis {
    /// The one category this error falls in: its cause, wherever it arrived.
    pub category: Category,
    /// Where it arrived (response, stream, Realtime session, Batch line or job, the client).
    pub delivery: Delivery,
    /// How sure the reading is.
    pub confidence: Confidence,
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
