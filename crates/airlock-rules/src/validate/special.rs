//! Rules that are neither a single parameter's shape nor a model's capability.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value};

use super::Ctx;
use super::text::quote_list;

/// OpenAI's limit on the number of inputs in one embeddings request.
const EMBEDDING_INPUTS_MAX: usize = 2048;

/// OpenAI's limit on the keys of `metadata` (the `max_properties` override on it).
const METADATA_MAX_KEYS: usize = 16;

/// OpenAI's limits on a `metadata` key and value, in characters.
const METADATA_KEY_MAX: usize = 64;
const METADATA_VALUE_MAX: usize = 512;

/// Runs the rules on a parsed JSON object body.
pub(super) fn check(ctx: &mut Ctx<'_>, endpoint: &str, obj: &Map<String, Value>) {
    match endpoint {
        "/v1/chat/completions" => {
            chat_response_format_type(ctx, obj);
            chat_json_word(ctx, obj);
            stream_options_without_stream(ctx, obj);
            top_logprobs_without_logprobs(ctx, obj);
            parallel_tool_calls_null(ctx, obj);
            metadata_bounds(ctx, obj);
            metadata_without_store(ctx, obj);
        }
        "/v1/responses" => {
            responses_json_word(ctx, obj);
            minimal_effort_tools(ctx, obj);
            hosted_tool_choice(ctx, obj);
        }
        "/v1/embeddings" => embeddings_inputs(ctx, obj),
        "/v1/audio/speech" => {
            speech_null_params(ctx, obj);
            speech_voice(ctx, obj);
        }
        _ => {}
    }
}

/// Hosted tools the Responses API refuses beside `reasoning.effort` 'minimal', by tool type, with
/// the name OpenAI gives them in its answer: "The following tools cannot be used with
/// reasoning.effort 'minimal': web_search." (param `tools`, code null; openai/codex#3559, gpt-5,
/// 2025-09). Only the types a 400 shows are listed; the `web_search_preview` types and the image
/// generation tool are left to the API (no 400 with a request shows them).
const MINIMAL_EFFORT_REFUSED_TOOLS: &[(&str, &str)] = &[("web_search", "web_search")];

/// `reasoning.effort` 'minimal' with a tool it cannot drive (see
/// [`MINIMAL_EFFORT_REFUSED_TOOLS`]). A model that refuses 'minimal' itself is answered before
/// this, by the model rules; several refused tools are named once each, in the order sent.
fn minimal_effort_tools(ctx: &mut Ctx<'_>, obj: &Map<String, Value>) {
    let minimal = obj
        .get("reasoning")
        .and_then(|r| r.get("effort"))
        .and_then(Value::as_str)
        == Some("minimal");
    let Some(tools) = obj.get("tools").and_then(Value::as_array) else {
        return;
    };
    if !minimal {
        return;
    }
    let mut names: Vec<&str> = Vec::new();
    for t in tools {
        let Some(ty) = t.get("type").and_then(Value::as_str) else {
            continue;
        };
        if let Some((_, name)) = MINIMAL_EFFORT_REFUSED_TOOLS.iter().find(|(k, _)| *k == ty) {
            if !names.contains(name) {
                names.push(name);
            }
        }
    }
    if names.is_empty() {
        return;
    }
    ctx.reject(
        "reasoning_minimal_tools",
        "",
        Some("tools".into()),
        format!(
            "The following tools cannot be used with reasoning.effort 'minimal': {}.",
            names.join(", ")
        ),
    );
}

/// Models that answered a `tool_choice` other than 'auto' beside certain hosted tools with "Tool
/// choices other than 'auto' are not supported with model '{model}' and the following tool types:
/// {types}." (param `tool_choice`, code null, 2025-08): gpt-5 (pydantic/pydantic-ai#2488,
/// vercel/ai#8201) and gpt-5-mini (openai/openai-python#2537, whose 400 names the snapshot
/// gpt-5-mini-2025-08-07). Later GPT-5.x models are not known to refuse it.
const HOSTED_TOOL_CHOICE_MODELS: &[&str] = &[
    "gpt-5",
    "gpt-5-2025-08-07",
    "gpt-5-mini",
    "gpt-5-mini-2025-08-07",
];

/// The hosted tool types those 400s name: `web_search_preview` (tool_choice 'required' and a choice
/// forcing the tool), `code_interpreter` and `file_search` (an `allowed_tools` choice, even in mode
/// 'auto'). The image generation tool is not among them: recorded 200s take gpt-5 with
/// `tool_choice: "required"` beside it; nor is `web_search`, of whose fate no answer is known.
const HOSTED_TOOL_CHOICE_TYPES: &[&str] =
    &["web_search_preview", "code_interpreter", "file_search"];

/// Responses: a `tool_choice` of 'required', `allowed_tools` or a hosted tool type, sent to a
/// model of [`HOSTED_TOOL_CHOICE_MODELS`] with a tool of [`HOSTED_TOOL_CHOICE_TYPES`]; the types
/// are named once each, in the order sent. 'auto', 'none' and a forced function are left alone
/// (no 400 shows them).
fn hosted_tool_choice(ctx: &mut Ctx<'_>, obj: &Map<String, Value>) {
    let Some(model) = obj.get("model").and_then(Value::as_str) else {
        return;
    };
    if !HOSTED_TOOL_CHOICE_MODELS.contains(&model) {
        return;
    }
    let choice = match obj.get("tool_choice") {
        Some(Value::String(s)) => s == "required",
        Some(Value::Object(o)) => o
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t == "allowed_tools" || HOSTED_TOOL_CHOICE_TYPES.contains(&t)),
        _ => false,
    };
    if !choice {
        return;
    }
    let Some(tools) = obj.get("tools").and_then(Value::as_array) else {
        return;
    };
    let mut types: Vec<&str> = Vec::new();
    for t in tools {
        if let Some(ty) = t.get("type").and_then(Value::as_str) {
            if HOSTED_TOOL_CHOICE_TYPES.contains(&ty) && !types.contains(&ty) {
                types.push(ty);
            }
        }
    }
    if types.is_empty() {
        return;
    }
    ctx.reject(
        "hosted_tool_choice",
        "",
        Some("tool_choice".into()),
        format!(
            "Tool choices other than 'auto' are not supported with model '{model}' and the following tool types: {}.",
            quote_list_plain(&types)
        ),
    );
}

/// `'a', 'b'`: values quoted and joined by commas, as OpenAI lists the tool types above.
fn quote_list_plain(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|t| format!("'{t}'")).collect();
    quoted.join(", ")
}

/// The built-in speech voices, in the order OpenAI lists them when it refuses another name ("Invalid
/// value: 'invalid'. Supported values are: 'alloy', 'echo', 'fable', 'onyx', 'nova', 'shimmer',
/// 'coral', 'verse', 'ballad', 'ash', and 'sage'.", param `voice`, code `invalid_value`;
/// receptron/mulmocast-cli#476, 2025-06), with the two voices added since (marin and cedar, in
/// recorded 200s and OpenAI's spec).
const SPEECH_VOICES: &[&str] = &[
    "alloy", "echo", "fable", "onyx", "nova", "shimmer", "coral", "verse", "ballad", "ash", "sage",
    "marin", "cedar",
];

/// A speech `voice` string outside the built-in voices. The spec types it as any string (beside
/// the list), OpenAI refuses other names, but the list has grown twice: an unknown name may be a
/// voice newer than Airlock's data, so it is only a warning (rule `open_enum_value`, as for other
/// growing lists). A custom voice goes in an object (`{"id": "voice_…"}`); a `voice_` string is
/// left alone.
fn speech_voice(ctx: &mut Ctx<'_>, obj: &Map<String, Value>) {
    let Some(v) = obj.get("voice").and_then(Value::as_str) else {
        return;
    };
    if SPEECH_VOICES.contains(&v) || v.starts_with("voice_") {
        return;
    }
    let list = quote_list(SPEECH_VOICES);
    ctx.warn(
        "open_enum_value",
        "invalid_value",
        Some("voice".into()),
        format!("Invalid value: '{v}'. Supported values are: {list}."),
    );
}

/// Speech parameters refused as null, with the type OpenAI names. The speech endpoint types
/// its parameters strictly: an `instructions` left unset by a client that sends its unset
/// options as null (openai-python sends an explicit `None` as null) was answered "Invalid type
/// for instructions" (p0n1/epub_to_audiobook#134, 2025-04; the wording is the one OpenAI gives
/// every null where a string is expected). Only the parameters a 400 shows are listed; other
/// nulls stay "not set". No recorded 200 sends a null here.
const SPEECH_NULL_REFUSED: &[(&str, &str)] = &[("instructions", "a string")];

/// A speech parameter sent as null (see [`SPEECH_NULL_REFUSED`]).
fn speech_null_params(ctx: &mut Ctx<'_>, obj: &Map<String, Value>) {
    for (name, ty) in SPEECH_NULL_REFUSED {
        if obj.get(*name) == Some(&Value::Null) {
            ctx.reject(
                "speech_null_params",
                "invalid_type",
                Some((*name).into()),
                format!("Invalid type for '{name}': expected {ty}, but got null instead."),
            );
            return;
        }
    }
}

/// True when any string inside `v` contains "json" in any case.
fn mentions_json(v: &Value) -> bool {
    match v {
        Value::String(s) => s
            .as_bytes()
            .windows(4)
            .any(|w| w.eq_ignore_ascii_case(b"json")),
        Value::Array(a) => a.iter().any(mentions_json),
        Value::Object(o) => o.values().any(mentions_json),
        _ => false,
    }
}

/// `response_format.type` outside the three Chat Completions knows (epuerta9/deep-research-py#19:
/// `{"type": "object"}` got "Invalid value: 'object'. Supported values are: 'json_object',
/// 'json_schema', and 'text'.", param `response_format.type`, code `invalid_value`).
fn chat_response_format_type(ctx: &mut Ctx<'_>, obj: &Map<String, Value>) {
    let Some(t) = obj
        .get("response_format")
        .and_then(|r| r.get("type"))
        .and_then(Value::as_str)
    else {
        return;
    };
    if matches!(t, "json_object" | "json_schema" | "text") {
        return;
    }
    let mut quoted = String::new();
    super::common::py_str(&mut quoted, t);
    ctx.reject(
        "invalid_value",
        "invalid_value",
        Some("response_format.type".into()),
        alloc::format!(
            "Invalid value: {quoted}. Supported values are: 'json_object', 'json_schema', and 'text'."
        ),
    );
}

fn chat_json_word(ctx: &mut Ctx<'_>, obj: &Map<String, Value>) {
    let format = obj
        .get("response_format")
        .and_then(|r| r.get("type"))
        .and_then(Value::as_str);
    if format != Some("json_object") {
        return;
    }
    let Some(messages) = obj.get("messages").filter(|m| m.is_array()) else {
        return;
    };
    // Lenient reading: any string in the messages, or in the tool definitions, counts.
    let in_tools = ["tools", "functions"]
        .iter()
        .any(|k| obj.get(*k).is_some_and(mentions_json));
    if !mentions_json(messages) && !in_tools {
        ctx.reject(
            "json_object_needs_json",
            "",
            Some("messages".into()),
            "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.".into(),
        );
    }
}

fn responses_json_word(ctx: &mut Ctx<'_>, obj: &Map<String, Value>) {
    let format = obj
        .get("text")
        .and_then(|t| t.get("format"))
        .and_then(|f| f.get("type"))
        .and_then(Value::as_str);
    if format != Some("json_object") {
        return;
    }
    // Earlier turns stored server-side (or a prompt template) may hold the word: not checkable.
    let stored = ["previous_response_id", "conversation", "prompt"]
        .iter()
        .any(|k| obj.get(*k).is_some_and(|v| !v.is_null()));
    if stored {
        return;
    }
    // Only the input messages count: the word in `instructions` alone is refused with this 400
    // (a live 400 quoted in public code: "even when the system/`instructions` message already
    // mentions JSON"; BigDawnGhost/wenyi#66: the system prompt is ignored). Tool definitions
    // stay counted: the lenient reading, no 400 seen either way.
    let in_input = obj.get("input").is_some_and(mentions_json);
    let in_tools = obj.get("tools").is_some_and(mentions_json);
    if !in_input && !in_tools {
        ctx.reject(
            "json_object_needs_json",
            "",
            Some("input".into()),
            "Response input messages must contain the word 'json' in some form to use 'text.format' of type 'json_object'.".into(),
        );
    }
}

/// Chat Completions refuses `stream_options` unless `stream` is true ("The 'stream_options'
/// parameter is only allowed when 'stream' is enabled.", param `stream_options`, code null; seen
/// in BerriAI/litellm#5803).
fn stream_options_without_stream(ctx: &mut Ctx<'_>, obj: &Map<String, Value>) {
    let options = obj.get("stream_options").is_some_and(|v| !v.is_null());
    if options && obj.get("stream") != Some(&Value::Bool(true)) {
        ctx.reject(
            "stream_options",
            "",
            Some("stream_options".into()),
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.".into(),
        );
    }
}

/// Chat Completions refuses `top_logprobs` unless `logprobs` is true ("The 'top_logprobs'
/// parameter is only allowed when 'logprobs' is enabled.", param `top_logprobs`, code null;
/// IBM/unitxt#1193, 20 top logprobs asked for without `logprobs`). Only a count of 1 or more is
/// refused: no 400 shows `top_logprobs: 0` alone, and a null one is "not set". Responses has no
/// `logprobs` switch, so the rule is Chat's only.
fn top_logprobs_without_logprobs(ctx: &mut Ctx<'_>, obj: &Map<String, Value>) {
    let asked = obj
        .get("top_logprobs")
        .and_then(Value::as_f64)
        .is_some_and(|n| n >= 1.0);
    if asked && obj.get("logprobs") != Some(&Value::Bool(true)) {
        ctx.reject(
            "top_logprobs_without_logprobs",
            "",
            Some("top_logprobs".into()),
            "The 'top_logprobs' parameter is only allowed when 'logprobs' is enabled.".into(),
        );
    }
}

/// Chat Completions refuses `parallel_tool_calls: null`, the one top-level null seen refused on
/// every model ("Invalid type for 'parallel_tool_calls': expected a boolean, but got null
/// instead.", code `invalid_type`; IBM/unitxt#1193 in 2024-09, and run-llama/llama_index#20814
/// in 2026-03, whose client began sending the null and got a 400 for it). Other nulls stay "not
/// set" (see the params module).
fn parallel_tool_calls_null(ctx: &mut Ctx<'_>, obj: &Map<String, Value>) {
    if obj.get("parallel_tool_calls") == Some(&Value::Null) {
        ctx.reject(
            "parallel_tool_calls_null",
            "invalid_type",
            Some("parallel_tool_calls".into()),
            "Invalid type for 'parallel_tool_calls': expected a boolean, but got null instead."
                .into(),
        );
    }
}

/// Chat Completions has refused `metadata` unless `store` is true ("The 'metadata' parameter is only
/// allowed when 'store' is enabled.", param `metadata`; tmc/langchaingo#1484 on gpt-5-nano, 2026-03,
/// the same message in spiceai/spiceai#5231 and QwenLM/qwen-code#243), but a later recorded 200
/// accepts it (kangminlee-maker/local-OAuth-CLI-API-adapter's capture of gpt-5.6-terra, 2026-08), so
/// it is only a warning (session 18; the 200 is a held-out accepted body, seen because it was a false
/// rejection, and a false rejection outranks the split). Only a non-empty object is warned of:
/// no 400 shows an empty or null one. Over 16 keys the count is named instead (the body schema's
/// `max_properties`, checked later): OpenAI counted 29 and 28 keys before it looked at `store`
/// (langfuse/langfuse#5339, litellm_proxy_gpt4o_mini_metadata_28_keys.json).
///
/// A metadata object with a fault of its own (a value that is not a string, a key or value over
/// its length) is named at that fault instead: OpenAI answered `metadata.k` for an integer value
/// and a 70-character key sent without `store` (kangminlee-maker/local-OAuth-CLI-API-adapter's
/// direct-API probes of gpt-5.6-terra); the schema and [`metadata_bounds`] report those.
fn metadata_without_store(ctx: &mut Ctx<'_>, obj: &Map<String, Value>) {
    let metadata = obj
        .get("metadata")
        .and_then(Value::as_object)
        .is_some_and(|m| {
            !m.is_empty()
                && m.len() <= METADATA_MAX_KEYS
                && m.iter().all(|(k, v)| {
                    k.chars().count() <= METADATA_KEY_MAX
                        && v.as_str()
                            .is_some_and(|s| s.chars().count() <= METADATA_VALUE_MAX)
                })
        });
    if metadata && obj.get("store") != Some(&Value::Bool(true)) {
        // A warning, not a refusal: a later recorded 200 (the same adapter's capture of
        // gpt-5.6-terra, 2026-08, metadata `{"a": "b"}` without `store`) contradicts the 400s.
        ctx.warn(
            "metadata_without_store",
            "",
            Some("metadata".into()),
            "OpenAI has refused 'metadata' without 'store: true' on Chat Completions (\"The 'metadata' parameter is only allowed when 'store' is enabled.\"), and has also accepted it since; set 'store: true' or drop 'metadata' if this request is refused.".into(),
        );
    }
}

/// Chat Completions bounds `metadata` keys to 64 characters and string values to 512 ("Invalid
/// property name in 'metadata': 'kkk...kkk' is too long. Expected a string with maximum length
/// 64, but got a string with length 70 instead.", param `metadata.<key>`, code
/// `property_name_above_max_length`; "Invalid 'metadata.k': string too long. …", code
/// `string_above_max_length`; kangminlee-maker/local-OAuth-CLI-API-adapter's direct-API probes of
/// gpt-5.6-terra, 2026-08). The first fault found is named.
fn metadata_bounds(ctx: &mut Ctx<'_>, obj: &Map<String, Value>) {
    let Some(m) = obj.get("metadata").and_then(Value::as_object) else {
        return;
    };
    for (k, v) in m {
        let key_len = k.chars().count();
        if key_len > METADATA_KEY_MAX {
            let head: String = k.chars().take(3).collect();
            let tail: String = k.chars().skip(key_len.saturating_sub(3)).collect();
            ctx.reject(
                "metadata_bounds",
                "property_name_above_max_length",
                Some(format!("metadata.{k}")),
                format!("Invalid property name in 'metadata': '{head}...{tail}' is too long. Expected a string with maximum length {METADATA_KEY_MAX}, but got a string with length {key_len} instead."),
            );
            return;
        }
        if let Some(s) = v.as_str() {
            let len = s.chars().count();
            if len > METADATA_VALUE_MAX {
                ctx.reject(
                    "metadata_bounds",
                    "string_above_max_length",
                    Some(format!("metadata.{k}")),
                    format!("Invalid 'metadata.{k}': string too long. Expected a string with maximum length {METADATA_VALUE_MAX}, but got a string with length {len} instead."),
                );
                return;
            }
        }
    }
}

fn embeddings_inputs(ctx: &mut Ctx<'_>, obj: &Map<String, Value>) {
    // An empty string, alone or in a list, is refused in the API's oldest wording
    // (lightdash/lightdash#18938, embedbase 2023): no code, no param.
    let empty = match obj.get("input") {
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(items)) => items.iter().any(|x| x.as_str() == Some("")),
        _ => false,
    };
    if empty {
        ctx.reject(
            "embeddings_empty_input",
            "",
            None,
            "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.".into(),
        );
    }
    let Some(items) = obj.get("input").and_then(Value::as_array) else {
        return;
    };
    // An array of integers is one tokenized input, not many.
    if items.iter().all(Value::is_number) {
        return;
    }
    if items.len() > EMBEDDING_INPUTS_MAX {
        ctx.reject(
            "embeddings_input_length",
            "array_above_max_length",
            Some("input".into()),
            alloc::format!(
                "Invalid 'input': array too long. Expected an array with maximum length {EMBEDDING_INPUTS_MAX}, but got an array with length {} instead.",
                items.len()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    fn check(endpoint: &str, body: &str) -> crate::validate::Verdict {
        crate::validate::check(
            endpoint,
            body.as_bytes(),
            &crate::validate::Config::default(),
        )
    }

    /// 'minimal' with web_search is refused at `tools`, each tool named once; another effort, or
    /// 'minimal' with only function tools, passes (recorded 200s send 'minimal' without hosted
    /// tools).
    #[test]
    fn minimal_effort_refuses_web_search() {
        let v = check(
            "/v1/responses",
            r#"{"model":"gpt-5","input":"hi","reasoning":{"effort":"minimal"},"tools":[{"type":"web_search"},{"type":"function","name":"f","parameters":{"type":"object","properties":{}}},{"type":"web_search"}]}"#,
        );
        let f = v.errors.first().expect("minimal with web_search refused");
        assert_eq!(f.rule, "reasoning_minimal_tools");
        assert_eq!(f.error.param.as_deref(), Some("tools"));
        assert_eq!(
            f.error.message,
            "The following tools cannot be used with reasoning.effort 'minimal': web_search."
        );
        for body in [
            r#"{"model":"gpt-5","input":"hi","reasoning":{"effort":"low"},"tools":[{"type":"web_search"}]}"#,
            r#"{"model":"gpt-5","input":"hi","tools":[{"type":"web_search"}]}"#,
            r#"{"model":"gpt-5","input":"hi","reasoning":{"effort":"minimal"},"tools":[{"type":"function","name":"f","parameters":{"type":"object","properties":{}}}]}"#,
        ] {
            let v = check("/v1/responses", body);
            assert!(
                !v.errors.iter().any(|f| f.rule == "reasoning_minimal_tools"),
                "{body}"
            );
        }
    }

    /// gpt-5 with `tool_choice` 'required' beside `web_search_preview` is refused at `tool_choice`;
    /// 'auto', the image generation tool (recorded 200s), a later model and Chat are left alone.
    #[test]
    fn hosted_tool_choice_on_gpt5() {
        let v = check(
            "/v1/responses",
            r#"{"model":"gpt-5","input":"hi","tools":[{"type":"web_search_preview"},{"type":"code_interpreter","container":{"type":"auto"}},{"type":"web_search_preview"}],"tool_choice":"required"}"#,
        );
        let f = &v.errors[0];
        assert_eq!(f.rule, "hosted_tool_choice");
        assert_eq!(f.error.param.as_deref(), Some("tool_choice"));
        assert_eq!(
            f.error.message,
            "Tool choices other than 'auto' are not supported with model 'gpt-5' and the following tool types: 'web_search_preview', 'code_interpreter'."
        );
        for body in [
            r#"{"model":"gpt-5","input":"hi","tools":[{"type":"web_search_preview"}],"tool_choice":"auto"}"#,
            r#"{"model":"gpt-5","input":"hi","tools":[{"type":"web_search_preview"}]}"#,
            r#"{"model":"gpt-5","input":"hi","tools":[{"type":"image_generation"}],"tool_choice":"required"}"#,
            r#"{"model":"gpt-5.1","input":"hi","tools":[{"type":"web_search_preview"}],"tool_choice":"required"}"#,
            r#"{"model":"gpt-4.1","input":"hi","tools":[{"type":"web_search_preview"}],"tool_choice":{"type":"web_search_preview"}}"#,
        ] {
            let v = check("/v1/responses", body);
            assert!(
                !v.errors.iter().any(|f| f.rule == "hosted_tool_choice"),
                "{body}"
            );
        }
    }

    /// An unknown speech voice is a warning in OpenAI's words; built-in voices, `voice_` ids and
    /// the custom voice object pass without one.
    #[test]
    fn unknown_speech_voice_warns() {
        let v = check(
            "/v1/audio/speech",
            r#"{"model":"gpt-4o-mini-tts","input":"hi","voice":"invalid"}"#,
        );
        assert!(v.ok());
        let w = v
            .warnings
            .iter()
            .find(|w| w.error.param.as_deref() == Some("voice"))
            .expect("a warning at voice");
        assert!(
            w.error
                .message
                .starts_with("Invalid value: 'invalid'. Supported values are: 'alloy', 'echo',")
        );
        assert!(w.error.message.ends_with(", 'marin', and 'cedar'."));
        for voice in [
            r#""marin""#,
            r#""alloy""#,
            r#""voice_1234""#,
            r#"{"id":"voice_1234"}"#,
        ] {
            let v = check(
                "/v1/audio/speech",
                &alloc::format!(r#"{{"model":"gpt-4o-mini-tts","input":"hi","voice":{voice}}}"#),
            );
            assert!(
                v.ok()
                    && !v
                        .warnings
                        .iter()
                        .any(|w| w.error.param.as_deref() == Some("voice")),
                "{voice}"
            );
        }
    }
}
