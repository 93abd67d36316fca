//! The `Pacer` Durable Object: one per lane (`pace::lane_key`), holding the lane's learned limits
//! and queue. All the arithmetic is the rules crate's `pace::Lane`; here are only the protocol
//! (JSON over the stub's `fetch`) and the SQLite row that keeps what was learned across restarts.
//!
//! Protocol (`POST`, JSON bodies; only the worker's own stubs reach it):
//! - `/admit` `{cost, priority, waited_ms, settings}` → a `pace::Decision`;
//! - `/claim` the same plus `ticket`: `go` when the reserved slot is known, otherwise the request
//!   is admitted afresh (the pacer restarted, or the slot lapsed);
//! - `/observe` `{ticket, observation}` → 204: what an upstream answer taught.
//!
//! Any call may also carry `lease_answers`: requests the isolate sent on its leases that have
//! been answered since its last call, so the lane stops counting them as leased.

use core::cell::{Cell, RefCell};

use airlock_rules::pace::{
    Cost, Decision, Lane, Lease, LeaseAnswers, Observation, PaceSettings, Priority,
};
use serde::{Deserialize, Serialize};
use worker::{DurableObject, Env, Request, Response, Result, State, durable_object};

/// A request to the pacer.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Call {
    /// The request's cost.
    #[serde(default)]
    pub cost: Cost,
    /// Its priority.
    #[serde(default)]
    pub priority: Priority,
    /// How long it already waited (ms).
    #[serde(default)]
    pub waited_ms: u64,
    /// The caller's bounds.
    #[serde(default)]
    pub settings: Option<PaceSettings>,
    /// A reserved slot (`/claim`) or an admitted request (`/observe`).
    #[serde(default)]
    pub ticket: u64,
    /// What an answer taught (`/observe`).
    #[serde(default)]
    pub observation: Option<Observation>,
    /// The calling isolate (random; 0 when unknown): one lease out per isolate at a time.
    #[serde(default)]
    pub isolate: u64,
    /// The lease (its ticket) the calling isolate is done with: spent, expired, or too small.
    #[serde(default)]
    pub lease_done: u64,
    /// Answers to requests the calling isolate sent on its leases since its last call
    /// (`pace::Lane::lease_answered`); any call may carry them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lease_answers: Vec<LeaseAnswers>,
}

/// The pacer's answer: the decision, and with an interactive `go` maybe a lease for the caller's
/// isolate.
#[derive(Debug, Serialize, Deserialize)]
pub struct Answer {
    /// The decision.
    #[serde(flatten)]
    pub decision: Decision,
    /// Capacity the isolate may spend on its own (`pace::Lane::lease`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<Lease>,
}

/// One lane's pacer.
#[durable_object(fetch)]
pub struct Pacer {
    state: State,
    lane: RefCell<Option<Lane>>,
    /// When the lane was last written to storage (ms).
    saved_at: Cell<u64>,
}

/// The learned windows are written at most this often (and at once when first learned, or on a
/// 429): a SQLite write per report was the pacer's main cost under load, and a restart loses at
/// most this much learning, which the next answer's headers give back.
pub const SAVE_EVERY_MS: u64 = 1_000;

/// Most lease answers one call is heeded for (an isolate sends one per lease it spent lately).
pub const MAX_LEASE_ANSWERS: usize = 64;

impl core::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Pacer")
    }
}

impl DurableObject for Pacer {
    fn new(state: State, _env: Env) -> Self {
        Pacer {
            state,
            lane: RefCell::new(None),
            saved_at: Cell::new(0),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let path = req.path();
        let call: Call = match req.json().await {
            Ok(call) => call,
            Err(_) => return Response::error("bad pacer call", 400),
        };
        let now = js_sys::Date::now() as u64;
        let settings = call.settings.unwrap_or_default();
        let mut slot = self.lane.borrow_mut();
        let lane = slot.get_or_insert_with(|| self.load(now));
        for answers in call.lease_answers.iter().take(MAX_LEASE_ANSWERS) {
            lane.lease_answered(answers, call.isolate, now);
        }
        let (decision, changed) = match path.as_str() {
            "/admit" => {
                let d = lane.admit(call.cost, call.priority, call.waited_ms, now, &settings);
                (Some(d), false)
            }
            "/claim" => {
                let claimed = lane.claim(call.ticket, now).unwrap_or_else(|| {
                    lane.admit(call.cost, call.priority, call.waited_ms, now, &settings)
                });
                (Some(claimed), false)
            }
            "/observe" => {
                let unlearned = lane.requests.is_none() && lane.tokens.is_none();
                let mut urgent = false;
                if let Some(obs) = &call.observation {
                    lane.observe(call.ticket, obs, now);
                    urgent = obs.hit.is_some()
                        || (unlearned && (lane.requests.is_some() || lane.tokens.is_some()));
                }
                let due = now.saturating_sub(self.saved_at.get()) >= SAVE_EVERY_MS;
                (None, call.observation.is_some() && (urgent || due))
            }
            _ => return Response::error("unknown pacer call", 404),
        };
        let answer = decision.map(|decision| {
            let lease = match (decision, call.priority) {
                (Decision::Go { .. }, Priority::Interactive) => {
                    lane.lease(call.cost, now, call.isolate, call.lease_done)
                }
                _ => None,
            };
            Answer { decision, lease }
        });
        if changed {
            self.save(lane);
            self.saved_at.set(now);
        }
        drop(slot);
        match answer {
            Some(a) => Response::from_json(&a),
            None => Ok(Response::empty()?.with_status(204)),
        }
    }
}

#[derive(Deserialize)]
struct Row {
    state: String,
}

impl Pacer {
    /// What was learned before this instance started (empty for a new lane, or storage lost).
    fn load(&self, now: u64) -> Lane {
        let mut lane = self.read();
        if lane.requests.is_some() || lane.tokens.is_some() {
            // Says a restart kept what was learned (no key, no lane name: only the limits).
            let line = airlock_rules::log_line::PacerRestored {
                pacer: "restored from storage",
                requests: lane.requests.map(Into::into),
                tokens: lane.tokens.map(Into::into),
            };
            if let Ok(text) = serde_json::to_string(&line) {
                worker::console_log!("{text}");
            }
        }
        // Tickets from before a restart must never match a new reservation.
        lane.next_ticket = lane.next_ticket.max(now.saturating_mul(1_000));
        lane
    }

    fn read(&self) -> Lane {
        let sql = self.state.storage().sql();
        let read = sql
            .exec(
                "CREATE TABLE IF NOT EXISTS lane (id INTEGER PRIMARY KEY, state TEXT NOT NULL)",
                None,
            )
            .and_then(|_| sql.exec("SELECT state FROM lane WHERE id = 1", None))
            .and_then(|cursor| cursor.to_array::<Row>());
        match read {
            Ok(rows) => rows
                .first()
                .and_then(|row| serde_json::from_str(&row.state).ok())
                .unwrap_or_default(),
            Err(e) => {
                worker::console_error!("airlock pacer: cannot read its storage: {e}");
                Lane::default()
            }
        }
    }

    /// Keeps what was learned (the windows; the queue lives in memory only: the levels count it).
    fn save(&self, lane: &Lane) {
        let Ok(text) = serde_json::to_string(lane) else {
            return;
        };
        let sql = self.state.storage().sql();
        if let Err(e) = sql.exec(
            "INSERT OR REPLACE INTO lane (id, state) VALUES (1, ?)",
            vec![text.into()],
        ) {
            worker::console_error!("airlock pacer: cannot write its storage: {e}");
        }
    }
}
