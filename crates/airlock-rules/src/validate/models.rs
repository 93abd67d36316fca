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
use super::tables::{ChatRefusal, Family, ModelInfo, TokenEncoding};
use super::text::{fmt_number, quote_list};
use crate::generated::models::{ENCODINGS, FAMILIES, HOSTED_TOOLS, MODELS};

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
        "/v1/completions" => completions(ctx, f),
        _ => {}
    }
}

/// A chat model sent to the legacy Completions endpoint: OpenAI answers with the model alone
/// (RomanHotsiy/commitgpt#43 for gpt-3.5-turbo, alexrudall/ruby-openai#546 for gpt-4o).
fn completions(ctx: &mut Ctx<'_>, f: &Family) {
    if f.completions_refused {
        ctx.reject(
            "model_endpoint",
            "",
            Some("model".into()),
            "This is a chat model and not supported in the v1/completions endpoint. Did you mean to use v1/chat/completions?".into(),
        );
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
    if let Some(refusal) = f.chat_refused {
        // OpenAI answers with the model alone; the other parameters are never judged.
        let message = match refusal {
            ChatRefusal::ResponsesOnly => {
                "This model is only supported in v1/responses and not in v1/chat/completions."
            }
            ChatRefusal::NotChatModel => {
                "This is not a chat model and thus not supported in the v1/chat/completions endpoint. Did you mean to use v1/completions?"
            }
        };
        ctx.reject("model_endpoint", "", Some("model".into()), message.into());
        return;
    }
    refused_params(ctx, f, obj, "chat");
    if f.chat_sampling_refused {
        chat_sampling_refused(ctx, obj);
    }
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
    // A refused message role is named before refused sampling values: o1-mini answered a
    // system message sent beside temperature 0.7 and top_p 0.9 with the role
    // (devoxx/DevoxxGenieIDEAPlugin#291). Its order against `max_tokens` is not known.
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
    if f.sampling_defaults_only || reasoning_on(f, obj.get("reasoning_effort")) {
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
    // The families that take sampling parameters only at effort `none` take `logprobs` on the
    // same terms: gpt-5.6-terra refused it at its default effort and answered it at `none`
    // (kangminlee-maker/local-OAuth-CLI-API-adapter's direct-API probe and capture, 2026-08/09).
    let reasoning = reasoning_on(f, obj.get("reasoning_effort"));
    if (f.logprobs_rejected || reasoning) && present(obj, "logprobs") == Some(&Value::Bool(true)) {
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
    if f.chat_effort_null_rejected && obj.get("reasoning_effort") == Some(&Value::Null) {
        // gpt-5.1 refuses an explicit null (livekit/agents#3966); other models take it as unset.
        ctx.reject(
            "model_reasoning_effort",
            "unsupported_value",
            Some("reasoning_effort".into()),
            format!(
                "Unsupported value: 'reasoning_effort' does not support null with this model. Supported values are: {}.",
                quote_list(f.reasoning_efforts)
            ),
        );
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
            reasoning_effort(ctx, f, effort, "reasoning_effort", None);
        }
    }
    // A family's own ceiling on `n` below the spec's 128 ("Invalid 'n': integer above maximum
    // value. Expected a value <= 8, but got 64 instead." for gpt-5.6-terra,
    // kangminlee-maker/local-OAuth-CLI-API-adapter's direct-API probes).
    if let (Some(max), Some(n)) = (f.chat_max_n, present(obj, "n")) {
        if n.as_f64().is_some_and(|x| x > f64::from(max)) {
            ctx.reject(
                "model_n",
                "integer_above_max_value",
                Some("n".into()),
                format!(
                    "Invalid 'n': integer above maximum value. Expected a value <= {max}, but got {} instead.",
                    fmt_number(n)
                ),
            );
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
        // A reasoning model answers in the other wording: "Unknown parameter:
        // 'web_search_options'." (pydantic/pydantic-ai#2822, gpt-5).
        let param = Some(String::from("web_search_options"));
        match f.reasoning {
            Some(false) => ctx.reject(
                "model_web_search",
                "",
                param,
                String::from("Web search options not supported with this model."),
            ),
            Some(true) => ctx.reject(
                "model_web_search",
                "unknown_parameter",
                param,
                String::from("Unknown parameter: 'web_search_options'."),
            ),
            None => ctx.warn(
                "model_web_search",
                "",
                param,
                String::from("Web search options not supported with this model."),
            ),
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
            // The full wording, as quoted in web-infra-dev/midscene#259 and atcelen/IDesign#7.
            "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model. Learn more about supported models at the Structured Outputs guide: https://platform.openai.com/docs/guides/structured-outputs".into(),
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
    if let Some(v) = present(obj, "verbosity").and_then(Value::as_str) {
        // Values outside the spec's enum are left to the schema rules.
        if !f.verbosities.is_empty()
            && matches!(v, "low" | "medium" | "high")
            && !f.verbosities.contains(&v)
        {
            // google-deepmind/concordia#164 (gpt-4o, param verbosity, code unsupported_value).
            ctx.reject(
                "model_verbosity",
                "unsupported_value",
                Some("verbosity".into()),
                format!(
                    "Unsupported value: 'verbosity' does not support '{v}' with this model. Supported values are: {}.",
                    quote_list(f.verbosities)
                ),
            );
        }
    }
    chat_audio(ctx, f, obj);
    chat_tools_effort(ctx, f, obj);
}

/// Chat Completions refuses function tools together with a reasoning effort other than `none`
/// on the newest families: "Function tools with reasoning_effort are not supported for
/// gpt-5.6-terra in /v1/chat/completions. To use function tools, use /v1/responses or set
/// reasoning_effort to 'none'." (param reasoning_effort, code null). Where the family reasons by
/// default, a request that sets no effort is refused too (sandialabs/atlas-ui-3#756). The families
/// and the evidence are in rules/model_capabilities.toml (`chat_tools_effort_refused`); the older
/// wording ("… Please use /v1/responses instead.") is the one seen for the families refusing only
/// a set effort.
fn chat_tools_effort(ctx: &mut Ctx<'_>, f: &Family, obj: &serde_json::Map<String, Value>) {
    let Some(also_default) = f.chat_tools_effort_refused else {
        return;
    };
    let function_tools = obj.get("tools").and_then(Value::as_array).is_some_and(|t| {
        t.iter()
            .any(|x| x.get("type").and_then(Value::as_str) == Some("function"))
    });
    if !function_tools {
        return;
    }
    let reasons = match present(obj, "reasoning_effort").map(Value::as_str) {
        None => also_default,
        Some(Some(e)) => e != "none",
        // Not a string: the endpoint's type rule speaks.
        Some(None) => false,
    };
    if !reasons {
        return;
    }
    let model = model_id(obj);
    let advice = if also_default {
        "To use function tools, use /v1/responses or set reasoning_effort to 'none'."
    } else {
        "Please use /v1/responses instead."
    };
    ctx.reject(
        "model_reasoning_effort",
        "",
        Some("reasoning_effort".into()),
        format!(
            "Function tools with reasoning_effort are not supported for {model} in /v1/chat/completions. {advice}"
        ),
    );
}

/// True when the request runs a reasoning effort other than `none` on a family that takes the
/// sampling parameters only with effort `none` (GPT-5.1/5.2: an absent effort is `none`; GPT-5.5
/// and later reason by default).
fn reasoning_on(f: &Family, effort: Option<&Value>) -> bool {
    if !f.sampling_unless_effort_none {
        return false;
    }
    match effort.filter(|v| !v.is_null()).map(Value::as_str) {
        None => !f.default_effort_none,
        Some(Some(e)) => e != "none",
        // Not a string: the endpoint's type rule speaks; no guess here.
        Some(None) => false,
    }
}

/// The value at a dotted path (`reasoning.effort`), when set and not null.
fn at_path<'v>(obj: &'v serde_json::Map<String, Value>, path: &str) -> Option<&'v Value> {
    let mut parts = path.split('.');
    let mut cur = obj.get(parts.next()?)?;
    for part in parts {
        cur = cur.get(part)?;
    }
    (!cur.is_null()).then_some(cur)
}

/// Parameters the family refuses on this endpoint ("Unsupported parameter: 'P' is not supported
/// with this model.", code `unsupported_parameter`).
fn refused_params(
    ctx: &mut Ctx<'_>,
    f: &Family,
    obj: &serde_json::Map<String, Value>,
    endpoint: &str,
) {
    for r in f.refused.iter().filter(|r| r.endpoint == endpoint) {
        if at_path(obj, r.param).is_none() {
            continue;
        }
        // The image models answer a parameter they do not take as an unknown one ("Unknown
        // parameter: 'quality'." for dall-e-2: Code-with-Beto/snapai#6,
        // n3d1117/chatgpt-telegram-bot#695); the text endpoints as an unsupported one.
        let (code, message) = if endpoint == "images" {
            (
                "unknown_parameter",
                format!("Unknown parameter: '{}'.", r.param),
            )
        } else if endpoint == "responses" && SUMMARY_PARAMS.contains(&r.param) {
            (
                "unsupported_parameter",
                summary_refused_message(r.param, model_id(obj)),
            )
        } else {
            (
                "unsupported_parameter",
                format!(
                    "Unsupported parameter: '{}' is not supported with this model.",
                    r.param
                ),
            )
        };
        let param = Some(String::from(r.param));
        ctx.reject_or_report(r.report, "model_parameter", code, param, message);
    }
}

/// The two spellings of the reasoning summary in a Responses body.
const SUMMARY_PARAMS: &[&str] = &["reasoning.summary", "reasoning.generate_summary"];

/// The Responses API refuses a reasoning summary in words that name the model, unlike its
/// refusal of `reasoning.effort` ("with this model"): "Unsupported parameter: 'reasoning.summary'
/// is not supported with the 'gpt-5.3-codex-spark' model." (code unsupported_parameter;
/// superset-sh/superset#1898), the same for gpt-4.1 (roackb2/heddle#227) and for the older
/// spelling on o3-mini (openai/openai-python#2194).
fn summary_refused_message(param: &str, model: &str) -> String {
    format!("Unsupported parameter: '{param}' is not supported with the '{model}' model.")
}

/// A reasoning summary asked of a model that does not reason (the families marked
/// `reasoning = false`: GPT-4o, GPT-4.1 and older): "Unsupported parameter: 'reasoning.summary'
/// is not supported with the 'gpt-4.1-2025-04-14' model." (roackb2/heddle#227, 2026-07: a client
/// that sent `reasoning.summary` on every request, to gpt-4.1). No recorded 200 carries a summary
/// for such a model.
fn reasoning_summary_unreasoned(
    ctx: &mut Ctx<'_>,
    f: &Family,
    obj: &serde_json::Map<String, Value>,
    model: &str,
) {
    if f.reasoning != Some(false) || at_path(obj, "reasoning.summary").is_none() {
        return;
    }
    ctx.reject(
        "model_parameter",
        "unsupported_parameter",
        Some("reasoning.summary".into()),
        summary_refused_message("reasoning.summary", model),
    );
}

/// `reasoning.generate_summary`, the spelling the spec keeps as deprecated, is taken only by
/// computer-use-preview, whose guide uses it (openai/openai-cua-sample-app#37 was answered with
/// that model's summary values, 2025-04). o3-mini refused it as unsupported in 2025-03
/// (openai/openai-python#2194) and as unknown in 2025-05 ("Unknown parameter:
/// 'reasoning.generate_summary'.", code unknown_parameter; openai/openai-go#392), after o3-mini
/// took `reasoning.summary`: the alias is gone, not the feature. No recorded 200 carries it.
/// Only families the data knows are judged; an unknown model keeps the deprecation warning.
fn generate_summary_alias(ctx: &mut Ctx<'_>, f: &Family, obj: &serde_json::Map<String, Value>) {
    if falls_under(f.name, "computer-use-preview")
        || at_path(obj, "reasoning.generate_summary").is_none()
    {
        return;
    }
    ctx.reject(
        "model_parameter",
        "unknown_parameter",
        Some("reasoning.generate_summary".into()),
        "Unknown parameter: 'reasoning.generate_summary'.".into(),
    );
}

/// The search-preview models refuse the sampling parameters whatever their value, all named in
/// one message ("Model incompatible request arguments supplied: frequency_penalty,
/// presence_penalty, temperature, top_p", param and code null: ChatGPTNextWeb/NextChat#6569);
/// one name alone takes the singular ("Model incompatible request argument supplied:
/// temperature", raycast/extensions#18038).
fn chat_sampling_refused(ctx: &mut Ctx<'_>, obj: &serde_json::Map<String, Value>) {
    const NAMES: &[&str] = &[
        "frequency_penalty",
        "presence_penalty",
        "temperature",
        "top_p",
    ];
    let given: Vec<&str> = NAMES
        .iter()
        .copied()
        .filter(|n| present(obj, n).is_some())
        .collect();
    if given.is_empty() {
        return;
    }
    ctx.reject(
        "model_sampling_params",
        "",
        None,
        format!(
            "Model incompatible request {} supplied: {}",
            if given.len() == 1 {
                "argument"
            } else {
                "arguments"
            },
            given.join(", ")
        ),
    );
}

/// The index of the first message of a Chat request with an `input_audio` content part.
fn first_audio_message(obj: &serde_json::Map<String, Value>) -> Option<usize> {
    let messages = obj.get("messages")?.as_array()?;
    messages.iter().position(|m| {
        m.get("content")
            .and_then(Value::as_array)
            .is_some_and(|parts| {
                parts
                    .iter()
                    .any(|p| p.get("type").and_then(Value::as_str) == Some("input_audio"))
            })
    })
}

/// Audio in and out of Chat Completions: the audio-preview models need audio somewhere
/// (observed: "This model requires that either input content or output modality contain
/// audio.", CherryHQ/cherry-studio#1179; OpenAI's error object, relayed by OpenRouter in
/// truefoundry/models#822, carries param `model` and code `invalid_value`); a model without audio
/// input refuses an `input_audio` part, naming the message that holds it ("Invalid 'messages[1]'.
/// Content blocks are expected to be either text or image_url type.", param `messages[1]`, code
/// `invalid_value`: a 2026 Azure OpenAI answer for gpt-5.6-luna and probes of gpt-4o and GPT-5.x
/// quoted in public code; the sources are in `rules/model_capabilities.toml`).
fn chat_audio(ctx: &mut Ctx<'_>, f: &Family, obj: &serde_json::Map<String, Value>) {
    let audio_message = first_audio_message(obj);
    if f.audio_required {
        let wants_audio = obj
            .get("modalities")
            .and_then(Value::as_array)
            .is_some_and(|m| m.iter().any(|x| x.as_str() == Some("audio")));
        // An earlier assistant answer in audio (`audio: {id}`) or the `audio` output options
        // count too: the lenient reading.
        let audio_turn = obj
            .get("messages")
            .and_then(Value::as_array)
            .is_some_and(|ms| {
                ms.iter()
                    .any(|m| m.get("audio").is_some_and(|a| !a.is_null()))
            });
        if !wants_audio && audio_message.is_none() && !audio_turn && present(obj, "audio").is_none()
        {
            ctx.reject(
                "model_audio",
                "invalid_value",
                Some("model".into()),
                "This model requires that either input content or output modality contain audio."
                    .into(),
            );
        }
    }
    if let (Some(false), Some(i)) = (f.audio_input, audio_message) {
        let param = format!("messages[{i}]");
        let message = format!(
            "Invalid '{param}'. Content blocks are expected to be either text or image_url type."
        );
        ctx.reject("model_audio", "invalid_value", Some(param), message);
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
    let model = model_id(obj);
    if let Some(words) = f.responses_refused_message {
        // Models of other endpoints (embeddings, images, video), each family in the words OpenAI
        // used for it: "The requested model, 'dall-e-3' was not found.", "Model not found
        // sora-2" (dsw7/GPTifier's live tests).
        ctx.reject(
            "model_endpoint",
            "model_not_found",
            Some("model".into()),
            words.replace("{model}", model),
        );
        return;
    }
    if f.responses_refused {
        // Seen for the search-preview, audio and image models and o1-preview (param model, code
        // model_not_found: Laisky/one-api#88, CherryHQ/cherry-studio#6170).
        ctx.reject(
            "model_endpoint",
            "model_not_found",
            Some("model".into()),
            format!("The requested model '{model}' is not supported with the Responses API."),
        );
        return;
    }
    generate_summary_alias(ctx, f, obj);
    refused_params(ctx, f, obj, "responses");
    reasoning_summary_unreasoned(ctx, f, obj, model);
    encrypted_reasoning(ctx, f, obj);
    reasoning_items(ctx, f, obj);
    let effort = obj.get("reasoning").and_then(|r| r.get("effort"));
    if let Some(effort) = effort.filter(|v| !v.is_null()) {
        reasoning_effort(ctx, f, effort, "reasoning.effort", Some(model));
    }
    reasoning_options(ctx, f, obj, model);
    if f.sampling_defaults_only || reasoning_on(f, effort) {
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
    hosted_tools(ctx, f, obj, model);
}

/// Encrypted reasoning asked of a model that does not reason (the families marked
/// `reasoning = false`: GPT-4o, GPT-4.1 and older): "Encrypted content is not supported with
/// this model." (NousResearch/hermes-agent#24234: gpt-4o and gpt-4o-mini answer an
/// `include: ["reasoning.encrypted_content"]` with it; the param is not quoted, `include` is
/// the field that asks). Every recorded 200 with that include is for a reasoning model.
fn encrypted_reasoning(ctx: &mut Ctx<'_>, f: &Family, obj: &serde_json::Map<String, Value>) {
    if f.reasoning != Some(false) {
        return;
    }
    let asks = obj
        .get("include")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter()
                .any(|x| x.as_str() == Some("reasoning.encrypted_content"))
        });
    if asks {
        ctx.reject(
            "model_parameter",
            "",
            Some("include".into()),
            "Encrypted content is not supported with this model.".into(),
        );
    }
}

/// Reasoning items in `input` for a model that does not reason (the families marked
/// `reasoning = false`: GPT-4o, GPT-4.1 and older; computer-use-preview is not one of them):
/// "Reasoning input items can only be provided to a reasoning or computer use model. Remove
/// reasoning items from your input and try again." (param input, code null;
/// openai/openai-agents-python#569: an o4-mini agent's output items replayed to gpt-4.1).
fn reasoning_items(ctx: &mut Ctx<'_>, f: &Family, obj: &serde_json::Map<String, Value>) {
    if f.reasoning != Some(false) {
        return;
    }
    let replayed = obj
        .get("input")
        .and_then(Value::as_array)
        .is_some_and(|items| {
            items
                .iter()
                .any(|i| i.get("type").and_then(Value::as_str) == Some("reasoning"))
        });
    if replayed {
        ctx.reject(
            "model_parameter",
            "",
            Some("input".into()),
            "Reasoning input items can only be provided to a reasoning or computer use model. Remove reasoning items from your input and try again.".into(),
        );
    }
}

/// The "Unsupported value" wording of the Responses API, which names the model
/// ("Unsupported value: 'minimal' is not supported with the 'gpt-5.1' model. Supported values
/// are: 'none', 'low', 'medium', and 'high'.", openai/openai-agents-python#2089).
fn responses_value_message(value: &str, model: &str, supported: &[&str]) -> String {
    format!(
        "Unsupported value: '{value}' is not supported with the '{model}' model. Supported values are: {}.",
        quote_list(supported)
    )
}

/// `reasoning.context`, `reasoning.mode`, the reasoning summary and `text.verbosity` per model.
fn reasoning_options(
    ctx: &mut Ctx<'_>,
    f: &Family,
    obj: &serde_json::Map<String, Value>,
    model: &str,
) {
    const CONTEXTS: &[&str] = &["auto", "current_turn", "all_turns"];
    if let Some(v) = at_path(obj, "reasoning.context").and_then(Value::as_str) {
        // Values outside the spec's enum are left to the schema rules.
        if !f.reasoning_contexts.is_empty()
            && CONTEXTS.contains(&v)
            && !f.reasoning_contexts.contains(&v)
        {
            ctx.reject(
                "model_reasoning_options",
                "unsupported_value",
                Some("reasoning.context".into()),
                responses_value_message(v, model, f.reasoning_contexts),
            );
        }
    }
    if let Some(v) = at_path(obj, "reasoning.mode").and_then(Value::as_str) {
        // The spec's enum is open; only the two values the probes tried are judged.
        if !f.reasoning_modes.is_empty()
            && matches!(v, "standard" | "pro")
            && !f.reasoning_modes.contains(&v)
        {
            ctx.reject(
                "model_reasoning_options",
                "unsupported_value",
                Some("reasoning.mode".into()),
                "`reasoning.mode` is not supported with this model.".into(),
            );
        }
    }
    // The summary values per model ("Unsupported value: 'detailed' is not supported with the
    // 'computer-use-preview-2025-03-11' model. Supported values are: 'concise'.", param
    // reasoning.generate_summary: openai/openai-cua-sample-app#37).
    const SUMMARIES: &[&str] = &["auto", "concise", "detailed"];
    for param in ["reasoning.summary", "reasoning.generate_summary"] {
        if let Some(v) = at_path(obj, param).and_then(Value::as_str) {
            if !f.reasoning_summaries.is_empty()
                && SUMMARIES.contains(&v)
                && !f.reasoning_summaries.contains(&v)
            {
                ctx.reject(
                    "model_reasoning_options",
                    "unsupported_value",
                    Some(param.into()),
                    responses_value_message(v, model, f.reasoning_summaries),
                );
                return;
            }
        }
    }
    if let Some(v) = at_path(obj, "text.verbosity").and_then(Value::as_str) {
        if !f.verbosities.is_empty()
            && matches!(v, "low" | "medium" | "high")
            && !f.verbosities.contains(&v)
        {
            ctx.reject(
                "model_verbosity",
                "unsupported_value",
                Some("text.verbosity".into()),
                responses_value_message(v, model, f.verbosities),
            );
        }
    }
}

/// Tool types that give a deep research model a data source.
fn is_data_source(tool_type: &str) -> bool {
    tool_type.starts_with("web_search") || matches!(tool_type, "mcp" | "file_search")
}

/// Hosted tools per model in Responses ("Tool 'code_interpreter' is not supported with
/// gpt-5.2-pro", param tools, code null), and the deep research models' data-source tool.
fn hosted_tools(ctx: &mut Ctx<'_>, f: &Family, obj: &serde_json::Map<String, Value>, model: &str) {
    let tools: &[Value] = obj
        .get("tools")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let types = || {
        tools
            .iter()
            .filter_map(|t| t.get("type").and_then(Value::as_str))
    };
    // A refusal in OpenAI's own words for this model first (gpt-5-chat-latest and
    // web_search_preview: "… use `web_search`").
    let worded = types().find_map(|t| f.tools_refused_worded.iter().find(|(w, _)| *w == t));
    let refused = types().find(|t| {
        f.tools_refused.contains(t)
            || HOSTED_TOOLS
                .iter()
                .any(|h| h.tool_type == *t && !h.models.iter().any(|m| falls_under(f.name, m)))
    });
    if let Some((_, message)) = worded {
        ctx.reject(
            "model_hosted_tools",
            "",
            Some("tools".into()),
            String::from(*message),
        );
    } else if let Some(t) = refused {
        ctx.reject(
            "model_hosted_tools",
            "",
            Some("tools".into()),
            format!("Tool '{t}' is not supported with {model}."),
        );
    } else if let Some(t) = types().find(|t| f.tools_unlisted.contains(t)) {
        ctx.warn(
            "model_hosted_tools",
            "",
            Some("tools".into()),
            format!(
                "OpenAI's docs do not list the '{t}' tool for {model}; it may be refused (no 400 for it is known)."
            ),
        );
    }
    // A stored prompt may bring its own tools.
    if f.deep_research && present(obj, "prompt").is_none() && !types().any(is_data_source) {
        ctx.reject(
            "model_deep_research_tools",
            "",
            Some("tools".into()),
            "Deep research models require at least one of 'web_search_preview', 'mcp', or 'file_search' tools.".into(),
        );
    }
}

/// A reasoning effort the model does not take. `responses` is the model id when the request is
/// a Responses one, whose 400 names the model instead of the parameter.
fn reasoning_effort(
    ctx: &mut Ctx<'_>,
    f: &Family,
    effort: &Value,
    param: &str,
    responses: Option<&str>,
) {
    let Some(value) = effort.as_str() else { return };
    // Chat Completions may take fewer efforts than Responses (gpt-5.6-terra: 'max' refused on
    // Chat, recorded 200 on Responses).
    let efforts = if responses.is_none() && !f.chat_reasoning_efforts.is_empty() {
        f.chat_reasoning_efforts
    } else {
        f.reasoning_efforts
    };
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
    if efforts.is_empty() || efforts.contains(&value) {
        return;
    }
    // Values no model takes are left to the endpoint's enum rule.
    const ALL: &[&str] = &["none", "minimal", "low", "medium", "high", "xhigh", "max"];
    if !ALL.contains(&value) {
        return;
    }
    let message = match responses {
        Some(model) => responses_value_message(value, model, efforts),
        None => format!(
            "Unsupported value: '{param}' does not support '{value}' with this model. Supported values are: {}.",
            quote_list(efforts)
        ),
    };
    ctx.reject(
        "model_reasoning_effort",
        "unsupported_value",
        Some(param.into()),
        message,
    );
}

fn images(ctx: &mut Ctx<'_>, f: &Family, obj: &serde_json::Map<String, Value>) {
    // OpenAI names `response_format` before the model's other refused parameters (`style`), and
    // those before a value out of the model's list (`quality: 'standard'`): one 400 at a time, in
    // that order, for gpt-image-1 (ailinone/collective-intelligence's recorded sequence;
    // genkit-ai/genkit#3346 named `response_format` with `style` and `quality` also sent).
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
    refused_params(ctx, f, obj, "images");
    // The longest prompt each model takes (the API reference: 1000 characters for dall-e-2,
    // 4000 for dall-e-3, 32000 for the GPT image models). dall-e-2 answers in a wording of its
    // own, no param (griptape-ai/ComfyUI-Griptape#164: a 1192-character prompt); dall-e-3, the
    // same generation of the images API, is given that wording too (no 400 of its own seen);
    // the GPT image models the schema form, at `prompt`.
    if let Some(max) = f.image_prompt_max {
        let limit = usize::try_from(max).unwrap_or(usize::MAX);
        if let Some(len) = obj
            .get("prompt")
            .and_then(Value::as_str)
            .map(|p| p.chars().count())
            .filter(|n| *n > limit)
        {
            if f.name.starts_with("dall-e-") {
                ctx.reject(
                    "model_image_params",
                    "",
                    None,
                    format!(
                        "Prompt must be length {max} or less. Your prompt length is {len}. Please reduce your prompt length."
                    ),
                );
            } else {
                ctx.reject(
                    "model_image_params",
                    "string_above_max_length",
                    Some("prompt".into()),
                    format!(
                        "Invalid 'prompt': string too long. Expected a string with maximum length {max}, but got a string with length {len} instead."
                    ),
                );
            }
        }
    }
    if let Some(size) = present(obj, "size").and_then(Value::as_str) {
        if !f.image_sizes.is_empty() && !f.image_sizes.contains(&size) && f.name == "dall-e-3" {
            // dall-e-3 answers with its own code and no param (redevrx/chat_gpt_sdk#93: 256x256,
            // code invalid_size, param null; coaidev/coai#280: 512x512, param null).
            ctx.reject(
                "model_image_params",
                "invalid_size",
                None,
                "The size is not supported by this model.".into(),
            );
        } else if !f.image_sizes.is_empty() && !f.image_sizes.contains(&size) {
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
        // OpenAI's 2024 answer, param null (SciPhi-AI/R2R#768, sbintuitions/JMTEB#14); a 2025
        // recording (langchaingo's TestClient_CreateEmbeddingWithDimensions) shows the same
        // request answered 200 with `dimensions` ignored. No longer certain: a warning.
        ctx.warn(
            "embeddings_dimensions",
            "",
            None,
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
        assert_eq!(family("gpt-5.1"), Some("gpt-5.1"));
        assert_eq!(family("gpt-5.1-2025-11-13"), Some("gpt-5.1"));
        assert_eq!(family("gpt-5.1-codex-max"), Some("gpt-5.1-codex-max"));
        assert!(family("gpt-4.1-mini").is_some_and(|f| f == "gpt-4.1-mini"));
        assert!(family("gpt-4ox").is_none());
        assert!(lookup("my-custom-model").is_none());
    }

    #[test]
    fn every_catalog_model_has_a_family() {
        // Every OpenAI model litellm's catalog lists resolves to a family, so each one is either
        // judged by its facts or deliberately known with none.
        let orphans: Vec<&str> = MODELS
            .iter()
            .map(|m| m.name)
            .filter(|name| family(name).is_none())
            .collect();
        assert!(orphans.is_empty(), "models without a family: {orphans:?}");
    }

    fn verdict(endpoint: &str, body: &str) -> crate::validate::Verdict {
        crate::validate::check(
            endpoint,
            body.as_bytes(),
            &crate::validate::Config::default(),
        )
    }

    fn first(v: &crate::validate::Verdict) -> (&str, Option<&str>, Option<&str>, &str) {
        let f = &v.errors[0];
        (
            f.rule.as_str(),
            f.error.code.as_deref(),
            f.error.param.as_deref(),
            f.error.message.as_str(),
        )
    }

    const CHAT: &str = "/v1/chat/completions";
    const RESPONSES: &str = "/v1/responses";

    #[test]
    fn endpoints_served() {
        let v = verdict(
            CHAT,
            r#"{"model":"gpt-5-pro","messages":[{"role":"user","content":"hi"}],"temperature":0.2}"#,
        );
        assert_eq!(v.errors.len(), 1, "only the model is judged: {v:?}");
        assert_eq!(
            first(&v),
            (
                "model_endpoint",
                None,
                Some("model"),
                "This model is only supported in v1/responses and not in v1/chat/completions."
            )
        );
        let v = verdict(
            RESPONSES,
            r#"{"model":"gpt-4o-search-preview","input":"hi"}"#,
        );
        assert_eq!(
            first(&v),
            (
                "model_endpoint",
                Some("model_not_found"),
                Some("model"),
                "The requested model 'gpt-4o-search-preview' is not supported with the Responses API."
            )
        );
        let v = verdict(
            CHAT,
            r#"{"model":"davinci-002","messages":[{"role":"user","content":"hi"}]}"#,
        );
        assert!(first(&v).3.starts_with("This is not a chat model"));
        assert!(verdict(RESPONSES, r#"{"model":"gpt-5-pro","input":"hi"}"#).ok());
        assert!(
            verdict(
                CHAT,
                r#"{"model":"gpt-4o-search-preview","messages":[{"role":"user","content":"hi"}]}"#
            )
            .ok()
        );
    }

    #[test]
    fn responses_effort_names_the_model() {
        let v = verdict(
            RESPONSES,
            r#"{"model":"gpt-5.1","input":"hi","reasoning":{"effort":"minimal"}}"#,
        );
        assert_eq!(
            first(&v),
            (
                "model_reasoning_effort",
                Some("unsupported_value"),
                Some("reasoning.effort"),
                "Unsupported value: 'minimal' is not supported with the 'gpt-5.1' model. Supported values are: 'none', 'low', 'medium', and 'high'."
            )
        );
        for (model, bad, good) in [
            ("gpt-5-pro", "medium", "high"),
            ("gpt-5.1-codex-max", "none", "xhigh"),
            ("gpt-5.2-chat-latest", "high", "medium"),
            ("gpt-5.2-pro", "low", "xhigh"),
            ("gpt-5.5", "max", "none"),
        ] {
            let body = |e: &str| {
                format!(r#"{{"model":"{model}","input":"hi","reasoning":{{"effort":"{e}"}}}}"#)
            };
            assert!(!verdict(RESPONSES, &body(bad)).ok(), "{model} {bad}");
            assert!(verdict(RESPONSES, &body(good)).ok(), "{model} {good}");
        }
    }

    #[test]
    fn reasoning_refused_on_gpt5_chat() {
        let v = verdict(
            RESPONSES,
            r#"{"model":"gpt-5-chat-latest","input":"hi","reasoning":{"effort":"low"}}"#,
        );
        assert_eq!(
            first(&v),
            (
                "model_parameter",
                Some("unsupported_parameter"),
                Some("reasoning.effort"),
                "Unsupported parameter: 'reasoning.effort' is not supported with this model."
            )
        );
        // Chat Completions: known, but the 400 is not: a warning.
        let v = verdict(
            CHAT,
            r#"{"model":"gpt-5-chat-latest","messages":[{"role":"user","content":"hi"}],"reasoning_effort":"low"}"#,
        );
        assert!(v.ok());
        assert!(v.warnings.iter().any(|w| w.rule == "model_parameter"));
    }

    #[test]
    fn stop_on_gpt5_families() {
        for model in [
            "gpt-5",
            "gpt-5-mini",
            "gpt-5-nano-2025-08-07",
            "gpt-5.1",
            "gpt-5.2",
        ] {
            let v = verdict(
                CHAT,
                &format!(
                    r#"{{"model":"{model}","messages":[{{"role":"user","content":"hi"}}],"stop":["END"]}}"#
                ),
            );
            assert_eq!(first(&v).0, "model_stop", "{model}");
        }
        // Not known for gpt-5.5: it passes.
        assert!(
            verdict(
                CHAT,
                r#"{"model":"gpt-5.5","messages":[{"role":"user","content":"hi"}],"stop":["END"]}"#
            )
            .ok()
        );
    }

    #[test]
    fn sampling_follows_the_effort() {
        // gpt-5.2: an absent effort is none, so temperature passes; with effort high it does not.
        assert!(
            verdict(
                RESPONSES,
                r#"{"model":"gpt-5.2","input":"hi","temperature":0.5}"#
            )
            .ok()
        );
        let v = verdict(
            RESPONSES,
            r#"{"model":"gpt-5.2","input":"hi","top_p":0.5,"reasoning":{"effort":"high"}}"#,
        );
        assert_eq!(first(&v).0, "model_sampling_params");
        // gpt-5.5 reasons by default: temperature alone is refused, effort none lets it pass.
        assert!(
            !verdict(
                RESPONSES,
                r#"{"model":"gpt-5.5","input":"hi","temperature":0.5}"#
            )
            .ok()
        );
        assert!(verdict(
            RESPONSES,
            r#"{"model":"gpt-5.5","input":"hi","temperature":0.5,"reasoning":{"effort":"none"}}"#
        )
        .ok());
        // The search-preview models refuse every sampling parameter, even at its default.
        let v = verdict(
            CHAT,
            r#"{"model":"gpt-4o-search-preview","messages":[{"role":"user","content":"hi"}],"top_p":1,"temperature":0.3,"presence_penalty":0}"#,
        );
        assert_eq!(
            first(&v).3,
            "Model incompatible request arguments supplied: presence_penalty, temperature, top_p"
        );
        // One refused name alone is in the singular (raycast/extensions#18038).
        let v = verdict(
            CHAT,
            r#"{"model":"gpt-4o-mini-search-preview","messages":[{"role":"user","content":"hi"}],"temperature":1}"#,
        );
        assert_eq!(
            first(&v).3,
            "Model incompatible request argument supplied: temperature"
        );
    }

    #[test]
    fn reasoning_options_per_model() {
        let v = verdict(
            RESPONSES,
            r#"{"model":"gpt-5.4","input":"hi","reasoning":{"mode":"pro"}}"#,
        );
        assert_eq!(
            first(&v),
            (
                "model_reasoning_options",
                Some("unsupported_value"),
                Some("reasoning.mode"),
                "`reasoning.mode` is not supported with this model."
            )
        );
        assert!(
            verdict(
                RESPONSES,
                r#"{"model":"gpt-5.4-pro","input":"hi","reasoning":{"mode":"pro"}}"#
            )
            .ok()
        );
        assert!(
            verdict(
                RESPONSES,
                r#"{"model":"gpt-5.6-sol","input":"hi","reasoning":{"mode":"pro"}}"#
            )
            .ok()
        );
        let v = verdict(
            RESPONSES,
            r#"{"model":"gpt-5.2","input":"hi","reasoning":{"context":"all_turns"}}"#,
        );
        assert_eq!(first(&v).2, Some("reasoning.context"));
        assert!(
            verdict(
                RESPONSES,
                r#"{"model":"gpt-5.4","input":"hi","reasoning":{"context":"all_turns"}}"#
            )
            .ok()
        );
        let v = verdict(
            RESPONSES,
            r#"{"model":"gpt-5.1-codex-mini","input":"hi","text":{"verbosity":"low"}}"#,
        );
        assert_eq!(
            first(&v),
            (
                "model_verbosity",
                Some("unsupported_value"),
                Some("text.verbosity"),
                "Unsupported value: 'low' is not supported with the 'gpt-5.1-codex-mini' model. Supported values are: 'medium'."
            )
        );
    }

    #[test]
    fn hosted_tools_per_model() {
        let v = verdict(
            RESPONSES,
            r#"{"model":"gpt-4o","input":"hi","tools":[{"type":"computer_use_preview","display_width":1024,"display_height":768,"environment":"browser"}]}"#,
        );
        assert_eq!(
            first(&v),
            (
                "model_hosted_tools",
                None,
                Some("tools"),
                "Tool 'computer_use_preview' is not supported with gpt-4o."
            )
        );
        assert!(verdict(
            RESPONSES,
            r#"{"model":"computer-use-preview-2025-03-11","input":"hi","truncation":"auto","tools":[{"type":"computer_use_preview","display_width":1024,"display_height":768,"environment":"browser"}]}"#
        )
        .ok());
        // An unknown model is not judged.
        assert!(verdict(
            RESPONSES,
            r#"{"model":"acme-1","input":"hi","tools":[{"type":"computer_use_preview","display_width":1024,"display_height":768,"environment":"browser"}]}"#
        )
        .ok());
        assert!(
            !verdict(
                RESPONSES,
                r#"{"model":"gpt-4.1-nano","input":"hi","tools":[{"type":"web_search_preview"}]}"#
            )
            .ok()
        );
        assert!(!verdict(RESPONSES, r#"{"model":"gpt-5.2-pro","input":"hi","tools":[{"type":"code_interpreter","container":{"type":"auto"}}]}"#).ok());
        // file_search on gpt-4: the docs do not list it, no 400 is known: a warning only.
        let v = verdict(
            RESPONSES,
            r#"{"model":"gpt-4","input":"hi","tools":[{"type":"file_search","vector_store_ids":["vs_1"]}]}"#,
        );
        assert!(v.ok() && v.warnings.iter().any(|w| w.rule == "model_hosted_tools"));
    }

    #[test]
    fn deep_research_needs_a_data_source() {
        let v = verdict(RESPONSES, r#"{"model":"o3-deep-research","input":"hi"}"#);
        assert_eq!(first(&v).0, "model_deep_research_tools");
        let v = verdict(
            RESPONSES,
            r#"{"model":"o4-mini-deep-research-2025-06-26","input":"hi","tools":[{"type":"code_interpreter","container":{"type":"auto"}}]}"#,
        );
        assert_eq!(first(&v).0, "model_deep_research_tools");
        for tool in [
            r#"{"type":"web_search_preview"}"#,
            r#"{"type":"web_search"}"#,
            r#"{"type":"file_search","vector_store_ids":["vs_1"]}"#,
        ] {
            let body = format!(r#"{{"model":"o3-deep-research","input":"hi","tools":[{tool}]}}"#);
            assert!(verdict(RESPONSES, &body).ok(), "{tool}");
        }
    }

    #[test]
    fn encrypted_reasoning_only_for_reasoning_models() {
        let body = |model: &str| {
            format!(
                r#"{{"model":"{model}","input":"hi","store":false,"include":["reasoning.encrypted_content"]}}"#
            )
        };
        let v = verdict(RESPONSES, &body("gpt-4o"));
        assert_eq!(
            first(&v),
            (
                "model_parameter",
                None,
                Some("include"),
                "Encrypted content is not supported with this model."
            )
        );
        assert!(verdict(RESPONSES, &body("gpt-4o-mini")).errors.len() == 1);
        // The near miss: the same body for a reasoning model, and gpt-4o without the include.
        assert!(verdict(RESPONSES, &body("o4-mini")).ok());
        assert!(verdict(RESPONSES, &body("gpt-5")).ok());
        assert!(
            verdict(
                RESPONSES,
                r#"{"model":"gpt-4o","input":"hi","include":["message.output_text.logprobs"]}"#
            )
            .ok()
        );
    }

    /// openai/openai-agents-python#569: reasoning items replayed to a model that does not
    /// reason; the near misses are the same input for a reasoning model and for
    /// computer-use-preview, and gpt-4.1 without the reasoning item.
    #[test]
    fn reasoning_items_only_for_reasoning_models() {
        let body = |model: &str, with: bool| {
            let rs = if with {
                r#"{"id":"rs_1","type":"reasoning","summary":[]},"#
            } else {
                ""
            };
            format!(
                r#"{{"model":"{model}","input":[{{"role":"user","content":"hi"}},{rs}{{"id":"msg_1","type":"message","role":"assistant","status":"completed","content":[{{"type":"output_text","text":"ok","annotations":[]}}]}},{{"role":"user","content":"more"}}]}}"#
            )
        };
        let v = verdict(RESPONSES, &body("gpt-4.1", true));
        assert_eq!(
            first(&v),
            (
                "model_parameter",
                None,
                Some("input"),
                "Reasoning input items can only be provided to a reasoning or computer use model. Remove reasoning items from your input and try again."
            )
        );
        assert!(!verdict(RESPONSES, &body("gpt-4o-mini", true)).ok());
        assert!(verdict(RESPONSES, &body("gpt-4.1", false)).ok());
        assert!(verdict(RESPONSES, &body("o4-mini", true)).ok());
        assert!(verdict(RESPONSES, &body("gpt-5", true)).ok());
        assert!(verdict(RESPONSES, &body("computer-use-preview", true)).ok());
    }

    /// o1-mini names a refused system message before refused sampling values
    /// (devoxx/DevoxxGenieIDEAPlugin#291); without the system message the sampling values are
    /// named, and at their defaults the body passes.
    #[test]
    fn system_role_before_sampling() {
        let v = verdict(
            CHAT,
            r#"{"model":"o1-mini","messages":[{"role":"system","content":"s"},{"role":"user","content":"hi"}],"temperature":0.7,"top_p":0.9}"#,
        );
        assert_eq!(first(&v).2, Some("messages[0].role"));
        let v = verdict(
            CHAT,
            r#"{"model":"o1-mini","messages":[{"role":"user","content":"hi"}],"temperature":0.7,"top_p":0.9}"#,
        );
        assert_eq!(first(&v).2, Some("temperature"));
        assert!(verdict(
            CHAT,
            r#"{"model":"o1-mini","messages":[{"role":"user","content":"hi"}],"temperature":1,"top_p":1}"#
        )
        .ok());
    }

    #[test]
    fn audio_rules() {
        let v = verdict(
            CHAT,
            r#"{"model":"gpt-4o-audio-preview","messages":[{"role":"user","content":"hi"}]}"#,
        );
        assert_eq!(first(&v).0, "model_audio");
        assert_eq!(first(&v).1, Some("invalid_value"));
        assert_eq!(first(&v).2, Some("model"));
        assert!(verdict(
            CHAT,
            r#"{"model":"gpt-4o-audio-preview","modalities":["text","audio"],"audio":{"voice":"alloy","format":"wav"},"messages":[{"role":"user","content":"hi"}]}"#
        )
        .ok());
        let audio = r#"[{"type":"text","text":"What is in this recording?"},{"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}}]"#;
        assert!(verdict(
            CHAT,
            &format!(r#"{{"model":"gpt-4o-audio-preview","messages":[{{"role":"user","content":{audio}}}]}}"#)
        )
        .ok());
        // Audio to a model without audio input: refused at the message that holds it, in
        // OpenAI's words. The near misses: the same part to gpt-audio and to a model the data
        // does not know, and text only to gpt-4o.
        for model in ["gpt-4o", "gpt-5.4-mini", "o3"] {
            let v = verdict(
                CHAT,
                &format!(
                    r#"{{"model":"{model}","messages":[{{"role":"system","content":"Be brief."}},{{"role":"user","content":{audio}}}]}}"#
                ),
            );
            assert_eq!(first(&v).0, "model_audio", "{model}");
            assert_eq!(first(&v).1, Some("invalid_value"));
            assert_eq!(first(&v).2, Some("messages[1]"));
            assert_eq!(
                v.errors[0].error.message,
                "Invalid 'messages[1]'. Content blocks are expected to be either text or image_url type."
            );
        }
        for model in [
            "gpt-audio",
            "gpt-4o-realtime-preview-2024-12-17",
            "gpt-9-future",
        ] {
            let v = verdict(
                CHAT,
                &format!(
                    r#"{{"model":"{model}","messages":[{{"role":"user","content":{audio}}}]}}"#
                ),
            );
            assert!(
                !v.errors.iter().any(|e| e.rule == "model_audio"),
                "{model}: {v:?}"
            );
        }
        assert!(
            verdict(
                CHAT,
                r#"{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}"#
            )
            .ok()
        );
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
