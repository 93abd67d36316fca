//! Model tables.
//!
//! Stage 1 reads litellm's catalog (`../shared/data/model_prices_and_context_window.json`, the
//! entries whose `litellm_provider` is OpenAI's) and writes the numbers to `rules/models.toml`:
//! input and output token limits and the kind of model. Stage 2 joins that with the
//! hand-maintained `rules/model_capabilities.toml` (families, capabilities, tokenizer encodings)
//! into `crates/airlock-rules/src/generated/models.rs`.

use core::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{HEADER, Output};

const CATALOG: &str = "model_prices_and_context_window.json";
const CATALOG_VERSION: &str = "litellm 1.110.2";

/// Catalog modes kept, and the name they get in `rules/models.toml`.
const MODES: &[&str] = &[
    "chat",
    "responses",
    "completion",
    "embedding",
    "image_generation",
    "audio_transcription",
    "audio_speech",
    "moderation",
];

/// `rules/models.toml`.
#[derive(Debug, Serialize, Deserialize)]
struct ModelsFile {
    #[serde(rename = "model")]
    models: Vec<ModelRow>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ModelRow {
    name: String,
    mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_input_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u64>,
    source: String,
}

/// `rules/model_capabilities.toml` (hand-maintained).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CapabilitiesFile {
    encoding: Vec<EncodingRow>,
    family: Vec<FamilyRow>,
    #[serde(default)]
    hosted_tool: Vec<HostedToolRow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostedToolRow {
    #[serde(rename = "type")]
    tool_type: String,
    models: Vec<String>,
    #[allow(dead_code)] // documentation in the data file
    source: String,
}

/// A parameter a family refuses (`refused = [{ endpoint, param, report }]`; `endpoint` is
/// `chat`, `responses` or `images`, the last answered "Unknown parameter: 'P'.", or `image_tool`,
/// a field of the Responses `image_generation` tool whose `model` is this image model).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefusedRow {
    endpoint: String,
    param: String,
    #[serde(default)]
    report: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WordedTool {
    tool: String,
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EncodingRow {
    prefix: String,
    encoding: String,
    #[allow(dead_code)] // documentation in the data file
    source: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FamilyRow {
    name: String,
    reasoning: Option<bool>,
    #[serde(default)]
    chat_max_tokens_rejected: bool,
    #[serde(default)]
    sampling_defaults_only: bool,
    #[serde(default)]
    logprobs_rejected: bool,
    #[serde(default)]
    stop_rejected: bool,
    #[serde(default)]
    system_role_rejected: bool,
    #[serde(default)]
    function_role_rejected: bool,
    #[serde(default)]
    reasoning_efforts: Vec<String>,
    vision: Option<bool>,
    structured_outputs: Option<bool>,
    json_object: Option<bool>,
    #[serde(default)]
    image_sizes: Vec<String>,
    #[serde(default)]
    image_qualities: Vec<String>,
    image_max_n: Option<u32>,
    /// The longest `prompt` images/generations takes for the model, in characters.
    image_prompt_max: Option<u32>,
    dimensions_max: Option<u32>,
    #[serde(default)]
    dimensions_rejected: bool,
    chat_max_completion_tokens: Option<u32>,
    chat_refused: Option<String>,
    #[serde(default)]
    responses_refused: bool,
    /// The Responses API does not serve the model and says so in words of its own (`{model}`
    /// stands for the model id as sent).
    responses_refused_message: Option<String>,
    #[serde(default)]
    refused: Vec<RefusedRow>,
    #[serde(default)]
    reasoning_contexts: Vec<String>,
    #[serde(default)]
    reasoning_modes: Vec<String>,
    #[serde(default)]
    verbosities: Vec<String>,
    #[serde(default)]
    reasoning_summaries: Vec<String>,
    #[serde(default)]
    tools_refused: Vec<String>,
    /// Hosted tool types refused in a wording of their own (`{ tool, message }`).
    #[serde(default)]
    tools_refused_worded: Vec<WordedTool>,
    #[serde(default)]
    tools_unlisted: Vec<String>,
    #[serde(default)]
    deep_research: bool,
    #[serde(default)]
    chat_sampling_refused: bool,
    #[serde(default)]
    sampling_unless_effort_none: bool,
    #[serde(default)]
    default_effort_none: bool,
    audio_input: Option<bool>,
    #[serde(default)]
    audio_required: bool,
    #[serde(default)]
    chat_effort_null_rejected: bool,
    #[serde(default)]
    completions_refused: bool,
    #[serde(default)]
    names_dotless: bool,
    /// `explicit` or `also_default` (see rules/model_capabilities.toml).
    chat_tools_effort_refused: Option<String>,
    /// Chat Completions: the largest `n`.
    chat_max_n: Option<u32>,
    /// Chat Completions: the accepted `reasoning_effort` values, where they differ from Responses.
    #[serde(default)]
    chat_reasoning_efforts: Vec<String>,
    source: String,
}

/// Stage 1: litellm's catalog → `rules/models.toml`.
pub fn stage1(data: &Path) -> Result<Vec<Output>, String> {
    let path = data.join(CATALOG);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let catalog: serde_json::Map<String, Value> =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut models = Vec::new();
    for (name, entry) in &catalog {
        let provider = entry.get("litellm_provider").and_then(Value::as_str);
        if !matches!(provider, Some("openai" | "text-completion-openai")) {
            continue;
        }
        // Pricing variants (`high/1024-x-1024/gpt-image-1`) and fine-tune templates are not model ids.
        if name.contains('/') || name.contains(':') {
            continue;
        }
        let Some(mode) = entry.get("mode").and_then(Value::as_str) else {
            continue;
        };
        if !MODES.contains(&mode) {
            continue;
        }
        let positive = |k: &str| entry.get(k).and_then(Value::as_u64).filter(|n| *n > 0);
        models.push(ModelRow {
            name: name.clone(),
            mode: mode.to_string(),
            max_input_tokens: positive("max_input_tokens"),
            max_output_tokens: positive("max_output_tokens"),
            source: format!("{CATALOG} ({CATALOG_VERSION})#{name}"),
        });
    }
    models.sort_by(|a, b| a.name.cmp(&b.name));
    let text = format!(
        "# Derived from litellm's model catalog by `cargo xtask codegen`; do not edit.\n\
         # Token limits of OpenAI's models (hand-maintained capabilities: model_capabilities.toml).\n{}",
        toml::to_string(&ModelsFile { models }).map_err(|e| e.to_string())?
    );
    Ok(vec![(PathBuf::from("rules/models.toml"), text)])
}

/// Stage 2: `rules/models.toml` + `rules/model_capabilities.toml` → `generated/models.rs`.
pub fn stage2(so_far: &[Output]) -> Result<Vec<Output>, String> {
    let models: ModelsFile = toml::from_str(&super::read_rule(so_far, "rules/models.toml")?)
        .map_err(|e| format!("rules/models.toml: {e}"))?;
    let caps: CapabilitiesFile =
        toml::from_str(&super::read_rule(so_far, "rules/model_capabilities.toml")?)
            .map_err(|e| format!("rules/model_capabilities.toml: {e}"))?;
    let mut out = String::from(HEADER);
    out.push_str(
        "//! Model data, from `rules/models.toml` and `rules/model_capabilities.toml`.\n\n\
         use crate::validate::tables::{ChatRefusal, Encoding, Family, HostedTool, ModelInfo, Refused};\n\n\
         /// Token limits by exact model id, sorted by name.\n\
         pub(crate) static MODELS: &[ModelInfo] = &[\n",
    );
    for m in &models.models {
        let _ = writeln!(
            out,
            "    ModelInfo {{ name: {:?}, mode: {:?}, max_input_tokens: {}, max_output_tokens: {} }},",
            m.name,
            m.mode,
            opt(m.max_input_tokens),
            opt(m.max_output_tokens)
        );
    }
    out.push_str("];\n\n/// Tokenizer encodings by model-name prefix (longest prefix wins).\npub(crate) static ENCODINGS: &[Encoding] = &[\n");
    for e in &caps.encoding {
        let enc = match e.encoding.as_str() {
            "o200k_base" => "O200kBase",
            "cl100k_base" => "Cl100kBase",
            other => return Err(format!("unknown encoding {other}")),
        };
        let _ = writeln!(
            out,
            "    Encoding {{ prefix: {:?}, encoding: crate::validate::tables::TokenEncoding::{enc} }},",
            e.prefix
        );
    }
    out.push_str("];\n\n/// Model families with their capabilities, sorted by name.\npub(crate) static FAMILIES: &[Family] = &[\n");
    let mut families: Vec<&FamilyRow> = caps.family.iter().collect();
    families.sort_by(|a, b| a.name.cmp(&b.name));
    for w in families.windows(2) {
        if w[0].name == w[1].name {
            return Err(format!("model family {} listed twice", w[0].name));
        }
    }
    for f in families {
        let chat_refused = match f.chat_refused.as_deref() {
            None => "None".to_string(),
            Some("responses_only") => "Some(ChatRefusal::ResponsesOnly)".to_string(),
            Some("not_chat_model") => "Some(ChatRefusal::NotChatModel)".to_string(),
            Some(other) => return Err(format!("{}: unknown chat_refused {other}", f.name)),
        };
        let mut refused = String::from("&[");
        for r in &f.refused {
            if !matches!(
                r.endpoint.as_str(),
                "chat" | "responses" | "images" | "image_tool"
            ) {
                return Err(format!("{}: refused endpoint {}", f.name, r.endpoint));
            }
            let _ = write!(
                refused,
                "Refused {{ endpoint: {:?}, param: {:?}, report: {} }}, ",
                r.endpoint, r.param, r.report
            );
        }
        refused.push(']');
        let tools_effort: Option<bool> = match f.chat_tools_effort_refused.as_deref() {
            None => None,
            Some("explicit") => Some(false),
            Some("also_default") => Some(true),
            Some(other) => {
                return Err(format!(
                    "rules/model_capabilities.toml: {}: chat_tools_effort_refused '{other}' (explicit or also_default)",
                    f.name
                ));
            }
        };
        let _ = writeln!(
            out,
            "    Family {{ name: {:?}, reasoning: {:?}, chat_max_tokens_rejected: {}, sampling_defaults_only: {}, logprobs_rejected: {}, stop_rejected: {}, system_role_rejected: {}, function_role_rejected: {}, reasoning_efforts: &{:?}, vision: {:?}, structured_outputs: {:?}, json_object: {:?}, image_sizes: &{:?}, image_qualities: &{:?}, image_max_n: {:?}, image_prompt_max: {:?}, dimensions_max: {:?}, dimensions_rejected: {}, chat_max_completion_tokens: {:?}, chat_refused: {chat_refused}, responses_refused: {}, responses_refused_message: {:?}, refused: {refused}, reasoning_contexts: &{:?}, reasoning_modes: &{:?}, verbosities: &{:?}, reasoning_summaries: &{:?}, tools_refused: &{:?}, tools_refused_worded: &{:?}, tools_unlisted: &{:?}, deep_research: {}, chat_sampling_refused: {}, sampling_unless_effort_none: {}, default_effort_none: {}, audio_input: {:?}, audio_required: {}, chat_effort_null_rejected: {}, completions_refused: {}, names_dotless: {}, chat_tools_effort_refused: {:?}, chat_max_n: {:?}, chat_reasoning_efforts: &{:?}, source: {:?} }},",
            f.name,
            f.reasoning,
            f.chat_max_tokens_rejected,
            f.sampling_defaults_only,
            f.logprobs_rejected,
            f.stop_rejected,
            f.system_role_rejected,
            f.function_role_rejected,
            f.reasoning_efforts,
            f.vision,
            f.structured_outputs,
            f.json_object,
            f.image_sizes,
            f.image_qualities,
            f.image_max_n,
            f.image_prompt_max,
            f.dimensions_max,
            f.dimensions_rejected,
            f.chat_max_completion_tokens,
            f.responses_refused,
            f.responses_refused_message,
            f.reasoning_contexts,
            f.reasoning_modes,
            f.verbosities,
            f.reasoning_summaries,
            f.tools_refused,
            f.tools_refused_worded
                .iter()
                .map(|w| (w.tool.as_str(), w.message.as_str()))
                .collect::<Vec<_>>(),
            f.tools_unlisted,
            f.deep_research,
            f.chat_sampling_refused,
            f.sampling_unless_effort_none,
            f.default_effort_none,
            f.audio_input,
            f.audio_required,
            f.chat_effort_null_rejected,
            f.completions_refused,
            f.names_dotless,
            tools_effort,
            f.chat_max_n,
            f.chat_reasoning_efforts,
            f.source,
        );
    }
    out.push_str("];\n\n/// Hosted tool types only some families serve.\npub(crate) static HOSTED_TOOLS: &[HostedTool] = &[\n");
    for t in &caps.hosted_tool {
        let _ = writeln!(
            out,
            "    HostedTool {{ tool_type: {:?}, models: &{:?} }},",
            t.tool_type, t.models
        );
    }
    out.push_str("];\n");
    Ok(vec![(
        PathBuf::from("crates/airlock-rules/src/generated/models.rs"),
        out,
    )])
}

fn opt(v: Option<u64>) -> String {
    match v {
        Some(n) => format!("Some({n})"),
        None => "None".into(),
    }
}
