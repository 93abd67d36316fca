//! The Monitor: per-minute counts of what the worker saw, alerts on patterns, and the status view.
//!
//! - [`report`] (each request, after its log line): sums the request into this isolate's
//!   [`batch::Pending`] counts and, when no flush is under way, starts one with `ctx.wait_until`,
//!   so the response is never delayed. A flush waits `MONITOR_FLUSH_MS` first, so the requests of
//!   that span travel in one call to the Durable Object.
//! - [`object::Monitor`]: the Durable Object (one per deployment, `MONITOR` binding), keeping 24 h
//!   of counts in its SQLite storage and judging each category's alert rule
//!   (`airlock_rules::alert`) as counts arrive.
//! - [`status`]: `GET /airlock/status`, for a gateway token or `ADMIN_TOKEN` only.
//! - Where the optional `ANALYTICS` binding (Workers Analytics Engine) is present, one data point
//!   per request too.

pub mod batch;
pub mod object;
pub mod payload;
pub mod status;
pub mod stream;

use alloc::collections::BTreeMap;
use core::cell::{Cell, RefCell};

use wasm_bindgen::{JsCast, JsValue};
use worker::worker_sys::Context as JsContext;
use worker::{AnalyticsEngineDataPointBuilder, Context, Env};

use crate::log::LogLine;

/// The Monitor's binding name.
pub const BINDING: &str = "MONITOR";
/// The Analytics Engine dataset's binding name.
pub const ANALYTICS: &str = "ANALYTICS";
/// The one Monitor of a deployment.
pub const OBJECT_NAME: &str = "airlock";
/// A flush that started this long ago is taken for lost, in milliseconds.
const STALE_FLUSH_MS: f64 = 25_000.0;
/// Default wait before a flush, in milliseconds (`MONITOR_FLUSH_MS`).
pub const DEFAULT_FLUSH_MS: u64 = 1000;
/// At most this many streams of one isolate are awaited for their outcome; the ends of more
/// (open at once) are only logged (`stream_end`), not counted.
pub const MAX_OPEN_STREAMS: usize = 4096;

thread_local! {
    static PENDING: RefCell<batch::Pending> = RefCell::new(batch::Pending::default());
    /// When the flush under way started (ms since the epoch; 0: none). One older than
    /// [`STALE_FLUSH_MS`] is taken for lost (the runtime cancels `wait_until` work after 30 s).
    static FLUSHING: Cell<f64> = const { Cell::new(0.0) };
    /// The `env` last seen and whether it has the bindings (read once per `env` object).
    static BOUND: RefCell<Option<(JsValue, Bindings)>> = const { RefCell::new(None) };
    /// The watched streams of this isolate, by request ID: opened by the watcher
    /// ([`stream_opened`]), given what counting needs by [`report`] (the request's own line),
    /// taken at the stream's end ([`stream_ended`]; the watcher always ends, if only by drop).
    static OPEN_STREAMS: RefCell<BTreeMap<String, Option<OpenStream>>> = const { RefCell::new(BTreeMap::new()) };
}

/// What a stream's end needs to be counted: the request's `env`, its execution context (for
/// `waitUntil`), and the fields of its log line.
struct OpenStream {
    env: Env,
    ctx: JsContext,
    flush_ms: u64,
    request_minute: u64,
    model: Option<String>,
    upstream_request_id: Option<String>,
}

#[derive(Clone)]
struct Bindings {
    monitor: bool,
    analytics: Option<worker::AnalyticsEngineDataset>,
    flush_ms: u64,
}

fn bindings(env: &Env) -> Bindings {
    let js: &JsValue = env.as_ref();
    let hit = BOUND.with_borrow(|b| {
        b.as_ref()
            .filter(|(seen, _)| js_sys::Object::is(seen, js))
            .map(|(_, b)| b.clone())
    });
    if let Some(b) = hit {
        return b;
    }
    let has = |name: &str| {
        js_sys::Reflect::get(js, &JsValue::from_str(name)).is_ok_and(|v| !v.is_undefined())
    };
    let b = Bindings {
        monitor: has(BINDING),
        analytics: if has(ANALYTICS) {
            env.analytics_engine(ANALYTICS).ok()
        } else {
            None
        },
        flush_ms: env
            .var("MONITOR_FLUSH_MS")
            .ok()
            .and_then(|v| v.to_string().trim().parse().ok())
            .unwrap_or(DEFAULT_FLUSH_MS)
            .min(10_000),
    };
    BOUND.with_borrow_mut(|slot| *slot = Some((js.clone(), b.clone())));
    b
}

/// Minutes since the Unix epoch, now.
pub fn now_minute() -> u64 {
    (js_sys::Date::now() / 60_000.0) as u64
}

/// Counts one finished request (its log line is written) without delaying its response.
pub fn report(env: &Env, ctx: &Context, line: &LogLine) {
    if line.path == "/healthz" || line.path.starts_with("/airlock/") {
        return;
    }
    let b = bindings(env);
    if let Some(dataset) = &b.analytics {
        write_data_point(dataset, line);
    }
    if !b.monitor {
        return;
    }
    let minute = now_minute();
    PENDING.with_borrow_mut(|p| {
        p.add(&batch::Event {
            minute,
            category: line.category.as_deref(),
            rule: line.rule.as_deref(),
            model: line.model.as_deref(),
            status: line.status,
            request_id: &line.request_id,
            upstream_request_id: line.upstream_request_id.as_deref(),
            simulated: line.simulated,
            upstream_answered: line.upstream_answered,
        });
    });
    if line.stream {
        OPEN_STREAMS.with_borrow_mut(|open| {
            if let Some(slot) = open.get_mut(&line.request_id) {
                *slot = Some(OpenStream {
                    env: env.clone(),
                    ctx: AsRef::<JsValue>::as_ref(ctx.as_ref())
                        .clone()
                        .unchecked_into(),
                    flush_ms: b.flush_ms,
                    request_minute: minute,
                    model: line.model.clone(),
                    upstream_request_id: line.upstream_request_id.clone(),
                });
            }
        });
    }
    schedule_flush(env, ctx.as_ref(), b.flush_ms);
}

/// A watcher started on the stream of `request_id` (`watch.rs`): its end will be counted once
/// [`report`] has seen the request (false: too many open streams; it will not be).
pub fn stream_opened(request_id: &str) -> bool {
    OPEN_STREAMS.with_borrow_mut(|open| {
        if open.len() >= MAX_OPEN_STREAMS {
            return false;
        }
        open.insert(request_id.to_owned(), None);
        true
    })
}

/// The stream of `request_id` ended: counts its outcome (`stream.rs`) and starts a flush if none
/// is under way. Nothing when the Monitor is not bound or the stream was not opened.
pub fn stream_ended(request_id: &str, ended: &stream::Ended<'_>) {
    let Some(Some(open)) = OPEN_STREAMS.with_borrow_mut(|o| o.remove(request_id)) else {
        return;
    };
    let outcome = stream::outcome(ended);
    PENDING.with_borrow_mut(|p| {
        p.add_stream(&batch::StreamEvent {
            minute: now_minute(),
            request_minute: open.request_minute,
            outcome,
            model: open.model.as_deref(),
            request_id,
            upstream_request_id: open.upstream_request_id.as_deref(),
        });
    });
    schedule_flush(&open.env, &open.ctx, open.flush_ms);
}

/// Starts a flush through `waitUntil` unless one is under way: it waits `flush_ms`, then sends
/// everything pending, until nothing is.
fn schedule_flush(env: &Env, ctx: &JsContext, flush_ms: u64) {
    let now = js_sys::Date::now();
    if now - FLUSHING.get() < STALE_FLUSH_MS {
        return;
    }
    FLUSHING.set(now);
    let env = env.clone();
    let flush = async move {
        crate::body::delay(flush_ms).await;
        loop {
            let batch = PENDING.with_borrow_mut(batch::Pending::take);
            if batch.counts.is_empty() {
                break;
            }
            if let Err(e) = send(&env, &batch).await {
                worker::console_error!(
                    "airlock: monitor report failed ({} counts dropped): {e}",
                    batch.counts.len()
                );
            }
        }
        FLUSHING.set(0.0);
        Ok::<JsValue, JsValue>(JsValue::UNDEFINED)
    };
    // `Context::wait_until` would panic if the runtime refused (the event over); this cannot.
    let promise = js_sys::futures::future_to_promise(flush);
    if let Err(e) = ctx.wait_until(&promise) {
        FLUSHING.set(0.0);
        worker::console_error!("airlock: monitor flush not scheduled: {e:?}");
    }
}

/// Flushes what this isolate holds now (the status view does, so it shows its own last requests).
pub async fn flush_now(env: &Env) {
    let batch = PENDING.with_borrow_mut(batch::Pending::take);
    if !batch.counts.is_empty() {
        if let Err(e) = send(env, &batch).await {
            worker::console_error!("airlock: monitor report failed: {e}");
        }
    }
}

/// The Monitor's stub.
pub fn stub(env: &Env) -> worker::Result<worker::Stub> {
    env.durable_object(BINDING)?.get_by_name(OBJECT_NAME)
}

async fn send(env: &Env, batch: &batch::Batch) -> worker::Result<()> {
    let body = serde_json::to_string(batch)?;
    let init = worker::RequestInit {
        method: worker::Method::Post,
        body: Some(JsValue::from_str(&body)),
        ..worker::RequestInit::default()
    };
    let req = worker::Request::new_with_init("https://monitor/report", &init)?;
    let resp = stub(env)?.fetch_with_request(req).await?;
    if resp.status_code() >= 300 {
        return Err(worker::Error::RustError(format!(
            "monitor answered {}",
            resp.status_code()
        )));
    }
    Ok(())
}

/// One Analytics Engine data point: index the category; blobs category, model, path, rule,
/// request ID, `simulated` (or empty); doubles status, latency (ms), input tokens.
fn write_data_point(dataset: &worker::AnalyticsEngineDataset, line: &LogLine) {
    let category = line.category.as_deref().unwrap_or(batch::OK);
    let point = AnalyticsEngineDataPointBuilder::new()
        .indexes([category])
        .add_blob(category)
        .add_blob(line.model.as_deref().unwrap_or(""))
        .add_blob(line.path.as_str())
        .add_blob(line.rule.as_deref().unwrap_or(""))
        .add_blob(line.request_id.as_str())
        .add_blob(if line.simulated { "simulated" } else { "" })
        .add_double(f64::from(line.status))
        .add_double(line.latency_ms)
        .add_double(line.tokens.unwrap_or(0) as f64)
        .build();
    if let Err(e) = dataset.write_data_point(&point) {
        worker::console_error!("airlock: analytics data point failed: {e}");
    }
}
