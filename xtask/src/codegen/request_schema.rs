//! Whole-request JSON Schemas, one per JSON endpoint, lowered from OpenAI's OpenAPI spec.
//!
//! Stage 1 (`stage1`) reads the spec and writes `rules/request_schemas/<endpoint>.json`: a
//! self-contained JSON Schema (draft 2020-12) of the request body with every component the body
//! reaches under `$defs`. The spec is not validated as written; it is *lowered* so a validator's
//! failures point where OpenAI's do:
//! - `allOf`s of objects are merged into one object (properties and `required` united);
//! - `anyOf`/`oneOf` are split by JSON type: `{"type": [..], "allOf": [{"if": {"type": t}, "then":
//!   branch}]}`, so a bad value inside `content: [..]` fails inside the array branch, not as "no
//!   branch matched";
//! - object branches are dispatched on their discriminator (the spec's `discriminator`, or the
//!   property every branch pins to constant values, usually `type` or `role`): `if type = "text"
//!   then TextPart`, with the property itself an enum of every value. Branches that share a value
//!   (or have none) are merged loosely: properties united, `required` intersected — a merge only
//!   ever accepts more, never less;
//! - a union of one object branch that pins `type` (the spec's one-member `oneOf`s: Chat's system
//!   and tool message parts) is dispatched too, so its own `type` node has a label of its own;
//! - optional properties also accept `null` (the API reads a null optional field as absent);
//! - descriptions, titles, examples, defaults, formats and `x-` keywords are dropped;
//! - an object with a property list gets `additionalProperties: {"not": {}}` (a "soft" close:
//!   an unknown key is a warning at run time); `rules/request_overrides.toml` turns this into
//!   `false` (a rejection) where OpenAI is known to refuse unknown keys.
//!
//! Every emitted object, enum and property keeps an `x-at` label (`Def.prop[].prop`) that the
//! overrides name. Stage 2 (`stage2`) applies `rules/request_overrides.toml`, drops the labels and
//! writes the schemas the rules crate embeds (`crates/airlock-rules/src/generated/request_schemas/`).
#![allow(clippy::std_instead_of_alloc)] // xtask is a std binary

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::endpoints::{ENDPOINTS, SPEC_COMMIT, load_spec};
use super::{HEADER, Output, read_rule};

/// The endpoints whose JSON bodies get a schema (file name as in `ENDPOINTS`).
const JSON_ENDPOINTS: &[&str] = &[
    "responses",
    "chat_completions",
    "embeddings",
    "images_generations",
    "audio_speech",
    "batches",
    "completions",
    "moderations",
    "responses_input_tokens",
    // Issue 12, session 18: the JSON bodies real applications send through a proxy (paths with
    // ids are templates); each is report-only unless `rules/request_enforcement.toml` says not.
    "responses_compact",
    "realtime_client_secrets",
    "realtime_transcription_sessions",
    "conversations",
    "conversations_conversation",
    "conversations_conversation_items",
    "vector_stores",
    "vector_stores_store",
    "vector_stores_store_files",
    "vector_stores_store_file_batches",
    "vector_stores_store_search",
    "fine_tuning_jobs",
    "uploads",
    "uploads_upload_complete",
    "evals",
    "containers",
    "videos",
    "assistants",
    "assistants_assistant",
    "threads",
    "threads_runs",
    "threads_thread",
    "threads_thread_messages",
    "threads_thread_runs",
    "threads_thread_runs_run_submit_tool_outputs",
];

/// Where stage 1 writes and stage 2 reads.
const RULES_DIR: &str = "rules/request_schemas";
/// Where stage 2 writes.
const GENERATED_DIR: &str = "crates/airlock-rules/src/generated/request_schemas";

/// Stage 1: the spec → `rules/request_schemas/*.json`.
pub fn stage1(data: &Path) -> Result<Vec<Output>, String> {
    let spec = load_spec(&data.join("openai-openapi.yaml"))?;
    let schemas = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .ok_or("spec has no components.schemas")?;
    let mut outputs = Vec::new();
    for (file, api_path, spec_path) in ENDPOINTS {
        if !JSON_ENDPOINTS.contains(file) {
            continue;
        }
        let pointer = format!(
            "/paths/{}/post/requestBody/content/application~1json/schema",
            spec_path.replace('~', "~0").replace('/', "~1")
        );
        let schema = spec
            .pointer(&pointer)
            .ok_or_else(|| format!("POST {spec_path}: no JSON request schema"))?;
        // A body schema written inline (no `$ref`: conversation items) is lowered as a
        // component of its own, named after the endpoint's file.
        let inline;
        let (root, schemas) = match schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
        {
            Some(root) => (root.to_string(), schemas),
            None => {
                let root = format!("{}Body", camel(file));
                let mut all = schemas.clone();
                all.insert(root.clone(), schema.clone());
                inline = all;
                (root, &inline)
            }
        };
        let root = root.as_str();
        let mut lower = Lower::new(schemas);
        lower.queue(root);
        lower.run()?;
        let mut doc = Map::new();
        doc.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        doc.insert(
            "$comment".into(),
            Value::String(format!(
                "Request body of POST {api_path}, lowered from openai-openapi.yaml@{SPEC_COMMIT} \
                 by `cargo xtask codegen`; do not edit (overrides: rules/request_overrides.toml)."
            )),
        );
        doc.insert("$ref".into(), Value::String(format!("#/$defs/{root}")));
        doc.insert(
            "$defs".into(),
            Value::Object(lower.defs.into_iter().collect()),
        );
        let mut text =
            serde_json::to_string_pretty(&Value::Object(doc)).map_err(|e| e.to_string())?;
        text.push('\n');
        outputs.push((PathBuf::from(format!("{RULES_DIR}/{file}.json")), text));
    }
    Ok(outputs)
}

/// `conversations_conversation_items` → `ConversationsConversationItems`.
fn camel(file: &str) -> String {
    file.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The lowering of one endpoint's schema.
struct Lower<'a> {
    schemas: &'a Map<String, Value>,
    defs: BTreeMap<String, Value>,
    queued: BTreeSet<String>,
    pending: Vec<String>,
}

/// The name a `$ref` to a component points at.
fn ref_name(v: &Value) -> Option<&str> {
    v.get("$ref")?
        .as_str()?
        .strip_prefix("#/components/schemas/")
}

/// A union node: `anyOf` or `oneOf` with no properties of its own.
fn is_union(v: &Value) -> bool {
    (v.get("anyOf").is_some() || v.get("oneOf").is_some()) && v.get("properties").is_none()
}

fn union_branches(v: &Value) -> impl Iterator<Item = &Value> {
    ["anyOf", "oneOf"]
        .into_iter()
        .filter_map(move |k| v.get(k).and_then(Value::as_array))
        .flatten()
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The constant string values a property is pinned to (`enum` or `const` of strings), if any.
fn pinned(v: &Value) -> Option<Vec<String>> {
    if let Some(c) = v.get("const") {
        return c.as_str().map(|s| vec![s.to_string()]);
    }
    let values = v.get("enum")?.as_array()?;
    let out: Vec<String> = values
        .iter()
        .filter_map(|x| x.as_str().map(String::from))
        .collect();
    (!out.is_empty() && out.len() == values.iter().filter(|x| !x.is_null()).count()).then_some(out)
}

/// An object's view through `$ref` and `allOf`: its properties (raw), `required`, and whether it
/// takes keys it does not list.
#[derive(Default, Clone)]
struct ObjView {
    props: Vec<(String, Value)>,
    required: BTreeSet<String>,
    open: bool,
    extra: Option<Value>,
    min_props: Option<Value>,
    max_props: Option<Value>,
}

impl<'a> Lower<'a> {
    fn new(schemas: &'a Map<String, Value>) -> Self {
        Lower {
            schemas,
            defs: BTreeMap::new(),
            queued: BTreeSet::new(),
            pending: Vec::new(),
        }
    }

    fn queue(&mut self, name: &str) {
        if self.queued.insert(name.to_string()) {
            self.pending.push(name.to_string());
        }
    }

    fn run(&mut self) -> Result<(), String> {
        while let Some(name) = self.pending.pop() {
            let schema = self
                .schemas
                .get(&name)
                .ok_or_else(|| format!("spec has no component {name}"))?;
            let lowered = self.lower(schema, &name, 0);
            self.defs.insert(name, lowered);
        }
        Ok(())
    }

    /// Follows `$ref`s to the schema they name.
    fn target<'v>(&self, mut v: &'v Value) -> &'v Value
    where
        'a: 'v,
    {
        for _ in 0..32 {
            match ref_name(v).and_then(|n| self.schemas.get(n)) {
                Some(t) => v = t,
                None => break,
            }
        }
        v
    }

    /// The JSON types a schema accepts (`None`: any, or not knowable).
    fn types_of(&self, v: &Value, depth: u32) -> Option<BTreeSet<&'static str>> {
        if depth > 24 {
            return None;
        }
        let v = self.target(v);
        let mut out = BTreeSet::new();
        match v.get("type") {
            Some(Value::String(t)) => {
                out.insert(static_type(t)?);
                return Some(out);
            }
            Some(Value::Array(ts)) => {
                for t in ts {
                    out.insert(static_type(t.as_str()?)?);
                }
                return Some(out);
            }
            _ => {}
        }
        if let Some(values) = v.get("enum").and_then(Value::as_array) {
            for x in values {
                out.insert(type_name(x));
            }
            return Some(out);
        }
        if let Some(c) = v.get("const") {
            out.insert(type_name(c));
            return Some(out);
        }
        if is_union(v) {
            for b in union_branches(v) {
                out.extend(self.types_of(b, depth + 1)?);
            }
            return Some(out);
        }
        if let Some(parts) = v.get("allOf").and_then(Value::as_array) {
            return parts.iter().find_map(|p| self.types_of(p, depth + 1));
        }
        if v.get("properties").is_some() {
            out.insert("object");
            return Some(out);
        }
        if v.get("items").is_some() {
            out.insert("array");
            return Some(out);
        }
        None
    }

    /// The branches of a union, nested unions flattened, duplicates dropped; and the
    /// discriminator the spec names, if any.
    fn branches(&self, v: &Value, out: &mut Vec<Value>, disc: &mut Option<String>, depth: u32) {
        if depth > 16 {
            return;
        }
        if disc.is_none() {
            *disc = v
                .pointer("/discriminator/propertyName")
                .and_then(Value::as_str)
                .map(String::from);
        }
        for b in union_branches(v) {
            let t = self.target(b);
            if is_union(t) {
                self.branches(t, out, disc, depth + 1);
            } else if !out.contains(b) {
                out.push(b.clone());
            }
        }
    }

    /// An object's properties through `$ref` and `allOf` (later definitions win).
    fn view(&self, v: &Value, out: &mut ObjView, depth: u32) {
        if depth > 16 {
            out.open = true;
            return;
        }
        let v = self.target(v);
        if let Some(parts) = v.get("allOf").and_then(Value::as_array) {
            for p in parts {
                self.view(p, out, depth + 1);
            }
        }
        if is_union(v) {
            // An object that is also a union of shapes: the shapes' keys are not listed here.
            out.open = true;
        }
        if let Some(props) = v.get("properties").and_then(Value::as_object) {
            for (k, s) in props {
                match out.props.iter_mut().find(|(n, _)| n == k) {
                    Some(slot) => slot.1 = s.clone(),
                    None => out.props.push((k.clone(), s.clone())),
                }
            }
        }
        if let Some(req) = v.get("required").and_then(Value::as_array) {
            out.required
                .extend(req.iter().filter_map(Value::as_str).map(String::from));
        }
        match v.get("additionalProperties") {
            Some(Value::Bool(true)) => out.open = true,
            Some(Value::Bool(false)) | None => {}
            Some(s) => out.extra = Some(s.clone()),
        }
        if let Some(n) = v.get("minProperties") {
            out.min_props = Some(n.clone());
        }
        if let Some(n) = v.get("maxProperties") {
            out.max_props = Some(n.clone());
        }
    }

    fn lower(&mut self, v: &Value, at: &str, depth: u32) -> Value {
        if depth > 48 {
            return json!({});
        }
        let Value::Object(m) = v else {
            return v.clone();
        };
        if let Some(name) = ref_name(v) {
            let name = name.to_string();
            self.queue(&name);
            return json!({ "$ref": format!("#/$defs/{name}") });
        }
        if is_union(v) {
            return self.union(v, at, depth);
        }
        if m.contains_key("allOf") {
            let mut view = ObjView::default();
            self.view(v, &mut view, 0);
            return self.object(&view, at, depth);
        }
        if let Some(values) = m.get("enum") {
            let mut out = labelled(json!({ "enum": values }), at);
            // A one-value enum the spec marks as a constant (`x-stainless-const`): OpenAI words a
            // wrong value "Invalid value: 'now'. Value must be 'last_active_at'." (a vector store's
            // `expires_after.anchor`, mkdev-me/terraform-provider-openai), not with the list.
            let one = values.as_array().is_some_and(|a| a.len() == 1);
            if one
                && m.get("x-stainless-const") == Some(&Value::Bool(true))
                && let Some(o) = out.as_object_mut()
            {
                o.insert("x-airlock-const".into(), json!(true));
            }
            return out;
        }
        if let Some(c) = m.get("const") {
            return json!({ "const": c });
        }
        match m.get("type") {
            Some(Value::Array(ts)) => {
                // OpenAPI 3.1 `type: [string, "null"]`: a union of one node per type.
                let branches: Vec<Value> = ts
                    .iter()
                    .map(|t| {
                        let mut b = m.clone();
                        b.insert("type".into(), t.clone());
                        Value::Object(b)
                    })
                    .collect();
                self.union(&json!({ "anyOf": branches }), at, depth)
            }
            Some(Value::String(t)) => match t.as_str() {
                "object" => {
                    let mut view = ObjView::default();
                    self.view(v, &mut view, 0);
                    self.object(&view, at, depth)
                }
                "array" => self.array(m, at, depth),
                "string" => copy_keys(m, "string", &["minLength", "maxLength", "pattern"]),
                "integer" | "number" => copy_keys(
                    m,
                    t,
                    &["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"],
                ),
                "boolean" | "null" => json!({ "type": t }),
                _ => json!({}),
            },
            _ if m.contains_key("properties") => {
                let mut view = ObjView::default();
                self.view(v, &mut view, 0);
                self.object(&view, at, depth)
            }
            _ if m.contains_key("items") => self.array(m, at, depth),
            _ => json!({}),
        }
    }

    fn array(&mut self, m: &Map<String, Value>, at: &str, depth: u32) -> Value {
        let mut out = Map::new();
        out.insert("type".into(), json!("array"));
        if let Some(items) = m.get("items") {
            let lowered = self.lower(items, &format!("{at}[]"), depth + 1);
            if lowered != json!({}) {
                out.insert("items".into(), lowered);
            }
        }
        for k in ["minItems", "maxItems"] {
            if let Some(n) = m.get(k) {
                out.insert(k.into(), n.clone());
            }
        }
        Value::Object(out)
    }

    fn object(&mut self, view: &ObjView, at: &str, depth: u32) -> Value {
        let mut out = Map::new();
        out.insert("type".into(), json!("object"));
        out.insert("x-at".into(), json!(at));
        let mut props = Map::new();
        for (name, schema) in &view.props {
            let here = format!("{at}.{name}");
            let mut lowered = self.lower(schema, &here, depth + 1);
            if let Some(m) = lowered
                .as_object_mut()
                .filter(|m| !m.is_empty() && !m.contains_key("$ref") && !m.contains_key("x-at"))
            {
                m.insert("x-at".into(), json!(here));
            }
            if !view.required.contains(name) {
                lowered = nullable(lowered);
            }
            props.insert(name.clone(), lowered);
        }
        let required: Vec<&String> = view
            .required
            .iter()
            .filter(|r| view.props.iter().any(|(n, _)| n == *r))
            .collect();
        let listed = !props.is_empty();
        if listed {
            out.insert("properties".into(), Value::Object(props));
        }
        if !required.is_empty() {
            out.insert("required".into(), json!(required));
        }
        match &view.extra {
            Some(extra) => {
                let lowered = self.lower(extra, &format!("{at}.*"), depth + 1);
                if lowered != json!({}) {
                    out.insert("additionalProperties".into(), lowered);
                }
            }
            None if listed && !view.open => {
                out.insert("additionalProperties".into(), json!({ "not": {} }));
            }
            None => {}
        }
        if let Some(n) = &view.min_props {
            out.insert("minProperties".into(), n.clone());
        }
        if let Some(n) = &view.max_props {
            out.insert("maxProperties".into(), n.clone());
        }
        Value::Object(out)
    }

    fn union(&mut self, v: &Value, at: &str, depth: u32) -> Value {
        let mut branches = Vec::new();
        let mut disc = None;
        self.branches(v, &mut branches, &mut disc, 0);
        let mut nullable_ = false;
        let mut groups: BTreeMap<&'static str, Vec<Value>> = BTreeMap::new();
        for b in &branches {
            let Some(types) = self.types_of(b, 0) else {
                return json!({});
            };
            for t in types {
                if t == "null" {
                    nullable_ = true;
                } else {
                    groups.entry(t).or_default().push(b.clone());
                }
            }
        }
        if groups.contains_key("integer") && groups.contains_key("number") {
            let ints = groups.remove("integer").unwrap_or_default();
            groups.entry("number").or_default().extend(ints);
        }
        let mut lowered: Vec<(&'static str, Value)> = Vec::new();
        for (t, bs) in &groups {
            let s = match *t {
                "object" => self.objects(bs, disc.as_deref(), at, depth, branches.len() == 1),
                "array" => self.arrays(bs, at, depth),
                "string" => self.strings(bs, at),
                "integer" | "number" => self.numbers(bs, t),
                other => json!({ "type": other }),
            };
            lowered.push((t, s));
        }
        let out = match lowered.len() {
            0 => return json!({ "type": "null" }),
            1 => lowered.pop().map(|(_, s)| s).unwrap_or_else(|| json!({})),
            _ => {
                let types: Vec<&str> = lowered.iter().map(|(t, _)| *t).collect();
                let rules: Vec<Value> = lowered
                    .into_iter()
                    .map(|(t, s)| json!({ "if": { "type": t }, "then": s }))
                    .collect();
                json!({ "type": types, "allOf": rules, "x-at": at })
            }
        };
        if nullable_ { nullable(out) } else { out }
    }

    /// Object branches: dispatched on a discriminator where one exists, merged where not. A union
    /// of one branch (`alone`: the spec's one-member `oneOf`s, the system and tool message parts)
    /// is dispatched on the `type` it pins, so its own `type` node can be named by an override
    /// apart from the branch it shares with other unions.
    fn objects(
        &mut self,
        bs: &[Value],
        disc: Option<&str>,
        at: &str,
        depth: u32,
        alone: bool,
    ) -> Value {
        let views: Vec<ObjView> = bs
            .iter()
            .map(|b| {
                let mut view = ObjView::default();
                self.view(b, &mut view, 0);
                view
            })
            .collect();
        if let [one] = bs {
            let pinned = views[0]
                .props
                .iter()
                .any(|(n, s)| n == "type" && self.pin(s).is_some());
            if !(alone && pinned) {
                return self.lower(one, at, depth + 1);
            }
        }
        let disc = disc
            .filter(|p| {
                views
                    .iter()
                    .any(|v| v.props.iter().any(|(n, s)| n == p && self.pin(s).is_some()))
            })
            .map(String::from)
            .or_else(|| self.infer_discriminator(&views))
            .or_else(|| (views.len() == 1).then(|| String::from("type")));
        let Some(p) = disc else {
            return self.merge(&views, at, depth);
        };
        // value → branches, in the order the spec lists them.
        let mut order: Vec<String> = Vec::new();
        let mut by_value: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut absent: Vec<usize> = Vec::new();
        // Values of branches that may leave the discriminator out: without it, the API may read
        // the object as any branch of those values (a Responses message without `type` is read
        // like `type: "message"`, output-message shape included).
        let mut defaults: Vec<String> = Vec::new();
        for (i, view) in views.iter().enumerate() {
            match view
                .props
                .iter()
                .find(|(n, _)| *n == p)
                .and_then(|(_, s)| self.pin(s))
            {
                Some(values) => {
                    let optional = self.optional_pin(view, &p);
                    for value in values {
                        if !order.contains(&value) {
                            order.push(value.clone());
                        }
                        if optional && !defaults.contains(&value) {
                            defaults.push(value.clone());
                        }
                        by_value.entry(value).or_default().push(i);
                    }
                    if optional {
                        absent.push(i);
                    }
                }
                None => absent.push(i),
            }
        }
        for value in &defaults {
            for i in by_value.get(value).cloned().unwrap_or_default() {
                if !absent.contains(&i) {
                    absent.push(i);
                }
            }
        }
        absent.sort_unstable();
        let mut rules = Vec::new();
        for value in &order {
            let idx = &by_value[value];
            let then = self.pick(bs, &views, idx, &format!("{at}|{value}"), depth);
            rules.push(json!({
                "if": { "properties": { p.clone(): { "const": value } }, "required": [p.clone()] },
                "then": then,
            }));
        }
        if !absent.is_empty() {
            let then = self.pick(bs, &views, &absent, &format!("{at}|"), depth);
            rules.push(json!({ "if": { "not": { "required": [p.clone()] } }, "then": then }));
        }
        let mut out = json!({
            "type": "object",
            "x-at": at,
            "properties": { p.clone(): { "enum": order, "x-at": format!("{at}.{p}") } },
            "allOf": rules,
        });
        if absent.is_empty() {
            out["required"] = json!([p]);
        }
        out
    }

    /// The branch for a discriminator value: the branch itself, or the loose merge of several.
    fn pick(
        &mut self,
        bs: &[Value],
        views: &[ObjView],
        idx: &[usize],
        at: &str,
        depth: u32,
    ) -> Value {
        match idx {
            [one] => self.lower(&bs[*one], at, depth + 1),
            _ => {
                let chosen: Vec<ObjView> = idx.iter().map(|i| views[*i].clone()).collect();
                self.merge(&chosen, at, depth)
            }
        }
    }

    /// The string values a property is pinned to, through `$ref`.
    fn pin(&self, s: &Value) -> Option<Vec<String>> {
        let t = self.target(s);
        if is_union(t) {
            // `anyOf: [{enum: [x]}, {type: null}]`: pinned to x (or absent).
            let mut out: Vec<String> = Vec::new();
            for b in union_branches(t) {
                let b = self.target(b);
                if b.get("type").and_then(Value::as_str) == Some("null") {
                    continue;
                }
                out.extend(pinned(b)?);
            }
            return (!out.is_empty()).then_some(out);
        }
        pinned(t)
    }

    /// True when a branch's discriminator may be left out: not required, or nullable.
    fn optional_pin(&self, view: &ObjView, p: &str) -> bool {
        !view.required.contains(p)
            || view
                .props
                .iter()
                .find(|(n, _)| n == p)
                .is_some_and(|(_, s)| self.types_of(s, 0).is_some_and(|t| t.contains("null")))
    }

    /// A property every branch pins to constants, with values that tell at least two branches
    /// apart (`type` preferred, then `role`, then the first such in the spec's order).
    fn infer_discriminator(&self, views: &[ObjView]) -> Option<String> {
        let mut candidates: Vec<String> = Vec::new();
        for (name, _) in &views[0].props {
            let all = views.iter().all(|v| {
                v.props
                    .iter()
                    .any(|(n, s)| n == name && self.pin(s).is_some())
            });
            if all {
                candidates.push(name.clone());
            }
        }
        candidates.sort_by_key(|c| match c.as_str() {
            "type" => 0,
            "role" => 1,
            _ => 2,
        });
        candidates.into_iter().find(|c| {
            let sets: BTreeSet<Vec<String>> = views
                .iter()
                .filter_map(|v| v.props.iter().find(|(n, _)| n == c))
                .filter_map(|(_, s)| self.pin(s))
                .collect();
            sets.len() > 1
        })
    }

    /// Several object shapes as one that accepts what any of them does: properties united
    /// (a property in several shapes takes the union of its schemas), `required` intersected.
    fn merge(&mut self, views: &[ObjView], at: &str, depth: u32) -> Value {
        let mut merged = ObjView::default();
        let mut schemas: Vec<(String, Vec<Value>)> = Vec::new();
        for view in views {
            for (name, s) in &view.props {
                match schemas.iter_mut().find(|(n, _)| n == name) {
                    Some((_, list)) => {
                        if !list.contains(s) {
                            list.push(s.clone());
                        }
                    }
                    None => schemas.push((name.clone(), vec![s.clone()])),
                }
            }
            merged.open |= view.open || view.extra.is_some();
        }
        merged.required = views
            .first()
            .map(|v| v.required.clone())
            .unwrap_or_default();
        for view in views {
            merged.required = merged
                .required
                .intersection(&view.required)
                .cloned()
                .collect();
        }
        for (name, list) in schemas {
            let s = match <[Value; 1]>::try_from(list) {
                Ok([one]) => one,
                Err(list) => json!({ "anyOf": list }),
            };
            merged.props.push((name, s));
        }
        self.object(&merged, at, depth + 1)
    }

    fn arrays(&mut self, bs: &[Value], at: &str, depth: u32) -> Value {
        if let [one] = bs {
            return self.lower(one, at, depth + 1);
        }
        let mut items: Vec<Value> = Vec::new();
        let mut any_items = false;
        let (mut min, mut max): (Option<u64>, Option<u64>) = (Some(u64::MAX), Some(0));
        for b in bs {
            let t = self.target(b).clone();
            match t.get("items") {
                Some(i) => {
                    if !items.contains(i) {
                        items.push(i.clone());
                    }
                }
                None => any_items = true,
            }
            let lo = t.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            min = min.map(|m| m.min(lo));
            max = match (max, t.get("maxItems").and_then(Value::as_u64)) {
                (Some(m), Some(x)) => Some(m.max(x)),
                _ => None,
            };
        }
        let mut out = Map::new();
        out.insert("type".into(), json!("array"));
        if !any_items && !items.is_empty() {
            let node = match <[Value; 1]>::try_from(items) {
                Ok([one]) => one,
                Err(list) => json!({ "anyOf": list }),
            };
            let lowered = self.lower(&node, &format!("{at}[]"), depth + 1);
            if lowered != json!({}) {
                out.insert("items".into(), lowered);
            }
        }
        if let Some(m) = min.filter(|m| *m > 0 && *m != u64::MAX) {
            out.insert("minItems".into(), json!(m));
        }
        if let Some(m) = max.filter(|m| *m > 0) {
            out.insert("maxItems".into(), json!(m));
        }
        Value::Object(out)
    }

    fn strings(&mut self, bs: &[Value], at: &str) -> Value {
        let mut values: Vec<Value> = Vec::new();
        let mut free = false;
        let mut max_len: Option<u64> = Some(0);
        let mut pattern: Option<Value> = None;
        for b in bs {
            let t = self.target(b);
            match t.get("enum").and_then(Value::as_array) {
                Some(list) => {
                    for x in list.iter().filter(|x| x.is_string()) {
                        if !values.contains(x) {
                            values.push(x.clone());
                        }
                    }
                }
                None => match t.get("const") {
                    Some(c) if c.is_string() => {
                        if !values.contains(c) {
                            values.push(c.clone());
                        }
                    }
                    _ => free = true,
                },
            }
            max_len = match (max_len, t.get("maxLength").and_then(Value::as_u64)) {
                (Some(m), Some(x)) => Some(m.max(x)),
                _ => None,
            };
            if bs.len() == 1 {
                pattern = t.get("pattern").cloned();
            }
        }
        let mut out = Map::new();
        out.insert("type".into(), json!("string"));
        if !free {
            out.insert("enum".into(), Value::Array(values));
            out.insert("x-at".into(), json!(at));
        }
        if let Some(m) = max_len.filter(|m| *m > 0) {
            out.insert("maxLength".into(), json!(m));
        }
        if let Some(p) = pattern {
            out.insert("pattern".into(), p);
        }
        Value::Object(out)
    }

    fn numbers(&mut self, bs: &[Value], t: &str) -> Value {
        if let [one] = bs {
            let target = self.target(one);
            if let Some(m) = target
                .as_object()
                .filter(|m| m.get("enum").is_none() && m.get("const").is_none())
            {
                return copy_keys(m, t, &["minimum", "maximum"]);
            }
        }
        json!({ "type": t })
    }
}

fn static_type(t: &str) -> Option<&'static str> {
    Some(match t {
        "object" => "object",
        "array" => "array",
        "string" => "string",
        "integer" => "integer",
        "number" => "number",
        "boolean" => "boolean",
        "null" => "null",
        _ => return None,
    })
}

fn labelled(mut v: Value, at: &str) -> Value {
    if let Some(m) = v.as_object_mut() {
        m.insert("x-at".into(), json!(at));
    }
    v
}

fn copy_keys(m: &Map<String, Value>, ty: &str, keys: &[&str]) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), json!(ty));
    for k in keys {
        if let Some(v) = m.get(*k) {
            out.insert((*k).into(), v.clone());
        }
    }
    Value::Object(out)
}

/// `s`, also accepting `null`.
fn nullable(s: Value) -> Value {
    let Value::Object(mut m) = s else {
        return s;
    };
    if m.is_empty() {
        return Value::Object(m);
    }
    if let Some(values) = m.get_mut("enum").and_then(Value::as_array_mut) {
        if !values.contains(&Value::Null) {
            values.push(Value::Null);
        }
        if let Some(Value::String(t)) = m.get("type") {
            let t = t.clone();
            m.insert("type".into(), json!([t, "null"]));
        }
        return Value::Object(m);
    }
    let has_all_of = m.contains_key("allOf");
    match m.get_mut("type") {
        Some(Value::String(t)) if !has_all_of => {
            let t = t.clone();
            if t != "null" {
                m.insert("type".into(), json!([t, "null"]));
            }
            Value::Object(m)
        }
        Some(Value::Array(ts)) if has_all_of => {
            if !ts.contains(&json!("null")) {
                ts.push(json!("null"));
            }
            Value::Object(m)
        }
        _ => json!({ "if": { "type": "null" }, "else": Value::Object(m) }),
    }
}

// ---------------------------------------------------------------------------------------------
// Stage 2

/// `rules/request_overrides.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Overrides {
    #[serde(rename = "override", default)]
    overrides: Vec<Override>,
}

/// One place where the API and the spec disagree, with the evidence.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Override {
    /// The `x-at` label of the node (see `rules/request_schemas/*.json`).
    at: String,
    /// `close`: unknown keys are rejected; `close_deep`: in this object and every object under
    /// it, through `$ref`s; `optional`: `property` is not required;
    /// `open_enum`: values outside the enum only warn; `report_on_object`: a value outside the
    /// enum is reported at the object holding it (OpenAI's `param` for a role-specific check);
    /// `max_length`: strings longer than `limit` are rejected; `min_length`: strings shorter
    /// than `limit` are rejected (an empty one in OpenAI's "empty string" wording);
    /// `max_properties`: objects with
    /// more than `limit` keys are rejected; `min_items`: a top-level array with fewer than
    /// `limit` items is rejected (carried into `TOP_MIN_ITEMS`; the schema is unchanged); `reject_unknown`: the top-level
    /// name `property`, which the spec does not list, is refused (not only warned about); `any`: anything is accepted here;
    /// `add_values`: `values` are accepted too; `warn_values`: `values` pass with a warning (a
    /// value OpenAI's type check takes but whose fate after it no 400 or 200 shows); `also_string`: a plain string is accepted beside
    /// the node's own shape; `allow`: the object takes `property` (any value)
    /// without a warning; `response_only`: `property` is dropped from the object (a response-side
    /// field the spec reuses for input, refused as an unknown parameter). `at = "*"` with a
    /// `property`: every object listing that property.
    action: String,
    #[serde(default)]
    property: Option<String>,
    #[serde(default)]
    values: Vec<String>,
    /// `reject_unknown`: the wording OpenAI was seen to answer with (`unknown_parameter` or
    /// `unrecognized_argument`). `unknown_parameter` is carried into `UNKNOWN_REJECTED` (the
    /// rules crate then answers in that form for every model); otherwise the wording follows
    /// the model.
    #[serde(default)]
    wording: Option<String>,
    /// `max_length`, `min_length`, `max_properties`, `min_items`: the limit.
    #[serde(default)]
    limit: Option<u64>,
    /// Endpoints the override is limited to (file names); all when empty.
    #[serde(default)]
    endpoints: Vec<String>,
    /// Where the evidence comes from.
    source: String,
    /// The corpus file(s) that show it, relative to `tests/requests/`.
    #[serde(default)]
    evidence: Vec<String>,
    /// The near-miss pair (checked by `crates/airlock-rules/tests/overrides.rs`, not here): a body
    /// that passes because of the override, one next to it that is refused, and the refused one's
    /// `param` (`(none)` for none).
    #[allow(dead_code)]
    near_accepted: String,
    #[allow(dead_code)]
    near_rejected: String,
    #[allow(dead_code)]
    near_param: String,
    /// For a length bound too long to write out: `[a, b]` puts `a` (near_accepted) and `b`
    /// (near_rejected) copies of `x` where the near-miss bodies say `%PAD%`.
    #[serde(default)]
    #[allow(dead_code)]
    near_pad: Option<[u64; 2]>,
    /// For a property-count bound: `[a, b]` puts `a` (near_accepted) and `b` (near_rejected)
    /// members `"0":0,…` where the near-miss bodies say `%KEYS%`.
    #[serde(default)]
    #[allow(dead_code)]
    near_keys: Option<[u64; 2]>,
}

/// Stage 2: `rules/request_schemas/*.json` + overrides → the schemas the rules crate embeds.
pub fn stage2(so_far: &[Output]) -> Result<Vec<Output>, String> {
    let text = read_rule(so_far, "rules/request_overrides.toml")?;
    let overrides: Overrides =
        toml::from_str(&text).map_err(|e| format!("rules/request_overrides.toml: {e}"))?;
    for o in &overrides.overrides {
        if o.source.trim().is_empty() {
            return Err(format!("override at {}: empty source", o.at));
        }
        for e in &o.evidence {
            if !crate::util::root().join("tests/requests").join(e).exists() {
                return Err(format!("override at {}: evidence {e} does not exist", o.at));
            }
        }
    }
    let mut used = vec![false; overrides.overrides.len()];
    let mut outputs = Vec::new();
    // `max_length` overrides on a top-level parameter: (API path, name, limit). Top-level
    // parameters are checked by the rules crate's `params` (from the spec's endpoint tables), not
    // by the whole-body schema, so the limit is also carried into `TOP_MAX_LENGTH`.
    let mut top_max: Vec<(String, String, u64)> = Vec::new();
    // `min_items` overrides (top-level arrays only): (API path, name, limit), into `TOP_MIN_ITEMS`.
    let mut top_min: Vec<(String, String, u64)> = Vec::new();
    let mut rs = String::from(HEADER);
    rs.push_str(
        "//! Whole-request JSON Schemas (draft 2020-12), lowered from OpenAI's OpenAPI spec by\n\
         //! `cargo xtask codegen` with `rules/request_overrides.toml` applied.\n\n\
         /// (API path, schema) for each JSON endpoint (only with the `jsonschema` feature).\n\
         #[cfg(feature = \"jsonschema\")]\n\
         pub(crate) const SCHEMAS: &[(&str, &str)] = &[\n",
    );
    for (file, api_path, _) in ENDPOINTS {
        if !JSON_ENDPOINTS.contains(file) {
            continue;
        }
        let text = read_rule(so_far, &format!("{RULES_DIR}/{file}.json"))?;
        let mut doc: Value =
            serde_json::from_str(&text).map_err(|e| format!("{RULES_DIR}/{file}.json: {e}"))?;
        if let Some(m) = doc.as_object_mut() {
            m.remove("$comment");
        }
        close_deep(&mut doc, &overrides.overrides, file, &mut used);
        let root = doc
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .map(str::to_string);
        if let Some(root) = root {
            let top = doc.pointer(&format!("/$defs/{root}/properties"));
            for o in overrides.overrides.iter().filter(|o| {
                o.action == "max_length"
                    && (o.endpoints.is_empty() || o.endpoints.iter().any(|e| e == file))
            }) {
                let name =
                    o.at.strip_prefix(root.as_str())
                        .and_then(|r| r.strip_prefix('.'));
                if let Some(name) = name.filter(|n| top.is_some_and(|t| t.get(*n).is_some())) {
                    let limit = o.limit.ok_or("max_length needs limit")?;
                    top_max.push(((*api_path).to_string(), name.to_string(), limit));
                }
            }
            for o in overrides.overrides.iter().filter(|o| {
                o.action == "min_items"
                    && (o.endpoints.is_empty() || o.endpoints.iter().any(|e| e == file))
            }) {
                let name =
                    o.at.strip_prefix(root.as_str())
                        .and_then(|r| r.strip_prefix('.'))
                        .filter(|n| top.is_some_and(|t| t.get(*n).is_some()))
                        .ok_or_else(|| {
                            format!("override at {}: min_items needs a top-level array", o.at)
                        })?;
                let limit = o.limit.ok_or("min_items needs limit")?;
                top_min.push(((*api_path).to_string(), name.to_string(), limit));
            }
        }
        apply(&mut doc, &overrides.overrides, file, &mut used)?;
        let text = serde_json::to_string(&doc).map_err(|e| e.to_string())?;
        outputs.push((PathBuf::from(format!("{GENERATED_DIR}/{file}.json")), text));
        rs.push_str(&format!(
            "    (\"{api_path}\", include_str!(\"request_schemas/{file}.json\")),\n"
        ));
    }
    rs.push_str("];\n");
    rs.push_str(
        "\n/// Top-level names each endpoint is known to refuse although they are not typos: (API path,\n\
         /// name, answered \"Unknown parameter: 'x'.\" whatever the model). From `reject_unknown`\n\
         /// overrides, each with its evidence; when the last field is false the wording follows the\n\
         /// model (`params::chat_legacy`).\n\
         pub(crate) const UNKNOWN_REJECTED: &[(&str, &str, bool)] = &[\n",
    );
    for o in overrides
        .overrides
        .iter()
        .filter(|o| o.action == "reject_unknown")
    {
        let name = o
            .property
            .as_deref()
            .ok_or("reject_unknown needs property")?;
        for (file, api_path, _) in ENDPOINTS {
            if o.endpoints.iter().any(|e| e == file) {
                let new_form = o.wording.as_deref() == Some("unknown_parameter");
                rs.push_str(&format!("    (\"{api_path}\", \"{name}\", {new_form}),\n"));
            }
        }
    }
    rs.push_str("];\n");
    push_top_table(
        &mut rs,
        "Top-level string parameters longer than the API takes although the spec states no limit:\n\
         /// (API path, name, most characters). From `max_length` overrides on a top-level parameter,\n\
         /// each with its evidence.",
        "TOP_MAX_LENGTH",
        &top_max,
    );
    push_top_table(
        &mut rs,
        "Top-level arrays the API refuses with fewer items although the spec states no minimum:\n\
         /// (API path, name, fewest items). From `min_items` overrides, each with its evidence.",
        "TOP_MIN_ITEMS",
        &top_min,
    );
    if let Some(i) = used.iter().position(|u| !u) {
        return Err(format!(
            "rules/request_overrides.toml: the override at '{}' ({}) matches nothing",
            overrides.overrides[i].at, overrides.overrides[i].action
        ));
    }
    outputs.push((
        PathBuf::from("crates/airlock-rules/src/generated/request_schemas.rs"),
        rs,
    ));
    Ok(outputs)
}

/// A generated table of (API path, top-level name, limit) rows, with its doc comment.
fn push_top_table(rs: &mut String, doc: &str, name: &str, rows: &[(String, String, u64)]) {
    rs.push_str(&format!(
        "\n/// {doc}\npub(crate) const {name}: &[(&str, &str, u64)] = &[\n"
    ));
    for (api_path, param, limit) in rows {
        rs.push_str(&format!("    (\"{api_path}\", \"{param}\", {limit}),\n"));
    }
    rs.push_str("];\n");
}

/// `close_deep`: every softly closed object under the labelled node, through `$ref`s, refuses
/// unknown keys.
fn close_deep(doc: &mut Value, overrides: &[Override], file: &str, used: &mut [bool]) {
    for (i, o) in overrides.iter().enumerate() {
        if o.action != "close_deep"
            || !(o.endpoints.is_empty() || o.endpoints.iter().any(|e| e == file))
        {
            continue;
        }
        let mut pending: Vec<Value> = Vec::new();
        find_labelled(doc, &o.at, &mut pending);
        if pending.is_empty() {
            continue;
        }
        used[i] = true;
        // Collect the defs reached, then close every object in the nodes and the defs.
        let mut defs: BTreeSet<String> = BTreeSet::new();
        let mut stack = pending;
        while let Some(node) = stack.pop() {
            refs_in(&node, &mut |name| {
                if let Some(d) = doc
                    .pointer(&format!("/$defs/{name}"))
                    .filter(|_| defs.insert(name.to_string()))
                {
                    stack.push(d.clone());
                }
            });
        }
        set_closed_at(doc, &o.at);
        for name in defs {
            if let Some(d) = doc.pointer_mut(&format!("/$defs/{name}")) {
                set_closed(d);
            }
        }
    }
}

fn find_labelled(v: &Value, at: &str, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => {
            if m.get("x-at").and_then(Value::as_str) == Some(at) {
                out.push(v.clone());
            }
            m.values().for_each(|x| find_labelled(x, at, out));
        }
        Value::Array(a) => a.iter().for_each(|x| find_labelled(x, at, out)),
        _ => {}
    }
}

fn refs_in(v: &Value, f: &mut dyn FnMut(&str)) {
    match v {
        Value::Object(m) => {
            if let Some(name) = m
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
            {
                f(name);
            }
            m.values().for_each(|x| refs_in(x, f));
        }
        Value::Array(a) => a.iter().for_each(|x| refs_in(x, f)),
        _ => {}
    }
}

fn set_closed_at(v: &mut Value, at: &str) {
    match v {
        Value::Object(m) => {
            if m.get("x-at").and_then(Value::as_str) == Some(at) {
                set_closed(v);
                return;
            }
            m.values_mut().for_each(|x| set_closed_at(x, at));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| set_closed_at(x, at)),
        _ => {}
    }
}

/// Every softly closed object in `v` (not through `$ref`) refuses unknown keys.
fn set_closed(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.get("additionalProperties") == Some(&json!({ "not": {} })) {
                m.insert("additionalProperties".into(), json!(false));
            }
            m.values_mut().for_each(set_closed);
        }
        Value::Array(a) => a.iter_mut().for_each(set_closed),
        _ => {}
    }
}

/// Applies the overrides to every labelled node, then drops the labels.
fn apply(
    v: &mut Value,
    overrides: &[Override],
    file: &str,
    used: &mut [bool],
) -> Result<(), String> {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(at)) = m.remove("x-at") {
                for (i, o) in overrides.iter().enumerate() {
                    let wildcard = o.at == "*"
                        && o.property.as_deref().is_some_and(|p| {
                            m.get("properties").and_then(|ps| ps.get(p)).is_some()
                        });
                    if (o.at != at && !wildcard)
                        || !(o.endpoints.is_empty() || o.endpoints.iter().any(|e| e == file))
                    {
                        continue;
                    }
                    used[i] = true;
                    match o.action.as_str() {
                        "close" => {
                            m.insert("additionalProperties".into(), json!(false));
                        }
                        "optional" => {
                            let p = o.property.as_deref().ok_or("optional needs property")?;
                            if let Some(req) = m.get_mut("required").and_then(Value::as_array_mut) {
                                req.retain(|r| r.as_str() != Some(p));
                            }
                            if let Some(prop) = m.get_mut("properties").and_then(|ps| ps.get_mut(p))
                            {
                                *prop = nullable(prop.take());
                            }
                        }
                        "open_enum" => {
                            m.insert("x-airlock".into(), json!("warn"));
                        }
                        "report_on_object" => {
                            m.insert("x-airlock".into(), json!("object"));
                        }
                        "max_length" => {
                            let n = o.limit.ok_or("max_length needs limit")?;
                            m.insert("maxLength".into(), json!(n));
                        }
                        "min_length" => {
                            let n = o.limit.ok_or("min_length needs limit")?;
                            m.insert("minLength".into(), json!(n));
                        }
                        "max_properties" => {
                            let n = o.limit.ok_or("max_properties needs limit")?;
                            m.insert("maxProperties".into(), json!(n));
                        }
                        "warn_values" => {
                            // The values stay outside the enum, so the validator fails on them;
                            // the note makes that failure a warning (`unverified_value`): OpenAI's
                            // type check takes them, but no recorded answer shows what follows.
                            let warned: Vec<Value> = o.values.iter().map(|x| json!(x)).collect();
                            if warned.is_empty() {
                                return Err(String::from("warn_values needs values"));
                            }
                            if let Some(list) = m.get_mut("enum").and_then(Value::as_array_mut) {
                                list.retain(|y| !o.values.iter().any(|x| y.as_str() == Some(x)));
                            } else {
                                return Err(format!("warn_values: {} has no enum", o.at));
                            }
                            m.insert("x-airlock-warn".into(), Value::Array(warned));
                        }
                        "add_values" => {
                            if let Some(list) = m.get_mut("enum").and_then(Value::as_array_mut) {
                                for x in &o.values {
                                    if !list.iter().any(|y| y.as_str() == Some(x)) {
                                        list.push(json!(x));
                                    }
                                }
                            }
                        }
                        "any" => {
                            m.clear();
                        }
                        "reopen" => {
                            // Back to the soft close (an unknown key is a warning) for an object a
                            // `close_deep` reached through a shared `$ref` (it runs first).
                            if m.get("additionalProperties") == Some(&json!(false)) {
                                m.insert("additionalProperties".into(), json!({ "not": {} }));
                            } else {
                                return Err(format!("reopen: {at} is not closed"));
                            }
                        }
                        "also_string" => {
                            let inner = Value::Object(core::mem::take(m));
                            m.insert("if".into(), json!({ "type": "string" }));
                            m.insert("else".into(), inner);
                        }
                        "close_deep" => {
                            // Done before, by `close_deep`.
                        }
                        "reject_unknown" => {
                            // Collected below into `UNKNOWN_REJECTED`; the schema is unchanged.
                        }
                        "min_items" => {
                            // Collected into `TOP_MIN_ITEMS` (the rules crate's `params` checks
                            // top-level arrays); the schema is unchanged.
                        }
                        "response_only" => {
                            // A property of the response-side shape the spec reuses for input:
                            // dropped, so the closed object answers "Unknown parameter".
                            let p = o
                                .property
                                .as_deref()
                                .ok_or("response_only needs property")?;
                            if let Some(ps) = m.get_mut("properties").and_then(Value::as_object_mut)
                            {
                                ps.remove(p);
                            }
                            if let Some(req) = m.get_mut("required").and_then(Value::as_array_mut) {
                                req.retain(|r| r.as_str() != Some(p));
                            }
                        }
                        "allow" => {
                            let p = o.property.as_deref().ok_or("allow needs property")?;
                            if let Some(ps) = m.get_mut("properties").and_then(Value::as_object_mut)
                            {
                                ps.entry(p.to_string()).or_insert_with(|| json!({}));
                            }
                        }
                        other => return Err(format!("override at {at}: unknown action {other}")),
                    }
                }
            }
            for (_, x) in m.iter_mut() {
                apply(x, overrides, file, used)?;
            }
        }
        Value::Array(a) => {
            for x in a {
                apply(x, overrides, file, used)?;
            }
        }
        _ => {}
    }
    Ok(())
}
