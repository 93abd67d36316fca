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
    pub(crate) reasoning_efforts: &'static [&'static str],
    pub(crate) vision: Option<bool>,
    pub(crate) structured_outputs: Option<bool>,
    pub(crate) json_object: Option<bool>,
    pub(crate) image_sizes: &'static [&'static str],
    pub(crate) image_qualities: &'static [&'static str],
    pub(crate) image_max_n: Option<u32>,
    pub(crate) dimensions_max: Option<u32>,
    pub(crate) dimensions_rejected: bool,
    #[allow(dead_code)] // documentation carried into the tables
    pub(crate) source: &'static str,
}
