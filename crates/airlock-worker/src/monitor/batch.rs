//! What an isolate sends the Monitor: per-minute counts, summed in the isolate between two
//! flushes. Pure, tested on the host.

use alloc::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The dimensions counted, besides the total. `stream`: how each watched stream ended
/// (`stream.rs`); `simulated`: simulate mode's answers, by category, counted only there (never in
/// `category`, so they never fire an alert). `status` is what the client got; the same status
/// is counted again under `upstream_status` when the upstream's answer was relayed, or
/// `airlock_status` when Airlock answered itself (a rejection, a refusal, its own error).
pub const DIMS: [&str; 9] = [
    "category",
    "rule",
    "model",
    "status",
    "cat_model",
    "stream",
    "simulated",
    "upstream_status",
    "airlock_status",
];

/// A key (a model name, a rule name) is cut to this many characters: the model is what a
/// stranger wrote (already masked by the log line).
pub const MAX_KEY_CHARS: usize = 64;

/// An isolate holds at most this many distinct (minute, dimension, key) counts between two
/// flushes; a request that would add more is counted under `(other)` keys only.
pub const MAX_PENDING_KEYS: usize = 1024;

/// The key counted when a request had no category: it succeeded.
pub const OK: &str = "ok";

/// One request, as counted.
#[derive(Clone, Debug, Default)]
pub struct Event<'a> {
    /// Minutes since the Unix epoch.
    pub minute: u64,
    /// The error category, `None` for a success.
    pub category: Option<&'a str>,
    /// The rule that rejected it.
    pub rule: Option<&'a str>,
    /// The model named in the body.
    pub model: Option<&'a str>,
    /// The status the client got.
    pub status: u16,
    /// Airlock's request ID.
    pub request_id: &'a str,
    /// The upstream's request ID.
    pub upstream_request_id: Option<&'a str>,
    /// A simulate-mode answer (`x-airlock-simulate`), not the upstream's.
    pub simulated: bool,
    /// The upstream's answer was relayed (else Airlock answered itself).
    pub upstream_answered: bool,
}

/// One watched stream's end (`stream.rs`).
#[derive(Clone, Debug)]
pub struct StreamEvent<'a> {
    /// The minute it ended.
    pub minute: u64,
    /// The minute its response was counted (as `ok`).
    pub request_minute: u64,
    /// How it is counted.
    pub outcome: super::stream::Outcome,
    /// The model named in the body.
    pub model: Option<&'a str>,
    /// Airlock's request ID.
    pub request_id: &'a str,
    /// The upstream's request ID.
    pub upstream_request_id: Option<&'a str>,
}

/// Counts on their way to the Monitor.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// (minute, dimension, key, count). A negative count takes back what an earlier one
    /// counted: a stream that failed after its 200 leaves `ok` for its failure's category.
    pub counts: Vec<(u64, String, String, i64)>,
    /// Per category, the latest request: (category, Airlock request ID, upstream request ID).
    pub examples: Vec<(String, String, Option<String>)>,
}

/// Counts summed in an isolate.
#[derive(Debug, Default)]
pub struct Pending {
    counts: BTreeMap<(u64, &'static str, String), i64>,
    examples: BTreeMap<String, (String, Option<String>)>,
}

fn cut(text: &str) -> String {
    text.chars().take(MAX_KEY_CHARS).collect()
}

impl Pending {
    /// Adds one request.
    pub fn add(&mut self, e: &Event<'_>) {
        let category = e.category.unwrap_or(OK);
        if e.simulated {
            self.bump(e.minute, "simulated", cut(category), 1);
            return;
        }
        let model = e.model.map_or_else(|| "(none)".to_owned(), cut);
        let mut keys: Vec<(&'static str, String)> = vec![
            ("category", cut(category)),
            ("model", model.clone()),
            ("status", e.status.to_string()),
            (
                if e.upstream_answered {
                    "upstream_status"
                } else {
                    "airlock_status"
                },
                e.status.to_string(),
            ),
        ];
        if let Some(rule) = e.rule {
            keys.push(("rule", cut(rule)));
        }
        if e.category.is_some() {
            keys.push(("cat_model", format!("{}\t{model}", cut(category))));
            self.example(category, e.request_id, e.upstream_request_id);
        }
        for (dim, key) in keys {
            self.bump(e.minute, dim, key, 1);
        }
    }

    /// Adds one watched stream's end: its outcome, and for a failure, the move from `ok` (in the
    /// minute its response was counted) to its failure's category (in the minute it ended).
    pub fn add_stream(&mut self, e: &StreamEvent<'_>) {
        self.bump(e.minute, "stream", e.outcome.key.to_owned(), 1);
        let Some(failure) = e.outcome.failure else {
            return;
        };
        let category = failure.as_str();
        let model = e.model.map_or_else(|| "(none)".to_owned(), cut);
        self.bump(e.request_minute, "category", OK.to_owned(), -1);
        self.bump(e.minute, "category", category.to_owned(), 1);
        self.bump(e.minute, "cat_model", format!("{category}\t{model}"), 1);
        self.example(category, e.request_id, e.upstream_request_id);
    }

    fn example(&mut self, category: &str, request_id: &str, upstream: Option<&str>) {
        if self.examples.len() < 32 || self.examples.contains_key(category) {
            self.examples
                .insert(cut(category), (cut(request_id), upstream.map(cut)));
        }
    }

    fn bump(&mut self, minute: u64, dim: &'static str, key: String, n: i64) {
        let mut k = (minute, dim, key);
        if !self.counts.contains_key(&k) && self.counts.len() >= MAX_PENDING_KEYS {
            k.2 = "(other)".to_owned();
        }
        *self.counts.entry(k).or_insert(0) += n;
    }

    /// Takes everything out as one batch.
    pub fn take(&mut self) -> Batch {
        let counts = core::mem::take(&mut self.counts);
        let examples = core::mem::take(&mut self.examples);
        Batch {
            counts: counts
                .into_iter()
                .filter(|(_, n)| *n != 0)
                .map(|((m, d, k), n)| (m, d.to_owned(), k, n))
                .collect(),
            examples: examples.into_iter().map(|(c, (r, u))| (c, r, u)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(category: Option<&'static str>, model: &'static str) -> Event<'static> {
        Event {
            minute: 7,
            category,
            rule: None,
            model: Some(model),
            status: if category.is_some() { 500 } else { 200 },
            request_id: "req_airlock_1",
            upstream_request_id: None,
            simulated: false,
            upstream_answered: true,
        }
    }

    #[test]
    fn sums_per_minute_and_key() {
        let mut p = Pending::default();
        p.add(&event(None, "gpt-4o"));
        p.add(&event(None, "gpt-4o"));
        p.add(&event(Some("server_error"), "gpt-4o"));
        let b = p.take();
        assert_eq!(p.take(), Batch::default());
        let get = |d: &str, k: &str| {
            b.counts
                .iter()
                .find(|(m, dd, kk, _)| *m == 7 && dd == d && kk == k)
                .map(|c| c.3)
        };
        assert_eq!(get("category", "ok"), Some(2));
        assert_eq!(get("category", "server_error"), Some(1));
        assert_eq!(get("model", "gpt-4o"), Some(3));
        assert_eq!(get("status", "500"), Some(1));
        assert_eq!(get("upstream_status", "500"), Some(1));
        assert_eq!(get("airlock_status", "500"), None);
        assert_eq!(get("cat_model", "server_error\tgpt-4o"), Some(1));
        assert_eq!(b.examples.len(), 1);
    }

    #[test]
    fn stranger_keys_are_bounded() {
        let mut p = Pending::default();
        let long = "m".repeat(10_000);
        for i in 0..5000 {
            let model = format!("{i}{long}");
            p.add(&Event {
                model: Some(&model),
                ..event(None, "")
            });
        }
        let b = p.take();
        assert!(b.counts.len() <= MAX_PENDING_KEYS + 3, "{}", b.counts.len());
        assert!(
            b.counts
                .iter()
                .all(|c| c.2.chars().count() <= MAX_KEY_CHARS)
        );
        let total: i64 = b
            .counts
            .iter()
            .filter(|c| c.1 == "category")
            .map(|c| c.3)
            .sum();
        assert_eq!(total, 5000, "every request still counted");
    }

    fn get(b: &Batch, minute: u64, d: &str, k: &str) -> Option<i64> {
        b.counts
            .iter()
            .find(|(m, dd, kk, _)| *m == minute && dd == d && kk == k)
            .map(|c| c.3)
    }

    #[test]
    fn airlock_and_upstream_statuses_are_counted_apart() {
        let mut p = Pending::default();
        p.add(&Event {
            status: 400,
            rule: Some("unknown_parameter"),
            upstream_answered: false,
            ..event(Some("invalid_request"), "gpt-4o")
        });
        p.add(&Event {
            status: 400,
            ..event(Some("invalid_request"), "gpt-4o")
        });
        let b = p.take();
        assert_eq!(get(&b, 7, "status", "400"), Some(2));
        assert_eq!(get(&b, 7, "airlock_status", "400"), Some(1));
        assert_eq!(get(&b, 7, "upstream_status", "400"), Some(1));
    }

    #[test]
    fn simulated_answers_are_counted_apart() {
        let mut p = Pending::default();
        p.add(&Event {
            simulated: true,
            ..event(Some("rate_limit"), "gpt-4o")
        });
        p.add(&Event {
            simulated: true,
            status: 200,
            ..event(None, "gpt-4o")
        });
        let b = p.take();
        assert_eq!(get(&b, 7, "simulated", "rate_limit"), Some(1));
        assert_eq!(get(&b, 7, "simulated", "ok"), Some(1));
        assert_eq!(b.counts.len(), 2, "{b:?}");
        assert!(b.examples.is_empty());
    }

    #[test]
    fn a_failed_stream_moves_from_ok_to_its_category() {
        use super::super::stream::Outcome;
        let mut p = Pending::default();
        p.add(&event(None, "gpt-4o"));
        p.add(&event(None, "gpt-4o"));
        let failed = |minute| StreamEvent {
            minute,
            request_minute: 7,
            outcome: Outcome {
                key: "cut",
                failure: Some(airlock_rules::Category::StreamError),
            },
            model: Some("gpt-4o"),
            request_id: "req_airlock_2",
            upstream_request_id: None,
        };
        p.add_stream(&failed(7));
        p.add_stream(&StreamEvent {
            outcome: Outcome {
                key: "completed",
                failure: None,
            },
            ..failed(8)
        });
        let b = p.take();
        assert_eq!(get(&b, 7, "category", "ok"), Some(1));
        assert_eq!(get(&b, 7, "category", "stream_error"), Some(1));
        assert_eq!(get(&b, 7, "cat_model", "stream_error\tgpt-4o"), Some(1));
        assert_eq!(get(&b, 7, "stream", "cut"), Some(1));
        assert_eq!(get(&b, 8, "stream", "completed"), Some(1));
        assert_eq!(get(&b, 7, "model", "gpt-4o"), Some(2), "still two requests");
        // The take-back arrives alone when the 200 was flushed before: a negative count.
        p.add_stream(&failed(9));
        let b = p.take();
        assert_eq!(get(&b, 7, "category", "ok"), Some(-1));
        assert_eq!(get(&b, 9, "category", "stream_error"), Some(1));
        // Equal and opposite counts in one batch cancel out: no zero rows are sent.
        assert!(b.counts.iter().all(|c| c.3 != 0));
    }
}
