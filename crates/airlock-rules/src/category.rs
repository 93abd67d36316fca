//! The fixed list of categories and retry decisions.

use core::fmt;

/// What kind of failure a diagnosis is. Exactly one applies; the more specific wins
/// (`context_length` and `content_policy` over `invalid_request`, `quota` over `rate_limit`, …).
#[non_exhaustive]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// The request is malformed or has a bad parameter (400).
    InvalidRequest,
    /// The API key is missing, wrong or revoked (401).
    Authentication,
    /// The key is valid but not allowed to do this (403): region, organization, IP allowlist, model access.
    Permission,
    /// The model, file or other resource does not exist for this key (404).
    NotFound,
    /// A conflicting concurrent update (409).
    Conflict,
    /// The request was well-formed but could not be processed (422).
    Unprocessable,
    /// A requests or tokens per minute/day limit was hit (429); waiting helps.
    RateLimit,
    /// The account is out of credit or over its billing limit; waiting does not help.
    Quota,
    /// The API failed on its side (500, 502, other 5xx).
    ServerError,
    /// The API is overloaded or asked to slow down (503, "engine overloaded", "Slow Down").
    Overloaded,
    /// A response did not come in time (client timeouts, 408, 504, Cloudflare 524).
    Timeout,
    /// No response at all: DNS, refused, reset, TLS.
    Connection,
    /// Prompt plus requested output exceed the model's context window.
    ContextLength,
    /// The safety system refused the prompt or output.
    ContentPolicy,
    /// A stream that broke or failed without showing why: cut, disconnected, undecodable, or a
    /// failed response whose error the paste does not show. A cause shown inside a stream is its
    /// own category; [`crate::Delivery`] says it arrived in a stream.
    StreamError,
    /// A Batch cause: a job that expired, failed validation, hit the enqueued-token limit or was
    /// cancelled, or an invalid input line. A request of a Batch job that failed for another cause
    /// is that cause's category.
    BatchError,
    /// The client library refused the call before anything was sent (an argument it does not know
    /// or that is missing, an outdated package), could not decode the answer it got (a shape
    /// newer than the package, or another provider's, or a model's answer that does not parse as
    /// the output type asked for), or stopped the call because its caller's abort signal fired.
    ClientSide,
}

impl Category {
    /// Every category, in the documented order.
    pub const ALL: [Category; 17] = [
        Category::InvalidRequest,
        Category::Authentication,
        Category::Permission,
        Category::NotFound,
        Category::Conflict,
        Category::Unprocessable,
        Category::RateLimit,
        Category::Quota,
        Category::ServerError,
        Category::Overloaded,
        Category::Timeout,
        Category::Connection,
        Category::ContextLength,
        Category::ContentPolicy,
        Category::StreamError,
        Category::BatchError,
        Category::ClientSide,
    ];

    /// The category's name as used in JSON output and in `rules/`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::InvalidRequest => "invalid_request",
            Category::Authentication => "authentication",
            Category::Permission => "permission",
            Category::NotFound => "not_found",
            Category::Conflict => "conflict",
            Category::Unprocessable => "unprocessable",
            Category::RateLimit => "rate_limit",
            Category::Quota => "quota",
            Category::ServerError => "server_error",
            Category::Overloaded => "overloaded",
            Category::Timeout => "timeout",
            Category::Connection => "connection",
            Category::ContextLength => "context_length",
            Category::ContentPolicy => "content_policy",
            Category::StreamError => "stream_error",
            Category::BatchError => "batch_error",
            Category::ClientSide => "client_side",
        }
    }

    /// Parses a name produced by [`Category::as_str`].
    pub fn from_name(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The retry decision that goes with this category when nothing more specific is known.
    pub const fn default_retry(self) -> RetryDecision {
        match self {
            Category::InvalidRequest
            | Category::Unprocessable
            | Category::ContextLength
            | Category::ContentPolicy => RetryDecision::AfterChange,
            Category::Authentication
            | Category::Permission
            | Category::NotFound
            | Category::Quota => RetryDecision::No,
            Category::Conflict
            | Category::RateLimit
            | Category::ServerError
            | Category::Overloaded
            | Category::Timeout
            | Category::Connection
            | Category::StreamError => RetryDecision::Yes,
            Category::BatchError | Category::ClientSide => RetryDecision::AfterChange,
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether sending the same request again can succeed.
#[non_exhaustive]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryDecision {
    /// Transient: the same request may succeed later (connection, timeout, 408/409, rate limit, 5xx).
    Yes,
    /// Retrying can never help until something outside the request changes (401/403/404, quota, billing).
    No,
    /// The request itself must change first (400/422, context length, content policy, request too large).
    AfterChange,
}

impl RetryDecision {
    /// The decision's name as used in JSON output and in `rules/`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RetryDecision::Yes => "yes",
            RetryDecision::No => "no",
            RetryDecision::AfterChange => "after_change",
        }
    }

    /// Parses a name produced by [`RetryDecision::as_str`].
    pub fn from_name(name: &str) -> Option<RetryDecision> {
        match name {
            "yes" => Some(RetryDecision::Yes),
            "no" => Some(RetryDecision::No),
            "after_change" => Some(RetryDecision::AfterChange),
            _ => None,
        }
    }
}

impl fmt::Display for RetryDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
