//! How a watched stream's end is counted (issue 16): every event stream the worker passes on was
//! counted as its response (a 200, category `ok`) when its headers went out; when it ends, its
//! outcome is counted too, in the `stream` dimension, and a stream that *failed* after its 200 is
//! moved from `ok` to the category of its failure, so that a burst of stream failures can fire
//! the `stream_error` alert. Pure, tested on the host.
//!
//! A failure is, per the rules crate's classification (`StreamSummary::evidence` then
//! `diagnose`): an `error` event, a `response.failed` or a Chat chunk with an `error` key (the
//! category the error names: `server_error`, `rate_limit`…, else `stream_error`), and a cut: the
//! upstream connection dropped or stalled mid-stream (`stream_error`). Not failures: a completed
//! stream, `response.incomplete` (the request's own limits, e.g. `max_output_tokens`), a client
//! that went away, and a stream the upstream *ended* cleanly without `[DONE]` after a Chat chunk
//! gave its `finish_reason` (OpenAI-compatible servers that omit `[DONE]` are valid traffic; a
//! clean end with no `finish_reason`, or a Responses stream without its terminal event, is a cut).

use airlock_rules::Category;
use airlock_rules::sse::{StreamKind, StreamState, StreamSummary};

/// What the watcher knew when the stream ended.
#[derive(Clone, Debug)]
pub struct Ended<'a> {
    /// Chat Completions, Responses, or unknown.
    pub kind: StreamKind,
    /// The stream's state when it ended (before any bytes Airlock appended).
    pub state: &'a StreamState,
    /// The upstream connection failed or stalled mid-stream.
    pub upstream_dropped: bool,
    /// The client went away first.
    pub client_closed: bool,
    /// The last `finish_reason` of a Chat stream.
    pub finish_reason: Option<&'a str>,
}

/// How one stream is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The key in the `stream` dimension: `completed`, `failed`, `incomplete`, `cut`,
    /// `client_closed`, `ended` (cleanly, without a terminal event, after a `finish_reason`).
    pub key: &'static str,
    /// The category it is moved to from `ok`, when it failed.
    pub failure: Option<Category>,
}

/// Counts one ended stream.
pub fn outcome(e: &Ended<'_>) -> Outcome {
    let key = match e.state {
        _ if e.client_closed && !matches!(e.state, StreamState::Failed { .. }) => {
            return Outcome {
                key: "client_closed",
                failure: None,
            };
        }
        StreamState::Completed => "completed",
        StreamState::Incomplete { .. } => "incomplete",
        StreamState::Failed { .. } => "failed",
        StreamState::Cut { .. } => {
            let finished = e.kind == StreamKind::ChatCompletions && e.finish_reason.is_some();
            if !e.upstream_dropped && (finished || e.kind == StreamKind::Unknown) {
                return Outcome {
                    key: "ended",
                    failure: None,
                };
            }
            "cut"
        }
        _ => "unknown",
    };
    let failure = match e.state {
        StreamState::Failed { .. } | StreamState::Cut { .. } => {
            let summary = StreamSummary {
                kind: e.kind,
                state: e.state.clone(),
                events: 0,
                bytes: 0,
                at_event: None,
                last_event: None,
                finish_reason: None,
                oversize: 0,
            };
            Some(summary.evidence().map_or(Category::StreamError, |ev| {
                airlock_rules::diagnose(&ev).category
            }))
        }
        _ => None,
    };
    Outcome { key, failure }
}

#[cfg(test)]
mod tests {
    use super::*;
    use airlock_rules::sse::StreamWatch;

    fn ended(text: &str, dropped: bool, client_closed: bool) -> Outcome {
        let mut w = StreamWatch::new();
        w.push(text.as_bytes());
        let state = if dropped || client_closed {
            w.state()
        } else {
            w.finish()
        };
        outcome(&Ended {
            kind: w.kind(),
            state: &state,
            upstream_dropped: dropped,
            client_closed,
            finish_reason: w.finish_reason(),
        })
    }

    const CHUNK: &str = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}\n\n";
    const LAST: &str = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";

    #[test]
    fn completed_and_incomplete_are_not_failures() {
        let o = ended(&format!("{CHUNK}{LAST}data: [DONE]\n\n"), false, false);
        assert_eq!((o.key, o.failure), ("completed", None));
        let o = ended(
            "event: response.incomplete\ndata: {\"type\":\"response.incomplete\",\"response\":{\"incomplete_details\":{\"reason\":\"max_output_tokens\"}}}\n\n",
            false,
            false,
        );
        assert_eq!((o.key, o.failure), ("incomplete", None));
    }

    #[test]
    fn a_drop_is_a_stream_error() {
        let o = ended(CHUNK, true, false);
        assert_eq!((o.key, o.failure), ("cut", Some(Category::StreamError)));
        // Even after a finish_reason: the connection failed.
        let o = ended(&format!("{CHUNK}{LAST}"), true, false);
        assert_eq!(o.failure, Some(Category::StreamError));
    }

    #[test]
    fn an_error_event_counts_as_its_cause() {
        let o = ended(
            &format!(
                "{CHUNK}data: {{\"error\":{{\"message\":\"The server had an error while processing your request. Sorry about that!\",\"type\":\"server_error\",\"param\":null,\"code\":\"server_error\"}}}}\n\n"
            ),
            false,
            false,
        );
        assert_eq!((o.key, o.failure), ("failed", Some(Category::ServerError)));
        let o = ended(
            "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\",\"error\":null}}\n\n",
            false,
            false,
        );
        assert_eq!((o.key, o.failure), ("failed", Some(Category::StreamError)));
    }

    #[test]
    fn a_clean_end_without_done() {
        // After the finish_reason: an OpenAI-compatible server that omits [DONE].
        let o = ended(&format!("{CHUNK}{LAST}"), false, false);
        assert_eq!((o.key, o.failure), ("ended", None));
        // Before it: the answer is not whole.
        let o = ended(CHUNK, false, false);
        assert_eq!((o.key, o.failure), ("cut", Some(Category::StreamError)));
        // A Responses stream without its terminal event.
        let o = ended(
            "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0}\n\n",
            false,
            false,
        );
        assert_eq!((o.key, o.failure), ("cut", Some(Category::StreamError)));
        // Not an OpenAI stream at all.
        let o = ended("data: hello\n\n", false, false);
        assert_eq!((o.key, o.failure), ("ended", None));
    }

    #[test]
    fn a_client_that_left_is_not_a_failure() {
        let o = ended(CHUNK, false, true);
        assert_eq!((o.key, o.failure), ("client_closed", None));
    }
}
