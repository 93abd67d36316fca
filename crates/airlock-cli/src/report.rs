//! The JSON the CLI prints, as typed structs (issue 17, part 4): each `--json` output is one of
//! these serialized, so its JSON Schema (`airlock schemas NAME`, committed as `schemas/NAME.json`
//! by `cargo xtask codegen`) is derived from what is printed, not written beside it.
//!
//! The keys are the ones the CLI printed before these types existed (built with `json!`). The
//! output goes through a `serde_json::Value` before it is written, so keys stay sorted as they
//! were, byte for byte. Each schema is closed (`additionalProperties: false`) where the type is
//! the CLI's own, so a key added without its type fails the CLI's tests.

use airlock_rules::batch::{BatchExplanation, JoinRow, Limits, LineError};
use airlock_rules::ratelimit::{RateLimitHeaders, RateLimitInfo};
use airlock_rules::sse::StreamSummary;
use airlock_rules::tokenizer::request::Part;
use airlock_rules::validate::{ApiError, TokenReport, bounds::Bound};
use airlock_rules::{Category, Confidence, Delivery, Format, RetryDecision};
use schemars::JsonSchema;
use serde::Serialize;

/// `airlock count --json` on text.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct CountText {
    /// Tokens in the text.
    pub tokens: usize,
    /// The encoding counted with (`o200k_base`, `cl100k_base`).
    pub encoding: String,
    /// Bytes of the text.
    pub bytes: usize,
    /// The token ids, with `--ids`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<u32>>,
}

/// `airlock count --json --endpoint E` on a request body.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct CountRequest {
    /// Input tokens: `exact` + `estimated`.
    pub tokens: u64,
    /// The encoding counted with.
    pub encoding: String,
    /// Tokens counted exactly (the text the model reads).
    pub exact: u64,
    /// Tokens estimated (framing, tools, images, tool calls).
    pub estimated: u64,
    /// The counted parts, in request order.
    pub parts: Vec<Part>,
    /// Embeddings: the exact tokens of each input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_input: Option<Vec<u64>>,
    /// What could not be counted at all, by param.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uncounted: Option<Vec<String>>,
    /// The context budget, when the model's window is known (or `--window` was given).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub budget: Option<CountBudget>,
}

/// The context budget part of [`CountRequest`].
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct CountBudget {
    /// The context window compared with.
    pub context_window: u64,
    /// The model's maximum output, when known.
    pub max_output: Option<u64>,
    /// The output reserved by the request, when it names one.
    pub output: Option<OutputAsked>,
    /// OpenAI's error when the request certainly exceeds the window.
    pub error: Option<ApiError>,
    /// When it may exceed it, the same numbers as a warning.
    pub warning: Option<ApiError>,
}

/// The output a request reserves.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct OutputAsked {
    /// Tokens reserved.
    pub tokens: u64,
    /// The param that reserved them (`max_tokens`, `max_completion_tokens`, `max_output_tokens`).
    pub param: String,
}

/// `airlock check --json`: the verdict on one request body.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct CheckReport {
    /// True when nothing would be rejected.
    pub ok: bool,
    /// The endpoint checked against.
    pub endpoint: Option<String>,
    /// The model named in the body.
    pub model: Option<String>,
    /// What OpenAI would reject, in its words.
    pub errors: Vec<CheckFinding>,
    /// What may be wrong but is not certain (never rejected).
    pub warnings: Vec<CheckFinding>,
    /// The token numbers of the `context_length` rule.
    pub tokens: Option<TokenReport>,
    /// The bound that left the body partly checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partly_checked: Option<Bound>,
}

/// One finding of `airlock check --json`: OpenAI's error shape plus the rule's name.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct CheckFinding {
    /// The message, in OpenAI's wording where it has one.
    pub message: String,
    /// Always `invalid_request_error`.
    #[serde(rename = "type")]
    pub error_type: String,
    /// OpenAI's param path.
    pub param: Option<String>,
    /// OpenAI's code.
    pub code: Option<String>,
    /// The Airlock rule that found it.
    pub rule: String,
}

/// `airlock explain --json`: what a pasted error means. Every key is always present; what is not
/// known is `null`. Strings taken from the paste are redacted (keys masked) after serializing.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ExplainReport {
    /// Whether an OpenAI error was found (exit status 0) or not (1).
    pub found: bool,
    /// The one category the error falls in: its cause, wherever it arrived.
    pub category: Option<Category>,
    /// Where it arrived (response, stream, Realtime session, Batch line or job, the client).
    pub delivery: Option<Delivery>,
    /// How sure the reading is.
    pub confidence: Option<Confidence>,
    /// HTTP status, stated or inferred.
    pub status: Option<u16>,
    /// OpenAI's error `code`.
    pub code: Option<String>,
    /// OpenAI's error `type`.
    #[serde(rename = "type")]
    pub error_type: Option<String>,
    /// OpenAI's error `param`.
    pub param: Option<String>,
    /// The error message as sent (keys masked).
    pub message: Option<String>,
    /// The request ID, for support.
    pub request_id: Option<String>,
    /// The exception classes the official SDKs raise for it.
    pub sdk: ExplainSdk,
    /// Retry or not, and when.
    pub retry: ExplainRetry,
    /// For rate limits: which limit was hit, with the numbers from the message.
    pub rate_limit: Option<RateLimitInfo>,
    /// The decoded `x-ratelimit-*` headers, when any were present.
    pub rate_limit_headers: Option<RateLimitHeaders>,
    /// What the error means, in plain words.
    pub meaning: Option<String>,
    /// The first thing to try.
    pub first_fix: Option<String>,
    /// The name of the rule record that matched (`rules/errors.toml`).
    pub rule: Option<String>,
    /// The shape the error was found in.
    pub format: Option<Format>,
    /// What could not be read.
    pub unread: Vec<String>,
    /// When the paste is an event stream: its shape, how it ended and where.
    pub stream: Option<StreamSummary>,
}

/// The SDK classes of [`ExplainReport`] (each `null` when nothing was found).
#[derive(Debug, Default, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ExplainSdk {
    /// The Python SDK (v1+) class, e.g. `openai.RateLimitError`.
    pub python: Option<String>,
    /// The Node SDK class, e.g. `RateLimitError`.
    pub node: Option<String>,
    /// The legacy v0 Python class, e.g. `openai.error.RateLimitError`.
    pub python_v0: Option<String>,
}

/// The retry advice of [`ExplainReport`] (each `null` when nothing was found).
#[derive(Debug, Default, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ExplainRetry {
    /// Retry, don't, or only after changing the request.
    pub decision: Option<RetryDecision>,
    /// How long to wait before retrying, in milliseconds, when the error says.
    pub after_ms: Option<u64>,
}

/// `airlock batch lint FILE --json`: the lint report of a Batch input file.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct BatchLintReport {
    /// True when no problem was found (exit status 0).
    pub ok: bool,
    /// Requests (lines) read.
    pub requests: u64,
    /// Bytes read.
    pub bytes: u64,
    /// The endpoint the lines target (given with `--endpoint`, or the first line's `url`).
    pub endpoint: Option<String>,
    /// The model of the lines (a Batch may hold only one).
    pub model: Option<String>,
    /// Problems found in all.
    pub errors_total: u64,
    /// Lines with at least one problem.
    pub lines_with_errors: u64,
    /// The problems, in OpenAI's `BatchError` shape; at most the first 1000 of the lines, then
    /// every file-wide one (`errors_total` counts them all).
    pub errors: Vec<LineError>,
    /// The Batch limits checked against, with their source.
    pub limits: Limits,
}

/// `airlock simulate --list --json`: the failures the worker's simulate mode can send.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SimulateList {
    /// How to ask for one: the `x-airlock-simulate` header's form and bounds.
    pub header: String,
    /// The bounds of the header's parameters.
    pub bounds: SimulateBounds,
    /// Every failure, in the catalogue's order.
    pub failures: Vec<SimulatedFailure>,
}

/// The bounds of `x-airlock-simulate` (the rules crate's `simulate::MAX_*`).
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SimulateBounds {
    /// The longest header value read, in bytes.
    pub header_bytes: usize,
    /// The most requests (`after=k`) before the failure.
    pub after: u32,
    /// The most stream events (`events=N`) before a stream failure.
    pub events: u32,
    /// The longest delay (`ms=T`), in milliseconds.
    pub ms: u64,
}

/// How a simulated failure reaches the client.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SimulatedKind {
    /// An HTTP answer with an error status.
    Response,
    /// No answer until the client gives up.
    Stall,
    /// The connection dropped.
    Connection,
    /// A stream that fails after it began.
    Stream,
}

/// One failure of `airlock simulate --list --json`.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SimulatedFailure {
    /// The name to ask for.
    pub name: String,
    /// How it reaches the client.
    pub kind: SimulatedKind,
    /// Airlock's category of it.
    pub category: Category,
    /// The status the client gets (`null`: none, or a 200 stream).
    pub status: Option<u16>,
    /// The Python SDK's exception (`null`: it raises nothing).
    pub python: Option<String>,
    /// The Node SDK's exception.
    pub node: Option<String>,
    /// Whether the SDKs retry it by themselves.
    pub sdk_retries: bool,
    /// Its delay when `ms=` is not given, in milliseconds.
    pub default_ms: Option<u64>,
    /// One line on what it is.
    pub summary: String,
    /// Where the facts come from.
    pub source: String,
}

/// `value` as JSON text with sorted keys (`pretty` or compact), as the CLI printed it before.
pub fn to_json<T: Serialize>(value: &T, pretty: bool) -> String {
    let v = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
    if pretty {
        serde_json::to_string_pretty(&v).unwrap_or_default()
    } else {
        v.to_string()
    }
}

/// The outputs that have a schema, by the name of their file under `schemas/`.
pub const SCHEMAS: &[&str] = &[
    "check",
    "count-text",
    "count-request",
    "explain",
    "batch-lint",
    "batch-explain",
    "batch-join",
    "log-line",
    "check-output",
    "simulate-list",
];

/// The JSON Schema of the output named `name` (see [`SCHEMAS`]), as pretty JSON with a final
/// newline.
pub fn schema(name: &str) -> Option<String> {
    // The contract is what the CLI writes: a field it may leave out is not required.
    let generator = || {
        schemars::generate::SchemaSettings::draft2020_12()
            .for_serialize()
            .into_generator()
    };
    let s = match name {
        "check" => generator().into_root_schema_for::<CheckReport>(),
        "count-text" => generator().into_root_schema_for::<CountText>(),
        "count-request" => generator().into_root_schema_for::<CountRequest>(),
        "explain" => generator().into_root_schema_for::<ExplainReport>(),
        "batch-lint" => generator().into_root_schema_for::<BatchLintReport>(),
        // One line each (`null` when nothing was found).
        "batch-explain" => generator().into_root_schema_for::<Option<BatchExplanation>>(),
        "batch-join" => generator().into_root_schema_for::<JoinRow>(),
        // The worker's log lines: their types live in the rules crate, which the worker shares.
        "log-line" => generator().into_root_schema_for::<airlock_rules::log_line::LogLine<'_>>(),
        // `check-output --json`: its report type lives in the rules crate.
        "check-output" => generator().into_root_schema_for::<airlock_rules::output::OutputReport>(),
        "simulate-list" => generator().into_root_schema_for::<SimulateList>(),
        _ => return None,
    };
    serde_json::to_string_pretty(&s).ok().map(|t| t + "\n")
}

/// `airlock schemas [NAME]`: lists the names, or prints one schema;
/// `airlock schemas validate SCHEMA [FILE|-]`: checks JSON Lines against a schema.
pub fn run(args: &[String]) -> u8 {
    match args {
        [] => {
            for n in SCHEMAS {
                println!("{n}");
            }
            0
        }
        [cmd, rest @ ..] if cmd == "validate" => match rest {
            [schema] => validate(schema, None),
            [schema, file] => validate(schema, Some(file)),
            _ => {
                eprintln!("{USAGE}");
                2
            }
        },
        [name] => match schema(name) {
            Some(s) => {
                print!("{s}");
                0
            }
            None => {
                eprintln!(
                    "airlock schemas: no schema named `{name}` ({})",
                    SCHEMAS.join(", ")
                );
                2
            }
        },
        _ => {
            eprintln!("{USAGE}");
            2
        }
    }
}

const USAGE: &str = "usage: airlock schemas [NAME]
       airlock schemas validate SCHEMA [FILE|-]   (SCHEMA: a NAME or a schema file)

`validate` reads JSON Lines (one JSON value per line; blank lines and lines that do not start
with `{` are skipped, so a raw log works) and checks each against the schema.
exit status: 0 every line valid, 1 some line invalid or not JSON, 2 usage problem";

/// Validates each JSON line of `file` (standard input for `None` or `-`) against `schema` (a
/// name of [`SCHEMAS`] or a path to a schema file). Prints one line per failure and a summary.
fn validate(schema_arg: &str, file: Option<&str>) -> u8 {
    let text = match schema(schema_arg) {
        Some(t) => t,
        None => match std::fs::read_to_string(schema_arg) {
            Ok(t) => t,
            Err(e) => {
                eprintln!(
                    "airlock schemas: `{schema_arg}` is neither a schema name nor a readable file: {e}"
                );
                return 2;
            }
        },
    };
    let validator = match serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| e.to_string())
        .and_then(|v| jsonschema::validator_for(&v).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("airlock schemas: `{schema_arg}` is not a JSON Schema: {e}");
            return 2;
        }
    };
    let input = match crate::input::read_text(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("airlock schemas: {e}");
            return 2;
        }
    };
    let (mut valid, mut invalid) = (0u64, 0u64);
    for (n, line) in input.lines().enumerate() {
        // A raw log: text before the JSON (a timestamp, a level) is skipped, as are plain lines.
        let Some(at) = line.find('{') else { continue };
        let line_no = n + 1;
        match serde_json::from_str::<serde_json::Value>(&line[at..]) {
            Ok(v) => match validator.validate(&v) {
                Ok(()) => valid += 1,
                Err(e) => {
                    invalid += 1;
                    println!("line {line_no}: at `{}`: {e}", e.instance_path());
                }
            },
            Err(e) => {
                invalid += 1;
                println!("line {line_no}: not JSON: {e}");
            }
        }
    }
    println!("{valid} valid, {invalid} invalid");
    u8::from(invalid > 0)
}
