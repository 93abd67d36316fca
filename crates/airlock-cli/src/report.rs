//! The JSON the CLI prints, as typed structs (issue 17, part 4): each `--json` output is one of
//! these serialized, so its JSON Schema (`airlock schemas NAME`, committed as `schemas/NAME.json`
//! by `cargo xtask codegen`) is derived from what is printed, not written beside it.
//!
//! The keys are the ones the CLI printed before these types existed (built with `json!`). The
//! output goes through a `serde_json::Value` before it is written, so keys stay sorted as they
//! were, byte for byte. Each schema is closed (`additionalProperties: false`) where the type is
//! the CLI's own, so a key added without its type fails the CLI's tests.

use airlock_rules::tokenizer::request::Part;
use airlock_rules::validate::{ApiError, TokenReport, bounds::Bound};
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
pub const SCHEMAS: &[&str] = &["check", "count-text", "count-request"];

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
        _ => return None,
    };
    serde_json::to_string_pretty(&s).ok().map(|t| t + "\n")
}

/// `airlock schemas [NAME]`: lists the names, or prints one schema.
pub fn run(args: &[String]) -> u8 {
    match args {
        [] => {
            for n in SCHEMAS {
                println!("{n}");
            }
            0
        }
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
            eprintln!("usage: airlock schemas [NAME]");
            2
        }
    }
}
