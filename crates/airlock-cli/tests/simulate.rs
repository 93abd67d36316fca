//! `airlock simulate`, run as a user would (issue 16).

mod common;

use common::{airlock, json_output, stdout};

#[test]
fn list_as_json_names_every_failure_with_its_sdk_classes() {
    let o = airlock(&["simulate", "--list", "--json"], "");
    assert_eq!(o.status.code(), Some(0));
    let v = json_output(&o, "simulate-list");
    let failures = v["failures"].as_array().unwrap();
    assert_eq!(failures.len(), airlock_rules::simulate::CATALOGUE.len());
    let quota = failures.iter().find(|f| f["name"] == "quota").unwrap();
    assert_eq!(quota["status"], 429);
    assert_eq!(quota["python"], "openai.RateLimitError");
    assert_eq!(quota["sdk_retries"], false);
    assert_eq!(v["bounds"]["after"], 100);
}

#[test]
fn list_as_text_and_one_value() {
    let o = airlock(&["simulate", "--list"], "");
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("stream_cut"));
    let o = airlock(&["simulate", "overloaded"], "");
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("HTTP/1.1 503\n"), "{}", stdout(&o));
    let o = airlock(&["simulate", "stream_failed;events=1", "--responses"], "");
    assert!(stdout(&o).contains("event: response.failed\n"));
    let o = airlock(&["simulate", "rate_limit;after=101"], "");
    assert_eq!(o.status.code(), Some(1));
    let o = airlock(&["simulate"], "");
    assert_eq!(o.status.code(), Some(2));
}
