//! CORS for the origins named in `CORS_ALLOW_ORIGINS` (exact origins, or `*`).

/// Headers a browser app may read from Airlock's responses.
pub const EXPOSE: &str = "x-request-id, x-airlock-request-id, x-airlock-category, x-airlock-retry, x-airlock-rule, x-airlock-checked, x-airlock-warnings, x-airlock-output, x-should-retry, retry-after, retry-after-ms, openai-organization, openai-processing-ms, openai-version, x-ratelimit-limit-requests, x-ratelimit-limit-tokens, x-ratelimit-remaining-requests, x-ratelimit-remaining-tokens, x-ratelimit-reset-requests, x-ratelimit-reset-tokens";

/// True when `origin` may call the worker.
pub fn allowed(origin: Option<&str>, allow: &[String]) -> bool {
    match origin {
        Some(origin) => allow
            .iter()
            .any(|a| a == "*" || a.eq_ignore_ascii_case(origin.trim_end_matches('/'))),
        None => false,
    }
}

/// The headers for a response to an allowed origin. Airlock owns CORS: no upstream
/// `access-control-*` header reaches the client (`route::forwardable_response_header`), and
/// credentials are never allowed (the API authenticates by key, not by cookie). `Vary` is
/// merged, not replaced: [`vary_with_origin`].
pub fn response_headers(origin: &str) -> Vec<(&'static str, String)> {
    vec![
        ("access-control-allow-origin", origin.to_owned()),
        ("access-control-expose-headers", EXPOSE.to_owned()),
    ]
}

/// The upstream's `Vary` with `Origin` added (once).
pub fn vary_with_origin(vary: Option<&str>) -> String {
    match vary.map(str::trim).filter(|v| !v.is_empty()) {
        None => "Origin".to_owned(),
        Some(v)
            if v.split(',')
                .any(|t| t.trim() == "*" || t.trim().eq_ignore_ascii_case("origin")) =>
        {
            v.to_owned()
        }
        Some(v) => format!("{v}, Origin"),
    }
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
    out.push(("vary", "Origin".to_owned()));
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

    #[test]
    fn vary_is_merged() {
        assert_eq!(vary_with_origin(None), "Origin");
        assert_eq!(
            vary_with_origin(Some("Accept-Encoding")),
            "Accept-Encoding, Origin"
        );
        assert_eq!(vary_with_origin(Some("origin, accept")), "origin, accept");
        assert_eq!(vary_with_origin(Some("*")), "*");
    }
}
