//! Model rules: what a known model certainly rejects (`unsupported_parameter`, `unsupported_value`,
//! per-model image sizes, embedding `dimensions`).
//!
//! A model is looked up by exact id, then by its family: the longest family name that is the id
//! itself or a prefix of it followed by `-` (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`; `gpt-5.1`
//! does not fall under `gpt-5`). Fine-tuned ids (`ft:gpt-4o-mini-2024-07-18:org::id`) use their
//! base model. A model neither table knows gets no model rules, only an `unknown_model` warning.
//!
//! Only facts that are certain are enforced; where OpenAI's behaviour is known but its wording or
//! the exact set of models is not, the finding is a warning.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::Value;

use super::Ctx;
use super::tables::{Family, ModelInfo, TokenEncoding};
use super::text::{fmt_number, quote_list};
use crate::generated::models::{ENCODINGS, FAMILIES, MODELS};

/// What the data knows about one model id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Known {
    pub(crate) family: Option<&'static Family>,
    #[allow(dead_code)] // data for the tokenizer and the worker
    pub(crate) info: Option<&'static ModelInfo>,
}

/// The base id of a fine-tuned model (`ft:gpt-4o-mini-2024-07-18:org::id` → `gpt-4o-mini-2024-07-18`).
fn base_id(model: &str) -> &str {
    match model.strip_prefix("ft:") {
        Some(rest) => rest.split(':').next().unwrap_or(rest),
        None => model,
    }
}

fn falls_under(model: &str, name: &str) -> bool {
    model == name
        || (model.len() > name.len()
            && model.starts_with(name)
            && model.as_bytes()[name.len()] == b'-')
}

/// Looks a model id up; `None` when the data does not know it.
pub(crate) fn lookup(model: &str) -> Option<Known> {
    let id = base_id(model);
    let family = FAMILIES
        .iter()
        .filter(|f| falls_under(id, f.name))
        .max_by_key(|f| f.name.len());
    let info = MODELS
        .binary_search_by(|m| m.name.cmp(id))
        .ok()
        .map(|i| &MODELS[i]);
    (family.is_some() || info.is_some()).then_some(Known { family, info })
}

/// The tokenizer encoding of a model id, when known (longest prefix).
#[allow(dead_code)] // used by the tokenizer
pub(crate) fn encoding(model: &str) -> Option<TokenEncoding> {
    let id = base_id(model);
    ENCODINGS
        .iter()
        .filter(|e| id.starts_with(e.prefix))
        .max_by_key(|e| e.prefix.len())
        .map(|e| e.encoding)
}

/// Endpoints whose body names a model.
fn uses_model(endpoint: &str) -> bool {
    !matches!(endpoint, "/v1/files" | "/v1/batches")
}

/// Runs the model rules on a parsed body.
pub(super) fn check(ctx: &mut Ctx<'_>, endpoint: &str, body: &Value) {
    let Some(obj) = body.as_object() else { return };
    let Some(model) = obj.get("model").and_then(Value::as_str) else {
        return;
    };
    if !uses_model(endpoint) {
        return;
    }
    let Some(known) = lookup(model) else {
        ctx.warn(
            "unknown_model",
            "unknown_model",
            Some("model".into()),
            format!(
                "The model '{model}' is not in Airlock's model data; its model rules were not checked."
            ),
        );
        return;
    };
    let Some(f) = known.family else { return };
    match endpoint {
        "/v1/chat/completions" => chat(ctx, f, obj),
        "/v1/responses" => responses(ctx, f, obj),
        "/v1/images/generations" => images(ctx, f, obj),
        "/v1/embeddings" => embeddings(ctx, f, obj),
        _ => {}
    }
}

fn present<'v>(obj: &'v serde_json::Map<String, Value>, key: &str) -> Option<&'v Value> {
    obj.get(key).filter(|v| !v.is_null())
}

/// Sampling parameters a reasoning model takes only at their default value.
const SAMPLING: &[(&str, f64)] = &[
    ("temperature", 1.0),
    ("top_p", 1.0),
    ("presence_penalty", 0.0),
    ("frequency_penalty", 0.0),
];

fn chat(ctx: &mut Ctx<'_>, f: &Family, obj: &serde_json::Map<String, Value>) {
    if f.chat_max_tokens_rejected && present(obj, "max_tokens").is_some() {
        ctx.reject(
            "model_max_tokens",
            "unsupported_parameter",
            Some("max_tokens".into()),
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.".into(),
        );
    }
    if let Some(cap) = f.chat_max_completion_tokens {
        for name in ["max_tokens", "max_completion_tokens"] {
            let Some(n) = present(obj, name).and_then(Value::as_f64) else {
                continue;
            };
            if n > f64::from(cap) {
                let given = fmt_number(&obj[name]);
                ctx.reject(
                    "model_max_tokens",
                    "",
                    Some(name.into()),
                    format!(
                        "{name} is too large: {given}. This model supports at most {cap} completion tokens, whereas you provided {given}."
                    ),
                );
            }
        }
    }
    if f.sampling_defaults_only {
        // Reasoning models accept the default value itself (temperature: 1 passes).
        for (name, default) in SAMPLING {
            let Some(v) = present(obj, name) else {
                continue;
            };
            let Some(x) = v.as_f64() else { continue };
            if x == *default {
                continue;
            }
            // o3-mini names even `temperature` an unsupported parameter (npiv/chatblade#100,
            // BeehiveInnovations/pal-mcp-server#78), where o1 and o3 answer "Unsupported value".
            let parameter_wording = *name != "temperature" || f.name == "o3-mini";
            let message = if parameter_wording {
                // Observed wording for the penalties (gpt-5-mini) and top_p (gpt-5, chatbox#2627);
                // the default value is let through.
                format!("Unsupported parameter: '{name}' is not supported with this model.")
            } else {
                format!(
                    "Unsupported value: '{name}' does not support {} with this model. Only the default ({}) value is supported.",
                    fmt_number(v),
                    fmt_f64(*default)
                )
            };
            let code = if parameter_wording {
                "unsupported_parameter"
            } else {
                "unsupported_value"
            };
            ctx.reject("model_sampling_params", code, Some((*name).into()), message);
        }
    }
    if f.logprobs_rejected && present(obj, "logprobs") == Some(&Value::Bool(true)) {
        ctx.reject(
            "model_logprobs",
            "unsupported_parameter",
            Some("logprobs".into()),
            "Unsupported parameter: 'logprobs' is not supported with this model.".into(),
        );
    }
    if let Some(stop) = present(obj, "stop").filter(|_| f.stop_rejected) {
        let message =
            String::from("Unsupported parameter: 'stop' is not supported with this model.");
        // Many clients always send `stop: []` (or `""`) meaning "none"; whether the API lets
        // an empty value through on these models is not known, so it is only a warning.
        let empty = stop.as_array().is_some_and(Vec::is_empty) || stop.as_str() == Some("");
        if empty {
            ctx.warn(
                "model_stop",
                "unsupported_parameter",
                Some("stop".into()),
                message,
            );
        } else {
            ctx.reject(
                "model_stop",
                "unsupported_parameter",
                Some("stop".into()),
                message,
            );
        }
    }
    if f.system_role_rejected || f.function_role_rejected {
        if let Some(messages) = obj.get("messages").and_then(Value::as_array) {
            let hit = messages.iter().enumerate().find_map(|(i, m)| {
                let role = m.get("role").and_then(Value::as_str)?;
                let rejected = match role {
                    "system" | "developer" => f.system_role_rejected,
                    "function" => f.function_role_rejected,
                    _ => false,
                };
                rejected.then(|| (i, role.to_string()))
            });
            if let Some((i, role)) = hit {
                ctx.reject(
                    "model_system_role",
                    "unsupported_value",
                    Some(format!("messages[{i}].role")),
                    format!(
                        "Unsupported value: 'messages[{i}].role' does not support '{role}' with this model."
                    ),
                );
            }
        }
    }
    if let Some(effort) = present(obj, "reasoning_effort") {
        if f.reasoning == Some(false) {
            // Observed on gpt-4o, gpt-4o-mini and gpt-4.1: a non-reasoning model does not know the
            // parameter at all (`null` passes: it is "not set").
            ctx.reject(
                "model_reasoning_effort",
                "",
                None,
                "Unrecognized request argument supplied: reasoning_effort".into(),
            );
        } else {
            reasoning_effort(ctx, f, effort, "reasoning_effort");
        }
    }
    if f.vision == Some(false) {
        if let Some(param) = first_image_part(obj) {
            ctx.reject(
                "model_vision",
                "",
                Some(param),
                "Invalid content type. image_url is only supported by certain models.".into(),
            );
        }
    }
    if present(obj, "web_search_options").is_some() && !model_id(obj).contains("search") {
        // Chat Completions searches the web only with its search models (gpt-4o-search-preview,
        // gpt-4o-mini-search-preview, gpt-5-search-api). Recorded 400 for gpt-4o: pydantic/pydantic-ai
        // tests/models/cassettes/test_openai/test_openai_web_search_tool_model_not_supported.yaml.
        // Certain for the non-reasoning families; for the others only a warning.
        let message = String::from("Web search options not supported with this model.");
        let param = Some(String::from("web_search_options"));
        if f.reasoning == Some(false) {
            ctx.reject("model_web_search", "", param, message);
        } else {
            ctx.warn("model_web_search", "", param, message);
        }
    }
    let format_type = obj
        .get("response_format")
        .and_then(|r| r.get("type"))
        .and_then(Value::as_str);
    if format_type == Some("json_schema") && f.structured_outputs == Some(false) {
        ctx.reject(
            "model_structured_outputs",
            "",
            Some("response_format".into()),
            "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.".into(),
        );
    }
    if format_type == Some("json_object") && f.json_object == Some(false) {
        ctx.reject(
            "model_structured_outputs",
            "",
            Some("response_format".into()),
            "Invalid parameter: 'response_format' of type 'json_object' is not supported with this model.".into(),
        );
    }
}

fn model_id(obj: &serde_json::Map<String, Value>) -> &str {
    obj.get("model").and_then(Value::as_str).unwrap_or("")
}

/// The param path of the first `image_url` content part, in OpenAI's form for this error
/// (`messages.[1].content.[0].type`).
fn first_image_part(obj: &serde_json::Map<String, Value>) -> Option<String> {
    let messages = obj.get("messages")?.as_array()?;
    messages.iter().enumerate().find_map(|(i, m)| {
        let parts = m.get("content")?.as_array()?;
        parts.iter().enumerate().find_map(|(j, p)| {
            (p.get("type").and_then(Value::as_str) == Some("image_url"))
                .then(|| format!("messages.[{i}].content.[{j}].type"))
        })
    })
}

fn responses(ctx: &mut Ctx<'_>, f: &Family, obj: &serde_json::Map<String, Value>) {
    if let Some(effort) = obj
        .get("reasoning")
        .and_then(|r| r.get("effort"))
        .filter(|v| !v.is_null())
    {
        reasoning_effort(ctx, f, effort, "reasoning.effort");
    }
    if f.sampling_defaults_only {
        // Responses answers a non-default value with "Unsupported parameter: 'temperature' is
        // not supported with this model." (param temperature, code null; seen for gpt-5 and
        // o-series through the Vercel AI SDK and litellm). Whether the default value itself
        // passes is not known, so it is let through.
        for (name, default) in SAMPLING {
            if let Some(v) = present(obj, name) {
                if v.as_f64().is_some_and(|x| x != *default) {
                    ctx.reject(
                        "model_sampling_params",
                        "",
                        Some((*name).into()),
                        format!(
                            "Unsupported parameter: '{name}' is not supported with this model."
                        ),
                    );
                }
            }
        }
    }
}

fn reasoning_effort(ctx: &mut Ctx<'_>, f: &Family, effort: &Value, param: &str) {
    let Some(value) = effort.as_str() else { return };
    if f.reasoning == Some(false) {
        // Responses on gpt-4o / gpt-4.1: "Unsupported parameter: 'reasoning.effort' is not
        // supported with this model." (BoundaryML/baml#2708, RageAgainstThePixel/OpenAI-DotNet#500,
        // BerriAI/litellm#38842).
        ctx.reject(
            "model_reasoning_effort",
            "unsupported_parameter",
            Some(param.into()),
            format!("Unsupported parameter: '{param}' is not supported with this model."),
        );
        return;
    }
    if f.reasoning_efforts.is_empty() || f.reasoning_efforts.contains(&value) {
        return;
    }
    // Values no model takes are left to the endpoint's enum rule.
    const ALL: &[&str] = &["none", "minimal", "low", "medium", "high", "xhigh", "max"];
    if !ALL.contains(&value) {
        return;
    }
    ctx.reject(
        "model_reasoning_effort",
        "unsupported_value",
        Some(param.into()),
        format!(
            "Unsupported value: '{param}' does not support '{value}' with this model. Supported values are: {}.",
            quote_list(f.reasoning_efforts)
        ),
    );
}

fn images(ctx: &mut Ctx<'_>, f: &Family, obj: &serde_json::Map<String, Value>) {
    // The GPT image models always answer in base64 and refuse the dall-e parameter (observed for
    // gpt-image-1 and gpt-image-1-mini: vercel/ai#6102, lofcz/LLMTornado#155). Only the families
    // the data knows get this rule; a newer image model passes.
    if f.name.starts_with("gpt-image-") && present(obj, "response_format").is_some() {
        ctx.reject(
            "model_image_params",
            "unknown_parameter",
            Some("response_format".into()),
            "Unknown parameter: 'response_format'.".into(),
        );
    }
    if let Some(size) = present(obj, "size").and_then(Value::as_str) {
        if !f.image_sizes.is_empty() && !f.image_sizes.contains(&size) {
            ctx.reject(
                "model_image_params",
                "invalid_value",
                Some("size".into()),
                format!(
                    "Invalid value: '{size}'. Supported values are: {}.",
                    quote_list(f.image_sizes)
                ),
            );
        }
    }
    if let Some(quality) = present(obj, "quality").and_then(Value::as_str) {
        if !f.image_qualities.is_empty() && !f.image_qualities.contains(&quality) {
            ctx.reject(
                "model_image_params",
                "invalid_value",
                Some("quality".into()),
                format!(
                    "Invalid value: '{quality}'. Supported values are: {}.",
                    quote_list(f.image_qualities)
                ),
            );
        }
    }
    if let (Some(max), Some(n)) = (f.image_max_n, present(obj, "n").and_then(Value::as_f64)) {
        if n > f64::from(max) {
            ctx.reject(
                "model_image_params",
                "integer_above_max_value",
                Some("n".into()),
                format!(
                    "Invalid 'n': integer above maximum value. Expected a value <= {max}, but got {} instead.",
                    fmt_number(&obj["n"])
                ),
            );
        }
    }
}

fn embeddings(ctx: &mut Ctx<'_>, f: &Family, obj: &serde_json::Map<String, Value>) {
    let Some(dims) = present(obj, "dimensions") else {
        return;
    };
    if f.dimensions_rejected {
        ctx.reject(
            "embeddings_dimensions",
            "",
            Some("dimensions".into()),
            "This model does not support specifying dimensions.".into(),
        );
        return;
    }
    if let (Some(max), Some(n)) = (f.dimensions_max, dims.as_f64()) {
        if n > f64::from(max) {
            ctx.reject(
                "embeddings_dimensions",
                "integer_above_max_value",
                Some("dimensions".into()),
                format!(
                    "Invalid 'dimensions': integer above maximum value. Expected a value <= {max}, but got {} instead.",
                    fmt_number(dims)
                ),
            );
        }
    }
}

fn fmt_f64(x: f64) -> String {
    super::text::fmt_limit(x)
}

/// The names of the families the data knows (for docs and tests).
#[allow(dead_code)]
pub(crate) fn family_names() -> Vec<&'static str> {
    FAMILIES.iter().map(|f| f.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn family(model: &str) -> Option<&'static str> {
        lookup(model).and_then(|k| k.family).map(|f| f.name)
    }

    #[test]
    fn snapshots_resolve_to_the_longest_family() {
        assert_eq!(family("gpt-4o"), Some("gpt-4o"));
        assert_eq!(family("gpt-4o-2024-08-06"), Some("gpt-4o"));
        assert_eq!(family("gpt-4o-2024-05-13"), Some("gpt-4o-2024-05-13"));
        assert_eq!(family("gpt-4o-mini-2024-07-18"), Some("gpt-4o-mini"));
        assert_eq!(family("o3-mini-2025-01-31"), Some("o3-mini"));
        assert_eq!(family("o3-2025-04-16"), Some("o3"));
        assert_eq!(family("gpt-5-chat-latest"), Some("gpt-5-chat"));
        assert_eq!(
            family("ft:gpt-4o-mini-2024-07-18:acme::abc123"),
            Some("gpt-4o-mini")
        );
        assert_eq!(family("gpt-4-0613"), Some("gpt-4"));
        assert_eq!(family("gpt-4-turbo-2024-04-09"), Some("gpt-4-turbo"));
    }

    #[test]
    fn prefixes_stop_at_a_dash() {
        // gpt-5.1 is not gpt-5: its parameters differ (reasoning effort `none`, temperature).
        assert!(family("gpt-5.1").is_none());
        assert!(family("gpt-4.1-mini").is_some_and(|f| f == "gpt-4.1-mini"));
        assert!(family("gpt-4ox").is_none());
        assert!(lookup("my-custom-model").is_none());
        // Known to the catalog without a family: known, but no capability rules.
        assert!(lookup("gpt-5.1").is_some_and(|k| k.info.is_some() && k.family.is_none()));
    }

    #[test]
    fn encodings_by_prefix() {
        assert_eq!(encoding("gpt-4o-mini"), Some(TokenEncoding::O200kBase));
        assert_eq!(encoding("gpt-4-0613"), Some(TokenEncoding::Cl100kBase));
        assert_eq!(encoding("gpt-4.1"), Some(TokenEncoding::O200kBase));
        assert_eq!(encoding("gpt-3.5-turbo"), Some(TokenEncoding::Cl100kBase));
        assert_eq!(
            encoding("text-embedding-3-small"),
            Some(TokenEncoding::Cl100kBase)
        );
        assert_eq!(encoding("o1-mini"), Some(TokenEncoding::O200kBase));
        assert_eq!(encoding("whisper-1"), None);
    }

    #[test]
    fn catalog_numbers_are_there() {
        let k = lookup("gpt-4o").unwrap();
        let info = k.info.unwrap();
        assert_eq!(info.max_input_tokens, Some(128_000));
        assert_eq!(info.max_output_tokens, Some(16_384));
        assert!(family_names().contains(&"dall-e-3"));
    }
}
