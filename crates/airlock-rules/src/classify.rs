//! From evidence to a diagnosis, using the generated rule tables.

use alloc::string::String;

use crate::Category;
use crate::diagnosis::{Diagnosis, RetryAdvice, SdkNames};
use crate::evidence::{Evidence, Transport};

/// A failure where no response arrived.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoResponse {
    /// The connection failed (DNS, refused, reset, TLS).
    Connection,
    /// No answer within the time allowed.
    Timeout,
}

/// Diagnoses what the readers found.
pub fn diagnose(evidence: &Evidence) -> Diagnosis {
    // Placeholder until the rule tables land: category from the status only.
    let category = match (evidence.transport, evidence.status) {
        (Some(Transport::Timeout), _) => Category::Timeout,
        (Some(Transport::Connection), _) => Category::Connection,
        (_, Some(401)) => Category::Authentication,
        (_, Some(429)) => Category::RateLimit,
        _ => Category::InvalidRequest,
    };
    Diagnosis {
        category,
        status: evidence.status,
        code: evidence.code.clone(),
        error_type: evidence.error_type.clone(),
        param: evidence.param.clone(),
        message: evidence.message.clone(),
        request_id: evidence.request_id.clone(),
        sdk: SdkNames::default(),
        retry: RetryAdvice {
            decision: category.default_retry(),
            after_ms: None,
        },
        rate_limit: None,
        rate_limit_headers: None,
        meaning: String::new(),
        first_fix: String::new(),
        rule: String::new(),
        format: evidence.format,
    }
}

/// Diagnoses an HTTP response the worker received: status, headers (any case) and body bytes.
pub fn diagnose_response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Diagnosis {
    diagnose(&crate::parse::read_response(status, headers, body))
}

/// Diagnoses a request that got no response at all.
pub fn diagnose_no_response(kind: NoResponse) -> Diagnosis {
    let transport = match kind {
        NoResponse::Connection => Transport::Connection,
        NoResponse::Timeout => Transport::Timeout,
    };
    diagnose(&Evidence {
        transport: Some(transport),
        ..Evidence::default()
    })
}
