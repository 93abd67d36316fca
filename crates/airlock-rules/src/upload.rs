//! A Batch input file linted while it is uploaded (`POST /v1/files`, `purpose=batch`) and passed
//! on: the logic a proxy needs, with no I/O (the worker's `upload.rs` does the streaming).
//!
//! The multipart body is read chunk by chunk; [`Multipart`] splits it into parts as it goes
//! (boundary from the `content-type`, holding back only a boundary's length between chunks), the
//! `file` part's bytes go straight into [`BatchLinter`] (one line held at a time), and the
//! `purpose` field is kept (a few bytes).
//!
//! [`Pump`] decides which bytes may go upstream: only bytes the linter has already judged. Inside
//! the `file` part that is everything up to the last complete line; the current line (and a
//! boundary's length) is held, which the linter holds anyway. So the bytes of a bad line never
//! reach the upstream, and neither does the closing boundary of a bad file: an upload the upstream
//! could turn into a file is only ever completed after the whole file was judged good.
//!
//! - Nothing is released until a first window is judged (the whole body if smaller), so a proxy
//!   can answer a small bad file without calling the upstream at all ([`Pump::ready`]).
//! - `purpose` may come after the file (the Node SDK sends `file` first). Until it is known, an
//!   error stops the release and the bytes are held, up to [`HOLD_CAP`]: `purpose` other than
//!   `batch` releases them and streams on; over the cap they are released too and the upload
//!   streams on unchecked ([`Note`]; valid traffic is never blocked).
//! - A line longer than [`LINE_CAP`] is released as it arrives (memory stays bounded); it is still
//!   linted, and the closing boundary still waits for the verdict.
//! - Not multipart, or `purpose` known and not `batch`: the bytes are released as they arrive.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::batch::{BatchLinter, LineError, LintState};
use crate::validate::Config;

/// Bytes held after an error was found while `purpose` is still unknown; past it the upload is
/// passed on unchecked (with a warning).
pub const HOLD_CAP: usize = 1024 * 1024;
/// The most bytes of one unfinished line held back; a longer line is forwarded as it arrives.
pub const LINE_CAP: usize = 16 * 1024 * 1024;
/// Errors kept (the count goes on).
const MAX_ERRORS: usize = 100;
/// Bytes of the `purpose` field kept.
const PURPOSE_KEPT: usize = 64;
/// Headers longer than this make the body malformed (nothing judged, passed on).
const MAX_HEADERS: usize = 16 * 1024;

/// The `boundary` parameter of a `multipart/form-data` content type.
pub fn boundary(content_type: Option<&str>) -> Option<String> {
    let mut params = content_type?.split(';');
    let media = params.next()?.trim();
    if !media.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find_map(|p| {
        let (name, value) = p.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim().trim_matches('"');
        (!value.is_empty() && value.len() <= 200).then(|| value.to_owned())
    })
}

#[derive(Debug, PartialEq, Eq)]
enum State {
    /// Before the first delimiter.
    Preamble,
    /// Right after a delimiter: `--` (the end) or a line end (a part follows).
    AfterDelimiter,
    /// Reading a part's headers.
    Headers,
    /// Reading a part's body.
    Body,
    /// After the closing delimiter (or a malformed body).
    Done,
}

/// Which part is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    File,
    Purpose,
    Other,
}

/// An incremental `multipart/form-data` reader that lints the `file` part as a Batch input file
/// and says how far into the body it has judged.
#[derive(Debug)]
pub struct Multipart {
    /// `\r\n--boundary` (the body is read as if it began with `\r\n`).
    delimiter: Vec<u8>,
    state: State,
    /// Unprocessed bytes: at most a delimiter's length (or a part's headers) between chunks.
    held: Vec<u8>,
    /// Offset of `held[0]`, counting the two virtual bytes (`\r\n`) in front of the body.
    base: u64,
    /// In the `file` part: offset (virtual, as `base`) where the line not yet judged starts.
    line_start: u64,
    /// Body bytes pushed.
    pushed: u64,
    part: Part,
    /// The first [`PURPOSE_KEPT`] bytes of the `purpose` part.
    purpose: Vec<u8>,
    /// More than whitespace followed those bytes (so it is not `batch`).
    purpose_long: bool,
    /// The `purpose` part has ended.
    purpose_done: bool,
    linter: BatchLinter,
    errors: Vec<LineError>,
    file_seen: bool,
    /// The body did not read as multipart: nothing is judged.
    malformed: bool,
}

impl Multipart {
    /// A reader for `boundary`, linting with the validators' `config`.
    pub fn new(boundary: &str, config: Config) -> Self {
        Multipart {
            delimiter: format!("\r\n--{boundary}").into_bytes(),
            state: State::Preamble,
            held: b"\r\n".to_vec(),
            base: 0,
            line_start: 0,
            pushed: 0,
            part: Part::Other,
            purpose: Vec::new(),
            purpose_long: false,
            purpose_done: false,
            linter: BatchLinter::with_state(LintState::with_config(config)),
            errors: Vec::new(),
            file_seen: false,
            malformed: false,
        }
    }

    /// Feeds one chunk of the body.
    pub fn push(&mut self, chunk: &[u8]) {
        self.pushed += chunk.len() as u64;
        if self.state == State::Done {
            return;
        }
        self.held.extend_from_slice(chunk);
        loop {
            match self.state {
                State::Preamble | State::Body => {
                    let held = core::mem::take(&mut self.held);
                    match find(&held, &self.delimiter) {
                        Some(i) => {
                            self.data(&held[..i]);
                            self.end_part();
                            self.held = held;
                            self.consume(i + self.delimiter.len());
                            self.state = State::AfterDelimiter;
                        }
                        None => {
                            // Keep what could be the start of a delimiter.
                            let keep = (self.delimiter.len() - 1).min(held.len());
                            let cut = held.len() - keep;
                            self.data(&held[..cut]);
                            self.held = held;
                            self.consume(cut);
                            return;
                        }
                    }
                }
                State::AfterDelimiter => {
                    if self.held.len() < 2 {
                        return;
                    }
                    if self.held.starts_with(b"--") {
                        self.state = State::Done;
                        self.held = Vec::new();
                        return;
                    }
                    // Transport padding, then CRLF.
                    match self.held.iter().position(|&b| b == b'\n') {
                        Some(i) => {
                            self.consume(i + 1);
                            self.state = State::Headers;
                        }
                        None if self.held.len() > MAX_HEADERS => return self.fail(),
                        None => return,
                    }
                }
                State::Headers => match find(&self.held, b"\r\n\r\n") {
                    Some(i) => {
                        self.part = part_name(&self.held[..i]);
                        if self.part == Part::File {
                            self.file_seen = true;
                        }
                        self.consume(i + 4);
                        self.line_start = self.base;
                        self.state = State::Body;
                    }
                    None if self.held.len() > MAX_HEADERS => return self.fail(),
                    None => return,
                },
                State::Done => return,
            }
        }
    }

    /// How many bytes from the start of the body are judged: everything before the current,
    /// unfinished line of the `file` part and before the bytes kept to find a boundary.
    pub fn judged(&self) -> u64 {
        let virtual_offset = match self.state {
            State::Done => return self.pushed,
            State::Body if self.part == Part::File => self.line_start,
            _ => self.base,
        };
        virtual_offset.saturating_sub(2).min(self.pushed)
    }

    /// `Some(true)` once a `purpose` part reading `batch` has ended, `Some(false)` for any other
    /// purpose, `None` while it is not known.
    pub fn purpose_is_batch(&self) -> Option<bool> {
        self.purpose_done
            .then(|| !self.purpose_long && self.purpose.trim_ascii() == b"batch")
    }

    /// The problems found in the `file` part so far (at most 100 kept); none once `purpose` is
    /// known not to be `batch` (the file is then no Batch input file, whether `purpose` came
    /// before it or after).
    pub fn errors(&self) -> &[LineError] {
        if self.purpose_is_batch() == Some(false) {
            return &[];
        }
        &self.errors
    }

    /// The body did not read as `multipart/form-data` with this boundary.
    pub fn is_malformed(&self) -> bool {
        self.malformed
    }

    /// Requests (non-blank lines) of the `file` part linted so far.
    pub fn requests(&self) -> u64 {
        self.linter.state().requests()
    }

    fn consume(&mut self, n: usize) {
        self.held.drain(..n);
        self.base += n as u64;
    }

    fn fail(&mut self) {
        self.malformed = true;
        self.state = State::Done;
        self.held = Vec::new();
    }

    /// Bytes of the current part; they start at `self.base`.
    fn data(&mut self, data: &[u8]) {
        if data.is_empty() || self.state != State::Body {
            return;
        }
        match self.part {
            Part::File => {
                // Once `purpose` is known not to be `batch`, the file is no Batch input file.
                if self.purpose_is_batch() != Some(false) {
                    let found = self.linter.push(data);
                    self.keep(found);
                }
                if let Some(i) = data.iter().rposition(|&b| b == b'\n') {
                    self.line_start = self.base + i as u64 + 1;
                }
            }
            // A second `purpose` part is ignored: the first one decided (the pump may already
            // have acted on it, so letting a later one change it made the verdict depend on
            // where the network cut the body).
            Part::Purpose if self.purpose_done => {}
            Part::Purpose => {
                // The first bytes are kept, whatever pieces they come in (keeping a piece only
                // when it fit made the verdict depend on the network's chunking); past them,
                // only whether anything but whitespace followed.
                let room = PURPOSE_KEPT
                    .saturating_sub(self.purpose.len())
                    .min(data.len());
                let (head, rest) = data.split_at(room);
                self.purpose.extend_from_slice(head);
                if !rest.iter().all(u8::is_ascii_whitespace) {
                    self.purpose_long = true;
                }
            }
            Part::Other => {}
        }
    }

    fn end_part(&mut self) {
        if self.state == State::Body {
            match self.part {
                Part::File => {
                    let found = self.linter.finish();
                    self.keep(found);
                }
                Part::Purpose => self.purpose_done = true,
                Part::Other => {}
            }
        }
        self.part = Part::Other;
    }

    fn keep(&mut self, found: Vec<LineError>) {
        for e in found {
            if self.errors.len() < MAX_ERRORS {
                self.errors.push(e);
            }
        }
    }
}

/// Where an upload stands, as far as forwarding goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Bytes go on as soon as the linter has judged them.
    Linting,
    /// An error was found while `purpose` is unknown: bytes are held until it is.
    Holding,
    /// Not judged (not a Batch upload, or gave up; see [`Pump::note`]): bytes go on as they arrive.
    Passing,
    /// A Batch upload with errors: nothing more goes on; the rest is read and linted.
    Rejected,
}

/// Why an upload was passed on without a verdict, or forwarded ahead of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// `purpose` is not `batch`.
    NotBatch,
    /// The body is not `multipart/form-data` with the announced boundary.
    NotMultipart,
    /// An error was found before `purpose` was known and more than [`HOLD_CAP`] bytes followed.
    HoldCap,
    /// A line longer than [`LINE_CAP`] was forwarded before it was judged.
    LineCap,
    /// The body ended before the multipart body did, or without a `purpose`.
    Incomplete,
}

impl Note {
    /// The name used in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Note::NotBatch => "not_batch",
            Note::NotMultipart => "not_multipart",
            Note::HoldCap => "hold_cap",
            Note::LineCap => "line_cap",
            Note::Incomplete => "incomplete",
        }
    }
}

/// Decides, chunk by chunk, which bytes of an upload may go upstream: only bytes the linter has
/// judged (see the module doc). Pure: bytes in, bytes out.
#[derive(Debug)]
pub struct Pump {
    reader: Multipart,
    /// Bytes received and not yet released, in order.
    pending: Vec<u8>,
    received: u64,
    released: u64,
    window: u64,
    mode: Mode,
    note: Option<Note>,
    /// Passing after the hold cap: still linted, for the log.
    lint_passing: bool,
    hold_cap: usize,
    line_cap: usize,
}

impl Pump {
    /// A pump for an upload with this multipart `boundary`; `window` bytes are judged before the
    /// upstream request is opened ([`Pump::ready`]).
    pub fn new(boundary: &str, config: Config, window: u64) -> Self {
        Pump {
            reader: Multipart::new(boundary, config),
            pending: Vec::new(),
            received: 0,
            released: 0,
            window,
            mode: Mode::Linting,
            note: None,
            lint_passing: false,
            hold_cap: HOLD_CAP,
            line_cap: LINE_CAP,
        }
    }

    /// The same pump with other caps (tests).
    #[cfg(test)]
    fn with_caps(mut self, hold_cap: usize, line_cap: usize) -> Self {
        self.hold_cap = hold_cap;
        self.line_cap = line_cap;
        self
    }

    /// Feeds one chunk of the client's body; returns the bytes that may go upstream now.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        self.received += chunk.len() as u64;
        match self.mode {
            Mode::Passing => {
                if self.lint_passing && self.reader.purpose_is_batch() != Some(false) {
                    self.reader.push(chunk);
                }
                self.released += chunk.len() as u64;
                chunk.to_vec()
            }
            Mode::Rejected => {
                if self.reader.errors().len() < MAX_ERRORS {
                    self.reader.push(chunk);
                }
                Vec::new()
            }
            Mode::Linting | Mode::Holding => {
                self.reader.push(chunk);
                self.pending.extend_from_slice(chunk);
                self.settle()
            }
        }
    }

    /// The client's body ended; returns the last bytes that may go upstream (none if rejected).
    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = self.settle();
        if matches!(self.mode, Mode::Linting | Mode::Holding) {
            // Everything was judged unless the multipart body was cut short or had no purpose:
            // the upstream will answer that one itself.
            if !self.pending.is_empty() || self.reader.purpose_is_batch().is_none() {
                self.note.get_or_insert(Note::Incomplete);
            }
            out.extend(self.release(self.pending.len()));
            self.mode = Mode::Passing;
        }
        out
    }

    /// The upstream request may be opened: the first window is judged and released (or the
    /// upload is passed on unjudged). Never once it is rejected.
    pub fn ready(&self) -> bool {
        match self.mode {
            Mode::Rejected => false,
            Mode::Passing => true,
            Mode::Linting | Mode::Holding => self.released >= self.window,
        }
    }

    /// Where the upload stands.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Why it was passed on unjudged or forwarded ahead of a verdict, if it was. Held over the
    /// cap, then found not to be a Batch upload after all, reads as [`Note::NotBatch`].
    pub fn note(&self) -> Option<Note> {
        match self.note {
            Some(Note::HoldCap) if self.reader.purpose_is_batch() == Some(false) => {
                Some(Note::NotBatch)
            }
            note => note,
        }
    }

    /// A Batch upload with errors went upstream unjudged (held over the cap before `purpose`
    /// was known): worth a warning.
    pub fn forwarded_with_errors(&self) -> bool {
        self.note() == Some(Note::HoldCap) && !self.errors().is_empty()
    }

    /// Bytes received from the client.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Bytes released to go upstream.
    #[cfg(test)]
    fn released(&self) -> u64 {
        self.released
    }

    /// Bytes held now (what the pump's memory is).
    #[cfg(test)]
    fn held(&self) -> usize {
        self.pending.len()
    }

    /// The problems found in the file (at most 100 kept).
    pub fn errors(&self) -> &[LineError] {
        self.reader.errors()
    }

    /// Requests (non-blank lines) linted.
    pub fn requests(&self) -> u64 {
        self.reader.requests()
    }

    /// The file is a Batch input file with errors (`purpose` known): the 400's errors.
    pub fn rejection(&self) -> Option<&[LineError]> {
        (self.mode == Mode::Rejected).then(|| self.errors())
    }

    fn settle(&mut self) -> Vec<u8> {
        if !matches!(self.mode, Mode::Linting | Mode::Holding) {
            return Vec::new();
        }
        if self.reader.is_malformed() {
            return self.pass(Note::NotMultipart);
        }
        let errors = !self.reader.errors().is_empty();
        match self.reader.purpose_is_batch() {
            Some(false) => return self.pass(Note::NotBatch),
            Some(true) if errors => {
                self.mode = Mode::Rejected;
                self.pending = Vec::new();
                return Vec::new();
            }
            _ => {}
        }
        if errors {
            self.mode = Mode::Holding;
            if self.pending.len() > self.hold_cap {
                self.lint_passing = true;
                return self.pass(Note::HoldCap);
            }
            return Vec::new();
        }
        let judged = self.reader.judged();
        let mut n = usize::try_from(judged.saturating_sub(self.released))
            .unwrap_or(usize::MAX)
            .min(self.pending.len());
        if self.pending.len() - n > self.line_cap {
            self.note.get_or_insert(Note::LineCap);
            n = self.pending.len();
        }
        self.release(n)
    }

    fn pass(&mut self, note: Note) -> Vec<u8> {
        self.mode = Mode::Passing;
        self.note = Some(note);
        self.release(self.pending.len())
    }

    fn release(&mut self, n: usize) -> Vec<u8> {
        self.released += n as u64;
        if n == self.pending.len() {
            core::mem::take(&mut self.pending)
        } else {
            self.pending.drain(..n).collect()
        }
    }
}

/// The `name` in a part's `Content-Disposition`.
fn part_name(headers: &[u8]) -> Part {
    let text = String::from_utf8_lossy(headers);
    for line in text.split("\r\n") {
        let Some((field, value)) = line.split_once(':') else {
            continue;
        };
        if !field.trim().eq_ignore_ascii_case("content-disposition") {
            continue;
        }
        for param in value.split(';').skip(1) {
            let Some((k, v)) = param.split_once('=') else {
                continue;
            };
            if k.trim().eq_ignore_ascii_case("name") {
                return match v.trim().trim_matches('"') {
                    "file" => Part::File,
                    "purpose" => Part::Purpose,
                    _ => Part::Other,
                };
            }
        }
    }
    Part::Other
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut from = 0;
    while from + needle.len() <= haystack.len() {
        let i = from + haystack[from..].iter().position(|&b| b == first)?;
        if haystack.get(i..i + needle.len())? == needle {
            return Some(i);
        }
        from = i + 1;
    }
    None
}

/// The 400 message: the problems by line number.
pub fn message(errors: &[LineError]) -> String {
    let mut out = format!(
        "The batch input file has {} problem{}; the file was not uploaded.",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
    for e in errors.iter().take(20) {
        match e.line {
            Some(n) => out.push_str(&format!(" Line {n}: {} ({}).", e.message, e.code)),
            None => out.push_str(&format!(" {} ({}).", e.message, e.code)),
        }
    }
    if errors.len() > 20 {
        out.push_str(&format!(" And {} more.", errors.len() - 20));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDARY: &str = "XyZ";

    fn part(name: &str, value: &str) -> String {
        if name == "file" {
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.jsonl\"\r\n\
                 Content-Type: application/jsonl\r\n\r\n{value}\r\n"
            )
        } else {
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
        }
    }

    /// A multipart body as the Python SDK sends it (`purpose` first) or as the Node SDK does.
    fn body(purpose: &str, file: &str, purpose_first: bool) -> Vec<u8> {
        let (p, f) = (part("purpose", purpose), part("file", file));
        let parts = if purpose_first { p + &f } else { f + &p };
        format!("{parts}--{BOUNDARY}--\r\n").into_bytes()
    }

    fn line(id: &str) -> String {
        format!(
            "{{\"custom_id\":\"{id}\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{{\"model\":\"gpt-4o-mini\",\"messages\":[{{\"role\":\"user\",\"content\":\"hi {id}\"}}]}}}}\n"
        )
    }

    fn good_file(n: usize) -> String {
        (1..=n).map(|i| line(&format!("r{i}"))).collect()
    }

    /// What a pump did with `body` fed in `step`-byte chunks.
    struct Run {
        /// Everything released, in order.
        released: Vec<u8>,
        /// Bytes received when the upstream could first be opened, if ever.
        ready_at: Option<usize>,
        /// The most bytes released at any point, against bytes received then: (received, released).
        trace: Vec<(usize, usize)>,
        max_held: usize,
        mode: Mode,
        note: Option<Note>,
        rejection: Option<Vec<LineError>>,
    }

    fn run_with(mut pump: Pump, b: &[u8], step: usize) -> Run {
        let mut released = Vec::new();
        let mut ready_at = pump.ready().then_some(0);
        let mut trace = Vec::new();
        let mut max_held = 0;
        let mut received = 0;
        for c in b.chunks(step) {
            released.extend(pump.push(c));
            received += c.len();
            trace.push((received, released.len()));
            max_held = max_held.max(pump.held());
            if ready_at.is_none() && pump.ready() {
                ready_at = Some(received);
            }
            assert_eq!(pump.released() as usize, released.len());
        }
        released.extend(pump.finish());
        Run {
            released,
            ready_at,
            trace,
            max_held,
            mode: pump.mode(),
            note: pump.note(),
            rejection: pump.rejection().map(<[LineError]>::to_vec),
        }
    }

    fn run(b: &[u8], step: usize, window: u64) -> Run {
        run_with(Pump::new(BOUNDARY, Config::default(), window), b, step)
    }

    fn offset(b: &[u8], needle: &str) -> usize {
        find(b, needle.as_bytes()).expect("needle in body")
    }

    #[test]
    fn boundary_from_content_type() {
        assert_eq!(
            boundary(Some("multipart/form-data; boundary=----abc")).as_deref(),
            Some("----abc")
        );
        assert_eq!(
            boundary(Some("Multipart/Form-Data; charset=x; Boundary=\"q r\"")).as_deref(),
            Some("q r")
        );
        assert_eq!(boundary(Some("application/json")), None);
        assert_eq!(boundary(None), None);
    }

    #[test]
    fn good_file_released_whole_and_as_it_is_judged_at_every_chunk_size() {
        let file = good_file(4);
        let longest = line("r1").len();
        for purpose_first in [true, false] {
            let b = body("batch", &file, purpose_first);
            for step in 1..=b.len() {
                let r = run(&b, step, 0);
                assert_eq!(r.released, b, "step {step}");
                assert_eq!(
                    (r.mode, r.note, r.rejection.is_none()),
                    (Mode::Passing, None, true)
                );
                // Streamed, not held whole: at most one line, a boundary, a part's headers, a chunk.
                assert!(
                    r.max_held <= longest + 100 + step,
                    "held {} at step {step}",
                    r.max_held
                );
            }
        }
    }

    #[test]
    fn the_closing_boundary_waits_for_the_last_line() {
        // No line end after the last line: it is judged only when the boundary after it arrives.
        let file = good_file(2);
        let b = body("batch", file.trim_end(), true);
        let last = offset(&b, "{\"custom_id\":\"r2\"");
        for step in 1..=b.len() {
            let r = run(&b, step, 0);
            let judged_at = offset(&b, "\r\n--XyZ--") + "\r\n--XyZ".len();
            for &(received, released) in &r.trace {
                if received < judged_at {
                    assert!(
                        released <= last,
                        "last line released before judged, step {step}"
                    );
                }
            }
            assert_eq!(r.released, b);
        }
    }

    #[test]
    fn bad_line_in_a_small_file_sends_nothing() {
        let file = format!("{}not json\n{}", good_file(2), line("r2"));
        for purpose_first in [true, false] {
            let b = body("batch", &file, purpose_first);
            for step in 1..=b.len() {
                let r = run(&b, step, 1024 * 1024);
                assert_eq!(r.ready_at, None, "never opened, step {step}");
                let errors = r.rejection.expect("rejected");
                assert_eq!(
                    (errors[0].line, errors[0].code.as_str()),
                    (Some(3), "invalid_json_line")
                );
                assert_eq!(
                    errors[1].line,
                    Some(4),
                    "the whole file is linted: {errors:?}"
                );
                assert_eq!(errors[1].code, "duplicate_custom_id");
            }
        }
    }

    #[test]
    fn bad_line_1_releases_nothing_of_the_file() {
        let file = format!("{{\"custom_id\": 7}}\n{}", good_file(3));
        for purpose_first in [true, false] {
            let b = body("batch", &file, purpose_first);
            let file_at = offset(&b, "{\"custom_id\": 7}");
            for step in 1..=b.len() {
                let r = run(&b, step, 0);
                assert!(r.released.len() <= file_at, "step {step}");
                assert_eq!(r.rejection.expect("rejected")[0].line, Some(1));
            }
        }
    }

    #[test]
    fn bad_line_after_the_window_stops_right_before_it() {
        let file = format!(
            "{}{{\"custom_id\":\"x\",\"method\":\"GET\"}}\n{}not json\n",
            good_file(4),
            line("r5")
        );
        for purpose_first in [true, false] {
            let b = body("batch", &file, purpose_first);
            let bad_at = offset(&b, "{\"custom_id\":\"x\"");
            let window = 300;
            for step in 1..=b.len() {
                let r = run(&b, step, window);
                // Opened once the window was judged, before the bad line arrived (unless one
                // chunk brought both).
                if r.ready_at.is_none() {
                    assert!(step as u64 > window, "not opened at step {step}");
                }
                assert_eq!(r.released.as_slice(), &b[..r.released.len()]);
                // Nothing of the bad line went; what was judged good before the chunk that
                // completed it did (at most that chunk and the line before it are missing).
                assert!(r.released.len() <= bad_at, "step {step}");
                assert!(
                    bad_at - r.released.len() <= step + line("r4").len(),
                    "step {step}"
                );
                let errors = r.rejection.expect("rejected");
                let mut lines: Vec<_> = errors.iter().map(|e| e.line).collect();
                lines.dedup();
                assert_eq!(lines, [Some(5), Some(7)], "step {step}");
            }
        }
    }

    #[test]
    fn window_holds_the_upstream_back() {
        let b = body("batch", &good_file(8), true);
        for step in [1, 5, 64, 333] {
            let r = run(&b, step, 500);
            let (received, released) = r
                .trace
                .iter()
                .copied()
                .find(|&(received, _)| received >= r.ready_at.unwrap())
                .unwrap();
            assert!(
                released >= 500,
                "opened at {released} released, {received} received"
            );
            assert!(
                r.trace.iter().all(|&(rc, rl)| rc >= received || rl < 500),
                "not ready before 500 judged bytes"
            );
        }
        // A body smaller than the window: never opened early; all of it released at the end.
        let r = run(&b, 7, 1 << 20);
        assert_eq!((r.ready_at, r.released == b), (None, true));
    }

    #[test]
    fn other_purposes_pass_unjudged() {
        for purpose_first in [true, false] {
            let b = body("assistants", "not json\n{{{\n", purpose_first);
            for step in 1..=b.len() {
                let r = run(&b, step, 1 << 20);
                assert_eq!(r.released, b, "step {step}");
                assert_eq!((r.mode, r.note), (Mode::Passing, Some(Note::NotBatch)));
                assert!(r.rejection.is_none());
            }
        }
        // Purpose first: streams as it arrives, before the file is judged.
        let b = body("fine-tune", &"x".repeat(5000), true);
        let r = run(&b, 100, 1 << 20);
        assert!(
            r.ready_at.unwrap() < 300,
            "opened at once: {:?}",
            r.ready_at
        );
        assert!(r.trace.iter().all(|&(rc, rl)| rc == rl || rc < 300));
    }

    #[test]
    fn error_before_purpose_holds_up_to_the_cap() {
        let file = format!("not json\n{}", good_file(20));
        // Within the cap: held, then rejected (purpose=batch) or flushed (anything else).
        let b = body("batch", &file, false);
        let r = run_with(
            Pump::new(BOUNDARY, Config::default(), 0).with_caps(4000, LINE_CAP),
            &b,
            17,
        );
        assert!(r.rejection.is_some());
        assert!(r.released.len() <= offset(&b, "not json"));
        let b = body("user_data", &file, false);
        let r = run_with(
            Pump::new(BOUNDARY, Config::default(), 0).with_caps(4000, LINE_CAP),
            &b,
            17,
        );
        assert_eq!((r.released == b, r.note), (true, Some(Note::NotBatch)));
        // Over the cap: passed on unchecked (never block what might be valid).
        let b = body("batch", &file, false);
        let r = run_with(
            Pump::new(BOUNDARY, Config::default(), 0).with_caps(1000, LINE_CAP),
            &b,
            17,
        );
        assert_eq!(
            (r.released == b, r.note, r.mode),
            (true, Some(Note::HoldCap), Mode::Passing)
        );
        assert!(r.max_held <= 1000 + 17);
        // Over the cap, then not a Batch upload after all.
        let b = body("fine-tune", &file, false);
        let caps = Pump::new(BOUNDARY, Config::default(), 0).with_caps(1000, LINE_CAP);
        let r = run_with(caps, &b, 17);
        assert_eq!((r.released == b, r.note), (true, Some(Note::NotBatch)));
    }

    #[test]
    fn an_overlong_line_is_forwarded_but_the_end_still_waits() {
        let long = format!(
            "{{\"custom_id\":\"{}\",\"method\":\"GET\"}}\n",
            "a".repeat(3000)
        );
        let b = body("batch", &format!("{}{long}", good_file(1)), true);
        let r = run_with(
            Pump::new(BOUNDARY, Config::default(), 0).with_caps(HOLD_CAP, 1000),
            &b,
            50,
        );
        assert_eq!(r.note, Some(Note::LineCap));
        assert!(r.rejection.is_some());
        assert!(
            r.released.len() < offset(&b, "\r\n--XyZ--"),
            "the file never completes"
        );
        assert!(r.max_held <= 1000 + 50);
    }

    #[test]
    fn not_multipart_passes() {
        // No boundary ever: passed on (as it is judged: nothing in it is a Batch file).
        let b = b"garbage without boundaries".repeat(1000);
        let r = run(&b, 5, 1 << 20);
        assert_eq!((r.released == b, r.note), (true, Some(Note::Incomplete)));
        // Part headers that never end: not multipart.
        let b = format!("--{BOUNDARY}\r\n{}", "x".repeat(MAX_HEADERS + 10)).into_bytes();
        let r = run(&b, 1000, 1 << 20);
        assert_eq!((r.released == b, r.note), (true, Some(Note::NotMultipart)));
    }

    #[test]
    fn message_names_lines() {
        let b = body("batch", &format!("{}{}", line("a"), line("a")), true);
        let errors = run(&b, 9, 0).rejection.unwrap();
        assert_eq!(errors[0].code, "duplicate_custom_id");
        assert!(message(&errors).contains("Line 2:"), "{}", message(&errors));
    }
}
