//! Watching a streamed (SSE) answer as it passes, and ending a dropped one with an error event.
//!
//! Each chunk the upstream sends is handed to the client as soon as it is read, unchanged; a copy
//! of the bytes goes through [`StreamWatch`] (O(1) memory: the current line and event only). There
//! is no buffering and no delay: the wrapper is pulled by the runtime exactly like the upstream's
//! own body stream would be.
//!
//! When the stream ends, one `stream_end` log line is written with the same `request_id` as the
//! request's line, and its outcome goes to the Monitor (`monitor::stream_ended`: a failure after
//! the 200 is counted under its category) (which was written when the response headers went out, so its `latency_ms` stays
//! the time to first byte): the final state (`completed`, `failed` with the error, `incomplete`
//! with the reason, `cut` with the last event seen), events, bytes and duration.
//!
//! When reading the upstream body fails (the connection dropped mid-stream), the client's stream is
//! ended with [`StreamWatch::closing_bytes`], so that both official SDKs raise `APIError` (code
//! `stream_interrupted`) instead of returning a silently truncated answer: between events, a
//! well-formed error event in OpenAI's shape; inside an event whose `data:` bytes were already
//! sent, the shortest continuation of that JSON which closes it as an object with an `error` key
//! (the cut event itself becomes the error; nothing sent is taken back or was held). A drop inside
//! the closing `data: [DONE]` line is finished as `[DONE]`, and a terminal event that lacked only
//! its blank line gets just that: every chunk had arrived. A stream that the upstream *ends* cleanly without a terminal event is
//! logged as `cut` but passed on as sent: that was the upstream's choice (an OpenAI-compatible
//! server that omits `[DONE]` is valid traffic).

use airlock_rules::log_line::StreamEnd;
use airlock_rules::output::{Expectation, OutputReport, StreamOutput};
use airlock_rules::sse::{StreamState, StreamWatch};
use core::pin::pin;

use futures_util::future::{Either, select};
use futures_util::{Stream, StreamExt};
use worker::ByteStream;

/// The message of the error event appended to a dropped stream.
pub const DROPPED_MESSAGE: &str =
    "The upstream connection closed before the response was complete.";

/// The message of the error event that ends a stream the upstream left silent too long.
pub const STALLED_MESSAGE: &str =
    "The upstream sent nothing for longer than Airlock's idle timeout (UPSTREAM_IDLE_TIMEOUT_MS).";

/// Whether a response with this content type is a stream to watch.
pub fn is_event_stream(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|t| {
        t.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/event-stream"))
    })
}

/// The watcher and what the log needs; logs once, at the end or when dropped.
struct Watcher {
    watch: StreamWatch,
    request_id: String,
    started_ms: f64,
    logged: bool,
    /// The upstream went silent for the idle timeout (handled as a drop).
    stalled: bool,
    /// The output assembled for the check, when the request asked for a schema.
    output: Option<(Expectation, StreamOutput)>,
}

impl Watcher {
    fn log(&mut self, upstream_dropped: bool, appended_error: bool, client_closed: bool) {
        if self.logged {
            return;
        }
        self.logged = true;
        let state = if client_closed || upstream_dropped {
            self.watch.state()
        } else {
            self.watch.finish()
        };
        let (error, reason) = match &state {
            StreamState::Failed { error } => (Some(error), None),
            StreamState::Incomplete { reason } => (None, reason.as_deref()),
            _ => (None, None),
        };
        // Only a stream that ended is judged: a dropped or cancelled one has no whole output.
        let report = match &mut self.output {
            Some((expect, assembled)) if !client_closed && !upstream_dropped => {
                Some(crate::output::finish_stream(expect, assembled))
            }
            Some(_) => Some(OutputReport::unchecked("cut")),
            None => None,
        };
        let line = StreamEnd {
            event: "stream_end",
            request_id: &self.request_id,
            kind: self.watch.kind().as_str(),
            state: state.as_str(),
            error,
            reason,
            last_event: self.watch.last_event(),
            finish_reason: self.watch.finish_reason(),
            events: self.watch.events(),
            bytes: self.watch.bytes(),
            upstream_dropped,
            appended_error,
            client_closed,
            upstream_stalled: self.stalled,
            duration_ms: js_sys::Date::now() - self.started_ms,
            output: report.as_ref().map(|r| r.status.as_str()),
            output_path: report.as_ref().and_then(|r| {
                r.path
                    .as_ref()
                    .map(|p| p.chars().take(crate::log::MAX_LOG_FIELD_CHARS).collect())
            }),
            output_keyword: report
                .as_ref()
                .and_then(|r| r.keyword.clone().or_else(|| r.reason.map(str::to_owned))),
        };
        match serde_json::to_string(&line) {
            Ok(text) => worker::console_log!("{text}"),
            Err(e) => worker::console_error!("airlock: stream_end log failed: {e}"),
        }
        crate::monitor::stream_ended(
            &self.request_id,
            &crate::monitor::stream::Ended {
                kind: self.watch.kind(),
                state: &state,
                upstream_dropped: upstream_dropped || self.stalled,
                client_closed,
                finish_reason: self.watch.finish_reason(),
            },
        );
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        // Dropped before the end: the client cancelled (the runtime cancels our stream).
        self.log(false, false, true);
    }
}

/// Wraps the upstream's body: chunks pass through as read, watched on the way.
///
/// No chunk for `idle_ms` (`UPSTREAM_IDLE_TIMEOUT_MS`) is handled like a drop: the client's
/// stream is closed with the same error, and the log line says `upstream_stalled`.
pub fn watched(
    body: web_sys::ReadableStream,
    request_id: String,
    idle_ms: u64,
    expect: Option<Expectation>,
) -> impl Stream<Item = worker::Result<Vec<u8>>> + 'static {
    let upstream = Box::pin(ByteStream::from(body));
    // The Monitor counts how it ends (issue 16), once the request's own line is reported.
    crate::monitor::stream_opened(&request_id);
    let watcher = Watcher {
        watch: StreamWatch::new(),
        request_id,
        started_ms: js_sys::Date::now(),
        logged: false,
        stalled: false,
        output: expect.map(|e| (e, StreamOutput::new())),
    };
    futures_util::stream::unfold(Some((upstream, watcher)), move |state| async move {
        let (mut upstream, mut watcher) = state?;
        let next = match select(upstream.next(), pin!(crate::body::delay(idle_ms))).await {
            Either::Left((next, _)) => next,
            Either::Right(_) => {
                watcher.stalled = true;
                Some(Err(worker::Error::RustError(
                    "no chunk within UPSTREAM_IDLE_TIMEOUT_MS".to_owned(),
                )))
            }
        };
        match next {
            Some(Ok(chunk)) => {
                watcher.watch.push(&chunk);
                if let Some((_, assembled)) = &mut watcher.output {
                    assembled.push(&chunk);
                }
                Some((Ok(chunk), Some((upstream, watcher))))
            }
            Some(Err(e)) => {
                worker::console_error!("airlock: upstream stream failed: {e}");
                // A terminal event already arrived: nothing is lost, end quietly.
                let closing = watcher.watch.terminal().is_none().then(|| {
                    let message = if watcher.stalled {
                        STALLED_MESSAGE
                    } else {
                        DROPPED_MESSAGE
                    };
                    watcher.watch.closing_bytes(message)
                });
                // Whether the bytes carry Airlock's error, or only finish an event that ended
                // the stream anyway (its blank line, or a cut `[DONE]`).
                let appended_error = closing.as_ref().is_some_and(|bytes| {
                    let mut after = watcher.watch.clone();
                    after.push(bytes);
                    matches!(
                        after.terminal(),
                        Some(StreamState::Failed { error })
                            if error.code.as_deref() == Some(airlock_rules::sse::INTERRUPTED_CODE)
                    )
                });
                watcher.log(true, appended_error, false);
                closing.map(|bytes| (Ok(bytes), None))
            }
            None => {
                watcher.log(false, false, false);
                None
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::is_event_stream;

    #[test]
    fn event_stream_content_types() {
        assert!(is_event_stream(Some("text/event-stream")));
        assert!(is_event_stream(Some("text/event-stream; charset=utf-8")));
        assert!(is_event_stream(Some("Text/Event-Stream")));
        assert!(!is_event_stream(Some("application/json")));
        assert!(!is_event_stream(None));
    }
}
