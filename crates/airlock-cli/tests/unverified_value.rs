//! `airlock check` on a value whose fate is unknown (a `warn_values` override of
//! `rules/request_overrides.toml`, rule `unverified_value`): a Chat tool message's 'refusal' part
//! passes OpenAI's type check, and no 400 or 200 shows what follows, so the request passes with a
//! warning at the part's type; `report` keeps the warning, `off` drops it, and the part types the
//! API is known to refuse stay errors.

mod common;

use common::{airlock, json_output};
use serde_json::Value;

fn tool_part(part: &str) -> String {
    format!(
        r#"{{"model":"gpt-4o","messages":[{{"role":"user","content":"hi"}},{{"role":"assistant","content":null,"tool_calls":[{{"id":"c","type":"function","function":{{"name":"f","arguments":"{{}}"}}}}]}},{{"role":"tool","tool_call_id":"c","content":[{part}]}}]}}"#
    )
}

const REFUSAL: &str = r#"{"type":"refusal","refusal":"I cannot run that."}"#;

fn check(body: &str, extra: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec!["check", "-", "--endpoint", "/v1/chat/completions", "--json"];
    args.extend_from_slice(extra);
    let o = airlock(&args, body);
    (o.status.code(), json_output(&o, "check"))
}

fn rules(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["rule"].as_str())
        .collect()
}

#[test]
fn a_refusal_part_in_a_tool_message_passes_with_a_warning() {
    let (code, v) = check(&tool_part(REFUSAL), &[]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["errors"].as_array().unwrap().len(), 0, "{v}");
    let w: Vec<&Value> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["rule"] == "unverified_value")
        .collect();
    assert_eq!(w.len(), 1, "{v}");
    assert_eq!(w[0]["param"], "messages[2].content[0].type");
    assert_eq!(w[0]["code"], "unverified_value");
    assert!(w[0]["message"].as_str().unwrap().contains("'refusal'"));
}

#[test]
fn report_keeps_the_warning_and_off_drops_it() {
    let body = tool_part(REFUSAL);
    let (code, v) = check(&body, &["--rule", "unverified_value=report"]);
    assert_eq!(code, Some(0));
    assert_eq!(rules(&v["warnings"]), ["unverified_value"], "{v}");
    let (code, v) = check(&body, &["--rule", "unverified_value=off"]);
    assert_eq!(code, Some(0));
    assert!(rules(&v["warnings"]).is_empty(), "{v}");
    // The schema rules' modes do not silence it: it is its own rule.
    let (_, v) = check(
        &body,
        &[
            "--rule",
            "request_schema=off",
            "--rule",
            "request_schema_hint=off",
        ],
    );
    assert_eq!(rules(&v["warnings"]), ["unverified_value"], "{v}");
}

#[test]
fn known_parts_do_not_warn_and_refused_parts_stay_errors() {
    // A text part: nothing to say.
    let (code, v) = check(&tool_part(r#"{"type":"text","text":"done"}"#), &[]);
    assert_eq!(code, Some(0));
    assert!(rules(&v["warnings"]).is_empty(), "{v}");
    // A refusal part where the spec lists it (an assistant message): no warning either.
    let body = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"refusal","refusal":"no"}]},{"role":"user","content":"ok"}]}"#;
    let (code, v) = check(body, &[]);
    assert_eq!(code, Some(0));
    assert!(!rules(&v["warnings"]).contains(&"unverified_value"), "{v}");
    // A 'file' part in a tool message is outside what OpenAI's check takes: still refused.
    let file = r#"{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0x","filename":"r.pdf"}}"#;
    let (code, v) = check(&tool_part(file), &[]);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["errors"][0]["param"], "messages[2].content[0]");
}
