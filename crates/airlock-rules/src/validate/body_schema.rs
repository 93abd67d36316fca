//! The whole body against OpenAI's request schema (rules `request_schema` and
//! `request_schema_hint`), with the `jsonschema` crate.
//!
//! The schemas are lowered from the OpenAPI spec by `cargo xtask codegen` (see
//! `xtask/src/codegen/request_schema.rs`) with the overrides of `rules/request_overrides.toml`
//! applied, and compiled once per endpoint on first use. Each failure is worded as OpenAI words it,
//! with OpenAI's `param` path (`messages[1].content[0].type`):
//!
//! | failure | code | message |
//! |---|---|---|
//! | type | `invalid_type` | `Invalid type for 'X': expected …, but got … instead.` |
//! | enum / const | `invalid_value` | `Invalid value: 'v'. Supported values are: 'a', 'b', and 'c'.` |
//! | required | `missing_required_parameter` | `Missing required parameter: 'X'.` |
//! | closed object | `unknown_parameter` | `Unknown parameter: 'X'.` |
//! | lengths, bounds | `empty_array`, `string_above_max_length`, `integer_below_min_value`, … | `Invalid 'X': …` |
//!
//! What the schema cannot say for certain only warns (`request_schema_hint`): a key an object
//! does not list (unless the override file closes that object with evidence), a value outside an
//! enum marked open, a string against a `pattern`, a value that fits no branch of an undiscriminated
//! union. Top-level parameters are left to `params` (which knows which endpoints refuse unknown
//! ones); this module reports from one level down, and never where another rule already reported
//! the same place or a place above it.
//!
//! Without the `jsonschema` feature (the no_std build) this check does not run.

#[cfg(feature = "jsonschema")]
use alloc::string::String;

use serde_json::Value;

use super::Ctx;

/// The most findings this check adds to one verdict.
#[cfg(feature = "jsonschema")]
const MAX_FINDINGS: usize = 20;

/// The most validator failures read and worded for one body (the rest are not looked at).
#[cfg(feature = "jsonschema")]
const MAX_FAILURES_READ: usize = 256;

/// Runs the check on a parsed body for `endpoint` (an API path such as `/v1/chat/completions`).
#[cfg(feature = "jsonschema")]
pub(super) fn check(ctx: &mut Ctx<'_>, endpoint: &str, body: &Value) {
    if !ctx.enabled("request_schema")
        && !ctx.enabled("request_schema_hint")
        && !ctx.enabled("unverified_value")
    {
        return;
    }
    let body_in = body;
    let narrowed;
    let body = match narrow(endpoint, body) {
        Narrow::Nothing => return,
        Narrow::Whole => body,
        Narrow::Only(rest) => {
            narrowed = rest;
            &narrowed
        }
    };
    let Some((validator, doc)) = imp::validator(endpoint) else {
        return;
    };
    // A stand-in seen valid before (issue 17: the isolate's `SchemaLintCache`) has no findings.
    let miss = match ctx.lints.as_deref_mut() {
        Some(cache) if !core::ptr::eq(body, body_in) => match cache.find_valid(endpoint, body) {
            Ok(()) => return,
            Err(miss) => Some(miss),
        },
        _ => None,
    };
    let mut found = imp::failures(validator, doc, body);
    if let (true, Some(miss), Some(cache)) = (found.is_empty(), miss, ctx.lints.as_deref_mut()) {
        cache.insert_valid(miss, endpoint, body);
    }
    found.sort_by(|a, b| a.key.cmp(&b.key).then(b.certain.cmp(&a.certain)));
    let mut kept: alloc::vec::Vec<String> = alloc::vec::Vec::new();
    let mut added = 0;
    for f in found {
        if added >= MAX_FINDINGS || ctx.full() {
            break;
        }
        let param = f.param.as_str();
        let reported = |p: &str| covers(p, param);
        if kept.iter().any(|k| reported(k))
            || ctx.verdict.errors.iter().any(|x| {
                x.error
                    .param
                    .as_deref()
                    .is_some_and(|p| reported(&normalize(p)))
            })
        {
            continue;
        }
        if f.unverified {
            ctx.warn("unverified_value", f.code, Some(f.param.clone()), f.message);
        } else if f.certain {
            ctx.reject("request_schema", f.code, Some(f.param.clone()), f.message);
        } else {
            ctx.warn(
                "request_schema_hint",
                f.code,
                Some(f.param.clone()),
                f.message,
            );
        }
        kept.push(f.param);
        added += 1;
    }
}

/// Without the `jsonschema` crate there is no whole-body check.
#[cfg(not(feature = "jsonschema"))]
pub(super) fn check(_ctx: &mut Ctx<'_>, _endpoint: &str, _body: &Value) {}

/// OpenAI's bound on a message's string content (gptscript-ai/clio#41), as in the `max_length`
/// overrides of rules/request_overrides.toml.
#[cfg(feature = "jsonschema")]
const CONTENT_MAX_CHARS: usize = 1_048_576;

/// What of a body the validator needs to see.
#[cfg(feature = "jsonschema")]
enum Narrow {
    /// Nothing: the schema cannot fault it below the top level.
    Nothing,
    /// The whole body.
    Whole,
    /// Only this stand-in: the body with its plain `messages` replaced by one plain message.
    Only(Value),
}

/// For a Chat Completions body whose `messages` are all plain (each an object with only `role`:
/// system, developer, user or assistant, a string `content` and a string `name`), the
/// validator walks only the rest:
/// - nothing, when no other top-level value is an object or an array (the most common body of
///   all; [`plain_chat`]), a plain `response_format` aside ([`plain_response_format`]);
/// - otherwise (a `response_format`, `tools`, `stop` list…) a stand-in: the body's other values
///   and one plain message (issue 17: a strict 2 KB request spent most of its schema check
///   walking its messages).
///
/// The findings are the same: the chat request schema's root has no keyword that relates its
/// properties (only `type`, `required` and a closed `additionalProperties`, checked by
/// `narrowing_keeps_the_root_plain`), nothing is reported at the top level, and a plain message
/// has no failure below it (`plain_chat_agrees_with_the_validator`); so each top-level value's
/// failures are its own, and the messages have none. `narrowed_agrees_with_the_whole_body`
/// compares the two on every corpus body.
#[cfg(feature = "jsonschema")]
fn narrow(endpoint: &str, body: &Value) -> Narrow {
    if endpoint == "/v1/responses" {
        return narrow_responses(body);
    }
    if endpoint != "/v1/chat/completions" {
        return Narrow::Whole;
    }
    let Some(obj) = body.as_object() else {
        return Narrow::Whole;
    };
    let Some(Value::Array(messages)) = obj.get("messages") else {
        return Narrow::Whole;
    };
    if !messages.iter().all(plain_message) {
        return Narrow::Whole;
    }
    let nested = |(k, v): (&alloc::string::String, &Value)| {
        k != "messages"
            && matches!(v, Value::Object(_) | Value::Array(_))
            && !(k == "response_format" && plain_response_format(v))
    };
    if !obj.iter().any(nested) {
        return Narrow::Nothing;
    }
    let mut rest = serde_json::Map::new();
    for (k, v) in obj {
        if k == "messages" {
            rest.insert(
                k.clone(),
                serde_json::json!([{"role": "user", "content": ""}]),
            );
        } else {
            rest.insert(k.clone(), hollow(FREE_FORM, k, v));
        }
    }
    Narrow::Only(Value::Object(rest))
}

/// [`narrow`] for a Responses body (issue 17): one whose `input` is a list of plain messages
/// ([`plain_input_item`]) is validated as a stand-in with one plain message in their place,
/// its free-form schemas ([`FREE_FORM_RESPONSES`]) copied as `{}`. Sound for the reasons the
/// Chat narrowing is (the Responses root is checked by `narrowing_keeps_the_root_plain` too);
/// `narrowed_agrees_with_the_whole_body` compares the two on every corpus body.
#[cfg(feature = "jsonschema")]
fn narrow_responses(body: &Value) -> Narrow {
    let Some(obj) = body.as_object() else {
        return Narrow::Whole;
    };
    let Some(Value::Array(items)) = obj.get("input") else {
        return Narrow::Whole;
    };
    if items.is_empty() || !items.iter().all(plain_input_item) {
        return Narrow::Whole;
    }
    let mut rest = serde_json::Map::new();
    for (k, v) in obj {
        let v = if k == "input" {
            serde_json::json!([{"role": "user", "content": ""}])
        } else {
            hollow(FREE_FORM_RESPONSES, k, v)
        };
        rest.insert(k.clone(), v);
    }
    Narrow::Only(Value::Object(rest))
}

/// One plain Responses input item: an object with only `role` (user, assistant, system or
/// developer) and a string `content`, no `type` (the schema's "no type" branch, an easy
/// message, which bounds neither).
#[cfg(feature = "jsonschema")]
fn plain_input_item(m: &Value) -> bool {
    m.as_object().is_some_and(|m| {
        m.len() == 2
            && matches!(
                m.get("role").and_then(Value::as_str),
                Some("user" | "assistant" | "system" | "developer")
            )
            && m.get("content").is_some_and(Value::is_string)
    })
}

/// Where a Chat body holds a schema of its own that the request schema takes as any object
/// (`ResponseFormatJsonSchemaSchema` and `FunctionParameters` are `{"type": "object"}`,
/// checked by `free_form_schemas_stay_free_form`): `*` is each element of an array.
#[cfg(feature = "jsonschema")]
const FREE_FORM: &[(&str, &[&str])] = &[
    ("response_format", &["json_schema", "schema"]),
    ("tools", &["*function", "function", "parameters"]),
    ("functions", &["*", "parameters"]),
];

/// [`FREE_FORM`] for Responses: `ResponseFormatJsonSchemaSchema` and a function tool's
/// `parameters` (`{"type": ["object", "null"]}` when not null).
#[cfg(feature = "jsonschema")]
const FREE_FORM_RESPONSES: &[(&str, &[&str])] = &[
    ("text", &["format", "schema"]),
    ("tools", &["*function", "parameters"]),
];

/// `v` (the body's value under `key`) for the stand-in: a copy, except that a free-form schema
/// object ([`FREE_FORM`]) is copied as `{}`, which the validator judges the same (issue 17: the
/// strict schema was copied whole only to be checked for being an object).
/// `*function` is each element whose `type` is `function` (the others copied whole).
#[cfg(feature = "jsonschema")]
fn hollow(table: &[(&str, &[&str])], key: &str, v: &Value) -> Value {
    match table.iter().find(|(k, _)| *k == key) {
        Some((_, path)) => hollow_at(v, path),
        None => v.clone(),
    }
}

#[cfg(feature = "jsonschema")]
fn hollow_at(v: &Value, path: &[&str]) -> Value {
    match (path.split_first(), v) {
        (None, Value::Object(_)) => Value::Object(serde_json::Map::new()),
        (Some((&"*", rest)), Value::Array(items)) => {
            Value::Array(items.iter().map(|i| hollow_at(i, rest)).collect())
        }
        (Some((&"*function", rest)), Value::Array(items)) => Value::Array(
            items
                .iter()
                .map(|i| match i.get("type").and_then(Value::as_str) {
                    Some("function") => hollow_at(i, rest),
                    _ => i.clone(),
                })
                .collect(),
        ),
        (Some((&step, rest)), Value::Object(map)) => Value::Object(
            map.iter()
                .map(|(k, x)| {
                    let x = if k == step {
                        hollow_at(x, rest)
                    } else {
                        x.clone()
                    };
                    (k.clone(), x)
                })
                .collect(),
        ),
        _ => v.clone(),
    }
}

/// One plain Chat message: an object with only `role` (system, developer, user or assistant), a
/// string `content` of at most [`CONTENT_MAX_CHARS`] bytes and a string `name`.
#[cfg(feature = "jsonschema")]
fn plain_message(m: &Value) -> bool {
    m.as_object().is_some_and(|m| {
        m.iter().all(|(k, v)| match k.as_str() {
            "role" => matches!(
                v.as_str(),
                Some("system" | "developer" | "user" | "assistant")
            ),
            "name" => v.is_string(),
            // A content of more bytes than OpenAI's 1 048 576-character bound may be too long
            // (`max_length` overrides): the validator counts its characters.
            "content" => v.as_str().is_some_and(|s| s.len() <= CONTENT_MAX_CHARS),
            _ => false,
        }) && m.contains_key("role")
            && m.contains_key("content")
    })
}

/// A Chat `response_format` the request schema cannot fault (issue 17: the strict request's
/// commonest shape then skips the validator, as a plain body does): `{"type": "text"}`,
/// `{"type": "json_object"}`, or `{"type": "json_schema", "json_schema": {…}}` whose
/// `json_schema` has a string `name` and besides it only `description` (a string or null),
/// `schema` (an object or null: the schema itself is free-form, `ResponseFormatJsonSchemaSchema`)
/// and `strict` (a boolean or null). The strict lints read the schema elsewhere; this is only
/// the request schema's view. `response_format_shortcut_agrees_with_the_validator` holds it to
/// the generated schema.
#[cfg(feature = "jsonschema")]
fn plain_response_format(v: &Value) -> bool {
    let Some(format) = v.as_object() else {
        return false;
    };
    match (format.get("type").and_then(Value::as_str), format.len()) {
        (Some("text" | "json_object"), 1) => true,
        (Some("json_schema"), 2) => format
            .get("json_schema")
            .and_then(Value::as_object)
            .is_some_and(|js| {
                js.get("name").is_some_and(Value::is_string)
                    && js.iter().all(|(k, v)| match k.as_str() {
                        "name" => true,
                        "description" => v.is_string() || v.is_null(),
                        "schema" => v.is_object() || v.is_null(),
                        "strict" => v.is_boolean() || v.is_null(),
                        _ => false,
                    })
            }),
        _ => false,
    }
}

/// True for the most common body of all, which the schema cannot fault below the top level: a
/// Chat Completions request whose only nested value is `messages`, each message plain
/// ([`plain_message`]). Such a body skips the general validator (a few comparisons instead of a
/// walk of the schema); `plain_chat_agrees_with_the_validator` checks the two agree on every
/// corpus body.
#[cfg(all(test, feature = "jsonschema"))]
fn plain_chat(endpoint: &str, body: &Value) -> bool {
    matches!(narrow(endpoint, body), Narrow::Nothing)
}

/// `messages.[0].role` (an older wording of OpenAI's) as `messages[0].role`.
#[cfg(feature = "jsonschema")]
fn normalize(param: &str) -> String {
    param.replace(".[", "[")
}

/// True when a finding at `above` already covers `param`: the same place or a place above it.
#[cfg(feature = "jsonschema")]
fn covers(above: &str, param: &str) -> bool {
    match param.strip_prefix(above) {
        Some(rest) => rest.is_empty() || rest.starts_with('.') || rest.starts_with('['),
        None => false,
    }
}

#[cfg(feature = "jsonschema")]
mod imp {
    use alloc::format;
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;
    use std::sync::OnceLock;

    use jsonschema::error::{TypeKind, ValidationErrorKind};
    use jsonschema::{JsonType, ValidationError, Validator};
    use serde_json::Value;

    use super::super::params::{expected, got};
    use super::super::tables::{T_ARRAY, T_BOOLEAN, T_INTEGER, T_NUMBER, T_OBJECT, T_STRING};
    use super::super::text::{fmt_limit, fmt_number, quote_list};
    use crate::generated::request_schemas::SCHEMAS;

    const N: usize = SCHEMAS.len();

    /// One compiled validator per endpoint, built on first use (`None`: the schema did not
    /// compile, which a test rules out).
    static VALIDATORS: [OnceLock<Option<(Validator, Value)>>; N] = [const { OnceLock::new() }; N];

    /// The compiled validator of an endpoint and its schema document (read for the `x-airlock`
    /// notes of a failing node).
    pub(super) fn validator(endpoint: &str) -> Option<&'static (Validator, Value)> {
        let i = SCHEMAS.iter().position(|(path, _)| *path == endpoint)?;
        VALIDATORS
            .get(i)?
            .get_or_init(|| {
                let (_, text) = SCHEMAS.get(i)?;
                let schema: Value = serde_json::from_str(text).ok()?;
                let validator = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .should_validate_formats(false)
                    .build(&schema)
                    .ok()?;
                Some((validator, schema))
            })
            .as_ref()
    }

    /// The first failures of `body` ([`MAX_FAILURES_READ`](super::MAX_FAILURES_READ)), worded;
    /// none for a valid body.
    pub(super) fn failures(validator: &Validator, doc: &Value, body: &Value) -> Vec<Found> {
        if validator.is_valid(body) {
            return Vec::new();
        }
        // A body can fail in as many places as it has values (400k, `bounds::json_nodes`); the
        // first failures the validator meets are enough to report, so the work stays bounded.
        validator
            .iter_errors(body)
            .take(super::MAX_FAILURES_READ)
            .filter_map(|e| translate(&e, body, doc))
            .collect()
    }

    /// A failure, worded.
    pub(super) struct Found {
        /// Sort key: the path with array indices zero-padded, so findings come in body order.
        pub(super) key: String,
        pub(super) certain: bool,
        /// A value a `warn_values` override marks: OpenAI's type check takes it, but no recorded
        /// answer shows what happens after it (rule `unverified_value`, always a warning).
        pub(super) unverified: bool,
        pub(super) code: &'static str,
        pub(super) param: String,
        pub(super) message: String,
    }

    /// The path of a JSON pointer in OpenAI's syntax (`messages[1].content[0]`), read against
    /// the body so that an object key made of digits stays a key; and its sort key.
    fn param_of(pointer: &str, body: &Value) -> (String, String, usize) {
        let mut param = String::new();
        let mut key = String::new();
        let mut depth = 0;
        let mut at = Some(body);
        for raw in pointer.split('/').skip(1) {
            let seg = raw.replace("~1", "/").replace("~0", "~");
            depth += 1;
            match at {
                Some(Value::Array(items)) => {
                    let i: usize = seg.parse().unwrap_or(0);
                    param.push('[');
                    param.push_str(&seg);
                    param.push(']');
                    key.push_str(&format!("/{i:08}"));
                    at = items.get(i);
                }
                other => {
                    if !param.is_empty() {
                        param.push('.');
                    }
                    param.push_str(&seg);
                    key.push('/');
                    key.push_str(&seg);
                    at = other.and_then(|v| v.get(&seg));
                }
            }
        }
        (param, key, depth)
    }

    fn bits(t: JsonType) -> u8 {
        match t {
            JsonType::Array => T_ARRAY,
            JsonType::Boolean => T_BOOLEAN,
            JsonType::Integer => T_INTEGER,
            JsonType::Number => T_NUMBER | T_INTEGER,
            JsonType::Object => T_OBJECT,
            JsonType::String => T_STRING,
            JsonType::Null => 0,
        }
    }

    fn child(param: &str, key: &str) -> String {
        if param.is_empty() {
            String::from(key)
        } else {
            format!("{param}.{key}")
        }
    }

    /// The value as OpenAI quotes it in `Invalid value: …`.
    fn quoted(v: &Value) -> String {
        match v {
            Value::String(s) => format!("'{s}'"),
            other => other.to_string(),
        }
    }

    fn strings(options: &Value) -> Vec<&str> {
        options
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// The `x-airlock` note of the schema node whose keyword failed: `warn` (only a warning) or
    /// `object` (OpenAI names the object, not the key: `input[2].output[0]`).
    fn note<'d>(e: &ValidationError<'_>, doc: &'d Value) -> Option<&'d str> {
        let path = e.schema_path().as_str();
        let node = path.rsplit_once('/').map_or("", |(node, _)| node);
        doc.pointer(node)?.get("x-airlock")?.as_str()
    }

    /// Whether the schema node whose `enum` failed is a one-value constant of the spec
    /// (`x-airlock-const`, from `x-stainless-const`): OpenAI answers "Value must be 'X'." there.
    fn constant(e: &ValidationError<'_>, doc: &Value) -> bool {
        let path = e.schema_path().as_str();
        let node = path.rsplit_once('/').map_or("", |(node, _)| node);
        doc.pointer(node)
            .and_then(|n| n.get("x-airlock-const"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// Whether the schema node whose `enum` failed lists `v` in its `x-airlock-warn` note (a
    /// `warn_values` override).
    fn unverified(e: &ValidationError<'_>, doc: &Value, v: &str) -> bool {
        let path = e.schema_path().as_str();
        let node = path.rsplit_once('/').map_or("", |(node, _)| node);
        doc.pointer(node)
            .and_then(|n| n.get("x-airlock-warn"))
            .and_then(Value::as_array)
            .is_some_and(|list| list.iter().any(|x| x.as_str() == Some(v)))
    }

    /// Within one object, the order OpenAI reports in: a `type` outside the union first (no branch
    /// applies, so the object's other keys are not judged: a tool message's `{"type": "file",
    /// "file": …}` part was answered "Invalid value: 'file'. …", not "Unknown parameter: '….file'.",
    /// epam/ai-dial-adapter-openai#434), then an unknown key, then a `type` of the wrong JSON
    /// type, then the rest (by key).
    fn ranked(key: &str, rank: char) -> String {
        let (parent, own) = key.rsplit_once('/').unwrap_or(("", key));
        format!("{parent}/{rank}{own}")
    }

    pub(super) fn translate(e: &ValidationError<'_>, body: &Value, doc: &Value) -> Option<Found> {
        let (mut param, raw_key, depth) = param_of(e.instance_path().as_str(), body);
        let key = if raw_key.ends_with("/type") {
            ranked(&raw_key, '1')
        } else {
            ranked(&raw_key, '2')
        };
        let note = note(e, doc);
        if note == Some("object") {
            if let Some(cut) = param.rfind('.') {
                param.truncate(cut);
            }
        }
        let soft = note == Some("warn");
        let instance: &Value = e.instance();
        // A `type` whose value is outside the union (see `ranked`); and any enum OpenAI names at
        // the object holding it (a `report_on_object` override: a Responses message item's `role`
        // 'tool' was answered at `input[3]` before its `tool_call_id` was judged,
        // openai/openai-python#2677), for the same reason: no branch applies.
        let key = if (raw_key.ends_with("/type") || note == Some("object"))
            && e.instance().is_string()
            && matches!(
                e.kind(),
                ValidationErrorKind::Enum { .. } | ValidationErrorKind::Constant { .. }
            ) {
            ranked(&raw_key, '!')
        } else {
            key
        };
        // A value a `warn_values` override names: it passes, with a warning at the value itself.
        if let (ValidationErrorKind::Enum { .. }, Some(v)) = (e.kind(), e.instance().as_str()) {
            if unverified(e, doc, v) {
                let (at, _, _) = param_of(e.instance_path().as_str(), body);
                let message = format!(
                    "OpenAI's type check takes '{v}' at '{at}', but no recorded answer shows what the API does with it after that check; it may still be refused."
                );
                return Some(Found {
                    key,
                    certain: false,
                    unverified: true,
                    code: "unverified_value",
                    param: at,
                    message,
                });
            }
        }
        let found = |certain: bool, code: &'static str, param: String, message: String| Found {
            key: key.clone(),
            unverified: false,
            certain: certain && !soft,
            code,
            param,
            message,
        };
        let out = match e.kind() {
            ValidationErrorKind::Type { kind } => {
                let types = match kind {
                    TypeKind::Single(t) => bits(*t),
                    TypeKind::Multiple(set) => set.iter().map(bits).fold(0, |a, b| a | b),
                };
                // OpenAI names an image's URL by what it is, not by its JSON type: "Invalid type
                // for 'input[2].content[0].image_url': expected an image URL, but got an object
                // instead." (0xPlaygrounds/rig#879). That is Responses' `image_url`, a string (the
                // spec's `format: uri`, which the lowered schema does not keep); Chat's
                // `image_url` is an object and keeps the JSON type's name.
                let url_string = types == bits(JsonType::String);
                // A message's content: "expected one of a string or array of objects" (a null
                // developer content in the direct-API probes of gpt-5.6-terra, as the other
                // content types are worded in `conversation`).
                let content = types == (bits(JsonType::String) | bits(JsonType::Array))
                    && param.starts_with("messages[")
                    && param.ends_with("].content");
                // A Chat message's tool calls: "expected an array of objects" (the same probes),
                // as Chat names `messages` and `tools` in `params`.
                let tool_calls = types == bits(JsonType::Array)
                    && param.starts_with("messages[")
                    && param.ends_with("].tool_calls");
                let wanted = if url_string && param.ends_with("image_url") {
                    String::from("an image URL")
                } else if content {
                    String::from("one of a string or array of objects")
                } else if tool_calls {
                    String::from("an array of objects")
                } else {
                    expected(types)
                };
                let message = format!(
                    "Invalid type for '{param}': expected {wanted}, but got {} instead.",
                    got(instance)
                );
                found(true, "invalid_type", param, message)
            }
            ValidationErrorKind::Enum { options } => {
                let list = strings(options);
                if !instance.is_string() && !list.is_empty() {
                    let message = format!(
                        "Invalid type for '{param}': expected a string, but got {} instead.",
                        got(instance)
                    );
                    found(true, "invalid_type", param, message)
                } else if list.len() == 1 && constant(e, doc) {
                    let message = format!(
                        "Invalid value: {}. Value must be {}.",
                        quoted(instance),
                        quote_list(&list)
                    );
                    found(true, "invalid_value", param, message)
                } else {
                    let message = format!(
                        "Invalid value: {}. Supported values are: {}.",
                        quoted(instance),
                        quote_list(&list)
                    );
                    found(true, "invalid_value", param, message)
                }
            }
            ValidationErrorKind::Constant { expected_value } => {
                let list: Vec<&str> = expected_value.as_str().into_iter().collect();
                let message = format!(
                    "Invalid value: {}. Supported values are: {}.",
                    quoted(instance),
                    quote_list(&list)
                );
                found(true, "invalid_value", param, message)
            }
            ValidationErrorKind::Required { property } => {
                let name = child(&param, property.as_str().unwrap_or_default());
                let message = format!("Missing required parameter: '{name}'.");
                return (depth >= 1).then(|| Found {
                    key: format!("{raw_key}/2{}", property.as_str().unwrap_or_default()),
                    certain: true,
                    unverified: false,
                    code: "missing_required_parameter",
                    param: name,
                    message,
                });
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let name = child(&param, unexpected.first()?);
                let message = format!("Unknown parameter: '{name}'.");
                return (depth >= 1).then(|| Found {
                    key: format!(
                        "{raw_key}/0{}",
                        unexpected.first().map_or("", String::as_str)
                    ),
                    certain: true,
                    unverified: false,
                    code: "unknown_parameter",
                    param: name,
                    message,
                });
            }
            ValidationErrorKind::Not { .. } | ValidationErrorKind::FalseSchema => {
                let message = format!(
                    "Unknown parameter: '{param}'. OpenAI's API reference does not list it here; the API may reject it or ignore it."
                );
                found(false, "unknown_parameter", param, message)
            }
            ValidationErrorKind::MinItems { limit } => {
                let len = instance.as_array().map_or(0, Vec::len);
                if len == 0 {
                    let message = format!(
                        "Invalid '{param}': empty array. Expected an array with minimum length {limit}, but got an empty array instead."
                    );
                    // The API does not enforce every `minItems: 1` of the spec (`stop: []`, an
                    // assistant's `content: []` beside tool calls were answered 200); the empty
                    // arrays it is known to refuse have their own rules.
                    found(false, "empty_array", param, message)
                } else {
                    let message = format!(
                        "Invalid '{param}': array too short. Expected an array with minimum length {limit}, but got an array with length {len} instead."
                    );
                    found(true, "array_below_min_length", param, message)
                }
            }
            ValidationErrorKind::MaxItems { limit } => {
                let len = instance.as_array().map_or(0, Vec::len);
                let message = format!(
                    "Invalid '{param}': array too long. Expected an array with maximum length {limit}, but got an array with length {len} instead."
                );
                found(true, "array_above_max_length", param, message)
            }
            ValidationErrorKind::MaxProperties { limit } => {
                // Top-level too (`metadata`): `params` does not count keys.
                let n = instance.as_object().map_or(0, serde_json::Map::len);
                let message = format!(
                    "Invalid '{param}': too many properties. Expected an object with at most {limit} properties, but got an object with {n} properties instead."
                );
                return (depth >= 1)
                    .then(|| found(true, "object_above_max_properties", param, message));
            }
            ValidationErrorKind::MaxLength { limit } => {
                let len = instance.as_str().map_or(0, |s| s.chars().count());
                let message = format!(
                    "Invalid '{param}': string too long. Expected a string with maximum length {limit}, but got a string with length {len} instead."
                );
                found(true, "string_above_max_length", param, message)
            }
            ValidationErrorKind::MinLength { limit } => {
                let len = instance.as_str().map_or(0, |s| s.chars().count());
                if len == 0 {
                    // OpenAI's words for an empty string ("Invalid 'input[4].call_id': empty
                    // string. Expected a string with minimum length 1, but got an empty string
                    // instead.", code empty_string; BigPizzaV3/CodexPlusPlus#315,
                    // kittors/CliRelay#277).
                    let message = format!(
                        "Invalid '{param}': empty string. Expected a string with minimum length {limit}, but got an empty string instead."
                    );
                    return Some(found(true, "empty_string", param, message));
                }
                let message = format!(
                    "Invalid '{param}': string too short. Expected a string with minimum length {limit}, but got a string with length {len} instead."
                );
                found(true, "string_below_min_length", param, message)
            }
            ValidationErrorKind::Minimum { limit }
            | ValidationErrorKind::ExclusiveMinimum { limit } => {
                let kind = if limit.is_i64() || limit.is_u64() {
                    "integer"
                } else {
                    "decimal"
                };
                let message = format!(
                    "Invalid '{param}': {kind} below minimum value. Expected a value >= {}, but got {} instead.",
                    limit.as_f64().map_or_else(|| limit.to_string(), fmt_limit),
                    fmt_number(instance)
                );
                found(
                    true,
                    if kind == "integer" {
                        "integer_below_min_value"
                    } else {
                        "decimal_below_min_value"
                    },
                    param,
                    message,
                )
            }
            ValidationErrorKind::Maximum { limit }
            | ValidationErrorKind::ExclusiveMaximum { limit } => {
                let kind = if limit.is_i64() || limit.is_u64() {
                    "integer"
                } else {
                    "decimal"
                };
                let message = format!(
                    "Invalid '{param}': {kind} above maximum value. Expected a value <= {}, but got {} instead.",
                    limit.as_f64().map_or_else(|| limit.to_string(), fmt_limit),
                    fmt_number(instance)
                );
                found(
                    true,
                    if kind == "integer" {
                        "integer_above_max_value"
                    } else {
                        "decimal_above_max_value"
                    },
                    param,
                    message,
                )
            }
            ValidationErrorKind::Pattern { pattern } => {
                let message = format!(
                    "Invalid '{param}': string does not match pattern. Expected a string that matches the pattern '{pattern}'."
                );
                found(false, "invalid_value", param, message)
            }
            ValidationErrorKind::AnyOf { .. }
            | ValidationErrorKind::OneOfNotValid { .. }
            | ValidationErrorKind::OneOfMultipleValid { .. } => {
                let message = format!(
                    "'{param}' does not match the shapes OpenAI's API reference lists here; the API may reject it."
                );
                found(false, "invalid_value", param, message)
            }
            _ => return None,
        };
        // Top-level parameters are `params`'s.
        (depth >= 2).then_some(out)
    }
}

#[cfg(all(test, feature = "jsonschema"))]
mod tests {
    use super::{covers, plain_chat};
    use alloc::string::ToString;

    /// Every body of the request corpora that takes the plain-chat shortcut is one the validator
    /// finds nothing wrong with below the top level.
    #[test]
    fn plain_chat_agrees_with_the_validator() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/requests");
        let mut bodies: alloc::vec::Vec<std::path::PathBuf> = alloc::vec::Vec::new();
        for dir in ["real_accepted/chat_completions", "real_rejected", "valid"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                bodies.push(entry.unwrap().path());
            }
        }
        let (validator, _) = super::imp::validator("/v1/chat/completions").unwrap();
        let mut shortcut = 0;
        for path in bodies
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
        {
            let text = std::fs::read_to_string(path).unwrap();
            let Ok(body) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            if !plain_chat("/v1/chat/completions", &body) {
                continue;
            }
            shortcut += 1;
            let deep: alloc::vec::Vec<alloc::string::String> = validator
                .iter_errors(&body)
                .map(|e| alloc::string::String::from(e.instance_path().as_str()))
                .filter(|p| p.matches('/').count() >= 2)
                .collect();
            assert!(deep.is_empty(), "{}: {deep:?}", path.display());
        }
        assert!(shortcut >= 20, "only {shortcut} bodies took the shortcut");
        // And the shapes it must not take.
        for text in [
            r#"{"model":"gpt-4o","messages":["hi"]}"#,
            r#"{"model":"gpt-4o","messages":[{"role":"tool","content":"x"}]}"#,
            r#"{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}"#,
            r#"{"model":"gpt-4o","messages":[{"role":"user","content":"x","extra":1}]}"#,
            r#"{"model":"gpt-4o","messages":[{"role":"user"}]}"#,
            r#"{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object","x":1}}"#,
            r#"{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"schema":{}}}}"#,
            r#"{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"stop":["a"]}"#,
        ] {
            let body: serde_json::Value = serde_json::from_str(text).unwrap();
            assert!(!plain_chat("/v1/chat/completions", &body), "{text}");
        }
    }

    /// `plain_response_format` takes only formats the generated chat schema finds nothing wrong
    /// with (warnings included), over a grid of right and wrong shapes with names and
    /// descriptions a future bound or pattern would catch; and it takes the common ones.
    #[test]
    fn response_format_shortcut_agrees_with_the_validator() {
        use serde_json::json;
        let (validator, doc) = super::imp::validator("/v1/chat/completions").unwrap();
        let long = "n".repeat(300);
        let names = [
            json!("city"),
            json!(""),
            json!("a b/c"),
            json!("ünïcode-名前"),
            json!(long),
            json!(5),
            json!(null),
        ];
        let descriptions = [
            None,
            Some(json!("d")),
            Some(json!(null)),
            Some(json!(long)),
            Some(json!(3)),
        ];
        let schemas = [
            None,
            Some(json!({"type": "object", "properties": {"a": {"type": 7}}})),
            Some(json!({})),
            Some(json!(null)),
            Some(json!([])),
            Some(json!("object")),
        ];
        let stricts = [
            None,
            Some(json!(true)),
            Some(json!(false)),
            Some(json!(null)),
            Some(json!("yes")),
        ];
        let mut formats = alloc::vec![
            json!({"type": "text"}),
            json!({"type": "json_object"}),
            json!({"type": "json_object", "schema": {}}),
            json!({"type": "text", "json_schema": {"name": "x"}}),
            json!({"type": "json_schema"}),
            json!({"type": "json_schema", "json_schema": "x"}),
            json!({"type": "xml"}),
            json!({"type": 3}),
            json!({}),
            json!([]),
        ];
        for name in &names {
            for description in &descriptions {
                for schema in &schemas {
                    for strict in &stricts {
                        let mut js = serde_json::Map::new();
                        js.insert("name".into(), name.clone());
                        for (k, v) in [
                            ("description", description),
                            ("schema", schema),
                            ("strict", strict),
                        ] {
                            if let Some(v) = v {
                                js.insert(k.into(), v.clone());
                            }
                        }
                        formats.push(json!({"type": "json_schema", "json_schema": js}));
                    }
                }
            }
        }
        let mut js = serde_json::Map::new();
        js.insert("name".into(), json!("x"));
        js.insert("extra".into(), json!(1));
        formats.push(json!({"type": "json_schema", "json_schema": js}));
        formats.push(json!({"type": "json_schema", "json_schema": {"schema": {}}}));
        formats.push(json!({"type": "json_schema", "json_schema": {"name": "x"}, "strict": true}));
        let mut taken = 0;
        for format in &formats {
            let body = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}], "response_format": format});
            let found = super::imp::failures(validator, doc, &body);
            if super::plain_response_format(format) {
                taken += 1;
                assert!(plain_chat("/v1/chat/completions", &body), "{format}");
                assert!(
                    found.is_empty(),
                    "{format}: {:?}",
                    found
                        .iter()
                        .map(|f| &f.message)
                        .collect::<alloc::vec::Vec<_>>()
                );
            } else {
                assert!(!plain_chat("/v1/chat/completions", &body), "{format}");
            }
        }
        // The shapes real strict requests send are taken.
        for format in [
            json!({"type": "json_schema", "json_schema": {"name": "city", "strict": true, "schema": {"type": "object"}}}),
            json!({"type": "json_schema", "json_schema": {"name": "c", "description": "d", "schema": {}, "strict": null}}),
            json!({"type": "json_object"}),
            json!({"type": "text"}),
        ] {
            assert!(super::plain_response_format(&format), "{format}");
        }
        assert!(taken >= 100, "only {taken} formats taken");
    }

    /// The chat request schema's root relates none of its properties to another: the
    /// condition under which `narrow` may leave the messages out.
    #[test]
    fn narrowing_keeps_the_root_plain() {
        for endpoint in ["/v1/chat/completions", "/v1/responses"] {
            let (_, doc) = super::imp::validator(endpoint).unwrap();
            let name = doc["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
            let root = doc["$defs"][name].as_object().unwrap();
            for key in root.keys() {
                assert!(
                    matches!(
                        key.as_str(),
                        "type" | "required" | "additionalProperties" | "properties"
                    ),
                    "the {endpoint} schema's root has '{key}': narrow() is no longer sound"
                );
            }
            assert!(
                root["additionalProperties"].is_object() || root["additionalProperties"] == false
            );
        }
    }

    /// The schemas `hollow` copies as `{}` are ones the request schema takes as any object.
    #[test]
    fn free_form_schemas_stay_free_form() {
        let (_, doc) = super::imp::validator("/v1/chat/completions").unwrap();
        for name in ["ResponseFormatJsonSchemaSchema", "FunctionParameters"] {
            assert_eq!(
                doc["$defs"][name],
                serde_json::json!({"type": "object"}),
                "{name} is no longer free-form: hollow() is no longer sound"
            );
        }
        let refs = |def: &str, key: &str| doc["$defs"][def]["properties"][key].to_string();
        let format = &doc["$defs"]["ResponseFormatJsonSchema"]["properties"]["json_schema"];
        assert!(
            format["properties"]["schema"]
                .to_string()
                .contains("#/$defs/ResponseFormatJsonSchemaSchema")
        );
        assert!(refs("FunctionObject", "parameters").contains("#/$defs/FunctionParameters"));
        assert!(
            refs("ChatCompletionFunctions", "parameters").contains("#/$defs/FunctionParameters")
        );
        // Responses: the format's schema, a function tool's parameters, and the easy message
        // that `plain_input_item` takes (no `type`: no bound on its string content).
        let (_, doc) = super::imp::validator("/v1/responses").unwrap();
        assert_eq!(
            doc["$defs"]["ResponseFormatJsonSchemaSchema"],
            serde_json::json!({"type": "object"})
        );
        assert_eq!(
            doc["$defs"]["TextResponseFormatJsonSchema"]["properties"]["schema"],
            serde_json::json!({"$ref": "#/$defs/ResponseFormatJsonSchemaSchema"})
        );
        assert_eq!(
            doc["$defs"]["FunctionTool"]["properties"]["parameters"],
            serde_json::json!({"else": {"type": ["object", "null"]}, "if": {"type": "null"}})
        );
        assert!(
            doc["$defs"]["Tool"]
                .to_string()
                .contains("#/$defs/FunctionTool")
        );
        let easy = doc["$defs"]["InputItem"]["allOf"]
            .as_array()
            .unwrap()
            .last()
            .unwrap();
        assert_eq!(
            easy["if"],
            serde_json::json!({"not": {"required": ["type"]}})
        );
        let content = &easy["then"]["properties"]["content"];
        assert!(!content.to_string().contains("maxLength"), "{content}");
        assert!(
            content["allOf"].as_array().unwrap().contains(
                &serde_json::json!({"if": {"type": "string"}, "then": {"type": "string"}})
            )
        );
        for role in ["user", "assistant", "system", "developer"] {
            assert!(
                easy["then"]["properties"]["role"]["enum"]
                    .as_array()
                    .unwrap()
                    .contains(&serde_json::json!(role))
            );
        }
        assert!(easy["then"].get("required").is_none_or(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .all(|k| k == "role" || k == "content")
        }));
        // And the copy: the schema emptied, everything else as it was.
        let v = serde_json::json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}, {"function": {"parameters": "x"}}, 3]);
        assert_eq!(
            super::hollow(super::FREE_FORM, "tools", &v),
            serde_json::json!([{"type": "function", "function": {"name": "f", "parameters": {}}}, {"function": {"parameters": "x"}}, 3])
        );
    }

    /// Every corpus body that `narrow` cuts down, and bodies made to fail inside a
    /// `response_format`, `tools` or `stop`, get the same findings from the stand-in as from the
    /// whole body.
    #[test]
    fn narrowed_agrees_with_the_whole_body() {
        use super::{Narrow, narrow};
        let chat = "/v1/chat/completions";
        let summary = |endpoint: &str, body: &serde_json::Value| {
            let (validator, doc) = super::imp::validator(endpoint).unwrap();
            let mut found: alloc::vec::Vec<_> = super::imp::failures(validator, doc, body)
                .into_iter()
                .map(|f| (f.key, f.certain, f.code, f.param, f.message))
                .collect();
            found.sort();
            found
        };
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/requests");
        let mut bodies: alloc::vec::Vec<serde_json::Value> = alloc::vec::Vec::new();
        let mut dirs = alloc::vec![root];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    if let Ok(body) = serde_json::from_str(&text) {
                        bodies.push(body);
                    }
                }
            }
        }
        let plain = serde_json::json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi", "name": "a"}]);
        for extra in [
            serde_json::json!({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "strict": "yes", "schema": {"type": "object"}, "extra": 1}}}),
            serde_json::json!({"response_format": {"type": "json_schema"}}),
            serde_json::json!({"response_format": {"type": "json_schema", "json_schema": {"schema": []}}}),
            serde_json::json!({"response_format": {"type": "json_object", "schema": {}}}),
            serde_json::json!({"response_format": {"type": "xml"}}),
            // Free-form schemas copied as `{}` (`hollow`), beside failures of their own level.
            serde_json::json!({"response_format": {"type": "json_schema", "json_schema": {"name": 5, "schema": {"type": "object", "properties": {"a": {"type": 7}}}, "extra": [1]}}}),
            serde_json::json!({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": "object"}}}),
            serde_json::json!({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": null}}}),
            serde_json::json!({"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "bogus": {"x": 1}}, "strict": "yes"}}, {"type": "function", "function": {"name": "g", "parameters": []}}, {"type": "function", "function": "h"}, 4]}),
            serde_json::json!({"functions": [{"name": "f", "parameters": {"type": "array"}, "extra": 1}, {"parameters": 3}]}),
            serde_json::json!({"tools": [{"type": "function", "function": {"name": 3, "parameters": "none"}}, {"type": "nope"}], "tool_choice": {"type": "function"}}),
            serde_json::json!({"stop": ["a", 1], "stream_options": {"include_usage": "yes"}, "metadata": {"k": 1}}),
            serde_json::json!({"logit_bias": {"50256": "x"}, "modalities": ["text", "smell"], "unknown_thing": {"a": [1]}}),
        ] {
            let mut body = serde_json::json!({"model": "gpt-4o", "messages": plain});
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            bodies.push(body);
        }
        // Responses (issue 17): plain input lists beside failures elsewhere, and what is not
        // plain (checked whole).
        let easy = serde_json::json!([{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "Hi"}]);
        let mut responses: alloc::vec::Vec<serde_json::Value> = alloc::vec::Vec::new();
        for extra in [
            serde_json::json!({"text": {"format": {"type": "json_schema", "name": "x", "strict": true, "schema": {"type": "object", "properties": {"a": {"type": 7}}}}}}),
            serde_json::json!({"text": {"format": {"type": "json_schema", "name": 5, "schema": "object", "extra": 1}, "verbosity": "loud"}}),
            serde_json::json!({"text": {"format": {"type": "json_schema", "name": "x"}}}),
            serde_json::json!({"tools": [{"type": "function", "name": "f", "parameters": {"type": "object", "bogus": 1}, "strict": "yes"}, {"type": "function", "name": "g", "parameters": []}, {"type": "web_search", "parameters": {"a": 1}}, 4]}),
            serde_json::json!({"reasoning": {"effort": "extreme"}, "include": ["nope"], "metadata": {"k": 1}}),
            serde_json::json!({"input": [{"role": "user", "content": "x"}, {"role": "critic", "content": "y"}]}),
            serde_json::json!({"input": [{"role": "user", "content": "x", "type": "message"}, {"role": "user", "content": [{"type": "input_text"}]}]}),
            serde_json::json!({"input": []}),
            serde_json::json!({"input": "just text", "tools": [{"type": "function", "name": 1}]}),
        ] {
            let mut body = serde_json::json!({"model": "gpt-4o", "input": easy});
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            responses.push(body);
        }
        for (endpoint, list, at_least) in [
            (chat, &bodies, (20, 8)),
            ("/v1/responses", &bodies, (1, 0)),
            ("/v1/responses", &responses, (5, 4)),
        ] {
            let (mut narrowed, mut failing) = (0, 0);
            for body in list {
                let Narrow::Only(rest) = narrow(endpoint, body) else {
                    continue;
                };
                narrowed += 1;
                let whole = summary(endpoint, body);
                failing += usize::from(!whole.is_empty());
                assert_eq!(summary(endpoint, &rest), whole, "{endpoint} {body}");
            }
            assert!(
                narrowed >= at_least.0,
                "{endpoint}: only {narrowed} bodies were narrowed"
            );
            assert!(
                failing >= at_least.1,
                "{endpoint}: only {failing} narrowed bodies had findings"
            );
        }
    }

    /// A body failing in 20 000 places: only its first failures are read (`MAX_FAILURES_READ`),
    /// the first error reported is still the first in the body, and at most `MAX_FINDINGS` are
    /// added.
    #[test]
    fn many_failures_are_bounded() {
        let parts: alloc::vec::Vec<serde_json::Value> = (0..20_000)
            .map(|_| serde_json::json!({"type": "pdf"}))
            .collect();
        let body = serde_json::json!({"model": "gpt-4o", "messages": [{"role": "user", "content": parts}]});
        let v = crate::validate::check(
            "/v1/chat/completions",
            &serde_json::to_vec(&body).unwrap(),
            &crate::validate::Config::default(),
        );
        assert_eq!(
            v.errors.first().and_then(|e| e.error.param.as_deref()),
            Some("messages[0].content[0].type")
        );
        assert!(
            v.errors.len() <= super::MAX_FINDINGS + 1,
            "{}",
            v.errors.len()
        );
    }

    /// A part whose `type` is outside its union is named at the type, before the keys a branch
    /// would have judged (a developer message's text-only parts); with a valid `type`, an unknown
    /// key of a closed part is still named first (a text part's only warns: `reopen`). A tool message's part is named whole, as OpenAI named it
    /// (epam/ai-dial-adapter-openai#434, the `report_on_object` override), with no key judged; a
    /// system message's part at its type.
    #[test]
    fn a_type_outside_the_union_comes_before_unknown_keys() {
        // The message under test is messages[2] (a tool message answers messages[1]'s call).
        let first = |role: &str, part: &str| {
            let body = if role == "tool" {
                alloc::format!(
                    r#"{{"model":"gpt-4o","messages":[{{"role":"user","content":"hi"}},{{"role":"assistant","content":null,"tool_calls":[{{"id":"c","type":"function","function":{{"name":"f","arguments":"{{}}"}}}}]}},{{"role":"tool","tool_call_id":"c","content":[{part}]}}]}}"#
                )
            } else {
                alloc::format!(
                    r#"{{"model":"gpt-4o","messages":[{{"role":"user","content":"hi"}},{{"role":"assistant","content":"ok"}},{{"role":"{role}","content":[{part}]}}]}}"#
                )
            };
            let v = crate::validate::check(
                "/v1/chat/completions",
                body.as_bytes(),
                &crate::validate::Config::default(),
            );
            let e = v.errors.first().expect("refused");
            (
                e.error.param.clone().unwrap_or_default(),
                e.error.code.clone(),
                v.errors.len(),
            )
        };
        let file = r#"{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0x","filename":"r.pdf"}}"#;
        let (param, code, _) = first("developer", file);
        assert_eq!(param, "messages[2].content[0].type");
        assert_eq!(code.as_deref(), Some("invalid_value"));
        let (param, code, n) = first("tool", file);
        assert_eq!(param, "messages[2].content[0]");
        assert_eq!(code.as_deref(), Some("invalid_value"));
        assert_eq!(n, 1, "no key of a branch that does not apply");
        let (param, _, n) = first("system", file);
        assert_eq!(param, "messages[2].content[0].type");
        assert_eq!(n, 1);
        // A valid type with an unknown key in a closed part: the key is named.
        let (param, code, _) = first(
            "user",
            r#"{"type":"image_url","image_url":{"url":"https://example.com/a.png"},"file":{}}"#,
        );
        assert_eq!(param, "messages[2].content[0].file");
        assert_eq!(code.as_deref(), Some("unknown_parameter"));
        // A text part is only softly closed (the `reopen` override: OpenAI answered 200 to
        // `cache_control` on system, assistant and user text parts): its unknown key warns.
        for role in ["developer", "tool", "system", "user"] {
            let body = if role == "tool" {
                alloc::string::String::from(
                    r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":[{"type":"text","text":"ok","file":{}}]}]}"#,
                )
            } else {
                alloc::format!(
                    r#"{{"model":"gpt-4o","messages":[{{"role":"user","content":"hi"}},{{"role":"assistant","content":"ok"}},{{"role":"{role}","content":[{{"type":"text","text":"ok","file":{{}}}}]}}]}}"#
                )
            };
            let v = crate::validate::check(
                "/v1/chat/completions",
                body.as_bytes(),
                &crate::validate::Config::default(),
            );
            assert!(v.errors.is_empty(), "{role}: {:?}", v.errors);
            assert!(
                v.warnings
                    .iter()
                    .any(|w| w.error.param.as_deref() == Some("messages[2].content[0].file")),
                "{role}"
            );
        }
    }

    #[test]
    fn covers_is_by_path_segment() {
        assert!(covers("messages[0]", "messages[0].content"));
        assert!(covers("messages[0]", "messages[0]"));
        assert!(covers("messages", "messages[3]"));
        assert!(!covers("messages[1]", "messages[10]"));
        assert!(!covers("tool", "tools[0]"));
    }
}
