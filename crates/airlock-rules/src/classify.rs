//! From evidence to a diagnosis, using the generated rule tables.
//!
//! # How a rule is chosen
//! The evidence is matched against the tables generated from `rules/errors/*.toml`, one key at a
//! time, in this order: the exact error `code`, the words of a code no record knows exactly, the
//! error `type`, the message wording
//! (case-insensitive substrings of the message or an HTML page title; a phrase of several words
//! must start a word, see `holds`), the exception class name,
//! the transport (no response), and the HTTP status (exact, then a range such as 5xx). Each key
//! yields at most one candidate rule. The chosen rule is the candidate with the highest
//! `precedence`; among equals, the earliest key wins. Precedence is what lets the more specific
//! reading win (`rules/README.md`):
//!
//! - `2`: a category the taxonomy says wins over what a code or status alone says: context
//!   length, content policy, quota and billing, "Request too large", "model overloaded";
//! - `1`: a wording that says more than its code (which rate limit, a project without model access,
//!   a deactivated account);
//! - `0`: ordinary records, and every status and transport record;
//! - `-1`: generic records (`invalid_request_error`, `server_error`, reason phrases, "Slow Down",
//!   transport wordings) that a stated status or a code should override.
//!
//! Among several wordings that match, the one with the highest precedence wins, then the longest.
//! A class name is the weakest key: an SDK or a wrapper picks its class from the status or from a
//! guess (LiteLLM's `ContentPolicyViolationError` around an invalid schema), so a class name
//! counts only when no wording of precedence 0 or more matched.
//!
//! The category is the **cause**, wherever the error arrived: a rate limit inside a stream is
//! `rate_limit`, an `invalid_prompt` in a Batch line is `content_policy`. `stream_error` is left
//! for a stream that broke or failed without showing why, `batch_error` for Batch causes (the
//! records of `batch_stream.toml`). Where it arrived is [`Delivery`], and how sure the reading is
//! [`Confidence`]: `certain` when OpenAI's code decided it or two keys that are two facts agree on
//! the category (a generic record restates another key; a transport the class gave is the class),
//! `likely` when one key alone did or a stream's or Batch job's fallback was read from recognized
//! evidence, `guess` when nothing known matched.

use alloc::format;
use alloc::string::{String, ToString};

use crate::diagnosis::{Confidence, Delivery, Diagnosis, RetryAdvice, SdkNames};
use crate::evidence::{Evidence, Format, Transport};
use crate::generated::errors::{ERROR_RULES, STATUS_RULES};
use crate::ratelimit::{self, LimitKind, RateLimitHeaders, RateLimitInfo};
use crate::{Category, RetryDecision, retry};

/// A failure where no response arrived.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoResponse {
    /// The connection failed (DNS, refused, reset, TLS).
    Connection,
    /// No answer within the time allowed.
    Timeout,
}

/// One record of the error taxonomy, as generated from `rules/errors/*.toml`.
#[derive(Debug)]
pub(crate) struct Rule {
    /// The record's `name`.
    pub(crate) name: &'static str,
    /// The category it gives.
    pub(crate) category: Category,
    /// The retry decision it gives.
    pub(crate) retry: RetryDecision,
    /// How strongly it overrides matches on earlier keys (-1 to 2; status records 0).
    pub(crate) precedence: i8,
    /// The status a status record stands for (or a range's low end), or an error's usual status.
    pub(crate) status: Option<u16>,
    /// A status range's high end.
    pub(crate) status_max: Option<u16>,
    /// The no-response case a transport record stands for.
    pub(crate) transport: Option<Transport>,
    /// Error codes (lowercase) that select this record.
    pub(crate) codes: &'static [&'static str],
    /// Error types (lowercase) that select this record.
    pub(crate) types: &'static [&'static str],
    /// Lowercase message substrings that select this record.
    pub(crate) messages: &'static [&'static str],
    /// Exception class names (bare, or qualified with dots) that select this record.
    pub(crate) exceptions: &'static [&'static str],
    /// Python SDK v1 class (status and transport records).
    pub(crate) python: Option<&'static str>,
    /// Node SDK class (status and transport records).
    pub(crate) node: Option<&'static str>,
    /// Legacy v0 Python SDK class (status and transport records).
    pub(crate) python_v0: Option<&'static str>,
    /// What it means.
    pub(crate) meaning: &'static str,
    /// The first fix.
    pub(crate) first_fix: &'static str,
}

/// Which key of the evidence selected a candidate, in match order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Via {
    Code,
    /// The words of a code no record knows exactly (`quota_not_enough`, a Google `quotaId`).
    CodeWords,
    Type,
    Message,
    Exception,
    Transport,
    Status,
}

#[derive(Clone, Copy, Debug)]
struct Candidate {
    rule: &'static Rule,
    via: Via,
}

fn all_rules() -> impl Iterator<Item = &'static Rule> {
    STATUS_RULES.iter().chain(ERROR_RULES.iter())
}

fn rule_named(name: &str) -> &'static Rule {
    // The generator checks that the records the classifier names exist.
    all_rules()
        .find(|r| r.name == name)
        .unwrap_or(&ERROR_RULES[0])
}

/// A key as sent, or `None` when it is empty or a null spelled out.
fn present(v: Option<&str>) -> Option<&str> {
    let v = v?.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    let null = v.is_empty()
        || v.eq_ignore_ascii_case("null")
        || v.eq_ignore_ascii_case("none")
        || v.eq_ignore_ascii_case("nil")
        || v.eq_ignore_ascii_case("undefined");
    (!null).then_some(v)
}

/// An HTTP status written where the code goes (`{"code": 502, "type": "cf_bad_gateway"}`).
fn numeric_status(code: Option<&str>) -> Option<u16> {
    let code = present(code)?;
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    code.parse().ok().filter(|s| (100..=599).contains(s))
}

/// An HTTP status written in prose ("the server responded with status 429", "status code: 503",
/// "HTTP 502", "Error code: 400"), for readers that kept only the message.
fn status_in_text(text: &str) -> Option<u16> {
    let lower = text.to_ascii_lowercase();
    for marker in [
        // Alamofire (Swift): `Response status code was unacceptable: 404.`
        "status code was unacceptable",
        "status code",
        "statuscode",
        "status",
        "error code",
        "http/1.1",
        "http/2",
        "http",
        // Google Apps Script: `Request failed with response code 401`.
        "response code",
        // A client that names the status after the word (gpt4free: `Response 502: <html>`).
        "response",
    ] {
        let mut from = 0;
        while let Some(i) = lower[from..].find(marker) {
            let after = from + i + marker.len();
            from = after;
            let rest = lower[after..].trim_start_matches([' ', ':', '=', '(']);
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if digits.len() == 3
                && let Ok(status) = digits.parse::<u16>()
                && (400..=599).contains(&status)
            {
                return Some(status);
            }
        }
    }
    None
}

/// A known code written as `code: …` or `error=…` in prose or a log line (`HTTP 400
/// invalid_request_error, param: previous_response_id, code: previous_response_not_found`,
/// `(error=unsupported_country)`), or after its type and a dot (`invalid_request_error.…`), for
/// readers that kept only the message. Only multi-word codes count, so a plain word after
/// `Error:` (`Error: failed to …`) is never taken for one.
fn code_in_text(text: &str) -> Option<&'static Rule> {
    code_written_in_text(text).map(|(_, r)| r)
}

/// The known code [`code_in_text`] finds, as the record spells it, with its record.
fn code_written_in_text(text: &str) -> Option<(&'static str, &'static Rule)> {
    let lower = text.to_ascii_lowercase();
    let b = lower.as_bytes();
    for key in ["code", "error"] {
        let mut from = 0;
        while let Some(i) = lower[from..].find(key) {
            let start = from + i;
            from = start + key.len();
            // The key is a word of its own: not the end of `status_code` or `errcode`.
            if start > 0 && (b[start - 1].is_ascii_alphanumeric() || b[start - 1] == b'_') {
                continue;
            }
            let rest = lower[from..].trim_start_matches([' ', '"', '\'']);
            let Some(rest) = rest.strip_prefix([':', '=']) else {
                continue;
            };
            let rest = rest.trim_start_matches([' ', '"', '\'', '`']);
            if let Some(found) = known_code_at(rest) {
                return Some(found);
            }
        }
    }
    // A code written after its error type with a dot, as a Realtime WebSocket's close reason
    // gives it (`received 4000 (private use) invalid_request_error.beta_api_shape_disabled`):
    // only a type a record knows, and a multi-word code.
    let mut from = 0;
    while let Some(i) = lower[from..].find("_error.") {
        let dot = from + i + "_error".len();
        from = dot + 1;
        // After the last character that is not part of the type, whatever its width in bytes.
        let start = lower[..dot]
            .char_indices()
            .rev()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |(s, c)| s + c.len_utf8());
        if by_type(&lower[start..dot]).is_none() {
            continue;
        }
        if let Some(found) = known_code_at(&lower[dot + 1..]) {
            return Some(found);
        }
    }
    None
}

/// The multi-word code a record knows at the start of `rest` (lower case), as the record spells it.
fn known_code_at(rest: &str) -> Option<(&'static str, &'static Rule)> {
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let token = &rest[..end];
    if !token.contains('_') {
        return None;
    }
    let rule = by_code(token)?;
    let spelled = rule.codes.iter().find(|c| c.eq_ignore_ascii_case(token))?;
    Some((spelled, rule))
}

/// The parameter an OpenAI 400 wording names: `Invalid 'file_ids': array too long…`,
/// `Unknown parameter: 'foo'.`, `Missing required parameter: 'tools[0].name'.`, `Unsupported
/// parameter: 'max_tokens' is not supported…`; the path between the quotes, as the API's `param`.
fn param_in_message(message: &str) -> Option<String> {
    for lead in [
        "Invalid '",
        "Unknown parameter: '",
        "Missing required parameter: '",
        "Unsupported parameter: '",
    ] {
        let Some(k) = message.find(lead) else {
            continue;
        };
        // The wording opens the message or a sentence of it, not a quote inside other prose.
        let before = message[..k].trim_end();
        if !(before.is_empty() || before.ends_with([':', '.', '-', '"', '\''])) {
            continue;
        }
        let rest = &message[k + lead.len()..];
        let end = rest.find('\'')?;
        let path = &rest[..end];
        if !path.is_empty()
            && path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'[' | b']' | b'-'))
        {
            return Some(path.into());
        }
    }
    google_field_violation(message).or_else(|| schema_path_in_message(message))
}

/// The field a Google API list of field violations names: `* GenerateContentRequest.model:
/// unexpected model name format`, `* GenerateContentRequest.contents[3].parts[0].function_response
/// .name: Name cannot be empty.`; the path after the request message's name, as the `param`.
fn google_field_violation(message: &str) -> Option<String> {
    for (k, _) in message.match_indices("Request.") {
        let head = &message[..k];
        // After the last character that is not ASCII alphanumeric, whatever its width in bytes.
        let name_at = head
            .char_indices()
            .rev()
            .find(|&(_, ch)| !ch.is_ascii_alphanumeric())
            .map_or(0, |(i, ch)| i + ch.len_utf8());
        let name = &head[name_at..];
        // The bullet, then a message name in CamelCase (`GenerateContentRequest`).
        if !head[..name_at].ends_with("* ") || !name.starts_with(|ch: char| ch.is_ascii_uppercase())
        {
            continue;
        }
        let rest = &message[k + "Request.".len()..];
        let end = rest
            .find(|ch: char| !(ch.is_ascii_alphanumeric() || matches!(ch, '_' | '.' | '[' | ']')))
            .unwrap_or(rest.len());
        let path = rest[..end].trim_end_matches('.');
        if !path.is_empty() && rest[end..].starts_with(':') {
            return Some(path.into());
        }
    }
    None
}

/// The path a JSON-schema validation message ends with, after ` - `: the API's older 400s
/// (`'512x512' is not one of ['1024x1024', …] - 'size'`, `None is not of type 'string' -
/// 'suffix'`) name the failing field there, as the API's `param`.
fn schema_path_in_message(message: &str) -> Option<String> {
    const FAILURES: [&str; 8] = [
        "is not one of",
        "is not of type",
        "is too long",
        "is too short",
        "is a required property",
        "is greater than",
        "is less than",
        "is not valid under",
    ];
    let k = message.rfind(" - '")?;
    if !FAILURES.iter().any(|f| message[..k].contains(f)) {
        return None;
    }
    let rest = &message[k + 4..];
    let end = rest.find('\'')?;
    let path = &rest[..end];
    let after = rest[end + 1..].trim();
    let closes = after
        .bytes()
        .all(|b| matches!(b, b'.' | b'"' | b'\'' | b'}' | b')' | b','));
    (!path.is_empty()
        && closes
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'[' | b']' | b'-')))
    .then(|| path.into())
}

fn by_code(code: &str) -> Option<&'static Rule> {
    ERROR_RULES
        .iter()
        .find(|r| r.codes.iter().any(|c| c.eq_ignore_ascii_case(code)))
}

fn by_type(error_type: &str) -> Option<&'static Rule> {
    ERROR_RULES
        .iter()
        .find(|r| r.types.iter().any(|t| t.eq_ignore_ascii_case(error_type)))
}

/// Whether the (lowercased) `text` holds `pattern`. A phrase (a pattern of several words) must
/// start a word: "stream error" is not in "upstream error". Two exceptions keep what pastes do to
/// words: a phrase glued to an ID whose space was lost (`proj_…0123456indoes not have access`:
/// the word before it holds a digit or an underscore) still counts, and a single token
/// (`econnreset`, `sslerror`) may sit inside a longer name (`ClientSSLError`), as class names are
/// written.
fn holds(text: &str, pattern: &str) -> bool {
    if !pattern.contains(' ') || !pattern.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return text.contains(pattern);
    }
    text.match_indices(pattern).any(|(k, _)| {
        // "Background fetch failed: HTTP 400": a failure that names the status it received is
        // not a failure to connect; the status says what happened.
        if pattern.ends_with(" failed") && status_follows(&text[k + pattern.len()..]) {
            return false;
        }
        let word = &text[..k];
        let glued = word
            .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
            .unwrap_or("");
        glued.is_empty() || glued.bytes().any(|b| b.is_ascii_digit() || b == b'_')
    })
}

/// Whether (lowercased) `rest` starts by naming an HTTP status: `: http 400`, ` with status
/// code 429`, `: http/1.1 502`, ` (status 500)`. A bare number (`tunnel connection failed: 403`, a
/// proxy's answer) does not count.
fn status_follows(rest: &str) -> bool {
    let mut r = rest.trim_start_matches([':', ' ', ',', '-', '(']);
    r = r.strip_prefix("with ").unwrap_or(r);
    let r = if let Some(v) = r.strip_prefix("http/") {
        v.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.')
    } else if let Some(v) = ["http ", "status code ", "status ", "code "]
        .iter()
        .find_map(|w| r.strip_prefix(w))
    {
        v
    } else {
        return false;
    };
    let d = r.trim_start().as_bytes();
    d.len() >= 3
        && (b'1'..=b'5').contains(&d[0])
        && d[1].is_ascii_digit()
        && d[2].is_ascii_digit()
        && d.get(3).is_none_or(|c| !c.is_ascii_digit())
}

/// The best wording match over the given texts: highest precedence, then the longest pattern.
/// When no wording is found, a text whose spaces were lost (a title typed or pasted without
/// them: `module'openai'hasnoattribute'error`) is read again without spaces, against the long
/// phrases only (16 characters or more once their spaces are gone), so that a short word cannot
/// turn up inside another.
fn by_message(texts: &[&str]) -> Option<&'static Rule> {
    let lowered: alloc::vec::Vec<String> = texts
        .iter()
        .map(|t| without_accepted_values(&t.to_lowercase()))
        .collect();
    best_wording(|pattern| lowered.iter().any(|t| holds(t, pattern))).or_else(|| {
        let compact: alloc::vec::Vec<String> = lowered.iter().map(|t| without_spaces(t)).collect();
        best_wording(|pattern| {
            pattern.contains(' ') && {
                let p = without_spaces(pattern);
                p.len() >= MIN_COMPACT_WORDING && compact.iter().any(|t| t.contains(p.as_str()))
            }
        })
    })
}

/// Where a decoder starts listing the values it would have accepted (serde's `unknown variant
/// ``, expected one of `stop`, `length`, `content_filter``, Jackson's `not one of the values
/// accepted for Enum class: [stop, content_filter]`).
const ACCEPTED_VALUES: [&str; 2] = ["expected one of", "values accepted for enum class"];

/// `text` (lowercased) without the lists of accepted values a decoder prints, each cut from its
/// marker to the end of its line: those words name what a type allows, not what went wrong, so a
/// client that refused a chunk whose `finish_reason` was `""` is not a content filter.
fn without_accepted_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((k, marker)) = ACCEPTED_VALUES
        .iter()
        .filter_map(|m| rest.find(m).map(|k| (k, *m)))
        .min_by_key(|(k, _)| *k)
    {
        out.push_str(&rest[..k + marker.len()]);
        rest = &rest[k + marker.len()..];
        rest = rest.find('\n').map_or("", |e| &rest[e..]);
    }
    out.push_str(rest);
    out
}

/// The shortest phrase, its spaces removed, that a text without spaces is matched against.
const MIN_COMPACT_WORDING: usize = 16;

fn without_spaces(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The wording `found` accepts with the highest precedence, then the longest pattern.
fn best_wording(found: impl Fn(&str) -> bool) -> Option<&'static Rule> {
    let mut best: Option<(&'static Rule, i8, usize)> = None;
    for rule in ERROR_RULES {
        for pattern in rule.messages {
            if !found(pattern) {
                continue;
            }
            let better = match best {
                None => true,
                Some((_, p, len)) => (rule.precedence, pattern.len()) > (p, len),
            };
            if better {
                best = Some((rule, rule.precedence, pattern.len()));
            }
        }
    }
    best.map(|(r, _, _)| r)
}

/// The precedence of the best wording `text` holds, if it holds one (the readers use it to keep
/// the API's own sentence beside an app's label that names a weaker cause).
pub(crate) fn wording_precedence(text: &str) -> Option<i8> {
    by_message(&[text]).map(|r| r.precedence)
}

/// Whether exception `name` (as found, maybe qualified: `openai.error.RateLimitError`) is `entry`.
/// A bare entry matches the last dotted segment; a qualified entry matches the end of the name.
fn exception_is(name: &str, entry: &str) -> bool {
    let name = name.trim().trim_end_matches(':').trim_end_matches("()");
    if entry.contains('.') {
        let n = name.len();
        let e = entry.len();
        // `get`, not `[..]`: `n - e` may fall inside a multibyte character of the name.
        n >= e
            && name
                .get(n - e..)
                .is_some_and(|t| t.eq_ignore_ascii_case(entry))
            && (n == e || name.as_bytes()[n - e - 1] == b'.')
    } else {
        // `.` (Java, Python, C#), `:` (Ruby), `$` (JVM inner classes), `\` (PHP namespaces).
        let last = name.rsplit(['.', ':', '$', '\\']).next().unwrap_or(name);
        last.eq_ignore_ascii_case(entry)
    }
}

fn by_exception(name: &str) -> Option<&'static Rule> {
    all_rules().find(|r| r.exceptions.iter().any(|e| exception_is(name, e)))
}

fn by_transport(t: Transport) -> Option<&'static Rule> {
    STATUS_RULES.iter().find(|r| r.transport == Some(t))
}

fn is_status_record(r: &Rule) -> bool {
    STATUS_RULES.iter().any(|s| core::ptr::eq(s, r))
}

fn by_status(status: u16) -> Option<&'static Rule> {
    STATUS_RULES
        .iter()
        .find(|r| r.status == Some(status) && r.status_max.is_none())
        .or_else(|| {
            STATUS_RULES
                .iter()
                .find(|r| match (r.status, r.status_max) {
                    (Some(lo), Some(hi)) => (lo..=hi).contains(&status),
                    _ => false,
                })
        })
}

/// The candidates each key of the evidence selects, in match order.
fn candidates(e: &Evidence, stated_status: Option<u16>) -> alloc::vec::Vec<Candidate> {
    let mut out = alloc::vec::Vec::new();
    let mut push = |rule: Option<&'static Rule>, via: Via| {
        if let Some(rule) = rule {
            out.push(Candidate { rule, via });
        }
    };
    let code = present(e.code.as_deref())
        .or_else(|| present(e.batch_status.as_deref()).filter(|_| e.code.is_none()));
    let code_rule = code.and_then(by_code).or_else(|| {
        e.code
            .is_none()
            .then(|| e.message.as_deref().and_then(code_in_text))
            .flatten()
    });
    push(code_rule, Via::Code);
    push(
        present(e.error_type.as_deref()).and_then(by_type),
        Via::Type,
    );
    // A code no record knows exactly is read for its words (`quota_not_enough`,
    // `OutputImageSensitiveContentDetected`): providers and relays name the cause in their codes.
    let code_words = code
        .filter(|_| code_rule.is_none())
        .filter(|c| !c.bytes().all(|b| b.is_ascii_digit()))
        .map(code_as_words);
    // The code's words are a key of their own, ahead of the message: a provider's code names
    // its cause more exactly than a sentence it may have copied (Gemini's free-tier quotaId
    // `GenerateRequestsPerDayPerProjectPerModel-FreeTier` under OpenAI's "You exceeded your
    // current quota" is a per-day limit that resets, not a balance used up).
    let code_words_rule = code_words.as_deref().and_then(|w| by_message(&[w]));
    push(code_words_rule, Via::CodeWords);
    let texts: alloc::vec::Vec<&str> = [e.message.as_deref(), e.html_title.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let message_rule = by_message(&texts);
    push(message_rule, Via::Message);
    // A stated status is more exact than an SDK class that covers several statuses
    // (`InternalServerError` for every 5xx, `InvalidRequestError` for 400/404/415).
    // A wrapper's class (LiteLLM's `ContextWindowExceededError`, guessed from wording) does not
    // outrank the code OpenAI itself sent in the body it wraps, and a wording that names a
    // cause beats the class an SDK or wrapper chose for it.
    let named = message_rule.is_some_and(|r| r.precedence >= 0)
        || code_words_rule.is_some_and(|r| r.precedence >= 0);
    // A message that begins with an HTTP reason phrase (LiteLLM's `APIConnectionError:
    // OpenAIException - Service Unavailable`) says an answer with that status arrived, so a
    // connection class a wrapper chose for it, or the transport read from that class, does not
    // apply: the phrase's own record reads it.
    let answered =
        e.message.as_deref().is_some_and(begins_with_reason_phrase) && message_rule.is_some();
    // A status whose own record is a connection failure (a proxy's 407) says more than the
    // connection class a client raised for it (httpx's `ProxyError: 407 Proxy Authentication
    // Required`): the proxy answered why it refused, and its record carries that retry decision.
    let proxy_answered = stated_status
        .and_then(by_status)
        .is_some_and(|s| s.transport.is_none() && s.category == Category::Connection);
    let exception = present(e.exception.as_deref())
        .and_then(by_exception)
        .filter(|r| stated_status.is_none() || !is_status_record(r) || r.transport.is_some())
        .filter(|r| code_rule.is_none() || is_status_record(r))
        .filter(|r| !named || r.transport.is_some())
        // The readers read the class with its message: a timeout class whose message says the
        // connect phase timed out (Java's `SocketTimeoutException: Connect timed out`) is a
        // connection never made, not the timeout its name alone gives.
        .filter(|r| r.transport.is_none() || e.transport.is_none() || r.transport == e.transport)
        // One class can be raised both for a connection never made and for an answer that came
        // back with an error status: .NET's `HttpRequestException` is also what
        // `EnsureSuccessStatusCode` throws, its message stating the status it got ("Response
        // status code does not indicate success: 404 (Not Found)."). That answer arrived, so the
        // transport the class name gives does not apply; the stated status reads it.
        .filter(|r| {
            r.transport.is_none()
                || stated_status.is_none()
                || !e.message.as_deref().is_some_and(reports_response_status)
        })
        .filter(|r| !((answered || proxy_answered) && r.transport == Some(Transport::Connection)));
    push(exception, Via::Exception);
    push(
        e.transport
            .filter(|t| !((answered || proxy_answered) && *t == Transport::Connection))
            .and_then(by_transport),
        Via::Transport,
    );
    // A 404 answered by an HTML page (an edge server's, not OpenAI's JSON error) says the path
    // does not exist there: the URL must change, where a JSON 404 may be an object that is gone.
    // So does a 404 whose body a client could not decode as OpenAI's error JSON (go-openai's
    // `json: cannot unmarshal … into Go value of type openai.ErrorResponse`): another server's
    // page answered for that path.
    let no_body_code = e.code.is_none() && e.error_type.is_none();
    let html_404 =
        stated_status == Some(404) && e.html_title.is_some() && e.message.is_none() && no_body_code;
    let undecodable_404 = stated_status == Some(404)
        && no_body_code
        && e.message.as_deref().is_some_and(|m| {
            let m = m.to_ascii_lowercase();
            m.contains("errorresponse")
                && (m.contains("cannot unmarshal") || m.contains("invalid character"))
        });
    let html_404 = html_404 || undecodable_404;
    let status_rule = if html_404 {
        Some(rule_named("route_not_found"))
    } else {
        stated_status.and_then(by_status)
    };
    push(status_rule, Via::Status);
    out
}

/// Whether `m` begins with the reason phrase of a status a server or gateway answers with when it
/// fails (`Service Unavailable`, `Bad Gateway`), as a whole phrase: `Service Unavailable Retrying
/// in 0.2 seconds...` does, `Bad Gateways` does not.
fn begins_with_reason_phrase(m: &str) -> bool {
    const PHRASES: &[&str] = &[
        "service unavailable",
        "bad gateway",
        "gateway timeout",
        "internal server error",
        "too many requests",
    ];
    let t = m.trim_start();
    PHRASES.iter().any(|p| {
        t.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p))
            && t.get(p.len()..)
                .is_some_and(|rest| !rest.starts_with(|c: char| c.is_alphanumeric()))
    })
}

/// Whether an exception's message is the status line of an answer the client got and refused,
/// not a transport failure: .NET's `EnsureSuccessStatusCode` ("Response status code does not
/// indicate success: 429 (Too Many Requests).").
pub(crate) fn reports_response_status(message: &str) -> bool {
    message
        .to_ascii_lowercase()
        .contains("status code does not indicate success")
}

/// A code's words: `quota_not_enough` → `quota not enough`; a CamelCase code stays one word, in
/// which a one-word wording may sit (`outputimagesensitivecontentdetected`).
fn code_as_words(code: &str) -> String {
    code.chars()
        .map(|ch| match ch {
            '_' | '-' | '.' => ' ',
            _ => ch.to_ascii_lowercase(),
        })
        .collect()
}

/// The first candidate with the highest precedence.
fn choose(cands: &[Candidate]) -> Option<Candidate> {
    let mut best: Option<Candidate> = None;
    for c in cands {
        match best {
            Some(b)
                if (b.rule.precedence, core::cmp::Reverse(b.via))
                    >= (c.rule.precedence, core::cmp::Reverse(c.via)) => {}
            _ => best = Some(*c),
        }
    }
    best
}

fn sdk_names(rule: Option<&Rule>) -> SdkNames {
    match rule {
        Some(r) => SdkNames {
            python: r.python.map(String::from),
            node: r.node.map(String::from),
            python_v0: r.python_v0.map(String::from),
        },
        None => SdkNames::default(),
    }
}

/// The limit named by the API's 2022 wording (`Rate limit reached for tokens. Limit: 150000.000000
/// / min. Current: …`), which gives the unit but not the usual phrase.
fn early_kind(message: &str) -> Option<LimitKind> {
    let lower = message.to_ascii_lowercase();
    let per_min = lower.contains("/ min");
    if lower.contains("rate limit reached for tokens") && per_min {
        Some(LimitKind::Tpm)
    } else if lower.contains("rate limit reached for requests") && per_min {
        Some(LimitKind::Rpm)
    } else {
        None
    }
}

/// The limit a per-kind rate-limit record stands for.
fn kind_of_rule(name: &str) -> Option<LimitKind> {
    match name {
        "rate_limit_requests_per_minute" => Some(LimitKind::Rpm),
        "rate_limit_requests_per_day" => Some(LimitKind::Rpd),
        "rate_limit_tokens_per_minute" => Some(LimitKind::Tpm),
        "rate_limit_tokens_per_day" => Some(LimitKind::Tpd),
        "rate_limit_images_per_minute" => Some(LimitKind::Ipm),
        _ => None,
    }
}

/// The reset of the limit family that was hit, in milliseconds.
fn header_reset_ms(h: &RateLimitHeaders, kind: Option<LimitKind>) -> Option<u64> {
    let requests = h.requests.as_ref();
    let tokens = h.tokens.as_ref();
    let family = match kind {
        Some(LimitKind::Rpm | LimitKind::Rpd | LimitKind::Ipm) => requests,
        Some(LimitKind::Tpm | LimitKind::Tpd) => tokens,
        _ => [requests, tokens]
            .into_iter()
            .flatten()
            .find(|w| w.remaining == Some(0)),
    };
    match family {
        Some(w) => w.reset_ms,
        None => [requests, tokens]
            .into_iter()
            .flatten()
            .filter_map(|w| w.reset_ms)
            .max(),
    }
}

/// A request ID quoted in a message: `req_…`, or the token after "request ID" (older messages quote
/// a hex or UUID ID: "Please include the request ID 05db48fb-… in your message").
fn request_id_in(message: &str) -> Option<String> {
    let token = |from: &str| -> String {
        from.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect()
    };
    if let Some(start) = message.find("req_") {
        let id = token(&message[start..]);
        if id.len() > 8 {
            return Some(id);
        }
    }
    let lower = message.to_ascii_lowercase();
    let at = lower.find("request id")? + "request id".len();
    let rest = message[at..].trim_start_matches([' ', ':', '=']);
    let id = token(rest);
    (id.len() >= 8 && id.bytes().any(|b| b.is_ascii_digit())).then_some(id)
}

/// Whether the evidence is a response that failed (`status: failed`, `response.failed`), not an
/// error event.
fn failed_response(e: &Evidence) -> bool {
    present(e.error_type.as_deref()).is_some_and(|t| t.eq_ignore_ascii_case("failed"))
        || e.stream_event
            .as_deref()
            .is_some_and(|s| s == "response.failed" || s == "response.done")
}

/// Diagnoses what the readers found.
///
/// Never fails: evidence that matches nothing known gets the `unrecognized` record (or the
/// stream / batch fallback when it came from a stream or a Batch job).
///
/// # Example
/// ```
/// use airlock_rules::{diagnose, Category, Evidence, RetryDecision};
///
/// let mut e = Evidence::default();
/// e.status = Some(429);
/// e.code = Some("insufficient_quota".into());
/// let d = diagnose(&e);
/// assert_eq!(d.category, Category::Quota);
/// assert_eq!(d.retry.decision, RetryDecision::No);
/// assert_eq!(d.sdk.python.as_deref(), Some("openai.RateLimitError"));
/// ```
pub fn diagnose(evidence: &Evidence) -> Diagnosis {
    let in_stream = evidence.in_stream || evidence.stream_event.is_some() || evidence.realtime;
    let in_batch = !in_stream
        && (evidence.in_batch || evidence.batch_status.is_some() || evidence.custom_id.is_some());
    let stated_status = evidence
        .status
        .or_else(|| numeric_status(evidence.code.as_deref()))
        .or_else(|| evidence.message.as_deref().and_then(status_in_text));

    let cands = candidates(evidence, stated_status);
    let chosen = choose(&cands);
    let cause: &'static Rule = match chosen {
        Some(c) => c.rule,
        // A Realtime response that failed without showing why is the stream's failure (issue 13);
        // any other unknown Realtime error event refused one client event.
        None if evidence.realtime && !failed_response(evidence) => rule_named("unrecognized"),
        None if in_stream => rule_named("stream_error"),
        // A run or response object that ended `failed` without its error (read from the object,
        // not a stream): the same cause, named for what was polled. A body that only calls its
        // type `failed` but says something is left to the message.
        None if failed_response(evidence) && present(evidence.message.as_deref()).is_none() => {
            rule_named("run_failed_unshown")
        }
        None if in_batch => rule_named(match evidence.batch_status.as_deref() {
            // Still running or done, yet named as a problem: some of its requests failed.
            Some("completed" | "finalizing" | "in_progress") => "batch_requests_failed",
            Some("expired") => "batch_expired",
            Some("cancelled" | "cancelling") => "batch_cancelled",
            // One line of an output or error file that failed without saying why.
            None if evidence.custom_id.is_some() => "batch_line_failed",
            _ => "batch_failed",
        }),
        None => rule_named("unrecognized"),
    };

    // The category is the cause, wherever it arrived (the fallbacks above are the stream and
    // Batch causes when none is shown).
    // A connection lost mid-stream is the stream cut, not a connection never made.
    // So is a Realtime session whose socket was cut after it began (the readers saw the stream's
    // own words, `no close frame received`), where a Realtime connection that failed to open stays
    // a connection.
    let cut = in_stream
        && (!evidence.realtime || evidence.in_stream)
        && cause.category == Category::Connection;
    // A Batch object's own errors are the job's validation of its input lines: a Batch cause.
    let job = in_batch && evidence.custom_id.is_none() && evidence.batch_status.is_some();
    let category = if cut {
        Category::StreamError
    } else if job {
        Category::BatchError
    } else {
        cause.category
    };
    // The status an SDK class stands for: v0's `RateLimitError` was raised for a 429 whatever its
    // message said, and openai-python's `InternalServerError` for a 5xx that arrived.
    let class_status = present(evidence.exception.as_deref())
        .and_then(by_exception)
        .filter(|r| is_status_record(r) && r.status_max.is_none() && r.transport.is_none())
        .and_then(|r| r.status);
    // A status stated or an SDK's status class says an answer arrived.
    let answered = stated_status.or(class_status);
    let delivery = if category == Category::ClientSide {
        // The client raised it itself, whatever it was doing (building the call, or reading an
        // answer or an event it could not decode): the fix is in the client.
        Delivery::Client
    } else if evidence.realtime {
        Delivery::Realtime
    } else if in_stream || (category == Category::StreamError && cause.name != "run_failed_unshown")
    {
        // A stream that broke is a stream, whether or not the paste shows its events; a run
        // polled until it failed came in a response.
        Delivery::Stream
    } else if job || (category == Category::BatchError && evidence.custom_id.is_none()) {
        Delivery::BatchJob
    } else if in_batch || category == Category::BatchError {
        Delivery::BatchLine
    } else if
    // A `client_…` record is a client library's own refusal, whatever its category: nothing
    // was sent.
    (cause.name.starts_with("client_") && answered.is_none())
        // A status the text states (a gateway's `504: GATEWAY_TIMEOUT` page), or the SDK class
        // raised for one, says a response arrived, whatever wording came with it; without one,
        // an answer that never came (a client's read timeout, whose record names no status as a
        // gateway's timeout page does) was the client's to report.
        || (evidence.transport.is_some() && answered.is_none())
        || (answered.is_none() && cause.transport.is_some())
        // A connection never made that only a wording names (an OS socket error by its number,
        // libcurl's own words) was the client's to report too, unless a body or page carried
        // the words (a gateway's `{"html-message": "Network connection lost."}` was its answer).
        // A timeout's wording alone is not enough: a hosting platform's
        // `FUNCTION_INVOCATION_TIMEOUT` page was an answer.
        || (answered.is_none()
            && cause.status.is_none()
            && category == Category::Connection
            && !matches!(evidence.format, Format::Json | Format::Html | Format::Http))
    {
        Delivery::Client
    } else {
        Delivery::Response
    };
    let confidence = match chosen {
        // A stream's or a Batch job's fallback read from what the readers recognized (a cut
        // stream, a failed response that shows no error, a job's status) is a reading, not a
        // guess; an error body whose code or type nothing knows stays a guess.
        None if cause.name != "unrecognized"
            && evidence.code.is_none()
            && evidence.error_type.is_none() =>
        {
            Confidence::Likely
        }
        None => Confidence::Guess,
        Some(c) if c.rule.name == "unrecognized" => Confidence::Guess,
        Some(c) if c.via == Via::Code => Confidence::Certain,
        Some(c) => {
            // Two keys agree only when they are two facts. A generic record (precedence -1)
            // restates another key: a reason phrase its status (`503 Service Unavailable`), the
            // `invalid_request_error` type OpenAI gives most 4xx, an SDK's stock wording for its
            // class (`APIConnectionError: Connection error.`, `TimeoutError: timed out`). And a
            // transport the class name gave is the class itself, not a second fact.
            let class_transport = present(evidence.exception.as_deref())
                .and_then(by_exception)
                .and_then(|r| r.transport);
            let one_fact = |a: Via, b: Via| {
                matches!(
                    (a, b),
                    (Via::Exception, Via::Transport) | (Via::Transport, Via::Exception)
                ) && class_transport.is_some()
                    && class_transport == evidence.transport
            };
            let agreeing = cands
                .iter()
                .filter(|o| {
                    o.via != c.via
                        && o.rule.category == c.rule.category
                        && o.rule.precedence >= 0
                        && c.rule.precedence >= 0
                        && !one_fact(o.via, c.via)
                })
                .count();
            if agreeing > 0 {
                Confidence::Certain
            } else {
                Confidence::Likely
            }
        }
    };

    // The status: stated, else the one an SDK class stands for (see `class_status` above), else
    // the one the record usually comes with (not for stream errors, which arrive inside a 200
    // response, and not from a range).
    let status = stated_status.or_else(|| {
        (!in_stream && cause.status_max.is_none())
            .then(|| class_status.or(cause.status))
            .flatten()
    });

    // What the SDKs raise.
    let implied = match (status, cause.category) {
        (None, Category::Connection) => Some(Transport::Connection),
        (None, Category::Timeout) => Some(Transport::Timeout),
        _ => None,
    };
    let transport = evidence.transport.or(cause.transport).or(implied);
    let sdk = if evidence.realtime || cause.category == Category::ClientSide {
        // A Realtime error is an event, not an exception; a client-side refusal is the
        // client's own exception, not one of the SDK's API error classes.
        SdkNames::default()
    } else if in_stream || cause.category == Category::StreamError {
        SdkNames {
            python: Some("openai.APIError".to_string()),
            node: Some("APIError".to_string()),
            python_v0: Some("openai.error.APIError".to_string()),
        }
    } else if in_batch {
        SdkNames::default()
    } else if let Some(t) = transport.filter(|_| status.is_none()) {
        sdk_names(by_transport(t))
    } else {
        sdk_names(status.and_then(by_status))
    };

    // Rate limits: which limit, and the headers.
    let message = evidence.message.as_deref();
    let header_pairs = || {
        evidence
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    };
    let rate_limit_headers = ratelimit::decode_headers(header_pairs());
    let from_message = message.and_then(ratelimit::from_message);
    let rate_limit = if cause.category == Category::RateLimit {
        let rule_kind = kind_of_rule(cause.name);
        match from_message.clone() {
            Some(mut info) => {
                info.kind = info
                    .kind
                    .or(rule_kind)
                    .or_else(|| message.and_then(early_kind));
                Some(info)
            }
            None => rule_kind.map(|kind| RateLimitInfo {
                kind: Some(kind),
                ..RateLimitInfo::default()
            }),
        }
    } else {
        None
    };
    // One request that asks for more than the whole limit (Groq's `Limit 7000, Used 0, Requested
    // ~12903` under "Rate limit reached") never fits, however long it waits: like OpenAI's
    // "Request too large", the request must shrink.
    let over_limit = rate_limit
        .as_ref()
        .is_some_and(|i| matches!((i.requested, i.limit), (Some(r), Some(l)) if r > l));
    let decision = if over_limit && cause.retry == RetryDecision::Yes {
        RetryDecision::AfterChange
    } else {
        cause.retry
    };

    // When to retry: the server's own delay (its headers, else a delay its body states), else
    // the message's, else the limit's reset.
    let after_ms = if decision == RetryDecision::Yes {
        retry::server_delay_ms(header_pairs(), None)
            .or(evidence.retry_delay_ms)
            .or_else(|| from_message.as_ref().and_then(|i| i.retry_after_ms))
            .or_else(|| {
                if cause.category != Category::RateLimit {
                    return None;
                }
                let kind = rate_limit.as_ref().and_then(|i| i.kind);
                rate_limit_headers
                    .as_ref()
                    .and_then(|h| header_reset_ms(h, kind))
            })
    } else {
        None
    };

    let is_fallback = chosen.is_none();
    // A stream cut is explained as the cut (the answer had begun, so what came is incomplete),
    // not as the connection that was never made which the wording alone would name.
    let stream_cut = cut.then(|| rule_named("stream_error"));
    let meaning = if let Some(record) = stream_cut {
        record.meaning.to_string()
    } else if evidence.realtime && !is_fallback {
        format!(
            "The error arrived as an event of a Realtime session. {}",
            cause.meaning
        )
    } else if in_stream && !is_fallback && cause.category != Category::StreamError {
        format!(
            "The error arrived inside a streamed response. {}",
            cause.meaning
        )
    } else if in_batch && !is_fallback && cause.category != Category::BatchError {
        format!("A request in a Batch job failed. {}", cause.meaning)
    } else {
        cause.meaning.to_string()
    };

    // A gateway's numeric `code` is its status (OpenRouter's `"code": 403`); when the text quotes
    // the provider's own code for the cause (`"code":"unsupported_country_region_territory"` in a
    // `metadata.raw` the readers could not parse), that code is the one to report. A code the
    // message writes out (`(code: context_length_exceeded)` in a log line that kept only the
    // message) is the code, when it is the cause's. Inside a stream the cause is kept in `code`.
    let quoted_code = evidence
        .code
        .as_deref()
        .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|_| {
            let m = message?.to_ascii_lowercase();
            cause
                .codes
                .iter()
                .find(|c| {
                    c.contains('_')
                        && (m.contains(&format!("\"{c}\"")) || m.contains(&format!("'{c}'")))
                })
                .map(|c| (*c).to_string())
        });
    let code = quoted_code
        .or_else(|| evidence.code.clone())
        .or_else(|| {
            message
                .and_then(code_written_in_text)
                .filter(|(_, r)| core::ptr::eq(*r, cause))
                .map(|(c, _)| c.to_string())
        })
        .or_else(|| {
            in_stream
                .then(|| cause.codes.first().map(|c| (*c).to_string()))
                .flatten()
        });
    // OpenAI's 400 wordings name the parameter they refuse (`Invalid 'tools[0].name': …`,
    // `Unknown parameter: 'foo'.`); a reader that kept only the message still has it.
    let param = evidence
        .param
        .clone()
        .or_else(|| message.and_then(param_in_message));

    Diagnosis {
        category,
        delivery,
        confidence,
        status,
        code,
        error_type: evidence.error_type.clone(),
        param,
        message: evidence.message.clone(),
        request_id: evidence
            .request_id
            .clone()
            .or_else(|| evidence.header("x-request-id").map(String::from))
            .or_else(|| message.and_then(request_id_in)),
        sdk,
        retry: RetryAdvice { decision, after_ms },
        rate_limit,
        rate_limit_headers,
        meaning,
        first_fix: stream_cut.unwrap_or(cause).first_fix.to_string(),
        rule: cause.name.to_string(),
        format: evidence.format,
    }
}

/// Diagnoses an HTTP response the worker received: status, headers (any case) and body bytes.
pub fn diagnose_response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Diagnosis {
    diagnose(&crate::parse::read_response(status, headers, body))
}

/// Diagnoses a request that got no response at all.
pub fn diagnose_no_response(kind: NoResponse) -> Diagnosis {
    let transport = match kind {
        NoResponse::Connection => Transport::Connection,
        NoResponse::Timeout => Transport::Timeout,
    };
    diagnose(&Evidence {
        transport: Some(transport),
        ..Evidence::default()
    })
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)] // evidence built up field by field reads best here
mod tests {
    use super::*;
    use crate::ratelimit::LimitWindow;
    use alloc::vec;

    /// Evidence with the given status, code, type and message.
    fn ev(
        status: Option<u16>,
        code: Option<&str>,
        ty: Option<&str>,
        msg: Option<&str>,
    ) -> Evidence {
        Evidence {
            status,
            code: code.map(String::from),
            error_type: ty.map(String::from),
            message: msg.map(String::from),
            ..Evidence::default()
        }
    }

    fn check(e: &Evidence, category: Category, decision: RetryDecision) -> Diagnosis {
        let d = diagnose(e);
        assert_eq!(
            (d.category, d.retry.decision),
            (category, decision),
            "rule {} for {e:?}",
            d.rule
        );
        assert!(!d.meaning.is_empty() && !d.first_fix.is_empty());
        d
    }

    #[test]
    fn insufficient_quota_sent_as_429_is_quota_not_rate_limit() {
        let msg = "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.";
        let e = ev(
            Some(429),
            Some("insufficient_quota"),
            Some("insufficient_quota"),
            Some(msg),
        );
        let d = check(&e, Category::Quota, RetryDecision::No);
        assert_eq!(d.rule, "insufficient_quota");
        assert_eq!(d.sdk.python.as_deref(), Some("openai.RateLimitError"));
        assert_eq!(
            d.sdk.python_v0.as_deref(),
            Some("openai.error.RateLimitError")
        );
        assert_eq!(d.retry.after_ms, None);
        assert_eq!(d.rate_limit, None);
        // The wording alone, without code, type or status, still says quota, and infers 429.
        let d = check(
            &ev(None, None, None, Some(msg)),
            Category::Quota,
            RetryDecision::No,
        );
        assert_eq!(d.status, Some(429));
    }

    #[test]
    fn quota_and_billing_win_even_when_sent_as_400() {
        let e = ev(
            Some(400),
            Some("billing_hard_limit_reached"),
            Some("invalid_request_error"),
            Some("Billing hard limit has been reached"),
        );
        check(&e, Category::Quota, RetryDecision::No);
        let e = ev(Some(400), None, Some("insufficient_quota"), None);
        check(&e, Category::Quota, RetryDecision::No);
    }

    #[test]
    fn context_length_wins_over_invalid_request() {
        let e = ev(
            Some(400),
            Some("context_length_exceeded"),
            Some("invalid_request_error"),
            None,
        );
        let d = check(&e, Category::ContextLength, RetryDecision::AfterChange);
        assert_eq!(d.sdk.python.as_deref(), Some("openai.BadRequestError"));
        assert_eq!(d.sdk.node.as_deref(), Some("BadRequestError"));
        let msg = "This model's maximum context length is 4097 tokens. However, your messages resulted in 4135 tokens. Please reduce the length of the messages.";
        let d = check(
            &ev(None, None, Some("invalid_request_error"), Some(msg)),
            Category::ContextLength,
            RetryDecision::AfterChange,
        );
        assert_eq!(d.status, Some(400), "status inferred from the record");
        assert_eq!(
            d.sdk.python_v0.as_deref(),
            Some("openai.error.InvalidRequestError")
        );
    }

    #[test]
    fn request_too_large_must_shrink_even_though_it_is_a_429() {
        let msg = "Request too large for gpt-4 in organization org-abc on tokens per min (TPM): Limit 10000, Requested 15000. The input or output tokens must be reduced in order to run successfully.";
        let e = ev(
            Some(429),
            Some("rate_limit_exceeded"),
            Some("tokens"),
            Some(msg),
        );
        let d = check(&e, Category::RateLimit, RetryDecision::AfterChange);
        assert_eq!(d.rule, "request_too_large");
        assert_eq!(
            d.retry.after_ms, None,
            "no delay for a request that can never fit"
        );
    }

    #[test]
    fn rate_limit_per_kind() {
        let msg = "Rate limit reached for gpt-4o in organization org-abc on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.";
        let e = ev(
            Some(429),
            Some("rate_limit_exceeded"),
            Some("requests"),
            Some(msg),
        );
        let d = check(&e, Category::RateLimit, RetryDecision::Yes);
        assert_eq!(d.rule, "rate_limit_requests_per_minute");
        assert_eq!(d.rate_limit.and_then(|r| r.kind), Some(LimitKind::Rpm));
        let msg = "Rate limit reached for gpt-3.5-turbo on tokens per day (TPD): Limit 200000, Used 199000, Requested 2000.";
        let d = check(
            &ev(None, None, None, Some(msg)),
            Category::RateLimit,
            RetryDecision::Yes,
        );
        assert_eq!(d.status, Some(429));
        assert_eq!(d.rate_limit.and_then(|r| r.kind), Some(LimitKind::Tpd));
    }

    #[test]
    fn slow_down_503_is_overloaded() {
        let e = ev(Some(503), None, None, Some("Slow Down"));
        let d = check(&e, Category::Overloaded, RetryDecision::Yes);
        assert_eq!(d.sdk.python.as_deref(), Some("openai.InternalServerError"));
        assert_eq!(
            d.sdk.python_v0.as_deref(),
            Some("openai.error.ServiceUnavailableError")
        );
        // The wording alone points to the 503.
        let d = check(
            &ev(None, None, None, Some("Slow Down")),
            Category::Overloaded,
            RetryDecision::Yes,
        );
        assert_eq!(d.status, Some(503));
        // "Slow down" in a 429 rate-limit body stays a rate limit.
        let e = ev(
            Some(429),
            Some("rate_limit_exceeded"),
            Some("requests"),
            Some("Too many requests. Please slow down."),
        );
        check(&e, Category::RateLimit, RetryDecision::Yes);
        check(
            &ev(
                Some(429),
                None,
                None,
                Some("Too many requests, please slow down"),
            ),
            Category::RateLimit,
            RetryDecision::Yes,
        );
    }

    #[test]
    fn overloaded_apart_from_server_error() {
        let overloaded = "That model is currently overloaded with other requests. You can retry your request, or contact us through our help center at help.openai.com if the error persists.";
        // Sent as 503 or as 429: overloaded either way.
        for status in [Some(503), Some(429), None] {
            let e = ev(status, None, Some("server_error"), Some(overloaded));
            check(&e, Category::Overloaded, RetryDecision::Yes);
        }
        let had_error = "The server had an error while processing your request. Sorry about that!";
        let d = check(
            &ev(None, None, Some("server_error"), Some(had_error)),
            Category::ServerError,
            RetryDecision::Yes,
        );
        assert_eq!(d.status, Some(500));
        // OpenAI's own sentence for a server failure names the cause, whatever status came
        // with it (issue 13: a message that plainly names a cause beats the status); a generic
        // wording does not.
        check(
            &ev(Some(503), None, Some("server_error"), Some(had_error)),
            Category::ServerError,
            RetryDecision::Yes,
        );
        check(
            &ev(
                Some(503),
                None,
                Some("server_error"),
                Some("Something went wrong"),
            ),
            Category::Overloaded,
            RetryDecision::Yes,
        );
        check(
            &ev(Some(502), None, None, None),
            Category::ServerError,
            RetryDecision::Yes,
        );
        check(
            &ev(Some(500), None, None, None),
            Category::ServerError,
            RetryDecision::Yes,
        );
    }

    #[test]
    fn timeouts_apart_from_connection() {
        for status in [408, 504, 524] {
            check(
                &ev(Some(status), None, None, None),
                Category::Timeout,
                RetryDecision::Yes,
            );
        }
        let d = check(
            &ev(Some(524), None, None, None),
            Category::Timeout,
            RetryDecision::Yes,
        );
        assert_eq!(d.sdk.python.as_deref(), Some("openai.InternalServerError"));
        let d = check(
            &ev(None, None, None, Some("Request timed out.")),
            Category::Timeout,
            RetryDecision::Yes,
        );
        assert_eq!(d.status, None);
        assert_eq!(d.sdk.python.as_deref(), Some("openai.APITimeoutError"));
        assert_eq!(d.sdk.node.as_deref(), Some("APIConnectionTimeoutError"));
        let d = check(
            &ev(None, None, None, Some("Connection error.")),
            Category::Connection,
            RetryDecision::Yes,
        );
        assert_eq!(d.sdk.python.as_deref(), Some("openai.APIConnectionError"));
        let d = diagnose_no_response(NoResponse::Timeout);
        assert_eq!(d.category, Category::Timeout);
        assert_eq!(d.sdk.python_v0.as_deref(), Some("openai.error.Timeout"));
        let d = diagnose_no_response(NoResponse::Connection);
        assert_eq!(
            (d.category, d.retry.decision),
            (Category::Connection, RetryDecision::Yes)
        );
        assert_eq!(d.sdk.node.as_deref(), Some("APIConnectionError"));
        assert_eq!(d.status, None);
    }

    #[test]
    fn a_proxys_407_keeps_its_record_over_the_connection_class() {
        // httpx's `ProxyError: 407 Proxy Authentication Required`: the proxy answered why it
        // refused, so its record's retry decision (no) stands, not the class's (yes).
        let mut e = ev(Some(407), None, None, Some("Proxy Authentication Required"));
        e.exception = Some("httpcore.ProxyError".into());
        check(&e, Category::Connection, RetryDecision::No);
        // Without a stated status the class reads it as before.
        e.status = None;
        check(&e, Category::Connection, RetryDecision::Yes);
    }

    #[test]
    fn the_transport_read_with_the_message_beats_the_class_name() {
        // `SocketTimeoutException: Connect timed out`: the readers say no connection was made.
        let mut e = ev(None, None, None, Some("Connect timed out"));
        e.exception = Some("java.net.SocketTimeoutException".into());
        e.transport = Some(Transport::Connection);
        let d = check(&e, Category::Connection, RetryDecision::Yes);
        assert_eq!(d.delivery, Delivery::Client);
        e.message = Some("timeout".into());
        e.transport = Some(Transport::Timeout);
        check(&e, Category::Timeout, RetryDecision::Yes);
    }

    #[test]
    fn a_broken_stream_is_delivered_by_a_stream() {
        // `Stream error: error decoding response body`, with no event shown.
        let e = ev(
            None,
            None,
            None,
            Some("Stream error: error decoding response body"),
        );
        let d = check(&e, Category::StreamError, RetryDecision::Yes);
        assert_eq!(d.delivery, Delivery::Stream);
    }

    #[test]
    fn cloudflare_pages() {
        let mut e = ev(Some(522), None, None, None);
        e.html_title = Some("api.openai.com | 522: Connection timed out".into());
        check(&e, Category::ServerError, RetryDecision::Yes);
        e.status = None;
        let d = check(&e, Category::ServerError, RetryDecision::Yes);
        assert_eq!(d.status, Some(522));
        let mut e = ev(None, None, None, None);
        e.html_title = Some("api.openai.com | 524: A timeout occurred".into());
        let d = check(&e, Category::Timeout, RetryDecision::Yes);
        assert_eq!(d.status, Some(524));
        // A 502 body whose `code` holds the status.
        let e = ev(
            None,
            Some("502"),
            Some("cf_bad_gateway"),
            Some("Bad gateway."),
        );
        let d = check(&e, Category::ServerError, RetryDecision::Yes);
        assert_eq!(d.status, Some(502));
    }

    #[test]
    fn unknown_status_falls_back_by_class() {
        let d = check(
            &ev(Some(418), None, None, None),
            Category::InvalidRequest,
            RetryDecision::AfterChange,
        );
        assert_eq!(d.rule, "status_4xx");
        assert_eq!(d.sdk.python.as_deref(), Some("openai.APIStatusError"));
        assert_eq!(d.sdk.node.as_deref(), Some("APIError"));
        let d = check(
            &ev(Some(599), None, None, None),
            Category::ServerError,
            RetryDecision::Yes,
        );
        assert_eq!(d.sdk.python.as_deref(), Some("openai.InternalServerError"));
        let d = check(
            &ev(None, None, None, Some("something we have never seen")),
            Category::InvalidRequest,
            RetryDecision::AfterChange,
        );
        assert_eq!(d.rule, "unrecognized");
        assert_eq!(d.status, None);
    }

    #[test]
    fn authentication_and_permission() {
        let e = ev(
            Some(401),
            Some("invalid_api_key"),
            Some("invalid_request_error"),
            Some("Incorrect API key provided: sk-abc***xyz."),
        );
        let d = check(&e, Category::Authentication, RetryDecision::No);
        assert_eq!(d.sdk.python.as_deref(), Some("openai.AuthenticationError"));
        let missing = "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
        let d = check(
            &ev(None, None, Some("invalid_request_error"), Some(missing)),
            Category::Authentication,
            RetryDecision::No,
        );
        assert_eq!((d.status, d.rule.as_str()), (Some(401), "missing_api_key"));
        let e = ev(
            Some(403),
            Some("unsupported_country_region_territory"),
            Some("request_forbidden"),
            Some("Country, region, or territory not supported"),
        );
        let d = check(&e, Category::Permission, RetryDecision::No);
        assert_eq!(
            d.sdk.python_v0.as_deref(),
            Some("openai.error.PermissionError")
        );
        // model_not_found sent as 403 for a project: permission, not not_found.
        let e = ev(
            Some(403),
            Some("model_not_found"),
            Some("invalid_request_error"),
            Some("Project `proj_abc` does not have access to model `o1`"),
        );
        check(&e, Category::Permission, RetryDecision::No);
        let e = ev(
            Some(404),
            Some("model_not_found"),
            Some("invalid_request_error"),
            Some("The model `gpt-5` does not exist or you do not have access to it."),
        );
        check(&e, Category::NotFound, RetryDecision::No);
        // access_terminated arrives as a 429 but waiting never helps.
        let e = ev(
            Some(429),
            None,
            Some("access_terminated"),
            Some("Your access was terminated due to violation of our policies"),
        );
        check(&e, Category::Permission, RetryDecision::No);
        let e = ev(
            Some(401),
            None,
            Some("invalid_request_error"),
            Some(
                "You have insufficient permissions for this operation. Missing scopes: api.model.read.",
            ),
        );
        check(&e, Category::Permission, RetryDecision::No);
        check(
            &ev(Some(401), None, None, None),
            Category::Authentication,
            RetryDecision::No,
        );
        // Organization and project header mismatches are credential problems (401).
        let e = ev(
            Some(401),
            Some("mismatched_organization"),
            Some("invalid_request_error"),
            None,
        );
        let d = check(&e, Category::Authentication, RetryDecision::No);
        assert_eq!(d.sdk.python.as_deref(), Some("openai.AuthenticationError"));
    }

    #[test]
    fn content_policy_wins_over_invalid_request() {
        let e = ev(
            Some(400),
            Some("invalid_prompt"),
            Some("invalid_request_error"),
            Some(
                "Invalid prompt: your prompt was flagged as potentially violating our usage policy.",
            ),
        );
        check(&e, Category::ContentPolicy, RetryDecision::AfterChange);
        let e = ev(
            Some(400),
            None,
            Some("invalid_request_error"),
            Some("Your request was rejected as a result of our safety system."),
        );
        check(&e, Category::ContentPolicy, RetryDecision::AfterChange);
    }

    #[test]
    fn exception_names() {
        let mut e = Evidence::default();
        e.exception = Some("openai.error.ServiceUnavailableError".into());
        let d = check(&e, Category::Overloaded, RetryDecision::Yes);
        assert_eq!(d.status, Some(503));
        // A stated status is more exact than a class that covers every 5xx.
        e.exception = Some("openai.InternalServerError".into());
        e.status = Some(503);
        check(&e, Category::Overloaded, RetryDecision::Yes);
        let mut e = ev(
            None,
            None,
            None,
            Some("Unrecognized request argument supplied: functions"),
        );
        e.exception = Some("openai.error.InvalidRequestError".into());
        let d = check(&e, Category::InvalidRequest, RetryDecision::AfterChange);
        assert_eq!(
            (d.rule.as_str(), d.status),
            ("unknown_parameter", Some(400))
        );
        let mut e = Evidence::default();
        e.exception = Some("litellm.exceptions.ContextWindowExceededError".into());
        check(&e, Category::ContextLength, RetryDecision::AfterChange);
        e.exception = Some("com.openai.errors.RateLimitException".into());
        check(&e, Category::RateLimit, RetryDecision::Yes);
        e.exception = Some("Faraday::TooManyRequestsError".into());
        let d = check(&e, Category::RateLimit, RetryDecision::Yes);
        assert_eq!(d.status, Some(429));
        e.exception = Some("httpx.ReadTimeout".into());
        let d = check(&e, Category::Timeout, RetryDecision::Yes);
        assert_eq!(d.sdk.python.as_deref(), Some("openai.APITimeoutError"));
        assert!(exception_is(
            "openai.error.APIError",
            "openai.error.APIError"
        ));
        assert!(!exception_is("openai.APIError", "openai.error.APIError"));
        assert!(!exception_is(
            "xopenai.error.APIError",
            "openai.error.APIError"
        ));
        assert!(exception_is("RateLimitError:", "RateLimitError"));
    }

    #[test]
    fn a_reason_phrase_begins_a_message_only_as_a_whole_phrase() {
        assert!(begins_with_reason_phrase(
            "Service Unavailable Retrying in 0.2 seconds..."
        ));
        assert!(begins_with_reason_phrase("  bad gateway"));
        assert!(!begins_with_reason_phrase("Bad Gateways"));
        assert!(!begins_with_reason_phrase("The service is unavailable"));
        // A multibyte character where a phrase would end is no boundary to slice at.
        assert!(!begins_with_reason_phrase("Service Unavailabl\u{e9}"));
        assert!(!begins_with_reason_phrase("服务不可用服务不可用服务不可用"));
    }

    /// Issue 11 (fuzzing): a name with multibyte characters, as long as a qualified entry,
    /// panicked slicing inside a character. `Evidence` is public; any caller may fill it.
    #[test]
    fn a_multibyte_exception_name_is_compared_without_panic() {
        // 24 bytes against the 22 of `openai.BadRequestError`: byte 2 is inside the first `€`.
        let name = "\u{20ac}".repeat(8);
        let name = name.as_str();
        assert!(!exception_is(name, "openai.BadRequestError"));
        assert!(!exception_is(
            &alloc::format!("x{name}"),
            "openai.BadRequestError"
        ));
        let mut e = Evidence::default();
        e.exception = Some(alloc::format!("x{name}"));
        let _ = diagnose(&e);
    }

    #[test]
    fn a_word_that_restates_another_key_is_no_second_fact() {
        let conf = |text: &str| crate::explain(text).diagnosis.expect(text).confidence;
        // A reason phrase restates its status; an SDK's stock wording restates its class; the
        // type OpenAI gives most 4xx says nothing the status did not: one fact each, `likely`.
        for text in [
            "Error: 503 Service Unavailable",
            "HTTP/1.1 429 Too Many Requests",
            "APIConnectionError: Connection error.",
            "TimeoutError: timed out",
            "Error code: 400 - {'error': {'message': 'bad', 'type': 'invalid_request_error'}}",
        ] {
            assert_eq!(conf(text), Confidence::Likely, "{text}");
        }
        // Near misses: a wording that names the cause, a cause under the SDK's class, or a code
        // agreeing with the status are two facts (or OpenAI's code): `certain`.
        for text in [
            "Error: 503 The engine is currently overloaded, please try again later.",
            "openai.APIConnectionError: Connection error. httpx.ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed",
            "Error code: 500 - {'error': {'message': 'The server had an error while processing your request. Sorry about that!', 'type': 'server_error'}}",
            "Error code: 400 - {'error': {'message': 'bad', 'type': 'invalid_request_error', 'code': 'invalid_value'}}",
        ] {
            assert_eq!(conf(text), Confidence::Certain, "{text}");
        }
    }

    #[test]
    fn the_apis_own_sentences_are_readings_not_guesses() {
        // Sentences of the API that the taxonomy lacked: they were read as `unrecognized`
        // (`guess`) though the text plainly holds an OpenAI error.
        for (text, rule) in [
            (
                "Error cancelling run 400 Cannot cancel run with status 'cancelled'.",
                "run_not_cancellable",
            ),
            (
                "The Realtime Beta API is no longer supported. Please use /v1/realtime for the GA API.",
                "realtime_beta_retired",
            ),
            (
                "OpenAI Realtime error (invalid_parameter): Passing a transcription session update event to a realtime session is not allowed.",
                "realtime_session_kind_mismatch",
            ),
            (
                "InvalidRequestError: Too many inputs. The max number of inputs is 16.",
                "embeddings_too_many_inputs",
            ),
            (
                "Error from API: Unsupported OpenAI-Version header provided: 2023-03-15-preview.",
                "openai_version_header_unsupported",
            ),
            (
                "400 The audio file could not be decoded or its format is not supported.",
                "unsupported_file_format",
            ),
            (
                "400 No tool call found for function call output with call_4fZ2mQ9xT1",
                "tool_call_sequence",
            ),
            (
                "'vector_store_getData' does not match '^[a-zA-Z0-9_-]{1,64}$' - 'tools.0.function.name'",
                "invalid_value",
            ),
            (
                "Error\n[400]: Messages with role 'tool' must be a response to a preceding message with 'tool_calls'",
                "tool_call_sequence",
            ),
        ] {
            let d = crate::explain(text).diagnosis.expect(text);
            assert_eq!(d.rule, rule, "{text}");
            assert_ne!(d.confidence, Confidence::Guess, "{text}");
        }
        // A stream cut and a job's status are readings too; a body nothing knows stays a guess.
        let d = crate::explain("Transport Error: error decoding response body")
            .diagnosis
            .unwrap();
        assert_eq!(
            (d.category, d.confidence),
            (Category::StreamError, Confidence::Likely)
        );
        let d = crate::explain(r#"{"error": {"message": "Something odd happened", "type": "weird_error", "code": "odd_thing"}}"#).diagnosis.unwrap();
        assert_eq!(d.confidence, Confidence::Guess);
    }

    #[test]
    fn stream_errors_name_the_cause() {
        let mut e = ev(
            None,
            Some("rate_limit_exceeded"),
            None,
            Some("Rate limit reached for gpt-4o"),
        );
        e.in_stream = true;
        e.stream_event = Some("error".into());
        let d = check(&e, Category::RateLimit, RetryDecision::Yes);
        assert_eq!(d.delivery, Delivery::Stream);
        assert_eq!(
            d.confidence,
            Confidence::Certain,
            "OpenAI's code decided it"
        );
        assert_eq!(d.code.as_deref(), Some("rate_limit_exceeded"));
        assert_eq!(d.status, None, "a stream error came inside a 200");
        assert_eq!(d.sdk.python.as_deref(), Some("openai.APIError"));
        assert_eq!(d.sdk.node.as_deref(), Some("APIError"));
        let mut e = ev(
            None,
            None,
            None,
            Some(
                "Invalid prompt: your prompt was flagged as potentially violating our usage policy.",
            ),
        );
        e.stream_event = Some("response.failed".into());
        let d = check(&e, Category::ContentPolicy, RetryDecision::AfterChange);
        assert_eq!(
            d.code.as_deref(),
            Some("invalid_prompt"),
            "cause kept in code"
        );
        let mut e = Evidence::default();
        e.in_stream = true;
        e.message = Some(
            "An error occurred while processing your request. You can retry your request.".into(),
        );
        check(&e, Category::ServerError, RetryDecision::Yes);
        // No cause shown, or the stream cut: the stream is the cause.
        let mut e = Evidence::default();
        e.in_stream = true;
        let d = check(&e, Category::StreamError, RetryDecision::Yes);
        assert_eq!(d.rule, "stream_error");
        // Read from the stream evidence (no error body nothing knows): a reading, not a guess.
        assert_eq!(d.confidence, Confidence::Likely);
        e.message = Some("peer closed connection without sending complete message body".into());
        e.transport = Some(Transport::Connection);
        let d = check(&e, Category::StreamError, RetryDecision::Yes);
        assert_eq!(d.delivery, Delivery::Stream);
        // Explained as the cut it is, not as a connection that never opened.
        let cut = rule_named("stream_error");
        assert_eq!(
            (d.meaning.as_str(), d.first_fix.as_str()),
            (cut.meaning, cut.first_fix)
        );
        // A Realtime error event names its cause too, and a Realtime conflict is worth retrying.
        let mut e = ev(
            None,
            Some("conversation_already_has_active_response"),
            Some("invalid_request_error"),
            Some("Conversation already has an active response"),
        );
        e.realtime = true;
        let d = check(&e, Category::Conflict, RetryDecision::Yes);
        assert_eq!(d.delivery, Delivery::Realtime);
        assert_eq!(d.sdk, SdkNames::default(), "an event, not an exception");
        // A failed Realtime response that hides its error is the stream's failure; an unknown
        // Realtime error event refused one client event.
        let mut e = ev(None, None, Some("failed"), None);
        e.realtime = true;
        let d = check(&e, Category::StreamError, RetryDecision::Yes);
        assert_eq!(d.confidence, Confidence::Guess);
        let mut e = ev(None, None, None, Some("Something nobody has seen before."));
        e.realtime = true;
        check(&e, Category::InvalidRequest, RetryDecision::AfterChange);
    }

    #[test]
    fn batch_errors_only_for_batch_causes() {
        let mut e = ev(
            None,
            Some("batch_expired"),
            None,
            Some("This request could not be executed before the completion window expired."),
        );
        e.in_batch = true;
        check(&e, Category::BatchError, RetryDecision::Yes);
        let mut e = ev(None, Some("duplicate_custom_id"), None, None);
        e.in_batch = true;
        check(&e, Category::BatchError, RetryDecision::AfterChange);
        // A Batch line that failed for another cause is that cause.
        let mut e = ev(Some(429), Some("rate_limit_exceeded"), None, None);
        e.custom_id = Some("request-7".into());
        let d = check(&e, Category::RateLimit, RetryDecision::Yes);
        assert_eq!(d.delivery, Delivery::BatchLine);
        assert_eq!(d.sdk, SdkNames::default(), "no SDK raises for a Batch line");
        let mut e = ev(Some(400), Some("invalid_prompt"), None, None);
        e.custom_id = Some("request-8".into());
        check(&e, Category::ContentPolicy, RetryDecision::AfterChange);
        let mut e = ev(Some(400), Some("missing_required_parameter"), None, None);
        e.in_batch = true;
        check(&e, Category::InvalidRequest, RetryDecision::AfterChange);
        // A Batch object that failed validation of its lines is a Batch cause.
        e.batch_status = Some("failed".into());
        let d = check(&e, Category::BatchError, RetryDecision::AfterChange);
        assert_eq!(d.delivery, Delivery::BatchJob);
        let mut e = Evidence::default();
        e.batch_status = Some("failed".into());
        check(&e, Category::BatchError, RetryDecision::AfterChange);
        e.batch_status = Some("expired".into());
        check(&e, Category::BatchError, RetryDecision::Yes);
        // The enqueued-token limit is a batch error even without the batch flag.
        let e = ev(
            None,
            Some("token_limit_exceeded"),
            None,
            Some("Enqueued token limit reached for gpt-4o in organization org-abc."),
        );
        check(&e, Category::BatchError, RetryDecision::Yes);
    }

    #[test]
    fn every_code_selects_its_own_record() {
        for rule in ERROR_RULES {
            for code in rule.codes {
                let d = diagnose(&ev(None, Some(code), None, None));
                assert_eq!(d.rule, rule.name, "code {code}");
            }
            for ty in rule.types {
                let d = diagnose(&ev(None, None, Some(ty), None));
                assert_eq!(d.rule, rule.name, "type {ty}");
            }
        }
    }

    #[test]
    fn every_wording_selects_a_record_at_least_as_strong() {
        for rule in ERROR_RULES {
            for pattern in rule.messages {
                let d = diagnose(&ev(None, None, None, Some(pattern)));
                let chosen = rule_named(&d.rule);
                assert!(
                    chosen.precedence >= rule.precedence,
                    "{pattern:?} of {} chose {}",
                    rule.name,
                    d.rule
                );
            }
        }
    }

    #[test]
    fn request_id_from_header_or_message() {
        let mut e = ev(
            Some(500),
            None,
            None,
            Some("Please include the request ID req_0123456789abcdef in your email."),
        );
        let d = diagnose(&e);
        assert_eq!(d.request_id.as_deref(), Some("req_0123456789abcdef"));
        let uuid =
            "Please include the request ID 05db48fb-224e-4ff7-8266-b72865ef4f1f in your message.";
        let d = diagnose(&ev(None, Some("server_error"), None, Some(uuid)));
        assert_eq!(
            d.request_id.as_deref(),
            Some("05db48fb-224e-4ff7-8266-b72865ef4f1f")
        );
        let none = "Please include the request ID in your message.";
        assert_eq!(diagnose(&ev(None, None, None, Some(none))).request_id, None);
        e.headers = vec![("x-request-id".into(), "req_fromheader123".into())];
        assert_eq!(
            diagnose(&e).request_id.as_deref(),
            Some("req_fromheader123")
        );
    }

    #[test]
    fn reset_of_the_limit_that_was_hit() {
        let window = |remaining, reset_ms| LimitWindow {
            limit: Some(100),
            remaining: Some(remaining),
            reset: None,
            reset_ms: Some(reset_ms),
        };
        let h = RateLimitHeaders {
            requests: Some(window(5, 1_000)),
            tokens: Some(window(0, 6_000)),
        };
        assert_eq!(header_reset_ms(&h, Some(LimitKind::Rpm)), Some(1_000));
        assert_eq!(header_reset_ms(&h, Some(LimitKind::Tpm)), Some(6_000));
        assert_eq!(
            header_reset_ms(&h, None),
            Some(6_000),
            "the exhausted family"
        );
        let h = RateLimitHeaders {
            requests: Some(window(5, 1_000)),
            tokens: Some(window(7, 3_000)),
        };
        assert_eq!(header_reset_ms(&h, None), Some(3_000), "else the longest");
    }

    #[test]
    fn status_written_in_the_message() {
        let e = ev(
            None,
            None,
            None,
            Some("the server responded with status 429"),
        );
        let d = check(&e, Category::RateLimit, RetryDecision::Yes);
        assert_eq!(d.status, Some(429));
        assert_eq!(
            status_in_text("Request failed with status code 401"),
            Some(401)
        );
        assert_eq!(status_in_text("HTTP 502 Bad Gateway"), Some(502));
        assert_eq!(
            status_in_text("Request failed with response code 401"),
            Some(401)
        );
        assert_eq!(
            status_in_text("Some error has occurred. Statuscode: 401"),
            Some(401)
        );
        assert_eq!(
            status_in_text("status: 200 OK"),
            None,
            "not an error status"
        );
        assert_eq!(status_in_text("status 4290"), None);
        assert_eq!(status_in_text("no numbers here"), None);
        assert_eq!(status_in_text("Response 502: <html>"), Some(502));
        assert_eq!(status_in_text("the response 200 came"), None);
    }

    #[test]
    fn a_code_written_as_key_and_value_in_prose() {
        let e = ev(
            Some(400),
            None,
            None,
            Some(
                "HTTP 400 invalid_request_error, param: previous_response_id, code: previous_response_not_found",
            ),
        );
        let d = check(&e, Category::NotFound, RetryDecision::AfterChange);
        assert_eq!(d.rule, "previous_response_not_found");
        assert_eq!(
            code_in_text("access_denied (error=unsupported_country)").map(|r| r.name),
            Some("unsupported_country_region_territory")
        );
        // A plain word after `Error:` is never a code, nor is the end of `status_code`.
        assert!(code_in_text("Error: failed to connect").is_none());
        assert!(code_in_text("status_code=rate_limit_exceeded").is_none());
        assert!(code_in_text("error code: 400").is_none());
        // A code the body itself sent is never replaced by one written in the message.
        let e = ev(
            None,
            Some("rate_limit_exceeded"),
            None,
            Some("code: previous_response_not_found"),
        );
        check(&e, Category::RateLimit, RetryDecision::Yes);
    }

    #[test]
    fn a_failure_the_message_names_beats_a_relayed_status() {
        let e = ev(
            Some(502),
            None,
            None,
            Some("Error 502 with provider x: Remote protocol error"),
        );
        check(&e, Category::Connection, RetryDecision::Yes);
        let e = ev(
            Some(400),
            None,
            None,
            Some(
                "Something went wrong: Retry failed after 4 tries. Retry settings can be adjusted in ClientOptions.Retry",
            ),
        );
        check(&e, Category::Connection, RetryDecision::Yes);
    }

    #[test]
    fn nulls_spelled_out_are_absent() {
        let e = ev(Some(429), Some("None"), Some("null"), None);
        let d = check(&e, Category::RateLimit, RetryDecision::Yes);
        assert_eq!(d.rule, "status_429");
    }

    /// Errors as people pasted them in public issue trackers, reduced to the evidence a reader
    /// would find: (status, code, type, message, exception) → (category, retry).
    #[test]
    fn real_world_pastes() {
        use Category as C;
        use RetryDecision as R;
        type Case<'a> = (
            Option<u16>,
            Option<&'a str>,
            Option<&'a str>,
            &'a str,
            Option<&'a str>,
            Category,
            RetryDecision,
        );
        #[rustfmt::skip]
        let cases: &[Case] = &[
            (Some(400), Some("invalid_prompt"), Some("invalid_request_error"), "Invalid prompt: your prompt was flagged as potentially violating our usage policy. Please try again with a different prompt: https://platform.openai.com/docs/guides/reasoning#advice-on-prompting", Some("openai.BadRequestError"), C::ContentPolicy, R::AfterChange),
            (Some(400), None, Some("invalid_request_error"), "Invalid value for 'content': expected a string, got null.", None, C::InvalidRequest, R::AfterChange),
            (Some(400), None, Some("invalid_request_error"), "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.", None, C::InvalidRequest, R::AfterChange),
            (None, None, None, "This model's maximum context length is 4097 tokens. However, you requested 4972 tokens (3222 in the messages, 1750 in the completion). Please reduce the length of the messages or completion.", Some("openai.error.InvalidRequestError"), C::ContextLength, R::AfterChange),
            (Some(400), None, None, "This model's maximum context length is 128000 tokens. However, your messages resulted in 204308 tokens. Please reduce the length of the messages.", None, C::ContextLength, R::AfterChange),
            (Some(400), Some("context_length_exceeded"), Some("invalid_request_error"), "Your input exceeds the context window of this model. Please adjust your input and try again.", None, C::ContextLength, R::AfterChange),
            (Some(429), None, None, "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.", None, C::Quota, R::No),
            (None, None, Some("access_terminated"), "Your access was terminated due to violation of our policies, please check your email for more information.", Some("openai.error.RateLimitError"), C::Permission, R::No),
            (Some(400), Some("invalid_value"), Some("invalid_request_error"), "Invalid value: 'other'. Supported values are: 'search', 'open_page', and 'find_in_page'.", None, C::InvalidRequest, R::AfterChange),
            (None, None, None, "Rate limit reached for default-gpt-3.5-turbo in organization org-abc on requests per min. Limit: 3 / min. Please try again in 20s. Please add a payment method to your account to increase your rate limit. Visit https://platform.openai.com/account/billing to add a payment method.", Some("openai.error.RateLimitError"), C::RateLimit, R::Yes),
            (Some(429), Some("429"), None, "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-02-01 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds.", None, C::RateLimit, R::Yes),
            (Some(503), None, None, "Service Unavailable.", Some("openai.InternalServerError"), C::Overloaded, R::Yes),
            (None, None, None, "The server is overloaded or not ready yet.", Some("openai.error.ServiceUnavailableError"), C::Overloaded, R::Yes),
            (None, None, None, "Error communicating with OpenAI: HTTPSConnectionPool(host='api.openai.com', port=443): Max retries exceeded with url: /v1/chat/completions (Caused by NewConnectionError('Failed to establish a new connection: [Errno 111] Connection refused'))", Some("openai.error.APIConnectionError"), C::Connection, R::Yes),
            (None, None, None, "Error communicating with OpenAI: HTTPSConnectionPool(host='api.openai.com', port=443): Max retries exceeded with url: /v1/chat/completions (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate')))", Some("openai.error.APIConnectionError"), C::Connection, R::No),
            (None, None, None, "Request timed out: HTTPSConnectionPool(host='api.openai.com', port=443): Read timed out. (read timeout=600)", Some("openai.error.Timeout"), C::Timeout, R::Yes),
            (None, None, None, "request to https://api.openai.com/v1/chat/completions failed, reason: connect ETIMEDOUT 104.18.7.192:443", Some("FetchError"), C::Connection, R::Yes),
            (None, None, None, "peer closed connection without sending complete message body (incomplete chunked read)", Some("httpx.RemoteProtocolError"), C::Connection, R::Yes),
            (None, None, None, "Post \"https://api.openai.com/v1/chat/completions\": context deadline exceeded", None, C::Timeout, R::Yes),
            (Some(404), None, Some("invalid_request_error"), "This is a chat model and not supported in the v1/completions endpoint. Did you mean to use v1/chat/completions?", None, C::NotFound, R::AfterChange),
            (Some(404), None, Some("invalid_request_error"), "Invalid URL (POST /v1/chat/completion)", None, C::NotFound, R::AfterChange),
            (Some(401), None, Some("invalid_request_error"), "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", None, C::Authentication, R::No),
            (None, None, None, "The api_key client option must be set either by passing api_key to the client or by setting the OPENAI_API_KEY environment variable", Some("openai.OpenAIError"), C::ClientSide, R::AfterChange),
            (Some(400), Some("unsupported_value"), Some("invalid_request_error"), "Your organization must be verified to stream this model. Please go to: https://platform.openai.com/settings/organization/general and click on Verify Organization.", None, C::Permission, R::No),
            (Some(400), Some("unsupported_parameter"), Some("invalid_request_error"), "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", None, C::InvalidRequest, R::AfterChange),
            (Some(400), None, Some("invalid_request_error"), "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.", None, C::InvalidRequest, R::AfterChange),
            (Some(400), None, Some("invalid_request_error"), "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.", None, C::InvalidRequest, R::AfterChange),
            (Some(502), Some("502"), Some("cf_bad_gateway"), "Bad gateway.", None, C::ServerError, R::Yes),
            (Some(500), None, Some("server_error"), "The server had an error processing your request. Sorry about that! You can retry your request, or contact us through our help center at help.openai.com if you keep seeing this error.", None, C::ServerError, R::Yes),
            (Some(429), None, Some("server_error"), "That model is currently overloaded with other requests. You can retry your request, or contact us through our help center at help.openai.com if the error persists.", Some("openai.error.RateLimitError"), C::Overloaded, R::Yes),
            (Some(400), Some("content_policy_violation"), Some("invalid_request_error"), "Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.", None, C::ContentPolicy, R::AfterChange),
            (Some(400), Some("billing_hard_limit_reached"), Some("invalid_request_error"), "Billing hard limit has been reached", None, C::Quota, R::No),
            (Some(403), Some("unsupported_country_region_territory"), Some("request_forbidden"), "Country, region, or territory not supported", None, C::Permission, R::No),
            (Some(401), Some("invalid_api_key"), Some("invalid_request_error"), "Incorrect API key provided: sk-proj-********************abcd. You can find your API key at https://platform.openai.com/account/api-keys.", None, C::Authentication, R::No),
            (None, None, None, "An error occurred during streaming", Some("openai.APIError"), C::StreamError, R::Yes),
            (None, None, None, "Could not parse response content as the length limit was reached - CompletionUsage(completion_tokens=16384, prompt_tokens=1000, total_tokens=17384)", Some("openai.LengthFinishReasonError"), C::ContextLength, R::AfterChange),
            (Some(402), None, None, "deactivated_workspace", None, C::Quota, R::No),
            (Some(429), Some("rate_limit_exceeded"), None, "Rate limit exceeded for images per minute in organization org-abc. Limit: 0/1min. Current: 1/1min. Please visit https://platform.openai.com/docs/guides/rate-limits to learn how to increase your rate limit.", None, C::RateLimit, R::No),
            (None, None, None, "Rate limit reached for default-global-with-image-limits in organization org-abc on requests per min. Limit: 60.000000 / min. Current: 70.000000 / min.", Some("openai.error.RateLimitError"), C::RateLimit, R::Yes),
            (None, None, None, "Faraday::TooManyRequestsError: the server responded with status 429", None, C::RateLimit, R::Yes),
            (Some(529), None, Some("overloaded_error"), "Overloaded", Some("litellm.InternalServerError"), C::Overloaded, R::Yes),
        ];
        for (i, (status, code, ty, msg, exc, category, decision)) in cases.iter().enumerate() {
            let mut e = ev(*status, *code, *ty, Some(msg));
            e.exception = exc.map(String::from);
            let d = diagnose(&e);
            assert_eq!(
                (d.category, d.retry.decision),
                (*category, *decision),
                "case {i}: rule {} for {msg:?}",
                d.rule
            );
        }
    }

    #[test]
    fn a_phrase_starts_a_word_unless_glued_to_an_id() {
        assert!(holds("stream error: unexpected eof", "stream error"));
        assert!(holds("x (stream error)", "stream error"));
        // "upstream error" is not "stream error".
        assert!(!holds("do request failed: upstream error", "stream error"));
        // An ID that lost its space before the phrase still lets it count.
        assert!(holds(
            "project proj_fake0123456indoes not have access to model",
            "does not have access to model"
        ));
        // A single token may sit inside a class name.
        assert!(holds("aiohttp.clientsslerror", "sslerror"));
    }

    #[test]
    fn a_named_cause_beats_the_class_but_the_class_keeps_its_status() {
        let mut e = ev(
            None,
            None,
            None,
            Some("The server had an error while processing your request. Sorry about that!"),
        );
        e.exception = Some("openai.error.RateLimitError".into());
        let d = check(&e, Category::ServerError, RetryDecision::Yes);
        assert_eq!(d.status, Some(429));
    }

    #[test]
    fn a_gateway_naming_its_failed_upstream_call_is_a_connection_failure() {
        let d = check(
            &ev(Some(503), None, None, Some("fetch failed")),
            Category::Connection,
            RetryDecision::Yes,
        );
        assert_eq!(d.status, Some(503));
        check(
            &ev(
                None,
                None,
                None,
                Some("do request failed: upstream error: do request failed"),
            ),
            Category::Connection,
            RetryDecision::Yes,
        );
    }

    #[test]
    fn a_code_no_record_knows_is_read_for_its_words() {
        // Relays' and providers' codes name the cause where no message does.
        check(
            &ev(None, Some("quota_not_enough"), None, None),
            Category::Quota,
            RetryDecision::No,
        );
        check(
            &ev(
                None,
                Some("OutputImageSensitiveContentDetected"),
                None,
                Some("Request failed."),
            ),
            Category::ContentPolicy,
            RetryDecision::AfterChange,
        );
        check(
            &ev(Some(400), Some("api_key_invalid"), None, None),
            Category::Authentication,
            RetryDecision::No,
        );
        // A numeric code is not words; the status decides.
        check(
            &ev(Some(429), Some("500001"), None, None),
            Category::RateLimit,
            RetryDecision::Yes,
        );
    }

    #[test]
    fn providers_own_wordings_name_the_cause_over_the_status() {
        for (status, msg, category, decision) in [
            (
                Some(400),
                "The input token count (3377151) exceeds the maximum number of tokens allowed (1048576).",
                Category::ContextLength,
                RetryDecision::AfterChange,
            ),
            (
                Some(400),
                "input data may contain inappropiate content.",
                Category::ContentPolicy,
                RetryDecision::AfterChange,
            ),
            (
                None,
                "你的 API Key 没有访问 gpt-5 的权限",
                Category::Permission,
                RetryDecision::No,
            ),
            (
                Some(500),
                "服务接口异常,请联系管理员",
                Category::ServerError,
                RetryDecision::Yes,
            ),
            (
                None,
                "user quota is not enough",
                Category::Quota,
                RetryDecision::No,
            ),
            // Translations of OpenAI's own sentences, as localized apps print them.
            (
                Some(429),
                "您已超出当前配额，请检查计划和账单详情",
                Category::Quota,
                RetryDecision::No,
            ),
            (
                Some(429),
                "Вы превысили вашу текущую квоту",
                Category::Quota,
                RetryDecision::No,
            ),
            (
                None,
                "请求过于频繁，请稍后再试",
                Category::RateLimit,
                RetryDecision::Yes,
            ),
            (
                None,
                "服务器繁忙，请稍后再试",
                Category::Overloaded,
                RetryDecision::Yes,
            ),
            (
                Some(500),
                "服务器处理您的请求时发生错误",
                Category::ServerError,
                RetryDecision::Yes,
            ),
        ] {
            check(&ev(status, None, None, Some(msg)), category, decision);
        }
    }

    #[test]
    fn an_unknown_code_with_the_authentication_type_is_authentication() {
        check(
            &ev(
                Some(401),
                Some("api_key_required"),
                Some("authentication_error"),
                Some("API key required"),
            ),
            Category::Authentication,
            RetryDecision::No,
        );
        check(
            &ev(
                None,
                Some("api_key_required"),
                Some("authentication_error"),
                Some("API key required"),
            ),
            Category::Authentication,
            RetryDecision::No,
        );
    }
}
