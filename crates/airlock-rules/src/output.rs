//! Answers checked against what was asked (issue 17): a model's output — Chat Completions message
//! content and tool-call arguments, Responses output items — against the request's
//! `json_schema` format and function `parameters`, with the `jsonschema` crate.
//!
//! A pure function of the request and the response JSON: [`check_output`] (or, with the request
//! read once, [`Expectation::check`]) says `valid`, `invalid` (with the first failing place),
//! `truncated` (`finish_reason: "length"`, Responses `status: "incomplete"`), `refused` (a
//! `refusal`), or `unchecked` (over [`MAX_OUTPUT_CHECK_BYTES`], not JSON, or a schema the
//! validator cannot compile). Truncation and refusal are named as such, never as `invalid`.
//! A stream is checked on its assembled output at the end ([`StreamOutput`]).
//!
//! The place is a path into the response (`choices[0].message.content`, `output[1].arguments`)
//! followed by the JSON pointer inside the parsed output (`/age`), and the failing keyword
//! (`type`, `required`): never a value, since values are the model's words.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::Deserialize as _;
use serde_json::Value;

use crate::sse::{Item, SseParser};
pub use crate::validator_cache::{
    Compiled, Handed, MAX_CACHED_SCHEMA_BYTES, MAX_CACHED_VALIDATORS, Slot, ValidatorCache,
};

/// The largest response body (or assembled stream output) checked, in bytes; a larger one is
/// `unchecked` (reason `too_large`), never judged. Also the most a [`StreamOutput`] holds.
pub const MAX_OUTPUT_CHECK_BYTES: usize = 1024 * 1024;

/// The largest request body read for its schemas, in bytes (the worker's `MAX_CHECK_BYTES`
/// default); a larger one has no [`Expectation`].
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// The verdict on one answer.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every output follows its schema.
    Valid,
    /// An output does not follow its schema (or is not JSON, or calls a function not given).
    Invalid,
    /// The output was cut (`finish_reason: "length"`, Responses `incomplete`).
    Truncated,
    /// The model refused (`refusal`).
    Refused,
    /// Not judged: see [`OutputReport::reason`].
    Unchecked,
}

impl Status {
    /// The name used in the `x-airlock-output` header, the log and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Invalid => "invalid",
            Status::Truncated => "truncated",
            Status::Refused => "refused",
            Status::Unchecked => "unchecked",
        }
    }
}

/// What [`check_output`] found (`airlock check-output --json` prints it: `schemas/check-output.json`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
pub struct OutputReport {
    /// The verdict.
    pub status: Status,
    /// Where the first failure is: the output's place in the response and the JSON pointer
    /// inside it (`choices[0].message.content/age`); for `truncated` and `refused`, the place of
    /// the output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The failing JSON Schema keyword (`type`, `required`, `additionalProperties`), or `json`
    /// (not JSON), `tool` (a function the request did not give).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    /// The validator's message. It may quote the model's output: the CLI prints it, the worker
    /// never logs it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Why it is `unchecked`: `too_large`, `not_json`, `schema`, `no_output` (the worker also
    /// `stalled`, `cut`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// How many outputs were validated.
    pub checked: u32,
}

impl OutputReport {
    fn new(status: Status) -> Self {
        OutputReport {
            status,
            path: None,
            keyword: None,
            message: None,
            reason: None,
            checked: 0,
        }
    }

    /// An `unchecked` report with `reason`.
    pub fn unchecked(reason: &'static str) -> Self {
        OutputReport {
            reason: Some(reason),
            ..OutputReport::new(Status::Unchecked)
        }
    }

    /// The `x-airlock-output` header value: the status, then `; path=…` or `; reason=…`.
    /// ASCII only: other bytes of the path are percent-encoded.
    pub fn header_value(&self) -> String {
        let mut out = String::from(self.status.as_str());
        if let Some(path) = &self.path {
            out.push_str("; path=");
            for b in path.bytes() {
                if b.is_ascii_graphic() && b != b'%' && b != b';' && b != b',' {
                    out.push(char::from(b));
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
        if let Some(k) = &self.keyword {
            out.push_str("; keyword=");
            out.push_str(k);
        }
        if let Some(r) = self.reason {
            out.push_str("; reason=");
            out.push_str(r);
        }
        out
    }
}

/// Which API a request and its answer belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// `/v1/chat/completions`.
    Chat,
    /// `/v1/responses`.
    Responses,
}

/// What a request asked for: its output schema and its functions' parameters.
#[derive(Clone, Debug)]
pub struct Expectation {
    api: Api,
    format: Option<Value>,
    tools: BTreeMap<String, Value>,
    /// The validator slots the request's check handed on ([`Expectation::from_request_handed`]):
    /// a cache, not part of what was asked, so not compared.
    slots: Slots,
}

/// Equal when they ask for the same (the handed validator slots are a cache).
impl PartialEq for Expectation {
    fn eq(&self, other: &Self) -> bool {
        self.api == other.api && self.format == other.format && self.tools == other.tools
    }
}

/// The validator slots of an expectation's schemas, by the names its check looks them up by.
#[derive(Clone, Debug, Default)]
struct Slots {
    format: Option<Slot>,
    tools: BTreeMap<String, Slot>,
}

impl Expectation {
    /// What `request` (a body sent to `endpoint`) asked for, or `None` when it asked for neither
    /// a `json_schema` format nor gave function tools with `parameters`.
    pub fn from_request(endpoint: &str, request: &Value) -> Option<Expectation> {
        Self::read(api_of(endpoint)?, request)
    }

    /// [`Expectation::from_request`] on the body's bytes; a body over [`MAX_REQUEST_BYTES`], not
    /// JSON, or without `"json_schema"` or `"parameters"` in it is not parsed.
    pub fn from_request_bytes(endpoint: &str, body: &[u8]) -> Option<Expectation> {
        if body.len() > MAX_REQUEST_BYTES
            || !(contains(body, b"json_schema") || contains(body, b"\"parameters\""))
        {
            return None;
        }
        // Only the values an expectation reads are built: the messages, most of a request, are
        // skipped by the parser, not copied (issue 17: the worker reads every checked body here
        // a second time). A body that is not an object asks for nothing (serde would read the
        // struct from an array by position); one this cannot read (a key given twice) is read
        // whole, as before.
        if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return None;
        }
        #[derive(serde::Deserialize)]
        struct Asked {
            response_format: Option<Value>,
            text: Option<Value>,
            tools: Option<Value>,
        }
        let value = match serde_json::from_slice::<Asked>(body) {
            Ok(asked) => {
                let mut map = serde_json::Map::new();
                for (key, v) in [
                    ("response_format", asked.response_format),
                    ("text", asked.text),
                    ("tools", asked.tools),
                ] {
                    if let Some(v) = v {
                        map.insert(String::from(key), v);
                    }
                }
                Value::Object(map)
            }
            Err(_) => serde_json::from_slice(body).ok()?,
        };
        Self::from_request(endpoint, &value)
    }

    /// [`Expectation::from_request`] on a request tree given up: the schemas are moved out of
    /// it, not copied (issue 17: the worker's check has parsed the body and no longer needs it).
    pub fn from_request_owned(endpoint: &str, mut request: Value) -> Option<Expectation> {
        let api = api_of(endpoint)?;
        let plan = Plan::of(api, &request);
        let format = match plan.format {
            true => api
                .format_path()
                .iter()
                .try_fold(&mut request, |v, k| v.get_mut(*k))
                .map(Value::take),
            false => None,
        };
        let mut tools = BTreeMap::new();
        if let Some(list) = request.get_mut("tools").and_then(Value::as_array_mut) {
            for (i, name) in plan.tools {
                let at = api.parameters_path();
                let tool = list.get_mut(i);
                let found = tool.and_then(|t| at.iter().try_fold(t, |v, k| v.get_mut(*k)));
                if let Some(params) = found {
                    tools.insert(name, params.take());
                }
            }
        }
        (format.is_some() || !tools.is_empty()).then_some(Expectation {
            api,
            format,
            tools,
            slots: Slots::default(),
        })
    }

    /// [`Expectation::from_request_owned`] on the tree [`check_keeping_handed`] kept, with the
    /// validator slots it handed on (issue 17: the request's check has looked each schema up in
    /// its lint cache, so the answer's check takes the validator from the slot instead of
    /// looking the schema up again in the [`ValidatorCache`]). A schema without a slot (not
    /// linted with a cache) is looked up as before. The verdicts are the same: a slot holds the
    /// validator of the very schema linted at that place, which is the one moved out here.
    ///
    /// [`check_keeping_handed`]: crate::validate::check_keeping_handed
    pub fn from_request_handed(
        endpoint: &str,
        request: Value,
        handed: Handed,
    ) -> Option<Expectation> {
        let api = api_of(endpoint)?;
        let plan = Plan::of(api, &request);
        let mut slots = Slots::default();
        // Slots read for the other API's places would name other schemas.
        if handed.chat == Some(api == Api::Chat) {
            if plan.format {
                slots.format = handed.format.clone();
            }
            // In `plan`'s order, as the schemas are kept: a later tool of the same name replaces
            // an earlier one, its slot too, or the lack of one.
            for (i, name) in &plan.tools {
                match handed.tool(*i) {
                    Some(slot) => {
                        slots.tools.insert(name.clone(), slot.clone());
                    }
                    None => {
                        slots.tools.remove(name);
                    }
                }
            }
        }
        let mut expect = Self::from_request_owned(endpoint, request)?;
        expect.slots = slots;
        Some(expect)
    }

    fn read(api: Api, request: &Value) -> Option<Expectation> {
        let plan = Plan::of(api, request);
        let format = match plan.format {
            true => api
                .format_path()
                .iter()
                .try_fold(request, |v, k| v.get(*k))
                .cloned(),
            false => None,
        };
        let mut tools = BTreeMap::new();
        if let Some(list) = request.get("tools").and_then(Value::as_array) {
            for (i, name) in plan.tools {
                let at = api.parameters_path();
                let found = list
                    .get(i)
                    .and_then(|t| at.iter().try_fold(t, |v, k| v.get(*k)));
                if let Some(params) = found {
                    tools.insert(name, params.clone());
                }
            }
        }
        (format.is_some() || !tools.is_empty()).then_some(Expectation {
            api,
            format,
            tools,
            slots: Slots::default(),
        })
    }

    /// The API the request was for.
    pub fn api(&self) -> Api {
        self.api
    }

    /// [`Expectation::check`] on the response's bytes, within [`MAX_OUTPUT_CHECK_BYTES`].
    pub fn check_bytes(&self, response: &[u8]) -> OutputReport {
        self.check_bytes_cached(response, &mut ValidatorCache::new())
    }

    /// [`Expectation::check_bytes`] with validators taken from (and kept in) `cache`.
    pub fn check_bytes_cached(&self, response: &[u8], cache: &mut ValidatorCache) -> OutputReport {
        if response.len() > MAX_OUTPUT_CHECK_BYTES {
            return OutputReport::unchecked("too_large");
        }
        match answer_outputs(response) {
            Some(v) => self.check_cached(&v, cache),
            None => OutputReport::unchecked("not_json"),
        }
    }

    /// The model's outputs in `response` against what was asked.
    pub fn check(&self, response: &Value) -> OutputReport {
        self.check_cached(response, &mut ValidatorCache::new())
    }

    /// [`Expectation::check`] with validators taken from (and kept in) `cache`: the same verdict,
    /// without compiling a schema seen before.
    pub fn check_cached(&self, response: &Value, cache: &mut ValidatorCache) -> OutputReport {
        let mut run = Run {
            expectation: self,
            compiled: Vec::new(),
            cache,
            report: OutputReport::new(Status::Valid),
        };
        match self.api {
            Api::Chat => run.chat(response),
            Api::Responses => run.responses(response),
        }
        run.report
    }
}

/// The API of a request to `endpoint` whose answers can be checked.
fn api_of(endpoint: &str) -> Option<Api> {
    let path = endpoint.split('?').next().unwrap_or("");
    if path.ends_with("/chat/completions") {
        Some(Api::Chat)
    } else if path.ends_with("/responses") {
        Some(Api::Responses)
    } else {
        None
    }
}

impl Api {
    /// Where a request of this API has its `json_schema` format's schema (object keys: not a
    /// JSON pointer, whose lookup allocates for every step).
    fn format_path(self) -> &'static [&'static str] {
        match self {
            Api::Chat => &["response_format", "json_schema", "schema"],
            Api::Responses => &["text", "format", "schema"],
        }
    }

    /// Where a function tool of this API has its `parameters`, from the tool.
    fn parameters_path(self) -> &'static [&'static str] {
        match self {
            Api::Chat => &["function", "parameters"],
            Api::Responses => &["parameters"],
        }
    }
}

/// Which of a request's schemas an [`Expectation`] keeps: the format's (a `json_schema` format
/// with an object or boolean schema) and, by name, each function tool's object `parameters` (a
/// later tool of the same name wins), as tool indices. Read once; then the schemas are copied
/// ([`Expectation::from_request`]) or moved ([`Expectation::from_request_owned`]).
struct Plan {
    format: bool,
    tools: Vec<(usize, String)>,
}

impl Plan {
    fn of(api: Api, request: &Value) -> Plan {
        let format = match api {
            Api::Chat => request
                .get("response_format")
                .filter(|f| f.get("type").and_then(Value::as_str) == Some("json_schema"))
                .and_then(|f| f.get("json_schema"))
                .and_then(|j| j.get("schema")),
            Api::Responses => request
                .get("text")
                .and_then(|t| t.get("format"))
                .filter(|f| f.get("type").and_then(Value::as_str) == Some("json_schema"))
                .and_then(|f| f.get("schema")),
        }
        .is_some_and(|s| s.is_object() || s.is_boolean());
        let mut tools = Vec::new();
        for (i, tool) in request
            .get("tools")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if tool.get("type").and_then(Value::as_str) != Some("function") {
                continue;
            }
            let f = match api {
                Api::Chat => tool.get("function"),
                Api::Responses => Some(tool),
            };
            let Some(f) = f else { continue };
            if let (Some(name), Some(params)) =
                (f.get("name").and_then(Value::as_str), f.get("parameters"))
            {
                if params.is_object() {
                    tools.push((i, String::from(name)));
                }
            }
        }
        Plan { format, tools }
    }
}

/// The response's JSON as the check reads it: every value under a key the check reads
/// ([`read_key`]: `choices`, `output`, `status` and what the check reads below them) built, the
/// rest (`id`, `model`, `usage`, a choice's `index`, `logprobs`, …) read and checked as the
/// whole parse would check it but not built (issue 17: building the answer's tree was most of
/// its check); `None` when it is not JSON. The check reads only those keys, so its verdict is the
/// whole parse's (tested).
fn answer_outputs(response: &[u8]) -> Option<Value> {
    let mut de = serde_json::Deserializer::from_slice(response);
    let v = serde::de::DeserializeSeed::deserialize(Pruned, &mut de).ok()?;
    de.end().ok()?;
    Some(v)
}

/// The name of `key` when the check reads it (`Value::get`, anywhere in [`Run`]): a value under
/// any other key is not built. A key of this list read where the check does not read it (an
/// item's `status`) is only built for nothing.
fn read_key(key: &str) -> Option<&'static str> {
    Some(match key {
        "choices" => "choices",
        "output" => "output",
        "status" => "status",
        "message" => "message",
        "finish_reason" => "finish_reason",
        "refusal" => "refusal",
        "content" => "content",
        "tool_calls" => "tool_calls",
        "function" => "function",
        "name" => "name",
        "arguments" => "arguments",
        "type" => "type",
        "text" => "text",
        _ => return None,
    })
}

/// A JSON value read as `Value` reads it (a key given twice: the last one wins), with an
/// object's values under keys the check never reads ([`read_key`]) passed to [`Sink`] instead
/// of built: what [`Run`] sees of it is what it would see of the whole value.
struct Pruned;

impl<'de> serde::de::DeserializeSeed<'de> for Pruned {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Pruned {
    type Value = Value;
    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(String::from(v)))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        serde::de::DeserializeSeed::deserialize(Pruned, d)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(Pruned)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut kept = serde_json::Map::new();
        while let Some(key) = map.next_key::<ReadKey>()? {
            match key.0 {
                Some(name) => {
                    let v = map.next_value_seed(Pruned)?;
                    kept.insert(String::from(name), v);
                }
                None => {
                    map.next_value::<Sink>()?;
                }
            }
        }
        Ok(Value::Object(kept))
    }
}

/// An object key: [`read_key`]'s name for it, or `None`.
struct ReadKey(Option<&'static str>);

impl<'de> serde::Deserialize<'de> for ReadKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = ReadKey;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<ReadKey, E> {
                Ok(ReadKey(read_key(key)))
            }
        }
        d.deserialize_str(Visit)
    }
}

/// Any JSON value, read as `Value` would read it (strings checked as UTF-8 and for lone
/// surrogates, numbers parsed, the same nesting limit) but kept nowhere: unlike serde's
/// `IgnoredAny`, which `serde_json` skips without those checks, so a response the whole parse
/// refuses is refused here too.
struct Sink;

impl<'de> serde::Deserialize<'de> for Sink {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Sink)
    }
}

impl<'de> serde::de::Visitor<'de> for Sink {
    type Value = Sink;
    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Sink, E> {
        Ok(Sink)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Sink, E> {
        Ok(Sink)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Sink, E> {
        Ok(Sink)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Sink, E> {
        Ok(Sink)
    }
    fn visit_str<E>(self, _: &str) -> Result<Sink, E> {
        Ok(Sink)
    }
    fn visit_unit<E>(self) -> Result<Sink, E> {
        Ok(Sink)
    }
    fn visit_none<E>(self) -> Result<Sink, E> {
        Ok(Sink)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Sink, D::Error> {
        Sink::deserialize(d)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Sink, A::Error> {
        while seq.next_element::<Sink>()?.is_some() {}
        Ok(Sink)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Sink, A::Error> {
        while map.next_entry::<Sink, Sink>()?.is_some() {}
        Ok(Sink)
    }
}

/// The output of `response` against what `request` asked (the API is told by the response's
/// `object`: `chat.completion` or `response`; otherwise by the request: `messages` is Chat).
/// A request that asked for nothing gives `unchecked` with reason `nothing_asked`.
///
/// # Example
/// ```
/// use serde_json::json;
/// use airlock_rules::output::{check_output, Status};
/// let request = json!({"model": "gpt-4o", "messages": [], "response_format": {"type": "json_schema",
///     "json_schema": {"name": "a", "strict": true, "schema": {"type": "object",
///     "properties": {"n": {"type": "integer"}}, "required": ["n"], "additionalProperties": false}}}});
/// let answer = |content: &str| json!({"object": "chat.completion", "choices": [{"index": 0,
///     "finish_reason": "stop", "message": {"role": "assistant", "content": content}}]});
/// assert_eq!(check_output(&request, &answer(r#"{"n": 1}"#)).status, Status::Valid);
/// let bad = check_output(&request, &answer(r#"{"n": "one"}"#));
/// assert_eq!(bad.status, Status::Invalid);
/// assert_eq!(bad.path.as_deref(), Some("choices[0].message.content/n"));
/// ```
pub fn check_output(request: &Value, response: &Value) -> OutputReport {
    let api = match response.get("object").and_then(Value::as_str) {
        Some("chat.completion") => Api::Chat,
        Some("response") => Api::Responses,
        _ if request.get("messages").is_some() => Api::Chat,
        _ => Api::Responses,
    };
    match Expectation::read(api, request) {
        Some(e) => e.check(response),
        None => OutputReport::unchecked("nothing_asked"),
    }
}

/// True when `needle` occurs in `haystack`: a scan for its first byte, then a comparison (the
/// worker asks this of every checked body, twice).
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let mut at = haystack;
    while let Some(i) = at.iter().position(|&b| b == first) {
        let after = at.get(i + 1..).unwrap_or_default();
        if after.starts_with(rest) {
            return true;
        }
        at = after;
    }
    false
}

struct Run<'a> {
    expectation: &'a Expectation,
    /// Validators used for this answer, by tool name (`None` for the format): few, so a list.
    compiled: Vec<(Option<&'a str>, Compiled)>,
    cache: &'a mut ValidatorCache,
    report: OutputReport,
}

/// Where an output is in the response, written out only when the report names it (issue 17:
/// the path was formatted for every output checked, valid or not).
#[derive(Clone, Copy)]
enum Place {
    /// `choices[i].message.content`.
    Content(usize),
    /// `choices[i].message.tool_calls[j].function.arguments`.
    Arguments(usize, usize),
    /// `output[i].content[j].text`.
    OutputText(usize, usize),
    /// `output[i].arguments`.
    OutputArguments(usize),
}

impl core::fmt::Display for Place {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Place::Content(i) => write!(f, "choices[{i}].message.content"),
            Place::Arguments(i, j) => {
                write!(f, "choices[{i}].message.tool_calls[{j}].function.arguments")
            }
            Place::OutputText(i, j) => write!(f, "output[{i}].content[{j}].text"),
            Place::OutputArguments(i) => write!(f, "output[{i}].arguments"),
        }
    }
}

impl<'a> Run<'a> {
    fn done(&self) -> bool {
        self.report.status != Status::Valid
    }

    fn set(
        &mut self,
        status: Status,
        path: String,
        keyword: Option<&str>,
        message: Option<String>,
    ) {
        if self.done() {
            return;
        }
        self.report.status = status;
        self.report.path = Some(path);
        self.report.keyword = keyword.map(String::from);
        self.report.message = message;
    }

    /// Validates the JSON text `text` at `place` against the format (`tool: None`) or a tool.
    fn text(&mut self, place: Place, text: &str, tool: Option<&str>) {
        if self.done() {
            return;
        }
        let expectation = self.expectation;
        let found = match tool {
            None => expectation.format.as_ref().map(|s| (None, s)),
            Some(name) => match expectation.tools.get_key_value(name) {
                Some((name, s)) => Some((Some(name.as_str()), s)),
                None => {
                    let path = place.to_string();
                    let at = path
                        .rsplit_once('.')
                        .map_or(path.clone(), |(p, _)| p.to_string());
                    self.set(
                        Status::Invalid,
                        format!("{at}.name"),
                        Some("tool"),
                        Some(format!(
                            "the request gave no function named '{name}' with parameters"
                        )),
                    );
                    return;
                }
            },
        };
        let Some((key, schema)) = found else { return };
        let instance: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                self.set(
                    Status::Invalid,
                    place.to_string(),
                    Some("json"),
                    Some(format!("not JSON: {e}")),
                );
                return;
            }
        };
        let validator = match self.compiled.iter().find(|(k, _)| *k == key) {
            Some((_, v)) => v.clone(),
            None => {
                let slots = &expectation.slots;
                let slot = match key {
                    None => slots.format.as_ref(),
                    Some(name) => slots.tools.get(name),
                };
                let v = match slot {
                    Some(slot) => slot.get(schema, self.cache),
                    None => self.cache.get(schema),
                };
                self.compiled.push((key, v.clone()));
                v
            }
        };
        let Some(validator) = validator else {
            if !self.done() {
                self.report = OutputReport::unchecked("schema");
            }
            return;
        };
        self.report.checked += 1;
        if let Err(e) = validator.validate(&instance) {
            let full = format!("{place}{}", e.instance_path().as_str());
            let keyword = String::from(e.kind().keyword());
            let message = e.to_string();
            self.set(Status::Invalid, full, Some(&keyword), Some(message));
        }
    }

    fn chat(&mut self, response: &Value) {
        let Some(choices) = response.get("choices").and_then(Value::as_array) else {
            self.report = OutputReport::unchecked("no_output");
            return;
        };
        // Truncation and refusal first: they name the answer whatever its bytes.
        for (i, choice) in choices.iter().enumerate() {
            let message = choice.get("message");
            if message
                .and_then(|m| m.get("refusal"))
                .is_some_and(|r| r.as_str().is_some_and(|s| !s.is_empty()))
            {
                self.set(
                    Status::Refused,
                    format!("choices[{i}].message.refusal"),
                    None,
                    None,
                );
            }
            if choice.get("finish_reason").and_then(Value::as_str) == Some("length") {
                self.set(
                    Status::Truncated,
                    format!("choices[{i}].finish_reason"),
                    None,
                    None,
                );
            }
        }
        for (i, choice) in choices.iter().enumerate() {
            let Some(message) = choice.get("message") else {
                continue;
            };
            let calls = message.get("tool_calls").and_then(Value::as_array);
            if let Some(content) = message.get("content").and_then(Value::as_str) {
                if self.expectation.format.is_some() {
                    self.text(Place::Content(i), content, None);
                }
            } else if self.expectation.format.is_some() && calls.is_none_or(|c| c.is_empty()) {
                self.set(
                    Status::Invalid,
                    format!("choices[{i}].message.content"),
                    Some("json"),
                    Some(String::from("no content")),
                );
            }
            for (j, call) in calls.into_iter().flatten().enumerate() {
                let Some(f) = call.get("function") else {
                    continue;
                };
                let name = f.get("name").and_then(Value::as_str).unwrap_or("");
                let args = f.get("arguments").and_then(Value::as_str).unwrap_or("");
                self.text(Place::Arguments(i, j), args, Some(name));
            }
        }
    }

    fn responses(&mut self, response: &Value) {
        let Some(output) = response.get("output").and_then(Value::as_array) else {
            self.report = OutputReport::unchecked("no_output");
            return;
        };
        for (i, item) in output.iter().enumerate() {
            if item.get("type").and_then(Value::as_str) != Some("message") {
                continue;
            }
            for (j, part) in item
                .get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if part.get("type").and_then(Value::as_str) == Some("refusal") {
                    self.set(
                        Status::Refused,
                        format!("output[{i}].content[{j}]"),
                        None,
                        None,
                    );
                }
            }
        }
        if response.get("status").and_then(Value::as_str) == Some("incomplete") {
            self.set(Status::Truncated, String::from("status"), None, None);
        }
        for (i, item) in output.iter().enumerate() {
            match item.get("type").and_then(Value::as_str) {
                Some("message") if self.expectation.format.is_some() => {
                    for (j, part) in item
                        .get("content")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .enumerate()
                    {
                        if part.get("type").and_then(Value::as_str) == Some("output_text") {
                            let text = part.get("text").and_then(Value::as_str).unwrap_or("");
                            self.text(Place::OutputText(i, j), text, None);
                        }
                    }
                }
                Some("function_call") => {
                    let name = item.get("name").and_then(Value::as_str).unwrap_or("");
                    let args = item.get("arguments").and_then(Value::as_str).unwrap_or("");
                    self.text(Place::OutputArguments(i), args, Some(name));
                }
                _ => {}
            }
        }
    }
}

/// A stream's output assembled as it passes, to be checked at its end: Chat Completions deltas
/// (content, refusal and tool-call arguments by index, per choice, with the finish reason) are
/// joined into a `chat.completion`; for Responses, the terminal event's `response` object is
/// kept. Holds at most [`MAX_OUTPUT_CHECK_BYTES`] of output; past that the stream is `unchecked`
/// (`too_large`) and nothing more is held.
#[derive(Debug)]
pub struct StreamOutput {
    parser: SseParser,
    choices: BTreeMap<u64, ChoiceParts>,
    final_response: Option<Value>,
    held: usize,
    over: bool,
}

#[derive(Debug, Default)]
struct ChoiceParts {
    content: Option<String>,
    refusal: Option<String>,
    finish_reason: Option<String>,
    /// By index: name and arguments.
    calls: BTreeMap<u64, (String, String)>,
}

impl Default for StreamOutput {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamOutput {
    /// An empty assembler.
    pub fn new() -> Self {
        StreamOutput {
            parser: SseParser::with_limits(crate::sse::Limits {
                max_line: MAX_OUTPUT_CHECK_BYTES,
                max_data: MAX_OUTPUT_CHECK_BYTES,
            }),
            choices: BTreeMap::new(),
            final_response: None,
            held: 0,
            over: false,
        }
    }

    /// Feeds the next chunk of the stream's bytes (cut anywhere).
    pub fn push(&mut self, chunk: &[u8]) {
        if self.over {
            return;
        }
        let mut events = Vec::new();
        self.parser.push_with(chunk, &mut |item| match item {
            Item::Event(e) => events.push(e.data),
            _ => events.push(String::new()),
        });
        for data in events {
            self.event(&data);
        }
    }

    fn grow(&mut self, by: usize) -> bool {
        self.held += by;
        if self.held > MAX_OUTPUT_CHECK_BYTES {
            self.over = true;
            self.choices.clear();
            self.final_response = None;
        }
        !self.over
    }

    fn event(&mut self, data: &str) {
        if self.over || data.is_empty() || data == "[DONE]" {
            if data.is_empty() && !self.over {
                // An event or line over the parser's limits: the output cannot be whole.
                self.over = self.parser.bytes() > MAX_OUTPUT_CHECK_BYTES as u64;
            }
            return;
        }
        let Ok(v) = serde_json::from_str::<Value>(data) else {
            return;
        };
        if let Some(kind) = v.get("type").and_then(Value::as_str) {
            if matches!(
                kind,
                "response.completed" | "response.incomplete" | "response.failed"
            ) && self.grow(data.len())
            {
                self.final_response = v.get("response").cloned();
            }
            return;
        }
        let Some(choices) = v.get("choices").and_then(Value::as_array) else {
            return;
        };
        for choice in choices {
            let index = choice.get("index").and_then(Value::as_u64).unwrap_or(0);
            let delta = choice.get("delta");
            let mut added = 0;
            let parts = self.choices.entry(index).or_default();
            if let Some(r) = choice.get("finish_reason").and_then(Value::as_str) {
                parts.finish_reason = Some(String::from(r));
            }
            if let Some(d) = delta {
                if let Some(c) = d.get("content").and_then(Value::as_str) {
                    parts.content.get_or_insert_with(String::new).push_str(c);
                    added += c.len();
                }
                if let Some(c) = d.get("refusal").and_then(Value::as_str) {
                    parts.refusal.get_or_insert_with(String::new).push_str(c);
                    added += c.len();
                }
                for call in d
                    .get("tool_calls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let k = call.get("index").and_then(Value::as_u64).unwrap_or(0);
                    let entry = parts.calls.entry(k).or_default();
                    if let Some(f) = call.get("function") {
                        if let Some(n) = f.get("name").and_then(Value::as_str) {
                            entry.0.push_str(n);
                            added += n.len();
                        }
                        if let Some(a) = f.get("arguments").and_then(Value::as_str) {
                            entry.1.push_str(a);
                            added += a.len();
                        }
                    }
                }
            }
            if !self.grow(added) {
                return;
            }
        }
    }

    /// The assembled answer, as the non-streamed API would have sent it.
    pub fn assembled(&self) -> Option<Value> {
        if let Some(r) = &self.final_response {
            return Some(r.clone());
        }
        if self.choices.is_empty() {
            return None;
        }
        let choices: Vec<Value> = self
            .choices
            .iter()
            .map(|(i, p)| {
                let calls: Vec<Value> = p
                    .calls
                    .values()
                    .map(|(n, a)| {
                        serde_json::json!({"type": "function", "function": {"name": n, "arguments": a}})
                    })
                    .collect();
                serde_json::json!({
                    "index": i,
                    "finish_reason": p.finish_reason,
                    "message": {
                        "role": "assistant",
                        "content": p.content,
                        "refusal": p.refusal,
                        "tool_calls": if calls.is_empty() { Value::Null } else { Value::Array(calls) },
                    }
                })
            })
            .collect();
        Some(serde_json::json!({"object": "chat.completion", "choices": choices}))
    }

    /// Checks the assembled output against `expectation` (call when the stream has ended).
    pub fn finish(&mut self, expectation: &Expectation) -> OutputReport {
        self.finish_cached(expectation, &mut ValidatorCache::new())
    }

    /// [`StreamOutput::finish`] with validators taken from (and kept in) `cache`.
    pub fn finish_cached(
        &mut self,
        expectation: &Expectation,
        cache: &mut ValidatorCache,
    ) -> OutputReport {
        for item in self.parser.finish() {
            if let Item::Event(e) = item {
                self.event(&e.data);
            }
        }
        if self.over {
            return OutputReport::unchecked("too_large");
        }
        match self.assembled() {
            Some(v) => expectation.check_cached(&v, cache),
            None => OutputReport::unchecked("no_output"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The answer read by its outputs only gives the verdict of the whole parse, on answers
    /// made to tell them apart (bytes or escapes the whole parse refuses in a value passed over,
    /// nesting past its limit, a key given twice, not an object).
    #[test]
    fn answer_outputs_judges_as_the_whole_parse() {
        let request = serde_json::json!({"model": "gpt-4o", "messages": [], "response_format": {"type": "json_schema",
            "json_schema": {"name": "a", "strict": true, "schema": {"type": "object",
            "properties": {"n": {"type": "integer"}}, "required": ["n"], "additionalProperties": false}}}});
        let expect = Expectation::from_request("/v1/chat/completions", &request).unwrap();
        let choice = |c: &str| {
            format!(
                r#"[{{"index":0,"finish_reason":"stop","message":{{"role":"assistant","content":{c}}}}}]"#
            )
        };
        let good = choice(r#""{\"n\": 1}""#);
        let bad = choice(r#""{\"n\": \"x\"}""#);
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for c in [&good, &bad] {
            for text in [
                format!(
                    r#"{{"id":"x","object":"chat.completion","choices":{c},"usage":{{"total_tokens":3}}}}"#
                ),
                format!(r#"  {{"choices":{c}}}  "#),
                format!(r#"{{"id":"\ud800","choices":{c}}}"#),
                format!(r#"{{"id":"\u00e9\n","choices":{c}}}"#),
                format!(r#"{{"usage":{deep},"choices":{c}}}"#),
                format!(r#"{{"usage":1e400,"choices":{c}}}"#),
                format!(r#"{{"usage":-0.5e-3,"x":[true,null,{{}}],"choices":{c}}}"#),
                format!(r#"{{"choices":{c},"choices":null}}"#),
                format!(r#"{{"choices":null,"choices":{c}}}"#),
                format!(r#"{{"ch\u006fices":{c}}}"#),
                format!(r#"{{"choices":{c}}} x"#),
                format!(r#"[{{"choices":{c}}}]"#),
                format!(r#"{{"choices":{c},"status":"incomplete","output":5}}"#),
                String::from(
                    r#"{"choices":[{"finish_reason":"length","message":{"content":"{"}}],"usage":{"a":[1]}}"#,
                ),
                String::from(r#"{"choices":null}"#),
                String::from(r#"{"choices":5}"#),
                String::from("{}"),
                String::from(""),
            ] {
                cases.push(text.into_bytes());
            }
            let mut raw = format!(r#"{{"id":"??","choices":{c}}}"#).into_bytes();
            raw[7] = 0xff;
            raw[8] = 0xfe;
            cases.push(raw);
        }
        let mut kinds = BTreeMap::new();
        for bytes in &cases {
            let whole = match serde_json::from_slice::<Value>(bytes) {
                Ok(v) => expect.check(&v),
                Err(_) => OutputReport::unchecked("not_json"),
            };
            let got = expect.check_bytes(bytes);
            assert_eq!(got, whole, "{}", String::from_utf8_lossy(bytes));
            *kinds.entry(got.status.as_str()).or_insert(0) += 1;
        }
        // The cases reach every verdict they are made for.
        for kind in ["valid", "invalid", "truncated", "unchecked"] {
            assert!(kinds.get(kind).is_some_and(|&n| n > 0), "{kind}: {kinds:?}");
        }
    }

    /// The answer read with only the keys `Run` reads built ([`Pruned`]) gives the verdict of
    /// the whole parse, for both APIs, on answers with every other field OpenAI sends, keys
    /// given twice below `choices` / `output`, values of the wrong type, and each way an output
    /// fails, is cut or is refused.
    #[test]
    fn pruned_outputs_judge_as_the_whole_parse() {
        let schema = serde_json::json!({"type": "object", "properties": {"n": {"type": "integer"}},
            "required": ["n"], "additionalProperties": false});
        let chat = serde_json::json!({"model": "gpt-4o", "messages": [],
            "response_format": {"type": "json_schema", "json_schema": {"name": "a", "strict": true, "schema": schema}},
            "tools": [{"type": "function", "function": {"name": "f", "parameters": schema}}]});
        let responses = serde_json::json!({"model": "gpt-4o", "input": "x",
            "text": {"format": {"type": "json_schema", "name": "a", "strict": true, "schema": schema}},
            "tools": [{"type": "function", "name": "f", "parameters": schema}]});
        let chat = Expectation::from_request("/v1/chat/completions", &chat).unwrap();
        let responses = Expectation::from_request("/v1/responses", &responses).unwrap();
        let good = r#""{\"n\": 1}""#;
        let bad = r#""{\"n\": \"x\"}""#;
        let mut chats = Vec::new();
        for c in [good, bad, r#""{""#, "null", "5", r#"["x"]"#] {
            for extra in [
                "",
                r#""index":0,"logprobs":null,"#,
                r#""message":{"content":"{}"},"#,
                r#""finish_reason":"length","#,
            ] {
                chats.push(format!(
                    r#"{{"choices":[{{{extra}"message":{{"role":"assistant","content":{c},"refusal":null,"annotations":[]}},"finish_reason":"stop"}}]}}"#
                ));
                chats.push(format!(
                    r#"{{"choices":[{{{extra}"message":{{"role":"assistant","content":null,"tool_calls":[{{"id":"c","type":"function","function":{{"name":"f","arguments":{c}}}}},{{"function":{{"arguments":{c},"name":"g"}}}}]}}}}]}}"#
                ));
            }
            chats.push(format!(
                r#"{{"choices":[{{"message":{{"content":{c},"content":{good}}}}},{{"message":{{"content":{c}}},"message":null}}]}}"#
            ));
        }
        for r in [
            r#"{"choices":[{"message":{"refusal":"no","content":null}}]}"#,
            r#"{"choices":[{"message":{"refusal":"","content":"{\"n\":1}"}}]}"#,
            r#"{"choices":[{"message":"x"},{"message":{"tool_calls":[5,{"function":7}]}}]}"#,
            r#"{"choices":[{"finish_reason":"length"}],"choices":[]}"#,
            r#"{"choices":[{"messages":{"content":"{}"}}]}"#,
            r#"{"choices":5,"output":[]}"#,
        ] {
            chats.push(String::from(r));
        }
        let mut outs = Vec::new();
        for c in [good, bad, r#""{""#, "null", "5"] {
            for extra in [
                "",
                r#""id":"msg_1","status":"completed","role":"assistant","#,
            ] {
                outs.push(format!(
                    r#"{{"object":"response","status":"completed","output":[{{{extra}"type":"message","content":[{{"type":"output_text","text":{c},"annotations":[],"logprobs":[]}}]}}]}}"#
                ));
                outs.push(format!(
                    r#"{{"output":[{{"type":"reasoning","summary":[]}},{{{extra}"type":"function_call","call_id":"c","name":"f","arguments":{c}}}]}}"#
                ));
            }
            outs.push(format!(
                r#"{{"output":[{{"type":"message","content":[{{"type":"refusal","refusal":"no"}},{{"type":"output_text","text":{c},"type":"output_text"}}]}}]}}"#
            ));
        }
        outs.push(String::from(
            r#"{"status":"incomplete","output":[{"type":"message","content":[{"type":"output_text","text":"{"}]}]}"#,
        ));
        outs.push(String::from(
            r#"{"output":[{"type":"function_call","name":"zz","arguments":"{}"}]}"#,
        ));
        outs.push(String::from(
            r#"{"output":{"type":"message"},"choices":[]}"#,
        ));
        let mut kinds = BTreeMap::new();
        for (expect, answers) in [(&chat, &chats), (&responses, &outs)] {
            for text in answers {
                let whole: Value = serde_json::from_str(text).unwrap();
                let got = expect.check_bytes(text.as_bytes());
                assert_eq!(got, expect.check(&whole), "{text}");
                *kinds.entry(got.status.as_str()).or_insert(0) += 1;
            }
        }
        for kind in ["valid", "invalid", "truncated", "refused", "unchecked"] {
            assert!(kinds.get(kind).is_some_and(|&n| n > 0), "{kind}: {kinds:?}");
        }
    }

    /// Moving the schemas out of the tree gives the expectation copying them gives, on every
    /// body of the request corpora and on both APIs.
    #[test]
    fn from_request_owned_is_from_request() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/requests");
        let mut dirs = alloc::vec![root];
        let mut some = 0;
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let Ok(body) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                for endpoint in ["/v1/chat/completions", "/v1/responses", "/v1/embeddings"] {
                    let copied = Expectation::from_request(endpoint, &body);
                    some += usize::from(copied.is_some());
                    let moved = Expectation::from_request_owned(endpoint, body.clone());
                    assert_eq!(moved, copied, "{} {endpoint}", path.display());
                }
            }
        }
        assert!(some >= 20, "only {some} corpus bodies asked for anything");
        // Two tools of one name (the later wins), a tool without parameters, a format that is
        // not `json_schema`.
        let body = serde_json::json!({"tools": [
            {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}},
            {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}},
            {"type": "function", "function": {"name": "g"}}, {"type": "custom", "function": {"name": "h", "parameters": {}}}],
            "response_format": {"type": "json_object", "json_schema": {"schema": {}}}});
        let copied = Expectation::from_request("/v1/chat/completions", &body).unwrap();
        assert_eq!(copied.tools.len(), 1);
        assert_eq!(
            copied.tools["f"],
            serde_json::json!({"type": "object", "properties": {}})
        );
        assert_eq!(
            Expectation::from_request_owned("/v1/chat/completions", body),
            Some(copied)
        );
    }

    #[test]
    fn contains_finds_a_needle_anywhere() {
        for (h, n, want) in [
            (&b"abc"[..], &b"abc"[..], true),
            (b"xxabc", b"abc", true),
            (b"ababc", b"abc", true),
            (b"abab", b"abc", false),
            (b"ab", b"abc", false),
            (b"", b"a", false),
            (b"\"parameters\":", b"\"parameters\"", true),
            (b"\"parameters:", b"\"parameters\"", false),
        ] {
            assert_eq!(super::contains(h, n), want, "{h:?} {n:?}");
            assert_eq!(h.windows(n.len()).any(|w| w == n), want, "{h:?} {n:?}");
        }
    }
}
