//! Server-sent events, read incrementally, and a watcher for OpenAI streams.
//!
//! [`SseParser`] takes the bytes of an `text/event-stream` body in chunks cut anywhere (mid-line,
//! mid-UTF-8 character, between `\r` and `\n`) and returns the events, following the WHATWG
//! event-stream rules: `\r\n`, `\r` and `\n` line ends, `:` comments, a byte order mark at the
//! start, a field name without a colon, one leading space stripped from the value, multi-line
//! `data:` joined with `\n`. Memory is bounded: a line longer than [`Limits::max_line`] is dropped
//! and reported, never held whole.
//!
//! [`StreamWatch`] sits on top and knows the two OpenAI stream shapes: Chat Completions
//! (`data: {chunk}` … `data: [DONE]`, or `data: {"error": …}`) and Responses (`event:
//! response.created` … `response.completed`, `response.failed`, `response.incomplete`, `error`).
//! It reports the final [`StreamState`], and builds what a proxy appends when the upstream drops
//! mid-stream so that the official SDKs raise `APIError` ([`StreamWatch::closing_bytes`]): an
//! error event between events, or, inside a `data:` line already sent, the shortest continuation
//! of its JSON into an object with an `error` key.
//!
//! ```
//! use airlock_rules::sse::{StreamState, StreamWatch};
//!
//! let mut w = StreamWatch::new();
//! w.push(b"data: {\"object\":\"chat.completion.chunk\",\"choices\":[]}\n\nda");
//! w.push(b"ta: [DONE]\n\n");
//! assert_eq!(w.finish(), StreamState::Completed);
//! ```

use alloc::string::{String, ToString};
use alloc::vec::Vec;

mod complete;

/// One dispatched server-sent event.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Event {
    /// The `event:` field, when one was given (the spec's default type is `message`).
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last event ID seen so far (it persists across events, as the spec says).
    pub id: Option<String>,
    /// The `retry:` field of this event, when it was a number.
    pub retry: Option<u64>,
}

/// What the parser returns: events, and the lines it refused to hold.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Item {
    /// A complete event.
    Event(Event),
    /// A line longer than the limit: it was dropped, not interpreted.
    LineTooLong {
        /// The line's length in bytes.
        bytes: u64,
    },
    /// An event whose `data` grew past the limit: the rest of its data lines were dropped.
    DataTooLong {
        /// The data's length in bytes when it was cut.
        bytes: u64,
    },
}

/// The parser's memory bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest line held, in bytes (default 16 MiB).
    pub max_line: usize,
    /// The most `data` held for one event, in bytes (default 16 MiB).
    pub max_data: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 16 << 20,
            max_data: 16 << 20,
        }
    }
}

/// An incremental event-stream parser. Feed it chunks with [`SseParser::push`].
///
/// # Example
/// ```
/// use airlock_rules::sse::{Item, SseParser};
///
/// let mut p = SseParser::new();
/// let mut events = p.push(b"event: ping\r\ndata: a\r");
/// events.extend(p.push(b"\ndata: b\r\n\r\n"));
/// let Item::Event(e) = &events[0] else { panic!() };
/// assert_eq!(e.event.as_deref(), Some("ping"));
/// assert_eq!(e.data, "a\nb");
/// ```
#[derive(Clone, Debug, Default)]
pub struct SseParser {
    limits: Limits,
    line: Vec<u8>,
    /// Bytes of the current line beyond the limit (the line is being dropped).
    overflow: u64,
    /// The line being dropped is a `data:` line.
    overflow_data: bool,
    /// The last byte was `\r`: a following `\n` belongs to the same line end.
    pending_cr: bool,
    /// No line has been completed yet (a byte order mark may start the first one).
    first_line_done: bool,
    data: String,
    has_data: bool,
    data_overflow: bool,
    event_type: Option<String>,
    last_id: Option<String>,
    retry: Option<u64>,
    /// True when a field line of the current event has been read (the event is not empty).
    in_event: bool,
    bytes: u64,
}

impl SseParser {
    /// A parser with the default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A parser with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        SseParser {
            limits,
            ..Self::default()
        }
    }

    /// The number of bytes pushed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// True when the parser is in the middle of a line.
    pub fn mid_line(&self) -> bool {
        !self.line.is_empty() || self.overflow > 0
    }

    /// True when the parser is in the middle of an event (a field line was read, no blank line yet).
    pub fn mid_event(&self) -> bool {
        self.in_event
    }

    /// True when the last byte pushed was a `\r` (a `\n` pushed next would be swallowed).
    pub fn after_cr(&self) -> bool {
        self.pending_cr
    }

    /// True when the event being read already holds data, or the partial line is a `data:` line
    /// (or too long to tell).
    pub fn pending_data(&self) -> bool {
        self.has_data || self.overflow > 0 || self.partial_line().starts_with(b"data:")
    }

    /// True when the event being read has an `event:` field.
    pub fn pending_event_type(&self) -> bool {
        self.event_type.is_some()
    }

    /// The bytes of the line not yet ended (without a byte order mark at the very start).
    fn partial_line(&self) -> &[u8] {
        if self.first_line_done {
            &self.line
        } else {
            self.line
                .strip_prefix(b"\xEF\xBB\xBF")
                .unwrap_or(&self.line)
        }
    }

    /// Feeds one chunk and returns what it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Item> {
        let mut out = Vec::new();
        self.push_with(chunk, &mut |i| out.push(i));
        out
    }

    /// Feeds one chunk, handing each completed item to `f` (no allocation for the list).
    pub fn push_with(&mut self, mut chunk: &[u8], f: &mut dyn FnMut(Item)) {
        self.bytes += chunk.len() as u64;
        while !chunk.is_empty() {
            if self.pending_cr {
                self.pending_cr = false;
                if chunk[0] == b'\n' {
                    chunk = &chunk[1..];
                    continue;
                }
            }
            match chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
                Some(i) => {
                    self.append(&chunk[..i]);
                    if chunk[i] == b'\r' {
                        self.pending_cr = true;
                    }
                    chunk = &chunk[i + 1..];
                    self.end_line(f);
                }
                None => {
                    self.append(chunk);
                    chunk = &[];
                }
            }
        }
    }

    /// Ends the stream. A last event not closed by a blank line is returned too (the spec would
    /// drop it; a reader of a cut stream wants to see it), as is a last line without a line end.
    pub fn finish(&mut self) -> Vec<Item> {
        let mut out = Vec::new();
        let f = &mut |i| out.push(i);
        if self.mid_line() {
            self.end_line(f);
        }
        self.dispatch(f);
        self.pending_cr = false;
        out
    }

    fn append(&mut self, bytes: &[u8]) {
        if self.overflow > 0 {
            self.overflow += bytes.len() as u64;
        } else if self.line.len() + bytes.len() > self.limits.max_line {
            self.overflow = (self.line.len() + bytes.len()) as u64;
            let mut head = [0u8; 5];
            for (h, b) in head.iter_mut().zip(self.line.iter().chain(bytes).copied()) {
                *h = b;
            }
            self.overflow_data = &head == b"data:";
            self.line = Vec::new();
        } else {
            self.line.extend_from_slice(bytes);
        }
    }

    fn end_line(&mut self, f: &mut dyn FnMut(Item)) {
        let first = !self.first_line_done;
        self.first_line_done = true;
        if self.overflow > 0 {
            f(Item::LineTooLong {
                bytes: self.overflow,
            });
            self.overflow = 0;
            self.in_event = true;
            if core::mem::take(&mut self.overflow_data) {
                // The event still happened: it is dispatched with the data it had before.
                self.has_data = true;
                self.data_overflow = true;
            }
            return;
        }
        let mut line = core::mem::take(&mut self.line);
        let mut start = 0;
        if first && line.starts_with(b"\xEF\xBB\xBF") {
            start = 3;
        }
        self.field(&line[start..], f);
        line.clear();
        self.line = line;
    }

    fn field(&mut self, line: &[u8], f: &mut dyn FnMut(Item)) {
        if line.is_empty() {
            self.dispatch(f);
            return;
        }
        if line[0] == b':' {
            return;
        }
        self.in_event = true;
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &[][..]),
        };
        match name {
            b"data" => {
                if self.data_overflow {
                    return;
                }
                let add = value.len() + usize::from(self.has_data);
                if self.data.len() + add > self.limits.max_data {
                    self.data_overflow = true;
                    f(Item::DataTooLong {
                        bytes: self.data.len() as u64,
                    });
                    return;
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.has_data = true;
                self.data.push_str(&String::from_utf8_lossy(value));
            }
            b"event" => self.event_type = Some(String::from_utf8_lossy(value).into_owned()),
            b"id" if !value.contains(&0) => {
                self.last_id = Some(String::from_utf8_lossy(value).into_owned());
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                self.retry = core::str::from_utf8(value)
                    .ok()
                    .and_then(|s| s.parse().ok());
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, f: &mut dyn FnMut(Item)) {
        self.in_event = false;
        self.data_overflow = false;
        let retry = self.retry.take();
        let event_type = self.event_type.take();
        if !self.has_data {
            self.data.clear();
            return;
        }
        self.has_data = false;
        let data = core::mem::take(&mut self.data);
        f(Item::Event(Event {
            event: event_type.filter(|e| !e.is_empty()),
            data,
            id: self.last_id.clone(),
            retry,
        }));
    }
}

/// Which OpenAI stream shape was seen.
#[non_exhaustive]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamKind {
    /// Nothing recognisable yet.
    #[default]
    Unknown,
    /// Chat Completions (or legacy Completions): `data:` lines only, ending in `data: [DONE]`.
    ChatCompletions,
    /// Responses: named events (`response.created` … `response.completed`).
    Responses,
}

impl StreamKind {
    /// The kind's name as used in JSON output.
    pub const fn as_str(self) -> &'static str {
        match self {
            StreamKind::Unknown => "unknown",
            StreamKind::ChatCompletions => "chat_completions",
            StreamKind::Responses => "responses",
        }
    }
}

/// An error that arrived inside a stream, in OpenAI's fields.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct StreamError {
    /// The error's `code`.
    pub code: Option<String>,
    /// The error's `message`.
    pub message: Option<String>,
    /// The error's `param`.
    pub param: Option<String>,
    /// The error's `type`.
    #[serde(rename = "type")]
    pub error_type: Option<String>,
    /// The Responses event's `sequence_number`.
    pub sequence_number: Option<u64>,
    /// The event that carried it: `error`, `response.failed`, or `data` for a Chat chunk.
    pub event: String,
}

/// How a stream ended.
#[non_exhaustive]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum StreamState {
    /// `data: [DONE]` or `response.completed` arrived.
    Completed,
    /// An `error` event, a `response.failed`, or a Chat chunk with an `error` key arrived.
    Failed {
        /// The error as sent.
        error: StreamError,
    },
    /// `response.incomplete` arrived.
    Incomplete {
        /// `incomplete_details.reason` (`max_output_tokens`, `content_filter`).
        reason: Option<String>,
    },
    /// The stream ended without a terminal event.
    Cut {
        /// The last event seen (its `event:` name, `chunk` for a Chat chunk), if any.
        last_event: Option<String>,
        /// Bytes received.
        bytes: u64,
        /// Events received.
        events: u64,
    },
}

impl StreamState {
    /// The state's name: `completed`, `failed`, `incomplete`, `cut`.
    pub fn as_str(&self) -> &'static str {
        match self {
            StreamState::Completed => "completed",
            StreamState::Failed { .. } => "failed",
            StreamState::Incomplete { .. } => "incomplete",
            StreamState::Cut { .. } => "cut",
        }
    }
}

/// Airlock's `code` for a stream the upstream dropped.
pub const INTERRUPTED_CODE: &str = "stream_interrupted";

/// Watches an OpenAI stream as it passes: O(bytes), holding only the current line and event.
///
/// # Example
/// ```
/// use airlock_rules::sse::{StreamState, StreamWatch};
///
/// let mut w = StreamWatch::new();
/// w.push(b"event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0}\n\n");
/// match w.finish() {
///     StreamState::Cut { last_event, events, .. } => {
///         assert_eq!(last_event.as_deref(), Some("response.created"));
///         assert_eq!(events, 1);
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Clone, Debug, Default)]
pub struct StreamWatch {
    parser: SseParser,
    kind: StreamKind,
    terminal: Option<StreamState>,
    /// The event number (1-based) of the terminal event.
    terminal_at: Option<u64>,
    events: u64,
    last_event: Option<String>,
    last_sequence: Option<u64>,
    finish_reason: Option<String>,
    oversize: u64,
}

impl StreamWatch {
    /// A watcher with the parser's default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// A watcher whose parser uses `limits`.
    pub fn with_limits(limits: Limits) -> Self {
        StreamWatch {
            parser: SseParser::with_limits(limits),
            ..Self::default()
        }
    }

    /// Feeds one chunk of the stream.
    pub fn push(&mut self, chunk: &[u8]) {
        let mut items = Vec::new();
        self.parser.push_with(chunk, &mut |i| items.push(i));
        for i in items {
            self.item(i);
        }
    }

    /// The parser underneath (where in a line or event the stream is).
    pub fn parser(&self) -> &SseParser {
        &self.parser
    }

    /// The stream shape seen so far.
    pub fn kind(&self) -> StreamKind {
        self.kind
    }

    /// Events seen so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Bytes seen so far.
    pub fn bytes(&self) -> u64 {
        self.parser.bytes()
    }

    /// The terminal state, once a terminal event has arrived.
    pub fn terminal(&self) -> Option<&StreamState> {
        self.terminal.as_ref()
    }

    /// The 1-based number of the event that ended the stream, when one did.
    pub fn terminal_event_number(&self) -> Option<u64> {
        self.terminal_at
    }

    /// The last event seen (`chunk` for a Chat chunk, `[DONE]`, or the `event:` name).
    pub fn last_event(&self) -> Option<&str> {
        self.last_event.as_deref()
    }

    /// The last `finish_reason` a Chat chunk gave (`stop`, `length`, `content_filter`,
    /// `tool_calls`): a completed stream can still be a truncated answer.
    pub fn finish_reason(&self) -> Option<&str> {
        self.finish_reason.as_deref()
    }

    /// Lines or data dropped for being over the limits.
    pub fn oversize(&self) -> u64 {
        self.oversize
    }

    /// Ends the stream and returns its final state.
    pub fn finish(&mut self) -> StreamState {
        for i in self.parser.finish() {
            self.item(i);
        }
        self.state()
    }

    /// The state as of now: the terminal state, or `Cut` when none has arrived.
    pub fn state(&self) -> StreamState {
        match &self.terminal {
            Some(t) => t.clone(),
            None => StreamState::Cut {
                last_event: self.last_event.clone(),
                bytes: self.parser.bytes(),
                events: self.events,
            },
        }
    }

    /// The bytes a proxy appends when the upstream dropped: whatever ends a partial line and
    /// event, then one error the official SDKs raise on (`APIError` in Python and Node).
    ///
    /// Both SDKs raise on a data object with a truthy `error` key (for no event name, a
    /// `response.*` name, or `error`); Node also raises on any `event: error`, Python only when
    /// its data has an `error` key. What is appended depends on where the upstream stopped:
    ///
    /// - **Inside an event's data** (in a `data:` line, or after one before the blank line): the
    ///   data sent so far is read as the start of a JSON object and *continued* with the shortest
    ///   text that makes it valid JSON whose top-level object gains a last key
    ///   `"error": {"message", "type": "server_error", "param": null, "code": "stream_interrupted"}`
    ///   (a cut string, escape, UTF-8 character, number or literal is finished, open containers
    ///   are closed), then the blank line. The event the client already half received thus
    ///   becomes the error: no byte is taken back or held. When the data is already a whole
    ///   object, the event is ended and the error event follows, unless that event ends the
    ///   stream (`response.completed`, `[DONE]`, an upstream error): then only its blank line
    ///   was missing, and nothing follows it. A cut inside `data: [DONE]` of a Chat stream is
    ///   finished as `[DONE]`: the answer was complete.
    /// - **Between events**: one error event. Chat form `data: {"error": {...}}`; Responses form
    ///   `event: error` with the spec's flat fields (`type`, `code`, `message`, `param`,
    ///   `sequence_number`) plus the same error nested under `error`.
    /// - **Inside an event with no data yet** (after its `event:` line, or in a field name): the
    ///   error's fields complete that event; a partial field name is made into one the SDKs
    ///   ignore, and `event: error` replaces its name.
    ///
    /// Only when the data cannot be continued (not an object, not valid JSON, dropped for being
    /// over the parser's limits, an event name the SDKs do not check for errors) is the event
    /// ended as it is; the SDKs then fail on its JSON, which still raises, but not `APIError`.
    pub fn closing_bytes(&self, message: &str) -> Vec<u8> {
        let p = &self.parser;
        let mut out = Vec::new();
        if p.after_cr() {
            // A `\n` right after `\r` is part of the same line end: send one to be swallowed.
            out.push(b'\n');
        }
        if let Some(rest) = self.continue_data(message) {
            out.extend_from_slice(&rest);
            return out;
        }
        let mut kind = self.kind;
        if p.mid_line() {
            // A character cut in half would make the SDKs' UTF-8 decoding of the line fail.
            complete::finish_cut_char(&p.line, &mut out);
        }
        if p.pending_data() {
            if p.mid_line() {
                out.push(b'\n');
            }
            if p.mid_line() || p.mid_event() {
                out.push(b'\n');
            }
            // When the event this ends is the stream's last (`[DONE]`, `response.completed`, an
            // upstream error), only its blank line was missing: nothing is lost, and an error
            // after it would turn a complete answer into an exception.
            let mut after = self.clone();
            after.push(&out);
            if after.terminal.is_some() {
                return out;
            }
        } else {
            if p.mid_line() {
                if !p.partial_line().contains(&b':') {
                    // `d`, `even`, `data`: an unknown field name once extended.
                    out.push(b'_');
                }
                out.push(b'\n');
            }
            if p.mid_line() || p.mid_event() {
                // `event: error` replaces whatever name the pending event has, or was getting.
                kind = StreamKind::Responses;
            }
        }
        let seq = self.last_sequence.map(|s| s.saturating_add(1));
        out.extend_from_slice(interrupted_event(kind, message, seq).as_bytes());
        out
    }

    /// The bytes that continue the pending event's data into an object with the error key (see
    /// [`StreamWatch::closing_bytes`]), or `None` when that event cannot be continued.
    fn continue_data(&self, message: &str) -> Option<Vec<u8>> {
        let p = &self.parser;
        if !p.pending_data() || p.overflow > 0 || p.data_overflow {
            return None;
        }
        let partial = p.partial_line();
        let field = partial.split(|&b| b == b':').next().unwrap_or_default();
        let has_colon = partial.contains(&b':');
        let value = |line: &[u8]| -> Vec<u8> {
            let v = &line[field.len() + 1..];
            v.strip_prefix(b" ").unwrap_or(v).to_vec()
        };
        // The event's name once the partial line is ended.
        let name = if has_colon && field == b"event" {
            Some(value(partial))
        } else {
            p.event_type.as_ref().map(|n| n.as_bytes().to_vec())
        };
        let name = name.filter(|n| !n.is_empty());
        let checked = match &name {
            None => true,
            Some(n) => n.starts_with(b"response.") || n == b"error",
        };
        if !checked {
            return None;
        }
        // The data as the SDKs will join it, and what goes before the completion.
        let mut data = Vec::new();
        if p.has_data {
            data.extend_from_slice(p.data.as_bytes());
            data.push(b'\n');
        }
        let mut lead = Vec::new();
        if has_colon && field == b"data" {
            data.extend_from_slice(&value(partial));
            // Only in a stream already seen to be Chat Completions: there a line starting with
            // `[` is the `[DONE]` that follows the last chunk.
            if !p.has_data && name.is_none() && self.kind == StreamKind::ChatCompletions {
                let done: &[u8] = b"[DONE]";
                if !data.is_empty() && done.starts_with(&data) {
                    let mut out = done[data.len()..].to_vec();
                    out.extend_from_slice(b"\n\n");
                    return Some(out);
                }
            }
        } else {
            if p.mid_line() {
                if !has_colon {
                    lead.push(b'_');
                }
                lead.push(b'\n');
            }
            lead.extend_from_slice(b"data: ");
        }
        match complete::complete_object(&data, interrupted_error(message).as_bytes()) {
            complete::Completion::Tail(tail) => {
                lead.extend_from_slice(&tail);
                lead.extend_from_slice(b"\n\n");
                Some(lead)
            }
            complete::Completion::Closed | complete::Completion::NotAnObject => None,
        }
    }

    fn item(&mut self, item: Item) {
        match item {
            Item::Event(e) => self.event(e),
            Item::LineTooLong { .. } | Item::DataTooLong { .. } => self.oversize += 1,
        }
    }

    fn event(&mut self, e: Event) {
        self.events += 1;
        let name = e.event.as_deref();
        if let Some(n) = name {
            if n.starts_with("response.") || n == "error" {
                self.kind = StreamKind::Responses;
            }
        }
        if let Some(seq) = sequence_number(&e.data) {
            self.last_sequence = Some(seq);
        }
        let label = match name {
            Some(n) => String::from(n),
            None if e.data.trim() == "[DONE]" || e.data.starts_with("[DONE]") => {
                String::from("[DONE]")
            }
            None => String::from("chunk"),
        };
        self.last_event = Some(label);
        if self.terminal.is_some() {
            return;
        }
        let terminal = match name {
            None => {
                if e.data.starts_with("[DONE]") {
                    if self.kind == StreamKind::Unknown {
                        self.kind = StreamKind::ChatCompletions;
                    }
                    Some(StreamState::Completed)
                } else {
                    self.chat_chunk(&e.data)
                }
            }
            // Both SDKs raise on a top-level `error` in a `response.*` event before looking at
            // its type (Airlock's own completion of a cut event ends up here).
            Some(n) if n.starts_with("response.") && top_level_error(&e.data).is_some() => {
                top_level_error(&e.data).map(|mut error| {
                    error.event = String::from(n);
                    StreamState::Failed { error }
                })
            }
            Some("response.completed") => Some(StreamState::Completed),
            Some("response.failed") => {
                let v = json(&e.data);
                let err = v
                    .as_ref()
                    .and_then(|v| v.get("response"))
                    .and_then(|r| r.get("error"));
                let mut error = err.map(error_fields).unwrap_or_default();
                error.sequence_number = v.as_ref().and_then(seq_of);
                error.event = String::from("response.failed");
                Some(StreamState::Failed { error })
            }
            Some("response.incomplete") => {
                let reason = json(&e.data).and_then(|v| {
                    v.get("response")?
                        .get("incomplete_details")?
                        .get("reason")?
                        .as_str()
                        .map(String::from)
                });
                Some(StreamState::Incomplete { reason })
            }
            Some("error") => {
                let v = json(&e.data);
                let mut error = StreamError::default();
                if let Some(v) = &v {
                    // The spec's flat shape, or an `error` object nested inside.
                    error = error_fields(v);
                    if let Some(inner) = v.get("error").filter(|e| e.is_object()) {
                        let nested = error_fields(inner);
                        if nested.code.as_deref() == Some(INTERRUPTED_CODE) {
                            // Airlock's completion of an error event the upstream cut: the flat
                            // fields are the cut ones, and the SDKs raise the nested error.
                            error = StreamError::default();
                        }
                        error.code = error.code.or(nested.code);
                        error.message = error.message.or(nested.message);
                        error.param = error.param.or(nested.param);
                        error.error_type = nested.error_type.or(error.error_type);
                    }
                    if error.error_type.as_deref() == Some("error") {
                        error.error_type = None;
                    }
                    error.sequence_number = seq_of(v);
                } else if let Some(own) = own_interrupted_error(&e.data) {
                    error = own;
                } else if !e.data.trim().is_empty() {
                    error.message = Some(e.data.clone());
                }
                error.event = String::from("error");
                Some(StreamState::Failed { error })
            }
            Some(_) => None,
        };
        if terminal.is_some() {
            self.terminal = terminal;
            self.terminal_at = Some(self.events);
        }
    }

    fn chat_chunk(&mut self, data: &str) -> Option<StreamState> {
        if let Some(reason) = finish_reason(data) {
            self.finish_reason = Some(reason);
        }
        // Cheap pre-check: only a chunk that mentions "error" is parsed.
        if !data.contains("\"error\"") {
            if self.kind == StreamKind::Unknown && data.contains("chat.completion.chunk") {
                self.kind = StreamKind::ChatCompletions;
            }
            return None;
        }
        let Some(v) = json(data) else {
            return own_interrupted_error(data).map(|mut error| {
                error.event = String::from("data");
                StreamState::Failed { error }
            });
        };
        if self.kind == StreamKind::Unknown
            && v.get("object").and_then(|o| o.as_str()) == Some("chat.completion.chunk")
        {
            self.kind = StreamKind::ChatCompletions;
        }
        let err = v.get("error")?;
        if err.is_null() || err == &serde_json::Value::Bool(false) {
            return None;
        }
        let mut error = if err.is_object() {
            error_fields(err)
        } else {
            StreamError {
                message: err.as_str().map(String::from),
                ..StreamError::default()
            }
        };
        error.event = String::from("data");
        Some(StreamState::Failed { error })
    }
}

/// The fields of a truthy top-level `error` object in an event's data (one both SDKs raise on).
///
/// Only data holding `"error":{` is parsed: the `"error":null` inside every `response.created`
/// and `response.completed` is not worth parsing a whole response for.
fn top_level_error(data: &str) -> Option<StreamError> {
    if !data.contains("\"error\":{") && !data.contains("\"error\": {") {
        return None;
    }
    let Some(v) = json(data) else {
        return own_interrupted_error(data);
    };
    let err = v.get("error")?;
    match err {
        serde_json::Value::Object(m) if !m.is_empty() => Some(error_fields(err)),
        _ => None,
    }
}

/// Airlock's own `error` key closing an event's data ([`StreamWatch::closing_bytes`] continued
/// it), read even when the data before it does not parse here: `serde_json` refuses numbers
/// beyond `f64` (`1e400`) and lone surrogate escapes (`"\ud800"`), which both SDKs' parsers
/// accept, so they raise this error while the watcher would have seen no error at all.
fn own_interrupted_error(data: &str) -> Option<StreamError> {
    const KEY: &str = "\"error\":{\"message\":";
    let at = data.rfind(KEY)?;
    // The error object, then the `}` that closes the top-level object.
    let rest = data[at + KEY.len() - "{\"message\":".len()..].trim_end();
    let object = rest.strip_suffix('}')?;
    let v = json(object)?;
    if v.get("code").and_then(|c| c.as_str()) != Some(INTERRUPTED_CODE) {
        return None;
    }
    Some(error_fields(&v))
}

fn json(data: &str) -> Option<serde_json::Value> {
    serde_json::from_str(data).ok()
}

fn str_field(v: &serde_json::Value, k: &str) -> Option<String> {
    match v.get(k)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn error_fields(v: &serde_json::Value) -> StreamError {
    StreamError {
        code: str_field(v, "code"),
        message: str_field(v, "message"),
        param: str_field(v, "param"),
        error_type: str_field(v, "type"),
        sequence_number: None,
        event: String::new(),
    }
}

fn seq_of(v: &serde_json::Value) -> Option<u64> {
    v.get("sequence_number")?.as_u64()
}

/// A non-null `"finish_reason": "…"` in a Chat chunk, read without parsing the chunk.
fn finish_reason(data: &str) -> Option<String> {
    const KEY: &str = "\"finish_reason\"";
    let at = data.find(KEY)?;
    let rest = data[at + KEY.len()..].trim_start().strip_prefix(':')?;
    let rest = rest.trim_start().strip_prefix('"')?;
    let end = rest.find('"')?;
    Some(String::from(&rest[..end]))
}

/// The last top-level-looking `"sequence_number": N` in an event's data, read without parsing it.
fn sequence_number(data: &str) -> Option<u64> {
    const KEY: &str = "\"sequence_number\"";
    let at = data.rfind(KEY)?;
    let rest = data[at + KEY.len()..].trim_start();
    let rest = rest.strip_prefix(':')?.trim_start();
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// The `error` object of Airlock's interrupted-stream error, as compact JSON. Written by hand to
/// keep OpenAI's key order (message, type, param, code).
fn interrupted_error(message: &str) -> String {
    let message = serde_json::Value::String(String::from(message));
    alloc::format!(
        r#"{{"message":{message},"type":"server_error","param":null,"code":"{INTERRUPTED_CODE}"}}"#
    )
}

/// The error event a proxy appends when the upstream dropped, for a stream of `kind` (an
/// `Unknown` stream gets the Chat form, which both SDKs raise on for either API).
///
/// # Example
/// ```
/// use airlock_rules::sse::{interrupted_event, StreamKind};
///
/// let e = interrupted_event(StreamKind::ChatCompletions, "upstream closed", None);
/// assert!(e.starts_with("data: {\"error\":{"));
/// assert!(e.ends_with("\n\n"));
/// ```
pub fn interrupted_event(kind: StreamKind, message: &str, sequence_number: Option<u64>) -> String {
    let error = interrupted_error(message);
    let message = serde_json::Value::String(String::from(message));
    match kind {
        StreamKind::Responses => alloc::format!(
            "event: error\ndata: {{\"type\":\"error\",\"code\":\"{INTERRUPTED_CODE}\",\"message\":{message},\"param\":null,\"sequence_number\":{},\"error\":{error}}}\n\n",
            sequence_number.unwrap_or(0)
        ),
        _ => alloc::format!("data: {{\"error\":{error}}}\n\n"),
    }
}

/// What a pasted stream shows: its shape, how it ended, and where.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StreamSummary {
    /// Chat Completions, Responses, or unknown.
    pub kind: StreamKind,
    /// How it ended.
    pub state: StreamState,
    /// Events read.
    pub events: u64,
    /// Bytes read.
    pub bytes: u64,
    /// The 1-based number of the event that failed or ended the stream, when one did.
    pub at_event: Option<u64>,
    /// The last event seen.
    pub last_event: Option<String>,
    /// The last `finish_reason` of a Chat stream.
    pub finish_reason: Option<String>,
    /// Lines or data dropped for being over the limits.
    pub oversize: u64,
}

impl StreamSummary {
    /// The facts for the classifier ([`crate::diagnose`]) when the stream did not complete:
    /// the error of a failed stream, the reason of an incomplete one, or what was last seen
    /// before a cut. `None` for a completed stream.
    ///
    /// # Example
    /// ```
    /// use airlock_rules::sse::describe_stream;
    ///
    /// let s = describe_stream("data: {\"object\":\"chat.completion.chunk\",\"choices\":[]}\n\n").unwrap();
    /// let e = s.evidence().unwrap();
    /// assert!(e.in_stream);
    /// assert_eq!(airlock_rules::diagnose(&e).category.as_str(), "stream_error");
    /// ```
    pub fn evidence(&self) -> Option<crate::Evidence> {
        let mut e = crate::Evidence {
            format: crate::Format::Sse,
            in_stream: true,
            ..crate::Evidence::default()
        };
        match &self.state {
            StreamState::Completed => return None,
            StreamState::Failed { error } => {
                e.code = error.code.clone();
                e.error_type = error.error_type.clone();
                e.param = error.param.clone();
                e.message = error.message.clone();
                e.stream_event = Some(error.event.clone());
                if e.code.is_none() && e.error_type.is_none() && e.message.is_none() {
                    e.code = Some(String::from("stream_error"));
                }
            }
            StreamState::Incomplete { reason } => {
                e.stream_event = Some(String::from("response.incomplete"));
                e.message = Some(alloc::format!(
                    "The response is incomplete: {}.",
                    reason.as_deref().unwrap_or("no reason given")
                ));
                e.code = Some(String::from("stream_error"));
            }
            StreamState::Cut {
                last_event, events, ..
            } => {
                e.code = Some(String::from("stream_error"));
                e.message = Some(alloc::format!(
                    "The stream ended unexpectedly after {events} events (last: {}), without {}.",
                    last_event.as_deref().unwrap_or("none"),
                    match self.kind {
                        StreamKind::Responses => "response.completed",
                        _ => "data: [DONE]",
                    }
                ));
            }
        }
        Some(e)
    }
}

/// Reads a whole pasted stream (e.g. the output of `curl -N`) and says how it ended.
///
/// Returns `None` when the text holds no server-sent event at all.
///
/// # Example
/// ```
/// use airlock_rules::sse::{describe_stream, StreamState};
///
/// let s = describe_stream("event: response.created\ndata: {}\n\nevent: error\ndata: {\"type\":\"error\",\"code\":\"server_error\",\"message\":\"boom\",\"param\":null,\"sequence_number\":1}\n\n").unwrap();
/// assert_eq!(s.at_event, Some(2));
/// assert!(matches!(s.state, StreamState::Failed { .. }));
/// ```
pub fn describe_stream(text: &str) -> Option<StreamSummary> {
    let mut w = StreamWatch::new();
    let data_lines = text
        .lines()
        .filter(|l| l.trim_start().starts_with("data:"))
        .count();
    let blank_lines = text.lines().any(|l| l.trim().is_empty());
    if data_lines > 1 && !blank_lines {
        // A paste whose blank lines were lost (a log viewer, a terminal copy): each `data:` line
        // is read as one event.
        for line in text.lines() {
            let line = line.trim_start();
            w.push(line.as_bytes());
            w.push(if line.starts_with("data:") {
                b"\n\n"
            } else {
                b"\n"
            });
        }
    } else {
        w.push(text.as_bytes());
    }
    let state = w.finish();
    if w.events == 0 {
        return None;
    }
    Some(StreamSummary {
        kind: w.kind,
        state,
        events: w.events,
        bytes: w.bytes(),
        at_event: w.terminal_at,
        last_event: w.last_event.clone(),
        finish_reason: w.finish_reason.clone(),
        oversize: w.oversize,
    })
}
