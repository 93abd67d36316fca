//! Conversation order: tool calls and their answers.
//!
//! Rule `tool_call_pairing`:
//! - Chat: a `tool` message must follow an assistant message with `tool_calls` (or another tool
//!   message answering it), and every `tool_call_id` of that assistant message must be answered
//!   before the next assistant or user message (or the end of the list). A `system`/`developer`
//!   message in between neither closes nor opens anything.
//! - Responses: a `function_call_output` needs a `function_call` with the same `call_id` in
//!   `input`, and a `function_call` followed by a later message needs its output. Both are only
//!   certain when the request carries the whole conversation: with `previous_response_id`,
//!   `conversation` or `item_reference` items, the call or output may live on the server, and
//!   nothing is reported.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::Value;

use super::Ctx;
use super::common::{Api, api, type_of};

const RULE: &str = "tool_call_pairing";

/// Runs this module's rules on a parsed request body for `endpoint`.
pub(super) fn check(ctx: &mut Ctx<'_>, endpoint: &str, body: &serde_json::Value) {
    if !ctx.enabled(RULE) {
        return;
    }
    match api(endpoint) {
        Some(Api::Chat) => chat(ctx, body),
        Some(Api::Responses) => responses(ctx, body),
        None => {}
    }
}

/// The assistant message whose tool calls are waiting for answers.
struct Open<'a> {
    index: usize,
    ids: Vec<&'a str>,
    answered: Vec<bool>,
}

fn close(ctx: &mut Ctx<'_>, open: Option<Open<'_>>) {
    let Some(open) = open else {
        return;
    };
    let missing: Vec<&str> = open
        .ids
        .iter()
        .zip(&open.answered)
        .filter(|(_, done)| !**done)
        .map(|(id, _)| *id)
        .collect();
    if missing.is_empty() {
        return;
    }
    ctx.reject(
        RULE,
        "",
        Some(format!("messages.[{}].role", open.index)),
        format!(
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {}",
            missing.join(", ")
        ),
    );
}

fn chat(ctx: &mut Ctx<'_>, body: &Value) {
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return;
    };
    let mut open: Option<Open<'_>> = None;
    for (n, m) in messages.iter().enumerate() {
        match m.get("role").and_then(Value::as_str) {
            Some("tool") => match open.as_mut() {
                None => {
                    ctx.reject(
                        RULE,
                        "",
                        Some(format!("messages.[{n}].role")),
                        String::from(
                            "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
                        ),
                    );
                    // One error is what OpenAI reports; stop here.
                    return;
                }
                Some(o) => {
                    if let Some(id) = m.get("tool_call_id").and_then(Value::as_str) {
                        if let Some(pos) = o.ids.iter().position(|x| *x == id) {
                            o.answered[pos] = true;
                        }
                    }
                }
            },
            Some("assistant") | Some("user") => {
                close(ctx, open.take());
                if m.get("role").and_then(Value::as_str) == Some("assistant") {
                    if let Some(calls) = m.get("tool_calls").and_then(Value::as_array) {
                        let ids: Vec<&str> = calls
                            .iter()
                            .filter_map(|c| c.get("id").and_then(Value::as_str))
                            .collect();
                        if !ids.is_empty() {
                            open = Some(Open {
                                index: n,
                                answered: alloc::vec![false; ids.len()],
                                ids,
                            });
                        }
                    }
                }
            }
            _ => {}
        }
    }
    close(ctx, open.take());
}

fn responses(ctx: &mut Ctx<'_>, body: &Value) {
    let stored = |key: &str| body.get(key).is_some_and(|v| !v.is_null());
    if stored("previous_response_id") || stored("conversation") {
        return;
    }
    let Some(items) = body.get("input").and_then(Value::as_array) else {
        return;
    };
    if items.iter().any(|i| type_of(i) == Some("item_reference")) {
        return;
    }
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
