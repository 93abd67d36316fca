//! Strict schemas: any JSON Schema (and, with the `schemars` feature, any Rust type) turned into
//! a schema OpenAI's Structured Outputs strict mode accepts, or the exact reason it cannot be.
//!
//! The walk is OpenAI's own, `to_strict_json_schema` for pydantic in openai-python
//! (`src/openai/lib/_pydantic.py`, `_ensure_strict_json_schema`, read in openai 3.57.0):
//! `$defs` and `definitions` first; every `type: "object"` without `additionalProperties` gets
//! `additionalProperties: false`; every `properties` map is listed whole in `required`; `items`,
//! `anyOf` and `allOf` are walked; an `allOf` of one schema is merged into its parent; a `default`
//! of `null` is dropped; and a `$ref` with sibling keywords is replaced by what it points to, the
//! siblings taking priority, and walked again. [`openai_walk`] is exactly that, and
//! `tests/strict.rs` compares it with the Python function's output on every test type.
//!
//! [`make_strict`] adds these steps before that walk, for what `schemars` writes and pydantic
//! does not, each of which only removes something OpenAI's walk would leave to fail:
//! - `oneOf` becomes `anyOf` (schemars writes `oneOf` for serde's externally, internally and
//!   adjacently tagged enums, whose variants exclude each other through their tag, so both accept
//!   the same values; the strict guide lists only `anyOf`, and openai-python does not walk
//!   `oneOf`, leaving its objects open);
//! - the numeric `format`s schemars writes (`int32`, `uint8`, `double`, …) are dropped from
//!   `integer` and `number` schemas (annotations only, not among the guide's formats), and so is
//!   a string `format` outside the guide's list (`uri`), which OpenAI refuses in strict mode;
//! - a `$ref` beside `properties` (schemars' internally tagged newtype variant) is merged with
//!   the properties it points to (openai-python's shallow merge would lose them);
//! - a closed object without `properties` (a struct without fields) gets `properties: {}`, as
//!   pydantic writes it;
//! - the root's `$schema` is dropped.
//!
//! Then the result goes through Airlock's own strict lint (`strict_schema`, `schema_limits`,
//! `json_schema_valid`, the checks a request gets): what the lint would reject is returned as
//! [`Findings`] instead of a schema, so a schema from here is never one the request check
//! rejects. A map (`HashMap<String, T>`) is the usual reason: strict mode needs
//! `additionalProperties: false` on every object, and a map's `additionalProperties` is its
//! value schema.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde_json::{Map, Value};

use crate::validate::{ApiError, Config, Ctx, Finding, schema};

/// How deep the walk descends (nested schemas, and `$ref`s followed); deeper is a finding.
pub const MAX_STRICT_DEPTH: usize = 64;

/// Why a schema could not be made strict: what Airlock's strict lint (or the walk itself) found,
/// worded as OpenAI words its 400.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Findings {
    /// What OpenAI would reject; never empty in an `Err`.
    pub errors: Vec<Finding>,
    /// What may be refused but is not certain (a format outside the guide's list, `oneOf`).
    pub warnings: Vec<Finding>,
}

impl Findings {
    /// True when nothing would be rejected.
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

impl fmt::Display for Findings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errors.first() {
            Some(e) => f.write_str(&e.error.message),
            None => f.write_str("no strict-mode problem found"),
        }
    }
}

impl core::error::Error for Findings {}

fn walk_error(message: String) -> Findings {
    Findings {
        errors: alloc::vec![Finding {
            rule: String::from("strict_schema"),
            error: ApiError {
                message,
                error_type: String::from("invalid_request_error"),
                param: Some(String::from("text.format.schema")),
                code: Some(String::from("invalid_json_schema")),
            },
        }],
        warnings: Vec::new(),
    }
}

/// Airlock's strict lint on `schema`, as if it were sent with `strict: true` (the same rules a
/// request gets; warnings included).
///
/// # Example
/// ```
/// let found = airlock_rules::strict::lint(&serde_json::json!({"type": "object", "properties": {"a": {"type": "string"}}}));
/// assert!(found.errors[0].error.message.contains("additionalProperties"));
/// ```
pub fn lint(schema: &Value) -> Findings {
    let name = schema
        .get("title")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .unwrap_or("schema");
    let config = Config::default();
    let mut ctx = Ctx::new(&config);
    schema::lint_strict(&mut ctx, name, schema);
    let verdict = ctx.finish();
    Findings {
        errors: verdict.errors,
        warnings: verdict.warnings,
    }
}

/// Turns any JSON Schema into one OpenAI's strict mode accepts (see the module doc for the
/// steps), or says why it cannot be.
///
/// # Errors
/// [`Findings`] naming the first part OpenAI would refuse, in its wording (for a map: "In
/// context=('properties', 'scores'), 'additionalProperties' is required to be supplied and to be
/// false."), or a part the walk cannot read (a `$ref` that points nowhere, a schema nested deeper
/// than [`MAX_STRICT_DEPTH`]).
///
/// # Example
/// ```
/// use serde_json::json;
/// let strict = airlock_rules::strict::make_strict_value(json!({
///     "type": "object",
///     "properties": {"name": {"type": "string"}, "age": {"type": ["integer", "null"], "format": "uint8"}},
///     "required": ["name"]
/// })).unwrap();
/// assert_eq!(strict["required"], json!(["age", "name"]));
/// assert_eq!(strict["additionalProperties"], json!(false));
/// ```
pub fn make_strict_value(mut schema: Value) -> Result<Value, Findings> {
    if let Some(root) = schema.as_object_mut() {
        root.remove("$schema");
    }
    let root = schema.clone();
    prepare(&mut schema, &root, 0);
    let schema = openai_walk(schema)?;
    let found = lint(&schema);
    if found.ok() { Ok(schema) } else { Err(found) }
}

/// `oneOf` → `anyOf`, schemars' numeric formats and unlisted string formats dropped, and a `$ref` beside `properties`
/// merged, everywhere.
fn prepare(schema: &mut Value, root: &Value, depth: usize) {
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    if depth > MAX_STRICT_DEPTH {
        return;
    }
    merge_ref_properties(map, root);
    // An object without properties (a struct without fields) gets an empty `properties`, as
    // pydantic writes it: the lint warns that an object without `properties` may be refused.
    if map.get("type").and_then(Value::as_str) == Some("object")
        && !map.contains_key("properties")
        && !map.contains_key("patternProperties")
        && !map.contains_key("$ref")
        && map
            .get("additionalProperties")
            .is_none_or(|a| *a == Value::Bool(false))
    {
        map.insert(String::from("properties"), Value::Object(Map::new()));
    }
    if !map.contains_key("anyOf") {
        if let Some(one_of) = map.remove("oneOf") {
            map.insert(String::from("anyOf"), one_of);
        }
    }
    let numeric = match map.get("type") {
        Some(Value::String(t)) => t == "integer" || t == "number",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "integer" || t == "number"),
        _ => false,
    };
    if numeric {
        if let Some(Value::String(f)) = map.get("format") {
            if NUMERIC_FORMATS.contains(&f.as_str()) {
                map.remove("format");
            }
        }
    }
    // A string format outside the guide's list (`uri`, which schemars writes for URLs) is refused
    // in strict mode ("'uri' is not a valid format.", can1357/oh-my-pi#206): dropped, as it only
    // annotates the value.
    let string_only = match map.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => {
            ts.iter().any(|t| t == "string") && !ts.iter().any(|t| t == "integer" || t == "number")
        }
        _ => false,
    };
    if string_only {
        if let Some(Value::String(f)) = map.get("format") {
            if !crate::generated::structured::FORMATS.contains(&f.as_str()) {
                map.remove("format");
            }
        }
    }
    for (key, v) in map.iter_mut() {
        match key.as_str() {
            "properties" | "$defs" | "definitions" | "patternProperties" => {
                if let Some(children) = v.as_object_mut() {
                    for child in children.values_mut() {
                        prepare(child, root, depth + 1);
                    }
                }
            }
            "anyOf" | "allOf" | "oneOf" | "prefixItems" => {
                if let Some(list) = v.as_array_mut() {
                    for child in list {
                        prepare(child, root, depth + 1);
                    }
                }
            }
            "items" | "additionalProperties" | "not" => prepare(v, root, depth + 1),
            _ => {}
        }
    }
}

/// schemars writes an internally tagged newtype variant as the tag's `properties` beside a `$ref`
/// to the variant's struct (both apply, in JSON Schema 2020-12). openai-python's unravelling of a
/// `$ref` with siblings is a shallow merge in which the siblings' `properties` replace the
/// struct's, losing its fields; so here the two `properties` (and `required`) are joined first.
fn merge_ref_properties(map: &mut Map<String, Value>, root: &Value) {
    if !map.contains_key("properties") {
        return;
    }
    let Some(reference) = map.get("$ref").and_then(Value::as_str) else {
        return;
    };
    let Ok(target) = resolve(root, reference) else {
        return;
    };
    let Some(Value::Object(theirs)) = target.get("properties") else {
        return;
    };
    let theirs = theirs.clone();
    let their_required = target.get("required").cloned();
    map.remove("$ref");
    for (k, v) in target {
        if k != "properties" && k != "required" {
            map.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    if let Some(Value::Object(ours)) = map.get_mut("properties") {
        for (k, v) in theirs {
            ours.entry(k).or_insert(v);
        }
    }
    if let Some(Value::Array(extra)) = their_required {
        if let Some(Value::Array(required)) = map.get_mut("required") {
            for r in extra {
                if !required.contains(&r) {
                    required.push(r);
                }
            }
        } else {
            map.insert(String::from("required"), Value::Array(extra));
        }
    }
}

/// The `format`s schemars writes on numbers (`schemars::JsonSchema` for the integer and float
/// types): annotations only.
const NUMERIC_FORMATS: &[&str] = &[
    "int", "uint", "int8", "int16", "int32", "int64", "int128", "uint8", "uint16", "uint32",
    "uint64", "uint128", "float", "double",
];

/// openai-python's `_ensure_strict_json_schema`, step for step (see the module doc), without
/// Airlock's extra steps and lint. Public so its equivalence with the Python function is tested.
///
/// # Errors
/// Where the Python function raises: a schema that is not an object where one is walked, a
/// `$ref` that does not start with `#/` or points nowhere; and beyond [`MAX_STRICT_DEPTH`].
pub fn openai_walk(mut schema: Value) -> Result<Value, Findings> {
    // The root's definitions are walked first (Python walks them in place before anything else,
    // so a `$ref` resolved later sees them strict); `$ref`s are then resolved against a copy.
    let before = schema.clone();
    let Some(map) = schema.as_object_mut() else {
        return Err(walk_error(format!(
            "Expected {} to be a dictionary; path=()",
            short(&schema)
        )));
    };
    for key in ["$defs", "definitions"] {
        if let Some(Value::Object(defs)) = map.get_mut(key) {
            for (name, def) in defs.iter_mut() {
                let path = [key, name.as_str()];
                ensure(def, &path.map(ToOwned::to_owned), &before, 1)?;
            }
        }
    }
    // Then the whole root (its definitions again, which changes nothing), as Python does, so a
    // root that is only a `$ref` beside its `$defs` is unravelled like Python unravels it.
    let root = schema.clone();
    ensure(&mut schema, &[], &root, 0)?;
    Ok(schema)
}

fn short(v: &Value) -> String {
    let mut s = format!("{v}");
    if s.len() > 80 {
        let mut end = 80;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

fn push(path: &[String], a: &str) -> Vec<String> {
    let mut p = path.to_vec();
    p.push(String::from(a));
    p
}

fn ensure(schema: &mut Value, path: &[String], root: &Value, depth: usize) -> Result<(), Findings> {
    if depth > MAX_STRICT_DEPTH {
        return Err(walk_error(format!(
            "The schema is nested deeper than {MAX_STRICT_DEPTH} levels (or its $refs loop); path={path:?}"
        )));
    }
    let Some(map) = schema.as_object_mut() else {
        return Err(walk_error(format!(
            "Expected {} to be a dictionary; path={path:?}",
            short(schema)
        )));
    };
    for key in ["$defs", "definitions"] {
        if let Some(Value::Object(defs)) = map.get_mut(key) {
            for (name, def) in defs.iter_mut() {
                ensure(def, &push(&push(path, key), name), root, depth + 1)?;
            }
        }
    }
    if map.get("type").and_then(Value::as_str) == Some("object")
        && !map.contains_key("additionalProperties")
    {
        map.insert(String::from("additionalProperties"), Value::Bool(false));
    }
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        let required: Vec<Value> = props.keys().map(|k| Value::String(k.clone())).collect();
        for (key, prop) in props.iter_mut() {
            ensure(prop, &push(&push(path, "properties"), key), root, depth + 1)?;
        }
        map.insert(String::from("required"), Value::Array(required));
    }
    if let Some(items @ Value::Object(_)) = map.get_mut("items") {
        ensure(items, &push(path, "items"), root, depth + 1)?;
    }
    if let Some(Value::Array(list)) = map.get_mut("anyOf") {
        for (i, variant) in list.iter_mut().enumerate() {
            ensure(
                variant,
                &push(&push(path, "anyOf"), &format!("{i}")),
                root,
                depth + 1,
            )?;
        }
    }
    if let Some(Value::Array(list)) = map.get_mut("allOf") {
        if list.len() == 1 {
            let mut only = list.remove(0);
            ensure(&mut only, &push(&push(path, "allOf"), "0"), root, depth + 1)?;
            map.remove("allOf");
            if let Value::Object(only) = only {
                // Python's `dict.update`: the entry's keys win.
                for (k, v) in only {
                    map.insert(k, v);
                }
            }
        } else {
            for (i, entry) in list.iter_mut().enumerate() {
                ensure(
                    entry,
                    &push(&push(path, "allOf"), &format!("{i}")),
                    root,
                    depth + 1,
                )?;
            }
        }
    }
    if map.get("default") == Some(&Value::Null) {
        map.remove("default");
    }
    if map.len() > 1 {
        if let Some(reference) = map.get("$ref") {
            let Some(reference) = reference.as_str() else {
                return Err(walk_error(format!(
                    "Received non-string $ref - {}",
                    short(reference)
                )));
            };
            let resolved = resolve(root, reference)?;
            let mut merged: Map<String, Value> = resolved.clone();
            for (k, v) in core::mem::take(map) {
                merged.insert(k, v);
            }
            merged.remove("$ref");
            *map = merged;
            return ensure(schema, path, root, depth + 1);
        }
    }
    Ok(())
}

fn resolve<'a>(root: &'a Value, reference: &str) -> Result<&'a Map<String, Value>, Findings> {
    let Some(rest) = reference.strip_prefix("#/") else {
        return Err(walk_error(format!(
            "Unexpected $ref format '{reference}'; Does not start with #/"
        )));
    };
    let mut at = root;
    for key in rest.split('/') {
        // JSON Pointer escapes (`~1` for `/`, `~0` for `~`); Python does not unescape them, and
        // schemars does not write them for type names.
        match at.get(key) {
            Some(v @ Value::Object(_)) => at = v,
            _ => {
                return Err(walk_error(format!(
                    "Expected `$ref: {reference}` to resolve to a dictionary"
                )));
            }
        }
    }
    match at.as_object() {
        Some(map) => Ok(map),
        None => Err(walk_error(format!(
            "Expected `$ref: {reference}` to resolve to a dictionary"
        ))),
    }
}

/// The strict schema of a Rust type, from its `schemars::JsonSchema` (serde's attributes
/// included: `rename`, `rename_all`, `flatten`, `skip`, `default`, tagged enums).
///
/// # Errors
/// [`Findings`] when the type cannot be described strictly (a map, a root that is not an object).
///
/// # Example
/// ```
/// #[derive(schemars::JsonSchema, serde::Deserialize)]
/// struct Answer { city: String, population: Option<u64> }
///
/// let schema = airlock_rules::strict::strict_schema::<Answer>().unwrap();
/// assert_eq!(schema.get("additionalProperties"), Some(&serde_json::json!(false)));
/// ```
#[cfg(feature = "schemars")]
pub fn strict_schema<T: schemars::JsonSchema>() -> Result<schemars::Schema, Findings> {
    make_strict(schemars::SchemaGenerator::default().into_root_schema_for::<T>())
}

/// [`make_strict_value`] on a `schemars::Schema`.
///
/// # Errors
/// As [`make_strict_value`].
#[cfg(feature = "schemars")]
pub fn make_strict(schema: schemars::Schema) -> Result<schemars::Schema, Findings> {
    let value = make_strict_value(schema.to_value())?;
    schemars::Schema::try_from(value)
        .map_err(|_| walk_error(String::from("the strict schema is not a JSON object")))
}

/// A Responses `text.format` (`{"type": "json_schema", "name", "strict": true, "schema"}`) for a
/// strict schema; under Chat Completions the same fields go in `response_format.json_schema`.
pub fn text_format(name: &str, schema: Value) -> Value {
    let mut m = Map::new();
    m.insert(String::from("type"), Value::from("json_schema"));
    m.insert(String::from("name"), Value::from(name));
    m.insert(String::from("strict"), Value::Bool(true));
    m.insert(String::from("schema"), schema);
    Value::Object(m)
}
