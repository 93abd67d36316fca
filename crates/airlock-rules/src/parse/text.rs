//! Line readers: exception lines, status lines and headers, log lines, client messages, HTML
//! titles, SSE framing, and the wording of network failures.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use super::lenient::parse_at;
use super::{Body, Collector, prio};
use crate::Category;
use crate::evidence::Transport;

/// A `data:` line of an SSE stream, with the `event:` name in effect.
#[derive(Debug)]
pub(crate) struct SseLine {
    pub start: usize,
    pub end: usize,
    pub event: Option<String>,
}

/// The 1-based line number of byte `at`.
pub(crate) fn line_number(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Lines with their byte offsets (without the newline and a trailing `\r`).
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut pos = 0;
    text.split('\n').map(move |l| {
        let at = pos;
        pos += l.len() + 1;
        (at, l.strip_suffix('\r').unwrap_or(l))
    })
}

/// Finds the `data:` lines of an SSE stream.
pub(crate) fn sse_events(text: &str, c: &mut Collector) -> Vec<SseLine> {
    let mut out = Vec::new();
    let mut event: Option<String> = None;
    for (at, line) in lines(text) {
        let t = line.trim_start();
        if let Some(name) = t.strip_prefix("event:") {
            event = Some(name.trim().to_owned());
        } else if let Some(data) = t
            .strip_prefix("data:")
            // `data: {` alone opens a field of an object dump (axios `error.response.data`);
            // an SSE event's JSON is on its own line.
            .filter(|d| !matches!(d.trim(), "{" | "["))
            // A Dart/Dio dump prints `data:{error: {message: …}}`: a map with bare keys, not
            // an event's JSON, whose keys are quoted.
            .filter(|d| !dart_map(d))
        {
            let start = at + (line.len() - t.len()) + 5 + (data.len() - data.trim_start().len());
            out.push(SseLine {
                start,
                end: at + line.len(),
                event: event.clone(),
            });
        } else if t.is_empty() {
            event = None;
        }
    }
    c.work += text.len();
    out
}

/// Whether a `data:` payload is a Dart map literal (`{error: {…`) rather than JSON.
fn dart_map(payload: &str) -> bool {
    let Some(rest) = payload.trim_start().strip_prefix('{') else {
        return false;
    };
    let rest = rest.trim_start();
    let key = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    rest.bytes().next().is_some_and(|b| b.is_ascii_alphabetic()) && rest[key..].starts_with(':')
}

/// Node/undici/curl error codes for failures without a response.
pub(crate) fn errno_kind(code: &str) -> Option<Transport> {
    Some(match code {
        "ETIMEDOUT"
        | "ESOCKETTIMEDOUT"
        | "ECONNABORTED"
        | "UND_ERR_CONNECT_TIMEOUT"
        | "UND_ERR_HEADERS_TIMEOUT"
        | "UND_ERR_BODY_TIMEOUT" => Transport::Timeout,
        "ECONNREFUSED"
        | "ECONNRESET"
        | "ENOTFOUND"
        | "EAI_AGAIN"
        | "EPIPE"
        | "EHOSTUNREACH"
        | "ENETUNREACH"
        | "ENETDOWN"
        | "EPROTO"
        | "UND_ERR_SOCKET"
        | "UND_ERR_CLOSED"
        | "CERT_HAS_EXPIRED"
        | "UNABLE_TO_VERIFY_LEAF_SIGNATURE"
        | "SELF_SIGNED_CERT_IN_CHAIN"
        | "DEPTH_ZERO_SELF_SIGNED_CERT"
        | "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"
        | "ERR_TLS_CERT_ALTNAME_INVALID" => Transport::Connection,
        _ => return None,
    })
}

/// Response headers worth keeping when they appear outside an HTTP response block.
pub(crate) fn known_response_header(lower: &str) -> bool {
    lower.starts_with("x-ratelimit-")
        || matches!(
            lower,
            "x-request-id"
                | "request-id"
                | "apim-request-id"
                | "retry-after"
                | "retry-after-ms"
                | "x-should-retry"
                | "openai-organization"
                | "openai-processing-ms"
                | "openai-version"
                | "openai-project"
                | "openai-model"
                | "cf-ray"
        )
}

/// SDK and client exception classes: the strongest names in a chain.
const SDK_NAMES: &[&str] = &[
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "APIError",
    "APIStatusError",
    "APIConnectionError",
    "APITimeoutError",
    "APIConnectionTimeoutError",
    "APIResponseValidationError",
    "APIUserAbortError",
    "OpenAIError",
    "InvalidRequestError",
    "ServiceUnavailableError",
    "TryAgain",
    "Timeout",
    "ContentFilterFinishReasonError",
    "LengthFinishReasonError",
    "ContextWindowExceededError",
    "ContentPolicyViolationError",
    "BudgetExceededError",
    "ClientResultException",
    "RequestFailedException",
    "OpenAiHttpException",
    "OpenAIServiceException",
    "OpenAIIoException",
    "HttpException",
    "AxiosError",
    "RateLimitException",
    "BadRequestException",
    "UnauthorizedException",
    "PermissionDeniedException",
    "NotFoundException",
    "UnprocessableEntityException",
    "InternalServerException",
    "UnexpectedStatusCodeException",
];

/// Exceptions raised by the program or a library around the SDK, never by an API response.
const NOT_API_NAMES: &[&str] = &[
    "OutputParserException",
    "ModuleNotFoundError",
    "ImportError",
    "ValidationError",
    "APIRemovedInV1",
    "NameError",
    "FileNotFoundError",
    "ZeroDivisionError",
    "UnicodeDecodeError",
    "UnicodeEncodeError",
    "NotImplementedError",
    "RecursionError",
];

/// Built-in exceptions that say little about the API.
const GENERIC_NAMES: &[&str] = &[
    "Exception",
    "ValueError",
    "TypeError",
    "KeyError",
    "RuntimeError",
    "AttributeError",
    "AssertionError",
    "IndexError",
    "JSONDecodeError",
    "SyntaxError",
    "ReferenceError",
    "RangeError",
    "NullPointerException",
    "IllegalStateException",
    "IllegalArgumentException",
    "CompletionException",
    "ExecutionException",
    "UndeclaredThrowableException",
    "InvocationTargetException",
    "AggregateException",
    "InvalidOperationException",
];

fn last_segment(name: &str) -> &str {
    name.rsplit(['.', '$', '\\', ':']).next().unwrap_or(name)
}

/// Whether an exception class name says no response was received.
fn name_transport(name: &str) -> Option<Transport> {
    let last = last_segment(name);
    if let Some(k) = errno_kind(last) {
        return Some(k);
    }
    let l = last.to_ascii_lowercase();
    if l.contains("connecttimeout") || l == "opentimeout" {
        // httpx `ConnectTimeout`, Java `HttpConnectTimeoutException`, Ruby's `Net::OpenTimeout`:
        // no connection was made.
        return Some(Transport::Connection);
    }
    if l.contains("timeout") || l == "taskcanceledexception" || l.contains("timedout") {
        // `GatewayTimeout` would be a status, not a missing response.
        if l.contains("gateway") {
            return None;
        }
        return Some(Transport::Timeout);
    }
    const CONNECTION: &[&str] = &[
        "apiconnectionerror",
        "connecterror",
        "connectionerror",
        "connectionrefusederror",
        "connectionreseterror",
        "connectionabortederror",
        "remoteprotocolerror",
        "protocolerror",
        "readerror",
        "writeerror",
        "networkerror",
        "sslerror",
        "sslcertverificationerror",
        "sslhandshakeexception",
        "sslexception",
        "newconnectionerror",
        "maxretryerror",
        "clientconnectorerror",
        "clientconnectionerror",
        "clientoserror",
        "serverdisconnectederror",
        "gaierror",
        "fetcherror",
        "connectexception",
        "unknownhostexception",
        "noroutetohostexception",
        "httprequestexception",
        "socketexception",
        "openaiioexception",
        "proxyerror",
    ];
    CONNECTION
        .contains(&l.as_str())
        .then_some(Transport::Connection)
}

/// Priority of an exception name: SDK classes beat transport classes beat generic ones.
fn exception_prio(name: &str) -> u8 {
    let last = last_segment(name);
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("openai.")
        || lower.starts_with("litellm.")
        || lower.starts_with("langchain")
        || lower.starts_with("com.openai.")
        || lower.starts_with("com.theokanning.")
        || SDK_NAMES.contains(&last)
    {
        prio::EXCEPTION
    } else if name_transport(name).is_some() {
        20
    } else if last == "Error" {
        15
    } else if GENERIC_NAMES.contains(&last) {
        prio::WORDING
    } else {
        12
    }
}

/// The arguments of a repr that starts after its `(`, up to the matching `)` and at most 600
/// characters, with a rich traceback's box borders and line breaks folded into single spaces.
fn repr_args(s: &str) -> String {
    let mut out = String::new();
    let mut depth = 1u32;
    for ch in s.chars().take(600) {
        match ch {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
        if ch.is_whitespace() || ch == '\u{2502}' {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(ch);
        }
    }
    out.trim_end().to_owned()
}

fn exceptionish(tok: &str) -> bool {
    let last = last_segment(tok);
    let Some(first) = last.bytes().next() else {
        return false;
    };
    if !first.is_ascii_uppercase() || last.len() < 4 || last.len() > 80 {
        return false;
    }
    if !last.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
        return false;
    }
    // Every segment of a dotted name is an identifier.
    if tok
        .replace("::", ".")
        .split(['.', '$', '\\'])
        .any(|s| s.is_empty())
    {
        return false;
    }
    // Google's API client classes are named after the gRPC status, not `…Error`
    // (`google.api_core.exceptions.FailedPrecondition: 400 User location is not supported…`).
    tok.starts_with("google.api_core.exceptions.")
        || last.ends_with("Error")
        || last.ends_with("Exception")
        || last.ends_with("Timeout")
        || last.ends_with("Failure")
        || last == "TryAgain"
        || errno_kind(last).is_some()
}

/// Finds `Name: message` (or a line that is only `Name`) where Name looks like an exception class.
fn find_exception(line: &str) -> Option<(usize, &str, &str)> {
    let b = line.as_bytes();
    let first_non_space = b.iter().position(|&c| c != b' ' && c != b'\t')?;
    let mut i = first_non_space;
    while i < b.len() {
        let c = b[i];
        let boundary =
            // A Markdown code span or emphasis opens it in a paste (`` `java.net.SocketTimeoutException: timeout ``).
            i == first_non_space
                || matches!(b[i - 1], b' ' | b'\t' | b'[' | b'(' | b'>' | b'|' | b'`' | b'*');
        if !(c.is_ascii_alphabetic() || c == b'_') || !boundary {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < b.len() {
            if b[j].is_ascii_alphanumeric() || matches!(b[j], b'_' | b'.' | b'$' | b'\\') {
                j += 1;
            } else if b[j] == b':' && b.get(j + 1) == Some(&b':') {
                // Ruby `Faraday::TooManyRequestsError`.
                j += 2;
            } else {
                break;
            }
        }
        let tok = &line[i..j];
        // PHP names the class of every uncaught throwable (`Uncaught OpenAI\Exceptions\
        // UnserializableResponse: Syntax error`), whatever its name ends with.
        let php_uncaught = line[..i].ends_with("Uncaught ")
            && tok.contains('\\')
            && tok.split('\\').all(|s| !s.is_empty());
        if exceptionish(tok) || php_uncaught {
            let mut rest = &line[j..];
            if rest.starts_with(" [") {
                // Node errors with a code: `RetryError [AI_RetryError]: …`.
                if let Some(e) = rest.find("]: ").filter(|&e| e < 48) {
                    rest = &rest[e + 1..];
                }
            }
            if let Some(msg) = rest.strip_prefix(": ") {
                return Some((i, tok, msg));
            }
            // `BadRequestError 400 - Unrecognized file format`: the status right after the name,
            // without a colon, starts the message.
            let rb = rest.as_bytes();
            if rb.first() == Some(&b' ')
                && rb.get(4) == Some(&b' ')
                && three_digits(&rb[1..]).is_some_and(|s| (400..=599).contains(&s))
            {
                return Some((i, tok, &rest[1..]));
            }
            // `Name:` or `Name` alone on a line; not `except openai.RateLimitError:` in code.
            if (rest == ":" || rest.trim().is_empty()) && i == first_non_space {
                return Some((i, tok, ""));
            }
            // A Python exception printed as its repr at the start of a line or of a log
            // record's message (a log's `{e!r}`: `UserError("Unknown tool type: …")`,
            // `ERROR app: UserError(…)`): the quoted argument is the message. It is the rest of
            // the line, as for `Name: message`; `find_exceptions` takes the closing quote and
            // parenthesis off.
            if (i == first_non_space || line[..i].ends_with(": "))
                && (rest.starts_with("(\"") || rest.starts_with("('"))
            {
                return Some((i, tok, &rest[2..]));
            }
        }
        i = j.max(i + 1);
    }
    None
}

/// Wrapper classes that name only the status; a more specific class they prefix wins.
const GENERIC_WRAPPERS: &[&str] = &["BadRequestError", "APIError", "APIStatusError"];

/// Every exception named on a line, each with its own message (which ends where the next
/// exception starts). Names that only prefix a message (`litellm.RateLimitError: RateLimitError:
/// …`) belong to that message.
fn find_exceptions(line: &str) -> Vec<(usize, &str, &str)> {
    let mut out: Vec<(usize, &str, &str)> = Vec::new();
    let mut from = 0;
    while from < line.len() && out.len() < 16 {
        let Some((i, tok, msg)) = find_exception(&line[from..]) else {
            break;
        };
        let start = from + i;
        let mut tok = tok;
        let mut msg = msg;
        let mut m = line.len() - msg.len();
        // Skip names that prefix the message. A generic wrapper takes the more specific class it
        // wraps: `litellm.BadRequestError: litellm.ContentPolicyViolationError: …` is a content
        // policy error.
        while let Some((0, inner_tok, inner)) = find_exception(&line[m..]) {
            let next = line.len() - inner.len();
            if next <= m {
                break;
            }
            if GENERIC_WRAPPERS.contains(&last_segment(tok))
                && !GENERIC_WRAPPERS.contains(&last_segment(inner_tok))
                && !inner_tok.contains("Exception")
            {
                tok = inner_tok;
            }
            // A transport class a wrapper only carries (Java's `RuntimeException:
            // java.net.SocketTimeoutException: timeout`) says what failed; an SDK class keeps its
            // own name.
            if name_transport(inner_tok).is_some()
                && name_transport(tok).is_none()
                && exception_prio(tok) < prio::EXCEPTION
            {
                tok = inner_tok;
                msg = inner;
            }
            m = next;
        }
        if let Some(last) = out.last_mut() {
            let end = start.min(line.len());
            let msg_start = line.len() - last.2.len();
            last.2 = line[msg_start..end.max(msg_start)].trim_end();
        }
        out.push((start, tok, msg));
        from = m.max(start + 1);
    }
    // A repr's message (`UserError("…")`) ends before its closing quote and parenthesis.
    for (start, _, msg) in out.iter_mut() {
        let msg_start = line.len() - msg.len();
        let opened = line.get(*start..msg_start).unwrap_or("");
        for q in ["(\"", "('"] {
            let close = &q[1..];
            if opened.ends_with(q) {
                if let Some(end) = msg.rfind(close) {
                    *msg = msg[..end].trim_end();
                }
            }
        }
    }
    out
}

pub(crate) fn three_digits(s: &[u8]) -> Option<u16> {
    if s.len() < 3 || !s[..3].iter().all(u8::is_ascii_digit) {
        return None;
    }
    if s.get(3).is_some_and(|c| {
        c.is_ascii_digit() || *c == b'.' && s.get(4).is_some_and(u8::is_ascii_digit)
    }) {
        return None;
    }
    Some((s[0] - b'0') as u16 * 100 + (s[1] - b'0') as u16 * 10 + (s[2] - b'0') as u16)
}

/// Whether a message opens with an HTTP error status and goes on (`400 * GenerateContentRequest.model:
/// …`, `503 The service is unavailable`): a built-in class (`Exception: 400 …`) then carries an
/// API's answer, whatever words follow the status.
fn opens_with_error_status(msg: &str) -> bool {
    let b = msg.trim_start().as_bytes();
    three_digits(b).is_some_and(|s| (400..=599).contains(&s))
        && b.get(3) == Some(&b' ')
        && b.get(4).is_some_and(|c| !c.is_ascii_whitespace())
}

/// `(prefix, priority)`: a status number follows the prefix.
const STATUS_PATTERNS: &[(&str, u8)] = &[
    ("error code: ", prio::EXCEPTION),
    ("status code: ", prio::EXCEPTION),
    ("status code ", prio::EXCEPTION),
    ("status_code=", prio::CLIENT),
    ("status_code: ", prio::EXCEPTION),
    ("statuscode: ", prio::EXCEPTION),
    ("statuscode=", prio::EXCEPTION),
    ("status: ", prio::EXCEPTION),
    ("status=", prio::EXCEPTION),
    ("http status ", prio::EXCEPTION),
    ("http_status=", prio::CLIENT),
    ("response_code=", prio::CLIENT),
    ("response code was ", prio::EXCEPTION),
    // A client's own sentence for the status: Google Apps Script's `Request failed with response
    // code 401`, Java's `Server returned HTTP response code: 401 for URL`.
    ("response code: ", prio::EXCEPTION),
    ("response code ", prio::EXCEPTION),
    ("http code ", prio::EXCEPTION),
    ("http ", prio::EXCEPTION),
    ("error code ", prio::HTTP),
    // A client's own sentence: `api status code not equals 200,code is 401`.
    ("code is ", prio::EXCEPTION),
    ("status is ", prio::EXCEPTION),
    ("status code of ", prio::EXCEPTION),
    // A browser console: `Failed to load resource: the server responded with a status of 400 ()`.
    ("with a status of ", prio::HTTP),
    ("with status ", prio::EXCEPTION),
    ("status ", prio::WEAK),
    ("returned status ", prio::EXCEPTION),
    ("error ", prio::WEAK),
    // A log level in brackets before the status (`[ERROR] 429 [object Object]`), and a status
    // after `error:` (`peculiar error: 400`).
    ("error] ", prio::WEAK),
    ("error: ", prio::WEAK),
    // The same after `failure:` (`returns a tool failure: 424: unhandled errors in a TaskGroup`).
    ("failure: ", prio::WEAK),
    // And after `failed:` (a client's `Streaming request failed: 429.`); an error status only,
    // so a count (`failed: 100 items`) is not one.
    ("failed: ", prio::WEAK),
    // Python `requests`: a response shown only as its repr (`response = <Response [429]>`).
    ("<response [", prio::HTTP),
    // Swift's Alamofire: a status its validation refused, as the enum case prints
    // (`responseValidationFailed(reason: …ResponseValidationFailureReason.unacceptableStatusCode(code: 401))`).
    ("unacceptablestatuscode(code: ", prio::EXCEPTION),
];

const REASONS: &[&str] = &[
    "too many requests",
    "bad request",
    "unauthorized",
    "forbidden",
    "not found",
    "method not allowed",
    "request timeout",
    "conflict",
    "payload too large",
    "request entity too large",
    "unsupported media type",
    "unprocessable entity",
    "internal server error",
    "bad gateway",
    "service unavailable",
    "gateway timeout",
    "web server returned an unknown error",
    "web server is down",
    "connection timed out",
    "a timeout occurred",
    "origin is unreachable",
];

/// Whether `s` is nothing but an HTTP reason phrase (`Internal Server Error`, `Bad Gateway`): a
/// label that restates a status, not a cause.
pub(super) fn is_reason_phrase(s: &str) -> bool {
    let s = s.trim().trim_end_matches('.').to_ascii_lowercase();
    REASONS.contains(&s.as_str())
}

fn word_start(l: &[u8], k: usize) -> bool {
    k == 0 || !l[k - 1].is_ascii_alphanumeric()
}

/// A status word in the languages the corpus holds, written before the number it names:
/// `状态码: 400`, `ステータスコード：429`, `상태 코드 401`, `код ответа 503`, `código de estado 429`,
/// `code d'état 500`, `Fehlercode 502`, a package's `run code :400`. Lowercase (Cyrillic too: the
/// line is lowercased again when it is not ASCII). The English forms `STATUS_PATTERNS` reads with a
/// fixed separator are here as well, for the separators those do not spell (`status code = 400`).
const STATUS_WORDS: &[(&str, u8)] = &[
    ("状态码", prio::EXCEPTION),
    ("状态代码", prio::EXCEPTION),
    ("狀態碼", prio::EXCEPTION),
    ("响应码", prio::EXCEPTION),
    ("返回码", prio::EXCEPTION),
    ("错误码", prio::WEAK),
    // An app's Chinese label and its colon before the answer's status (`提示：400 模型不存在`,
    // `报错：429 …`); the colon is part of the word, so a count (`错误 500 次`) is not a status.
    ("提示：", prio::WEAK),
    ("提示:", prio::WEAK),
    ("报错：", prio::WEAK),
    ("报错:", prio::WEAK),
    ("错误：", prio::WEAK),
    ("错误:", prio::WEAK),
    ("ステータスコード", prio::EXCEPTION),
    ("ステータス", prio::WEAK),
    ("エラーコード", prio::WEAK),
    ("상태 코드", prio::EXCEPTION),
    ("상태코드", prio::EXCEPTION),
    ("응답 코드", prio::EXCEPTION),
    ("오류 코드", prio::WEAK),
    ("에러 코드", prio::WEAK),
    ("код ответа", prio::EXCEPTION),
    ("код состояния", prio::EXCEPTION),
    ("код ошибки", prio::WEAK),
    ("статус", prio::WEAK),
    ("código de estado", prio::EXCEPTION),
    ("código de status", prio::EXCEPTION),
    ("código de resposta", prio::EXCEPTION),
    ("código de respuesta", prio::EXCEPTION),
    ("código http", prio::EXCEPTION),
    ("código de erro", prio::WEAK),
    ("código de error", prio::WEAK),
    ("code d'état", prio::EXCEPTION),
    ("code de statut", prio::EXCEPTION),
    ("code de réponse", prio::EXCEPTION),
    ("code d'erreur", prio::WEAK),
    ("fehlercode", prio::WEAK),
    ("antwortcode", prio::EXCEPTION),
    ("status-code", prio::EXCEPTION),
    ("status code", prio::EXCEPTION),
    ("statuscode", prio::EXCEPTION),
    ("response code", prio::EXCEPTION),
    ("run code", prio::WEAK),
];

/// What may stand between a status word and its number: spaces, a colon (full-width too), `=`, a
/// dash, an opening bracket or quote, and the word "is" in the corpus' languages.
const STATUS_SEPARATORS: &[&str] = &[
    " ", ":", "：", "=", "-", "(", "（", "[", "\"", "'", "is", "ist", "为", "是", "é", "es", "est",
];

/// The number after a status word and its separators, when it is a status: three digits not part
/// of a longer number or of a word (`500ms`, `429次`, `2024`, a port `8080` are not statuses).
fn status_after_word(rest: &str) -> Option<u16> {
    let mut r = rest;
    for _ in 0..8 {
        match STATUS_SEPARATORS.iter().find(|sep| {
            r.starts_with(**sep)
                // A word separator ends at a space (`is 400`, not `isolated`).
                && (!sep.as_bytes()[0].is_ascii_alphabetic() || r[sep.len()..].starts_with(' '))
        }) {
            Some(sep) => r = &r[sep.len()..],
            None => break,
        }
    }
    let s = three_digits(r.as_bytes())?;
    let ends = r[3..].chars().next().is_none_or(|ch| {
        ch.is_whitespace()
            || matches!(
                ch,
                ',' | '.' | ';' | ':' | ')' | ']' | '>' | '，' | '。' | '、' | '）' | '"' | '\''
            )
    });
    ends.then_some(s)
}

/// Statuses a status word states in any language the corpus holds, and DashScope's `<400>` before
/// its code (`<400> InternalError.Algo.InvalidParameter: …`).
fn status_words(l: &str, at: usize, c: &mut Collector) {
    let folded;
    let l = if l.is_ascii() {
        l
    } else {
        folded = l.to_lowercase();
        folded.as_str()
    };
    let lb = l.as_bytes();
    for (word, p) in STATUS_WORDS {
        for (k, _) in l.match_indices(word) {
            // An ASCII word starts at a word boundary (`runcode` is not `run code`).
            if word.as_bytes()[0].is_ascii_alphabetic() && !word_start(lb, k) {
                continue;
            }
            // An app's hint names a status it is not reporting (`Notice: If the status code is
            // 400, …`, `如果状态码为 401`).
            if hypothetical(&l[..k]) {
                continue;
            }
            if let Some(s) = status_after_word(&l[k + word.len()..]) {
                c.status(s, *p, at + k);
            }
        }
    }
    for (k, _) in l.match_indices('<') {
        if (k == 0 || matches!(lb[k - 1], b' ' | b'\'' | b'"' | b':'))
            && lb.get(k + 4) == Some(&b'>')
            && lb.get(k + 5).is_none_or(|b| *b == b' ')
        {
            if let Some(s) = three_digits(&lb[k + 1..]) {
                c.status(s, prio::WEAK, at + k);
            }
        }
    }
}

/// Google's `RetryInfo.retryDelay` in one (lowercased) line, as JSON, a Python repr or a cut
/// fragment writes it (`"retryDelay": "37s"`, `'retryDelay': '1.5s'`): a protobuf duration, whole
/// seconds and an optional fraction, then `s`. A setting's `maxRetryDelay` is not it, nor a number
/// without its unit.
fn retry_delay(l: &str, c: &mut Collector) {
    let lb = l.as_bytes();
    for (k, _) in l.match_indices("retrydelay") {
        if k > 0 && (lb[k - 1].is_ascii_alphanumeric() || lb[k - 1] == b'_') {
            continue;
        }
        let rest = l[k + "retrydelay".len()..].trim_start_matches(['"', '\'', ' ', ':', '=']);
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 7 {
            continue;
        }
        let after = &rest[digits..];
        let frac = after.strip_prefix('.').map_or("", |f| {
            &f[..f.bytes().take_while(u8::is_ascii_digit).count()]
        });
        let unit = &after[if frac.is_empty() { 0 } else { frac.len() + 1 }..];
        if !unit.starts_with('s') || unit[1..].starts_with(|ch: char| ch.is_ascii_alphanumeric()) {
            continue;
        }
        let secs: u64 = rest[..digits].parse().unwrap_or(0);
        let ms_part: u64 = frac
            .bytes()
            .chain(core::iter::repeat(b'0'))
            .take(3)
            .fold(0, |acc, d| acc * 10 + u64::from(d - b'0'));
        c.retry_delay(secs * 1000 + ms_part);
        return;
    }
}

/// The clause before a status word is a condition (`if`, `when`, `unless`, `如果`, `若`): the
/// status it names is a hint, not the one reported.
fn hypothetical(before: &str) -> bool {
    before
        .rsplit(['.', ',', ';', '，', '。'])
        .next()
        .is_some_and(|clause| {
            clause.contains("如果")
                || clause.contains('若')
                || clause
                    .split_ascii_whitespace()
                    .any(|w| matches!(w, "if" | "when" | "unless"))
        })
}

/// The priority of the status prefix a (lowercased, trimmed) line ends with (`… API failed with
/// status:`), when the number is left for the next line; weak prefixes (`error:`) are not enough.
fn status_prefix_at_end(tl: &str) -> Option<u8> {
    let tb = tl.as_bytes();
    STATUS_PATTERNS.iter().find_map(|(pat, p)| {
        let pt = pat.trim_end();
        let k = tl.len().checked_sub(pt.len())?;
        (*p > prio::WEAK
            && tl.ends_with(pt)
            && word_start(tb, k)
            && !hypothetical(tl.get(..k).unwrap_or("")))
        .then_some(*p)
    })
}

/// The error status at the head of the line after a status prefix ended the one before
/// (Weaviate's `connection to: Azure OpenAI API failed with status:` / `400 request-id: …`).
fn wrapped_status_head(tl: &str, at: usize, p: u8, c: &mut Collector) {
    let b = tl.as_bytes();
    if let Some(s) = three_digits(b).filter(|s| (400..=599).contains(s)) {
        if b.get(3)
            .is_none_or(|ch| matches!(ch, b' ' | b',' | b'.' | b':' | b')'))
        {
            c.status(s, p, at);
        }
    }
}

/// Statuses stated in one (lowercased) line.
fn statuses(l: &str, at: usize, c: &mut Collector) {
    let lb = l.as_bytes();
    for (pat, p) in STATUS_PATTERNS {
        for (k, _) in l.match_indices(pat) {
            if !word_start(lb, k) {
                continue;
            }
            // `code is 401` states a status; `If the status code is 404, …` (an app's hint) does not.
            if pat.ends_with(" is ") && hypothetical(&l[..k]) {
                continue;
            }
            let rest = &lb[k + pat.len()..];
            if let Some(s) = three_digits(rest) {
                if *pat == "failed: " && !(400..=599).contains(&s) {
                    continue;
                }
                // "error 429" alone is weak; "error 4290 tokens" was rejected above.
                c.status(s, *p, at + k);
            }
        }
    }
    for reason in REASONS {
        for (k, _) in l.match_indices(reason) {
            if k >= 4 && lb[k - 1] == b' ' {
                let d = &lb[k - 4..k - 1];
                if word_start(lb, k - 4) {
                    if let Some(s) = three_digits(d) {
                        c.status(s, prio::HTTP, at + k);
                    }
                }
            } else if k >= 6
                && lb[k - 2] == b' '
                && lb[k - 1] == b'('
                && lb.get(k + reason.len()) == Some(&b')')
            {
                // A browser console: `POST https://api.openai.com/v1/… 400 (Bad Request)`.
                let d = &lb[k - 5..k - 2];
                if word_start(lb, k - 5) {
                    if let Some(s) = three_digits(d) {
                        c.status(s, prio::HTTP, at + k);
                    }
                }
            } else if k >= 5 && lb[k - 2] == b':' && lb[k - 1] == b' ' {
                // Cloudflare titles: `524: A timeout occurred`.
                let d = &lb[k - 5..k - 2];
                if word_start(lb, k - 5) {
                    if let Some(s) = three_digits(d) {
                        c.status(s, prio::HTTP, at + k);
                    }
                }
            }
        }
    }
    // OkHttp's response as Java prints it (`java.io.IOException: Unexpected response code:
    // Response{protocol=h2, code=400, message=, url=…}`).
    if let Some(r) = l.find("response{protocol=") {
        if let Some(k) = l[r..].find(", code=") {
            let at_code = r + k + ", code=".len();
            if let Some(s) = three_digits(&lb[at_code..]) {
                c.status(s, prio::HTTP, at + at_code);
            }
        }
    }
    // A status, then the body it came with, at the start of a line (`401 {"error":{…}}`, as a
    // CLI prints an OpenAI-compatible server's answer).
    let lead = l.trim_start_matches([' ', '`', '>']);
    let lead_at = l.len() - lead.len();
    if lead.as_bytes().get(3..5) == Some(b" {") {
        if let Some(s) = three_digits(lead.as_bytes()).filter(|s| (400..=599).contains(s)) {
            c.status(s, prio::HTTP, at + lead_at);
            c.status_before_body();
        }
    }
    // The same after a client's label and its colon, or inside parentheses (`Claude API error:
    // 429 {"type":"error",…}`, `API Error (429 {…})`): the status the body came with, so an
    // Anthropic-shaped body there is a response's, not a stream's error event.
    for (k, _) in l.match_indices(" {") {
        let Some(d) = k.checked_sub(3) else {
            continue;
        };
        let after_label =
            (d >= 1 && lb[d - 1] == b'(') || (d >= 2 && lb[d - 1] == b' ' && lb[d - 2] == b':');
        if !after_label {
            continue;
        }
        if let Some(s) = three_digits(&lb[d..k]).filter(|s| (400..=599).contains(s)) {
            c.status(s, prio::HTTP, at + d);
            c.status_before_body();
        }
    }
    // A status and its name as one code at the start of a line (Vercel's error page: `504:
    // GATEWAY_TIMEOUT`, then `Code: FUNCTION_INVOCATION_TIMEOUT`).
    if lead.as_bytes().get(3..5) == Some(b": ") {
        let name = lead[5..].trim_end();
        if name.contains('_') && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            if let Some(s) = three_digits(lead.as_bytes()).filter(|s| (400..=599).contains(s)) {
                c.status(s, prio::HTTP, at + lead_at);
            }
        }
    }
    // A status written before the word error in prose (`I get a 400 error (request contains an
    // invalid argument)`, `returned 503 errors`); a hint (`if you get a 429 error, …`) is not one.
    for (k, _) in l.match_indices(" error") {
        if k < 3 || !word_start(lb, k - 3) {
            continue;
        }
        let Some(s) = three_digits(&lb[k - 3..k]).filter(|s| (400..=599).contains(s)) else {
            continue;
        };
        // The digits are ASCII, so `k - 3` is a character boundary.
        if lb
            .get(k + 6)
            .is_none_or(|b| !b.is_ascii_alphanumeric() || *b == b's')
            && !hypothetical(&l[..k - 3])
        {
            c.status(s, prio::WEAK, at + k - 3);
        }
    }
    // openai-node's `429 status code (no body)`.
    for (k, _) in l.match_indices(" status code (no body)") {
        if k >= 3 && word_start(lb, k - 3) {
            if let Some(s) = three_digits(&lb[k - 3..k]) {
                c.status(s, prio::EXCEPTION, at + k - 3);
            }
        }
    }
    // `(429)` or `[429]` next to the word error, failed or status (R's `openai`: `OpenAI API
    // request failed [429]:`).
    if l.contains("error") || l.contains("status") || l.contains("failed") {
        for (open, close) in [(b'(', b')'), (b'[', b']')] {
            for (k, _) in l.match_indices(open as char) {
                if let Some(s) = three_digits(&lb[k + 1..]) {
                    if lb.get(k + 4) == Some(&close) {
                        c.status(s, prio::WEAK, at + k);
                    }
                }
            }
        }
    }
}

/// Reads `key=value` pairs of a v0 SDK log line (`error_code=… error_message='…' …`).
fn kv_line(text: &str, at: usize, line: &str, c: &mut Collector) {
    let b = line.as_bytes();
    let mut body = Body::default();
    let mut i = 0;
    while i < b.len() {
        // A key: identifier followed by '='.
        let ks = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        if i == ks || i >= b.len() || b[i] != b'=' {
            i = if i == ks { i + 1 } else { i };
            continue;
        }
        let key = &line[ks..i];
        i += 1;
        let value: String = if matches!(b.get(i), Some(b'\'' | b'"')) {
            let mut w = 0;
            match parse_at(text, at + i, &mut w) {
                Some(p) => {
                    c.work += w;
                    i = p.end - at;
                    match p.value {
                        serde_json::Value::String(s) => s,
                        _ => String::new(),
                    }
                }
                None => {
                    i += 1;
                    String::new()
                }
            }
        } else {
            let vs = i;
            while i < b.len() && b[i] != b' ' {
                i += 1;
            }
            line[vs..i].to_owned()
        };
        if value.is_empty() || value == "None" {
            continue;
        }
        match key {
            "error_code" => body.code = Some(value),
            "error_message" => body.message = Some(value),
            "error_param" => body.param = Some(value),
            "error_type" => body.error_type = Some(value),
            "stream_error" if value == "True" => c.stream_text(),
            "response_code" | "http_status" | "status_code" => {
                if let Some(s) = three_digits(value.as_bytes()) {
                    c.status(s, prio::CLIENT, at);
                }
            }
            "request_id" => c.request_id(&value, prio::CLIENT, at),
            _ => {}
        }
    }
    c.body(body, prio::CLIENT, at);
}

/// Where `key` starts a word of `l` (not inside `error_param: ` or `xcode: `).
fn word_at(l: &str, key: &str) -> Option<usize> {
    l.match_indices(key).map(|(k, _)| k).find(|&k| {
        k == 0
            || !l.as_bytes()[k - 1].is_ascii_alphanumeric()
                && !matches!(l.as_bytes()[k - 1], b'_' | b'.' | b'-')
    })
}

/// `… schema must have a 'type' key." — param: tools[2].function.parameters, code:
/// invalid_function_parameters`: a report that writes a body's fields as words after its message.
/// Read only when both are named on the line and the code is an error code's snake_case (not
/// `code: 400` or `code: null`).
fn field_words(l: &str, line: &str, at: usize, c: &mut Collector) {
    let (Some(p), Some(k)) = (word_at(l, "param: "), word_at(l, "code: ")) else {
        return;
    };
    let token = |s: &str| -> String {
        s.split([',', ' ', ';', ')'])
            .next()
            .unwrap_or("")
            .trim_matches(['`', '"', '\''])
            .to_owned()
    };
    let code = token(&line[k + 6..]);
    let param = token(&line[p + 7..]);
    if !code.contains('_') || !code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return;
    }
    let param =
        (!param.is_empty() && !matches!(param.as_str(), "null" | "None" | "nil")).then_some(param);
    let body = Body {
        code: Some(code),
        param,
        ..Body::default()
    };
    c.body(body, prio::CLIENT, at);
}

/// Azure's content filter result printed on its own, without the error around it
/// (`'content_filter_result': {'violence': {'filtered': True, 'severity': 'medium'}, …}`, a JSON
/// `"content_filter_result(s)": {"jailbreak": {"detected": true, "filtered": true}, …}`): a
/// category the filter blocked is the cause, read as the code `content_filter`. Every answer
/// Azure sends carries the same map with each `filtered` false (and an annotation may be
/// `detected` without being `filtered`): that blocked nothing and says nothing.
fn filter_result_words(lower: &str, c: &mut Collector) {
    const KEY: &str = "content_filter_result";
    // Bounds (a paste or an upstream body is a stranger's): the keys looked at, and the bytes of
    // one map read (Azure's map of every category is well under a kilobyte).
    const MAX_KEYS: usize = 32;
    const MAX_MAP_BYTES: usize = 4096;
    let b = lower.as_bytes();
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    for (k, _) in lower.match_indices(KEY).take(MAX_KEYS) {
        if k > 0 && word(b[k - 1]) {
            continue;
        }
        // The map follows the key closely: `s": {`, `': {`, `={`.
        let rest = &lower[k + KEY.len()..];
        let Some(open) = rest
            .bytes()
            .position(|x| !matches!(x, b's' | b'"' | b'\'' | b'\\' | b':' | b'=' | b' '))
            .filter(|&i| rest.as_bytes()[i] == b'{')
        else {
            continue;
        };
        // Up to the brace that closes it, or the end of a paste cut inside it (or the bound).
        let map = &rest[open..];
        let mut cut = map.len().min(MAX_MAP_BYTES);
        while !map.is_char_boundary(cut) {
            cut -= 1;
        }
        let map = &map[..cut];
        let mut depth = 0usize;
        let mut end = map.len();
        for (i, ch) in map.bytes().enumerate() {
            match ch {
                b'{' => depth += 1,
                b'}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        if filtered_true(&map[..end]) {
            c.body(
                Body {
                    code: Some("content_filter".to_owned()),
                    ..Body::default()
                },
                prio::CLIENT,
                k,
            );
            return;
        }
    }
}

/// A `filtered` key whose value is true (`"filtered": true`, `'filtered': true` once lowered,
/// `filtered=true`).
fn filtered_true(map: &str) -> bool {
    const KEY: &str = "filtered";
    let b = map.as_bytes();
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    map.match_indices(KEY).any(|(k, _)| {
        if k > 0 && word(b[k - 1]) {
            return false;
        }
        let mut i = k + KEY.len();
        while b
            .get(i)
            .is_some_and(|x| matches!(x, b'"' | b'\'' | b'\\' | b' '))
        {
            i += 1;
        }
        if !b.get(i).is_some_and(|x| matches!(x, b':' | b'=')) {
            return false;
        }
        i += 1;
        while b.get(i) == Some(&b' ') {
            i += 1;
        }
        map.get(i..).is_some_and(|r| {
            r.starts_with("true") && !r.as_bytes().get(4).is_some_and(|&x| word(x))
        })
    })
}

/// `"finish_reason":"length"`, `finish_reason='content_filter'`, `` `finish_reason`: 'length' ``,
/// `finish_reason=length`: a choice that stopped at the output limit or at the content filter, as a
/// completion object, a client's repr or a report quotes it. The reason is the cause, read as the
/// code (as a Responses object's `incomplete_details.reason` is); the other reasons (`stop`,
/// `tool_calls`) end an answer normally, and a comparison (`finish_reason == "length"`) is code,
/// not a report.
fn finish_reason_words(l: &str, at: usize, c: &mut Collector) {
    const KEY: &str = "finish_reason";
    const REASONS: [&str; 2] = ["content_filter", "length"];
    let b = l.as_bytes();
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    for (k, _) in l.match_indices(KEY) {
        if k > 0 && word(b[k - 1]) {
            continue;
        }
        let mut i = k + KEY.len();
        while b.get(i).is_some_and(|x| matches!(x, b'"' | b'\'' | b'`')) {
            i += 1;
        }
        while b.get(i) == Some(&b' ') {
            i += 1;
        }
        if !b.get(i).is_some_and(|x| matches!(x, b':' | b'=')) || b.get(i + 1) == Some(&b'=') {
            continue;
        }
        i += 1;
        while b
            .get(i)
            .is_some_and(|x| matches!(x, b' ' | b'"' | b'\'' | b'`'))
        {
            i += 1;
        }
        let Some(rest) = l.get(i..) else {
            continue;
        };
        let reason = REASONS.into_iter().find(|r| {
            rest.starts_with(r) && !rest.as_bytes().get(r.len()).is_some_and(|&x| word(x))
        });
        if let Some(r) = reason {
            c.body(
                Body {
                    code: Some(r.to_owned()),
                    ..Body::default()
                },
                prio::CLIENT,
                at,
            );
            return;
        }
    }
}

/// A message that is a line of code or a stack frame, not an error's text.
fn code_like(msg: &str) -> bool {
    let m = msg.trim_start_matches(['"', '\'', '`', ' ', '\t']);
    m.starts_with("raise ")
        || m.starts_with("File \"")
        || m.starts_with("Traceback")
        || m.starts_with("at ")
}

/// `Error from API: map[code:model_not_found message:… param:<nil> type:invalid_request_error]`:
/// a Go map printed with `%v`. A Realtime error event's map also holds `event_id` (Go prints the
/// keys sorted: `map[code:unknown_parameter event_id:<nil> message:…]`): a key of its own that ends
/// the value before it, read for nothing.
fn go_map(line: &str, at: usize, c: &mut Collector) {
    let Some(k) = line.find("map[") else {
        return;
    };
    let inner = &line[k + 4..];
    let inner = inner.rfind(']').map_or(inner, |e| &inner[..e]);
    let keys = ["code:", "event_id:", "message:", "param:", "type:"];
    let mut starts: Vec<(usize, &str)> = Vec::new();
    for key in keys {
        let mut from = 0;
        while let Some(p) = inner[from..].find(key) {
            let p = from + p;
            if p == 0 || inner.as_bytes()[p - 1] == b' ' {
                starts.push((p, key));
                break;
            }
            from = p + key.len();
        }
    }
    if !starts.iter().any(|(_, k)| *k == "message:") || starts.len() < 2 {
        return;
    }
    starts.sort_unstable();
    let mut body = Body::default();
    for (i, (p, key)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(inner.len(), |n| n.0);
        let value = inner[p + key.len()..end].trim();
        let value = (!value.is_empty() && value != "<nil>").then(|| value.to_owned());
        match *key {
            "code:" => body.code = value,
            "message:" => body.message = value,
            "param:" => body.param = value,
            "event_id:" => {}
            _ => body.error_type = value,
        }
    }
    c.body(body, prio::CLIENT, at + k);
}

/// What an exception line's message says once the client's prefixes are taken off.
fn exception_message(msg: &str, at: usize, mprio: u8, c: &mut Collector) {
    let mut m = msg.trim();
    for _ in 0..6 {
        if let Some((_, tok, rest)) = find_exception(m).filter(|(i, _, _)| *i == 0) {
            let _ = tok;
            m = rest.trim();
            continue;
        }
        // `OpenAIAPIError: [server_error] That model is …`: a type tag before the message.
        if let Some(e) = m.strip_prefix('[').and_then(|r| r.find("] ")) {
            let tag = &m[1..=e];
            if !tag.is_empty() && tag.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                m = m[e + 3..].trim();
                continue;
            }
            // `Error: [429:insufficient_quota] You exceeded …`: status and code.
            if let Some((st, code)) = tag.split_once(':') {
                let snake =
                    !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
                if let (Some(s), true) =
                    (three_digits(st.as_bytes()).filter(|_| st.len() == 3), snake)
                {
                    c.status(s, prio::EXCEPTION, at);
                    c.body(
                        Body {
                            code: Some(code.to_owned()),
                            message: Some(m[e + 3..].trim().to_owned()),
                            ..Body::default()
                        },
                        prio::CLIENT,
                        at,
                    );
                    m = m[e + 3..].trim();
                    continue;
                }
            }
        }
        if let Some(k) = m.find("Exception - ") {
            if k < 40
                && m[..k]
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'_')
            {
                m = m[k + 12..].trim();
                continue;
            }
        }
        break;
    }
    let lower = m.to_ascii_lowercase();
    if let Some(s) = lower
        .strip_prefix("http ")
        .and_then(|r| three_digits(r.as_bytes()))
    {
        // retrofit `HTTP 429 `, .NET `HTTP 429 (type: code)`: the status, not a message.
        c.status(s, prio::EXCEPTION, at);
        return;
    }
    if let Some(rest) = lower.strip_prefix("error code: ") {
        if let Some(s) = three_digits(rest.as_bytes()) {
            c.status(s, prio::EXCEPTION, at);
        }
        m = match m.find(" - ") {
            Some(k) => m[k + 3..].trim(),
            None => "",
        };
    } else if let Some(s) = three_digits(m.as_bytes()) {
        // Node: `429 You exceeded…`; Java: `429: {…}`.
        if (400..=599).contains(&s) && matches!(m.as_bytes().get(3), None | Some(b' ' | b':')) {
            c.status(s, prio::EXCEPTION, at);
            m = m[3..].trim_start_matches(':').trim();
        }
    } else if let Some(s) = m
        .get(..5)
        .filter(|h| h.ends_with(".0") && matches!(m.as_bytes().get(5), None | Some(b' ' | b':')))
        .and_then(|h| three_digits(&h.as_bytes()[..3]))
    {
        // A status kept as a float (`openai.APIStatusError: 408.0 RequestTimeout`).
        if (400..=599).contains(&s) {
            c.status(s, prio::EXCEPTION, at);
            m = m[5..].trim_start_matches(':').trim();
        }
    }
    if !m.is_empty() && !m.starts_with('{') && !m.starts_with('[') {
        // The SDK's own exception speaks louder than the network error under it.
        c.message(m, mprio, at);
    }
}

/// Wording that says no response came back.
const WORDING: &[(&str, Transport)] = &[
    ("connection error", Transport::Connection),
    ("connection refused", Transport::Connection),
    ("connection reset", Transport::Connection),
    ("econnrefused", Transport::Connection),
    ("econnreset", Transport::Connection),
    ("enotfound", Transport::Connection),
    ("eai_again", Transport::Connection),
    ("socket hang up", Transport::Connection),
    ("fetch failed", Transport::Connection),
    ("server disconnected", Transport::Connection),
    ("name or service not known", Transport::Connection),
    ("nodename nor servname", Transport::Connection),
    (
        "temporary failure in name resolution",
        Transport::Connection,
    ),
    ("getaddrinfo", Transport::Connection),
    ("certificate verify failed", Transport::Connection),
    ("certificate_verify_failed", Transport::Connection),
    ("sslerror", Transport::Connection),
    ("ssl error", Transport::Connection),
    ("failed to connect", Transport::Connection),
    ("could not resolve host", Transport::Connection),
    ("couldn't connect", Transport::Connection),
    ("empty reply from server", Transport::Connection),
    ("network is unreachable", Transport::Connection),
    ("no route to host", Transport::Connection),
    ("connection aborted", Transport::Connection),
    ("remote end closed connection", Transport::Connection),
    ("broken pipe", Transport::Connection),
    ("und_err_socket", Transport::Connection),
    // hyper (Rust): the connection failed while the body of a response was read.
    (
        "error reading a body from connection",
        Transport::Connection,
    ),
    (
        "eof occurred in violation of protocol",
        Transport::Connection,
    ),
    ("dial tcp", Transport::Connection),
    ("no such host", Transport::Connection),
    ("peer closed connection", Transport::Connection),
    // node-fetch: the response body ended before it was complete.
    ("premature close", Transport::Connection),
    ("err_stream_premature_close", Transport::Connection),
    // undici (Node's fetch): the socket closed while the body was being read.
    ("typeerror: terminated", Transport::Connection),
    // Python `websockets`: the WebSocket ended without the peer's close frame.
    ("no close frame received", Transport::Connection),
    ("other side closed", Transport::Connection),
    ("incomplete chunked read", Transport::Connection),
    // aiohttp (openai-python v0's async client, many async wrappers): the body ended before its
    // length (`ClientPayloadError: Response payload is not completed`, its cause
    // `TransferEncodingError: 400, message='Not enough data to satisfy transfer length header.'`,
    // whose 400 is aiohttp's own number, not a status).
    ("response payload is not completed", Transport::Connection),
    // requests/urllib3: a chunked body that ended early (`ChunkedEncodingError: ("Connection
    // broken: InvalidChunkLength(got length b'', 0 bytes read)", …)`, or `IncompleteRead`).
    (
        "connection broken: invalidchunklength",
        Transport::Connection,
    ),
    ("connection broken: incompleteread", Transport::Connection),
    // Go's net/http: the server closed the HTTP/2 connection under the request.
    (
        "server sent goaway and closed the connection",
        Transport::Connection,
    ),
    (
        "not enough data to satisfy transfer length header",
        Transport::Connection,
    ),
    ("error trying to connect", Transport::Connection),
    // A client's HTTP plugin (Tauri: `Connection Failed: Connect error`).
    ("connect error", Transport::Connection),
    ("unable to connect", Transport::Connection),
    ("tunnel connection failed", Transport::Connection),
    ("curl: (6)", Transport::Connection),
    ("curl: (7)", Transport::Connection),
    ("curl: (35)", Transport::Connection),
    ("curl: (52)", Transport::Connection),
    ("curl: (56)", Transport::Connection),
    ("unexpected eof", Transport::Connection),
    // Operating systems' and runtimes' own words for a connection that failed, where no errno
    // name is printed: Windows sockets (WSAECONNREFUSED 10061, WSAECONNRESET 10054), Apple's
    // URL loading system (NSURLErrorCannotConnectToHost, NotConnectedToInternet, CannotFindHost,
    // NetworkConnectionLost, SecureConnectionFailed), .NET's HttpClient and Ruby's Net::HTTP.
    ("actively refused", Transport::Connection),
    ("forcibly closed by the remote host", Transport::Connection),
    ("could not connect to the server", Transport::Connection),
    ("appears to be offline", Transport::Connection),
    (
        "specified hostname could not be found",
        Transport::Connection,
    ),
    ("network connection was lost", Transport::Connection),
    (
        "secure connection to the server cannot be made",
        Transport::Connection,
    ),
    (
        "ssl connection could not be established",
        Transport::Connection,
    ),
    ("failed to open tcp connection", Transport::Connection),
    ("i/o timeout", Transport::Timeout),
    ("awaiting headers", Transport::Timeout),
    ("timed out", Transport::Timeout),
    ("etimedout", Transport::Timeout),
    ("esockettimedout", Transport::Timeout),
    ("deadline exceeded", Transport::Timeout),
    ("timeout of ", Transport::Timeout),
    ("timeout exceeded", Transport::Timeout),
    ("timeouterror", Transport::Timeout),
    ("readtimeout", Transport::Timeout),
    ("und_err_headers_timeout", Transport::Timeout),
    ("curl: (28)", Transport::Timeout),
    ("httpclient.timeout", Transport::Timeout),
    // Haskell http-client's `HttpExceptionRequest Request {…} ResponseTimeout`: sent, no answer
    // in time (the record's own `responseTimeout = …` field is not the cue).
    ("} responsetimeout", Transport::Timeout),
];

/// Wordings of a connection that could not be opened in time: no connection was made, so they
/// say `connection`, and they beat any other timeout wording of the same text (`connect
/// ETIMEDOUT` holds `ETIMEDOUT`).
const CONNECT_PHASE: &[&str] = &[
    "connect etimedout",
    "connection timeout after",
    "connection timed out after",
    "connect timeout",
    "connect timed out",
    "connecttimeout",
    "connect_timeout",
    "handshake timeout",
    // curl (R, PHP, Unreal's libcurl): `Timeout was reached: … Failed to connect to api.openai.com
    // port 443 after 5221 ms: Timed out`: the connect phase, whatever the timeout says.
    "failed to connect to",
    // Windows sockets' WSAETIMEDOUT (10060): `A connection attempt failed because the connected
    // party did not properly respond after a period of time …`.
    "did not properly respond after a period of time",
    // urllib3's `NewConnectionError(… Failed to establish a new connection: [Errno 60] Operation
    // timed out)`: the socket never connected, whatever the errno's words say.
    "failed to establish a new connection",
];

/// Where Go's `io.EOF` ends an error chain as its last link (`Post "https://…": EOF`, go-openai's
/// `error, EOF`): the connection closed before any answer was read. Only the bare upper-case word
/// after `: ` or `, ` at the end of a line counts (`unexpected EOF` is a wording of its own,
/// Python's `EOFError: EOF when reading a line` is input that ended).
fn go_eof(text: &str) -> Option<usize> {
    let mut line_start = 0;
    for line in text.split('\n') {
        if let Some(head) = line.trim_end().strip_suffix("EOF") {
            if head.ends_with(": ") || head.ends_with(", ") {
                return Some(line_start + head.len());
            }
        }
        line_start += line.len() + 1;
    }
    None
}

/// Whether (lowercased) text says the connect phase timed out.
fn connect_phase(lower: &str) -> bool {
    CONNECT_PHASE.iter().any(|w| lower.contains(w))
}

/// Words that make plain prose worth reading as an error message.
const ERRORISH: &[&str] = &[
    "error",
    "exceed",
    "limit",
    "invalid",
    "quota",
    "timed out",
    "timeout",
    "failed",
    "denied",
    "incorrect",
    "not found",
    "does not exist",
    "overloaded",
    "maximum context",
    "unauthorized",
    "refused",
    "too many",
    "too large",
    "billing",
    "not supported",
    "unsupported",
    "unknown parameter",
    // A stream that ended early, in the words clients print (Codex: "stream disconnected before
    // completion: stream closed before response.completed").
    "stream disconnected",
    "closed before response.completed",
    "missing",
    "must be",
    // Responses API item ordering ("Item 'rs_…' of type 'reasoning' was provided without its
    // required following item").
    "required following item",
    // Envoy's 503 body.
    "upstream connect error",
    "flagged",
    "safety",
    "not allowed",
    "expired",
    "slow down",
    // The client's own refusals: Python's TypeError for an unknown keyword, the SDK's
    // `required_args`, the v0 CLI's file validators.
    "unexpected keyword argument",
    "validator",
    "at capacity",
    // A service that says it is busy (DeepSeek's "The server is busy. Please try again later.",
    // its Chinese "服务器繁忙，请稍后再试"): capacity, like "overloaded".
    "server is busy",
    "server is currently busy",
    "服务器繁忙",
    "no such",
    "cannot find",
    "does not support",
    "unacceptable",
];

fn node_frame(t: &str) -> bool {
    t.starts_with("at ")
        && (t.contains(".js:") || t.contains(".mjs:") || t.contains(".ts:") || t.contains("node:"))
}

/// Reads the text line by line (and a few cues over the whole text).
pub(crate) fn scan(text: &str, c: &mut Collector) {
    let lower = text.to_ascii_lowercase();
    c.work += text.len();
    let mut http_block = false;
    // .NET `ClientResultException`: the message follows on a later line.
    let mut dotnet: Option<(usize, Body, usize)> = None;

    // An exception named alone on a line (`Error`, then the message on the next line).
    // Also one whose message ends with a colon: then the next line must read like an error.
    let mut pending_message: Option<(u8, bool)> = None;
    // A line that ends with a status prefix (`… failed with status:`): a hard-wrapped message
    // puts the number at the head of the next line.
    let mut wrapped_status: Option<u8> = None;
    if lower.contains("content_filter_result") {
        filter_result_words(&lower, c);
    }
    for (at, line) in lines(text) {
        c.work += line.len() * 4;
        let l = &lower[at..at + line.len()];
        let t = line.trim();
        let tl = l.trim();

        if let Some(p) = wrapped_status.take() {
            wrapped_status_head(tl, at + (l.len() - l.trim_start().len()), p, c);
        }
        wrapped_status = status_prefix_at_end(tl);

        if !t.is_empty() {
            if let Some((p, introduces)) = pending_message.take() {
                let frame = t.starts_with("at ")
                    || (introduces
                        && (!ERRORISH.iter().any(|w| tl.contains(w))
                            || t.split(' ').next().is_some_and(|w| w.contains(['/', '\\']))))
                    || t.starts_with("File \"")
                    || t.starts_with("Traceback")
                    || t.starts_with('{')
                    || t.starts_with('[')
                    || find_exception(t).is_some();
                if !frame {
                    exception_message(t, at, p, c);
                }
            }
        }

        let mut done = false;
        if let Some((since, body, seen)) = dotnet.as_mut() {
            if !t.is_empty() {
                *seen += 1;
                if let Some(p) = t.strip_prefix("Parameter: ") {
                    body.param = Some(p.trim().to_owned());
                } else if body.message.is_none() {
                    body.message = Some(t.to_owned());
                }
            }
            if body.message.is_some() || *seen > 3 {
                let b = core::mem::take(body);
                c.body(b, prio::CLIENT, *since);
                done = true;
            }
        }
        if done {
            dotnet = None;
        }

        // curl -v: request lines and info lines are not the response.
        if t.starts_with("> ") || t == ">" {
            continue;
        }
        let r = t.strip_prefix("< ").unwrap_or(t);
        // A status line a logger printed behind its head (`… ERROR app.http: HTTP/2 503`).
        let head = super::present::log_head_len(r);
        let r = if head > 0 && r[head..].starts_with("HTTP/") {
            &r[head..]
        } else {
            r
        };
        if t == "<" {
            http_block = false;
            continue;
        }
        if r.starts_with("HTTP/") {
            let mut parts = r.split_whitespace();
            parts.next();
            if let Some(s) = parts.next().and_then(|s| three_digits(s.as_bytes())) {
                c.status(s, prio::HTTP, at);
            }
            http_block = true;
            c.cues.http = true;
            continue;
        }
        if http_block {
            if r.is_empty() {
                http_block = false;
                continue;
            }
            if let Some((name, value)) = r.split_once(':') {
                if !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                {
                    c.header(name, value, at);
                    continue;
                }
            }
            http_block = false;
        }

        // httpx / SDK log lines.
        if l.contains("http request:") && l.contains("\"http/") {
            if let Some(k) = l.find("\"http/") {
                if let Some(sp) = l[k..].find(' ') {
                    if let Some(s) = three_digits(&l.as_bytes()[k + sp + 1..]) {
                        c.status(s, prio::LOG, at);
                    }
                }
            }
            c.cues.log = true;
            continue;
        }
        if l.contains("retrying request to ") {
            c.cues.log = true;
        }

        // A response header on its own line (Azure's `Headers:` section, pasted headers).
        if let Some((name, value)) = r.split_once(':') {
            let n = name
                .trim()
                .trim_start_matches(['-', '*', ' '])
                .to_ascii_lowercase();
            if known_response_header(&n) && !value.trim().is_empty() {
                c.header(&n, value, at);
            }
        }

        // v0 SDK log lines.
        if l.contains("error_code=")
            || l.contains("error_message=")
            || l.contains("response_code=")
            || l.contains("message='openai api")
        {
            c.cues.legacy = true;
            kv_line(text, at, line, c);
        }

        // go-openai.
        if let Some(k) = l.find("error, status code:") {
            c.cues.other_client = true;
            let rest = &line[k..];
            if let Some(m) = rest.find("message: ") {
                let msg = &rest[m + 9..];
                let msg = match msg.find(", body: ") {
                    Some(e) => &msg[..e],
                    None => msg,
                };
                c.message(msg, prio::CLIENT, at);
            }
        }

        // .NET: `HTTP 429 (insufficient_quota: insufficient_quota)`, Azure `ErrorCode: …`.
        if let Some(k) = l.find("http ") {
            let rest = &line[k + 5..];
            if three_digits(rest.as_bytes()).is_some() && rest[3..].starts_with(" (") {
                if let Some(e) = rest.find(')') {
                    let inner = &rest[5..e];
                    // `(type: code)`, or `(code)` alone when the type is null (Azure's
                    // `HTTP 400 (content_filter)`); `(Bad Request)` is a reason phrase.
                    let snake = !inner.is_empty()
                        && inner
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                    let (ty, code) = match inner.split_once(':') {
                        Some(pair) => pair,
                        None if snake => ("", inner),
                        None => ("", ""),
                    };
                    let nonempty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
                    let mut body = Body {
                        error_type: nonempty(ty),
                        code: nonempty(code),
                        ..Body::default()
                    };
                    c.cues.other_client = true;
                    // `HTTP 400 (Bad Request): message` keeps the message on the same line.
                    let mut after = rest[e + 1..].trim_start_matches(':').trim();
                    // openai-dotnet's `Parameter: <param>` line, which follows the head and is
                    // joined to it when a paste's lines are unwrapped: the param, not the message.
                    if let Some(p) = after.strip_prefix("Parameter: ") {
                        let end = p.find(char::is_whitespace).unwrap_or(p.len());
                        body.param = Some(p[..end].to_owned()).filter(|s| !s.is_empty());
                        after = p[end..].trim();
                    }
                    if after.is_empty() {
                        dotnet = Some((at, body, 0));
                    } else {
                        body.message = Some(after.to_owned());
                        c.body(body, prio::CLIENT, at);
                    }
                }
            }
        }
        if let Some(code) = t.strip_prefix("ErrorCode: ") {
            c.body(
                Body {
                    code: Some(code.trim().to_owned()),
                    ..Body::default()
                },
                prio::CLIENT,
                at,
            );
            c.cues.other_client = true;
        }

        statuses(l, at, c);
        status_words(l, at, c);
        field_words(l, line, at, c);
        if l.contains("finish_reason") {
            finish_reason_words(l, at, c);
        }
        retry_delay(l, c);
        if l.contains("map[") {
            go_map(line, at, c);
        }

        for (k, _) in l.match_indices("raised ") {
            // `RetryError[<Future … raised APIConnectionError>]`.
            let rest = &line[k + 7..];
            let end = rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '.' || ch == '_'))
                .unwrap_or(rest.len());
            let name = &rest[..end];
            if exceptionish(name) {
                c.exception(name, name_transport(name), exception_prio(name), at + k);
            }
        }
        // A network error shown only as its repr (`exception=SSLCertVerificationError(1, '[SSL:
        // CERTIFICATE_VERIFY_FAILED] …')`, maybe spread over the lines of a rich traceback's
        // locals box): its arguments are the cause a bare `Connection error.` hides.
        for (k, _) in line.match_indices('(').take(8) {
            let before = &line[..k];
            let start = before
                .char_indices()
                .rev()
                .find(|&(_, ch)| !(ch.is_ascii_alphanumeric() || ch == '.' || ch == '_'))
                .map_or(0, |(i, ch)| i + ch.len_utf8());
            let name = &before[start..];
            // Not a call in quoted source (`raise APIConnectionError(request=request)`): a
            // transport class below the SDK's, whose arguments hold a quoted message.
            if exceptionish(name)
                && name_transport(name).is_some()
                && exception_prio(name) < prio::EXCEPTION
                && !line.trim_start().starts_with("raise ")
            {
                let args = repr_args(text.get(at + k + 1..).unwrap_or(""));
                if args.contains(['\'', '"']) {
                    c.cause(&args, at + k);
                }
            }
        }
        for (k, name, msg) in find_exceptions(line) {
            // A message a terminal broke mid-sentence (`… in organization org-xxx` / `on
            // requests per min. Limit: …`) goes on on the next line.
            let joined;
            let msg = match continuation(text, at, line, msg) {
                Some(next) => {
                    joined = alloc::format!("{} {}", msg.trim_end(), next);
                    joined.as_str()
                }
                None => msg,
            };
            // pydantic's `ValidationError: 1 validation error for Model` gives its reasons on the
            // lines below its head (`  Invalid JSON: … [type=json_invalid, …]`): read them too.
            let detailed;
            let msg = match pydantic_details(text, at, line, name, msg) {
                Some(d) => {
                    detailed = d;
                    detailed.as_str()
                }
                None => msg,
            };
            if NOT_API_NAMES.contains(&last_segment(name))
                && !known_wording(&msg.to_ascii_lowercase())
            {
                // A local failure (an import, a parser, a validator): no request was answered.
                // Unless its message is a client refusal the taxonomy knows (`ImportError: cannot
                // import name 'OpenAI' from 'openai'`: the installed package is the wrong one).
                c.local_failure = true;
                continue;
            }
            if name == "Error" && code_like(msg) {
                // `Error: "    raise ValueError(`: someone's note before a pasted traceback.
                continue;
            }
            let mut kind = name_transport(name);
            if kind == Some(Transport::Timeout) && connect_phase(&msg.to_ascii_lowercase()) {
                // Java's `SocketTimeoutException: Connect timed out`: no connection was made.
                kind = Some(Transport::Connection);
            }
            if kind.is_some() && crate::classify::reports_response_status(msg) {
                // .NET's `HttpRequestException: Response status code does not indicate success:
                // 404 (Not Found).`: the class `EnsureSuccessStatusCode` throws for an answer
                // that arrived, not a connection never made.
                kind = None;
            }
            if last_segment(name) == "SseException" {
                c.stream_text();
            }
            c.exception(name, kind, exception_prio(name), at + k);
            let p = exception_prio(name);
            let msg_lower = msg.to_ascii_lowercase();
            // A built-in class carrying the API's own words (a bot's `[CHATGPT] Exception: We
            // could not parse the JSON body of your request.`) is the API error.
            if p > prio::WORDING
                || ERRORISH.iter().any(|w| msg_lower.contains(w))
                || known_wording(&msg_lower)
                || opens_with_error_status(msg)
            {
                // `KeyError: 'amount'` says nothing about the API.
                exception_message(msg, at + k, p.min(prio::EXCEPTION), c);
            }
            // The message on the next line: an exception named alone, or one whose message only
            // introduces it (`Error: OpenAI API request failed [429]:`, then the API's words).
            let introduces = msg.trim_end().ends_with(':');
            if (msg.trim().is_empty() || introduces)
                && k == 0
                && p > prio::WORDING
                && p < prio::EXCEPTION
            {
                pending_message = Some((p, introduces));
            }
            if kind.is_some() && p < prio::EXCEPTION && !msg.trim().is_empty() {
                // The underlying network error of `APIConnectionError: Connection error.`.
                c.cause(msg.trim(), at + k);
            }
            let nl = name.to_ascii_lowercase();
            if nl.starts_with("litellm") || nl.starts_with("langchain") {
                c.cues.wrapper = true;
            } else if nl.starts_with("openai.error.") {
                c.cues.legacy = true;
            } else if nl.starts_with("openai.")
                || nl.starts_with("httpx.")
                || nl.starts_with("httpcore.")
            {
                c.cues.traceback = true;
            } else if nl.starts_with("com.")
                || nl.starts_with("system.")
                || nl.starts_with("azure.")
                || nl.starts_with("java.")
                || nl.starts_with("retrofit2.")
                || nl.starts_with("okhttp3.")
                || nl.starts_with("io.")
                || nl.starts_with("org.")
            {
                c.cues.other_client = true;
            } else if msg.starts_with("Error code: ") {
                c.cues.traceback = true;
            } else if !name.contains(['.', '\\', ':', '$'])
                && (SDK_NAMES.contains(&name) || name == "Error")
            {
                // The Node SDK prints bare class names (`RateLimitError: 429 …`).
                c.cues.node = true;
            }
        }

        if tl.starts_with("traceback (most recent call last)")
            || t.starts_with("File \"")
            || l.contains(" - {'error'")
        {
            c.cues.traceback = true;
        }
        if node_frame(t) || tl.starts_with("[cause]:") || tl.starts_with("axioserror") {
            c.cues.node = true;
        }
        if tl.starts_with("exception in thread") || tl.starts_with("caused by:") {
            c.cues.other_client = true;
        }
    }
    if let Some((since, body, _)) = dotnet {
        c.body(body, prio::CLIENT, since);
    }

    whole_text(text, &lower, c);
}

/// R's rlang conditions (what httr2, ellmer, callr and most R clients raise) print their message as
/// a `! ` bullet under an `Error:`/`Error in `f()`:` head, and each cause under its own
/// `Caused by error in `g()`:` head, detail bullets (`- …`, `ℹ …`, `✖ …`) indented below. The
/// deepest cause is the message: `! in callr subprocess.` only says where it happened.
fn rlang_condition(text: &str, c: &mut Collector) {
    let mut head = false;
    let mut at = 0;
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let pos = at;
        at += line.len() + 1;
        let t = line.trim_start();
        let tl = t.get(..18).unwrap_or(t).to_ascii_lowercase();
        if tl.starts_with("error") || tl.starts_with("caused by error") {
            head = true;
            continue;
        }
        let Some(msg) = t.strip_prefix("! ").filter(|_| head) else {
            head = false;
            continue;
        };
        head = false;
        let mut joined = String::from(msg.trim());
        while let Some(next) = lines.peek() {
            let n = next.trim_start();
            let bullet = ["- ", "* ", "ℹ ", "✖ ", "• "]
                .iter()
                .any(|b| n.starts_with(b));
            if !(next.starts_with(' ') && bullet) || joined.len() > 1000 {
                break;
            }
            joined.push(' ');
            joined.push_str(n.trim());
            at += next.len() + 1;
            lines.next();
        }
        c.message(&joined, prio::EXCEPTION, pos);
    }
}

/// The head of a pydantic `ValidationError` (`1 validation error for HomeworkOutput`) joined to
/// the two lines after it, where pydantic names the field and the reason with its `[type=…]`.
fn pydantic_details(text: &str, at: usize, line: &str, name: &str, msg: &str) -> Option<String> {
    if last_segment(name) != "ValidationError" || !line.ends_with(msg) {
        return None;
    }
    let head = msg.trim_end();
    let counted = head.split_once(' ').is_some_and(|(n, rest)| {
        !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
            && (rest.starts_with("validation error for ")
                || rest.starts_with("validation errors for "))
    });
    if !counted {
        return None;
    }
    let rest = text.get(at + line.len() + 1..)?;
    let mut out = String::from(head);
    for next in rest.split('\n').take(2) {
        let t = next.trim();
        if t.is_empty() || t.starts_with("File \"") || t.starts_with("Traceback ") {
            break;
        }
        out.push(' ');
        out.push_str(t);
    }
    (out.len() > head.len()).then_some(out)
}

/// The next line, when it continues an exception message that the line break cut mid-sentence:
/// the message runs to the end of its line without closing punctuation, and the next line starts
/// in lowercase and is not a frame.
fn continuation<'a>(text: &'a str, at: usize, line: &str, msg: &str) -> Option<&'a str> {
    let m = msg.trim_end();
    // Only the last message of a line runs to its end.
    if m.len() < 20 || !line.ends_with(msg) {
        return None;
    }
    if m.ends_with(['.', '!', '?', ':', ')', ']', '}', '"', '\'', ',']) {
        return None;
    }
    let rest = text.get(at + line.len() + 1..)?;
    let next = rest.split('\n').next()?.trim_end_matches('\r');
    let t = next.trim();
    // A quoted name carried over (`… from` / `'openai.types.responses.response'`) continues it too.
    let unquoted = t.strip_prefix(['\'', '"']).unwrap_or(t);
    let starts_lower = unquoted
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase());
    let frame = t.starts_with("at ") || t.starts_with("File \"") || t.starts_with("during ");
    (starts_lower && !frame && t.len() <= 2000 && find_exception(t).is_none()).then_some(t)
}

/// Whether the wording found at `k`, inside a word, ends a class name that stands for the same
/// failure (`OpenAIAPITimeoutError` holds `timeouterror` where a new capitalized segment starts):
/// the whole word is read as a class name would be.
fn names_class(text: &str, k: usize, kind: Transport) -> bool {
    let b = text.as_bytes();
    if !b[k].is_ascii_uppercase() || !b[k - 1].is_ascii_alphabetic() {
        return false;
    }
    let word = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
    let start = b[..k].iter().rposition(|c| !word(c)).map_or(0, |p| p + 1);
    let end = b[k..]
        .iter()
        .position(|c| !word(c))
        .map_or(b.len(), |p| k + p);
    name_transport(&text[start..end]) == Some(kind)
}

/// Whether `line` is source code that handles an exception class by name (`except
/// openai.APITimeoutError:`, `} catch (e: RateLimitError) {`, `if isinstance(e,
/// openai.RateLimitError):`, `rescue Faraday::TimeoutError`, `err instanceof APIConnectionTimeoutError`):
/// the class is named there, not raised.
fn handles_class(line: &str) -> bool {
    let t = line.trim_start();
    [
        "except ",
        "except(",
        "} catch",
        "catch (",
        "catch(",
        "rescue ",
        "if isinstance(",
        "elif isinstance(",
        "if (e instanceof ",
        "if (err instanceof ",
        "if (error instanceof ",
        "} else if (",
    ]
    .iter()
    .any(|p| t.starts_with(p))
        && !t.contains("Traceback")
}

/// Cues over the whole text: wording, request IDs, stream hints, errno codes, HTML pages.
fn whole_text(text: &str, lower: &str, c: &mut Collector) {
    c.work += text.len() * (WORDING.len() + 16);
    let lb = lower.as_bytes();
    for (needle, kind) in WORDING {
        for (k, _) in lower.match_indices(needle) {
            // A word of its own: `ModuleNotFoundError` does not say `ENOTFOUND`; inside a word
            // only as the class the word names (`OpenAIAPITimeoutError`, an app's own name for
            // the SDK's timeout, mentioned in prose), never a gateway's (`GatewayTimeoutError`).
            if k > 0 && lb[k - 1].is_ascii_alphanumeric() && !names_class(text, k, *kind) {
                continue;
            }
            // A class named in source code that handles it is not a failure that happened.
            let line_start = lower[..k].rfind('\n').map_or(0, |n| n + 1);
            let line_end = lower[k..].find('\n').map_or(lower.len(), |n| k + n);
            if handles_class(&text[line_start..line_end]) || rescued_at(text, name_start(lb, k)) {
                continue;
            }
            // Envoy's `upstream connect error …` is the proxy's own 503 body: a response came.
            if *needle == "connect error" && lower[..k].ends_with("upstream ") {
                continue;
            }
            c.transport(*kind, prio::WORDING, k);
        }
    }
    for needle in CONNECT_PHASE {
        if let Some(k) = lower.find(needle) {
            c.transport(Transport::Connection, prio::WORDING + 1, k);
        }
    }
    if let Some(k) = go_eof(text) {
        c.transport(Transport::Connection, prio::WORDING, k);
    }
    // LangChain's pydantic error for a missing key (`Did not find openai_api_key, please add an
    // environment variable `OPENAI_API_KEY` …`): the client never sent a request without one.
    if let Some(k) = lower.find("did not find openai_api_key") {
        let start = lower[..k].rfind('\n').map_or(0, |n| n + 1);
        let end = lower[k..].find('\n').map_or(lower.len(), |n| k + n);
        c.message(text[start..end].trim(), prio::EXCEPTION, k);
    }
    rlang_condition(text, c);
    let mut streaming = false;
    for needle in [
        // Codex, when a `response.failed` event ends its stream.
        "stream disconnected before completion",
        "during streaming",
        // A person's or a log's own words for where it broke (`Mid-stream, the connection
        // terminates with the generic error: …`).
        "mid-stream",
        "_streaming.py",
        "stream_error=true",
        "in __stream__",
        "itersse",
        "streaming.mjs",
        "streaming.js:",
        "/streaming.ts",
        // hyper (Rust), under reqwest's `error decoding response body`: the response had started
        // and its body was cut while it was being read.
        "error reading a body from connection",
        // The same cut in h11/httpcore/httpx (`peer closed connection without sending complete
        // message body (incomplete chunked read)`) and undici (`TypeError: terminated`, which Node's
        // fetch raises only once the response has started): issue 13 keeps `connection` for a
        // connection never made, so a body cut after its head is the stream's cut.
        "incomplete chunked read",
        "peer closed connection without sending complete message body",
        "typeerror: terminated",
        // aiohttp's `ClientPayloadError` for the same cut (`Response payload is not completed`;
        // openai/openai-python#574, a v0 `acreate` stream).
        "response payload is not completed",
        "not enough data to satisfy transfer length header",
        // requests/urllib3's for a chunked body that ended early (openai/openai-python#218, a
        // v0 stream).
        "connection broken: invalidchunklength",
        "connection broken: incompleteread",
        // A WebSocket (a Realtime session) that ended without the peer's close frame (Python
        // `websockets`: `sent 1000 (OK); no close frame received`): the session was cut.
        "no close frame received",
        // An SSE reader's own timeout between chunks (openai_ex: `SSE next chunk timed out.`,
        // `kind: :sse_timeout_error`): the answer was streaming.
        "sse next chunk",
        "sse_timeout",
    ] {
        if lower.contains(needle) {
            c.stream_text();
            streaming = true;
        }
    }
    // reqwest's `error decoding response body` (a body that failed while it was read) where the
    // text says it was a stream's (`provider stream chunk error: …`, `Streaming error: …`, an SSE
    // client's `Transport Error: …`): the stream broke.
    // So is that error with no source after it (a relay's `读取 Codex 上游响应失败: error decoding
    // response body`): reqwest prints what failed after a colon (serde's `missing field …`, a
    // client that could not read the JSON); without it, the body broke off while it was read and
    // the cause is hidden, which issue 13 names a stream's cut.
    let decode_phrase = "error decoding response body";
    let decode_unexplained = lower.match_indices(decode_phrase).any(|(k, _)| {
        !lower[k + decode_phrase.len()..]
            .trim_start_matches([' ', '`', '\'', '"'])
            .starts_with(':')
    });
    if lower.contains(decode_phrase)
        && (lower.contains("transport error")
            || decode_unexplained
            || lower
                .match_indices("stream")
                .any(|(k, _)| word_start(lower.as_bytes(), k)))
    {
        c.stream_text();
        streaming = true;
    }
    // A client's own words that an event of a streaming response carried the error (a Rust agent
    // runtime: `OpenAI-style streaming response reported an error event: server_error: …`): the
    // cause arrived inside the stream. A Realtime session's `error` event is not a stream's.
    if lower.contains("error event")
        && !lower.contains("realtime")
        && lower
            .match_indices("streaming")
            .any(|(k, _)| word_start(lower.as_bytes(), k))
    {
        c.stream_text();
        streaming = true;
    }
    // node-fetch's own stream event (`Error: Premature close` at `IncomingMessage`), not the
    // FetchError of reading a whole body (`Invalid response body while trying to fetch …`).
    if lower.contains("error: premature close")
        && lower.contains("node-fetch")
        && !lower.contains("invalid response body")
    {
        c.stream_text();
        streaming = true;
    }
    // The SDK could not parse an event of the stream as JSON (`sse.json()` in `_streaming.py`):
    // the event came from a proxy or gateway, not from OpenAI.
    if streaming {
        if let Some(k) = lower.find("jsondecodeerror") {
            c.exception("json.decoder.JSONDecodeError", None, 13, k);
        }
    }
    if lower.contains("litellm") || lower.contains("langchain") {
        c.cues.wrapper = true;
    }
    if lower.contains("node_modules") || lower.contains("node:internal") {
        c.cues.node = true;
    }
    if lower.contains("system.clientmodel")
        || lower.contains("azure.requestfailedexception")
        || lower.contains("service request failed")
    {
        c.cues.other_client = true;
    }

    // Errno codes (case-sensitive words).
    let b = text.as_bytes();
    for (k, _) in text.match_indices('E').chain(text.match_indices("UND_ERR")) {
        if k > 0 && (b[k - 1].is_ascii_alphanumeric() || b[k - 1] == b'_') {
            continue;
        }
        let mut j = k;
        while j < b.len() && j < k + 32 && (b[j].is_ascii_uppercase() || b[j] == b'_') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_alphanumeric() {
            continue;
        }
        let word = &text[k..j];
        if let Some(kind) = errno_kind(word) {
            c.exception(word, Some(kind), 20, k);
            c.transport(kind, prio::WORDING, k);
        }
    }
    // `connect ETIMEDOUT 1.2.3.4:443`: the TCP connection was never made, so nothing answered at
    // all (openai-node raises APIConnectionError); a plain `ETIMEDOUT` stays a timeout.
    if let Some(k) = text.find("connect ETIMEDOUT") {
        c.exception("ETIMEDOUT", Some(Transport::Connection), 21, k + 8);
        c.transport(Transport::Connection, prio::WORDING + 1, k);
    }

    // Request IDs: `req_…` tokens, and IDs quoted as "request ID …".
    for (k, _) in text.match_indices("req_") {
        if k > 0 && (b[k - 1].is_ascii_alphanumeric() || b[k - 1] == b'_') {
            continue;
        }
        let mut j = k + 4;
        while j < b.len() && b[j].is_ascii_alphanumeric() {
            j += 1;
        }
        if j - k >= 12 {
            c.request_id(&text[k..j], prio::WEAK, k);
        }
    }
    for (k, n) in lower
        .match_indices("request id ")
        .chain(lower.match_indices("request id: "))
    {
        let rest = &text[k + n.len()..];
        let end = rest
            .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == '-'))
            .unwrap_or(rest.len());
        let id = &rest[..end];
        if id.len() >= 8 && id.bytes().any(|x| x.is_ascii_digit()) {
            c.request_id(id, prio::WEAK + 5, k);
        }
    }

    openstep_dict(text, c);
    wording_line(text, lower, c);
    library_frame(text, c);
    html(text, lower, c);
    plain_text(text, lower, c);
    // Read after the prose, so that neither stops it from being the message.
    ruby_names(text, c);
    bracket_code(text, c);
    paren_code(text, c);
    escaped_message(text, c);
}

/// The message of an escaped JSON body that a terminal broke over lines (`\"message\": \"Your
/// organization must be …`), where no reader can parse the body as a whole.
fn escaped_message(text: &str, c: &mut Collector) {
    let Some(k) = text.find("\\\"message\\\": \\\"") else {
        return;
    };
    let start = k + 15;
    let rest = &text[start..];
    let end = rest.find("\\\"").unwrap_or(rest.len()).min(1000);
    let mut end = end;
    while !rest.is_char_boundary(end) {
        end -= 1;
    }
    let joined = rest[..end]
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    c.message(&joined, prio::CLIENT, start);
}

/// Ruby class names in prose (``a `Faraday::TooManyRequestsError` when calling …``).
fn ruby_names(text: &str, c: &mut Collector) {
    let b = text.as_bytes();
    for (k, _) in text.match_indices("::").take(64) {
        let mut i = k;
        while i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b':') {
            i -= 1;
        }
        if i > 0 && !matches!(b[i - 1], b' ' | b'`' | b'(' | b'\'' | b'"' | b'\n' | b'\t') {
            continue;
        }
        let mut j = k + 2;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b':') {
            j += 1;
        }
        let name = text[i..j].trim_end_matches(':');
        if name.contains("::") && exceptionish(name) && !rescued_at(text, i) {
            c.exception(name, name_transport(name), exception_prio(name), i);
        }
    }
}

/// Where the dotted or `::` name holding byte `k` starts (`Faraday::TimeoutError` for a match
/// inside it).
fn name_start(b: &[u8], k: usize) -> usize {
    let mut i = k.min(b.len());
    while i > 0 && (b[i - 1].is_ascii_alphanumeric() || matches!(b[i - 1], b'_' | b':' | b'.')) {
        i -= 1;
    }
    i
}

/// Whether the class named at `i` is one a Ruby `rescue` clause lists (`rescue
/// Faraday::TimeoutError => e`, `rescue Net::ReadTimeout, Faraday::TimeoutError`, also after a
/// statement when a hard wrap was joined: `call(params) rescue Faraday::TimeoutError`): the code
/// handles it there; nothing was raised.
fn rescued_at(text: &str, i: usize) -> bool {
    let line_start = text
        .get(..i)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |n| n + 1);
    let Some(mut before) = text.get(line_start..i).map(str::trim_end) else {
        return false;
    };
    let name_char = |ch: char| ch.is_ascii_alphanumeric() || ch == '_' || ch == ':';
    // Earlier names of the same list, each followed by a comma.
    for _ in 0..16 {
        if let Some(head) = before.strip_suffix("rescue") {
            return !head.ends_with(name_char);
        }
        match before.strip_suffix(',') {
            Some(list) => before = list.trim_end().trim_end_matches(name_char).trim_end(),
            None => return false,
        }
    }
    false
}

/// An error code in brackets before its message (`Upstream request failed:
/// [unsupported_country_region_territory] Country, region, or territory not supported`).
/// Only codes the rules know count: a log's own `[app_name]` tag is not one, and type tags
/// (`[server_error]`, `[invalid_request_error]`) are not codes.
fn bracket_code(text: &str, c: &mut Collector) {
    for (k, _) in text.match_indices('[').take(256) {
        let rest = &text[k + 1..];
        let Some(e) = rest.find("] ").filter(|&e| e > 2 && e <= 64) else {
            continue;
        };
        let tok = &rest[..e];
        let snake = tok
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && tok.contains('_')
            && tok.as_bytes()[0].is_ascii_lowercase()
            && !tok.ends_with("_error")
            && crate::generated::errors::ERROR_RULES
                .iter()
                .any(|r| r.codes.contains(&tok));
        if snake {
            c.body(
                Body {
                    code: Some(tok.to_owned()),
                    ..Body::default()
                },
                prio::WEAK,
                k,
            );
        }
    }
}

/// An error code in parentheses opening the message, as azure-core's `HttpResponseError` prints
/// it (`azure.core.exceptions.ClientAuthenticationError: (PermissionDenied) The principal …`):
/// the parenthesis starts a line or follows `: `, and only codes the rules know count, so prose
/// in parentheses is not read as one.
fn paren_code(text: &str, c: &mut Collector) {
    for (k, _) in text.match_indices('(').take(256) {
        let before = &text[..k];
        if !(before.is_empty() || before.ends_with('\n') || before.ends_with(": ")) {
            continue;
        }
        let rest = &text[k + 1..];
        // A code is 3 to 64 bytes: look no further than that for its `) ` (a stranger's text can
        // hold many parentheses; each costs at most this window).
        let window = &rest.as_bytes()[..rest.len().min(66)];
        let Some(e) = window
            .windows(2)
            .position(|w| w == b") ")
            .filter(|&e| (3..=64).contains(&e))
        else {
            continue;
        };
        let tok = &rest[..e];
        let known = tok.as_bytes()[0].is_ascii_alphabetic()
            && tok.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && {
                let low = tok.to_ascii_lowercase();
                crate::generated::errors::ERROR_RULES
                    .iter()
                    .any(|r| r.codes.contains(&low.as_str()))
            };
        if known {
            c.body(
                Body {
                    code: Some(tok.to_owned()),
                    ..Body::default()
                },
                prio::WEAK,
                k,
            );
        }
    }
}

fn decode_entities(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&#39;", "'")
        .replace("&#039;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
}

fn tag_text<'a>(text: &'a str, lower: &str, tag: &str) -> Option<(usize, &'a str)> {
    let open = alloc::format!("<{tag}");
    let close = alloc::format!("</{tag}>");
    let k = lower.find(&open)?;
    let gt = k + lower[k..].find('>')? + 1;
    let end = gt + lower[gt..].find(&close)?;
    let inner = &text[gt..end];
    (inner.len() <= 400).then_some((k, inner))
}

/// The query of the link on Cloudflare's error pages to its error landing page, before the status.
const CF_LANDING: &str = "5xx-error-landing?utm_source=errorcode_";

fn html(text: &str, lower: &str, c: &mut Collector) {
    // Cloudflare's error page names its status in the link to its error landing page
    // (`5xx-error-landing?utm_source=errorcode_524`), also in a paste cut from the page's middle.
    let cf_landing = lower.find(CF_LANDING);
    let is_html = lower.contains("<html")
        || lower.contains("<!doctype html")
        || lower.contains("<title>")
        || lower.contains("<body")
        || cf_landing.is_some() && lower.contains("<div");
    if !is_html {
        return;
    }
    if let Some(k) = cf_landing {
        if let Some(s) = three_digits(&lower.as_bytes()[k + CF_LANDING.len()..]) {
            if (500..=599).contains(&s) {
                c.status(s, prio::WEAK, k);
            }
        }
    }
    c.cues.html = true;
    let title = tag_text(text, lower, "title").or_else(|| tag_text(text, lower, "h1"));
    if let Some((k, raw)) = title {
        // Tags inside the heading (`<center><h1>…`) are dropped.
        let mut plain = String::new();
        let mut in_tag = false;
        for ch in raw.chars() {
            match ch {
                '<' => in_tag = true,
                '>' => in_tag = false,
                _ if !in_tag => plain.push(ch),
                _ => {}
            }
        }
        let t = decode_entities(
            plain
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .as_str(),
        );
        // A status in the title: `502 Bad Gateway`, `api.openai.com | 524: A timeout occurred`.
        let tb = t.as_bytes();
        for i in 0..tb.len() {
            if word_start(tb, i) {
                if let Some(s) = three_digits(&tb[i..]) {
                    if (400..=599).contains(&s) {
                        c.status(s, prio::HTTP, k);
                        break;
                    }
                }
            }
        }
        c.html_title(&t, k);
    }
    if let Some(k) = lower.find("cf-error-code\">") {
        if let Some(s) = three_digits(&lower.as_bytes()[k + 15..]) {
            c.status(s, prio::HTTP, k);
        }
    }
}

/// Whether a wording of the taxonomy is long enough to say something by itself in prose: 16
/// bytes, where an ideograph or kana (three bytes in UTF-8, yet a word of its own) counts four, so
/// Zhipu's `模型不存在` and a relay's `余额不足` count as much as `model does not exist`.
fn long_wording(m: &str) -> bool {
    m.len() + m.chars().filter(|&ch| ch >= '\u{2E80}').count() >= 16
}

/// When nothing structured was found, the prose itself is the message (if it reads like an error).
/// Whether short prose holds a wording of the error taxonomy that says enough by itself (long
/// patterns only: `No such File object`, `Selected model is at capacity`).
pub(crate) fn known_wording(lower: &str) -> bool {
    lower.len() <= 4000
        && crate::generated::errors::ERROR_RULES
            .iter()
            .flat_map(|r| r.messages.iter())
            .any(|m| long_wording(m) && lower.contains(m))
}

/// The line that holds the longest long wording of the taxonomy, kept apart: a client's generic
/// line (`Error: Request failed with status code 404`) is often the message the readers find,
/// and the API's own words follow on a line of their own (`This is not a chat model and thus not
/// supported …`). `finish` joins them when the message found says nothing the taxonomy knows.
fn wording_line(text: &str, lower: &str, c: &mut Collector) {
    if lower.len() > 20_000 {
        return;
    }
    let long = || {
        crate::generated::errors::ERROR_RULES
            .iter()
            .flat_map(|r| r.messages.iter())
            .filter(|m| long_wording(m))
    };
    c.work += lower.len() * long().count().min(64);
    let Some((k, _)) = long()
        .filter_map(|m| lower.find(*m).map(|k| (k, *m)))
        .max_by_key(|(k, m)| (m.len(), core::cmp::Reverse(*k)))
    else {
        unparsed_text_start(lower, c);
        return;
    };
    let start = lower[..k].rfind('\n').map_or(0, |n| n + 1);
    let end = lower[k..].find('\n').map_or(lower.len(), |n| k + n);
    let mut line = text[start..end].trim();
    if line.len() > 2000 {
        // A long line (a one-line log): the wording and what follows it.
        let mut e = (k - start + 2000).min(end - start);
        while !text.is_char_boundary(start + e) {
            e -= 1;
        }
        line = text[k..start + e].trim();
    }
    c.wording_line(line, k);
}

/// Where the openai client libraries' own code lives in a stack frame: npm's `node_modules/openai/`
/// (pnpm's store path ends the same way; Windows writes back slashes) and pip's
/// `site-packages/openai/` (`dist-packages` on Debian).
const LIBRARY_DIRS: &[&str] = &[
    "node_modules/openai/",
    "node_modules\\openai\\",
    "site-packages/openai/",
    "site-packages\\openai\\",
    "dist-packages/openai/",
];

/// The words joined to a message by [`library_frame`]; `client_library_raised` is their record.
pub(crate) const LIBRARY_RAISED: &str = "(raised inside the openai client library's own code)";

/// A built-in error (`TypeError`, `ValueError`, …: [`GENERIC_NAMES`]) whose innermost stack frame
/// is in the openai client library's own code: the library failed on what the program handed it,
/// before any request went out (openai-node's path builder given an object for an id:
/// `TypeError: Cannot convert object to primitive value` at `node_modules/openai/…/path.ts`). The
/// innermost frame is the first `at …` line after the error in a JavaScript stack, and the last
/// `File "…"` line before it in a Python traceback. Joined like a line of the API's own words,
/// so anything the readers recognise beside it (a status, a code, a network failure) decides.
fn library_frame(text: &str, c: &mut Collector) {
    let in_library = |frame: &str| LIBRARY_DIRS.iter().any(|d| frame.contains(d));
    let generic = |line: &str| -> bool {
        find_exceptions(line)
            .iter()
            .any(|(_, name, _)| GENERIC_NAMES.contains(&last_segment(name)))
    };
    let mut last_python_frame: Option<&str> = None;
    let mut error_at: Option<(usize, &str)> = None;
    for (at, line) in lines(text) {
        let t = line.trim();
        if t.starts_with("File \"") {
            last_python_frame = Some(t);
            error_at = None;
            continue;
        }
        if let Some((k, error)) = error_at.take() {
            // The line right after a JavaScript error: its innermost frame.
            if node_frame(t) && in_library(t) {
                c.wording_line(&alloc::format!("{error} {LIBRARY_RAISED}"), k);
                return;
            }
        }
        if generic(t) {
            if last_python_frame.is_some_and(in_library) {
                c.wording_line(&alloc::format!("{t} {LIBRARY_RAISED}"), at);
                return;
            }
            error_at = Some((at, t));
        }
        if !t.is_empty() && !t.starts_with('^') && !t.starts_with('~') && !generic(t) {
            // A source line under a Python frame keeps the frame; anything else ends it.
            if !last_python_frame.is_some_and(|_| line.starts_with("    ")) {
                last_python_frame = None;
            }
        }
    }
}

/// `SyntaxError: Unexpected token 'B', "Billing ha"... is not valid JSON`: V8's `JSON.parse` error
/// quotes the first characters of the text it could not parse and cuts them with `...`. An app
/// that parses the API's plain-text answer (or its own server's copy of it) as JSON shows the
/// start of the API's words there. When those characters begin wordings of one record only, that
/// wording is joined to the message like a line of the API's own words; characters that begin the
/// wordings of several records (`Rate limit`), or markup (`<!DOCTYPE `), say nothing.
fn unparsed_text_start(lower: &str, c: &mut Collector) {
    const TAIL: &str = "\"... is not valid json";
    for (k, _) in lower.match_indices(TAIL).take(4) {
        let Some(open) = lower[..k].rfind('"') else {
            continue;
        };
        let start = &lower[open + 1..k];
        if !(6..=12).contains(&start.len())
            || !start.starts_with(|ch: char| ch.is_ascii_alphabetic())
        {
            continue;
        }
        c.work += crate::generated::errors::ERROR_RULES.len() * 8;
        let mut begun = crate::generated::errors::ERROR_RULES.iter().flat_map(|r| {
            r.messages
                .iter()
                .filter(|m| m.len() > start.len() && m.starts_with(start))
                .map(move |m| (r.name, *m))
        });
        let Some((name, wording)) = begun.next() else {
            continue;
        };
        if begun.all(|(n, _)| n == name) {
            c.wording_line(
                &alloc::format!("(the text it could not parse begins \"{wording}\")"),
                k,
            );
            return;
        }
    }
}

/// An error map printed as an `NSDictionary` (Swift's `print` of a Foundation dictionary,
/// Objective-C's `%@`): `key = value;` lines inside braces, keys that are not plain words quoted
/// (`"event_id" = "<null>";`), `<null>` for a null. Read when it holds a message and a code or
/// type, like a JSON error object.
fn openstep_dict(text: &str, c: &mut Collector) {
    if !text.contains(" = ") || (!text.contains(";\n") && !text.trim_end().ends_with(';')) {
        return;
    }
    let mut body = Body::default();
    let mut first = None;
    let mut braced = false;
    for (at, line) in lines(text) {
        let t = line.trim();
        if t.ends_with('{') {
            braced = true;
            continue;
        }
        let Some((key, value)) = t.strip_suffix(';').and_then(|t| t.split_once(" = ")) else {
            continue;
        };
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        if !braced || value.is_empty() || value == "<null>" {
            continue;
        }
        let slot = match key.trim().trim_matches('"') {
            "code" => &mut body.code,
            "message" => &mut body.message,
            "type" => &mut body.error_type,
            "param" => &mut body.param,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(value.to_owned());
            first.get_or_insert(at);
        }
    }
    if body.message.is_some() && (body.code.is_some() || body.error_type.is_some()) {
        c.body(body, prio::CLIENT, first.unwrap_or(0));
    }
}

/// `[ERROR][2023-11-29 23:17:51][chatgpt.py:53] - …`: bracketed tags (a level, a time, a source
/// line) that start a log line, not a JSON array: plain words inside, prose after them.
fn log_tags(t: &str) -> bool {
    let mut rest = t.lines().next().unwrap_or("");
    let mut tags = 0;
    while let Some(r) = rest.strip_prefix('[') {
        let Some(e) = r.find(']') else {
            return false;
        };
        let tag = &r[..e];
        if tag.trim().is_empty() || tag.len() > 40 || tag.contains(['"', '\'', '{', '[', ',']) {
            return false;
        }
        tags += 1;
        rest = &r[e + 1..];
    }
    tags > 0
        && rest
            .trim_start()
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || matches!(b, b'-' | b':'))
}

/// Whether short text holds a long wording of a connection or timeout record.
fn transport_wording(lower: &str) -> bool {
    lower.len() <= 4000
        && crate::generated::errors::ERROR_RULES
            .iter()
            .filter(|r| matches!(r.category, Category::Connection | Category::Timeout))
            .flat_map(|r| r.messages.iter())
            .any(|m| long_wording(m) && lower.contains(m))
}

fn plain_text(text: &str, lower: &str, c: &mut Collector) {
    let t = text.trim_start();
    let document = t.starts_with('{')
        || (t.starts_with('[') && !log_tags(t))
        || t.starts_with("data:")
        || t.starts_with("event:")
        || document_in_prose(t);
    // Source code that names exceptions (`except openai.RateLimitError:`) is not an error.
    let code_lines = text
        .lines()
        .map(str::trim)
        .filter(|l| {
            [
                "import ",
                "from ",
                "def ",
                "class ",
                "try:",
                "try {",
                "except",
                "catch",
                "} catch",
                "finally:",
                "} finally",
                "if isinstance(",
                "elif isinstance(",
                "rescue ",
                "const ",
                "let ",
                "await ",
                "return ",
                "function ",
            ]
            .iter()
            .any(|p| l.starts_with(p))
                || l.ends_with(';')
                // Ruby's block words, alone on their lines (`begin … rescue X => e … retry … end`).
                || matches!(*l, "begin" | "end" | "retry" | "ensure")
        })
        .take(2)
        .count();
    // A gateway's own JSON envelope whose text names a lost connection (Portkey's
    // `{"status": 200, "body": {"html-message": "Network connection lost."}}`) is read as prose.
    let transport_json = c.cues.json && document && !c.has_structure() && transport_wording(lower);
    // A map no reader could take as an error body (a Clojure map's `:message Input tokens
    // exceed …`) whose text holds a long wording of the taxonomy is read as prose too.
    let wording_json = c.cues.json && document && !c.has_structure() && known_wording(lower);
    if c.has_structure()
        || (c.cues.json && document && !transport_json && !wording_json)
        || code_lines >= 2
        || c.local_failure
    {
        // A JSON value without an error in it (a successful response) is not an error.
        return;
    }
    // The Node SDK's `401 Invalid model key …` (or a proxy's `429 当前分组…`) copied alone: a
    // status at the very start, then the message.
    let status_first = status_line(t).is_some();
    if !status_first && !ERRORISH.iter().any(|w| lower.contains(w)) && !known_wording(lower) {
        return;
    }
    let t = text.trim();
    let msg = if t.len() <= 2000 {
        t
    } else {
        t.lines()
            .find(|l| {
                let l = l.to_ascii_lowercase();
                ERRORISH.iter().any(|w| l.contains(w))
            })
            .unwrap_or("")
            .trim()
    };
    let mut end = msg.len().min(2000);
    while !msg.is_char_boundary(end) {
        end -= 1;
    }
    // The Node SDK's words copied alone: `401 Invalid model key or …`.
    if let Some((s, pos)) = status_line(msg) {
        c.status(s, prio::EXCEPTION, pos);
    }
    c.message(&msg[..end], prio::WORDING, 0);
}

/// The first line that opens with an error status and its message (`429 当前分组…`), the same
/// with prose on the lines around it or a logger's head before it on its line (`2026-12-07
/// 10:31:02,123 ERROR app.module: 401 Invalid model key …`), and the line's offset.
fn status_line(text: &str) -> Option<(u16, usize)> {
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let l = line.trim_start();
        let l = &l[super::present::log_head_len(l)..];
        if let Some(s) = status_then_message(l.as_bytes()) {
            return Some((s, pos));
        }
        pos += line.len();
    }
    None
}

/// Whether a JSON document or an SSE stream stands on lines of its own with prose around it that
/// names no error and opens no line with a status (`Here is what came back:\n{…}\nAny idea?`): it is
/// read as the document alone, which a paste that opens with it would be.
fn document_in_prose(text: &str) -> bool {
    let sse = |l: &str| {
        ["data:", "event:", "id:", "retry:", ":"]
            .iter()
            .any(|p| l.starts_with(p))
    };
    let mut start = None;
    let mut end = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let l = line.trim();
        let opens = l.starts_with('{')
            || (l.starts_with('[') && !log_tags(l))
            || l.starts_with("data:")
            || l.starts_with("event:");
        if start.is_none() && opens {
            start = Some(pos);
        }
        if start.is_some() && (l.ends_with('}') || l.ends_with(']') || (sse(l) && !l.is_empty())) {
            end = pos + line.trim_end().len();
        }
        pos += line.len();
    }
    let Some(start) = start.filter(|s| *s > 0 && end > *s) else {
        return false;
    };
    let block = &text[start..end];
    let whole = if block.starts_with(['{', '[']) {
        serde_json::from_str::<serde::de::IgnoredAny>(block).is_ok()
    } else {
        block.lines().map(str::trim).all(|l| l.is_empty() || sse(l))
    };
    if !whole {
        return false;
    }
    let outside = [&text[..start], &text[end..]];
    outside.iter().all(|o| {
        let lower = o.to_ascii_lowercase();
        !ERRORISH.iter().any(|w| lower.contains(w)) && status_line(o).is_none()
    })
}

/// An error status at the very start, then a space and the message: a capital or non-ASCII
/// letter (`401 Invalid model key`, `429 当前分组…`), or the bullet of Google's list of field
/// violations (`400 * GenerateContentRequest.model: unexpected model name format`).
fn status_then_message(b: &[u8]) -> Option<u16> {
    let s = three_digits(b).filter(|s| (400..=599).contains(s))?;
    let opens = match b.get(4) {
        Some(b'*') => b.get(5) == Some(&b' '),
        Some(ch) => ch.is_ascii_uppercase() || !ch.is_ascii(),
        None => false,
    };
    (b.get(3) == Some(&b' ') && opens).then_some(s)
}
