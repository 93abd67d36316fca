//! Endpoint parameter tables.
//!
//! Stage 1 reads OpenAI's OpenAPI spec (`../shared/data/openai-openapi.yaml`) and writes, per
//! endpoint, the top-level request parameters to `rules/endpoints/<name>.toml`: their JSON types
//! (several when the spec says `oneOf`/`anyOf`, plus `null` when nullable), closed enums, bounds,
//! array lengths, required and deprecated flags, each with its `source` in the spec. It also
//! extracts the spec's request examples into `tests/requests/spec_examples/`.
//!
//! Stage 2 turns `rules/endpoints/*.toml` into `crates/airlock-rules/src/generated/endpoints.rs`.
//!
//! Only top-level parameters are taken from the spec. Nested structures (messages, tools, input
//! items, formats) are hand-written rules in the rules crate: the spec's `oneOf`s are ambiguous
//! there and some response-side `required` lists are reused for requests.
#![allow(clippy::std_instead_of_alloc)] // xtask is a std binary

use core::fmt::Write as _;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{HEADER, Output};

/// The spec revision the data is read from (see `../shared/data/SOURCES.md`).
pub const SPEC_COMMIT: &str = "f85dbe223d40e1a31cba812ab2d755c7e98a92a3";

/// (file name, API path, spec path) of the endpoints modelled.
pub const ENDPOINTS: &[(&str, &str, &str)] = &[
    ("responses", "/v1/responses", "/responses"),
    (
        "chat_completions",
        "/v1/chat/completions",
        "/chat/completions",
    ),
    ("embeddings", "/v1/embeddings", "/embeddings"),
    (
        "images_generations",
        "/v1/images/generations",
        "/images/generations",
    ),
    ("images_edits", "/v1/images/edits", "/images/edits"),
    (
        "audio_transcriptions",
        "/v1/audio/transcriptions",
        "/audio/transcriptions",
    ),
    ("audio_speech", "/v1/audio/speech", "/audio/speech"),
    ("files", "/v1/files", "/files"),
    ("batches", "/v1/batches", "/batches"),
    ("completions", "/v1/completions", "/completions"),
    ("moderations", "/v1/moderations", "/moderations"),
    (
        "responses_input_tokens",
        "/v1/responses/input_tokens",
        "/responses/input_tokens",
    ), // JSON endpoints added for issue 12 (helper 12e); paths with `{…}` are templates: any one
    // segment (an id) matches there (`params::endpoint`). Enforcement per endpoint:
    // `rules/request_enforcement.toml`.
    (
        "responses_compact",
        "/v1/responses/compact",
        "/responses/compact",
    ),
    // Not `/v1/realtime/sessions`: the spec's request schema for it is the session object the API
    // answers with (`client_secret` required, no `model`), so it would warn on every real body.
    (
        "realtime_client_secrets",
        "/v1/realtime/client_secrets",
        "/realtime/client_secrets",
    ),
    (
        "realtime_transcription_sessions",
        "/v1/realtime/transcription_sessions",
        "/realtime/transcription_sessions",
    ),
    ("conversations", "/v1/conversations", "/conversations"),
    (
        "conversations_conversation",
        "/v1/conversations/{conversation_id}",
        "/conversations/{conversation_id}",
    ),
    (
        "conversations_conversation_items",
        "/v1/conversations/{conversation_id}/items",
        "/conversations/{conversation_id}/items",
    ),
    ("vector_stores", "/v1/vector_stores", "/vector_stores"),
    (
        "vector_stores_store",
        "/v1/vector_stores/{vector_store_id}",
        "/vector_stores/{vector_store_id}",
    ),
    (
        "vector_stores_store_files",
        "/v1/vector_stores/{vector_store_id}/files",
        "/vector_stores/{vector_store_id}/files",
    ),
    (
        "vector_stores_store_file_batches",
        "/v1/vector_stores/{vector_store_id}/file_batches",
        "/vector_stores/{vector_store_id}/file_batches",
    ),
    (
        "vector_stores_store_search",
        "/v1/vector_stores/{vector_store_id}/search",
        "/vector_stores/{vector_store_id}/search",
    ),
    (
        "fine_tuning_jobs",
        "/v1/fine_tuning/jobs",
        "/fine_tuning/jobs",
    ),
    ("uploads", "/v1/uploads", "/uploads"),
    (
        "uploads_upload_complete",
        "/v1/uploads/{upload_id}/complete",
        "/uploads/{upload_id}/complete",
    ),
    ("evals", "/v1/evals", "/evals"),
    ("containers", "/v1/containers", "/containers"),
    ("videos", "/v1/videos", "/videos"),
    ("assistants", "/v1/assistants", "/assistants"),
    (
        "assistants_assistant",
        "/v1/assistants/{assistant_id}",
        "/assistants/{assistant_id}",
    ),
    ("threads", "/v1/threads", "/threads"),
    ("threads_runs", "/v1/threads/runs", "/threads/runs"),
    (
        "threads_thread",
        "/v1/threads/{thread_id}",
        "/threads/{thread_id}",
    ),
    (
        "threads_thread_messages",
        "/v1/threads/{thread_id}/messages",
        "/threads/{thread_id}/messages",
    ),
    (
        "threads_thread_runs",
        "/v1/threads/{thread_id}/runs",
        "/threads/{thread_id}/runs",
    ),
    (
        "threads_thread_runs_run_submit_tool_outputs",
        "/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs",
        "/threads/{thread_id}/runs/{run_id}/submit_tool_outputs",
    ),
];

/// Models substituted for the spec examples' `VAR_…` placeholders.
const PLACEHOLDERS: &[(&str, &str)] = &[
    ("VAR_chat_model_id", "gpt-4.1"),
    ("VAR_completion_model_id", "gpt-3.5-turbo-instruct"),
    ("VAR_model_id", "gpt-4.1"),
];

/// Spec examples the real API refuses, left out of `tests/requests/spec_examples/` (file, example
/// name, and the 400 that proves it).
const WRONG_EXAMPLES: &[(&str, &str, &str)] = &[(
    "chat_completions",
    "1_image_input",
    "gpt-5.4 with max_tokens on Chat Completions: OpenAI answers 'Unsupported parameter: \
     'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.' \
     (decolua/9router#846, tests/requests/real_rejected/9router_gpt54_max_tokens.json; the same \
     for gpt-5.4-mini in nalgeon/pokitoki#53)",
)];

/// One endpoint's data file.
#[derive(Debug, Serialize, Deserialize)]
pub struct EndpointFile {
    /// The API path.
    pub endpoint: String,
    /// `application/json` or `multipart/form-data` (the body the JSON checks apply to, if any).
    pub content_type: String,
    /// True when the body may be JSON.
    pub json: bool,
    /// True when the body may be multipart/form-data.
    pub multipart: bool,
    /// True when the spec does not close the object (`additionalProperties` not false).
    pub open: bool,
    /// Where the request schema is in the spec.
    pub source: String,
    /// The top-level parameters.
    #[serde(rename = "param")]
    pub params: Vec<ParamRow>,
}

/// One top-level parameter.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ParamRow {
    pub name: String,
    /// JSON types accepted: string, number, integer, boolean, object, array, null; `any` when the
    /// spec does not say.
    pub types: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub deprecated: bool,
    /// Closed string enum (only when no alternative accepts any string).
    #[serde(default, rename = "enum", skip_serializing_if = "Vec::is_empty")]
    pub enum_values: Vec<String>,
    /// Closed enum of the items when the parameter is an array of strings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub item_enum: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    pub source: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Stage 1: the spec → `rules/endpoints/*.toml` and the spec's examples.
pub fn stage1(data: &Path) -> Result<Vec<Output>, String> {
    let spec = load_spec(&data.join("openai-openapi.yaml"))?;
    let mut outputs = Vec::new();
    for (file, api_path, spec_path) in ENDPOINTS {
        let op = spec
            .pointer(&format!("/paths/{}/post", escape(spec_path)))
            .ok_or_else(|| format!("spec has no POST {spec_path}"))?;
        let content = op
            .pointer("/requestBody/content")
            .and_then(Value::as_object)
            .ok_or_else(|| format!("POST {spec_path} has no request body"))?;
        let (content_type, media) = match content.get("application/json") {
            Some(m) => ("application/json", m),
            None => content
                .iter()
                .next()
                .map(|(k, v)| (k.as_str(), v))
                .ok_or("empty content")?,
        };
        let json = content.contains_key("application/json");
        let multipart = content.contains_key("multipart/form-data");
        let schema = media.get("schema").ok_or("no schema")?;
        let (reference, _) = deref(&spec, schema);
        let mut props = Props::default();
        collect(&spec, schema, &reference, &mut props, 0);
        let mut params = Vec::new();
        for (name, (schema, src)) in &props.properties {
            let mut alts = Vec::new();
            flatten(&spec, schema, &mut alts, 0);
            let mut row = summarize(name, &alts);
            row.required = props.required.contains(name);
            row.deprecated = is_deprecated(&spec, schema, 0);
            row.source = format!("openai-openapi.yaml@{SPEC_COMMIT}#{src}/properties/{name}");
            params.push(row);
        }
        let ef = EndpointFile {
            endpoint: (*api_path).to_string(),
            content_type: content_type.to_string(),
            json,
            multipart,
            open: !props.closed,
            source: format!("openai-openapi.yaml@{SPEC_COMMIT}#/paths/{spec_path}/post"),
            params,
        };
        let text = format!(
            "# Derived from OpenAI's OpenAPI spec by `cargo xtask codegen`; do not edit.\n\
             # Top-level request parameters of POST {api_path}.\n{}",
            toml::to_string(&ef).map_err(|e| e.to_string())?
        );
        outputs.push((PathBuf::from(format!("rules/endpoints/{file}.toml")), text));
        outputs.extend(examples(op, file, content)?);
    }
    Ok(outputs)
}

/// Reads the YAML spec as JSON values (map keys become strings).
pub(super) fn load_spec(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // serde_yaml cannot hold integers outside i64/u64 (the spec bounds `seed` by ±2^63 written out
    // in decimal); read those as floats.
    let text = text
        .replace(": -9223372036854776000", ": -9.223372036854776e18")
        .replace(": 9223372036854776000", ": 9.223372036854776e18");
    let y: serde_yaml::Value =
        serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(yaml_to_json(y))
}

fn yaml_to_json(y: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match y {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64().map(Value::from).unwrap_or(Value::Null)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(s) => Value::Array(s.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        other => serde_yaml::to_string(&other)
                            .unwrap_or_default()
                            .trim()
                            .to_string(),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(t) => yaml_to_json(t.value),
    }
}

fn escape(path: &str) -> String {
    path.replace('~', "~0").replace('/', "~1")
}

/// Follows `$ref`s; returns the last reference followed (or "") and the schema.
fn deref<'a>(spec: &'a Value, mut schema: &'a Value) -> (String, &'a Value) {
    let mut reference = String::new();
    for _ in 0..16 {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let ptr = r.trim_start_matches('#');
                match spec.pointer(ptr) {
                    Some(s) => {
                        reference = ptr.to_string();
                        schema = s;
                    }
                    None => break,
                }
            }
            None => break,
        }
    }
    (reference, schema)
}

#[derive(Default)]
struct Props<'a> {
    properties: BTreeMap<String, (&'a Value, String)>,
    required: BTreeSet<String>,
    closed: bool,
}

/// Collects an object's properties through `$ref` and `allOf`; later definitions win.
fn collect<'a>(spec: &'a Value, schema: &'a Value, src: &str, props: &mut Props<'a>, depth: u32) {
    if depth > 12 {
        return;
    }
    let (r, s) = deref(spec, schema);
    let src = if r.is_empty() { src.to_string() } else { r };
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        for (i, part) in all.iter().enumerate() {
            collect(spec, part, &format!("{src}/allOf/{i}"), props, depth + 1);
        }
    }
    if let Some(p) = s.get("properties").and_then(Value::as_object) {
        for (k, v) in p {
            props.properties.insert(k.clone(), (v, src.clone()));
        }
    }
    if let Some(req) = s.get("required").and_then(Value::as_array) {
        props
            .required
            .extend(req.iter().filter_map(Value::as_str).map(String::from));
    }
    if s.get("additionalProperties") == Some(&Value::Bool(false)) {
        props.closed = true;
    }
}

/// One alternative a value may take.
#[derive(Default, Debug)]
struct Alt {
    types: BTreeSet<String>,
    enum_values: Option<Vec<String>>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    max_length: Option<u64>,
    item_enum: Option<Vec<String>>,
}

const ALL_TYPES: &[&str] = &[
    "string", "number", "integer", "boolean", "object", "array", "null",
];

/// Flattens `$ref`, `anyOf`, `oneOf` and single-part `allOf` into alternatives.
fn flatten(spec: &Value, schema: &Value, alts: &mut Vec<Alt>, depth: u32) {
    if depth > 12 {
        alts.push(any_alt());
        return;
    }
    let (_, s) = deref(spec, schema);
    let mut branched = false;
    for key in ["anyOf", "oneOf"] {
        if let Some(list) = s.get(key).and_then(Value::as_array) {
            branched = true;
            for alt in list {
                flatten(spec, alt, alts, depth + 1);
            }
        }
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        // allOf of one schema (a `$ref` with a description) is that schema; allOf of several is an
        // object (the spec only combines objects this way).
        if all.len() == 1 && !branched {
            flatten(spec, &all[0], alts, depth + 1);
            return;
        }
        // allOf of one schema and modifiers only (`[{$ref}, {nullable: true}]`, the Assistants'
        // `tool_choice` and `truncation_strategy`) is that schema, plus null when a modifier says
        // nullable: not an object, or a string `tool_choice` would be refused.
        let modifier = |v: &Value| {
            v.as_object().is_some_and(|m| {
                m.keys()
                    .all(|k| matches!(k.as_str(), "nullable" | "description" | "title"))
            })
        };
        let substantive: Vec<&Value> = all.iter().filter(|v| !modifier(v)).collect();
        if let ([one], false) = (substantive.as_slice(), branched) {
            flatten(spec, one, alts, depth + 1);
            if all
                .iter()
                .any(|v| modifier(v) && v.get("nullable") == Some(&Value::Bool(true)))
            {
                let mut a = Alt::default();
                a.types.insert("null".into());
                alts.push(a);
            }
            return;
        }
        if !branched {
            let mut a = Alt::default();
            a.types.insert("object".into());
            alts.push(a);
            return;
        }
    }
    if branched {
        if s.get("nullable") == Some(&Value::Bool(true)) {
            let mut a = Alt::default();
            a.types.insert("null".into());
            alts.push(a);
        }
        return;
    }
    let mut a = Alt::default();
    match s.get("type") {
        Some(Value::String(t)) => {
            a.types.insert(t.clone());
        }
        Some(Value::Array(ts)) => {
            a.types
                .extend(ts.iter().filter_map(Value::as_str).map(String::from));
        }
        _ => {}
    }
    let enum_list = s
        .get("enum")
        .and_then(Value::as_array)
        .cloned()
        .or_else(|| s.get("const").map(|c| vec![c.clone()]));
    if let Some(list) = enum_list {
        let strings: Vec<String> = list
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect();
        if list.iter().any(Value::is_null) {
            a.types.insert("null".into());
        }
        if !strings.is_empty()
            && strings.len() + usize::from(list.iter().any(Value::is_null)) == list.len()
        {
            a.types.insert("string".into());
            a.enum_values = Some(strings);
        }
    }
    if a.types.is_empty() {
        if s.get("properties").is_some() {
            a.types.insert("object".into());
        } else if s.get("items").is_some() {
            a.types.insert("array".into());
        } else {
            alts.push(any_alt());
            return;
        }
    }
    if s.get("nullable") == Some(&Value::Bool(true)) {
        a.types.insert("null".into());
    }
    a.minimum = s.get("minimum").and_then(Value::as_f64);
    a.maximum = s.get("maximum").and_then(Value::as_f64);
    a.min_items = s.get("minItems").and_then(Value::as_u64);
    a.max_items = s.get("maxItems").and_then(Value::as_u64);
    a.max_length = s.get("maxLength").and_then(Value::as_u64);
    if let Some(items) = s.get("items") {
        let mut item_alts = Vec::new();
        flatten(spec, items, &mut item_alts, depth + 1);
        a.item_enum = closed_enum(&item_alts);
    }
    alts.push(a);
}

fn any_alt() -> Alt {
    let mut a = Alt::default();
    a.types.insert("any".into());
    a
}

/// The closed enum of alternatives: only when every alternative that accepts a string lists its
/// values (an `anyOf [string, enum]` is open: the enum documents values, it does not limit them).
fn closed_enum(alts: &[Alt]) -> Option<Vec<String>> {
    let mut values = Vec::new();
    let mut any_string = false;
    for a in alts {
        if a.types.contains("any") {
            return None;
        }
        if a.types.contains("string") {
            any_string = true;
            match &a.enum_values {
                Some(v) => values.extend(v.iter().cloned()),
                None => return None,
            }
        }
    }
    if !any_string {
        return None;
    }
    let mut seen = BTreeSet::new();
    values.retain(|v| seen.insert(v.clone()));
    Some(values)
}

fn summarize(name: &str, alts: &[Alt]) -> ParamRow {
    let mut row = ParamRow {
        name: name.to_string(),
        ..ParamRow::default()
    };
    let mut types: BTreeSet<String> = BTreeSet::new();
    for a in alts {
        types.extend(a.types.iter().cloned());
    }
    if types.contains("any") {
        row.types = vec!["any".into()];
    } else {
        row.types = ALL_TYPES
            .iter()
            .filter(|t| types.contains(**t))
            .map(|t| (*t).to_string())
            .collect();
    }
    row.enum_values = closed_enum(alts).unwrap_or_default();
    let numeric: Vec<&Alt> = alts
        .iter()
        .filter(|a| a.types.contains("number") || a.types.contains("integer"))
        .collect();
    if let [one] = numeric.as_slice() {
        row.minimum = one.minimum;
        row.maximum = one.maximum;
    }
    let arrays: Vec<&Alt> = alts.iter().filter(|a| a.types.contains("array")).collect();
    if let [one] = arrays.as_slice() {
        row.min_items = one.min_items;
        row.max_items = one.max_items;
        row.item_enum = one.item_enum.clone().unwrap_or_default();
    }
    let strings: Vec<&Alt> = alts.iter().filter(|a| a.types.contains("string")).collect();
    if let [one] = strings.as_slice() {
        row.max_length = one.max_length;
    }
    row
}

fn is_deprecated(spec: &Value, schema: &Value, depth: u32) -> bool {
    if depth > 4 {
        return false;
    }
    if schema.get("deprecated") == Some(&Value::Bool(true)) {
        return true;
    }
    let (r, s) = deref(spec, schema);
    !r.is_empty() && s.get("deprecated") == Some(&Value::Bool(true))
}

/// The JSON request examples of one endpoint: curl `-d '{…}'` bodies in `x-oaiMeta` and the
/// request body's own `examples`.
fn examples(
    op: &Value,
    file: &str,
    content: &serde_json::Map<String, Value>,
) -> Result<Vec<Output>, String> {
    let mut bodies: Vec<(String, Value)> = Vec::new();
    let list: Vec<&Value> = match op.pointer("/x-oaiMeta/examples") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    };
    for (i, ex) in list.iter().enumerate() {
        let Some(curl) = ex.pointer("/request/curl").and_then(Value::as_str) else {
            continue;
        };
        let Some(start) = curl.find("-d '") else {
            continue;
        };
        let rest = &curl[start + 4..];
        let Some(end) = rest.find("}'") else {
            continue;
        };
        let mut body = rest[..=end].to_string();
        for (var, model) in PLACEHOLDERS {
            body = body.replace(var, model);
        }
        if let Ok(v) = serde_json::from_str::<Value>(&body) {
            let title = ex.get("title").and_then(Value::as_str).unwrap_or("default");
            bodies.push((format!("{i}_{}", slug(title)), v));
        }
    }
    if let Some(Value::Object(exs)) = content
        .get("application/json")
        .and_then(|m| m.get("examples"))
    {
        for (name, ex) in exs {
            if let Some(v) = ex.get("value") {
                bodies.push((format!("body_{}", slug(name)), v.clone()));
            }
        }
    }
    let mut out = Vec::new();
    for (name, v) in bodies {
        if WRONG_EXAMPLES
            .iter()
            .any(|(f, n, _)| *f == file && *n == name)
        {
            continue;
        }
        let text = serde_json::to_string_pretty(&v).map_err(|e| e.to_string())? + "\n";
        out.push((
            PathBuf::from(format!("tests/requests/spec_examples/{file}__{name}.json")),
            text,
        ));
    }
    Ok(out)
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// Stage 2: `rules/endpoints/*.toml` → `generated/endpoints.rs`.
pub fn stage2(so_far: &[Output]) -> Result<Vec<Output>, String> {
    let mut out = String::from(HEADER);
    out.push_str(
        "//! Top-level request parameters per endpoint, from `rules/endpoints/*.toml`.\n\n\
         use crate::validate::tables::{Endpoint, Param, T_ANY, T_ARRAY, T_BOOLEAN, T_INTEGER, T_NULL, T_NUMBER, T_OBJECT, T_STRING};\n\n\
         /// The endpoints modelled, with their top-level parameters sorted by name.\n\
         pub(crate) static ENDPOINTS: &[Endpoint] = &[\n",
    );
    let enforcement = read_enforcement()?;
    for (file, _, _) in ENDPOINTS {
        let rel = format!("rules/endpoints/{file}.toml");
        let text = super::read_rule(so_far, &rel)?;
        let ef: EndpointFile = toml::from_str(&text).map_err(|e| format!("{rel}: {e}"))?;
        let report_only = enforcement.iter().any(|e| e.file == *file && !e.enforce);
        let _ = writeln!(
            out,
            "    Endpoint {{\n        path: {:?},\n        json: {},\n        multipart: {},\n        open: {},\n        report_only: {},\n        params: &[",
            ef.endpoint, ef.json, ef.multipart, ef.open, report_only
        );
        let mut params = ef.params;
        params.sort_by(|a, b| a.name.cmp(&b.name));
        for p in &params {
            let types = if p.types.iter().any(|t| t == "any") {
                "T_ANY".to_string()
            } else {
                p.types
                    .iter()
                    .map(|t| format!("T_{}", t.to_uppercase()))
                    .collect::<Vec<_>>()
                    .join(" | ")
            };
            let _ = writeln!(
                out,
                "            Param {{ name: {:?}, types: {}, required: {}, deprecated: {}, enum_values: &{:?}, item_enum: &{:?}, minimum: {}, maximum: {}, min_items: {}, max_items: {}, max_length: {} }},",
                p.name,
                if types.is_empty() {
                    "T_ANY".to_string()
                } else {
                    types
                },
                p.required,
                p.deprecated,
                p.enum_values,
                p.item_enum,
                opt_f64(p.minimum),
                opt_f64(p.maximum),
                opt_u64(p.min_items),
                opt_u64(p.max_items),
                opt_u64(p.max_length),
            );
        }
        out.push_str("        ],\n    },\n");
    }
    out.push_str("];\n");
    Ok(vec![(
        PathBuf::from("crates/airlock-rules/src/generated/endpoints.rs"),
        out,
    )])
}

/// `rules/request_enforcement.toml`: whether an endpoint's findings may refuse a request.
#[derive(Debug, Deserialize)]
struct EnforcementFile {
    #[serde(rename = "endpoint")]
    endpoints: Vec<Enforcement>,
}

/// One endpoint's enforcement setting, with its evidence.
#[derive(Debug, Deserialize)]
struct Enforcement {
    /// The file name of the endpoint (as in [`ENDPOINTS`]).
    file: String,
    /// False: every finding on this endpoint is only a warning (report-only).
    enforce: bool,
    /// Why (the recorded accepted bodies that pass, or their absence).
    #[allow(dead_code)] // documentation, required in the file
    reason: String,
}

const ENFORCEMENT: &str = "rules/request_enforcement.toml";

/// Reads the enforcement settings; an endpoint the file does not list is enforced (the endpoints
/// modelled before it existed), an entry naming no endpoint is an error.
fn read_enforcement() -> Result<Vec<Enforcement>, String> {
    let text = super::read_rule(&[], ENFORCEMENT)?;
    let file: EnforcementFile = toml::from_str(&text).map_err(|e| format!("{ENFORCEMENT}: {e}"))?;
    for e in &file.endpoints {
        if !ENDPOINTS.iter().any(|(f, _, _)| *f == e.file) {
            return Err(format!("{ENFORCEMENT}: no endpoint '{}'", e.file));
        }
    }
    Ok(file.endpoints)
}

fn opt_f64(v: Option<f64>) -> String {
    match v {
        Some(f) => format!("Some({f:?})"),
        None => "None".into(),
    }
}

fn opt_u64(v: Option<u64>) -> String {
    match v {
        Some(n) => format!("Some({n})"),
        None => "None".into(),
    }
}
