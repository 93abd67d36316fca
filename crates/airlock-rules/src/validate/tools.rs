//! Tools and `tool_choice`.
//!
//! Rules:
//! - `tool_names`: function names match `^[a-zA-Z0-9_-]+$` and have at most 64 characters
//!   (Chat `tools[i].function.name` and legacy `functions[i].name`; Responses `tools[i].name`).
//!   A tool name whose only other characters are dots is refused for the known non-reasoning
//!   families (gpt-4o-mini did) and only a warning otherwise: OpenAI has also answered with the
//!   pattern `^[a-zA-Z0-9_\.-]+$` on o4-mini (danishjsheikh/swagger-mcp#13). The same for the
//!   `name` of a `function_call` replayed in Responses input, where dots are refused also for the
//!   families whose 400 quoted the pattern without them (`names_dotless`).
//! - `tool_count`: at most 128 tools, and 128 `tool_calls` in one assistant message, in Chat
//!   Completions (a warning in Responses, whose limit is not documented).
//! - `tool_choice`: Chat refuses `tool_choice` and `parallel_tool_calls` without `tools`; a
//!   named function must be one of the tools.
//! - `tool_shape`: a Chat tool without `type`, a Chat function tool without `function` (the
//!   Responses shape), a Responses function tool without `name` but with `function` (the Chat
//!   shape).
//! - `tool_types`: tool types the rules do not know (warning only; new built-in tools appear
//!   often).
//!
//! The function `parameters` schemas are checked in `schema.rs`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::Value;

use super::Ctx;
use super::common::{Api, api, check_name, check_tool_name, type_of};
use crate::generated::structured::MAX_TOOLS;

/// Chat Completions tool types.
const CHAT_TOOL_TYPES: &[&str] = &["function", "custom"];

/// Responses tool types in the OpenAPI spec (`Tool`), read 2026-11-25.
const RESPONSES_TOOL_TYPES: &[&str] = &[
    "function",
    "file_search",
    "computer",
    "computer_use",
    "computer_use_preview",
    "web_search",
    "web_search_2025_08_26",
    "web_search_preview",
    "web_search_preview_2025_03_11",
    "mcp",
    "code_interpreter",
    "programmatic_tool_calling",
    "image_generation",
    "local_shell",
    "shell",
    "custom",
    "namespace",
    "tool_search",
    "apply_patch",
];

/// Responses tool types that hold or load other tools, so a forced function name may live
/// outside the top-level list.
const RESPONSES_NESTING_TYPES: &[&str] = &[
    "namespace",
    "tool_search",
    "mcp",
    "programmatic_tool_calling",
];

/// OpenAI's limit on a Chat Completions function description, in characters.
const MAX_DESCRIPTION_CHARS: usize = 1024;

/// A Chat Completions function description over 1024 characters: "Invalid
/// 'tools[13].function.description': string too long. Expected a string with maximum length 1024,
/// but got a string with length 1103 instead." (`string_above_max_length`; getsentry/sentry-mcp#106,
/// probelabs/probe#9, OpenHands/OpenHands#4838, langchain-ai/open_deep_research#80). Seen on
/// Chat Completions only, so the Responses tools are not checked.
fn description_length(ctx: &mut Ctx<'_>, i: usize, f: &Value) {
    let Some(d) = f.get("description").and_then(Value::as_str) else {
        return;
    };
    let n = d.chars().count();
    if n > MAX_DESCRIPTION_CHARS {
        let param = format!("tools[{i}].function.description");
        ctx.reject(
            "tool_description_length",
            "string_above_max_length",
            Some(param.clone()),
            format!(
                "Invalid '{param}': string too long. Expected a string with maximum length {MAX_DESCRIPTION_CHARS}, but got a string with length {n} instead."
            ),
        );
    }
}

/// Runs this module's rules on a parsed request body for `endpoint`.
pub(super) fn check(ctx: &mut Ctx<'_>, endpoint: &str, body: &serde_json::Value) {
    match api(endpoint) {
        Some(Api::Chat) => chat(ctx, body),
        Some(Api::Responses) => responses(ctx, body),
        None => {}
    }
}

fn chat(ctx: &mut Ctx<'_>, body: &Value) {
    let tools = body.get("tools").and_then(Value::as_array);
    if let Some(tools) = tools {
        count(ctx, tools.len(), true);
        for (i, tool) in tools.iter().enumerate() {
            if tool.is_object() && tool.get("type").is_none_or(Value::is_null) {
                missing(ctx, format!("tools[{i}].type"));
                continue;
            }
            // A Responses hosted tool (`web_search_preview`, `file_search`…) sent to Chat
            // Completions is read as a function without its definition (BerriAI/litellm#9914:
            // "Invalid type for 'tools[0].function': expected a function definition, but got null
            // instead.").
            if !matches!(type_of(tool), Some("function" | "custom") | None)
                && tool.get("function").is_none_or(Value::is_null)
                && tool.get("custom").is_none_or(Value::is_null)
            {
                ctx.reject(
                    "tool_shape",
                    "invalid_type",
                    Some(format!("tools[{i}].function")),
                    format!(
                        "Invalid type for 'tools[{i}].function': expected a function definition, but got null instead."
                    ),
                );
                continue;
            }
            if type_of(tool) == Some("function") && tool.get("function").is_none_or(Value::is_null)
            {
                // The Responses shape (`name` beside `type`) sent to Chat Completions.
                missing(ctx, format!("tools[{i}].function"));
                continue;
            }
            match type_of(tool) {
                Some("function") => {
                    if let Some(f) = tool.get("function").filter(|f| f.is_object()) {
                        if f.get("name").is_none_or(Value::is_null) {
                            let param = format!("tools[{i}].function.name");
                            ctx.reject(
                                "tool_names",
                                "missing_required_parameter",
                                Some(param.clone()),
                                format!("Missing required parameter: '{param}'."),
                            );
                        }
                        check_tool_name(
                            ctx,
                            "tool_names",
                            &format!("tools[{i}].function.name"),
                            f.get("name"),
                            body.get("model").and_then(Value::as_str),
                            false,
                        );
                        description_length(ctx, i, f);
                    }
                }
                Some(t) if CHAT_TOOL_TYPES.contains(&t) => {}
                Some(t) => {
                    ctx.warn(
                        "tool_types",
                        "",
                        Some(format!("tools[{i}].type")),
                        format!(
                            "Tool type '{t}' is not one the rules know for Chat Completions (supported: 'function' and 'custom')."
                        ),
                    );
                }
                None => {}
            }
        }
    }
    if let Some(messages) = body.get("messages").and_then(Value::as_array) {
        for (i, m) in messages.iter().enumerate() {
            let Some(calls) = m.get("tool_calls").and_then(Value::as_array) else {
                continue;
            };
            if calls.len() > MAX_TOOLS {
                ctx.reject(
                    "tool_count",
                    "array_above_max_length",
                    Some(format!("messages[{i}].tool_calls")),
                    format!(
                        "Invalid 'messages[{i}].tool_calls': array too long. Expected an array with maximum length {MAX_TOOLS}, but got an array with length {} instead.",
                        calls.len()
                    ),
                );
            }
        }
    }
    if let Some(functions) = body.get("functions").and_then(Value::as_array) {
        for (i, f) in functions.iter().enumerate() {
            check_name(
                ctx,
                "tool_names",
                &format!("functions[{i}].name"),
                f.get("name"),
            );
        }
    }

    // The legacy pair: `function_call` without `functions` (PlexPt/chatgpt-java#150).
    if matches!(body.get("functions"), None | Some(Value::Null))
        && body.get("function_call").is_some_and(|v| !v.is_null())
    {
        ctx.reject(
            "tool_choice",
            "",
            Some(String::from("function_call")),
            String::from(
                "Invalid value for 'function_call': 'function_call' is only allowed when 'functions' are specified.",
            ),
        );
    }
    let no_tools = matches!(body.get("tools"), None | Some(Value::Null));
    for key in ["tool_choice", "parallel_tool_calls"] {
        if no_tools && body.get(key).is_some_and(|v| !v.is_null()) {
            ctx.reject(
                "tool_choice",
                "",
                Some(String::from(key)),
                format!(
                    "Invalid value for '{key}': '{key}' is only allowed when 'tools' are specified."
                ),
            );
        }
    }
    let Some(choice) = body.get("tool_choice") else {
        return;
    };
    if let Some(tools) = tools {
        if tools.is_empty() && choice.as_str() == Some("required") {
            ctx.warn(
                "tool_choice",
                "",
                Some(String::from("tool_choice")),
                String::from(
                    "'tool_choice' is 'required' but 'tools' is empty: no tool can be called.",
                ),
            );
        }
        // An undeclared function in `tool_choice` is named early, by
        // [`chat_tool_choice_declared`].
    }
}

/// Chat Completions: a `tool_choice` naming a function no tool declares. OpenAI answers through
/// its legacy `function_call` machinery ("Invalid value for 'function_call': no function named
/// 'X' was specified in the 'functions' parameter.", param `function_call`, code null), and before
/// the model's own refusals: gpt-5.6-terra with function tools and no effort answered this, not
/// its function-tools-with-reasoning refusal (kangminlee-maker/local-OAuth-CLI-API-adapter's
/// direct-API probes, 2026-09). Run before the model rules. Only judged when every tool is a
/// function with a name (a custom or unreadable tool may be the one named).
pub(super) fn chat_tool_choice_declared(ctx: &mut Ctx<'_>, body: &Value) {
    let (Some(tools), Some(choice)) = (
        body.get("tools").and_then(Value::as_array),
        body.get("tool_choice"),
    ) else {
        return;
    };
    if type_of(choice) != Some("function") {
        return;
    }
    let Some(wanted) = choice
        .get("function")
        .and_then(|f| f.get("name"))
        .and_then(Value::as_str)
    else {
        return;
    };
    let mut names: Vec<&str> = Vec::new();
    for tool in tools {
        let name = (type_of(tool) == Some("function"))
            .then(|| tool.get("function").and_then(|f| f.get("name")))
            .flatten()
            .and_then(Value::as_str);
        match name {
            Some(n) => names.push(n),
            None => return,
        }
    }
    if !names.contains(&wanted) {
        ctx.reject(
            "tool_choice",
            "",
            Some(String::from("function_call")),
            format!(
                "Invalid value for 'function_call': no function named '{wanted}' was specified in the 'functions' parameter."
            ),
        );
    }
}

fn responses(ctx: &mut Ctx<'_>, body: &Value) {
    // Function calls replayed in the input carry a tool name too (NousResearch/hermes-agent#31666:
    // "Invalid 'input[222].name': string does not match pattern. …").
    if let Some(items) = body.get("input").and_then(Value::as_array) {
        for (n, item) in items.iter().enumerate() {
            if type_of(item) == Some("function_call") {
                check_tool_name(
                    ctx,
                    "tool_names",
                    &format!("input[{n}].name"),
                    item.get("name"),
                    body.get("model").and_then(Value::as_str),
                    true,
                );
            }
        }
    }
    let Some(tools) = body.get("tools").and_then(Value::as_array) else {
        return;
    };
    count(ctx, tools.len(), false);
    let mut names: Vec<&str> = Vec::new();
    let mut closed = true;
    for (i, tool) in tools.iter().enumerate() {
        if type_of(tool) == Some("function")
            && tool.get("name").is_none_or(Value::is_null)
            && tool.get("function").is_some_and(Value::is_object)
        {
            // The Chat Completions shape (`function: {name, …}`) sent to Responses.
            missing(ctx, format!("tools[{i}].name"));
            closed = false;
            continue;
        }
        match type_of(tool) {
            Some("function") => {
                check_tool_name(
                    ctx,
                    "tool_names",
                    &format!("tools[{i}].name"),
                    tool.get("name"),
                    body.get("model").and_then(Value::as_str),
                    false,
                );
                if let Some(n) = tool.get("name").and_then(Value::as_str) {
                    names.push(n);
                }
            }
            Some("image_generation") => image_tool_fields(ctx, tool),
            Some(t) if RESPONSES_NESTING_TYPES.contains(&t) => closed = false,
            Some(t) if RESPONSES_TOOL_TYPES.contains(&t) => {}
            Some(t) => {
                closed = false;
                ctx.warn(
                    "tool_types",
                    "",
                    Some(format!("tools[{i}].type")),
                    format!("Tool type '{t}' is not one the rules know for the Responses API."),
                );
            }
            None => closed = false,
        }
    }
    let Some(choice) = body.get("tool_choice") else {
        return;
    };
    if type_of(choice) == Some("function") && closed {
        if let Some(wanted) = choice.get("name").and_then(Value::as_str) {
            if !names.contains(&wanted) {
                ctx.reject(
                    "tool_choice",
                    "invalid_value",
                    Some(String::from("tool_choice")),
                    format!(
                        "Invalid value for 'tool_choice': function '{wanted}' is not one of the functions in 'tools'."
                    ),
                );
            }
        }
    }
}

/// Rule `model_image_params`: a field the `image_generation` tool's image model does not take
/// (`refused` rows with endpoint `image_tool`), refused even when sent as null: "The model
/// 'gpt-image-2' does not support the 'input_fidelity' parameter." (param `tools`, code
/// `invalid_input_fidelity_model`; pydantic/pydantic-ai#5413). A tool without `model` (the
/// default image model) is not checked.
fn image_tool_fields(ctx: &mut Ctx<'_>, tool: &Value) {
    let Some(model) = tool.get("model").and_then(Value::as_str) else {
        return;
    };
    let Some(family) = super::models::lookup(model).and_then(|k| k.family) else {
        return;
    };
    for r in family.refused.iter().filter(|r| r.endpoint == "image_tool") {
        if tool.get(r.param).is_none() {
            continue;
        }
        let message = format!(
            "The model '{model}' does not support the '{}' parameter.",
            r.param
        );
        let code = format!("invalid_{}_model", r.param);
        ctx.reject_or_report(
            r.report,
            "model_image_params",
            &code,
            Some(String::from("tools")),
            message,
        );
    }
}

/// Rule `tool_shape`: a required field of a tool is absent (OpenAI's
/// `missing_required_parameter`).
fn missing(ctx: &mut Ctx<'_>, param: String) {
    ctx.reject(
        "tool_shape",
        "missing_required_parameter",
        Some(param.clone()),
        format!("Missing required parameter: '{param}'."),
    );
}

fn count(ctx: &mut Ctx<'_>, len: usize, certain: bool) {
    if len <= MAX_TOOLS {
        return;
    }
    let message = format!(
        "Invalid 'tools': array too long. Expected an array with maximum length {MAX_TOOLS}, but got an array with length {len} instead."
    );
    if certain {
        ctx.reject(
            "tool_count",
            "array_above_max_length",
            Some(String::from("tools")),
            message,
        );
    } else {
        ctx.warn(
            "tool_count",
            "array_above_max_length",
            Some(String::from("tools")),
            message,
        );
    }
}

#[cfg(test)]
mod tests {
    use alloc::format;

    fn verdict(body: &str) -> crate::validate::Verdict {
        crate::validate::check(
            "/v1/responses",
            body.as_bytes(),
            &crate::validate::Config::default(),
        )
    }

    /// `tools: []` is refused on Chat Completions in OpenAI's words (a `min_items` override, the
    /// spec states no minimum), whatever the tool choice; the Responses API takes it (recorded
    /// 200s), and an empty `stop`, whose `minItems: 1` comes only from the spec, stays a warning.
    #[test]
    fn empty_tools_on_chat_only() {
        let chat = |body: &str| {
            crate::validate::check(
                "/v1/chat/completions",
                body.as_bytes(),
                &crate::validate::Config::default(),
            )
        };
        for extra in [
            "",
            r#","tool_choice":"auto""#,
            r#","tool_choice":"required""#,
        ] {
            let v = chat(&format!(
                r#"{{"model":"gpt-4o","messages":[{{"role":"user","content":"hi"}}],"tools":[]{extra}}}"#
            ));
            let f = v.errors.first().expect("tools: [] refused");
            assert_eq!(f.error.param.as_deref(), Some("tools"), "{extra}");
            assert_eq!(f.error.code.as_deref(), Some("empty_array"));
            assert_eq!(
                f.error.message,
                "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead."
            );
        }
        assert!(chat(r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#).ok());
        let v = chat(r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stop":[]}"#);
        assert!(v.ok());
        assert!(
            v.warnings
                .iter()
                .any(|w| w.error.param.as_deref() == Some("stop"))
        );
        assert!(verdict(r#"{"model":"gpt-4o","input":"hi","tools":[]}"#).ok());
    }

    fn replay(model: &str, name: &str) -> crate::validate::Verdict {
        verdict(&format!(
            r#"{{"model":"{model}","input":[{{"role":"user","content":"ls"}},{{"type":"function_call","call_id":"c","name":"{name}","arguments":"{{}}"}},{{"type":"function_call_output","call_id":"c","output":"a.txt"}}]}}"#
        ))
    }

    /// A `function_call` replayed in Responses input is held to the tool-name pattern: spaces
    /// and slashes always refused at `input[N].name`; dots refused where the data says the
    /// model's pattern has none (gpt-5.5, `names_dotless`) or for a non-reasoning family, and
    /// only a warning for other reasoning models (o4-mini was answered with a pattern that
    /// allows dots) and unknown models; an empty name is the schema's ("empty string").
    #[test]
    fn replayed_function_call_names() {
        for (model, name) in [
            ("gpt-5.5", "exec.command"),
            ("gpt-4o-mini", "exec.command"),
            ("gpt-5.4", "run shell"),
            ("o4-mini", "get_/whoami"),
        ] {
            let v = replay(model, name);
            let f = &v
                .errors
                .first()
                .unwrap_or_else(|| panic!("{model} {name}: no error"));
            assert_eq!(f.rule, "tool_names", "{model} {name}");
            assert_eq!(f.error.param.as_deref(), Some("input[1].name"));
            assert_eq!(f.error.code.as_deref(), Some("invalid_value"));
        }
        for (model, name) in [
            ("o4-mini", "exec.command"),
            ("gpt-5.4", "exec.command"),
            ("some-new-model", "exec.command"),
        ] {
            let v = replay(model, name);
            assert!(v.errors.is_empty(), "{model} {name}: {:?}", v.errors);
            assert!(
                v.warnings.iter().any(|w| w.rule == "tool_names"),
                "{model} {name}"
            );
        }
        for model in ["gpt-5.5", "o4-mini", "gpt-4o-mini"] {
            let v = replay(model, "exec_command");
            assert!(v.errors.is_empty() && !v.warnings.iter().any(|w| w.rule == "tool_names"));
        }
        let v = replay("gpt-5.5", "");
        assert_eq!(v.errors[0].error.code.as_deref(), Some("empty_string"));
        assert_eq!(v.errors[0].error.param.as_deref(), Some("input[1].name"));
    }

    /// An empty call_id is named before the pairing of calls and outputs, as OpenAI names it
    /// (BigPizzaV3/CodexPlusPlus#315); an output whose call is missing is still paired.
    #[test]
    fn empty_call_id_before_pairing() {
        let v = verdict(
            r#"{"model":"gpt-5.4","input":[{"role":"user","content":"hi"},{"type":"function_call","call_id":"c","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"c","output":"ok"},{"type":"function_call_output","call_id":"","output":"ok"}]}"#,
        );
        assert_eq!(v.errors[0].error.param.as_deref(), Some("input[3].call_id"));
        assert_eq!(v.errors[0].error.code.as_deref(), Some("empty_string"));
        assert_eq!(
            v.errors[0].error.message,
            "Invalid 'input[3].call_id': empty string. Expected a string with minimum length 1, but got an empty string instead."
        );
        let v = verdict(
            r#"{"model":"gpt-5.4","input":[{"role":"user","content":"hi"},{"type":"function_call","call_id":"c","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"c","output":"ok"},{"type":"function_call_output","call_id":"d","output":"ok"}]}"#,
        );
        assert_eq!(v.errors[0].rule, "tool_call_pairing");
        assert_eq!(v.errors[0].error.param.as_deref(), Some("input"));
    }
}
