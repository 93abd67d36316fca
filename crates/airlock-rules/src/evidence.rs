//! What the paste readers found: raw facts, before any judgment.
//!
//! The readers in `parse` fill an [`Evidence`]; `classify` turns it into a [`crate::Diagnosis`].

use alloc::string::String;
use alloc::vec::Vec;

/// The shape the error was found in.
#[non_exhaustive]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Nothing recognisable.
    #[default]
    Unknown,
    /// A JSON error body, with or without the `{"error": …}` wrapper.
    Json,
    /// A Python traceback or a Python SDK message (`Error code: 429 - {...}`).
    PythonTraceback,
    /// A v0 Python SDK line (`openai.error.X: message`, `error_code=… error_message=…`).
    PythonLegacy,
    /// A Node/JS error dump (`Error: 400 message`, `status: 429`, axios objects).
    Node,
    /// A raw HTTP response with a status line and headers (including `curl -i`/`-v` output).
    Http,
    /// An httpx / requests log line.
    LogLine,
    /// A Go, .NET or Java client message.
    OtherClient,
    /// A wrapper (LangChain, LiteLLM, …) that kept only the message.
    Wrapper,
    /// A Cloudflare (or other) HTML error page.
    Html,
    /// A server-sent event stream.
    Sse,
    /// A Batch object, or a line of a Batch error or output file.
    Batch,
    /// Plain prose: only the wording could be matched.
    Text,
}

impl Format {
    /// The format's name as used in JSON output.
    pub const fn as_str(self) -> &'static str {
        match self {
            Format::Unknown => "unknown",
            Format::Json => "json",
            Format::PythonTraceback => "python_traceback",
            Format::PythonLegacy => "python_legacy",
            Format::Node => "node",
            Format::Http => "http",
            Format::LogLine => "log_line",
            Format::OtherClient => "other_client",
            Format::Wrapper => "wrapper",
            Format::Html => "html",
            Format::Sse => "sse",
            Format::Batch => "batch",
            Format::Text => "text",
        }
    }
}

/// A failure where no HTTP response was received.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// The connection could not be made or was lost (DNS, refused, reset, TLS).
    Connection,
    /// The client gave up waiting.
    Timeout,
}

/// Raw facts read from a paste or a response. Every field is optional; the readers fill what they find.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Evidence {
    /// The shape the error was found in.
    pub format: Format,
    /// HTTP status, when the text states one.
    pub status: Option<u16>,
    /// The error's `code`.
    pub code: Option<String>,
    /// The error's `type`.
    pub error_type: Option<String>,
    /// The error's `param`.
    pub param: Option<String>,
    /// The error's `message` (or the best message-like text found).
    pub message: Option<String>,
    /// `x-request-id` header, `request_id` field, or an ID quoted in the message (`req_…`).
    pub request_id: Option<String>,
    /// Response headers found (names lowercased), in order.
    pub headers: Vec<(String, String)>,
    /// The exception or error class name named in the text (`RateLimitError`,
    /// `openai.error.ServiceUnavailableError`, `APIConnectionError`, `httpx.ReadTimeout`, …).
    pub exception: Option<String>,
    /// Set when the text shows no response was received.
    pub transport: Option<Transport>,
    /// True when the error arrived inside a stream (SSE `error` event, `response.failed`, an
    /// exception raised while iterating a stream).
    pub in_stream: bool,
    /// The SSE event type that carried the error (`error`, `response.failed`, `response.incomplete`).
    pub stream_event: Option<String>,
    /// True when the error is an `error` event of a Realtime session (WebSocket or WebRTC).
    pub realtime: bool,
    /// True when the text is a Batch object or a Batch error/output line.
    pub in_batch: bool,
    /// The Batch object's `status` (`failed`, `expired`, …), when a Batch object was pasted.
    pub batch_status: Option<String>,
    /// The `custom_id` of a Batch line.
    pub custom_id: Option<String>,
    /// The `<title>` or main heading of an HTML error page.
    pub html_title: Option<String>,
    /// A wait the error body states for a retry, in milliseconds: Google's `RetryInfo.retryDelay`
    /// (`"retryDelay": "37s"`, a protobuf duration) in a Gemini or Vertex AI body.
    pub retry_delay_ms: Option<u64>,
    /// What could not be read (short, human-readable notes).
    pub unread: Vec<String>,
}

impl Evidence {
    /// True when nothing that could identify an error was found (a failed Batch line, found by
    /// its `custom_id`, is an error even when it says nothing else).
    pub fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.code.is_none()
            && self.error_type.is_none()
            && self.message.is_none()
            && self.exception.is_none()
            && self.transport.is_none()
            && self.batch_status.is_none()
            && self.custom_id.is_none()
            && self.html_title.is_none()
    }

    /// The value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
