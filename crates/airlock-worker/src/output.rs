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
    Expectation, MAX_OUTPUT_CHECK_BYTES, OutputReport, StreamOutput, ValidatorCache,
};
use wasm_bindgen::JsCast;
use worker::{Response, Result};

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

/// A success answer to a request that asked for a schema: checked as the module doc says, then
/// handed to `forward::pass_through` like any other.
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
    let reader = match resp.body().as_ref().and_then(body::Reader::new) {
        Some(r) if (200..300).contains(&status) => r,
        _ => return crate::forward::pass_through(resp, line, settings, None),
    };
    let prefix = body::read_prefix(
        reader,
        MAX_OUTPUT_CHECK_BYTES,
        None,
        Some(settings.idle_timeout_ms),
        |_| false,
    )
    .await;
    let mut whole = None;
    let (report, stream) = match prefix.end {
        body::PrefixEnd::Complete => {
            let report = check_bytes(&expect, &prefix.bytes);
            whole = Some(prefix.bytes);
            (report, None)
        }
        body::PrefixEnd::More(rest) => (
            OutputReport::unchecked("too_large"),
            Some(relayed(prefix.bytes, rest, line, settings)?),
        ),
        body::PrefixEnd::Stalled(rest) => (
            OutputReport::unchecked("stalled"),
            Some(relayed(prefix.bytes, rest, line, settings)?),
        ),
        body::PrefixEnd::Failed => {
            // The upstream cut the body: the client's body fails the same way after what came.
            let failing = futures_util::stream::iter([
                Ok(prefix.bytes),
                Err(worker::Error::RustError(
                    "airlock: upstream body cut".to_owned(),
                )),
            ]);
            (
                OutputReport::unchecked("cut"),
                Some(body::readable(failing)?),
            )
        }
    };
    let init = web_sys::ResponseInit::new();
    init.set_status(status);
    init.set_status_text(&resp.status_text());
    init.set_headers(resp.headers().unchecked_ref());
    let rebuilt = match (whole, stream) {
        (Some(mut bytes), _) => {
            web_sys::Response::new_with_opt_u8_array_and_init(Some(&mut bytes), &init)?
        }
        (None, s) => web_sys::Response::new_with_opt_readable_stream_and_init(s.as_ref(), &init)?,
    };
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
