//! The worker's settings: `[vars]` from `wrangler.toml` and secrets.
//!
//! Parsing is pure (strings in, settings out) so it is tested on the host. The worker parses them
//! once per isolate ([`for_env`]): reading fourteen bindings across the JS boundary on every
//! request was a measurable part of the worker's added latency.

use alloc::rc::Rc;
use core::cell::RefCell;

use airlock_rules::validate::{Config, Mode, TokenCount};
use wasm_bindgen::JsValue;

/// Where requests go when nothing is configured.
pub const DEFAULT_UPSTREAM: &str = "https://api.openai.com";
/// Time allowed for the upstream's response headers, in milliseconds (the SDKs' own default is 10 min).
pub const DEFAULT_TIMEOUT_MS: u64 = 600_000;
/// JSON bodies up to this size are read and checked; larger ones are forwarded unchecked, as streams.
pub const DEFAULT_MAX_CHECK_BYTES: u64 = 10 * 1024 * 1024;
/// A `POST /v1/files` upload is linted this far before the upstream request is opened.
pub const DEFAULT_BATCH_LINT_WINDOW_BYTES: u64 = 1024 * 1024;
/// Time allowed for an upstream error body's first `MAX_ERROR_BODY_BYTES` (what Airlock reads to
/// diagnose it), in milliseconds.
pub const DEFAULT_BODY_TIMEOUT_MS: u64 = 30_000;
/// Longest silence between two chunks of a body Airlock relays (an upstream error body past its
/// first `MAX_ERROR_BODY_BYTES`, a request body past `MAX_CHECK_BYTES`), in milliseconds: the
/// official SDKs' own read timeout.
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 600_000;
/// Time budget for edge retries, in milliseconds.
pub const DEFAULT_RETRY_DEADLINE_MS: u64 = 30_000;

/// Everything the worker reads from its environment.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The upstream base URL (scheme, host, port, optional path prefix without trailing `/`).
    pub upstream: url::Url,
    /// `UPSTREAM_TIMEOUT_MS`.
    pub timeout_ms: u64,
    /// `MAX_CHECK_BYTES`.
    pub max_check_bytes: u64,
    /// `UPSTREAM_BODY_TIMEOUT_MS`.
    pub body_timeout_ms: u64,
    /// `UPSTREAM_IDLE_TIMEOUT_MS`.
    pub idle_timeout_ms: u64,
    /// `FINGERPRINT_SECRET` (a secret): when set, key fingerprints in the log are keyed with it
    /// (HMAC-SHA-256), so a logged fingerprint cannot be matched against a guessed or leaked key
    /// by anyone who does not hold the secret.
    pub fingerprint_secret: Option<Secret>,
    /// `BATCH_LINT_WINDOW_BYTES`: how much of a `POST /v1/files` upload is linted before the
    /// upstream request is opened (see `upload.rs`); the rest is linted as it streams on.
    pub batch_lint_window_bytes: u64,
    /// `EDGE_RETRIES`: extra attempts on transient upstream failures (0 = off).
    pub edge_retries: u32,
    /// `EDGE_RETRY_DEADLINE_MS`.
    pub retry_deadline_ms: u64,
    /// `RULES_MODE` and `RULE_MODES`.
    pub rules: Config,
    /// `CORS_ALLOW_ORIGINS`: exact origins, or `*`.
    pub cors_origins: Vec<String>,
    /// `OPENAI_ORGANIZATION`.
    pub organization: Option<String>,
    /// `OPENAI_PROJECT`.
    pub project: Option<String>,
    /// Gateway mode: the real key (secret `OPENAI_API_KEY`) and the accepted tokens
    /// (secret `AIRLOCK_GATEWAY_TOKENS`, comma-separated).
    pub gateway: Option<Gateway>,
    /// `LOG_PROMPTS`: add the prompt text (keys redacted) to the log line. Off unless `true`.
    pub log_prompts: bool,
    /// `PACING = "on"` and the `PACE_*` bounds (issue 15; `crate::pacer`). `None`: off.
    pub pacing: Option<airlock_rules::pace::PaceSettings>,
    /// `SIMULATE`: `on` answers requests carrying `x-airlock-simulate` with the named failure
    /// (see `simulate.rs`). Off unless `on` (or `true`).
    pub simulate: bool,
    /// `OUTPUT_CHECK`: `report` (the default) checks a non-streamed answer against the schema the
    /// request asked for and says so in `x-airlock-output`; `off` leaves answers unread (issue 17).
    pub output_check: bool,
}

/// A secret setting: never shown by `Debug`.
#[derive(Clone)]
pub struct Secret(pub String);

impl core::fmt::Debug for Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Gateway mode's secrets.
#[derive(Clone)]
pub struct Gateway {
    /// The real OpenAI key sent upstream.
    pub key: String,
    /// The tokens clients may present.
    pub tokens: Vec<String>,
}

impl core::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "Gateway {{ key: <redacted>, tokens: {} }}",
            self.tokens.len()
        )
    }
}

impl Settings {
    /// Reads the settings through `get` (a variable or secret by name; `None` when unset or empty).
    ///
    /// # Errors
    /// A message naming the variable when `UPSTREAM_URL` is not an absolute http(s) URL.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let get = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let upstream_text = get("UPSTREAM_URL").unwrap_or_else(|| DEFAULT_UPSTREAM.to_owned());
        let upstream = parse_upstream(&upstream_text)?;
        let number = |name: &str, default: u64| {
            get(name)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(default)
        };
        let gateway = get("OPENAI_API_KEY").map(|key| Gateway {
            key,
            tokens: split_list(get("AIRLOCK_GATEWAY_TOKENS").as_deref().unwrap_or("")),
        });
        Ok(Settings {
            upstream,
            timeout_ms: number("UPSTREAM_TIMEOUT_MS", DEFAULT_TIMEOUT_MS),
            max_check_bytes: number("MAX_CHECK_BYTES", DEFAULT_MAX_CHECK_BYTES),
            body_timeout_ms: number("UPSTREAM_BODY_TIMEOUT_MS", DEFAULT_BODY_TIMEOUT_MS).max(1),
            idle_timeout_ms: number("UPSTREAM_IDLE_TIMEOUT_MS", DEFAULT_IDLE_TIMEOUT_MS).max(1),
            fingerprint_secret: get("FINGERPRINT_SECRET").map(Secret),
            batch_lint_window_bytes: number(
                "BATCH_LINT_WINDOW_BYTES",
                DEFAULT_BATCH_LINT_WINDOW_BYTES,
            ),
            edge_retries: u32::try_from(number("EDGE_RETRIES", 0)).unwrap_or(0).min(5),
            retry_deadline_ms: number("EDGE_RETRY_DEADLINE_MS", DEFAULT_RETRY_DEADLINE_MS),
            rules: Config {
                token_count: token_count(get("EXACT_TOKEN_COUNT").as_deref()),
                ..rule_config(
                    get("RULES_MODE").as_deref(),
                    get("RULE_MODES").as_deref().unwrap_or(""),
                )
            },
            cors_origins: split_list(get("CORS_ALLOW_ORIGINS").as_deref().unwrap_or("")),
            organization: get("OPENAI_ORGANIZATION"),
            project: get("OPENAI_PROJECT"),
            gateway,
            log_prompts: get("LOG_PROMPTS").is_some_and(|v| is_true(&v)),
            pacing: crate::pacer::settings(get),
            simulate: get("SIMULATE").is_some_and(|v| is_true(&v)),
            output_check: !get("OUTPUT_CHECK")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("off")),
        })
    }
}

/// What [`Settings::from_lookup`] made of an `env`.
pub type Parsed = Rc<Result<Settings, String>>;

thread_local! {
    /// The last `env` object seen and its parsed settings.
    static PARSED: RefCell<Option<(JsValue, Parsed)>> = const { RefCell::new(None) };
}

/// The settings for `env`: parsed on the isolate's first request, then reused for as long as the
/// runtime hands over the same `env` object (it does for every request of an isolate; a new
/// deployment or changed bindings mean a new isolate or a new object, which is parsed afresh).
pub fn for_env(env: &JsValue, parse: impl FnOnce() -> Result<Settings, String>) -> Parsed {
    let hit = PARSED.with_borrow(|cached| {
        cached
            .as_ref()
            .filter(|(seen, _)| js_sys::Object::is(seen, env))
            .map(|(_, parsed)| Rc::clone(parsed))
    });
    if let Some(parsed) = hit {
        return parsed;
    }
    let parsed = Rc::new(parse());
    PARSED.with_borrow_mut(|cached| *cached = Some((env.clone(), Rc::clone(&parsed))));
    parsed
}

/// Parses `UPSTREAM_URL`: an absolute http(s) URL without query or fragment; a trailing `/` is dropped.
fn parse_upstream(text: &str) -> Result<url::Url, String> {
    let mut url =
        url::Url::parse(text).map_err(|e| format!("UPSTREAM_URL {text:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!(
            "UPSTREAM_URL {text:?} must be an http(s) URL with a host"
        ));
    }
    url.set_query(None);
    url.set_fragment(None);
    let trimmed = url.path().trim_end_matches('/').to_owned();
    url.set_path(&trimmed);
    Ok(url)
}

/// `true`, `1`, `yes` or `on` (any case); anything else is false.
fn is_true(text: &str) -> bool {
    matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "on"
    )
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_mode(text: &str) -> Option<Mode> {
    match text.trim().to_ascii_lowercase().as_str() {
        "enforce" => Some(Mode::Enforce),
        "report" => Some(Mode::Report),
        "off" => Some(Mode::Off),
        _ => None,
    }
}

/// `EXACT_TOKEN_COUNT`: `true` counts every checked request's tokens exactly (for exact usage in
/// the log); otherwise only where the context-length verdict depends on it, and the log line's
/// `tokens` is OpenAI's rate-limiter estimate elsewhere (`tokens_counted` says which).
fn token_count(value: Option<&str>) -> TokenCount {
    if value.is_some_and(is_true) {
        TokenCount::Exact
    } else {
        TokenCount::Lazy
    }
}

/// `RULES_MODE` (`enforce`, `report`, `off`) and `RULE_MODES` (`rule=mode,rule=mode`).
/// Unknown modes are ignored, so a typo never turns a rule on harder than asked.
fn rule_config(default: Option<&str>, per_rule: &str) -> Config {
    let mut config = Config {
        default: default.and_then(parse_mode).unwrap_or(Mode::Enforce),
        ..Config::default()
    };
    for item in split_list(per_rule) {
        if let Some((rule, Some(mode))) = item
            .split_once('=')
            .map(|(rule, mode)| (rule, parse_mode(mode)))
        {
            config.rules.insert(rule.trim().to_owned(), mode);
        }
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, String> {
        Settings::from_lookup(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn defaults() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.upstream.as_str(), "https://api.openai.com/");
        assert_eq!(s.timeout_ms, DEFAULT_TIMEOUT_MS);
        assert_eq!(s.edge_retries, 0);
        assert!(s.gateway.is_none());
        assert_eq!(s.rules.default, Mode::Enforce);
        assert!(!s.log_prompts);
    }

    #[test]
    fn tokens_are_counted_where_the_verdict_needs_it_unless_asked() {
        assert_eq!(settings(&[]).unwrap().rules.token_count, TokenCount::Lazy);
        let exact = settings(&[("EXACT_TOKEN_COUNT", "true"), ("RULES_MODE", "report")]).unwrap();
        assert_eq!(exact.rules.token_count, TokenCount::Exact);
        assert_eq!(exact.rules.default, Mode::Report);
        let lazy = settings(&[("EXACT_TOKEN_COUNT", "false")]).unwrap();
        assert_eq!(lazy.rules.token_count, TokenCount::Lazy);
    }

    #[test]
    fn output_check_is_on_unless_off() {
        assert!(settings(&[]).unwrap().output_check);
        assert!(
            settings(&[("OUTPUT_CHECK", "report")])
                .unwrap()
                .output_check
        );
        assert!(!settings(&[("OUTPUT_CHECK", " OFF ")]).unwrap().output_check);
    }

    #[test]
    fn simulate_is_off_unless_on() {
        assert!(!settings(&[]).unwrap().simulate);
        assert!(settings(&[("SIMULATE", "on")]).unwrap().simulate);
        assert!(settings(&[("SIMULATE", " ON ")]).unwrap().simulate);
        assert!(!settings(&[("SIMULATE", "off")]).unwrap().simulate);
        assert!(!settings(&[("SIMULATE", "maybe")]).unwrap().simulate);
    }

    #[test]
    fn log_prompts_only_when_turned_on() {
        assert!(settings(&[("LOG_PROMPTS", "true")]).unwrap().log_prompts);
        assert!(settings(&[("LOG_PROMPTS", " TRUE ")]).unwrap().log_prompts);
        assert!(!settings(&[("LOG_PROMPTS", "false")]).unwrap().log_prompts);
        assert!(!settings(&[("LOG_PROMPTS", "")]).unwrap().log_prompts);
    }

    #[test]
    fn upstream_prefix_and_modes() {
        let s = settings(&[
            ("UPSTREAM_URL", "http://127.0.0.1:9000/openai/?x=1"),
            ("RULES_MODE", "report"),
            ("RULE_MODES", "a=off, b=enforce, c=bogus"),
            ("OPENAI_API_KEY", "sk-real"),
            ("AIRLOCK_GATEWAY_TOKENS", " t1 ,,t2 "),
        ])
        .unwrap();
        assert_eq!(s.upstream.as_str(), "http://127.0.0.1:9000/openai");
        assert_eq!(s.rules.mode("a"), Mode::Off);
        assert_eq!(s.rules.mode("b"), Mode::Enforce);
        assert_eq!(s.rules.mode("c"), Mode::Report);
        assert_eq!(s.gateway.as_ref().unwrap().tokens, ["t1", "t2"]);
        assert!(!format!("{:?}", s.gateway).contains("sk-real"));
    }

    #[test]
    fn bad_upstream_is_an_error() {
        assert!(settings(&[("UPSTREAM_URL", "ftp://x")]).is_err());
        assert!(settings(&[("UPSTREAM_URL", "not a url")]).is_err());
    }
}
