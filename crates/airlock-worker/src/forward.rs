//! Forwarding: keys, the rules' check, the upstream call (timeout, optional edge retries), and the
//! way back (success streamed unbuffered; errors labelled with the rules' diagnosis).

use airlock_rules::retry::{self, Budget, Step};
use airlock_rules::{Category, NoResponse, diagnose_no_response, diagnose_response};
use wasm_bindgen::JsValue;
use worker::{Headers, Method, Response, ResponseBuilder, Result};

use crate::log::LogLine;
use crate::mask::Masker;
use crate::route::{self, Route};
use crate::settings::Settings;
use crate::{body, errors, gateway, method_has_body, pacer, reject, upload};

/// The request body as it will be sent upstream.
enum Body {
    /// No body (GET, HEAD, or empty).
    None,
    /// Read whole (and checked): replayable, sent byte-identical. Held as the runtime's bytes,
    /// copied out of wasm memory once, so a retry costs no second copy and the wasm heap does not
    /// keep a large body while it travels.
    Bytes(js_sys::Uint8Array),
    /// Passed through as a stream (multipart, other types, too large to check): not replayable.
    Stream(web_sys::ReadableStream),
}

/// Why no response came back.
#[derive(Clone, Copy)]
enum Failure {
    Timeout,
    Connection,
    /// The upstream answered with a status outside 200–599.
    BadStatus(u16),
}

/// Forwards `req` to the configured upstream, checking `/v1/*` JSON bodies first.
pub async fn proxy(
    req: web_sys::Request,
    method: &Method,
    url: &url::Url,
    route: Route,
    settings: &Settings,
    line: &mut LogLine,
) -> Result<Response> {
    let (mut headers, content_length) = forwardable_request_headers(&req.headers());

    // Keys: in gateway mode the client's token is checked and replaced by the real key.
    let presented = gateway::bearer(header(&headers, "authorization")).map(str::to_owned);
    let secret = settings.fingerprint_secret.as_ref().map(|s| s.0.as_str());
    line.key_fingerprint = presented
        .as_deref()
        .map(|key| airlock_rules::redact::fingerprint_keyed(key, secret));
    if let Some(gw) = &settings.gateway {
        if !gateway::token_accepted(presented.as_deref(), &gw.tokens) {
            return reject(&errors::gateway_token(presented.is_some()), line);
        }
        set_header(&mut headers, "authorization", format!("Bearer {}", gw.key));
    }
    // Simulate mode: after the gateway check, so in gateway mode only a valid token gets here.
    if settings.simulate && route == Route::Api {
        if let Some(answer) = crate::simulate::intercept(&mut headers, url, settings, line).await {
            return answer;
        }
    }
    // In gateway mode the operator's key speaks for the operator's organization and project
    // only: a client's own `OpenAI-Organization` / `OpenAI-Project` never travel with it.
    operator_headers(&mut headers, settings);

    // Body: a `/v1/*` body that may be JSON is read up to the cap, whatever its framing
    // (content-length or chunked) and content type, and checked; everything else streams through.
    let mut uploading: Option<upload::Upload> = None;
    // What the request asked the answer to follow (issue 17; checked in report mode, output.rs).
    let mut expect = None;
    // Pacing (issue 15): the pacer's admission of this request, when it is paced.
    let mut ticket: Option<pacer::Ticket> = None;
    let content_length = content_length.and_then(|v| v.trim().parse::<u64>().ok());
    let content_type = header(&headers, "content-type");
    let json = route::is_json_content_type(content_type);
    let body = if !method_has_body(method) {
        Body::None
    } else if let Some(boundary) = batch_upload(method, url, &headers) {
        // A possible Batch input file: linted ahead of forwarding, streamed; see upload.rs.
        line.checked = true;
        let client = worker::Request::from(<web_sys::Request as Clone>::clone(&req)).stream()?;
        let id = &line.request_id;
        match upload::lint_ahead(client, &boundary, content_length, settings, id).await {
            upload::Ahead::Whole(bytes) => Body::Bytes(js_bytes(&bytes)),
            upload::Ahead::Streaming(up) => Body::Stream(uploading.insert(up).body.clone()),
            upload::Ahead::Stopped(why) => return stopped(why, line),
        }
    } else if route == Route::Api
        && route::may_hold_json(content_type)
        && content_length.is_none_or(|n| n <= settings.max_check_bytes)
    {
        let cap = usize::try_from(settings.max_check_bytes).unwrap_or(usize::MAX);
        let read = match req.body() {
            Some(stream) => {
                body::read_request(&req, &stream, cap, content_length, json, |b| {
                    !json && !route::may_be_json_text(b)
                })
                .await
            }
            None => None,
        };
        match read {
            None => Body::None,
            Some(body::RequestBody { prefix, runtime }) => {
                match prefix.end {
                    body::PrefixEnd::Complete => {
                        let bytes = prefix.bytes;
                        if json || route::may_be_json_text(&bytes) {
                            let mut tree = None;
                            if let Some(rejection) =
                                check(url.path(), &bytes, json, settings, line, &mut tree)
                            {
                                return rejection;
                            }
                            if settings.output_check {
                                expect = expectation(url.path(), &bytes, tree.take());
                            }
                        }
                        if let Some(pace) = &settings.pacing {
                            let signal = Some(req.signal());
                            match pacer::turn(
                                asking(&headers, settings, &bytes, signal),
                                pace,
                                line,
                            )
                            .await
                            {
                                pacer::Turn::Go(t) => ticket = Some(t),
                                pacer::Turn::Refused(response) => return response,
                                pacer::Turn::Unpaced => {}
                            }
                        }
                        Body::Bytes(runtime.unwrap_or_else(|| js_bytes(&bytes)))
                    }
                    // Over the cap (chunked, so no length said so) or not JSON: sent on as read.
                    body::PrefixEnd::More(rest) => {
                        if json {
                            line.partial = Some("max_check_bytes");
                        }
                        let options = body::RelayOptions {
                            request_id: line.request_id.clone(),
                            direction: body::Direction::Request,
                            idle_ms: settings.idle_timeout_ms,
                            masker: None,
                        };
                        Body::Stream(body::readable(body::relay(
                            prefix.bytes,
                            Some(rest),
                            options,
                        ))?)
                    }
                    body::PrefixEnd::Stalled(_) | body::PrefixEnd::Failed => {
                        return reject(&errors::unreadable_body(), line);
                    }
                }
            }
        }
    } else {
        if route == Route::Api && json {
            line.partial = Some("max_check_bytes");
        }
        match req.body() {
            Some(stream) => Body::Stream(stream),
            None => Body::None,
        }
    };

    let target = route::upstream_url(&settings.upstream, url.path(), url.query());
    let method = method.to_string();
    let host = settings.upstream.host_str().unwrap_or("").to_owned();
    let started = js_sys::Date::now();
    let mut body = Some(body);
    loop {
        line.attempts += 1;
        // Issue 16: whose status the client gets (set again below when the upstream answers).
        line.upstream_answered = false;
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
        let retries_made = line.attempts - 1;
        let budget = |elapsed: f64| {
            Budget::new(retries_made, max_retries)
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
                line.upstream_answered = true;
                let resp_headers = resp.headers();
                pacer::observe_success(ticket.as_ref(), &resp_headers);
                line.upstream_request_id = resp_headers.get("x-request-id").ok().flatten();
                line.stream = crate::watch::is_event_stream(
                    resp_headers.get("content-type").ok().flatten().as_deref(),
                );
                return crate::output::answer(resp, line, settings, expect).await;
            }
            Ok(resp) => {
                line.upstream_answered = true;
                line.upstream_request_id = resp.headers().get("x-request-id").ok().flatten();
                let status = resp.status();
                let resp_headers = entries(&resp.headers());
                // Only a bounded prefix is read to diagnose, within a deadline; the rest (an
                // error body is small by nature) is passed on as a stream.
                let prefix = match resp.body().as_ref().and_then(body::Reader::new) {
                    Some(reader) => {
                        body::read_prefix(
                            reader,
                            body::MAX_ERROR_BODY_BYTES,
                            None,
                            Some(settings.body_timeout_ms),
                            |_| false,
                        )
                        .await
                    }
                    None => body::Prefix {
                        bytes: Vec::new(),
                        end: body::PrefixEnd::Complete,
                    },
                };
                let masker = gateway_masker(settings);
                let raw = prefix.bytes;
                let bytes = match &masker {
                    Some(m) => m.mask_all(&raw),
                    None => raw.clone(),
                };
                let refs: Vec<(&str, &str)> = resp_headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let d = diagnose_response(status, &refs, &bytes);
                pacer::observe_error(ticket.as_ref(), &d, &refs);
                line.category = Some(d.category.as_str().to_owned());
                line.retry = Some(d.retry.decision.as_str());
                let added = route::error_headers(&d, &resp_headers);
                let rest = match prefix.end {
                    body::PrefixEnd::Complete => None,
                    body::PrefixEnd::More(reader) => Some(reader),
                    body::PrefixEnd::Stalled(reader) => {
                        reader.cancel();
                        line.upstream_body = Some("stalled");
                        return reject(
                            &errors::error_body_lost(status, &d, settings.body_timeout_ms, true),
                            line,
                        );
                    }
                    body::PrefixEnd::Failed => {
                        line.upstream_body = Some("cut");
                        return reject(
                            &errors::error_body_lost(status, &d, settings.body_timeout_ms, false),
                            line,
                        );
                    }
                };
                if max_retries > 0 && d.category != Category::Quota && rest.is_none() {
                    let mut seen = resp_headers.clone();
                    seen.extend(added.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
                    let elapsed = js_sys::Date::now() - started;
                    let step = retry::next_step(&d, seen, &budget(elapsed), js_sys::Math::random());
                    if let Step::RetryAfter { ms, .. } = step {
                        body::delay(ms).await;
                        continue;
                    }
                }
                // Streamed on, the raw prefix goes through the same masker as the rest, so a
                // secret split where the prefix ends is still masked.
                let sent = match rest {
                    None => ErrorBody::Whole(bytes),
                    Some(reader) => ErrorBody::Relayed(raw, reader),
                };
                return error_answer(status, &resp_headers, &added, sent, line, settings, masker);
            }
            Err(failure) => {
                let kind = match failure {
                    Failure::Timeout => NoResponse::Timeout,
                    Failure::Connection | Failure::BadStatus(_) => NoResponse::Connection,
                };
                if let Failure::BadStatus(status) = failure {
                    line.upstream_status = Some(status);
                }
                if max_retries > 0 {
                    let d = diagnose_no_response(kind);
                    let elapsed = js_sys::Date::now() - started;
                    let none: [(&str, &str); 0] = [];
                    let step = retry::next_step(&d, none, &budget(elapsed), js_sys::Math::random());
                    if let Step::RetryAfter { ms, .. } = step {
                        body::delay(ms).await;
                        continue;
                    }
                }
                return match failure {
                    Failure::BadStatus(status) => {
                        reject(&errors::invalid_status(status, &host), line)
                    }
                    _ => reject(&errors::no_response(kind, &host, settings.timeout_ms), line),
                };
            }
        }
    }
}

/// In gateway mode the operator's key speaks for the operator's organization and project only:
/// a client's own `OpenAI-Organization` / `OpenAI-Project` never travel with it; otherwise the
/// configured ones are added where the client sent none.
pub(crate) fn operator_headers(headers: &mut Vec<(String, String)>, settings: &Settings) {
    let operator_owned = settings.gateway.is_some();
    for (name, value) in [
        ("openai-organization", &settings.organization),
        ("openai-project", &settings.project),
    ] {
        match value {
            Some(value) if operator_owned || header(headers, name).is_none() => {
                set_header(headers, name, value.clone());
            }
            None if operator_owned => headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name)),
            _ => {}
        }
    }
}

/// What the pacer needs from a checked request: the key and headers as they go upstream.
fn asking<'a>(
    headers: &'a [(String, String)],
    settings: &'a Settings,
    body: &'a [u8],
    signal: Option<web_sys::AbortSignal>,
) -> pacer::Asking<'a> {
    pacer::Asking {
        key: gateway::bearer(header(headers, "authorization")).unwrap_or(""),
        secret: settings.fingerprint_secret.as_ref().map(|s| s.0.as_str()),
        organization: header(headers, "openai-organization"),
        project: header(headers, "openai-project"),
        priority: header(headers, "x-airlock-priority"),
        body,
        signal,
    }
}

/// `bytes` copied into the runtime's memory.
fn js_bytes(bytes: &[u8]) -> js_sys::Uint8Array {
    js_sys::Uint8Array::from(bytes)
}

/// The multipart boundary when `req` is a `POST /v1/files` upload (a possible Batch input file).
fn batch_upload(method: &Method, url: &url::Url, headers: &[(String, String)]) -> Option<String> {
    if *method != Method::Post || url.path() != "/v1/files" {
        return None;
    }
    upload::boundary(header(headers, "content-type"))
}

/// Checks a request body that was read whole; `Some` is the rejection to answer with. A body
/// whose content type does not say JSON is checked only when it parses as JSON: a body OpenAI
/// would not read as JSON is not ours to reject as malformed.
pub(crate) fn check(
    path: &str,
    bytes: &[u8],
    json: bool,
    settings: &Settings,
    line: &mut LogLine,
    tree: &mut Option<Kept>,
) -> Option<Result<Response>> {
    let (verdict, parsed, handed) = crate::output::check_request(path, bytes, &settings.rules);
    *tree = parsed.map(|t| (t, handed));
    if !json && verdict.errors.iter().any(|f| f.rule == "invalid_json") {
        return None;
    }
    line.checked = true;
    line.partial = verdict.partial().map(|b| b.name);
    line.warnings = crate::log::warning_names(verdict.warnings.iter().map(|f| f.rule.as_str()));
    line.model = verdict.model.clone();
    line.tokens = verdict
        .tokens
        .as_ref()
        .map(|t| t.input_exact + t.input_estimated);
    line.tokens_counted = verdict.tokens.as_ref().map(|t| t.counted.as_str());
    line.note_prompt(settings, bytes);
    let finding = verdict.errors.first()?;
    Some(reject(&errors::rule_rejection(finding), line))
}

/// What the request's check kept for the answer's: the parsed body, and the validator slots of
/// the schemas it linted (issue 17: the answer's check takes the validators from them instead of
/// looking the schemas up again).
pub(crate) type Kept = (serde_json::Value, airlock_rules::output::Handed);

/// What a checked request asked its answer to follow (issue 17), read from the tree the check
/// parsed (issue 14: a body with tools or a format was parsed a second time for it, and every
/// checked body scanned twice for `json_schema` / `"parameters"`); the schemas are moved out of
/// the tree, which the check no longer needs, not copied (issue 17). A body the check did not
/// parse (over a JSON bound) is read from its bytes as before. Bounded as `output::expectation` is.
pub(crate) fn expectation(
    path: &str,
    bytes: &[u8],
    tree: Option<Kept>,
) -> Option<airlock_rules::output::Expectation> {
    match tree {
        Some(_) if bytes.len() > airlock_rules::output::MAX_REQUEST_BYTES => None,
        Some((tree, handed)) => {
            airlock_rules::output::Expectation::from_request_handed(path, tree, handed)
        }
        None => crate::output::expectation(path, bytes),
    }
}

/// Gateway mode: a masker for the operator's key and gateway tokens, applied to everything the
/// upstream sends back on an error (an upstream may echo the `Authorization` header).
fn gateway_masker(settings: &Settings) -> Option<Masker> {
    let gw = settings.gateway.as_ref()?;
    Masker::new(core::iter::once(gw.key.as_str()).chain(gw.tokens.iter().map(String::as_str)))
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

pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
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
/// hold a comma. One crossing of the JS boundary however many headers there are
/// ([`crate::plumbing::header_names`]).
fn header_names(headers: &web_sys::Headers) -> String {
    crate::plumbing::header_names(headers)
}

/// The request headers that travel upstream ([`route::forwardable_request_header`]), as
/// `entries()` lists them, read in one crossing ([`crate::plumbing::header_pairs`]), and the
/// request's `content-length` as `get` gives it (from the same read: it does not travel). (A name
/// the runtime lists twice, only ever `set-cookie`, is read once, its values joined as `get`
/// joins them.)
fn forwardable_request_headers(
    headers: &web_sys::Headers,
) -> (Vec<(String, String)>, Option<String>) {
    forwardable_from_pairs(&crate::plumbing::header_pairs(headers))
}

/// [`forwardable_request_headers`] from the headers already read as one
/// [`crate::plumbing::header_pairs`] string (the JS entry reads them itself; `entry.rs`).
pub(crate) fn forwardable_from_pairs(pairs: &str) -> (Vec<(String, String)>, Option<String>) {
    let find = |wanted: &str| {
        crate::plumbing::split_pairs(pairs)
            .find(|(name, _)| *name == wanted)
            .map(|(_, value)| value)
    };
    let listed = route::connection_listed(find("connection"));
    let content_length = find("content-length").map(str::to_owned);
    let forwarded = crate::plumbing::split_pairs(pairs)
        .filter(|(name, _)| {
            route::forwardable_request_header(name) && !listed.iter().any(|l| l.as_str() == *name)
        })
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    (forwarded, content_length)
}

pub(crate) fn entries(headers: &web_sys::Headers) -> Vec<(String, String)> {
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
        Body::Bytes(bytes) => init.set_body(bytes),
        Body::Stream(stream) => init.set_body(stream),
    }
    let controller = match controller {
        Some(c) => c,
        None => web_sys::AbortController::new().map_err(|_| Failure::Connection)?,
    };
    init.set_signal(Some(&controller.signal()));
    match crate::plumbing::fetch_within(target.as_str(), &init, timeout_ms, &controller).await {
        crate::plumbing::Fetched::Answer(resp) => {
            // A status that is not a final answer (a stray `100 Continue`) or not HTTP at all:
            // no response a client can be given, so the same as none.
            if route::final_status(resp.status()) {
                Ok(resp)
            } else {
                controller
                    .abort_with_reason(&JsValue::from_str("airlock: invalid upstream status"));
                Err(Failure::BadStatus(resp.status()))
            }
        }
        crate::plumbing::Fetched::Failed => Err(Failure::Connection),
        crate::plumbing::Fetched::Timeout => Err(Failure::Timeout),
    }
}

/// Copies the response headers a client should see ([`route::forwardable_response_header`],
/// less the ones the upstream's `Connection` header names); `content-length` only when the body
/// is sent as it came (the runtime may have decoded a compressed body). In gateway mode a header
/// value that holds the operator's key or a gateway token is masked.
pub(crate) fn copied_headers(
    headers: &[(String, String)],
    keep_length: bool,
    masker: Option<&Masker>,
) -> Result<Headers> {
    let out = Headers::new();
    let encoded = header(headers, "content-encoding").is_some();
    let listed = route::connection_listed(header(headers, "connection"));
    for (name, value) in headers {
        if !route::forwardable_response_header(name)
            || listed.iter().any(|l| l.eq_ignore_ascii_case(name))
            || (name.eq_ignore_ascii_case("content-length") && (encoded || !keep_length))
        {
            continue;
        }
        match masker.filter(|m| m.found_in(value.as_bytes())) {
            Some(m) => out.append(
                name,
                &String::from_utf8_lossy(&m.mask_all(value.as_bytes())),
            )?,
            None => out.append(name, value)?,
        }
    }
    Ok(out)
}

/// A success (or redirect) answer: status and headers copied, body passed on unbuffered. An
/// event stream is watched as it passes ([`crate::watch`]); any other body goes through the
/// runtime's own pipe, watched only for a cut ([`body::guarded`]). A status that carries no body
/// (204, 205, 304) is answered without one.
///
/// The headers are copied by the runtime in one call and the unwanted ones deleted, rather than
/// read into Rust and written back one by one (same result as [`copied_headers`] with
/// `keep_length`, fewer crossings of the JS boundary). In gateway mode they go through
/// [`copied_headers`], so the operator's secrets are masked.
/// `expect`: what the request asked an event stream's output to follow (checked at its end).
pub(crate) fn pass_through(
    resp: web_sys::Response,
    line: &LogLine,
    settings: &Settings,
    expect: Option<airlock_rules::output::Expectation>,
) -> Result<Response> {
    let headers = success_headers(&resp, settings)?;
    let status = resp.status();
    let builder = ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers);
    let body = resp.body().filter(|_| !route::null_body_status(status));
    Ok(match body {
        Some(stream) if line.stream => builder.from_stream(crate::watch::watched(
            stream,
            line.request_id.clone(),
            settings.idle_timeout_ms,
            expect,
        ))?,
        Some(stream) => match body::guarded(&stream, line.request_id.clone()) {
            Some(piped) => builder.stream(piped),
            None => builder.stream(stream),
        },
        None => builder.empty(),
    })
}

/// The headers [`pass_through`] sends with a success answer (also used by `output.rs` for an
/// answer it read whole).
pub(crate) fn success_headers(resp: &web_sys::Response, settings: &Settings) -> Result<Headers> {
    let masker = gateway_masker(settings);
    Ok(if masker.is_some() {
        copied_headers(&entries(&resp.headers()), true, masker.as_ref())?
    } else {
        let headers = Headers(web_sys::Headers::new_with_headers(&resp.headers())?);
        let names = header_names(&headers.0);
        let connection = if names.split(',').any(|name| name == "connection") {
            headers.get("connection")?
        } else {
            None
        };
        let unwanted = unwanted_headers(&names, connection.as_deref());
        if !unwanted.is_empty() {
            crate::plumbing::delete_headers(&headers.0, &unwanted);
        }
        headers
    })
}

/// An upstream error answer's body as it is sent on: read whole (masked in gateway mode), or a
/// prefix (raw) followed by the unread rest.
pub(crate) enum ErrorBody {
    Whole(Vec<u8>),
    Relayed(Vec<u8>, body::Reader),
}

/// An upstream error answer sent on: its headers (masked in gateway mode) with Airlock's `added`
/// ones, and its body; a relayed one goes through `masker` chunk by chunk.
pub(crate) fn error_answer(
    status: u16,
    resp_headers: &[(String, String)],
    added: &[(&'static str, String)],
    sent: ErrorBody,
    line: &mut LogLine,
    settings: &Settings,
    masker: Option<Masker>,
) -> Result<Response> {
    let out = copied_headers(resp_headers, false, masker.as_ref())?;
    for (name, value) in added {
        out.set(name, value)?;
    }
    let builder = ResponseBuilder::new().with_status(status).with_headers(out);
    Ok(match sent {
        ErrorBody::Whole(bytes) => builder.fixed(bytes),
        ErrorBody::Relayed(first, reader) => {
            line.upstream_body = Some("streamed");
            let options = body::RelayOptions {
                request_id: line.request_id.clone(),
                direction: body::Direction::Response,
                idle_ms: settings.idle_timeout_ms,
                masker,
            };
            builder.from_stream(body::relay(first, Some(reader), options))?
        }
    })
}

/// Of a success answer's header names (comma-separated, as the runtime lists them) and its
/// `connection` header, the ones not to send on (hop-by-hop, named by `connection`, or a
/// `content-length` beside a `content-encoding`): comma-separated, empty when none.
pub(crate) fn unwanted_headers(names: &str, connection: Option<&str>) -> String {
    let encoded = names.split(',').any(|name| name == "content-encoding");
    let listed = route::connection_listed(connection);
    let mut unwanted = String::new();
    for name in names.split(',').filter(|name| !name.is_empty()) {
        if !route::forwardable_response_header(name)
            || (encoded && name == "content-length")
            || listed.iter().any(|l| l == name)
        {
            if !unwanted.is_empty() {
                unwanted.push(',');
            }
            unwanted.push_str(name);
        }
    }
    unwanted
}
