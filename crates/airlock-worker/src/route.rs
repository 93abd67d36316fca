//! Pure request plumbing: where a request goes, which headers travel, what an upstream error adds.
//! No I/O here, so all of it is tested on the host.

use airlock_rules::{Category, Diagnosis, LimitKind, RateLimitHeaders, RetryDecision};

/// What the worker does with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `GET /healthz`: answered by the worker.
    Health,
    /// A CORS preflight from an allowed origin: answered by the worker.
    Preflight,
    /// A `/v1/*` request: checked by the rules, then forwarded.
    Api,
    /// Anything else: forwarded unchecked, to the configured upstream only.
    PassThrough,
}

/// Picks the route from the method, the normalised path and whether this is an allowed preflight.
pub fn route(method: &str, path: &str, allowed_preflight: bool) -> Route {
    if method == "OPTIONS" && allowed_preflight {
        Route::Preflight
    } else if path == "/healthz" && matches!(method, "GET" | "HEAD") {
        Route::Health
    } else if path == "/v1" || path.starts_with("/v1/") {
        Route::Api
    } else {
        Route::PassThrough
    }
}

/// The upstream URL for a request: the configured base with the request's path and query.
///
/// Only the path and query are taken from the request, and they are set on a copy of the base, so
/// nothing in the request (`..`, `//host`, `%2e%2e`, an absolute URL) can change scheme, host or port.
/// The path is the one the URL parser already normalised (dot segments resolved).
pub fn upstream_url(base: &url::Url, path: &str, query: Option<&str>) -> url::Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    url.set_path(&format!("{prefix}{path}"));
    url.set_query(query);
    url.set_fragment(None);
    url
}

/// A request URL's path and query read without the URL parser, for a URL the parser would give
/// back unchanged: `http(s)://authority/path[?query]` whose path holds only RFC 3986's unreserved
/// characters, sub-delimiters, `:`, `@` and `/`, with no dot segment, and whose query holds those,
/// `?` and `%` (never `'`, which the parser escapes in a query). `None` for anything else: the
/// caller then parses the URL whole (the fast path hands such a request to the Rust path).
pub fn plain_path_and_query(url: &str) -> Option<(&str, Option<&str>)> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let slash = rest.find('/')?;
    let authority = rest.get(..slash)?;
    let target = rest.get(slash..)?;
    if authority.is_empty()
        || !authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    {
        return None;
    }
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    let plain = |b: u8| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
            )
    };
    if !path.bytes().all(plain)
        || path
            .split('/')
            .any(|segment| segment == "." || segment == "..")
        || !query.is_none_or(|q| q.bytes().all(|b| plain(b) || b == b'?' || b == b'%'))
    {
        return None;
    }
    Some((path, query))
}

/// [`upstream_url`]'s text, for a path and query [`plain_path_and_query`] gave (nothing in them
/// to escape): the base's scheme and authority, its path without a trailing `/`, then the
/// request's path and query.
pub fn upstream_target(base: &url::Url, path: &str, query: Option<&str>) -> String {
    let origin = &base[..url::Position::BeforePath];
    let prefix = base.path().trim_end_matches('/');
    let mut out = String::with_capacity(origin.len() + prefix.len() + path.len() + 64);
    out.push_str(origin);
    out.push_str(prefix);
    if !path.starts_with('/') {
        out.push('/');
    }
    out.push_str(path);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// Request headers that never travel upstream:
/// - those that belong to one connection (RFC 9110 §7.6.1) or that the runtime sets itself
///   (`host`, `content-length`), and `expect`: a `100-continue` is between the client and Airlock;
///   forwarded, it makes the upstream answer `100 Continue` first;
/// - the ones Cloudflare's edge adds to the incoming request (`cf-*`, `x-real-ip`);
/// - `cookie`: the API authenticates by key, and a browser's cookies for Airlock's own origin are
///   not the upstream's business;
/// - `forwarded` and `x-forwarded-*`: whatever a client claims there is unchecked (and may name
///   internal addresses); the runtime describes the real hop itself.
///
/// Headers named in the request's `Connection` header are dropped as well ([`connection_listed`]).
pub fn forwardable_request_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    !matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "content-length"
            | "expect"
            | "x-real-ip"
            | "cookie"
            | "forwarded"
    ) && !name.starts_with("cf-")
        && !name.starts_with("x-forwarded-")
}

/// Response headers that belong to one connection: never copied back to the client.
pub const HOP_BY_HOP_RESPONSE_HEADERS: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Response headers copied back to the client. Not copied: the hop-by-hop ones; every
/// `access-control-*` header (Airlock owns CORS: an upstream's `allow-origin: *` or
/// `allow-credentials: true` must never reach a browser next to Airlock's own decision, see
/// `cors.rs`); and `set-cookie` (the upstream's cookies, Cloudflare's bot-management ones among
/// them, would be set for Airlock's origin; no SDK reads them). Headers named in the upstream's
/// `Connection` header are dropped too ([`connection_listed`]).
pub fn forwardable_response_header(name: &str) -> bool {
    !HOP_BY_HOP_RESPONSE_HEADERS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name))
        && !name.eq_ignore_ascii_case("set-cookie")
        && !name
            .get(..15)
            .is_some_and(|p| p.eq_ignore_ascii_case("access-control-"))
}

/// The header names a `Connection` header value lists (RFC 9110 §7.6.1: those headers belong to
/// this connection only), lowercase; at most [`MAX_CONNECTION_TOKENS`] of them.
pub fn connection_listed(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or("")
        .split(',')
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .take(MAX_CONNECTION_TOKENS)
        .collect()
}

/// Bound on the names one `Connection` header may list (a stranger controls it).
pub const MAX_CONNECTION_TOKENS: usize = 32;

/// True for a JSON request body the rules can read (`application/json`, any parameters, or a
/// `+json` type). Multipart and other types pass through as streams.
pub fn is_json_content_type(value: Option<&str>) -> bool {
    let Some(value) = value else { return false };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// True for a request body that may be JSON and so is read (up to `MAX_CHECK_BYTES`) to be
/// checked: a JSON content type, none, or any other that is not a form (`multipart/form-data`
/// bodies are files and fields; they stream through). A body sent `text/plain` or with no type
/// that parses as JSON is checked as JSON: clients send JSON that way, and it must not be a way
/// around the checks.
pub fn may_hold_json(content_type: Option<&str>) -> bool {
    !content_type.is_some_and(|t| {
        t.trim_start()
            .get(..10)
            .is_some_and(|p| p.eq_ignore_ascii_case("multipart/"))
    })
}

/// True while the first bytes of a body could begin a JSON object or array (whitespace and a
/// UTF-8 byte order mark may come first); false as soon as they cannot.
pub fn may_be_json_text(bytes: &[u8]) -> bool {
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(bytes);
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b) => matches!(b, b'{' | b'['),
        None => true,
    }
}

/// A final HTTP status a response can carry (200–599). Anything else from the upstream (a
/// `100 Continue` that was not asked for, a `101`, a number outside HTTP) is not an answer.
pub fn final_status(status: u16) -> bool {
    (200..=599).contains(&status)
}

/// Statuses whose responses have no body (a body with them is refused by the runtime).
pub fn null_body_status(status: u16) -> bool {
    matches!(status, 101 | 103 | 204 | 205 | 304)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The headers Airlock adds to an upstream error response, from the rules' diagnosis.
///
/// - `x-airlock-category`, `x-airlock-retry`: the diagnosis.
/// - `x-should-retry: false` when retrying cannot help (`no`, `after_change`): the official SDKs
///   obey it, so `insufficient_quota` is not sent three times.
/// - `retry-after-ms` on a rate limit that came without `retry-after`/`retry-after-ms`, from the
///   reset of the limit that was hit, so the SDKs wait as long as needed and no longer.
pub fn error_headers(d: &Diagnosis, headers: &[(String, String)]) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("x-airlock-category", d.category.as_str().to_owned()),
        ("x-airlock-retry", d.retry.decision.as_str().to_owned()),
    ];
    if matches!(
        d.retry.decision,
        RetryDecision::No | RetryDecision::AfterChange
    ) {
        out.push(("x-should-retry", "false".to_owned()));
    }
    if let Some(ms) = derived_retry_after_ms(d, headers) {
        out.push(("retry-after-ms", ms.to_string()));
    }
    out
}

/// For a rate limit without a server delay: how long until the limit that was hit resets.
///
/// Order: the reset of the family the message names (requests for RPM/RPD, tokens for TPM/TPD);
/// else the longest reset among exhausted families (`remaining: 0`); else the diagnosis's own delay
/// (for example the message's "Please try again in 6ms"); else the longest reset sent.
pub fn derived_retry_after_ms(d: &Diagnosis, headers: &[(String, String)]) -> Option<u64> {
    if d.category != Category::RateLimit
        || d.retry.decision != RetryDecision::Yes
        || header(headers, "retry-after").is_some()
        || header(headers, "retry-after-ms").is_some()
    {
        return None;
    }
    let decoded;
    let windows: &RateLimitHeaders = match &d.rate_limit_headers {
        Some(h) => h,
        None => match airlock_rules::ratelimit::decode_headers(
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        ) {
            Some(h) => {
                decoded = h;
                &decoded
            }
            None => return d.retry.after_ms,
        },
    };
    let kind = d.rate_limit.as_ref().and_then(|r| r.kind);
    let named = match kind {
        Some(LimitKind::Rpm | LimitKind::Rpd) => windows.requests.as_ref(),
        Some(LimitKind::Tpm | LimitKind::Tpd) => windows.tokens.as_ref(),
        _ => None,
    };
    if let Some(ms) = named.and_then(|w| w.reset_ms) {
        return Some(ms);
    }
    let both = [windows.requests.as_ref(), windows.tokens.as_ref()];
    let exhausted = both
        .iter()
        .flatten()
        .filter(|w| w.remaining == Some(0))
        .filter_map(|w| w.reset_ms)
        .max();
    exhausted
        .or(d.retry.after_ms)
        .or_else(|| both.iter().flatten().filter_map(|w| w.reset_ms).max())
}

#[cfg(test)]
mod tests {
    use super::*;
    use airlock_rules::ratelimit::LimitWindow;
    use airlock_rules::{RateLimitInfo, diagnose_response};

    fn base(text: &str) -> url::Url {
        url::Url::parse(text).unwrap()
    }

    /// What the URL parser makes of a raw request target, as the runtime would hand it over.
    fn normalised(target: &str) -> (String, Option<String>) {
        let u = url::Url::parse(&format!("https://airlock.example{target}")).unwrap();
        (u.path().to_owned(), u.query().map(str::to_owned))
    }

    #[test]
    fn plain_urls_read_as_the_parser_reads_them() {
        let plain = [
            "https://airlock.example/v1/chat/completions",
            "http://127.0.0.1:8787/v1/responses",
            "http://[::1]:8787/v1/responses?x=1",
            "https://airlock.example/v1/files?purpose=batch&limit=2",
            "https://airlock.example/v1/models?",
            "https://airlock.example/v1//chat/completions",
            "https://airlock.example/v1/x;y=z,(a)*+!$&:@~_-.",
            "https://airlock.example/v1/x?q=%41%zz/?a",
            "https://airlock.example/",
        ];
        for text in plain {
            let parsed = url::Url::parse(text).unwrap();
            let read = plain_path_and_query(text);
            assert_eq!(read, Some((parsed.path(), parsed.query())), "{text}");
            for upstream in [
                "https://api.openai.com",
                "https://api.openai.com/",
                "http://127.0.0.1:9999/openai/",
                "https://user:pw@proxy.example:8443/a/b?drop=1#f",
            ] {
                let base = base(upstream);
                let (path, query) = read.unwrap();
                assert_eq!(
                    upstream_target(&base, path, query),
                    upstream_url(&base, parsed.path(), parsed.query()).to_string(),
                    "{text} on {upstream}"
                );
            }
        }
        // What the parser would change, or a path this reader does not take: left to the parser.
        for text in [
            "https://airlock.example/v1/./chat/completions",
            "https://airlock.example/v1/../v1/chat/completions",
            "https://airlock.example/v1/%2e%2e/x",
            "https://airlock.example/v1/a b",
            "https://airlock.example/v1/\\x",
            "https://airlock.example/v1/x?q='1'",
            "https://airlock.example/v1/x#frag",
            "https://airlock.example/v1/{x}",
            "https://airlock.example/v1/é",
            "https://user@airlock.example/v1/x",
            "https://airlock.example",
            "ftp://airlock.example/v1/x",
            "https:///v1/x",
        ] {
            assert_eq!(plain_path_and_query(text), None, "{text}");
        }
    }

    #[test]
    fn routes() {
        assert_eq!(route("GET", "/healthz", false), Route::Health);
        assert_eq!(route("POST", "/v1/chat/completions", false), Route::Api);
        assert_eq!(
            route("OPTIONS", "/v1/chat/completions", true),
            Route::Preflight
        );
        assert_eq!(route("OPTIONS", "/v1/chat/completions", false), Route::Api);
        assert_eq!(route("GET", "/v1beta/x", false), Route::PassThrough);
        assert_eq!(route("GET", "/dashboard", false), Route::PassThrough);
    }

    #[test]
    fn path_tricks_never_change_the_host() {
        let b = base("https://api.openai.com");
        for target in [
            "/v1/../../etc/passwd",
            "//evil.example/v1/models",
            "/v1/%2e%2e/%2e%2e/x",
            "/https://evil.example/v1",
            "/\\\\evil.example/x",
            "/v1/models?x=https://evil.example",
            "///evil.example:444/x",
        ] {
            let (path, query) = normalised(target);
            let u = upstream_url(&b, &path, query.as_deref());
            assert_eq!(u.host_str(), Some("api.openai.com"), "{target} -> {u}");
            assert_eq!(u.scheme(), "https");
            assert_eq!(u.port(), None);
        }
    }

    #[test]
    fn path_and_query_are_kept() {
        let b = base("http://127.0.0.1:9000/prefix");
        let u = upstream_url(&b, "/v1/files", Some("purpose=batch&limit=2"));
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:9000/prefix/v1/files?purpose=batch&limit=2"
        );
        let (path, _) = normalised("/v1/../v1/models");
        assert_eq!(path, "/v1/models");
    }

    #[test]
    fn header_filters() {
        assert!(forwardable_request_header("Authorization"));
        assert!(forwardable_request_header("OpenAI-Organization"));
        assert!(forwardable_request_header("x-stainless-retry-count"));
        assert!(!forwardable_request_header("Connection"));
        assert!(!forwardable_request_header("host"));
        assert!(!forwardable_request_header("CF-Connecting-IP"));
        assert!(!forwardable_request_header("Expect"));
        assert!(!forwardable_request_header("cookie"));
        assert!(!forwardable_request_header("X-Forwarded-For"));
        assert!(!forwardable_request_header("forwarded"));
        assert!(forwardable_response_header("x-request-id"));
        assert!(forwardable_response_header("vary"));
        assert!(!forwardable_response_header("transfer-encoding"));
        assert!(!forwardable_response_header("Set-Cookie"));
        assert!(!forwardable_response_header(
            "Access-Control-Allow-Credentials"
        ));
        assert!(!forwardable_response_header("access-control-allow-origin"));
        assert_eq!(
            connection_listed(Some("keep-alive, X-Secret ,")),
            ["keep-alive", "x-secret"]
        );
        assert!(connection_listed(None).is_empty());
    }

    #[test]
    fn bodies_that_may_be_json() {
        assert!(may_hold_json(None));
        assert!(may_hold_json(Some("text/plain")));
        assert!(may_hold_json(Some("application/json")));
        assert!(!may_hold_json(Some("multipart/form-data; boundary=x")));
        assert!(!may_hold_json(Some(" Multipart/Mixed")));
        assert!(may_be_json_text(b"  \n{\"model\""));
        assert!(may_be_json_text(b"\xEF\xBB\xBF["));
        assert!(may_be_json_text(b"   "));
        assert!(!may_be_json_text(b"model=gpt-4o"));
        assert!(!may_be_json_text(b"\x00\x01"));
    }

    #[test]
    fn statuses() {
        for ok in [200, 204, 302, 429, 599] {
            assert!(final_status(ok), "{ok}");
        }
        for bad in [0, 100, 101, 103, 199, 600, 999] {
            assert!(!final_status(bad), "{bad}");
        }
        assert!(null_body_status(204) && null_body_status(304));
        assert!(!null_body_status(200));
    }

    #[test]
    fn json_content_types() {
        assert!(is_json_content_type(Some("application/json")));
        assert!(is_json_content_type(Some(
            "Application/JSON; charset=utf-8"
        )));
        assert!(is_json_content_type(Some("application/merge-patch+json")));
        assert!(!is_json_content_type(Some(
            "multipart/form-data; boundary=x"
        )));
        assert!(!is_json_content_type(Some("text/plain")));
        assert!(!is_json_content_type(None));
    }

    fn owned(h: &[(&str, &str)]) -> Vec<(String, String)> {
        h.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn rate_limited(kind: Option<LimitKind>) -> Diagnosis {
        let mut d = diagnose_response(429, &[], b"{}");
        d.category = Category::RateLimit;
        d.retry.decision = RetryDecision::Yes;
        d.retry.after_ms = None;
        d.rate_limit = Some(RateLimitInfo {
            kind,
            ..RateLimitInfo::default()
        });
        let window = |remaining, reset_ms| LimitWindow {
            limit: Some(100),
            remaining: Some(remaining),
            reset: None,
            reset_ms: Some(reset_ms),
        };
        d.rate_limit_headers = Some(RateLimitHeaders {
            requests: Some(window(0, 1_500)),
            tokens: Some(window(40, 6_000)),
        });
        d
    }

    #[test]
    fn retry_after_from_the_limit_that_was_hit() {
        let h = owned(&[]);
        assert_eq!(
            derived_retry_after_ms(&rate_limited(Some(LimitKind::Tpm)), &h),
            Some(6_000)
        );
        assert_eq!(
            derived_retry_after_ms(&rate_limited(Some(LimitKind::Rpm)), &h),
            Some(1_500)
        );
        // Message names no limit: the exhausted family wins.
        assert_eq!(derived_retry_after_ms(&rate_limited(None), &h), Some(1_500));
        // The headers win over a delay read from the message; the message fills in without them.
        let mut d = rate_limited(Some(LimitKind::Rpm));
        d.retry.after_ms = Some(20_000);
        assert_eq!(derived_retry_after_ms(&d, &h), Some(1_500));
        d.rate_limit_headers = None;
        assert_eq!(derived_retry_after_ms(&d, &h), Some(20_000));
        // The server's own delay is never replaced.
        let h = owned(&[("Retry-After", "2")]);
        assert_eq!(derived_retry_after_ms(&rate_limited(None), &h), None);
    }

    #[test]
    fn no_retry_headers_for_quota() {
        let mut d = rate_limited(None);
        d.category = Category::Quota;
        d.retry.decision = RetryDecision::No;
        let added = error_headers(&d, &[]);
        assert!(added.contains(&("x-should-retry", "false".to_owned())));
        assert!(added.contains(&("x-airlock-category", "quota".to_owned())));
        assert!(!added.iter().any(|(k, _)| *k == "retry-after-ms"));
    }

    #[test]
    fn transient_errors_keep_the_sdk_retrying() {
        let mut d = rate_limited(Some(LimitKind::Rpm));
        d.category = Category::ServerError;
        let added = error_headers(&d, &[]);
        assert!(!added.iter().any(|(k, _)| *k == "x-should-retry"));
        assert!(added.contains(&("x-airlock-retry", "yes".to_owned())));
    }
}
