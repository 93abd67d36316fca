//! Batch input files linted as they are uploaded (`POST /v1/files`, `purpose=batch`), while the
//! upload streams on to the upstream. Which bytes may go, and when, is decided by
//! [`airlock_rules::upload::Pump`] (see its module for the rules); this file does the I/O.
//!
//! - The upstream request is opened only once a first window (`BATCH_LINT_WINDOW_BYTES`, 1 MiB by
//!   default) is judged, or the whole body if smaller: a small bad file is answered with a 400
//!   and nothing is sent upstream at all. A body that ended inside the window is sent as bytes.
//! - A bad line after the upstream request started: the upstream call is aborted through its
//!   `AbortController` (erroring the body stream is not enough: the runtime ends a chunked body
//!   cleanly), so the upstream sees a truncated multipart body it can never turn into a file; the
//!   rest of the client's body is still read and linted, without forwarding, so the 400 lists
//!   every error (up to 100) and the client, still uploading, gets an answer instead of a reset.
//!
//! The body goes upstream through a `FixedLengthStream` when the client sent a `content-length`
//! (so the upstream sees the same length), else through an identity `TransformStream` (chunked).
//! A streamed upload is not replayable: edge retries stay off for it. Each upload gets an
//! `upload_end` log line (same `request_id`) saying what happened.

extern crate alloc;

use alloc::rc::Rc;
use core::cell::RefCell;
use core::task::{Poll, Waker};

use airlock_rules::batch::LineError;
use airlock_rules::log_line::UploadEnd;
pub use airlock_rules::upload::{Mode, Note, Pump, boundary, message};
use futures_util::StreamExt;
use js_sys::futures::JsFuture;
use wasm_bindgen::{JsCast, JsValue};
use worker::ByteStream;

use crate::settings::Settings;

/// Why an upload that was already streaming upstream is answered by Airlock instead.
#[derive(Debug)]
pub enum Stopped {
    /// A Batch input file with errors: the 400 lists them.
    Rejected(Vec<LineError>),
    /// The client's body could not be read to the end.
    Unreadable,
}

/// What [`lint_ahead`] found before the upstream request was opened.
pub enum Ahead {
    /// The upload ended inside the window and may go: these are its bytes, judged.
    Whole(Vec<u8>),
    /// The window was judged: send `Upload::body`; the rest is linted as it streams.
    Streaming(Upload),
    /// Answered without calling the upstream.
    Stopped(Stopped),
}

/// An upload streaming upstream while it is linted.
pub struct Upload {
    /// The body to send upstream.
    pub body: web_sys::ReadableStream,
    /// The signal of the upstream call: the linter aborts it when it stops the upload.
    pub controller: web_sys::AbortController,
    shared: Rc<RefCell<Shared>>,
}

#[derive(Default)]
struct Shared {
    /// The upstream body was aborted: the answer is Airlock's.
    aborted: bool,
    /// The client's body was read to the end (or could not be).
    done: bool,
    stopped: Option<Stopped>,
    waker: Option<Waker>,
}

impl Upload {
    /// Once the upstream call has returned (or failed): when the upload was stopped (a bad line,
    /// an unreadable body), waits until the client's body has been read to the end and says why.
    /// `None`: the upstream's answer stands.
    pub async fn stopped(&self) -> Option<Stopped> {
        if !self.shared.borrow().aborted {
            return None;
        }
        futures_util::future::poll_fn(|cx| {
            let mut shared = self.shared.borrow_mut();
            if shared.done {
                Poll::Ready(shared.stopped.take())
            } else {
                shared.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

/// Reads and lints the first window of a `POST /v1/files` multipart body before anything goes
/// upstream; then, if the upload goes on, streams the rest upstream while linting it.
pub async fn lint_ahead(
    mut client: ByteStream,
    boundary: &str,
    content_length: Option<u64>,
    settings: &Settings,
    request_id: &str,
) -> Ahead {
    let started_ms = js_sys::Date::now();
    let mut pump = Pump::new(
        boundary,
        settings.rules.clone(),
        settings.batch_lint_window_bytes,
    );
    let mut first = Vec::new();
    while !pump.ready() {
        match client.next().await {
            Some(Ok(chunk)) => first.extend(pump.push(&chunk)),
            Some(Err(_)) => return Ahead::Stopped(Stopped::Unreadable),
            None => {
                first.extend(pump.finish());
                let forwarded = if pump.rejection().is_some() {
                    0
                } else {
                    first.len() as u64
                };
                log(
                    &pump,
                    request_id,
                    Sent {
                        forwarded,
                        streamed: false,
                        aborted: false,
                    },
                    started_ms,
                );
                return match pump.rejection() {
                    Some(errors) => Ahead::Stopped(Stopped::Rejected(errors.to_vec())),
                    None => Ahead::Whole(first),
                };
            }
        }
    }
    let Some((body, writer)) = upstream_body(content_length) else {
        worker::console_error!("airlock: no stream for the upload body");
        return Ahead::Stopped(Stopped::Unreadable);
    };
    let Ok(controller) = web_sys::AbortController::new() else {
        return Ahead::Stopped(Stopped::Unreadable);
    };
    let shared = Rc::new(RefCell::new(Shared::default()));
    let feeding = feed(
        writer,
        controller.clone(),
        client,
        pump,
        first,
        shared.clone(),
        (request_id.to_owned(), started_ms),
    );
    worker::wasm_bindgen_futures::spawn_local(feeding);
    Ahead::Streaming(Upload {
        body,
        controller,
        shared,
    })
}

/// A `FixedLengthStream` of the client's length (the upstream sees a `content-length`), or an
/// identity `TransformStream` (chunked) when there is none.
fn upstream_body(
    content_length: Option<u64>,
) -> Option<(
    web_sys::ReadableStream,
    web_sys::WritableStreamDefaultWriter,
)> {
    let stream: web_sys::TransformStream = match content_length {
        Some(n) => {
            let fixed = match u32::try_from(n) {
                Ok(small) => worker::worker_sys::FixedLengthStream::new(small),
                Err(_) => worker::worker_sys::FixedLengthStream::new_big_int(n.into()),
            };
            fixed.ok()?.unchecked_into()
        }
        None => web_sys::TransformStream::new().ok()?,
    };
    let writer = stream.writable().get_writer().ok()?;
    Some((stream.readable(), writer))
}

/// The rest of the upload: each chunk through the pump, what it releases written upstream; a
/// bad line aborts the upstream body, and the client's body is still read to the end.
async fn feed(
    writer: web_sys::WritableStreamDefaultWriter,
    controller: web_sys::AbortController,
    mut client: ByteStream,
    mut pump: Pump,
    first: Vec<u8>,
    shared: Rc<RefCell<Shared>>,
    (request_id, started_ms): (String, f64),
) {
    // `open`: the upstream is still reading (it has not answered early or failed).
    let mut open = write(&writer, &first).await;
    let mut forwarded = if open { first.len() as u64 } else { 0 };
    let mut aborted = false;
    loop {
        match client.next().await {
            Some(Ok(chunk)) => {
                let out = pump.push(&chunk);
                if pump.mode() == Mode::Rejected {
                    if !aborted {
                        aborted = true;
                        abort(
                            &controller,
                            &shared,
                            "airlock: the batch input file has errors",
                        );
                        worker::console_warn!(
                            "{{\"event\":\"upload_aborted\",\"request_id\":\"{request_id}\",\"forwarded_bytes\":{forwarded}}}"
                        );
                    }
                    continue;
                }
                if open && !out.is_empty() {
                    open = write(&writer, &out).await;
                    forwarded += if open { out.len() as u64 } else { 0 };
                }
                if !open {
                    break;
                }
            }
            Some(Err(_)) => {
                if !aborted {
                    aborted = true;
                    abort(
                        &controller,
                        &shared,
                        "airlock: the client's body could not be read",
                    );
                }
                shared.borrow_mut().stopped = Some(Stopped::Unreadable);
                break;
            }
            None => {
                let tail = pump.finish();
                if !aborted && open && write(&writer, &tail).await {
                    forwarded += tail.len() as u64;
                    let _ = JsFuture::from(writer.close()).await;
                }
                break;
            }
        }
    }
    let sent = Sent {
        forwarded,
        streamed: true,
        aborted,
    };
    log(&pump, &request_id, sent, started_ms);
    let waker = {
        let mut s = shared.borrow_mut();
        if let Some(errors) = pump.rejection() {
            s.stopped = Some(Stopped::Rejected(errors.to_vec()));
        }
        s.done = true;
        s.waker.take()
    };
    if let Some(w) = waker {
        w.wake();
    }
}

/// Writes `bytes` upstream; false when the upstream body is gone (answered, failed, aborted).
async fn write(writer: &web_sys::WritableStreamDefaultWriter, bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return true;
    }
    let chunk = js_sys::Uint8Array::from(bytes);
    JsFuture::from(writer.write_with_chunk(&chunk))
        .await
        .is_ok()
}

/// Aborts the upstream call mid-body: the connection is dropped, so the upstream sees a truncated
/// request and can make nothing of it. (Erroring the body stream instead is not enough: the
/// runtime ends a chunked body cleanly when its stream errors.)
fn abort(controller: &web_sys::AbortController, shared: &Rc<RefCell<Shared>>, why: &str) {
    shared.borrow_mut().aborted = true;
    controller.abort_with_reason(&JsValue::from_str(why));
}

/// What went upstream.
struct Sent {
    /// Bytes written to the upstream body.
    forwarded: u64,
    /// The upstream call opened before the client's body ended.
    streamed: bool,
    /// The upstream call was aborted mid-body.
    aborted: bool,
}

fn log(pump: &Pump, request_id: &str, sent: Sent, started_ms: f64) {
    let state = match (pump.mode(), pump.note()) {
        (Mode::Rejected, _) => "rejected",
        (_, Some(Note::NotBatch | Note::NotMultipart | Note::HoldCap | Note::Incomplete)) => {
            "unchecked"
        }
        _ => "passed",
    };
    let line = UploadEnd {
        event: "upload_end",
        request_id,
        state,
        note: pump.note().map(Note::as_str),
        bytes: pump.received(),
        forwarded_bytes: sent.forwarded,
        requests: pump.requests(),
        errors: pump.errors().len(),
        streamed: sent.streamed,
        upstream_aborted: sent.aborted,
        duration_ms: js_sys::Date::now() - started_ms,
    };
    let text = serde_json::to_string(&line).unwrap_or_default();
    if pump.forwarded_with_errors() {
        worker::console_warn!("{text}");
    } else {
        worker::console_log!("{text}");
    }
}
