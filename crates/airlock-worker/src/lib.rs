//! Airlock's edge worker: checks OpenAI API requests with `airlock-rules`, forwards the ones the
//! rules accept to the configured upstream, streams the answers back unbuffered, and labels
//! upstream errors with the rules' diagnosis.
//!
//! The worker is thin: all judgment lives in `airlock-rules`; here are only the fetch event, the
//! routing, and the plumbing (pure parts in [`route`], [`gateway`], [`cors`], [`settings`], tested on
//! the host; the one place error responses are built is [`errors`]).

// No panic path in the worker: a panic aborts the wasm instance and with it every request and
// stream the isolate is serving. (The rules crate, which judges what strangers send, is fuzzed.)
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::string_slice,
        clippy::unreachable,
        clippy::todo
    )
)]

extern crate alloc;

mod body;
mod cors;
mod entry;
mod errors;
mod forward;
mod gateway;
mod log;
mod mask;
mod monitor;
mod output;
mod pacer;
mod plumbing;
mod route;
mod settings;
mod simulate;
mod upload;
mod vocab;
mod watch;

use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;
use worker::{Context, Env, Headers, Method, Response, Result};

use crate::errors::Reject;
use crate::log::LogLine;
use crate::route::Route;
use crate::settings::Settings;

/// The fetch event's export (what workers-rs's `#[event(fetch)]` would generate, less its
/// conversion of the request into a `worker::Request`, which reads `req.cf` and the method, URL
/// and headers across the JS boundary whether or not they are used; issue 14). Errors are
/// answered as the macro answers them.
#[wasm_bindgen(wasm_bindgen_futures = ::worker::wasm_bindgen_futures)]
pub async fn fetch(
    req: web_sys::Request,
    env: Env,
    ctx: worker::worker_sys::Context,
) -> core::result::Result<JsValue, JsValue> {
    let response = match serve(req, env, Context::new(ctx)).await {
        Ok(response) => response,
        Err(e) => {
            worker::console_error!("{e}");
            Response::error("INTERNAL SERVER ERROR", 500)
                .map_err(|e| JsValue::from_str(&e.to_string()))?
        }
    };
    Ok(web_sys::Response::from(response).into())
}

/// The fetch event: one request in, one response out, one log line written.
async fn serve(req: web_sys::Request, env: Env, ctx: Context) -> Result<Response> {
    vocab::install();
    // As workers-rs reads it: a method it does not know is taken for GET.
    let method = Method::from(req.method());
    let url = url::Url::parse(&req.url()).map_err(worker::Error::from);
    let mut line = LogLine::start(&method, url.as_ref().ok().map(url::Url::path));
    let origin = req.headers().get("origin").ok().flatten();
    let parsed = settings::for_env(&env, || {
        Settings::from_lookup(|name| env.var(name).ok().map(|v| v.to_string()))
    });
    let (response, cors_origins) = match (&*parsed, url) {
        (Ok(settings), Ok(url)) if url.path() == monitor::status::PATH => {
            let req = worker::Request::from(req);
            let response = match monitor::status::handle(&req, &env, settings).await {
                Ok(Some(r)) => Ok(r),
                Ok(None) => reject(&monitor::status::unauthorized(), &mut line),
                Err(e) => Err(e),
            };
            (response, settings.cors_origins.as_slice())
        }
        (Ok(settings), Ok(url)) => {
            pacer::bind(&env, settings.pacing.is_some());
            // The same request object: after the answer, its body may be still unread.
            let asked = <web_sys::Request as Clone>::clone(&req);
            let response = handle(req, &method, &url, settings, origin.as_deref(), &mut line).await;
            if !asked.body_used() {
                if let Some(stream) = asked.body() {
                    body::discard(&stream).await;
                }
            }
            (response, settings.cors_origins.as_slice())
        }
        (Ok(settings), Err(e)) => (Err(e), settings.cors_origins.as_slice()),
        (Err(why), _) => (
            reject(&errors::misconfigured(why.clone()), &mut line),
            &[][..],
        ),
    };
    let mut response = match response {
        // Containment: a response the runtime would refuse to build (a status outside 200–599)
        // must never leave the worker; it would abort the whole isolate.
        Ok(r) if !route::final_status(r.status_code()) => {
            worker::console_error!("airlock: refused to send status {}", r.status_code());
            reject(&errors::internal(), &mut line)?
        }
        Ok(r) => r,
        Err(e) => {
            worker::console_error!("airlock: {e}");
            reject(&errors::internal(), &mut line)?
        }
    };
    let headers = response.headers_mut();
    headers.set("x-airlock-request-id", &line.request_id)?;
    pacer::finish(&ctx, &line.request_id, headers);
    if let Some(bound) = line.partial {
        headers.set("x-airlock-checked", &format!("partial; bound={bound}"))?;
    }
    if let Some(names) = log::warnings_header(&line.warnings) {
        headers.set("x-airlock-warnings", &names)?;
    }
    if let Some(origin) = origin.filter(|o| cors::allowed(Some(o), cors_origins)) {
        for (name, value) in cors::response_headers(&origin) {
            headers.set(name, &value)?;
        }
        let vary = headers.get("vary")?;
        headers.set("vary", &cors::vary_with_origin(vary.as_deref()))?;
    }
    line.finish(response.status_code());
    monitor::report(&env, &ctx, &line);
    Ok(response)
}

/// Routes one request to its handler.
async fn handle(
    req: web_sys::Request,
    method: &Method,
    url: &url::Url,
    settings: &Settings,
    origin: Option<&str>,
    line: &mut LogLine,
) -> Result<Response> {
    let preflight = origin.is_some()
        && req.headers().has("access-control-request-method")?
        && cors::allowed(origin, &settings.cors_origins);
    match route::route(method.as_ref(), url.path(), preflight) {
        Route::Health => health(),
        Route::Preflight => preflight_answer(&req, origin.unwrap_or("")),
        route @ (Route::Api | Route::PassThrough) => {
            forward::proxy(req, method, url, route, settings, line).await
        }
    }
}

/// This isolate's random ID, drawn on first use: it lives in the wasm instance's memory, so a new
/// ID means a new isolate or a re-instantiated module (the soak watches it to count restarts).
static ISOLATE_ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// `GET /healthz`: the worker's version, the rules' data version, and the isolate's ID (also in
/// `x-airlock-isolate`).
fn health() -> Result<Response> {
    let isolate = ISOLATE_ID.get_or_init(|| {
        (0..2)
            .map(|_| {
                format!(
                    "{:08x}",
                    (js_sys::Math::random() * f64::from(u32::MAX)) as u32
                )
            })
            .collect()
    });
    let mut response = Response::from_json(&serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "rules_data_version": airlock_rules::DATA_VERSION,
        "isolate": isolate,
    }))?;
    response.headers_mut().set("x-airlock-isolate", isolate)?;
    Ok(response)
}

/// A CORS preflight from an allowed origin, answered without calling the upstream.
fn preflight_answer(req: &web_sys::Request, origin: &str) -> Result<Response> {
    let asked = req.headers().get("access-control-request-headers")?;
    let headers = Headers::new();
    for (name, value) in cors::preflight_headers(origin, asked.as_deref()) {
        headers.set(name, &value)?;
    }
    Ok(Response::builder()
        .with_status(204)
        .with_headers(headers)
        .empty())
}

/// Answers with one of the worker's own errors and notes it in the log line.
fn reject(reject: &Reject<'_>, line: &mut LogLine) -> Result<Response> {
    line.category = Some(reject.category.to_owned());
    line.retry = Some(reject.retry.as_str());
    line.rule = reject.rule.map(str::to_owned);
    line.upstream_answered = false;
    errors::response(reject, &line.request_id)
}

/// Reads a method name the way the router does.
fn method_has_body(method: &Method) -> bool {
    !matches!(method, Method::Get | Method::Head)
}
