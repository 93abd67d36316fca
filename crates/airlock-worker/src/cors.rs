//! CORS for the origins named in `CORS_ALLOW_ORIGINS` (exact origins, or `*`).

/// Headers a browser app may read from Airlock's responses.
pub const EXPOSE: &str = "x-request-id, x-airlock-request-id, x-airlock-checked, x-airlock-category, x-airlock-retry, x-airlock-rule, x-should-retry, retry-after, retry-after-ms, openai-organization, openai-processing-ms, openai-version, x-ratelimit-limit-requests, x-ratelimit-limit-tokens, x-ratelimit-remaining-requests, x-ratelimit-remaining-tokens, x-ratelimit-reset-requests, x-ratelimit-reset-tokens";

/// True when `origin` may call the worker.
pub fn allowed(origin: Option<&str>, allow: &[String]) -> bool {
    match origin {
        Some(origin) => allow
            .iter()
            .any(|a| a == "*" || a.eq_ignore_ascii_case(origin.trim_end_matches('/'))),
        None => false,
    }
}

/// The headers for a response to an allowed origin.
pub fn response_headers(origin: &str) -> Vec<(&'static str, String)> {
    vec![
        ("access-control-allow-origin", origin.to_owned()),
        ("access-control-expose-headers", EXPOSE.to_owned()),
        ("vary", "Origin".to_owned()),
    ]
}

/// The headers for a preflight answer: the method and headers the browser asked for.
pub fn preflight_headers(
    origin: &str,
    request_headers: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut out = response_headers(origin);
    out.push((
        "access-control-allow-methods",
        "GET, POST, PUT, PATCH, DELETE, OPTIONS".to_owned(),
    ));
    out.push((
        "access-control-allow-headers",
        request_headers
            .unwrap_or("authorization, content-type")
            .to_owned(),
    ));
    out.push(("access-control-max-age", "600".to_owned()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let list = vec!["https://app.example".to_owned()];
        assert!(allowed(Some("https://app.example"), &list));
        assert!(!allowed(Some("https://evil.example"), &list));
        assert!(!allowed(None, &list));
        assert!(allowed(Some("https://any.example"), &["*".to_owned()]));
        assert!(!allowed(Some("https://app.example"), &[]));
    }
}
