//! What an isolate sends the Monitor: per-minute counts, summed in the isolate between two
//! flushes. Pure, tested on the host.

use alloc::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The dimensions counted, besides the total.
pub const DIMS: [&str; 5] = ["category", "rule", "model", "status", "cat_model"];

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
}

/// Counts on their way to the Monitor.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// (minute, dimension, key, count).
    pub counts: Vec<(u64, String, String, u64)>,
    /// Per category, the latest request: (category, Airlock request ID, upstream request ID).
    pub examples: Vec<(String, String, Option<String>)>,
}

/// Counts summed in an isolate.
#[derive(Debug, Default)]
pub struct Pending {
    counts: BTreeMap<(u64, &'static str, String), u64>,
    examples: BTreeMap<String, (String, Option<String>)>,
}

fn cut(text: &str) -> String {
    text.chars().take(MAX_KEY_CHARS).collect()
}

impl Pending {
    /// Adds one request.
    pub fn add(&mut self, e: &Event<'_>) {
        let category = e.category.unwrap_or(OK);
        let model = e.model.map_or_else(|| "(none)".to_owned(), cut);
        let mut keys: Vec<(&'static str, String)> = vec![
            ("category", cut(category)),
            ("model", model.clone()),
            ("status", e.status.to_string()),
        ];
        if let Some(rule) = e.rule {
            keys.push(("rule", cut(rule)));
        }
        if e.category.is_some() {
            keys.push(("cat_model", format!("{}\t{model}", cut(category))));
            if self.examples.len() < 32 || self.examples.contains_key(category) {
                self.examples.insert(
                    cut(category),
                    (cut(e.request_id), e.upstream_request_id.map(cut)),
                );
            }
        }
        for (dim, key) in keys {
            let mut k = (e.minute, dim, key);
            if !self.counts.contains_key(&k) && self.counts.len() >= MAX_PENDING_KEYS {
                k.2 = "(other)".to_owned();
            }
            *self.counts.entry(k).or_insert(0) += 1;
        }
    }

    /// Takes everything out as one batch.
    pub fn take(&mut self) -> Batch {
        let counts = core::mem::take(&mut self.counts);
        let examples = core::mem::take(&mut self.examples);
        Batch {
            counts: counts
                .into_iter()
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
        let total: u64 = b
            .counts
            .iter()
            .filter(|c| c.1 == "category")
            .map(|c| c.3)
            .sum();
        assert_eq!(total, 5000, "every request still counted");
    }
}
