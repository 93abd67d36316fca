//! Every error response the worker makes itself is built here, in OpenAI's shape:
//! `{"error": {"message", "type", "param", "code"}}`.

use airlock_rules::validate::Finding;
use airlock_rules::{NoResponse, RetryDecision, diagnose_no_response};
use serde::Serialize;
use worker::{Headers, Response, Result};

/// The `error` object of OpenAI's error shape.
#[derive(Debug, Serialize)]
pub struct ApiError<'a> {
    /// What went wrong.
    pub message: String,
    /// OpenAI's error type (`invalid_request_error`, `server_error`, …).
    #[serde(rename = "type")]
    pub error_type: &'a str,
    /// The parameter at fault.
    pub param: Option<&'a str>,
    /// The machine-readable code.
    pub code: Option<&'a str>,
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: ApiError<'a>,
}

/// A worker-made error: status, body, and what the logs and headers say about it.
#[derive(Debug)]
pub struct Reject<'a> {
    /// HTTP status.
    pub status: u16,
    /// The OpenAI-shaped error.
    pub error: ApiError<'a>,
    /// `x-airlock-category`.
    pub category: &'a str,
    /// `x-airlock-retry`.
    pub retry: RetryDecision,
    /// `x-airlock-rule`, for rule rejections.
    pub rule: Option<&'a str>,
}

/// Builds the response for `reject`; `request_id` becomes its `x-request-id` (no upstream gave one).
///
/// # Errors
/// Only when the runtime refuses a header or body (does not happen with these values).
pub fn response(reject: &Reject<'_>, request_id: &str) -> Result<Response> {
    let body = serde_json::to_vec(&Envelope {
        error: ApiError {
            message: reject.error.message.clone(),
            error_type: reject.error.error_type,
            param: reject.error.param,
            code: reject.error.code,
        },
    })
    .map_err(|e| worker::Error::RustError(e.to_string()))?;
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    headers.set("x-request-id", request_id)?;
    headers.set("x-airlock-category", reject.category)?;
    headers.set("x-airlock-retry", reject.retry.as_str())?;
    if matches!(reject.retry, RetryDecision::No | RetryDecision::AfterChange) {
        headers.set("x-should-retry", "false")?;
    }
    if let Some(rule) = reject.rule {
        headers.set("x-airlock-rule", rule)?;
    }
    Ok(Response::builder()
        .with_status(reject.status)
        .with_headers(headers)
        .fixed(body))
}

/// A request the rules reject: 400 with OpenAI's code and param, never forwarded.
pub fn rule_rejection(finding: &Finding) -> Reject<'_> {
    Reject {
        status: 400,
        error: ApiError {
            message: finding.error.message.clone(),
            error_type: &finding.error.error_type,
            param: finding.error.param.as_deref(),
            code: finding.error.code.as_deref(),
        },
        category: "invalid_request",
        retry: RetryDecision::AfterChange,
        rule: Some(&finding.rule),
    }
}

/// A Batch input file upload whose lines the linter rejects: 400, never forwarded. The `code` is
/// the first problem's (OpenAI's Batch error codes: `invalid_json_line`, `duplicate_custom_id`, …).
pub fn batch_file(errors: &[airlock_rules::batch::LineError]) -> Reject<'_> {
    Reject {
        status: 400,
        error: ApiError {
            message: crate::upload::message(errors),
            error_type: "invalid_request_error",
            param: Some("file"),
            code: errors.first().map(|e| e.code.as_str()),
        },
        category: "invalid_request",
        retry: RetryDecision::AfterChange,
        rule: Some("batch_lint"),
    }
}

/// Gateway mode: a missing or wrong gateway token (401, like OpenAI's wrong-key answer).
pub fn gateway_token(presented: bool) -> Reject<'static> {
    let message = if presented {
        "Incorrect API key provided. This Airlock gateway expects one of its gateway tokens as \
         the Bearer token in the Authorization header, not an OpenAI API key."
    } else {
        "You didn't provide an API key. This Airlock gateway expects one of its gateway tokens as \
         the Bearer token in the Authorization header (i.e. Authorization: Bearer YOUR_TOKEN)."
    };
    Reject {
        status: 401,
        error: ApiError {
            message: message.to_owned(),
            error_type: "invalid_request_error",
            param: None,
            code: presented.then_some("invalid_api_key"),
        },
        category: "authentication",
        retry: RetryDecision::No,
        rule: Some("gateway_token"),
    }
}

/// The upstream could not be reached (502) or did not answer in time (504).
pub fn no_response(kind: NoResponse, upstream_host: &str, timeout_ms: u64) -> Reject<'static> {
    let d = diagnose_no_response(kind);
    let (status, code, message) = match kind {
        NoResponse::Timeout => (
            504,
            "upstream_timeout",
            format!(
                "Airlock got no response from the upstream API ({upstream_host}) within \
                 {timeout_ms} ms (UPSTREAM_TIMEOUT_MS)."
            ),
        ),
        _ => (
            502,
            "upstream_unreachable",
            format!("Airlock could not connect to the upstream API ({upstream_host})."),
        ),
    };
    Reject {
        status,
        error: ApiError {
            message,
            error_type: "server_error",
            param: None,
            code: Some(code),
        },
        category: d.category.as_str(),
        retry: d.retry.decision,
        rule: None,
    }
}

/// The upstream answered with a status outside 200–599 (a stray `100 Continue`, say): no answer a
/// client can be given, so treated as a failed connection (502, retried like one).
pub fn invalid_status(status: u16, upstream_host: &str) -> Reject<'static> {
    let d = diagnose_no_response(NoResponse::Connection);
    Reject {
        status: 502,
        error: ApiError {
            message: format!(
                "The upstream API ({upstream_host}) answered with status {status}, which is not a \
                 final HTTP status."
            ),
            error_type: "server_error",
            param: None,
            code: Some("upstream_invalid_status"),
        },
        category: d.category.as_str(),
        retry: d.retry.decision,
        rule: None,
    }
}

/// The upstream sent an error status and headers, but its body stalled (`stalled`) or broke off:
/// the same status, with Airlock's own body saying so, and the category the status and headers
/// gave.
pub fn error_body_lost(
    status: u16,
    d: &airlock_rules::Diagnosis,
    timeout_ms: u64,
    stalled: bool,
) -> Reject<'static> {
    let (code, message) = if stalled {
        (
            "upstream_body_timeout",
            format!(
                "The upstream API answered {status}, but its error body did not arrive within \
                 {timeout_ms} ms (UPSTREAM_BODY_TIMEOUT_MS)."
            ),
        )
    } else {
        (
            "upstream_body_cut",
            format!(
                "The upstream API answered {status}, but the connection closed before its error \
                 body was complete."
            ),
        )
    };
    Reject {
        status,
        error: ApiError {
            message,
            error_type: if status < 500 {
                "invalid_request_error"
            } else {
                "server_error"
            },
            param: None,
            code: Some(code),
        },
        category: d.category.as_str(),
        retry: d.retry.decision,
        rule: None,
    }
}

/// Simulate mode: an `x-airlock-simulate` value Airlock cannot act on (400, never forwarded).
pub fn simulate_refused(message: String) -> Reject<'static> {
    Reject {
        status: 400,
        error: ApiError {
            message,
            error_type: "invalid_request_error",
            param: Some("x-airlock-simulate"),
            code: Some("invalid_simulate"),
        },
        category: "invalid_request",
        retry: RetryDecision::AfterChange,
        rule: Some("simulate"),
    }
}

/// The worker's own settings are wrong (for example `UPSTREAM_URL`): 500, said plainly.
pub fn misconfigured(why: String) -> Reject<'static> {
    Reject {
        status: 500,
        error: ApiError {
            message: format!("Airlock is misconfigured: {why}"),
            error_type: "server_error",
            param: None,
            code: Some("airlock_misconfigured"),
        },
        category: "server_error",
        retry: RetryDecision::No,
        rule: None,
    }
}

/// Something failed inside the worker (the runtime refused a header, say); details go to the log.
pub fn internal() -> Reject<'static> {
    Reject {
        status: 500,
        error: ApiError {
            message: "Airlock failed while handling the request; its log has the details."
                .to_owned(),
            error_type: "server_error",
            param: None,
            code: Some("airlock_internal_error"),
        },
        category: "server_error",
        retry: RetryDecision::Yes,
        rule: None,
    }
}

/// The client's request body could not be read (client went away mid-upload).
pub fn unreadable_body() -> Reject<'static> {
    Reject {
        status: 400,
        error: ApiError {
            message: "Airlock could not read the request body.".to_owned(),
            error_type: "invalid_request_error",
            param: None,
            code: Some("unreadable_body"),
        },
        category: "invalid_request",
        retry: RetryDecision::AfterChange,
        rule: None,
    }
}
