//! Rate limits: which limit a 429 hit, and the decoded `x-ratelimit-*` headers.

use alloc::string::String;

/// The six `x-ratelimit-*` headers OpenAI sends with every answer, the ones [`decode_headers`]
/// reads for the requests and tokens families (one list, so a caller that reads headers one by one
/// and the fuzz targets ask for the same names).
pub const HEADER_NAMES: [&str; 6] = [
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-tokens",
];

/// Which rate limit was hit.
#[non_exhaustive]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LimitKind {
    /// Requests per minute.
    #[serde(rename = "RPM")]
    Rpm,
    /// Requests per day.
    #[serde(rename = "RPD")]
    Rpd,
    /// Tokens per minute.
    #[serde(rename = "TPM")]
    Tpm,
    /// Tokens per day.
    #[serde(rename = "TPD")]
    Tpd,
    /// Images per minute.
    #[serde(rename = "IPM")]
    Ipm,
}

impl LimitKind {
    /// The limit's usual abbreviation (`RPM`, `TPD`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            LimitKind::Rpm => "RPM",
            LimitKind::Rpd => "RPD",
            LimitKind::Tpm => "TPM",
            LimitKind::Tpd => "TPD",
            LimitKind::Ipm => "IPM",
        }
    }
}

/// What a rate-limit message says about the limit that was hit.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RateLimitInfo {
    /// Which limit, when the message or headers say.
    pub kind: Option<LimitKind>,
    /// The model or model family named (`gpt-4o`, `gpt-4o-mini`), when the message says.
    pub model: Option<String>,
    /// The organization ID named in the message (`org-…`), when present.
    pub organization: Option<String>,
    /// The limit (`Limit 10000`).
    pub limit: Option<u64>,
    /// What was already used (`Used 9800`).
    pub used: Option<u64>,
    /// What this request asked for (`Requested 500`).
    pub requested: Option<u64>,
    /// How long the message says to wait (`Please try again in 6ms`), in milliseconds.
    pub retry_after_ms: Option<u64>,
}

/// One decoded limit family from the `x-ratelimit-*` headers.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct LimitWindow {
    /// `x-ratelimit-limit-*`.
    pub limit: Option<u64>,
    /// `x-ratelimit-remaining-*`.
    pub remaining: Option<u64>,
    /// `x-ratelimit-reset-*` as sent (`6m0s`, `1s`, `20ms`).
    pub reset: Option<String>,
    /// The reset decoded to milliseconds.
    pub reset_ms: Option<u64>,
}

/// The decoded `x-ratelimit-*` headers.
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(deny_unknown_fields))]
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RateLimitHeaders {
    /// The requests family (`…-requests`).
    pub requests: Option<LimitWindow>,
    /// The tokens family (`…-tokens`).
    pub tokens: Option<LimitWindow>,
}

/// Decodes the `x-ratelimit-*` headers (names in any case); `None` when there are none.
///
/// Reads `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`. The older
/// `…-tokens_usage_based` family fills the tokens window when the plain `…-tokens` header is
/// absent; other families (and values that are not numbers) are ignored.
///
/// # Example
/// ```
/// let h = airlock_rules::ratelimit::decode_headers([
///     ("X-RateLimit-Limit-Requests", "500"),
///     ("x-ratelimit-remaining-requests", "499"),
///     ("x-ratelimit-reset-requests", "120ms"),
///     ("x-ratelimit-reset-tokens", "6m0s"),
/// ])
/// .unwrap();
/// let requests = h.requests.unwrap();
/// assert_eq!((requests.limit, requests.remaining, requests.reset_ms), (Some(500), Some(499), Some(120)));
/// assert_eq!(h.tokens.unwrap().reset_ms, Some(360_000));
/// ```
pub fn decode_headers<I, K, V>(headers: I) -> Option<RateLimitHeaders>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    // [requests, tokens, tokens_usage_based]
    let mut windows: [Option<LimitWindow>; 3] = [None, None, None];
    for (name, value) in headers {
        let name = name.as_ref().trim();
        let value = value.as_ref().trim();
        let Some(rest) = strip_prefix_ignore_case(name, "x-ratelimit-") else {
            continue;
        };
        let (field, family) = if let Some(f) = strip_prefix_ignore_case(rest, "limit-") {
            (0, f)
        } else if let Some(f) = strip_prefix_ignore_case(rest, "remaining-") {
            (1, f)
        } else if let Some(f) = strip_prefix_ignore_case(rest, "reset-") {
            (2, f)
        } else {
            continue;
        };
        let slot = if family.eq_ignore_ascii_case("requests") {
            0
        } else if family.eq_ignore_ascii_case("tokens") {
            1
        } else if family.eq_ignore_ascii_case("tokens_usage_based") {
            2
        } else {
            continue;
        };
        let window = &mut windows[slot];
        match field {
            0 => {
                if let Some(n) = parse_count(value) {
                    window.get_or_insert_with(LimitWindow::default).limit = Some(n);
                }
            }
            1 => {
                if let Some(n) = parse_count(value) {
                    window.get_or_insert_with(LimitWindow::default).remaining = Some(n);
                }
            }
            _ => {
                if !value.is_empty() {
                    let w = window.get_or_insert_with(LimitWindow::default);
                    w.reset = Some(String::from(value));
                    w.reset_ms = parse_duration_ms(value);
                }
            }
        }
    }
    let [requests, tokens, usage_based] = windows;
    let tokens = tokens.or(usage_based);
    if requests.is_none() && tokens.is_none() {
        None
    } else {
        Some(RateLimitHeaders { requests, tokens })
    }
}

/// Reads which limit was hit, and the numbers, from a rate-limit message.
///
/// Understands OpenAI's wordings, current and legacy: `Rate limit reached for gpt-4o in
/// organization org-… on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000. Please try
/// again in 2s.`, `… on requests per min. Limit: 3 / min. Current: 4 / min.`, `Request too large
/// for … Limit 30000, Requested 50000`, `Rate limit exceeded for images per minute … Limit:
/// 50/1min. Current: 60/1min.`, Azure's `exceeded token rate limit … Please retry after 7
/// seconds`. Returns `None` when nothing about a limit could be read.
///
/// # Example
/// ```
/// use airlock_rules::ratelimit::{from_message, LimitKind};
///
/// let info = from_message("Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000. Please try again in 2s.").unwrap();
/// assert_eq!(info.kind, Some(LimitKind::Tpm));
/// assert_eq!(info.model.as_deref(), Some("gpt-4o"));
/// assert_eq!(info.organization.as_deref(), Some("org-abc"));
/// assert_eq!((info.limit, info.used, info.requested), (Some(30000), Some(29000), Some(2000)));
/// assert_eq!(info.retry_after_ms, Some(2000));
/// ```
pub fn from_message(message: &str) -> Option<RateLimitInfo> {
    let lower = message.to_ascii_lowercase();
    let info = RateLimitInfo {
        kind: limit_kind(&lower),
        model: model_name(message, &lower),
        organization: organization(message, &lower),
        limit: number_after(message, &lower, "limit"),
        used: number_after(message, &lower, "used")
            .or_else(|| number_after(message, &lower, "current")),
        requested: number_after(message, &lower, "requested"),
        retry_after_ms: wait_in_message(&lower),
    };
    if info == RateLimitInfo::default() {
        None
    } else {
        Some(info)
    }
}

/// Decodes a reset duration as OpenAI sends it (`6m0s`, `1s`, `20ms`, `1h2m3.5s`) to milliseconds.
///
/// The format is Go's `time.Duration`: one or more `<number><unit>` parts with units `h`, `m`,
/// `s`, `ms`, `us`/`µs` and `ns`; numbers may have a fraction. A part of a millisecond rounds up
/// (`7.2ms` is 8), so waiting the returned time is always enough. Returns `None` for anything else
/// (an empty string, a bare number, an unknown unit).
///
/// # Example
/// ```
/// use airlock_rules::ratelimit::parse_duration_ms;
///
/// assert_eq!(parse_duration_ms("6m0s"), Some(360_000));
/// assert_eq!(parse_duration_ms("1h2m3.5s"), Some(3_723_500));
/// assert_eq!(parse_duration_ms("7.2ms"), Some(8));
/// assert_eq!(parse_duration_ms("soon"), None);
/// ```
pub fn parse_duration_ms(text: &str) -> Option<u64> {
    let s = text.trim().as_bytes();
    if s.is_empty() {
        return None;
    }
    let mut total_ns: u128 = 0;
    let mut i = 0;
    while i < s.len() {
        let start = i;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        let int_part = &s[start..i];
        let mut frac_part: &[u8] = &[];
        if i < s.len() && s[i] == b'.' {
            i += 1;
            let fs = i;
            while i < s.len() && s[i].is_ascii_digit() {
                i += 1;
            }
            frac_part = &s[fs..i];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        let ustart = i;
        while i < s.len() && !s[i].is_ascii_digit() && s[i] != b'.' {
            i += 1;
        }
        let unit_ns: u128 = match &s[ustart..i] {
            b"h" => 3_600_000_000_000,
            b"m" => 60_000_000_000,
            b"s" => 1_000_000_000,
            b"ms" => 1_000_000,
            b"us" | [0xc2, 0xb5, b's'] | [0xce, 0xbc, b's'] => 1_000,
            b"ns" => 1,
            _ => return None,
        };
        total_ns = total_ns.checked_add(scaled(int_part, frac_part, unit_ns)?)?;
    }
    let ms = total_ns.div_ceil(1_000_000);
    u64::try_from(ms).ok()
}

/// `int.frac × unit` in whole units of the smallest scale, rounding a remainder up.
fn scaled(int_part: &[u8], frac_part: &[u8], unit: u128) -> Option<u128> {
    let mut value: u128 = 0;
    for &d in int_part {
        value = value.checked_mul(10)?.checked_add(u128::from(d - b'0'))?;
    }
    let mut result = value.checked_mul(unit)?;
    // Fraction: at most 18 digits matter at nanosecond scale.
    let mut num: u128 = 0;
    let mut den: u128 = 1;
    for &d in frac_part.iter().take(18) {
        num = num * 10 + u128::from(d - b'0');
        den *= 10;
    }
    if num > 0 {
        result = result.checked_add((num * unit).div_ceil(den))?;
    }
    Some(result)
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}

/// A header count: digits, maybe with a fraction (which is dropped).
fn parse_count(value: &str) -> Option<u64> {
    let int = value.split('.').next()?;
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    int.parse().ok()
}

fn limit_kind(lower: &str) -> Option<LimitKind> {
    const ABBREVIATIONS: [(&str, LimitKind); 5] = [
        ("(rpm)", LimitKind::Rpm),
        ("(rpd)", LimitKind::Rpd),
        ("(tpm)", LimitKind::Tpm),
        ("(tpd)", LimitKind::Tpd),
        ("(ipm)", LimitKind::Ipm),
    ];
    for (abbr, kind) in ABBREVIATIONS {
        if lower.contains(abbr) {
            return Some(kind);
        }
    }
    // The abbreviation as a word before "rate limit" (Moonshot's "request reached project TPM
    // rate limit, current: 1410, limit: 100") names the window as the parenthesised one does.
    const PHRASES: [(&str, LimitKind); 15] = [
        ("requests per min", LimitKind::Rpm),
        ("requests per day", LimitKind::Rpd),
        ("tokens per min", LimitKind::Tpm),
        ("tokens_usage_based per min", LimitKind::Tpm),
        ("tokens per day", LimitKind::Tpd),
        ("tokens_usage_based per day", LimitKind::Tpd),
        ("images per min", LimitKind::Ipm),
        ("token rate limit", LimitKind::Tpm),
        ("tokens per minute rate limit", LimitKind::Tpm),
        ("call rate limit", LimitKind::Rpm),
        ("requests per minute rate limit", LimitKind::Rpm),
        ("rpm rate limit", LimitKind::Rpm),
        ("rpd rate limit", LimitKind::Rpd),
        ("tpm rate limit", LimitKind::Tpm),
        ("tpd rate limit", LimitKind::Tpd),
    ];
    PHRASES
        .iter()
        .filter_map(|(p, k)| lower.find(p).map(|at| (at, *k)))
        .min_by_key(|(at, _)| *at)
        .map(|(_, k)| k)
}

/// `Rate limit reached for <model> in organization …` / `Request too large for <model> in …`.
fn model_name(message: &str, lower: &str) -> Option<String> {
    for lead in [
        "rate limit reached for ",
        "request too large for ",
        "limit reached for ",
    ] {
        let Some(at) = lower.find(lead) else { continue };
        let start = at + lead.len();
        let word = first_word(&message[start..]);
        let lw = word.to_ascii_lowercase();
        if word.is_empty()
            || [
                "requests",
                "tokens",
                "images",
                "organization",
                "the",
                "your",
            ]
            .contains(&lw.as_str())
        {
            return None;
        }
        return Some(String::from(word));
    }
    None
}

fn organization(message: &str, lower: &str) -> Option<String> {
    let at = lower.find("organization ")?;
    let word = first_word(&message[at + "organization ".len()..]);
    let body = word.strip_prefix("org-")?;
    if !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        Some(String::from(word))
    } else {
        None
    }
}

/// The next whitespace-delimited word, without trailing punctuation or quotes.
fn first_word(s: &str) -> &str {
    let s = s.trim_start().trim_start_matches(['\'', '"', '`']);
    let end = s.find(|c: char| c.is_whitespace()).unwrap_or(s.len());
    s[..end].trim_end_matches(['.', ',', ':', ';', '\'', '"', '`', ')'])
}

/// The number after `word` (`Limit 30000`, `Limit: 3 / min`, `Limit: 90,000`, `Current: 60/1min`),
/// at the first place where `word` is followed by one.
fn number_after(message: &str, lower: &str, word: &str) -> Option<u64> {
    let bytes = message.as_bytes();
    let mut from = 0;
    while let Some(rel) = lower[from..].find(word) {
        let at = from + rel;
        from = at + word.len();
        // Whole word only.
        if at > 0 && bytes[at - 1].is_ascii_alphanumeric() {
            continue;
        }
        let mut i = at + word.len();
        if i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
            continue;
        }
        // `~` is Groq's approximate count (`Requested ~12903`).
        while i < bytes.len() && matches!(bytes[i], b':' | b' ' | b'=' | b'~') {
            i += 1;
        }
        let start = i;
        let mut n: u64 = 0;
        let mut digits = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b.is_ascii_digit() {
                n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
                digits += 1;
            } else if b == b','
                && digits > 0
                && bytes.len() > i + 3
                && bytes[i + 1..i + 4].iter().all(u8::is_ascii_digit)
                && bytes.get(i + 4).is_none_or(|c| !c.is_ascii_digit())
            {
                // A thousands separator: `90,000`.
            } else {
                break;
            }
            i += 1;
        }
        if digits > 0 && i > start {
            return Some(n);
        }
    }
    None
}

/// `try again in 2s`, `try again in 1m12.5s`, `in 6ms`, `try again in 7 seconds`, `retry after 20 seconds`.
fn wait_in_message(lower: &str) -> Option<u64> {
    for lead in [
        "try again in ",
        "retry after ",
        "retry in ",
        "try again after ",
    ] {
        let mut from = 0;
        while let Some(rel) = lower[from..].find(lead) {
            let start = from + rel + lead.len();
            from = start;
            if let Some(ms) = spoken_duration_ms(&lower[start..]) {
                return Some(ms);
            }
        }
    }
    None
}

/// A duration at the start of `s`: `2s`, `1m12.5s`, `6ms`, `7 seconds`, `1.5 minutes`.
fn spoken_duration_ms(s: &str) -> Option<u64> {
    let token = first_word(s);
    if token.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        if let Some(ms) = parse_duration_ms(token) {
            return Some(ms);
        }
        // `7 seconds`, `20 ms`
        let rest = &s[s.find(token)? + token.len()..];
        let unit = first_word(rest);
        let suffix = match unit {
            "ms" | "millisecond" | "milliseconds" | "msec" => "ms",
            "s" | "sec" | "secs" | "second" | "seconds" => "s",
            "m" | "min" | "mins" | "minute" | "minutes" => "m",
            "h" | "hr" | "hrs" | "hour" | "hours" => "h",
            _ => return None,
        };
        let mut joined = String::from(token);
        joined.push_str(suffix);
        return parse_duration_ms(&joined);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_openai_sends_them() {
        let cases = [
            ("6m0s", Some(360_000)),
            ("1s", Some(1_000)),
            ("20ms", Some(20)),
            ("1h2m3.5s", Some(3_723_500)),
            ("0.5s", Some(500)),
            ("2.345s", Some(2_345)),
            ("59.612s", Some(59_612)),
            ("1m30.5s", Some(90_500)),
            ("7.2ms", Some(8)),
            ("0s", Some(0)),
            ("1.0001s", Some(1_001)),
            ("500us", Some(1)),
            ("850µs", Some(1)),
            (" 17ms ", Some(17)),
            ("", None),
            ("10", None),
            ("s", None),
            ("1x", None),
            ("1.s", Some(1_000)),
            ("-1s", None),
            ("1s2", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration_ms(text), want, "{text:?}");
        }
    }

    #[test]
    fn headers_decode_in_any_case() {
        let h = decode_headers([
            ("x-ratelimit-limit-requests", "10000"),
            ("X-RateLimit-Limit-Tokens", "30000000"),
            ("x-ratelimit-remaining-requests", "9999"),
            ("x-ratelimit-remaining-tokens", "29999990"),
            ("x-ratelimit-reset-requests", "6ms"),
            ("x-ratelimit-reset-tokens", "0s"),
            ("content-type", "application/json"),
        ])
        .unwrap();
        let r = h.requests.unwrap();
        assert_eq!(r.limit, Some(10_000));
        assert_eq!(r.remaining, Some(9_999));
        assert_eq!(r.reset.as_deref(), Some("6ms"));
        assert_eq!(r.reset_ms, Some(6));
        let t = h.tokens.unwrap();
        assert_eq!(t.limit, Some(30_000_000));
        assert_eq!(t.remaining, Some(29_999_990));
        assert_eq!(t.reset_ms, Some(0));
    }

    #[test]
    fn headers_usage_based_and_unknown_families() {
        let h = decode_headers([
            ("x-ratelimit-limit-tokens_usage_based", "250000"),
            ("x-ratelimit-remaining-tokens_usage_based", "249000"),
            ("x-ratelimit-reset-tokens_usage_based", "1m12s"),
            ("x-ratelimit-limit-images", "5"),
            ("x-ratelimit-whatever", "1"),
        ])
        .unwrap();
        assert!(h.requests.is_none());
        let t = h.tokens.unwrap();
        assert_eq!(
            (t.limit, t.remaining, t.reset_ms),
            (Some(250_000), Some(249_000), Some(72_000))
        );

        // The plain family wins over the usage-based one.
        let h = decode_headers([
            ("x-ratelimit-limit-tokens_usage_based", "1"),
            ("x-ratelimit-limit-tokens", "2"),
        ])
        .unwrap();
        assert_eq!(h.tokens.unwrap().limit, Some(2));

        assert_eq!(decode_headers([("x-ratelimit-limit-images", "5")]), None);
        assert_eq!(decode_headers([("retry-after", "5")]), None);
        assert_eq!(decode_headers(core::iter::empty::<(&str, &str)>()), None);

        // A reset we cannot decode is kept as sent.
        let h = decode_headers([
            ("x-ratelimit-reset-requests", "later"),
            ("x-ratelimit-limit-requests", "n/a"),
        ])
        .unwrap();
        let r = h.requests.unwrap();
        assert_eq!(
            (r.limit, r.reset.as_deref(), r.reset_ms),
            (None, Some("later"), None)
        );
    }

    fn info(m: &str) -> RateLimitInfo {
        from_message(m).unwrap_or_else(|| panic!("nothing read from {m:?}"))
    }

    #[test]
    fn current_wording() {
        let i = info(
            "Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000. Please try again in 2s. Visit https://platform.openai.com/account/rate-limits to learn more.",
        );
        assert_eq!(i.kind, Some(LimitKind::Tpm));
        assert_eq!(i.model.as_deref(), Some("gpt-4o"));
        assert_eq!(i.organization.as_deref(), Some("org-abc"));
        assert_eq!(
            (i.limit, i.used, i.requested),
            (Some(30000), Some(29000), Some(2000))
        );
        assert_eq!(i.retry_after_ms, Some(2000));
    }

    #[test]
    fn per_kind() {
        let cases = [
            (
                "Rate limit reached for gpt-4o-mini in organization org-Xy12 on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms.",
                LimitKind::Rpm,
                120,
            ),
            (
                "Rate limit reached for gpt-3.5-turbo in organization org-Xy12 on requests per day (RPD): Limit 200, Used 200, Requested 1. Please try again in 7m12s.",
                LimitKind::Rpd,
                432_000,
            ),
            (
                "Rate limit reached for gpt-4 in organization org-Xy12 on tokens per day (TPD): Limit 90000, Used 89000, Requested 1500. Please try again in 16m40.32s.",
                LimitKind::Tpd,
                1_000_320,
            ),
            (
                "Rate limit reached for dall-e-3 in organization org-Xy12 on images per min (IPM): Limit 5, Used 5, Requested 1. Please try again in 12s.",
                LimitKind::Ipm,
                12_000,
            ),
        ];
        for (m, kind, ms) in cases {
            let i = info(m);
            assert_eq!(i.kind, Some(kind), "{m}");
            assert_eq!(i.retry_after_ms, Some(ms), "{m}");
            assert_eq!(i.organization.as_deref(), Some("org-Xy12"));
        }
        assert_eq!(info("Rate limit reached for gpt-3.5-turbo in organization org-Xy12 on requests per day (RPD): Limit 200, Used 200, Requested 1.").model.as_deref(), Some("gpt-3.5-turbo"));
    }

    #[test]
    fn legacy_wordings() {
        let i = info(
            "Rate limit reached for default-gpt-3.5-turbo in organization org-x1 on requests per min. Limit: 3 / min. Please try again in 20s. Contact us through our help center at help.openai.com if you continue to have issues.",
        );
        assert_eq!(i.kind, Some(LimitKind::Rpm));
        assert_eq!(i.model.as_deref(), Some("default-gpt-3.5-turbo"));
        assert_eq!(i.organization.as_deref(), Some("org-x1"));
        assert_eq!((i.limit, i.used, i.requested), (Some(3), None, None));
        assert_eq!(i.retry_after_ms, Some(20_000));

        let i = info(
            "Rate limit reached for default-text-davinci-003 in organization org-x1 on requests per day. Limit: 200 / day. Current: 201 / day. Contact us through our help center at help.openai.com if you continue to have issues.",
        );
        assert_eq!(i.kind, Some(LimitKind::Rpd));
        assert_eq!((i.limit, i.used), (Some(200), Some(201)));
        assert_eq!(i.retry_after_ms, None);

        let i = info(
            "Rate limit reached for gpt-4 in organization org-x1 on tokens_usage_based per min: Limit 10000, Used 9892, Requested 512. Please try again in 2.424s.",
        );
        assert_eq!(i.kind, Some(LimitKind::Tpm));
        assert_eq!(
            (i.limit, i.used, i.requested, i.retry_after_ms),
            (Some(10000), Some(9892), Some(512), Some(2424))
        );

        let i = info(
            "Rate limit exceeded for images per minute in organization org-x1. Limit: 50/1min. Current: 60/1min. Please visit https://platform.openai.com/docs/guides/rate-limits to learn how to increase your rate limit.",
        );
        assert_eq!(i.kind, Some(LimitKind::Ipm));
        assert_eq!(i.organization.as_deref(), Some("org-x1"));
        assert_eq!((i.limit, i.used), (Some(50), Some(60)));
        assert_eq!(i.model, None);
    }

    #[test]
    fn request_too_large() {
        let i = info(
            "Request too large for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Requested 50000. The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.",
        );
        assert_eq!(i.kind, Some(LimitKind::Tpm));
        assert_eq!(i.model.as_deref(), Some("gpt-4o"));
        assert_eq!(
            (i.limit, i.used, i.requested),
            (Some(30000), None, Some(50000))
        );
        assert_eq!(i.retry_after_ms, None);
    }

    #[test]
    fn waits() {
        let cases = [
            ("Please try again in 1m12.5s.", 72_500),
            ("Please try again in 6ms.", 6),
            ("Please try again in 20s", 20_000),
            ("Rate limit reached. Please try again in 7 seconds.", 7_000),
            ("Please try again in 1 second", 1_000),
            ("Please retry after 86400 seconds.", 86_400_000),
            ("try again in 0.5s", 500),
            ("Try again in 59.612s.", 59_612),
        ];
        for (m, ms) in cases {
            assert_eq!(info(m).retry_after_ms, Some(ms), "{m}");
        }
    }

    #[test]
    fn azure_and_enqueued() {
        let i = info(
            "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-02-01 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 7 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.",
        );
        assert_eq!(i.kind, Some(LimitKind::Tpm));
        assert_eq!(i.retry_after_ms, Some(7_000));
        assert_eq!(i.limit, None);

        let i = info(
            "Enqueued token limit reached for gpt-4o in organization org-abc. Limit: 90,000 enqueued tokens. Please try submitting an equal or smaller number of requests after some have completed.",
        );
        assert_eq!(i.limit, Some(90_000));
        assert_eq!(i.model.as_deref(), Some("gpt-4o"));
        assert_eq!(i.kind, None);
    }

    #[test]
    fn free_tier_and_big_numbers() {
        let i = info(
            "Rate limit reached for 10KTPM-200RPM in organization org-x1 on tokens per min. Limit: 10000 / min. Please try again in 6ms. Contact us through our help center at help.openai.com if you continue to have issues.",
        );
        assert_eq!(i.kind, Some(LimitKind::Tpm));
        assert_eq!(i.model.as_deref(), Some("10KTPM-200RPM"));
        assert_eq!((i.limit, i.retry_after_ms), (Some(10_000), Some(6)));

        let i = info(
            "Enqueued token limit reached for gpt-4o-mini in organization org-x1. Limit: 2,000,000 enqueued tokens. Please try submitting an equal or smaller number of requests after some have completed.",
        );
        assert_eq!(i.limit, Some(2_000_000));
        // A comma that is not a thousands separator ends the number.
        let i = info(
            "Rate limit reached for gpt-4o in organization org-x1 on requests per min (RPM): Limit 3,Used 3, Requested 1.",
        );
        assert_eq!((i.limit, i.used, i.requested), (Some(3), Some(3), Some(1)));
        // Groq writes an estimated count with a tilde.
        let i = info(
            "Rate limit reached for model `llama3-70b-8192` in organization `org_01x` on tokens per minute (TPM): Limit 7000, Used 0, Requested ~12903. Please try again in 50.597142857s.",
        );
        assert_eq!(
            (i.limit, i.used, i.requested),
            (Some(7000), Some(0), Some(12903))
        );
    }

    #[test]
    fn not_a_rate_limit() {
        assert_eq!(from_message(""), None);
        assert_eq!(
            from_message(
                "You exceeded your current quota, please check your plan and billing details."
            ),
            None
        );
        assert_eq!(from_message("Incorrect API key provided: sk-abc."), None);
        // `limit` not followed by a number, no other facts.
        assert_eq!(from_message("Rate limit reached for requests"), None);
        // Placeholder organization IDs are not read as IDs.
        assert_eq!(
            info("Rate limit reached for gpt-4o in organization org-… on tokens per min (TPM)")
                .organization,
            None
        );
    }
}
