//! What a value read from the text says: error bodies, Node/axios dumps, SSE events, Batch objects.

use alloc::format;
use alloc::string::{String, ToString};
use serde_json::{Map, Value};

use super::lenient::parse_at;
use super::text::{SseLine, errno_kind, line_number};
use super::{Body, Collector, prio};

/// Keys whose subtrees describe the request, not the response: never read.
const REQUEST_KEYS: &[&str] = &[
    "config",
    "request",
    "_options",
    "options",
    "_currentRequest",
    "socket",
    "agent",
    "client",
    "_events",
    "_readableState",
    "_writableState",
    "params",
    "messages",
    "input",
    "tools",
    "functions",
];

/// Reads every value in the text, from left to right, never reading a byte twice.
pub(crate) fn scan(text: &str, sse: &[SseLine], c: &mut Collector) {
    scan_inner(text, 0, sse, c);
}

/// How many times a JSON text found inside a string (or escaped in a log line) is read in turn.
const MAX_NESTING: u8 = 2;

/// Reads a JSON text held in a string value, or escaped in a log line (`{\"error\": …}`).
fn scan_nested(inner: &str, base: usize, c: &mut Collector) {
    if c.nesting >= MAX_NESTING {
        return;
    }
    c.nesting += 1;
    scan_inner(inner, base, &[], c);
    c.nesting -= 1;
}

/// Undoes one level of JSON string escaping.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => {}
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// The end of a single-quoted literal that opens right before the brace at `at` and holds an
/// escaped double quote (`\\"`), on the same line: the position of its closing quote.
fn quoted_escaped_json_end(b: &[u8], at: usize) -> Option<usize> {
    if at == 0 || b.get(at - 1) != Some(&b'\'') {
        return None;
    }
    let line_end = b[at..]
        .iter()
        .position(|&x| x == b'\n')
        .map_or(b.len(), |e| at + e);
    let close = at + b[at..line_end].iter().rposition(|&x| x == b'\'')?;
    b[at..close]
        .windows(3)
        .any(|w| w == b"\\\\\"")
        .then_some(close)
}

fn scan_inner(text: &str, base: usize, sse: &[SseLine], c: &mut Collector) {
    let b = text.as_bytes();
    let mut i = 0;
    // The end of a value a syntax error cut short whose bytes are read again (see below).
    let mut reread_until = 0;
    while i < b.len() {
        let Some(k) = b[i..].iter().position(|&x| matches!(x, b'{' | b'[' | b'(')) else {
            break;
        };
        let mut at = i + k;
        if b[at] == b'(' {
            // A Python repr `Batch(id='batch_1', status='failed', …)`: start at the class name.
            let mut st = at;
            while st > i && (b[st - 1].is_ascii_alphanumeric() || b[st - 1] == b'_') {
                st -= 1;
            }
            let kwargs = b.get(at + 1).is_some_and(|x| x.is_ascii_lowercase())
                && b[at + 1..]
                    .iter()
                    .take(40)
                    .position(|&x| x == b'=')
                    .is_some_and(|e| {
                        b[at + 1..at + 1 + e]
                            .iter()
                            .all(|x| x.is_ascii_alphanumeric() || *x == b'_')
                    });
            if st == at || !b[st].is_ascii_uppercase() || !kwargs {
                i = at + 1;
                continue;
            }
            at = st;
        }
        if let Some(close) = quoted_escaped_json_end(b, at) {
            // JSON in a single-quoted string of a Node `util.inspect` dump whose own quotes are
            // escaped (`responseBody: '{"error":"model \\"x\\" not found"}'`): read once the
            // literal's escapes are undone, or the body ends at the first escaped quote. Needed
            // when the dump's head is cut off and the line is not read as the object's field.
            if let Some(lit) = text.get(at..close) {
                c.work += close - at;
                scan_nested(&unescape(lit), base + at, c);
                i = close + 1;
                continue;
            }
        }
        if b.get(at + 1) == Some(&b'\\') && b.get(at + 2) == Some(&b'"') {
            // Escaped JSON in a log line: read the rest of the line unescaped.
            let end = b[at..]
                .iter()
                .position(|&x| x == b'\n')
                .map_or(b.len(), |e| at + e);
            c.work += end - at;
            scan_nested(&unescape(&text[at..end]), base + at, c);
            i = end.max(at + 1);
            continue;
        }
        let mut work = 0;
        let parsed = parse_at(text, at, &mut work);
        c.work += work;
        match parsed {
            Some(p) => {
                let ctx = sse_at(sse, at);
                if matches!(p.value, Value::Object(_) | Value::Array(_)) {
                    c.cues.json = true;
                }
                let before = c.body_prio();
                absorb(&p.value, base + at, ctx, c, 0);
                if !p.complete
                    && c.unread_room()
                    && matches!(&p.value, Value::Object(m) if !m.is_empty())
                {
                    let what = if p.end >= b.len() {
                        "was cut off at the end of the text; read what was there"
                    } else {
                        "could not be read to its end; read what was there"
                    };
                    if c.body_prio() != before || c.body_prio().is_some_and(|p| p >= prio::BODY) {
                        c.unread(format!(
                            "the value at line {} {what}",
                            line_number(text, at)
                        ));
                    }
                }
                if p.complete {
                    // The v0 Python SDK prints `{body} 500 {body} {headers}`.
                    let rest = &b[p.end..];
                    let sp = rest
                        .iter()
                        .take_while(|&&x| x == b' ' || x == b'\n')
                        .count();
                    if sp > 0 {
                        if let Some(s) = super::text::three_digits(&rest[sp..]) {
                            if rest.get(sp + 3) == Some(&b' ') && rest.get(sp + 4) == Some(&b'{') {
                                c.status(s, prio::CLIENT, base + p.end);
                            }
                        }
                    }
                }
                // A value cut short by a syntax error, with no error body in what was read, may
                // hold one further in: an app's wrapper quoting a JSON body without escaping it
                // (`[Error: … responseMessage: "{ "error": { … } }"]` ends its string at the
                // body's first quote). Its bytes are read once more, for the values they hold;
                // a value cut short inside them is not read again, so no byte is read more than
                // twice.
                let nothing = c.body_prio() == before;
                let cut_short = !p.complete && p.end < b.len() && nothing;
                // So is a bracketed label an app or CLI puts around a body (gemini-cli's
                // `[API Error: [{ "error": { …, "errors": [ … ] } }]]`): the lenient reader takes
                // the label for a list of words and the body inside it for items, and finds no
                // error body; the body's own bytes, read again from its first brace, hold one.
                let label = p.complete
                    && nothing
                    && b[at] == b'['
                    && b.get(at + 1).is_some_and(u8::is_ascii_alphabetic);
                i = if (cut_short || label) && at >= reread_until {
                    reread_until = p.end;
                    at + 1
                } else {
                    p.end.max(at + 1)
                };
            }
            None => i = at + 1,
        }
    }
}

fn sse_at(sse: &[SseLine], at: usize) -> Option<&SseLine> {
    let idx = sse.partition_point(|l| l.end < at);
    sse.get(idx).filter(|l| l.start <= at && at <= l.end)
}

fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn str_of<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

fn status_of(v: Option<&Value>) -> Option<u16> {
    match v? {
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The quota a Google `QuotaFailure` detail names (`violations[].quotaId`, else `quotaMetric`).
fn google_quota_id(details: Option<&Value>) -> Option<String> {
    let Value::Array(details) = details? else {
        return None;
    };
    details.iter().take(16).find_map(|d| {
        let Value::Array(vs) = d.get("violations")? else {
            return None;
        };
        vs.iter().take(16).find_map(|v| {
            let v = v.as_object()?;
            str_of(v, "quotaId")
                .or_else(|| str_of(v, "quotaMetric"))
                .filter(|id| !id.trim().is_empty())
                .map(String::from)
        })
    })
}

/// The fields of an OpenAI error object.
fn body_of(e: &Map<String, Value>) -> Body {
    let code = text_of(e.get("code"));
    Body {
        code: code.filter(|c| errno_kind(c).is_none()),
        error_type: text_of(e.get("type")),
        param: text_of(e.get("param")),
        message: text_of(e.get("message")),
    }
}

fn looks_like_response_headers(m: &Map<String, Value>) -> bool {
    let mut hit = false;
    for k in m.keys() {
        let k = k.to_ascii_lowercase();
        if k == "user-agent" || k.starts_with("x-stainless") || k == "authorization" {
            return false;
        }
        if super::text::known_response_header(&k)
            || matches!(
                k.as_str(),
                "date" | "server" | "content-type" | "connection"
            )
        {
            hit = true;
        }
    }
    hit
}

/// The `response` of a Batch output line (`status_code`, `request_id`, `body`). Status 0 is no
/// HTTP status: the line names no answer.
fn absorb_line_response(r: &Map<String, Value>, pos: usize, c: &mut Collector, depth: usize) {
    if let Some(s) = status_of(r.get("status_code")).filter(|s| *s >= 100) {
        c.status(s, prio::DUMP, pos);
    }
    if let Some(id) = str_of(r, "request_id") {
        c.request_id(id, prio::DUMP, pos);
    }
    if let Some(body) = r.get("body") {
        absorb(body, pos, None, c, depth + 1);
    }
}

fn absorb_headers(m: &Map<String, Value>, pos: usize, c: &mut Collector) {
    for (k, v) in m.iter().take(200) {
        let val = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Array(a) => a
                .iter()
                .filter_map(Value::as_str)
                .collect::<alloc::vec::Vec<_>>()
                .join(", "),
            Value::Object(o) => match o.get("value").and_then(Value::as_str) {
                Some(s) => s.to_string(),
                None => continue,
            },
            _ => continue,
        };
        c.header(k, &val, pos);
    }
}

/// Adds what one value says.
pub(crate) fn absorb(
    v: &Value,
    pos: usize,
    sse: Option<&SseLine>,
    c: &mut Collector,
    depth: usize,
) {
    if depth > 12 {
        return;
    }
    match v {
        Value::Array(a) => {
            for x in a.iter().take(256) {
                absorb(x, pos, sse, c, depth + 1);
            }
        }
        Value::Object(m) => absorb_obj(m, pos, sse, c, depth),
        _ => {}
    }
}

fn absorb_obj(
    m: &Map<String, Value>,
    pos: usize,
    sse: Option<&SseLine>,
    c: &mut Collector,
    depth: usize,
) {
    let event = sse.and_then(|l| l.event.as_deref());
    let ty = str_of(m, "type");

    // A Batch object (the Python SDK's repr of one may be cut to a few fields, but its ID is
    // `batch_…`; a Batch line's is `batch_req_…`).
    let batch_id = str_of(m, "id")
        .is_some_and(|id| id.starts_with("batch_") && !id.starts_with("batch_req_"))
        && (m.contains_key("status") || m.contains_key("errors"));
    if str_of(m, "object") == Some("batch") || batch_id {
        let status = str_of(m, "status");
        let has_errors = match m.get("errors") {
            Some(Value::Object(e)) => e
                .get("data")
                .is_some_and(|d| d.as_array().is_some_and(|a| !a.is_empty())),
            Some(Value::Array(a)) => !a.is_empty(),
            _ => false,
        };
        // `request_counts.failed`: a batch can complete with every request failed.
        let failed = m
            .get("request_counts")
            .and_then(|r| r.get("failed"))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let fine = matches!(
            status,
            Some("completed" | "validating" | "in_progress" | "finalizing") | None
        );
        if fine && !has_errors && failed == 0 {
            // A Batch that is doing well is not an error.
            return;
        }
        c.batch(status, None, pos);
        let errors = match m.get("errors") {
            Some(Value::Object(e)) => e.get("data"),
            other => other,
        };
        if let Some(Value::Array(list)) = errors {
            if let Some(Value::Object(first)) = list.first() {
                c.body(body_of(first), prio::BODY, pos);
            }
        }
        return;
    }

    // One Batch error alone (`BatchError(code=…, line=…, message=…, param=…)`): exactly the
    // four fields of OpenAI's BatchError.
    if m.len() <= 4
        && m.contains_key("code")
        && m.contains_key("line")
        && m.contains_key("param")
        && m.keys()
            .all(|k| matches!(k.as_str(), "code" | "line" | "message" | "param"))
    {
        c.batch(None, None, pos);
        c.body(body_of(m), prio::BODY, pos);
        return;
    }

    // A Batch's `errors` alone: `{"object": "list", "data": [{"code", "message", "param",
    // "line"}, …]}` (or the SDK's `Errors(data=[BatchError(…)])`).
    if let Some(Value::Array(list)) = m.get("data") {
        let batch_errors = !list.is_empty()
            && list.iter().all(|e| {
                matches!(e, Value::Object(o) if o.contains_key("code") && o.contains_key("line"))
            });
        if batch_errors && matches!(str_of(m, "object"), Some("list") | None) {
            c.batch(None, None, pos);
            if let Some(Value::Object(first)) = list.first() {
                c.body(body_of(first), prio::BODY, pos);
            }
            return;
        }
    }

    // The `response` object of a Batch output line printed alone (`{'status_code': 400,
    // 'request_id': …, 'body': {'error': …}}`, as batch runners log a failed line): only a Batch
    // line wraps a response in these three keys.
    if !m.contains_key("custom_id")
        && m.contains_key("request_id")
        && matches!(m.get("body"), Some(Value::Object(b)) if b.contains_key("error"))
        && status_of(m.get("status_code")).is_some_and(|s| !(200..300).contains(&s))
    {
        c.batch(None, None, pos);
        absorb_line_response(m, pos, c, depth);
        return;
    }

    // A line of a Batch output or error file. A status that is not a success failed the line,
    // 0 included (no answer was recorded for it: an error-file line with an empty body).
    if m.contains_key("custom_id") && (m.contains_key("response") || m.contains_key("error")) {
        let failed_status = match m.get("response") {
            Some(Value::Object(r)) => {
                status_of(r.get("status_code")).is_some_and(|s| !(200..300).contains(&s))
            }
            _ => false,
        };
        let error = m.get("error").is_some_and(|e| !e.is_null());
        if !failed_status && !error {
            // A line that succeeded.
            return;
        }
        c.batch(None, str_of(m, "custom_id"), pos);
        if let Some(Value::Object(e)) = m.get("error") {
            c.body(body_of(e), prio::BODY, pos);
        }
        if let Some(Value::Object(r)) = m.get("response") {
            absorb_line_response(r, pos, c, depth);
        }
        return;
    }

    // A streamed chunk (`chat.completion.chunk`), even without its SSE framing, says the output
    // came in a stream: an error after it arrived inside that stream.
    if str_of(m, "object") == Some("chat.completion.chunk") {
        c.stream_text();
    }

    // Stream events.
    match ty {
        // An image stream's event that carries an error (`image_generation.partial_failed`).
        Some(t)
            if (t.starts_with("image_generation.") || t.starts_with("image_edit."))
                && matches!(m.get("error"), Some(Value::Object(_))) =>
        {
            c.stream(Some(t), pos);
            if let Some(Value::Object(e)) = m.get("error") {
                c.body(body_of(e), prio::BODY, pos);
            }
            return;
        }
        Some(t @ ("response.failed" | "response.error")) => {
            c.stream(Some(t), pos);
            let resp = match m.get("response") {
                Some(Value::Object(r)) => Some(r),
                _ => None,
            };
            if let Some(Value::Object(e)) = resp.and_then(|r| r.get("error")).or(m.get("error")) {
                c.body(body_of(e), prio::BODY, pos);
            }
            return;
        }
        Some("response.incomplete") => {
            c.stream(Some("response.incomplete"), pos);
            let reason = match m.get("response") {
                Some(Value::Object(r)) => match r.get("incomplete_details") {
                    Some(Value::Object(d)) => text_of(d.get("reason")),
                    _ => None,
                },
                _ => None,
            };
            c.body(
                Body {
                    code: reason,
                    ..Body::default()
                },
                prio::BODY,
                pos,
            );
            return;
        }
        // OpenAI error objects never have the type `error`: this is a stream's error event.
        Some("error")
            if m.contains_key("code") || m.contains_key("message") || m.contains_key("error") =>
        {
            if sse.is_some() {
                c.stream(Some(event.unwrap_or("error")), pos);
            } else if m.contains_key("request_id") {
                // Anthropic's HTTP error body names its request at the top level
                // (`{"type":"error","error":{…},"request_id":"req_…"}`); a stream's error event
                // does not: a response carried it.
                c.status_before_body();
            } else {
                // Outside SSE framing the same shape is also Anthropic's response body (what
                // Claude-compatible relays send): decided once the whole paste is read.
                c.bare_error_event(pos);
            }
            match m.get("error") {
                Some(Value::Object(e)) => {
                    // The Agents SDK's own `error` event wraps the server's whole error event
                    // (`{type: 'error', error: {type: 'error', event_id: …, error: {code, …}}}`):
                    // the error object is the inner one.
                    let inner = match e.get("error") {
                        Some(Value::Object(i)) if str_of(e, "type") == Some("error") => i,
                        _ => e,
                    };
                    c.body(body_of(inner), prio::BODY, pos)
                }
                _ => c.body(body_of(m), prio::BODY, pos),
            }
            return;
        }
        _ => {}
    }

    // A Responses object or an Assistants run (or run step) that ended `failed` and shows no
    // error beside it (`"error": null`, `"last_error": null`, or neither): a failed response
    // whose cause the paste does not show (`classify::failed_response`). An error object beside
    // the status is read as usual. A run printed by an Assistants-compatible server may leave
    // `object` empty; its `thread_id` and `assistant_id` still say what it is.
    let run_like = matches!(
        str_of(m, "object"),
        Some("response" | "thread.run" | "thread.run.step")
    ) || (m.contains_key("thread_id") && m.contains_key("assistant_id"));
    if run_like
        && str_of(m, "status") == Some("failed")
        && !matches!(m.get("error"), Some(Value::Object(_)))
        && !matches!(m.get("last_error"), Some(Value::Object(_)))
    {
        c.body(
            Body {
                error_type: Some("failed".into()),
                ..Body::default()
            },
            prio::BODY,
            pos,
        );
        return;
    }

    // An object that ended `incomplete` and says why in `incomplete_details` (a Responses object
    // read back or printed whole, an Assistants run: `"status": "incomplete", "incomplete_details":
    // {"reason": "max_output_tokens"}`): the reason is its cause, as a `response.incomplete`
    // event's is. A Realtime response names its reason in `status_details` (an interruption by
    // the user, not an error) and is not read here; an `error` beside it is read as usual.
    if str_of(m, "status") == Some("incomplete")
        && !matches!(m.get("error"), Some(Value::Object(_)))
    {
        if let Some(Value::Object(d)) = m.get("incomplete_details") {
            if let Some(reason) = text_of(d.get("reason")).filter(|r| !r.trim().is_empty()) {
                c.body(
                    Body {
                        code: Some(reason),
                        ..Body::default()
                    },
                    prio::BODY,
                    pos,
                );
                return;
            }
        }
    }

    // An SSE `event: error` whose data is a flat object that is not OpenAI's shape
    // (`{"code":400,"details":"…"}` from OpenAI-compatible servers and gateways).
    if event == Some("error") && ty.is_none() && !m.contains_key("error") {
        let message = text_of(m.get("message"))
            .or_else(|| text_of(m.get("details")))
            .or_else(|| text_of(m.get("detail")));
        if message.is_some() || m.contains_key("code") {
            c.stream(Some("error"), pos);
            let numeric = matches!(m.get("code"), Some(Value::Number(_)));
            if let Some(s) = status_of(m.get("code")).filter(|s| numeric && (400..=599).contains(s))
            {
                c.status(s, prio::DUMP, pos);
            }
            c.body(
                Body {
                    code: text_of(m.get("code")).filter(|_| !numeric),
                    error_type: None,
                    param: text_of(m.get("param")),
                    message,
                },
                prio::BODY,
                pos,
            );
            return;
        }
    }

    // `{"error": {...}}`, `{"error": "text"}`, and Node SDK dumps that carry `error`.
    let mut found = false;
    match m.get("error") {
        Some(Value::Object(e)) => {
            let mut b = body_of(e);
            // Google's error model (Gemini, Vertex AI, also through OpenAI-compatible gateways):
            // the code is the HTTP status, and the quota that was exhausted is named in
            // `details[].violations[].quotaId` (`GenerateRequestsPerDayPerProjectPerModel-FreeTier`),
            // which says which limit was hit where the message may be OpenAI's quota sentence.
            if b.code
                .as_deref()
                .is_none_or(|c| c.bytes().all(|b| b.is_ascii_digit()))
                && let Some(id) = google_quota_id(e.get("details"))
            {
                b.code = Some(id);
            }
            found = b.code.is_some() || b.message.is_some() || b.error_type.is_some();
            // OpenRouter: `{"message": "Provider returned error", "code": 400, "metadata":
            // {"raw": "<the provider's own error body>", …}}`; the raw body is the real error.
            let raw = match e.get("metadata") {
                Some(Value::Object(md)) => str_of(md, "raw"),
                _ => None,
            };
            if e.contains_key("metadata")
                && b.message
                    .as_deref()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("provider returned error"))
            {
                b.message = None;
            }
            let wrapped = b
                .message
                .as_deref()
                .filter(|m| m.contains("{'error'") || m.contains("{\"error\""))
                .map(String::from);
            c.body(b, prio::BODY, pos);
            if let Some(m) = wrapped {
                // A proxy (LiteLLM) that put the upstream error, dict and all, in its message.
                scan_nested(&m, pos, c);
            }
            if let Some(r) = raw {
                if r.trim_start().starts_with('{') {
                    // The provider's own HTTP error body, as the gateway received it: an
                    // Anthropic-shaped `{"type":"error",…}` there is a response's body, not a
                    // stream's event.
                    c.status_before_body();
                    scan_nested(r, pos, c);
                } else {
                    c.message(r, prio::BODY, pos);
                }
            }
            if let Some(s) = status_of(e.get("code")).or(status_of(e.get("status"))) {
                c.status(s, prio::WEAK, pos);
            }
        }
        Some(Value::String(s)) if !s.trim().is_empty() => {
            found = true;
            // The error envelope of Node web frameworks (Fastify, Hapi/Boom, NestJS):
            // `{"statusCode": 500, "error": "Internal Server Error", "message": "<what failed>"}`.
            // Its `error` is the reason phrase of its status; the `message` says what failed (an
            // app that caught an upstream 429 and answered 500: "429 Rate limit is exceeded…").
            let detail = str_of(m, "message")
                .filter(|d| !d.trim().is_empty() && super::text::is_reason_phrase(s));
            c.body(
                Body {
                    message: Some(detail.map_or_else(|| s.clone(), String::from)),
                    code: text_of(m.get("code")).filter(|c| errno_kind(c).is_none()),
                    error_type: text_of(m.get("type")),
                    param: text_of(m.get("param")),
                },
                prio::DUMP,
                pos,
            );
        }
        _ => {}
    }
    // Node system errors (`{ errno: 'ECONNREFUSED', code: 'ECONNREFUSED', type: 'system' }`) say
    // no response came; they are not error bodies.
    let system_error = ["code", "errno"]
        .iter()
        .any(|k| str_of(m, k).is_some_and(|c| errno_kind(c).is_some()))
        || str_of(m, "type") == Some("system");
    // A schema validator's issue (zod's `{"code": "invalid_type", "expected": …, "path":
    // ["choices"], "message": …}`, printed by a client that could not validate what it got) names
    // a place in a value by its `path` list: no API error object has one, so it is not a body.
    let validator_issue = matches!(m.get("path"), Some(Value::Array(_)));
    if !found && !system_error && !validator_issue && m.get("message").is_some_and(Value::is_string)
    {
        let bare = ["type", "code", "param"].iter().any(|k| m.contains_key(*k))
            || m.contains_key("status")
            || m.contains_key("request_id");
        if bare {
            let b = body_of(m);
            found = b.code.is_some() || b.error_type.is_some() || m.contains_key("status");
            c.body(b, prio::DUMP, pos);
        }
    }
    if !found && !system_error && !m.contains_key("message") {
        // An error object logged without its message (Azure's content filter: `{"type": null,
        // "param": "prompt", "code": "content_filter", "status": 400, "innererror": …}`).
        let code = str_of(m, "code")
            .filter(|c| c.len() > 2 && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        let shaped = m.contains_key("param")
            && (m.contains_key("type") || m.contains_key("status") || m.contains_key("innererror"));
        // Trimmed further to its code and status (`{"code": "content_filter", "status": 400}`):
        // only a code the taxonomy knows makes two keys an error.
        let trimmed = m.contains_key("status")
            && code.is_some_and(|c| {
                crate::generated::errors::ERROR_RULES
                    .iter()
                    .any(|r| r.codes.contains(&c))
            });
        if code.is_some() && (shaped || trimmed) {
            found = true;
            c.body(body_of(m), prio::DUMP, pos);
        }
    }
    if !found && !system_error && !m.contains_key("message") {
        // Portkey's own errors carry their text as `html-message` (`{'html-message': 'fetch
        // failed', 'provider': 'openai'}` with its 503).
        if let Some(h) = str_of(m, "html-message").filter(|h| !h.trim().is_empty()) {
            found = true;
            c.body(
                Body {
                    message: Some(h.into()),
                    ..Body::default()
                },
                prio::DUMP,
                pos,
            );
        }
    }
    if !found && depth == 0 && m.len() == 1 {
        // A server's whole reply as one message (AWS API Gateway's `{"message": "Endpoint
        // request timed out"}`, a wrapper's `{"message":"ChatGPT timed out waiting for
        // response"}`): its body, so something answered.
        if let Some(msg) = str_of(m, "message").filter(|s| !s.trim().is_empty()) {
            found = true;
            c.status_before_body();
            c.body(
                Body {
                    message: Some(msg.into()),
                    ..Body::default()
                },
                prio::DUMP,
                pos,
            );
        }
    }
    if !found && m.len() <= 3 {
        // Proxies and gateways: `{"detail": "Not Found"}`.
        if let Some(d) = str_of(m, "detail") {
            found = true;
            c.body(
                Body {
                    message: Some(d.into()),
                    ..Body::default()
                },
                prio::DUMP,
                pos,
            );
        }
    }
    if (found || event == Some("error")) && sse.is_some() {
        c.stream(event, pos);
    }

    // Fields of Node/axios dumps and of error objects.
    let errorish = m.contains_key("error")
        || m.contains_key("headers")
        || m.contains_key("message")
        || m.contains_key("request_id")
        || m.contains_key("requestID")
        || m.contains_key("statusText")
        || m.contains_key("data")
        || m.contains_key("code");
    if errorish {
        for k in [
            "status",
            "statusCode",
            "status_code",
            "http_status",
            "httpStatus",
        ] {
            if let Some(s) = status_of(m.get(k)) {
                c.status(s, prio::DUMP, pos);
            }
        }
    }
    for k in [
        "request_id",
        "requestID",
        "requestId",
        "x-request-id",
        "x_request_id",
    ] {
        if let Some(id) = str_of(m, k) {
            c.request_id(id, prio::DUMP, pos);
        }
    }
    for k in ["code", "errno"] {
        if let Some(code) = str_of(m, k) {
            if let Some(kind) = errno_kind(code) {
                c.exception(code, Some(kind), prio::WEAK + 5, pos);
            }
        }
    }
    if let Some(Value::Object(h)) = m.get("headers") {
        if looks_like_response_headers(h) {
            absorb_headers(h, pos, c);
        }
    } else if depth == 0 && looks_like_response_headers(m) && m.len() >= 2 {
        // A bare headers dict (the v0 Python SDK prints one after the status).
        let known = m
            .keys()
            .filter(|k| super::text::known_response_header(&k.to_ascii_lowercase()))
            .count();
        if known >= 1 {
            absorb_headers(m, pos, c);
        }
    }

    // Look deeper: `response.data`, `cause`, `body`, nested wrappers.
    for (k, child) in m.iter().take(256) {
        if REQUEST_KEYS.contains(&k.as_str()) || k == "headers" {
            continue;
        }
        if k == "error" && found {
            continue;
        }
        match child {
            Value::Object(_) | Value::Array(_) => absorb(child, pos, sse, c, depth + 1),
            // A body kept as a JSON string: `body: '{"error": …}'`.
            Value::String(st) if st.trim_start().starts_with('{') && st.contains("error") => {
                // A gateway's quote of its provider's answer (OpenRouter's `metadata.raw`, also
                // when an app prints the envelope without its `error` key) or a client's `body`
                // is an HTTP response's body.
                if matches!(k.as_str(), "raw" | "body") {
                    c.status_before_body();
                }
                scan_nested(st, pos, c);
            }
            // An SSE line a log kept as a string (a relay's debug log of the stream it read:
            // `"event": "data: {\"type\":\"error\",…}"`): its data is an event of that stream.
            Value::String(st) if st.trim_start().starts_with("data:") && st.contains("error") => {
                let data = st.trim_start()["data:".len()..].trim_start();
                if data.starts_with('{') {
                    c.stream_text();
                    scan_nested(data, pos, c);
                }
            }
            _ => {}
        }
    }
}
