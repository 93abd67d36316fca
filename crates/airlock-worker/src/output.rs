//! The answer checked against what the request asked for, in report mode (issue 17): never
//! altered, never delayed beyond reading it.
//!
//! When a `/v1/chat/completions` or `/v1/responses` request asked for a `json_schema` format or
//! gave function tools with `parameters` ([`expectation`]), the rules crate's `output` module
//! checks the model's output:
//! - a JSON answer (2xx, not an event stream) is read whole, up to
//!   [`MAX_OUTPUT_CHECK_BYTES`](airlock_rules::output::MAX_OUTPUT_CHECK_BYTES) and within
//!   `UPSTREAM_IDLE_TIMEOUT_MS`, checked, and sent on with the same bytes and an
//!   `x-airlock-output` header (`valid`, `invalid; path=…; keyword=…`, `truncated; path=…`,
//!   `refused; path=…`, `unchecked; reason=…`), and the request's log line gets `output`,
//!   `output_path` and `output_keyword`. Over the bound or stalled, what was read is sent on
//!   followed by the rest, unchanged, with `unchecked; reason=too_large|stalled`.
//! - an event stream cannot get a header once its body has started, and the worker never holds a
//!   stream back: its output is assembled as it passes (`watch.rs`) and the verdict goes in the
//!   `stream_end` log line's `output`, `output_path` and `output_keyword` fields only.
//!
//! The validator's message may quote the model's output, so neither the header nor the log
//! carries it: only the place (response path and JSON pointer, from the schema's own names) and
//! the keyword.

use core::cell::RefCell;

use airlock_rules::output::{
    Expectation, Handed, MAX_OUTPUT_CHECK_BYTES, OutputReport, StreamOutput, ValidatorCache,
};
use airlock_rules::validate::{Config, SchemaLintCache, Verdict, check_keeping_handed};
use wasm_bindgen::JsCast;
use worker::{Response, ResponseBuilder, Result};

use crate::body;
use crate::log::{LogLine, MAX_LOG_FIELD_CHARS};
use crate::settings::Settings;

/// The header that carries the verdict on a non-streamed answer.
pub const HEADER: &str = "x-airlock-output";

thread_local! {
    /// This isolate's compiled validators (bounded by the rules crate's `MAX_CACHED_VALIDATORS`
    /// and `MAX_CACHED_SCHEMA_BYTES`): a schema seen before is not compiled again.
    static CACHE: RefCell<ValidatorCache> = RefCell::new(ValidatorCache::new());
}

/// `f` with this isolate's validator cache; a fresh one if it is somehow in use (no panic path).
fn with_cache<R>(f: impl FnOnce(&mut ValidatorCache) -> R) -> R {
    CACHE.with(|c| match c.try_borrow_mut() {
        Ok(mut cache) => f(&mut cache),
        Err(_) => f(&mut ValidatorCache::new()),
    })
}

thread_local! {
    /// This isolate's schema lint verdicts (bounded by the rules crate's `MAX_LINTED_SCHEMAS`
    /// and `MAX_LINTED_SCHEMA_BYTES`): a schema seen before in the same place is not linted
    /// again (its findings are replayed).
    static LINTS: RefCell<SchemaLintCache> = RefCell::new(SchemaLintCache::new());
}

/// A request body checked as `validate::check_keeping` checks it, with this isolate's schema
/// lint verdicts (a fresh cache if it is somehow in use: no panic path), and the validator slots
/// of its schemas for the answer's check (`Expectation::from_request_handed`).
pub fn check_request(
    path: &str,
    bytes: &[u8],
    config: &Config,
) -> (Verdict, Option<serde_json::Value>, Handed) {
    LINTS.with(|c| match c.try_borrow_mut() {
        Ok(mut cache) => check_keeping_handed(path, bytes, config, &mut cache),
        Err(_) => check_keeping_handed(path, bytes, config, &mut SchemaLintCache::new()),
    })
}

/// The whole JSON answer's bytes checked with this isolate's validators.
pub fn check_bytes(expect: &Expectation, bytes: &[u8]) -> OutputReport {
    with_cache(|cache| expect.check_bytes_cached(bytes, cache))
}

/// A stream's assembled output checked with this isolate's validators.
pub fn finish_stream(expect: &Expectation, assembled: &mut StreamOutput) -> OutputReport {
    with_cache(|cache| assembled.finish_cached(expect, cache))
}

/// What a checked request body asked for, if anything (bounded by the rules crate's
/// `MAX_REQUEST_BYTES`; a body without `json_schema` or `"parameters"` is not parsed again).
pub fn expectation(path: &str, body: &[u8]) -> Option<Expectation> {
    Expectation::from_request_bytes(path, body)
}

/// Puts `report` in the log line's fields.
pub fn log_fields(line: &mut LogLine, report: &OutputReport) {
    line.output = Some(report.status.as_str());
    line.output_path = report
        .path
        .as_ref()
        .map(|p| p.chars().take(MAX_LOG_FIELD_CHARS).collect());
    line.output_keyword = report
        .keyword
        .clone()
        .or_else(|| report.reason.map(str::to_owned));
}

// The reader is `js/io.mjs`'s `readAnswer`, which the JavaScript entry calls directly (issue 14,
// session 11: the entry reached it through a wasm export that called back into JavaScript).
#[wasm_bindgen::prelude::wasm_bindgen(module = "/js/io.mjs")]
extern "C" {
    #[wasm_bindgen(catch, js_name = readAnswer)]
    fn airlock_read_answer(
        body: &web_sys::ReadableStream,
        cap: f64,
        ms: f64,
    ) -> core::result::Result<js_sys::Promise, wasm_bindgen::JsValue>;
}

/// How [`read_answer`] ended, with what it read.
pub(crate) enum Read {
    /// The whole body.
    Complete(Vec<u8>),
    /// Over the cap (the bytes hold the chunk that crossed it): the rest is still to read.
    More(Vec<u8>, body::Reader),
    /// Nothing more came before the deadline; a read still pending is the rest's first.
    Stalled(Vec<u8>, body::Reader),
    /// The read failed (the upstream cut the body).
    Failed(Vec<u8>),
}

/// Reads `stream` as [`body::read_prefix`] does (at most `cap` plus the chunk that crossed it,
/// within `deadline_ms` from now), but in one call into the runtime: the chunks are gathered in
/// JavaScript and cross into wasm once, as one array (issue 17: chunk by chunk through a reader,
/// each chunk cost a promise, a `Uint8Array` and a copy, and the timer a Rust future). `None`:
/// the stream is locked.
async fn read_answer(
    stream: &web_sys::ReadableStream,
    cap: usize,
    deadline_ms: u64,
) -> Option<Read> {
    let ms = deadline_ms.min(body::MAX_TIMER_MS) as f64;
    // The cap is a constant far below 2^53.
    let promise = airlock_read_answer(stream, cap as f64, ms).ok()?;
    let Ok(out) = js_sys::futures::JsFuture::from(promise).await else {
        return Some(Read::Failed(Vec::new()));
    };
    Some(Read::from_js(out.unchecked_into()))
}

impl Read {
    /// The `[bytes, end, rest]` array the JavaScript reader gives.
    pub(crate) fn from_js(out: js_sys::Array) -> Read {
        let bytes = out
            .get(0)
            .dyn_into::<js_sys::Uint8Array>()
            .map(|b| b.to_vec())
            .unwrap_or_default();
        let rest = || body::Reader::from_js(out.get(2).unchecked_into());
        match out.get(1).as_string().as_deref() {
            Some("complete") => Read::Complete(bytes),
            Some("more") => Read::More(bytes, rest()),
            Some("stalled") => Read::Stalled(bytes, rest()),
            _ => Read::Failed(bytes),
        }
    }
}

/// A success answer to a request that asked for a schema: checked as the module doc says. The
/// whole answer is sent on as the bytes read (no second pipe); any other is handed to
/// `forward::pass_through` like any other answer.
pub async fn answer(
    resp: web_sys::Response,
    line: &mut LogLine,
    settings: &Settings,
    expect: Option<Expectation>,
) -> Result<Response> {
    let Some(expect) = expect else {
        return crate::forward::pass_through(resp, line, settings, None);
    };
    if line.stream {
        return crate::forward::pass_through(resp, line, settings, Some(expect));
    }
    let status = resp.status();
    let read = match resp.body() {
        Some(stream) if (200..300).contains(&status) => {
            read_answer(&stream, MAX_OUTPUT_CHECK_BYTES, settings.idle_timeout_ms).await
        }
        _ => None,
    };
    let Some(read) = read else {
        return crate::forward::pass_through(resp, line, settings, None);
    };
    answer_read(resp, read, line, settings, &expect)
}

/// A JSON success answer to a request that asked for a schema, sent on after [`read_answer`]
/// (or the JavaScript entry, with the same reader) read it as far as it could.
pub(crate) fn answer_read(
    resp: web_sys::Response,
    read: Read,
    line: &mut LogLine,
    settings: &Settings,
    expect: &Expectation,
) -> Result<Response> {
    let status = resp.status();
    let (report, stream) = match read {
        Read::Complete(bytes) => {
            let report = check_bytes(expect, &bytes);
            log_fields(line, &report);
            let headers = crate::forward::success_headers(&resp, settings)?;
            headers.set(HEADER, &report.header_value())?;
            return Ok(ResponseBuilder::new()
                .with_status(status)
                .with_headers(headers)
                .fixed(bytes));
        }
        Read::More(bytes, rest) => (
            OutputReport::unchecked("too_large"),
            relayed(bytes, rest, line, settings)?,
        ),
        Read::Stalled(bytes, rest) => (
            OutputReport::unchecked("stalled"),
            relayed(bytes, rest, line, settings)?,
        ),
        Read::Failed(bytes) => {
            // The upstream cut the body: the client's body fails the same way after what came.
            let failing = futures_util::stream::iter([
                Ok(bytes),
                Err(worker::Error::RustError(
                    "airlock: upstream body cut".to_owned(),
                )),
            ]);
            (OutputReport::unchecked("cut"), body::readable(failing)?)
        }
    };
    let init = web_sys::ResponseInit::new();
    init.set_status(status);
    init.set_status_text(&resp.status_text());
    init.set_headers(resp.headers().unchecked_ref());
    let rebuilt = web_sys::Response::new_with_opt_readable_stream_and_init(Some(&stream), &init)?;
    log_fields(line, &report);
    let mut out = crate::forward::pass_through(rebuilt, line, settings, None)?;
    out.headers_mut().set(HEADER, &report.header_value())?;
    Ok(out)
}

/// `first` and then the unread rest, unchanged, as a stream.
fn relayed(
    first: Vec<u8>,
    rest: body::Reader,
    line: &LogLine,
    settings: &Settings,
) -> Result<web_sys::ReadableStream> {
    let options = body::RelayOptions {
        request_id: line.request_id.clone(),
        direction: body::Direction::Response,
        idle_ms: settings.idle_timeout_ms,
        masker: None,
    };
    body::readable(body::relay(first, Some(rest), options))
}
