//! The retry policy as a pure function.
//!
//! [`next_step`] follows the official Python SDK's rules (`_should_retry` and
//! `_calculate_retry_timeout`) with two deliberate differences: a server delay of up to
//! [`MAX_SERVER_DELAY_MS`] (120 s, the SDK honours 60 s) is honoured and a longer one means stop,
//! and errors that retrying can never fix (quota, billing, authentication, permission, not found,
//! or a request that must change first) are never retried, even when `x-should-retry: true` says so.
//! The random source is an argument, so the function is deterministic.
//!
//! ```
//! use airlock_rules::retry::{next_step, Budget, DelaySource, Step};
//!
//! let pasted = "HTTP/1.1 500 Internal Server Error\r\nretry-after: 3\r\n\r\n{}";
//! if let Some(d) = airlock_rules::explain(pasted).diagnosis {
//!     // The first retry honours the server's three seconds.
//!     let step = next_step(&d, [("retry-after", "3")], &Budget::new(0, 2), 0.0);
//!     assert_eq!(step, Step::RetryAfter { ms: 3000, source: DelaySource::RetryAfter });
//! }
//! ```

use core::fmt;

use crate::{Diagnosis, RetryDecision};

/// The longest server-requested delay that is honoured; a longer one means stop.
pub const MAX_SERVER_DELAY_MS: u64 = 120_000;
/// The first backoff delay (the SDK's `INITIAL_RETRY_DELAY`, 0.5 s).
pub const INITIAL_DELAY_MS: u64 = 500;
/// The longest backoff delay (the SDK's `MAX_RETRY_DELAY`, 8 s).
pub const MAX_BACKOFF_MS: u64 = 8_000;
/// The SDKs' default number of retries.
pub const DEFAULT_MAX_RETRIES: u32 = 2;

/// The delay the server asks for: `retry-after-ms`, then `retry-after` (seconds or an HTTP date,
/// which needs `now_unix_ms`). Names in any case.
///
/// Returns milliseconds, rounded up. A date in the past, or a negative number, gives `Some(0)`.
/// `None` when neither header is present or readable (an HTTP date without `now_unix_ms`).
///
/// # Example
/// ```
/// use airlock_rules::retry::server_delay_ms;
///
/// assert_eq!(server_delay_ms([("Retry-After", "1.5")], None), Some(1_500));
/// assert_eq!(server_delay_ms([("retry-after", "20"), ("retry-after-ms", "250")], None), Some(250));
/// let now = 1_445_412_470_000; // Wed, 21 Oct 2015 07:27:50 GMT
/// assert_eq!(server_delay_ms([("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")], Some(now)), Some(10_000));
/// ```
pub fn server_delay_ms<I, K, V>(headers: I, now_unix_ms: Option<u64>) -> Option<u64>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut after_ms = None;
    let mut after = None;
    for (name, value) in headers {
        let name = name.as_ref().trim();
        if after_ms.is_none() && name.eq_ignore_ascii_case("retry-after-ms") {
            after_ms = seconds_like(value.as_ref(), 1.0);
        } else if after.is_none() && name.eq_ignore_ascii_case("retry-after") {
            let v = value.as_ref().trim();
            after = seconds_like(v, 1000.0).or_else(|| {
                let at = parse_http_date_ms(v)?;
                Some(at.saturating_sub(now_unix_ms?))
            });
        }
    }
    after_ms.or(after)
}

/// A number of units (`1.5`, `20`, `1e3`) to milliseconds, rounded up; negative is 0.
fn seconds_like(value: &str, ms_per_unit: f64) -> Option<u64> {
    let x: f64 = value.trim().parse().ok()?;
    if !x.is_finite() {
        return None;
    }
    let ms = x * ms_per_unit;
    if ms <= 0.0 {
        return Some(0);
    }
    if ms >= u64::MAX as f64 {
        return Some(u64::MAX);
    }
    let whole = ms as u64;
    Some(if (whole as f64) < ms {
        whole + 1
    } else {
        whole
    })
}

/// Parses an HTTP date to Unix milliseconds: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`),
/// RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`), asctime (`Sun Nov  6 08:49:37 1994`), and the
/// RFC 2822 forms with a numeric zone (`+0100`) that Python's `email.utils` also accepts.
///
/// # Example
/// ```
/// use airlock_rules::retry::parse_http_date_ms;
///
/// assert_eq!(parse_http_date_ms("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777_000));
/// assert_eq!(parse_http_date_ms("Sunday, 06-Nov-94 08:49:37 GMT"), Some(784_111_777_000));
/// assert_eq!(parse_http_date_ms("Sun Nov  6 08:49:37 1994"), Some(784_111_777_000));
/// assert_eq!(parse_http_date_ms("tomorrow"), None);
/// ```
pub fn parse_http_date_ms(text: &str) -> Option<u64> {
    let mut day = None;
    let mut month = None;
    let mut year = None;
    let mut time = None;
    let mut offset_s: i64 = 0;
    for raw in text.split([' ', ',', '\t']).filter(|t| !t.is_empty()) {
        if raw.contains(':') {
            if time.is_some() {
                return None;
            }
            let mut parts = raw.split(':');
            let h: u32 = small_number(parts.next()?)?;
            let m: u32 = small_number(parts.next()?)?;
            let s: u32 = match parts.next() {
                Some(p) => small_number(p)?,
                None => 0,
            };
            if parts.next().is_some() || h > 23 || m > 59 || s > 60 {
                return None;
            }
            time = Some(i64::from(h * 3600 + m * 60 + s));
        } else if raw.contains('-') && raw.len() > 5 && !raw.starts_with(['+', '-']) {
            // RFC 850: 06-Nov-94
            let mut parts = raw.split('-');
            day = Some(small_number(parts.next()?)?);
            month = Some(month_number(parts.next()?)?);
            year = Some(full_year(parts.next()?)?);
            if parts.next().is_some() {
                return None;
            }
        } else if let Some(m) = month_number(raw) {
            month = Some(m);
        } else if raw.starts_with(['+', '-']) && raw.len() == 5 {
            let sign = if raw.starts_with('-') { -1 } else { 1 };
            // `get`, not `[..]`: the five bytes may hold a multibyte char (`+1é2`).
            let hh: i64 = small_number::<u32>(raw.get(1..3)?)?.into();
            let mm: i64 = small_number::<u32>(raw.get(3..5)?)?.into();
            offset_s = sign * (hh * 3600 + mm * 60);
        } else if ["GMT", "UTC", "UT", "Z"]
            .iter()
            .any(|z| raw.eq_ignore_ascii_case(z))
        {
            offset_s = 0;
        } else if raw.bytes().all(|b| b.is_ascii_digit()) {
            if raw.len() <= 2 && day.is_none() {
                day = Some(small_number(raw)?);
            } else if year.is_none() {
                year = Some(full_year(raw)?);
            } else {
                return None;
            }
        } else if is_day_name(raw) {
            continue;
        } else {
            return None;
        }
    }
    let (day, month, year, time): (u32, u32, i64, i64) = (day?, month?, year?, time?);
    if !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + time - offset_s;
    u64::try_from(secs).ok()?.checked_mul(1000)
}

fn small_number<T: core::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn full_year(s: &str) -> Option<i64> {
    let y: i64 = small_number(s)?;
    Some(match s.len() {
        // Two-digit years as Python's email.utils reads them.
        1 | 2 if y > 68 => 1900 + y,
        1 | 2 => 2000 + y,
        4 => y,
        _ => return None,
    })
}

fn month_number(s: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let head = s.get(..3)?;
    let i = MONTHS.iter().position(|m| head.eq_ignore_ascii_case(m))?;
    // `Sept`, `June`, `March` are fine; `Monday` is not a month.
    if s.len() > 3 && !s.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    Some(i as u32 + 1)
}

fn is_day_name(s: &str) -> bool {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    s.len() >= 3
        && s.bytes().all(|b| b.is_ascii_alphabetic())
        && DAYS.iter().any(|d| s[..3].eq_ignore_ascii_case(d))
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Where a retry's delay came from.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DelaySource {
    /// The `retry-after-ms` response header.
    RetryAfterMs,
    /// The `retry-after` response header (seconds or an HTTP date).
    RetryAfter,
    /// The delay the diagnosis carries ([`crate::RetryAdvice::after_ms`]: read from the pasted
    /// headers or the message, e.g. `Please try again in 2s`).
    Diagnosis,
    /// Exponential backoff: `min(0.5 s · 2^n, 8 s)` less up to 25 % jitter.
    Backoff,
}

impl DelaySource {
    /// The source's name as used in JSON output.
    pub const fn as_str(self) -> &'static str {
        match self {
            DelaySource::RetryAfterMs => "retry_after_ms",
            DelaySource::RetryAfter => "retry_after",
            DelaySource::Diagnosis => "diagnosis",
            DelaySource::Backoff => "backoff",
        }
    }
}

/// Why [`next_step`] says stop.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum StopReason {
    /// Retrying can never help until something outside the request changes (quota, billing,
    /// authentication, permission, not found): [`RetryDecision::No`].
    NeverHelps,
    /// The request itself must change first (invalid request, context length, content policy,
    /// request too large): [`RetryDecision::AfterChange`].
    RequestMustChange,
    /// The server sent `x-should-retry: false`.
    ServerSaidNo,
    /// The retries allowed are used up.
    MaxRetries {
        /// How many retries were allowed.
        max_retries: u32,
    },
    /// The server asked for a wait longer than [`MAX_SERVER_DELAY_MS`] (a daily limit, say).
    ServerDelayTooLong {
        /// The wait asked for, in milliseconds.
        ms: u64,
    },
    /// Waiting would pass the deadline.
    Deadline {
        /// The wait that would have been needed, in milliseconds.
        wait_ms: u64,
    },
}

impl StopReason {
    /// The reason's name as used in JSON output.
    pub const fn as_str(self) -> &'static str {
        match self {
            StopReason::NeverHelps => "never_helps",
            StopReason::RequestMustChange => "request_must_change",
            StopReason::ServerSaidNo => "server_said_no",
            StopReason::MaxRetries { .. } => "max_retries",
            StopReason::ServerDelayTooLong { .. } => "server_delay_too_long",
            StopReason::Deadline { .. } => "deadline",
        }
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            StopReason::NeverHelps => {
                f.write_str("retrying cannot help until something outside the request changes")
            }
            StopReason::RequestMustChange => {
                f.write_str("the request must change before it can succeed")
            }
            StopReason::ServerSaidNo => f.write_str("the server sent x-should-retry: false"),
            StopReason::MaxRetries { max_retries } => {
                write!(f, "all {max_retries} retries are used up")
            }
            StopReason::ServerDelayTooLong { ms } => {
                write!(
                    f,
                    "the server asks to wait {ms} ms, longer than {MAX_SERVER_DELAY_MS} ms"
                )
            }
            StopReason::Deadline { wait_ms } => {
                write!(f, "waiting {wait_ms} ms would pass the deadline")
            }
        }
    }
}

/// What to do after a failed attempt.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "step")]
pub enum Step {
    /// Send the same request again after waiting `ms` milliseconds.
    RetryAfter {
        /// How long to wait, in milliseconds.
        ms: u64,
        /// Where the delay came from.
        source: DelaySource,
    },
    /// Do not retry.
    Stop {
        /// Why not.
        reason: StopReason,
    },
}

/// Where a sequence of attempts stands: retries made and allowed, time used and allowed.
///
/// Times are milliseconds since the first attempt started; `now_unix_ms` is only needed to read a
/// `retry-after` HTTP date.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Retries already made (0 after the first attempt failed). Backoff uses it as `n`.
    pub retries: u32,
    /// Retries allowed in all (the SDKs default to 2).
    pub max_retries: u32,
    /// Time spent so far, in milliseconds.
    pub elapsed_ms: u64,
    /// The total time allowed, in milliseconds, if any.
    pub deadline_ms: Option<u64>,
    /// The current time as Unix milliseconds, to read a `retry-after` HTTP date.
    pub now_unix_ms: Option<u64>,
}

impl Budget {
    /// `retries` made of `max_retries` allowed, no time used, no deadline.
    pub const fn new(retries: u32, max_retries: u32) -> Budget {
        Budget {
            retries,
            max_retries,
            elapsed_ms: 0,
            deadline_ms: None,
            now_unix_ms: None,
        }
    }

    /// The same budget with `elapsed_ms` spent of `deadline_ms` allowed.
    pub const fn with_deadline(mut self, elapsed_ms: u64, deadline_ms: Option<u64>) -> Budget {
        self.elapsed_ms = elapsed_ms;
        self.deadline_ms = deadline_ms;
        self
    }

    /// The same budget with the current time, for `retry-after` HTTP dates.
    pub const fn with_now(mut self, now_unix_ms: u64) -> Budget {
        self.now_unix_ms = Some(now_unix_ms);
        self
    }
}

impl Default for Budget {
    /// The first retry of the SDKs' default two, no deadline.
    fn default() -> Budget {
        Budget::new(0, DEFAULT_MAX_RETRIES)
    }
}

/// Decides whether to retry a failed request, and after how long.
///
/// `headers` are the failed response's headers (names in any case; pass an empty list when there
/// was no response). `random` is a number in `[0, 1)` (values outside are clamped) that sets the
/// jitter: the backoff is `min(0.5 s · 2^n, 8 s) · (1 − 0.25 · random)`, rounded to the nearest
/// millisecond, with `n` = [`Budget::retries`].
///
/// In order:
/// 1. A diagnosis whose retry decision is [`RetryDecision::No`] or [`RetryDecision::AfterChange`]
///    stops ([`StopReason::NeverHelps`], [`StopReason::RequestMustChange`]), whatever the headers say.
/// 2. `x-should-retry: false` stops ([`StopReason::ServerSaidNo`]). (`true` is what the SDKs use to
///    force a retry; here it can only confirm one, since rule 1 comes first.)
/// 3. With all retries used, stop ([`StopReason::MaxRetries`]).
/// 4. The delay: `retry-after-ms`, then `retry-after`, then the diagnosis's own
///    [`crate::RetryAdvice::after_ms`]; a delay over 120 s stops ([`StopReason::ServerDelayTooLong`]),
///    one of 0 < d ≤ 120 s is used as is, and otherwise (none, or 0) the backoff above.
/// 5. If waiting would pass the deadline, stop ([`StopReason::Deadline`]).
///
/// # Example
/// ```
/// use airlock_rules::retry::{next_step, Budget, DelaySource, Step};
/// # use airlock_rules::{Category, Confidence, Delivery, Diagnosis, Format, RetryAdvice, RetryDecision, SdkNames};
/// # let d = Diagnosis { category: Category::RateLimit, delivery: Delivery::Response, confidence: Confidence::Likely, status: Some(429), code: None, error_type: None, param: None, message: None, request_id: None, sdk: SdkNames::default(), retry: RetryAdvice { decision: RetryDecision::Yes, after_ms: None }, rate_limit: None, rate_limit_headers: None, meaning: String::new(), first_fix: String::new(), rule: String::new(), format: Format::Json };
/// // `d` is a diagnosed 429.
/// let step = next_step(&d, [("retry-after-ms", "1200")], &Budget::new(0, 2), 0.3);
/// assert_eq!(step, Step::RetryAfter { ms: 1200, source: DelaySource::RetryAfterMs });
/// // The third retry with no server delay: 0.5 s · 2² = 2 s, less 25 % · 0.5 jitter.
/// let step = next_step(&d, [("x-request-id", "req_1")], &Budget::new(2, 5), 0.5);
/// assert_eq!(step, Step::RetryAfter { ms: 1750, source: DelaySource::Backoff });
/// ```
pub fn next_step<I, K, V>(diagnosis: &Diagnosis, headers: I, budget: &Budget, random: f64) -> Step
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let stop = |reason| Step::Stop { reason };
    match diagnosis.retry.decision {
        RetryDecision::No => return stop(StopReason::NeverHelps),
        RetryDecision::AfterChange => return stop(StopReason::RequestMustChange),
        RetryDecision::Yes => {}
    }

    let mut should_retry_false = false;
    let mut retry_after_ms = None;
    let mut retry_after = None;
    for (name, value) in headers {
        let (name, value) = (name.as_ref().trim(), value.as_ref());
        if name.eq_ignore_ascii_case("x-should-retry") {
            should_retry_false |= value.trim() == "false";
        } else if retry_after_ms.is_none() && name.eq_ignore_ascii_case("retry-after-ms") {
            retry_after_ms = server_delay_ms([(name, value)], budget.now_unix_ms);
        } else if retry_after.is_none() && name.eq_ignore_ascii_case("retry-after") {
            retry_after = server_delay_ms([(name, value)], budget.now_unix_ms);
        }
    }
    if should_retry_false {
        return stop(StopReason::ServerSaidNo);
    }
    if budget.retries >= budget.max_retries {
        return stop(StopReason::MaxRetries {
            max_retries: budget.max_retries,
        });
    }

    let server = retry_after_ms
        .map(|ms| (ms, DelaySource::RetryAfterMs))
        .or(retry_after.map(|ms| (ms, DelaySource::RetryAfter)))
        .or(diagnosis
            .retry
            .after_ms
            .map(|ms| (ms, DelaySource::Diagnosis)));
    let (wait_ms, source) = match server {
        Some((ms, _)) if ms > MAX_SERVER_DELAY_MS => {
            return stop(StopReason::ServerDelayTooLong { ms });
        }
        Some((ms, source)) if ms > 0 => (ms, source),
        _ => (backoff_ms(budget.retries, random), DelaySource::Backoff),
    };

    if let Some(deadline) = budget.deadline_ms {
        if budget.elapsed_ms.saturating_add(wait_ms) > deadline {
            return stop(StopReason::Deadline { wait_ms });
        }
    }
    Step::RetryAfter {
        ms: wait_ms,
        source,
    }
}

/// `min(0.5 s · 2^n, 8 s) · (1 − 0.25 · random)` in whole milliseconds (nearest).
fn backoff_ms(retries: u32, random: f64) -> u64 {
    let base = if retries >= 4 {
        MAX_BACKOFF_MS
    } else {
        (INITIAL_DELAY_MS << retries).min(MAX_BACKOFF_MS)
    };
    let r = if random.is_nan() {
        0.0
    } else {
        random.clamp(0.0, 1.0)
    };
    let ms = base as f64 * (1.0 - 0.25 * r);
    (ms + 0.5) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Category, Format, RetryAdvice, SdkNames};
    use alloc::string::String;
    use alloc::vec::Vec;

    fn diagnosis(category: Category, decision: RetryDecision, after_ms: Option<u64>) -> Diagnosis {
        Diagnosis {
            category,
            delivery: crate::Delivery::Response,
            confidence: crate::Confidence::Likely,
            status: None,
            code: None,
            error_type: None,
            param: None,
            message: None,
            request_id: None,
            sdk: SdkNames::default(),
            retry: RetryAdvice { decision, after_ms },
            rate_limit: None,
            rate_limit_headers: None,
            meaning: String::new(),
            first_fix: String::new(),
            rule: String::new(),
            format: Format::Json,
        }
    }

    fn yes() -> Diagnosis {
        diagnosis(Category::RateLimit, RetryDecision::Yes, None)
    }

    const NONE: [(&str, &str); 0] = [];

    fn retry(ms: u64, source: DelaySource) -> Step {
        Step::RetryAfter { ms, source }
    }

    fn stop(reason: StopReason) -> Step {
        Step::Stop { reason }
    }

    /// Issue 11 (fuzzing): a five-byte zone token holding a multibyte character (`+1é2`) panicked
    /// slicing inside the character. Header values come from upstream responses and pastes.
    #[test]
    fn a_zone_token_with_a_multibyte_char_is_not_a_date() {
        for v in [
            "Sun, 06 Nov 1994 08:49:37 +1\u{e9}2",
            "Sun, 06 Nov 1994 08:49:37 -\u{e9}12",
            "Sun, 06 Nov 1994 08:49:37 +12\u{e9}",
            "+\u{20ac}1",
            "-1\u{20ac}",
        ] {
            assert_eq!(parse_http_date_ms(v), None, "{v:?}");
            assert_eq!(
                server_delay_ms([("retry-after", v)], Some(784_111_777_000)),
                None,
                "{v:?}"
            );
        }
    }

    proptest::proptest! {
        /// No header value makes the date or delay parsers panic.
        #[test]
        fn any_header_value_is_read_without_panic(v in "([0-9+:, -]|\\PC){0,24}") {
            let _ = parse_http_date_ms(&v);
            let _ = server_delay_ms([("retry-after", v.as_str()), ("retry-after-ms", v.as_str())], Some(0));
        }
    }

    #[test]
    fn backoff_doubles_to_eight_seconds() {
        let d = yes();
        let got: Vec<u64> = (0..8)
            .map(|n| match next_step(&d, NONE, &Budget::new(n, 10), 0.0) {
                Step::RetryAfter {
                    ms,
                    source: DelaySource::Backoff,
                } => ms,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(got, [500, 1000, 2000, 4000, 8000, 8000, 8000, 8000]);
        assert_eq!(backoff_ms(u32::MAX, 0.0), 8000);
    }

    #[test]
    fn jitter_takes_up_to_a_quarter() {
        assert_eq!(backoff_ms(0, 0.5), 438); // 437.5 rounds to nearest
        assert_eq!(backoff_ms(1, 0.5), 875);
        assert_eq!(backoff_ms(4, 0.999_999), 6000);
        assert_eq!(backoff_ms(4, 0.25), 7500);
        // Out-of-range randomness is clamped, never makes a longer or negative wait.
        assert_eq!(backoff_ms(2, -3.0), 2000);
        assert_eq!(backoff_ms(2, 7.0), 1500);
        assert_eq!(backoff_ms(2, f64::NAN), 2000);
    }

    #[test]
    fn server_delay_first() {
        let d = yes();
        let b = Budget::new(0, 2);
        assert_eq!(
            next_step(
                &d,
                [("Retry-After-Ms", "1500"), ("retry-after", "3")],
                &b,
                0.9
            ),
            retry(1500, DelaySource::RetryAfterMs)
        );
        assert_eq!(
            next_step(&d, [("retry-after", "3")], &b, 0.9),
            retry(3000, DelaySource::RetryAfter)
        );
        assert_eq!(
            next_step(&d, [("retry-after", "0.25")], &b, 0.9),
            retry(250, DelaySource::RetryAfter)
        );
        // Exactly 120 s is honoured; over it, stop.
        assert_eq!(
            next_step(&d, [("retry-after", "120")], &b, 0.0),
            retry(120_000, DelaySource::RetryAfter)
        );
        assert_eq!(
            next_step(&d, [("retry-after", "121")], &b, 0.0),
            stop(StopReason::ServerDelayTooLong { ms: 121_000 })
        );
        // Zero or unreadable: back off.
        assert_eq!(
            next_step(&d, [("retry-after", "0")], &b, 0.0),
            retry(500, DelaySource::Backoff)
        );
        assert_eq!(
            next_step(&d, [("retry-after", "soon")], &b, 0.0),
            retry(500, DelaySource::Backoff)
        );
        // A `retry-after-ms` of 0 is used (as 0, so backoff), not skipped in favour of `retry-after`, as in the SDK.
        assert_eq!(
            next_step(&d, [("retry-after-ms", "0"), ("retry-after", "5")], &b, 0.0),
            retry(500, DelaySource::Backoff)
        );
    }

    #[test]
    fn delay_from_the_diagnosis() {
        let d = diagnosis(Category::RateLimit, RetryDecision::Yes, Some(2_000));
        let b = Budget::new(0, 2);
        assert_eq!(
            next_step(&d, NONE, &b, 0.0),
            retry(2000, DelaySource::Diagnosis)
        );
        // Headers win.
        assert_eq!(
            next_step(&d, [("retry-after", "1")], &b, 0.0),
            retry(1000, DelaySource::RetryAfter)
        );
        // A daily limit's long wait means stop.
        let d = diagnosis(Category::RateLimit, RetryDecision::Yes, Some(432_000));
        assert_eq!(
            next_step(&d, NONE, &b, 0.0),
            stop(StopReason::ServerDelayTooLong { ms: 432_000 })
        );
    }

    #[test]
    fn http_date_needs_now() {
        let d = yes();
        let date = [("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")];
        let now = 1_445_412_470_000; // 07:27:50
        assert_eq!(
            next_step(&d, date, &Budget::new(0, 2).with_now(now), 0.0),
            retry(10_000, DelaySource::RetryAfter)
        );
        // Without a clock the date cannot be read: backoff.
        assert_eq!(
            next_step(&d, date, &Budget::new(0, 2), 0.0),
            retry(500, DelaySource::Backoff)
        );
        // A date in the past: backoff.
        assert_eq!(
            next_step(&d, date, &Budget::new(0, 2).with_now(now + 60_000), 0.0),
            retry(500, DelaySource::Backoff)
        );
    }

    #[test]
    fn max_retries_and_deadline() {
        let d = yes();
        assert_eq!(
            next_step(&d, NONE, &Budget::new(2, 2), 0.0),
            stop(StopReason::MaxRetries { max_retries: 2 })
        );
        assert_eq!(
            next_step(&d, NONE, &Budget::new(0, 0), 0.0),
            stop(StopReason::MaxRetries { max_retries: 0 })
        );
        let b = Budget::new(1, 5).with_deadline(9_000, Some(10_000));
        assert_eq!(
            next_step(&d, NONE, &b, 0.0),
            retry(1000, DelaySource::Backoff)
        );
        let b = Budget::new(1, 5).with_deadline(9_001, Some(10_000));
        assert_eq!(
            next_step(&d, NONE, &b, 0.0),
            stop(StopReason::Deadline { wait_ms: 1000 })
        );
        // Jitter can bring a wait back inside the deadline.
        assert_eq!(
            next_step(&d, NONE, &b, 0.5),
            retry(875, DelaySource::Backoff)
        );
        let b = Budget::new(0, 5).with_deadline(0, Some(5_000));
        assert_eq!(
            next_step(&d, [("retry-after", "6")], &b, 0.0),
            stop(StopReason::Deadline { wait_ms: 6000 })
        );
    }

    #[test]
    fn x_should_retry() {
        let d = yes();
        let b = Budget::new(0, 2);
        assert_eq!(
            next_step(&d, [("X-Should-Retry", "false")], &b, 0.0),
            stop(StopReason::ServerSaidNo)
        );
        assert_eq!(
            next_step(&d, [("x-should-retry", "true")], &b, 0.0),
            retry(500, DelaySource::Backoff)
        );
        // `true` cannot make up for used-up retries.
        assert_eq!(
            next_step(&d, [("x-should-retry", "true")], &Budget::new(2, 2), 0.0),
            stop(StopReason::MaxRetries { max_retries: 2 })
        );
    }

    #[test]
    fn never_retried_even_when_the_server_says_so() {
        let forced = [("x-should-retry", "true"), ("retry-after", "1")];
        let b = Budget::new(0, 2);
        for c in [
            Category::Quota,
            Category::Authentication,
            Category::Permission,
            Category::NotFound,
        ] {
            let d = diagnosis(c, RetryDecision::No, None);
            assert_eq!(
                next_step(&d, forced, &b, 0.0),
                stop(StopReason::NeverHelps),
                "{c}"
            );
        }
        for c in [
            Category::InvalidRequest,
            Category::ContextLength,
            Category::ContentPolicy,
            Category::Unprocessable,
        ] {
            let d = diagnosis(c, RetryDecision::AfterChange, None);
            assert_eq!(
                next_step(&d, forced, &b, 0.0),
                stop(StopReason::RequestMustChange),
                "{c}"
            );
        }
        // Each category's default decision is respected.
        for c in Category::ALL {
            let d = diagnosis(c, c.default_retry(), None);
            let step = next_step(&d, NONE, &b, 0.0);
            assert_eq!(
                matches!(step, Step::RetryAfter { .. }),
                c.default_retry() == RetryDecision::Yes,
                "{c}"
            );
        }
    }

    #[test]
    fn server_delay_headers() {
        assert_eq!(server_delay_ms(NONE, None), None);
        assert_eq!(
            server_delay_ms([("retry-after-ms", "12.1")], None),
            Some(13)
        );
        assert_eq!(server_delay_ms([("retry-after-ms", "-5")], None), Some(0));
        assert_eq!(
            server_delay_ms([("retry-after-ms", "nan"), ("retry-after", "2")], None),
            Some(2000)
        );
        assert_eq!(
            server_delay_ms([("retry-after-ms", "x"), ("retry-after", " 2 ")], None),
            Some(2000)
        );
        assert_eq!(server_delay_ms([("RETRY-AFTER", "1.5")], None), Some(1500));
        assert_eq!(
            server_delay_ms([("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")], None),
            None
        );
        assert_eq!(
            server_delay_ms(
                [("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")],
                Some(1_445_412_490_000)
            ),
            Some(0)
        );
        assert_eq!(server_delay_ms([("retry-after", "")], Some(0)), None);
    }

    #[test]
    fn http_dates() {
        let t = 784_111_777_000;
        for s in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 09:49:37 +0100",
            "Sun, 06 Nov 1994 03:49:37 -0500",
            "6 Nov 1994 08:49:37 UTC",
            "sun, 06 nov 1994 08:49:37 gmt",
        ] {
            assert_eq!(parse_http_date_ms(s), Some(t), "{s}");
        }
        assert_eq!(parse_http_date_ms("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date_ms("Tue, 29 Feb 2028 12:00:00 GMT"),
            Some(1_835_438_400_000)
        );
        assert_eq!(
            parse_http_date_ms("Fri, 31 Dec 2049 23:59:59 GMT"),
            Some(2_524_607_999_000)
        );
        for s in [
            "",
            "120",
            "Sun, 06 Nov 1994",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "06 Nov 1994 25:00:00 GMT",
            "Wed, 31 Dec 1969 23:59:59 GMT",
        ] {
            assert_eq!(parse_http_date_ms(s), None, "{s:?}");
        }
    }

    #[test]
    fn reasons_read_well() {
        use alloc::string::ToString;
        assert_eq!(
            StopReason::MaxRetries { max_retries: 2 }.to_string(),
            "all 2 retries are used up"
        );
        assert_eq!(StopReason::Deadline { wait_ms: 10 }.as_str(), "deadline");
    }
}
