//! Simulate mode (`SIMULATE = "on"`): a request carrying `x-airlock-simulate: name[;after=k]
//! [;events=N][;ms=T]` gets the named failure from the rules' catalogue
//! (`airlock_rules::simulate`) instead of being forwarded, so a team can rehearse how its code
//! handles it.
//!
//! The hook runs after the gateway check (in gateway mode only a valid gateway token reaches
//! it) and before the body is read, so a request that passes through is forwarded untouched,
//! minus the `x-airlock-simulate` header.
//!
//! **`after=k`, without shared state.** The official SDKs number each attempt of one logical
//! request in `x-stainless-retry-count` (0, then 1, 2… on their own retries; both the Python and
//! the Node SDK send it). Attempts numbered below k get the failure; from k on the request
//! passes through. So no isolate, KV or Durable Object has to remember a request: every attempt
//! carries its own number, whichever isolate it lands on. A client that does not send the
//! header is attempt 0 on every try, so with `after=k` (k ≥ 1) it always gets the failure.
//!
//! Response failures are labelled as Airlock labels a real upstream error (the same
//! `diagnose_response` and `route::error_headers`), so the client sees exactly what a real one
//! through Airlock looks like (`x-should-retry: false` on quota, for example). Each attempt
//! writes one `{"event":"simulate",…}` log line, before any stall, with what was done.

use airlock_rules::log_line::SimulateLine;
use airlock_rules::simulate::{self, Kind, Spec, StreamApi};
use airlock_rules::{NoResponse, diagnose_response};
use worker::{Headers, Response, Result};

use crate::log::LogLine;
use crate::settings::Settings;
use crate::{body, errors, reject, route, watch};

/// The request header that asks for a failure.
pub const HEADER: &str = "x-airlock-simulate";

/// The attempt number the SDKs send on each try of one request.
const RETRY_COUNT_HEADER: &str = "x-stainless-retry-count";

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The SDK's attempt number: a whole number, else unknown (read as the first attempt).
fn attempt(headers: &[(String, String)]) -> Option<u32> {
    header(headers, RETRY_COUNT_HEADER).and_then(|v| v.trim().parse::<u32>().ok())
}

/// The simulate hook: `None` when the request goes on as usual (no header, or `after=k`
/// reached; the header is then removed from what is forwarded), else the answer to send.
pub async fn intercept(
    headers: &mut Vec<(String, String)>,
    url: &url::Url,
    settings: &Settings,
    line: &mut LogLine,
) -> Option<Result<Response>> {
    let value = header(headers, HEADER)?.to_owned();
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case(HEADER));
    let spec = match simulate::parse(&value) {
        Ok(spec) => spec,
        Err(why) => return Some(reject(&errors::simulate_refused(why.to_string()), line)),
    };
    let attempt = attempt(headers);
    let fails = spec.fails(attempt);
    let note = SimulateLine {
        event: "simulate",
        request_id: &line.request_id,
        name: spec.failure.name,
        attempt,
        after: spec.after,
        action: if fails { "fail" } else { "pass" },
    };
    if let Ok(text) = serde_json::to_string(&note) {
        worker::console_log!("{text}");
    }
    if !fails {
        return None;
    }
    line.simulated = true;
    Some(answer(&spec, url, settings, line).await)
}

/// The failure itself.
async fn answer(
    spec: &Spec,
    url: &url::Url,
    settings: &Settings,
    line: &mut LogLine,
) -> Result<Response> {
    let host = settings.upstream.host_str().unwrap_or("");
    match spec.failure.kind {
        Kind::Response { status, .. } => {
            let sent = simulate::headers(spec, &line.request_id);
            let owned: Vec<(String, String)> = sent
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect();
            let refs: Vec<(&str, &str)> = sent.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let bytes = simulate::body(spec);
            let d = diagnose_response(status, &refs, &bytes);
            line.category = Some(d.category.as_str().to_owned());
            line.retry = Some(d.retry.decision.as_str());
            let out = Headers::new();
            for (name, value) in sent.iter().chain(route::error_headers(&d, &owned).iter()) {
                out.set(name, value)?;
            }
            Ok(Response::builder()
                .with_status(status)
                .with_headers(out)
                .fixed(bytes))
        }
        Kind::Stall => {
            body::delay(spec.ms).await;
            reject(
                &errors::no_response(NoResponse::Timeout, host, spec.ms),
                line,
            )
        }
        Kind::Connection => {
            // Airlock's 502 for an upstream reset, with one header the SDKs' HTTP parsers
            // refuse, so they raise their connection error (see `Kind::Connection`).
            let mut resp = reject(&errors::no_response(NoResponse::Connection, host, 0), line)?;
            resp.headers_mut()
                .set(simulate::RESET_HEADER, simulate::RESET_VALUE)?;
            Ok(resp)
        }
        Kind::Stream(_) => {
            let Some(api) = StreamApi::for_path(url.path()) else {
                let why = simulate::StreamRefusal::NotStreamingPath.to_string();
                return reject(&errors::simulate_refused(why), line);
            };
            let id = line
                .request_id
                .trim_start_matches("req_airlock_")
                .to_owned();
            let now_s = (js_sys::Date::now() / 1000.0) as u64;
            let bytes = match simulate::stream_body(spec, api, &id, now_s, watch::DROPPED_MESSAGE) {
                Ok(bytes) => bytes,
                Err(why) => return reject(&errors::simulate_refused(why.to_string()), line),
            };
            line.stream = true;
            let out = Headers::new();
            for (name, value) in simulate::headers(spec, &line.request_id) {
                out.set(name, &value)?;
            }
            Ok(Response::builder()
                .with_status(200)
                .with_headers(out)
                .fixed(bytes))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(h: &[(&str, &str)]) -> Vec<(String, String)> {
        h.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn attempt_numbers() {
        assert_eq!(
            attempt(&owned(&[("X-Stainless-Retry-Count", "2")])),
            Some(2)
        );
        assert_eq!(
            attempt(&owned(&[("x-stainless-retry-count", " 0 ")])),
            Some(0)
        );
        assert_eq!(attempt(&owned(&[("x-stainless-retry-count", "-1")])), None);
        assert_eq!(attempt(&owned(&[("x-stainless-retry-count", "two")])), None);
        assert_eq!(attempt(&owned(&[])), None);
    }
}
