//! Pacing (issue 15): with `PACING = "on"`, each `/v1/*` JSON request with a model asks its
//! lane's pacer (a Durable Object, [`object::Pacer`]) for its turn before it is forwarded, and the
//! upstream's answer is reported back so the pacer learns the limits. The judgment (lane, cost,
//! admission) is the rules crate's `pace`; this module is the worker's side of the protocol:
//!
//! - [`settings`]: the `PACING` and `PACE_*` vars;
//! - [`bind`] / [`finish`]: the two hooks in the fetch event (the namespace binding, and the
//!   report handed to `waitUntil` so it never delays the response);
//! - [`turn`]: admit, wait for the reserved slot, claim; or answer 429 at once;
//! - [`observe_success`] / [`observe_error`]: what the upstream's answer taught.
//!
//! Failure of the pacer itself never blocks traffic: a call that fails lets the request go
//! unpaced (and is logged).

pub mod object;

use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;

use airlock_rules::pace::{
    self, Decision, Family, Lease, LeaseAnswers, Observation, PaceSettings, Priority,
};
use airlock_rules::{Category, Diagnosis, RetryDecision};
use worker::{Context, Env, Headers, Method, ObjectNamespace, Request, RequestInit, Response};

use crate::errors::{self, ApiError, Reject};
use crate::log::LogLine;

/// The binding's name in `wrangler.toml`.
pub const BINDING: &str = "PACER";
/// Most pacer calls one request makes (admit, claims and background re-asks).
pub const MAX_CALLS: u32 = 64;

/// Reads `PACING` (`on` turns it on; anything else, or unset, is off) and the `PACE_*` bounds.
pub fn settings(get: impl Fn(&str) -> Option<String>) -> Option<PaceSettings> {
    let on = get("PACING").is_some_and(|v| v.trim().eq_ignore_ascii_case("on"));
    if !on {
        return None;
    }
    let defaults = PaceSettings::default();
    let number = |name: &str, default: u64| {
        get(name)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(default)
    };
    Some(PaceSettings {
        max_wait_ms: number("PACE_MAX_WAIT_MS", defaults.max_wait_ms),
        max_queue: usize::try_from(number("PACE_MAX_QUEUE", defaults.max_queue as u64))
            .unwrap_or(defaults.max_queue),
        reserve_percent: number("PACE_RESERVE_PERCENT", defaults.reserve_percent).min(100),
    })
}

/// A report waiting to be handed to `waitUntil`.
type Report = Pin<Box<dyn Future<Output = ()>>>;

/// Bound on the lanes whose lease one isolate keeps.
pub const MAX_LEASED_LANES: usize = 64;
/// Longest single sleep while queued: how often a waiting request checks whether its client left.
pub const DISCONNECT_POLL_MS: u64 = 100;

/// On the fast path (room in the lane), one isolate reports a lane's headers at most this often;
/// a 429, little room left, or a request the pacer admitted itself is always reported.
pub const REPORT_EVERY_MS: f64 = 250.0;

#[derive(Default)]
struct Pending {
    /// Names this isolate to the pacers (random, never 0), so each grants it one lease at a time.
    isolate: u64,
    /// Per lane: when this isolate last reported (ms since the epoch).
    reported: Vec<(String, f64)>,
    /// This isolate's leases: lane, what is left, when it expires (ms since the epoch). An
    /// expired or spent lease stays until the next replaces it: its ticket tells the pacer which
    /// lease this isolate is done with.
    leases: Vec<(String, Lease, f64)>,
    /// Per lease lately granted: answers to the requests sent on it (bounded by
    /// [`MAX_LEASE_RECORDS`]; a record dropped only leaves the pacer counting that lease longer).
    lease_answers: Vec<Answered>,
    /// The pacer namespace of this isolate's `env`, when pacing is on.
    namespace: Option<ObjectNamespace>,
    /// Per request ID: how long it waited, and its report.
    requests: Vec<(String, u64, Option<Report>)>,
}

/// Answers to the requests this isolate sent on one lease.
struct Answered {
    lane: String,
    /// Requests the lease granted.
    granted: u64,
    /// Its requests answered so far.
    seen: u64,
    /// Those not yet told to the pacer.
    pending: LeaseAnswers,
}

/// Bound on the leases whose answers one isolate keeps.
pub const MAX_LEASE_RECORDS: usize = 2 * MAX_LEASED_LANES;

thread_local! {
    static PENDING: RefCell<Pending> = RefCell::new(Pending::default());
}

/// Hook at the start of the fetch event: makes the pacer binding reachable when pacing is on.
pub fn bind(env: &Env, on: bool) {
    if !on {
        return;
    }
    PENDING.with_borrow_mut(|p| {
        if p.namespace.is_none() {
            match env.durable_object(BINDING) {
                Ok(ns) => p.namespace = Some(ns),
                Err(e) => worker::console_error!("airlock: PACING is on but {BINDING}: {e}"),
            }
        }
    });
}

/// Hook at the end of the fetch event: hands the request's report to `waitUntil` and notes how
/// long it waited (`x-airlock-queued-ms`).
pub fn finish(ctx: &Context, request_id: &str, headers: &Headers) {
    let found = PENDING.with_borrow_mut(|p| {
        let at = p.requests.iter().position(|(id, _, _)| id == request_id)?;
        Some(p.requests.swap_remove(at))
    });
    if let Some((_, waited, report)) = found {
        if waited > 0 {
            let _ = headers.set("x-airlock-queued-ms", &waited.to_string());
        }
        if let Some(report) = report {
            ctx.wait_until(report);
        }
    }
}

/// A request admitted by its lane's pacer.
pub struct Ticket {
    lane: String,
    ticket: u64,
    /// The lease it was sent on (its ticket; 0 when the pacer admitted it itself).
    lease: u64,
    /// Its cost.
    cost: pace::Cost,
    request_id: String,
    /// When it was admitted, just before it is sent (ms since the epoch): its answer's
    /// `remaining` cannot count anything answered before this (`Observation::sent_at`).
    sent_at: f64,
}

/// The outcome of asking for a turn.
pub enum Turn {
    /// Not paced (pacing off, no key, no model, or the pacer failed).
    Unpaced,
    /// Admitted: send it, then report with the ticket.
    Go(Ticket),
    /// Refused: answer with this 429 at once.
    Refused(worker::Result<Response>),
}

/// What pacing needs from a request: its upstream key and headers, and its checked JSON body.
pub struct Asking<'a> {
    /// The key sent upstream.
    pub key: &'a str,
    /// `FINGERPRINT_SECRET`.
    pub secret: Option<&'a str>,
    /// `OpenAI-Organization` as sent upstream.
    pub organization: Option<&'a str>,
    /// `OpenAI-Project` as sent upstream.
    pub project: Option<&'a str>,
    /// `x-airlock-priority`.
    pub priority: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
    /// The incoming request's signal (`enable_request_signal`): aborted when the client left.
    pub signal: Option<web_sys::AbortSignal>,
}

/// Asks the lane's pacer for this request's turn, waiting in its queue when it says so.
pub async fn turn(asking: Asking<'_>, settings: &PaceSettings, line: &mut LogLine) -> Turn {
    let Some(namespace) = PENDING.with_borrow(|p| p.namespace.clone()) else {
        return Turn::Unpaced;
    };
    let Some(facts) = pace::request_facts(asking.body) else {
        return Turn::Unpaced;
    };
    let Some(model) = facts.model.as_deref() else {
        return Turn::Unpaced;
    };
    let lane = pace::lane_key(
        asking.key,
        asking.secret,
        asking.organization,
        asking.project,
        model,
    );
    let priority = pace::priority(asking.priority);
    let started = js_sys::Date::now();
    // The fast path: room left in this isolate's lease for the lane, no Durable Object call.
    if let Some(lease) = (priority == Priority::Interactive)
        .then(|| spend_lease(&lane, facts.cost, started))
        .flatten()
    {
        return Turn::Go(Ticket {
            lane,
            ticket: 0,
            lease,
            cost: facts.cost,
            request_id: line.request_id.clone(),
            sent_at: started,
        });
    }
    let mut queued = false;
    let (isolate, lease_done) = PENDING.with_borrow_mut(|p| {
        if p.isolate == 0 {
            // 53 random bits; `| 1` keeps it from being 0 (0 means "unknown" to the pacer).
            p.isolate = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64 | 1;
        }
        let done = p
            .leases
            .iter()
            .find(|(l, _, _)| *l == lane)
            .map_or(0, |(_, lease, _)| lease.ticket);
        (p.isolate, done)
    });
    let mut call = object::Call {
        cost: facts.cost,
        priority,
        settings: Some(*settings),
        isolate,
        lease_done,
        lease_answers: take_lease_answers(&lane),
        ..object::Call::default()
    };
    let mut path = "/admit";
    for _ in 0..MAX_CALLS {
        let asked_at = js_sys::Date::now();
        call.waited_ms = (asked_at - started).max(0.0) as u64;
        let asked = ask(&namespace, &lane, path, &call).await;
        // Told once: a later call of this request must not move them again.
        call.lease_answers.clear();
        let decision = match asked {
            Ok(answer) => {
                if let Some(lease) = answer.lease {
                    keep_lease(&lane, lease, asked_at);
                }
                answer.decision
            }
            Err(e) => {
                worker::console_error!("airlock: pacer unreachable, request sent unpaced: {e}");
                return Turn::Unpaced;
            }
        };
        match decision {
            Decision::Go { ticket } => {
                let waited = (js_sys::Date::now() - started).max(0.0) as u64;
                note(
                    &line.request_id,
                    if queued { waited.max(1) } else { 0 },
                    None,
                );
                return Turn::Go(Ticket {
                    lane,
                    ticket,
                    lease: 0,
                    cost: facts.cost,
                    request_id: line.request_id.clone(),
                    sent_at: js_sys::Date::now(),
                });
            }
            Decision::Wait { ticket, wait_ms } => {
                queued = true;
                if !sleep(wait_ms, asking.signal.as_ref()).await {
                    return gone(line);
                }
                call.ticket = ticket;
                path = "/claim";
            }
            Decision::Later { wait_ms } => {
                queued = true;
                if !sleep(wait_ms.max(1), asking.signal.as_ref()).await {
                    return gone(line);
                }
                path = "/admit";
            }
            Decision::Refuse {
                retry_after_ms,
                family,
                queue_full,
            } => {
                let waited = (js_sys::Date::now() - started).max(0.0) as u64;
                note(
                    &line.request_id,
                    if queued { waited.max(1) } else { 0 },
                    None,
                );
                return Turn::Refused(refusal(
                    family,
                    queue_full,
                    retry_after_ms,
                    settings,
                    priority,
                    line,
                ));
            }
        }
    }
    Turn::Unpaced
}

/// Sleeps `ms` in steps of at most [`DISCONNECT_POLL_MS`]; false as soon as the client left (its
/// slot is then never claimed and lapses back to the lane).
async fn sleep(ms: u64, signal: Option<&web_sys::AbortSignal>) -> bool {
    let end = js_sys::Date::now() + ms as f64;
    loop {
        if signal.is_some_and(web_sys::AbortSignal::aborted) {
            return false;
        }
        let left = end - js_sys::Date::now();
        if left <= 0.0 {
            return true;
        }
        crate::body::delay((left as u64).clamp(1, DISCONNECT_POLL_MS)).await;
    }
}

/// The answer for a client that left while queued (nobody reads it; the log line says so).
fn gone(line: &mut LogLine) -> Turn {
    let reject = Reject {
        status: 499,
        error: ApiError {
            message:
                "The client closed the request while it waited in Airlock's queue; it was not sent."
                    .to_owned(),
            error_type: "invalid_request_error",
            param: None,
            code: Some("client_closed_request"),
        },
        category: Category::ClientSide.as_str(),
        retry: RetryDecision::Yes,
        rule: None,
    };
    line.category = Some(reject.category.to_owned());
    line.rule = Some("pacer".to_owned());
    Turn::Refused(errors::response(&reject, &line.request_id))
}

/// Spends `cost` from this isolate's lease for `lane`, when it has one with room: that lease's
/// ticket.
fn spend_lease(lane: &str, cost: pace::Cost, now: f64) -> Option<u64> {
    PENDING.with_borrow_mut(|p| {
        p.leases
            .iter_mut()
            .find(|(l, _, _)| l == lane)
            .filter(|(_, _, until)| *until > now)
            .and_then(|(_, lease, _)| lease.spend(cost).then_some(lease.ticket))
    })
}

/// The lease answers for `lane` not yet told to the pacer, taken (records of leases whose every
/// request has been answered are dropped).
fn take_lease_answers(lane: &str) -> Vec<LeaseAnswers> {
    PENDING.with_borrow_mut(|p| {
        let mut out = Vec::new();
        for a in p.lease_answers.iter_mut().filter(|a| a.lane == lane) {
            if a.pending.count > 0 {
                let lease = a.pending.lease;
                out.push(core::mem::replace(
                    &mut a.pending,
                    LeaseAnswers {
                        lease,
                        ..LeaseAnswers::default()
                    },
                ));
            }
        }
        p.lease_answers
            .retain(|a| a.lane != lane || a.seen < a.granted);
        out
    })
}

/// Keeps a lease the pacer granted (replacing this isolate's earlier one for the lane). It is
/// spent only until `asked_at` (before the pacer's clock read its grant) plus 9/10 of its
/// lifetime, so it always ends here before the pacer stops counting it as owed (the pacer may
/// run on another machine, whose clock may differ by a little).
fn keep_lease(lane: &str, lease: Lease, asked_at: f64) {
    let until = asked_at + lease.ttl_ms.saturating_sub(lease.ttl_ms / 10) as f64;
    PENDING.with_borrow_mut(|p| {
        p.leases.retain(|(l, _, _)| l != lane);
        if p.leases.len() >= MAX_LEASED_LANES {
            p.leases.remove(0);
        }
        p.leases.push((lane.to_owned(), lease, until));
        if p.lease_answers.len() >= MAX_LEASE_RECORDS {
            p.lease_answers.remove(0);
        }
        p.lease_answers.push(Answered {
            lane: lane.to_owned(),
            granted: lease.requests,
            seen: 0,
            pending: LeaseAnswers {
                lease: lease.ticket,
                ..LeaseAnswers::default()
            },
        });
    });
}

fn note(request_id: &str, waited: u64, report: Option<Report>) {
    PENDING.with_borrow_mut(
        |p| match p.requests.iter_mut().find(|(id, _, _)| id == request_id) {
            Some(entry) => {
                if report.is_some() {
                    entry.2 = report;
                }
            }
            None => p.requests.push((request_id.to_owned(), waited, report)),
        },
    );
}

/// One call to the lane's pacer.
async fn ask(
    namespace: &ObjectNamespace,
    lane: &str,
    path: &str,
    call: &object::Call,
) -> worker::Result<object::Answer> {
    let mut response = send(namespace, lane, path, call).await?;
    response.json::<object::Answer>().await
}

async fn send(
    namespace: &ObjectNamespace,
    lane: &str,
    path: &str,
    call: &object::Call,
) -> worker::Result<Response> {
    let stub = namespace.get_by_name(lane)?;
    let body = serde_json::to_string(call).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(wasm_bindgen::JsValue::from_str(&body)));
    let req = Request::new_with_init(&format!("https://pacer{path}"), &init)?;
    stub.fetch_with_request(req).await
}

/// The 429 for a request the pacer cannot serve within the bounds, in OpenAI's shape.
fn refusal(
    family: Family,
    queue_full: bool,
    retry_after_ms: u64,
    settings: &PaceSettings,
    priority: Priority,
    line: &mut LogLine,
) -> worker::Result<Response> {
    let (short, unit) = match family {
        Family::Requests => ("RPM", "requests"),
        Family::Tokens => ("TPM", "tokens"),
    };
    let why = if queue_full {
        format!(
            "Airlock's queue for this key and model is full ({} requests waiting, PACE_MAX_QUEUE)",
            settings.max_queue
        )
    } else {
        format!(
            "Airlock queued this request, but the {unit} limit it learned from OpenAI's \
             rate-limit headers frees no room for it within {} ms (PACE_MAX_WAIT_MS)",
            settings.max_wait_ms
        )
    };
    let background = match priority {
        Priority::Background => {
            " Background requests use only the capacity above the reserve (PACE_RESERVE_PERCENT)."
        }
        Priority::Interactive => "",
    };
    let seconds = retry_after_ms.div_ceil(100) as f64 / 10.0;
    let reject = Reject {
        status: 429,
        error: ApiError {
            message: format!(
                "Rate limit reached on {unit} per min ({short}): {why}; it was not sent. \
                 Please try again in {seconds}s.{background}"
            ),
            error_type: family.as_str(),
            param: None,
            code: Some("rate_limit_exceeded"),
        },
        category: Category::RateLimit.as_str(),
        retry: RetryDecision::Yes,
        rule: None,
    };
    line.category = Some(reject.category.to_owned());
    line.retry = Some(reject.retry.as_str());
    line.rule = Some("pacer".to_owned());
    let mut response = errors::response(&reject, &line.request_id)?;
    let headers = response.headers_mut();
    headers.set("retry-after-ms", &retry_after_ms.to_string())?;
    headers.set("retry-after", &retry_after_ms.div_ceil(1000).to_string())?;
    headers.set("x-should-retry", "true")?;
    headers.set("x-airlock-paced", "refused")?;
    Ok(response)
}

/// The six `x-ratelimit-*` headers of a success, read one by one (no copy of every header).
pub fn observe_success(ticket: Option<&Ticket>, headers: &web_sys::Headers) {
    let Some(ticket) = ticket else { return };
    let found: Vec<(&str, String)> = airlock_rules::ratelimit::HEADER_NAMES
        .iter()
        .filter_map(|n| headers.get(n).ok().flatten().map(|v| (*n, v)))
        .collect();
    let decoded = airlock_rules::ratelimit::decode_headers(found);
    report(ticket, Observation::from_answer(decoded.as_ref(), None));
}

/// An error answer: its headers and, for a rate limit, which limit the body names.
pub fn observe_error(ticket: Option<&Ticket>, d: &Diagnosis, headers: &[(&str, &str)]) {
    let Some(ticket) = ticket else { return };
    let decoded = match &d.rate_limit_headers {
        Some(h) => Some(h.clone()),
        None => airlock_rules::ratelimit::decode_headers(headers.iter().copied()),
    };
    let hit = d
        .rate_limit
        .as_ref()
        .filter(|_| d.category == Category::RateLimit);
    report(ticket, Observation::from_answer(decoded.as_ref(), hit));
}

/// Whether this answer is worth a pacer call: always for a request the pacer admitted itself (its
/// in-flight entry must clear), a 429, a family with less than a quarter left, or the last answer
/// to a lease's requests (`closes`: the pacer stops counting the lease); otherwise once per
/// [`REPORT_EVERY_MS`] per lane and isolate.
fn worth_reporting(ticket: &Ticket, observation: &Observation, closes: bool, now: f64) -> bool {
    let low = [observation.requests, observation.tokens]
        .iter()
        .flatten()
        .any(|r| r.remaining.saturating_mul(4) < r.limit);
    let must = ticket.ticket != 0 || observation.hit.is_some() || low || closes;
    PENDING.with_borrow_mut(|p| {
        let last = p
            .reported
            .iter()
            .find(|(lane, _)| *lane == ticket.lane)
            .map(|(_, at)| *at);
        if !must && last.is_some_and(|at| now - at < REPORT_EVERY_MS) {
            return false;
        }
        p.reported.retain(|(lane, _)| *lane != ticket.lane);
        if p.reported.len() >= MAX_LEASED_LANES {
            p.reported.remove(0);
        }
        p.reported.push((ticket.lane.clone(), now));
        true
    })
}

/// Notes an answer to a request sent on a lease; true when it was the last of that lease's.
fn lease_answer(ticket: &Ticket, observation: &Observation) -> bool {
    if ticket.lease == 0 {
        return false;
    }
    PENDING.with_borrow_mut(|p| {
        let Some(a) = p
            .lease_answers
            .iter_mut()
            .find(|a| a.pending.lease == ticket.lease && a.lane == ticket.lane)
        else {
            return false;
        };
        a.pending.add(ticket.cost, observation);
        a.seen = a.seen.saturating_add(1);
        a.seen >= a.granted
    })
}

/// Queues the report for `waitUntil` ([`finish`]).
fn report(ticket: &Ticket, mut observation: Observation) {
    let now = js_sys::Date::now();
    observation.answered_at = now as u64;
    observation.sent_at = ticket.sent_at as u64;
    let Some((namespace, isolate)) =
        PENDING.with_borrow(|p| Some((p.namespace.clone()?, p.isolate)))
    else {
        return;
    };
    observation.isolate = isolate;
    let closes = lease_answer(ticket, &observation);
    if !worth_reporting(ticket, &observation, closes, now) {
        return;
    }
    let lane = ticket.lane.clone();
    let call = object::Call {
        ticket: ticket.ticket,
        observation: Some(observation),
        isolate,
        lease_answers: take_lease_answers(&lane),
        ..object::Call::default()
    };
    let future = async move {
        if let Err(e) = send(&namespace, &lane, "/observe", &call).await {
            worker::console_error!("airlock: pacer report lost: {e}");
        }
    };
    note(&ticket.request_id, 0, Some(Box::pin(future)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn off_unless_on() {
        assert_eq!(settings(get(&[])), None);
        assert_eq!(settings(get(&[("PACING", "off")])), None);
        assert_eq!(settings(get(&[("PACING", "yes")])), None);
        assert_eq!(
            settings(get(&[("PACING", " ON ")])),
            Some(PaceSettings::default())
        );
        let s = settings(get(&[
            ("PACING", "on"),
            ("PACE_MAX_WAIT_MS", "5000"),
            ("PACE_MAX_QUEUE", "7"),
            ("PACE_RESERVE_PERCENT", "250"),
        ]))
        .unwrap();
        assert_eq!(
            (s.max_wait_ms, s.max_queue, s.reserve_percent),
            (5000, 7, 100)
        );
    }
}
