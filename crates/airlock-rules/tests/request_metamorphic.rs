//! Metamorphic tests of the request checker (issue 12): the context around a fault must not change
//! the verdict or move the `param` anywhere but where the change itself moves it.
//!
//! Over the tuned real rejected corpus (`tests/requests/real_rejected/`, never the held-out one),
//! each body is changed in ways OpenAI would not judge differently, and the expected `param` is
//! changed accordingly (the code and the message form must still match OpenAI's):
//! - serialization: `pretty`, `minified`, `keys_sorted` / `keys_reversed` (every object's keys in
//!   that order), `escaped` (every non-ASCII character, every '/' and every key's first character
//!   written as a `\u` escape);
//! - top-level parameters: `user_param` (`user`, taken by chat, Responses, embeddings, legacy
//!   completions and image generations on every model), `default_param` (`stream: false`; chat
//!   `store: false`; Responses `metadata`), `instructions` (Responses), `stream` (`stream: true`,
//!   only on families that always streamed without a verified organization), `tool_choice_auto`
//!   (where function tools are given);
//! - the model: `model_snapshot` (an alias → the dated snapshot it serves), `model_sibling` (a
//!   model of the same family and generation with the same parameters and limits: gpt-4o /
//!   gpt-4o-mini, gpt-4.1 / -mini / -nano, gpt-5 / -mini / -nano);
//! - turns: `insert_first` and `system_first` (a user / system text message first: a param at
//!   `messages[i]` becomes `messages[i+1]`; the system message only on families that take it),
//!   `long_history` (40 user and assistant turns first, +40), `insert_before` (a user text message
//!   right before the faulty turn, not where it would split a call from its answer or a reasoning
//!   item from what follows it), `append_last` (a user text message last; not after an assistant
//!   turn with `tool_calls` or a Responses call or reasoning item), `fault_twice` (the faulty turn
//!   once more at the end: the first is still named), `text_parts` (other turns' string content as
//!   one text part), `message_type` (Responses message items with their optional `"type":
//!   "message"` written out or left out), `input_list` (a Responses string input as one user
//!   message), `part_first` / `part_last` (a text part put before / after the faulty content part);
//! - tools: `tool_first` / `tool_last` (a valid function tool first / last, where function tools
//!   are given), `many_tools` (40 valid function tools first), `tool_dup` (a valid tool of the body
//!   copied under a new name), `tool_call_first` (a valid tool call first in the faulty call's
//!   `tool_calls`, its answer right after), `schema_sibling` (a valid optional property beside a
//!   fault in a function's parameters);
//! - `other_endpoint`: a body of plain text turns and function tools sent through the other of
//!   Chat Completions and Responses, where the fault is one both judge alike (see
//!   [`cross_endpoint`]; only the param is compared);
//! - `other_value`: the same fault with another value of its kind (see [`value_variant`]).
//!
//! A transformation is skipped where it does not apply: the fault is about the whole array
//! (`param` is `messages`, `input` or `tools`), the input is a string, the body has no such array,
//! or the model's family is not one the change is known to be harmless on. Cases Airlock does not
//! match (a `gap`, a warning-only case) must keep Airlock's own verdict, moved the same way. Over
//! the tuned accepted corpus (`tests/requests/real_accepted/`; never the held-out one) the same
//! transformations must never produce an error.

extern crate alloc;

use std::path::{Path, PathBuf};

use airlock_rules::validate::{ApiError, Config, check};
use serde_json::{Map, Value, json};

#[path = "support/endpoint_paths.rs"]
mod endpoint_paths;
#[path = "support/message_form.rs"]
mod message_form;

fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/requests")
        .join(name)
}

/// A JSON value with every object's keys in sorted (or reverse-sorted) order.
fn serialize_ordered(v: &Value, reverse: bool, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            if reverse {
                keys.reverse();
            }
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap());
                out.push(':');
                serialize_ordered(&m[k.as_str()], reverse, out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                serialize_ordered(x, reverse, out);
            }
            out.push(']');
        }
        other => out.push_str(&serde_json::to_string(other).unwrap()),
    }
}

/// A JSON string with every non-ASCII character, every '/' and (for a key) the first character
/// written as `\u` escapes: the same string to any JSON parser.
fn escaped_string(s: &str, key: bool, out: &mut String) {
    out.push('"');
    for (n, c) in s.chars().enumerate() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            c if (c as u32) < 0x20 || !c.is_ascii() || (key && n == 0) => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn serialize_escaped(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                escaped_string(k, true, out);
                out.push(':');
                serialize_escaped(x, out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                serialize_escaped(x, out);
            }
            out.push(']');
        }
        Value::String(s) => escaped_string(s, false, out),
        other => out.push_str(&serde_json::to_string(other).unwrap()),
    }
}

fn ordered(v: &Value, reverse: bool) -> Vec<u8> {
    let mut s = String::new();
    serialize_ordered(v, reverse, &mut s);
    s.into_bytes()
}

/// `messages.[3].x` → `messages[3].x`.
fn norm(p: &str) -> String {
    p.replace(".[", "[")
}

/// The index a param names in `array` (`messages[3].content` → 3), if it names one.
fn index_in(param: Option<&str>, array: &str) -> Option<usize> {
    let p = norm(param?);
    let rest = p.strip_prefix(array)?.strip_prefix('[')?;
    let end = rest.find(']')?;
    rest[..end].parse().ok()
}

/// The param with its index in `array` raised by one, if it names one at or after `from`.
fn shifted(param: Option<&str>, array: &str, from: usize) -> Option<String> {
    let p = norm(param?);
    match index_in(Some(&p), array) {
        Some(i) if i >= from => {
            let rest = &p[array.len()..];
            let close = rest.find(']').unwrap();
            Some(format!("{array}[{}]{}", i + 1, &rest[close + 1..]))
        }
        _ => Some(p),
    }
}

/// How many turns or tools the long contexts put before the fault.
const LONG: usize = 40;

/// Model aliases and the dated snapshot each serves.
const SNAPSHOTS: &[(&str, &str)] = &[
    ("gpt-4o", "gpt-4o-2024-08-06"),
    ("gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
    ("gpt-4.1", "gpt-4.1-2025-04-14"),
    ("gpt-4.1-mini", "gpt-4.1-mini-2025-04-14"),
    ("gpt-4.1-nano", "gpt-4.1-nano-2025-04-14"),
    ("gpt-4-turbo", "gpt-4-turbo-2024-04-09"),
    ("gpt-3.5-turbo", "gpt-3.5-turbo-0125"),
    ("o1", "o1-2024-12-17"),
    ("o1-mini", "o1-mini-2024-09-12"),
    ("o1-preview", "o1-preview-2024-09-12"),
    ("o3-mini", "o3-mini-2025-01-31"),
    ("o3", "o3-2025-04-16"),
    ("o4-mini", "o4-mini-2025-04-16"),
    ("gpt-5", "gpt-5-2025-08-07"),
    ("gpt-5-mini", "gpt-5-mini-2025-08-07"),
    ("gpt-5-nano", "gpt-5-nano-2025-08-07"),
    ("gpt-5.1", "gpt-5.1-2025-11-13"),
];

/// Models of one family and generation that take the same parameters and inputs.
const SIBLINGS: &[(&str, &str)] = &[
    ("gpt-4o", "gpt-4o-mini"),
    ("gpt-4.1", "gpt-4.1-mini"),
    ("gpt-4.1-nano", "gpt-4.1-mini"),
    ("gpt-5", "gpt-5-mini"),
    ("gpt-5-nano", "gpt-5-mini"),
];

/// Model families that have streamed since they were served (and need no verified organization to).
const STREAMING: &[&str] = &[
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-4-turbo",
    "gpt-4",
    "gpt-3.5-turbo",
];

/// The value a param names (`tools[0].function.name` → that string), for changing it.
fn at_param<'a>(body: &'a mut Value, param: &str) -> Option<&'a mut Value> {
    let mut v = body;
    for seg in norm(param).split('.') {
        let (key, rest) = match seg.find('[') {
            Some(i) => (&seg[..i], &seg[i..]),
            None => (seg, ""),
        };
        if !key.is_empty() {
            v = v.get_mut(key)?;
        }
        for idx in rest.split('[').skip(1) {
            let n: usize = idx.strip_suffix(']')?.parse().ok()?;
            v = v.get_mut(n)?;
        }
    }
    Some(v)
}

/// The same fault with another value of its kind, chosen by the family of OpenAI's message: a
/// string over its maximum made longer, a name off its pattern given one more character off it, a
/// refused non-default sampling value changed to another non-default one, a token count over the
/// model's limit or under a minimum moved further out.
fn value_variant(body: &Value, case: &Value) -> Option<Variant> {
    let message = case["message"].as_str()?;
    let param = norm(case["param"].as_str()?);
    let mut b = body.clone();
    let v = at_param(&mut b, &param)?;
    if message.contains("string too long") {
        // Not an id another item refers to (a longer call id would leave its answer unpaired).
        if param.ends_with("id") {
            return None;
        }
        let s = v.as_str()?;
        *v = json!(format!("{s}{s}"));
    } else if message.contains("string does not match pattern") && message.contains("a-zA-Z0-9_-") {
        let s = v.as_str()?;
        if s.chars().count() + 2 > 64 {
            return None;
        }
        *v = json!(format!("{s} x"));
    } else if message.contains("Only the default (1) value is supported") {
        let x = v.as_f64()?;
        *v = json!(if (x - 0.3).abs() < 1e-9 { 0.6 } else { 0.3 });
    } else if message.contains("is too large") || message.contains("integer above maximum") {
        let n = v.as_u64()?;
        *v = json!(n * 2);
    } else if message.contains("integer below minimum") {
        let n = v.as_i64()?;
        if n < 1 {
            return None;
        }
        *v = json!(n - 1);
    } else {
        return None;
    }
    Some(Variant {
        name: "other_value",
        body: serde_json::to_vec(&b).unwrap(),
        param: Some(param),
        endpoint: None,
    })
}

struct Variant {
    name: &'static str,
    body: Vec<u8>,
    /// The param OpenAI would name for the changed body (None: not known).
    param: Option<String>,
    /// Sent to the other endpoint (then only the param is compared: the wording is the endpoint's).
    endpoint: Option<&'static str>,
}

/// The array of turns of a body: `messages` (chat) or `input` (Responses, when a list).
fn turns_key(endpoint: &str) -> Option<&'static str> {
    match endpoint {
        "/v1/chat/completions" => Some("messages"),
        "/v1/responses" | "/v1/responses/input_tokens" => Some("input"),
        _ => None,
    }
}

fn user_turn() -> Value {
    json!({"role": "user", "content": "Please keep the answer short."})
}

/// A turn after which another turn may not be put (its answer or its follower must come next).
fn binds_next(endpoint: &str, turn: &Value) -> bool {
    if endpoint == "/v1/chat/completions" {
        return turn["role"] == "assistant"
            && turn
                .get("tool_calls")
                .is_some_and(|c| !c.is_null() && c.as_array().is_none_or(|a| !a.is_empty()));
    }
    let ty = turn["type"].as_str().unwrap_or("message");
    ty != "message" && !ty.ends_with("_output") && ty != "item_reference"
}

/// A turn that must follow the one before it (a tool result, a call output).
fn bound_to_previous(endpoint: &str, turn: &Value) -> bool {
    if endpoint == "/v1/chat/completions" {
        return matches!(turn["role"].as_str(), Some("tool" | "function"));
    }
    let ty = turn["type"].as_str().unwrap_or("message");
    ty != "message" && ty != "item_reference"
}

/// Function tools nested under `function` (Chat, and the Assistants endpoints), not flat
/// (Responses).
fn nested_function_tools(endpoint: &str) -> bool {
    endpoint == "/v1/chat/completions"
        || endpoint.starts_with("/v1/assistants")
        || endpoint.starts_with("/v1/threads")
}

/// How many tools the endpoint takes: a run (`/v1/threads/runs`, `/v1/threads/{id}/runs`) takes 20
/// (the spec's `maxItems` of `CreateRunRequest.tools` and `CreateThreadAndRunRequest.tools`), the
/// others 128. The tool variants stay under it, so an accepted body stays accepted.
fn max_tools(endpoint: &str) -> usize {
    if endpoint.starts_with("/v1/threads") && endpoint.ends_with("/runs") {
        20
    } else {
        128
    }
}

fn new_tool(endpoint: &str, name: &str) -> Value {
    let parameters = json!({
        "type": "object",
        "properties": {"city": {"type": "string", "description": "City name"}},
        "required": ["city"],
        "additionalProperties": false
    });
    if nested_function_tools(endpoint) {
        json!({"type": "function", "function": {
            "name": name, "description": "Look up the time zone of a city.", "parameters": parameters}})
    } else {
        json!({"type": "function", "name": name,
            "description": "Look up the time zone of a city.", "parameters": parameters, "strict": false})
    }
}

fn tool_name(endpoint: &str, tool: &Value) -> Option<String> {
    let t = if nested_function_tools(endpoint) {
        &tool["function"]["name"]
    } else {
        &tool["name"]
    };
    t.as_str().map(String::from)
}

fn variants(endpoint: &str, body: &Value, rejected: bool, param: Option<&str>) -> Vec<Variant> {
    let param_n = param.map(norm);
    let same = || param_n.clone();
    let mut out = vec![
        Variant {
            name: "pretty",
            body: serde_json::to_vec_pretty(body).unwrap(),
            param: same(),
            endpoint: None,
        },
        Variant {
            name: "minified",
            body: serde_json::to_vec(body).unwrap(),
            param: same(),
            endpoint: None,
        },
        Variant {
            name: "keys_sorted",
            body: ordered(body, false),
            param: same(),
            endpoint: None,
        },
        Variant {
            name: "keys_reversed",
            body: ordered(body, true),
            param: same(),
            endpoint: None,
        },
    ];
    let mut esc = String::new();
    serialize_escaped(body, &mut esc);
    out.push(Variant {
        name: "escaped",
        body: esc.into_bytes(),
        param: same(),
        endpoint: None,
    });
    let Some(obj) = body.as_object() else {
        return out;
    };
    let about = |key: &str| param_n.as_deref() == Some(key);
    let takes_user = matches!(
        endpoint,
        "/v1/chat/completions"
            | "/v1/responses"
            | "/v1/embeddings"
            | "/v1/completions"
            | "/v1/images/generations"
    );
    if takes_user && !obj.contains_key("user") {
        let mut b = obj.clone();
        b.insert("user".into(), json!("user-7f3a"));
        out.push(Variant {
            name: "user_param",
            body: serde_json::to_vec(&b).unwrap(),
            param: same(),
            endpoint: None,
        });
    }
    // Harmless parameters at their defaults, where the body has none.
    let mut defaults: Vec<(&str, Value)> = Vec::new();
    if turns_key(endpoint).is_some() {
        defaults.push(("stream", json!(false)));
    }
    if endpoint == "/v1/chat/completions" {
        defaults.push(("store", json!(false)));
    }
    if endpoint == "/v1/responses" {
        defaults.push(("metadata", json!({"app": "metamorphic"})));
    }
    for (key, value) in defaults {
        if !obj.contains_key(key) {
            let mut b = obj.clone();
            b.insert(key.into(), value);
            out.push(Variant {
                name: "default_param",
                body: serde_json::to_vec(&b).unwrap(),
                param: same(),
                endpoint: None,
            });
        }
    }
    if let Some(key) = turns_key(endpoint) {
        if let Some(turns) = obj.get(key).and_then(Value::as_array) {
            if !about(key) && !turns.is_empty() {
                let with = |at: usize| {
                    let mut t = turns.clone();
                    t.insert(at, user_turn());
                    let mut b: Map<String, Value> = obj.clone();
                    b.insert(key.into(), Value::Array(t));
                    serde_json::to_vec(&b).unwrap()
                };
                if !bound_to_previous(endpoint, &turns[0]) {
                    out.push(Variant {
                        name: "insert_first",
                        body: with(0),
                        param: shifted(param, key, 0),
                        endpoint: None,
                    });
                    // A long conversation before: 40 user and assistant text turns.
                    let mut t: Vec<Value> = (0..LONG)
                        .map(|n| {
                            let role = if n % 2 == 0 { "user" } else { "assistant" };
                            json!({"role": role, "content": format!("Turn {n}: noted.")})
                        })
                        .collect();
                    t.extend(turns.iter().cloned());
                    let mut b = obj.clone();
                    b.insert(key.into(), Value::Array(t));
                    out.push(Variant {
                        name: "long_history",
                        body: serde_json::to_vec(&b).unwrap(),
                        param: (0..LONG)
                            .fold(param_n.clone(), |p, _| shifted(p.as_deref(), key, 0)),
                        endpoint: None,
                    });
                }
                if let Some(i) = index_in(param, key) {
                    if i > 0
                        && i < turns.len()
                        && !bound_to_previous(endpoint, &turns[i])
                        && !binds_next(endpoint, &turns[i - 1])
                    {
                        out.push(Variant {
                            name: "insert_before",
                            body: with(i),
                            param: shifted(param, key, i),
                            endpoint: None,
                        });
                    }
                }
                if !binds_next(endpoint, turns.last().unwrap()) {
                    out.push(Variant {
                        name: "append_last",
                        body: with(turns.len()),
                        param: same(),
                        endpoint: None,
                    });
                    // The faulty turn once more at the end: the first one is still named.
                    if let Some(i) = index_in(param, key) {
                        let faulty = &turns[i.min(turns.len() - 1)];
                        if i < turns.len()
                            && !bound_to_previous(endpoint, faulty)
                            && !binds_next(endpoint, faulty)
                        {
                            let mut t = turns.clone();
                            t.push(faulty.clone());
                            let mut b = obj.clone();
                            b.insert(key.into(), Value::Array(t));
                            out.push(Variant {
                                name: "fault_twice",
                                body: serde_json::to_vec(&b).unwrap(),
                                param: same(),
                                endpoint: None,
                            });
                        }
                    }
                }
            }
        }
    }
    let model = obj.get("model").and_then(Value::as_str).unwrap_or("");
    // The same model under its dated snapshot name (the alias serves that snapshot).
    if let Some(&(_, snapshot)) = SNAPSHOTS.iter().find(|(alias, _)| *alias == model) {
        let mut b = obj.clone();
        b.insert("model".into(), json!(snapshot));
        out.push(Variant {
            name: "model_snapshot",
            body: serde_json::to_vec(&b).unwrap(),
            param: same(),
            endpoint: None,
        });
    }
    // A sibling of the same family and generation, with the same parameters, tools, inputs and
    // limits.
    if let Some(pair) = SIBLINGS
        .iter()
        .find(|pair| pair.0 == model || pair.1 == model)
    {
        let other = if pair.0 == model { pair.1 } else { pair.0 };
        let mut b = obj.clone();
        b.insert("model".into(), json!(other));
        out.push(Variant {
            name: "model_sibling",
            body: serde_json::to_vec(&b).unwrap(),
            param: same(),
            endpoint: None,
        });
    }
    // A streaming request, on models that have always streamed.
    let streams = STREAMING
        .iter()
        .any(|m| model == *m || model.strip_prefix(m).is_some_and(|r| r.starts_with('-')))
        && !["audio", "realtime", "search", "transcribe", "tts"]
            .iter()
            .any(|w| model.contains(w));
    if streams
        && turns_key(endpoint).is_some()
        && !obj.contains_key("stream")
        && !obj.contains_key("stream_options")
    {
        let mut b = obj.clone();
        b.insert("stream".into(), json!(true));
        out.push(Variant {
            name: "stream",
            body: serde_json::to_vec(&b).unwrap(),
            param: same(),
            endpoint: None,
        });
    }
    // Current families, whose every role takes the system prompt and text parts.
    let modern = streams || model.starts_with("gpt-5");
    if let Some(key) = turns_key(endpoint) {
        if let Some(turns) = obj.get(key).and_then(Value::as_array) {
            if key == "messages" && modern && !about(key) && !turns.is_empty() {
                let mut t =
                    vec![json!({"role": "system", "content": "You are a helpful assistant."})];
                t.extend(turns.iter().cloned());
                let mut b = obj.clone();
                b.insert(key.into(), Value::Array(t));
                out.push(Variant {
                    name: "system_first",
                    body: serde_json::to_vec(&b).unwrap(),
                    param: shifted(param, key, 0),
                    endpoint: None,
                });
            }
            // A Responses message item with its optional `"type": "message"` written out (or
            // left out where it was written), on every item but the faulty one.
            if key == "input" {
                let faulty = index_in(param, key);
                let mut t = turns.clone();
                let mut changed = false;
                for (i, turn) in t.iter_mut().enumerate() {
                    let Some(m) = turn.as_object_mut() else {
                        continue;
                    };
                    if Some(i) == faulty || !m.contains_key("role") {
                        continue;
                    }
                    match m.get("type").and_then(Value::as_str) {
                        None => {
                            m.insert("type".into(), json!("message"));
                            changed = true;
                        }
                        Some("message") if !m.contains_key("id") && !m.contains_key("status") => {
                            m.remove("type");
                            changed = true;
                        }
                        _ => {}
                    }
                }
                if changed {
                    let mut b = obj.clone();
                    b.insert(key.into(), Value::Array(t));
                    out.push(Variant {
                        name: "message_type",
                        body: serde_json::to_vec(&b).unwrap(),
                        param: same(),
                        endpoint: None,
                    });
                }
            }
        }
    }
    if endpoint == "/v1/responses" && !obj.contains_key("instructions") {
        let mut b = obj.clone();
        b.insert("instructions".into(), json!("Answer in English."));
        out.push(Variant {
            name: "instructions",
            body: serde_json::to_vec(&b).unwrap(),
            param: same(),
            endpoint: None,
        });
    }
    // A user's string content given as one text part (another message than the faulty one), and
    // a Responses string input given as one user message.
    if let Some(key) = turns_key(endpoint) {
        let part = if key == "messages" {
            "text"
        } else {
            "input_text"
        };
        match obj.get(key) {
            Some(Value::Array(turns)) => {
                let faulty = index_in(param, key);
                let mut t = turns.clone();
                let mut changed = false;
                for (i, turn) in t.iter_mut().enumerate() {
                    // Every role takes text parts; outside the families below only the user's
                    // are counted on (older models and o1 were strict about the other roles).
                    let any_role = key == "messages"
                        && modern
                        && matches!(
                            turn["role"].as_str(),
                            Some("system" | "developer" | "assistant" | "tool")
                        );
                    if Some(i) == faulty || (turn["role"] != "user" && !any_role) {
                        continue;
                    }
                    if let Some(text) = turn["content"].as_str() {
                        turn["content"] = json!([{"type": part, "text": text}]);
                        changed = true;
                    }
                }
                if changed {
                    let mut b = obj.clone();
                    b.insert(key.into(), Value::Array(t));
                    out.push(Variant {
                        name: "text_parts",
                        body: serde_json::to_vec(&b).unwrap(),
                        param: same(),
                        endpoint: None,
                    });
                }
            }
            Some(Value::String(text)) if key == "input" && !about("input") => {
                let mut b = obj.clone();
                b.insert("input".into(), json!([{"role": "user", "content": text}]));
                out.push(Variant {
                    name: "input_list",
                    body: serde_json::to_vec(&b).unwrap(),
                    param: same(),
                    endpoint: None,
                });
            }
            _ => {}
        }
    }
    // A valid text part put first / last in the content list that holds the faulty part.
    if let Some(key) = turns_key(endpoint) {
        if let (Some(i), Some(turns)) =
            (index_in(param, key), obj.get(key).and_then(Value::as_array))
        {
            let inner = format!("{key}[{i}].content");
            let turn = turns.get(i).cloned().unwrap_or(Value::Null);
            let part = match (key, turn["role"].as_str()) {
                ("messages", Some(_)) => Some(json!({"type": "text", "text": "See below."})),
                ("input", Some("user" | "system" | "developer")) => {
                    Some(json!({"type": "input_text", "text": "See below."}))
                }
                _ => None,
            };
            if let (Some(part), Some(parts), Some(_)) = (
                part,
                turn["content"].as_array(),
                index_in(param_n.as_deref(), &inner),
            ) {
                for (name, at) in [("part_first", 0), ("part_last", parts.len())] {
                    let mut t = turns.clone();
                    t[i]["content"]
                        .as_array_mut()
                        .unwrap()
                        .insert(at, part.clone());
                    let mut b = obj.clone();
                    b.insert(key.into(), Value::Array(t));
                    out.push(Variant {
                        name,
                        body: serde_json::to_vec(&b).unwrap(),
                        param: if at == 0 {
                            shifted(param_n.as_deref(), &inner, 0)
                        } else {
                            same()
                        },
                        endpoint: None,
                    });
                }
            }
        }
    }
    // A valid tool call (with its answer right after the assistant turn) put first in the
    // `tool_calls` that hold the faulty call.
    if endpoint == "/v1/chat/completions" {
        let turns = obj.get("messages").and_then(Value::as_array);
        if let (Some(i), Some(turns)) = (index_in(param, "messages"), turns) {
            let inner = format!("messages[{i}].tool_calls");
            let calls = turns.get(i).and_then(|t| t["tool_calls"].as_array());
            if let (Some(_), Some(_)) = (index_in(param_n.as_deref(), &inner), calls) {
                let mut t = turns.clone();
                t[i]["tool_calls"].as_array_mut().unwrap().insert(
                    0,
                    json!({"id": "call_meta0001", "type": "function",
                        "function": {"name": "lookup_time_zone", "arguments": "{\"city\":\"Oslo\"}"}}),
                );
                t.insert(
                    i + 1,
                    json!({"role": "tool", "tool_call_id": "call_meta0001", "content": "Europe/Oslo"}),
                );
                let mut b = obj.clone();
                b.insert("messages".into(), Value::Array(t));
                out.push(Variant {
                    name: "tool_call_first",
                    body: serde_json::to_vec(&b).unwrap(),
                    param: shifted(param_n.as_deref(), &inner, 0),
                    endpoint: None,
                });
            }
        }
    }
    // A valid optional property beside the fault in a function's parameters (in a strict
    // function also listed in `required`, as strict mode wants).
    if let Some(j) = index_in(param, "tools") {
        let chat = endpoint == "/v1/chat/completions";
        let f = if chat {
            "function.parameters"
        } else {
            "parameters"
        };
        let tool = obj.get("tools").and_then(|t| t.get(j));
        let p = param_n.as_deref().unwrap_or("");
        if let Some(tool) = tool.filter(|_| p.starts_with(&format!("tools[{j}].{f}"))) {
            let func = if chat { &tool["function"] } else { tool };
            let strict = func["strict"].as_bool().unwrap_or(!chat);
            let params = &func["parameters"];
            let props = params["properties"].as_object();
            let required = params["required"].as_array();
            if let Some(props) = props.filter(|p| !p.contains_key("note")) {
                if !strict || required.is_some() {
                    let mut b = obj.clone();
                    let target = if chat {
                        &mut b["tools"][j]["function"]["parameters"]
                    } else {
                        &mut b["tools"][j]["parameters"]
                    };
                    let mut props = props.clone();
                    props.insert(
                        "note".into(),
                        json!({"type": "string", "description": "A note."}),
                    );
                    target["properties"] = Value::Object(props);
                    if strict {
                        target["required"]
                            .as_array_mut()
                            .unwrap()
                            .push(json!("note"));
                    }
                    out.push(Variant {
                        name: "schema_sibling",
                        body: serde_json::to_vec(&b).unwrap(),
                        param: same(),
                        endpoint: None,
                    });
                }
            }
        }
    }
    if let Some(v) = cross_endpoint(endpoint, obj, rejected, param_n.as_deref()) {
        out.push(v);
    }
    let tools_ok = !model.contains("search") && !model.contains("deep-research");
    if let Some(tools) = obj.get("tools").and_then(Value::as_array) {
        let functions: Vec<usize> = (0..tools.len())
            .filter(|&j| tools[j]["type"] == "function")
            .collect();
        if tools_ok && !about("tools") && !functions.is_empty() && tools.len() < max_tools(endpoint)
        {
            let names: Vec<String> = tools
                .iter()
                .filter_map(|t| tool_name(endpoint, t))
                .collect();
            let fresh = |base: &str| {
                let mut n = format!("{base}_alt");
                while names.contains(&n) {
                    n.push('x');
                }
                n
            };
            let with = |at: usize, tool: Value| {
                let mut t = tools.clone();
                t.insert(at, tool);
                let mut b = obj.clone();
                b.insert("tools".into(), Value::Array(t));
                serde_json::to_vec(&b).unwrap()
            };
            if !obj.contains_key("tool_choice") {
                let mut b = obj.clone();
                b.insert("tool_choice".into(), json!("auto"));
                out.push(Variant {
                    name: "tool_choice_auto",
                    body: serde_json::to_vec(&b).unwrap(),
                    param: same(),
                    endpoint: None,
                });
            }
            let extra = new_tool(endpoint, &fresh("lookup_time_zone"));
            out.push(Variant {
                name: "tool_first",
                body: with(0, extra.clone()),
                param: shifted(param, "tools", 0),
                endpoint: None,
            });
            if tools.len() + LONG < max_tools(endpoint) {
                let mut t: Vec<Value> = (0..LONG)
                    .map(|n| new_tool(endpoint, &fresh(&format!("lookup_time_zone_{n}"))))
                    .collect();
                t.extend(tools.iter().cloned());
                let mut b = obj.clone();
                b.insert("tools".into(), Value::Array(t));
                out.push(Variant {
                    name: "many_tools",
                    body: serde_json::to_vec(&b).unwrap(),
                    param: (0..LONG)
                        .fold(param_n.clone(), |p, _| shifted(p.as_deref(), "tools", 0)),
                    endpoint: None,
                });
            }
            out.push(Variant {
                name: "tool_last",
                body: with(tools.len(), extra),
                param: same(),
                endpoint: None,
            });
            // A copy of a function tool the param does not name, under a new name.
            let faulty = index_in(param, "tools");
            if let Some(&j) = functions.iter().find(|&&j| Some(j) != faulty) {
                let mut copy = tools[j].clone();
                let name = tool_name(endpoint, &copy).unwrap_or_default();
                let renamed = fresh(&name);
                if !name.is_empty() && renamed.len() <= 64 {
                    if nested_function_tools(endpoint) {
                        copy["function"]["name"] = json!(renamed);
                    } else {
                        copy["name"] = json!(renamed);
                    }
                    out.push(Variant {
                        name: "tool_dup",
                        body: with(tools.len(), copy),
                        param: same(),
                        endpoint: None,
                    });
                }
            }
        }
    }
    out
}

/// Models served on both Chat Completions and Responses.
const BOTH_ENDPOINTS: &[&str] = &[
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-5",
    "gpt-5-mini",
    "gpt-5-nano",
    "gpt-5.1",
    "gpt-5.2",
    "o1",
    "o3",
    "o3-mini",
    "o4-mini",
];

/// The same request through the other endpoint that carries the same structure, where the fault
/// is one both endpoints judge alike: a sampling parameter or the reasoning effort at the top
/// level, or a function tool's name or parameters, in a body of plain text turns and function
/// tools only (anything else is not converted). `messages[i]` ↔ `input[i]`, `tools[j].function.x`
/// ↔ `tools[j].x`, `reasoning_effort` ↔ `reasoning.effort`.
fn cross_endpoint(
    endpoint: &str,
    obj: &Map<String, Value>,
    rejected: bool,
    param: Option<&str>,
) -> Option<Variant> {
    let model = obj.get("model")?.as_str()?;
    if !BOTH_ENDPOINTS.contains(&model) {
        return None;
    }
    // A reasoning model takes the effort on both endpoints (a value it refuses is refused on both;
    // another model's Chat 400 names no param, its Responses 400 names `reasoning.effort`).
    let reasoning = model.starts_with('o') || model.starts_with("gpt-5");
    // An accepted body (no param) is converted whole; a rejected one only for the faults above.
    if rejected && param.is_none() {
        return None;
    }
    let p = param.unwrap_or("temperature");
    let tool_field = |p: &str, prefix_fn: bool| -> Option<(usize, String)> {
        let i = index_in(Some(p), "tools")?;
        let rest = &p[p.find(']')? + 1..];
        let rest = if prefix_fn {
            rest.strip_prefix(".function")?
        } else {
            rest
        };
        let field = rest.strip_prefix('.')?;
        (field == "name" || field.starts_with("parameters")).then(|| (i, field.to_string()))
    };
    let plain_turn = |t: &Value, roles: &[&str]| {
        t.as_object().is_some_and(|m| {
            m.keys()
                .all(|k| k == "role" || k == "content" || (k == "type" && t["type"] == "message"))
                && t["content"].is_string()
                && roles.contains(&t["role"].as_str().unwrap_or(""))
        })
    };
    let mut b = Map::new();
    let new_param;
    let to: &'static str;
    if endpoint == "/v1/chat/completions" {
        to = "/v1/responses";
        new_param = match p {
            "temperature" | "top_p" => p.to_string(),
            "reasoning_effort" if reasoning => "reasoning.effort".into(),
            _ => {
                let (i, f) = tool_field(p, true)?;
                format!("tools[{i}].{f}")
            }
        };
        for (k, v) in obj {
            match k.as_str() {
                "model" | "temperature" | "top_p" | "user" | "parallel_tool_calls" | "store" => {
                    b.insert(k.clone(), v.clone());
                }
                "reasoning_effort" => {
                    b.insert("reasoning".into(), json!({"effort": v}));
                }
                "messages" => {
                    let turns = v.as_array()?;
                    let ok = turns
                        .iter()
                        .all(|t| plain_turn(t, &["user", "system", "developer", "assistant"]));
                    if !ok || turns.is_empty() {
                        return None;
                    }
                    b.insert("input".into(), v.clone());
                }
                "tools" => {
                    let mut tools = Vec::new();
                    for t in v.as_array()? {
                        let f = t.get("function")?.as_object()?;
                        if t["type"] != "function" || t.as_object()?.len() != 2 {
                            return None;
                        }
                        // The function's own keys (Chat lets others through, Responses does not).
                        let mut n: Map<String, Value> = f
                            .iter()
                            .filter(|(k, _)| {
                                matches!(
                                    k.as_str(),
                                    "name" | "description" | "parameters" | "strict"
                                )
                            })
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        n.insert("type".into(), json!("function"));
                        if !n.contains_key("strict") {
                            n.insert("strict".into(), json!(false));
                        }
                        tools.push(Value::Object(n));
                    }
                    b.insert("tools".into(), Value::Array(tools));
                }
                _ => return None,
            }
        }
    } else if endpoint == "/v1/responses" {
        to = "/v1/chat/completions";
        new_param = match p {
            "temperature" | "top_p" => p.to_string(),
            "reasoning.effort" if reasoning => "reasoning_effort".into(),
            _ => {
                let (i, f) = tool_field(p, false)?;
                format!("tools[{i}].function.{f}")
            }
        };
        for (k, v) in obj {
            match k.as_str() {
                "model" | "temperature" | "top_p" | "user" | "parallel_tool_calls" | "store" => {
                    b.insert(k.clone(), v.clone());
                }
                "reasoning" => {
                    let r = v.as_object()?;
                    if r.len() != 1 {
                        return None;
                    }
                    b.insert("reasoning_effort".into(), r.get("effort")?.clone());
                }
                "input" => {
                    let turns = match v {
                        Value::String(s) => vec![json!({"role": "user", "content": s})],
                        Value::Array(a) => a.clone(),
                        _ => return None,
                    };
                    let ok = turns
                        .iter()
                        .all(|t| plain_turn(t, &["user", "system", "developer", "assistant"]));
                    if !ok || turns.is_empty() {
                        return None;
                    }
                    let turns = turns
                        .into_iter()
                        .map(|t| json!({"role": t["role"], "content": t["content"]}))
                        .collect();
                    b.insert("messages".into(), Value::Array(turns));
                }
                "instructions" => return None,
                "tools" => {
                    let mut tools = Vec::new();
                    for t in v.as_array()? {
                        let mut f = t.as_object()?.clone();
                        if f.remove("type")? != "function" {
                            return None;
                        }
                        tools.push(json!({"type": "function", "function": f}));
                    }
                    b.insert("tools".into(), Value::Array(tools));
                }
                _ => return None,
            }
        }
    } else {
        return None;
    }
    Some(Variant {
        name: "other_endpoint",
        body: serde_json::to_vec(&b).unwrap(),
        param: param.map(|_| new_param),
        endpoint: Some(to),
    })
}

/// A message's form (`support/message_form.rs`, as in `tests/requests.rs`), with `0.0` read as `0`.
fn form(message: &str) -> String {
    message_form::form(message).replace("0.0", "0")
}

fn matches(case: &Value, param: Option<&str>, e: &ApiError) -> Result<(), String> {
    let shown = case.get("param_shown").and_then(Value::as_bool) != Some(false);
    if shown && e.param.as_deref().map(norm).as_deref() != param {
        return Err(format!("param {:?}, want {:?}", e.param, param));
    }
    if let Some(code) = case["code"].as_str() {
        if e.code.as_deref() != Some(code) {
            return Err(format!("code {:?}, want {code:?}", e.code));
        }
    }
    if let Some(m) = case["message"].as_str() {
        if form(&e.message) != form(m) {
            return Err(format!("message {:?}", e.message));
        }
    }
    Ok(())
}

/// Every tuned real rejected case Airlock matches (not a gap, not a warning-only case) still
/// matches, with the param moved as the change moves it, under every transformation.
#[test]
fn rejected_verdicts_survive_context_changes() {
    let root = dir("real_rejected");
    let table: Value =
        serde_json::from_slice(&std::fs::read(root.join("EXPECTED.json")).unwrap()).unwrap();
    let mut failures = Vec::new();
    let mut runs = 0;
    let mut counts = alloc::collections::BTreeMap::new();
    for case in table.as_array().unwrap() {
        if case.get("gap").is_some() || case.get("airlock").is_some() {
            continue;
        }
        let file = case["file"].as_str().unwrap();
        let endpoint = case["endpoint"].as_str().unwrap();
        let raw = std::fs::read(root.join(file)).unwrap();
        let Ok(body) = serde_json::from_slice::<Value>(&raw) else {
            continue;
        };
        let mut list = variants(endpoint, &body, true, case["param"].as_str());
        list.extend(value_variant(&body, case));
        for v in list {
            runs += 1;
            *counts.entry(v.name).or_insert(0) += 1;
            let verdict = check(v.endpoint.unwrap_or(endpoint), &v.body, &Config::default());
            let got = match (verdict.errors.first(), v.endpoint) {
                (None, _) => Err(String::from("not rejected")),
                (Some(first), None) => matches(case, v.param.as_deref(), &first.error),
                (Some(first), Some(_)) => {
                    let got = first.error.param.as_deref().map(norm);
                    let shown = case.get("param_shown").and_then(Value::as_bool) != Some(false);
                    if !shown || got == v.param {
                        Ok(())
                    } else {
                        Err(format!("param {got:?}, want {:?}", v.param))
                    }
                }
            };
            if let Err(why) = got {
                failures.push(format!("{file} [{}]: {why}", v.name));
            }
        }
    }
    eprintln!("rejected runs {runs}: {counts:?}");
    assert!(runs >= 1000, "only {runs} transformed rejected bodies");
    assert!(
        failures.is_empty(),
        "{} of {runs} transformed rejected bodies moved:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Where Airlock does not match OpenAI (a `gap`) or only warns, its own verdict still moves only
/// as the change moves it: rejected or not alike, and the first error's param transformed.
#[test]
fn unmatched_verdicts_are_stable_too() {
    let root = dir("real_rejected");
    let table: Value =
        serde_json::from_slice(&std::fs::read(root.join("EXPECTED.json")).unwrap()).unwrap();
    let mut failures = Vec::new();
    let mut runs = 0;
    for case in table.as_array().unwrap() {
        if case.get("gap").is_none() && case.get("airlock").is_none() {
            continue;
        }
        let file = case["file"].as_str().unwrap();
        let endpoint = case["endpoint"].as_str().unwrap();
        let raw = std::fs::read(root.join(file)).unwrap();
        let Ok(body) = serde_json::from_slice::<Value>(&raw) else {
            continue;
        };
        let own = check(endpoint, &raw, &Config::default());
        let own_param = own
            .errors
            .first()
            .map(|e| e.error.param.as_deref().map(norm));
        for v in variants(
            endpoint,
            &body,
            false,
            own_param.clone().flatten().as_deref(),
        ) {
            if v.endpoint.is_some() {
                continue;
            }
            runs += 1;
            let verdict = check(endpoint, &v.body, &Config::default());
            let got = verdict
                .errors
                .first()
                .map(|e| e.error.param.as_deref().map(norm));
            let want = own_param.as_ref().map(|_| v.param.clone());
            if got != want {
                failures.push(format!("{file} [{}]: {got:?}, want {want:?}", v.name));
            }
        }
    }
    eprintln!("gap runs {runs}");
    assert!(runs >= 100, "only {runs} transformed gap bodies");
    assert!(
        failures.is_empty(),
        "{} of {runs} transformed gap bodies moved:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// No transformation of a tuned accepted body is rejected.
#[test]
fn accepted_bodies_stay_accepted_under_context_changes() {
    let root = dir("real_accepted");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut failures = Vec::new();
    let mut runs = 0;
    let mut counts = alloc::collections::BTreeMap::new();
    for d in &dirs {
        let folder = d.file_name().unwrap().to_str().unwrap();
        let endpoint =
            endpoint_paths::path_of(folder).unwrap_or_else(|| panic!("unknown folder {folder}"));
        let mut list: Vec<PathBuf> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        list.sort();
        for path in list {
            let Ok(body) = serde_json::from_slice::<Value>(&std::fs::read(&path).unwrap()) else {
                continue;
            };
            for v in variants(endpoint, &body, false, None) {
                runs += 1;
                *counts.entry(v.name).or_insert(0) += 1;
                let verdict = check(v.endpoint.unwrap_or(endpoint), &v.body, &Config::default());
                if let Some(first) = verdict.errors.first() {
                    failures.push(format!(
                        "{} [{}]: {:?} {}",
                        path.strip_prefix(&root).unwrap().display(),
                        v.name,
                        first.error.param,
                        first.error.message
                    ));
                }
            }
        }
    }
    eprintln!("accepted runs {runs}: {counts:?}");
    assert!(runs >= 3000, "only {runs} transformed accepted bodies");
    assert!(
        failures.is_empty(),
        "{} of {runs} transformed accepted bodies rejected:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
