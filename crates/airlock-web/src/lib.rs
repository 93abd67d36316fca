//! Airlock's web page: the rules crate in the browser, through wasm-bindgen.
//!
//! The page (`www/`) calls a handful of functions that take strings and return JSON strings, so the
//! JavaScript side stays small and no serde/JS bridge crate is needed. All judgment lives in
//! `airlock-rules`; this crate only shapes its answers for display (headline labels and the retry
//! advice in words) and is testable on the host like any other crate.
//!
//! ```
//! let json = airlock_web::analyze_json("openai.error.RateLimitError: Rate limit reached for requests", "", "", "");
//! let v: serde_json::Value = serde_json::from_str(&json).unwrap();
//! assert!(v["found"].is_boolean());
//! assert_eq!(v["secret"], false);
//! ```

use airlock_rules::bundle::{BundleContext, support_bundle};
use airlock_rules::validate::{self, Config};
use airlock_rules::{Category, Diagnosis, RetryDecision, redact};
use serde::Serialize;
use wasm_bindgen::prelude::wasm_bindgen;

/// The endpoints offered in "Check a request", most used first.
pub const ENDPOINTS: &[&str] = &[
    "/v1/chat/completions",
    "/v1/responses",
    "/v1/responses/input_tokens",
    "/v1/completions",
    "/v1/embeddings",
    "/v1/moderations",
    "/v1/images/generations",
    "/v1/images/edits",
    "/v1/audio/speech",
    "/v1/batches",
    // Issue 12, session 18: more JSON endpoints (a `{…}` segment stands for any id).
    "/v1/assistants",
    "/v1/threads",
    "/v1/threads/runs",
    "/v1/threads/{thread_id}/messages",
    "/v1/threads/{thread_id}/runs",
    "/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs",
    "/v1/vector_stores",
    "/v1/vector_stores/{vector_store_id}/files",
    "/v1/vector_stores/{vector_store_id}/file_batches",
    "/v1/vector_stores/{vector_store_id}/search",
    "/v1/conversations",
    "/v1/conversations/{conversation_id}/items",
    "/v1/responses/compact",
    "/v1/realtime/client_secrets",
    "/v1/fine_tuning/jobs",
    "/v1/uploads",
    "/v1/evals",
    "/v1/containers",
    "/v1/videos",
];

/// What the page shows for one paste.
#[derive(Debug, Serialize)]
struct Analysis<'a> {
    /// An error was recognised.
    found: bool,
    /// The headline's category label ("Rate limit").
    label: Option<&'static str>,
    /// The retry advice in words.
    advice: Option<String>,
    /// Where it arrived, in words (`None` for a plain HTTP error response).
    arrived: Option<&'static str>,
    /// The full diagnosis.
    diagnosis: Option<&'a Diagnosis>,
    /// What could not be read.
    unread: &'a [String],
    /// The paste itself holds a key or token that is not masked.
    secret: bool,
    /// A redacted support bundle.
    bundle: Option<String>,
    /// A pasted event stream: its shape, how and where it ended.
    stream: Option<airlock_rules::sse::StreamSummary>,
}

/// Reads a paste and returns the page's view of it as JSON: `found`, `label`, `advice`,
/// `arrived` (where it arrived, in words), `diagnosis` (the rules crate's [`Diagnosis`]), `unread`, `secret` (the paste holds an
/// unredacted key) and `bundle` (the support bundle, keys masked).
///
/// `endpoint`, `model` and `time` fill the support bundle; empty strings mean unknown.
pub fn analyze_json(text: &str, endpoint: &str, model: &str, time: &str) -> String {
    let mut explanation = airlock_rules::explain(text);
    let stream = airlock_rules::sse::describe_stream(text);
    if explanation.diagnosis.is_none() {
        // A cut or incomplete stream carries no error of its own: diagnose what it shows.
        explanation.diagnosis = stream
            .as_ref()
            .and_then(|s| s.evidence())
            .map(|e| airlock_rules::diagnose(&e));
    }
    let d = explanation.diagnosis.as_ref();
    let bundle = d.map(|d| {
        let mut context = BundleContext::default();
        context.endpoint = non_empty(endpoint);
        context.model = non_empty(model);
        context.timestamp = non_empty(time);
        support_bundle(d, &context)
    });
    let analysis = Analysis {
        found: d.is_some(),
        label: d.map(|d| category_label(d.category)),
        advice: d.map(retry_advice),
        arrived: d.and_then(|d| d.delivery.advice()),
        diagnosis: d,
        unread: &explanation.unread,
        secret: redact::contains_secret(text),
        bundle,
        stream,
    };
    serde_json::to_string(&analysis).unwrap_or_else(|_| String::from("{\"found\":false}"))
}

/// The verdict on a request body, as JSON: `ok`, `verdict` (the rules crate's
/// [`validate::Verdict`]), `status` and `answer` (the body OpenAI would send back when it rejects
/// the request), and `not_json` (why the body is not JSON, when it is not).
pub fn check_json(endpoint: &str, body: &str) -> String {
    #[derive(Serialize)]
    struct Checked<'a> {
        ok: bool,
        verdict: &'a validate::Verdict,
        status: Option<u16>,
        answer: Option<String>,
        not_json: Option<String>,
    }
    let verdict = validate::check(endpoint, body.as_bytes(), &Config::default());
    /// OpenAI's error body, fields in its order (`message`, `type`, `param`, `code`).
    #[derive(Serialize)]
    struct Wrapped<'a> {
        error: &'a validate::ApiError,
    }
    let answer = verdict
        .errors
        .first()
        .map(|f| serde_json::to_string_pretty(&Wrapped { error: &f.error }).unwrap_or_default());
    let not_json = serde_json::from_str::<serde_json::Value>(body)
        .err()
        .filter(|_| !body.trim().is_empty())
        .map(|e| e.to_string());
    let checked = Checked {
        ok: verdict.ok(),
        verdict: &verdict,
        status: answer.as_ref().map(|_| 400),
        answer,
        not_json,
    };
    serde_json::to_string(&checked).unwrap_or_else(|_| String::from("{\"ok\":true}"))
}

/// Every category of the rules, in their order, for the page's Traffic view (issue 16): `name`,
/// `label` (the headline label), `meaning` and `first_fix` (from the record its alert rule
/// names, as the Monitor's alerts carry them), and `alert` (how its alert fires).
///
/// ```
/// let v: serde_json::Value = serde_json::from_str(&airlock_web::categories_json()).unwrap();
/// assert_eq!(v.as_array().unwrap().len(), 17);
/// assert_eq!(v[0]["name"], "invalid_request");
/// ```
pub fn categories_json() -> String {
    let list: Vec<serde_json::Value> = airlock_rules::alert::rules()
        .iter()
        .map(|rule| {
            serde_json::json!({
                "name": rule.category.as_str(),
                "label": category_label(rule.category),
                "meaning": rule.meaning(),
                "first_fix": rule.first_fix(),
                "alert": rule.fire.as_str(),
            })
        })
        .collect();
    serde_json::to_string(&list).unwrap_or_else(|_| String::from("[]"))
}

/// The category as a headline label.
pub const fn category_label(category: Category) -> &'static str {
    match category {
        Category::InvalidRequest => "Invalid request",
        Category::Authentication => "Authentication failed",
        Category::Permission => "Permission denied",
        Category::NotFound => "Not found",
        Category::Conflict => "Conflict",
        Category::Unprocessable => "Unprocessable request",
        Category::RateLimit => "Rate limit",
        Category::Quota => "Quota or billing",
        Category::ServerError => "Server error",
        Category::Overloaded => "Overloaded",
        Category::Timeout => "Timeout",
        Category::Connection => "Connection failure",
        Category::ContextLength => "Context length exceeded",
        Category::ContentPolicy => "Content policy",
        Category::StreamError => "Error inside a stream",
        Category::BatchError => "Batch error",
        Category::ClientSide => "Refused by the client library",
        _ => "Error",
    }
}

/// Retry or not, and when, in words: "Retry: wait 20 s", "Don't retry: add credits …",
/// "Change the request first: …".
pub fn retry_advice(d: &Diagnosis) -> String {
    match d.retry.decision {
        RetryDecision::Yes => match d.retry.after_ms {
            Some(ms) => format!("Retry: wait {}", format_duration(ms)),
            None => {
                String::from("Retry with backoff: wait 0.5 s, then double the wait (up to 8 s)")
            }
        },
        RetryDecision::No => {
            let why = match d.category {
                Category::Quota => "add credits or raise the billing limit",
                Category::Authentication => "fix the API key",
                Category::Permission => "get access first (organization, project, region or model)",
                Category::NotFound => "use a model or resource this key can see",
                _ => "fix the cause first",
            };
            format!("Don't retry: {why}")
        }
        RetryDecision::AfterChange => {
            let what = match d.category {
                Category::ContextLength => "shorten the input or lower the output limit",
                Category::ContentPolicy => "rephrase the content the safety system refused",
                Category::BatchError => "fix the job or line, then submit it again",
                Category::ClientSide => {
                    "upgrade the package that raised it, or fix the argument it names"
                }
                _ => "fix what the message names, then send it again",
            };
            format!("Change the request first: {what}")
        }
        _ => String::from("No retry advice"),
    }
}

/// A duration for people: `250 ms`, `20 s`, `1.5 s`, `6 min`, `1 min 30 s`, `2 h 5 min`.
pub fn format_duration(ms: u64) -> String {
    if ms < 1000 {
        return format!("{ms} ms");
    }
    if ms < 60_000 {
        let tenths = ms.div_ceil(100);
        return if tenths % 10 == 0 {
            format!("{} s", tenths / 10)
        } else {
            format!("{}.{} s", tenths / 10, tenths % 10)
        };
    }
    let secs = ms.div_ceil(1000);
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, s) {
        (0, 0) => format!("{m} min"),
        (0, _) => format!("{m} min {s} s"),
        _ if m == 0 => format!("{h} h"),
        _ => format!("{h} h {m} min"),
    }
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| String::from(s))
}

/// See [`analyze_json`].
#[wasm_bindgen]
pub fn analyze(text: &str, endpoint: &str, model: &str, time: &str) -> String {
    analyze_json(text, endpoint, model, time)
}

/// See [`check_json`].
#[wasm_bindgen]
pub fn check(endpoint: &str, body: &str) -> String {
    check_json(endpoint, body)
}

/// The text with every key and token masked (used before a paste goes into a link).
#[wasm_bindgen]
pub fn redact(text: &str) -> String {
    redact::redact(text)
}

/// The endpoints offered in "Check a request", as a JSON array.
#[wasm_bindgen]
pub fn endpoints() -> String {
    serde_json::to_string(ENDPOINTS).unwrap_or_default()
}

/// See [`format_duration`].
#[wasm_bindgen]
pub fn duration(ms: f64) -> String {
    // Saturating float-to-int: negative and NaN become 0.
    format_duration(ms as u64)
}

/// See [`categories_json`].
#[wasm_bindgen]
pub fn categories() -> String {
    categories_json()
}

/// The version of the rule data compiled in.
#[wasm_bindgen]
pub fn data_version() -> String {
    String::from(airlock_rules::DATA_VERSION)
}

/// The token budget of a request body as JSON, for "Check a request": the rules crate's
/// [`validate::TokenReport`] fields (`encoding`, `input_exact`, `input_estimated`, `output`,
/// `output_param`, `context_window`, `output_in_window`, `max_output`) plus `input_total`,
/// `errors` (the `context_length` rule's rejection, in OpenAI's shape, empty when it fits),
/// `answer` (OpenAI's error body for the first of them) and `warnings` (its warnings). `{"error":
/// …}` when nothing was counted: the body is not JSON, the endpoint is not counted, or the
/// model's encoding is not known. Without the `tokenizer` feature, always that error.
pub fn budget_json(endpoint: &str, body: &str) -> String {
    let verdict = validate::check(endpoint, body.as_bytes(), &Config::default());
    let Some(tokens) = &verdict.tokens else {
        let why = if serde_json::from_str::<serde_json::Value>(body).is_err() {
            "the body is not JSON"
        } else if cfg!(feature = "tokenizer") {
            "no known encoding for this model on this endpoint"
        } else {
            "token counts are not part of this build"
        };
        return serde_json::json!({ "error": why }).to_string();
    };
    let of_rule = |list: &[validate::Finding]| -> Vec<serde_json::Value> {
        list.iter()
            .filter(|f| f.rule == "context_length")
            .map(|f| serde_json::json!({ "rule": f.rule, "error": f.error }))
            .collect()
    };
    let errors = of_rule(&verdict.errors);
    let answer = verdict
        .errors
        .iter()
        .find(|f| f.rule == "context_length")
        .map(|f| {
            serde_json::to_string_pretty(&serde_json::json!({ "error": f.error }))
                .unwrap_or_default()
        });
    let mut v = serde_json::to_value(tokens).unwrap_or_default();
    v["input_total"] = serde_json::json!(tokens.input_total());
    v["errors"] = serde_json::json!(errors);
    v["answer"] = serde_json::json!(answer);
    v["warnings"] = serde_json::json!(of_rule(&verdict.warnings));
    v.to_string()
}

/// Token counts, built only into the lazily loaded tokenizer module (`www/pkg/tokenizer/`).
#[cfg(feature = "tokenizer")]
mod tokens {
    use wasm_bindgen::prelude::wasm_bindgen;

    /// See [`super::budget_json`].
    #[wasm_bindgen]
    pub fn count_request(endpoint: &str, body: &str) -> String {
        super::budget_json(endpoint, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyze_value(text: &str) -> serde_json::Value {
        serde_json::from_str(&analyze_json(text, "", "", "")).unwrap()
    }

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(format_duration(20), "20 ms");
        assert_eq!(format_duration(20_000), "20 s");
        assert_eq!(format_duration(1_500), "1.5 s");
        assert_eq!(format_duration(1_001), "1.1 s");
        assert_eq!(format_duration(360_000), "6 min");
        assert_eq!(format_duration(90_000), "1 min 30 s");
        assert_eq!(format_duration(7_500_000), "2 h 5 min");
        assert_eq!(format_duration(3_600_000), "1 h");
    }

    #[test]
    fn a_paste_with_a_key_is_flagged_and_the_bundle_masks_it() {
        let key = "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78";
        let text = format!(
            r#"{{"error": {{"message": "Incorrect API key provided: {key}. You can find your API key at https://platform.openai.com/account/api-keys.", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}}}"#
        );
        let v = analyze_value(&text);
        assert_eq!(v["secret"], true);
        if v["found"] == true {
            let bundle = v["bundle"].as_str().unwrap();
            assert!(!bundle.contains(key), "{bundle}");
        }
        assert!(!redact(&text).contains(key));
    }

    #[test]
    fn no_error_means_nothing_found() {
        let v = analyze_value("");
        assert_eq!(v["found"], false);
        assert_eq!(v["secret"], false);
        assert!(v["bundle"].is_null());
    }

    #[test]
    fn advice_follows_the_decision() {
        let text = r#"{"error": {"message": "You exceeded your current quota, please check your plan and billing details.", "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}}"#;
        let Some(mut d) = airlock_rules::explain(text).diagnosis else {
            return; // the classifier is not merged on this branch
        };
        d.category = Category::Quota;
        d.retry.decision = RetryDecision::No;
        assert_eq!(
            retry_advice(&d),
            "Don't retry: add credits or raise the billing limit"
        );
        d.category = Category::RateLimit;
        d.retry.decision = RetryDecision::Yes;
        d.retry.after_ms = Some(20_000);
        assert_eq!(retry_advice(&d), "Retry: wait 20 s");
        d.category = Category::ContextLength;
        d.retry.decision = RetryDecision::AfterChange;
        assert!(retry_advice(&d).starts_with("Change the request first"));
    }

    #[test]
    fn a_body_that_is_not_json_says_so() {
        let v: serde_json::Value =
            serde_json::from_str(&check_json("/v1/chat/completions", "{model: 1")).unwrap();
        assert!(v["not_json"].is_string());
        let v: serde_json::Value = serde_json::from_str(&check_json(
            "/v1/chat/completions",
            r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#,
        ))
        .unwrap();
        assert!(v["not_json"].is_null());
        assert_eq!(v["ok"], true);
    }

    #[test]
    fn a_rejected_body_is_answered_in_openai_field_order() {
        let v: serde_json::Value = serde_json::from_str(&check_json(
            "/v1/chat/completions",
            r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"temperature":5}"#,
        ))
        .unwrap();
        assert_eq!(v["ok"], false);
        assert_eq!(v["status"], 400);
        let answer = v["answer"].as_str().unwrap();
        let at = |k: &str| answer.find(&format!("\"{k}\"")).unwrap();
        assert!(at("message") < at("type") && at("type") < at("param") && at("param") < at("code"));
    }

    #[cfg(feature = "tokenizer")]
    #[test]
    fn the_budget_names_the_window_and_rejects_only_the_certain() {
        let body = |n: usize, max: u64| {
            serde_json::json!({
                "model": "gpt-4o",
                "messages": [{"role": "user", "content": " word".repeat(n)}],
                "max_tokens": max,
            })
            .to_string()
        };
        let v: serde_json::Value =
            serde_json::from_str(&budget_json("/v1/chat/completions", &body(10, 100))).unwrap();
        assert_eq!(v["encoding"], "o200k_base");
        assert_eq!(v["input_exact"], 11); // "user" + ten words
        assert_eq!(v["context_window"], 128_000);
        assert_eq!(v["output"], 100);
        assert_eq!(v["errors"], serde_json::json!([]));
        let v: serde_json::Value =
            serde_json::from_str(&budget_json("/v1/chat/completions", &body(127_000, 10_000)))
                .unwrap();
        assert_eq!(v["errors"], serde_json::json!([]));
        assert_eq!(v["warnings"].as_array().unwrap().len(), 1);
        let v: serde_json::Value =
            serde_json::from_str(&budget_json("/v1/chat/completions", &body(128_100, 10))).unwrap();
        assert_eq!(v["errors"][0]["error"]["code"], "context_length_exceeded");
        assert!(
            v["answer"]
                .as_str()
                .unwrap()
                .contains("maximum context length is 128000")
        );
    }

    #[test]
    fn endpoints_are_json() {
        let list: Vec<String> = serde_json::from_str(&endpoints()).unwrap();
        assert_eq!(list[0], "/v1/chat/completions");
    }

    #[test]
    fn a_cut_stream_says_where_it_ended() {
        let v = analyze_value(
            "data: {\"object\":\"chat.completion.chunk\",\"choices\":[]}\n\ndata: {\"obj",
        );
        assert_eq!(v["found"], true);
        assert_eq!(v["stream"]["state"]["state"], "cut");
        assert_eq!(v["stream"]["last_event"], "chunk");
        assert!(analyze_value("{\"error\":{\"message\":\"x\"}}")["stream"].is_null());
    }
}
