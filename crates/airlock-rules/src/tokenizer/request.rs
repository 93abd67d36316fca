//! Token counts of whole requests, and the context budget.
//!
//! What is counted exactly: the text the model reads (message contents, roles, names, Responses
//! `input` and `instructions`, embedding inputs), with the tokenizer that matches tiktoken. What
//! is estimated: the framing around messages (OpenAI's documented 3 tokens per message, 1 per
//! name, 3 priming the reply), tool definitions (the cookbook's approximation), tool calls, and
//! images (the documented tile and patch formulas; the size is read from inline PNG, GIF, JPEG
//! and WebP data, else assumed). [`budget`] rejects only on what is certain: the exactly counted
//! text alone exceeding the context window.
//!
//! ```
//! use airlock_rules::tokenizer::{Encoding, Tokenizer};
//! use airlock_rules::tokenizer::request::{budget, count_request, Api, Limits};
//!
//! let t = Tokenizer::new(Encoding::O200kBase);
//! let body = serde_json::json!({
//!     "model": "gpt-4o",
//!     "messages": [{"role": "user", "content": "Hello world"}],
//!     "max_tokens": 100
//! });
//! let n = count_request(&t, Api::ChatCompletions, &body);
//! assert_eq!(n.exact, 3); // "user", "Hello", " world"
//! assert_eq!(n.total(), 9); // + 3 for the message, + 3 priming the reply
//!
//! let b = budget(&t, Api::ChatCompletions, &body, &Limits::new(8));
//! assert!(b.error.is_none()); // only the estimated framing goes over: a warning
//! assert!(b.warning.is_some());
//! let b = budget(&t, Api::ChatCompletions, &body, &Limits::new(2));
//! assert_eq!(b.error.unwrap().code.as_deref(), Some("context_length_exceeded"));
//! ```

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::Value;

use super::Tokenizer;
use crate::validate::ApiError;

/// The API a request body is for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Api {
    /// `POST /v1/chat/completions`.
    ChatCompletions,
    /// `POST /v1/responses`.
    Responses,
    /// `POST /v1/embeddings`.
    Embeddings,
}

impl Api {
    /// The API of an endpoint path (`/v1/chat/completions`, `chat/completions`, a full URL…).
    ///
    /// # Example
    /// ```
    /// use airlock_rules::tokenizer::request::Api;
    /// assert_eq!(Api::from_endpoint("/v1/responses"), Some(Api::Responses));
    /// assert_eq!(Api::from_endpoint("/v1/images/generations"), None);
    /// ```
    pub fn from_endpoint(endpoint: &str) -> Option<Api> {
        let p = endpoint
            .split('?')
            .next()
            .unwrap_or("")
            .trim_end_matches('/');
        if p.ends_with("chat/completions") {
            Some(Api::ChatCompletions)
        } else if p.ends_with("responses") {
            Some(Api::Responses)
        } else if p.ends_with("embeddings") {
            Some(Api::Embeddings)
        } else {
            None
        }
    }

    /// The param OpenAI names for the input (`messages`, `input`).
    pub fn input_param(self) -> &'static str {
        match self {
            Api::ChatCompletions => "messages",
            Api::Responses | Api::Embeddings => "input",
        }
    }
}

/// One counted part of a request.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Part {
    /// Where it is, as OpenAI names params (`messages[0].content`, `tools`, `input[2]`).
    pub param: String,
    /// Its tokens.
    pub tokens: u64,
    /// True when counted exactly, false when estimated.
    pub exact: bool,
}

/// The input tokens of a request, split into what is exact and what is estimated.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RequestTokens {
    /// Tokens counted exactly (text).
    pub exact: u64,
    /// Tokens estimated (framing, tools, images, tool calls).
    pub estimated: u64,
    /// The parts, in request order.
    pub parts: Vec<Part>,
    /// Embeddings: the exact tokens of each input.
    pub per_input: Vec<u64>,
    /// What could not be counted at all (e.g. audio or files), by param.
    pub uncounted: Vec<String>,
    /// Bytes of text tokenized.
    pub bytes_tokenized: u64,
    /// Bytes of text not tokenized, because the budget of [`count_request_within`] ran out.
    /// When not 0, `exact` and `estimated` are lower bounds: the text not tokenized is counted
    /// as `ceil(bytes / max_token_bytes)` tokens (every token is at most that long), and may
    /// have up to [`RequestTokens::more_at_most`] more.
    pub bytes_not_tokenized: u64,
    /// How many more tokens than `exact + estimated` the text not tokenized may hold (each of
    /// its tokens is at least one byte); 0 when everything was tokenized.
    pub more_at_most: u64,
    /// Characters of the text read, counted only by [`upper_bound`] and [`upper_bound_within`]
    /// (for [`rate_limit_estimate`]).
    #[serde(skip)]
    pub chars: u64,
    /// [`upper_bound_within`]: the tokens to save (bytes minus tokens of the text counted)
    /// before the rest is bounded by its bytes, and those saved so far.
    #[serde(skip)]
    saving: Option<(u64, u64)>,
    #[serde(skip)]
    budget_left: Option<usize>,
    /// [`upper_bound_within`]: bytes of text bounded by their length instead of tokenized.
    #[serde(skip)]
    bytes_bounded: u64,
    /// [`tighten`]: `chars` is known from [`upper_bound`]'s pass, so it is not counted again.
    #[serde(skip)]
    chars_known: bool,
}

/// Characters in `s` (UTF-8 lead bytes): its length less its continuation bytes (`10xxxxxx`),
/// counted eight bytes at a time (issue 14: a byte loop is not vectorized in wasm, and took ~7 %
/// of a 126k-token request's CPU in workerd).
fn count_chars(s: &str) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let b = s.as_bytes();
    let mut words = b.chunks_exact(8);
    let mut continuation = 0u64;
    for w in &mut words {
        let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        // Bit 7 set and bit 6 clear, per byte (`w << 1` puts each byte's bit 6 at its bit 7).
        continuation += u64::from((w & !(w << 1) & HIGH).count_ones());
    }
    let tail = words.remainder();
    let tail = tail.iter().filter(|b| (**b as i8) < -0x40).count() as u64;
    s.len() as u64 - continuation - tail
}

impl RequestTokens {
    /// Exact plus estimated.
    pub fn total(&self) -> u64 {
        self.exact + self.estimated
    }

    fn add(&mut self, param: String, tokens: u64, exact: bool) {
        if exact {
            self.exact += tokens;
        } else {
            self.estimated += tokens;
        }
        self.parts.push(Part {
            param,
            tokens,
            exact,
        });
    }

    fn text(&mut self, t: Option<&Tokenizer>, param: String, s: &str) {
        let n = self.count(t, s);
        self.add(param, n, true);
    }

    /// The tokens of `s` within what is left of the budget: exact when it fits, else a lower
    /// bound (see [`RequestTokens::bytes_not_tokenized`]).
    fn count(&mut self, t: Option<&Tokenizer>, s: &str) -> u64 {
        let Some(t) = t else {
            // Not tokenized: its bytes, the most tokens it can hold (every token of a byte-level
            // BPE is at least one byte), and its characters, for the rate limiter's estimate.
            self.chars += count_chars(s);
            return s.len() as u64;
        };
        if let Some((need, saved)) = self.saving {
            // Count only until enough is saved; the rest of this text, and every text after,
            // at a token a byte.
            if !self.chars_known {
                self.chars += count_chars(s);
            }
            if saved >= need {
                self.bytes_bounded += s.len() as u64;
                return s.len() as u64;
            }
            let left = self.budget_left.unwrap_or(usize::MAX);
            let want = usize::try_from(need - saved).unwrap_or(usize::MAX);
            let c = t.count_until(s, left, want);
            self.budget_left = self.budget_left.map(|l| l - c.cost);
            self.bytes_tokenized += c.bytes as u64;
            self.saving = Some((need, saved + (c.bytes - c.tokens) as u64));
            self.bytes_bounded += (s.len() - c.bytes) as u64;
            return (c.tokens + (s.len() - c.bytes)) as u64;
        }
        let Some(left) = self.budget_left else {
            let n = t.count(s) as u64;
            self.bytes_tokenized += s.len() as u64;
            return n;
        };
        let c = t.count_within(s, left);
        self.budget_left = Some(left - c.cost);
        self.bytes_tokenized += c.bytes as u64;
        let rest = (s.len() - c.bytes) as u64;
        let least = rest.div_ceil(t.max_token_bytes() as u64);
        self.bytes_not_tokenized += rest;
        self.more_at_most += rest - least;
        c.tokens as u64 + least
    }

    /// True when some text was not tokenized (the counts are lower bounds).
    pub fn partial(&self) -> bool {
        self.bytes_not_tokenized > 0
    }

    /// What [`count_request_within`] would report for the same request, when this is an
    /// [`upper_bound_within`] that tokenized every text (it never saved enough to stop, nor ran
    /// out of budget): then its counts are the exact ones, and counting again would only repeat
    /// the work. `None` otherwise.
    pub fn into_exact(mut self) -> Option<RequestTokens> {
        if self.saving.is_none() || self.bytes_bounded > 0 || self.bytes_not_tokenized > 0 {
            return None;
        }
        self.saving = None;
        self.budget_left = None;
        self.chars = 0;
        Some(self)
    }
}

/// Framing tokens per message (OpenAI cookbook, "How to count tokens with tiktoken").
pub const TOKENS_PER_MESSAGE: u64 = 3;
/// Extra tokens when a message has a `name`.
pub const TOKENS_PER_NAME: u64 = 1;
/// Tokens priming the assistant's reply.
pub const REPLY_PRIMING: u64 = 3;

/// Counts the input tokens of a request body. Never fails: what it cannot read it lists in
/// [`RequestTokens::uncounted`].
pub fn count_request(t: &Tokenizer, api: Api, body: &Value) -> RequestTokens {
    count_request_within(t, api, body, usize::MAX)
}

/// [`count_request`] with tokenizing bounded by `budget` (bytes merged, as
/// [`Tokenizer::count_within`] charges them; one budget for all the texts of the request, in
/// request order). Text past the budget is not tokenized; the counts are then lower bounds
/// ([`RequestTokens::bytes_not_tokenized`]). `usize::MAX` counts everything.
///
/// # Example
/// ```
/// use airlock_rules::tokenizer::{Encoding, Tokenizer};
/// use airlock_rules::tokenizer::request::{count_request_within, Api};
/// let t = Tokenizer::new(Encoding::O200kBase);
/// let body = serde_json::json!({"input": " word".repeat(100)});
/// // " word" is one token, found whole in the vocabulary: it costs 5/8 (an eighth of its bytes),
/// // but the next is counted only if its full cost (5) fits: 73 are.
/// let n = count_request_within(&t, Api::Embeddings, &body, 50);
/// assert_eq!((n.bytes_tokenized, n.bytes_not_tokenized), (365, 135));
/// assert_eq!(n.exact, 73 + 2); // the 135 bytes left hold at least 2 tokens (128 bytes at most each)…
/// assert_eq!(n.more_at_most, 135 - 2); // …and at most 135
/// ```
pub fn count_request_within(t: &Tokenizer, api: Api, body: &Value, budget: usize) -> RequestTokens {
    count_in(Some(t), api, body, budget)
}

/// The most input tokens `body` can hold, without tokenizing: [`count_request`] with every text
/// counted as its length in bytes (every token of a byte-level BPE, `o200k_base` and
/// `cl100k_base` alike, is at least one byte, so a text of B bytes has at most B tokens), and
/// the estimated parts (framing, tools, images, token arrays) as [`count_request`] estimates
/// them from those numbers. Every part is at least the one [`count_request`] reports: the
/// estimates only ever add the counts of their texts. [`RequestTokens::chars`] holds the
/// characters of the texts, for [`rate_limit_estimate`].
///
/// # Example
/// ```
/// use airlock_rules::tokenizer::request::{upper_bound, Api};
/// let body = serde_json::json!({"messages": [{"role": "user", "content": "Hello world"}]});
/// let most = upper_bound(Api::ChatCompletions, &body);
/// assert_eq!(most.exact, 4 + 11); // "user" and "Hello world", a token a byte at most
/// assert_eq!(most.total(), 15 + 3 + 3);
/// assert_eq!(most.chars, 15);
/// ```
pub fn upper_bound(api: Api, body: &Value) -> RequestTokens {
    count_in(None, api, body, usize::MAX)
}

/// [`upper_bound`], tightened by counting texts in request order (within `budget`, as
/// [`count_request_within`]) only until the tokens they saved against their bytes bring the bound
/// down by `need`; the rest is bounded by its bytes. Still an upper bound of what
/// [`count_request`] reports (every part adds the counts of its texts with a positive weight, so
/// a text counted exactly lowers the total by exactly what it saves): when it fits, the request
/// certainly does ([`certainly_fits`]). For a text longer than the window, the exact count is
/// then only needed for the part that decides.
///
/// # Example
/// ```
/// use airlock_rules::tokenizer::{Encoding, Tokenizer};
/// use airlock_rules::tokenizer::request::{upper_bound_within, Api};
/// let t = Tokenizer::new(Encoding::O200kBase);
/// let body = serde_json::json!({"input": " word".repeat(1000)}); // 5,000 bytes, 1,000 tokens
/// let most = upper_bound_within(&t, Api::Responses, &body, usize::MAX, 2_000);
/// assert!(most.total() <= 5_000 + 6 - 2_000);
/// assert!(most.bytes_tokenized < 5_000);
/// ```
pub fn upper_bound_within(
    t: &Tokenizer,
    api: Api,
    body: &Value,
    budget: usize,
    need: u64,
) -> RequestTokens {
    within(t, api, body, budget, need, None)
}

/// [`upper_bound_within`] of the body `most` is the [`upper_bound`] of: the same, but its
/// [`RequestTokens::chars`] taken from `most` (both passes read the same texts, every one of
/// them, in the same order) instead of counted again (issue 14: ~4 % of a long request's check).
pub(crate) fn tighten(
    most: &RequestTokens,
    t: &Tokenizer,
    api: Api,
    body: &Value,
    budget: usize,
    need: u64,
) -> RequestTokens {
    within(t, api, body, budget, need, Some(most.chars))
}

/// [`upper_bound_within`], its characters counted or (`Some`) known.
fn within(
    t: &Tokenizer,
    api: Api,
    body: &Value,
    budget: usize,
    need: u64,
    chars: Option<u64>,
) -> RequestTokens {
    let mut n = RequestTokens {
        budget_left: (budget != usize::MAX).then_some(budget),
        saving: Some((need, 0)),
        chars_known: chars.is_some(),
        ..RequestTokens::default()
    };
    fill(&mut n, Some(t), api, body);
    if let Some(chars) = chars {
        n.chars = chars;
        n.chars_known = false;
    }
    n
}

/// Characters per token in OpenAI's rate limiter's estimate ([`rate_limit_estimate`]).
pub const RATE_LIMIT_CHARS_PER_TOKEN: u64 = 4;

/// OpenAI's own estimate of what a request costs against its token rate limit: "Your rate limit
/// is calculated as the maximum of `max_tokens` and the estimated number of tokens based on the
/// character count of your request" (OpenAI's rate limits guide, "Reduce the `max_tokens` to match
/// the size of your completions"; see `rules/README.md`), with the guide's rule of thumb of about
/// four characters a token: `max(output, ceil(chars / 4))`. `chars` is the characters of the text
/// the model reads ([`upper_bound`]'s [`RequestTokens::chars`]); `output` the requested output.
///
/// # Example
/// ```
/// use airlock_rules::tokenizer::request::rate_limit_estimate;
/// assert_eq!(rate_limit_estimate(2000, None), 500);
/// assert_eq!(rate_limit_estimate(2001, Some(100)), 501);
/// assert_eq!(rate_limit_estimate(2000, Some(4096)), 4096);
/// ```
pub fn rate_limit_estimate(chars: u64, output: Option<u64>) -> u64 {
    chars
        .div_ceil(RATE_LIMIT_CHARS_PER_TOKEN)
        .max(output.unwrap_or(0))
}

/// True when the request certainly fits `limits` whatever its exact token count: the most it can
/// hold ([`upper_bound`]), plus the requested output where it shares the window, is within the
/// window (embeddings: every input within the per-input limit, and all of them within
/// [`EMBEDDINGS_MAX_TOKENS_PER_REQUEST`]). Then [`budget`] finds neither an error nor a warning,
/// and [`budget_within`] nothing uncertain, so the exact count can be skipped. Conservative: it
/// may say `false` for a request that fits, never `true` for one that does not.
///
/// # Example
/// ```
/// use airlock_rules::tokenizer::request::{certainly_fits, upper_bound, Api, Limits};
/// let body = serde_json::json!({"messages": [{"role": "user", "content": "Hello world"}], "max_tokens": 100});
/// let most = upper_bound(Api::ChatCompletions, &body);
/// assert!(certainly_fits(&most, Api::ChatCompletions, &body, &Limits::new(121)));
/// assert!(!certainly_fits(&most, Api::ChatCompletions, &body, &Limits::new(120)));
/// ```
pub fn certainly_fits(most: &RequestTokens, api: Api, body: &Value, limits: &Limits) -> bool {
    let window = limits.context_window;
    if api == Api::Embeddings {
        return most.per_input.iter().all(|&n| n <= window)
            && most.exact <= EMBEDDINGS_MAX_TOKENS_PER_REQUEST;
    }
    let out = requested_output(body)
        .map(|o| o.0)
        .or(limits.default_output)
        .unwrap_or(0);
    let input = most.total();
    if limits.output_in_window {
        input.checked_add(out).is_some_and(|n| n <= window)
    } else {
        input <= window
    }
}

/// [`count_request_within`], with `t` or (`None`) every text counted as its bytes.
fn count_in(t: Option<&Tokenizer>, api: Api, body: &Value, budget: usize) -> RequestTokens {
    let mut n = RequestTokens {
        budget_left: (budget != usize::MAX).then_some(budget),
        ..RequestTokens::default()
    };
    fill(&mut n, t, api, body);
    n
}

/// Counts the parts of `body` into `n`.
fn fill(n: &mut RequestTokens, t: Option<&Tokenizer>, api: Api, body: &Value) {
    let model = body.get("model").and_then(Value::as_str).unwrap_or("");
    match api {
        Api::ChatCompletions => {
            if let Some(messages) = body.get("messages").and_then(Value::as_array) {
                for (i, m) in messages.iter().enumerate() {
                    message(t, model, n, &format!("messages[{i}]"), m);
                }
                n.add("messages (reply priming)".into(), REPLY_PRIMING, false);
            }
            let tools = body.get("tools").or_else(|| body.get("functions"));
            if let Some(tools) = tools.and_then(Value::as_array) {
                let est = tool_definitions_in(n, t, model, tools);
                n.add("tools".into(), est, false);
            }
        }
        Api::Responses => {
            if let Some(s) = body.get("instructions").and_then(Value::as_str) {
                n.text(t, "instructions".into(), s);
                n.add("instructions (framing)".into(), TOKENS_PER_MESSAGE, false);
            }
            match body.get("input") {
                Some(Value::String(s)) => {
                    n.text(t, "input".into(), s);
                    n.add("input (framing)".into(), TOKENS_PER_MESSAGE, false);
                }
                Some(Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        message(t, model, n, &format!("input[{i}]"), item);
                    }
                }
                _ => {}
            }
            n.add("input (reply priming)".into(), REPLY_PRIMING, false);
            if let Some(tools) = body.get("tools").and_then(Value::as_array) {
                let est = tool_definitions_in(n, t, model, tools);
                n.add("tools".into(), est, false);
            }
        }
        Api::Embeddings => match body.get("input") {
            Some(Value::String(s)) => {
                let c = n.count(t, s);
                n.per_input.push(c);
                n.add("input".into(), c, true);
            }
            Some(Value::Array(items)) => {
                // An array of strings, of token arrays, or itself one token array.
                if items.iter().all(Value::is_number) && !items.is_empty() {
                    n.per_input.push(items.len() as u64);
                    n.add("input".into(), items.len() as u64, true);
                } else {
                    for (i, item) in items.iter().enumerate() {
                        let c = match item {
                            Value::String(s) => n.count(t, s),
                            Value::Array(ids) => ids.len() as u64,
                            _ => {
                                n.uncounted.push(format!("input[{i}]"));
                                continue;
                            }
                        };
                        n.per_input.push(c);
                        n.add(format!("input[{i}]"), c, true);
                    }
                }
            }
            _ => {}
        },
    }
}

/// One Chat Completions message or Responses input item.
fn message(t: Option<&Tokenizer>, model: &str, n: &mut RequestTokens, at: &str, m: &Value) {
    let Some(obj) = m.as_object() else {
        if let Some(s) = m.as_str() {
            n.text(t, at.to_string(), s);
        }
        return;
    };
    n.add(format!("{at} (framing)"), TOKENS_PER_MESSAGE, false);
    for (key, value) in obj {
        let param = format!("{at}.{key}");
        match (key.as_str(), value) {
            ("type", _) | ("id", _) | ("status", _) => {}
            ("name", Value::String(s)) => {
                n.text(t, param, s);
                if obj.contains_key("role") {
                    n.add(format!("{at}.name (framing)"), TOKENS_PER_NAME, false);
                }
            }
            ("arguments", Value::String(s)) | ("output", Value::String(s)) => {
                n.text(t, param, s);
            }
            (_, Value::String(s)) => n.text(t, param, s),
            ("content", Value::Array(parts)) => {
                for (j, p) in parts.iter().enumerate() {
                    content_part(t, model, n, &format!("{param}[{j}]"), p);
                }
            }
            ("tool_calls", Value::Array(calls)) => {
                for (j, c) in calls.iter().enumerate() {
                    let f = c.get("function").unwrap_or(c);
                    let mut est = 3u64;
                    for k in ["name", "arguments"] {
                        if let Some(s) = f.get(k).and_then(Value::as_str) {
                            est += n.count(t, s);
                        }
                    }
                    n.add(format!("{param}[{j}]"), est, false);
                }
            }
            ("function_call", Value::Object(f)) => {
                let mut est = 3u64;
                for k in ["name", "arguments"] {
                    if let Some(s) = f.get(k).and_then(Value::as_str) {
                        est += n.count(t, s);
                    }
                }
                n.add(param, est, false);
            }
            (_, Value::Null) | (_, Value::Bool(_)) | (_, Value::Number(_)) => {}
            _ => n.uncounted.push(param),
        }
    }
}

/// One part of a message's `content` array.
fn content_part(t: Option<&Tokenizer>, model: &str, n: &mut RequestTokens, at: &str, p: &Value) {
    let kind = p.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "text" | "input_text" | "output_text" | "refusal" => {
            let s = p
                .get("text")
                .or_else(|| p.get("refusal"))
                .and_then(Value::as_str)
                .unwrap_or("");
            n.text(t, format!("{at}.text"), s);
        }
        "image_url" | "input_image" => {
            let (url, detail) = match p.get("image_url") {
                Some(Value::Object(o)) => (
                    o.get("url").and_then(Value::as_str),
                    o.get("detail").and_then(Value::as_str),
                ),
                Some(Value::String(s)) => {
                    (Some(s.as_str()), p.get("detail").and_then(Value::as_str))
                }
                _ => (None, p.get("detail").and_then(Value::as_str)),
            };
            let size = url.and_then(data_url_size);
            let tokens = image_tokens(model, detail.unwrap_or("auto"), size);
            n.add(format!("{at} (image)"), tokens, false);
        }
        _ => {
            if let Some(s) = p.as_str() {
                n.text(t, at.to_string(), s);
            } else {
                n.uncounted.push(at.to_string());
            }
        }
    }
}

/// The cookbook's estimate for tool (function) definitions, "How to count tokens with tiktoken".
pub fn tool_definitions(t: &Tokenizer, model: &str, tools: &[Value]) -> u64 {
    tool_definitions_in(&mut RequestTokens::default(), Some(t), model, tools)
}

/// [`tool_definitions`], counting within the budget of `n`.
fn tool_definitions_in(
    n: &mut RequestTokens,
    t: Option<&Tokenizer>,
    model: &str,
    tools: &[Value],
) -> u64 {
    let older = model.starts_with("gpt-3.5")
        || (model.starts_with("gpt-4")
            && !model.starts_with("gpt-4o")
            && !model.starts_with("gpt-4."));
    let (func_init, prop_init, prop_key, enum_init, enum_item, func_end): (
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
    ) = if older {
        (10, 3, 3, -3, 3, 12)
    } else {
        (7, 3, 3, -3, 3, 12)
    };
    if tools.is_empty() {
        return 0;
    }
    let mut count = |s: &str| n.count(t, s) as i64;
    let mut total: i64 = 0;
    for tool in tools {
        let f = tool.get("function").unwrap_or(tool);
        total += func_init;
        let name = f.get("name").and_then(Value::as_str).unwrap_or("");
        let desc = f.get("description").and_then(Value::as_str).unwrap_or("");
        let desc = desc.strip_suffix('.').unwrap_or(desc);
        total += count(&format!("{name}:{desc}"));
        let props = f
            .get("parameters")
            .and_then(|p| p.get("properties"))
            .and_then(Value::as_object);
        if let Some(props) = props.filter(|p| !p.is_empty()) {
            total += prop_init;
            for (key, p) in props {
                total += prop_key;
                if let Some(items) = p.get("enum").and_then(Value::as_array) {
                    total += enum_init;
                    for item in items {
                        total += enum_item;
                        match item {
                            Value::String(s) => total += count(s),
                            other => total += count(&other.to_string()),
                        }
                    }
                }
                let ty = match p.get("type") {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                let pd = p.get("description").and_then(Value::as_str).unwrap_or("");
                let pd = pd.strip_suffix('.').unwrap_or(pd);
                total += count(&format!("{key}:{ty}:{pd}"));
            }
        }
    }
    total += func_end;
    total.max(0) as u64
}

/// The image size assumed when it cannot be read (a common photo size).
pub const ASSUMED_IMAGE_SIZE: (u64, u64) = (1024, 1024);

/// Estimated input tokens of one image: OpenAI's documented formulas. Tile-based models (GPT-4o,
/// GPT-4.1, GPT-4.5, o1, o3: base + per-512-px-tile after fitting in 2048×2048 and scaling the short
/// side to 768; `low` is the base alone) and patch-based ones (gpt-4.1-mini, gpt-4.1-nano,
/// o4-mini, GPT-5 mini/nano: 32-px patches capped at 1536, times a per-model multiplier). `size`
/// is (width, height) in pixels when known.
pub fn image_tokens(model: &str, detail: &str, size: Option<(u64, u64)>) -> u64 {
    let m = model.strip_prefix("ft:").unwrap_or(model);
    let patch_multiplier = if m.starts_with("gpt-4.1-mini") || m.starts_with("gpt-5-mini") {
        Some(162)
    } else if m.starts_with("gpt-4.1-nano") || m.starts_with("gpt-5-nano") {
        Some(246)
    } else if m.starts_with("o4-mini") {
        Some(172)
    } else {
        None
    };
    let (w, h) = size.unwrap_or(ASSUMED_IMAGE_SIZE);
    if let Some(mult) = patch_multiplier {
        return patches(w, h) * mult / 100;
    }
    let (base, tile) = if m.starts_with("gpt-4o-mini") {
        (2833, 5667)
    } else if m.starts_with("o1") || m.starts_with("o3") {
        (75, 150)
    } else if m.starts_with("computer-use") {
        (65, 129)
    } else {
        (85, 170)
    };
    if detail == "low" {
        return base;
    }
    base + tile * tiles(w, h)
}

/// 512-px tiles after fitting in 2048×2048 and scaling the shortest side to 768.
fn tiles(w: u64, h: u64) -> u64 {
    let (mut w, mut h) = (w.max(1), h.max(1));
    if w > 2048 || h > 2048 {
        let big = w.max(h);
        w = (w * 2048).div_ceil(big);
        h = (h * 2048).div_ceil(big);
    }
    let short = w.min(h);
    if short > 768 {
        w = w * 768 / short;
        h = h * 768 / short;
    }
    w.div_ceil(512) * h.div_ceil(512)
}

/// 32-px patches, scaled down to fit 1536 patches.
fn patches(w: u64, h: u64) -> u64 {
    let (w, h) = (w.max(1), h.max(1));
    let raw = w.div_ceil(32) * h.div_ceil(32);
    if raw <= 1536 {
        return raw;
    }
    // Scale by r = sqrt(32*32*1536 / (w*h)), in fixed point (1e6).
    let r = isqrt(32 * 32 * 1536 * 1_000_000_000_000 / (w * h));
    let (sw, sh) = (w * r, h * r); // scaled by 1e6
    let unit = 32 * 1_000_000;
    // Shrink so whole patches fit in width or height (OpenAI's adjustment).
    let fw = (sw / unit) * unit;
    let fh = (sh / unit) * unit;
    let (sw, sh) = if fw * sh < fh * sw {
        (fw, sh * fw / sw.max(1))
    } else {
        (sw * fh / sh.max(1), fh)
    };
    (sw.div_ceil(unit) * sh.div_ceil(unit)).min(1536)
}

fn isqrt(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let mut x = n;
    let mut y = x.div_ceil(2);
    while y < x {
        x = y;
        y = (x + n / x) / 2;
    }
    x
}

/// The (width, height) of a base64 `data:` URL image (PNG, GIF, JPEG or WebP), when readable.
pub fn data_url_size(url: &str) -> Option<(u64, u64)> {
    let rest = url.strip_prefix("data:")?;
    let (_, data) = rest.split_once(";base64,")?;
    let head = b64_prefix(data, 64 * 1024);
    image_size(&head)
}

fn b64_prefix(s: &str, max: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => continue,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
            if out.len() >= max {
                break;
            }
        }
    }
    out
}

/// The size in an image file's header.
pub fn image_size(b: &[u8]) -> Option<(u64, u64)> {
    let be32 = |i: usize| -> Option<u64> {
        Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?) as u64)
    };
    let be16 = |i: usize| -> Option<u64> {
        Some(u16::from_be_bytes(b.get(i..i + 2)?.try_into().ok()?) as u64)
    };
    let le16 = |i: usize| -> Option<u64> {
        Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?) as u64)
    };
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some((be32(16)?, be32(20)?));
    }
    if b.starts_with(b"GIF8") {
        return Some((le16(6)?, le16(8)?));
    }
    if b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WEBP") {
        let le24 = |i: usize| -> Option<u64> {
            let s = b.get(i..i + 3)?;
            Some(s[0] as u64 | (s[1] as u64) << 8 | (s[2] as u64) << 16)
        };
        return match b.get(12..16)? {
            b"VP8X" => Some((le24(24)? + 1, le24(27)? + 1)),
            b"VP8L" => {
                let v = u32::from_le_bytes(b.get(21..25)?.try_into().ok()?) as u64;
                Some(((v & 0x3FFF) + 1, ((v >> 14) & 0x3FFF) + 1))
            }
            b"VP8 " => Some((le16(26)? & 0x3FFF, le16(28)? & 0x3FFF)),
            _ => None,
        };
    }
    if b.starts_with(b"\xff\xd8") {
        let mut i = 2;
        while i + 9 < b.len() {
            if b[i] != 0xFF {
                i += 1;
                continue;
            }
            let marker = b[i + 1];
            if marker == 0xFF {
                i += 1;
                continue;
            }
            if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
                return Some((be16(i + 7)?, be16(i + 5)?));
            }
            if marker == 0xD8 || (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
                i += 2;
                continue;
            }
            i += 2 + be16(i + 2)? as usize;
        }
    }
    None
}

/// A model's token limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The context window (input + output); for embeddings, the per-input limit. When
    /// [`Limits::output_in_window`] is false, the limit on the input alone.
    pub context_window: u64,
    /// The most output tokens the model produces, if known.
    pub max_output: Option<u64>,
    /// The output reserved when the request names no limit (often the model's maximum).
    pub default_output: Option<u64>,
    /// True when the requested output shares `context_window` with the input (GPT-4o: 128,000
    /// in all); false when `context_window` bounds the input alone and the output has its own
    /// budget (the GPT-5 family: 272,000 input + 128,000 output in a 400,000 window).
    pub output_in_window: bool,
}

/// Embedding models whose per-input limit is certain: 8192 tokens (OpenAI's embeddings guide,
/// and the number in its error message).
const EMBEDDINGS_8192: &[&str] = &[
    "text-embedding-3-small",
    "text-embedding-3-large",
    "text-embedding-ada-002",
];

impl Limits {
    /// A context window with no output limits known.
    pub fn new(context_window: u64) -> Limits {
        Limits {
            context_window,
            max_output: None,
            default_output: None,
            output_in_window: true,
        }
    }

    /// The limits of `model` from the model data (`rules/models.toml`, from litellm's catalog):
    /// exact model ids only (a snapshot the data does not list gets none, rather than a guess
    /// from its family), fine-tunes as their base. `None` for a model whose limits are not known;
    /// the budget then rejects nothing.
    ///
    /// No output is reserved by default: the API answers a request without an output limit
    /// with as many tokens as fit.
    ///
    /// # Example
    /// ```
    /// use airlock_rules::tokenizer::request::Limits;
    /// let l = Limits::for_model("gpt-4o").unwrap();
    /// assert_eq!((l.context_window, l.max_output), (128_000, Some(16_384)));
    /// let l = Limits::for_model("gpt-5").unwrap();
    /// assert_eq!((l.context_window, l.output_in_window), (272_000, false));
    /// assert_eq!(Limits::for_model("text-embedding-3-small").unwrap().context_window, 8192);
    /// assert!(Limits::for_model("my-local-model").is_none());
    /// ```
    pub fn for_model(model: &str) -> Option<Limits> {
        let model = model.strip_prefix("openai/").unwrap_or(model);
        let info = crate::validate::models::lookup(model)?.info?;
        let id = info.name;
        if info.mode == "embedding" {
            // Only the per-input limit OpenAI documents and states in its error is certain.
            return EMBEDDINGS_8192
                .iter()
                .any(|m| id.starts_with(m))
                .then(|| Limits::new(8192));
        }
        let window = info.max_input_tokens?;
        Some(Limits {
            context_window: window,
            max_output: info.max_output_tokens,
            default_output: None,
            // The catalog's input limit for the GPT-5 family is the input's own budget
            // (OpenAI: "Input tokens exceed the configured limit of 272000 tokens").
            output_in_window: !id.starts_with("gpt-5"),
        })
    }
}

/// Embeddings: the most tokens in all inputs of one request.
pub const EMBEDDINGS_MAX_TOKENS_PER_REQUEST: u64 = 300_000;

/// The budget of one request.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Budget {
    /// The input tokens.
    pub input: RequestTokens,
    /// The output tokens requested, and by which param (`max_tokens`, …, or `default`).
    pub output: Option<(u64, String)>,
    /// The context window compared with.
    pub context_window: u64,
    /// OpenAI's error when the request certainly exceeds the window.
    pub error: Option<ApiError>,
    /// When it may exceed it (estimated parts, or the output reservation), the same numbers.
    pub warning: Option<ApiError>,
    /// True when text was left untokenized ([`budget_within`]) and it decides: the request is
    /// neither certainly over the window (`error`) nor certainly within it.
    pub uncertain: bool,
}

fn api_error(message: String, param: Option<&str>, code: &str) -> ApiError {
    ApiError {
        message,
        error_type: "invalid_request_error".into(),
        param: param.map(String::from),
        code: Some(code.into()),
    }
}

fn context_message(window: u64, input: u64, output: u64) -> String {
    format!(
        "This model's maximum context length is {window} tokens. However, you requested {} tokens ({input} in the messages, {output} in the completion). Please reduce the length of the messages or completion.",
        input + output
    )
}

/// The output a request asks for, and by which param (`max_completion_tokens`, `max_tokens`,
/// `max_output_tokens`, in that order).
pub fn requested_output(body: &Value) -> Option<(u64, String)> {
    ["max_completion_tokens", "max_tokens", "max_output_tokens"]
        .iter()
        .find_map(|k| {
            body.get(*k)
                .and_then(Value::as_u64)
                .map(|v| (v, String::from(*k)))
        })
}

/// Input + requested output against the context window. An error only when the exactly counted
/// text alone exceeds the window (certain); a warning when the estimated parts or the requested
/// output push it over.
///
/// # Example
/// ```
/// use airlock_rules::tokenizer::{Encoding, Tokenizer};
/// use airlock_rules::tokenizer::request::{budget, Api, Limits};
/// let t = Tokenizer::new(Encoding::Cl100kBase);
/// let body = serde_json::json!({"model": "text-embedding-3-small", "input": ["a b c d e f g h"]});
/// let b = budget(&t, Api::Embeddings, &body, &Limits::new(4));
/// assert_eq!(b.error.unwrap().param.as_deref(), Some("input"));
/// ```
pub fn budget(t: &Tokenizer, api: Api, body: &Value, limits: &Limits) -> Budget {
    budget_within(t, api, body, limits, usize::MAX)
}

/// [`budget`] with tokenizing bounded by `max_cost` ([`count_request_within`]). Still
/// certain: the error only when the tokens counted plus the least the rest can hold
/// (`ceil(bytes / max_token_bytes)`) exceed the window; when the most the rest can hold (one
/// token a byte) may not fit either, [`Budget::uncertain`] is set and nothing is rejected.
///
/// # Example
/// ```
/// use airlock_rules::tokenizer::{Encoding, Tokenizer};
/// use airlock_rules::tokenizer::request::{budget_within, Api, Limits};
/// let t = Tokenizer::new(Encoding::O200kBase);
/// let body = serde_json::json!({"input": " word".repeat(1000)});
/// // 765 bytes tokenized (153 tokens at 5/8), plus at least 34 in the 4,235 bytes left.
/// let b = budget_within(&t, Api::Responses, &body, &Limits::new(50), 100);
/// assert!(b.error.is_some());
/// let b = budget_within(&t, Api::Responses, &body, &Limits::new(2000), 100);
/// assert!(b.error.is_none() && b.uncertain);
/// let b = budget_within(&t, Api::Responses, &body, &Limits::new(5000), 100);
/// assert!(b.error.is_none() && !b.uncertain); // at most 153 + 4,235 + framing
/// ```
pub fn budget_within(
    t: &Tokenizer,
    api: Api,
    body: &Value,
    limits: &Limits,
    max_cost: usize,
) -> Budget {
    budget_of(
        count_request_within(t, api, body, max_cost),
        api,
        body,
        limits,
    )
}

/// [`budget_within`] of a request whose tokens were already counted (`input`, as
/// [`count_request_within`] or [`RequestTokens::into_exact`] reports them).
pub fn budget_of(input: RequestTokens, api: Api, body: &Value, limits: &Limits) -> Budget {
    let window = limits.context_window;
    let param = api.input_param();
    let mut b = Budget {
        input,
        output: None,
        context_window: window,
        error: None,
        warning: None,
        uncertain: false,
    };
    let least = if b.input.partial() { "at least " } else { "" };
    if api == Api::Embeddings {
        if let Some(&most) = b.input.per_input.iter().max() {
            if most > window {
                b.error = Some(api_error(
                    format!(
                        "This model's maximum context length is {window} tokens, however you requested {least}{most} tokens ({most} in your prompt; 0 for the completion). Please reduce your prompt; or completion length."
                    ),
                    Some(param),
                    "context_length_exceeded",
                ));
            }
        }
        let total = b.input.exact;
        if b.error.is_none() && total > EMBEDDINGS_MAX_TOKENS_PER_REQUEST {
            b.error = Some(api_error(
                format!(
                    "Requested {least}{total} tokens, max {EMBEDDINGS_MAX_TOKENS_PER_REQUEST} tokens per request"
                ),
                None,
                "max_tokens_per_request",
            ));
        }
        // Certain either way when even the most the untokenized text can hold fits.
        let most = b.input.more_at_most;
        let per_input = b.input.per_input.iter().max().copied().unwrap_or(0);
        let may_be_over =
            per_input + most > window || total + most > EMBEDDINGS_MAX_TOKENS_PER_REQUEST;
        b.uncertain = b.input.partial() && b.error.is_none() && may_be_over;
        return b;
    }
    let requested = requested_output(body);
    let explicit_output = requested.is_some();
    b.output = requested.or_else(|| limits.default_output.map(|v| (v, String::from("default"))));
    let out = b.output.as_ref().map_or(0, |o| o.0);
    let exact = b.input.exact;
    let total = b.input.total();
    let message = if api == Api::Responses {
        // The Responses API's own wording, whatever the model (param `input`).
        String::from(
            "Your input exceeds the context window of this model. Please adjust your input and try again.",
        )
    } else if !limits.output_in_window {
        format!(
            "Input tokens exceed the configured limit of {window} tokens. Your messages resulted in {least}{total} tokens. Please reduce the length of the messages."
        )
    } else if explicit_output && !b.input.partial() {
        context_message(window, total, out)
    } else if explicit_output {
        format!(
            "This model's maximum context length is {window} tokens. However, you requested at least {} tokens (at least {total} in the messages, {out} in the completion). Please reduce the length of the messages or completion.",
            total + out
        )
    } else {
        // Without an output limit in the request, OpenAI names only the messages.
        format!(
            "This model's maximum context length is {window} tokens. However, your messages resulted in {least}{total} tokens. Please reduce the length of the messages."
        )
    };
    let over = if limits.output_in_window {
        total + out > window
    } else {
        total > window
    };
    if exact > window {
        b.error = Some(api_error(message, Some(param), "context_length_exceeded"));
    } else if over {
        b.warning = Some(api_error(message, Some(param), "context_length_exceeded"));
    }
    // The most the untokenized text can hold still fits: certain either way.
    let most = total + b.input.more_at_most;
    let may_be_over = if limits.output_in_window {
        most + out > window
    } else {
        most > window
    };
    b.uncertain = b.input.partial() && b.error.is_none() && may_be_over;
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_chars_counts_what_chars_counts() {
        let samples = [
            "",
            "a",
            "héllo wörld, 日本語のテキスト 🦀🦀 and more ascii after it",
            "ééééééééééééééééé",
            "🦀",
            "1234567\u{10FFFF}89",
        ];
        for s in samples {
            for start in 0..s.len() {
                if let Some(part) = s.get(start..) {
                    assert_eq!(count_chars(part), part.chars().count() as u64, "{part:?}");
                }
            }
        }
    }

    #[test]
    fn a_lazy_pass_that_tokenized_everything_is_the_exact_count() {
        use crate::tokenizer::Encoding;
        let t = Tokenizer::new(Encoding::O200kBase);
        let body = serde_json::json!({"model": "gpt-4o", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": " word".repeat(300)},
            {"role": "assistant", "content": "héllo wörld 12345 ".repeat(40), "name": "bot"},
        ]});
        let exact = count_request_within(&t, Api::ChatCompletions, &body, usize::MAX);
        // Never saves enough: every text tokenized, and the counts are the exact ones.
        let lazy = upper_bound_within(&t, Api::ChatCompletions, &body, usize::MAX, u64::MAX);
        assert_eq!(lazy.clone().into_exact(), Some(exact.clone()));
        let limits = Limits::new(500);
        let (a, b) = (
            budget_of(
                lazy.into_exact().unwrap(),
                Api::ChatCompletions,
                &body,
                &limits,
            ),
            budget_within(&t, Api::ChatCompletions, &body, &limits, usize::MAX),
        );
        assert_eq!(
            (a.input, a.error, a.warning, a.uncertain),
            (b.input, b.error, b.warning, b.uncertain)
        );
        // Stopped early (enough saved) or out of budget: not exact, so not offered as such.
        let stopped = upper_bound_within(&t, Api::ChatCompletions, &body, usize::MAX, 100);
        assert!(stopped.bytes_tokenized < exact.bytes_tokenized);
        assert_eq!(stopped.into_exact(), None);
        let poor = upper_bound_within(&t, Api::ChatCompletions, &body, 50, u64::MAX);
        assert_eq!(poor.into_exact(), None);
        // Counted without the saving pass: never taken for it.
        assert_eq!(exact.into_exact(), None);
    }

    /// `tighten` is `upper_bound_within` with the characters taken from `upper_bound`: equal
    /// in every field, whether it stops early, runs out of budget or counts everything.
    #[test]
    fn tighten_equals_upper_bound_within() {
        use crate::tokenizer::Encoding;
        let bodies = [
            (
                Api::ChatCompletions,
                serde_json::json!({"model": "gpt-4o", "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": " word".repeat(300)},
                {"role": "assistant", "content": "héllo wörld 12345 日本語 ".repeat(40), "name": "bot"},
            ], "tools": [{"type": "function", "function": {"name": "f", "description": "dé", "parameters": {"type": "object", "properties": {"x": {"type": "string", "enum": ["ü", "b"]}}}}}]}),
            ),
            (
                Api::Responses,
                serde_json::json!({"instructions": "Résumé.", "input": [{"role": "user", "content": [{"type": "input_text", "text": "ça va ".repeat(99)}]}]}),
            ),
            (
                Api::Embeddings,
                serde_json::json!({"input": ["naïve", "🦀 ".repeat(50)]}),
            ),
        ];
        for e in Encoding::ALL {
            let t = Tokenizer::new(e);
            for (api, body) in &bodies {
                let most = upper_bound(*api, body);
                assert!(most.chars > 0);
                for (budget, need) in [
                    (usize::MAX, u64::MAX),
                    (usize::MAX, 100),
                    (usize::MAX, 0),
                    (50, u64::MAX),
                    (400, 300),
                ] {
                    let want = upper_bound_within(&t, *api, body, budget, need);
                    let got = tighten(&most, &t, *api, body, budget, need);
                    assert_eq!(got.chars, most.chars, "{e} {api:?} {budget} {need}");
                    assert_eq!(
                        format!("{got:?}"),
                        format!("{want:?}"),
                        "{e} {api:?} {budget} {need}"
                    );
                }
            }
        }
    }

    #[test]
    fn tiles_follow_the_documented_examples() {
        // OpenAI's vision guide: 1024×1024 high → 765; 2048×4096 → 1105; 4096×8192 low → 85.
        assert_eq!(image_tokens("gpt-4o", "high", Some((1024, 1024))), 765);
        assert_eq!(image_tokens("gpt-4o", "high", Some((2048, 4096))), 1105);
        assert_eq!(image_tokens("gpt-4o", "low", Some((4096, 8192))), 85);
    }

    #[test]
    fn patches_follow_the_documented_examples() {
        // 1024×1024 → 1024 patches; 1800×2400 → 1452 patches (before the multiplier).
        assert_eq!(patches(1024, 1024), 1024);
        assert_eq!(patches(1800, 2400), 1452);
    }

    #[test]
    fn png_size_is_read() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&640u32.to_be_bytes());
        png.extend_from_slice(&480u32.to_be_bytes());
        assert_eq!(image_size(&png), Some((640, 480)));
    }
}
