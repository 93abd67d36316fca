//! Forwarding: keys, the rules' check, the upstream call (timeout, optional edge retries), and the
//! way back (success streamed unbuffered; errors labelled with the rules' diagnosis).

use core::pin::pin;
use core::time::Duration;

use airlock_rules::retry::{self, Budget, Step};
use airlock_rules::{Category, NoResponse, diagnose_no_response, diagnose_response, validate};
use futures_util::future::{Either, select};
use js_sys::futures::JsFuture;
use wasm_bindgen::{JsCast, JsValue};
use worker::{Delay, Headers, Request, Response, ResponseBuilder, Result};

use crate::log::LogLine;
use crate::route::{self, Route};
use crate::settings::Settings;
use crate::{errors, gateway, method_has_body, reject, upload};

/// The request body as it will be sent upstream.
enum Body {
    /// No body (GET, HEAD, or empty).
    None,
    /// Read whole and checked: replayable, sent byte-identical.
    Bytes(Vec<u8>),
    /// Passed through as a stream (multipart, other types, too large to check): not replayable.
    Stream(web_sys::ReadableStream),
}

/// Why no response came back.
enum Failure {
    Timeout,
    Connection,
}

/// Forwards `req` to the configured upstream, checking `/v1/*` JSON bodies first.
pub async fn proxy(
    mut req: Request,
    url: &url::Url,
    route: Route,
    settings: &Settings,
    line: &mut LogLine,
) -> Result<Response> {
    let mut headers = forwardable_request_headers(&req.headers().0);

    // Keys: in gateway mode the client's token is checked and replaced by the real key.
    let presented = gateway::bearer(header(&headers, "authorization")).map(str::to_owned);
    line.key_fingerprint = presented.as_deref().map(airlock_rules::redact::fingerprint);
    if let Some(gw) = &settings.gateway {
        if !gateway::token_accepted(presented.as_deref(), &gw.tokens) {
            return reject(&errors::gateway_token(presented.is_some()), line);
        }
        set_header(&mut headers, "authorization", format!("Bearer {}", gw.key));
    }
    let operator_owned = settings.gateway.is_some();
    for (name, value) in [
        ("openai-organization", &settings.organization),
        ("openai-project", &settings.project),
    ] {
        let Some(value) = value else { continue };
        if operator_owned || header(&headers, name).is_none() {
            set_header(&mut headers, name, value.clone());
        }
    }

    // Body: JSON under the cap is read whole and checked; everything else streams through.
    let mut uploading: Option<upload::Upload> = None;
    let content_length = req
        .headers()
        .get("content-length")?
        .and_then(|v| v.trim().parse::<u64>().ok());
    let json = route::is_json_content_type(header(&headers, "content-type"));
    let body = if !method_has_body(&req.method()) {
        Body::None
    } else if route == Route::Api
        && json
        && content_length.is_some_and(|n| n <= settings.max_check_bytes)
    {
        let Ok(bytes) = req.bytes().await else {
            return reject(&errors::unreadable_body(), line);
        };
        let verdict = validate::check(url.path(), &bytes, &settings.rules);
        line.checked = true;
        line.partial = verdict.partial().map(|b| b.name);
        line.model = verdict.model.clone();
        line.tokens = verdict
            .tokens
            .as_ref()
            .map(|t| t.input_exact + t.input_estimated);
        line.note_prompt(settings, &bytes);
        if let Some(finding) = verdict.errors.first() {
            return reject(&errors::rule_rejection(finding), line);
        }
        Body::Bytes(bytes)
    } else if let Some(boundary) = batch_upload(&req, url, &headers) {
        // A possible Batch input file: linted ahead of forwarding, streamed; see upload.rs.
        line.checked = true;
        let client = req.stream()?;
        let id = &line.request_id;
        match upload::lint_ahead(client, &boundary, content_length, settings, id).await {
            upload::Ahead::Whole(bytes) => Body::Bytes(bytes),
            upload::Ahead::Streaming(up) => Body::Stream(uploading.insert(up).body.clone()),
            upload::Ahead::Stopped(why) => return stopped(why, line),
        }
    } else {
        match req.inner().body() {
            Some(stream) => Body::Stream(stream),
            None => Body::None,
        }
    };

    let target = route::upstream_url(&settings.upstream, url.path(), url.query());
    let method = req.method().to_string();
    let host = settings.upstream.host_str().unwrap_or("").to_owned();
    let started = js_sys::Date::now();
    let mut body = Some(body);
    loop {
        line.attempts += 1;
        let this_body = match body.take() {
            Some(Body::Bytes(b)) => {
                body = Some(Body::Bytes(b.clone()));
                Body::Bytes(b)
            }
            Some(other) => other,
            None => Body::None,
        };
        // Edge retries only when the body can be sent again; nothing has been streamed back yet
        // (a success is returned at once, below).
        let replayable = !matches!(this_body, Body::Stream(_));
        let max_retries = if replayable { settings.edge_retries } else { 0 };
        let budget = |elapsed: f64| {
            Budget::new(line.attempts - 1, max_retries)
                .with_deadline(elapsed as u64, Some(settings.retry_deadline_ms))
                .with_now(js_sys::Date::now() as u64)
        };
        let abort = uploading.as_ref().map(|u| u.controller.clone());
        let sent = send(
            &target,
            &method,
            &headers,
            this_body,
            settings.timeout_ms,
            abort,
        )
        .await;
        if let Some(why) = stop_upload(uploading.as_ref()).await {
            return stopped(why, line);
        }
        match sent {
            Ok(resp) if resp.status() < 400 => {
                line.upstream_request_id = resp.headers().get("x-request-id").ok().flatten();
                line.stream = crate::watch::is_event_stream(
                    resp.headers().get("content-type").ok().flatten().as_deref(),
                );
                return pass_through(resp, line.stream.then_some(line.request_id.as_str()));
            }
            Ok(resp) => {
                line.upstream_request_id = resp.headers().get("x-request-id").ok().flatten();
                let status = resp.status();
                let resp_headers = entries(&resp.headers());
                let bytes = read_body(&resp).await;
                let refs: Vec<(&str, &str)> = resp_headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let d = diagnose_response(status, &refs, &bytes);
                line.category = Some(d.category.as_str().to_owned());
                line.retry = Some(d.retry.decision.as_str());
                let added = route::error_headers(&d, &resp_headers);
                if max_retries > 0 && d.category != Category::Quota {
                    let mut seen = resp_headers.clone();
                    seen.extend(added.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
                    let elapsed = js_sys::Date::now() - started;
                    let step = retry::next_step(&d, seen, &budget(elapsed), js_sys::Math::random());
                    if let Step::RetryAfter { ms, .. } = step {
                        Delay::from(Duration::from_millis(ms)).await;
                        continue;
                    }
                }
                return labelled_error(status, &resp_headers, bytes, &added);
            }
            Err(failure) => {
                let kind = match failure {
                    Failure::Timeout => NoResponse::Timeout,
                    Failure::Connection => NoResponse::Connection,
                };
                if max_retries > 0 {
                    let d = diagnose_no_response(kind);
                    let elapsed = js_sys::Date::now() - started;
                    let none: [(&str, &str); 0] = [];
                    let step = retry::next_step(&d, none, &budget(elapsed), js_sys::Math::random());
                    if let Step::RetryAfter { ms, .. } = step {
                        Delay::from(Duration::from_millis(ms)).await;
                        continue;
                    }
                }
                return reject(&errors::no_response(kind, &host, settings.timeout_ms), line);
            }
        }
    }
}

/// The multipart boundary when `req` is a `POST /v1/files` upload (a possible Batch input file).
fn batch_upload(req: &Request, url: &url::Url, headers: &[(String, String)]) -> Option<String> {
    if req.method() != worker::Method::Post || url.path() != "/v1/files" {
        return None;
    }
    upload::boundary(header(headers, "content-type"))
}

/// An upload the linter stopped after it began streaming upstream (see `upload.rs`).
async fn stop_upload(uploading: Option<&upload::Upload>) -> Option<upload::Stopped> {
    uploading?.stopped().await
}

/// Airlock's answer to an upload it stopped: the 400 with the line errors, or an unreadable body.
fn stopped(why: upload::Stopped, line: &mut LogLine) -> Result<Response> {
    match why {
        upload::Stopped::Rejected(found) => reject(&errors::batch_file(&found), line),
        upload::Stopped::Unreadable => reject(&errors::unreadable_body(), line),
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn set_header(headers: &mut Vec<(String, String)>, name: &str, value: String) {
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    headers.push((name.to_owned(), value));
}

/// Every header name in `headers` (lowercase, sorted), read in one string: a header name cannot
/// hold a comma. Four crossings of the JS boundary however many headers there are, where the
/// entries iterator costs five per header plus two strings.
fn header_names(headers: &web_sys::Headers) -> String {
    js_sys::Array::from(&headers.keys()).join(",").into()
}

/// The request headers that travel upstream ([`route::forwardable_request_header`]), as
/// `entries()` lists them; only the forwarded ones' values are read. (A name the runtime lists
/// twice, only ever `set-cookie`, is read once, its values joined as `get` joins them.)
fn forwardable_request_headers(headers: &web_sys::Headers) -> Vec<(String, String)> {
    let names = header_names(headers);
    let mut out: Vec<(String, String)> = Vec::new();
    for name in names.split(',') {
        if name.is_empty()
            || !route::forwardable_request_header(name)
            || out.last().is_some_and(|(last, _)| last == name)
        {
            continue;
        }
        if let Ok(Some(value)) = headers.get(name) {
            out.push((name.to_owned(), value));
        }
    }
    out
}

fn entries(headers: &web_sys::Headers) -> Vec<(String, String)> {
    Headers(headers.clone()).entries().collect()
}

/// One upstream call; no answer (headers) within `timeout_ms` aborts it, as does `controller`
/// (given for an upload, which the linter may stop mid-body).
async fn send(
    target: &url::Url,
    method: &str,
    headers: &[(String, String)],
    body: Body,
    timeout_ms: u64,
    controller: Option<web_sys::AbortController>,
) -> core::result::Result<web_sys::Response, Failure> {
    let outgoing = web_sys::Headers::new().map_err(|_| Failure::Connection)?;
    for (name, value) in headers {
        // A header the runtime refuses is dropped rather than failing the request.
        let _ = outgoing.append(name, value);
    }
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_headers(&outgoing);
    init.set_redirect(web_sys::RequestRedirect::Manual);
    match &body {
        Body::None => {}
        Body::Bytes(bytes) => init.set_body(&js_sys::Uint8Array::from(bytes.as_slice())),
        Body::Stream(stream) => init.set_body(stream),
    }
    let controller = match controller {
        Some(c) => c,
        None => web_sys::AbortController::new().map_err(|_| Failure::Connection)?,
    };
    init.set_signal(Some(&controller.signal()));
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let call = JsFuture::from(global.fetch_with_str_and_init(target.as_str(), &init));
    let timer = Delay::from(Duration::from_millis(timeout_ms));
    match select(pin!(call), pin!(timer)).await {
        Either::Left((Ok(value), _)) => value
            .dyn_into::<web_sys::Response>()
            .map_err(|_| Failure::Connection),
        Either::Left((Err(_), _)) => Err(Failure::Connection),
        Either::Right(_) => {
            controller.abort_with_reason(&JsValue::from_str("airlock: upstream timeout"));
            Err(Failure::Timeout)
        }
    }
}

/// Copies the response headers a client should see; `content-length` only when the body is sent
/// as it came (the runtime may have decoded a compressed body).
fn copied_headers(headers: &[(String, String)], keep_length: bool) -> Result<Headers> {
    let out = Headers::new();
    let encoded = header(headers, "content-encoding").is_some();
    for (name, value) in headers {
        if !route::forwardable_response_header(name)
            || (name.eq_ignore_ascii_case("content-length") && (encoded || !keep_length))
        {
            continue;
        }
        out.append(name, value)?;
    }
    Ok(out)
}

/// A success (or redirect) answer: status and headers copied, body stream passed on untouched.
/// An event stream (`watch_as` names its request) is watched as it passes ([`crate::watch`]).
///
/// The headers are copied by the runtime in one call and the hop-by-hop ones deleted, rather than
/// read into Rust and written back one by one (same result as [`copied_headers`] with
/// `keep_length`, fewer crossings of the JS boundary).
fn pass_through(resp: web_sys::Response, watch_as: Option<&str>) -> Result<Response> {
    let headers = Headers(web_sys::Headers::new_with_headers(&resp.headers())?);
    let names = header_names(&headers.0);
    let encoded = names.split(',').any(|name| name == "content-encoding");
    for name in names.split(',').filter(|name| !name.is_empty()) {
        if !route::forwardable_response_header(name) || (encoded && name == "content-length") {
            headers.delete(name)?;
        }
    }
    let builder = ResponseBuilder::new()
        .with_status(resp.status())
        .with_headers(headers);
    Ok(match (resp.body(), watch_as) {
        (Some(stream), Some(id)) => {
            builder.from_stream(crate::watch::watched(stream, id.to_owned()))?
        }
        (Some(stream), None) => builder.stream(stream),
        (None, _) => builder.empty(),
    })
}

/// Reads an error response's body (small, by nature); an unreadable body reads as empty.
async fn read_body(resp: &web_sys::Response) -> Vec<u8> {
    let Ok(promise) = resp.array_buffer() else {
        return Vec::new();
    };
    match JsFuture::from(promise).await {
        Ok(buffer) => js_sys::Uint8Array::new(&buffer).to_vec(),
        Err(_) => Vec::new(),
    }
}

/// An upstream error: same status, same body bytes, headers plus Airlock's labels.
fn labelled_error(
    status: u16,
    headers: &[(String, String)],
    body: Vec<u8>,
    added: &[(&'static str, String)],
) -> Result<Response> {
    let out = copied_headers(headers, false)?;
    for (name, value) in added {
        out.set(name, value)?;
    }
    Ok(ResponseBuilder::new()
        .with_status(status)
        .with_headers(out)
        .fixed(body))
}
