//! Readers for everything a person might paste. Parsing never fails.
//!
//! [`read`] runs every reader over the text and keeps, for each fact, the best candidate: each
//! reader offers what it found with a priority (a JSON error body beats a status guessed from a log
//! line) and its position (later beats earlier, so the last error of a chained traceback wins).
//! The readers are:
//! - `lenient`: values in JSON, Python repr or Node inspect syntax, wherever they start;
//! - `value`: what such a value says (error bodies, Node/axios dumps, SSE events, Batch objects);
//! - `text`: line by line, everything else (exception lines, status lines and headers, log
//!   lines, client-specific messages, HTML titles, wording of network failures).
//!
//! Every reader is linear in the length of the text; `Work` counts the bytes they read.

mod lenient;
mod present;
mod text;
mod value;

#[cfg(test)]
mod tests;

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::evidence::{Evidence, Format, Transport};

/// Priorities of the sources a fact can come from (higher wins; ties go to the later one).
pub(crate) mod prio {
    /// A word in prose.
    pub const WORDING: u8 = 5;
    /// A log line about one attempt (`HTTP Request: … "HTTP/1.1 429 …"`).
    pub const LOG: u8 = 10;
    /// A bare `req_…` token or a status number with little context.
    pub const WEAK: u8 = 15;
    /// An HTTP status line, an HTML page title.
    pub const HTTP: u8 = 25;
    /// An exception line's own message.
    pub const EXCEPTION: u8 = 30;
    /// A client's structured message (go-openai, .NET, v0 log fields).
    pub const CLIENT: u8 = 40;
    /// A dump's structured field (`status: 429`, `request_id: …`).
    pub const DUMP: u8 = 45;
    /// An error object from a body.
    pub const BODY: u8 = 50;
    /// A response header.
    pub const HEADER: u8 = 55;
}

/// A candidate for one fact.
#[derive(Clone, Debug)]
struct Slot<T> {
    best: Option<(u8, usize, T)>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot { best: None }
    }
}

impl<T> Slot<T> {
    fn offer(&mut self, v: T, prio: u8, pos: usize) {
        let better = match &self.best {
            None => true,
            Some((p, at, _)) => (prio, pos) >= (*p, *at),
        };
        if better {
            self.best = Some((prio, pos, v));
        }
    }

    fn prio(&self) -> Option<u8> {
        self.best.as_ref().map(|b| b.0)
    }

    fn get(self) -> Option<T> {
        self.best.map(|b| b.2)
    }
}

/// The error object's own fields, kept together so that fields of different errors never mix.
#[derive(Clone, Debug, Default)]
pub(crate) struct Body {
    pub code: Option<String>,
    pub error_type: Option<String>,
    pub param: Option<String>,
    pub message: Option<String>,
}

/// A relay's own body for "the upstream failed" (sub2api, one-api/new-api forks): code or type
/// `upstream_error` with no more specific code.
fn relay_stand_in(b: &Body) -> bool {
    let is = |v: &Option<String>| {
        v.as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("upstream_error"))
    };
    is(&b.code) || (is(&b.error_type) && b.code.is_none())
}

/// An error body whose code names a cause: a word code (not a number, not a relay's stand-in).
fn names_cause(b: &Body) -> bool {
    !relay_stand_in(b)
        && !b
            .error_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("upstream_error"))
        && b.code.as_deref().is_some_and(|c| {
            c.len() > 2
                && c.bytes().any(|x| x.is_ascii_alphabetic())
                && c.bytes()
                    .all(|x| x.is_ascii_alphanumeric() || x == b'_' || x == b'.')
        })
}

/// Format cues seen, in the order they take precedence.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Cues {
    pub batch: bool,
    pub sse: bool,
    pub wrapper: bool,
    pub legacy: bool,
    pub traceback: bool,
    pub node: bool,
    pub other_client: bool,
    pub html: bool,
    pub http: bool,
    pub log: bool,
    pub json: bool,
}

/// What every reader adds to.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    body: Slot<Body>,
    message: Slot<String>,
    status: Slot<u16>,
    request_id: Slot<String>,
    exception: Slot<(String, Option<Transport>)>,
    /// Transport failures named by wording or error codes (`ECONNRESET`, `socket hang up`).
    transport: Slot<Transport>,
    /// A `ConnectTimeout` class appeared anywhere in an exception chain.
    connect_timeout: bool,
    /// The message of the underlying network error, kept next to a generic SDK message.
    cause: Slot<String>,
    stream_event: Slot<String>,
    batch_status: Slot<String>,
    custom_id: Slot<String>,
    html_title: Slot<String>,
    /// The first `retryDelay` a body states (see `text::retry_delay`).
    retry_delay_ms: Option<u64>,
    /// The line holding the longest long wording of the taxonomy (see `text::wording_line`).
    wording_line: Slot<String>,
    headers: Vec<(String, String)>,
    in_stream: bool,
    in_batch: bool,
    /// A `{"type":"error",…}` object outside SSE framing, at this position: a stream's error
    /// event unless the text states the HTTP status it came with (`500 {"type":"error",…}`).
    bare_error_event: Option<usize>,
    /// A line starts with an HTTP status followed by the body it came with.
    status_before_body: bool,
    /// Where the text first states an HTTP error status in a client's or server's own words
    /// (`status code: 400`, `400 Bad Request`), not a weak guess.
    first_stated_status: Option<usize>,
    pub cues: Cues,
    unread: Vec<String>,
    /// Bytes read by all readers, for the linear-time tests.
    pub work: usize,
    /// How deep the value reader is in JSON texts found inside strings.
    pub nesting: u8,
    /// A local failure (an import, a parser, a validator) was named: prose is not an API error.
    pub local_failure: bool,
}

/// Headers never kept: they belong to requests and may hold secrets.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "api-key",
    "x-api-key",
    "openai-api-key",
    "cookie",
    "set-cookie",
];

impl Collector {
    pub(crate) fn body(&mut self, b: Body, prio: u8, pos: usize) {
        if b.code.is_some() || b.error_type.is_some() || b.message.is_some() {
            // A relay's stand-in for an upstream failure (`upstream_error`, "Upstream request
            // failed") after the upstream's own error body, which names its cause by a code: the
            // stand-in only says the relay passed the failure on, so the cause stays.
            let cause_kept = relay_stand_in(&b)
                && self
                    .body
                    .best
                    .as_ref()
                    .is_some_and(|(p, _, old)| *p >= prio && names_cause(old));
            if !cause_kept {
                self.body.offer(b, prio, pos);
            }
        }
    }

    pub(crate) fn body_prio(&self) -> Option<u8> {
        self.body.prio()
    }

    pub(crate) fn message(&mut self, m: &str, prio: u8, pos: usize) {
        let m = m.trim();
        if !m.is_empty() {
            self.message.offer(m.to_owned(), prio, pos);
        }
    }

    pub(crate) fn status(&mut self, s: u16, prio: u8, pos: usize) {
        if (400..=599).contains(&s) {
            self.status.offer(s, prio, pos);
            if prio >= prio::HTTP {
                self.first_stated_status =
                    Some(self.first_stated_status.map_or(pos, |f| f.min(pos)));
            }
        }
    }

    pub(crate) fn request_id(&mut self, id: &str, prio: u8, pos: usize) {
        let id = id
            .trim()
            .trim_matches(|c| c == '"' || c == '\'' || c == '.' || c == ',');
        if id.len() >= 6
            && id.len() <= 200
            && id
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b':'))
        {
            self.request_id.offer(id.to_owned(), prio, pos);
        }
    }

    pub(crate) fn exception(&mut self, name: &str, kind: Option<Transport>, prio: u8, pos: usize) {
        // A connect timeout anywhere in the chain (httpx/httpcore `ConnectTimeout` under the SDK's
        // `APITimeoutError`) says no connection was made, whatever the outer class says.
        if kind == Some(Transport::Connection)
            && name.to_ascii_lowercase().contains("connecttimeout")
        {
            self.connect_timeout = true;
        }
        self.exception.offer((name.to_owned(), kind), prio, pos);
    }

    pub(crate) fn transport(&mut self, t: Transport, prio: u8, pos: usize) {
        self.transport.offer(t, prio, pos);
    }

    pub(crate) fn stream(&mut self, event: Option<&str>, pos: usize) {
        self.in_stream = true;
        self.cues.sse = true;
        if let Some(e) = event {
            self.stream_event.offer(e.to_owned(), prio::BODY, pos);
        }
    }

    /// The message of an underlying network error (`httpx.ConnectError: [SSL: …] …`).
    pub(crate) fn cause(&mut self, m: &str, pos: usize) {
        self.cause.offer(m.to_owned(), prio::EXCEPTION, pos);
    }

    /// A `{"type":"error",…}` event object seen outside SSE framing (see `finish`).
    pub(crate) fn bare_error_event(&mut self, pos: usize) {
        self.bare_error_event.get_or_insert(pos);
    }

    /// A wait a body states for a retry (Google's `RetryInfo.retryDelay`); the first one counts.
    pub(crate) fn retry_delay(&mut self, ms: u64) {
        self.retry_delay_ms.get_or_insert(ms);
    }

    /// A line starts with an HTTP status followed by its body (`401 {"error":…}`), or a gateway
    /// quotes the body its provider answered with (OpenRouter's `metadata.raw`): an HTTP response
    /// carried the error.
    pub(crate) fn status_before_body(&mut self) {
        self.status_before_body = true;
    }

    /// The text says the error happened while reading a stream (without SSE framing).
    pub(crate) fn stream_text(&mut self) {
        self.in_stream = true;
    }

    /// Whether anything structured enough to stand for the message was found.
    pub(crate) fn has_structure(&self) -> bool {
        self.body.best.is_some()
            || self.message.best.is_some()
            || self.exception.best.is_some()
            || self.cues.html
            || self.cues.http
    }

    pub(crate) fn batch(&mut self, status: Option<&str>, custom_id: Option<&str>, pos: usize) {
        self.in_batch = true;
        self.cues.batch = true;
        if let Some(s) = status {
            self.batch_status.offer(s.to_owned(), prio::BODY, pos);
        }
        if let Some(c) = custom_id {
            self.custom_id.offer(c.to_owned(), prio::BODY, pos);
        }
    }

    pub(crate) fn wording_line(&mut self, line: &str, pos: usize) {
        self.wording_line.offer(line.to_owned(), prio::WORDING, pos);
    }

    pub(crate) fn html_title(&mut self, t: &str, pos: usize) {
        let t = t.trim();
        if !t.is_empty() {
            self.html_title.offer(t.to_owned(), prio::HTTP, pos);
        }
    }

    /// Adds a response header (name lowercased); a later value replaces an earlier one.
    pub(crate) fn header(&mut self, name: &str, value: &str, pos: usize) {
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim();
        if name.is_empty() || name.len() > 64 || SECRET_HEADERS.contains(&name.as_str()) {
            return;
        }
        if name == "x-request-id" || name == "request-id" || name == "apim-request-id" {
            self.request_id(value, prio::HEADER, pos);
        }
        if let Some(h) = self.headers.iter_mut().find(|(k, _)| *k == name) {
            h.1 = value.to_owned();
        } else {
            self.headers.push((name, value.to_owned()));
        }
    }

    pub(crate) fn unread_room(&self) -> bool {
        self.unread.len() < 8
    }

    pub(crate) fn unread(&mut self, note: String) {
        if self.unread.len() < 8 && !self.unread.contains(&note) {
            self.unread.push(note);
        }
    }

    fn finish(mut self) -> Evidence {
        // Anthropic's error body has the shape of a Responses stream's `error` event; an HTTP
        // error status the text states before it (`400 {…}`, `status code: 400', {…}`, `400 Bad
        // Request -` and the body on the next line) says an HTTP response carried it.
        if let Some(pos) = self.bare_error_event.take() {
            let stated_before = self.first_stated_status.is_some_and(|at| at < pos);
            if !self.status_before_body && !stated_before {
                self.stream(Some("error"), pos);
            }
        }
        let mut ev = Evidence::default();
        let status_prio = self.status.prio().unwrap_or(0);
        let body_prio = self.body.prio().unwrap_or(0);
        let exception_prio = self.exception.prio().unwrap_or(0);
        let exception = self.exception.get();
        let cause = self.cause.get();
        let message_alt = self.message.get();
        if let Some(b) = self.body.get() {
            ev.code = b.code;
            ev.error_type = b.error_type;
            ev.param = b.param;
            ev.message = b.message;
        }
        if ev.message.is_none() {
            ev.message = message_alt;
        }
        // The API's own words on a line of their own, beside a message that says nothing the
        // taxonomy knows (a client's `Request failed with status code 404`, an app's label) or
        // only a weaker cause (an app's `Rate limit exceeded.` label over OpenAI's quota
        // sentence), and no code or type from a body to outrank them: the message is both.
        let wording_line = self.wording_line.get();
        // An exception line that carries no message of its own (`Error` alone on its line, the
        // API's sentence on the next): the sentence is the message.
        if let Some(line) = wording_line.as_ref().filter(|_| {
            ev.message.is_none()
                && ev.code.is_none()
                && ev.error_type.is_none()
                && exception.is_some()
        }) {
            ev.message = Some(line.clone());
        }
        if let (Some(line), Some(m)) = (wording_line, ev.message.as_ref()) {
            // Only a sentence naming a cause the taxonomy says wins (precedence 1 or more: quota,
            // context length, a content policy, …) outranks a label that names another one.
            let weaker = || {
                let line_p = crate::classify::wording_precedence(&line).unwrap_or(i8::MIN);
                line_p >= 1 && line_p > crate::classify::wording_precedence(m).unwrap_or(i8::MIN)
            };
            if ev.code.is_none()
                && ev.error_type.is_none()
                && !m.contains(line.as_str())
                && (!text::known_wording(&m.to_ascii_lowercase()) || weaker())
            {
                ev.message = Some(format!("{m} {line}"));
            }
        }
        ev.status = self.status.get();
        ev.retry_delay_ms = self.retry_delay_ms;
        ev.request_id = self.request_id.get();
        ev.headers = self.headers;

        // No response: named by the exception, else by the wording, unless a response was read.
        let mut transport = exception.as_ref().and_then(|e| e.1);
        if transport.is_none() {
            transport = self.transport.get();
        }
        if transport == Some(Transport::Timeout) && self.connect_timeout {
            transport = Some(Transport::Connection);
        }
        let response_seen = status_prio >= prio::HTTP || body_prio >= prio::DUMP;
        if response_seen && exception.as_ref().and_then(|e| e.1).is_none() {
            transport = None;
        }
        if transport.is_some() && status_prio < prio::HTTP {
            // Statuses of earlier attempts in a log do not describe the final failure.
            ev.status = None;
        }
        ev.transport = transport;
        if transport.is_some() {
            // `Connection error.` alone hides what failed: keep the cause's wording with it.
            if let Some(cause) = cause {
                ev.message = Some(match ev.message.take() {
                    Some(m) if m.contains(cause.as_str()) => m,
                    Some(m) => format!("{m} (cause: {cause})"),
                    None => cause,
                });
            }
        }
        ev.exception = exception.map(|e| e.0);
        ev.in_stream = self.in_stream;
        ev.stream_event = self.stream_event.get();
        ev.in_batch = self.in_batch;
        ev.batch_status = self.batch_status.get();
        ev.custom_id = self.custom_id.get();
        ev.html_title = self.html_title.get();
        ev.unread = self.unread;

        let c = self.cues;
        ev.format = if c.batch {
            Format::Batch
        } else if c.sse {
            Format::Sse
        } else if c.wrapper {
            Format::Wrapper
        } else if c.legacy {
            Format::PythonLegacy
        } else if c.traceback {
            Format::PythonTraceback
        } else if c.node {
            Format::Node
        } else if c.other_client {
            Format::OtherClient
        } else if c.html {
            Format::Html
        } else if c.http {
            Format::Http
        } else if c.log {
            Format::LogLine
        } else if c.json {
            Format::Json
        } else {
            Format::Text
        };
        if exception_prio <= prio::WORDING && ev.transport.is_none() {
            // A built-in exception (`KeyError`, `ValueError`) alone is not an API error.
            let only = ev.exception.take();
            if !ev.is_empty() {
                ev.exception = only;
            }
        }
        if ev.is_empty() {
            ev.format = Format::Unknown;
        }
        ev
    }
}

/// Reads any pasted text into evidence.
///
/// Never fails and never panics: what could not be read is noted in [`Evidence::unread`].
/// `airlock_rules::explain` is the public way in.
pub fn read(text: &str) -> Evidence {
    read_counting(text).0
}

/// [`read`], also returning the number of bytes the readers went through.
pub(crate) fn read_counting(text: &str) -> (Evidence, usize) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Presentation layers (a terminal's colours, Windows line ends, a log record or a log
    // pipeline's prefix around every line, HTML escaping, a Markdown fence) change how an error
    // looks, never what it says: they come off first (`present`).
    let bare_text;
    let text = if let Some(t) = present::strip(text) {
        bare_text = t;
        bare_text.as_str()
    } else {
        text
    };
    // Spring's RestTemplate prints a body's line breaks as `<EOL>`.
    let eol_text;
    let text = if text.contains("<EOL>") {
        eol_text = text.replace("<EOL>", "\n");
        eol_text.as_str()
    } else {
        text
    };
    // A forum, a word processor or a phone's smart punctuation turned the quotes of a pasted body
    // into typographic ones (`{“error”: {“message”: …`, `{‘error’: …}`, Ruby's `{“error”=>…}`):
    // read them as the ASCII quotes they were.
    let typo_text;
    let text = if typographic_keys(text) {
        typo_text = text
            .chars()
            .map(|ch| match ch {
                '\u{201c}' | '\u{201d}' => '"',
                '\u{2018}' | '\u{2019}' => '\'',
                _ => ch,
            })
            .collect::<String>();
        typo_text.as_str()
    } else {
        text
    };
    // A Markdown blockquote (`> API request failed: litellm.…Error: …`, the way an issue quotes
    // an error) is the quoted text: its markers become spaces, so offsets stay the same. Not in a
    // `curl -v` trace, whose `> ` lines are the request it sent.
    let unquoted_text;
    let text = if blockquoted(text) {
        unquoted_text = unquote_blockquote(text);
        unquoted_text.as_str()
    } else {
        text
    };
    // A log that printed the whole error as one quoted string: read what is inside the quotes.
    let trimmed = text.trim();
    let text = match trimmed.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) if !inner.contains('"') && !inner.contains('\n') => inner,
        _ => text,
    };
    let mut c = Collector::default();
    if text.trim().is_empty() {
        c.unread("the text is empty".to_owned());
        let work = c.work;
        return (c.finish(), work);
    }
    let sse_events = text::sse_events(text, &mut c);
    value::scan(text, &sse_events, &mut c);
    text::scan(text, &mut c);
    let work = c.work;
    let mut ev = c.finish();
    ev.realtime = !ev.is_empty() && realtime_cue(text);
    if ev.is_empty() {
        ev.unread.push(
            "no OpenAI error, status, exception or network failure was recognised".to_owned(),
        );
    }
    (ev, work)
}

/// Whether a line opens with a Markdown blockquote marker (`> `, or a lone `>`), and no line is a
/// `curl -v` request line (`> POST /v1/… HTTP/1.1`), whose `> ` lines must stay as they are.
fn blockquoted(text: &str) -> bool {
    let mut quoted = false;
    for line in text.lines() {
        let t = line.trim_start();
        let Some(rest) = t.strip_prefix("> ") else {
            quoted |= t == ">";
            continue;
        };
        let mut words = rest.split_whitespace();
        let method = words.next().unwrap_or("");
        let is_request = matches!(
            method,
            "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS"
        ) && words.next().is_some_and(|p| p.starts_with('/'));
        if is_request {
            return false;
        }
        quoted = true;
    }
    quoted
}

/// The text with the leading `>` markers of its blockquoted lines turned into spaces.
fn unquote_blockquote(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        let mut rest = &line[indent..];
        out.push_str(&line[..indent]);
        // Nested quotes (`> > `) too.
        while rest.starts_with("> ") || rest.starts_with(">\n") || rest == ">" {
            out.push(' ');
            rest = &rest[1..];
            let spaces = rest.len() - rest.trim_start_matches(' ').len();
            out.push_str(&rest[..spaces]);
            rest = &rest[spaces..];
        }
        out.push_str(rest);
    }
    out
}

/// Whether typographic quotes delimit the keys of a pasted body: a closing `”` or `’` followed by
/// `:` or `=>`, once in a text that holds a `{`, else twice (a fragment cut out of a body:
/// `“code”:“rate_limit_exceeded”,“message”:…`). Quotes of prose (`the model’s answer`, “like
/// this”) are left as they are.
fn typographic_keys(text: &str) -> bool {
    let keys = text
        .match_indices(['\u{201d}', '\u{2019}'])
        .filter(|(k, q)| {
            let rest = text[k + q.len()..].trim_start_matches(' ');
            rest.starts_with(':') || rest.starts_with("=>")
        })
        .take(2)
        .count();
    keys >= 2 || (keys == 1 && text.contains('{'))
}

/// Whether the text comes from a Realtime session: it names the Realtime API or its S2S client,
/// carries a Realtime event's `event_id`, a code or wording only Realtime sends, or a WebSocket's
/// close frame (the Realtime API is the WebSocket an OpenAI client holds).
fn realtime_cue(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    [
        "realtime",
        "s2s error",
        "event_id",
        "erroreventid",
        "conversation_already_has_active_response",
        "input_audio_buffer",
        "input audio buffer",
        // A Realtime session past its time limit (`session_expired`: "Your session hit the
        // maximum duration of 30 minutes.").
        "session_expired",
        "session hit the maximum duration",
        "no close frame received",
        // A parameter path only a Realtime session has (`session.update`'s fields:
        // "Missing required parameter: 'session.tool_choice.name'"), and its event names.
        "'session.",
        "\"session.",
        "param: session.",
        "transcription_session.",
    ]
    .iter()
    .any(|cue| lower.contains(cue))
        || ws_close_frame(&lower)
}

/// A WebSocket close frame as Python `websockets` prints it: `received 3000 (registered)
/// invalid_request_error.invalid_api_key`, `sent 1000 (OK)`, `received 1011 (internal error)`
/// (a close code of 1000-4999, then the name `websockets` gives it, in parentheses, or any words
/// after it when its `ConnectionClosed…` class is in the text).
fn ws_close_frame(lower: &str) -> bool {
    const NAMES: &[&str] = &[
        "(ok)",
        "(going away)",
        "(protocol error)",
        "(unsupported type)",
        "(no status received",
        "(connection closed abnormally",
        "(invalid data)",
        "(policy violation)",
        "(message too big)",
        "(mandatory extension)",
        "(internal error)",
        "(service restart)",
        "(try again later)",
        "(bad gateway)",
        "(registered)",
        "(private use)",
    ];
    ["received ", "sent "].iter().any(|verb| {
        lower.match_indices(verb).any(|(k, _)| {
            let at = k + verb.len();
            let rest = &lower.as_bytes()[at..];
            rest.len() > 6
                && rest[..4].iter().all(u8::is_ascii_digit)
                && (b'1'..=b'4').contains(&rest[0])
                && rest[4] == b' '
                && (NAMES.iter().any(|n| lower[at + 5..].starts_with(n))
                    // The name cut out of a quote (`ConnectionClosedError - received 4000 ...
                    // invalid_request_error.…`) where `websockets`' class says it was a close.
                    || lower.contains("connectionclosed"))
                && (k == 0 || !lower.as_bytes()[k - 1].is_ascii_alphanumeric())
        })
    })
}

/// Reads an HTTP response the worker received: status, headers (any case) and body bytes.
///
/// Headers are kept with lowercased names (request-only headers such as `authorization` are
/// dropped); the body is read like a paste (JSON error, HTML page or SSE stream).
pub fn read_response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Evidence {
    let text = String::from_utf8_lossy(body);
    let mut c = Collector::default();
    for (k, v) in headers {
        c.header(k, v, 0);
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if !text.trim().is_empty() {
        let sse_events = text::sse_events(text, &mut c);
        value::scan(text, &sse_events, &mut c);
        text::scan(text, &mut c);
    }
    let mut ev = c.finish();
    ev.status = Some(status);
    // A response arrived, whatever its body says.
    ev.transport = None;
    if !matches!(ev.format, Format::Sse | Format::Html | Format::Batch) {
        ev.format = if ev.format == Format::Json || ev.format == Format::Unknown {
            Format::Http
        } else {
            ev.format
        };
    }
    if body.len() != text.len() && core::str::from_utf8(body).is_err() {
        ev.unread.push(format!(
            "the body is not valid UTF-8 ({} bytes)",
            body.len()
        ));
    }
    ev
}
