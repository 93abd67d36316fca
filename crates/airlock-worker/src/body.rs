//! Reading bodies a stranger controls, with a bound on size and time.
//!
//! - [`read_prefix`] reads at most a cap (plus the chunk that crossed it) of a body, within a
//!   deadline, and says how it ended: the whole body, more to come, a stall, or a read error.
//!   The worker uses it for request bodies it may check (`MAX_CHECK_BYTES`, whatever the framing)
//!   and for upstream error bodies (`MAX_ERROR_BODY_BYTES` to diagnose, `UPSTREAM_BODY_TIMEOUT_MS`).
//! - [`relay`] turns what was read plus the unread rest into a stream the runtime can send on,
//!   unbuffered, with an idle timer between chunks and, in gateway mode, the operator's secrets
//!   masked; a rest that fails or stalls *errors* the outgoing stream (so the receiver sees an
//!   incomplete body, not a clean short one) and writes a `body_end` log line.
//!
//! Reads go through a `ReadableStreamDefaultReader` directly: the runtime's errors arrive as
//! they are (a reset is an error, never a clean end).

use core::future::Future;
use core::pin::pin;
use core::time::Duration;

use futures_util::future::{Either, select};
use futures_util::{Stream, stream};
use js_sys::futures::JsFuture;
use wasm_bindgen::{JsCast, JsValue};
use worker::Delay;

use crate::mask::Masker;

/// Error bodies are read this far to diagnose them; the rest is passed on as a stream.
pub const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// The longest delay a runtime timer takes (`setTimeout` takes a signed 32-bit count of
/// milliseconds; anything longer fires at once).
pub const MAX_TIMER_MS: u64 = (1 << 31) - 1;

/// A timer of `ms` milliseconds, capped at [`MAX_TIMER_MS`] (about 24.8 days).
pub fn delay(ms: u64) -> Delay {
    Delay::from(Duration::from_millis(ms.min(MAX_TIMER_MS)))
}

/// One read from a body.
enum Read {
    Chunk(Vec<u8>),
    End,
    Failed(String),
}

/// A body being read.
#[derive(Debug)]
pub struct Reader {
    inner: web_sys::ReadableStreamDefaultReader,
}

impl Reader {
    /// A reader of `stream`; `None` when the stream is locked or already read.
    pub fn new(stream: &web_sys::ReadableStream) -> Option<Reader> {
        let inner = stream.get_reader().dyn_into().ok()?;
        Some(Reader { inner })
    }

    /// A reader already taken from its stream (e.g. by a JavaScript helper that read the start
    /// of the body; it need only have `read()` and `cancel()`).
    pub fn from_js(inner: web_sys::ReadableStreamDefaultReader) -> Reader {
        Reader { inner }
    }

    /// The next read; the future does not borrow the reader.
    fn next(&self) -> impl Future<Output = Read> + 'static {
        let pending = JsFuture::from(self.inner.read());
        async move { Self::outcome(pending.await) }
    }

    fn outcome(read: Result<JsValue, JsValue>) -> Read {
        let result = match read {
            Ok(r) => r,
            Err(e) => return Read::Failed(describe(&e)),
        };
        let done = js_sys::Reflect::get(&result, &JsValue::from_str("done"))
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            return Read::End;
        }
        match js_sys::Reflect::get(&result, &JsValue::from_str("value")) {
            Ok(v) if v.is_instance_of::<js_sys::Uint8Array>() => {
                Read::Chunk(js_sys::Uint8Array::from(v).to_vec())
            }
            // A body chunk that is not bytes: not something a fetch body yields.
            _ => Read::Failed("non-byte chunk".to_owned()),
        }
    }

    /// Stops reading: the runtime may close the connection.
    pub fn cancel(&self) {
        let _ = self.inner.cancel();
    }
}

/// A JS error as one short line (never a body or header value).
pub(crate) fn describe(e: &JsValue) -> String {
    let text = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "read failed".to_owned());
    text.chars().take(200).collect()
}

/// How a [`read_prefix`] ended.
#[derive(Debug)]
pub enum PrefixEnd {
    /// The whole body was read.
    Complete,
    /// The cap was reached: the rest is still to read.
    More(Reader),
    /// Nothing came for the deadline's rest.
    Stalled(Reader),
    /// The read failed (the peer reset the connection, or the client went away).
    Failed,
}

/// What [`read_prefix`] read.
#[derive(Debug)]
pub struct Prefix {
    /// The bytes read: at most `cap` plus the chunk that crossed it.
    pub bytes: Vec<u8>,
    /// How reading ended.
    pub end: PrefixEnd,
}

/// Reads `reader` until it ends, `cap` bytes are in, or `deadline_ms` (from now; `None`: no
/// deadline) passes. `size_hint` (a `content-length`) reserves the buffer once, up to the cap. `stop_early` may end reading after the first chunk (it gets the bytes so far):
/// a body that cannot be JSON need not be held.
pub async fn read_prefix(
    reader: Reader,
    cap: usize,
    size_hint: Option<u64>,
    deadline_ms: Option<u64>,
    stop_early: impl Fn(&[u8]) -> bool,
) -> Prefix {
    let reserve = size_hint.map_or(0, |n| usize::try_from(n).unwrap_or(cap).min(cap));
    let mut bytes = Vec::with_capacity(reserve);
    let mut timer = pin!(delay(deadline_ms.unwrap_or(MAX_TIMER_MS)));
    loop {
        let read = match select(pin!(reader.next()), timer.as_mut()).await {
            Either::Left((read, _)) => read,
            Either::Right(_) => {
                return Prefix {
                    bytes,
                    end: PrefixEnd::Stalled(reader),
                };
            }
        };
        match read {
            Read::Chunk(chunk) => {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > cap || stop_early(&bytes) {
                    return Prefix {
                        bytes,
                        end: PrefixEnd::More(reader),
                    };
                }
            }
            Read::End => {
                return Prefix {
                    bytes,
                    end: PrefixEnd::Complete,
                };
            }
            Read::Failed(_) => {
                return Prefix {
                    bytes,
                    end: PrefixEnd::Failed,
                };
            }
        }
    }
}

/// The most of an unread request body [`discard`] reads (and drops) before answering.
pub const DISCARD_MAX_BYTES: usize = 1024 * 1024;

/// The longest [`discard`] waits for the rest of an unread request body.
pub const DISCARD_MAX_MS: u64 = 1_000;

/// Reads and drops what is left of a request body the worker answered without reading (a
/// gateway 401, a simulated failure, a 404, a refused upload): at most [`DISCARD_MAX_BYTES`]
/// within [`DISCARD_MAX_MS`], then the rest is cancelled. Answering with the body unread let
/// workerd drop the client's keep-alive connection just as the client sent its next request on
/// it: about 1 in 100 such answers under load ended the *next* request with `ECONNRESET`
/// (`tests/e2e/connection.test.mjs`). The bytes are only counted, never copied into wasm.
/// Returns how many bytes were read and whether the body ended within the bounds.
pub async fn discard(stream: &web_sys::ReadableStream) -> (usize, bool) {
    let Some(reader) = Reader::new(stream) else {
        return (0, false);
    };
    let mut timer = pin!(delay(DISCARD_MAX_MS));
    let mut read = 0usize;
    loop {
        let pending = JsFuture::from(reader.inner.read());
        let result = match select(pin!(pending), timer.as_mut()).await {
            Either::Left((Ok(result), _)) => result,
            // A read error: the client is gone; nothing to keep.
            Either::Left((Err(_), _)) => return (read, false),
            Either::Right(_) => break,
        };
        let done = js_sys::Reflect::get(&result, &JsValue::from_str("done"))
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            return (read, true);
        }
        let len = js_sys::Reflect::get(&result, &JsValue::from_str("value"))
            .ok()
            .and_then(|v| v.dyn_into::<js_sys::Uint8Array>().ok())
            .map_or(0, |v| v.length() as usize);
        read = read.saturating_add(len);
        if read > DISCARD_MAX_BYTES {
            break;
        }
    }
    reader.cancel();
    (read, false)
}

// The reader is `js/io.mjs`'s `readWhole`, which the JavaScript entry calls directly.
#[wasm_bindgen::prelude::wasm_bindgen(module = "/js/io.mjs")]
extern "C" {
    #[wasm_bindgen(catch, js_name = readWhole)]
    fn airlock_read_whole(
        request: &web_sys::Request,
        length: f64,
    ) -> Result<js_sys::Promise, JsValue>;
}

/// A request body read to be checked (see [`read_request`]).
#[derive(Debug)]
pub struct RequestBody {
    /// What was read, as [`read_prefix`] says it.
    pub prefix: Prefix,
    /// The runtime's own copy of the whole body, when it was read in one call: sent on as it
    /// is, with no second copy out of wasm memory.
    pub runtime: Option<js_sys::Uint8Array>,
}

/// Reads a request body to check it, at most `cap` bytes (plus the chunk that crossed it).
///
/// A body whose `content-length` is known and within the cap, when `whole` (a JSON content
/// type), is read in one call by the runtime (issue 14): `request.arrayBuffer()`, its length then
/// compared with the `content-length` (the runtime delimits such a body by it), or, when the
/// request also names a `transfer-encoding` (a chunked body the runtime reads past any stated
/// length), piped through workerd's `FixedLengthStream` of that length, which errors on a byte
/// more or less, into `arrayBuffer()`; either way no more than the length is read.
/// Chunk by chunk through a reader, each chunk a promise, a `Uint8Array` and a copy into wasm,
/// a 700 KB body cost ~5 ms of CPU in workerd; read whole, ~0.5 ms. Any other body, or where the
/// runtime has no `FixedLengthStream`, goes through [`read_prefix`]. `None` when the stream is
/// locked or already read.
pub async fn read_request(
    request: &web_sys::Request,
    stream: &web_sys::ReadableStream,
    cap: usize,
    content_length: Option<u64>,
    whole: bool,
    stop_early: impl Fn(&[u8]) -> bool,
) -> Option<RequestBody> {
    let known = content_length.filter(|&n| whole && usize::try_from(n).is_ok_and(|n| n <= cap));
    if let Some(n) = known {
        // `n <= cap` fits in a JS number: the cap is a setting far below 2^53.
        if let Ok(promise) = airlock_read_whole(request, n as f64) {
            let read = JsFuture::from(promise)
                .await
                .ok()
                .and_then(|v| v.dyn_into::<js_sys::Uint8Array>().ok());
            return Some(match read {
                Some(runtime) => RequestBody {
                    prefix: Prefix {
                        bytes: runtime.to_vec(),
                        end: PrefixEnd::Complete,
                    },
                    runtime: Some(runtime),
                },
                // A cut, or a body longer or shorter than its `content-length`.
                None => RequestBody {
                    prefix: Prefix {
                        bytes: Vec::new(),
                        end: PrefixEnd::Failed,
                    },
                    runtime: None,
                },
            });
        }
    }
    let reader = Reader::new(stream)?;
    Some(RequestBody {
        prefix: read_prefix(reader, cap, content_length, None, stop_early).await,
        runtime: None,
    })
}

/// Where a relayed body goes, for its `body_end` log line (a type of the rules crate's
/// `log_line`, with the line itself).
pub use airlock_rules::log_line::{BodyEnd, Direction};

/// What [`relay`] needs besides the bytes.
#[derive(Debug)]
pub struct RelayOptions {
    /// For the log line.
    pub request_id: String,
    /// For the log line.
    pub direction: Direction,
    /// Longest wait for the next chunk, in milliseconds.
    pub idle_ms: u64,
    /// Secrets to mask on the way (gateway mode, upstream answers).
    pub masker: Option<Masker>,
}

struct Relay {
    first: Option<Vec<u8>>,
    rest: Option<Reader>,
    options: RelayOptions,
    sent: u64,
}

impl Relay {
    fn fail(&mut self, state: &'static str, error: Option<&str>) -> worker::Error {
        if let Some(reader) = self.rest.take() {
            reader.cancel();
        }
        let line = BodyEnd {
            event: "body_end",
            request_id: &self.options.request_id,
            direction: self.options.direction,
            state,
            bytes: Some(self.sent),
            error,
        };
        if let Ok(text) = serde_json::to_string(&line) {
            worker::console_log!("{text}");
        }
        worker::Error::RustError(format!("airlock: upstream body {state}"))
    }

    fn masked(&mut self, chunk: Vec<u8>) -> Vec<u8> {
        match &mut self.options.masker {
            Some(m) => m.push(&chunk),
            None => chunk,
        }
    }
}

/// `first` (already read) and then the rest of `rest`, as a stream to send on.
pub fn relay(
    first: Vec<u8>,
    rest: Option<Reader>,
    options: RelayOptions,
) -> impl Stream<Item = worker::Result<Vec<u8>>> + 'static {
    let state = Relay {
        first: Some(first),
        rest,
        options,
        sent: 0,
    };
    stream::unfold(Some(state), |state| async move {
        let mut r = state?;
        loop {
            if let Some(first) = r.first.take() {
                let out = r.masked(first);
                if !out.is_empty() {
                    r.sent += out.len() as u64;
                    return Some((Ok(out), Some(r)));
                }
                continue;
            }
            let Some(reader) = r.rest.as_ref() else {
                // The end: what the masker still holds, then nothing.
                let tail = r.options.masker.as_mut().map(Masker::finish);
                return tail
                    .filter(|t| !t.is_empty())
                    .map(|t| (Ok(t), None::<Relay>));
            };
            let idle = delay(r.options.idle_ms);
            let read = match select(pin!(reader.next()), pin!(idle)).await {
                Either::Left((read, _)) => read,
                Either::Right(_) => return Some((Err(r.fail("stalled", None)), None)),
            };
            match read {
                Read::Chunk(chunk) => {
                    let out = r.masked(chunk);
                    if out.is_empty() {
                        continue;
                    }
                    r.sent += out.len() as u64;
                    return Some((Ok(out), Some(r)));
                }
                Read::End => r.rest = None,
                Read::Failed(why) => return Some((Err(r.fail("cut", Some(&why))), None)),
            }
        }
    })
}

/// A `ReadableStream` of `stream`, for a request or response body.
///
/// # Errors
/// When the runtime refuses to make the stream.
pub fn readable(
    stream: impl Stream<Item = worker::Result<Vec<u8>>> + 'static,
) -> worker::Result<web_sys::ReadableStream> {
    let response = worker::Response::from_stream(stream)?;
    match response.body() {
        worker::ResponseBody::Stream(s) => Ok(s.clone()),
        _ => Err(worker::Error::RustError("no stream".to_owned())),
    }
}

/// An upstream success body that is not an event stream, passed on by the runtime's own pipe
/// (no copy through Rust; workerd's native `IdentityTransformStream`, so no JavaScript per chunk
/// either, see [`crate::plumbing::identity_pipe`]) into a new stream the client reads. When the pipe fails (the upstream
/// reset mid-body) the client's stream fails too, so the client sees an incomplete body instead of
/// a clean short one, and a `body_end` line logs the cut. `None`: the runtime refused the pipe
/// (the body is then passed on as it is).
pub fn guarded(
    body: &web_sys::ReadableStream,
    request_id: String,
) -> Option<web_sys::ReadableStream> {
    let (writable, readable) = crate::plumbing::identity_pipe()?;
    let done = body.pipe_to(&writable);
    js_sys::futures::spawn_local(async move {
        if let Err(e) = JsFuture::from(done).await {
            let why = describe(&e);
            let line = BodyEnd {
                event: "body_end",
                request_id: &request_id,
                direction: Direction::Response,
                state: "cut",
                bytes: None,
                error: Some(&why),
            };
            if let Ok(text) = serde_json::to_string(&line) {
                worker::console_log!("{text}");
            }
        }
    });
    Some(readable)
}
