//! The shapes of the generated tables (`generated/endpoints.rs`, `generated/models.rs`).

/// JSON type bits of a parameter.
pub(crate) const T_STRING: u8 = 1;
/// A number (integers included).
pub(crate) const T_NUMBER: u8 = 2;
/// An integer (a number with no fractional part).
pub(crate) const T_INTEGER: u8 = 4;
/// `true` or `false`.
pub(crate) const T_BOOLEAN: u8 = 8;
/// An object.
pub(crate) const T_OBJECT: u8 = 16;
/// An array.
pub(crate) const T_ARRAY: u8 = 32;
/// `null`.
pub(crate) const T_NULL: u8 = 64;
/// The spec does not say: anything.
pub(crate) const T_ANY: u8 = 0xff;

/// One top-level request parameter, as the spec describes it.
#[derive(Debug)]
pub(crate) struct Param {
    pub(crate) name: &'static str,
    pub(crate) types: u8,
    pub(crate) required: bool,
    pub(crate) deprecated: bool,
    /// A closed string enum (empty: any string).
    pub(crate) enum_values: &'static [&'static str],
    /// A closed enum of array items (empty: not known).
    pub(crate) item_enum: &'static [&'static str],
    pub(crate) minimum: Option<f64>,
    pub(crate) maximum: Option<f64>,
    pub(crate) min_items: Option<u64>,
    pub(crate) max_items: Option<u64>,
    pub(crate) max_length: Option<u64>,
}

/// One endpoint and its top-level parameters (sorted by name).
#[derive(Debug)]
pub(crate) struct Endpoint {
    pub(crate) path: &'static str,
    /// The endpoint takes a JSON body (false: multipart only).
    pub(crate) json: bool,
    /// The endpoint takes a multipart/form-data body (too).
    pub(crate) multipart: bool,
    /// The spec leaves the object open (`additionalProperties` not false).
    #[allow(dead_code)] // kept as data: the unknown-parameter rule is conservative either way
    pub(crate) open: bool,
    /// Every finding on this endpoint is only a warning: no recorded accepted body shows the
    /// spec's schema matches what the API takes (`rules/request_enforcement.toml`).
    pub(crate) report_only: bool,
    pub(crate) params: &'static [Param],
}

impl Endpoint {
    pub(crate) fn param(&self, name: &str) -> Option<&'static Param> {
        self.params
            .binary_search_by(|p| p.name.cmp(name))
            .ok()
            .map(|i| &self.params[i])
    }
}

/// Token limits of one model id (from litellm's catalog).
#[derive(Debug)]
pub(crate) struct ModelInfo {
    pub(crate) name: &'static str,
    #[allow(dead_code)] // data for the tokenizer and the worker
    pub(crate) mode: &'static str,
    #[allow(dead_code)] // data for the tokenizer and the worker
    pub(crate) max_input_tokens: Option<u64>,
    #[allow(dead_code)] // data for the tokenizer and the worker
    pub(crate) max_output_tokens: Option<u64>,
}

/// A tokenizer encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenEncoding {
    /// `o200k_base` (gpt-4o and later).
    O200kBase,
    /// `cl100k_base` (gpt-4, gpt-3.5-turbo, embeddings).
    Cl100kBase,
}

/// A tokenizer encoding for the model ids starting with `prefix`.
#[derive(Debug)]
pub(crate) struct Encoding {
    pub(crate) prefix: &'static str,
    pub(crate) encoding: TokenEncoding,
}

/// A model family's capabilities (hand-maintained; see `rules/model_capabilities.toml`).
#[derive(Debug)]
pub(crate) struct Family {
    pub(crate) name: &'static str,
    pub(crate) reasoning: Option<bool>,
    pub(crate) chat_max_tokens_rejected: bool,
    pub(crate) sampling_defaults_only: bool,
    pub(crate) logprobs_rejected: bool,
    pub(crate) stop_rejected: bool,
    pub(crate) system_role_rejected: bool,
    /// Chat Completions rejects legacy `function` messages.
    pub(crate) function_role_rejected: bool,
    pub(crate) reasoning_efforts: &'static [&'static str],
    pub(crate) vision: Option<bool>,
    pub(crate) structured_outputs: Option<bool>,
    pub(crate) json_object: Option<bool>,
    pub(crate) image_sizes: &'static [&'static str],
    pub(crate) image_qualities: &'static [&'static str],
    pub(crate) image_max_n: Option<u32>,
    /// The longest `prompt` images/generations takes, in characters (the spec's description).
    pub(crate) image_prompt_max: Option<u32>,
    pub(crate) dimensions_max: Option<u32>,
    pub(crate) dimensions_rejected: bool,
    /// Chat Completions: the most completion tokens `max_tokens` / `max_completion_tokens` may
    /// ask for ("max_tokens is too large: …").
    pub(crate) chat_max_completion_tokens: Option<u32>,
    /// Chat Completions does not serve the model, and how it says so.
    pub(crate) chat_refused: Option<ChatRefusal>,
    /// The Responses API does not serve the model.
    pub(crate) responses_refused: bool,
    /// The Responses API does not serve the model, in OpenAI's own words for it (`{model}`: the
    /// model id as sent).
    pub(crate) responses_refused_message: Option<&'static str>,
    /// Parameters refused with "Unsupported parameter: 'P' is not supported with this model.".
    pub(crate) refused: &'static [Refused],
    /// The accepted `reasoning.context` values (empty: not known).
    pub(crate) reasoning_contexts: &'static [&'static str],
    /// The accepted `reasoning.mode` values (empty: not known).
    pub(crate) reasoning_modes: &'static [&'static str],
    /// The accepted `text.verbosity` values (empty: not known).
    pub(crate) verbosities: &'static [&'static str],
    /// The accepted `reasoning.summary` / `reasoning.generate_summary` values (empty: not known).
    pub(crate) reasoning_summaries: &'static [&'static str],
    /// Hosted tool types the Responses API refuses for the model.
    pub(crate) tools_refused: &'static [&'static str],
    /// Hosted tool types the Responses API refuses for the model in a wording of their own
    /// (tool type, OpenAI's message; param tools).
    pub(crate) tools_refused_worded: &'static [(&'static str, &'static str)],
    /// Hosted tool types OpenAI does not list for the model, no 400 seen (a warning).
    pub(crate) tools_unlisted: &'static [&'static str],
    /// Needs a data-source tool (web_search_preview, mcp or file_search).
    pub(crate) deep_research: bool,
    /// Chat Completions refuses the sampling parameters at any value.
    pub(crate) chat_sampling_refused: bool,
    /// Sampling parameters only at their defaults unless the reasoning effort is `none`.
    pub(crate) sampling_unless_effort_none: bool,
    /// An absent reasoning effort means `none`.
    pub(crate) default_effort_none: bool,
    /// Audio input accepted (`Some(false)`: a warning on audio input).
    pub(crate) audio_input: Option<bool>,
    /// Chat Completions needs audio in the input or the output modalities.
    pub(crate) audio_required: bool,
    /// Chat Completions refuses `reasoning_effort: null` ("… does not support null …").
    pub(crate) chat_effort_null_rejected: bool,
    /// The legacy Completions endpoint does not serve the model (a chat model): "This is a chat
    /// model and not supported in the v1/completions endpoint. Did you mean to use
    /// v1/chat/completions?" (param `model`).
    pub(crate) completions_refused: bool,
    /// OpenAI's name pattern for the model has no dot (`^[a-zA-Z0-9_-]+$` quoted for it): a
    /// dotted function name replayed in Responses input is refused.
    pub(crate) names_dotless: bool,
    /// Chat Completions refuses function tools with a reasoning effort other than `none`:
    /// `Some(false)` when the effort is set, `Some(true)` also when it is left to the model's
    /// default (which is not `none`).
    pub(crate) chat_tools_effort_refused: Option<bool>,
    /// Chat Completions: the largest `n` (None: the spec's bound only).
    pub(crate) chat_max_n: Option<u32>,
    /// Chat Completions: the accepted `reasoning_effort` values where they differ from
    /// `reasoning_efforts` (empty: the same).
    pub(crate) chat_reasoning_efforts: &'static [&'static str],
    #[allow(dead_code)] // documentation carried into the tables
    pub(crate) source: &'static str,
}

/// How Chat Completions refuses a model it does not serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChatRefusal {
    /// "This model is only supported in v1/responses and not in v1/chat/completions."
    ResponsesOnly,
    /// "This is not a chat model and thus not supported in the v1/chat/completions endpoint. …"
    NotChatModel,
}

/// A parameter a family refuses on one endpoint.
#[derive(Debug)]
pub(crate) struct Refused {
    /// `chat`, `responses` or `images` (images/generations, which answers "Unknown parameter:
    /// 'P'." for a parameter the model does not take), or `image_tool`: a field of the Responses
    /// `image_generation` tool whose `model` is this image model ("The model 'M' does not support
    /// the 'P' parameter.", param `tools`).
    pub(crate) endpoint: &'static str,
    /// A dotted path (`reasoning.effort`).
    pub(crate) param: &'static str,
    /// Only a warning: the refusal is known, its 400 is not.
    pub(crate) report: bool,
}

/// A hosted tool type only the listed families serve.
#[derive(Debug)]
pub(crate) struct HostedTool {
    pub(crate) tool_type: &'static str,
    /// Family names that serve it.
    pub(crate) models: &'static [&'static str],
}
