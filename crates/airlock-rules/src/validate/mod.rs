//! Request validators: what the OpenAI API certainly rejects, checked before a request is sent.
//!
//! The rule above all: never reject a request the real API accepts. What the rules do not know
//! (a new model, a parameter on an endpoint not modelled) passes, with a warning.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

pub use schema_cache::{
    MAX_KNOWN_VALID_BODIES, MAX_KNOWN_VALID_BODY_BYTES, MAX_LINTED_SCHEMA_BYTES,
    MAX_LINTED_SCHEMAS, SchemaLintCache,
};

mod body_schema;
pub mod bounds;
#[cfg(feature = "tokenizer")]
mod budget;
mod common;
mod conversation;
mod media;
pub(crate) mod models;
mod params;
pub(crate) mod schema;
mod schema_cache;
mod special;
pub(crate) mod tables;
mod text;
mod tools;

/// Every rule of this module by name (the names [`Config`] takes), with what it checks.
///
/// Rules marked "warning" never reject: what they find may be accepted by the API.
pub const RULES: &[(&str, &str)] = &[
    (
        "invalid_json",
        "the body is not JSON at all (OpenAI's \"We could not parse the JSON body\")",
    ),
    ("invalid_body_type", "the body is JSON but not an object"),
    (
        "check_bounds",
        "warning: the body is over a bound of what a check may cost (JSON values, keys, depth, parsed size, tokenizing, findings); it was only partly checked (see validate::bounds)",
    ),
    (
        "unknown_endpoint",
        "warning: the endpoint is not modelled; nothing was checked",
    ),
    (
        "multipart_body",
        "warning: a multipart-only endpoint; the JSON checks were skipped",
    ),
    (
        "unknown_parameter",
        "a top-level parameter that is a clear typo of a known one",
    ),
    (
        "did_you_mean",
        "warning: the known parameter an unknown one was likely meant to be",
    ),
    (
        "unrecognized_parameter",
        "warning: a top-level parameter the spec does not list",
    ),
    (
        "deprecated_parameter",
        "warning: a parameter the spec marks deprecated",
    ),
    (
        "missing_required_parameter",
        "a required top-level parameter is absent or null",
    ),
    (
        "invalid_type",
        "a top-level parameter has a JSON type the spec does not allow",
    ),
    ("invalid_value", "a value outside a closed enum of the spec"),
    (
        "open_enum_value",
        "warning: a value outside an enum that grows often (service_tier, include, speech voices)",
    ),
    (
        "out_of_range",
        "a number below the spec's minimum or above its maximum",
    ),
    (
        "array_length",
        "an array that is empty, too short or too long",
    ),
    (
        "string_length",
        "a string longer than the spec's maximum length",
    ),
    (
        "function_parameters_root",
        "a function's parameters (strict or not) whose root is not an object schema with properties",
    ),
    (
        "input_item_ids",
        "Responses input: an item id that is empty or holds characters outside letters, digits, _ and -, without its type's prefix (msg, fc, rs), or the same id twice",
    ),
    (
        "reasoning_item_order",
        "Responses input: a reasoning item that ends the input, without the item it produced after it",
    ),
    (
        "id_format",
        "Responses: a previous_response_id with a character other than a letter, digit, '_' or '-'",
    ),
    (
        "image_role",
        "Chat Completions: an image part in a message whose role is not user",
    ),
    (
        "embeddings_empty_input",
        "embeddings: an empty string as input",
    ),
    (
        "request_schema",
        "anywhere below the top level: a type, enum value, required key, length or bound the API's request schema (lowered from the OpenAPI spec, with rules/request_overrides.toml) does not allow, or a key in an object the overrides close",
    ),
    (
        "request_schema_hint",
        "warning: below the top level, a key the API reference does not list, a value outside an enum it marks open, a string against a pattern, or a value that fits no shape of an undiscriminated union",
    ),
    (
        "unverified_value",
        "warning: below the top level, a value OpenAI's type check takes but whose fate after that check no recorded 400 or 200 shows (a `warn_values` override; a Chat tool message's 'refusal' part)",
    ),
    (
        "unknown_model",
        "warning: the model is not in the data; no model rules ran",
    ),
    (
        "model_max_tokens",
        "max_tokens on a reasoning model in Chat Completions; max_tokens above the observed cap of gpt-4o, gpt-4o-mini, gpt-4.1 and gpt-4-turbo",
    ),
    (
        "model_sampling_params",
        "temperature/top_p/penalties other than the default on a reasoning model (GPT-5.1/5.2/5.5+: unless the reasoning effort is none); any sampling parameter on the search-preview models",
    ),
    ("model_logprobs", "logprobs on a reasoning model"),
    ("model_stop", "stop on o3, o4-mini and GPT-5 through 5.2"),
    (
        "model_endpoint",
        "a model the endpoint does not serve (Responses-only and completion models on Chat Completions; search, audio and image models and o1-preview on Responses; chat models shown refused on legacy Completions)",
    ),
    (
        "model_parameter",
        "a parameter the model refuses (reasoning.effort on gpt-5-chat-latest in Responses; encrypted reasoning asked of GPT-4o and older; warning: where the 400 is not known)",
    ),
    (
        "model_reasoning_options",
        "a reasoning.context or reasoning.mode value the model does not take",
    ),
    (
        "model_verbosity",
        "a text.verbosity value the model does not take (the codex models)",
    ),
    (
        "model_hosted_tools",
        "a hosted tool the model does not serve (computer_use_preview outside computer-use-preview, web search on gpt-4.1-nano, …); warning: tools the docs do not list, no 400 known",
    ),
    (
        "model_deep_research_tools",
        "a deep research model without web_search_preview, mcp or file_search",
    ),
    (
        "model_audio",
        "the audio-preview models without audio in or out; an input_audio part to a model without audio input",
    ),
    (
        "model_system_role",
        "system/developer messages on o1-mini and o1-preview; function messages on o3",
    ),
    (
        "model_reasoning_effort",
        "a reasoning effort the model does not take",
    ),
    (
        "model_vision",
        "image inputs to a model without vision (gpt-3.5-turbo, gpt-4, o1-mini, o3-mini)",
    ),
    (
        "model_structured_outputs",
        "a response_format type the model does not take",
    ),
    (
        "tool_description_length",
        "a Chat Completions function description over 1024 characters",
    ),
    (
        "model_web_search",
        "web_search_options on a Chat Completions model without web search (warning on reasoning models)",
    ),
    (
        "model_image_params",
        "images: size, quality and n per model; response_format on GPT image models; a field the Responses image_generation tool's image model does not take (input_fidelity on gpt-image-2)",
    ),
    (
        "embeddings_dimensions",
        "embeddings: dimensions on a model without it, or above its size",
    ),
    (
        "embeddings_input_length",
        "embeddings: more than 2048 inputs in one request",
    ),
    (
        "stream_options",
        "Chat: stream_options without stream: true",
    ),
    (
        "reasoning_minimal_tools",
        "Responses: a web_search tool with reasoning.effort 'minimal'",
    ),
    (
        "hosted_tool_choice",
        "Responses: gpt-5 / gpt-5-mini with a tool_choice other than 'auto' beside web_search_preview, code_interpreter or file_search",
    ),
    (
        "top_logprobs_without_logprobs",
        "Chat: top_logprobs of 1 or more without logprobs: true",
    ),
    (
        "parallel_tool_calls_null",
        "Chat: parallel_tool_calls sent as null",
    ),
    (
        "speech_null_params",
        "Audio speech: instructions sent as null",
    ),
    ("model_n", "Chat: n above the model's own ceiling"),
    (
        "metadata_bounds",
        "Chat: a metadata key over 64 characters or a value over 512",
    ),
    (
        "metadata_without_store",
        "Chat: a non-empty metadata object without store: true",
    ),
    (
        "json_object_needs_json",
        "json_object output without the word 'json' in the messages",
    ),
    (
        "message_shape",
        "Chat messages: an unknown role, a name outside ^[a-zA-Z0-9_-]+$, missing content, content that is neither a string, an array nor null, an empty tool_calls array; Responses: input_* parts in an assistant message",
    ),
    (
        "schema_array_items",
        "a schema (strict or not) with a type: \"array\" node that has no items",
    ),
    (
        "json_schema_valid",
        "a response format or function schema that is not a JSON Schema at all",
    ),
    (
        "strict_schema",
        "strict schemas: root object, additionalProperties false, every property required, no unsupported keyword",
    ),
    (
        "schema_limits",
        "strict schemas: properties, nesting, enum values and characters over OpenAI's limits",
    ),
    (
        "json_schema_name",
        "a json_schema format name outside ^[a-zA-Z0-9_-]+$ or over 64 characters",
    ),
    (
        "json_schema_required",
        "a json_schema format without its name (or, in Responses, its schema)",
    ),
    (
        "tool_names",
        "a function name missing, outside ^[a-zA-Z0-9_-]+$ or over 64 characters",
    ),
    (
        "tool_count",
        "more than 128 tools, or 128 tool calls in one assistant message (Chat)",
    ),
    (
        "tool_choice",
        "tool_choice/parallel_tool_calls without tools (Chat), or a forced function not in tools",
    ),
    (
        "tool_shape",
        "a tool without type (Chat), a function tool in the other API's shape",
    ),
    ("tool_types", "warning: a tool type the rules do not know"),
    (
        "tool_call_pairing",
        "tool messages / function_call_output without their call, calls left unanswered, or an output that is not JSON for a function with output_schema",
    ),
    (
        "image_detail",
        "an image detail outside auto/low/high (Chat) or auto/low/high/original (Responses)",
    ),
    (
        "image_url",
        "an image URL that is neither http(s) nor a data: URL",
    ),
    (
        "image_data_url",
        "a base64 image whose bytes are not PNG, JPEG, GIF or WEBP",
    ),
    (
        "context_length",
        "the exactly counted text alone over the model's context window (feature tokenizer); warning: when estimated parts or the requested output push it over, or the output is above the model's maximum",
    ),
    (
        "audio_format",
        "an input_audio format other than wav or mp3",
    ),
    (
        "file_data_url",
        "a PDF's file_data that is not a data: URL, or a Chat file_data data URL whose MIME type is not application/pdf",
    ),
];

/// OpenAI's answer to a body that is not JSON.
pub const INVALID_JSON_MESSAGE: &str = "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)";

/// How a rule is applied.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A finding rejects the request.
    #[default]
    Enforce,
    /// A finding is reported as a warning; the request passes.
    Report,
    /// The rule is not run.
    Off,
}

/// Per-rule modes; rules not named use `default`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// The mode of rules not named in `rules`.
    pub default: Mode,
    /// Modes by rule name.
    pub rules: BTreeMap<String, Mode>,
    /// What one check may cost ([`bounds`]); the `check_bounds` rule's mode only silences its
    /// warning, the bounds always hold.
    pub bounds: bounds::Bounds,
    /// When the `context_length` rule counts tokens exactly ([`TokenCount`]).
    pub token_count: TokenCount,
}

/// When the `context_length` rule counts a request's tokens exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenCount {
    /// Always (the CLI's and the page's default: they show the count).
    #[default]
    Exact,
    /// Only where the verdict depends on it: a request whose most possible tokens (a token a
    /// byte, [`upper_bound`](crate::tokenizer::request::upper_bound)) fit the window is not
    /// tokenized, and its report carries OpenAI's rate-limiter estimate instead
    /// ([`TokenReport::counted`] is [`Counted::Estimate`]). The verdict's errors and warnings are
    /// those of [`TokenCount::Exact`]. The worker's default.
    Lazy,
}

/// How the input tokens of a [`TokenReport`] were found.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Counted {
    /// Counted with the tokenizer (text exact, framing, tools and images estimated).
    #[default]
    Exact,
    /// Not tokenized: OpenAI's rate-limiter estimate (`max(requested output, ceil(characters /
    /// 4))`, [`rate_limit_estimate`](crate::tokenizer::request::rate_limit_estimate)), in
    /// `input_estimated`.
    Estimate,
}

impl Counted {
    /// `exact` or `estimate`.
    pub fn as_str(self) -> &'static str {
        match self {
            Counted::Exact => "exact",
            Counted::Estimate => "estimate",
        }
    }
}

impl Config {
    /// The mode for `rule`.
    pub fn mode(&self, rule: &str) -> Mode {
        self.rules.get(rule).copied().unwrap_or(self.default)
    }
}

/// An error in OpenAI's shape: `{message, type, param, code}`.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ApiError {
    /// The message, in OpenAI's wording where it has one.
    pub message: String,
    /// Always `invalid_request_error` for request checks.
    #[serde(rename = "type")]
    pub error_type: String,
    /// OpenAI's param path (`messages[0].role`, `tools[0].function.parameters`).
    pub param: Option<String>,
    /// OpenAI's code (`unknown_parameter`, `invalid_type`, …).
    pub code: Option<String>,
}

/// One finding: the rule that made it and the error as OpenAI would word it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The rule's name, as used in [`Config`].
    pub rule: String,
    /// The error in OpenAI's shape.
    pub error: ApiError,
}

/// The verdict on one request.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    /// What OpenAI would reject; the first is the one OpenAI would name.
    pub errors: Vec<Finding>,
    /// What looks wrong but may pass, and what the rules did not understand.
    pub warnings: Vec<Finding>,
    /// The endpoint understood (`/v1/chat/completions`), if modelled.
    pub endpoint: Option<String>,
    /// The model named in the body, if any.
    pub model: Option<String>,
    /// The token budget, when the rules crate has its `tokenizer` feature and the model's
    /// encoding is known (Chat Completions, Responses and Embeddings); `None` otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens: Option<TokenReport>,
    /// The bound that left the request partly checked (see [`bounds`]); `None` when it was
    /// checked whole. A partly checked request is never rejected for what was not checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partly_checked: Option<bounds::Bound>,
}

/// The token numbers of one request, as the `context_length` rule saw them.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TokenReport {
    /// The encoding counted with (`o200k_base`, `cl100k_base`).
    pub encoding: String,
    /// Input tokens counted exactly (the text the model reads); a lower bound when
    /// `bytes_not_tokenized` is not 0.
    pub input_exact: u64,
    /// Input tokens estimated (message framing, tools, images).
    pub input_estimated: u64,
    /// Embeddings: the exact tokens of each input.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub per_input: Vec<u64>,
    /// Params whose tokens could not be counted at all (audio, files).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub uncounted: Vec<String>,
    /// The output requested, if the request names it.
    pub output: Option<u64>,
    /// The param that requested it (`max_tokens`, `max_completion_tokens`, `max_output_tokens`).
    pub output_param: Option<String>,
    /// The model's context window (for embeddings, the per-input limit), when known.
    pub context_window: Option<u64>,
    /// False when `context_window` bounds the input alone (the GPT-5 family).
    pub output_in_window: bool,
    /// The model's maximum output, when known.
    pub max_output: Option<u64>,
    /// Bytes of text tokenized.
    pub bytes_tokenized: u64,
    /// Bytes of text left untokenized at the `tokenize_cost` bound: then `input_exact` and
    /// `input_estimated` are lower bounds ("at least").
    #[serde(skip_serializing_if = "is_zero")]
    pub bytes_not_tokenized: u64,
    /// How the input tokens were found: exactly, or (with [`TokenCount::Lazy`], where the
    /// verdict did not depend on it) OpenAI's rate-limiter estimate.
    pub counted: Counted,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl TokenReport {
    /// All input tokens, exact plus estimated.
    pub fn input_total(&self) -> u64 {
        self.input_exact + self.input_estimated
    }
}

impl Verdict {
    /// True when nothing is rejected.
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// The bound that left the request partly checked, if one did.
    pub fn partial(&self) -> Option<&bounds::Bound> {
        self.partly_checked.as_ref()
    }
}

/// Checks a request body for an endpoint path (`/v1/chat/completions`; `/chat/completions` and a
/// query string are accepted too).
///
/// Never fails: what cannot be checked passes with a warning.
///
/// # Example
/// ```
/// use airlock_rules::validate::{check, Config};
///
/// let body = br#"{"model": "o3", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 50}"#;
/// let verdict = check("/v1/chat/completions", body, &Config::default());
/// assert!(!verdict.ok());
/// assert_eq!(verdict.errors[0].error.code.as_deref(), Some("unsupported_parameter"));
/// ```
pub fn check(endpoint: &str, body: &[u8], config: &Config) -> Verdict {
    let mut ctx = Ctx::new(config);
    run(&mut ctx, endpoint, body);
    ctx.finish()
}

/// [`check`], also handing back the body as it was parsed for the check (`None` when it was not:
/// an unknown endpoint, a body over a bound, not JSON, a form), so a caller that reads more from
/// the body need not parse it again (issue 14: the worker's answer check read every checked body a
/// second time, ~16 % of a 126k-token request's pre-flight in workerd). The verdict is `check`'s.
///
/// # Example
/// ```
/// use airlock_rules::validate::{check_keeping, Config};
///
/// let body = br#"{"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}"#;
/// let (verdict, parsed) = check_keeping("/v1/chat/completions", body, &Config::default());
/// assert!(verdict.ok());
/// assert_eq!(parsed.unwrap()["model"], "gpt-4o");
/// ```
pub fn check_keeping(
    endpoint: &str,
    body: &[u8],
    config: &Config,
) -> (Verdict, Option<serde_json::Value>) {
    let mut ctx = Ctx::new(config);
    ctx.keep = true;
    run(&mut ctx, endpoint, body);
    let kept = ctx.kept.take();
    (ctx.finish(), kept)
}

/// [`check_keeping`] with a [`SchemaLintCache`] kept between checks (the worker keeps one per
/// isolate): a schema linted before in the same place gets its findings replayed instead of
/// the lints run again (issue 17). The verdict is [`check`]'s, cache or not.
///
/// # Example
/// ```
/// use airlock_rules::validate::{check, check_keeping_cached, Config, SchemaLintCache};
///
/// let body = br#"{"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}],
///   "response_format": {"type": "json_schema", "json_schema": {"name": "a", "strict": true,
///   "schema": {"type": "object", "properties": {"a": {"type": "string"}}}}}}"#;
/// let mut cache = SchemaLintCache::new();
/// let (first, _) = check_keeping_cached("/v1/chat/completions", body, &Config::default(), &mut cache);
/// let (again, _) = check_keeping_cached("/v1/chat/completions", body, &Config::default(), &mut cache);
/// assert_eq!(cache.stats(), (1, 1));
/// assert_eq!(first, again);
/// assert_eq!(again, check("/v1/chat/completions", body, &Config::default()));
/// assert_eq!(again.errors[0].rule, "strict_schema");
/// ```
pub fn check_keeping_cached(
    endpoint: &str,
    body: &[u8],
    config: &Config,
    cache: &mut SchemaLintCache,
) -> (Verdict, Option<serde_json::Value>) {
    let mut ctx = Ctx::new(config);
    ctx.keep = true;
    ctx.lints = Some(cache);
    run(&mut ctx, endpoint, body);
    let kept = ctx.kept.take();
    (ctx.finish(), kept)
}

/// [`check_keeping_cached`], also handing on the validator slots of the schemas it linted
/// (the answer's format and function `parameters`), for
/// [`Expectation::from_request_handed`](crate::output::Expectation::from_request_handed): the
/// answer's check then takes each schema's validator without looking the schema up again
/// (issue 17; `output`'s `ValidatorCache` module doc). The verdict is [`check`]'s.
///
/// # Example
/// ```
/// use airlock_rules::output::{Expectation, ValidatorCache};
/// use airlock_rules::validate::{check_keeping_handed, Config, SchemaLintCache};
///
/// let body = br#"{"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}],
///   "response_format": {"type": "json_schema", "json_schema": {"name": "a", "strict": true,
///   "schema": {"type": "object", "properties": {"a": {"type": "string"}},
///   "required": ["a"], "additionalProperties": false}}}}"#;
/// let answer = br#"{"choices": [{"finish_reason": "stop",
///   "message": {"role": "assistant", "content": "{\"a\": \"x\"}"}}]}"#;
/// let (mut lints, mut validators) = (SchemaLintCache::new(), ValidatorCache::new());
/// for _ in 0..2 {
///     let path = "/v1/chat/completions";
///     let (verdict, tree, handed) = check_keeping_handed(path, body, &Config::default(), &mut lints);
///     assert!(verdict.ok());
///     assert_eq!(handed.len(), 1);
///     let expect = Expectation::from_request_handed(path, tree.unwrap(), handed).unwrap();
///     assert_eq!(expect.check_bytes_cached(answer, &mut validators).status.as_str(), "valid");
/// }
/// // Compiled once, and looked up in the validator cache only the first time.
/// assert_eq!(validators.stats(), (0, 1));
/// ```
#[cfg(feature = "jsonschema")]
pub fn check_keeping_handed(
    endpoint: &str,
    body: &[u8],
    config: &Config,
    cache: &mut SchemaLintCache,
) -> (Verdict, Option<serde_json::Value>, crate::output::Handed) {
    let mut ctx = Ctx::new(config);
    ctx.keep = true;
    ctx.lints = Some(cache);
    run(&mut ctx, endpoint, body);
    let kept = ctx.kept.take();
    let handed = core::mem::take(&mut ctx.handed);
    (ctx.finish(), kept, handed)
}

/// Which of an answer's schemas a linted schema is (the validator handed on for it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HandAt {
    /// None of them (`functions`, a schema checked outside a request).
    Nothing,
    /// The `json_schema` format's schema.
    Format,
    /// The `parameters` of the function tool at this index of `tools`.
    Tool(usize),
}

fn run(ctx: &mut Ctx<'_>, endpoint: &str, body: &[u8]) {
    let Some(ep) = params::endpoint(endpoint) else {
        ctx.warn(
            "unknown_endpoint",
            "unknown_endpoint",
            None,
            alloc::format!(
                "Airlock does not model the endpoint '{endpoint}'; the request was not checked."
            ),
        );
        return;
    };
    let endpoint = ep.path;
    ctx.verdict.endpoint = Some(String::from(endpoint));
    // An endpoint without recorded accepted bodies only reports (`rules/request_enforcement.toml`).
    ctx.report_only = ep.report_only;
    // A UTF-8 byte order mark is not JSON, but stripping it is the lenient reading.
    let body = body
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(body);
    // No body at all where nothing is required: the API reads it as `{}` (the .NET SDK sends
    // `POST /v1/threads` with `Content-Length: 0`, answered 200 in openai/openai-dotnet's
    // session records).
    if body.trim_ascii().is_empty() && ep.params.iter().all(|p| !p.required) {
        ctx.warn(
            "invalid_json",
            "unchecked_body",
            None,
            alloc::format!(
                "The body is empty; '{endpoint}' requires no field, so it was not checked."
            ),
        );
        return;
    }
    // Measure an object or array before it is built: a body over a bound is not parsed.
    if matches!(body.trim_ascii_start().first(), Some(b'{' | b'[')) {
        if let Some(b) = ctx.config.bounds.exceeded(&bounds::scan(body)) {
            ctx.partial(
                b,
                "unchecked_body",
                alloc::format!(
                    "The body was not checked: it has {} {} (Airlock's bound is {}). It was forwarded as is.",
                    b.seen,
                    match b.name {
                        "json_depth" => "levels of nesting",
                        "json_keys" => "object keys",
                        "json_memory" => "bytes of estimated parsed size",
                        _ => "JSON values",
                    },
                    b.limit
                ),
            );
            return;
        }
    }
    let value = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => v,
        // A body that is not JSON to an endpoint that takes multipart/form-data is a form.
        Err(_) if ep.multipart => {
            ctx.warn(
                "multipart_body",
                "multipart_body",
                None,
                alloc::format!(
                    "'{endpoint}' takes a multipart/form-data body; its fields were not checked."
                ),
            );
            return;
        }
        Err(e) => {
            // serde_json stops at 128 levels of nesting and at numbers beyond f64: valid JSON
            // that this parser cannot hold is not OpenAI's parse error, only unchecked.
            let text = alloc::format!("{e}");
            if text.contains("recursion limit") || text.contains("number out of range") {
                ctx.warn(
                    "invalid_json",
                    "unchecked_body",
                    None,
                    alloc::format!("The body could not be checked: {text}."),
                );
            } else {
                ctx.reject("invalid_json", "", None, String::from(INVALID_JSON_MESSAGE));
            }
            return;
        }
    };
    if let Some(model) = value.get("model").and_then(serde_json::Value::as_str) {
        ctx.verdict.model = Some(String::from(model));
    }
    let Some(obj) = value.as_object() else {
        ctx.reject(
            "invalid_body_type",
            "invalid_type",
            None,
            alloc::format!(
                "Invalid type for the request body: expected an object, but got {} instead.",
                match &value {
                    serde_json::Value::Array(_) => "an array",
                    serde_json::Value::String(_) => "a string",
                    serde_json::Value::Number(_) => "a number",
                    serde_json::Value::Bool(_) => "a boolean",
                    _ => "null",
                }
            ),
        );
        return;
    };
    if !ep.json {
        ctx.warn(
            "multipart_body",
            "multipart_body",
            None,
            alloc::format!(
                "'{endpoint}' takes a multipart/form-data body; a JSON body was not checked."
            ),
        );
        return;
    }
    params::check(ctx, ep, obj);
    if ep.path == "/v1/chat/completions" {
        tools::chat_tool_choice_declared(ctx, &value);
    }
    // Hand-written rules for nested structures: the messages' shapes before the model rules, a
    // missing content after them.
    let shaped = conversation::shapes(ctx, endpoint, &value);
    models::check(ctx, endpoint, &value);
    special::check(ctx, endpoint, obj);
    conversation::missing_content(ctx, endpoint, &value, shaped);
    schema::check(ctx, endpoint, &value);
    tools::check(ctx, endpoint, &value);
    conversation::check(ctx, endpoint, &value);
    media::check(ctx, endpoint, &value);
    // The whole body against the spec's schema, where the rules above said nothing.
    body_schema::check(ctx, endpoint, &value);
    #[cfg(feature = "tokenizer")]
    budget::check(ctx, endpoint, &value);
    if ctx.keep {
        ctx.kept = Some(value);
    }
}

/// The state shared by the rules while one request is checked: findings go through here so each
/// rule's [`Mode`] is applied in one place.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    config: &'a Config,
    pub(crate) verdict: Verdict,
    /// Findings not kept, over [`bounds::Bounds::findings`].
    dropped: usize,
    /// [`check_keeping`]: the parsed body is kept in `kept` after the rules ran.
    keep: bool,
    kept: Option<serde_json::Value>,
    /// [`check_keeping_cached`]: the schema lints' verdicts kept between checks.
    pub(crate) lints: Option<&'a mut SchemaLintCache>,
    /// [`check_keeping_handed`]: the validator slots of the schemas linted with `lints`.
    #[cfg(feature = "jsonschema")]
    handed: crate::output::Handed,
    /// The endpoint only reports: [`Ctx::reject`] adds warnings.
    report_only: bool,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(config: &'a Config) -> Self {
        Ctx {
            config,
            verdict: Verdict::default(),
            dropped: 0,
            keep: false,
            kept: None,
            lints: None,
            #[cfg(feature = "jsonschema")]
            handed: crate::output::Handed::default(),
            report_only: false,
        }
    }

    /// Notes the API whose answer the linted schemas are for.
    pub(crate) fn hand_api(&mut self, chat: bool) {
        #[cfg(feature = "jsonschema")]
        {
            self.handed.chat = Some(chat);
        }
        #[cfg(not(feature = "jsonschema"))]
        let _ = chat;
    }

    /// Hands on `slot`, the validator slot of the schema linted `at`.
    pub(crate) fn hand(&mut self, at: HandAt, slot: schema_cache::Slot) {
        #[cfg(feature = "jsonschema")]
        match at {
            HandAt::Nothing => {}
            HandAt::Format => self.handed.format = Some(slot),
            HandAt::Tool(i) => self.handed.tools.push((i, slot)),
        }
        #[cfg(not(feature = "jsonschema"))]
        let _ = (at, slot);
    }

    /// The verdict, with a note of the findings not kept.
    pub(crate) fn finish(mut self) -> Verdict {
        if self.dropped > 0 && self.enabled("check_bounds") {
            let (dropped, limit) = (self.dropped, self.config.bounds.findings);
            self.verdict.warnings.push(finding(
                "check_bounds",
                "findings_truncated",
                None,
                alloc::format!(
                    "{dropped} more findings were not listed (Airlock keeps {limit} errors and {limit} warnings)."
                ),
            ));
        }
        self.verdict
    }

    /// True when a list of findings is at its bound: rules that make one finding per key or
    /// item may stop.
    pub(crate) fn full(&self) -> bool {
        let cap = self.config.bounds.findings;
        self.verdict.errors.len() >= cap || self.verdict.warnings.len() >= cap
    }

    /// The request is only partly checked because of `bound`: notes it (the first bound
    /// reached is the one named) and warns (rule `check_bounds`).
    pub(crate) fn partial(&mut self, bound: bounds::Bound, code: &str, message: String) {
        if self.verdict.partly_checked.is_none() {
            self.verdict.partly_checked = Some(bound);
        }
        self.warn("check_bounds", code, None, message);
    }

    fn push(&mut self, error: bool, finding: Finding) {
        let list = if error {
            &mut self.verdict.errors
        } else {
            &mut self.verdict.warnings
        };
        // The bound's own warnings are always kept.
        if list.len() < self.config.bounds.findings || finding.rule == "check_bounds" {
            list.push(finding);
        } else {
            self.dropped += 1;
        }
    }

    /// True unless `rule` is off.
    #[allow(dead_code)] // used by the rules as they land
    pub(crate) fn enabled(&self, rule: &str) -> bool {
        self.config.mode(rule) != Mode::Off
    }

    /// Something OpenAI certainly rejects: an error when `rule` is enforced, a warning when reported.
    #[allow(dead_code)] // used by the rules as they land
    pub(crate) fn reject(
        &mut self,
        rule: &str,
        code: &str,
        param: Option<String>,
        message: String,
    ) {
        let finding = finding(rule, code, param, message);
        match self.config.mode(rule) {
            Mode::Enforce if self.report_only => self.push(false, finding),
            Mode::Enforce => self.push(true, finding),
            Mode::Report => self.push(false, finding),
            Mode::Off => {}
        }
    }

    /// [`Ctx::reject`], or only [`Ctx::warn`] where the data marks the refusal as known without its
    /// 400 (`report = true` in `rules/model_capabilities.toml`).
    pub(crate) fn reject_or_report(
        &mut self,
        report: bool,
        rule: &str,
        code: &str,
        param: Option<String>,
        message: String,
    ) {
        if report {
            self.warn(rule, code, param, message);
        } else {
            self.reject(rule, code, param, message);
        }
    }

    /// Something that looks wrong, or that the rules did not understand: always only a warning.
    #[allow(dead_code)] // used by the rules as they land
    pub(crate) fn warn(&mut self, rule: &str, code: &str, param: Option<String>, message: String) {
        if self.enabled(rule) {
            self.push(false, finding(rule, code, param, message));
        }
    }
}

#[allow(dead_code)] // used by the rules as they land
fn finding(rule: &str, code: &str, param: Option<String>, message: String) -> Finding {
    Finding {
        rule: String::from(rule),
        error: ApiError {
            message,
            error_type: String::from("invalid_request_error"),
            param,
            code: if code.is_empty() {
                None
            } else {
                Some(String::from(code))
            },
        },
    }
}
