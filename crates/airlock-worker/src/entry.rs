//! The JavaScript entry's decisions (issue 14): synchronous exports that `js/entry.js` calls
//! while it does the I/O itself (the body read, the upstream `fetch` with its timeout, the
//! success answer's headers and pipe, `console.log`).
//!
//! [`airlock_fast_begin`] decides, from the method, URL, headers and settings alone (before
//! anything is read), whether a request takes the fast path: a JSON `POST` to `/v1/*` with a
//! `content-length` (read whole and checked when within `MAX_CHECK_BYTES`; over it, streamed on
//! unread, as `forward.rs` does) or a `GET` to `/v1/*` without a body (forwarded without one),
//! no `Origin` (CORS stays in Rust), a URL whose path and query the URL parser would give back
//! unchanged (`route::plain_path_and_query`, read without the parser), with the settings' defaults for what only the Rust path does
//! (no gateway, `SIMULATE` off, `PACING` off, `EDGE_RETRIES` 0). Anything else (`undefined`)
//! goes to the Rust `fetch` ([`crate::fetch`]) untouched. A fast request is a [`FastRequest`]: it holds the log line and the headers as
//! `forward.rs` makes them, and every answer it builds is the Rust path's, with the same
//! headers and log line (`lib.rs` `serve`'s tail is [`FastRequest::complete`]):
//! - [`FastRequest::check`]: the rules' check of the body read whole (`forward::check`), and
//!   what the request asked its answer to follow (`OUTPUT_CHECK`), as `forward.rs` reads it.
//! - [`FastRequest::upstream_error`]: an upstream error answer's prefix (read by the entry as
//!   `body::read_prefix` reads it) diagnosed, labelled and sent on as `forward.rs` does.
//! - [`FastRequest::rust_answer`]: an event stream (`watch.rs`) is sent on by `output::answer`
//!   as before (a promise).
//! - [`FastRequest::checked_answer`]: a JSON answer to check against the request's schemas
//!   (`output.rs`), read whole by the entry with `output.rs`'s reader, checked; the entry sends
//!   it on. Read only in part (over the cap, stalled, cut), [`FastRequest::rust_answer_read`]
//!   sends it on as `output::answer` does.
//! - [`FastRequest::done`]: a success answer the entry sent on itself: the `x-airlock-*`
//!   headers it adds and the log line's text.

use airlock_rules::{NoResponse, diagnose_response};
use wasm_bindgen::prelude::*;
use worker::{Context, Env, Method, Response, Result};

use crate::log::LogLine;
use crate::route::{self, Route};
use crate::settings::{self, Parsed, Settings};
use crate::{body, errors, forward, monitor, pacer, reject, vocab};

/// A request on the fast path (see the module doc). Dropped by the entry (`free`) when it hands
/// the request to the Rust path after all.
#[wasm_bindgen]
#[allow(missing_debug_implementations)]
pub struct FastRequest {
    line: LogLine,
    settings: Parsed,
    /// The request URL's path (what the check reads).
    path: String,
    target: String,
    headers: Vec<(String, String)>,
    content_length: u64,
    timeout_ms: u64,
    body_timeout_ms: u64,
    env: Env,
    ctx: Context,
    /// The rejection [`FastRequest::check`] found.
    rejection: Option<Result<Response>>,
    /// What the request asked its answer to follow (`OUTPUT_CHECK`).
    expect: Option<airlock_rules::output::Expectation>,
    /// Whether the body is read whole and checked ([`FastRequest::check`]); otherwise it is
    /// forwarded unread ([`FastRequest::unread`]): a `GET`'s none, or a body over
    /// `MAX_CHECK_BYTES`.
    reads: bool,
}

/// The fast path's request, or `None` for the Rust `fetch` (see the module doc). `pairs`: the
/// request's headers as `plumbing::header_pairs` reads them.
#[wasm_bindgen]
pub fn airlock_fast_begin(
    method: &str,
    url: &str,
    pairs: &str,
    env: Env,
    ctx: worker::worker_sys::Context,
) -> Option<FastRequest> {
    // A `POST` or a `GET`, spelled so (workers-rs, which `lib.rs` follows, takes a method it
    // does not know for `GET`; the entry sends the request's own).
    let get = match method {
        "POST" => false,
        "GET" => true,
        _ => return None,
    };
    let method = Method::from(method.to_owned());
    // A URL the parser would change (or one this reader does not take) goes to the Rust path.
    let (path, query) = route::plain_path_and_query(url)?;
    let parsed = settings::for_env(&env, || {
        Settings::from_lookup(|name| env.var(name).ok().map(|v| v.to_string()))
    });
    let settings = parsed.as_ref().as_ref().ok()?;
    if path == monitor::status::PATH
        || settings.gateway.is_some()
        || settings.simulate
        || settings.pacing.is_some()
        || settings.edge_retries > 0
        || route::route(method.as_ref(), path, false) != Route::Api
    {
        return None;
    }
    let (mut headers, content_length) = forward::forwardable_from_pairs(pairs);
    let has = |name: &str| crate::plumbing::split_pairs(pairs).any(|(n, _)| n == name);
    if has("origin") {
        return None;
    }
    // A `GET` is forwarded without a body (`forward.rs`: `method_has_body`); the entry declines
    // one that has a body (the Rust path drops it unread: `body::discard`).
    let (content_length, reads) = if get {
        (0, false)
    } else {
        let content_length = content_length.and_then(|v| v.trim().parse::<u64>().ok())?;
        let content_type = forward::header(&headers, "content-type");
        if content_length == 0 || !route::is_json_content_type(content_type) {
            return None;
        }
        // Over the limit, `forward.rs` streams the body on unread, marked partly checked.
        let reads = content_length <= settings.max_check_bytes;
        if reads && usize::try_from(content_length).is_err() {
            return None;
        }
        (content_length, reads)
    };
    vocab::install();
    pacer::bind(&env, false);
    let mut line = LogLine::start(&method, Some(path));
    if !get && !reads {
        line.partial = Some("max_check_bytes");
    }
    // Keys (no gateway here): the client's key is fingerprinted, never logged.
    let presented = crate::gateway::bearer(forward::header(&headers, "authorization"));
    let secret = settings.fingerprint_secret.as_ref().map(|s| s.0.as_str());
    line.key_fingerprint =
        presented.map(|key| airlock_rules::redact::fingerprint_keyed(key, secret));
    forward::operator_headers(&mut headers, settings);
    let target = route::upstream_target(&settings.upstream, path, query);
    Some(FastRequest {
        line,
        settings: parsed.clone(),
        path: path.to_owned(),
        target,
        headers,
        content_length,
        timeout_ms: settings.timeout_ms,
        body_timeout_ms: settings.body_timeout_ms,
        env,
        ctx: Context::new(ctx),
        rejection: None,
        expect: None,
        reads,
    })
}

/// The headers [`crate::forward::success_headers`] deletes from a success answer (not in gateway
/// mode), of `names` (the answer's header names, comma-separated, as the runtime lists them) and
/// its `connection` header: comma-separated, empty when none.
#[wasm_bindgen]
pub fn airlock_unwanted_headers(names: &str, connection: Option<String>) -> String {
    forward::unwanted_headers(names, connection.as_deref())
}

/// The `body_end` line of a success body whose pipe failed (`body::guarded`'s).
#[wasm_bindgen]
pub fn airlock_cut_line(request_id: &str, error: JsValue) -> Option<String> {
    let why = body::describe(&error);
    let line = body::BodyEnd {
        event: "body_end",
        request_id,
        direction: body::Direction::Response,
        state: "cut",
        bytes: None,
        error: Some(&why),
    };
    serde_json::to_string(&line).ok()
}

#[wasm_bindgen]
impl FastRequest {
    /// The upstream URL.
    pub fn target(&self) -> String {
        self.target.clone()
    }

    /// The request headers that travel upstream, as `name\nvalue\n` pairs.
    pub fn request_headers(&self) -> String {
        let mut out = String::new();
        for (name, value) in &self.headers {
            out.push_str(name);
            out.push('\n');
            out.push_str(value);
            out.push('\n');
        }
        out
    }

    /// The request's `content-length` (0 for a `GET`).
    pub fn content_length(&self) -> f64 {
        self.content_length as f64
    }

    /// Whether the entry reads the body whole and calls [`Self::check`]; otherwise it forwards
    /// the body unread (none for a `GET`) after [`Self::unread`].
    pub fn reads(&self) -> bool {
        self.reads
    }

    /// A request forwarded unread: the one attempt counted (as [`Self::check`] counts it).
    pub fn unread(&mut self) {
        self.line.attempts += 1;
        self.line.upstream_answered = false;
    }

    /// `UPSTREAM_TIMEOUT_MS`, at most `body::MAX_TIMER_MS`.
    pub fn timeout_ms(&self) -> f64 {
        self.timeout_ms.min(body::MAX_TIMER_MS) as f64
    }

    /// `UPSTREAM_BODY_TIMEOUT_MS`, at most `body::MAX_TIMER_MS`: the deadline on an error
    /// answer's prefix.
    pub fn body_timeout_ms(&self) -> f64 {
        self.body_timeout_ms.min(body::MAX_TIMER_MS) as f64
    }

    /// `body::MAX_ERROR_BODY_BYTES`.
    pub fn error_body_cap(&self) -> f64 {
        body::MAX_ERROR_BODY_BYTES as f64
    }

    /// The request ID (`x-airlock-request-id`).
    pub fn request_id(&self) -> String {
        self.line.request_id.clone()
    }

    /// Checks the body read whole: 0 forward it, 1 rejected (answer with [`Self::rejection`]).
    /// What the request asked its answer to follow (`OUTPUT_CHECK`) is kept for
    /// [`Self::rust_answer`], read from the tree the check parsed, as `forward.rs` does.
    pub fn check(&mut self, bytes: &[u8]) -> u8 {
        let settings = alloc::rc::Rc::clone(&self.settings);
        let Ok(settings) = settings.as_ref() else {
            return 1;
        };
        let mut tree = None;
        if let Some(rejection) =
            forward::check(&self.path, bytes, true, settings, &mut self.line, &mut tree)
        {
            self.rejection = Some(rejection);
            return 1;
        }
        if settings.output_check {
            self.expect = forward::expectation(&self.path, bytes, tree);
        }
        // The one attempt (`forward::proxy`'s loop counts it as the upstream call is made).
        self.line.attempts += 1;
        self.line.upstream_answered = false;
        0
    }

    /// The rejection [`Self::check`] found, answered: `[response, log line text]`.
    pub fn rejection(mut self) -> js_sys::Array {
        let found = self
            .rejection
            .take()
            .unwrap_or_else(|| reject(&errors::internal(), &mut self.line));
        self.complete(found)
    }

    /// The body could not be read (cut, or longer or shorter than its `content-length`).
    pub fn unreadable(mut self) -> js_sys::Array {
        let answer = reject(&errors::unreadable_body(), &mut self.line);
        self.complete(answer)
    }

    /// No answer: `kind` 0 the timeout, 1 no connection, 2 a status that is not a final answer
    /// (`status`).
    pub fn no_response(mut self, kind: u8, status: u16) -> js_sys::Array {
        let settings = alloc::rc::Rc::clone(&self.settings);
        let answer = match settings.as_ref() {
            Err(_) => reject(&errors::internal(), &mut self.line),
            Ok(settings) => {
                let host = settings.upstream.host_str().unwrap_or("");
                match kind {
                    2 => {
                        self.line.upstream_status = Some(status);
                        reject(&errors::invalid_status(status, host), &mut self.line)
                    }
                    0 => reject(
                        &errors::no_response(NoResponse::Timeout, host, settings.timeout_ms),
                        &mut self.line,
                    ),
                    _ => reject(
                        &errors::no_response(NoResponse::Connection, host, settings.timeout_ms),
                        &mut self.line,
                    ),
                }
            }
        };
        self.complete(answer)
    }

    /// A success (or redirect) answer came: notes it in the log line; true when Rust sends it
    /// on ([`Self::rust_answer`]: an event stream, watched as it passes, or an answer to check
    /// against what the request asked); otherwise the entry does, and calls [`Self::done`].
    pub fn answered(&mut self, request_id: Option<String>, content_type: Option<String>) -> bool {
        self.line.upstream_answered = true;
        self.line.upstream_request_id = request_id;
        self.line.stream = crate::watch::is_event_stream(content_type.as_deref());
        self.line.stream || self.expect.is_some()
    }

    /// A JSON success answer (2xx, not an event stream) to check against what the request
    /// asked: the entry reads it with `js/io.mjs`'s `readAnswer` (at most
    /// [`Self::output_cap`] plus the chunk that crossed it, within [`Self::idle_timeout_ms`]),
    /// checks a complete one with [`Self::checked_answer`] and sends it on itself; anything else
    /// it read goes to [`Self::rust_answer_read`].
    pub fn check_in_entry(&self, status: u16) -> bool {
        !self.line.stream && self.expect.is_some() && (200..300).contains(&status)
    }

    /// `MAX_OUTPUT_CHECK_BYTES`.
    pub fn output_cap(&self) -> f64 {
        airlock_rules::output::MAX_OUTPUT_CHECK_BYTES as f64
    }

    /// `UPSTREAM_IDLE_TIMEOUT_MS`, at most `body::MAX_TIMER_MS`: the deadline on reading an
    /// answer to check.
    pub fn idle_timeout_ms(&self) -> f64 {
        match self.settings.as_ref() {
            Ok(settings) => settings.idle_timeout_ms.min(body::MAX_TIMER_MS) as f64,
            Err(_) => 0.0,
        }
    }

    /// A complete answer the entry read: checked against the request's schemas, its verdict
    /// put in the log line's fields; the `x-airlock-output` header's value (empty: nothing was
    /// asked, no header).
    pub fn checked_answer(&mut self, bytes: &[u8]) -> String {
        let Some(expect) = self.expect.take() else {
            return String::new();
        };
        let report = crate::output::check_bytes(&expect, bytes);
        crate::output::log_fields(&mut self.line, &report);
        report.header_value()
    }

    /// An answer to check that the entry read only in part (over the cap, stalled, cut): sent on
    /// by `output::answer_read` as `output::answer` sends it: `[response, log line text]`.
    pub fn rust_answer_read(
        mut self,
        resp: web_sys::Response,
        read: js_sys::Array,
    ) -> js_sys::Array {
        let settings = alloc::rc::Rc::clone(&self.settings);
        let read = crate::output::Read::from_js(read);
        let answer = match (settings.as_ref(), self.expect.take()) {
            (Ok(settings), Some(expect)) => {
                crate::output::answer_read(resp, read, &mut self.line, settings, &expect)
            }
            _ => reject(&errors::internal(), &mut self.line),
        };
        self.complete(answer)
    }

    /// A success answer sent on by `output::answer` (the answer check, the stream watch): a
    /// promise of `[response, log line text]`.
    pub fn rust_answer(mut self, resp: web_sys::Response) -> js_sys::Promise {
        worker::wasm_bindgen_futures::future_to_promise(async move {
            let settings = alloc::rc::Rc::clone(&self.settings);
            let expect = self.expect.take();
            let answer = match settings.as_ref() {
                Ok(settings) => crate::output::answer(resp, &mut self.line, settings, expect).await,
                Err(_) => reject(&errors::internal(), &mut self.line),
            };
            Ok(self.complete(answer).into())
        })
    }

    /// The headers Airlock adds to a success answer the entry sends on itself, as
    /// `name\nvalue\n` pairs (`lib.rs` `serve`'s tail, without CORS: a fast request has no
    /// `Origin`).
    pub fn success_headers(&self) -> String {
        let mut out = String::new();
        for (name, value) in self.added_headers() {
            out.push_str(name);
            out.push('\n');
            out.push_str(&value);
            out.push('\n');
        }
        out
    }

    /// A success answer the entry sent on: the log line completed with `status`, counted, and
    /// its text given back for the entry to write.
    pub fn done(mut self, status: u16) -> Option<String> {
        let text = self.line.finish_text(status);
        monitor::report(&self.env, &self.ctx, &self.line);
        text
    }

    /// An upstream error answer (status 400–599): the first bytes of its body as the entry read
    /// them (`end`: 0 the whole body, 1 more to come from `reader`, 2 nothing came within
    /// `UPSTREAM_BODY_TIMEOUT_MS`, 3 the read failed), diagnosed, labelled and sent on as
    /// `forward.rs` does (no gateway masking, no retries on the fast path).
    pub fn upstream_error(
        mut self,
        resp: web_sys::Response,
        bytes: Vec<u8>,
        end: u8,
        reader: Option<web_sys::ReadableStreamDefaultReader>,
    ) -> js_sys::Array {
        let answer = self.error_answer(&resp, bytes, end, reader);
        self.complete(answer)
    }
}

impl FastRequest {
    fn error_answer(
        &mut self,
        resp: &web_sys::Response,
        bytes: Vec<u8>,
        end: u8,
        reader: Option<web_sys::ReadableStreamDefaultReader>,
    ) -> Result<Response> {
        let settings = alloc::rc::Rc::clone(&self.settings);
        let Ok(settings) = settings.as_ref() else {
            return reject(&errors::internal(), &mut self.line);
        };
        let line = &mut self.line;
        line.upstream_answered = true;
        line.upstream_request_id = resp.headers().get("x-request-id").ok().flatten();
        let status = resp.status();
        let resp_headers = forward::entries(&resp.headers());
        let refs: Vec<(&str, &str)> = resp_headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let d = diagnose_response(status, &refs, &bytes);
        line.category = Some(d.category.as_str().to_owned());
        line.retry = Some(d.retry.decision.as_str());
        let added = route::error_headers(&d, &resp_headers);
        let rest = match (end, reader) {
            (0, _) | (1, None) => None,
            (1, Some(reader)) => Some(body::Reader::from_js(reader)),
            (2, reader) => {
                if let Some(reader) = reader {
                    body::Reader::from_js(reader).cancel();
                }
                line.upstream_body = Some("stalled");
                return reject(
                    &errors::error_body_lost(status, &d, settings.body_timeout_ms, true),
                    line,
                );
            }
            _ => {
                line.upstream_body = Some("cut");
                return reject(
                    &errors::error_body_lost(status, &d, settings.body_timeout_ms, false),
                    line,
                );
            }
        };
        let sent = match rest {
            None => forward::ErrorBody::Whole(bytes),
            Some(reader) => forward::ErrorBody::Relayed(bytes, reader),
        };
        forward::error_answer(status, &resp_headers, &added, sent, line, settings, None)
    }

    /// `x-airlock-*` headers `lib.rs` `serve` adds to every answer (the request ID, a partial
    /// check, the warnings).
    fn added_headers(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("x-airlock-request-id", self.line.request_id.clone())];
        if let Some(bound) = self.line.partial {
            out.push(("x-airlock-checked", format!("partial; bound={bound}")));
        }
        if let Some(names) = crate::log::warnings_header(&self.line.warnings) {
            out.push(("x-airlock-warnings", names));
        }
        out
    }

    /// `lib.rs` `serve`'s tail for an answer built in Rust: `[response, log line text]`.
    fn complete(mut self, response: Result<Response>) -> js_sys::Array {
        let response = match response {
            Ok(r) if !route::final_status(r.status_code()) => {
                worker::console_error!("airlock: refused to send status {}", r.status_code());
                reject(&errors::internal(), &mut self.line)
            }
            Ok(r) => Ok(r),
            Err(e) => {
                worker::console_error!("airlock: {e}");
                reject(&errors::internal(), &mut self.line)
            }
        };
        let out = js_sys::Array::new();
        let mut response = match response {
            Ok(r) => r,
            // What the Rust `fetch` answers when `serve` itself fails.
            Err(e) => {
                worker::console_error!("{e}");
                match Response::error("INTERNAL SERVER ERROR", 500) {
                    Ok(r) => r,
                    Err(_) => return out,
                }
            }
        };
        let headers = response.headers_mut();
        for (name, value) in self.added_headers() {
            let _ = headers.set(name, &value);
        }
        pacer::finish(&self.ctx, &self.line.request_id, headers);
        let text = self.line.finish_text(response.status_code());
        monitor::report(&self.env, &self.ctx, &self.line);
        out.push(&web_sys::Response::from(response).into());
        out.push(&text.map_or(JsValue::UNDEFINED, |t| JsValue::from_str(&t)));
        out
    }
}
