//! The pacer's books against a simulated OpenAI limiter, over many random interleavings.
//!
//! The unit tests in `pace.rs` step a `Lane` by hand; these run it the way the worker and its
//! Durable Object do (`crates/airlock-worker/src/pacer/`): an isolate that spends its lease on
//! its own and asks the pacer otherwise, requests counted by the upstream a few milliseconds after
//! they go, answers reported back in whatever order they arrive. The upstream is the e2e
//! limiter's model (`tests/e2e/limiter.mjs`: a bucket per family refilling continuously, its
//! `remaining` header the level rounded down). Two properties, each over many seeds:
//! - safety: the pacer never sends a request the upstream has no room for (no upstream 429);
//! - no needless waiting: with capacity well above a burst, every interactive request goes at
//!   once (the e2e test "background requests use only the capacity above the reserve;
//!   interactive ones never wait for them", whose flake this reproduced: 111 of 400
//!   interleavings before the fix in `Lane::observe`).
//!
//! To see one interleaving event by event: `PACE_SIM_TRACE=1 SEED=n cargo test -p airlock-rules
//! --test pace_sim -- --nocapture` (the overload test, one seed; `trace_one` for the reserve
//! scenario), and `AT=ms` prints the whole lane after the events at that millisecond.

extern crate alloc;

use alloc::collections::BinaryHeap;
use core::cmp::Reverse;

use airlock_rules::pace::{
    Cost, Decision, Lane, Lease, LeaseAnswers, Observation, PaceSettings, Priority, Reading,
};

const COST: Cost = Cost {
    requests: 1,
    tokens: 100,
};

/// A small deterministic generator (xorshift64*), so a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) % n.max(1)
    }
}

/// The e2e limiter: one bucket per family, refilled per millisecond, `remaining` rounded down.
struct Upstream {
    limits: [f64; 2],
    levels: [f64; 2],
    at: u64,
    refused: usize,
}

impl Upstream {
    fn new(rpm: u64, tpm: u64, requests_left: u64) -> Self {
        Upstream {
            limits: [rpm as f64, tpm as f64],
            levels: [requests_left as f64, tpm as f64],
            at: 0,
            refused: 0,
        }
    }

    /// Counts a request arriving at `now`; the observation its answer carries (or a 429's none).
    fn count(&mut self, now: u64, cost: Cost) -> Option<[Reading; 2]> {
        for (level, limit) in self.levels.iter_mut().zip(self.limits) {
            *level = (*level + (now - self.at) as f64 * limit / 60_000.0).min(limit);
        }
        self.at = now;
        let costs = [cost.requests as f64, cost.tokens as f64];
        if self.levels.iter().zip(costs).any(|(l, c)| *l < c) {
            self.refused += 1;
            return None;
        }
        let mut out = [Reading {
            limit: 0,
            remaining: 0,
            reset_ms: None,
        }; 2];
        for i in 0..2 {
            self.levels[i] -= costs[i];
            out[i] = Reading {
                limit: self.limits[i] as u64,
                remaining: self.levels[i].max(0.0).floor() as u64,
                reset_ms: Some(
                    ((self.limits[i] - self.levels[i]) * 60_000.0 / self.limits[i]).ceil() as u64,
                ),
            };
        }
        Some(out)
    }
}

#[derive(Debug)]
enum Event {
    /// The request reaches the worker.
    Arrive(usize),
    /// Its call reaches the pacer (`/admit`, or `/claim` with a ticket).
    Ask(usize, u64),
    /// The pacer's answer reaches the isolate.
    Reply(usize, Decision, Option<Lease>, u64),
    /// The request reaches the upstream.
    Upstream(usize),
    /// Its answer reaches the worker (`0`), then its report reaches the pacer (the answer's
    /// time), with what this isolate's lease spending has been answered since its last call.
    Observe(usize, Option<[Reading; 2]>, u64, Vec<LeaseAnswers>),
}

#[derive(Default, Clone)]
struct Request {
    background: bool,
    arrived: u64,
    sent_at: u64,
    /// The first thing the pacer (or the lease) said: true for "go at once".
    straight: Option<bool>,
    ticket: u64,
    /// The lease it was sent on (its ticket), when it was.
    lease: u64,
    refused: bool,
}

struct Sim {
    rng: Rng,
    now: u64,
    seq: u64,
    events: BinaryHeap<Reverse<(u64, u64, usize)>>,
    payloads: Vec<Option<Event>>,
    lane: Lane,
    settings: PaceSettings,
    upstream: Upstream,
    requests: Vec<Request>,
    /// The isolate's lease: what is left, its ticket, and until when it may be spent.
    lease: Option<(Lease, u64)>,
    /// Requests sent on a lease and answered, not yet told to the pacer (as `pacer/mod.rs`).
    answered: Vec<LeaseAnswers>,
    /// Per lease: its ticket, the requests it granted, and how many of them were answered.
    lease_sizes: Vec<(u64, u64, u64)>,
    /// When the isolate last reported an answer (`REPORT_EVERY_MS` applies).
    last_report: Option<u64>,
}

/// `pacer::REPORT_EVERY_MS` in the worker.
const REPORT_EVERY_MS: u64 = 250;

const ISOLATE: u64 = 7;

impl Sim {
    fn at(&mut self, delay: u64, event: Event) {
        self.seq += 1;
        self.payloads.push(Some(event));
        let id = self.payloads.len() - 1;
        self.events.push(Reverse((self.now + delay, self.seq, id)));
    }

    /// A network or scheduling delay, 0..=`max` ms.
    fn jitter(&mut self, max: u64) -> u64 {
        self.rng.below(max + 1)
    }

    fn run(&mut self) {
        while let Some(Reverse((t, _, id))) = self.events.pop() {
            self.now = t;
            let event = self.payloads[id].take().expect("each event runs once");
            self.step(event);
        }
    }

    fn send(&mut self, i: usize) {
        self.requests[i].sent_at = self.now;
        let d = 1 + self.jitter(3);
        self.at(d, Event::Upstream(i));
    }

    fn step(&mut self, event: Event) {
        let trace = std::env::var("PACE_SIM_TRACE").is_ok();
        let label = if trace {
            format!("{event:?}")
        } else {
            String::new()
        };
        self.step_inner(event);
        if trace && std::env::var("AT").is_ok_and(|a| a == self.now.to_string()) {
            eprintln!("LANE {:?}", self.lane);
        }
        if trace {
            eprintln!(
                "{:>6} {:<60} level {:?} in_flight {} queued {} lease {:?}",
                self.now,
                label,
                self.lane.requests.map(|w| w.level as f64 / 1e6),
                self.lane.in_flight(),
                self.lane.queued(),
                self.lease.map(|(l, u)| (l.requests, u))
            );
        }
    }

    fn step_inner(&mut self, event: Event) {
        match event {
            Event::Arrive(i) => {
                self.requests[i].arrived = self.now;
                if !self.requests[i].background {
                    if let Some((lease, until)) = self.lease.as_mut() {
                        if *until > self.now && lease.spend(COST) {
                            self.requests[i].lease = lease.ticket;
                            self.requests[i].straight = Some(true);
                            self.send(i);
                            return;
                        }
                    }
                }
                let d = self.jitter(2);
                self.at(d, Event::Ask(i, 0));
            }
            Event::Ask(i, ticket) => {
                let r = &self.requests[i];
                let priority = if r.background {
                    Priority::Background
                } else {
                    Priority::Interactive
                };
                let waited = self.now - r.arrived;
                for answers in core::mem::take(&mut self.answered) {
                    self.lane.lease_answered(&answers, ISOLATE, self.now);
                }
                let decision = if ticket != 0 {
                    self.lane.claim(ticket, self.now).unwrap_or_else(|| {
                        self.lane
                            .admit(COST, priority, waited, self.now, &self.settings)
                    })
                } else {
                    self.lane
                        .admit(COST, priority, waited, self.now, &self.settings)
                };
                let done = self.lease.map_or(0, |(l, _)| l.ticket);
                let lease = match (decision, priority) {
                    (Decision::Go { .. }, Priority::Interactive) => {
                        self.lane.lease(COST, self.now, ISOLATE, done)
                    }
                    _ => None,
                };
                let asked_at = self.now;
                let d = self.jitter(2);
                self.at(d, Event::Reply(i, decision, lease, asked_at));
            }
            Event::Reply(i, decision, lease, asked_at) => {
                if let Some(lease) = lease {
                    self.lease_sizes.push((lease.ticket, lease.requests, 0));
                    // As `keep_lease`: spent only until 9/10 of its lifetime from the ask.
                    let until = asked_at + lease.ttl_ms - lease.ttl_ms / 10;
                    self.lease = Some((lease, until));
                }
                let first = self.requests[i].straight.is_none();
                match decision {
                    Decision::Go { ticket } => {
                        if first {
                            self.requests[i].straight = Some(true);
                        }
                        self.requests[i].ticket = ticket;
                        self.send(i);
                    }
                    Decision::Wait { ticket, wait_ms } => {
                        self.requests[i].straight = Some(false);
                        self.at(wait_ms, Event::Ask(i, ticket));
                    }
                    Decision::Later { wait_ms } => {
                        self.requests[i].straight = Some(false);
                        self.at(wait_ms.max(1), Event::Ask(i, 0));
                    }
                    Decision::Refuse { .. } => {
                        self.requests[i].straight = Some(false);
                        self.requests[i].refused = true;
                    }
                }
            }
            Event::Upstream(i) => {
                let readings = self.upstream.count(self.now, COST);
                // The answer comes back after the limiter's latency (5 ms) and the network's;
                // its report reaches the pacer a little later still.
                let back = 5 + self.jitter(3) + self.jitter(3);
                self.at(back, Event::Observe(i, readings, 0, Vec::new()));
            }
            Event::Observe(i, readings, delivered, leases_answered) => {
                if delivered == 0 {
                    // The answer reached the worker now; reported as `worth_reporting` says,
                    // the report reaching the pacer after a delay.
                    let answered_at = self.now;
                    let obs = Observation {
                        requests: readings.map(|r| r[0]),
                        tokens: readings.map(|r| r[1]),
                        answered_at,
                        ..Observation::default()
                    };
                    // All of a lease's requests answered: report, so the pacer closes it.
                    let mut closes = false;
                    let lease = self.requests[i].lease;
                    if lease != 0 {
                        match self.answered.iter_mut().find(|a| a.lease == lease) {
                            Some(a) => a.add(COST, &obs),
                            None => {
                                let mut a = LeaseAnswers {
                                    lease,
                                    ..LeaseAnswers::default()
                                };
                                a.add(COST, &obs);
                                self.answered.push(a);
                            }
                        }
                        if let Some(size) = self.lease_sizes.iter_mut().find(|s| s.0 == lease) {
                            size.2 += 1;
                            closes = size.2 == size.1;
                        }
                    }
                    let low = readings
                        .is_none_or(|r| r.iter().any(|r| r.remaining.saturating_mul(4) < r.limit));
                    let must = self.requests[i].ticket != 0 || low || closes;
                    if !must
                        && self
                            .last_report
                            .is_some_and(|at| self.now - at < REPORT_EVERY_MS)
                    {
                        return;
                    }
                    self.last_report = Some(self.now);
                    let answered = core::mem::take(&mut self.answered);
                    let d = 1 + self.jitter(4);
                    self.at(d, Event::Observe(i, readings, answered_at, answered));
                    return;
                }
                for answers in leases_answered {
                    self.lane.lease_answered(&answers, ISOLATE, self.now);
                }
                let obs = Observation {
                    requests: readings.map(|r| r[0]),
                    tokens: readings.map(|r| r[1]),
                    hit: None,
                    answered_at: delivered,
                    sent_at: self.requests[i].sent_at,
                    isolate: ISOLATE,
                };
                let ticket = self.requests[i].ticket;
                self.lane.observe(ticket, &obs, self.now);
            }
        }
    }
}

/// A simulation whose lane has learned from one warm-up request: `rpm` with `requests_left`
/// (before it), the tokens family ample; `max_wait_ms`, `reserve_percent` as the settings say.
fn warmed(seed: u64, rpm: u64, requests_left: u64, max_wait_ms: u64, reserve_percent: u64) -> Sim {
    let settings = PaceSettings {
        max_wait_ms,
        max_queue: 1_000,
        reserve_percent,
    };
    let mut s = sim(seed, rpm, requests_left, settings);
    burst(&mut s, 1, false, 0);
    s.run();
    s
}

fn sim(seed: u64, rpm: u64, requests_left: u64, settings: PaceSettings) -> Sim {
    Sim {
        rng: Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
        now: 0,
        seq: 0,
        events: BinaryHeap::new(),
        payloads: Vec::new(),
        lane: Lane::default(),
        settings,
        upstream: Upstream::new(rpm, 1_000_000, requests_left),
        requests: Vec::new(),
        lease: None,
        answered: Vec::new(),
        lease_sizes: Vec::new(),
        last_report: None,
    }
}

/// Adds `n` requests arriving one after another, 0..=`spread` ms apart, from now.
fn burst(s: &mut Sim, n: usize, background: bool, spread: u64) -> core::ops::Range<usize> {
    let start = s.requests.len();
    let mut t = 0;
    for i in start..start + n {
        s.requests.push(Request {
            background,
            ..Request::default()
        });
        t += s.jitter(spread);
        s.at(t, Event::Arrive(i));
    }
    start..start + n
}

/// The e2e test's scenario: 60 RPM with 40 left, reserve 50 %, waits up to 1 s; a warm-up
/// request, 12 background ones together, then (once they are all answered or refused) 20
/// interactive ones. 9 background requests fit above the reserve, about 31 remain for the
/// interactive burst: none of the 20 may wait.
fn reserve_scenario(seed: u64) -> Result<(), String> {
    let mut s = warmed(seed, 60, 40, 1_000, 50);
    let background = burst(&mut s, 12, true, 2);
    s.run();
    let straight_bg = background
        .clone()
        .filter(|&i| s.requests[i].straight == Some(true))
        .count();
    let spread = 1 + s.rng.below(4);
    let interactive = burst(&mut s, 20, false, spread);
    s.run();
    let waited: Vec<usize> = interactive
        .clone()
        .filter(|&i| s.requests[i].straight != Some(true))
        .map(|i| i - interactive.start)
        .collect();
    if s.upstream.refused > 0 {
        return Err(format!("seed {seed}: {} upstream 429s", s.upstream.refused));
    }
    if !(1..=9).contains(&straight_bg) {
        return Err(format!("seed {seed}: {straight_bg} background straight"));
    }
    if !waited.is_empty() {
        return Err(format!(
            "seed {seed}: interactive requests {waited:?} of 20 did not go at once (spread {spread} ms)"
        ));
    }
    Ok(())
}

#[test]
fn interactive_requests_never_wait_while_the_reserve_holds_room_for_them() {
    let failures: Vec<String> = (1..=400)
        .filter_map(|seed| reserve_scenario(seed).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of 400 interleavings failed; first: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
}

/// Overload: many more requests than the limit allows, in bursts, interactive and background
/// mixed. Whatever the interleaving, the upstream never refuses one the pacer let through; and
/// in an interactive burst the pacer had to refuse some of, it let through about all the upstream
/// had room for (what was free when the burst began and what refilled until its last request
/// went), less a small slack (a lease's unspent share, an answer not yet reported).
#[test]
fn under_overload_the_pacer_never_sends_what_the_upstream_refuses_and_wastes_little() {
    const SLACK: f64 = 3.0;
    let mut refusing_rounds = 0;
    let mut wasteful = Vec::new();
    let (mut room_total, mut waste_total, mut waste_max) = (0.0, 0.0, 0.0);
    let seeds = std::env::var("SEED").map_or(1..=200, |s| {
        let seed = s.parse().expect("SEED is a number");
        seed..=seed
    });
    let all = seeds.clone().count() > 1;
    for seed in seeds {
        let mut s = warmed(seed, 30, 30, 5_000, 20);
        for round in 0..4 {
            let background = round % 2 == 1;
            let began = s.now;
            let free = {
                let u = &s.upstream;
                (u.levels[0] + (began - u.at) as f64 * u.limits[0] / 60_000.0).min(u.limits[0])
            };
            let n = 10 + s.rng.below(30) as usize;
            let spread = s.rng.below(5);
            let round_requests = burst(&mut s, n, background, spread);
            s.run();
            let requests = &s.requests[round_requests];
            let went = requests.iter().filter(|r| !r.refused).count() as f64;
            let last = requests.iter().map(|r| r.sent_at).max().unwrap_or(began);
            let refilled = (last.saturating_sub(began)) as f64 * 30.0 / 60_000.0;
            if !background && requests.iter().any(|r| r.refused) {
                refusing_rounds += 1;
                room_total += (free + refilled).floor();
                let waste = ((free + refilled).floor() - went).max(0.0);
                waste_total += waste;
                waste_max = f64::max(waste_max, waste);
                if went < (free + refilled).floor() - SLACK {
                    wasteful.push(format!(
                        "seed {seed} round {round}: {went} went of {n}; the upstream had room for {:.1}",
                        free + refilled
                    ));
                }
            }
            s.now += s.rng.below(1_500);
        }
        assert_eq!(
            s.upstream.refused, 0,
            "seed {seed}: the upstream refused a paced request"
        );
    }
    eprintln!(
        "waste {waste_total} of room {room_total} in {refusing_rounds} refusing rounds, at most \
         {waste_max} in one; {} over {SLACK}",
        wasteful.len()
    );
    // Before answers were told apart by their `remaining` and leases were settled as their
    // requests were answered, 87 of 301 such rounds wasted more than the slack, one 14 of 31.
    // What is left: a lease that expires before all its requests were reported stays
    // subtracted until the next answer, and requests still in flight are subtracted even when
    // the upstream had counted them already.
    assert!(
        waste_max <= 2.0 * SLACK && wasteful.len() * 20 <= refusing_rounds,
        "{} of {refusing_rounds} refusing rounds wasted more than {SLACK}, at most {waste_max}; \
         first: {:?}",
        wasteful.len(),
        &wasteful[..wasteful.len().min(4)]
    );
    assert!(
        !all || refusing_rounds > 100,
        "the scenario overloads the pacer: {refusing_rounds} rounds"
    );
}

/// The reserve scenario for one seed (`SEED`, default 2), traced with `PACE_SIM_TRACE=1`.
#[test]
#[ignore]
fn trace_one() {
    let seed = std::env::var("SEED").map_or(2, |s| s.parse().unwrap());
    eprintln!("{:?}", reserve_scenario(seed));
}
