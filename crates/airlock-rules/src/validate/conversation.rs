//! Conversation order: tool calls and their answers.
//!
//! Rule `tool_call_pairing`:
//! - Chat: a `tool` message must follow an assistant message with `tool_calls` (or another tool
//!   message answering it), and every `tool_call_id` of that assistant message must be answered
//!   before the next assistant or user message (or the end of the list). A `system`/`developer`
//!   message in between neither closes nor opens anything. A call answered twice is an orphan
//!   answer when the answers outnumber the calls, a duplicate `tool_call_id` otherwise.
//! - Responses: a `function_call_output` needs a `function_call` with the same `call_id` in
//!   `input`, and a `function_call` followed by a later message needs its output. Both are only
//!   certain when the request carries the whole conversation: with `previous_response_id`,
//!   `conversation` or `item_reference` items, the call or output may live on the server, and
//!   nothing is reported.
//! - Responses: a `function_call_output` answering a function that declares `output_schema` is
//!   JSON.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::Value;

use super::Ctx;
use super::common::{Api, api, type_of};

const RULE: &str = "tool_call_pairing";

/// The Chat message roles.
const ROLES: &[&str] = &[
    "system",
    "developer",
    "user",
    "assistant",
    "tool",
    "function",
];

/// Rule `message_shape` (Chat): a role outside the six Chat roles, a user/system/developer/tool
/// message without `content`, a message `content` that is an object, number or boolean
/// ("Invalid type for 'messages[0].content': expected one of a string or array of objects, but
/// got an object instead."), and an assistant message with `tool_calls: []` ("Invalid
/// 'messages[1].tool_calls': empty array. …"), and an assistant message whose `content` is null
/// with nothing else said ("Invalid value for 'content': expected a string, got null."). Only the
/// first is reported, as OpenAI does.
///
/// The faults of shape (a role, a name, a content type, an empty `tool_calls`) are found in one
/// pass over the messages, run before the model rules ([`shapes`]); a missing content comes last
/// of all, after the model rules, in a second pass ([`missing_content`]): OpenAI answered a content
/// type fault or a bad role at a later index before a missing content at an earlier one, an empty
/// `tool_calls` before a temperature the model refuses, and that temperature before a missing
/// content (kangminlee-maker/local-OAuth-CLI-API-adapter's direct-API probes of gpt-5.6-terra,
/// 2026-08). Returns whether a fault was reported.
pub(super) fn shapes(ctx: &mut Ctx<'_>, endpoint: &str, body: &Value) -> bool {
    if !ctx.enabled("message_shape") || api(endpoint) != Some(Api::Chat) {
        return false;
    }
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return false;
    };
    for (i, m) in messages.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str);
        if let Some(role) = role.filter(|r| !ROLES.contains(r)) {
            ctx.reject(
                "message_shape",
                "invalid_value",
                Some(format!("messages[{i}].role")),
                format!(
                    "Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'."
                ),
            );
            return true;
        }
        // A participant name outside OpenAI's pattern (a user name with a space, an MCP tool
        // name with dots): jekalmin/extended_openai_conversation#251, microsoft/autogen#4157,
        // devoxx/DevoxxGenieIDEAPlugin#147. An empty name is left alone.
        // Only a name that also fails the older, looser pattern `^[^\s<|\\/>]+$` (a space, `<`,
        // `|`, `\`, `/`, `>`) is rejected; one that fails only the newer pattern (a dot, a
        // non-ASCII letter) gets a warning, in case the API relaxes it again.
        if let Some(name) = m.get("name").and_then(Value::as_str) {
            let strict_ok = name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !name.is_empty() && !strict_ok {
                let loose_bad = name
                    .chars()
                    .any(|c| c.is_whitespace() || matches!(c, '<' | '|' | '\\' | '/' | '>'));
                let param = format!("messages[{i}].name");
                let message = format!(
                    "Invalid '{param}': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'."
                );
                if loose_bad {
                    ctx.reject("message_shape", "invalid_value", Some(param), message);
                    return true;
                }
                ctx.warn("message_shape", "invalid_value", Some(param), message);
            }
        }
        let got = match m.get("content") {
            Some(Value::Object(_)) => Some("an object"),
            Some(Value::Bool(_)) => Some("a boolean"),
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Some("an integer"),
            Some(Value::Number(_)) => Some("a decimal number"),
            _ => None,
        };
        if let Some(got) = got {
            ctx.reject(
                "message_shape",
                "invalid_type",
                Some(format!("messages[{i}].content")),
                format!(
                    "Invalid type for 'messages[{i}].content': expected one of a string or array of objects, but got {got} instead."
                ),
            );
            return true;
        }
        if m.get("tool_calls")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
        {
            ctx.reject(
                "message_shape",
                "empty_array",
                Some(format!("messages[{i}].tool_calls")),
                format!(
                    "Invalid 'messages[{i}].tool_calls': empty array. Expected an array with minimum length 1, but got an empty array instead."
                ),
            );
            return true;
        }
    }
    false
}

/// Rule `message_shape`, its last pass: a Chat message without content (see [`shapes`]), and the
/// Responses shapes. `found`: [`shapes`] reported a fault already (only the first is reported).
pub(super) fn missing_content(ctx: &mut Ctx<'_>, endpoint: &str, body: &Value, found: bool) {
    if found || !ctx.enabled("message_shape") {
        return;
    }
    if api(endpoint) == Some(Api::Responses) {
        responses_shapes(ctx, body);
        return;
    }
    if api(endpoint) != Some(Api::Chat) {
        return;
    }
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return;
    };
    for (i, m) in messages.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str);
        // Only an absent content is certain: `null` is "not set" for the assistant, and what the
        // API says for a null user content has changed over time.
        // A developer message has a schema of its own and names the missing member; the other
        // roles answer "Invalid value for 'content': expected a string, got null." with no code,
        // whatever other member they carry (a `refusal` on a tool message is no substitute):
        // kangminlee-maker/local-OAuth-CLI-API-adapter's direct-API probes of gpt-5.6-terra.
        let needs_content = matches!(role, Some("user" | "system" | "developer" | "tool"));
        if needs_content && m.is_object() && m.get("content").is_none() {
            let param = format!("messages[{i}].content");
            if role == Some("developer") {
                ctx.reject(
                    "message_shape",
                    "missing_required_parameter",
                    Some(param.clone()),
                    format!("Missing required parameter: '{param}'."),
                );
            } else {
                ctx.reject(
                    "message_shape",
                    "",
                    Some(param),
                    "Invalid value for 'content': expected a string, got null.".into(),
                );
            }
            return;
        }
        // An assistant turn that says nothing: no `content` (absent or null) and no tool call,
        // function call, audio or refusal beside it, a null one being no substitute. OpenAI
        // (2026): "Invalid value for 'content': expected a string, got null." (vercel/ai#13744;
        // an absent content beside `refusal: null` in the direct-API probes of gpt-5.6-terra
        // above). `null` beside a tool call stays "not set".
        if role == Some("assistant")
            && m.is_object()
            && m.get("content").is_none_or(Value::is_null)
            && ["tool_calls", "function_call", "audio", "refusal"]
                .iter()
                .all(|k| m.get(*k).is_none_or(Value::is_null))
        {
            ctx.reject(
                "message_shape",
                "",
                Some(format!("messages[{i}].content")),
                "Invalid value for 'content': expected a string, got null.".into(),
            );
            return;
        }
    }
}

/// Rule `message_shape` (Responses): an assistant message in `input` whose content parts are
/// user-side parts (`input_text`, …). OpenAI: "Invalid value: 'input_text'. Supported values are:
/// 'output_text' and 'refusal'." with param `input[3].content[0]` (tinyhumansai/openhuman#3624,
/// jeremychone/rust-genai#119, BerriAI/litellm#17507).
fn responses_shapes(ctx: &mut Ctx<'_>, body: &Value) {
    let Some(items) = body.get("input").and_then(Value::as_array) else {
        return;
    };
    input_ids(ctx, items);
    for (i, item) in items.iter().enumerate() {
        if item.get("role").and_then(Value::as_str) != Some("assistant") {
            continue;
        }
        if !matches!(type_of(item), None | Some("message")) {
            continue;
        }
        let Some(parts) = item.get("content").and_then(Value::as_array) else {
            continue;
        };
        for (j, part) in parts.iter().enumerate() {
            let Some(t) = type_of(part) else { continue };
            if t.starts_with("input_") {
                ctx.reject(
                    "message_shape",
                    "invalid_value",
                    Some(format!("input[{i}].content[{j}]")),
                    format!(
                        "Invalid value: '{t}'. Supported values are: 'output_text' and 'refusal'."
                    ),
                );
                return;
            }
        }
    }
}

/// The prefix OpenAI requires of an input item's `id`, by item type. Seen refused: a message id
/// from a reasoning item (mastra-ai/mastra#10815, "Expected an ID that begins with 'msg'"), a
/// function call id minted by another provider or the Agents SDK's `__fake_id__` ("… with 'fc'",
/// openai-agents 0.3.3 reports), a reasoning id `item_…` relayed by gateways ("… with 'rs'").
fn id_prefix(item: &Value) -> Option<&'static str> {
    match type_of(item) {
        Some("message") => Some("msg"),
        None if item.get("role").is_some() => Some("msg"),
        Some("function_call") => Some("fc"),
        Some("reasoning") => Some("rs"),
        _ => None,
    }
}

/// Responses input items: ids with the wrong prefix, and the same id twice
/// (continuedev/continue#10723, earendil-works/pi#5149: "Duplicate item found with id …").
///
/// The characters are looked at before the prefix: an empty function call id got "Invalid
/// 'input[2].id': ''. Expected an ID that contains letters, numbers, underscores, or dashes, but
/// this value contained additional characters." (langchain-ai/langchainjs#11044, o4-mini), the
/// words OpenAI gives a `previous_response_id` outside those characters (see
/// `params::id_characters_checked`).
fn input_ids(ctx: &mut Ctx<'_>, items: &[Value]) {
    let mut seen: Vec<&str> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(id) = item.get("id").and_then(Value::as_str) else {
            continue;
        };
        if id_prefix(item).is_some() && (id.is_empty() || !super::params::is_id_text(id)) {
            ctx.reject(
                "input_item_ids",
                "",
                Some(format!("input[{i}].id")),
                format!("Invalid 'input[{i}].id': '{id}'. Expected an ID that contains letters, numbers, underscores, or dashes, but this value contained additional characters."),
            );
            return;
        }
        if let Some(prefix) = id_prefix(item) {
            if !id.starts_with(prefix) {
                // Code `invalid_value` (continuedev/continue#11689, the 400 quoted whole).
                ctx.reject(
                    "input_item_ids",
                    "invalid_value",
                    Some(format!("input[{i}].id")),
                    format!("Invalid 'input[{i}].id': '{id}'. Expected an ID that begins with '{prefix}'."),
                );
                return;
            }
        }
        if seen.contains(&id) {
            ctx.reject(
                "input_item_ids",
                "",
                Some(String::from("input")),
                format!(
                    "Duplicate item found with id {id}. Remove duplicate items from your input and try again."
                ),
            );
            return;
        }
        seen.push(id);
    }
}

/// A Responses body's input items when the input holds the whole conversation: `None` when it
/// leans on stored state (`previous_response_id`, `conversation`, an `item_reference`), which
/// the rules on the order and pairing of items cannot see, or when `input` is not a list.
fn self_contained_input(body: &Value) -> Option<&[Value]> {
    let stored = |key: &str| body.get(key).is_some_and(|v| !v.is_null());
    if stored("previous_response_id") || stored("conversation") {
        return None;
    }
    let items = body.get("input").and_then(Value::as_array)?;
    if items.iter().any(|i| type_of(i) == Some("item_reference")) {
        return None;
    }
    Some(items)
}

/// Rule `reasoning_item_order` (Responses): a reasoning item is replayed with the item it
/// produced after it; one that ends the input has none: "Item 'rs_…' of type 'reasoning' was
/// provided without its required following item." (param input;
/// openai/openai-agents-python#2503, a handoff that kept a lone reasoning item after the
/// summarized history). Inputs that lean on stored state (`previous_response_id`,
/// `conversation`, item references) and reasoning items without an id are not judged.
fn trailing_reasoning(ctx: &mut Ctx<'_>, body: &Value) {
    if !ctx.enabled("reasoning_item_order") {
        return;
    }
    let Some(items) = self_contained_input(body) else {
        return;
    };
    let Some(last) = items.last().filter(|i| type_of(i) == Some("reasoning")) else {
        return;
    };
    let Some(id) = last.get("id").and_then(Value::as_str) else {
        return;
    };
    ctx.reject(
        "reasoning_item_order",
        "",
        Some(String::from("input")),
        format!(
            "Item '{id}' of type 'reasoning' was provided without its required following item."
        ),
    );
}

/// Runs this module's rules on a parsed request body for `endpoint`.
pub(super) fn check(ctx: &mut Ctx<'_>, endpoint: &str, body: &serde_json::Value) {
    if api(endpoint) == Some(Api::Responses) && !endpoint.ends_with("/input_tokens") {
        trailing_reasoning(ctx, body);
    }
    if !ctx.enabled(RULE) {
        return;
    }
    match api(endpoint) {
        Some(Api::Chat) => chat(ctx, body),
        // Counting input tokens is not known to check the pairing: only the create call is.
        Some(Api::Responses) if endpoint.ends_with("/input_tokens") => {}
        Some(Api::Responses) => {
            responses(ctx, body);
            outputs_for_output_schema(ctx, body);
        }
        None => {}
    }
}

/// Responses: a function that declares `output_schema` (programmatic tool calling) is answered
/// with JSON. A `function_call_output` whose string `output` does not parse as JSON, for a call in
/// `input` to such a function in `tools` (or in a `namespace` of `tools`), is refused in OpenAI's
/// words ("Invalid function_call_output.output: expected a JSON string because the function
/// declares output_schema.", braintrustdata/lingua's capture on gpt-5.6-terra; the 400 shows no
/// param, so Airlock names the output). An output given as content parts, a call that is not in
/// `input`, and a function without `output_schema` are not judged.
fn outputs_for_output_schema(ctx: &mut Ctx<'_>, body: &Value) {
    let Some(items) = body.get("input").and_then(Value::as_array) else {
        return;
    };
    let Some(tools) = body.get("tools").and_then(Value::as_array) else {
        return;
    };
    fn declares_schema(tools: &[Value], name: &str) -> bool {
        tools.iter().any(|t| match type_of(t) {
            Some("function") => {
                t.get("name").and_then(Value::as_str) == Some(name)
                    && t.get("output_schema").is_some_and(|s| !s.is_null())
            }
            Some("namespace") => t
                .get("tools")
                .and_then(Value::as_array)
                .is_some_and(|inner| declares_schema(inner, name)),
            _ => false,
        })
    }
    fn call_id(i: &Value) -> Option<&str> {
        i.get("call_id").and_then(Value::as_str)
    }
    for (n, item) in items.iter().enumerate() {
        if type_of(item) != Some("function_call_output") {
            continue;
        }
        let Some(output) = item.get("output").and_then(Value::as_str) else {
            continue;
        };
        let Some(id) = call_id(item) else {
            continue;
        };
        let name = items
            .iter()
            .filter(|i| type_of(i) == Some("function_call") && call_id(i) == Some(id))
            .find_map(|i| i.get("name").and_then(Value::as_str));
        let Some(name) = name else {
            continue;
        };
        if declares_schema(tools, name) && serde_json::from_str::<Value>(output).is_err() {
            ctx.reject(
                RULE,
                "",
                Some(format!("input[{n}].output")),
                String::from(
                    "Invalid function_call_output.output: expected a JSON string because the function declares output_schema.",
                ),
            );
            return;
        }
    }
}

/// The assistant message whose tool calls are waiting for answers.
struct Open<'a> {
    index: usize,
    ids: Vec<&'a str>,
    /// The index of the tool message that answered each call, if any.
    answered: Vec<Option<usize>>,
    /// The tool messages seen since the assistant message.
    answers: usize,
}

/// Reports the calls `open` left unanswered. OpenAI names the assistant message's role when a
/// user or assistant message comes before the answers (`messages.[1].role`: sdcb/chats#132,
/// farhan0167/otto-m8#30), and only `messages` when the list ends first (a recorded 400 of
/// 2025-06-17 in lmnr-ai/lmnr-python's cassette
/// `test_litellm_openai_with_chat_history_and_tools.yaml`: two calls, one tool answer, then
/// nothing): `at_end` says which.
fn close(ctx: &mut Ctx<'_>, open: Option<Open<'_>>, at_end: bool) {
    let Some(open) = open else {
        return;
    };
    let missing: Vec<&str> = open
        .ids
        .iter()
        .zip(&open.answered)
        .filter(|(_, done)| done.is_none())
        .map(|(id, _)| *id)
        .collect();
    if missing.is_empty() {
        return;
    }
    ctx.reject(
        RULE,
        "",
        Some(if at_end {
            String::from("messages")
        } else {
            format!("messages.[{}].role", open.index)
        }),
        format!(
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {}",
            missing.join(", ")
        ),
    );
}

/// OpenAI's refusal of the tool message at `messages[n]` that answers no open call (none before
/// it, or one already answered), at its `role`.
fn reject_unanswerable_tool(ctx: &mut Ctx<'_>, n: usize) {
    ctx.reject(
        RULE,
        "",
        Some(format!("messages.[{n}].role")),
        String::from(
            "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
        ),
    );
}

fn chat(ctx: &mut Ctx<'_>, body: &Value) {
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return;
    };
    let mut open: Option<Open<'_>> = None;
    for (n, m) in messages.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str);
        if role == Some("tool") && m.get("tool_call_id").is_none_or(Value::is_null) {
            // The message's own shape is judged before the pairing: a tool answer without its
            // id is "Missing parameter 'tool_call_id': messages with role 'tool' must have a
            // 'tool_call_id'." even where the call before it is then left unanswered
            // (vercel/ai#2177: param messages.[3].tool_call_id, code null; MadcowD/ell#325).
            ctx.reject(
                RULE,
                "",
                Some(format!("messages.[{n}].tool_call_id")),
                String::from(
                    "Missing parameter 'tool_call_id': messages with role 'tool' must have a 'tool_call_id'.",
                ),
            );
            return;
        }
        match role {
            Some("tool") => match open.as_mut() {
                None => {
                    reject_unanswerable_tool(ctx, n);
                    // One error is what OpenAI reports; stop here.
                    return;
                }
                Some(o) => {
                    // An id that is not a string is the message's own shape, reported by the
                    // request schema ("Invalid type for 'messages[2].tool_call_id' …") before
                    // any pairing.
                    if m.get("tool_call_id").is_some_and(|v| !v.is_string()) {
                        return;
                    }
                    o.answers += 1;
                    if let Some(id) = m.get("tool_call_id").and_then(Value::as_str) {
                        if let Some(pos) = o.ids.iter().position(|x| *x == id) {
                            if let Some(first) = o.answered[pos] {
                                if o.answers > o.ids.len() {
                                    // More answers than calls: a second answer to a call already
                                    // answered is no response to a preceding call, refused as an
                                    // orphan tool message is (braintrustdata/lingua's capture
                                    // `anthropicDuplicateToolResultBlocks`, gpt-5-nano: one call,
                                    // two answers).
                                    reject_unanswerable_tool(ctx, n);
                                } else {
                                    // Within the number of calls, the repeated id is named
                                    // ("Invalid parameter: Duplicate value for 'tool_call_id' of
                                    // 'call_…', in messages[7] and messages[8].", param
                                    // messages.[8].tool_call_id, code null; agno-agi/agno#5116).
                                    ctx.reject(
                                        RULE,
                                        "",
                                        Some(format!("messages.[{n}].tool_call_id")),
                                        format!(
                                            "Invalid parameter: Duplicate value for 'tool_call_id' of '{id}', in messages[{first}] and messages[{n}]."
                                        ),
                                    );
                                }
                                return;
                            }
                            o.answered[pos] = Some(n);
                        }
                    }
                }
            },
            Some("assistant") | Some("user") => {
                close(ctx, open.take(), false);
                if m.get("role").and_then(Value::as_str) == Some("assistant") {
                    if let Some(calls) = m.get("tool_calls").and_then(Value::as_array) {
                        let ids: Vec<&str> = calls
                            .iter()
                            .filter_map(|c| c.get("id").and_then(Value::as_str))
                            .collect();
                        if !ids.is_empty() {
                            open = Some(Open {
                                index: n,
                                answered: alloc::vec![None; ids.len()],
                                ids,
                                answers: 0,
                            });
                        }
                    }
                }
            }
            _ => {}
        }
    }
    close(ctx, open.take(), true);
}

fn responses(ctx: &mut Ctx<'_>, body: &Value) {
    let Some(items) = self_contained_input(body) else {
        return;
    };
    fn call_id(i: &Value) -> Option<&str> {
        i.get("call_id").and_then(Value::as_str)
    }
    let of_type = |t: &'static str| {
        items
            .iter()
            .filter(move |i| type_of(i) == Some(t))
            .filter_map(call_id)
            .collect::<BTreeSet<&str>>()
    };
    let outputs = of_type("function_call_output");
    // Any item that is not an output may carry the call an output answers (function calls,
    // custom tool calls, and calls made inside other tools' items).
    let calls: BTreeSet<&str> = items
        .iter()
        .filter(|i| !type_of(i).is_some_and(|t| t.ends_with("_output")))
        .filter_map(call_id)
        .collect();
    let custom_calls = &calls;

    // A call_id that fails its own shape (empty, or over the 64 characters every input-side
    // call_id takes) is the schema's to answer, and OpenAI answers it before any pairing
    // ("Invalid 'input[4].call_id': empty string. ...", BigPizzaV3/CodexPlusPlus#315), as the
    // Chat rule leaves a `tool_call_id` that is not a string to the schema.
    if items
        .iter()
        .filter_map(call_id)
        .any(|id| id.is_empty() || id.chars().count() > 64)
    {
        return;
    }
    for item in items {
        match type_of(item) {
            Some("function_call_output") => {
                if let Some(id) = call_id(item) {
                    if !calls.contains(&id) {
                        ctx.reject(
                            RULE,
                            "",
                            Some(String::from("input")),
                            format!(
                                "No tool call found for function call output with call_id {id}."
                            ),
                        );
                        return;
                    }
                }
            }
            Some("custom_tool_call_output") => {
                if let Some(id) = call_id(item) {
                    if !custom_calls.contains(&id) {
                        ctx.reject(
                            RULE,
                            "",
                            Some(String::from("input")),
                            format!(
                                "No tool call found for custom tool call output with call_id {id}."
                            ),
                        );
                        return;
                    }
                }
            }
            _ => {}
        }
    }
    for (n, item) in items.iter().enumerate() {
        if type_of(item) != Some("function_call") {
            continue;
        }
        let Some(id) = call_id(item) else {
            continue;
        };
        if outputs.contains(&id) {
            continue;
        }
        let message_after = items[n + 1..].iter().any(|later| {
            type_of(later) == Some("message")
                || (later.get("type").is_none() && later.get("role").is_some())
        });
        let message = format!("No tool output found for function call {id}.");
        if message_after {
            ctx.reject(RULE, "", Some(String::from("input")), message);
            return;
        }
        ctx.warn(RULE, "", Some(String::from("input")), message);
    }
}

#[cfg(test)]
mod tests {
    fn errors(body: &str) -> alloc::vec::Vec<crate::validate::Finding> {
        crate::validate::check(
            "/v1/responses",
            body.as_bytes(),
            &crate::validate::Config::default(),
        )
        .errors
    }

    fn chat_first(body: &str) -> Option<alloc::string::String> {
        crate::validate::check(
            "/v1/chat/completions",
            body.as_bytes(),
            &crate::validate::Config::default(),
        )
        .errors
        .first()
        .and_then(|f| f.error.param.clone())
    }

    /// A missing content is named last of all: after a content type fault or a bad role at a
    /// later index, and after a temperature the model refuses; alone it is named
    /// (kangminlee-maker/local-OAuth-CLI-API-adapter's direct-API probes of gpt-5.6-terra).
    #[test]
    fn a_missing_content_comes_last() {
        let m = r#""model":"gpt-5.6-terra","messages":"#;
        let cases = [
            (
                r#"[{"role":"user"},{"role":"user","content":7}]"#,
                "",
                "messages[1].content",
            ),
            (
                r#"[{"role":"user"},{"role":"bogus","content":"a"}]"#,
                "",
                "messages[1].role",
            ),
            (
                r#"[{"role":"user"}]"#,
                r#","temperature":0.5"#,
                "temperature",
            ),
            (
                r#"[{"role":"user"},{"role":"user","content":"a"}]"#,
                "",
                "messages[0].content",
            ),
            (
                r#"[{"role":"user"}]"#,
                r#","temperature":1"#,
                "messages[0].content",
            ),
        ];
        for (messages, extra, want) in cases {
            let body = alloc::format!("{{{m}{messages}{extra}}}");
            assert_eq!(chat_first(&body).as_deref(), Some(want), "{body}");
        }
    }

    /// A reasoning item that ends the input (openai/openai-agents-python#2503) is refused; the
    /// same item followed by the message it produced passes, and so does a trailing one when
    /// the input continues a stored response.
    #[test]
    fn a_trailing_reasoning_item_is_refused() {
        let lone = r#"{"model":"gpt-5-mini","input":[{"role":"assistant","content":"Earlier: the user asked about a refund."},{"id":"rs_1","type":"reasoning","summary":[]}]}"#;
        let e = errors(lone);
        let f = e.first().expect("refused");
        assert_eq!(f.rule, "reasoning_item_order");
        assert_eq!(f.error.param.as_deref(), Some("input"));
        assert_eq!(
            f.error.message,
            "Item 'rs_1' of type 'reasoning' was provided without its required following item."
        );
        let followed = r#"{"model":"gpt-5-mini","input":[{"role":"user","content":"refund?"},{"id":"rs_1","type":"reasoning","summary":[]},{"id":"msg_1","type":"message","role":"assistant","status":"completed","content":[{"type":"output_text","text":"Yes.","annotations":[]}]}]}"#;
        assert!(errors(followed).is_empty());
        let stored = r#"{"model":"gpt-5-mini","previous_response_id":"resp_1","input":[{"id":"rs_1","type":"reasoning","summary":[]}]}"#;
        assert!(errors(stored).is_empty());
    }

    /// A `function_call_output` for a function that declares `output_schema` is JSON; outputs
    /// given as parts, outputs of functions without `output_schema` and calls that are not in
    /// `input` are not judged.
    #[test]
    fn output_schema_outputs_are_json() {
        let body = |schema: &str, output: &str| {
            alloc::format!(
                r#"{{"model":"gpt-5.6-terra","input":[{{"role":"user","content":"stock?"}},{{"type":"function_call","call_id":"c1","name":"stock","arguments":"{{}}"}},{{"type":"function_call_output","call_id":"c1","output":{output}}}],"tools":[{{"type":"function","name":"stock","parameters":{{"type":"object","properties":{{}}}}{schema}}},{{"type":"programmatic_tool_calling"}}]}}"#
            )
        };
        let schema = r#","output_schema":{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"],"additionalProperties":false}"#;
        let refused = errors(&body(schema, r#""about five""#));
        let f = refused.first().expect("a plain-text output refused");
        assert_eq!(f.error.param.as_deref(), Some("input[2].output"));
        assert!(f.error.message.contains("declares output_schema"));
        assert!(errors(&body(schema, r#""{\"n\": 5}""#)).is_empty());
        assert!(errors(&body("", r#""about five""#)).is_empty());
        assert!(
            errors(&body(
                schema,
                r#"[{"type":"input_text","text":"about five"}]"#
            ))
            .is_empty()
        );
    }
}
