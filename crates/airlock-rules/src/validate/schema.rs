//! JSON Schemas inside a request: `response_format.json_schema` (Chat), `text.format` (Responses)
//! and function `parameters` (both).
//!
//! Three rules:
//! - `json_schema_valid`: the schema is a JSON Schema at all (a structural check of the
//!   meta-schema's rules that every draft shares, worded like Python's `jsonschema`, which is what
//!   OpenAI quotes: `[] is not of type 'object', 'boolean'`). Run on every schema, strict or not.
//! - `strict_schema`: with `strict: true` only — root is `type: "object"`, every object has
//!   `additionalProperties: false` and lists every property in `required`, and no keyword the
//!   Structured Outputs guide names as unsupported; a string `format` is one the guide lists.
//!   Keywords the guide once listed and no longer does, and numeric formats, are warnings.
//! - `schema_limits`: with `strict: true` only — properties, nesting, enum values and characters,
//!   with limits kept as data in `rules/structured_outputs.toml`. Every count here is a lower
//!   bound of what OpenAI counts (arrays, `$ref` targets and non-string enum values are not
//!   counted), so a limit is only reported when it is certainly exceeded.
//!
//! Each schema gets at most one finding per rule, as OpenAI names only the first problem.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use serde_json::{Map, Value};

use super::Ctx;
use super::HandAt;
use super::common::{Api, MAX_DEPTH, api, check_name, py_repr, py_str, type_of};
use super::schema_cache::{Call, Place, Slot};
use crate::generated::structured as limits;

/// Where a schema sits and how OpenAI names it in errors.
struct Target<'a> {
    /// `response_format` or `function`, as in "Invalid schema for function 'x'".
    kind: Kind,
    /// The name of the format or function.
    name: &'a str,
    /// OpenAI's `param` for the schema.
    param: String,
    /// `strict: true` was sent.
    strict: bool,
    /// OpenAI's `code` for a bad schema here (empty for `null`).
    code: &'static str,
    /// Which of the answer's schemas this is, for the validator handed to its check.
    at: HandAt,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    ResponseFormat,
    Function,
}

impl Target<'_> {
    fn code(&self) -> &'static str {
        self.code
    }

    fn prefix(&self) -> String {
        let mut out = String::from(match self.kind {
            Kind::ResponseFormat => "Invalid schema for response_format ",
            Kind::Function => "Invalid schema for function ",
        });
        out.push('\'');
        out.push_str(self.name);
        out.push_str("': ");
        out
    }
}

/// Runs this module's rules on a parsed request body for `endpoint`.
pub(super) fn check(ctx: &mut Ctx<'_>, endpoint: &str, body: &serde_json::Value) {
    if endpoint
        .split('?')
        .next()
        .unwrap_or("")
        .trim_end_matches('/')
        == "/v1/assistants"
    {
        assistants(ctx, body);
        return;
    }
    let Some(api) = api(endpoint) else {
        return;
    };
    let fine_tuned = body
        .get("model")
        .and_then(Value::as_str)
        .is_some_and(|m| m.starts_with("ft:"));
    ctx.hand_api(api == Api::Chat);
    match api {
        Api::Chat => {
            if let Some(rf) = body.get("response_format") {
                if type_of(rf) == Some("json_schema") {
                    if let Some(js) = rf.get("json_schema").filter(|v| v.is_object()) {
                        missing(ctx, js, "name", "response_format.json_schema.name");
                        check_name(
                            ctx,
                            "json_schema_name",
                            "response_format.json_schema.name",
                            js.get("name"),
                        );
                        if let Some(schema) = js.get("schema") {
                            let target = Target {
                                kind: Kind::ResponseFormat,
                                name: js.get("name").and_then(Value::as_str).unwrap_or(""),
                                // Chat Completions names the whole `response_format`, with a
                                // null code (seen in 400s quoted in dottxt-ai/outlines#844 and
                                // podly-pure-podcasts/podly_pure_podcasts#89).
                                param: String::from("response_format"),
                                strict: js.get("strict") == Some(&Value::Bool(true)),
                                code: "",
                                at: HandAt::Format,
                            };
                            run(ctx, &target, schema, fine_tuned);
                        }
                    }
                }
            }
            if let Some(tools) = body.get("tools").and_then(Value::as_array) {
                for (i, tool) in tools.iter().enumerate() {
                    if type_of(tool) != Some("function") {
                        continue;
                    }
                    let Some(f) = tool.get("function") else {
                        continue;
                    };
                    if let Some(schema) = f.get("parameters") {
                        let target = Target {
                            kind: Kind::Function,
                            name: f.get("name").and_then(Value::as_str).unwrap_or(""),
                            param: format!("tools[{i}].function.parameters"),
                            strict: f.get("strict") == Some(&Value::Bool(true)),
                            code: "invalid_function_parameters",
                            at: HandAt::Tool(i),
                        };
                        run(ctx, &target, schema, fine_tuned);
                    }
                }
            }
            if let Some(functions) = body.get("functions").and_then(Value::as_array) {
                for (i, f) in functions.iter().enumerate() {
                    if let Some(schema) = f.get("parameters") {
                        let target = Target {
                            kind: Kind::Function,
                            name: f.get("name").and_then(Value::as_str).unwrap_or(""),
                            param: format!("functions[{i}].parameters"),
                            strict: false,
                            code: "invalid_function_parameters",
                            at: HandAt::Nothing,
                        };
                        run(ctx, &target, schema, fine_tuned);
                    }
                }
            }
        }
        Api::Responses => {
            if let Some(format) = body.get("text").and_then(|t| t.get("format")) {
                if type_of(format) == Some("json_schema") {
                    missing(ctx, format, "name", "text.format.name");
                    missing(ctx, format, "schema", "text.format.schema");
                    check_name(
                        ctx,
                        "json_schema_name",
                        "text.format.name",
                        format.get("name"),
                    );
                    if let Some(schema) = format.get("schema") {
                        let target = Target {
                            kind: Kind::ResponseFormat,
                            name: format.get("name").and_then(Value::as_str).unwrap_or(""),
                            param: String::from("text.format.schema"),
                            strict: format.get("strict") == Some(&Value::Bool(true)),
                            code: "invalid_json_schema",
                            at: HandAt::Format,
                        };
                        run(ctx, &target, schema, fine_tuned);
                    }
                }
            }
            if let Some(tools) = body.get("tools").and_then(Value::as_array) {
                for (i, tool) in tools.iter().enumerate() {
                    if type_of(tool) != Some("function") {
                        continue;
                    }
                    // `strict` left out (or null) is not treated as strict: the API may
                    // default it, but then it also decides what to do with a non-strict
                    // schema, so only an explicit `true` is certain.
                    if let Some(schema) = tool.get("parameters") {
                        let target = Target {
                            kind: Kind::Function,
                            name: tool.get("name").and_then(Value::as_str).unwrap_or(""),
                            param: format!("tools[{i}].parameters"),
                            strict: tool.get("strict") == Some(&Value::Bool(true)),
                            code: "invalid_function_parameters",
                            at: HandAt::Tool(i),
                        };
                        run(ctx, &target, schema, fine_tuned);
                    }
                }
            }
        }
    }
}

/// An assistant's function tools: only the root of `parameters` is judged, as for Chat and
/// Responses ([`function_root`]), since that is all a 400 shows for this endpoint. OpenAI names
/// the whole tool with a null code: "Invalid schema for function 'write_code_to_directory':
/// schema must be a JSON Schema of 'type: \"object\"', got 'type: \"None\"'." at `tools[1]`
/// (EGAdams/linuxBash, an assistant whose function gave its properties as `parameters`). The
/// other schema lints (meta-schema, strict, limits) have no Assistants answer to word them by.
fn assistants(ctx: &mut Ctx<'_>, body: &Value) {
    if !ctx.enabled("function_parameters_root") {
        return;
    }
    let Some(tools) = body.get("tools").and_then(Value::as_array) else {
        return;
    };
    for (i, tool) in tools.iter().enumerate() {
        if type_of(tool) != Some("function") {
            continue;
        }
        let Some(f) = tool.get("function") else {
            continue;
        };
        let Some(root) = f.get("parameters").and_then(Value::as_object) else {
            continue;
        };
        if root.is_empty() {
            continue;
        }
        let target = Target {
            kind: Kind::Function,
            name: f.get("name").and_then(Value::as_str).unwrap_or(""),
            param: format!("tools[{i}]"),
            strict: false,
            code: "",
            at: HandAt::Nothing,
        };
        // Only this lint: its bit in `LINTS`, found by name so a reordering cannot shift it.
        let bit = LINTS
            .iter()
            .position(|r| *r == "function_parameters_root")
            .map_or(0, |i| 1u8 << i);
        let mut out = Lint {
            enabled: bit,
            calls: Vec::new(),
        };
        // Only a root with no object type: a root `{"type": "object"}` without `properties`
        // (refused on Chat, evalstate/fast-agent#143) has no Assistants answer.
        if matches!(root.get("type"), Some(Value::String(t)) if t == "object") {
            continue;
        }
        function_root(&mut out, &target, root);
        replay(ctx, out.calls);
    }
}

/// Runs this module's rules on one schema as if it were sent as a strict Responses
/// `text.format` named `name` (param `text.format.schema`): what [`crate::strict`] checks its
/// output with, so a schema it returns and the request check never disagree.
pub(crate) fn lint_strict(ctx: &mut Ctx<'_>, name: &str, schema: &Value) {
    let target = Target {
        kind: Kind::ResponseFormat,
        name,
        param: String::from("text.format.schema"),
        strict: true,
        code: "invalid_json_schema",
        at: HandAt::Nothing,
    };
    run(ctx, &target, schema, false);
}

/// `key` is required in `parent`: OpenAI's `missing_required_parameter`.
fn missing(ctx: &mut Ctx<'_>, parent: &Value, key: &str, param: &str) {
    if parent.get(key).is_none_or(Value::is_null) {
        ctx.reject(
            "json_schema_required",
            "missing_required_parameter",
            Some(String::from(param)),
            format!("Missing required parameter: '{param}'."),
        );
    }
}

/// The lints that make this module's findings, one bit each in [`Place::enabled`].
const LINTS: [&str; 5] = [
    "json_schema_valid",
    "schema_array_items",
    "strict_schema",
    "schema_limits",
    "function_parameters_root",
];

/// Where one schema's lints make their findings: recorded, then replayed on the request's
/// `Ctx` (and kept in the isolate's [`super::SchemaLintCache`], when there is one).
struct Lint {
    enabled: u8,
    calls: Vec<Call>,
}

impl Lint {
    fn enabled(&self, rule: &str) -> bool {
        LINTS
            .iter()
            .position(|r| *r == rule)
            .is_none_or(|i| self.enabled & (1 << i) != 0)
    }

    /// A finding OpenAI certainly makes (`Ctx::reject`, when replayed).
    fn reject(
        &mut self,
        rule: &'static str,
        code: &'static str,
        param: Option<String>,
        message: String,
    ) {
        self.push(true, rule, code, param, message);
    }

    /// A warning (`Ctx::warn`, when replayed).
    fn warn(
        &mut self,
        rule: &'static str,
        code: &'static str,
        param: Option<String>,
        message: String,
    ) {
        self.push(false, rule, code, param, message);
    }

    fn push(
        &mut self,
        reject: bool,
        rule: &'static str,
        code: &'static str,
        param: Option<String>,
        message: String,
    ) {
        self.calls.push(Call {
            reject,
            rule,
            code,
            param,
            message,
        });
    }
}

/// The lints on one schema: from the isolate's [`super::SchemaLintCache`] when this schema was linted
/// in this place before (the same findings, replayed through this request's modes), else run
/// and kept.
fn run(ctx: &mut Ctx<'_>, target: &Target<'_>, schema: &Value, fine_tuned: bool) {
    if schema.is_null() {
        return;
    }
    let mut enabled = 0u8;
    for (i, rule) in LINTS.iter().enumerate() {
        if ctx.enabled(rule) {
            enabled |= 1 << i;
        }
    }
    let place = Place {
        kind: match target.kind {
            Kind::ResponseFormat => 0,
            Kind::Function => 1,
        },
        name: target.name,
        param: &target.param,
        code: target.code,
        strict: target.strict,
        fine_tuned,
        enabled,
    };
    let miss = match ctx.lints.as_deref_mut().map(|c| c.find(schema, &place)) {
        Some(Ok((calls, slot))) => {
            let (calls, slot) = (calls.to_vec(), slot.clone());
            ctx.hand(target.at, slot);
            replay(ctx, calls);
            return;
        }
        Some(Err(miss)) => Some(miss),
        None => None,
    };
    let mut out = Lint {
        enabled,
        calls: Vec::new(),
    };
    lint(&mut out, target, schema, fine_tuned);
    if let (Some(miss), Some(cache)) = (miss, ctx.lints.as_deref_mut()) {
        // The slot is handed on even when the entry is too large to be kept.
        let slot = Slot::new();
        cache.insert(miss, schema, &place, &out.calls, slot.clone());
        ctx.hand(target.at, slot);
    }
    replay(ctx, out.calls);
}

fn replay(ctx: &mut Ctx<'_>, calls: Vec<Call>) {
    for c in calls {
        if c.reject {
            ctx.reject(c.rule, c.code, c.param, c.message);
        } else {
            ctx.warn(c.rule, c.code, c.param, c.message);
        }
    }
}

/// The lints on one non-null schema, their findings made on `out`.
fn lint(out: &mut Lint, target: &Target<'_>, schema: &Value, fine_tuned: bool) {
    if out.enabled("json_schema_valid") {
        if let Some(problem) =
            crate_meta_problem(schema).filter(|_| meta_problem(schema, 0).is_none())
        {
            // Only the crate sees a problem: OpenAI's validator and draft are not documented, and
            // real clients send schemas of every draft, so this is a warning, never a rejection.
            let message = format!(
                "{}{problem} (JSON Schema meta-schema check).",
                target.prefix()
            );
            out.warn(
                "json_schema_valid",
                target.code(),
                Some(target.param.clone()),
                message,
            );
        }
        if let Some(problem) = meta_problem(schema, 0) {
            let message = match target.kind {
                // For functions OpenAI quotes the validator; for response formats it has been
                // seen to answer with one generic sentence.
                Kind::Function => format!("{}{problem}.", target.prefix()),
                Kind::ResponseFormat => format!(
                    "Invalid schema for response_format '{}'. Please ensure it is a valid JSON Schema.",
                    target.name
                ),
            };
            out.reject(
                "json_schema_valid",
                target.code(),
                Some(target.param.clone()),
                message,
            );
            // Strict rules on a schema that is not a schema would only add noise.
            return;
        }
    }
    if out.enabled("schema_array_items") {
        let mut path = Vec::new();
        if let Some(at) = array_without_items(schema, &mut path, 0) {
            let message = format!("{}In {at}, array schema missing items.", target.prefix());
            out.reject(
                "schema_array_items",
                target.code(),
                Some(target.param.clone()),
                message,
            );
            return;
        }
    }
    let Some(root) = schema.as_object() else {
        return;
    };
    if root.is_empty() {
        // `{}` (no parameters) may be normalised by the API; nothing certain to say.
        return;
    }
    if !target.strict {
        if target.kind == Kind::Function {
            function_root(out, target, root);
        }
        return;
    }
    let mut walk = Strict {
        fine_tuned,
        first_error: None,
        warnings: Vec::new(),
        stats: Stats::default(),
    };
    match root.get("type") {
        Some(Value::String(t)) if t == "object" => {}
        Some(Value::Array(types)) if types.iter().any(|t| t == "object") => {}
        other => {
            let got = match other {
                None => String::from("None"),
                Some(Value::String(s)) => s.clone(),
                Some(v) => py_repr(v),
            };
            walk.first_error = Some(format!(
                "schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{got}\"'"
            ));
        }
    }
    let mut path = Vec::new();
    if walk.first_error.is_none() {
        walk.node(root, &mut path, 1, 0);
    }
    let param = Some(target.param.clone());
    for (code, message) in core::mem::take(&mut walk.warnings) {
        let message = format!("{}{message}", target.prefix());
        out.warn("strict_schema", code, param.clone(), message);
    }
    if let Some(error) = walk.first_error {
        let message = format!("{}{error}.", target.prefix());
        out.reject("strict_schema", target.code(), param, message);
        return;
    }
    if let Some(problem) = walk.stats.limit_problem() {
        let message = format!("{}{problem}.", target.prefix());
        out.reject("schema_limits", target.code(), param, message);
    }
}

/// A function's `parameters`, strict or not, must be an object schema with `properties` at its
/// root: OpenAI refused a root without `type` (ComposioHQ/composio#1829, `strict: false` on the
/// Responses API) and `{"type": "object"}` alone (evalstate/fast-agent#143, Chat Completions),
/// quoting its validator. Nested free-form objects are fine; only the root is checked here.
fn function_root(out: &mut Lint, target: &Target<'_>, root: &Map<String, Value>) {
    let problem = match root.get("type") {
        Some(Value::String(t)) if t == "object" => {
            if root.contains_key("properties") {
                return;
            }
            String::from("In context=(), object schema missing properties")
        }
        Some(Value::Array(types)) if types.iter().any(|t| t == "object") => return,
        // A root that is only a reference or a combination is not certain either way.
        _ if root.contains_key("$ref")
            || root.contains_key("anyOf")
            || root.contains_key("oneOf")
            || root.contains_key("allOf") =>
        {
            return;
        }
        other => {
            let got = match other {
                None => String::from("None"),
                Some(Value::String(s)) => s.clone(),
                Some(v) => py_repr(v),
            };
            format!("schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{got}\"'")
        }
    };
    let message = format!("{}{problem}.", target.prefix());
    out.reject(
        "function_parameters_root",
        target.code(),
        Some(target.param.clone()),
        message,
    );
}

// ---------------------------------------------------------------------------------------------
// json_schema_valid: the meta-schema rules every draft shares.

const TYPES: &[&str] = &[
    "array", "boolean", "integer", "null", "number", "object", "string",
];

fn not_of_type(v: &Value, ty: &str) -> String {
    format!("{} is not of type '{ty}'", py_repr(v))
}

/// The first meta-schema violation in `schema`, in Python `jsonschema`'s wording. One pass over
/// each object's keys.
/// With the `jsonschema` feature: the `jsonschema` crate's meta-schema check. A schema counts as
/// invalid only when it is invalid under drafts 4, 7 and 2020-12 alike (tuple `items: [...]` is
/// valid in draft 7 and not 2020-12; a boolean `exclusiveMinimum` only in draft 4), and even then
/// it is only reported: the built-in `meta_problem` decides rejections.
///
/// The three meta validators are built once per process (per isolate in the worker): on wasm,
/// `jsonschema`'s `draftN::meta::validate` compiles its meta-schema again on every call (only
/// native targets keep it in a static), which cost a strict 2 KB request about 0.5 ms of the
/// worker's CPU (issue 17), and ~6 % of a 126k-token request with a tool (issue 14). Built on
/// first use, never at a Worker's global scope.
#[cfg(feature = "jsonschema")]
fn crate_meta_problem(schema: &Value) -> Option<String> {
    use jsonschema::meta::MetaValidator;
    use std::sync::OnceLock;
    static DRAFT7: OnceLock<MetaValidator<'static>> = OnceLock::new();
    static DRAFT4: OnceLock<MetaValidator<'static>> = OnceLock::new();
    static DRAFT202012: OnceLock<MetaValidator<'static>> = OnceLock::new();
    // `is_valid` first: the common case, a valid schema, without building an error (issue 17:
    // `validate` walks the schema on its slower, error-reporting path).
    let draft7 = DRAFT7.get_or_init(jsonschema::draft7::meta::validator);
    if draft7.is_valid(schema)
        || DRAFT4
            .get_or_init(jsonschema::draft4::meta::validator)
            .is_valid(schema)
        || DRAFT202012
            .get_or_init(jsonschema::draft202012::meta::validator)
            .is_valid(schema)
    {
        return None;
    }
    let draft7 = draft7.validate(schema).err()?;
    Some(format!("{draft7}"))
}

#[cfg(not(feature = "jsonschema"))]
fn crate_meta_problem(_schema: &Value) -> Option<String> {
    None
}

fn meta_problem(schema: &Value, depth: usize) -> Option<String> {
    let map = match schema {
        Value::Bool(_) => return None,
        Value::Object(map) => map,
        other => {
            return Some(format!(
                "{} is not of type 'object', 'boolean'",
                py_repr(other)
            ));
        }
    };
    if depth > MAX_DEPTH {
        return None;
    }
    for (key, v) in map {
        let problem = match key.as_str() {
            "type" => type_problem(v),
            // An object of schemas.
            "properties" | "$defs" | "definitions" | "patternProperties" | "dependentSchemas" => {
                match v.as_object() {
                    None => Some(not_of_type(v, "object")),
                    Some(children) => children.values().find_map(|c| meta_problem(c, depth + 1)),
                }
            }
            // One schema.
            "additionalProperties"
            | "not"
            | "if"
            | "then"
            | "else"
            | "contains"
            | "propertyNames"
            | "unevaluatedItems"
            | "unevaluatedProperties"
            | "additionalItems" => meta_problem(v, depth + 1),
            // One schema, or (draft-7 tuple validation, fine in older drafts) an array of them.
            "items" => match v.as_array() {
                Some(list) => list.iter().find_map(|c| meta_problem(c, depth + 1)),
                None => meta_problem(v, depth + 1),
            },
            // A non-empty array of schemas.
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => match v.as_array() {
                None => Some(not_of_type(v, "array")),
                Some(list) if list.is_empty() => Some(String::from("[] should be non-empty")),
                Some(list) => list.iter().find_map(|c| meta_problem(c, depth + 1)),
            },
            "required" => match v.as_array() {
                None => Some(not_of_type(v, "array")),
                // Duplicates break the meta-schema's `uniqueItems`, but whether OpenAI's
                // validator enforces that is unknown: never reject on it.
                Some(list) => list
                    .iter()
                    .find(|i| !i.is_string())
                    .map(|bad| not_of_type(bad, "string")),
            },
            "enum" => (!v.is_array()).then(|| not_of_type(v, "array")),
            "minItems" | "maxItems" | "minLength" | "maxLength" | "minProperties"
            | "maxProperties" | "minContains" | "maxContains" => count_problem(v),
            "maximum" | "minimum" => (!v.is_number()).then(|| not_of_type(v, "number")),
            "multipleOf" => match v.as_f64() {
                None => Some(not_of_type(v, "number")),
                Some(f) if f <= 0.0 => Some(format!(
                    "{} is less than or equal to the minimum of 0",
                    py_repr(v)
                )),
                Some(_) => None,
            },
            // Draft-4's boolean form is left alone: which draft OpenAI applies is not certain.
            "exclusiveMaximum" | "exclusiveMinimum" => {
                (!(v.is_number() || v.is_boolean())).then(|| not_of_type(v, "number"))
            }
            "pattern" | "format" | "$ref" | "title" | "description" => {
                (!v.is_string()).then(|| not_of_type(v, "string"))
            }
            _ => None,
        };
        if problem.is_some() {
            return problem;
        }
    }
    None
}

/// The `context=(...)` of the first `type: "array"` schema without `items`, which OpenAI refuses
/// in every schema, strict or not ("In context=('properties', 'paths'), array schema missing
/// items."). Walks `properties`, `$defs`/`definitions`, `items` and `anyOf`; a schema with
/// `prefixItems` (tuple form) is left alone, as is a `type` list, whose wording is not certain.
fn array_without_items<'a>(
    schema: &'a Value,
    path: &mut Vec<Seg<'a>>,
    depth: usize,
) -> Option<String> {
    let map = schema.as_object()?;
    if depth > MAX_DEPTH {
        return None;
    }
    if !map.contains_key("items") && !map.contains_key("prefixItems") {
        match map.get("type") {
            Some(Value::String(t)) if t == "array" => return Some(context(path)),
            // A list of types is a list of branches to OpenAI's validator: an 'array' among them
            // needs `items` too, reported at the branch ("In context=('properties', 'arguments',
            // 'items', 'type', '0'), array schema missing items.", tidewave-ai/tidewave_phoenix#224;
            // the object branch of such a list is judged the same way in strict mode).
            Some(Value::Array(types)) => {
                if let Some(i) = types.iter().position(|t| t == "array") {
                    path.push(Seg::Key("type"));
                    path.push(Seg::Index(i));
                    let at = context(path);
                    path.truncate(path.len() - 2);
                    return Some(at);
                }
            }
            _ => {}
        }
    }
    for (key, v) in map {
        let found = match key.as_str() {
            "properties" | "$defs" | "definitions" => {
                let Some(children) = v.as_object() else {
                    continue;
                };
                children.iter().find_map(|(name, child)| {
                    path.push(Seg::Key(key));
                    path.push(Seg::Key(name));
                    let found = array_without_items(child, path, depth + 1);
                    path.truncate(path.len() - 2);
                    found
                })
            }
            "items" if v.is_object() => {
                path.push(Seg::Key(key));
                let found = array_without_items(v, path, depth + 1);
                path.pop();
                found
            }
            "anyOf" => {
                let Some(list) = v.as_array() else {
                    continue;
                };
                list.iter().enumerate().find_map(|(i, child)| {
                    path.push(Seg::Key(key));
                    path.push(Seg::Index(i));
                    let found = array_without_items(child, path, depth + 1);
                    path.truncate(path.len() - 2);
                    found
                })
            }
            _ => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

fn type_problem(t: &Value) -> Option<String> {
    let valid = match t {
        Value::String(s) => TYPES.contains(&s.as_str()),
        Value::Array(items) => {
            !items.is_empty()
                && items
                    .iter()
                    .all(|i| i.as_str().is_some_and(|s| TYPES.contains(&s)))
                && !has_duplicates(items)
        }
        _ => false,
    };
    (!valid).then(|| format!("{} is not valid under any of the given schemas", py_repr(t)))
}

/// A non-negative integer (an integral float such as `2.0` counts, as in Python `jsonschema`).
fn count_problem(v: &Value) -> Option<String> {
    let Value::Number(n) = v else {
        return Some(not_of_type(v, "integer"));
    };
    let integral = n.is_u64() || n.is_i64() || n.as_f64().is_some_and(|f| f == (f as i64) as f64);
    if !integral {
        return Some(not_of_type(v, "integer"));
    }
    if n.as_f64().is_some_and(|f| f < 0.0) {
        return Some(format!("{} is less than the minimum of 0", py_repr(v)));
    }
    None
}

/// True when two items are equal (O(n²) only for short lists; long lists are not checked).
fn has_duplicates(items: &[Value]) -> bool {
    if items.len() > 256 {
        return false;
    }
    items
        .iter()
        .enumerate()
        .any(|(i, a)| items[i + 1..].iter().any(|b| a == b))
}

// ---------------------------------------------------------------------------------------------
// strict_schema and schema_limits.

/// One step of OpenAI's `context=(...)` path.
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

fn context(path: &[Seg<'_>]) -> String {
    let mut out = String::from("context=(");
    for (i, seg) in path.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match seg {
            Seg::Key(k) => py_str(&mut out, k),
            // OpenAI quotes indices too: `context=('anyOf', '0')`.
            Seg::Index(n) => {
                let _ = write!(out, "'{n}'");
            }
        }
    }
    if path.len() == 1 {
        out.push(',');
    }
    out.push(')');
    out
}

#[derive(Default)]
struct Stats {
    properties: usize,
    /// Deepest chain of object schemas below the root, through `properties`, `items`, `anyOf`
    /// and `$defs` (arrays themselves are not counted).
    nesting: usize,
    enum_values: usize,
    string_chars: usize,
    /// Characters of the largest string enum with more than the threshold of values.
    large_enum_chars: usize,
}

impl Stats {
    fn limit_problem(&self) -> Option<String> {
        if self.properties > limits::MAX_PROPERTIES {
            return Some(format!(
                "{} parameters exceeds limit of {}",
                self.properties,
                limits::MAX_PROPERTIES
            ));
        }
        if self.nesting > limits::MAX_NESTING {
            return Some(format!(
                "{} levels of nesting exceeds limit of {}",
                self.nesting,
                limits::MAX_NESTING
            ));
        }
        if self.enum_values > limits::MAX_ENUM_VALUES {
            return Some(format!(
                "{} enum values exceeds limit of {}",
                self.enum_values,
                limits::MAX_ENUM_VALUES
            ));
        }
        if self.large_enum_chars > limits::MAX_LARGE_ENUM_CHARS {
            return Some(format!(
                "{} characters of string enum values exceeds limit of {} for an enum with more than {} values",
                self.large_enum_chars,
                limits::MAX_LARGE_ENUM_CHARS,
                limits::LARGE_ENUM_THRESHOLD
            ));
        }
        if self.string_chars > limits::MAX_TOTAL_STRING_CHARS {
            return Some(format!(
                "{} characters of property names, definition names, enum values and const values exceeds limit of {}",
                self.string_chars,
                limits::MAX_TOTAL_STRING_CHARS
            ));
        }
        None
    }
}

struct Strict {
    fine_tuned: bool,
    first_error: Option<String>,
    warnings: Vec<(&'static str, String)>,
    stats: Stats,
}

fn is_object_type(map: &Map<String, Value>) -> bool {
    match map.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(types)) => types.iter().any(|t| t == "object"),
        _ => false,
    }
}

impl Strict {
    fn error(&mut self, path: &[Seg<'_>], message: &str) {
        if self.first_error.is_none() {
            self.first_error = Some(format!("In {}, {message}", context(path)));
        }
    }

    /// Walks one schema node. `objects` is the number of object schemas on the way here,
    /// counting this node's enclosing objects but not the root.
    fn node<'a>(
        &mut self,
        map: &'a Map<String, Value>,
        path: &mut Vec<Seg<'a>>,
        objects: usize,
        depth: usize,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        let is_object = is_object_type(map);
        let here = if is_object && !path.is_empty() {
            objects + 1
        } else {
            objects
        };
        // `here` counts the root as 1; nesting below the root is one less.
        self.stats.nesting = self.stats.nesting.max(here.saturating_sub(1));

        for key in map.keys() {
            let key = key.as_str();
            let rejected = limits::REJECTED.contains(&key)
                || (self.fine_tuned && limits::REJECTED_FINE_TUNED.contains(&key));
            if rejected {
                self.error(path, &format!("'{key}' is not permitted"));
            } else if limits::DOUBTFUL.contains(&key) {
                self.warnings.push((
                    "",
                    format!(
                        "In {}, '{key}' may not be permitted in a strict schema (older versions of the Structured Outputs guide listed it as unsupported).",
                        context(path)
                    ),
                ));
            }
        }
        if let Some(Value::String(f)) = map.get("format") {
            let string_only = match map.get("type") {
                Some(Value::String(t)) => t == "string",
                Some(Value::Array(ts)) => {
                    ts.iter().any(|t| t == "string")
                        && !ts.iter().any(|t| t == "integer" || t == "number")
                }
                _ => false,
            };
            if string_only && !limits::FORMATS.contains(&f.as_str()) {
                // A string format outside the guide's list is refused: "In context=('properties',
                // 'url'), 'uri' is not a valid format." (can1357/oh-my-pi#206, a strict MCP tool
                // on gpt-5.3-codex). A numeric format (`float`, `int32`) only warns: no 400 seen.
                let mut quoted = String::new();
                py_str(&mut quoted, f);
                self.error(path, &format!("{quoted} is not a valid format"));
            } else if !limits::FORMATS.contains(&f.as_str()) {
                self.warnings.push((
                    "",
                    format!(
                        "In {}, format '{f}' is not one of the formats the Structured Outputs guide lists as supported.",
                        context(path)
                    ),
                ));
            }
        }
        // A `$ref` beside `type: "object"` takes its keywords from the definition, which is
        // walked on its own.
        if is_object && !map.contains_key("$ref") {
            // With `type: ["object", "null"]` OpenAI names the object branch of the type list:
            // `In context=('properties', 'param', 'type', '0')` (web-infra-dev/midscene#344,
            // nextlevelbuilder/goclaw#1007).
            let branch = match map.get("type") {
                Some(Value::Array(types)) => types.iter().position(|t| t == "object"),
                _ => None,
            };
            let depth_before = path.len();
            if let Some(i) = branch {
                path.push(Seg::Key("type"));
                path.push(Seg::Index(i));
            }
            if map.get("additionalProperties") != Some(&Value::Bool(false)) {
                self.error(
                    path,
                    "'additionalProperties' is required to be supplied and to be false",
                );
            }
            let required: BTreeSet<&str> = map
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let props = map.get("properties").and_then(Value::as_object);
            if let Some(props) = props {
                if let Some(missing) = props.keys().find(|k| !required.contains(&k.as_str())) {
                    let mut quoted = String::new();
                    py_str(&mut quoted, missing);
                    self.error(
                        path,
                        &format!(
                            "'required' is required to be supplied and to be an array including every key in properties. Missing {quoted}"
                        ),
                    );
                }
            } else if !map.contains_key("$ref") && !map.contains_key("anyOf") {
                self.warnings.push((
                    "",
                    format!(
                        "In {}, object schema missing properties (an object without 'properties' may be refused).",
                        context(path)
                    ),
                ));
            }
            // Reported in the order of `required` in the request.
            let listed = map.get("required").and_then(Value::as_array);
            if let Some(extra) = listed
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .find(|r| !props.is_some_and(|p| p.contains_key(*r)))
            {
                let mut quoted = String::new();
                py_str(&mut quoted, extra);
                self.error(
                    path,
                    &format!(
                        "'required' is required to be supplied and to be an array including every key in properties. Extra required key {quoted} supplied"
                    ),
                );
            }
            path.truncate(depth_before);
        }

        // Limits.
        if let Some(e) = map.get("enum").and_then(Value::as_array) {
            self.stats.enum_values += e.len();
            let mut chars = 0;
            let mut all_strings = true;
            for v in e {
                match v.as_str() {
                    Some(s) => chars += s.chars().count(),
                    None => all_strings = false,
                }
            }
            self.stats.string_chars += chars;
            if all_strings && e.len() > limits::LARGE_ENUM_THRESHOLD {
                self.stats.large_enum_chars = self.stats.large_enum_chars.max(chars);
            }
        }
        if let Some(Value::String(c)) = map.get("const") {
            self.stats.string_chars += c.chars().count();
        }

        // Children.
        if let Some(props) = map.get("properties").and_then(Value::as_object) {
            self.stats.properties += props.len();
            for (name, child) in props {
                self.stats.string_chars += name.chars().count();
                if let Some(child) = child.as_object() {
                    path.push(Seg::Key("properties"));
                    path.push(Seg::Key(name));
                    self.node(child, path, here, depth + 1);
                    path.pop();
                    path.pop();
                }
            }
        }
        if let Some(items) = map.get("items") {
            if let Some(child) = items.as_object() {
                path.push(Seg::Key("items"));
                self.node(child, path, here, depth + 1);
                path.pop();
            }
        }
        if let Some(list) = map.get("anyOf").and_then(Value::as_array) {
            for (i, child) in list.iter().enumerate() {
                if let Some(child) = child.as_object() {
                    path.push(Seg::Key("anyOf"));
                    path.push(Seg::Index(i));
                    // A branch is the same level as the schema that holds it.
                    self.node(child, path, objects, depth + 1);
                    path.pop();
                    path.pop();
                }
            }
        }
        for key in ["$defs", "definitions"] {
            if let Some(defs) = map.get(key).and_then(Value::as_object) {
                for (name, child) in defs {
                    self.stats.string_chars += name.chars().count();
                    if let Some(child) = child.as_object() {
                        path.push(Seg::Key(key));
                        path.push(Seg::Key(name));
                        // Where a definition is used is not followed: count from the root.
                        self.node(child, path, 1, depth + 1);
                        path.pop();
                        path.pop();
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// An assistant's function whose `parameters` has no object type is refused at the whole
    /// tool with a null code (EGAdams/linuxBash); an empty `parameters`, a root
    /// `{"type": "object"}` without properties (refused on Chat only) and a root that is only a
    /// `$ref` are not judged, and Chat keeps its own param.
    #[test]
    fn assistants_function_root() {
        let check = |endpoint: &str, body: serde_json::Value| {
            crate::validate::check(
                endpoint,
                &serde_json::to_vec(&body).unwrap(),
                &crate::validate::Config::default(),
            )
        };
        let tool = |parameters: serde_json::Value| {
            json!({"model": "gpt-4o", "tools": [{"type": "code_interpreter"},
                {"type": "function", "function": {"name": "w", "parameters": parameters}}]})
        };
        let v = check("/v1/assistants", tool(json!({"path": {"type": "string"}})));
        assert_eq!(v.errors[0].error.param.as_deref(), Some("tools[1]"));
        assert_eq!(v.errors[0].error.code, None);
        assert!(check("/v1/assistants", tool(json!({}))).ok());
        assert!(check("/v1/assistants", tool(json!({"type": "object"}))).ok());
        assert!(check("/v1/assistants", tool(json!({"$ref": "#/$defs/a", "$defs": {"a": {"type": "object", "properties": {}}}}))).ok());
        let chat = check(
            "/v1/chat/completions",
            json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],
                "tools": [{"type": "function", "function": {"name": "w", "parameters": {"path": {"type": "string"}}}}]}),
        );
        assert_eq!(
            chat.errors[0].error.param.as_deref(),
            Some("tools[0].function.parameters")
        );
    }

    /// A strict string `format` outside the guide's list is refused in OpenAI's words
    /// (can1357/oh-my-pi#206); a numeric format only warns, and a non-strict schema is not judged.
    #[test]
    fn strict_string_formats() {
        let check = |fmt: &str, ty: &str, strict: bool| {
            let body = format!(
                r#"{{"model":"gpt-5","input":"hi","tools":[{{"type":"function","name":"f","strict":{strict},"parameters":{{"type":"object","properties":{{"x":{{"type":"{ty}","format":"{fmt}"}}}},"required":["x"],"additionalProperties":false}}}}]}}"#
            );
            crate::validate::check(
                "/v1/responses",
                body.as_bytes(),
                &crate::validate::Config::default(),
            )
        };
        let v = check("uri", "string", true);
        assert_eq!(
            v.errors[0].error.message,
            "Invalid schema for function 'f': In context=('properties', 'x'), 'uri' is not a valid format."
        );
        assert!(check("uuid", "string", true).ok());
        let numeric = check("float", "number", true);
        assert!(numeric.ok() && numeric.warnings.iter().any(|w| w.rule == "strict_schema"));
        assert!(check("uri", "string", false).ok());
    }

    #[test]
    fn context_is_a_python_tuple() {
        assert_eq!(context(&[]), "context=()");
        assert_eq!(context(&[Seg::Key("items")]), "context=('items',)");
        assert_eq!(
            context(&[Seg::Key("anyOf"), Seg::Index(0)]),
            "context=('anyOf', '0')"
        );
    }

    #[test]
    fn meta_schema_problems() {
        assert_eq!(
            meta_problem(&json!({"type": "object", "properties": {"a": []}}), 0).as_deref(),
            Some("[] is not of type 'object', 'boolean'")
        );
        assert_eq!(
            meta_problem(&json!({"type": "str"}), 0).as_deref(),
            Some("'str' is not valid under any of the given schemas")
        );
        assert_eq!(
            meta_problem(&json!({"required": "a"}), 0).as_deref(),
            Some("'a' is not of type 'array'")
        );
        assert_eq!(meta_problem(&json!({}), 0), None);
        assert_eq!(meta_problem(&json!(true), 0), None);
        assert_eq!(
            meta_problem(
                &json!({"items": [{"type": "string"}], "exclusiveMinimum": true}),
                0
            ),
            None
        );
    }
}
