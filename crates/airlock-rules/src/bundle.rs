//! A short, sanitized text to send to OpenAI support.
//!
//! [`support_bundle`] lays out what OpenAI support asks for — the request ID, when it happened
//! (with the time zone), the endpoint and model, the status and error fields, the rate-limit numbers
//! — and passes the whole text through [`crate::redact`]. It never includes prompt text: only the
//! error's own message, which is masked like the rest.
//!
//! ```
//! use airlock_rules::bundle::{support_bundle, BundleContext};
//!
//! let pasted = r#"{"error": {"message": "The server had an error while processing your request. Sorry about that!", "type": "server_error", "param": null, "code": null}}"#;
//! if let Some(d) = airlock_rules::explain(pasted).diagnosis {
//!     let mut context = BundleContext::default();
//!     context.endpoint = Some("POST /v1/chat/completions".into());
//!     context.timestamp = Some("2024-05-01T12:34:56Z".into());
//!     let text = support_bundle(&d, &context);
//!     assert!(text.contains("Time: 2024-05-01T12:34:56Z"));
//! }
//! ```

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::ratelimit::{LimitKind, LimitWindow};
use crate::redact::{RedactOptions, redact_with};
use crate::{Diagnosis, RetryDecision};

/// What the person knows about the failed request, beyond the error itself. Every field is optional.
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BundleContext {
    /// The endpoint called (`POST /v1/chat/completions`, or a URL).
    pub endpoint: Option<String>,
    /// The model requested (falls back to the model a rate-limit message names).
    pub model: Option<String>,
    /// When the request failed, with its time zone (`2024-05-01T12:34:56Z`, `2024-05-01 14:34 CEST`).
    pub timestamp: Option<String>,
    /// The client and version (`openai-python 1.51.0`).
    pub client: Option<String>,
    /// How many times the request was sent in all.
    pub attempts: Option<u32>,
    /// What was tried already, one item per entry.
    pub tried: Vec<String>,
    /// Also mask organization and project IDs (support usually needs the organization ID, so off by
    /// default).
    pub hide_ids: bool,
}

/// A plain-text report of `diagnosis` for OpenAI support, every line passed through
/// [`crate::redact::redact_with`].
///
/// Fields that are unknown say so, with where to find them when that helps (the request ID is the
/// `x-request-id` response header). A timestamp without a recognisable time zone is marked.
///
/// # Example
/// See the [module documentation](self).
pub fn support_bundle(diagnosis: &Diagnosis, context: &BundleContext) -> String {
    let d = diagnosis;
    let mut out = String::new();
    out.push_str("OpenAI API error report (prepared with Airlock; keys and tokens masked)\n\n");

    line(
        &mut out,
        "Request ID",
        d.request_id.as_deref(),
        "not found; it is the x-request-id response header",
    );
    let time = context
        .timestamp
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    match time {
        Some(t) if has_time_zone(t) => line(&mut out, "Time", Some(t), ""),
        Some(t) => {
            let marked = format!("{t} (time zone not stated)");
            line(&mut out, "Time", Some(&marked), "");
        }
        None => line(
            &mut out,
            "Time",
            None,
            "not given; add when it failed, with the time zone",
        ),
    }
    line(
        &mut out,
        "Endpoint",
        context.endpoint.as_deref(),
        "not given",
    );
    let model = context
        .model
        .as_deref()
        .or_else(|| d.rate_limit.as_ref().and_then(|r| r.model.as_deref()));
    line(&mut out, "Model", model, "not given");
    if let Some(client) = context.client.as_deref() {
        line(&mut out, "Client", Some(client), "");
    }
    let status = d.status.map(|s| format!("{s}"));
    line(
        &mut out,
        "HTTP status",
        status.as_deref(),
        "none; no response was received",
    );
    line(&mut out, "Error code", d.code.as_deref(), "none");
    line(&mut out, "Error type", d.error_type.as_deref(), "none");
    line(&mut out, "Error param", d.param.as_deref(), "none");
    let category = format!(
        "{} (retry: {}{})",
        d.category.as_str(),
        d.retry.decision.as_str(),
        match (d.retry.decision, d.retry.after_ms) {
            (RetryDecision::Yes, Some(ms)) => format!(", after {ms} ms"),
            _ => String::new(),
        }
    );
    line(&mut out, "Category", Some(&category), "");
    if let Some(class) = d.sdk.python.as_deref().or(d.sdk.node.as_deref()) {
        line(&mut out, "SDK error", Some(class), "");
    }
    let message = d.message.as_deref().map(one_line);
    line(&mut out, "Message", message.as_deref(), "none");

    if let Some(r) = &d.rate_limit {
        let mut parts: Vec<String> = Vec::new();
        if let Some(kind) = r.kind {
            parts.push(String::from(kind_name(kind)));
        }
        if let Some(org) = &r.organization {
            parts.push(format!("organization {org}"));
        }
        for (name, value) in [
            ("limit", r.limit),
            ("used", r.used),
            ("requested", r.requested),
        ] {
            if let Some(v) = value {
                parts.push(format!("{name} {v}"));
            }
        }
        if let Some(ms) = r.retry_after_ms {
            parts.push(format!("try again in {ms} ms"));
        }
        if !parts.is_empty() {
            line(&mut out, "Rate limit", Some(&parts.join(", ")), "");
        }
    }
    if let Some(h) = &d.rate_limit_headers {
        let mut parts = Vec::new();
        for (name, window) in [("requests", &h.requests), ("tokens", &h.tokens)] {
            if let Some(w) = window {
                parts.push(format!("{name} {}", window_text(w)));
            }
        }
        if !parts.is_empty() {
            line(&mut out, "x-ratelimit-*", Some(&parts.join("; ")), "");
        }
    }

    let mut tried: Vec<String> = Vec::new();
    if let Some(n) = context.attempts {
        tried.push(format!("sent {n} time{}", if n == 1 { "" } else { "s" }));
    }
    tried.extend(
        context
            .tried
            .iter()
            .map(|t| one_line(t))
            .filter(|t| !t.is_empty()),
    );
    let tried = tried.join("; ");
    line(
        &mut out,
        "Tried",
        Some(tried.as_str()).filter(|t| !t.is_empty()),
        "not stated",
    );

    let options = if context.hide_ids {
        RedactOptions::with_ids()
    } else {
        RedactOptions::keys()
    };
    redact_with(&out, &options)
}

fn line(out: &mut String, label: &str, value: Option<&str>, missing: &str) {
    let value = value.map(str::trim).filter(|v| !v.is_empty());
    let _ = match value {
        Some(v) => writeln!(out, "{label}: {v}"),
        None => writeln!(out, "{label}: ({missing})"),
    };
}

/// Collapses whitespace (newlines included) and caps the length at 1000 characters.
fn one_line(text: &str) -> String {
    let mut out = String::new();
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.chars().count() > 1000 {
        let cut = out.char_indices().nth(1000).map_or(out.len(), |(i, _)| i);
        out.truncate(cut);
        out.push('…');
    }
    out
}

fn kind_name(kind: LimitKind) -> &'static str {
    match kind {
        LimitKind::Rpm => "requests per minute (RPM)",
        LimitKind::Rpd => "requests per day (RPD)",
        LimitKind::Tpm => "tokens per minute (TPM)",
        LimitKind::Tpd => "tokens per day (TPD)",
        LimitKind::Ipm => "images per minute (IPM)",
    }
}

fn window_text(w: &LimitWindow) -> String {
    let mut parts = Vec::new();
    if let Some(v) = w.limit {
        parts.push(format!("limit {v}"));
    }
    if let Some(v) = w.remaining {
        parts.push(format!("remaining {v}"));
    }
    if let Some(v) = &w.reset {
        parts.push(format!("reset {}", one_line(v)));
    }
    parts.join(", ")
}

/// True when a timestamp names its zone: `Z`, an offset (`+02:00`, `-0500`), `UTC`/`GMT`, an
/// abbreviation (`CEST`, `PST`) or an IANA name (`Europe/Paris`).
fn has_time_zone(ts: &str) -> bool {
    let t = ts.trim();
    let b = t.as_bytes();
    if b.last().is_some_and(|c| *c == b'Z' || *c == b'z')
        && b.len() >= 2
        && b[b.len() - 2].is_ascii_digit()
    {
        return true;
    }
    let upper = t.to_ascii_uppercase();
    if upper.contains("UTC") || upper.contains("GMT") {
        return true;
    }
    // An offset after the time of day: `…:56+02:00`, `… 12:00 -0500`.
    if let Some(colon) = t.find(':') {
        let rest = &b[colon..];
        for (i, c) in rest.iter().enumerate() {
            if (*c == b'+' || *c == b'-')
                && rest.len() >= i + 3
                && rest[i + 1].is_ascii_digit()
                && rest[i + 2].is_ascii_digit()
            {
                return true;
            }
        }
    }
    t.split_whitespace().skip(1).any(|word| {
        let w = word.trim_matches(|c: char| c == '(' || c == ')' || c == ',');
        (w.len() >= 3
            && w.len() <= 5
            && w.bytes().all(|c| c.is_ascii_uppercase())
            && !matches!(w, "AM" | "PM"))
            || (w.contains('/')
                && w.split('/')
                    .all(|p| p.bytes().next().is_some_and(|c| c.is_ascii_uppercase())))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ratelimit::{RateLimitHeaders, RateLimitInfo};
    use crate::{Category, Format, RetryAdvice, SdkNames};

    fn rate_limited() -> Diagnosis {
        let message = "Rate limit reached for gpt-4o in organization org-AbCdEfGhIjKlMnOpQrStUvWx on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000. Please try again in 2s. Visit https://platform.openai.com/account/rate-limits to learn more.";
        Diagnosis {
            category: Category::RateLimit,
            delivery: crate::Delivery::Response,
            confidence: crate::Confidence::Certain,
            status: Some(429),
            code: Some("rate_limit_exceeded".into()),
            error_type: Some("tokens".into()),
            param: None,
            message: Some(message.into()),
            request_id: Some("req_0123456789abcdef0123456789abcdef".into()),
            sdk: SdkNames {
                python: Some("openai.RateLimitError".into()),
                node: Some("RateLimitError".into()),
                python_v0: None,
            },
            retry: RetryAdvice {
                decision: RetryDecision::Yes,
                after_ms: Some(2000),
            },
            rate_limit: crate::ratelimit::from_message(message),
            rate_limit_headers: crate::ratelimit::decode_headers([
                ("x-ratelimit-limit-requests", "500"),
                ("x-ratelimit-remaining-requests", "499"),
                ("x-ratelimit-reset-requests", "120ms"),
                ("x-ratelimit-limit-tokens", "30000"),
                ("x-ratelimit-remaining-tokens", "1000"),
                ("x-ratelimit-reset-tokens", "2s"),
            ]),
            meaning: "meaning".into(),
            first_fix: "fix".into(),
            rule: "rate_limit_exceeded".into(),
            format: Format::Json,
        }
    }

    #[test]
    fn full_bundle() {
        let mut c = BundleContext {
            endpoint: Some("POST https://api.openai.com/v1/chat/completions".into()),
            timestamp: Some("2024-05-01T12:34:56+02:00".into()),
            attempts: Some(3),
            tried: alloc::vec!["waited a minute".into(), "lowered max_tokens to 500".into()],
            client: Some("openai-python 1.51.0".into()),
            ..BundleContext::default()
        };
        let text = support_bundle(&rate_limited(), &c);
        let want = "OpenAI API error report (prepared with Airlock; keys and tokens masked)

Request ID: req_0123456789abcdef0123456789abcdef
Time: 2024-05-01T12:34:56+02:00
Endpoint: POST https://api.openai.com/v1/chat/completions
Model: gpt-4o
Client: openai-python 1.51.0
HTTP status: 429
Error code: rate_limit_exceeded
Error type: tokens
Error param: (none)
Category: rate_limit (retry: yes, after 2000 ms)
SDK error: openai.RateLimitError
Message: Rate limit reached for gpt-4o in organization org-AbCdEfGhIjKlMnOpQrStUvWx on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000. Please try again in 2s. Visit https://platform.openai.com/account/rate-limits to learn more.
Rate limit: tokens per minute (TPM), organization org-AbCdEfGhIjKlMnOpQrStUvWx, limit 30000, used 29000, requested 2000, try again in 2000 ms
x-ratelimit-*: requests limit 500, remaining 499, reset 120ms; tokens limit 30000, remaining 1000, reset 2s
Tried: sent 3 times; waited a minute; lowered max_tokens to 500
";
        assert_eq!(text, want);

        c.hide_ids = true;
        let hidden = support_bundle(&rate_limited(), &c);
        assert!(!hidden.contains("org-AbCdEfGhIjKlMnOpQrStUvWx"));
        assert!(hidden.contains("org-***UvWx"));
    }

    #[test]
    fn secrets_are_masked_everywhere() {
        let mut d = rate_limited();
        d.category = Category::Authentication;
        d.status = Some(401);
        d.retry = RetryAdvice {
            decision: RetryDecision::No,
            after_ms: None,
        };
        d.rate_limit = None;
        d.rate_limit_headers = None;
        d.message = Some("Incorrect API key provided: sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34PcIA.\nYou can find your API key at https://platform.openai.com/account/api-keys.".into());
        let c = BundleContext {
            endpoint: Some(
                "https://api.openai.com/v1/models?key=sk-AbCdEfGhIjKlMnOpQrSt1234".into(),
            ),
            tried: alloc::vec![
                "curl -H 'Authorization: Bearer sk-proj-Zz12Cd34Ef56Gh78Ij90Kl12Mn34QQQQ'".into()
            ],
            ..BundleContext::default()
        };
        let text = support_bundle(&d, &c);
        assert!(!text.contains("Ab12Cd34"), "{text}");
        assert!(!text.contains("AbCdEfGhIjKlMnOpQrSt"), "{text}");
        assert!(!text.contains("Zz12Cd34"), "{text}");
        assert!(
            text.contains("Message: Incorrect API key provided: sk-proj-***PcIA. You can find"),
            "{text}"
        );
        assert!(
            text.contains("Category: authentication (retry: no)\n"),
            "{text}"
        );
        assert!(!crate::redact::contains_secret(&text));
    }

    #[test]
    fn unknowns_say_so() {
        let mut d = rate_limited();
        d.request_id = None;
        d.status = None;
        d.code = None;
        d.message = None;
        d.rate_limit = None;
        d.rate_limit_headers = Some(RateLimitHeaders::default());
        let text = support_bundle(&d, &BundleContext::default());
        assert!(
            text.contains("Request ID: (not found (it is the x-request-id response header))\n")
                || text.contains("Request ID: (not found"),
            "{text}"
        );
        assert!(text.contains("Time: (not given"), "{text}");
        assert!(text.contains("Model: (not given)\n"), "{text}");
        assert!(
            text.contains("HTTP status: (none (no response))\n")
                || text.contains("HTTP status: (none"),
            "{text}"
        );
        assert!(text.contains("Tried: (not stated)\n"), "{text}");
        assert!(!text.contains("Rate limit:"));
        assert!(!text.contains("x-ratelimit-*"));
        // The model falls back to the one the rate-limit message names.
        let mut d = rate_limited();
        d.rate_limit = Some(RateLimitInfo {
            model: Some("gpt-4o-mini".into()),
            ..RateLimitInfo::default()
        });
        assert!(support_bundle(&d, &BundleContext::default()).contains("Model: gpt-4o-mini\n"));
    }

    #[test]
    fn time_zones() {
        for t in [
            "2024-05-01T12:34:56Z",
            "2024-05-01T12:34:56.123Z",
            "2024-05-01 12:34:56 UTC",
            "2024-05-01T12:34:56+02:00",
            "2024-05-01 12:34 -0500",
            "Wed, 01 May 2024 12:34:56 GMT",
            "May 1 2024, 2:34 PM CEST",
            "2024-05-01 14:34 Europe/Paris",
        ] {
            assert!(has_time_zone(t), "{t}");
        }
        for t in [
            "2024-05-01 12:34:56",
            "yesterday at 3pm",
            "2024-05-01",
            "May 1 2024, 2:34 PM",
        ] {
            assert!(!has_time_zone(t), "{t}");
        }
        let c = BundleContext {
            timestamp: Some("2024-05-01 12:34".into()),
            ..BundleContext::default()
        };
        assert!(
            support_bundle(&rate_limited(), &c)
                .contains("Time: 2024-05-01 12:34 (time zone not stated)\n")
        );
    }

    #[test]
    fn long_messages_are_cut() {
        let mut d = rate_limited();
        d.message = Some("x ".repeat(2000));
        let text = support_bundle(&d, &BundleContext::default());
        let message = text.lines().find(|l| l.starts_with("Message: ")).unwrap();
        assert!(message.chars().count() <= "Message: ".len() + 1001);
        assert!(message.ends_with('…'));
    }
}
