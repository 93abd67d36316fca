//! Batch input files linted as they are uploaded (`POST /v1/files`, `purpose=batch`).
//!
//! The multipart body is read chunk by chunk; [`Multipart`] splits it into parts as it goes
//! (boundary from the `content-type`, holding back only a boundary's length between chunks), the
//! `file` part's bytes go straight into [`BatchLinter`] (one line held at a time), and the
//! `purpose` field is kept (a few bytes).
//!
//! The trade-off: a bad file must not reach the upstream, yet the upstream call cannot be undone
//! once bytes are sent. So an upload of at most `BATCH_LINT_MAX_BYTES` (default 10 MB) is held
//! while it is linted and forwarded byte-identical only when it passes (a bad one gets a 400 with
//! the line numbers and the upstream sees nothing). A larger upload, or one without a
//! `content-length`, is streamed through unchecked and never held. The held copy is the only
//! buffer; the linter's memory does not grow with the file.

use airlock_rules::batch::{BatchLinter, LineError, LintState};
use airlock_rules::validate::Config;

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

/// An incremental `multipart/form-data` reader that lints the `file` part as a Batch input file.
pub struct Multipart {
    /// `\r\n--boundary` (the body is read as if it began with `\r\n`).
    delimiter: Vec<u8>,
    state: State,
    /// Unprocessed bytes: at most a delimiter's length (or a part's headers) between chunks.
    held: Vec<u8>,
    part: Part,
    purpose: Vec<u8>,
    linter: BatchLinter,
    errors: Vec<LineError>,
    file_seen: bool,
    /// The body did not read as multipart: nothing is judged.
    malformed: bool,
}

/// Headers longer than this make the body malformed (nothing judged, passed on).
const MAX_HEADERS: usize = 16 * 1024;
/// Errors kept (the count goes on).
const MAX_ERRORS: usize = 100;

impl Multipart {
    /// A reader for `boundary`, linting with the validators' `config`.
    pub fn new(boundary: &str, config: Config) -> Self {
        Multipart {
            delimiter: format!("\r\n--{boundary}").into_bytes(),
            state: State::Preamble,
            held: b"\r\n".to_vec(),
            part: Part::Other,
            purpose: Vec::new(),
            linter: BatchLinter::with_state(LintState::with_config(config)),
            errors: Vec::new(),
            file_seen: false,
            malformed: false,
        }
    }

    /// Feeds one chunk of the body.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.state == State::Done {
            return;
        }
        self.held.extend_from_slice(chunk);
        loop {
            match self.state {
                State::Preamble | State::Body => {
                    match find(&self.held, &self.delimiter) {
                        Some(i) => {
                            let data = self.held[..i].to_vec();
                            self.data(&data);
                            self.end_part();
                            self.held.drain(..i + self.delimiter.len());
                            self.state = State::AfterDelimiter;
                        }
                        None => {
                            // Keep what could be the start of a delimiter.
                            let keep = (self.delimiter.len() - 1).min(self.held.len());
                            let cut = self.held.len() - keep;
                            let data = self.held[..cut].to_vec();
                            self.data(&data);
                            self.held.drain(..cut);
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
                            self.held.drain(..=i);
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
                        self.held.drain(..i + 4);
                        self.state = State::Body;
                    }
                    None if self.held.len() > MAX_HEADERS => return self.fail(),
                    None => return,
                },
                State::Done => return,
            }
        }
    }

    /// Ends the body; returns the errors when this is a Batch upload whose file has any.
    pub fn finish(self) -> Option<Vec<LineError>> {
        if self.malformed || self.state != State::Done || !self.file_seen {
            return None;
        }
        if self.purpose.trim_ascii() != b"batch" {
            return None;
        }
        let mut errors = self.errors;
        (!errors.is_empty()).then(|| {
            errors.truncate(MAX_ERRORS);
            errors
        })
    }

    fn fail(&mut self) {
        self.malformed = true;
        self.state = State::Done;
        self.held = Vec::new();
    }

    fn data(&mut self, data: &[u8]) {
        if data.is_empty() || self.state != State::Body {
            return;
        }
        match self.part {
            Part::File => {
                let found = self.linter.push(data);
                self.keep(found);
            }
            Part::Purpose => {
                if self.purpose.len() + data.len() <= 64 {
                    self.purpose.extend_from_slice(data);
                }
            }
            Part::Other => {}
        }
    }

    fn end_part(&mut self) {
        if self.state == State::Body && self.part == Part::File {
            let found = self.linter.finish();
            self.keep(found);
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

    fn body(purpose: &str, file: &str) -> Vec<u8> {
        format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.jsonl\"\r\n\
             Content-Type: application/jsonl\r\n\r\n{file}\r\n--XyZ\r\n\
             Content-Disposition: form-data; name=\"purpose\"\r\n\r\n{purpose}\r\n--XyZ--\r\n"
        )
        .into_bytes()
    }

    const GOOD: &str = "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}\n";

    fn judge(b: &[u8], step: usize) -> Option<Vec<LineError>> {
        let mut m = Multipart::new("XyZ", Config::default());
        for c in b.chunks(step) {
            m.push(c);
        }
        m.finish()
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
    fn bad_line_found_at_every_chunk_size() {
        let file = format!("{GOOD}not json\n");
        let b = body("batch", &file);
        for step in 1..b.len() {
            let errors = judge(&b, step).expect("errors");
            assert_eq!(errors[0].line, Some(2), "step {step}");
            assert_eq!(errors[0].code, "invalid_json_line");
        }
    }

    #[test]
    fn good_file_and_other_purposes_pass() {
        for step in [1, 7, 64, 10_000] {
            assert_eq!(judge(&body("batch", GOOD), step), None);
            assert_eq!(judge(&body("assistants", "not json\n"), step), None);
        }
    }

    #[test]
    fn not_multipart_is_not_judged() {
        assert_eq!(judge(b"garbage without boundaries", 5), None);
    }

    #[test]
    fn message_names_lines() {
        let errors = judge(&body("batch", &format!("{GOOD}{GOOD}")), 9).unwrap();
        assert_eq!(errors[0].code, "duplicate_custom_id");
        assert!(message(&errors).contains("Line 2:"), "{}", message(&errors));
    }
}
