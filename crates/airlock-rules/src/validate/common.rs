//! Small helpers shared by the hand-written rules for nested structures: endpoint kinds, OpenAI's
//! name pattern, and Python-style rendering of JSON values (OpenAI's schema errors quote values
//! the way Python prints them: `None`, `True`, `'text'`, `['a', 1]`).

use alloc::format;
use alloc::string::String;
use core::fmt::Write as _;

use serde_json::Value;

use super::Ctx;
use crate::generated::structured::MAX_NAME_LENGTH;

/// How deep the rules descend into nested JSON; deeper parts are left unchecked (never rejected).
pub(super) const MAX_DEPTH: usize = 64;

/// The API family an endpoint belongs to, for the rules of this module's siblings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Api {
    /// `/v1/chat/completions`.
    Chat,
    /// `/v1/responses` and `/v1/responses/input_tokens`.
    Responses,
}

/// The API family of `endpoint`, when it is one these rules know.
pub(super) fn api(endpoint: &str) -> Option<Api> {
    let path = endpoint
        .split('?')
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    match path {
        "/v1/chat/completions" | "/chat/completions" => Some(Api::Chat),
        "/v1/responses"
        | "/v1/responses/input_tokens"
        | "/responses"
        | "/responses/input_tokens" => Some(Api::Responses),
        _ => None,
    }
}

/// The `type` of a JSON object, when it is a string.
pub(super) fn type_of(v: &Value) -> Option<&str> {
    v.get("type").and_then(Value::as_str)
}

/// Checks a function or schema name against `^[a-zA-Z0-9_-]+$` and the 64-character limit, in
/// OpenAI's wording. Names that are not strings are left to the type checks.
pub(super) fn check_name(ctx: &mut Ctx<'_>, rule: &str, param: &str, name: Option<&Value>) {
    let Some(name) = name.and_then(Value::as_str) else {
        return;
    };
    let valid_chars = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if name.is_empty() || !valid_chars {
        ctx.reject(
            rule,
            "invalid_value",
            Some(String::from(param)),
            format!(
                "Invalid '{param}': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'."
            ),
        );
    } else if name.len() > MAX_NAME_LENGTH {
        ctx.reject(
            rule,
            "string_above_max_length",
            Some(String::from(param)),
            format!(
                "Invalid '{param}': string too long. Expected a string with maximum length {MAX_NAME_LENGTH}, but got a string with length {} instead.",
                name.len()
            ),
        );
    }
}

/// Checks a tool's function name. OpenAI has answered a bad tool name with two patterns:
/// `^[a-zA-Z0-9_-]+$`, refusing a dotted MCP tool name on gpt-4o-mini
/// (xinnan-tech/xiaozhi-esp32-server#1466; also brekkylab/ailoy#109, nanbingxyz/5ire#33), and
/// `^[a-zA-Z0-9_\\.-]+$` on o4-mini (danishjsheikh/swagger-mcp#13, 2025-06), which allows dots.
/// So a name whose only other characters are dots is refused for the non-reasoning families the
/// data knows and only a warning for reasoning models and models the data does not know.
/// Everything else is [`check_name`].
///
/// `replayed`: the `name` of a `function_call` item replayed in Responses input
/// (`input[N].name`), where dots are refused also for the families whose own 400 quoted the
/// pattern without them (`names_dotless`: gpt-5.5, NousResearch/hermes-agent#31666), and an empty
/// name is left to the request schema, which answers it in OpenAI's "empty string" words
/// (kittors/CliRelay#277).
pub(super) fn check_tool_name(
    ctx: &mut Ctx<'_>,
    rule: &str,
    param: &str,
    name: Option<&Value>,
    model: Option<&str>,
    replayed: bool,
) {
    if replayed && name.and_then(Value::as_str).is_some_and(str::is_empty) {
        return;
    }
    let dots_refused = model
        .and_then(super::models::lookup)
        .and_then(|k| k.family)
        .is_some_and(|f| f.reasoning != Some(true) || (replayed && f.names_dotless));
    check_name_dots(ctx, rule, param, name, dots_refused);
}

fn check_name_dots(
    ctx: &mut Ctx<'_>,
    rule: &str,
    param: &str,
    name: Option<&Value>,
    dots_refused: bool,
) {
    let dotted = name.and_then(Value::as_str).is_some_and(|n| {
        n.len() <= MAX_NAME_LENGTH
            && n.contains('.')
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
    });
    if dotted && !dots_refused {
        ctx.warn(
            rule,
            "invalid_value",
            Some(String::from(param)),
            format!(
                "Invalid '{param}': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'. (OpenAI has also answered with the pattern '^[a-zA-Z0-9_\\.-]+$', which allows dots, for a reasoning model, so this name may be accepted.)"
            ),
        );
        return;
    }
    check_name(ctx, rule, param, name);
}

/// Renders a JSON value the way Python's `repr` prints the decoded value, cut at about 200
/// characters.
pub(super) fn py_repr(v: &Value) -> String {
    let mut out = String::new();
    repr_into(&mut out, v, 0);
    if out.chars().count() > 200 {
        let cut: String = out.chars().take(200).collect();
        return format!("{cut}...");
    }
    out
}

fn repr_into(out: &mut String, v: &Value, depth: usize) {
    if out.len() > 400 || depth > 16 {
        out.push_str("...");
        return;
    }
    match v {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => py_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                repr_into(out, item, depth + 1);
                if out.len() > 400 {
                    break;
                }
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                py_str(out, k);
                out.push_str(": ");
                repr_into(out, item, depth + 1);
                if out.len() > 400 {
                    break;
                }
            }
            out.push('}');
        }
    }
}

/// A Python string literal as `repr` writes it: single quotes unless the text holds a single
/// quote and no double quote.
pub(super) fn py_str(out: &mut String, s: &str) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn python_repr_of_json_values() {
        assert_eq!(py_repr(&json!([])), "[]");
        assert_eq!(py_repr(&json!(null)), "None");
        assert_eq!(
            py_repr(&json!({"a": [true, 1, "x'y"]})),
            "{'a': [True, 1, \"x'y\"]}"
        );
        assert_eq!(py_repr(&json!("a\nb")), "'a\\nb'");
    }

    #[test]
    fn endpoints_by_api() {
        assert_eq!(api("/v1/chat/completions"), Some(Api::Chat));
        assert_eq!(api("/v1/responses/input_tokens"), Some(Api::Responses));
        assert_eq!(api("/v1/embeddings"), None);
    }
}
