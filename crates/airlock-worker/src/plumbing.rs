//! Cheaper crossings of the JS boundary for the per-request plumbing (issue 14).
//!
//! Each call from wasm into JavaScript, and each string handed back, costs a few microseconds in
//! workerd; a request crosses dozens of times before any rule runs. What is here was picked from a
//! V8 CPU profile of the worker with checking off (`bench/worker/cpu.mjs`, `PROFILE=`):
//! - [`header_names`] and [`header_pairs`]: a `Headers` object read in one call (one string back)
//!   instead of `keys()`, `Array.from`, `join` and one `get` per header.
//! - [`delete_headers`]: the headers a success answer must not carry deleted in one call.
//! - [`identity_pipe`]: workerd's native `IdentityTransformStream`, so a success body piped through
//!   the worker to watch for a cut moves runtime to runtime, with no JavaScript per chunk (the
//!   standard `TransformStream` runs its JavaScript machinery for every chunk).
//! - [`fetch_within`]: the upstream call raced against its timeout in JavaScript, one promise
//!   for Rust to await, instead of a `fetch` future and a Rust timer future (a closure, a
//!   `setTimeout`, and a `clearTimeout` when dropped) polled together.
//! - [`iso_time`]: the log line's timestamp formatted in Rust from the `Date.now()` the line reads
//!   anyway, instead of a `Date` object and its `toISOString()` string.
//!
//! The JavaScript side is `js/io.mjs`, one module that the JavaScript entry (`js/entry.js`) imports
//! too (issue 14, session 11: the two entries had each their own copy).

use wasm_bindgen::prelude::*;

// One module for both entries (`js/io.mjs`; the JavaScript entry imports the same file).
#[wasm_bindgen(module = "/js/io.mjs")]
extern "C" {
    #[wasm_bindgen(js_name = headerNames)]
    fn airlock_header_names(headers: &web_sys::Headers) -> String;
    #[wasm_bindgen(js_name = headerPairs)]
    fn airlock_header_pairs(headers: &web_sys::Headers) -> String;
    #[wasm_bindgen(js_name = deleteHeaders)]
    fn airlock_delete_headers(headers: &web_sys::Headers, names: &str);
    #[wasm_bindgen(js_name = fetchWithin)]
    fn airlock_fetch_within(
        url: &str,
        init: &web_sys::RequestInit,
        ms: f64,
        controller: &web_sys::AbortController,
    ) -> js_sys::Promise;
}

/// How [`fetch_within`] ended.
pub enum Fetched {
    /// The upstream's answer (its headers) came within the time.
    Answer(web_sys::Response),
    /// None came within `ms`; the call was aborted with reason `airlock: upstream timeout`.
    Timeout,
    /// `fetch` failed (no connection, or `controller` aborted it).
    Failed,
}

/// `fetch(url, init)` given `ms` milliseconds (at most [`crate::body::MAX_TIMER_MS`]) to
/// answer; past them `controller` (whose signal `init` carries) is aborted.
pub async fn fetch_within(
    url: &str,
    init: &web_sys::RequestInit,
    ms: u64,
    controller: &web_sys::AbortController,
) -> Fetched {
    let ms = ms.min(crate::body::MAX_TIMER_MS) as f64;
    let settled = js_sys::futures::JsFuture::from(airlock_fetch_within(url, init, ms, controller));
    match settled.await {
        Ok(value) => match value.dyn_into::<web_sys::Response>() {
            Ok(resp) => Fetched::Answer(resp),
            Err(value) if value.as_f64() == Some(0.0) => Fetched::Timeout,
            Err(_) => Fetched::Failed,
        },
        Err(_) => Fetched::Failed,
    }
}

#[wasm_bindgen]
extern "C" {
    /// workerd's pass-through byte stream (not in web-sys: it is not a web standard).
    #[wasm_bindgen(js_name = IdentityTransformStream)]
    type IdentityTransformStream;
    #[wasm_bindgen(constructor, catch, js_class = "IdentityTransformStream")]
    fn new() -> Result<IdentityTransformStream, JsValue>;
    #[wasm_bindgen(method, getter)]
    fn readable(this: &IdentityTransformStream) -> web_sys::ReadableStream;
    #[wasm_bindgen(method, getter)]
    fn writable(this: &IdentityTransformStream) -> web_sys::WritableStream;
}

/// Every header name in `headers` (lowercase, in the runtime's sorted order, a name the runtime
/// lists twice, only ever `set-cookie`, listed twice), comma-separated: a header name cannot hold
/// a comma.
pub fn header_names(headers: &web_sys::Headers) -> String {
    airlock_header_names(headers)
}

/// Every header of `headers` as `name\nvalue\n` pairs, names lowercase in the runtime's order,
/// each name once with its value as `get` returns it (a repeated `set-cookie` joined). A header
/// value cannot hold a line feed (the runtime refuses one), so the pairs split cleanly.
pub fn header_pairs(headers: &web_sys::Headers) -> String {
    airlock_header_pairs(headers)
}

/// Deletes from `headers` every name of `names` (comma-separated), in one call.
pub fn delete_headers(headers: &web_sys::Headers, names: &str) {
    airlock_delete_headers(headers, names);
}

/// The pairs of a [`header_pairs`] string.
pub fn split_pairs(pairs: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut parts = pairs.split('\n');
    core::iter::from_fn(move || {
        let name = parts.next().filter(|n| !n.is_empty())?;
        Some((name, parts.next()?))
    })
}

/// A pipe whose writable end takes what the readable end gives out: workerd's native
/// `IdentityTransformStream` where it exists, the standard `TransformStream` elsewhere.
pub fn identity_pipe() -> Option<(web_sys::WritableStream, web_sys::ReadableStream)> {
    match IdentityTransformStream::new() {
        Ok(pipe) => Some((pipe.writable(), pipe.readable())),
        Err(_) => {
            let pipe = web_sys::TransformStream::new().ok()?;
            Some((pipe.writable(), pipe.readable()))
        }
    }
}

/// `ms` since the Unix epoch as `Date.prototype.toISOString` writes it
/// (`YYYY-MM-DDTHH:MM:SS.sssZ`, years 0–9999; the clock is never outside them).
pub fn iso_time(ms: f64) -> String {
    let ms = if ms.is_finite() && ms >= 0.0 {
        ms as u64
    } else {
        0
    };
    let (days, rest) = (ms / 86_400_000, ms % 86_400_000);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3_600_000,
        rest / 60_000 % 60,
        rest / 1000 % 60,
        rest % 1000
    )
}

/// Year, month, day of the `days`-th day after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::{iso_time, split_pairs};

    #[test]
    fn iso_time_matches_to_iso_string() {
        // Values from `new Date(ms).toISOString()` in Node.
        for (ms, want) in [
            (0.0, "1970-01-01T00:00:00.000Z"),
            (951_782_400_000.0, "2000-02-29T00:00:00.000Z"),
            (1_709_164_799_999.0, "2024-02-28T23:59:59.999Z"),
            (1_709_251_199_000.0, "2024-02-29T23:59:59.000Z"),
            (1_735_689_599_999.0, "2024-12-31T23:59:59.999Z"),
            (1_796_529_600_123.0, "2026-12-06T04:00:00.123Z"),
            (4_102_444_800_000.0, "2100-01-01T00:00:00.000Z"),
            (4_107_542_399_999.0, "2100-02-28T23:59:59.999Z"),
            (4_107_542_400_000.0, "2100-03-01T00:00:00.000Z"),
            (253_402_300_799_999.0, "9999-12-31T23:59:59.999Z"),
            (1_796_529_600_123.9, "2026-12-06T04:00:00.123Z"),
        ] {
            assert_eq!(iso_time(ms), want, "{ms}");
        }
        assert_eq!(iso_time(f64::NAN), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_time(-5.0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn pairs_split_by_line() {
        let got: Vec<_> =
            split_pairs("accept\n*/*\nx-empty\n\ncontent-type\napplication/json\n").collect();
        assert_eq!(
            got,
            [
                ("accept", "*/*"),
                ("x-empty", ""),
                ("content-type", "application/json")
            ]
        );
        assert_eq!(split_pairs("").count(), 0);
    }
}
