//! Every override of `rules/request_overrides.toml` with its near miss: the body the override lets
//! through passes with no error, and the body beside it is still refused where the spec (or the
//! override) says, so an override never opens more than it names.

use std::path::Path;

use airlock_rules::validate::{Config, check};
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    #[serde(rename = "override")]
    overrides: Vec<Override>,
}

#[derive(Deserialize)]
struct Override {
    at: String,
    action: String,
    #[serde(default)]
    property: Option<String>,
    #[serde(default)]
    endpoints: Vec<String>,
    near_accepted: String,
    near_rejected: String,
    near_param: String,
    /// `[a, b]`: `%PAD%` in near_accepted becomes `a` copies of `x`, in near_rejected `b` (a
    /// length bound tested at the bound without writing a megabyte into the TOML).
    #[serde(default)]
    near_pad: Option<[usize; 2]>,
    /// `[a, b]`: `%KEYS%` in near_accepted becomes `a` members `"0":0,"1":0,…`, in near_rejected
    /// `b` (a property-count bound tested at the bound).
    #[serde(default)]
    near_keys: Option<[usize; 2]>,
}

fn keys(n: usize) -> String {
    (0..n)
        .map(|i| format!("\"{i}\":0"))
        .collect::<Vec<_>>()
        .join(",")
}

fn path_of(file: &str) -> String {
    // The endpoints added in session 18 have underscores in their paths (and ids).
    let path = match file {
        "responses_compact" => "/v1/responses/compact",
        "realtime_client_secrets" => "/v1/realtime/client_secrets",
        "realtime_transcription_sessions" => "/v1/realtime/transcription_sessions",
        "conversations" => "/v1/conversations",
        "conversations_conversation" => "/v1/conversations/conv_abc123",
        "conversations_conversation_items" => "/v1/conversations/conv_abc123/items",
        "vector_stores" => "/v1/vector_stores",
        "vector_stores_store" => "/v1/vector_stores/vs_abc123",
        "vector_stores_store_files" => "/v1/vector_stores/vs_abc123/files",
        "vector_stores_store_file_batches" => "/v1/vector_stores/vs_abc123/file_batches",
        "vector_stores_store_search" => "/v1/vector_stores/vs_abc123/search",
        "fine_tuning_jobs" => "/v1/fine_tuning/jobs",
        "uploads" => "/v1/uploads",
        "uploads_upload_complete" => "/v1/uploads/upload_abc123/complete",
        "evals" => "/v1/evals",
        "containers" => "/v1/containers",
        "videos" => "/v1/videos",
        "assistants" => "/v1/assistants",
        "assistants_assistant" => "/v1/assistants/asst_abc123",
        "threads" => "/v1/threads",
        "threads_runs" => "/v1/threads/runs",
        "threads_thread" => "/v1/threads/thread_abc123",
        "threads_thread_messages" => "/v1/threads/thread_abc123/messages",
        "threads_thread_runs" => "/v1/threads/thread_abc123/runs",
        "threads_thread_runs_run_submit_tool_outputs" => {
            "/v1/threads/thread_abc123/runs/run_abc123/submit_tool_outputs"
        }
        _ => return format!("/v1/{}", file.replace('_', "/")),
    };
    String::from(path)
}

#[test]
fn every_override_has_a_near_miss() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/request_overrides.toml"),
    )
    .unwrap();
    let file: File = toml::from_str(&text).unwrap();
    assert!(
        file.overrides.len() >= 20,
        "{} overrides",
        file.overrides.len()
    );
    let mut failures = Vec::new();
    for o in &file.overrides {
        let name = format!(
            "{} {} {}",
            o.at,
            o.action,
            o.property.as_deref().unwrap_or("")
        );
        let endpoint = match o.endpoints.first().map(String::as_str) {
            None | Some("chat_completions") => String::from("/v1/chat/completions"),
            Some("responses_input_tokens") => String::from("/v1/responses/input_tokens"),
            Some(other) => path_of(other),
        };
        let [pad_ok, pad_bad] = o.near_pad.unwrap_or([0, 0]);
        let [keys_ok, keys_bad] = o.near_keys.unwrap_or([0, 0]);
        let near_accepted = o
            .near_accepted
            .replace("%PAD%", &"x".repeat(pad_ok))
            .replace("%KEYS%", &keys(keys_ok));
        let near_rejected = o
            .near_rejected
            .replace("%PAD%", &"x".repeat(pad_bad))
            .replace("%KEYS%", &keys(keys_bad));
        let accepted = check(&endpoint, near_accepted.as_bytes(), &Config::default());
        if !accepted.ok() {
            failures.push(format!(
                "{name}: near_accepted refused: {:?}",
                accepted.errors
            ));
        }
        let rejected = check(&endpoint, near_rejected.as_bytes(), &Config::default());
        let want = (o.near_param != "(none)").then_some(o.near_param.as_str());
        if !rejected
            .errors
            .iter()
            .any(|e| e.error.param.as_deref() == want)
        {
            failures.push(format!(
                "{name}: near_rejected not refused at {want:?}: {:?}",
                rejected.errors
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
